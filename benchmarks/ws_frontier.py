"""Weighted smoothing against the baselines, from ``wsmooth`` command runs.

Reads the ``results.csv`` of one or more ``wsmooth --out DIR`` folders (or
the compact JSON this script writes with ``--dump``) and prints, per run, as
markdown:

- one row per setting: test accuracy (mean ± sample std over seeds), for
  each attack its TPR at 1% FPR (mean ± std) and its mean AUC, and the
  leakage under the strongest attack (the attack whose mean leakage is
  largest); ``*`` marks the frontier: no other setting has accuracy >= and
  leakage <=, one of them strictly (the command's rule);
- collapses: seeds whose test accuracy is under half the median of the other
  seeds of the same setting;
- ``ws`` against ``ws_reference`` at matched leakage: ``ws``'s mean accuracy
  minus the reference's curve at ``ws``'s mean leakage (upper envelope of the
  mean points of ``ws_reference`` and the undefended model, linear
  interpolation; "below ref" where ``ws`` leaks less than every point of the
  curve), as ``benchmarks/results/ws_defaults.md`` does with the loss AUC;
- ``ws`` (and ``ws_reference``) against the baselines' frontier: the same
  figure on the envelope of ``none``, ``weight_decay`` and
  ``early_stopping``, and the most accurate baseline leaking no more (the
  step frontier);
- label-only against score attacks for ``ws``: whether the label-only
  attack's mean TPR at 1% FPR (and AUC) is at or below the strongest score
  attack's.

Leakage is the strongest attack's TPR at 1% FPR unless a folder is given as
``DIR:auc`` (or any other figure of the results), as for a loss-threshold
run measured by AUC. ``NAME=PART,PART[:figure]`` tabulates the cells of
several folders of the same data (or of runs read from a JSON file given
before it) as one run named NAME, e.g. to add settings another grid
trained; ``--show`` picks the runs to tabulate. Examples::

    python benchmarks/ws_frontier.py runs/p10 runs/digits runs/p100 \\
        runs/p50auc:auc
    python benchmarks/ws_frontier.py runs/p10 runs/p50auc:auc \\
        p50_es_extra=runs/p50es13,runs/p50es8:auc \\
        --dump benchmarks/results/ws_frontier.json
    python benchmarks/ws_frontier.py benchmarks/results/ws_frontier.json \\
        p50auc+es=p50auc,p50_es_extra --show p50auc+es
"""

import argparse
import csv
import json
import math
import os
import statistics

import numpy as np

#: Figures kept per cell (the rest of results.csv is not needed here).
FIGURES = ("test_accuracy", "auc", "tpr@1%fpr", "tpr@0.1%fpr", "fit_seconds")
#: Score attacks: they read the model's confidences (label-only does not).
SCORE_ATTACKS = ("lira", "rmia", "loss", "quantile", "mentr", "confidence",
                 "entropy", "learned", "distill", "risk")
BASELINES = ("none", "weight_decay", "early_stopping")
UNDEFENDED = "none"
#: Extra accuracy over the baselines' frontier the acceptance check asks.
ACCEPT_MARGIN = 0.01

_ALIASES = {"tpr@1%": "tpr@1%fpr", "tpr@0.1%": "tpr@0.1%fpr"}


# --------------------------------------------------------------------- #
# Reading
# --------------------------------------------------------------------- #
def _float(text):
    return float(text) if text not in ("", None) else math.nan


def read_folder(path):
    """Cells of one ``wsmooth --out`` folder: a list of dicts."""
    with open(os.path.join(path, "results.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}/results.csv holds no rows")
    return [
        {"configuration": r["configuration"], "setting": r["setting"],
         "seed": int(r["seed"]), "attack": r["attack"],
         **{k: _float(r.get(k)) for k in FIGURES}}
        for r in rows
    ]


def read_runs(specs):
    """``{name: {"cells": [...], "leakage": figure}}`` in the order given.

    ``specs`` are folders (``DIR`` or ``DIR:figure``), JSON files written by
    :func:`dump`, or ``NAME=PART,PART[:figure]``: the cells of several
    folders, or of runs read earlier from a JSON file, as one run (a cell
    found in more than one part is taken from the first).
    """
    runs = {}
    for spec in specs:
        if spec.endswith(".json") and os.path.isfile(spec):
            with open(spec) as f:
                runs.update(json.load(f))
            continue
        name, _, rest = spec.rpartition("=")
        parts, _, figure = rest.partition(":")
        parts = parts.split(",")
        if not figure:
            figure = runs[parts[0]]["leakage"] if parts[0] in runs else "tpr@1%fpr"
        figure = _ALIASES.get(figure, figure)
        if figure not in FIGURES[1:4]:
            raise ValueError(f"unknown leakage figure {figure!r} in {spec!r}")
        name = name or os.path.basename(os.path.normpath(parts[0]))
        cells, seen = [], set()
        for part in parts:
            found = runs[part]["cells"] if part in runs else read_folder(part)
            for c in found:
                key = (c["configuration"], c["setting"], c["seed"], c["attack"])
                if key not in seen:
                    seen.add(key)
                    cells.append(c)
        runs[name] = {"leakage": figure, "cells": cells}
    return runs


def dump(runs, path):
    """Write the cells compactly (one line per cell) for a later rerun."""
    with open(path, "w") as f:
        f.write("{\n")
        for i, (name, run) in enumerate(runs.items()):
            f.write(f' "{name}": {{"leakage": "{run["leakage"]}", "cells": [\n')
            lines = [json.dumps(c, separators=(",", ":")) for c in run["cells"]]
            f.write(",\n".join(lines))
            f.write("\n ]}" + ("," if i < len(runs) - 1 else "") + "\n")
        f.write("}\n")


# --------------------------------------------------------------------- #
# Aggregates
# --------------------------------------------------------------------- #
def _std(values):
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def settings(cells, leakage):
    """One dict per setting (first-seen order) with its per-seed figures."""
    order, by_key = [], {}
    for c in cells:
        key = (c["configuration"], c["setting"])
        if key not in by_key:
            order.append(key)
            by_key[key] = {"acc": {}, "attacks": {}}
        s = by_key[key]
        s["acc"][c["seed"]] = c["test_accuracy"]
        a = s["attacks"].setdefault(c["attack"], {"tpr": {}, "auc": {}, "leak": {}})
        seed_tpr = s.setdefault("per_seed_tpr", {}).setdefault(c["seed"], {})
        seed_tpr[c["attack"]] = c["tpr@1%fpr"]
        a["tpr"][c["seed"]] = c["tpr@1%fpr"]
        a["auc"][c["seed"]] = c["auc"]
        a["leak"][c["seed"]] = c[leakage]
    out = []
    for key in order:
        s = by_key[key]
        seeds = sorted(s["acc"])
        accs = [s["acc"][k] for k in seeds]
        attacks = {}
        for name, a in s["attacks"].items():
            attacks[name] = {
                "tpr": float(np.mean(list(a["tpr"].values()))),
                "tpr_std": _std(list(a["tpr"].values())),
                "auc": float(np.mean(list(a["auc"].values()))),
                "leak": float(np.mean(list(a["leak"].values()))),
                "leak_std": _std(list(a["leak"].values())),
            }
        strongest = max(attacks, key=lambda n: attacks[n]["leak"])
        out.append({
            "configuration": key[0], "setting": key[1], "seeds": seeds,
            "per_seed": accs, "acc": float(np.mean(accs)), "acc_std": _std(accs),
            "attacks": attacks, "strongest": strongest,
            "per_seed_tpr": [s["per_seed_tpr"][k] for k in seeds],
            "leak": attacks[strongest]["leak"],
            "leak_std": attacks[strongest]["leak_std"],
        })
    _mark_frontier(out)
    return out


def _mark_frontier(points):
    for p in points:
        p["frontier"] = not any(
            q is not p and q["acc"] >= p["acc"] and q["leak"] <= p["leak"]
            and (q["acc"] > p["acc"] or q["leak"] < p["leak"])
            for q in points
        )


def collapses(points):
    """``(configuration, setting, seed, accuracy, median of the others)``."""
    found = []
    for p in points:
        for i, (seed, acc) in enumerate(zip(p["seeds"], p["per_seed"], strict=True)):
            others = p["per_seed"][:i] + p["per_seed"][i + 1:]
            if others and acc < 0.5 * statistics.median(others):
                found.append((p["configuration"], p["setting"], seed, acc,
                              statistics.median(others)))
    return found


def envelope(points):
    """Upper envelope ``(leakage, accuracy)`` arrays, leakage ascending."""
    front = []
    for p in sorted(points, key=lambda p: (p["leak"], -p["acc"])):
        if not front or p["acc"] > front[-1][1]:
            front.append((p["leak"], p["acc"]))
    return np.array(front).T


def curve_accuracy(curve, leak):
    """Accuracy of ``curve`` at ``leak`` (None below its least leaky point)."""
    if leak < curve[0][0]:
        return None
    return float(np.interp(leak, curve[0], curve[1]))


def step_accuracy(points, leak):
    """The most accurate of ``points`` leaking no more than ``leak``."""
    fit = [p for p in points if p["leak"] <= leak]
    return max(fit, key=lambda p: p["acc"]) if fit else None


# --------------------------------------------------------------------- #
# Tables
# --------------------------------------------------------------------- #
def _label(leakage):
    return {"tpr@1%fpr": "TPR@1%", "tpr@0.1%fpr": "TPR@0.1%", "auc": "AUC"}[leakage]


def main_table(points, leakage):
    attacks = list(points[0]["attacks"])
    head = ["", "configuration", "setting", "test acc"]
    for a in attacks:
        head += [f"{a} TPR@1%", f"{a} AUC"]
    head += ["strongest", f"strongest {_label(leakage)}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in points:
        row = ["*" if p["frontier"] else "", p["configuration"], p["setting"],
               f"{p['acc']:.4f} ± {p['acc_std']:.4f}"]
        for a in attacks:
            f = p["attacks"].get(a)
            row += ([f"{f['tpr']:.4f} ± {f['tpr_std']:.4f}", f"{f['auc']:.4f}"]
                    if f else ["", ""])
        row += [p["strongest"], f"{p['leak']:.4f} ± {p['leak_std']:.4f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _versus(points, config, curve_points, curve_name, leakage):
    curve = envelope(curve_points)
    lines = [f"| {config} setting | test acc | strongest {_label(leakage)} | "
             f"{curve_name} curve acc there | difference | "
             f"best {curve_name} point leaking no more | difference |",
             "|" + "---|" * 7]
    best = None
    for p in points:
        if p["configuration"] != config:
            continue
        ref = curve_accuracy(curve, p["leak"])
        diff = None if ref is None else p["acc"] - ref
        step = step_accuracy(curve_points, p["leak"])
        sdiff = None if step is None else p["acc"] - step["acc"]
        if diff is not None and (best is None or diff > best[1]):
            best = (p, diff)
        lines.append(
            f"| {p['setting']} | {p['acc']:.4f} | {p['leak']:.4f} | "
            + ("leaks less than every point |  | " if ref is None
               else f"{ref:.4f} | {diff:+.4f} | ")
            + ("none leaks so little |  |" if step is None else
               f"{step['configuration']} {step['setting']} ({step['acc']:.4f} at "
               f"{step['leak']:.4f}) | {sdiff:+.4f} |")
        )
    return "\n".join(lines), best


def label_only_table(points, config):
    lines = [f"| {config} setting | label_only TPR@1% | best score TPR@1% (attack) | "
             "at or below | seeds at or below (TPR@1%) | label_only AUC | "
             "best score AUC | at or below |",
             "|" + "---|" * 8]
    for p in points:
        if p["configuration"] != config or "label_only" not in p["attacks"]:
            continue
        lo = p["attacks"]["label_only"]
        scores = {a: f for a, f in p["attacks"].items() if a in SCORE_ATTACKS}
        if not scores:
            continue
        top = max(scores, key=lambda a: scores[a]["tpr"])
        top_auc = max(f["auc"] for f in scores.values())
        per_seed = [t["label_only"] <= max(v for a, v in t.items() if a in scores)
                    for t in p["per_seed_tpr"]]
        lines.append(
            f"| {p['setting']} | {lo['tpr']:.4f} | {scores[top]['tpr']:.4f} ({top}) | "
            f"{'yes' if lo['tpr'] <= scores[top]['tpr'] else 'NO'} | "
            f"{sum(per_seed)} of {len(per_seed)} | {lo['auc']:.4f} | "
            f"{top_auc:.4f} | {'yes' if lo['auc'] <= top_auc else 'NO'} |"
        )
    return "\n".join(lines) if len(lines) > 2 else ""


def report(name, run):
    leakage = run["leakage"]
    points = settings(run["cells"], leakage)
    seeds = sorted({c["seed"] for c in run["cells"]})
    out = [f"## {name}", "",
           f"{len(points)} settings, seeds {seeds}; leakage: strongest attack's "
           f"{_label(leakage)} (mean over seeds); `*`: frontier.", "",
           main_table(points, leakage), "", "Collapses (a seed under half the "
           "median of the other seeds of its setting):"]
    found = collapses(points)
    out += [f"- {c} {s} seed {k}: {a:.4f} (others' median {m:.4f})"
            for c, s, k, a, m in found] or ["- none"]
    out.append("")
    out.append("Per-seed test accuracy of the weighted-smoothing settings "
               "(seed order " + ", ".join(map(str, seeds)) + "):")
    out.append("")
    for p in points:
        if p["configuration"].startswith("ws"):
            out.append(f"- {p['configuration']} {p['setting']}: "
                       + " ".join(f"{a:.4f}" for a in p["per_seed"]))
    out.append("")
    ref_points = [p for p in points
                  if p["configuration"] in ("ws_reference", UNDEFENDED)]
    base_points = [p for p in points if p["configuration"] in BASELINES]
    if any(p["configuration"] == "ws" for p in points):
        if ref_points:
            table, _ = _versus(points, "ws", ref_points, "ws_reference", leakage)
            out += ["ws against ws_reference at matched leakage (curve: upper "
                    "envelope of ws_reference and none, linear interpolation):",
                    "", table, ""]
        for config in ("ws", "ws_reference"):
            if not any(p["configuration"] == config for p in points):
                continue
            table, best = _versus(points, config, base_points, "baseline", leakage)
            out += [f"{config} against the baselines' frontier (none, "
                    "weight_decay, early_stopping; envelope with linear "
                    "interpolation, and the step frontier):", "", table, ""]
            if best is not None:
                p, diff = best
                out.append(
                    f"Best {config} point: {p['setting']}, {diff:+.4f} accuracy "
                    f"above the baselines' frontier at its leakage "
                    f"({'meets' if diff >= ACCEPT_MARGIN else 'misses'} the "
                    f"+{ACCEPT_MARGIN:g} margin).")
            else:
                out.append(f"No {config} point leaks as much as the least "
                           "leaky baseline; no interpolated comparison.")
            out.append("")
        table = label_only_table(points, "ws")
        if table:
            out += ["ws: label-only against the score attacks (mean over seeds):",
                    "", table, ""]
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+",
                        help="wsmooth --out folders (DIR or DIR:figure) or a "
                             "JSON file written by --dump")
    parser.add_argument("--dump", metavar="PATH",
                        help="also write the per-cell figures as compact JSON")
    parser.add_argument("--show", nargs="+", metavar="NAME",
                        help="tabulate these runs only (default: all)")
    args = parser.parse_args(argv)
    runs = read_runs(args.runs)
    if args.dump:
        dump(runs, args.dump)
    shown = args.show or list(runs)
    missing = [n for n in shown if n not in runs]
    if missing:
        parser.error(f"no run named {missing}; runs: {list(runs)}")
    print("\n\n".join(report(n, runs[n]) for n in shown))


if __name__ == "__main__":
    main()
