import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid

from wsmooth import NetClassifier, WeightedSmoothingClassifier
from wsmooth.datasets import make_purchase_like
from wsmooth.defences import (
    Defence,
    available_defences,
    defence_configurations,
    get_defence,
    register_defence,
)
from wsmooth.defences import _registry

COMMON = dict(max_epochs=6, module__hidden_layer_sizes=(16,), random_state=0)
CHEAP = ["dropout", "early_stopping", "label_smoothing", "none", "weight_decay"]


@pytest.fixture(scope="module")
def data():
    return make_purchase_like(300, n_classes=3, random_state=0)


@pytest.fixture(scope="module")
def undefended_proba(data):
    X, y = data
    return get_defence("none").build(**COMMON).fit(X, y).predict_proba(X)


def test_registry_names_the_baselines_and_ws():
    assert set(CHEAP + ["ws"]) <= set(available_defences())
    assert available_defences() == sorted(available_defences())
    with pytest.raises(ValueError, match="Unknown defence 'wd'.*registered"):
        get_defence("wd")


@pytest.mark.parametrize("name", CHEAP)
def test_cheap_baselines_are_configurations_of_the_plain_network(name):
    est = get_defence(name).build(**COMMON)
    # not weighted smoothing: a change of its defaults leaves them alone
    assert type(est) is NetClassifier
    assert est.clip_grad_norm == 10.0
    for params in ParameterGrid(get_defence(name).grid):
        clone(est).set_params(**params)  # every grid name is a real parameter
    assert get_defence(name).build(**COMMON, clip_grad_norm=None).clip_grad_norm is None


def test_none_is_weighted_smoothing_at_sigma_zero(data):
    # ReLU on large features: gradients past the bound of 10, so the clipping
    # is compared too
    X, y = data
    X = X * 50
    params = {**COMMON, "module__activation": "relu"}
    plain = get_defence("none").build(**params).fit(X, y)
    ws = WeightedSmoothingClassifier(sigma=0.0, **params).fit(X, y)
    np.testing.assert_array_equal(plain.predict_proba(X), ws.predict_proba(X))
    unclipped = get_defence("none").build(**params, clip_grad_norm=None).fit(X, y)
    assert not np.array_equal(plain.predict_proba(X), unclipped.predict_proba(X))


@pytest.mark.parametrize(
    "name, params",
    [
        ("weight_decay", {"optimizer__weight_decay": 0.1}),
        ("label_smoothing", {"criterion__label_smoothing": 0.3}),
        ("dropout", {"module__dropout": 0.5}),
        ("early_stopping", {"max_epochs": 2}),
    ],
)
def test_each_knob_reaches_training(data, undefended_proba, name, params):
    X, y = data
    model = get_defence(name).build(**COMMON).set_params(**params).fit(X, y)
    proba = model.predict_proba(X)
    assert np.abs(proba - undefended_proba).max() > 1e-3
    # each of these knobs makes the model less confident on its members
    assert proba.max(axis=1).mean() < undefended_proba.max(axis=1).mean()


def test_configurations_for_the_runner():
    configs = defence_configurations(
        ["none", "ws"], grids={"ws": {"sigma": [0.5]}}, **COMMON
    )
    assert list(configs) == ["none", "ws"]
    (plain, plain_grid), (ws, ws_grid) = configs["none"], configs["ws"]
    assert plain_grid == {} and ws_grid == {"sigma": [0.5]}
    assert ws.max_epochs == 6 and ws.random_state == 0
    with pytest.raises(ValueError, match="grids given for defences not compared"):
        defence_configurations(["none"], grids={"ws": {}})


def test_register_refuses_to_overwrite_unless_forced(monkeypatch):
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    mine = Defence("none", lambda **common: None)
    with pytest.raises(ValueError, match="registered already.*force=True"):
        register_defence(mine)
    assert register_defence(mine, force=True) is get_defence("none")
    with pytest.raises(TypeError, match="takes a Defence"):
        register_defence("none")


def test_ws_is_the_default_and_ws_reference_the_papers_loop():
    from wsmooth import WeightedSmoothingClassifier
    from wsmooth.classifier import PAPER_SETTINGS

    configs = defence_configurations(
        ["ws", "ws_reference"], grids={"ws_reference": {"sigma": [0.3]}}, **COMMON
    )
    (ws, _), (ref, ref_grid) = configs["ws"], configs["ws_reference"]
    defaults = WeightedSmoothingClassifier().get_params()
    for name in PAPER_SETTINGS:
        assert getattr(ws, name) == defaults[name]
        assert getattr(ref, name) == PAPER_SETTINGS[name]
    assert ref_grid == {"sigma": [0.3]} and ref.max_epochs == ws.max_epochs


