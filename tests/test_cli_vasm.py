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


# ---------------------------------------------------------------- objects and linking

LIB = ".global double\n.extern x\n.scratch y\ndouble:\n    add y, x, x\n    halt\n"
MAIN = ".global x\n.extern double\n.scratch x\n    const x, 21\n    jump double\n"


@pytest.fixture
def two(tmp_path) -> tuple[Path, Path]:
    (tmp_path / "main.vasm").write_text(MAIN)
    (tmp_path / "lib.vasm").write_text(LIB)
    return tmp_path / "main.vasm", tmp_path / "lib.vasm"


def test_assemble_c_writes_objects_that_link(two, tmp_path):
    main, lib = two
    r = run(vasm, "assemble", "-c", main, lib)
    assert r.exit_code == 0, r.output
    assert json.loads(main.with_suffix(".vo").read_text())["format"] == "vliw-object"
    out = tmp_path / "k.vk.json"
    r = run(vasm, "link", main.with_suffix(".vo"), lib.with_suffix(".vo"), "-o", out,
            "--map", tmp_path / "k.map")
    assert r.exit_code == 0, r.output
    k = load_kernel(out)
    assert k.program == [{"load": [("const", 0, 21)]}, {"flow": [("jump", 2)]},
                         {"alu": [("+", 1, 0, 0)]}, {"flow": [("halt",)]}]
    assert k.labels == {"double": 2}
    text = (tmp_path / "k.map").read_text()
    assert "main" in text and "lib" in text and "double" in text


def test_assemble_of_several_sources_links_them(two, tmp_path):
    main, lib = two
    out = tmp_path / "k.vk.json"
    r = run(vasm, "assemble", main, lib, "-o", out)
    assert r.exit_code == 0, r.output
    r = run(vemu, "run", out)
    assert r.exit_code == 0 and "4 cycles" in r.output, r.output


def test_link_errors_exit_1_and_write_nothing(two, tmp_path):
    main, _ = two
    out = tmp_path / "k.vk.json"
    r = run(vasm, "assemble", main, "--map", tmp_path / "m.map", "-o", out)
    assert r.exit_code == 1
    assert "undefined symbol 'double'" in r.output
    assert not out.exists() and not (tmp_path / "m.map").exists()


def test_c_with_one_output_and_several_sources_is_a_usage_error(two, tmp_path):
    r = run(vasm, "assemble", "-c", *two, "-o", tmp_path / "x.vo")
    assert r.exit_code == 2
    assert "-o names one object" in r.output


def test_link_reports_a_bad_object(tmp_path):
    bad = tmp_path / "bad.vo"
    bad.write_text('{"format": "vliw-kernel", "version": 1}')
    r = run(vasm, "link", bad, "-o", tmp_path / "k.vk.json")
    assert r.exit_code == 1
    assert "this is a kernel image, not an object" in r.output
    assert "Traceback" not in r.output


def test_link_schedule_packs_across_modules(two, tmp_path):
    main, lib = two
    out = tmp_path / "k.vk.json"
    r = run(vasm, "link", main, lib, "-o", out, "--schedule", "--report")
    assert r.exit_code == 0, r.output
    assert "scheduled" in r.output
    assert len(load_kernel(out).program) <= 4


def test_link_names_a_kernel_image_given_as_an_object(src, tmp_path):
    image = tmp_path / "k.vk.json"
    assert run(vasm, "assemble", src, "-o", image).exit_code == 0
    r = run(vasm, "link", image, "-o", tmp_path / "out.vk.json")
    assert r.exit_code == 1
    assert "this is a kernel image, not an object" in r.output


def test_a_scheduled_listing_gives_each_op_its_own_line(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a, 4\nconst a, 1\nconst a[1], 2\nconst a[2], 3\nconst a[3], 4\n")
    lst = tmp_path / "k.lst"
    r = run(vasm, "assemble", src, "--schedule", "-q", "-o", tmp_path / "k.vk.json",
            "--listing", lst)
    assert r.exit_code == 0, r.output
    rows = [line for line in lst.read_text().splitlines() if '["const"' in line]
    assert len(rows) == 4
    assert [row.split("k.vasm:")[1].split()[0] for row in rows] == ["2", "3", "4", "5"]


# Scheduling options: honoured or refused, never silently ignored.
FLAT = ".scratch a\n.scratch b\nconst a, 5\nadd b, a, a\nconst a, 6\nadd b, b, a\n"


def test_an_optimization_level_alone_schedules(tmp_path):
    src = tmp_path / "f.vasm"
    src.write_text(FLAT)
    r = run(vasm, "assemble", src, "-O1", "--report", "-o", tmp_path / "f.vk.json")
    assert r.exit_code == 0, r.output
    assert "scheduled at -O1" in r.output
    assert load_kernel(tmp_path / "f.vk.json").scheduled == 1


@pytest.mark.parametrize("option", [["--report"], ["--no-split"], ["--rename"],
                                    ["--budget", "3"], ["-j", "2"]])
def test_a_scheduling_option_without_scheduling_is_a_usage_error(tmp_path, option):
    src = tmp_path / "f.vasm"
    src.write_text(FLAT)
    r = run(vasm, "assemble", src, *option, "-o", tmp_path / "f.vk.json")
    assert r.exit_code == 2
    assert f"{option[0]} needs --schedule (or -O LEVEL)" in r.output
    assert not (tmp_path / "f.vk.json").exists()


@pytest.mark.parametrize("command", [["assemble", "--schedule"], ["schedule"]])
def test_budget_below_o3_is_a_usage_error(tmp_path, command):
    src = tmp_path / "f.vasm"
    src.write_text(FLAT)
    r = run(vasm, *command, src, "--budget", "2", "-o", tmp_path / "f.vk.json")
    assert r.exit_code == 2
    assert "--budget applies to -O3's search; at -O2 it would do nothing (add -O3)" in r.output


def test_jobs_at_o2_choose_threads_and_change_nothing(tmp_path):
    # (-j counts threads below -O3; tests/test_search.py checks the search itself)
    src = tmp_path / "f.vasm"
    src.write_text(FLAT)
    images = []
    for jobs in ("1", "3"):
        out = tmp_path / f"f{jobs}.vk.json"
        r = run(vasm, "assemble", src, "-O2", "-j", jobs, "--no-cache", "-o", out)
        assert r.exit_code == 0, r.output
        images.append(out.read_bytes())
    assert images[0] == images[1]


def test_both_scheduling_commands_take_the_same_options():
    from asm.cli import assemble_cmd, link_cmd, schedule_cmd
    names = [{o for p in c.params for o in p.opts} for c in (assemble_cmd, link_cmd,
                                                             schedule_cmd)]
    scheduling = {"-O", "--budget", "-j", "-q", "--report", "--no-split", "--rename", "--seed"}
    assert all(scheduling <= n for n in names)


def test_rename_is_honoured_by_assemble_schedule(tmp_path):
    src = tmp_path / "f.vasm"
    src.write_text(FLAT)
    plain = run(vasm, "assemble", src, "--schedule", "-o", tmp_path / "a.vk.json")
    renamed = run(vasm, "assemble", src, "--schedule", "--rename", "-o", tmp_path / "b.vk.json")
    assert plain.exit_code == renamed.exit_code == 0
    assert load_kernel(tmp_path / "b.vk.json").renamed
    assert not load_kernel(tmp_path / "a.vk.json").renamed
