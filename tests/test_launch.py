"""The quick `vemu run` (emu/launch.py) prints what the full command line
prints for the runs it does, and leaves everything else to it untouched."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from budget import examples
from click.testing import CliRunner
from conftest import load_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import any_programs, memories

from asm.cli import main as asm_cli
from emu import native
from emu.cli import main as full
from emu.generated_table import MACHINE
from emu.launch import quick_run

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "tests" / "corpus"
pytestmark = pytest.mark.skipif(not native.AVAILABLE, reason="the compiled core is not built")


def quick(args: list[str]) -> tuple[bool, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        done = quick_run(args)
    return done, out.getvalue()


def corpus_program(name: str) -> list:
    return load_corpus(CORPUS / f"{name}.json.gz")["instrs"]


# Fields of a kernel image, good and bad ("n": as many entries as bundles).
IMAGE_FIELDS = st.fixed_dictionaries({}, optional={
    "version": st.sampled_from([1, 2, "1"]),
    "machine": st.sampled_from([MACHINE, {**MACHINE, "vlen": 4}]),
    "scratch": st.sampled_from([{}, {"0": ["a", 1]}, {"0": ["a", 99999]}, {"x": ["a", 1]}, []]),
    "labels": st.sampled_from([{}, {"L": 0}, {"L": 10**6}, {"L": "x"}]),
    "source": st.sampled_from([None, "n", [], [1]]),
    "op_source": st.sampled_from([None, "n", [["k.vasm:1"]]]),
    "scheduled": st.sampled_from([None, 1, -1, "x"]),
    "renamed": st.sampled_from([{}, {"5": 6}, {"5": 99999}]),
    "hints": st.sampled_from([{}, {"temps": [1]}, []]),
})


def image_of(program: list, fields: dict) -> dict:
    image = {"format": "vliw-kernel", "version": 1, "program": program}
    for name, value in fields.items():
        if value == "n":
            value = ([f"k.vasm:{pc}" for pc in range(len(program))] if name == "source" else
                     [[None] * sum(map(len, b.values())) for b in program])
        image[name] = value
    return image


@settings(max_examples=examples(150), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(any_programs(), memories(), st.booleans(), st.none() | IMAGE_FIELDS)
def test_a_quick_run_prints_what_the_command_line_prints(tmp_path, program, mem, check, fields):
    kernel, image = tmp_path / "k.json", tmp_path / "m.json"
    kernel.write_text(json.dumps(program if fields is None else image_of(program, fields)))
    image.write_text(json.dumps(mem))
    args = ["run", str(kernel), "--mem", str(image), *(["--check"] if check else [])]
    done, printed = quick(args[1:])
    if not done:
        assert printed == ""
        return
    r = CliRunner().invoke(full, args)
    assert (r.exit_code, r.stdout, r.stderr) == (0, printed, "")


def test_a_take_home_kernel_checked_quickly_as_the_command_line_checks_it(tmp_path):
    program = corpus_program("lianghongkey+original_performance_takehome")
    (tmp_path / "k.json").write_text(json.dumps(program))
    (tmp_path / "corpus.json").write_text(json.dumps({"instrs": program, "scratch_map": {}}))
    src = ROOT / "programs" / "takehome" / "vector.vasm"
    r = CliRunner().invoke(asm_cli, ["assemble", str(src), "-o", str(tmp_path / "k.vk.json")])
    assert r.exit_code == 0, r.output
    for name in ("k.json", "corpus.json", "k.vk.json"):
        done, printed = quick([str(tmp_path / name), "--check"])
        assert done and printed.endswith(" cycles, correct\n")
        r = CliRunner().invoke(full, ["run", str(tmp_path / name), "--check"])
        assert (r.exit_code, r.stdout, r.stderr) == (0, printed, "")


@pytest.mark.parametrize("args", [
    ["k.json"],  # neither --check nor --mem: the image may need a note
    ["k.json", "--check", "--seed", "5"],
    ["k.json", "--check", "--json"],
    ["k.vasm", "--check"],
    ["k.json", "--mem", "-"],
    ["k.json", "--mem"],
    ["k.json", "k.json", "--check"],
    ["--check"],
])
def test_anything_but_a_plain_run_goes_to_the_command_line(tmp_path, monkeypatch, args):
    (tmp_path / "k.json").write_text(json.dumps([{"load": [["const", 0, 1]]}]))
    (tmp_path / "k.vasm").write_text(".scratch a\nconst a, 1\n")
    monkeypatch.chdir(tmp_path)
    assert quick(args) == (False, "")


@pytest.mark.parametrize("text", [
    '[{"load": [["const", 0, 1]], "load": [["const", 1, 1]]}]',  # a key twice
    '\ufeff[{"load": [["const", 0, 1]]}]',  # a byte-order mark
    '[{"load": [["const", 0, 1]]}] x',  # not JSON
    '{"format": "vliw-kernel", "version": 1, "program": [], "labels": {"L": 5}}',  # a bad field
    '{"format": "vliw-kernel", "version": 1, "program": [], "hints": {"pinned": [0]}}',  # past
    '{"format": "vliw-kernel", "version": 9, "program": []}',  # too new
    '[{"load": [["const", 0, 1.0]]}]',  # what the core declines
    '[{"flow": [["jump", 9]]}]',  # a fault
    '[{"flow": [["trace_write", 0]]}]',  # a trace word
    '[{"load": [["const", 0, 1]]}]',  # a wrong answer (--check)
])
def test_what_does_not_simply_succeed_goes_to_the_command_line(tmp_path, text):
    kernel = tmp_path / "k.json"
    kernel.write_text(text, encoding="utf-8")
    assert quick([str(kernel), "--check"]) == (False, "")


def test_a_memory_image_that_is_not_words_goes_to_the_command_line(tmp_path):
    (tmp_path / "k.json").write_text(json.dumps([{"load": [["const", 0, 1]]}]))
    for image in ("[1, -1]", "[1, true]", "[1, 4294967296]", "{}", "[1, 1"):
        (tmp_path / "m.json").write_text(image)
        assert quick([str(tmp_path / "k.json"), "--mem", str(tmp_path / "m.json")]) == \
            (False, "")


def test_the_vemu_script_runs_quickly_and_otherwise_as_before(tmp_path):
    kernel = tmp_path / "k.json"
    kernel.write_text(json.dumps(corpus_program("mmurrs+original_performance_takehome")))
    wrong = tmp_path / "w.json"
    wrong.write_text(json.dumps([{"load": [["const", 0, 1]]}]))
    for args, code in (([str(kernel), "--check"], 0), ([str(wrong), "--check"], 1),
                       ([str(wrong)], 0)):
        launched = subprocess.run([sys.executable, "-m", "emu.launch", "run", *args],
                                  capture_output=True, text=True, timeout=120)
        r = CliRunner().invoke(full, ["run", *args])
        assert (launched.returncode, launched.stdout, launched.stderr) == \
            (code, r.stdout, r.stderr)
    assert launched.stderr.startswith("note: ")  # the full command line's note


def test_a_quick_run_imports_neither_click_nor_the_kernel_loader(tmp_path):
    kernel = tmp_path / "k.json"
    kernel.write_text(json.dumps(corpus_program("lianghongkey+original_performance_takehome")))
    # Only what the quick run adds counts: a Python's site hooks may load some
    # of these before any of our code runs (CI's loads typing from a .pth file).
    code = ("import sys\nstarted = set(sys.modules)\nfrom emu.launch import quick_run\n"
            f"assert quick_run([{str(kernel)!r}, '--check'])\n"
            "print('MODULES', sorted(set(sys.modules) - started))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES"))
    added = set(eval(line[len("MODULES "):]))  # noqa: S307 (our own print of a list)
    assert {m for m in added if m.split(".")[0] in ("asm", "emu")} == {
        "asm", "asm.imagefields", "emu", "emu._core", "emu.compiled", "emu.generated_table",
        "emu.generated_image", "emu.launch", "emu.limits"}
    assert not added & {"click", "dataclasses", "typing", "numpy", "random"}
