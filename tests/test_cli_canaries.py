"""The command's --canaries: checked before any training, passed to the run."""

import json

import pytest

from wsmooth.cli import build_parser, main

FAST = ["--epochs", "2", "--warmup-epochs", "1", "--hidden", "8", "--seeds", "1",
        "--shadows", "2", "--defences", "none", "--attacks", "rmia", "--quiet",
        "--n-samples", "160", "--n-classes", "4"]


def _no_training(monkeypatch):
    from wsmooth.experiments import _runner

    def refuse(*args, **kwargs):
        raise AssertionError("a model trained")

    monkeypatch.setattr(_runner, "_run_cell", refuse)


@pytest.mark.parametrize("value, kind", [("10", "mislabelled"), ("10:ood", "ood"),
                                         ("8:mislabelled", "mislabelled"),
                                         ("12:duplicated", "duplicated")])
def test_canaries_argument_parses_number_and_kind(value, kind):
    args = build_parser().parse_args(["--canaries", value])
    assert args.canaries == (int(value.split(":")[0]), kind)
    assert build_parser().parse_args([]).canaries is None


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--canaries", "-4"], ["--canaries", "at least 2"]),
        (["--canaries", "ten"], ["--canaries", "N:KIND"]),
        (["--canaries", "10:noise"], ["--canaries", "unknown canary kind"]),
        # 160 records: a pool of 128, at most 64 canaries
        (["--canaries", "65"], ["--canaries", "too many", "128"]),
        (["--leakage", "canary-tpr@1%"], ["--leakage", "--canaries"]),
    ],
)
def test_bad_canaries_exit_2_with_one_line_before_training(
    argv, words, tmp_path, capsys, monkeypatch
):
    _no_training(monkeypatch)
    with pytest.raises(SystemExit) as exc:
        main([*FAST, "--out", str(tmp_path / "out"), *argv])
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wsmooth: error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_canary_leakage_runs_the_frontier_on_canaries(tmp_path, capsys):
    argv = [*FAST, "--out", str(tmp_path), "--canaries", "20:ood",
            "--leakage", "canary-tpr@1%", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["leakage"] == "canary-tpr@1%"
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["meta"]["canaries"]["kind"] == "ood"
    (row,) = results["rows"]
    assert out["points"][0]["leakage"] == row["canary_tpr@1%fpr"]
    assert "canary_auc" in (tmp_path / "results.csv").read_text().splitlines()[0]
    assert "20 ood canaries per seed (10 in the target's training set, 10 out)" \
        in out["protocol"]


def test_help_names_every_kind_and_the_duplicates_count(capsys):
    from wsmooth.experiments._canaries import DUPLICATE_COPIES, KINDS

    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for kind in KINDS:
        assert kind in help_text
    assert f"duplicated (trained {DUPLICATE_COPIES} times when in)" in help_text


def test_protocol_line_names_no_canaries_without_them(tmp_path, capsys):
    assert main([*FAST, "--out", str(tmp_path), "--json"]) == 0
    assert "canar" not in json.loads(capsys.readouterr().out)["protocol"]


def test_canary_runs_share_the_canary_free_cells_and_count_twins(
    tmp_path, capsys, monkeypatch
):
    """The population's figures of a run with canaries are those of the run
    without (its cells, reused); a setting and seed counts two cells."""
    from wsmooth.experiments import _runner

    assert main([*FAST, "--out", str(tmp_path)]) == 0
    plain = json.loads((tmp_path / "results.json").read_text())["rows"]
    capsys.readouterr()
    real = _runner._run_cell

    def interrupt_twin(*args, **kwargs):
        assert kwargs["canaries"] is not None  # the canary-free cell is cached
        raise KeyboardInterrupt

    monkeypatch.setattr(_runner, "_run_cell", interrupt_twin)
    argv = [*FAST, "--out", str(tmp_path), "--canaries", "20"]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert "1 of 2 cells (two per setting and seed: without and with the " \
        "canaries) finished (1 resumed from the cache, 0 computed now)" in err

    monkeypatch.setattr(_runner, "_run_cell", real)
    assert main([*argv, "--json"]) == 0
    cells = json.loads(capsys.readouterr().out)["cells"]
    assert (cells["total"], cells["resumed"], cells["computed"]) == (2, 1, 1)
    (row,) = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert {k: v for k, v in row.items() if not k.startswith("canary_")} == plain[0]
    assert main(argv) == 0
    assert "resumed 2 of 2 cells (two per setting and seed" in capsys.readouterr().out
