"""Loading and checking the data of a comparison."""

import numpy as np
import pytest

from wsmooth.attacks._base import MIN_RECORDS_PER_CLASS
from wsmooth.experiments import (
    DEFAULT_N_SAMPLES,
    DataError,
    DataTooSmallError,
    attacker_pool_labels,
    check_dataset,
    load_dataset,
)


def test_the_generated_data_take_the_default_size():
    X, y, text = load_dataset("purchase-like", n_classes=4, random_state=1)
    assert len(y) == DEFAULT_N_SAMPLES and len(np.unique(y)) == 4
    assert text == f"Purchase-like (embedded), {DEFAULT_N_SAMPLES} records, 4 classes"
    again, _, _ = load_dataset("purchase-like", n_classes=4, random_state=1)
    assert np.array_equal(X, again)


def test_digits_are_drawn_stratified_and_scaled():
    X, y, text = load_dataset("digits", n_samples=200, random_state=0)
    assert X.shape == (200, 64) and X.dtype == np.float32 and X.max() <= 1
    assert np.bincount(y).min() >= 19  # every class, in proportion
    assert text == "digits (scikit-learn), 200 records, 10 classes"


def test_an_unknown_name_is_refused():
    with pytest.raises(ValueError, match="unknown data 'purchase'"):
        load_dataset("purchase")


def test_an_ambiguous_csv_header_names_the_argument(tmp_path):
    path = tmp_path / "d.csv"
    rows = ["0,1,2"] + [f"{i % 3},{i % 5},{i % 4}" for i in range(40)]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match="csv_header=True or csv_header=False"):
        load_dataset("csv", str(path))
    X, y, _ = load_dataset("csv", str(path), csv_header=False)
    assert len(y) == 41 and X.dtype == np.float32


def test_features_of_another_shape_are_refused(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((10, 2, 3)), y=np.arange(10) % 2)
    with pytest.raises(DataError, match=r"shape \(n, d\) or \(n, C, H, W\)"):
        load_dataset("npz", str(path))


def test_usable_data_pass():
    X, y, _ = load_dataset("purchase-like", n_samples=200, n_classes=4)
    check_dataset(X, y, source="here")


@pytest.mark.parametrize(
    "labels, message",
    [(np.arange(40) % 2 + 0.5, "not integer classes"),
     (np.arange(40.0) % 2, r"y.astype\(np.int64\)"),
     (np.array(["1.5", "2"] * 20), "numbers but not integers")],
)
def test_labels_that_are_not_classes_are_refused(labels, message):
    with pytest.raises(DataError, match=message) as info:
        check_dataset(np.zeros((40, 3)), labels, source="here")
    assert not isinstance(info.value, DataTooSmallError)
    assert str(info.value).startswith("here: ")


def test_images_channels_last_are_refused():
    with pytest.raises(DataError, match="channels last"):
        check_dataset(np.zeros((40, 8, 8, 3)), np.arange(40) % 2, source="here")


def test_too_few_records_is_its_own_error():
    X = np.zeros((40, 3))
    with pytest.raises(DataTooSmallError, match="a single class"):
        check_dataset(X, np.zeros(40, dtype=int), source="here")
    y = np.array([0] * 36 + [1] * 4)
    with pytest.raises(DataTooSmallError, match=f"at least {MIN_RECORDS_PER_CLASS}"):
        check_dataset(X, y, source="here")


def test_the_reference_set_leaves_a_smaller_pool():
    y = np.arange(500) % 5
    pool = attacker_pool_labels(y, random_state=3)
    smaller = attacker_pool_labels(y, random_state=3, reference_size=0.1)
    assert len(pool) == 400 and len(smaller) == 360
    # the reference set is drawn from the pool, class by class
    assert np.bincount(smaller).min() > 0
