"""The label-only attack at its defaults against a multi-scale reference score.

An undefended MLP (256, 128) trains for ``--epochs`` epochs on half of a
``make_purchase_like`` pool (binary features, ``--n-classes`` classes); the
query is the pool, members against non-members. Compared, on the same fitted
target:

* ``label_only`` at its defaults (``MembershipInferenceAttack(method=
  "label_only", n_shadow=4)``), and any ``--variants`` of its parameters;
* the reference: a multi-scale robustness-curve score, the raw count of
  bit-flipped copies keeping the true label over seven flip rates
  (:data:`REFERENCE_RATES`), 48 copies each, with no shadow model;
* ``lira`` with the same 4 shadow models, for the cost.

The shadow models are trained once (a cache folder) before any attack is
timed, so the seconds are the attacks' own. Run::

    PYTHONPATH=. OMP_NUM_THREADS=1 python -W ignore \
        benchmarks/label_only_strength.py --seeds 0 1
"""

import argparse
import json
import tempfile
import time

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from wsmooth._net import NetClassifier
from wsmooth.attacks import MembershipInferenceAttack
from wsmooth.attacks._label_only import robustness_curves
from wsmooth.datasets import make_purchase_like
from wsmooth.nets import MLP

#: Flip rates of the reference score.
REFERENCE_RATES = (0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32)


def tpr_at(scores_m, scores_n, fpr=0.01):
    y = np.r_[np.ones(len(scores_m)), np.zeros(len(scores_n))]
    f, t, _ = roc_curve(y, np.r_[scores_m, scores_n])
    return float(t[np.searchsorted(f, fpr, side="right") - 1])


def metrics(scores_m, scores_n, seconds):
    y = np.r_[np.ones(len(scores_m)), np.zeros(len(scores_n))]
    s = np.r_[scores_m, scores_n]
    return {
        "auc": float(roc_auc_score(y, s)),
        "tpr@1%": tpr_at(scores_m, scores_n),
        "distinct": int(len(np.unique(s))),
        "seconds": round(seconds, 1),
    }


def run(seed, args):
    X, y = make_purchase_like(
        args.n_records, n_classes=args.n_classes, random_state=seed
    )
    rng = np.random.default_rng(seed)
    member = np.zeros(len(y), bool)
    member[rng.permutation(len(y))[: len(y) // 2]] = True
    Xm, ym, Xn, yn = X[member], y[member], X[~member], y[~member]
    net = NetClassifier(
        MLP, module__n_features=X.shape[1], module__n_classes=args.n_classes,
        module__hidden_layer_sizes=(256, 128), max_epochs=args.epochs,
        random_state=seed,
    )
    t0 = time.perf_counter()
    target = net.fit(Xm, ym)
    rows = {"fit_seconds": round(time.perf_counter() - t0, 1),
            "test_accuracy": float(np.mean(target.predict(Xn) == yn))}
    cache = tempfile.mkdtemp(prefix="label_only_strength_")

    def attack(method, params=None):
        mia = MembershipInferenceAttack(
            target, method=method, method_params=params, n_shadow=4,
            cache_dir=cache, random_state=seed,
        )
        start = time.perf_counter()
        mia.fit(X, y)
        sm, sn = mia.decision_function(Xm, ym), mia.decision_function(Xn, yn)
        return metrics(sm, sn, time.perf_counter() - start)

    t0 = time.perf_counter()
    attack("lira")  # trains the shadow models into the cache
    rows["shadow_training_seconds"] = round(time.perf_counter() - t0, 1)
    rows["lira"] = attack("lira")
    rows["label_only"] = attack("label_only")
    for v in args.variants:
        rows[f"label_only{v}"] = attack("label_only", json.loads(v))
    start = time.perf_counter()
    ref = [
        robustness_curves(
            target.predict, Z, t, n_perturbations=48, flip_probas=REFERENCE_RATES,
            noise_scales=(0.0,) * len(REFERENCE_RATES), random_state=seed,
        ).sum(axis=1)
        for Z, t in ((Xm, ym), (Xn, yn))
    ]
    rows["reference"] = metrics(*ref, time.perf_counter() - start)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-records", type=int, default=4000)
    parser.add_argument("--n-classes", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--variants", nargs="*", default=[],
                        help='label_only method_params as JSON, e.g. '
                             '\'{"weights": "equal"}\'')
    args = parser.parse_args(argv)
    results = [run(s, args) for s in args.seeds]
    for s, r in zip(args.seeds, results, strict=True):
        print(f"seed {s}: {json.dumps(r)}", flush=True)
    keys = [k for k, v in results[0].items() if isinstance(v, dict)]
    print(f"{'attack':40s} {'AUC':>14s} {'TPR@1%':>14s} {'distinct':>9s} {'s':>7s}")
    for k in keys:
        a = [r[k]["auc"] for r in results]
        t = [r[k]["tpr@1%"] for r in results]
        print(f"{k:40s} {np.mean(a):7.3f}±{np.std(a):.3f} "
              f"{np.mean(t):7.3f}±{np.std(t):.3f} "
              f"{np.mean([r[k]['distinct'] for r in results]):9.0f} "
              f"{np.mean([r[k]['seconds'] for r in results]):7.1f}")
    ref = results[0]["reference"]
    lo = results[0]["label_only"]
    print(f"label_only - reference AUC (seed {args.seeds[0]}): "
          f"{lo['auc'] - ref['auc']:+.3f}; TPR@1% ratio "
          f"{lo['tpr@1%'] / max(ref['tpr@1%'], 1e-12):.2f}")


if __name__ == "__main__":
    main()
