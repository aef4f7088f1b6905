"""Pygments lexer for `.vasm` (`pygmentize -l vasm`, or `VasmLexer` from Python).

Token types, so a theme can tell the kinds of work apart:

| text | token |
|---|---|
| mnemonics | `Keyword.Alu`, `Keyword.Valu`, `Keyword.Load`, `Keyword.Store`, `Keyword.Flow` (select, add_imm, ...), `Keyword.Control` (jumps, halt, pause), `Keyword.Debug` |
| macro calls and `.macro NAME` | `Name.Function` |
| declarations (`.scratch`, `.const`, `.global`, ...) | `Keyword.Declaration` |
| `.include`, `.macro`, `.rept`, `.for`, `.if`, ... | `Comment.Preproc` |
| `.pin`, `.endpin`, `.empty` | `Keyword.Pseudo` |
| label definitions / jump targets | `Name.Label` / `Name.Label.Reference` |
| scratch symbols / `@N` raw addresses | `Name.Variable` / `Name.Variable.Address` |
| `.equ` names, `NAME = ...`, names in immediates | `Name.Constant` |
| `key=value` macro arguments | `Name.Attribute` |
| numbers | `Number.Integer`, `Number.Hex`, `Number.Bin` |
| strings, comments | `String.Double`, `Comment.Single` |
| `{NAME}` and `{@}` substitutions | `String.Interpol` |
| bundle braces / `;` between ops | `Punctuation.Bundle` / `Punctuation.Separator` |

Mnemonics come from the ISA table and directives from asm/keywords.py, so
the lexer never falls behind the assembler. A regular-expression pass finds
the tokens; a second pass uses each op's operand kinds (ISA table) to mark
names in jump-target operands as labels and names in immediates as constants.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pygments.lexer import RegexLexer
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
    _TokenType,
)

from .. import isa
from ..keywords import DECLARATIONS, LAYOUT, PREPROCESSOR, mnemonic_groups

__all__ = ["VasmLexer"]

_SUBST = r"\{(?:@|[A-Za-z_.$][\w.$]*)\}"
_NAME = rf"(?:[A-Za-z_.$]|{_SUBST})(?:[\w.$]|{_SUBST})*"
_SUBST_RE = re.compile(_SUBST)
_NUMBER = r"0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_]*"

_GROUP_TOKENS = {g: getattr(Keyword, g.capitalize()) for g in
                 ("alu", "valu", "load", "store", "flow", "control", "debug")}
MNEMONICS: dict[str, _TokenType] = {m: _GROUP_TOKENS[g]
                                    for g, ms in mnemonic_groups().items() for m in ms}
DIRECTIVE_TOKENS: dict[str, _TokenType] = {
    **{d: Keyword.Declaration for d in DECLARATIONS},
    **{d: Comment.Preproc for d in PREPROCESSOR},
    **{d: Keyword.Pseudo for d in LAYOUT},
}


def _split_name(text: str, start: int, token: _TokenType) -> Iterator[tuple[int, _TokenType, str]]:
    """A name, with any `{...}` substitutions inside it as String.Interpol."""
    last = 0
    for m in _SUBST_RE.finditer(text):
        if m.start() > last:
            yield start + last, token, text[last:m.start()]
        yield start + m.start(), String.Interpol, m.group()
        last = m.end()
    if last < len(text):
        yield start + last, token, text[last:]


def _name(token: _TokenType):
    def callback(lexer, match):
        yield from _split_name(match.group(), match.start(), token)
    return callback


def _statement_name(lexer, match):
    """The first word of a statement: a mnemonic, or a macro call."""
    text = match.group()
    yield from _split_name(text, match.start(), MNEMONICS.get(text, Name.Function))


def _label(lexer, match):
    yield from _split_name(match.group(1), match.start(1), Name.Label)
    if match.group(2):
        yield match.start(2), Whitespace, match.group(2)
    yield match.start(3), Punctuation, ":"


def _directive(lexer, match):
    yield match.start(), DIRECTIVE_TOKENS.get(match.group(), Keyword.Pseudo), match.group()


# What the names in a directive's operands are: (first operand, the rest).
_C, _V = Name.Constant, Name.Variable
_OPERAND_NAMES = {
    ".equ": (_C, _C), ".if": (_C, _C), ".elif": (_C, _C), ".ifdef": (_C, _C),
    ".ifndef": (_C, _C), ".rept": (_C, _C), ".for": (_V, _C), ".macro": (Name.Function, _V),
    ".scratch": (_V, _C), ".vector": (_V, _C), ".temp": (_V, _C), ".const": (_V, _C),
}


class VasmLexer(RegexLexer):
    """`.vasm` assembly for the take-home's VLIW SIMD machine."""

    name = "vasm"
    aliases = ["vasm"]
    filenames = ["*.vasm"]
    mimetypes = ["text/x-vasm"]
    url = "https://github.com/anthropics/original_performance_takehome"

    tokens = {
        "root": [  # the start of a statement
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (rf"({_NAME})([ \t]*)(:)", _label),
            (r"\.[A-Za-z_][\w.$]*", _directive, "operands"),
            (rf"{_NAME}(?=[ \t]*=(?!=))", _name(Name.Constant), "operands"),
            (_NAME, _statement_name, "operands"),
            (r"[{}]", Punctuation.Bundle),
            (r";", Punctuation.Separator),
            (r"[^\s#{};]+", Name.Function, "operands"),  # not a statement; keep lexing
        ],
        "operands": [
            (r"\n", Whitespace, "#pop"),
            (r"[ \t\f\r]+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r";", Punctuation.Separator, "#pop"),
            (r'"(?:[^"\\\n]|\\.)*"?', String.Double),
            (rf"@(?:{_NUMBER})", Name.Variable.Address),
            (r"@", Name.Variable.Address),
            (r"0[xX][0-9a-fA-F_]+", Number.Hex),
            (r"0[bB][01_]+", Number.Bin),
            (r"[0-9][0-9_]*", Number.Integer),
            (rf"{_NAME}(?=[ \t]*=(?!=))", _name(Name.Attribute)),
            (_NAME, _name(Name.Variable)),
            (r"\}", Punctuation.Bundle, "#pop"),
            (r"\{", Punctuation.Bundle),
            (r"<<|>>|==|!=|<=|>=|[-+*/%&|^~!<>=]", Operator),
            (r"[\[\](),:]", Punctuation),
            (r"[^\s]", Name.Variable),  # anything else the assembler would reject
        ],
    }

    def get_tokens_unprocessed(self, text, stack=("root",)):
        """Names take their meaning from the operand they stand in."""
        kinds: tuple = ()  # operand kinds of the current op (ISA table)
        roles: tuple | None = None  # (first name, other names) for directives
        index = depth = 0
        for pos, token, value in super().get_tokens_unprocessed(text, stack):
            if token in _MNEMONIC_TOKENS:
                op = isa.BY_MNEMONIC.get(value)
                kinds = tuple(o.kind for o in op.operands) if op else ()
                roles, index, depth = None, 0, 0
            elif token in _DIRECTIVE_TOKENS and not kinds and roles is None:
                roles = _OPERAND_NAMES.get(value)
            elif token is Name.Constant and not kinds and roles is None:
                roles = (Name.Constant, Name.Constant)  # NAME = expression
            elif token is Punctuation and depth == 0 and value == ",":
                index += 1
            elif token is Punctuation and value in "([":
                depth += 1
            elif token is Punctuation and value in ")]":
                depth = max(0, depth - 1)
            elif token is Name.Variable or token is Name.Attribute:
                if index < len(kinds):
                    kind = kinds[index]
                    if kind in (isa.Kind.TARGET, isa.Kind.OFFSET):
                        token = Name.Label.Reference
                    elif kind is isa.Kind.IMM:
                        token = Name.Constant
                elif roles is not None:
                    token, roles = roles[0], (roles[1], roles[1])  # the first name once
            if (token in (Punctuation.Separator, Punctuation.Bundle)
                    or (token is Whitespace and "\n" in value)):
                kinds, roles, index, depth = (), None, 0, 0
            yield pos, token, value


_MNEMONIC_TOKENS = frozenset(_GROUP_TOKENS.values())
_DIRECTIVE_TOKENS = frozenset({Keyword.Declaration, Comment.Preproc, Keyword.Pseudo})
