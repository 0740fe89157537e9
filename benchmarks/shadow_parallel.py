"""Wall time of shadow training with n_jobs=1 against n_jobs=2 (joblib, loky).

The same shadow set (``--n-shadow`` WeightedSmoothingClassifier models on
halves of a Purchase-like population, same seeds) is trained sequentially and
with two worker processes, and the models are checked to be identical. Torch
runs one thread per model in both cases, so the comparison is of the
parallelism across models, not of intra-op threads: the workers get
``OMP_NUM_THREADS=1`` from loky, and the sequential run calls
``torch.set_num_threads(1)``. ``--torch-threads`` also times the sequential
run with torch's own default threads, for reference.

The loky pool is started, and every process has trained a tiny model, before
timing, so the times are those of the training, not of the start-up; with
``--repeats`` the best time of each setting is kept.

Example::

    python benchmarks/shadow_parallel.py --n-shadow 8 --n-samples 2000 --epochs 10
"""

import argparse
import time

import numpy as np


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-shadow", type=int, default=8)
    parser.add_argument("--n-samples", type=int, default=2000, help="population")
    parser.add_argument("--n-classes", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 128])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--torch-threads",
        action="store_true",
        help="also time n_jobs=1 with torch's default number of threads",
    )
    return parser.parse_args(argv)


def _warm_up():
    """Import torch and wsmooth and train a tiny model: first-call costs."""
    import torch

    from wsmooth import WeightedSmoothingClassifier

    rng = np.random.default_rng(0)
    X = rng.random((64, 8), dtype=np.float32)
    WeightedSmoothingClassifier(max_epochs=1, module__hidden_layer_sizes=(8,)).fit(
        X, np.arange(64) % 2
    )
    return torch.get_num_threads()


def main(argv=None):
    args = parse_args(argv)
    import joblib
    import torch

    from wsmooth import WeightedSmoothingClassifier
    from wsmooth.attacks import fit_shadow_models
    from wsmooth.datasets import make_purchase_like

    X, y = make_purchase_like(args.n_samples, n_classes=args.n_classes, random_state=0)
    template = WeightedSmoothingClassifier(
        sigma=0.1,
        max_epochs=args.epochs,
        module__hidden_layer_sizes=tuple(args.hidden),
    )
    print(
        f"{args.n_shadow} shadow models, population {args.n_samples} x "
        f"{X.shape[1]}, {args.n_classes} classes, MLP {tuple(args.hidden)}, "
        f"{args.epochs} epochs, {joblib.cpu_count()} CPUs"
    )

    def run(n_jobs):
        t = time.perf_counter()
        shadows = fit_shadow_models(
            template, X, y, n_shadow=args.n_shadow, random_state=0, n_jobs=n_jobs
        )
        return time.perf_counter() - t, shadows

    default_threads = torch.get_num_threads()
    _warm_up()
    worker_threads = joblib.Parallel(n_jobs=2)(
        joblib.delayed(_warm_up)() for _ in range(2)
    )
    print(f"torch threads in the loky workers: {worker_threads}")

    times = {}
    results = {}
    settings = [("n_jobs=1, torch 1 thread", 1, 1), ("n_jobs=2 (loky)", 2, 1)]
    if args.torch_threads:
        settings.insert(1, (f"n_jobs=1, torch {default_threads} threads", 1, None))
    for _ in range(args.repeats):
        for label, n_jobs, threads in settings:
            torch.set_num_threads(threads or default_threads)
            elapsed, shadows = run(n_jobs)
            times.setdefault(label, []).append(elapsed)
            results[label] = shadows
    torch.set_num_threads(default_threads)

    ref = results[settings[0][0]].predict_proba(X[:200])
    for label, shadows in results.items():
        same = np.allclose(shadows.predict_proba(X[:200]), ref, atol=1e-6)
        print(f"{label:<28} {min(times[label]):7.1f} s   same models: {same}")
    base = min(times[settings[0][0]])
    par = min(times["n_jobs=2 (loky)"])
    print(f"speed-up n_jobs=2 over n_jobs=1 (1 torch thread each): {base / par:.2f}x")
    if args.torch_threads:
        threaded = min(times[settings[1][0]])
        print(
            f"speed-up n_jobs=2 over n_jobs=1 with {default_threads} torch "
            f"threads: {threaded / par:.2f}x"
        )


if __name__ == "__main__":
    main()
