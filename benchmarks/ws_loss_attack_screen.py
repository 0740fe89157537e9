"""Screen of WeightedSmoothingClassifier's options against the loss attack.

The question: does any option of :class:`wsmooth.WeightedSmoothingClassifier`
move its (test accuracy, loss-attack AUC) points above the frontier of the
cheap baselines (the undefended network stopped after every epoch count, and
weight decay), on the ``wsmooth`` command's 50-class purchase-like cells?

The data, the pool / test split, the members of each seed and the estimators
are the command's own (``python -m wsmooth --n-classes 50 --n-samples 8000
[--hidden H --epochs E] --defences none ws weight_decay --attacks loss``),
built through the command's functions, so that a cell here is the command's
cell; only the shadow models are left out (the loss attack's AUC does not
read them: its score is ``-loss`` minus one global threshold). Every model
is trained once for the full epochs with a callback that records, after each
epoch, the test accuracy and the loss attack's AUC (``-log p_y`` of
``predict_proba``, members against non-members): the undefended network's
record after epoch ``e`` is early stopping's cell ``max_epochs=e``.

The frontier is the upper envelope (Pareto points, linear interpolation) of
the seed-mean points of the undefended network after every epoch and of
weight decay (1e-4, 1e-3, 1e-2) after the full epochs. Each WS setting is
reported at the full epochs as its mean accuracy minus the frontier's
accuracy at its mean AUC; its best earlier epoch (WS plus early stopping) is
reported apart.

Run (one core; ``--out`` collects every cell and a rerun skips those done;
``--report-only`` prints the tables of the cells there)::

    S="OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/ws_loss_attack_screen.py"
    # one option at a time (the default --configs), 256-128 MLP, 20 epochs
    $S --network small --out small.json --check runs/p50auc/results.json
    # the second round: finer grids and pairs of options
    $S --network small --out small.json --configs "warmup=0 fine" warmup=1 \
        warmup=0+uniform warmup=0+minmax warmup=0+loss noise_huber=0.1 \
        "minmax fine" "uniform fine" "refresh=full fine" ws+wd=1e-3 ws+wd=1e-2
    # the best of both rounds on 5 seeds
    $S --network small --seeds 0 1 2 3 4 --out small5.json --configs \
        top:default top:warmup=0 top:warmup=1 top:warmup=0+minmax \
        top:noise_huber=0.1 top:ws+wd=1e-3
    # the other networks, on a sigma grid their accuracy stands
    C="default warmup=0 weighting=uniform weighting=minmax vulnerability=loss \
       refresh=full weighting=zscore clip_grad_relative=None warmup=8 \
       noise_scale=split"
    $S --network big --out big.json --configs $C \
        --extra-sigmas 0.05 0.1 0.15 0.2 0.3 0.4 --check runs/p50big/results.json
    $S --network default --out default.json --configs $C \
        --extra-sigmas 0.05 0.1 0.15 0.2 0.3 0.4

``--network small`` is the 256-128 MLP trained 20 epochs, ``big`` the
classifier's default 1024-512-256-128 MLP trained 20 epochs, ``default``
the command's default network for the data (600-512, 12 epochs).
``--check`` compares the cells of one seed with a ``results.json`` that the
command wrote for the same network.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from skorch.callbacks import Callback

from wsmooth import cli
from wsmooth._signals import cross_entropy as loss_signal
from wsmooth.classifier import TrainingDivergedError
from wsmooth.experiments import TEST_SIZE, hold_out_test, member_mask

K = 50
#: Base sigma grid; the option's own grid where it rescales sigma.
SIGMAS = (0.1, 0.2, 0.3, 0.4, 0.6, 0.8)
#: WS settings: name -> (overrides of the command's ``ws``, sigma grid).
CONFIGS = {
    "default": ({}, SIGMAS),
    "weighting=zscore": ({"weighting": "zscore"}, SIGMAS),
    "weighting=minmax": ({"weighting": "minmax"}, SIGMAS),
    "weighting=uniform": ({"weighting": "uniform"}, SIGMAS),
    "vulnerability=loss": ({"vulnerability": "loss"}, SIGMAS),
    "noise_scale=split": ({"noise_scale": "split"}, (0.2, 0.4, 0.8, 1.6, 3.2, 6.4)),
    # class_invariant at sigma * (K - 1) is the reference at sigma exactly
    # (both stds sigma): the control that the screen repeats itself
    "noise_scale=class_invariant": (
        {"noise_scale": "class_invariant"},
        tuple(round(s * (K - 1), 4) for s in SIGMAS),
    ),
    "warmup=0": ({"warmup_epochs": 0}, SIGMAS),
    "warmup=8": ({"warmup_epochs": 8}, SIGMAS),
    "noise_huber=1": ({"noise_huber": 1.0}, SIGMAS),
    "clip_grad_relative=None": ({"clip_grad_relative": None}, SIGMAS),
    "refresh=full": ({"refresh": "full"}, SIGMAS),
    # second round: finer grids and pairs of the options above
    "warmup=0 fine": ({"warmup_epochs": 0}, (0.05, 0.15, 0.25)),
    "warmup=1": ({"warmup_epochs": 1}, (0.1, 0.2, 0.3)),
    "warmup=0+uniform": ({"warmup_epochs": 0, "weighting": "uniform"},
                         (0.1, 0.2, 0.3, 0.4)),
    "warmup=0+minmax": ({"warmup_epochs": 0, "weighting": "minmax"},
                        (0.1, 0.2, 0.3, 0.4)),
    "warmup=0+loss": ({"warmup_epochs": 0, "vulnerability": "loss"},
                      (0.05, 0.1, 0.15, 0.2)),
    "noise_huber=0.1": ({"noise_huber": 0.1}, (0.2, 0.3, 0.4, 0.6)),
    "minmax fine": ({"weighting": "minmax"}, (0.45, 0.5, 0.55)),
    "uniform fine": ({"weighting": "uniform"}, (0.35, 0.45, 0.5)),
    "refresh=full fine": ({"refresh": "full"}, (0.35, 0.45, 0.5)),
    "ws+wd=1e-3": ({"optimizer__weight_decay": 1e-3}, (0.1, 0.2, 0.3, 0.4)),
    "ws+wd=1e-2": ({"optimizer__weight_decay": 1e-2}, (0.05, 0.1, 0.2)),
    # the best of the small network's first two rounds, for seeds 3 and 4
    "top:default": ({}, (0.2, 0.3)),
    "top:warmup=0": ({"warmup_epochs": 0}, (0.1, 0.15)),
    "top:warmup=1": ({"warmup_epochs": 1}, (0.2,)),
    "top:warmup=0+minmax": ({"warmup_epochs": 0, "weighting": "minmax"}, (0.4,)),
    "top:noise_huber=0.1": ({"noise_huber": 0.1}, (0.6,)),
    "top:ws+wd=1e-3": ({"optimizer__weight_decay": 1e-3}, (0.2,)),
}
#: The first round, one option at a time (the default of ``--configs``).
ROUND1 = [n for n in CONFIGS if " " not in n and "+" not in n and ":" not in n
          and n not in (
    "warmup=1", "noise_huber=0.1")]
BASELINES = {
    "none": ("none", {}),
    "wd=1e-4": ("weight_decay", {"optimizer__weight_decay": 1e-4}),
    "wd=1e-3": ("weight_decay", {"optimizer__weight_decay": 1e-3}),
    "wd=1e-2": ("weight_decay", {"optimizer__weight_decay": 1e-2}),
}
NETWORKS = {
    "small": ["--hidden", "256,128", "--epochs", "20"],
    "default": [],
    "big": ["--hidden", "1024,512,256,128", "--epochs", "20"],
}


class EpochFigures(Callback):
    """After each epoch: test accuracy and the loss attack's AUC."""

    def __init__(self, X_test, y_test, Xm, ym, Xn, yn):
        self.X_test, self.y_test = X_test, y_test
        self.Xm, self.ym, self.Xn, self.yn = Xm, ym, Xn, yn

    def initialize(self):
        self.records_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        # predict on plain arrays draws no random numbers; fork anyway so
        # that the recording cannot change the training that follows
        with torch.random.fork_rng():
            self.records_.append(figures(net, self))


def figures(model, d):
    """``{"acc", "auc"}`` of ``model`` on the data of ``d``."""
    acc = float(np.mean(model.predict(d.X_test) == d.y_test))
    lm = loss_signal(model.predict_proba(d.Xm), np.searchsorted(model.classes_, d.ym))
    ln = loss_signal(model.predict_proba(d.Xn), np.searchsorted(model.classes_, d.yn))
    member = np.r_[np.ones(len(lm)), np.zeros(len(ln))]
    auc = float(roc_auc_score(member, -np.r_[lm, ln]))
    return {"acc": acc, "auc": auc}


def setting_up(network):
    """``(estimators, data)``: the command's ``none``, ``weight_decay`` and
    ``ws`` estimators and its ``(X_pool, y_pool, X_test, y_test)``."""
    argv = ["--n-classes", "50", "--n-samples", "8000", *NETWORKS[network],
            "--defences", "none", "ws", "weight_decay", "--attacks", "loss",
            "--leakage", "auc"]
    args = cli.build_parser().parse_args(argv)
    X, y, _ = cli._load(args)
    args = cli._with_training_defaults(args, X, y)
    defences, net_text = cli._configurations(args, X)
    data = hold_out_test(X, y, test_size=TEST_SIZE, random_state=args.seed)
    print(f"network {net_text}, {args.epochs} epochs, lr {args.lr:g}", file=sys.stderr)
    return {k: v[0] for k, v in defences.items()}, data, args.epochs


def run_cell(estimator, params, seed, data):
    X_pool, y_pool, X_test, y_test = data
    members = member_mask(y_pool, seed)
    rec = EpochFigures(X_test, y_test, X_pool[members], y_pool[members],
                       X_pool[~members], y_pool[~members])
    model = clone(estimator).set_params(**params, random_state=seed,
                                        callbacks=[("screen", rec)])
    start = time.perf_counter()
    diverged = None
    try:
        model.fit(X_pool[members], y_pool[members])
    except TrainingDivergedError as exc:  # a diverged run is a result too
        diverged = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    return {"epochs": rec.records_, "seconds": seconds, "diverged": diverged}


def cells_wanted(configs, seeds):
    for seed in seeds:
        for name, (base, params) in BASELINES.items():
            yield ("baseline", name, None, seed), base, params
    for name in configs:
        overrides, sigmas = CONFIGS[name]
        for seed in seeds:
            for s in sigmas:
                yield (("ws", name, s, seed), "ws", {**overrides, "sigma": s})


def key(kind, name, sigma, seed):
    return f"{kind}|{name}|{sigma}|{seed}"


# ------------------------------------------------------------------ analysis
def frontier(points):
    """Pareto points ``[(auc, acc)]`` sorted by AUC (upper envelope)."""
    pts = sorted(points, key=lambda p: (p[0], -p[1]))
    front = []
    for auc, acc in pts:
        if not front or acc > front[-1][1]:
            front.append((auc, acc))
    return front


def frontier_acc(front, auc):
    a = np.array([p[0] for p in front])
    c = np.array([p[1] for p in front])
    if auc < a[0]:
        return float("nan")
    return float(np.interp(auc, a, c))


def mean_curve(cells, name, seeds):
    """Seed-mean (auc, acc) per epoch of baseline ``name``."""
    runs = [cells[key("baseline", name, None, s)]["epochs"] for s in seeds]
    n = min(len(r) for r in runs)
    return [(np.mean([r[e]["auc"] for r in runs]), np.mean([r[e]["acc"] for r in runs]))
            for e in range(n)]


def seed_frontier(cells, seed, epochs):
    """The frontier of one seed's own baselines."""
    points = [(r["auc"], r["acc"])
              for r in cells[key("baseline", "none", None, seed)]["epochs"]]
    for name in BASELINES:
        if name != "none":
            r = cells[key("baseline", name, None, seed)]["epochs"][epochs - 1]
            points.append((r["auc"], r["acc"]))
    return frontier(points)


def report(cells, configs, seeds, epochs, es_min_rel=0.9):
    none = mean_curve(cells, "none", seeds)
    es_min_acc = es_min_rel * none[-1][1]
    points = list(none)
    seed_fronts = {s: seed_frontier(cells, s, epochs) for s in seeds}
    print(f"### Baselines (mean of seeds {seeds})\n")
    print("| baseline | epochs | acc | AUC |\n|---|---|---|---|")
    for e, (auc, acc) in enumerate(none, 1):
        print(f"| none (early stopping) | {e} | {acc:.4f} | {auc:.4f} |")
    for name in BASELINES:
        if name == "none":
            continue
        auc, acc = mean_curve(cells, name, seeds)[epochs - 1]
        points.append((auc, acc))
        print(f"| {name} | {epochs} | {acc:.4f} | {auc:.4f} |")
    front = frontier(points)
    print("\nFrontier (AUC, acc): "
          + ", ".join(f"({a:.4f}, {c:.4f})" for a, c in front) + "\n")
    print("### WS at full epochs (delta = mean acc - frontier acc at mean AUC; "
          "best ES = best delta of the seed-mean point over the epochs where its "
          f"accuracy is at least {es_min_rel:g} x the undefended network's "
          f"({es_min_acc:.4f}); per-seed delta = mean and std over "
          "seeds of each seed's point against that seed's own frontier)\n")
    print("| config | sigma | acc | AUC | delta (pts) | per-seed delta (pts) |"
          " best ES delta (epoch, acc, AUC) | diverged |\n"
          "|---|---|---|---|---|---|---|---|")
    summary = []
    for name in configs:
        _, sigmas = CONFIGS[name]
        for s in sigmas:
            runs = [cells.get(key("ws", name, s, sd)) for sd in seeds]
            if any(r is None for r in runs):
                continue
            div = sum(r["diverged"] is not None for r in runs)
            ok = [r for r in runs if r["epochs"] and len(r["epochs"]) == epochs]
            if not ok:
                print(f"| {name} | {s:g} | - | - | - | - | - | {div} |")
                continue
            accs = [r["epochs"][-1]["acc"] for r in ok]
            aucs = [r["epochs"][-1]["auc"] for r in ok]
            acc, auc = np.mean(accs), np.mean(aucs)
            delta = 100 * (acc - frontier_acc(front, auc))
            paired = [100 * (r["epochs"][-1]["acc"] - frontier_acc(
                seed_fronts[r["seed"]], r["epochs"][-1]["auc"])) for r in ok]
            best = None
            for e in range(epochs):
                ea = np.mean([r["epochs"][e]["acc"] for r in ok])
                eu = np.mean([r["epochs"][e]["auc"] for r in ok])
                d = 100 * (ea - frontier_acc(front, eu))
                # the frontier is steep over the first epochs: a point
                # there is far from any useful model, left out
                if ea < es_min_acc:
                    continue
                if np.isfinite(d) and (best is None or d > best[0]):
                    best = (d, e + 1, ea, eu)
            best_text = "-" if best is None else (
                f"{best[0]:+.2f} (e{best[1]}, {best[2]:.4f}, {best[3]:.4f})")
            print(f"| {name} | {s:g} | {acc:.4f} ± {np.std(accs):.4f} | "
                  f"{auc:.4f} ± {np.std(aucs):.4f} | {delta:+.2f} | "
                  f"{np.mean(paired):+.2f} ± {np.std(paired):.2f} | {best_text} | "
                  f"{div} |")
            summary.append((delta, name, s))
    if summary:
        print("\n### Best full-epoch setting of each config\n")
        print("| config | sigma | delta (pts) |\n|---|---|---|")
        for name in configs:
            mine = [x for x in summary if x[1] == name and np.isfinite(x[0])]
            if mine:
                d, _, s = max(mine)
                print(f"| {name} | {s:g} | {d:+.2f} |")


def check(cells, results_path, seed, epochs):
    """Compare this screen's cells with the command's figures."""
    with open(results_path) as f:
        rows = json.load(f)["rows"]
    print(f"### Check against {results_path} (seed {seed})\n")
    print("| command cell | command acc, AUC | screen acc, AUC |\n|---|---|---|")
    for r in rows:
        if r["seed"] != seed:
            continue
        conf, setting = r["configuration"], r["setting"]
        rec = None
        if conf == "none":
            rec = cells[key("baseline", "none", None, seed)]["epochs"][epochs - 1]
        elif conf == "early_stopping":
            e = int(setting.split("=")[1])
            if e > epochs:  # another network's training
                continue
            rec = cells[key("baseline", "none", None, seed)]["epochs"][e - 1]
        elif conf == "weight_decay":
            wd = float(setting.split("=")[1])
            name = {1e-4: "wd=1e-4", 1e-3: "wd=1e-3", 1e-2: "wd=1e-2"}[wd]
            rec = cells[key("baseline", name, None, seed)]["epochs"][epochs - 1]
        elif conf == "ws":
            s = float(setting.split("=")[1])
            c = cells.get(key("ws", "default", s, seed))
            rec = c["epochs"][epochs - 1] if c else None
        if rec is None:
            continue
        print(f"| {conf} {setting} | {r['test_accuracy']:.4f}, {r['auc']:.4f} | "
              f"{rec['acc']:.4f}, {rec['auc']:.4f} |")
    print()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--network", choices=sorted(NETWORKS), default="small")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--configs", nargs="+", default=ROUND1,
                   choices=list(CONFIGS))
    p.add_argument("--sigmas", type=float, nargs="+", default=None,
                   help="only these sigmas of each config's grid")
    p.add_argument("--extra-sigmas", type=float, nargs="+", default=None,
                   help="run the configs on these sigmas (replaces the grid)")
    p.add_argument("--out", required=True, help="JSON file of every cell")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--check", default=None, help="a command's results.json")
    p.add_argument("--check-seed", type=int, default=0)
    p.add_argument("--es-min-rel", type=float, default=0.9,
                   help="best early-stopped WS point among the epochs whose seed "
                   "mean accuracy is at least this fraction of the undefended "
                   "network's")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    if a.extra_sigmas:
        for name in a.configs:
            CONFIGS[name] = (CONFIGS[name][0], tuple(a.extra_sigmas))
    elif a.sigmas:
        for name in a.configs:
            CONFIGS[name] = (CONFIGS[name][0],
                             tuple(s for s in CONFIGS[name][1] if s in a.sigmas))
    cells = {}
    if os.path.exists(a.out):
        with open(a.out) as f:
            saved = json.load(f)
        if saved.get("network") != a.network:
            p.error(f"--out {a.out} holds cells of network "
                    f"{saved.get('network')!r}, not {a.network!r}")
        cells = saved["cells"]
    estimators, data, epochs = setting_up(a.network)
    if not a.report_only:
        for ident, base, params in cells_wanted(a.configs, a.seeds):
            k = key(*ident)
            # a cell saved under this name with other parameters is redone
            if k in cells and cells[k].get("params") == params:
                continue
            res = run_cell(estimators[base], params, ident[3], data)
            cells[k] = {"kind": ident[0], "name": ident[1], "sigma": ident[2],
                        "seed": ident[3], "params": params, **res}
            last = res["epochs"][-1] if res["epochs"] else {}
            print(f"{k}: {res['seconds']:.1f}s acc {last.get('acc', float('nan')):.4f}"
                  f" auc {last.get('auc', float('nan')):.4f}"
                  + (f" DIVERGED {res['diverged']}" if res["diverged"] else ""),
                  file=sys.stderr, flush=True)
            tmp = a.out + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"network": a.network, "epochs": epochs, "cells": cells}, f)
            os.replace(tmp, a.out)
    if a.check:
        check(cells, a.check, a.check_seed, epochs)
    report(cells, a.configs, a.seeds, epochs, a.es_min_rel)


if __name__ == "__main__":
    main()
