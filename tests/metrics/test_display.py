import sys

import numpy as np
import pytest

from wsmooth.metrics import (
    MembershipRocDisplay,
    membership_auc,
    membership_report,
    membership_roc_curve,
    tpr_at_fpr,
)

matplotlib = pytest.importorskip("matplotlib")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _agg_and_close():
    plt.switch_backend("agg")
    yield
    plt.close("all")


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    return rng.normal(1.0, 1, 300), rng.normal(0, 1, 2000)


class FakeAttack:
    """Scores a record by its first feature, shifted by its label."""

    def decision_function(self, X, y):
        return np.asarray(X)[:, 0] + 0.1 * np.asarray(y)


def test_from_predictions_log_scale(scores):
    m, n = scores
    disp = MembershipRocDisplay.from_predictions(m, n, name="loss")
    fpr, tpr, _ = membership_roc_curve(m, n)
    ax = disp.ax_
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert disp.figure_ is ax.figure
    assert disp.roc_auc == pytest.approx(membership_auc(m, n))
    assert disp.tpr_at_fpr == {0.001: tpr_at_fpr(m, n, 0.001)}

    x, y = disp.line_.get_data()
    floor = 1 / (2 * 2000)  # half the smallest non-zero rate (1/2000 FPR)
    np.testing.assert_allclose(x, np.maximum(fpr, floor))
    np.testing.assert_allclose(y, np.maximum(tpr, floor))
    assert x.min() > 0 and y.min() > 0
    assert ax.get_xlim() == pytest.approx((floor, 1.0))

    label = disp.line_.get_label()
    assert label.startswith("loss (AUC = ") and "TPR@0.1%FPR = " in label
    assert disp.chance_line_.get_linestyle() == "--"
    np.testing.assert_allclose(
        disp.chance_line_.get_xdata(), disp.chance_line_.get_ydata()
    )


def test_linear_scale_and_no_chance_line(scores):
    m, n = scores
    disp = MembershipRocDisplay.from_predictions(
        m, n, log_scale=False, chance_line=False, color="red"
    )
    fpr, tpr, _ = membership_roc_curve(m, n)
    assert disp.ax_.get_xscale() == "linear"
    assert disp.chance_line_ is None
    assert disp.line_.get_color() == "red"
    np.testing.assert_allclose(disp.line_.get_xdata(), fpr)
    np.testing.assert_allclose(disp.line_.get_ydata(), tpr)


def test_small_sample_legend_level():
    rng = np.random.default_rng(1)
    m, n = rng.normal(1, 1, 50), rng.normal(0, 1, 200)
    disp = MembershipRocDisplay.from_predictions(m, n)
    assert list(disp.tpr_at_fpr) == [0.01]  # 0.1% is below 1/200
    assert "TPR@1%FPR" in disp.line_.get_label()
    disp = MembershipRocDisplay.from_predictions(m[:5], n[:20])
    assert disp.tpr_at_fpr == {}
    assert disp.line_.get_label() == f"AUC = {disp.roc_auc:.3f}"


def test_ax_reuse(scores):
    m, n = scores
    fig, ax = plt.subplots()
    d1 = MembershipRocDisplay.from_predictions(m, n, name="a", ax=ax)
    d2 = MembershipRocDisplay.from_predictions(
        m[:100], n[:100], name="b", ax=ax, chance_line=False
    )
    assert d1.ax_ is ax and d2.ax_ is ax and d2.figure_ is fig
    assert len(ax.get_lines()) == 3  # two curves and one chance line
    assert ax.get_xlim()[0] == pytest.approx(1 / 4000)  # earlier curve kept


def test_init_stores_only_and_plot_name():
    disp = MembershipRocDisplay(fpr=[0, 0.5, 1], tpr=[0, 0.8, 1], roc_auc=0.8)
    assert not hasattr(disp, "ax_")
    disp.plot(name="custom")
    assert disp.line_.get_label() == "custom (AUC = 0.800)"
    assert disp.name is None


def test_report_plot(scores):
    m, n = scores
    rep = membership_report(m, n, name="rep")
    fig, ax = plt.subplots()
    disp = rep.plot(ax=ax, chance_line=False)
    assert isinstance(disp, MembershipRocDisplay)
    assert disp.ax_ is ax and ax.get_yscale() == "log"
    assert "rep (AUC" in disp.line_.get_label()


def test_from_estimator():
    rng = np.random.default_rng(2)
    X_m, X_n = rng.normal(1, 1, (40, 3)), rng.normal(0, 1, (60, 3))
    y_m, y_n = rng.integers(0, 2, 40), rng.integers(0, 2, 60)
    attack = FakeAttack()
    disp = MembershipRocDisplay.from_estimator(attack, X_m, y_m, X_n, y_n)
    expected = membership_auc(
        attack.decision_function(X_m, y_m), attack.decision_function(X_n, y_n)
    )
    assert disp.roc_auc == pytest.approx(expected)
    assert disp.line_.get_label().startswith("FakeAttack (AUC")
    disp = MembershipRocDisplay.from_estimator(
        attack, X_m, y_m, X_n, y_n, name="mine", log_scale=False
    )
    assert disp.name == "mine" and disp.ax_.get_xscale() == "linear"


def test_from_estimator_errors():
    with pytest.raises(TypeError, match="decision_function"):
        MembershipRocDisplay.from_estimator(object(), [[0]], [0], [[1]], [0])

    class NaNAttack:
        def decision_function(self, X, y):
            return np.full(len(X), np.nan)

    with pytest.raises(ValueError, match="NaN"):
        MembershipRocDisplay.from_estimator(NaNAttack(), [[0]], [0], [[1]], [0])


def test_missing_matplotlib(monkeypatch):
    disp = MembershipRocDisplay(fpr=[0, 1], tpr=[0, 1])
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install wsmooth\[plot\]"):
        disp.plot()
