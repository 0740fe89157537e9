"""
===============================
Weighted smoothing: quick start
===============================

Train the same small network twice on the same records, once undefended
(``sigma=0``) and once with weighted smoothing, then compare test accuracy and
how much each model leaks about its training records, measured by a simple
loss-threshold attack.

``sigma=0`` *is* the undefended model: the same training loop, the same
initialisation and shuffling, no noise. See :ref:`weighted_smoothing`.
"""

# %%
# Data
# ----
# :func:`~wsmooth.datasets.make_purchase_like` generates binary records shaped
# like Purchase100, where every class is a mixture of dense and sparse
# sub-clusters. Half of the records are the *members* (the training set), the
# other half *non-members* (held out, also the test set).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from wsmooth import WeightedSmoothingClassifier
from wsmooth.datasets import make_purchase_like
from wsmooth.metrics import membership_auc

X, y = make_purchase_like(n_samples=3000, n_classes=20, random_state=0)
X_in, X_out, y_in, y_out = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
print(f"{len(y_in)} members, {len(y_out)} non-members, {X.shape[1]} features")

# %%
# Two models
# ----------
# A small tanh MLP instead of the default 1024-512-256-128 network keeps the
# example fast. Every skorch parameter (``max_epochs``, ``batch_size``,
# ``module__*``, ...) works as usual. The first 4 epochs are clean warm-up
# (``warmup_epochs=4``); the noise starts at the 5th.
common = dict(
    module__hidden_layer_sizes=(128,),
    max_epochs=12,
    random_state=0,
)
models = {
    "undefended (sigma=0)": WeightedSmoothingClassifier(sigma=0.0, **common),
    "WS (sigma=0.5)": WeightedSmoothingClassifier(sigma=0.5, **common),
}
for clf in models.values():
    clf.fit(X_in, y_in)

# %%
# Leakage: a loss-threshold attack
# --------------------------------
# The attack scores each record by its negative loss, :math:`\log p_y`: the
# lower the loss, the more likely a member. Its ROC AUC between members and
# non-members is 0.5 for a model that leaks nothing through its loss.


def neg_loss(clf, X, y):
    """log p_y, the negative cross-entropy of each record."""
    proba = clf.predict_proba(X)
    p_true = proba[np.arange(len(y)), np.searchsorted(clf.classes_, y)]
    return np.log(np.clip(p_true, 1e-30, None))


print(f"{'model':<22}{'train acc':>10}{'test acc':>10}{'loss AUC':>10}")
for name, clf in models.items():
    auc = membership_auc(neg_loss(clf, X_in, y_in), neg_loss(clf, X_out, y_out))
    print(
        f"{name:<22}{clf.score(X_in, y_in):>10.3f}"
        f"{clf.score(X_out, y_out):>10.3f}{auc:>10.3f}"
    )

# %%
# What the attacker sees
# ----------------------
# The loss :math:`-\log p_y` of members and non-members, on a log scale.
# Without defence, the members' losses sit clearly below the non-members';
# weighted smoothing pulls the two distributions together, which is what the
# lower AUC above measures.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
bins = np.logspace(-4, 1.5, 34)  # losses are clipped into this range
for ax, (name, clf) in zip(axes, models.items(), strict=True):
    for X_, y_, label in [(X_in, y_in, "members"), (X_out, y_out, "non-members")]:
        loss = np.clip(-neg_loss(clf, X_, y_), bins[0], bins[-1])
        ax.hist(loss, bins=bins, alpha=0.6, label=label)
    ax.set(title=name, xscale="log", xlabel=r"loss $-\log p_y$")
axes[0].set_ylabel("records")
axes[0].legend(loc="upper left")
fig.tight_layout()

# %%
# The per-record weights
# ----------------------
# The defended model keeps the weights of its last refresh,
# ``vulnerability_weights_`` (one per training record; never pickled). The
# noise on record :math:`i` has standard deviation
# :math:`|1 - w_i| \, g_i \, \sigma`: confidently fitted records
# (:math:`w_i < 0`, large margin :math:`g_i`) get the most; the few records
# far above :math:`w_i = 1` get noise again, scaled by their (usually small)
# margin.
weights = models["WS (sigma=0.5)"].vulnerability_weights_
fig, ax = plt.subplots(figsize=(5, 3))
ax.hist(weights, bins=50)
ax.set(xlabel="vulnerability weight $w_i$", ylabel="training records", yscale="log")
fig.tight_layout()
plt.show()
