"""RelaxLoss against a line-by-line transcription of the authors' trainers
(DingfanChen/RelaxLoss: source/nonimage/defense/relaxloss.py for tabular data,
source/cifar/defense/relaxloss.py for images, CrossEntropy_soft from
source/utils)."""

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from wsmooth.defences import RelaxLossClassifier, relaxloss_loss
from wsmooth.defences._relaxloss import relaxloss_upper

from defence_checks import SMALL, tiny_data


# ---- transcribed from the authors' code --------------------------------------
def one_hot_embedding(y, num_classes=10, dtype=torch.cuda.FloatTensor):
    scatter_dim = len(y.size())
    y_tensor = y.view(*y.size(), -1)
    zeros = torch.zeros(*y.size(), num_classes).type(dtype)
    return zeros.scatter(scatter_dim, y_tensor, 1)


def CrossEntropy_soft(input, target, reduction='mean'):
    logprobs = F.log_softmax(input, dim=1)
    losses = -(target * logprobs)
    if reduction == 'mean':
        return losses.sum() / input.shape[0]
    elif reduction == 'sum':
        return losses.sum()
    elif reduction == 'none':
        return losses.sum(-1)


def authors_step(outputs, targets, epoch, alpha, upper, num_classes, image):
    crossentropy_noreduce = nn.CrossEntropyLoss(reduction='none')
    softmax = nn.Softmax(dim=1)
    loss_ce_full = crossentropy_noreduce(outputs, targets)
    loss_ce = torch.mean(loss_ce_full)
    if epoch % 2 == 0:  # gradient ascent/ normal gradient descent
        loss = (loss_ce - alpha).abs()
    else:
        if loss_ce > alpha:  # normal gradient descent
            loss = loss_ce
        else:  # posterior flattening
            pred = torch.argmax(outputs, dim=1)
            correct = torch.eq(pred, targets).float()
            confidence_target = softmax(outputs)[torch.arange(targets.size(0)), targets]
            confidence_target = torch.clamp(confidence_target, min=0., max=upper)
            confidence_else = (1.0 - confidence_target) / (num_classes - 1)
            onehot = one_hot_embedding(targets, num_classes=num_classes,
                                       dtype=torch.DoubleTensor)
            soft_targets = onehot * confidence_target.unsqueeze(-1).repeat(1, num_classes) \
                + (1 - onehot) * confidence_else.unsqueeze(-1).repeat(1, num_classes)
            if image:
                loss = (1 - correct) * CrossEntropy_soft(outputs, soft_targets, 'none') \
                    - 1. * loss_ce_full
                loss = torch.mean(loss)
            else:
                loss = CrossEntropy_soft(outputs, soft_targets)
    return loss
# -----------------------------------------------------------------------------


def _batch(n_classes, n=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, n_classes, generator=gen, dtype=torch.float64) * 3
    y = torch.randint(0, n_classes, (n,), generator=gen)
    return logits, y


@pytest.mark.parametrize("variant", ["tabular", "image"])
@pytest.mark.parametrize("epoch, alpha", [(0, 0.5), (0, 50.0), (1, 0.5), (1, 50.0)])
@pytest.mark.parametrize("n_classes, upper", [(100, 0.3), (10, 0.1), (10, 1.0), (3, 0.5)])
def test_loss_and_gradient_equal_the_authors(variant, epoch, alpha, n_classes, upper):
    logits, y = _batch(n_classes)
    theirs_in = logits.clone().requires_grad_(True)
    theirs = authors_step(theirs_in, y, epoch, alpha, upper, n_classes,
                          image=variant == "image")
    theirs.backward()
    ours_in = logits.clone().requires_grad_(True)
    ours = relaxloss_loss(ours_in, y, alpha, epoch, variant=variant, upper=upper)
    ours.backward()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(ours_in.grad, theirs_in.grad, rtol=1e-10, atol=1e-14)


def test_the_two_flattening_steps_differ():
    # why the variant matters: on a 100-class batch below alpha the tabular
    # and image gradients point in clearly different directions
    logits, y = _batch(100, n=64, seed=1)
    grads = []
    for variant in ("tabular", "image"):
        z = logits.clone().requires_grad_(True)
        relaxloss_loss(z, y, 50.0, 1, variant=variant, upper=0.3).backward()
        grads.append(z.grad.flatten())
    cosine = F.cosine_similarity(grads[0], grads[1], dim=0).item()
    assert cosine < 0.9


def test_default_upper():
    assert relaxloss_upper("tabular", 100) == 0.3  # the authors' Purchase value
    assert relaxloss_upper("tabular", 10) == 0.3
    assert relaxloss_upper("tabular", 4) == 0.5
    assert relaxloss_upper("tabular", 2) == 1.0
    assert relaxloss_upper("image", 10) == 1.0  # the authors' CIFAR value
    for k in range(2, 120):  # the clamped true class stays the soft label's top
        u = relaxloss_upper("tabular", k)
        assert u > (1 - u) / (k - 1) or u == 1.0


def test_variant_and_upper_chosen_at_fit():
    X, y = tiny_data()
    net = RelaxLossClassifier(random_state=0, **SMALL).fit(X, y)
    assert net.relaxloss_variant_ == "tabular"
    assert net.relaxloss_upper_ == relaxloss_upper("tabular", 3)
    net = RelaxLossClassifier(random_state=0, variant="image", upper=0.7,
                              **SMALL).fit(X, y)
    assert (net.relaxloss_variant_, net.relaxloss_upper_) == ("image", 0.7)
    with pytest.raises(ValueError, match="variant"):
        RelaxLossClassifier(variant="text", **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="upper"):
        RelaxLossClassifier(upper=0.0, **SMALL).fit(X, y)


def test_auto_picks_the_image_trainer_for_images():
    from wsmooth.nets import DigitsCNN

    rng = np.random.default_rng(0)
    X = rng.random((60, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    net = RelaxLossClassifier(module=DigitsCNN, max_epochs=1, random_state=0).fit(X, y)
    assert net.relaxloss_variant_ == "image"
    assert net.relaxloss_upper_ == 1.0
