"""The privacy-utility frontier of an experiment, on the seed means.

A setting is a (configuration, setting) pair. Its utility is the mean over
seeds of a utility figure (test accuracy by default); its leakage is the mean
over seeds of a leakage figure under one attack, or, with
``attack="strongest"`` (the protocol's rule: report the strongest attack), the
largest such mean over the attacks. A setting is on the frontier when no other
setting has utility >= and leakage <= with at least one of the two strict;
settings equal in both are all kept.

A figure missing on some seed (NaN) makes the mean NaN: the leakage of that
setting under that attack is unknown, so under the strongest attack the
setting's leakage is unknown too (never the other attacks' smaller one). Such
a setting is never on the frontier and never the answer.

The answer of :func:`most_accurate_under` is chosen on some seeds and its
figures are reported on the others (selecting and reporting on the same
seeds would favour the setting whose seeds were luckiest).
"""

import math
import warnings

import numpy as np

from ._results import ExperimentResults, _figure

__all__ = [
    "frontier_table",
    "most_accurate_under",
    "pareto_frontier",
    "setting_points",
    "split_seeds",
]

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
        attack whose mean leakage is largest (an attack whose mean is NaN
        makes the setting's leakage NaN).
    leakage : str, default="tpr@1%"
        Leakage figure (lower is less leakage): ``"tpr@1%"``, ``"tpr@0.1%"``,
        ``"auc"``, ``"advantage"`` or ``"balanced_accuracy"`` (the
        population's), or the worst case on the canaries of a run with
        canaries: ``"canary_tpr@1%"``, ``"canary_tpr@0.1%"`` or
        ``"canary_auc"`` (also spelt ``"canary-tpr@1%"`` and so on).
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
    for name in (leakage, utility):
        if name not in results.figures:
            raise ValueError(
                f"{name} is a canary figure and the results hold none: run "
                "run_experiment with canaries=N (the command: --canaries N)"
            )
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
        value = s[f"{leakage}_mean"]
        # the strongest attack: largest mean leakage (first one listed on
        # ties); an unknown (NaN) leakage wins, so that it is never hidden
        if best is None or not math.isnan(best["leakage"]) and (
            math.isnan(value) or value > best["leakage"]
        ):
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


def split_seeds(seeds):
    """``(selection seeds, reporting seeds)``: the first half (rounded up)
    and the rest; with one seed, that seed for both."""
    seeds = list(seeds)
    n = math.ceil(len(seeds) / 2)
    return seeds[:n], (seeds[n:] or seeds[:n])


def _on_seeds(results, seeds):
    keep = set(seeds)
    return ExperimentResults(
        [r for r in results.rows if r["seed"] in keep],
        undefended=results.undefended,
        meta=results.meta,
    )


def most_accurate_under(
    results, max_leakage, *, attack=STRONGEST, leakage="tpr@1%", utility="test_accuracy"
):
    """The most accurate setting whose mean leakage is at most ``max_leakage``.

    The answer to "which defence and which setting give the most accuracy for
    the leakage I can accept?", chosen on some seeds and reported on the
    others: the setting is selected on the means over the first half of the
    results' seeds (rounded up), where it is the most accurate within the
    bound (among equally accurate settings, the one that leaks least: it is
    on that half's frontier), and its figures are the means over the
    remaining seeds, which took no part in the choice. With one seed the
    figures are those it was selected on (``selected_on_itself``).

    When no setting leaks at most ``max_leakage`` on the selection seeds,
    the answer is the least leaky setting (among equally low ones, the most
    accurate), with ``bound_met`` False and a warning naming the bound and
    that least leakage: the answer always lands.

    A setting whose utility or leakage is unknown (NaN) on the selection
    seeds is left out with a warning.

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
        The chosen setting's point of :func:`setting_points` on the reporting
        seeds (every figure, ``attack`` and ``on_frontier`` from those seeds),
        with in addition ``selected_on_seeds``, ``reported_on_seeds``,
        ``selected_on_itself`` (True when they are the same seeds),
        ``selection_utility`` and ``selection_leakage`` (the means it was
        chosen on), ``bound_met`` (whether some setting met the bound on the
        selection seeds; False when the least leaky one stands in) and
        ``within_bound`` (whether the reported leakage is at most
        ``max_leakage``).

    Raises
    ------
    ValueError
        If no setting has a known leakage and utility on the selection seeds,
        or the chosen setting has no rows on the reporting seeds.

    Warns
    -----
    UserWarning
        When settings are left out for an unknown figure, and when no setting
        meets the bound (the least leaky one is the answer).
    """
    _check_results(results)
    kwargs = {"attack": attack, "leakage": leakage, "utility": utility}
    select, report = split_seeds(results.seeds)
    itself = select == report
    points = setting_points(_on_seeds(results, select), **kwargs)
    leakage = _figure(leakage)
    unknown = [
        p for p in points if math.isnan(p["leakage"]) or math.isnan(p["utility"])
    ]
    if unknown:
        names = [f"{p['configuration']} {p['setting']}" for p in unknown]
        warnings.warn(
            f"the settings {names} have an unknown (NaN) mean {leakage} or "
            f"utility on the seeds {select}: they are left out of the answer",
            UserWarning,
            stacklevel=2,
        )
        points = [p for p in points if p not in unknown]
    if not points:
        raise ValueError(f"no setting has a known mean {leakage} on the seeds {select}")
    allowed = [p for p in points if p["leakage"] <= max_leakage]
    if allowed:
        chosen = max(allowed, key=lambda p: (p["utility"], -p["leakage"]))
    else:
        # the answer always lands: the least leaky setting (the most accurate
        # of those equally low), flagged, and the caller warned
        chosen = min(points, key=lambda p: (p["leakage"], -p["utility"]))
        warnings.warn(
            f"no setting has mean {leakage} <= {max_leakage:g} on the selection "
            f"seeds {select}; the least leaky, {chosen['configuration']} "
            f"{chosen['setting']} (mean {leakage} {chosen['leakage']:.4g}), is "
            "the answer instead. Accept more leakage or add stronger settings.",
            UserWarning,
            stacklevel=2,
        )
    if itself:
        answer = dict(chosen)
    else:
        key = (chosen["configuration"], chosen["setting"])
        reported = {
            (p["configuration"], p["setting"]): p
            for p in setting_points(_on_seeds(results, report), **kwargs)
        }
        if key not in reported:
            raise ValueError(
                f"the chosen setting {key[0]} {key[1]} has no rows on the "
                f"reporting seeds {report}"
            )
        answer = dict(reported[key])
    answer.update(
        selected_on_seeds=select,
        reported_on_seeds=report,
        selected_on_itself=itself,
        selection_utility=chosen["utility"],
        selection_leakage=chosen["leakage"],
        bound_met=bool(allowed),
        within_bound=bool(answer["leakage"] <= max_leakage),
    )
    return answer


def _counterpart(figure):
    """The canary figure of a population figure, and the other way round."""
    pairs = {
        "auc": "canary_auc",
        "tpr@0.1%fpr": "canary_tpr@0.1%fpr",
        "tpr@1%fpr": "canary_tpr@1%fpr",
    }
    pairs.update({v: k for k, v in pairs.items()})
    return pairs.get(figure)


def frontier_table(
    results, *, attack=STRONGEST, leakage="tpr@1%", utility="test_accuracy",
    chosen=None,
):
    """A plain-text table of every setting, mean ± std, frontier marked ``*``.

    When the results hold canary figures, the leakage's counterpart
    (``canary_tpr@1%fpr`` beside ``tpr@1%fpr``, and the other way round;
    likewise for ``tpr@0.1%`` and ``auc``) is shown in a column beside it,
    under its own strongest attack.

    Parameters
    ----------
    results, attack, leakage, utility
        As in :func:`setting_points`.
    chosen : dict or tuple, default=None
        The setting chosen, marked ``>`` (e.g. the answer of
        :func:`most_accurate_under`, or a ``(configuration, setting)`` pair);
        the legend then explains the mark.

    Returns
    -------
    str
    """
    leak_name, util_name = _figure(leakage), _figure(utility)
    points = setting_points(results, attack=attack, leakage=leakage, utility=utility)
    if isinstance(chosen, dict):
        chosen = (chosen["configuration"], chosen["setting"])
    elif chosen is not None:
        chosen = tuple(chosen)
    header = ["", "configuration", "setting", util_name, leak_name, "attack", "seeds"]
    lines = [
        [
            _mark(p, chosen),
            p["configuration"] + (" (undefended)" if p["undefended"] else ""),
            p["setting"],
            f"{p['utility']:.4f} ± {p['utility_std']:.4f}",
            f"{p['leakage']:.4f} ± {p['leakage_std']:.4f}",
            p["attack"],
            str(p["n_seeds"]),
        ]
        for p in points
    ]
    beside = _counterpart(leak_name)
    if beside is not None and beside in results.figures:
        # the population's figure beside the canaries', or the other way round
        others = setting_points(results, attack=attack, leakage=beside, utility=utility)
        header[6:6] = [beside]
        for line, o in zip(lines, others, strict=True):
            shown = f"{o['leakage']:.4f} ± {o['leakage_std']:.4f} ({o['attack']})"
            line[6:6] = [shown]
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    title = f"leakage: {leak_name} under " + (
        "the strongest attack per setting" if attack == STRONGEST else attack
    )
    out = [title, fmt.format(*header).rstrip()]
    out += [fmt.format(*r).rstrip() for r in lines]
    out.append("* on the frontier (no setting is more accurate and leaks less)")
    if chosen is not None:
        out.append("> the chosen setting (the answer)")
    return "\n".join(out)


def _mark(point, chosen):
    """``*`` for a frontier point, preceded by ``>`` for the chosen setting
    (a space for the others, when a setting is chosen)."""
    star = "*" if point["on_frontier"] else ""
    if chosen is None:
        return star
    return (">" if (point["configuration"], point["setting"]) == chosen else " ") + star
