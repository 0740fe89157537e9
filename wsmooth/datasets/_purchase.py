"""Purchase100, read from the published ``dataset_purchase`` file."""

import os
from numbers import Integral

import numpy as np

from ..utils._sklearn_compat import Interval, validate_params
from ._base import feature_names, finish, load_label_first

__all__ = ["load_purchase100"]

N_FEATURES = 600
N_CLASSES = 100

DESCR = """\
Purchase100
-----------

Shopping histories of Kaggle's "Acquire Valued Shoppers" challenge, as released
by Shokri et al. (2017), "Membership Inference Attacks against Machine Learning
Models": each record is one customer, each of the 600 binary features says
whether the customer bought a product category, and the 100 classes are
clusters of customers. The published file ``dataset_purchase`` holds 197,324
lines, each the class label 1..100 and then the 600 features, comma-separated.

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
def load_purchase100(
    path, *, dtype=np.float32, return_X_y=False, n_samples=None, random_state=None
):
    """Load Purchase100 from a local copy of its published file.

    Nothing is downloaded. Read more in the :ref:`User Guide <data>`.

    Parameters
    ----------
    path : str or path-like
        The file ``dataset_purchase`` (from Shokri et al.'s
        ``dataset_purchase.tgz``, extracted), or the folder that holds it.
    dtype : numpy dtype, default=np.float32
        Type of the features (values 0 and 1); ``np.uint8`` takes a quarter of
        the memory.
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
        ``data`` (n_samples, 600), ``target`` (n_samples,) int64 in 0..99,
        ``feature_names``, ``target_names`` (the published labels 1..100),
        ``DESCR`` and ``filename``.
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        If the file is not there.
    ValueError
        If a line does not hold a label in 1..100 then 600 values 0 or 1; the
        message names the file and the line.

    Examples
    --------
    >>> from wsmooth.datasets import load_purchase100
    >>> X, y = load_purchase100("dataset_purchase", return_X_y=True)  # doctest: +SKIP
    >>> X.shape, y.min(), y.max()  # doctest: +SKIP
    ((197324, 600), 0, 99)
    """
    file, X, y = load_label_first(
        path,
        default_name="dataset_purchase",
        n_features=N_FEATURES,
        n_classes=N_CLASSES,
        quotechar=None,
        what="Purchase100 (dataset_purchase)",
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
