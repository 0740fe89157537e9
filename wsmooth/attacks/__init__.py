"""Membership inference attacks: one estimator, one small module per algorithm.

:class:`MembershipInferenceAttack` is the public entry point. The shadow
training engine (:func:`fit_shadow_models`, :func:`make_keep_masks`,
:func:`train_shadow_models`) and the method interface (:class:`AttackMethod`,
:class:`AttackData`, :func:`register_method`) are public for algorithms added
later (LiRA, RMIA) and for users' own.
"""

from . import _lira, _rmia  # noqa: F401  (register "lira" and "rmia")
from ._base import MembershipInferenceAttack
from ._methods import AttackData, AttackMethod, register_method
from ._pool import PoolSplit, pool_split
from ._shadow import (
    ShadowModels,
    align_proba,
    fit_shadow_models,
    make_keep_masks,
    train_shadow_models,
)

__all__ = [
    "AttackData",
    "AttackMethod",
    "MembershipInferenceAttack",
    "PoolSplit",
    "ShadowModels",
    "align_proba",
    "fit_shadow_models",
    "make_keep_masks",
    "pool_split",
    "register_method",
    "train_shadow_models",
]
