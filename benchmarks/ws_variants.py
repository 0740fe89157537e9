"""Weighted smoothing's variants beside weight decay and early stopping, over seeds.

The ``wsmooth`` command's protocol, data and network (the pool protocol, LiRA
and RMIA at their defaults sharing the shadow models), with every WS variant
of interest as a configuration of its own. Prints, per setting, the mean ± std
over seeds of the test accuracy and of each attack's AUC and TPR at 1% FPR,
then, for every WS setting, the most accurate weight-decay or early-stopping
setting that leaks no more (the strongest attack's mean TPR at 1% FPR): the
comparison at matched leakage. Variants are departures from the paper's
loop (``reference``, :meth:`~wsmooth.WeightedSmoothingClassifier.reference`,
with the command's warm-up); ``defaults`` is the classifier's defaults.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/ws_variants.py \\
        --data purchase-like --seeds 5 --shadows 8 --out /tmp/wsv-purchase
    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/ws_variants.py \\
        --data digits --epochs 30 --seeds 5 --shadows 8 \\
        --variants reference live huber split +early_stopping \\
        --out /tmp/wsv-digits

Finished cells are cached under ``--out``: a rerun resumes.
"""

import argparse
import os
import sys

import numpy as np
from sklearn.base import clone

from wsmooth.classifier import PAPER_SETTINGS
from wsmooth.cli import build_parser
from wsmooth.experiments import (
    comparison_configurations,
    default_network,
    load_dataset,
    network_params,
    run_experiment,
    training_settings,
)
from wsmooth.experiments._frontier import STRONGEST, setting_points

#: name -> extra parameters of the WS estimator. ``noise_scale=
#: "class_invariant"`` is absent: at one number of classes K it is the
#: reference scale with sigma divided by K - 1, so it adds no point here
#: (``benchmarks/ws_noise_scale.py`` measures it across K).
#: The paper's loop, less its warm-up (the command's is kept).
PAPER_LOOP = {k: v for k, v in PAPER_SETTINGS.items() if k != "warmup_epochs"}

VARIANTS = {
    "reference": {},
    "defaults": {"refresh": "live", "clip_grad_relative": 3.0,
                 "weighting": "zscore_clipped"},
    "live": {"refresh": "live"},
    "split": {"noise_scale": "split"},
    "huber": {"noise_huber": 0.1},
    "relative": {"clip_grad_relative": 3.0},
    "huber+relative": {"noise_huber": 0.1, "clip_grad_relative": 3.0},
    "live+relative": {"refresh": "live", "clip_grad_relative": 3.0},
    "live+clipped": {"refresh": "live", "weighting": "zscore_clipped"},
    "relative+clipped": {"clip_grad_relative": 3.0, "weighting": "zscore_clipped"},
    "live+relative+clipped": {"refresh": "live", "clip_grad_relative": 3.0,
                              "weighting": "zscore_clipped"},
    "minmax": {"weighting": "minmax"},
    "clipped": {"weighting": "zscore_clipped"},
    "cross_entropy": {"vulnerability": "cross_entropy"},
    "uniform": {"weighting": "uniform"},
    "+weight_decay": {"optimizer__weight_decay": 1e-3},
    "+early_stopping": {},  # max_epochs: half of --epochs, set below
}


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="purchase-like",
                        choices=["purchase-like", "digits"])
    parser.add_argument("--n-samples", type=int, default=None)
    parser.add_argument("--n-classes", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--shadows", type=int, default=8)
    parser.add_argument("--sigma", type=float, nargs="+", default=[0.1, 0.3, 0.6])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS),
                        choices=list(VARIANTS))
    parser.add_argument("--attacks", nargs="+", default=["lira", "rmia"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--n-jobs", type=int, default=1)
    return parser.parse_args(argv)


def build(args):
    """``(X, y, {name: (estimator, grid)})`` for the run."""
    cli_args = build_parser().parse_args(
        ["--data", args.data, "--epochs", str(args.epochs),
         "--n-classes", str(args.n_classes),
         "--defences", "none", "ws", "weight_decay", "early_stopping"]
        + ([] if args.n_samples is None else ["--n-samples", str(args.n_samples)])
    )
    name, path = cli_args.data
    X, y, text = load_dataset(name, path, n_samples=cli_args.n_samples,
                              n_classes=cli_args.n_classes, random_state=cli_args.seed)
    # the command's training defaults for what is not given (--lr, --hidden)
    settings = training_settings(
        name, X, y, net=cli_args.net, batch_size=cli_args.batch_size,
        epochs=cli_args.epochs, lr=cli_args.lr, hidden=cli_args.hidden,
    )
    module, params, net = default_network(
        X, name, net=cli_args.net, hidden=settings["hidden"],
        channels=cli_args.channels,
    )
    common = network_params(
        module, params, epochs=settings["epochs"], batch_size=cli_args.batch_size,
        lr=settings["lr"], device=cli_args.device, random_state=cli_args.seed,
    )
    base = comparison_configurations(
        cli_args.defences, sigma=args.sigma,
        warmup_epochs=cli_args.warmup_epochs, **common
    )
    print(f"{text}; {net}; {args.epochs} epochs; {args.seeds} seeds; "
          f"{args.shadows} shadow models", flush=True)
    ws_template = base.pop("ws")[0]
    configs = dict(base)
    # early stopping at eleven points of the training: a near-continuous curve
    stops = sorted({max(1, round(args.epochs * i / 12)) for i in range(1, 12)})
    configs["early_stopping"] = (configs["early_stopping"][0], {"max_epochs": stops})
    for name in args.variants:
        extra = VARIANTS[name]
        if name == "+early_stopping":
            extra = {"max_epochs": max(cli_args.warmup_epochs + 1, args.epochs // 2)}
        # variants are departures from the paper's loop (the command's
        # warm-up kept)
        estimator = clone(ws_template).set_params(**{**PAPER_LOOP, **extra})
        configs[f"ws {name}"] = (estimator, {"sigma": list(args.sigma)})
    return X, y, configs


def _cell(mean, std):
    return f"{mean:.3f} ± {std:.3f}"


def table(results, attacks):
    """Markdown: one row per setting, accuracy and each attack's AUC / TPR@1%."""
    summary = results.summary()
    by_setting = {}
    for entry in summary:
        by_setting.setdefault((entry["configuration"], entry["setting"]), {})[
            entry["attack"]] = entry
    head = ["configuration", "setting", "test acc"]
    for a in attacks:
        head += [f"{a} AUC", f"{a} TPR@1%"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (config, setting), per_attack in by_setting.items():
        first = next(iter(per_attack.values()))
        row = [config, setting,
               _cell(first["test_accuracy_mean"], first["test_accuracy_std"])]
        for a in attacks:
            e = per_attack[a]
            row += [_cell(e["auc_mean"], e["auc_std"]),
                    _cell(e["tpr@1%fpr_mean"], e["tpr@1%fpr_std"])]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _baseline_curve(baselines):
    """The baselines' frontier as ``(leakage, accuracy)`` arrays, leakage ascending."""
    front = []
    for b in sorted(baselines, key=lambda q: (q["leakage"], -q["utility"])):
        if not front or b["utility"] > front[-1][1]:
            front.append((b["leakage"], b["utility"]))
    return np.array(front).T


def matched(results):
    """For each WS setting: the baselines' accuracy at the same leakage.

    Two readings: the most accurate baseline setting leaking no more (a
    setting one can actually run), and the baselines' frontier interpolated
    linearly at the WS setting's leakage.
    """
    points = setting_points(results, attack=STRONGEST, leakage="tpr@1%")
    baselines = [p for p in points
                 if p["configuration"] in ("weight_decay", "early_stopping", "none")]
    leak, acc = _baseline_curve(baselines)
    lines = ["| WS setting | acc | leakage | best baseline at <= leakage | acc | "
             "leakage | WS acc - baseline acc | baseline frontier acc at WS "
             "leakage (interpolated) |", "|---|---|---|---|---|---|---|---|"]
    for p in points:
        if not p["configuration"].startswith("ws"):
            continue
        allowed = [b for b in baselines if b["leakage"] <= p["leakage"]]
        ws_text = (f"{p['configuration']} {p['setting']} | "
                   f"{_cell(p['utility'], p['utility_std'])} | "
                   f"{_cell(p['leakage'], p['leakage_std'])}")
        interpolated = (
            f"{np.interp(p['leakage'], leak, acc):.3f}"
            if p["leakage"] >= leak[0] else "below every baseline"
        )
        if not allowed:
            lines.append(f"| {ws_text} | none leaks so little | | | | "
                         f"{interpolated} |")
            continue
        b = max(allowed, key=lambda q: (q["utility"], -q["leakage"]))
        lines.append(
            f"| {ws_text} | {b['configuration']} {b['setting']} | "
            f"{_cell(b['utility'], b['utility_std'])} | "
            f"{_cell(b['leakage'], b['leakage_std'])} | "
            f"{p['utility'] - b['utility']:+.3f} | {interpolated} |"
        )
    return "\n".join(lines)


def main(argv=None):
    args = _parse(argv)
    X, y, configs = build(args)
    os.makedirs(args.out, exist_ok=True)

    def progress(info):
        print(f"  {info['done']}/{info['total']} {info['configuration']} "
              f"{info['setting']} seed {info['seed']}"
              + (" (cached)" if info["cached"] else ""), file=sys.stderr, flush=True)

    results = run_experiment(
        X, y, configs, attacks=args.attacks, seeds=args.seeds,
        n_shadow=args.shadows, n_jobs=args.n_jobs,
        cache_dir=os.path.join(args.out, "cache"), random_state=0,
        undefended="none", callback=progress,
    )
    results.to_json(os.path.join(args.out, "results.json"))
    print(table(results, args.attacks))
    print()
    print("Matched leakage (strongest attack's mean TPR at 1% FPR):")
    print(matched(results))
    return results


if __name__ == "__main__":
    main()
