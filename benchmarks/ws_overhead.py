"""Fit-time overhead of weighted smoothing over plain skorch training.

Trains the same tanh MLP on the same Purchase-like records, for the same epochs
and batch size: plain skorch ``NeuralNetClassifier`` (cross-entropy, no
gradient clipping), the undefended :class:`~wsmooth.NetClassifier` without
and with gradient clipping at 10 (the latter is the registry's ``"none"``,
the network WS trains at ``sigma=0``), :class:`~wsmooth.WeightedSmoothingClassifier`
at its defaults (``WS defaults``) and the paper's loop
(``WS reference``, :meth:`~wsmooth.WeightedSmoothingClassifier.reference`),
plus any ``--ws`` configuration given as ``key=value,...`` of WS parameters
on top of the defaults (``--ws clip_grad_relative=None``). ``--parts`` adds
the defaults with the noisy loss replaced by plain cross-entropy (``scoring
only``: each step still scores and weighs its batch), then the scoring too
(``hooks only``: the epoch hooks and the relative clipping), so that the
differences between the rows are what each part costs. ``--sigma`` and
``--warmup-epochs`` default to the classifier's own defaults;
``--warmup-epochs 0 --sigma 1`` is the worst case (every epoch noisy).
Prints the median wall and CPU time of each and their ratios to plain
skorch, the median, lowest and highest of the rounds' paired CPU-time ratios
(each fit against the plain fit of its round), the median paired ratio to
the undefended network WS trains at ``sigma=0`` (``NetClassifier clip 10``:
what WS adds to wsmooth's own training, apart from what the shared base
class saves or costs) and every run's CPU time; on a machine shared with
other work, read the CPU ratios.

The 100-class setting (the defaults) and the 10-class one::

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/ws_overhead.py \
        --n-samples 4000 --n-classes 100 --hidden 512,256 --epochs 12 --repeats 5
    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/ws_overhead.py \
        --n-samples 3000 --n-classes 10 --hidden 1024,512,256,128 --epochs 30 \
        --repeats 5

(``PYTHONPATH=.`` measures the checkout's ``wsmooth``, not an installed one.)
"""

import argparse
import statistics
import time

import numpy as np
import torch
from skorch import NeuralNetClassifier

from wsmooth import NetClassifier, WeightedSmoothingClassifier, _smoothing
from wsmooth.datasets import make_purchase_like
from wsmooth.nets import MLP


class _ScoringOnly(WeightedSmoothingClassifier):
    """The defaults with the noisy loss taken away: each noisy step scores
    and weighs its batch, then trains plain cross-entropy."""

    def train_loss(self, logits, y, X, index):
        if self._noisy_epoch() and self.refresh == "live":
            probs = torch.softmax(logits.detach(), dim=1)
            scores = self._record_step_scores(logits.detach(), y, index, probs)
            _smoothing.weights_from_statistics(
                scores, y, self._class_statistics, self.weighting
            )
            return self.get_loss(logits, y, X=X, training=True)
        return super().train_loss(logits, y, X, index)


class _HooksOnly(WeightedSmoothingClassifier):
    """The defaults with the scoring and the noisy loss taken away: the
    epoch hooks and the (relative) gradient clipping, on plain cross-entropy."""

    def train_loss(self, logits, y, X, index):
        return self.get_loss(logits, y, X=X, training=True)


def _time_fits(makers, X, y, repeats):
    """Median wall and CPU time of each maker's fit, runs interleaved.

    One untimed fit first pays for lazy imports; interleaving spreads any
    drift of the machine evenly over the contenders.
    """
    next(iter(makers.values()))().fit(X[:256], y[:256])
    wall = {name: [] for name in makers}
    cpu = {name: [] for name in makers}
    for _ in range(repeats):
        for name, make in makers.items():
            est = make()
            start, start_cpu = time.perf_counter(), time.process_time()
            est.fit(X, y)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return wall, cpu


def _sigma(text):
    """``--sigma``: a float, or ``"auto"`` (the classifier's default)."""
    return text if text == "auto" else float(text)


def _parse_params(spec):
    """``"refresh=live,clip_grad_relative=3"`` as keyword arguments."""
    params = {}
    for item in spec.split(","):
        key, _, text = item.partition("=")
        try:
            value = float(text) if "." in text or "e" in text else int(text)
        except ValueError:
            value = {"None": None, "True": True, "False": False}.get(text, text)
        params[key.strip()] = value
    return params


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = WeightedSmoothingClassifier().get_params()
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden", default="512,256")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sigma", type=_sigma, default=defaults["sigma"],
                        help="a float or 'auto' (default: the classifier's)")
    parser.add_argument(
        "--warmup-epochs", type=int, default=defaults["warmup_epochs"]
    )
    parser.add_argument("--n-classes", type=int, default=100)
    parser.add_argument(
        "--ws", action="append", default=[], metavar="KEY=VALUE,...",
        help="an extra WS configuration (repeatable)",
    )
    parser.add_argument(
        "--parts", action="store_true",
        help="also time the defaults with the noisy loss, then the scoring too, "
        "replaced by plain cross-entropy: what each part costs",
    )
    parser.add_argument(
        "--only-extra", action="store_true",
        help="time plain skorch, the NetClassifiers and the --ws configurations "
        "only",
    )
    args = parser.parse_args(argv)

    hidden = tuple(int(h) for h in args.hidden.split(","))
    X, y = make_purchase_like(
        args.n_samples, n_classes=args.n_classes, random_state=0
    )
    n_classes = len(np.unique(y))
    common = dict(
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        train_split=None,
        verbose=0,
        iterator_train__shuffle=True,
    )

    def plain():
        torch.manual_seed(0)
        return NeuralNetClassifier(
            MLP,
            module__n_features=X.shape[1],
            module__n_classes=n_classes,
            module__hidden_layer_sizes=hidden,
            criterion=torch.nn.CrossEntropyLoss,
            **common,
        )

    def net(clip_grad_norm):
        return lambda: NetClassifier(
            module__hidden_layer_sizes=hidden,
            clip_grad_norm=clip_grad_norm,
            random_state=0,
            **common,
        )

    def ws(build=WeightedSmoothingClassifier, **params):
        return lambda: build(
            module__hidden_layer_sizes=hidden,
            sigma=args.sigma,
            warmup_epochs=args.warmup_epochs,
            random_state=0,
            **common,
            **params,
        )

    print(
        f"{args.n_samples} records x 600 features, {n_classes} classes, MLP {hidden}, "
        f"{args.epochs} epochs ({args.warmup_epochs} clean), sigma {args.sigma}, "
        f"batch {args.batch_size}, "
        f"{torch.get_num_threads()} torch threads, median of {args.repeats}"
    )
    makers = {
        "plain skorch": plain,
        "NetClassifier": net(None),
        "NetClassifier clip 10": net(10.0),
    }
    if not args.only_extra:
        makers["WS defaults"] = ws()
        makers["WS reference"] = ws(WeightedSmoothingClassifier.reference)
    if args.parts:
        makers["WS defaults, scoring only"] = ws(_ScoringOnly)
        makers["WS defaults, hooks only"] = ws(_HooksOnly)
    for spec in args.ws:
        makers["WS " + spec] = ws(**_parse_params(spec))
    wall, cpu = _time_fits(makers, X, y, args.repeats)
    base_wall = statistics.median(wall["plain skorch"])
    base_cpu = statistics.median(cpu["plain skorch"])
    width = max(len(name) for name in makers)
    for name in makers:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        # each round's CPU-time ratio to that round's plain fit: drift of a
        # shared machine between rounds cancels
        paired = sorted(
            a / b for a, b in zip(cpu[name], cpu["plain skorch"], strict=True)
        )
        undefended = statistics.median(
            a / b
            for a, b in zip(cpu[name], cpu["NetClassifier clip 10"], strict=True)
        )
        print(
            f"{name:<{width}} wall {w:7.2f} s  ratio {w / base_wall:5.3f}   "
            f"cpu {c:7.2f} s  ratio {c / base_cpu:5.3f}   "
            f"paired {statistics.median(paired):5.3f} "
            f"[{paired[0]:.3f}, {paired[-1]:.3f}]   "
            f"over undefended {undefended:5.3f}   "
            f"cpu runs {[round(v, 2) for v in cpu[name]]}"
        )


if __name__ == "__main__":
    main()
