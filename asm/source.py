"""Where each statement came from: files read, lines, and expansion chains."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import Diagnostic, Location, Note
from .fileio import read_text

MAX_CHAIN_NOTES = 8


class ColMap:
    """The original column of each character of a substituted line (and one
    past its end), worked out only when asked: a diagnostic asks, and most
    substituted lines never meet one. `base` is the line's map before this
    substitution (None: the file's own columns), `length` the length of the
    line then, `spans` the (start, end, length of the value) of each {NAME}
    replaced. Maps made alike are equal."""

    __slots__ = ("base", "length", "spans", "_cols", "_hash")

    def __init__(self, base: ColMap | None, length: int,
                 spans: tuple[tuple[int, int, int], ...]) -> None:
        self.base, self.length, self.spans = base, length, spans
        self._cols: tuple[int, ...] | None = None
        self._hash: int | None = None

    @property
    def cols(self) -> tuple[int, ...]:
        if self._cols is None:
            old = self.base.cols if self.base is not None else range(1, self.length + 1)
            cols: list[int] = []
            last = 0
            for start, end, width in self.spans:
                cols.extend(old[last:start])
                cols.extend([old[start] if start < len(old) else len(old)] * width)
                last = end
            cols.extend(old[last:])
            cols.append(cols[-1] + 1 if cols else 1)  # the end of the line
            self._cols = tuple(cols)
        return self._cols

    def __getitem__(self, i: int) -> int:
        return self.cols[i]

    def __len__(self) -> int:
        return len(self.cols)

    def __eq__(self, other: object) -> bool:
        return self is other or (type(other) is ColMap and self.spans == other.spans
                                 and self.length == other.length and self.base == other.base)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self.base, self.length, self.spans))
        return self._hash


@dataclass(frozen=True, slots=True)
class Src:
    """One line as the assembler saw it (node offsets count from its start).

    When macro or loop substitution rewrote the line, `text` holds the
    rewritten line and `colmap[i]` the original column of its character `i`.
    `chain` holds the notes that explain how the line got here (macro calls,
    includes), innermost first.
    """

    file: str | None
    lineno: int
    text: str | None = None
    colmap: ColMap | None = None
    chain: tuple[Note, ...] = ()

    def col(self, pos: int) -> int:
        if self.colmap is not None:
            return self.colmap[min(max(pos, 0), len(self.colmap) - 1)]
        return pos + 1

    def loc(self, pos: int | None = None) -> Location:
        return Location(self.file, self.lineno, None if pos is None else self.col(pos))

    @property
    def where(self) -> str:
        """'file:line', as kernel source maps hold it."""
        return f"{self.file or '<input>'}:{self.lineno}"

    def error(self, message: str, pos: int | None = None, end: int | None = None, *,
              severity: str = "error", notes: tuple[Note, ...] = ()) -> Diagnostic:
        width = 1
        if pos is not None and end is not None and self.colmap is None:
            width = end - pos
        extra: tuple[Note, ...] = ()
        if self.text is not None:
            extra = (Note(f"after substitution the line reads: {self.text.strip()}"),)
        chain = self.chain
        if len(chain) > MAX_CHAIN_NOTES:  # a runaway recursion: its two ends tell the story
            keep = MAX_CHAIN_NOTES // 2
            chain = (*chain[:keep],
                     Note(f"... {len(chain) - 2 * keep} more expansions and includes ..."),
                     *chain[-keep:])
        return Diagnostic(message, location=self.loc(pos), notes=(*notes, *extra, *chain),
                          severity=severity, width=width)


class Sources:
    """The text of every file read during one assembly, for diagnostics."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self._lines: dict[str, list[str]] = {}

    def read(self, path: str) -> str:
        text = read_text(path)
        self.texts[path] = text
        return text

    def add(self, name: str, text: str) -> None:
        self.texts[name] = text

    def line(self, name: str | None, lineno: int) -> str | None:
        text = self.texts.get(name or "<input>")
        if text is None and name is not None and os.path.exists(name):
            try:
                text = self.read(name)
            except (OSError, UnicodeDecodeError):
                return None
        if text is None:
            return None
        lines = self._lines.get(name or "<input>")
        if lines is None:
            lines = self._lines[name or "<input>"] = text.split("\n")
        return lines[lineno - 1].rstrip("\r") if 0 < lineno <= len(lines) else None
