"""Class labels read from text, never through the features' dtype.

A label field is either a number that is an integer (``"1"``, ``"1.0"``,
``"01"`` and ``"1e0"`` are the same class, 1) or a name kept as written
(``"setosa"``). Anything else a number could mean is refused: a fraction, NaN,
an infinity, an empty field, or an integer outside int64.
"""

import re
from decimal import Decimal

import numpy as np

__all__ = ["LabelError", "encode_labels", "label_kind", "parse_label"]

_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|nan|inf|infinity)\Z",
    re.IGNORECASE,
)
_INT64 = (Decimal(np.iinfo(np.int64).min), Decimal(np.iinfo(np.int64).max))


class LabelError(ValueError):
    """A label field that is not a label; ``index`` is its record's position."""

    def __init__(self, message, index=None):
        super().__init__(message)
        self.index = index


def parse_label(field, *, line=None):
    """Return the label a field holds: an int, or a name (str).

    Parameters
    ----------
    field : str
        The field as read, quotes removed; surrounding blanks are ignored.
    line : int, default=None
        Line number, named in the error.

    Returns
    -------
    int or str

    Raises
    ------
    LabelError
        If the field is empty, or a number that is not an integer in the
        int64 range (0.5, NaN, inf, 10**30).
    """
    where = f"line {line}: " if line is not None else ""
    text = field.strip()
    if not text:
        raise LabelError(f"{where}the label is empty")
    if not _NUMBER.match(text):
        return text
    value = Decimal(text)
    if not value.is_finite():
        raise LabelError(f"{where}the label {field!r} is not a class (not finite)")
    if value != value.to_integral_value():
        raise LabelError(
            f"{where}the label {field!r} is a number but not an integer; "
            "class labels are integers or names"
        )
    if not _INT64[0] <= value <= _INT64[1]:
        raise LabelError(
            f"{where}the label {field!r} is an integer outside the int64 range"
        )
    return int(value)


def label_kind(label):
    """``"number"`` or ``"name"``."""
    return "name" if isinstance(label, str) else "number"


def encode_labels(fields):
    """Parse a column of label fields into one array of labels.

    Each distinct field is parsed once (:func:`parse_label`), then spread back
    over the records, so the cost per record is numpy's.

    Parameters
    ----------
    fields : sequence of str
        One label field a record.

    Returns
    -------
    ndarray
        int64 when every label is an integer, else str (names as written).

    Raises
    ------
    LabelError
        If a field is not a label, or the column mixes integers and names;
        ``index`` is the first offending record.
    """
    fields = np.asarray(fields, dtype=str)
    uniques, first, inverse = np.unique(
        fields, return_index=True, return_inverse=True
    )
    labels = []
    for field, index in zip(uniques.tolist(), first.tolist()):
        try:
            labels.append(parse_label(field))
        except LabelError as exc:
            raise LabelError(str(exc), index) from None
    kinds = {label_kind(label) for label in labels}
    if kinds == {"number", "name"}:
        number = min(i for lab, i in zip(labels, first) if label_kind(lab) == "number")
        name = min(i for lab, i in zip(labels, first) if label_kind(lab) == "name")
        raise LabelError(
            "the labels mix integers and names (record "
            f"{min(number, name) + 1} vs record {max(number, name) + 1}); a "
            "label column holds one or the other",
            int(max(number, name)),
        )
    if kinds == {"number"}:
        lookup = np.array(labels, dtype=np.int64)
    else:
        lookup = np.array(labels, dtype=str)
    return lookup[inverse.reshape(-1)]
