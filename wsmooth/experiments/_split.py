"""The pool protocol's splits (Carlini et al., IEEE S&P 2022).

:func:`hold_out_test` sets a held-out test set aside once (for accuracy
only); the rest is the attacker's pool. :func:`member_mask` then picks, per
seed, the half of the pool the target trains on: its members; the other half
are its non-members. Shadow models train on other random halves of the same
pool. When a defence takes a reference set of non-members,
:func:`reference_mask` first reserves a slice of the pool for it: those
records are neither members nor non-members (nor in the attacker's
population), so that the defence never holds out records that would then be
labelled members. The stratified draws themselves are
:mod:`wsmooth.utils._stratified`'s.
"""

import numpy as np

from ..utils._stratified import class_codes, half_of_every_class, stratified_split

__all__ = ["hold_out_test", "member_mask", "reference_mask"]


def hold_out_test(X, y, *, test_size, random_state):
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

    Examples
    --------
    >>> import numpy as np
    >>> from wsmooth.experiments import hold_out_test
    >>> X, y = np.arange(20).reshape(10, 2), np.array([0, 1] * 5)
    >>> X_pool, y_pool, X_test, y_test = hold_out_test(
    ...     X, y, test_size=0.2, random_state=0)
    >>> len(y_pool), sorted(y_test.tolist())
    (8, [0, 1])
    """
    X, y = np.asarray(X), np.asarray(y)
    X_pool, X_test, y_pool, y_test = stratified_split(
        X, y, strata=y, random_state=random_state, test_size=test_size
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
    y_pool = np.asarray(y_pool)
    codes = class_codes(y_pool, y_pool.size)
    rng = np.random.default_rng([int(seed), 0x5EED])
    return half_of_every_class(codes, rng, odd="balanced")


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
    _, chosen = stratified_split(
        np.arange(len(y_pool)),
        strata=y_pool,
        random_state=random_state,
        test_size=reference_size,
    )
    mask = np.zeros(len(y_pool), dtype=bool)
    mask[chosen] = True
    return mask
