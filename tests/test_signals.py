import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from wsmooth._signals import (
    SIGNALS,
    confidence,
    cross_entropy,
    entropy,
    logit_margin,
    logit_margin_from_log_proba,
    logit_scaled_confidence,
    modified_entropy,
    true_class_proba,
)

P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.0, 1.0, 0.0]])
Y = np.array([0, 1, 1])


def test_values_match_formulas():
    assert np.allclose(true_class_proba(P, Y), [0.7, 0.1, 1.0])
    assert np.allclose(confidence(P, Y), [0.7, 0.1, 1.0])
    assert np.allclose(cross_entropy(P, Y)[:2], -np.log([0.7, 0.1]))
    assert cross_entropy(P, Y)[2] == pytest.approx(0.0)
    h = -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1))
    assert entropy(P)[0] == pytest.approx(h)
    assert entropy(P)[2] == pytest.approx(0.0)
    # Song & Mittal: -(1-p_y) log p_y - sum_{k!=y} p_k log(1-p_k)
    m0 = -(0.3 * np.log(0.7)) - (0.2 * np.log(0.8) + 0.1 * np.log(0.9))
    m1 = -(0.9 * np.log(0.1)) - (0.1 * np.log(0.9) + 0.8 * np.log(0.2))
    assert np.allclose(modified_entropy(P, Y)[:2], [m0, m1])
    assert modified_entropy(P, Y)[2] == pytest.approx(0.0)
    assert logit_scaled_confidence(P, Y)[0] == pytest.approx(np.log(0.7 / 0.3))


def test_logit_confidence_is_stable_near_one():
    p = np.array([[1 - 1e-12, 5e-13, 5e-13]])
    got = logit_scaled_confidence(p, np.array([0]))[0]
    assert got == pytest.approx(np.log((1 - 1e-12) / 1e-12), rel=1e-6)
    # exact 0 and 1 stay finite
    assert np.all(np.isfinite(logit_scaled_confidence(P, Y)))


def test_leading_axes_broadcast():
    stacked = np.stack([P, P[::-1]])  # (2 models, 3 records, 3 classes)
    for name, (func, _) in SIGNALS.items():
        out = func(stacked, Y)
        assert out.shape == (2, 3), name
        assert np.allclose(out[0], func(P, Y)), name
        assert np.allclose(out[1], func(P[::-1], Y)), name


def test_label_shape_checked():
    with pytest.raises(ValueError, match="y must have shape"):
        confidence(P, np.array([0, 1]))


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, (6, 4), elements=st.floats(0, 1)),
    arrays(np.int64, 6, elements=st.integers(0, 3)),
)
def test_signals_finite_and_oriented(raw, y):
    proba = raw + 1e-3
    proba /= proba.sum(axis=1, keepdims=True)
    for name, (func, _) in SIGNALS.items():
        assert np.all(np.isfinite(func(proba, y))), name
    # raising the true-class mass (taken evenly from the others) never makes
    # the record look less like a member under any signal that uses the label
    boosted = proba.copy()
    mask = np.arange(4) == y[:, None]
    boosted = np.where(mask, 0.5 + 0.5 * proba, 0.5 * proba)
    for name in ("confidence", "loss", "mentr", "logit_confidence"):
        func, sign = SIGNALS[name]
        assert np.all(sign * func(boosted, y) >= sign * func(proba, y) - 1e-9), name


def test_logit_margin_is_the_hinge_score_of_the_logits():
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, 3.5], [-4.0, 1.0, 10.0]])
    y = np.array([0, 1, 0])
    # z_y - max_{k != y} z_k, by hand
    expected = np.array([2.0 - 0.5, 3.0 - 3.5, -4.0 - 10.0])
    log_proba = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(logit_margin_from_log_proba(log_proba, y), expected)
    np.testing.assert_allclose(logit_margin(np.exp(log_proba), y), expected)


def test_logit_margin_from_log_proba_unsaturated_and_finite():
    # a margin of 200 nats: float probabilities round p_y to 1 exactly
    log_proba = np.array([[0.0, -200.0, -250.0], [-np.inf, 0.0, -np.inf]])
    y = np.array([0, 0])
    margin = logit_margin_from_log_proba(log_proba, y)
    assert margin[0] == pytest.approx(200.0)
    assert np.isfinite(margin[1]) and margin[1] < -60  # exact zero read as EPS


def test_signal_names_and_aliases():
    from wsmooth._signals import SIGNAL_ALIASES, signal_name

    assert all(signal_name(name) == name for name in SIGNALS)
    assert signal_name("cross_entropy") == "loss"
    assert set(SIGNAL_ALIASES.values()) <= set(SIGNALS)
    with pytest.raises(ValueError, match="Unknown signal 'nope'"):
        signal_name("nope")


def test_smoothing_scores_are_the_signals():
    """The torch vulnerability scores of weighted smoothing compute the signals
    of the same names."""
    torch = pytest.importorskip("torch")
    from wsmooth import _smoothing as ws

    rng = np.random.default_rng(0)
    logits = rng.normal(scale=4.0, size=(50, 5))
    y = rng.integers(0, 5, size=50)
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    for name in ("mentr", "loss", "cross_entropy"):
        got = ws.vulnerability_scores(
            torch.tensor(logits), torch.tensor(y), score=name
        ).numpy()
        func, _ = SIGNALS[{"cross_entropy": "loss"}.get(name, name)]
        np.testing.assert_allclose(got, func(proba, y), rtol=1e-9, atol=1e-12)
    assert ws.LOG_FLOOR == 1e-30
    assert set(ws.SCORES) == {"mentr", "loss", "cross_entropy"}
