"""docs/errors.md is true and complete.

- Every example in it is run: the files before a ```console block are
  written to an empty folder, the `$ vasm ...` / `$ vemu ...` command is run
  there, and its output (stderr and stdout) must be the rest of the block.
- Its index lists every message the code can give: the message templates are
  read from the source (calls that report an error, with `…` for each
  interpolated part) and must match the index exactly. After adding or
  changing a message, regenerate the index and the examples' output with
  everything else generated (then read the diff), and write an example if
  it needs one:
      python tests/regenerate.py
  (tests/test_generated.py checks the index is current.)
"""

from __future__ import annotations

import ast
import os
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "errors.md"
BEGIN, END = "<!-- index: begin -->", "<!-- index: end -->"

# Calls whose first string argument is a message a user can see.
REPORTERS = {"fail", "error", "warn", "Diagnostic", "KernelError", "ImageError", "ObjectError",
             "EmuError", "InputError", "OutputError", "OutputClash", "ExprError", "ToolchainError",
             "DebugError", "BadToken", "_Fault", "_Fail", "_fail", "SpecError", "TuneError", "UsageError",
             "_kernel_error", "_image_error"}
# What each module reports, in the order a kernel goes through the tools.
STAGES = [
    ("asm/stages/syntax.py", "Reading source text"),
    ("asm/suggestions.py", "Suggestions several stages make"),
    ("asm/stages/expand/__init__.py asm/stages/expand/blocks.py asm/stages/expand/macros.py "
     "asm/stages/expand/directives.py asm/stages/expand/model.py",
     "Expansion: macros, loops, conditionals, includes"),
    ("asm/stages/expr.py", "Expressions"),
    ("asm/stages/lower.py", "Ops, operands, bundles and declarations"),
    ("asm/stages/layout.py", "Scratch layout"),
    ("asm/stages/resolve.py", "Names and addresses"),
    ("asm/stages/assembler.py", "Modules: .global and .extern"),
    ("asm/linking/link.py", "Linking"),
    ("asm/linking/objects.py", "Object files (.vo)"),
    ("asm/kernel.py asm/imagefields.py", "Kernel images (.vk.json)"),
    ("asm/views/lint.py", "`vasm check`, the linter"),
    ("asm/views/importer.py", "Importing take-home kernels"),
    ("asm/jsonread.py", "Reading JSON (images, objects, memory images)"),
    ("asm/fileio.py", "Reading and writing files"),
    ("asm/project.py", "Project options (vasm.toml)"),
    ("asm/cli.py", "vasm options"),
    ("emu/machine.py", "Memory images and engines"),
    ("emu/problem.py", "The take-home problem"),
    ("emu/reference.py emu/fast.py emu/batch.py emu/state.py", "Runtime faults"),
    ("emu/cli.py", "vemu options"),
    ("emu/debugger/locations.py emu/debugger/prompt.py emu/debugger/session.py "
     "emu/debugger/values.py", "The debugger"),
    ("tune/space.py tune/search.py tune/cli.py", "Tuning (vasm tune)"),
    ("asm/editor/lsp.py asm/editor/wire.py", "The language server (vasm lsp), to its client"),
]


def _template(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return (_template(node.left) or "…") + (_template(node.right) or "…")
    return None


def templates(path: Path) -> list[str]:
    """The messages a module can give, in source order, each once."""
    found: dict[str, None] = {}

    def add(node: ast.AST) -> bool:
        text = _template(node)
        if text is not None and text.strip("…. ") and len(text) > 3:
            found[" ".join(text.split())] = None
            return True
        return False

    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
            if name in REPORTERS:
                any(add(arg) for arg in node.args[:2])  # error(src, message) or Error(message)
            elif name == "report" and len(node.args) > 1:  # the checker's (severity, message)
                add(node.args[1])
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in ("msg", "message") for t in node.targets):
            add(node.value)  # a message built first, reported below
        elif isinstance(node, ast.FunctionDef) and node.name.endswith("_message"):
            for r in ast.walk(node):
                if isinstance(r, ast.Return) and r.value is not None:
                    add(r.value)
    return sorted(found, key=str.lower)


def index() -> str:
    parts = []
    for modules, title in STAGES:
        messages = sorted({m for module in modules.split() for m in templates(ROOT / module)},
                          key=str.lower)
        if messages:
            where = ", ".join(f"`{m}`" for m in modules.split())
            parts.append(f"### {title} ({where})\n\n"
                         + "\n".join(f"- {_md(m)}" for m in messages) + "\n")
    return "\n".join(parts)


def _md(message: str) -> str:
    # Backticks inside a message would end the code span: use a longer fence.
    fence = "``" if "`" in message else "`"
    pad = " " if message.startswith("`") or message.endswith("`") else ""
    return f"{fence}{pad}{message}{pad}{fence}"


def test_every_module_that_reports_is_in_a_stage():
    reporting = {str(p.relative_to(ROOT)) for package in ("asm", "emu", "tune")
                 for p in ROOT.glob(f"{package}/**/*.py") if templates(p)}
    assert reporting <= {m for modules, _ in STAGES for m in modules.split()}


# ------------------------------------------------------------------ examples

_BLOCK = re.compile(r"(?:<!-- file: (?P<name>\S+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```",
                    re.S)


def examples() -> list[tuple[str, dict[str, str], str, str]]:
    """(id, files, command, expected output) for each ```console block."""
    out = []
    files: dict[str, str] = {}
    for m in _BLOCK.finditer(DOC.read_text(encoding="utf-8")):
        if m["name"]:
            files[m["name"]] = m["body"]
        elif m["lang"] == "console":
            command, _, expected = m["body"].partition("\n")
            assert command.startswith("$ "), command
            out.append((f"{len(out) + 1:02d} {command[2:]}", files, command[2:], expected))
            files = {}
    return out


EXAMPLES = examples()


def test_there_are_examples():
    assert len(EXAMPLES) >= 25


def run_example(folder: Path, files: dict[str, str], command: str) -> str:
    """What `command` prints in `folder` after writing `files` there."""
    from asm.cli import main as vasm
    from emu.cli import main as vemu
    for name, body in files.items():
        (folder / name).write_text(body, encoding="utf-8")
    tool, *args = shlex.split(command)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke({"vasm": vasm, "vemu": vemu}[tool], args, prog_name=tool)
    finally:
        os.chdir(cwd)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.output


@pytest.mark.parametrize(("files", "command", "expected"), [e[1:] for e in EXAMPLES],
                         ids=[e[0] for e in EXAMPLES])
def test_example_output_is_what_the_tools_print(tmp_path, files, command, expected):
    assert run_example(tmp_path, files, command) == expected


def with_index(text: str) -> str:
    """docs/errors.md's text with the index made from the source."""
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return f"{head}{BEGIN}\n\n{index()}\n{END}{tail}"


def generated(root: Path) -> dict[Path, str]:
    """docs/errors.md with a current index (tests/regenerate.py); the examples'
    output is checked one by one above, and rewritten by with_example_output."""
    doc = root / "docs" / "errors.md"
    return {doc: with_index(doc.read_text(encoding="utf-8"))}


def with_example_output(text: str) -> str:
    """docs/errors.md's text with every example's output as the tools print it."""
    import tempfile
    out, files, at = [], {}, 0
    for m in _BLOCK.finditer(text):
        if m["name"]:
            files[m["name"]] = m["body"]
        elif m["lang"] == "console":
            command = m["body"].partition("\n")[0]
            with tempfile.TemporaryDirectory() as folder:
                got = run_example(Path(folder), files, command[2:])
            out.append(text[at:m.start("body")] + f"{command}\n{got}")
            at = m.end("body")
            files = {}
    return "".join(out) + text[at:]
