import numpy as np
import pytest
from defence_checks import SMALL, check_bad_input, check_estimator_basics, tiny_data
from opacus.accountants import RDPAccountant
from opacus.accountants.utils import get_noise_multiplier
from sklearn.base import clone

from wsmooth.defences import DPSGDClassifier, get_defence
from wsmooth.defences._dpsgd import TUNED_TRAINING


def _make(random_state, **params):
    return DPSGDClassifier(random_state=random_state, **{**SMALL, **params})


def test_basics_and_bad_input():
    X, y = tiny_data()
    est = check_estimator_basics(_make, X, y)
    # the network and optimizer come back unwrapped from Opacus
    assert type(est.module_).__name__ == "MLP"
    assert type(est.optimizer_).__module__.startswith("torch.optim")
    check_bad_input(_make, X, y)
    with pytest.raises(ValueError, match="target_epsilon"):
        _make(0, target_epsilon=0).fit(X, y)
    with pytest.raises(ValueError, match="train_split=None"):
        _make(0, train_split=lambda ds, y: (ds, None)).fit(X, y)
    # Opacus clips per record: a bound on the batch gradient would do nothing
    with pytest.raises(ValueError, match="clip_grad_norm"):
        _make(0, clip_grad_norm=10.0).fit(X, y)


@pytest.mark.parametrize("target", [0.5, 4.0])
def test_epsilon_spent_matches_opacus_and_stays_within_target(target):
    X, y = tiny_data()
    est = _make(0, target_epsilon=target, target_delta=1e-3).fit(X, y)
    steps_per_epoch = -(-len(X) // SMALL["batch_size"])
    assert est.steps_ == SMALL["max_epochs"] * steps_per_epoch
    assert est.sample_rate_ == pytest.approx(1 / steps_per_epoch)
    sigma = get_noise_multiplier(target_epsilon=target, target_delta=1e-3,
                                 sample_rate=1 / steps_per_epoch,
                                 steps=est.steps_, accountant="rdp")
    assert est.noise_multiplier_ == pytest.approx(sigma)
    accountant = RDPAccountant()
    for _ in range(est.steps_):
        accountant.step(noise_multiplier=sigma, sample_rate=1 / steps_per_epoch)
    assert est.epsilon_ == pytest.approx(accountant.get_epsilon(delta=1e-3))
    assert 0.9 * target < est.epsilon_ <= target


def test_default_delta_is_one_over_n():
    X, y = tiny_data()
    est = _make(0, max_epochs=1).fit(X, y)
    assert est.delta_ == pytest.approx(1 / len(X))


def test_grad_sample_modes_give_the_same_model():
    X, y = tiny_data()
    proba = [_make(0, max_epochs=1, grad_sample_mode=m).fit(X, y).predict_proba(X)
             for m in ("hooks", "ew", "functorch")]
    np.testing.assert_allclose(proba[0], proba[1], atol=1e-5)
    np.testing.assert_allclose(proba[0], proba[2], atol=1e-5)


@pytest.mark.parametrize("mode", ["hooks", "ew"])
def test_empty_poisson_batches_are_noise_only_steps(mode):
    # one record per expected batch: about a third of the batches are empty
    X, y = tiny_data()
    est = _make(0, max_epochs=1, batch_size=1, grad_sample_mode=mode)
    est.fit(X[:20], y[:20])
    sizes = [b["train_batch_size"] for b in est.history[-1]["batches"]]
    assert 0 in sizes and est.steps_ == 20
    assert np.isfinite(est.predict_proba(X)).all()


def test_more_noise_than_plain_training():
    X, y = tiny_data()
    loose = _make(0, target_epsilon=1e3).fit(X, y)
    tight = _make(0, target_epsilon=0.1).fit(X, y)
    assert tight.noise_multiplier_ > 5 * loose.noise_multiplier_


def test_registered():
    assert isinstance(get_defence("dpsgd").build(max_epochs=2), DPSGDClassifier)


def test_partial_fit_is_absent_with_its_reason():
    est = _make(0)
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError) as info:
        est.partial_fit
    assert "privacy budget" in str(info.value.__cause__)
    assert "privacy budget" in type(est).partial_fit.__doc__


def test_noise_calibration_is_reused_across_fits(monkeypatch):
    # Opacus' search takes seconds; shadow models and refits repeat the setting
    import opacus.accountants.utils as utils

    X, y = tiny_data()
    first = _make(0, target_epsilon=3.0).fit(X, y)
    monkeypatch.setattr(utils, "get_noise_multiplier",
                        lambda **kw: pytest.fail("the noise was calibrated again"))
    second = _make(1, target_epsilon=3.0).fit(X, y)
    assert second.noise_multiplier_ == first.noise_multiplier_
    assert second.epsilon_ == first.epsilon_


def _mean_batch(est):
    return np.mean([b["train_batch_size"] for h in est.history for b in h["batches"]])


def test_sample_rate_sets_the_batch_as_a_fraction_of_the_records():
    X, y = tiny_data()
    fits = {n: _make(0, sample_rate=0.25, max_epochs=4, target_delta=1e-3)
            .fit(X[:n], y[:n]) for n in (40, 160)}
    for n, est in fits.items():
        assert est.sample_rate_ == 0.25
        assert est.steps_ == 4 * 4  # 4 steps an epoch whatever n
        # Poisson batches around a quarter of the records
        assert 0.5 * n / 4 < _mean_batch(est) < 1.5 * n / 4
    # same rate and steps: the same noise, calibrated by Opacus at that rate
    sigma = get_noise_multiplier(target_epsilon=8.0, target_delta=1e-3,
                                 sample_rate=0.25, steps=16, accountant="rdp")
    assert fits[40].noise_multiplier_ == pytest.approx(sigma)
    assert fits[160].noise_multiplier_ == pytest.approx(sigma)
    with pytest.raises(ValueError, match="sample_rate"):
        _make(0, sample_rate=1.5).fit(X, y)


@pytest.mark.filterwarnings("ignore:Optimal order is the smallest alpha")
def test_registry_grid_spans_small_to_nearly_no_privacy():
    grid = get_defence("dpsgd").grid
    eps = grid["target_epsilon"]
    assert eps == sorted(eps) and len(eps) >= 4
    assert eps[0] <= 1 and eps[-1] >= 1000
    # the training is the tuned one, the same at every epsilon
    assert {k: v for k, v in grid.items() if k != "target_epsilon"} == {
        k: [v] for k, v in TUNED_TRAINING.items()}
    # at the largest epsilon the noise is a small fraction of the clipping norm
    q, steps = TUNED_TRAINING["sample_rate"], TUNED_TRAINING["max_epochs"] * 4
    loose = get_noise_multiplier(target_epsilon=eps[-1], target_delta=1e-3,
                                 sample_rate=q, steps=steps, accountant="rdp")
    tight = get_noise_multiplier(target_epsilon=eps[0], target_delta=1e-3,
                                 sample_rate=q, steps=steps, accountant="rdp")
    assert loose < 0.3 < 2 < tight


@pytest.mark.filterwarnings("ignore:Optimal order is the smallest alpha")
def test_tuned_rule_scales_with_the_data():
    X, y = tiny_data()
    est = get_defence("dpsgd").build(module__hidden_layer_sizes=(16,), random_state=0)
    est.set_params(**{**TUNED_TRAINING, "target_epsilon": 1000.0, "max_epochs": 2})
    small, large = (clone(est).fit(X[:n], y[:n]) for n in (40, 160))
    assert small.steps_ == large.steps_
    assert _mean_batch(large) > 2.5 * _mean_batch(small)


@pytest.mark.filterwarnings("ignore:Optimal order is the smallest alpha")
def test_tuned_training_trains():
    X, y = tiny_data()
    est = DPSGDClassifier(module__hidden_layer_sizes=(16,), random_state=0,
                          target_epsilon=1000.0, **TUNED_TRAINING).fit(X[:120], y[:120])
    chance = np.bincount(y).max() / len(y)
    assert est.score(X[120:], y[120:]) > chance + 0.3
    assert est.history[-1]["train_loss"] < 0.5 * est.history[0]["train_loss"]
