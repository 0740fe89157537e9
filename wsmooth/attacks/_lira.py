"""LiRA, the likelihood-ratio attack (Carlini et al., IEEE S&P 2022).

The signal is the logit-scaled true-class confidence
``phi = log p_y - log(sum_{k != y} p_k)``
(:func:`~wsmooth.attacks._signals.logit_scaled_confidence`), which is close to
Gaussian across models trained with or without a given record. For each record
the shadow models give a sample of ``phi`` from models that trained on it (IN,
``keep_masks`` True) and from models that did not (OUT).

* **Online**: fit one Gaussian to the IN values and one to the OUT values of
  the record; the score is the log likelihood ratio
  ``log N(phi_target; mu_in, sd_in) - log N(phi_target; mu_out, sd_out)``.
* **Offline**: OUT values only; the one-sided test "is the target's ``phi``
  above the OUT distribution": the score is ``-log Pr[Z > phi_target]`` for
  ``Z ~ N(mu_out, sd_out)`` (``-norm.logsf``; the same order as
  ``norm.logcdf`` but resolved in the upper tail, where members are).
* **Fixed variance**: one global standard deviation for IN and one for OUT,
  each the spread of all IN (OUT) values of the population, as in the
  reference implementation, instead of one per record: better with few shadow
  models.

Differences from the paper: no data augmentation (the data here are tabular;
the paper averages the test over augmented queries); means are arithmetic
means (the reference code uses medians); standard deviations are floored at
:data:`MIN_STD` so that records every shadow fits identically (a random forest
at probability 1) give finite scores.
"""

import warnings

import numpy as np
from scipy.stats import norm

from ._methods import AttackMethod, register_method
from ._signals import logit_scaled_confidence
from ._threshold import best_threshold

__all__ = ["LiRAAttack"]

#: Floor on every standard deviation, in logit units.
MIN_STD = 1e-3


def _masked_gaussian(values, mask):
    """Per-column count, mean and standard deviation of ``values[mask]``.

    ``values`` and ``mask`` have shape (n_models, n_records); the mean is NaN
    where a record has no value, the standard deviation where it has fewer
    than 2 (ddof=0 otherwise, as ``np.std``).
    """
    count = mask.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(mask, values, 0.0).sum(axis=0) / count
        var = np.where(mask, (values - mean) ** 2, 0.0).sum(axis=0) / count
    std = np.where(count >= 2, np.sqrt(var), np.nan)
    return count, mean, std


def _global_std(values, mask):
    """Spread of all masked values (the fixed-variance estimate); NaN if none."""
    selected = values[mask]
    return float(np.std(selected)) if selected.size else np.nan


def _gaussians(values, mask, fixed_variance, global_std=None):
    """Means and standard deviations per record, floored at MIN_STD.

    Per-record standard deviations fall back to the global one for records
    with a single value (this only happens while calibrating, where one model
    is left out).
    """
    _, mean, std = _masked_gaussian(values, mask)
    if global_std is None:
        global_std = _global_std(values, mask)
    if fixed_variance:
        std = np.full_like(mean, global_std)
    else:
        std = np.where(np.isnan(std), global_std, std)
    return mean, np.maximum(std, MIN_STD)


def _online_score(phi, mu_in, sd_in, mu_out, sd_out):
    return norm.logpdf(phi, mu_in, sd_in) - norm.logpdf(phi, mu_out, sd_out)


def _offline_score(phi, mu_out, sd_out):
    return -norm.logsf(phi, mu_out, sd_out)


@register_method("lira")
class LiRAAttack(AttackMethod):
    """LiRA (Carlini et al. 2022), online or offline, per-record or fixed variance.

    Use it as ``MembershipInferenceAttack(target, method="lira",
    method_params={...})``.

    Parameters
    ----------
    online : bool, default=True
        Online: Gaussians over IN and OUT shadow models; offline: OUT models
        only.
    fixed_variance : bool, default=False
        One global standard deviation (per IN and OUT) instead of one per
        record. With few shadow models (the paper: under 64) it is usually the
        stronger attack, as per-record variances from a handful of values are
        noisy.

    Notes
    -----
    **Shadow models.** ``n_shadow`` must be at least 4 for the per-record
    variance (every population record then has at least 2 IN and 2 OUT models)
    and at least 2 with ``fixed_variance=True``.

    **Population and queries.** The online attack needs models trained *with*
    the queried record. As in the paper, train the shadows on a pool that
    contains the queried records: ``fit(X_pool, y_pool)`` with the queries in
    the pool (each pool record is IN exactly ``n_shadow // 2`` shadows). A
    query found in the population (same row, same label) is tested against the
    shadows that did (IN) and did not (OUT) train on it, as the keep masks
    record, so the overlap biases nothing; the offline variant then uses only
    its OUT models. A query *not* in the population was seen by no shadow
    model: every shadow is OUT for it, so the offline test is exact for it and
    the online attack falls back to it, with a ``UserWarning`` giving the
    count. Such scores are centred on the offline threshold; with the
    protocol's disjoint population, use ``online=False`` for a single test.

    **Scores and threshold.** The raw score (log likelihood ratio, or the
    offline ``-log Pr[Z > phi]``) minus a threshold calibrated on the shadow
    models: each shadow in turn plays the target, attacked with the Gaussians
    of the other shadows, and the threshold maximising balanced accuracy over
    all of them is kept (leave-one-out, so no model is tested against its own
    values). When the shadows are too few for that (``n_shadow=2``), the
    threshold is 0 online (likelihood ratio 1, the Bayes rule at equal
    priors) and ``log 2`` offline (``phi`` at the OUT mean).

    Attributes
    ----------
    threshold_ : float
        Threshold subtracted from the raw scores of the chosen variant.
    offline_threshold_ : float
        Threshold of the offline test (used for queries outside the
        population).
    """

    _DEFAULT_THRESHOLD = {True: 0.0, False: float(np.log(2.0))}

    def __init__(self, online=True, fixed_variance=False):
        self.online = online
        self.fixed_variance = fixed_variance

    @classmethod
    def from_attack(cls, attack):
        method = cls(**(attack.method_params or {}))
        method._check_params(attack.n_shadow)
        return method

    def _check_params(self, n_shadow):
        for name in ("online", "fixed_variance"):
            value = getattr(self, name)
            if not isinstance(value, bool | np.bool_):
                raise ValueError(
                    f"method_params[{name!r}] must be a bool, got {value!r}"
                )
        needed = 2 if self.fixed_variance else 4
        if n_shadow < needed:
            variant = "online" if self.online else "offline"
            models = "an IN and an OUT model" if self.online else "an OUT model"
            if not self.fixed_variance:
                models = "2 IN and 2 OUT models" if self.online else "2 OUT models"
            raise ValueError(
                f"method='lira' ({variant}, fixed_variance={self.fixed_variance}) "
                f"needs n_shadow >= {needed}: {models} per record (each record is "
                f"IN half of the shadow models); got n_shadow={n_shadow}."
            )

    # ------------------------------------------------------------------ #
    def fit(self, data):
        self._check_params(data.keep_masks.shape[0])
        keep = np.asarray(data.keep_masks, dtype=bool)
        phi = logit_scaled_confidence(data.shadow_proba, data.y)
        self.std_in_ = _global_std(phi, keep)
        self.std_out_ = _global_std(phi, ~keep)
        self.mu_in_, self.sd_in_ = _gaussians(
            phi, keep, self.fixed_variance, self.std_in_
        )
        self.mu_out_, self.sd_out_ = _gaussians(
            phi, ~keep, self.fixed_variance, self.std_out_
        )
        self.offline_threshold_ = self._calibrate(phi, keep, online=False)
        self.threshold_ = (
            self._calibrate(phi, keep, online=True)
            if self.online
            else self.offline_threshold_
        )
        self.population_index_ = data.population_index
        self.shadow_predict_proba_ = data.shadow_predict_proba
        return self

    def _calibrate(self, phi, keep, *, online):
        """Leave-one-shadow-out threshold maximising balanced accuracy."""
        n_shadow = keep.shape[0]
        scores, labels = [], []
        for s in range(n_shadow):
            others = np.arange(n_shadow) != s
            phi_o, keep_o = phi[others], keep[others]
            mu_out, sd_out = _gaussians(phi_o, ~keep_o, self.fixed_variance)
            if online:
                mu_in, sd_in = _gaussians(phi_o, keep_o, self.fixed_variance)
                raw = _online_score(phi[s], mu_in, sd_in, mu_out, sd_out)
            else:
                raw = _offline_score(phi[s], mu_out, sd_out)
            valid = np.isfinite(raw)
            scores.append(raw[valid])
            labels.append(keep[s][valid])
        scores, labels = np.concatenate(scores), np.concatenate(labels)
        if labels.all() or not labels.any():
            return self._DEFAULT_THRESHOLD[online]
        return best_threshold(scores, labels)[0]

    def decision_function(self, proba, y, X):
        phi = logit_scaled_confidence(proba, y)
        idx = np.asarray(self.population_index_(X, y))
        found = idx >= 0
        scores = np.empty(phi.shape[0])
        i = idx[found]
        if self.online:
            raw = _online_score(
                phi[found],
                self.mu_in_[i],
                self.sd_in_[i],
                self.mu_out_[i],
                self.sd_out_[i],
            )
        else:
            raw = _offline_score(phi[found], self.mu_out_[i], self.sd_out_[i])
        scores[found] = raw - self.threshold_
        missing = ~found
        if missing.any():
            if self.online:
                warnings.warn(
                    f"{int(missing.sum())} of {phi.shape[0]} queried records are "
                    "not in the attack's population, so no shadow model trained "
                    "on them: LiRA online falls back to the offline test for "
                    "them. Fit on a pool that contains the queries for the "
                    "online attack.",
                    UserWarning,
                    stacklevel=3,
                )
            shadow_phi = logit_scaled_confidence(
                self.shadow_predict_proba_(X[missing]), y[missing]
            )
            all_out = np.ones(shadow_phi.shape, dtype=bool)
            mu, sd = _gaussians(shadow_phi, all_out, self.fixed_variance, self.std_out_)
            raw = _offline_score(phi[missing], mu, sd)
            scores[missing] = raw - self.offline_threshold_
        return scores
