"""A pickle reader that builds only plain data and numpy arrays.

Some published data sets ship as pickles (CIFAR's "python version" batches).
Loading a pickle with :func:`pickle.load` runs whatever callable it names, so a
file a user did not write could run code. :class:`RestrictedUnpickler` resolves
only the few names an array's or bytes' pickle refers to, each to a checked
stand-in; dicts, lists, tuples, strings, bytes and numbers need no name at
all. Any other name stops the load before anything is called. Before that,
:func:`check_pickle_size` walks the opcodes to refuse a file that would
expand far beyond its own size through its memo.
"""

import io
import os
import pickle
import pickletools
import struct

import numpy as np

__all__ = ["RestrictedUnpickler", "check_pickle_size", "load_restricted_pickle"]


class ForbiddenGlobalError(pickle.UnpicklingError):
    """A pickle named a Python object outside :data:`ALLOWED_GLOBALS`."""


class OversizeError(pickle.UnpicklingError):
    """A pickle would build more than the bytes it holds can describe."""


# Taken from numpy's own reductions so that the objects are right on numpy 1.x
# and 2.x alike, without touching the deprecated ``numpy.core`` alias.
_NUMPY_RECONSTRUCT = np.empty(1).__reduce__()[0]
_NUMPY_FROMBUFFER = np.empty(1).__reduce_ex__(5)[0]


class _ArrayClass:
    """Stands for ``numpy.ndarray`` as the argument of ``_reconstruct``.

    Calling ``numpy.ndarray`` itself builds an array over any buffer with any
    strides (zero strides make a few bytes claim terabytes); no data file
    needs that, so the name resolves to this marker, which cannot be called.
    """

    def __call__(self, *args, **kwargs):
        raise ForbiddenGlobalError("numpy.ndarray (called directly)")


_ARRAY_CLASS = _ArrayClass()


def _reconstruct(subtype, shape, dtype_code):
    """numpy's ``_reconstruct``, for plain arrays whose size the file bounds.

    numpy pickles an array as ``_reconstruct(ndarray, (0,), b"b")`` and then
    its data; the data must be in the file, so a larger shape is refused
    before anything is allocated.
    """
    if subtype is not _ARRAY_CLASS:
        raise ForbiddenGlobalError(
            f"numpy.core.multiarray._reconstruct of {type(subtype).__name__}"
        )
    if not (isinstance(shape, tuple) and all(isinstance(n, int) for n in shape)):
        raise pickle.UnpicklingError("_reconstruct takes a tuple shape")
    if any(n < 0 for n in shape) or _product(shape) > 1:
        raise OversizeError(
            f"numpy's placeholder array has shape {shape}; it holds no data"
        )
    return _NUMPY_RECONSTRUCT(np.ndarray, shape, dtype_code)


def _frombuffer(buffer, dtype, shape, order):
    """numpy's protocol-5 ``_frombuffer``: a view of bytes the file holds."""
    if not isinstance(buffer, (bytes, bytearray, pickle.PickleBuffer)):
        raise pickle.UnpicklingError("_frombuffer takes the array's bytes")
    dtype = _dtype(dtype)
    n_bytes = memoryview(buffer).nbytes
    if _product(shape) * dtype.itemsize != n_bytes:
        raise OversizeError(
            f"an array of shape {shape} and {dtype} over {n_bytes} bytes"
        )
    return _NUMPY_FROMBUFFER(buffer, dtype, shape, order)


def _dtype(*args):
    """``numpy.dtype``, refusing Python objects as array elements."""
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise ForbiddenGlobalError(f"numpy.dtype of Python objects ({dtype})")
    return dtype


def _latin1_encode(text, encoding):
    """``_codecs.encode``, as Python 3 pickles bytes at protocols 0 to 2."""
    if not isinstance(text, str) or encoding != "latin1":
        raise ForbiddenGlobalError("_codecs.encode other than bytes's")
    return text.encode("latin-1")


def _empty_bytes(*args):
    """``bytes()``, as Python 3 pickles ``b""`` at protocols 0 to 2."""
    if args:
        raise ForbiddenGlobalError("builtins.bytes with arguments")
    return b""


def _product(shape):
    total = 1
    for n in shape:
        total *= int(n)
    return total


#: ``(module, name)`` pairs a data pickle may name, and what they resolve to.
#: Pickles by Python 2 and numpy 1.x say ``numpy.core``, by numpy 2.x
#: ``numpy._core``; ``_frombuffer`` is numpy's reduction at protocol 5;
#: ``_codecs.encode`` and ``bytes`` are how Python 3 writes bytes at
#: protocols 0 to 2. Each resolves to a checked stand-in.
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): _ARRAY_CLASS,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _latin1_encode,
    ("builtins", "bytes"): _empty_bytes,
    ("__builtin__", "bytes"): _empty_bytes,
}


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


class _Node:
    """What the size check knows of an object: how many elements it expands
    to, and whether a container already holds it."""

    __slots__ = ("size", "held")

    def __init__(self, size):
        self.size, self.held = size, False


_MARK = object()
_FILLS = {"APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS", "BUILD"}


def check_pickle_size(data, *, limit):
    """Refuse a pickle that expands to more than ``limit`` elements.

    A pickle may refer back to an object it built (its memo), so a few
    bytes can name a list a million times, and a list of such lists a
    million times more: converting that to an array claims terabytes. This
    walks the opcodes without building anything and counts each object as
    its elements (a string or bytes as its length), an object referred to
    twice twice. A container filled after another container took it in is
    refused, as no data file does that.

    Raises :class:`OversizeError`.
    """
    stack, memo = [], {}
    for op, arg, _ in pickletools.genops(io.BytesIO(data)):
        name = op.name
        before = [item.name for item in op.stack_before]
        if name == "MARK":
            stack.append(_MARK)
            continue
        if name in ("PROTO", "FRAME", "STOP"):
            continue
        if name == "MEMOIZE":
            if stack:
                memo[len(memo)] = stack[-1]
            continue
        if name in ("PUT", "BINPUT", "LONG_BINPUT"):
            if stack:
                memo[arg] = stack[-1]
            continue
        if name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo.get(arg, _Node(1)))
            continue
        if name == "DUP":
            stack.append(stack[-1] if stack else _Node(1))
            continue
        items = []
        if "mark" in before:
            while stack and stack[-1] is not _MARK:
                items.append(stack.pop())
            if stack:
                stack.pop()
            n_below = before.index("mark")
        else:
            n_below = len(before)
        below = [stack.pop() for _ in range(min(n_below, len(stack)))][::-1]
        items = [item for item in items if isinstance(item, _Node)]
        if name in _FILLS:
            target, items = below[0], below[1:] + items
            if target.held:
                raise OversizeError("a container filled after it was shared")
        else:
            items = below + items
            size = len(arg) if isinstance(arg, (str, bytes, bytearray)) else 1
            target = _Node(size)
        for item in items:
            item.held = True
            target.size += item.size
        if target.size > limit:
            raise OversizeError(
                f"it expands to more than {limit:,} elements (objects referred "
                "to again and again)"
            )
        stack.extend(target for _ in op.stack_after)


def _walk_arrays(obj, seen):
    """Refuse arrays of Python objects left by a dtype's later state."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise ForbiddenGlobalError(f"an array of Python objects ({obj.dtype})")
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _walk_arrays(key, seen)
            _walk_arrays(value, seen)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            _walk_arrays(item, seen)


def load_restricted_pickle(path, *, what="the file"):
    """Read a data pickle without running code from it.

    The opcodes are first walked without building anything
    (:func:`check_pickle_size`): a pickle that would expand to more than
    twice its own size plus a mebibyte of elements is refused before any
    memory is taken.

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
        If the pickle names anything else (nothing from it has run), would
        expand beyond its size, or is not a readable pickle; the message
        names the file. A MemoryError is reported the same way.
    """
    try:
        with open(path, "rb") as file:
            data = file.read()
        check_pickle_size(data, limit=2 * len(data) + (1 << 20))
        obj = RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
        _walk_arrays(obj, set())
        return obj
    except ForbiddenGlobalError as exc:
        raise ValueError(
            f"Refusing to load {path}: it is not {what}, because it refers to "
            f"the Python object {exc}, which the format never holds. A pickle "
            "that names Python objects can run code when loaded, so only "
            "numpy arrays and plain data are read; nothing from the file was "
            "run. Use the file from the data set's official archive."
        ) from None
    except (OversizeError, MemoryError) as exc:
        detail = str(exc) or "it does not fit in memory"
        raise ValueError(
            f"Refusing to load {path} ({os.path.getsize(path):,} bytes): it "
            f"is not {what}, because {detail}."
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
