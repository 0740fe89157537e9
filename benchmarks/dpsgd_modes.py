"""Fit time of DP-SGD per Opacus grad-sample mode, against plain training.

``python benchmarks/dpsgd_modes.py`` (2 CPU threads): make_purchase_like(2000,
n_classes=10), the default MLP narrowed to (128,), 20 epochs, batch 128.
"""

import time

import torch

from wsmooth import WeightedSmoothingClassifier
from wsmooth.datasets import make_purchase_like
from wsmooth.defences import DPSGDClassifier

torch.set_num_threads(2)
X, y = make_purchase_like(2000, n_classes=10, random_state=0)
common = dict(max_epochs=20, module__hidden_layer_sizes=(128,), random_state=0)


def timed(est):
    t = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - t


plain = min(timed(WeightedSmoothingClassifier(sigma=0.0, **common)) for _ in range(2))
print(f"plain: {plain:.2f}s")
for mode in ("hooks", "functorch", "ew"):
    t = min(timed(DPSGDClassifier(grad_sample_mode=mode, **common)) for _ in range(2))
    print(f"dpsgd {mode}: {t:.2f}s, {t / plain:.2f}x plain", flush=True)
