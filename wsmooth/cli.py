"""Command line: compare defences on one data set and print the
privacy-utility frontier.

A shell over :mod:`wsmooth.experiments`: this module parses and checks the
arguments, calls the set-up functions there (``load_dataset``,
``check_dataset``, ``training_settings``, ``default_network``,
``comparison_configurations``) and ``run_experiment``, writes the report and
prints it. Nothing in the package imports it but ``python -m wsmooth``.
"""

import argparse
import importlib.util
import json
import math
import os
import sys
import warnings
from contextlib import contextmanager

from . import __version__
from ._names import ATTACKS, DATA_EMBEDDED, DATA_FILES, DEFAULT_N_SAMPLES, DEFENCES

# Nothing heavy is imported at module level (numpy, scikit-learn, torch):
# building the parser and ``wsmooth --help`` / ``--version`` stay instant.

__all__ = ["main", "build_parser"]

#: Exit status of a run that failed: data that cannot be used, training
#: that diverged, a damaged cache, a report that could not be written.
EXIT_FAILURE = 1
#: Exit status of bad arguments (as argparse).
EXIT_USAGE = 2
#: Exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Environment variable that, set to 1, shows the traceback of a failure.
DEBUG_ENV = "WSMOOTH_DEBUG"
#: Optional dependencies of defences: ``{defence: (module, extra)}``.
_DEFENCE_NEEDS = {"dpsgd": ("opacus", "dp")}
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


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 jobs cannot train anything: give 1 or more, or -1 for all cores "
            "(-2 all but one, ...)"
        )
    return value


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


def _canaries(text):
    """``--canaries N[:KIND]`` -> ``(N, KIND)``."""
    from .experiments._canaries import DEFAULT_KIND, check_canaries

    number, _, kind = text.partition(":")
    try:
        n = int(number)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected N or N:KIND such as 100:mislabelled, got {text!r}"
        ) from None
    try:
        return check_canaries((n, kind or DEFAULT_KIND))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# --data NAME [PATH]: the embedded sets take no path, the loaders exactly one.
_EMBEDDED = DATA_EMBEDDED
_FILES = DATA_FILES

#: ``--leakage`` choices, each with its default ``--max-leakage``: a low
#: leakage for the figure, ten times chance for a TPR at low FPR (a guessing
#: attacker's TPR is the FPR), 0.1 above chance for the others (a guess has
#: an AUC of 0.5 and an advantage of 0).
MAX_LEAKAGE_DEFAULTS = {"tpr@1%": 0.1, "tpr@0.1%": 0.01, "auc": 0.6, "advantage": 0.1}
# the same bounds on the canaries (--canaries), the worst case
MAX_LEAKAGE_DEFAULTS.update(
    {f"canary-{k}": v for k, v in MAX_LEAKAGE_DEFAULTS.items() if k != "advantage"}
)


class _Parser(argparse.ArgumentParser):
    """argparse, its errors on one line: ``wsmooth: error: ...``, exit 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {_one_line(message)}\n")


def _one_line(text):
    return " ".join(str(text).split())


class _DataAction(argparse.Action):
    """``--data purchase-like|digits`` or ``--data FORMAT PATH``."""

    def __call__(self, parser, namespace, values, option_string=None):
        name, *rest = values
        if name not in _EMBEDDED + _FILES:
            parser.error(
                f"argument {option_string}: unknown data {name!r}; choose one of "
                f"{', '.join(_EMBEDDED)} (embedded) or FORMAT PATH with FORMAT in "
                f"{', '.join(_FILES)}"
            )
        if name in _EMBEDDED and rest:
            parser.error(f"argument {option_string}: {name} takes no path")
        if name in _FILES:
            if len(rest) != 1:
                parser.error(
                    f"argument {option_string}: {name} needs one PATH (the local "
                    f"copy of the data; nothing is downloaded), e.g. "
                    f"{option_string} {name} ./{name}"
                )
            if not os.path.exists(os.path.expanduser(rest[0])):
                parser.error(f"argument {option_string}: {rest[0]}: no such file or folder")
        setattr(namespace, self.dest, (name, rest[0] if rest else None))


def _device(text):
    import torch

    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"expected cpu, cuda or cuda:N, got {text!r}"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(
                f"{text}: CUDA is not available here (torch {torch.__version__}, "
                "no GPU visible); use --device cpu or install a CUDA build of torch"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(
                f"{text}: only {torch.cuda.device_count()} GPU(s) visible"
            )
    elif device.type != "cpu":
        raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N, got {text!r}")
    return str(device)


_DESCRIPTION = """\
Compare membership-inference defences on one data set: train every defence
setting on several seeds, attack each with the same shadow budget, and print
the privacy-utility frontier: test accuracy against leakage under the strongest
attack, the frontier settings marked *, and the answer, marked >: the most
accurate setting leaking no more than --max-leakage (when none leaks that
little, the least leaky setting, with a warning; the exit status is still 0).

Protocol (the pool protocol, see the user guide): 20% of the records are held
out for test accuracy; for each seed the target trains on half of the rest
(members) and the other half are non-members; every attack trains --shadows
shadow models on random halves of the same pool. Leakage is the attack's TPR
at 1% FPR by default (--leakage).

Written to --out: results.json and results.csv (one row per setting x seed x
attack; accuracies and leakage to 4 significant digits, seconds to 0.1 s),
frontier.png (the plot) and cache/ (finished cells, exact, and shadow models:
run the same command again after a Ctrl-C and it resumes from there, saying
how many cells it resumed).

--epochs, --lr and --hidden default to settings measured per data set (the
user guide has the figures); a warning says when the undefended network ends
near chance, or far below what the data set gives.

Every argument is checked before the first model trains; a failure is one
line on stderr, "wsmooth: error: ..." (--debug or WSMOOTH_DEBUG=1 shows the
traceback instead).

exit status:
  0    success
  1    the run failed: the data cannot be read or cannot be used (one class,
       too few records per class, NaN/inf features, non-integer labels, ...),
       training diverged, the cache is damaged, or the report could not be
       written (the previous report is then left as it was)
  2    bad arguments, including a --out that is not a writable folder and a
       missing optional dependency (dpsgd needs Opacus)
  130  Ctrl-C (no figures are printed; the count of finished cells is, and
       they stay cached)
"""

_EPILOG = """\
examples:
  wsmooth                      the default comparison on the embedded data
                               (Purchase-like, 2500 records, 10 classes)
  wsmooth --data digits --seeds 3 --out digits-report
                               scikit-learn's digits, a small CNN
  wsmooth --defences none ws label_smoothing --sigma 0.1 0.3 --max-leakage 0.2
  wsmooth --data purchase100 ~/data/purchase100.csv --n-samples 20000 \\
          --hidden 1024,512,256,128 --epochs 30 --shadows 16 --n-jobs 2
  wsmooth --data cifar10 ~/data/cifar-10-batches-py --net densenet --device cuda
  wsmooth --json > frontier.json

worked example: the default run with the two score attacks
(`wsmooth --attacks lira rmia`, 2,500 records, 10 classes, a 600-128 MLP,
12 epochs, 3 seeds, 4 shadow models) prints, among its 13 rows (mean ± std
over the 3 seeds):

     configuration      setting         test_accuracy    tpr@1%fpr        attack
     none (undefended)  default         0.9927 ± 0.0046  0.3720 ± 0.0191  rmia
   * ws                 sigma=0.3       0.9807 ± 0.0023  0.1393 ± 0.0932  rmia
     ws                 sigma=0.6       0.9260 ± 0.0265  0.0850 ± 0.0161  rmia
   * ws                 sigma=1.2       0.9400 ± 0.0140  0.0700 ± 0.0327  rmia
  >* early_stopping     max_epochs=3    0.9527 ± 0.0212  0.0980 ± 0.0285  rmia
   * early_stopping     max_epochs=6    0.9847 ± 0.0031  0.2120 ± 0.0252  rmia

  most accurate setting leaking no more than 0.1 (tpr@1%, strongest attack):
  early_stopping max_epochs=3, test accuracy 0.956 ± 0.000, leakage 0.123 ±
  0.000 (rmia); chosen on seeds [0, 1], reported on seeds [2]; above the
  bound on the reporting seeds

* marks the frontier: no other setting is more accurate and leaks less;
> marks the answer.
"""


def build_parser():
    """Argument parser of the ``wsmooth`` command.

    Building it imports nothing heavy: the names it lists come from
    :mod:`wsmooth._names`, and :func:`check_arguments` checks the chosen
    defences and attacks against the registries themselves.
    """
    parser = _Parser(
        prog="wsmooth",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}",
        help="print the version (wsmooth %s) and exit" % __version__,
    )
    # the only command, accepted first for the scripts that name it; not
    # advertised: there is nothing to choose
    parser.add_argument(
        "command", nargs="?", choices=["compare"], default="compare",
        help=argparse.SUPPRESS,
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data", action=_DataAction, nargs="+", metavar=("NAME", "PATH"),
        default=("purchase-like", None),
        help="purchase-like (embedded, default) | digits (scikit-learn's) | "
        "purchase100 PATH | texas100 PATH | location30 PATH | cifar10 PATH | "
        "cifar100 PATH | npz PATH (arrays X, y) | csv PATH (label last)",
    )
    data.add_argument(
        "--csv-header", choices=["infer", "yes", "no"], default="infer",
        help="whether the first line of a csv file is a header (default: infer "
        "it; a first line that could be either is refused, asking for yes or no)",
    )
    data.add_argument(
        "--n-samples", type=_int_at_least(8), default=None, metavar="N",
        help=f"records used: generated (purchase-like, default {DEFAULT_N_SAMPLES}) "
        "or drawn from the file (default: all)",
    )
    data.add_argument(
        "--n-classes", type=_int_at_least(2), default=10, metavar="K",
        help="classes of the generated purchase-like data (default: %(default)s)",
    )
    comp = parser.add_argument_group("comparison")
    comp.add_argument(
        "--defences", nargs="+", metavar="NAME",
        default=["none", "ws", "weight_decay", "early_stopping", "label_smoothing"],
        help=f"defences compared, from {', '.join(DEFENCES)} "
        "(default: %(default)s); each runs its default grid",
    )
    comp.add_argument(
        "--sigma", type=_finite_float(positive=False), nargs="+",
        default=None, metavar="S",
        help="WS noise weights, for ws and ws_reference (default: from the "
        "number of classes K, 0.3 0.6 1.2 scaled by sqrt(10/K): 0.095 0.19 "
        "0.38 on 100 classes)",
    )
    comp.add_argument(
        "--attacks", nargs="+", metavar="METHOD",
        default=["lira", "rmia", "label_only"],
        help=f"attacks at their defaults, from {', '.join(ATTACKS)} "
        "(default: %(default)s: a label-only attack is in the set because "
        "defences that alter the confidences, such as HAMP or MemGuard, hide "
        "from score attacks); leakage is the strongest per setting",
    )
    comp.add_argument(
        "--seeds", type=_int_at_least(1), default=3,
        help="seeds per setting: member half, training and shadow splits "
        "(default: %(default)s; the protocol asks 3 or more for decisions)",
    )
    comp.add_argument(
        "--shadows", type=_int_at_least(1), default=4,
        help="shadow models per attack, shared by the attacks (default: %(default)s)",
    )
    comp.add_argument(
        "--leakage", choices=list(MAX_LEAKAGE_DEFAULTS),
        default="tpr@1%", help="leakage figure (default: %(default)s); the "
        "canary-* figures need --canaries",
    )
    comp.add_argument(
        "--canaries", type=_canaries, default=None, metavar="N[:KIND]",
        help="worst-case leakage: N canaries per seed, half in the target's "
        "training set, of KIND mislabelled (default), duplicated (trained "
        "4 times when in) or ood; their figures "
        "go beside the population's, which come from a twin run without "
        "canaries (the cost doubles)",
    )
    defaults = ", ".join(  # argparse formats the help with %: escape the names
        f"{v:g} for {k.replace('%', '%%')}" for k, v in MAX_LEAKAGE_DEFAULTS.items()
    )
    comp.add_argument(
        "--max-leakage", type=_finite_float(positive=False), default=None,
        metavar="X",
        help="the leakage you accept: the answer is the most accurate setting "
        f"at or below it (default per --leakage: {defaults}; that is ten times "
        "chance for a TPR, 0.1 above chance for auc and advantage). When no "
        "setting is that low the least leaky one is reported, with a warning",
    )
    net = parser.add_argument_group("network and training")
    net.add_argument(
        "--net", choices=["auto", "mlp", "cnn", "densenet"], default="auto",
        help="auto: a CNN for images (digits, CIFAR), else the tanh MLP "
        "(default: auto); densenet (DenseNet-BC-40) wants a GPU",
    )
    net.add_argument(
        "--hidden", type=_hidden, default=None,
        help="hidden layer sizes of the MLP (default: per data set, 128 up to "
        "10 classes and 512 above; the field's standard for Purchase100 is "
        "1024,512,256,128)",
    )
    net.add_argument(
        "--channels", type=_int_at_least(1), default=16,
        help="width of the CNN's first block (default: %(default)s)",
    )
    net.add_argument(
        "--epochs", type=_int_at_least(1), default=None,
        help="training epochs per model (default: per data set, the optimiser "
        "steps its kind of data needs, 12 to 60 epochs: 12 for the default "
        "purchase-like, 20 for digits; see the user guide)",
    )
    net.add_argument(
        "--warmup-epochs", type=_int_at_least(0), default=3,
        help="WS: clean epochs before the noise starts (default: %(default)s)",
    )
    net.add_argument(
        "--batch-size", type=_int_at_least(1), default=128,
        help="mini-batch size (default: %(default)s)",
    )
    net.add_argument(
        "--lr", type=_finite_float(positive=True), default=None,
        help="Adam learning rate (default: per data set, 0.001 for the built-in "
        "ones)",
    )
    net.add_argument(
        "--device", type=_device, default="cpu",
        help="torch device: cpu, cuda or cuda:N (default: %(default)s)",
    )
    run_group = parser.add_argument_group("run and output")
    run_group.add_argument(
        "--n-jobs", type=_n_jobs, default=None, metavar="N",
        help="shadow models trained in parallel (joblib; -1: all cores, -2: "
        "all but one; 0 is refused)",
    )
    run_group.add_argument(
        "--threads", type=_int_at_least(1), default=1, metavar="T",
        help="torch threads per model on the CPU (default: %(default)s: small "
        "models train fastest on one thread each; use --n-jobs for parallelism)",
    )
    run_group.add_argument(
        "--seed", type=_seed, default=0,
        help="seed of the data and of the test / pool split (default: %(default)s)",
    )
    run_group.add_argument(
        "--out", default="wsmooth-report", metavar="DIR",
        help="output folder: results, plot and resume cache (default: %(default)s)",
    )
    run_group.add_argument(
        "--leakage-scale", choices=["auto", "linear", "log"], default="auto",
        help="leakage axis of frontier.png (default: auto: logarithmic when "
        "every setting's leakage is above 0 and the largest is more than ten "
        "times the smallest)",
    )
    run_group.add_argument(
        "--json", action="store_true",
        help="print the frontier points and the answer as JSON instead of a table",
    )
    run_group.add_argument("--quiet", action="store_true", help="no progress bars")
    run_group.add_argument(
        "--debug", action="store_true",
        help=f"on a failure, show the traceback instead of one line (as "
        f"{DEBUG_ENV}=1 does)",
    )
    return parser


# --------------------------------------------------------------------------- #
# Checks before anything trains
# --------------------------------------------------------------------------- #
class UsageError(Exception):
    """A problem with the arguments found after parsing (exit status 2)."""


def check_arguments(args):
    """Check what the argument types alone cannot; raise UsageError naming it.

    Run before the data are loaded: the attacks against ``--shadows``, the
    output folder, the optional dependencies of the defences, the size of
    the generated data, and the warm-up against ``--epochs`` when given
    (:func:`run` checks it against the data set's default otherwise).
    """
    _check_names(args)
    _check_warmup(args)
    if args.data[0] == "purchase-like":
        n = DEFAULT_N_SAMPLES if args.n_samples is None else args.n_samples
        if n < 8 * args.n_classes:
            raise UsageError(
                f"argument --n-samples: must be at least 8 x --n-classes "
                f"({8 * args.n_classes}) so that every class has members, "
                f"non-members and test records; got {n}"
            )
    _check_attacks(args)
    if args.leakage.startswith("canary") and args.canaries is None:
        raise UsageError(
            f"argument --leakage: {args.leakage} is measured on canaries: add "
            "--canaries N"
        )
    _check_out(args.out)
    for name in dict.fromkeys(args.defences):
        if name in _DEFENCE_NEEDS:
            module, extra = _DEFENCE_NEEDS[name]
            if importlib.util.find_spec(module) is None:
                raise UsageError(
                    f"argument --defences: {name} needs {module}, which is not "
                    f"installed; install it with: .venv/bin/pip install -c "
                    f'constraints.txt -e ".[{extra}]"'
                )


def _check_warmup(args):
    """WS trains some epochs with noise: checked once ``--epochs`` is known
    (given, or the data set's default), with the estimator's own rule."""
    from ._warmup import noise_never_starts
    from .experiments import WS_DEFENCES

    # the default grid (from the classes, not known yet) is all positive
    sigma = [1.0] if args.sigma is None else args.sigma
    if args.epochs is not None and WS_DEFENCES & set(args.defences) and any(
        noise_never_starts(s, args.epochs, args.warmup_epochs) for s in sigma
    ):
        raise UsageError(
            f"argument --warmup-epochs: --epochs {args.epochs} <= --warmup-epochs "
            f"{args.warmup_epochs}: no epoch would be trained with noise, so every "
            "WS row would be the undefended model. Raise --epochs or lower "
            "--warmup-epochs."
        )


def _check_names(args):
    """The defences and attacks named are registered (checked here, not by
    the parser, whose construction imports no registry)."""
    from .attacks import available_methods
    from .defences import available_defences

    for option, names, known in (
        ("--defences", args.defences, available_defences()),
        ("--attacks", args.attacks, available_methods()),
    ):
        unknown = [n for n in dict.fromkeys(names) if n not in known]
        if unknown:
            raise UsageError(
                f"argument {option}: invalid choice: {unknown[0]!r} (choose from "
                f"{', '.join(known)})"
            )


def _check_attacks(args):
    """Every attack's own parameter checks, with ``--shadows`` shadow models."""
    from .attacks import MembershipInferenceAttack
    from .attacks._methods import get_method

    for name in dict.fromkeys(args.attacks):
        attack = MembershipInferenceAttack(
            None, method=name, n_shadow=args.shadows, n_jobs=args.n_jobs
        )
        try:
            get_method(name).from_attack(attack).check_params(args.shadows)
        except (ValueError, TypeError) as exc:
            raise UsageError(
                f"argument --shadows: {args.shadows} is too few for the {name} "
                f"attack: {exc}"
            ) from None


def _check_out(out):
    """``--out`` is a writable folder, or one that can be created."""
    if not out.strip():
        raise UsageError("argument --out: expected a folder, got an empty name")
    path = os.path.abspath(os.path.expanduser(out))
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise UsageError(f"argument --out: {out} is a file, not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise UsageError(f"argument --out: {out} is not writable")
        return
    parent = path
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise UsageError(
            f"argument --out: {out} cannot be created: {parent} is a file"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(
            f"argument --out: {out} cannot be created: {parent} is not writable"
        )


def check_data(X, y, *, source, seed=0, reference_size=None, embedded=False):
    """:func:`wsmooth.experiments.check_dataset` for the data of ``--data``.

    Raises DataError naming ``source``, or UsageError for the embedded data
    too small for the run, whose size ``--n-samples`` sets. ``seed`` is the
    ``--seed`` that fixes the test / pool split; ``reference_size``, when a
    defence takes a reference set, the share of the pool reserved for it.
    """
    from .experiments import DataTooSmallError, check_dataset

    try:
        check_dataset(X, y, source=source, random_state=seed,
                      reference_size=reference_size)
    except DataTooSmallError as exc:
        if embedded:
            raise UsageError(f"argument --n-samples: {exc}") from None
        raise


class ReportError(Exception):
    """The report files could not be written (exit status 1)."""


def _load(args):
    """``(X, y, description)`` of the data named by ``--data``."""
    from .experiments import DataError, load_dataset

    name, path = args.data
    try:
        return load_dataset(
            name, path, n_samples=args.n_samples, n_classes=args.n_classes,
            random_state=args.seed,
            csv_header={"infer": "infer", "yes": True, "no": False}[args.csv_header],
        )
    except DataError as exc:
        # the command's spelling of the csv header argument
        message = str(exc).replace("pass csv_header=True or csv_header=False",
                                   "pass --csv-header yes or no")
        if message == str(exc):
            raise
        raise DataError(message) from None


def _with_training_defaults(args, X, y):
    """A copy of ``args`` with the training arguments left out (``--epochs``,
    ``--lr``, ``--hidden``, ``--sigma``) set to the data set's defaults; those
    given stay.
    """
    import numpy as np

    from .experiments import training_settings, ws_sigma_grid

    settings = training_settings(
        args.data[0], X, y, net=args.net, batch_size=args.batch_size,
        epochs=args.epochs, lr=args.lr, hidden=args.hidden,
    )
    if args.sigma is None:
        settings["sigma"] = list(ws_sigma_grid(len(np.unique(y))))
    return argparse.Namespace(**{**vars(args), **settings})


def _undertrained(args, points, y):
    """The warning for an undefended network near chance or far below what
    the data set gives (:func:`wsmooth._training_defaults.undertrained_warning`),
    or None; None too when the undefended network is not compared."""
    import numpy as np

    from ._training_defaults import accuracy_floor, undertrained_warning

    undefended = [p for p in points if p["undefended"]]
    if not undefended:
        return None
    _, counts = np.unique(y, return_counts=True)
    return undertrained_warning(
        undefended[0]["utility"],
        data=args.data[0],
        n_classes=len(counts),
        majority=counts.max() / counts.sum(),
        floor=accuracy_floor(args.data[0], len(y), len(counts)),
        training=f"{args.epochs} epoch{'s' * (args.epochs != 1)}, lr {args.lr:g}",
    )


def _configurations(args, X):
    """``({name: (estimator, grid)}, network description)`` of the defences
    chosen on the command line, on the network ``--net`` picks for ``X``."""
    from .experiments import comparison_configurations, default_network, network_params

    module, module_params, net_text = default_network(
        X, args.data[0], net=args.net, hidden=args.hidden, channels=args.channels
    )
    common = network_params(
        module, module_params, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, device=args.device, random_state=args.seed,
    )
    defences = comparison_configurations(
        args.defences, sigma=args.sigma, warmup_epochs=args.warmup_epochs, **common
    )
    return defences, net_text


# --------------------------------------------------------------------------- #
# The run
# --------------------------------------------------------------------------- #
def run(args):
    """Load the data, run the comparison, write the report; return a summary dict."""
    from .experiments import REFERENCE_SIZE, TEST_SIZE, run_experiment
    from .utils import get_privacy_tags

    X, y, data_text = _load(args)
    name, path = args.data
    embedded = name in _EMBEDDED
    source = (
        f"{name} with --n-samples {len(y)}" if embedded else f"{name} data from {path}"
    )
    check_data(X, y, source=source, seed=args.seed, embedded=embedded)
    args = _with_training_defaults(args, X, y)
    _check_warmup(args)
    defences, net_text = _configurations(args, X)
    takes_reference = any(
        get_privacy_tags(est).takes_reference for est, _ in defences.values()
    )
    if takes_reference:
        # the reference set leaves the attacker's population smaller
        check_data(X, y, source=source, seed=args.seed, embedded=embedded,
                   reference_size=REFERENCE_SIZE)
    if args.canaries is not None:
        _check_canaries_fit(args.canaries, y, args.seed, takes_reference)
    os.makedirs(args.out, exist_ok=True)
    cache = os.path.join(args.out, "cache")
    cells = _Cells(cache)
    with _torch_threads(args.threads), warnings.catch_warnings(record=True) as caught, \
            cells.on_interrupt():
        warnings.simplefilter("always")
        results = run_experiment(
            X, y, defences,
            attacks=list(dict.fromkeys(args.attacks)),
            seeds=args.seeds,
            n_shadow=args.shadows,
            n_jobs=args.n_jobs,
            test_size=TEST_SIZE,
            reference_size=REFERENCE_SIZE,
            cache_dir=cache,
            random_state=args.seed,
            undefended="none" if "none" in defences else None,
            canaries=args.canaries,
            callback=cells.finished,
            verbose=0 if args.quiet else 1,
        )
    notes = list(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))
    summary = _report(args, results, data_text, net_text, notes)
    undertrained = _undertrained(args, summary["points"], y)
    if undertrained:
        summary["warnings"].append(undertrained)
    summary["cells"] = {"total": cells.total, "resumed": cells.resumed,
                        "computed": cells.done - cells.resumed, "cache": cache}
    return summary


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during the run, with the count of the cells finished by then."""

    def __init__(self, done, resumed, total, cache):
        super().__init__(done, resumed, total, cache)
        self.done, self.resumed, self.total, self.cache = done, resumed, total, cache


class _Cells:
    """Counts the cells of a run as the runner reports them, finished or
    read from the cache."""

    def __init__(self, cache):
        self.cache = cache
        self.done = self.resumed = 0
        self.total = None

    def finished(self, cell):
        self.done = cell["done"]
        self.total = cell["total"]
        self.resumed += bool(cell["cached"])

    @contextmanager
    def on_interrupt(self):
        """Turn a Ctrl-C into :class:`Interrupted`, with the counts."""
        try:
            yield
        except KeyboardInterrupt as exc:
            raise Interrupted(self.done, self.resumed, self.total, self.cache) from exc


def _check_canaries_fit(canaries, y, seed, takes_reference):
    """``--canaries`` against the attacker's pool of the loaded data."""
    from .experiments import REFERENCE_SIZE, attacker_pool_labels
    from .experiments._canaries import check_canaries

    y_pool = attacker_pool_labels(
        y, random_state=seed, reference_size=REFERENCE_SIZE if takes_reference else None
    )
    try:
        check_canaries(canaries, len(y_pool))
    except ValueError as exc:
        raise UsageError(f"argument --canaries: {exc}") from None


@contextmanager
def _torch_threads(n):
    """Run with ``n`` torch threads, restoring the previous count afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _report(args, results, data_text, net_text, notes):
    from .experiments import most_accurate_under, setting_points

    points = setting_points(results, leakage=args.leakage)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            best = most_accurate_under(results, args.max_leakage, leakage=args.leakage)
            answer = None
        except ValueError as exc:  # no setting with a known leakage
            best, answer = None, str(exc)
    # about the answer (no setting within the bound, settings left out):
    # shown even with --quiet
    answer_warnings = list(dict.fromkeys(_one_line(w.message) for w in caught))
    paths = {
        "json": os.path.join(args.out, "results.json"),
        "csv": os.path.join(args.out, "results.csv"),
        "png": os.path.join(args.out, "frontier.png"),
    }
    from .utils._files import replace_together

    log_scale = {"auto": "auto", "linear": False, "log": True}[args.leakage_scale]
    if log_scale is True and any(p["leakage"] <= 0 for p in points):
        notes.append(
            "--leakage-scale log: a leakage at or below 0 has no place on a "
            "logarithmic axis; frontier.png has a linear one"
        )
        log_scale = False
    plot = _plotter(results, args, data_text, best, log_scale)
    # the report's figures are rounded to what they mean; the cache cells,
    # the inputs of a resumed run, keep them exact
    shown = results.rounded()
    # written together: a failure leaves the previous report whole
    try:
        replace_together({
            paths["json"]: shown.to_json,
            paths["csv"]: shown.to_csv,
            paths["png"]: plot,
        })
    except OSError as exc:
        reason = exc.strerror or _one_line(exc) or type(exc).__name__
        raise ReportError(
            f"cannot write the report in {args.out}: {reason}; the previous "
            "report there is left as it was"
        ) from exc
    meta = results.meta
    return {
        "data": data_text,
        "network": net_text,
        "protocol": (
            f"{meta['n_members']} members / {meta['n_nonmembers']} non-members per "
            f"seed, {meta['n_test']} test records; {args.epochs} epochs, lr "
            f"{args.lr:g}; "
            f"{args.shadows} shadow models; seeds {meta['seeds']}"
            + _canary_text(args.canaries)
        ),
        "leakage": args.leakage,
        "max_leakage": args.max_leakage,
        "points": points,
        "answer": best,
        "no_answer": answer,
        "table": results,
        "files": paths,
        "notes": notes,
        "warnings": answer_warnings,
    }


def _canary_text(canaries):
    """The protocol line's words on the canaries (nothing without them)."""
    if canaries is None:
        return ""
    n, kind = canaries
    return (
        f"; {n} {kind} canaries per seed ({n // 2} in the target's training "
        f"set, {n - n // 2} out), canary figures from a twin run with them"
    )


def _plotter(results, args, title, best, log_scale):
    """``write(path)``, which draws the frontier plot into ``path``."""
    import matplotlib

    def write(path):
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .experiments import FrontierDisplay

        fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
        try:
            # the title first: the labels are placed for the final layout
            ax.set_title(title, fontsize=10)
            FrontierDisplay.from_results(
                results, leakage=args.leakage, ax=ax, chosen=best,
                max_leakage=args.max_leakage, log_scale=log_scale,
            )
            fig.savefig(path, dpi=130, format="png")
        finally:
            plt.close(fig)

    return write


def _answer_line(summary):
    name = summary["leakage"]
    best = summary["answer"]
    if best is None:
        return f"no answer: {summary['no_answer']}"
    if best["selected_on_itself"]:
        seeds = (f"chosen and reported on seeds {best['selected_on_seeds']} "
                 "(selected on itself: add seeds for a held-out report)")
    else:
        seeds = (f"chosen on seeds {best['selected_on_seeds']}, reported on seeds "
                 f"{best['reported_on_seeds']}")
        if not best["within_bound"]:
            seeds += "; above the bound on the reporting seeds"
    if best.get("bound_met", True):
        what = (f"most accurate setting leaking no more than "
                f"{summary['max_leakage']:g} ({name}, strongest attack)")
    else:
        what = (f"no setting leaks at most {summary['max_leakage']:g} ({name}, "
                "strongest attack); the least leaky instead")
    return (
        f"{what}: {best['configuration']} {best['setting']}, "
        f"test accuracy {best['utility']:.3f} ± {best['utility_std']:.3f}, "
        f"leakage {best['leakage']:.3f} ± {best['leakage_std']:.3f} "
        f"({best['attack']}); {seeds}"
    )


def _print_report(summary, args):
    from .experiments import frontier_table

    print(f"data: {summary['data']}; network: {summary['network']}")
    print(f"protocol: {summary['protocol']}")
    cells = summary["cells"]
    if cells["resumed"]:
        print(f"resumed {cells['resumed']} of {cells['total']} cells"
              f"{_TWINS if args.canaries else ''} from {cells['cache']}")
    print(frontier_table(summary["table"], leakage=args.leakage,
                         chosen=summary["answer"]))
    print()
    print(_answer_line(summary))
    files = summary["files"]
    print("written: " + ", ".join(files.values()))


def _json_report(summary):
    keys = ("data", "network", "protocol", "leakage", "max_leakage", "points",
            "answer", "no_answer", "cells", "files", "notes", "warnings")
    out = {k: summary[k] for k in keys}
    best = summary["answer"] or {}
    # which seeds chose the answer and which its figures come from
    out["answer_seeds"] = {
        k: best.get(k)
        for k in ("selected_on_seeds", "reported_on_seeds", "selected_on_itself")
    }
    return json.dumps(out, indent=2)


def main(argv=None):
    """Entry point of the ``wsmooth`` command and of ``python -m wsmooth``.

    Returns 0 on success, 1 if the run failed (data that cannot be read or
    used, training that diverged, a damaged cache, a report that could not be
    written), and 130 on Ctrl-C (nothing is printed on stdout then: no figures
    of an unfinished run; the finished cells stay cached in ``--out``). Bad
    arguments exit with status 2 (SystemExit), before anything trains.

    Every failure is one line on stderr, ``wsmooth: error: ...``; with
    ``--debug`` or the environment variable ``WSMOOTH_DEBUG=1`` the exception
    is raised with its traceback instead.
    """
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    args = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.max_leakage is None:
            args.max_leakage = MAX_LEAKAGE_DEFAULTS[args.leakage]
        debug = debug or args.debug
        try:
            check_arguments(args)
        except UsageError as exc:
            parser.error(str(exc))
        try:
            summary = run(args)
        except UsageError as exc:  # the embedded data, too small for the run
            parser.error(str(exc))
    except KeyboardInterrupt as exc:
        if args is None:
            raise
        print(f"wsmooth: {_interrupted(exc, args)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if debug:
            raise
        print(f"wsmooth: error: {_message(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    if not args.quiet:
        for note in summary["notes"]:
            print(f"wsmooth: note: {note}", file=sys.stderr)
    for warning in summary["warnings"]:
        print(f"wsmooth: warning: {warning}", file=sys.stderr)
    if args.json:
        print(_json_report(summary))
    else:
        _print_report(summary, args)
    return 0


# with --canaries, a setting and seed is two cells (the runner's twins)
_TWINS = " (two per setting and seed: without and with the canaries)"


def _interrupted(exc, args):
    """What a Ctrl-C leaves: the cells finished (cached) and how to resume."""
    cache = os.path.join(args.out, "cache")
    if not isinstance(exc, Interrupted) or exc.total is None:
        return (f"interrupted before any cell finished; no figures printed. Run "
                f"the same command to start again (cache: {cache}).")
    new = exc.done - exc.resumed
    twins = _TWINS if args.canaries else ""
    return (
        f"interrupted; no figures printed. {exc.done} of {exc.total} cells{twins} "
        f"finished ({exc.resumed} resumed from the cache, {new} computed now) and "
        f"are kept in {exc.cache}: run the same command to resume."
    )


def _message(exc):
    """One line for a failure: the message, with its kind where it is not ours."""
    text = _one_line(exc)
    from .experiments import DataError

    if isinstance(exc, DataError | ReportError):
        return text
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    if isinstance(exc, MemoryError):
        return "out of memory" + (f": {text}" if text else "")
    return text or type(exc).__name__
