"""ExperimentResults: summary over seeds and plain JSON/CSV exports."""

import csv
import json

import numpy as np
import pytest

from wsmooth.experiments import ExperimentResults


@pytest.fixture
def results(make_row):
    rows = [
        make_row("ws", "sigma=0.1", 0, "loss", 0.70, 0.10),
        make_row("ws", "sigma=0.1", 1, "loss", 0.80, 0.30),
        make_row("ws", "sigma=0.1", 2, "loss", 0.90, 0.20),
        make_row("ws", "sigma=0.1", 0, "lira", 0.70, 0.40),
    ]
    rows[0]["params"] = {"sigma": 0.1, "hidden": (16,)}
    return ExperimentResults(rows, undefended="none", meta={"n_shadow": 4})


def test_summary_is_mean_and_sample_std_over_seeds(results):
    summary = {s["attack"]: s for s in results.summary()}
    loss = summary["loss"]
    assert loss["n_seeds"] == 3
    assert loss["test_accuracy_mean"] == pytest.approx(0.8)
    assert loss["test_accuracy_std"] == pytest.approx(np.std([0.7, 0.8, 0.9], ddof=1))
    assert loss["tpr@1%fpr_mean"] == pytest.approx(0.2)
    assert summary["lira"]["n_seeds"] == 1
    assert summary["lira"]["tpr@1%fpr_std"] == 0.0


def test_json_round_trip(results, tmp_path):
    path = tmp_path / "results.json"
    results.to_json(path)
    data = json.loads(path.read_text())  # plain JSON
    assert data["undefended"] == "none"
    again = ExperimentResults.from_json(path)
    assert again.undefended == "none"
    assert again.meta == {"n_shadow": 4}
    assert again.rows[1] == results.rows[1]
    assert again.rows[0]["params"] == {"sigma": 0.1, "hidden": [16]}


def test_csv_has_one_line_per_row(results, tmp_path):
    path = tmp_path / "results.csv"
    results.to_csv(path)
    with open(path, newline="") as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == 4
    assert lines[0]["configuration"] == "ws"
    assert float(lines[1]["test_accuracy"]) == pytest.approx(0.8)
    assert json.loads(lines[0]["params"]) == {"hidden": [16], "sigma": 0.1}
    assert list(lines[0])[:4] == ["configuration", "setting", "seed", "attack"]


def test_nan_figures_are_written_as_null(make_row, tmp_path):
    row = make_row("a", "1", 0, "loss", 0.5, float("nan"))
    path = tmp_path / "r.json"
    ExperimentResults([row]).to_json(path)
    again = ExperimentResults.from_json(path)
    assert again.rows[0]["tpr@1%fpr"] is None
    assert np.isnan(again.summary()[0]["tpr@1%fpr_mean"])


def test_rounded_keeps_what_the_figures_mean(make_row):
    row = {**make_row("ws", "sigma=0.1", 0, "loss", 0.992666666, 0.0012345678),
           "fit_seconds": 12.3456, "attack_seconds": 0.04, "auc": float("nan")}
    results = ExperimentResults([row], undefended="none", meta={"n_shadow": 4})
    (out,) = results.rounded().rows
    assert out["test_accuracy"] == 0.9927  # 4 significant digits
    assert out["tpr@1%fpr"] == 0.001235  # small figures keep theirs
    assert out["tpr@0.1%fpr"] == 0.0001235
    assert out["fit_seconds"] == 12.3 and out["attack_seconds"] == 0.0
    assert np.isnan(out["auc"])
    assert out["params"] == row["params"] and out["setting"] == "sigma=0.1"
    # the original is left exact
    assert results.rows[0]["test_accuracy"] == 0.992666666
    assert results.rounded().meta == {"n_shadow": 4}
