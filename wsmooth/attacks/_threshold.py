"""Threshold attacks: correctness, global loss threshold, class-dependent thresholds.

Calibration picks, on shadow members versus shadow non-members, the threshold
``t`` on a "higher = member" score that maximises the *balanced accuracy*
``(TPR + TNR) / 2`` of the rule "member if score >= t" (Song & Mittal's
criterion; with the half/half shadow splits used here members and non-members
are equally many, so it is also the plain accuracy). The search is exhaustive
and vectorised: values are sorted once per class and the rates at every
distinct value come from cumulative sums.
"""

import numpy as np
from sklearn.utils._param_validation import StrOptions

from .._signals import SIGNALS
from ._methods import AttackMethod, register_method

__all__ = [
    "best_threshold",
    "class_thresholds",
    "CorrectnessAttack",
    "ThresholdAttack",
]


def _check_scores(scores, membership):
    scores = np.asarray(scores, dtype=np.float64).ravel()
    membership = np.asarray(membership).ravel().astype(bool)
    if scores.shape != membership.shape:
        raise ValueError(
            f"scores and membership have different lengths: "
            f"{scores.shape[0]} != {membership.shape[0]}"
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite to calibrate a threshold")
    return scores, membership


def _grouped_best(scores, membership, groups, n_groups):
    """Best threshold per group, vectorised over records and groups.

    Returns ``thresholds, balanced_accuracy, valid`` (each of shape
    ``(n_groups,)``); ``valid`` is False for a group lacking members or
    non-members (its threshold is NaN there).
    """
    order = np.lexsort((scores, groups))
    s, g, m = scores[order], groups[order], membership[order]
    n = s.shape[0]
    n_mem = np.bincount(g, weights=m, minlength=n_groups)
    n_non = np.bincount(g, weights=~m, minlength=n_groups)
    valid = (n_mem > 0) & (n_non > 0)

    # Members / non-members of the same group strictly below position i.
    mem_before = np.cumsum(m) - m
    non_before = np.cumsum(~m) - ~m
    mem_offset = np.concatenate(([0.0], np.cumsum(n_mem)[:-1]))
    non_offset = np.concatenate(([0.0], np.cumsum(n_non)[:-1]))
    mem_below = mem_before - mem_offset[g]
    non_below = non_before - non_offset[g]

    # Candidate thresholds: each distinct value of a group (the rule
    # "score >= value" puts everything below it on the non-member side). The
    # first value of a group is the trivial "all members" rule (balanced
    # accuracy 0.5), which is also what "no members" scores.
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = g[1:] != g[:-1]
    first = new_group.copy()
    first[1:] |= s[1:] != s[:-1]
    cand = np.flatnonzero(first)
    gc = g[cand]
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = (n_mem[gc] - mem_below[cand]) / n_mem[gc]
        tnr = non_below[cand] / n_non[gc]
    objective = np.where(valid[gc], 0.5 * (tpr + tnr), -np.inf)

    # The threshold placed midway between the candidate and the previous
    # distinct value of its group, so it generalises symmetrically.
    value = s[cand]
    prev = np.where(new_group[cand], value, s[np.maximum(cand - 1, 0)])
    mid = prev + 0.5 * (value - prev)
    mid = np.where(mid > prev, mid, value)  # adjacent floats: keep the value

    # Per group, the best candidate; ties go to the lowest threshold.
    pick = np.lexsort((cand, -objective, gc))
    gp = gc[pick]
    head = np.ones(pick.shape[0], dtype=bool)
    head[1:] = gp[1:] != gp[:-1]
    best = pick[head]
    thresholds = np.full(n_groups, np.nan)
    accuracy = np.full(n_groups, np.nan)
    thresholds[gc[best]] = mid[best]
    accuracy[gc[best]] = objective[best]
    thresholds[~valid] = np.nan
    accuracy[~valid] = np.nan
    return thresholds, accuracy, valid


def best_threshold(scores, membership):
    """The threshold maximising balanced accuracy of ``scores >= threshold``.

    Parameters
    ----------
    scores : array-like of shape (n_records,)
        "Higher = member" scores.
    membership : array-like of bool of shape (n_records,)
        True for members.

    Returns
    -------
    threshold : float
    balanced_accuracy : float
        Its balanced accuracy on the calibration data.
    """
    scores, membership = _check_scores(scores, membership)
    if membership.all() or not membership.any():
        raise ValueError("calibration needs both members and non-members")
    t, acc, _ = _grouped_best(scores, membership, np.zeros(len(scores), int), 1)
    return float(t[0]), float(acc[0])


def class_thresholds(scores, membership, classes, n_classes):
    """Song & Mittal's class-dependent thresholds.

    For each class ``c``, the threshold maximising the balanced accuracy of
    ``scores >= t`` on the records of class ``c``. A class without both members
    and non-members in the calibration data falls back to the global threshold
    (:func:`best_threshold` on all records).

    Parameters
    ----------
    scores : array-like of shape (n_records,)
    membership : array-like of bool of shape (n_records,)
    classes : array-like of int of shape (n_records,)
        Class index of each record, in ``range(n_classes)``.
    n_classes : int

    Returns
    -------
    thresholds : ndarray of shape (n_classes,)
    fallback : ndarray of bool of shape (n_classes,)
        True where the global threshold was used.
    """
    scores, membership = _check_scores(scores, membership)
    classes = np.asarray(classes).ravel().astype(np.intp)
    if classes.shape != scores.shape:
        raise ValueError("classes must have the same length as scores")
    if classes.size and (classes.min() < 0 or classes.max() >= n_classes):
        raise ValueError(f"class indices must lie in range({n_classes})")
    thresholds, _, valid = _grouped_best(scores, membership, classes, n_classes)
    if not valid.all():
        thresholds[~valid] = best_threshold(scores, membership)[0]
    return thresholds, ~valid


@register_method("correctness")
class CorrectnessAttack(AttackMethod):
    """Member if the target classifies the record correctly (Yeom et al. 2018).

    Needs no shadow models. Scores are ``+0.5`` (correct) and ``-0.5`` (wrong).
    """

    requires_shadow_models = False

    def decision_function(self, proba, y, X=None):
        correct = np.argmax(proba, axis=1) == y
        return correct.astype(np.float64) - 0.5


@register_method("loss")
@register_method("confidence")
@register_method("entropy")
@register_method("mentr")
class ThresholdAttack(AttackMethod):
    """Threshold on a per-record signal, calibrated on shadow models.

    Parameters
    ----------
    signal : {"loss", "confidence", "entropy", "mentr", "logit_confidence"}
        The signal (see :mod:`wsmooth._signals`); signals where lower
        means member (loss, entropy, mentr) are negated first.
    class_dependent : bool
        One threshold per class (Song & Mittal) or one global threshold.

    Notes
    -----
    The score is ``sign * signal - threshold[class]``: positive for members, and
    comparable across classes because every class is centred on its own
    threshold. Registered as ``"loss"`` (global) and ``"confidence"``,
    ``"entropy"``, ``"mentr"`` (class-dependent).
    """

    _DEFAULTS = {
        "loss": ("loss", False),
        "confidence": ("confidence", True),
        "entropy": ("entropy", True),
        "mentr": ("mentr", True),
    }

    _parameter_constraints = {
        "signal": [StrOptions(set(SIGNALS))],
        "class_dependent": ["boolean"],
    }

    def __init__(self, signal="mentr", class_dependent=True):
        self.signal = signal
        self.class_dependent = class_dependent

    @classmethod
    def from_attack(cls, attack):
        signal, class_dependent = cls._DEFAULTS[attack.method]
        params = {"signal": signal, "class_dependent": class_dependent}
        params.update(attack.method_params or {})
        return cls(**params)

    def _signal(self, proba, y):
        if self.signal not in SIGNALS:
            raise ValueError(
                f"Unknown signal {self.signal!r}; choose from {sorted(SIGNALS)}"
            )
        func, sign = SIGNALS[self.signal]
        return sign * func(proba, y)

    def fit(
        self,
        proba,
        y,
        X=None,
        *,
        log_proba=None,
        shadow_proba=None,
        shadow_log_proba=None,
        keep_masks=None,
        shadows=None,
        target=None,
        random_state=0,
    ):
        """Calibrate the thresholds on ``shadow_proba`` and ``keep_masks``.

        The other arguments are not read; see :meth:`AttackMethod.fit`.
        """
        self._require(shadow_proba=shadow_proba)
        keep = self._check_shadow_arrays(y, keep_masks, shadow_proba=shadow_proba)
        n_shadow, n_classes = keep.shape[0], np.shape(shadow_proba)[-1]
        self.check_params(n_shadow)
        y = np.asarray(y)
        values = self._signal(shadow_proba, y).ravel()
        membership = keep.ravel()
        if self.class_dependent:
            classes = np.tile(y, n_shadow)
            self.thresholds_, self.fallback_ = class_thresholds(
                values, membership, classes, n_classes
            )
        else:
            t, _ = best_threshold(values, membership)
            self.thresholds_ = np.full(n_classes, t)
            self.fallback_ = np.zeros(n_classes, dtype=bool)
        return self

    def decision_function(self, proba, y, X=None):
        return self._signal(proba, y) - self.thresholds_[y]
