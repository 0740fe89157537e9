"""Plumbing shared by the estimators, the attacks and the command.

One place for each idea: label -> class index (:func:`class_index`), the checks
on a model's predicted probabilities (:func:`check_proba`), and keeping a
user's Ctrl-C through skorch's ``fit`` (:func:`reraise_interrupt`).
"""

from ._encode import class_index
from ._interrupt import reraise_interrupt
from ._validation import check_log_proba, check_proba

__all__ = ["check_log_proba", "check_proba", "class_index", "reraise_interrupt"]
