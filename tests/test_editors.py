"""The editor highlighters, each in its real engine, on tests/editors/sample.vasm
with the expectations in tests/editors/expected.txt; and the generated word
lists are current (`vasm editors --check`).

- VS Code: the TextMate grammar run by `vscode-textmate` + `vscode-oniguruma`,
  installed from the npm registry into a cache folder on first use.
- Vim: `vim -Es` reports the syntax group under every character.
- Emacs: the ERT suite editors/emacs/vasm-mode-tests.el in `emacs --batch`,
  and a byte-compile with warnings as errors.

A test skips, saying why, when its editor (or npm, or the registry) is not on
the machine; `.ci/run` installs Emacs where it can.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from asm import keywords
from asm.editor.editors import generated, stale

ROOT = Path(__file__).parent.parent
HERE = Path(__file__).parent / "editors"
SAMPLE = HERE / "sample.vasm"
EDITORS = ROOT / "editors"

VIM_GROUPS = {
    "comment": "vasmComment", "declaration": "vasmDirectiveDeclaration",
    "preprocessor": "vasmDirectivePreprocessor", "layout": "vasmDirectiveLayout",
    "constant": "vasmConstant", "macrodef": "vasmMacroName", "macro": "vasmStatement",
    "alu": "vasmAlu", "valu": "vasmValu", "load": "vasmLoad", "store": "vasmStore",
    "flow": "vasmFlow", "control": "vasmControl", "debug": "vasmDebug",
    "substitution": "vasmSubstitution", "label": "vasmLabel", "labelref": "vasmLabelRef",
    "bundle": "vasmBundle", "string": "vasmString", "address": "vasmAddress",
    "number": "vasmNumber",
}
TM_SCOPES = {
    "comment": "comment.line.number-sign.vasm", "declaration": "storage.type.directive.vasm",
    "preprocessor": "keyword.control.directive.vasm", "layout": "keyword.other.directive.vasm",
    "constant": "variable.other.constant.vasm", "macrodef": "entity.name.function.macro.vasm",
    "macro": "entity.name.function.macro.vasm", "alu": "keyword.other.alu.vasm",
    "valu": "keyword.other.valu.vasm", "load": "keyword.other.load.vasm",
    "store": "keyword.other.store.vasm", "flow": "keyword.other.flow.vasm",
    "control": "keyword.control.flow.vasm", "debug": "keyword.other.debug.vasm",
    "substitution": "variable.parameter.substitution.vasm", "label": "entity.name.label.vasm",
    "labelref": "entity.name.label.reference.vasm",
    "bundle": "punctuation.section.bundle.begin.vasm", "string": "string.quoted.double.vasm",
    "address": "variable.language.address.vasm", "number": "constant.numeric.hex.vasm",
}


def expectations() -> list[tuple[int, int, str, str]]:
    """(line, column (0-based), text, kind) for every row of expected.txt: the
    first occurrence of the text on its line."""
    lines = SAMPLE.read_text().split("\n")
    out = []
    for row in (HERE / "expected.txt").read_text().splitlines():
        if not row.strip() or row.startswith("#"):
            continue
        line, text, kind = row.split()
        out.append((int(line), lines[int(line) - 1].index(text), text, kind))
    return out


def test_expectations_cover_every_kind():
    kinds = {k for *_, k in expectations()}
    assert kinds == set(VIM_GROUPS) == set(TM_SCOPES)


# ---------------------------------------------------------------- generated word lists


def test_generated_lists_hold_every_mnemonic_and_directive():
    texts = {p.name: t for p, t in generated(ROOT).items()}
    for group, words in keywords.mnemonic_groups().items():
        for w in words:
            assert f"vasm{group.capitalize()} contained" in texts["vasm.vim"]
            assert f'"{w}"' in texts["vasm-mode.el"]
            assert w in texts["vasm.tmLanguage.json"]
    for d in keywords.DIRECTIVES:
        assert d[1:] in texts["vasm.vim"] and f'"{d}"' in texts["vasm-mode.el"]


def test_directive_table_is_what_the_assembler_handles():
    from asm.stages import expand, lower
    handled = {*lower._DIRECTIVES, *expand.DIRECTIVES, *expand.BLOCKS,
               *expand.BLOCKS.values(), ".else", ".elif"}
    assert set(keywords.DIRECTIVES) == handled


def test_stale_file_is_reported(tmp_path):
    shutil.copytree(EDITORS, tmp_path / "editors")
    vim = tmp_path / "editors" / "vim" / "syntax" / "vasm.vim"
    vim.write_text(vim.read_text().replace("vadd ", ""))
    assert stale(tmp_path) == [vim]


# ---------------------------------------------------------------- VS Code


def _textmate_modules() -> Path:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("node and npm are not installed: the TextMate engine cannot run")
    cache = Path(os.environ.get("VASM_NPM_CACHE",
                                Path(tempfile.gettempdir()) / "vasm-textmate-test"))
    modules = cache / "node_modules"
    if not (modules / "vscode-textmate").is_dir() or not (modules / "vscode-oniguruma").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(cache),
                            "vscode-textmate@9", "vscode-oniguruma@2"],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            pytest.skip(f"npm could not install vscode-textmate: {r.stderr.strip()[-300:]}")
    return modules


@pytest.fixture(scope="module")
def textmate_tokens() -> list:
    modules = _textmate_modules()
    r = subprocess.run(["node", str(HERE / "tm_tokenize.js"),
                        str(EDITORS / "vscode" / "syntaxes" / "vasm.tmLanguage.json"),
                        str(SAMPLE)],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "NODE_PATH": str(modules)})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _scope_at(tokens: list, line: int, col: int) -> list[str]:
    for start, end, scopes in tokens[line - 1]:
        if start <= col < end:
            return scopes
    raise AssertionError(f"no token at {line}:{col}")


@pytest.mark.parametrize("line,col,text,kind", expectations(),
                         ids=[f"{ln}-{t}-{k}" for ln, _, t, k in expectations()])
def test_vscode_scopes(textmate_tokens, line, col, text, kind):
    scopes = _scope_at(textmate_tokens, line, col)
    assert scopes[-1] == TM_SCOPES[kind], (text, scopes)


def test_vscode_extension_layout():
    package = json.loads((EDITORS / "vscode" / "package.json").read_text())
    (language,) = package["contributes"]["languages"]
    (grammar,) = package["contributes"]["grammars"]
    assert language["extensions"] == [".vasm"]
    assert grammar["scopeName"] == "source.vasm"
    assert (EDITORS / "vscode" / grammar["path"]).is_file()
    config = json.loads((EDITORS / "vscode" / language["configuration"]).read_text())
    assert config["comments"]["lineComment"] == "#"
    assert ["{", "}"] in config["brackets"]
    assert "macro" in config["folding"]["markers"]["start"]


@pytest.fixture(scope="module")
def vscode_package(tmp_path_factory) -> tuple[Path, str]:
    """The extension built as a user builds it: `npm install` (the language
    client, esbuild), then `npx @vscode/vsce package`, which bundles
    extension.js into dist/. Gives the folder and what vsce printed."""
    npm, npx = shutil.which("npm"), shutil.which("npx")
    if npm is None or npx is None:
        pytest.skip("npm and npx (Node.js) are not installed")
    folder = tmp_path_factory.mktemp("vscode") / "vasm"
    shutil.copytree(EDITORS / "vscode", folder,
                    ignore=shutil.ignore_patterns("node_modules", "dist"))
    output = ""
    for command in ([npm, "install", "--no-audit", "--no-fund"],
                    [npx, "--yes", "@vscode/vsce@3", "package", "--out", "vasm.vsix"]):
        r = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=600,
                           stdin=subprocess.DEVNULL)
        output = r.stdout + r.stderr
        if r.returncode and ("ENOTFOUND" in output or "EAI_AGAIN" in output):
            pytest.skip("the npm registry cannot be reached")
        assert r.returncode == 0, output
    return folder, output


def test_vscode_extension_packages_without_warnings(vscode_package):
    """The .vsix builds and vsce warns about nothing (a repository, a LICENSE
    that matches package.json, a .vscodeignore, the client bundled)."""
    folder, output = vscode_package
    assert "WARNING" not in output.upper().replace("WARNINGS", ""), output
    assert (folder / "vasm.vsix").stat().st_size > 1000
    with zipfile.ZipFile(folder / "vasm.vsix") as vsix:
        names = vsix.namelist()
    assert "extension/dist/extension.js" in names
    assert not any("node_modules" in n for n in names)  # bundled, not shipped
    license_text = (EDITORS / "vscode" / "LICENSE").read_text()
    assert json.loads((EDITORS / "vscode" / "package.json").read_text())["license"] == "MIT"
    assert license_text.startswith("MIT License")


@pytest.mark.parametrize("settings,lens", [
    ({"defines": {"N": 3}}, ["as written: 1 cycle; tight bound 1 (the longest dependence "
                             "chain), resource floor 1 (load), critical path 1"]),
    ({}, []),  # N undefined: an error, so no code lens
])
def test_vscode_extension_starts_the_language_server(vscode_package, tmp_path, settings, lens):
    """The built extension, activated with the real vscode-languageclient
    (VS Code itself stubbed: tests/editors/vscode_activate.js), starts `vasm lsp`,
    hands it the settings and gets answers."""
    folder, _ = vscode_package
    vasm = shutil.which("vasm") or str(Path(sys.executable).parent / "vasm")
    kernel = tmp_path / "k.vasm"
    kernel.write_text(".scratch a\n    const a, N\n")
    r = subprocess.run(["node", str(HERE / "vscode_activate.js"),
                        str(folder / "dist" / "extension.js"),
                        json.dumps({"server.path": vasm, **settings}), str(kernel), "1:5"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    said = json.loads(r.stdout)
    assert said["errors"] == [] and said["commands"] == ["vasm.restartServer"]
    assert said["server"]["name"] == "vasm"
    assert {"hoverProvider", "inlayHintProvider", "renameProvider"} <= set(said["capabilities"])
    assert said["hover"].startswith("**const** d, imm")
    assert said["lens"] == lens


def test_vscode_extension_says_when_the_server_cannot_start(vscode_package, tmp_path):
    folder, _ = vscode_package
    kernel = tmp_path / "k.vasm"
    kernel.write_text("")
    r = subprocess.run(["node", str(HERE / "vscode_activate.js"),
                        str(folder / "dist" / "extension.js"),
                        json.dumps({"server.path": str(tmp_path / "no-vasm")}), str(kernel), "0:0"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    errors = json.loads(r.stdout)["errors"]  # the language client's own, then ours
    assert any("could not start `vasm lsp`" in e and "spawn" in e and "vasm.server.path" in e
               for e in errors), errors


# ---------------------------------------------------------------- Vim


@pytest.fixture(scope="module")
def vim_groups(tmp_path_factory) -> list[list[str]]:
    vim = shutil.which("vim")
    if vim is None:
        pytest.skip("vim is not installed")
    out = tmp_path_factory.mktemp("vim") / "groups.txt"
    setup = (f"let g:vasm_rtp='{EDITORS / 'vim'}' | let g:vasm_sample='{SAMPLE}' | "
             f"let g:vasm_out='{out}'")
    r = subprocess.run([vim, "-Es", "-u", "NONE", "-i", "NONE", "-N", "--cmd", setup,
                        "-c", f"source {HERE / 'vim_groups.vim'}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    filetype, commentstring, *lines = out.read_text().split("\n")
    assert filetype == "vasm"  # ftdetect
    assert commentstring == "# %s"  # ftplugin
    return [ln.split("|") for ln in lines]


@pytest.mark.parametrize("line,col,text,kind", expectations(),
                         ids=[f"{ln}-{t}-{k}" for ln, _, t, k in expectations()])
def test_vim_groups(vim_groups, line, col, text, kind):
    got = vim_groups[line - 1][col:col + len(text)]
    assert set(got) == {VIM_GROUPS[kind]}, (text, got)


# ---------------------------------------------------------------- Emacs


def _emacs() -> str:
    emacs = shutil.which("emacs")
    if emacs is None:
        pytest.skip("emacs is not installed (.ci/run installs emacs-nox where it can)")
    return emacs


def test_emacs_ert_suite():
    emacs = _emacs()
    r = subprocess.run([emacs, "--batch", "-Q", "-L", str(EDITORS / "emacs"),
                        "-l", str(EDITORS / "emacs" / "vasm-mode-tests.el"),
                        "-f", "ert-run-tests-batch-and-exit"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 unexpected" in r.stderr


def test_emacs_mode_byte_compiles_cleanly(tmp_path):
    emacs = _emacs()
    source = tmp_path / "vasm-mode.el"
    shutil.copy(EDITORS / "emacs" / "vasm-mode.el", source)
    r = subprocess.run([emacs, "--batch", "-Q", "--eval", "(setq byte-compile-error-on-warn t)",
                        "-f", "batch-byte-compile", str(source)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "vasm-mode.elc").exists()
