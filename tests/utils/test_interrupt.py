import os
import signal
import threading

import pytest

from wsmooth.utils import reraise_interrupt


def _interrupt_swallowed():
    """What skorch's partial_fit does: catch the interrupt and return."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
    except KeyboardInterrupt:
        return "swallowed"
    return "not reached"


def test_interrupt_swallowed_inside_is_raised_after_the_block():
    with pytest.raises(KeyboardInterrupt):
        with reraise_interrupt():
            assert _interrupt_swallowed() == "swallowed"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_keyboard_interrupt_raised_by_code_is_not_a_user_interrupt():
    # skorch's EarlyStopping stops training by raising KeyboardInterrupt itself
    with reraise_interrupt():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            pass


def test_nested_guards_both_see_the_interrupt():
    with pytest.raises(KeyboardInterrupt):
        with reraise_interrupt():
            try:
                with reraise_interrupt():
                    _interrupt_swallowed()
            except KeyboardInterrupt:
                pass  # an intermediate layer swallowing it too


def test_off_the_main_thread_it_does_nothing():
    result = []

    def work():
        with reraise_interrupt():
            result.append(signal.getsignal(signal.SIGINT))

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert result == [signal.default_int_handler]
