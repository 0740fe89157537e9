"""FrontierDisplay draws every setting, the frontier and the undefended model."""

import numpy as np
import pytest

from wsmooth.experiments import ExperimentResults, FrontierDisplay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


@pytest.fixture
def results(make_row):
    rows = []
    table = {  # (config, setting): (accuracy, leakage); 3 frontier points
        ("none", "sigma=0"): (0.80, 0.40),
        ("ws", "sigma=0.1"): (0.75, 0.20),
        ("ws", "sigma=0.3"): (0.60, 0.25),  # dominated
        ("wd", "alpha=0.01"): (0.50, 0.05),
        ("wd", "alpha=0.001"): (0.45, 0.30),  # dominated
    }
    for (config, setting), (acc, leak) in table.items():
        for seed, delta in enumerate((-0.01, 0.01)):
            rows.append(make_row(config, setting, seed, "loss", acc + delta, leak))
    return ExperimentResults(rows, undefended="none")


def test_display_draws_every_setting_and_the_frontier(results):
    import matplotlib.pyplot as plt

    display = FrontierDisplay.from_results(results, attack="loss", leakage="tpr@1%")
    try:
        assert display.n_points == 5
        # one errorbar container per configuration, with its settings' points
        assert list(display.errorbars_) == ["none", "ws", "wd"]
        n = [len(c.lines[0].get_xdata()) for c in display.errorbars_.values()]
        assert n == [1, 2, 2]
        # error bars carry the spread over seeds (accuracy +-0.01 over 2 seeds)
        ws_bars = display.errorbars_["ws"].lines[2][1].get_segments()
        assert np.ptp(ws_bars[0][:, 1]) == pytest.approx(2 * 0.02 / 2**0.5)
        # the frontier: a step line through the 3 non-dominated points
        x, y = display.frontier_line_.get_data()
        assert np.unique(x).tolist() == pytest.approx([0.05, 0.20, 0.40])
        assert np.unique(y).tolist() == pytest.approx([0.50, 0.75, 0.80])
        assert display.frontier_line_.get_drawstyle() == "steps-post"
        # the undefended model is ringed
        offsets = display.undefended_marker_.get_offsets()
        assert offsets.tolist() == [pytest.approx([0.40, 0.80])]
        assert "TPR at 1% FPR" in display.ax_.get_xlabel()
        assert "loss" in display.ax_.get_xlabel()
        assert display.ax_.get_ylabel() == "Test accuracy"
        labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
        assert {"none (undefended)", "ws", "wd", "frontier", "undefended"} <= set(
            labels
        )
        assert display.figure_ is display.ax_.figure
    finally:
        plt.close("all")


def test_display_on_given_axes_with_the_strongest_attack(results):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    try:
        display = FrontierDisplay.from_results(results, leakage="auc", ax=ax)
        assert display.ax_ is ax
        assert "strongest attack" in ax.get_xlabel()
        assert "AUC" in ax.get_xlabel()
    finally:
        plt.close("all")


def test_init_only_stores():
    display = FrontierDisplay(
        points=[], leakage_name="auc", utility_name="test_accuracy", attack_name="loss"
    )
    assert not hasattr(display, "ax_")
