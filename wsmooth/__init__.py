"""wsmooth: train classifiers that leak less, and measure the leakage.

The public surface: :class:`WeightedSmoothingClassifier` (the defence),
:class:`NetClassifier` (the undefended network it builds on),
:class:`MembershipInferenceAttack` (the attacks), and the subpackages
``wsmooth.defences`` (the baselines and the registry), ``wsmooth.attacks``
(the algorithms and the shadow engine), ``wsmooth.metrics``,
``wsmooth.datasets``, ``wsmooth.nets``, ``wsmooth.utils`` (privacy tags) and
``wsmooth.experiments`` (the defence comparison and its frontier).
"""

import importlib

__version__ = "0.1.0"

# Imported on first use, so that `wsmooth --help` or `import wsmooth.datasets`
# does not pay for importing torch and skorch.
_LAZY = {
    "MembershipInferenceAttack": ".attacks",
    "WeightedSmoothingClassifier": ".classifier",
    "NetClassifier": "._net",
}

__all__ = [
    "MembershipInferenceAttack",
    "NetClassifier",
    "WeightedSmoothingClassifier",
    "__version__",
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
