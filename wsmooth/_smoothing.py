"""The weighted-smoothing math, one plain torch function per step.

Nothing here knows about skorch or scikit-learn: every function takes and returns
tensors, works on a whole batch at once (no loop over records or classes), and can
be tested on its own. The steps and constants follow the reference training loop of
Tan et al., "Mitigating Membership Inference Attacks via Weighted Smoothing"
(ACSAC 2023); see the user guide for the derivation.
"""

import math

import torch

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
    "prediction_margin",
    "perturb_probabilities",
    "project_to_simplex",
    "noisy_nll_loss",
    "NOISE_SCALES",
    "class_noise_std",
]

#: Logits are clipped from above at this value before the vulnerability score.
LOGIT_CAP = 20.0
#: Probabilities are floored at this value inside the logarithms of the scores.
LOG_FLOOR = 1e-30
#: Added to the per-class standard deviation when standardising scores.
STD_EPS = math.exp(-20)
#: Lower clip of the projected probabilities before the negative log-likelihood.
PROB_FLOOR = math.exp(-36)

SCORES = ("mentr", "cross_entropy")
WEIGHTINGS = ("zscore", "zscore_clipped", "minmax", "uniform")
NOISE_SCALES = ("reference", "class_invariant")


def _true_class(values, labels):
    return values.gather(1, labels.view(-1, 1)).squeeze(1)


def modified_entropy(probs, labels, floor=LOG_FLOOR):
    """Modified prediction entropy of Song & Mittal (USENIX Security 2021).

    ``m = -(1 - p_y) log p_y - sum_{k != y} p_k log(1 - p_k)``, probabilities
    floored at ``floor`` inside the logarithms. Low values mean the record is
    confidently and correctly predicted.

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
    p_true = _true_class(probs, labels)
    log_one_minus = torch.log(torch.clamp(1.0 - probs, min=floor))
    others = (probs * log_one_minus).sum(dim=1) - p_true * _true_class(
        log_one_minus, labels
    )
    return -(1.0 - p_true) * torch.log(torch.clamp(p_true, min=floor)) - others


def cross_entropy_score(probs, labels, floor=LOG_FLOOR):
    """Cross-entropy ``-log p_y`` of each record, floored at ``floor``.

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


def vulnerability_scores(logits, labels, score="mentr", logit_cap=LOGIT_CAP):
    """Per-record vulnerability score from a model's logits (step 1 of the algorithm).

    Logits are clipped from above at ``logit_cap``, turned into probabilities
    with a softmax, then scored. Computed without gradient.

    Parameters
    ----------
    logits : Tensor of shape (n, K)
    labels : LongTensor of shape (n,)
    score : {"mentr", "cross_entropy"}
    logit_cap : float

    Returns
    -------
    Tensor of shape (n,)
    """
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}")
    with torch.no_grad():
        probs = torch.softmax(torch.clamp(logits, max=logit_cap), dim=1)
        if score == "mentr":
            return modified_entropy(probs, labels)
        return cross_entropy_score(probs, labels)


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
    counts = _class_counts(labels, n_classes, scores.dtype).clamp(min=1)
    zeros = torch.zeros(n_classes, dtype=scores.dtype, device=scores.device)
    mean = zeros.index_add(0, labels, scores) / counts
    centred = scores - mean[labels]
    std = torch.sqrt(zeros.index_add(0, labels, centred * centred) / counts)
    return centred / (std[labels] + eps)


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
    fill = torch.full(
        (n_classes,), float("inf"), dtype=scores.dtype, device=scores.device
    )
    low = fill.scatter_reduce(0, labels, scores, reduce="amin")
    high = (-fill).scatter_reduce(0, labels, scores, reduce="amax")
    return (scores - low[labels]) / (high[labels] - low[labels] + eps)


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
    """Per-class standard deviation of the Gaussian noise for a noise weight.

    ``"reference"`` draws every class's noise with std ``sigma`` (Tan et al.).
    The projection divides by the summed magnitudes of all K entries, and for a
    confident prediction the K - 1 wrong classes hold almost no probability, so
    the noise mass the true class competes with is about
    ``(K - 1) * sigma * sqrt(2 / pi)`` times the record's scale: the same
    ``sigma`` is K times stronger on 100 classes than on 10.
    ``"class_invariant"`` divides by ``K - 1``, which keeps that expected mass
    (an L1 quantity, hence ``K - 1`` and not ``sqrt(K)``, which would only fix
    the noise vector's L2 norm) independent of K; on 2 classes the two agree.

    Parameters
    ----------
    sigma : float
    n_classes : int, >= 2
    noise_scale : {"reference", "class_invariant"}

    Returns
    -------
    float
    """
    if noise_scale == "reference":
        return sigma
    if noise_scale == "class_invariant":
        return sigma / (n_classes - 1)
    raise ValueError(
        f"noise_scale must be one of {NOISE_SCALES}, got {noise_scale!r}"
    )


def noisy_nll_loss(
    logits, labels, weights, sigma, noise=None, generator=None, top_k=None
):
    """The weighted-smoothing training loss for one batch (section 2 of the algorithm).

    The same value as :func:`perturb_probabilities` then :func:`project_to_simplex`
    then the negative log-likelihood, in fewer operations: the per-record noise
    scale is computed once without gradient, the perturbation is one fused
    multiply-add, and only the true class's projected entry is formed (the clip
    of the others never reaches the loss). No host synchronisation.

    Parameters
    ----------
    logits : Tensor of shape (n, K)
        Model outputs, with gradient.
    labels : LongTensor of shape (n,)
    weights : Tensor of shape (n,)
        Per-record weights ``w`` from :func:`vulnerability_weights`.
    sigma : float
        Standard deviation of the Gaussian noise.
    noise : Tensor of shape (n, K), optional
        Standard-normal draws to use instead of sampling (for tests); scaled by
        ``sigma`` here.
    generator : torch.Generator, optional
        Source of the noise when ``noise`` is None.
    top_k : int, optional
        Perturb only each record's ``top_k`` most probable classes (ours, not
        the reference): the others keep their probability, so the true class
        competes with ``top_k`` noise terms instead of K. None: every class.

    Returns
    -------
    loss : scalar Tensor
        ``mean_i -log q_i[y_i]``.
    """
    probs = torch.softmax(logits, dim=1)
    if noise is None:
        noise = torch.randn(
            probs.shape, dtype=probs.dtype, device=probs.device, generator=generator
        )
    if top_k is not None and top_k < probs.shape[1]:
        top = torch.topk(probs.detach(), top_k, dim=1).indices
        noise = torch.zeros_like(noise).scatter_(1, top, noise.gather(1, top))
    with torch.no_grad():
        scale = _margin(probs) * (1.0 - weights.to(probs.dtype)).unsqueeze(1) * sigma
    magnitude = torch.addcmul(probs, noise, scale).abs()
    total = magnitude.sum(dim=1)
    true = _true_class(magnitude, labels)
    # an all-zero row projects to uniform (as project_to_simplex); NaN stays NaN
    projected = torch.where(
        total == 0, 1.0 / magnitude.shape[1], true / total.clamp(min=1e-300)
    )
    return -torch.log(torch.clamp(projected, min=PROB_FLOOR, max=1.0)).mean()
