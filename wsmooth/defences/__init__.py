"""Defences against membership inference, in one API beside weighted smoothing.

Every defence is a scikit-learn classifier (``fit`` / ``predict`` /
``predict_proba`` / ``score``, ``clone``, ``GridSearchCV``) or a
configuration of one. The registry (:func:`available_defences`,
:func:`get_defence`, :func:`defence_configurations`) names them, weighted
smoothing and the cheap baselines included, so that the experiment runner
and the ``wsmooth`` command can list and build every defence alike;
:func:`register_defence` adds one of your own.
"""

from ._advreg import AdversarialRegularizationClassifier
from ._dpsgd import DPSGDClassifier
from ._hamp import HAMPClassifier, hamp_loss, hamp_soft_labels
from ._memguard import MemGuard, memguard_search
from ._registry import (
    Defence,
    available_defences,
    defence_configurations,
    get_defence,
    register_defence,
)
from ._relaxloss import RelaxLossClassifier, relaxloss_loss, relaxloss_upper

__all__ = [
    "AdversarialRegularizationClassifier",
    "DPSGDClassifier",
    "HAMPClassifier",
    "MemGuard",
    "RelaxLossClassifier",
    "hamp_loss",
    "hamp_soft_labels",
    "relaxloss_loss",
    "relaxloss_upper",
    "memguard_search",
    "Defence",
    "available_defences",
    "defence_configurations",
    "get_defence",
    "register_defence",
]
