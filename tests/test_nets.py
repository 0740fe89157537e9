"""Reference torch modules."""

import pytest
import torch

import numpy as np

from wsmooth.nets import MLP, CifarCNN, DenseNet, DigitsCNN


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


# ------------------------------------------------------------- image nets
@pytest.fixture
def one_thread():
    """Convolutions on a shared 2-core machine run far faster on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("net_class", [CifarCNN, DenseNet])
def test_image_nets_take_flat_rows_and_images(net_class, one_thread):
    net = net_class(n_features=3072, n_classes=7).eval()
    flat = torch.randn(2, 3072)
    out = net(flat)
    assert out.shape == (2, 7)
    # a flat row is the channel-major image, as CIFAR's batches store it
    assert torch.allclose(out, net(flat.view(2, 3, 32, 32)), atol=1e-6)
    # sized from images: n_features is then the channel count, any image size
    assert net_class(n_features=3, n_classes=7)(torch.zeros(2, 3, 32, 32)).shape == (2, 7)
    with pytest.raises(ValueError, match="shape"):
        net(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match="n_features"):
        net_class(n_features=3000)


def test_densenet_is_densenet_bc():
    net = DenseNet(depth=40, growth_rate=12)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    # first conv + 3 blocks x 6 bottleneck layers x 2 convs + 2 transitions
    assert len(convs) == 1 + 3 * 6 * 2 + 2
    # channels: 24 + 6*12 = 96 -> 48; 48 + 72 = 120 -> 60; 60 + 72 = 132
    assert net.head.in_features == 132
    assert len([m for m in DenseNet(depth=52).modules()
                if isinstance(m, torch.nn.Conv2d)]) == 1 + 3 * 8 * 2 + 2
    with pytest.raises(ValueError, match="depth"):
        DenseNet(depth=41)
    with pytest.raises(ValueError, match="compression"):
        DenseNet(compression=0)


@pytest.mark.parametrize("net_class, params", [
    (CifarCNN, {"channels": 4}),
    (DenseNet, {"depth": 10, "growth_rate": 4}),
])
@pytest.mark.parametrize("images", [False, True])
def test_image_nets_train_in_the_classifier(net_class, params, images, one_thread):
    from wsmooth import WeightedSmoothingClassifier

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 16)
    X = rng.normal(size=(48, 3, 32, 32)).astype(np.float32)
    X[:, 0] += 3 * y[:, None, None]  # the class shifts the red channel
    if not images:
        X = X.reshape(48, -1)
    module_params = {f"module__{k}": v for k, v in params.items()}
    clf = WeightedSmoothingClassifier(
        module=net_class, sigma=0.1, max_epochs=8, warmup_epochs=2, batch_size=16,
        lr=1e-2, random_state=0, device="cpu", **module_params,
    ).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (48, 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert clf.module_.head.out_features == 3
    assert clf.score(X, y) > 0.6  # it learned the class from the red channel


@pytest.mark.parametrize("net", [
    lambda d: MLP(10, 2, dropout=d),
    lambda d: DigitsCNN(dropout=d),
    lambda d: CifarCNN(dropout=d),
    lambda d: DenseNet(depth=10, dropout=d),
])
def test_every_net_takes_the_dropout_defence(net):
    assert any(isinstance(m, torch.nn.Dropout) and m.p == 0.3
               for m in net(0.3).modules())
    with pytest.raises(ValueError, match="dropout"):
        net(1.0)
