import numpy as np
import pytest

from wsmooth import _names
from wsmooth.attacks import (
    AttackMethod,
    AttackSignals,
    MembershipInferenceAttack,
    ThresholdAttack,
    available_methods,
    register_method,
)
from wsmooth.attacks._methods import METHOD_NAMES, METHODS, fit_method, get_method


@pytest.fixture
def scratch_name():
    name = "_test_registry"
    yield name
    METHODS.pop(name, None)
    METHOD_NAMES.discard(name)


class _First(AttackMethod):
    requires_shadow_models = False


class _Second(AttackMethod):
    requires_shadow_models = False


def test_available_methods_lists_the_registry():
    names = available_methods()
    assert names == sorted(METHODS) == sorted(METHOD_NAMES)
    assert set(_names.ATTACKS) <= set(names)
    assert get_method("mentr") is ThresholdAttack


def test_register_refuses_to_overwrite_a_name(scratch_name):
    register_method(scratch_name)(_First)
    assert scratch_name in available_methods()
    register_method(scratch_name)(_First)  # the same class again: no change
    with pytest.raises(ValueError, match="registered already.*force=True"):
        register_method(scratch_name)(_Second)
    assert get_method(scratch_name) is _First
    with pytest.raises(ValueError, match="registered already"):
        register_method("mentr")(_Second)
    assert get_method("mentr") is ThresholdAttack
    register_method(scratch_name, force=True)(_Second)
    assert get_method(scratch_name) is _Second


def test_register_checks_its_arguments(scratch_name):
    with pytest.raises(TypeError, match="not an AttackMethod subclass"):
        register_method(scratch_name)(object)
    with pytest.raises(TypeError, match="non-empty str"):
        register_method("")
    with pytest.raises(TypeError, match="non-empty str"):
        register_method(3)
    assert scratch_name not in available_methods()


# --------------------------------------------------------------------------- #
# The signals record and the keyword form of fit
# --------------------------------------------------------------------------- #
def _signals(seed=0, n=40, n_shadow=4):
    from wsmooth.attacks import make_keep_masks

    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    keep = make_keep_masks(n, n_shadow, random_state=seed, y=y)
    # members are fitted better: the true class gets more probability
    p_true = np.where(keep, 0.9, 0.6) + rng.uniform(-0.05, 0.05, size=keep.shape)
    shadow_proba = np.empty((n_shadow, n, 2))
    shadow_proba[..., 0] = np.where(y == 0, p_true, 1 - p_true)
    shadow_proba[..., 1] = 1 - shadow_proba[..., 0]
    return AttackSignals(y=y, shadow_proba=shadow_proba, keep_masks=keep)


def test_record_and_keywords_fit_alike():
    signals = _signals()
    by_record = ThresholdAttack(signal="loss").fit_signals(signals)
    by_keywords = ThresholdAttack(signal="loss").fit(
        None, signals.y, shadow_proba=signals.shadow_proba,
        keep_masks=signals.keep_masks,
    )
    np.testing.assert_array_equal(by_record.thresholds_, by_keywords.thresholds_)
    assert fit_method(ThresholdAttack(signal="loss"), signals).thresholds_ == (
        pytest.approx(by_record.thresholds_)
    )
    assert signals.fit_kwargs()["keep_masks"] is signals.keep_masks
    assert set(signals.fit_kwargs()) == {
        "proba", "y", "X", "log_proba", "shadow_proba", "shadow_log_proba",
        "keep_masks", "shadows", "target", "random_state",
    }


class _KeywordMethod(AttackMethod):
    """A method of the keyword form, as users wrote them."""

    def fit(self, proba, y, X=None, *, shadow_proba=None, keep_masks=None,
            **unused):
        self.unused_ = sorted(unused)
        self.n_shadow_ = np.shape(keep_masks)[0]
        return super().fit(proba, y, X)  # the base fit returns self

    def decision_function(self, proba, y, X=None):
        return np.zeros(len(y))


class _ExtendedThreshold(ThresholdAttack):
    """A built-in method whose keyword fit a user extends."""

    def fit(self, proba, y, X=None, **kwargs):
        self.extended_ = True
        return super().fit(proba, y, X, **kwargs)


def test_methods_of_the_keyword_form_still_fit():
    signals = _signals()
    method = fit_method(_KeywordMethod(), signals)
    assert method.n_shadow_ == 4
    assert method.unused_ == [
        "log_proba", "random_state", "shadow_log_proba", "shadows", "target",
    ]
    again = _KeywordMethod().fit_signals(signals)  # the record reaches it too
    assert again.n_shadow_ == 4

    extended = fit_method(_ExtendedThreshold(signal="loss"), signals)
    assert extended.extended_
    np.testing.assert_array_equal(
        extended.thresholds_,
        ThresholdAttack(signal="loss").fit_signals(signals).thresholds_,
    )


@pytest.mark.parametrize("name", sorted(_names.ATTACKS), ids=str)
def test_built_in_methods_implement_fit_signals(name):
    # the keyword fit is the compatibility path for users' methods only; a
    # method with nothing to calibrate (correctness) keeps the base's
    assert get_method(name).fit is AttackMethod.fit


def test_estimator_drives_a_keyword_method(forest, splits, scratch_name):
    _, _, (Xp, yp) = splits
    register_method(scratch_name)(_KeywordMethod)
    mia = MembershipInferenceAttack(forest, method=scratch_name, n_shadow=2,
                                    random_state=0).fit(Xp, yp)
    assert mia.method_.n_shadow_ == 2
    assert mia.method_.unused_ == [
        "log_proba", "random_state", "shadow_log_proba", "shadows", "target",
    ]
