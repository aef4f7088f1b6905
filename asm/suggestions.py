"""The suggestions diagnostics make: the closest known name, what other
assemblers' words are called here, and comments written the way other
languages write them. One home, so every stage suggests alike."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable

from . import isa
from .errors import Note, ToolchainError


def plural(n: int, word: str) -> str:
    """'1 word', '8 words'."""
    return f"{n} {word}{'s' * (n != 1)}"


# Words from other assemblers, with what .vasm has instead. A name the ISA
# table defines never comes here (its own op wins).
OTHER_ASSEMBLERS: dict[str, str] = {
    **dict.fromkeys(("mov", "move", "mv", "cp", "copy", "movi", "mr"),
                    "a copy is 'add d, s, zero' (with a word that holds 0), or "
                    "'vbroadcast d, s' for every lane of a vector"),
    **dict.fromkeys(("nop", "noop"), "an empty bundle is '{ }'; it costs a cycle"),
    **dict.fromkeys(("li", "ldi", "lui", "set", "imm"), "an immediate goes in with 'const d, VALUE'"),
    **dict.fromkeys(("ld", "ldr", "lw", "lod"), "did you mean 'load'?"),
    **dict.fromkeys(("st", "sw", "sto"), "did you mean 'store'?"),
    **dict.fromkeys(("jmp", "b", "br", "bra", "goto", "j"), "did you mean 'jump'?"),
    **dict.fromkeys(("beq", "bne", "bnez", "beqz", "jz", "jnz", "je", "jne", "brnz"),
                    "a conditional jump is 'cond_jump c, LABEL' (taken when c is not 0)"),
    **dict.fromkeys(("cmp", "test"), "comparisons are 'lt d, a, b' and 'eq d, a, b' (1 or 0)"),
    **dict.fromkeys(("call", "ret", "jsr", "rts", "bl"),
                    "the machine has no calls: a '.macro' expands in place"),
    **dict.fromkeys(("hlt", "stop", "end"), "did you mean 'halt'?"),
    **dict.fromkeys(("inc", "dec", "addi"),
                    "add a constant with 'add_imm d, a, IMM' (flow engine) or through a "
                    "'.const' word"),
}


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """'; did you mean X?' for the closest known name (ties go to a shared prefix)."""
    close = difflib.get_close_matches(name, list(known), n=5)
    if not close:
        return ""
    best = max(close, key=lambda c: (difflib.SequenceMatcher(None, name, c).ratio(),
                                     len(os.path.commonprefix([name, c]))))
    return f"; did you mean '{best}'?"


def unknown_op_message(name: str, macros: Iterable[str] = ()) -> str:
    """The message for an op (or macro) nobody defines."""
    other = OTHER_ASSEMBLERS.get(name.lower())
    if other is not None:
        return f"unknown op '{name}'; {other}"
    return f"unknown op '{name}'" + did_you_mean(name, [*isa.BY_MNEMONIC, *macros])


def still_substituted_message(name: str) -> str:
    """For a name that still holds `{...}` after expansion."""
    return (f"'{name}' still holds a substitution: no macro argument or loop variable "
            "of that name is in scope")


def comment_note(line: str | None, col: int | None) -> Note | None:
    """A note for an error on a line that seems to hold a comment written as
    other languages write them: `// ...`, or `; ...` (which separates the
    ops of a bundle here)."""
    if line is None or col is None:
        return None
    code = _outside_strings(line)
    slashes = code.find("//")
    if 0 <= slashes <= col:
        return Note("comments start with '#': '//' is not a comment in .vasm")
    semicolon = code.rfind(";", 0, col)
    if semicolon >= 0 and "{" not in code and "}" not in code:
        return Note("';' starts another op of the bundle, so what follows it was read as "
                    "an op; comments start with '#'")
    return None


def _outside_strings(line: str) -> str:
    """The line with the insides of string literals blanked (same length)."""
    out = []
    quoted = False
    escaped = False
    for ch in line:
        if quoted:
            out.append(" ")
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        else:
            if ch == "#":
                break
            out.append(ch)
            quoted = ch == '"'
    return "".join(out).ljust(len(line))


def with_comment_notes(diagnostics: list[ToolchainError], line_of) -> list[ToolchainError]:
    """Each error that `comment_note` explains gets that note (first)."""
    for d in diagnostics:
        loc = d.location
        if getattr(d, "severity", "error") != "error" or loc is None or loc.line is None:
            continue
        note = comment_note(line_of(loc.file, loc.line), (loc.col or 1) - 1)
        if note is not None and note not in d.notes:
            d.notes = (note, *d.notes)
    return diagnostics


def kernel_image_instead(text: str) -> bool:
    """Whether a "source" is a kernel image (JSON) given by mistake. A line of
    .vasm may start with '{' (a bundle), but it never parses as JSON."""
    start = text.lstrip()[:1]
    if start not in ("{", "["):
        return False
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    # ('{ }' is valid JSON and an empty bundle.)
    return isinstance(data, list) or (isinstance(data, dict) and bool(
        data.keys() & {"format", "program", "instrs"}))
