"""Does one noise weight mean the same on 10 and on 100 classes?

Trains the same small MLP on Purchase-like data with 10 and with 100 classes,
without noise and with weighted smoothing at each ``sigma`` under each
``noise_scale``, over several seeds, and prints the mean and standard deviation
of the test accuracy and of its loss against the same seed's clean model.

    OMP_NUM_THREADS=1 python benchmarks/ws_noise_scale.py --n-samples 4000 \\
        --epochs 20 --seeds 3 --reference-sigmas 0.3,1 --invariant-sigmas "" \\
        --split-sigmas 0.3,1,3
"""

import argparse
import json

import numpy as np
from sklearn.model_selection import train_test_split

from wsmooth import WeightedSmoothingClassifier
from wsmooth.datasets import make_purchase_like
from wsmooth.metrics import membership_auc


def _log_true_proba(clf, X, y):
    proba = clf.predict_proba(X)[np.arange(len(y)), np.searchsorted(clf.classes_, y)]
    return np.log(np.clip(proba, 1e-30, None))


def _fit_and_score(n_classes, seed, args, **params):
    """Test accuracy and loss-threshold AUC (training half against test half)."""
    X, y = make_purchase_like(
        args.n_samples, n_classes=n_classes, random_state=args.data_seed
    )
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=args.data_seed
    )
    clf = WeightedSmoothingClassifier(
        module__hidden_layer_sizes=(256, 128),
        max_epochs=args.epochs,
        random_state=seed,
        **json.loads(args.params),
        **params,
    ).fit(X_tr, y_tr)
    auc = membership_auc(_log_true_proba(clf, X_tr, y_tr), _log_true_proba(clf, X_te, y_te))
    return float(np.mean(clf.predict(X_te) == y_te)), auc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--classes", default="10,100")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--reference-sigmas", default="0.1,0.3")
    parser.add_argument("--invariant-sigmas", default="1,3")
    parser.add_argument("--split-sigmas", default="0.3,1")
    parser.add_argument("--params", default="{}",
                        help="further classifier parameters, as JSON")
    args = parser.parse_args(argv)
    grid = [
        (scale, float(s))
        for scale, sigmas in [
            ("reference", args.reference_sigmas),
            ("class_invariant", args.invariant_sigmas),
            ("split", args.split_sigmas),
        ]
        for s in sigmas.split(",")
        if s
    ]
    print(
        f"{args.n_samples} records (half train, half test), MLP (256, 128), "
        f"{args.epochs} epochs, seeds 0..{args.seeds - 1}, params {args.params}"
    )
    for k in (int(c) for c in args.classes.split(",")):
        clean = [_fit_and_score(k, s, args, sigma=0.0) for s in range(args.seeds)]
        clean_acc, clean_auc = np.array(clean).T
        print(f"K={k:<3} clean                  acc {clean_acc.mean():.3f} "
              f"+- {clean_acc.std():.3f}  loss-AUC {clean_auc.mean():.3f}")
        for scale, sigma in grid:
            runs = [
                _fit_and_score(k, s, args, sigma=sigma, noise_scale=scale)
                for s in range(args.seeds)
            ]
            acc, auc = np.array(runs).T
            loss = clean_acc - acc
            print(
                f"K={k:<3} {scale:<15} s={sigma:<4g} acc {acc.mean():.3f} "
                f"+- {acc.std():.3f}  loss {loss.mean():+.3f} "
                f"+- {loss.std():.3f}  loss-AUC {auc.mean():.3f} "
                f"+- {auc.std():.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
