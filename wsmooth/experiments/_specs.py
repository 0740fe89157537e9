"""The specifications :func:`run_experiment` takes, read and checked before
anything trains.

``defences`` becomes ``{configuration: (estimator, {setting label:
params})}`` (:func:`parse_defences`; a setting's label names the parameters
that vary between the settings of its configuration), ``attacks`` becomes
``{label: (method, method_params)}`` (:func:`parse_attacks`, with the
label-only attack added where a defence modifies its outputs:
:func:`with_label_only`), and every attack is built and checked against the
shadow budget (:func:`check_attacks`).
"""

import warnings
from numbers import Integral

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid

from ..attacks._methods import get_method
from ..utils import get_privacy_tags
from ..utils._fingerprint import stable_value as _stable

__all__ = [
    "check_attacks",
    "parse_attacks",
    "parse_defences",
    "parse_seeds",
    "setting_tags",
    "undefended_configuration",
    "with_label_only",
]

#: Configuration names taken as the undefended one when ``undefended`` is not
#: given: the registry's ``"none"``, and the names a comparison built by hand
#: commonly gives it.
UNDEFENDED_NAMES = ("none", "undefended", "baseline")
_MISSING = "<missing>"


def _short(value):
    """A short, readable rendering of a parameter value for setting labels."""
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    if isinstance(value, type):
        return value.__name__
    if hasattr(value, "get_params"):
        return type(value).__name__
    if isinstance(value, list | tuple):
        inner = ",".join(_short(v) for v in value)
        one = isinstance(value, tuple) and len(value) == 1
        return f"({inner},)" if one else f"({inner})"
    return str(value)


def _label(params, varying=None):
    """``"name=value, ..."``: the parameters in ``varying`` (all if None).

    Names are shortened to their last ``__`` part when that stays unambiguous
    (``optimizer__weight_decay`` -> ``weight_decay``).
    """
    shown = {k: v for k, v in params.items() if varying is None or k in varying}
    shown = shown or params
    if not shown:
        return "default"
    tails = [k.rsplit("__", 1)[-1] for k in shown]
    short = len(set(tails)) == len(tails)
    return ", ".join(
        f"{k.rsplit('__', 1)[-1] if short else k}={_short(v)}"
        for k, v in sorted(shown.items())
    )


def _varying(settings):
    """Parameter names whose value differs between the settings."""
    keys = {k for p in settings for k in p}
    return {
        k
        for k in keys
        if len({joblib.hash(_stable(p.get(k, _MISSING))) for p in settings}) > 1
    }


def _settings(name, spec):
    """``(estimator, [params, ...])`` from one entry of ``defences``."""
    if hasattr(spec, "fit"):
        estimator, grid = spec, None
    elif isinstance(spec, tuple | list) and len(spec) == 2 and hasattr(spec[0], "fit"):
        estimator, grid = spec
    else:
        raise ValueError(
            f"defences[{name!r}] must be an unfitted estimator or a pair "
            f"(estimator, grid); got {type(spec).__name__}"
        )
    if not hasattr(estimator, "predict_proba"):
        raise ValueError(
            f"defences[{name!r}]: {type(estimator).__name__} has no predict_proba; "
            "membership attacks need predicted probabilities."
        )
    if grid is None:
        settings = [{}]
    elif isinstance(grid, dict):
        settings = list(ParameterGrid(grid))
    elif isinstance(grid, list | tuple) and all(isinstance(p, dict) for p in grid):
        settings = [dict(p) for p in grid] or [{}]
    else:
        raise ValueError(
            f"defences[{name!r}]: the grid must be None, a dict of parameter "
            "lists (every combination is run) or a list of parameter dicts (one "
            f"setting each); got {type(grid).__name__}"
        )
    labels = {}
    varying = _varying(settings)
    for params in settings:
        clone(estimator).set_params(**params)  # unknown names fail here, early
        label = _label(params, varying)
        if label in labels:
            label = f"{label} #{sum(k.startswith(label) for k in labels) + 1}"
        labels[label] = params
    return estimator, labels


def parse_attacks(attacks):
    """``{label: (method, method_params)}`` from the ``attacks`` argument of
    :func:`run_experiment`."""
    if isinstance(attacks, str):
        attacks = [attacks]
    if isinstance(attacks, dict):
        items = attacks.items()
    else:
        items = []
        for a in attacks:
            if isinstance(a, str):
                items.append((a, a))
            elif isinstance(a, tuple | list) and len(a) == 2:
                method, params = a
                items.append((f"{method}({_label(params or {})})", a))
            else:
                raise ValueError(
                    "each attack must be a method name or a pair (method, "
                    f"method_params); got {a!r}"
                )
    out = {}
    for label, spec in items:
        method, params = (spec, None) if isinstance(spec, str) else tuple(spec)
        if not isinstance(method, str) or not isinstance(params, dict | None):
            raise ValueError(
                f"attack {label!r} must be a method name or a pair (method, "
                f"method_params dict); got {spec!r}"
            )
        out[str(label)] = (method, params)
    if not out:
        raise ValueError("attacks is empty: name at least one attack method")
    return out


def parse_defences(defences):
    """``{configuration: (estimator, {label: params})}`` from the
    ``defences`` argument of :func:`run_experiment`; unknown parameter
    names fail here."""
    if not defences:
        raise ValueError("defences is empty: give at least one configuration")
    return {str(name): _settings(name, spec) for name, spec in defences.items()}


def setting_tags(specs):
    """``{(configuration, label): PrivacyTags}`` of every setting."""
    return {
        (name, label): get_privacy_tags(clone(estimator).set_params(**params))
        for name, (estimator, labels) in specs.items()
        for label, params in labels.items()
    }


def parse_seeds(seeds):
    """The list of distinct int seeds: ``0 .. seeds - 1`` or those given."""
    seeds = list(range(seeds)) if isinstance(seeds, Integral) else list(seeds)
    if not seeds or not all(isinstance(s, Integral) for s in seeds):
        raise ValueError(f"seeds must be a positive int or a list of ints; got {seeds}")
    seeds = [int(s) for s in seeds]  # numpy ints would not go into JSON
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct; got {seeds}")
    return seeds


def undefended_configuration(undefended, specs):
    """The undefended configuration's name: ``undefended``, checked, or the
    first of :data:`UNDEFENDED_NAMES` among the configurations (or None)."""
    if undefended is None:
        return next((n for n in UNDEFENDED_NAMES if n in specs), None)
    if undefended not in specs:
        raise ValueError(
            f"undefended={undefended!r} is not a configuration; "
            f"choose one of {list(specs)}"
        )
    return undefended


def _is_label_only(method):
    return not getattr(get_method(method), "requires_proba", True)


def with_label_only(attack_specs, tags):
    """``attack_specs`` with ``"label_only"`` added (and a warning) when no
    attack reads labels only and some setting modifies its outputs."""
    modified = [f"{n} {lab}" for (n, lab), t in tags.items() if t.modifies_outputs]
    if not modified or any(_is_label_only(m) for m, _ in attack_specs.values()):
        return attack_specs
    label = "label_only"
    while label in attack_specs:
        label += "+"
    warnings.warn(
        f"the settings {modified[:5]}{' ...' if len(modified) > 5 else ''} "
        "modify their outputs at prediction, which can hide their leakage from "
        "attacks on scores but not from their labels: the label-only attack "
        f"is added to the attacks {list(attack_specs)} as {label!r}",
        UserWarning,
        stacklevel=4,  # past with_label_only, run_experiment, validate_params
    )
    return {**attack_specs, label: ("label_only", None)}


def check_attacks(specs, attack_specs, n_shadow):
    """Validate every attack before any model is trained: the estimator's
    parameters, then the method built with its ``method_params`` and their
    own checks, the shadow-model count among them (what ``fit`` checks
    first)."""
    from ..attacks import MembershipInferenceAttack

    estimator = next(iter(specs.values()))[0]
    for label, (method, params) in attack_specs.items():
        attack = MembershipInferenceAttack(
            estimator, method=method, method_params=params, n_shadow=n_shadow
        )
        try:
            attack._validate_params()
            attack._make_method()
        except (ValueError, TypeError) as exc:
            raise ValueError(f"attack {label!r}: {exc}") from exc
