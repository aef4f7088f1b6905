"""What the debugger shows, as lines of text: a bundle with its source, words
in a print format, memory rows, the last bundle's effects, the stops."""

from __future__ import annotations

import os

from asm import isa
from asm.kernel import Kernel
from asm.suggestions import plural

from ..trace import SlotNames, SourceLines
from .session import LastBundle, Session
from .values import Place, show

MAX_WRITES = 24  # words `info bundle` lists before it sums up the rest
REGISTER_WORDS = 16  # words of one symbol `info registers` shows (print shows all)


def short(where: str | None) -> str:
    """'dir/k.vasm:30' -> 'k.vasm:30'."""
    if not where:
        return ""
    file, _, line = where.rpartition(":")
    return f"{os.path.basename(file)}:{line}"


def pcs_text(pcs: frozenset[int]) -> str:
    shown = sorted(pcs)[:8]
    more = f" and {len(pcs) - 8} more" if len(pcs) > 8 else ""
    return f"pc{'s' * (len(pcs) > 1)} {', '.join(map(str, shown))}{more}"


def bundle_lines(kernel: Kernel, names: SlotNames, lines: SourceLines, pc: int,
                 cycle: int | None) -> list[str]:
    """Bundle `pc`: a head (pc, labels, the cycle when it is next to run, the
    source line) and its ops as `.vasm`; a scheduled bundle's ops each with
    their own source line."""
    if not 0 <= pc < len(kernel.program):
        return [f"pc {pc}: past the end of the program"]
    bundle = kernel.program[pc]
    labels = [n for n, p in kernel.labels.items() if p == pc]
    head = f"pc {pc}" + (f" ({', '.join(labels)})" if labels else "")
    head += f", cycle {cycle}" if cycle is not None else ""
    ops = [f"{engine:<6} {names.slot(engine, slot, pc)}"
           for engine, slots in bundle.items() for slot in slots]
    where = kernel.op_sources(pc)
    if len(set(where)) > 1:
        width = max(map(len, ops))
        return [head, *(f"    {text:<{width}}  {short(w)}"
                        for text, w in zip(ops, where, strict=True))]
    source = where[0] if where else kernel.source_of(pc)
    if source:
        text = (lines.get(source) or "").strip()
        # a line with {substitutions} is a template; the ops below are what it became
        head += f"  {short(source)}" + (f": {text}" if text and "{" not in text else "")
    return [head, *(f"    {text}" for text in ops)] if ops else [head, "    (empty bundle)"]


def words_text(place: Place, values: list[int], fmt: str) -> str:
    """`name = value`, or a multi-word symbol as rows of a vector's 8 lanes."""
    shown = [show(v, fmt) for v in values]
    if len(shown) == 1:
        return f"{place.text} = {shown[0]}"
    rows = [f"{place.text} ({len(shown)} words at {place.address}):"]
    width = max(map(len, shown))
    for i in range(0, len(shown), isa.VLEN):
        rows.append(f"  {f'[{i}]':<6}" + " ".join(f"{v:>{width}}" for v in shown[i:i + isa.VLEN]))
    return "\n".join(rows)


def memory_lines(mem: list[int], start: int, count: int, fmt: str) -> list[str]:
    """Rows of 8 memory words from `start`, as many of `count` as exist
    (`start` must exist)."""
    end = min(start + max(count, 1), len(mem))
    shown = [show(v, fmt) for v in mem[start:end]]
    width = max(map(len, shown))
    out = [f"  {a:>7}: " + " ".join(f"{v:>{width}}" for v in shown[a - start:a - start + 8])
           for a in range(start, end, 8)]
    if end < start + count:
        out.append(f"(memory ends at word {len(mem) - 1}: {end - start} of {count} words shown)")
    return out


def register_lines(kernel: Kernel, scratch: list[int]) -> list[str]:
    """`info registers`: each named scratch word (the scratch map's symbols)
    with its value, as gdb lists registers: a vector's lanes in a row, a long
    array's first words."""
    width = max(len(name) for name, _ in kernel.scratch.values())
    out = []
    for addr, (name, length) in sorted(kernel.scratch.items()):
        values = scratch[addr:addr + min(length, REGISTER_WORDS)]
        text = " ".join(map(str, values))
        if length > REGISTER_WORDS:
            text += f" ... ({length} words; 'print {name}' shows all)"
        out.append(f"  {name:<{width}}  @{addr:<5} {text}")
    return out


def last_bundle_lines(kernel: Kernel, names: SlotNames, last: LastBundle) -> list[str]:
    """`info bundle`: each busy engine's slots (used of its limit), the idle
    ones, every word the bundle wrote (before -> after), its jump or stop."""
    bundle = kernel.program[last.pc]
    source = short(kernel.source_of(last.pc))
    out = [f"last bundle: pc {last.pc}, cycle {last.cycle}" + (f"  {source}" if source else "")]
    idle = []
    for engine in isa.ENGINES:
        slots = bundle.get(engine, [])
        if not slots:
            idle.append(engine)
            continue
        out.append(f"  {engine:<6} {len(slots):>2} of {isa.SLOT_LIMITS[engine]:<2}  "
                   + "; ".join(names.slot(engine, s, last.pc) for s in slots))
    out.append(f"  idle   {' '.join(idle)}")
    fx = last.effects
    writes = [f"{names.scratch(a, 1)}: {last.scratch_before[a]} -> {v}"
              for a, v in sorted(fx.scratch.items())]
    writes += [f"mem[{a}]: {last.mem_before[a]} -> {v}" for a, v in sorted(fx.mem.items())]
    out += [f"  wrote {w}" for w in writes[:MAX_WRITES]]
    if len(writes) > MAX_WRITES:
        out.append(f"  ... and {len(writes) - MAX_WRITES} more words")
    if fx.jump is not None:
        out.append(f"  jumped to pc {fx.jump}")
    if fx.stop is not None:
        out.append(f"  the machine {fx.stop.value}")
    return out


def stop_lines(session: Session) -> list[str]:
    """`info breakpoints`: breakpoints and watches by number."""
    rows = [(b.number, "tbreak" if b.temporary else "breakpoint",
             f"{b.where.text} ({pcs_text(b.where.pcs)})", f"hit {b.hits}")
            for b in session.breakpoints.values()]
    rows += [(w.number, "watch", f"{w.place.text} ({plural(w.place.width, 'word')})", "")
             for w in session.watches.values()]
    if not rows:
        return ["no breakpoints or watches"]
    return [f"  {number:>3}  {kind:<10}  {where}" + (f"  {hits}" if hits else "")
            for number, kind, where, hits in sorted(rows)]
