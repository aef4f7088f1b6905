"""Each stage of the assembler called alone, on what the stage before gives,
its output printed and compared with a golden file: tests/stages/NAME.vasm
gives NAME.parse.txt, NAME.expand.txt, NAME.lower.txt, NAME.layout.txt and
NAME.resolve.txt. Regenerate after a deliberate change (then read the diff):
    UPDATE_GOLDEN=1 python -m pytest tests/test_stages.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from asm.ir import Deferred, IRBundle, Module, Ref
from asm.kernel import Kernel
from asm.source import Sources
from asm.stages.expand import Expansion, expand, file_lines
from asm.stages.expr import unparse
from asm.stages.layout import layout
from asm.stages.lower import lower
from asm.stages.parsecache import parse
from asm.stages.resolve import resolve
from asm.tree import Assign, Bin, Indexed, Key, KeyVal, Line, Name, Num, Raw, Stmt, Str, Tup, Un

HERE = Path(__file__).parent / "stages"
CASES = sorted(HERE.glob("*.vasm"))
STAGES = ["parse", "expand", "lower", "layout", "resolve"]


def show(node) -> str:
    """A syntax node as an S-expression: what the tree holds, not how it was written."""
    t = type(node)
    if t is Num:
        return str(node.value)
    if t is Name:
        return node.id
    if t is Str:
        return repr(node.value)
    if t is Bin:
        return f"({node.op} {show(node.a)} {show(node.b)})"
    if t is Un:
        return f"({node.op} {show(node.a)})"
    if t is Indexed:
        return f"(index {show(node.name)} {show(node.index)})"
    if t is Raw:
        return f"(raw {show(node.addr)})"
    if t is KeyVal:
        return f"(= {show(node.name)} {show(node.value)})"
    if t is Key:
        return f"(key {node.value!r})"
    if isinstance(node, Tup):
        return f"({t.__name__.lower()} {' '.join(map(show, node.items))})"
    return repr(node)


def show_stmt(s) -> str:
    if type(s) is Assign:
        return f"{s.name} = {show(s.value)}"
    pin = f" pin={show(s.pin)}" if s.pin is not None else ""
    return f"{s.name} {' '.join(map(show, s.args))}{pin}".rstrip()


def dump_parse(lines: list[tuple[int, Line]]) -> str:
    out = []
    for lineno, line in lines:
        parts = [f"label={line.label.id}"] if line.label is not None else []
        parts += ["{"] if line.open is not None else []
        parts += [show_stmt(s) for s in line.stmts]
        parts += ["}"] if line.close is not None else []
        out.append(f"{lineno:3}: " + " | ".join(parts))
    return "\n".join(out)


def dump_expand(expansion: Expansion) -> str:
    out = [f"{it.src.where}: {it.kind}"
           + (f" {show_stmt(it.node)}" if isinstance(it.node, Stmt)
              else f" {it.node.id}" if it.node is not None else "")
           for it in expansion.items]
    user = {k: v for k, v in expansion.env.items() if k not in ("VLEN", "SCRATCH_SIZE")}
    out.append(f"env: {', '.join(f'{k}={unparse(v)}' for k, v in sorted(user.items()))}")
    out.append(f"macros: {', '.join(sorted(expansion.macros))}")
    return "\n".join(out)


def _arg(a) -> str:
    if type(a) is Ref:
        return f"@{a.offset}" if a.name is None else f"{a.name}[{a.offset}]"
    if type(a) is Deferred:
        return f"<{unparse(a.value)}{' relative' if a.relative else ''}>"
    return repr(a)


def _bundle(b: IRBundle) -> str:
    ops = "; ".join(f"{o.op.engine}.{o.op.name} {', '.join(map(_arg, o.args))}"
                    for o in b.ops)
    return f"{b.src.where}:{' pinned' if b.pinned else ''} {{ {ops} }}"


def dump_lower(module: Module) -> str:
    out = [f"{pc:3} {_bundle(b)}" for pc, b in enumerate(module.bundles)]
    for name, s in module.symbols.items():
        extra = "".join([f" @{s.pin}" if s.pin is not None else "", " temp" * s.temp,
                         " vector" * s.vector,
                         f" const={s.const}" if s.const is not None else ""])
        out.append(f"symbol {name} length {s.length}{extra}")
    out += [f"label {name} -> {pc}" for name, (pc, _, _) in module.labels.items()]
    out += [f"restrict {', '.join(names)}" for names, _ in module.restricts]
    out += [f"pins {start}..{end}" for start, end in module.pins]
    return "\n".join(out)


def dump_layout(addresses: dict[str, int]) -> str:
    return "\n".join(f"{name} @ {a}" for name, a in sorted(addresses.items(), key=lambda x: x[1]))


def dump_resolve(kernel: Kernel) -> str:
    out = [f"{pc:3} {bundle}" for pc, bundle in enumerate(kernel.program)]
    out.append(f"scratch: {kernel.scratch}")
    out.append(f"labels: {kernel.labels}")
    return "\n".join(out)


def run_stages(path: Path) -> dict[str, str]:
    """Each stage on the previous one's output; each must report nothing."""
    text = path.read_text(encoding="utf-8")
    name = path.name
    errors: list = []
    parsed = parse(text, name, errors)
    assert not errors
    sources = Sources()
    sources.add(name, text)
    expansion = expand(file_lines(text, name, (), errors), sources)
    assert not expansion.diagnostics and not errors
    module, lowering = lower(expansion.items, macros=expansion.macros)
    assert not lowering
    module.equs = dict(expansion.env)
    addresses, layout_errors = layout(module)
    assert not layout_errors
    kernel, resolving = resolve(module, addresses)
    assert not resolving and kernel is not None
    return {"parse": dump_parse(parsed), "expand": dump_expand(expansion),
            "lower": dump_lower(module), "layout": dump_layout(addresses),
            "resolve": dump_resolve(kernel)}


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_each_stage_gives_its_golden_output(case: Path):
    got = run_stages(case)
    for stage in STAGES:
        golden = case.with_name(f"{case.stem}.{stage}.txt")
        if os.environ.get("UPDATE_GOLDEN"):
            golden.write_text(got[stage] + "\n", encoding="utf-8")
        assert got[stage] + "\n" == golden.read_text(encoding="utf-8"), f"{case.name}: {stage}"


def test_the_stages_alone_give_what_the_assembler_gives():
    from asm.stages.assembler import assemble
    for case in CASES:
        assert dump_resolve(assemble(case)) == run_stages(case)["resolve"]


def test_a_stage_reports_instead_of_raising():
    # lower and resolve return their diagnostics; neither raises for bad input.
    text = "    add nowhere, @1, @2\n    jump nolabel\n"
    sources = Sources()
    sources.add("bad.vasm", text)
    expansion = expand(file_lines(text, "bad.vasm", (), []), sources)
    module, lowering = lower(expansion.items)
    assert not lowering
    addresses, _ = layout(module)
    kernel, resolving = resolve(module, addresses)
    assert kernel is None
    assert [d.message.split(";")[0] for d in resolving] == [
        "unknown scratch symbol 'nowhere'",
        "unknown name 'nolabel' (not a label or .equ constant)"]
