"""`vasm lsp` driven as an editor drives it: a real client over stdio (pytest-lsp)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

HERE = Path(__file__).parent / "lsp"
MAIN = HERE / "main.vasm"
URI = MAIN.resolve().as_uri()


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-c", "from asm.cli import main; main(['lsp'])"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(), root_uri=HERE.resolve().as_uri()))
    yield
    await lsp_client.shutdown_session()


def open_text(client: LanguageClient, text: str, version: int = 1) -> None:
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=URI, language_id="vasm", version=version,
                                           text=text)))


def change(client: LanguageClient, text: str, version: int) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=URI, version=version),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))


async def diagnostics(client: LanguageClient) -> list[lsp.Diagnostic]:
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[URI])


@pytest.mark.asyncio
async def test_diagnostics_appear_and_clear_as_you_type(client: LanguageClient):
    text = MAIN.read_text()
    open_text(client, text)
    assert await diagnostics(client) == []
    broken = text.replace("vbroadcast v, count", "vbroadcst v, count")
    change(client, broken, 2)
    (d,) = await diagnostics(client)
    assert "unknown op 'vbroadcst'" in d.message
    assert d.range.start.line == 12 and d.range.start.character == 4
    assert d.severity == lsp.DiagnosticSeverity.Error
    change(client, broken.replace("    bump count", "    bump"), 3)
    found = await diagnostics(client)
    assert any("needs argument 'dst'" in x.message for x in found)
    change(client, text, 4)
    assert await diagnostics(client) == []


@pytest.mark.asyncio
async def test_an_error_in_a_macro_body_points_at_the_call_too(client: LanguageClient):
    open_text(client, MAIN.read_text().replace("add {dst}, {dst}, one", "add {dst}, {dst}, 1"))
    (d,) = await diagnostics(client)
    assert d.range.start.line == 6  # the body's line
    assert any("in expansion of macro 'bump'" in r.message and r.location.range.start.line == 11
               for r in d.related_information or [])


@pytest.mark.asyncio
async def test_an_error_in_an_included_file_shows_at_the_include(client: LanguageClient):
    open_text(client, MAIN.read_text().replace('"part.vasm"', '"missing.vasm"'))
    found = await diagnostics(client)
    assert found and found[0].range.start.line == 1
    assert "missing.vasm" in found[0].message


@pytest.mark.asyncio
async def test_an_error_inside_an_included_file_shows_at_the_include(client: LanguageClient,
                                                                     tmp_path):
    (tmp_path / "part.vasm").write_text(".scratch one\n    frob one\n")
    main = tmp_path / "main.vasm"
    uri = main.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="vasm", version=1,
                                           text='# x\n.include "part.vasm"\n')))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    (d,) = client.diagnostics[uri]
    assert d.range.start.line == 1 and "part.vasm:2:5: unknown op 'frob'" in d.message
    assert d.related_information[0].location.uri.endswith("part.vasm")
    assert d.related_information[0].location.range.start.line == 1


@pytest.mark.asyncio
async def test_hover_definition_and_outline(client: LanguageClient):
    open_text(client, MAIN.read_text())
    await diagnostics(client)
    where = lsp.TextDocumentIdentifier(uri=URI)
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=where, position=lsp.Position(line=12, character=6)))
    assert "vbroadcast" in hover.contents.value and "valu" in hover.contents.value
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=where, position=lsp.Position(line=9, character=12)))
    assert "count" in hover.contents.value and "scratch 1 (1 word)" in hover.contents.value
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=where, position=lsp.Position(line=11, character=5)))
    assert "macro bump" in hover.contents.value and "add {dst}" in hover.contents.value
    assert "expands here to:\n\n```vasm\nadd count, count, one\n```" in hover.contents.value
    found = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=where, position=lsp.Position(line=13, character=22)))
    assert found.uri == URI and found.range.start.line == 10  # top:
    found = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=where, position=lsp.Position(line=6, character=24)))
    assert found.uri.endswith("part.vasm") and found.range.start.line == 0  # .scratch one
    outline = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        text_document=where))
    assert [s.name for s in outline] == ["count", "v", "bump", "top"]


@pytest.mark.asyncio
async def test_the_outline_follows_section_comments(client: LanguageClient):
    open_text(client, "N = 4\n# ---------------- scratch\n.scratch a\n.vector v\n"
                      "# ---- code ----\n.macro m x\n    add {x}, {x}, {x}\n.endm\n"
                      "top:\n    m a\n")
    assert await diagnostics(client) == []
    outline = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI)))
    assert [(s.name, s.kind) for s in outline] == [
        ("N", lsp.SymbolKind.Constant), ("scratch", lsp.SymbolKind.Namespace),
        ("code", lsp.SymbolKind.Namespace)]
    scratch, code = outline[1:]
    assert [c.name for c in scratch.children] == ["a", "v"]
    assert (scratch.range.start.line, scratch.range.end.line) == (1, 3)
    assert [c.name for c in code.children] == ["m", "top"]
    assert code.selection_range.start.character == 7


@pytest.mark.asyncio
async def test_nonsense_and_half_typed_lines_never_silence_the_server(client: LanguageClient):
    open_text(client, "\x00{{{ .macro\n.for\n   add ,,, \n\"unterminated\n" * 3)
    assert await diagnostics(client)
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI),
        position=lsp.Position(line=999, character=999)))
    assert hover is None
    with pytest.raises(Exception, match="is not a name"):  # an error answer, not a crash
        await client.text_document_rename_async(lsp.RenameParams(
            text_document=lsp.TextDocumentIdentifier(uri=URI),
            position=lsp.Position(line=0, character=0), new_name="1 bad"))
    change(client, "    const", 2)
    assert await diagnostics(client)
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI), position=lsp.Position(line=0, character=6)))
    assert "const" in hover.contents.value


EDITORS = Path(__file__).parent.parent / "editors"


def _readme_block(language: str, after: str) -> str:
    """The first ```LANGUAGE block of editors/README.md after the text `after`."""
    text = (EDITORS / "README.md").read_text()
    rest = text[text.index(after):]
    start = rest.index(f"```{language}\n") + len(language) + 4
    return rest[start:rest.index("```", start)]


def test_the_readmes_neovim_setup_shows_a_diagnostic(tmp_path):
    """Debian's Neovim (0.7; .ci/run installs it), headless, set up with the
    README's own lines (editors/vim on the runtimepath, then its snippet),
    opening a file with an error."""
    import os
    import shutil
    import subprocess
    nvim, vasm = shutil.which("nvim"), shutil.which("vasm")
    if nvim is None or vasm is None:
        pytest.skip("needs nvim (Debian's neovim) and the installed vasm command")
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\n    const a, 1\n    frob a\n")
    init = tmp_path / "init.lua"
    init.write_text(f"vim.opt.runtimepath:append({str(EDITORS / 'vim')!r})\n"
                    + _readme_block("lua", "Neovim ("))
    done = subprocess.run([nvim, "--headless", "-u", str(init), "-c",
                           f"luafile {HERE / 'nvim_diagnostics.lua'}", str(src)],
                          env={**os.environ, "HOME": str(tmp_path)},
                          capture_output=True, text=True, timeout=120)
    assert "3:5: unknown op 'frob'" in done.stdout + done.stderr, done.stdout + done.stderr


def test_the_readmes_emacs_eglot_setup_shows_a_diagnostic(tmp_path):
    """Debian's Emacs in batch mode, set up with the README's own lines
    (vasm-mode on the load path, then its eglot snippet), opening a file with
    an error; eglot's diagnostics arrive through flymake."""
    import os
    import shutil
    import subprocess
    emacs, vasm = shutil.which("emacs"), shutil.which("vasm")
    if emacs is None or vasm is None:
        pytest.skip("needs emacs (Debian's emacs-nox) and the installed vasm command")
    probe = subprocess.run([emacs, "--batch", "--eval", "(require 'eglot)"],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode:
        pytest.skip("this Emacs has no eglot (Emacs 29 has it; Debian's 28: elpa-eglot, "
                    "which .ci/run installs)")
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\n    const a, 1\n    frob a\n")
    init = tmp_path / "init.el"
    init.write_text(f"(add-to-list 'load-path {json_string(str(EDITORS / 'emacs'))})\n"
                    "(require 'vasm-mode)\n" + _readme_block("elisp", "Emacs (eglot"))
    done = subprocess.run([emacs, "--batch", "-l", str(init), "-l",
                           str(HERE / "emacs_diagnostics.el")],
                          env={**os.environ, "HOME": str(tmp_path), "VASM_FILE": str(src)},
                          capture_output=True, text=True, timeout=120)
    assert "3: vasm: unknown op 'frob'" in done.stdout + done.stderr, \
        done.stdout + done.stderr


def json_string(text: str) -> str:
    import json
    return json.dumps(text)


@pytest.mark.asyncio
async def test_folding_formatting_completion_and_inlay_hints(client: LanguageClient):
    text = MAIN.read_text().replace("    const count, 3", "  const   count,3\n{\n    add count, count, one\n}")
    open_text(client, text)
    assert await diagnostics(client) == []
    where = lsp.TextDocumentIdentifier(uri=URI)
    folds = await client.text_document_folding_range_async(lsp.FoldingRangeParams(
        text_document=where))
    assert [(f.start_line, f.end_line) for f in folds] == [(5, 7), (10, 12)]
    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        text_document=where, options=lsp.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert "const         count, 3" in edits[0].new_text and "bump" in edits[0].new_text
    items = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=where, position=lsp.Position(line=14, character=4)))
    labels = {i.label: i for i in items.items}
    assert {"vbroadcast", ".rept", "count", "top", "bump", "one"} <= set(labels)
    # (this client declares no snippet support: plain text, each item once)
    assert labels["vmuladd"].insert_text == "vmuladd "
    assert labels["vmuladd"].insert_text_format == lsp.InsertTextFormat.PlainText
    assert [i.label for i in items.items].count("vmuladd") == 1
    hints = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
        text_document=where, range=lsp.Range(start=lsp.Position(line=0, character=0),
                                             end=lsp.Position(line=20, character=0))))
    shown = {h.position.line: h.label for h in hints}
    assert shown[9] == "  bundle 1"  # const count (after part.vasm's const one)
    assert shown[6] == "  bundle 3"  # the macro body's add, expanded once
    # A screenful's request (as an editor scrolls) gets the same hints, of its lines only.
    narrow = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
        text_document=where, range=lsp.Range(start=lsp.Position(line=6, character=0),
                                             end=lsp.Position(line=9, character=0))))
    assert {h.position.line: h.label for h in narrow} == \
        {line: label for line, label in shown.items() if 6 <= line <= 9}
    assert 6 in shown and 9 in shown and len(shown) > 2


@pytest.mark.asyncio
async def test_references_rename_and_signature_help(client: LanguageClient):
    text = MAIN.read_text() + "    # count in a comment stays\n"
    open_text(client, text)
    assert await diagnostics(client) == []
    where = lsp.TextDocumentIdentifier(uri=URI)
    refs = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=where, position=lsp.Position(line=2, character=10),
        context=lsp.ReferenceContext(include_declaration=True)))
    assert sorted(r.range.start.line for r in refs) == [2, 9, 11, 12, 13]
    edit = await client.text_document_rename_async(lsp.RenameParams(
        text_document=where, position=lsp.Position(line=11, character=10), new_name="n"))
    assert len(edit.changes[URI]) == 5  # not the comment
    # a macro parameter renames within its macro, {dst} included
    edit = await client.text_document_rename_async(lsp.RenameParams(
        text_document=where, position=lsp.Position(line=5, character=12), new_name="to"))
    assert sorted((e.range.start.line, e.range.start.character) for e in edit.changes[URI]) \
        == [(5, 12), (6, 9), (6, 16)]
    change(client, text + "    vmuladd v, v, \n    bump \n", 2)
    await diagnostics(client)
    sig = await client.text_document_signature_help_async(lsp.SignatureHelpParams(
        text_document=where, position=lsp.Position(line=15, character=21)))
    assert sig.signatures[0].label.startswith("vmuladd ") and sig.active_parameter == 2
    sig = await client.text_document_signature_help_async(lsp.SignatureHelpParams(
        text_document=where, position=lsp.Position(line=16, character=9)))
    assert sig.signatures[0].label == "bump dst" and sig.active_parameter == 0


@pytest.mark.asyncio
async def test_references_and_rename_cross_includes(client: LanguageClient, tmp_path):
    part, main = tmp_path / "part.vasm", tmp_path / "main.vasm"
    part.write_text(".scratch one\n    const one, 1  # one\n")
    main_text = '.include "part.vasm"\n.scratch x\n    add x, x, one\n'
    main.write_text(main_text)

    def did_open(path: Path) -> None:
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=path.as_uri(), language_id="vasm",
                                               version=1, text=path.read_text())))

    did_open(main)
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    refs = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=lsp.TextDocumentIdentifier(uri=main.as_uri()),
        position=lsp.Position(line=2, character=15),
        context=lsp.ReferenceContext(include_declaration=True)))
    assert sorted((Path(r.uri[7:]).name, r.range.start.line) for r in refs) == [
        ("main.vasm", 2), ("part.vasm", 0), ("part.vasm", 1)]
    # From the included file, once open, the file that includes it is searched too.
    did_open(part)
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    edit = await client.text_document_rename_async(lsp.RenameParams(
        text_document=lsp.TextDocumentIdentifier(uri=part.as_uri()),
        position=lsp.Position(line=0, character=10), new_name="unit"))
    assert {Path(u[7:]).name: len(e) for u, e in edit.changes.items()} == {
        "part.vasm": 2, "main.vasm": 1}  # not the comment


@pytest.mark.asyncio
async def test_checker_warnings_the_code_lens_and_quick_typing(client: LanguageClient):
    open_text(client, ".scratch a\n.scratch b\n{ add a, a, b\n  sub a, a, b }\n")
    found = await diagnostics(client)
    assert any("the last, alu slot 1, wins" in d.message for d in found)
    assert all(d.severity == lsp.DiagnosticSeverity.Warning for d in found)
    assert {d.range.start.line for d in found} == {2, 3}
    lens = await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI)))
    assert lens[0].command.title == ("as written: 1 cycle; tight bound 1 (the longest "
                                     "dependence chain), resource floor 1 (alu), critical "
                                     "path 1")
    # Changes in quick succession are checked once, as the last one stands.
    for version, text in enumerate(["    frob\n", "    frob a\n", "    const\n"], 2):
        change(client, text, version)
    (d,) = await diagnostics(client)
    assert "'const' takes 2 operands" in d.message


@pytest.mark.asyncio
async def test_options_come_from_vasm_toml_as_for_vasm_assemble(client: LanguageClient,
                                                               tmp_path):
    src = tmp_path / "k.vasm"
    text = ".scratch a\n    const a, N\n"
    (tmp_path / "vasm.toml").write_text("[defines]\nN = 7\n")
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=src.as_uri(), language_id="vasm", version=1,
                                           text=text)))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[src.as_uri()]) == []
    (tmp_path / "vasm.toml").write_text("level = 9\n")
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(
        text_document=lsp.TextDocumentIdentifier(uri=src.as_uri())))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    (d,) = client.diagnostics[src.as_uri()]
    assert "'level' in vasm.toml is 1, 2 or 3" in d.message


@pytest.mark.asyncio
async def test_include_links_open_the_file(client: LanguageClient):
    open_text(client, MAIN.read_text())
    await diagnostics(client)
    links = await client.text_document_document_link_async(lsp.DocumentLinkParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI)))
    (link,) = links
    assert link.target == (HERE / "part.vasm").resolve().as_uri()
    assert (link.range.start.line, link.range.start.character) == (1, 10)


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-c", "from asm.cli import main; main(['lsp'])"]))
async def configured(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(), root_uri=HERE.resolve().as_uri(),
        initialization_options={"defines": {"N": 5, "bad": "x"}, "include": ["/nowhere"]}))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_initialization_options_give_defines(configured: LanguageClient, tmp_path):
    src = tmp_path / "k.vasm"
    configured.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=src.as_uri(), language_id="vasm", version=1,
                                           text=".scratch a\n    const a, N\n")))
    await configured.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(configured.diagnostics[src.as_uri()]) == []
    assert any("the rest was left out" in m.message for m in configured.log_messages)


@pytest.mark.asyncio
async def test_under_a_schedule_hints_show_the_scheduled_cycles(client: LanguageClient,
                                                               tmp_path):
    src = tmp_path / "k.vasm"
    (tmp_path / "vasm.toml").write_text("schedule = true\nlevel = 1\n")
    text = "".join(f".scratch a{i}\n" for i in range(4)) + \
        "".join(f"    const a{i}, {i}\n" for i in range(4))
    uri = src.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="vasm", version=1, text=text)))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    hints = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(start=lsp.Position(line=0, character=0),
                        end=lsp.Position(line=9, character=0))))
    # four loads, two load slots a cycle: cycles 0, 0, 1, 1
    assert [h.label for h in hints] == ["  cycle 0", "  cycle 0", "  cycle 1", "  cycle 1"]
    lens = await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert lens[0].command.title.startswith("scheduled (-O1): 2 cycles; tight bound 2 (4 load "
                                            "ops at 2 a cycle), resource floor 2 (load)")


def test_hover_prose_is_escaped_for_markdown():
    from asm.editor.lsp import hover_text
    text = hover_text(None, "vmuladd")
    assert "(mod 2\\*\\*32)" in text and text.startswith("**vmuladd** d, a, b, c")


# ------------------------------------------------------------------ what real clients showed

@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-c", "from asm.cli import main; main(['lsp'])"]))
async def snippet_client(lsp_client: LanguageClient):
    caps = lsp.ClientCapabilities(text_document=lsp.TextDocumentClientCapabilities(
        completion=lsp.CompletionClientCapabilities(
            completion_item=lsp.ClientCompletionItemOptions(
                snippet_support=True))))
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=caps, root_uri=HERE.resolve().as_uri()))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_snippets_go_only_to_clients_that_take_them(snippet_client: LanguageClient):
    open_text(snippet_client, MAIN.read_text())
    await diagnostics(snippet_client)
    items = await snippet_client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI), position=lsp.Position(line=14,
                                                                                character=4)))
    [vmuladd] = [i for i in items.items if i.label == "vmuladd"]
    assert vmuladd.insert_text.startswith("vmuladd ${1:")
    assert vmuladd.insert_text_format == lsp.InsertTextFormat.Snippet


@pytest.mark.asyncio
async def test_hover_on_a_macro_parameter_and_on_an_argument(client: LanguageClient):
    open_text(client, MAIN.read_text())
    await diagnostics(client)
    where = lsp.TextDocumentIdentifier(uri=URI)
    # `{dst}` in the body of `bump` (line 7, "    add {dst}, {dst}, one")
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=where, position=lsp.Position(line=6, character=10)))
    assert hover.contents.value.startswith("**dst**: parameter 1 of macro **bump**")
    assert "given `count` (main.vasm:12)" in hover.contents.value
    # `count` as the argument of `bump count` (line 12)
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=where, position=lsp.Position(line=11, character=10)))
    assert hover.contents.value == ("`count`: the argument for parameter **dst** of macro "
                                    "**bump**")


@pytest.mark.asyncio
async def test_the_first_code_lens_request_has_the_lens(client: LanguageClient):
    # No waiting for diagnostics first: the lens is asked for at once, as
    # VS Code does on opening a file.
    open_text(client, MAIN.read_text())
    lens = await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI)))
    assert len(lens) == 1 and lens[0].command.title.startswith("as written: ")
