"""MemGuard against a line-by-line transcription of the authors' code
(jinyuan-jia/MemGuard: the noise search of defense_framework.py and the
randomised delivery of evaluate_nn_attack.py), TensorFlow's gradient replaced
by torch's."""

import numpy as np
import pytest
import torch
from scipy.special import softmax

from wsmooth.datasets import make_purchase_like
from wsmooth.defences import MemGuard, get_defence
from wsmooth.defences._memguard import delivery_probability, memguard_search

from defence_checks import SMALL


# ---- transcribed from defense_framework.py -----------------------------------
def authors_search(model_logit, f_evaluate, f_evaluate_logits):
    """``model_logit``: the defence model's pre-sigmoid output on a (1, K)
    tensor of logits sorted increasingly (their ``model_defense_optimize``:
    softmax first). ``f_evaluate``, ``f_evaluate_logits``: sorted rows."""
    user_label_dim = f_evaluate.shape[1]
    c1 = 1.0
    c2 = 10.0

    def predict(x):
        with torch.no_grad():
            return torch.sigmoid(model_logit(torch.as_tensor(x, dtype=torch.float32))).numpy()

    def gradient(sample_f, origin_value, label_mask, c3):
        inp = torch.as_tensor(sample_f, dtype=torch.float32).requires_grad_(True)
        mask = torch.as_tensor(label_mask, dtype=torch.float32)
        origin = torch.as_tensor(origin_value, dtype=torch.float32)
        output = model_logit(inp)
        correct_label = torch.sum(mask * inp, dim=1)
        wrong_label = torch.max((1 - mask) * inp - 1e8 * mask, dim=1).values
        loss1 = torch.abs(output)
        loss2 = torch.relu(wrong_label - correct_label)
        loss3 = torch.sum(torch.abs(torch.softmax(inp, dim=1) - origin))
        loss = c1 * loss1 + c2 * loss2 + c3 * loss3
        (g,) = torch.autograd.grad(loss.sum(), inp)
        return g.numpy().astype(np.float64)

    label_mask_array = np.zeros([1, user_label_dim], dtype=np.float64)
    result_array = np.zeros(f_evaluate.shape, dtype=np.float64)
    max_iteration = 300
    for test_sample_id in np.arange(0, f_evaluate.shape[0]):
        max_label = np.argmax(f_evaluate[test_sample_id, :])
        origin_value = np.copy(f_evaluate[test_sample_id, :]).reshape(1, user_label_dim)
        origin_value_logits = np.copy(f_evaluate_logits[test_sample_id, :]).reshape(1, user_label_dim)
        label_mask_array[0, :] = 0.0
        label_mask_array[0, max_label] = 1.0
        sample_f = np.copy(origin_value_logits)
        result_predict_scores_initial = predict(sample_f)
        if np.abs(result_predict_scores_initial - 0.5) <= 1e-5:
            result_array[test_sample_id, :] = origin_value[0, :]
            continue
        last_iteration_result = np.copy(origin_value)[0, :]
        success = True
        c3 = 0.1
        iterate_time = 1
        while success == True:  # noqa: E712
            sample_f = np.copy(origin_value_logits)
            j = 1
            result_max_label = -1
            result_predict_scores = result_predict_scores_initial
            while j < max_iteration and (max_label != result_max_label or (result_predict_scores - 0.5) * (result_predict_scores_initial - 0.5) > 0):
                gradient_values = gradient(sample_f, origin_value, label_mask_array, c3)[0]
                gradient_values = gradient_values / np.linalg.norm(gradient_values)
                sample_f = sample_f - 0.1 * gradient_values
                result_predict_scores = predict(sample_f)
                result_max_label = np.argmax(sample_f)
                j += 1
            if max_label != result_max_label:
                break
            if ((predict(sample_f) - 0.5) * (result_predict_scores_initial - 0.5)) > 0:
                break
            last_iteration_result[:] = softmax(sample_f)[0, :]
            iterate_time += 1
            c3 = c3 * 10
            if c3 > 100000:
                break
        result_array[test_sample_id, :] = last_iteration_result[:]
    return result_array


# ---- transcribed from evaluate_nn_attack.py ----------------------------------
def authors_p_values(f_evaluate_origin, f_evaluate_noise, f_evaluate_origin_score,
                     f_evaluate_defense_score, epsilon_value):
    p = []
    for i in np.arange(f_evaluate_origin.shape[0]):
        distortion_noise = np.sum(np.abs(f_evaluate_origin[i, :] - f_evaluate_noise[i, :]))
        p_value = 0.0
        if np.abs(f_evaluate_origin_score[i] - 0.5) <= np.abs(f_evaluate_defense_score[i] - 0.5):
            p_value = 0.0
        else:
            p_value = min(epsilon_value / distortion_noise, 1.0)
        p.append(p_value)
    return np.array(p)
# -----------------------------------------------------------------------------


def _defenders():
    """The defender on decreasingly sorted confidences (ours) and the same
    network on increasingly sorted logits (the authors' layout)."""
    torch.manual_seed(0)
    linear = torch.nn.Linear(4, 1)
    with torch.no_grad():  # member when the top confidence is above 0.6
        linear.weight.copy_(torch.tensor([[8.0, 0.0, 0.0, 0.0]]))
        linear.bias.fill_(-4.8)
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    for net in (linear, mlp):
        for p in net.parameters():
            p.requires_grad_(False)
        yield net, (lambda x, net=net: net(torch.softmax(x, dim=1).flip(1)).squeeze(1))


def _confidences():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(12, 4)) * np.array([[3.0], [2.0], [1.0], [0.5]] * 3)
    return softmax(logits, axis=1).astype(np.float32)


@pytest.mark.parametrize("which", [0, 1])
def test_search_equals_the_authors(which):
    ours_defender, theirs_logit = list(_defenders())[which]
    p = _confidences()
    p_desc = -np.sort(-p, axis=1)
    p_asc = np.sort(p, axis=1)
    theirs = authors_search(theirs_logit, p_asc, np.log(p_asc))[:, ::-1]
    # one row at a time, as the authors run it. The search is sensitive to
    # rounding: the L1 term's gradient is a sign, and at the start (and on
    # classes that barely move) it is the sign of a rounding error, so the
    # last bits of torch's and the transcription's arithmetic can send a row
    # down another, equally valid, path. Most rows give the same result to
    # float precision and every row the same decision to add noise or not.
    rows = [memguard_search(ours_defender, torch.from_numpy(p_desc[i : i + 1]))
            for i in range(len(p))]
    q = torch.cat([r[0] for r in rows]).numpy()
    changed = torch.cat([r[1] for r in rows]).numpy()
    exact = np.abs(q - theirs).max(axis=1) < 1e-6
    assert exact.sum() >= len(p) - 2
    np.testing.assert_allclose(q, theirs, atol=0.01)
    np.testing.assert_array_equal(changed, np.abs(theirs - p_desc).sum(1) > 1e-6)
    if which == 0:
        assert changed.any()
    # vectorised over the rows: the defender's float32 rounding differs with
    # the batch shape (~1e-7), which the L1 term's sign-like gradient can
    # carry further on some rows; every row is still a valid answer
    q_batch, changed_batch = memguard_search(ours_defender, torch.from_numpy(p_desc))
    q_batch = q_batch.numpy()
    same = np.abs(q_batch - theirs).max(axis=1) < 1e-5
    assert same.mean() >= 0.75
    np.testing.assert_allclose(q_batch, theirs, atol=0.01)
    np.testing.assert_array_equal(changed_batch.numpy(), changed)
    np.testing.assert_array_equal(q_batch.argmax(1), p_desc.argmax(1))


def test_delivery_probability_equals_the_authors():
    rng = np.random.default_rng(1)
    p = softmax(rng.normal(size=(50, 5)) * 2, axis=1)
    noisy = softmax(np.log(p) + rng.normal(size=p.shape) * 0.5, axis=1)
    score, noisy_score = rng.random(50), rng.random(50)
    distance = np.abs(p - noisy).sum(1)
    for eps in (1.0, 0.5, 0.1, 0.0):
        np.testing.assert_allclose(
            delivery_probability(score, noisy_score, distance, eps),
            authors_p_values(p, noisy, score, noisy_score, eps),
        )


def test_default_steps_are_the_authors():
    assert MemGuard(None).perturbation_steps == 299  # max_iteration=300, j from 1


def test_random_delivery_answers_noise_or_the_truth_repeatably():
    X, y = make_purchase_like(240, n_classes=4, random_state=1)
    net = get_defence("none").build(random_state=0,
                                    **{**SMALL, "max_epochs": 15, "lr": 1e-2})
    guard = MemGuard(net, random_state=0, budget=0.05).fit(
        X[:120], y[:120], X_reference=X[120:], y_reference=y[120:])
    raw = guard._raw_proba(X)  # the classifier's outputs, as MemGuard reads them
    out = guard.predict_proba(X)
    capped = guard.set_params(delivery="cap").predict_proba(X)
    guard.set_params(delivery="random")
    noisy_rows = np.abs(out - raw).sum(1) > 0
    assert noisy_rows.any() and not noisy_rows.all()
    np.testing.assert_array_equal(out[~noisy_rows], raw[~noisy_rows])
    # a noisy answer is the whole noise, beyond a small budget; the cap
    # keeps every row within it
    assert np.abs(out - raw).sum(1).max() > guard.budget
    assert (np.abs(capped - raw).sum(1) <= guard.budget + 1e-6).all()
    # the same query gets the same answer, alone or in another batch
    np.testing.assert_array_equal(guard.predict_proba(X[::-1]), out[::-1])
    np.testing.assert_array_equal(guard.predict_proba(X[5:6]), out[5:6])
