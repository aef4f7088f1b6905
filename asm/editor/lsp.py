"""`vasm lsp`: a language server over stdio (pygls), so an editor knows a
kernel as the assembler does.

Diagnostics as you type (every error and warning of `vasm
assemble`, with macro and include notes as related information), hover on
mnemonics (the ISA table), scratch symbols, labels and macros, go to
definition, references and rename (across the open file, its
includes and the open files that include it), an outline (document
symbols), completion, signature help, folding, formatting (`vasm fmt`),
inlay hints with the bundle each op lands in, a code lens with the cycles
and bounds, and links from `.include` lines. Options come from the client's
initialization options and a vasm.toml beside the file. Each document keeps
a `Reuse` (asm/stages/reuse.py) between edits, so re-checking a large kernel
redoes only what changed. Nothing is written to disk.

Nothing long runs on the request loop: a document is assembled and checked
in a thread (a newer version's check replaces an older one's before it
starts), and scheduled, for the views that show the schedule, in a worker
process (asm/editor/background.py); the views answer from what is ready and
the client is asked to refresh them when more is. asm/editor/wire.py makes
every request get exactly one response.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from .. import isa, keywords
from ..errors import AssemblyError, Location, Note, ToolchainError
from ..kernel import Kernel
from ..project import project_options
from ..stages.assembler import Assembly, assemble_full
from ..stages.reuse import Reuse
from ..suggestions import plural
from .background import Jobs, Views, compute_views
from .wire import GuardedInput, GuardedProtocol

DEBOUNCE = 0.15  # seconds of quiet before a changed document is checked
# A view that needs what a check or a schedule will bring waits this long for
# it, then answers with what there is (and the client is asked to refresh).
VIEW_WAIT = 1.5  # seconds, at most, for a document's first check and then its views
# Documents with more ops than this are scheduled for their views at the
# quick level (-O1); settable as the initialization option "scheduleOpLimit".
SCHEDULE_OP_LIMIT = 50_000
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
    whether it is scheduled (and at which level), and the views of the last
    assembly the background job finished."""

    reuse: Reuse
    assembly: Assembly | None = None
    level: int | None = None  # schedule at this level (vasm.toml, client options)
    split: bool = True  # lane splitting in that schedule (vasm.toml)
    views: Views | None = None  # of `views_for`
    views_for: Assembly | None = None
    views_note: str | None = None  # why the views are at another level, or off
    checked: asyncio.Event = field(default_factory=asyncio.Event)  # a first check is done
    viewed: asyncio.Event = field(default_factory=asyncio.Event)  # the views are current
    checking: int | None = None  # the version a check is under way for
    # (a kernel, {line: its bundles}) for the inlay hints (_bundles_by_line)
    bundles_by_line: tuple[Kernel, dict[int, list[int]]] | None = None


class VasmServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("vasm", "0.1", protocol_cls=GuardedProtocol)
        self.documents: dict[str, Document] = {}
        # From the client's initialization options: {"defines": {NAME: int},
        # "include": [folder, ...]}; a vasm.toml beside a file adds to them.
        self.defines: dict[str, int] = {}
        self.include: tuple[str, ...] = ()
        self.level: int | None = None  # "schedule": true (and "level")
        self.schedule_limit = SCHEDULE_OP_LIMIT
        self.snippets = False  # the client takes snippets in completions
        self.assembler = ThreadPoolExecutor(1, thread_name_prefix="vasm-check")
        self.jobs = Jobs()


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


@dataclass
class _Checked:
    """A check's outcome, made in the assembler's thread."""

    version: int
    assembly: Assembly | None
    diagnostics: list[lsp.Diagnostic]
    level: int | None
    split: bool


async def check(ls: VasmServer, uri: str) -> None:
    """Assemble the document as it stands (in the assembler's thread) and
    publish what the assembler and `vasm check` say; then start the
    background job for its views. A check for a version the editor has
    already moved past is dropped (the newer one follows)."""
    doc = ls.workspace.get_text_document(uri)
    state = ls.documents.setdefault(uri, Document(Reuse()))
    version = doc.version
    state.checking = version
    loop = asyncio.get_running_loop()
    done = await loop.run_in_executor(ls.assembler, _check, ls, uri, state, version)
    if done is None or ls.documents.get(uri) is not state:
        return  # stale, or closed meanwhile
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
        uri=uri, version=done.version, diagnostics=done.diagnostics))
    if done.assembly is None:  # (a bad vasm.toml: nothing assembled)
        state.checked.set()
        return
    state.assembly, state.level, state.split = done.assembly, done.level, done.split
    state.bundles_by_line = None  # (of a kernel gone, or soon to go)
    state.checked.set()
    start_views(ls, uri, state)


def _check(ls: VasmServer, uri: str, state: Document, version: int) -> _Checked | None:
    """In the assembler's thread: assemble and check the document's text of
    `version`, or nothing if it is no longer the latest."""
    doc = ls.workspace.get_text_document(uri)
    if doc.version != version or state.checking != version:
        return None
    path, source = doc.path, doc.source
    try:
        project = project_options(path)
    except ToolchainError as e:  # the vasm.toml beside the file is wrong: say so here
        return _Checked(version, None, [lsp.Diagnostic(
            range=_range(Location(path, 1, 1)), source="vasm",
            message=f"{e.location}: {e.message}" if e.location else e.message)], None, True)
    try:
        assembly = assemble_full(source, filename=path, reuse=state.reuse,
                                 defines={**ls.defines, **project.defines},
                                 include_paths=(os.path.dirname(path), *ls.include,
                                                *project.include_paths))
    except Exception as e:  # noqa: BLE001 - a server that dies helps nobody; say so instead
        state.reuse = Reuse()
        return _Checked(version, None, [lsp.Diagnostic(
            range=_range(Location(path, 1, 1)), source="vasm",
            message=f"internal error in the assembler: {e!r}")], None, True)
    said = list(assembly.diagnostics)
    if assembly.kernel is not None:  # and what `vasm check` says of the kernel
        from ..views.lint import lint
        said += lint(assembly.kernel)
    found = [to_lsp(d, path) for d in said]
    level = (project.level or 2) if project.schedule else ls.level
    return _Checked(version, assembly, [d for d in found if d is not None], level,
                    project.split)


def start_views(ls: VasmServer, uri: str, state: Document) -> None:
    """The background job for the views of the document's assembly: its
    schedule when it is scheduled (at -O1 past the server's op limit), else
    its bounds as written. When it ends the client is asked to refresh."""
    assembly = state.assembly
    kernel = assembly.kernel if assembly is not None else None
    state.viewed.clear()
    state.views_note = None
    if kernel is None:
        ls.jobs.cancel(uri)
        return
    level = state.level
    ops = sum(len(s) for bundle in kernel.program for e, s in bundle.items()
              if e not in isa.FREE_ENGINES)
    if level is not None and level > 1 and ops > ls.schedule_limit:
        state.views_note = (f"at -O1: {ops:,} ops is over the server's scheduleOpLimit "
                            f"({ls.schedule_limit:,})")
        level = 1
    loop = asyncio.get_running_loop()

    def done(status: str, value) -> None:  # (in the job's waiting thread)
        # (a closed loop: the server is exiting, and nobody is to be told)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_views_done, ls, uri, state, assembly, status, value)

    ls.jobs.start(uri, compute_views, (kernel, level, state.split), done)


def _views_done(ls: VasmServer, uri: str, state: Document, assembly: Assembly,
                status: str, value) -> None:
    if status == "cancelled" or ls.documents.get(uri) is not state \
            or state.assembly is not assembly:
        return
    if status == "error":
        ls.window_log_message(lsp.LogMessageParams(
            type=lsp.MessageType.Error, message=f"vasm lsp: scheduling {uri} failed: {value}"))
        state.views_note = f"scheduling failed: {value}"
        value = None
    state.views, state.views_for = value, assembly
    state.viewed.set()
    _refresh(ls)


def release_memory() -> None:
    """After a document is closed: collect what it held and give the freed
    memory back to the system (a large file's assembly is hundreds of
    megabytes of small objects, which the allocator would otherwise keep)."""
    import gc
    gc.collect()
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory stays for reuse
        pass


def _refresh(ls: VasmServer) -> None:
    """Ask the client to ask again for its inlay hints and code lenses, where
    it says it can be asked."""
    workspace = ls.client_capabilities.workspace
    if workspace is None:
        return
    if workspace.inlay_hint is not None and workspace.inlay_hint.refresh_support:
        ls.workspace_inlay_hint_refresh(None)
    if workspace.code_lens is not None and workspace.code_lens.refresh_support:
        ls.workspace_code_lens_refresh(None)


async def settled(ls: VasmServer, uri: str, views: bool = False) -> Document | None:
    """The document's state once its first check is done, and with `views`,
    once its views are current, waiting VIEW_WAIT at most in all: a view
    then answers with what there is (and the client is asked to refresh it
    when more is ready)."""
    state = ls.documents.get(uri)
    if state is None:
        return None
    deadline = asyncio.get_running_loop().time() + VIEW_WAIT
    waits = [state.checked] + ([state.viewed] if views else [])
    for event in waits:
        left = deadline - asyncio.get_running_loop().time()
        if event.is_set():
            continue
        try:
            await asyncio.wait_for(event.wait(), max(0.0, left))
        except TimeoutError:
            break
    return state


@server.feature(lsp.INITIALIZE)
def initialize(ls: VasmServer, params: lsp.InitializeParams) -> None:
    """Take the client's options; ones of the wrong shape are left out (and
    said in the log), never a failed start."""
    ls.jobs.warm()  # (the first schedule then starts at once)
    text = params.capabilities.text_document
    completion_caps = text.completion if text is not None else None
    item = completion_caps.completion_item if completion_caps is not None else None
    ls.snippets = bool(item is not None and item.snippet_support)
    options = params.initialization_options
    if not isinstance(options, dict):
        return
    limit = options.get("scheduleOpLimit")
    if type(limit) is int and limit >= 0:
        ls.schedule_limit = limit
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
                    "\"include\": [folder, ...], \"schedule\": true, \"level\": 1-3, "
                    "\"scheduleOpLimit\": ops}; the rest was left out"))


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: VasmServer, params: lsp.DidOpenTextDocumentParams) -> None:
    await check(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: VasmServer, params: lsp.DidChangeTextDocumentParams) -> None:
    """Checked once typing pauses: a change that another follows within
    DEBOUNCE seconds is not assembled on its own."""
    uri, version = params.text_document.uri, params.text_document.version
    await asyncio.sleep(DEBOUNCE)
    if ls.workspace.get_text_document(uri).version == version:
        await check(ls, uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: VasmServer, params: lsp.DidSaveTextDocumentParams) -> None:
    await check(ls, params.text_document.uri)  # an included file may have changed on disk


@server.feature(lsp.SHUTDOWN)
def shutdown(ls: VasmServer, params: None) -> None:
    """Stop the background work: no views are asked for after this, and the
    exit that follows should not wait for them."""
    ls.jobs.close()


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: VasmServer, params: lsp.DidCloseTextDocumentParams) -> None:
    ls.documents.pop(params.text_document.uri, None)
    ls.jobs.cancel(params.text_document.uri)
    ls.assembler.submit(release_memory)
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
async def definition(ls: VasmServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    uri = params.text_document.uri
    name = word_at(ls, uri, params.position)
    state = await settled(ls, uri)
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


def parameter_text(assembly: Assembly | None, path: str, lines: list[str],
                   position: lsp.Position, name: str) -> str | None:
    """A hover on a macro's parameter in its body (`{G}`): which parameter it
    is, and the arguments its calls gave it; on an argument at a call: which
    parameter it is given to."""
    if assembly is None or assembly.expansion is None:
        return None
    macros = assembly.expansion.macros
    m = _macro_around(assembly, path, position.line)
    if m is not None and name in m.params:
        i = m.params.index(name)
        text = f"**{_md(name)}**: parameter {i + 1} of macro **{_md(m.name)}**"
        given = _arguments_given(assembly, m.name, i)
        if given:
            text += "\n\ngiven " + ", ".join(f"`{a}` ({_md(w)})" for w, a in given[:3])
            if len(given) > 3:
                text += f" and at {len(given) - 3} more calls"
        return text
    call = _call_at(lines[position.line], position.character, macros)
    if call is not None:
        macro, index, argument = call
        params = macros[macro].params
        if index < len(params):
            return (f"`{argument}`: the argument for parameter **{_md(params[index])}** of "
                    f"macro **{_md(macro)}**")
    return None


_ARGUMENT_SPLIT = re.compile(r",(?![^()\[\]]*[)\]])")  # commas outside parentheses


def _call_at(line: str, character: int, macros) -> tuple[str, int, str] | None:
    """(macro, argument index, argument text) when `character` of `line` is in
    the arguments of a call of one of `macros`."""
    code = _code(line)
    m = re.match(r"\s*(?:[A-Za-z_.$][\w.$]*:\s*)?([A-Za-z_.$][\w.$]*)\s+", code)
    if m is None or m.group(1) not in macros or character < m.end():
        return None
    start = m.end()
    for index, part in enumerate(_ARGUMENT_SPLIT.split(code[start:])):
        end = start + len(part)
        if start <= character <= end:
            return m.group(1), index, part.strip()
        start = end + 1
    return None


def _arguments_given(assembly: Assembly, macro: str, index: int) -> list[tuple[str, str]]:
    """('file:line', argument) of each call of `macro`, for parameter `index`."""
    out, seen = [], set()
    note = f"in expansion of macro '{macro}'"
    for bundle in assembly.module.bundles if assembly.module is not None else ():
        for o in bundle.ops:
            for n in o.src.chain:
                loc = n.location
                if n.message != note or loc is None or (loc.file, loc.line) in seen:
                    continue
                seen.add((loc.file, loc.line))
                code = _code(assembly.sources.line(loc.file, loc.line) or "")
                after = code[(loc.col or 1) - 1 + len(macro):]
                parts = _ARGUMENT_SPLIT.split(after)
                if index < len(parts) and after.strip():
                    where = f"{os.path.basename(loc.file or '<input>')}:{loc.line}"
                    out.append((where, parts[index].strip()))
    return out


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
async def hover(ls: VasmServer, params: lsp.HoverParams) -> lsp.Hover | None:
    uri = params.text_document.uri
    name = word_at(ls, uri, params.position)
    state = await settled(ls, uri)
    doc = ls.workspace.get_text_document(uri)
    path = doc.path
    assembly = state.assembly if state else None
    text = None
    if name:
        text = parameter_text(assembly, path, doc.lines, params.position, name) \
            or hover_text(assembly, name, (path, params.position.line + 1))
    if text is None:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def document_symbols(ls: VasmServer, params: lsp.DocumentSymbolParams
                           ) -> list[lsp.DocumentSymbol]:
    """The outline: `# ---- section` comments, each holding the macros,
    labels, scratch declarations and assembly-time names of this file that
    follow it."""
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    path = doc.path
    state = await settled(ls, uri)
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
    lines = doc.lines  # (made anew from the text on every use)
    sections = [(i, m) for i, text in enumerate(lines)
                if (m := _SECTION.match(text)) is not None]
    if not sections:
        return symbols
    top = [d for d in symbols if d.range.start.line < sections[0][0]]
    for n, (line, m) in enumerate(sections):
        last = sections[n + 1][0] - 1 if n + 1 < len(sections) else len(lines) - 1
        inside = [d for d in symbols if line < d.range.start.line <= last]
        whole = lsp.Range(start=lsp.Position(line=line, character=0),
                          end=lsp.Position(line=last, character=len(lines[last].rstrip("\r\n"))))
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
async def completion(ls: VasmServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    """Mnemonics (by engine, with their operands as a snippet for a client
    that takes snippets; the mnemonic alone for one that does not),
    directives, and the scratch symbols, labels, macros and `.equ` names of
    the last assembly. Each once."""
    ops = {op.mnemonic: op for op in isa.OPS}  # (a mnemonic's alias is not another item)
    items = [lsp.CompletionItem(
        label=op.mnemonic, kind=lsp.CompletionItemKind.Function,
        detail=f"{op.engine}: {', '.join(o.name for o in op.operands)}",
        documentation=op.summary, **_insert(op, ls.snippets)) for op in ops.values()]
    items += [lsp.CompletionItem(label=d, kind=lsp.CompletionItemKind.Keyword)
              for d in keywords.DIRECTIVES]
    state = await settled(ls, params.text_document.uri)
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
    unique = {}
    for item in items:
        unique.setdefault(item.label, item)
    return lsp.CompletionList(is_incomplete=False, items=list(unique.values()))


def _insert(op: isa.Op, snippets: bool) -> dict:
    """How completing `op` inserts it: its operands as snippet placeholders,
    or plain text (its name and a space) for a client without snippets."""
    if not snippets:
        return {"insert_text_format": lsp.InsertTextFormat.PlainText,
                "insert_text": op.mnemonic + (" " if op.operands else "")}
    return {"insert_text_format": lsp.InsertTextFormat.Snippet,
            "insert_text": op.mnemonic + (" " + ", ".join(
                f"${{{i}:{o.name}}}" for i, o in enumerate(op.operands, 1))
                if op.operands else "")}


def current_views(state: Document | None) -> Views | None:
    """The views of the document's last assembly, when its job has finished."""
    if state is None or state.views_for is None or state.views_for is not state.assembly:
        return None
    return state.views


def _bundles_by_line(state: Document, kernel: Kernel, path: str) -> dict[int, list[int]]:
    """{line of `path`: the bundles its ops land in}, worked out once per
    kernel: an editor asks for the hints of the lines in view on every
    scroll, and the walk is over the whole program."""
    if state.bundles_by_line is not None and state.bundles_by_line[0] is kernel:
        return state.bundles_by_line[1]
    pcs: dict[int, list[int]] = {}
    for pc in range(len(kernel.program)):
        for where in set(kernel.op_sources(pc)) or {kernel.source_of(pc)}:
            loc = Location.parse(where) if where else None
            if loc and loc.line and _same_file(loc.file, path):
                pcs.setdefault(loc.line, []).append(pc)
    state.bundles_by_line = (kernel, pcs)
    return pcs


@server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT)
async def inlay_hints(ls: VasmServer, params: lsp.InlayHintParams) -> list[lsp.InlayHint]:
    """At the end of each line with code, the bundles (cycles, in straight-line
    code) its ops land in; under a schedule, the cycles the scheduler gave
    them (while it works: the bundles as written, marked so)."""
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    state = await settled(ls, uri, views=True)
    kernel = state.assembly.kernel if state and state.assembly else None
    word, mark = "bundle", ""
    if kernel is not None and state.level is not None:
        views = current_views(state)
        if views is not None and views.kernel is not None:
            kernel, word = views.kernel, "cycle"
        else:
            mark = " (as written)"
    if kernel is None:
        return []
    first, last = params.range.start.line + 1, params.range.end.line + 1
    pcs = _bundles_by_line(state, kernel, doc.path)
    lines = doc.lines  # (made anew from the text on every use)
    out = []
    for line in sorted(n for n in pcs if first <= n <= last):
        found = pcs[line]
        text = lines[line - 1].rstrip("\r\n") if line - 1 < len(lines) else ""
        shown = ", ".join(map(str, found[:4])) + (f", ... ({len(found)} bundles)"
                                                   if len(found) > 4 else "")
        out.append(lsp.InlayHint(position=lsp.Position(line=line - 1, character=len(text)),
                                 label=f"  {word} {shown}{mark}", kind=lsp.InlayHintKind.Type,
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
        own_lines = doc.lines
        files.setdefault(uri, (own_lines, range(len(own_lines))))
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
async def references(ls: VasmServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    await settled(ls, params.text_document.uri)
    found = occurrences(ls, params.text_document.uri, params.position)[1]
    return [lsp.Location(uri=u, range=r) for u, ranges in found.items() for r in ranges]


@server.feature(lsp.TEXT_DOCUMENT_RENAME)
async def rename(ls: VasmServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
    if not re.fullmatch(r"[A-Za-z_][\w$]*", params.new_name):
        raise JsonRpcInvalidParams(f"'{params.new_name}' is not a name")
    await settled(ls, params.text_document.uri)
    found = occurrences(ls, params.text_document.uri, params.position)[1]
    if not found:
        return None
    return lsp.WorkspaceEdit(changes={u: [lsp.TextEdit(range=r, new_text=params.new_name)
                                          for r in ranges] for u, ranges in found.items()})


@server.feature(lsp.TEXT_DOCUMENT_SIGNATURE_HELP,
                lsp.SignatureHelpOptions(trigger_characters=[" ", ","]))
async def signature_help(ls: VasmServer, params: lsp.SignatureHelpParams
                         ) -> lsp.SignatureHelp | None:
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
    state = await settled(ls, uri)
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
async def code_lens(ls: VasmServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
    """At the top of the file: its cycles and bounds, as `--report` and `vemu
    stats` name them (asm/sched/bounds.py), of the program as the scheduler
    packs it when it is scheduled, else as written; the lens says which, and
    while the background job works, that it does."""
    state = await settled(ls, params.text_document.uri, views=True)
    kernel = state.assembly.kernel if state and state.assembly else None
    if kernel is None or not kernel.program:
        return []
    views = current_views(state)
    written = f"as written: {plural(sum(kernel.cycle_cost), 'cycle')}"
    if views is not None and views.level is not None:
        text = f"scheduled (-O{views.level}): {plural(views.cycles, 'cycle')}; " \
               f"{views.bounds.describe()}"
    elif views is not None:
        text = f"{written}; {views.bounds.describe()}"
    elif state.level is not None:
        text = f"{written}; scheduling (-O{state.level})..."
    else:
        text = f"{written}; working out the bounds..."
    if state.views_note:
        text += f" ({state.views_note})"
    r = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0))
    return [lsp.CodeLens(range=r, command=lsp.Command(title=text, command=""))]


_INCLUDE = re.compile(r'^\s*\.include\s+"([^"]*)"')


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_LINK)
async def document_links(ls: VasmServer, params: lsp.DocumentLinkParams
                         ) -> list[lsp.DocumentLink]:
    """`.include "file"` opens the file it names, found as the assembler finds it."""
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    state = await settled(ls, uri)
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


def serve() -> int:
    """Serve over stdin and stdout until the client says exit (or input
    ends); the exit status: 0, or 2 when a message over the size limit
    ended the stream (asm/editor/wire.py)."""
    stdin = GuardedInput(sys.stdin.buffer)
    try:
        server.start_io(stdin=stdin)
    finally:
        server.jobs.close()
        server.assembler.shutdown(wait=False, cancel_futures=True)
    return 2 if stdin.refused is not None else 0
