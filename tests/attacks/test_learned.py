import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from skorch import NeuralNetClassifier

from wsmooth.attacks import MembershipInferenceAttack
from wsmooth.attacks._learned import attack_features, default_attack_classifier
from wsmooth.nets import MLP

pytestmark = pytest.mark.filterwarnings("ignore:FPR level.*below 1/n_nonmembers")


def test_features():
    proba = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    f = attack_features(proba, np.array([0, 2]))
    assert np.allclose(f[0], [0.5, 0.3, 0.2, 0.2, 1, 0, 0])
    assert np.allclose(f[1], [0.8, 0.1, 0.1, 0.8, 0, 0, 1])
    assert attack_features(np.stack([proba, proba]), np.array([0, 2])).shape == (
        2,
        2,
        7,
    )


def test_learned_with_sklearn_classifier(forest, splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    clf = LogisticRegression(max_iter=500)
    mia = MembershipInferenceAttack(
        forest, method="learned", attack_classifier=clf, random_state=0
    ).fit(Xp, yp)
    assert mia.method_.classifier_ is not clf and not hasattr(clf, "coef_")
    report = mia.evaluate(Xm, ym, Xn, yn)
    assert report.auc > 0.65
    s = mia.decision_function(Xm, ym) + mia.method_.threshold_
    assert np.all((s >= 0) & (s <= 1))
    assert 0 < mia.method_.threshold_ < 1


@pytest.mark.parametrize("n_shadow", [3, 5])
def test_threshold_calibrated_on_held_out_shadow_rows(forest, splits, n_shadow):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    # A member-weighted classifier: P(member) is biased far above 0.5, so the
    # old fixed 0.5 threshold calls nearly everything a member.
    clf = LogisticRegression(max_iter=500, class_weight={0: 1, 1: 30})
    mia = MembershipInferenceAttack(
        forest, method="learned", attack_classifier=clf, n_shadow=n_shadow,
        random_state=0,
    ).fit(Xp, yp)
    method = mia.method_
    assert method.threshold_ > 0.6
    report = mia.evaluate(Xm, ym, Xn, yn)
    p_m = mia.decision_function(Xm, ym) + method.threshold_
    p_n = mia.decision_function(Xn, yn) + method.threshold_
    at_half = ((p_m >= 0.5).mean() + (p_n < 0.5).mean()) / 2
    assert report.balanced_accuracy > at_half + 0.05
    assert report.balanced_accuracy > report.best_balanced_accuracy - 0.05
    # held-out records are disjoint from the training ones
    train, cal = method._split_records(mia._encode(yp, mia.classes_), 1)
    assert np.intersect1d(train, cal).size == 0 and cal.size == round(0.25 * len(yp))


def test_calibration_fraction_zero_keeps_one_half(forest, splits):
    _, _, (Xp, yp) = splits
    mia = MembershipInferenceAttack(
        forest, method="learned", attack_classifier=LogisticRegression(),
        method_params={"calibration_fraction": 0.0}, random_state=0,
    ).fit(Xp, yp)
    assert mia.method_.threshold_ == 0.5
    with pytest.raises(ValueError, match="calibration_fraction"):
        MembershipInferenceAttack(
            forest, method="learned", attack_classifier=LogisticRegression(),
            method_params={"calibration_fraction": 1.0},
        ).fit(Xp, yp)


def test_learned_default_skorch_classifier(forest, splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    assert isinstance(default_attack_classifier(9), NeuralNetClassifier)
    assert default_attack_classifier(9).train_split is None
    mia = MembershipInferenceAttack(
        forest,
        method="learned",
        n_shadow=2,
        method_params={"attack_classifier": None},
        random_state=0,
    ).fit(Xp, yp)
    assert isinstance(mia.method_.classifier_, NeuralNetClassifier)
    first = mia.decision_function(Xm, ym)
    assert mia.evaluate(Xm, ym, Xn, yn).auc > 0.65
    # seeded: a second fit gives the same scores
    again = MembershipInferenceAttack(
        forest, method="learned", n_shadow=2, random_state=0
    ).fit(Xp, yp)
    assert np.allclose(first, again.decision_function(Xm, ym))


@pytest.fixture(scope="module")
def skorch_target(splits):
    """A small skorch MLP trained to (near) 100% train accuracy."""
    (Xm, ym), _, _ = splits
    torch.manual_seed(0)
    net = NeuralNetClassifier(
        MLP,
        module__n_features=Xm.shape[1],
        module__n_classes=4,
        module__hidden_layer_sizes=(64,),
        module__activation="relu",
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-2,
        max_epochs=60,
        batch_size=64,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
    )
    return net.fit(Xm.astype(np.float32), ym)


def test_skorch_target_shadow_clones_and_leakage(skorch_target, splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    f32 = np.float32
    mia = MembershipInferenceAttack(
        skorch_target,
        method="learned",
        n_shadow=2,
        attack_classifier=LogisticRegression(),
        random_state=0,
    ).fit(Xp.astype(f32), yp)
    models = mia.shadow_models_.models
    assert all(isinstance(m, NeuralNetClassifier) for m in models)
    assert all(m is not skorch_target for m in models)
    report = mia.evaluate(Xm.astype(f32), ym, Xn.astype(f32), yn)
    assert report.auc > 0.6
