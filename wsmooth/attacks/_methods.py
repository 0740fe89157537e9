"""The interface between :class:`MembershipInferenceAttack` and its algorithms.

An attack algorithm is a small class derived from :class:`AttackMethod`,
registered under a name with :func:`register_method`; the estimator looks the
name up in the registry and drives the instance through two calls, each with
explicit arrays:

* ``fit_signals(signals)`` once, with one :class:`AttackSignals` record
  gathered by the estimator: the target's outputs on the attacker's
  population, the population itself, the shadow models' outputs on it with
  their keep masks (records x models, as ML Privacy Meter's signal matrix);
  ``fit(proba, y, X=None, *, log_proba=None, ...)`` takes the same arrays as
  keywords and packs them into the record;
* ``decision_function(proba, y, X, log_proba=None)`` per query, with the
  target's outputs on the queried records, their class indices and the
  records.

A method implements ``fit_signals``. One written against the keyword
``fit`` (overriding it) keeps working: :func:`fit_method`, which the
estimator calls, passes the record's arrays as keywords to an overridden
``fit``.

Each method reads only the arrays it needs and raises a ValueError naming one
it needs and was not given, so an algorithm can be fitted and tested on plain
arrays, without an estimator or shadow models.

A method's scores are *centred on its calibrated threshold*: ``score >= 0``
means "member". The estimator's ``predict`` is exactly that test, and
``evaluate`` reports balanced accuracy at threshold 0.
"""

import hashlib
import warnings
from dataclasses import dataclass, fields

import numpy as np
from sklearn.base import BaseEstimator

from ._calibration import leave_shadows_out_threshold

__all__ = [
    "AttackMethod",
    "AttackSignals",
    "PopulationQueryMixin",
    "available_methods",
    "fit_method",
    "register_method",
    "get_method",
    "METHODS",
]

# name -> AttackMethod subclass. ``METHOD_NAMES`` is the same set of names, kept
# as a live set object so that the estimator's parameter constraint
# (``StrOptions(METHOD_NAMES)``) accepts methods registered after import.
METHODS = {}
METHOD_NAMES = set()


@dataclass(frozen=True, eq=False)
class AttackSignals:
    """What an attack method calibrates on: one record, gathered once.

    :class:`MembershipInferenceAttack` computes the arrays once (the target's
    and the shadow models' outputs on the attacker's population, records x
    models) and hands them to the method's :meth:`AttackMethod.fit_signals`.
    Every field but ``y`` may be None where the method does not read it; a
    method raises a ValueError naming an array it needs and was not given.

    Attributes
    ----------
    y : ndarray of int of shape (n_population,)
        Index in the target's ``classes_`` of each population record's
        label.
    proba : ndarray of shape (n_population, n_classes) or None
        The target's probabilities on the population, columns in the
        order of the target's ``classes_`` (None for label-only methods).
    X : ndarray of shape (n_population, ...) or None
        The population records (methods that recognise queries in the
        population, or query models on perturbed copies, read them).
    log_proba : ndarray of shape (n_population, n_classes) or None
        The target's log-probabilities on the population (its
        ``predict_log_proba`` where it has one, else the log of
        ``predict_proba``).
    shadow_proba : ndarray of shape (n_shadow, n_population, n_classes) or None
        Each shadow model's probabilities on the population.
    shadow_log_proba : ndarray of shape (n_shadow, n_population, n_classes) \
            or None
        The same as log-probabilities.
    keep_masks : ndarray of bool of shape (n_shadow, n_population) or None
        ``keep_masks[s, i]`` is True if shadow ``s`` trained on record ``i``.
    shadows : ShadowModels or None
        The fitted shadow models (:class:`~wsmooth.attacks.ShadowModels`,
        or any object with ``models``, ``predict_proba(X)`` and
        ``predict_log_proba(X)`` returning arrays of shape
        ``(n_shadow, n_records, n_classes)``), for methods that query them
        on new records: LiRA and RMIA for queries outside the population,
        the label-only attack.
    target : estimator or None
        The fitted target, for methods that query it themselves (the
        label-only attack calls its ``predict``).
    random_state : int, default=0
        Seed for methods that need randomness of their own.

    Examples
    --------
    >>> import numpy as np
    >>> from wsmooth.attacks import AttackSignals, ThresholdAttack, make_keep_masks
    >>> rng = np.random.default_rng(0)
    >>> y = np.array([0, 1] * 10)
    >>> shadow_proba = rng.dirichlet([1, 1], size=(4, 20))
    >>> signals = AttackSignals(
    ...     y=y, shadow_proba=shadow_proba,
    ...     keep_masks=make_keep_masks(20, 4, random_state=0, y=y))
    >>> ThresholdAttack(signal="loss").fit_signals(signals).thresholds_.shape
    (2,)
    """

    y: np.ndarray
    proba: np.ndarray | None = None
    X: np.ndarray | None = None
    log_proba: np.ndarray | None = None
    shadow_proba: np.ndarray | None = None
    shadow_log_proba: np.ndarray | None = None
    keep_masks: np.ndarray | None = None
    shadows: object = None
    target: object = None
    random_state: int = 0

    def fit_kwargs(self):
        """The fields as the keyword arguments of :meth:`AttackMethod.fit`.

        Returns
        -------
        dict
        """
        return {f.name: getattr(self, f.name) for f in fields(self)}


class AttackMethod(BaseEstimator):
    """Base class of attack algorithms.

    Subclasses set :attr:`requires_shadow_models`, implement :meth:`fit` and
    :meth:`decision_function`, and may override :meth:`from_attack` to read
    estimator parameters (the default passes ``attack.method_params`` as
    keyword arguments to the constructor).

    An instance is also what ``MembershipInferenceAttack(method=...)`` takes
    in place of a name (it is cloned, as scikit-learn's ``cv=`` objects are
    used): its ``__init__`` stores its parameters, as a scikit-learn
    estimator's does, and ``_parameter_constraints`` declares them, so that
    :meth:`check_params` rejects bad values before any shadow model trains.

    Both calls take explicit arrays (see :meth:`fit`): a method can be fitted
    on arrays alone, with no estimator and no shadow models.
    """

    _parameter_constraints: dict = {}

    #: Whether the estimator must train shadow models before :meth:`fit`.
    requires_shadow_models = True

    #: Whether the method reads log-probabilities: the estimator then passes
    #: ``log_proba`` and ``shadow_log_proba`` to :meth:`fit` and ``log_proba``
    #: (the target's log-probabilities on the queries) to
    #: :meth:`decision_function`.
    uses_log_proba = False

    @classmethod
    def from_attack(cls, attack):
        """Build the method from a :class:`MembershipInferenceAttack`'s params."""
        return cls(**(attack.method_params or {}))

    def check_params(self, n_shadow):
        """Validate the parameters (and ``n_shadow``) before shadow training.

        The default checks ``_parameter_constraints`` the scikit-learn way;
        methods with needs on ``n_shadow`` extend it.
        """
        if self._parameter_constraints:
            self._validate_params()

    def fit(
        self,
        proba,
        y,
        X=None,
        *,
        log_proba=None,
        shadow_proba=None,
        shadow_log_proba=None,
        keep_masks=None,
        shadows=None,
        target=None,
        random_state=0,
    ):
        """Calibrate on the attacker's population; return self.

        The keyword form of :meth:`fit_signals`: the arguments are packed
        into an :class:`AttackSignals` record (see it for each one), which
        :meth:`fit_signals` reads. Every argument but ``y`` may be None where
        the method does not read it; a method raises a ValueError naming an
        array it needs and was not given.

        A method written against this keyword form (overriding ``fit``)
        still works: the estimator then calls it with every argument (see
        :func:`fit_method`).

        Returns
        -------
        self
        """
        if _overrides(type(self), "fit_signals"):
            return self.fit_signals(
                AttackSignals(
                    y=y,
                    proba=proba,
                    X=X,
                    log_proba=log_proba,
                    shadow_proba=shadow_proba,
                    shadow_log_proba=shadow_log_proba,
                    keep_masks=keep_masks,
                    shadows=shadows,
                    target=target,
                    random_state=random_state,
                )
            )
        return self

    def fit_signals(self, signals):
        """Calibrate on the attacker's population; return self.

        What methods implement, and what :class:`MembershipInferenceAttack`
        calls (through :func:`fit_method`).

        Parameters
        ----------
        signals : AttackSignals
            The target's and the shadow models' outputs on the population,
            the population, the keep masks, the fitted models and a seed.

        Returns
        -------
        self
        """
        if _overrides(type(self), "fit"):  # a method of the keyword form
            return self.fit(**signals.fit_kwargs())
        return self

    def _require(self, **arrays):
        """Raise a ValueError naming the first of ``arrays`` that is None."""
        for name, value in arrays.items():
            if value is None:
                raise ValueError(
                    f"{type(self).__name__}.fit needs {name}, which was not "
                    f"given: pass {name}=... (MembershipInferenceAttack passes "
                    "it for you)."
                )

    def _check_shadow_arrays(self, y, keep_masks, **arrays):
        """``keep_masks`` as bool, checked against ``y`` and the shadow arrays."""
        self._require(keep_masks=keep_masks)
        keep = np.asarray(keep_masks, dtype=bool)
        n_pop = np.asarray(y).shape[0]
        if keep.ndim != 2 or keep.shape[1] != n_pop:
            raise ValueError(
                f"keep_masks must have shape (n_shadow, n_population) = "
                f"(n_shadow, {n_pop}) for {n_pop} population records; got "
                f"{keep.shape}"
            )
        for name, value in arrays.items():
            if value is not None and np.shape(value)[:2] != keep.shape:
                raise ValueError(
                    f"{name} must have shape (n_shadow, n_population, n_classes) "
                    f"with (n_shadow, n_population) = {keep.shape} as keep_masks; "
                    f"got {np.shape(value)}"
                )
        return keep

    def _leave_shadows_out_threshold(self, keep_masks, pseudo_target, default):
        """The threshold calibration shared by the shadow-model attacks:
        :func:`~wsmooth.attacks._calibration.leave_shadows_out_threshold`.

        Each shadow model in turn plays the target, attacked with the
        shadows :func:`~wsmooth.attacks._calibration.calibration_shadows`
        allows (all but it and its complementary partner): ``pseudo_target(s,
        others)`` returns the scores of the population records when shadow
        ``s`` is attacked with the shadows ``others``, and their membership
        of ``s`` (or None to skip it). The threshold maximising balanced
        accuracy over all of them is returned; ``default`` when the shadows
        are too few to give both members and non-members.
        """
        return leave_shadows_out_threshold(keep_masks, pseudo_target, default)

    def query_variants(self, X, y):
        """Which variant scores each query: ``"online"``, ``"offline"`` or None.

        None (the default) for methods without online/offline variants.
        """
        return None

    def decision_function(self, proba, y, X, log_proba=None):
        """Membership scores, ``>= 0`` for predicted members.

        Parameters
        ----------
        proba : ndarray of shape (n_records, n_classes) or None
            The target's probabilities on the queried records (None for
            label-only methods).
        y : ndarray of int of shape (n_records,)
            Index in the target's ``classes_`` of each record's label.
        X : ndarray of shape (n_records, ...)
            The queried records (for methods that look them up in the
            population or query models).
        log_proba : ndarray of shape (n_records, n_classes), default=None
            The target's log-probabilities on them; passed by the estimator
            to methods with :attr:`uses_log_proba` only.

        Returns
        -------
        ndarray of shape (n_records,)
        """
        raise NotImplementedError


def _record_digests(X, y, chunk=4096):
    """16-byte BLAKE2b digest of each (row, label) record, as ``S16``.

    Rows are read as little-endian float64 (``-0.0`` as ``0.0``), so a record
    has one digest whatever numeric dtype it arrives in; the label is its
    class index. Converted ``chunk`` rows at a time to bound the copies.
    """
    n = X.shape[0]
    X = np.asarray(X).reshape(n, -1)
    labels = np.asarray(y).astype("<i8").reshape(n, 1)
    out = np.empty(n, dtype="S16")
    blake2b = hashlib.blake2b
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        rows = X[start:stop].astype("<f8") + 0.0
        buf = np.ascontiguousarray(
            np.concatenate(
                [rows.view(np.uint8), labels[start:stop].view(np.uint8)], axis=1
            )
        )
        out[start:stop] = [blake2b(r.data, digest_size=16).digest() for r in buf]
    return out


class _PopulationIndex:
    """``population_index(X, y)``: index of each (row, label) record in the
    population, -1 where absent (picklable).

    Holds one digest per population record (:func:`_record_digests`), sorted,
    never the records themselves, so a saved attack does not carry the
    population (in the pool protocol: the target's members).
    """

    def __init__(self, X, y):
        digests = _record_digests(np.asarray(X), y)
        self.order_ = np.argsort(digests, kind="stable")
        self.sorted_digests_ = digests[self.order_]

    def __call__(self, X, y):
        query = _record_digests(np.asarray(X), y)
        n = self.sorted_digests_.shape[0]
        if n == 0:
            return np.full(query.shape[0], -1, dtype=np.intp)
        pos = np.clip(np.searchsorted(self.sorted_digests_, query), 0, n - 1)
        return np.where(
            self.sorted_digests_[pos] == query, self.order_[pos], -1
        ).astype(np.intp)


class PopulationQueryMixin:
    """The missing-query logic of the online/offline attacks, in one place.

    An online attack needs shadow models trained *with* the query, so only
    queries found in the population (same row, same label) can be scored
    online; the others fall back to the offline test, which asks the shadow
    models about them. Methods with an ``online`` parameter call
    :meth:`_fit_population` in ``fit`` and get :meth:`_lookup`,
    :meth:`_shadow_outputs`, :meth:`query_variants` and the fallback warning.
    """

    def _fit_population(self, X, y, shadows):
        """Index the population ``(X, y)`` and keep ``shadows`` for the fallback.

        The index (``population_index_``) holds one digest per record, never
        the records, so a saved attack carries no population row.
        """
        self._require(X=X)
        X = np.asarray(X)
        if X.shape[0] != np.asarray(y).shape[0]:
            raise ValueError(
                f"X and y have different lengths: {X.shape[0]} != "
                f"{np.asarray(y).shape[0]}"
            )
        self.population_index_ = _PopulationIndex(X, y)
        self.shadows_ = shadows

    def _lookup(self, X, y):
        """``(index, found)``: each query's population index (-1: absent)."""
        idx = np.asarray(self.population_index_(X, y))
        return idx, idx >= 0

    def _shadow_outputs(self, X):
        """``(proba, log_proba)`` of the shadow models on records outside the
        population: log-probabilities where ``shadows_`` gives them (``proba``
        is then None), else probabilities (``log_proba`` None)."""
        shadows = getattr(self, "shadows_", None)
        if shadows is None:
            raise ValueError(
                f"{len(X)} queried records are not in the population and "
                f"{type(self).__name__} scores them with the shadow models, "
                "which fit was not given: pass shadows=... to fit, or query "
                "population records only."
            )
        log_fn = getattr(shadows, "predict_log_proba", None)
        if log_fn is None:
            return shadows.predict_proba(X), None
        return None, log_fn(X)

    def query_variants(self, X, y):
        _, found = self._lookup(X, y)
        if not self.online:
            return np.full(found.shape, "offline", dtype=object)
        return np.where(found, "online", "offline").astype(object)

    def _warn_offline_fallback(self, n_missing, n_queries, what):
        if self.online and n_missing:
            warnings.warn(
                f"{n_missing} of {n_queries} queried records are not in the "
                f"attack's population, so no shadow model trained on them: "
                f"{what} for them. Fit on a pool that contains the queries for "
                "the online attack (wsmooth.attacks.pool_split).",
                UserWarning,
                stacklevel=4,
            )


def register_method(name, *, force=False):
    """Class decorator: register an :class:`AttackMethod` under ``name``.

    ``MembershipInferenceAttack(method=name)`` then uses it; the estimator's code
    does not change.

    Parameters
    ----------
    name : str
        The name ``method=`` takes.
    force : bool, default=False
        Replace a method registered under the same name; without it, such a
        name is refused (a second algorithm must not silently change what a
        name runs). Registering the very class a name holds already is
        allowed.

    Returns
    -------
    callable
        The decorator, which returns the class unchanged.

    Examples
    --------
    >>> from wsmooth.attacks import AttackMethod, available_methods, register_method
    >>> @register_method("my_attack")
    ... class MyAttack(AttackMethod):
    ...     requires_shadow_models = False
    ...     def decision_function(self, proba, y, X=None):
    ...         return proba[range(len(y)), y] - 0.5
    >>> "my_attack" in available_methods()
    True
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"a method's name must be a non-empty str, got {name!r}")

    def decorator(cls):
        if not (isinstance(cls, type) and issubclass(cls, AttackMethod)):
            raise TypeError(f"{cls!r} is not an AttackMethod subclass")
        if METHODS.get(name, cls) is not cls and not force:
            raise ValueError(
                f"an attack method named {name!r} is registered already "
                f"({METHODS[name].__name__}); pass force=True to replace it"
            )
        METHODS[name] = cls
        METHOD_NAMES.add(name)
        return cls

    return decorator


def available_methods():
    """Names of the registered attack methods, sorted.

    What ``MembershipInferenceAttack(method=...)`` takes by name: the
    built-in algorithms and those registered with :func:`register_method`.

    Returns
    -------
    list of str
    """
    return sorted(METHODS)


def get_method(name):
    """The :class:`AttackMethod` subclass registered under ``name``."""
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(
            f"Unknown attack method {name!r}; registered: {available_methods()}"
        ) from None


def _overrides(cls, name):
    """Whether ``cls`` defines ``name`` other than :class:`AttackMethod` does."""
    return getattr(cls, name) is not getattr(AttackMethod, name)


def fit_method(method, signals):
    """Fit ``method`` on ``signals``, whichever form of ``fit`` it implements.

    A method that overrides the keyword :meth:`AttackMethod.fit` (written
    against it, or a subclass of a built-in method that extends its ``fit``)
    gets every field as a keyword, exactly as before the record existed;
    any other method gets the record through
    :meth:`AttackMethod.fit_signals`.

    Parameters
    ----------
    method : AttackMethod
    signals : AttackSignals

    Returns
    -------
    AttackMethod
        What the method's fit returned (itself).
    """
    if _overrides(type(method), "fit"):
        return method.fit(**signals.fit_kwargs())
    return method.fit_signals(signals)
