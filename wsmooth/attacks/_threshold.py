"""Threshold attacks: correctness, global loss threshold, class-dependent thresholds.

The thresholds are calibrated on shadow members versus shadow non-members by
:func:`~wsmooth.attacks._calibration.best_threshold` and
:func:`~wsmooth.attacks._calibration.class_thresholds` (the threshold that
maximises balanced accuracy, per class for Song & Mittal's attacks).
"""

import numpy as np

from .._signals import SIGNALS
from ..utils._sklearn_compat import StrOptions
from ._calibration import best_threshold, class_thresholds
from ._methods import AttackMethod, register_method

__all__ = ["CorrectnessAttack", "ThresholdAttack"]


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

    def fit_signals(self, signals):
        """Calibrate the thresholds on ``shadow_proba`` and ``keep_masks``.

        The other arguments are not read; see :meth:`AttackMethod.fit_signals`.
        """
        y = signals.y
        shadow_proba = signals.shadow_proba
        keep_masks = signals.keep_masks
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
