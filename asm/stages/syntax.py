"""Parse stage: a line of `.vasm` text -> `Line`s (labels, braces, statements;
the node types are asm/tree.py's), and the words of its syntax errors.

The grammar (grammar/vasm.lark) is the only parser of the language: Lark's
LALR parser with the basic lexer and an inline transformer (nodes are built
during the parse; no tree). A whole file is parsed by asm/stages/parsecache.py,
each distinct line once, and a bad line does not stop the others from being
checked.
"""

from __future__ import annotations

import ast
import functools
from importlib import resources

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..errors import Diagnostic, Location
from ..tree import (
    Assign,
    Bin,
    Indexed,
    KeyVal,
    Line,
    Lst,
    Name,
    Node,
    Num,
    Raw,
    Stmt,
    Str,
    Tup,
    Un,
)

# Deeper expressions are refused where they are read, so that no walker of
# one (evaluation, substitution, printing) runs out of Python's stack.
MAX_DEPTH = 200
# Longer names and strings are refused: no kernel needs them, and messages,
# source maps and debug keys would carry every character.
MAX_NAME = 1_000
MAX_STRING = 10_000
# And longer lines, before the lexer sees them: its patterns take memory for
# each character they match (some hundred bytes), a gigabyte for a 5 MB name.
MAX_LINE = 65_536


# ---------------------------------------------------------------- the parser


@functools.cache
def grammar_text() -> str:
    return resources.files("asm.grammar").joinpath("vasm.lark").read_text(encoding="utf-8")


class BadToken(Exception):
    """A number or string the lexer took whose value cannot be read (`0x_`, a
    bad escape); `column` is where it starts."""

    def __init__(self, message: str, column: int, width: int) -> None:
        super().__init__(message)
        self.column, self.width = column, width


def unquote(token: str) -> str:
    """The value of a STRING token: a double-quoted literal with Python's escapes.
    Raises ValueError for an escape that does not decode (`\\x` without two hex
    digits, `\\N{...}` that names nothing)."""
    if "\\" not in token:
        return token[1:-1]
    return _unescape(token)


@functools.lru_cache(maxsize=4096)
def _unescape(token: str) -> str:
    # Cached: besides being slow, literal_eval leaves a few reference cycles
    # (its recursive helpers) for the collector on every call.
    try:
        return ast.literal_eval(token)  # reads a literal; evaluates nothing
    except (SyntaxError, ValueError) as e:
        # Python says "(unicode error) 'unicodeescape' codec can't decode bytes
        # in position 2-3: truncated \\xXX escape": the last part is the news.
        raise ValueError(str(getattr(e, "msg", e)).rpartition(": ")[2]) from None


def parse_int(text: str) -> int:
    """An INT token's value; decimal with leading zeros is still decimal (the
    language has no octal). Raises ValueError for `0x_` and the like."""
    digits = text.replace("_", "")
    if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
        return int(digits, 10)
    return int(digits, 0)


class _Build(Transformer):
    """Inline transformer: builds nodes while the LALR parser reduces."""

    def line(self, c):
        first = c[0]
        if type(first) is Token:  # a label
            _short(first)
            label = Name(first.value[:-1], first.start_pos, first.end_pos - 1)
            if len(c) == 1:
                return Line(label, None, [], None)
            opened, stmts, closed = c[1]
            return Line(label, opened, stmts, closed)
        return Line(None, *first)

    # A body is (opens, stmts, closes).
    def plain(self, c):
        return (None, c[0], None)

    def open(self, c):  # noqa: A003
        return (c[0].start_pos, c[1] if len(c) > 1 else [], None)

    def whole(self, c):
        return (c[0].start_pos, c[1] if len(c) > 2 else [], c[-1].start_pos)

    def close(self, c):
        return (None, [] if len(c) == 1 else c[0], c[-1].start_pos)

    def first(self, c):
        return c

    def more(self, c):
        c[0].append(c[1])
        return c[0]

    def one(self, c):
        return c

    def op(self, c):
        t = _short(c[0])
        return Stmt(t.value, t.start_pos, c[1] if len(c) > 1 else [])

    def pinned(self, c):
        t = _short(c[0])
        return Stmt(t.value, t.start_pos, c[1], c[3])

    def assign(self, c):
        t = _short(c[0])
        return Assign(t.value, t.start_pos, c[2])

    def macro_head(self, c):
        t, name = c[0], _short(c[1])
        head = Name(name.value, name.start_pos, name.end_pos)
        return Stmt(t.value, t.start_pos, [head, *(c[2] if len(c) > 2 else [])])

    def indexed(self, c):
        t = _short(c[0])
        return Indexed(Name(t.value, t.start_pos, t.end_pos), c[2], c[3].end_pos)

    def raw(self, c):
        return Raw(c[1], c[0].start_pos)

    def string(self, c):
        t = c[0]
        if len(t.value) > MAX_STRING + 2:
            raise BadToken(f"string too long ({len(t.value) - 2:,} characters; at most "
                           f"{MAX_STRING:,})", t.column, 1)
        try:
            return Str(unquote(t.value), t.start_pos, t.end_pos)
        except ValueError as e:
            raise BadToken(f"bad escape in string: {e}", t.column, len(t.value)) from None

    def keyval(self, c):
        t = _short(c[0])
        return KeyVal(Name(t.value, t.start_pos, t.end_pos), c[2])

    def tuple(self, c):  # noqa: A003
        # LPAR RPAR | LPAR key RPAR (after a comma) | LPAR key keys RPAR
        items = [c[1], *c[2]] if len(c) == 4 else c[1:-1]
        return Tup(items, c[0].start_pos, c[-1].end_pos)

    def list(self, c):  # noqa: A003
        return Lst(c[1] if len(c) == 3 else [], c[0].start_pos, c[-1].end_pos)

    def chain(self, c):
        if type(c[0]) is list:  # chain op unary
            c[0].extend(c[1:])
            return c[0]
        return c

    def binary(self, c):
        return _shallow(_precedence(c[0]), c[0][1])

    def unop(self, c):
        op, a = c
        return _shallow(Un(op.value, a, op.start_pos), op)

    def paren(self, c):
        inner = c[1]
        if type(inner) is Bin or type(inner) is Un:  # keep the parentheses in its text
            inner.pos, inner.end = c[0].start_pos, c[2].end_pos
        return inner

    def number(self, c):
        t = c[0]
        try:
            return Num(parse_int(t.value), t.start_pos, t.end_pos)
        except ValueError:
            raise BadToken(f"'{t.value}' is not a number: digits must follow "
                           f"'{t.value[:2]}'" if t.value[:2].lower() in ("0x", "0b")
                           else f"'{t.value}' is not a number", t.column,
                           len(t.value)) from None

    def name(self, c):
        t = _short(c[0])
        return Name(t.value, t.start_pos, t.end_pos)


def _short(t: Token) -> Token:
    if len(t.value) > MAX_NAME:
        raise BadToken(f"name too long ({len(t.value):,} characters; at most {MAX_NAME:,})",
                       t.column, 1)
    return t


def _shallow(node: Node, at: Token) -> Node:
    if node.depth > MAX_DEPTH:
        raise BadToken(f"expression nested too deeply (more than {MAX_DEPTH} levels): "
                       "name parts of it with .equ", at.column, len(at.value))
    return node


# Binding power of each binary operator (C's order); all associate left.
PRECEDENCE = {"|": 1, "^": 2, "&": 3, "==": 4, "!=": 4, "<": 5, "<=": 5, ">": 5, ">=": 5,
              "<<": 6, ">>": 6, "+": 7, "-": 7, "*": 8, "/": 8, "%": 8}


def _precedence(chain: list) -> Node:
    """Bind a flat [operand, op, operand, op, ...] chain by PRECEDENCE."""
    operands: list[Node] = [chain[0]]
    ops: list[Token] = []

    def reduce() -> None:
        op = ops.pop()
        b = operands.pop()
        operands.append(Bin(op.value, operands.pop(), b, op.start_pos))

    for i in range(1, len(chain), 2):
        op = chain[i]
        while ops and PRECEDENCE[ops[-1].value] >= PRECEDENCE[op.value]:
            reduce()
        ops.append(op)
        operands.append(chain[i + 1])
    while ops:
        reduce()
    return operands[0]


@functools.cache
def _parser() -> Lark:
    """One line at a time (start symbol `one`), nodes built while parsing."""
    return Lark(grammar_text(), parser="lalr", lexer="basic", transformer=_Build(),
                start="one", cache=True, maybe_placeholders=False)


@functools.cache
def tree_parser() -> Lark:
    """The whole-file grammar building a plain parse tree: no work of ours at all,
    the floor that bench/asm_speed.py compares the assembler with."""
    return Lark(grammar_text(), parser="lalr", lexer="basic", cache=True)


# Terminal names in words, for "expected ..." messages.
_WORDS = {
    "NAME": "a name", "LABEL": "a label", "INT": "a number", "STRING": "a string",
    "LBRACE": "'{'", "RBRACE": "'}'", "LPAR": "'('", "RPAR": "')'", "LBRACK": "'['",
    "RBRACK": "']'", "AT": "'@'", "EQUALS": "'='", "COMMA": "','", "SEMICOLON": "';'",
    "PIPE": "'|'", "CARET": "'^'", "AMP": "'&'", "SHIFT": "'<<' or '>>'", "PLUS": "'+'",
    "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "PERCENT": "'%'", "TILDE": "'~'",
    "CMP": "a comparison", "BANG": "'!'",
    "_NL": "the end of the line", "MACRO": "'.macro'", "$END": "the end of the file",
}
_OPERATORS = {"PIPE", "CARET", "AMP", "CMP", "SHIFT", "PLUS", "MINUS", "STAR", "SLASH",
              "PERCENT"}


def _expected_words(expected: set[str]) -> str:
    names = set(expected)
    words = []
    if names & _OPERATORS and len(names & _OPERATORS) > 3:
        names -= _OPERATORS
        words.append("an operator")
    for n in sorted(names, key=lambda n: (n not in ("NAME", "INT"), n)):
        w = _WORDS.get(n, n.lower())
        if w not in words:
            words.append(w)
    if len(words) > 1:
        return ", ".join(words[:-1]) + " or " + words[-1]
    return words[0] if words else "something else"


def _token_words(tok: Token) -> str:
    if tok.type == "_NL":
        return "end of line"
    if tok.type == "$END":
        return "end of file"
    return f"{tok.value!r}"


# Characters other tools may take for a line break (str.splitlines does).
_OTHER_BREAKS = {"\x0b": "a vertical tab", "\x0c": "a form feed", "\x1c": "a file separator",
                 "\x1d": "a group separator", "\x1e": "a record separator",
                 "\x85": "a next-line character", "\u2028": "a line separator",
                 "\u2029": "a paragraph separator"}


def _syntax_error(e: UnexpectedInput) -> tuple[str, int, int]:
    """(message, column, width) of Lark's error."""
    col = e.column if isinstance(e.column, int) and e.column > 0 else 1
    width = 1
    if isinstance(e, UnexpectedCharacters):
        msg = f"unexpected character {e.char!r}"
        if e.char == '"':
            msg = "unterminated string (a string ends with '\"' on the same line)"
        elif e.char in _OTHER_BREAKS:
            msg += (f" ({_OTHER_BREAKS[e.char]}): a line ends only at a newline, "
                    "so this one goes on")
    elif isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type != "_NL":
            width = len(tok.value)
        elif isinstance(tok.column, int):
            col = tok.column
        msg = _token_message(tok, e.expected)
    else:
        msg = "unexpected end of input"
    return msg, col, width


def _token_message(tok: Token, expected: set[str]) -> str:
    operand_start = {"NAME", "INT", "STRING", "LPAR", "LBRACK", "AT"}
    if tok.type in operand_start and "COMMA" in expected:
        return f"missing ',' before {_token_words(tok)}"
    if tok.type == "_NL" and expected <= {"RPAR", "RBRACK", "COMMA"} | _OPERATORS:
        closers = [w for t, w in (("RPAR", "')'"), ("RBRACK", "']'")) if t in expected]
        if closers:
            return f"missing {' or '.join(closers)} before the end of the line"
    if tok.type == "LABEL":
        return f"unexpected label {tok.value!r}: a label starts its line"
    return f"unexpected {_token_words(tok)}; expected {_expected_words(expected)}"


def terminal_pattern(name: str) -> str:
    """The regular expression of one of the grammar's terminals (NAME, INT, ...)."""
    return _parser().get_terminal(name).pattern.to_regexp()


def parse_line(raw: str, filename: str | None = None, lineno: int = 1) -> list[Line]:
    """Parse one line of text; raises a Diagnostic on a syntax error."""
    if len(raw) > MAX_LINE:
        raise Diagnostic(f"line too long ({len(raw):,} characters; at most {MAX_LINE:,})",
                         location=Location(filename, lineno, MAX_LINE + 1))
    try:
        return _parser().parse(raw + "\n")
    except UnexpectedInput as e:
        msg, col, width = _syntax_error(e)
    except BadToken as e:
        msg, col, width = str(e), e.column, e.width
    # Raised outside the handlers, so it holds no chain to Lark's exception and
    # its frames, and never named here, where its own traceback would hold it:
    # either would make a reference cycle of every syntax error.
    raise Diagnostic(msg, location=Location(filename, lineno, col), width=width)
