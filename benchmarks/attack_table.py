"""Leakage table: every attack against WS targets at several sigmas.

Carlini et al.'s setup (IEEE S&P 2022), on the embedded Purchase-like data
(``--data purchase``, the tanh MLP) or scikit-learn's bundled digits
(``--data digits``, :class:`~wsmooth.nets.DigitsCNN`):

* a pool of ``--n-samples`` records and a disjoint test set (``--n-test``);
* the target (a :class:`~wsmooth.WeightedSmoothingClassifier` at ``sigma``)
  trains on a random half of the pool;
* ``--n-shadow`` shadow models (several counts may be given: the keep masks
  of ``n`` models are a prefix of those of ``n + k``, so one cache serves all), clones of the target's configuration (same
  sigma, each with its own seed), train on random halves of the *same pool*,
  so every pool record is IN half of them (``fit(X_pool, y_pool)``);
* the query is the pool itself: the target's members against its
  non-members.

The shadows are trained once per sigma and stored in ``--cache-dir``; every
attack reuses them (LiRA online uses IN and OUT models, the offline variants
and the threshold attacks the same models through the keep masks).

Printed per sigma: test accuracy, then AUC, TPR at 0.1% and at 1% FPR for
correctness, the global loss threshold, the class-dependent confidence, entropy
and mentr thresholds, the learned attack, LiRA offline/online (per-record and
fixed variance, "fixv", and the default that chooses between them), RMIA
offline/online, the label-only attack and the
privacy risk score (``--methods`` picks a subset). ``--json FILE`` also writes
the rows as JSON.

Example (6.5 minutes on this 2-core machine, shared with other work)::

    OMP_NUM_THREADS=1 python benchmarks/attack_table.py --n-samples 4000 \\
        --n-shadow 8 --epochs 20 --sigmas 0 0.1 0.5 --n-jobs 2
"""

import argparse
import itertools
import json
import os
import tempfile
import time
import warnings

import numpy as np

ATTACKS = [
    ("correctness", "correctness", None),
    ("loss", "loss", None),
    ("confidence", "confidence", None),
    ("entropy", "entropy", None),
    ("mentr", "mentr", None),
    ("learned", "learned", None),
    ("lira", "lira", None),  # the default: online, variance chosen on the shadows
    ("lira off auto", "lira", {"online": False}),
    ("lira offline", "lira", {"online": False, "fixed_variance": False}),
    ("lira off fixv", "lira", {"online": False, "fixed_variance": True}),
    ("lira online", "lira", {"online": True, "fixed_variance": False}),
    ("lira on fixv", "lira", {"online": True, "fixed_variance": True}),
    ("rmia offline", "rmia", {"online": False}),
    ("rmia online", "rmia", {"online": True}),
    ("label_only", "label_only", None),
    ("risk", "risk", None),
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=["purchase", "digits"], default="purchase")
    parser.add_argument("--n-samples", type=int, default=4000, help="pool size")
    parser.add_argument("--n-test", type=int, default=1000, help="test set size")
    parser.add_argument("--n-classes", type=int, default=100)
    parser.add_argument("--n-shadow", type=int, nargs="+", default=[8])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=[1024, 512, 256, 128],
        help="hidden layer sizes of the MLP (default: the protocol's)",
    )
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0.0, 0.1, 0.5])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=1, help="shadow training jobs")
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="where shadow models are stored (one subfolder per setting); "
        "default: a fresh temporary folder",
    )
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        metavar="NAME",
        help="attack rows to run (names as printed, e.g. loss mentr 'lira online'); "
        "default: all",
    )
    parser.add_argument("--json", default=None, metavar="FILE", help="rows as JSON")
    return parser.parse_args(argv)


def load_data(args):
    """Pool and test records of the chosen data set, and the module settings."""
    if args.data == "digits":
        from sklearn.datasets import load_digits

        from wsmooth.nets import DigitsCNN

        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        order = np.random.default_rng(args.seed).permutation(len(y))
        X, y = X[order], y[order]
        n_pool = min(args.n_samples, len(y) - args.n_test)
        return X[:n_pool], y[:n_pool], X[n_pool:], y[n_pool:], {"module": DigitsCNN}
    from wsmooth.datasets import make_purchase_like

    X, y = make_purchase_like(
        args.n_samples + args.n_test, n_classes=args.n_classes, random_state=args.seed
    )
    n = args.n_samples
    module = {"module__hidden_layer_sizes": tuple(args.hidden)}
    return X[:n], y[:n], X[n:], y[n:], module


def main(argv=None):
    args = parse_args(argv)
    import torch

    torch.set_num_threads(1)  # the parallelism is across models

    from wsmooth import MembershipInferenceAttack, WeightedSmoothingClassifier

    X_pool, y_pool, X_test, y_test, module = load_data(args)
    n_pool = len(y_pool)
    rng = np.random.default_rng(args.seed)
    member = np.zeros(n_pool, dtype=bool)
    member[rng.permutation(n_pool)[: n_pool // 2]] = True
    cache_root = args.cache_dir or tempfile.mkdtemp(prefix="wsmooth-attack-table-")

    print(
        f"data={args.data}, pool={n_pool} (target members {member.sum()}, "
        f"non-members {(~member).sum()}), test={len(y_test)}, "
        f"classes={len(np.unique(y_pool))}, n_shadow={args.n_shadow}, "
        f"epochs={args.epochs}, module={module}, seed={args.seed}, "
        f"cache={cache_root}"
    )
    header = f"{'sigma':>6} {'test acc':>8} {'shadows':>7}  {'attack':<13} {'AUC':>6} "
    header += f"{'TPR@0.1%':>9} {'TPR@1%':>7}"
    rows = []
    for sigma in args.sigmas:
        t0 = time.perf_counter()
        target = WeightedSmoothingClassifier(
            sigma=sigma,
            max_epochs=args.epochs,
            random_state=args.seed,
            **module,
        ).fit(X_pool[member], y_pool[member])
        acc = float(np.mean(target.predict(X_test) == y_test))
        train_acc = float(np.mean(target.predict(X_pool[member]) == y_pool[member]))
        cache = os.path.join(cache_root, f"sigma-{sigma:g}")
        for n_shadow, (name, method, params) in itertools.product(
            args.n_shadow, ATTACKS
        ):
            if args.methods and name not in args.methods:
                continue
            mia = MembershipInferenceAttack(
                target,
                method=method,
                method_params=params,
                n_shadow=n_shadow,
                cache_dir=cache,
                random_state=args.seed,
                n_jobs=args.n_jobs,
                verbose=args.verbose,
            ).fit(X_pool, y_pool)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                report = mia.evaluate(
                    X_pool[member], y_pool[member], X_pool[~member], y_pool[~member]
                )
            rows.append(
                (
                    sigma,
                    acc,
                    n_shadow,
                    name,
                    report.auc,
                    *(report.tpr_at_fpr[f] for f in (0.001, 0.01)),
                )
            )
        print(
            f"sigma={sigma:g}: train acc {train_acc:.3f}, test acc {acc:.3f}, "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )
    print()
    print(header)
    for sigma, acc, n_shadow, name, auc, t01, t1 in rows:
        print(
            f"{sigma:>6g} {acc:>8.3f} {n_shadow:>7}  {name:<13} {auc:>6.3f} "
            f"{t01:>9.4f} {t1:>7.4f}"
        )
    print("(chance: AUC 0.5, TPR@0.1% = 0.001, TPR@1% = 0.01)")
    if args.json:
        keys = ("sigma", "test_accuracy", "n_shadow", "attack", "auc", "tpr@0.1%",
                "tpr@1%")
        with open(args.json, "w") as f:
            json.dump([dict(zip(keys, r, strict=True)) for r in rows], f, indent=1)


if __name__ == "__main__":
    main()
