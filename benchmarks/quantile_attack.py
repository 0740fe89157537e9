"""The quantile and distillation attacks' modes and regressors beside RMIA on
the command's default target, or a larger one.

The ``wsmooth`` command's default setup: ``make_purchase_like(2500,
n_classes=10)``, 20% held out, the undefended network (the ``"none"``
defence: the tanh MLP 600-128, 12 epochs, batch 128, Adam at 1e-3)
trained on a random half of the pool (members; the other half are
non-members), for each seed. Rows, each with AUC, TPR at 1% and 0.1% FPR
(members against non-members), and the attack's seconds and CPU seconds
(``fit`` and ``evaluate``, shadow training included; on a shared machine the
CPU seconds compare costs more reliably):

- ``rmia``: online RMIA with ``--shadows`` shadow models fitted on the pool
  (the command's protocol);
- ``rmia-offline``: offline RMIA (``online=False``): each record compared
  with the shadow models that did not train on it only, what a model that
  did not train on the record can at best stand in for;
- ``distill``: the ``distill`` method at its defaults
  (:class:`~wsmooth.attacks.DistillationAttack`: over 4 folds, a network
  learns the target's log-probability vector from the features of the pool
  records outside each fold, and a record scores the target's logit-scaled
  confidence minus a least-squares line in the distilled copy's), fitted on
  the same pool (half of it the target's members, each pool record scored by
  a regressor that did not train on it);
- ``distill-2folds``: the same over 2 folds (one fit on the whole pool in
  all);
- ``distill-x3``: the mean of 3 distilled networks per fold
  (``n_networks=3``, three times the time);
- ``distill-6``: the distilled network trained 6 epochs instead of 12;
- ``distill-plain``: ``slope=1.0``, the plain difference of the scores;
- ``distill-plain-5folds``: ``slope=1.0, n_folds=5``, the former defaults;
- ``distill-hinge``: ``score="hinge"``;
- ``quantile``: the ``quantile`` method at its defaults, the paper's attack:
  the network with a hinge head fitted with the pinball loss at
  ``1 - alpha`` to the target's hinge scores, a record scoring ``s - q``;
- ``quantile-slope``: the same with ``slope="fit"``;
- ``quantile-gaussian``: ``mode="gaussian"``, the network predicting a mean
  and a standard deviation of the hinge score, scoring ``(s - mu) / sigma``;
- ``quantile-net-flat``: ``mode="quantile"`` with the network's scalar head,
  the label one-hot among its inputs (``label_columns=None``);
- ``quantile-hgb``: ``mode="quantile"`` with gradient boosted trees
  (``HistGradientBoostingRegressor(loss="quantile")``);
- ``distill-disjoint``, ``quantile-disjoint``: ``distill`` and ``quantile``
  fitted on the held-out records instead, a population with no target member
  (the paper's setting);
- ``hinge``: the target's hinge score itself, with no per-record calibration
  (what the quantile regression has to improve on; no fitting, 0 seconds).

Measured (seeds 0-2, mean±std; seconds and CPU seconds, one torch thread on a
machine shared with other work)::

    row                   AUC          TPR@1%       TPR@0.1%        s  CPU s
    rmia                  0.930±0.003  0.403±0.065  0.140±0.041   2.6  0.92±0.02
    rmia-offline          0.904±0.002  0.271±0.037  0.099±0.033   3.6  1.27±0.03
    distill               0.914±0.003  0.315±0.060  0.094±0.017   1.8  0.65±0.00
    distill-2folds        0.887±0.007  0.180±0.011  0.051±0.014   0.8  0.30±0.01
    distill-x3            0.932±0.001  0.377±0.034  0.145±0.049   5.1  1.77±0.05
    distill-6             0.895±0.006  0.239±0.080  0.058±0.022   1.2  0.40±0.00
    distill-plain         0.884±0.005  0.306±0.051  0.129±0.061   1.9  0.67±0.04
    distill-plain-5folds  0.888±0.008  0.341±0.018  0.153±0.084   2.6  0.86±0.02
    distill-hinge         0.873±0.003  0.215±0.011  0.068±0.021   2.0  0.65±0.01
    quantile              0.765±0.004  0.055±0.012  0.006±0.003   1.3  0.43±0.02
    quantile-slope        0.771±0.008  0.051±0.017  0.010±0.011   1.3  0.41±0.01
    quantile-gaussian     0.701±0.003  0.028±0.010  0.004±0.003   1.3  0.45±0.02
    quantile-net-flat     0.687±0.005  0.026±0.001  0.007±0.006   1.1  0.38±0.01
    quantile-hgb          0.689±0.005  0.030±0.009  0.005±0.002  11.5  4.03±0.19
    distill-disjoint      0.814±0.006  0.094±0.006  0.019±0.009   0.5  0.22±0.00
    quantile-disjoint     0.728±0.005  0.038±0.009  0.008±0.006   0.4  0.16±0.01
    hinge                 0.687±0.007  0.029±0.006  0.006±0.004

and on the larger target (``--classes 50 --n-samples 6000 --hidden 256 128
--epochs 20``), where a shadow model costs what it does in practice beside
the attack's regressor::

    row                   AUC          TPR@1%       TPR@0.1%        s  CPU s
    rmia                  0.966±0.002  0.492±0.032  0.275±0.048  13.2  4.45±0.23
    rmia-offline          0.961±0.003  0.340±0.039  0.078±0.034  18.8  5.39±0.76
    distill               0.965±0.003  0.505±0.053  0.243±0.015   6.9  1.97±0.46
    distill-2folds        0.957±0.002  0.418±0.043  0.155±0.020   3.1  0.86±0.20
    distill-x3            0.971±0.003  0.544±0.046  0.351±0.008  18.9  5.07±0.79
    distill-plain-5folds  0.955±0.003  0.504±0.056  0.257±0.025   7.7  2.30±0.24
    quantile              0.942±0.003  0.256±0.031  0.050±0.041   3.5  1.16±0.16
    hinge                 0.894±0.002  0.047±0.011  0.006±0.003

The ``distill`` method at its defaults is level with online RMIA on the
larger target in 0.44 of its CPU time, and 0.016 AUC and 0.09 TPR at 1% FPR
below it on the small one in 0.7 of its time (0.015 and 0.07 over six
seeds); the paper's pinball regression (``quantile``) is far behind on both.

Commands (from a checkout; a few minutes each on one busy CPU core)::

    OMP_NUM_THREADS=1 nice python benchmarks/quantile_attack.py
    OMP_NUM_THREADS=1 nice python benchmarks/quantile_attack.py \\
        --classes 50 --n-samples 6000 --hidden 256 128 --epochs 20 \\
        --attacks rmia rmia-offline distill distill-2folds distill-x3 \\
            distill-plain-5folds quantile hinge
    OMP_NUM_THREADS=1 nice python benchmarks/quantile_attack.py --seeds 6 \\
        --attacks rmia distill distill-plain-5folds distill-2folds

``--seeds``, ``--n-samples``, ``--classes``, ``--hidden`` (the target's
hidden layer widths), ``--epochs``, ``--shadows`` and ``--alpha`` change the
setup; ``--attacks`` runs only the rows named; ``--json PATH`` writes every
figure.
"""

import argparse
import json
import time
import warnings

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingRegressor

from wsmooth import nets
from wsmooth._signals import logit_margin_from_log_proba
from wsmooth.attacks import MembershipInferenceAttack, QuantileNetRegressor, pool_split
from wsmooth.datasets import make_purchase_like
from wsmooth.defences import get_defence
from wsmooth.experiments import hold_out_test
from wsmooth.metrics import membership_report

FIGURES = ("auc", "tpr@1%", "tpr@0.1%", "seconds", "cpu-seconds")


def _attack(target, method, params, X_fit, y_fit, query, *, n_shadow, seed):
    start, cpu = time.perf_counter(), time.process_time()
    mia = MembershipInferenceAttack(
        target, method=method, method_params=params, n_shadow=n_shadow,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mia.fit(X_fit, y_fit)
        report = mia.evaluate(*query, fpr_levels=(0.001, 0.01))
    return {
        "auc": float(report.auc),
        "tpr@1%": float(report.tpr_at_fpr[0.01]),
        "tpr@0.1%": float(report.tpr_at_fpr[0.001]),
        "seconds": time.perf_counter() - start,
        "cpu-seconds": time.process_time() - cpu,
    }


def _warm_up():
    """One tiny fit of each kind of network, so that torch's first-call costs
    land on no row."""
    X, y = make_purchase_like(300, n_features=20, n_classes=3, random_state=0)
    small = get_defence("none").build(
        module=nets.MLP, module__hidden_layer_sizes=(8,), max_epochs=1,
        random_state=0,
    ).fit(X[:150], y[:150])
    for method, params in (("rmia", None), ("distill", {"alpha": 0.05}),
                           ("quantile", {"alpha": 0.05})):
        MembershipInferenceAttack(
            small, method=method, method_params=params, n_shadow=2, random_state=0,
        ).fit(X, y)


def _raw_hinge(target, query):
    Xm, ym, Xn, yn = query
    classes = list(target.classes_)

    def score(X, y):
        idx = np.array([classes.index(v) for v in y])
        return logit_margin_from_log_proba(target.predict_log_proba(X), idx)

    report = membership_report(score(Xm, ym), score(Xn, yn), fpr_levels=(0.001, 0.01))
    return {
        "auc": float(report.auc),
        "tpr@1%": float(report.tpr_at_fpr[0.01]),
        "tpr@0.1%": float(report.tpr_at_fpr[0.001]),
        "seconds": 0.0,
        "cpu-seconds": 0.0,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-samples", type=int, default=2500)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--hidden", type=int, nargs="+", default=[128])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--shadows", type=int, default=4)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--attacks", nargs="+", default=None, metavar="ROW")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    _warm_up()

    X, y = make_purchase_like(args.n_samples, n_classes=args.classes, random_state=0)
    X_pool, y_pool, X_held, y_held = hold_out_test(X, y, test_size=0.2, random_state=0)
    base = {"alpha": args.alpha}
    tau = 1.0 - args.alpha
    pinball = {"alpha": args.alpha, "mode": "quantile"}

    def copies(**kw):
        # a seed unlike the target's (0, 1, 2): see QuantileAttack's notes
        return QuantileNetRegressor(loss="cross_entropy", random_state=1000, **kw)

    variants = {
        # name: (method, method_params)
        "distill": ("distill", base),
        "distill-4folds": ("distill", {**base, "n_folds": 4}),
        "distill-2folds": ("distill", {**base, "n_folds": 2}),
        "distill-one-by-one": ("distill", {
            **base, "regressor": copies(max_epochs=6, lr=2e-3),
        }),
        "distill-former": ("distill", {
            **base, "n_folds": 4, "regressor": copies(max_epochs=12),
        }),
        "distill-x3": ("distill", {
            **base, "n_folds": 4, "regressor": copies(max_epochs=12, n_networks=3),
        }),
        "distill-plain": ("distill", {**base, "slope": 1.0}),
        "distill-plain-5folds": ("distill", {**base, "slope": 1.0, "n_folds": 5}),
        "distill-hinge": ("distill", {**base, "score": "hinge"}),
        "quantile": ("quantile", base),
        "quantile-slope": ("quantile", {**base, "slope": "fit"}),
        "quantile-gaussian": ("quantile", {**base, "mode": "gaussian"}),
        "quantile-net-flat": ("quantile", {
            **pinball,
            "regressor": QuantileNetRegressor(quantile=tau, random_state=1000),
        }),
        "quantile-hgb": ("quantile", {
            **pinball,
            "regressor": HistGradientBoostingRegressor(
                loss="quantile", quantile=tau, random_state=0
            ),
        }),
    }
    names = (
        ["rmia", "rmia-8", "rmia-16", "rmia-offline", *variants, "distill-disjoint",
         "quantile-disjoint", "hinge"]
    )
    chosen = names if args.attacks is None else args.attacks
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown --attacks {unknown}; choose from {names}")
    rows = []
    for seed in range(args.seeds):
        split = pool_split(X_pool, y_pool, random_state=seed)
        target = get_defence("none").build(
            module=nets.MLP, module__hidden_layer_sizes=tuple(args.hidden),
            max_epochs=args.epochs, batch_size=128, lr=1e-3, random_state=seed,
        ).fit(split.X_members, split.y_members)
        query = (split.X_members, split.y_members, split.X_nonmembers,
                 split.y_nonmembers)
        kw = {"n_shadow": args.shadows, "seed": seed}
        runs = {
            "rmia": ("rmia", None, split.X_pool, split.y_pool),
            "rmia-8": ("rmia", None, split.X_pool, split.y_pool),
            "rmia-16": ("rmia", None, split.X_pool, split.y_pool),
            "rmia-offline": ("rmia", {"online": False}, split.X_pool, split.y_pool),
            **{
                name: (method, params, split.X_pool, split.y_pool)
                for name, (method, params) in variants.items()
            },
            "distill-disjoint": ("distill", base, X_held, y_held),
            "quantile-disjoint": ("quantile", base, X_held, y_held),
        }
        for name in chosen:
            if name == "hinge":
                row = _raw_hinge(target, query)
            else:
                method, params, Xf, yf = runs[name]
                shadows = {"rmia-8": 8, "rmia-16": 16}.get(name, args.shadows)
                row = _attack(
                    target, method, params, Xf, yf, query, **{**kw, "n_shadow": shadows}
                )
            rows.append({"attack": name, "seed": seed, **row})
            print(
                f"seed {seed} {name:25s} "
                + " ".join(f"{f} {row[f]:.4f}" for f in FIGURES),
                flush=True,
            )

    print(f"\n{'attack':25s} " + " ".join(f"{f:>17s}" for f in FIGURES))
    for name in dict.fromkeys(r["attack"] for r in rows):
        mine = [r for r in rows if r["attack"] == name]
        cells = []
        for f in FIGURES:
            v = np.array([r[f] for r in mine])
            sd = v.std(ddof=1) if len(v) > 1 else 0.0  # as the runner reports
            cells.append(f"{v.mean():8.4f} ± {sd:6.4f}")
        print(f"{name:25s} " + " ".join(cells))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"args": vars(args), "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
