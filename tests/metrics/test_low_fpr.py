"""mean_tpr_at_low_fpr: the low-FPR criterion of the automatic choices."""

import warnings

import numpy as np
import pytest

from wsmooth.metrics import mean_tpr_at_low_fpr, tpr_at_fpr

# The default levels, 10 ** linspace(-3, -1, 9).
LEVELS = [0.001, 0.00177828, 0.00316228, 0.00562341, 0.01,
          0.01778279, 0.03162278, 0.05623413, 0.1]


def test_hand_computed_case():
    # 1000 non-members scoring 0..999. Under the strict convention (FPR <
    # level) the levels allow 0, 1, 3, 5, 9, 17, 31, 56 and 99 false
    # positives. The members score above all non-members, above all but 1,
    # all but 9 and all but 99 of them: a member beaten by k non-members is
    # found wherever k false positives are allowed.
    nonmembers = np.arange(1000.0)
    members = np.array([1000.0, 998.5, 990.5, 900.5])
    tprs = [1 / 4, 2 / 4, 2 / 4, 2 / 4, 3 / 4, 3 / 4, 3 / 4, 3 / 4, 4 / 4]
    got = mean_tpr_at_low_fpr(members, nonmembers)
    assert got == pytest.approx(np.mean(tprs)) == pytest.approx(5.75 / 9)
    # ... each level as tpr_at_fpr reads it
    np.testing.assert_allclose(tpr_at_fpr(members, nonmembers, LEVELS), tprs)
    # A single level is tpr_at_fpr there.
    assert mean_tpr_at_low_fpr(
        members, nonmembers, fpr_min=0.01, fpr_max=0.01, n_levels=1
    ) == tpr_at_fpr(members, nonmembers, 0.01)


def test_levels_below_one_over_n_are_clamped():
    # 100 non-members: the 5 levels up to 1% all read the TPR at zero false
    # positives (1/4), then 1, 3, 5 and 9 false positives are allowed.
    nonmembers = np.arange(100.0)
    members = np.array([100.0, 98.5, 90.5, 50.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # clamped silently
        got = mean_tpr_at_low_fpr(members, nonmembers)
    assert got == pytest.approx((5 * 0.25 + 3 * 0.5 + 0.75) / 9)
    # Clamping changes nothing the strict convention would not give anyway.
    with pytest.warns(UserWarning, match="below 1/n_nonmembers"):
        unclamped = np.mean(tpr_at_fpr(members, nonmembers, LEVELS))
    assert got == pytest.approx(unclamped)


def test_bounds():
    rng = np.random.default_rng(0)
    n = rng.normal(size=500)
    assert mean_tpr_at_low_fpr(n + 100.0, n) == 1.0
    assert mean_tpr_at_low_fpr(n - 100.0, n) == 0.0


@pytest.mark.parametrize(
    "params, match",
    [
        ({"fpr_min": 0.1, "fpr_max": 0.01}, "fpr_min must not exceed"),
        ({"n_levels": 0}, "n_levels"),
        ({"fpr_min": 0.0}, "fpr_min"),
        ({"fpr_max": 1.5}, "fpr_max"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        mean_tpr_at_low_fpr([1.0, 2.0], [0.0, 1.0], **params)
