"""`vasm link --map FILE`: where everything went, for a person to read.

Four tables: modules with their bundle ranges, code (labels per range),
scratch (address, size, symbol, module, kind) and global symbols, plus the
constants the linker merged.
"""

from __future__ import annotations

from .. import isa
from .link import Linked


def _span(a: int, n: int) -> str:
    return f"{a}..{a + n - 1}" if n > 1 else str(a)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    out = []
    for r in [header, *rows]:
        out.append(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))
                   .rstrip())
    return out


def link_map(linked: Linked, output: str | None = None) -> str:
    m = linked.module
    assert m is not None
    lines = ["# vasm link map" + (f" for {output}" if output else ""), ""]

    rows = []
    for name, path, (a, b) in zip(linked.modules, linked.paths, linked.ranges, strict=True):
        rows.append((name, path or "-", _span(a, b - a) if b > a else "-", str(b - a)))
    lines.append(f"Modules, in link order ({len(rows)})")
    lines += _table(("module", "file", "bundles", "count"), rows)

    lines += ["", "Code"]
    by_pc: dict[int, list[str]] = {}
    for name, (pc, _, _) in m.labels.items():
        by_pc.setdefault(pc, []).append(name)
    rows = []
    for name, (a, b) in zip(linked.modules, linked.ranges, strict=True):
        labels = [f"{n}@{pc}" for pc in sorted(by_pc) if a <= pc < b or (pc == b == a)
                  for n in by_pc[pc]]
        rows.append((_span(a, b - a) if b > a else "-", name, ", ".join(labels) or "-"))
    lines += _table(("bundles", "module", "labels"), rows)

    used = sum(s.length for s in m.symbols.values())
    lines += ["", f"Scratch: {used} of {isa.SCRATCH_SIZE} words declared"]
    rows = []
    for name, addr in sorted(linked.addresses.items(), key=lambda x: (x[1], x[0])):
        s = m.symbols[name]
        kind = []
        if s.vector:
            kind.append(f"vector x{s.length // isa.VLEN}")
        if s.temp:
            kind.append("temp")
        if s.const is not None:
            kind.append(f"const {s.const}")
        if s.pin is not None:
            kind.append("pinned")
        if name in m.globals:
            kind.append("global")
        local = linked.local.get(name, name)
        shown = name if local == name else f"{name} (as {local})"
        rows.append((_span(addr, s.length), str(s.length), shown,
                     linked.owners.get(name, "?"), ", ".join(kind) or "-"))
    lines += _table(("address", "size", "symbol", "module", "kind"), rows)

    if linked.merged:
        lines += ["", "Merged constants (one word and one const op each)"]
        rows = []
        for c in linked.merged:
            others = ", ".join(f"{linked.local.get(n, n)} ({linked.owners.get(n, '?')})"
                               for n in c.merged)
            rows.append((str(c.value), str(linked.addresses.get(c.kept, "?")),
                         f"{c.kept} ({linked.owners.get(c.kept, '?')})", others))
        lines += _table(("value", "address", "kept", "merged into it"), rows)

    rows = []
    for name in m.globals:
        if name in m.symbols:
            rows.append((name, "scratch", linked.owners.get(name, "?"),
                         f"@{linked.addresses.get(name, '?')}"))
        elif name in m.labels:
            rows.append((name, "label", linked.owners.get(name, "?"),
                         f"bundle {m.labels[name][0]}"))
    lines += ["", "Global symbols"]
    lines += _table(("name", "kind", "module", "value"), rows) if rows else ["  (none)"]
    return "\n".join(lines) + "\n"
