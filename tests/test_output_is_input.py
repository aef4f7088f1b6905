"""No command replaces one of its own inputs: every writing command, with
each of its outputs set to each file it reads (by the same path, through a
symbolic link, through a hard link), exits 2 naming both and leaves every
input byte for byte as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from asm.cli import main as vasm
from emu.cli import main as vemu

# k.vasm reads inc.vasm (beside it) and lib.vasm (found through -I lib).
K = '.include "inc.vasm"\n.include "lib.vasm"\nstart:\n    const a, 7\n    add b, a, a\n' \
    '    trace_write b\n'
INC = ".scratch a\n"
LIB = ".scratch b\n"
BUILDER = ("from helper import N\n"
           "class KernelBuilder:\n"
           "    def build_kernel(self, *params):\n"
           "        self.instrs = [{'load': [('const', 0, N)]}]\n"
           "        self.scratch_debug = {}\n")
HELPER = "N = 3\n"

SOURCE_INPUTS = ["k.vasm", "inc.vasm", "lib/lib.vasm"]
WITH_I = ["-I", "lib"]

# (cli, arguments with OUT where the output goes, the inputs it reads)
WRITERS = [
    (vasm, ["assemble", "k.vasm", *WITH_I, "-o", "OUT"], SOURCE_INPUTS),
    (vasm, ["assemble", "k.vasm", *WITH_I, "-o", "x.vk.json", "--listing", "OUT"],
     SOURCE_INPUTS),
    (vasm, ["assemble", "k.vasm", *WITH_I, "-o", "x.vk.json", "--map", "OUT"], SOURCE_INPUTS),
    (vasm, ["assemble", "-c", "k.vasm", *WITH_I, "-o", "OUT"], SOURCE_INPUTS),
    (vasm, ["assemble", "--schedule", "k.vasm", *WITH_I, "-o", "OUT"], SOURCE_INPUTS),
    (vasm, ["schedule", "k.vasm", *WITH_I, "-o", "OUT"], SOURCE_INPUTS),
    (vasm, ["schedule", "k.vk.json", "-o", "OUT"], ["k.vk.json"]),
    (vasm, ["link", "k.vo", "-o", "OUT"], ["k.vo"]),
    (vasm, ["link", "k.vo", "-o", "x.vk.json", "--map", "OUT"], ["k.vo"]),
    (vasm, ["link", "k.vasm", *WITH_I, "-o", "x.vk.json", "--listing", "OUT"], SOURCE_INPUTS),
    (vasm, ["disasm", "k.vk.json", "-o", "OUT"], ["k.vk.json"]),
    (vasm, ["disasm", "k.vasm", *WITH_I, "-o", "OUT"], SOURCE_INPUTS),
    (vasm, ["import", "builder.py", "-o", "OUT"], ["builder.py", "helper.py"]),
    (vemu, ["run", "k.vasm", *WITH_I, "--mem", "mem.json", "--expect", "mem.json",
            "--expect-region", "0:1", "--dump-mem", "OUT"],
     [*SOURCE_INPUTS, "mem.json"]),
    (vemu, ["run", "k.vk.json", "--trace", "OUT"], ["k.vk.json"]),
    (vemu, ["stats", "k.vasm", *WITH_I, "--html", "OUT"], SOURCE_INPUTS),
    (vemu, ["stats", "k.vk.json", "--run", "--mem", "mem.json", "--html", "OUT"],
     ["k.vk.json", "mem.json"]),
]
CASES = [(cli, args, victim) for cli, args, inputs in WRITERS for victim in inputs]
IDS = [f"{'vasm' if cli is vasm else 'vemu'} {' '.join(args)} <- {victim}"
       for cli, args, victim in CASES]


def invoke(cli, args: list[str]):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lib").mkdir()
    for name, text in [("k.vasm", K), ("inc.vasm", INC), ("lib/lib.vasm", LIB),
                       ("builder.py", BUILDER), ("helper.py", HELPER),
                       ("mem.json", "[0, 0, 0, 0]\n")]:
        (tmp_path / name).write_text(text)
    for args in (["assemble", "k.vasm", "-I", "lib", "-o", "k.vk.json"],
                 ["assemble", "-c", "k.vasm", "-I", "lib", "-o", "k.vo"]):
        done = invoke(vasm, args)
        assert done.exit_code == 0, done.output
    monkeypatch.delitem(__import__("sys").modules, "helper", raising=False)
    # As a user's Python does (this project's sandboxes turn it off): reading a
    # builder must not leave its siblings' __pycache__ behind either.
    monkeypatch.setattr(__import__("sys"), "dont_write_bytecode", False)
    return tmp_path


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and not p.is_symlink()}


@pytest.mark.parametrize(("cli", "args", "victim"), CASES, ids=IDS)
@pytest.mark.parametrize("how", ["path", "symlink", "hardlink"])
def test_an_output_that_is_an_input_is_refused(project, cli, args, victim, how):
    if how == "path":
        out = victim
    elif how == "symlink":
        out = "alias"
        os.symlink(victim, out)
    else:
        out = "alias"
        os.link(victim, out)
    before = _snapshot(project)
    done = invoke(cli, [out if a == "OUT" else a for a in args])
    assert done.exit_code == 2, done.output
    assert f"{out} is also an input ({victim}); choose another output" in done.output
    assert _snapshot(project) == before, "an input changed"


def test_two_outputs_naming_one_file_are_refused(project):
    done = invoke(vasm, ["assemble", "k.vasm", "-I", "lib", "-o", "same", "--listing", "same"])
    assert done.exit_code == 2
    assert "same is also another output (same); choose another output" in done.output
    assert not (project / "same").exists()


def test_fmt_in_place_still_rewrites_its_input(project):
    from asm.views.fmt import format_source
    messy = ".scratch a\nconst   a,5\n"
    (project / "messy.vasm").write_text(messy)
    done = invoke(vasm, ["fmt", "-i", "messy.vasm"])
    assert done.exit_code == 0, done.output
    assert (project / "messy.vasm").read_text() == format_source(messy) != messy
