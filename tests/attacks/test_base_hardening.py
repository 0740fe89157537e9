"""The attack estimator against broken models and bad input: checked target and
shadow outputs, no population rows in a saved attack, seeded attack
classifiers, strict parameters, and a fuzz test over the bad-input catalogue."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.tree import DecisionTreeClassifier

from wsmooth.attacks import MembershipInferenceAttack

pytestmark = pytest.mark.filterwarnings("ignore:FPR level.*below 1/n_nonmembers")


class NaNTarget(ClassifierMixin, BaseEstimator):
    """A fitted tree whose ``predict_proba`` is NaN on records with
    ``X[:, 0] > cut`` (a diverged model)."""

    def __init__(self, cut=np.inf):
        self.cut = cut

    def fit(self, X, y):
        self.tree_ = DecisionTreeClassifier(random_state=0).fit(X, y)
        self.classes_ = self.tree_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X):
        proba = self.tree_.predict_proba(X)
        proba[np.asarray(X)[:, 0] > self.cut] = np.nan
        return proba


@pytest.fixture(scope="module")
def nan_target(splits):
    (Xm, ym), _, _ = splits
    return NaNTarget().fit(Xm, ym)


@pytest.mark.parametrize("method", ["rmia", "correctness", "loss"])
def test_nan_target_is_refused_in_fit(method, nan_target, splits):
    _, _, (Xp, yp) = splits
    nan_target.cut = np.median(Xp[:, 0])
    try:
        mia = MembershipInferenceAttack(
            nan_target,
            method=method,
            n_shadow=2,
            shadow_estimator=DecisionTreeClassifier(),
            random_state=0,
        )
        with pytest.raises(ValueError, match=r"predict_proba of the target .*NaN"):
            mia.fit(Xp, yp)
    finally:
        nan_target.cut = np.inf


@pytest.mark.parametrize("method", ["rmia", "correctness"])
def test_nan_target_is_refused_in_queries(method, nan_target, splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    mia = MembershipInferenceAttack(
        nan_target,
        method=method,
        n_shadow=2,
        shadow_estimator=DecisionTreeClassifier(),
        random_state=0,
    ).fit(Xp, yp)
    nan_target.cut = np.median(Xm[:, 0])
    try:
        with pytest.raises(ValueError, match=r"the target .* rows"):
            mia.decision_function(Xm, ym)
        with pytest.raises(ValueError, match=r"the target"):
            mia.evaluate(Xm, ym, Xn, yn)
    finally:
        nan_target.cut = np.inf


def test_nan_shadow_model_is_named(forest, splits):
    _, _, (Xp, yp) = splits
    shadow = NaNTarget(cut=np.median(Xp[:, 0]))
    mia = MembershipInferenceAttack(
        forest, method="rmia", n_shadow=2, shadow_estimator=shadow, random_state=0
    )
    with pytest.raises(ValueError, match=r"shadow model 0 .*NaN"):
        mia.fit(Xp, yp)


@pytest.mark.parametrize("method", ["lira", "rmia"])
def test_saved_attack_holds_no_population_row(method, splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    pool_X, pool_y = np.vstack([Xm, Xn, Xp]), np.r_[ym, yn, yp]
    target = DecisionTreeClassifier(random_state=0).fit(Xm, ym)
    mia = MembershipInferenceAttack(
        target,
        method=method,
        n_shadow=4,
        shadow_estimator=DecisionTreeClassifier(min_samples_leaf=2),
        random_state=0,
    ).fit(pool_X, pool_y)
    blob = pickle.dumps(mia)
    rows = np.ascontiguousarray(pool_X, dtype=np.float64)
    leaked = [i for i in range(len(rows)) if rows[i].tobytes() in blob]
    assert not leaked
    # ... and queries are still recognised as population records
    twin = pickle.loads(blob)
    y_idx = np.searchsorted(twin.classes_, ym[:20])
    idx = twin.method_.population_index_(Xm[:20], y_idx)
    assert np.array_equal(idx, np.arange(20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # all in the population: no fallback warning
        np.testing.assert_array_equal(
            twin.decision_function(Xm, ym), mia.decision_function(Xm, ym)
        )


def test_population_index_ignores_dtype_and_negative_zero():
    from wsmooth.attacks._methods import _PopulationIndex

    X = np.array([[0.0, 1.0], [-0.0, 2.0], [3.0, 1.0]])
    index = _PopulationIndex(X, np.array([0, 1, 1]))
    queries = np.array([[-0.0, 1.0], [0, 2], [3, 1], [3, 1], [9, 9]], dtype=np.float32)
    assert index(queries, np.array([0, 1, 1, 0, 0])).tolist() == [0, 1, 2, -1, -1]
    assert index(queries.astype(int), np.array([0, 1, 1, 0, 0])).tolist() == [
        0,
        1,
        2,
        -1,
        -1,
    ]


@pytest.mark.parametrize(
    "attack_classifier",
    [
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=30),
        RandomForestClassifier(n_estimators=5),
    ],
    ids=["mlp", "forest"],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_unseeded_attack_classifier_is_seeded(attack_classifier, forest, splits):
    (Xm, ym), _, (Xp, yp) = splits

    def scores():
        mia = MembershipInferenceAttack(
            forest,
            method="learned",
            n_shadow=2,
            shadow_estimator=DecisionTreeClassifier(max_depth=4),
            method_params={"attack_classifier": attack_classifier},
            random_state=0,
        ).fit(Xp, yp)
        assert mia.method_.classifier_.random_state is not None
        return mia.decision_function(Xm, ym)

    np.testing.assert_array_equal(scores(), scores())
    assert attack_classifier.random_state is None  # the user's object untouched


def test_the_estimators_attack_classifier_is_deprecated(forest, splits):
    _, _, (Xp, yp) = splits
    mia = MembershipInferenceAttack(
        forest, method="learned", n_shadow=2,
        shadow_estimator=DecisionTreeClassifier(max_depth=4),
        attack_classifier=RandomForestClassifier(n_estimators=3, random_state=0),
        random_state=0,
    )
    with pytest.warns(FutureWarning, match="method_params"):
        mia.fit(Xp, yp)
    # it still works the old way until removed
    assert isinstance(mia.method_.classifier_, RandomForestClassifier)


def test_n_shadow_bool_is_refused(forest, splits):
    _, _, (Xp, yp) = splits
    for bad in (True, False):
        with pytest.raises(ValueError, match="n_shadow"):
            MembershipInferenceAttack(forest, n_shadow=bad).fit(Xp, yp)


@pytest.fixture(scope="module")
def loss_attack(forest, splits):
    _, _, (Xp, yp) = splits
    return MembershipInferenceAttack(
        forest, method="loss", n_shadow=2, random_state=0
    ).fit(Xp, yp)


# all-member queries are valid; balanced accuracy then warns that one class is absent
@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_membership_must_be_zero_or_one(loss_attack, splits):
    (Xm, ym), _, _ = splits
    n = len(ym)
    for bad in (np.full(n, 2), np.r_[np.zeros(n - 1), 0.5], np.full(n, -1), ["a"] * n):
        with pytest.raises(ValueError, match="membership must hold only 0/1"):
            loss_attack.score(Xm, ym, bad)
    with pytest.raises(ValueError, match="membership"):
        loss_attack.score(Xm, ym, np.r_[np.ones(n - 1), np.nan])
    ones = np.ones(n, dtype=int)
    assert loss_attack.score(Xm, ym, ones) == loss_attack.score(Xm, ym, ones == 1)
    assert loss_attack.score(Xm, ym, ones) == loss_attack.score(Xm, ym, ones * 1.0)


# --------------------------------------------------------------------------- #
# Fuzz: every bad input ends in our own clear error
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def fuzz_setup(splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    target = DecisionTreeClassifier(max_depth=5, random_state=0).fit(Xm, ym)
    fitted = MembershipInferenceAttack(
        target,
        method="loss",
        n_shadow=2,
        shadow_estimator=DecisionTreeClassifier(max_depth=3),
        random_state=0,
    ).fit(Xp, yp)
    return target, fitted, (Xm[:40], ym[:40]), (Xn[:40], yn[:40]), (Xp, yp)


def _corrupt(kind, X, y, draw):
    """Apply one entry of the bad-input catalogue; return (X, y, words)."""
    X, y = np.array(X, dtype=np.float64), np.array(y)
    i = draw(st.integers(0, len(X) - 1))
    if kind == "nan":
        X[i, draw(st.integers(0, X.shape[1] - 1))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf])
        )
        return X, y, ("NaN", "infinity")
    if kind == "features":
        k = draw(st.sampled_from([1, 5, 13, 20]))
        X = np.hstack([X, X])[:, :k]
        return X, y, ("features",)
    if kind == "1d":
        return X[:, 0], y, ("2D array", "Expected 2D")
    if kind == "3d":
        return X[:, :, None], y, ("features", "dim")
    if kind == "length":
        return X, y[:-1], ("inconsistent numbers of samples",)
    if kind == "labels":
        y = y.copy()
        y[i] = draw(st.sampled_from([7, -1, 99]))
        return X, y, ("outside the target's classes_",)
    if kind == "string labels":
        return X, y.astype(str), ("cannot be compared", "outside the target's classes_")
    if kind == "2d labels":
        return X, np.c_[y, y], ("1-D class labels", "1d array", "y should be a 1d")
    if kind == "empty":
        return X[:0], y[:0], ("0 sample", "minimum of 1")
    raise AssertionError(kind)


CATALOGUE = [
    "nan",
    "features",
    "1d",
    "3d",
    "length",
    "labels",
    "string labels",
    "2d labels",
    "empty",
]


def _expect_ours(call, words):
    try:
        call()
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert any(w in message for w in words), (type(exc), message, words)
        return
    raise AssertionError(f"no error; expected one mentioning {words}")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fuzz_bad_queries(fuzz_setup, data):
    target, fitted, (Xm, ym), (Xn, yn), _ = fuzz_setup
    kind = data.draw(st.sampled_from(CATALOGUE), label="kind")
    X, y, words = _corrupt(kind, Xm, ym, data.draw)
    where = data.draw(st.sampled_from(["decision_function", "evaluate", "score"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if where == "decision_function":
            _expect_ours(lambda: fitted.decision_function(X, y), words)
        elif where == "evaluate":
            _expect_ours(lambda: fitted.evaluate(X, y, Xn, yn), words)
        else:
            membership = np.ones(len(X), dtype=int)
            _expect_ours(lambda: fitted.score(X, y, membership), words)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    bad=st.one_of(
        st.integers().filter(lambda v: v not in (0, 1)),
        st.floats().filter(lambda v: v not in (0.0, 1.0)),
        st.text(max_size=3),
    ),
    at=st.integers(0, 39),
)
def test_fuzz_bad_membership(fuzz_setup, bad, at):
    _, fitted, (Xm, ym), _, _ = fuzz_setup
    membership = np.ones(len(ym), dtype=object)
    membership[at] = bad
    values = np.array(membership.tolist())  # as a user's list becomes an array
    _expect_ours(lambda: fitted.score(Xm, ym, values), ("membership",))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fuzz_bad_fit(fuzz_setup, data):
    target, _, _, _, (Xp, yp) = fuzz_setup
    kind = data.draw(
        st.sampled_from(CATALOGUE + ["one class", "n_shadow", "nan target"]),
        label="kind",
    )
    method = data.draw(st.sampled_from(["loss", "correctness", "rmia", "lira"]))
    params = dict(
        method=method,
        n_shadow=4,
        shadow_estimator=DecisionTreeClassifier(max_depth=3),
        random_state=0,
    )
    est = target
    if kind == "one class":
        X, y = Xp[yp == 0], yp[yp == 0]
        words = ("single class",)
        if method == "correctness":
            words = None  # no shadow models: a single class is fine
    elif kind == "n_shadow":
        params["n_shadow"] = data.draw(st.sampled_from([0, -3, True, 2.5, "4", None]))
        X, y, words = Xp, yp, ("n_shadow",)
        if method == "correctness":
            words = ("n_shadow",)
    elif kind == "nan target":
        est = NaNTarget(cut=np.median(Xp[:, 0])).fit(Xp[:100], yp[:100])
        X, y, words = Xp, yp, ("predict_proba of the target",)
    else:
        X, y, words = _corrupt(kind, Xp, yp, data.draw)
    mia = MembershipInferenceAttack(est, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if words is None:
            mia.fit(X, y)
            assert np.isfinite(mia.decision_function(X, y)).all()
        else:
            _expect_ours(lambda: mia.fit(X, y), words)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fuzz_members_among_nonmembers(fuzz_setup, data):
    _, fitted, (Xm, ym), (Xn, yn), _ = fuzz_setup
    picks = data.draw(
        st.lists(st.integers(0, len(Xm) - 1), min_size=1, max_size=5, unique=True)
    )
    Xn2 = np.vstack([Xn, Xm[picks]])
    yn2 = np.r_[yn, ym[picks]]
    with pytest.raises(ValueError, match=f"{len(picks)} member record"):
        fitted.evaluate(Xm, ym, Xn2, yn2)
