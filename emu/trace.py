"""`vemu run --trace FILE`: a Chrome Trace Event JSON file that Perfetto opens.

Process 0 ("Core 0") has one thread per engine slot (`alu-0` ... `flow-0`)
and an `X` event per executed slot: ts = the cycle, dur = 1, named by the
machine op, with the slot in `.vasm` text (symbolic operand names from the
kernel's scratch map and labels), the pc and the source line in `args`.
Process 1 ("Core 0 Scratch") has one thread per named scratch symbol and an
event whenever the symbol's value changes, named by the value. This is the
layout the take-home's own `trace.json` and `watch_trace.html` use (same
thread ids, names and `slot`/`named` args), with more in `args`.

The run goes bundle by bundle through the reference engine: traces are for
looking, not for speed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from asm import isa
from asm.fileio import read_text
from asm.kernel import Kernel, bundle_cost

from .reference import ReferenceEngine
from .state import EmuError, State, Status

BASE_ADDR_TID = 100000  # the take-home's thread ids for scratch symbols
K = isa.Kind


class SlotNames:
    """Slots as `.vasm` text, with the scratch map's names."""

    def __init__(self, kernel: Kernel) -> None:
        self.word: list[tuple[str, int, int] | None] = [None] * isa.SCRATCH_SIZE
        for addr, (name, length) in sorted(kernel.scratch.items()):
            for a in range(max(addr, 0), min(addr + length, isa.SCRATCH_SIZE)):
                if self.word[a] is None:
                    self.word[a] = (name, addr, addr + length)
        self.label = {pc: name for name, pc in sorted(kernel.labels.items(), reverse=True)}

    def scratch(self, a: int, width: int) -> str:
        s = self.word[a] if 0 <= a < isa.SCRATCH_SIZE else None
        if s is None or a + width > s[2]:
            return f"@{a}"
        return s[0] if a == s[1] else f"{s[0]}[{a - s[1]}]"

    def slot(self, engine: str, slot: tuple, pc: int) -> str:
        op = isa.BY_MACHINE[(engine, slot[0])]
        parts = []
        for operand, value in zip(op.operands, slot[1:], strict=True):
            kind = operand.kind
            if kind.is_scratch:
                parts.append(self.scratch(value, kind.width))
            elif kind is K.TARGET:
                parts.append(self.label.get(value, str(value)))
            elif kind is K.OFFSET:
                parts.append(self.label.get(pc + 1 + value, str(value)))
            else:
                parts.append(json.dumps(value) if isinstance(value, str) else str(value))
        return f"{op.mnemonic} {', '.join(parts)}".rstrip()


class SourceLines:
    """Source lines by 'file:line', read once per file when it exists."""

    def __init__(self) -> None:
        self.files: dict[str, list[str] | None] = {}

    def get(self, where: str | None) -> str | None:
        if not where:
            return None
        file, _, line = where.rpartition(":")
        lines = self.of(file)
        if lines is None or not line.isdigit() or not 0 < int(line) <= len(lines):
            return None
        return lines[int(line) - 1].strip()

    def of(self, file: str) -> list[str] | None:
        """Every line of `file` (None when it cannot be read)."""
        if file not in self.files:
            try:
                self.files[file] = read_text(file).split("\n")
            except (OSError, UnicodeDecodeError, ValueError):
                self.files[file] = None
        return self.files[file]


def _tids() -> dict[tuple[str, int], int]:
    tids = {}
    for engine, limit in isa.SLOT_LIMITS.items():
        if engine in isa.FREE_ENGINES:
            continue
        for i in range(limit):
            tids[(engine, i)] = len(tids) + 1
    return tids


def trace_events(kernel: Kernel, mem: list[int], *,
                 max_cycles: int | None = None) -> Iterator[dict]:
    """The trace's events in order; the run's final State is the generator's
    return value. Raises EmuError on a runtime fault (events so far are out)."""
    tids = _tids()
    yield {"name": "process_name", "ph": "M", "pid": 0, "tid": 0, "args": {"name": "Core 0"}}
    for (engine, i), tid in tids.items():
        yield {"name": "thread_name", "ph": "M", "pid": 0, "tid": tid,
               "args": {"name": f"{engine}-{i}"}}
    for tid in tids.values():  # so every slot shows up, as in the take-home's traces
        yield {"name": "init", "cat": "op", "ph": "X", "pid": 0, "tid": tid, "ts": 0, "dur": 0}
    yield {"name": "process_name", "ph": "M", "pid": 1, "tid": 0,
           "args": {"name": "Core 0 Scratch"}}
    symbols = sorted((a, name, length) for a, (name, length) in kernel.scratch.items()
                     if 0 <= a < isa.SCRATCH_SIZE and length > 0)
    owner: dict[int, list[int]] = {}
    for n, (a, _, length) in enumerate(symbols):
        for w in range(a, min(a + length, isa.SCRATCH_SIZE)):
            owner.setdefault(w, []).append(n)
    for a, name, length in symbols:
        yield {"name": "thread_name", "ph": "M", "pid": 1, "tid": BASE_ADDR_TID + a,
               "args": {"name": f"{name}-{length}"}}

    names, lines = SlotNames(kernel), SourceLines()
    engine = ReferenceEngine(kernel, max_cycles=max_cycles)
    state = State.fresh(list(mem))
    shown = [tuple(state.scratch[a:a + length]) for a, _, length in symbols]
    program = kernel.program
    writes_cache: dict[int, list[int]] = {}
    while state.pc < len(program):
        pc, cycle = state.pc, state.cycle
        bundle = program[pc]
        source = kernel.source_of(pc)
        text = lines.get(source)
        written = writes_cache.get(pc)
        if written is None:
            written = writes_cache[pc] = sorted({
                w for e, slots in bundle.items() if e not in isa.FREE_ENGINES
                for s in slots for w in isa.BY_MACHINE[(e, s[0])].writes(s)})
        engine.step(state)  # raises EmuError on a fault
        if bundle_cost(bundle):
            for e, slots in bundle.items():
                if e in isa.FREE_ENGINES:
                    continue
                for i, slot in enumerate(slots):
                    args = {"slot": str(tuple(slot)), "named": names.slot(e, tuple(slot), pc),
                            "pc": pc}
                    if source:
                        args["source"] = source
                    if text:
                        args["line"] = text
                    yield {"name": slot[0], "cat": "op", "ph": "X", "pid": 0,
                           "tid": tids[(e, i)], "ts": cycle, "dur": 1, "args": args}
        for n in sorted({n for w in written for n in owner.get(w, ())}):
            a, _, length = symbols[n]
            value = tuple(state.scratch[a:a + length])
            if value != shown[n]:
                shown[n] = value
                yield {"name": ", ".join(map(str, value)), "cat": "op", "ph": "X", "pid": 1,
                       "tid": BASE_ADDR_TID + a, "ts": cycle, "dur": 1}
        if state.status is not Status.READY:
            break
    if state.status is Status.READY:
        state.status = Status.FINISHED
    return state


def trace_json(kernel: Kernel, mem: list[int], *, max_cycles: int | None = None
               ) -> tuple[str, State | None, EmuError | None]:
    """(the trace as JSON text, one event per line; the final state, or the
    fault). After a fault the trace holds everything up to the faulting bundle."""
    events = trace_events(kernel, mem, max_cycles=max_cycles)
    out = []
    state = error = None
    while True:
        try:
            out.append(json.dumps(next(events), ensure_ascii=False))
        except StopIteration as stop:
            state = stop.value
            break
        except EmuError as e:
            error = e
            break
    return "[\n" + ",\n".join(out) + "\n]\n", state, error
