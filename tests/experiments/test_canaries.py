"""Canaries: placement, kinds, figures, twin cells, validation, and no change
without them."""

import glob
import json
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from wsmooth.attacks import MembershipInferenceAttack
from wsmooth.experiments import (
    hold_out_test,
    member_mask,
    run_experiment,
    setting_points,
)
from wsmooth.experiments._canaries import (
    KINDS,
    check_canaries,
    make_canaries,
    resolution_warning,
)
from wsmooth.experiments._results import CANARY_FIGURES

pytestmark = [
    pytest.mark.filterwarnings("ignore:FPR level"),
    pytest.mark.filterwarnings("ignore:.*OUT canaries per seed"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

N_SHADOW = 4


class SpyLR(LogisticRegression):
    """LogisticRegression recording the records of every fit."""

    fits = []

    def fit(self, X, y, sample_weight=None):
        SpyLR.fits.append((np.array(X, copy=True), np.array(y, copy=True)))
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def spy():
    SpyLR.fits.clear()
    yield SpyLR
    SpyLR.fits.clear()


def _run(data, estimator=LogisticRegression, **kwargs):
    kwargs = {"attacks": ["lira"], "seeds": 1, "n_shadow": N_SHADOW, **kwargs}
    defences = {"none": (estimator(max_iter=200), [{"C": 1e4}])}
    return run_experiment(*data, defences, **kwargs)


def _records(X, y):
    """A set of (row bytes, label) records."""
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    return {(row.tobytes(), int(label)) for row, label in zip(X, y, strict=True)}


def _without(rows, figures):
    return [{k: v for k, v in r.items() if k not in figures} for r in rows]


#: Times differ between two computations of the same cell.
SECONDS = ("fit_seconds", "attack_seconds")


# ------------------------------------------------------------------ the kinds
def test_mislabelled_canaries_are_pool_rows_with_another_label(data):
    X_pool, y_pool, _, _ = hold_out_test(*data, test_size=0.2, random_state=0)
    X, y, in_target = make_canaries(X_pool, y_pool, 30, "mislabelled", seed=0)
    assert X.shape == (30, X_pool.shape[1]) and y.shape == (30,)
    assert in_target.sum() == 15
    pool_rows = dict(zip((row.tobytes() for row in X_pool), y_pool, strict=True))
    for row, label in zip(X, y, strict=True):
        assert row.tobytes() in pool_rows  # a copy of a pool record ...
        assert label != pool_rows[row.tobytes()]  # ... with another class
        assert label in set(y_pool)
    assert len({row.tobytes() for row in X}) == 30  # distinct source records


def test_canaries_are_repeatable_per_seed_and_leave_the_pool_alone(data):
    X_pool, y_pool, _, _ = hold_out_test(*data, test_size=0.2, random_state=0)
    before = X_pool.copy(), y_pool.copy()
    a = make_canaries(X_pool, y_pool, 20, "mislabelled", seed=3)
    b = make_canaries(X_pool, y_pool, 20, "mislabelled", seed=3)
    c = make_canaries(X_pool, y_pool, 20, "mislabelled", seed=4)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    np.testing.assert_array_equal(X_pool, before[0])
    np.testing.assert_array_equal(y_pool, before[1])


def test_ood_tabular_canaries_lie_in_the_feature_box_with_bits_for_binary():
    rng = np.random.default_rng(0)
    X_pool = np.column_stack(
        [rng.integers(0, 2, 200), rng.normal(5.0, 1.0, 200), rng.integers(0, 2, 200)]
    ).astype(np.float32)
    y_pool = rng.integers(0, 3, 200)
    X, y, in_target = make_canaries(X_pool, y_pool, 40, "ood", seed=0)
    assert X.dtype == np.float32 and X.shape == (40, 3)
    assert set(np.unique(X[:, [0, 2]])) == {0.0, 1.0}
    low, high = X_pool[:, 1].min(), X_pool[:, 1].max()
    assert np.all((X[:, 1] >= low) & (X[:, 1] <= high))
    # uniform over the box, not drawn like the data (normal around 5)
    assert np.std(X[:, 1]) > 1.2 * np.std(X_pool[:, 1])
    assert set(y) <= set(y_pool) and in_target.sum() == 20


def test_ood_image_canaries_are_uniform_noise_images():
    rng = np.random.default_rng(0)
    X_pool = rng.integers(0, 17, size=(100, 1, 8, 8))
    y_pool = rng.integers(0, 10, 100)
    X, y, _ = make_canaries(X_pool, y_pool, 10, "ood", seed=1)
    assert X.shape == (10, 1, 8, 8) and X.dtype == X_pool.dtype
    assert X.min() >= 0 and X.max() <= 16
    assert len(np.unique(X)) > 10  # noise, not a constant image


def test_kinds_are_documented():
    import wsmooth.experiments._canaries as module

    for kind in KINDS:
        assert f'``"{kind}"``' in module.__doc__


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "canaries, match",
    [
        (-4, "at least 2"),
        (0, "at least 2"),
        (1, "at least 2"),
        (2.5, "integer"),
        (True, "integer"),
        ((10, "noise"), "unknown canary kind 'noise'"),
        ((10, "ood", 3), "a pair"),
        ("10", "integer"),
    ],
)
def test_bad_canaries_are_refused(canaries, match):
    with pytest.raises(ValueError, match=match):
        check_canaries(canaries)


def test_bad_canaries_fail_before_any_training(data, spy):
    with pytest.raises(ValueError, match="at least 2"):
        _run(data, spy, canaries=-1)
    with pytest.raises(ValueError, match="unknown canary kind"):
        _run(data, spy, canaries=(10, "fuzzy"))
    # 300 records: a pool of 240, so at most 120 canaries
    with pytest.raises(ValueError, match="too many for a pool of 240"):
        _run(data, spy, canaries=121)
    assert spy.fits == []


def test_check_canaries_defaults_to_mislabelled():
    assert check_canaries(None) is None
    assert check_canaries(10) == (10, "mislabelled")
    assert check_canaries((10, "ood"), n_pool=20) == (10, "ood")


# ------------------------------------------------------------------ placement
@pytest.mark.parametrize("kind", KINDS)
def test_half_the_canaries_train_the_target_each_a_random_half_of_shadows(
    data, spy, kind
):
    n = 20
    _run(data, spy, canaries=(n, kind), seeds=[5])
    X_pool, y_pool, _, _ = hold_out_test(*data, test_size=0.2, random_state=0)
    members = member_mask(y_pool, 5)
    Xc, yc, in_target = make_canaries(X_pool, y_pool, n, kind, seed=5,
                                      members=members)
    # the canary-free cell (target, shadows), then its canary twin
    assert len(spy.fits) == 2 * (1 + N_SHADOW)
    canaries = _records(Xc, yc)
    # (duplicated canaries are records of the pool, non-members of the
    # target: only the canary-free cell's shadows may train on them)
    plain = spy.fits[:1] if kind == "duplicated" else spy.fits[: 1 + N_SHADOW]
    assert not any(_records(*fit) & canaries for fit in plain)
    assert _records(*spy.fits[0]) == _records(X_pool[members], y_pool[members])
    spy.fits[:] = spy.fits[1 + N_SHADOW:]
    target = _records(*spy.fits[0])
    # the target: exactly its ordinary members and the IN canaries
    assert target == _records(X_pool[members], y_pool[members]) | _records(
        Xc[in_target], yc[in_target]
    )
    canary_in = [_records(Xc[[i]], yc[[i]]) <= target for i in range(n)]
    assert np.array_equal(canary_in, in_target)
    # the shadows: every canary IN exactly half of them, as ordinary records
    counts = np.zeros(n, dtype=int)
    for fit in spy.fits[1:]:
        trained = _records(*fit)
        counts += [_records(Xc[[i]], yc[[i]]) <= trained for i in range(n)]
    assert np.all(counts == N_SHADOW // 2)


def _multiplicity(X_fit, y_fit, Xc, yc):
    """How many times each canary is among the records of a fit."""
    trained = {}
    for record in zip(*_rows_and_labels(X_fit, y_fit), strict=True):
        trained[record] = trained.get(record, 0) + 1
    return np.array([trained.get(r, 0) for r in zip(*_rows_and_labels(Xc, yc),
                                                    strict=True)])


def _rows_and_labels(X, y):
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    return [row.tobytes() for row in X], [int(label) for label in y]


def test_duplicated_canaries_train_the_target_four_times_and_shadows_once(
    data, spy
):
    from wsmooth.experiments._canaries import DUPLICATE_COPIES

    n = 20
    _run(data, spy, canaries=(n, "duplicated"), seeds=[5])
    X_pool, y_pool, _, _ = hold_out_test(*data, test_size=0.2, random_state=0)
    members = member_mask(y_pool, 5)
    Xc, yc, in_target = make_canaries(X_pool, y_pool, n, "duplicated", seed=5,
                                      members=members)
    target, *shadows = spy.fits[1 + N_SHADOW:]
    copies = _multiplicity(*target, Xc, yc)
    assert np.array_equal(copies, np.where(in_target, DUPLICATE_COPIES, 0))
    # the twin's ordinary records lose the canaries' sources: every shadow
    # trains on a canary once or not at all
    for fit in shadows:
        assert set(_multiplicity(*fit, Xc, yc)) <= {0, 1}


def test_duplicated_canaries_are_distinct_non_members_with_their_labels(data):
    from wsmooth.experiments._canaries import records_outside

    X_pool, y_pool, _, _ = hold_out_test(*data, test_size=0.2, random_state=0)
    members = member_mask(y_pool, 0)
    Xc, yc, in_target = make_canaries(X_pool, y_pool, 30, "duplicated", seed=0,
                                      members=members)
    assert in_target.sum() == 15
    outside = records_outside(X_pool, y_pool, Xc, yc)
    # each canary is one record of the pool, a non-member, with its label
    assert (~outside).sum() == 30
    assert not (members & ~outside).any()
    assert _records(X_pool[~outside], y_pool[~outside]) == _records(Xc, yc)
    # the other kinds equal no record of the pool
    for kind in ("mislabelled", "ood"):
        Xo, yo, _ = make_canaries(X_pool, y_pool, 30, kind, seed=0)
        assert records_outside(X_pool, y_pool, Xo, yo).all()


def test_duplicated_canaries_need_the_members_and_enough_non_members(data):
    X_pool, y_pool, _, _ = hold_out_test(*data, test_size=0.2, random_state=0)
    with pytest.raises(ValueError, match="pass members"):
        make_canaries(X_pool, y_pool, 10, "duplicated", seed=0)
    with pytest.raises(ValueError, match="one entry per pool record"):
        make_canaries(X_pool, y_pool, 10, "duplicated", seed=0,
                      members=np.ones(3, dtype=bool))
    members = np.ones(len(y_pool), dtype=bool)
    members[:5] = False
    with pytest.raises(ValueError, match="only 5 non-members"):
        make_canaries(X_pool, y_pool, 10, "duplicated", seed=0, members=members)


def test_population_figures_exclude_the_canaries(data, monkeypatch):
    calls = []
    evaluate = MembershipInferenceAttack.evaluate

    def spy_evaluate(self, Xm, ym, Xn, yn, **kwargs):
        calls.append((len(ym), len(yn)))
        return evaluate(self, Xm, ym, Xn, yn, **kwargs)

    monkeypatch.setattr(MembershipInferenceAttack, "evaluate", spy_evaluate)
    _run(data, canaries=30)
    # the population (120 ordinary members / 120 non-members) in the
    # canary-free cell, then the canaries alone in its twin
    assert calls == [(120, 120), (15, 15)]


# ------------------------------------------------------------------ figures
def test_canary_figures_are_in_every_row_and_in_range(data):
    results = _run(data, attacks=["loss", "lira"], seeds=2, canaries=(30, "ood"))
    for r in results:
        for f in CANARY_FIGURES:
            assert 0.0 <= r[f] <= 1.0
    assert results.meta["canaries"] == {
        "n": 30, "kind": "ood", "n_in": 15, "n_out": 15, "min_fpr_resolved": 1 / 15,
    }
    summary = results.summary()[0]
    assert 0.0 <= summary["canary_auc_mean"] <= 1.0


def test_mislabelled_canaries_leak_more_than_the_population(data):
    # a fully grown tree memorises its wrong labels: the attack tells IN
    # canaries from OUT ones better than members from non-members
    results = run_experiment(
        *data, {"none": DecisionTreeClassifier()}, attacks=["loss"], seeds=2,
        n_shadow=N_SHADOW, canaries=60,
    )
    summary = results.summary()[0]
    assert summary["canary_auc_mean"] > summary["auc_mean"] + 0.05


def test_resolution_is_warned_about(data):
    with pytest.warns(UserWarning, match=r"15 OUT canaries per seed.*1/15"):
        _run(data, attacks=["loss"], canaries=30)


@pytest.mark.parametrize("n, warned", [
    (200, [0.01, 0.001]),   # 100 OUT: an FPR of 1/100 is not below 1%
    (202, [0.001]),         # 101 OUT: 1/101 < 1%
    (2002, []),
])
def test_resolution_boundary(n, warned, recwarn):
    resolution_warning(n, [0.01, 0.001])
    messages = [str(w.message) for w in recwarn.list]
    if not warned:
        assert not messages
        return
    (message,) = messages
    assert f"at FPR {', '.join(f'{x:.3g}' for x in sorted(warned))} is" in message
    assert f"at least {2 * (int(1 / min(warned)) + 1)} canaries" in message


def test_frontier_on_canary_leakage(data):
    results = _run(data, attacks=["loss", "lira"], canaries=30)
    for name, figure in [
        ("canary-tpr@1%", "canary_tpr@1%fpr"),
        ("canary_tpr@0.1%", "canary_tpr@0.1%fpr"),
        ("canary-auc", "canary_auc"),
    ]:
        (point,) = setting_points(results, leakage=name)
        assert point["leakage"] == max(
            np.mean([r[figure] for r in results if r["attack"] == a])
            for a in results.attacks
        )
    plain = _run(data, attacks=["loss"])
    with pytest.raises(ValueError, match="canaries=N"):
        setting_points(plain, leakage="canary-tpr@1%")


# ------------------------------------------------------------------ unchanged
def test_without_canaries_the_figures_are_the_plain_protocol(data):
    results = _run(data, attacks=["lira"], seeds=[2])
    (row,) = results.rows
    assert not set(CANARY_FIGURES) & set(row)
    assert "canaries" not in results.meta
    # the protocol by hand: the same split, target and attack
    X_pool, y_pool, X_test, y_test = hold_out_test(*data, test_size=0.2, random_state=0)
    members = member_mask(y_pool, 2)
    target = LogisticRegression(max_iter=200, C=1e4, random_state=2)
    target.fit(X_pool[members], y_pool[members])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attack = MembershipInferenceAttack(
            target, method="lira", n_shadow=N_SHADOW, random_state=2
        ).fit(X_pool, y_pool)
        report = attack.evaluate(
            X_pool[members], y_pool[members], X_pool[~members], y_pool[~members],
            fpr_levels=(0.001, 0.01),
        )
    assert row["test_accuracy"] == target.score(X_test, y_test)
    assert row["auc"] == report.auc
    assert row["tpr@1%fpr"] == report.tpr_at_fpr[0.01]


# ------------------------------------------------------------------ twin cells
def test_population_figures_come_from_a_run_without_canaries(data, tmp_path):
    # computed apart (two caches): the same figures to the bit
    kwargs = {"attacks": ["loss", "lira"], "seeds": [0, 3]}
    plain = _run(data, cache_dir=tmp_path / "plain", **kwargs)
    mixed = _run(data, cache_dir=tmp_path / "mixed", canaries=30, **kwargs)
    assert len(mixed) == len(plain) == 4
    assert _without(mixed.rows, (*CANARY_FIGURES, *SECONDS)) == _without(
        plain.rows, SECONDS
    )
    for r in mixed:
        assert all(0.0 <= r[f] <= 1.0 for f in CANARY_FIGURES)
    assert list(mixed.rows[0])[-5:] == [*CANARY_FIGURES, *SECONDS]  # column order


def test_the_canary_twin_gives_the_canary_figures(data, monkeypatch):
    # the canary figures are those of the twin, trained with the canaries
    fitted = []
    real = MembershipInferenceAttack.evaluate

    def spy_evaluate(self, Xm, ym, Xn, yn, **kwargs):
        report = real(self, Xm, ym, Xn, yn, **kwargs)
        fitted.append(report)
        return report

    monkeypatch.setattr(MembershipInferenceAttack, "evaluate", spy_evaluate)
    (row,) = _run(data, canaries=30).rows
    population, canary = fitted
    assert row["auc"] == population.auc and row["canary_auc"] == canary.auc
    assert row["canary_tpr@1%fpr"] == canary.tpr_at_fpr[0.01]


def test_canary_free_cells_are_shared_with_runs_without_canaries(
    data, tmp_path, spy
):
    seen = []
    plain = _run(data, spy, seeds=2, cache_dir=tmp_path)
    spy.fits.clear()
    mixed = _run(data, spy, seeds=2, canaries=30, cache_dir=tmp_path,
                 callback=seen.append)
    # the canary-free cells come from the cache; only the twins train, each
    # with its canaries
    assert [(c["seed"], c["canaries"], c["cached"]) for c in seen] == [
        (0, False, True), (0, True, False), (1, False, True), (1, True, False),
    ]
    assert [c["done"] for c in seen] == [1, 2, 3, 4]
    assert {c["total"] for c in seen} == {4}
    assert len(spy.fits) == 2 * (1 + N_SHADOW)
    assert all(len(y) > 120 for _, y in spy.fits[:: 1 + N_SHADOW])
    assert _without(mixed.rows, CANARY_FIGURES) == plain.rows  # seconds too
    # a run without canaries afterwards, or the same run again: all cached
    spy.fits.clear()
    seen.clear()
    assert _run(data, spy, seeds=2, cache_dir=tmp_path).rows == plain.rows
    again = _run(data, spy, seeds=2, canaries=30, cache_dir=tmp_path,
                 callback=seen.append)
    assert spy.fits == [] and all(c["cached"] for c in seen)
    assert again.rows == mixed.rows


# ------------------------------------------------------------------ cache
def _canary_cells(path):
    return sorted(glob.glob(str(path / "cells" / "*-canaries-*.json")))


def test_canary_cells_are_cached_apart_and_checked(data, tmp_path):
    seen = []
    _run(data, canaries=30, cache_dir=tmp_path)
    _run(data, canaries=30, cache_dir=tmp_path, callback=seen.append)
    assert [c["cached"] for c in seen] == [True, True]
    seen.clear()
    # another canary number or kind is another twin: never read as this one
    for other in (40, (30, "ood")):
        _run(data, canaries=other, cache_dir=tmp_path, callback=seen.append)
    assert [(c["canaries"], c["cached"]) for c in seen] == [
        (False, True), (True, False)
    ] * 2
    # a canary cell stores the canary figures alone
    paths = _canary_cells(tmp_path)
    assert len(paths) == 3
    for path in paths:
        (row,) = json.load(open(path))["rows"]
        assert set(row) == {"configuration", "setting", "seed", "params",
                            "attack", *CANARY_FIGURES}


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda r: r.pop("canary_auc"), "canary_auc"),
        (lambda r: r.update({"auc": 0.5}), r"holds \['auc'\], not figures of a canary"),
        (lambda r: r.update({"canary_tpr@1%fpr": 1.5}), "canary_tpr@1%fpr"),
    ],
)
def test_a_damaged_canary_cell_is_recomputed(data, tmp_path, damage, match):
    first = _run(data, canaries=30, cache_dir=tmp_path)
    (path,) = _canary_cells(tmp_path)
    cell = json.load(open(path))
    damage(cell["rows"][0])
    with open(path, "w") as f:
        json.dump(cell, f)
    seen = []
    with pytest.warns(UserWarning, match=match):
        again = _run(data, canaries=30, cache_dir=tmp_path, callback=seen.append)
    assert [c["cached"] for c in seen] == [True, False]
    assert _without(again.rows, SECONDS) == _without(first.rows, SECONDS)


def test_a_canary_free_cell_holding_canary_figures_is_recomputed(data, tmp_path):
    _run(data, cache_dir=tmp_path)
    (path,) = glob.glob(str(tmp_path / "cells" / "*.json"))
    cell = json.load(open(path))
    cell["rows"][0]["canary_auc"] = 0.5
    with open(path, "w") as f:
        json.dump(cell, f)
    seen = []
    with pytest.warns(UserWarning, match="not figures of a cell without canaries"):
        _run(data, canaries=30, cache_dir=tmp_path, callback=seen.append)
    assert [c["cached"] for c in seen] == [False, False]


def test_frontier_table_shows_the_canary_figure_beside_the_population(data):
    from wsmooth.experiments import frontier_table

    results = _run(data, attacks=["loss"], canaries=30)
    (canary,) = [r["canary_tpr@1%fpr"] for r in results]
    table = frontier_table(results)
    assert "canary_tpr@1%fpr" in table.splitlines()[1]
    assert f"{canary:.4f} ± 0.0000 (loss)" in table
    table = frontier_table(results, leakage="canary-auc")
    assert table.splitlines()[1].split()[3:5] == ["canary_auc", "attack"]
    assert " auc " in table.splitlines()[1]
    # without canaries, the table is as it was
    assert "canary" not in frontier_table(_run(data, attacks=["loss"]))


def test_canaries_never_repeat_a_pool_row_or_each_other():
    rng = np.random.default_rng(0)
    # 9 binary features: 512 rows, many records share one
    X_pool = rng.integers(0, 2, size=(400, 9)).astype(float)
    y_pool = rng.integers(0, 3, 400)
    rows = {row.tobytes() for row in X_pool}
    _, inverse, counts = np.unique(X_pool, axis=0, return_inverse=True,
                                   return_counts=True)
    shared = {row.tobytes() for row in X_pool[counts[inverse.ravel()] > 1]}
    members = np.arange(400) % 2 == 0
    for kind in KINDS:
        X, _, _ = make_canaries(X_pool, y_pool, 40, kind, seed=0, members=members)
        keys = [row.tobytes() for row in X]
        assert len(set(keys)) == 40
        if kind == "ood":
            assert not set(keys) & rows
        else:
            assert not set(keys) & shared  # sources are rows of their own


def test_a_pool_too_small_for_distinct_canaries_fails_before_training(spy):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(300, 3)).astype(float)  # 8 possible rows
    y = rng.integers(0, 3, 300)
    for kind, match in [("ood", "feature space is too small"),
                        ("mislabelled", "have a row no other record shares")]:
        with pytest.raises(ValueError, match=match):
            _run((X, y), spy, canaries=(10, kind), seeds=3)
    assert spy.fits == []
