"""Tests of the shared skorch base, NetClassifier."""

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset

from wsmooth import NetClassifier


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    clf = NetClassifier(
        module__hidden_layer_sizes=(16,), module__dropout=0.5, max_epochs=2,
        batch_size=32, random_state=0,
    ).fit(X, y)
    return clf, X


def _through_dataloader(clf, X):
    return torch.cat(list(clf.forward_iter(Dataset(X), training=False))).numpy()


@pytest.mark.parametrize("batch_size", [32, 7, -1])
def test_array_inference_equals_the_dataloader_path(fitted, batch_size):
    clf, X = fitted
    clf.batch_size = batch_size
    try:
        fast = torch.cat(list(clf.forward_iter(X, training=False))).numpy()
        sizes = [len(b) for b in clf.forward_iter(X, training=False)]
        slow = _through_dataloader(clf, X)
    finally:
        clf.batch_size = 32
    np.testing.assert_array_equal(fast, slow)
    assert sizes[0] == (len(X) if batch_size == -1 else batch_size)
    assert not clf.module_.training  # dropout off: the same output twice
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))


def test_prediction_batch_size_comes_from_iterator_valid(fitted):
    clf, X = fitted
    clf.iterator_valid__batch_size = 50
    try:
        sizes = [len(b) for b in clf.forward_iter(X, training=False)]
    finally:
        del clf.iterator_valid__batch_size
    assert sizes == [50] * 6
