"""Purchase100, Location30 and Texas100 from files in their published formats."""

import numpy as np
import pytest

from wsmooth.datasets import load_location30, load_purchase100, load_texas100

# (loader, published file name, features, classes, label written as)
FORMATS = {
    "purchase": (load_purchase100, "dataset_purchase", 600, 100, "{}"),
    "location": (load_location30, "bangkok", 446, 30, '"{}"'),
}


def _records(n, n_features, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, size=(n, n_features), dtype=np.uint8)
    labels = rng.integers(1, n_classes + 1, size=n)
    labels[:2] = (1, n_classes)  # both ends of the published range
    return X, labels


def _lines(X, labels, label_format):
    return [
        label_format.format(label) + "," + ",".join(map(str, row))
        for label, row in zip(labels, X)
    ]


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return path


@pytest.fixture(params=sorted(FORMATS))
def fmt(request):
    return FORMATS[request.param]


def test_label_first_round_trip(fmt, tmp_path):
    loader, name, n_features, n_classes, label_format = fmt
    X, labels = _records(9, n_features, n_classes)
    file = _write(tmp_path / name, _lines(X, labels, label_format))

    bunch = loader(file)
    assert bunch.data.dtype == np.float32 and bunch.data.shape == (9, n_features)
    assert np.array_equal(bunch.data, X)
    assert bunch.target.dtype == np.int64
    assert np.array_equal(bunch.target, labels - 1)
    # target_names maps a 0-based class back to its published label
    assert np.array_equal(bunch.target_names[bunch.target], labels)
    assert len(bunch.feature_names) == n_features
    assert bunch.filename == str(file) and name in bunch.DESCR

    # the folder that holds the file works too, and dtype is honoured
    X2, y2 = loader(tmp_path, dtype=np.uint8, return_X_y=True)
    assert X2.dtype == np.uint8 and np.array_equal(X2, X)
    assert np.array_equal(y2, labels - 1)


def test_location_label_may_be_unquoted(tmp_path):
    X, labels = _records(4, 446, 30)
    _write(tmp_path / "bangkok", _lines(X, labels, "{}"))
    X2, y2 = load_location30(tmp_path, return_X_y=True)
    assert np.array_equal(X2, X) and np.array_equal(y2, labels - 1)


def test_windows_line_endings_and_trailing_blank_line(tmp_path):
    X, labels = _records(3, 600, 100)
    text = "\r\n".join(_lines(X, labels, "{}")) + "\r\n\r\n"
    (tmp_path / "dataset_purchase").write_bytes(text.encode())
    X2, y2 = load_purchase100(tmp_path, return_X_y=True)
    assert np.array_equal(X2, X) and np.array_equal(y2, labels - 1)


def test_n_samples_draws_rows_in_file_order(fmt, tmp_path):
    loader, name, n_features, n_classes, label_format = fmt
    X, labels = _records(20, n_features, n_classes)
    file = _write(tmp_path / name, _lines(X, labels, label_format))

    Xs, ys = loader(file, n_samples=6, random_state=0, return_X_y=True)
    assert Xs.shape == (6, n_features)
    # every kept row is a row of the file with its own label, in file order
    rows = [int(np.flatnonzero((X == row).all(axis=1))[0]) for row in Xs]
    assert rows == sorted(set(rows))
    assert np.array_equal(ys, labels[rows] - 1)
    again, _ = loader(file, n_samples=6, random_state=0, return_X_y=True)
    other, _ = loader(file, n_samples=6, random_state=1, return_X_y=True)
    assert np.array_equal(again, Xs) and not np.array_equal(other, Xs)
    with pytest.raises(ValueError, match="holds only 20 records"):
        loader(file, n_samples=21)


def _corrupt(kind, n_features, n_classes, label_format):
    """Five good lines, with line 3 broken the ``kind`` way."""
    X, labels = _records(5, n_features, n_classes)
    lines = _lines(X, labels, label_format)
    bits = ",".join(map(str, X[2]))
    lines[2] = {
        "ragged": lines[2].rsplit(",", 1)[0],
        "extra field": lines[2] + ",0",
        "label 0": label_format.format(0) + "," + bits,
        "label too large": label_format.format(n_classes + 1) + "," + bits,
        "label not a number": label_format.format("x") + "," + bits,
        "feature 2": label_format.format(1) + "," + bits[:-1] + "2",
        "feature 0.5": label_format.format(1) + "," + bits[:-1] + "0.5",
        "empty field": label_format.format(1) + "," + bits[:-1],
    }[kind]
    return lines


@pytest.mark.parametrize(
    "kind, message",
    [
        ("ragged", "fields where the format has"),
        ("extra field", "fields where the format has"),
        ("label 0", "label .* is not an integer in 1.."),
        ("label too large", "label .* is not an integer in 1.."),
        ("label not a number", "label .* is not an integer in 1.."),
        ("feature 2", "features are 0 or 1"),
        ("feature 0.5", "features are 0 or 1"),
        ("empty field", "features are 0 or 1"),
    ],
)
def test_bad_line_is_named(fmt, tmp_path, kind, message):
    loader, name, n_features, n_classes, label_format = fmt
    file = _write(
        tmp_path / name, _corrupt(kind, n_features, n_classes, label_format)
    )
    with pytest.raises(ValueError, match=message) as info:
        loader(file)
    assert str(file) in str(info.value)
    assert "line 3:" in str(info.value)


def test_wrong_width_everywhere_names_line_1(fmt, tmp_path):
    loader, name, n_features, n_classes, label_format = fmt
    X, labels = _records(4, n_features - 1, n_classes)
    file = _write(tmp_path / name, _lines(X, labels, label_format))
    with pytest.raises(ValueError, match=f"line 1: {n_features} fields where"):
        loader(file)


def test_missing_and_empty_file(fmt, tmp_path):
    loader, name, *_ = fmt
    with pytest.raises(FileNotFoundError, match=name):
        loader(tmp_path)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        loader(tmp_path / "nowhere")
    (tmp_path / name).write_text("")
    with pytest.raises(ValueError, match="holds no records"):
        loader(tmp_path)


def test_bad_arguments(tmp_path):
    X, labels = _records(3, 600, 100)
    file = _write(tmp_path / "dataset_purchase", _lines(X, labels, "{}"))
    with pytest.raises(ValueError, match="dtype"):
        load_purchase100(file, dtype="U3")
    with pytest.raises(ValueError, match="n_samples"):
        load_purchase100(file, n_samples=0)


# --- Texas100: two files ------------------------------------------------------


def _write_texas(folder, n=6, seed=0, feats_lines=None, labels_lines=None):
    X, labels = _records(n, 6169, 100, seed=seed)
    folder.mkdir(exist_ok=True)
    feats = [",".join(map(str, row)) for row in X]
    _write(folder / "feats", feats if feats_lines is None else feats_lines(feats))
    ys = [str(label) for label in labels]
    _write(folder / "labels", ys if labels_lines is None else labels_lines(ys))
    return X, labels


def test_texas_round_trip_from_folder_and_pair(tmp_path):
    X, labels = _write_texas(tmp_path / "100")
    bunch = load_texas100(tmp_path / "100")
    assert bunch.data.shape == (6, 6169) and bunch.data.dtype == np.float32
    assert np.array_equal(bunch.data, X)
    assert np.array_equal(bunch.target, labels - 1)
    assert np.array_equal(bunch.target_names[bunch.target], labels)
    assert bunch.filenames == (str(tmp_path / "100" / "feats"),
                               str(tmp_path / "100" / "labels"))

    pair = (str(tmp_path / "100" / "feats"), tmp_path / "100" / "labels")
    X2, y2 = load_texas100(pair, dtype=np.uint8, n_samples=4, random_state=0,
                           return_X_y=True)
    rows = [int(np.flatnonzero((X == row).all(axis=1))[0]) for row in X2]
    assert X2.dtype == np.uint8 and rows == sorted(set(rows)) and len(rows) == 4
    assert np.array_equal(y2, labels[rows] - 1)


def test_texas_files_of_different_lengths(tmp_path):
    _write_texas(tmp_path, labels_lines=lambda ys: ys[:-1])
    with pytest.raises(ValueError, match="holds 6 records but .*labels holds 5"):
        load_texas100(tmp_path)


@pytest.mark.parametrize(
    "feats_lines, labels_lines, file, message",
    [
        (None, lambda ys: ys[:3] + ["101"] + ys[4:], "labels", "line 4: label"),
        (None, lambda ys: ys[:3] + ["3,4"] + ys[4:], "labels", "line 4: 2 fields"),
        (lambda fs: fs[:1] + [fs[1][:-2]] + fs[2:], None, "feats", "line 2: 6168"),
        (lambda fs: fs[:1] + [fs[1][:-1] + "7"] + fs[2:], None, "feats",
         "line 2: field 6169 is '7'"),
    ],
)
def test_texas_bad_line_is_named(tmp_path, feats_lines, labels_lines, file, message):
    _write_texas(tmp_path, feats_lines=feats_lines, labels_lines=labels_lines)
    with pytest.raises(ValueError, match=message) as info:
        load_texas100(tmp_path)
    assert str(tmp_path / file) in str(info.value)


def test_texas_missing_file_and_single_file(tmp_path):
    _write_texas(tmp_path)
    (tmp_path / "labels").unlink()
    with pytest.raises(FileNotFoundError, match="labels"):
        load_texas100(tmp_path)
    with pytest.raises(ValueError, match="two files"):
        load_texas100(tmp_path / "feats")
    with pytest.raises(ValueError, match="pair"):
        load_texas100((tmp_path / "feats",))


def test_byte_order_mark_is_skipped(fmt, tmp_path):
    loader, name, n_features, n_classes, label_format = fmt
    X, labels = _records(5, n_features, n_classes)
    text = "\ufeff" + "".join(line + "\n" for line in _lines(X, labels, label_format))
    (tmp_path / name).write_bytes(text.encode("utf-8"))
    X2, y2 = loader(tmp_path, return_X_y=True)
    assert X2.shape == (5, n_features) and np.array_equal(X2, X)
    assert np.array_equal(y2, labels - 1)


def test_texas_byte_order_mark_is_skipped(tmp_path):
    X, labels = _write_texas(tmp_path)
    for name in ("feats", "labels"):
        raw = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + raw)
    X2, y2 = load_texas100(tmp_path, return_X_y=True)
    assert np.array_equal(X2, X) and np.array_equal(y2, labels - 1)


def test_field_over_the_csv_limit_names_its_line(tmp_path):
    X, labels = _records(4, 600, 100)
    lines = _lines(X, labels, "{}")
    lines[1] = lines[1] + "," + "1" * 140_000
    _write(tmp_path / "dataset_purchase", lines)
    with pytest.raises(ValueError, match="line 2: .*field"):
        load_purchase100(tmp_path)
