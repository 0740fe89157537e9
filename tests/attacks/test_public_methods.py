import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression

from wsmooth.attacks import (
    AttackMethod,
    CorrectnessAttack,
    LearnedAttack,
    LiRAAttack,
    MembershipInferenceAttack,
    RMIAAttack,
    ThresholdAttack,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:FPR level.*below 1/n_nonmembers"),
    pytest.mark.filterwarnings("ignore:.*not in the attack's population"),
]


class MustNotTrain(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise AssertionError("shadow models trained before the parameter check")

    def predict_proba(self, X):  # pragma: no cover
        raise AssertionError


@pytest.mark.parametrize(
    "name, params, instance",
    [
        ("mentr", None, ThresholdAttack()),
        ("loss", None, ThresholdAttack(signal="loss", class_dependent=False)),
        ("correctness", None, CorrectnessAttack()),
        ("lira", {"online": False}, LiRAAttack(online=False)),
        (
            "rmia",
            {"offline_a": 0.5, "trim": 0.25},
            RMIAAttack(offline_a=0.5, trim=0.25),
        ),
        (
            "learned",
            {"attack_classifier": LogisticRegression()},
            LearnedAttack(attack_classifier=LogisticRegression()),
        ),
    ],
)
def test_instance_equals_name(forest, splits, name, params, instance):
    (Xm, ym), _, (Xp, yp) = splits
    kw = dict(n_shadow=4, random_state=0)
    by_name = MembershipInferenceAttack(
        forest, method=name, method_params=params, **kw
    )
    by_instance = MembershipInferenceAttack(forest, method=instance, **kw)
    np.testing.assert_allclose(
        by_name.fit(Xp, yp).decision_function(Xm, ym),
        by_instance.fit(Xp, yp).decision_function(Xm, ym),
    )
    assert isinstance(by_instance.method_, type(instance))
    assert by_instance.method_ is not instance  # cloned, the user's stays unfitted
    assert not hasattr(instance, "threshold_") and not hasattr(instance, "thresholds_")


@pytest.mark.parametrize(
    "method, match",
    [
        (ThresholdAttack(signal="nope"), "signal"),
        (ThresholdAttack(class_dependent="yes"), "class_dependent"),
        (LearnedAttack(calibration_fraction=1.0), "calibration_fraction"),
        (LearnedAttack(attack_classifier="mlp"), "attack_classifier"),
        (LiRAAttack(fixed_variance="always"), "fixed_variance"),
        (LiRAAttack(online=1), "online"),
        (RMIAAttack(gamma=0), "gamma"),
        (RMIAAttack(offline_a="tuned"), "offline_a"),
        (RMIAAttack(trim=0.5), "trim"),
        (RMIAAttack(n_population_z=0), "n_population_z"),
    ],
)
def test_bad_parameters_rejected_before_shadow_training(
    forest, splits, method, match
):
    _, _, (Xp, yp) = splits
    mia = MembershipInferenceAttack(
        forest, method=method, n_shadow=4, shadow_estimator=MustNotTrain()
    )
    with pytest.raises(ValueError, match=match):
        mia.fit(Xp, yp)


def test_bad_method_params_by_name_rejected_before_training(forest, splits):
    _, _, (Xp, yp) = splits
    for method, params in [
        ("mentr", {"signal": "nope"}),
        ("learned", {"calibration_fraction": -0.1}),
    ]:
        mia = MembershipInferenceAttack(
            forest,
            method=method,
            method_params=params,
            shadow_estimator=MustNotTrain(),
        )
        with pytest.raises(ValueError, match=next(iter(params))):
            mia.fit(Xp, yp)


def test_instance_with_method_params_or_attack_classifier(forest, splits):
    _, _, (Xp, yp) = splits
    with pytest.raises(ValueError, match="method_params applies to a method given"):
        MembershipInferenceAttack(
            forest, method=RMIAAttack(), method_params={"gamma": 2.0}
        ).fit(Xp, yp)
    with pytest.raises(ValueError, match="LearnedAttack\\(attack_classifier"):
        MembershipInferenceAttack(
            forest, method=LearnedAttack(), attack_classifier=LogisticRegression()
        ).fit(Xp, yp)
    with pytest.raises(ValueError, match="method"):
        MembershipInferenceAttack(forest, method=object()).fit(Xp, yp)


def test_methods_are_scikit_learn_parameter_holders(forest, splits):
    rmia = RMIAAttack(online=False, trim=0.2)
    assert clone(rmia).get_params() == rmia.get_params()
    assert repr(rmia) == "RMIAAttack(online=False, trim=0.2)"
    mia = MembershipInferenceAttack(forest, method=rmia)
    mia.set_params(method__gamma=2.0)  # nested, as for any estimator
    assert mia.method.gamma == 2.0
    assert isinstance(rmia, AttackMethod)
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    mia = MembershipInferenceAttack(
        forest, method=LiRAAttack(), n_shadow=2, random_state=0
    )
    report = mia.fit(Xp, yp).evaluate(Xm, ym, Xn, yn)
    assert report.name == "LiRAAttack"
