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
                                         ("8:mislabelled", "mislabelled")])
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
