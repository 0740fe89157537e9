import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier

from wsmooth.attacks import MembershipInferenceAttack, label_only_scores
from wsmooth.attacks._label_only import (
    FLIP_PROBAS,
    RNG_BLOCK,
    LabelOnlyAttack,
    feature_kinds,
    perturb_images,
    perturb_tabular,
    robustness_curves,
)

pytestmark = pytest.mark.filterwarnings("ignore:FPR level.*below 1/n_nonmembers")


class SumRule:
    """Deterministic stub: label 1 when the row's first two values sum to >= 1."""

    def __init__(self):
        self.calls = []

    def __call__(self, X):
        self.calls.append(len(X))
        X = np.asarray(X).reshape(len(X), -1)
        return (X[:, 0] + X[:, 1] >= 1).astype(int)


class LabelsOnly(ClassifierMixin, BaseEstimator):
    """A classifier with fit/predict but no predict_proba (1-nearest neighbour)."""

    def fit(self, X, y):
        self.knn_ = KNeighborsClassifier(1).fit(X, y)
        self.classes_ = self.knn_.classes_
        return self

    def predict(self, X):
        return self.knn_.predict(X)


def test_curve_by_hand_binary_flips():
    # Two binary features; at flip probability 1 every copy is the complement,
    # at 0 every copy is the record.
    X = np.array([[1, 0], [1, 1], [0, 0]])
    y = np.array([1, 1, 0])
    stub = SumRule()
    c = robustness_curves(
        stub, X, y, n_perturbations=3, flip_probas=(0.0, 1.0),
        noise_scales=(0.0, 0.0), random_state=0,
    )
    # [1,0] -> 1 (correct), complement [0,1] -> 1 (correct)
    # [1,1] -> 1 (correct), complement [0,0] -> 0 (wrong); [0,0] likewise
    assert c.tolist() == [[1, 3, 3], [1, 3, 0], [1, 3, 0]]
    assert stub.calls == [3 * 7]  # one predict call on records and copies
    s = label_only_scores(
        stub, X, y, n_perturbations=3, flip_probas=(0.0, 1.0), noise_scales=(0.0, 0.0)
    )
    assert s.tolist() == [1.0, 4 / 7, 4 / 7]


def test_coupled_strengths_are_nested():
    # A copy flips at a strength every bit it flips at a weaker one.
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, (20, 50)).astype(np.float32)
    binary, spread = feature_kinds(X)
    out = perturb_tabular(
        X, 30, binary=binary, scales=np.zeros((3, 50)), flip_probas=(0.05, 0.2, 0.5),
        rng=rng,
    )
    assert out.shape == (20, 3, 30, 50)
    flipped = out != X[:, None, None, :]
    assert np.all(flipped[:, 0] <= flipped[:, 1]) and np.all(flipped[:, 1] <= flipped[:, 2])
    assert flipped[:, 2].mean() == pytest.approx(0.5, abs=0.02)
    assert flipped[:, 0].mean() == pytest.approx(0.05, abs=0.01)


def test_tabular_noise_scale_and_kinds():
    rng = np.random.default_rng(0)
    X = np.c_[rng.integers(0, 2, 500), rng.normal(0, 3.0, 500)]
    binary, spread = feature_kinds(X)
    assert binary.tolist() == [True, False]
    assert spread[1] == pytest.approx(X[:, 1].std())
    out = perturb_tabular(
        X[:50], 400, binary=binary, scales=np.array([[0, 0.5]]) * spread,
        flip_probas=(0.1,), rng=rng,
    )[:, 0]
    assert np.isin(out[..., 0], [0, 1]).all()
    assert np.mean(out[..., 0] != X[:50, None, 0]) == pytest.approx(0.1, abs=0.01)
    noise = out[..., 1] - X[:50, None, 1]
    assert noise.std() == pytest.approx(0.5 * spread[1], rel=0.03)


def test_images_shift_and_flip():
    X = np.array([[[[0.0, 0.0, 1.0]]]])  # (n=1, C=1, H=1, W=3)
    rng = np.random.default_rng(0)
    copies = perturb_images(X, 200, max_shifts=(0, 1), hflip=False, rng=rng)
    assert copies.shape == (1, 2, 200, 1, 1, 3)
    assert {tuple(c) for c in copies[0, 0, :, 0, 0].tolist()} == {(0.0, 0.0, 1.0)}
    seen = {tuple(c) for c in copies[0, 1, :, 0, 0].tolist()}
    assert seen == {(0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (0.0, 0.0, 0.0)}
    flipped = perturb_images(X, 200, max_shifts=(0,), hflip=True, rng=rng)
    assert {tuple(c) for c in flipped[0, 0, :, 0, 0].tolist()} == {
        (0.0, 0.0, 1.0), (1.0, 0.0, 0.0)
    }


def test_reproducible_and_batch_size_free():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3 * RNG_BLOCK + 7, 4))
    y = (X[:, 0] + X[:, 1] >= 1).astype(int)
    kw = dict(n_perturbations=5, random_state=11)
    a = robustness_curves(SumRule(), X, y, **kw)
    b = robustness_curves(SumRule(), X, y, batch_size=1, **kw)
    c = robustness_curves(SumRule(), X, y, n_perturbations=5, random_state=12)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    both = robustness_curves([SumRule(), SumRule()], X, y, **kw)
    assert both.shape == (2, len(X), 1 + len(FLIP_PROBAS))
    assert np.array_equal(both[0], a) and np.array_equal(both[1], a)


@pytest.mark.parametrize("n", [RNG_BLOCK // 2, 5 * RNG_BLOCK])
def test_predict_calls_batched(n):
    # Every model answers each batch once: the calls do not grow with the
    # records while the batch holds them, and stay within the memory bound.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + X[:, 1] >= 1).astype(int)
    spies = [SumRule(), SumRule()]
    robustness_curves(spies, X, y, n_perturbations=4, batch_size=10**6)
    assert [len(s.calls) for s in spies] == [1, 1]
    if n < 2 * RNG_BLOCK:  # one block of records is the smallest batch
        return
    rows = n * (1 + 4 * len(FLIP_PROBAS))
    small = SumRule()
    robustness_curves(small, X, y, n_perturbations=4, batch_size=rows // 2)
    assert 2 <= len(small.calls) <= 3 and sum(small.calls) == rows
    assert max(small.calls) <= rows // 2


def _overfit_net_setup(seed=0):
    # 20-bit records of 4 noisy classes; a 1-NN target memorises its half.
    rng = np.random.default_rng(seed)
    protos = rng.integers(0, 2, (4, 20))
    y = rng.integers(0, 4, 600)
    X = np.where(rng.random((600, 20)) < 0.25, 1 - protos[y], protos[y]).astype(float)
    return X, y


def test_many_distinct_values_and_members_higher():
    X, y = _overfit_net_setup()
    m, q = slice(0, 150), slice(150, 300)
    target = KNeighborsClassifier(1).fit(X[m], y[m])
    mia = MembershipInferenceAttack(
        target, method="label_only", random_state=0, n_shadow=4
    ).fit(X, y)
    sm, sn = mia.decision_function(X[m], y[m]), mia.decision_function(X[q], y[q])
    assert len(np.unique(np.r_[sm, sn])) > 20
    assert mia.evaluate(X[m], y[m], X[q], y[q]).auc > 0.6
    assert mia.method_.weights_.shape == (1 + len(FLIP_PROBAS),)


@pytest.mark.parametrize("weights", ["learned", "equal"])
@pytest.mark.parametrize("make", [
    lambda: RandomForestClassifier(n_estimators=20, random_state=0),
    lambda: KNeighborsClassifier(1),
])
def test_memorising_target_detected(splits, auc_se, make, weights):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    target = make().fit(Xm, ym)
    mia = MembershipInferenceAttack(
        target, method="label_only", random_state=0,
        method_params={"weights": weights, "n_perturbations": 8},
    )
    report = mia.fit(Xp, yp).evaluate(Xm, ym, Xn, yn)
    assert report.auc > 0.5 + 4 * auc_se(len(ym), len(yn)), report.auc
    assert report.balanced_accuracy > 0.6
    if weights == "equal":
        assert np.all(mia.method_.weights_ == 1)


class CountingKNN(KNeighborsClassifier):
    """1-NN counting the rows it is asked to label (shared by its clones)."""

    rows = []

    def predict(self, X):
        CountingKNN.rows.append(len(X))
        return super().predict(X)


def test_calibration_share_bounds_shadow_queries(splits):
    (Xm, ym), _, (Xp, yp) = splits
    target = CountingKNN(n_neighbors=1).fit(Xm, ym)
    copies = 1 + 2 * len(FLIP_PROBAS)
    for n_cal, expect in ((100, 100), (None, len(yp))):
        CountingKNN.rows.clear()
        mia = MembershipInferenceAttack(
            target, method="label_only", random_state=0, n_shadow=2,
            method_params={"n_perturbations": 2, "n_calibration": n_cal},
        ).fit(Xp, yp)
        # shadow training predicts nothing; the shadows label expect records
        assert sum(CountingKNN.rows) == 2 * expect * copies
        assert np.isfinite(mia.method_.threshold_)


def test_target_without_predict_proba(splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    target = LabelsOnly().fit(Xm, ym)
    assert not hasattr(target, "predict_proba")
    mia = MembershipInferenceAttack(
        target, method="label_only", random_state=0,
        method_params={"n_perturbations": 4},
    )
    mia.fit(Xp, yp)
    assert np.array_equal(mia.decision_function(Xm, ym), mia.decision_function(Xm, ym))
    assert mia.evaluate(Xm, ym, Xn, yn).auc > 0.6
    with pytest.raises(TypeError, match="predict_proba.*label_only"):
        MembershipInferenceAttack(target, method="mentr").fit(Xp, yp)


class NoProbaCalls(KNeighborsClassifier):
    """1-NN whose predict_proba must not be called (its predict does not)."""

    def predict_proba(self, X):
        raise AssertionError("label-only called predict_proba")


def test_predict_proba_never_called(splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    target = NoProbaCalls(n_neighbors=1).fit(Xm, ym)
    MembershipInferenceAttack(
        target, method="label_only", random_state=0,
        method_params={"n_perturbations": 2},
    ).fit(Xp, yp).evaluate(Xm, ym, Xn, yn)


def test_reproducible_with_random_state(forest, splits):
    (Xm, ym), _, (Xp, yp) = splits
    kw = dict(method="label_only", method_params={"n_perturbations": 4})
    a = MembershipInferenceAttack(forest, random_state=0, **kw).fit(Xp, yp)
    b = MembershipInferenceAttack(forest, random_state=0, **kw).fit(Xp, yp)
    c = MembershipInferenceAttack(forest, random_state=1, **kw).fit(Xp, yp)
    assert np.array_equal(a.decision_function(Xm, ym), b.decision_function(Xm, ym))
    assert not np.array_equal(a.decision_function(Xm, ym), c.decision_function(Xm, ym))


def test_images_through_the_attack(auc_se):
    # 6x6 single-channel images: a per-image brightness, the left half lit for
    # class 1, 20% of the labels flipped; a 1-NN target memorises them.
    rng = np.random.default_rng(0)
    n = 480
    y = rng.integers(0, 2, n)
    X = rng.random((n, 1, 6, 6)) * 0.1 + rng.random((n, 1, 1, 1))
    X[y == 1, :, :, :3] += 0.5
    y = np.where(rng.random(n) < 0.2, 1 - y, y)
    flat = X.reshape(n, -1)
    m, q = slice(0, 160), slice(160, 320)
    target = KNeighborsClassifier(1).fit(flat[m], y[m])
    params = {"image_shape": (1, 6, 6), "hflip": False, "n_perturbations": 6}
    mia = MembershipInferenceAttack(
        target, method="label_only", random_state=0, method_params=params,
    ).fit(flat[320:], y[320:])
    assert mia.evaluate(flat[m], y[m], flat[q], y[q]).auc > 0.5 + 3 * auc_se(160, 160)
    # the same records as (n, C, H, W) arrays take the image path by themselves
    mia4 = MembershipInferenceAttack(
        _Flatten().fit(X[m], y[m]), method="label_only", random_state=0,
        method_params={"hflip": False, "n_perturbations": 6},
    ).fit(X[320:], y[320:])
    assert np.allclose(
        mia4.decision_function(X[m], y[m]), mia.decision_function(flat[m], y[m])
    )


class _Flatten(ClassifierMixin, BaseEstimator):
    """1-NN on (n, C, H, W) images, through their flat rows."""

    def fit(self, X, y):
        self.model = KNeighborsClassifier(1).fit(np.reshape(X, (len(X), -1)), y)
        self.classes_ = self.model.classes_
        return self

    def predict(self, X):
        return self.model.predict(np.reshape(X, (len(X), -1)))


@pytest.mark.parametrize("params, match", [
    ({"n_perturbations": 0}, "n_perturbations"),
    ({"flip_probas": (0.1, 2.0), "noise_scales": (0.1, 0.2)}, "flip_probas"),
    ({"flip_probas": ()}, "flip_probas"),
    ({"flip_probas": (0.1, 0.2)}, "same length"),
    ({"noise_scales": (-1.0,) * len(FLIP_PROBAS)}, "noise_scales"),
    ({"max_shifts": (0.5,)}, "max_shifts"),
    ({"weights": "best"}, "weights"),
    ({"n_calibration": 1}, "n_calibration"),
])
def test_bad_params(forest, splits, params, match):
    _, _, (Xp, yp) = splits
    with pytest.raises(ValueError, match=match):
        MembershipInferenceAttack(
            forest, method="label_only", method_params=params
        ).fit(Xp, yp)
    with pytest.raises(ValueError, match=match):
        LabelOnlyAttack(**params).check_params(4)


def test_bad_function_args(splits):
    _, _, (Xp, yp) = splits
    with pytest.raises(ValueError, match="image_shape"):
        label_only_scores(SumRule(), Xp, yp, image_shape=(5, 5))
    with pytest.raises(ValueError, match="same length"):
        robustness_curves(SumRule(), Xp, yp, flip_probas=(0.1,), noise_scales=(1, 2))
