"""The command's light name lists equal the registries they stand for."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_name_lists_equal_the_registries():
    # a fresh interpreter: a test that registers a defence cannot hide a drift
    code = (
        "import json, wsmooth.datasets as d\n"
        "from wsmooth.defences import available_defences\n"
        "from wsmooth.attacks import available_methods\n"
        "from wsmooth.experiments._data import LOADERS\n"
        "loaders = {k: hasattr(d, v) for k, v in LOADERS.items()}\n"
        "print(json.dumps({'defences': available_defences(),\n"
        "                  'attacks': available_methods(), 'loaders': loaders}))\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env).stdout
    real = json.loads(out)
    from wsmooth import _names

    assert list(_names.DEFENCES) == real["defences"]
    assert list(_names.ATTACKS) == real["attacks"]
    assert sorted(_names.DATA_FILES) == sorted(real["loaders"])
    assert all(real["loaders"].values())


def test_help_lists_every_name():
    from wsmooth import _names
    from wsmooth.cli import build_parser

    text = " ".join(build_parser().format_help().split())
    for name in (*_names.DEFENCES, *_names.ATTACKS, *_names.DATA_EMBEDDED,
                 *_names.DATA_FILES):
        assert name in text, name
