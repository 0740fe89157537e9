import numpy as np
import pytest

from wsmooth.utils._stratified import (
    class_codes,
    first_per_class,
    half_of_every_class,
    stratified_split,
)


def test_class_codes():
    np.testing.assert_array_equal(class_codes(["b", "a", "b"], 3), [1, 0, 1])
    np.testing.assert_array_equal(class_codes(None, 2), [0, 0])
    with pytest.raises(ValueError, match="y must have 4 entries, got 3"):
        class_codes([0, 1, 0], 4)


def test_first_per_class_takes_lowest_keys_of_each_class():
    codes = np.array([0, 1, 0, 1, 0, 1])
    keys = np.array([0.5, 0.2, 0.1, 0.9, 0.3, 0.4])
    chosen = first_per_class(codes, keys, np.array([2, 1]))
    np.testing.assert_array_equal(chosen, [False, True, True, False, True, False])


@pytest.mark.parametrize("odd", ["coin", "balanced"])
def test_half_of_every_class(odd):
    y = np.repeat([0, 1, 2, 3], [7, 8, 9, 3])
    codes = class_codes(y, y.size)
    counts = np.bincount(codes)
    sizes = []
    for seed in range(30):
        half = half_of_every_class(codes, np.random.default_rng(seed), odd=odd)
        got = np.bincount(codes[half], minlength=4)
        assert np.all((got == counts // 2) | (got == counts // 2 + 1))
        sizes.append(half.sum())
    if odd == "balanced":
        assert set(sizes) == {y.size // 2}
    else:
        assert len(set(sizes)) > 1
    again = half_of_every_class(codes, np.random.default_rng(0), odd=odd)
    first = half_of_every_class(codes, np.random.default_rng(0), odd=odd)
    np.testing.assert_array_equal(again, first)
    with pytest.raises(ValueError, match="odd must be"):
        half_of_every_class(codes, np.random.default_rng(0), odd="even")


def test_stratified_split_keeps_shares_and_falls_back():
    y = np.repeat([0, 1], [40, 20])
    index = np.arange(y.size)
    _, test = stratified_split(index, strata=y, random_state=0, test_size=0.25)
    assert np.bincount(y[test]).tolist() == [10, 5]
    # a class of one record: plain random, no error
    y1 = np.append(y, 2)
    _, test = stratified_split(np.arange(y1.size), strata=y1, random_state=0,
                               test_size=0.25)
    assert test.size == 16
    # too small a test set for one record per class: plain random
    _, test = stratified_split(index, strata=y, random_state=0, test_size=1)
    assert test.size == 1
