"""``python -m wsmooth``: same as the ``wsmooth`` command."""

import os
import sys

from .cli import EXIT_INTERRUPTED, main

status = main()
if status == EXIT_INTERRUPTED:
    # Under ``python -m``, CPython exits by SIGINT instead of with our status
    # once any KeyboardInterrupt has escaped an exec() of source text (the
    # dataclasses torch builds while it imports lazily do that): the Ctrl-C
    # was handled, so leave with 130 directly.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
sys.exit(status)
