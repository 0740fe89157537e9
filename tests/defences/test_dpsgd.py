import numpy as np
import pytest
from opacus.accountants import RDPAccountant
from opacus.accountants.utils import get_noise_multiplier

from wsmooth.defences import DPSGDClassifier, get_defence

from defence_checks import SMALL, check_bad_input, check_estimator_basics, tiny_data


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
