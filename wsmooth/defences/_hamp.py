"""HAMP (Chen et al., NDSS 2024): high-entropy soft labels and output modification."""

import math
from numbers import Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval

from .._net import NetClassifier
from ..utils._tags import PrivacyTags

__all__ = ["HAMPClassifier", "hamp_soft_labels", "hamp_loss"]


def _soft_entropy(p, n_classes):
    """Entropy of the label keeping ``p`` on one class and the rest uniform."""
    q = (1 - p) / (n_classes - 1)
    return -(p * math.log(p) if p > 0 else 0.0) - (
        (n_classes - 1) * q * math.log(q) if q > 0 else 0.0
    )


def hamp_true_probability(gamma, n_classes):
    """The largest true-class probability whose soft label has entropy
    ``>= gamma * log(n_classes)`` (the rest spread uniformly).

    The entropy falls as the true-class probability rises from
    ``1 / n_classes`` to 1, so a bisection finds it.
    """
    target = gamma * math.log(n_classes)
    lo, hi = 1.0 / n_classes, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _soft_entropy(mid, n_classes) >= target:
            lo = mid
        else:
            hi = mid
    return lo


def hamp_soft_labels(y, n_classes, gamma):
    """HAMP's high-entropy soft labels for class indices ``y``."""
    p = hamp_true_probability(gamma, n_classes)
    onehot = torch.nn.functional.one_hot(y, n_classes).float()
    return onehot * p + (1 - onehot) * (1 - p) / (n_classes - 1)


def hamp_loss(logits, y, gamma, entropy_weight):
    """Cross-entropy to the soft labels minus ``entropy_weight`` times the
    mean entropy of the predicted distribution."""
    soft = hamp_soft_labels(y, logits.shape[1], gamma).to(logits.dtype)
    log_proba = torch.log_softmax(logits, dim=1)
    ce = -(soft * log_proba).sum(dim=1).mean()
    entropy = -(log_proba.exp() * log_proba).sum(dim=1).mean()
    return ce - entropy_weight * entropy


class HAMPClassifier(NetClassifier):
    """Network trained with HAMP (Chen et al., NDSS 2024).

    Training fits high-entropy soft labels (the true class keeps the largest
    probability whose label entropy is at least ``gamma * log(n_classes)``,
    the rest spread uniformly) with an entropy regulariser that rewards
    uncertain outputs. At prediction, with ``output_modification=True``, each
    output is replaced by the model's output on random uniform input,
    re-ordered to the ranking of the original output: the predicted label
    and the ranking stay, the confidences are those of noise.

    Parameters
    ----------
    gamma : float, default=0.95
        Entropy threshold in (0, 1], as a fraction of the largest entropy
        ``log(n_classes)``. Higher: softer labels.
    entropy_weight : float, default=0.001
        Weight of the entropy regulariser, >= 0.
    output_modification : bool, default=True
        Replace the outputs at prediction as above.
    module, random_state, criterion, optimizer, lr, max_epochs, batch_size, **kwargs
        As in :class:`~wsmooth.WeightedSmoothingClassifier`. ``random_state``
        also seeds the random inputs of the output modification, which are a
        fixed function of each queried record: a record's output does not
        depend on the other records of the batch or on its position.

    Attributes
    ----------
    feature_low_, feature_high_ : ndarray of shape (n_features,)
        Per-feature range of the training data, from which the random inputs
        are drawn uniformly.
    member_proba_, member_labels_ : ndarray
        The final model's (unmodified) outputs on its training records; not
        pickled.
    """

    _parameter_constraints = {
        **NetClassifier._parameter_constraints,
        "gamma": [Interval(Real, 0, 1, closed="right")],
        "entropy_weight": [Interval(Real, 0, None, closed="left")],
        "output_modification": ["boolean"],
    }

    #: Fitted arrays the output modification needs besides the weights (the
    #: shadow cache stores them with the weights).
    _fitted_arrays = ("feature_low_", "feature_high_")

    def __init__(
        self,
        module=None,
        *args,
        gamma=0.95,
        entropy_weight=0.001,
        output_modification=True,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.gamma = gamma
        self.entropy_weight = entropy_weight
        self.output_modification = output_modification

    def train_loss(self, logits, y, X, index):
        return hamp_loss(logits, y, self.gamma, self.entropy_weight)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        X = np.asarray(X, dtype=np.float32)
        low, high = X.min(axis=0), X.max(axis=0)
        self.feature_low_, self.feature_high_ = low, high

    def predict_proba(self, X):
        """Class probabilities, modified as HAMP does when
        ``output_modification=True``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        proba = super().predict_proba(X)
        if not self.output_modification or isinstance(X, torch.utils.data.Dataset):
            return proba
        return modify_outputs(self, proba, X)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba` (of the logits when
        ``output_modification=False``)."""
        if not self.output_modification:
            return super().predict_log_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X).astype(np.float64))

    def __privacy_tags__(self):
        """Outputs modified at prediction (with ``output_modification``), so
        the runner attacks HAMP label-only too."""
        return PrivacyTags(modifies_outputs=bool(self.output_modification))


def _record_uniforms(net, X):
    """Uniform values in [0, 1), one per feature, that depend on the record only.

    HAMP draws a random input per query. Drawn in batch order, a record's
    output would depend on its position in the batch; here the draw is a
    fixed pseudo-random function of the record itself (a random projection
    seeded by ``random_state``, passed through ``frac(sin(t) * c)``, a classic
    hash to [0, 1)), so a record gets the same output in any batch, and
    the inputs are still spread over the feature box.
    """
    n_features = net.feature_low_.shape
    rng = np.random.default_rng(net._seed(0x4A4D))
    flat = np.asarray(X, dtype=np.float32).reshape(len(X), -1).astype(np.float64)
    width = int(np.prod(n_features))
    projection = rng.standard_normal((flat.shape[1], width)) / np.sqrt(flat.shape[1])
    phase = rng.uniform(0.0, 2.0 * np.pi, size=width)
    t = np.sin(flat @ projection * 1e3 + phase) * 43758.5453
    return (t - np.floor(t)).reshape((len(X),) + n_features)


def modify_outputs(net, proba, X):
    """HAMP's output modification: outputs on random uniform input, sorted
    into the ranking of ``proba``; the random input of a record depends on
    the record only (:func:`_record_uniforms`)."""
    noise_X = _record_uniforms(net, X).astype(np.float32)
    noise_X = net.feature_low_ + noise_X * (net.feature_high_ - net.feature_low_)
    noise = super(HAMPClassifier, net).predict_proba(noise_X.astype(np.float32))
    # the k-th largest noise output goes where proba has its k-th largest
    ranks = np.argsort(-proba, axis=1, kind="stable")
    out = np.empty_like(noise)
    np.put_along_axis(out, ranks, -np.sort(-noise, axis=1), axis=1)
    return out
