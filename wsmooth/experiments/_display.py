"""FrontierDisplay: accuracy against leakage, after scikit-learn's Displays."""

import math

from ._frontier import STRONGEST, setting_points
from ._results import CHANCE, _figure

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
    chosen_marker_ : matplotlib PathCollection or None
        The star on the chosen setting (``chosen=`` of :meth:`plot`).
    chance_line_, bound_line_ : matplotlib Line2D or None
        The leakage of a guessing attacker, and ``max_leakage``.
    labels_ : list of matplotlib Annotation
        The ``"configuration setting"`` labels, placed so as not to overlap.
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

    def plot(
        self,
        ax=None,
        *,
        annotate="frontier",
        log_scale=False,
        chosen=None,
        max_leakage=None,
        chance=True,
    ):
        """Draw the points, their error bars, the frontier and the undefended model.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None. Set its title and size
            before: the labels are placed for the axes as they are.
        annotate : {"frontier", "all"} or bool, default="frontier"
            Label markers ``"configuration setting"``: the frontier points,
            the undefended model and the chosen setting (``"frontier"``), all
            points (``"all"`` or True), or none (False). Each label is put
            beside its marker where it overlaps no other label, marker or
            the legend (with a thin leader line when it had to move away).
        log_scale : bool or "auto", default=False
            Logarithmic leakage axis (useful for TPR at low FPR). ``"auto"``:
            logarithmic when every leakage drawn is positive and the largest
            is more than ten times the smallest (the points span more than a
            decade). ``True`` with a leakage at or below 0 raises ValueError.
        chosen : dict or tuple, default=None
            The setting chosen (e.g. the answer of
            :func:`most_accurate_under`, or a ``(configuration, setting)``
            pair): drawn as a large star, named in the legend.
        max_leakage : float, default=None
            The leakage bound, drawn as a dotted vertical line.
        chance : bool, default=True
            Draw the leakage of an attacker who guesses (:data:`CHANCE`: the
            FPR for a TPR, 0.5 for AUC and balanced accuracy, 0 for the
            advantage) as a grey vertical line.

        Returns
        -------
        self : FrontierDisplay
        """
        from ..metrics._display import _import_pyplot

        plt = _import_pyplot(f"{type(self).__name__}.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 5))
        log = self._log_scale(log_scale)
        configs = list(dict.fromkeys(p["configuration"] for p in self.points))
        colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
        key = _setting_key(chosen)
        self.errorbars_ = {}
        labelled = []
        for i, config in enumerate(configs):
            pts = [p for p in self.points if p["configuration"] == config]
            colour = colours[i % len(colours)]
            label = config + (" (undefended)" if pts[0]["undefended"] else "")
            self.errorbars_[config] = ax.errorbar(
                [p["leakage"] for p in pts],
                [p["utility"] for p in pts],
                xerr=[p["leakage_std"] for p in pts],
                yerr=[p["utility_std"] for p in pts],
                fmt=_MARKERS[i % len(_MARKERS)],
                color=colour,
                markersize=7,
                capsize=3,
                linestyle="none",
                label=label,
            )
            for bars in self.errorbars_[config].lines[2]:
                bars.set_alpha(0.45)  # the spread, behind the means and the frontier
            labelled += [
                (p, colour) for p in pts
                if annotate == "all" or annotate is True or annotate and (
                    p["on_frontier"] or p["undefended"]
                    or (p["configuration"], p["setting"]) == key
                )
            ]
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
        self.chosen_marker_ = None
        picked = [p for p in self.points if (p["configuration"], p["setting"]) == key]
        if picked:
            p = picked[0]
            self.chosen_marker_ = ax.scatter(
                [p["leakage"]], [p["utility"]], marker="*", s=380,
                facecolors="gold", edgecolors="k", linewidths=1.0, zorder=5,
                label=f"answer: {p['configuration']} {p['setting']}",
            )
        self.chance_line_ = None
        level = CHANCE.get(self.leakage_name)
        if chance and level is not None and not (log and level <= 0):
            self.chance_line_ = ax.axvline(
                level, color="grey", linestyle="-.", linewidth=1.0, zorder=1,
                label=f"chance (a guessing attacker): {level:g}",
            )
        self.bound_line_ = None
        if max_leakage is not None and not (log and max_leakage <= 0):
            self.bound_line_ = ax.axvline(
                max_leakage, color="grey", linestyle=":", linewidth=1.2,
                label=f"max leakage {max_leakage:g}",
            )
        if log:
            ax.set_xscale("log")
        attack = (
            "strongest attack per setting"
            if self.attack_name == STRONGEST
            else f"attack: {self.attack_name}"
        )
        leak = _FIGURE_LABELS.get(self.leakage_name, self.leakage_name)
        ax.set_xlabel(f"Leakage: {leak} ({attack}), mean ± std over seeds"
                      + (", log scale" if log else ""))
        ax.set_ylabel(_FIGURE_LABELS.get(self.utility_name, self.utility_name))
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        self.labels_ = _place_labels(ax, labelled, self.points)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _log_scale(self, log_scale):
        """Whether the leakage axis is logarithmic."""
        leak = [p["leakage"] for p in self.points if math.isfinite(p["leakage"])]
        positive = bool(leak) and min(leak) > 0
        if log_scale == "auto":
            return positive and max(leak) > 10 * min(leak)
        if log_scale not in (True, False):
            raise ValueError(
                f"log_scale must be True, False or 'auto'; got {log_scale!r}"
            )
        if log_scale and leak and not positive:
            raise ValueError(
                f"log_scale=True: a leakage of {min(leak):g} cannot be drawn on a "
                "logarithmic axis; use log_scale='auto' or False"
            )
        return log_scale

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


def _setting_key(chosen):
    """``(configuration, setting)`` of ``chosen`` (a point dict or a pair)."""
    if chosen is None:
        return None
    if isinstance(chosen, dict):
        return (chosen["configuration"], chosen["setting"])
    configuration, setting = chosen
    return (configuration, setting)


#: Offsets (points) tried for a label, nearest first: 8 directions per ring.
_RINGS = (6, 12, 20, 30, 42, 56, 72)
_DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1))


def _place_labels(ax, labelled, points):
    """Annotate each ``(point, colour)`` of ``labelled`` with
    ``"configuration setting"`` where its text overlaps no label placed
    before, no marker of ``points`` and no legend, inside the axes; the least
    overlapping place when none is free.

    Returns the list of annotations.
    """
    if not labelled:
        return []
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()  # the layout, the limits and the legend's place are final
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend()
    obstacles = []
    if legend is not None:
        # keep the legend where it was drawn: "best" would move it later
        box = legend.get_window_extent(renderer)
        loc = tuple(ax.transAxes.inverted().transform(box.p0))
        if hasattr(legend, "set_loc"):
            legend.set_loc(loc)
        else:  # matplotlib < 3.8
            legend._loc = loc
        obstacles.append(box)
    frame = ax.get_window_extent(renderer)
    size = 5 * fig.dpi / 72  # a marker's half width, in pixels
    centres = [ax.transData.transform((p["leakage"], p["utility"])) for p in points]
    markers = [Bbox.from_bounds(x - size, y - size, 2 * size, 2 * size)
               for x, y in centres if math.isfinite(x) and math.isfinite(y)]
    annotations = []
    for p, colour in labelled:
        xy = (p["leakage"], p["utility"])
        if not all(math.isfinite(v) for v in xy):
            continue
        text = f"{p['configuration']} {p['setting']}"
        best = None
        for ring in _RINGS:
            for dx, dy in _DIRECTIONS:
                offset = (dx * ring, dy * ring)
                probe = ax.annotate(
                    text, xy, xytext=offset, textcoords="offset points", fontsize=7,
                    ha=_ALIGN_X[dx], va=_ALIGN_Y[dy],
                )
                box = probe.get_window_extent(renderer)
                probe.remove()
                cost = sum(_overlap(box, o) for o in obstacles + markers)
                cost += box.width * box.height - _overlap(box, frame)  # outside
                if best is None or cost < best[0]:
                    best = (cost, offset, dx, dy, box)
                if cost == 0:
                    break
            if best[0] == 0:
                break
        _, offset, dx, dy, box = best
        far = max(abs(offset[0]), abs(offset[1])) > _RINGS[1]
        annotations.append(ax.annotate(
            text, xy, xytext=offset, textcoords="offset points", fontsize=7,
            ha=_ALIGN_X[dx], va=_ALIGN_Y[dy], color=colour,
            arrowprops=dict(arrowstyle="-", color=colour, linewidth=0.6, alpha=0.7,
                            shrinkA=0, shrinkB=4) if far else None,
        ))
        obstacles.append(box)
    return annotations


_ALIGN_X = {1: "left", 0: "center", -1: "right"}
_ALIGN_Y = {1: "bottom", 0: "center", -1: "top"}


def _overlap(a, b):
    """Area shared by two display boxes."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0
