"""The wsmooth command."""

import json
import subprocess
import sys

import numpy as np
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


# ------------------------------------------------------------- hardening
def test_ctrl_c_stops_the_command_with_exit_code_130():
    import os
    import signal
    import time

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-m", "wsmooth", "--n-samples", "400", "--n-classes",
            "4", "--epochs", "100000", "--warmup-epochs", "1", "--hidden", "8"]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    try:
        # the progress bar on stderr says training has started
        seen = b""
        deadline = time.monotonic() + 120
        while b"epoch" not in seen and time.monotonic() < deadline:
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
        assert b"epoch" in seen, seen.decode(errors="replace")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert out == b""  # no figures of a truncated model
    assert b"interrupted" in err and b"Traceback" not in err


def _auc_by_hand(clf, X_in, y_in, X_out, y_out):
    from sklearn.metrics import roc_auc_score

    def neg_loss(X, y):
        proba = clf.predict_proba(X).astype(np.float64)
        col = {c: i for i, c in enumerate(clf.classes_)}
        p = np.array([proba[r, col[c]] if c in col else 0.0 for r, c in enumerate(y)])
        return np.log(np.clip(p, 1e-30, 1.0))

    scores = np.r_[neg_loss(X_in, y_in), neg_loss(X_out, y_out)]
    truth = np.r_[np.ones(len(y_in)), np.zeros(len(y_out))]
    return roc_auc_score(truth, scores)


@pytest.mark.parametrize("missing", [1, 3])
def test_leakage_with_a_class_missing_from_the_members(missing):
    from wsmooth import WeightedSmoothingClassifier
    from wsmooth.cli import _loss_leakage
    from wsmooth.datasets import make_purchase_like

    X, y = make_purchase_like(200, n_features=20, n_classes=4, random_state=0)
    X_in, y_in = X[:100][y[:100] != missing], y[:100][y[:100] != missing]
    X_out, y_out = X[100:], y[100:]
    clf = WeightedSmoothingClassifier(
        module__hidden_layer_sizes=(8,), max_epochs=2, sigma=0.0, random_state=0
    ).fit(X_in, y_in)
    assert missing not in clf.classes_
    auc, _ = _loss_leakage(clf, X_in, y_in, X_out, y_out)
    assert auc == pytest.approx(_auc_by_hand(clf, X_in, y_in, X_out, y_out))


def test_members_and_non_members_are_split_by_class():
    from wsmooth.cli import _split

    y = np.repeat(np.arange(100), 4)
    X = np.zeros((400, 2))
    _, _, y_in, y_out = _split(X, y, seed=0)
    assert set(y_in) == set(y_out) == set(range(100))
    y = np.r_[y, 100]  # one record of class 100: stratifying is impossible
    _, _, y_in, y_out = _split(np.zeros((401, 2)), y, seed=0)
    assert len(y_in) + len(y_out) == 401


def test_noise_that_would_never_start_is_refused(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--epochs", "2", "--sigma", "1e6", "--n-samples", "400",
              "--n-classes", "4", "--quiet"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--epochs" in err and "--warmup-epochs" in err


@pytest.mark.parametrize(
    "argv, name",
    [
        (["--n-samples", "-5"], "--n-samples"),
        (["--n-samples", "abc"], "--n-samples"),
        (["--n-classes", "1"], "--n-classes"),
        (["--epochs", "-1"], "--epochs"),
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
        (["--sigma", "inf"], "--sigma"),
        (["--sigma", "-0.1"], "--sigma"),
        (["--warmup-epochs", "-1"], "--warmup-epochs"),
    ],
)
def test_every_numeric_argument_is_checked(argv, name, capsys, monkeypatch):
    import wsmooth.cli

    def no_training(args):
        raise AssertionError("training started")

    monkeypatch.setattr(wsmooth.cli, "run", no_training)
    with pytest.raises(SystemExit) as info:
        main(TINY + argv)
    assert info.value.code == 2
    assert name in capsys.readouterr().err
