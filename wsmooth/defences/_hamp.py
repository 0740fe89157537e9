"""HAMP (Chen et al., NDSS 2024): high-entropy soft labels and output modification."""

import math
from numbers import Real

import numpy as np
import torch

from .._net import NetClassifier
from ..utils._sklearn_compat import Interval
from ..utils._tags import PrivacyTags
from ._record_hash import record_uniforms

__all__ = ["HAMPClassifier", "hamp_soft_labels", "hamp_loss", "random_inputs"]


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


def hamp_loss(logits, y, gamma, alpha):
    """HAMP's training loss: KL divergence to the soft labels minus ``alpha``
    times the mean entropy of the predicted distribution.

    As the authors' code: ``F.kl_div(log_softmax(logits), soft,
    reduction="mean") - alpha * mean(H)``. torch's ``"mean"`` divides the
    KL divergence by ``n_records * n_classes``, not by ``n_records``, so the
    KL term weighs ``1 / n_classes`` of the per-record cross-entropy and the
    entropy term's effective weight, relative to it, is ``alpha * n_classes``.

    Parameters
    ----------
    logits : tensor of shape (n, n_classes)
    y : tensor of shape (n,)
        Class indices.
    gamma : float
        Entropy threshold of the soft labels (:func:`hamp_soft_labels`).
    alpha : float
        Weight of the entropy term.

    Returns
    -------
    scalar tensor
    """
    soft = hamp_soft_labels(y, logits.shape[1], gamma).to(logits.dtype)
    log_proba = torch.log_softmax(logits, dim=1)
    # torch's reduction="mean" (the authors' default), spelt out: torch has
    # announced it will come to mean "batchmean"
    kl = torch.nn.functional.kl_div(log_proba, soft, reduction="sum") / soft.numel()
    entropy = -(log_proba.exp() * log_proba).sum(dim=1).mean()
    return kl - alpha * entropy


class HAMPClassifier(NetClassifier):
    """Network trained with HAMP (Chen et al., NDSS 2024).

    Training fits high-entropy soft labels (the true class keeps the largest
    probability whose label entropy is at least ``gamma * log(n_classes)``,
    the rest spread uniformly) with an entropy regulariser that rewards
    uncertain outputs, as the authors' code writes the loss
    (:func:`hamp_loss`). At prediction, with ``output_modification=True``,
    each output is replaced by the model's output on a random input,
    re-ordered to the ranking of the original output: the predicted label
    and the ranking stay, the confidences are those of noise. As in the
    authors' code the random inputs are random 0/1 bits when every training
    feature is 0 or 1 (Purchase, Texas); otherwise, where the authors have no
    tabular rule, they are uniform in the training data's per-feature range.

    Where this still differs from the authors' code, and why:

    - The soft labels' true-class probability is the largest one meeting the
      entropy threshold, found by bisection; the authors step it down from 1
      by 0.01 until the threshold is met, which gives a value up to 0.01
      lower. Bisection works for any number of classes (with few classes a
      0.01 grid is coarse).
    - The random input of a query is a fixed pseudo-random function of the
      queried record (see Parameters), where the authors draw it afresh in
      batch order: a record gets the same answer in any batch and on every
      query, so an attacker cannot average the noise out.
    - Training runs on the network, optimiser and epochs given (Adam by
      default); the authors train 200 epochs of SGD with momentum 0.99 and
      keep the epoch of best validation accuracy.

    Parameters
    ----------
    gamma : float, default=0.95
        Entropy threshold in (0, 1], as a fraction of the largest entropy
        ``log(n_classes)``. Higher: softer labels.
    alpha : float, default=0.01
        Weight of the entropy regulariser, >= 0, in the authors' units (their
        Purchase100 setting): against a KL term averaged over records *and*
        classes, so its weight relative to the per-record cross-entropy is
        ``alpha * n_classes``.
    output_modification : bool, default=True
        Replace the outputs at prediction as above.
    clip_grad_norm : float or None, default=None
        As in :class:`~wsmooth.NetClassifier`: no gradient clipping by default.
    module, random_state, criterion, optimizer, lr, max_epochs, batch_size, **kwargs
        As in :class:`~wsmooth.NetClassifier`. ``random_state`` also seeds
        the random inputs of the output modification, which are a fixed
        function of each queried record: a record's output does not depend on
        the other records of the batch or on its position.

    Attributes
    ----------
    feature_low_, feature_high_ : ndarray of shape (n_features,)
        Per-feature range of the training data, from which the random inputs
        are drawn uniformly (when the features are not all binary).
    binary_features_ : bool
        Whether every training feature is 0 or 1; the random inputs are then
        random bits.
    member_proba_, member_labels_ : ndarray
        The final model's (unmodified) outputs on its training records; not
        pickled.
    """

    _parameter_constraints = {
        **NetClassifier._parameter_constraints,
        "gamma": [Interval(Real, 0, 1, closed="right")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "output_modification": ["boolean"],
    }

    #: Fitted arrays the output modification needs besides the weights (the
    #: shadow cache stores them with the weights).
    _fitted_arrays = ("feature_low_", "feature_high_", "binary_features_")

    def __init__(
        self,
        module=None,
        *args,
        gamma=0.95,
        alpha=0.01,
        output_modification=True,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.gamma = gamma
        self.alpha = alpha
        self.output_modification = output_modification

    def train_loss(self, logits, y, X, index):
        return hamp_loss(logits, y, self.gamma, self.alpha)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        X = np.asarray(X, dtype=np.float32)
        low, high = X.min(axis=0), X.max(axis=0)
        self.feature_low_, self.feature_high_ = low, high
        self.binary_features_ = bool(np.isin(X, (0.0, 1.0)).all())

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

    def predict(self, X):
        """Most probable class label of each record: the network's own.

        Output modification keeps every ranking, so the label is the one the
        unmodified output gives; it is read from that output directly, without
        the random inputs (label-only attacks query millions of records).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = super().predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

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
    """Uniform values in [0, 1), one per feature, that depend on the record
    only (:func:`~wsmooth.defences._record_hash.record_uniforms` seeded by
    ``random_state``)."""
    shape = net.feature_low_.shape
    u = record_uniforms(X, int(np.prod(shape)), net._seed(0x4A4D))
    return u.reshape((len(X),) + shape)


def random_inputs(net, X):
    """HAMP's random input for each queried record: random 0/1 bits when the
    training features are binary, else uniform in the training range."""
    u = _record_uniforms(net, X)
    # models saved before the attribute existed drew uniform inputs
    if getattr(net, "binary_features_", False):
        return (u < 0.5).astype(np.float32)
    return (net.feature_low_ + u * (net.feature_high_ - net.feature_low_)).astype(
        np.float32
    )


def modify_outputs(net, proba, X):
    """HAMP's output modification: outputs on random input
    (:func:`random_inputs`), sorted into the ranking of ``proba``."""
    noise = super(HAMPClassifier, net).predict_proba(random_inputs(net, X))
    # the k-th largest noise output goes where proba has its k-th largest
    ranks = np.argsort(-proba, axis=1, kind="stable")
    out = np.empty_like(noise)
    np.put_along_axis(out, ranks, -np.sort(-noise, axis=1), axis=1)
    return out
