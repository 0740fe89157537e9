"""Texas100, read from the published ``feats`` and ``labels`` files."""

import os
from numbers import Integral
from pathlib import Path

import numpy as np

from ..utils._sklearn_compat import Interval, validate_params
from ._base import (
    binary_check,
    check_dtype,
    feature_names,
    finish,
    label_only_check,
    raise_bad_line,
    read_uint8_table,
    resolve_file,
    subsample_index,
)

__all__ = ["load_texas100"]

N_FEATURES = 6169
N_CLASSES = 100

DESCR = """\
Texas100
--------

Hospital discharge records of the Texas Department of State Health Services
(2006 public-use file), as released by Shokri et al. (2017), "Membership
Inference Attacks against Machine Learning Models": each record is one
patient stay, the 6,169 binary features encode external causes of injury,
diagnosis, procedures and generic patient information, and the 100 classes
are the most frequent main procedures. The published release holds two
files: ``feats``, 67,330 lines of 6,169 comma-separated values 0 or 1, and
``labels``, one label 1..100 per line, in the same order.

Labels are shifted to 0-based: ``target = published label - 1``, and
``target_names[k]`` is the published label of class ``k``.
"""


@validate_params(
    {
        "path": [str, os.PathLike, tuple],
        "dtype": "no_validation",
        "return_X_y": ["boolean"],
        "n_samples": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_texas100(
    path, *, dtype=np.float32, return_X_y=False, n_samples=None, random_state=None
):
    """Load Texas100 from a local copy of its published files.

    Nothing is downloaded. Read more in the :ref:`User Guide <data>`.

    Parameters
    ----------
    path : str, path-like or tuple of two
        The folder that holds ``feats`` and ``labels`` (Shokri et al.'s
        ``texas/100`` from ``dataset_texas.tgz``, extracted), or the pair
        ``(features_file, labels_file)``.
    dtype : numpy dtype, default=np.float32
        Type of the features (values 0 and 1). The full set takes 1.7 GB as
        float32; ``np.uint8`` takes a quarter of that.
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
        ``data`` (n_samples, 6169), ``target`` (n_samples,) int64 in 0..99,
        ``feature_names``, ``target_names`` (the published labels 1..100),
        ``DESCR`` and ``filenames`` (features, labels).
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        If either file is not there.
    ValueError
        If a line of ``feats`` does not hold 6,169 values 0 or 1, a line of
        ``labels`` is not one label in 1..100, or the files differ in length;
        the message names the file and the line.

    Examples
    --------
    >>> from wsmooth.datasets import load_texas100
    >>> X, y = load_texas100("data/texas/100", return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (67330, 6169)
    """
    if isinstance(path, tuple):
        if len(path) != 2:
            raise ValueError(
                "path must be a folder or a pair (features_file, labels_file), "
                f"got a tuple of {len(path)}"
            )
        feats_path, labels_path = path
    elif Path(os.fspath(path)).expanduser().is_file():
        raise ValueError(
            f"{path} is a file; Texas100 comes as two files: pass the folder "
            "that holds feats and labels, or the pair (features_file, labels_file)"
        )
    else:
        feats_path = labels_path = path
    what_X = "Texas100 features (feats)"
    what_y = "Texas100 labels (labels)"
    feats_file = resolve_file(feats_path, "feats", what=what_X)
    labels_file = resolve_file(labels_path, "labels", what=what_y)
    dtype = check_dtype(dtype)

    # labels first: small, and a mismatch is found before the large parse
    check_y = label_only_check(N_CLASSES)
    y = read_uint8_table(labels_file, check_y, what=what_y)
    if y.shape[1] != 1 or y.min() < 1 or y.max() > N_CLASSES:
        raise_bad_line(
            labels_file, check_y, what=what_y, fallback="expected one label a line"
        )
    y = y[:, 0]

    check_X = binary_check(N_FEATURES)
    X = read_uint8_table(feats_file, check_X, what=what_X)
    if X.shape[1] != N_FEATURES or X.max() > 1:
        raise_bad_line(
            feats_file,
            check_X,
            what=what_X,
            fallback=f"expected {N_FEATURES} binary features a line",
        )
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{feats_file} holds {X.shape[0]} records but {labels_file} holds "
            f"{y.shape[0]} labels; they must come from the same release."
        )

    index = subsample_index(X.shape[0], n_samples, random_state, path=feats_file)
    if index is not None:
        X, y = X[index], y[index]
    X = X.astype(dtype, copy=False)
    y = y.astype(np.int64) - 1
    return finish(
        X,
        y,
        return_X_y=return_X_y,
        feature_names=feature_names(N_FEATURES),
        target_names=np.arange(1, N_CLASSES + 1),
        DESCR=DESCR,
        filenames=(str(feats_file), str(labels_file)),
    )
