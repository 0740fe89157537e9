"""Membership-leakage reports: every figure of one attack at once.

:func:`membership_report` computes the figures of :mod:`wsmooth.metrics._figures`
from one pass over the ROC curve and returns a :class:`MembershipReport`
(``to_dict``, ``summary``, ``plot``); :func:`membership_report_by_class`
does so class by class (:class:`ClassMembershipReport`, a tidy table).
"""

import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import roc_auc_score

from ._display import MembershipRocDisplay
from ._figures import (
    _check_fpr_levels,
    _check_pair,
    _check_threshold,
    _labels_scores,
    _roc,
    _tpr_at,
    balanced_accuracy_at_threshold,
)

__all__ = [
    "ClassMembershipReport",
    "MembershipReport",
    "membership_report",
    "membership_report_by_class",
]


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #
def _variant_text(variant, counts):
    if variant != "mixed" or not counts:
        return f"variant {variant}"
    groups = [
        f"{group} " + ", ".join(f"{n} {v}" for v, n in sorted(c.items()))
        for group, c in counts.items()
    ]
    return f"variant mixed ({'; '.join(groups)})"


def _level_key(level):
    return f"tpr@{level * 100:g}%fpr"


def _readonly(values):
    arr = np.array(values, dtype=np.float64)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class MembershipReport:
    """All membership-leakage figures of one attack on one target.

    Build it with :func:`membership_report`.

    Attributes
    ----------
    auc : float
        ROC AUC (0.5 at chance).
    balanced_accuracy : float
        At the attack's calibrated `threshold` when one was given, else the best
        over thresholds.
    best_balanced_accuracy : float
        ``(1 + advantage) / 2``.
    advantage : float
        Largest ``TPR - FPR`` over thresholds.
    tpr_at_fpr : dict of {float: float}
        TPR at each requested FPR level, over ROC points with FPR strictly
        below the level (see :func:`tpr_at_fpr`).
    fpr, tpr, thresholds : ndarray
        The ROC curve (read-only), as :func:`membership_roc_curve` returns it.
    threshold : float or None
        The attack's calibrated threshold, if any.
    n_members, n_nonmembers : int
        Number of scored members and non-members.
    name : str or None
        Label of the attack (and target), used in summaries and plots.
    variant : str or None
        Which variant of the attack scored the records, when it has several:
        ``"online"``, ``"offline"`` or ``"mixed"`` (LiRA and RMIA score
        queries outside their population offline).
    variant_counts : dict or None
        How many members and non-members each variant scored, e.g.
        ``{"members": {"online": 300}, "nonmembers": {"offline": 300}}``.
    """

    auc: float
    balanced_accuracy: float
    best_balanced_accuracy: float
    advantage: float
    tpr_at_fpr: dict
    fpr: np.ndarray = field(repr=False)
    tpr: np.ndarray = field(repr=False)
    thresholds: np.ndarray = field(repr=False)
    threshold: float | None = None
    n_members: int = 0
    n_nonmembers: int = 0
    name: str | None = None
    variant: str | None = None
    variant_counts: dict | None = None

    def __post_init__(self):
        for attr in ("fpr", "tpr", "thresholds"):
            object.__setattr__(self, attr, _readonly(getattr(self, attr)))

    def to_dict(self):
        """Scalar figures as a JSON-friendly dict.

        Returns
        -------
        dict
            Keys ``name``, ``auc``, ``balanced_accuracy``,
            ``best_balanced_accuracy``, ``advantage``, ``threshold``,
            ``n_members``, ``n_nonmembers`` and one ``"tpr@<x>%fpr"`` per level
            (e.g. ``"tpr@0.1%fpr"``). The ROC arrays are left out.
        """
        out = {
            "name": self.name,
            "auc": float(self.auc),
            "balanced_accuracy": float(self.balanced_accuracy),
            "best_balanced_accuracy": float(self.best_balanced_accuracy),
            "advantage": float(self.advantage),
        }
        out.update(
            {_level_key(level): float(v) for level, v in self.tpr_at_fpr.items()}
        )
        out.update(
            threshold=None if self.threshold is None else float(self.threshold),
            n_members=int(self.n_members),
            n_nonmembers=int(self.n_nonmembers),
        )
        if self.variant is not None:
            out["variant"] = self.variant
        return out

    def summary(self):
        """One readable line with every scalar figure.

        Returns
        -------
        str
        """
        at = "best" if self.threshold is None else f"threshold {self.threshold:.4g}"
        parts = [
            f"AUC {self.auc:.3f}",
            f"balanced acc {self.balanced_accuracy:.3f} ({at})",
            f"advantage {self.advantage:.3f}",
        ]
        parts += [
            f"TPR@{level * 100:g}%FPR {v:.3g}"
            for level, v in sorted(self.tpr_at_fpr.items())
        ]
        parts.append(f"{self.n_members} members / {self.n_nonmembers} non-members")
        if self.variant is not None:
            parts.append(_variant_text(self.variant, self.variant_counts))
        line = " | ".join(parts)
        return line if self.name is None else f"{self.name}: {line}"

    def __str__(self):
        return self.summary()

    def plot(self, ax=None, **kwargs):
        """Plot the ROC curve; see :meth:`MembershipRocDisplay.plot`.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        **kwargs
            Passed to :meth:`MembershipRocDisplay.plot` (``name``,
            ``log_scale``, ``chance_line``, and matplotlib line keywords).

        Returns
        -------
        MembershipRocDisplay
        """
        display = MembershipRocDisplay(
            fpr=self.fpr,
            tpr=self.tpr,
            roc_auc=self.auc,
            name=self.name,
            tpr_at_fpr=dict(self.tpr_at_fpr),
        )
        return display.plot(ax=ax, **kwargs)


def membership_report(
    member_scores,
    nonmember_scores,
    *,
    threshold=None,
    fpr_levels=(0.001, 0.01),
    name=None,
    variant=None,
    variant_counts=None,
):
    """Compute every membership-leakage figure of the protocol at once.

    Parameters
    ----------
    member_scores, nonmember_scores : array-like of shape (n,)
        Attack scores of members and non-members; higher means "member".
    threshold : float, default=None
        The attack's calibrated decision threshold. If given,
        ``balanced_accuracy`` is measured there; else it is the best over
        thresholds.
    fpr_levels : sequence of float, default=(0.001, 0.01)
        FPR levels in (0, 1] for the TPR figures. A `UserWarning` is emitted
        for levels below ``1 / n_nonmembers`` (see :func:`tpr_at_fpr`).
    name : str, default=None
        Label for summaries and plots.
    variant : str, default=None
        The attack variant that scored the records (see
        :attr:`MembershipReport.variant`).
    variant_counts : dict, default=None
        Records per variant (see :attr:`MembershipReport.variant_counts`).

    Returns
    -------
    MembershipReport
    """
    members, nonmembers = _check_pair(member_scores, nonmember_scores)
    if np.ndim(fpr_levels) > 1:
        raise ValueError(
            f"fpr_levels must be a flat sequence, got shape {np.shape(fpr_levels)}."
        )
    levels = np.atleast_1d(_check_fpr_levels(fpr_levels, nonmembers.size, stacklevel=2))
    if threshold is not None:
        threshold = _check_threshold(threshold)

    fpr_curve, tpr_curve, thresholds = _roc(members, nonmembers)
    advantage = float(np.max(tpr_curve - fpr_curve))
    best_ba = (1.0 + advantage) / 2.0
    if threshold is None:
        balanced_accuracy = best_ba
    else:
        balanced_accuracy = balanced_accuracy_at_threshold(
            members, nonmembers, threshold
        )
    tprs = _tpr_at(fpr_curve, tpr_curve, levels)
    return MembershipReport(
        auc=float(roc_auc_score(*_labels_scores(members, nonmembers))),
        balanced_accuracy=balanced_accuracy,
        best_balanced_accuracy=best_ba,
        advantage=advantage,
        tpr_at_fpr=dict(zip(levels.tolist(), tprs.tolist(), strict=True)),
        fpr=fpr_curve,
        tpr=tpr_curve,
        thresholds=thresholds,
        threshold=threshold,
        n_members=int(members.size),
        n_nonmembers=int(nonmembers.size),
        name=name,
        variant=variant,
        variant_counts=variant_counts,
    )


# --------------------------------------------------------------------------- #
# Per-class slices
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, eq=False)
class ClassMembershipReport:
    """Membership-leakage figures of one attack, class by class.

    Build it with :func:`membership_report_by_class`.

    Attributes
    ----------
    reports : dict of {label: MembershipReport or None}
        Each class's full report; None where the class had too few records.
    counts : dict of {label: (int, int)}
        Each class's numbers of members and non-members.
    notes : dict of {label: str}
        Why a class has no figures, or which of its figures rest on too few
        records ("" when none).
    fpr_levels : tuple of float
    name : str or None
    """

    reports: dict
    counts: dict
    notes: dict
    fpr_levels: tuple
    name: str | None = None

    _FIGURES = ("auc", "balanced_accuracy", "best_balanced_accuracy", "advantage")

    def to_dict(self):
        """The tidy table as a dict of columns (``pandas.DataFrame``-ready).

        Returns
        -------
        dict of {str: list}
            ``class``, ``n_members``, ``n_nonmembers``, ``auc``,
            ``balanced_accuracy``, ``best_balanced_accuracy``, ``advantage``,
            one ``"tpr@<x>%fpr"`` per level, and ``note``; one entry per
            class, NaN figures for a class without any.
        """
        keys = [_level_key(level) for level in self.fpr_levels]
        cols = {k: [] for k in ("class", "n_members", "n_nonmembers")}
        cols.update({k: [] for k in (*self._FIGURES, *keys, "note")})
        for label, report in self.reports.items():
            counts = self.counts[label]
            cols["class"].append(label.item() if hasattr(label, "item") else label)
            cols["n_members"].append(counts[0])
            cols["n_nonmembers"].append(counts[1])
            row = {} if report is None else report.to_dict()
            for k in (*self._FIGURES, *keys):
                cols[k].append(float(row.get(k, np.nan)))
            cols["note"].append(self.notes[label])
        return cols

    def to_frame(self):
        """The table as a ``pandas.DataFrame`` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.to_dict())

    def summary(self):
        """The table as aligned text, one line per class."""
        cols = self.to_dict()
        figures = ["auc", "advantage", *(_level_key(v) for v in self.fpr_levels)]
        head = ["class", "n_members", "n_nonmembers", *figures, "note"]
        cells = [[str(v) for v in cols[k]] for k in head[:3]]
        cells += [[f"{v:.3f}" for v in cols[k]] for k in figures]
        cells.append(cols["note"])
        table = [head, *zip(*cells, strict=True)]
        width = [max(len(row[j]) for row in table) for j in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, width, strict=True)).rstrip()
            for row in table
        ]
        return "\n".join(lines if self.name is None else [self.name, *lines])

    def __str__(self):
        return self.summary()


def membership_report_by_class(
    member_scores,
    nonmember_scores,
    member_labels,
    nonmember_labels,
    *,
    threshold=None,
    fpr_levels=(0.001, 0.01),
    min_records=2,
    name=None,
):
    """Every figure of :func:`membership_report`, on each class's records.

    Shows *which* classes leak: the report of each class is computed on the
    scores of that class's members and non-members only.

    Parameters
    ----------
    member_scores, nonmember_scores : array-like of shape (n,)
        Attack scores of members and non-members; higher means "member".
    member_labels, nonmember_labels : array-like of shape (n,)
        Their class labels.
    threshold : float, default=None
        The attack's calibrated threshold (see :func:`membership_report`).
    fpr_levels : sequence of float, default=(0.001, 0.01)
        FPR levels for the TPR figures.
    min_records : int, default=2
        A class with fewer members or fewer non-members than this gets NaN
        figures and a note instead of a report.
    name : str, default=None
        Label of the table.

    Returns
    -------
    ClassMembershipReport
        ``to_dict()`` / ``to_frame()`` give the tidy table (class,
        n_members, n_nonmembers, AUC, balanced accuracy, advantage, TPR at
        each level, note); ``reports`` holds each class's
        :class:`MembershipReport`. A TPR level below ``1 / n_nonmembers`` of a
        class is noted in its row rather than warned about once per class.
    """
    members, nonmembers = _check_pair(member_scores, nonmember_scores)
    lm, ln = np.asarray(member_labels).ravel(), np.asarray(nonmember_labels).ravel()
    for labels, scores, what in (
        (lm, members, "member"),
        (ln, nonmembers, "nonmember"),
    ):
        if labels.shape != scores.shape:
            raise ValueError(
                f"{what}_labels has {labels.shape[0]} entries for "
                f"{scores.shape[0]} {what} scores"
            )
    if isinstance(min_records, bool) or not isinstance(min_records, numbers.Integral):
        raise ValueError(f"min_records must be an int, got {min_records!r}.")
    if np.ndim(fpr_levels) > 1:
        raise ValueError(
            f"fpr_levels must be a flat sequence, got shape {np.shape(fpr_levels)}."
        )
    levels = np.atleast_1d(_check_fpr_levels(fpr_levels, np.inf, stacklevel=2))
    classes = np.unique(np.concatenate([lm, ln]))
    reports, notes, counts = {}, {}, {}
    for label in classes:  # one report per class, each over its own records
        sm, sn = members[lm == label], nonmembers[ln == label]
        counts[label] = (int(sm.size), int(sn.size))
        if min(sm.size, sn.size) < max(min_records, 1):
            reports[label] = None
            notes[label] = (
                f"too few records ({sm.size} members, {sn.size} non-members; "
                f"min_records={min_records}): no figures"
            )
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            reports[label] = membership_report(
                sm, sn, threshold=threshold, fpr_levels=levels.tolist(),
                name=f"{name or 'class'} {label}",
            )
        low = levels[levels < 1.0 / sn.size]
        notes[label] = (
            f"TPR at FPR {sorted(low.tolist())} below 1/{sn.size} non-members: "
            "0 or decided by one record"
            if low.size
            else ""
        )
    return ClassMembershipReport(
        reports=reports,
        counts=counts,
        notes=notes,
        fpr_levels=tuple(levels.tolist()),
        name=name,
    )
