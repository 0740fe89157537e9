"""The defence registry: name -> how to build the defended estimator.

A :class:`Defence` builds an unfitted estimator from the settings every
defence shares (network, epochs, batch size, seed...) and carries the
parameter grid a comparison sweeps by default: the pair the experiment runner
takes (:func:`wsmooth.experiments.run_experiment`). The cheap baselines are
configurations of the undefended network, a plain :class:`~wsmooth.NetClassifier`
(``get_defence("none").build``), each turning one knob skorch or torch already
has; they are not classes of their own.
"""

from dataclasses import dataclass, field
from typing import Callable

from .._noise_weight import SIGMA_GRID_10_CLASSES

__all__ = [
    "Defence",
    "available_defences",
    "defence_configurations",
    "get_defence",
    "register_defence",
]

_REGISTRY = {}

#: Gradient-norm bound of the undefended network: the reference training loop
#: of weighted smoothing clips at 10, so that ``"none"`` and
#: ``WeightedSmoothingClassifier(sigma=0)`` (at its defaults) train the same
#: model, bit for bit, and the comparison measures the noise alone. Set here,
#: not read from the classifier, so that a change of its defaults leaves the
#: baselines alone.
_UNDEFENDED_CLIP_GRAD_NORM = 10.0

#: Noise weights swept by default by the weighted-smoothing defences: the
#: range where WS at its defaults defends 10-class data
#: (:func:`wsmooth.experiments.ws_sigma_grid` adapts it to the class count).
WS_SIGMA_GRID = SIGMA_GRID_10_CLASSES


@dataclass(frozen=True)
class Defence:
    """A named defence: how to build it and which settings to compare.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"weight_decay"``.
    build : callable
        ``build(**common) -> estimator``: an unfitted estimator, ``common``
        being the settings shared by every defence of a comparison
        (``max_epochs``, ``module``, ``module__hidden_layer_sizes``,
        ``batch_size``, ``lr``, ``random_state``, ...).
    grid : dict
        Default parameter grid, over the built estimator's ``get_params``
        names, as :class:`sklearn.model_selection.ParameterGrid` takes it.
    description : str
        One line: what the defence does.
    reference : str, default=""
        Where it comes from.
    """

    name: str
    build: Callable
    grid: dict = field(default_factory=dict)
    description: str = ""
    reference: str = ""


def register_defence(defence, *, force=False):
    """Add ``defence`` to the registry.

    Parameters
    ----------
    defence : Defence
    force : bool, default=False
        Replace a defence registered under the same name; without it, such a
        name is refused (a typo must not silently change what a comparison
        runs).

    Returns
    -------
    Defence
    """
    if not isinstance(defence, Defence):
        raise TypeError(f"register_defence takes a Defence, got {defence!r}")
    if defence.name in _REGISTRY and not force:
        raise ValueError(
            f"a defence named {defence.name!r} is registered already; pass "
            "force=True to replace it"
        )
    _REGISTRY[defence.name] = defence
    return defence


def available_defences():
    """Names of the registered defences, sorted."""
    return sorted(_REGISTRY)


def get_defence(name):
    """The :class:`Defence` registered under ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"Unknown defence {name!r}; registered: {available_defences()}"
        ) from None


def defence_configurations(names=None, *, grids=None, **common):
    """``{name: (estimator, grid)}`` for the experiment runner.

    Parameters
    ----------
    names : list of str, default=None
        Defences to compare; all registered ones if None.
    grids : dict, default=None
        ``{name: grid}`` replacing a defence's default grid.
    **common
        Settings passed to every defence's ``build`` (same network, epochs
        and seed for all, so the comparison is fair).

    Returns
    -------
    dict
    """
    names = available_defences() if names is None else list(names)
    grids = grids or {}
    unknown = sorted(set(grids) - set(names))
    if unknown:
        raise ValueError(f"grids given for defences not compared: {unknown}")
    configurations = {}
    for name in names:
        defence = get_defence(name)
        configurations[name] = (defence.build(**common), grids.get(name, defence.grid))
    return configurations


# --------------------------------------------------------------------------- #
# Weighted smoothing and the cheap baselines
# --------------------------------------------------------------------------- #
def _ws(**common):
    from ..classifier import WeightedSmoothingClassifier

    return WeightedSmoothingClassifier(**common)


def _ws_reference(**common):
    from ..classifier import WeightedSmoothingClassifier

    return WeightedSmoothingClassifier.reference(**common)


def _undefended(**common):
    """The undefended network: plain negative log-likelihood, no defence.

    A :class:`~wsmooth.NetClassifier` with the gradient norm clipped at
    ``_UNDEFENDED_CLIP_GRAD_NORM`` unless ``common`` sets ``clip_grad_norm``:
    what the ``"none"`` defence and the cheap baselines build, and the network
    ``"memguard"`` protects.
    """
    from .._net import NetClassifier

    return NetClassifier(**{"clip_grad_norm": _UNDEFENDED_CLIP_GRAD_NORM, **common})


register_defence(
    Defence(
        "none",
        _undefended,
        {},
        "the undefended network (plain negative log-likelihood)",
    )
)
register_defence(
    Defence(
        "ws",
        _ws,
        {"sigma": list(WS_SIGMA_GRID)},
        "weighted smoothing at its defaults: Gaussian noise on the softmax "
        "output during training, more for the records the model already fits "
        "confidently, weighed from each training step, relative gradient "
        "clipping",
        "Tan et al., ACSAC 2023; defaults measured in the tuning guide",
    )
)
register_defence(
    Defence(
        "ws_reference",
        _ws_reference,
        {"sigma": list(WS_SIGMA_GRID)},
        "weighted smoothing as Tan et al.'s training loop has it "
        "(WeightedSmoothingClassifier.reference): the reproduction",
        "Tan et al., ACSAC 2023",
    )
)
register_defence(
    Defence(
        "weight_decay",
        _undefended,
        {"optimizer__weight_decay": [1e-4, 1e-3, 1e-2]},
        "L2 penalty on the weights (the optimizer's weight_decay)",
    )
)
register_defence(
    Defence(
        "early_stopping",
        _undefended,
        {"max_epochs": [3, 6, 10]},
        "training stopped after a fixed number of epochs (no validation "
        "split: every record given to fit is a member)",
    )
)
register_defence(
    Defence(
        "label_smoothing",
        _undefended,
        {"criterion__label_smoothing": [0.05, 0.1, 0.2]},
        "soft targets: the loss spreads epsilon of each label's mass over "
        "every class (torch's CrossEntropyLoss label_smoothing)",
        "Szegedy et al., CVPR 2016",
    )
)
register_defence(
    Defence(
        "dropout",
        _undefended,
        {"module__dropout": [0.1, 0.3, 0.5]},
        "dropout after every hidden layer of the default MLP",
        "Srivastava et al., JMLR 2014",
    )
)


# --------------------------------------------------------------------------- #
# The defences with estimators of their own
# --------------------------------------------------------------------------- #
# Each builder imports its defence's own module, never the package, whose
# ``__init__`` imports this registry.
def _dpsgd(**common):
    from ._dpsgd import DPSGDClassifier

    return DPSGDClassifier(**common)


def _relaxloss(**common):
    from ._relaxloss import RelaxLossClassifier

    return RelaxLossClassifier(**common)


def _advreg(**common):
    from ._advreg import AdversarialRegularizationClassifier

    return AdversarialRegularizationClassifier(**common)


def _hamp(**common):
    from ._hamp import HAMPClassifier

    return HAMPClassifier(**common)


def _memguard(**common):
    from ._memguard import MemGuard

    random_state = common.get("random_state")
    return MemGuard(_undefended(**common), random_state=random_state)


def _dpsgd_grid():
    """Epsilon from strong to nearly no privacy, each with DP-SGD's tuned
    training (``wsmooth.defences._dpsgd.TUNED_TRAINING``): its own batch
    rule, epochs and learning rate replace the shared ones, which suit plain
    training."""
    from ._dpsgd import TUNED_EPSILONS, TUNED_TRAINING

    return {"target_epsilon": list(TUNED_EPSILONS),
            **{k: [v] for k, v in TUNED_TRAINING.items()}}


register_defence(
    Defence(
        "dpsgd",
        _dpsgd,
        _dpsgd_grid(),
        "DP-SGD through Opacus: per-record gradient clipping and Gaussian noise "
        "calibrated to a target (epsilon, delta), trained with its own tuned "
        "schedule (a quarter of the records a step, 60 epochs, lr 3e-3); needs "
        "the dp extra",
        "Abadi et al., CCS 2016",
    )
)
register_defence(
    Defence(
        "relaxloss",
        _relaxloss,
        {"alpha": [0.5, 1.0, 2.0]},
        "training loss held near a target level alpha: gradient ascent below "
        "it, posterior flattening on alternate epochs",
        "Chen et al., ICLR 2022",
    )
)
register_defence(
    Defence(
        "advreg",
        _advreg,
        {"reg_lambda": [0.5, 1.0, 3.0]},
        "min-max game with an inference model trained on members vs a held-out "
        "reference set",
        "Nasr et al., CCS 2018",
    )
)
register_defence(
    Defence(
        "memguard",
        _memguard,
        {"budget": [0.25, 0.5, 1.0]},
        "post-hoc: confidence vectors perturbed within an L1 budget to fool a "
        "defender's attack model, labels unchanged",
        "Jia et al., CCS 2019",
    )
)
register_defence(
    Defence(
        "hamp",
        _hamp,
        {"gamma": [0.8, 0.9, 0.95]},
        "high-entropy soft labels with an entropy regulariser, and outputs "
        "replaced by re-ranked outputs on random input",
        "Chen et al., NDSS 2024",
    )
)
