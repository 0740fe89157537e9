"""Command line: train an undefended and a weighted-smoothing model, measure leakage."""

import argparse
import json
import math
import sys
import time

import numpy as np

__all__ = ["main", "build_parser"]

#: Exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Seeds numpy accepts.
_SEED_MAX = 2**32 - 1


# argparse ``type=`` functions: every numeric argument is checked before any
# training starts, and the error names the argument (argparse adds it).
def _int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer, got {text!r}"
            ) from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def _seed(text):
    value = _int_at_least(0)(text)
    if value > _SEED_MAX:
        raise argparse.ArgumentTypeError(
            f"must be between 0 and {_SEED_MAX}, got {value}"
        )
    return value


def _finite_float(positive):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a number, got {text!r}"
            ) from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
        if value < 0 or (positive and value == 0):
            raise argparse.ArgumentTypeError(
                f"must be {'> 0' if positive else '>= 0'}, got {value:g}"
            )
        return value

    parse.__name__ = "positive number" if positive else "non-negative number"
    return parse


def _hidden(text):
    parts = [p.strip() for p in text.split(",")]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 256,128, got {text!r}"
        )
    return sizes

_DESCRIPTION = """\
Train a classifier without defence and with weighted smoothing (WS) on the same
records, then print, for each, test accuracy and how much it leaks about its
training records.

Data: the embedded Purchase-like set (600 binary features, 100 classes; no
download), split in two equal halves, stratified by class: members (the
training set) and held-out non-members. Leakage: a loss-threshold membership
attack between the two halves, summarised by ROC AUC (0.5 = no leakage, 1 =
every member found) and by its best balanced accuracy (0.5 = chance); a
held-out record of a class the model never saw counts as probability 0.

Exit status: 0 on success, 1 if training diverged, 2 for bad arguments, 130 on
Ctrl-C (no figures are printed then).
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
        type=_int_at_least(8),
        default=10_000,
        metavar="N",
        help="records generated, half members, half non-members (default: %(default)s)",
    )
    parser.add_argument(
        "--n-classes",
        type=_int_at_least(2),
        default=100,
        metavar="K",
        help="classes of the generated data (default: %(default)s)",
    )
    parser.add_argument(
        "--epochs",
        type=_int_at_least(1),
        default=20,
        help="training epochs per model (default: %(default)s)",
    )
    parser.add_argument(
        "--sigma",
        type=_finite_float(positive=False),
        nargs="+",
        default=[0.2],
        metavar="S",
        help="WS noise weight(s) to compare with the undefended model (default: 0.2; "
        "with 100 classes the useful range is about 0.05-0.3)",
    )
    parser.add_argument(
        "--warmup-epochs",
        type=_int_at_least(0),
        default=4,
        help="clean epochs before the noise starts (default: 4)",
    )
    parser.add_argument(
        "--hidden",
        type=_hidden,
        default="1024,512,256,128",
        help="hidden layer sizes of the tanh MLP (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=_int_at_least(1),
        default=128,
        help="mini-batch size (default: %(default)s)",
    )
    parser.add_argument(
        "--lr",
        type=_finite_float(positive=True),
        default=1e-3,
        help="Adam learning rate (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=_seed,
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


def _split(X, y, seed):
    """Members and held-out halves, stratified by class where every class has
    at least two records (so that no class is missing from the members)."""
    from sklearn.model_selection import train_test_split

    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 else None
    return train_test_split(X, y, test_size=0.5, random_state=seed, stratify=stratify)


def _loss_leakage(clf, X_members, y_members, X_nonmembers, y_nonmembers):
    """AUC and best balanced accuracy of the loss-threshold attack."""
    from .attacks._signals import EPS, cross_entropy
    from .metrics import best_balanced_accuracy, membership_auc
    from .utils import check_proba, class_index

    def neg_loss(X, y):
        proba = check_proba(
            clf.predict_proba(X), n_records=len(y), n_classes=len(clf.classes_)
        )
        index = class_index(y, clf.classes_)
        # a class the model never saw gets probability 0
        loss = np.full(len(y), -np.log(EPS))
        seen = index >= 0
        loss[seen] = cross_entropy(proba[seen], index[seen])
        return -loss

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
    from .classifier import WeightedSmoothingClassifier
    from .datasets import make_purchase_like

    X, y = make_purchase_like(
        args.n_samples, n_classes=args.n_classes, random_state=args.seed
    )
    X_in, X_out, y_in, y_out = _split(X, y, args.seed)
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
            module__hidden_layer_sizes=args.hidden,
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
    """Entry point of the ``wsmooth`` command and of ``python -m wsmooth``.

    Returns 0 on success, 1 if training diverged and 130 on Ctrl-C (nothing
    is printed on stdout then: no figures of a half-trained model).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.n_samples < 4 * args.n_classes:
        parser.error(
            f"--n-samples must be at least 4 x --n-classes "
            f"({4 * args.n_classes}), got {args.n_samples}"
        )
    if any(s > 0 for s in args.sigma) and args.epochs <= args.warmup_epochs:
        parser.error(
            f"--epochs {args.epochs} <= --warmup-epochs {args.warmup_epochs}: no "
            "epoch would be trained with noise, so every WS row would be the "
            "undefended model. Raise --epochs or lower --warmup-epochs."
        )
    try:
        rows = run(args)
    except KeyboardInterrupt:
        print("wsmooth: interrupted; no figures printed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ValueError as exc:
        from .classifier import TrainingDivergedError

        if not isinstance(exc, TrainingDivergedError):
            raise
        print(f"wsmooth: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows, args)
    return 0
