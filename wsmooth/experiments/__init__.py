"""Experiments: compare defences on the same splits, seeds and shadow budget.

:func:`run_experiment` trains every defence setting on several seeds and
attacks each with the same shadow budget (the pool protocol), caching finished
cells so that a run resumes; :class:`ExperimentResults` holds the tidy rows.
:func:`pareto_frontier`, :func:`most_accurate_under` and
:func:`frontier_table` answer "which defence and which setting give the most
accuracy for the leakage I accept?"; :class:`FrontierDisplay` draws it.
:func:`hold_out_test` and :func:`member_mask` are the protocol's splits (a
held-out test set, then the target's members in the pool per seed), for
experiments of one's own on the same splits.
"""

from ._display import FrontierDisplay
from ._frontier import (
    frontier_table,
    most_accurate_under,
    pareto_frontier,
    setting_points,
)
from ._results import ExperimentResults
from ._runner import run_experiment
from ._split import hold_out_test, member_mask

__all__ = [
    "ExperimentResults",
    "FrontierDisplay",
    "frontier_table",
    "hold_out_test",
    "member_mask",
    "most_accurate_under",
    "pareto_frontier",
    "run_experiment",
    "setting_points",
]
