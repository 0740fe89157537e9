"""``python -m wsmooth``: same as the ``wsmooth`` command."""

import sys

from .cli import main

sys.exit(main())
