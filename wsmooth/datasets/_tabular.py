"""Any data set of features and labels saved as ``.npz`` or as CSV text."""

import os
import zipfile
from numbers import Integral

import numpy as np

from ..utils._sklearn_compat import Interval, StrOptions, validate_params
from ._base import (
    check_dtype,
    csv_rows,
    finish,
    first_bad_line,
    loadtxt,
    resolve_file,
    subsample_index,
    text_encoding,
)
from ._labels import LabelError, encode_labels, label_kind, parse_label

__all__ = ["load_csv", "load_npz"]


@validate_params(
    {
        "path": [str, os.PathLike],
        "X_key": [str],
        "y_key": [str],
        "return_X_y": ["boolean"],
        "n_samples": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_npz(
    path, *, X_key="X", y_key="y", return_X_y=False, n_samples=None, random_state=None
):
    """Load features and labels from a ``.npz`` archive, without pickle.

    The archive is opened with ``allow_pickle=False``, so arrays of Python
    objects are refused rather than unpickled. Read more in the
    :ref:`User Guide <data>`.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`numpy.savez` or :func:`numpy.savez_compressed`.
    X_key, y_key : str, default="X", "y"
        Names of the feature and label arrays in the archive.
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
        ``data`` (the ``X_key`` array, its dtype and shape as stored, one
        record a row), ``target`` (the ``y_key`` array, 1-D, as stored) and
        ``filename``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> import numpy as np
    >>> from wsmooth.datasets import load_npz
    >>> np.savez("mydata.npz", X=np.eye(3), y=np.arange(3))  # doctest: +SKIP
    >>> X, y = load_npz("mydata.npz", return_X_y=True)  # doctest: +SKIP
    """
    file = resolve_file(path, None, what="The .npz archive")
    if not zipfile.is_zipfile(file):
        with open(file, "rb") as handle:
            single = handle.read(6) == b"\x93NUMPY"
        raise ValueError(
            f"{file} is not a .npz archive"
            + (": it holds a single array, not named arrays" if single else "")
            + ". Save features and labels with np.savez(path, X=X, y=y)."
        )
    try:
        with np.load(file, allow_pickle=False) as archive:
            missing = [key for key in (X_key, y_key) if key not in archive.files]
            if missing:
                raise KeyError(
                    f"{file} has no array named {', '.join(map(repr, missing))} "
                    f"(it has {archive.files}); name them with X_key= and y_key=."
                )
            X, y = archive[X_key], archive[y_key]
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    except ValueError as exc:
        if "allow_pickle" not in str(exc):
            raise ValueError(f"Cannot load {file} as a .npz archive: {exc}") from None
        raise ValueError(
            f"{file} holds arrays of Python objects, which can only be read "
            "through pickle, and pickle can run code: they are not loaded "
            "(allow_pickle=False). Save numeric arrays instead."
        ) from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"Cannot load {file} as a .npz archive: {exc}") from None
    if X.ndim < 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{file}: {X_key!r} must hold one record a row and {y_key!r} one "
            f"label a record; got shapes {X.shape} and {y.shape}."
        )
    index = subsample_index(X.shape[0], n_samples, random_state, path=file)
    if index is not None:
        X, y = X[index], y[index]
    return finish(X, y, return_X_y=return_X_y, filename=str(file))


def _is_number(field):
    try:
        float(field)
    except ValueError:
        return False
    return True


#: Lines below the first whose labels the header guess looks at.
_N_PEEK = 100


def _row_check(n_columns, label_index):
    """Line check: the width of the first line, numeric features, a label of
    the kind (integer or name) the first record's label has."""
    kinds = []

    def check(fields):
        if len(fields) != n_columns:
            return f"{len(fields)} fields where the first line has {n_columns}"
        for column, value in enumerate(fields):
            if column != label_index and not _is_number(value):
                return f"field {column + 1} is {value!r}, not a number"
        label = parse_label(fields[label_index])
        kinds.append(label_kind(label))
        if kinds[-1] != kinds[0]:
            words = {"name": "a name", "number": "an integer"}
            return (
                f"the label {label!r} is {words[kinds[-1]]} but the first "
                f"record's label is {words[kinds[0]]}; a label column holds "
                "one or the other"
            )
        return None

    return check


def _peek(file, encoding, delimiter):
    """The first line's fields and the label-column candidates below it."""
    with open(file, newline="", encoding=encoding, errors="replace") as handle:
        rows = csv_rows(handle, delimiter=delimiter, quotechar='"')
        first = next(rows, (1, []))
        below = [fields for _, (_, fields) in zip(range(_N_PEEK), rows)]
    return first, below


def _infer_header(file, first, below, label_index):
    """Whether the first line names the columns; see :func:`load_csv`."""
    features = [value for i, value in enumerate(first) if i != label_index]
    if not all(_is_number(value) for value in features):
        return True
    try:
        label = parse_label(first[label_index])
    except ValueError:
        return False  # a bad label in a record, reported with its line later
    kinds = set()
    for fields in below:
        if len(fields) == len(first):
            try:
                kinds.add(label_kind(parse_label(fields[label_index])))
            except ValueError:
                pass
    if label_kind(label) == "name" and kinds == {"number"}:
        return True
    if features != [str(i) for i in range(len(features))]:
        return False
    # the features are the column positions 0..n-1, as pandas writes the
    # header of a frame whose columns have no names
    if label_kind(label) == "name" and len(features) >= 3:
        return True
    if label_kind(label) == "name" or label == label_index:
        raise ValueError(
            f"{file}: cannot tell whether the first line, {first}, names the "
            "columns (its features are the column positions 0, 1, ...) or is "
            "a record; pass header=True or header=False."
        )
    return False


@validate_params(
    {
        "path": [str, os.PathLike],
        "label_column": [Integral, str],
        "header": ["boolean", StrOptions({"infer"})],
        "delimiter": [str],
        "dtype": "no_validation",
        "return_X_y": ["boolean"],
        "n_samples": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_csv(
    path,
    *,
    label_column=-1,
    header="infer",
    delimiter=",",
    dtype=np.float32,
    return_X_y=False,
    n_samples=None,
    random_state=None,
):
    """Load numeric features and a label column from a delimited text file.

    Parsed with numpy's C parser; pandas is not needed. Fields may be quoted
    with ``"``. The text is read as UTF-8 (a byte-order mark is skipped), or
    as Latin-1 when it is not valid UTF-8. Read more in the
    :ref:`User Guide <data>`.

    Parameters
    ----------
    path : str or path-like
    label_column : int or str, default=-1
        The label's column: a position (negative counts from the end) or, when
        the file has a header line, a name.
    header : bool or "infer", default="infer"
        Whether the first line names the columns. ``"infer"`` decides from the
        first line and the labels of the hundred lines below it: the first
        line is a header when one of its features is not a number, or when its
        label is a name while the labels below are integers (``0,1,2,label``
        above integer classes), or when its features are the column positions
        ``0, 1, ..., n-1`` (at least three of them) and its label a name, as
        pandas writes columns without names. When the features are the column
        positions but the line could as well be a record (a label equal to its
        own position, or fewer than three features), a ValueError asks for
        ``header=True`` or ``header=False``. Otherwise the first line is a
        record.
    delimiter : str, default=","
    dtype : numpy dtype, default=np.float32
        Type of the features. ``nan`` and ``inf`` are read as such; an empty
        field is an error. The labels never pass through this type.
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
        ``data`` (n_samples, n_columns - 1), ``target``, ``feature_names``
        (from the header, else None) and ``filename``. ``target`` is int64
        when every label is an integer (``"1"``, ``"1.0"`` and ``"01"`` are
        all class 1), otherwise the names as written, without surrounding
        blanks (encode them with :class:`~sklearn.preprocessing.LabelEncoder`
        if needed).
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    ValueError
        If a line has another number of fields than the first, the lines end
        with the delimiter, a feature is not a number, a label is empty, NaN,
        infinite, a fraction or outside int64, the labels mix integers and
        names, a field that must be read with :mod:`csv` (in the first
        hundred lines, or on the way to a bad line) is longer than
        :func:`csv.field_size_limit`, or the label column does not exist; the
        message names the file and the line.

    Examples
    --------
    >>> from wsmooth.datasets import load_csv
    >>> X, y = load_csv("data.csv", label_column="y", return_X_y=True)  # doctest: +SKIP
    """
    file = resolve_file(path, None, what="The CSV file")
    dtype = check_dtype(dtype)
    encoding = text_encoding(file)
    (first_line, first), below = _peek(file, encoding, delimiter)
    first = [field.strip() for field in first]
    n_columns = len(first)
    if n_columns < 2:
        raise ValueError(
            f"{file}: the first line has {n_columns} field(s); expected features "
            f"and a label separated by {delimiter!r}."
        )
    if first[-1] == "":
        raise ValueError(
            f"Cannot read {file}: line {first_line}: the line ends with the "
            f"delimiter {delimiter!r}, an empty last field, which is neither a "
            "feature nor a label. Remove the trailing delimiters."
        )

    if isinstance(label_column, str):
        if header is False:
            raise ValueError(
                f"label_column={label_column!r} names a column, but header=False"
            )
        if label_column not in first:
            raise ValueError(
                f"{file} has no column named {label_column!r}; its first line "
                f"is {first}."
            )
        header, label_index = True, first.index(label_column)
    else:
        if not -n_columns <= label_column < n_columns:
            raise ValueError(
                f"label_column={label_column} but {file} has {n_columns} columns."
            )
        label_index = label_column % n_columns
        if header == "infer":
            header = _infer_header(file, first, below, label_index)
    skip_lines = first_line if header else 0

    def bad_line(fallback):
        where = first_bad_line(
            file,
            _row_check(n_columns, label_index),
            delimiter=delimiter,
            quotechar='"',
            skip_lines=skip_lines,
            encoding=encoding,
        )
        return ValueError(f"Cannot read {file}: {where or fallback}.")

    fields = []

    def keep_label(field):
        # the label is kept as text and parsed apart from the features
        fields.append(field)
        return 0

    try:
        table = loadtxt(
            file,
            delimiter=delimiter,
            quotechar='"',
            dtype=dtype,
            skiprows=skip_lines,
            converters={label_index: keep_label},
            ndmin=2,
            encoding=encoding,
        )
    except ValueError as exc:
        raise bad_line(exc) from None
    if table.size and table.shape[1] != n_columns:
        # the header names another number of columns than the records hold
        raise bad_line(f"the first line has {n_columns} fields") from None
    if table.shape[0] == 0:
        raise ValueError(f"{file} holds no records.")
    try:
        y = encode_labels(fields)
    except LabelError as exc:
        raise bad_line(exc) from None

    index = subsample_index(table.shape[0], n_samples, random_state, path=file)
    if index is not None:
        table, y = table[index], y[index]
    X = np.delete(table, label_index, axis=1)
    names = [n for i, n in enumerate(first) if i != label_index] if header else None
    return finish(
        X, y, return_X_y=return_X_y, feature_names=names, filename=str(file)
    )
