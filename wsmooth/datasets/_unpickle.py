"""A pickle reader that builds only plain data and numpy arrays.

Some published data sets ship as pickles (CIFAR's "python version" batches).
Loading a pickle with :func:`pickle.load` runs whatever callable it names, so a
file a user did not write could run code. :class:`RestrictedUnpickler` resolves
only the few numpy names an array's pickle refers to; dicts, lists, tuples,
strings, bytes and numbers need no name at all. Any other name stops the load
before anything is called.
"""

import pickle
import struct

import numpy as np

__all__ = ["RestrictedUnpickler", "load_restricted_pickle"]

# Taken from numpy's own reductions so that the objects are right on numpy 1.x
# and 2.x alike, without touching the deprecated ``numpy.core`` alias.
_RECONSTRUCT = np.empty(1).__reduce__()[0]
_FROMBUFFER = np.empty(1).__reduce_ex__(5)[0]

#: ``(module, name)`` pairs a data pickle may name, and what they resolve to.
#: Pickles by Python 2 and numpy 1.x say ``numpy.core``, by numpy 2.x
#: ``numpy._core``; ``_frombuffer`` is numpy's reduction at protocol 5.
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class ForbiddenGlobalError(pickle.UnpicklingError):
    """A pickle named a Python object outside :data:`ALLOWED_GLOBALS`."""


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only :data:`ALLOWED_GLOBALS`.

    Out-of-band buffers and persistent ids are refused by
    :class:`pickle.Unpickler` itself, as no ``buffers`` or
    ``persistent_load`` are given.
    """

    def find_class(self, module, name):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise ForbiddenGlobalError(f"{module}.{name}") from None


def load_restricted_pickle(path, *, what="the file"):
    """Read a data pickle without running code from it.

    Parameters
    ----------
    path : str or path-like
    what : str
        Names the expected content in error messages, e.g.
        ``"a CIFAR-10 python batch"``.

    Returns
    -------
    object
        Dicts, lists, tuples, strings, bytes, numbers and numpy arrays only.
        Strings pickled by Python 2 are decoded as Latin-1, as numpy's arrays
        from Python 2 require.

    Raises
    ------
    ValueError
        If the pickle names anything else (nothing from it has run), or is
        not a readable pickle; the message names the file.
    """
    try:
        with open(path, "rb") as file:
            return RestrictedUnpickler(file, encoding="latin1").load()
    except ForbiddenGlobalError as exc:
        raise ValueError(
            f"Refusing to load {path}: it is not {what}, because it refers to "
            f"the Python object {exc}, which the format never holds. A pickle "
            "that names Python objects can run code when loaded, so only "
            "numpy arrays and plain data are read; nothing from the file was "
            "run. Use the file from the data set's official archive."
        ) from None
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        OverflowError,
        UnicodeDecodeError,
        struct.error,
    ) as exc:
        raise ValueError(
            f"Cannot read {path} as {what}: it is not a complete pickle "
            f"({type(exc).__name__}: {exc}). The download may be truncated."
        ) from None
