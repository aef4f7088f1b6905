"""Where each statement came from: files read, lines, and expansion chains."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import Diagnostic, Location, Note
from .fileio import read_text

MAX_CHAIN_NOTES = 8


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
    colmap: tuple[int, ...] | None = None
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
