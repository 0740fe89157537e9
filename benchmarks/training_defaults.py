"""Test accuracy of the undefended network per epoch: the command's defaults.

For each data set and candidate setting (network, learning rate), the
undefended network of ``wsmooth`` (the ``none`` defence) trains on the
members of the pool protocol, as the command's target does (20% of the
records held out for test, half of the rest members), on seeds 0, 1, 2. The
test accuracy is read after every epoch (Adam without a schedule: the model
after epoch ``e`` of a longer run is the model an ``e``-epoch run trains),
with the training time up to that epoch. The table prints the mean ± std
over the seeds at the epochs asked, so the epochs where the accuracy reaches
its plateau can be read off::

    PYTHONPATH=. OMP_NUM_THREADS=1 nice python -W ignore \
        benchmarks/training_defaults.py --data purchase-like digits

``--data`` takes ``purchase-like`` (2,500 records, 10 classes),
``purchase-like-100`` (10,000 records, 100 classes) and ``digits`` (1,797
records), the command's built-in sets, and smaller or larger ones for the rule
that sets the epochs of other data from their size: ``purchase-like-500``,
``purchase-like-20000``, ``purchase-like-100-3000`` and ``digits-600``.
"""

import argparse
import time
import warnings

import numpy as np
from skorch.callbacks import Callback

from wsmooth import nets
from wsmooth.experiments import (
    TEST_SIZE,
    comparison_configurations,
    hold_out_test,
    load_dataset,
    member_mask,
    network_params,
)

#: ``{name: (data arguments, candidates)}``; a candidate is
#: ``(label, module, module params, lr)``.
DATA = {
    "purchase-like": (
        {"name": "purchase-like", "n_samples": 2500, "n_classes": 10},
        [("MLP 128, lr 1e-3", nets.MLP, {"hidden_layer_sizes": (128,)}, 1e-3),
         ("MLP 128, lr 3e-3", nets.MLP, {"hidden_layer_sizes": (128,)}, 3e-3),
         ("MLP 256, lr 1e-3", nets.MLP, {"hidden_layer_sizes": (256,)}, 1e-3)],
    ),
    "purchase-like-100": (
        {"name": "purchase-like", "n_samples": 10000, "n_classes": 100},
        [("MLP 128, lr 1e-3", nets.MLP, {"hidden_layer_sizes": (128,)}, 1e-3),
         ("MLP 128, lr 3e-3", nets.MLP, {"hidden_layer_sizes": (128,)}, 3e-3),
         ("MLP 256, lr 1e-3", nets.MLP, {"hidden_layer_sizes": (256,)}, 1e-3),
         ("MLP 256, lr 3e-3", nets.MLP, {"hidden_layer_sizes": (256,)}, 3e-3),
         ("MLP 512, lr 1e-3", nets.MLP, {"hidden_layer_sizes": (512,)}, 1e-3),
         ("MLP 1024-512-256-128", nets.MLP,
          {"hidden_layer_sizes": (1024, 512, 256, 128)}, 1e-3)],
    ),
    # smaller and larger sets: the rule for files (epochs from the steps)
    "purchase-like-500": (
        {"name": "purchase-like", "n_samples": 500, "n_classes": 10},
        [("MLP 128, lr 1e-3", nets.MLP, {"hidden_layer_sizes": (128,)}, 1e-3)],
    ),
    "purchase-like-20000": (
        {"name": "purchase-like", "n_samples": 20000, "n_classes": 10},
        [("MLP 128, lr 1e-3", nets.MLP, {"hidden_layer_sizes": (128,)}, 1e-3)],
    ),
    "purchase-like-100-3000": (
        {"name": "purchase-like", "n_samples": 3000, "n_classes": 100},
        [("MLP 256, lr 1e-3", nets.MLP, {"hidden_layer_sizes": (256,)}, 1e-3),
         ("MLP 512, lr 1e-3", nets.MLP, {"hidden_layer_sizes": (512,)}, 1e-3)],
    ),
    "digits-600": (
        {"name": "digits", "n_samples": 600, "n_classes": 10},
        [("DigitsCNN 16, lr 1e-2", nets.DigitsCNN, {"channels": 16}, 1e-2)],
    ),
    "digits": (
        {"name": "digits", "n_samples": None, "n_classes": 10},
        [("DigitsCNN 16, lr 1e-3", nets.DigitsCNN, {"channels": 16}, 1e-3),
         ("DigitsCNN 16, lr 3e-3", nets.DigitsCNN, {"channels": 16}, 3e-3),
         ("DigitsCNN 16, lr 1e-2", nets.DigitsCNN, {"channels": 16}, 1e-2)],
    ),
}


class _TestAccuracy(Callback):
    """Test accuracy and training seconds after every epoch."""

    def __init__(self, X_test, y_test):
        self.X_test, self.y_test = X_test, y_test

    def on_train_begin(self, net, **kwargs):
        self.curve, self.seconds, self._train = [], [], 0.0
        self._start = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        self._train += time.perf_counter() - self._start
        self.curve.append(float(np.mean(net.predict(self.X_test) == self.y_test)))
        self.seconds.append(self._train)
        self._start = time.perf_counter()


def curves(data, candidate, epochs, seeds):
    """``(accuracy, seconds)``, each of shape (seeds, epochs)."""
    _, module, module_params, lr = candidate
    X, y, _ = load_dataset(data["name"], n_samples=data["n_samples"],
                           n_classes=data["n_classes"], random_state=0)
    X_pool, y_pool, X_test, y_test = hold_out_test(X, y, test_size=TEST_SIZE,
                                                   random_state=0)
    acc, sec = [], []
    for seed in seeds:
        common = network_params(module, module_params, epochs=epochs,
                                batch_size=128, lr=lr, random_state=seed)
        est, _ = comparison_configurations(
            ["none"], sigma=[], warmup_epochs=0, **common
        )["none"]
        probe = _TestAccuracy(X_test, y_test)
        est.set_params(callbacks=[("test_accuracy", probe)])
        members = member_mask(y_pool, seed)
        est.fit(X_pool[members], y_pool[members])
        acc.append(probe.curve)
        sec.append(probe.seconds)
    return np.array(acc), np.array(sec)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", choices=list(DATA),
                        default=["purchase-like", "purchase-like-100", "digits"])
    parser.add_argument("--max-epochs", type=int, default=60)
    parser.add_argument("--report", type=int, nargs="+",
                        default=[3, 6, 12, 20, 30, 40, 60])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--only", nargs="+", default=None, metavar="LABEL",
                        help="candidates to run, by their label (default: all)")
    opts = parser.parse_args()
    warnings.simplefilter("ignore")
    report = [e for e in opts.report if e <= opts.max_epochs]
    for name in opts.data:
        data, candidates = DATA[name]
        print(f"\n{name}: test accuracy (mean ± std over {opts.seeds} seeds) "
              f"[training seconds per model]")
        print(f"{'setting':24s}" + "".join(f"{f'{e} ep':>23s}" for e in report))
        for candidate in candidates:
            if opts.only and candidate[0] not in opts.only:
                continue
            acc, sec = curves(data, candidate, opts.max_epochs, range(opts.seeds))
            cells = [
                f"{acc[:, e - 1].mean():.3f} ± {acc[:, e - 1].std():.3f} "
                f"[{sec[:, e - 1].mean():.2f}]"
                for e in report
            ]
            print(f"{candidate[0]:24s}" + "".join(f"{c:>23s}" for c in cells),
                  flush=True)


if __name__ == "__main__":
    main()
