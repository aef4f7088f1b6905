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
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from . import isa
from .deps import split_blocks
from .kernel import Kernel


def _touched(program) -> tuple[set[int], set[int]]:
    """(every word any op touches, words touched as part of a vector or through
    an offset)."""
    used: set[int] = set()
    wide: set[int] = set()
    for bundle in program:
        for engine, slots in bundle.items():
            for slot in slots:
                op = isa.BY_MACHINE[(engine, slot[0])]
                off = slot[op.offset_index] if op.offset_index is not None else 0
                for index, width, _ in op.scratch_operands:
                    words = range(slot[index] + off, slot[index] + off + width)
                    used.update(words)
                    if width > 1 or op.offset_index is not None:
                        wide.update(words)
    return used, wide


def free_words(kernel: Kernel) -> list[int]:
    used, _ = _touched(kernel.program)
    named: set[int] = set()
    for addr, (_, length) in kernel.scratch.items():
        named.update(range(addr, addr + length))
    return [w for w in range(isa.SCRATCH_SIZE) if w not in used and w not in named]


def rename(kernel: Kernel, words: Iterable[int] | None = None, *,
           pinned: Iterable[int] = ()) -> tuple[Kernel, int]:
    """(the renamed kernel, how many definitions moved). `words` limits renaming
    to those words (the `.temp` ones); None means any word."""
    program = kernel.program
    _, wide = _touched(program)
    eligible = None if words is None else set(words)
    pool = [(-1, w) for w in free_words(kernel)]  # (busy until bundle, word)
    heapq.heapify(pool)
    out = list(program)
    moved = 0
    for start, end, is_pinned in split_blocks(program, pinned):
        if is_pinned:
            continue
        # Where each word is next defined, from each bundle on (within the block).
        next_def: list[dict[int, int]] = [{} for _ in range(end - start + 1)]
        upcoming: dict[int, int] = {}
        for pc in range(end - 1, start - 1, -1):
            next_def[pc - start + 1] = dict(upcoming)
            for engine, slots in program[pc].items():
                for slot in slots:
                    for w in isa.BY_MACHINE[(engine, slot[0])].writes(slot):
                        upcoming[w] = pc
        mapping: dict[int, int] = {}
        for pc in range(start, end):
            later = next_def[pc - start + 1]
            new_bundle: dict[str, list] = {}
            writes_here: list[tuple[str, int, int, int]] = []
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
                            else:
                                s[index] = mapping.get(s[index], s[index])
                    new_slots.append(s)
                new_bundle[engine] = new_slots
            for engine, k, index, w in writes_here:  # in the bundle's own order
                mapping.pop(w, None)
                if w in wide or (eligible is not None and w not in eligible):
                    continue
                dies = later.get(w)  # the value is read up to that bundle
                if dies is None or not pool or pool[0][0] > pc:
                    continue
                _, fresh = heapq.heappop(pool)
                heapq.heappush(pool, (dies, fresh))
                new_bundle[engine][k][index] = fresh
                mapping[w] = fresh
                moved += 1
            out[pc] = {e: [tuple(s) for s in slots] for e, slots in new_bundle.items()}
    return Kernel(out, scratch=dict(kernel.scratch), labels=dict(kernel.labels),
                  source=kernel.source), moved
