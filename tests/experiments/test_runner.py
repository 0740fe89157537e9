"""run_experiment: the pool protocol, shared shadows, caching and resuming."""

import glob
import inspect
import json
import os

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from wsmooth.experiments import (
    ExperimentResults,
    hold_out_test,
    member_mask,
    run_experiment,
)
from wsmooth.experiments._split import reference_mask

# 0.1% FPR of 120 non-members, and LogisticRegression's convergence on
# C=1e4: expected here, not what these tests are about.
pytestmark = [
    pytest.mark.filterwarnings("ignore:FPR level"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

N_SHADOW = 4
ATTACKS = ["loss", "lira"]


def _defences(estimator):
    return {
        "none": (estimator(max_iter=200), [{"C": 1e4}]),
        "l2": (estimator(max_iter=200), {"C": [1.0, 0.01]}),
    }


def _run(data, estimator, cache_dir, **kwargs):
    kwargs = {"attacks": ATTACKS, "seeds": 2, "n_shadow": N_SHADOW, **kwargs}
    return run_experiment(*data, _defences(estimator), cache_dir=cache_dir, **kwargs)


def test_one_row_per_cell_and_attack(data, counting_lr, tmp_path):
    results = _run(data, counting_lr, tmp_path)
    assert isinstance(results, ExperimentResults)
    assert len(results) == 3 * 2 * len(ATTACKS)  # settings x seeds x attacks
    assert results.undefended == "none"
    assert results.settings() == [("none", "C=10000"), ("l2", "C=1"), ("l2", "C=0.01")]
    assert results.seeds == [0, 1] and results.attacks == ATTACKS
    assert results.meta["n_pool"] == 240 and results.meta["n_test"] == 60
    assert results.meta["n_members"] == results.meta["n_nonmembers"] == 120
    assert results.meta["n_shadow"] == N_SHADOW
    assert results.meta["attacks"]["lira"] == {"method": "lira", "method_params": {}}
    for r in results:
        for f in ("test_accuracy", "train_accuracy", "auc", "tpr@1%fpr"):
            assert 0.0 <= r[f] <= 1.0
        assert r["fit_seconds"] > 0
    # The protocol's shapes: 20% test, the target on half of the pool; each
    # cell fits one target and N_SHADOW shadows, shared by both attacks.
    n_pool = 240
    assert len(counting_lr.fits) == 6 * (1 + N_SHADOW)
    half = n_pool // 2
    assert {n for _, n in counting_lr.fits} <= {half - 1, half, half + 1}
    # the attacks of one cell see the same target
    by_cell = {}
    for r in results:
        by_cell.setdefault((r["setting"], r["seed"]), set()).add(r["test_accuracy"])
    assert all(len(v) == 1 for v in by_cell.values())
    # strong L2 makes the target less accurate on its own members
    summary = {(s["setting"], s["attack"]): s for s in results.summary()}
    assert (
        summary["C=0.01", "loss"]["train_accuracy_mean"]
        < summary["C=10000", "loss"]["train_accuracy_mean"]
    )


def test_seeds_change_members_and_training(data, counting_lr, tmp_path):
    results = _run(data, counting_lr, tmp_path, seeds=np.array([3, 7]))
    rows = [r for r in results if r["setting"] == "C=10000" and r["attack"] == "loss"]
    assert [r["seed"] for r in rows] == [3, 7]
    assert rows[0]["auc"] != rows[1]["auc"]


def test_rerun_reads_every_cell_from_the_cache(data, counting_lr, tmp_path):
    first = _run(data, counting_lr, tmp_path)
    counting_lr.fits.clear()
    second = run_experiment(
        *data, _defences(counting_lr), attacks=ATTACKS, seeds=2,
        n_shadow=N_SHADOW, cache_dir=tmp_path,
    )
    assert counting_lr.fits == []
    assert second.rows == first.rows
    assert len(glob.glob(os.path.join(tmp_path, "cells", "*.json"))) == 6


def test_changed_code_is_rerun_not_reused(data, counting_lr, tmp_path, monkeypatch):
    # A finished cell and its shadow models stand for the code that made them:
    # after a change of the estimator's or the attacks' code a rerun on the
    # same cache computes them afresh (before, it reused the stale cells, or
    # the shadow cache refused the new code with an error).
    from wsmooth.utils import _fingerprint

    _run(data, counting_lr, tmp_path, seeds=1)
    counting_lr.fits.clear()
    monkeypatch.setattr(_fingerprint, "code_digest", lambda obj: "another version")
    with pytest.warns(UserWarning, match="made by other code"):
        _run(data, counting_lr, tmp_path, seeds=1)
    assert len(counting_lr.fits) == 3 * (1 + N_SHADOW)
    # each stale cell is replaced by its recomputed one
    assert len(glob.glob(os.path.join(tmp_path, "cells", "*.json"))) == 3


@pytest.mark.parametrize(
    "damage", [b"", b"{not json", b"[13]", b'{"format": 1, "key": 3}', b"\xff\xfe"]
)
def test_damaged_cell_is_recomputed_not_trusted(data, counting_lr, tmp_path, damage):
    first = _run(data, counting_lr, tmp_path, seeds=1)
    cells = sorted((tmp_path / "cells").glob("*.json"))
    cells[0].write_bytes(damage)
    counting_lr.fits.clear()
    again = _run(data, counting_lr, tmp_path, seeds=1)
    assert len(counting_lr.fits) == 1  # that cell's target; its shadows are cached

    def figures(rows):
        return [{k: v for k, v in r.items() if not k.endswith("_seconds")} for r in rows]

    assert figures(again.rows) == figures(first.rows)


def test_interrupted_run_resumes_without_retraining(data, counting_lr, tmp_path):
    fresh = _run(data, counting_lr, tmp_path / "fresh")
    counting_lr.fits.clear()

    def stop_after_two(info):
        if info["done"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiment(
            *data, _defences(counting_lr), attacks=ATTACKS, seeds=2,
            n_shadow=N_SHADOW, cache_dir=tmp_path / "run", callback=stop_after_two,
        )
    assert len(counting_lr.fits) == 2 * (1 + N_SHADOW)
    counting_lr.fits.clear()
    seen = []
    resumed = _run(data, counting_lr, tmp_path / "run", callback=seen.append)
    # only the 4 cells that did not finish are trained again
    assert len(counting_lr.fits) == 4 * (1 + N_SHADOW)
    assert [info["cached"] for info in seen] == [True, True, False, False, False, False]
    assert resumed.rows == [
        {**r, "fit_seconds": r2["fit_seconds"], "attack_seconds": r2["attack_seconds"]}
        for r, r2 in zip(fresh.rows, resumed.rows, strict=True)
    ]


def test_interrupt_inside_a_cell_leaves_no_partial_cell(
    data, counting_lr, tmp_path, monkeypatch
):
    from wsmooth.attacks import MembershipInferenceAttack

    evaluate = MembershipInferenceAttack.evaluate
    calls = []

    def interrupted_evaluate(self, *args, **kwargs):
        calls.append(self.method)
        if len(calls) == 2:  # the second attack of the first cell
            raise KeyboardInterrupt
        return evaluate(self, *args, **kwargs)

    monkeypatch.setattr(MembershipInferenceAttack, "evaluate", interrupted_evaluate)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(
            *data, _defences(counting_lr), attacks=ATTACKS, seeds=1,
            n_shadow=N_SHADOW, cache_dir=tmp_path,
        )
    assert glob.glob(os.path.join(tmp_path, "cells", "*")) == []  # no partial file
    monkeypatch.setattr(MembershipInferenceAttack, "evaluate", evaluate)
    counting_lr.fits.clear()
    results = _run(data, counting_lr, tmp_path, seeds=1)
    assert len(results) == 3 * len(ATTACKS)
    # the first cell's shadow models were cached: only its target retrains
    assert len(counting_lr.fits) == 1 + 2 * (1 + N_SHADOW)


def test_changed_run_does_not_reuse_stale_cells(data, counting_lr, tmp_path):
    _run(data, counting_lr, tmp_path, seeds=1)
    counting_lr.fits.clear()
    _run(data, counting_lr, tmp_path, seeds=1, attacks=["loss"])
    # new cells (other attacks), but the shadow models are reused
    assert len(counting_lr.fits) == 3


def test_threading_backend_gives_the_sequential_results(data, counting_lr, tmp_path):
    sequential = _run(data, counting_lr, tmp_path / "a", seeds=1)
    with joblib.parallel_backend("threading", n_jobs=2):
        threaded = _run(data, counting_lr, tmp_path / "b", seeds=1, n_jobs=2)
    def strip(results):
        return [
            {k: v for k, v in r.items() if not k.endswith("seconds")} for r in results
        ]

    assert strip(sequential) == strip(threaded)


def test_no_cache_dir_still_shares_shadows(data, counting_lr, capsys):
    results = _run(data, counting_lr, None, seeds=1, verbose=1)
    assert "3/3" in capsys.readouterr().err  # the progress bar over cells
    assert len(results) == 3 * len(ATTACKS)
    assert len(counting_lr.fits) == 3 * (1 + N_SHADOW)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"defences": {}}, "defences is empty"),
        ({"defences": {"x": object()}}, "unfitted estimator or a pair"),
        ({"grid": {"C": 1.0}}, "needs to be a list"),
        ({"grid": {"nope": [1]}}, "Invalid parameter 'nope'"),
        ({"attacks": ["no-such-attack"]}, "no-such-attack"),
        ({"attacks": []}, "attacks is empty"),
        ({"seeds": 0}, "seeds"),
        ({"seeds": [1, 1]}, "distinct"),
        ({"undefended": "ws"}, "not a configuration"),
    ],
)
def test_bad_arguments_fail_before_any_training(data, counting_lr, kwargs, match):
    grid = kwargs.pop("grid", None)
    defences = kwargs.pop("defences", {"none": (counting_lr(), grid)})
    with pytest.raises((ValueError, TypeError), match=match):
        run_experiment(*data, defences, **kwargs)
    assert counting_lr.fits == []


def test_hold_out_test_and_member_mask(data):
    X, y = data
    X_pool, y_pool, X_test, y_test = hold_out_test(X, y, test_size=0.2, random_state=0)
    assert len(y_pool) == 240 and len(y_test) == 60
    # stratified: class proportions kept
    assert np.abs(np.bincount(y_test) / 60 - np.bincount(y) / 300).max() < 0.02
    for seed in (0, 1):
        mask = member_mask(y_pool, seed)
        assert mask.sum() == 120
        # half of every class
        assert np.abs(np.bincount(y_pool[mask]) - np.bincount(y_pool) / 2).max() <= 1
    assert not np.array_equal(member_mask(y_pool, 0), member_mask(y_pool, 1))
    assert np.array_equal(member_mask(y_pool, 0), member_mask(y_pool, 0))
    odd = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 3])  # 11 records, 3 odd classes
    masks = np.array([member_mask(odd, s) for s in range(50)])
    assert (masks.sum(axis=1) == 5).all()
    assert masks[:, 10].any() and not masks[:, 10].all()  # the lone record moves


def test_hold_out_test_without_enough_records_per_class():
    y = np.array([0] * 10 + [1])  # class 1 has one record: no stratification
    X = np.arange(11.0)[:, None]
    X_pool, y_pool, X_test, y_test = hold_out_test(X, y, test_size=0.3, random_state=0)
    assert len(y_pool) + len(y_test) == 11




def test_weighted_smoothing_end_to_end(tmp_path):
    from wsmooth import WeightedSmoothingClassifier
    from wsmooth.datasets import make_purchase_like

    X, y = make_purchase_like(400, n_classes=4, random_state=0)
    ws = WeightedSmoothingClassifier(
        module__hidden_layer_sizes=(16,), max_epochs=3, warmup_epochs=1
    )
    results = run_experiment(
        X, y, {"none": (ws, [{"sigma": 0.0}]), "ws": (ws, [{"sigma": 0.5}])},
        attacks=["loss"], seeds=1, n_shadow=2, cache_dir=tmp_path,
    )
    assert [r["setting"] for r in results] == ["sigma=0", "sigma=0.5"]
    assert [r["params"] for r in results] == [{"sigma": 0.0}, {"sigma": 0.5}]
    assert all(0.0 <= r["auc"] <= 1.0 for r in results)


def test_shadows_of_a_ws_target_train_as_the_target(tmp_path, monkeypatch):
    from wsmooth import WeightedSmoothingClassifier
    from wsmooth.datasets import make_purchase_like
    from wsmooth.defences import get_defence

    fitted = []
    original = WeightedSmoothingClassifier.fit

    def spy(self, X, y, **fit_params):
        fitted.append(self.get_params(deep=False))
        return original(self, X, y, **fit_params)

    monkeypatch.setattr(WeightedSmoothingClassifier, "fit", spy)
    X, y = make_purchase_like(400, n_classes=4, random_state=0)
    ws = get_defence("ws").build(
        module__hidden_layer_sizes=(16,), max_epochs=3, warmup_epochs=1
    )
    run_experiment(X, y, {"ws": (ws, [{"sigma": 0.5}])}, attacks=["lira"],
                   seeds=1, n_shadow=2, cache_dir=tmp_path)
    assert len(fitted) == 3  # the target and its two shadows
    target, *shadows = fitted
    defaults = WeightedSmoothingClassifier().get_params(deep=False)
    for name in ("refresh", "weighting", "clip_grad_relative", "clip_grad_norm"):
        assert target[name] == defaults[name]
    assert target["sigma"] == 0.5
    for shadow in shadows:
        assert {**shadow, "random_state": None} == {**target, "random_state": None}


def test_setting_labels_name_what_varies():
    from sklearn.neural_network import MLPClassifier

    from wsmooth.experiments._specs import _settings

    _, labels = _settings(
        "wd", (MLPClassifier(), {"alpha": [1e-3, 1e-2], "max_iter": [5]})
    )
    assert list(labels) == ["alpha=0.001", "alpha=0.01"]
    assert labels["alpha=0.01"] == {"alpha": 0.01, "max_iter": 5}
    _, labels = _settings("one", (MLPClassifier(), [{"hidden_layer_sizes": (8,)}]))
    assert list(labels) == ["hidden_layer_sizes=(8,)"]
    _, labels = _settings("none", MLPClassifier())
    assert list(labels) == ["default"]


def test_identical_configurations_share_shadow_models(data, counting_lr, tmp_path):
    defences = {
        "none": (counting_lr(max_iter=200), [{"C": 1.0}]),
        "same": (counting_lr(max_iter=200), [{"C": 1.0}]),
    }
    run_experiment(
        *data, defences, attacks=["loss"], seeds=1, n_shadow=2, cache_dir=tmp_path
    )
    # two targets, one set of shadow models
    assert len(counting_lr.fits) == 2 + 2
    assert len(os.listdir(tmp_path / "shadows")) == 1


def test_dask_backend(data, counting_lr, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        assert client.status == "running"
        with joblib.parallel_backend("dask"):
            results = _run(data, counting_lr, tmp_path / "dask", seeds=1, n_jobs=2)
    sequential = _run(data, counting_lr, tmp_path / "seq", seeds=1)
    assert [r["auc"] for r in results] == [r["auc"] for r in sequential]


def _rows(X):
    return {tuple(r) for r in np.asarray(X)}


def test_reference_slice_is_neither_member_nor_nonmember(data, spy_lr, counting_lr):
    # A defence taking a reference set gets the reserved slice; it trains on
    # all of its members, and the shadows get records they did not train on.
    defences = {"none": counting_lr(max_iter=200), "advreg": spy_lr(max_iter=200)}
    results = run_experiment(
        *data, defences, attacks=["loss"], seeds=[0], n_shadow=2, random_state=0
    )
    X_pool, y_pool, _, _ = hold_out_test(*data, test_size=0.2, random_state=0)
    reserved = reference_mask(y_pool, 0.1, 0)
    X_rest, y_rest = X_pool[~reserved], y_pool[~reserved]
    members = member_mask(y_rest, 0)
    assert results.meta["n_reference"] == reserved.sum() == 24
    assert results.meta["n_pool"] == 216
    assert results.meta["n_members"] == results.meta["n_nonmembers"] == 108
    target, *shadows = spy_lr.fits
    assert len(target["trained"]) == members.sum() == 108
    assert _rows(target["trained"]) == _rows(X_rest[members])
    assert _rows(target["reference"]) == _rows(X_pool[reserved])
    np.testing.assert_array_equal(target["reference_labels"], y_pool[reserved])
    # the undefended net trains on the same members, with no reference
    assert counting_lr.fits[0] == (1.0, 108)
    assert len(shadows) == 2
    for fit in shadows:
        trained, reference = _rows(fit["trained"]), _rows(fit["reference"])
        # the attacker's pool, without the reserved slice
        assert trained <= _rows(X_rest) and reference <= _rows(X_rest)
        assert not trained & reference
        assert len(trained) == 108 and 0 < len(reference) < 108
    # the two shadows are a complementary pair: together, the whole pool
    assert _rows(shadows[0]["trained"]) | _rows(shadows[1]["trained"]) == _rows(X_rest)


def test_nothing_is_reserved_without_a_reference_taker(data, counting_lr):
    results = run_experiment(
        *data, {"none": counting_lr(max_iter=200)}, attacks=["loss"], seeds=1,
        n_shadow=2, reference_size=0.3,
    )
    assert results.meta["n_reference"] == 0 and results.meta["n_pool"] == 240
    assert counting_lr.fits[0][1] == 120


def test_reference_mask_is_stratified_and_fixed(data):
    _, y = data
    mask = reference_mask(y, 0.1, 0)
    assert mask.sum() == 30
    assert np.abs(np.bincount(y[mask]) - np.bincount(y) * 0.1).max() <= 1
    np.testing.assert_array_equal(mask, reference_mask(y, 0.1, 0))
    assert reference_mask(y, 7, 0).sum() == 7


def test_default_attacks_include_label_only():
    default = inspect.signature(run_experiment).parameters["attacks"].default
    assert default == ("lira", "rmia", "label_only")


def test_label_only_added_when_outputs_are_modified(data, modifying_lr, recwarn):
    defences = {"none": modifying_lr(max_iter=200)}
    with pytest.warns(UserWarning, match="label-only attack is added"):
        results = run_experiment(*data, defences, attacks=["loss"], seeds=1, n_shadow=2)
    assert results.attacks == ["loss", "label_only"]
    assert results.meta["attacks"]["label_only"]["method"] == "label_only"
    assert all(0 <= r["auc"] <= 1 for r in results)
    recwarn.clear()
    # a label-only attack already there: nothing added, no warning
    results = run_experiment(
        *data, defences, attacks=["label_only"], seeds=1, n_shadow=2
    )
    assert results.attacks == ["label_only"]
    assert not [w for w in recwarn if "is added" in str(w.message)]


def test_label_only_not_added_for_unmodified_outputs(data, counting_lr, recwarn):
    results = run_experiment(
        *data, {"none": counting_lr(max_iter=200)}, attacks=["loss"], seeds=1,
        n_shadow=2,
    )
    assert results.attacks == ["loss"]
    assert not [w for w in recwarn if "is added" in str(w.message)]


def _damage(cell, how):
    if how == "row removed":
        del cell["rows"][0]
    elif how == "row doubled":
        cell["rows"][1] = dict(cell["rows"][0])
    elif how == "figure nulled":
        cell["rows"][1]["tpr@1%fpr"] = None
    elif how == "no rows":
        cell["rows"] = []
    elif how == "figure out of range":
        cell["rows"][0]["auc"] = 1.5
    elif how == "figure not a number":
        cell["rows"][0]["advantage"] = "0.1"
    elif how == "another seed":
        cell["rows"][0]["seed"] = 7
    elif how == "another setting":
        for r in cell["rows"]:
            r["setting"] = "C=5"


@pytest.mark.parametrize(
    "how",
    ["row removed", "row doubled", "figure nulled", "no rows",
     "figure out of range", "figure not a number", "another seed", "another setting"],
)
def test_damaged_rows_are_recomputed_not_trusted(data, counting_lr, tmp_path, how):
    first = _run(data, counting_lr, tmp_path, seeds=1)
    (path,) = (tmp_path / "cells").glob("none-*.json")
    cell = json.loads(path.read_text())
    _damage(cell, how)
    path.write_text(json.dumps(cell))
    counting_lr.fits.clear()
    with pytest.warns(UserWarning, match="is not trusted"):
        again = _run(data, counting_lr, tmp_path, seeds=1)
    assert len(counting_lr.fits) == 1  # that cell's target; its shadows are cached
    untimed = [
        [{k: v for k, v in r.items() if not k.endswith("_seconds")} for r in rows]
        for rows in (again.rows, first.rows)
    ]
    assert untimed[0] == untimed[1]
    # the file was rewritten whole: a third run trusts it
    counting_lr.fits.clear()
    _run(data, counting_lr, tmp_path, seeds=1)
    assert counting_lr.fits == []


def test_changed_figure_code_is_rerun_not_reused(
    data, counting_lr, tmp_path, monkeypatch
):
    # The metrics, the shadow engine, the splits and the runner make the
    # figures too: a change of their source makes every cell stale.
    from wsmooth.experiments import _runner

    first = _run(data, counting_lr, tmp_path, seeds=1)
    counting_lr.fits.clear()
    monkeypatch.setattr(_runner, "_figure_code", lambda: "another version")
    with pytest.warns(UserWarning, match="made by other code"):
        again = _run(data, counting_lr, tmp_path, seeds=1)
    assert len(counting_lr.fits) == 3 * (1 + N_SHADOW)  # shadows retrained too
    assert [r["auc"] for r in again] == [r["auc"] for r in first]


def test_figure_code_covers_the_figure_modules(monkeypatch):
    from wsmooth.experiments import _runner

    assert "wsmooth.metrics._figures" in _runner.FIGURE_MODULES
    assert "wsmooth.attacks._shadow" in _runner.FIGURE_MODULES
    assert "wsmooth.experiments._split" in _runner.FIGURE_MODULES
    before = _runner._figure_code.__wrapped__()
    getsource = inspect.getsource

    def edited(obj):
        text = getsource(obj)
        return text + "# edited" if obj.__name__ == "wsmooth.metrics._figures" else text

    monkeypatch.setattr(inspect, "getsource", edited)
    assert _runner._figure_code.__wrapped__() != before


def test_model_code_covers_the_modules_of_its_classes(monkeypatch):
    # a helper function beside the model's class (HAMP's output modification)
    # is part of the model's code, and so is a wrapped estimator's module
    from wsmooth import WeightedSmoothingClassifier
    from wsmooth.defences import HAMPClassifier, MemGuard
    from wsmooth.experiments import _runner

    hamp = HAMPClassifier()
    guard = MemGuard(hamp)
    before = (_runner._model_code(hamp), _runner._model_code(guard))
    assert _runner._model_code(WeightedSmoothingClassifier()) != before[0]
    getsource = inspect.getsource

    def edited(obj):
        text = getsource(obj)
        return text + "# edited" if obj.__name__ == "wsmooth.defences._hamp" else text

    monkeypatch.setattr(inspect, "getsource", edited)
    _runner._modules_digest.cache_clear()
    try:
        after = (_runner._model_code(hamp), _runner._model_code(guard))
    finally:
        _runner._modules_digest.cache_clear()
    assert after[0] != before[0] and after[1] != before[1]


class _NeverFitted(LogisticRegression):
    """A defence that must not train: the run fails before its first fit."""

    def fit(self, X, y, sample_weight=None):
        raise AssertionError("a target trained before the attacks were checked")


@pytest.mark.parametrize("attacks, n_shadow, message", [
    ([("rmia", {})], 1, "rmia"),
    ([("lira", {"bogus": 1})], N_SHADOW, "bogus"),
    ([("lira", {"online": "yes"})], N_SHADOW, "online"),
])
def test_attacks_are_checked_before_any_target_trains(data, attacks, n_shadow,
                                                      message, tmp_path):
    with pytest.raises(ValueError, match=message) as info:
        run_experiment(*data, {"none": _NeverFitted()}, attacks=attacks, seeds=1,
                       n_shadow=n_shadow, cache_dir=tmp_path)
    assert str(info.value).startswith("attack ")
    assert not glob.glob(str(tmp_path / "cells" / "*.json"))
