import pickle

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier

from wsmooth.attacks import MembershipInferenceAttack
from wsmooth.attacks._lira import LiRAAttack
from wsmooth.attacks._methods import METHOD_NAMES, METHODS

pytestmark = pytest.mark.filterwarnings("ignore:FPR level.*below 1/n_nonmembers")

N_SHADOW = 8


@pytest.fixture(scope="module")
def setup(carlini_setup):
    return carlini_setup


def attack(target, pool, cache, n_shadow=N_SHADOW, **params):
    return MembershipInferenceAttack(
        target,
        method="lira",
        method_params=params,
        n_shadow=n_shadow,
        cache_dir=cache,
        random_state=0,
    ).fit(*pool)


def test_registered():
    assert "lira" in METHOD_NAMES and METHODS["lira"] is LiRAAttack


# --------------------------------------------------------------------------- #
# The statistic, on a hand-made case
# --------------------------------------------------------------------------- #
class StubShadows:
    """Shadow models answering new records with fixed probabilities."""

    def __init__(self, proba):
        self.proba = proba

    def predict_proba(self, X):
        return self.proba[:, : len(X)]


def fake_data(rng, n_shadow=4):
    """3 population records, 2 classes, shadows with known probabilities."""
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([0, 1, 0])
    keep = np.array([[1, 0, 1], [0, 1, 1], [1, 0, 0], [0, 1, 0]][:n_shadow], dtype=bool)
    p_y = rng.uniform(0.05, 0.95, size=(n_shadow, 3))
    proba = np.empty((n_shadow, 3, 2))
    proba[..., 0] = np.where(y == 0, p_y, 1 - p_y)
    proba[..., 1] = 1 - proba[..., 0]
    p_new = rng.uniform(0.05, 0.95, size=(n_shadow, 1))
    new_proba = np.stack([p_new, 1 - p_new], axis=-1)  # class 0 of record [[9.]]
    # LiRAAttack.fit's arrays: plain arrays, no estimator
    data = dict(
        proba=np.full((3, 2), 0.5),
        y=y,
        X=X,
        shadow_proba=proba,
        keep_masks=keep,
        shadows=StubShadows(new_proba),
    )
    logit = np.log(p_y) - np.log1p(-p_y)
    return data, logit, np.log(p_new[:, 0]) - np.log1p(-p_new[:, 0])


@pytest.mark.parametrize("fixed_variance", [False, True])
def test_gaussian_likelihood_ratio_by_hand(fixed_variance):
    rng = np.random.default_rng(0)
    data, phi, phi_new = fake_data(rng)
    keep = data["keep_masks"]
    p_t = np.array([0.9, 0.3, 0.6])  # the target's true-class probabilities
    proba = np.stack([np.where(data["y"] == 0, p_t, 1 - p_t)] * 2, axis=-1)
    proba[:, 1] = 1 - proba[:, 0]
    phi_t = np.log(p_t) - np.log1p(-p_t)

    online = LiRAAttack(online=True, fixed_variance=fixed_variance).fit(**data)
    offline = LiRAAttack(online=False, fixed_variance=fixed_variance).fit(**data)
    y, X = data["y"], data["X"]
    got_on = online.decision_function(proba, y, X) + online.threshold_
    got_off = offline.decision_function(proba, y, X) + offline.threshold_
    for i in range(3):
        v_in, v_out = phi[keep[:, i], i], phi[~keep[:, i], i]
        if fixed_variance:
            sd_in, sd_out = np.std(phi[keep]), np.std(phi[~keep])
        else:
            sd_in, sd_out = np.std(v_in), np.std(v_out)
        expected_on = norm.logpdf(phi_t[i], v_in.mean(), sd_in) - norm.logpdf(
            phi_t[i], v_out.mean(), sd_out
        )
        expected_off = -np.log(norm.sf(phi_t[i], v_out.mean(), sd_out))
        assert got_on[i] == pytest.approx(expected_on, rel=1e-9)
        assert got_off[i] == pytest.approx(expected_off, rel=1e-9)
    assert offline.offline_threshold_ == offline.threshold_

    # A record no shadow saw: every shadow is OUT, the offline test applies;
    # the online attack falls back to it with a warning.
    Xq, yq = np.array([[9.0]]), np.array([0])
    pq = np.array([[0.8, 0.2]])
    sd = np.std(phi[~keep]) if fixed_variance else np.std(phi_new)
    expected = -norm.logsf(np.log(4.0), phi_new.mean(), sd)
    assert offline.decision_function(pq, yq, Xq)[0] + offline.threshold_ == (
        pytest.approx(expected)
    )
    with pytest.warns(UserWarning, match="1 of 1 queried records are not in"):
        got = online.decision_function(pq, yq, Xq)[0]
    assert got + online.offline_threshold_ == pytest.approx(expected)


def test_offline_score_increases_with_confidence():
    data, _, _ = fake_data(np.random.default_rng(1))
    lira = LiRAAttack(online=False).fit(**data)
    p = np.linspace(0.2, 0.99, 6)
    proba = np.stack([p, 1 - p], axis=1)  # population record 0: X=[0.], label 0
    scores = lira.decision_function(proba, np.zeros(6, int), np.zeros((6, 1)))
    assert np.all(np.diff(scores) > 0) and np.all(np.isfinite(scores))


# --------------------------------------------------------------------------- #
# End to end
# --------------------------------------------------------------------------- #
def test_memorising_target_leaks(setup, splits):
    target, pool, cache = setup
    (Xm, ym), (Xn, yn), _ = splits
    loss = MembershipInferenceAttack(
        target, method="loss", n_shadow=N_SHADOW, cache_dir=cache, random_state=0
    ).fit(*pool)
    base = loss.evaluate(Xm, ym, Xn, yn)
    reports = {
        key: attack(target, pool, cache, **params).evaluate(Xm, ym, Xn, yn)
        for key, params in {
            "online": {"fixed_variance": False},
            "online fixed": {"fixed_variance": True},
            "offline": {"online": False, "fixed_variance": False},
            "offline fixed": {"online": False, "fixed_variance": True},
        }.items()
    }
    for key, report in reports.items():
        assert report.auc > 0.8, (key, report.auc)
        assert report.tpr_at_fpr[0.01] > 0.05, (key, report.tpr_at_fpr)
        assert report.balanced_accuracy > 0.7, (key, report.balanced_accuracy)
    # With few shadows the fixed-variance online attack is the strong one
    # (Carlini et al.): far above the global loss threshold at low FPR.
    fixed = reports["online fixed"].tpr_at_fpr
    assert fixed[0.001] > 5 * max(base.tpr_at_fpr[0.001], 0.001)
    assert fixed[0.01] > 3 * base.tpr_at_fpr[0.01]
    # ... and the default picks, on the shadows, the estimate it then uses.
    default = attack(target, pool, cache)
    chosen = default.method_.fixed_variance_
    figures = default.method_.variance_selection_
    assert chosen == (figures[True] >= figures[False])
    np.testing.assert_array_equal(
        default.decision_function(Xm, ym),
        attack(target, pool, cache, fixed_variance=chosen).decision_function(Xm, ym),
    )


def test_membership_independent_target_is_at_chance(
    setup, splits, smooth_forest, auc_se
):
    _, pool, cache = setup
    (Xa, ya), (Xb, yb), (Xp, yp) = splits
    target = smooth_forest().fit(Xp[:300], yp[:300])  # never saw Xa nor Xb
    for params in ({}, {"online": False}):
        report = attack(target, pool, cache, **params).evaluate(Xa, ya, Xb, yb)
        assert abs(report.auc - 0.5) < 4 * auc_se(len(ya), len(yb)), report.auc


def test_disjoint_population_falls_back_to_offline(setup, splits):
    target, _, _ = setup
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    kwargs = dict(method="lira", n_shadow=4, random_state=0)
    offline = MembershipInferenceAttack(
        target, method_params={"online": False}, **kwargs
    ).fit(Xp, yp)
    online = MembershipInferenceAttack(target, **kwargs).fit(Xp, yp)
    X, y = np.vstack([Xm, Xp[:7]]), np.r_[ym, yp[:7]]
    with pytest.warns(UserWarning, match=f"{len(ym)} of {len(y)} queried records"):
        got = online.decision_function(X, y)
    assert np.allclose(got[: len(ym)], offline.decision_function(Xm, ym))
    # population records are tested online, the same alone or in a batch
    assert np.allclose(got[len(ym) :], online.decision_function(Xp[:7], yp[:7]))
    assert offline.evaluate(Xm, ym, Xn, yn).auc > 0.8
    twin = pickle.loads(pickle.dumps(offline))  # keeps the shadows it queries
    assert np.array_equal(
        twin.decision_function(Xm, ym), offline.decision_function(Xm, ym)
    )


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #
class MustNotTrain(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise AssertionError("shadow models trained before the parameter check")

    def predict_proba(self, X):  # pragma: no cover
        raise AssertionError


@pytest.mark.parametrize(
    "params, n_shadow, needed",
    [
        ({"fixed_variance": False}, 3, 4),
        ({"online": False, "fixed_variance": False}, 2, 4),
        ({}, 1, 2),  # "auto": the global variance below 4 shadow models
        ({"fixed_variance": True}, 1, 2),
        ({"online": False, "fixed_variance": True}, 1, 2),
    ],
)
def test_too_few_shadow_models(forest, splits, params, n_shadow, needed):
    _, _, (Xp, yp) = splits
    mia = MembershipInferenceAttack(
        forest,
        method="lira",
        method_params=params,
        n_shadow=n_shadow,
        shadow_estimator=MustNotTrain(),
    )
    with pytest.raises(
        ValueError, match=rf"lira.*n_shadow >= {needed}.*got n_shadow={n_shadow}"
    ):
        mia.fit(Xp, yp)


def test_bad_method_params(forest, splits):
    _, _, (Xp, yp) = splits
    with pytest.raises(ValueError, match="'online'.*bool"):
        MembershipInferenceAttack(
            forest, method="lira", method_params={"online": "yes"}
        ).fit(Xp, yp)
    with pytest.raises(TypeError, match="gamma"):
        MembershipInferenceAttack(
            forest, method="lira", method_params={"gamma": 2}
        ).fit(Xp, yp)


def test_cache_of_another_target_or_population_is_refused(setup, splits):
    target, pool, cache = setup
    attack(target, pool, cache)  # the module's cache, written above or now
    other = RandomForestClassifier(n_estimators=50, min_samples_leaf=5)
    other.fit(*splits[0])
    with pytest.raises(ValueError, match="another shadow model configuration"):
        attack(other, pool, cache)
    with pytest.raises(ValueError, match="another population"):
        attack(target, (pool[0][:-1], pool[1][:-1]), cache)


# --------------------------------------------------------------------------- #
# fixed_variance="auto" and log-probabilities
# --------------------------------------------------------------------------- #
def _binary_log_proba(phi):
    """Log-probabilities of 2 classes whose true class 0 has statistic phi."""
    return np.stack([-np.logaddexp(0.0, -phi), -np.logaddexp(0.0, phi)], axis=-1)


def simulated_lira(seed, n_records=4000, n_shadow=4, shift=1.0, sd=1.0):
    """Gaussian phi per record (Carlini et al.'s model): OUT mean spread over
    records, IN = OUT + shift, spread ``sd`` (a number, or ``"varied"``: one
    per record, log-uniform over [0.01, 3], the shift scaled alike). Returns
    ``LiRAAttack.fit``'s arrays, the target's log-probabilities on the records and its
    membership."""
    from wsmooth.attacks import make_keep_masks

    rng = np.random.default_rng(seed)
    mu = rng.normal(0.0, 3.0, n_records)
    if sd == "varied":
        sd = np.exp(rng.uniform(np.log(0.01), np.log(3.0), n_records))
        shift = shift * sd
    keep = make_keep_masks(n_records, n_shadow, random_state=seed)
    phi = mu + shift * keep + rng.normal(0.0, sd, (n_shadow, n_records))
    member = rng.random(n_records) < 0.5
    phi_t = mu + shift * member + rng.normal(0.0, sd, n_records)
    X = np.arange(n_records, dtype=float)[:, None]
    y = np.zeros(n_records, dtype=int)
    log_proba = _binary_log_proba(phi)
    data = dict(
        proba=np.exp(_binary_log_proba(phi_t)),
        y=y,
        X=X,
        shadow_proba=np.exp(log_proba),
        shadow_log_proba=log_proba,
        keep_masks=keep,
    )
    return data, _binary_log_proba(phi_t), member


def test_auto_fixed_variance_beats_per_record_at_4_shadows():
    from wsmooth.metrics import membership_auc, tpr_at_fpr

    data, log_proba_t, member = simulated_lira(0)
    figures = {}
    for fv in ("auto", False):
        lira = LiRAAttack(fixed_variance=fv).fit(**data)
        s = lira.decision_function(
            np.exp(log_proba_t), data["y"], data["X"], log_proba=log_proba_t
        )
        figures[fv] = (
            lira.fixed_variance_,
            membership_auc(s[member], s[~member]),
            tpr_at_fpr(s[member], s[~member], 0.01),
        )
    assert figures["auto"][0] is True and figures[False][0] is False
    # Per-record spreads from 2 values each: much weaker, above all at low FPR.
    assert figures["auto"][1] > figures[False][1] + 0.02, figures
    assert figures["auto"][2] > 1.5 * figures[False][2], figures


def _scores(lira, data, log_proba_t):
    return lira.decision_function(
        np.exp(log_proba_t), data["y"], data["X"], log_proba=log_proba_t
    )


def test_auto_takes_per_record_variance_where_spreads_differ():
    # Records whose spreads differ by orders of magnitude (as saturated and
    # unsaturated records of a forest): with 16 shadows the per-record
    # estimate is the strong one, and "auto" finds it on the shadows.
    from wsmooth.metrics import tpr_at_fpr

    data, log_proba_t, member = simulated_lira(0, n_shadow=16, sd="varied")
    auto = LiRAAttack().fit(**data)
    assert auto.fixed_variance_ is False
    tpr_fixed, tpr_per_record = (
        auto.variance_selection_[True][0],
        auto.variance_selection_[False][0],
    )
    assert tpr_per_record > tpr_fixed
    s_auto = _scores(auto, data, log_proba_t)
    per_record = LiRAAttack(fixed_variance=False).fit(**data)
    s_per_record = _scores(per_record, data, log_proba_t)
    np.testing.assert_array_equal(s_auto, s_per_record)
    s_fixed = _scores(LiRAAttack(fixed_variance=True).fit(**data), data, log_proba_t)
    # the choice made on the shadows holds on the target
    assert tpr_at_fpr(s_auto[member], s_auto[~member], 0.01) > tpr_at_fpr(
        s_fixed[member], s_fixed[~member], 0.01
    )


@pytest.mark.parametrize("n_shadow", [2, 4, 5])
def test_auto_takes_the_global_variance_below_6_shadows(n_shadow):
    data, _, _ = simulated_lira(0, n_records=200, n_shadow=n_shadow)
    lira = LiRAAttack().fit(**data)
    assert lira.fixed_variance_ is True and lira.variance_selection_ is None


class LogitModel(ClassifierMixin, BaseEstimator):
    """Stub classifier with huge logits: class ``X[:, 1] > 0`` with margin
    ``200 + X[:, 0]``, 20 more on the rows it trained on. Its float32
    ``predict_proba`` rounds every wrong-class probability to 0."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        self.rows_ = {tuple(r) for r in np.asarray(X).tolist()}
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def _logit(self, X):
        X = np.asarray(X)
        seen = np.array([tuple(r) in self.rows_ for r in X.tolist()])
        margin = 200.0 + X[:, 0] + 20.0 * seen
        return np.where(X[:, 1] > 0, margin, -margin)

    def predict_proba(self, X):
        z = np.float32(self._logit(X))[:, None] * np.float32([-0.5, 0.5])
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


class LogitModelWithLog(LogitModel):
    def predict_log_proba(self, X):
        z = self._logit(X)  # log-softmax of (-z/2, z/2)
        return np.stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)], axis=-1)


def test_phi_from_log_proba_does_not_saturate():
    from wsmooth._signals import (
        logit_scaled_confidence,
        logit_scaled_confidence_from_log_proba,
    )

    X = np.array([[50.0, 1.0], [100.0, 1.0], [30.0, -1.0]])
    y = np.array([1, 1, 0])
    model = LogitModelWithLog().fit(X[:0], y[:0])
    phi = logit_scaled_confidence_from_log_proba(model.predict_log_proba(X), y)
    np.testing.assert_allclose(phi, [250.0, 300.0, 230.0])
    saturated = logit_scaled_confidence(model.predict_proba(X), y)
    np.testing.assert_allclose(saturated, np.log(1e30))  # the old ceiling


@pytest.mark.parametrize("online", [True, False])
def test_attack_reads_log_proba_beyond_69(online):
    rng = np.random.default_rng(0)
    X = np.c_[rng.uniform(0, 10, 400), rng.choice([-1.0, 1.0], 400)]
    y = (X[:, 1] > 0).astype(int)
    members, nonmembers = np.arange(0, 400, 2), np.arange(1, 400, 2)
    figures = {}
    for cls in (LogitModel, LogitModelWithLog):
        target = cls().fit(X[members], y[members])
        mia = MembershipInferenceAttack(
            target, method="lira", method_params={"online": online},
            n_shadow=4, random_state=0,
        ).fit(X, y)
        report = mia.evaluate(X[members], y[members], X[nonmembers], y[nonmembers])
        figures[cls.__name__] = report.auc
    # float32 probabilities: phi is 69 everywhere, nothing to tell apart.
    assert figures["LogitModel"] == pytest.approx(0.5)
    assert figures["LogitModelWithLog"] > 0.95, figures


class BadLogModel(LogitModelWithLog):
    def predict_log_proba(self, X):
        return super().predict_log_proba(X) + 0.5  # rows sum to e^0.5


def test_bad_log_proba_of_the_target_is_refused():
    rng = np.random.default_rng(0)
    X = np.c_[rng.uniform(0, 10, 40), rng.choice([-1.0, 1.0], 40)]
    y = (X[:, 1] > 0).astype(int)
    target = BadLogModel().fit(X[:20], y[:20])
    mia = MembershipInferenceAttack(
        target, method="lira", n_shadow=2, shadow_estimator=LogitModelWithLog()
    )
    with pytest.raises(ValueError, match="predict_log_proba of the target.*40 rows"):
        mia.fit(X, y)


def test_shadow_left_out_with_its_partner_tells_nothing_without_signal():
    # No membership signal at all: the leave-out attack on the shadows must be
    # at chance. Leaving out a shadow alone would not be: each record's count
    # of IN and OUT models among the rest gives its membership away, and
    # per-record spreads from 2 or 3 values read it (AUC about 0.35).
    data, _, _ = simulated_lira(0, n_shadow=6, shift=0.0)
    figures = LiRAAttack().fit(**data).variance_selection_
    for fixed in (True, False):
        assert abs(figures[fixed][1] - 0.5) < 0.02, figures


def test_variance_chosen_on_the_low_fpr_end():
    # The figure of each estimate is the low-FPR TPR of the pooled
    # leave-shadows-out scores (AUC second), not the TPR at 1% FPR.
    from wsmooth.attacks._calibration import leave_shadows_out
    from wsmooth.attacks._lira import _phi
    from wsmooth.metrics import mean_tpr_at_low_fpr, membership_auc

    data, _, _ = simulated_lira(0, n_records=500, n_shadow=8, sd="varied")
    lira = LiRAAttack().fit(**data)
    phi = _phi(None, data["shadow_log_proba"], data["y"])
    keep = data["keep_masks"]
    for fixed in (True, False):
        runs = leave_shadows_out(keep, lira._pseudo_target(phi, keep, True, fixed))
        assert len(runs) == 8
        scores = np.concatenate([r[0] for r in runs])
        member = np.concatenate([r[1] for r in runs])
        expected = (
            mean_tpr_at_low_fpr(scores[member], scores[~member]),
            membership_auc(scores[member], scores[~member]),
        )
        assert lira.variance_selection_[fixed] == pytest.approx(expected)
    figures = lira.variance_selection_
    assert lira.fixed_variance_ is (figures[True] >= figures[False])
