import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier

from wsmooth.attacks import MembershipInferenceAttack, label_only_scores
from wsmooth.attacks._label_only import (
    IMAGE_SHIFTS,
    RNG_BLOCK,
    feature_kinds,
    perturb_images,
    perturb_tabular,
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


def test_score_by_hand_binary_flips():
    # Two binary features, flip probability 1: every copy is the complement.
    X = np.array([[1, 0], [1, 1], [0, 0]])
    y = np.array([1, 1, 0])
    stub = SumRule()
    s = label_only_scores(stub, X, y, n_perturbations=3, flip_proba=1.0, random_state=0)
    # [1,0] -> label 1 (correct); copies [0,1] -> 1 (correct): 4/4.
    # [1,1] -> 1 (correct); copies [0,0] -> 0 (wrong): 1/4.
    # [0,0] -> 0 (correct); copies [1,1] -> 1 (wrong): 1/4.
    assert s.tolist() == [1.0, 0.25, 0.25]
    assert stub.calls == [12]  # one predict call on records and copies
    s0 = label_only_scores(stub, X, y, n_perturbations=3, flip_proba=0.0)
    assert s0.tolist() == [1.0, 1.0, 1.0]


def test_score_by_hand_images():
    # One 1x3 image, no flips, shifts of at most 1: the copy is the image
    # shifted left, right or not at all (zeros shifted in).
    X = np.array([[[[0.0, 0.0, 1.0]]]])  # (n=1, C=1, H=1, W=3)
    rng = np.random.default_rng(0)
    copies = perturb_images(X, 200, max_shift=1, hflip=False, rng=rng)[0, :, 0, 0]
    seen = {tuple(c) for c in copies.tolist()}
    assert seen <= {(0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (0.0, 0.0, 0.0)}
    assert len(seen) == 3
    flipped = perturb_images(X, 200, max_shift=0, hflip=True, rng=rng)[0, :, 0, 0]
    assert {tuple(c) for c in flipped.tolist()} == {(0.0, 0.0, 1.0), (1.0, 0.0, 0.0)}

    # the score: "label 1 iff the last pixel is lit"; shifts/flips move it.
    def last_pixel(Z):
        return (np.asarray(Z).reshape(len(Z), -1)[:, -1] > 0).astype(int)

    s = label_only_scores(
        last_pixel, X.reshape(1, 3), [1], n_perturbations=7, image_shape=(1, 3),
        max_shift=1, hflip=False, random_state=3,
    )
    copies = perturb_images(
        X, 7, max_shift=1, hflip=False, rng=np.random.default_rng([3, 0])
    )
    kept = 1 + int((copies[0, :, 0, 0, 2] > 0).sum())
    assert s[0] == pytest.approx(kept / 8)


def test_tabular_noise_scale_and_kinds():
    rng = np.random.default_rng(0)
    X = np.c_[rng.integers(0, 2, 500), rng.normal(0, 3.0, 500)]
    binary, spread = feature_kinds(X)
    assert binary.tolist() == [True, False]
    assert spread[1] == pytest.approx(X[:, 1].std())
    out = perturb_tabular(
        X[:50], 400, binary=binary, scale=0.5 * spread, flip_proba=0.1, rng=rng
    )
    assert out.shape == (50, 400, 2)
    assert np.isin(out[..., 0], [0, 1]).all()
    assert np.mean(out[..., 0] != X[:50, None, 0]) == pytest.approx(0.1, abs=0.01)
    noise = out[..., 1] - X[:50, None, 1]
    assert noise.std() == pytest.approx(0.5 * spread[1], rel=0.03)


def test_reproducible_and_batch_size_free():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3 * RNG_BLOCK + 7, 4))
    y = (X[:, 0] + X[:, 1] >= 1).astype(int)
    kw = dict(n_perturbations=5, noise_scale=0.5, random_state=11)
    a = label_only_scores(SumRule(), X, y, **kw)
    b = label_only_scores(SumRule(), X, y, batch_size=1, **kw)
    c = label_only_scores(SumRule(), X, y, n_perturbations=5, noise_scale=0.5,
                          random_state=12)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    both = label_only_scores([SumRule(), SumRule()], X, y, **kw)
    assert both.shape == (2, len(X))
    assert np.array_equal(both[0], a) and np.array_equal(both[1], a)


@pytest.mark.parametrize("make", [
    lambda: RandomForestClassifier(n_estimators=20, random_state=0),
    lambda: KNeighborsClassifier(1),
])
def test_memorising_target_detected(splits, auc_se, make):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    target = make().fit(Xm, ym)
    mia = MembershipInferenceAttack(target, method="label_only", random_state=0)
    report = mia.fit(Xp, yp).evaluate(Xm, ym, Xn, yn)
    assert report.auc > 0.5 + 4 * auc_se(len(ym), len(yn)), report.auc
    assert report.balanced_accuracy > 0.6
    assert 0 < mia.method_.threshold_ < 1


def test_target_without_predict_proba(splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    target = LabelsOnly().fit(Xm, ym)
    assert not hasattr(target, "predict_proba")
    mia = MembershipInferenceAttack(target, method="label_only", random_state=0)
    mia.fit(Xp, yp)
    s1 = mia.decision_function(Xm, ym)
    s2 = mia.decision_function(Xm, ym)
    assert np.array_equal(s1, s2)
    assert mia.evaluate(Xm, ym, Xn, yn).auc > 0.6
    # the probability-based methods still refuse it, naming the remedy
    with pytest.raises(TypeError, match="predict_proba.*label_only"):
        MembershipInferenceAttack(target, method="mentr").fit(Xp, yp)


class NoProbaCalls(KNeighborsClassifier):
    """1-NN whose predict_proba must not be called (its predict does not)."""

    def predict_proba(self, X):
        raise AssertionError("label-only called predict_proba")


def test_predict_proba_never_called(splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    target = NoProbaCalls(n_neighbors=1).fit(Xm, ym)
    mia = MembershipInferenceAttack(
        target, method="label_only", random_state=0,
        method_params={"n_perturbations": 2},
    ).fit(Xp, yp)
    mia.evaluate(Xm, ym, Xn, yn)


def test_reproducible_with_random_state(forest, splits):
    (Xm, ym), _, (Xp, yp) = splits
    kw = dict(method="label_only", method_params={"n_perturbations": 4})
    a = MembershipInferenceAttack(forest, random_state=0, **kw).fit(Xp, yp)
    b = MembershipInferenceAttack(forest, random_state=0, **kw).fit(Xp, yp)
    c = MembershipInferenceAttack(forest, random_state=1, **kw).fit(Xp, yp)
    assert np.array_equal(a.decision_function(Xm, ym), b.decision_function(Xm, ym))
    assert not np.array_equal(
        a.decision_function(Xm, ym) + a.method_.threshold_,
        c.decision_function(Xm, ym) + c.method_.threshold_,
    )


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
    mia = MembershipInferenceAttack(
        target, method="label_only", random_state=0,
        method_params={"image_shape": (1, 6, 6), "hflip": False},
    ).fit(flat[320:], y[320:])
    report = mia.evaluate(flat[m], y[m], flat[q], y[q])
    assert report.auc > 0.5 + 3 * auc_se(160, 160), report.auc
    # max_shift="auto": the best calibrated of IMAGE_SHIFTS
    accs = [
        MembershipInferenceAttack(
            target, method="label_only", random_state=0,
            method_params={"image_shape": (1, 6, 6), "hflip": False, "max_shift": k},
        ).fit(flat[320:], y[320:]).method_.calibration_accuracy_
        for k in IMAGE_SHIFTS
    ]
    assert mia.method_.max_shift_ == IMAGE_SHIFTS[int(np.argmax(accs))]
    assert mia.method_.calibration_accuracy_ == max(accs)
    # the same records as (n, C, H, W) arrays take the image path by themselves
    mia4 = MembershipInferenceAttack(
        _Flatten().fit(X[m], y[m]), method="label_only", random_state=0,
        method_params={"hflip": False},
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


def test_bad_params(forest, splits):
    _, _, (Xp, yp) = splits
    with pytest.raises(ValueError, match="flip_proba"):
        MembershipInferenceAttack(
            forest, method="label_only", method_params={"flip_proba": 2.0}
        ).fit(Xp, yp)
    with pytest.raises(ValueError, match="image_shape"):
        label_only_scores(SumRule(), Xp, yp, image_shape=(5, 5))


def test_auto_strength_is_the_best_calibrated(forest, splits):
    from wsmooth.attacks._label_only import STRENGTHS

    _, _, (Xp, yp) = splits
    auto = MembershipInferenceAttack(
        forest, method="label_only", random_state=0,
        method_params={"n_perturbations": 4},
    ).fit(Xp, yp)
    chosen = (auto.method_.flip_proba_, auto.method_.noise_scale_)
    assert chosen in STRENGTHS
    accs = {}
    for fp, ns in STRENGTHS:
        fixed = MembershipInferenceAttack(
            forest, method="label_only", random_state=0,
            method_params={"n_perturbations": 4, "flip_proba": fp, "noise_scale": ns},
        ).fit(Xp, yp)
        accs[fp, ns] = fixed.method_.calibration_accuracy_
    assert auto.method_.calibration_accuracy_ == max(accs.values())
    assert chosen == next(k for k, v in accs.items() if v == max(accs.values()))
    # one parameter fixed: only the other is tuned
    half = MembershipInferenceAttack(
        forest, method="label_only", random_state=0,
        method_params={"n_perturbations": 4, "noise_scale": 0.7},
    ).fit(Xp, yp)
    assert half.method_.noise_scale_ == 0.7
