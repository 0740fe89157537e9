import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.svm import SVC

import wsmooth
from wsmooth.attacks import AttackMethod, MembershipInferenceAttack, register_method
from wsmooth.attacks._methods import METHOD_NAMES, METHODS, PopulationQueryMixin

pytestmark = pytest.mark.filterwarnings("ignore:FPR level.*below 1/n_nonmembers")

FAST = ["correctness", "loss", "confidence", "entropy", "mentr"]


def auc_se(n_m, n_n):
    """Standard error of the AUC of an attack at chance (Mann-Whitney)."""
    return np.sqrt((n_m + n_n + 1) / (12 * n_m * n_n))


@pytest.fixture(scope="module")
def fitted(forest, splits):
    _, _, (Xp, yp) = splits
    return {
        m: MembershipInferenceAttack(forest, method=m, random_state=0).fit(Xp, yp)
        for m in FAST
    }


def test_public_api():
    assert wsmooth.MembershipInferenceAttack is MembershipInferenceAttack
    assert "MembershipInferenceAttack" in wsmooth.__all__


@pytest.mark.parametrize("method", FAST)
def test_memorising_target_leaks(fitted, splits, method):
    (Xm, ym), (Xn, yn), _ = splits
    report = fitted[method].evaluate(Xm, ym, Xn, yn)
    assert report.auc > 0.65, (method, report.auc)
    assert report.balanced_accuracy > 0.6
    assert report.name == method


@pytest.mark.parametrize("method", FAST)
def test_membership_independent_target_is_at_chance(splits, method):
    # The target never saw either query set: "members" and "non-members" are
    # exchangeable, so the attack must be at chance.
    (Xa, ya), (Xb, yb), (Xp, yp) = splits
    target = RandomForestClassifier(n_estimators=20, random_state=0).fit(
        Xp[:300], yp[:300]
    )
    mia = MembershipInferenceAttack(target, method=method, random_state=0)
    report = mia.fit(Xp[300:], yp[300:]).evaluate(Xa, ya, Xb, yb)
    assert abs(report.auc - 0.5) < 4 * auc_se(len(ya), len(yb)), report.auc


def test_prior_dummy_target_is_exactly_at_chance(splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    target = DummyClassifier(strategy="prior").fit(Xm, ym)
    mia = MembershipInferenceAttack(target, method="mentr", random_state=0).fit(Xp, yp)
    report = mia.evaluate(Xm, ym, Xn, yn)
    assert abs(report.auc - 0.5) < 4 * auc_se(len(ym), len(yn))


def test_report_equals_independent_computation(fitted, splits, rank_auc):
    (Xm, ym), (Xn, yn), _ = splits
    mia = fitted["mentr"]
    report = mia.evaluate(Xm, ym, Xn, yn, fpr_levels=(0.01, 0.1))
    sm, sn = mia.decision_function(Xm, ym), mia.decision_function(Xn, yn)
    assert report.auc == pytest.approx(rank_auc(sm, sn))
    cands = np.unique(np.concatenate([sm, sn, [np.inf]]))
    tpr = np.array([(sm >= t).mean() for t in cands])
    fpr = np.array([(sn >= t).mean() for t in cands])
    assert report.advantage == pytest.approx(np.max(tpr - fpr))
    for level in (0.01, 0.1):
        # strict FPR < level (Carlini et al.)
        assert report.tpr_at_fpr[level] == pytest.approx(tpr[fpr < level].max())
    pred_m, pred_n = sm >= 0, sn >= 0
    assert report.balanced_accuracy == pytest.approx(
        0.5 * (pred_m.mean() + (~pred_n).mean())
    )
    assert report.n_members == len(ym) and report.n_nonmembers == len(yn)


def test_predict_and_score(fitted, splits):
    (Xm, ym), (Xn, yn), _ = splits
    mia = fitted["confidence"]
    X, y = np.vstack([Xm, Xn]), np.concatenate([ym, yn])
    membership = np.r_[np.ones(len(ym)), np.zeros(len(yn))]
    scores = mia.decision_function(X, y)
    assert np.array_equal(mia.predict(X, y), (scores >= 0).astype(int))
    assert mia.score(X, y, membership) == pytest.approx(
        balanced_accuracy_score(membership, mia.predict(X, y))
    )
    assert mia.score(X, y, membership) == pytest.approx(
        mia.evaluate(Xm, ym, Xn, yn).balanced_accuracy
    )


def test_class_dependent_scores_are_centred(fitted, splits):
    (Xm, ym), _, _ = splits
    method = fitted["entropy"].method_
    assert method.thresholds_.shape == (4,)
    proba = fitted["entropy"].estimator.predict_proba(Xm)
    from wsmooth._signals import entropy

    assert np.allclose(
        fitted["entropy"].decision_function(Xm, ym),
        -entropy(proba) - method.thresholds_[ym],
    )


def test_string_labels(splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    names = np.array(["ant", "bee", "cat", "dog"])
    target = RandomForestClassifier(n_estimators=10, random_state=0).fit(Xm, names[ym])
    mia = MembershipInferenceAttack(target, method="mentr", random_state=0)
    report = mia.fit(Xp, names[yp]).evaluate(Xm, names[ym], Xn, names[yn])
    assert report.auc > 0.6


def test_deterministic_and_parallel_equals_sequential(forest, splits):
    # loky processes are covered in test_shadow; threads keep this one fast and
    # show that an active joblib backend is honoured.
    (Xm, ym), _, (Xp, yp) = splits

    def scores(n_jobs):
        mia = MembershipInferenceAttack(
            forest, method="loss", random_state=3, n_jobs=n_jobs
        )
        return mia.fit(Xp, yp).decision_function(Xm, ym)

    first = scores(None)
    assert np.array_equal(first, scores(None))
    with joblib.parallel_backend("threading"):
        assert np.array_equal(first, scores(2))


def test_cache_dir_second_attack_reuses_shadows(forest, splits, tmp_path):
    (Xm, ym), _, (Xp, yp) = splits
    a = MembershipInferenceAttack(
        forest, method="mentr", random_state=0, cache_dir=tmp_path
    ).fit(Xp, yp)
    assert a.shadow_models_.n_trained == 4
    b = MembershipInferenceAttack(
        forest, method="confidence", random_state=0, cache_dir=str(tmp_path)
    ).fit(Xp, yp)
    assert b.shadow_models_.n_trained == 0
    assert np.array_equal(a.shadow_models_.keep_masks, b.shadow_models_.keep_masks)
    with pytest.raises(ValueError, match="another population"):
        MembershipInferenceAttack(forest, random_state=0, cache_dir=tmp_path).fit(
            Xp[:-10], yp[:-10]
        )


def test_shadow_template_and_seeds(forest, splits):
    _, _, (Xp, yp) = splits
    template = RandomForestClassifier(n_estimators=5, max_depth=3)
    mia = MembershipInferenceAttack(
        forest, method="loss", n_shadow=3, shadow_estimator=template, random_state=0
    )
    models = mia.fit(Xp, yp).shadow_models_.models
    assert len(models) == 3
    assert all(m.n_estimators == 5 and m.max_depth == 3 for m in models)
    assert len({m.random_state for m in models}) == 3
    assert template.get_params()["random_state"] is None  # untouched
    assert not hasattr(template, "estimators_")


def test_clone_and_get_params(forest):
    mia = MembershipInferenceAttack(forest, method="loss", n_shadow=6, n_jobs=2)
    params = mia.get_params(deep=False)
    assert params["method"] == "loss" and params["n_shadow"] == 6
    twin = clone(mia)
    assert twin.get_params(deep=False)["n_jobs"] == 2
    assert not hasattr(twin, "method_")


def test_population_index_and_new_method_plug_in(forest, splits):
    (Xm, ym), _, (Xp, yp) = splits
    seen = {}

    @register_method("_test_lookup")
    class Lookup(PopulationQueryMixin, AttackMethod):
        """Score = fraction of shadows trained on the record (from keep masks)."""

        online = True

        def fit(self, proba, y, X=None, *, shadow_proba=None, keep_masks=None,
                shadows=None, **ignored):
            seen["shapes"] = (shadow_proba.shape, keep_masks.shape)
            seen["ignored"] = sorted(ignored)
            self.keep_masks_ = keep_masks
            self._fit_population(X, y, shadows)
            return self

        def decision_function(self, proba, y, X):
            idx, found = self._lookup(X, y)
            seen["query"] = self.shadows_.predict_proba(X).shape
            frac = np.where(found, self.keep_masks_[:, idx].mean(axis=0), 0)
            return frac - 0.25

    try:
        mia = MembershipInferenceAttack(
            forest, method="_test_lookup", n_shadow=2, random_state=0
        ).fit(Xp, yp)
        scores = mia.decision_function(
            np.vstack([Xp[:5], Xm[:5]]), np.r_[yp[:5], ym[:5]]
        )
    finally:
        del METHODS["_test_lookup"]
        METHOD_NAMES.discard("_test_lookup")
    assert seen["shapes"] == ((2, len(yp), 4), (2, len(yp)))
    assert seen["query"] == (2, 10, 4)
    assert seen["ignored"] == [
        "log_proba", "random_state", "shadow_log_proba", "target"
    ]
    assert np.allclose(scores, [0.25] * 5 + [-0.25] * 5)


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #
def test_unfitted_target(splits):
    _, _, (Xp, yp) = splits
    with pytest.raises(NotFittedError, match="not fitted"):
        MembershipInferenceAttack(RandomForestClassifier()).fit(Xp, yp)


def test_target_without_predict_proba(splits):
    (Xm, ym), _, (Xp, yp) = splits
    for target in (SVC().fit(Xm, ym), LinearRegression().fit(Xm, ym)):
        with pytest.raises(TypeError, match="predict_proba"):
            MembershipInferenceAttack(target).fit(Xp, yp)


def test_target_without_classes(splits):
    (Xm, ym), _, (Xp, yp) = splits

    class NoClasses:
        def predict_proba(self, X):
            return np.full((len(X), 4), 0.25)

    with pytest.raises(TypeError, match="classes_"):
        MembershipInferenceAttack(NoClasses()).fit(Xp, yp)


def test_population_too_small(forest, splits):
    _, _, (Xp, yp) = splits
    small = np.concatenate([np.flatnonzero(yp == c)[:3] for c in range(4)])
    with pytest.raises(ValueError, match="too small for n_shadow"):
        MembershipInferenceAttack(forest).fit(Xp[small], yp[small])
    with pytest.raises(ValueError, match="single class"):
        one = np.flatnonzero(yp == 0)
        MembershipInferenceAttack(forest).fit(Xp[one], yp[one])
    # correctness trains no shadows, so it accepts it
    MembershipInferenceAttack(forest, method="correctness").fit(Xp[small], yp[small])


def test_labels_outside_target_classes(fitted, forest, splits):
    (Xm, ym), _, (Xp, yp) = splits
    with pytest.raises(ValueError, match="outside the target's classes_.*7"):
        MembershipInferenceAttack(forest).fit(Xp, np.where(yp == 0, 7, yp))
    with pytest.raises(ValueError, match="outside the target's classes_"):
        fitted["loss"].decision_function(Xm, ym + 10)


def test_shared_records_between_members_and_nonmembers(fitted, splits):
    (Xm, ym), (Xn, yn), _ = splits
    Xn2 = np.vstack([Xn, Xm[[3, 7]] * 1.0])  # exact copies of two members
    yn2 = np.r_[yn, ym[[3, 7]]]
    with pytest.raises(ValueError, match="2 member record"):
        fitted["loss"].evaluate(Xm, ym, Xn2, yn2)
    # the same row with a different label is a different record
    fitted["loss"].evaluate(Xm, ym, Xn2, np.r_[yn, (ym[[3, 7]] + 1) % 4])


def test_mismatched_lengths(fitted, forest, splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fitted["loss"].decision_function(Xm, ym[:-1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fitted["loss"].evaluate(Xm, ym, Xn[:-1], yn)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fitted["loss"].score(Xm, ym, np.ones(len(ym) - 1))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MembershipInferenceAttack(forest).fit(Xp, yp[:-1])
    with pytest.raises(ValueError, match="features"):
        MembershipInferenceAttack(forest).fit(Xp[:, :5], yp)
    with pytest.raises(ValueError, match="features"):
        fitted["loss"].decision_function(Xm[:, :5], ym)


def test_bad_parameters(forest, splits):
    _, _, (Xp, yp) = splits
    with pytest.raises(ValueError, match="method"):
        MembershipInferenceAttack(forest, method="nope").fit(Xp, yp)
    with pytest.raises(ValueError, match="n_shadow"):
        MembershipInferenceAttack(forest, n_shadow=0).fit(Xp, yp)


def test_query_before_fit(forest, splits):
    (Xm, ym), _, _ = splits
    with pytest.raises(NotFittedError):
        MembershipInferenceAttack(forest).decision_function(Xm, ym)


def test_fitted_attack_pickles(fitted, splits):
    (Xm, ym), _, _ = splits
    for mia in fitted.values():
        twin = pickle.loads(pickle.dumps(mia))
        assert np.array_equal(
            twin.decision_function(Xm, ym), mia.decision_function(Xm, ym)
        )


def test_method_params_and_memory_cache(forest, splits, tmp_path):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    mia = MembershipInferenceAttack(
        forest,
        method="loss",
        method_params={"class_dependent": True},
        cache_dir=joblib.Memory(tmp_path, verbose=0),
        random_state=0,
    ).fit(Xp, yp)
    assert len(np.unique(mia.method_.thresholds_)) > 1
    assert (tmp_path / "manifest.json").exists()


@pytest.mark.slow
def test_weighted_smoothing_target(splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    f32 = np.float32
    clf = wsmooth.WeightedSmoothingClassifier(sigma=0.0, max_epochs=30, random_state=0)
    clf.fit(Xm.astype(f32), ym)
    mia = MembershipInferenceAttack(clf, method="mentr", n_shadow=2, random_state=0)
    mia.fit(Xp.astype(f32), yp)
    models = mia.shadow_models_.models
    assert len({m.random_state for m in models}) == 2
    assert mia.evaluate(Xm.astype(f32), ym, Xn.astype(f32), yn).auc > 0.6


def test_method_inputs_are_what_the_method_is_queried_with(fitted, forest, splits):
    (Xm, ym), _, _ = splits
    mia = fitted["mentr"]
    inputs = mia.method_inputs(Xm[:20], ym[:20])
    np.testing.assert_array_equal(inputs.proba, forest.predict_proba(Xm[:20]))
    np.testing.assert_array_equal(mia.classes_[inputs.y], ym[:20])
    np.testing.assert_array_equal(inputs.X, Xm[:20])
    assert inputs.log_proba is None  # the threshold attack reads probabilities
    np.testing.assert_array_equal(
        mia.method_.decision_function(inputs.proba, inputs.y, inputs.X),
        mia.decision_function(Xm[:20], ym[:20]),
    )
    with pytest.raises(NotFittedError):
        MembershipInferenceAttack(forest).method_inputs(Xm, ym)
