import os
import stat

import pytest

from wsmooth.utils._files import create_exclusive, replace_together, write_atomic


def test_write_atomic_replaces_whole_with_the_umask_mode(tmp_path):
    path = tmp_path / "f.json"
    old = os.umask(0o002)
    try:
        write_atomic(str(path), b"one")
        write_atomic(str(path), b"two")
    finally:
        os.umask(old)
    assert path.read_bytes() == b"two"
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
    assert os.listdir(tmp_path) == ["f.json"]  # no temporary file left


def test_write_atomic_leaves_nothing_when_interrupted(tmp_path, monkeypatch):
    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(str(tmp_path / "f.json"), b"data")
    assert os.listdir(tmp_path) == []


def test_create_exclusive_creates_once(tmp_path):
    path = str(tmp_path / "manifest.json")
    assert create_exclusive(path, b"first") is True
    assert create_exclusive(path, b"second") is False
    assert open(path, "rb").read() == b"first"
    assert os.listdir(tmp_path) == ["manifest.json"]


def _writer(data):
    def write(path):
        with open(path, "wb") as f:
            f.write(data)

    return write


def test_replace_together_puts_every_file_in_place(tmp_path):
    paths = [str(tmp_path / n) for n in ("a.json", "b.csv")]
    replace_together({p: _writer(p.encode()) for p in paths})
    assert [open(p, "rb").read() for p in paths] == [p.encode() for p in paths]
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.csv"]


def test_replace_together_keeps_the_old_set_when_a_writer_fails(tmp_path):
    """A full disk while writing the second file: the first is not replaced
    either, and no temporary file stays."""
    a, b, c = (str(tmp_path / n) for n in ("a.json", "b.csv", "c.png"))
    replace_together({a: _writer(b"old a"), b: _writer(b"old b"), c: _writer(b"old c")})

    def full_disk(path):
        with open(path, "wb") as f:
            f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        replace_together({a: _writer(b"new a"), b: full_disk, c: _writer(b"new c")})
    assert [open(p, "rb").read() for p in (a, b, c)] == [b"old a", b"old b", b"old c"]
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.csv", "c.png"]


def test_replace_together_leaves_nothing_when_interrupted(tmp_path):
    def interrupted(path):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replace_together({str(tmp_path / "a"): _writer(b"a"),
                          str(tmp_path / "b"): interrupted})
    assert os.listdir(tmp_path) == []


def test_replace_together_removes_a_stale_file_given_none(tmp_path):
    a, stale = str(tmp_path / "a.json"), str(tmp_path / "plot.png")
    replace_together({a: _writer(b"old"), stale: _writer(b"old plot")})
    replace_together({a: _writer(b"new"), stale: None})
    assert os.listdir(tmp_path) == ["a.json"] and open(a, "rb").read() == b"new"
