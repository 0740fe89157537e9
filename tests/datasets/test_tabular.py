"""Generic features + labels from .npz archives and CSV text."""

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis.extra.numpy import arrays

from wsmooth.datasets import load_csv, load_npz


def _data(n=12, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = rng.integers(0, 3, size=n)
    return X, y


# --- .npz ---------------------------------------------------------------------


def test_npz_round_trip_default_and_named_keys(tmp_path):
    X, y = _data()
    np.savez(tmp_path / "a.npz", X=X, y=y)
    bunch = load_npz(tmp_path / "a.npz")
    assert np.array_equal(bunch.data, X) and bunch.data.dtype == np.float32
    assert np.array_equal(bunch.target, y)
    assert bunch.filename == str(tmp_path / "a.npz")

    images = np.arange(2 * 3 * 4 * 4, dtype=np.uint8).reshape(2, 3, 4, 4)
    np.savez_compressed(tmp_path / "b.npz", images=images, classes=np.array([1, 0]))
    X2, y2 = load_npz(tmp_path / "b.npz", X_key="images", y_key="classes",
                      return_X_y=True)
    assert X2.dtype == np.uint8 and np.array_equal(X2, images)
    assert np.array_equal(y2, [1, 0])

    Xs, ys = load_npz(tmp_path / "a.npz", n_samples=5, random_state=0,
                      return_X_y=True)
    rows = [int(np.flatnonzero((X == r).all(axis=1))[0]) for r in Xs]
    assert rows == sorted(set(rows)) and np.array_equal(ys, y[rows])


def test_npz_object_arrays_are_refused_without_unpickling(tmp_path):
    marker = tmp_path / "marker"

    class RunsCode:
        def __reduce__(self):
            return exec, (f"open({str(marker)!r}, 'w').close()",)

    X = np.empty((2, 1), dtype=object)
    X[0, 0] = RunsCode()
    np.savez(tmp_path / "evil.npz", X=X, y=np.zeros(2))
    with pytest.raises(ValueError, match="evil.npz holds arrays of Python objects"):
        load_npz(tmp_path / "evil.npz")
    assert not marker.exists()


@pytest.mark.parametrize(
    "write, kwargs, message",
    [
        (lambda p: np.savez(p, X=np.eye(2), label=[0, 1]), {}, "no array named 'y'"),
        (lambda p: np.savez(p, X=np.eye(3), y=[0, 1]), {}, r"shapes \(3, 3\)"),
        (lambda p: np.savez(p, X=np.ones(3), y=[0, 1, 2]), {}, "one record a row"),
        (lambda p: p.write_bytes(b"not a zip"), {}, "data.npz is not a .npz archive"),
    ],
)
def test_npz_errors(tmp_path, write, kwargs, message):
    path = tmp_path / "data.npz"
    write(path)
    with pytest.raises(ValueError, match=message):
        load_npz(path, **kwargs)


def test_npz_single_array_and_missing(tmp_path):
    np.save(tmp_path / "x.npy", np.eye(2))
    with pytest.raises(ValueError, match="single array"):
        load_npz(tmp_path / "x.npy")
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        load_npz(tmp_path / "nowhere.npz")


# --- CSV ------------------------------------------------------------------------


def test_csv_with_header_and_named_label_matches_pandas(tmp_path):
    X, y = _data()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame.insert(2, "class", y)
    frame.to_csv(tmp_path / "data.csv", index=False)

    bunch = load_csv(tmp_path / "data.csv", label_column="class")
    expected = pd.read_csv(tmp_path / "data.csv")
    assert np.array_equal(bunch.target, expected["class"].to_numpy())
    assert bunch.target.dtype == np.int64
    assert np.array_equal(
        bunch.data, expected.drop(columns="class").to_numpy(np.float32)
    )
    assert bunch.feature_names == ["a", "b", "c", "d"]

    # by position, header inferred from the non-numeric first line
    X2, y2 = load_csv(tmp_path / "data.csv", label_column=2, return_X_y=True)
    assert np.array_equal(X2, bunch.data) and np.array_equal(y2, y)


def test_csv_without_header_label_first_or_last(tmp_path):
    X, y = _data()
    np.savetxt(tmp_path / "last.csv", np.column_stack([X, y]), delimiter=",",
               fmt=["%.9g"] * 4 + ["%d"])
    bunch = load_csv(tmp_path / "last.csv")
    assert bunch.feature_names is None
    assert np.array_equal(bunch.data, X) and np.array_equal(bunch.target, y)

    np.savetxt(tmp_path / "first.tsv", np.column_stack([y, X]), delimiter="\t",
               fmt=["%d"] + ["%.9g"] * 4)
    X2, y2 = load_csv(tmp_path / "first.tsv", label_column=0, delimiter="\t",
                      dtype=np.float64, return_X_y=True)
    assert X2.dtype == np.float64
    assert np.array_equal(X2.astype(np.float32), X) and np.array_equal(y2, y)


def test_csv_string_labels_kept_as_written(tmp_path):
    (tmp_path / "d.csv").write_text(
        'x1,x2,species\n1,2,"setosa"\n3,4,versicolor\n5,6,setosa\n'
    )
    X, y = load_csv(tmp_path / "d.csv", return_X_y=True)
    assert X.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert y.tolist() == ["setosa", "versicolor", "setosa"]


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        ("1,2,0\n3,4\n5,6,1\n", {}, "line 2: 2 fields where the first line has 3"),
        ("1,2,0\n3,4,1,7\n", {}, "line 2: 4 fields"),
        ("a,b,y\n1,2,0\n3,x,1\n", {}, "line 3: field 2 is 'x'"),
        ("1,2,0\n3,,1\n", {}, "line 2: field 2 is ''"),
        ("a,b,y\n1,2,0\n", {"label_column": "z"}, "no column named 'z'"),
        ("1,2,0\n", {"label_column": 3}, "has 3 columns"),
        ("a,b,y\n1,2,0\n", {"label_column": "y", "header": False}, "header=False"),
        ("a,b,y\n", {}, "holds no records"),
        ("a,b,y\n1,2,3,0\n1,2,3,1\n", {}, "line 2: 4 fields where the first"),
        ("1\n2\n", {}, "first line has 1 field"),
    ],
)
def test_csv_errors_name_file_and_line(tmp_path, text, kwargs, message):
    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        load_csv(path, **kwargs)
    if "line" in message:
        assert str(path) in str(info.value)


@settings(max_examples=30, deadline=None)
@given(
    X=arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 5)),
             elements=st.floats(-1e6, 1e6, width=32)),
    data=st.data(),
)
def test_csv_round_trip_is_exact(tmp_path_factory, X, data):
    n, d = X.shape
    y = data.draw(arrays(np.int64, n, elements=st.integers(-5, 5)))
    label_column = data.draw(st.integers(0, d))
    table = [[repr(float(v)) for v in row] for row in X]
    for row, label in zip(table, y):
        row.insert(label_column, str(label))
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    path.write_text("".join(",".join(row) + "\n" for row in table))
    X2, y2 = load_csv(path, label_column=label_column, header=False,
                      return_X_y=True)
    assert X2.dtype == np.float32 and np.array_equal(X2, X)
    assert np.array_equal(y2, y)


# --- CSV: nothing guessed wrong silently ------------------------------------------


def _rows(X, y):
    return "".join(",".join(map(str, r)) + f",{label}\n" for r, label in zip(X, y))


@pytest.mark.parametrize("dtype, n_classes", [(bool, 5), (np.float16, 2099),
                                              (np.uint8, 300)])
def test_csv_labels_never_pass_through_the_feature_dtype(tmp_path, dtype, n_classes):
    rng = np.random.default_rng(0)
    y = np.arange(n_classes)
    X = rng.integers(0, 2, size=(n_classes, 3))
    (tmp_path / "d.csv").write_text(_rows(X, y))
    X2, y2 = load_csv(tmp_path / "d.csv", dtype=dtype, return_X_y=True)
    assert X2.dtype == np.dtype(dtype) and np.array_equal(X2, X.astype(dtype))
    assert y2.dtype == np.int64 and np.array_equal(y2, y)


def test_csv_pandas_header_of_column_positions(tmp_path):
    X, y = _data(n=10, d=5)
    frame = pd.DataFrame(X)
    frame["label"] = y
    frame.to_csv(tmp_path / "d.csv", index=False)
    assert (tmp_path / "d.csv").read_text().startswith("0,1,2,3,4,label\n")
    bunch = load_csv(tmp_path / "d.csv")
    assert bunch.data.shape == (10, 5) and np.array_equal(bunch.data, X)
    assert bunch.target.dtype == np.int64 and np.array_equal(bunch.target, y)
    assert bunch.feature_names == ["0", "1", "2", "3", "4"]


def test_csv_numeric_header_with_a_named_label_over_integer_labels(tmp_path):
    (tmp_path / "d.csv").write_text("7,8,class\n1,2,0\n3,4,1\n")
    bunch = load_csv(tmp_path / "d.csv")
    assert bunch.data.tolist() == [[1, 2], [3, 4]]
    assert bunch.target.tolist() == [0, 1] and bunch.feature_names == ["7", "8"]


@pytest.mark.parametrize("text", [
    "0,1,2,3\n5,6,7,1\n1,2,3,0\n",      # all-integer pandas header, or a record?
    "0,1,species\n5,6,setosa\n",        # two positions and a name
])
def test_csv_ambiguous_first_line_asks_for_header(tmp_path, text):
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(ValueError, match="pass header=True or header=False"):
        load_csv(tmp_path / "d.csv")
    X, _ = load_csv(tmp_path / "d.csv", header=True, return_X_y=True)
    assert X.shape[0] == text.count("\n") - 1
    X, _ = load_csv(tmp_path / "d.csv", header=False, return_X_y=True)
    assert X.shape[0] == text.count("\n")


def test_csv_string_labels_with_index_header(tmp_path):
    (tmp_path / "d.csv").write_text("0,1,2,species\n1,2,3,setosa\n4,5,6,virginica\n")
    bunch = load_csv(tmp_path / "d.csv")
    assert bunch.target.tolist() == ["setosa", "virginica"]
    assert bunch.feature_names == ["0", "1", "2"]


@pytest.mark.parametrize("header", ["", "a,b,c,y\n"])
def test_csv_byte_order_mark_is_skipped(tmp_path, header):
    X, y = _data(n=60, d=3)
    text = "\ufeff" + header + _rows(X.round(3), y)
    (tmp_path / "d.csv").write_bytes(text.encode("utf-8"))
    bunch = load_csv(tmp_path / "d.csv")
    assert bunch.data.shape == (60, 3) and np.array_equal(bunch.target, y)
    assert bunch.feature_names == (["a", "b", "c"] if header else None)


def test_csv_latin1_labels_are_read(tmp_path):
    (tmp_path / "d.csv").write_bytes("1,2,caf\xe9\n3,4,th\xe9\n".encode("latin-1"))
    _, y = load_csv(tmp_path / "d.csv", return_X_y=True)
    assert y.tolist() == ["café", "thé"]
    (tmp_path / "u.csv").write_bytes("1,2,café\n3,4,thé\n".encode("utf-8"))
    _, y = load_csv(tmp_path / "u.csv", return_X_y=True)
    assert y.tolist() == ["café", "thé"]


def test_csv_trailing_delimiter_is_refused_at_line_1(tmp_path):
    X, y = _data(n=5, d=3)
    (tmp_path / "d.csv").write_text(_rows(X, y).replace("\n", ",\n"))
    with pytest.raises(ValueError, match="line 1: the line ends with the delimiter"):
        load_csv(tmp_path / "d.csv")
    # on one line only, it is a ragged line
    (tmp_path / "e.csv").write_text("1,2,0\n3,4,1,\n")
    with pytest.raises(ValueError, match="line 2: 4 fields where the first line has 3"):
        load_csv(tmp_path / "e.csv")


def test_csv_integer_spellings_are_one_class(tmp_path):
    (tmp_path / "d.csv").write_text("1,2,1\n3,4,1.0\n5,6,01\n7,8,0\n")
    _, y = load_csv(tmp_path / "d.csv", return_X_y=True)
    assert y.dtype == np.int64 and y.tolist() == [1, 1, 1, 0]


@pytest.mark.parametrize(
    "bad, message",
    [
        ("", "the label is empty"),
        ("0.5", "not an integer"),
        ("nan", "not finite"),
        ("inf", "not finite"),
        (str(10**30), "outside the int64 range"),
        ("cat", "is a name but the first record's label is an integer"),
    ],
)
def test_csv_bad_label_names_its_line(tmp_path, bad, message):
    (tmp_path / "d.csv").write_text(f"a,b,y\n1,2,0\n3,4,1\n5,6,{bad}\n7,8,1\n")
    with pytest.raises(ValueError, match=f"line 4: .*{message}") as info:
        load_csv(tmp_path / "d.csv")
    assert str(tmp_path / "d.csv") in str(info.value)


@pytest.mark.parametrize("line", [1, 3])
def test_csv_field_over_the_csv_limit_names_its_line(tmp_path, line):
    rows = ["1,2,0", "3,4,1", "5,6,0"]
    rows[line - 1] = "0." + "1" * 140_000 + ",2,0"
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=f"line {line}: a field is longer than"):
        load_csv(tmp_path / "d.csv")
