"""DP-SGD's test accuracy at each epsilon: the shared training against the tuned one.

``python benchmarks/dpsgd_tuning.py [seeds]`` (one CPU thread): the command's
default data (``make_purchase_like(2500, n_classes=10)``, 20% held out as the
test set, 900 members trained on, as ``wsmooth`` splits it), the MLP (128,).
For each epsilon of the registry's grid it fits DP-SGD with

* ``shared``: the command's plain-training settings for these data (12 epochs,
  batch 128, Adam at 1e-3, clipping norm 1.0), what the ``dpsgd`` entry
  trained with before it had a schedule of its own;
* ``short``: a quarter of the records a step, 30 epochs, Adam at 1e-2,
  clipping norm 1.0, the runner-up: half the time of
* ``tuned``: :data:`wsmooth.defences._dpsgd.TUNED_TRAINING` (a quarter of the
  records a step, 60 epochs, Adam at 3e-3, clipping norm 1.0),

over ``seeds`` seeds (3 by default; data, split and training all seeded), and
prints the mean and standard deviation of the test accuracy and the mean fit
time, and the undefended network's accuracy for reference.
"""

import sys
import time
import warnings

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from wsmooth.datasets import make_purchase_like
from wsmooth.defences import DPSGDClassifier, get_defence
from wsmooth.defences._dpsgd import TUNED_EPSILONS, TUNED_TRAINING

torch.set_num_threads(1)
# Opacus' RDP accountant at epsilon 1000: its bound is loose there, still valid
warnings.filterwarnings("ignore", message="Optimal order is the smallest alpha")
SEEDS = range(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
NET = dict(module__hidden_layer_sizes=(128,))
SHARED = dict(max_epochs=12, batch_size=128, lr=1e-3, max_grad_norm=1.0)
SHORT = dict(sample_rate=0.25, max_epochs=30, lr=1e-2, max_grad_norm=1.0)
SETTINGS = {"shared": SHARED, "short": SHORT, "tuned": TUNED_TRAINING}


def split(seed):
    X, y = make_purchase_like(2500, n_classes=10, random_state=seed)
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=0.2, random_state=seed, stratify=y)
    return X_pool[:900], y_pool[:900], X_test, y_test


def measure(make):
    accuracy, seconds = [], []
    for seed in SEEDS:
        X, y, X_test, y_test = split(seed)
        est = make(seed)
        start = time.perf_counter()
        est.fit(X, y)
        seconds.append(time.perf_counter() - start)
        accuracy.append(est.score(X_test, y_test))
    mean, std = np.mean(accuracy), np.std(accuracy)
    return f"{mean:.3f} ± {std:.3f}  {np.mean(seconds):5.1f}s"


print(f"{'setting':8} {'epsilon':>8}  test accuracy  fit time ({len(SEEDS)} seeds)")
print(f"{'none':8} {'-':>8}  " + measure(lambda seed: get_defence("none").build(
    max_epochs=12, random_state=seed, **NET)), flush=True)
for eps in TUNED_EPSILONS:
    for name, setting in SETTINGS.items():
        row = measure(lambda seed: DPSGDClassifier(
            target_epsilon=eps, random_state=seed, **NET, **setting))
        print(f"{name:8} {eps:8g}  {row}", flush=True)
