"""Renaming: give definitions fresh scratch words so that reuse of a word
(anti and output dependences) stops serializing a schedule.

A definition of word `w` is renamed when the next definition of `w` lies in the
same basic block: its value is then dead at the block's end, and every read of
it sits between the two definitions. The fresh word comes from the words the
program never touches and no scratch-map entry names, and is handed out only
once the value it last held is dead, so the renamed program computes exactly
what the original did, in the original order; the scheduler's dependence
analysis then sees only the reuse that remains.

Only single-word operands are renamed; words that some vector operand or a
`load_offset` touches keep their place.

A fresh word only ever holds copies of one word, so it can be named after it:
copies of `tmp` are `tmp.1`, `tmp.2`, ... (of `vals[3]`, `vals.3.1`; of an
unnamed word 17, `w17.1`) in the scratch map, and the kernel's `renamed`
records which word each copies, for `vasm diff` and the debugger.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable

from .. import isa
from ..cfg import ControlFlow
from ..kernel import Kernel


def _touched(program) -> tuple[set[int], set[int]]:
    """(every word any op touches, words touched as part of a vector or through
    an offset): of a program's bundles, or its distinct ones."""
    used: set[int] = set()
    wide: set[int] = set()
    seen: set[tuple] = set()  # (kernels repeat slots: each distinct one once)
    for bundle in program:
        for engine, slots in bundle.items():
            for slot in slots:
                if type(slot) is tuple:
                    if (engine, slot) in seen:
                        continue
                    seen.add((engine, slot))
                op = isa.BY_MACHINE[(engine, slot[0])]
                off = slot[op.offset_index] if op.offset_index is not None else 0
                for index, width, _ in op.scratch_operands:
                    words = range(slot[index] + off, slot[index] + off + width)
                    used.update(words)
                    if width > 1 or op.offset_index is not None:
                        wide.update(words)
    return used, wide


# The words the last renamed program touches, known without walking it (see
# `rename`), for the lane splitting that asks for them next: (the program,
# its length, used, wide). Kept by the program's identity, as Kernel.distinct
# keeps its own.
_renamed_touched: tuple = (None, -1, set(), set())


def touched(program) -> tuple[set[int], set[int]]:
    """`_touched(program)`, for a program `rename` made without a walk."""
    made, n, used, wide = _renamed_touched
    if made is program and n == len(program):
        return used, wide
    return _touched(program)


def free_words(kernel: Kernel, used: set[int] | None = None) -> list[int]:
    """Scratch words no op touches and no symbol names (`used`: the touched
    ones, when already known)."""
    if used is None:
        used, _ = touched(kernel.program)
    named: set[int] = set()
    for addr, (_, length) in kernel.scratch.items():  # (a map may claim past the end)
        named.update(range(max(addr, 0), min(addr + length, isa.SCRATCH_SIZE)))
    return [w for w in range(isa.SCRATCH_SIZE) if w not in used and w not in named]


def rename(kernel: Kernel, words: Iterable[int] | None = None) -> tuple[Kernel, int]:
    """(the renamed kernel, how many definitions moved). `words` limits renaming
    to those words (the `.temp` ones); None means any word."""
    program = kernel.program
    distinct, index, _ = kernel.distinct()  # (kernels repeat bundles: each looked at once)
    used, wide = _touched(distinct)
    eligible = None if words is None else set(words)
    touching = None if eligible is None else _touching(distinct, index, eligible)
    places = _Places(free_words(kernel, used))
    out = list(program)
    moved = 0
    for block in ControlFlow(program).blocks(kernel.hints.pinned):
        if not block.pinned:
            moved += _rename_block(program, out, block.start, block.end, places,
                                   lambda w: w not in wide and (eligible is None or w in eligible),
                                   eligible, touching)
    # Only operands changed, each to a word inside scratch: still valid.
    renamed = places.renamed
    # The program touches what it did and the fresh words: a renamed word's
    # last definition in its block (with no next one there) stays, and the
    # fresh words are single words, as the operands they replace.
    global _renamed_touched
    _renamed_touched = (out, len(out), used | set(renamed), wide)
    return kernel.replace(program=out, scratch={**kernel.scratch, **copy_names(kernel, renamed)},
                          renamed={**kernel.renamed,
                                   **{c: ws[0] for c, ws in renamed.items()}}), moved


def _touching(distinct: list[dict], index: list[int], words: set[int]) -> list[bool]:
    """For each bundle, whether it reads or writes any of `words` (`distinct`:
    the program's distinct bundles; `index`: each bundle's among them). The
    others renaming limited to `words` leaves as they are."""
    by_machine = isa.BY_MACHINE
    flags = [any(w in words for engine, slots in bundle.items() for slot in slots
                 for part in by_machine[(engine, slot[0])].scratch_words(slot) for w in part)
             for bundle in distinct]
    return [flags[i] for i in index]


class _Places:
    """Where a definition may move: a word never used (the fewer words share a
    value's place, the freer the schedule), else a copy of the same word that
    is free again, else a free copy of another word."""

    def __init__(self, unused: list[int]) -> None:
        self.unused = unused[::-1]  # handed out from the low end
        self.copies: dict[int, list[tuple[int, int]]] = {}  # word -> (busy until, copy)
        self.renamed: dict[int, list[int]] = {}  # copy -> the words it copies, in order

    def take(self, w: int, pc: int, dies: int) -> int | None:
        """A word for `w`'s definition at `pc`, read up to bundle `dies`; None
        when every place is busy."""
        own = self.copies.setdefault(w, [])
        if self.unused:
            fresh = self.unused.pop()
            self.renamed[fresh] = [w]
        elif own and own[0][0] <= pc:
            _, fresh = heapq.heappop(own)
        else:
            other = min((c for c in self.copies.values() if c and c[0][0] <= pc),
                        default=None, key=lambda c: c[0])
            if other is None:
                return None
            _, fresh = heapq.heappop(other)
            self.renamed[fresh].append(w)
        heapq.heappush(own, (dies, fresh))
        return fresh


def _next_definitions(program, start: int, end: int, words: set[int] | None = None,
                      touching: list[bool] | None = None) -> dict[tuple[int, int], int]:
    """For each (bundle, word it writes) of a block, the next bundle of the
    block that writes the word again (the value is read at most up to there);
    of `words` only, when given (`touching`: which bundles touch any of them,
    when known)."""
    next_def: dict[tuple[int, int], int] = {}
    upcoming: dict[int, int] = {}
    by_machine = isa.BY_MACHINE
    for pc in range(end - 1, start - 1, -1):
        if touching is not None and not touching[pc]:
            continue
        written = [w for engine, slots in program[pc].items() for slot in slots
                   for w in by_machine[(engine, slot[0])].scratch_words(slot)[1]]
        if words is not None:
            written = [w for w in written if w in words]
        for w in written:
            if w in upcoming:
                next_def[pc, w] = upcoming[w]
        for w in written:
            upcoming[w] = pc
    return next_def


def _rename_block(program, out: list, start: int, end: int, places: _Places,
                  movable: Callable[[int], bool], words: set[int] | None = None,
                  touching: list[bool] | None = None) -> int:
    """Rename the definitions of one block's `movable` words (all among
    `words`, when given) into `out`, bundle by bundle (reads follow the
    word's latest place); how many moved. `touching`: which bundles touch
    any of `words`, when known (no other changes)."""
    next_def = _next_definitions(program, start, end, words, touching)
    mapping: dict[int, int] = {}  # word -> where its current value lives
    moved = 0
    for pc in range(start, end):
        if touching is not None and not touching[pc]:
            continue
        new_bundle: dict[str, list] = {}
        writes_here: list[tuple[str, int, int, int]] = []
        changed = False
        for engine, slots in program[pc].items():
            new_slots = []
            for k, slot in enumerate(slots):
                op = isa.BY_MACHINE[(engine, slot[0])]
                s = list(slot)
                if op.offset_index is None:
                    for index, width, is_write in op.scratch_operands:
                        if width != 1:
                            continue
                        if is_write:
                            writes_here.append((engine, k, index, s[index]))
                        elif s[index] in mapping:
                            s[index] = mapping[s[index]]
                            changed = True
                new_slots.append(s)
            new_bundle[engine] = new_slots
        for engine, k, index, w in writes_here:  # in the bundle's own order
            mapping.pop(w, None)
            dies = next_def.get((pc, w))  # the value is read up to that bundle
            if not movable(w) or dies is None:
                continue
            fresh = places.take(w, pc, dies)
            if fresh is None:
                continue
            new_bundle[engine][k][index] = fresh
            mapping[w] = fresh
            moved += 1
            changed = True
        if changed:
            out[pc] = {e: [tuple(s) for s in slots] for e, slots in new_bundle.items()}
    return moved


def copy_names(kernel: Kernel, renamed: dict[int, list[int]]) -> dict[int, tuple[str, int]]:
    """Scratch map entries naming each copy after the words it copies (one
    almost always; several joined by '_' when scratch ran short)."""
    owner: dict[int, tuple[str, int]] = {}
    for addr, (name, length) in kernel.scratch.items():
        for i in range(max(0, -addr), min(length, isa.SCRATCH_SIZE - addr)):
            owner[addr + i] = (name, i) if length > 1 else (name, -1)
    taken = {name for name, _ in kernel.scratch.values()}
    count: dict[int, int] = {}
    out: dict[int, tuple[str, int]] = {}
    for fresh, words in sorted(renamed.items()):
        parts = []
        for w in dict.fromkeys(words):
            name, i = owner.get(w, (f"w{w}", -1))
            base = name if i < 0 else f"{name}.{i}"
            k = count.get(w, 0)
            while True:
                k += 1
                candidate = f"{base}.{k}"
                if candidate not in taken:
                    break
            count[w] = k
            taken.add(candidate)
            parts.append(candidate)
        out[fresh] = ("_".join(parts), 1)
    return out
