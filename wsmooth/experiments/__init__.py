"""Experiments: compare defences on the same splits, seeds and shadow budget.

:func:`run_experiment` trains every defence setting on several seeds and
attacks each with the same shadow budget (the pool protocol), caching finished
cells so that a run resumes; :class:`ExperimentResults` holds the tidy rows.
:func:`pareto_frontier`, :func:`most_accurate_under` and
:func:`frontier_table` answer "which defence and which setting give the most
accuracy for the leakage I accept?"; :class:`FrontierDisplay` draws it.

The set-up the ``wsmooth`` command uses, for scripts that compare as it does:
:func:`load_dataset` and :func:`check_dataset` (the data),
:func:`default_network` and :func:`training_settings` (the network every
defence trains, and for how long), :func:`comparison_configurations` (the
defences and the grids they sweep, from :func:`network_params` and
:func:`defence_grids`).

:func:`hold_out_test`, :func:`member_mask` and :func:`attacker_pool_labels`
are the protocol's splits (a held-out test set, the target's members in the
pool per seed, the labels of the attacker's pool), for experiments of one's
own on the same splits.
"""

from ._comparison import (
    WS_DEFENCES,
    comparison_configurations,
    defence_grids,
    early_stopping_grid,
    network_params,
    ws_sigma_grid,
)
from ._data import (
    DEFAULT_N_SAMPLES,
    REFERENCE_SIZE,
    TEST_SIZE,
    DataError,
    DataTooSmallError,
    attacker_pool_labels,
    check_dataset,
    load_dataset,
)
from ._display import FrontierDisplay
from ._frontier import (
    frontier_table,
    most_accurate_under,
    pareto_frontier,
    setting_points,
)
from ._network import NETWORKS, default_network, network_kind, training_settings
from ._results import ExperimentResults
from ._runner import run_experiment
from ._split import hold_out_test, member_mask

__all__ = [
    "DEFAULT_N_SAMPLES",
    "NETWORKS",
    "REFERENCE_SIZE",
    "TEST_SIZE",
    "WS_DEFENCES",
    "DataError",
    "DataTooSmallError",
    "ExperimentResults",
    "FrontierDisplay",
    "attacker_pool_labels",
    "check_dataset",
    "comparison_configurations",
    "default_network",
    "defence_grids",
    "early_stopping_grid",
    "frontier_table",
    "hold_out_test",
    "member_mask",
    "load_dataset",
    "most_accurate_under",
    "network_kind",
    "network_params",
    "pareto_frontier",
    "run_experiment",
    "setting_points",
    "training_settings",
    "ws_sigma_grid",
]
