"""The wsmooth command's failures: one line on stderr and a documented exit status.

Each bad run is refused before any model trains (arguments: exit 2; data:
exit 1), or, for what only shows while running (a damaged cache, a full
disk), ends in one line and exit 1 with the previous report left whole.
"""

import json
import os
import shutil

import numpy as np
import pytest

import wsmooth.cli
from wsmooth.cli import main

FAST = ["--epochs", "2", "--warmup-epochs", "1", "--hidden", "8", "--seeds", "1",
        "--shadows", "2", "--defences", "none", "--attacks", "rmia", "--quiet"]
GENERATED = ["--n-samples", "160", "--n-classes", "4"]


def _no_run(args):
    raise AssertionError("the run started")


def _no_training(monkeypatch):
    """Fail the test if any model starts training."""
    from wsmooth.experiments import _runner

    def refuse(*args, **kwargs):
        raise AssertionError("a model trained")

    monkeypatch.setattr(_runner, "_run_cell", refuse)


def command(argv, capsys):
    """``(exit status, stderr lines)`` of one run of the command."""
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err.strip().splitlines()


def one_line(lines, *words):
    assert len(lines) == 1, lines
    assert lines[0].startswith("wsmooth: error: "), lines
    for word in words:  # a tuple: any of its words
        options = word if isinstance(word, tuple) else (word,)
        assert any(w in lines[0] for w in options), (word, lines[0])
    return lines[0]


# ------------------------------------------------------------------ arguments
@pytest.mark.parametrize("argv, words", [
    (["--shadows", "1", "--attacks", "lira"], ["--shadows", "lira", "n_shadow >= 2"]),
    (["--shadows", "1", "--attacks", "rmia"], ["--shadows", "rmia"]),
    (["--n-jobs", "0"], ["--n-jobs", "-1"]),
    (["--n-jobs", "x"], ["--n-jobs"]),
    (["--out", ""], ["--out", "empty"]),
])
def test_bad_arguments_exit_2_before_training(argv, words, tmp_path, capsys,
                                              monkeypatch):
    monkeypatch.setattr(wsmooth.cli, "run", _no_run)
    argv = [*GENERATED, *FAST, "--out", str(tmp_path / "out"), *argv]
    status, lines = command(argv, capsys)
    assert status == 2
    one_line(lines, *words)


def test_negative_n_jobs_is_joblib_style_and_accepted(tmp_path):
    args = wsmooth.cli.build_parser().parse_args(["--n-jobs", "-2"])
    assert args.n_jobs == -2


def test_out_naming_a_file_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(wsmooth.cli, "run", _no_run)
    (tmp_path / "report").write_text("mine")
    status, lines = command([*GENERATED, *FAST, "--out", str(tmp_path / "report")],
                            capsys)
    assert status == 2
    one_line(lines, "--out", "is a file")
    assert (tmp_path / "report").read_text() == "mine"


def test_out_below_a_file_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(wsmooth.cli, "run", _no_run)
    (tmp_path / "f").write_text("")
    status, lines = command([*FAST, "--out", str(tmp_path / "f" / "sub")], capsys)
    assert status == 2
    one_line(lines, "--out", "cannot be created")


def test_read_only_out_exits_2_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(wsmooth.cli, "run", _no_run)
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: deny as a read-only mount would
        real = os.access
        monkeypatch.setattr(
            os, "access",
            lambda p, mode, **k: os.fspath(p) != str(out) and real(p, mode, **k),
        )
    try:
        status, lines = command([*GENERATED, *FAST, "--out", str(out)], capsys)
    finally:
        out.chmod(0o755)
    assert status == 2
    one_line(lines, "--out", "not writable")


def test_dpsgd_without_opacus_names_the_install_command(tmp_path, capsys,
                                                        monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "opacus" else real(name, *a))
    monkeypatch.setattr(wsmooth.cli, "run", _no_run)
    argv = [*GENERATED, *FAST, "--defences", "none", "dpsgd", "--out", str(tmp_path)]
    status, lines = command(argv, capsys)
    assert status == 2
    one_line(lines, "--defences", "dpsgd", "opacus",
             '.venv/bin/pip install -c constraints.txt -e ".[dp]"')


def test_generated_data_too_small_for_the_shadows_exits_2(tmp_path, capsys,
                                                         monkeypatch):
    """80 records pass the 8-per-class rule of thumb, but the generated
    classes are unequal: a class too small for the pool is found before
    training, and named."""
    _no_training(monkeypatch)
    argv = [*FAST, "--n-samples", "80", "--n-classes", "10", "--out", str(tmp_path)]
    status, lines = command(argv, capsys)
    assert status == 2
    one_line(lines, "--n-samples", "too few records per class", "at least 4")


def test_digits_with_too_few_samples_exits_2(tmp_path, capsys, monkeypatch):
    _no_training(monkeypatch)
    argv = [*FAST, "--data", "digits", "--n-samples", "12", "--out", str(tmp_path)]
    status, lines = command(argv, capsys)
    assert status == 2
    one_line(lines, "--n-samples", "digits", "too few records per class")


# ------------------------------------------------------------------ data files
_RNG = np.random.default_rng(0)
_Y = np.arange(40) % 4


def _X(n=40, d=6):
    return _RNG.normal(size=(n, d)).astype(np.float32)


def _poked(value):
    X = _X()
    X[3, 2] = value
    return X


_NPZ = {
    "one class": ((_X(), np.zeros(40, np.int64)), ["single class"]),
    "one record per class": ((_X(4), np.arange(4)), ["too few records per class"]),
    "two records": ((_X(2), np.arange(2)), ["too few records per class"]),
    "one record": ((_X(1), np.arange(1)), ["single class"]),
    "nan features": ((_poked(np.nan), _Y), ["NaN or infinite features", "record 3"]),
    "inf features": ((_poked(np.inf), _Y), ["NaN or infinite features"]),
    "beyond float32": ((np.where(np.eye(40, 6) > 0, np.float64(1e39),
                                 _X().astype(np.float64)), _Y), ["float32"]),
    "nan labels": ((_X(), np.where(_Y == 0, np.nan, _Y)), ["NaN or infinite"]),
    "float labels": ((_X(), _Y + 0.5), ["not integer classes", "0.5"]),
    "whole float labels": ((_X(), _Y.astype(float)), ["astype(np.int64)"]),
    "complex labels": ((_X(), _Y + 1j), ["not integer classes"]),
    "NHWC images": ((_RNG.random((40, 8, 8, 3)).astype(np.float32), _Y),
                    ["channels last", "transpose(0, 3, 1, 2)"]),
}


@pytest.mark.parametrize("case", sorted(_NPZ))
def test_bad_npz_data_exits_1_before_training(case, tmp_path, capsys, monkeypatch):
    (X, y), words = _NPZ[case]
    np.savez(tmp_path / "d.npz", X=X, y=y)
    _no_training(monkeypatch)
    argv = [*FAST, "--data", "npz", str(tmp_path / "d.npz"),
            "--out", str(tmp_path / "o")]
    status, lines = command(argv, capsys)
    assert status == 1
    one_line(lines, str(tmp_path / "d.npz"), *words)


def _csv(path, rows, first=None):
    with open(path, "w") as f:
        if first is not None:
            f.write(first + "\n")
        for row in rows:
            f.write(",".join(map(str, row)) + "\n")


@pytest.mark.parametrize("case", ["float labels", "nan labels", "label 10**30",
                                  "long field", "long first field"])
def test_bad_csv_data_exits_1_before_training(case, tmp_path, capsys, monkeypatch):
    path = tmp_path / "d.csv"
    rows = [(i % 3, i % 5, i % 4) for i in range(40)]
    first, words = None, []
    if case == "float labels":
        rows = [(a, b, c + 0.5) for a, b, c in rows]
        words = ["'0.5'", ("not integers", "not an integer")]
    elif case == "nan labels":
        rows[0] = (1, 2, "nan")
        words = ["'nan'"]
    elif case == "label 10**30":
        rows[0] = (1, 2, 10**30)
        words = [("too large for a 64-bit integer", "outside the int64 range")]
    elif case == "long field":
        rows[5] = (1, "9" * 140_000, 0)  # a number beyond float32
        words = [("NaN or infinite features", "131,072")]
    else:  # the csv module refuses fields over 131,072 characters
        first = "1," + "9" * 140_000 + ",0"
        words = ["cannot read csv", "131"]
    _csv(path, rows, first)
    _no_training(monkeypatch)
    argv = [*FAST, "--data", "csv", str(path), "--out", str(tmp_path / "o")]
    status, lines = command(argv, capsys)
    assert status == 1
    one_line(lines, str(path), *words)


def test_ambiguous_csv_header_is_answered_by_a_flag(tmp_path, capsys, monkeypatch):
    # "0,1,2": the features are the column positions 0, 1 and the label 2
    # equals its own position: a header or a record of class 2
    path = tmp_path / "d.csv"
    _csv(path, [(i % 3, i % 5, i % 4) for i in range(40)], first="0,1,2")
    _no_training(monkeypatch)
    argv = [*FAST, "--data", "csv", str(path), "--out", str(tmp_path / "o")]
    status, lines = command(argv, capsys)
    assert status == 1
    one_line(lines, str(path), "--csv-header yes or no")
    seen = {}

    from wsmooth.experiments import DataError

    def fake_check(X, y, **kwargs):
        seen[answer] = len(y)
        raise DataError("stop here")

    monkeypatch.setattr(wsmooth.cli, "check_data", fake_check)
    for answer in ("yes", "no"):
        status, _ = command([*argv, "--csv-header", answer], capsys)
        assert status == 1
    assert seen == {"yes": 40, "no": 41}


# ------------------------------------------------------------------ while running
@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished run's --out folder: report files and cache."""
    out = tmp_path_factory.mktemp("finished") / "out"
    assert main([*GENERATED, *FAST, "--out", str(out)]) == 0
    return out


def _copy(finished, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    return out


def test_tampered_shadow_file_is_one_line(finished, tmp_path, capsys):
    out = _copy(finished, tmp_path)
    for cell in (out / "cache" / "cells").iterdir():
        cell.unlink()  # the rerun must read the shadow models
    (record,) = [p for p in (out / "cache" / "shadows").rglob("shadow_0000.json")]
    record.write_text('{"format": 2, "oops": 1}')
    status, lines = command([*GENERATED, *FAST, "--out", str(out)], capsys)
    assert status == 1
    one_line(lines, "shadow_0000.json", "Delete")


def test_tampered_cache_cell_ends_cleanly(finished, tmp_path, capsys):
    """A damaged cell is recomputed, or refused in one line."""
    out = _copy(finished, tmp_path)
    (cell,) = (out / "cache" / "cells").iterdir()
    data = json.loads(cell.read_text())
    data["rows"] = [1, 2]
    cell.write_text(json.dumps(data))
    status, lines = command([*GENERATED, *FAST, "--out", str(out)], capsys)
    assert status in (0, 1)
    if status:
        one_line(lines)
    else:
        rows = json.loads((out / "results.json").read_text())["rows"]
        assert rows and all(isinstance(r, dict) for r in rows)


def test_a_full_disk_leaves_the_previous_report_whole(finished, tmp_path, capsys,
                                                      monkeypatch):
    from wsmooth.experiments import ExperimentResults

    out = _copy(finished, tmp_path)
    before = {n: f"the report of an earlier run: {n}".encode()
              for n in ("results.json", "results.csv", "frontier.png")}
    for name, content in before.items():
        (out / name).write_bytes(content)

    def full_disk(self, path):
        with open(path, "w") as f:
            f.write("configuration,set")
        raise OSError(28, "No space left on device", path)

    monkeypatch.setattr(ExperimentResults, "to_csv", full_disk)
    argv = [*GENERATED, *FAST, "--out", str(out)]
    status, lines = command(argv, capsys)
    assert status == 1
    one_line(lines, "cannot write the report", str(out), "No space left on device")
    assert {n: (out / n).read_bytes() for n in before} == before
    assert sorted(p.name for p in out.iterdir()) == [
        "cache", "frontier.png", "results.csv", "results.json"]


def test_debug_shows_the_traceback(finished, tmp_path, capsys, monkeypatch):
    out = _copy(finished, tmp_path)
    for cell in (out / "cache" / "cells").iterdir():
        cell.unlink()
    (record,) = [p for p in (out / "cache" / "shadows").rglob("shadow_0000.json")]
    record.write_text('{"format": 2, "oops": 1}')
    argv = [*GENERATED, *FAST, "--out", str(out)]
    with pytest.raises(ValueError, match="shadow_0000"):
        main([*argv, "--debug"])
    monkeypatch.setenv("WSMOOTH_DEBUG", "1")
    with pytest.raises(ValueError, match="shadow_0000"):
        main(argv)
    monkeypatch.setenv("WSMOOTH_DEBUG", "0")
    assert main(argv) == 1


def test_help_documents_the_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "exit status:" in out
    for status in ("0 ", "1 ", "2 ", "130"):
        assert f"  {status}" in out


def test_the_reference_set_of_a_defence_counts_against_the_pool(tmp_path, capsys,
                                                                 monkeypatch):
    """AdvReg takes a reference set out of the pool: data that suffice for the
    undefended model are too few with it, found before training."""
    X = _X(20)
    y = np.arange(20) % 4  # 5 per class: 4 in the pool, fewer once reserved
    np.savez(tmp_path / "d.npz", X=X, y=y)
    _no_training(monkeypatch)
    base = [*FAST, "--data", "npz", str(tmp_path / "d.npz"), "--out", str(tmp_path)]
    status, lines = command([*base, "--defences", "none"], capsys)
    assert lines == ["wsmooth: error: a model trained"]  # the data passed
    status, lines = command([*base, "--defences", "none", "advreg"], capsys)
    assert status == 1
    one_line(lines, "reference set", "too few records per class")
