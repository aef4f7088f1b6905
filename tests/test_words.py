"""Words a user reads: counts in the right number, help that says each thing
once, an output whose name says another format, shell completion as the
README gives it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from asm.cli import main as vasm
from emu.cli import main as vemu

ROOT = Path(__file__).parent.parent


def invoke(cli, *args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_one_flow_slot_is_singular(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\n{ add_imm a, a, 1 ; add_imm a, a, 2 }\n")
    r = invoke(vasm, "assemble", src, "-o", tmp_path / "k.vk.json")
    assert "this is number 2, the machine has 1 flow slot" in r.output
    assert "1 flow slots" not in r.output


@pytest.mark.parametrize(("cli", "command"), [(vasm, "assemble"), (vasm, "link"),
                                              (vasm, "check"), (vemu, "run")])
def test_help_says_each_option_once_in_plain_words(cli, command):
    text = invoke(cli, command, "--help").output
    assert "-W error: treat" not in text
    assert "test_kernel_cycles'" not in text
    for line in text.splitlines():
        words = line.split()
        assert not (len(words) > 3 and words[:2] == words[2:4]), line


def test_an_output_named_for_another_format_is_written_with_a_warning(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\nconst a, 1\n")
    image = tmp_path / "k.vk.json"
    assert invoke(vasm, "assemble", src, "-o", image).exit_code == 0
    r = invoke(vasm, "import", image, "-o", tmp_path / "mine.txt")
    assert r.exit_code == 0
    assert re.search(r"warning: \S*mine.txt: writing a kernel image \(JSON\), but the name "
                     r"does not end in \.json \(a name ending in \.vasm gets \.vasm source",
                     r.output)
    assert (tmp_path / "mine.txt").read_text().startswith("{")
    r = invoke(vasm, "disasm", image, "-o", tmp_path / "k.json")
    assert "writing .vasm source, but the name does not end in .vasm" in r.output
    for quiet in (["import", image, "-o", tmp_path / "ok.vasm"],
                  ["import", image, "-o", tmp_path / "ok.vk.json"],
                  ["disasm", image, "-o", tmp_path / "ok2.vasm"], ["disasm", image]):
        assert "warning" not in invoke(vasm, *quiet).output


def _readme_completion_lines() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Shell completion", 1)[1].split("```", 2)[1]
    return {line.rsplit("#", 1)[1].strip(): line.rsplit("#", 1)[0].strip()
            for line in block.strip().splitlines()}


def test_the_readme_documents_completion_for_bash_zsh_and_fish():
    lines = _readme_completion_lines()
    assert set(lines) == {"~/.bashrc", "~/.zshrc", "~/.config/fish/config.fish"}
    assert all("_VASM_COMPLETE" in v and "_VEMU_COMPLETE" in v for v in lines.values())


@pytest.mark.skipif(shutil.which("vasm") is None or shutil.which("bash") is None,
                    reason="needs bash and the installed vasm command")
def test_the_readmes_bash_line_completes_commands():
    line = _readme_completion_lines()["~/.bashrc"]
    script = (f'{line}\nCOMP_WORDS=(vasm ass); COMP_CWORD=1; _vasm_completion vasm; '
              'echo "${COMPREPLY[@]}"')
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "TERM": "dumb"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["assemble"]
