"""The shape the code promises (see the README's architecture): `asm` never
imports `emu`, `emu` never imports a command-line module of `asm`, neither
imports `tune` (which drives both), no module reaches for another's private
names, and the imports form no cycle."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("asm", "emu", "tune")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _package_of(name: str) -> str:
    path = MODULES.get(name)
    return name if path is not None and path.name == "__init__.py" else name.rpartition(".")[0]


def _compiled(package: str, name: str) -> bool:
    """Whether `package.name` is an extension module built from C beside it."""
    return (ROOT / package.replace(".", "/") / f"{name}.c").exists()


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = _package_of(module).split(".")
    base = base[:len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


@functools.cache  # (a module's file is read once, however many tests ask)
def _imports(module: str, *, top_level_only: bool) -> tuple[tuple[str, str | None, int], ...]:
    """(imported module, imported name or None, line) of each import of ours."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            target = _absolute(module, node)
            for alias in node.names:
                # `from pkg import mod` imports a module; `from mod import name` a name.
                if f"{target}.{alias.name}" in MODULES or _compiled(target, alias.name):
                    out.append((f"{target}.{alias.name}", None, node.lineno))
                elif target in MODULES:
                    out.append((target, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names if a.name in MODULES]
    return tuple(out)


def test_asm_never_imports_emu():
    bad = [(m, t, line) for m in MODULES if m.startswith("asm")
           for t, _, line in _imports(m, top_level_only=False) if t.startswith("emu")]
    assert not bad


def test_asm_and_emu_never_import_the_tuner():
    bad = [(m, t, line) for m in MODULES if m.startswith(("asm", "emu"))
           for t, _, line in _imports(m, top_level_only=False) if t.startswith("tune")]
    assert not bad


def test_emu_never_imports_a_command_line_module_of_asm():
    bad = [(m, t, line) for m in MODULES if m.startswith("emu")
           for t, _, line in _imports(m, top_level_only=False) if t in ("asm.cli",)]
    assert not bad


def test_no_module_imports_a_private_name_of_another():
    bad = []
    for m in MODULES:
        for target, name, line in _imports(m, top_level_only=False):
            if name is not None and name.startswith("_") and not name.startswith("__") \
                    and target != m:
                bad.append(f"{MODULES[m].relative_to(ROOT)}:{line}: {name} from {target}")
            if name is None and target.rpartition(".")[2].startswith("_") \
                    and _package_of(target) != _package_of(m):
                bad.append(f"{MODULES[m].relative_to(ROOT)}:{line}: module {target}")
    assert not bad, "\n".join(bad)


def test_no_module_reads_a_private_attribute_of_another_module():
    bad = []
    for m, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {target.rpartition(".")[2]: target
                   for target, name, _ in _imports(m, top_level_only=False) if name is None}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__")
                    and _package_of(aliases[node.value.id]) != _package_of(m)):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: "
                           f"{node.value.id}.{node.attr}")
    assert not bad, "\n".join(bad)


def _cycle(top_level_only: bool) -> list[str] | None:
    graph = {m: sorted({t for t, _, _ in _imports(m, top_level_only=top_level_only)
                        if t in MODULES} - {m}) for m in MODULES}
    state: dict[str, int] = {}  # 1 on the path, 2 done
    for start in graph:
        if state.get(start):
            continue
        path, stack = [start], [iter(graph[start])]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph[nxt]))
    return None


def test_the_import_graph_has_no_cycle():
    # Counting the imports inside functions too (made there to load less, not
    # to break a cycle): a cycle through them is a cycle all the same.
    assert _cycle(top_level_only=False) is None, " -> ".join(_cycle(top_level_only=False))


def test_no_property_test_fixes_its_own_budget():
    """A literal max_examples would stay put under a deeper profile; budgets
    go through tests/budget.py's examples() so they all scale alike."""
    fixed = []
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "max_examples" and (
                    isinstance(node.value, ast.Constant)):
                fixed.append(f"{path.name}:{node.value.lineno}")
    assert not fixed, fixed


def test_the_scheduler_sees_only_kernels():
    """asm/sched/ schedules a Kernel (its hints included) and never reaches back
    into the assembler's IR, stages or linker."""
    reaching = [f"{m}:{line} imports {t}" for m in MODULES if m.startswith("asm.sched")
                for t, _, line in _imports(m, top_level_only=False)
                if t == "asm.ir" or t.startswith(("asm.stages", "asm.linking"))]
    assert not reaching, reaching


def test_the_ir_and_its_parts_sit_below_the_stages():
    """What the stages hand each other (the syntax tree, the IR, kernels,
    diagnostics) is defined below them: no upward import."""
    below = ("asm.tree", "asm.ir", "asm.kernel", "asm.isa", "asm.errors", "asm.source",
             "asm.diagnostics")
    upward = [f"{m}:{line} imports {t}" for m in below
              for t, _, line in _imports(m, top_level_only=False)
              if t.startswith(("asm.stages", "asm.sched", "asm.linking", "asm.views",
                               "asm.editor"))]
    assert not upward, upward


def test_every_file_the_code_and_docs_name_exists():
    """A moved or renamed module leaves no stale path in a comment or a doc."""
    import re
    named = re.compile(r"\b(?:asm|emu|tune|tests|bench|docs|programs|editors)/"
                       r"[A-Za-z0-9_./-]+\.(?:py|c|h|md|lark|vasm|el|vim)\b")
    elsewhere = {"tests/submission_tests.py"}  # the take-home's own (docs/takehome.md)
    texts = [p for pattern in ("asm/**/*.py", "asm/**/*.c", "emu/**/*.py", "emu/**/*.c",
                               "tune/**/*.py", "tests/*.py", "bench/*.py", "docs/*.md",
                               "*.md", "programs/**/*.md", "editors/*.md")
             for p in ROOT.glob(pattern)]
    missing = sorted({f"{p.relative_to(ROOT)}: {m}" for p in texts
                      for m in named.findall(p.read_text(encoding="utf-8"))
                      if m not in elsewhere and not (ROOT / m).exists()
                      and not re.search(r"/(NN-name|NAME)\.", m)})
    assert not missing, missing


def test_every_package_is_installed():
    """pyproject.toml lists packages by name: a new subpackage left out of it
    works in a checkout and is missing from an install."""
    import tomllib
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {_module_name(p.parent / "__init__.py") for pkg in PACKAGES
             for p in (ROOT / pkg).rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)


def test_every_compiled_module_is_built_from_todays_source():
    """The extensions are optional (setup.py): when a changed C file fails to
    compile, `pip install -e .` says nothing and keeps the old module, and
    every test would run it. Each module carries setup.py's digest of the
    files it was built from."""
    import hashlib
    import importlib
    built = {"asm.sched.compiled": ["asm/sched/_listsched.c"],
             "emu.compiled": ["emu/_core.c", "emu/generated_core.h"]}
    for finder, sources in built.items():
        module = importlib.import_module(finder).core
        if module is None:  # not built here (no compiler): the Python twins run
            continue
        digest = hashlib.sha256(b"".join((ROOT / p).read_bytes() for p in sources))
        today = digest.hexdigest()[:16]
        assert today == module.SOURCE_ID, (
            f"{module.__name__} was built from other sources than {', '.join(sources)}: "
            "rebuild it (pip install -e .), and read the compiler's errors if it fails")
