"""Membership inference attacks: one estimator, one small module per algorithm.

:class:`MembershipInferenceAttack` is the public entry point; its ``method``
is a name or an instance of :class:`ThresholdAttack`,
:class:`CorrectnessAttack`, :class:`LearnedAttack`, :class:`LiRAAttack`,
:class:`RMIAAttack`, :class:`LabelOnlyAttack`, :class:`PrivacyRiskAttack`,
:class:`QuantileAttack` or :class:`DistillationAttack` (the last two need no
shadow model).
:func:`pool_split` sets up the pool protocol. The shadow training engine
(:func:`fit_shadow_models`, :func:`make_keep_masks`,
:func:`train_shadow_models`) and the method interface (:class:`AttackMethod`,
whose ``fit_signals`` reads one :class:`AttackSignals` record of explicit
arrays and whose ``decision_function`` takes explicit arrays,
:func:`register_method` and :func:`available_methods`) are public for users'
own algorithms.
"""

# Each method module registers its algorithms (``@register_method``) when it
# is imported; importing them all here, and only here, registers every
# built-in method before ``MembershipInferenceAttack`` looks one up.
from ._base import MembershipInferenceAttack
from ._label_only import LabelOnlyAttack, label_only_scores, robustness_curves
from ._learned import LearnedAttack
from ._lira import LiRAAttack
from ._methods import AttackMethod, AttackSignals, available_methods, register_method
from ._pool import PoolSplit, pool_split
from ._quantile import DistillationAttack, QuantileAttack
from ._quantile_net import QuantileNetRegressor
from ._risk import PrivacyRiskAttack, privacy_risk_score
from ._rmia import RMIAAttack
from ._shadow import (
    ShadowModels,
    align_proba,
    fit_shadow_models,
    make_keep_masks,
    train_shadow_models,
)
from ._threshold import CorrectnessAttack, ThresholdAttack

__all__ = [
    "AttackMethod",
    "AttackSignals",
    "CorrectnessAttack",
    "DistillationAttack",
    "LearnedAttack",
    "LabelOnlyAttack",
    "LiRAAttack",
    "MembershipInferenceAttack",
    "PoolSplit",
    "PrivacyRiskAttack",
    "QuantileAttack",
    "QuantileNetRegressor",
    "RMIAAttack",
    "ShadowModels",
    "ThresholdAttack",
    "align_proba",
    "available_methods",
    "fit_shadow_models",
    "label_only_scores",
    "robustness_curves",
    "make_keep_masks",
    "pool_split",
    "privacy_risk_score",
    "register_method",
    "train_shadow_models",
]
