"""The method interface takes explicit arrays: a method fits on plain numpy
arrays, with no estimator and no shadow-model object, and scores as the
estimator does on the same data."""

import warnings

import numpy as np
import pytest

from wsmooth.attacks import (
    LabelOnlyAttack,
    LearnedAttack,
    LiRAAttack,
    MembershipInferenceAttack,
    PrivacyRiskAttack,
    RMIAAttack,
    ThresholdAttack,
)

pytestmark = pytest.mark.filterwarnings("ignore:FPR level.*below 1/n_nonmembers")

N_SHADOW = 8  # the carlini_setup cache of test_lira.py / test_rmia.py


def _stack(models, X, log=False):
    name = "predict_log_proba" if log else "predict_proba"
    with np.errstate(divide="ignore"):
        return np.stack([np.asarray(getattr(m, name)(X)) for m in models])


@pytest.mark.parametrize("cls", [LiRAAttack, RMIAAttack])
@pytest.mark.parametrize("online", [True, False])
def test_fit_on_plain_arrays_scores_as_the_estimator(carlini_setup, cls, online):
    target, (X, y), cache = carlini_setup
    mia = MembershipInferenceAttack(
        target,
        method=cls(online=online),
        n_shadow=N_SHADOW,
        cache_dir=cache,
        random_state=0,
    ).fit(X, y)
    # The arrays, read off the models by hand and copied: no estimator, no
    # ShadowModels object reaches the method.
    models = mia.shadow_models_.models
    y_idx = np.searchsorted(target.classes_, y)
    with np.errstate(divide="ignore"):
        log_proba = np.array(target.predict_log_proba(X))
    arrays = dict(
        log_proba=log_proba,
        shadow_proba=_stack(models, X),
        shadow_log_proba=_stack(models, X, log=True),
        keep_masks=np.array(mia.shadow_models_.keep_masks),
    )
    proba = np.array(target.predict_proba(X))
    method = cls(online=online).fit(proba, y_idx, X, **arrays)
    queries = np.arange(0, len(X), 3)  # every query is a population record
    Xq, yq = X[queries], y_idx[queries]
    with np.errstate(divide="ignore"):
        lq = np.array(target.predict_log_proba(Xq))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback: all found in the population
        got = method.decision_function(np.exp(lq), yq, Xq, log_proba=lq)
        want = mia.decision_function(Xq, y[queries])
    np.testing.assert_array_equal(got, want)
    assert np.ptp(got) > 0

    # A query outside the population needs the shadow models, not given here.
    with pytest.raises(ValueError, match="shadows="):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            method.decision_function(
                np.exp(lq[:1]), yq[:1], Xq[:1] + 1e3, log_proba=lq[:1]
            )


def _toy_arrays(n_shadow=4, n_pop=40, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    shadow_proba = rng.dirichlet(np.ones(n_classes), size=(n_shadow, n_pop))
    keep = np.zeros((n_shadow, n_pop), dtype=bool)
    keep[::2] = rng.random((n_shadow // 2, n_pop)) < 0.5
    keep[1::2] = ~keep[::2]
    return dict(
        proba=rng.dirichlet(np.ones(n_classes), size=n_pop),
        y=rng.integers(0, n_classes, n_pop),
        X=rng.normal(size=(n_pop, 2)),
        shadow_proba=shadow_proba,
        shadow_log_proba=np.log(shadow_proba),
        keep_masks=keep,
    )


@pytest.mark.parametrize(
    "method, missing, match",
    [
        (ThresholdAttack(), "shadow_proba", "needs shadow_proba"),
        (ThresholdAttack(), "keep_masks", "needs keep_masks"),
        (LearnedAttack(), "shadow_proba", "needs shadow_proba"),
        (PrivacyRiskAttack(), "keep_masks", "needs keep_masks"),
        (LiRAAttack(), ("shadow_proba", "shadow_log_proba"), "shadow_log_proba or"),
        (LiRAAttack(), "X", "needs X"),
        (RMIAAttack(), "proba", "log_proba or proba"),
        (RMIAAttack(), "keep_masks", "needs keep_masks"),
        (LabelOnlyAttack(), "X", "needs X"),
    ],
)
def test_a_missing_array_is_named(method, missing, match):
    arrays = _toy_arrays()
    for name in (missing,) if isinstance(missing, str) else missing:
        arrays[name] = None
    with pytest.raises(ValueError, match=match):
        method.fit(**arrays)


def test_label_only_names_its_models():
    arrays = _toy_arrays()
    with pytest.raises(ValueError, match="needs shadows"):
        LabelOnlyAttack().fit(**arrays)


@pytest.mark.parametrize("cls", [ThresholdAttack, LiRAAttack, RMIAAttack])
def test_shapes_must_agree(cls):
    arrays = _toy_arrays()
    arrays["keep_masks"] = arrays["keep_masks"][:, :-1]
    with pytest.raises(ValueError, match=r"keep_masks must have shape"):
        cls().fit(**arrays)
    arrays = _toy_arrays()
    arrays["shadow_proba"] = arrays["shadow_proba"][:3]
    arrays["shadow_log_proba"] = arrays["shadow_log_proba"][:3]
    with pytest.raises(ValueError, match=r"shadow_\w*proba must have shape"):
        cls().fit(**arrays)
