"""WeightedSmoothingClassifier as a skorch net and as a scikit-learn classifier."""

import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, GradientNormClipping

from wsmooth import WeightedSmoothingClassifier, _smoothing
from wsmooth._clipping import RecentMedian
from wsmooth.classifier import (
    MEMBER_ATTRIBUTES,
    RELATIVE_CLIP_MIN_STEPS,
    RELATIVE_CLIP_WINDOW,
)
from wsmooth.datasets import make_purchase_like
from wsmooth.nets import MLP

SMALL = dict(
    module__hidden_layer_sizes=(32,), max_epochs=6, batch_size=64, warmup_epochs=2
)


@pytest.fixture(scope="module")
def data():
    X, y = make_purchase_like(n_samples=400, n_features=40, n_classes=4, random_state=0)
    return X, y


def _fit(data, **params):
    X, y = data
    return WeightedSmoothingClassifier(**{**SMALL, "random_state": 0, **params}).fit(
        X, y
    )


# 0.01 clips every step, 10 (the default) none here: both code paths of the
# clipping must match skorch's GradientNormClipping bit for bit
@pytest.mark.parametrize("clip", [10.0, 0.01])
def test_sigma_zero_is_plain_skorch_training(data, clip):
    X, y = data
    clf = WeightedSmoothingClassifier(
        sigma=0.0, random_state=3, clip_grad_norm=clip, **SMALL
    ).fit(X, y)
    plain = NeuralNetClassifier(
        MLP,
        module__n_features=X.shape[1],
        module__n_classes=4,
        module__hidden_layer_sizes=(32,),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=6,
        batch_size=64,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
        callbacks=[GradientNormClipping(clip)],
    )
    torch.manual_seed(clf._seed())
    plain.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))
    assert not hasattr(clf, "vulnerability_weights_")


class _ReferenceLoop(NeuralNetClassifier):
    """The reference training loop written out on plain skorch: clean epochs;
    then, before every noisy epoch, the weights from one eval-mode pass over
    the training set and the noisy loss on every batch, from a generator of
    its own; the gradient norm clipped at 10 after every backward pass."""

    def __init__(self, *args, sigma, warmup, noise_seed, **kwargs):
        super().__init__(*args, **kwargs)
        self.sigma, self.warmup, self.noise_seed = sigma, warmup, noise_seed

    def get_split_datasets(self, X, y=None, **fit_params):
        class Positions(torch.utils.data.Dataset):  # ((x_i, i), y_i)
            def __len__(_):
                return len(X)

            def __getitem__(_, i):
                return (X[i], i), y[i]

        return Positions(), None

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.noise_ = torch.Generator().manual_seed(self.noise_seed)
        self.X_, self.y_ = torch.as_tensor(X), torch.as_tensor(y)

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        if len(self.history) - 1 >= self.warmup:
            self.module_.eval()
            with torch.no_grad():
                logits = self.module_(self.X_)
            self.module_.train()
            scores = _smoothing.vulnerability_scores(logits, self.y_, "mentr")
            self.weights_ = _smoothing.vulnerability_weights(
                scores, self.y_, logits.shape[1], "zscore"
            )

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        (Xi, index), yi = batch
        logits = self.infer(Xi)
        if len(self.history) - 1 >= self.warmup:
            loss = _smoothing.noisy_nll_loss(
                logits, yi, self.weights_[index], self.sigma, generator=self.noise_
            )
        else:
            loss = torch.nn.functional.cross_entropy(logits, yi)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.module_.parameters(), 10.0)
        return {"loss": loss, "y_pred": logits}


# ReLU on features x 30: gradient norms past 10, so the clipping is compared
@pytest.mark.parametrize("activation, scale", [("tanh", 1), ("relu", 30)])
def test_noisy_training_is_the_reference_loop(data, activation, scale):
    X, y = data
    X = (X * scale).astype(np.float32)
    # the paper's loop whatever the class's defaults (SMALL sets 2 clean epochs)
    clf = WeightedSmoothingClassifier.reference(
        sigma=0.3, random_state=0, module__activation=activation, **SMALL
    ).fit(X, y)
    seed = clf._seed()
    reference = _ReferenceLoop(
        MLP,
        module__n_features=X.shape[1],
        module__n_classes=4,
        module__hidden_layer_sizes=(32,),
        module__activation=activation,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=6,
        batch_size=64,
        iterator_train__shuffle=True,
        verbose=0,
        sigma=0.3,
        warmup=2,
        noise_seed=seed ^ 0x5EED,
    )
    torch.manual_seed(seed)
    reference.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), reference.predict_proba(X))
    losses = [h["train_loss"] for h in clf.history]
    assert losses == [h["train_loss"] for h in reference.history]


def test_reference_preset_sets_the_papers_loop_and_survives_clone():
    from sklearn.base import clone

    from wsmooth.classifier import PAPER_SETTINGS

    clf = WeightedSmoothingClassifier.reference(sigma=0.2, max_epochs=3)
    params = clf.get_params()
    assert {k: params[k] for k in PAPER_SETTINGS} == PAPER_SETTINGS
    assert (params["sigma"], params["max_epochs"]) == (0.2, 3)
    cloned = clone(clf).get_params()
    assert {k: cloned[k] for k in [*PAPER_SETTINGS, "sigma", "max_epochs"]} == {
        k: params[k] for k in [*PAPER_SETTINGS, "sigma", "max_epochs"]
    }
    # one setting replaced knowingly, the others kept
    live = WeightedSmoothingClassifier.reference(refresh="live")
    assert live.refresh == "live" and live.weighting == "zscore"
    assert set(PAPER_SETTINGS) <= set(WeightedSmoothingClassifier().get_params())


def test_noise_changes_training(data):
    X, _ = data
    clean, noisy = _fit(data, sigma=0.0), _fit(data, sigma=0.5)
    assert not np.allclose(clean.predict_proba(X), noisy.predict_proba(X))


@pytest.mark.parametrize("refresh", ["full", "live"])
def test_same_seed_same_model_bit_for_bit(data, refresh):
    X, _ = data
    a = _fit(data, sigma=0.3, refresh=refresh)
    b = _fit(data, sigma=0.3, refresh=refresh)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = _fit(data, sigma=0.3, refresh=refresh, random_state=1)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_fit_leaves_global_torch_rng_alone(data):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _fit(data)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("weighting", ["zscore", "zscore_clipped", "minmax", "uniform"])
@pytest.mark.parametrize("vulnerability", ["mentr", "cross_entropy"])
def test_weights_of_last_refresh_are_exposed(data, weighting, vulnerability):
    X, y = data
    clf = _fit(data, weighting=weighting, vulnerability=vulnerability)
    w = clf.vulnerability_weights_
    assert w.shape == (len(X),) and np.isfinite(w).all()
    if weighting == "zscore":
        for c in range(4):
            assert abs(w[y == c].mean()) < 1e-4
            assert abs(w[y == c].std() - 1) < 1e-3
    elif weighting == "zscore_clipped":
        assert w.max() <= 1
        scores = clf.vulnerability_scores_
        for c in range(4):
            sel = y == c
            z = (scores[sel] - scores[sel].mean()) / (scores[sel].std() + np.exp(-20))
            np.testing.assert_allclose(w[sel], np.minimum(z, 1.0), atol=1e-4)
    elif weighting == "minmax":
        assert w.min() >= 0 and w.max() <= 1 + 1e-6
    else:
        assert not w.any()


def test_weights_come_from_an_eval_pass_over_the_training_set(data):
    X, y = data
    # one refresh, at the start of the last epoch: its scores are those of the
    # model after the first five (clean, hence identical) epochs
    ws_net = _fit(data, max_epochs=6, warmup_epochs=5, refresh="full",
                  weighting="zscore")
    before = _fit(data, max_epochs=5, warmup_epochs=5, sigma=0.0)
    p = before.predict_proba(X).astype(np.float64)
    py = p[np.arange(len(y)), y]
    log1m = np.log(np.maximum(1 - p, 1e-30))
    mentr = (
        -(1 - py) * np.log(np.maximum(py, 1e-30))
        - (p * log1m).sum(1)
        + py * log1m[np.arange(len(y)), y]
    )
    np.testing.assert_allclose(
        ws_net.vulnerability_scores_, mentr, rtol=1e-3, atol=1e-4
    )
    expected = np.empty_like(mentr)
    for c in range(4):
        m = ws_net.vulnerability_scores_[y == c]
        expected[y == c] = (m - m.mean()) / m.std()
    np.testing.assert_allclose(ws_net.vulnerability_weights_, expected, atol=1e-3)
    # confidently fitted records sit below their class mean
    assert np.corrcoef(py, ws_net.vulnerability_weights_)[0, 1] < 0


def test_no_weights_during_warmup(data):
    with pytest.warns(UserWarning, match="no epoch is trained with noise"):
        clf = _fit(data, warmup_epochs=6)
    assert not hasattr(clf, "vulnerability_weights_")


def test_live_refresh_uses_no_extra_pass(data, monkeypatch):
    calls = []
    original = WeightedSmoothingClassifier._score_dataset

    def counting(self, X, y):
        calls.append(len(y))
        return original(self, X, y)

    monkeypatch.setattr(WeightedSmoothingClassifier, "_score_dataset", counting)
    _fit(data, refresh="live")
    assert calls == []
    # no warm-up: no step has scored the records yet, so one full pass first
    _fit(data, refresh="live", warmup_epochs=0)
    assert calls == [len(data[0])]
    calls.clear()
    _fit(data, refresh="full")
    assert calls == [len(data[0])] * (SMALL["max_epochs"] - SMALL["warmup_epochs"])


def test_live_refresh_weighs_each_batch_from_its_own_logits(data, monkeypatch):
    from wsmooth import _smoothing

    checked = []
    original = _smoothing.noisy_nll_loss

    def spy(logits, labels, weights, sigma, **kwargs):
        # within a class, w must be an increasing affine map of the score the
        # step's own logits give: w_i - w_j = (s_i - s_j) / spread_class
        scores = _smoothing.vulnerability_scores(logits.detach(), labels)
        for c in labels.unique():
            sel = labels == c
            if sel.sum() > 2:
                s, w = scores[sel].double(), weights[sel].double()
                slope = (w - w[0])[1:] / (s - s[0])[1:]
                assert (slope > 0).all()
                torch.testing.assert_close(slope, slope[:1].expand_as(slope),
                                           rtol=1e-3, atol=0)
                checked.append(int(c))
        return original(logits, labels, weights, sigma, **kwargs)

    monkeypatch.setattr(_smoothing, "noisy_nll_loss", spy)
    # unclipped weights, so that the map stays affine at the hardest records
    clf = _fit(data, refresh="live", weighting="zscore")
    assert len(set(checked)) == 4
    assert clf.vulnerability_weights_.shape == (len(data[0]),)


def test_live_refresh_scores_only_the_warmup_epoch_it_reads(data, monkeypatch):
    # the first noisy epoch's class statistics come from the last warm-up
    # epoch's step scores; earlier warm-up epochs would be overwritten unread
    epochs = []
    original = WeightedSmoothingClassifier._record_step_scores

    def spy(self, *args, **kwargs):
        epochs.append(len(self.history))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(WeightedSmoothingClassifier, "_record_step_scores", spy)
    _fit(data, warmup_epochs=3)
    assert sorted(set(epochs)) == [3, 4, 5, 6]


def test_shared_softmax_trains_the_same_model(data, monkeypatch):
    # a live step scores its batch from the loss's softmax; with every score
    # taken from a softmax of its own the model is the same bit for bit
    X, y = data
    shared = _fit((X, y), sigma=0.5)
    unshared = _smoothing._capped_softmax

    def own_softmax(logits, logit_cap, probs=None):
        return unshared(logits, logit_cap)

    monkeypatch.setattr(_smoothing, "_capped_softmax", own_softmax)
    separate = _fit((X, y), sigma=0.5)
    np.testing.assert_array_equal(shared.predict_proba(X), separate.predict_proba(X))
    np.testing.assert_array_equal(
        shared.vulnerability_scores_, separate.vulnerability_scores_
    )


def test_labels_features_and_dtypes_are_kept(data):
    X, y = data
    names = np.array(["cat", "dog", "emu", "yak"])[y]
    clf = _fit((X.astype(np.float64), names))
    assert list(clf.classes_) == ["cat", "dog", "emu", "yak"]
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert clf.predict_proba(X).shape == (len(X), 4)
    odd = np.array([3, 10, 42, 7])[y]
    assert list(_fit((X.astype(np.int64), odd)).classes_) == [3, 7, 10, 42]
    assert X.dtype == np.float32 and names.dtype.kind == "U"


def test_default_constructor_fits(data):
    X, y = data
    # two epochs end inside the default warm-up, which the classifier says
    with pytest.warns(UserWarning, match="no epoch is trained with noise"):
        clf = WeightedSmoothingClassifier(max_epochs=2, random_state=0).fit(X, y)
    assert clf.module_.layers[0].in_features == X.shape[1]
    assert clf.module_.layers[-1].out_features == 4


def test_all_records_are_trained_on(data):
    clf = _fit(data)
    assert clf.train_split is None
    assert "valid_loss" not in clf.history[-1]


def test_custom_module_class_and_instance(data):
    X, y = data
    clf = _fit(data, module=MLP, module__hidden_layer_sizes=(8,))
    assert clf.module_.layers[0].out_features == 8
    inst = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 4))
    clf = WeightedSmoothingClassifier(
        module=inst, max_epochs=5, warmup_epochs=1, random_state=0
    ).fit(X, y)
    assert clf.predict_proba(X).shape == (len(X), 4)


def test_pickle_and_joblib_round_trips(tmp_path, data):
    X, _ = data
    clf = _fit(data)
    expected = clf.predict_proba(X)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    joblib.dump(clf, tmp_path / "m.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "m.joblib").predict_proba(X), expected
    )
    for name in MEMBER_ATTRIBUTES:
        assert not hasattr(loaded, name)
    assert hasattr(clf, "vulnerability_weights_")


def test_clone_keeps_parameters_and_drops_state(data):
    clf = _fit(data, sigma=0.7, weighting="minmax")
    twin = clone(clf)
    assert twin.get_params()["sigma"] == 0.7
    assert twin.get_params()["weighting"] == "minmax"
    assert not hasattr(twin, "module_")


def test_pipeline(data):
    X, y = data
    pipe = make_pipeline(
        StandardScaler(), WeightedSmoothingClassifier(random_state=0, **SMALL)
    )
    assert pipe.fit(X, y).score(X, y) > 0.5


def test_grid_search_over_sigma_and_module_parameter(data):
    X, y = data
    search = GridSearchCV(
        WeightedSmoothingClassifier(random_state=0, **SMALL),
        {"sigma": [0.0, 0.5], "module__hidden_layer_sizes": [(8,), (32,)]},
        cv=2,
        n_jobs=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict(X).shape == (len(X),)


def test_partial_fit_continues_training(data):
    X, y = data
    clf = _fit(data)
    clf.partial_fit(X, y)
    assert len(clf.history) == 2 * SMALL["max_epochs"]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"sigma": -0.1}, "sigma"),
        ({"weighting": "bogus"}, "weighting"),
        ({"vulnerability": "bogus"}, "vulnerability"),
        ({"refresh": "sometimes"}, "refresh"),
        ({"noise_scale": "per_class"}, "noise_scale"),
        ({"noise_huber": 0.0}, "noise_huber"),
        ({"clip_grad_relative": -1.0}, "clip_grad_relative"),
        ({"refresh": "running"}, "refresh"),
        ({"warmup_epochs": -1}, "warmup_epochs"),
        ({"clip_grad_norm": 0}, "clip_grad_norm"),
    ],
)
def test_bad_parameters_are_named(data, params, match):
    with pytest.raises(ValueError, match=match):
        _fit(data, **params)


@pytest.mark.parametrize(
    "mutate, error, match",
    [
        (
            lambda X, y: (
                np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X),
                y,
            ),
            ValueError,
            "NaN",
        ),
        (
            lambda X, y: (
                np.where(np.arange(X.size).reshape(X.shape) == 5, np.inf, X),
                y,
            ),
            ValueError,
            "infinity",
        ),
        (lambda X, y: (X[:, 0], y), ValueError, "2D array"),
        (lambda X, y: (X, y[:-1]), ValueError, "inconsistent numbers of samples"),
        (lambda X, y: (X, np.zeros_like(y)), ValueError, "one class"),
        (lambda X, y: (X[:0], y[:0]), ValueError, "0 sample"),
        (lambda X, y: (X, y + 0.5), ValueError, "Unknown label type"),
    ],
)
def test_bad_input_is_named(data, mutate, error, match):
    X, y = mutate(*data)
    with pytest.raises(error, match=match):
        WeightedSmoothingClassifier(**SMALL).fit(X, y)


def test_predict_before_fit_and_wrong_width(data):
    X, y = data
    with pytest.raises(NotFittedError):
        WeightedSmoothingClassifier().predict(X)
    clf = _fit(data)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :5])


def test_user_validation_split_is_honoured(data):
    from skorch.dataset import ValidSplit

    X, y = data
    clf = _fit(data, train_split=ValidSplit(4, stratified=True))
    assert "valid_loss" in clf.history[-1] and "valid_acc" in clf.history[-1]
    n_train = len(X) - len(X) // 4
    assert clf.vulnerability_weights_.shape == (n_train,)
    assert clf.member_proba_.shape == (n_train, 4)
    assert clf._dataset_train is None


class _StopAfterFirstEpoch(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("stop")


def test_interrupted_fit_pickles_no_training_records(data):
    clf = WeightedSmoothingClassifier(callbacks=[_StopAfterFirstEpoch()], **SMALL)
    with pytest.raises(RuntimeError, match="stop"):
        clf.fit(*data)
    assert clf._dataset_train is not None
    loaded = pickle.loads(pickle.dumps(clf))
    assert not hasattr(loaded, "_dataset_train")


@pytest.mark.parametrize(
    "noise_scale, divisors",
    [("reference", (1, 1)), ("class_invariant", (3, 3)), ("split", (1, 3))],
)
def test_noise_scale_sets_the_per_class_std(data, monkeypatch, noise_scale, divisors):
    from wsmooth import _smoothing

    seen = []
    original = _smoothing.noisy_nll_loss

    def spy(logits, labels, weights, sigma, **kwargs):
        seen.append((sigma, kwargs["off_class_sigma"]))
        return original(logits, labels, weights, sigma, **kwargs)

    monkeypatch.setattr(_smoothing, "noisy_nll_loss", spy)
    _fit(data, sigma=0.6, noise_scale=noise_scale)  # 4 classes
    assert seen and set(seen) == {(0.6 / divisors[0], 0.6 / divisors[1])}


def test_noise_huber_reaches_the_loss(data, monkeypatch):
    from wsmooth import _smoothing

    seen = []
    original = _smoothing.noisy_nll_loss

    def spy(*args, **kwargs):
        seen.append(kwargs.get("huber"))
        return original(*args, **kwargs)

    monkeypatch.setattr(_smoothing, "noisy_nll_loss", spy)
    _fit(data, noise_huber=0.5)
    assert seen and set(seen) == {0.5}


def _recent(norms):
    recent = RecentMedian(RELATIVE_CLIP_WINDOW, RELATIVE_CLIP_MIN_STEPS)
    for norm in norms:
        recent.add(torch.tensor(norm))
    return recent


def test_relative_clipping_bounds_a_step_by_the_recent_median():
    clf = WeightedSmoothingClassifier(clip_grad_relative=3.0, clip_grad_norm=10.0)
    clf._noisy_epoch = lambda: True
    clf._recent_grad_norms = _recent([1.0] * 5)
    # too few steps seen: only the fixed bound
    assert clf._clip_limit(torch.tensor(50.0)) == 10.0
    clf._recent_grad_norms = _recent([1.0] * 9 + [2.0] * 11)
    assert clf._clip_limit(torch.tensor(100.0)) == 6.0  # 3 x median 2
    # the unclipped norm joins the history; a NaN does not
    assert clf._recent_grad_norms.values()[-1] == 100.0
    clf._clip_limit(torch.tensor(float("nan")))
    assert clf._recent_grad_norms.values()[-1] == 100.0
    # the fixed bound still holds when it is the smaller
    clf.clip_grad_norm = 1.5
    assert clf._clip_limit(torch.tensor(1.0)) == 1.5
    clf.clip_grad_norm = None
    assert clf._clip_limit(torch.tensor(1.0)) == 6.0


def test_relative_clipping_leaves_the_warmup_alone():
    clf = WeightedSmoothingClassifier(clip_grad_relative=3.0, clip_grad_norm=10.0)
    clf._noisy_epoch = lambda: False
    clf._recent_grad_norms = _recent([1.0] * 20)
    # a clean step is bounded as the undefended network's, but recorded
    assert clf._clip_limit(torch.tensor(50.0)) == 10.0
    assert clf._recent_grad_norms.values()[-1] == 50.0


def test_relative_clipping_reaches_training(data, monkeypatch):
    limits = []
    original = torch.nn.utils.clip_grads_with_norm_

    def spy(params, max_norm, total_norm, **kwargs):
        limits.append((float(max_norm), float(total_norm)))
        return original(params, max_norm, total_norm, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grads_with_norm_", spy)
    X, _ = data
    plain = _fit(data, sigma=0.3, clip_grad_relative=None)
    assert limits == []  # the fixed bound of 10 is never reached here
    clipped = _fit(data, sigma=0.3, clip_grad_relative=0.5)
    # a bound at half the recent median cuts every step of the noisy epochs,
    # and none of the warm-up's
    noisy_epochs = SMALL["max_epochs"] - SMALL["warmup_epochs"]
    assert len(limits) == noisy_epochs * 7
    assert all(limit < norm for limit, norm in limits)
    assert not np.allclose(plain.predict_proba(X), clipped.predict_proba(X))


@pytest.mark.parametrize(
    "params", [{}, {"refresh": "live"}, {"clip_grad_relative": 3.0}]
)
def test_training_state_is_not_a_parameter(data, params):
    from sklearn.base import clone

    from wsmooth.utils._fingerprint import stable_params as _stable_params

    clf = WeightedSmoothingClassifier(**{**SMALL, "sigma": 0.3, **params})
    before = _stable_params(clf)
    clf.fit(*data)
    assert not [k for k in clf.get_params(deep=False) if k.startswith("_")]
    # what the shadow cache fingerprints is the same before and after a fit
    assert _stable_params(clf) == before
    assert _stable_params(clone(clf)) == before


@pytest.mark.parametrize("n_classes", [4, 10])
def test_auto_sigma_follows_the_class_count(n_classes):
    from wsmooth._noise_weight import auto_sigma
    from wsmooth.datasets import make_purchase_like

    X, y = make_purchase_like(40 * n_classes, n_classes=n_classes, random_state=0)
    small = {**SMALL, "max_epochs": 3}
    auto = WeightedSmoothingClassifier(**small, random_state=0).fit(X, y)
    assert auto.sigma == "auto" and auto.sigma_ == auto_sigma(n_classes)
    # the same model as the value given outright
    given = WeightedSmoothingClassifier(
        **small, sigma=auto_sigma(n_classes), random_state=0
    ).fit(X, y)
    np.testing.assert_array_equal(auto.predict_proba(X), given.predict_proba(X))
    assert given.sigma_ == given.sigma


def test_auto_sigma_warns_when_no_epoch_is_noisy(data):
    with pytest.warns(UserWarning, match="sigma='auto' but max_epochs=2"):
        _fit(data, max_epochs=2, warmup_epochs=2)
