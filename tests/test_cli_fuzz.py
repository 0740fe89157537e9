"""Fuzzing the wsmooth command end to end: arguments and small data files.

Whatever it is given, the command ends with status 0, 1 or 2, prints no
traceback (a failure is one line on stderr), and leaves no half-written file
in ``--out``: no temporary file, and a results.json that parses.
"""

import contextlib
import io
import json
import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from wsmooth.cli import main

#: Models of a few dozen parameters, one epoch: a run takes a fraction of a second.
_FAST = ["--epochs", "1", "--warmup-epochs", "0", "--hidden", "4", "--seeds", "1",
         "--defences", "none", "--batch-size", "64", "--channels", "2", "--quiet"]


@st.composite
def data_files(draw, folder):
    """``--data`` arguments: the embedded data, or a small generated file."""
    kind = draw(st.sampled_from(["purchase-like", "npz", "csv"]))
    if kind == "purchase-like":
        n = draw(st.sampled_from(["48", "60", "80", "8", "abc"]))
        k = draw(st.sampled_from(["2", "3", "3", "10", "1"]))
        return ["--n-samples", n, "--n-classes", k]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.one_of(st.integers(30, 50), st.integers(0, 50)))
    n_classes = draw(st.sampled_from([2, 2, 3, 1, 4]))
    d = draw(st.integers(1, 4))
    shape = (draw(st.sampled_from(["flat"] * 6 + ["NCHW", "NHWC"]))
             if kind == "npz" else "flat")
    X = rng.normal(size={"flat": (n, d), "NCHW": (n, 1, 8, 8),
                         "NHWC": (n, 8, 8, 1)}[shape])
    y = rng.permutation(np.arange(n) % n_classes)
    if n and draw(st.integers(0, 3)) == 0:
        X.flat[draw(st.integers(0, X.size - 1))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf, 1e39, 0.0]))
    labels = draw(st.sampled_from(
        ["int"] * 5 + ["name", "whole float", "float", "nan"]))
    if labels == "whole float":
        y = y.astype(float)
    elif labels == "float":
        y = y + 0.5
    elif labels == "name":
        y = np.array(["cat", "dog", "emu", "fox"])[y]
    elif labels == "nan" and n:
        y = y.astype(float)
        y[0] = np.nan
    path = os.path.join(folder, f"data.{kind}")
    if kind == "npz":
        np.savez(path, X=X, y=y)
    else:
        with open(path, "w") as f:
            for row, label in zip(X, y, strict=True):
                f.write(",".join(f"{v!r}" for v in row.tolist()) + f",{label}\n")
    return ["--data", kind, path]


@st.composite
def runs(draw, folder):
    """A command line: data, attacks against --shadows, --n-jobs, --out."""
    argv = draw(data_files(folder))
    argv += ["--shadows", draw(st.sampled_from(["2", "2", "4", "3", "1"]))]
    attacks = draw(st.sampled_from([["rmia"], ["rmia"], ["lira"], ["label_only"],
                                    ["lira", "rmia"], ["rmia", "label_only"]]))
    argv += ["--attacks", *attacks]
    n_jobs = draw(st.sampled_from([None] * 5 + ["1", "0", "x"]))
    if n_jobs is not None:
        argv += ["--n-jobs", n_jobs]
    argv += ["--max-leakage", draw(st.sampled_from(["0", "0.2", "1"]))]
    out = draw(st.sampled_from(
        ["new"] * 5 + ["existing", "file", "empty", "below a file"]))
    report = os.path.join(folder, "report")
    if out == "existing":
        os.makedirs(report, exist_ok=True)
    elif out == "file" or out == "below a file":
        with open(os.path.join(folder, "plain"), "w") as f:
            f.write("not a folder")
        report = os.path.join(folder, "plain")
        if out == "below a file":
            report = os.path.join(report, "report")
    elif out == "empty":
        report = ""
    return [*argv, *_FAST, "--out", report], report


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_the_command_ends_cleanly_whatever_it_is_given(data):
    with tempfile.TemporaryDirectory() as folder:
        argv, out = data.draw(runs(folder))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                status = main(argv)
            except SystemExit as exc:
                status = exc.code
        err = err.getvalue()
        event(f"exit {status}")
        assert status in (0, 1, 2), (argv, status, err)
        assert "Traceback" not in err, (argv, err)
        if status:
            lines = err.strip().splitlines()
            assert len(lines) == 1, (argv, err)
            assert lines[0].startswith("wsmooth: error: "), (argv, err)
        if status == 2:  # refused before anything ran
            assert not os.path.exists(os.path.join(out, "cache")), argv
        if out and os.path.isdir(out):
            for root, _, names in os.walk(out):
                temps = [n for n in names if n.startswith(".tmp-")]
                assert not temps, (argv, root, temps)
            results = os.path.join(out, "results.json")
            if os.path.exists(results):
                with open(results) as f:
                    assert json.load(f)["rows"], argv
        if status == 0:
            report = {"results.json", "results.csv", "frontier.png"}
            assert report <= set(os.listdir(out)), argv
