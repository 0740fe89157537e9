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

import numpy as np
from sklearn.base import clone

from ._methods import AttackMethod, register_method
from ._signals import true_class_proba

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

    Notes
    -----
    The score is ``P(member) - 0.5`` from the attack classifier: the shadow
    training data is balanced (each record is in exactly half the shadow
    models), so 0.5 is the calibrated threshold.
    """

    def __init__(self, attack_classifier=None):
        self.attack_classifier = attack_classifier

    @classmethod
    def from_attack(cls, attack):
        params = {"attack_classifier": attack.attack_classifier}
        params.update(attack.method_params or {})
        return cls(**params)

    def fit(self, data):
        features = attack_features(data.shadow_proba, data.y)
        Xa = features.reshape(-1, features.shape[-1]).astype(np.float32)
        ya = data.keep_masks.reshape(-1).astype(np.int64)
        if self.attack_classifier is None:
            clf = default_attack_classifier(Xa.shape[1])
        else:
            clf = clone(self.attack_classifier)
            params = clf.get_params(deep=False)
            if "random_state" in params and params["random_state"] is None:
                clf.set_params(random_state=data.random_state)
        torch = sys.modules.get("torch")
        if torch is None:
            clf.fit(Xa, ya)
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(data.random_state)
                clf.fit(Xa, ya)
        classes = list(np.asarray(clf.classes_).tolist())
        if 1 not in classes:
            raise ValueError("the attack classifier did not learn the member class")
        self.classifier_ = clf
        self.member_column_ = classes.index(1)
        return self

    def decision_function(self, proba, y, X=None):
        features = attack_features(proba, y).astype(np.float32)
        p = np.asarray(self.classifier_.predict_proba(features), dtype=np.float64)
        return p[:, self.member_column_] - 0.5
