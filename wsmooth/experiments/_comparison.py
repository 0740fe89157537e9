"""The defences of a comparison: the registry's, on one network, with the
grids the ``wsmooth`` command sweeps.

Every defence is built by the registry (:mod:`wsmooth.defences`) with the
same network and training settings (:func:`network_params`), so the
comparison is fair; :func:`defence_grids` gives the settings swept where the
command departs from a defence's default grid (the noise weights of weighted
smoothing, early stopping's epochs), and :func:`comparison_configurations`
puts them together in the ``{name: (estimator, grid)}`` that
:func:`run_experiment` takes.
"""

from .._noise_weight import sigma_grid

__all__ = [
    "WS_DEFENCES",
    "comparison_configurations",
    "defence_grids",
    "early_stopping_grid",
    "network_params",
    "ws_sigma_grid",
]

#: The weighted-smoothing defences, whose grid is the noise weight ``sigma``.
WS_DEFENCES = frozenset({"ws", "ws_reference"})

#: Shares of the full training at which early stopping stops.
_EARLY_STOPS = (0.25, 0.5, 0.75)


def network_params(module, module_params=None, *, epochs, batch_size, lr,
                   device="cpu", random_state=0):
    """The settings every defence's network shares in a comparison.

    Parameters
    ----------
    module : type
        The torch module (:func:`default_network`).
    module_params : dict, default=None
        Its parameters, without the ``module__`` prefix.
    epochs : int
    batch_size : int
    lr : float
    device : str, default="cpu"
    random_state : int, default=0

    Returns
    -------
    dict
        Keyword arguments of every defence's ``build``: ``module``,
        ``module__*``, ``max_epochs``, ``batch_size``, ``lr``, ``device``,
        ``random_state``.
    """
    return {
        "module": module,
        **{f"module__{k}": v for k, v in (module_params or {}).items()},
        "max_epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "device": device,
        "random_state": random_state,
    }


def early_stopping_grid(epochs):
    """Early stopping's settings for a full training of ``epochs`` epochs.

    Parameters
    ----------
    epochs : int
        The epochs of the full training.

    Returns
    -------
    dict
        ``{"max_epochs": [...]}``: a quarter, half and three quarters of the
        full training (at least 1 epoch each, shorter than the full
        training), or ``epochs - 1`` (at least 1) when none is.
    """
    stops = sorted({max(1, round(epochs * f)) for f in _EARLY_STOPS})
    return {"max_epochs": [e for e in stops if e < epochs] or [max(1, epochs - 1)]}


def ws_sigma_grid(n_classes):
    """The noise weights a comparison sweeps for weighted smoothing on
    ``n_classes`` classes.

    On 10 classes 0.3, 0.6 and 1.2: from about a point of accuracy to
    several, at WS's defaults. A given ``sigma`` costs more the more classes
    the data have, so the grid is scaled by ``sqrt(10 / K)`` (0.095 to 0.38
    on 100 classes), its top at most 2; below 10 classes that scaling is
    extrapolated, not measured. Its middle is what the classifier's
    ``sigma="auto"`` takes.

    Parameters
    ----------
    n_classes : int
        Number of classes of the data, at least 2.

    Returns
    -------
    tuple of float
        Three noise weights, a quarter, a half and all of the top, to two
        significant digits.
    """
    return sigma_grid(n_classes)


def defence_grids(names, *, sigma, epochs):
    """The grids a comparison sweeps in place of the defences' defaults.

    Parameters
    ----------
    names : iterable of str
        The defences compared.
    sigma : iterable of float
        The noise weights of the weighted-smoothing defences
        (:data:`WS_DEFENCES`).
    epochs : int
        The full training, which early stopping cuts short
        (:func:`early_stopping_grid`).

    Returns
    -------
    dict
        ``{name: grid}`` for those of ``names`` whose grid is set here; the
        others keep their registered grid.
    """
    names = set(names)
    grids = {name: {"sigma": sorted(set(sigma))} for name in WS_DEFENCES & names}
    if "early_stopping" in names:
        grids["early_stopping"] = early_stopping_grid(epochs)
    return grids


def comparison_configurations(names, *, sigma, warmup_epochs, **common):
    """``{name: (estimator, grid)}`` of the defences compared, for
    :func:`run_experiment`.

    Parameters
    ----------
    names : iterable of str
        Registered defences (:func:`wsmooth.defences.available_defences`);
        repeated names count once.
    sigma : iterable of float
        The noise weights swept by the weighted-smoothing defences.
    warmup_epochs : int
        Weighted smoothing's clean epochs before the noise starts; the
        defences without a warm-up do not take it.
    **common
        The settings every defence's network shares (:func:`network_params`).

    Returns
    -------
    dict
        In the order of ``names``.
    """
    from ..defences import defence_configurations

    names = list(dict.fromkeys(names))
    grids = defence_grids(names, sigma=sigma, epochs=common["max_epochs"])
    configs = defence_configurations(names, grids=grids, **common)
    for estimator, _ in configs.values():
        # only weighted smoothing has a warm-up; the other nets refuse the knob
        if "warmup_epochs" in estimator.get_params(deep=False):
            estimator.set_params(warmup_epochs=warmup_epochs)
    return configs
