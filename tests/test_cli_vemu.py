"""`vemu run`: options, output, exit codes, never a traceback."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from asm import Kernel, save_kernel
from emu.cli import main
from emu.problem import Params, expected_output, make_image

SMALL = ["--height", "2", "--batch", "8", "--rounds", "2"]


def _store_values_kernel(values: list[int]) -> list[dict]:
    """A kernel that writes `values` over the values region of the small image."""
    p = make_image(Params(2, 8, 2))[6]
    program = [{"load": [("const", 0, p)]}]
    for v in values:
        program += [{"load": [("const", 1, v)]}, {"store": [("store", 0, 1)]},
                    {"flow": [("add_imm", 0, 0, 1)]}]
    return program


@pytest.fixture
def correct_kernel(tmp_path):
    expected = expected_output(make_image(Params(2, 8, 2)))
    path = tmp_path / "ok.vk.json"
    save_kernel(Kernel(_store_values_kernel(expected[expected[6]:expected[6] + 8])), path)
    return str(path)


def invoke(*args, input=None):
    return CliRunner().invoke(main, ["run", *args], input=input)


def test_check_passes_and_json_summary_is_the_last_line(correct_kernel):
    r = invoke(correct_kernel, *SMALL, "--check", "--json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output.splitlines()[-1])
    assert summary["correct"] is True and summary["cycles"] == 1 + 3 * 8
    assert summary["trace_buffer"] == []


def test_wrong_output_exits_1_and_names_the_first_wrong_input(tmp_path):
    path = tmp_path / "bad.vk.json"
    save_kernel(Kernel([{"alu": []}]), path)
    r = invoke(str(path), *SMALL, "--check")
    assert r.exit_code == 1
    assert "WRONG: input 0: expected" in r.output


def test_seeds_runs_each_image_and_reports_them(correct_kernel):
    r = invoke(correct_kernel, *SMALL, "--seeds", "3", "--seed", "10", "--check")
    assert r.exit_code == 1  # the kernel only knows seed 123's answers
    assert [line.split(":")[0] for line in r.stdout.splitlines()] == [
        "seed 10", "seed 11", "seed 12"]


def test_mem_from_stdin_and_dump_mem(tmp_path, correct_kernel):
    mem = make_image(Params(2, 8, 2))
    out = tmp_path / "out.json"
    r = invoke(correct_kernel, "--mem", "-", "--dump-mem", str(out), input=json.dumps(mem))
    assert r.exit_code == 0, r.output
    dumped, expected = json.loads(out.read_text()), expected_output(mem)
    p = mem[6]
    assert len(dumped) == len(mem) and dumped[p:p + 8] == expected[p:p + 8]


@pytest.mark.parametrize(
    ("setup", "args", "code", "message"),
    [
        ("kernel", ["--mem", "-"], 2, "memory image is not valid JSON"),
        ("kernel", ["--mem", "-", "--seeds", "2"], 2, "exclude each other"),
        ("missing", [], 2, "error: no such file"),
        ("vasm", [], 2, "no such file"),
        ("divzero", [], 1, "pc 0, alu slot 0 (// 0 0 0): division by zero"),
        ("loop", ["--max-cycles", "10"], 1, "cycle limit of 10 exceeded"),
    ],
)
def test_errors_give_our_diagnostic_and_exit_code(tmp_path, setup, args, code, message):
    programs = {"kernel": [], "divzero": [{"alu": [("//", 0, 0, 0)]}],
                "loop": [{"flow": [("jump", 0)]}]}
    path = tmp_path / ("k.vasm" if setup == "vasm" else "k.vk.json")
    if setup in programs:
        save_kernel(Kernel(programs[setup]), path)
    r = invoke(str(path), *args, input="[1, 2")
    assert r.exit_code == code
    assert message in r.output
    assert "Traceback" not in r.output


def test_memory_words_must_be_32_bit(correct_kernel):
    r = invoke(correct_kernel, "--mem", "-", input="[1, -2]")
    assert r.exit_code == 2 and "memory word 1 is -2" in r.output


def test_a_kernel_that_loops_forever_stops_with_a_clear_message(tmp_path):
    from click.testing import CliRunner

    from emu.cli import DEFAULT_MAX_CYCLES
    from emu.cli import main as vemu_main
    src = tmp_path / "spin.vasm"
    src.write_text("loop:\n    jump          loop\n")
    r = CliRunner().invoke(vemu_main, ["run", str(src), "--mem", "-", "--max-cycles", "500"],
                           input="[0]")
    assert r.exit_code == 1
    assert "cycle limit of 500 exceeded" in r.output
    assert "--max-cycles N moves the limit" in r.output
    assert 1_000_000 <= DEFAULT_MAX_CYCLES <= 100_000_000  # a default always applies


def test_a_fault_names_the_faulting_ops_own_line(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\n.scratch b\n{\n    const a, 0\n    div b, a, a\n}\n")
    r = CliRunner().invoke(main, ["run", str(src)])
    assert r.exit_code == 1
    assert "k.vasm:5" in r.output and "division by zero" in r.output


def test_a_taken_jump_past_the_end_is_a_run_fault(tmp_path):
    image = tmp_path / "k.json"
    image.write_text('[{"load": [["const", 0, 1]]}, {"flow": [["jump", 99]]}]')
    r = CliRunner().invoke(main, ["run", str(image)])
    assert r.exit_code == 1
    assert "pc 1, flow slot 0 (jump 99): jump to bundle 99, past the end" in r.output


def test_expect_checks_final_memory_or_a_region(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\n.scratch p\nconst p, 9\nconst a, 42\nstore p, a\n")
    mem = tmp_path / "mem.json"
    mem.write_text(json.dumps([0] * 12))
    whole = tmp_path / "whole.json"
    whole.write_text(json.dumps([0] * 9 + [42, 0, 0]))
    r = CliRunner().invoke(main, ["run", str(src), "--mem", str(mem), "--expect", str(whole)])
    assert r.exit_code == 0
    # One verdict, on the line with the cycles: not "not checked", then "as expected".
    assert r.output.splitlines()[-1] == "3 cycles, memory as expected"
    assert "not checked" not in r.output
    part = tmp_path / "part.json"
    part.write_text("[41]")
    r = CliRunner().invoke(main, ["run", str(src), "--mem", str(mem), "--expect", str(part),
                                  "--expect-region", "9:10"])
    assert r.exit_code == 1
    assert r.output.splitlines()[-1] == ("3 cycles, memory DIFFERS at word 9: 42, expected 41 "
                                         "(the only word that differs)")
    r = CliRunner().invoke(main, ["run", str(src), "--mem", str(mem), "--expect-region", "9:10"])
    assert r.exit_code == 2 and "--expect-region needs --expect FILE" in r.output


def test_a_kernel_that_reads_no_header_is_told_which_image_it_ran_on(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\nconst a, 42\n")
    r = CliRunner().invoke(main, ["run", str(src), "--height", "2", "--batch", "4",
                                  "--rounds", "1"])
    assert r.exit_code == 0
    assert "reads no word of the take-home image's header" in r.stderr
    assert "(height 2, batch 4, rounds 1, seed 123)" in r.stderr
    baseline = Path(__file__).parent.parent / "programs" / "takehome" / "baseline.vasm"
    r = CliRunner().invoke(main, ["run", str(baseline), "-D", "ROUNDS=1", "-D", "BATCH=8",
                                  "--height", "2", "--batch", "8", "--rounds", "1"])
    assert r.exit_code == 0 and "header" not in r.stderr


@pytest.mark.parametrize("command", ["run", "stats --run", "debug"])
def test_max_cycles_zero_means_no_limit_everywhere(tmp_path, command):
    # 40 trips round a loop: past a limit of 10, well inside none.
    src = tmp_path / "loop.vasm"
    src.write_text(".scratch n\n.scratch one\nconst n, 40\nconst one, 1\nloop:\n"
                   "sub n, n, one\ncond_jump n, loop\nhalt\n")
    name, *rest = command.split()
    mem = tmp_path / "m.json"
    mem.write_text("[0]")
    args = [name, str(src), "--mem", str(mem), *rest]
    stdin = "continue\nquit\n" if name == "debug" else None
    limited = CliRunner().invoke(main, [*args, "--max-cycles", "10"], input=stdin)
    unlimited = CliRunner().invoke(main, [*args, "--max-cycles", "0"], input=stdin)
    assert unlimited.exit_code == 0, unlimited.output
    assert "cycle limit" not in unlimited.output
    if name == "debug":
        assert "stopped at the cycle limit of 10 cycles" in limited.output
        assert "the program halted after 83 cycles" in unlimited.output
    else:
        assert limited.exit_code == 1 and "cycle limit" in limited.output
