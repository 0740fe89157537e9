"""The shadow cache holds data, never code: planted, corrupt and foreign files,
concurrent creation, code fingerprints, file modes and Ctrl-C."""

import hashlib
import importlib
import json
import multiprocessing
import os
import pickle
import signal
import stat
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.tree import DecisionTreeClassifier
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback

from wsmooth import WeightedSmoothingClassifier
from wsmooth.attacks import MembershipInferenceAttack, fit_shadow_models
from wsmooth.attacks._shadow import fingerprint
from wsmooth.nets import MLP


@pytest.fixture
def population(splits):
    X, y = splits[2]
    return X[:200].astype(np.float32), y[:200]


def tiny_ws(**kw):
    params = dict(
        module__hidden_layer_sizes=(16,),
        max_epochs=3,
        warmup_epochs=1,
        sigma=0.1,
        batch_size=64,
    )
    return WeightedSmoothingClassifier(**{**params, **kw})


def tiny_skorch(**kw):
    params = dict(
        module__n_features=12,
        module__n_classes=4,
        module__hidden_layer_sizes=(16,),
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=3,
        batch_size=64,
        train_split=None,
        iterator_train__shuffle=True,
    )
    return NeuralNetClassifier(MLP, **{**params, **kw})


class PlainModel:
    """Neither a skorch net nor a scikit-learn estimator."""

    def __init__(self):
        self.tree = DecisionTreeClassifier(max_depth=3, random_state=0)

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y):
        self.tree.fit(X, y)
        self.classes_ = self.tree.classes_
        return self

    def predict_proba(self, X):
        return self.tree.predict_proba(X)


class _Exploit:
    """Unpickling this writes a marker file: what a planted cache file does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        code = f"open({str(self.marker)!r}, 'w').write('ran')"
        return (exec, (code,))


def _plant(path, marker, record=None):
    """Replace ``path`` with a code-running pickle; keep its record's digest
    in step, as an attacker who can write the directory would."""
    payload = pickle.dumps({"model": _Exploit(marker), "keep": 0, "seed": 0})
    path.write_bytes(payload)
    if record is not None and record.exists():
        rec = json.loads(record.read_text())
        rec["sha256"] = hashlib.sha256(payload).hexdigest()
        record.write_text(json.dumps(rec))


def shadows(template, X, y, cache, **kw):
    """``fit_shadow_models`` with 2 models and random_state=0 unless told."""
    kw = {"n_shadow": 2, "random_state": 0, **kw}
    return fit_shadow_models(template, X, y, cache_dir=cache, **kw)


TEMPLATES = {
    "sklearn": lambda: DecisionTreeClassifier(max_features=0.5),
    "ws": lambda: tiny_ws(),
}


# --------------------------------------------------------------------------- #
# A planted file never runs
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_planted_pickle_never_runs(kind, population, tmp_path):
    X, y = population
    cache = tmp_path / "cache"
    marker = tmp_path / "marker"
    shadows(TEMPLATES[kind](), X, y, cache)
    for suffix in (".joblib", ".skops", ".safetensors"):
        _plant(cache / f"shadow_0000{suffix}", marker, cache / "shadow_0000.json")
    with pytest.raises(ValueError) as info:
        shadows(TEMPLATES[kind](), X, y, cache)
    assert not marker.exists(), "the planted pickle ran"
    assert "shadow_0000.skops" in str(info.value) or "shadow_0000.safetensors" in str(
        info.value
    )
    assert "cannot be loaded" in str(info.value)


def test_planted_record_claiming_a_pickle_is_refused(population, tmp_path):
    X, y = population
    cache, marker = tmp_path / "cache", tmp_path / "marker"
    fit_shadow_models(tiny_ws(), X, y, n_shadow=2, random_state=0, cache_dir=cache)
    record = cache / "shadow_0001.json"
    rec = json.loads(record.read_text())
    rec.update(kind="joblib", payload="shadow_0001.joblib")
    record.write_text(json.dumps(rec))
    _plant(cache / "shadow_0001.joblib", marker, record)
    with pytest.raises(ValueError, match=r"shadow_0001\.json.*trust_cache"):
        fit_shadow_models(tiny_ws(), X, y, n_shadow=2, random_state=0, cache_dir=cache)
    assert not marker.exists()


def test_old_pickle_cache_is_not_read(population, tmp_path):
    X, y = population
    cache, marker = tmp_path / "cache", tmp_path / "marker"
    cache.mkdir()
    (cache / "manifest.json").write_text(json.dumps({"format": 1}))
    _plant(cache / "shadow_0000.joblib", marker)
    with pytest.raises(ValueError, match="older wsmooth that stored pickles"):
        fit_shadow_models(
            DecisionTreeClassifier(), X, y, n_shadow=2, random_state=0, cache_dir=cache
        )
    assert not marker.exists()


def test_other_estimators_are_cached_only_when_trusted(population, tmp_path):
    X, y = population
    cache, marker = tmp_path / "cache", tmp_path / "marker"
    with pytest.warns(UserWarning, match="not cached.*trust_cache=True"):
        first = fit_shadow_models(PlainModel(), X, y, n_shadow=2, cache_dir=cache)
    assert not list(cache.glob("shadow_*"))
    _plant(cache / "shadow_0000.joblib", marker)  # ignored: never read
    with pytest.warns(UserWarning, match="not cached"):
        again = fit_shadow_models(PlainModel(), X, y, n_shadow=2, cache_dir=cache)
    assert again.n_trained == 2 and not marker.exists()
    assert np.array_equal(first.keep_masks, again.keep_masks)
    # trusted: pickles, as before
    trusted = tmp_path / "trusted"
    shadows(PlainModel(), X, y, trusted, trust_cache=True)
    reused = shadows(PlainModel(), X, y, trusted, trust_cache=True)
    assert reused.n_trained == 0
    assert sorted(p.name for p in trusted.glob("shadow_0000*")) == [
        "shadow_0000.joblib",
        "shadow_0000.json",
    ]


# --------------------------------------------------------------------------- #
# Corrupt, truncated, foreign files: a clear error naming the file
# --------------------------------------------------------------------------- #
def _edit_record(cache, **changes):
    path = cache / "shadow_0000.json"
    rec = json.loads(path.read_text())
    rec.update(changes)
    path.write_text(json.dumps(rec))


def _resign(cache, payload_name):
    path = cache / payload_name
    _edit_record(cache, sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def _other_architecture(cache):
    from safetensors.torch import save_file

    save_file({"module_.weight": torch.zeros(3, 3)}, cache / "shadow_0000.safetensors")
    _resign(cache, "shadow_0000.safetensors")


def _wrong_shapes(cache):
    from safetensors.torch import load_file, save_file

    path = cache / "shadow_0000.safetensors"
    state = load_file(path)
    grown = {k: torch.zeros(v.shape[0] + 1, *v.shape[1:]) for k, v in state.items()}
    save_file(grown, path)
    _resign(cache, "shadow_0000.safetensors")


def _renamed_pickle(cache):
    (cache / "shadow_0000.safetensors").write_bytes(pickle.dumps({"weights": [1.0]}))
    _resign(cache, "shadow_0000.safetensors")


def _truncate(cache):
    path = cache / "shadow_0000.safetensors"
    path.write_bytes(path.read_bytes()[:100])


def _truncate_resigned(cache):
    _truncate(cache)
    _resign(cache, "shadow_0000.safetensors")


def _swap_payloads(cache):
    a, b = cache / "shadow_0000.safetensors", cache / "shadow_0001.safetensors"
    a.write_bytes(b.read_bytes())
    _resign(cache, "shadow_0000.safetensors")


def _wrong_classes(cache):
    _edit_record(cache, attributes={"n_features_in_": 12, "label_encoder_": [0, 1]})


CORRUPTIONS = {
    "bad json": (lambda c: (c / "shadow_0000.json").write_text("{not json"), "corrupt"),
    "json list": (lambda c: (c / "shadow_0000.json").write_text("[13]"), "corrupt"),
    "missing key": (
        lambda c: (c / "shadow_0000.json").write_text(json.dumps({"format": 2})),
        "not a valid record",
    ),
    "wrong type": (lambda c: _edit_record(c, seed="13"), "not a valid record"),
    "other seed": (lambda c: _edit_record(c, seed=13), "another split"),
    "other mask": (lambda c: _edit_record(c, keep="AAAA"), "another split"),
    "foreign": (
        lambda c: _edit_record(c, fingerprint={"template": "x"}),
        "another configuration",
    ),
    "truncated": (_truncate, "does not match its record"),
    "truncated, resigned": (_truncate_resigned, "cannot be loaded"),
    "payload missing": (
        lambda c: os.remove(c / "shadow_0000.safetensors"),
        "cannot be read",
    ),
    "other architecture": (_other_architecture, "do not fit the template"),
    "wrong shapes": (_wrong_shapes, "do not fit the template.*size mismatch"),
    "renamed pickle": (_renamed_pickle, "not a safetensors file"),
    "swapped payloads": (_swap_payloads, None),
    "wrong classes": (_wrong_classes, "classes"),
    "bad manifest": (
        lambda c: (c / "manifest.json").write_text("\x00\x01"),
        r"manifest\.json",
    ),
}


@pytest.fixture(scope="module")
def ws_cache(splits, tmp_path_factory):
    X, y = splits[2]
    X, y = X[:200].astype(np.float32), y[:200]
    cache = tmp_path_factory.mktemp("ws-cache") / "c"
    return X, y, cache, shadows(tiny_ws(), X, y, cache)


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corrupt_files_give_a_clear_error(name, ws_cache, tmp_path):
    import shutil

    X, y, source, _ = ws_cache
    cache = tmp_path / "c"
    shutil.copytree(source, cache)
    corrupt, message = CORRUPTIONS[name]
    corrupt(cache)
    if message is None:  # another model's weights: valid, but not this model
        loaded = shadows(tiny_ws(), X, y, cache)
        assert loaded.n_trained == 0  # the swap is not detectable, it is harmless
        return
    with pytest.raises(ValueError, match=message) as info:
        shadows(tiny_ws(), X, y, cache)
    text = str(info.value)
    assert str(cache) in text and ("shadow_0000" in text or "manifest" in text)
    assert "cache_dir" in text  # the remedy


# --------------------------------------------------------------------------- #
# Torch nets round-trip through weights
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("make", [tiny_ws, tiny_skorch], ids=["ws", "skorch"])
def test_cached_net_predicts_like_the_fresh_one(make, population, tmp_path):
    X, y = population
    fresh = shadows(make(), X, y, tmp_path)
    assert {p.suffix for p in tmp_path.glob("shadow_*")} == {".json", ".safetensors"}
    loaded = shadows(make(), X, y, tmp_path)
    assert loaded.n_trained == 0
    for a, b in zip(fresh.models, loaded.models, strict=True):
        assert type(a) is type(b)
        assert np.array_equal(a.classes_, b.classes_)
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_sklearn_cache_refuses_foreign_types(population, tmp_path):
    import skops.io as sio

    X, y = population
    shadows(DecisionTreeClassifier(), X, y, tmp_path)
    # a valid skops file of a type the template does not name
    payload = sio.dumps({"model": np.ones(2), "x": hashlib.sha256})
    (tmp_path / "shadow_0000.skops").write_bytes(payload)
    _resign(tmp_path, "shadow_0000.skops")
    with pytest.raises(ValueError, match=r"shadow_0000\.skops.*(refused|holds)"):
        shadows(DecisionTreeClassifier(), X, y, tmp_path)


# --------------------------------------------------------------------------- #
# Manifest, fingerprint, modes
# --------------------------------------------------------------------------- #
def _race_worker(cache, X, y, barrier, queue):
    barrier.wait()
    models = shadows(DecisionTreeClassifier(), X, y, cache, random_state=None)
    queue.put(models.keep_masks)


def test_two_processes_on_a_fresh_cache_agree(population, tmp_path):
    X, y = population
    ctx = multiprocessing.get_context("fork")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_race_worker, args=(tmp_path, X, y, barrier, queue))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    masks = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert np.array_equal(masks[0], masks[1])


def test_losing_the_manifest_race_follows_the_winner(population, tmp_path, monkeypatch):
    from wsmooth.attacks import _cache

    X, y = population
    template = DecisionTreeClassifier()
    fp = fingerprint(template, X, y, np.unique(y))
    real = _cache.create_exclusive

    def late(path, data):  # another process creates the manifest first
        if path.endswith("manifest.json"):
            winner = {"format": _cache.FORMAT, **fp, "entropy": 1234}
            real(path, json.dumps(winner).encode())
        return real(path, data)

    monkeypatch.setattr(_cache, "create_exclusive", late)
    # random_state=None: the loser proposed its own seed, and follows the winner
    assert _cache.open_cache(str(tmp_path), fp, None, propose=99) == 1234
    monkeypatch.undo()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["entropy"] == 1234
    # the cache's seed is the winner's: random_state=None follows it
    from wsmooth.attacks._shadow import _keep_masks

    followed = shadows(template, X, y, tmp_path, random_state=None)
    assert np.array_equal(followed.keep_masks, _keep_masks(len(y), 2, 1234, y))


def test_losing_the_race_with_another_seed_is_an_error(
    population, tmp_path, monkeypatch
):
    from wsmooth.attacks import _cache

    X, y = population
    fp = fingerprint(DecisionTreeClassifier(), X, y, np.unique(y))
    real = _cache.create_exclusive

    def late(path, data):
        if path.endswith("manifest.json"):
            winner = {"format": _cache.FORMAT, **fp, "entropy": 1}
            real(path, json.dumps(winner).encode())
        return real(path, data)

    monkeypatch.setattr(_cache, "create_exclusive", late)
    with pytest.raises(ValueError, match="another random_state"):
        _cache.open_cache(str(tmp_path), fp, 2, propose=2)


def test_fingerprint_follows_the_module_code(population, tmp_path, monkeypatch):
    X, y = population
    monkeypatch.syspath_prepend(str(tmp_path))
    source = tmp_path / "wsmooth_test_net.py"

    def module_class(body):
        source.write_text(
            textwrap.dedent(
                f"""
                import torch
                class Net(torch.nn.Module):
                    def __init__(self, n_features, n_classes):
                        super().__init__()
                        self.lin = torch.nn.Linear(n_features, n_classes)
                    def forward(self, x):
                        return {body}
                """
            )
        )
        importlib.invalidate_caches()
        if "wsmooth_test_net" in sys.modules:
            return importlib.reload(sys.modules["wsmooth_test_net"]).Net
        return importlib.import_module("wsmooth_test_net").Net

    def fp(cls):
        return fingerprint(WeightedSmoothingClassifier(module=cls), X, y, np.unique(y))

    first = module_class("self.lin(x)")
    same = fp(first)
    assert fp(first) == same
    changed = module_class("self.lin(torch.tanh(x))")
    assert changed.__qualname__ == first.__qualname__
    assert changed.__module__ == first.__module__
    assert fp(changed)["template"] != same["template"]
    sys.modules.pop("wsmooth_test_net", None)


def test_cache_files_follow_the_umask(population, tmp_path):
    X, y = population
    old = os.umask(0o002)
    try:
        shadows(DecisionTreeClassifier(), X, y, tmp_path)
    finally:
        os.umask(old)
    files = [p for p in tmp_path.iterdir() if p.is_file()]
    assert len(files) == 5  # manifest, 2 records, 2 models
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o664, p.name


# --------------------------------------------------------------------------- #
# Ctrl-C during a shadow fit
# --------------------------------------------------------------------------- #
class SigintAt(Callback):
    """Sends SIGINT at epoch ``epoch`` of the ``model``-th fit (class state, so
    that the trigger is not a parameter and the fingerprint ignores it)."""

    target = None  # (model, epoch), 1-based
    fits = 0

    def on_train_begin(self, net, **kwargs):
        type(self).fits += 1

    def on_epoch_begin(self, net, **kwargs):
        cls = type(self)
        if cls.target == (cls.fits, len(net.history)):
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def sigint_at():
    yield SigintAt
    SigintAt.target, SigintAt.fits = None, 0


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs SIGINT")
def test_ctrl_c_stops_the_attack_and_caches_nothing_partial(
    sigint_at, forest, splits, tmp_path
):
    _, (Xn, yn), (Xp, yp) = splits
    Xp, Xn = Xp.astype(np.float32), Xn.astype(np.float32)

    def attack(cache):
        return MembershipInferenceAttack(
            forest,
            method="loss",
            n_shadow=4,
            shadow_estimator=tiny_skorch(
                max_epochs=4, callbacks=[("sigint", SigintAt())]
            ),
            cache_dir=cache,
            random_state=0,
        )

    sigint_at.target = (2, 2)
    with pytest.raises(KeyboardInterrupt):
        attack(tmp_path / "a").fit(Xp, yp)
    assert sorted(p.name for p in (tmp_path / "a").glob("shadow_*.json")) == [
        "shadow_0000.json"
    ]
    sigint_at.target, sigint_at.fits = None, 0
    resumed = attack(tmp_path / "a").fit(Xp, yp)
    assert resumed.shadow_models_.n_trained == 3 and sigint_at.fits == 3
    fresh = attack(tmp_path / "b").fit(Xp, yp)
    assert fresh.shadow_models_.n_trained == 4
    np.testing.assert_array_equal(
        resumed.decision_function(Xn, yn), fresh.decision_function(Xn, yn)
    )
    # model 0 came from the cache (weights only, no history), the rest trained
    # every epoch
    assert [len(m.history) for m in resumed.shadow_models_.models] == [0, 4, 4, 4]


def test_estimators_skops_cannot_write_are_left_uncached(population, tmp_path):
    # regression: MemGuard holds torch modules, on which skops.io.dumps raised
    # and took the whole attack (and the experiment runner) down with it
    from wsmooth.defences import MemGuard

    X, y = population
    template = MemGuard(tiny_ws(sigma=0.0, max_epochs=1), attack_epochs=5,
                        perturbation_steps=2, random_state=0)
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning, match="not cached"):
        out = fit_shadow_models(template, X, y, n_shadow=2, random_state=0,
                                cache_dir=cache)
    assert out.n_trained == 2 and not list(cache.glob("shadow_*"))
