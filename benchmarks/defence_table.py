"""Accuracy, fit-time ratio and threshold-attack AUC of each defence at one setting.

Run from a checkout: ``python benchmarks/defence_table.py`` (about 10 minutes on
2 CPU cores). Members: 1000 records; non-members: 1000 others; 500 more are
the reference set of adversarial regularisation and MemGuard.
"""

import sys
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from wsmooth import WeightedSmoothingClassifier
from wsmooth.attacks._signals import cross_entropy, modified_entropy
from wsmooth.datasets import make_purchase_like
from wsmooth.defences import (
    AdversarialRegularizationClassifier,
    DPSGDClassifier,
    HAMPClassifier,
    MemGuard,
    RelaxLossClassifier,
)

torch.set_num_threads(2)
X, y = make_purchase_like(2500, n_classes=10, random_state=0)
Xm, ym, Xn, yn, Xr, yr = X[:1000], y[:1000], X[1000:2000], y[1000:2000], X[2000:], y[2000:]
common = dict(max_epochs=20, module__hidden_layer_sizes=(128,), random_state=0)
ref = dict(X_reference=Xr, y_reference=yr)

settings = [
    ("none", lambda: WeightedSmoothingClassifier(sigma=0.0, **common), {}),
    ("ws sigma=0.1", lambda: WeightedSmoothingClassifier(sigma=0.1, **common), {}),
    ("dpsgd eps=8", lambda: DPSGDClassifier(target_epsilon=8.0, target_delta=1e-3, **common), {}),
    ("relaxloss alpha=1", lambda: RelaxLossClassifier(alpha=1.0, **common), {}),
    ("advreg lambda=1", lambda: AdversarialRegularizationClassifier(reg_lambda=1.0, **common), ref),
    ("memguard budget=0.5", lambda: MemGuard(WeightedSmoothingClassifier(sigma=0.0, **common), prefit=False, budget=0.5, random_state=0), ref),
    ("hamp gamma=0.95", lambda: HAMPClassifier(gamma=0.95, **common), {}),
]
only = sys.argv[1:]
# warm-up: the first fit of a process pays for lazy imports and thread start-up
WeightedSmoothingClassifier(sigma=0.0, **{**common, "max_epochs": 1}).fit(Xm, ym)
membership = np.r_[np.ones(len(ym)), np.zeros(len(yn))]
print("| defence | test acc | fit time (s) | ratio to none | mentr AUC | loss AUC |")
print("|---|---|---|---|---|---|")
base = None
for name, make, fit_params in settings:
    if only and name.split()[0] not in only and name != "none":
        continue
    t = time.perf_counter()
    est = make().fit(Xm, ym, **fit_params)
    elapsed = time.perf_counter() - t
    base = base or elapsed
    pm, pn = est.predict_proba(Xm), est.predict_proba(Xn)
    # encoded labels: classes are 0..9
    aucs = [
        roc_auc_score(membership, -np.r_[f(pm, ym), f(pn, yn)])
        for f in (modified_entropy, cross_entropy)
    ]
    acc = est.score(Xn, yn)
    print(f"| {name} | {acc:.3f} | {elapsed:.1f} | {elapsed / base:.2f} | "
          f"{aucs[0]:.3f} | {aucs[1]:.3f} |", flush=True)
