import os
import stat

import pytest

from wsmooth.utils._files import create_exclusive, write_atomic


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
