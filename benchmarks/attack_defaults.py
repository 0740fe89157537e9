"""Every attack at its defaults on cheap targets: AUC, TPR at 0.1% / 1% FPR.

Carlini et al.'s pool setup on noisy 4-class ``make_classification`` data (the
test fixtures' data, larger): the target trains on half of a pool, shadow
models (clones of the target) on halves of the same pool, and the query is the
pool (members against non-members). Two targets: an unpruned-ish random forest
(``min_samples_leaf=2``) and a scikit-learn MLP. The forest rows take a few
minutes on two cores, the MLP rows about 20. The same script runs against any
version of ``wsmooth`` put first on the path, so figures before and after a
change compare directly::

    PYTHONPATH=. OMP_NUM_THREADS=1 python -W ignore \
        benchmarks/attack_defaults.py --n-shadow 4 8 16
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.neural_network import MLPClassifier

from wsmooth.attacks import MembershipInferenceAttack

METHODS = ["loss", "mentr", "lira", "lira-offline", "rmia", "rmia-offline"]


def targets(seed):
    return {
        "forest": RandomForestClassifier(
            n_estimators=50, min_samples_leaf=2, random_state=seed
        ),
        "mlp": MLPClassifier(
            hidden_layer_sizes=(128,), max_iter=300, alpha=0.0, random_state=seed
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-pool", type=int, default=4000)
    parser.add_argument("--n-shadow", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--targets", nargs="+", default=["forest", "mlp"])
    parser.add_argument("--methods", nargs="+", default=METHODS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X, y = make_classification(
        n_samples=args.n_pool,
        n_features=12,
        n_informative=6,
        n_classes=4,
        n_clusters_per_class=1,
        flip_y=0.15,
        random_state=args.seed,
    )
    rng = np.random.default_rng(args.seed)
    member = np.zeros(len(y), dtype=bool)
    member[rng.permutation(len(y))[: len(y) // 2]] = True
    print(
        f"{'target':7s} {'S':>3s} {'method':13s} {'AUC':>6s} {'TPR@0.1%':>9s} "
        f"{'TPR@1%':>7s} {'bal.acc':>7s} {'time':>6s}"
    )
    for tname in args.targets:
        target = targets(args.seed)[tname].fit(X[member], y[member])
        for n_shadow in args.n_shadow:
            for m in args.methods:
                name, _, variant = m.partition("-")
                params = {"online": False} if variant == "offline" else None
                t0 = time.perf_counter()
                mia = MembershipInferenceAttack(
                    target,
                    method=name,
                    method_params=params,
                    n_shadow=n_shadow,
                    random_state=args.seed,
                ).fit(X, y)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = mia.evaluate(X[member], y[member], X[~member], y[~member])
                print(
                    f"{tname:7s} {n_shadow:3d} {m:13s} {r.auc:6.3f} "
                    f"{r.tpr_at_fpr[0.001]:9.3f} {r.tpr_at_fpr[0.01]:7.3f} "
                    f"{r.balanced_accuracy:7.3f} {time.perf_counter() - t0:6.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
