"""CIFAR-10 and CIFAR-100, read from their "python version" batches.

The batches are pickles of a dict; they are read by
:func:`~wsmooth.datasets._unpickle.load_restricted_pickle`, which builds numpy
arrays and plain data only and never runs code named in the file.
"""

import os
from numbers import Integral
from pathlib import Path

import numpy as np

from ..utils._sklearn_compat import Interval, StrOptions, validate_params
from ._base import check_dtype, finish, subsample_index
from ._unpickle import load_restricted_pickle

__all__ = ["load_cifar10", "load_cifar100"]

IMAGE_SHAPE = (3, 32, 32)

_CIFAR10 = {
    "name": "CIFAR-10",
    "folder": "cifar-10-batches-py",
    "train": [f"data_batch_{i}" for i in range(1, 6)],
    "test": ["test_batch"],
    "meta": "batches.meta",
}
_CIFAR100 = {
    "name": "CIFAR-100",
    "folder": "cifar-100-python",
    "train": ["train"],
    "test": ["test"],
    "meta": "meta",
}

_LAYOUT = """\
Images are returned as ``(n, 3, 32, 32)``: channels (red, green, blue), then
rows, then columns, exactly the order of the 3,072 bytes of a row of a
batch's ``data``; ``X.transpose(0, 2, 3, 1)`` gives ``(n, 32, 32, 3)`` for
plotting. With ``dtype=np.uint8`` the values are the file's bytes 0..255;
with ``np.float32`` (the default) they are divided by 255, in [0, 1].
"""

DESCR_10 = f"""\
CIFAR-10
--------

60,000 colour images of 32x32 pixels in 10 classes (Krizhevsky, 2009,
"Learning Multiple Layers of Features from Tiny Images"), 6,000 a class:
50,000 for training in ``data_batch_1`` .. ``data_batch_5`` and 10,000 for
testing in ``test_batch``, the "python version" distributed as
``cifar-10-python.tar.gz``. Labels are 0..9 as published; ``target_names``
comes from ``batches.meta`` when that file is there.

{_LAYOUT}"""

DESCR_100 = f"""\
CIFAR-100
---------

60,000 colour images of 32x32 pixels in 100 fine classes grouped into 20
coarse ones (Krizhevsky, 2009), 600 a fine class: 50,000 for training in
``train`` and 10,000 for testing in ``test``, the "python version"
distributed as ``cifar-100-python.tar.gz``. Labels are 0..99 (fine) or 0..19
(coarse) as published; ``target_names`` comes from ``meta`` when that file is
there.

{_LAYOUT}"""


def _find_folder(path, spec):
    path = Path(os.fspath(path)).expanduser()
    if (path / spec["folder"]).is_dir():
        path = path / spec["folder"]
    if not path.is_dir():
        raise FileNotFoundError(
            f"{spec['name']} not found: {path} is not a folder. Pass the folder "
            f"{spec['folder']!r} extracted from the python version's archive. "
            "Nothing is downloaded."
        )
    return path


def _str_keys(mapping, file, what):
    if not isinstance(mapping, dict):
        raise ValueError(
            f"{file} is not {what}: it holds a {type(mapping).__name__}, "
            "not a dict"
        )
    return {
        (key.decode("latin-1") if isinstance(key, bytes) else key): value
        for key, value in mapping.items()
    }


def _read_batch(file, spec, label_key, n_classes):
    what = f"a {spec['name']} python batch"
    try:
        return _check_batch(file, what, label_key, n_classes)
    except MemoryError:
        raise ValueError(
            f"{file} is not {what}: what it describes does not fit in memory."
        ) from None


def _check_batch(file, what, label_key, n_classes):
    batch = _str_keys(load_restricted_pickle(file, what=what), file, what)
    for key in ("data", label_key):
        if key not in batch:
            raise ValueError(
                f"{file} is not {what}: it has no {key!r} entry (it has "
                f"{sorted(map(str, batch))})."
            )
    data = batch["data"]
    n_values = int(np.prod(IMAGE_SHAPE))
    if not (
        isinstance(data, np.ndarray)
        and data.dtype == np.uint8
        and data.ndim == 2
        and data.shape[1] == n_values
    ):
        desc = (
            f"{data.dtype} array of shape {data.shape}"
            if isinstance(data, np.ndarray)
            else type(data).__name__
        )
        raise ValueError(
            f"{file} is not {what}: 'data' is a {desc}, not a uint8 array of "
            f"{n_values} values a row."
        )
    labels = batch[label_key]
    if not isinstance(labels, list):
        raise ValueError(
            f"{file} is not {what}: {label_key!r} is a {type(labels).__name__}, "
            "not a list."
        )
    try:
        labels = np.asarray(labels) if labels else np.zeros(0, np.int64)
    except (ValueError, TypeError, OverflowError):
        raise ValueError(
            f"{file} is not {what}: {label_key!r} is not a list of class numbers."
        ) from None
    if labels.ndim != 1 or labels.shape[0] != data.shape[0]:
        raise ValueError(
            f"{file} is not {what}: {label_key!r} holds {labels.size} values "
            f"for {data.shape[0]} images."
        )
    if labels.size and (
        labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= n_classes
    ):
        raise ValueError(
            f"{file} is not {what}: {label_key!r} holds values outside "
            f"0..{n_classes - 1}."
        )
    return data, labels.astype(np.int64)


def _read_names(folder, spec, names_key):
    file = folder / spec["meta"]
    if not file.is_file():
        return None
    what = f"{spec['name']}'s label names ({spec['meta']})"
    meta = _str_keys(load_restricted_pickle(file, what=what), file, what)
    names = meta.get(names_key)
    if not isinstance(names, list) or not all(
        isinstance(n, (str, bytes)) for n in names
    ):
        raise ValueError(f"{file} is not {what}: no list {names_key!r}.")
    return np.array([n.decode("latin-1") if isinstance(n, bytes) else n for n in names])


def _load(path, spec, *, subset, label_key, names_key, n_classes, dtype, descr,
          return_X_y, n_samples, random_state):
    dtype = check_dtype(dtype, allowed=(np.uint8, np.float32))
    folder = _find_folder(path, spec)
    names = spec["train"] + spec["test"] if subset == "all" else spec[subset]
    files = [folder / name for name in names]
    missing = [file.name for file in files if not file.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{spec['name']} batches missing from {folder}: {', '.join(missing)}. "
            f"The {subset!r} subset needs {', '.join(names)}."
        )
    parts = [_read_batch(file, spec, label_key, n_classes) for file in files]
    X = np.concatenate([data for data, _ in parts])
    y = np.concatenate([labels for _, labels in parts])
    index = subsample_index(X.shape[0], n_samples, random_state, path=folder)
    if index is not None:
        X, y = X[index], y[index]
    X = X.reshape(-1, *IMAGE_SHAPE)
    if dtype == np.float32:
        X = X.astype(np.float32) / np.float32(255)
    target_names = _read_names(folder, spec, names_key)
    if target_names is not None and target_names.size != n_classes:
        raise ValueError(
            f"{folder / spec['meta']} lists {target_names.size} label names for "
            f"{n_classes} classes."
        )
    return finish(
        X,
        y,
        return_X_y=return_X_y,
        target_names=target_names,
        DESCR=descr,
        filenames=[str(file) for file in files],
    )


_COMMON = {
    "path": [str, os.PathLike],
    "subset": [StrOptions({"train", "test", "all"})],
    "dtype": "no_validation",
    "return_X_y": ["boolean"],
    "n_samples": [Interval(Integral, 1, None, closed="left"), None],
    "random_state": ["random_state"],
}



@validate_params(_COMMON, prefer_skip_nested_validation=True)
def load_cifar10(
    path,
    *,
    subset="train",
    dtype=np.float32,
    return_X_y=False,
    n_samples=None,
    random_state=None,
):
    """Load CIFAR-10 from a local copy of its "python version" batches.

    The batches are pickles; they are read with a restricted unpickler that
    builds numpy arrays and plain data only, so a tampered file cannot run
    code. Nothing is downloaded. Read more in the :ref:`User Guide <data>`.

    Parameters
    ----------
    path : str or path-like
        The folder ``cifar-10-batches-py`` extracted from
        ``cifar-10-python.tar.gz``, or the folder that holds it.
    subset : {"train", "test", "all"}, default="train"
        ``data_batch_1`` .. ``data_batch_5`` (50,000 images), ``test_batch``
        (10,000), or both, training images first.
    dtype : {np.float32, np.uint8}, default=np.float32
        float32 values in [0, 1] (the bytes divided by 255), or the raw bytes.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    n_samples : int, default=None
        Keep this many images, drawn without replacement and kept in file
        order; all of them when None.
    random_state : int, RandomState instance or None, default=None
        Fixes the draw of ``n_samples``.
    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (n_samples, 3, 32, 32), ``target`` (n_samples,) int64,
        ``target_names`` (None when the meta file is absent), ``DESCR`` and
        ``filenames`` (the batches read, in order).
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        If the folder or a batch the subset needs is not there.
    ValueError
        If a batch is not a CIFAR-10 batch, including a pickle that names any
        Python object other than numpy's array constructors (refused before
        anything in it runs), or one that would expand beyond its own size (a
        list named again and again, an array larger than its bytes); the
        message names the file.

    Examples
    --------
    >>> from wsmooth.datasets import load_cifar10
    >>> X, y = load_cifar10("cifar-10-batches-py", return_X_y=True)  # doctest: +SKIP
    >>> X.shape, X.dtype  # doctest: +SKIP
    ((50000, 3, 32, 32), dtype('float32'))
    """
    return _load(
        path,
        _CIFAR10,
        subset=subset,
        label_key="labels",
        names_key="label_names",
        n_classes=10,
        dtype=dtype,
        descr=DESCR_10,
        return_X_y=return_X_y,
        n_samples=n_samples,
        random_state=random_state,
    )


@validate_params(
    {**_COMMON, "label_type": [StrOptions({"fine", "coarse"})]},
    prefer_skip_nested_validation=True,
)
def load_cifar100(
    path,
    *,
    subset="train",
    label_type="fine",
    dtype=np.float32,
    return_X_y=False,
    n_samples=None,
    random_state=None,
):
    """Load CIFAR-100 from a local copy of its "python version" files.

    The files are pickles; they are read with a restricted unpickler that
    builds numpy arrays and plain data only, so a tampered file cannot run
    code. Nothing is downloaded. Read more in the :ref:`User Guide <data>`.

    Parameters
    ----------
    path : str or path-like
        The folder ``cifar-100-python`` extracted from
        ``cifar-100-python.tar.gz``, or the folder that holds it.
    subset : {"train", "test", "all"}, default="train"
        ``train`` (50,000 images), ``test`` (10,000), or both, training
        images first.
    label_type : {"fine", "coarse"}, default="fine"
        The 100 classes (``fine_labels``) or the 20 superclasses
        (``coarse_labels``).
    dtype : {np.float32, np.uint8}, default=np.float32
        float32 values in [0, 1] (the bytes divided by 255), or the raw bytes.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    n_samples : int, default=None
        Keep this many images, drawn without replacement and kept in file
        order; all of them when None.
    random_state : int, RandomState instance or None, default=None
        Fixes the draw of ``n_samples``.
    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (n_samples, 3, 32, 32), ``target`` (n_samples,) int64,
        ``target_names`` (None when the meta file is absent), ``DESCR`` and
        ``filenames`` (the batches read, in order).
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        If the folder or a file the subset needs is not there.
    ValueError
        If a file is not a CIFAR-100 file, including a pickle that names any
        Python object other than numpy's array constructors (refused before
        anything in it runs), or one that would expand beyond its own size (a
        list named again and again, an array larger than its bytes); the
        message names the file.

    Examples
    --------
    >>> from wsmooth.datasets import load_cifar100
    >>> X, y = load_cifar100("data/cifar-100-python", return_X_y=True)  # doctest: +SKIP
    >>> y.max()  # doctest: +SKIP
    99
    """
    return _load(
        path,
        _CIFAR100,
        subset=subset,
        label_key=f"{label_type}_labels",
        names_key=f"{label_type}_label_names",
        n_classes=100 if label_type == "fine" else 20,
        dtype=dtype,
        descr=DESCR_100,
        return_X_y=return_X_y,
        n_samples=n_samples,
        random_state=random_state,
    )

