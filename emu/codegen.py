"""Each engine's code for an op, derived from the op's meaning in the ISA table
(`asm.isa.Meaning`): one definition per op, three engines.

A meaning's expressions are Python expressions over the op's operand names
(see `Meaning`). `render` rewrites one for a place: each operand name becomes
the code that yields its value there, `mem[e]` the code that reads memory,
and for NumPy a conditional becomes `np.where`. The reference engine
evaluates the expressions as they stand (`evaluator`); the fast engine and
the batched engine compile the code generated here, once per op.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from asm import isa

K = isa.Kind
VLEN = isa.VLEN


# ------------------------------------------------------------------ rendering


class _Rewrite(ast.NodeTransformer):
    def __init__(self, names: Mapping[str, str], mem: Callable[[str], str],
                 numpy: bool) -> None:
        self.names = names
        self.mem = mem
        self.numpy = numpy

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.names:
            return ast.parse(f"({self.names[node.id]})", mode="eval").body
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == "mem":
            index = ast.unparse(self.visit(node.slice))
            return ast.parse(f"({self.mem(index)})", mode="eval").body
        return self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        node = self.generic_visit(node)
        if not self.numpy:
            return node
        test, body, orelse = (ast.unparse(x) for x in (node.test, node.body, node.orelse))
        return ast.parse(f"np.where(({test}) != 0, {body}, {orelse})", mode="eval").body

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node = self.generic_visit(node)
        if self.numpy and isinstance(node.func, ast.Name) and node.func.id == "int":
            return ast.parse(f"({ast.unparse(node.args[0])}).astype(np.uint32)",
                             mode="eval").body
        return node


def render(expr: str, names: Mapping[str, str], *, mem: Callable[[str], str] | None = None,
           numpy: bool = False) -> str:
    """`expr` with each name in `names` replaced by its code, `mem[e]` by
    `mem(e)`'s code and, for NumPy, conditionals by `np.where`."""
    tree = ast.parse(expr, mode="eval")
    tree = _Rewrite(names, mem or (lambda e: f"m[{e}]"), numpy).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


def operands(op: isa.Op) -> list[str]:
    """The operands' names as parameters of generated code (prefixed, so that
    an operand called `s` or `a` meets no local of the generated code)."""
    return [_p(o.name) for o in op.operands]


def _p(name: str) -> str:
    return f"o_{name}"


def sources(op: isa.Op) -> list[isa.Operand]:
    """The operands an expression reads (all but the destination)."""
    return [o for o in op.operands if not o.kind.is_write]


def lane_wise(operand: isa.Operand) -> bool:
    return operand.kind.width > 1


def contiguous_store(op: isa.Op) -> str | None:
    """For a lane-wise store whose address is `X + i`: X (the fast and batched
    engines write such a store as one slice)."""
    m = op.meaning
    if m.address is None or m.lanes == 1:
        return None
    tree = ast.parse(m.address, mode="eval").body
    if (isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Add)
            and isinstance(tree.left, ast.Name) and isinstance(tree.right, ast.Name)
            and tree.right.id == "i"):
        return tree.left.id
    return None


# ------------------------------------------------------------ the reference


@functools.cache
def evaluator(op: isa.Op, expr: str) -> Callable[..., Any]:
    """`expr` as a function of (operand values..., i, pc, mem), where `mem(e)`
    reads memory: the meaning read as it stands."""
    params = ", ".join([*(o.name for o in op.operands), "i", "pc", "mem"])
    body = render(expr, {}, mem=lambda e: f"mem({e})")
    # Our own table's expressions, never user input.
    return eval(compile(f"lambda {params}: {body}", f"<{op.name}>", "eval"))  # noqa: S307


# ------------------------------------------------------------ the fast engine
# Three forms of each op, generated once (see emu/fast.py):
#   cold(s, m, slot) -> what the op produces     code that runs once
#   direct(x, pc, *operands) -> f()              a bundle of this one slot
#   staged(x, pc, *operands) -> (compute, kind, key)   a slot of a larger bundle
# `x` holds the run's scratch `s`, memory `m`, trace list `tb`, value trace
# `vt`, the program's length `n` and whether pausing is on. What a staged
# compute returns is written by the bundle afterwards, so a faulting bundle
# changes nothing.

from .effects import CHECK, CONTROL, MEMORY, SCRATCH, TRACE, kind_of  # noqa: E402


def _reads_scratch(op: isa.Op, expr: str) -> bool:
    """Whether `expr` reads a scratch operand (else it is known at decoding)."""
    scratch = {o.name for o in op.operands if o.kind.is_scratch}
    return any(isinstance(n, ast.Name) and n.id in scratch
               for n in ast.walk(ast.parse(expr, mode="eval")))


def _closure_names(op: isa.Op, lane: int) -> dict[str, str]:
    """Operand code inside a closure: scratch operands read `s` at their
    (bound) address, immediates are bound as they are."""
    out: dict[str, str] = {"i": str(lane)}
    for o in op.operands:
        if o.kind.is_scratch and not o.kind.is_write:
            out[o.name] = (f"s[{_p(o.name)} + {lane}]" if lane_wise(o) and lane
                           else f"s[{_p(o.name)}]")
        elif not o.kind.is_scratch:
            out[o.name] = _p(o.name)
    return out


def _cold_names(op: isa.Op, lane: int) -> dict[str, str]:
    """Operand code in the cold form: locals unpacked from the slot first."""
    out: dict[str, str] = {"i": str(lane)}
    for o in sources(op):
        if o.kind.is_scratch:
            out[o.name] = f"v_{o.name}_{lane}" if lane_wise(o) else f"v_{o.name}"
        else:
            out[o.name] = _p(o.name)
    return out


def _cold_prologue(op: isa.Op) -> list[str]:
    """Unpack the slot and read every source operand's words into locals."""
    lines = [f"    _, {', '.join(operands(op))}, = slot" if op.operands else "    pass"]
    lines += _offset_lines(op)
    for o in sources(op):
        if not o.kind.is_scratch:
            continue
        if lane_wise(o):
            lanes = ", ".join(f"v_{o.name}_{j}" for j in range(VLEN))
            lines.append(f"    {lanes}, = s[V[{_p(o.name)}]]")
        else:
            lines.append(f"    v_{o.name} = s[{_p(o.name)}]")
    return lines


def _lanes(op: isa.Op, expr: str, names_of: Callable[[isa.Op, int], dict[str, str]],
           mem: Callable[[str], str]) -> list[str]:
    return [render(expr, names_of(op, j), mem=mem) for j in range(op.meaning.lanes)]


def _checked_mem(index: str) -> str:
    # (a word address is never negative; past the end, indexing raises)
    return f"m[{index}]"


def function_name(op: isa.Op) -> str:
    """An op's part of generated function names: engine and mnemonic."""
    return f"{op.engine}_{op.mnemonic}"


def fast_source(op: isa.Op) -> str:
    """The source of the three forms of `op`: cold_<op>, direct_<op>, staged_<op>."""
    m = op.meaning
    kind = kind_of(op)
    args = ", ".join(operands(op))
    sig = f"x, pc, {args}" if args else "x, pc"
    name = function_name(op)
    out = [f"def cold_{name}(s, m, slot, V=VECTORS):"]
    if kind in (SCRATCH, MEMORY, TRACE) and op.engine != "debug":
        out += _cold_prologue(op)
        if kind == SCRATCH:
            values = _lanes(op, m.value, _cold_names, _checked_mem)
            dest = operands(op)[0]
            if m.lanes > 1:
                out.append(f"    return V[{dest}], [{', '.join(values)}]")
            else:
                out.append(f"    return {dest}, {values[0]}")
        elif kind == MEMORY:
            out += _cold_store(op)
        else:
            out.append(f"    return {render(m.trace, _cold_names(op, 0))}")
    else:
        out.append("    raise AssertionError('never cold')")
    out.append(f"\n\ndef direct_{name}({sig}):")
    out += ["    s, m = x.s, x.m"] + _direct_body(op, kind)
    out.append(f"\n\ndef staged_{name}({sig}):")
    out += ["    s, m = x.s, x.m"] + _staged_body(op, kind)
    return "\n".join(out) + "\n"


def _cold_store(op: isa.Op) -> list[str]:
    m = op.meaning
    if m.lanes == 1:
        address = render(m.address, _cold_names(op, 0))
        return [f"    a = {address}",
                "    if a >= len(m):",
                "        raise MemFault",
                f"    return a, {render(m.store, _cold_names(op, 0))}"]
    base = contiguous_store(op)
    values = ", ".join(render(m.store, _cold_names(op, j)) for j in range(VLEN))
    return [f"    a = v_{base}",
            f"    if a > len(m) - {VLEN}:",
            "        raise MemFault",
            f"    return slice(a, a + {VLEN}), [{values}]"]


def _offset_lines(op: isa.Op) -> list[str]:
    """load_offset: every scratch operand moves by the offset operand."""
    if op.offset is None:
        return []
    moved = [_p(o.name) for o in op.operands if o.kind.is_scratch]
    return [f"    {name} = {name} + {_p(op.offset)}" for name in moved]


def _value_code(op: isa.Op) -> tuple[list[str], str]:
    """(lines computing the result, its expression) inside a closure."""
    m = op.meaning
    values = _lanes(op, m.value, _closure_names, _checked_mem)
    if m.lanes == 1:
        return [], values[0]
    return [], "[" + ", ".join(values) + "]"


def _direct_body(op: isa.Op, kind: int | None) -> list[str]:
    m = op.meaning
    lines = _offset_lines(op)
    dest = operands(op)[0] if op.operands else ""
    if kind == SCRATCH:
        _, value = _value_code(op)
        if m.lanes > 1:
            lines += [f"    de = {dest} + {VLEN}",
                      "    def f():", f"        s[{dest}:de] = {value}", "    return f"]
        else:
            lines += ["    def f():", f"        s[{dest}] = {value}", "    return f"]
    elif kind == MEMORY:
        lines += ["    def f():"] + [f"    {line}" for line in _closure_store(op)]
        lines += ["        m[a] = v", "    return f"]
    elif kind == TRACE:
        lines += ["    append = x.tb.append",
                  "    def f():", f"        append({render(m.trace, _closure_names(op, 0))})",
                  "    return f"]
    elif kind == CONTROL:
        lines += _control_body(op)
    elif kind == CHECK:
        lines += _check_body(op)
    else:
        lines += ["    return None"]
    return lines


def _closure_store(op: isa.Op) -> list[str]:
    """Lines (at closure depth) setting `a` (an index or slice) and `v`."""
    m = op.meaning
    names = _closure_names(op, 0)
    if m.lanes == 1:
        return [f"    a = {render(m.address, names)}",
                "    if a >= len(m):",
                "        raise MemFault",
                f"    v = {render(m.store, names)}"]
    base = render(contiguous_store(op), names)
    values = ", ".join(render(m.store, _closure_names(op, j)) for j in range(VLEN))
    return [f"    b = {base}",
            f"    if b > len(m) - {VLEN}:",
            "        raise MemFault",
            f"    a = slice(b, b + {VLEN})",
            f"    v = [{values}]"]


def _control_body(op: isa.Op) -> list[str]:
    m = op.meaning
    if m.stop == "halt":
        return ["    return lambda: HALT"]
    if m.stop == "pause":
        return ["    return (lambda: PAUSE) if x.pause else None"]
    names = _closure_names(op, 0)
    target = render(m.jump, names)
    static = not _reads_scratch(op, m.jump)
    lines = []
    if static:  # the target is known now: check it once
        lines += [f"    t = {target}", "    inside = 0 <= t <= x.n"]
        go = ["        if not inside:", "            raise JumpFault", "        return t"]
    else:
        lines += ["    n = x.n"]
        go = [f"        t = {target}", "        if not 0 <= t <= n:",
              "            raise JumpFault", "        return t"]
    if m.when is None:
        return [*lines, "    def f():", *go, "    return f"]
    return [*lines, "    def f():", f"        if {render(m.when, names)}:",
            *[f"    {line}" for line in go], "        return None", "    return f"]


def _check_body(op: isa.Op) -> list[str]:
    m = op.meaning
    value, key = m.compare
    vt = ["    vt = x.vt", "    def f():"]
    if m.lanes == 1:
        return [*vt, f"        if {render(value, _closure_names(op, 0))} != "
                     f"vt[{render(key, _closure_names(op, 0))}]:",
                "            raise CompareFault", "    return f"]
    got = ", ".join(render(value, _closure_names(op, j)) for j in range(VLEN))
    want = ", ".join(f"vt[{render(key, _closure_names(op, j))}]" for j in range(VLEN))
    return [*vt, f"        if [{got}] != [{want}]:", "            raise CompareFault",
            "    return f"]


def _staged_body(op: isa.Op, kind: int | None) -> list[str]:
    m = op.meaning
    lines = _offset_lines(op)
    dest = operands(op)[0] if op.operands else ""
    if kind == SCRATCH:
        _, value = _value_code(op)
        key = f"slice({dest}, {dest} + {VLEN})" if m.lanes > 1 else dest
        lines += ["    def f():", f"        return {value}", f"    return f, SCRATCH, {key}"]
    elif kind == MEMORY:
        lines += ["    def f():"] + [f"    {line}" for line in _closure_store(op)]
        lines += ["        return a, v", "    return f, MEMORY, None"]
    elif kind == TRACE:
        # The append waits for the write phase, so a faulting bundle appends nothing.
        lines += ["    append = x.tb.append", "    def f():",
                  f"        v = {render(m.trace, _closure_names(op, 0))}",
                  "        return lambda: append(v)", "    return f, TRACE, None"]
    elif kind in (CONTROL, CHECK):
        body = _control_body(op) if kind == CONTROL else _check_body(op)
        lines += ["    def made():", *[f"    {line}" for line in body],
                  "    f = made()",
                  f"    return None if f is None else (f, {'CONTROL' if kind == CONTROL else 'CHECK'}, None)"]
    else:
        lines += ["    return None"]
    return lines


# ------------------------------------------------------------ the batched engine
# slot(fx, scratch, memory): scratch has a row per word and a column per image,
# memory a row per image. A lane-wise op works on blocks of VLEN rows at once.


def batch_source(op: isa.Op) -> str:
    """The source of `build_<op>(pc, N, *operands) -> slot function or None`,
    N the program's length."""
    kind = kind_of(op)
    args = ", ".join(operands(op))
    name = function_name(op)
    head = f"def build_{name}(pc, N, {args}):" if args else f"def build_{name}(pc, N):"
    body = _BATCH_SLOT.get(kind, _batch_nothing)(op, _batch_names(op, kind))
    return "\n".join([head, *_offset_lines(op), *body]) + "\n"


def _batch_names(op: isa.Op, kind: str) -> dict[str, str]:
    """What each name of the op's expressions reads as in a batched slot."""
    names: dict[str, str] = {"i": "LANES" if op.meaning.lanes > 1 else "0"}
    for o in sources(op):
        p = _p(o.name)
        if not o.kind.is_scratch:
            # an immediate in a word's arithmetic is that word (uint32 arrays
            # take no negative Python int); jump targets stay as they are
            names[o.name] = (f"W({p} & 0xFFFFFFFF)" if o.kind is K.IMM and kind != CONTROL
                             else p)
        elif op.meaning.lanes > 1:
            names[o.name] = f"scratch[{p}:{p} + {VLEN}]" if lane_wise(o) else f"scratch[{p}][None]"
        else:
            names[o.name] = f"scratch[{p}]"
    return names


def _gathered(e: str) -> str:
    return f"gather(fx, memory, ({e}))"


def _batch_scratch(op: isa.Op, names: dict[str, str]) -> list[str]:
    m = op.meaning
    expr = m.array or m.value
    dest = operands(op)[0]
    key = f"slice({dest}, {dest} + {VLEN})" if m.lanes > 1 else dest
    shape = f"({VLEN}, fx.k)" if m.lanes > 1 else "(fx.k,)"
    if m.divisor is None:
        return ["    def slot(fx, scratch, memory):",
                f"        v = {render(expr, names, mem=_gathered, numpy=True)}",
                f"        fx.scratch.append(({key}, words(v, {shape})))",
                "    return slot"]
    # by zero: those images fault; the rest go on with a 1
    divided = render(expr, {**names, m.divisor: "y"}, mem=_gathered, numpy=True)
    return ["    def slot(fx, scratch, memory):",
            f"        y = {names[m.divisor]}", "        zero = y == 0",
            "        if zero.any():",
            "            fx.fault(zero.any(axis=0) if zero.ndim > 1 else zero)",
            "            y = np.where(zero, W(1), y)",
            f"        v = {divided}",
            f"        fx.scratch.append(({key}, words(v, {shape})))",
            "    return slot"]


def _batch_memory(op: isa.Op, names: dict[str, str]) -> list[str]:
    m = op.meaning
    address = render(m.address, {**names, "i": "LANES"} if m.lanes > 1 else names, numpy=True)
    return ["    def slot(fx, scratch, memory):",
            f"        a = np.asarray({address}, dtype=np.int64)",
            f"        scatter(fx, memory, a, np.array({render(m.store, names, numpy=True)}, "
            "dtype=W))",
            "    return slot"]


def _batch_trace(op: isa.Op, names: dict[str, str]) -> list[str]:
    return ["    def slot(fx, scratch, memory):",
            f"        fx.trace.append(np.array({render(op.meaning.trace, names, numpy=True)}, "
            "dtype=W))",
            "    return slot"]


def _batch_control(op: isa.Op, names: dict[str, str]) -> list[str]:
    m = op.meaning
    if m.stop == "halt":
        return ["    def slot(fx, scratch, memory):", "        fx.stop = HALTED", "    return slot"]
    if m.jump is None:
        return _batch_nothing(op, names)
    target = render(m.jump, names, numpy=True)
    if _reads_scratch(op, m.jump):
        return ["    def slot(fx, scratch, memory):",
                f"        t = np.array({target}, dtype=np.int64)",
                "        outside = t > N",
                "        if outside.any():",
                "            fx.fault(outside)",
                "        fx.jump = ('indirect', t.astype(W))", "    return slot"]
    lines = [f"    t = {target}", "    inside = 0 <= t <= N"]
    if m.when is None:
        return [*lines, "    def slot(fx, scratch, memory):",
                "        if not inside:",
                "            fx.fault(np.ones(fx.k, dtype=bool))",
                "        fx.jump = ('always', t)", "    return slot"]
    return [*lines, "    def slot(fx, scratch, memory):",
            f"        taken = ({render(m.when, names, numpy=True)}) != 0",
            "        if not inside and taken.any():",
            "            fx.fault(taken)",
            "        fx.jump = ('cond', taken, t)", "    return slot"]


def _batch_nothing(op: isa.Op, names: dict[str, str]) -> list[str]:
    """pause (not honoured in batches), debug checks (skipped), comment."""
    return ["    return None"]


_BATCH_SLOT = {SCRATCH: _batch_scratch, MEMORY: _batch_memory, TRACE: _batch_trace,
               CONTROL: _batch_control}


# ------------------------------------------------------------ the generated files

HEADER = "# generated by `python tests/regenerate.py` from asm/isa.py (emu/codegen.py); do not edit\n"
FAST = "emu/generated_fast.py"
TABLE = "emu/generated_table.py"
BATCH = "emu/generated_batch.py"
ISA_DOC = "docs/isa.md"
DOC_BEGIN, DOC_END = "<!-- ops: begin -->", "<!-- ops: end -->"


def fast_module() -> str:
    body = "\n\n".join(fast_source(op) for op in isa.OPS)
    table = "\n".join(f"    ({op.engine!r}, {op.name!r}): (cold_{function_name(op)}, "
                      f"direct_{function_name(op)}, staged_{function_name(op)}),"
                      for op in isa.OPS)
    return (f'{HEADER}"""The fast engine\'s code for every op (emu/fast.py): cold, direct and\n'
            f'staged forms, from each op\'s meaning in the ISA table (emu/codegen.py)."""\n'
            "# ruff: noqa\n\n"
            "from emu.effects import (CHECK, CONTROL, HALT, MEMORY, PAUSE, SCRATCH, TRACE,\n"
            "                         VECTORS, CompareFault, JumpFault, MemFault)\n\n\n"
            f"{body}\n\nFORMS = {{\n{table}\n}}\n")


def table_module() -> str:
    """What the quick `vemu run` (emu/launch.py) needs of the ISA table, as
    constants, so that it loads neither the table nor the engines."""
    from asm.kernel import machine_description

    from .codegen_c import table_id
    return (f'{HEADER}"""What the quick `vemu run` (emu/launch.py) needs of the ISA table: the\n'
            f'table the compiled core (emu/_core.c) must have been built from (emu/compiled.py)\n'
            f'and the machine a kernel image must have been built for (asm/kernel.py)."""\n\n'
            f"CORE_TABLE_ID = {table_id()!r}\n"
            f"MACHINE = {machine_description()!r}\n")


def batch_module() -> str:
    body = "\n\n".join(batch_source(op) for op in isa.OPS)
    table = "\n".join(f"    ({op.engine!r}, {op.name!r}): build_{function_name(op)},"
                      for op in isa.OPS)
    return (f'{HEADER}"""The batched engine\'s slot builders for every op (emu/batch.py), from\n'
            f'each op\'s meaning in the ISA table (emu/codegen.py)."""\n'
            "# ruff: noqa\n\n"
            "import numpy as np\n\n"
            "from emu.arrays import LANES, W, gather, scatter, words\n"
            "from emu.state import Status\n\n"
            "HALTED = Status.HALTED\n\n\n"
            f"{body}\n\nBUILDERS = {{\n{table}\n}}\n")


def ops_table() -> str:
    """docs/isa.md's table of every op, from the ISA table."""
    rows = ["| engine | op (machine) | mnemonic | operands | meaning |", "|---|---|---|---|---|"]
    for op in isa.OPS:
        m = op.meaning
        parts = []
        where = " for each lane i" if m.lanes > 1 else ""
        if m.value is not None:
            parts.append(f"{op.operands[0].name} = {m.value}")
        if m.store is not None:
            parts.append(f"mem[{m.address}] = {m.store}")
        if m.trace is not None:
            parts.append(f"append {m.trace} to the trace buffer")
        if m.jump is not None:
            parts.append(f"pc = {m.jump}" + (f" if {m.when} != 0" if m.when else ""))
        if m.stop is not None:
            parts.append("halt" if m.stop == "halt" else "pause (when pausing is on)")
        if m.compare is not None:
            parts.append(f"check {m.compare[0]} == value_trace[{m.compare[1]}] (debug runs)")
        meaning = ("; ".join(parts) or "nothing") + where
        if m.divides:
            meaning += "; by 0: a fault"
        names = ", ".join(f"{o.name}:{o.kind.name.lower()}" for o in op.operands) or "none"
        machine = op.name.replace("|", "\\|")
        rows.append(f"| {op.engine} | `{machine}` | `{op.mnemonic}` | {names} | "
                    f"`{meaning.replace('|', chr(92) + '|')}` |")
    return "\n".join(rows) + "\n"


def _with_table(doc: str) -> str:
    head, rest = doc.split(DOC_BEGIN, 1)
    tail = rest.split(DOC_END, 1)[1]
    return f"{head}{DOC_BEGIN}\n{ops_table()}{DOC_END}{tail}"


def generated(root: Path) -> dict[Path, str]:
    """Every file generated from the ISA table, with what it should hold."""
    doc = root / ISA_DOC
    from .codegen_c import CORE, core_header
    return {root / FAST: fast_module(), root / TABLE: table_module(),
            root / BATCH: batch_module(),
            root / CORE: core_header(), doc: _with_table(doc.read_text(encoding="utf-8"))}


def stale(root: Path) -> list[Path]:
    return [p for p, text in generated(root).items()
            if not p.exists() or p.read_text(encoding="utf-8") != text]
