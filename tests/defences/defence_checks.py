"""Checks every defence estimator must pass (fit, predict, score, clone,
pickle without member data, determinism, bad input)."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from wsmooth.datasets import make_purchase_like

SMALL = dict(max_epochs=3, module__hidden_layer_sizes=(16,), batch_size=32)


def tiny_data():
    return make_purchase_like(160, n_classes=3, random_state=0)


def check_estimator_basics(make, X, y):
    """``make(random_state)`` builds an unfitted estimator."""
    est = make(0).fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert (proba >= 0).all()
    assert set(est.predict(X)) <= set(np.unique(y))
    assert 0 <= est.score(X, y) <= 1
    assert np.array_equal(est.classes_, np.unique(y))

    # clone keeps the parameters, not the fit
    twin = clone(est)
    assert twin.get_params().keys() == est.get_params().keys()
    assert not hasattr(twin, "classes_")

    # same random_state, same model
    again = make(0).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), proba)

    # a pickle predicts alike and carries no per-member data
    blob = pickle.dumps(est)
    loaded = pickle.loads(blob)
    np.testing.assert_array_equal(loaded.predict_proba(X), proba)
    for name in ("member_proba_", "member_labels_", "_dataset_train"):
        assert not hasattr(loaded, name)
    assert X[0].astype(np.float32).tobytes() not in blob
    return est


def check_bad_input(make, X, y):
    est = make(0)
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.fit(np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X), y)
    with pytest.raises(ValueError, match="2 classes"):
        make(0).fit(X, np.zeros(len(y), dtype=int))
    with pytest.raises(ValueError, match="float32"):
        make(0).fit(np.full_like(X, 1e300, dtype=np.float64), y)
    fitted = make(0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict_proba(X[:, :-1])
