"""Class labels parsed from text fields."""

import numpy as np
import pytest

from wsmooth.datasets._labels import LabelError, encode_labels, parse_label


@pytest.mark.parametrize("field", ["1", "1.0", "01", " 1 ", "+1", "1e0", "1.00"])
def test_integer_spellings_are_one_class(field):
    assert parse_label(field) == 1 and type(parse_label(field)) is int


def test_int64_bounds_and_names():
    assert parse_label(str(2**63 - 1)) == 2**63 - 1
    assert parse_label(str(-(2**63))) == -(2**63)
    assert parse_label(" setosa ") == "setosa"
    assert parse_label("0x10") == "0x10"


@pytest.mark.parametrize(
    "field, message",
    [
        ("", "empty"),
        ("  ", "empty"),
        ("0.5", "not an integer"),
        ("nan", "not finite"),
        ("-inf", "not finite"),
        (str(10**30), "outside the int64 range"),
        (str(2**63), "outside the int64 range"),
        ("1e30", "outside the int64 range"),
    ],
)
def test_bad_labels_are_refused_with_the_line(field, message):
    with pytest.raises(LabelError, match=f"line 7: .*{message}"):
        parse_label(field, line=7)


def test_encode_labels_integers_and_names():
    y = encode_labels(["1", "1.0", "01", "2", "0"])
    assert y.dtype == np.int64 and y.tolist() == [1, 1, 1, 2, 0]
    names = encode_labels(["cat", "dog", "cat"])
    assert names.dtype.kind == "U" and names.tolist() == ["cat", "dog", "cat"]


def test_encode_labels_names_the_first_bad_record():
    with pytest.raises(LabelError, match="not an integer") as info:
        encode_labels(["1", "2", "0.5", "3"])
    assert info.value.index == 2
    with pytest.raises(LabelError, match="mix integers and names") as info:
        encode_labels(["1", "2", "cat"])
    assert info.value.index == 2
