"""Per-record privacy risk score (Song & Mittal, USENIX Security 2021).

The privacy risk score of a record ``z`` with label ``c`` is the posterior
probability that it is a member given the target's signal on it,

    r(z) = pi * P(s | in, c) / (pi * P(s | in, c) + (1 - pi) * P(s | out, c)),

with prior ``pi = 1/2`` by default. The two class-conditional distributions
of the signal (the modified entropy by default) are estimated from the shadow
models: the values of every shadow model on the population records of class
``c`` it trained on (IN) and did not train on (OUT).

**Bin rule** (the authors' reference code): per class, ``n_bins`` bins
(default 5) spanning the smallest to the largest IN or OUT value of the class,
spaced logarithmically (``log_bins``; values clipped below at ``1e-10``) when
the signal is non-negative, linearly otherwise. Each histogram is normalised
by its own count (so the prior alone weighs IN against OUT). A value outside
the class's range falls into the first or last bin; a value in a bin that
neither histogram reaches takes the risk of the nearest non-empty bin (the
lower one on a tie). A class without calibration values gets the prior.

The functions are pure and vectorised over records and classes.
"""

from numbers import Integral, Real

import numpy as np

from .._signals import SIGNALS
from ..utils._sklearn_compat import Interval, StrOptions
from ._base import MembershipInferenceAttack
from ._methods import AttackMethod, register_method

__all__ = ["PrivacyRiskAttack", "privacy_risk_score", "risk_from_histograms"]

#: Smallest value kept before taking logarithms of bin edges (reference code).
LOG_FLOOR = 1e-10


def _bin_index(values, labels, lo, hi, n_bins, log):
    """Bin of each value within its class's [lo, hi] range (np.histogram rule)."""
    if log:
        values, lo, hi = (np.log10(np.maximum(a, LOG_FLOOR)) for a in (values, lo, hi))
    width = (hi - lo)[labels]
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = np.where(width > 0, (values - lo[labels]) / width, 0.0)
    return np.clip(np.floor(pos * n_bins), 0, n_bins - 1).astype(np.intp)


def _fill_empty(risk, empty):
    """Give each empty bin the risk of its nearest non-empty bin (lower first)."""
    n_classes, n_bins = risk.shape
    out = risk.copy()
    todo = empty.copy()
    for d in range(1, n_bins):  # a loop over bin offsets, not records
        for shift in (d, -d):  # the lower bin (index - d) first
            src = np.full_like(out, np.nan)
            srcempty = np.ones_like(empty)
            if shift > 0:
                src[:, shift:] = risk[:, :-shift]
                srcempty[:, shift:] = empty[:, :-shift]
            else:
                src[:, :shift] = risk[:, -shift:]
                srcempty[:, :shift] = empty[:, -shift:]
            take = todo & ~srcempty
            out[take] = src[take]
            todo &= ~take
    return out, todo


def risk_from_histograms(
    in_values,
    in_labels,
    out_values,
    out_labels,
    values,
    labels,
    *,
    n_classes=None,
    n_bins=5,
    log_bins=True,
    prior=0.5,
):
    """Posterior membership probability of records from IN/OUT histograms.

    Parameters
    ----------
    in_values, out_values : array-like of shape (n_in,), (n_out,)
        Signal values of known members (IN) and non-members (OUT), e.g. the
        shadow models' on their training records and on the others.
    in_labels, out_labels : array-like of int
        Class index of each of them.
    values : array-like of shape (n_records,)
        Signal values of the records to score.
    labels : array-like of int of shape (n_records,)
        Their class indices.
    n_classes : int, default=None
        Number of classes; one more than the largest label if None.
    n_bins : int, default=5
        Bins per class.
    log_bins : bool, default=True
        Logarithmic bins when every value is non-negative.
    prior : float, default=0.5
        Prior probability of membership.

    Returns
    -------
    risk : ndarray of shape (n_records,)
        ``P(member | value, class)`` in [0, 1].

    Notes
    -----
    See the module docstring for the bin rule. The signal's direction does
    not matter: the histograms say which values members have.
    """
    in_values, out_values, values = (
        np.asarray(a, dtype=np.float64).ravel() for a in (in_values, out_values, values)
    )
    in_labels, out_labels, labels = (
        np.asarray(a).ravel().astype(np.intp) for a in (in_labels, out_labels, labels)
    )
    for v, lab, what in (
        (in_values, in_labels, "in"),
        (out_values, out_labels, "out"),
        (values, labels, "query"),
    ):
        if v.shape != lab.shape:
            raise ValueError(f"{what} values and labels have different lengths")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{what} values must be finite")
    all_labels = np.concatenate([in_labels, out_labels, labels])
    if n_classes is None:
        n_classes = int(all_labels.max()) + 1 if all_labels.size else 0
    if all_labels.size and (all_labels.min() < 0 or all_labels.max() >= n_classes):
        raise ValueError(f"class indices must lie in range({n_classes})")

    calib = np.concatenate([in_values, out_values])
    calib_labels = np.concatenate([in_labels, out_labels])
    lo = np.full(n_classes, np.inf)
    hi = np.full(n_classes, -np.inf)
    np.minimum.at(lo, calib_labels, calib)
    np.maximum.at(hi, calib_labels, calib)
    known = np.isfinite(lo)
    lo, hi = np.where(known, lo, 0.0), np.where(known, hi, 0.0)
    # Decided on the calibration values alone, so a query cannot move the bins.
    log = bool(log_bins) and calib.size > 0 and calib.min() >= 0

    def hist(v, lab):
        b = _bin_index(v, lab, lo, hi, n_bins, log)
        counts = np.bincount(lab * n_bins + b, minlength=n_classes * n_bins)
        counts = counts.reshape(n_classes, n_bins).astype(np.float64)
        total = counts.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, counts / total, 0.0)

    h_in, h_out = hist(in_values, in_labels), hist(out_values, out_labels)
    num = prior * h_in
    den = num + (1.0 - prior) * h_out
    empty = den <= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        risk = np.where(empty, np.nan, num / np.where(empty, 1.0, den))
    risk, still_empty = _fill_empty(risk, empty)
    risk[still_empty] = prior  # a class without calibration values
    return risk[labels, _bin_index(values, labels, lo, hi, n_bins, log)]


@register_method("risk")
class PrivacyRiskAttack(AttackMethod):
    """Song & Mittal's privacy risk score as an attack.

    Use it as ``MembershipInferenceAttack(target, method="risk",
    method_params={...})``; :func:`privacy_risk_score` returns the risk
    itself.

    Parameters
    ----------
    signal : {"mentr", "loss", "confidence", "entropy", "logit_confidence"}, \
            default="mentr"
        The per-record signal (see :mod:`wsmooth._signals`).
    n_bins : int, default=5
        Histogram bins per class.
    log_bins : bool, default=True
        Logarithmic bins for non-negative signals (the reference code's
        choice: the modified entropy of members piles up near 0).
    prior : float, default=0.5
        Prior probability of membership.

    Attributes
    ----------
    in_values_, out_values_ : ndarray
        The shadow models' signal values on their members and non-members.
    in_labels_, out_labels_ : ndarray of int
        Their class indices.

    Notes
    -----
    ``decision_function`` is ``risk - prior``: positive when the posterior
    exceeds the prior (with the default prior 1/2, the Bayes rule, which
    needs no further calibration).
    """

    _parameter_constraints = {
        "signal": [StrOptions(set(SIGNALS))],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "log_bins": ["boolean"],
        "prior": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(self, signal="mentr", n_bins=5, log_bins=True, prior=0.5):
        self.signal = signal
        self.n_bins = n_bins
        self.log_bins = log_bins
        self.prior = prior

    def _signal(self, proba, y):
        return SIGNALS[self.signal][0](proba, y)

    def fit_signals(self, signals):
        """Collect the shadow models' IN and OUT signal values per class.

        Reads ``y``, ``shadow_proba`` and ``keep_masks`` only; see
        :meth:`AttackMethod.fit_signals`.
        """
        y = signals.y
        shadow_proba = signals.shadow_proba
        keep_masks = signals.keep_masks
        self._require(shadow_proba=shadow_proba)
        keep = self._check_shadow_arrays(y, keep_masks, shadow_proba=shadow_proba)
        y = np.asarray(y)
        values = self._signal(shadow_proba, y)  # (n_shadow, n_pop)
        labels = np.broadcast_to(y, keep.shape)
        self.in_values_, self.in_labels_ = values[keep], labels[keep]
        self.out_values_, self.out_labels_ = values[~keep], labels[~keep]
        self.n_classes_ = np.shape(shadow_proba)[-1]
        return self

    def risk(self, proba, y):
        """Privacy risk score of records from the target's probabilities."""
        return risk_from_histograms(
            self.in_values_,
            self.in_labels_,
            self.out_values_,
            self.out_labels_,
            self._signal(proba, y),
            y,
            n_classes=self.n_classes_,
            n_bins=self.n_bins,
            log_bins=self.log_bins,
            prior=self.prior,
        )

    def decision_function(self, proba, y, X=None):
        return self.risk(proba, y) - self.prior


def privacy_risk_score(
    estimator,
    X,
    y,
    *,
    X_population=None,
    y_population=None,
    method_params=None,
    **attack_params,
):
    """Per-record privacy risk score: which records leak.

    Song & Mittal's posterior probability that each record is a member of the
    target's training set, given the target's output on it.

    Parameters
    ----------
    estimator : MembershipInferenceAttack or classifier
        A :class:`~wsmooth.MembershipInferenceAttack` fitted with
        ``method="risk"``, or a fitted target classifier; for a target, an
        attack is fitted on ``X_population, y_population`` first.
    X, y : array-like
        Records to score and their true labels.
    X_population, y_population : array-like, default=None
        The attacker's population (only with a target).
    method_params : dict, default=None
        :class:`PrivacyRiskAttack` parameters (only with a target).
    **attack_params
        Further :class:`~wsmooth.MembershipInferenceAttack` parameters
        (``n_shadow``, ``random_state``, ``n_jobs``, ...; only with a target).

    Returns
    -------
    risk : ndarray of shape (n_records,)
        In [0, 1]; sort by it to find the most exposed records.

    Examples
    --------
    >>> risk = privacy_risk_score(target, X_train, y_train,
    ...                           X_population=X_pop, y_population=y_pop,
    ...                           n_shadow=8, random_state=0)  # doctest: +SKIP
    >>> most_exposed = np.argsort(risk)[::-1][:10]  # doctest: +SKIP
    """
    if isinstance(estimator, MembershipInferenceAttack):
        if X_population is not None or method_params or attack_params:
            raise ValueError(
                "estimator is already a fitted attack: do not pass a population "
                "or attack parameters"
            )
        attack = estimator
        if not isinstance(getattr(attack, "method_", None), PrivacyRiskAttack):
            raise ValueError(
                "privacy_risk_score needs an attack fitted with method='risk'; "
                f"got method={attack.method!r}. Pass the target and a population "
                "instead, or refit with method='risk'."
            )
    else:
        if X_population is None or y_population is None:
            raise ValueError(
                "with a target classifier, X_population and y_population are "
                "needed to train the shadow models"
            )
        attack = MembershipInferenceAttack(
            estimator, method="risk", method_params=method_params, **attack_params
        ).fit(X_population, y_population)
    inputs = attack.method_inputs(X, y)
    return attack.method_.risk(inputs.proba, inputs.y)
