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
  (the command's protocol; 4, the attack's own default ``n_shadow``);
- ``rmia-8``, ``rmia-16``: the same with 8 and 16 shadow models;
- ``rmia-offline``: offline RMIA (``online=False``): each record compared
  with the shadow models that did not train on it only, what a model that
  did not train on the record can at best stand in for;
- ``distill``: the ``distill`` method at its defaults
  (:class:`~wsmooth.attacks.DistillationAttack`: over 6 folds, six networks
  learn the target's log-probability vector from the features of the pool
  records outside two consecutive folds each, trained side by side in one
  pass, 6 epochs of Adam at 2e-3 with weight decay 3e-3; a record scores
  the target's logit-scaled confidence minus a least-squares line in the
  mean score of the two networks that skipped its fold), fitted on the same
  pool (half of it the target's members, each pool record scored by
  networks that did not train on it);
- ``distill-4folds``: ``n_folds=4`` (one fold held out per network, the
  former fold design, with the default networks);
- ``distill-2folds``: ``n_folds=2`` (one fit on the whole pool in all);
- ``distill-one-by-one``: the default fold design with the default network
  passed as a regressor of one's own, so fitted one fold after the other:
  the time the joint training saves. One seed serves every fold there, so
  the two networks that score a record start from the same weights and
  their mean averages out less: its scores are not the defaults';
- ``distill-former``: the former defaults: 4 folds, one network per fold
  trained 12 epochs at 1e-3, one after the other;
- ``distill-x3``: the same with the mean of 3 such networks per fold
  (``n_networks=3``, three times the time);
- ``distill-plain``: ``slope=1.0``, the plain difference of the scores;
- ``distill-plain-5folds``: ``slope=1.0, n_folds=5`` (one fold held out);
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

A tiny fit of each kind of network first takes torch's first-call costs off
the rows.

Measured (seeds 0-4, mean±std; seconds and CPU seconds, one torch thread on a
machine shared with other work)::

    row                   AUC          TPR@1%       TPR@0.1%        s  CPU s
    rmia                  0.933±0.006  0.395±0.047  0.115±0.046   1.2  0.90±0.07
    rmia-8                0.937±0.007  0.411±0.032  0.126±0.052   2.4  1.77±0.20
    rmia-16               0.937±0.007  0.405±0.021  0.149±0.059   4.8  3.57±0.28
    rmia-offline          0.907±0.007  0.274±0.027  0.086±0.030   1.8  1.33±0.11
    distill               0.929±0.006  0.379±0.049  0.107±0.018   0.5  0.34±0.03
    distill-4folds        0.919±0.006  0.323±0.045  0.112±0.043   0.4  0.27±0.02
    distill-2folds        0.896±0.006  0.240±0.024  0.046±0.024   0.3  0.21±0.01
    distill-one-by-one    0.917±0.006  0.305±0.055  0.082±0.042   0.7  0.51±0.03
    distill-former        0.916±0.005  0.327±0.050  0.107±0.052   0.9  0.63±0.03
    distill-x3            0.934±0.003  0.380±0.024  0.151±0.043   2.1  1.69±0.08
    distill-plain         0.916±0.007  0.365±0.039  0.134±0.051   0.4  0.33±0.03
    distill-plain-5folds  0.912±0.006  0.376±0.049  0.166±0.064   0.3  0.29±0.03
    distill-hinge         0.889±0.007  0.267±0.043  0.072±0.042   0.4  0.33±0.03
    quantile              0.771±0.011  0.058±0.012  0.013±0.011   0.5  0.41±0.04
    quantile-slope        0.778±0.012  0.062±0.022  0.010±0.008   0.5  0.40±0.03
    quantile-gaussian     0.706±0.010  0.028±0.008  0.006±0.004   0.5  0.43±0.04
    quantile-net-flat     0.691±0.010  0.026±0.003  0.004±0.005   0.4  0.36±0.03
    quantile-hgb          0.694±0.011  0.028±0.007  0.003±0.003   5.1  4.02±0.31
    distill-disjoint      0.813±0.005  0.098±0.029  0.014±0.011   0.2  0.15±0.01
    quantile-disjoint     0.734±0.009  0.041±0.010  0.008±0.006   0.2  0.15±0.01
    hinge                 0.692±0.010  0.027±0.007  0.004±0.004

and on the larger target (``--classes 50 --n-samples 6000 --hidden 256 128
--epochs 20``, seeds 0-2), where a shadow model costs what it does in
practice beside the attack's networks::

    row             AUC          TPR@1%       TPR@0.1%        s  CPU s
    rmia            0.966±0.002  0.492±0.032  0.275±0.048   4.9  4.16±0.16
    rmia-8          0.972±0.002  0.525±0.010  0.325±0.034  10.4  8.08±0.17
    rmia-16         0.975±0.001  0.553±0.016  0.325±0.017  19.4  15.89±0.31
    rmia-offline    0.961±0.003  0.340±0.039  0.078±0.034   5.4  4.61±0.07
    distill         0.970±0.004  0.564±0.052  0.306±0.053   1.0  0.85±0.03
    distill-4folds  0.966±0.005  0.514±0.029  0.295±0.033   0.9  0.68±0.01
    distill-2folds  0.959±0.004  0.415±0.024  0.142±0.054   0.7  0.52±0.01
    distill-former  0.966±0.003  0.518±0.058  0.250±0.086   2.1  1.54±0.03
    distill-x3      0.971±0.003  0.544±0.046  0.351±0.008   5.5  4.06±0.09
    quantile        0.942±0.003  0.256±0.031  0.050±0.041   1.2  0.97±0.04
    hinge           0.894±0.002  0.047±0.011  0.006±0.003

The ``distill`` method at its defaults is 0.004 AUC and 0.02 TPR at 1% FPR
below online RMIA with four shadow models on the small target, in 0.38 of
its CPU time (0.36-0.42 per seed; 0.19 of RMIA's with 8 shadows, 0.10 with
16, 0.008-0.009 AUC and 0.03 TPR at 1% below those); on seeds 5-9, which
chose nothing (``--first-seed 5 --seeds 5``), 0.005 AUC below RMIA with
four shadows and 0.02 TPR at 1% above it (0.924 and 0.360 against 0.929 and
0.344) in 0.37 of its time. On the larger target it passes RMIA with four
shadows (0.003 AUC, 0.07 TPR at 1%) in 0.20 of its time, and is 0.005 AUC
below RMIA with 16 in 0.05 of its time. The former defaults
(``distill-former``) took 0.70 (small target) and 0.37 (larger target) of
RMIA's time for 0.017 AUC and 0.07 TPR at 1% below it on the small target.
Of the gain, the two held-out folds per network give 0.010 AUC and 0.06 TPR
at 1% (against ``distill-4folds``); the networks' weight decay (3e-3) 0.005
AUC (measured apart, the same networks with and without it: higher on each
of seeds 0-9; level on the larger target); training the six
networks side by side rather than one after the other
(``distill-one-by-one``) saves a third of the attack's time. The paper's
pinball regression (``quantile``) is far behind on both targets.

Commands (from a checkout; a few minutes each on one busy CPU core)::

    OMP_NUM_THREADS=1 nice python benchmarks/quantile_attack.py --seeds 5
    OMP_NUM_THREADS=1 nice python benchmarks/quantile_attack.py \\
        --classes 50 --n-samples 6000 --hidden 256 128 --epochs 20 \\
        --attacks rmia rmia-8 rmia-16 rmia-offline distill distill-4folds \\
            distill-2folds distill-former distill-x3 quantile hinge

``--seeds`` (from ``--first-seed``), ``--n-samples``, ``--classes``,
``--hidden`` (the target's hidden layer widths), ``--epochs``, ``--shadows``
and ``--alpha`` change the setup; ``--attacks`` runs only the rows named;
``--json PATH`` writes every figure.
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
    parser.add_argument("--first-seed", type=int, default=0)
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
            **base, "regressor": copies(max_epochs=6, lr=2e-3, weight_decay=3e-3),
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
    for seed in range(args.first_seed, args.first_seed + args.seeds):
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
