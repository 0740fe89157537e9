"""The shadow-model cache: files a user may not have written, read as data.

A cache directory may be shared, copied or planted, so nothing in it is ever
unpickled unless the user says they trust it (``trust_cache=True``):

* ``manifest.json``: format, fingerprints of the configuration (template,
  population, classes) and the seed entropy. Created atomically and
  exclusively (write a temporary file, hard-link it into place), so two
  processes starting on one fresh cache agree on one seed; the loser re-reads
  the winner's manifest. A seed added to a manifest written without one goes
  to ``seed.json``, created the same way.
* ``shadow_NNNN.json``: one record per finished model: keep mask, seed,
  fingerprints, storage kind, the payload's name and SHA-256 digest. Written
  after the payload, so a record always names a complete payload.
* the payload, by the storage kind the *template* decides (never the file):

  - ``"torch"`` (skorch nets, e.g. :class:`~wsmooth.WeightedSmoothingClassifier`):
    ``shadow_NNNN.safetensors``, the state dicts of the net's modules; the
    model is rebuilt by cloning the template, restoring ``n_features_in_`` and
    the classes (checked against the population), ``initialize()`` and
    ``load_state_dict(strict=True)``.
  - ``"skops"`` (scikit-learn estimators): ``shadow_NNNN.skops``, loaded with
    :func:`skops.io.load` and an explicit trusted list: the classes and
    callables the template's parameters name, and classes (never functions)
    of the template's own libraries (e.g. ``sklearn.tree._tree.Tree``) in
    modules this process has already imported. The list is computed from the
    template, never read from the file; a file needing any other type is
    refused before anything is built.
  - ``"joblib"``: any other estimator (or a scikit-learn one whose fitted
    state skops cannot store with the types above), only with
    ``trust_cache=True``; ``shadow_NNNN.joblib`` is then an ordinary pickle,
    which runs code when loaded. Without it such models are not cached.

A record or payload that is corrupt, truncated, foreign or tampered with
raises a ``ValueError`` naming the file; deleting the model's files has it
retrained. Files are created readable as the umask allows (``0o666 & ~umask``),
so a group sharing the directory can read them.
"""

import base64
import hashlib
import io
import json
import os
import sys
import time
import warnings

import joblib
import numpy as np

from ..utils._files import create_exclusive, write_atomic
from ..utils._fingerprint import code_fingerprint, qualified_name, stable_params

__all__ = ["ShadowCache", "fingerprint", "open_cache"]

FORMAT = 2
_MANIFEST = "manifest.json"
_SEED = "seed.json"
_SUFFIX = {"torch": ".safetensors", "skops": ".skops", "joblib": ".joblib"}
_RECORD_KEYS = {
    "format": int,
    "kind": str,
    "index": int,
    "seed": int,
    "n_records": int,
    "keep": str,
    "fingerprint": dict,
    "payload": str,
    "sha256": str,
    "attributes": dict,
}


# --------------------------------------------------------------------------- #
# Fingerprints
# --------------------------------------------------------------------------- #
def fingerprint(template, X, y, classes):
    """Hashes identifying a shadow configuration: template (its parameters and
    the source of the classes they name), population, classes."""
    return {
        "template": joblib.hash(
            (code_fingerprint(type(template)), stable_params(template))
        ),
        "population": joblib.hash((np.asarray(X), np.asarray(y))),
        "classes": joblib.hash(np.asarray(classes)),
    }


# --------------------------------------------------------------------------- #
# Files
# --------------------------------------------------------------------------- #
def _json_bytes(obj):
    return json.dumps(obj, indent=1, sort_keys=True).encode()


def _read_json(path, what):
    """Parsed JSON object, None if absent; ValueError naming the file if bad."""
    for attempt in range(3):
        try:
            with open(path, "rb") as f:
                obj = json.loads(f.read().decode("utf-8"))
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            return obj
        except FileNotFoundError:
            return None
        except (ValueError, UnicodeDecodeError) as exc:
            if attempt < 2:  # a concurrent non-atomic create may be mid-write
                time.sleep(0.05)
                continue
            raise ValueError(
                f"{what} {path!r} is corrupt or not a wsmooth shadow cache file "
                f"({exc}). Delete it or use another cache_dir."
            ) from None


# --------------------------------------------------------------------------- #
# Manifest
# --------------------------------------------------------------------------- #
def _check_manifest(manifest, expected, cache_dir):
    fmt = manifest.get("format")
    if fmt != FORMAT:
        old = (
            " It was written by an older wsmooth that stored pickles, which can "
            "run code when loaded, so it is not read."
            if fmt == 1
            else ""
        )
        raise ValueError(
            f"cache_dir {cache_dir!r} holds a shadow cache of an unknown format "
            f"({fmt!r}).{old} Use another cache_dir or clear it."
        )
    for key, what in (
        (
            "template",
            "another shadow model configuration (the target's or "
            "shadow_estimator's parameters, or the code of their classes, differ)",
        ),
        ("population", "another population (X, y differ)"),
        ("classes", "another set of target classes"),
    ):
        if manifest.get(key) != expected[key]:
            raise ValueError(
                f"cache_dir {cache_dir!r} was written for {what}; refusing to "
                "reuse its shadow models. Use another cache_dir or clear it."
            )


def _entropy_of(cache_dir, manifest):
    entropy = manifest.get("entropy")
    if entropy is None:
        seed = _read_json(os.path.join(cache_dir, _SEED), "seed file")
        entropy = None if seed is None else seed.get("entropy")
    if entropy is not None and (
        not isinstance(entropy, int) or isinstance(entropy, bool)
    ):
        raise ValueError(
            f"cache_dir {cache_dir!r} records a seed that is not an integer "
            f"({entropy!r}); clear it or use another cache_dir."
        )
    return entropy


def open_cache(cache_dir, fp, entropy=None, *, propose=None):
    """Create or check the manifest; return the seed entropy the cache uses.

    ``entropy``: the seed the caller requires (an explicit random_state); it
    must match the cache's. ``propose``: a seed recorded if the cache has none
    yet; a caller without a required seed follows whatever the cache records.
    Creation is exclusive, so of several processes starting together one
    writes and the others follow it. Returns None if the cache has no seed
    and none was proposed.
    """
    os.makedirs(cache_dir, exist_ok=True)
    expected = {"format": FORMAT, **fp}
    path = os.path.join(cache_dir, _MANIFEST)
    manifest = _read_json(path, "shadow cache manifest")
    if manifest is None:
        new = dict(expected) if propose is None else {**expected, "entropy": propose}
        create_exclusive(path, _json_bytes(new))
        manifest = _read_json(path, "shadow cache manifest")
    _check_manifest(manifest, expected, cache_dir)
    cached = _entropy_of(cache_dir, manifest)
    if cached is None and propose is not None:
        seed_path = os.path.join(cache_dir, _SEED)
        create_exclusive(seed_path, _json_bytes({"entropy": propose}))
        cached = _entropy_of(cache_dir, manifest)
    if entropy is not None and cached is not None and cached != entropy:
        raise ValueError(
            f"cache_dir {cache_dir!r} was written with another random_state; "
            "use another cache_dir, clear it, or pass random_state=None to "
            "continue it."
        )
    return cached


# --------------------------------------------------------------------------- #
# Storage kinds
# --------------------------------------------------------------------------- #
def _is_skorch_net(estimator):
    skorch = sys.modules.get("skorch")
    return skorch is not None and isinstance(estimator, skorch.NeuralNet)


def storage_kind(template, trust_cache):
    """How models of ``template`` are stored: "torch", "skops", "joblib" or None."""
    from sklearn.base import BaseEstimator

    if _is_skorch_net(template):
        return "torch"
    if isinstance(template, BaseEstimator):
        return "skops"
    return "joblib" if trust_cache else None


def _trust_rule(template):
    """Names the template's parameters give, and the packages of its classes."""
    names, packages = set(), {"sklearn"}

    def visit(value):
        named = callable(value) and hasattr(value, "__qualname__")
        if isinstance(value, type) or named:
            names.add(qualified_name(value))
        elif hasattr(value, "get_params"):
            cls = type(value)
            names.add(qualified_name(cls))
            packages.add(cls.__module__.split(".")[0])
        elif isinstance(value, list | tuple):
            for v in value:
                visit(v)
        elif isinstance(value, dict):
            for v in value.values():
                visit(v)

    visit(template)
    for value in template.get_params(deep=True).values():
        visit(value)
    return frozenset(names), frozenset(packages)


def _trusted_types(rule):
    """The explicit skops trusted list of a template, never read from a file:
    the names its parameters give, and every class (no function) defined in
    an already imported module of its packages."""
    names, packages = rule
    trusted = set(names)
    for modname, module in list(sys.modules.items()):
        if module is None or modname.split(".")[0] not in packages:
            continue
        for attr, obj in list(vars(module).items()):
            if isinstance(obj, type) and getattr(obj, "__module__", None) == modname:
                trusted.add(f"{modname}.{attr}")
    return trusted


def _skops_types(data, rule):
    """The types a skops payload needs trusted, and those the rule refuses."""
    import skops.io as sio

    trusted = _trusted_types(rule)
    untrusted = sio.get_untrusted_types(data=data)
    return sorted(trusted), [t for t in untrusted if t not in trusted]


def _net_state(model):
    """The tensors of a skorch net's modules and criteria, keyed ``attr.name``."""
    state = {}
    for name in [*model._modules, *model._criteria]:
        part = getattr(model, name + "_", None)
        if part is None or not hasattr(part, "state_dict"):
            continue
        for key, tensor in part.state_dict().items():
            state[f"{name}_.{key}"] = tensor.detach().cpu().contiguous().clone()
    # fitted arrays a net needs to predict besides its weights (a class lists
    # them in ``_fitted_arrays``; HAMP's feature bounds)
    import torch

    for name in getattr(model, "_fitted_arrays", ()):
        if hasattr(model, name):
            state[f"fitted.{name}"] = torch.as_tensor(np.array(getattr(model, name)))
    return state


def _net_attributes(model):
    attrs = {}
    if hasattr(model, "n_features_in_"):
        attrs["n_features_in_"] = int(model.n_features_in_)
    encoder = getattr(model, "label_encoder_", None)
    if encoder is not None and hasattr(encoder, "classes_"):
        attrs["label_encoder_"] = np.asarray(encoder.classes_).tolist()
    elif hasattr(model, "classes_inferred_"):
        attrs["classes_inferred_"] = np.asarray(model.classes_inferred_).tolist()
    return attrs


def _pack_keep(keep):
    return base64.b64encode(np.packbits(keep).tobytes()).decode("ascii")


# --------------------------------------------------------------------------- #
# The cache
# --------------------------------------------------------------------------- #
class ShadowCache:
    """Store and load the finished shadow models of one configuration.

    Parameters
    ----------
    cache_dir : str
    template : estimator
    fp : dict
        :func:`fingerprint` of the configuration.
    X, y : ndarray
        The population (to check a rebuilt net's feature count and classes).
    trust_cache : bool
        Allow pickles (``"joblib"`` storage) for estimators skops cannot hold.
    """

    def __init__(self, cache_dir, template, fp, X, y, *, trust_cache=False):
        self.cache_dir = cache_dir
        self.template = template
        self.fp = fp
        self.X, self.y = X, y
        self.trust_cache = trust_cache
        self.kind = storage_kind(template, trust_cache)
        self.rule = _trust_rule(template) if self.kind == "skops" else None
        self._warned = False
        if self.kind is None:
            self._warn(
                f"shadow models of type {type(template).__name__} are not "
                "cached: it is neither a skorch net nor a scikit-learn estimator, "
                "so they could only be stored as pickles, which run code when "
                "loaded. Pass trust_cache=True if you trust everyone who can "
                "write to cache_dir."
            )

    def _warn(self, message):
        if not self._warned:
            warnings.warn(message, UserWarning, stacklevel=4)
            self._warned = True

    def _path(self, i, suffix):
        return os.path.join(self.cache_dir, f"shadow_{i:04d}{suffix}")

    # ------------------------------------------------------------------ save
    def save(self, i, model, keep, seed):
        """Store model ``i``; returns False when it could not be stored safely."""
        kind = self.kind
        if kind is None:
            return False
        attributes = {}
        if kind == "torch":
            from safetensors.torch import save as st_save

            payload = st_save(_net_state(model))
            attributes = _net_attributes(model)
        elif kind == "skops":
            import skops.io as sio

            try:
                payload = sio.dumps(model)
            except Exception as exc:  # skops cannot hold the state at all
                # (e.g. a wrapper holding torch modules, as MemGuard does)
                payload, refused = None, [f"{type(exc).__name__}: {exc}"]
            else:
                _, refused = _skops_types(payload, self.rule)
            if refused:
                if not self.trust_cache:
                    self._warn(
                        f"shadow models of type {type(model).__name__} are not "
                        f"cached: their fitted state holds types {refused[:5]} "
                        "that a safe (skops) cache cannot trust. Pass "
                        "trust_cache=True to store them as pickles if you trust "
                        "everyone who can write to cache_dir."
                    )
                    return False
                kind = "joblib"
        if kind == "joblib":
            buffer = io.BytesIO()
            joblib.dump(model, buffer)
            payload = buffer.getvalue()
        payload_path = self._path(i, _SUFFIX[kind])
        write_atomic(payload_path, payload)
        record = {
            "format": FORMAT,
            "kind": kind,
            "index": i,
            "seed": int(seed),
            "n_records": int(keep.shape[0]),
            "keep": _pack_keep(keep),
            "fingerprint": self.fp,
            "payload": os.path.basename(payload_path),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "attributes": attributes,
        }
        write_atomic(self._path(i, ".json"), _json_bytes(record))
        return True

    # ------------------------------------------------------------------ load
    def _bad(self, path, problem):
        return ValueError(
            f"cached shadow model {path!r} {problem}. Delete shadow_"
            f"{os.path.basename(path)[7:11]}.* in {self.cache_dir!r} to have the "
            "model retrained, or use another cache_dir."
        )

    def load(self, i, keep, seed):
        """Model ``i`` from the cache, None if not there; ValueError if bad."""
        if self.kind is None:
            return None
        path = self._path(i, ".json")
        record = _read_json(path, "cached shadow model record")
        if record is None:
            return None
        for key, typ in _RECORD_KEYS.items():
            value = record.get(key)
            if not isinstance(value, typ) or isinstance(value, bool):
                raise self._bad(path, f"is not a valid record (bad {key!r})")
        if record["format"] != FORMAT:
            raise self._bad(path, f"has an unknown format ({record['format']})")
        kind = record["kind"]
        allowed = {self.kind} | ({"joblib"} if self.trust_cache else set())
        if kind not in allowed:
            raise self._bad(
                path,
                f"is stored as {kind!r}, but a {type(self.template).__name__} "
                f"template is only loaded from {sorted(allowed)} files"
                + ("" if self.trust_cache else " (pickles need trust_cache=True)"),
            )
        if record["fingerprint"] != self.fp:
            raise self._bad(path, "was written for another configuration")
        if (
            record["n_records"] != keep.shape[0]
            or record["keep"] != _pack_keep(keep)
            or record["seed"] != seed
        ):
            raise ValueError(
                f"cached shadow model {path!r} was trained on another split of the "
                "population (a different random_state); use another cache_dir, "
                "clear it, or the random_state it was written with."
            )
        payload_path = self._path(i, _SUFFIX[kind])
        if record["payload"] != os.path.basename(payload_path):
            raise self._bad(path, f"names an unexpected payload {record['payload']!r}")
        try:
            with open(payload_path, "rb") as f:
                payload = f.read()
        except OSError as exc:
            raise self._bad(payload_path, f"cannot be read ({exc})") from None
        if hashlib.sha256(payload).hexdigest() != record["sha256"]:
            raise self._bad(
                payload_path, "does not match its record (truncated or modified)"
            )
        try:
            if kind == "torch":
                return self._load_net(payload, record["attributes"], keep, seed)
            if kind == "skops":
                model = self._load_skops(payload, payload_path)
            else:
                model = joblib.load(io.BytesIO(payload))
        except ValueError as exc:
            if str(exc).startswith("cached shadow model"):
                raise
            raise self._bad(payload_path, f"cannot be loaded ({exc})") from exc
        except Exception as exc:
            raise self._bad(
                payload_path, f"cannot be loaded ({type(exc).__name__}: {exc})"
            ) from exc
        if type(model) is not type(self.template):
            raise self._bad(
                payload_path,
                f"holds a {type(model).__name__}, not a "
                f"{type(self.template).__name__}",
            )
        return model

    def _load_skops(self, payload, path):
        import skops.io as sio

        trusted, refused = _skops_types(payload, self.rule)
        if refused:
            raise self._bad(
                path,
                f"holds types {refused[:10]} that a fitted "
                f"{type(self.template).__name__} is not expected to contain; "
                "it is refused",
            )
        return sio.loads(payload, trusted=trusted)

    def _load_net(self, payload, attributes, keep, seed):
        from safetensors.torch import load as st_load
        from sklearn.base import clone

        try:
            state = st_load(payload)
        except Exception as exc:
            raise ValueError(f"not a safetensors file: {exc}") from None
        model = clone(self.template)
        if "random_state" in model.get_params(deep=False):
            model.set_params(random_state=seed)
        unknown = set(attributes) - {
            "n_features_in_",
            "label_encoder_",
            "classes_inferred_",
        }
        if unknown:
            raise ValueError(f"unexpected attributes {sorted(unknown)}")
        if "n_features_in_" in attributes:
            n = attributes["n_features_in_"]
            if self.X.ndim == 2 and n != self.X.shape[1]:
                raise ValueError(
                    f"n_features_in_={n!r} but the population has "
                    f"{self.X.shape[1]} features"
                )
            model.n_features_in_ = int(n)
        for name in ("label_encoder_", "classes_inferred_"):
            if name not in attributes:
                continue
            classes = self._expected_classes(model, keep, name)
            if attributes[name] != classes.tolist():
                raise ValueError(f"{name} does not hold the classes the model saw")
            if name == "label_encoder_":
                from sklearn.preprocessing import LabelEncoder

                encoder = LabelEncoder()
                encoder.classes_ = classes
                model.label_encoder_ = encoder
            else:
                model.classes_inferred_ = classes
        model.initialize()
        for name in [*model._modules, *model._criteria]:
            part = getattr(model, name + "_", None)
            if part is None or not hasattr(part, "load_state_dict"):
                continue
            prefix = name + "_."
            sub = {
                k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)
            }
            try:
                part.load_state_dict(sub, strict=True)
            except RuntimeError as exc:
                lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
                detail = (lines[1] if len(lines) > 1 else lines[0])[:200]
                raise ValueError(
                    f"its weights do not fit the template's {name} ({detail})"
                ) from None
            state = {k: v for k, v in state.items() if not k.startswith(prefix)}
        for name in getattr(model, "_fitted_arrays", ()):
            if f"fitted.{name}" in state:
                setattr(model, name, state.pop(f"fitted.{name}").numpy())
        if state:
            raise ValueError(f"unexpected tensors {sorted(state)[:5]}")
        return model

    def _expected_classes(self, model, keep, name):
        given = model.get_params(deep=False).get("classes")
        if name == "label_encoder_" and given is not None:
            return np.unique(np.asarray(given))
        return np.unique(self.y[keep])
