"""`vasm diff`: the change between two kernels, in `.vasm`, bundle by bundle.

Bundles are aligned by content; inside changed stretches each bundle is paired
with its counterpart and its ops compared. An op that left one bundle and
arrived in another is shown as a move (`<` where it left, `>` where it
arrived, each naming the other bundle), not as a deletion and an addition.
A vector op the scheduler split into scalar lanes (asm/sched/split.py) is
shown where it left as split, and each lane where it arrived as that lane of
it; scalar lanes it merged into a vector op the other way round.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict

from .. import isa
from ..kernel import Kernel, bundle_cost
from ..sched.split import lanes_of
from .disasm import INDENT, Disassembler


def bundle_lines(kernel: Kernel, *, as_copied: bool = False) -> list[tuple[str, ...]]:
    """Each bundle as its op lines (engines with no slots as `.empty`); with
    `as_copied`, words the scheduler renamed read as the words they copy."""
    d = Disassembler(kernel, as_copied=as_copied)
    out = []
    for pc, bundle in enumerate(kernel.program):
        lines = []
        for engine, slots in bundle.items():
            if not slots:
                lines.append(f".empty {engine}")
            for slot in slots:
                lines.append(d.slot_line(engine, slot, pc))
        out.append(tuple(lines))
    return out


def lane_lines(kernel: Kernel) -> dict[tuple[int, str], list[str]]:
    """(pc, line) of each vector op that could run as scalar lanes -> the
    lines of its lanes (renamed words read as the words they copy)."""
    d = Disassembler(kernel, as_copied=True)
    out = {}
    for pc, bundle in enumerate(kernel.program):
        for slot in bundle.get("valu", ()):
            lanes = lanes_of(isa.BY_MACHINE[("valu", slot[0])], slot)
            if lanes is not None:
                out[(pc, d.slot_line("valu", slot, pc))] = [d.slot_line("alu", x, pc)
                                                            for x in lanes]
    return out


def summary(a: Kernel, b: Kernel) -> list[str]:
    def counts(k: Kernel) -> Counter:
        c: Counter = Counter()
        for bundle in k.program:
            for engine, slots in bundle.items():
                c[engine] += len(slots)
        return c

    ca, cb = counts(a), counts(b)
    rows = [("bundles", len(a.program), len(b.program)),
            ("cycle bundles", sum(map(bundle_cost, a.program)),
             sum(map(bundle_cost, b.program)))]
    rows += [(f"{e} ops", ca[e], cb[e]) for e in isa.ENGINES if ca[e] or cb[e]]
    out = [f"{'':<16}{'before':>10}{'after':>10}{'change':>10}"]
    for name, x, y in rows:
        out.append(f"{name:<16}{x:>10}{y:>10}{y - x:>+10}")
    return out


def diff_kernels(a: Kernel, b: Kernel, *, names: tuple[str, str] = ("a", "b"),
                 context: int = 2) -> tuple[str, bool]:
    """(the diff text, whether the programs differ). Words the scheduler
    renamed compare as the words they copy, so a rescheduled kernel shows
    moves, not renaming; they are shown by their own names."""
    la, lb = bundle_lines(a, as_copied=True), bundle_lines(b, as_copied=True)
    shown_a, shown_b = bundle_lines(a), bundle_lines(b)  # what each op reads as
    opcodes = difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes()
    out = [f"--- {names[0]} ({len(la)} bundles)", f"+++ {names[1]} ({len(lb)} bundles)"]
    if all(tag == "equal" for tag, *_ in opcodes):
        return "\n".join([*out, "no change in the program", *summary(a, b)]) + "\n", False
    pairs = _paired_bundles(opcodes)
    per_pair, removed, added = _op_changes(pairs, (la, lb), (shown_a, shown_b))
    moved_to, moved_from = _moves(removed, added)
    # A vector op removed, and its lanes added, was split (the lanes may land
    # in several bundles); scalar lanes removed, and a vector op of them added,
    # were merged. Ops paired as moves above are taken first.
    split_into = _lane_groups(
        [(x, pc) for x, pcs in removed.items() for pc in pcs[len(added.get(x, ())):]],
        lane_lines(a), {x: pcs[len(removed.get(x, ())):] for x, pcs in added.items()},
        moved_from)
    merged_from = _lane_groups(
        [(x, pc) for x, pcs in added.items() for pc in pcs[len(removed.get(x, ())):]],
        lane_lines(b), {x: pcs[len(added.get(x, ())):] for x, pcs in removed.items()},
        moved_to)
    shown_until = -1
    for idx, ((pa, pb), rows) in enumerate(zip(pairs, per_pair, strict=True)):
        if not rows and (pa is None) == (pb is None):
            continue
        start = max(idx - context, shown_until + 1)
        if start > shown_until + 1 or shown_until < 0:
            out.append(f"@@ bundle {_pc(pairs[start][0])} -> {_pc(pairs[start][1])} @@")
        for k in range(start, idx):
            _equal(out, pairs[k], shown_a)
        _changed(out, pa, pb, rows, moved_to, moved_from, split_into, merged_from)
        end = idx  # then trailing context
        for k in range(idx + 1, min(idx + 1 + context, len(pairs))):
            if per_pair[k] or (pairs[k][0] is None) != (pairs[k][1] is None):
                break
            _equal(out, pairs[k], shown_a)
            end = k
        shown_until = end
    out.append("")
    out.extend(summary(a, b))
    return "\n".join(out) + "\n", True


def _paired_bundles(opcodes: list) -> list[tuple[int | None, int | None]]:
    """Each bundle of one program with its counterpart in the other (None
    where a changed stretch is longer on one side)."""
    pairs: list[tuple[int | None, int | None]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            pairs.extend(zip(range(i1, i2), range(j1, j2), strict=True))
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            pairs.append((i1 + k if i1 + k < i2 else None, j1 + k if j1 + k < j2 else None))
    return pairs


def _op_changes(pairs: list[tuple[int | None, int | None]], compared: tuple[list, list],
                shown: tuple[list, list]) -> tuple[list, dict, dict]:
    """Per pair of bundles, its rows (sign, op compared, op shown); and every
    op removed and added, with the bundles it left or joined."""
    (la, lb), (shown_a, shown_b) = compared, shown
    removed: dict[str, list[int]] = defaultdict(list)
    added: dict[str, list[int]] = defaultdict(list)
    per_pair: list[list[tuple[str, str, str]]] = []
    for pa, pb in pairs:
        ops_a = la[pa] if pa is not None else ()
        ops_b = lb[pb] if pb is not None else ()
        rows: list[tuple[str, str, str]] = []
        if ops_a != ops_b:
            m = difflib.SequenceMatcher(None, ops_a, ops_b, autojunk=False)
            for tag, i1, i2, j1, j2 in m.get_opcodes():
                if tag == "equal":
                    rows.extend((" ", x, shown_a[pa][i]) for i, x in
                                enumerate(ops_a[i1:i2], i1))
                    continue
                for i, x in enumerate(ops_a[i1:i2], i1):
                    rows.append(("-", x, shown_a[pa][i]))
                    removed[x].append(pa)
                for j, x in enumerate(ops_b[j1:j2], j1):
                    rows.append(("+", x, shown_b[pb][j]))
                    added[x].append(pb)
        per_pair.append(rows)
    return per_pair, removed, added


def _moves(removed: dict[str, list[int]], added: dict[str, list[int]]
           ) -> tuple[dict[tuple[str, int], list[int]], dict[tuple[str, int], list[int]]]:
    """An op removed from one bundle and added to another is a move: (where
    each (op, bundle) went, where each came from)."""
    moved_to: dict[tuple[str, int], list[int]] = defaultdict(list)
    moved_from: dict[tuple[str, int], list[int]] = defaultdict(list)
    for text, sources in removed.items():
        for src_pc, dst_pc in zip(sources, added.get(text, []), strict=False):
            moved_to[(text, src_pc)].append(dst_pc)
            moved_from[(text, dst_pc)].append(src_pc)
    return moved_to, moved_from


def _lane_groups(vectors: list[tuple[str, int]], lanes: dict[tuple[int, str], list[str]],
                 pool: dict[str, list[int]], lane_ends: dict) -> dict[tuple[str, int], list]:
    """Vector ops `vectors` ((line, pc) on one side, not moves) whose lanes
    (`lanes`, that side's `lane_lines`) all stand among the unpaired ops of the
    other side (`pool`: line -> pcs, taken as used): (line, pc) -> the pcs of
    each such op's lanes. Each lane is noted in `lane_ends` at its own place
    as (the vector op's pc, lane number, its line)."""
    groups: dict[tuple[str, int], list] = defaultdict(list)
    for text, pc in vectors:
        lane_texts = lanes.get((pc, text))
        if lane_texts is None or any(not pool.get(t) for t in lane_texts):
            continue
        vector = " ".join(text.split())
        groups[(text, pc)].append([])
        for number, t in enumerate(lane_texts):
            other = pool[t].pop(0)
            groups[(text, pc)][-1].append(other)
            lane_ends[(t, other)].append((pc, number, vector))
    return groups


def _pc(pc: int | None) -> str:
    return "-" if pc is None else str(pc)


def _equal(out: list[str], pair: tuple[int | None, int | None], la) -> None:
    pa, pb = pair
    out.append(f"  bundle {pa} -> {pb}: " + " ; ".join(la[pa]))


def _changed(out, pa, pb, rows, moved_to, moved_from, split_into, merged_from) -> None:
    if pa is None:
        out.append(f"+ bundle {pb} (new)")
    elif pb is None:
        out.append(f"- bundle {pa} (gone)")
    else:
        out.append(f"  bundle {pa} -> {pb}:")
    # An op that moved is shown once at each end, naming the other end.
    ends = {"-": ("<", moved_to, pa, "to"), "+": (">", moved_from, pb, "from")}
    seen: Counter = Counter()
    for sign, text, shown in rows:
        mark, moved, pc, word = ends.get(sign, (None, {}, None, ""))
        others = moved.get((text, pc), ())
        k = seen[(sign, text)]
        seen[(sign, text)] += 1
        groups = (split_into if sign == "-" else merged_from).get((text, pc), [])
        if len(others) <= k < len(others) + len(groups):
            where = sorted(set(groups[k - len(others)]))
            how = "split into" if sign == "-" else "merged from"
            out.append(f"{mark}{INDENT}{shown}    # {how} {isa.VLEN} scalar lanes "
                       f"(bundle{'s' * (len(where) > 1)} {', '.join(map(str, where))})")
            continue
        if k < len(others) and isinstance(others[k], tuple):
            src_pc, number, vector = others[k]
            out.append(f"{mark}{INDENT}{shown}    # lane {number} of '{vector}' "
                       f"(bundle {src_pc})")
            continue
        if k < len(others):
            out.append(f"{mark}{INDENT}{shown}    # moved {word} bundle {others[k]}")
            continue
        out.append(f"{sign}{INDENT}{shown}")
