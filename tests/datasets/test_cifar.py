"""CIFAR-10/100 python batches, and the restricted unpickler that reads them."""

import os
import pickle
import struct
import time

import numpy as np
import pytest

from wsmooth.datasets import load_cifar10, load_cifar100
from wsmooth.datasets._unpickle import load_restricted_pickle

CIFAR10_NAMES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip


class Py2Pickler(pickle._Pickler):
    """Writes what Python 2's cPickle wrote: every str and bytes a byte string
    (BINSTRING, decoded as Latin-1 on load) and numpy under ``numpy.core``."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_py2_str(self, obj):
        raw = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    dispatch[bytes] = _save_py2_str
    dispatch[str] = _save_py2_str

    def save_global(self, obj, name=None):
        module = obj.__module__.replace("numpy._core", "numpy.core")
        self.write(pickle.GLOBAL + f"{module}\n{obj.__qualname__}\n".encode())
        self.memoize(obj)


def _dump(obj, path, style):
    with open(path, "wb") as file:
        if style == "py2":
            Py2Pickler(file, protocol=2).dump(obj)
        else:
            pickle.dump(obj, file, protocol=style)


def _batch(n, n_classes, rng, label_keys=("labels",)):
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    data[0, :3] = (0, 128, 255)
    batch = {b"batch_label": b"training batch", b"data": data,
             b"filenames": [f"img_{i}.png".encode() for i in range(n)]}
    for key in label_keys:
        batch[key.encode()] = [int(v) for v in rng.integers(0, n_classes, size=n)]
    return batch


def write_cifar10(folder, *, n=4, style=4, seed=0):
    """The layout of cifar-10-batches-py: five training batches, one test batch
    and batches.meta, with keys as bytes as Python 3 sees Python 2's str."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = _batch(n, 10, rng)
        _dump(batches[name], folder / name, style)
    meta = {b"label_names": [s.encode() for s in CIFAR10_NAMES],
            b"num_cases_per_batch": n, b"num_vis": 3072}
    _dump(meta, folder / "batches.meta", style)
    return batches


def write_cifar100(folder, *, n=5, style=4, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in ("train", "test"):
        batch = _batch(n, 100, rng, label_keys=("fine_labels",))
        batch[b"coarse_labels"] = [v // 5 for v in batch[b"fine_labels"]]
        batches[name] = batch
        _dump(batch, folder / name, style)
    meta = {b"fine_label_names": [f"fine{i}".encode() for i in range(100)],
            b"coarse_label_names": [f"coarse{i}".encode() for i in range(20)]}
    _dump(meta, folder / "meta", style)
    return batches


def _expected(batches, names, key=b"labels"):
    data = np.concatenate([batches[name][b"data"] for name in names])
    labels = np.concatenate([batches[name][key] for name in names])
    return data, labels


TRAIN10 = [f"data_batch_{i}" for i in range(1, 6)]


@pytest.mark.parametrize("style", ["py2", 3, 4, 5])
def test_cifar10_round_trip(tmp_path, style):
    folder = tmp_path / "cifar-10-batches-py"
    batches = write_cifar10(folder, style=style)
    data, labels = _expected(batches, TRAIN10)

    raw = load_cifar10(folder, dtype=np.uint8)
    assert raw.data.shape == (20, 3, 32, 32) and raw.data.dtype == np.uint8
    assert np.array_equal(raw.data.reshape(20, 3072), data)
    # channel, row, column: byte c*1024 + r*32 + col of a record
    assert raw.data[3, 2, 5, 7] == data[3, 2 * 1024 + 5 * 32 + 7]
    assert raw.target.dtype == np.int64 and np.array_equal(raw.target, labels)
    assert list(raw.target_names) == CIFAR10_NAMES
    assert raw.filenames == [str(folder / name) for name in TRAIN10]

    scaled, y = load_cifar10(folder, return_X_y=True)
    assert scaled.dtype == np.float32
    assert np.array_equal(scaled, data.reshape(20, 3, 32, 32) / np.float32(255))
    assert scaled[0, 0, 0, :3].tolist() == [0.0, np.float32(128 / 255), 1.0]
    assert np.array_equal(y, labels)


def test_cifar10_subsets_parent_folder_and_n_samples(tmp_path):
    batches = write_cifar10(tmp_path / "cifar-10-batches-py")
    test_data, test_labels = _expected(batches, ["test_batch"])
    all_data, all_labels = _expected(batches, TRAIN10 + ["test_batch"])

    X, y = load_cifar10(tmp_path, subset="test", dtype="uint8", return_X_y=True)
    assert np.array_equal(X.reshape(4, -1), test_data)
    assert np.array_equal(y, test_labels)
    X, y = load_cifar10(tmp_path, subset="all", dtype=np.uint8, return_X_y=True)
    assert np.array_equal(X.reshape(24, -1), all_data)

    Xs, ys = load_cifar10(tmp_path, subset="all", dtype=np.uint8, n_samples=7,
                          random_state=0, return_X_y=True)
    rows = [int(np.flatnonzero((all_data == r).all(axis=1))[0])
            for r in Xs.reshape(7, -1)]
    assert rows == sorted(set(rows)) and np.array_equal(ys, all_labels[rows])


@pytest.mark.parametrize("style", ["py2", 4])
def test_cifar100_fine_and_coarse(tmp_path, style):
    folder = tmp_path / "cifar-100-python"
    batches = write_cifar100(folder, style=style)
    data, fine = _expected(batches, ["train"], key=b"fine_labels")
    bunch = load_cifar100(folder, dtype=np.uint8)
    assert np.array_equal(bunch.data.reshape(5, -1), data)
    assert np.array_equal(bunch.target, fine)
    assert bunch.target_names[0] == "fine0" and len(bunch.target_names) == 100

    _, coarse = _expected(batches, ["test"], key=b"coarse_labels")
    coarse_bunch = load_cifar100(tmp_path, subset="test", label_type="coarse")
    assert np.array_equal(coarse_bunch.target, coarse)
    assert len(coarse_bunch.target_names) == 20


def test_without_meta_file_target_names_is_none(tmp_path):
    write_cifar10(tmp_path)
    (tmp_path / "batches.meta").unlink()
    assert load_cifar10(tmp_path, subset="test").target_names is None


# --- files that are not CIFAR batches -----------------------------------------


def test_missing_folder_and_batch(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        load_cifar10(tmp_path / "nowhere")
    write_cifar10(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    load_cifar10(tmp_path, subset="test")  # the test subset does not need it
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        load_cifar10(tmp_path)


def _rewrite(folder, name, change):
    with open(folder / name, "rb") as file:
        batch = pickle.load(file)  # written by this test a moment ago
    _dump(change(batch), folder / name, 4)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda b: [b], "holds a list, not a dict"),
        (lambda b: {k: v for k, v in b.items() if k != b"data"}, "no 'data' entry"),
        (lambda b: {**b, b"data": b[b"data"].astype(np.float32)}, "float32 array"),
        (lambda b: {**b, b"data": b[b"data"][:, :100]}, r"shape \(4, 100\)"),
        (lambda b: {**b, b"labels": b[b"labels"][:-1]}, "3 values for 4 images"),
        (lambda b: {**b, b"labels": [10] * 4}, r"outside 0..9"),
        (lambda b: {**b, b"labels": [-1] * 4}, r"outside 0..9"),
        (lambda b: {**b, b"labels": ["cat"] * 4}, r"outside 0..9"),
        (lambda b: {**b, b"labels": [[0], [1, 2], 3, 4]}, "not a list of class"),
        (lambda b: {**b, b"labels": np.zeros(4, np.int64)}, "not a list"),
    ],
)
def test_malformed_batch_is_named(tmp_path, change, message):
    write_cifar10(tmp_path)
    _rewrite(tmp_path, "test_batch", change)
    with pytest.raises(ValueError, match=message) as info:
        load_cifar10(tmp_path, subset="test")
    assert str(tmp_path / "test_batch") in str(info.value)


def test_truncated_batch(tmp_path):
    write_cifar10(tmp_path)
    raw = (tmp_path / "test_batch").read_bytes()
    (tmp_path / "test_batch").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="not a complete pickle"):
        load_cifar10(tmp_path, subset="test")


def test_bad_arguments(tmp_path):
    write_cifar10(tmp_path)
    with pytest.raises(ValueError, match="uint8 or float32"):
        load_cifar10(tmp_path, dtype=np.float64)
    with pytest.raises(ValueError, match="subset"):
        load_cifar10(tmp_path, subset="validation")
    with pytest.raises(ValueError, match="label_type"):
        load_cifar100(tmp_path, label_type="medium")


# --- security: a pickle that would run code is refused --------------------------


class RunsCode:
    """Unpickling this with pickle.load calls ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _payloads(marker):
    return {
        "exec": RunsCode(exec, f"open({str(marker)!r}, 'w').close()"),
        "os.system": RunsCode(os.system, f"touch '{marker}'"),
    }


@pytest.mark.parametrize("payload", ["exec", "os.system"])
def test_payload_really_runs_under_plain_pickle(tmp_path, payload):
    # the control: without the restricted unpickler the file does run code
    marker = tmp_path / "marker"
    pickle.loads(pickle.dumps(_payloads(marker)[payload]))
    assert marker.exists()


@pytest.mark.parametrize("payload", ["exec", "os.system"])
@pytest.mark.parametrize("where", ["whole file", "inside a batch", "meta file"])
def test_code_in_a_batch_is_refused_and_never_runs(tmp_path, payload, where):
    marker = tmp_path / "marker"
    write_cifar10(tmp_path)
    evil = _payloads(marker)[payload]
    name = "batches.meta" if where == "meta file" else "test_batch"
    if where == "whole file":
        _dump(evil, tmp_path / name, 4)
    else:
        _rewrite(tmp_path, name, lambda b: {**b, b"filenames": [evil]})
    with pytest.raises(ValueError, match="Refusing to load") as info:
        load_cifar10(tmp_path, subset="test")
    message = str(info.value)
    assert str(tmp_path / name) in message
    assert ("builtins.exec" in message) or ("system" in message)
    assert not marker.exists()


class NotAnArray(np.ndarray):
    pass


def test_other_classes_are_refused_even_numpy_subclasses(tmp_path):
    for obj in (NotAnArray((2,)), {b"data": np.int64(3)}, {b"data": range(3)}):
        _dump(obj, tmp_path / "file", 4)
        with pytest.raises(ValueError, match="Refusing to load"):
            load_restricted_pickle(tmp_path / "file")


@pytest.mark.parametrize("protocol", range(6))
def test_every_protocol_written_by_python_3_loads(tmp_path, protocol):
    # protocols 0 to 2 write bytes through _codecs.encode (and b"" as bytes())
    rng = np.random.default_rng(protocol)
    batch = _batch(3, 10, rng)
    batch[b"empty"] = b""
    batch[b"extra"] = [np.arange(4, dtype=np.int64), np.zeros((0, 2), np.uint8)]
    _dump(batch, tmp_path / "test_batch", protocol)
    loaded = load_restricted_pickle(tmp_path / "test_batch")
    assert np.array_equal(loaded[b"data"], batch[b"data"])
    assert loaded[b"data"].dtype == np.uint8
    assert loaded[b"labels"] == batch[b"labels"] and loaded[b"empty"] == b""
    assert loaded[b"batch_label"] == b"training batch"
    assert np.array_equal(loaded[b"extra"][0], np.arange(4))
    assert loaded[b"extra"][1].shape == (0, 2)
    write_cifar10(tmp_path / "c", style=protocol)
    assert load_cifar10(tmp_path / "c", subset="test").data.shape == (4, 3, 32, 32)


def _memo_bomb(n_inner=1000, n_outer=10_000):
    """A batch whose labels are one list of ``n_inner`` ints referred to
    ``n_outer`` times through the memo: a few tens of kilobytes that name
    ``n_inner * n_outer`` labels."""
    ops = [pickle.PROTO + b"\x02", pickle.EMPTY_DICT, pickle.MARK]
    ops += [pickle.SHORT_BINBYTES + b"\x04data",
            pickle.SHORT_BINBYTES + b"\x01x"]
    ops += [pickle.SHORT_BINBYTES + b"\x06labels", pickle.EMPTY_LIST,
            pickle.MARK, pickle.EMPTY_LIST, pickle.BINPUT + b"\x00", pickle.MARK]
    ops += [pickle.BININT1 + b"\x07"] * n_inner
    ops += [pickle.APPENDS]
    ops += [pickle.BINGET + b"\x00"] * (n_outer - 1)
    ops += [pickle.APPENDS, pickle.SETITEMS, pickle.STOP]
    return b"".join(ops)


def test_memo_bomb_is_refused_fast_without_memory_error(tmp_path):
    raw = _memo_bomb()
    assert len(raw) < 40_000
    # the control: the bomb is a valid pickle naming 10 million labels
    labels = pickle.loads(raw)[b"labels"]
    assert len(labels) == 10_000 and labels[0] is labels[-1]
    (tmp_path / "test_batch").write_bytes(raw)
    start = time.perf_counter()
    with pytest.raises(ValueError, match="expands to more than") as info:
        load_cifar10(tmp_path, subset="test")
    assert time.perf_counter() - start < 1
    assert str(tmp_path / "test_batch") in str(info.value)
    assert not isinstance(info.value.__context__, MemoryError)


def test_container_filled_after_it_was_shared_is_refused(tmp_path):
    # refer to an empty list many times, then fill it: the count at the time
    # of sharing would be too low
    ops = [pickle.PROTO + b"\x02", pickle.EMPTY_LIST, pickle.BINPUT + b"\x00",
           pickle.EMPTY_LIST, pickle.MARK] + [pickle.BINGET + b"\x00"] * 100
    ops += [pickle.APPENDS, pickle.BINGET + b"\x00", pickle.MARK,
            pickle.BININT1 + b"\x01", pickle.APPENDS, pickle.STOP]
    (tmp_path / "file").write_bytes(b"".join(ops))
    with pytest.raises(ValueError, match="filled after it was shared"):
        load_restricted_pickle(tmp_path / "file")


def _reduce_pickle(global_name, args_ops):
    return b"".join([pickle.PROTO + b"\x02", pickle.GLOBAL + global_name,
                     pickle.MARK, *args_ops, pickle.TUPLE, pickle.REDUCE,
                     pickle.STOP])


def test_zero_stride_ndarray_is_refused(tmp_path):
    # numpy.ndarray((10**12,), "u1", b"x", 0, (0,)): one byte claiming a terabyte
    raw = _reduce_pickle(b"numpy\nndarray\n", [
        pickle.MARK, pickle.LONG1 + b"\x06\x00\x10\xa5\xd4\xe8\x00", pickle.TUPLE,
        pickle.SHORT_BINUNICODE + b"\x02u1", pickle.SHORT_BINBYTES + b"\x01x",
        pickle.BININT1 + b"\x00", pickle.MARK, pickle.BININT1 + b"\x00",
        pickle.TUPLE])
    (tmp_path / "file").write_bytes(raw)
    with pytest.raises(ValueError, match=r"Refusing to load .*numpy.ndarray"):
        load_restricted_pickle(tmp_path / "file")


def test_huge_reconstruct_shape_is_refused_before_allocating(tmp_path):
    raw = _reduce_pickle(b"numpy.core.multiarray\n_reconstruct\n", [
        pickle.GLOBAL + b"numpy\nndarray\n",
        pickle.MARK, pickle.LONG1 + b"\x06\x00\x10\xa5\xd4\xe8\x00", pickle.TUPLE,
        pickle.SHORT_BINBYTES + b"\x01b"])
    (tmp_path / "file").write_bytes(raw)
    start = time.perf_counter()
    message = r"Refusing to load .*shape \(1000000000000,\)"
    with pytest.raises(ValueError, match=message):
        load_restricted_pickle(tmp_path / "file")
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_array_shape_larger_than_its_bytes_is_refused(tmp_path, protocol):
    array = np.zeros(4, np.uint8)
    raw = pickle.dumps(array, protocol=protocol)
    assert pickle.BININT1 + b"\x04" + pickle.TUPLE1 in raw
    # claim 10**9 elements over the same 4 bytes
    raw = raw.replace(pickle.BININT1 + b"\x04" + pickle.TUPLE1,
                      pickle.BININT + (10**9).to_bytes(4, "little") + pickle.TUPLE1)
    (tmp_path / "file").write_bytes(raw)
    with pytest.raises(ValueError, match="Cannot read|Refusing to load") as info:
        load_restricted_pickle(tmp_path / "file")
    assert not isinstance(info.value.__context__, MemoryError)


def test_object_arrays_are_refused(tmp_path):
    _dump({b"data": np.array([1, "a"], dtype=object)}, tmp_path / "file", 2)
    with pytest.raises(ValueError, match="Python objects"):
        load_restricted_pickle(tmp_path / "file")


def test_memory_error_is_reported_as_value_error(tmp_path, monkeypatch):
    write_cifar10(tmp_path)
    import wsmooth.datasets._unpickle as unpickle

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(unpickle, "_walk_arrays", no_memory)
    with pytest.raises(ValueError, match="does not fit in memory") as info:
        load_cifar10(tmp_path, subset="test")
    assert str(tmp_path / "test_batch") in str(info.value)
