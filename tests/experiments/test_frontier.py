"""The frontier on hand-made results, where the answer is known."""

import numpy as np
import pytest

from wsmooth.experiments import (
    ExperimentResults,
    frontier_table,
    most_accurate_under,
    pareto_frontier,
    setting_points,
)


def _results(make_row, table, attack="loss", seeds=(0, 1)):
    """``table``: {(config, setting): (accuracies per seed, leakages per seed)}."""
    rows = []
    for (config, setting), (accs, leaks) in table.items():
        for seed, acc, leak in zip(seeds, accs, leaks, strict=True):
            rows.append(make_row(config, setting, seed, attack, acc, leak))
    return rows


@pytest.fixture
def results(make_row):
    #   setting   mean acc  mean leak
    #   none       0.80      0.40   frontier (most accurate)
    #   ws a       0.70      0.10   frontier
    #   ws b       0.70      0.10   frontier (tie with ws a: neither dominates)
    #   ws c       0.60      0.10   dominated by ws a (same leakage, less accurate)
    #   wd x       0.65      0.30   dominated by ws a (less accurate, leaks more)
    #   wd y       0.50      0.05   frontier (leaks least)
    #   wd z       0.80      0.50   dominated by none (same accuracy, leaks more)
    table = {
        ("none", "sigma=0"): ((0.78, 0.82), (0.38, 0.42)),
        ("ws", "a"): ((0.69, 0.71), (0.08, 0.12)),
        ("ws", "b"): ((0.70, 0.70), (0.10, 0.10)),
        ("ws", "c"): ((0.55, 0.65), (0.10, 0.10)),
        ("wd", "x"): ((0.65, 0.65), (0.30, 0.30)),
        ("wd", "y"): ((0.50, 0.50), (0.04, 0.06)),
        ("wd", "z"): ((0.80, 0.80), (0.50, 0.50)),
    }
    return ExperimentResults(_results(make_row, table), undefended="none")


def _names(points):
    return [(p["configuration"], p["setting"]) for p in points]


def test_frontier_keeps_ties_and_drops_dominated_points(results):
    front = pareto_frontier(results, attack="loss", leakage="tpr@1%")
    assert _names(front) == [
        ("wd", "y"),
        ("ws", "a"),
        ("ws", "b"),
        ("none", "sigma=0"),
    ]
    assert [p["leakage"] for p in front] == pytest.approx([0.05, 0.10, 0.10, 0.40])
    assert [p["utility"] for p in front] == pytest.approx([0.50, 0.70, 0.70, 0.80])


def test_frontier_carries_the_spread_over_seeds(results):
    front = {(p["configuration"], p["setting"]): p for p in pareto_frontier(results)}
    # sample standard deviation of two seeds: |a - b| / sqrt(2)
    assert front["ws", "a"]["utility_std"] == pytest.approx(0.02 / 2**0.5)
    assert front["ws", "a"]["leakage_std"] == pytest.approx(0.04 / 2**0.5)
    assert front["ws", "b"]["utility_std"] == 0.0
    assert front["none", "sigma=0"]["undefended"]
    assert all(p["n_seeds"] == 2 for p in front.values())


def test_every_setting_is_listed_with_its_flag(results):
    points = setting_points(results)
    assert len(points) == 7
    flags = {(p["configuration"], p["setting"]): p["on_frontier"] for p in points}
    assert not flags["ws", "c"] and not flags["wd", "x"] and not flags["wd", "z"]
    table = frontier_table(results)
    assert table.count("\n*  ") == 4  # four lines marked as frontier points
    assert "none (undefended)" in table


def test_frontier_on_another_figure(make_row):
    # Same accuracies; leakage by AUC reverses the order of two settings.
    rows = [
        {**make_row("a", "1", 0, "loss", 0.7, 0.1), "auc": 0.9},
        {**make_row("b", "1", 0, "loss", 0.6, 0.2), "auc": 0.6},
    ]
    results = ExperimentResults(rows)
    assert _names(pareto_frontier(results, leakage="tpr@1%")) == [("a", "1")]
    assert _names(pareto_frontier(results, leakage="auc")) == [("b", "1"), ("a", "1")]


def test_strongest_attack_takes_the_largest_mean_leakage(make_row):
    # Setting p: "loss" leaks more on average (0.30 vs 0.25), although lira
    # has the single largest value: the max is over means, not over rows.
    # Setting q: lira leaks more.
    rows = [
        make_row("d", "p", 0, "loss", 0.7, 0.30),
        make_row("d", "p", 1, "loss", 0.7, 0.30),
        make_row("d", "p", 0, "lira", 0.7, 0.45),
        make_row("d", "p", 1, "lira", 0.7, 0.05),
        make_row("d", "q", 0, "loss", 0.6, 0.10),
        make_row("d", "q", 1, "loss", 0.6, 0.10),
        make_row("d", "q", 0, "lira", 0.6, 0.20),
        make_row("d", "q", 1, "lira", 0.6, 0.22),
    ]
    results = ExperimentResults(rows)
    points = {p["setting"]: p for p in setting_points(results, attack="strongest")}
    assert points["p"]["attack"] == "loss"
    assert points["p"]["leakage"] == pytest.approx(0.30)
    assert points["p"]["leakage_std"] == 0.0
    assert points["q"]["attack"] == "lira"
    assert points["q"]["leakage"] == pytest.approx(0.21)
    # Under lira alone, p looks less leaky (0.25) than under the strongest.
    lira = {p["setting"]: p for p in setting_points(results, attack="lira")}
    assert lira["p"]["leakage"] == pytest.approx(0.25)
    # Both are on the frontier either way (p more accurate, q leaks less).
    assert len(pareto_frontier(results)) == 2


def test_most_accurate_under_a_leakage_bound(results):
    # Two seeds: chosen on seed 0, reported on seed 1.
    best = most_accurate_under(results, 0.45)
    assert (best["configuration"], best["setting"]) == ("none", "sigma=0")
    assert best["selected_on_seeds"] == [0] and best["reported_on_seeds"] == [1]
    assert not best["selected_on_itself"]
    assert best["selection_utility"] == pytest.approx(0.78)
    assert best["selection_leakage"] == pytest.approx(0.38)
    assert best["utility"] == pytest.approx(0.82)  # seed 1's figures
    assert best["leakage"] == pytest.approx(0.42) and best["within_bound"]
    assert best["n_seeds"] == 1
    best = most_accurate_under(results, 0.2)
    # ws b (0.70) beats ws a (0.69) on seed 0
    assert (best["configuration"], best["setting"]) == ("ws", "b")
    assert best["leakage"] == pytest.approx(0.10)
    # wd y leaks 0.04 on the seed it was chosen on, 0.06 on the other
    best = most_accurate_under(results, 0.05)
    assert best["setting"] == "y"
    assert best["selection_leakage"] == pytest.approx(0.04)
    assert best["leakage"] == pytest.approx(0.06) and not best["within_bound"]
    assert best["bound_met"]


def test_no_setting_within_the_bound_gives_the_least_leaky(results):
    """The answer always lands: below every setting's leakage, the least
    leaky one is chosen, flagged, with a warning naming bound and leakage."""
    with pytest.warns(UserWarning, match=r"<= 0.01 .* least leaky, wd y .* 0.04"):
        best = most_accurate_under(results, 0.01)
    assert (best["configuration"], best["setting"]) == ("wd", "y")
    assert best["selection_leakage"] == pytest.approx(0.04)
    assert not best["bound_met"] and not best["within_bound"]


def test_answer_is_not_selected_on_the_seeds_it_reports(make_row):
    # "lucky" is the most accurate on the selection seeds (0, 1) only: the
    # answer picks it there and reports what seeds 2 and 3 say of it.
    table = {
        ("d", "lucky"): ((0.9, 0.9, 0.6, 0.6), (0.1, 0.1, 0.3, 0.3)),
        ("d", "steady"): ((0.8, 0.8, 0.8, 0.8), (0.1, 0.1, 0.1, 0.1)),
    }
    results = ExperimentResults(_results(make_row, table, seeds=(0, 1, 2, 3)))
    best = most_accurate_under(results, 0.2)
    assert best["setting"] == "lucky"
    assert best["selected_on_seeds"] == [0, 1]
    assert best["reported_on_seeds"] == [2, 3]
    assert best["selection_utility"] == pytest.approx(0.9)
    assert best["utility"] == pytest.approx(0.6)
    assert best["leakage"] == pytest.approx(0.3)
    assert best["within_bound"] is False
    # an odd number of seeds: the larger half selects
    three = ExperimentResults([r for r in results if r["seed"] < 3])
    best = most_accurate_under(three, 0.2)
    assert best["selected_on_seeds"] == [0, 1] and best["reported_on_seeds"] == [2]


def test_one_seed_says_it_was_selected_on_itself(make_row):
    table = {("d", "a"): ((0.7,), (0.1,)), ("d", "b"): ((0.6,), (0.05,))}
    results = ExperimentResults(_results(make_row, table, seeds=(5,)))
    best = most_accurate_under(results, 0.2)
    assert best["setting"] == "a" and best["selected_on_itself"]
    assert best["selected_on_seeds"] == best["reported_on_seeds"] == [5]
    assert best["utility"] == best["selection_utility"] == pytest.approx(0.7)
    assert best["within_bound"]


def test_unknown_leakage_is_never_the_smaller_one(make_row):
    # Setting p: lira's figure is missing on one seed (NaN, as a null read
    # back from JSON): p's leakage under the strongest attack is unknown, not
    # the 0.01 of the loss attack.
    rows = [
        make_row("d", "p", 0, "loss", 0.9, 0.01),
        {**make_row("d", "p", 0, "lira", 0.9, 0.01), "tpr@1%fpr": None},
        make_row("d", "q", 0, "loss", 0.7, 0.05),
        make_row("d", "q", 0, "lira", 0.7, 0.08),
    ]
    results = ExperimentResults(rows)
    points = {p["setting"]: p for p in setting_points(results)}
    assert points["p"]["attack"] == "lira"
    assert np.isnan(points["p"]["leakage"]) and not points["p"]["on_frontier"]
    assert _names(pareto_frontier(results)) == [("d", "q")]
    with pytest.warns(UserWarning, match=r"\['d p'\] have an unknown"):
        best = most_accurate_under(results, 0.1)
    assert best["setting"] == "q"
    # the NaN first: still unknown
    results = ExperimentResults([rows[1], rows[0], rows[2], rows[3]])
    points = {p["setting"]: p for p in setting_points(results)}
    assert np.isnan(points["p"]["leakage"])


def test_unknown_attack_or_figure_is_refused(results):
    with pytest.raises(ValueError, match="not in the results"):
        pareto_frontier(results, attack="rmia")
    with pytest.raises(ValueError, match="unknown figure"):
        pareto_frontier(results, leakage="tpr@5%")
    with pytest.raises(TypeError, match="ExperimentResults"):
        pareto_frontier(results.rows)


def test_table_marks_the_frontier_and_the_chosen_setting(results):
    best = most_accurate_under(results, 0.2)
    table = frontier_table(results, chosen=best).splitlines()
    rows = {tuple(line[4:].split()[:2]): line for line in table[2:-2]}
    marks = {k: line[:2] for k, line in rows.items()}
    assert marks[("ws", "b")] == ">*"  # chosen and on the frontier
    assert marks[("wd", "y")] == " *" and marks[("ws", "c")] == "  "
    assert table[-1] == "> the chosen setting (the answer)"
    plain = frontier_table(results).splitlines()
    assert not any(line.startswith(">") for line in plain)
    assert plain[-1].startswith("* on the frontier")
