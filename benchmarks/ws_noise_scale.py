"""Does one noise weight mean the same on 10 and on 100 classes?

Trains the same small MLP on Purchase-like data with 10 and with 100 classes,
without noise and with weighted smoothing at each ``sigma`` under each
``noise_scale``, over several seeds, and prints the mean and standard deviation
of the test accuracy and of its loss against the same seed's clean model.

    OMP_NUM_THREADS=1 python benchmarks/ws_noise_scale.py --n-samples 4000 \\
        --epochs 20 --seeds 3
"""

import argparse

import numpy as np
from sklearn.model_selection import train_test_split

from wsmooth import WeightedSmoothingClassifier
from wsmooth.datasets import make_purchase_like


def _accuracy(n_classes, seed, args, **params):
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
        **params,
    ).fit(X_tr, y_tr)
    return float(np.mean(clf.predict(X_te) == y_te))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--reference-sigmas", default="0.1,0.3")
    parser.add_argument("--invariant-sigmas", default="1,3")
    args = parser.parse_args(argv)
    grid = [("reference", float(s)) for s in args.reference_sigmas.split(",")] + [
        ("class_invariant", float(s)) for s in args.invariant_sigmas.split(",")
    ]
    print(
        f"{args.n_samples} records (half train, half test), MLP (256, 128), "
        f"{args.epochs} epochs, seeds 0..{args.seeds - 1}"
    )
    for k in (10, 100):
        clean = [_accuracy(k, s, args, sigma=0.0) for s in range(args.seeds)]
        print(f"K={k:<3} clean                  acc {np.mean(clean):.3f} "
              f"+- {np.std(clean):.3f}")
        for scale, sigma in grid:
            acc = [
                _accuracy(k, s, args, sigma=sigma, noise_scale=scale)
                for s in range(args.seeds)
            ]
            loss = np.subtract(clean, acc)
            print(
                f"K={k:<3} {scale:<15} s={sigma:<4g} acc {np.mean(acc):.3f} "
                f"+- {np.std(acc):.3f}  loss {np.mean(loss):+.3f} "
                f"+- {np.std(loss):.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
