"""The quantile and distillation attacks' modes and regressors beside RMIA on
the command's default target.

The ``wsmooth`` command's default setup: ``make_purchase_like(2500,
n_classes=10)``, 20% held out, the undefended network (the ``"none"``
defence: the tanh MLP 600-128, 12 epochs, batch 128, Adam at 1e-3)
trained on a random half of the pool (members; the other half are
non-members), for each seed. Rows, each with AUC, TPR at 1% and 0.1% FPR
(members against non-members) and the attack's seconds (``fit`` and
``evaluate``, shadow training included):

- ``rmia``: online RMIA with ``--shadows`` shadow models fitted on the pool
  (the command's protocol);
- ``rmia-offline``: offline RMIA (``online=False``): each record compared
  with the shadow models that did not train on it only, what a model that
  did not train on the record can at best stand in for;
- ``distill``: the ``distill`` method at its defaults
  (:class:`~wsmooth.attacks.DistillationAttack`: a network learns the
  target's log-probability vector from the features of the pool records
  outside each fold, and a record scores the target's logit-scaled
  confidence minus the distilled copy's), fitted on the same pool (half of
  it the target's members, each pool record scored by a regressor that did
  not train on it);
- ``distill-hinge``: the same with ``score="hinge"``;
- ``distill-x3``: the mean of 3 distilled networks per fold
  (``n_networks=3``, three times the time);
- ``distill-6``: the same distilled network trained 6 epochs instead of 12
  (half the time);
- ``quantile``: the ``quantile`` method at its defaults, the paper's attack:
  the network with a hinge head fitted with the pinball loss at
  ``1 - alpha`` to the target's hinge scores, a record scoring ``s - q``;
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

Command (from a checkout; about three minutes on one busy CPU core)::

    OMP_NUM_THREADS=1 nice python benchmarks/quantile_attack.py

``--seeds``, ``--n-samples``, ``--classes``, ``--epochs``, ``--shadows`` and
``--alpha`` change the setup; ``--json PATH`` writes every figure.
"""

import argparse
import json
import time
import warnings

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingRegressor

from wsmooth import nets
from wsmooth.attacks import MembershipInferenceAttack, QuantileNetRegressor, pool_split
from wsmooth.attacks._signals import logit_margin_from_log_proba
from wsmooth.datasets import make_purchase_like
from wsmooth.defences import get_defence
from wsmooth.experiments._split import pool_split as holdout_split
from wsmooth.metrics import membership_report

FIGURES = ("auc", "tpr@1%", "tpr@0.1%", "seconds")


def _attack(target, method, params, X_fit, y_fit, query, *, n_shadow, seed):
    start = time.perf_counter()
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
    }


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
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-samples", type=int, default=2500)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--shadows", type=int, default=4)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    X, y = make_purchase_like(args.n_samples, n_classes=args.classes, random_state=0)
    X_pool, y_pool, X_held, y_held = holdout_split(X, y, test_size=0.2, random_state=0)
    base = {"alpha": args.alpha}
    tau = 1.0 - args.alpha
    pinball = {"alpha": args.alpha, "mode": "quantile"}
    variants = {
        # name: (method, method_params)
        "distill": ("distill", base),
        "distill-hinge": ("distill", {"alpha": args.alpha, "score": "hinge"}),
        "distill-x3": ("distill", {
            "alpha": args.alpha,
            "regressor": QuantileNetRegressor(
                loss="cross_entropy", max_epochs=12, n_networks=3, random_state=1000
            ),
        }),
        "distill-6": ("distill", {
            "alpha": args.alpha,
            "regressor": QuantileNetRegressor(
                loss="cross_entropy", max_epochs=6, random_state=1000
            ),
        }),
        "quantile": ("quantile", base),
        "quantile-gaussian": ("quantile", {"alpha": args.alpha, "mode": "gaussian"}),
        "quantile-net-flat": ("quantile", {
            **pinball,
            # a seed unlike the target's (0, 1, 2): see QuantileAttack's notes
            "regressor": QuantileNetRegressor(quantile=tau, random_state=1000),
        }),
        "quantile-hgb": ("quantile", {
            **pinball,
            "regressor": HistGradientBoostingRegressor(
                loss="quantile", quantile=tau, random_state=0
            ),
        }),
    }
    rows = []
    for seed in range(args.seeds):
        split = pool_split(X_pool, y_pool, random_state=seed)
        target = get_defence("none").build(
            module=nets.MLP, module__hidden_layer_sizes=(128,),
            max_epochs=args.epochs, batch_size=128, lr=1e-3, random_state=seed,
        ).fit(split.X_members, split.y_members)
        query = (split.X_members, split.y_members, split.X_nonmembers,
                 split.y_nonmembers)
        kw = {"n_shadow": args.shadows, "seed": seed}
        runs = {
            "rmia": ("rmia", None, split.X_pool, split.y_pool),
            "rmia-offline": ("rmia", {"online": False}, split.X_pool, split.y_pool),
            **{
                name: (method, params, split.X_pool, split.y_pool)
                for name, (method, params) in variants.items()
            },
            "distill-disjoint": ("distill", base, X_held, y_held),
            "quantile-disjoint": ("quantile", base, X_held, y_held),
        }
        for name, (method, params, Xf, yf) in runs.items():
            row = {"attack": name, "seed": seed,
                   **_attack(target, method, params, Xf, yf, query, **kw)}
            rows.append(row)
        rows.append({"attack": "hinge", "seed": seed, **_raw_hinge(target, query)})
        for row in rows[-len(runs) - 1:]:
            print(
                f"seed {seed} {row['attack']:25s} "
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
