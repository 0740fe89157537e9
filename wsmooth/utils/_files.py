"""Files written so that a crash or a Ctrl-C never leaves a partial one.

Caches (shadow models, experiment cells) are shared between runs, processes
and users of a group: a file appears whole or not at all, and with the
permissions the umask grants (``tempfile.mkstemp`` alone would leave 0o600).
"""

import os
import tempfile

__all__ = ["create_exclusive", "file_mode", "write_atomic"]


def file_mode():
    """``0o666`` less the process umask (mkstemp would leave 0o600)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _temp_file(directory, data):
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, file_mode())
    except BaseException:
        os.remove(tmp)
        raise
    return tmp


def write_atomic(path, data):
    """Write ``data`` (bytes) to ``path`` all at once: readers see the old
    file or the new one, never a part; an interrupt leaves no temporary file."""
    tmp = _temp_file(os.path.dirname(path), data)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise


def create_exclusive(path, data):
    """Write ``path`` only if it does not exist, atomically; True if created."""
    tmp = _temp_file(os.path.dirname(path), data)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode())
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return True
    finally:
        os.remove(tmp)
