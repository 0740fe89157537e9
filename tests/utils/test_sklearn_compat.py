"""The one module that imports scikit-learn's private helpers."""

import importlib.util
import operator
import pathlib
import re

import pytest
import sklearn
import sklearn.base

from wsmooth.utils import _sklearn_compat as compat

ROOT = pathlib.Path(__file__).resolve().parents[2]
_OPERATORS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}


def _release(version):
    """``(major, minor, micro)`` of a version string, suffixes dropped."""
    numbers = re.match(r"(\d+(?:\.\d+)*)", version).group(1).split(".")
    return tuple(int(n) for n in (numbers + ["0", "0"])[:3])


def _clauses(specifier):
    """``[(comparison, release), ...]`` of a specifier such as ``>=1.6,<1.10``."""
    out = []
    for clause in specifier.split(","):
        op, version = re.fullmatch(r"\s*(>=|<=|==|>|<)\s*([\w.]+)\s*", clause).groups()
        out.append((_OPERATORS[op], _release(version)))
    return out


def _declared_range():
    """The scikit-learn specifier of the package metadata."""
    tomllib = pytest.importorskip("tomllib")
    with open(ROOT / "pyproject.toml", "rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    (spec,) = [d for d in dependencies if re.match(r"scikit-learn\b", d)]
    return spec[len("scikit-learn") :]


def test_metadata_declares_the_range_the_compat_module_names():
    assert _declared_range() == compat.SUPPORTED_SKLEARN
    # a lower and an upper bound: an unpinned upper end is what the module
    # exists to avoid
    comparisons = [op for op, _ in _clauses(compat.SUPPORTED_SKLEARN)]
    assert operator.ge in comparisons and operator.lt in comparisons


def test_installed_scikit_learn_lies_in_the_supported_range():
    installed = _release(sklearn.__version__)
    for op, bound in _clauses(compat.SUPPORTED_SKLEARN):
        assert op(installed, bound), (sklearn.__version__, compat.SUPPORTED_SKLEARN)


@pytest.mark.parametrize("name", compat.__all__)
def test_every_exported_name_resolves(name):
    value = getattr(compat, name)
    assert value is not None
    if name != "SUPPORTED_SKLEARN":
        # the helper scikit-learn ships, not a stand-in
        assert value.__module__.split(".")[0] == "sklearn"


def test_a_missing_helper_names_the_supported_range(monkeypatch):
    monkeypatch.delattr(sklearn.base, "_fit_context")
    path = ROOT / "wsmooth" / "utils" / "_sklearn_compat.py"
    spec = importlib.util.spec_from_file_location("_compat_under_test", path)
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(ImportError, match=re.escape(compat.SUPPORTED_SKLEARN)):
        spec.loader.exec_module(module)
