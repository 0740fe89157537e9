"""The interface between :class:`MembershipInferenceAttack` and its algorithms.

An attack algorithm is a small class derived from :class:`AttackMethod`,
registered under a name with :func:`register_method`; the estimator looks the
name up in the registry and drives the instance through two calls:

* ``fit(data)`` once, with an :class:`AttackData` holding everything the
  attacker has: the fitted target, its classes, the population, the shadow
  models with their keep masks and their probabilities on the population;
* ``decision_function(proba, y, X)`` per query, with the target's
  probabilities on the queried records, their class indices and the records.

A method's scores are *centred on its calibrated threshold*: ``score >= 0``
means "member". The estimator's ``predict`` is exactly that test, and
``evaluate`` reports balanced accuracy at threshold 0.
"""

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from sklearn.base import BaseEstimator

__all__ = [
    "AttackData",
    "AttackMethod",
    "PopulationQueryMixin",
    "register_method",
    "get_method",
    "METHODS",
]

# name -> AttackMethod subclass. ``METHOD_NAMES`` is the same set of names, kept
# as a live set object so that the estimator's parameter constraint
# (``StrOptions(METHOD_NAMES)``) accepts methods registered after import.
METHODS = {}
METHOD_NAMES = set()


@dataclass
class AttackData:
    """What an attack method may use to calibrate itself.

    Attributes
    ----------
    target : estimator
        The fitted target model (has ``predict_proba`` and ``classes_``).
    classes : ndarray of shape (n_classes,)
        The target's ``classes_``. All class indices below refer to it.
    X : ndarray of shape (n_population, ...)
        The attacker's population records.
    y : ndarray of int of shape (n_population,)
        Index in ``classes`` of each population record's label.
    target_proba : ndarray of shape (n_population, n_classes)
        The target's probabilities on the population (records the target has
        not seen, by the protocol).
    shadow_models : list of estimator
        Fitted shadow models (empty for methods with ``requires_shadow_models``
        False).
    keep_masks : ndarray of bool of shape (n_shadow, n_population)
        ``keep_masks[s, i]`` is True if shadow ``s`` was trained on record ``i``.
    shadow_proba : ndarray of shape (n_shadow, n_population, n_classes)
        Each shadow model's probabilities on the population, columns aligned
        to ``classes``; computed once.
    shadow_predict_proba : callable
        ``shadow_predict_proba(X) -> ndarray (n_shadow, n_records, n_classes)``
        for arbitrary records (e.g. LiRA online queries).
    population_index : callable
        ``population_index(X, y) -> ndarray of int``: for each record, the index
        of an identical (row, label) record in the population, or -1.
    random_state : int
        Seed derived from the estimator's ``random_state``, for methods that
        need randomness of their own.
    n_jobs, verbose
        The estimator's settings.
    target_log_proba : ndarray of shape (n_population, n_classes) or None
        The target's log-probabilities on the population (its
        ``predict_log_proba`` when it has one, else the log of
        ``predict_proba``); set only for methods with ``uses_log_proba``.
    shadow_log_proba : ndarray of shape (n_shadow, n_population, n_classes) or None
        The same for each shadow model; set only for methods with
        ``uses_log_proba``.
    shadow_predict_log_proba : callable or None
        ``shadow_predict_log_proba(X)``, as ``shadow_predict_proba``; set only
        for methods with ``uses_log_proba``.
    """

    target: Any
    classes: np.ndarray
    X: np.ndarray
    y: np.ndarray
    target_proba: np.ndarray
    shadow_models: list
    keep_masks: np.ndarray
    shadow_proba: np.ndarray
    shadow_predict_proba: Callable
    population_index: Callable
    random_state: int
    n_jobs: Any = None
    verbose: int = 0
    target_log_proba: Any = None
    shadow_log_proba: Any = None
    shadow_predict_log_proba: Any = None

    @property
    def n_classes(self):
        return len(self.classes)


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
    """

    _parameter_constraints: dict = {}

    #: Whether the estimator must train shadow models before :meth:`fit`.
    requires_shadow_models = True

    #: Whether the method reads log-probabilities: the estimator then fills
    #: the ``*_log_proba`` fields of :class:`AttackData` and passes
    #: ``log_proba=`` (the target's log-probabilities on the queries) to
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

    def fit(self, data):
        """Calibrate on an :class:`AttackData`; return self."""
        return self

    def _leave_one_shadow_out_threshold(self, n_shadow, pseudo_target, default):
        """The calibration shared by the shadow-model attacks.

        Each shadow model in turn plays the target: ``pseudo_target(s)``
        returns the scores of the population records when shadow ``s`` is
        attacked with the *other* shadows, and their membership of ``s`` (or
        None to skip it). The threshold maximising balanced accuracy over all
        of them is returned; ``default`` when the shadows are too few to give
        both members and non-members.
        """
        from ._threshold import best_threshold

        scores, labels = [], []
        for s in range(n_shadow):
            out = pseudo_target(s)
            if out is None:
                continue
            sc, lab = np.asarray(out[0], dtype=np.float64), np.asarray(out[1], bool)
            valid = np.isfinite(sc)
            scores.append(sc[valid])
            labels.append(lab[valid])
        if not scores:
            return default
        scores, labels = np.concatenate(scores), np.concatenate(labels)
        if labels.all() or not labels.any():
            return default
        return best_threshold(scores, labels)[0]

    def query_variants(self, X, y):
        """Which variant scores each query: ``"online"``, ``"offline"`` or None.

        None (the default) for methods without online/offline variants.
        """
        return None

    def decision_function(self, proba, y, X):
        """Membership scores, ``>= 0`` for predicted members.

        Parameters
        ----------
        proba : ndarray of shape (n_records, n_classes)
            The target's probabilities on the queried records.
        y : ndarray of int of shape (n_records,)
            Index in the target's ``classes_`` of each record's label.
        X : ndarray
            The queried records (for methods that query shadow models).
        """
        raise NotImplementedError


class PopulationQueryMixin:
    """The missing-query logic of the online/offline attacks, in one place.

    An online attack needs shadow models trained *with* the query, so only
    queries found in the population (same row, same label) can be scored
    online; the others fall back to the offline test. Methods with an
    ``online`` parameter that store ``population_index_`` (from
    :attr:`AttackData.population_index`) in ``fit`` get :meth:`_lookup`,
    :meth:`query_variants` and the fallback warning.
    """

    def _lookup(self, X, y):
        """``(index, found)``: each query's population index (-1: absent)."""
        idx = np.asarray(self.population_index_(X, y))
        return idx, idx >= 0

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


def register_method(name):
    """Class decorator: register an :class:`AttackMethod` under ``name``.

    ``MembershipInferenceAttack(method=name)`` then uses it; the estimator's code
    does not change.
    """

    def decorator(cls):
        if not (isinstance(cls, type) and issubclass(cls, AttackMethod)):
            raise TypeError(f"{cls!r} is not an AttackMethod subclass")
        METHODS[name] = cls
        METHOD_NAMES.add(name)
        return cls

    return decorator


def get_method(name):
    """The :class:`AttackMethod` subclass registered under ``name``."""
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(
            f"Unknown attack method {name!r}; registered: {sorted(METHODS)}"
        ) from None
