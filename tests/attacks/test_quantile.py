import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, QuantileRegressor
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline

from wsmooth._signals import (
    logit_margin_from_log_proba,
    logit_scaled_confidence_from_log_proba,
)
from wsmooth.attacks import (
    DistillationAttack,
    MembershipInferenceAttack,
    QuantileAttack,
    QuantileNetRegressor,
)
from wsmooth.attacks._methods import METHOD_NAMES, METHODS

pytestmark = pytest.mark.filterwarnings("ignore:FPR level.*below 1/n_nonmembers")


class MustNotTrain(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise AssertionError("a shadow model trained")

    def predict_proba(self, X):  # pragma: no cover
        raise AssertionError


def _pinball(residual, tau):
    return np.maximum(tau * residual, (tau - 1.0) * residual)


def _pinball_argmin(values, tau):
    """The minimiser of the summed pinball loss, by brute force over the values."""
    losses = _pinball(values[None, :] - values[:, None], tau).sum(axis=1)
    return values[np.argmin(losses)]


def _label_quantile_regressor(n_classes, tau):
    """A linear quantile regression on the one-hot label columns only: its
    prediction for a class is that class's pinball-loss quantile."""
    labels = ColumnTransformer(
        [("label", "passthrough", slice(-n_classes, None))], remainder="drop"
    )
    return make_pipeline(
        labels,
        QuantileRegressor(quantile=tau, alpha=0.0, fit_intercept=False, solver="highs"),
    )


class _LabelMeanStd(RegressorMixin, BaseEstimator):
    """Per-class mean and standard deviation of the targets, the class read
    from the last ``n_classes`` (one-hot) columns."""

    def __init__(self, n_classes=2):
        self.n_classes = n_classes

    def fit(self, X, y):
        label = np.argmax(X[:, -self.n_classes :], axis=1)
        self.mean_ = np.array([y[label == c].mean() for c in range(self.n_classes)])
        self.std_ = np.array([y[label == c].std() for c in range(self.n_classes)])
        return self

    def predict(self, X, return_std=False):
        label = np.argmax(X[:, -self.n_classes :], axis=1)
        if return_std:
            return self.mean_[label], self.std_[label]
        return self.mean_[label]


class _MeanLogProba(RegressorMixin, BaseEstimator):
    """Predicts, for every record, the log of the mean probability vector of
    its training records."""

    def fit(self, X, y):
        self.n_features_seen_ = X.shape[1]
        self.log_mean_ = np.log(np.exp(y).mean(axis=0))
        return self

    def predict(self, X):
        return np.tile(self.log_mean_, (X.shape[0], 1))


def _random_log_proba(rng, n, n_classes):
    logits = rng.normal(scale=2.0, size=(n, n_classes))
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def test_registered_for_the_estimator_and_the_command():
    from wsmooth.cli import _check_attacks, build_parser

    assert "quantile" in METHOD_NAMES and METHODS["quantile"] is QuantileAttack
    args = build_parser().parse_args(["--attacks", "quantile", "rmia"])
    assert args.attacks == ["quantile", "rmia"]
    _check_attacks(args)  # its parameter checks pass with the default shadows


def test_scores_are_the_pinball_quantile_by_hand():
    rng = np.random.default_rng(0)
    # tau * m is never an integer for m < 1000: a unique minimiser per class
    n, n_classes, alpha = 57, 2, 0.127
    tau = 1.0 - alpha
    X = rng.normal(size=(n, 3))
    y = rng.integers(0, n_classes, n)
    log_proba = _random_log_proba(rng, n, n_classes)
    attack = QuantileAttack(
        alpha=alpha,
        regressor=_label_quantile_regressor(n_classes, tau),
        mode="quantile",
        n_folds=2,
        calibrate=False,
    ).fit(None, y, X, log_proba=log_proba, random_state=3)

    s = logit_margin_from_log_proba(log_proba, y)  # the hinge score
    folds = attack.fold_
    assert set(np.unique(folds)) == {0, 1}
    # q[k, c]: the pinball minimiser over class c's records outside fold k
    q = np.array(
        [
            [_pinball_argmin(s[(folds != k) & (y == c)], tau) for c in range(n_classes)]
            for k in range(2)
        ]
    )
    # a population record is scored by the regressor that never saw it
    np.testing.assert_allclose(
        attack.decision_function(None, y, X, log_proba=log_proba),
        s - q[folds, y],
        atol=1e-6,
    )
    # any other record by the mean of the regressors' quantiles
    Xq, yq = rng.normal(size=(6, 3)), np.array([0, 1, 0, 1, 1, 0])
    lq = _random_log_proba(rng, 6, n_classes)
    np.testing.assert_allclose(
        attack.decision_function(None, yq, Xq, log_proba=lq),
        logit_margin_from_log_proba(lq, yq) - q.mean(axis=0)[yq],
        atol=1e-6,
    )
    assert attack.offset_ == 0.0


def test_gaussian_mode_scores_by_hand():
    rng = np.random.default_rng(4)
    n, n_classes = 80, 2
    X, y = rng.normal(size=(n, 3)), rng.integers(0, n_classes, n)
    log_proba = _random_log_proba(rng, n, n_classes)
    attack = QuantileAttack(
        alpha=0.1, regressor=_LabelMeanStd(n_classes), mode="gaussian",
        n_folds=2, calibrate=False,
    ).fit(None, y, X, log_proba=log_proba, random_state=0)
    s = logit_margin_from_log_proba(log_proba, y)
    folds = attack.fold_
    out = [(folds != k) for k in range(2)]
    mu = np.array([[s[o & (y == c)].mean() for c in range(n_classes)] for o in out])
    sd = np.array([[s[o & (y == c)].std() for c in range(n_classes)] for o in out])
    np.testing.assert_allclose(
        attack.decision_function(None, y, X, log_proba=log_proba),
        (s - mu[folds, y]) / sd[folds, y],
    )
    # the quantile of the predicted Gaussian: mu + Phi^-1(0.9) sigma
    np.testing.assert_allclose(
        attack.predict_quantile(y, X), mu[folds, y] + 1.2815516 * sd[folds, y],
        rtol=1e-6,
    )


def test_distill_mode_scores_by_hand():
    rng = np.random.default_rng(5)
    n, n_classes = 90, 3
    X, y = rng.normal(size=(n, 4)), rng.integers(0, n_classes, n)
    log_proba = _random_log_proba(rng, n, n_classes)
    attack = QuantileAttack(
        alpha=0.1, regressor=_MeanLogProba(), mode="distill", n_folds=3,
        calibrate=False, slope=1.0,
    ).fit(None, y, X, log_proba=log_proba, random_state=0)
    assert (attack.intercept_, attack.slope_) == (0.0, 1.0)
    # the regressor reads the features alone and learns the whole vector
    assert all(reg.n_features_seen_ == 4 for reg in attack.regressors_)
    folds = attack.fold_
    distilled = np.stack(
        [np.log(np.exp(log_proba[folds != k]).mean(axis=0)) for k in range(3)]
    )[folds]
    # score="auto" is LiRA's logit-scaled confidence in this mode
    np.testing.assert_allclose(
        attack.decision_function(None, y, X, log_proba=log_proba),
        logit_scaled_confidence_from_log_proba(log_proba, y)
        - logit_scaled_confidence_from_log_proba(distilled, y),
        atol=1e-9,
    )


@pytest.mark.parametrize("mode", ["distill", "quantile", "gaussian"])
def test_fitted_slope_is_least_squares_on_out_of_fold_predictions(mode):
    rng = np.random.default_rng(7)
    n, n_classes = 120, 3
    X, y = rng.normal(size=(n, 4)), rng.integers(0, n_classes, n)
    log_proba = _random_log_proba(rng, n, n_classes)
    regressor = {
        "distill": _MeanLogProba(),
        "quantile": _label_quantile_regressor(n_classes, 0.9),
        "gaussian": _LabelMeanStd(n_classes),
    }[mode]
    params = {"alpha": 0.1, "regressor": regressor, "mode": mode, "n_folds": 3}
    plain = QuantileAttack(**params, calibrate=False, slope=1.0).fit(
        None, y, X, log_proba=log_proba, random_state=0
    )
    fitted = QuantileAttack(**params, slope="fit").fit(
        None, y, X, log_proba=log_proba, random_state=0
    )
    s = plain._scores(None, log_proba, y)
    location, scale = plain._location_scale(y, X)  # each record out of fold
    slope, intercept = np.polyfit(location, s, 1)
    assert fitted.slope_ == pytest.approx(slope)
    assert fitted.intercept_ == pytest.approx(intercept)
    expected = (s - intercept - slope * location) / scale
    np.testing.assert_allclose(
        fitted.decision_function(None, y, X, log_proba=log_proba),
        expected - fitted.offset_,
        atol=1e-9,
    )
    # a queried record outside the population: the regressors' mean, mapped
    Xq, yq = rng.normal(size=(5, 4)), np.array([0, 1, 2, 0, 1])
    lq = _random_log_proba(rng, 5, n_classes)
    loc_q, scale_q = fitted._location_scale(yq, Xq)
    np.testing.assert_allclose(
        fitted.decision_function(None, yq, Xq, log_proba=lq),
        (fitted._scores(None, lq, yq) - intercept - slope * loc_q) / scale_q
        - fitted.offset_,
        atol=1e-9,
    )


def test_slope_auto_fits_in_distill_mode_only():
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(100, 3)), rng.integers(0, 2, 100)
    log_proba = _random_log_proba(rng, 100, 2)
    kw = {"alpha": 0.1, "n_folds": 2}
    distill = QuantileAttack(**kw, mode="distill", regressor=_MeanLogProba()).fit(
        None, y, X, log_proba=log_proba, random_state=0
    )
    by_name = DistillationAttack(**kw, regressor=_MeanLogProba()).fit(
        None, y, X, log_proba=log_proba, random_state=0
    )
    refit = QuantileAttack(
        **kw, mode="distill", regressor=_MeanLogProba(), slope="fit"
    ).fit(None, y, X, log_proba=log_proba, random_state=0)
    assert distill.slope_ == refit.slope_ == by_name.slope_ != 1.0
    quantile = QuantileAttack(
        **kw, regressor=_label_quantile_regressor(2, 0.9)
    ).fit(None, y, X, log_proba=log_proba, random_state=0)
    assert (quantile.intercept_, quantile.slope_) == (0.0, 1.0)  # the paper's s - q


def test_fitted_slope_needs_varying_predictions():
    rng = np.random.default_rng(9)
    X, y = rng.normal(size=(100, 3)), rng.integers(0, 2, 100)
    log_proba = _random_log_proba(rng, 100, 2)
    attack = QuantileAttack(
        alpha=0.1, slope="fit",
        regressor=DummyRegressor(strategy="constant", constant=0.0),
    )
    with pytest.raises(ValueError, match="slope='fit'.*same prediction"):
        attack.fit(None, y, X, log_proba=log_proba, random_state=0)
    attack.set_params(slope=1.0).fit(None, y, X, log_proba=log_proba)


@pytest.mark.parametrize(
    "mode, loss, extra",
    [("quantile", "quantile", {"label_columns": 3}),
     ("gaussian", "gaussian", {"label_columns": 3}),
     ("distill", "cross_entropy", {})],
)
def test_default_regressor_is_the_network(mode, loss, extra):
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(120, 2)), rng.integers(0, 3, 120)
    attack = QuantileAttack(alpha=0.05, mode=mode, n_folds=2).fit(
        None, y, X, log_proba=_random_log_proba(rng, 120, 3), random_state=0
    )
    for reg in attack.regressors_:
        assert isinstance(reg, QuantileNetRegressor)
        assert reg.loss == loss
        for name, value in extra.items():
            assert getattr(reg, name) == value
        if mode == "quantile":
            assert reg.quantile == pytest.approx(0.95)


def test_conformal_offset_by_hand():
    rng = np.random.default_rng(1)
    n, alpha = 200, 0.05
    X, y = rng.normal(size=(n, 2)), rng.integers(0, 3, n)
    log_proba = _random_log_proba(rng, n, 3)
    attack = QuantileAttack(alpha=alpha, n_folds=4).fit(
        None, y, X, log_proba=log_proba, random_state=0
    )
    raw = QuantileAttack(alpha=alpha, n_folds=4, calibrate=False).fit(
        None, y, X, log_proba=log_proba, random_state=0
    )
    residual = raw.decision_function(None, y, X, log_proba=log_proba)  # out of fold
    # split-conformal rule: the ceil((n + 1)(1 - alpha))-th smallest residual
    expected = np.sort(residual)[int(np.ceil((n + 1) * (1 - alpha))) - 1]
    assert attack.offset_ == pytest.approx(expected)
    np.testing.assert_allclose(
        attack.decision_function(None, y, X, log_proba=log_proba),
        residual - expected,
    )
    assert attack.population_exceedance_ <= alpha


@pytest.fixture(scope="module")
def signal_free():
    """A target trained elsewhere: its outputs do not depend on membership."""
    X, y = make_classification(
        n_samples=5000, n_features=12, n_informative=6, n_classes=4,
        n_clusters_per_class=1, flip_y=0.15, random_state=1,
    )
    target = LogisticRegression(max_iter=500).fit(X[:1000], y[:1000])
    return target, (X[1000:3000], y[1000:3000]), (X[3000:4000], y[3000:4000]), (
        X[4000:], y[4000:]
    )


def test_signal_free_target_fpr_is_alpha_and_auc_chance(signal_free, auc_se):
    target, (Xp, yp), (Xm, ym), (Xn, yn) = signal_free
    alpha = 0.05
    mia = MembershipInferenceAttack(
        target, method="quantile", method_params={"alpha": alpha}, random_state=0
    ).fit(Xp, yp)
    fpr = mia.predict(Xn, yn).mean()
    # binomial standard error of the FPR on 1000 non-members is 0.007; a
    # query outside the population gets the mean of the regressors' quantiles,
    # less noisy than the single out-of-fold one the offset is calibrated on,
    # so the rule can be conservative there
    assert alpha / 5 < fpr < alpha + 0.025
    assert abs(mia.method_.population_exceedance_ - alpha) < 0.01
    report = mia.evaluate(Xm, ym, Xn, yn)
    assert abs(report.auc - 0.5) < 4 * auc_se(1000, 1000)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("mode", ["quantile", "gaussian", "distill"])
def test_overfit_mlp_leaks(splits, mode):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    mlp = MLPClassifier(
        hidden_layer_sizes=(128,), alpha=0.0, max_iter=1000, tol=1e-6, random_state=0
    ).fit(Xm, ym)
    mia = MembershipInferenceAttack(
        mlp, method="quantile", method_params={"mode": mode},
        shadow_estimator=MustNotTrain(), random_state=0,
    ).fit(Xp, yp)
    assert mia.shadow_models_ is None
    report = mia.evaluate(Xm, ym, Xn, yn)
    # chance gives 0.5 +- 0.024 on 300 members against 300 non-members
    assert report.auc > 0.65


@pytest.mark.parametrize("mode", ["quantile", "distill"])
def test_cross_fitting_keeps_a_record_out_of_its_own_quantile(carlini_setup, mode):
    # a 1-nearest-neighbour regressor returns a training record's own score
    # (or output vector), so without cross-fitting every pool record would
    # score exactly 0
    target, (X_pool, y_pool), _ = carlini_setup
    n_members = 300  # carlini_setup: the pool starts with the target's members
    member = np.arange(len(y_pool)) < n_members
    attack = QuantileAttack(
        regressor=KNeighborsRegressor(n_neighbors=1), mode=mode, calibrate=False
    )
    mia = MembershipInferenceAttack(target, method=attack, random_state=0)
    scores = mia.fit(X_pool, y_pool).decision_function(X_pool, y_pool)
    assert np.mean(np.abs(scores) > 1e-9) > 0.9
    members, others = scores[member], scores[~member]
    assert np.mean(members[:, None] > others[None, :]) > 0.6


class _RecordingLogProba(_MeanLogProba):
    """:class:`_MeanLogProba` that keeps the rows it was fitted on."""

    def fit(self, X, y):
        self.seen_ = X.copy()
        return super().fit(X, y)


@pytest.mark.parametrize(
    "method, n_folds, held_out",
    [(QuantileAttack, 4, 1), (DistillationAttack, 6, 2)],
)
def test_default_folds_each_record_scored_by_a_regressor_that_never_saw_it(
    method, n_folds, held_out
):
    rng = np.random.default_rng(10)
    X, y = rng.normal(size=(200, 3)), rng.integers(0, 2, 200)
    attack = method(
        alpha=0.1, mode="distill", regressor=_RecordingLogProba()
    ).fit(None, y, X, log_proba=_random_log_proba(rng, 200, 2), random_state=0)
    assert attack.n_folds == n_folds and len(attack.regressors_) == n_folds
    np.testing.assert_array_equal(np.unique(attack.fold_), np.arange(n_folds))
    for k, reg in enumerate(attack.regressors_):
        # regressor k trained on every record outside folds k .. k + held_out - 1
        # (cyclically), none inside
        skipped = np.isin(attack.fold_, (k + np.arange(held_out)) % n_folds)
        np.testing.assert_array_equal(reg.seen_, X[~skipped])


@pytest.mark.parametrize("relabel", [False, True])
def test_identical_records_share_a_fold(relabel):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 2)), rng.integers(0, 2, 120)
    X[60:], y[60:] = X[:60], y[:60]  # every record twice
    if relabel:  # a mislabelled copy, as a canary is: the same features
        y[60:] = 1 - y[:60]
    attack = QuantileAttack(alpha=0.05, n_folds=3).fit(
        None, y, X, log_proba=_random_log_proba(rng, 120, 2), random_state=0
    )
    np.testing.assert_array_equal(attack.fold_[:60], attack.fold_[60:])


def test_deterministic_and_instance_equals_name(splits, forest):
    (Xm, ym), _, (Xp, yp) = splits

    def scores(method, params=None, seed=0):
        mia = MembershipInferenceAttack(
            forest, method=method, method_params=params, random_state=seed
        )
        return mia.fit(Xp, yp).decision_function(Xm, ym)

    params = {"alpha": 0.05, "n_folds": 3}
    by_name = scores("quantile", params)
    np.testing.assert_array_equal(by_name, scores("quantile", params))
    np.testing.assert_allclose(by_name, scores(QuantileAttack(**params)))
    assert not np.array_equal(by_name, scores("quantile", params, seed=1))


def test_probabilities_alone_give_the_same_scores():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(150, 2)), rng.integers(0, 3, 150)
    log_proba = _random_log_proba(rng, 150, 3)
    a = QuantileAttack(alpha=0.05).fit(None, y, X, log_proba=log_proba)
    b = QuantileAttack(alpha=0.05).fit(np.exp(log_proba), y, X)
    np.testing.assert_allclose(
        a.decision_function(None, y, X, log_proba=log_proba),
        b.decision_function(np.exp(log_proba), y, X),
        atol=1e-9,
    )


@pytest.mark.parametrize(
    "method, match",
    [
        (QuantileAttack(alpha=0.0), "alpha"),
        (QuantileAttack(alpha=1.5), "alpha"),
        (QuantileAttack(n_folds=1), "n_folds"),
        (QuantileAttack(score="loss"), "score"),
        (
            DistillationAttack(regressor=QuantileNetRegressor()),
            "which needs mode='quantile'",
        ),
        (QuantileAttack(use_label="yes"), "use_label"),
        (QuantileAttack(calibrate=None), "calibrate"),
        (QuantileAttack(slope="ols"), "slope"),
        (QuantileAttack(slope=float("nan")), "slope"),
        (QuantileAttack(regressor="hgb"), "regressor"),
        (QuantileAttack(mode="median"), "mode"),
        (
            QuantileAttack(
                mode="gaussian",
                regressor=HistGradientBoostingRegressor(loss="quantile", quantile=0.99),
            ),
            "mode='gaussian' needs a regressor of the mean and standard deviation",
        ),
        (
            QuantileAttack(
                mode="quantile", regressor=QuantileNetRegressor(loss="gaussian")
            ),
            "loss='gaussian', which needs mode='gaussian'",
        ),
        (
            QuantileAttack(
                mode="quantile", regressor=QuantileNetRegressor(loss="cross_entropy")
            ),
            "needs mode='distill'",
        ),
        (
            QuantileAttack(mode="distill", regressor=QuantileNetRegressor()),
            "mode='distill' needs a regressor of the target's",
        ),
        (
            QuantileAttack(
                alpha=0.01, mode="quantile",
                regressor=HistGradientBoostingRegressor(loss="quantile", quantile=0.9),
            ),
            "quantile=0.99",
        ),
        (
            QuantileAttack(
                alpha=0.05, mode="quantile",
                regressor=GradientBoostingRegressor(loss="quantile"),
            ),
            "alpha=0.95",
        ),
    ],
)
def test_bad_parameters_rejected(forest, splits, method, match):
    _, _, (Xp, yp) = splits
    with pytest.raises(ValueError, match=match):
        MembershipInferenceAttack(forest, method=method).fit(Xp, yp)


def test_matching_regressor_accepted():
    reg = QuantileRegressor(quantile=0.95, alpha=0.0, solver="highs")
    QuantileAttack(alpha=0.05, regressor=reg, mode="quantile").check_params(4)
    assert reg.get_params()["quantile"] == 0.95  # the user's object untouched


def test_distill_method_is_the_quantile_attack_in_distill_mode(splits):
    assert QuantileAttack().mode == "quantile"  # the paper's attack
    assert DistillationAttack().mode == "distill"
    assert clone(DistillationAttack(alpha=0.05)).get_params()["alpha"] == 0.05
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    target = LogisticRegression(max_iter=500).fit(Xm, ym)
    by_name = MembershipInferenceAttack(
        target, method="distill", random_state=0
    ).fit(Xp, yp)
    by_mode = MembershipInferenceAttack(
        target,
        method=QuantileAttack(mode="distill", n_folds=6, held_out_folds=2),
        random_state=0,
    ).fit(Xp, yp)
    assert isinstance(by_name.method_, DistillationAttack)
    np.testing.assert_array_equal(
        by_name.decision_function(Xn, yn), by_mode.decision_function(Xn, yn)
    )


def test_too_small_population_named(forest, splits):
    _, _, (Xp, yp) = splits
    mia = MembershipInferenceAttack(forest, method="quantile")  # alpha=0.01
    with pytest.raises(ValueError, match="population is too small.*at least 100"):
        mia.fit(Xp[:100], yp[:100])


def test_missing_arrays_and_wrong_width_named():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 2)), rng.integers(0, 2, 100)
    log_proba = _random_log_proba(rng, 100, 2)
    with pytest.raises(ValueError, match="needs X"):
        QuantileAttack(alpha=0.1).fit(None, y, log_proba=log_proba)
    with pytest.raises(ValueError, match="log_proba or proba"):
        QuantileAttack(alpha=0.1).fit(None, y, X)
    attack = QuantileAttack(alpha=0.1).fit(None, y, X, log_proba=log_proba)
    with pytest.raises(ValueError, match="3 features per record.*fitted on 2"):
        attack.decision_function(None, y, np.ones((100, 3)), log_proba=log_proba)


def test_scikit_learn_parameter_holder():
    attack = QuantileAttack(alpha=0.05, n_folds=3)
    assert clone(attack).get_params() == attack.get_params()
    assert repr(attack) == "QuantileAttack(alpha=0.05, n_folds=3)"
    assert QuantileAttack.requires_shadow_models is False


def test_runs_in_the_experiment_runner():
    from wsmooth.experiments import run_experiment

    X, y = make_classification(
        n_samples=600, n_features=8, n_informative=5, n_classes=3,
        n_clusters_per_class=1, random_state=0,
    )
    results = run_experiment(
        X, y, {"none": LogisticRegression(max_iter=300)},
        attacks=["quantile"], seeds=1, n_shadow=2,
    )
    rows = list(results)
    assert [r["attack"] for r in rows] == ["quantile"]
    assert 0.0 <= rows[0]["auc"] <= 1.0


def test_distill_defaults():
    attack = DistillationAttack()
    params = attack.get_params()
    assert (params["n_folds"], params["held_out_folds"]) == (6, "auto")
    assert params["regressor"] is None and params["mode"] == "distill"
    rng = np.random.default_rng(11)
    X, y = rng.normal(size=(240, 4)), rng.integers(0, 3, 240)
    log_proba = _random_log_proba(rng, 240, 3)
    attack.fit(None, y, X, log_proba=log_proba, random_state=0)
    # six networks of the default architecture, each skipping two folds
    assert len(attack.regressors_) == 6
    for reg in attack.regressors_:
        assert isinstance(reg, QuantileNetRegressor) and reg.loss == "cross_entropy"
        assert tuple(reg.hidden_layer_sizes) == (128,)
        assert (reg.max_epochs, reg.lr, reg.batch_size) == (6, 2e-3, 128)
        assert reg.weight_decay == 3e-3
    # a population record: the mean score of the two networks that skipped
    # its fold (k and k - 1), mapped by the fitted line
    s_d = np.stack(
        [logit_scaled_confidence_from_log_proba(reg.predict(X), y)
         for reg in attack.regressors_]
    )  # (network, record)
    k = attack.fold_
    rows = np.arange(len(y))
    expected_location = (s_d[k, rows] + s_d[(k - 1) % 6, rows]) / 2
    location, _ = attack._location_scale(y, X)
    np.testing.assert_allclose(location, expected_location, atol=1e-9)


@pytest.mark.parametrize("n_folds, held_out", [(2, 1), (4, 1), (5, 1), (6, 2), (9, 3)])
def test_held_out_folds_auto_is_a_third_of_the_folds(n_folds, held_out):
    rng = np.random.default_rng(12)
    X, y = rng.normal(size=(180, 3)), rng.integers(0, 2, 180)
    attack = DistillationAttack(
        alpha=0.1, n_folds=n_folds, regressor=_RecordingLogProba()
    ).fit(None, y, X, log_proba=_random_log_proba(rng, 180, 2), random_state=0)
    seen = [len(reg.seen_) for reg in attack.regressors_]
    sizes = np.bincount(attack.fold_, minlength=n_folds)
    skipped = [sizes[(k + np.arange(held_out)) % n_folds].sum() for k in range(n_folds)]
    assert seen == [180 - s for s in skipped]


def test_held_out_folds_must_leave_a_fold():
    rng = np.random.default_rng(13)
    X, y = rng.normal(size=(100, 3)), rng.integers(0, 2, 100)
    attack = DistillationAttack(alpha=0.1, n_folds=3, held_out_folds=3)
    with pytest.raises(ValueError, match="held_out_folds=3 leaves no fold.*n_folds=3"):
        attack.fit(None, y, X, log_proba=_random_log_proba(rng, 100, 2))
    with pytest.raises(ValueError, match="held_out_folds=3 leaves no fold"):
        attack.check_params(4)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_distill_defaults_deterministic_and_separate_members(splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    mlp = MLPClassifier(
        hidden_layer_sizes=(128,), alpha=0.0, max_iter=1000, tol=1e-6, random_state=0
    ).fit(Xm, ym)

    def fitted(seed):
        return MembershipInferenceAttack(
            mlp, method="distill", shadow_estimator=MustNotTrain(), random_state=seed
        ).fit(Xp, yp)

    mia = fitted(0)
    np.testing.assert_array_equal(
        mia.decision_function(Xm, ym), fitted(0).decision_function(Xm, ym)
    )
    assert not np.allclose(
        mia.decision_function(Xm, ym), fitted(1).decision_function(Xm, ym)
    )
    # chance gives 0.5 +- 0.024 on 300 members against 300 non-members
    assert mia.evaluate(Xm, ym, Xn, yn).auc > 0.65
