"""Content fingerprints of estimators and code: what a cache key is made of.

A cached result (a shadow model, an experiment's cell) is reused only for the
same configuration, so its key describes the configuration by content, never
by address: :func:`stable_value` turns a parameter value into a picklable
description (an estimator as its class and parameters, a class or function as
its qualified name and a digest of its source, arrays by hash), and
:func:`stable_params` does so for an estimator's parameters but
:data:`IGNORED_PARAMS`. A change of code (the source of a class, of the
classes it inherits from within its package, or of a function) changes the
fingerprint (:func:`code_digest`).
"""

import functools
import hashlib
import inspect

import joblib
import numpy as np

__all__ = [
    "IGNORED_PARAMS",
    "code_digest",
    "code_fingerprint",
    "qualified_name",
    "stable_params",
    "stable_value",
]

#: Parameters that do not change a fitted model, left out of the fingerprint
#: (a shadow model's random_state is overridden per model anyway).
IGNORED_PARAMS = frozenset({"random_state", "n_jobs", "verbose"})


def qualified_name(obj):
    """``module.qualname`` of a class or function (empty parts where absent)."""
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"


@functools.lru_cache(maxsize=None)
def code_digest(obj):
    """Hash of the source of a class or function (and of the classes it
    inherits from within its own package), the qualified name where no source
    is available: a change of code changes the fingerprint."""
    if isinstance(obj, type):
        package = obj.__module__.split(".")[0]
        parts = [
            c
            for c in obj.__mro__
            if c is obj or c.__module__.split(".")[0] == package
        ]
    else:
        parts = [obj]
    text = []
    for part in parts:
        try:
            text.append(inspect.getsource(part))
        except (OSError, TypeError):
            text.append(qualified_name(part))
    return hashlib.sha256("\0".join(text).encode()).hexdigest()[:20]


def code_fingerprint(obj):
    """``"module.qualname:digest"`` of a class or function (:func:`code_digest`),
    the qualified name alone for an unhashable callable."""
    try:
        return f"{qualified_name(obj)}:{code_digest(obj)}"
    except TypeError:  # unhashable callable
        return qualified_name(obj)


def stable_value(value):
    """A picklable, address-free description of a parameter value."""
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return code_fingerprint(value)
    if hasattr(value, "get_params") and not isinstance(value, type):
        return (code_fingerprint(type(value)), stable_params(value))
    if isinstance(value, dict):
        return {str(k): stable_value(v) for k, v in sorted(value.items(), key=str)}
    if isinstance(value, list | tuple):
        return [stable_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if isinstance(value, np.ndarray | np.generic):
        return joblib.hash(value)
    try:
        return f"{type(value).__qualname__}:{joblib.hash(value)}"
    except Exception:  # unpicklable: fall back to the type only
        return type(value).__qualname__


def stable_params(estimator):
    """:func:`stable_value` of each of an estimator's own parameters, but
    :data:`IGNORED_PARAMS`, sorted by name."""
    params = estimator.get_params(deep=False)
    return {
        k: stable_value(v) for k, v in sorted(params.items()) if k not in IGNORED_PARAMS
    }
