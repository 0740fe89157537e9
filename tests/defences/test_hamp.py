import math

import numpy as np
import pytest
import torch
from defence_checks import SMALL, check_bad_input, check_estimator_basics, tiny_data

from wsmooth.defences import HAMPClassifier, get_defence, hamp_loss, hamp_soft_labels


def _make(random_state, **params):
    return HAMPClassifier(random_state=random_state, **{**SMALL, **params})


def test_basics_and_bad_input():
    X, y = tiny_data()
    check_estimator_basics(_make, X, y)
    check_bad_input(_make, X, y)
    with pytest.raises(ValueError, match="gamma"):
        _make(0, gamma=1.5).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        _make(0, alpha=-1.0).fit(X, y)


def _entropy(row):
    return -sum(p * math.log(p) for p in row if p > 0)


def test_soft_labels_meet_the_entropy_threshold_tightly():
    soft = hamp_soft_labels(torch.tensor([1]), 3, 0.5)[0].tolist()
    assert soft[0] == pytest.approx(soft[2])
    assert sum(soft) == pytest.approx(1)
    assert _entropy(soft) == pytest.approx(0.5 * math.log(3), abs=1e-6)
    assert soft[1] > 0.5  # the largest true-class share meeting the threshold


def test_loss_on_a_hand_computed_batch():
    # gamma = 1: the soft label is uniform; the logits give p = [0.5, 0.25, 0.25]
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25]]))
    # KL(u || p) averaged over records and classes (torch's "mean")
    kl = sum(math.log((1 / 3) / p) / 3 for p in (0.5, 0.25, 0.25)) / 3
    entropy = _entropy([0.5, 0.25, 0.25])
    got = hamp_loss(logits, torch.tensor([0]), 1.0, 0.1).item()
    assert got == pytest.approx(kl - 0.1 * entropy, rel=1e-5)


def test_output_modification_keeps_ranking_and_changes_confidences():
    X, y = tiny_data()
    plain = _make(0, output_modification=False).fit(X, y)
    modified = _make(0).fit(X, y)
    p, q = plain.predict_proba(X), modified.predict_proba(X)
    np.testing.assert_array_equal(np.argsort(-p, axis=1), np.argsort(-q, axis=1))
    assert not np.allclose(p, q)
    np.testing.assert_array_equal(plain.predict(X), modified.predict(X))
    np.testing.assert_allclose(np.exp(modified.predict_log_proba(X)), q)


def test_labels_need_no_random_inputs(monkeypatch):
    X, y = tiny_data()
    net = _make(0).fit(X, y)
    expected = net.classes_[net.predict_proba(X).argmax(axis=1)]

    def no_random_inputs(*args, **kwargs):
        raise AssertionError("predict drew random inputs")

    monkeypatch.setattr("wsmooth.defences._hamp.random_inputs", no_random_inputs)
    np.testing.assert_array_equal(net.predict(X), expected)


def test_modified_output_of_a_record_does_not_depend_on_its_batch():
    X, y = tiny_data()
    net = _make(0).fit(X, y)
    whole = net.predict_proba(X)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_array_equal(net.predict_proba(X[order]), whole[order])
    # alone, up to the float32 rounding of the net's own forward pass
    np.testing.assert_allclose(net.predict_proba(X[3:4]), whole[3:4], atol=1e-6)
    # the random inputs still differ between records
    assert len(np.unique(np.round(whole, 6), axis=0)) > len(X) // 2


def test_random_inputs_fill_the_feature_box():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(160, 5)).astype(np.float32)
    y = rng.integers(0, 3, 160)
    net = _make(0).fit(X, y)
    Xq = np.random.default_rng(1).normal(size=(4000, X.shape[1])).astype(np.float32)
    from wsmooth.defences._hamp import _record_uniforms

    u = _record_uniforms(net, Xq)
    assert u.shape == Xq.shape and u.min() >= 0 and u.max() < 1
    # roughly uniform per feature: each decile holds about a tenth
    hist = np.stack([np.histogram(u[:, j], bins=10, range=(0, 1))[0]
                     for j in range(u.shape[1])])
    assert np.abs(hist / len(Xq) - 0.1).max() < 0.03


def test_registered():
    assert isinstance(get_defence("hamp").build(max_epochs=2), HAMPClassifier)


def test_shadow_models_reloaded_from_the_cache_modify_outputs(tmp_path):
    # regression: the cache kept the weights but not the feature bounds the
    # output modification draws from, so reloaded shadows could not predict
    from wsmooth.attacks import fit_shadow_models

    X, y = tiny_data()
    kw = dict(n_shadow=2, random_state=0, cache_dir=tmp_path)
    first = fit_shadow_models(_make(0, max_epochs=1), X, y, **kw)
    again = fit_shadow_models(_make(0, max_epochs=1), X, y, **kw)
    assert again.n_trained == 0
    for a, b in zip(first.models, again.models):
        np.testing.assert_array_equal(a.feature_low_, b.feature_low_)
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
