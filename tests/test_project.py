"""vasm.toml beside a source: the command line and the editor assemble alike."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from asm.cli import main as vasm
from asm.project import project_options


@pytest.fixture
def project(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "inc.vasm").write_text("    add a, a, a\n")
    (tmp_path / "k.vasm").write_text('.scratch a\n.include "inc.vasm"\n    const a, N\n')
    (tmp_path / "vasm.toml").write_text('include = ["lib"]\n[defines]\nN = 7\n')
    return tmp_path


def program(path) -> list:
    return json.loads(path.read_text())["program"]


def test_defines_and_include_come_from_the_file(project):
    r = CliRunner().invoke(vasm, ["assemble", str(project / "k.vasm"), "-o",
                                  str(project / "k.json")])
    assert r.exit_code == 0, r.output
    assert program(project / "k.json")[1] == {"load": [["const", 0, 7]]}
    r = CliRunner().invoke(vasm, ["assemble", str(project / "k.vasm"), "-D", "N=9", "-o",
                                  str(project / "k.json")])
    assert program(project / "k.json")[1] == {"load": [["const", 0, 9]]}  # the command wins
    r = CliRunner().invoke(vasm, ["assemble", "-c", str(project / "k.vasm"), "-o",
                                  str(project / "k.vo")])
    assert r.exit_code == 0, r.output


def test_schedule_and_level_come_from_the_file(project):
    (project / "vasm.toml").write_text('include = ["lib"]\nschedule = true\nlevel = 1\n'
                                       '[defines]\nN = 7\n')
    r = CliRunner().invoke(vasm, ["assemble", str(project / "k.vasm"), "-o",
                                  str(project / "k.json")])
    assert r.exit_code == 0, r.output
    assert json.loads((project / "k.json").read_text())["scheduled"] == 1
    r = CliRunner().invoke(vasm, ["assemble", str(project / "k.vasm"), "-O", "2", "-o",
                                  str(project / "k.json")])
    assert json.loads((project / "k.json").read_text())["scheduled"] == 2


def test_split_comes_from_the_file(project):
    lines = "".join(f"    vadd v[{8 * i}], v[{8 * i}], v[{8 * i}]\n" for i in range(7))
    (project / "v.vasm").write_text(".vector v, 7\n" + lines)
    for split, engines in ((True, {"alu", "valu"}), (False, {"valu"})):
        (project / "vasm.toml").write_text(f"schedule = true\nsplit = {str(split).lower()}\n")
        r = CliRunner().invoke(vasm, ["assemble", str(project / "v.vasm"), "-o",
                                      str(project / "v.json")])
        assert r.exit_code == 0, r.output
        used = {e for b in program(project / "v.json") for e in b}
        assert used == engines


@pytest.mark.parametrize("text, message", [
    ("x = [\n", "vasm.toml is not valid TOML"),
    ("bogus = 1\n", "unknown key 'bogus' in vasm.toml (it knows defines, include"),
    ("level = 9\n", "'level' in vasm.toml is 1, 2 or 3"),
    ("schedule = 1\n", "'schedule' in vasm.toml is true or false"),
    ("split = \"no\"\n", "'split' in vasm.toml is true or false"),
    ("include = \"lib\"\n", "'include' in vasm.toml is a list of folders"),
    ("[defines]\nN = \"7\"\n", "'defines' in vasm.toml is a table of names and integers"),
])
def test_a_bad_file_is_named_not_a_traceback(project, text, message):
    (project / "vasm.toml").write_text(text)
    r = CliRunner().invoke(vasm, ["assemble", str(project / "k.vasm"), "-o",
                                  str(project / "k.json")])
    assert r.exit_code == 1
    assert f"vasm.toml: error: {message}" in r.output and "Traceback" not in r.output
    assert not (project / "k.json").exists()


def test_no_file_no_options(tmp_path):
    assert project_options(tmp_path / "k.vasm").path is None
