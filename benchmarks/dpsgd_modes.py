"""Fit time of DP-SGD per Opacus grad-sample mode, against plain training.

``python benchmarks/dpsgd_modes.py`` (2 CPU threads): make_purchase_like(1000,
n_classes=10), the default MLP narrowed to (128,), 10 epochs, batch 128; one
warm-up fit of each (the first DP-SGD fit also calibrates the noise, which
is then kept for the process), then ``--repeats`` rounds of interleaved timed
fits; the median of each is printed.
"""

import statistics
import sys
import time

import torch

from wsmooth.datasets import make_purchase_like
from wsmooth.defences import DPSGDClassifier, get_defence

torch.set_num_threads(2)
X, y = make_purchase_like(1000, n_classes=10, random_state=0)
common = dict(max_epochs=10, module__hidden_layer_sizes=(128,), random_state=0)


def timed(est):
    t = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - t


modes = [a for a in sys.argv[1:] if not a.isdigit()] or ["hooks", "functorch", "ew"]
repeats = next((int(a) for a in sys.argv[1:] if a.isdigit()), 3)
makers = {"plain": lambda: get_defence("none").build(**common)}
for mode in modes:
    makers[mode] = lambda mode=mode: DPSGDClassifier(grad_sample_mode=mode, **common)
for make in makers.values():  # warm-up: imports, threads, noise calibration
    timed(make())
times = {name: [] for name in makers}
for _ in range(repeats):
    for name, make in makers.items():
        times[name].append(timed(make()))
plain = statistics.median(times["plain"])
print(f"plain: {plain:.2f}s (median of {repeats})")
for mode in modes:
    t = statistics.median(times[mode])
    print(f"dpsgd {mode}: {t:.2f}s, {t / plain:.2f}x plain", flush=True)
