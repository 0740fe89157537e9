"""The GridSearchCV leakage scorer and the bounded refit rule."""

import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from wsmooth import WeightedSmoothingClassifier
from wsmooth.datasets import make_purchase_like
from wsmooth.metrics import (
    make_membership_scorer,
    membership_auc,
    most_accurate_under_leakage,
    tpr_at_fpr,
)

SMALL = dict(
    module__hidden_layer_sizes=(64,),
    max_epochs=12,
    batch_size=32,
    lr=3e-3,
    warmup_epochs=2,
    random_state=0,
)


@pytest.fixture(scope="module")
def split():
    X, y = make_purchase_like(n_samples=600, n_features=60, n_classes=6, random_state=1)
    return X[:300], y[:300], X[300:], y[300:]


@pytest.fixture(scope="module")
def overfit(split):
    X, y, _, _ = split
    return WeightedSmoothingClassifier(sigma=0.0, **SMALL).fit(X, y)


def _neg_loss(proba, y):
    return np.log(np.clip(proba[np.arange(len(y)), y], 1e-30, 1))


def test_scorer_equals_attack_on_members_vs_held_out(split, overfit):
    X, y, X_out, y_out = split
    members = _neg_loss(overfit.predict_proba(X), y)
    nonmembers = _neg_loss(overfit.predict_proba(X_out), y_out)
    scorer = make_membership_scorer("loss")
    assert scorer(overfit, X_out, y_out) == pytest.approx(
        membership_auc(members, nonmembers), abs=1e-6
    )
    tpr = make_membership_scorer("loss", metric="tpr_at_fpr", fpr=0.05)
    assert tpr(overfit, X_out, y_out) == pytest.approx(
        tpr_at_fpr(members, nonmembers, 0.05), abs=1e-6
    )
    assert scorer(overfit, X_out, y_out) > 0.6


def test_scorer_sees_no_leakage_on_members_themselves(split, overfit):
    X, y, _, _ = split
    # scoring the training records against themselves: identical distributions
    assert make_membership_scorer("mentr")(overfit, X, y) == pytest.approx(
        0.5, abs=1e-3
    )


def test_scorer_works_through_a_pipeline_and_with_string_labels(split):
    X, y, X_out, y_out = split
    names = np.array(list("abcdef"))
    pipe = make_pipeline(StandardScaler(), WeightedSmoothingClassifier(**SMALL))
    pipe.fit(X, names[y])
    value = make_membership_scorer("confidence", metric="advantage")(
        pipe, X_out, names[y_out]
    )
    assert 0 <= value <= 1


def test_grid_search_reports_leakage_and_refits_under_a_bound(split):
    X, y, X_out, y_out = split
    X_all, y_all = np.r_[X, X_out], np.r_[y, y_out]
    search = GridSearchCV(
        WeightedSmoothingClassifier(**SMALL),
        {"sigma": [0.0, 5.0]},
        scoring={"accuracy": "accuracy", "leakage": make_membership_scorer("loss")},
        refit=most_accurate_under_leakage(1.0),
        cv=2,
        n_jobs=2,
    ).fit(X_all, y_all)
    leak = search.cv_results_["mean_test_leakage"]
    assert np.all((leak > 0.4) & (leak <= 1))
    acc = search.cv_results_["mean_test_accuracy"]
    assert search.best_index_ == int(np.argmax(acc))
    tight = most_accurate_under_leakage(float(leak.min()))
    assert tight(search.cv_results_) == int(np.argmin(leak))
    with pytest.warns(UserWarning, match="no setting"):
        assert most_accurate_under_leakage(0.0)(search.cv_results_) == int(
            np.argmin(leak))


def test_refit_rule_falls_back_to_the_least_leaky_setting():
    results = {"mean_test_leakage": np.array([0.9, 0.7, np.nan, 0.7]),
               "mean_test_accuracy": np.array([0.95, 0.80, 0.99, 0.85])}
    assert most_accurate_under_leakage(0.8)(results) == 3
    # none within 0.5: the least leaky (0.7), the more accurate of the two
    with pytest.warns(UserWarning, match=r"<= 0.5; the least leaky, index 3 .*0.7"):
        assert most_accurate_under_leakage(0.5)(results) == 3
    with pytest.raises(ValueError, match="no setting has a known"):
        most_accurate_under_leakage(0.5)({
            "mean_test_leakage": np.array([np.nan]),
            "mean_test_accuracy": np.array([0.5])})


def test_member_outputs_do_not_travel_in_pickles(split, overfit):
    _, _, X_out, y_out = split
    loaded = pickle.loads(pickle.dumps(overfit))
    with pytest.raises(ValueError, match="recorded no outputs"):
        make_membership_scorer()(loaded, X_out, y_out)


def test_estimator_without_member_record_is_refused(split):
    X, y, X_out, y_out = split
    with pytest.raises(ValueError, match="recorded no outputs"):
        make_membership_scorer()(LogisticRegression().fit(X, y), X_out, y_out)


def test_bad_scorer_arguments(split, overfit):
    _, _, X_out, y_out = split
    with pytest.raises(ValueError, match="signal"):
        make_membership_scorer("bogus")
    with pytest.raises(ValueError, match="metric"):
        make_membership_scorer(metric="bogus")
    with pytest.raises(ValueError, match="fpr"):
        make_membership_scorer(metric="tpr_at_fpr", fpr=0)
    with pytest.raises(ValueError, match="unknown"):
        make_membership_scorer()(overfit, X_out, y_out + 100)
