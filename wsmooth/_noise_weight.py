"""Where weighted smoothing's noise weight is useful: the ``sigma`` grid a
comparison sweeps and the value ``sigma="auto"`` takes, from the number of
classes.

Free of heavy imports, like :mod:`wsmooth._warmup`: the registry, the
comparison set-up and the estimator read the same rule.
"""

import math

__all__ = ["SIGMA_GRID_10_CLASSES", "auto_sigma", "sigma_grid"]

#: Noise weights of weighted smoothing at its defaults on 10 classes: from a
#: point that costs about a point of accuracy to one that costs several.
SIGMA_GRID_10_CLASSES = (0.3, 0.6, 1.2)
#: Largest top of :func:`sigma_grid` (few classes).
SIGMA_CAP = 2.0


def sigma_grid(n_classes):
    """Three noise weights that span the useful range on ``n_classes`` classes.

    :data:`SIGMA_GRID_10_CLASSES` scaled by ``sqrt(10 / K)``, to two
    significant digits, its top at most :data:`SIGMA_CAP`: a given ``sigma``
    costs more accuracy the more classes the data have (on the tuning
    guide's screen, 0.4 cost about 1 point on 10 classes and 5 to 12 on 100),
    so the grid shrinks with K (0.095, 0.19, 0.38 on 100 classes). Below 10
    classes the scaling is extrapolated, not measured.

    Parameters
    ----------
    n_classes : int
        Number of classes, at least 2.

    Returns
    -------
    tuple of float
        A quarter, a half and all of the top, increasing.
    """
    if isinstance(n_classes, bool) or int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(
            f"n_classes must be an integer of at least 2, got {n_classes!r}"
        )
    top = min(SIGMA_CAP, SIGMA_GRID_10_CLASSES[-1] * math.sqrt(10 / n_classes))
    return tuple(float(f"{top * share:.2g}") for share in (0.25, 0.5, 1.0))


def auto_sigma(n_classes):
    """The middle of :func:`sigma_grid`: what ``sigma="auto"`` means.

    Parameters
    ----------
    n_classes : int
        Number of classes, at least 2.

    Returns
    -------
    float
        0.6 on 10 classes, 0.19 on 100.
    """
    return sigma_grid(n_classes)[1]
