"""Parse stage: `.vasm` text -> `Line`s (labels, braces, statements).

The grammar (grammar/vasm.lark) is the only parser of the language. Each
distinct line is parsed once, by Lark's LALR parser with the basic lexer and an
inline transformer (nodes are built during the parse; no tree). Kernels repeat
lines a lot, and a bad line does not stop the others from being checked.
Node offsets count from the start of their line.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from importlib import resources

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..errors import Diagnostic, Location, ToolchainError

# ---------------------------------------------------------------- nodes


class Node:
    __slots__ = ("pos", "end")


class Num(Node):
    __slots__ = ("value",)

    def __init__(self, value: int, pos: int, end: int) -> None:
        self.value, self.pos, self.end = value, pos, end


class Name(Node):
    __slots__ = ("id",)

    def __init__(self, id: str, pos: int, end: int) -> None:  # noqa: A002
        self.id, self.pos, self.end = id, pos, end


class Bin(Node):
    __slots__ = ("op", "a", "b", "op_pos", "depth")

    def __init__(self, op: str, a: Node, b: Node, op_pos: int) -> None:
        self.op, self.a, self.b, self.op_pos = op, a, b, op_pos
        self.pos, self.end = a.pos, b.end
        self.depth = 1 + max(depth(a), depth(b))


class Un(Node):
    __slots__ = ("op", "a", "depth")

    def __init__(self, op: str, a: Node, pos: int) -> None:
        self.op, self.a, self.pos, self.end = op, a, pos, a.end
        self.depth = 1 + depth(a)


def depth(node: Node) -> int:
    """How deeply an expression nests: what every walker of it recurses through."""
    t = type(node)
    if t is Bin or t is Un:
        return node.depth
    if t is Raw:
        return 1 + depth(node.addr)
    if t is Indexed:
        return 1 + depth(node.index)
    if t is Tup or t is Lst:
        return 1 + max(map(depth, node.items), default=0)
    if t is KeyVal:
        return 1 + depth(node.value)
    return 1


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


class Indexed(Node):
    __slots__ = ("name", "index")

    def __init__(self, name: Name, index: Node, end: int) -> None:
        self.name, self.index, self.pos, self.end = name, index, name.pos, end


class Raw(Node):
    """`@ADDR`: a raw scratch address."""

    __slots__ = ("addr",)

    def __init__(self, addr: Node, pos: int) -> None:
        self.addr, self.pos, self.end = addr, pos, addr.end


class Str(Node):
    __slots__ = ("value",)

    def __init__(self, value: str, pos: int, end: int) -> None:
        self.value, self.pos, self.end = value, pos, end


class Tup(Node):
    __slots__ = ("items",)

    def __init__(self, items: list[Node], pos: int, end: int) -> None:
        self.items, self.pos, self.end = items, pos, end


class Lst(Tup):
    __slots__ = ()


class Key(Node):
    """A debug key tuple whose items expansion has folded to numbers and
    strings: its value, ready for the slot (never produced by the parser)."""

    __slots__ = ("value",)

    def __init__(self, value: tuple, pos: int, end: int) -> None:
        self.value, self.pos, self.end = value, pos, end


class KeyVal(Node):
    """`NAME = EXPR` as an argument (`.for i = 0, 8`)."""

    __slots__ = ("name", "value")

    def __init__(self, name: Name, value: Node) -> None:
        self.name, self.value, self.pos, self.end = name, value, name.pos, value.end


@dataclass(slots=True)
class Stmt:
    """`NAME arg, ... [@ PIN]`: an op, a directive or a macro call."""

    name: str
    pos: int
    args: list[Node]
    pin: Node | None = None

    @property
    def end(self) -> int:
        last = self.pin or (self.args[-1] if self.args else None)
        return last.end if last is not None else self.pos + len(self.name)


@dataclass(slots=True)
class Assign:
    """`NAME = EXPR`."""

    name: str
    pos: int
    value: Node

    @property
    def end(self) -> int:
        return self.value.end


@dataclass(slots=True)
class Line:
    """One parsed source line. Node offsets count from the line's first
    character, so equal lines share one parse wherever they stand."""

    label: Name | None
    open: int | None  # offset of an opening '{'
    stmts: list[Stmt | Assign]
    close: int | None  # offset of a closing '}'


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


def parse(text: str, filename: str | None = None,
          errors: list[ToolchainError] | None = None) -> list[tuple[int, Line]]:
    """Parse a file into (line number, Line) pairs, skipping blank lines.

    Each distinct line text is parsed once (kernels repeat lines a lot), and
    lines that differ only in their numbers share one parse too (see
    `Shapes`). Syntax errors go to `errors`, every bad line once; without
    `errors` the first is raised.
    """
    seen: dict[str, list[Line]] = {}
    shapes = Shapes()
    out: list[tuple[int, Line]] = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        got = seen.get(raw)
        if got is None:
            stripped = raw.lstrip(" \t\f\r")  # the grammar's WS (str.lstrip takes more)
            if not stripped or stripped[0] == "#":
                continue
            try:
                if len(raw) > MAX_LINE:
                    parse_line(raw, filename, lineno)  # says so
                got = shapes.parse(raw)
                if got is None:
                    got = parse_line(raw, filename, lineno)
            except Diagnostic as err:
                if errors is None:
                    raise
                # Kept without its traceback, whose frames would hold this list
                # (and everything it leads to) in a reference cycle.
                errors.append(err.with_traceback(None))
                got = []
            seen[raw] = got
        for line in got:
            out.append((lineno, line))
    return out


@functools.cache
def _number_tokens() -> re.Pattern:
    """A number token where the lexer sees one (group 1), or a name with
    digits in it (group 2): neither part of a name (a name character or
    substitution brace before, or after a number), a string or a comment
    (those are matched first and left alone). The token patterns are the
    grammar's own terminals."""
    def terminal(name: str) -> str:
        return _parser().get_terminal(name).pattern.to_regexp()
    return re.compile(f"{terminal('STRING')}|{terminal('COMMENT')}"
                      f"|(?<![A-Za-z0-9_.$}}])({terminal('INT')})(?![A-Za-z0-9_.${{])"
                      f"|(?<![A-Za-z0-9_.$}}])({terminal('NAME')})")


_ZEROS = str.maketrans("123456789", "000000000")


class Shapes:
    """Lines that differ only in their numbers, the digits of their names and
    their comments (`vcompare v, [(0, 8, "idx"), ...]`, `const @391,
    3550635116`, `vxor tmp5, val[8 * (16 + 5)], c1  # group 5`) parse alike:
    each number is replaced by zeros of the same width, each digit of a name
    by a zero, and the comment dropped; that shape is parsed once by the
    grammar, and each line gets the shape's nodes with its own numbers and
    names put back (offsets are unchanged, since widths are). A line whose
    numbers do not all read as numbers, or whose shape does not parse, is left
    to the parser itself, so its error is the grammar's own."""

    def __init__(self) -> None:
        self.parsed: dict[str, list[Line] | None] = {}

    def parse(self, raw: str) -> list[Line] | None:
        values: dict[int, int | str] = {}  # offset -> a number's value or a name
        parts: list[str] = []
        last = 0
        comment = False
        for m in _number_tokens().finditer(raw):
            number, name = m.group(1), m.group(2)
            if m.group(0)[0] == "#":  # a comment: nothing of it reaches a node
                parts.append(raw[last:m.start()])
                last = m.end()
                comment = True
            elif number is not None:
                try:
                    values[m.start(1)] = parse_int(number)
                except ValueError:
                    return None
                parts.append(raw[last:m.start(1)])
                parts.append("0" * len(number))
                last = m.end(1)
            elif name is not None:
                shaped = name.translate(_ZEROS)
                if shaped != name:
                    values[m.start(2)] = name
                    parts.append(raw[last:m.start(2)])
                    parts.append(shaped)
                    last = m.end(2)
        if len(values) < 2 and not comment:  # little to share: the plain parse is as quick
            return None
        parts.append(raw[last:])
        shape = "".join(parts)
        lines = self.parsed.get(shape, self)
        if lines is self:
            try:
                lines = self.parsed[shape] = parse_line(shape)
            except Diagnostic:
                lines = self.parsed[shape] = None
        if lines is None:
            return None
        return [_renumbered(line, values) for line in lines]


def _slots_of(cls: type) -> tuple[str, ...]:
    return tuple(name for c in reversed(cls.__mro__) for name in getattr(c, "__slots__", ()))


def _renumbered(x, values: dict[int, int | str]):
    """`x` with the number or name at each offset in `values` set to it;
    parts without one are shared, not copied. (One function per node
    type: this runs for every line a shape is shared with.)"""
    return _RENUMBER[type(x)](x, values)


def _same(x, values):
    return x


def _renumbered_num(x: Num, values):
    v = values.get(x.pos)
    return x if v is None or v == x.value else Num(v, x.pos, x.end)


def _renumbered_name(x: Name, values):
    v = values.get(x.pos)
    return x if v is None else Name(v, x.pos, x.end)


def _renumbered_list(x: list, values):
    new = [_RENUMBER[type(y)](y, values) for y in x]
    for a, b in zip(new, x, strict=True):
        if a is not b:
            return new
    return x


def _renumbered_bin(x: Bin, values):
    a, b = _RENUMBER[type(x.a)](x.a, values), _RENUMBER[type(x.b)](x.b, values)
    if a is x.a and b is x.b:
        return x
    y = object.__new__(Bin)
    y.op, y.a, y.b, y.op_pos, y.depth, y.pos, y.end = x.op, a, b, x.op_pos, x.depth, x.pos, x.end
    return y


def _renumbered_un(x: Un, values):
    a = _RENUMBER[type(x.a)](x.a, values)
    if a is x.a:
        return x
    y = object.__new__(Un)
    y.op, y.a, y.depth, y.pos, y.end = x.op, a, x.depth, x.pos, x.end
    return y


def _renumbered_indexed(x: Indexed, values):
    name = _renumbered_name(x.name, values)
    index = _RENUMBER[type(x.index)](x.index, values)
    return x if index is x.index and name is x.name else Indexed(name, index, x.end)


def _renumbered_raw(x: Raw, values):
    addr = _RENUMBER[type(x.addr)](x.addr, values)
    if addr is x.addr:
        return x
    y = Raw(addr, x.pos)
    y.end = x.end
    return y


def _renumbered_tup(x: Tup, values):
    items = _renumbered_list(x.items, values)
    return x if items is x.items else type(x)(items, x.pos, x.end)


def _renumbered_keyval(x: KeyVal, values):
    name = _renumbered_name(x.name, values)
    value = _RENUMBER[type(x.value)](x.value, values)
    if value is x.value and name is x.name:
        return x
    y = KeyVal(name, value)
    y.end = x.end
    return y


def _renumbered_stmt(x: Stmt, values):
    name = values.get(x.pos, x.name)
    args = _renumbered_list(x.args, values)
    pin = x.pin if x.pin is None else _RENUMBER[type(x.pin)](x.pin, values)
    return x if args is x.args and pin is x.pin and name is x.name else \
        Stmt(name, x.pos, args, pin)


def _renumbered_assign(x: Assign, values):
    name = values.get(x.pos, x.name)
    value = _RENUMBER[type(x.value)](x.value, values)
    return x if value is x.value and name is x.name else Assign(name, x.pos, value)


def _renumbered_line(x: Line, values):
    label = x.label if x.label is None else _renumbered_name(x.label, values)
    stmts = _renumbered_list(x.stmts, values)
    return x if stmts is x.stmts and label is x.label else Line(label, x.open, stmts, x.close)


_RENUMBER = {Num: _renumbered_num, Name: _renumbered_name, Str: _same, list: _renumbered_list,
             Bin: _renumbered_bin, Un: _renumbered_un, Indexed: _renumbered_indexed,
             Raw: _renumbered_raw, Tup: _renumbered_tup, Lst: _renumbered_tup,
             KeyVal: _renumbered_keyval, Stmt: _renumbered_stmt, Assign: _renumbered_assign,
             Line: _renumbered_line}


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
