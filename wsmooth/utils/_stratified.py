"""Stratified draws: a share of every class, vectorised.

One place for the two ways the protocol splits records by class:

* :func:`half_of_every_class` (built on :func:`first_per_class`): half of the
  records of every class, from an explicit ``numpy`` generator. The target's
  members in the pool (:func:`wsmooth.experiments.member_mask`) and the
  shadow models' keep masks (:func:`wsmooth.attacks.make_keep_masks`) are
  such halves; a shadow model's reference set is a :func:`first_per_class`
  draw among its OUT records.
* :func:`stratified_split`: scikit-learn's ``train_test_split`` stratified by
  class when every class has at least two records and the split can hold one
  of each, plain random otherwise (the pool split, the held-out test set, the
  defences' reference set).
"""

import numpy as np
from sklearn.model_selection import train_test_split

__all__ = [
    "class_codes",
    "first_per_class",
    "half_of_every_class",
    "stratified_split",
]


def class_codes(y, n_records):
    """Code of each record's class, ``0 .. n_classes - 1`` in sorted order.

    Parameters
    ----------
    y : array-like of shape (n_records,) or None
        Labels; None puts every record in one class.
    n_records : int

    Returns
    -------
    ndarray of int of shape (n_records,)
    """
    if y is None:
        return np.zeros(n_records, dtype=np.intp)
    _, codes = np.unique(np.asarray(y), return_inverse=True)
    codes = codes.ravel()
    if codes.shape[0] != n_records:
        raise ValueError(f"y must have {n_records} entries, got {codes.shape[0]}")
    return codes


def first_per_class(codes, keys, size):
    """True for the ``size[c]`` records of each class ``c`` with the lowest keys.

    With random ``keys`` it is a uniform draw of ``size[c]`` records of each
    class, without a loop over records or classes.

    Parameters
    ----------
    codes : ndarray of int of shape (n_records,)
        Class code of each record (:func:`class_codes`).
    keys : ndarray of shape (n_records,)
        Sort keys, e.g. ``rng.random(n_records)``.
    size : ndarray of int
        How many records each class gives, indexed by code.

    Returns
    -------
    ndarray of bool of shape (n_records,)
    """
    n = codes.shape[0]
    counts = np.bincount(codes)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    order = np.lexsort((keys, codes))
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.arange(n) - starts[codes[order]]
    return rank < size[codes]


def half_of_every_class(codes, rng, *, odd="coin"):
    """A random half of the records of every class.

    Each class gives ``n_c // 2`` records; who gets the odd record of a class
    with an odd count depends on ``odd``. The generator draws the records'
    order first, then the odd records.

    Parameters
    ----------
    codes : ndarray of int of shape (n_records,)
        Class code of each record (:func:`class_codes`).
    rng : numpy.random.Generator
    odd : {"coin", "balanced"}, default="coin"
        ``"coin"``: each odd class gives one more record with probability 1/2,
        independently (the complement of the half is then as likely a half
        as the half itself). ``"balanced"``: a random half of the odd classes
        give one more, so that the half holds exactly ``n_records // 2``
        records.

    Returns
    -------
    ndarray of bool of shape (n_records,)
    """
    counts = np.bincount(codes)
    keys = rng.random(codes.shape[0])
    if odd == "coin":
        size = counts // 2 + (counts % 2) * rng.integers(0, 2, size=counts.shape)
    elif odd == "balanced":
        size = counts // 2
        odd_classes = np.flatnonzero(counts % 2)
        size[rng.permutation(odd_classes)[: odd_classes.size // 2]] += 1
    else:
        raise ValueError(f"odd must be 'coin' or 'balanced', got {odd!r}")
    return first_per_class(codes, keys, size)


def stratified_split(*arrays, strata, random_state, **sizes):
    """``train_test_split`` stratified by ``strata`` where it can be.

    Stratified when ``strata`` is given and each of its classes has at least
    two records; plain random when not, or when the split is too small to
    hold one record of every class.

    Parameters
    ----------
    *arrays : array-like
        Passed to :func:`sklearn.model_selection.train_test_split`.
    strata : array-like of shape (n_records,) or None
        The labels to stratify by; None for a plain random split.
    random_state : int, RandomState instance or None
    **sizes
        ``test_size`` and/or ``train_size``.

    Returns
    -------
    list
        What :func:`~sklearn.model_selection.train_test_split` returns.
    """
    if strata is not None:
        _, counts = np.unique(strata, return_counts=True)
        if counts.min() < 2:
            strata = None
    try:
        return train_test_split(
            *arrays, stratify=strata, random_state=random_state, **sizes
        )
    except ValueError:  # too few records on one side for one per class
        return train_test_split(*arrays, random_state=random_state, **sizes)
