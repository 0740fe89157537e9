"""Command line: train an undefended and a weighted-smoothing model, measure leakage."""

import argparse
import json
import sys
import time

import numpy as np

__all__ = ["main", "build_parser"]

_DESCRIPTION = """\
Train a classifier without defence and with weighted smoothing (WS) on the same
records, then print, for each, test accuracy and how much it leaks about its
training records.

Data: the embedded Purchase-like set (600 binary features, 100 classes; no
download), split in two equal halves: members (the training set) and held-out
non-members. Leakage: a loss-threshold membership attack between the two halves,
summarised by ROC AUC (0.5 = no leakage, 1 = every member found) and by its best
balanced accuracy (0.5 = chance).
"""

_EPILOG = """\
examples:
  wsmooth                                   default run (undefended vs sigma=0.2)
  wsmooth --sigma 0.1 0.2 0.3               several noise weights
  wsmooth --n-samples 4000 --epochs 10      a quicker, smaller run
  wsmooth --json > figures.json             machine-readable figures
"""


def build_parser():
    """Argument parser of the ``wsmooth`` command."""
    parser = argparse.ArgumentParser(
        prog="wsmooth",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        default=10_000,
        metavar="N",
        help="records generated, half members, half non-members (default: %(default)s)",
    )
    parser.add_argument(
        "--n-classes",
        type=int,
        default=100,
        metavar="K",
        help="classes of the generated data (default: %(default)s)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=20,
        help="training epochs per model (default: %(default)s)",
    )
    parser.add_argument(
        "--sigma",
        type=float,
        nargs="+",
        default=[0.2],
        metavar="S",
        help="WS noise weight(s) to compare with the undefended model (default: 0.2; "
        "with 100 classes the useful range is about 0.05-0.3)",
    )
    parser.add_argument(
        "--warmup-epochs",
        type=int,
        default=4,
        help="clean epochs before the noise starts (default: 4)",
    )
    parser.add_argument(
        "--hidden",
        default="1024,512,256,128",
        help="hidden layer sizes of the tanh MLP (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=128,
        help="mini-batch size (default: %(default)s)",
    )
    parser.add_argument(
        "--lr",
        type=float,
        default=1e-3,
        help="Adam learning rate (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the data, the split and the training (default: %(default)s)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the figures as JSON instead of a table",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _loss_leakage(clf, X_members, y_members, X_nonmembers, y_nonmembers):
    from .metrics import best_balanced_accuracy, membership_auc

    def neg_loss(X, y):
        proba = clf.predict_proba(X)
        index = np.searchsorted(clf.classes_, y)
        return np.log(np.clip(proba[np.arange(len(y)), index], 1e-30, 1.0))

    members = neg_loss(X_members, y_members)
    nonmembers = neg_loss(X_nonmembers, y_nonmembers)
    return (
        membership_auc(members, nonmembers),
        best_balanced_accuracy(members, nonmembers),
    )


def _progress_callback(label, epochs):
    from skorch.callbacks import Callback
    from tqdm.auto import tqdm

    class EpochProgress(Callback):
        def on_train_begin(self, net, **kwargs):
            self.bar_ = tqdm(
                total=epochs, desc=label, unit="epoch", leave=False, file=sys.stderr
            )

        def on_epoch_end(self, net, **kwargs):
            self.bar_.set_postfix(loss=f"{net.history[-1, 'train_loss']:.3f}")
            self.bar_.update()

        def on_train_end(self, net, **kwargs):
            self.bar_.close()

    return EpochProgress()


def run(args):
    """Run the comparison described by parsed ``args``; return the figures."""
    from sklearn.model_selection import train_test_split

    from .classifier import WeightedSmoothingClassifier
    from .datasets import make_purchase_like

    hidden = tuple(int(h) for h in args.hidden.split(",") if h.strip())
    X, y = make_purchase_like(
        args.n_samples, n_classes=args.n_classes, random_state=args.seed
    )
    X_in, X_out, y_in, y_out = train_test_split(
        X, y, test_size=0.5, random_state=args.seed
    )
    rows = []
    for sigma in [0.0] + [s for s in args.sigma if s != 0.0]:
        label = "undefended" if sigma == 0 else f"WS sigma={sigma:g}"
        callbacks = (
            [] if args.quiet else [("progress", _progress_callback(label, args.epochs))]
        )
        clf = WeightedSmoothingClassifier(
            sigma=sigma,
            max_epochs=args.epochs,
            warmup_epochs=args.warmup_epochs,
            module__hidden_layer_sizes=hidden,
            batch_size=args.batch_size,
            lr=args.lr,
            callbacks=callbacks,
            random_state=args.seed,
        )
        start = time.perf_counter()
        clf.fit(X_in, y_in)
        seconds = time.perf_counter() - start
        auc, bal_acc = _loss_leakage(clf, X_in, y_in, X_out, y_out)
        rows.append(
            {
                "model": label,
                "sigma": sigma,
                "train_accuracy": clf.score(X_in, y_in),
                "test_accuracy": clf.score(X_out, y_out),
                "leakage_auc": auc,
                "leakage_balanced_accuracy": bal_acc,
                "fit_seconds": seconds,
            }
        )
    return rows


def _print_table(rows, args):
    print(
        f"Purchase-like data: {args.n_samples} records, {args.n_classes} classes, "
        f"{args.n_samples // 2} members / {args.n_samples - args.n_samples // 2} "
        f"held-out; {args.epochs} epochs, seed {args.seed}"
    )
    print("leakage = loss-threshold attack, members vs held-out records")
    header = (
        f"{'model':<18}{'train acc':>10}{'test acc':>10}"
        f"{'leak AUC':>10}{'leak bal.acc':>14}{'fit s':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['model']:<18}{r['train_accuracy']:>10.3f}{r['test_accuracy']:>10.3f}"
            f"{r['leakage_auc']:>10.3f}{r['leakage_balanced_accuracy']:>14.3f}"
            f"{r['fit_seconds']:>8.0f}"
        )


def main(argv=None):
    """Entry point of the ``wsmooth`` command and of ``python -m wsmooth``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.n_samples < 4 * args.n_classes:
        parser.error(
            f"--n-samples must be at least 4 x --n-classes "
            f"({4 * args.n_classes}), got {args.n_samples}"
        )
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if any(s < 0 for s in args.sigma):
        parser.error("--sigma values must be >= 0")
    rows = run(args)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows, args)
    return 0
