"""ROC curve display for membership inference, after scikit-learn's RocCurveDisplay."""

import numpy as np

from ._figures import (
    _check_pair,
    _check_scores,
    _roc,
    _tpr_at,
    membership_auc,
)

__all__ = ["MembershipRocDisplay"]

# Levels tried, in order, for the TPR shown in the legend by `from_predictions`.
_LEGEND_LEVELS = (0.001, 0.01)


def _import_pyplot(caller):
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib. Install it with "
            "`pip install wsmooth[plot]` (or `pip install matplotlib`)."
        ) from exc
    return plt


class MembershipRocDisplay:
    """ROC curve of a membership inference attack, log-log by default.

    Use :meth:`from_predictions`, :meth:`from_estimator` or
    :meth:`MembershipReport.plot` to build one; ``__init__`` only stores the
    values.

    Parameters
    ----------
    fpr, tpr : ndarray
        ROC curve, as :func:`membership_roc_curve` returns it.
    roc_auc : float, default=None
        AUC, shown in the legend if given.
    name : str, default=None
        Name of the curve in the legend.
    tpr_at_fpr : dict of {float: float}, default=None
        TPR at FPR levels; the smallest level is shown in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The ROC curve.
    chance_line_ : matplotlib Line2D or None
        The chance diagonal, if drawn.
    ax_ : matplotlib Axes
        Axes with the curve.
    figure_ : matplotlib Figure
        Figure containing the curve.
    """

    def __init__(self, *, fpr, tpr, roc_auc=None, name=None, tpr_at_fpr=None):
        self.fpr = fpr
        self.tpr = tpr
        self.roc_auc = roc_auc
        self.name = name
        self.tpr_at_fpr = tpr_at_fpr

    def _label(self, name):
        parts = []
        if self.roc_auc is not None:
            parts.append(f"AUC = {self.roc_auc:.3f}")
        if self.tpr_at_fpr:
            level = min(self.tpr_at_fpr)
            parts.append(f"TPR@{level * 100:g}%FPR = {self.tpr_at_fpr[level]:.3g}")
        if name is None:
            return ", ".join(parts) or None
        return f"{name} ({', '.join(parts)})" if parts else name

    def plot(self, ax=None, *, name=None, log_scale=True, chance_line=True, **kwargs):
        """Draw the ROC curve.

        On log-log axes (the field's convention, which shows the low-FPR region
        that matters), zero rates cannot be drawn: FPR and TPR values of 0 are
        clipped to half the smallest non-zero value on the curve (``1 / (2n)``
        for ``n`` non-members without ties), and both axes start there.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        name : str, default=None
            Legend name; defaults to the display's `name`.
        log_scale : bool, default=True
            Log-log axes if True, linear axes on [0, 1] otherwise.
        chance_line : bool, default=True
            Draw the dashed chance diagonal ``TPR = FPR``.
        **kwargs
            Passed to ``ax.plot`` for the curve.

        Returns
        -------
        self : MembershipRocDisplay
        """
        plt = _import_pyplot(f"{type(self).__name__}.plot")
        if ax is None:
            _, ax = plt.subplots()
        name = self.name if name is None else name
        fpr = np.asarray(self.fpr, dtype=np.float64)
        tpr = np.asarray(self.tpr, dtype=np.float64)

        if log_scale:
            positive = np.r_[fpr[fpr > 0], tpr[tpr > 0]]
            floor = positive.min() / 2 if positive.size else 1e-3
            if ax.has_data() and ax.get_xscale() == "log":  # keep earlier curves
                floor = min(floor, ax.get_xlim()[0], ax.get_ylim()[0])
            fpr, tpr = np.maximum(fpr, floor), np.maximum(tpr, floor)
            lims = (floor, 1.0)
        else:
            lims = (-0.01, 1.01)

        line_kw = {"label": self._label(name), **kwargs}
        (self.line_,) = ax.plot(fpr, tpr, **line_kw)
        if chance_line:
            (self.chance_line_,) = ax.plot(
                lims, lims, color="k", linestyle="--", linewidth=1, label="Chance"
            )
        else:
            self.chance_line_ = None

        if log_scale:
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set(
            xlabel="False positive rate (non-members flagged)",
            ylabel="True positive rate (members found)",
            xlim=lims,
            ylim=lims,
            aspect="equal",
        )
        if line_kw["label"] is not None or chance_line:
            ax.legend(loc="lower right")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_predictions(
        cls,
        member_scores,
        nonmember_scores,
        *,
        name=None,
        ax=None,
        log_scale=True,
        **kwargs,
    ):
        """Plot the ROC curve from the attack's scores.

        The legend shows the AUC and the TPR at 0.1% FPR, or at 1% FPR when there
        are fewer than 1000 non-members, or no TPR below 100 non-members (a
        level under ``1 / n_nonmembers`` is not meaningful).

        Parameters
        ----------
        member_scores, nonmember_scores : array-like of shape (n,)
            Attack scores of members and non-members; higher means "member".
        name : str, default=None
            Legend name.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        log_scale : bool, default=True
            Log-log axes.
        **kwargs
            Passed to :meth:`plot` (``chance_line`` and line keywords).

        Returns
        -------
        display : MembershipRocDisplay
        """
        members, nonmembers = _check_pair(member_scores, nonmember_scores)
        fpr, tpr, _ = _roc(members, nonmembers)
        levels = [lv for lv in _LEGEND_LEVELS if lv >= 1.0 / nonmembers.size][:1]
        display = cls(
            fpr=fpr,
            tpr=tpr,
            roc_auc=membership_auc(members, nonmembers),
            name=name,
            tpr_at_fpr={lv: float(_tpr_at(fpr, tpr, lv)) for lv in levels},
        )
        return display.plot(ax=ax, log_scale=log_scale, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        attack,
        X_members,
        y_members,
        X_nonmembers,
        y_nonmembers,
        *,
        name=None,
        ax=None,
        log_scale=True,
        **kwargs,
    ):
        """Plot the ROC curve of a fitted attack on members and non-members.

        Parameters
        ----------
        attack : object
            Anything with ``decision_function(X, y)`` returning one membership
            score per record, higher meaning "member".
        X_members, y_members : array-like
            Records (and labels) of the target's training set.
        X_nonmembers, y_nonmembers : array-like
            Records (and labels) the target never saw.
        name : str, default=None
            Legend name; defaults to the attack's class name.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        log_scale : bool, default=True
            Log-log axes.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : MembershipRocDisplay
        """
        decision = getattr(attack, "decision_function", None)
        if not callable(decision):
            raise TypeError(
                f"{type(attack).__name__} has no decision_function(X, y) method "
                "returning membership scores."
            )
        members = _check_scores(decision(X_members, y_members), "member scores")
        nonmembers = _check_scores(
            decision(X_nonmembers, y_nonmembers), "non-member scores"
        )
        return cls.from_predictions(
            members,
            nonmembers,
            name=type(attack).__name__ if name is None else name,
            ax=ax,
            log_scale=log_scale,
            **kwargs,
        )
