"""Names (and the default data size) the ``wsmooth`` command lists in its
help, free of heavy imports.

Building the command's parser must not import torch or scikit-learn (``wsmooth
--help`` answers at once), so the names of the registered defences and attack
methods are repeated here; a test checks that they equal the registries'
(:func:`wsmooth.defences.available_defences`,
:func:`wsmooth.attacks.available_methods`).
The command still checks a name against the registries themselves before it
runs.
"""

__all__ = ["ATTACKS", "DATA_EMBEDDED", "DATA_FILES", "DEFAULT_N_SAMPLES", "DEFENCES"]

#: The registered defences, sorted.
DEFENCES = (
    "advreg",
    "dpsgd",
    "dropout",
    "early_stopping",
    "hamp",
    "label_smoothing",
    "memguard",
    "none",
    "relaxloss",
    "weight_decay",
    "ws",
    "ws_reference",
)
#: The registered attack methods, sorted.
ATTACKS = (
    "confidence",
    "correctness",
    "distill",
    "entropy",
    "label_only",
    "learned",
    "lira",
    "loss",
    "mentr",
    "quantile",
    "risk",
    "rmia",
)
#: Data sets embedded in the package or scikit-learn (no path).
DATA_EMBEDDED = ("purchase-like", "digits")
#: Data formats read from a local path (:mod:`wsmooth.datasets` loaders).
DATA_FILES = ("purchase100", "texas100", "location30", "cifar10", "cifar100", "npz",
              "csv")
#: Default size of the generated Purchase-like data (records).
DEFAULT_N_SAMPLES = 2500
