"""The data of a comparison: load a data set by name, check it can run one.

:func:`load_dataset` reads the data sets the ``wsmooth`` command names
(``--data``): the embedded ones (generated Purchase-like records,
scikit-learn's digits) and the published formats read from a local copy by
:mod:`wsmooth.datasets`. :func:`check_dataset` refuses, before anything
trains, data the pool protocol cannot use: labels that are not classes,
non-finite features, images stored channels last, a single class, classes
too small for the attacker's pool. Both raise :class:`DataError`, one line
naming the data and the problem.
"""

import os

import numpy as np

from .._names import DATA_EMBEDDED, DATA_FILES, DEFAULT_N_SAMPLES
from ._split import hold_out_test, reference_mask

__all__ = [
    "DEFAULT_N_SAMPLES",
    "REFERENCE_SIZE",
    "TEST_SIZE",
    "DataError",
    "DataTooSmallError",
    "attacker_pool_labels",
    "check_dataset",
    "load_dataset",
]

#: Share of the records held out for test accuracy (the pool protocol's split).
TEST_SIZE = 0.2
#: Share of the pool reserved as the reference set of the defences that take one.
REFERENCE_SIZE = 0.1
#: The loader of each file format, a function of :mod:`wsmooth.datasets`.
LOADERS = {
    "purchase100": "load_purchase100",
    "texas100": "load_texas100",
    "location30": "load_location30",
    "cifar10": "load_cifar10",
    "cifar100": "load_cifar100",
    "npz": "load_npz",
    "csv": "load_csv",
}
#: Images among the data sets: they train a CNN by default.
IMAGE_DATASETS = ("digits", "cifar10", "cifar100")


class DataError(ValueError):
    """Data that cannot be read, or cannot run the comparison."""


class DataTooSmallError(DataError):
    """Data with too few classes, or too few records per class, for the pool
    protocol: more records (or fewer classes) would do."""


def _one_line(text):
    return " ".join(str(text).split())


def load_dataset(name, path=None, *, n_samples=None, n_classes=10, random_state=0,
                 csv_header="infer"):
    """Load a data set by the name the ``wsmooth`` command gives it.

    Parameters
    ----------
    name : str
        ``"purchase-like"`` (generated) or ``"digits"`` (scikit-learn's),
        which take no ``path``; or a file format read from ``path``:
        ``"purchase100"``, ``"texas100"``, ``"location30"``, ``"cifar10"``,
        ``"cifar100"``, ``"npz"`` (arrays ``X`` and ``y``) or ``"csv"``
        (label last).
    path : str or path-like, default=None
        The local copy of the data for a file format (``~`` is expanded;
        nothing is downloaded).
    n_samples : int, default=None
        Records: generated (purchase-like, default 2500), or drawn, stratified,
        from digits or the file (default: all).
    n_classes : int, default=10
        Classes of the generated purchase-like data.
    random_state : int, default=0
        Seed of the generated data and of the records drawn.
    csv_header : {"infer", True, False}, default="infer"
        Whether the first line of a csv file is a header.

    Returns
    -------
    X : ndarray of shape (n_records, n_features) or (n_records, C, H, W)
        float32 features; CIFAR's pixels scaled to [0, 1].
    y : ndarray of shape (n_records,)
    description : str
        The data in a few words, e.g. ``"digits (scikit-learn), 1797
        records, 10 classes"``.

    Raises
    ------
    DataError
        When the file cannot be read, or holds features that are not numeric
        or not of shape (n, d) or (n, C, H, W).
    """
    from .. import datasets

    if name not in DATA_EMBEDDED + DATA_FILES:
        raise ValueError(
            f"unknown data {name!r}; choose one of {', '.join(DATA_EMBEDDED)} "
            f"(embedded) or a file format among {', '.join(DATA_FILES)}"
        )
    if name == "purchase-like":
        n = DEFAULT_N_SAMPLES if n_samples is None else n_samples
        X, y = datasets.make_purchase_like(n, n_classes=n_classes,
                                           random_state=random_state)
        return X, y, f"Purchase-like (embedded), {n} records, {n_classes} classes"
    if name == "digits":
        from sklearn.datasets import load_digits
        from sklearn.utils import resample

        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        if n_samples is not None and n_samples < len(y):
            X, y = resample(X, y, n_samples=n_samples, replace=False,
                            random_state=random_state, stratify=y)
        return X, y, f"digits (scikit-learn), {len(y)} records, 10 classes"
    loader = getattr(datasets, LOADERS[name])
    options = {}
    if name == "csv":
        options["header"] = csv_header
    try:
        X, y = loader(os.path.expanduser(path), return_X_y=True,
                      n_samples=n_samples, random_state=random_state, **options)
    except OverflowError:
        raise DataError(
            f"cannot read {name} data from {path}: a label is too large for a "
            "64-bit integer; labels must be integer classes"
        ) from None
    except Exception as exc:  # noqa: BLE001 - e.g. csv.Error: one line
        # the loaders name the file and what is wrong: keep to their message
        message = _one_line(exc) or type(exc).__name__
        # the loaders' messages often begin with the file: say it once
        full = os.path.expanduser(path)
        for lead in (f"Cannot read {full}: ", f"{full}: "):
            if message.startswith(lead):
                message = message[len(lead):]
        # this function's spelling of the loader's header argument
        message = message.replace(
            "pass header=True or header=False",
            "pass csv_header=True or csv_header=False",
        )
        raise DataError(f"cannot read {name} data from {path}: {message}") from None
    if X.ndim != 2 and X.ndim != 4:
        raise DataError(
            f"{name} data from {path}: expected features of shape (n, d) or "
            f"(n, C, H, W), got {X.shape}"
        )
    if X.dtype.kind not in "biuf":
        raise DataError(
            f"{name} data from {path}: features must be numeric, got {X.dtype}"
        )
    with np.errstate(over="ignore"):  # beyond float32: inf, refused by check_dataset
        X = X.astype(np.float32, copy=False)
    if name in ("cifar10", "cifar100") and X.max(initial=0) > 1:
        X = X / np.float32(255)
    n_found = len(np.unique(y))
    return X, y, f"{name} ({path}), {len(y)} records, {n_found} classes"


def attacker_pool_labels(y, *, random_state=0, test_size=TEST_SIZE,
                         reference_size=None):
    """The labels of the attacker's pool: what the test split and, when a
    defence takes one, the reference set leave.

    Parameters
    ----------
    y : array-like of shape (n_records,)
    random_state : int, default=0
        The seed of the test / pool split (and of the reference set).
    test_size : float or int, default=0.2
    reference_size : float or int, default=None
        The share of the pool reserved as a reference set; None reserves none.

    Returns
    -------
    ndarray
        The pool's labels, in the runner's order.
    """
    y = np.asarray(y)
    _, y_pool, _, _ = hold_out_test(
        np.arange(len(y)), y, test_size=test_size, random_state=random_state
    )
    if reference_size is not None:
        y_pool = y_pool[~reference_mask(y_pool, reference_size, random_state)]
    return y_pool


def check_dataset(X, y, *, source, random_state=0, test_size=TEST_SIZE,
                  reference_size=None):
    """Check that data can run the comparison, before any training.

    Parameters
    ----------
    X : ndarray of shape (n_records, ...)
    y : array-like of shape (n_records,)
    source : str
        The data as the messages name them, e.g. ``"csv data from x.csv"``.
    random_state : int, default=0
        The seed that fixes the test / pool split.
    test_size : float or int, default=0.2
        The records held out for test accuracy.
    reference_size : float or int, default=None
        When a defence takes a reference set, the share of the pool reserved
        for it (out of the attacker's population).

    Raises
    ------
    DataTooSmallError
        A single class, or a class with fewer than
        ``MIN_RECORDS_PER_CLASS`` records in the attacker's pool (every
        shadow model trains on half of each class and is calibrated on the
        other half).
    DataError
        Labels that are not integer classes (or class names), non-finite
        features, images stored channels last.
    """
    from ..attacks._base import MIN_RECORDS_PER_CLASS

    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise DataError(
            f"{source}: expected one label per record, got labels of shape "
            f"{y.shape} for {len(X)} records"
        )
    if y.dtype.kind == "f" or y.dtype.kind == "c":
        finite = np.isfinite(y)
        if not finite.all():
            raise DataError(
                f"{source}: {np.count_nonzero(~finite)} label(s) are NaN or "
                "infinite; labels must be integer classes"
            )
        whole = bool((y == np.round(y.real)).all()) if y.dtype.kind == "f" else False
        raise DataError(
            f"{source}: labels are {y.dtype} numbers, not integer classes"
            + ("; save them as integers (y.astype(np.int64))" if whole else
               f", e.g. {y[y != np.round(y.real)][0].item()!r}")
        )
    if y.dtype.kind in "OUS":
        labels = np.unique(y.astype(str))
        numeric = [lab for lab in labels if _is_number(lab) and not _is_integer(lab)]
        if numeric:
            raise DataError(
                f"{source}: labels such as {str(numeric[0])!r} are numbers but not "
                "integers; labels must be integer classes or class names"
            )
    elif y.dtype.kind not in "iub":
        raise DataError(f"{source}: labels must be integer classes, got {y.dtype}")
    if X.ndim == 4 and X.shape[3] in (1, 3, 4) and X.shape[1] not in (1, 3, 4):
        raise DataError(
            f"{source}: the images have shape {X.shape[1:]}, channels last "
            "(N, H, W, C); the networks take channels first (N, C, H, W): save "
            "X.transpose(0, 3, 1, 2)"
        )
    finite = np.isfinite(X)
    if not finite.all():
        rows = np.flatnonzero(~finite.reshape(len(X), -1).all(axis=1))
        raise DataError(
            f"{source}: {len(rows)} record(s) have NaN or infinite features (or "
            f"values beyond float32's range), e.g. record {rows[0]}"
        )
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        what = (f"a single class ({classes[0].item()!r})" if len(classes)
                else "no records")
        raise DataTooSmallError(f"{source} holds {what}; membership inference "
                                "needs at least 2 classes")
    y_pool = attacker_pool_labels(y, random_state=random_state, test_size=test_size,
                                  reference_size=reference_size)
    held = f"{test_size:.0%} of the records are held out for testing"
    if reference_size is not None:
        held += (f", {reference_size:.0%} of the rest reserved as the defences' "
                 "reference set")
    pool_classes, pool_counts = np.unique(y_pool, return_counts=True)
    in_pool = dict(zip(pool_classes.tolist(), pool_counts.tolist(), strict=True))
    found = np.array([in_pool.get(c, 0) for c in classes.tolist()])
    small = found < MIN_RECORDS_PER_CLASS
    if small.any():
        shown = ", ".join(
            f"class {c!r} has {n} (of {t})" for c, n, t in
            zip(classes[small][:3].tolist(), found[small][:3].tolist(),
                counts[small][:3].tolist(), strict=True)
        )
        extra = int(small.sum()) - 3
        more = ""
        if extra > 0:
            more = f" and {extra} more class{'es' if extra > 1 else ''}"
        raise DataTooSmallError(
            f"{source}: too few records per class: {shown}{more} in the "
            f"attacker's pool; every class needs at least {MIN_RECORDS_PER_CLASS} "
            f"there ({held}, "
            "and each shadow model trains on half of every class and is "
            "calibrated on the other half)"
        )


def _is_integer(text):
    return text.strip().lstrip("+-").isdigit()


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True
