"""Adversarial regularisation (Nasr et al., CCS 2018): a min-max game with an
inference model."""

from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import train_test_split

from .._net import NetClassifier, unavailable_partial_fit
from ..nets import MLP
from ..utils._sklearn_compat import Interval
from ..utils._tags import PrivacyTags

__all__ = ["AdversarialRegularizationClassifier"]


class _InferenceModel(torch.nn.Module):
    """The attack: a ReLU :class:`~wsmooth.nets.MLP` on the prediction vector
    and the one-hot label, one logit (member) out."""

    def __init__(self, n_classes, hidden):
        super().__init__()
        self.net = MLP(2 * n_classes, 1, hidden, activation="relu")
        self.n_classes = n_classes

    def forward(self, proba, y):
        onehot = F.one_hot(y, self.n_classes).to(proba.dtype)
        return self.net(torch.cat([proba, onehot], dim=1)).squeeze(1)


class AdversarialRegularizationClassifier(NetClassifier):
    """Network trained with adversarial regularisation (Nasr et al., CCS 2018).

    Training is a min-max game. Before every classifier step, ``attack_steps``
    steps train an inference model (an MLP on the prediction vector and the
    one-hot label) to tell the batch's members from records of a reference
    set of non-members; the classifier step then minimises the
    cross-entropy plus ``reg_lambda`` times the attack's gain on the members,
    ``mean(log h(f(x), y))``.

    The reference set is the ``X_reference, y_reference`` passed to
    :meth:`fit`; without it, a ``reference_fraction`` of ``X`` is held out
    (stratified) and those records are NOT trained on. They are not members,
    so ``member_proba_`` covers the trained records only.

    Parameters
    ----------
    reg_lambda : float, default=1.0
        Weight of the adversarial term, >= 0 (``0``: plain training).
    attack_steps : int, default=1
        Inference-model steps per classifier step (k in the paper).
    reference_fraction : float, default=0.2
        Fraction of ``X`` held out as the reference set when no
        ``X_reference`` is given.
    attack_hidden_layer_sizes : tuple of int, default=(64,)
    attack_lr : float, default=1e-3
        Adam learning rate of the inference model.
    clip_grad_norm : float or None, default=None
        As in :class:`~wsmooth.NetClassifier`: no gradient clipping by default.
    module, random_state, criterion, optimizer, lr, max_epochs, batch_size, **kwargs
        As in :class:`~wsmooth.NetClassifier`.

    Attributes
    ----------
    member_proba_, member_labels_ : ndarray
        The final model's outputs on its training records; not pickled.
    """

    _parameter_constraints = {
        **NetClassifier._parameter_constraints,
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "attack_steps": [Interval(Integral, 1, None, closed="left")],
        "reference_fraction": [Interval(Real, 0, 1, closed="neither")],
        "attack_hidden_layer_sizes": [tuple, list],
        "attack_lr": [Interval(Real, 0, None, closed="neither")],
    }

    _transient_attributes = NetClassifier._transient_attributes + (
        "_reference",
        "_attack",
        "_attack_optimizer",
        "_attack_generator",
    )

    def __init__(
        self,
        module=None,
        *args,
        reg_lambda=1.0,
        attack_steps=1,
        reference_fraction=0.2,
        attack_hidden_layer_sizes=(64,),
        attack_lr=1e-3,
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.reg_lambda = reg_lambda
        self.attack_steps = attack_steps
        self.reference_fraction = reference_fraction
        self.attack_hidden_layer_sizes = attack_hidden_layer_sizes
        self.attack_lr = attack_lr

    def fit(self, X, y, X_reference=None, y_reference=None, **fit_params):
        """Train the classifier against the inference model.

        Parameters
        ----------
        X, y : array-like
            Training records.
        X_reference, y_reference : array-like, default=None
            Non-members for the inference model; without them a
            ``reference_fraction`` of ``X`` is held out and not trained on.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        self._check_hyperparameters()
        if y is None:
            raise ValueError(
                "AdversarialRegularizationClassifier requires y to be passed, but "
                "the target y is None: the classifier and its inference model "
                "train on labels."
            )
        if (X_reference is None) != (y_reference is None):
            raise ValueError("pass both X_reference and y_reference, or neither")
        if X_reference is None:
            y_arr = np.asarray(y)
            if len(y_arr) < 2:
                raise ValueError(
                    f"n_samples={len(y_arr)}: too few records to hold out a reference set"
                )
            _, counts = np.unique(y_arr, return_counts=True)
            X, X_reference, y, y_reference = train_test_split(
                X, y, test_size=self.reference_fraction,
                random_state=self._seed(0xADD) % (2**31),
                stratify=y_arr if counts.min() >= 2 else None,
            )
        self._reference_data = (X_reference, y_reference)
        try:
            return super().fit(X, y, **fit_params)
        finally:
            self._reference_data = None
            for name in self._transient_attributes[1:]:
                self.__dict__.pop(name, None)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        Xr, yr = getattr(self, "_reference_data", None) or (None, None)
        if Xr is None:
            raise ValueError(
                "AdversarialRegularizationClassifier needs a reference set: call fit "
                "(partial_fit has none)"
            )
        Xr, yr = self._validate_training_data(Xr, yr, reset=False)
        device = self.device or "cpu"
        self._reference = (
            torch.as_tensor(Xr, device=device),
            torch.as_tensor(yr, dtype=torch.long, device=device),
        )
        # set through __dict__: the inference model lives for one fit only and
        # is not one of the net's registered (pickled, re-initialised) modules
        attack = _InferenceModel(len(self.classes_), self.attack_hidden_layer_sizes)
        self.__dict__["_attack"] = attack.to(device)
        self.__dict__["_attack_optimizer"] = torch.optim.Adam(
            attack.parameters(), lr=self.attack_lr
        )
        self._attack_generator = torch.Generator(device="cpu").manual_seed(
            self._seed(0xA7)
        )

    partial_fit = unavailable_partial_fit("the game needs the reference set fit takes.")

    def _attack_step(self, Xi, yi):
        Xr, yr = self._reference
        pick = torch.randint(len(yr), (len(yi),), generator=self._attack_generator)
        pick = pick.to(yr.device)
        with torch.no_grad():
            member = torch.softmax(self.infer(Xi), dim=1)
            other = torch.softmax(self.infer(Xr[pick]), dim=1)
        scores = torch.cat([self._attack(member, yi), self._attack(other, yr[pick])])
        target = torch.cat([torch.ones(len(yi)), torch.zeros(len(yi))]).to(scores)
        self._attack_optimizer.zero_grad()
        F.binary_cross_entropy_with_logits(scores, target).backward()
        self._attack_optimizer.step()

    def train_loss(self, logits, y, X, index):
        loss = self.get_loss(logits, y, X=X, training=True)
        if self.reg_lambda == 0:
            return loss
        was = [p.requires_grad for p in self._attack.parameters()]
        for _ in range(self.attack_steps):
            self._attack_step(X, y)
        for p in self._attack.parameters():
            p.requires_grad_(False)
        try:
            gain = F.logsigmoid(self._attack(torch.softmax(logits, dim=1), y)).mean()
        finally:
            for p, r in zip(self._attack.parameters(), was):
                p.requires_grad_(r)
        return loss + self.reg_lambda * gain

    def __privacy_tags__(self):
        """``fit`` takes a reference set (``X_reference, y_reference``)."""
        return PrivacyTags(takes_reference=True)
