"""Reference torch modules. Every module returns logits (no softmax)."""

import numpy as np
import torch
from torch import nn

__all__ = ["MLP", "DigitsCNN"]

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
    """

    def __init__(self, n_features=64, n_classes=10, channels=32):
        super().__init__()
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
        self.head = nn.Linear(2 * channels * 4, n_classes)

    def forward(self, X):
        if X.dim() == 2:
            X = X.view(-1, 1, self.side, self.side)
        return self.head(torch.flatten(self.features(X), 1))
