import json
import os

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.tree import DecisionTreeClassifier

from wsmooth.attacks import (
    align_proba,
    fit_shadow_models,
    make_keep_masks,
    train_shadow_models,
)


class CountingTree(ClassifierMixin, BaseEstimator):
    """A decision tree that appends a line to ``log_path`` on every fit."""

    def __init__(self, log_path=None, max_depth=None, random_state=None):
        self.log_path = log_path
        self.max_depth = max_depth
        self.random_state = random_state

    def fit(self, X, y):
        with open(self.log_path, "a") as f:
            f.write("fit\n")
        self.tree_ = DecisionTreeClassifier(
            max_depth=self.max_depth, random_state=self.random_state
        ).fit(X, y)
        self.classes_ = self.tree_.classes_
        return self

    def predict_proba(self, X):
        return self.tree_.predict_proba(X)


def n_fits(path):
    return len(open(path).read().splitlines()) if os.path.exists(path) else 0


@pytest.fixture
def population(splits):
    return splits[2]


@pytest.mark.parametrize("n_models", [1, 2, 5, 8])
def test_keep_masks_scheme(n_models):
    y = np.repeat([0, 1, 2], [11, 20, 7])
    keep = make_keep_masks(len(y), n_models, random_state=0, y=y)
    assert keep.shape == (n_models, len(y)) and keep.dtype == bool
    for a in range(0, n_models - 1, 2):  # complementary pairs
        assert np.array_equal(keep[a], ~keep[a + 1])
    per_record = keep.sum(axis=0)
    if n_models % 2 == 0:
        assert np.all(per_record == n_models // 2)
    else:
        assert set(per_record) <= {n_models // 2, n_models // 2 + 1}
    for c, count in zip(range(3), [11, 20, 7], strict=True):  # half of each class
        in_class = keep[:, y == c].sum(axis=1)
        assert np.all(np.abs(in_class - count / 2) <= 0.5)
    # deterministic, and a prefix of a larger set of masks
    assert np.array_equal(keep, make_keep_masks(len(y), n_models, 0, y=y))
    assert np.array_equal(
        keep, make_keep_masks(len(y), n_models + 3, 0, y=y)[:n_models]
    )
    assert not np.array_equal(
        make_keep_masks(len(y), 2, 0, y=y), make_keep_masks(len(y), 2, 1, y=y)
    )


def test_align_proba_fills_missing_classes():
    proba = np.array([[0.25, 0.75], [1.0, 0.0]])
    out = align_proba(proba, ["b", "d"], np.array(["a", "b", "c", "d"]))
    assert np.array_equal(out, [[0, 0.25, 0, 0.75], [0, 1.0, 0, 0]])
    assert align_proba(proba, [0, 1], [0, 1]) is not None
    with pytest.raises(ValueError, match="not among the target's classes"):
        align_proba(proba, ["b", "z"], ["a", "b"])
    with pytest.raises(ValueError, match="shape"):
        align_proba(proba, ["a", "b", "c"], ["a", "b", "c"])


def test_parallel_equals_sequential(population):
    X, y = population
    template = DecisionTreeClassifier(max_features=0.5)  # randomised by its seed
    keep = make_keep_masks(len(y), 4, 0, y=y)
    seq = train_shadow_models(template, X, y, keep, random_state=0)
    par = train_shadow_models(template, X, y, keep, random_state=0, n_jobs=2)
    for a, b in zip(seq, par, strict=True):
        assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    # each model got its own seed
    assert len({m.random_state for m in seq}) == 4


def test_dask_backend_runs_unchanged(population):
    distributed = pytest.importorskip("dask.distributed")
    X, y = population
    template = DecisionTreeClassifier(max_features=0.5)
    seq = fit_shadow_models(template, X, y, n_shadow=2, random_state=0)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2):
        with joblib.parallel_backend("dask"):
            dsk = fit_shadow_models(template, X, y, n_shadow=2, random_state=0)
    assert np.array_equal(seq.predict_proba(X), dsk.predict_proba(X))


def test_cache_reuses_and_resumes(population, tmp_path):
    X, y = population
    log = str(tmp_path / "fits.log")
    cache = tmp_path / "cache"
    template = CountingTree(log_path=log)
    first = fit_shadow_models(
        template, X, y, n_shadow=4, random_state=0, cache_dir=cache
    )
    assert n_fits(log) == 4 and first.n_trained == 4
    again = fit_shadow_models(
        template, X, y, n_shadow=4, random_state=0, cache_dir=cache
    )
    assert n_fits(log) == 4 and again.n_trained == 0
    assert np.array_equal(first.predict_proba(X), again.predict_proba(X))
    assert np.array_equal(first.keep_masks, again.keep_masks)
    # an interrupted run: one file missing -> only that model is retrained
    os.remove(cache / "shadow_0002.json")
    resumed = fit_shadow_models(
        template, X, y, n_shadow=4, random_state=0, cache_dir=cache
    )
    assert n_fits(log) == 5 and resumed.n_trained == 1
    assert np.array_equal(first.predict_proba(X), resumed.predict_proba(X))
    # more shadow models extend the same cache
    fit_shadow_models(template, X, y, n_shadow=6, random_state=0, cache_dir=cache)
    assert n_fits(log) == 7
    # random_state=None continues the cache with its own seed
    cont = fit_shadow_models(template, X, y, n_shadow=6, cache_dir=cache)
    assert n_fits(log) == 7
    assert np.array_equal(cont.keep_masks[:4], first.keep_masks)
    assert not [p for p in os.listdir(cache) if p.startswith(".tmp")]
    assert set(json.load(open(cache / "manifest.json"))) >= {
        "template",
        "population",
        "classes",
        "entropy",
    }


def test_cache_mismatch_is_an_error(population, tmp_path):
    X, y = population
    log = str(tmp_path / "fits.log")
    cache = tmp_path / "cache"
    template = CountingTree(log_path=log)
    fit_shadow_models(template, X, y, n_shadow=2, random_state=0, cache_dir=cache)
    with pytest.raises(ValueError, match="another population"):
        fit_shadow_models(
            template, X[:-1], y[:-1], n_shadow=2, random_state=0, cache_dir=cache
        )
    with pytest.raises(ValueError, match="another shadow model configuration"):
        fit_shadow_models(
            CountingTree(log_path=log, max_depth=3),
            X,
            y,
            n_shadow=2,
            random_state=0,
            cache_dir=cache,
        )
    with pytest.raises(ValueError, match="another set of target classes"):
        fit_shadow_models(
            template,
            X,
            y,
            n_shadow=2,
            classes=[0, 1, 2, 3, 4],
            random_state=0,
            cache_dir=cache,
        )
    with pytest.raises(ValueError, match="another random_state"):
        fit_shadow_models(template, X, y, n_shadow=2, random_state=1, cache_dir=cache)
    # the template's own random_state is overridden per model: not a mismatch
    fit_shadow_models(
        CountingTree(log_path=log, random_state=5),
        X,
        y,
        n_shadow=2,
        random_state=0,
        cache_dir=cache,
    )
    assert n_fits(log) == 2


def test_shadow_missing_a_class_is_aligned(population):
    X, y = population
    sel = y != 3  # the shadows never see class 3
    shadows = fit_shadow_models(
        DecisionTreeClassifier(),
        X[sel],
        y[sel],
        n_shadow=2,
        classes=np.array([0, 1, 2, 3]),
        random_state=0,
    )
    proba = shadows.predict_proba(X[:5])
    assert proba.shape == (2, 5, 4)
    assert np.all(proba[..., 3] == 0)
    assert np.allclose(proba.sum(axis=-1), 1)


def test_progress_bar(population, capsys):
    X, y = population
    fit_shadow_models(
        DecisionTreeClassifier(), X, y, n_shadow=2, random_state=0, verbose=1
    )
    assert "shadow models" in capsys.readouterr().err


class InterruptibleTree(ClassifierMixin, BaseEstimator):
    """A decision tree counting its fits in class-level state; it raises once
    ``fail_after`` fits have succeeded. The trigger is not a parameter, so the
    cache fingerprint is the same with and without it."""

    n_fits = 0
    fail_after = None

    def __init__(self, max_features=0.5, random_state=None):
        self.max_features = max_features
        self.random_state = random_state

    def fit(self, X, y):
        cls = type(self)
        if cls.fail_after is not None and cls.n_fits >= cls.fail_after:
            raise KeyboardInterrupt(f"interrupted after {cls.n_fits} models")
        self.tree_ = DecisionTreeClassifier(
            max_features=self.max_features, random_state=self.random_state
        ).fit(X, y)
        self.classes_ = self.tree_.classes_
        cls.n_fits += 1
        return self

    def predict_proba(self, X):
        return self.tree_.predict_proba(X)


@pytest.fixture
def interruptible():
    yield InterruptibleTree
    InterruptibleTree.n_fits, InterruptibleTree.fail_after = 0, None


def test_interrupted_run_resumes_with_the_same_scores(
    interruptible, forest, splits, tmp_path
):
    from wsmooth.attacks import MembershipInferenceAttack

    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    X_pool, y_pool = np.vstack([Xm, Xn, Xp]), np.r_[ym, yn, yp]

    def attack(cache):
        return MembershipInferenceAttack(
            forest,
            method="lira",
            n_shadow=6,
            shadow_estimator=interruptible(),
            cache_dir=cache,
            random_state=0,
        )

    interruptible.fail_after = 2
    with pytest.raises(KeyboardInterrupt):
        attack(tmp_path / "a").fit(X_pool, y_pool)
    stored = sorted(p.name for p in (tmp_path / "a").glob("shadow_*.json"))
    assert stored == ["shadow_0000.json", "shadow_0001.json"]

    interruptible.fail_after, interruptible.n_fits = None, 0
    resumed = attack(tmp_path / "a").fit(X_pool, y_pool)
    assert interruptible.n_fits == 4 and resumed.shadow_models_.n_trained == 4

    interruptible.n_fits = 0
    fresh = attack(tmp_path / "b").fit(X_pool, y_pool)
    assert interruptible.n_fits == 6
    X, y = np.vstack([Xm, Xn]), np.r_[ym, yn]
    assert np.array_equal(
        resumed.decision_function(X, y), fresh.decision_function(X, y)
    )
    # a second attack on the same target reuses every model
    again = attack(tmp_path / "a").set_params(method="rmia").fit(X_pool, y_pool)
    assert again.shadow_models_.n_trained == 0 and interruptible.n_fits == 6


class SpyReferenceLR(ClassifierMixin, BaseEstimator):
    """A classifier that takes a reference set and records, as fitted
    attributes, the record ids (column 0) it trained on and was given as
    reference."""

    def __init__(self, takes_reference=True, random_state=None):
        self.takes_reference = takes_reference
        self.random_state = random_state

    def fit(self, X, y, X_reference=None, y_reference=None):
        self.trained_ids_ = np.sort(X[:, 0].astype(int))
        self.reference_ids_ = (
            None if X_reference is None else np.sort(X_reference[:, 0].astype(int))
        )
        self.reference_labels_ = y_reference
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))

    def __privacy_tags__(self):
        from wsmooth.utils import PrivacyTags

        return PrivacyTags(takes_reference=self.takes_reference)


def _ids_population(n=120, n_classes=3):
    y = np.arange(n) % n_classes
    X = np.column_stack([np.arange(n), np.random.default_rng(0).normal(size=n)])
    return X, y


@pytest.mark.parametrize("n_shadow", [1, 4])
def test_shadow_reference_is_drawn_from_its_out_records(n_shadow):
    from wsmooth.attacks._shadow import SHADOW_REFERENCE_FRACTION

    X, y = _ids_population()
    shadows = fit_shadow_models(
        SpyReferenceLR(), X, y, n_shadow=n_shadow, random_state=0
    )
    ref = shadows.reference_masks
    assert ref.shape == shadows.keep_masks.shape
    for s, model in enumerate(shadows.models):
        keep = shadows.keep_masks[s]
        # members: exactly the records the keep mask says, nothing held out
        np.testing.assert_array_equal(model.trained_ids_, np.flatnonzero(keep))
        # the reference: records this model did not train on, as ref says
        np.testing.assert_array_equal(model.reference_ids_, np.flatnonzero(ref[s]))
        assert not (ref[s] & keep).any()
        np.testing.assert_array_equal(model.reference_labels_, y[ref[s]])
        # a stratified fraction of the OUT records
        for c in range(3):
            out_c = (~keep & (y == c)).sum()
            assert abs(ref[s][y == c].sum() - SHADOW_REFERENCE_FRACTION * out_c) < 1
    # the same draw again (the cache relies on it), another with another seed
    again = fit_shadow_models(SpyReferenceLR(), X, y, n_shadow=n_shadow, random_state=0)
    np.testing.assert_array_equal(again.reference_masks, ref)
    other = fit_shadow_models(SpyReferenceLR(), X, y, n_shadow=n_shadow, random_state=1)
    assert not np.array_equal(other.reference_masks, ref)


def test_template_without_reference_gets_none():
    X, y = _ids_population()
    shadows = fit_shadow_models(
        SpyReferenceLR(takes_reference=False), X, y, n_shadow=2, random_state=0
    )
    assert shadows.reference_masks is None
    assert all(m.reference_ids_ is None for m in shadows.models)
    for s, model in enumerate(shadows.models):
        np.testing.assert_array_equal(
            model.trained_ids_, np.flatnonzero(shadows.keep_masks[s])
        )


def test_train_shadow_models_passes_the_reference_too(tmp_path):
    X, y = _ids_population()
    keep = make_keep_masks(len(y), 2, 0, y=y)
    models = train_shadow_models(SpyReferenceLR(), X, y, keep, random_state=0)
    for s, model in enumerate(models):
        assert model.reference_ids_ is not None
        assert not np.isin(model.reference_ids_, np.flatnonzero(keep[s])).any()


def test_attack_shadows_of_a_reference_defence_train_on_their_keep_mask():
    # Through the attack: the shadows of a MemGuard-like target train on their
    # whole keep mask (before, the defence held 20% of it out, labelled IN).
    from wsmooth.attacks import MembershipInferenceAttack

    X, y = _ids_population()
    target = SpyReferenceLR().fit(X[::2], y[::2])
    attack = MembershipInferenceAttack(
        target, method="loss", n_shadow=2, random_state=0
    )
    attack.fit(X, y)
    shadows = attack.shadow_models_
    for s, model in enumerate(shadows.models):
        np.testing.assert_array_equal(
            model.trained_ids_, np.flatnonzero(shadows.keep_masks[s])
        )
        assert not np.isin(model.reference_ids_, model.trained_ids_).any()


def test_reference_masks_refuse_a_model_without_out_records():
    from wsmooth.attacks._shadow import reference_masks

    with pytest.raises(ValueError, match="none is left for its reference"):
        reference_masks(np.ones((1, 5), dtype=bool), [0])
