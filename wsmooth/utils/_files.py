"""Files written so that a crash or a Ctrl-C never leaves a partial one.

Caches (shadow models, experiment cells) are shared between runs, processes
and users of a group: a file appears whole or not at all, and with the
permissions the umask grants (``tempfile.mkstemp`` alone would leave 0o600).
"""

import os
import tempfile

__all__ = ["create_exclusive", "file_mode", "replace_together", "write_atomic"]


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


def replace_together(writers):
    """Write several files, then put them all in place at once.

    Each writer writes its file to a temporary path in the same folder; only
    when every one of them has finished are the temporary files renamed onto
    their paths. A failure (a full disk, an error, a Ctrl-C) while writing
    leaves every previous file as it was and no temporary file behind, so the
    files of one set never end up beside those of another.

    Parameters
    ----------
    writers : dict
        ``{path: write}``: ``write(tmp_path)`` writes the file's content to
        ``tmp_path`` (a file name ending in ``.part``: tell writers that pick
        a format from the suffix which one to use). ``write=None`` removes an
        existing file at ``path`` together with the replacements, so that no
        file of an earlier set is left beside the new ones.

    Notes
    -----
    Each rename is atomic; the renames follow one another once everything is
    written, so only a failure of ``os.replace`` itself (not of a write) could
    leave a mixed set.
    """
    temps = {}
    try:
        for path, write in writers.items():
            if write is None:
                continue
            fd, tmp = tempfile.mkstemp(
                dir=os.path.dirname(path) or ".", prefix=".tmp-", suffix=".part"
            )
            os.close(fd)
            temps[path] = tmp
            write(tmp)
            os.chmod(tmp, file_mode())
        while temps:
            path, tmp = next(iter(temps.items()))
            os.replace(tmp, path)
            del temps[path]
        for path, write in writers.items():
            if write is None:
                try:
                    os.remove(path)
                except FileNotFoundError:
                    pass
    finally:
        for tmp in temps.values():
            try:
                os.remove(tmp)
            except FileNotFoundError:
                pass


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
