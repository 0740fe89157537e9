"""The WS math against an independent numpy transcription of the design note."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from wsmooth import _smoothing as ws


def _np_mentr(p, y):
    n, k = p.shape
    out = np.empty(n)
    for i in range(n):
        py = p[i, y[i]]
        s = -(1 - py) * np.log(max(py, 1e-30))
        for c in range(k):
            if c != y[i]:
                s -= p[i, c] * np.log(max(1 - p[i, c], 1e-30))
        out[i] = s
    return out


def _np_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _np_zscore(m, y):
    w = np.empty_like(m)
    for c in np.unique(y):
        sel = y == c
        w[sel] = (m[sel] - m[sel].mean()) / (m[sel].std() + math.exp(-20))
    return w


def _np_loss(z, y, w, sigma, e):
    p = _np_softmax(z)
    top = np.sort(p, axis=1)[:, ::-1]
    g = top[:, 0] - top[:, 1]
    pt = p + sigma * e * (g * (1 - w))[:, None]
    q = np.abs(pt) / np.abs(pt).sum(axis=1, keepdims=True)
    q = np.clip(q, math.exp(-36), 1)
    return np.mean(-np.log(q[np.arange(len(y)), y]))


@pytest.fixture
def toy():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=3, size=(9, 4))
    y = np.array([0, 1, 2, 3, 0, 1, 2, 0, 1])
    return z, y


def test_modified_entropy_matches_formula(toy):
    z, y = toy
    p = _np_softmax(z)
    got = ws.modified_entropy(torch.tensor(p), torch.tensor(y))
    np.testing.assert_allclose(got.numpy(), _np_mentr(p, y), rtol=1e-10)


def test_vulnerability_scores_clip_logits_at_cap(toy):
    z, y = toy
    z = z.copy()
    z[0, y[0]] = 500.0
    got = ws.vulnerability_scores(torch.tensor(z), torch.tensor(y))
    expected = _np_mentr(_np_softmax(np.minimum(z, 20.0)), y)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("score", ["mentr", "loss"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("largest", [3.0, 20.0, 21.0, float("nan")])
def test_scores_from_the_shared_softmax_are_the_scores_of_the_logits(
    score, dtype, largest
):
    # the softmax a training step shares gives the scores bit for bit, whether
    # or not a logit passes the cap (then the clipped softmax is taken)
    gen = torch.Generator().manual_seed(0)
    z = (3 * torch.randn(40, 7, generator=gen)).to(dtype).clamp(max=2.5)
    z[5, 2] = largest
    y = torch.randint(0, 7, (40,), generator=gen)
    got = ws.vulnerability_scores(z, y, score, probs=torch.softmax(z, dim=1))
    expected = ws.vulnerability_scores(z, y, score)
    assert torch.equal(got.isnan(), expected.isnan())
    assert torch.equal(got.nan_to_num(), expected.nan_to_num())
    assert got.dtype == dtype
    empty = torch.zeros(0, 7, dtype=dtype)
    assert ws.vulnerability_scores(
        empty, y[:0], score, probs=torch.softmax(empty, dim=1)
    ).shape == (0,)


def test_scores_never_read_a_softmax_of_logits_past_the_cap():
    z = torch.tensor([[0.0, 30.0, 1.0], [2.0, 0.0, 1.0]])
    y = torch.tensor([0, 0])
    wrong = torch.full((2, 3), 1.0 / 3)  # not even the logits' softmax
    assert torch.equal(
        ws.vulnerability_scores(z, y, probs=wrong), ws.vulnerability_scores(z, y)
    )


def test_cross_entropy_score(toy):
    z, y = toy
    p = _np_softmax(z)
    got = ws.cross_entropy_score(torch.tensor(p), torch.tensor(y))
    np.testing.assert_allclose(got.numpy(), -np.log(p[np.arange(9), y]), rtol=1e-10)


def test_zscore_per_class_is_population_standardisation(toy):
    _, y = toy
    m = np.random.default_rng(1).random(len(y))
    got = ws.zscore_per_class(torch.tensor(m), torch.tensor(y), 4)
    np.testing.assert_allclose(got.numpy(), _np_zscore(m, y), rtol=1e-10, atol=1e-12)


def test_minmax_per_class_spans_unit_interval(toy):
    _, y = toy
    m = np.random.default_rng(2).random(len(y))
    got = ws.minmax_per_class(torch.tensor(m), torch.tensor(y), 5).numpy()
    for c in range(4):
        sel = y == c
        if sel.sum() > 1:
            np.testing.assert_allclose(
                [got[sel].min(), got[sel].max()], [0, 1], atol=1e-8
            )
        np.testing.assert_allclose(
            got[sel], (m[sel] - m[sel].min()) / (np.ptp(m[sel]) + math.exp(-20))
        )


def test_clipped_zscore_gives_the_hardest_records_no_noise(toy):
    _, y = toy
    m = np.random.default_rng(3).random(len(y))
    m[0] = 50.0  # far above its class: z well over 1
    labels = torch.tensor(y)
    w = ws.vulnerability_weights(torch.tensor(m), labels, 4, "zscore_clipped")
    z = ws.zscore_per_class(torch.tensor(m), labels, 4)
    assert z[0] > 1 and w[0] == 1.0
    np.testing.assert_array_equal(w.numpy(), np.minimum(z.numpy(), 1.0))
    # multiplier 1 - w: zero noise on that record, reference noise elsewhere
    probs = torch.softmax(torch.randn(len(y), 4, dtype=torch.float64), dim=1)
    noise = torch.randn(len(y), 4, dtype=torch.float64)
    margin = ws.prediction_margin(probs)
    out = ws.perturb_probabilities(probs, noise, margin, w)
    assert torch.equal(out[0], probs[0])


def test_uniform_weighting_is_zero(toy):
    _, y = toy
    m = torch.rand(len(y), dtype=torch.float64)
    assert torch.equal(
        ws.vulnerability_weights(m, torch.tensor(y), 4, "uniform"), torch.zeros_like(m)
    )


@pytest.mark.parametrize("weighting", ["zscore", "zscore_clipped", "minmax", "uniform"])
def test_weights_against_own_statistics_are_the_refresh_weights(toy, weighting):
    _, y = toy
    m = torch.tensor(np.random.default_rng(6).random(len(y)))
    labels = torch.tensor(y)
    stats = ws.class_statistics(m, labels, 4, weighting)
    got = ws.weights_from_statistics(m, labels, stats, weighting)
    expected = ws.vulnerability_weights(m, labels, 4, weighting)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("weighting", ["zscore", "zscore_clipped", "minmax"])
def test_weights_from_statistics_is_the_indexed_formula(weighting):
    gen = torch.Generator().manual_seed(2)
    earlier, now = torch.randn(60, generator=gen), torch.randn(60, generator=gen)
    labels = torch.randint(0, 5, (60,), generator=gen)
    centre, spread = ws.class_statistics(earlier, labels, 5, weighting)
    expected = (now - centre[labels]) / spread[labels]
    expected = {"zscore_clipped": expected.clamp(max=1.0),
                "minmax": expected.clamp(0.0, 1.0)}.get(weighting, expected)
    got = ws.weights_from_statistics(now, labels, (centre, spread), weighting)
    assert torch.equal(got, expected)
    assert got.std() > 0


def test_weights_against_earlier_statistics():
    earlier = torch.tensor([1.0, 3.0, 10.0, 20.0], dtype=torch.float64)
    labels = torch.tensor([0, 0, 1, 1])
    now = torch.tensor([2.0, 5.0, 0.0, 40.0], dtype=torch.float64)
    stats = ws.class_statistics(earlier, labels, 2, "zscore")
    # class 0: mean 2, std 1; class 1: mean 15, std 5
    torch.testing.assert_close(
        ws.weights_from_statistics(now, labels, stats, "zscore"),
        torch.tensor([0.0, 3.0, -3.0, 5.0], dtype=torch.float64),
    )
    clipped = ws.class_statistics(earlier, labels, 2, "zscore_clipped")
    assert ws.weights_from_statistics(now, labels, clipped, "zscore_clipped").max() == 1
    # min-max: a record past its class's earlier range is clipped into [0, 1]
    mm = ws.class_statistics(earlier, labels, 2, "minmax")
    w = ws.weights_from_statistics(now, labels, mm, "minmax")
    assert w.min() == 0 and w.max() == 1
    with pytest.raises(ValueError, match="weighting"):
        ws.class_statistics(earlier, labels, 2, "bogus")


def test_unknown_variants_are_rejected():
    with pytest.raises(ValueError, match="weighting"):
        ws.vulnerability_weights(
            torch.zeros(2), torch.zeros(2, dtype=torch.long), 2, "bogus"
        )
    with pytest.raises(ValueError, match="score"):
        ws.vulnerability_scores(
            torch.zeros(2, 2), torch.zeros(2, dtype=torch.long), "bogus"
        )


def test_margin_has_no_gradient():
    p = torch.softmax(torch.randn(5, 3, requires_grad=True), dim=1)
    g = ws.prediction_margin(p)
    assert not g.requires_grad
    assert torch.all(g >= 0)


@pytest.mark.parametrize("sigma", [0.0, 0.1, 2.0])
def test_noisy_loss_equals_design_note(toy, sigma):
    z, y = toy
    rng = np.random.default_rng(3)
    w = rng.normal(size=len(y))
    e = rng.normal(size=z.shape)
    got = ws.noisy_nll_loss(
        torch.tensor(z), torch.tensor(y), torch.tensor(w), sigma, noise=torch.tensor(e)
    )
    assert got.item() == pytest.approx(_np_loss(z, y, w, sigma, e), rel=1e-10)


def test_noisy_loss_backpropagates_through_probabilities(toy):
    z, y = toy
    logits = torch.tensor(z, requires_grad=True)
    loss = ws.noisy_nll_loss(
        logits,
        torch.tensor(y),
        torch.zeros(len(y)),
        0.5,
        generator=torch.Generator().manual_seed(0),
    )
    loss.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_noise_scale_vanishes_at_unit_weight(toy):
    z, y = toy
    w = torch.ones(len(y), dtype=torch.float64)
    noisy = ws.noisy_nll_loss(
        torch.tensor(z),
        torch.tensor(y),
        w,
        5.0,
        noise=torch.randn(z.shape, dtype=torch.float64),
    )
    clean = ws.noisy_nll_loss(torch.tensor(z), torch.tensor(y), w, 0.0)
    assert noisy.item() == pytest.approx(clean.item(), rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    logits=arrays(
        np.float32,
        st.tuples(st.integers(1, 6), st.integers(2, 7)),
        elements=st.floats(-1e4, 1e4, width=32),
    ),
    sigma=st.floats(0, 1e3),
    weight=st.floats(-50, 50),
    seed=st.integers(0, 2**31 - 1),
)
def test_projection_is_finite_and_on_simplex(logits, sigma, weight, seed):
    z = torch.tensor(logits)
    p = torch.softmax(z, dim=1)
    gen = torch.Generator().manual_seed(seed)
    noise = sigma * torch.randn(p.shape, generator=gen)
    w = torch.full((p.shape[0],), weight)
    q = ws.project_to_simplex(
        ws.perturb_probabilities(p, noise, ws.prediction_margin(p), w)
    )
    assert torch.isfinite(q).all()
    assert (q >= ws.PROB_FLOOR).all() and (q <= 1).all()
    assert torch.allclose(q.sum(dim=1), torch.ones(q.shape[0]), atol=1e-5)
    y = torch.zeros(p.shape[0], dtype=torch.long)
    assert torch.isfinite(ws.noisy_nll_loss(z, y, w, sigma, generator=gen))


def test_projection_of_zero_row_is_uniform():
    q = ws.project_to_simplex(torch.zeros(1, 4))
    assert torch.allclose(q, torch.full((1, 4), 0.25))


def test_non_finite_logits_give_a_non_finite_loss():
    # a diverged model must not read as a uniform prediction (loss log K)
    logits = torch.tensor([[0.0, 1.0, 2.0], [float("nan"), 0.0, 0.0]])
    labels = torch.tensor([0, 1])
    loss = ws.noisy_nll_loss(
        logits, labels, torch.zeros(2), 0.5, generator=torch.Generator().manual_seed(0)
    )
    assert not torch.isfinite(loss)
    assert torch.isnan(ws.project_to_simplex(torch.full((1, 3), float("nan")))).all()


def _true_class_mass(n_classes, stds, p_true=0.9, n=20_000, seed=0):
    """Monte-Carlo mean of the projected true-class entry |p_y + e_y| / sum |p + e|
    for a confident prediction (the rest of the mass spread evenly); ``stds`` is
    (true class's std, others' std)."""
    gen = torch.Generator().manual_seed(seed)
    p = torch.full((n, n_classes), (1 - p_true) / (n_classes - 1), dtype=torch.float64)
    p[:, 0] = p_true
    std = torch.full((n_classes,), stds[1], dtype=torch.float64)
    std[0] = stds[0]
    a = (p + std * torch.randn(p.shape, generator=gen, dtype=torch.float64)).abs()
    return (a[:, 0] / a.sum(dim=1)).mean().item()


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("scale", ["class_invariant", "split"])
def test_invariant_scales_keep_the_true_class_mass(sigma, scale):
    def mass(k, scale):
        return _true_class_mass(k, ws.class_noise_std(sigma, k, scale))

    assert mass(10, scale) == pytest.approx(mass(100, scale), abs=0.01)
    # the reference scale is what the options correct: 100 classes drown the
    # true class far more than 10 do
    assert mass(100, "reference") < 0.5 * mass(10, "reference")


def test_class_noise_std():
    assert ws.class_noise_std(0.3, 2, "class_invariant") == (0.3, 0.3)
    assert ws.class_noise_std(0.3, 2, "split") == (0.3, 0.3)
    assert ws.class_noise_std(0.3, 100, "reference") == (0.3, 0.3)
    true, other = ws.class_noise_std(0.3, 101, "class_invariant")
    assert (true, other) == (pytest.approx(0.003), pytest.approx(0.003))
    true, other = ws.class_noise_std(0.3, 101, "split")
    assert (true, other) == (0.3, pytest.approx(0.003))
    with pytest.raises(ValueError, match="noise_scale"):
        ws.class_noise_std(0.3, 10, "bogus")


def test_off_class_sigma_scales_only_the_other_classes(toy):
    z, y = toy
    rng = np.random.default_rng(5)
    w = rng.normal(size=len(y))
    e = rng.normal(size=z.shape)
    sigma, off = 0.4, 0.1
    # transcription: the true class's draws keep sigma, the others' get off
    std = np.full(e.shape, off)
    std[np.arange(len(y)), y] = sigma
    args = torch.tensor(z), torch.tensor(y), torch.tensor(w)
    got = ws.noisy_nll_loss(*args, sigma, noise=torch.tensor(e), off_class_sigma=off)
    assert got.item() == pytest.approx(_np_loss(z, y, w, 1.0, e * std), rel=1e-10)
    # equal stds give the reference value
    same = ws.noisy_nll_loss(*args, sigma, noise=torch.tensor(e), off_class_sigma=sigma)
    assert same.item() == ws.noisy_nll_loss(*args, sigma, noise=torch.tensor(e)).item()


def test_huberised_nll_is_the_log_above_and_its_tangent_below():
    q = torch.tensor([1e-9, 0.01, 0.05, 0.1, 0.5, 1.0], dtype=torch.float64,
                     requires_grad=True)
    t = 0.1
    loss = ws.huberised_nll(q, t)
    expected = [-np.log(t) + 1 - v / t if v < t else -np.log(v)
                for v in q.detach().numpy()]
    np.testing.assert_allclose(loss.detach().numpy(), expected, rtol=1e-12)
    loss.sum().backward()
    # the slope never exceeds 1 / t, and equals -1 / q above t
    assert (q.grad.abs() <= 1 / t + 1e-12).all()
    np.testing.assert_allclose(q.grad[3:].numpy(), -1 / q.detach()[3:].numpy())


def test_huber_bounds_each_records_gradient():
    # one record's noisy true-class entry lands next to zero: under the
    # reference loss its gradient dwarfs the others'; Huberised, it is bounded
    logits = torch.tensor([[3.0, 0.0, 0.0], [3.0, 0.0, 0.0]], dtype=torch.float64,
                          requires_grad=True)
    labels = torch.tensor([0, 0])
    probs = torch.softmax(logits.detach(), 1)
    margin = (probs[0, 0] - probs[0, 1]).item()
    e = np.zeros((2, 3))
    e[0, 0] = -(probs[0, 0].item() - 1e-9) / margin  # p_y + e_y = 1e-9
    e[1, 0] = 0.1 / margin
    grads = {}
    for huber in (None, 1.0):
        logits.grad = None
        ws.noisy_nll_loss(logits, labels, torch.zeros(2), 1.0,
                          noise=torch.tensor(e), huber=huber).backward()
        grads[huber] = logits.grad.norm(dim=1)
    assert grads[None][0] > 1e6 * grads[None][1]
    # threshold 1/3: the slope in q is at most 3, and q moves less than z
    assert grads[1.0][0] < 6.0


def _autograd_loss(z, y, w, sigma, e, huber=None, off_class_sigma=None):
    """The loss by autograd through the step-by-step functions: the reference
    for the closed-form gradient of noisy_nll_loss."""
    p = torch.softmax(z, dim=1)
    std = torch.full_like(p, sigma if off_class_sigma is None else off_class_sigma)
    std.scatter_(1, y.view(-1, 1), sigma)
    v = ws.perturb_probabilities(p, e * std, ws.prediction_margin(p), w)
    q = ws.project_to_simplex(v).gather(1, y.view(-1, 1)).squeeze(1)
    if huber is not None:
        return ws.huberised_nll(q, min(1.0, huber / z.shape[1])).mean()
    return -torch.log(q).mean()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("weighting", ws.WEIGHTINGS)
@pytest.mark.parametrize("huber", [None, 1.0, 0.2])
@pytest.mark.parametrize(
    "n_classes, sigma, off_class_sigma",
    [(2, 0.1, None), (10, 0.5, None), (10, 3.0, 0.3), (100, 0.1, None),
     (100, 1.0, 0.01)],
)
def test_closed_form_gradient_equals_autograd(
    dtype, weighting, huber, n_classes, sigma, off_class_sigma
):
    gen = torch.Generator().manual_seed(n_classes)
    n = 64
    z = (4 * torch.randn(n, n_classes, generator=gen, dtype=dtype)).requires_grad_()
    y = torch.randint(0, n_classes, (n,), generator=gen)
    scores = ws.vulnerability_scores(z.detach(), y)
    w = ws.vulnerability_weights(scores, y, n_classes, weighting)
    e = torch.randn(n, n_classes, generator=gen, dtype=dtype)
    args = (y, w, sigma)
    kwargs = dict(huber=huber, off_class_sigma=off_class_sigma)
    loss = ws.noisy_nll_loss(z, *args, noise=e, **kwargs)
    (grad,) = torch.autograd.grad(loss, z)
    ref = _autograd_loss(z, y, w, sigma, e, **kwargs)
    (ref_grad,) = torch.autograd.grad(ref, z)
    rtol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(loss, ref, rtol=rtol, atol=0)
    # relative to the largest entry: entries that cancel to ~0 carry rounding
    scale = ref_grad.abs().max()
    assert ((grad - ref_grad).abs().max() / scale).item() < rtol
    assert grad.abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("huber", [None, 0.5])
def test_shared_softmax_gives_the_same_loss_and_gradient(dtype, huber):
    # the live refresh hands the loss the softmax it scored the batch with:
    # the same noise draws, loss and gradient to the last bit
    gen = torch.Generator().manual_seed(4)
    z = (4 * torch.randn(64, 30, generator=gen, dtype=dtype)).requires_grad_()
    y = torch.randint(0, 30, (64,), generator=gen)
    w = torch.randn(64, generator=gen, dtype=dtype).clamp(max=1.0)
    results = []
    for probs in (None, torch.softmax(z.detach(), dim=1)):
        loss = ws.noisy_nll_loss(
            z, y, w, 0.4, generator=torch.Generator().manual_seed(9), huber=huber,
            off_class_sigma=0.1, probs=probs,
        )
        results.append((loss.detach(), *torch.autograd.grad(loss, z)))
    (loss, grad), (shared_loss, shared_grad) = results
    assert torch.equal(loss, shared_loss) and torch.equal(grad, shared_grad)
    assert grad.abs().sum() > 0


@pytest.mark.parametrize("huber", [None, 1.0])
def test_closed_form_gradient_passes_gradcheck(huber):
    # the margin carries no gradient by design, so the numerical derivative
    # sees it through the noise scale; dividing the draws by it (no gradient)
    # leaves a function whose true derivative is the closed form's
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(6, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 1, 2, 3, 4, 0])
    w = torch.randn(6, generator=gen, dtype=torch.float64)
    e = torch.randn(6, 5, generator=gen, dtype=torch.float64)

    def loss(z):
        margin = ws.prediction_margin(torch.softmax(z, dim=1)).unsqueeze(1)
        return ws.noisy_nll_loss(z, y, w, 0.7, noise=e / margin, huber=huber)

    assert torch.autograd.gradcheck(loss, (z,))


def test_noise_is_the_generators_standard_normal_draw(toy):
    z, y = toy
    args = torch.tensor(z, dtype=torch.float32), torch.tensor(y), torch.zeros(len(y))
    drawn = ws.noisy_nll_loss(
        *args, 0.5, generator=torch.Generator().manual_seed(7)
    )
    noise = torch.randn(z.shape, generator=torch.Generator().manual_seed(7))
    assert drawn.item() == ws.noisy_nll_loss(*args, 0.5, noise=noise).item()


def test_zero_row_reads_uniform_and_moves_nothing():
    # the first row's probabilities are exactly (1, 0, 0), its margin 1, and
    # its noise cancels them: p + e * g * (1 - w) is exactly 0
    z = torch.tensor([[0.0, -1e3, -1e3], [0.0, 0.7, 1.6]], dtype=torch.float64,
                     requires_grad=True)
    y = torch.tensor([0, 2])
    e = torch.tensor([[-1.0, 0.0, 0.0], [0.3, 0.3, 0.3]], dtype=torch.float64)
    loss = ws.noisy_nll_loss(z, y, torch.zeros(2, dtype=torch.float64), 1.0, noise=e)
    loss.backward()
    second = _autograd_loss(
        z.detach()[1:], y[1:], torch.zeros(1, dtype=torch.float64), 1.0, e[1:]
    )
    assert loss.item() == pytest.approx((math.log(3) + second.item()) / 2, rel=1e-12)
    assert (z.grad[0] == 0).all()
    assert torch.isfinite(z.grad).all() and z.grad[1].abs().sum() > 0


def test_nan_row_gets_a_nan_gradient_and_leaves_the_others():
    z = torch.tensor([[0.0, 1.0, 2.0], [float("nan"), 0.0, 0.0]], requires_grad=True)
    loss = ws.noisy_nll_loss(
        z, torch.tensor([0, 1]), torch.zeros(2), 0.5,
        generator=torch.Generator().manual_seed(0),
    )
    loss.backward()
    assert torch.isnan(loss)
    assert torch.isnan(z.grad[1]).all() and torch.isfinite(z.grad[0]).all()
