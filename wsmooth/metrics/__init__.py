"""Membership-leakage figures (AUC, TPR at low FPR, advantage) and ROC plots.

The figures of membership scores (``_figures``), every figure of one attack at
once (:func:`membership_report`, ``_reports``), the log-log ROC display
(:class:`MembershipRocDisplay`, ``_display``), and the ``GridSearchCV``
leakage scorer with its refit rule (:func:`make_membership_scorer`,
:func:`most_accurate_under_leakage`, ``_scorer``). Nothing here imports an
estimator or an attack of the package.
"""

from ._display import MembershipRocDisplay
from ._figures import (
    balanced_accuracy_at_threshold,
    best_balanced_accuracy,
    mean_tpr_at_low_fpr,
    membership_advantage,
    membership_auc,
    membership_roc_curve,
    tpr_at_fpr,
)
from ._reports import (
    ClassMembershipReport,
    MembershipReport,
    membership_report,
    membership_report_by_class,
)
from ._scorer import make_membership_scorer, most_accurate_under_leakage

__all__ = [
    "ClassMembershipReport",
    "MembershipReport",
    "MembershipRocDisplay",
    "balanced_accuracy_at_threshold",
    "best_balanced_accuracy",
    "membership_advantage",
    "membership_auc",
    "membership_report",
    "membership_report_by_class",
    "membership_roc_curve",
    "make_membership_scorer",
    "mean_tpr_at_low_fpr",
    "most_accurate_under_leakage",
    "tpr_at_fpr",
]
