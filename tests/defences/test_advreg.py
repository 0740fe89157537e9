import numpy as np
import pytest

from wsmooth.defences import AdversarialRegularizationClassifier, get_defence

from defence_checks import SMALL, check_bad_input, check_estimator_basics, tiny_data


def _make(random_state, **params):
    return AdversarialRegularizationClassifier(
        random_state=random_state, **{**SMALL, **params}
    )


def test_basics_and_bad_input():
    X, y = tiny_data()
    est = check_estimator_basics(_make, X, y)
    # the held-out reference fifth is not trained on
    assert len(est.member_labels_) == len(X) - int(np.ceil(0.2 * len(X)))
    assert not hasattr(est, "_attack")
    check_bad_input(_make, X, y)
    with pytest.raises(ValueError, match="both"):
        _make(0).fit(X, y, X_reference=X[:10])


def test_explicit_reference_set_trains_on_every_record():
    X, y = tiny_data()
    est = _make(0).fit(X[:120], y[:120], X_reference=X[120:], y_reference=y[120:])
    assert len(est.member_labels_) == 120


def test_regularisation_changes_training_and_zero_is_plain():
    X, y = tiny_data()
    kw = dict(X_reference=X[120:], y_reference=y[120:])
    plain = _make(0, reg_lambda=0.0).fit(X[:120], y[:120], **kw)
    game = _make(0, reg_lambda=3.0).fit(X[:120], y[:120], **kw)
    assert not np.allclose(plain.predict_proba(X), game.predict_proba(X))


def test_registered():
    est = get_defence("advreg").build(max_epochs=2)
    assert isinstance(est, AdversarialRegularizationClassifier)


def test_partial_fit_is_absent_with_its_reason():
    est = _make(0)
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError) as info:
        est.partial_fit
    assert "reference set" in str(info.value.__cause__)
    assert "reference set" in type(est).partial_fit.__doc__


def test_missing_y_is_refused_clearly():
    # regression: y=None reached len() of the reference split as a TypeError
    X, _ = tiny_data()
    with pytest.raises(ValueError, match="requires y to be passed"):
        _make(0).fit(X, None)
