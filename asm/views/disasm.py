"""`asm.disassemble`: a Kernel -> canonical `.vasm` text.

Declarations come first, from the scratch map, each pinned to its address;
operands are symbolic where the map names the word (`vals[19]`) and `@N`
where it does not; every jump target gets a label. The program never depends
on names, so messy maps (names that are not identifiers, duplicates,
overlaps) are turned into valid, unique symbols or left out with a comment.
`assemble(disassemble(k)).program == k.program`, bundle for bundle.
"""

from __future__ import annotations

import re

from .. import isa
from ..cfg import ControlFlow
from ..jsonread import to_json
from ..kernel import Kernel

INDENT = "    "
MNEMONIC_WIDTH = max(len(op.mnemonic) for op in isa.OPS)  # operands start one column after
_IDENT = re.compile(r"[A-Za-z_.$][A-Za-z0-9_.$]*")
_RESERVED = {"VLEN", "SCRATCH_SIZE", ".macro"}
K = isa.Kind


def identifier(name: str, taken: set[str]) -> str:
    """A valid identifier for `name`, unique among `taken` (which it joins)."""
    base = re.sub(r"[^A-Za-z0-9_.$]", "_", name) or "_"
    if not _IDENT.fullmatch(base):
        base = "_" + base
    if base in _RESERVED:
        base = "_" + base
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    taken.add(out)
    return out


def op_line(mnemonic: str, operands: list[str]) -> str:
    if not operands:
        return mnemonic
    return f"{mnemonic:<{MNEMONIC_WIDTH}} {', '.join(operands)}"


def key_text(key) -> str:
    if type(key) is tuple:
        inner = ", ".join(key_text(k) for k in key)
        return f"({inner},)" if len(key) == 1 else f"({inner})"
    if type(key) is str:
        return string_text(key)
    return str(key)


def string_text(s: str) -> str:
    """`s` as a .vasm string literal: printable characters as they are, the
    rest (controls, separators, lone surrogates) as escapes that read back
    to the same string."""
    return to_json(s)


class Disassembler:
    def __init__(self, kernel: Kernel, *, as_copied: bool = False) -> None:
        """`as_copied`: name each word the scheduler's renaming made after the
        word it copies (to compare kernels by meaning, `vasm diff`)."""
        self.k = kernel
        self.copied = kernel.renamed if as_copied else {}
        self.lines: list[str] = []
        self.under_label = ""  # the indent of code: one level once a label was seen
        self.symbol_at: list[tuple[str, int, int] | None] = [None] * isa.SCRATCH_SIZE
        self.in_pin = False  # inside a .pin ... .endpin of pinned bundles (hints)
        self.declare_symbols()
        self.label_at = self.make_labels()

    def declare_symbols(self) -> None:
        taken: set[str] = set()
        out = self.lines
        for addr, (name, length) in sorted(self.k.scratch.items()):
            end = min(addr + length, isa.SCRATCH_SIZE)
            clash = next((self.symbol_at[a] for a in range(addr, end)
                          if self.symbol_at[a] is not None), None)
            if length < 1 or clash is not None:
                why = "it is empty" if length < 1 else f"it overlaps '{clash[0]}'"
                out.append(f"# scratch map entry {string_text(name)} @ {addr} ({length} words) "
                           f"is not declared: {why}")
                continue
            sym = identifier(name, taken)
            entry = (sym, addr, end)
            for a in range(addr, end):
                self.symbol_at[a] = entry
            size = f", {end - addr}" if end - addr != 1 else ""
            temp = all(a in self.k.hints.temps for a in range(addr, end))
            out.append(f".{'temp' if temp else 'scratch'} {sym}{size} @ {addr}")
        for words in self.k.hints.restrict:
            names = [self.scratch(w, 1) for w in words]
            if any(n.startswith("@") for n in names):
                out.append(f"# .restrict of words {', '.join(map(str, words))} is not "
                           "declared: some word has no symbol starting there")
            else:
                out.append(f".restrict {', '.join(names)}")

    def make_labels(self) -> dict[int, str]:
        n = len(self.k.program)
        targets = {t for t in ControlFlow(self.k.program).targets if 0 <= t <= n}
        taken: set[str] = set()
        names: dict[int, str] = {}
        for name, pc in self.k.labels.items():
            if pc not in names:
                names[pc] = identifier(name, taken)
        for pc in sorted(targets - names.keys()):
            names[pc] = identifier(f"L{pc}", taken)
        return names

    def scratch(self, a: int, width: int) -> str:
        a = self.copied.get(a, a)
        if 0 <= a < isa.SCRATCH_SIZE:
            s = self.symbol_at[a]
            if s is not None and a + width <= s[2]:
                return s[0] if a == s[1] else f"{s[0]}[{a - s[1]}]"
        return f"@{a}"

    def operands(self, op: isa.Op, slot: tuple, pc: int) -> list[str]:
        out = []
        n = len(self.k.program)
        for operand, value in zip(op.operands, slot[1:], strict=True):
            kind = operand.kind
            if kind.is_scratch:
                out.append(self.scratch(value, kind.width))
            elif kind is K.TARGET:
                out.append(self.label_at[value] if 0 <= value <= n else str(value))
            elif kind is K.OFFSET:
                t = pc + 1 + value
                out.append(self.label_at[t] if 0 <= t <= n else str(value))
            elif kind is K.KEY:
                out.append(key_text(value))
            elif kind is K.KEYS:
                out.append("[" + ", ".join(key_text(k) for k in value) + "]")
            elif kind is K.TEXT:
                out.append(string_text(value))
            else:
                out.append(str(value))
        return out

    def slot_line(self, engine: str, slot: tuple, pc: int) -> str:
        op = isa.BY_MACHINE[(engine, slot[0])]
        return op_line(op.mnemonic, self.operands(op, slot, pc))

    def bundle(self, pc: int, bundle: dict) -> None:
        label = self.label_at.get(pc)
        pinned = pc in self.k.hints.pinned
        if self.in_pin and (label is not None or not pinned):
            self.lines.append(self.under_label + ".endpin")
            self.in_pin = False
        if label is not None:
            self.lines.append(f"{label}:")
            self.under_label = INDENT  # code after the first label indents under it
        at = self.under_label
        out = self.lines
        if pinned and not self.in_pin:
            out.append(at + ".pin")
            self.in_pin = True
        engines = list(bundle.items())
        if len(engines) == 1 and len(engines[0][1]) == 1:
            engine, (slot,) = engines[0]
            out.append(at + self.slot_line(engine, slot, pc))
            return
        if engines == [(isa.ENGINES[0], [])]:
            out.append(at + "{ }")
            return
        out.append(at + "{")
        inner = at + INDENT
        empties: list[str] = []
        for engine, slots in engines:
            if not slots:
                empties.append(engine)
                continue
            if empties:
                out.append(f"{inner}.empty {', '.join(empties)}")
                empties = []
            for slot in slots:
                out.append(inner + self.slot_line(engine, slot, pc))
        if empties or not engines:
            out.append(f"{inner}.empty {', '.join(empties)}".rstrip())
        out.append(at + "}")

    def run(self) -> str:
        if self.lines:
            self.lines.append("")
        for pc, bundle in enumerate(self.k.program):
            self.bundle(pc, bundle)
        if self.in_pin:
            self.lines.append(self.under_label + ".endpin")
        end = self.label_at.get(len(self.k.program))
        if end is not None:
            self.lines.append(f"{end}:")
        return "\n".join(self.lines) + "\n"


def disassemble(kernel: Kernel) -> str:
    """Canonical `.vasm` text for a kernel."""
    return Disassembler(kernel).run()
