"""The embedded Purchase-like generator."""

import numpy as np
import pytest

from wsmooth.datasets import make_purchase_like


def test_shape_values_and_determinism():
    X, y = make_purchase_like(n_samples=3000, random_state=0)
    assert X.shape == (3000, 600) and X.dtype == np.float32
    assert set(np.unique(X)) == {0.0, 1.0}
    assert y.dtype == np.int64 and y.min() >= 0 and y.max() <= 99
    assert len(np.unique(y)) > 90
    X2, y2 = make_purchase_like(n_samples=3000, random_state=0)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = make_purchase_like(n_samples=3000, random_state=1)
    assert not np.array_equal(X, X3)


def test_subclusters_have_very_different_sizes():
    _, y, cid = make_purchase_like(
        n_samples=20_000, return_cluster_ids=True, random_state=0
    )
    assert np.array_equal(cid // 8, y)
    sizes = np.bincount(cid, minlength=800)
    # a few dense sub-clusters, many tiny or single-record ones
    assert sizes.max() > 20 * max(np.median(sizes), 1)
    assert np.mean((sizes > 0) & (sizes <= 3)) > 0.1


def test_records_are_closer_within_their_subcluster():
    X, _, cid = make_purchase_like(
        n_samples=2000, n_classes=5, return_cluster_ids=True, random_state=0
    )
    big = np.bincount(cid).argmax()
    inside = X[cid == big]
    outside = X[cid != big]
    d_in = np.abs(inside[:50, None] - inside[None, 50:100]).mean()
    d_out = np.abs(inside[:50, None] - outside[None, :50]).mean()
    assert d_in < d_out


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_classes": 1}, "n_classes"),
        ({"flip_prob": 1.5}, "flip_prob"),
        ({"cluster_concentration": 0}, "cluster_concentration"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_purchase_like(**{"n_samples": 10, **kwargs})
