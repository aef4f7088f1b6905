"""What the debugger reads and writes: scratch and memory words named the way
the kernel's author names them, and gdb's print formats.

A WHAT is a scratch symbol (`vals`, a vector's 8 words or an array's), one
word of it (`vals[3]`), a raw scratch address (`@12`), a memory word
(`mem[100]`, or `mem[ptr]`: the word whose address the scratch word `ptr`
holds), or `$pc` / `$cycle`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from asm import isa
from asm.kernel import Kernel

from .errors import DebugError

_WHAT = re.compile(r"(?:mem\[(?P<mem>[^\]]*(?:\[\d+\])?)\]|@(?P<raw>\d+)|\$(?P<reg>pc|cycle)|"
                   r"(?P<name>[^\[\]\s]+)(?:\[(?P<index>\d+)\])?)$")
_FORMAT = re.compile(r"/(?P<count>\d*)(?P<letter>[a-z]?)$")

# gdb's letters: x hex, d signed, u unsigned (the default), t binary, o octal.
FORMATS = "xduto"


@dataclass(frozen=True)
class Place:
    """Words of one space: 'scratch', 'mem' or 'register' ($pc, $cycle)."""

    space: str
    address: int
    width: int
    text: str


def split_format(arg: str, command: str) -> tuple[str, int | None, str]:
    """`/8x rest` -> ('x', 8, 'rest'); no slash -> ('u', None, arg)."""
    arg = arg.strip()
    if not arg.startswith("/"):
        return "u", None, arg
    head, _, rest = arg.partition(" ")
    m = _FORMAT.match(head)
    if m is None or (m["letter"] and m["letter"] not in FORMATS):
        raise DebugError(f"{command}/FMT takes a count and one of the letters x d u t o, "
                         f"not {head!r}")
    return m["letter"] or "u", int(m["count"]) if m["count"] else None, rest.strip()


def show(value: int, fmt: str) -> str:
    """A 32-bit word in a print format."""
    if fmt == "x":
        return f"0x{value:x}"
    if fmt == "d":
        return str(value - (1 << 32) if value & 0x8000_0000 else value)
    if fmt == "t":
        return f"{value:b}"
    if fmt == "o":
        return f"0{value:o}" if value else "0"
    return str(value)


def parse_number(text: str) -> int:
    """A word value as a user writes it (decimal, 0x, 0b, 0o; negative numbers
    as two's complement)."""
    try:
        value = int(text.strip().replace("_", ""), 0)
    except ValueError:
        raise DebugError(f"{text.strip()!r} is not a number") from None
    if not -(1 << 31) <= value <= isa.WORD_MASK:
        raise DebugError(f"{value} does not fit a 32-bit word")
    return value & isa.WORD_MASK


class Words:
    """Names -> places, and reading and writing them in a state."""

    def __init__(self, kernel: Kernel) -> None:
        self.symbols = {name: (addr, length) for addr, (name, length) in kernel.scratch.items()}

    def place(self, text: str, state) -> Place:
        text = text.strip()
        m = _WHAT.match(text)
        if m is None:
            raise DebugError(f"{text!r} is not a symbol, symbol[i], @N, mem[N], mem[SYMBOL] "
                             "or $pc")
        if m["reg"]:
            return Place("register", 0, 1, text)
        if m["mem"] is not None:
            inner = m["mem"].strip()
            if inner.isdigit():
                return Place("mem", int(inner), 1, text)
            pointer = self.place(inner, state)
            if pointer.space != "scratch" or pointer.width != 1:
                raise DebugError(f"mem[...] takes an address or one scratch word, not {inner!r}")
            return Place("mem", self.read(pointer, state)[0], 1, text)
        if m["raw"] is not None:
            return Place("scratch", int(m["raw"]), 1, text)
        name = m["name"]
        if name not in self.symbols:
            raise DebugError(f"no scratch symbol {name!r}" + (
                f" (symbols: {', '.join(sorted(self.symbols)[:12])}"
                f"{', ...' if len(self.symbols) > 12 else ''}; 'info symbols' lists them)"
                if self.symbols else " (the kernel has no scratch map; use @N)"))
        addr, length = self.symbols[name]
        if m["index"] is not None:
            i = int(m["index"])
            if not 0 <= i < length:
                raise DebugError(f"{name} has {length} words; index {i} is outside")
            return Place("scratch", addr + i, 1, text)
        return Place("scratch", addr, length, text)

    @staticmethod
    def space(state, space: str) -> list[int]:
        return state.scratch if space == "scratch" else state.mem

    def read(self, place: Place, state) -> list[int]:
        if place.space == "register":
            return [state.pc if place.text == "$pc" else state.cycle]
        words = self.space(state, place.space)
        end = place.address + place.width
        if place.address < 0 or end > len(words):
            raise DebugError(f"{place.space} word {max(place.address, len(words))} does not "
                             f"exist (0..{len(words) - 1})")
        return words[place.address:end]

    def write(self, place: Place, values: list[int], state) -> None:
        if place.space == "register":
            raise DebugError(f"{place.text} changes only by running; "
                             "'restart' goes back to pc 0")
        self.read(place, state)  # it exists
        if len(values) == 1 and place.width > 1:
            raise DebugError(f"{place.text} has {place.width} words: set one "
                             f"({place.text}[i] = VALUE) or all ({place.text} = {{v0, v1, ...}})")
        if len(values) != place.width:
            raise DebugError(f"{place.text} has {place.width} words, not {len(values)}")
        self.space(state, place.space)[place.address:place.address + place.width] = values
