"""The weighted-smoothing math, one plain torch function per step.

Nothing here knows about skorch or scikit-learn: every function takes and returns
tensors, works on a whole batch at once (no loop over records or classes), and can
be tested on its own. The steps and constants follow the reference training loop of
Tan et al., "Mitigating Membership Inference Attacks via Weighted Smoothing"
(ACSAC 2023); see the user guide for the derivation.

The vulnerability scores are membership signals of :mod:`wsmooth._signals`,
named as there (``"mentr"``, ``"loss"``) and floored alike (:data:`LOG_FLOOR`
is its ``EPS``): :func:`modified_entropy` and :func:`cross_entropy_score` are
the torch versions of its numpy :func:`~wsmooth._signals.modified_entropy`
and :func:`~wsmooth._signals.cross_entropy`, run on the training device.
"""

import math

import torch

from ._signals import EPS, SIGNAL_ALIASES, signal_name

__all__ = [
    "LOGIT_CAP",
    "LOG_FLOOR",
    "STD_EPS",
    "PROB_FLOOR",
    "SCORES",
    "WEIGHTINGS",
    "modified_entropy",
    "cross_entropy_score",
    "vulnerability_scores",
    "zscore_per_class",
    "minmax_per_class",
    "vulnerability_weights",
    "class_statistics",
    "weights_from_statistics",
    "prediction_margin",
    "perturb_probabilities",
    "project_to_simplex",
    "huberised_nll",
    "noisy_nll_loss",
    "NOISE_SCALES",
    "class_noise_std",
]

#: Logits are clipped from above at this value before the vulnerability score.
LOGIT_CAP = 20.0
#: Probabilities are floored at this value inside the logarithms of the scores
#: (the signals' ``EPS``, 1e-30).
LOG_FLOOR = EPS
#: Added to the per-class standard deviation when standardising scores.
STD_EPS = math.exp(-20)
#: Lower clip of the projected probabilities before the negative log-likelihood.
PROB_FLOOR = math.exp(-36)

#: The vulnerability scores: signals of :data:`wsmooth._signals.SIGNALS`, and
#: ``"cross_entropy"``, the alias of ``"loss"`` that earlier versions took.
SCORES = ("mentr", "loss", *SIGNAL_ALIASES)
WEIGHTINGS = ("zscore", "zscore_clipped", "minmax", "uniform")
NOISE_SCALES = ("reference", "class_invariant", "split")


def _true_class(values, labels):
    return values.gather(1, labels.view(-1, 1)).squeeze(1)


def modified_entropy(probs, labels, floor=LOG_FLOOR):
    """Modified prediction entropy of Song & Mittal (USENIX Security 2021).

    ``m = -(1 - p_y) log p_y - sum_{k != y} p_k log(1 - p_k)``, probabilities
    floored at ``floor`` inside the logarithms. Low values mean the record is
    confidently and correctly predicted. The signal ``"mentr"``: the torch
    version of :func:`wsmooth._signals.modified_entropy`.

    Parameters
    ----------
    probs : Tensor of shape (n, K)
        Rows on the probability simplex.
    labels : LongTensor of shape (n,)
        True class indices.
    floor : float
        Lower bound applied inside each logarithm.

    Returns
    -------
    Tensor of shape (n,)
    """
    labels = labels.view(-1, 1)
    p_true = probs.gather(1, labels)
    # p_k log(1 - p_k) for every class, in place (a training step scores its
    # batch with this); the true class's term is then taken out
    terms = (1.0 - probs).clamp_(min=floor).log_().mul_(probs)
    others = terms.sum(dim=1, keepdim=True) - terms.gather(1, labels)
    log_true = p_true.clamp(min=floor).log_()
    return ((p_true - 1.0) * log_true - others).squeeze(1)


def cross_entropy_score(probs, labels, floor=LOG_FLOOR):
    """Cross-entropy ``-log p_y`` of each record, floored at ``floor``.

    The signal ``"loss"``: the torch version of
    :func:`wsmooth._signals.cross_entropy`.

    Parameters
    ----------
    probs : Tensor of shape (n, K)
    labels : LongTensor of shape (n,)
    floor : float

    Returns
    -------
    Tensor of shape (n,)
    """
    return -torch.log(torch.clamp(_true_class(probs, labels), min=floor))


def vulnerability_scores(logits, labels, score="mentr", logit_cap=LOGIT_CAP,
                         probs=None):
    """Per-record vulnerability score from a model's logits (step 1 of the algorithm).

    Logits are clipped from above at ``logit_cap``, turned into probabilities
    with a softmax, then scored. Computed without gradient.

    Parameters
    ----------
    logits : Tensor of shape (n, K)
    labels : LongTensor of shape (n,)
    score : {"mentr", "loss"}
        The signal (``"cross_entropy"`` is taken for ``"loss"``).
    logit_cap : float
    probs : Tensor of shape (n, K), optional
        ``torch.softmax(logits, dim=1)``, when the caller has it already (a
        training step shares it with :func:`noisy_nll_loss`). On the CPU, when
        no logit exceeds ``logit_cap`` (the clip then changes nothing), the
        scores are taken from it instead of a second softmax: the same values
        to the last bit.

    Returns
    -------
    Tensor of shape (n,)
    """
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}")
    with torch.no_grad():
        probs = _capped_softmax(logits, logit_cap, probs)
        if signal_name(score) == "mentr":
            return modified_entropy(probs, labels)
        return cross_entropy_score(probs, labels)


def _capped_softmax(logits, logit_cap, probs=None):
    """``softmax(clamp(logits, max=logit_cap))``, or ``probs`` (the softmax of
    the unclipped logits) where the clip would change nothing."""
    # reading the largest logit synchronises a GPU, so off the CPU the clipped
    # softmax is always taken; NaN compares False and is NaN either way
    if (
        probs is not None
        and logits.device.type == "cpu"
        and (logits.numel() == 0 or not bool(logits.amax() > logit_cap))
    ):
        return probs
    return torch.softmax(torch.clamp(logits, max=logit_cap), dim=1)


def _class_counts(labels, n_classes, dtype):
    counts = torch.zeros(n_classes, dtype=dtype, device=labels.device)
    return counts.index_add_(0, labels, torch.ones_like(labels, dtype=dtype))


def zscore_per_class(scores, labels, n_classes, eps=STD_EPS):
    """Standardise scores within each class: ``(m - mean_c) / (std_c + eps)``.

    The standard deviation is the population one (divides by the class count).

    Parameters
    ----------
    scores : Tensor of shape (n,)
    labels : LongTensor of shape (n,)
    n_classes : int
    eps : float

    Returns
    -------
    Tensor of shape (n,)
    """
    mean, spread = class_statistics(scores, labels, n_classes, "zscore", eps)
    return (scores - mean[labels]) / spread[labels]


def minmax_per_class(scores, labels, n_classes, eps=STD_EPS):
    """Rescale scores into [0, 1] within each class (min-max).

    The most confidently fitted record of a class gets 0 (the most noise), the
    most isolated or hardest gets 1 (no noise).

    Parameters
    ----------
    scores : Tensor of shape (n,)
    labels : LongTensor of shape (n,)
    n_classes : int
    eps : float

    Returns
    -------
    Tensor of shape (n,)
    """
    low, spread = class_statistics(scores, labels, n_classes, "minmax", eps)
    return (scores - low[labels]) / spread[labels]


def vulnerability_weights(scores, labels, n_classes, weighting="zscore"):
    """Turn vulnerability scores into per-record weights ``w``.

    Parameters
    ----------
    scores : Tensor of shape (n,)
    labels : LongTensor of shape (n,)
    n_classes : int
    weighting : {"zscore", "zscore_clipped", "minmax", "uniform"}
        ``"zscore"`` is the reference; ``"zscore_clipped"`` the same capped
        at 1, so that the noise multiplier ``1 - w`` stays >= 0 and the
        hardest records get none instead of more; ``"uniform"`` returns zeros
        (plain smoothing noise, the ablation without weighting).

    Returns
    -------
    Tensor of shape (n,)
    """
    if weighting == "zscore":
        return zscore_per_class(scores, labels, n_classes)
    if weighting == "zscore_clipped":
        return zscore_per_class(scores, labels, n_classes).clamp(max=1.0)
    if weighting == "minmax":
        return minmax_per_class(scores, labels, n_classes)
    if weighting == "uniform":
        return torch.zeros_like(scores)
    raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")


def class_statistics(scores, labels, n_classes, weighting="zscore", eps=STD_EPS):
    """Per-class centre and spread that :func:`weights_from_statistics` applies.

    Mean and population standard deviation (plus ``eps``) for the z-score
    weightings, minimum and range (plus ``eps``) for ``"minmax"``; ``None`` for
    ``"uniform"``.

    Parameters
    ----------
    scores : Tensor of shape (n,)
    labels : LongTensor of shape (n,)
    n_classes : int
    weighting : {"zscore", "zscore_clipped", "minmax", "uniform"}
    eps : float

    Returns
    -------
    (centre, spread) : pair of Tensors of shape (n_classes,), or None
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    if weighting == "uniform":
        return None
    if weighting == "minmax":
        fill = torch.full(
            (n_classes,), float("inf"), dtype=scores.dtype, device=scores.device
        )
        low = fill.scatter_reduce(0, labels, scores, reduce="amin")
        high = (-fill).scatter_reduce(0, labels, scores, reduce="amax")
        return low, high - low + eps
    counts = _class_counts(labels, n_classes, scores.dtype).clamp(min=1)
    zeros = torch.zeros(n_classes, dtype=scores.dtype, device=scores.device)
    mean = zeros.index_add(0, labels, scores) / counts
    centred = scores - mean[labels]
    std = torch.sqrt(zeros.index_add(0, labels, centred * centred) / counts)
    return mean, std + eps


def weights_from_statistics(scores, labels, statistics, weighting="zscore"):
    """Weights of records scored now against class statistics taken earlier.

    What ``refresh="live"`` uses: each record's score comes from the current
    model, its class's centre and spread from :func:`class_statistics` of an
    earlier set of scores. ``"minmax"`` weights are clipped into [0, 1] and
    ``"zscore_clipped"`` ones at 1, as they would be against their own class.

    Parameters
    ----------
    scores : Tensor of shape (n,)
    labels : LongTensor of shape (n,)
    statistics : pair of Tensors of shape (n_classes,), or None
    weighting : {"zscore", "zscore_clipped", "minmax", "uniform"}

    Returns
    -------
    Tensor of shape (n,)
    """
    if weighting == "uniform":
        return torch.zeros_like(scores)
    centre, spread = statistics
    # index_select: the values of centre[labels], without Python indexing
    weights = torch.sub(scores, centre.index_select(0, labels))
    weights.div_(spread.index_select(0, labels))
    if weighting == "zscore_clipped":
        return weights.clamp_(max=1.0)
    if weighting == "minmax":
        return weights.clamp_(0.0, 1.0)
    return weights


def prediction_margin(probs):
    """Gap between the largest and second-largest probability, without gradient.

    Parameters
    ----------
    probs : Tensor of shape (n, K), K >= 2

    Returns
    -------
    Tensor of shape (n,)
    """
    return _margin(probs.detach()).squeeze(1)


def _margin(probs):
    # max, then the max with the winner masked: same values as topk(2) (a tie
    # gives 0 either way) at two thirds of its cost on the CPU
    top, winner = probs.max(dim=1, keepdim=True)
    return top - probs.scatter(1, winner, -1.0).amax(dim=1, keepdim=True)


def perturb_probabilities(probs, noise, margin, weights):
    """Add record-scaled noise: ``p + e * g * (1 - w)`` (step 2.4 of the algorithm).

    Parameters
    ----------
    probs : Tensor of shape (n, K)
    noise : Tensor of shape (n, K)
        Draws of N(0, sigma^2).
    margin : Tensor of shape (n,)
    weights : Tensor of shape (n,)

    Returns
    -------
    Tensor of shape (n, K)
    """
    return probs + noise * (margin * (1.0 - weights)).unsqueeze(1)


def project_to_simplex(values, floor=PROB_FLOOR):
    """Map perturbed rows back onto the simplex: ``|v| / sum |v|``, clipped.

    Each entry is then clipped to ``[floor, 1]``, so the result is always finite
    and strictly positive for finite input. A row that is entirely zero becomes
    uniform; a row holding NaN stays NaN.

    Parameters
    ----------
    values : Tensor of shape (n, K)
    floor : float

    Returns
    -------
    Tensor of shape (n, K)
    """
    magnitude = values.abs()
    total = magnitude.sum(dim=1, keepdim=True)
    # An all-zero row cannot come from a softmax plus continuous noise, but a
    # guard keeps the division finite for any finite input. A NaN row stays NaN,
    # so that a diverged model shows in the loss instead of reading log K.
    uniform = torch.full_like(magnitude, 1.0 / magnitude.shape[1])
    projected = torch.where(total == 0, uniform, magnitude / total.clamp(min=1e-300))
    return torch.clamp(projected, min=floor, max=1.0)


def class_noise_std(sigma, n_classes, noise_scale="reference"):
    """Noise standard deviations for a noise weight: the true class's and the others'.

    ``"reference"`` draws every class's noise with std ``sigma`` (Tan et al.).
    The projection divides by the summed magnitudes of all K entries, and for a
    confident prediction the K - 1 wrong classes hold almost no probability, so
    the noise mass the true class competes with is about
    ``(K - 1) * sigma * sqrt(2 / pi)`` times the record's scale: the same
    ``sigma`` is K times stronger on 100 classes than on 10.
    ``"class_invariant"`` divides every class's std by ``K - 1``, which keeps
    that expected mass (an L1 quantity, hence ``K - 1`` and not ``sqrt(K)``)
    independent of K, but also shrinks the true class's own noise K-fold.
    ``"split"`` divides only the other classes' std by ``K - 1``: both the
    true-class entry's own noise and the mass it competes with are then
    independent of K. All three agree on 2 classes.

    Parameters
    ----------
    sigma : float
    n_classes : int, >= 2
    noise_scale : {"reference", "class_invariant", "split"}

    Returns
    -------
    true_std, other_std : float
        Std of the true class's noise and of every other class's.
    """
    if noise_scale == "reference":
        return sigma, sigma
    if noise_scale == "class_invariant":
        return sigma / (n_classes - 1), sigma / (n_classes - 1)
    if noise_scale == "split":
        return sigma, sigma / (n_classes - 1)
    raise ValueError(
        f"noise_scale must be one of {NOISE_SCALES}, got {noise_scale!r}"
    )


def huberised_nll(q, threshold):
    """``-log q``, continued linearly below ``threshold``.

    The partially Huberised negative log-likelihood of Menon et al., "Can
    gradient clipping mitigate label noise?" (ICLR 2020): equal to ``-log q``
    for ``q >= threshold`` and to its tangent there,
    ``-log(threshold) + 1 - q / threshold``, below, so that its derivative in
    ``q`` never exceeds ``1 / threshold`` in magnitude: a per-record bound on
    the gradient, which global gradient-norm clipping cannot give.

    Parameters
    ----------
    q : Tensor
        Probabilities in (0, 1].
    threshold : float in (0, 1]

    Returns
    -------
    Tensor of the shape of ``q``
    """
    linear = (1.0 - math.log(threshold)) - q / threshold
    return torch.where(q >= threshold, -torch.log(q.clamp(min=threshold)), linear)


def _noise_scale(probs, labels, weights, sigma, off_class_sigma):
    """The noise's per-record scale ``g * (1 - w)`` times its std: shape (n, 1)
    when every class has std ``sigma``, (n, K) when the others' differ."""
    if weights.dtype != probs.dtype:
        weights = weights.to(probs.dtype)
    scale = _margin(probs) * (1.0 - weights).unsqueeze(1)
    if off_class_sigma is None or off_class_sigma == sigma:
        return scale * sigma
    std = torch.full_like(probs, off_class_sigma)
    return scale * std.scatter_(1, labels.view(-1, 1), sigma)


class _NoisyProjectedNLL(torch.autograd.Function):
    """The noisy projected NLL with its gradient in the logits worked out by hand.

    With ``p = softmax(z)``, ``v = p + e * s`` (``s`` without gradient),
    ``T = sum_k |v_k|``, ``q = |v_y| / T`` and the loss ``mean_i l(q_i)``::

        dl/dp_k = l'(q) sign(v_k) (1[k = y] - q) / T,
        dl/dz   = p * (h - <h, p>)     for h = dl/dp (the softmax's Jacobian).

    Autograd would keep a dozen intermediates and run one backward kernel per
    forward operation; this keeps ``p`` and ``v`` and runs six K-wide kernels.
    The forward is the same sequence of operations as the composition
    :func:`perturb_probabilities`, :func:`project_to_simplex`, ``-log``, so the
    loss is the same to the last bit and the noise the same draws. Rows the
    clip to ``[PROB_FLOOR, 1]`` holds, and all-zero rows (projected to
    uniform), get no gradient; a NaN row keeps a NaN one.
    """

    @staticmethod
    def forward(ctx, logits, labels, weights, noise, sigma, off_class_sigma, huber,
                generator, probs):
        if probs is None:
            probs = torch.softmax(logits, dim=1)
        if noise is None:
            noise = torch.randn(
                probs.shape, dtype=probs.dtype, device=probs.device,
                generator=generator,
            )
        scale = _noise_scale(probs, labels, weights, sigma, off_class_sigma)
        values = torch.addcmul(probs, noise, scale)
        total = values.abs().sum(dim=1, keepdim=True)
        labels = labels.view(-1, 1)
        signed_true = values.gather(1, labels)
        # an all-zero row (0 / 0) projects to uniform, as in project_to_simplex;
        # a NaN row stays NaN
        zero = total == 0
        raw = signed_true.abs().div_(total).masked_fill_(zero, 1.0 / values.shape[1])
        projected = torch.clamp(raw, min=PROB_FLOOR, max=1.0)
        if huber is not None:
            threshold = min(1.0, huber / values.shape[1])
            loss = huberised_nll(projected, threshold).mean()
        else:
            threshold = None
            loss = -torch.log(projected).mean()
        ctx.threshold = threshold
        ctx.save_for_backward(probs, values, labels, signed_true, total, raw, zero)
        return loss

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        probs, values, labels, signed_true, total, raw, zero = ctx.saved_tensors
        # slope -1/q, or -1/threshold below the Huber threshold; nothing where
        # the clip to [PROB_FLOOR, 1] holds or the row was all zero
        slope_at = raw if ctx.threshold is None else raw.clamp(min=ctx.threshold)
        rate = (grad_output / -len(raw)) / (slope_at * total)
        rate.masked_fill_((raw < PROB_FLOOR).logical_or_(zero), 0.0)
        grad = values.sign().mul_(rate * -raw)
        grad.scatter_add_(1, labels, rate * signed_true.sign())
        dot = (grad * probs).sum(dim=1, keepdim=True)
        return (grad.sub_(dot).mul_(probs),) + (None,) * 8


def noisy_nll_loss(
    logits, labels, weights, sigma, noise=None, generator=None, huber=None,
    off_class_sigma=None, probs=None,
):
    """The weighted-smoothing training loss for one batch (section 2 of the algorithm).

    The same value as :func:`perturb_probabilities` then :func:`project_to_simplex`
    then the negative log-likelihood, in fewer operations: the per-record noise
    scale is computed once without gradient, the perturbation is one fused
    multiply-add, only the true class's projected entry is formed (the clip
    of the others never reaches the loss), and the gradient in ``logits`` is
    computed in closed form in one backward step rather than by autograd
    through every operation. No host synchronisation.

    Parameters
    ----------
    logits : Tensor of shape (n, K)
        Model outputs, with gradient.
    labels : LongTensor of shape (n,)
    weights : Tensor of shape (n,)
        Per-record weights ``w`` from :func:`vulnerability_weights`.
    sigma : float
        Standard deviation of the Gaussian noise (of the true class's when
        ``off_class_sigma`` is given).
    noise : Tensor of shape (n, K), optional
        Standard-normal draws to use instead of sampling (for tests); scaled by
        ``sigma`` here.
    generator : torch.Generator, optional
        Source of the noise when ``noise`` is None.
    huber : float, optional
        Replace ``-log q`` by :func:`huberised_nll` with threshold
        ``huber / K`` (ours, not the reference). ``-log |p_y + e_y|`` has an
        unbounded gradient as the noisy true-class entry nears zero, so a few
        records can dominate a step; this bounds each record's share. None:
        the reference loss.
    off_class_sigma : float, optional
        Standard deviation of the noise on the classes other than the true
        one (see :func:`class_noise_std`). None: ``sigma`` for every class.
    probs : Tensor of shape (n, K), optional
        ``torch.softmax(logits, dim=1)`` taken without gradient, when the
        caller has it already (the live refresh scores the batch from it), to
        save a second softmax. It must be exactly that softmax: the gradient
        is computed from it.

    Returns
    -------
    loss : scalar Tensor
        ``mean_i -log q_i[y_i]``. Differentiable once (no second derivative).
    """
    return _NoisyProjectedNLL.apply(
        logits, labels, weights, noise, sigma, off_class_sigma, huber, generator,
        probs,
    )
