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
* **Interrupts**: each fit in the main thread runs under
  :func:`wsmooth.utils.reraise_interrupt`, so a Ctrl-C that skorch's
  ``partial_fit`` swallows still stops the whole run and no half-trained
  model is returned or cached.
* **Checked outputs**: every shadow model's ``predict_proba`` goes through
  :func:`wsmooth.utils.check_proba` (``"shadow model i"`` in the error).
* **Members are exactly the records trained on**: a template whose privacy
  tags say it takes a reference set of non-members
  (:func:`wsmooth.utils.get_privacy_tags`; adversarial regularisation,
  MemGuard) gets one through :func:`wsmooth.utils.reference_fit_params`, so
  that it does not hold out part of its keep mask (records then labelled IN
  but never trained on). Each shadow model's reference set is a stratified
  :data:`SHADOW_REFERENCE_FRACTION` of the records it does *not* train on
  (its OUT records), drawn from its own seed (:func:`reference_masks`); they
  are never IN for it. They stay labelled OUT for that model: the attacks
  read one boolean keep mask per model (IN where True, OUT elsewhere), which
  cannot leave a record out of one model's calibration, and a reference
  record is a non-member of that model (it trained only the defence's own
  attack, never the classifier's loss). This OUT side is thus a slightly
  different mix than the target's non-members, which never include its
  reference records (the experiment runner reserves those outside the
  evaluation); ``ShadowModels.reference_masks`` records which they are.
* **Cache** (:mod:`wsmooth.attacks._cache`): with ``cache_dir``, each finished
  model is stored atomically in a format that cannot run code when loaded
  (skorch nets as safetensors weights, scikit-learn estimators through skops
  with trusted types derived from the template; other estimators only with
  ``trust_cache=True``), with a JSON record of its keep mask and seed, beside a
  manifest fingerprinting the template (parameters and the source of its
  classes), the population and the class set, created exclusively so that
  concurrent runs agree on one seed. A rerun trains only the missing models;
  a cache written for another configuration, or a corrupt, foreign or
  tampered file, raises a ``ValueError`` naming it.
"""

import os
import sys
from dataclasses import dataclass, field

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from ..utils import check_log_proba, check_proba, class_index, reraise_interrupt
from ..utils._stratified import class_codes, first_per_class, half_of_every_class
from ..utils._tags import get_privacy_tags, reference_fit_params
from ._cache import ShadowCache, fingerprint, open_cache

__all__ = [
    "ShadowModels",
    "align_proba",
    "fit_shadow_models",
    "make_keep_masks",
    "reference_masks",
    "train_shadow_models",
]

#: Fraction of each shadow model's OUT records given as its reference set when
#: its template takes one (a defence's own default holds out 20% of its data).
SHADOW_REFERENCE_FRACTION = 0.2


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
    codes = class_codes(y, n_records)
    keep = np.zeros((n_models, n_records), dtype=bool)
    for pair in range((n_models + 1) // 2):
        rng = np.random.default_rng([entropy, 0, pair])
        half = half_of_every_class(codes, rng, odd="coin")
        keep[2 * pair] = half
        if 2 * pair + 1 < n_models:
            keep[2 * pair + 1] = ~half
    return keep


def reference_masks(keep_masks, seeds, y=None, *, fraction=SHADOW_REFERENCE_FRACTION):
    """Each model's reference set: a stratified part of the records it does not
    train on.

    From the OUT records of model ``s`` (``~keep_masks[s]``), each class gives
    ``fraction`` of its OUT records (rounded up or down at random, so that
    the expected size is exact), at least one record in all; the draw depends
    on ``seeds[s]`` only.

    Parameters
    ----------
    keep_masks : ndarray of bool of shape (n_models, n_records)
    seeds : list of int
        One per model.
    y : array-like of shape (n_records,), default=None
        Labels to stratify by.
    fraction : float, default=SHADOW_REFERENCE_FRACTION
        In (0, 1].

    Returns
    -------
    ndarray of bool of shape (n_models, n_records)
        Never True where ``keep_masks`` is.
    """
    keep = np.asarray(keep_masks, dtype=bool)
    n_models, n_records = keep.shape
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    codes = class_codes(y, n_records)
    n_classes = int(codes.max()) + 1 if n_records else 0
    out = np.zeros_like(keep)
    for s in range(n_models):
        candidates = np.flatnonzero(~keep[s])
        if candidates.size == 0:
            raise ValueError(
                f"shadow model {s} trains on every record: none is left for its "
                "reference set"
            )
        rng = np.random.default_rng([int(seeds[s]), 0x4EF])
        c = codes[candidates]
        counts = np.bincount(c, minlength=n_classes)
        size = np.floor(counts * fraction + rng.random(n_classes)).astype(np.intp)
        size = np.minimum(size, counts)
        chosen = first_per_class(c, rng.random(candidates.size), size)
        if not chosen.any():
            chosen[rng.integers(candidates.size)] = True
        out[s, candidates[chosen]] = True
    return out


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
def _fit_one(template, X, y, keep, seed, reference=None):
    """Fit a fresh clone of ``template`` on the records ``keep`` selects, with
    the records ``reference`` selects as its reference set (if not None)."""
    model = clone(template)
    if "random_state" in model.get_params(deep=False):
        model.set_params(random_state=seed)
    fit_params = {}
    if reference is not None:
        fit_params = reference_fit_params(model, X[reference], y[reference])
    # skorch's partial_fit swallows KeyboardInterrupt and returns a truncated
    # net as if finished: re-raise so that it is neither used nor cached.
    with reraise_interrupt():
        torch = sys.modules.get("torch")
        if torch is None:
            return model.fit(X[keep], y[keep], **fit_params)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return model.fit(X[keep], y[keep], **fit_params)


def _predict_one(model, X, classes, i=None):
    name = "a shadow model" if i is None else f"shadow model {i}"
    proba = check_proba(model.predict_proba(X), n_records=len(X), model=name)
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


def _predict_log_one(model, X, classes, i=None):
    name = "a shadow model" if i is None else f"shadow model {i}"
    log_proba = check_log_proba(model_log_proba(model, X), model=name)
    model_classes = _model_classes(model, log_proba.shape[1], classes)
    return align_log_proba(log_proba, model_classes, classes)


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
    trust_cache=False,
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
    trust_cache : bool, default=False
        Whether everyone who can write to ``cache_dir`` is trusted. Only then
        are shadow models that are neither skorch nets nor scikit-learn
        estimators (or whose fitted state skops cannot hold with the trusted
        types) cached, as pickles: **loading a pickle runs whatever code the
        file holds**, so a planted file would run with your rights. Without
        it such models are retrained on every run (a ``UserWarning`` says so);
        skorch nets and scikit-learn estimators are always cached in formats
        that cannot run code.
    random_state : int, RandomState instance or None

    Returns
    -------
    models : list of fitted estimators, in the order of ``keep_masks``.

    Notes
    -----
    A template that takes a reference set (its privacy tags) gets, for each
    model, the records of :func:`reference_masks` (a part of those it does not
    train on) as ``fit`` keywords.
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
    cache = None
    if cache_dir is not None:
        cache_dir = os.fspath(cache_dir)
        fp = fingerprint(template, X, y, classes)
        open_cache(cache_dir, fp)
        cache = ShadowCache(cache_dir, template, fp, X, y, trust_cache=trust_cache)
    return _train(template, X, y, keep_masks, seeds, n_jobs, verbose, cache)[0]


def _reference_for(template, y, keep_masks, seeds):
    """The models' reference masks if the template takes a reference set."""
    if not get_privacy_tags(template).takes_reference:
        return None
    return reference_masks(keep_masks, seeds, y)


def _train(template, X, y, keep_masks, seeds, n_jobs, verbose, cache):
    n_models = keep_masks.shape[0]
    models = [None] * n_models
    # derived from the keep masks and seeds alone, which the cache checks
    reference = _reference_for(template, y, keep_masks, seeds)
    if cache is not None:
        for i in range(n_models):
            models[i] = cache.load(i, keep_masks[i], seeds[i])
    todo = [i for i in range(n_models) if models[i] is None]
    if todo:
        results = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(
            joblib.delayed(_fit_one)(
                template, X, y, keep_masks[i], seeds[i],
                None if reference is None else reference[i],
            )
            for i in todo
        )
        if verbose:
            from tqdm.auto import tqdm

            results = tqdm(results, total=len(todo), desc="shadow models", unit="model")
        # Results arrive in order; each is stored as soon as it is back, so an
        # interruption loses only the models still in flight.
        for i, model in zip(todo, results, strict=True):
            models[i] = model
            if cache is not None:
                cache.save(i, model, keep_masks[i], seeds[i])
    return models, len(todo), reference


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
    reference_masks : ndarray of bool of shape (n_shadow, n_population) or None
        The reference set each model was given (a part of its OUT records,
        labelled OUT in ``keep_masks``), None when the template takes none.
    """

    models: list
    keep_masks: np.ndarray
    seeds: list
    classes: np.ndarray
    n_trained: int = 0
    n_jobs: object = field(default=None, repr=False)
    reference_masks: object = field(default=None, repr=False)

    def __len__(self):
        return len(self.models)

    def predict_proba(self, X):
        """Every model's probabilities on ``X``: shape (n_shadow, n, n_classes).

        Raises
        ------
        ValueError
            If a model's output is not a probability distribution (NaN,
            infinite or negative values, rows not summing to 1); the message
            names the shadow model.
        """
        if not self.models:
            return np.zeros((0, len(X), len(self.classes)))
        out = joblib.Parallel(n_jobs=self.n_jobs)(
            joblib.delayed(_predict_one)(m, X, self.classes, i)
            for i, m in enumerate(self.models)
        )
        return np.stack(out)

    def predict_log_proba(self, X):
        """Every model's log-probabilities on ``X`` (see :func:`model_log_proba`)."""
        if not self.models:
            return np.zeros((0, len(X), len(self.classes)))
        out = joblib.Parallel(n_jobs=self.n_jobs)(
            joblib.delayed(_predict_log_one)(m, X, self.classes, i)
            for i, m in enumerate(self.models)
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
    trust_cache=False,
):
    """Make keep masks and seeds, then train (or load) ``n_shadow`` models.

    With ``random_state=None`` and an existing, matching cache, the cache's
    own seed is reused, so a rerun continues it instead of failing. With an
    explicit ``random_state`` that differs from the cache's, a ValueError is
    raised (the splits would differ).

    Parameters
    ----------
    template, X, y, classes, n_jobs, verbose, cache_dir
        As in :func:`train_shadow_models`.
    n_shadow : int
    random_state : int, RandomState instance or None
    trust_cache : bool, default=False
        As in :func:`train_shadow_models` (read the warning there).

    Returns
    -------
    ShadowModels
    """
    X = np.asarray(X)
    y = np.asarray(y)
    classes = np.unique(y) if classes is None else np.asarray(classes)
    entropy = None if random_state is None else derive_entropy(random_state)
    cache = None
    if cache_dir is not None:
        cache_dir = os.fspath(cache_dir)
        fp = fingerprint(template, X, y, classes)
        propose = derive_entropy(None) if entropy is None else entropy
        entropy = open_cache(cache_dir, fp, entropy, propose=propose)
        cache = ShadowCache(cache_dir, template, fp, X, y, trust_cache=trust_cache)
    elif entropy is None:
        entropy = derive_entropy(None)
    keep = _keep_masks(X.shape[0], n_shadow, entropy, y)
    seeds = _model_seeds(entropy, n_shadow)
    models, n_trained, reference = _train(
        template, X, y, keep, seeds, n_jobs, verbose, cache
    )
    return ShadowModels(
        models=models,
        keep_masks=keep,
        seeds=seeds,
        classes=classes,
        n_trained=n_trained,
        n_jobs=n_jobs,
        reference_masks=reference,
    )
