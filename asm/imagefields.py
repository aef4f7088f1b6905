"""A kernel image's header and its fields besides the program (scratch map,
labels, source maps, scheduling level, renamed words, hints), each checked
and normalized as a Kernel (asm/kernel.py) takes it.

A module of its own, light to import, because the quick `vemu run`
(emu/launch.py) checks an image's fields with it before it runs the program
on the compiled core, which checks the slots: no dataclasses and no ISA
table here (the machine's description and scratch size are arguments), and
the loader's error class (asm/errors.py) and its quoting of values
(asm/jsonread.py) are imported only to say what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping

FORMAT = "vliw-kernel"
VERSION = 1


def _kernel_error(message: str) -> Exception:
    from .errors import KernelError
    return KernelError(message)


def _describe(x: object) -> str:
    from .jsonread import describe
    return describe(x)


def _count(x: object) -> str:
    return str(len(x)) if isinstance(x, list) else "no"


def check_header(data: dict, machine: dict) -> None:
    """A kernel image's format, version and machine (`machine`: this one's
    description); raises KernelError."""
    if data["format"] != FORMAT:
        raise _kernel_error(f"format {_describe(data['format'])} is not {FORMAT!r}")
    version = data.get("version")
    if type(version) is not int or version < 1:
        raise _kernel_error(f"version {_describe(version)} is not a positive integer")
    if version > VERSION:
        raise _kernel_error(f"version {version} is newer than this toolchain reads "
                            f"({VERSION}); upgrade the toolchain")
    built_for = data.get("machine")
    if built_for is not None and built_for != machine:
        raise _kernel_error(f"the kernel was built for a different machine: {_describe(built_for)}")


def image_fields(data: object, machine: dict) -> dict[str, object]:
    """The Kernel arguments decoded JSON of any accepted shape gives (as
    found, not yet validated); raises KernelError for another shape."""
    if isinstance(data, list):
        return {"program": data}
    if not isinstance(data, dict):
        raise _kernel_error("a kernel is a JSON object or a list of bundles")
    if "format" in data:
        check_header(data, machine)
        if "program" not in data:
            raise _kernel_error("the kernel has no 'program'")
        return {
            "program": data["program"],
            "scratch": data.get("scratch", {}),
            "labels": data.get("labels", {}),
            "source": data.get("source"),
            "op_source": data.get("op_source"),
            "scheduled": data.get("scheduled"),
            "renamed": data.get("renamed", {}),
            "hints": data.get("hints", {}),
        }
    program = data.get("program", data.get("instrs"))
    if program is None:
        raise _kernel_error("expected a kernel image, a list of bundles, or an object "
                            "with 'instrs' or 'program'")
    return {"program": program, "scratch": data.get("scratch_map", data.get("scratch", {}))}


def normalized_fields(fields: Mapping[str, object], program: list,
                      scratch_size: int) -> dict[str, object]:
    """The fields of a Kernel besides its program, checked in this order
    against `program` (valid; JSON lists or normalized) and normalized (the
    hints as (restrict, pinned, temps), a Hints' fields); a field left out
    takes the Kernel's default. Raises KernelError."""
    n = len(program)
    scratch = normalize_scratch_map(fields.get("scratch", {}), scratch_size)
    labels = normalize_labels(fields.get("labels", {}), n)
    source = fields.get("source")
    if source is not None:
        if not isinstance(source, list) or len(source) != n:
            raise _kernel_error(f"the source map has {_count(source)} entries for {n} bundles")
        if not all(s is None or isinstance(s, str) for s in source):
            raise _kernel_error("source map entries must be strings or null")
    op_source = _normalize_op_source(fields.get("op_source"), program)
    scheduled = fields.get("scheduled")
    if scheduled is not None and (type(scheduled) is not int or scheduled < 0):
        raise _kernel_error(f"'scheduled' is a level, not {_describe(scheduled)}")
    renamed = _normalize_renamed(fields.get("renamed", {}), scratch_size)
    return {"scratch": scratch, "labels": labels, "source": source, "op_source": op_source,
            "scheduled": scheduled, "renamed": renamed,
            "hints": _hint_sets(fields.get("hints", {}), n, scratch_size)}


def _normalize_op_source(raw: object, program: list
                         ) -> list[tuple[str | None, ...] | None] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != len(program):
        raise _kernel_error(f"the op source map has {_count(raw)} entries for "
                            f"{len(program)} bundles")
    out: list[tuple[str | None, ...] | None] = []
    for pc, entry in enumerate(raw):
        if entry is None:
            out.append(None)
            continue
        n = sum(len(slots) for slots in program[pc].values())
        if (not isinstance(entry, list | tuple) or len(entry) != n
                or not all(x is None or isinstance(x, str) for x in entry)):
            raise _kernel_error(f"op source map entry {pc}: expected {n} strings or nulls, "
                                f"one per op")
        out.append(tuple(entry))
    return out if any(out) else None


def _normalize_renamed(raw: object, scratch_size: int) -> dict[int, int]:
    if not isinstance(raw, Mapping):
        raise _kernel_error("'renamed' is an object of word -> the word it copies")
    out: dict[int, int] = {}
    for new, old in raw.items():
        try:
            a = int(new)
        except (TypeError, ValueError):
            raise _kernel_error(f"renamed word {_describe(new)} is not an integer") from None
        if type(old) is not int or not (0 <= a < scratch_size and 0 <= old < scratch_size):
            raise _kernel_error(f"renamed word {a} -> {_describe(old)}: expected two scratch "
                                "addresses")
        out[a] = old
    return out


def _hint_sets(raw: object, n: int, scratch_size: int
               ) -> tuple[tuple[tuple[int, ...], ...], frozenset[int], frozenset[int]]:
    """(restrict, pinned, temps) of an image's "hints" object."""
    if not isinstance(raw, Mapping):
        raise _kernel_error("'hints' is an object with 'restrict', 'pinned' and 'temps'")
    unknown = sorted(set(raw) - {"restrict", "pinned", "temps"})
    if unknown:
        raise _kernel_error(f"'hints' has no field {_describe(unknown[0])} (it has 'restrict', "
                            "'pinned' and 'temps')")

    def numbers(value: object, what: str, top: int, of: str) -> list[int]:
        if not isinstance(value, list | tuple | set | frozenset) or not all(
                type(x) is int and 0 <= x < top for x in value):
            raise _kernel_error(f"hints: {what} is a list of {of} (0..{top - 1}), "
                                f"not {_describe(value)}")
        return sorted(value)

    sets = raw.get("restrict", ())
    if not isinstance(sets, list | tuple):
        raise _kernel_error(f"hints: 'restrict' is a list of lists of scratch words, not "
                            f"{_describe(sets)}")
    restrict = tuple(tuple(numbers(x, "each 'restrict' set", scratch_size, "scratch words"))
                     for x in sets)
    pinned = numbers(raw.get("pinned", ()), "'pinned'", max(n, 1), "bundle indices")
    temps = numbers(raw.get("temps", ()), "'temps'", scratch_size, "scratch words")
    return restrict, frozenset(pinned), frozenset(temps)


def normalize_scratch_map(raw: object, scratch_size: int) -> dict[int, tuple[str, int]]:
    if not isinstance(raw, Mapping):
        raise _kernel_error("the scratch map is an object of address -> [name, length]")
    out: dict[int, tuple[str, int]] = {}
    for addr, entry in raw.items():
        try:
            a = int(addr)
        except (TypeError, ValueError):
            raise _kernel_error(f"scratch map address {_describe(addr)} is not an "
                                "integer") from None
        ok = (
            isinstance(entry, list | tuple) and len(entry) == 2
            and isinstance(entry[0], str) and type(entry[1]) is int and entry[1] >= 0
        )
        if not ok or not 0 <= a < scratch_size:
            raise _kernel_error(f"scratch map entry {a}: expected [name, length] inside scratch, "
                                f"got {_describe(entry)}")
        if a + entry[1] > scratch_size:
            raise _kernel_error(f"scratch map entry {a}: {_describe(entry[0])} is {entry[1]:,} "
                                f"words long, past the end of scratch ({scratch_size} words "
                                f"from 0; it could be at most {scratch_size - a})")
        out[a] = (entry[0], entry[1])
    return dict(sorted(out.items()))


def normalize_labels(raw: object, n: int) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        raise _kernel_error("labels are an object of name -> bundle index")
    for name, pc in raw.items():
        if not isinstance(name, str) or type(pc) is not int or not 0 <= pc <= n:
            raise _kernel_error(f"label {_describe(name)} -> {_describe(pc)} is not a bundle "
                                f"index in 0..{n}")
    return dict(raw)
