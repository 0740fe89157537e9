"""Reading the specifications of run_experiment before anything trains."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from wsmooth.experiments._specs import (
    parse_attacks,
    parse_defences,
    parse_seeds,
    undefended_configuration,
)


def test_settings_are_labelled_by_what_varies():
    specs = parse_defences({"l2": (LogisticRegression(), {"C": [1.0, 0.1]}),
                            "plain": LogisticRegression()})
    assert list(specs["l2"][1]) == ["C=1", "C=0.1"]
    assert specs["plain"][1] == {"default": {}}


def test_unknown_parameters_and_empty_specs_fail_early():
    with pytest.raises(ValueError, match="defences is empty"):
        parse_defences({})
    with pytest.raises(ValueError, match="bogus"):
        parse_defences({"l2": (LogisticRegression(), {"bogus": [1]})})


def test_attacks_are_labelled():
    assert parse_attacks("lira") == {"lira": ("lira", None)}
    assert parse_attacks([("lira", {"online": False})]) == {
        "lira(online=False)": ("lira", {"online": False})}
    with pytest.raises(ValueError, match="attacks is empty"):
        parse_attacks([])


def test_seeds():
    assert parse_seeds(3) == [0, 1, 2]
    assert parse_seeds(np.array([4, 2])) == [4, 2]
    with pytest.raises(ValueError, match="distinct"):
        parse_seeds([1, 1])


@pytest.mark.parametrize("names, found", [
    (["ws", "none"], "none"), (["ws", "baseline"], "baseline"),
    (["ws", "undefended"], "undefended"), (["ws"], None),
])
def test_the_undefended_configuration_is_found_by_name(names, found):
    assert undefended_configuration(None, dict.fromkeys(names)) == found


def test_a_named_undefended_configuration_must_exist():
    assert undefended_configuration("ws", {"ws": None}) == "ws"
    with pytest.raises(ValueError, match="not a configuration"):
        undefended_configuration("none", {"ws": None})
