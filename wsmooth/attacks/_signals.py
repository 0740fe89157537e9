"""Per-record membership signals computed from predicted probabilities.

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

__all__ = [
    "true_class_proba",
    "confidence",
    "cross_entropy",
    "entropy",
    "modified_entropy",
    "logit_scaled_confidence",
    "SIGNALS",
]

# Probabilities are clipped to [EPS, 1] before taking logarithms, so that a
# model that outputs exact zeros (a random forest) gives finite signals.
EPS = 1e-30


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


def logit_scaled_confidence(proba, y):
    """LiRA's logit-scaled confidence ``log p_y - log(sum_{k != y} p_k)``.

    Higher = member. Computed stably: the wrong-class mass is summed directly
    rather than as ``1 - p_y`` (which cancels to 0 when ``p_y`` is close to 1),
    and both terms are clipped at ``EPS`` before the logarithm, so the result is
    finite (at most about ``±69``) even for probabilities of exactly 0 or 1.
    """
    proba = _as_proba(proba)
    mask = _true_class_mask(proba, y)
    p_y = np.sum(proba * mask, axis=-1)
    p_rest = np.sum(proba * ~mask, axis=-1)
    return np.log(np.clip(p_y, EPS, None)) - np.log(np.clip(p_rest, EPS, None))


# name -> (function, sign): ``sign * function(proba, y)`` is higher for members.
SIGNALS = {
    "confidence": (confidence, 1.0),
    "loss": (cross_entropy, -1.0),
    "entropy": (entropy, -1.0),
    "mentr": (modified_entropy, -1.0),
    "logit_confidence": (logit_scaled_confidence, 1.0),
}
