"""Turning errors into text, GCC-style:

    k.vasm:12:5: error: unknown op 'ad'; did you mean 'add'?
       12 |     ad tmp, tmp, tmp
          |     ^~
    k.vasm:30:5: note: in expansion of macro 'hash'

Library code raises or collects `ToolchainError`s; only front ends render.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import Note, ToolchainError
from .source import Sources


def _caret_line(text: str, col: int, width: int) -> str:
    # Keep tabs where the source has them, so the caret lines up in a terminal.
    pad = "".join("\t" if ch == "\t" else " " for ch in text[:col - 1])
    width = max(1, min(width, max(1, len(text) - col + 1)))
    return pad + "^" + "~" * (width - 1)


def render(diag: ToolchainError, sources: Sources | None = None, *,
           program: str = "vasm") -> str:
    loc = diag.location
    severity = getattr(diag, "severity", "error")
    head = f"{loc}: {severity}: {diag.message}" if loc else f"{program}: {severity}: {diag.message}"
    out = [head]
    if loc is not None and loc.line is not None and sources is not None:
        text = sources.line(loc.file, loc.line)
        if text is not None:
            gutter = len(str(loc.line))
            out.append(f" {loc.line} | {text.rstrip()}")
            if loc.col is not None:
                out.append(f" {' ' * gutter} | {_caret_line(text, loc.col, diag.width)}")
    for note in diag.notes:
        out.append(str(note) if isinstance(note, Note) else f"note: {note}")
    return "\n".join(out)


def render_all(diagnostics: Iterable[ToolchainError], sources: Sources | None = None, *,
               max_errors: int | None = None, program: str = "vasm") -> str:
    """Every diagnostic (errors up to `max_errors`), then a count."""
    shown: list[str] = []
    errors = warnings = 0
    for d in diagnostics:
        if getattr(d, "severity", "error") == "error":
            errors += 1
            if max_errors is not None and errors > max_errors:
                continue
        else:
            warnings += 1
        shown.append(render(d, sources, program=program))
    counts = []
    if errors:
        counts.append(f"{errors} error{'s' * (errors != 1)}")
    if warnings:
        counts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    if max_errors is not None and errors > max_errors:
        counts.append(f"only the first {max_errors} errors shown")
    if counts:
        shown.append(", ".join(counts) + ".")
    return "\n".join(shown)
