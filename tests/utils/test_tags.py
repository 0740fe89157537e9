"""Privacy tags: declared by the defences, read through meta-estimators."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from wsmooth import WeightedSmoothingClassifier
from wsmooth.defences import (
    AdversarialRegularizationClassifier,
    HAMPClassifier,
    MemGuard,
    RelaxLossClassifier,
)
from wsmooth.utils import PrivacyTags, get_privacy_tags, reference_fit_params


class _TakesReference(ClassifierMixin, BaseEstimator):
    def fit(self, X, y, X_reference=None, y_reference=None):
        self.reference_ = X_reference
        return self

    def __privacy_tags__(self):
        return PrivacyTags(takes_reference=True)


class _TagsWithoutKeywords(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        return self

    def __privacy_tags__(self):
        return PrivacyTags(takes_reference=True)


class _BadTags(BaseEstimator):
    def __privacy_tags__(self):
        return {"modifies_outputs": True}


def test_defaults_for_an_estimator_without_tags():
    assert get_privacy_tags(LogisticRegression()) == PrivacyTags()
    assert get_privacy_tags(WeightedSmoothingClassifier()) == PrivacyTags()
    assert get_privacy_tags(RelaxLossClassifier()) == PrivacyTags()
    assert reference_fit_params(LogisticRegression(), [[0]], [0]) == {}


def test_the_defences_declare_their_tags():
    hamp = HAMPClassifier()
    assert get_privacy_tags(hamp) == PrivacyTags(modifies_outputs=True)
    # the tags follow the parameters: no output modification, nothing modified
    hamp.set_params(output_modification=False)
    assert not get_privacy_tags(hamp).modifies_outputs
    assert get_privacy_tags(MemGuard(LogisticRegression())) == PrivacyTags(
        modifies_outputs=True, takes_reference=True
    )
    # MemGuard at budget 0 returns the classifier's outputs unchanged
    assert get_privacy_tags(MemGuard(LogisticRegression(), budget=0)) == PrivacyTags(
        takes_reference=True
    )
    assert get_privacy_tags(AdversarialRegularizationClassifier()) == PrivacyTags(
        takes_reference=True
    )


def test_reference_fit_params_match_the_defences_fit():
    Xr, yr = np.zeros((2, 3)), np.array([0, 1])
    for est in (MemGuard(LogisticRegression()), AdversarialRegularizationClassifier()):
        kwargs = reference_fit_params(est, Xr, yr)
        assert set(kwargs) == {"X_reference", "y_reference"}
        assert kwargs["X_reference"] is Xr and kwargs["y_reference"] is yr


def test_reference_set_reaches_memguard_fit():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.repeat([0, 1], 20)
    Xr, yr = rng.normal(size=(10, 3)), np.repeat([0, 1], 5)
    guard = MemGuard(LogisticRegression(), budget=0.0, attack_epochs=2, random_state=0)
    guard.fit(X, y, **reference_fit_params(guard, Xr, yr))
    # all 40 records trained on: nothing held out from X
    assert guard.estimator_.n_features_in_ == 3
    plain = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(guard.estimator_.coef_, plain.coef_)


def test_pipeline_and_meta_estimators():
    assert get_privacy_tags(Pipeline([("m", HAMPClassifier())])).modifies_outputs
    assert get_privacy_tags(Pipeline([("m", "passthrough")])) == PrivacyTags()
    search = GridSearchCV(HAMPClassifier(), {"gamma": [0.5]})
    assert get_privacy_tags(search) == PrivacyTags(modifies_outputs=True)
    # a meta-estimator does not route a reference set: not passed on
    search = GridSearchCV(MemGuard(LogisticRegression()), {"budget": [0.1]})
    assert get_privacy_tags(search) == PrivacyTags(modifies_outputs=True)

    Xr, yr = np.zeros((2, 3)), np.array([0, 1])
    pipe = Pipeline([("skip", "passthrough"), ("ref", _TakesReference())])
    assert get_privacy_tags(pipe).takes_reference
    kwargs = reference_fit_params(pipe, Xr, yr)
    assert set(kwargs) == {"ref__X_reference", "ref__y_reference"}
    pipe.fit(np.ones((2, 3)), yr, **kwargs)
    assert pipe[-1].reference_ is Xr
    scaled = Pipeline([("scale", StandardScaler()), ("ref", _TakesReference())])
    with pytest.raises(ValueError, match="would not pass through the steps"):
        reference_fit_params(scaled, Xr, yr)


def test_tags_that_cannot_be_honoured_are_refused():
    with pytest.raises(ValueError, match="no X_reference / y_reference"):
        reference_fit_params(_TagsWithoutKeywords(), [[0]], [0])
    with pytest.raises(TypeError, match="must return PrivacyTags"):
        get_privacy_tags(_BadTags())
