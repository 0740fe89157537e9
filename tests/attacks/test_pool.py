import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from wsmooth.attacks import MembershipInferenceAttack, PoolSplit, pool_split

pytestmark = pytest.mark.filterwarnings("ignore:FPR level.*below 1/n_nonmembers")


def test_pool_split_partitions_and_stratifies():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.repeat([0, 1, 2, 3], [20, 40, 60, 80])
    split = pool_split(X, y, random_state=0)
    assert isinstance(split, PoolSplit)
    Xp, yp, Xm, ym, Xn, yn, mask = split
    assert Xp is split.X_pool and np.array_equal(Xp, X) and np.array_equal(yp, y)
    assert mask.sum() == 100 and len(Xm) == 100 and len(Xn) == 100
    np.testing.assert_array_equal(Xm, X[mask])
    np.testing.assert_array_equal(Xn, X[~mask])
    # stratified: each class exactly halved
    np.testing.assert_array_equal(np.bincount(ym), [10, 20, 30, 40])
    np.testing.assert_array_equal(np.bincount(yn), [10, 20, 30, 40])
    again = pool_split(X, y, random_state=0)
    assert np.array_equal(again.member_mask, mask)
    other = pool_split(X, y, member_fraction=0.25, random_state=1)
    assert other.member_mask.sum() == 50


def test_pool_split_small_class_and_bad_input():
    X, y = np.arange(10.0)[:, None], np.r_[np.zeros(9, int), 1]
    split = pool_split(X, y, random_state=0)  # one record of class 1: plain
    assert split.member_mask.sum() == 5
    with pytest.raises(ValueError, match="member_fraction"):
        pool_split(X, y, member_fraction=1.0)
    with pytest.raises(ValueError, match="too few"):
        pool_split(X[:1], y[:1])


@pytest.mark.filterwarnings("ignore:.*not in the attack's population")
@pytest.mark.parametrize("method", ["lira", "rmia"])
def test_variant_in_report(splits, method):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    X, y = np.vstack([Xm, Xn]), np.r_[ym, yn]
    split = pool_split(X, y, random_state=0)  # Xp: a disjoint population
    target = RandomForestClassifier(
        n_estimators=20, min_samples_leaf=2, random_state=0
    ).fit(split.X_members, split.y_members)
    kw = dict(method=method, n_shadow=4, random_state=0)
    mia = MembershipInferenceAttack(target, **kw).fit(split.X_pool, split.y_pool)
    assert mia.variant_ == "online"
    query = split.X_members, split.y_members, split.X_nonmembers, split.y_nonmembers
    report = mia.evaluate(*query)
    n_m, n_n = len(split.y_members), len(split.y_nonmembers)
    assert report.variant == "online"
    assert report.variant_counts == {
        "members": {"online": n_m}, "nonmembers": {"online": n_n}
    }
    assert "variant online" in str(report) and "variant='online'" in repr(report)
    assert report.to_dict()["variant"] == "online"

    # The disjoint protocol: "online" runs offline, and the report says so.
    half = len(yp) // 2
    disjoint = MembershipInferenceAttack(target, **kw).fit(Xp, yp)
    with pytest.warns(UserWarning, match="not in the attack's population"):
        report = disjoint.evaluate(*query)
    assert report.variant == "offline"
    assert set(disjoint.query_variants(Xm, ym)) == {"offline"}

    # Members in the pool, non-members outside it: two scales in one ROC.
    partial = MembershipInferenceAttack(target, **kw).fit(
        np.vstack([split.X_members, Xp[:half]]), np.r_[split.y_members, yp[:half]]
    )
    with pytest.warns(UserWarning, match="different variants"):
        report = partial.evaluate(*query)
    assert report.variant == "mixed"
    assert report.variant_counts == {
        "members": {"online": n_m}, "nonmembers": {"offline": n_n}
    }
    assert (
        f"variant mixed (members {n_m} online; nonmembers {n_n} offline)"
        in str(report)
    )


def test_methods_without_variants(forest, splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    mia = MembershipInferenceAttack(forest, method="loss", random_state=0).fit(Xp, yp)
    report = mia.evaluate(Xm, ym, Xn, yn)
    assert mia.variant_ is None and report.variant is None
    assert mia.query_variants(Xm, ym) is None
    assert "variant" not in str(report) and "variant" not in report.to_dict()
