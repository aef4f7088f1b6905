"""`vasm assemble --listing`: every bundle with its encoded slots and the source
line of each op, and the macro calls and includes that produced it."""

from __future__ import annotations

from ..diagnostics import printable
from ..errors import Location, Note
from ..jsonread import to_json
from ..stages.assembler import Assembly
from ..suggestions import plural


def make_listing(result: Assembly) -> str:
    kernel, module, sources = result.kernel, result.module, result.sources
    assert kernel is not None
    out = [f"# vasm listing: {plural(len(kernel.program), 'bundle')}",
           f"# {'pc':>6}  {'engine':<6} {'slot':<34} source"]
    if module is None or len(module.bundles) != len(kernel.program):
        return _scheduled(result, out)
    for pc, (b, bundle) in enumerate(zip(module.bundles, kernel.program, strict=True)):
        taken = {engine: 0 for engine in bundle}
        first = True
        for o in b.ops:
            engine = o.op.engine
            slot = bundle[engine][taken[engine]]
            taken[engine] += 1
            src = o.src
            text = src.text if src.text is not None else sources.line(src.file, src.lineno)
            where = f"{src.where:<20} {(text or '').strip()}"
            chain = "".join(f"  [{_short(n)}]" for n in src.chain)
            encoded = to_json(list(slot))
            out.append(f"{pc if first else '':>8}  {engine:<6} {encoded:<34} {where}{chain}")
            first = False
        for engine, slots in bundle.items():
            if not slots:
                out.append(f"{pc if first else '':>8}  {engine:<6} {'(no slots)':<34} "
                           f"{b.src.where}")
                first = False
        if first:
            out.append(f"{pc:>8}  {'':<6} {'{}':<34} {b.src.where}")
    return printable("\n".join(out)) + "\n"


def _scheduled(result: Assembly, out: list[str]) -> str:
    """A scheduled kernel no longer follows the IR bundle for bundle: list its
    slots, each with its own source line from the kernel's source map."""
    kernel, sources = result.kernel, result.sources

    def line_of(where: str | None) -> str:
        if where is None:
            return ""
        loc = Location.parse(where)
        text = (sources.line(loc.file, loc.line) or "").strip() if loc.line else ""
        return f"{where:<20} {text}"

    for pc, bundle in enumerate(kernel.program):
        ops = iter(kernel.op_sources(pc))
        first = True
        for engine, slots in bundle.items():
            for slot in slots or [None]:
                if slot is None:
                    encoded, shown = "(no slots)", line_of(kernel.source_of(pc))
                else:
                    encoded = to_json(list(slot))
                    shown = line_of(next(ops))
                out.append(f"{pc if first else '':>8}  {engine:<6} {encoded:<34} {shown}")
                first = False
        if first:
            out.append(f"{pc:>8}  {'':<6} {'{}':<34} {kernel.source_of(pc) or ''}")
    return printable("\n".join(out)) + "\n"


def _short(note: Note) -> str:
    return f"{note.message} at {note.location}" if note.location else note.message
