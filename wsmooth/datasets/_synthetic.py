"""Embedded, download-free data with the shape of Purchase100."""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_purchase_like"]


def make_purchase_like(
    n_samples=20_000,
    *,
    n_features=600,
    n_classes=100,
    n_subclusters=8,
    cluster_concentration=0.3,
    density=0.2,
    subcluster_spread=0.5,
    flip_prob=0.3,
    dtype=np.float32,
    return_cluster_ids=False,
    random_state=None,
):
    """Generate binary records shaped like Purchase100, with uneven sub-clusters.

    Every class has a random binary prototype. Each class is a mixture of
    ``n_subclusters`` sub-clusters whose centres differ from the prototype in a
    ``subcluster_spread`` fraction of the bits, and whose sizes are drawn from a
    symmetric Dirichlet with a small ``cluster_concentration``: a few sub-clusters
    are dense, many hold a handful of records or a single one. A record is its
    sub-cluster's centre with each bit flipped with probability ``flip_prob``.
    Dense records are the ones a model fits confidently; isolated ones are what
    weighted smoothing protects differently.

    Parameters
    ----------
    n_samples : int, default=20000
    n_features : int, default=600
    n_classes : int, default=100
    n_subclusters : int, default=8
        Sub-clusters per class.
    cluster_concentration : float, default=0.3
        Dirichlet concentration of the sub-cluster sizes within a class; smaller
        values give more uneven sizes.
    density : float, default=0.2
        Fraction of ones in a class prototype.
    subcluster_spread : float, default=0.5
        Fraction of prototype bits redrawn for each sub-cluster centre.
    flip_prob : float, default=0.3
        Per-bit flip probability of a record around its centre.
    dtype : numpy dtype, default=np.float32
        Type of ``X`` (values are 0 and 1).
    return_cluster_ids : bool, default=False
        Also return each record's global sub-cluster index.
    random_state : int, RandomState instance or None, default=None
        Fixes the whole draw.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), int64 labels in ``0 .. n_classes - 1``
    cluster_ids : ndarray of shape (n_samples,)
        Only when ``return_cluster_ids`` is True.

    Examples
    --------
    >>> from wsmooth.datasets import make_purchase_like
    >>> X, y = make_purchase_like(n_samples=500, random_state=0)
    >>> X.shape, bool(y.max() < 100)
    ((500, 600), True)
    """
    for name, value in (
        ("n_samples", n_samples),
        ("n_features", n_features),
        ("n_subclusters", n_subclusters),
    ):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    for name, value in (
        ("density", density),
        ("subcluster_spread", subcluster_spread),
        ("flip_prob", flip_prob),
    ):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    if cluster_concentration <= 0:
        raise ValueError(
            f"cluster_concentration must be positive, got {cluster_concentration!r}"
        )
    rng = check_random_state(random_state)

    prototypes = rng.random_sample((n_classes, n_features)) < density
    redraw = (
        rng.random_sample((n_classes, n_subclusters, n_features)) < subcluster_spread
    )
    fresh = rng.random_sample((n_classes, n_subclusters, n_features)) < density
    centres = np.where(redraw, fresh, prototypes[:, None, :])
    centres = centres.reshape(n_classes * n_subclusters, n_features)

    # Classes are roughly balanced; sub-clusters within a class are not.
    class_weights = rng.dirichlet(np.full(n_classes, 20.0))
    sub_weights = rng.dirichlet(
        np.full(n_subclusters, cluster_concentration), size=n_classes
    )
    joint = (class_weights[:, None] * sub_weights).ravel()
    cluster_ids = rng.choice(joint.size, size=n_samples, p=joint / joint.sum())
    y = (cluster_ids // n_subclusters).astype(np.int64)

    flips = rng.random_sample((n_samples, n_features)) < flip_prob
    X = np.logical_xor(centres[cluster_ids], flips).astype(dtype)
    if return_cluster_ids:
        return X, y, cluster_ids
    return X, y
