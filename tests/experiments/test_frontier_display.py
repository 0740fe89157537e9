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


def _text_boxes(display):
    from matplotlib.text import Text

    renderer = display.figure_.canvas.get_renderer()
    return [Text.get_window_extent(a, renderer) for a in display.labels_]


def test_crowded_labels_do_not_overlap(make_row):
    """Eight settings within 0.01 of each other: every label is
    "configuration setting", inside the axes, and no two overlap."""
    import matplotlib.pyplot as plt

    rows = [make_row("ws_live", f"sigma={i / 10:g}", 0, "loss", 0.90 + i / 1000,
                     0.20 + i / 1000) for i in range(8)]
    rows.append(make_row("none", "default", 0, "loss", 0.5, 0.5))
    results = ExperimentResults(rows, undefended="none")
    _, ax = plt.subplots(figsize=(6, 4))
    try:
        display = FrontierDisplay.from_results(results, attack="loss", ax=ax,
                                               annotate="all")
        display.figure_.canvas.draw()
        texts = [a.get_text() for a in display.labels_]
        assert texts[:2] == ["ws_live sigma=0", "ws_live sigma=0.1"]
        assert "none default" in texts and len(texts) == 9
        boxes = _text_boxes(display)
        frame = ax.get_window_extent()
        for i, a in enumerate(boxes):
            assert frame.x0 <= a.x0 and a.x1 <= frame.x1
            assert frame.y0 <= a.y0 and a.y1 <= frame.y1
            for b in boxes[i + 1:]:
                assert not a.overlaps(b), (a, b)
        legend = ax.get_legend().get_window_extent()
        assert not any(box.overlaps(legend) for box in boxes)
    finally:
        plt.close("all")


def test_chosen_setting_chance_and_bound_are_drawn(results):
    import matplotlib.pyplot as plt

    answer = {"configuration": "ws", "setting": "sigma=0.1"}
    try:
        display = FrontierDisplay.from_results(
            results, attack="loss", leakage="tpr@1%", chosen=answer, max_leakage=0.3)
        assert display.chosen_marker_.get_offsets().tolist() == [
            pytest.approx([0.20, 0.75])]
        assert display.chance_line_.get_xdata()[0] == 0.01  # TPR = FPR
        assert display.bound_line_.get_xdata()[0] == 0.3
        labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
        assert "answer: ws sigma=0.1" in labels
        assert any(t.startswith("chance") for t in labels)
        # the chosen setting is labelled even off the frontier
        display = FrontierDisplay.from_results(
            results, attack="loss", chosen=("ws", "sigma=0.3"))
        assert "ws sigma=0.3" in [a.get_text() for a in display.labels_]
        display = FrontierDisplay.from_results(results, attack="loss", leakage="auc")
        assert display.chance_line_.get_xdata()[0] == 0.5
    finally:
        plt.close("all")


def test_log_scale_auto_when_the_points_span_a_decade(make_row):
    import matplotlib.pyplot as plt

    def drawn(leaks, log_scale):
        rows = [make_row("d", f"s{i}", 0, "loss", 0.5 + i / 10, leak)
                for i, leak in enumerate(leaks)]
        display = FrontierDisplay.from_results(
            ExperimentResults(rows), attack="loss", log_scale=log_scale)
        return display.ax_.get_xscale()

    try:
        assert drawn([0.02, 0.3], "auto") == "log"  # 15 times
        assert drawn([0.05, 0.3], "auto") == "linear"  # 6 times
        assert drawn([0.0, 0.3], "auto") == "linear"  # 0 has no logarithm
        assert drawn([0.05, 0.3], True) == "log"
        with pytest.raises(ValueError, match="logarithmic"):
            drawn([0.0, 0.3], True)
    finally:
        plt.close("all")
