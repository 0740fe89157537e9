import pytest

from wsmooth._noise_weight import (
    SIGMA_CAP,
    SIGMA_GRID_10_CLASSES,
    auto_sigma,
    sigma_grid,
)


def test_ten_classes_is_the_base_grid_and_auto_its_middle():
    assert sigma_grid(10) == SIGMA_GRID_10_CLASSES
    assert auto_sigma(10) == SIGMA_GRID_10_CLASSES[1]


@pytest.mark.parametrize("n_classes", [2, 3, 10, 50, 100, 1000])
def test_grid_is_increasing_and_positive(n_classes):
    low, mid, top = sigma_grid(n_classes)
    assert 0 < low < mid < top <= SIGMA_CAP
    assert auto_sigma(n_classes) == mid


def test_grid_shrinks_with_the_class_count():
    tops = [sigma_grid(k)[-1] for k in (2, 10, 50, 100, 1000)]
    assert tops == sorted(tops, reverse=True)
    assert sigma_grid(100) == (0.095, 0.19, 0.38)
    assert sigma_grid(2)[-1] == SIGMA_CAP


@pytest.mark.parametrize("bad", [1, 0, -3, 2.5, True])
def test_bad_class_count(bad):
    with pytest.raises(ValueError, match="n_classes"):
        sigma_grid(bad)
