import numpy as np
import pytest

from wsmooth.utils import class_index


@pytest.mark.parametrize(
    "classes, labels, expected",
    [
        ([3, 1, 7], [7, 3, 1, 3], [2, 0, 1, 0]),
        ([1, 3, 7], [0, 2, 8], [-1, -1, -1]),  # below, between, above every class
        (["b", "a"], ["a", "c", "b"], [1, -1, 0]),
        ([], [1, 2], [-1, -1]),
    ],
)
def test_class_index_reports_absent_labels(classes, labels, expected):
    assert class_index(labels, classes).tolist() == expected


def test_class_index_matches_a_dictionary_lookup():
    rng = np.random.default_rng(0)
    classes = rng.permutation(50)[:30]
    labels = rng.integers(0, 50, size=200)
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    expected = [lookup.get(v, -1) for v in labels.tolist()]
    assert class_index(labels, classes).tolist() == expected
