import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsmooth.metrics import (
    balanced_accuracy_at_threshold,
    best_balanced_accuracy,
    membership_advantage,
    membership_auc,
    membership_report,
    membership_roc_curve,
    tpr_at_fpr,
)


# --------------------------------------------------------------------------- #
# Brute-force references, independent of scikit-learn
# --------------------------------------------------------------------------- #
def brute_auc(m, n):
    diff = m[:, None] - n[None, :]
    return ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size


def brute_points(m, n):
    """(fpr, tpr) of the rule `score >= t` for every distinct t, plus t = inf."""
    ts = np.r_[np.inf, np.unique(np.r_[m, n])[::-1]]
    tpr = (m[None, :] >= ts[:, None]).mean(axis=1)
    fpr = (n[None, :] >= ts[:, None]).mean(axis=1)
    return ts, fpr, tpr


def brute_tpr_at(m, n, level):
    _, fpr, tpr = brute_points(m, n)
    return max(t for f, t in zip(fpr, tpr, strict=True) if f < level)


def brute_advantage(m, n):
    _, fpr, tpr = brute_points(m, n)
    return max(tpr - fpr)


def tied_case(seed, n_m=7, n_n=9):
    """Small integer scores: plenty of ties within and across the two groups."""
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 5, n_m).astype(float),
        rng.integers(0, 4, n_n).astype(float),
    )


LEVELS = [1 / 9, 0.2, 1 / 3, 0.5, 0.77, 1.0]


@pytest.mark.parametrize("seed", range(8))
def test_against_brute_force(seed):
    m, n = tied_case(seed)
    assert membership_auc(m, n) == pytest.approx(brute_auc(m, n))
    assert membership_advantage(m, n) == pytest.approx(brute_advantage(m, n))
    assert best_balanced_accuracy(m, n) == pytest.approx(
        (1 + brute_advantage(m, n)) / 2
    )
    got = tpr_at_fpr(m, n, LEVELS)
    expected = [brute_tpr_at(m, n, lv) for lv in LEVELS]
    np.testing.assert_allclose(got, expected)
    for level in LEVELS:
        assert tpr_at_fpr(m, n, level) == pytest.approx(brute_tpr_at(m, n, level))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(-3, 3), min_size=1, max_size=12),
    st.lists(st.integers(-3, 3), min_size=1, max_size=12),
    st.floats(0.01, 1.0),
)
def test_against_brute_force_property(m, n, level):
    m, n = np.array(m, float), np.array(n, float)
    assert membership_auc(m, n) == pytest.approx(brute_auc(m, n))
    assert membership_advantage(m, n) == pytest.approx(brute_advantage(m, n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert tpr_at_fpr(m, n, level) == pytest.approx(brute_tpr_at(m, n, level))
    for t in np.r_[np.unique(np.r_[m, n]), 10.0]:
        tpr, fpr = (m >= t).mean(), (n >= t).mean()
        assert balanced_accuracy_at_threshold(m, n, t) == pytest.approx(
            (1 + tpr - fpr) / 2
        )


def test_roc_curve_keeps_every_point():
    m, n = tied_case(3)
    fpr, tpr, thresholds = membership_roc_curve(m, n)
    ts, bfpr, btpr = brute_points(m, n)
    # Every distinct threshold is kept (drop_intermediate=False).
    np.testing.assert_array_equal(thresholds, ts)
    np.testing.assert_allclose(fpr, bfpr)
    np.testing.assert_allclose(tpr, btpr)


def test_chance():
    rng = np.random.default_rng(0)
    n = 20_000
    m, nm = rng.normal(size=n), rng.normal(size=n)
    se_auc = np.sqrt((2 * n + 1) / (12 * n * n))
    assert abs(membership_auc(m, nm) - 0.5) < 4 * se_auc
    # TPR at 1% FPR ~ 0.01; sd ~ sqrt(2 * 0.01 * 0.99 / n) ~ 0.001.
    assert abs(tpr_at_fpr(m, nm, 0.01) - 0.01) < 0.005
    assert membership_advantage(m, nm) < 0.03


def test_perfectly_separable():
    m = np.linspace(2, 3, 50)
    n = np.linspace(0, 1, 1000)
    assert membership_auc(m, n) == 1.0
    assert tpr_at_fpr(m, n, 0.001) == 1.0
    assert membership_advantage(m, n) == 1.0
    assert best_balanced_accuracy(m, n) == 1.0
    assert balanced_accuracy_at_threshold(m, n, 1.5) == 1.0
    # Reversed scores: the attack is perfectly wrong.
    assert membership_auc(n, m) == 0.0


def test_tpr_at_fpr_return_types():
    m, n = tied_case(1)
    assert isinstance(tpr_at_fpr(m, n, 0.5), float)
    out = tpr_at_fpr(m, n, (0.5, 1.0))
    assert isinstance(out, np.ndarray) and out.shape == (2,)
    assert out[1] == pytest.approx(brute_tpr_at(m, n, 1.0))


def test_tpr_at_fpr_strict_convention_by_hand():
    # 10 non-members, so level 0.2 x 10 = 2 non-members is whole. Members 5..9
    # score above every non-member but two (scores 6.5 and 8.5).
    members = np.array([9.0, 8.0, 7.0, 6.0, 5.0])
    nonmembers = np.array([8.5, 6.5, 4, 3, 2, 1, 0, -1, -2, -3])
    # score >= 9: TPR 1/5, FPR 0; >= 8.5: FPR 1/10; >= 8: TPR 2/5, FPR 1/10;
    # >= 6.5: FPR 2/10 (not strictly below 0.2); so the largest TPR with
    # FPR < 0.2 is 3/5 (threshold 7), and the "<=" rule would read 3/5 too at
    # the 6.5 point; at 6: TPR 4/5 with FPR 2/10 is what "<=" reports.
    assert tpr_at_fpr(members, nonmembers, 0.2) == pytest.approx(3 / 5)
    # At level 0.1 (1 non-member): only points with zero false positives.
    assert tpr_at_fpr(members, nonmembers, 0.1) == pytest.approx(1 / 5)
    # At 0.3, 2 false positives are allowed: everything but 5 is flagged.
    assert tpr_at_fpr(members, nonmembers, 0.3) == pytest.approx(5 / 5)
    rep = membership_report(members, nonmembers, fpr_levels=(0.1, 0.2))
    assert rep.tpr_at_fpr == {0.1: pytest.approx(0.2), 0.2: pytest.approx(0.6)}


def test_warning_below_one_over_n():
    m, n = tied_case(2)  # 9 non-members: smallest meaningful level 1/9
    with pytest.warns(UserWarning, match="1/n_nonmembers"):
        tpr_at_fpr(m, n, 0.1)
    with pytest.warns(UserWarning, match="at least 1000 non-members"):
        tpr_at_fpr(m, n, [0.5, 0.001])
    with pytest.warns(UserWarning, match="1/n_nonmembers"):
        membership_report(m, n)  # default levels 0.1% and 1%
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tpr_at_fpr(m, n, 1 / 9)
        tpr_at_fpr(np.ones(3), np.zeros(1000), 0.001)
        membership_report(m, n, fpr_levels=(0.2, 0.5))


GOOD = np.array([0.1, 0.2, 0.3])


@pytest.mark.parametrize(
    "m, n, match",
    [
        ([0.1, np.nan], GOOD, "member_scores contains 1 NaN or infinite"),
        (GOOD, [np.inf, 0.0], "nonmember_scores contains 1 NaN or infinite"),
        (GOOD, [-np.inf], "nonmember_scores contains"),
        ([[0.1, 0.2]], GOOD, "member_scores must be 1-D"),
        (GOOD, 0.5, "nonmember_scores must be 1-D"),
        ([], GOOD, "member_scores is empty"),
        (GOOD, [], "nonmember_scores is empty"),
        (["a", "b"], GOOD, "member_scores must be an array of real numbers"),
    ],
)
@pytest.mark.parametrize(
    "func",
    [
        membership_roc_curve,
        membership_auc,
        membership_advantage,
        best_balanced_accuracy,
        membership_report,
        lambda m, n: tpr_at_fpr(m, n, 0.5),
        lambda m, n: balanced_accuracy_at_threshold(m, n, 0.2),
    ],
)
def test_score_validation(func, m, n, match):
    with pytest.raises(ValueError, match=match):
        func(m, n)


@pytest.mark.parametrize("level", [0.0, -0.1, 1.5, np.nan, np.inf, [0.01, 0.0]])
def test_fpr_level_validation(level):
    with pytest.raises(ValueError, match=r"fpr levels must lie in \(0, 1\]"):
        tpr_at_fpr(GOOD, GOOD, level)
    with pytest.raises(ValueError, match=r"fpr levels must lie in \(0, 1\]"):
        membership_report(GOOD, GOOD, fpr_levels=np.atleast_1d(level))


@pytest.mark.parametrize("threshold", [np.nan, "0.5", None, [0.5]])
def test_threshold_validation(threshold):
    with pytest.raises(ValueError, match="threshold"):
        balanced_accuracy_at_threshold(GOOD, GOOD, threshold)
    if threshold is not None:
        with pytest.raises(ValueError, match="threshold"):
            membership_report(GOOD, GOOD, threshold=threshold, fpr_levels=())


def test_fpr_levels_must_be_flat():
    with pytest.raises(ValueError, match="fpr_levels must be a flat sequence"):
        membership_report(GOOD, GOOD, fpr_levels=[[0.5], [1.0]])
