"""Membership-leakage figures computed from an attack's membership scores.

Every function takes the scores the attack gave to the true members and to the
true non-members of the target's training set; a higher score means "more likely
a member". Members are the positive class throughout. The ROC maths is
scikit-learn's (:func:`sklearn.metrics.roc_curve`,
:func:`sklearn.metrics.roc_auc_score`); this module only frames it for membership
inference and adds the figures of the field (Carlini et al. 2022, "Membership
Inference Attacks From First Principles"). The reports that gather every
figure at once are :mod:`wsmooth.metrics._reports`'s; the ROC plot is
:mod:`wsmooth.metrics._display`'s.
"""

import math
import numbers
import warnings

import numpy as np
from sklearn.metrics import balanced_accuracy_score, roc_auc_score, roc_curve

from ..utils._sklearn_compat import Interval, validate_params

__all__ = [
    "balanced_accuracy_at_threshold",
    "best_balanced_accuracy",
    "membership_advantage",
    "membership_auc",
    "membership_roc_curve",
    "mean_tpr_at_low_fpr",
    "tpr_at_fpr",
]


# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #
def _check_scores(scores, name):
    """Return `scores` as a finite, non-empty, 1-D float64 array."""
    try:
        arr = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers: {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (one score per record), got an array of shape "
            f"{arr.shape}."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty: at least one score is needed.")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite score(s) "
            f"(first at index {int(np.flatnonzero(bad)[0])}); scores must be finite."
        )
    return arr


def _check_pair(member_scores, nonmember_scores):
    return (
        _check_scores(member_scores, "member_scores"),
        _check_scores(nonmember_scores, "nonmember_scores"),
    )


def _check_fpr_levels(fpr, n_nonmembers, stacklevel):
    """Validate FPR levels in (0, 1]; warn for levels below 1 / n_nonmembers."""
    try:
        levels = np.asarray(fpr, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"fpr levels must be real numbers: {exc}") from exc
    if not np.all((levels > 0) & (levels <= 1)):  # also rejects NaN
        raise ValueError(f"fpr levels must lie in (0, 1], got {levels.tolist()}.")
    below = levels[levels < 1.0 / n_nonmembers]
    if below.size:
        warnings.warn(
            f"FPR level(s) {sorted(set(below.tolist()))} below 1/n_nonmembers = "
            f"1/{n_nonmembers}: the TPR there is 0 or decided by a single record. "
            f"Evaluate on at least {math.ceil(1 / below.min())} non-members.",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
    return levels


def _check_threshold(threshold):
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise ValueError(f"threshold must be a real number, got {threshold!r}.")
    if math.isnan(threshold):
        raise ValueError("threshold must not be NaN.")
    return float(threshold)


# --------------------------------------------------------------------------- #
# Internal computations on validated arrays
# --------------------------------------------------------------------------- #
def _labels_scores(members, nonmembers):
    y_true = np.r_[
        np.ones(members.size, dtype=int), np.zeros(nonmembers.size, dtype=int)
    ]
    return y_true, np.r_[members, nonmembers]


def _roc(members, nonmembers):
    y_true, y_score = _labels_scores(members, nonmembers)
    return roc_curve(y_true, y_score, pos_label=1, drop_intermediate=False)


def _tpr_at(fpr_curve, tpr_curve, levels):
    # ROC points are sorted by FPR and TPR is non-decreasing along them, so the
    # largest TPR with FPR < level (strict, Carlini et al.'s convention) is the
    # last point strictly before the level. The first point has FPR 0 and every
    # level is > 0, so the index is never negative.
    idx = np.searchsorted(fpr_curve, levels, side="left") - 1
    return tpr_curve[idx]


# --------------------------------------------------------------------------- #
# Public figures
# --------------------------------------------------------------------------- #
def membership_roc_curve(member_scores, nonmember_scores):
    """ROC curve of a membership inference attack (members are positive).

    Parameters
    ----------
    member_scores : array-like of shape (n_members,)
        Attack scores of the true members; higher means "member".
    nonmember_scores : array-like of shape (n_nonmembers,)
        Attack scores of the true non-members.

    Returns
    -------
    fpr : ndarray
        False positive rates, increasing, from 0 to 1.
    tpr : ndarray
        True positive rates, non-decreasing, from 0 to 1.
    thresholds : ndarray
        Decreasing thresholds; ``thresholds[0]`` is ``inf`` (nothing flagged).
        Point ``i`` flags records with ``score >= thresholds[i]``.

    Notes
    -----
    Computed by :func:`sklearn.metrics.roc_curve` with
    ``drop_intermediate=False``, so every low-FPR point is kept.
    """
    members, nonmembers = _check_pair(member_scores, nonmember_scores)
    return _roc(members, nonmembers)


def membership_auc(member_scores, nonmember_scores):
    """Area under the membership ROC curve.

    The probability that a random member scores above a random non-member,
    ties counting one half. Chance is 0.5.

    Parameters
    ----------
    member_scores, nonmember_scores : array-like of shape (n,)
        Attack scores of members and non-members.

    Returns
    -------
    float
    """
    members, nonmembers = _check_pair(member_scores, nonmember_scores)
    return float(roc_auc_score(*_labels_scores(members, nonmembers)))


def tpr_at_fpr(member_scores, nonmember_scores, fpr):
    """True positive rate of the attack at a low false positive rate.

    The largest TPR among ROC points whose FPR is *strictly below* the level,
    the convention of Carlini et al. 2022 (their code reads
    ``tpr[np.where(fpr < level)[0][-1]]``), so figures compare with the
    published ones. With ``n`` non-members and ``level * n`` whole, at most
    ``level * n - 1`` non-members are flagged: for ``level=0.001`` and 1000
    non-members that is the TPR at zero false positives. ``level=1`` is the
    largest TPR with at least one non-member left unflagged. An attack at
    chance has TPR about equal to the level.

    Parameters
    ----------
    member_scores, nonmember_scores : array-like of shape (n,)
        Attack scores of members and non-members.
    fpr : float or array-like of float
        FPR level(s), each in (0, 1].

    Returns
    -------
    float or ndarray
        A float for a scalar `fpr`, else an array of `fpr`'s shape.

    Warns
    -----
    UserWarning
        If a level is below ``1 / n_nonmembers``. With ``n`` non-members the
        smallest meaningful level is ``1 / n``: below it no non-member may be
        flagged, so the figure is 0 or decided by a single record.
    """
    members, nonmembers = _check_pair(member_scores, nonmember_scores)
    levels = _check_fpr_levels(fpr, nonmembers.size, stacklevel=2)
    fpr_curve, tpr_curve, _ = _roc(members, nonmembers)
    out = _tpr_at(fpr_curve, tpr_curve, levels)
    return float(out) if out.ndim == 0 else out


@validate_params(
    {
        "member_scores": ["array-like"],
        "nonmember_scores": ["array-like"],
        "fpr_min": [Interval(numbers.Real, 0, 1, closed="right")],
        "fpr_max": [Interval(numbers.Real, 0, 1, closed="right")],
        "n_levels": [Interval(numbers.Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def mean_tpr_at_low_fpr(
    member_scores, nonmember_scores, *, fpr_min=0.001, fpr_max=0.1, n_levels=9
):
    """Mean TPR over FPR levels spaced evenly in log10 over a low-FPR range.

    The levels run from ``fpr_min`` to ``fpr_max``; the mean is a discrete,
    normalised area under the TPR plotted against log FPR on that range:
    each decade weighs alike, so the figure follows
    the low-FPR end of the ROC that the log-log plots show, where a single
    level (TPR at 1% FPR) is blind to what happens at 0.1%. With the
    defaults the 9 levels are ``10 ** linspace(-3, -1, 9)``: 0.1%, 0.18%,
    0.32%, ..., 10%. Each TPR follows :func:`tpr_at_fpr`'s strict
    convention (the largest TPR among ROC points with FPR strictly below the
    level).

    Parameters
    ----------
    member_scores, nonmember_scores : array-like of shape (n,)
        Attack scores of members and non-members.
    fpr_min, fpr_max : float in (0, 1], default=0.001 and 0.1
        The lowest and highest level; ``fpr_min <= fpr_max``.
    n_levels : int, default=9
        Number of levels (1: ``fpr_min`` alone).

    Returns
    -------
    float
        In [0, 1]: 1 for a perfect attack, about the mean of the levels for
        an attack at chance (0.025 with the defaults).

    Notes
    -----
    **Levels below 1 / n_nonmembers** are clamped to ``1 / n_nonmembers``,
    silently. Under the strict convention every level in
    ``(0, 1 / n_nonmembers]`` has the same TPR, the one at zero false
    positives, so clamping does not change the figure; it only says that the
    low end of the range is read where the data resolve it, the TPR at zero
    false positives, rather than dropped (dropping those levels would leave
    only the high-FPR end, the bias this figure is meant to correct).
    :func:`tpr_at_fpr` warns for such levels; this figure serves automatic
    choices (LiRA's ``fixed_variance="auto"``, RMIA's ``temperature="auto"``)
    and does not.
    """
    members, nonmembers = _check_pair(member_scores, nonmember_scores)
    if fpr_min > fpr_max:
        raise ValueError(
            f"fpr_min must not exceed fpr_max, got fpr_min={fpr_min} > "
            f"fpr_max={fpr_max}."
        )
    levels = np.logspace(np.log10(fpr_min), np.log10(fpr_max), n_levels)
    levels = np.maximum(levels, 1.0 / nonmembers.size)
    fpr_curve, tpr_curve, _ = _roc(members, nonmembers)
    return float(np.mean(_tpr_at(fpr_curve, tpr_curve, levels)))


def membership_advantage(member_scores, nonmember_scores):
    """Membership advantage: the largest ``TPR - FPR`` over all thresholds.

    Yeom et al. (2018)'s advantage of the best threshold attack on these
    scores; 0 at chance, 1 for a perfect attack.

    Parameters
    ----------
    member_scores, nonmember_scores : array-like of shape (n,)
        Attack scores of members and non-members.

    Returns
    -------
    float
    """
    members, nonmembers = _check_pair(member_scores, nonmember_scores)
    fpr_curve, tpr_curve, _ = _roc(members, nonmembers)
    return float(np.max(tpr_curve - fpr_curve))


def best_balanced_accuracy(member_scores, nonmember_scores):
    """Best balanced accuracy of a threshold on the scores.

    Balanced accuracy at a threshold is ``(TPR + TNR) / 2 = (1 + TPR - FPR) / 2``,
    so its best value over thresholds is ``(1 + advantage) / 2``. It is an
    optimistic (oracle-threshold) figure; use
    :func:`balanced_accuracy_at_threshold` for a threshold the attack chose.

    Parameters
    ----------
    member_scores, nonmember_scores : array-like of shape (n,)
        Attack scores of members and non-members.

    Returns
    -------
    float
    """
    return (1.0 + membership_advantage(member_scores, nonmember_scores)) / 2.0


def balanced_accuracy_at_threshold(member_scores, nonmember_scores, threshold):
    """Balanced accuracy of predicting "member" when ``score >= threshold``.

    Parameters
    ----------
    member_scores, nonmember_scores : array-like of shape (n,)
        Attack scores of members and non-members.
    threshold : float
        Decision threshold, e.g. one the attack calibrated on shadow models.

    Returns
    -------
    float
        Computed by :func:`sklearn.metrics.balanced_accuracy_score`.
    """
    members, nonmembers = _check_pair(member_scores, nonmember_scores)
    threshold = _check_threshold(threshold)
    y_true, y_score = _labels_scores(members, nonmembers)
    return float(balanced_accuracy_score(y_true, (y_score >= threshold).astype(int)))
