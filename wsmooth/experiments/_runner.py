"""The experiment runner: every defence setting, several seeds, every attack.

One *cell* is a (configuration, setting, seed): the target is trained once
on the seed's member half of the pool, then every attack is run against it
with the same shadow budget. The attacks of a cell share one shadow cache
folder (the shadow engine keys it by the model configuration and the pool, and
the attacks share ``random_state=seed``, so they draw the same splits): the
shadows are trained once per cell. With ``cache_dir``, a finished cell's rows
are stored as one JSON file, written atomically once all of its attacks are
done, and a rerun skips it; an interrupted cell leaves no file (only the
shadow models it finished, which the rerun reuses). The specifications
(``defences``, ``attacks``, ``seeds``) are read and checked, every attack
built against the shadow budget, before anything trains (:mod:`._specs`).

With canaries, each (configuration, setting, seed) is two cells, twins: the
canary-free cell, exactly the cell of a run without canaries (the same name
and key, so either run reuses the other's), gives the population figures,
the accuracies and the times; the canary cell, whose target and shadows train
with the canaries, holds the canary figures only. A row joins the two.

Layout of ``cache_dir``::

    cells/<configuration>-<setting>-seed<k>-<hash>.json            finished cells
    cells/<configuration>-<setting>-seed<k>-canaries-<hash>.json   canary twins
    shadows/<hash>/                                                shadow models

A shadow folder is keyed by the model's parameters, the data, the seed and
the source of the modules that make the figures only, so two configurations
that train the same model (say the same network under two configuration
names) share their shadow models.

A cell file is named by what was asked (configuration, setting, seed, the
model's parameters, the data, the attacks, the shadow budget, the canaries)
and holds a key that adds the code that computed it: the package version,
the source of the model's and the attacks' classes, of the modules defining
the model's classes (:func:`_model_code`) and of every module that makes a
figure (:data:`FIGURE_MODULES` and the whole ``wsmooth.attacks`` package). A
cell is trusted only if its key matches and its rows pass :func:`_check_rows`
(one row per attack, the identifiers of the cell, and exactly the figures of
its kind, each finite and in its range: every figure but the canaries' in a
canary-free cell, the canary figures alone in a canary cell); a damaged
cell, or one made by other code, is recomputed with a warning.
"""

import functools
import hashlib
import importlib
import inspect
import json
import math
import os
import pkgutil
import re
import tempfile
import time
import warnings
from contextlib import ExitStack
from numbers import Integral, Real

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.utils.validation import check_consistent_length

from ..attacks._methods import get_method
from ..utils import reference_fit_params, reraise_interrupt
from ..utils._files import write_atomic
from ..utils._fingerprint import IGNORED_PARAMS as _IGNORED_PARAMS
from ..utils._fingerprint import code_fingerprint as _code
from ..utils._fingerprint import qualified_name as _qualname
from ..utils._fingerprint import stable_value as _stable
from ..utils._sklearn_compat import Interval, validate_params
from ._canaries import canary_copies, check_canaries, make_canaries, records_outside
from ._canaries import resolution_warning as _resolution_warning
from ._results import CANARY_FIGURES, FIGURES, ExperimentResults, _jsonable
from ._specs import (
    check_attacks,
    parse_attacks,
    parse_defences,
    parse_seeds,
    setting_tags,
    undefended_configuration,
    with_label_only,
)
from ._split import hold_out_test, member_mask, reference_mask

__all__ = ["run_experiment"]

# Bump when the meaning of a stored cell changes: old cells are then ignored.
# 4: a canary cell holds the canary figures only (its twin the others).
_CELL_FORMAT = 4
#: The modules whose code makes a cell's figures besides the model's and the
#: attack methods' classes (hashed into every cell's key).
#: Every module of the ``wsmooth.attacks`` package counts as well (the
#: methods' helper functions live beside their classes), and so does the
#: source of the modules defining the model's classes (:func:`_model_code`).
FIGURE_MODULES = (
    "wsmooth.metrics._figures",
    "wsmooth.metrics._reports",
    "wsmooth.attacks._base",
    "wsmooth.attacks._methods",
    "wsmooth.attacks._shadow",
    "wsmooth._signals",
    "wsmooth.experiments._split",
    "wsmooth.experiments._canaries",
    "wsmooth.experiments._runner",
    "wsmooth.experiments._specs",
    "wsmooth.utils._stratified",
    "wsmooth.utils._tags",
    "wsmooth.utils._validation",
    "wsmooth._smoothing",
)
#: The attacks run by default: LiRA and RMIA on the scores, and the
#: label-only attack, which sees a defence that modifies its outputs.
DEFAULT_ATTACKS = ("lira", "rmia", "label_only")
#: Allowed range of each figure of a canary-free cell's rows (which hold
#: every figure but the canaries').
_RANGES = {
    **{f: (0.0, 1.0) for f in FIGURES if f not in CANARY_FIGURES},
    "advantage": (-1.0, 1.0),
    "fit_seconds": (0.0, math.inf),
    "attack_seconds": (0.0, math.inf),
}
#: Allowed range of each figure of a canary cell's rows (the canary figures
#: alone: its twin gives the others).
_CANARY_RANGES = {f: (0.0, 1.0) for f in CANARY_FIGURES}


def _slug(text):
    return re.sub(r"[^A-Za-z0-9.=_-]+", "_", str(text))[:60]


def _write_json_atomic(path, obj):
    write_atomic(path, json.dumps(obj, indent=1).encode())


def _source_digest(names):
    """Digest of the source of the modules ``names`` (a name stands for a
    module without source)."""
    digest = hashlib.sha256()
    for name in sorted(set(names)):
        module = importlib.import_module(name)
        try:
            text = inspect.getsource(module)
        except (OSError, TypeError):
            text = name
        digest.update(b"\0" + name.encode() + b"\0" + text.encode())
    return digest.hexdigest()[:20]


@functools.lru_cache(maxsize=None)
def _figure_code():
    """Digest of the package version, the source of :data:`FIGURE_MODULES`
    and of every module of ``wsmooth.attacks``."""
    from .. import __version__, attacks

    names = [*FIGURE_MODULES]
    modules = pkgutil.iter_modules(attacks.__path__)
    names += [f"{attacks.__name__}.{m.name}" for m in modules]
    return f"{__version__}:{_source_digest(names)}"


@functools.lru_cache(maxsize=None)
def _modules_digest(names):
    return _source_digest(names)


def _model_code(model):
    """Digest of the source of the modules that define the model's classes
    and those of the estimators among its parameters (in this package and
    the model's own)."""
    estimators = [model] + [
        v for v in model.get_params(deep=True).values()
        if hasattr(v, "get_params") and not isinstance(v, type)
    ]
    names = set()
    for est in estimators:
        package = type(est).__module__.split(".")[0]
        names.update(
            c.__module__
            for c in type(est).__mro__
            if c.__module__.split(".")[0] in {package, "wsmooth"}
        )
    return _modules_digest(tuple(sorted(names)))


def _described(value):
    """:func:`_stable` without the code digests: a model's parameters, classes
    and callables by name, so that a cell made by other code is found (and
    recomputed with a warning) rather than missed."""
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return _qualname(value)
    if hasattr(value, "get_params"):
        params = value.get_params(deep=False)
        return (
            _qualname(type(value)),
            {k: _described(v) for k, v in sorted(params.items())
             if k not in _IGNORED_PARAMS},
        )
    if isinstance(value, dict):
        return {str(k): _described(v) for k, v in sorted(value.items(), key=str)}
    if isinstance(value, list | tuple):
        return [_described(v) for v in value]
    return _stable(value)


def _is_figure(value, low, high):
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )


def _check_rows(rows, ident, params, attack_labels, canaries=False):
    """None if ``rows`` are a whole cell for ``ident``, else what is wrong.

    The rows of a canary cell (``canaries``) must hold the canary figures and
    no other; those of a canary-free cell every other figure and no canary
    figure.
    """
    ranges = _CANARY_RANGES if canaries else _RANGES
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return "its rows are not a list of objects"
    attacks = [r.get("attack") for r in rows]
    if sorted(map(str, attacks)) != sorted(attack_labels) or len(rows) != len(
        attack_labels
    ):
        return (
            f"it holds rows for the attacks {attacks}, not one for each of "
            f"{list(attack_labels)}"
        )
    for r in rows:
        wrong = [k for k, v in ident.items() if r.get(k) != v]
        if r.get("params") != params:
            wrong.append("params")
        if wrong:
            return f"a row's {', '.join(wrong)} do not match the cell"
        for name, (low, high) in ranges.items():
            if not _is_figure(r.get(name), low, high):
                return (
                    f"the {r['attack']} row's {name} is {r.get(name)!r}, not a "
                    f"finite number in [{low:g}, {high:g}]"
                )
        extra = [f for f in FIGURES if f in r and f not in ranges]
        if extra:
            kind = "a canary cell" if canaries else "a cell without canaries"
            return f"the {r['attack']} row holds {extra}, not figures of {kind}"
    return None


def _read_cell(path, key, ident, params, attack_labels, canaries=False):
    """``(rows, problem)``: the rows of a finished, valid cell, or None and why
    not (``problem`` None when there is no cell file)."""
    try:
        with open(path, encoding="utf-8") as f:
            cell = json.load(f)
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as exc:
        return None, f"it is unreadable ({type(exc).__name__})"
    if not isinstance(cell, dict):
        return None, "it is not a JSON object"
    if cell.get("format") != _CELL_FORMAT or cell.get("key") != key:
        return None, (
            "it was made by other code (the model's, the attacks' or the "
            "figures') or another cell format"
        )
    rows = cell.get("rows")
    problem = _check_rows(rows, ident, params, attack_labels, canaries)
    return (None, problem) if problem else (rows, None)


# --------------------------------------------------------------------------- #
# One cell
# --------------------------------------------------------------------------- #
def _seeded(estimator, params, seed):
    model = clone(estimator).set_params(**params)
    if "random_state" in model.get_params(deep=False):
        model.set_params(random_state=seed)
    return model


def _run_cell(
    model, data, members, attacks, *, seed, n_shadow, n_jobs, shadow_dir, verbose, seen,
    reference=None, canaries=None,
):
    """One cell's rows, one per attack.

    Without ``canaries``: the accuracies, the population's figures and the
    times. With ``canaries`` (the canary twin of a cell): the target and the
    attacker's pool take the canaries, and the rows hold the canary figures
    only (the models trained with canaries would misstate the population's).
    """
    from ..attacks import MembershipInferenceAttack

    X_pool, y_pool, X_test, y_test = data
    Xm, ym = X_pool[members], y_pool[members]
    Xn, yn = X_pool[~members], y_pool[~members]
    # the target trains on its members and the IN canaries; the attacker's
    # pool holds every canary, so each shadow trains on a random half of them
    X_train, y_train, X_attack, y_attack = Xm, ym, X_pool, y_pool
    if canaries is not None:
        Xc, yc, in_target, copies = canaries
        # a duplicated canary is a record of the pool: the twin's pool gives
        # it up, so that the attacker's pool holds it once
        outside = records_outside(X_pool, y_pool, Xc, yc)
        if not outside.all():
            X_pool, y_pool = X_pool[outside], y_pool[outside]
            members = members[outside]
            Xm, ym = X_pool[members], y_pool[members]
        X_train = np.concatenate([Xm, np.repeat(Xc[in_target], copies, axis=0)])
        y_train = np.concatenate([ym, np.repeat(yc[in_target], copies, axis=0)])
        X_attack = np.concatenate([X_pool, Xc])
        y_attack = np.concatenate([y_pool, yc])
    # a defence that takes a reference set gets the reserved records, which
    # are neither members nor non-members: it trains on all of its members
    fit_params = {} if reference is None else reference_fit_params(model, *reference)
    start = time.perf_counter()
    with reraise_interrupt():
        model.fit(X_train, y_train, **fit_params)
    fit_seconds = time.perf_counter() - start
    figures = {}
    if canaries is None:
        figures = {
            "test_accuracy": float(accuracy_score(y_test, model.predict(X_test))),
            "train_accuracy": float(accuracy_score(ym, model.predict(Xm))),
            "fit_seconds": fit_seconds,
        }
    rows = []
    for label, (method, params) in attacks.items():
        start = time.perf_counter()
        attack = MembershipInferenceAttack(
            model,
            method=method,
            method_params=params,
            n_shadow=n_shadow,
            cache_dir=shadow_dir,
            random_state=seed,
            n_jobs=n_jobs,
            verbose=verbose,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with reraise_interrupt():
                attack.fit(X_attack, y_attack)
            if canaries is None:
                report = attack.evaluate(Xm, ym, Xn, yn, fpr_levels=(0.001, 0.01))
            else:
                with warnings.catch_warnings():
                    # the run warns once about the canaries' FPR resolution
                    warnings.filterwarnings(
                        "ignore", message="FPR level", category=UserWarning
                    )
                    canary = attack.evaluate(
                        Xc[in_target], yc[in_target], Xc[~in_target],
                        yc[~in_target], fpr_levels=(0.001, 0.01),
                    )
        for w in caught:  # the same warning for every cell: keep one of each
            seen.setdefault((w.category, str(w.message)), w)
        if canaries is not None:
            rows.append(
                {
                    "attack": label,
                    "canary_auc": float(canary.auc),
                    "canary_tpr@0.1%fpr": float(canary.tpr_at_fpr[0.001]),
                    "canary_tpr@1%fpr": float(canary.tpr_at_fpr[0.01]),
                }
            )
            continue
        rows.append(
            {
                "attack": label,
                **figures,
                "auc": float(report.auc),
                "tpr@0.1%fpr": float(report.tpr_at_fpr[0.001]),
                "tpr@1%fpr": float(report.tpr_at_fpr[0.01]),
                "advantage": float(report.advantage),
                "balanced_accuracy": float(report.balanced_accuracy),
                "attack_seconds": time.perf_counter() - start,
            }
        )
    return rows


def _joined(rows, canary_rows):
    """The rows of a canary-free cell with its canary twin's figures, in the
    column order of :data:`FIGURES`."""
    canary = {r["attack"]: r for r in canary_rows}
    joined = []
    for r in rows:
        both = {**r, **{f: canary[r["attack"]][f] for f in CANARY_FIGURES}}
        first = [k for k in both if k not in FIGURES]
        joined.append({k: both[k] for k in [*first, *FIGURES] if k in both})
    return joined


# --------------------------------------------------------------------------- #
# The runner
# --------------------------------------------------------------------------- #
@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "defences": [dict],
        "attacks": [str, list, tuple, dict],
        "seeds": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "test_size": [
            Interval(Real, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "n_shadow": [Interval(Integral, 1, None, closed="left")],
        "reference_size": [
            Interval(Real, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "n_jobs": [Integral, None],
        "cache_dir": [str, os.PathLike, None],
        "random_state": ["random_state"],
        "undefended": [str, None],
        "canaries": "no_validation",  # checked by check_canaries
        "callback": [callable, None],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def run_experiment(
    X,
    y,
    defences,
    *,
    attacks=DEFAULT_ATTACKS,
    seeds=3,
    test_size=0.2,
    n_shadow=4,
    reference_size=0.1,
    n_jobs=None,
    cache_dir=None,
    random_state=0,
    undefended=None,
    canaries=None,
    callback=None,
    verbose=0,
):
    """Train every defence setting on several seeds and attack each one.

    The pool protocol (Carlini et al. 2022): a held-out test set (for
    accuracy) is set aside once; the rest is the attacker's pool. For each
    seed, the target trains on half of the pool (half of every class; its
    ``random_state`` is the seed); members are that half, non-members the
    other half. Every attack gets ``n_shadow`` shadow models trained on random
    halves of the same pool, shared by all attacks of that cell.

    Members are exactly the records a model trained on. When some setting
    takes a reference set of non-members (its privacy tags, see
    :func:`wsmooth.utils.get_privacy_tags`: adversarial regularisation,
    MemGuard), a stratified ``reference_size`` slice of the pool is reserved
    first, the same for every seed and setting, and passed to those settings'
    ``fit`` (:func:`wsmooth.utils.reference_fit_params`); these records are
    neither members nor non-members, nor in the attacker's population. Each
    shadow model of such a setting gets part of the records it does not
    train on as its reference (see :mod:`wsmooth.attacks._shadow`).

    The leakage of a setting is its strongest attack's. A setting whose
    outputs are modified at prediction (HAMP, MemGuard) may fool the attacks
    on scores while its labels leak, so when the attacks hold no label-only
    method, ``"label_only"`` is added for the whole run with a warning.

    Parameters
    ----------
    X : array-like of shape (n_records, ...)
    y : array-like of shape (n_records,)
    defences : dict
        ``{name: estimator}`` or ``{name: (estimator, grid)}``: an unfitted
        classifier with ``predict_proba`` and its settings. ``grid`` is None
        (one setting), a dict of parameter lists (every combination, as in
        :class:`~sklearn.model_selection.ParameterGrid`) or a list of
        parameter dicts (one setting each). The undefended model is one
        configuration, e.g. ``{"none": NetClassifier()}``.
    attacks : str, list or dict, default=("lira", "rmia", "label_only")
        Method names of :class:`~wsmooth.MembershipInferenceAttack`, pairs
        ``(method, method_params)``, or ``{label: method}`` /
        ``{label: (method, method_params)}``. ``"label_only"`` is added
        (with a warning) when none of them reads labels only and some
        setting modifies its outputs.
    seeds : int or list of int, default=3
        The seeds ``0 .. seeds - 1``, or the seeds themselves. Each seed gives
        its own member half, target training seed and shadow splits.
    test_size : float or int, default=0.2
        Fraction (or number) of records held out for test accuracy.
    n_shadow : int, default=4
        Shadow models per cell (the same budget for every attack).
    reference_size : float or int, default=0.1
        Fraction (or number) of the pool reserved as the reference set, only
        when some setting takes one; otherwise nothing is reserved.
    n_jobs : int, default=None
        Shadow models trained in parallel through joblib; an active
        ``joblib.parallel_backend`` (e.g. Dask) is honoured.
    cache_dir : str or path-like, default=None
        Where finished cells and shadow models are stored; a rerun skips the
        finished cells. Default: a temporary folder, removed at the end.
    random_state : int, RandomState instance or None, default=0
        Fixes the pool / test split (the same for every seed).
    undefended : str, default=None
        Name of the undefended configuration; default the one named
        ``"none"`` (the registry's name), or, in a comparison built by hand,
        ``"undefended"`` or ``"baseline"``, if any.
    canaries : None, int or (int, str), default=None
        Worst-case leakage: the number of canaries per seed, of the kind
        ``"mislabelled"``, or a pair ``(number, kind)`` with kind
        ``"mislabelled"``, ``"duplicated"`` or ``"ood"`` (the kinds:
        :ref:`canaries`). Per seed, the canaries are drawn from their own
        random stream, half of them join the target's training set (a
        duplicated one several times), and all join the attacker's pool
        (each shadow model trains on a random half of them). Every row
        then also holds ``canary_auc``, ``canary_tpr@0.1%fpr`` and
        ``canary_tpr@1%fpr`` (IN canaries against OUT canaries, by the same
        attack). Models
        trained with canaries misstate the population's figures, so each
        (setting, seed) is run twice: the population's figures, the
        accuracies and the times come from a run without canaries (the very
        cell of ``canaries=None``, reused from ``cache_dir`` either way), the
        canary figures from a twin run with them: the cost doubles. At least
        2 and at most half the pool; with ``n_out = number - number // 2`` OUT
        canaries, FPRs below ``1 / n_out`` cannot be measured (the TPR
        there is the TPR at FPR 0; a warning says so). None (the default)
        leaves every split and figure as without this option.
    callback : callable, default=None
        Called after each cell with a dict: ``configuration``, ``setting``,
        ``seed``, ``canaries`` (True for the canary twin of a cell),
        ``cached`` (True if read from ``cache_dir``), ``done``, ``total``
        (the cells of the run, twins included) and ``rows`` (the cell's own:
        a canary twin's hold the canary figures only). Raising in it stops
        the run; finished cells stay cached.
    verbose : int, default=0
        A progress bar over cells when > 0; shadow training progress as well
        when > 1.

    Returns
    -------
    ExperimentResults
        One row per configuration x setting x seed x attack. Its ``meta``
        records the protocol, including ``n_reference`` (0 when nothing was
        reserved), the attacks run and, with canaries, ``canaries`` (their
        number, kind, IN and OUT counts per seed and the smallest FPR the
        canary figures resolve).

    Warns
    -----
    UserWarning
        When ``"label_only"`` is added, when a cell of ``cache_dir`` is
        damaged or was made by other code (it is recomputed), and when the
        canaries are too few to resolve the FPR levels of the canary figures.

    Examples
    --------
    >>> from wsmooth import NetClassifier, WeightedSmoothingClassifier  # doctest: +SKIP
    >>> ws = WeightedSmoothingClassifier(max_epochs=10)  # doctest: +SKIP
    >>> results = run_experiment(  # doctest: +SKIP
    ...     X, y, {"none": NetClassifier(max_epochs=10),
    ...            "ws": (ws, {"sigma": [0.1, 0.2]})},
    ...     attacks=["lira", "rmia"], seeds=3, cache_dir="runs/purchase")
    >>> pareto_frontier(results, attack="strongest", leakage="tpr@1%")  # doctest: +SKIP
    """
    X, y = np.asarray(X), np.asarray(y)
    check_consistent_length(X, y)
    # every specification read and checked before anything trains
    specs = parse_defences(defences)
    tags = setting_tags(specs)
    attack_specs = with_label_only(parse_attacks(attacks), tags)
    attack_code = sorted({_code(get_method(m)) for m, _ in attack_specs.values()})
    seeds = parse_seeds(seeds)
    undefended = undefended_configuration(undefended, specs)
    check_attacks(specs, attack_specs, n_shadow)
    canary_spec = check_canaries(canaries)

    # the pool protocol: test records held out, the reference set reserved
    # where a defence takes one, every seed's canaries drawn (a draw can fail)
    data, reference = _split(
        X, y, test_size=test_size, random_state=random_state,
        reference_size=reference_size if any(
            t.takes_reference for t in tags.values()) else None,
    )
    canary_sets = dict.fromkeys(seeds)
    if canary_spec is not None:
        check_canaries(canary_spec, len(data[1]))
        _resolution_warning(canary_spec[0], (0.001, 0.01))
        copies = canary_copies(canary_spec[1])
        canary_sets = {
            s: (*make_canaries(*data[:2], *canary_spec, s,
                               members=member_mask(data[1], s)), copies)
            for s in seeds
        }
    data_hash = joblib.hash((data, reference))
    figure_code = _figure_code()
    cells = _cells(specs, seeds, canary_spec)

    with ExitStack() as stack:
        if cache_dir is None:
            root = stack.enter_context(tempfile.TemporaryDirectory(prefix="wsmooth-"))
        else:
            root = os.fspath(cache_dir)
        os.makedirs(os.path.join(root, "cells"), exist_ok=True)
        progress = None
        if verbose:
            from tqdm.auto import tqdm

            progress = stack.enter_context(tqdm(total=len(cells), unit="cell"))
        rows, seen, population = [], {}, None
        for done, (name, label, seed, spec) in enumerate(cells, start=1):
            estimator, labels = specs[name]
            params = labels[label]
            model = _seeded(estimator, params, seed)
            ident = {"configuration": name, "setting": label, "seed": seed}
            asked, shadow_key, key = _cell_keys(
                model, ident, spec, data_hash=data_hash, n_shadow=n_shadow,
                attack_specs=attack_specs, attack_code=attack_code,
                figure_code=figure_code,
            )
            stem = f"{_slug(name)}-{_slug(label)}-seed{seed}"
            if spec is not None:
                stem += "-canaries"
            path = os.path.join(root, "cells", f"{stem}-{asked[:12]}.json")
            cell_rows, problem = _read_cell(
                path, key, ident, _jsonable(params), list(attack_specs),
                spec is not None,
            )
            if problem is not None:
                warnings.warn(
                    f"cached cell {path!r} is not trusted: {problem}; it is "
                    "recomputed",
                    UserWarning,
                    stacklevel=3,
                )
            cached = cell_rows is not None
            if progress is not None:
                twin = " canaries" if spec is not None else ""
                progress.set_description(f"{name} {label} seed {seed}{twin}")
            if not cached:
                members = member_mask(data[1], seed)
                cell_rows = _run_cell(
                    model,
                    data,
                    members,
                    attack_specs,
                    seed=seed,
                    n_shadow=n_shadow,
                    n_jobs=n_jobs,
                    shadow_dir=os.path.join(root, "shadows", shadow_key[:16]),
                    verbose=max(int(verbose) - 1, 0),
                    seen=seen,
                    reference=reference,
                    canaries=None if spec is None else canary_sets[seed],
                )
                cell_rows = [
                    {**ident, "params": _jsonable(params), **r} for r in cell_rows
                ]
                _write_json_atomic(
                    path, {"format": _CELL_FORMAT, "key": key, "rows": cell_rows}
                )
            if canary_spec is None:
                rows.extend(cell_rows)
            elif spec is None:
                population = cell_rows  # joined with its twin, the next cell
            else:
                rows.extend(_joined(population, cell_rows))
            if progress is not None:
                progress.update()
            if callback is not None:
                callback(
                    {
                        "configuration": name,
                        "setting": label,
                        "seed": seed,
                        "canaries": spec is not None,
                        "cached": cached,
                        "done": done,
                        "total": len(cells),
                        "rows": cell_rows,
                    }
                )
    for w in seen.values():
        # 3: past the validate_params wrapper, to the caller
        warnings.warn(w.message, w.category, stacklevel=3)
    rows.sort(key=_row_order(specs, attack_specs))
    meta = _meta(data, reference, n_shadow=n_shadow, seeds=seeds,
                 attack_specs=attack_specs, canary_spec=canary_spec)
    return ExperimentResults(rows, undefended=undefended, meta=_jsonable(meta))


# --------------------------------------------------------------------------- #
# The steps of the protocol
# --------------------------------------------------------------------------- #
def _split(X, y, *, test_size, random_state, reference_size=None):
    """``((X_pool, y_pool, X_test, y_test), reference)``: the test records
    held out and, with ``reference_size``, the reference set ``(X, y)``
    reserved from the pool (else None)."""
    data = hold_out_test(X, y, test_size=test_size, random_state=random_state)
    if reference_size is None:
        return data, None
    X_pool, y_pool, X_test, y_test = data
    reserved = reference_mask(y_pool, reference_size, random_state)
    reference = (X_pool[reserved], y_pool[reserved])
    return (X_pool[~reserved], y_pool[~reserved], X_test, y_test), reference


def _cells(specs, seeds, canary_spec):
    """``[(configuration, label, seed, canaries), ...]`` in the order they run.

    With canaries, each (configuration, setting, seed) is two cells: the
    canary-free one (the cell of a run without canaries) gives every figure
    but the canaries', its canary twin those alone.
    """
    twins = (None,) if canary_spec is None else (None, canary_spec)
    return [
        (name, label, seed, spec)
        for seed in seeds
        for name, (_, labels) in specs.items()
        for label in labels
        for spec in twins
    ]


def _cell_keys(model, ident, spec, *, data_hash, n_shadow, attack_specs, attack_code,
               figure_code):
    """``(asked, shadow_key, key)`` of a cell.

    The file is named by what was asked; the key inside adds the code (the
    model's classes, the attacks', the figures' modules): after a code change
    the cell and its shadows are computed afresh.
    """
    asked = joblib.hash(
        (_CELL_FORMAT, ident, _described(model), data_hash, n_shadow,
         sorted(attack_specs.items()), spec)
    )
    shadow_key = joblib.hash(
        (_stable(model), _model_code(model), data_hash, ident["seed"], figure_code,
         spec)
    )
    key = joblib.hash((asked, shadow_key, attack_code, figure_code))
    return asked, shadow_key, key


def _row_order(specs, attack_specs):
    """Sort key of the rows: configuration, setting, seed, attack, each in
    the order given."""
    order = {c: i for i, c in enumerate(specs)}
    setting_order = {
        (n, lab): i for n, (_, labels) in specs.items() for i, lab in enumerate(labels)
    }
    attack_order = {a: i for i, a in enumerate(attack_specs)}
    return lambda r: (
        order[r["configuration"]],
        setting_order[r["configuration"], r["setting"]],
        r["seed"],
        attack_order[r["attack"]],
    )


def _meta(data, reference, *, n_shadow, seeds, attack_specs, canary_spec):
    """The protocol a run followed, for :attr:`ExperimentResults.meta`."""
    meta = {
        "protocol": "pool",
        "n_pool": int(len(data[1])),
        "n_test": int(len(data[3])),
        "n_members": int(len(data[1]) // 2),
        "n_nonmembers": int(len(data[1]) - len(data[1]) // 2),
        "n_reference": 0 if reference is None else int(len(reference[1])),
        "n_shadow": int(n_shadow),
        "seeds": seeds,
        "attacks": {
            k: {"method": m, "method_params": p or {}}
            for k, (m, p) in attack_specs.items()
        },
    }
    if canary_spec is not None:
        n, kind = canary_spec
        meta["canaries"] = {
            "n": n,
            "kind": kind,
            "n_in": n // 2,
            "n_out": n - n // 2,
            "min_fpr_resolved": 1.0 / (n - n // 2),
        }
    return meta
