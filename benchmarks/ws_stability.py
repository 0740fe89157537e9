"""Spread of weighted smoothing's test accuracy over seeds, per stabilising option.

Same data and split for every run (only the training seed changes); prints the
mean, standard deviation and range of the test accuracy of each variant, and the
mean AUC of a loss-threshold attack (training records against the test half).
Variants are departures from the paper's loop
(:meth:`~wsmooth.WeightedSmoothingClassifier.reference`); ``defaults`` is the
classifier's defaults.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/ws_stability.py \\
        --n-samples 4000 --n-classes 100 --epochs 20 --sigma 0.5 --seeds 5
"""

import argparse
import json

import numpy as np
from sklearn.model_selection import train_test_split

from wsmooth import WeightedSmoothingClassifier
from wsmooth.datasets import make_purchase_like
from wsmooth.metrics import membership_auc


def _log_true_proba(clf, X, y):
    proba = clf.predict_proba(X)
    return np.log(np.clip(proba[np.arange(len(y)), np.searchsorted(clf.classes_, y)],
                          1e-30, None))

VARIANTS = {
    "clean (sigma=0)": {"sigma": 0.0},
    "reference": {},
    "weighting=minmax": {"weighting": "minmax"},
    "weighting=zscore_clipped": {"weighting": "zscore_clipped"},
    "refresh=live": {"refresh": "live"},
    "noise_scale=split": {"noise_scale": "split"},
    "noise_huber=0.1": {"noise_huber": 0.1},
    "noise_huber=1": {"noise_huber": 1.0},
    "clipped + huber 0.1": {"weighting": "zscore_clipped", "noise_huber": 0.1},
    "clip_grad_relative=3": {"clip_grad_relative": 3.0},
    "huber 0.1 + relative 3": {"noise_huber": 0.1, "clip_grad_relative": 3.0},
    "live + relative 3": {"refresh": "live", "clip_grad_relative": 3.0},
    "defaults": {"refresh": "live", "clip_grad_relative": 3.0,
                 "weighting": "zscore_clipped"},
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--n-classes", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--sigma", type=float, default=0.5)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--hidden", default="256,128")
    args = parser.parse_args(argv)
    hidden = tuple(int(h) for h in args.hidden.split(","))
    X, y = make_purchase_like(args.n_samples, n_classes=args.n_classes, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=0
    )
    print(
        f"{args.n_samples} records (half train), {args.n_classes} classes, MLP "
        f"{hidden}, {args.epochs} epochs, sigma {args.sigma:g}, "
        f"seeds 0..{args.seeds - 1}"
    )
    for name in args.variants.split(","):
        acc, auc = [], []
        for seed in range(args.seeds):
            # variants are departures from the paper's loop
            clf = WeightedSmoothingClassifier.reference(
                module__hidden_layer_sizes=hidden,
                max_epochs=args.epochs,
                random_state=seed,
                **{"sigma": args.sigma, **VARIANTS[name]},
            ).fit(X_tr, y_tr)
            acc.append(float(np.mean(clf.predict(X_te) == y_te)))
            auc.append(membership_auc(_log_true_proba(clf, X_tr, y_tr),
                                      _log_true_proba(clf, X_te, y_te)))
        print(
            f"{name:<24} acc {np.mean(acc):.3f} +- {np.std(acc):.3f} "
            f"range {max(acc) - min(acc):.3f}  loss-AUC {np.mean(auc):.3f} "
            f"+- {np.std(auc):.3f}  {json.dumps([round(a, 3) for a in acc])}",
            flush=True,
        )


if __name__ == "__main__":
    main()
