"""The pool protocol's splits (Carlini et al., IEEE S&P 2022).

:func:`pool_split` sets a held-out test set aside once (for accuracy only);
the rest is the attacker's pool. :func:`member_mask` then picks, per seed, the
half of the pool the target trains on: its members; the other half are its
non-members. Shadow models train on other random halves of the same pool.
When a defence takes a reference set of non-members, :func:`reference_mask`
first reserves a slice of the pool for it: those records are neither members
nor non-members (nor in the attacker's population), so that the defence never
holds out records that would then be labelled members.
"""

import numpy as np
from sklearn.model_selection import train_test_split

__all__ = ["member_mask", "pool_split", "reference_mask"]


def pool_split(X, y, *, test_size, random_state):
    """Split ``(X, y)`` into the attacker's pool and a held-out test set.

    Stratified by class when every class has at least two records.

    Parameters
    ----------
    X : array-like of shape (n_records, ...)
    y : array-like of shape (n_records,)
    test_size : float or int
        Fraction (or number) of records held out for test accuracy.
    random_state : int, RandomState instance or None

    Returns
    -------
    X_pool, y_pool, X_test, y_test : ndarray
    """
    X, y = np.asarray(X), np.asarray(y)
    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 else None
    try:
        X_pool, X_test, y_pool, y_test = train_test_split(
            X, y, test_size=test_size, stratify=stratify, random_state=random_state
        )
    except ValueError:  # too few test records for one per class
        X_pool, X_test, y_pool, y_test = train_test_split(
            X, y, test_size=test_size, random_state=random_state
        )
    return X_pool, y_pool, X_test, y_test


def member_mask(y_pool, seed):
    """The target's members in the pool for one seed: half of every class.

    Each class contributes ``n_c // 2`` records; of the classes with an odd
    count, a random half contributes one more, so there are exactly
    ``len(y_pool) // 2`` members and the rest are non-members.

    Parameters
    ----------
    y_pool : array-like of shape (n_pool,)
    seed : int

    Returns
    -------
    ndarray of bool of shape (n_pool,)
        True for the target's training records.
    """
    _, codes = np.unique(np.asarray(y_pool), return_inverse=True)
    codes = codes.ravel()
    n = codes.shape[0]
    rng = np.random.default_rng([int(seed), 0x5EED])
    counts = np.bincount(codes)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    order = np.lexsort((rng.random(n), codes))
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.arange(n) - starts[codes[order]]
    size = counts // 2
    odd = np.flatnonzero(counts % 2)
    size[rng.permutation(odd)[: odd.size // 2]] += 1
    return rank < size[codes]


def reference_mask(y_pool, reference_size, random_state):
    """The pool's records reserved as the defences' reference set.

    A stratified sample (by class, when every class has at least two records
    and the sample can hold one of each; a plain random sample otherwise),
    the same for every seed.

    Parameters
    ----------
    y_pool : array-like of shape (n_pool,)
    reference_size : float or int
        Fraction (or number) of the pool reserved.
    random_state : int, RandomState instance or None

    Returns
    -------
    ndarray of bool of shape (n_pool,)
        True for the reference records.
    """
    y_pool = np.asarray(y_pool)
    index = np.arange(len(y_pool))
    _, counts = np.unique(y_pool, return_counts=True)
    stratify = y_pool if counts.min() >= 2 else None
    try:
        _, chosen = train_test_split(
            index, test_size=reference_size, stratify=stratify,
            random_state=random_state,
        )
    except ValueError:  # too small a reference set for one record per class
        _, chosen = train_test_split(
            index, test_size=reference_size, random_state=random_state
        )
    mask = np.zeros(len(y_pool), dtype=bool)
    mask[chosen] = True
    return mask
