"""Location30, read from the published ``bangkok`` file."""

import os
from numbers import Integral

import numpy as np

from ..utils._sklearn_compat import Interval, validate_params
from ._base import feature_names, finish, load_label_first

__all__ = ["load_location30"]

N_FEATURES = 446
N_CLASSES = 30

DESCR = """\
Location30
----------

Foursquare check-ins in Bangkok (Yang et al., 2016), as released by Shokri et
al. (2017), "Membership Inference Attacks against Machine Learning Models":
each record is one user, each of the 446 binary features says whether the user
visited a region or location type, and the 30 classes are clusters of users.
The published file ``bangkok`` holds 5,010 lines, each the class label 1..30
in double quotes and then the 446 features, comma-separated.

Labels are shifted to 0-based: ``target = published label - 1``, and
``target_names[k]`` is the published label of class ``k``.
"""


@validate_params(
    {
        "path": [str, os.PathLike],
        "dtype": "no_validation",
        "return_X_y": ["boolean"],
        "n_samples": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_location30(
    path, *, dtype=np.float32, return_X_y=False, n_samples=None, random_state=None
):
    """Load Location30 from a local copy of its published ``bangkok`` file.

    Nothing is downloaded. Read more in the :ref:`User Guide <data>`.

    Parameters
    ----------
    path : str or path-like
        The file ``bangkok`` (from Shokri et al.'s ``location.tgz``,
        extracted), or the folder that holds it.
    dtype : numpy dtype, default=np.float32
        Type of the features (values 0 and 1).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    n_samples : int, default=None
        Keep this many records, drawn without replacement and kept in file
        order; all of them when None.
    random_state : int, RandomState instance or None, default=None
        Fixes the draw of ``n_samples``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (n_samples, 446), ``target`` (n_samples,) int64 in 0..29,
        ``feature_names``, ``target_names`` (the published labels 1..30),
        ``DESCR`` and ``filename``.
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        If the file is not there.
    ValueError
        If a line does not hold a label in 1..30 (quoted or not) then 446
        values 0 or 1; the message names the file and the line.

    Examples
    --------
    >>> from wsmooth.datasets import load_location30
    >>> X, y = load_location30("data/bangkok", return_X_y=True)  # doctest: +SKIP
    >>> X.shape, y.max()  # doctest: +SKIP
    ((5010, 446), 29)
    """
    file, X, y = load_label_first(
        path,
        default_name="bangkok",
        n_features=N_FEATURES,
        n_classes=N_CLASSES,
        quotechar='"',
        what="Location30 (bangkok)",
        dtype=dtype,
        n_samples=n_samples,
        random_state=random_state,
    )
    return finish(
        X,
        y,
        return_X_y=return_X_y,
        feature_names=feature_names(N_FEATURES),
        target_names=np.arange(1, N_CLASSES + 1),
        DESCR=DESCR,
        filename=str(file),
    )
