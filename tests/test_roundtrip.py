"""Disassembly and assembly are inverses: `assemble(disassemble(k)).program ==
k.program`, bundle for bundle and slot for slot, engine order included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from budget import examples
from conftest import CORPUS, load_corpus
from hypothesis import given, settings
from strategies import any_programs

from asm.cfg import ControlFlow
from asm.errors import AssemblyError
from asm.kernel import Kernel, dumps_kernel, kernel_from_json
from asm.stages.assembler import assemble
from asm.views.disasm import disassemble
from asm.views.fmt import format_source


def _exact(a: list[dict], b: list[dict]) -> bool:
    """Equal including each bundle's engine order (dict equality ignores it)."""
    return a == b and all(list(x) == list(y) for x, y in zip(a, b, strict=True))


def test_corpus_kernels_round_trip_bit_for_bit(corpus_entry):
    k = kernel_from_json(corpus_entry)
    text = disassemble(k)
    back = assemble(text, filename="corpus.vasm")
    assert _exact(back.program, k.program)
    # The image written from the round trip is the same program, byte for byte.
    strip = Kernel(back.program, scratch=k.scratch)
    assert dumps_kernel(strip) == dumps_kernel(Kernel(k.program, scratch=k.scratch))


# Each kernel's small variant where it has one (the forms of its full one, in
# a tenth of the text), else the full one.
SMALL_CORPUS = [p for p in CORPUS if p.name.endswith(".small.json.gz") or
                not p.with_name(p.name.replace(".json.gz", ".small.json.gz")).exists()]


@pytest.mark.parametrize("path", SMALL_CORPUS, ids=[p.name.split("+")[0] for p in SMALL_CORPUS])
def test_corpus_disassembly_is_already_formatted(path):
    # (pramodith's full disassembly is 3.7 MB, and took 10 s to format)
    text = disassemble(kernel_from_json(load_corpus(path)))
    assert format_source(text) == text


@settings(deadline=None)
@given(any_programs())
def test_random_kernels_round_trip(program):
    k = Kernel(program)
    if ControlFlow(program).outside():
        # A jump outside the program is an error in source (a run fault when
        # taken): such an image disassembles, and the assembler says where.
        with pytest.raises(AssemblyError, match="outside the program"):
            assemble(disassemble(k))
        return
    assert _exact(assemble(disassemble(k)).program, k.program)


@settings(deadline=None, max_examples=examples(50))
@given(any_programs())
def test_random_disassembly_is_formatted(program):
    text = disassemble(Kernel(program))
    assert format_source(text) == text


def test_messy_scratch_maps_become_valid_unique_symbols():
    program = [{"alu": [("+", 0, 1, 2)]}, {"valu": [("+", 8, 8, 16)]},
               {"flow": [("jump", 0)]}, {"load": [("const", 3, 7)]}]
    scratch = {0: ("my var", 1), 1: ("my var", 1), 2: ("VLEN", 1), 3: ("9lives", 1),
               8: ("v", 4), 9: ("inner", 2), 16: ("{x}", 8), 30: ("zero", 0)}
    k = Kernel(program, scratch=scratch, labels={"start here": 0})
    text = disassemble(k)
    back = assemble(text)
    assert _exact(back.program, k.program)
    assert "@8" in text  # the vector at 8 does not fit 'v' (4 words): raw address
    assert "my_var_2" in text and "_VLEN" in text and "_9lives" in text
    assert "# scratch map entry \"inner\" @ 9 (2 words) is not declared: it overlaps 'v'" in text
    assert back.labels == {"start_here": 0}


def test_disassembly_golden():
    here = Path(__file__).parent / "data"
    k = kernel_from_json(json.loads((here / "all_ops.json").read_text()))
    expected = (here / "all_ops.vasm").read_text()
    assert disassemble(k) == expected
    assert _exact(assemble(expected).program, k.program)


def test_every_op_of_the_isa_table_assembles_and_disassembles():
    from asm import isa
    text = (Path(__file__).parent / "data" / "all_ops.vasm").read_text()
    mnemonics = {line.split()[0] for line in text.splitlines() if line.strip()}
    assert {op.mnemonic for op in isa.OPS} <= mnemonics
