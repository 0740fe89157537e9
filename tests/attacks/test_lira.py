import pickle

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier

from wsmooth.attacks import AttackData, MembershipInferenceAttack
from wsmooth.attacks._base import _PopulationIndex
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
    data = AttackData(
        target=None,
        classes=np.array([0, 1]),
        X=X,
        y=y,
        target_proba=np.full((3, 2), 0.5),
        shadow_models=[],
        keep_masks=keep,
        shadow_proba=proba,
        shadow_predict_proba=lambda Xq: new_proba[:, : len(Xq)],
        population_index=_PopulationIndex(X, y),
        random_state=0,
    )
    logit = np.log(p_y) - np.log1p(-p_y)
    return data, logit, np.log(p_new[:, 0]) - np.log1p(-p_new[:, 0])


@pytest.mark.parametrize("fixed_variance", [False, True])
def test_gaussian_likelihood_ratio_by_hand(fixed_variance):
    rng = np.random.default_rng(0)
    data, phi, phi_new = fake_data(rng)
    keep = data.keep_masks
    p_t = np.array([0.9, 0.3, 0.6])  # the target's true-class probabilities
    proba = np.stack([np.where(data.y == 0, p_t, 1 - p_t)] * 2, axis=-1)
    proba[:, 1] = 1 - proba[:, 0]
    phi_t = np.log(p_t) - np.log1p(-p_t)

    online = LiRAAttack(online=True, fixed_variance=fixed_variance).fit(data)
    offline = LiRAAttack(online=False, fixed_variance=fixed_variance).fit(data)
    got_on = online.decision_function(proba, data.y, data.X) + online.threshold_
    got_off = offline.decision_function(proba, data.y, data.X) + offline.threshold_
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
    lira = LiRAAttack(online=False).fit(data)
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
            "online": {},
            "online fixed": {"fixed_variance": True},
            "offline": {"online": False},
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
        ({}, 3, 4),
        ({"online": False}, 2, 4),
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
