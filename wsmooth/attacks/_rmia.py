"""RMIA, the relative membership inference attack (Zarifzadeh et al., ICML 2024).

For a record ``x`` with label ``y``, ``Pr(x | theta)`` is the target's
true-class probability ``p_y(x)`` and ``Pr(x)`` its average over reference
(shadow) models, both from the temperature-scaled softmax of the models'
logits, ``softmax(log_proba / temperature)`` (:func:`tempered_true_class_proba`;
a memorising model's members otherwise get probabilities that round to 1):

* **online**: the mean of the IN models' and the OUT models' average (every
  population record is IN half of the shadow models);
* **offline**: OUT models only, rescaled to approximate the online average,
  ``Pr(x) = ((1 + a) * mean_out + (1 - a)) / 2`` with the interpolation
  ``a = offline_a``, tuned on the shadow models by default (``"auto"``: each
  shadow in turn plays the target with the other shadows but its
  complementary partner as OUT reference models, and the ``a`` of the grid
  0, 0.1, ..., 1 with the best mean AUC is kept, as ML Privacy Meter does).

The means over reference models may be trimmed (``trim``: the fraction of the
lowest and of the highest values cut per record, among its IN and among its
OUT models separately, as ``scipy.stats.trim_mean``), which resists a
reference model that fits a record unusually well or badly.

The likelihood ratio of ``x`` against a population record ``z`` is
``LR(x, z) = (Pr(x | theta) / Pr(x)) / (Pr(z | theta) / Pr(z))`` and the
score of ``x`` is the fraction of the ``z`` with ``LR(x, z) > gamma``. It is
computed on log ratios with one sort of the ``z`` and a ``searchsorted`` per
query: ``O((n_query + n_z) log n_z)``, no pairwise matrix.

The ``z`` are population records (``Pr(z | theta)`` from the target, ``Pr(z)``
from the reference models as for ``x``). A query that is itself one of the
``z`` is not compared with itself.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.metrics import roc_auc_score

from .._signals import EPS
from ..utils._sklearn_compat import Interval, StrOptions
from ._calibration import leave_shadows_out
from ._methods import AttackMethod, PopulationQueryMixin, register_method

__all__ = [
    "RMIAAttack",
    "reference_proba",
    "pairwise_fraction",
    "tempered_true_class_proba",
    "OFFLINE_A_GRID",
    "TEMPERATURE_GRID",
]

#: The values of ``a`` tried by ``offline_a="auto"``.
OFFLINE_A_GRID = np.round(np.linspace(0.0, 1.0, 11), 10)

#: ``offline_a`` when ``"auto"`` cannot tune it (fewer than 2 pairs of
#: shadow models): the reference implementation's default.
DEFAULT_OFFLINE_A = 0.3

#: ``temperature`` when ``"auto"`` cannot tune it (too few shadow models).
DEFAULT_TEMPERATURE = 2.0


#: The temperatures tried by ``temperature="auto"``.
TEMPERATURE_GRID = (1.0, 2.0, 4.0, 8.0)


def tempered_true_class_proba(log_proba, y, temperature=1.0):
    """True-class probability of ``softmax(log_proba / temperature)``, in float64.

    Log-probabilities are logits up to a per-row constant, so this is the
    temperature-scaled softmax of the logits. It is computed in log space
    (``scipy.special.logsumexp``): a probability within float32 rounding of 1
    keeps its distance from 1. Exact zeros (``-inf``) stay 0.

    Parameters
    ----------
    log_proba : ndarray of shape (..., n_records, n_classes)
    y : ndarray of int of shape (n_records,)
    temperature : float > 0
    """
    z = np.asarray(log_proba, dtype=np.float64) / float(temperature)
    mask = np.asarray(y)[:, None] == np.arange(z.shape[-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        z_y = np.max(np.where(mask, z, -np.inf), axis=-1)
        return np.exp(z_y - logsumexp(z, axis=-1))


def _log_of(proba):
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(proba, dtype=np.float64))


def _masked_mean(values, mask, trim=0.0):
    """Per-column mean of ``values[mask]``, ``trim`` cut from each end.

    ``int(trim * n)`` values are cut from each end of the ``n`` masked values
    of a column (``scipy.stats.trim_mean``'s rule); NaN where none is left.
    """
    count = mask.sum(axis=0)
    if trim == 0.0:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(mask, values, 0.0).sum(axis=0) / count
    ordered = np.sort(np.where(mask, values, np.inf), axis=0)
    cut = np.floor(trim * count).astype(int)
    rank = np.arange(values.shape[0])[:, None]
    kept = (rank >= cut) & (rank < count - cut)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept, ordered, 0.0).sum(axis=0) / kept.sum(axis=0)


def reference_proba(p_ref, keep, *, online, offline_a, trim=0.0):
    """``Pr(x)`` per record from reference models' true-class probabilities.

    Parameters
    ----------
    p_ref : ndarray of shape (n_models, n_records)
        Reference models' true-class probabilities.
    keep : ndarray of bool of shape (n_models, n_records)
        True where the model trained on the record (IN).
    online : bool
        Average of the IN and OUT means where a record has both; records
        without IN models get the offline approximation.
    offline_a : float
    trim : float in [0, 0.5), default=0.0
        Fraction cut from each end of the IN (and of the OUT) values of each
        record before averaging.

    Returns
    -------
    ndarray of shape (n_records,)
        NaN where the needed models are missing.
    """
    n_in, n_out = keep.sum(axis=0), (~keep).sum(axis=0)
    mean_in = _masked_mean(p_ref, keep, trim)
    mean_out = _masked_mean(p_ref, ~keep, trim)
    offline = np.where(
        n_out > 0, ((1.0 + offline_a) * mean_out + (1.0 - offline_a)) / 2.0, np.nan
    )
    if not online:
        return offline
    return np.where((n_in > 0) & (n_out > 0), 0.5 * (mean_in + mean_out), offline)


def _log_ratio(p_target, pr):
    return np.log(np.clip(p_target, EPS, None)) - np.log(np.clip(pr, EPS, None))


def pairwise_fraction(log_ratio_x, sorted_log_ratio_z, gamma, self_log_ratio=None):
    """Fraction of ``z`` with ``ratio_x / ratio_z > gamma``, from log ratios.

    Parameters
    ----------
    log_ratio_x : ndarray of shape (n_query,)
    sorted_log_ratio_z : ndarray of shape (n_z,), sorted ascending
    gamma : float > 0
    self_log_ratio : ndarray of shape (n_query,), default=None
        The log ratio of the query itself as one of the ``z``, NaN where the
        query is not among them: that pair is left out.
    """
    bound = log_ratio_x - np.log(gamma)
    count = np.searchsorted(sorted_log_ratio_z, bound, side="left").astype(float)
    n = np.full(count.shape, float(sorted_log_ratio_z.size))
    if self_log_ratio is not None:
        is_self = ~np.isnan(self_log_ratio)
        count -= is_self & (self_log_ratio < bound)
        n -= is_self
    return count / np.maximum(n, 1.0)


@register_method("rmia")
class RMIAAttack(PopulationQueryMixin, AttackMethod):
    """RMIA (Zarifzadeh et al. 2024), online or offline.

    Use it as ``MembershipInferenceAttack(target, method="rmia",
    method_params={...})``, or fit it on arrays directly (see :meth:`fit`).

    Parameters
    ----------
    online : bool, default=True
        ``Pr(x)`` from IN and OUT reference models (online) or OUT models only
        (offline, with ``offline_a``).
    offline_a : "auto" or float in [0, 1], default="auto"
        Offline interpolation: ``Pr(x) = ((1 + a) mean_out + (1 - a)) / 2``.
        Unlike ``gamma`` it changes the ranking of the records. ``"auto"``
        tunes it on the shadow models as the paper and ML Privacy Meter do:
        each shadow in turn plays the target, with the other shadows but its
        complementary partner as OUT reference models and its non-members as
        the ``z``, and the ``a`` of :data:`OFFLINE_A_GRID` (0, 0.1, ..., 1)
        with the best AUC averaged over the shadows is kept (ties: the
        smallest). With 2 shadow models (one pair, left out together) no
        reference model is left, and ``a`` is 0.3, the reference
        implementation's default. ``a = 1`` uses the OUT mean as
        is. Online, ``a`` only serves queries without IN reference models.
    gamma : float > 0, default=1.0
        ``x`` dominates ``z`` when ``LR(x, z) > gamma``.
    n_population_z : int or None, default=None
        How many population records serve as ``z`` (drawn at random with the
        attack's seed); None: all of them.
    trim : float in [0, 0.5), default=0.0
        Trimmed mean over reference models: for each record, ``int(trim * n)``
        of its ``n`` IN values and as many of its OUT values are cut from
        each end before averaging (``scipy.stats.trim_mean``'s rule). It
        resists single reference models that fit a record unusually well or
        badly; it needs enough models to cut anything (with 8 shadows, 4 IN
        and 4 OUT per record, ``trim=0.25`` cuts one from each end).
    temperature : "auto" or float > 0, default="auto"
        The signal is the true-class probability of
        ``softmax(log_proba / temperature)`` for the target and the reference
        models alike (log-probabilities from ``predict_log_proba`` where the
        model has one). ``T > 1`` keeps apart the members of a memorising
        model, whose probabilities round to 1. ``"auto"`` picks it from
        :data:`TEMPERATURE_GRID` (1, 2, 4, 8) on the shadow models: each in
        turn plays the target (in the ``online`` variant), attacked with the
        others but its complementary partner, and the ``T`` with the best
        mean low-FPR TPR (the mean TPR over FPR levels from 0.1% to 10%,
        evenly spaced in log:
        :func:`~wsmooth.metrics.mean_tpr_at_low_fpr`; ties: AUC, then the
        smallest) is kept; 2 when it cannot be tuned (2 shadow models). A
        single level, TPR at 1% FPR, was the criterion before and let the
        TPR at 0.1% FPR fall unseen.
        Measured: 2 served a memorising MLP best, 1 a random forest, so no
        fixed value is the default.

    Notes
    -----
    **Shadow models.** ``n_shadow >= 2``, so every population record has an
    IN and an OUT reference model.

    **Population and queries.** As for LiRA, the online attack needs reference
    models trained with the query: fit on a pool that contains the queries
    (Carlini et al.'s setup; each pool record is IN half of the shadows). A
    query found in the population uses its own IN/OUT models as the keep masks
    say (offline: its OUT models), so the overlap biases nothing, and it is
    not compared with itself as a ``z``. A query absent from the population
    has only OUT models: it gets the offline ``Pr(x)``, with a ``UserWarning``
    when ``online=True``. When the population holds target members (a pool),
    some ``z`` are members too; the attacker cannot tell them apart, as in the
    paper's online setting.

    **Scores and threshold.** The fraction of dominated ``z`` minus a threshold
    calibrated on the shadow models: each shadow in turn plays the target, with
    the other shadows but its complementary partner as reference models, and
    the threshold maximising balanced accuracy over all of them is kept (0.5
    with 2 shadow models, where no other is left). The partner trained on
    exactly the records the pseudo-target did not: left among the references,
    it would make each record's counts of IN and OUT models tell its membership
    of the pseudo-target, which the scores then read without any membership
    signal (LiRA's calibration follows the same rule). The fraction of
    dominated ``z`` depends on how many of them are members, so the ``z`` of a
    pseudo-target are of the kind the attack meets. A query found in the
    population means the pool protocol, whose population holds the target's
    members (half of it in Carlini et al.'s setup): its threshold
    ``threshold_`` is calibrated with all population ``z``, half of them
    members of the pseudo-target. A query outside the population means the
    disjoint protocol, whose population holds no target member: it gets the
    offline ``Pr(x)`` and ``offline_threshold_``, calibrated offline with only
    the ``z`` the pseudo-target did not train on.

    Attributes
    ----------
    offline_a_ : float
        The ``a`` used (``offline_a`` resolved).
    temperature_ : float
        The temperature used (``temperature`` resolved).
    temperature_score_ : dict of {float: (float, float)} or None
        With ``temperature="auto"``: the mean leave-shadows-out (low-FPR
        TPR, AUC) of each temperature of the grid, the first figure from
        :func:`~wsmooth.metrics.mean_tpr_at_low_fpr` (None when untuned).
    offline_a_auc_ : dict of {float: float} or None
        With ``offline_a="auto"``: the mean leave-shadows-out AUC of each
        ``a`` of the grid (None when it could not be tuned).
    threshold_ : float
        Threshold of the queries found in the population.
    offline_threshold_ : float
        Threshold of the queries outside it (offline ``Pr(x)``).
    z_index_ : ndarray of int
        Population indices of the ``z`` records.
    """

    _DEFAULT_THRESHOLD = 0.5

    def __init__(
        self,
        online=True,
        offline_a="auto",
        gamma=1.0,
        n_population_z=None,
        trim=0.0,
        temperature="auto",
    ):
        self.online = online
        self.offline_a = offline_a
        self.gamma = gamma
        self.n_population_z = n_population_z
        self.trim = trim
        self.temperature = temperature

    _parameter_constraints = {
        "online": ["boolean"],
        "offline_a": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both")],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "n_population_z": [Interval(Integral, 1, None, closed="left"), None],
        "trim": [Interval(Real, 0, 0.5, closed="left")],
        "temperature": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
        ],
    }

    uses_log_proba = True

    def check_params(self, n_shadow):
        super().check_params(n_shadow)
        if n_shadow < 2:
            variant = "online" if self.online else "offline"
            raise ValueError(
                f"method='rmia' ({variant}) needs n_shadow >= 2, so that every "
                "population record has an IN and an OUT reference model; got "
                f"n_shadow={n_shadow}."
            )

    def _pr(self, p_ref, keep, *, online=None, offline_a=None):
        return reference_proba(
            p_ref,
            keep,
            online=self.online if online is None else online,
            offline_a=float(self.offline_a_ if offline_a is None else offline_a),
            trim=float(self.trim),
        )

    # ------------------------------------------------------------------ #
    def fit_signals(self, signals):
        """Tune, calibrate and store the population's likelihood ratios.

        Reads the target's ``log_proba`` (or, without it, ``proba``) on the
        population, ``y``, ``X`` (to recognise queries from the population),
        ``keep_masks``, ``shadow_log_proba`` (or ``shadow_proba``) and
        ``random_state`` (to draw the ``z`` with ``n_population_z``);
        ``shadows`` scores queries outside the population (without it, such
        queries raise a ValueError). See :meth:`AttackMethod.fit_signals`.
        """
        proba = signals.proba
        y = signals.y
        X = signals.X
        log_proba = signals.log_proba
        shadow_proba = signals.shadow_proba
        shadow_log_proba = signals.shadow_log_proba
        keep_masks = signals.keep_masks
        shadows = signals.shadows
        random_state = signals.random_state
        if shadow_proba is None and shadow_log_proba is None:
            raise ValueError(
                "RMIAAttack.fit needs shadow_log_proba or shadow_proba (the "
                "reference models' outputs on the population), and neither "
                "was given."
            )
        if proba is None and log_proba is None:
            raise ValueError(
                "RMIAAttack.fit needs log_proba or proba (the target's outputs "
                "on the population), and neither was given."
            )
        keep = self._check_shadow_arrays(
            y,
            keep_masks,
            shadow_proba=shadow_proba,
            shadow_log_proba=shadow_log_proba,
        )
        self.check_params(keep.shape[0])
        y = np.asarray(y)
        n_pop = keep.shape[1]
        log_ref = shadow_log_proba
        if log_ref is None:
            log_ref = _log_of(shadow_proba)
        log_target = log_proba
        if log_target is None:
            log_target = _log_of(proba)
        if np.shape(log_target)[0] != n_pop:
            raise ValueError(
                f"The target's outputs on the population must have one row per "
                f"population record ({n_pop}); got shape {np.shape(log_target)}"
            )
        if self.n_population_z is None or self.n_population_z >= n_pop:
            z = np.arange(n_pop)
        else:
            rng = np.random.default_rng([random_state, 2])
            z = np.sort(rng.choice(n_pop, size=self.n_population_z, replace=False))
        self.z_index_ = z
        if isinstance(self.temperature, str):
            self.temperature_, self.temperature_score_ = self._tune_temperature(
                log_ref, y, keep, z
            )
        else:
            self.temperature_, self.temperature_score_ = float(self.temperature), None
        p_ref = tempered_true_class_proba(log_ref, y, self.temperature_)
        self.offline_a_, self.offline_a_auc_ = self._resolve_offline_a(p_ref, keep, z)
        self.threshold_ = self._calibrate(
            p_ref, keep, z, online=self.online, z_members=True
        )
        self.offline_threshold_ = self._calibrate(
            p_ref, keep, z, online=False, z_members=False
        )

        self.pr_ = self._pr(p_ref, keep)
        p_target = tempered_true_class_proba(log_target, y, self.temperature_)
        log_ratio = _log_ratio(p_target, self.pr_)
        self.z_log_ratio_ = np.full(n_pop, np.nan)  # NaN: not a z
        self.z_log_ratio_[z] = log_ratio[z]
        self.sorted_z_log_ratio_ = np.sort(log_ratio[z])
        self._fit_population(X, y, shadows)
        return self

    def _resolve_offline_a(self, p_ref, keep, z):
        if isinstance(self.offline_a, str):
            return self._tune_offline_a(p_ref, keep, z)
        return float(self.offline_a), None

    def _tune_temperature(self, log_ref, y, keep, z):
        """The temperature of the grid whose attack scores the shadows best.

        Each shadow in turn plays the target, attacked (in the variant
        ``online`` selects) with the other shadows but its complementary
        partner as reference models; the
        temperature with the best mean low-FPR TPR
        (:func:`~wsmooth.metrics.mean_tpr_at_low_fpr`: the mean TPR over FPR
        levels from 0.1% to 10%, evenly spaced in log) is kept, ties broken
        by the mean AUC, then by the smallest temperature. Offline, ``a`` is
        resolved at each temperature; online, where ``a`` only serves records
        without IN reference models, a fixed ``a`` (0.3 when ``"auto"``)
        spares tuning it at every temperature.
        """
        from ..metrics import mean_tpr_at_low_fpr

        in_z = np.zeros(keep.shape[1], dtype=bool)
        in_z[z] = True
        scores = {}
        for t in TEMPERATURE_GRID:
            p_ref = tempered_true_class_proba(log_ref, y, t)
            if not self.online:
                a = self._resolve_offline_a(p_ref, keep, z)[0]
            elif isinstance(self.offline_a, str):
                a = DEFAULT_OFFLINE_A
            else:
                a = float(self.offline_a)
            tprs, aucs = [], []
            runs = leave_shadows_out(
                keep,
                lambda s, others, p_ref=p_ref, a=a: self._pseudo_target_scores(
                    p_ref, keep, in_z, s, others, online=self.online,
                    offline_a=a, z_members=self.online,
                ),
            )
            for score, member in runs:
                if 0 < member.sum() < member.size:
                    tprs.append(mean_tpr_at_low_fpr(score[member], score[~member]))
                    aucs.append(roc_auc_score(member, score))
            if tprs:
                scores[float(t)] = (float(np.mean(tprs)), float(np.mean(aucs)))
        if not scores:
            return DEFAULT_TEMPERATURE, None
        best = max(scores.values())
        return min(t for t, v in scores.items() if v == best), scores

    def _pseudo_target_scores(
        self, p_ref, keep, in_z, s, others, *, online, offline_a, z_members
    ):
        """Scores of shadow ``s`` attacked with the shadows ``others`` as references.

        ``others`` are the calibration shadows of ``s``
        (:func:`~wsmooth.attacks._calibration.calibration_shadows`: all but
        ``s`` and its complementary partner, whose membership is the
        complement of ``s``'s and would leak it through the IN/OUT counts).
        ``z_members``: whether its members among the ``z`` stay there (the pool
        protocol) or only its non-members serve (the disjoint protocol).
        Returns ``scores, membership`` of the records with a defined ``Pr(x)``.
        """
        pr = self._pr(p_ref[others], keep[others], online=online, offline_a=offline_a)
        valid = ~np.isnan(pr)
        log_ratio = _log_ratio(p_ref[s], pr)
        is_z = in_z & valid
        if not z_members:
            is_z &= ~keep[s]
        if not is_z.any():
            return None
        self_lr = np.where(is_z, log_ratio, np.nan)
        frac = pairwise_fraction(
            log_ratio, np.sort(log_ratio[is_z]), self.gamma, self_lr
        )
        return frac[valid], keep[s][valid]

    def _tune_offline_a(self, p_ref, keep, z):
        """The ``a`` of the grid with the best mean leave-shadows-out AUC."""
        in_z = np.zeros(keep.shape[1], dtype=bool)
        in_z[z] = True
        aucs = {}
        for a in OFFLINE_A_GRID:
            runs = leave_shadows_out(
                keep,
                lambda s, others, a=a: self._pseudo_target_scores(
                    p_ref, keep, in_z, s, others, online=False, offline_a=a,
                    z_members=False,
                ),
            )
            per_shadow = [
                roc_auc_score(member, score)
                for score, member in runs
                if 0 < member.sum() < member.size
            ]
            if per_shadow:
                aucs[float(a)] = float(np.mean(per_shadow))
        if not aucs:
            return DEFAULT_OFFLINE_A, None
        best = max(aucs.values())
        return min(a for a, v in aucs.items() if v == best), aucs

    def _calibrate(self, p_ref, keep, z, *, online, z_members):
        """Leave-shadows-out threshold maximising balanced accuracy."""
        in_z = np.zeros(keep.shape[1], dtype=bool)
        in_z[z] = True
        return self._leave_shadows_out_threshold(
            keep,
            lambda s, others: self._pseudo_target_scores(
                p_ref, keep, in_z, s, others, online=online, offline_a=None,
                z_members=z_members,
            ),
            self._DEFAULT_THRESHOLD,
        )

    def decision_function(self, proba, y, X, log_proba=None):
        if log_proba is None:
            log_proba = _log_of(proba)
        p_target = tempered_true_class_proba(log_proba, y, self.temperature_)
        idx, found = self._lookup(X, y)
        pr = np.empty(p_target.shape[0])
        pr[found] = self.pr_[idx[found]]
        self_lr = np.full(p_target.shape[0], np.nan)
        self_lr[found] = self.z_log_ratio_[idx[found]]
        missing = ~found
        if missing.any():
            self._warn_offline_fallback(
                int(missing.sum()),
                p_target.shape[0],
                "RMIA online uses the offline Pr(x)",
            )
            ref_proba, log_ref = self._shadow_outputs(X[missing])
            if log_ref is None:
                log_ref = _log_of(ref_proba)
            p_ref = tempered_true_class_proba(log_ref, y[missing], self.temperature_)
            pr[missing] = self._pr(p_ref, np.zeros(p_ref.shape, dtype=bool))
        log_ratio = _log_ratio(p_target, pr)
        frac = pairwise_fraction(
            log_ratio, self.sorted_z_log_ratio_, self.gamma, self_lr
        )
        return frac - np.where(found, self.threshold_, self.offline_threshold_)
