"""A leakage scorer for GridSearchCV and a refit rule that bounds leakage."""

import warnings
from numbers import Real

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._signals import SIGNALS
from ..utils import class_index
from ..utils._sklearn_compat import Interval, StrOptions, validate_params
from ._figures import membership_advantage, membership_auc, tpr_at_fpr

__all__ = ["make_membership_scorer", "most_accurate_under_leakage"]

_METRICS = ("auc", "advantage", "tpr_at_fpr")


class _MembershipScorer:
    """Callable ``scorer(estimator, X, y)`` returning a leakage figure."""

    def __init__(self, signal, metric, fpr):
        self.signal = signal
        self.metric = metric
        self.fpr = fpr

    def __repr__(self):
        extra = f", fpr={self.fpr}" if self.metric == "tpr_at_fpr" else ""
        return (
            f"make_membership_scorer(signal={self.signal!r}, "
            f"metric={self.metric!r}{extra})"
        )

    def __call__(self, estimator, X, y, sample_weight=None):
        model = estimator[-1] if isinstance(estimator, Pipeline) else estimator
        check_is_fitted(model)
        member_proba = getattr(model, "member_proba_", None)
        member_labels = getattr(model, "member_labels_", None)
        if member_proba is None or member_labels is None:
            raise ValueError(
                f"{type(model).__name__} recorded no outputs on its training records "
                "(member_proba_ and member_labels_); the leakage scorer needs an "
                "estimator that keeps them during fit, such as "
                "WeightedSmoothingClassifier. A model loaded from a pickle does not "
                "carry them."
            )
        y = np.asarray(y)
        index = class_index(y, np.asarray(model.classes_))
        if np.any(index < 0):
            unknown = np.unique(y[index < 0])[:10]
            raise ValueError(f"y holds labels unknown to the estimator: {unknown}")
        func, sign = SIGNALS[self.signal]
        members = sign * func(member_proba, member_labels)
        nonmembers = sign * func(estimator.predict_proba(X), index)
        if self.metric == "auc":
            return membership_auc(members, nonmembers)
        if self.metric == "advantage":
            return membership_advantage(members, nonmembers)
        return tpr_at_fpr(members, nonmembers, self.fpr)


@validate_params(
    {
        "signal": [StrOptions(set(SIGNALS))],
        "metric": [StrOptions(set(_METRICS))],
        "fpr": [Interval(Real, 0, 1, closed="right")],
    },
    prefer_skip_nested_validation=True,
)
def make_membership_scorer(signal="mentr", *, metric="auc", fpr=0.01):
    """Scorer that rates how much a fitted model leaks about its training records.

    Inside ``GridSearchCV`` a scorer sees the fitted estimator and the held-out
    fold. The held-out fold are the non-members; the members are the training
    records, read from what the estimator recorded of them during ``fit``
    (``member_proba_`` and ``member_labels_``, which
    :class:`~wsmooth.WeightedSmoothingClassifier` keeps; the final step is used
    when the estimator is a :class:`~sklearn.pipeline.Pipeline`). Those records
    are never pickled, so a saved model carries no per-member data, and a model
    loaded from disk cannot be scored this way.

    The figure is that of a threshold attack on one signal, computed without
    shadow models, which is what a fast tuning loop can afford; report final
    numbers with :class:`~wsmooth.MembershipInferenceAttack`.

    Higher means more leakage. ``GridSearchCV`` ranks greater values first, so
    do not refit on this scorer's rank: use :func:`most_accurate_under_leakage`.

    Parameters
    ----------
    signal : {"mentr", "loss", "confidence", "entropy", "logit_confidence"}, \
            default="mentr"
        Per-record signal the attack thresholds.
    metric : {"auc", "advantage", "tpr_at_fpr"}, default="auc"
        ROC AUC (0.5 = no leakage), membership advantage (max TPR - FPR), or TPR
        at ``fpr``.
    fpr : float in (0, 1], default=0.01
        False-positive rate for ``metric="tpr_at_fpr"``.

    Returns
    -------
    scorer : callable ``scorer(estimator, X, y) -> float``

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from wsmooth import WeightedSmoothingClassifier
    >>> from wsmooth.metrics import (make_membership_scorer,
    ...                              most_accurate_under_leakage)
    >>> search = GridSearchCV(
    ...     WeightedSmoothingClassifier(max_epochs=10),
    ...     {"sigma": [0.0, 0.1, 1.0]},
    ...     scoring={"accuracy": "accuracy",
    ...              "leakage": make_membership_scorer("mentr")},
    ...     refit=most_accurate_under_leakage(0.6))
    """
    return _MembershipScorer(signal, metric, fpr)


def most_accurate_under_leakage(bound, *, leakage="leakage", accuracy="accuracy"):
    """Refit rule for a multi-metric ``GridSearchCV``: best accuracy, leakage bounded.

    Parameters
    ----------
    bound : float
        Largest acceptable mean leakage (as returned by the leakage scorer).
    leakage, accuracy : str
        Keys of the two scorers in ``scoring``.

    Returns
    -------
    refit : callable ``refit(cv_results) -> int``
        Index of the setting with the highest mean accuracy among those whose
        mean leakage is at most ``bound``. When none is, the index of the
        least leaky setting (the most accurate of equally low ones), with a
        ``UserWarning`` naming the bound and that leakage, so that the search
        still refits. Raises ``ValueError`` only when no setting has a known
        (finite) mean leakage.
    """

    def refit(cv_results):
        leak = np.asarray(cv_results[f"mean_test_{leakage}"], dtype=float)
        acc = np.asarray(cv_results[f"mean_test_{accuracy}"], dtype=float)
        allowed = np.flatnonzero(leak <= bound)
        if allowed.size:
            return int(allowed[np.argmax(acc[allowed])])
        known = np.flatnonzero(np.isfinite(leak))
        if known.size == 0:
            raise ValueError(f"no setting has a known mean {leakage}")
        lowest = known[leak[known] == leak[known].min()]
        # NaN accuracies lose the tie-break
        best = int(lowest[np.argmax(np.nan_to_num(acc[lowest], nan=-np.inf))])
        warnings.warn(
            f"no setting has mean {leakage} <= {bound:g}; the least leaky, "
            f"index {best} (mean {leakage} {leak[best]:.4g}), is refitted "
            "instead. Widen the grid or loosen the bound.",
            UserWarning,
            stacklevel=2,
        )
        return best

    refit.__name__ = f"most_accurate_under_leakage({bound})"
    return refit
