"""The `vasm` command line, and `vemu run` on sources: exit codes, outputs,
no half-written files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from asm.cli import main as vasm
from asm.kernel import Kernel, load_kernel
from emu.cli import main as vemu

ROOT = Path(__file__).parent.parent
BASELINE = ROOT / "programs" / "takehome" / "baseline.vasm"
GOOD = ".scratch a\n.scratch b\nstart:\n    const a, 7\n    add b, a, a\n    halt\n"


def run(cli, *args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def src(tmp_path) -> Path:
    p = tmp_path / "k.vasm"
    p.write_text(GOOD)
    return p


def test_assemble_writes_an_image_next_to_the_source(src):
    r = run(vasm, "assemble", src)
    assert r.exit_code == 0, r.output
    k = load_kernel(src.with_suffix(".vk.json"))
    assert k.program[1] == {"alu": [("+", 1, 0, 0)]}
    assert k.labels == {"start": 0}


def test_assemble_with_defines_includes_and_listing(tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "d.vasm").write_text(".scratch x\n")
    (tmp_path / "m.vasm").write_text('.include "d.vasm"\nconst x, N\n')
    out, lst = tmp_path / "o.vk.json", tmp_path / "o.lst"
    r = run(vasm, "assemble", tmp_path / "m.vasm", "-o", out, "-D", "N=0x10", "-I",
            tmp_path / "inc", "--listing", lst)
    assert r.exit_code == 0, r.output
    assert load_kernel(out).program == [{"load": [("const", 0, 16)]}]
    assert '["const", 0, 16]' in lst.read_text() and "m.vasm:2" in lst.read_text()


def test_errors_exit_1_and_leave_no_output(tmp_path):
    bad = tmp_path / "bad.vasm"
    bad.write_text(".scratch a\nadd a, a\nload a, 5\nfoo a\n")
    out = tmp_path / "bad.vk.json"
    r = run(vasm, "assemble", bad, "-o", out)
    assert r.exit_code == 1
    assert "bad.vasm:2:1: error: 'add' takes 3 operands" in r.output
    assert "3 errors." in r.output
    assert not out.exists()
    r = run(vasm, "assemble", bad, "-o", out, "--max-errors", "1")
    assert "only the first 1 errors shown" in r.output


def test_warnings_become_errors_with_W_error(tmp_path):
    p = tmp_path / "w.vasm"
    p.write_text('.warning "careful"\nhalt\n')
    assert run(vasm, "assemble", p).exit_code == 0
    assert run(vasm, "assemble", p, "-W", "error").exit_code == 1


def test_missing_source_is_an_error_not_a_traceback(tmp_path):
    r = run(vasm, "assemble", tmp_path / "nope.vasm")
    assert r.exit_code == 1 and "no such file" in r.output


def test_disasm_and_import_round_trip(tmp_path, src):
    run(vasm, "assemble", src)
    text = run(vasm, "disasm", src.with_suffix(".vk.json")).output
    assert "start:" in text and "add           b, a, a" in text
    bare = tmp_path / "instrs.json"
    bare.write_text(json.dumps([{"load": [["const", 0, 7]]}, {"flow": [["halt"]]}]))
    out = tmp_path / "imported.vasm"
    assert run(vasm, "import", bare, "-o", out).exit_code == 0
    assert run(vasm, "assemble", out).exit_code == 0
    assert load_kernel(tmp_path / "imported.vk.json").program[0] == {"load": [("const", 0, 7)]}


def test_import_runs_a_kernel_builder(tmp_path):
    (tmp_path / "kb.py").write_text(
        "class KernelBuilder:\n"
        "    def build_kernel(self, h, n, batch, rounds):\n"
        "        self.instrs = [{'load': [('const', 0, batch)]}]\n"
        "        self.scratch_debug = {0: ('batch', 1)}\n")
    out = tmp_path / "kb.vk.json"
    r = run(vasm, "import", tmp_path / "kb.py", "-o", out, "--params", "4,31,32,6")
    assert r.exit_code == 0, r.output
    k = load_kernel(out)
    assert k.program == [{"load": [("const", 0, 32)]}] and k.scratch == {0: ("batch", 1)}


def test_fmt_check_and_in_place(tmp_path):
    p = tmp_path / "f.vasm"
    p.write_text(".scratch a\n  add a,a,a\n")
    assert run(vasm, "fmt", "--check", p).exit_code == 1
    assert run(vasm, "fmt", "-i", p).exit_code == 0
    assert p.read_text() == ".scratch a\nadd           a, a, a\n"
    assert run(vasm, "fmt", "--check", p).exit_code == 0


def test_diff_shows_moves_and_a_summary(tmp_path):
    a, b = tmp_path / "a.vasm", tmp_path / "b.vasm"
    a.write_text(".scratch x\n{ add x, x, x ; load x, x }\nhalt\n")
    b.write_text(".scratch x\nadd x, x, x\n{ load x, x ; halt }\n")
    r = run(vasm, "diff", a, b)
    assert r.exit_code == 1
    assert "# moved to bundle 1" in r.output and "# moved from bundle 0" in r.output
    assert "load ops" in r.output
    assert run(vasm, "diff", a, a).exit_code == 0


def test_vemu_runs_sources_and_reports_their_errors(tmp_path, src):
    r = run(vemu, "run", src, "--max-cycles", "10")
    assert r.exit_code == 0, r.output
    assert "3 cycles" in r.output
    bad = tmp_path / "bad.vasm"
    bad.write_text("jump nowhere\n")
    r = run(vemu, "run", bad)
    assert r.exit_code == 2 and "bad.vasm:1:6: error: unknown name 'nowhere'" in r.output


@pytest.mark.slow
def test_baseline_source_runs_the_starting_kernel_exactly():
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        r = run(vemu, "run", BASELINE.relative_to(ROOT), "--check")
    finally:
        os.chdir(cwd)
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "147734 cycles, correct"
    from asm import assemble
    k = assemble(BASELINE)
    assert Kernel(k.program).program == k.program  # valid without the assembler's word


def test_schedule_command_and_assemble_schedule(tmp_path):
    src = tmp_path / "flat.vasm"
    src.write_text(".scratch a, 24\n" + "".join(f"add a[{i}], a[{i}], a[{i + 12}]\n"
                                                for i in range(12)) + "halt\n")
    out = tmp_path / "packed.vasm"
    r = run(vasm, "schedule", src, "-o", out, "--report")
    assert r.exit_code == 0, r.output
    assert "cycles: 13 as written, 1 scheduled" in r.output
    assert "{" in out.read_text()
    r = run(vasm, "assemble", src, "--schedule", "-o", tmp_path / "p.vk.json")
    assert r.exit_code == 0 and len(load_kernel(tmp_path / "p.vk.json").program) == 1


def test_an_unwritable_output_is_our_error_not_a_traceback(tmp_path, src):
    missing = tmp_path / "no" / "such" / "folder"
    for args in (["assemble", src, "-o", missing / "k.vk.json"],
                 ["assemble", src, "--listing", missing / "k.lst", "-o", tmp_path / "k.vk.json"],
                 ["schedule", src, "-o", missing / "k.vasm"]):
        r = run(vasm, *args)
        assert r.exit_code == 1 and "error: cannot write: No such file or directory" in r.output
    r = run(vemu, "run", src, "--dump-mem", missing / "m.json")
    assert r.exit_code == 2 and "cannot write" in r.output
