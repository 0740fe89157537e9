"""The shadow training engine: one place that trains shadow/reference models.

Every attack that needs shadow models (threshold calibration, the learned
attack, LiRA, RMIA) gets them from :func:`fit_shadow_models`:

* **Keep masks** (:func:`make_keep_masks`): shadow models come in
  complementary pairs, each pair splitting the population into two halves,
  stratified by class. Every record is a member of exactly ``n_shadow // 2``
  shadow models (Carlini et al.'s scheme, which LiRA needs), every shadow model
  trains on half of each class (RMIA's paired reference models), and the masks
  of ``n_shadow`` models are a prefix of those of ``n_shadow + k`` models.
* **Parallelism**: models are trained through :class:`joblib.Parallel`, so
  ``n_jobs`` and an active ``joblib.parallel_backend`` (e.g. ``"dask"`` with a
  ``dask.distributed`` client) take over unchanged.
* **Determinism**: each model gets its own seed derived from the attack's
  ``random_state``: set as the model's ``random_state`` parameter when it has
  one, and used to seed torch's global generator (forked, so the caller's
  state is untouched) while it trains. Parallel and sequential runs agree.
* **Cache**: with ``cache_dir``, each finished model is stored (atomically) in
  its own file with its keep mask and seed, beside a manifest fingerprinting
  the template's parameters, the population and the class set. A rerun trains
  only the missing models; a cache written for another configuration raises.
"""

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from ..utils import check_log_proba, class_index

__all__ = [
    "ShadowModels",
    "align_proba",
    "fit_shadow_models",
    "make_keep_masks",
    "train_shadow_models",
]

_MANIFEST = "manifest.json"
_FORMAT = 1
# Parameters that do not change the fitted model, left out of the fingerprint
# (random_state is overridden per shadow model anyway).
_IGNORED_PARAMS = frozenset({"random_state", "n_jobs", "verbose"})


# --------------------------------------------------------------------------- #
# Seeds and keep masks
# --------------------------------------------------------------------------- #
def derive_entropy(random_state):
    """One int drawn from ``random_state``: the root of every derived seed."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _model_seeds(entropy, n_models):
    return [
        int(np.random.SeedSequence([entropy, 1, i]).generate_state(1)[0])
        for i in range(n_models)
    ]


def make_keep_masks(n_records, n_models, random_state=None, *, y=None):
    """Which population records each shadow model trains on.

    Models ``2p`` and ``2p + 1`` train on complementary halves of the records;
    with ``y`` each half holds half of every class (the odd record of a class
    goes to either side at random). So every record is in exactly
    ``n_models // 2`` models (one more for the records of the last model's half
    when ``n_models`` is odd), and each model sees about half the records.

    Parameters
    ----------
    n_records : int
    n_models : int
    random_state : int, RandomState instance or None
    y : array-like of shape (n_records,), default=None
        Labels to stratify the halves by.

    Returns
    -------
    keep : ndarray of bool of shape (n_models, n_records)
    """
    return _keep_masks(n_records, n_models, derive_entropy(random_state), y)


def _keep_masks(n_records, n_models, entropy, y=None):
    if y is None:
        codes = np.zeros(n_records, dtype=np.intp)
    else:
        _, codes = np.unique(np.asarray(y), return_inverse=True)
        codes = codes.ravel()
        if codes.shape[0] != n_records:
            raise ValueError(f"y must have {n_records} entries, got {codes.shape[0]}")
    counts = np.bincount(codes)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    keep = np.zeros((n_models, n_records), dtype=bool)
    for pair in range((n_models + 1) // 2):
        rng = np.random.default_rng([entropy, 0, pair])
        order = np.lexsort((rng.random(n_records), codes))
        rank = np.empty(n_records, dtype=np.intp)
        rank[order] = np.arange(n_records) - starts[codes[order]]
        size = counts // 2 + (counts % 2) * rng.integers(0, 2, size=counts.shape)
        half = rank < size[codes]
        keep[2 * pair] = half
        if 2 * pair + 1 < n_models:
            keep[2 * pair + 1] = ~half
    return keep


# --------------------------------------------------------------------------- #
# Probabilities aligned to the target's classes
# --------------------------------------------------------------------------- #
def align_proba(proba, model_classes, classes):
    """Reorder/extend a model's ``predict_proba`` columns to ``classes``.

    A shadow model trained on a subset may know fewer classes than the target;
    its missing classes get probability 0.

    Parameters
    ----------
    proba : ndarray of shape (n_records, len(model_classes))
    model_classes : array-like
        The model's ``classes_``.
    classes : array-like
        The target's ``classes_``.
    """
    proba = np.asarray(proba, dtype=np.float64)
    model_classes = np.asarray(model_classes)
    classes = np.asarray(classes)
    if proba.ndim != 2 or proba.shape[1] != model_classes.shape[0]:
        raise ValueError(
            f"predict_proba returned shape {proba.shape} for a model with "
            f"{model_classes.shape[0]} classes"
        )
    if model_classes.shape == classes.shape and np.array_equal(model_classes, classes):
        return proba
    col = class_index(model_classes, classes)
    if np.any(col < 0):
        raise ValueError(
            f"model classes {model_classes[col < 0].tolist()} are not among the "
            f"target's classes {classes.tolist()}"
        )
    out = np.zeros((proba.shape[0], classes.shape[0]))
    out[:, col] = proba
    return out


def _model_classes(model, n_columns, classes):
    model_classes = getattr(model, "classes_", None)
    if model_classes is None:
        if n_columns != len(classes):
            raise ValueError(
                "a shadow model without classes_ must predict one column per "
                "target class"
            )
        return classes
    return model_classes


# --------------------------------------------------------------------------- #
# Training
# --------------------------------------------------------------------------- #
def _fit_one(template, X, y, keep, seed):
    """Fit a fresh clone of ``template`` on the records ``keep`` selects."""
    model = clone(template)
    if "random_state" in model.get_params(deep=False):
        model.set_params(random_state=seed)
    torch = sys.modules.get("torch")
    if torch is None:
        return model.fit(X[keep], y[keep])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return model.fit(X[keep], y[keep])


def _predict_one(model, X, classes):
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    return align_proba(proba, _model_classes(model, proba.shape[1], classes), classes)


def model_log_proba(model, X):
    """``model.predict_log_proba(X)`` if it has one, else ``log(predict_proba)``.

    Log-probabilities keep what float probabilities round away (a float32
    softmax underflows to 0 below about 1e-45); exact zeros give ``-inf``.
    """
    if hasattr(model, "predict_log_proba"):
        with np.errstate(divide="ignore"):  # sklearn logs exact zeros
            return np.asarray(model.predict_log_proba(X), dtype=np.float64)
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.log(proba)


def align_log_proba(log_proba, model_classes, classes):
    """:func:`align_proba` for log-probabilities: missing classes get ``-inf``."""
    log_proba = np.asarray(log_proba, dtype=np.float64)
    # align_proba checks shapes and classes; on ones it marks known columns.
    known = align_proba(np.ones_like(log_proba), model_classes, classes) > 0
    model_classes, classes = np.asarray(model_classes), np.asarray(classes)
    if model_classes.shape == classes.shape and np.array_equal(model_classes, classes):
        return log_proba
    out = np.full(known.shape, -np.inf)
    out[:, class_index(model_classes, classes)] = log_proba
    return out


def _predict_log_one(model, X, classes):
    log_proba = check_log_proba(model_log_proba(model, X), model="a shadow model")
    model_classes = _model_classes(model, log_proba.shape[1], classes)
    return align_log_proba(log_proba, model_classes, classes)


def _stable(value):
    """A picklable, address-free description of a parameter value."""
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    if hasattr(value, "get_params") and not isinstance(value, type):
        return (
            f"{type(value).__module__}.{type(value).__qualname__}",
            _stable_params(value),
        )
    if isinstance(value, dict):
        return {str(k): _stable(v) for k, v in sorted(value.items(), key=str)}
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if isinstance(value, np.ndarray | np.generic):
        return joblib.hash(value)
    try:
        return f"{type(value).__qualname__}:{joblib.hash(value)}"
    except Exception:  # unpicklable: fall back to the type only
        return type(value).__qualname__


def _stable_params(estimator):
    params = estimator.get_params(deep=False)
    return {
        k: _stable(v) for k, v in sorted(params.items()) if k not in _IGNORED_PARAMS
    }


def fingerprint(template, X, y, classes):
    """Hashes identifying a shadow configuration: template, population, classes."""
    return {
        "template": joblib.hash(
            (
                type(template).__module__,
                type(template).__qualname__,
                _stable_params(template),
            )
        ),
        "population": joblib.hash((np.asarray(X), np.asarray(y))),
        "classes": joblib.hash(np.asarray(classes)),
    }


def _read_manifest(cache_dir):
    path = os.path.join(cache_dir, _MANIFEST)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _atomic_write(path, write):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _write_json(path, obj):
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=1, sort_keys=True)

    _atomic_write(path, write)


def _check_manifest(manifest, expected, cache_dir):
    if manifest.get("format") != _FORMAT:
        raise ValueError(
            f"cache_dir {cache_dir!r} holds a shadow cache of an unknown format; "
            "use another cache_dir or clear it."
        )
    for key, what in (
        (
            "template",
            "another shadow model configuration (the target's or "
            "shadow_estimator's parameters differ)",
        ),
        ("population", "another population (X, y differ)"),
        ("classes", "another set of target classes"),
    ):
        if manifest.get(key) != expected[key]:
            raise ValueError(
                f"cache_dir {cache_dir!r} was written for {what}; refusing to "
                "reuse its shadow models. Use another cache_dir or clear it."
            )


def _shadow_path(cache_dir, i):
    return os.path.join(cache_dir, f"shadow_{i:04d}.joblib")


def _load_cached(cache_dir, i, keep, seed):
    path = _shadow_path(cache_dir, i)
    if not os.path.exists(path):
        return None
    entry = joblib.load(path)
    if not np.array_equal(entry["keep"], keep) or entry["seed"] != seed:
        raise ValueError(
            f"cached shadow model {path!r} was trained on another split of the "
            "population (a different random_state); use another cache_dir, "
            "clear it, or the random_state it was written with."
        )
    return entry["model"]


def train_shadow_models(
    template,
    X,
    y,
    keep_masks,
    *,
    seeds=None,
    classes=None,
    n_jobs=None,
    verbose=0,
    cache_dir=None,
    random_state=None,
):
    """Train one clone of ``template`` per keep mask, in parallel, with caching.

    Parameters
    ----------
    template : estimator
        Unfitted (or fitted: it is cloned) model configuration.
    X : ndarray of shape (n_records, ...)
    y : ndarray of shape (n_records,)
        Labels in the template's label space.
    keep_masks : ndarray of bool of shape (n_models, n_records)
    seeds : list of int, default=None
        One seed per model; derived from ``random_state`` if None.
    classes : array-like, default=None
        The full class set (for the cache fingerprint); ``np.unique(y)`` if None.
    n_jobs : int, default=None
        Passed to :class:`joblib.Parallel`; an active ``parallel_backend``
        decides where the work runs.
    verbose : int, default=0
        Show a tqdm progress bar when > 0.
    cache_dir : str or path-like, default=None
        Store/reuse finished models there (see the module docstring).
    random_state : int, RandomState instance or None

    Returns
    -------
    models : list of fitted estimators, in the order of ``keep_masks``.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    keep_masks = np.asarray(keep_masks, dtype=bool)
    n_models = keep_masks.shape[0]
    if keep_masks.ndim != 2 or keep_masks.shape[1] != X.shape[0]:
        raise ValueError(
            f"keep_masks must have shape (n_models, {X.shape[0]}), "
            f"got {keep_masks.shape}"
        )
    if seeds is None:
        seeds = _model_seeds(derive_entropy(random_state), n_models)
    if len(seeds) != n_models:
        raise ValueError("seeds must have one entry per keep mask")
    classes = np.unique(y) if classes is None else np.asarray(classes)
    if cache_dir is not None:
        cache_dir = os.fspath(cache_dir)
        _open_cache(cache_dir, fingerprint(template, X, y, classes))
    return _train(template, X, y, keep_masks, seeds, n_jobs, verbose, cache_dir)[0]


def _open_cache(cache_dir, fp, entropy=None):
    """Create or check the manifest; return the entropy it records (or None)."""
    os.makedirs(cache_dir, exist_ok=True)
    expected = {"format": _FORMAT, **fp}
    manifest = _read_manifest(cache_dir)
    if manifest is not None:
        _check_manifest(manifest, expected, cache_dir)
        cached = manifest.get("entropy")
        if entropy is not None and cached is not None and cached != entropy:
            raise ValueError(
                f"cache_dir {cache_dir!r} was written with another random_state; "
                "use another cache_dir, clear it, or pass random_state=None to "
                "continue it."
            )
        if cached is not None or entropy is None:
            return cached
    if entropy is not None:
        expected["entropy"] = entropy
    _write_json(os.path.join(cache_dir, _MANIFEST), expected)
    return entropy


def _train(template, X, y, keep_masks, seeds, n_jobs, verbose, cache_dir):
    n_models = keep_masks.shape[0]
    models = [None] * n_models
    if cache_dir is not None:
        for i in range(n_models):
            models[i] = _load_cached(cache_dir, i, keep_masks[i], seeds[i])
    todo = [i for i in range(n_models) if models[i] is None]
    if todo:
        results = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(
            joblib.delayed(_fit_one)(template, X, y, keep_masks[i], seeds[i])
            for i in todo
        )
        if verbose:
            from tqdm.auto import tqdm

            results = tqdm(results, total=len(todo), desc="shadow models", unit="model")
        # Results arrive in order; each is stored as soon as it is back, so an
        # interruption loses only the models still in flight.
        for i, model in zip(todo, results, strict=True):
            models[i] = model
            if cache_dir is not None:
                entry = {"model": model, "keep": keep_masks[i], "seed": seeds[i]}
                _atomic_write(
                    _shadow_path(cache_dir, i), lambda tmp, e=entry: joblib.dump(e, tmp)
                )
    return models, len(todo)


@dataclass
class ShadowModels:
    """Fitted shadow models with the keep masks and seeds they were trained with.

    Attributes
    ----------
    models : list of estimator
    keep_masks : ndarray of bool of shape (n_shadow, n_population)
    seeds : list of int
    classes : ndarray
        The class set probabilities are aligned to.
    n_trained : int
        How many models this call trained (the rest came from the cache).
    """

    models: list
    keep_masks: np.ndarray
    seeds: list
    classes: np.ndarray
    n_trained: int = 0
    n_jobs: object = field(default=None, repr=False)

    def __len__(self):
        return len(self.models)

    def predict_proba(self, X):
        """Every model's probabilities on ``X``: shape (n_shadow, n, n_classes)."""
        if not self.models:
            return np.zeros((0, len(X), len(self.classes)))
        out = joblib.Parallel(n_jobs=self.n_jobs)(
            joblib.delayed(_predict_one)(m, X, self.classes) for m in self.models
        )
        return np.stack(out)

    def predict_log_proba(self, X):
        """Every model's log-probabilities on ``X`` (see :func:`model_log_proba`)."""
        if not self.models:
            return np.zeros((0, len(X), len(self.classes)))
        out = joblib.Parallel(n_jobs=self.n_jobs)(
            joblib.delayed(_predict_log_one)(m, X, self.classes) for m in self.models
        )
        return np.stack(out)


def fit_shadow_models(
    template,
    X,
    y,
    *,
    n_shadow,
    classes=None,
    random_state=None,
    n_jobs=None,
    verbose=0,
    cache_dir=None,
):
    """Make keep masks and seeds, then train (or load) ``n_shadow`` models.

    With ``random_state=None`` and an existing, matching cache, the cache's
    own seed is reused, so a rerun continues it instead of failing. With an
    explicit ``random_state`` that differs from the cache's, a ValueError is
    raised (the splits would differ).

    Returns
    -------
    ShadowModels
    """
    X = np.asarray(X)
    y = np.asarray(y)
    classes = np.unique(y) if classes is None else np.asarray(classes)
    entropy = None if random_state is None else derive_entropy(random_state)
    if cache_dir is not None:
        cache_dir = os.fspath(cache_dir)
        fp = fingerprint(template, X, y, classes)
        entropy = _open_cache(cache_dir, fp, entropy)
        if entropy is None:  # a new cache, or one without a recorded seed
            entropy = _open_cache(cache_dir, fp, derive_entropy(None))
    elif entropy is None:
        entropy = derive_entropy(None)
    keep = _keep_masks(X.shape[0], n_shadow, entropy, y)
    seeds = _model_seeds(entropy, n_shadow)
    models, n_trained = _train(template, X, y, keep, seeds, n_jobs, verbose, cache_dir)
    return ShadowModels(
        models=models,
        keep_masks=keep,
        seeds=seeds,
        classes=classes,
        n_trained=n_trained,
        n_jobs=n_jobs,
    )
