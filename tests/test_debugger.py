"""`vemu debug`, driven through its stdin as a script would: every command."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from budget import examples
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from asm import Kernel, assemble_full, schedule
from emu.cli import main as vemu
from emu.debugger import Debugger, for_image, from_assembly
from emu.debugger.prompt import HELP

ROOT = Path(__file__).parent.parent
BASELINE = ROOT / "programs" / "takehome" / "baseline.vasm"
HERE = Path(__file__).parent / "debugger"
LOOP = HERE / "loop.vasm"
RUNAWAY = HERE / "runaway.vasm"


def session(kernel: Kernel, mem: list[int], commands: str, **options) -> str:
    out = io.StringIO()
    Debugger(kernel, mem, stdin=io.StringIO(commands), stdout=out, **options).cmdloop()
    return out.getvalue()


def source_session(path: Path, commands: str, mem: list[int] | None = None, **options) -> str:
    assembly = assemble_full(path)
    return session(assembly.kernel, mem or [0] * 10, commands,
                   locations=from_assembly(assembly, str(path)), **options)


KERNEL = Kernel(
    [{"load": [("const", 0, 3), ("const", 1, 1)]},
     {"alu": [("-", 0, 0, 1)], "store": [("store", 1, 0)]},
     {"flow": [("cond_jump", 0, 1)]},
     {"valu": [("vbroadcast", 8, 0)]},
     {"alu": [("//", 2, 1, 0)]},
     {"flow": [("halt",)]}],
    scratch={0: ("count", 1), 1: ("one", 1), 8: ("v", 8)},
    labels={"loop": 1, "tail": 3},
)


def test_step_break_continue_print():
    text = session(KERNEL, [0] * 4, "step\nbreak tail\ncontinue\nprint count\nprint v\n"
                                    "step\nprint v\nquit\n")
    assert "pc 0 (" not in text and "pc 0, cycle 0" in text
    assert "breakpoint 1 at label tail: pc 3" in text
    assert "breakpoint 1 (label tail)" in text
    assert "count = 0" in text
    assert "v (8 words at 8):" in text
    assert text.count("[0]") == 2


def test_watch_scratch_and_memory():
    text = session(KERNEL, [0] * 4, "watch count\ncontinue\ncontinue\nwatch mem[1]\n"
                                    "continue\nmem 0 4\ninfo\nquit\n")
    assert "watch 1 (count): 0 -> 3" in text
    assert "watch 1 (count): 3 -> 2" in text
    # one bundle changes both: the store writes count as it was before the sub
    assert "watch 1 (count): 2 -> 1\nwatch 2 (mem[1]): 3 -> 2" in text
    assert "      0: 0 2 0 0" in text
    assert "1  watch       count (1 word)" in text and "2  watch       mem[1] (1 word)" in text


def test_a_fault_stops_in_front_of_its_bundle_and_until():
    text = session(KERNEL, [0] * 4, "until tail\nstep 5\nlist\nq\n")
    assert "pc 3 (tail)" in text
    assert "fault: pc 4, alu slot 0" in text and "division by zero" in text
    assert text.rstrip().endswith("(vemu)")
    assert "pc 4, cycle" in text.split("fault:")[1]


def test_mistakes_are_reported_not_raised():
    text = session(KERNEL, [0] * 4, "break nowhere\nprint nothing\nstep x\nfrobnicate\n"
                                    "delete 9\nb *99\nprint/q count\nset count\n"
                                    "set var count = 1 << 40\nset var v = 1\nx 99\n"
                                    "info nonsense\nwatch $pc\nundisplay 4\nquit\n")
    assert "error: 'nowhere' is not a label" in text
    assert "error: no scratch symbol 'nothing'" in text
    assert "error: step takes a number" in text
    assert "error: unknown command 'frobnicate'" in text
    assert "error: no breakpoint or watch 9" in text
    assert "error: '*99': a pc is *N with N in 0..5" in text
    assert "error: print/FMT takes a count and one of the letters x d u t o" in text
    assert "error: set var WHAT = VALUE, or set max-cycles N" in text
    assert "error: '1 << 40' is not a number" in text
    assert "error: v has 8 words: set one (v[i] = VALUE) or all" in text
    assert "error: memory has 4 words (0..3); 99 is outside" in text
    assert "error: info takes one of breakpoints" in text
    assert "error: $pc changes every bundle" in text
    assert "error: no display 4" in text
    assert "Traceback" not in text


def test_vemu_debug_on_a_source_kernel():
    commands = ("break *20\ncontinue\nprint number[6]\nstep\nprint number[6]\nlist\n"
                "until baseline.vasm:110\nquit\n")
    r = CliRunner().invoke(vemu, ["debug", str(BASELINE), "-D", "ROUNDS=1", "-D", "BATCH=8",
                                  "--rounds", "1", "--batch", "8", "--height", "3"],
                           input=commands)
    assert r.exit_code == 0, r.output
    assert "breakpoint 1 (pc 20)" in r.output
    assert "number[6] = 0" in r.output  # bundle 20 writes it; not run yet
    assert "number[6] = 6" in r.output
    assert "baseline.vasm:110" in r.output
    assert "compare idx, (0, 0, 'next_idx')" in r.output


# ------------------------------------------------------------ locations


def test_a_number_is_a_source_line_and_star_a_pc():
    text = source_session(LOOP, "b 19\nb *1\nb loop.vasm:20\ninfo breakpoints\nq\n")
    assert "breakpoint 1 at tests/debugger/loop.vasm:19: pc 5" in text.replace(str(ROOT) + "/", "")
    assert "breakpoint 2 at pc 1: pc 1" in text
    assert "breakpoint 3 at" in text and "loop.vasm:20: pc 6" in text
    assert re.search(r"1  breakpoint  \S*loop.vasm:19 \(pc 5\)  hit 0", text)


def test_a_line_without_code_moves_to_the_next_and_says_so():
    text = source_session(LOOP, "b 21\nb 23\nb 99\nq\n")
    assert re.search(r"breakpoint 1 at \S*loop.vasm:22: pc 7\nnote: \S*loop.vasm:21 has no "
                     r"code; using \S*loop.vasm:22, the next line that has", text)
    assert re.search(r"breakpoint 2 at \S*loop.vasm:25: pc 8\nnote: \S*loop.vasm:23", text)
    assert re.search(r"error: no code at or after \S*loop.vasm:99", text)


def test_labels_macros_and_macro_calls_as_locations():
    text = source_session(LOOP, "b loop\nb bump\nb 18\nc\nc\nc\nc\ninfo b\nq\n")
    assert "breakpoint 1 at label loop: pc 3" in text
    assert "breakpoint 2 at macro bump: pc 3" in text
    # line 18 calls the macro: its bundles are the expansion's
    assert re.search(r"breakpoint 3 at \S*loop.vasm:18: pc 3", text)
    assert text.count("breakpoint 1 (label loop)\nbreakpoint 2 (macro bump)") == 3
    assert re.search(r"1  breakpoint  label loop \(pc 3\)  hit 3", text)


def test_macros_of_a_kernel_image_come_from_its_source(tmp_path):
    kernel = assemble_full(LOOP).kernel
    text = session(kernel, [0] * 10, "b bump\ninfo macros\nq\n", locations=for_image(kernel))
    assert "breakpoint 1 at macro bump: pc 3" in text
    assert "  bump" in text


def test_tbreak_stops_once():
    text = source_session(LOOP, "tbreak loop\nrun\ninfo b\nc\nq\n")
    assert "temporary breakpoint 1 at label loop: pc 3" in text
    assert "temporary breakpoint 1 (label loop), deleted" in text
    assert "no breakpoints or watches" in text
    assert "the program halted after 20 cycles\n(vemu)" in text


# ------------------------------------------------------------ running


def test_finish_says_whether_it_ended_a_block_or_a_loop_iteration():
    # (step 2 moves past the macro call at the loop's head: finish there leaves
    # the expansion, test_finish_inside_a_macro_stops_after_the_expansion)
    text = source_session(LOOP, "finish\nstep 2\nfinish\nstep 2\nfinish\nstep 2\nfinish\nq\n")
    assert "run to the end of this block: pc 0..2" in text
    assert "finish: end of the block pc 0..2\npc 3 (loop), cycle 3" in text
    assert "run to the end of this loop iteration: loop (pc 3..7)" in text
    assert ("finish: end of an iteration of the loop loop (pc 3..7); the next one starts "
            "here\npc 3 (loop), cycle 8") in text
    assert "finish: end of the loop loop (pc 3..7); it is done\npc 8, cycle 18" in text


def test_run_and_restart_start_again_keeping_breakpoints():
    text = source_session(LOOP, "b 20\nc\nc\nrun\nprint total\nrestart\nprint total\nq\n")
    assert text.count("breakpoint 1 (") == 3
    assert "starting again from cycle 0\nbreakpoint 1" in text
    assert "total = 1" in text
    assert "starting again from cycle 0\npc 0, cycle 0" in text and "total = 0" in text


def test_the_cycle_limit_stops_a_runaway_loop():
    text = source_session(RUNAWAY, "c\nc\nset max-cycles 3000\nc\np n\ninfo program\nq\n",
                          max_cycles=1000)
    assert text.count("stopped at the cycle limit of 1,000") == 2  # until the limit moves
    assert "cycle limit: 3,000" in text
    assert "stopped at the cycle limit of 3,000 cycles" in text
    assert "n = 1500" in text
    assert "cycle 3000: stopped in front of pc" in text


def test_vemu_debug_takes_the_cycle_limit():
    r = CliRunner().invoke(vemu, ["debug", str(RUNAWAY), "--max-cycles", "50"], input="c\nq\n")
    assert r.exit_code == 0, r.output
    assert "stopped at the cycle limit of 50 cycles" in r.output


def test_an_empty_line_in_a_script_does_nothing():
    text = source_session(LOOP, "step\n\n\nq\n")
    assert "pc 1, cycle 1" in text and "pc 2" not in text


# ------------------------------------------------------------ looking and changing


def test_print_formats_and_set_var():
    text = source_session(LOOP, "set var total = -1\np total\np/d total\np/x total\n"
                                "p/t one\np/o ptr\nset var v = {1, 2, 3, 4, 5, 6, 7, 0x10}\n"
                                "p/x v\nset ptr = 0b11\np ptr\np $pc\nstep\np $cycle\nq\n")
    assert "total = 4294967295" in text
    assert "total = -1" in text and "total = 0xffffffff" in text
    assert "one = 0" in text  # nothing has run yet
    assert "ptr = 0" in text
    assert "v (8 words at 4):\n  [0]    0x1  0x2  0x3  0x4  0x5  0x6  0x7 0x10" in text
    assert "ptr = 3" in text
    assert "$pc = 0" in text and "$cycle = 1" in text


def test_x_shows_what_exists_and_enter_goes_on_at_a_terminal():
    mem = list(range(100, 110))
    text = source_session(LOOP, "x/4 2\nx/8x 6\nset var mem[3] = 7\nx/1 3\nstep 3\nx/2 ptr\n"
                                "p mem[ptr]\nq\n", mem=mem)
    assert "      2: 102 103 104 105" in text
    assert "      6: 0x6a 0x6b 0x6c 0x6d\n(memory ends at word 9: 4 of 8 words shown)" in text
    assert "      3: 7" in text
    assert "      4: 104 105" in text  # ptr holds 4
    assert "mem[ptr] = 104" in text
    repeated = session(KERNEL, list(range(20)), "x/4 0\n\nq\n", interactive=True)
    assert "      0: 0 1 2 3\n" in repeated and "      4: 4 5 6 7\n" in repeated


def test_display_shows_at_every_stop():
    text = source_session(LOOP, "display/x total\ndisplay count\nstep\nstep 3\n"
                                "info display\nundisplay 1\nstep\ndisplay\nq\n")
    assert "1: total = 0x0" in text and "2: count = 0" in text
    assert text.count("1: total = 0x") == 3
    assert "1: total = 0x1\n2: count = 3" in text
    assert "    1  /x total\n    2  count" in text
    assert text.count("2: count =") == 5


def test_info_bundle_sums_up_the_last_bundle():
    text = source_session(LOOP, "info bundle\nuntil 20\nstep\ninfo bu\nq\n")
    assert "no bundle has run yet" in text
    assert re.search(r"last bundle: pc 6, cycle 6  loop.vasm:20\n"
                     r"  store   1 of 2   store ptr, total\n"
                     r"  idle   alu valu load flow debug\n"
                     r"  wrote mem\[4\]: 0 -> 1", text)


def test_scheduled_kernels_show_each_op_with_its_line_and_copies_by_name():
    kernel = schedule(HERE / "twice.vasm", level=1).kernel
    text = session(kernel, [0] * 4, "step\nprint t\nq\n", locations=for_image(kernel))
    assert "{" not in text  # no templates from the macro's body
    assert re.search(r"pc 1, cycle 1  twice.vasm:6\n    alu    add t.1, a, a\n"
                     r"    alu    add t, b, b\n", text)
    assert "note: the scheduler renamed t: its copies t.1" in text
    pc0 = text.split("(vemu)")[0]
    assert re.search(r"const a, 1  twice.vasm:9\n    load   const b, 2  twice.vasm:10", pc0)


# ------------------------------------------------------------ help


def commands_in_help() -> list[str]:
    return [usage.split()[0].split("[")[0] for _, rows in HELP for usage, _ in rows]


def test_help_lists_every_command_and_no_internal_names():
    text = session(KERNEL, [0] * 4, "help\nhelp tbreak\nhelp cont\nq\n")
    assert "EOF" not in text and "Undocumented" not in text
    for name in commands_in_help():
        assert f"  {name}" in text
    assert "tbreak WHERE: like break" in text
    assert "continue: run until a breakpoint" in text  # a prefix names a command
    d = Debugger(KERNEL, [0] * 4, stdin=io.StringIO(""), stdout=io.StringIO())
    methods = {d.canonical(n[3:]) for n in d.get_names() if n.startswith("do_")}
    assert methods - {"mem"} == set(commands_in_help())  # mem is x's old spelling


@pytest.mark.parametrize("usage", [usage for _, rows in HELP for usage, _ in rows])
def test_every_command_is_in_the_docs(usage):
    assert f"`{usage}`" in (ROOT / "docs" / "emulator.md").read_text(encoding="utf-8")


def test_backtrace_names_the_macro_calls():
    text = source_session(LOOP, "until 9\nbt\nstep 3\nwhere\nq\n")
    assert re.search(r"#0  pc 3  \S*loop.vasm:9\n#1  \S*loop.vasm:18:5: in expansion of "
                     r"macro 'bump'\n", text)
    assert re.search(r"#0  pc 6  \S*loop.vasm:20\n\(vemu\)", text)
    kernel = schedule(HERE / "twice.vasm", level=1).kernel
    text = session(kernel, [0] * 4, "bt\nq\n", locations=for_image(kernel))
    assert "#0  pc 0: a scheduled bundle, its ops from 2 source lines" in text


def test_info_registers_lists_named_words_with_their_values():
    text = source_session(LOOP, "info registers\nstep 3\ninfo registers\ninfo r count\nq\n")
    before, _, after = text.split("(vemu) ")[1:4]
    assert re.search(r"  count\s+@0\s+0\n  one\s+@1\s+0\n", before)
    assert re.search(r"  count\s+@0\s+3\n  one\s+@1\s+1\n  total\s+@2\s+0\n  ptr\s+@3\s+4\n"
                     r"  v\s+@4\s+0 0 0 0 0 0 0 0\n", after)
    assert "count = 3" in text


def test_delete_and_list():
    text = source_session(LOOP, "b loop\nwatch total\ndelete 1\ninfo b\ndelete\ninfo b\nq\n")
    assert re.search(r"2  watch       total \(1 word\)\n\(vemu\)", text)
    assert "all breakpoints and watches deleted\n(vemu) no breakpoints or watches" in text
    listed = session(KERNEL, [0] * 4, "list tail\nq\n", interactive=True)
    assert "(no source map: the bundle's ops)\npc 3 (tail)\n    valu   vbroadcast v, count" \
        in listed


def test_list_shows_source_lines_around_the_running_line_and_goes_on():
    text = source_session(LOOP, "list\nlist\nstep 3\nlist\nlist 20\nq\n")
    first, second, third, fourth = text.split("(vemu) ")[1:5]
    # The first bundle comes from line 13: lines 8..17, 13 marked.
    assert first.splitlines()[0] == "       8  .macro bump dst, by"
    assert "=>    13      const count, 3" in first and len(first.splitlines()) == 10
    assert second.splitlines()[0] == "      18      bump total, one"  # goes on after 17
    # In front of the macro's first bundle: its body line, as gdb shows an inlined body.
    assert third.splitlines()[0] == "pc 3 (loop), cycle 3  loop.vasm:9"
    assert "=>     9      add {dst}, {dst}, {by}" in fourth
    fifth = text.split("(vemu) ")[5]
    assert fifth.splitlines()[0] == "      15      const ptr, 4"  # around line 20


def test_finish_inside_a_macro_stops_after_the_expansion():
    text = source_session(LOOP, "until 9\nfinish\nq\n")
    assert ("run to the end of this macro expansion: macro 'bump' called at loop.vasm:18 "
            "(pc 3..4)") in text
    assert "finish: out of the expansion of macro 'bump' called at loop.vasm:18 (pc 3..4), " \
        "back in its caller" in text
    assert re.search(r"back in its caller\npc 5, cycle \d+  loop.vasm:19", text)


def test_a_watch_and_a_temporary_breakpoint_at_once_are_both_reported():
    # `sub count` (pc 4) changes count just before pc 5, line 19, runs.
    text = source_session(LOOP, "watch count\nstep\ntbreak 19\ncontinue\ninfo b\nq\n")
    assert re.search(r"watch 1 \(count\): 0 -> 3\n", text)
    text = source_session(LOOP, "step 3\nwatch count\ntbreak 19\ncontinue\ninfo b\nq\n")
    assert re.search(r"watch 1 \(count\): 3 -> 2\ntemporary breakpoint 2 \(\S*loop.vasm:19\), "
                     r"deleted\npc 5, cycle 5", text)
    assert "temporary breakpoint 2" not in text.split("(vemu) ")[-2]  # gone from info b


# ------------------------------------------------------------ any input

WORDS = ["b", "tbreak", "until", "finish", "x", "x/", "x/8x", "x/0", "p", "p/", "p/xx",
         "display/x", "undisplay", "set", "set var", "set max-cycles", "info", "info r",
         "watch", "delete", "list", "bt", "run", "restart", "help", "step", "c", "mem",
         "advance", "frob"]
ARGS = ["", "*", "*-1", "*99999999999", ":", ":0", "0", "-1", "loop", "bump", "mem[", "mem[]",
        "mem[@1]", "mem[count]", "mem[v]", "@", "@99999", "v[99]", "v[1]", "= 3", "x = ",
        "count = {1,2}", "v = {", "{}", "$pc", "$foo", "0x", "1e5", "a:b:c", "loop.vasm:0",
        "nofile.vasm:3", "/x", "//", "1 2 3", "\x00", "ü", "count = 99999999999", "100"]
LOOP_ASSEMBLY = assemble_full(LOOP)


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(ARGS),
                          st.sampled_from(ARGS)), max_size=25))
def test_no_command_line_ends_the_session(commands):
    script = "".join(f"{w} {a} {b}\n" for w, a, b in commands) + "info program\n"
    text = session(LOOP_ASSEMBLY.kernel, [0] * 10, script, max_cycles=2000,
                   locations=from_assembly(LOOP_ASSEMBLY, str(LOOP)))
    assert "Traceback" not in text
    assert "cycle limit: " in text.rsplit("(vemu) ", 2)[-2]  # the last command still answered
