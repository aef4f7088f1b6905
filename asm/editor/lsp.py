"""`vasm lsp`: a language server over stdio (pygls), so an editor knows a
kernel as the assembler does.

Diagnostics as you type (every error and warning of `vasm
assemble`, with macro and include notes as related information), hover on
mnemonics (the ISA table), scratch symbols, labels and macros, go to
definition, references and rename (across the open file, its
includes and the open files that include it), an outline (document
symbols), completion, signature help, folding, formatting (`vasm fmt`),
inlay hints with the bundle each op lands in, a code lens with the busiest
engine's floor, and links from `.include` lines. Options come from the
client's initialization options and a vasm.toml beside the file. Each document keeps a
`Reuse` (asm/stages/reuse.py) between edits, so re-checking a large kernel
redoes only what changed. Nothing is written to disk.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from .. import isa, keywords
from ..errors import AssemblyError, Location, Note, ToolchainError
from ..hints import plural
from ..project import project_options
from ..stages.assembler import Assembly, assemble_full
from ..stages.reuse import Reuse

DEBOUNCE = 0.15  # seconds of quiet before a changed document is checked
_WORD = re.compile(r"[A-Za-z_.$][A-Za-z0-9_.$]*")
# Lines that open and close a block, and {NAME} substitutions (not braces).
_BLOCK_OPEN = re.compile(r"^\s*(?:[A-Za-z_.$][\w.$]*:\s*)?(\.macro|\.rept|\.for|\.if\w*|\.pin)\b")
_BLOCK_CLOSE = re.compile(r"^\s*(\.endm|\.endr|\.endfor|\.endif|\.endpin)\b")
# `# ---------------- title` (or `# ---- title ----`): a section of the outline.
_SECTION = re.compile(r"^\s*#\s*-{4,}\s*([^-\s][^#]*?)\s*-*\s*$")
_SUBSTITUTION = re.compile(r"\{(?:@|[A-Za-z_.$][\w.$]*)\}")


@dataclass
class Document:
    """What the server knows of one open file: its last assembly, its Reuse,
    whether it is scheduled (and at which level), and the last schedule."""

    reuse: Reuse
    assembly: Assembly | None = None
    level: int | None = None  # schedule at this level (vasm.toml, client options)
    schedule: object = None  # the Schedule of `assembly`, made when first asked
    split: bool = True  # lane splitting in that schedule (vasm.toml)


class VasmServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("vasm", "0.1")
        self.documents: dict[str, Document] = {}
        # From the client's initialization options: {"defines": {NAME: int},
        # "include": [folder, ...]}; a vasm.toml beside a file adds to them.
        self.defines: dict[str, int] = {}
        self.include: tuple[str, ...] = ()
        self.level: int | None = None  # "schedule": true (and "level")


server = VasmServer()


def _position(loc: Location) -> lsp.Position:
    return lsp.Position(line=max((loc.line or 1) - 1, 0), character=max((loc.col or 1) - 1, 0))


def _range(loc: Location, width: int = 1) -> lsp.Range:
    if loc.col is None:  # a whole line (the client clips the end to the line)
        line = max((loc.line or 1) - 1, 0)
        return lsp.Range(start=lsp.Position(line=line, character=0),
                         end=lsp.Position(line=line, character=10_000))
    start = _position(loc)
    return lsp.Range(start=start, end=lsp.Position(line=start.line,
                                                    character=start.character + max(width, 1)))


def _same_file(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and os.path.abspath(a) == os.path.abspath(b)


def to_lsp(d: ToolchainError, path: str) -> lsp.Diagnostic | None:
    """One of our diagnostics as the protocol's, in the file at `path`: where
    it happened, or, for a line of an included file, at the `.include` or
    macro call in this file that brought it in."""
    loc, message = d.location, d.message
    notes = [n for n in d.notes if isinstance(n, Note)]
    elsewhere = []
    if loc is None or not _same_file(loc.file, path):
        here = next((n.location for n in notes if n.location is not None
                     and _same_file(n.location.file, path)), None)
        if here is None:
            return None
        if loc is not None:
            message = f"{loc}: {message}"
            elsewhere = [Note("the error is here", loc)]
        loc = here
    related = [lsp.DiagnosticRelatedInformation(
        location=lsp.Location(uri=_uri(n.location.file or path), range=_range(n.location)),
        message=n.message) for n in [*elsewhere, *notes] if n.location is not None]
    extra = [n if isinstance(n, str) else n.message for n in d.notes
             if isinstance(n, str) or n.location is None]
    if extra:
        message += "\n" + "\n".join(extra)
    return lsp.Diagnostic(
        range=_range(loc, d.width), message=message, source="vasm",
        severity=lsp.DiagnosticSeverity.Warning if d.severity == "warning"
        else lsp.DiagnosticSeverity.Error,
        related_information=related or None)


def _uri(path: str) -> str:
    return Path(os.path.abspath(path)).as_uri()  # (quotes spaces and the like)


def check(ls: VasmServer, uri: str) -> None:
    """Assemble the document as it stands and publish what the assembler says."""
    doc = ls.workspace.get_text_document(uri)
    state = ls.documents.setdefault(uri, Document(Reuse()))
    path = doc.path
    try:
        project = project_options(path)
    except ToolchainError as e:  # the vasm.toml beside the file is wrong: say so here
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, version=doc.version, diagnostics=[lsp.Diagnostic(
                range=_range(Location(path, 1, 1)), source="vasm",
                message=f"{e.location}: {e.message}" if e.location else e.message)]))
        return
    try:
        assembly = assemble_full(doc.source, filename=path, reuse=state.reuse,
                                 defines={**ls.defines, **project.defines},
                                 include_paths=(os.path.dirname(path), *ls.include,
                                                *project.include_paths))
    except Exception as e:  # noqa: BLE001 - a server that dies helps nobody; say so instead
        state.reuse = Reuse()
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, version=doc.version, diagnostics=[lsp.Diagnostic(
                range=_range(Location(path, 1, 1)), source="vasm",
                message=f"internal error in the assembler: {e!r}")]))
        return
    state.assembly, state.schedule = assembly, None
    state.level = (project.level or 2) if project.schedule else ls.level
    state.split = project.split
    said = list(assembly.diagnostics)
    if assembly.kernel is not None:  # and what `vasm check` says of the kernel
        from ..sched.check import check as check_kernel
        said += check_kernel(assembly.kernel)
    found = [to_lsp(d, path) for d in said]
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
        uri=uri, version=doc.version, diagnostics=[d for d in found if d is not None]))


@server.feature(lsp.INITIALIZE)
def initialize(ls: VasmServer, params: lsp.InitializeParams) -> None:
    """Take the client's options; ones of the wrong shape are left out (and
    said in the log), never a failed start."""
    options = params.initialization_options
    if not isinstance(options, dict):
        return
    defines = options.get("defines", {})
    if isinstance(defines, dict):
        ls.defines = {k: v for k, v in defines.items()
                      if isinstance(k, str) and k.isidentifier() and type(v) is int}
    include = options.get("include", [])
    if isinstance(include, list):
        ls.include = tuple(x for x in include if isinstance(x, str))
    level = options.get("level", 2)
    if options.get("schedule") is True:
        ls.level = level if type(level) is int and 1 <= level <= 3 else 2
    if ls.defines != defines or list(ls.include) != include:
        ls.window_log_message(lsp.LogMessageParams(
            type=lsp.MessageType.Warning,
            message="vasm lsp: initializationOptions are {\"defines\": {NAME: integer}, "
                    "\"include\": [folder, ...]}; the rest was left out"))


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: VasmServer, params: lsp.DidOpenTextDocumentParams) -> None:
    check(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: VasmServer, params: lsp.DidChangeTextDocumentParams) -> None:
    """Checked once typing pauses: a change that another follows within
    DEBOUNCE seconds is not assembled on its own."""
    uri, version = params.text_document.uri, params.text_document.version
    await asyncio.sleep(DEBOUNCE)
    if ls.workspace.get_text_document(uri).version == version:
        check(ls, uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: VasmServer, params: lsp.DidSaveTextDocumentParams) -> None:
    check(ls, params.text_document.uri)  # an included file may have changed on disk


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: VasmServer, params: lsp.DidCloseTextDocumentParams) -> None:
    ls.documents.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
        uri=params.text_document.uri, diagnostics=[]))


# ---------------------------------------------------------------- names


def word_at(ls: VasmServer, uri: str, position: lsp.Position) -> str | None:
    lines = ls.workspace.get_text_document(uri).lines
    if not 0 <= position.line < len(lines):
        return None
    text = lines[position.line]
    for m in _WORD.finditer(text):
        if m.start() <= position.character <= m.end():
            return m.group()
    return None


def definition_of(assembly: Assembly | None, name: str) -> tuple[str, Location] | None:
    """(what the name is, where it is defined) for a label, scratch symbol,
    macro or `.equ` name of the last assembly."""
    if assembly is None:
        return None
    module, expansion = assembly.module, assembly.expansion
    if expansion is not None and name in expansion.macros:
        return "macro", expansion.macros[name].src.loc()
    if module is not None:
        if name in module.labels:
            _, src, pos = module.labels[name]
            return "label", src.loc(pos)
        if name in module.symbols:
            s = module.symbols[name]
            return "scratch", s.src.loc(s.pos)
    if expansion is not None and name in expansion.equ_sites:
        return ".equ", expansion.equ_sites[name]
    return None


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: VasmServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    uri = params.text_document.uri
    name = word_at(ls, uri, params.position)
    state = ls.documents.get(uri)
    found = definition_of(state.assembly if state else None, name) if name else None
    if found is None:
        return None
    loc = found[1]
    path = loc.file or ls.workspace.get_text_document(uri).path
    return lsp.Location(uri=_uri(path), range=_range(loc, len(name)))


MAX_EXPANSION = 40  # lines of a macro call's expansion a hover shows


def expansion_at(assembly: Assembly, path: str, line: int) -> list[str]:
    """The lines (as substituted) that the macro calls on 1-based `line` of
    `path` became, in order, each expansion's lines once."""
    out: list[str] = []
    seen: set[int] = set()
    if assembly.module is None:
        return out
    for bundle in assembly.module.bundles:
        for o in bundle.ops:
            src = o.src
            if id(src) in seen or not any(
                    n.location is not None and n.location.line == line
                    and _same_file(n.location.file, path) for n in src.chain):
                continue
            seen.add(id(src))
            text = src.text if src.text is not None else assembly.sources.line(
                src.file, src.lineno)
            out.append((text or "").strip())
            if len(out) > MAX_EXPANSION:
                return [*out[:MAX_EXPANSION], "..."]
    return out


def _md(text: str) -> str:
    """Prose for a Markdown hover: `2**32` and `my_file` as typed, not bold or
    italic."""
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


def hover_text(assembly: Assembly | None, name: str,
               call: tuple[str, int] | None = None) -> str | None:
    """What a hover on `name` says; `call` (file, 1-based line) is where it
    stands, for a macro call's expansion."""
    op = isa.BY_MNEMONIC.get(name)
    if op is not None:
        operands = ", ".join(o.name for o in op.operands)
        return (f"**{op.mnemonic}** {operands}\n\n{_md(op.summary)}\n\n"
                f"engine `{op.engine}` ({isa.SLOT_LIMITS[op.engine]} slots a cycle); "
                f"machine op `{op.name}`")
    found = definition_of(assembly, name)
    if found is None:
        return None
    kind, loc = found
    if kind == "scratch" and assembly is not None and assembly.kernel is not None:
        for addr, (sym, length) in assembly.kernel.scratch.items():
            if sym == name:
                return (f"**{_md(name)}**: scratch {addr}" + (f"..{addr + length - 1}"
                        if length > 1 else "") + f" ({plural(length, 'word')}), "
                        f"declared at {_md(str(loc))}")
    if kind == "macro" and assembly is not None and assembly.expansion is not None:
        m = assembly.expansion.macros[name]
        body = "\n".join(line.text for line in m.body)
        text = f"**macro {name}** {', '.join(m.params)}\n\n```vasm\n{body}\n```"
        if call is not None:
            lines = expansion_at(assembly, *call)
            if lines:
                text += f"\n\nexpands here to:\n\n```vasm\n{chr(10).join(lines)}\n```"
        return text
    if kind == "label" and assembly is not None and assembly.kernel is not None:
        pc = assembly.kernel.labels.get(name)
        return (f"**{_md(name)}**: label" + (f", bundle {pc}" if pc is not None else "")
                + f" ({_md(str(loc))})")
    return f"**{_md(name)}**: {kind} ({_md(str(loc))})"


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: VasmServer, params: lsp.HoverParams) -> lsp.Hover | None:
    uri = params.text_document.uri
    name = word_at(ls, uri, params.position)
    state = ls.documents.get(uri)
    path = ls.workspace.get_text_document(uri).path
    text = hover_text(state.assembly if state else None, name,
                      (path, params.position.line + 1)) if name else None
    if text is None:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: VasmServer, params: lsp.DocumentSymbolParams
                     ) -> list[lsp.DocumentSymbol]:
    """The outline: `# ---- section` comments, each holding the macros,
    labels, scratch declarations and assembly-time names of this file that
    follow it."""
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    path = doc.path
    state = ls.documents.get(uri)
    assembly = state.assembly if state else None
    out: list[tuple[lsp.Position, lsp.DocumentSymbol]] = []

    def add(name: str, kind: lsp.SymbolKind, loc: Location, detail: str) -> None:
        if _same_file(loc.file, path):
            r = _range(loc, len(name))
            out.append((r.start, lsp.DocumentSymbol(name=name, kind=kind, range=r,
                                                    selection_range=r, detail=detail)))

    if assembly is not None and assembly.expansion is not None:
        for name, m in assembly.expansion.macros.items():
            add(name, lsp.SymbolKind.Function, m.src.loc(), "macro")
        for name, loc in assembly.expansion.equ_sites.items():
            add(name, lsp.SymbolKind.Constant, loc, "assembly-time name")
    if assembly is not None and assembly.module is not None:
        for name, (_, src, pos) in assembly.module.labels.items():
            add(name, lsp.SymbolKind.Key, src.loc(pos), "label")
        for name, sym in assembly.module.symbols.items():
            add(name, lsp.SymbolKind.Variable, sym.src.loc(sym.pos),
                f"scratch, {plural(sym.length, 'word')}")
    symbols = [d for _, d in sorted(out, key=lambda x: (x[0].line, x[0].character))]
    sections = [(i, m) for i, text in enumerate(doc.lines)
                if (m := _SECTION.match(text)) is not None]
    if not sections:
        return symbols
    top = [d for d in symbols if d.range.start.line < sections[0][0]]
    for n, (line, m) in enumerate(sections):
        last = sections[n + 1][0] - 1 if n + 1 < len(sections) else len(doc.lines) - 1
        inside = [d for d in symbols if line < d.range.start.line <= last]
        whole = lsp.Range(start=lsp.Position(line=line, character=0),
                          end=lsp.Position(line=last, character=len(doc.lines[last].rstrip("\r\n"))))
        title = lsp.Range(start=lsp.Position(line=line, character=m.start(1)),
                          end=lsp.Position(line=line, character=m.end(1)))
        top.append(lsp.DocumentSymbol(name=m.group(1), kind=lsp.SymbolKind.Namespace,
                                      range=whole, selection_range=title, detail="section",
                                      children=inside))
    return top


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: VasmServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
    """`vasm fmt`: the whole document in its canonical layout (nothing while
    a line does not parse: the diagnostics say why)."""
    doc = ls.workspace.get_text_document(params.text_document.uri)
    from ..views.fmt import format_source
    try:
        text = format_source(doc.source, filename=doc.path)
    except AssemblyError:
        return None
    if text == doc.source:
        return []
    end = lsp.Position(line=len(doc.lines), character=0)
    return [lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0), end=end),
                         new_text=text)]


@server.feature(lsp.TEXT_DOCUMENT_FOLDING_RANGE)
def folding(ls: VasmServer, params: lsp.FoldingRangeParams) -> list[lsp.FoldingRange]:
    """`.macro`, `.rept`, `.for`, `.if` and `.pin` blocks, and braces over
    several lines."""
    lines = ls.workspace.get_text_document(params.text_document.uri).lines
    out, open_at = [], []
    for i, line in enumerate(lines):
        code = _SUBSTITUTION.sub("", line.split("#", 1)[0])
        braces = code.count("{") - code.count("}")
        if _BLOCK_CLOSE.match(code) or braces < 0:
            if open_at and i > open_at[-1]:
                out.append(lsp.FoldingRange(start_line=open_at[-1], end_line=i))
            if open_at:
                open_at.pop()
        if _BLOCK_OPEN.match(code) or braces > 0:
            open_at.append(i)
    return out


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                lsp.CompletionOptions(trigger_characters=[".", "{"]))
def completion(ls: VasmServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    """Mnemonics (by engine, with their operands as a snippet), directives, and
    the scratch symbols, labels, macros and `.equ` names of the last assembly."""
    items = [lsp.CompletionItem(
        label=op.mnemonic, kind=lsp.CompletionItemKind.Function,
        detail=f"{op.engine}: {', '.join(o.name for o in op.operands)}",
        documentation=op.summary, insert_text_format=lsp.InsertTextFormat.Snippet,
        insert_text=op.mnemonic + (" " + ", ".join(
            f"${{{i}:{o.name}}}" for i, o in enumerate(op.operands, 1)) if op.operands else ""))
        for op in isa.BY_MNEMONIC.values()]
    items += [lsp.CompletionItem(label=d, kind=lsp.CompletionItemKind.Keyword)
              for d in keywords.DIRECTIVES]
    state = ls.documents.get(params.text_document.uri)
    a = state.assembly if state else None
    if a is not None and a.module is not None:
        items += [lsp.CompletionItem(label=n, kind=lsp.CompletionItemKind.Variable,
                                     detail=f"scratch, {s.length} words" if s.length > 1
                                     else "scratch") for n, s in a.module.symbols.items()]
        items += [lsp.CompletionItem(label=n, kind=lsp.CompletionItemKind.Reference,
                                     detail="label") for n in a.module.labels]
    if a is not None and a.expansion is not None:
        items += [lsp.CompletionItem(label=n, kind=lsp.CompletionItemKind.Snippet,
                                     detail=f"macro {', '.join(m.params)}")
                  for n, m in a.expansion.macros.items()]
        items += [lsp.CompletionItem(label=n, kind=lsp.CompletionItemKind.Constant,
                                     detail=".equ") for n in a.expansion.equ_sites]
    return lsp.CompletionList(is_incomplete=False, items=items)


def scheduled(state: Document | None):
    """The document's kernel as the scheduler packs it, when it is scheduled
    (made once per assembly, when first asked)."""
    if state is None or state.level is None or state.assembly is None \
            or state.assembly.kernel is None:
        return None
    if state.schedule is None:
        from ..sched.schedule import schedule
        state.schedule = schedule(state.assembly, level=state.level, split=state.split)
    return state.schedule


@server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT)
def inlay_hints(ls: VasmServer, params: lsp.InlayHintParams) -> list[lsp.InlayHint]:
    """At the end of each line with code, the bundles (cycles, in straight-line
    code) its ops land in; under a schedule, the cycles the scheduler gave them."""
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    state = ls.documents.get(uri)
    kernel = state.assembly.kernel if state and state.assembly else None
    packed = scheduled(state)
    word = "bundle"
    if packed is not None:
        kernel, word = packed.kernel, "cycle"
    if kernel is None:
        return []
    first, last = params.range.start.line + 1, params.range.end.line + 1
    pcs: dict[int, list[int]] = {}
    for pc in range(len(kernel.program)):
        for where in set(kernel.op_sources(pc)) or {kernel.source_of(pc)}:
            loc = Location.parse(where) if where else None
            if loc and loc.line and first <= loc.line <= last and _same_file(loc.file, doc.path):
                pcs.setdefault(loc.line, []).append(pc)
    out = []
    for line, found in sorted(pcs.items()):
        text = doc.lines[line - 1].rstrip("\r\n") if line - 1 < len(doc.lines) else ""
        shown = ", ".join(map(str, found[:4])) + (f", ... ({len(found)} bundles)"
                                                   if len(found) > 4 else "")
        out.append(lsp.InlayHint(position=lsp.Position(line=line - 1, character=len(text)),
                                 label=f"  {word} {shown}", kind=lsp.InlayHintKind.Type,
                                 padding_left=True))
    return out


# ---------------------------------------------------------------- occurrences


def _code(line: str) -> str:
    """A line with its comment and strings blanked (same length, same columns)."""
    out, in_string = [], False
    for ch in line:
        if in_string:
            out.append(" ")
            in_string = ch != '"'
        elif ch == '"':
            out.append(" ")
            in_string = True
        elif ch == "#":
            break
        else:
            out.append(ch)
    return "".join(out).ljust(len(line))


def _macro_around(assembly: Assembly | None, path: str, line: int):
    """The macro whose definition holds 0-based `line` of `path`, if any."""
    if assembly is None or assembly.expansion is None:
        return None
    for m in assembly.expansion.macros.values():
        if _same_file(m.src.file, path) and m.body:
            first, last = m.src.lineno - 1, m.body[-1].src.lineno
            if first <= line <= last:
                return m
    return None


def _assemblies_over(ls: VasmServer, path: str) -> list[Assembly]:
    """The open documents' last assemblies that read `path`: its own, and
    those of every open file that includes it."""
    out = []
    for state in ls.documents.values():
        a = state.assembly
        if a is not None and any(_same_file(f, path) for f in a.sources.texts):
            out.append(a)
    return out


def _file_lines(ls: VasmServer, path: str, assemblies: list[Assembly]) -> list[str] | None:
    """The lines of `path` as the editor holds them (open) or as last read."""
    uri = _uri(path)
    if uri in ls.documents:
        return ls.workspace.get_text_document(uri).lines
    for a in assemblies:
        for f, text in a.sources.texts.items():
            if _same_file(f, path):
                return text.split("\n")
    return None


def occurrences(ls: VasmServer, uri: str, position: lsp.Position
                ) -> tuple[str, dict[str, list[lsp.Range]]]:
    """(the name at `position`, {uri: every place it stands}): a macro
    parameter within its macro (as `{name}` too); any other name of the
    assembly outside comments and strings, in this file, the files it
    includes, and the open files that include it."""
    name = word_at(ls, uri, position)
    if name is None:
        return "", {}
    doc = ls.workspace.get_text_document(uri)
    assemblies = _assemblies_over(ls, doc.path)
    state = ls.documents.get(uri)
    own = state.assembly if state else None
    m = _macro_around(own, doc.path, position.line)
    if m is not None and name in m.params:
        files = {uri: (doc.lines, range(m.src.lineno - 1, m.body[-1].src.lineno + 1))}
    elif not any(definition_of(a, name) is not None for a in assemblies):
        return name, {}
    else:
        files = {}
        for a in assemblies:
            for path in a.sources.texts:
                lines = _file_lines(ls, path, assemblies)
                if lines is not None and _uri(path) not in files:
                    files[_uri(path)] = (lines, range(len(lines)))
        files.setdefault(uri, (doc.lines, range(len(doc.lines))))
    pattern = re.compile(rf"(?<![\w.$]){re.escape(name)}(?![\w.$])")
    out: dict[str, list[lsp.Range]] = {}
    for file_uri, (lines, numbers) in files.items():
        for i in numbers:
            for found in pattern.finditer(_code(lines[i])):
                out.setdefault(file_uri, []).append(lsp.Range(
                    start=lsp.Position(line=i, character=found.start()),
                    end=lsp.Position(line=i, character=found.end())))
    return name, out


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def references(ls: VasmServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    found = occurrences(ls, params.text_document.uri, params.position)[1]
    return [lsp.Location(uri=u, range=r) for u, ranges in found.items() for r in ranges]


@server.feature(lsp.TEXT_DOCUMENT_RENAME)
def rename(ls: VasmServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
    if not re.fullmatch(r"[A-Za-z_][\w$]*", params.new_name):
        raise ValueError(f"'{params.new_name}' is not a name")
    found = occurrences(ls, params.text_document.uri, params.position)[1]
    if not found:
        return None
    return lsp.WorkspaceEdit(changes={u: [lsp.TextEdit(range=r, new_text=params.new_name)
                                          for r in ranges] for u, ranges in found.items()})


@server.feature(lsp.TEXT_DOCUMENT_SIGNATURE_HELP,
                lsp.SignatureHelpOptions(trigger_characters=[" ", ","]))
def signature_help(ls: VasmServer, params: lsp.SignatureHelpParams) -> lsp.SignatureHelp | None:
    """The operands of the op (or the parameters of the macro) being written,
    the one under the cursor active."""
    uri = params.text_document.uri
    lines = ls.workspace.get_text_document(uri).lines
    if not 0 <= params.position.line < len(lines):
        return None
    before = _code(lines[params.position.line])[:params.position.character]
    before = before.rsplit("{", 1)[-1] if before.count("{") > before.count("}") else before
    before = re.sub(r"^\s*[A-Za-z_.$][\w.$]*:", "", before)
    m = re.match(r"\s*([A-Za-z_.$][\w.$]*)\s+(.*)$", before)
    if m is None:
        return None
    op = isa.BY_MNEMONIC.get(m.group(1))
    state = ls.documents.get(uri)
    a = state.assembly if state else None
    if op is not None:
        label = f"{op.mnemonic} {', '.join(o.name for o in op.operands)}"
        names, doc = [o.name for o in op.operands], op.summary
    elif a is not None and a.expansion is not None and m.group(1) in a.expansion.macros:
        macro = a.expansion.macros[m.group(1)]
        label = f"{macro.name} {', '.join(macro.params)}"
        names, doc = macro.params, f"macro at {macro.src.loc()}"
    else:
        return None
    return lsp.SignatureHelp(
        signatures=[lsp.SignatureInformation(
            label=label, documentation=doc,
            parameters=[lsp.ParameterInformation(label=n) for n in names])],
        active_signature=0, active_parameter=min(m.group(2).count(","), max(len(names) - 1, 0)))


@server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: VasmServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
    """At the top of the file: its cycles and bounds, as `--report` and `vemu
    stats` name them (asm/sched/bounds.py), of the program as the scheduler
    packs it when it is scheduled, else as written; the lens says which."""
    from ..sched.bounds import program_bounds
    state = ls.documents.get(params.text_document.uri)
    kernel = state.assembly.kernel if state and state.assembly else None
    if kernel is None or not kernel.program:
        return []
    packed = scheduled(state)
    if packed is not None:
        text = (f"scheduled (-O{packed.level}): {plural(packed.after, 'cycle')}; "
                f"{packed.bounds.describe()}")
    else:
        cycles = sum(kernel.cycle_cost)
        text = f"as written: {plural(cycles, 'cycle')}; {program_bounds(kernel).describe()}"
    r = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0))
    return [lsp.CodeLens(range=r, command=lsp.Command(title=text, command=""))]


_INCLUDE = re.compile(r'^\s*\.include\s+"([^"]*)"')


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_LINK)
def document_links(ls: VasmServer, params: lsp.DocumentLinkParams) -> list[lsp.DocumentLink]:
    """`.include "file"` opens the file it names, found as the assembler finds it."""
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    state = ls.documents.get(uri)
    read = state.assembly.sources if state and state.assembly else None
    out = []
    for i, line in enumerate(doc.lines):
        m = _INCLUDE.match(line)
        if m is None:
            continue
        name = m.group(1)
        candidates = [os.path.join(os.path.dirname(doc.path), name),
                      *(os.path.join(d, name) for d in ls.include)]
        found = next((c for c in candidates if os.path.isfile(c)), None)
        if found is None and read is not None:
            found = next((f for f in read.texts if f and f.endswith("/" + name)), None)
        if found is not None:
            out.append(lsp.DocumentLink(
                range=lsp.Range(start=lsp.Position(line=i, character=m.start(1)),
                                end=lsp.Position(line=i, character=m.end(1))),
                target=_uri(found)))
    return out


def serve() -> None:
    """Serve over stdin and stdout until the client says exit."""
    server.start_io()
