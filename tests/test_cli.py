"""The wsmooth command: the defence comparison, its report, resume and errors."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import wsmooth.cli
from wsmooth.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny(out, *extra):
    """Seconds-long settings: 4 classes, a one-layer net, 1 seed, 2 shadows
    (a learning rate at which 3 epochs leave the network above chance)."""
    return [
        "--n-samples", "160", "--n-classes", "4", "--epochs", "3",
        "--warmup-epochs", "1", "--hidden", "8", "--lr", "0.03", "--seeds", "1",
        "--shadows", "2",
        "--defences", "none", "ws", "--sigma", "0.5", "--attacks", "lira", "rmia",
        "--quiet", "--out", str(out),
        *extra,
    ]


def test_compare_prints_the_frontier_and_writes_the_report(tmp_path, capsys):
    assert main(["compare", *tiny(tmp_path, "--max-leakage", "1")]) == 0
    out = capsys.readouterr().out
    assert "none (undefended)" in out and "sigma=0.5" in out
    assert "* on the frontier" in out
    # --max-leakage 1 admits every setting: an answer is printed
    assert "most accurate setting leaking no more than 1" in out
    results = json.loads((tmp_path / "results.json").read_text())
    rows = results["rows"]
    # 2 settings x 1 seed x 2 attacks, every figure a number
    assert len(rows) == 4
    assert {r["attack"] for r in rows} == {"lira", "rmia"}
    assert all(0 <= r["test_accuracy"] <= 1 and 0 <= r["auc"] <= 1 for r in rows)
    with open(tmp_path / "results.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 4 and float(table[0]["tpr@1%fpr"]) >= 0
    png = (tmp_path / "frontier.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    for name in ("results.json", "results.csv", "frontier.png"):
        assert str(tmp_path / name) in out


def test_json_output_holds_the_points_and_the_answer(tmp_path, capsys):
    assert main(tiny(tmp_path, "--json", "--max-leakage", "0")) == 0
    report = json.loads(capsys.readouterr().out)
    assert [p["setting"] for p in report["points"]] == ["default", "sigma=0.5"]
    assert any(p["on_frontier"] for p in report["points"])
    # max leakage 0: the answer is the least leaky setting either way
    answer = report["answer"]
    least = min(report["points"], key=lambda p: (p["leakage"], -p["utility"]))
    assert (answer["configuration"], answer["setting"]) == (
        least["configuration"], least["setting"])
    assert answer["bound_met"] == (least["leakage"] <= 0)
    assert bool(report["warnings"]) != answer["bound_met"]
    assert os.path.exists(report["files"]["json"])


def test_no_setting_within_the_bound_still_answers_and_exits_0(tmp_path, capsys):
    """An AUC of 0 is out of reach: the least leaky setting is the answer, a
    warning (shown despite --quiet) names the bound, the report is written."""
    assert main(tiny(tmp_path, "--leakage", "auc", "--max-leakage", "0")) == 0
    captured = capsys.readouterr()
    assert "no setting leaks at most 0 (auc, strongest attack); the least leaky " \
        "instead:" in captured.out
    (warning,) = [line for line in captured.err.splitlines() if "warning" in line]
    assert warning.startswith("wsmooth: warning: no setting has mean auc <= 0 ")
    assert "the least leaky" in warning
    assert (tmp_path / "results.json").exists() and (tmp_path / "frontier.png").exists()


def test_an_interrupted_run_resumes_without_retraining(tmp_path, monkeypatch, capsys):
    """Ctrl-C after the first cell: exit 130, nothing on stdout; the rerun
    trains only the cells that had not finished."""
    from wsmooth.experiments import _runner

    real = _runner._run_cell
    calls = []

    def interrupt_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(_runner, "_run_cell", interrupt_second)
    argv = tiny(tmp_path, "--sigma", "0.5", "1.0")  # 3 cells
    assert main(argv) == 130
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "interrupted" in captured.err and "resume" in captured.err
    # the true count: one cell finished before the Ctrl-C, none from the cache
    assert "1 of 3 cells finished (0 resumed from the cache, 1 computed now)" \
        in captured.err
    assert not (tmp_path / "results.json").exists()

    # interrupted again in the third cell: two finished, one of them resumed
    calls.clear()
    assert main(argv) == 130
    assert "2 of 3 cells finished (1 resumed from the cache, 1 computed now)" \
        in capsys.readouterr().err

    calls.clear()
    monkeypatch.setattr(_runner, "_run_cell", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    assert main(argv) == 0
    assert len(calls) == 1  # the first two cells came from the cache
    assert len(json.loads((tmp_path / "results.json").read_text())["rows"]) == 6
    out = capsys.readouterr().out
    assert f"resumed 2 of 3 cells from {tmp_path / 'cache'}" in out
    # a run that finds everything cached says so; --json carries the counts
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cells"] == {
        "total": 3, "resumed": 3, "computed": 0, "cache": str(tmp_path / "cache")}


def test_ctrl_c_stops_the_command_with_exit_code_130(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-m", "wsmooth", *tiny(tmp_path)]
    argv.remove("--quiet")
    argv[argv.index("--epochs") + 1] = "100000"
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT
    )
    try:
        # the progress bar on stderr says the run has started
        seen = b""
        deadline = time.monotonic() + 120
        while b"cell" not in seen and time.monotonic() < deadline:
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
        assert b"cell" in seen, seen.decode(errors="replace")
        time.sleep(2)  # inside training (and torch's lazy imports)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert out == b""  # no figures of an unfinished run
    assert b"interrupted" in err and b"Traceback" not in err


def test_module_entry_point_help_has_a_worked_example():
    out = subprocess.run(
        [sys.executable, "-m", "wsmooth", "--help"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    assert "--defences" in out and "--data" in out and "--out" in out
    assert "examples:" in out and "most accurate setting" in out


# --------------------------------------------------------------- the data
def test_digits_run_with_the_cnn(tmp_path, capsys):
    argv = tiny(tmp_path, "--data", "digits", "--n-samples", "200", "--channels", "4")
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "digits" in out and "DigitsCNN" in out


def test_npz_data_is_read(tmp_path, capsys):
    from wsmooth.datasets import make_purchase_like

    X, y = make_purchase_like(160, n_features=20, n_classes=4, random_state=0)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    assert main(tiny(tmp_path / "out", "--data", "npz", str(tmp_path / "d.npz"))) == 0
    assert "160 records" in capsys.readouterr().out


@pytest.mark.parametrize(
    "data",
    [
        ["nonsense"],
        ["purchase100"],  # no path
        ["digits", "somewhere"],  # the embedded sets take none
        ["csv", "/no/such/file.csv"],
    ],
)
def test_bad_data_arguments_exit_2(tmp_path, data, capsys, monkeypatch):
    monkeypatch.setattr(wsmooth.cli, "run", _no_run)
    with pytest.raises(SystemExit) as info:
        main(tiny(tmp_path, "--data", *data))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--data" in err and "Traceback" not in err


@pytest.mark.parametrize("fmt, content", [
    ("purchase100", "1,0,1\n2,1,0\n"),  # 2 features where the format has 600
    ("npz", "not a zip archive"),
    ("csv", "a,b,label\n1,x,0\n"),
])
def test_unreadable_data_is_one_line_and_exit_1(tmp_path, fmt, content):
    path = tmp_path / "data"
    path.write_text(content)
    proc = subprocess.run(
        [sys.executable, "-m", "wsmooth", *tiny(tmp_path / "out", "--data", fmt, str(path))],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wsmooth: error: cannot read")
    assert str(path) in lines[0]


# --------------------------------------------------------------- arguments
def _no_run(args):
    raise AssertionError("the run started")


@pytest.mark.parametrize(
    "argv, name",
    [
        (["--n-samples", "-5"], "--n-samples"),
        (["--n-samples", "abc"], "--n-samples"),
        (["--n-classes", "1"], "--n-classes"),
        (["--epochs", "0"], "--epochs"),
        (["--lr", "0"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--lr", "inf"], "--lr"),
        (["--hidden", "32,-4"], "--hidden"),
        (["--hidden", "32,x"], "--hidden"),
        (["--hidden", ""], "--hidden"),
        (["--batch-size", "0"], "--batch-size"),
        (["--seed", "-1"], "--seed"),
        (["--seed", str(2**40)], "--seed"),
        (["--sigma", "nan"], "--sigma"),
        (["--sigma", "-0.1"], "--sigma"),
        (["--warmup-epochs", "-1"], "--warmup-epochs"),
        (["--seeds", "0"], "--seeds"),
        (["--shadows", "0"], "--shadows"),
        (["--max-leakage", "-1"], "--max-leakage"),
        (["--defences", "none", "magic"], "--defences"),
        (["--attacks", "psychic"], "--attacks"),
        (["--device", "tpu"], "--device"),
        (["--net", "resnet"], "--net"),
        (["--n-samples", "10"], "--n-samples"),  # fewer than 8 per class
        (["--epochs", "1"], "--warmup-epochs"),  # noise would never start
        (["frobnicate"], "compare"),
    ],
)
def test_every_argument_is_checked_before_the_run(argv, name, tmp_path, capsys,
                                                   monkeypatch):
    monkeypatch.setattr(wsmooth.cli, "run", _no_run)
    with pytest.raises(SystemExit) as info:
        main(tiny(tmp_path, *argv) if argv != ["frobnicate"] else argv)
    assert info.value.code == 2
    assert name in capsys.readouterr().err


def test_device_cuda_without_a_gpu_is_a_clear_error(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(wsmooth.cli, "run", _no_run)
    with pytest.raises(SystemExit) as info:
        main(tiny(tmp_path, "--device", "cuda"))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--device" in err and "CUDA is not available" in err


def configurations(args, module, module_params):
    """The command's defences for the parsed ``args`` on ``module``."""
    from wsmooth.experiments import comparison_configurations, network_params

    common = network_params(
        module, module_params, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, device=args.device, random_state=args.seed,
    )
    return comparison_configurations(
        args.defences, sigma=args.sigma, warmup_epochs=args.warmup_epochs, **common
    )


def test_the_device_reaches_every_model(tmp_path):
    from wsmooth import nets
    from wsmooth.cli import build_parser

    args = build_parser().parse_args(tiny(tmp_path, "--device", "cpu"))
    confs = configurations(args, nets.MLP, {"hidden_layer_sizes": (8,)})
    assert {est.device for est, _ in confs.values()} == {"cpu"}


def test_early_stopping_stops_before_the_full_training(tmp_path):
    from wsmooth import nets
    from wsmooth.cli import build_parser

    args = build_parser().parse_args(
        tiny(tmp_path, "--defences", "early_stopping", "--epochs", "12")
    )
    (_, grid), = configurations(args, nets.MLP, {}).values()
    assert grid == {"max_epochs": [3, 6, 9]}


def test_cifar_batches_run_with_the_image_cnn(tmp_path, capsys):
    """The image path end to end: CIFAR's python batches, read without
    unpickling code, trained with CifarCNN on (n, 3, 32, 32) tensors."""
    import pickle

    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = [0] * 8 + [1] * 8
        data = rng.integers(0, 256, size=(16, 3072), dtype=np.uint8)
        data[8:, :1024] //= 4  # class 1 is darker in red
        batch = {b"batch_label": b"batch", b"data": data, b"labels": labels,
                 b"filenames": [b"x.png"] * 16}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=4)
    argv = tiny(tmp_path / "out", "--data", "cifar10", str(folder), "--n-samples", "80",
                "--channels", "4")
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "CifarCNN" in out and "80 records" in out
    assert (tmp_path / "out" / "frontier.png").exists()


def test_defences_without_a_warm_up_can_be_built_and_fitted(tmp_path):
    # regression: --warmup-epochs reached every defence, and the ones other
    # than weighted smoothing refused it at fit time
    from wsmooth import nets
    from wsmooth.cli import build_parser
    from wsmooth.datasets import make_purchase_like

    args = build_parser().parse_args(
        tiny(tmp_path, "--defences", "ws", "relaxloss", "--warmup-epochs", "2")
    )
    confs = configurations(args, nets.MLP, {"hidden_layer_sizes": (8,)})
    assert confs["ws"][0].warmup_epochs == 2
    X, y = make_purchase_like(60, n_classes=3, random_state=0)
    confs["relaxloss"][0].set_params(max_epochs=1).fit(X, y)


def test_sigma_grid_reaches_both_weighted_smoothing_defences(tmp_path):
    from wsmooth import nets
    from wsmooth.cli import build_parser

    assert "ws" in build_parser().parse_args([]).defences
    args = build_parser().parse_args(
        tiny(tmp_path, "--sigma", "0.2", "0.4", "--defences", "ws", "ws_reference")
    )
    confs = configurations(args, nets.MLP, {"hidden_layer_sizes": (8,)})
    assert confs["ws"][1] == confs["ws_reference"][1] == {"sigma": [0.2, 0.4]}
    assert confs["ws"][0].refresh == "live"
    assert confs["ws_reference"][0].refresh == "full"
    assert confs["ws_reference"][0].warmup_epochs == args.warmup_epochs


@pytest.mark.parametrize("n_classes", [3, 10])
def test_sigma_grid_follows_the_class_count(tmp_path, n_classes):
    from wsmooth.cli import _with_training_defaults, build_parser
    from wsmooth.experiments import ws_sigma_grid

    args = build_parser().parse_args(tiny(tmp_path))
    args.sigma = None  # --sigma left out
    y = np.arange(60) % n_classes
    X = np.zeros((60, 4), dtype=np.float32)
    filled = _with_training_defaults(args, X, y)
    assert filled.sigma == list(ws_sigma_grid(n_classes))
    # a grid given on the command line stays
    given = build_parser().parse_args(tiny(tmp_path, "--sigma", "0.7"))
    assert _with_training_defaults(given, X, y).sigma == [0.7]


def test_answer_says_which_seeds_chose_it_and_which_report_it(tmp_path, capsys):
    args = tiny(tmp_path, "--json", "--max-leakage", "1")
    args[args.index("--seeds") + 1] = "2"
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["answer_seeds"] == {
        "selected_on_seeds": [0], "reported_on_seeds": [1], "selected_on_itself": False,
    }
    assert report["answer"]["reported_on_seeds"] == [1]
    summary = {"leakage": "tpr@1%", "max_leakage": 1.0, "answer": report["answer"]}
    line = wsmooth.cli._answer_line(summary)
    assert "chosen on seeds [0], reported on seeds [1]" in line
    one = {**report["answer"], "selected_on_itself": True,
           "selected_on_seeds": [0], "reported_on_seeds": [0]}
    line = wsmooth.cli._answer_line({**summary, "answer": one})
    assert "selected on itself" in line


# --------------------------------------------------------------- start-up
def test_version_prints_the_package_version():
    import wsmooth

    proc = subprocess.run([sys.executable, "-m", "wsmooth", "--version"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"wsmooth {wsmooth.__version__}"


def test_help_imports_nothing_heavy():
    """Building the parser and printing the help import neither torch nor
    scikit-learn nor numpy: ``wsmooth --help`` answers at once."""
    code = (
        "import contextlib, io, sys\n"
        "from wsmooth.cli import build_parser, main\n"
        "build_parser()\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0\n"
        "assert '--defences' in out.getvalue()\n"
        "heavy = [m for m in ('torch', 'sklearn', 'numpy', 'skorch', 'scipy')\n"
        "         if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("leakage, bound", [
    ("tpr@1%", 0.1), ("tpr@0.1%", 0.01), ("auc", 0.6), ("advantage", 0.1),
])
def test_max_leakage_defaults_to_low_leakage_of_each_figure(leakage, bound, tmp_path,
                                                            monkeypatch):
    seen = []
    monkeypatch.setattr(wsmooth.cli, "run", lambda args: seen.append(args) or 1 / 0)
    main(tiny(tmp_path, "--leakage", leakage))
    assert seen[0].max_leakage == bound
    main(tiny(tmp_path, "--leakage", leakage, "--max-leakage", "0.33"))
    assert seen[1].max_leakage == 0.33  # what the user gave is kept


def test_report_figures_are_rounded_but_the_cache_is_exact(tmp_path):
    assert main(tiny(tmp_path)) == 0
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    with open(tmp_path / "results.csv", newline="") as f:
        table = list(csv.DictReader(f))
    seconds = ("fit_seconds", "attack_seconds")
    cells = [r for path in (tmp_path / "cache" / "cells").iterdir()
             for r in json.loads(path.read_text())["rows"]]
    exact = {(r["setting"], r["attack"]): r for r in cells}
    for row, line in zip(rows, table, strict=True):
        cell = exact[row["setting"], row["attack"]]
        for name in ("test_accuracy", "auc", "tpr@1%fpr", "advantage", *seconds):
            want = (round(cell[name], 1) if name in seconds
                    else float(f"{cell[name]:.4g}"))
            assert row[name] == want and float(line[name]) == want, name
    # the cells keep every digit: no duration is a whole number of tenths
    assert any(round(r[s], 1) != r[s] for r in cells for s in seconds)


def test_the_answer_is_marked_in_the_table_and_the_plot(tmp_path, capsys, monkeypatch):
    from wsmooth.experiments import FrontierDisplay

    drawn = []
    real = FrontierDisplay.from_results.__func__

    def spy(cls, *args, **kwargs):
        drawn.append(real(cls, *args, **kwargs))
        return drawn[-1]

    monkeypatch.setattr(FrontierDisplay, "from_results", classmethod(spy))
    argv = tiny(tmp_path, "--leakage", "auc", "--max-leakage", "1",
                "--leakage-scale", "log")
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    marked = [line for line in out if line.startswith(">")]
    assert marked[-1] == "> the chosen setting (the answer)"  # the legend
    assert len(marked) == 2
    answer = next(line for line in out if line.startswith("most accurate"))
    # the marked row is the setting the answer names
    config, setting = marked[0][2:].replace(" (undefended)", "").split()[:2]
    assert f": {config} {setting}," in answer
    (display,) = drawn
    assert display.chosen_marker_ is not None
    assert display.chance_line_.get_xdata()[0] == 0.5  # AUC of a guess
    assert display.bound_line_.get_xdata()[0] == 1.0
    assert display.ax_.get_xscale() == "log"
    assert f"{config} {setting}" in [a.get_text() for a in display.labels_]


def _without(argv, flag):
    """``argv`` without ``flag`` and its value."""
    i = argv.index(flag)
    return argv[:i] + argv[i + 2:]


def test_training_defaults_follow_the_data_and_given_flags_win(tmp_path):
    from sklearn.datasets import load_digits

    from wsmooth._training_defaults import training_defaults
    from wsmooth.cli import _with_training_defaults, build_parser

    X, y = load_digits(return_X_y=True)
    expected = training_defaults("digits", len(y), X.shape[1], 10, image=True)
    args = build_parser().parse_args(["--data", "digits"])
    filled = _with_training_defaults(args, X, y)
    assert (filled.epochs, filled.lr, filled.hidden) == (
        expected["epochs"], expected["lr"], expected["hidden"])
    assert args.epochs is None and args.lr is None  # the parsed arguments stay
    given = build_parser().parse_args(
        ["--data", "digits", "--epochs", "5", "--lr", "0.5", "--hidden", "7"])
    filled = _with_training_defaults(given, X, y)
    assert (filled.epochs, filled.lr, filled.hidden) == (5, 0.5, (7,))


def test_the_run_trains_with_the_data_sets_defaults(tmp_path, capsys):
    from wsmooth._training_defaults import training_defaults

    argv = _without(_without(tiny(tmp_path), "--epochs"), "--lr")
    assert main(argv) == 0
    expected = training_defaults("purchase-like", 160, 600, 4, image=False)
    assert f"{expected['epochs']} epochs, lr {expected['lr']:g};" in \
        capsys.readouterr().out


def test_warm_up_beyond_the_default_epochs_exits_2(tmp_path, capsys):
    argv = _without(tiny(tmp_path), "--epochs")
    with pytest.raises(SystemExit) as info:
        main([*argv, "--warmup-epochs", "1000"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--warmup-epochs" in err and "1000" in err
    assert not (tmp_path / "results.json").exists()


def test_an_untrained_undefended_network_is_warned_about(tmp_path, capsys):
    argv = tiny(tmp_path, "--epochs", "1", "--warmup-epochs", "0", "--lr", "1e-6",
                "--max-leakage", "1", "--json")
    assert main(argv) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines()
             if "the undefended network reaches test accuracy" in line]
    assert len(lines) == 1 and lines[0].startswith("wsmooth: warning: ")
    assert "near chance" in lines[0] and "--epochs" in lines[0]
    assert "1 epoch, lr 1e-06" in lines[0]
    report = json.loads(captured.out)
    assert lines[0].removeprefix("wsmooth: warning: ") in report["warnings"]


def test_a_trained_undefended_network_is_not_warned_about(tmp_path, capsys):
    assert main(tiny(tmp_path, "--max-leakage", "1", "--json")) == 0
    captured = capsys.readouterr()
    assert "undefended network reaches" not in captured.err
    assert json.loads(captured.out)["warnings"] == []


def test_the_only_command_is_accepted_but_not_advertised():
    from wsmooth.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["compare"]).command == "compare"
    assert parser.parse_args([]).command == "compare"
    text = parser.format_help()
    assert "{compare}" not in text and "wsmooth compare" not in text
