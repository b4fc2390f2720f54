"""The layout is the pipeline: data flows one way, no cycles, small modules.

Read from the source with `ast` (nothing imported): every `import` of
bpfsystrace, at module level or inside a function, counts. docs/architecture.md
draws the same layers; CONTRIBUTING.md says where a change goes.
"""

import ast
import os

import pytest

PKG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "controller")

# Lowest first: a stage may import its own package and the layers below it.
LAYERS = [
    {"__init__", "errors", "abi"},  # the foundation: the version, errors, the ABI mirror
    {"policy", "state"},  # policy text -> AST; the versioned on-disk records
    {"model"},  # the checked model, the operations table, the reference evaluator
    {"compile", "kernel"},  # automata and records; libbpf, maps, pins (see KERNEL_MAY)
    {"attachments"},  # what is attached where: compile + kernel + state
    {"observe"},  # events, journal, sinks, metrics
    {"learn", "service"},  # learning and suggestions; the daemon
    {"cli"},  # the commands
    {"__main__"},
]
# The kernel layer depends on nothing above it: the ABI, errors and atomic files only.
KERNEL_MAY = {"abi", "errors", "state"}
LOOSE_TOP_LEVEL = {"__init__", "__main__", "abi", "errors"}
MAX_LINES = 400
MAX_LINES_EXCEPT = {"bpfsystrace.policy.parser": 450}  # PLY's grammar: one p_ function per rule


def _modules():
    out = {}
    for d, _dirs, files in os.walk(PKG):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(d, f)
                rel = os.path.relpath(path, PKG)[:-3].split(os.sep)
                if rel[-1] == "__init__":
                    rel = rel[:-1]
                out[".".join(["bpfsystrace", *rel])] = path
    return out


MODULES = _modules()


def _imports(name, path):
    """The bpfsystrace modules (or packages) `name` imports."""
    package = name if path.endswith("__init__.py") else name.rsplit(".", 1)[0]
    out = set()
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                base += "." + node.module if node.module else ""
            else:
                base = node.module or ""
            if base.split(".")[0] != "bpfsystrace":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in MODULES else base)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "bpfsystrace")
    return out


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _stage(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(stage):
    for i, layer in enumerate(LAYERS):
        if stage in layer:
            return i
    raise AssertionError(f"stage {stage!r} is in no layer of tests/test_layering.py: place it there")


def test_every_stage_has_a_layer_and_few_modules_are_loose():
    stages = {_stage(m) for m in MODULES}
    for s in stages:
        _layer(s)
    loose = {f[:-3] for f in os.listdir(PKG) if f.endswith(".py")}
    assert loose <= LOOSE_TOP_LEVEL, f"loose top-level modules: {sorted(loose - LOOSE_TOP_LEVEL)}"


def test_data_flows_one_way():
    wrong = []
    for module, targets in IMPORTS.items():
        src = _stage(module)
        for t in targets:
            dst = _stage(t)
            if dst != src and _layer(dst) >= _layer(src):
                wrong.append(f"{module} imports {t} ({src} may not depend on {dst})")
    assert not wrong, "\n".join(sorted(wrong))


def test_the_kernel_layer_depends_on_nothing_above_it():
    wrong = [
        f"{m} imports {t}"
        for m, ts in IMPORTS.items()
        if _stage(m) in ("kernel", "state")
        for t in ts
        if _stage(t) != _stage(m)
        and _stage(t) not in (KERNEL_MAY if _stage(m) == "kernel" else {"errors", "abi"})
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    graph = {m: {t for t in ts if t in MODULES and t != m} for m, ts in IMPORTS.items()}
    done, path, cycles = set(), [], []

    def visit(m):
        if m in path:
            cycles.append(" -> ".join(path[path.index(m) :] + [m]))
            return
        if m in done:
            return
        path.append(m)
        for t in sorted(graph[m]):
            visit(t)
        path.pop()
        done.add(m)

    for m in sorted(graph):
        visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_small(module):
    with open(MODULES[module]) as f:
        n = sum(1 for _ in f)
    limit = MAX_LINES_EXCEPT.get(module, MAX_LINES)
    assert n <= limit, f"{module} has {n} lines (over {limit}): split it by what it holds"


def test_the_checker_sees_a_wrong_import(tmp_path):
    """The analysis itself: an upward and a cyclic import are found."""
    (tmp_path / "k.py").write_text("from ..cli import main\nfrom . import loader\n")
    got = _imports("bpfsystrace.kernel.k", str(tmp_path / "k.py"))
    assert got == {"bpfsystrace.cli", "bpfsystrace.kernel.loader"}
    assert _layer(_stage("bpfsystrace.cli")) > _layer(_stage("bpfsystrace.kernel.k"))
