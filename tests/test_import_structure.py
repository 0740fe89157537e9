"""The package's import structure: no circles, and the floors only import down.

Read from the source with :mod:`ast` (nothing is imported), every import
counted: at module level, inside functions (imports made lazily to spare
start-up time still tie the modules together) and under ``TYPE_CHECKING``.

An import of ``pkg.mod`` is an edge to ``pkg.mod`` only, not to ``pkg``'s
``__init__`` that Python runs first: counting those would make a circle of
every package whose ``__init__`` re-exports its modules. ``from pkg import
name`` is an edge to the module ``pkg.name`` when there is one, else to
``pkg``.

scikit-learn's private helpers (any name or module whose name starts with
``_``) are imported by one module only, :mod:`wsmooth.utils._sklearn_compat`,
so a scikit-learn release that moves one breaks a single place.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "wsmooth"

#: The floors, bottom first: a module imports only from its own floor and the
#: floors below it (docs/architecture.rst describes each). An entry names a
#: module, or a subpackage with all its modules; the package's ``__init__``
#: (``"wsmooth"``) names itself alone. It imports nothing of the package when
#: it runs: its public names are imported on first use, by ``importlib``.
FLOORS = (
    ("foundations", ("wsmooth", "wsmooth._signals", "wsmooth.utils")),
    ("data and figures", ("wsmooth.datasets", "wsmooth.metrics")),
    (
        "estimators",
        (
            "wsmooth._smoothing",
            "wsmooth._warmup",
            "wsmooth._noise_weight",
            "wsmooth._clipping",
            "wsmooth.nets",
            "wsmooth._net",
            "wsmooth.classifier",
            "wsmooth.defences",
        ),
    ),
    ("attacks", ("wsmooth.attacks",)),
    (
        "experiments",
        ("wsmooth.experiments", "wsmooth._names", "wsmooth._training_defaults"),
    ),
    ("command", ("wsmooth.cli", "wsmooth.__main__")),
)
#: The lower floors, and what they must never import, directly or through
#: other modules of the package.
LOWER = ("wsmooth.metrics", "wsmooth.utils", "wsmooth._signals", "wsmooth.datasets")
UPPER = ("wsmooth.attacks", "wsmooth.defences", "wsmooth.experiments")
#: The command's module, imported by no module but the ``python -m wsmooth``
#: entry point, which exists to run it.
COMMAND = "wsmooth.cli"
COMMAND_ENTRY = "wsmooth.__main__"
#: The one module allowed to import scikit-learn's private names.
SKLEARN_COMPAT = "wsmooth.utils._sklearn_compat"


def _modules():
    """``{dotted name: (path, is_package)}`` of every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


MODULES = _modules()


def _targets(module, is_package, node):
    """The package's modules an ``import`` / ``from ... import`` node names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        return [_closest(name) for name in names if _inside(name)]
    if node.level:
        base = module.split(".")
        if not is_package:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    if not _inside(prefix):
        return []
    out = []
    for alias in node.names:
        name = f"{prefix}.{alias.name}"
        out.append(name if name in MODULES else _closest(prefix))
    return out


def _inside(name):
    return name == "wsmooth" or name.startswith("wsmooth.")


def _closest(name):
    """The longest module of the package that ``name`` starts with."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _graph():
    """``{module: {imported module, ...}}`` over the package."""
    graph = {}
    for module, (path, is_package) in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges.update(_targets(module, is_package, node))
        edges.discard(module)
        graph[module] = edges
    return graph


GRAPH = _graph()


def _circles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _reachable(start):
    seen, todo = set(), [start]
    while todo:
        for w in GRAPH[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def _under(module, prefixes):
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _floor(module):
    """``(index, name)`` of the floor of ``module``; None if it has none."""
    for index, (name, members) in enumerate(FLOORS):
        for member in members:
            if module == member or (
                member != "wsmooth" and module.startswith(member + ".")
            ):
                return index, name
    return None


def _private_sklearn_imports(path):
    """``[(line, imported name), ...]`` of a file's private scikit-learn imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, alias.name)
                for alias in node.names
                if alias.name.split(".")[0] == "sklearn"
                and any(part.startswith("_") for part in alias.name.split("."))
            ]
        elif (
            isinstance(node, ast.ImportFrom)
            and not node.level
            and (node.module or "").split(".")[0] == "sklearn"
        ):
            private_module = any(p.startswith("_") for p in node.module.split("."))
            found += [
                (node.lineno, f"{node.module}.{alias.name}")
                for alias in node.names
                if private_module or alias.name.startswith("_")
            ]
    return found


def test_the_graph_is_read():
    # guards the checks below against a parser that finds nothing
    assert "wsmooth.attacks._base" in GRAPH["wsmooth.attacks"]
    assert "wsmooth._signals" in GRAPH["wsmooth.metrics._scorer"]
    assert "wsmooth.attacks._base" in GRAPH["wsmooth.attacks._risk"]
    assert COMMAND in GRAPH[COMMAND_ENTRY]


def test_no_import_circle():
    circles = _circles(GRAPH)
    assert not circles, [sorted(c) for c in circles]


def test_circle_finder_finds_a_circle():
    # guards the check above against a search that finds nothing
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [frozenset({"a", "b", "c"})]


def test_every_module_stands_on_a_floor():
    # a new module must be placed on a floor before the check below sees it
    assert not sorted(m for m in MODULES if _floor(m) is None)


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_modules_import_only_their_floor_and_below(module):
    own, name = _floor(module)
    upward = sorted(
        f"{target} ({_floor(target)[1]})"
        for target in GRAPH[module]
        if _floor(target)[0] > own
    )
    assert not upward, f"{module} ({name}) imports from floors above: {upward}"


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if _under(m, LOWER)), ids=str
)
def test_lower_floors_import_no_upper_floor(module):
    upward = sorted(m for m in _reachable(module) if _under(m, UPPER))
    assert not upward, f"{module} imports {upward}"


def test_nothing_imports_the_command():
    importers = sorted(
        m for m, edges in GRAPH.items() if COMMAND in edges and m != COMMAND_ENTRY
    )
    assert not importers


def test_private_sklearn_scan_finds_them():
    # guards the check below against a scan that finds nothing
    found = {name for _, name in _private_sklearn_imports(MODULES[SKLEARN_COMPAT][0])}
    assert "sklearn.base._fit_context" in found
    assert "sklearn.utils._param_validation.Interval" in found


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if m != SKLEARN_COMPAT), ids=str
)
def test_only_the_compat_module_imports_private_sklearn_names(module):
    found = _private_sklearn_imports(MODULES[module][0])
    assert not found, (
        f"{module} imports scikit-learn's private {found}: import them from "
        f"{SKLEARN_COMPAT}"
    )


def test_signals_import_nothing_of_the_package_and_no_torch():
    tree = ast.parse(MODULES["wsmooth._signals"][0].read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert not GRAPH["wsmooth._signals"]
    assert not [m for m in imported if m.startswith(".") or m.split(".")[0] == "torch"]
