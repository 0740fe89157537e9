"""The pool protocol (Carlini et al. 2022) as one call: :func:`pool_split`."""

from typing import NamedTuple

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_consistent_length

from ..utils._stratified import stratified_split

__all__ = ["PoolSplit", "pool_split"]


class PoolSplit(NamedTuple):
    """What :func:`pool_split` returns (a named tuple: unpack or use names).

    Attributes
    ----------
    X_pool, y_pool : ndarray
        The attacker's pool: every record, to ``fit`` the attack on.
    X_members, y_members : ndarray
        The target's training set, inside the pool.
    X_nonmembers, y_nonmembers : ndarray
        Pool records held out of the target's training set.
    member_mask : ndarray of bool of shape (n_pool,)
        True for the pool records the target trains on.
    """

    X_pool: np.ndarray
    y_pool: np.ndarray
    X_members: np.ndarray
    y_members: np.ndarray
    X_nonmembers: np.ndarray
    y_nonmembers: np.ndarray
    member_mask: np.ndarray


def pool_split(X, y, *, member_fraction=0.5, stratify=True, random_state=None):
    """Split records for the pool protocol, where online attacks run online.

    The target trains on ``member_fraction`` of the records; the attack is fit
    on all of them (the pool), so its shadow models see every queried record
    IN half of them, and a query of members against non-members is scored by
    the online LiRA and RMIA throughout. With ``member_fraction=0.5`` (the
    default) it is Carlini et al.'s setup: the target is one more model
    trained on a random half of the pool, like each shadow model.

    Parameters
    ----------
    X : array-like of shape (n_records, ...)
    y : array-like of shape (n_records,)
    member_fraction : float in (0, 1), default=0.5
        Share of the records the target trains on.
    stratify : bool, default=True
        Keep each class's share among members and non-members, when every
        class has at least 2 records (else the split is plain random).
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    PoolSplit
        ``(X_pool, y_pool, X_members, y_members, X_nonmembers, y_nonmembers,
        member_mask)``.

    Examples
    --------
    >>> from wsmooth.attacks import MembershipInferenceAttack, pool_split
    >>> split = pool_split(X, y, random_state=0)  # doctest: +SKIP
    >>> target.fit(split.X_members, split.y_members)  # doctest: +SKIP
    >>> mia = MembershipInferenceAttack(target, method="lira")  # doctest: +SKIP
    >>> mia.fit(split.X_pool, split.y_pool).evaluate(  # doctest: +SKIP
    ...     split.X_members, split.y_members, split.X_nonmembers, split.y_nonmembers
    ... ).variant
    'online'
    """
    X, y = np.asarray(X), np.asarray(y)
    check_consistent_length(X, y)
    if isinstance(member_fraction, bool) or not 0 < float(member_fraction) < 1:
        raise ValueError(f"member_fraction must lie in (0, 1), got {member_fraction!r}")
    n = len(y)
    n_members = int(round(member_fraction * n))
    if not 0 < n_members < n:
        raise ValueError(
            f"{n} records are too few to split with member_fraction="
            f"{member_fraction}: both members and non-members are needed."
        )
    members, _ = stratified_split(
        np.arange(n),
        strata=y if stratify else None,
        random_state=check_random_state(random_state),
        train_size=n_members,
    )
    mask = np.zeros(n, dtype=bool)
    mask[members] = True
    return PoolSplit(X, y, X[mask], y[mask], X[~mask], y[~mask], mask)
