"""`vasm check`: every problem of a program, errors and likely mistakes."""

from __future__ import annotations

import json

from click.testing import CliRunner

from asm.cli import main as vasm
from asm.kernel import Kernel
from asm.stages.assembler import assemble
from asm.views.lint import lint


def messages(found) -> list[str]:
    return [f"{d.severity}: {d.message}" for d in found]


def test_invalid_programs_report_every_error_not_the_first():
    got = messages(lint([{"alu": [["+", 0, 0], ["nope", 1, 2, 3]], "flow": [["jump", 99]]},
                          {"load": [["load", 1, 2]] * 3}, {"valu": [["+", 1530, 0, 0]]}]))
    assert "error: bundle 0, alu slot 0: '+' takes 3 operands (d, a, b), got 2" in got
    assert "error: bundle 0, alu slot 1: unknown alu op 'nope'" in got
    assert "error: bundle 1, load: 3 slots, over the limit of 2" in got
    assert any("jump target 99 is outside the program" in m for m in got)
    assert any("bundle 2, valu slot 0" in m and "outside 0..1535" in m for m in got)


def test_same_bundle_conflicts_name_the_winner_and_old_reads():
    k = assemble(".scratch a\n.scratch b\n{ add a, a, b ; mul a, b, b ; load b, a }")
    got = messages(lint(k))
    assert "warning: bundle 0: 2 slots write scratch 0 ('a'); the last, alu slot 1, wins" in got
    assert ("warning: bundle 0, load slot 0: reads scratch 0 ('a'), which alu slot 0 of the "
            "same bundle writes: it reads the old value") in got


def test_reads_never_written_and_unreachable_code():
    k = assemble(".scratch a\n.vector v\nvadd @20, v, v\nhalt\nadd a, a, a\njump done\n"
                 "add a, a, a\ndone:\nhalt")
    got = messages(lint(k))
    assert any("reads scratch 1 ('v'[0]) .. 8 ('v'[7]), which nothing writes" in m for m in got)
    assert "warning: bundle 2: bundles 2..4 can never run: nothing jumps there and the code " \
           "before ends in a jump or halt" in got
    assert not any("bundle 5" in m for m in got)  # done: is a jump target


def test_a_read_before_the_first_write_names_the_later_write():
    k = assemble(".scratch a\n.scratch b\nadd b, a, a\nconst a, 5\n", filename="k.vasm")
    found = lint(k)
    assert [d.severity for d in found] == ["warning"]
    assert str(found[0].location) == "k.vasm:3"
    assert ("bundle 0, alu slot 0: reads scratch 0 ('a') before anything writes it (scratch "
            "starts at zero); the first write comes later, in bundle 1") in found[0].message
    assert [str(n.location) for n in found[0].notes] == ["k.vasm:4"]


def test_a_loop_that_writes_before_the_jump_back_and_before_entry_is_clean():
    k = assemble(".scratch a\n.scratch b\n.scratch i\nconst i, 3\nconst a, 1\nloop:\n"
                 "add b, a, a\nconst a, 5\nsub i, i, a\ncond_jump i, loop\nhalt\n")
    assert lint(k) == []


def test_a_write_on_another_path_does_not_count():
    # The write sits on the branch that does not jump to the read.
    k = assemble(".scratch a\n.scratch c\n.scratch b\nload c, c\ncond_jump c, skip\n"
                 "const a, 5\nhalt\nskip:\nadd b, a, a\nhalt\n")
    got = messages(lint(k))
    assert any("bundle 4, alu slot 0: reads scratch 0 ('a') before anything writes it" in m and
               "bundle 2 writes it, but on no path that leads here" in m for m in got)


def test_a_read_in_the_bundle_of_the_first_write_is_one_warning():
    k = assemble(".scratch a\n.scratch b\n{ add b, a, a ; const a, 5 }\n")
    [warning] = lint(k)
    assert "reads the old value" in warning.message
    packed = Kernel(k.program, scratch=k.scratch, scheduled=2)  # the scheduler meant it
    [warning] = lint(packed)
    assert "the first write is in this bundle, whose reads see the old values" in \
        warning.message


def test_vector_straddling_a_symbol():
    found = lint({"program": [{"valu": [["+", 4, 4, 4]]}],
                   "scratch_map": {"0": ["a", 6], "6": ["b", 6]}})
    assert any("straddles 'a'" in m for m in messages(found))


def test_clean_programs_have_nothing_to_say():
    k = assemble(".scratch a\nconst a, 1\nadd a, a, a\nhalt")
    assert lint(k) == []


def test_cli_exit_codes(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"alu": [["+", 0, 0]]}]))
    r = CliRunner().invoke(vasm, ["check", str(bad)])
    assert r.exit_code == 1 and "takes 3 operands" in r.output
    warn = tmp_path / "w.vasm"
    warn.write_text(".scratch a\n.scratch b\nadd a, b, b\n")
    assert CliRunner().invoke(vasm, ["check", str(warn)]).exit_code == 0
    r = CliRunner().invoke(vasm, ["check", str(warn), "-W", "error"])
    assert r.exit_code == 1 and "w.vasm:3: warning" in r.output and " 3 | add a, b, b" in r.output


def test_images_of_another_version_are_rejected_like_loading_does(tmp_path):
    from asm.views.lint import lint_file
    newer = tmp_path / "k.vk.json"
    newer.write_text(json.dumps({"format": "vliw-kernel", "version": 9, "program": []}))
    got = lint_file(str(newer))
    assert [d.message for d in got] == [
        "version 9 is newer than this toolchain reads (1); upgrade the toolchain"]
    assert got[0].location.file == str(newer)


def test_a_diagnostic_about_an_op_cites_that_ops_own_line():
    # A bundle over three lines: the warning is about the add (line 4), not the
    # bundle's first op (line 3).
    k = assemble(".scratch a\n.scratch b\n{\n    const a, 1\n    add b, a, a\n}\n",
                 filename="k.vasm")
    [warning] = lint(k)
    assert "alu slot 0" in warning.message and "reads the old value" in warning.message
    assert (warning.location.file, warning.location.line) == ("k.vasm", 5)


def test_check_is_quiet_about_old_reads_in_scheduled_kernels(tmp_path):
    from asm import schedule
    src = ".scratch a, 8\n" + "".join(
        f"add a[{(i + 1) % 8}], a[{i % 8}], a[{i % 8}]\n" for i in range(24))
    k = assemble(src)
    s = schedule(k)
    assert s.kernel.scheduled == 2
    assert not [d for d in lint(s.kernel) if "old value" in d.message]
    # The mark survives the image file.
    path = tmp_path / "s.vk.json"
    from asm.kernel import save_kernel
    save_kernel(s.kernel, path)
    r = CliRunner().invoke(vasm, ["check", str(path)])
    assert r.exit_code == 0 and "old value" not in r.output
