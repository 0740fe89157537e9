"""Fuzzing the bad-input catalogue of the classifier and of the command.

Every case must end in a clear ``ValueError`` / ``TypeError`` raised by
wsmooth, scikit-learn or skorch (never from inside torch or pickle), in a
warning, or in a correct result.
"""

import contextlib
import io
import os
import traceback
import warnings
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wsmooth.cli
from wsmooth import WeightedSmoothingClassifier
from wsmooth._warmup import noise_never_starts
from wsmooth.cli import build_parser, main
from wsmooth.utils import check_proba

_TORCH_DIR = os.path.dirname(torch.__file__)
_RNG = np.random.default_rng(0)
_X = _RNG.normal(size=(40, 5))
_Y = np.arange(40) % 3

TINY = dict(
    module__hidden_layer_sizes=(8,),
    max_epochs=2,
    warmup_epochs=1,
    batch_size=16,
    random_state=0,
)


def _poke(X, i, value):
    X = X.astype(np.float64)
    X.flat[i % X.size] = value
    return X


# (name, builder(i) -> (X, y)) for the data catalogue
_DATA = {
    "nan": lambda i: (_poke(_X, i, np.nan), _Y),
    "inf": lambda i: (_poke(_X, i, np.inf), _Y),
    "-inf": lambda i: (_poke(_X, i, -np.inf), _Y),
    "beyond float32": lambda i: (_poke(_X, i, 1e39 * (-1) ** i), _Y),
    "huge but float32": lambda i: (_poke(_X, i, 3e38), _Y),
    "1-d X": lambda i: (_X[:, 0], _Y),
    "3-d X": lambda i: (_X.reshape(40, 5, 1), _Y),
    "0-d X": lambda i: (np.float64(1.0), _Y[:1]),
    "lengths": lambda i: (_X, _Y[: i % 39]),
    "one class": lambda i: (_X, np.full(40, i)),
    "empty": lambda i: (_X[:0], _Y[:0]),
    "no features": lambda i: (_X[:, :0], _Y),
    "string X": lambda i: (np.full((40, 5), "a", dtype=object), _Y),
    "complex X": lambda i: (_X + 1j, _Y),
    "sparse X": lambda i: (sp.csr_matrix(_X), _Y),
    "object labels": lambda i: (_X, np.array(["a", 1] * 20, dtype=object)),
    "string labels": lambda i: (_X, np.array(["cat", "dog"])[_Y % 2]),
    "None labels": lambda i: (_X, np.array([None, "a"] * 20, dtype=object)),
    "float labels": lambda i: (_X, _Y + 0.5),
    "nan labels": lambda i: (_X, np.where(_Y == 0, np.nan, _Y)),
    "2-d labels": lambda i: (_X, np.c_[_Y, _Y]),
    "bool X": lambda i: (_X > 0, _Y),
}

_BAD_PARAMS = {
    "sigma": [-0.1, np.nan, np.inf, "0.1", None],
    "warmup_epochs": [-1, 1.5, "2"],
    "max_epochs": [-1, 1.5, None],
    "lr": [-1.0, np.nan, np.inf, "fast"],
    "batch_size": [0, -2, 1.5],
    "clip_grad_norm": [0, -1.0, np.nan],
    "weighting": ["bogus", None],
    "vulnerability": ["bogus", 1],
    "refresh": ["sometimes"],
    "random_state": ["x", -1, 1.5],
    "module__hidden_layer_sizes": [(0,), (-3,), ("a",)],
    "module__activation": ["sigmoid"],
}


def _settle(fn):
    """Run ``fn``; return the result, or the error after checking where it arose."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(), None
    except (ValueError, TypeError) as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        origin = frames[-1].filename
        assert not origin.startswith(_TORCH_DIR), (exc, origin)
        assert "pickle" not in os.path.basename(origin), (exc, origin)
        assert str(exc), type(exc)
        return None, exc


def _check_fitted(clf, X):
    proba = clf.predict_proba(X)
    check_proba(proba, n_records=len(X), n_classes=len(clf.classes_))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, atol=1e-5)


_SLOW = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@_SLOW
@given(case=st.sampled_from(sorted(_DATA)), i=st.integers(0, 10**6),
       sigma=st.sampled_from([0.0, 0.5]))
def test_bad_data_is_refused_clearly(case, i, sigma):
    X, y = _DATA[case](i)
    before = None if sp.issparse(X) else np.array(X, copy=True)
    clf = WeightedSmoothingClassifier(**TINY, sigma=sigma)
    fitted, error = _settle(lambda: clf.fit(X, y))
    if before is not None:  # the caller's array is untouched
        np.testing.assert_array_equal(np.asarray(X), before)
    if error is None:
        _check_fitted(fitted, np.asarray(X, dtype=np.float64))
    elif case in ("beyond float32",):
        assert "float32" in str(error)


@_SLOW
@given(data=st.data())
def test_bad_parameters_are_refused_clearly(data):
    name = data.draw(st.sampled_from(sorted(_BAD_PARAMS)))
    value = data.draw(st.sampled_from(_BAD_PARAMS[name]))
    clf = WeightedSmoothingClassifier(**TINY)
    fitted, error = _settle(lambda: clf.set_params(**{name: value}).fit(_X, _Y))
    if error is None:
        _check_fitted(fitted, _X)


@settings(max_examples=20, deadline=None)
@given(case=st.sampled_from(sorted(_DATA)), i=st.integers(0, 10**6))
def test_bad_queries_are_refused_clearly(fitted, case, i):
    X, _ = _DATA[case](i)
    for method in (fitted.predict_proba, fitted.predict_log_proba, fitted.predict):
        result, error = _settle(lambda: method(X))
        if error is None and method is fitted.predict_proba:
            check_proba(result, n_classes=3)


@pytest.fixture(scope="module")
def fitted():
    return WeightedSmoothingClassifier(**TINY).fit(_X, _Y)


# ------------------------------------------------------------------ command
_FLAGS = ["--n-samples", "--n-classes", "--epochs", "--sigma", "--warmup-epochs",
          "--hidden", "--batch-size", "--lr", "--seed", "--seeds", "--shadows",
          "--max-leakage", "--channels", "--threads"]
_VALUES = st.one_of(
    st.integers(-10, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "inf", "-inf", "1e400", "0", "-0", "1,2", "8,,8",
                     "x", "2**3", "0x10", " 3 ", "1_000"]),
    st.text(max_size=6),
)


class _Ran(Exception):
    """Raised by the stand-in for the run: the arguments got through."""


@settings(max_examples=150, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from(_FLAGS), _VALUES), max_size=4))
def test_command_arguments_are_checked_before_training(pairs):
    argv = [token for pair in pairs for token in pair] + ["--quiet"]
    seen = []

    def fake_run(args):
        seen.append(args)
        raise _Ran

    err = io.StringIO()
    with mock.patch.object(wsmooth.cli, "run", fake_run), \
            contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(argv)
        except SystemExit as exc:
            assert exc.code == 2, (argv, err.getvalue())
            assert "error" in err.getvalue()
            return
        except _Ran:
            pass
    (args,) = seen
    n_samples = args.n_samples or wsmooth.cli.DEFAULT_N_SAMPLES
    assert args.n_classes >= 2 and n_samples >= 8 * args.n_classes
    # --epochs, --lr and --hidden left out: the data set's defaults, set later
    assert args.epochs is None or args.epochs >= 1
    assert args.warmup_epochs >= 0 and args.batch_size >= 1
    assert args.lr is None or (np.isfinite(args.lr) and args.lr > 0)
    # --sigma left out: a grid from the data's classes, set later
    assert args.sigma is None or all(np.isfinite(s) and s >= 0 for s in args.sigma)
    assert args.hidden is None or all(
        isinstance(h, int) and h >= 1 for h in args.hidden)
    assert 0 <= args.seed < 2**32
    assert args.seeds >= 1 and args.shadows >= 1 and args.threads >= 1
    assert np.isfinite(args.max_leakage) and args.max_leakage >= 0
    if args.epochs is not None:
        # the estimator's warm-up rule: some epoch trains with noise
        assert not any(noise_never_starts(s, args.epochs, args.warmup_epochs)
                       for s in args.sigma or [1.0])
    # what parsed also parses the same way again (no hidden state); the
    # bound left out is the --leakage metric's default
    again = build_parser().parse_args(argv)
    if again.max_leakage is None:
        again.max_leakage = wsmooth.cli.MAX_LEAKAGE_DEFAULTS[again.leakage]
    assert again == args
