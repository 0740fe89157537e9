"""FrontierDisplay: accuracy against leakage, after scikit-learn's Displays."""

from ._frontier import STRONGEST, setting_points
from ._results import _figure

__all__ = ["FrontierDisplay"]

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
_FIGURE_LABELS = {
    "tpr@1%fpr": "TPR at 1% FPR",
    "tpr@0.1%fpr": "TPR at 0.1% FPR",
    "auc": "attack ROC AUC",
    "advantage": "membership advantage",
    "balanced_accuracy": "attack balanced accuracy",
    "test_accuracy": "Test accuracy",
    "train_accuracy": "Train accuracy",
}


class FrontierDisplay:
    """The privacy-utility frontier: one marker per setting, the frontier drawn.

    Build it with :meth:`from_results`; ``__init__`` only stores the values.

    Parameters
    ----------
    points : list of dict
        The points of :func:`setting_points` (``configuration``, ``setting``,
        ``utility``, ``utility_std``, ``leakage``, ``leakage_std``,
        ``undefended``, ``on_frontier``).
    leakage_name, utility_name : str
        Figure names, shown on the axes.
    attack_name : str
        The attack the leakage comes from (``"strongest"`` for the strongest
        per setting).

    Attributes
    ----------
    errorbars_ : dict of {str: matplotlib ErrorbarContainer}
        One per configuration.
    frontier_line_ : matplotlib Line2D
        The frontier, as a step line (the best accuracy reachable at each
        leakage).
    undefended_marker_ : matplotlib PathCollection or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, *, points, leakage_name, utility_name, attack_name):
        self.points = points
        self.leakage_name = leakage_name
        self.utility_name = utility_name
        self.attack_name = attack_name

    @classmethod
    def from_results(
        cls,
        results,
        *,
        attack=STRONGEST,
        leakage="tpr@1%",
        utility="test_accuracy",
        ax=None,
        **kwargs,
    ):
        """Compute the points of ``results`` and plot them.

        Parameters
        ----------
        results : ExperimentResults
        attack, leakage, utility : str
            As in :func:`setting_points`.
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        FrontierDisplay
        """
        points = setting_points(
            results, attack=attack, leakage=leakage, utility=utility
        )
        display = cls(
            points=points,
            leakage_name=_figure(leakage),
            utility_name=_figure(utility),
            attack_name=attack,
        )
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, annotate="frontier", log_scale=False):
        """Draw the points, their error bars, the frontier and the undefended model.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        annotate : {"frontier", "all"} or bool, default="frontier"
            Write the setting labels beside the markers: of the frontier
            points and the undefended model, of all points (``"all"`` or
            True), or none (False).
        log_scale : bool, default=False
            Logarithmic leakage axis (useful for TPR at low FPR).

        Returns
        -------
        self : FrontierDisplay
        """
        from ..metrics._display import _import_pyplot

        plt = _import_pyplot(f"{type(self).__name__}.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 5))
        configs = list(dict.fromkeys(p["configuration"] for p in self.points))
        colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
        self.errorbars_ = {}
        for i, config in enumerate(configs):
            pts = [p for p in self.points if p["configuration"] == config]
            label = config + (" (undefended)" if pts[0]["undefended"] else "")
            self.errorbars_[config] = ax.errorbar(
                [p["leakage"] for p in pts],
                [p["utility"] for p in pts],
                xerr=[p["leakage_std"] for p in pts],
                yerr=[p["utility_std"] for p in pts],
                fmt=_MARKERS[i % len(_MARKERS)],
                color=colours[i % len(colours)],
                markersize=7,
                capsize=3,
                linestyle="none",
                label=label,
            )
            for bars in self.errorbars_[config].lines[2]:
                bars.set_alpha(0.45)  # the spread, behind the means and the frontier
            if annotate:
                for p in pts:
                    if annotate == "frontier" and not (
                        p["on_frontier"] or p["undefended"]
                    ):
                        continue
                    ax.annotate(
                        p["setting"],
                        (p["leakage"], p["utility"]),
                        textcoords="offset points",
                        xytext=(5, 5),
                        fontsize=7,
                        color=colours[i % len(colours)],
                    )
        front = sorted(
            (p for p in self.points if p["on_frontier"]),
            key=lambda p: (p["leakage"], p["utility"]),
        )
        # The best accuracy reachable at each leakage: a step after each
        # frontier point, held up to the leakiest setting drawn.
        x = [p["leakage"] for p in front]
        y = [p["utility"] for p in front]
        right = max((p["leakage"] for p in self.points), default=None)
        if front and right is not None and right > x[-1]:
            x, y = [*x, right], [*y, y[-1]]
        (self.frontier_line_,) = ax.step(
            x,
            y,
            where="post",
            color="k",
            linestyle="--",
            linewidth=1.6,
            label="frontier",
            zorder=4,
        )
        undefended = [p for p in self.points if p["undefended"]]
        self.undefended_marker_ = None
        if undefended:
            self.undefended_marker_ = ax.scatter(
                [p["leakage"] for p in undefended],
                [p["utility"] for p in undefended],
                s=260,
                facecolors="none",
                edgecolors="red",
                linewidths=1.8,
                label="undefended",
                zorder=3,
            )
        if log_scale:
            ax.set_xscale("log")
        attack = (
            "strongest attack per setting"
            if self.attack_name == STRONGEST
            else f"attack: {self.attack_name}"
        )
        leak = _FIGURE_LABELS.get(self.leakage_name, self.leakage_name)
        ax.set_xlabel(f"Leakage: {leak} ({attack}), mean ± std over seeds")
        ax.set_ylabel(_FIGURE_LABELS.get(self.utility_name, self.utility_name))
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @property
    def n_points(self):
        """Number of settings drawn."""
        return len(self.points)

    def frontier(self):
        """The frontier points, by increasing leakage."""
        return sorted(
            (p for p in self.points if p["on_frontier"]),
            key=lambda p: (p["leakage"], -p["utility"]),
        )


