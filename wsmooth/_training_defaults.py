"""Training defaults of the ``wsmooth`` command, per data set.

The command trains every defence with the same network, epochs and learning
rate; when the user gives none of them, :func:`training_defaults` picks them
from the data. The figures behind the table come from
``benchmarks/training_defaults.py`` (the undefended network's test accuracy
per epoch on the pool protocol's members, 3 seeds; the table is in the user
guide, :doc:`/user_guide/command`). :func:`undertrained_warning` is the
command's check that the undefended model learned something: leakage figures
of a model near chance say little about a defence.

Free of heavy imports: the command's parser reads nothing from here, but the
module stays cheap to import all the same.
"""

import math

__all__ = ["training_defaults", "accuracy_floor", "undertrained_warning"]

#: Mini-batch size of every default (the epochs below are counted for it).
BATCH_SIZE = 128
#: Adam's learning rate of every default.
LR = 1e-3
#: Width of the CNNs' first block.
CHANNELS = 16

#: ``{data: (epochs, lr)}`` of the built-in data sets, as measured.
_BUILT_IN = {
    "purchase-like": (12, 1e-3),
    "digits": (20, 1e-2),
}

#: Hidden layer of the MLP up to ``_FEW_CLASSES`` classes, and above: at 100
#: classes the wider layer gains 7 points of test accuracy.
_FEW_CLASSES = 10
_HIDDEN_FEW = (128,)
_HIDDEN_MANY = (512,)

#: ``{(data, n_classes): (least records, floor)}``: the test accuracy below
#: which the undefended network is far under what the data set gives at its
#: defaults (well under the measured mean, which is in the user guide).
_FLOORS = {
    ("purchase-like", 10): (2500, 0.95),
    ("purchase-like", 100): (10000, 0.85),
    ("digits", 10): (1797, 0.9),
}

#: Share of the way from chance to a perfect accuracy under which the
#: undefended network is near chance.
NEAR_CHANCE = 0.1

#: Optimiser steps a model takes at least, and epochs at most, under the rule
#: for files: small sets take more epochs, large ones at least a few.
_MIN_STEPS = 400
_MIN_EPOCHS = 12
_MAX_EPOCHS = 60


def training_defaults(data_name, n_records, n_features, n_classes, image):
    """Epochs, learning rate, batch size and network widths for a data set.

    Parameters
    ----------
    data_name : str
        The ``--data`` name: ``"purchase-like"``, ``"digits"``, or a file
        format (``"purchase100"``, ``"csv"``, ...).
    n_records : int
        Records in the data (all of them: the target trains on 40%).
    n_features : int
        Features per record (pixels times channels for images).
    n_classes : int
        Classes in the labels.
    image : bool
        Whether the data train as images (a CNN) rather than flat rows (the
        MLP).

    Returns
    -------
    dict
        ``epochs``, ``lr``, ``batch_size``, ``hidden`` (the MLP's hidden
        layer sizes) and ``channels`` (the CNN's first block), and ``rule``:
        a few words saying where they come from.

    Notes
    -----
    The built-in data sets use what was measured for them. Anything else
    follows one rule: the epochs give the target (trained on 40% of the
    records) at least 400 optimiser steps, between 12 and 60 epochs; the MLP
    has one hidden layer of 128 units up to 10 classes and of 256 above
    (wider layers paid off on the 100-class data); images take the CNN with
    16 channels; Adam at 1e-3 throughout.
    """
    n_records, n_classes = int(n_records), int(n_classes)
    if data_name in _BUILT_IN:
        epochs, lr = _BUILT_IN[data_name]
        rule = f"measured for {data_name}"
    else:
        members = max(1, int(n_records * 0.4))
        steps_per_epoch = math.ceil(members / BATCH_SIZE)
        epochs = min(_MAX_EPOCHS,
                     max(_MIN_EPOCHS, math.ceil(_MIN_STEPS / steps_per_epoch)))
        lr = LR
        rule = f"{'image' if image else 'tabular'} rule, {n_records} records"
    hidden = _HIDDEN_FEW if n_classes <= _FEW_CLASSES else _HIDDEN_MANY
    return {"epochs": epochs, "lr": lr, "batch_size": BATCH_SIZE,
            "hidden": hidden, "channels": CHANNELS, "rule": rule}


def accuracy_floor(data_name, n_records, n_classes):
    """Test accuracy the undefended network should reach on a built-in set.

    Parameters
    ----------
    data_name : str
    n_records : int
    n_classes : int

    Returns
    -------
    float or None
        The floor, or None where none was measured (files, and the built-in
        sets at fewer records or other class counts than measured).
    """
    least, floor = _FLOORS.get((data_name, int(n_classes)), (None, None))
    if floor is None or n_records < least:
        return None
    return floor


def undertrained_warning(accuracy, *, data, n_classes, majority, floor=None,
                         training=""):
    """The warning for an undefended network that learned little, or None.

    Parameters
    ----------
    accuracy : float
        The undefended network's mean test accuracy.
    data : str
        The data set, as the warning names it.
    n_classes : int
    majority : float
        Share of the largest class (the accuracy of always guessing it).
    floor : float, default=None
        What the data set reaches when trained (:func:`accuracy_floor`).
    training : str, default=""
        The epochs and learning rate used, for the message.

    Returns
    -------
    str or None
        None when the accuracy is neither near chance nor below ``floor``.
        Chance is the larger of ``1 / n_classes`` and ``majority`` (always
        guessing the largest class); near chance is less than a tenth of the
        way from chance to 1 (0.19 at 10 balanced classes, 0.55 at 2).
    """
    if not math.isfinite(accuracy):
        return None
    chance = max(1.0 / n_classes, majority)
    near_chance = chance + NEAR_CHANCE * (1.0 - chance)
    how = f" ({training})" if training else ""
    if accuracy < near_chance:
        return (
            f"the undefended network reaches test accuracy {accuracy:.3f} on "
            f"{data}{how}, near chance ({chance:.3f}): leakage figures of an "
            "untrained model mean little; raise --epochs or --lr"
        )
    if floor is not None and accuracy < floor:
        return (
            f"the undefended network reaches test accuracy {accuracy:.3f} on "
            f"{data}{how}, far below the {floor:.2f} a trained network reaches "
            f"there (chance {chance:.3f}): the leakage figures are those of an "
            "undertrained model; raise --epochs or --lr"
        )
    return None
