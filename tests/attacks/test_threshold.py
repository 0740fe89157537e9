import numpy as np
import pytest

from wsmooth.attacks._threshold import best_threshold, class_thresholds


def brute_force(scores, membership):
    """Best balanced accuracy over every possible split of the sorted scores."""
    cands = np.concatenate(([-np.inf], np.unique(scores), [np.inf]))
    best = 0.0
    for t in cands:
        pred = scores >= t
        tpr = pred[membership].mean()
        tnr = (~pred[~membership]).mean()
        best = max(best, 0.5 * (tpr + tnr))
    return best


def balanced(scores, membership, t):
    pred = scores >= t
    return 0.5 * (pred[membership].mean() + (~pred[~membership]).mean())


@pytest.mark.parametrize("seed", range(5))
def test_global_threshold_matches_exhaustive_search(seed):
    rng = np.random.default_rng(seed)
    membership = rng.random(40) < 0.5
    scores = np.round(rng.normal(membership * 1.0, 1.0), 1)  # ties on purpose
    t, acc = best_threshold(scores, membership)
    assert acc == pytest.approx(brute_force(scores, membership))
    assert balanced(scores, membership, t) == pytest.approx(acc)


def test_toy_case_by_hand():
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.9, 1.0])
    membership = np.array([0, 0, 1, 0, 1, 1], dtype=bool)
    t, acc = best_threshold(scores, membership)
    # best split: members >= 0.9 (TPR 2/3, TNR 1) or >= 0.3 (TPR 1, TNR 2/3):
    # both 5/6; ties go to the lowest threshold, placed midway (0.25).
    assert acc == pytest.approx(5 / 6)
    assert t == pytest.approx(0.25)


@pytest.mark.parametrize("seed", range(5))
def test_class_thresholds_match_exhaustive_search(seed):
    rng = np.random.default_rng(seed)
    n, n_classes = 90, 4
    classes = rng.integers(0, 3, n)  # class 3 absent: falls back
    membership = rng.random(n) < 0.5
    scores = np.round(rng.normal(membership * (1.0 + classes), 1.0), 1)
    thresholds, fallback = class_thresholds(scores, membership, classes, n_classes)
    assert fallback.tolist() == [False, False, False, True]
    for c in range(3):
        sel = classes == c
        assert balanced(scores[sel], membership[sel], thresholds[c]) == pytest.approx(
            brute_force(scores[sel], membership[sel])
        )
    assert thresholds[3] == best_threshold(scores, membership)[0]


def test_class_without_both_sides_falls_back():
    scores = np.array([0.0, 1.0, 2.0, 3.0, 5.0, 6.0])
    membership = np.array([0, 1, 0, 1, 1, 1], dtype=bool)
    classes = np.array([0, 0, 0, 0, 1, 1])  # class 1: members only
    thresholds, fallback = class_thresholds(scores, membership, classes, 2)
    assert fallback.tolist() == [False, True]
    assert thresholds[1] == best_threshold(scores, membership)[0]


def test_bad_calibration_data():
    with pytest.raises(ValueError, match="both members and non-members"):
        best_threshold([1.0, 2.0], [True, True])
    with pytest.raises(ValueError, match="finite"):
        best_threshold([1.0, np.inf], [True, False])
    with pytest.raises(ValueError, match="different lengths"):
        best_threshold([1.0, 2.0, 3.0], [True, False])
    with pytest.raises(ValueError, match="range"):
        class_thresholds([1.0, 2.0], [True, False], [0, 5], 2)
