"""Checks on what a model returns, before anything is computed from it."""

import numpy as np

__all__ = ["check_log_proba", "check_proba"]

#: How far a row of probabilities may sum from 1 (float32 softmax of 100
#: classes is within about 1e-6).
PROBA_SUM_TOL = 1e-3


def _as_2d(values, n_records, n_classes, what):
    """``values`` as a float64 array of shape (n_records, n_classes)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(
            f"{what} returned an array of shape {values.shape}; expected "
            "(n_records, n_classes)"
        )
    if n_records is not None and values.shape[0] != n_records:
        raise ValueError(
            f"{what} returned {values.shape[0]} rows for {n_records} records"
        )
    if n_classes is not None and values.shape[1] != n_classes:
        raise ValueError(
            f"{what} returned {values.shape[1]} columns for {n_classes} classes"
        )
    return values


def check_proba(proba, *, n_records=None, n_classes=None, model="the model"):
    """Validate a ``predict_proba`` output and return it as float64.

    Parameters
    ----------
    proba : array-like of shape (n_records, n_classes)
    n_records, n_classes : int, default=None
        Expected shape, when known.
    model : str
        Names the model in the error, e.g. ``"the target"``, ``"shadow model 3"``.

    Returns
    -------
    ndarray of float64

    Raises
    ------
    ValueError
        If the output is not 2-D of the expected shape, or if rows hold NaN,
        infinite or negative values or do not sum to 1 within
        :data:`PROBA_SUM_TOL`: a figure computed from such rows would be
        silently wrong, so the error says which model and how many rows.
    """
    proba = _as_2d(proba, n_records, n_classes, f"predict_proba of {model}")
    problems = []
    nonfinite = ~np.isfinite(proba).all(axis=1)
    if nonfinite.any():
        problems.append(f"{int(nonfinite.sum())} with NaN or infinite values")
    with np.errstate(invalid="ignore"):
        negative = ~nonfinite & (proba < 0).any(axis=1)
        off = ~nonfinite & (np.abs(proba.sum(axis=1) - 1.0) > PROBA_SUM_TOL)
    if negative.any():
        problems.append(f"{int(negative.sum())} with negative values")
    if off.any():
        problems.append(f"{int(off.sum())} not summing to 1")
    if problems:
        raise ValueError(
            f"predict_proba of {model} is not a probability distribution in "
            f"{' and '.join(problems)} of {proba.shape[0]} rows; membership "
            "figures computed from it would be meaningless. Check that the "
            "model trained without diverging."
        )
    return proba


def check_log_proba(log_proba, *, n_records=None, n_classes=None, model="the model"):
    """Validate a ``predict_log_proba`` output and return it as float64.

    Entries must be finite or ``-inf`` (probability exactly 0), and each row's
    ``logsumexp`` within :data:`PROBA_SUM_TOL` of 0 (its probabilities sum
    to 1).

    Parameters
    ----------
    log_proba : array-like of shape (n_records, n_classes)
    n_records, n_classes : int, default=None
        Expected shape, when known.
    model : str
        Names the model in the error.

    Returns
    -------
    ndarray of float64

    Raises
    ------
    ValueError
        On a wrong shape, NaN or ``+inf`` entries, or rows that are not
        normalised log-probabilities.
    """
    from scipy.special import logsumexp

    what = f"predict_log_proba of {model}"
    log_proba = _as_2d(log_proba, n_records, n_classes, what)
    problems = []
    bad = (np.isnan(log_proba) | (log_proba == np.inf)).any(axis=1)
    if bad.any():
        problems.append(f"{int(bad.sum())} with NaN or +inf values")
    with np.errstate(invalid="ignore", divide="ignore"):
        total = logsumexp(np.where(bad[:, None], 0.0, log_proba), axis=1)
    off = ~bad & ~(np.abs(total) <= PROBA_SUM_TOL)
    if off.any():
        problems.append(f"{int(off.sum())} whose probabilities do not sum to 1")
    if problems:
        raise ValueError(
            f"{what} is not a log-probability distribution in "
            f"{' and '.join(problems)} of {log_proba.shape[0]} rows; membership "
            "figures computed from it would be meaningless. Check that the "
            "model trained without diverging."
        )
    return log_proba
