"""Pseudo-random numbers that are a fixed function of each record.

HAMP draws a random input and MemGuard a coin per query. Drawn in batch
order, a record's answer would depend on its position in the batch and an
attacker could average the randomness out by asking again; drawn from the
record itself, the same query always gets the same answer.
"""

import numpy as np

__all__ = ["record_uniforms"]


def record_uniforms(X, width, seed):
    """Uniform values in [0, 1), ``width`` per record, that depend on the
    record's values and ``seed`` only.

    A random projection of the flattened record (seeded by ``seed``) passed
    through ``frac(sin(t) * c)``, a classic hash to [0, 1): vectorised, and
    spread evenly over [0, 1) whatever the scale of the features.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Numeric records.
    width : int
        Values per record.
    seed : int

    Returns
    -------
    ndarray of shape (n_samples, width)
    """
    flat = np.asarray(X, dtype=np.float32).reshape(len(X), -1).astype(np.float64)
    rng = np.random.default_rng(seed)
    projection = rng.standard_normal((flat.shape[1], width)) / np.sqrt(
        max(flat.shape[1], 1)
    )
    phase = rng.uniform(0.0, 2.0 * np.pi, size=width)
    t = np.sin(flat @ projection * 1e3 + phase) * 43758.5453
    return t - np.floor(t)
