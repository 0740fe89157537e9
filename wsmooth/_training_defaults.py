"""Training defaults of the ``wsmooth`` command, per data set.

The command trains every defence with the same network, epochs and learning
rate; when the user gives none of them, :func:`training_defaults` picks them
from the data (:func:`wsmooth.experiments.training_settings` asks it). The
figures behind the table come from ``benchmarks/training_defaults.py`` (the
undefended network's test accuracy per epoch on the pool protocol's members,
3 seeds; the table is in the user guide, :doc:`/user_guide/command`).
:func:`undertrained_warning` is the command's check that the undefended
model learned something: leakage figures of a model near chance say little
about a defence.

Free of heavy imports: the command's parser reads nothing from here, but the
module stays cheap to import all the same.
"""

import math

__all__ = ["training_defaults", "accuracy_floor", "undertrained_warning"]

#: Mini-batch size of every default (the steps below are counted for it).
BATCH_SIZE = 128
#: Width of the CNNs' first block.
CHANNELS = 16
#: Share of the records the target trains on (the pool protocol's members:
#: half of the 80% left once the test records are held out).
_MEMBER_SHARE = 0.4

#: Classes up to which the MLP has the narrow hidden layer.
_FEW_CLASSES = 10

#: ``{kind: (lr, steps, hidden, where from)}``: Adam's learning rate, the
#: optimiser steps the target needs to reach its plateau (as measured: the
#: epochs are the steps over the steps per epoch), and the MLP's hidden layer.
_RULES = {
    # purchase-like: 12 epochs at 2,500 records (0.993 of a 0.995 plateau),
    # 30 at 500 (the plateau; 12 epochs fall 5 points short)
    "tabular": (1e-3, 60, (128,), "the tabular rule, measured on purchase-like"),
    # purchase-like, 100 classes: the 512 layer gains 7 points over 128
    "tabular, many classes": (
        1e-3, 200, (512,),
        "the tabular rule above 10 classes, measured on purchase-like at 100"),
    # digits' CNN: at 1e-2 the undefended CNN plateaus in 20 epochs but
    # weighted smoothing collapses (sigma 0.3 / 0.6: 0.56 / 0.29 over three
    # seeds); at 1e-3 over 60 epochs 0.94 undefended, WS 0.88 / 0.81
    "digits": (1e-3, 360, (128,), "the digits rule, measured on digits"),
    # CIFAR-sized images (CifarCNN): not measured here
    "image": (1e-3, 400, (128,), "the image rule, not measured"),
}

#: Epochs at least (weighted smoothing's 3 warm-up epochs and early stopping's
#: grid, a quarter to three quarters of them, keep their room) and at most
#: (the smallest sets).
_MIN_EPOCHS = 12
_MAX_EPOCHS = 60

#: ``{(data, n_classes): (least records, floor)}``: the test accuracy below
#: which the undefended network is far under what the built-in set gives at
#: its defaults (well under the measured mean, which is in the user guide).
_FLOORS = {
    ("purchase-like", 10): (2500, 0.95),
    ("purchase-like", 100): (10000, 0.8),
    ("digits", 10): (1797, 0.9),
}

#: Share of the way from chance to a perfect accuracy under which the
#: undefended network is near chance.
NEAR_CHANCE = 0.1


def training_defaults(data_name, n_records, n_features, n_classes, image, *,
                      batch_size=BATCH_SIZE):
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
    batch_size : int, default=128
        The mini-batch size training will use: the epochs are counted from
        the optimiser steps an epoch takes with it.

    Returns
    -------
    dict
        ``epochs``, ``lr``, ``batch_size``, ``hidden`` (the MLP's hidden
        layer sizes), ``channels`` (the CNN's first block) and ``rule``: a
        few words saying where they come from.

    Notes
    -----
    One rule, its figures measured (``benchmarks/training_defaults.py``):
    the epochs give the target, trained on 40% of the records in batches of
    ``batch_size``, the optimiser steps its kind of data needs, between 12
    and 60 epochs. Flat rows train the MLP with Adam at 1e-3, one hidden layer of
    128 units up to 10 classes (60 steps) and of 512 above (200 steps);
    digits train the CNN at 1e-3 (360 steps); other images the CIFAR CNN at
    1e-3 (400 steps, not measured).
    """
    n_records, n_classes = int(n_records), int(n_classes)
    if image:
        kind = "digits" if data_name == "digits" else "image"
    else:
        kind = "tabular" if n_classes <= _FEW_CLASSES else "tabular, many classes"
    lr, steps, hidden, rule = _RULES[kind]
    members = max(1, int(n_records * _MEMBER_SHARE))
    steps_per_epoch = math.ceil(members / int(batch_size))
    epochs = min(_MAX_EPOCHS, max(_MIN_EPOCHS, math.ceil(steps / steps_per_epoch)))
    return {"epochs": epochs, "lr": lr, "batch_size": int(batch_size),
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
            f"{data}{how}, far below the {floor:.2f} its default training "
            f"passes (chance {chance:.3f}): the leakage figures are those of an "
            "undertrained model; raise --epochs or --lr, or leave the training "
            "options at their defaults"
        )
    return None
