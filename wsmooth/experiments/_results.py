"""Tidy experiment results: one row per configuration x setting x seed x attack."""

import csv
import json
import math
import os

import numpy as np

__all__ = ["CANARY_FIGURES", "FIGURES", "ExperimentResults"]

#: Worst-case figures, in the rows of a run with canaries only: the attack's
#: figures on the IN canaries against the OUT canaries.
CANARY_FIGURES = ("canary_auc", "canary_tpr@0.1%fpr", "canary_tpr@1%fpr")
#: The figures of each row, in column order: utility first, then leakage
#: (the population's, then the canaries'), then cost.
FIGURES = (
    "test_accuracy",
    "train_accuracy",
    "auc",
    "tpr@0.1%fpr",
    "tpr@1%fpr",
    "advantage",
    "balanced_accuracy",
    *CANARY_FIGURES,
    "fit_seconds",
    "attack_seconds",
)
#: The value of each leakage figure for an attacker who guesses: a TPR at a
#: given FPR equals that FPR, an AUC or a balanced accuracy is 0.5, an
#: advantage (TPR - FPR) 0.
CHANCE = {
    "tpr@1%fpr": 0.01,
    "tpr@0.1%fpr": 0.001,
    "auc": 0.5,
    "advantage": 0.0,
    "balanced_accuracy": 0.5,
    "canary_tpr@1%fpr": 0.01,
    "canary_tpr@0.1%fpr": 0.001,
    "canary_auc": 0.5,
}
#: Columns that identify a row.
KEYS = ("configuration", "setting", "seed", "attack")
COLUMNS = (*KEYS, "params", *FIGURES)

#: Figures that are durations, rounded to tenths of a second by
#: :meth:`ExperimentResults.rounded`; the others (accuracies, leakage) are
#: fractions, rounded to :data:`SIGNIFICANT_DIGITS` significant digits.
SECONDS_FIGURES = ("fit_seconds", "attack_seconds")
#: Significant digits of the fractions in :meth:`ExperimentResults.rounded`.
SIGNIFICANT_DIGITS = 4

# Short names accepted wherever a figure is named.
_ALIASES = {
    "tpr@1%": "tpr@1%fpr",
    "tpr@0.1%": "tpr@0.1%fpr",
    "accuracy": "test_accuracy",
    "canary_tpr@1%": "canary_tpr@1%fpr",
    "canary_tpr@0.1%": "canary_tpr@0.1%fpr",
    "canary-auc": "canary_auc",
    "canary-tpr@1%": "canary_tpr@1%fpr",
    "canary-tpr@0.1%": "canary_tpr@0.1%fpr",
}


def _figure(name):
    name = _ALIASES.get(name, name)
    if name not in FIGURES:
        raise ValueError(
            f"unknown figure {name!r}; choose one of {list(FIGURES)} "
            f"(or the short names {list(_ALIASES)})"
        )
    return name


def _std(values):
    """Sample standard deviation over seeds (0 for a single seed)."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


class ExperimentResults:
    """Results of :func:`run_experiment`: tidy rows, aggregates and exports.

    Parameters
    ----------
    rows : list of dict
        One dict per configuration x setting x seed x attack, with the keys
        ``configuration``, ``setting`` (a label such as ``"sigma=0.1"``),
        ``params`` (the setting's parameters), ``seed``, ``attack`` and the
        figures of :data:`FIGURES` (those of :data:`CANARY_FIGURES` only
        when the run had canaries).
    undefended : str, default=None
        Name of the configuration that is the undefended model (marked in
        plots and tables).
    meta : dict, default=None
        How the results were obtained (JSON-friendly): :func:`run_experiment`
        records the protocol, the pool, test and member counts, ``n_shadow``
        and the attacks' parameters.

    Attributes
    ----------
    rows : list of dict
    undefended : str or None
    meta : dict
    """

    def __init__(self, rows, *, undefended=None, meta=None):
        self.rows = [dict(r) for r in rows]
        self.undefended = undefended
        self.meta = dict(meta or {})

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __repr__(self):
        configs = sorted({r["configuration"] for r in self.rows})
        return (
            f"ExperimentResults({len(self.rows)} rows, configurations={configs}, "
            f"attacks={self.attacks}, seeds={self.seeds})"
        )

    @property
    def attacks(self):
        """Attack labels, in order of first appearance."""
        return list(dict.fromkeys(r["attack"] for r in self.rows))

    @property
    def seeds(self):
        """Seeds, in order of first appearance."""
        return list(dict.fromkeys(r["seed"] for r in self.rows))

    @property
    def figures(self):
        """The figures of the rows: :data:`FIGURES`, without the canary
        figures when no row holds them."""
        return [
            f for f in FIGURES
            if f not in CANARY_FIGURES or any(f in r for r in self.rows)
        ]

    def settings(self):
        """``(configuration, setting)`` pairs, in order of first appearance."""
        pairs = ((r["configuration"], r["setting"]) for r in self.rows)
        return list(dict.fromkeys(pairs))

    def summary(self):
        """Mean and spread over seeds, per configuration x setting x attack.

        Returns
        -------
        list of dict
            Keys ``configuration``, ``setting``, ``params``, ``attack``,
            ``n_seeds`` and, per figure ``f`` of :attr:`figures`,
            ``f + "_mean"`` and ``f + "_std"`` (sample standard deviation
            over seeds, 0 for one seed; NaN where a row lacks the figure).
        """
        figures = self.figures
        groups = {}
        for r in self.rows:
            key = (r["configuration"], r["setting"], r["attack"])
            groups.setdefault(key, []).append(r)
        out = []
        for (config, setting, attack), rows in groups.items():
            entry = {
                "configuration": config,
                "setting": setting,
                "params": rows[0]["params"],
                "attack": attack,
                "n_seeds": len(rows),
            }
            for f in figures:
                values = np.array([r.get(f, math.nan) for r in rows], dtype=float)
                entry[f"{f}_mean"] = float(values.mean())
                entry[f"{f}_std"] = _std(values)
            out.append(entry)
        return out

    def rounded(self):
        """A copy whose figures are rounded to what they mean, for reports.

        Accuracies and leakage figures (fractions) keep
        :data:`SIGNIFICANT_DIGITS` (4) significant digits, so that a TPR at
        0.1% FPR of 0.00123 is not flattened to 0.0012; durations
        (:data:`SECONDS_FIGURES`) are rounded to 0.1 s. Unknown figures (NaN,
        None) and every other field are kept as they are; the object itself
        is not changed.

        Returns
        -------
        ExperimentResults
        """
        rows = [
            {k: _round_figure(k, v) if k in FIGURES else v for k, v in r.items()}
            for r in self.rows
        ]
        return ExperimentResults(rows, undefended=self.undefended, meta=self.meta)

    # ------------------------------------------------------------------ #
    # Export
    # ------------------------------------------------------------------ #
    def to_dict(self):
        """JSON-friendly ``{"undefended": ..., "meta": {...}, "rows": [...]}``."""
        rows = [_jsonable(r) for r in self.rows]
        meta = _jsonable(self.meta)
        return {"undefended": self.undefended, "meta": meta, "rows": rows}

    def to_json(self, path):
        """Write :meth:`to_dict` as JSON to ``path``."""
        with open(os.fspath(path), "w") as f:
            json.dump(self.to_dict(), f, indent=1)

    @classmethod
    def from_json(cls, path):
        """Read results written by :meth:`to_json` (plain JSON, no code)."""
        with open(os.fspath(path)) as f:
            data = json.load(f)
        return cls(
            data["rows"], undefended=data.get("undefended"), meta=data.get("meta")
        )

    def to_csv(self, path):
        """Write the rows as CSV, ``params`` as a JSON object in one column."""
        columns = (*KEYS, "params", *self.figures)
        with open(os.fspath(path), "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for r in self.rows:
                writer.writerow(
                    {**r, "params": json.dumps(_jsonable(r["params"]), sort_keys=True)}
                )

    def to_frame(self):
        """The rows as a pandas DataFrame (pandas imported on demand)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=[*KEYS, "params", *self.figures])


def _round_figure(name, value):
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return value
    value = float(value)
    if not math.isfinite(value):
        return value
    if name in SECONDS_FIGURES:
        return round(value, 1)
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)
