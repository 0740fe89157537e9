import numpy as np
import pytest
import torch
from sklearn.base import clone

from wsmooth.attacks import QuantileNetRegressor


def _two_groups():
    """x = 0: targets 0..100; x = 1: targets 200..300 (101 each)."""
    X = np.repeat([[0.0], [1.0]], 101, axis=0)
    y = np.concatenate([np.arange(101.0), 200.0 + np.arange(101.0)])
    return X, y


def _long_fit(**params):
    # full batches and many epochs: the fit converges on this tiny case
    return QuantileNetRegressor(
        hidden_layer_sizes=(8,), max_epochs=600, batch_size=1000, lr=0.02,
        random_state=0, **params,
    )


def test_pinball_fit_reaches_the_empirical_quantile_of_each_group():
    X, y = _two_groups()
    # the summed pinball loss over 0..100 at tau = 0.9 has slope
    # -0.9 * #{y > q} + 0.1 * #{y < q}: negative below 90, positive above,
    # so its minimiser is 90 (and 290 for the second group)
    reg = _long_fit(quantile=0.9).fit(X, y)
    np.testing.assert_allclose(reg.predict([[0.0], [1.0]]), [90.0, 290.0], atol=3.0)
    # and another level moves it: tau = 0.25 -> 25 and 225
    reg = _long_fit(quantile=0.25).fit(X, y)
    np.testing.assert_allclose(reg.predict([[0.0], [1.0]]), [25.0, 225.0], atol=3.0)


def test_gaussian_fit_reaches_each_groups_mean_and_std():
    X, y = _two_groups()
    y = y.copy()
    y[101:] = 200.0 + 3.0 * np.arange(101.0)  # a wider second group
    reg = _long_fit(loss="gaussian").fit(X, y)
    mean, std = reg.predict([[0.0], [1.0]], return_std=True)
    np.testing.assert_allclose(mean, [y[:101].mean(), y[101:].mean()], rtol=0.03)
    np.testing.assert_allclose(std, [y[:101].std(), y[101:].std()], rtol=0.1)
    np.testing.assert_array_equal(reg.predict([[0.0], [1.0]]), mean)


def test_hinge_head_predicts_the_margin_of_its_logits_at_the_label():
    rng = np.random.default_rng(0)
    n, k = 60, 4
    labels = rng.integers(0, k, n)
    X = np.hstack([rng.normal(size=(n, 5)), np.eye(k)[labels]])
    reg = QuantileNetRegressor(label_columns=k, random_state=0)
    reg.fit(X, rng.normal(size=n))
    with torch.no_grad():
        logits = reg.modules_[0](torch.as_tensor(X[:, :5], dtype=torch.float32)).numpy()
    others = np.where(np.eye(k, dtype=bool)[labels], -np.inf, logits).max(axis=1)
    margin = logits[np.arange(n), labels] - others
    np.testing.assert_allclose(
        reg.predict(X), margin * reg.y_scale_ + reg.y_mean_, rtol=1e-5, atol=1e-5
    )
    assert reg.modules_[0][-1].out_features == k


def test_deterministic_and_leaves_the_global_generator_alone():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(200, 3)), rng.normal(size=200)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    def fitted(seed):
        return QuantileNetRegressor(random_state=seed).fit(X, y).predict(X)

    a = fitted(4)
    assert torch.equal(torch.get_rng_state(), before)
    np.testing.assert_array_equal(a, fitted(4))
    assert not np.array_equal(a, fitted(5))


def test_scikit_learn_parameter_holder():
    reg = QuantileNetRegressor(0.9, label_columns=3, max_epochs=2)
    assert clone(reg).get_params() == reg.get_params()
    assert repr(reg) == (
        "QuantileNetRegressor(label_columns=3, max_epochs=2, quantile=0.9)"
    )


@pytest.mark.parametrize(
    "params, X, match",
    [
        (
            {"label_columns": 2},
            np.hstack([np.ones((20, 2)), np.zeros((20, 2))]),
            "one-hot",
        ),
        ({"label_columns": 3}, np.eye(3)[np.arange(20) % 3], "no feature column"),
        ({"hidden_layer_sizes": (0,)}, np.ones((20, 2)), "hidden_layer_sizes"),
        ({"quantile": 1.0}, np.ones((20, 2)), "quantile"),
        ({"loss": "mse"}, np.ones((20, 2)), "loss"),
        ({"weight_decay": -1.0}, np.ones((20, 2)), "weight_decay"),
    ],
)
def test_bad_input_named(params, X, match):
    with pytest.raises(ValueError, match=match):
        QuantileNetRegressor(**params).fit(X, np.arange(20.0))


def test_std_only_from_the_gaussian_loss():
    X, y = np.ones((20, 1)), np.arange(20.0)
    reg = QuantileNetRegressor(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="return_std=True needs loss='gaussian'"):
        reg.predict(X, return_std=True)


def test_cross_entropy_fit_reaches_each_groups_mean_probabilities():
    X = np.repeat([[0.0], [1.0]], 50, axis=0)
    proba = np.where(np.arange(100)[:, None] < 50, [0.7, 0.2, 0.1], [0.1, 0.1, 0.8])
    proba[::2] = proba[::2, ::-1]  # two teachers' vectors per group
    reg = _long_fit(loss="cross_entropy").fit(X, np.log(proba))
    # the minimiser of the summed cross-entropy is the mean target vector
    expected = [proba[:50].mean(axis=0), proba[50:].mean(axis=0)]
    np.testing.assert_allclose(np.exp(reg.predict([[0.0], [1.0]])), expected, atol=0.02)


@pytest.mark.parametrize(
    "params, y, match",
    [
        ({}, np.zeros((20, 2)), "log-probabilities"),
        ({}, np.zeros(20), "shape"),
        (
            {"label_columns": 2},
            np.log(np.full((20, 2), 0.5)),
            "label_columns must be None",
        ),
    ],
)
def test_cross_entropy_bad_targets_named(params, y, match):
    with pytest.raises(ValueError, match=match):
        QuantileNetRegressor(loss="cross_entropy", **params).fit(np.ones((20, 3)), y)


def test_seeded_unlike_a_wsmooth_classifier_with_the_same_random_state():
    # wsmooth's classifiers seed torch with randint(2**31 - 1) of their
    # random_state and build their first layer first: a regressor seeded the
    # same way would start from the target's own weights
    X, y = np.random.default_rng(0).normal(size=(30, 5)), np.zeros(30)
    reg = QuantileNetRegressor(hidden_layer_sizes=(8,), max_epochs=1, lr=1e-30)
    reg.set_params(random_state=0).fit(X, y)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
        classifier_layer = torch.nn.Linear(5, 8)
    assert not torch.allclose(reg.modules_[0][0].weight, classifier_layer.weight)


@pytest.mark.parametrize("loss", ["quantile", "gaussian", "cross_entropy"])
def test_n_networks_averages_the_networks_of_their_seeds(loss):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 3))
    if loss == "cross_entropy":
        y = np.log(rng.dirichlet([1.0, 1.0], size=80))
    else:
        y = rng.normal(size=80)
    ensemble = QuantileNetRegressor(
        loss=loss, n_networks=3, max_epochs=2, random_state=0
    ).fit(X, y)
    assert len(ensemble.modules_) == 3
    # the first network is the one a single-network fit trains
    single = QuantileNetRegressor(loss=loss, max_epochs=2, random_state=0).fit(X, y)
    first = zip(single.modules_[0].parameters(), ensemble.modules_[0].parameters())
    assert all(torch.equal(a, b) for a, b in first)
    alone = []
    for module in ensemble.modules_:
        single.modules_ = [module]
        alone.append(single.predict(X, return_std=loss == "gaussian"))
    if loss == "cross_entropy":
        mean = np.mean(alone, axis=0)
        expected = mean - np.log(np.exp(mean).sum(axis=1, keepdims=True))
        np.testing.assert_allclose(ensemble.predict(X), expected, atol=1e-9)
    elif loss == "gaussian":
        got_mean, got_std = ensemble.predict(X, return_std=True)
        np.testing.assert_allclose(got_mean, np.mean([m for m, _ in alone], axis=0))
        np.testing.assert_allclose(got_std, np.mean([s for _, s in alone], axis=0))
    else:
        np.testing.assert_allclose(ensemble.predict(X), np.mean(alone, axis=0))


def _weight_norm(reg):
    return sum(float((p.detach() ** 2).sum()) for m in reg.modules_ for p in m.parameters())


def test_weight_decay_shrinks_the_weights():
    X, y = _two_groups()
    plain = _long_fit(quantile=0.5).fit(X, y)
    decayed = _long_fit(quantile=0.5, weight_decay=0.1).fit(X, y)
    assert _weight_norm(decayed) < 0.5 * _weight_norm(plain)
