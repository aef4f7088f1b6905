"""Scratch layout: pinned symbols where asked, the rest packed first-fit in
declaration order around them and around any raw `@N` words the code uses."""

from __future__ import annotations

from .. import isa
from ..errors import Diagnostic, Note
from ..ir import Module, Ref, Symbol


def _table(rows: list[tuple[int, int, str]]) -> Note:
    lines = [f"{'words':>11}  symbol"]
    for addr, length, what in sorted(rows):
        span = f"{addr}..{addr + length - 1}" if length > 1 else str(addr)
        lines.append(f"{span:>11}  {what}")
    return Note("scratch use:\n    " + "\n    ".join(lines))


def _raw_words(module: Module) -> set[int]:
    used: set[int] = set()
    filled: set[int] = set()  # ops filled in from one template have its words (IROp.hole)
    bundles = module.bundles  # a bundle of a repeated line is listed many times: once here
    for b in dict(zip(map(id, bundles), bundles, strict=True)).values():
        for o in b.ops:
            if o.hole >= 0:
                if id(o.nodes) in filled:
                    continue
                filled.add(id(o.nodes))
            args = o.args
            for index, width, _ in o.op.scratch_operands:
                arg = args[index - 1]
                if type(arg) is Ref and arg.name is None:
                    used.update(range(arg.offset, arg.offset + width))
    return used


def layout(module: Module, owners: dict[str, str] | None = None
           ) -> tuple[dict[str, int], list[Diagnostic]]:
    """(address of each symbol, errors). `owners` names each symbol's module
    when the module is linked from several; errors then name modules too."""
    errors: list[Diagnostic] = []
    size = isa.SCRATCH_SIZE
    owner: list[Symbol | None] = [None] * size
    addr: dict[str, int] = {}
    rows = []

    def describe(s: Symbol) -> str:
        if owners is not None:
            return f"{s.name} (module {owners.get(s.name, '?')}, {s.src.where})"
        return f"{s.name} ({s.src.where})"

    def whose(s: Symbol) -> str:
        return f" in module {owners[s.name]}" if owners and s.name in owners else ""

    for s in module.symbols.values():
        if s.pin is None:
            continue
        if s.pin < 0 or s.pin + s.length > size:
            errors.append(s.src.error(
                f"'{s.name}' pinned at {s.pin} with {s.length} words does not fit in "
                f"scratch (0..{size - 1})", s.pos))
            continue
        clash = next((owner[a] for a in range(s.pin, s.pin + s.length)
                      if owner[a] is not None), None)
        if clash is not None:
            errors.append(s.src.error(
                f"'{s.name}'{whose(s)} at {s.pin}..{s.pin + s.length - 1} overlaps "
                f"'{clash.name}'{whose(clash)} at "
                f"{addr[clash.name]}..{addr[clash.name] + clash.length - 1}", s.pos,
                notes=(Note(f"'{clash.name}' is declared here", clash.src.loc(clash.pos)),)))
            continue
        owner[s.pin:s.pin + s.length] = [s] * s.length
        addr[s.name] = s.pin
        rows.append((s.pin, s.length, describe(s)))
    taken = bytearray(size)
    for a in range(size):
        if owner[a] is not None:
            taken[a] = 1
    raw = sorted(a for a in _raw_words(module) if 0 <= a < size)
    for a in raw:
        taken[a] = 1
    cursor = 0
    for s in module.symbols.values():
        if s.pin is not None:
            continue
        a = _first_fit(taken, s.length, cursor)
        if a is None:
            used = sum(taken)
            notes = [_table(rows + _raw_rows(raw))]
            if owners is not None:
                notes.append(_by_module(module, owners))
            errors.append(s.src.error(
                f"scratch is full: no room for '{s.name}'{whose(s)} ({s.length} words); "
                f"{used} of {size} words are in use", s.pos, notes=tuple(notes)))
            continue
        taken[a:a + s.length] = b"\x01" * s.length
        addr[s.name] = a
        rows.append((a, s.length, describe(s)))
        cursor = a + s.length
    return addr, errors


def _by_module(module: Module, owners: dict[str, str]) -> Note:
    """Words each module declares (all of them, placed or not)."""
    total: dict[str, int] = {}
    for s in module.symbols.values():
        who = owners.get(s.name, "?")
        total[who] = total.get(who, 0) + s.length
    width = max(len(m) for m in total)
    lines = [f"{m:<{width}}  {n:>5} words" for m, n in total.items()]
    return Note("scratch declared by each module:\n    " + "\n    ".join(lines))


def _first_fit(taken: bytearray, length: int, start: int) -> int | None:
    """The lowest free run of `length` words, searching from `start` first so
    unpinned symbols keep declaration order when nothing is in the way."""
    for origin in (start, 0):
        a = origin
        while a + length <= len(taken):
            block = taken.find(1, a, a + length)
            if block == -1:
                return a
            a = block + 1
    return None


def _raw_rows(raw: list[int]) -> list[tuple[int, int, str]]:
    rows = []
    for a in raw:
        if rows and rows[-1][0] + rows[-1][1] == a:
            rows[-1] = (rows[-1][0], rows[-1][1] + 1, "raw @ addresses in the code")
        else:
            rows.append((a, 1, "raw @ addresses in the code"))
    return rows
