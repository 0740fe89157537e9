"""Tests of the shared skorch base, NetClassifier."""

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import GradientNormClipping
from skorch.dataset import Dataset

from wsmooth import NetClassifier
from wsmooth.nets import MLP


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


# 0.05 clips every step here, 1e3 none: both code paths must match skorch's
# GradientNormClipping bit for bit
@pytest.mark.parametrize("clip", [1e3, 0.05])
def test_clip_grad_norm_is_skorchs_gradient_clipping(fitted, clip):
    _, X = fitted
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    params = dict(max_epochs=2, batch_size=32, lr=1e-3, train_split=None,
                  iterator_train__shuffle=True)
    clf = NetClassifier(
        module__hidden_layer_sizes=(16,), clip_grad_norm=clip, random_state=0,
        **params,
    ).fit(X, y)
    plain = NeuralNetClassifier(
        MLP, module__n_features=8, module__n_classes=3,
        module__hidden_layer_sizes=(16,), criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam, callbacks=[GradientNormClipping(clip)],
        verbose=0, **params,
    )
    torch.manual_seed(clf._seed())
    plain.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))
    unclipped = NetClassifier(
        module__hidden_layer_sizes=(16,), random_state=0, **params
    ).fit(X, y)
    same = np.array_equal(clf.predict_proba(X), unclipped.predict_proba(X))
    assert same == (clip > 1)


def test_clip_grad_norm_is_validated():
    X = np.zeros((10, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="clip_grad_norm"):
        NetClassifier(clip_grad_norm=0, max_epochs=1).fit(X, np.arange(10) % 2)


@pytest.mark.parametrize(
    "dtypes", [(torch.float32,) * 3, (torch.float64,) * 3,
               (torch.float32, torch.float64, torch.float32)],
)
def test_total_norm_is_get_total_norm_bit_for_bit(dtypes):
    from wsmooth._net import _total_norm

    gen = torch.Generator().manual_seed(0)
    tensors = [
        (scale * torch.randn(shape, generator=gen)).to(dtype)
        for shape, scale, dtype in zip(
            [(300, 40), (40,), (7, 3, 5)], [1e-3, 10.0, 1.0], dtypes, strict=True
        )
    ]
    expected = torch.nn.utils.get_total_norm(tensors, foreach=True)
    got = _total_norm(tensors)
    assert torch.equal(got, expected) and got.dtype == expected.dtype


def test_clipping_follows_a_new_module():
    # the parameter list the clipping reads is kept between steps, but a
    # module built anew (a new fit, initialize()) is listed anew
    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    clf = NetClassifier(module__hidden_layer_sizes=(4,), clip_grad_norm=1e-3,
                        max_epochs=1, batch_size=16, random_state=0).fit(X, y)
    assert clf._parameter_list is None  # not kept past training
    first = clf._module_parameters()
    clf.initialize()
    listed = clf._module_parameters()
    assert all(
        p is q for p, q in zip(listed, clf.module_.parameters(), strict=True)
    )
    assert not any(p is q for p, q in zip(listed, first, strict=True))
    assert "_parameter_list" not in clf.__getstate__()


def _training_batches(clf, X, y, seed=0):
    """The batches of one training epoch of ``clf``'s loader, seeded."""
    dataset, _ = clf.get_split_datasets(X, clf.label_encoder_.transform(y))
    torch.manual_seed(seed)
    loader = clf.get_iterator(dataset, training=True)
    return loader, list(loader)


@pytest.mark.parametrize("batch_size", [32, 7, -1])
def test_training_batches_are_the_record_by_record_ones(fitted, batch_size):
    clf, X = fitted
    y = clf.classes_[np.arange(len(X)) % len(clf.classes_)]
    clf.batch_size = batch_size
    try:
        loader, fast = _training_batches(clf, X, y)
        clf.iterator_train__collate_fn = torch.utils.data.default_collate
        slow_loader, slow = _training_batches(clf, X, y)
    finally:
        clf.batch_size = 32
        del clf.iterator_train__collate_fn
    assert type(loader.dataset).__name__ == "_BatchFetch"
    assert type(slow_loader.dataset).__name__ == "IndexedTrainingSet"
    assert len(fast) == len(slow) > 0
    for ((Xf, i_f), yf), ((Xs, i_s), ys) in zip(fast, slow, strict=True):
        for a, b in ((Xf, Xs), (i_f, i_s), (yf, ys)):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert torch.equal(a, b)


@pytest.mark.parametrize("train_split", [None, 5])
def test_batched_fetching_trains_the_same_model(train_split):
    from skorch.dataset import ValidSplit

    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 6))
    y = np.array(["a", "b", "c", "d"])[rng.integers(0, 4, size=200)]
    params = dict(
        module__hidden_layer_sizes=(12,), max_epochs=3, batch_size=16,
        random_state=3, train_split=train_split and ValidSplit(train_split),
    )
    fast = NetClassifier(**params).fit(X, y)
    slow = NetClassifier(
        iterator_train__collate_fn=torch.utils.data.default_collate, **params
    ).fit(X, y)
    for p, q in zip(fast.module_.parameters(), slow.module_.parameters(),
                    strict=True):
        assert torch.equal(p, q)


def test_a_custom_dataset_keeps_skorchs_loader(fitted):
    class Shifted(Dataset):
        def transform(self, X, y):
            return X + 1, y

    clf, X = fitted
    y = clf.classes_[np.arange(len(X)) % len(clf.classes_)]
    clf.dataset = Shifted
    try:
        loader, batches = _training_batches(clf, X, y)
    finally:
        clf.dataset = Dataset
    assert type(loader.dataset).__name__ == "IndexedTrainingSet"
    (Xb, index), _ = batches[0]
    np.testing.assert_allclose(Xb.numpy(), X[index.numpy()] + 1)
