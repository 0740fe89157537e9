"""Plumbing shared by the readers of published data formats.

Text tables are parsed by numpy's C parser (:func:`numpy.loadtxt`) and checked
with whole-array reductions. Only when the parse or a check fails does
:func:`first_bad_line` walk the file line by line, to name the exact line in
the error; a good file never pays for that walk.
"""

import codecs
import csv
import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = [
    "binary_check",
    "check_dtype",
    "feature_names",
    "first_bad_line",
    "finish",
    "label_first_check",
    "label_only_check",
    "load_label_first",
    "loadtxt",
    "raise_bad_line",
    "read_uint8_table",
    "resolve_file",
    "subsample_index",
    "text_encoding",
]


_BITS = frozenset(("0", "1"))


def resolve_file(path, default_name, *, what):
    """Return ``path``, or ``path / default_name`` when ``path`` is a folder.

    With ``default_name=None`` a folder is not accepted.

    Raises FileNotFoundError naming the file and what was expected in it.
    """
    path = Path(os.fspath(path)).expanduser()
    if path.is_dir() and default_name is not None:
        path = path / default_name
    if not path.is_file():
        raise FileNotFoundError(
            f"{what} not found: {path} does not exist or is not a file. Nothing "
            "is downloaded: point the loader at your local copy."
        )
    return path


def check_dtype(dtype, *, allowed=None):
    """Return ``np.dtype(dtype)``, checked to be numeric (or in ``allowed``)."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if allowed is not None:
        ok = resolved is not None and resolved in [np.dtype(a) for a in allowed]
        expected = " or ".join(np.dtype(a).name for a in allowed)
    else:
        ok = resolved is not None and resolved.kind in "biuf"
        expected = "a numeric or boolean dtype"
    if not ok:
        raise ValueError(f"dtype must be {expected}, got {dtype!r}")
    return resolved


def label_first_check(n_columns, n_classes):
    """Line check: a label in ``1..n_classes``, then ``n_columns - 1`` bits."""

    def check(fields):
        if len(fields) != n_columns:
            return (
                f"{len(fields)} fields where the format has {n_columns} "
                f"(a label, then {n_columns - 1} binary features)"
            )
        return label_only_check(n_classes)(fields[:1]) or binary_check(
            n_columns - 1, offset=1
        )(fields[1:])

    return check


def label_only_check(n_classes):
    """Line check: a single integer label in ``1..n_classes``."""

    def check(fields):
        if len(fields) != 1:
            return f"{len(fields)} fields where the format has one label"
        label = fields[0].strip()
        plain = label.isascii() and label.isdigit()
        if not (plain and 1 <= int(label) <= n_classes):
            return f"label {fields[0]!r} is not an integer in 1..{n_classes}"
        return None

    return check


def binary_check(n_columns, *, offset=0):
    """Line check: exactly ``n_columns`` fields, each 0 or 1."""

    def check(fields):
        if len(fields) != n_columns:
            return (
                f"{len(fields)} fields where the format has {n_columns} "
                "binary features"
            )
        if _BITS.issuperset(fields):
            return None
        for column, value in enumerate(fields):
            if value.strip() not in _BITS:
                return (
                    f"field {column + offset + 1} is {value!r}; the format's "
                    "features are 0 or 1"
                )
        return None

    return check


def text_encoding(path, *, validate=True):
    """The encoding to read a text file with: UTF-8, else Latin-1.

    A UTF-8 byte-order mark means UTF-8, and the mark is skipped
    (``"utf-8-sig"``). Without one, the file is UTF-8 when all of it decodes
    as UTF-8 (checked only with ``validate``), else Latin-1, which decodes any
    byte.
    """
    with open(path, "rb") as file:
        if file.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
            return "utf-8-sig"
        if not validate:
            return "latin-1"
        file.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := file.read(1 << 22):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8-sig"


def csv_rows(file, *, delimiter=",", quotechar=None):
    """``(line number, fields)`` of the non-blank lines of an open text file.

    Raises ValueError naming the line where :mod:`csv` fails, e.g. on a field
    longer than :func:`csv.field_size_limit`.
    """
    quoting = csv.QUOTE_MINIMAL if quotechar else csv.QUOTE_NONE
    reader = csv.reader(
        file, delimiter=delimiter, quotechar=quotechar or '"', quoting=quoting
    )
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num
            if "field limit" in str(exc):
                exc = (
                    "a field is longer than the "
                    f"{csv.field_size_limit():,} characters a field may hold"
                )
            raise ValueError(f"{file.name}: line {line}: {exc}") from None
        if fields:
            yield reader.line_num, fields


def first_bad_line(
    path, check, *, delimiter=",", quotechar=None, skip_lines=0, encoding=None
):
    """Return ``"line N: problem"`` for the first line ``check`` rejects.

    ``check(fields)`` returns a description of the problem or None. Blank
    lines are skipped, as :func:`numpy.loadtxt` skips them. Returns None when
    every line passes.
    """
    encoding = encoding or text_encoding(path, validate=False)
    with open(path, newline="", encoding=encoding, errors="replace") as file:
        for line, fields in csv_rows(file, delimiter=delimiter, quotechar=quotechar):
            if line <= skip_lines:
                continue
            try:
                problem = check(fields)
            except ValueError as exc:
                problem = str(exc)
            if problem:
                return f"line {line}: {problem}"
    return None


def loadtxt(path, *, encoding="latin-1", **kwargs):
    with warnings.catch_warnings():
        # an empty file is reported by the caller, with the file's name
        warnings.filterwarnings("ignore", message=".*input contained no data")
        try:
            return np.loadtxt(path, comments=None, encoding=encoding, **kwargs)
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"byte {exc.start} is not UTF-8, though the file starts with "
                "a UTF-8 byte-order mark"
            ) from None


def read_uint8_table(path, check, *, what, quotechar=None):
    """Parse a comma-separated table of small non-negative integers.

    Parameters
    ----------
    path : Path
    check : callable
        Line check (see :func:`first_bad_line`), used to name the bad line
        when the parse fails.
    what : str
        Names the file's role in messages.
    quotechar : str or None
        Quote character the format allows around fields.

    Returns
    -------
    ndarray of uint8, shape (n_lines, n_fields)
    """
    try:
        table = loadtxt(
            path,
            delimiter=",",
            dtype=np.uint8,
            quotechar=quotechar,
            ndmin=2,
            encoding=text_encoding(path, validate=False),
        )
    except ValueError as exc:
        raise_bad_line(path, check, what=what, quotechar=quotechar, fallback=exc)
    if table.size == 0:
        raise ValueError(f"{path} ({what}) holds no records.")
    return table


def raise_bad_line(path, check, *, what, quotechar=None, fallback, skip_lines=0):
    """Raise ValueError naming the first bad line of ``path``."""
    where = first_bad_line(path, check, quotechar=quotechar, skip_lines=skip_lines)
    raise ValueError(
        f"{path} is not in the format of {what}: {where or fallback}."
    ) from None


def load_label_first(
    path,
    *,
    default_name,
    n_features,
    n_classes,
    quotechar,
    what,
    dtype,
    n_samples,
    random_state,
):
    """Read a comma-separated file of a label in ``1..n_classes`` and bits.

    Returns the resolved file, ``X`` of ``dtype`` and 0-based int64 ``y``.
    """
    file = resolve_file(path, default_name, what=what)
    dtype = check_dtype(dtype)
    check = label_first_check(n_features + 1, n_classes)
    table = read_uint8_table(file, check, what=what, quotechar=quotechar)
    if (
        table.shape[1] != n_features + 1
        or table[:, 0].min() < 1
        or table[:, 0].max() > n_classes
        or table[:, 1:].max() > 1
    ):
        raise_bad_line(
            file,
            check,
            what=what,
            quotechar=quotechar,
            fallback=(
                f"expected a label in 1..{n_classes} then {n_features} binary "
                f"features per line, got {table.shape[1]} fields"
            ),
        )
    index = subsample_index(table.shape[0], n_samples, random_state, path=file)
    if index is not None:
        table = table[index]
    y = table[:, 0].astype(np.int64) - 1
    X = table[:, 1:].astype(dtype)
    return file, X, y


def feature_names(n_features):
    """``["feature_0", ...]``: the published formats name no columns."""
    return [f"feature_{i}" for i in range(n_features)]


def subsample_index(n_total, n_samples, random_state, *, path):
    """Indices of ``n_samples`` records drawn without replacement, in file order."""
    if n_samples is None:
        return None
    if n_samples > n_total:
        raise ValueError(
            f"n_samples={n_samples} but {path} holds only {n_total} records."
        )
    rng = check_random_state(random_state)
    return np.sort(rng.choice(n_total, size=n_samples, replace=False))


def finish(X, y, *, return_X_y, **fields):
    """``(X, y)`` or a :class:`~sklearn.utils.Bunch` with ``data``, ``target``."""
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, **fields)
