"""Per-epoch trace of one weighted-smoothing fit: loss, gradient norms, fit.

For each epoch: the mean training loss, the median and largest gradient norm
before clipping, the share of steps that clipping cut, and the accuracy and
mean margin (top-1 minus top-2 probability) on the first 2,000 training
records. The probe restores torch's global random state, so the fit is the
same as without it. ``--params`` are departures from the paper's loop
(:meth:`~wsmooth.WeightedSmoothingClassifier.reference`). What showed why
some seeds collapse:

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/ws_gradient_trace.py \\
        --seed 4 --params '{"weighting": "zscore_clipped"}'
    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/ws_gradient_trace.py \\
        --seed 4 --params '{"weighting": "zscore_clipped", "noise_huber": 0.1}'
"""

import argparse
import json

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from wsmooth import WeightedSmoothingClassifier
from wsmooth.datasets import make_purchase_like


class TracedClassifier(WeightedSmoothingClassifier):
    """Records every step's gradient norm and bound; prints one line per epoch."""

    def _clip_limit(self, norm):
        limit = super()._clip_limit(norm)
        self._norms.append((float(norm), limit))
        return limit

    def on_epoch_begin(self, net, **kwargs):
        self._norms = []
        super().on_epoch_begin(net, **kwargs)

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        norms, limits = np.array(self._norms).T
        state = torch.get_rng_state()
        proba = self.predict_proba(self.probe_[0])
        torch.set_rng_state(state)
        top2 = np.sort(proba, axis=1)[:, -2:]
        loss = np.mean([b["train_loss"] for b in self.history[-1, "batches"]])
        print(json.dumps({
            "epoch": len(self.history),
            "loss": round(float(loss), 3),
            "grad_norm_median": round(float(np.median(norms)), 3),
            "grad_norm_max": round(float(norms.max()), 1),
            "clipped": round(float(np.mean(norms > limits)), 3),
            "train_accuracy": round(float(np.mean(proba.argmax(1) == self.probe_[1])), 3),
            "margin": round(float(np.mean(top2[:, 1] - top2[:, 0])), 3),
        }), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20000)
    parser.add_argument("--n-classes", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--sigma", type=float, default=0.2)
    parser.add_argument("--hidden", default="1024,512,256,128")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--params", default="{}",
                        help="further classifier parameters, as JSON")
    args = parser.parse_args(argv)
    X, y = make_purchase_like(args.n_samples, n_classes=args.n_classes, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=0
    )
    # --params are departures from the paper's loop
    clf = TracedClassifier.reference(
        module__hidden_layer_sizes=tuple(int(h) for h in args.hidden.split(",")),
        max_epochs=args.epochs,
        sigma=args.sigma,
        random_state=args.seed,
        **json.loads(args.params),
    )
    # the classes must be known before the first epoch's probe
    clf.probe_ = (X_tr[:2000], np.searchsorted(np.unique(y_tr), y_tr[:2000]))
    clf.fit(X_tr, y_tr)
    print(f"test accuracy {np.mean(clf.predict(X_te) == y_te):.4f}")


if __name__ == "__main__":
    main()
