"""Regression tests: interrupts, divergence, broken modules, refits, bad input."""

import os
import signal
import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, EarlyStopping

from wsmooth import WeightedSmoothingClassifier
from wsmooth.classifier import TrainingDivergedError
from wsmooth.datasets import make_purchase_like

SMALL = dict(
    module__hidden_layer_sizes=(16,),
    max_epochs=4,
    batch_size=64,
    warmup_epochs=1,
    random_state=0,
)


@pytest.fixture(scope="module")
def data():
    return make_purchase_like(n_samples=200, n_features=20, n_classes=4, random_state=0)


# ------------------------------------------------------------------ Ctrl-C
class _SigintAt(Callback):
    """Sends this process a real SIGINT at the end of epoch ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_ctrl_c_reaches_the_caller(data, method):
    X, y = data
    clf = WeightedSmoothingClassifier(
        **{**SMALL, "max_epochs": 50}, callbacks=[("sigint", _SigintAt(2))]
    )
    with pytest.raises(KeyboardInterrupt):
        getattr(clf, method)(X, y)
    assert len(clf.history) == 2
    # the handler is restored: a later SIGINT-free fit finishes quietly
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_early_stopping_still_stops_quietly(data):
    X, y = data
    clf = WeightedSmoothingClassifier(
        **{**SMALL, "max_epochs": 50, "lr": 0.0},
        callbacks=[EarlyStopping(monitor="train_loss", patience=2, threshold=1e-3)],
    ).fit(X, y)
    assert len(clf.history) < 50
    assert clf.predict_proba(X).shape == (len(X), 4)


# ------------------------------------------------- WS silently off (item 5)
@pytest.mark.parametrize("max_epochs, warmup", [(2, 4), (4, 4)])
def test_warmup_covering_every_epoch_warns(data, max_epochs, warmup):
    X, y = data
    clf = WeightedSmoothingClassifier(
        **{**SMALL, "max_epochs": max_epochs, "warmup_epochs": warmup}, sigma=1e6
    )
    with pytest.warns(UserWarning, match=rf"max_epochs={max_epochs}.*{warmup}"):
        clf.fit(X, y)


def test_no_warning_when_noise_runs_or_sigma_is_zero(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        WeightedSmoothingClassifier(**SMALL, sigma=0.2).fit(X, y)
        WeightedSmoothingClassifier(
            **{**SMALL, "max_epochs": 2, "warmup_epochs": 4}, sigma=0.0
        ).fit(X, y)


# ---------------------------------------------------------- divergence
# an unclipped ReLU net under a huge SGD step overflows within a few batches
DIVERGING = dict(
    module__activation="relu",
    optimizer=torch.optim.SGD,
    lr=1e30,
    clip_grad_norm=None,
    warmup_epochs=0,
)


@pytest.mark.parametrize("sigma", [0.0, 0.5])
def test_nan_loss_raises_with_epoch_and_batch(data, sigma):
    X, y = data
    clf = WeightedSmoothingClassifier(**{**SMALL, **DIVERGING}, sigma=sigma)
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch 2 is nan"):
        clf.fit(X, y)


def test_non_finite_final_model_raises(data):
    X, y = data

    class _Poison(Callback):
        # the last step leaves NaN weights although every loss was finite
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == net.max_epochs:
                with torch.no_grad():
                    net.module_.layers[-1].bias.fill_(float("nan"))

    clf = WeightedSmoothingClassifier(**SMALL, callbacks=[_Poison()])
    with pytest.raises(TrainingDivergedError, match="after epoch 4"):
        clf.fit(X, y)


def test_float64_beyond_float32_range_is_refused(data):
    X, y = data
    X = X.astype(np.float64)
    X[3, 2] = 1e39
    with pytest.raises(ValueError, match="float32"):
        WeightedSmoothingClassifier(**SMALL).fit(X, y)
    clf = WeightedSmoothingClassifier(**SMALL).fit(X[4:], y[4:])
    with pytest.raises(ValueError, match="float32"):
        clf.predict_proba(X)


# ------------------------------------------------------- broken modules
def test_output_width_mismatch_is_named(data):
    X, y = data
    params = {k: v for k, v in SMALL.items() if not k.startswith("module__")}
    for width in (3, 7):
        clf = WeightedSmoothingClassifier(
            module=torch.nn.Linear(X.shape[1], width), **params
        )
        with pytest.raises(ValueError, match=rf"{width} outputs.*4 classes"):
            clf.fit(X, y)


def test_warm_start_refit_with_other_classes_is_refused(data):
    X, y = data
    clf = WeightedSmoothingClassifier(**SMALL, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start"):
        clf.fit(X, y + 10)
    with pytest.raises(ValueError, match="warm_start"):
        clf.fit(X[:, :5], y)


def test_warm_start_refit_on_a_subset_of_classes_keeps_them(data):
    X, y = data
    clf = WeightedSmoothingClassifier(**SMALL, warm_start=True).fit(X, y)
    keep = y != 3
    clf.fit(X[keep], y[keep])
    assert list(clf.classes_) == [0, 1, 2, 3]
    assert len(clf.history) == 2 * SMALL["max_epochs"]


def test_partial_fit_honours_classes(data):
    X, y = data
    keep = y < 2
    clf = WeightedSmoothingClassifier(**SMALL).partial_fit(
        X[keep], y[keep], classes=[0, 1, 2, 3]
    )
    assert list(clf.classes_) == [0, 1, 2, 3]
    assert clf.predict_proba(X).shape == (len(X), 4)
    clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match="classes"):
        WeightedSmoothingClassifier(**SMALL).partial_fit(X, y, classes=[0, 1])


# --------------------------------------------------------- refit hygiene
def test_per_fit_attributes_are_reset(data):
    X, y = data
    clf = WeightedSmoothingClassifier(**SMALL, sigma=0.5).fit(X, y)
    assert hasattr(clf, "vulnerability_weights_")
    clf.set_params(sigma=0.0).fit(X[:100], y[:100])
    for name in ("vulnerability_weights_", "vulnerability_scores_", "ws_weights_"):
        assert not hasattr(clf, name), name
    assert clf.member_proba_.shape == (100, 4)


def test_weight_refresh_cannot_be_switched_off(data):
    X, y = data
    a = WeightedSmoothingClassifier(**SMALL, sigma=0.5).fit(X, y)
    # WS is the net's own epoch logic, not a callback one could set to None
    assert "ws_refresh" not in dict(a.callbacks_)
    for off in ({"callbacks__ws_refresh": None}, {"callbacks": []}):
        b = WeightedSmoothingClassifier(**SMALL, sigma=0.5, **off).fit(X, y)
        np.testing.assert_array_equal(
            a.vulnerability_weights_, b.vulnerability_weights_
        )
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = WeightedSmoothingClassifier(**SMALL, sigma=0.0).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_noise_uses_its_own_generator(data, monkeypatch):
    X, y = data
    expected = WeightedSmoothingClassifier(**SMALL, sigma=0.5).fit(X, y)
    seen = []
    from wsmooth import _smoothing

    original = _smoothing.noisy_nll_loss

    def spy(*args, **kwargs):
        seen.append(kwargs.get("generator"))
        return original(*args, **kwargs)

    monkeypatch.setattr(_smoothing, "noisy_nll_loss", spy)
    again = WeightedSmoothingClassifier(**SMALL, sigma=0.5).fit(X, y)
    assert seen and all(isinstance(g, torch.Generator) for g in seen)
    np.testing.assert_array_equal(again.predict_proba(X), expected.predict_proba(X))


# ------------------------------------------------------ predict_log_proba
def test_predict_log_proba_is_log_softmax_without_saturation(data):
    X, y = data
    params = {k: v for k, v in SMALL.items() if not k.startswith("module__")}
    clf = WeightedSmoothingClassifier(
        module=torch.nn.Linear(X.shape[1], 4), **params
    ).fit(X, y)
    log_p = clf.predict_log_proba(X)
    assert log_p.shape == (len(X), 4) and np.isfinite(log_p).all()
    np.testing.assert_allclose(
        np.exp(log_p), clf.predict_proba(X), rtol=1e-5, atol=1e-6
    )
    # far-off inputs give logits whose softmax rounds to 0; the log stays finite
    far = X * 1e4
    log_far = clf.predict_log_proba(far)
    assert np.isfinite(log_far).all()
    assert (log_far < -200).any()


def test_user_arrays_are_untouched(data):
    X, y = data
    X64 = X.astype(np.float64)
    copies = X.copy(), X64.copy(), y.copy()
    clf = WeightedSmoothingClassifier(**SMALL, sigma=0.3).fit(X64, y)
    clf.partial_fit(X, y)
    clf.predict_proba(X64)
    clf.predict_log_proba(X)
    np.testing.assert_array_equal(X, copies[0])
    np.testing.assert_array_equal(X64, copies[1])
    np.testing.assert_array_equal(y, copies[2])
