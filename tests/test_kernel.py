"""Kernel images: reading every accepted shape, writing diffable JSON, clear errors."""

import json
import re

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import any_programs, overfull_bundles

from asm import (
    Hints,
    Kernel,
    KernelError,
    dumps_kernel,
    load_kernel,
    loads_kernel,
    save_kernel,
)
from asm.views.lint import lint

PROGRAM = [
    {"load": [("const", 0, 5)]},
    {"valu": [("^", 8, 8, 16)], "load": [("load", 1, 2)]},
    {"debug": [("vcompare", 8, tuple((0, i, "val") for i in range(8)))]},
]


def test_image_round_trips_and_keeps_engine_order(tmp_path):
    k = Kernel(PROGRAM, scratch={0: ("tmp", 1), 8: ("vals", 16)}, labels={"top": 0},
               source=["k.vasm:1", "k.vasm:2", None])
    path = tmp_path / "k.vk.json"
    save_kernel(k, path)
    back = load_kernel(path)
    assert back.program == k.program and back.scratch == k.scratch
    assert back.labels == k.labels and back.source == k.source
    assert list(back.program[1]) == ["valu", "load"]


def test_image_has_one_bundle_per_line():
    text = dumps_kernel(Kernel(PROGRAM))
    lines = text.splitlines()
    assert '    {"load": [["const", 0, 5]]},' in lines
    assert '    {"valu": [["^", 8, 8, 16]], "load": [["load", 1, 2]]},' in lines
    assert json.loads(text)["format"] == "vliw-kernel"


def test_take_home_shapes_are_accepted():
    bare = json.dumps([{"alu": [["+", 0, 1, 2]]}])
    assert loads_kernel(bare).program == [{"alu": [("+", 0, 1, 2)]}]
    obj = json.dumps({"instrs": [{"alu": [["+", 0, 1, 2]]}], "scratch_map": {"3": ["x", 1]}})
    assert loads_kernel(obj).scratch == {3: ("x", 1)}


@pytest.mark.parametrize(
    ("program", "message"),
    [
        ([{"alu": [["+", 0, 1]]}], "bundle 0, engine alu, slot 0: '+' takes 3 operands"),
        ([{}, {"alu": [["vbroadcast", 0, 1]]}],
         "bundle 1, engine alu, slot 0: unknown alu op 'vbroadcast' (it is a valu op)"),
        ([{"gpu": []}], "bundle 0: unknown engine \"gpu\""),
        ([{"alu": [["+", 1536, 0, 0]]}], "operand d reaches scratch 1536"),
        ([{"valu": [["+", 1530, 0, 0]]}], "operand d reaches scratch 1530..1537"),
        ([{"load": [["load_offset", 0, 0, -1]]}], "operand d reaches scratch -1"),
        ([{"load": [["const", 0, True]]}], "operand imm must be an integer, not true"),
        ([{"flow": [["jump", -1]]}], "jump target -1 is negative"),
        ([{"store": [["store", 0, 0]] * 3}], "bundle 0, engine store: 3 slots, over the limit"),
        ([{"debug": [["vcompare", 0, [[0, 0]]]]}], "must be 8 debug keys"),
        ([["alu"]], "bundle 0: a bundle is an object"),
    ],
)
def test_malformed_programs_are_named_precisely(program, message):
    with pytest.raises(KernelError) as info:
        loads_kernel(json.dumps(program), filename="k.json")
    assert message in str(info.value)
    assert str(info.value).startswith("k.json: ")


def test_debug_slots_may_exceed_their_limit_like_the_reference():
    Kernel([{"debug": [("comment", "x")] * 70}])


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"format": "other", "version": 1, "program": []}, "is not 'vliw-kernel'"),
        ({"format": "vliw-kernel", "version": 2, "program": []}, "newer than this toolchain"),
        ({"format": "vliw-kernel", "version": 1, "machine": {"vlen": 16}, "program": []},
         "different machine"),
        ({"format": "vliw-kernel", "version": 1}, "has no 'program'"),
    ],
)
def test_other_formats_and_versions_are_rejected(doc, message):
    with pytest.raises(KernelError, match=message):
        loads_kernel(json.dumps(doc))


def test_invalid_json_reports_line_and_column():
    with pytest.raises(KernelError) as info:
        loads_kernel('[\n  {"alu": }', filename="k.json")
    assert str(info.value).startswith("k.json:2:")


def test_equal_bundles_are_shared_and_counted():
    k = Kernel([{"alu": [("+", 0, 1, 2)]}, {"alu": [["+", 0, 1, 2]]}, {"load": [("const", 0, 1)]}])
    distinct, index, counts = k.distinct()
    assert k.program[0] is k.program[1] and index == [0, 0, 1] and counts == [2, 1]


def test_a_failed_save_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "k.vk.json"
    save_kernel(Kernel(PROGRAM), path)
    before = path.read_text()

    def broken(_):
        raise RuntimeError("disk full")
    monkeypatch.setattr("asm.kernel.dumps_kernel", lambda k: "{" + broken(k))
    with pytest.raises(RuntimeError):
        save_kernel(Kernel(PROGRAM[:1]), path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["k.vk.json"]


@settings(deadline=None, max_examples=examples(100))
@given(any_programs(max_bundles=6), overfull_bundles(), st.data())
def test_a_bundle_over_a_slot_limit_is_refused_with_its_place(program, overfull, data):
    bundle, engine = overfull
    pc = data.draw(st.integers(0, len(program)))
    program = [*program[:pc], bundle, *program[pc:]]
    with pytest.raises(KernelError) as e:
        loads_kernel(json.dumps(program))
    assert e.value.bundle == pc and e.value.engine == engine
    assert "over the limit" in str(e.value)
    # The checker reports it too, among everything else it finds.
    assert any("over the limit" in d.message for d in lint(program))


# ---------------------------------------------------------------- hints


def test_hints_round_trip_through_the_image(tmp_path):
    hints = Hints(restrict=((0, 8),), pinned=frozenset({1}), temps=frozenset({8, 9}))
    k = Kernel(PROGRAM, hints=hints)
    text = dumps_kernel(k)
    assert '"hints": {"restrict": [[0, 8]], "pinned": [1], "temps": [8, 9]}' in text
    assert loads_kernel(text).hints == hints
    assert '"hints"' not in dumps_kernel(Kernel(PROGRAM))  # none: not written


@pytest.mark.parametrize(("hints", "message"), [
    ([], "'hints' is an object"),
    ({"pins": [0]}, "'hints' has no field \"pins\""),
    ({"pinned": [3]}, "'pinned' is a list of bundle indices (0..2)"),
    ({"temps": [-1]}, "'temps' is a list of scratch words"),
    ({"restrict": [[0, 1536]]}, "each 'restrict' set is a list of scratch words"),
    ({"restrict": 5}, "'restrict' is a list of lists"),
])
def test_bad_hints_are_named(hints, message):
    doc = json.loads(dumps_kernel(Kernel(PROGRAM)))
    doc["hints"] = hints
    with pytest.raises(KernelError, match=re.escape(message)):
        loads_kernel(json.dumps(doc))


def test_a_source_hints_reach_the_image_and_a_scheduled_image_keeps_them():
    """.restrict, .pin and .temp become the kernel's hints; scheduling keeps
    them, a pinned bundle at the pc it moved to, so the image schedules again
    as its source would."""
    from asm import assemble, schedule
    src = (".scratch p\n.scratch q\n.scratch x\n.temp t\n.restrict p, q\n"
           "const p, 0\nconst q, 40\nconst x, 1\nconst t, 2\n"
           ".pin\n{ store p, x }\n.endpin\nstore q, t\nhalt\n")
    k = assemble(src)
    assert k.hints.restrict == ((0, 1),) and k.hints.pinned == {4}
    assert k.hints.temps == {3}
    s = schedule(k, level=1)
    pinned_bundle = k.program[4]
    [at] = s.kernel.hints.pinned
    assert s.kernel.program[at] == pinned_bundle and at < 4  # the consts packed before it
    assert (s.kernel.hints.restrict, s.kernel.hints.temps) == (k.hints.restrict, k.hints.temps)
    again = loads_kernel(dumps_kernel(s.kernel))
    assert again.hints == s.kernel.hints
    assert schedule(again, level=1).kernel.program == s.kernel.program


def test_the_disassembler_writes_hints_as_directives():
    """.temp, .restrict and .pin come back from an image, so a kernel
    disassembled and assembled again schedules alike."""
    from asm import assemble, disassemble
    src = (".scratch p\n.scratch q\n.temp t\n.restrict p, q\nconst p, 0\nconst q, 4\n"
           ".pin\n{ store p, q }\n{ store q, p }\n.endpin\nconst t, 1\nstore q, t\n")
    k = assemble(src)
    text = disassemble(k)
    assert ".temp t @ 2" in text and ".restrict p, q" in text
    assert text.count(".pin") == 1 and text.count(".endpin") == 1
    back = assemble(text)
    assert back.hints == k.hints and back.program == k.program
