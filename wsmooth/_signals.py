"""Per-record membership signals computed from predicted probabilities.

The bottom floor of the package: plain numpy (and scipy's ``logsumexp``), no
torch and nothing from wsmooth's subpackages, so that the attacks
(:mod:`wsmooth.attacks`), the scorers (:mod:`wsmooth.metrics`) and the
weighted-smoothing math (:mod:`wsmooth._smoothing`, whose torch versions of
the loss and the modified entropy run inside training) share one vocabulary:
the names of :data:`SIGNALS`.

Every function takes ``proba`` of shape ``(..., n_records, n_classes)`` (one
probability vector per record, leading axes for several models) and, where the
signal depends on the label, ``y`` of shape ``(n_records,)`` holding the *index*
of each record's true class in the model's ``classes_``. They return an array
of shape ``(..., n_records)``. No loop over records or models.

Direction: for :func:`true_class_proba`, :func:`confidence` and
:func:`logit_scaled_confidence` a higher value means "more likely a member";
for :func:`cross_entropy`, :func:`entropy` and :func:`modified_entropy` a
*lower* value does. :data:`SIGNALS` records the sign that turns each into a
"higher = member" score.
"""

import numpy as np
from scipy.special import logsumexp

__all__ = [
    "true_class_proba",
    "confidence",
    "cross_entropy",
    "entropy",
    "modified_entropy",
    "logit_scaled_confidence",
    "logit_scaled_confidence_from_log_proba",
    "logit_margin",
    "logit_margin_from_log_proba",
    "signal_name",
    "SIGNALS",
    "SIGNAL_ALIASES",
]

# Probabilities are clipped to [EPS, 1] before taking logarithms, so that a
# model that outputs exact zeros (a random forest) gives finite signals.
EPS = 1e-30
LOG_EPS = float(np.log(EPS))


def _as_proba(proba):
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim < 2:
        raise ValueError(
            f"proba must have shape (..., n_records, n_classes), got {proba.shape}"
        )
    return proba


def _true_class_mask(proba, y):
    """Boolean mask of shape ``proba.shape``: True at each record's true class."""
    y = np.asarray(y)
    if y.shape != proba.shape[-2:-1]:
        raise ValueError(
            f"y must have shape ({proba.shape[-2]},) to match proba "
            f"{proba.shape}, got {y.shape}"
        )
    return y[:, None] == np.arange(proba.shape[-1])


def true_class_proba(proba, y):
    """Probability the model gives to each record's true class, ``p_y``."""
    proba = _as_proba(proba)
    mask = _true_class_mask(proba, y)
    return np.sum(proba * mask, axis=-1)


def confidence(proba, y):
    """Song & Mittal's *confidence*: the true-class probability ``p_y``.

    Higher = member.
    """
    return true_class_proba(proba, y)


def cross_entropy(proba, y):
    """Cross-entropy loss ``-log p_y`` (``p_y`` clipped at ``EPS``). Lower = member."""
    return -np.log(np.clip(true_class_proba(proba, y), EPS, None))


def entropy(proba, y=None):
    """Shannon entropy of the prediction, ``-sum_k p_k log p_k``. Lower = member.

    ``y`` is accepted for a uniform signature and ignored.
    """
    proba = _as_proba(proba)
    return -np.sum(proba * np.log(np.clip(proba, EPS, None)), axis=-1)


def modified_entropy(proba, y):
    """Song & Mittal's modified entropy (Mentr). Lower = member.

    ``Mentr = -(1 - p_y) log p_y - sum_{k != y} p_k log(1 - p_k)``: it is
    monotonically decreasing in ``p_y`` and increasing in every wrong-class
    probability, so unlike :func:`entropy` it tells a confidently *wrong*
    prediction from a confidently right one.
    """
    proba = _as_proba(proba)
    mask = _true_class_mask(proba, y)
    log_p = np.log(np.clip(proba, EPS, None))
    log_1mp = np.log(np.clip(1.0 - proba, EPS, None))
    right = -(1.0 - proba) * log_p
    wrong = -proba * log_1mp
    return np.sum(np.where(mask, right, wrong), axis=-1)


def logit_scaled_confidence_from_log_proba(log_proba, y):
    """LiRA's ``phi = log p_y - logsumexp_{k != y} log p_k`` from log-probabilities.

    Higher = member. Computed in log space (``scipy.special.logsumexp``), so a
    model that returns log-probabilities (``predict_log_proba``, e.g. a
    log-softmax of logits) gives ``phi`` far beyond what float probabilities
    can resolve: no clipping of finite values. Only an exact zero (a log
    probability of ``-inf``: the true class, or *all* wrong classes together,
    which trees and nearest neighbours output) is read as :data:`EPS`, so
    ``phi`` stays finite; for such models it saturates at about ``±69``.

    Parameters
    ----------
    log_proba : array-like of shape (..., n_records, n_classes)
    y : array-like of int of shape (n_records,)
    """
    log_p_y, log_rest = _true_and_rest(log_proba, y, logsumexp)
    return log_p_y - log_rest


def _true_and_rest(log_proba, y, reduce):
    """``log p_y`` and ``reduce`` (over the classes) of the other classes' log
    probabilities, an exact zero probability read as :data:`EPS`."""
    log_proba = _as_proba(log_proba)
    mask = _true_class_mask(log_proba, y)
    log_p_y = np.sum(np.where(mask, log_proba, 0.0), axis=-1)
    with np.errstate(divide="ignore"):
        log_rest = reduce(np.where(mask, -np.inf, log_proba), axis=-1)
    log_p_y = np.where(np.isneginf(log_p_y), LOG_EPS, log_p_y)
    log_rest = np.where(np.isneginf(log_rest), LOG_EPS, log_rest)
    return log_p_y, log_rest


def logit_scaled_confidence(proba, y):
    """LiRA's logit-scaled confidence ``log p_y - log(sum_{k != y} p_k)``.

    Higher = member. Computed stably: the wrong-class mass is summed directly
    rather than as ``1 - p_y`` (which cancels to 0 when ``p_y`` is close to 1).
    Exact zeros (of ``p_y`` or of the whole wrong-class mass) are read as
    :data:`EPS`, so the result is finite; finite values are not clipped. From
    float32 probabilities it cannot exceed about 100 (float32 underflow); use
    :func:`logit_scaled_confidence_from_log_proba` on a model's
    log-probabilities for the unsaturated statistic.
    """
    proba = _as_proba(proba)
    mask = _true_class_mask(proba, y)
    p_y = np.sum(proba * mask, axis=-1)
    p_rest = np.sum(proba * ~mask, axis=-1)
    with np.errstate(divide="ignore"):
        return np.where(p_y > 0, np.log(p_y), LOG_EPS) - np.where(
            p_rest > 0, np.log(p_rest), LOG_EPS
        )


def logit_margin_from_log_proba(log_proba, y):
    """The hinge score ``log p_y - max_{k != y} log p_k`` from log-probabilities.

    Higher = member. It equals the margin of the logits, ``z_y - max_{k != y}
    z_k`` (log-probabilities are logits minus a per-record constant), the
    score of Bertran et al.'s quantile-regression attack. Computed in log space
    with no clipping of finite values; an exact zero (a log probability of
    ``-inf``) is read as :data:`EPS`, so the result is finite.

    Parameters
    ----------
    log_proba : array-like of shape (..., n_records, n_classes)
    y : array-like of int of shape (n_records,)
    """
    log_p_y, log_rest = _true_and_rest(log_proba, y, np.max)
    return log_p_y - log_rest


def logit_margin(proba, y):
    """The hinge score ``log p_y - log max_{k != y} p_k`` from probabilities.

    Higher = member. Exact zeros are read as :data:`EPS`; from float32
    probabilities it saturates where they round to 0 or 1, so prefer
    :func:`logit_margin_from_log_proba` on a model's log-probabilities.
    """
    proba = _as_proba(proba)
    with np.errstate(divide="ignore"):
        return logit_margin_from_log_proba(np.log(proba), y)


#: name -> (function, sign): ``sign * function(proba, y)`` is higher for members.
SIGNALS = {
    "confidence": (confidence, 1.0),
    "loss": (cross_entropy, -1.0),
    "entropy": (entropy, -1.0),
    "mentr": (modified_entropy, -1.0),
    "logit_confidence": (logit_scaled_confidence, 1.0),
}

#: Other names accepted for a signal where a public parameter took them
#: (``WeightedSmoothingClassifier(vulnerability="cross_entropy")``).
SIGNAL_ALIASES = {"cross_entropy": "loss"}


def signal_name(name):
    """The name in :data:`SIGNALS` of ``name`` or of its alias.

    Parameters
    ----------
    name : str

    Returns
    -------
    str

    Examples
    --------
    >>> from wsmooth._signals import signal_name
    >>> signal_name("cross_entropy"), signal_name("mentr")
    ('loss', 'mentr')
    """
    name = SIGNAL_ALIASES.get(name, name)
    if name not in SIGNALS:
        raise ValueError(
            f"Unknown signal {name!r}; choose from {sorted(SIGNALS)} (or the "
            f"aliases {sorted(SIGNAL_ALIASES)})"
        )
    return name
