"""`vasm fmt`: canonical layout for hand-written source.

Token-level: each line is checked by the grammar and re-spaced from its
tokens, so comments, directives, macros and substitutions stay as written;
only whitespace and line breaks change. Canonical layout (the same the
disassembler prints): labels on their own line with the code after them
indented one level (as every example in the docs is), one op per line, four
spaces per level of `{ }` and of block directives (`.macro`, `.rept`, `.for`,
`.if`, `.pin`), mnemonics padded to one column, `, ` between operands, spaces
around binary operators, at most one blank line in a row.
"""

from __future__ import annotations

import functools

from lark import Token
from lark.lexer import Lexer, LexerThread

from ..errors import AssemblyError, ToolchainError
from ..keywords import BLOCKS, BRANCHES
from ..stages.parsecache import parse
from ..stages.syntax import tree_parser
from .disasm import INDENT, MNEMONIC_WIDTH

OPENERS = set(BLOCKS)
CLOSERS = set(BLOCKS.values())
MIDDLES = set(BRANCHES)
_BINARY = {"PIPE", "CARET", "AMP", "CMP", "SHIFT", "PLUS", "MINUS", "STAR", "SLASH", "PERCENT"}
_ENDS_OPERAND = {"NAME", "INT", "STRING", "RPAR", "RBRACK"}


@functools.cache
def _all_tokens_lexer() -> Lexer:
    """The grammar's lexer keeping whitespace and comments, built once (Lark's
    `lex(..., dont_ignore=True)` builds a new one on every call)."""
    return tree_parser()._build_lexer(dont_ignore=True)


def _tokens(line: str) -> tuple[list[Token], str | None]:
    toks: list[Token] = []
    comment = None
    for t in LexerThread.from_text(_all_tokens_lexer(), line).lex(None):
        if t.type == "COMMENT":
            comment = t.value.rstrip()
        elif t.type not in ("WS", "_NL"):
            toks.append(t)
    return toks, comment


def _join(tokens: list[Token]) -> str:
    """Operands with canonical spacing."""
    out: list[str] = []
    prev: Token | None = None
    for t in tokens:
        ty = t.type
        after_operand = prev is not None and prev.type in _ENDS_OPERAND
        if ty == "COMMA":
            out.append(", ")
        elif ty in _BINARY and after_operand:
            out.append(f" {t.value} ")
        elif ty == "AT" and after_operand:
            out.append(" @ ")
        elif ty == "EQUALS":
            out.append(" = ")
        else:
            out.append(t.value)
        prev = t
    return "".join(out)


def _stmt(tokens: list[Token]) -> str:
    head, rest = tokens[0], tokens[1:]
    if not rest:
        return head.value
    if rest[0].type == "EQUALS":
        return f"{head.value} = {_join(rest[1:])}"
    if head.type == "MACRO":  # `.macro NAME ARG, ...`: no comma after the name
        return " ".join(filter(None, [head.value, rest[0].value, _join(rest[1:])]))
    if head.value.startswith("."):
        return f"{head.value} {_join(rest)}"
    return f"{head.value:<{MNEMONIC_WIDTH}} {_join(rest)}"


def _split(tokens: list[Token], sep: str) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    for t in tokens:
        if t.type == sep:
            parts.append([])
        else:
            parts[-1].append(t)
    return [p for p in parts if p]


def format_source(text: str, *, filename: str | None = None) -> str:
    """The canonical layout of `text`; raises AssemblyError on syntax errors."""
    errors: list[ToolchainError] = []
    parse(text, filename, errors)  # the grammar checks every line first
    if errors:
        raise AssemblyError(errors)
    raw_lines = text.split("\n")
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()
    lexed: dict[str, tuple[list[Token], str | None]] = {}

    out: list[str] = []
    depth = 0  # block directives
    brace = 0  # 1 inside { }
    blank = False
    labelled: set[int] = set()  # block depths where a label has been: code under it indents

    def emit(line: str, level: int, *, label: bool = False) -> None:
        nonlocal blank
        if blank and out:
            out.append("")
        blank = False
        if not label and any(d <= depth for d in labelled):
            level += 1
        out.append((INDENT * max(level, 0) + line).rstrip())

    for raw in raw_lines:
        got = lexed.get(raw)
        if got is None:
            got = lexed[raw] = _tokens(raw)
        tokens, comment = got
        if not tokens:
            if comment is not None:
                emit(comment, depth + brace)
            else:
                blank = True
            continue
        first_at = len(out)
        if tokens[0].type == "LABEL":
            emit(tokens[0].value, depth + (1 if any(d < depth for d in labelled) else 0),
                 label=True)
            labelled.add(depth)
            tokens = tokens[1:]
        opens = bool(tokens) and tokens[0].type == "LBRACE"
        closes = bool(tokens) and tokens[-1].type == "RBRACE"
        body = tokens[1 if opens else 0:len(tokens) - 1 if closes else len(tokens)]
        stmts = _split(body, "SEMICOLON")
        if opens and closes and not stmts:
            emit("{ }", depth)
        else:
            if opens:
                emit("{", depth)
                brace = 1
            if brace:
                for s in stmts:
                    emit(_stmt(s), depth + brace)
            elif stmts:
                name = stmts[0][0].value
                if name in CLOSERS or name in MIDDLES:
                    labelled.discard(depth)  # a label inside the block ends with it
                    depth -= 1
                emit(" ; ".join(_stmt(s) for s in stmts), depth)
                if name in OPENERS or name in MIDDLES:
                    depth += 1
            if closes:
                brace = 0
                emit("}", depth)
        if comment is not None:
            if len(out) > first_at:
                out[-1] = f"{out[-1]}  {comment}"
            else:
                emit(comment, depth + brace)
    return "\n".join(out) + "\n" if out else ""
