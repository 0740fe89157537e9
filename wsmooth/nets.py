"""Reference torch modules. Every module returns logits (no softmax)."""

import numpy as np
import torch
from torch import nn

__all__ = ["MLP", "CifarCNN", "DenseNet", "DigitsCNN"]

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU}


class MLP(nn.Module):
    """Fully connected classifier, the field's standard for Purchase100/Texas100.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_classes : int
        Number of outputs (logits).
    hidden_layer_sizes : tuple of int, default=(1024, 512, 256, 128)
    activation : {"tanh", "relu", "gelu"}, default="tanh"
    dropout : float, default=0.0
        Dropout after every hidden activation.
    """

    def __init__(
        self,
        n_features,
        n_classes,
        hidden_layer_sizes=(1024, 512, 256, 128),
        activation="tanh",
        dropout=0.0,
    ):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}"
            )
        sizes = tuple(hidden_layer_sizes)
        if not all(
            isinstance(h, (int, np.integer)) and not isinstance(h, bool) and h >= 1
            for h in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be positive integers, got "
                f"{hidden_layer_sizes!r}"
            )
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.n_features = int(n_features)
        layers = []
        width = self.n_features
        for size in sizes:
            layers += [nn.Linear(width, int(size)), _ACTIVATIONS[activation]()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = int(size)
        layers.append(nn.Linear(width, int(n_classes)))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        if X.dim() != 2 or X.shape[1] != self.n_features:
            raise ValueError(
                f"MLP expects input of shape (n_samples, {self.n_features}), "
                f"got {tuple(X.shape)}"
            )
        return self.layers(X)


class DigitsCNN(nn.Module):
    """Small convolutional net for square single-channel images (``load_digits``).

    Takes flat rows of ``side * side`` pixels, as scikit-learn's bundled digits
    come, or ``(n, 1, side, side)`` tensors.

    Parameters
    ----------
    n_features : int, default=64
        Pixels per image; must be a perfect square.
    n_classes : int, default=10
    channels : int, default=32
    dropout : float, default=0.0
        Dropout before the head (the ``"dropout"`` defence sets it).
    """

    def __init__(self, n_features=64, n_classes=10, channels=32, dropout=0.0):
        super().__init__()
        _check_dropout(dropout)
        side = int(round(n_features**0.5))
        if side * side != n_features:
            raise ValueError(f"n_features must be a square number, got {n_features}")
        self.side = side
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
        )
        self.dropout = nn.Dropout(dropout)  # no weights: state dicts unchanged
        self.head = nn.Linear(2 * channels * 4, n_classes)

    def forward(self, X):
        if X.dim() == 2:
            X = X.view(-1, 1, self.side, self.side)
        return self.head(self.dropout(torch.flatten(self.features(X), 1)))


def _image_layout(n_features, in_channels, name):
    """``(channels, side)`` of the images a net built for ``n_features`` reads.

    The classifier sizes a module from ``X.shape[1]``: the pixel count of flat
    rows (``channels * side * side``), or the channel count of ``(n, C, H, W)``
    images (``side`` is then None: any image size works).
    """
    n_features, in_channels = int(n_features), int(in_channels)
    if in_channels < 1:
        raise ValueError(f"in_channels must be >= 1, got {in_channels}")
    if n_features == in_channels:
        return in_channels, None
    side = int(round((n_features / in_channels) ** 0.5))
    if n_features % in_channels or side * side * in_channels != n_features:
        raise ValueError(
            f"{name} reads images of {in_channels} channel(s): n_features must be "
            f"{in_channels} (images of shape (n, {in_channels}, H, W)) or "
            f"{in_channels} x side x side (flat rows), got {n_features}"
        )
    return in_channels, side


def _as_images(X, channels, side, name):
    if X.dim() == 2 and side is not None:
        return X.view(-1, channels, side, side)
    if X.dim() != 4 or X.shape[1] != channels:
        expected = f"(n, {channels}, H, W)" + (
            f" or (n, {channels * side * side})" if side else ""
        )
        raise ValueError(f"{name} expects input of shape {expected}, got {tuple(X.shape)}")
    return X


def _check_dropout(dropout):
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")


class CifarCNN(nn.Module):
    """Small convolutional net for CIFAR-sized colour images (32 x 32 x 3).

    Three blocks of two 3x3 convolutions with batch norm and ReLU, each halving
    the image, then global average pooling and a linear head: about 0.3
    million weights with the default ``channels=32``, so that it trains on a
    CPU in minutes on a few thousand images. Takes flat rows of
    ``in_channels * side * side`` values (channel-major, as CIFAR's batches
    store them) or ``(n, in_channels, H, W)`` tensors.

    Parameters
    ----------
    n_features : int, default=3072
        Width of a flat row, or ``in_channels`` when the data are images;
        :class:`~wsmooth.WeightedSmoothingClassifier` passes ``X.shape[1]``.
    n_classes : int, default=10
    in_channels : int, default=3
    channels : int, default=32
        Width of the first block; the second and third have 2x and 4x.
    dropout : float, default=0.0
        Dropout before the head (the ``"dropout"`` defence sets it).
    """

    def __init__(self, n_features=3072, n_classes=10, in_channels=3, channels=32,
                 dropout=0.0):
        super().__init__()
        self.in_channels, self.side = _image_layout(n_features, in_channels, "CifarCNN")
        _check_dropout(dropout)
        blocks, width = [], self.in_channels
        for out in (channels, 2 * channels, 4 * channels):
            blocks += [
                nn.Conv2d(width, out, 3, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(),
                nn.Conv2d(out, out, 3, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            width = out
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, int(n_classes))

    def forward(self, X):
        X = _as_images(X, self.in_channels, self.side, "CifarCNN")
        return self.head(self.dropout(self.features(X)))


class _DenseLayer(nn.Module):
    """BN-ReLU-Conv1x1 (4k channels) then BN-ReLU-Conv3x3 (k), concatenated."""

    def __init__(self, width, growth_rate):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, 4 * growth_rate, 1, bias=False),
            nn.BatchNorm2d(4 * growth_rate),
            nn.ReLU(),
            nn.Conv2d(4 * growth_rate, growth_rate, 3, padding=1, bias=False),
        )

    def forward(self, X):
        return torch.cat([X, self.body(X)], 1)


class DenseNet(nn.Module):
    """DenseNet-BC (Huang et al., CVPR 2017) for CIFAR-sized images.

    The net of the CIFAR runs in the membership-inference literature, WS's
    included: three dense blocks of bottleneck layers with growth rate
    ``growth_rate``, transitions that compress by ``compression`` and halve
    the image, global average pooling and a linear head. ``depth=40``,
    ``growth_rate=12`` has about 0.18 million weights but 50-odd convolutions
    at full resolution: it is **sized for a GPU** (``device="cuda"``); an
    epoch of 25,000 CIFAR images takes tens of seconds on a recent GPU and
    many minutes on a CPU. ``depth=100`` is the paper's DenseNet-BC-100.

    Parameters
    ----------
    n_features : int, default=3072
        Width of a flat row, or ``in_channels`` when the data are images.
    n_classes : int, default=10
    in_channels : int, default=3
    depth : int, default=40
        ``6 * layers_per_block + 4``: 40, 52, 64, ..., 100, ...
    growth_rate : int, default=12
    compression : float, default=0.5
        Channel reduction of each transition, in (0, 1].
    dropout : float, default=0.0
        Dropout before the head.
    """

    def __init__(self, n_features=3072, n_classes=10, in_channels=3, depth=40,
                 growth_rate=12, compression=0.5, dropout=0.0):
        super().__init__()
        self.in_channels, self.side = _image_layout(n_features, in_channels, "DenseNet")
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(
                f"depth must be 6 * layers_per_block + 4 (40, 52, ..., 100), got {depth}"
            )
        if not 0 < compression <= 1:
            raise ValueError(f"compression must be in (0, 1], got {compression!r}")
        _check_dropout(dropout)
        per_block = (depth - 4) // 6
        width = 2 * growth_rate
        layers = [nn.Conv2d(self.in_channels, width, 3, padding=1, bias=False)]
        for block in range(3):
            for _ in range(per_block):
                layers.append(_DenseLayer(width, growth_rate))
                width += growth_rate
            if block < 2:
                out = int(width * compression)
                layers += [
                    nn.BatchNorm2d(width),
                    nn.ReLU(),
                    nn.Conv2d(width, out, 1, bias=False),
                    nn.AvgPool2d(2),
                ]
                width = out
        layers += [nn.BatchNorm2d(width), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, int(n_classes))

    def forward(self, X):
        X = _as_images(X, self.in_channels, self.side, "DenseNet")
        return self.head(self.dropout(self.features(X)))
