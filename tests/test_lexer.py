"""The Pygments lexer: golden token files in Pygments' own snippet style
(tests/lexer/*.txt: `---input---`, then `---tokens---` with one token per
line), every `.vasm` in the repository lexed without an Error token, and
tokens that concatenate back to the input.

Regenerate the token sections after a deliberate change (then review):
    UPDATE_GOLDEN=1 python -m pytest tests/test_lexer.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Keyword, Name, String

from asm import isa
from asm.editor.lexer import VasmLexer
from asm.keywords import DIRECTIVES

ROOT = Path(__file__).parent.parent
HERE = Path(__file__).parent / "lexer"
CASES = sorted(HERE.glob("*.txt"))


def tokens_text(text: str) -> str:
    lines = []
    for token, value in VasmLexer().get_tokens(text):
        lines.append(f"{value!r:<16} {str(token).removeprefix('Token.')}")
    return "\n".join(lines) + "\n"


def split(path: Path) -> tuple[str, str | None]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---input---\n")
    body = text[len("---input---\n"):]
    if "\n---tokens---\n" not in body:
        return body, None
    given, expected = body.split("\n---tokens---\n", 1)
    return given, expected


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_tokens_match_golden(case: Path):
    given, expected = split(case)
    got = tokens_text(given)
    if os.environ.get("UPDATE_GOLDEN") or expected is None:
        case.write_text(f"---input---\n{given}\n---tokens---\n{got}", encoding="utf-8")
        expected = got
    assert got == expected


def test_golden_files_cover_every_token_kind():
    seen = set()
    for case in CASES:
        given, _ = split(case)
        seen.update(t for t, _ in VasmLexer().get_tokens(given))
    for kind in (Keyword.Alu, Keyword.Valu, Keyword.Load, Keyword.Store, Keyword.Flow,
                 Keyword.Control, Keyword.Debug, Keyword.Declaration, Keyword.Pseudo,
                 Name.Label, Name.Label.Reference, Name.Variable, Name.Variable.Address, Name.Constant,
                 Name.Function, Name.Attribute, String.Interpol, String.Double):
        assert kind in seen, kind


def _repository_sources() -> list[Path]:
    skip = {".git", ".hypothesis", "build", "node_modules"}
    return sorted(p for p in ROOT.rglob("*.vasm") if not skip & set(p.parts)
                  and not _bad_characters_on_purpose(p))


def _bad_characters_on_purpose(path: Path) -> bool:
    """A diagnostics case about a character the language does not have."""
    expected = path.with_suffix(".expected")
    return expected.exists() and "unexpected character" in expected.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", _repository_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_sources_lex_cleanly(path: Path):
    text = path.read_text(encoding="utf-8")
    tokens = list(VasmLexer().get_tokens_unprocessed(text))
    assert "".join(v for _, _, v in tokens) == text
    errors = [(text.count("\n", 0, pos) + 1, v) for pos, t, v in tokens if t in Error]
    assert not errors


def test_every_mnemonic_and_directive_gets_its_own_token():
    for op in isa.OPS:
        for m in (op.mnemonic, *op.aliases):
            token = next(VasmLexer().get_tokens(f"{m} x\n"))[0]
            assert token in Keyword and token is not Keyword, m
            expected = "Control" if op.control else op.engine.capitalize()
            assert str(token).endswith(expected), (m, token)
    for d in DIRECTIVES:
        token = next(VasmLexer().get_tokens(f"{d} x\n"))[0]
        assert token is not Error and token is not Name.Function, d


def test_pygments_finds_the_lexer_by_name_and_file_name():
    assert isinstance(get_lexer_by_name("vasm"), VasmLexer)
    assert isinstance(get_lexer_for_filename("k.vasm"), VasmLexer)
