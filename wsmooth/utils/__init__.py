"""Plumbing shared by every floor above: data, figures, estimators, attacks,
experiments and the command.

One place for each idea: label -> class index (:func:`class_index`), the checks
on a model's predicted probabilities (:func:`check_proba`), keeping a user's
Ctrl-C through skorch's ``fit`` (:func:`reraise_interrupt`), and the privacy
tags an evaluation reads from an estimator (:func:`get_privacy_tags`). Private
modules hold the rest: stratified draws (``_stratified``), content
fingerprints for cache keys (``_fingerprint``), files written atomically
(``_files``), and ``_sklearn_compat``, the one module that imports
scikit-learn's private helpers.
"""

from ._encode import class_index
from ._interrupt import reraise_interrupt
from ._tags import PrivacyTags, get_privacy_tags, reference_fit_params
from ._validation import check_log_proba, check_proba

__all__ = [
    "PrivacyTags",
    "check_log_proba",
    "check_proba",
    "class_index",
    "get_privacy_tags",
    "reference_fit_params",
    "reraise_interrupt",
]
