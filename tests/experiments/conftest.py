import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from wsmooth.utils import PrivacyTags


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class CountingLR(LogisticRegression):
    """LogisticRegression that records every fit (targets and shadows alike)."""

    fits = []

    def fit(self, X, y, sample_weight=None):
        CountingLR.fits.append((self.C, len(y)))
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def counting_lr():
    CountingLR.fits.clear()
    yield CountingLR
    CountingLR.fits.clear()


@pytest.fixture(scope="session")
def data():
    X, y = make_classification(
        n_samples=300,
        n_features=10,
        n_informative=5,
        n_classes=3,
        n_clusters_per_class=1,
        flip_y=0.1,
        random_state=0,
    )
    return X, y


def row(config, setting, seed, attack, acc, leak, auc=0.5, undefended=False):
    """One hand-made result row."""
    return {
        "configuration": config,
        "setting": setting,
        "params": {},
        "seed": seed,
        "attack": attack,
        "test_accuracy": acc,
        "train_accuracy": acc,
        "auc": auc,
        "tpr@0.1%fpr": leak / 10,
        "tpr@1%fpr": leak,
        "advantage": 0.0,
        "balanced_accuracy": 0.5,
        "fit_seconds": 1.0,
        "attack_seconds": 1.0,
    }


@pytest.fixture
def make_row():
    return row




class SpyReferenceLR(LogisticRegression):
    """LogisticRegression that takes a reference set (its privacy tags say
    so) and records, for every fit, the rows it trained on and was given."""

    fits = []

    def fit(self, X, y, X_reference=None, y_reference=None):
        SpyReferenceLR.fits.append(
            {
                "trained": np.array(X, copy=True),
                "reference": None if X_reference is None else np.array(X_reference),
                "reference_labels": y_reference,
            }
        )
        return super().fit(X, y)

    def __privacy_tags__(self):
        return PrivacyTags(takes_reference=True)


class OutputModifyingLR(LogisticRegression):
    """LogisticRegression whose privacy tags say its outputs are modified."""

    def __privacy_tags__(self):
        return PrivacyTags(modifies_outputs=True)


@pytest.fixture
def spy_lr():
    SpyReferenceLR.fits.clear()
    yield SpyReferenceLR
    SpyReferenceLR.fits.clear()


@pytest.fixture
def modifying_lr():
    return OutputModifyingLR
