"""The command's training defaults per data set and its undertraining check."""

import pytest

from wsmooth._training_defaults import (
    accuracy_floor,
    training_defaults,
    undertrained_warning,
)


def test_built_in_sets_get_their_measured_settings():
    ten = training_defaults("purchase-like", 2500, 600, 10, image=False)
    hundred = training_defaults("purchase-like", 10000, 600, 100, image=False)
    digits = training_defaults("digits", 1797, 64, 10, image=True)
    for d in (ten, hundred, digits):
        assert d["epochs"] >= 1 and d["lr"] > 0 and d["batch_size"] >= 1
        assert "measured" in d["rule"]
    # more classes: a wider hidden layer
    assert max(hundred["hidden"]) > max(ten["hidden"])
    # the digits CNN trains longer or faster than the tabular default
    assert digits["epochs"] * digits["lr"] > ten["epochs"] * ten["lr"]


def test_a_built_in_set_at_other_class_counts_keeps_its_settings():
    four = training_defaults("purchase-like", 160, 600, 4, image=False)
    ten = training_defaults("purchase-like", 2500, 600, 10, image=False)
    assert (four["epochs"], four["lr"], four["hidden"]) == (
        ten["epochs"], ten["lr"], ten["hidden"])


@pytest.mark.parametrize("image", [False, True])
def test_files_follow_the_size_rule(image):
    small = training_defaults("csv", 300, 20, 3, image=image)
    large = training_defaults("csv", 200_000, 20, 3, image=image)
    # small sets train more epochs (as many optimiser steps), within bounds
    assert small["epochs"] > large["epochs"] >= 1
    assert "rule" in small["rule"] and str(300) in small["rule"]
    many = training_defaults("npz", 5000, 20, 50, image=image)
    assert max(many["hidden"]) > max(small["hidden"])


def test_floor_only_where_measured():
    assert 0 < accuracy_floor("digits", 1797, 10) < 1
    assert accuracy_floor("digits", 500, 10) is None  # fewer records
    assert accuracy_floor("purchase-like", 2500, 7) is None  # other classes
    assert accuracy_floor("csv", 10**6, 10) is None


def test_warning_near_chance_names_accuracy_and_remedy():
    text = undertrained_warning(0.12, data="digits", n_classes=10,
                                majority=0.1, training="1 epochs, lr 1e-05")
    assert "0.120" in text and "digits" in text and "chance (0.100)" in text
    assert "--epochs" in text and "--lr" in text and "1 epochs" in text


def test_chance_is_the_majority_class_when_larger():
    # 80% one class: 0.81 is guessing the majority, not a trained model
    assert undertrained_warning(0.81, data="d", n_classes=2, majority=0.8)
    assert undertrained_warning(0.95, data="d", n_classes=2, majority=0.8) is None


def test_warning_below_the_floor_and_none_above():
    low = undertrained_warning(0.7, data="digits", n_classes=10, majority=0.1,
                               floor=0.9)
    assert low and "0.90" in low and "undertrained" in low
    assert undertrained_warning(0.95, data="digits", n_classes=10, majority=0.1,
                                floor=0.9) is None
    assert undertrained_warning(0.7, data="csv", n_classes=10, majority=0.1) is None
    assert undertrained_warning(float("nan"), data="csv", n_classes=10,
                                majority=0.1) is None
