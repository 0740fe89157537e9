import math

import numpy as np
import pytest
import torch

from wsmooth.defences import RelaxLossClassifier, get_defence, relaxloss_loss

from defence_checks import SMALL, check_bad_input, check_estimator_basics, tiny_data


def _make(random_state, **params):
    return RelaxLossClassifier(random_state=random_state, **{**SMALL, **params})


def test_basics_and_bad_input():
    X, y = tiny_data()
    check_estimator_basics(_make, X, y)
    check_bad_input(_make, X, y)
    with pytest.raises(ValueError, match="alpha"):
        _make(0, alpha=0).fit(X, y)


def test_image_loss_on_a_hand_computed_batch():
    # two records, three classes; logits chosen so the softmax is easy
    logits = torch.tensor([[math.log(6), math.log(3), math.log(1)],
                           [math.log(1), math.log(1), math.log(2)]])
    y = torch.tensor([0, 1])
    # p = [0.6, 0.3, 0.1] (correct), [0.25, 0.25, 0.5] (wrong)
    ce = [-math.log(0.6), -math.log(0.25)]
    mean = sum(ce) / 2
    # even epoch: |CE - alpha|
    for alpha in (0.5, 2.0):
        assert relaxloss_loss(logits, y, alpha, 0, variant="image").item() == \
            pytest.approx(abs(mean - alpha))
    # odd epoch above alpha: plain CE
    assert relaxloss_loss(logits, y, 0.5, 1, variant="image").item() == \
        pytest.approx(mean)
    # odd epoch below alpha: the wrong record's soft label keeps p_y = 0.25 and
    # spreads 0.75 over the two others; the correct record's term is -CE only
    soft = [0.375, 0.25, 0.375]
    ce_soft = -(soft[0] * math.log(0.25) + soft[1] * math.log(0.25)
                + soft[2] * math.log(0.5))
    expected = ((0 - ce[0]) + (ce_soft - ce[1])) / 2
    assert relaxloss_loss(logits, y, 2.0, 1, variant="image").item() == \
        pytest.approx(expected, rel=1e-6)
    # the tabular trainer: the soft-label cross-entropy alone, the correct
    # record's true-class probability 0.6 clamped at upper = 0.5
    soft0 = [0.5, 0.25, 0.25]
    ce_soft0 = -(soft0[0] * math.log(0.6) + soft0[1] * math.log(0.3)
                 + soft0[2] * math.log(0.1))
    assert relaxloss_loss(logits, y, 2.0, 1, variant="tabular", upper=0.5).item() == \
        pytest.approx((ce_soft0 + ce_soft) / 2, rel=1e-6)


def test_a_higher_target_loss_keeps_the_training_loss_higher():
    X, y = tiny_data()
    losses = []
    for alpha in (0.05, 1.0):
        clf = RelaxLossClassifier(alpha=alpha, max_epochs=20,
                                  module__hidden_layer_sizes=(32,), lr=1e-2,
                                  random_state=0).fit(X, y)
        p = clf.member_proba_[np.arange(len(y)), clf.member_labels_]
        losses.append(-np.log(p).mean())
    assert losses[1] > losses[0]
    assert losses[1] == pytest.approx(1.0, abs=0.35)


def test_registered():
    est = get_defence("relaxloss").build(max_epochs=2, random_state=0)
    assert isinstance(est, RelaxLossClassifier)
