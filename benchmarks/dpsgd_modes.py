"""Fit time of DP-SGD per Opacus grad-sample mode, against plain training.

``python benchmarks/dpsgd_modes.py`` (2 CPU threads): make_purchase_like(1000,
n_classes=10), the default MLP narrowed to (128,), 10 epochs, batch 128; one
warm-up fit, then one timed fit each.
"""

import sys
import time

import torch

from wsmooth import WeightedSmoothingClassifier
from wsmooth.datasets import make_purchase_like
from wsmooth.defences import DPSGDClassifier

torch.set_num_threads(2)
X, y = make_purchase_like(1000, n_classes=10, random_state=0)
common = dict(max_epochs=10, module__hidden_layer_sizes=(128,), random_state=0)


def timed(est):
    t = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - t


timed(WeightedSmoothingClassifier(sigma=0.0, **{**common, "max_epochs": 1}))
plain = timed(WeightedSmoothingClassifier(sigma=0.0, **common))
print(f"plain: {plain:.2f}s")
for mode in sys.argv[1:] or ("hooks", "functorch", "ew"):
    t = timed(DPSGDClassifier(grad_sample_mode=mode, **common))
    print(f"dpsgd {mode}: {t:.2f}s, {t / plain:.2f}x plain", flush=True)
