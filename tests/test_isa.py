"""The ISA table: consistent, complete, and with the machine's exact arithmetic."""

import pytest

from asm import isa
from emu import fast, reference

M = 2**32


def test_the_table_holds_together():
    isa.self_check()  # (importing the table does not run it)


def test_every_mnemonic_names_exactly_one_op():
    names = [m for op in isa.OPS for m in (op.mnemonic, *op.aliases)]
    assert len(names) == len(set(names))
    assert all(isa.BY_MNEMONIC[m].mnemonic == m or m in isa.BY_MNEMONIC[m].aliases for m in names)


def test_machine_names_are_unique_per_engine():
    assert len(isa.BY_MACHINE) == len(isa.OPS)


def test_every_op_runs_on_all_three_engines_from_its_meaning():
    """The reference engine reads each op's meaning; the fast and batched
    engines run the code generated from it (and nothing hand-written)."""
    from emu import batch, codegen, generated_batch, generated_fast
    assert all(callable(reference.HANDLERS[op.engine, op.name]) for op in isa.OPS)
    assert fast.missing_handlers() == []
    assert set(generated_fast.FORMS) == set(generated_batch.BUILDERS) == set(isa.BY_MACHINE)
    for op in isa.OPS:  # what runs is what the meaning generates today
        assert codegen.fast_source(op) in codegen.fast_module()
        assert codegen.batch_source(op) in codegen.batch_module()
        assert fast._FORMS[op.engine, op.name] == generated_fast.FORMS[op.engine, op.name]
    assert batch.BUILDERS is generated_batch.BUILDERS


def test_compiled_core_has_every_op_from_its_meaning():
    """The compiled core's op table lists every op of the ISA table, and each op
    that does something with debug slots off has its generated case; a core
    built from another table is not used."""
    from emu import codegen_c, compiled, native
    header = codegen_c.core_header()
    for number, op in enumerate(isa.OPS):
        assert f'"{op.name}", {op.arity},' in header
        assert (f"case {number}: {{ /* {op.engine} {op.name} */" in header) == \
            codegen_c.runs_natively(op)
    if compiled.BUILT_FROM is not None:  # built: from today's table (else rebuild it)
        assert codegen_c.table_id() == compiled.BUILT_FROM
        assert native.AVAILABLE
        assert compiled.core.SCRATCH_SIZE == isa.SCRATCH_SIZE


def test_meanings_translate_to_c_as_python_reads_them():
    from emu.codegen_c import to_c
    assert to_c("(a + b) & 0xFFFFFFFF", {"a": "x", "b": "y"}) == (
        [], "((x + y) & UINT64_C(4294967295))")
    checks, code = to_c("a // b", {"a": "x", "b": "y"})
    assert checks == ["const uint64_t t1 = y; if (t1 == 0) return FAULT;"]
    assert code == "(x / t1)"
    with pytest.raises(NotImplementedError):  # a check that Python might not reach
        to_c("mem[a] if b else 0", {"a": "x", "b": "y"})
    with pytest.raises(NotImplementedError):
        to_c("a ** b", {"a": "x", "b": "y"})




def test_the_op_table_in_the_docs_lists_every_op():
    from pathlib import Path
    doc = (Path(__file__).parent.parent / "docs" / "isa.md").read_text()
    for op in isa.OPS:
        assert f"| `{op.mnemonic}` |" in doc


def test_mnemonics_follow_the_language_spec():
    assert isa.BY_MNEMONIC["vmuladd"] is isa.BY_MNEMONIC["multiply_add"]
    assert isa.BY_MNEMONIC["shl"].name == "<<" and isa.BY_MNEMONIC["shl"].engine == "alu"
    assert isa.BY_MNEMONIC["vxor"].name == "^" and isa.BY_MNEMONIC["vxor"].engine == "valu"
    assert isa.lookup("load", "load_offset").arity == 3


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        ("-", 3, 5, M - 2),
        ("+", M - 1, 2, 1),
        ("*", 0x10000, 0x10000, 0),
        ("<<", 1, 31, 2**31),
        ("<<", 1, 32, 0),
        ("<<", 3, M - 1, 0),  # no giant integer is built
        (">>", M - 1, 40, 0),
        ("cdiv", 7, 2, 4),
        ("cdiv", 8, 2, 4),
        ("//", 7, 2, 3),
        ("%", 7, 3, 1),
        ("<", 2, 3, 1),
        ("<", 3, 3, 0),
        ("==", 5, 5, 1),
        ("^", 0b1100, 0b1010, 0b0110),
    ],
)
def test_binary_ops_compute_the_machine_result(op, a, b, expected):
    meaning = isa.lookup("alu", op).meaning
    assert eval(meaning.value, {"a": a, "b": b}) == expected  # noqa: S307 (the table's own)


@pytest.mark.parametrize("op", ["//", "%", "cdiv"])
def test_division_by_zero_is_marked_and_raises(op):
    meaning = isa.lookup("alu", op).meaning
    assert meaning.divides
    with pytest.raises(ZeroDivisionError):
        eval(meaning.value, {"a": 5, "b": 0})  # noqa: S307


def test_what_the_table_derives_from_meanings():
    """Which ops divide, read their pc, are binary, or write an immediate:
    read off the expressions, named nowhere else."""
    divides = {op.name for op in isa.OPS if op.meaning.divides}
    assert divides == {"//", "cdiv", "%"}
    assert {op.name for op in isa.OPS if op.meaning.uses_pc} == {"cond_jump_rel"}
    assert {op.name for op in isa.OPS if op.immediate_index is not None} == {"const"}
    assert isa.lookup("load", "const").immediate_index == 2
    binary = {(op.engine, op.name) for op in isa.OPS if op.is_binary}
    assert binary == {(e, name) for name, *_ in isa._ARITH for e in ("alu", "valu")}


def test_read_write_sets_cover_vectors_and_offsets():
    vadd = isa.lookup("valu", "+")
    reads, writes = vadd.scratch_words(("+", 0, 8, 16))
    assert writes == tuple(range(0, 8)) and reads == tuple(range(8, 24))
    assert vadd.scratch_words(["+", 0, 8, 16]) == (reads, writes)  # a JSON list, not kept
    assert vadd.scratch_words(("+", 0, 8, 16)) is vadd.scratch_words(("+", 0, 8, 16))
    lo = isa.lookup("load", "load_offset")
    assert lo.scratch_words(("load_offset", 100, 200, 3)) == ((203,), (103,))
    store = isa.lookup("store", "vstore")
    assert store.scratch_words(("vstore", 5, 40)) == ((5, *range(40, 48)), ())
    assert store.memory == "write" and store.mem_width == isa.VLEN


def test_control_ops_are_flow_ops():
    controls = {op.name for op in isa.OPS if op.control is not None}
    assert controls == {"jump", "cond_jump", "cond_jump_rel", "jump_indirect", "halt", "pause"}
