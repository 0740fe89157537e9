"""The defences of a comparison and the grids they sweep."""

import pytest

from wsmooth import nets
from wsmooth.experiments import (
    WS_DEFENCES,
    comparison_configurations,
    defence_grids,
    early_stopping_grid,
    network_params,
    ws_sigma_grid,
)

COMMON = network_params(nets.MLP, {"hidden_layer_sizes": (8,)}, epochs=12,
                        batch_size=32, lr=1e-3, device="cpu", random_state=5)


def test_network_params_are_every_defences_settings():
    assert COMMON == {"module": nets.MLP, "module__hidden_layer_sizes": (8,),
                      "max_epochs": 12, "batch_size": 32, "lr": 1e-3,
                      "device": "cpu", "random_state": 5}


@pytest.mark.parametrize("epochs, stops", [
    (12, [3, 6, 9]), (4, [1, 2, 3]), (2, [1]), (1, [1]),
])
def test_early_stopping_stops_before_the_full_training(epochs, stops):
    assert early_stopping_grid(epochs) == {"max_epochs": stops}


def test_grids_set_only_where_the_comparison_departs_from_the_registry():
    grids = defence_grids(["none", "ws", "ws_reference", "early_stopping"],
                          sigma=[0.3, 0.1, 0.3], epochs=8)
    assert grids == {"ws": {"sigma": [0.1, 0.3]},
                     "ws_reference": {"sigma": [0.1, 0.3]},
                     "early_stopping": {"max_epochs": [2, 4, 6]}}
    assert WS_DEFENCES == {"ws", "ws_reference"}
    assert defence_grids(["none", "weight_decay"], sigma=[0.1], epochs=8) == {}


def test_configurations_share_the_network_and_warm_up_only_ws():
    configs = comparison_configurations(
        ["ws", "relaxloss", "ws", "none"], sigma=[0.2], warmup_epochs=2, **COMMON
    )
    assert list(configs) == ["ws", "relaxloss", "none"]
    assert configs["ws"][1] == {"sigma": [0.2]}
    assert configs["ws"][0].warmup_epochs == 2
    assert "warmup_epochs" not in configs["relaxloss"][0].get_params(deep=False)
    for estimator, _ in configs.values():
        assert estimator.get_params()["random_state"] == 5
        assert estimator.get_params()["max_epochs"] == 12


def test_ws_sigma_grid_is_the_registrys_on_ten_classes_and_the_shared_rule():
    from wsmooth._noise_weight import sigma_grid
    from wsmooth.defences import get_defence

    assert list(ws_sigma_grid(10)) == get_defence("ws").grid["sigma"]
    assert get_defence("ws_reference").grid == get_defence("ws").grid
    for k in (2, 7, 100):
        assert ws_sigma_grid(k) == sigma_grid(k)
