"""Data, model settings and figures shared by the benchmark modules.

Nothing here is a benchmark: asv collects only the classes of the other
modules. Sizes come from the ``WSMOOTH_BENCH_SIZE`` environment variable:

``tiny``
    seconds per fit; for checking that the suite runs at all.
``small`` (default)
    a few thousand records, a one-layer MLP, a few epochs: ``asv run --quick``
    takes minutes on a laptop CPU.
``large``
    the protocol's setting: 20,000 Purchase-like records, 100 classes, the
    1024-512-256-128 tanh MLP, 30 epochs.
"""

import os

import numpy as np
from sklearn.model_selection import train_test_split

#: Settings per size: data, network, training.
SIZES = {
    "tiny": dict(n_samples=800, n_classes=5, hidden=(32,), max_epochs=6,
                 batch_size=64, n_shadow=2),
    "small": dict(n_samples=4000, n_classes=20, hidden=(128,), max_epochs=10,
                  batch_size=128, n_shadow=4),
    "large": dict(n_samples=20_000, n_classes=100, hidden=(1024, 512, 256, 128),
                  max_epochs=30, batch_size=128, n_shadow=8),
}

#: Noise weight of the defended model (``sigma=0`` is the undefended one).
WS_SIGMA = 1.0

SEED = 0


def size():
    """The settings of the size selected by ``WSMOOTH_BENCH_SIZE``."""
    name = os.environ.get("WSMOOTH_BENCH_SIZE", "small")
    if name not in SIZES:
        raise ValueError(
            f"WSMOOTH_BENCH_SIZE must be one of {sorted(SIZES)}, got {name!r}"
        )
    return SIZES[name]


def make_splits(with_population=False):
    """The protocol's disjoint splits of one Purchase-like pool.

    Returns ``(X_in, y_in), (X_out, y_out)``: target members and as many
    non-members; with ``with_population`` the pool is first halved, and the
    other half, the attacker's population ``(X_pop, y_pop)``, is returned third.
    """
    from wsmooth.datasets import make_purchase_like

    s = size()
    X, y = make_purchase_like(n_samples=s["n_samples"], n_classes=s["n_classes"],
                              random_state=SEED)
    if with_population:
        X, X_pop, y, y_pop = train_test_split(X, y, test_size=0.5, stratify=y,
                                              random_state=SEED)
    X_in, X_out, y_in, y_out = train_test_split(X, y, test_size=0.5, stratify=y,
                                                random_state=SEED)
    parts = [(X_in, y_in), (X_out, y_out)]
    if with_population:
        parts.append((X_pop, y_pop))
    return tuple(parts)


def make_classifier(sigma, **params):
    """An unfitted WeightedSmoothingClassifier of the selected size."""
    from wsmooth import WeightedSmoothingClassifier

    s = size()
    return WeightedSmoothingClassifier(
        sigma=sigma,
        module__hidden_layer_sizes=s["hidden"],
        max_epochs=s["max_epochs"],
        batch_size=s["batch_size"],
        random_state=SEED,
        **params,
    )


def log_true_class_proba(clf, X, y):
    """``log p_y`` per record: the loss-threshold attack's score (higher = member)."""
    proba = clf.predict_proba(X)
    p_true = proba[np.arange(len(y)), np.searchsorted(clf.classes_, y)]
    return np.log(np.clip(p_true, 1e-30, None))


def loss_leakage_auc(clf, X_in, y_in, X_out, y_out):
    """ROC AUC of a loss-threshold attack, members against held-out records."""
    from wsmooth.metrics import membership_auc

    return membership_auc(log_true_class_proba(clf, X_in, y_in),
                          log_true_class_proba(clf, X_out, y_out))
