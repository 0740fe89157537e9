"""Every defence at one setting: test accuracy, fit-time ratio and leakage.

For each defence of :mod:`wsmooth.defences` at one reasonable setting: the
test accuracy, the fit time relative to the undefended net and the leakage
measured by the ``--attacks`` (AUC and TPR at 1% FPR; mentr, LiRA and RMIA by
default), as mean ± std over seeds. It runs
:func:`wsmooth.experiments.run_experiment` (the pool protocol: each seed's
target trains on half of the pool, the other half are the non-members) with
the registry's defences and a one-setting grid each, on the data and network
the ``wsmooth`` command builds for ``--data purchase-like`` / ``--data
digits`` (same loader, same network, same batch size, learning rate and seed
defaults), so the figures match the command's.

Commands (from a checkout; run each on its own, they take hours on 2 CPU
cores)::

    python benchmarks/defence_table.py --data purchase --seeds 3 --shadows 8 \\
        --cache-dir runs/defences-purchase --json defences-purchase.json
    python benchmarks/defence_table.py --data digits --seeds 3 --shadows 8 \\
        --cache-dir runs/defences-digits --json defences-digits.json

``purchase``: ``make_purchase_like(2500, n_classes=10)``, MLP (128,), 12
epochs. ``digits``: scikit-learn's 1,797 digits scaled to [0, 1], the
command's ``DigitsCNN`` with its training defaults (60 epochs at lr 1e-3).
With ``--cache-dir`` an interrupted run resumes: finished cells are read
back. A smoke test of the whole path::

    python benchmarks/defence_table.py --data purchase --n-samples 600 \\
        --epochs 2 --seeds 1 --shadows 2

With ``--canaries N`` each seed also trains a twin with ``N`` mislabelled
canaries (the runner's ``canaries``), and every attack gets a column of
canary TPR at 1% FPR beside the population's figures.

The settings (``SETTINGS``): WS sigma=0.3; DP-SGD target epsilon 8 (delta
1/n); RelaxLoss alpha=1 (the middle of the registry's grid, about the
cross-entropy of a moderately confident correct prediction); adversarial
regularisation lambda=1 (the runner reserves a reference slice of the pool
for it and for MemGuard, so that they train on all of their members);
MemGuard and HAMP at their
defaults; weight decay 1e-3; early stopping after a quarter of the epochs;
label smoothing 0.1.

The fit-time ratio is the median over seeds of a cell's ``fit_seconds``
over the undefended net's for the same seed (cells read from the cache keep
the time measured when they ran). Every defence is fitted once briefly before
the timed runs (lazy imports, thread start-up). DP-SGD's noise calibration
(Opacus' search, one to a few seconds, kept per setting within a process) is
done in that warm-up, so its ratio is the cost of training with per-record
gradients and noise, not of the one-off calibration.
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np

from wsmooth.cli import build_parser
from wsmooth.experiments import (
    comparison_configurations,
    default_network,
    load_dataset,
    network_params,
    run_experiment,
    training_settings,
)

ATTACKS = ("mentr", "lira", "rmia")

#: ``name -> function(epochs, estimator) -> one-setting grid``.
SETTINGS = {
    "none": lambda epochs, est: [{}],
    "ws": lambda epochs, est: [{"sigma": 0.3}],
    "dpsgd": lambda epochs, est: [{"target_epsilon": 8.0}],
    "relaxloss": lambda epochs, est: [{"alpha": 1.0}],
    "advreg": lambda epochs, est: [{"reg_lambda": 1.0}],
    "memguard": lambda epochs, est: [{"budget": est.get_params()["budget"]}],
    "hamp": lambda epochs, est: [{"gamma": est.get_params()["gamma"]}],
    "weight_decay": lambda epochs, est: [{"optimizer__weight_decay": 1e-3}],
    "early_stopping": lambda epochs, est: [{"max_epochs": max(1, round(epochs / 4))}],
    "label_smoothing": lambda epochs, est: [{"criterion__label_smoothing": 0.1}],
}

_DATA = {
    # name: (the command's --data, default records, default epochs)
    "purchase": ("purchase-like", 2500, 12),
    "digits": ("digits", None, None),  # None: the command's default epochs
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", choices=sorted(_DATA), default="purchase")
    parser.add_argument("--n-samples", type=int, default=None,
                        help="records (default: 2500 for purchase, all 1797 digits)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default: 12 purchase, 30 digits)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--attacks", nargs="+", default=list(ATTACKS),
                        help="attack methods (default: mentr lira rmia); e.g. "
                        "label_only for defences that alter only confidences")
    parser.add_argument("--shadows", type=int, default=8)
    parser.add_argument("--defences", nargs="+", choices=list(SETTINGS),
                        default=list(SETTINGS), metavar="NAME",
                        help="defences to run (default: all; 'none' is always run)")
    parser.add_argument("--cache-dir", default=None,
                        help="finished cells and shadow models; a rerun resumes")
    parser.add_argument("--json", default=None, metavar="FILE",
                        help="also write the table and the raw rows as JSON")
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="shadow models trained in parallel")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--canaries", type=int, default=None,
                        help="mislabelled canaries per seed (worst-case leakage: "
                             "a canary TPR at 1%% FPR column per attack; 202 or "
                             "more resolve 1%%)")
    return parser.parse_args(argv)


def command_setup(data, n_samples, epochs):
    """Data, module and shared settings exactly as the ``wsmooth`` command
    builds them for ``--data`` (its own defaults for everything else)."""
    name, default_n, default_epochs = _DATA[data]
    epochs = default_epochs if epochs is None else epochs
    n_samples = default_n if n_samples is None else n_samples
    argv = ["--data", name]
    if epochs is not None:
        argv += ["--epochs", str(epochs)]
    if n_samples is not None:
        argv += ["--n-samples", str(n_samples)]
    args = build_parser().parse_args(argv)
    name, path = args.data
    X, y, data_text = load_dataset(
        name, path, n_samples=args.n_samples, n_classes=args.n_classes,
        random_state=args.seed,
    )
    settings = training_settings(
        name, X, y, net=args.net, batch_size=args.batch_size, epochs=args.epochs,
        lr=args.lr, hidden=args.hidden,
    )
    args = argparse.Namespace(**{**vars(args), **settings})
    module, module_params, net_text = default_network(
        X, name, net=args.net, hidden=args.hidden, channels=args.channels
    )
    common = network_params(
        module, module_params, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, device=args.device, random_state=args.seed,
    )
    return X, y, common, args, f"{data_text}; {net_text}; {args.epochs} epochs"


def defences_at_one_setting(names, common, epochs, warmup_epochs):
    """``{name: (estimator, [params])}``: the registry's defences built with
    the same network and training settings, one setting each."""
    names = ["none"] + [n for n in names if n != "none"]
    # the command's defences and WS warm-up; the grids are replaced below
    built = comparison_configurations(
        names, sigma=[], warmup_epochs=warmup_epochs, **common
    )
    return {
        name: (est, SETTINGS[name](epochs, est)) for name, (est, _) in built.items()
    }


def warm_up(defences, X, y, random_state):
    """One short fit of each defence, so that no timed fit pays for lazy
    imports and thread start-up (the first fit of a process took far longer
    than the next); DP-SGD's is a full fit on as many records as a target
    has, which leaves its noise calibration cached for every seed."""
    from sklearn.base import clone

    from wsmooth.experiments import hold_out_test

    y_pool = hold_out_test(X, y, test_size=0.2, random_state=random_state)[1]
    n_members = len(y_pool) // 2
    for name, (est, grid) in defences.items():
        model = clone(est).set_params(**grid[0])
        if name == "dpsgd":
            model.fit(X[:n_members], y[:n_members])
            continue
        names = model.get_params()
        epochs = "max_epochs" if "max_epochs" in names else "estimator__max_epochs"
        model.set_params(**{epochs: 1}).fit(X[:200], y[:200])


def _pm(values, digits=3):
    values = np.asarray(values, dtype=float)
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return f"{values.mean():.{digits}f} ± {std:.{digits}f}"


def table(results, attacks=ATTACKS):
    """Rows of the table, one per defence: dicts of the figures."""
    rows = results.rows
    base = {
        r["seed"]: r["fit_seconds"] for r in rows if r["configuration"] == "none"
    }
    out = []
    for config, setting in results.settings():
        mine = [r for r in rows
                if (r["configuration"], r["setting"]) == (config, setting)]
        by_seed = {r["seed"]: r for r in mine}  # fit figures repeat per attack
        ratios = [r["fit_seconds"] / base[s] for s, r in by_seed.items() if s in base]
        entry = {
            "defence": config,
            "setting": setting,
            "test_accuracy": [r["test_accuracy"] for r in by_seed.values()],
            "fit_seconds": [r["fit_seconds"] for r in by_seed.values()],
            "fit_time_ratio": statistics.median(ratios) if ratios else None,
        }
        for attack in attacks:
            hits = [r for r in mine if r["attack"] == attack]
            entry[f"{attack}_auc"] = [r["auc"] for r in hits]
            entry[f"{attack}_tpr@1%"] = [r["tpr@1%fpr"] for r in hits]
            if hits and "canary_tpr@1%fpr" in hits[0]:
                entry[f"{attack}_canary_tpr@1%"] = [r["canary_tpr@1%fpr"] for r in hits]
        out.append(entry)
    return out


def markdown(entries, attacks=ATTACKS):
    head = ["defence", "setting", "test acc", "fit-time ratio"]
    canaries = bool(entries) and any(k.endswith("_canary_tpr@1%") for k in entries[0])
    for attack in attacks:
        head += [f"{attack} AUC", f"{attack} TPR@1%"]
        if canaries:
            head.append(f"{attack} canary TPR@1%")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in entries:
        ratio = "n/a" if e["fit_time_ratio"] is None else f"{e['fit_time_ratio']:.2f}"
        cells = [e["defence"], e["setting"], _pm(e["test_accuracy"]), ratio]
        for attack in attacks:
            cells += [_pm(e[f"{attack}_auc"]), _pm(e[f"{attack}_tpr@1%"])]
            if f"{attack}_canary_tpr@1%" in e:
                cells.append(_pm(e[f"{attack}_canary_tpr@1%"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    opts = parse_args(argv)
    X, y, common, args, text = command_setup(opts.data, opts.n_samples, opts.epochs)
    defences = defences_at_one_setting(
        opts.defences, common, args.epochs, args.warmup_epochs
    )
    import torch

    torch.set_num_threads(opts.threads)
    warm_up(defences, X, y, args.seed)
    start = time.perf_counter()
    results = run_experiment(
        X, y, defences,
        attacks=opts.attacks,
        seeds=opts.seeds,
        n_shadow=opts.shadows,
        n_jobs=opts.n_jobs,
        cache_dir=opts.cache_dir,
        random_state=args.seed,
        undefended="none",
        canaries=opts.canaries,
        verbose=1,
    )
    elapsed = time.perf_counter() - start
    entries = table(results, opts.attacks)
    meta = results.meta
    print(f"\n{text}; {meta['n_members']} members, {meta['n_nonmembers']} "
          f"non-members, {meta['n_test']} test records; {opts.seeds} seed(s), "
          f"{opts.shadows} shadow models per attack; {elapsed:.0f} s\n")
    print(markdown(entries, opts.attacks))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"command": " ".join(sys.argv), "setup": text,
                       "seconds": elapsed, "table": entries,
                       "results": results.to_dict()}, f, indent=1)
    return entries


if __name__ == "__main__":
    main()
