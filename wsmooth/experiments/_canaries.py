"""Canaries: deliberately exposed records that measure worst-case leakage.

Population figures average over records, and most records leak little; the
most exposed ones (mislabelled, out of distribution) can leak an order of
magnitude more (Aerni, Zhang & Tramer, CCS 2024). A *canary* is such a record,
added to the experiment on purpose: per seed, half of the canaries are IN the
target's training set and half OUT, and they join the attacker's pool, so
every shadow model trains on a random half of them as it does for ordinary
records. Attacking IN canaries against OUT canaries gives the canary figures,
reported beside the population's.

Kinds (:data:`KINDS`):

``"mislabelled"``
    Copies of distinct records of the pool, each with its label changed to
    another class drawn uniformly. The ordinary record keeps its own label:
    the canary is the pair (row, wrong label). Only records whose row no
    other record shares are copied, so no two canaries are the same record.
``"duplicated"``
    Ordinary records that the target trains on :data:`DUPLICATE_COPIES`
    times when they are IN: distinct records of the pool (rows no other
    record shares) among the target's non-members, with their own labels.
    In the canary twin they leave the ordinary records (the attacker's pool
    holds each once, as a canary) and an OUT one is trained on by no model
    of the target's. The shadow models train on one copy: the attacker does
    not know a record's multiplicity in the training set, so the figure is
    what duplication exposes to an attack calibrated on single records.
``"ood"``
    Out-of-distribution records with a uniformly drawn class. Tabular data
    (2-d ``X``): each feature drawn uniformly from the pool's range of that
    feature (the feature box), or as a fair 0/1 bit where the pool's feature
    only takes the values 0 and 1. Images (``X`` of 3 or more dimensions):
    uniform noise over the pool's range of values. No canary repeats a row
    of the pool or another canary (a tiny feature space fails with a
    ValueError rather than give duplicates).

Canaries are drawn per seed from their own random stream, so the ordinary
records' split (the test set, the target's members, the reference set) is the
same with and without canaries.

Resolution: with ``n_out`` OUT canaries per seed, the smallest non-zero
false-positive rate is ``1 / n_out``, and a TPR at an FPR level is read at
the ROC points strictly below the level (LiRA's convention, as for the
population): a level at or below ``1 / n_out`` gives the TPR at FPR 0.
100 canaries (50 OUT) resolve levels above 2%; a canary TPR at 1% FPR
needs at least 202 canaries (101 OUT), at 0.1% at least 2002.
"""

import math
import warnings
from numbers import Integral

import numpy as np

__all__ = [
    "DEFAULT_KIND",
    "DUPLICATE_COPIES",
    "KINDS",
    "canary_copies",
    "check_canaries",
    "make_canaries",
    "records_outside",
]

#: The kinds of canaries, see the module docstring.
KINDS = ("mislabelled", "duplicated", "ood")
#: How many times the target trains on an IN ``"duplicated"`` canary.
DUPLICATE_COPIES = 4
#: The kind of ``canaries=N``.
DEFAULT_KIND = "mislabelled"
# the canaries' own stream, apart from the members' ([seed, 0x5EED])
_STREAM = 0xCA7A


def check_canaries(canaries, n_pool=None):
    """``(n, kind)`` from the ``canaries`` argument, or None for no canaries.

    Parameters
    ----------
    canaries : None, int or (int, str)
        The number of canaries per seed, of the default kind
        (:data:`DEFAULT_KIND`), or a pair ``(number, kind)``.
    n_pool : int, default=None
        The ordinary records of the attacker's pool; when given, the number
        is checked against it: at most half the pool, so that canaries never
        outnumber the ordinary records a model trains on.

    Returns
    -------
    tuple (int, str) or None

    Raises
    ------
    ValueError
        For anything else, a number below 2 (one IN and one OUT canary are
        needed), an unknown kind or too many canaries for the pool.
    """
    if canaries is None:
        return None
    if isinstance(canaries, tuple | list):
        if len(canaries) != 2:
            raise ValueError(
                "canaries must be None, a number or a pair (number, kind); "
                f"got {canaries!r}"
            )
        n, kind = canaries
    else:
        n, kind = canaries, DEFAULT_KIND
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise ValueError(f"the number of canaries must be an integer; got {n!r}")
    n = int(n)
    if n < 2:
        raise ValueError(
            f"the number of canaries must be at least 2 (half IN the target's "
            f"training set, half OUT); got {n}"
        )
    if kind not in KINDS:
        raise ValueError(f"unknown canary kind {kind!r}; choose one of {list(KINDS)}")
    if n_pool is not None and n > n_pool // 2:
        raise ValueError(
            f"{n} canaries are too many for a pool of {n_pool} records: at most "
            f"{n_pool // 2} (half the pool), so that canaries never outnumber "
            "the ordinary records a model trains on"
        )
    return n, kind


def canary_copies(kind):
    """How many times the target trains on an IN canary of ``kind``."""
    return DUPLICATE_COPIES if kind == "duplicated" else 1


def make_canaries(X_pool, y_pool, n, kind, seed, members=None):
    """One seed's canaries and which of them the target trains on.

    Parameters
    ----------
    X_pool : ndarray of shape (n_pool, ...)
    y_pool : ndarray of shape (n_pool,)
        The ordinary records of the attacker's pool (they are not altered).
    n : int
        Number of canaries (checked by :func:`check_canaries`).
    kind : {"mislabelled", "duplicated", "ood"}
    seed : int
        The experiment's seed; the canaries' stream is derived from it.
    members : ndarray of bool of shape (n_pool,), default=None
        The target's members among the pool's records; ``"duplicated"``
        canaries are drawn among the others and need it.

    Returns
    -------
    X_canaries : ndarray of shape (n, ...)
        Of the pool's dtype.
    y_canaries : ndarray of shape (n,)
        Classes of the pool.
    in_target : ndarray of bool of shape (n,)
        True for the ``n // 2`` canaries the target trains on.
    """
    X_pool, y_pool = np.asarray(X_pool), np.asarray(y_pool)
    rng = np.random.default_rng([int(seed), _STREAM])
    classes, codes = np.unique(y_pool, return_inverse=True)
    codes = codes.ravel()
    if kind == "mislabelled":
        if len(classes) < 2:
            raise ValueError("mislabelled canaries need at least 2 classes in the pool")
        source = rng.choice(_single_rows(X_pool, n, kind), size=n, replace=False)
        shift = rng.integers(1, len(classes), size=n)  # never the true class
        X = X_pool[source].copy()
        y = classes[(codes[source] + shift) % len(classes)]
    elif kind == "duplicated":
        if members is None:
            raise ValueError("duplicated canaries are drawn among the target's "
                             "non-members: pass members")
        members = np.asarray(members, dtype=bool)
        if members.shape != y_pool.shape:
            raise ValueError(
                f"members must have one entry per pool record ({len(y_pool)}), "
                f"got shape {members.shape}"
            )
        outside = _single_rows(X_pool, n, kind)
        outside = outside[~members[outside]]
        if outside.size < n:
            _too_few(outside.size, n, kind, "non-members of the target have")
        source = rng.choice(outside, size=n, replace=False)
        X, y = X_pool[source].copy(), y_pool[source].copy()
    elif kind == "ood":
        X, y = _distinct_ood(X_pool, classes, n, rng)
    else:
        raise ValueError(f"unknown canary kind {kind!r}; choose one of {list(KINDS)}")
    in_target = np.zeros(n, dtype=bool)
    in_target[rng.permutation(n)[: n // 2]] = True
    return X, y, in_target


def _single_rows(X_pool, n, kind):
    """Indices of the pool records whose row no other record shares: a copy
    of one is unlike every ordinary record and every other canary (a copy IN
    beside an identical copy OUT would make membership undefined)."""
    _, inverse, counts = np.unique(
        _row_keys(X_pool), return_inverse=True, return_counts=True
    )
    single = np.flatnonzero(counts[inverse.ravel()] == 1)
    if single.size < n:
        _too_few(single.size, n, kind, "records of the pool have")
    return single


def _too_few(available, n, kind, what):
    raise ValueError(
        f"only {available} {what} a row no other record shares: too few for "
        f"{n} {kind} canaries"
    )


def records_outside(X_pool, y_pool, X_canaries, y_canaries):
    """True for the pool records equal to no canary (same row, same label).

    A ``"duplicated"`` canary is a record of the pool: in the canary twin
    the pool gives it up, so that the attacker's pool holds each record once
    and no ordinary copy of a canary is trained on beside it. Other kinds
    equal no record of the pool, and every record is kept.

    Returns
    -------
    ndarray of bool of shape (n_pool,)
    """
    y_all = np.concatenate([np.asarray(y_pool), np.asarray(y_canaries)])
    _, codes = np.unique(y_all, return_inverse=True)
    X_all = np.concatenate([np.asarray(X_pool), np.asarray(X_canaries)])
    flat = X_all.reshape(len(X_all), -1).astype("<f8")
    keys = _row_keys(np.column_stack([flat, codes.ravel()]))
    n_pool = len(y_pool)
    return ~np.isin(keys[:n_pool], keys[n_pool:])


def _row_keys(X):
    """One comparable key per row (byte-identical rows, equal keys)."""
    rows = np.ascontiguousarray(np.asarray(X, dtype="<f8").reshape(len(X), -1) + 0.0)
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()


def _distinct_ood(X_pool, classes, n, rng, tries=20):
    """``n`` out-of-distribution records, none equal to a pool row or to
    another canary (a small feature space may need a few redraws)."""
    X = _out_of_distribution(X_pool, n, rng)
    y = classes[rng.integers(0, len(classes), size=n)]
    taken = _row_keys(X_pool)
    for _ in range(tries):
        keys = _row_keys(X)
        clash = np.ones(n, dtype=bool)
        clash[np.unique(keys, return_index=True)[1]] = False  # later copies
        clash |= np.isin(keys, taken)
        if not clash.any():
            return X, y
        X[clash] = _out_of_distribution(X_pool, int(clash.sum()), rng)
    raise ValueError(
        f"cannot draw {n} out-of-distribution canaries unlike every record of "
        "the pool and each other: the feature space is too small"
    )


def _out_of_distribution(X_pool, n, rng):
    """``n`` rows from the pool's feature box (tabular) or noise images."""
    shape = (n, *X_pool.shape[1:])
    if X_pool.ndim >= 3:  # images: uniform noise over the pool's value range
        low, high = float(X_pool.min()), float(X_pool.max())
        X = rng.uniform(low, high, size=shape)
    else:
        low = X_pool.min(axis=0).astype(np.float64)
        high = X_pool.max(axis=0).astype(np.float64)
        binary = np.all((X_pool == 0) | (X_pool == 1), axis=0)
        X = rng.uniform(low, high, size=shape)
        X[:, binary] = rng.integers(0, 2, size=(n, int(binary.sum())))
    if np.issubdtype(X_pool.dtype, np.integer):
        X = np.rint(X)
    return X.astype(X_pool.dtype, copy=False)


def resolution_warning(n, levels):
    """Warn when FPR ``levels`` are not above what ``n`` canaries resolve.

    A level is resolved when some ROC point lies strictly between 0 and it,
    that is when ``1 / n_out < level``.
    """
    n_out = n - n // 2
    below = sorted(level for level in levels if level <= 1.0 / n_out)
    if below:
        shown = ", ".join(f"{level:.3g}" for level in below)
        needed = 2 * (math.floor(1 / below[0]) + 1)
        warnings.warn(
            f"{n} canaries leave {n_out} OUT canaries per seed: FPRs at or below "
            f"1/{n_out} = {1 / n_out:.3g} cannot be measured, so the canary TPR "
            f"at FPR {shown} is the TPR at FPR 0 (no OUT canary flagged). Use "
            f"at least {needed} canaries to resolve FPR {below[0]:.3g}.",
            UserWarning,
            stacklevel=4,  # past resolution_warning, run_experiment, validate_params
        )
