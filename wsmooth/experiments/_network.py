"""The network of a comparison: which module, trained how long and how fast.

Every defence of a comparison trains the same network with the same epochs
and learning rate. :func:`default_network` picks the module for the data (a
CNN for images, the tanh MLP for flat rows, or the one asked for);
:func:`training_settings` fills the epochs, learning rate and hidden layers
left unset with the data set's measured defaults
(:func:`wsmooth._training_defaults.training_defaults`).
"""

import numpy as np

from ._data import IMAGE_DATASETS, DataError

__all__ = ["NETWORKS", "default_network", "network_kind", "training_settings"]

#: The network choices: ``"auto"`` picks ``"cnn"`` for images, else ``"mlp"``.
NETWORKS = ("auto", "mlp", "cnn", "densenet")
#: Width of the CNNs' first block, unless given.
DEFAULT_CHANNELS = 16


def network_kind(X, data_name, net="auto"):
    """The network that trains on ``X``: ``"mlp"``, ``"cnn"`` or ``"densenet"``.

    Parameters
    ----------
    X : ndarray
        The features: images when of shape (n, C, H, W).
    data_name : str
        The data set's name (:func:`load_dataset`): digits and CIFAR are
        images even as flat rows.
    net : {"auto", "mlp", "cnn", "densenet"}, default="auto"
        The network asked for; ``"auto"``: a CNN for images, else the MLP.

    Returns
    -------
    str
    """
    image = X.ndim == 4 or data_name in IMAGE_DATASETS
    return net if net != "auto" else ("cnn" if image else "mlp")


def training_settings(data_name, X, y, *, net="auto", batch_size=128, epochs=None,
                      lr=None, hidden=None):
    """Epochs, learning rate and MLP hidden layers: those given, else the
    data set's defaults.

    Parameters
    ----------
    data_name : str
        The data set's name (:func:`load_dataset`).
    X : ndarray
    y : array-like of shape (n_records,)
    net : {"auto", "mlp", "cnn", "densenet"}, default="auto"
        The network asked for (images train longer than flat rows).
    batch_size : int, default=128
        The mini-batch size: the default epochs give a fixed number of
        optimiser steps.
    epochs, lr, hidden : default=None
        Values given; None takes the data set's default.

    Returns
    -------
    dict
        ``epochs``, ``lr`` and ``hidden`` (the MLP's hidden layer sizes).
    """
    from .._training_defaults import training_defaults

    defaults = training_defaults(
        data_name, len(y), int(np.prod(X.shape[1:])), len(np.unique(y)),
        image=network_kind(X, data_name, net) != "mlp", batch_size=batch_size,
    )
    given = {"epochs": epochs, "lr": lr, "hidden": hidden}
    return {k: defaults[k] if v is None else v for k, v in given.items()}


def default_network(X, data_name, *, net="auto", hidden=(128,),
                    channels=DEFAULT_CHANNELS):
    """The module every defence of a comparison trains on ``X``.

    Parameters
    ----------
    X : ndarray
        The features: flat rows (n, d) or images (n, C, H, W).
    data_name : str
        The data set's name (:func:`load_dataset`).
    net : {"auto", "mlp", "cnn", "densenet"}, default="auto"
        ``"auto"``: a CNN for images (digits' small one, CIFAR's for other
        images), else the MLP.
    hidden : tuple of int, default=(128,)
        The MLP's hidden layer sizes.
    channels : int, default=16
        Width of the CNN's first block.

    Returns
    -------
    module : type
        A network of :mod:`wsmooth.nets`.
    module_params : dict
        Its parameters, without the ``module__`` prefix.
    description : str
        E.g. ``"MLP 600-128"``.

    Raises
    ------
    DataError
        When the network cannot read the data: the MLP images, DenseNet the
        digits, a CNN flat rows that are not square images.
    """
    from .. import nets

    kind = network_kind(X, data_name, net)
    if kind == "mlp":
        width = int(np.prod(X.shape[1:]))
        if X.ndim != 2:
            raise DataError(f"--net mlp needs flat rows; the data are images {X.shape}")
        sizes = ",".join(map(str, hidden))
        return nets.MLP, {"hidden_layer_sizes": hidden}, f"MLP {width}-{sizes}"
    if data_name == "digits":
        if kind == "densenet":
            raise DataError("--net densenet takes 3-channel images, not digits")
        return nets.DigitsCNN, {"channels": channels}, "DigitsCNN"
    # images (n, C, H, W): C channels, any size; flat rows: 3 x side x side
    in_channels = X.shape[1] if X.ndim == 4 else 3
    try:
        nets._image_layout(X.shape[1], in_channels, f"--net {kind}")
    except ValueError as exc:
        raise DataError(str(exc)) from None
    if kind == "densenet":
        return nets.DenseNet, {"in_channels": in_channels}, "DenseNet-BC-40 (k=12)"
    params = {"in_channels": in_channels, "channels": channels}
    return nets.CifarCNN, params, "CifarCNN"
