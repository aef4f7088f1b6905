"""Turning errors into text, GCC-style:

    k.vasm:12:5: error: unknown op 'ad'; did you mean 'add'?
       12 |     ad tmp, tmp, tmp
          |     ^~
    k.vasm:30:5: note: in expansion of macro 'hash'

Library code raises or collects `ToolchainError`s; only front ends render.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import Note, ToolchainError
from .source import Sources


def _caret_line(text: str, col: int, width: int) -> str:
    # Keep tabs where the source has them, so the caret lines up in a terminal.
    pad = "".join("\t" if ch == "\t" else " " for ch in text[:col - 1])
    width = max(1, min(width, max(1, len(text) - col + 1)))
    return pad + "^" + "~" * (width - 1)


# Characters a terminal would act on rather than show (a line separator would
# break the quoted line): each shows as one replacement character, so the
# caret still lines up.
_UNSHOWN = {c: "\ufffd" for c in [*range(0x20), *range(0x7f, 0xa0), 0x2028, 0x2029]
            if c != 0x09}

_SHOWN = 120  # columns of a long source line shown around the caret

# What a terminal would act on, or cannot be encoded: control characters
# (C0 but tab and newline, DEL, C1), line and paragraph separators, and lone
# surrogates (JSON can hold them; UTF-8 cannot).
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def printable(text: str) -> str:
    """`text` with what a terminal would act on (an escape sequence, a NUL)
    or could not be written (a lone surrogate) shown as escapes: for names
    and messages that come from the input (a kernel's source map, its
    scratch names, file names)."""
    return UNSAFE.sub(_escape, text) if UNSAFE.search(text) else text


def _window(text: str, col: int | None) -> tuple[str, int | None]:
    """A long line cut to the columns around `col` (GCC and clang do the same),
    marked with '...' where cut, and the caret's column in the cut text."""
    if len(text) <= _SHOWN:
        return text, col
    at = min(max(1, col or 1), len(text) + 1)
    start = max(0, min(at - 1 - _SHOWN // 2, len(text) - _SHOWN))
    end = start + _SHOWN
    head = "..." if start else ""
    tail = "..." if end < len(text) else ""
    shown_col = None if col is None else at - start + len(head)
    return head + text[start:end] + tail, shown_col


def render(diag: ToolchainError, sources: Sources | None = None, *,
           program: str = "vasm") -> str:
    loc = diag.location
    severity = getattr(diag, "severity", "error")
    message = printable(diag.message)
    head = (f"{printable(str(loc))}: {severity}: {message}" if loc
            else f"{program}: {severity}: {message}")
    out = [head]
    if loc is not None and loc.line is not None and sources is not None:
        text = sources.line(loc.file, loc.line)
        if text is not None:
            gutter = len(str(loc.line))
            text, col = _window(text.rstrip().translate(_UNSHOWN), loc.col)
            out.append(f" {loc.line} | {text}")
            if col is not None:
                out.append(f" {' ' * gutter} | {_caret_line(text, col, diag.width)}")
    for note in diag.notes:
        out.append(printable(str(note) if isinstance(note, Note) else f"note: {note}"))
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


def first_error(result, program: str = "vasm") -> str:
    """An assembly's first error (with its source line), and how many more:
    what watch mode shows after a save."""
    errors = [d for d in result.diagnostics if getattr(d, "severity", "error") == "error"]
    if not errors:
        return f"{program}: error: the source does not assemble"
    more = f"\n(and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
    return render(errors[0], result.sources, program=program) + more


def tidy_diagnostics(diagnostics: list[ToolchainError], sources: Sources | None = None
          ) -> list[ToolchainError]:
    """In source order, each distinct diagnostic once (a mistake inside a loop,
    or in a macro called from many places, is one mistake), with notes for
    comments written the way other languages write them."""
    first: dict[tuple, ToolchainError] = {}
    for d in diagnostics:
        # Not the notes: a mistake in a macro body reached through many call
        # chains (a recursion) is one mistake, shown with its first chain.
        first.setdefault((d.message, d.location, d.severity), d)
    tidy = sorted(first.values(), key=_position)
    if sources is None:
        return tidy
    from .suggestions import with_comment_notes  # (only assemblers tidy: vemu loads less)
    return with_comment_notes(tidy, sources.line)


def _position(d: ToolchainError) -> tuple:
    loc = d.location
    if loc is None:
        return ("", 0, 0)
    return (loc.file or "", loc.line or 0, loc.col or 0)
