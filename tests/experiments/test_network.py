"""The network and training settings of a comparison."""

import numpy as np
import pytest

from wsmooth import nets
from wsmooth._training_defaults import training_defaults
from wsmooth.experiments import (
    DataError,
    default_network,
    network_kind,
    training_settings,
)


def test_images_train_a_cnn_and_rows_the_mlp():
    rows, images = np.zeros((4, 12)), np.zeros((4, 3, 8, 8))
    assert network_kind(rows, "csv") == "mlp"
    assert network_kind(images, "npz") == "cnn"
    assert network_kind(np.zeros((4, 64)), "digits") == "cnn"  # flat, still images
    assert network_kind(rows, "csv", net="densenet") == "densenet"


def test_default_networks():
    module, params, text = default_network(np.zeros((4, 600)), "purchase-like",
                                           hidden=(32, 8))
    assert (module, params, text) == (
        nets.MLP, {"hidden_layer_sizes": (32, 8)}, "MLP 600-32,8")
    module, params, _ = default_network(np.zeros((4, 64)), "digits", channels=4)
    assert (module, params) == (nets.DigitsCNN, {"channels": 4})
    module, params, _ = default_network(np.zeros((4, 1, 8, 8)), "npz")
    assert (module, params) == (nets.CifarCNN, {"in_channels": 1, "channels": 16})


@pytest.mark.parametrize("X, name, net, message", [
    (np.zeros((4, 3, 8, 8)), "npz", "mlp", "needs flat rows"),
    (np.zeros((4, 64)), "digits", "densenet", "3-channel images"),
    (np.zeros((4, 10)), "csv", "cnn", "channel"),
])
def test_a_network_that_cannot_read_the_data_is_refused(X, name, net, message):
    with pytest.raises(DataError, match=message):
        default_network(X, name, net=net)


def test_training_settings_take_the_defaults_and_given_values_win():
    X, y = np.zeros((1797, 64)), np.arange(1797) % 10
    expected = training_defaults("digits", 1797, 64, 10, image=True)
    assert training_settings("digits", X, y) == {
        k: expected[k] for k in ("epochs", "lr", "hidden")}
    given = training_settings("digits", X, y, epochs=5, lr=0.5, hidden=(7,))
    assert given == {"epochs": 5, "lr": 0.5, "hidden": (7,)}
    # the batch size counts the optimiser steps of an epoch
    small = training_defaults("digits", 1797, 64, 10, image=True, batch_size=16)
    assert training_settings("digits", X, y, batch_size=16)["epochs"] == \
        small["epochs"]
