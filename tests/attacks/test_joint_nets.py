import numpy as np
import pytest
from scipy.special import log_softmax

from wsmooth.attacks import QuantileNetRegressor
from wsmooth.attacks._joint_nets import fit_jointly


def _teacher(n=240, d=6, n_classes=3, seed=0):
    """Records and the log-probabilities of a fixed random softmax model."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(scale=1.5, size=(d, n_classes))
    return X, log_softmax(X @ W, axis=1)


def _distiller(**kw):
    params = {"loss": "cross_entropy", "hidden_layer_sizes": (16,), "max_epochs": 4,
              "batch_size": 32, "lr": 1e-2, "random_state": 0}
    return QuantileNetRegressor(**{**params, **kw})


def _masks(n, n_copies=3, seed=1):
    fold = np.random.default_rng(seed).integers(0, n_copies, n)
    return fold[:, None] != np.arange(n_copies)[None, :]  # copy j skips fold j


def test_copies_are_fitted_regressors_of_the_template():
    X, lp = _teacher()
    mask = _masks(len(X))
    copies = fit_jointly(_distiller(n_networks=2), X, lp, mask)
    assert len(copies) == mask.shape[1]
    for reg in copies:
        assert isinstance(reg, QuantileNetRegressor)
        assert reg.get_params() == _distiller(n_networks=2).get_params()
        assert len(reg.modules_) == 2 and reg.n_features_in_ == X.shape[1]
        out = reg.predict(X)
        assert out.shape == lp.shape
        np.testing.assert_allclose(np.exp(out).sum(axis=1), 1.0, atol=1e-9)


def test_a_copy_never_reads_the_records_outside_its_mask():
    X, lp = _teacher()
    mask = _masks(len(X))
    rng = np.random.default_rng(5)
    out0 = ~mask[:, 0]
    X2, lp2 = X.copy(), lp.copy()  # change every record copy 0 may not train on
    X2[out0] = rng.normal(size=(out0.sum(), X.shape[1]))
    noise = rng.normal(scale=3.0, size=(out0.sum(), lp.shape[1]))
    lp2[out0] = log_softmax(noise, axis=1)
    before = fit_jointly(_distiller(), X, lp, mask)
    after = fit_jointly(_distiller(), X2, lp2, mask)
    np.testing.assert_allclose(before[0].predict(X), after[0].predict(X), atol=1e-6)
    # the copies that trained on those records did change
    assert not np.allclose(before[1].predict(X), after[1].predict(X), atol=1e-3)


def test_copies_learn_the_teacher_on_records_they_did_not_see():
    X, lp = _teacher(n=600)
    mask = _masks(len(X))
    copies = fit_jointly(_distiller(max_epochs=30), X, lp, mask)
    p = np.exp(lp)
    marginal = np.log(p.mean(axis=0))
    for j, reg in enumerate(copies):
        held = ~mask[:, j]
        kl = np.mean(np.sum(p[held] * (lp[held] - reg.predict(X[held])), axis=1))
        kl_marginal = np.mean(np.sum(p[held] * (lp[held] - marginal), axis=1))
        assert kl < 0.5 * kl_marginal


def test_deterministic_per_random_state():
    X, lp = _teacher()
    mask = _masks(len(X))

    def fit(seed):
        copies = fit_jointly(_distiller(random_state=seed), X, lp, mask)
        return [r.predict(X) for r in copies]

    np.testing.assert_array_equal(fit(3), fit(3))
    assert not np.allclose(fit(3)[0], fit(4)[0])


@pytest.mark.parametrize(
    "regressor, mask_cols, match",
    [
        (QuantileNetRegressor(), 3, "loss='cross_entropy'"),
        (_distiller(hidden_layer_sizes=()), 3, "at least one hidden layer"),
        (_distiller(), 0, "at least one record"),
    ],
)
def test_bad_input_named(regressor, mask_cols, match):
    X, lp = _teacher(n=30)
    mask = np.zeros((30, 3), dtype=bool)
    mask[:, :mask_cols] = True
    with pytest.raises(ValueError, match=match):
        fit_jointly(regressor, X, lp, mask)


def test_mask_shape_checked():
    X, lp = _teacher(n=30)
    with pytest.raises(ValueError, match="train_mask"):
        fit_jointly(_distiller(), X, lp, np.ones((29, 2), dtype=bool))


def test_weight_decay_reaches_every_copy():
    X, lp = _teacher()
    mask = _masks(len(X))
    plain = fit_jointly(_distiller(max_epochs=20), X, lp, mask)
    decayed = fit_jointly(_distiller(max_epochs=20, weight_decay=0.05), X, lp, mask)

    def norm(reg):
        return sum(float((p.detach() ** 2).sum()) for p in reg.modules_[0].parameters())

    for a, b in zip(plain, decayed, strict=True):
        assert norm(b) < 0.8 * norm(a)
