"""Screen of candidate defaults for weighted smoothing: stability and trade-off.

For each candidate configuration (extra parameters of
:class:`wsmooth.WeightedSmoothingClassifier`), each ``sigma`` and each seed,
trains on a stratified half of the data (the members) and records the test
accuracy on the other half, the AUC of a loss-threshold attack (the log
true-class probability, members against the other half) and the fit time.
The split is fixed (``random_state=0``); only the training seed changes.

Data sets (``--data``), with the ``wsmooth`` command's networks:

- ``purchase10``: embedded Purchase-like data, 2,500 records, 10 classes,
  MLP (128,), 12 epochs;
- ``purchase50``: 8,000 records, 50 classes, MLP (256, 128), 20 epochs;
- ``purchase100``: 4,000 records, 100 classes, MLP (256, 128), 20 epochs;
- ``digits``: scikit-learn's digits scaled to [0, 1], ``DigitsCNN`` with
  16 channels, 60 epochs;
- ``purchase100-large``: 20,000 records, 100 classes, MLP
  (1024, 512, 256, 128), 30 epochs (the tuning guide's stability setting,
  where the reference collapsed; about two minutes a fit).

Adam at lr 1e-3 (``--lr``), batch 128, every other parameter at the
classifier's default. A run *collapses* when its accuracy is under half the
median of the other seeds' at the same setting, or near chance (less than a
tenth of the way from chance to 1). The table gives, per setting, the mean
+- population std, the minimum and the collapse count of the accuracy, the
mean AUC, the median fit seconds, and the accuracy of the reference's
privacy-utility curve at the setting's mean AUC (the upper envelope of the
reference's and the clean model's mean points, linearly interpolated):
``vs ref`` is the setting's accuracy minus that.

Every finished run is written to ``--json`` at once; a rerun skips them
(resumable). Examples::

    OMP_NUM_THREADS=1 PYTHONPATH=. nice -n 5 python benchmarks/ws_defaults.py \\
        --data purchase10 --seeds 3 --json runs/ws_defaults.json
    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/ws_defaults.py \\
        --data digits --seeds 5 --configs reference relative live+relative \\
        --json runs/ws_defaults.json
    # only the table of what is in the file:
    python benchmarks/ws_defaults.py --data digits --json runs/ws_defaults.json \\
        --table-only
"""

import argparse
import json
import os
import statistics
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from wsmooth import WeightedSmoothingClassifier
from wsmooth.datasets import make_purchase_like
from wsmooth.metrics import membership_auc

#: name -> extra parameters of the classifier. "clean" runs sigma=0 only.
CANDIDATES = {
    "clean": {"sigma": 0.0},
    "reference": {},  # the paper's loop, WeightedSmoothingClassifier.reference()
    "relative": {"clip_grad_relative": 3.0},
    "live": {"refresh": "live"},
    "live+relative": {"refresh": "live", "clip_grad_relative": 3.0},
    "live+relative+clipped": {
        "refresh": "live", "clip_grad_relative": 3.0, "weighting": "zscore_clipped",
    },
    "relative+clipped": {"clip_grad_relative": 3.0, "weighting": "zscore_clipped"},
    "live+clipped": {"refresh": "live", "weighting": "zscore_clipped"},
    "huber+relative": {"noise_huber": 0.1, "clip_grad_relative": 3.0},
    # the wsmooth command's warm-up (3 epochs)
    "reference@w3": {"warmup_epochs": 3},
    "live+relative+clipped@w3": {
        "refresh": "live", "clip_grad_relative": 3.0, "weighting": "zscore_clipped",
        "warmup_epochs": 3,
    },
    "live+relative2": {"refresh": "live", "clip_grad_relative": 2.0},
    "live+relative5": {"refresh": "live", "clip_grad_relative": 5.0},
}
DEFAULT_CONFIGS = [
    "clean", "reference", "relative", "live+relative", "live+relative+clipped",
    "relative+clipped", "live",
]

#: name -> (records, classes, hidden layers, epochs); None: digits.
DATASETS = {
    "purchase10": (2500, 10, (128,), 12),
    "purchase50": (8000, 50, (256, 128), 20),
    "purchase100": (4000, 100, (256, 128), 20),
    "digits": (None, 10, None, 60),
    # the tuning guide's stability setting, where the reference collapsed
    "purchase100-large": (20000, 100, (1024, 512, 256, 128), 30),
}

#: Share of the way from chance to 1 under which a run is near chance.
NEAR_CHANCE = 0.1


def load(name):
    """``(X, y, estimator parameters)`` of a data set of :data:`DATASETS`."""
    n, k, hidden, epochs = DATASETS[name]
    if name == "digits":
        from sklearn.datasets import load_digits

        from wsmooth.nets import DigitsCNN

        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        params = {"module": DigitsCNN, "module__channels": 16}
    else:
        X, y = make_purchase_like(n, n_classes=k, random_state=0)
        params = {"module__hidden_layer_sizes": hidden}
    return X, y, {**params, "max_epochs": epochs, "batch_size": 128}


def _log_true_proba(clf, X, y):
    proba = clf.predict_proba(X)
    rows = np.arange(len(y))
    return np.log(np.clip(proba[rows, np.searchsorted(clf.classes_, y)], 1e-30, None))


def run_key(data, lr, config, sigma, seed):
    return f"{data}|lr={lr:g}|{config}|sigma={sigma:g}|seed={seed}"


def one_run(split, base, extra, sigma, seed):
    """Fit one model; its figures as a dict (``error`` when training diverged)."""
    X_tr, X_te, y_tr, y_te = split
    # candidates are departures from the paper's loop (the defaults of the
    # classifier are "live+relative+clipped")
    clf = WeightedSmoothingClassifier.reference(
        random_state=seed, **base, **{"sigma": sigma, **extra}
    )
    start, start_cpu = time.perf_counter(), time.process_time()
    try:
        clf.fit(X_tr, y_tr)
    except Exception as exc:  # noqa: BLE001 - a diverged run is a result
        return {"accuracy": None, "auc": None, "error": f"{type(exc).__name__}: {exc}",
                "fit_s": time.perf_counter() - start}
    fit_s = time.perf_counter() - start
    fit_cpu = time.process_time() - start_cpu
    acc = float(np.mean(clf.predict(X_te) == y_te))
    auc = membership_auc(_log_true_proba(clf, X_tr, y_tr),
                         _log_true_proba(clf, X_te, y_te))
    train_acc = float(np.mean(clf.predict(X_tr) == y_tr))
    return {"accuracy": acc, "auc": float(auc), "train_accuracy": train_acc,
            "fit_s": fit_s, "fit_cpu_s": fit_cpu}


def _save(path, results):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def collapse_flags(accs, chance):
    """Per run: near chance, or under half the median of the other seeds."""
    floor = chance + NEAR_CHANCE * (1 - chance)
    flags = []
    for i, a in enumerate(accs):
        others = [b for j, b in enumerate(accs) if j != i]
        low = bool(others) and a < 0.5 * statistics.median(others)
        flags.append(a < floor or low)
    return flags


def _frontier(points):
    """Upper envelope ``(auc, acc)`` arrays, AUC ascending."""
    front = []
    for auc, acc in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or acc > front[-1][1]:
            front.append((auc, acc))
    return np.array(front).T


def summarise(results, data, lr, configs, sigmas, chance):
    """Rows ``(config, sigma, stats)`` for the runs of ``results`` found."""
    rows = []
    for config in configs:
        for sigma in ([0.0] if config == "clean" else sigmas):
            prefix = run_key(data, lr, config, sigma, 0).rsplit("|", 1)[0] + "|"
            runs = sorted(
                ((int(k.rsplit("=", 1)[1]), v) for k, v in results.items()
                 if k.startswith(prefix)),
            )
            if not runs:
                continue
            accs = [v["accuracy"] if v["accuracy"] is not None else 0.0
                    for _, v in runs]
            aucs = [v["auc"] for _, v in runs if v["auc"] is not None]
            flags = collapse_flags(accs, chance)
            rows.append((config, sigma, {
                "n": len(runs), "acc_mean": float(np.mean(accs)),
                "acc_std": float(np.std(accs)), "acc_min": min(accs),
                "collapses": int(sum(flags)),
                "auc_mean": float(np.mean(aucs)) if aucs else float("nan"),
                "auc_std": float(np.std(aucs)) if aucs else float("nan"),
                "fit_s": statistics.median(v["fit_s"] for _, v in runs),
                "per_seed": accs,
            }))
    ref = [(s["auc_mean"], s["acc_mean"]) for c, _, s in rows
           if c in ("reference", "clean")]
    curve = _frontier(ref) if ref else None
    for _, _, s in rows:
        if curve is None or not np.isfinite(s["auc_mean"]):
            s["ref_acc"] = None
        elif s["auc_mean"] < curve[0][0]:
            s["ref_acc"] = None  # leaks less than any reference point
        else:
            s["ref_acc"] = float(np.interp(s["auc_mean"], curve[0], curve[1]))
    return rows


def table(rows):
    head = ("| config | sigma | n | test acc | min | collapses | loss AUC | "
            "ref acc at AUC | vs ref | fit s | per seed |")
    lines = [head, "|" + "---|" * 11]
    for config, sigma, s in rows:
        ref = "below ref" if s["ref_acc"] is None else f"{s['ref_acc']:.3f}"
        diff = "" if s["ref_acc"] is None else f"{s['acc_mean'] - s['ref_acc']:+.3f}"
        lines.append(
            f"| {config} | {sigma:g} | {s['n']} | {s['acc_mean']:.3f} ± "
            f"{s['acc_std']:.3f} | {s['acc_min']:.3f} | {s['collapses']} | "
            f"{s['auc_mean']:.3f} ± {s['auc_std']:.3f} | {ref} | {diff} | "
            f"{s['fit_s']:.1f} | {' '.join(f'{a:.3f}' for a in s['per_seed'])} |"
        )
    return "\n".join(lines)


def overall(paths, lr, configs, sigmas):
    """Markdown: per configuration, over every data set found in ``paths``,
    the collapses, the worst run, and the accuracy against the reference's
    curve at matched AUC (mean and worst over the settings it can be read)."""
    results = {}
    for path in paths:
        with open(path) as f:
            results.update(json.load(f))
    datas = sorted({k.split("|", 1)[0] for k in results})
    per = {c: {"runs": 0, "collapses": 0, "diffs": [], "where": []} for c in configs}
    for data in datas:
        chance = 1.0 / {d: v[1] for d, v in DATASETS.items()}[data]
        for config, sigma, s in summarise(results, data, lr, configs, sigmas, chance):
            p = per[config]
            p["runs"] += s["n"]
            p["collapses"] += s["collapses"]
            if s["collapses"]:
                p["where"].append(f"{data} {sigma:g} ({s['acc_min']:.3f})")
            if s["ref_acc"] is not None and config not in ("clean", "reference"):
                p["diffs"].append(s["acc_mean"] - s["ref_acc"])
    lines = [f"data sets: {', '.join(datas)}",
             "| config | runs | collapses | where (min acc) | vs ref mean | "
             "vs ref worst |", "|---|---|---|---|---|---|"]
    for c, p in per.items():
        if not p["runs"]:
            continue
        d = p["diffs"]
        lines.append(
            f"| {c} | {p['runs']} | {p['collapses']} | {'; '.join(p['where'])} | "
            + (f"{np.mean(d):+.3f} | {min(d):+.3f} |" if d else " | |"))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="purchase10", choices=list(DATASETS))
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS,
                        choices=list(CANDIDATES))
    parser.add_argument("--sigmas", type=float, nargs="+",
                        default=[0.05, 0.1, 0.2, 0.4, 0.8])
    parser.add_argument("--seeds", type=int, default=3,
                        help="seeds 0..N-1 (or --seed-list)")
    parser.add_argument("--seed-list", type=int, nargs="+", default=None)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--json", help="results file (resumed); required to run")
    parser.add_argument("--table-only", action="store_true")
    parser.add_argument("--overall", nargs="+", metavar="JSON", default=None,
                        help="print the summary over these result files and stop")
    parser.add_argument("--order", choices=["sigma", "config"], default="sigma",
                        help="loop order: all configs per sigma (default) or "
                        "all sigmas per config")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.overall:
        print(overall(args.overall, args.lr, args.configs, args.sigmas))
        return None

    if args.json is None:
        parser.error("--json is required")
    results = {}
    if os.path.exists(args.json):
        with open(args.json) as f:
            results = json.load(f)
    seeds = args.seed_list if args.seed_list is not None else range(args.seeds)
    X, y, base = load(args.data)
    base["lr"] = args.lr
    n_classes = len(np.unique(y))
    split = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
    print(f"{args.data}: {len(y)} records (half members), {n_classes} classes, "
          f"{ {k: v for k, v in base.items() if k != 'module'} }", flush=True)

    cells = []
    for seed in seeds:  # all settings at seed 0 first: a first look early
        outer = args.sigmas if args.order == "sigma" else args.configs
        for a in outer:
            for b in (args.configs if args.order == "sigma" else args.sigmas):
                config, sigma = (b, a) if args.order == "sigma" else (a, b)
                if config == "clean":
                    sigma = 0.0
                cells.append((config, sigma, seed))
    cells = list(dict.fromkeys(cells))
    if not args.table_only:
        for config, sigma, seed in cells:
            key = run_key(args.data, args.lr, config, sigma, seed)
            if key in results:
                continue
            extra = dict(CANDIDATES[config])
            extra.pop("sigma", None)
            out = one_run(split, base, extra, sigma, seed)
            out["params"] = {**extra, "sigma": sigma}
            results[key] = out
            _save(args.json, results)
            acc = "diverged" if out["accuracy"] is None else f"{out['accuracy']:.3f}"
            auc = "" if out["auc"] is None else f"{out['auc']:.3f}"
            print(f"  {key}: acc {acc} auc {auc} {out['fit_s']:.1f}s", flush=True)
    chance = max(np.bincount(split[3]) / len(split[3]))
    chance = max(chance, 1.0 / n_classes)
    rows = summarise(results, args.data, args.lr, args.configs, args.sigmas, chance)
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
