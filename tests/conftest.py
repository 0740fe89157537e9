"""Settings shared by every test."""

import signal

import pytest


@pytest.fixture(autouse=True, scope="session")
def _sigint_raises_keyboard_interrupt():
    """Make SIGINT raise KeyboardInterrupt even when the run started with it ignored.

    A shell starts background jobs (``pytest ... &``) with SIGINT ignored, and
    Python then installs no handler: the Ctrl-C tests would send a signal
    nobody hears. Install Python's own handler for the session.
    """
    if not hasattr(signal, "SIGINT"):
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
