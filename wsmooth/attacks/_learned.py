"""The learned attack (Shokri et al. 2017 style).

An attack classifier learns "member or not" from the shadow models' outputs on
the population, where membership is known from the keep masks, and is then
applied to the target's outputs.

Features of a record (``2 * n_classes + 1`` columns):

* the probability vector sorted in descending order (the shape of the
  prediction, class-agnostic, as in Shokri et al.'s single attack model);
* the true-class probability ``p_y`` (what the sorted vector cannot tell);
* the one-hot label, so the classifier can learn class-dependent behaviour
  (in place of Shokri et al.'s one attack model per class).
"""

import sys
from numbers import Real

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from .._signals import true_class_proba
from ..utils._sklearn_compat import HasMethods, Interval
from ._calibration import best_threshold
from ._methods import AttackMethod, register_method

__all__ = ["LearnedAttack", "attack_features", "default_attack_classifier"]


def attack_features(proba, y):
    """Features of the learned attack, shape ``(..., n_records, 2 * K + 1)``."""
    proba = np.asarray(proba, dtype=np.float64)
    n_classes = proba.shape[-1]
    ordered = -np.sort(-proba, axis=-1)
    p_y = true_class_proba(proba, y)[..., None]
    onehot = np.broadcast_to(
        np.eye(n_classes)[np.asarray(y)], proba.shape[:-1] + (n_classes,)
    )
    return np.concatenate([ordered, p_y, onehot], axis=-1)


def default_attack_classifier(n_features, *, max_epochs=30):
    """A small skorch MLP (``n_features -> 64 -> 64 -> 2``), no validation split."""
    import torch
    from skorch import NeuralNetClassifier
    from torch import nn

    from ..nets import MLP

    return NeuralNetClassifier(
        MLP,
        module__n_features=n_features,
        module__n_classes=2,
        module__hidden_layer_sizes=(64, 64),
        module__activation="relu",
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=max_epochs,
        batch_size=128,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
    )


@register_method("learned")
class LearnedAttack(AttackMethod):
    """Attack classifier trained on shadow prediction vectors and labels.

    Parameters
    ----------
    attack_classifier : classifier with predict_proba, default=None
        Cloned before fitting. None: :func:`default_attack_classifier` (a small
        skorch net). Any scikit-learn classifier is accepted. Either way it is
        trained with a seed derived from the attack's ``random_state``: torch's
        generator is seeded, and a ``random_state`` parameter left at None is
        set to that seed.

    calibration_fraction : float in [0, 1), default=0.25
        Fraction of the population records held out of the attack
        classifier's training: their rows (one per shadow model) calibrate the
        threshold on ``P(member)``, the one maximising balanced accuracy. 0
        trains on every row and keeps the threshold 0.5.

    Notes
    -----
    The score is ``P(member) - threshold_``. A threshold of 0.5 would assume
    balanced, well-calibrated training data; it is not with an odd
    ``n_shadow`` (records of the last model's half are members more often),
    with a weighted or regularised attack classifier, or one that overfits
    its training rows, so the threshold is calibrated on held-out rows
    instead. The held-out records are drawn with the attack's seed,
    stratified by class when every class has 2 records or more, and all of a
    record's rows stay on one side, so the classifier is never calibrated on
    records it trained on.

    Attributes
    ----------
    classifier_ : classifier
        The fitted attack classifier.
    threshold_ : float
        Calibrated threshold on ``P(member)``.
    """

    _parameter_constraints = {
        "attack_classifier": [HasMethods(["fit", "predict_proba"]), None],
        "calibration_fraction": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, attack_classifier=None, calibration_fraction=0.25):
        self.attack_classifier = attack_classifier
        self.calibration_fraction = calibration_fraction

    @classmethod
    def from_attack(cls, attack):
        params = {"attack_classifier": attack.attack_classifier}
        params.update(attack.method_params or {})
        return cls(**params)

    def _split_records(self, y, random_state):
        """Population indices for training and for calibration."""
        frac = self.calibration_fraction
        n = y.shape[0]
        n_cal = int(round(frac * n))
        if n_cal == 0:
            return np.arange(n), np.arange(0)
        counts = np.bincount(y)
        stratify = y if counts[counts > 0].min() >= 2 else None
        seed = int(random_state) % (2**32)
        try:
            return train_test_split(
                np.arange(n), test_size=n_cal, random_state=seed, stratify=stratify
            )
        except ValueError:  # too few records per class for stratification
            return train_test_split(np.arange(n), test_size=n_cal, random_state=seed)

    def fit_signals(self, signals):
        """Train the attack classifier on ``shadow_proba`` and ``keep_masks``.

        ``random_state`` seeds the held-out split and the classifier; the
        other arguments are not read (see :meth:`AttackMethod.fit_signals`).
        """
        y = signals.y
        shadow_proba = signals.shadow_proba
        keep_masks = signals.keep_masks
        random_state = signals.random_state
        self._require(shadow_proba=shadow_proba)
        keep = self._check_shadow_arrays(y, keep_masks, shadow_proba=shadow_proba)
        self.check_params(keep.shape[0])
        y = np.asarray(y)
        train, cal = self._split_records(y, random_state)
        features = attack_features(shadow_proba, y)
        Xa = features[:, train].reshape(-1, features.shape[-1]).astype(np.float32)
        ya = keep[:, train].reshape(-1).astype(np.int64)
        if self.attack_classifier is None:
            clf = default_attack_classifier(Xa.shape[1])
        else:
            clf = clone(self.attack_classifier)
            params = clf.get_params(deep=False)
            if "random_state" in params and params["random_state"] is None:
                clf.set_params(random_state=random_state)
        torch = sys.modules.get("torch")
        if torch is None:
            clf.fit(Xa, ya)
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(random_state)
                clf.fit(Xa, ya)
        classes = list(np.asarray(clf.classes_).tolist())
        if 1 not in classes:
            raise ValueError("the attack classifier did not learn the member class")
        self.classifier_ = clf
        self.member_column_ = classes.index(1)
        self.threshold_ = 0.5
        if cal.size:
            Xc = features[:, cal].reshape(-1, features.shape[-1])
            yc = keep[:, cal].reshape(-1)
            if 0 < yc.sum() < yc.size:
                self.threshold_ = best_threshold(self._member_proba(Xc), yc)[0]
        return self

    def _member_proba(self, features):
        features = np.asarray(features, dtype=np.float32)
        p = np.asarray(self.classifier_.predict_proba(features), dtype=np.float64)
        return p[:, self.member_column_]

    def decision_function(self, proba, y, X=None):
        return self._member_proba(attack_features(proba, y)) - self.threshold_
