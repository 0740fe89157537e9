"""HAMP against a line-by-line transcription of the authors' code
(DependableSystemsLab/MIA_defense_HAMP, purchase/purchase-train-hamp.py and
purchase/lira-inference-defense.py)."""

import numpy as np
import pytest
import torch
from torch.distributions import Categorical
from torch.nn import functional as F

from wsmooth.defences import HAMPClassifier, hamp_loss
from wsmooth.defences._hamp import hamp_true_probability, random_inputs
from wsmooth.datasets import make_purchase_like


# ---- transcribed from purchase-train-hamp.py --------------------------------
def entropy(preds, axis=0):
    logp = np.log(preds)
    entropy = np.sum(-preds * logp, axis=axis)
    return entropy


def get_top1(num_classes, entropy_threshold, increment=0.01):
    true_target = 1
    preds = np.zeros(num_classes)
    preds[true_target] = 1.
    while True:
        preds[true_target] -= increment
        preds[:true_target] += increment / (num_classes - 1)
        preds[true_target + 1:] += increment / (num_classes - 1)
        if entropy(preds) >= entropy_threshold:
            break
    return preds[true_target], preds[true_target + 1]


def get_soft_labels(train_label, num_classes, top1, uniform_non_top1):
    new_soft_label = np.zeros((train_label.shape[0], num_classes))
    for i in range(train_label.shape[0]):
        new_soft_label[i][train_label[i]] = top1
        new_soft_label[i][:train_label[i]] = uniform_non_top1
        new_soft_label[i][train_label[i] + 1:] = uniform_non_top1
    return new_soft_label


def authors_loss(outputs, targets, alpha):
    # train_pub with args.entropy_penalty set
    entropy = Categorical(probs=F.softmax(outputs, dim=1)).entropy()
    loss1 = F.kl_div(F.log_softmax(outputs, dim=1), targets, reduction="mean")
    loss2 = -1 * alpha * torch.mean(entropy)
    return loss1 + loss2


def random_flip(img_set):
    ret = np.empty(img_set.shape)
    for m, image in enumerate(img_set):
        random_vector = np.random.choice(2, image.shape, replace=True)
        ret[m, :] = random_vector
    return ret
# -----------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes, gamma", [(100, 0.95), (10, 0.9), (3, 0.8)])
def test_true_class_probability_is_the_authors_up_to_their_grid(n_classes, gamma):
    preds = np.ones(n_classes) / n_classes
    theirs, _ = get_top1(n_classes, entropy(preds) * gamma)
    ours = hamp_true_probability(gamma, n_classes)
    # theirs is the first point of a 0.01 grid meeting the threshold, ours
    # the exact largest probability meeting it
    assert theirs <= ours + 1e-9
    assert ours - theirs < 0.01 + 1e-9


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides:UserWarning")
@pytest.mark.parametrize("n_classes, alpha", [(100, 0.01), (10, 0.01), (4, 0.5)])
def test_loss_and_gradient_equal_the_authors(n_classes, alpha):
    gen = torch.Generator().manual_seed(n_classes)
    logits = torch.randn(6, n_classes, generator=gen, dtype=torch.float64) * 2
    y = torch.randint(0, n_classes, (6,), generator=gen)
    top1 = hamp_true_probability(0.95, n_classes)
    soft = torch.from_numpy(
        get_soft_labels(y.numpy(), n_classes, top1, (1 - top1) / (n_classes - 1))
    ).float().double()

    theirs_in = logits.clone().requires_grad_(True)
    theirs = authors_loss(theirs_in, soft, alpha)
    theirs.backward()
    ours_in = logits.clone().requires_grad_(True)
    ours = hamp_loss(ours_in, y, 0.95, alpha)
    ours.backward()

    # the soft labels are float32 in both (the authors' FloatTensor)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)
    np.testing.assert_allclose(ours_in.grad, theirs_in.grad, rtol=1e-6, atol=1e-12)


def test_random_inputs_are_bits_for_binary_features_as_the_authors():
    X, y = make_purchase_like(200, n_features=40, n_classes=3, random_state=0)
    net = HAMPClassifier(max_epochs=1, module__hidden_layer_sizes=(8,),
                         random_state=0).fit(X, y)
    assert net.binary_features_ is True
    ours = random_inputs(net, X)
    np.random.seed(0)
    theirs = random_flip(X)
    # same support (0/1 bits), about half of them ones, as the authors' draws
    assert set(np.unique(ours)) == set(np.unique(theirs)) == {0.0, 1.0}
    assert abs(ours.mean() - 0.5) < 0.02 and abs(theirs.mean() - 0.5) < 0.02
    # and the output modification uses them: the noise outputs are the net's
    # outputs on those bits, re-ranked
    plain = HAMPClassifier.__mro__[1].predict_proba(net, X)
    noise = HAMPClassifier.__mro__[1].predict_proba(net, ours)
    got = net.predict_proba(X)
    np.testing.assert_allclose(np.sort(got, axis=1), np.sort(noise, axis=1))
    np.testing.assert_array_equal(got.argmax(1), plain.argmax(1))


def test_continuous_features_keep_uniform_inputs_in_the_box():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6)).astype(np.float32)
    y = rng.integers(0, 3, 120)
    net = HAMPClassifier(max_epochs=1, module__hidden_layer_sizes=(8,),
                         random_state=0).fit(X, y)
    assert net.binary_features_ is False
    inputs = random_inputs(net, X)
    assert len(np.unique(inputs)) > 100
    assert (inputs >= net.feature_low_).all() and (inputs <= net.feature_high_).all()
