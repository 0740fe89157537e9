"""The wsmooth command."""

import json
import subprocess
import sys

import pytest

from wsmooth.cli import main

TINY = [
    "--n-samples",
    "400",
    "--n-classes",
    "4",
    "--epochs",
    "6",
    "--warmup-epochs",
    "2",
    "--hidden",
    "32",
    "--quiet",
]


def test_default_run_prints_accuracy_and_leakage_per_model(capsys):
    assert main(TINY + ["--sigma", "0.5", "2"]) == 0
    out = capsys.readouterr().out
    assert "undefended" in out and "WS sigma=0.5" in out and "WS sigma=2" in out
    assert "test acc" in out and "leak AUC" in out


def test_json_output(capsys):
    main(TINY + ["--json"])
    rows = json.loads(capsys.readouterr().out)
    assert [r["sigma"] for r in rows] == [0.0, 0.2]
    for r in rows:
        assert 0 <= r["test_accuracy"] <= 1
        assert 0 <= r["leakage_auc"] <= 1
        assert 0.5 <= r["leakage_balanced_accuracy"] <= 1


@pytest.mark.parametrize(
    "argv", [["--sigma", "-1"], ["--epochs", "0"], ["--n-samples", "10"]]
)
def test_bad_arguments_exit_with_a_message(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(TINY + argv)
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_module_entry_point_help():
    out = subprocess.run(
        [sys.executable, "-m", "wsmooth", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "weighted smoothing" in out and "--sigma" in out
