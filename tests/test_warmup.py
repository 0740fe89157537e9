"""Weighted smoothing's warm-up rule, shared by the estimator and the command."""

import warnings

import numpy as np
import pytest

from wsmooth import WeightedSmoothingClassifier
from wsmooth._warmup import SIGMA_TOL, noise_active, noise_never_starts


@pytest.mark.parametrize("sigma, epochs, warmup, never", [
    (0.1, 3, 3, True), (0.1, 4, 3, False), (0.0, 1, 3, False),
    (SIGMA_TOL, 1, 3, False), (0.1, 1, 0, False),
])
def test_noise_never_starts(sigma, epochs, warmup, never):
    assert noise_never_starts(sigma, epochs, warmup) is never
    noisy = [noise_active(sigma, e, warmup) for e in range(epochs)]
    assert never == (sigma > SIGMA_TOL and not any(noisy))


@pytest.mark.parametrize("max_epochs, warmup", [(1, 1), (2, 1)])
def test_the_estimator_warns_by_the_rule(max_epochs, warmup):
    X = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    y = np.arange(40) % 2
    clf = WeightedSmoothingClassifier(sigma=0.1, max_epochs=max_epochs,
                                      warmup_epochs=warmup, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    warned = any("no epoch is trained with noise" in str(w.message) for w in caught)
    assert warned == noise_never_starts(0.1, max_epochs, warmup)
    assert clf.noise_active(max_epochs - 1) == (not warned)
