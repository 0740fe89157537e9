"""Reference torch modules."""

import pytest
import torch

from wsmooth.nets import MLP, DigitsCNN


def test_mlp_default_is_the_purchase_architecture():
    net = MLP(600, 100)
    widths = [m.out_features for m in net.layers if isinstance(m, torch.nn.Linear)]
    assert widths == [1024, 512, 256, 128, 100]
    assert sum(isinstance(m, torch.nn.Tanh) for m in net.layers) == 4
    assert net(torch.zeros(3, 600)).shape == (3, 100)


def test_mlp_rejects_wrong_input_and_activation():
    with pytest.raises(ValueError, match="shape"):
        MLP(10, 2)(torch.zeros(3, 9))
    with pytest.raises(ValueError, match="activation"):
        MLP(10, 2, activation="sigmoidish")


def test_digits_cnn_takes_flat_rows_and_images():
    net = DigitsCNN()
    assert net(torch.zeros(2, 64)).shape == (2, 10)
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    with pytest.raises(ValueError, match="square"):
        DigitsCNN(n_features=60)
