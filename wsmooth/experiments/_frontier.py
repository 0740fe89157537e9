"""The privacy-utility frontier of an experiment, on the seed means.

A setting is a (configuration, setting) pair. Its utility is the mean over
seeds of a utility figure (test accuracy by default); its leakage is the mean
over seeds of a leakage figure under one attack, or, with
``attack="strongest"`` (the protocol's rule: report the strongest attack), the
largest such mean over the attacks. A setting is on the frontier when no other
setting has utility >= and leakage <= with at least one of the two strict;
settings equal in both are all kept.
"""

import numpy as np

from ._results import ExperimentResults, _figure

__all__ = ["frontier_table", "most_accurate_under", "pareto_frontier", "setting_points"]

STRONGEST = "strongest"


def _check_results(results):
    if not isinstance(results, ExperimentResults):
        raise TypeError(
            f"expected ExperimentResults (from run_experiment), got "
            f"{type(results).__name__}"
        )
    if not len(results):
        raise ValueError("the results hold no rows")


def setting_points(
    results, *, attack=STRONGEST, leakage="tpr@1%", utility="test_accuracy"
):
    """One point per setting: mean and spread of utility and leakage, frontier flag.

    Parameters
    ----------
    results : ExperimentResults
    attack : str, default="strongest"
        An attack label of the results, or ``"strongest"``: per setting, the
        attack whose mean leakage is largest.
    leakage : str, default="tpr@1%"
        Leakage figure (lower is less leakage): ``"tpr@1%"``, ``"tpr@0.1%"``,
        ``"auc"``, ``"advantage"`` or ``"balanced_accuracy"``.
    utility : str, default="test_accuracy"
        Utility figure (higher is better).

    Returns
    -------
    list of dict
        In the results' order, keys ``configuration``, ``setting``,
        ``params``, ``attack`` (the attack the leakage comes from),
        ``n_seeds``, ``utility``, ``utility_std``, ``leakage``,
        ``leakage_std``, ``undefended`` and ``on_frontier``. Standard
        deviations are over seeds (sample, 0 for one seed).
    """
    _check_results(results)
    leakage, utility = _figure(leakage), _figure(utility)
    attacks = results.attacks
    if attack != STRONGEST and attack not in attacks:
        raise ValueError(
            f"attack {attack!r} is not in the results; choose one of {attacks} "
            f"or {STRONGEST!r}"
        )
    summary = [
        s for s in results.summary() if attack == STRONGEST or s["attack"] == attack
    ]
    points = {}
    for s in summary:
        key = (s["configuration"], s["setting"])
        best = points.get(key)
        # the strongest attack: largest mean leakage (first one listed on ties)
        if best is None or s[f"{leakage}_mean"] > best["leakage"]:
            points[key] = {
                "configuration": s["configuration"],
                "setting": s["setting"],
                "params": s["params"],
                "attack": s["attack"],
                "n_seeds": s["n_seeds"],
                "utility": s[f"{utility}_mean"],
                "utility_std": s[f"{utility}_std"],
                "leakage": s[f"{leakage}_mean"],
                "leakage_std": s[f"{leakage}_std"],
                "undefended": s["configuration"] == results.undefended,
            }
    points = list(points.values())
    acc = np.array([p["utility"] for p in points], dtype=float)
    leak = np.array([p["leakage"] for p in points], dtype=float)
    for p, flag in zip(points, _non_dominated(acc, leak), strict=True):
        p["on_frontier"] = bool(flag)
    return points


def _non_dominated(utility, leakage):
    """Mask of points no other point dominates (NaN points are never kept)."""
    u, lk = utility[:, None], leakage[:, None]  # row i: the point tested
    no_worse = (utility[None, :] >= u) & (leakage[None, :] <= lk)
    better = (utility[None, :] > u) | (leakage[None, :] < lk)
    dominated = (no_worse & better).any(axis=1)
    return ~dominated & np.isfinite(utility) & np.isfinite(leakage)


def pareto_frontier(
    results, *, attack=STRONGEST, leakage="tpr@1%", utility="test_accuracy"
):
    """The settings not dominated in (utility up, leakage down), on the seed means.

    Parameters are those of :func:`setting_points`.

    Returns
    -------
    list of dict
        The frontier points of :func:`setting_points`, by increasing leakage
        (then decreasing utility), each with its spread over seeds.
    """
    points = setting_points(results, attack=attack, leakage=leakage, utility=utility)
    front = [p for p in points if p["on_frontier"]]
    return sorted(front, key=lambda p: (p["leakage"], -p["utility"]))


def most_accurate_under(
    results, max_leakage, *, attack=STRONGEST, leakage="tpr@1%", utility="test_accuracy"
):
    """The most accurate setting whose mean leakage is at most ``max_leakage``.

    The answer to "which defence and which setting give the most accuracy for
    the leakage I can accept?". Among equally accurate settings, the one that
    leaks least; the answer is always on the frontier.

    Parameters
    ----------
    results : ExperimentResults
    max_leakage : float
        The largest acceptable mean leakage (e.g. 0.02 for TPR at 1% FPR).
    attack, leakage, utility : str
        As in :func:`setting_points`.

    Returns
    -------
    dict
        The chosen point of :func:`setting_points`.

    Raises
    ------
    ValueError
        If no setting leaks at most ``max_leakage``; the message gives the
        lowest leakage reached.
    """
    points = setting_points(results, attack=attack, leakage=leakage, utility=utility)
    leakage = _figure(leakage)
    allowed = [p for p in points if p["leakage"] <= max_leakage]
    if not allowed:
        lowest = min(points, key=lambda p: p["leakage"])
        raise ValueError(
            f"no setting has mean {leakage} <= {max_leakage}; the lowest is "
            f"{lowest['leakage']:.4g} ({lowest['configuration']} "
            f"{lowest['setting']}). Accept more leakage or add stronger settings."
        )
    return max(allowed, key=lambda p: (p["utility"], -p["leakage"]))


def frontier_table(
    results, *, attack=STRONGEST, leakage="tpr@1%", utility="test_accuracy"
):
    """A plain-text table of every setting, mean ± std, frontier marked ``*``.

    Parameters are those of :func:`setting_points`.

    Returns
    -------
    str
    """
    leak_name, util_name = _figure(leakage), _figure(utility)
    points = setting_points(results, attack=attack, leakage=leakage, utility=utility)
    header = ["", "configuration", "setting", util_name, leak_name, "attack", "seeds"]
    lines = [
        [
            "*" if p["on_frontier"] else "",
            p["configuration"] + (" (undefended)" if p["undefended"] else ""),
            p["setting"],
            f"{p['utility']:.4f} ± {p['utility_std']:.4f}",
            f"{p['leakage']:.4f} ± {p['leakage_std']:.4f}",
            p["attack"],
            str(p["n_seeds"]),
        ]
        for p in points
    ]
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    title = f"leakage: {leak_name} under " + (
        "the strongest attack per setting" if attack == STRONGEST else attack
    )
    out = [title, fmt.format(*header).rstrip()]
    out += [fmt.format(*r).rstrip() for r in lines]
    out.append("* on the frontier (no setting is more accurate and leaks less)")
    return "\n".join(out)
