import numpy as np
import pytest

import wsmooth.attacks._calibration as calibration_module
from wsmooth.attacks import make_keep_masks
from wsmooth.attacks._calibration import (
    best_threshold,
    calibration_shadows,
    class_thresholds,
    complementary_partners,
    leave_shadows_out,
)
from wsmooth.attacks._lira import LiRAAttack
from wsmooth.attacks._rmia import RMIAAttack
from wsmooth.metrics import membership_auc


# --------------------------------------------------------------------------- #
# Partners and calibration shadows
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("n_shadow", [2, 3, 4, 5, 8])
def test_partners_of_the_pool_protocol_masks(n_shadow):
    y = np.random.default_rng(0).integers(0, 3, 50)
    keep = make_keep_masks(50, n_shadow, random_state=0, y=y)
    partners = complementary_partners(keep)
    expected = np.arange(n_shadow) ^ 1
    if n_shadow % 2:
        expected[-1] = -1  # the odd model out has no complement
    assert np.array_equal(partners, expected)
    paired = partners >= 0
    assert np.array_equal(partners[partners[paired]], np.flatnonzero(paired))
    for i in np.flatnonzero(paired):
        assert np.array_equal(keep[partners[i]], ~keep[i])


def test_repeated_halves_get_one_partner_each():
    a = np.array([1, 1, 0, 0, 1, 0], dtype=bool)
    keep = np.stack([a, ~a, a, ~a])
    partners = complementary_partners(keep)
    assert np.array_equal(partners, [1, 0, 3, 2])
    # Leaving out every complement of shadow 0 (1 and 3) would leave its
    # twin 2 alone, whose IN set is shadow 0's; one pair keeps it balanced.
    others = calibration_shadows(0, partners)
    assert np.array_equal(others, [2, 3])
    assert np.all(keep[others].sum(axis=0) == 1)


def test_masks_without_complements_have_no_partner():
    keep = np.random.default_rng(0).random((5, 40)) < 0.5
    partners = complementary_partners(keep)
    assert np.array_equal(partners, [-1] * 5)
    assert np.array_equal(calibration_shadows(2, partners), [0, 1, 3, 4])


def test_partners_from_unordered_pairs():
    keep = make_keep_masks(30, 6, random_state=1)[[0, 2, 4, 5, 1, 3]]
    partners = complementary_partners(keep)
    assert np.array_equal(partners, [4, 5, 3, 2, 0, 1])


@pytest.mark.parametrize("n_shadow", [4, 5, 8])
def test_calibration_shadows_do_not_tell_membership(n_shadow):
    keep = make_keep_masks(200, n_shadow, random_state=0)
    partners = complementary_partners(keep)
    for i in range(n_shadow):
        others = calibration_shadows(i, partners)
        assert i not in others and partners[i] not in others
        assert others.size == n_shadow - 1 - (partners[i] >= 0)
        n_in = keep[others].sum(axis=0)
        if n_shadow % 2 == 0 or partners[i] < 0:
            # whole pairs only: every record is IN as many as OUT
            assert np.all(n_in == others.size // 2)
        # the IN counts are the same for i's members and non-members
        assert n_in[keep[i]].mean() == pytest.approx(n_in[~keep[i]].mean(), abs=0.2)


def test_leave_one_out_counts_would_tell_membership():
    # What the rule avoids: with only i left out, the counts give it away.
    keep = make_keep_masks(200, 4, random_state=0)
    n_in = keep[1:].sum(axis=0)
    assert np.all(n_in[keep[0]] == 1) and np.all(n_in[~keep[0]] == 2)


def test_leave_shadows_out_passes_calibration_shadows():
    keep = make_keep_masks(20, 5, random_state=0)
    partners = complementary_partners(keep)
    calls = []

    def pseudo_target(i, others):
        calls.append((i, others.tolist()))
        return None if i == 3 else (np.zeros(20), keep[i])

    runs = leave_shadows_out(keep, pseudo_target)
    assert calls == [(i, calibration_shadows(i, partners).tolist()) for i in range(5)]
    assert len(runs) == 4  # shadow 3 skipped
    # One pair: nothing is left to attack either shadow with.
    assert leave_shadows_out(keep[:2], pseudo_target) == []


@pytest.mark.parametrize(
    "masks, match",
    [
        (np.ones(4, dtype=bool), "shape"),
        (np.ones((2, 4), dtype=int), "boolean"),
    ],
)
def test_bad_masks_are_refused(masks, match):
    with pytest.raises(ValueError, match=match):
        complementary_partners(masks)


def test_shadow_out_of_range_is_refused():
    with pytest.raises(ValueError, match="shadow 4 out of range for 4"):
        calibration_shadows(4, np.array([1, 0, 3, 2]))


# --------------------------------------------------------------------------- #
# No membership signal: the calibration must see none
# --------------------------------------------------------------------------- #
def _binary_log_proba(logit):
    return np.stack([-np.logaddexp(0, -logit), -np.logaddexp(0, logit)], axis=-1)


def signal_free(seed, n_records, n_shadow):
    """Shadow and target outputs that ignore membership: the true-class logit
    of each record is its own level plus noise, the same IN as OUT. Low,
    spread probabilities (a logit of -3 +- 3), where an average over 1 model
    and one over 2 differ the most after a log."""
    rng = np.random.default_rng(seed)
    level = -3.0 + rng.normal(0.0, 1.0, n_records)
    keep = make_keep_masks(n_records, n_shadow, random_state=seed)
    log_proba = _binary_log_proba(level + rng.normal(0.0, 3.0, (n_shadow, n_records)))
    log_target = _binary_log_proba(level + rng.normal(0.0, 3.0, n_records))
    return dict(
        proba=np.exp(log_target),
        log_proba=log_target,
        y=np.zeros(n_records, dtype=int),
        X=np.arange(n_records, dtype=float)[:, None],
        shadow_proba=np.exp(log_proba),
        shadow_log_proba=log_proba,
        keep_masks=keep,
    )


@pytest.fixture
def calibration_scores(monkeypatch):
    """The pooled pseudo-target scores every threshold calibration sees."""
    seen = []
    best_threshold = calibration_module.best_threshold

    def spy(scores, labels, *args, **kwargs):
        seen.append((np.asarray(scores), np.asarray(labels, dtype=bool)))
        return best_threshold(scores, labels, *args, **kwargs)

    monkeypatch.setattr(calibration_module, "best_threshold", spy)
    return seen


def _auc(scores, members):
    return membership_auc(scores[members], scores[~members])


@pytest.mark.parametrize(
    "method",
    [
        LiRAAttack(online=True, fixed_variance=False),
        LiRAAttack(online=False, fixed_variance=False),
        LiRAAttack(online=True, fixed_variance=True),
        LiRAAttack(online=False, fixed_variance=True),
        RMIAAttack(online=True, temperature=1.0),
        RMIAAttack(online=False, temperature=1.0, offline_a=1.0),
        RMIAAttack(online=False, temperature=1.0, offline_a=0.3),
    ],
    ids=repr,
)
@pytest.mark.parametrize("n_shadow", [4, 6])
def test_signal_free_calibration_is_at_chance(method, n_shadow, calibration_scores):
    method.fit(**signal_free(0, 1500, n_shadow))
    # LiRA: the offline threshold, then the online one (when online); RMIA:
    # the threshold of the queries in the population, then the offline one.
    two = method.online or isinstance(method, RMIAAttack)
    assert len(calibration_scores) == (2 if two else 1)
    for scores, members in calibration_scores:
        assert abs(_auc(scores, members) - 0.5) < 0.04


def test_signal_free_tuning_is_at_chance():
    data = signal_free(1, 1500, 6)
    lira = LiRAAttack(online=True, fixed_variance="auto").fit(**data)
    for low_fpr_tpr, auc in lira.variance_selection_.values():
        assert abs(auc - 0.5) < 0.04
    rmia = RMIAAttack(online=False, temperature="auto").fit(**data)
    assert len(rmia.offline_a_auc_) == 11
    for auc in rmia.offline_a_auc_.values():
        assert abs(auc - 0.5) < 0.04
    for low_fpr_tpr, auc in rmia.temperature_score_.values():
        assert abs(auc - 0.5) < 0.04


# --------------------------------------------------------------------------- #
# The threshold search
# --------------------------------------------------------------------------- #
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
