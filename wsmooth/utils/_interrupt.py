"""Keep a user's Ctrl-C a Ctrl-C through skorch's ``fit``.

skorch's ``NeuralNet.partial_fit`` catches ``KeyboardInterrupt`` and returns a
model trained for fewer epochs than asked, as if it had finished; its own
``EarlyStopping`` callback ends training by raising ``KeyboardInterrupt`` too.
:func:`reraise_interrupt` tells the two apart by watching for SIGINT itself, so
that an interrupt stops the whole computation (no half-trained model is used,
cached or reported) while early stopping still ends training quietly.
"""

import signal
import threading
from contextlib import contextmanager

__all__ = ["reraise_interrupt"]


@contextmanager
def reraise_interrupt():
    """Re-raise ``KeyboardInterrupt`` after the block if SIGINT arrived in it.

    The block still sees the interrupt at once (the previous handler runs), so
    training stops promptly; whatever swallowed it inside the block, the
    interrupt reaches the caller when the block ends. Off the main thread
    (where Python delivers no signal) and when SIGINT is ignored, it does
    nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        yield
        return
    received = False

    def handler(signum, frame):
        nonlocal received
        received = True
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
