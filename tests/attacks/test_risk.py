import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from wsmooth._signals import modified_entropy
from wsmooth.attacks import MembershipInferenceAttack, privacy_risk_score
from wsmooth.attacks._risk import risk_from_histograms

pytestmark = pytest.mark.filterwarnings("ignore:FPR level.*below 1/n_nonmembers")


def test_two_tiny_histograms_by_hand():
    # Class 0, linear bins over [0, 4] (the range of the IN and OUT values):
    # 2 bins [0, 2) and [2, 4]. IN: 0, 1, 1, 3 -> (3/4, 1/4); OUT: 1, 3, 4, 4 ->
    # (1/4, 3/4). Risk = h_in / (h_in + h_out): bin 0 -> 3/4, bin 1 -> 1/4.
    # Class 1, IN 10, 10 and OUT 10 only: one value, everything in bin 0,
    # h_in = h_out = 1 -> 1/2.
    in_v, in_l = [0, 1, 1, 3, 10, 10], [0, 0, 0, 0, 1, 1]
    out_v, out_l = [1, 3, 4, 4, 10], [0, 0, 0, 0, 1]
    q = [0.5, 2.0, 3.9, -7.0, 99.0, 10.0]
    ql = [0, 0, 0, 0, 0, 1]
    r = risk_from_histograms(in_v, in_l, out_v, out_l, q, ql, n_bins=2, log_bins=False)
    assert r.tolist() == pytest.approx([0.75, 0.25, 0.25, 0.75, 0.25, 0.5])
    # a prior of 0.2: 0.2 * 3/4 / (0.2 * 3/4 + 0.8 * 1/4) = 3/7
    r = risk_from_histograms(
        in_v, in_l, out_v, out_l, [0.5], [0], n_bins=2, log_bins=False, prior=0.2
    )
    assert r[0] == pytest.approx(3 / 7)


def test_log_bins_empty_bins_and_unknown_class():
    # 4 log bins over the class's range [0.002, 6]: edges 10 ** (-2.70, -1.83,
    # -0.96, -0.09, 0.78), i.e. about 0.002, 0.015, 0.11, 0.81, 6.
    # IN: 0.002, 0.003 (bin 0), 5 (bin 3); OUT: 0.5 (bin 2), 6 (bin 3).
    in_v, in_l = [0.002, 0.003, 5.0], [0, 0, 0]
    out_v, out_l = [0.5, 6.0], [0, 0]
    # h_in = (2/3, 0, 0, 1/3), h_out = (0, 0, 1/2, 1/2)
    # bin 0: 1; bin 1 empty -> nearest, lower first: bin 0 -> 1;
    # bin 2: 0; bin 3: (1/3) / (1/3 + 1/2) = 2/5. Class 2 unseen: the prior.
    q = [0.005, 0.05, 0.5, 7.0, 0.0, 1.0]
    ql = [0, 0, 0, 0, 0, 2]
    r = risk_from_histograms(in_v, in_l, out_v, out_l, q, ql, n_classes=3, n_bins=4)
    assert r.tolist() == pytest.approx([1.0, 1.0, 0.0, 0.4, 1.0, 0.5])


def test_bad_histogram_input():
    with pytest.raises(ValueError, match="different lengths"):
        risk_from_histograms([1, 2], [0], [1], [0], [1], [0])
    with pytest.raises(ValueError, match="finite"):
        risk_from_histograms([np.nan], [0], [1], [0], [1], [0])
    with pytest.raises(ValueError, match="range"):
        risk_from_histograms([1], [0], [1], [0], [1], [3], n_classes=2)


def test_method_matches_histograms_of_shadow_signals(forest, splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    mia = MembershipInferenceAttack(forest, method="risk", random_state=0)
    mia.fit(Xp, yp)
    shadows = mia.shadow_models_
    values = modified_entropy(shadows.predict_proba(Xp), yp)  # classes are 0..3
    keep = shadows.keep_masks
    labels = np.broadcast_to(yp, keep.shape)
    expected = risk_from_histograms(
        values[keep], labels[keep], values[~keep], labels[~keep],
        modified_entropy(forest.predict_proba(Xm), ym), ym, n_classes=4,
    )
    risk = privacy_risk_score(mia, Xm, ym)
    assert np.allclose(risk, expected)
    assert np.allclose(mia.decision_function(Xm, ym), expected - 0.5)
    # a memorising target: members are riskier than non-members
    report = mia.evaluate(Xm, ym, Xn, yn)
    assert report.auc > 0.7
    assert risk.mean() > privacy_risk_score(mia, Xn, yn).mean()


def test_privacy_risk_score_from_a_target(forest, splits):
    (Xm, ym), _, (Xp, yp) = splits
    direct = privacy_risk_score(
        forest, Xm, ym, X_population=Xp, y_population=yp, random_state=0
    )
    mia = MembershipInferenceAttack(forest, method="risk", random_state=0).fit(Xp, yp)
    assert np.array_equal(direct, privacy_risk_score(mia, Xm, ym))
    assert ((direct >= 0) & (direct <= 1)).all()


def test_privacy_risk_score_errors(forest, splits):
    (Xm, ym), _, (Xp, yp) = splits
    with pytest.raises(ValueError, match="X_population"):
        privacy_risk_score(forest, Xm, ym)
    loss = MembershipInferenceAttack(forest, method="loss", random_state=0)
    with pytest.raises(ValueError, match="method='risk'"):
        privacy_risk_score(loss.fit(Xp, yp), Xm, ym)
    with pytest.raises(ValueError, match="n_bins"):
        MembershipInferenceAttack(
            RandomForestClassifier().fit(Xm, ym), method="risk",
            method_params={"n_bins": 0},
        ).fit(Xp, yp)
