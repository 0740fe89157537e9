"""RelaxLoss (Chen et al., ICLR 2022): keep the training loss near a target level."""

from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from .._net import NetClassifier

__all__ = ["RelaxLossClassifier", "relaxloss_loss"]


def relaxloss_loss(logits, y, alpha, epoch):
    """The RelaxLoss objective of one batch.

    As the authors' training loop: on even (0-based) epochs ``|CE - alpha|``,
    i.e. gradient descent while the batch's mean cross-entropy ``CE`` is above
    ``alpha`` and gradient ascent below it. On odd epochs plain ``CE`` above
    ``alpha``; below it, posterior flattening: soft labels keep each record's
    predicted true-class probability ``p_y`` and spread ``1 - p_y`` uniformly
    over the other classes, and the loss is ``mean((1 - correct) *
    CE_soft - CE)`` with ``correct`` whether the record is classified right.

    Parameters
    ----------
    logits : tensor of shape (n, n_classes)
    y : tensor of shape (n,)
        Class indices.
    alpha : float
        Target loss level.
    epoch : int
        0-based epoch number.

    Returns
    -------
    scalar tensor
    """
    ce_full = F.cross_entropy(logits, y, reduction="none")
    ce = ce_full.mean()
    if epoch % 2 == 0:
        return (ce - alpha).abs()
    if ce > alpha:
        return ce
    n_classes = logits.shape[1]
    proba = torch.softmax(logits, dim=1)
    correct = (logits.argmax(dim=1) == y).to(logits.dtype)
    p_true = proba.gather(1, y[:, None])
    onehot = F.one_hot(y, n_classes).to(logits.dtype)
    soft = onehot * p_true + (1 - onehot) * (1 - p_true) / (n_classes - 1)
    ce_soft = -(soft * torch.log_softmax(logits, dim=1)).sum(dim=1)
    return ((1 - correct) * ce_soft - ce_full).mean()


class RelaxLossClassifier(NetClassifier):
    """Network trained with RelaxLoss (Chen et al., ICLR 2022).

    Training keeps the mean training loss near a target level ``alpha``
    instead of driving it to zero, so members' losses stay close to
    non-members'. It alternates by epoch as the authors' code does: even
    epochs minimise ``|CE - alpha|`` (gradient ascent once the batch loss is
    below ``alpha``); odd epochs descend while the loss is above ``alpha`` and
    otherwise flatten the posterior (see :func:`relaxloss_loss`).

    Parameters
    ----------
    alpha : float, default=1.0
        Target loss level, > 0. Larger: less fitting, less leakage.
    module, random_state, criterion, optimizer, lr, max_epochs, batch_size, **kwargs
        As in :class:`~wsmooth.WeightedSmoothingClassifier`.

    Attributes
    ----------
    classes_, n_features_in_, module_, history_
        As in :class:`~wsmooth.WeightedSmoothingClassifier`.
    member_proba_, member_labels_ : ndarray
        The final model's outputs on its training records; not pickled.
    """

    _parameter_constraints = {
        **NetClassifier._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, module=None, *args, alpha=1.0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.alpha = alpha

    def train_loss(self, logits, y, X, index):
        return relaxloss_loss(logits, y, self.alpha, len(self.history) - 1)
