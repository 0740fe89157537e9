"""Sphinx configuration of the wsmooth documentation.

Build (examples not executed, no network needed)::

    python -m sphinx -b html docs docs/_build/html -W --keep-going

Execute the gallery examples too (a few minutes on a CPU)::

    WSMOOTH_DOCS_RUN_EXAMPLES=True python -m sphinx -b html docs docs/_build/html

or ``-D plot_gallery=1`` on the command line. ``WSMOOTH_DOCS_EXAMPLES_PATTERN``
(a regular expression on the example's path) restricts which examples run.
"""

import os
import sys
from importlib.util import find_spec

# The package is normally installed (editable) in the environment that builds the
# docs; fall back to the source tree next to this directory.
if find_spec("wsmooth") is None:
    sys.path.insert(0, os.path.abspath(".."))

import wsmooth  # noqa: E402

# -- Project -----------------------------------------------------------------
project = "wsmooth"
author = "The wsmooth developers"
copyright = "The wsmooth developers"
version = release = wsmooth.__version__

# -- General -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
# intersphinx is left out on purpose: the build must work offline and must not
# warn when python.org / scikit-learn.org cannot be reached.

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "examples",  # gallery sources; sphinx-gallery renders them into auto_examples
    "Thumbs.db",
    ".DS_Store",
    "**/sg_execution_times.rst",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
]
root_doc = "index"
default_role = "literal"  # `x` renders as code, never as a broken reference
pygments_style = "sphinx"
nitpicky = False

# -- autodoc / autosummary / numpydoc -----------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
# The class template (_templates/autosummary/class.rst) lists a class's own
# members only: skorch's NeuralNet API is documented by skorch.

numpydoc_show_class_members = False  # the autosummary class template lists them
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True
# Docstring style is checked by the package's linters; the docs build only
# reports what would break the page. Keep this empty (or conservative) so that a
# docstring style slip in the package does not fail the build.
numpydoc_validation_checks = set()



def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    # scikit-learn generates ``set_<method>_request`` on every estimator class;
    # their docstrings point into scikit-learn's own docs (glossary, labels).
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)


# -- sphinx-gallery ------------------------------------------------------------
_run_examples = os.environ.get("WSMOOTH_DOCS_RUN_EXAMPLES", "False")

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    # Which examples are executed when plot_gallery is on (a regex on the path),
    # e.g. WSMOOTH_DOCS_EXAMPLES_PATTERN=quickstart to run just one.
    "filename_pattern": os.environ.get("WSMOOTH_DOCS_EXAMPLES_PATTERN", r"/plot_"),
    "ignore_pattern": r"__init__\.py",
    # "True"/"False" (strings are accepted); `-D plot_gallery=1` overrides it.
    "plot_gallery": _run_examples,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "write_computation_times": False,
}

# -- HTML ----------------------------------------------------------------------
if find_spec("pydata_sphinx_theme") is not None:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
        "secondary_sidebar_items": ["page-toc"],
    }
else:  # pragma: no cover - fallback when the docs extra is not installed
    html_theme = "alabaster"
html_title = f"wsmooth {release}"
html_static_path = []
html_show_sourcelink = False
