"""Reading JSON: every reader of the toolchain (kernel images, objects,
memory images) decodes through `decode`, so that each way JSON can be bad
is one clear error naming where: a syntax error (line and column), nesting
too deep for the decoder, a number with more digits than Python converts, a
key given twice in one object (JSON keeps the last silently). And writing it
readably (`to_json`): text as it is, but for what would not survive."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from .diagnostics import UNSAFE, printable
from .errors import Location, ToolchainError

_LIMIT = sys.get_int_max_str_digits()
_LONG_NUMBER = re.compile(rf"-?\d{{{_LIMIT + 1},}}" if _LIMIT else r"(?!)")


def decode(text: str, filename: str | None, error: type[ToolchainError],
           what: str = "") -> Any:
    """The value `text` holds; `error(message, location=...)` otherwise.
    `what` names the document in messages ("memory image", ...)."""
    name = f"{what} is " if what else ""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as e:
        key = json.dumps(e.key, ensure_ascii=False)
        m = re.search(re.escape(key) + r"\s*:", text)
        first = m.end() if m else 0
        m = re.compile(re.escape(key) + r"\s*:").search(text, first)
        line = col = None
        if m is not None:
            line = text.count("\n", 0, m.start()) + 1
            col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        raise error(f"the key {printable(key)} appears twice in one object (JSON would keep "
                    "the last silently)", location=Location(filename, line, col)) from None
    except json.JSONDecodeError as e:
        raise error(f"{name}not valid JSON: {e.msg}",
                    location=Location(filename, e.lineno, e.colno)) from None
    except RecursionError:
        raise error(f"{name}not valid JSON: nested too deeply",
                    location=Location(filename)) from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        m = _LONG_NUMBER.search(text)
        line = col = None
        if m is not None:
            line = text.count("\n", 0, m.start()) + 1
            col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        digits = len(m.group().lstrip("-")) if m else None
        size = f" ({digits:,} digits)" if digits else ""
        raise error(f"a number too long to read{size}: no word of this machine needs more "
                    "than 10 digits", location=Location(filename, line, col)) from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return out


def to_json(x: Any) -> str:
    """`x` as compact JSON for our files: non-ASCII text as it is (readable
    in a diff), but controls, separators and lone surrogates escaped (a lone
    surrogate cannot be written as UTF-8 at all)."""
    text = json.dumps(x, ensure_ascii=False)
    return UNSAFE.sub(_json_escape, text) if UNSAFE.search(text) else text


def _json_escape(m: re.Match) -> str:
    return f"\\u{ord(m.group()):04x}"


def describe(x: Any, width: int = 40) -> str:
    """A value read from JSON, as messages quote it: JSON-like, at most
    `width` characters, and safe for any value (however long or deep)."""
    text = _preview(x, 0)
    return text if len(text) <= width else text[:width - 3] + "..."


def _preview(x: Any, depth: int) -> str:
    # Only the first items and levels can show in `width`, so only those are
    # rendered: a huge or deeply nested value costs no more than a small one.
    if isinstance(x, bool) or x is None:
        return json.dumps(x)
    if isinstance(x, int):
        return str(x) if x.bit_length() < 128 else f"<an integer of {x.bit_length():,} bits>"
    if isinstance(x, str):
        return to_json(x[:60])
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, list | tuple):
        if depth >= 4:
            return "[...]"
        items = [_preview(y, depth + 1) for y in x[:6]]
        return "[" + ", ".join(items + ["..."] * (len(x) > 6)) + "]"
    if isinstance(x, dict):
        if depth >= 4:
            return "{...}"
        items = [f"{_preview(k, depth + 1)}: {_preview(v, depth + 1)}"
                 for k, v in list(x.items())[:4]]
        return "{" + ", ".join(items + ["..."] * (len(x) > 4)) + "}"
    return repr(x)[:60]
