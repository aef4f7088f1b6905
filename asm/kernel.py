"""The kernel image: a program for the machine plus its debug information.

`Kernel` holds a validated program in the reference simulator's own shape
(a list of bundles, each a dict engine -> list of slot tuples), the debug
scratch map, labels and a per-bundle source map. `load_kernel` / `save_kernel`
read and write `.vk.json` (docs/formats.md); loading also accepts what
take-home users already have: a bare JSON list of bundles, or an object with
`instrs` or `program` and an optional `scratch_map`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

from . import isa
from .errors import KernelError, Location
from .fileio import read_problem, read_text, write_text_atomic
from .gcpause import gc_paused
from .imagefields import (
    FORMAT,
    VERSION,
    normalize_labels,
    normalize_scratch_map,
    normalized_fields,
)
from .imagefields import image_fields as _image_fields
from .jsonread import decode, describe, to_json

Slot = tuple
Bundle = dict[str, list[Slot]]
Program = list[Bundle]


def machine_description() -> dict[str, Any]:
    return {
        "vlen": isa.VLEN,
        "scratch_size": isa.SCRATCH_SIZE,
        "slot_limits": dict(isa.SLOT_LIMITS),
    }


@dataclass(frozen=True)
class Hints:
    """What the source tells the scheduler beyond the program, kept with the
    kernel (and in its image) so that any kernel can be scheduled again alike:
    `restrict`, sets of scratch words holding pointers whose memory regions
    are disjoint (`.restrict`); `pinned`, bundles emitted exactly as written
    (`.pin`); `temps`, words whose definitions may move to free words (`.temp`)."""

    restrict: tuple[tuple[int, ...], ...] = ()
    pinned: frozenset[int] = frozenset()
    temps: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.restrict or self.pinned or self.temps)


@dataclass
class Kernel:
    """A validated program with its debug information.

    Constructing one validates and normalizes `program` (slots become tuples,
    debug keys nested tuples); a malformed program raises `KernelError`.
    `validate=False` is for producers that built normalized slots from the
    ISA table themselves (the assembler, `replace`): no per-slot check.
    """

    program: Program
    scratch: dict[int, tuple[str, int]] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    source: list[str | None] | None = None
    # Per bundle, the source position of each op in the bundle's slot order
    # (engines in order, then slots), or None where every op is at `source`.
    op_source: list[tuple[str | None, ...] | None] | None = None
    # Set by the scheduler: its level. Reads of a word another slot of the
    # same bundle writes are then deliberate (`vasm check` says nothing).
    scheduled: int | None = None
    # Words the scheduler's renaming introduced -> the word each is a copy of.
    renamed: dict[int, int] = field(default_factory=dict)
    hints: Hints = field(default_factory=Hints)
    validate: InitVar[bool] = True

    def __post_init__(self, validate: bool) -> None:
        if not validate:
            self.scratch = normalize_scratch_map(self.scratch, isa.SCRATCH_SIZE)
            self.labels = normalize_labels(self.labels, len(self.program))
            if self.op_source is not None and not any(self.op_source):
                self.op_source = None
            self.renamed = dict(self.renamed)
            self._distinct = (None, -1, [], [], [])  # computed from object identity on demand
            return
        with gc_paused():
            self.program, distinct, index, counts = _normalize(self.program)
        self._distinct = (self.program, len(self.program), distinct, index, counts)
        hints = self.hints
        if isinstance(hints, Hints):
            hints = {"restrict": hints.restrict, "pinned": hints.pinned, "temps": hints.temps}
        fields = normalized_fields(
            {"scratch": self.scratch, "labels": self.labels, "source": self.source,
             "op_source": self.op_source, "scheduled": self.scheduled,
             "renamed": self.renamed, "hints": hints}, self.program, isa.SCRATCH_SIZE)
        self.scratch, self.labels = fields["scratch"], fields["labels"]
        self.op_source, self.renamed = fields["op_source"], fields["renamed"]
        self.hints = Hints(*fields["hints"])

    def replace(self, **changes: Any) -> Kernel:
        """This kernel with some fields changed (by name), for passes that make
        their slots from valid ones (the scheduler's): no per-slot check. Equal
        bundles should be shared objects."""
        return dataclasses.replace(self, validate=False, **changes)

    def distinct(self) -> tuple[list[Bundle], list[int], list[int]]:
        """(the distinct bundles, the index among them of each bundle in program
        order, how many times each distinct bundle occurs)."""
        program, n, distinct, index, counts = self._distinct
        if program is not self.program or n != len(program):  # program replaced or edited
            ids = list(map(id, self.program))
            where: dict[int, int] = {}
            distinct = []
            for key, bundle in dict(zip(ids, self.program, strict=True)).items():
                where[key] = len(distinct)
                distinct.append(bundle)
            index = list(map(where.__getitem__, ids))
            counts = [0] * len(distinct)
            for i in index:
                counts[i] += 1
            self._distinct = (self.program, len(self.program), distinct, index, counts)
        return distinct, index, counts

    def source_of(self, pc: int, engine: str | None = None, slot: int | None = None
                  ) -> str | None:
        """The source position ('file:line') of bundle `pc`, or of one of its
        ops (`engine`, `slot`: its index in that engine's list), when known."""
        if engine is not None and slot is not None and self.op_source is not None \
                and 0 <= pc < len(self.op_source) and self.op_source[pc] is not None:
            i = _flat_index(self.program[pc], engine, slot)
            if i is not None:
                return self.op_source[pc][i]
        if self.source is not None and 0 <= pc < len(self.source):
            return self.source[pc]
        return None

    def op_sources(self, pc: int) -> list[str | None]:
        """The source position of every op of bundle `pc`, in slot order."""
        n = sum(len(slots) for slots in self.program[pc].values())
        if self.op_source is not None and self.op_source[pc] is not None:
            return list(self.op_source[pc])
        return [self.source_of(pc)] * n

    def op_source_of(self, pc: int, at: int) -> str | None:
        """`op_sources(pc)[at]`, without making the list (the source position
        of bundle `pc`'s op `at`, in slot order)."""
        if self.op_source is not None and self.op_source[pc] is not None:
            return self.op_source[pc][at]
        return self.source_of(pc)

    @property
    def cycle_cost(self) -> list[int]:
        """1 for each bundle that costs a cycle when run, else 0."""
        return [bundle_cost(b) for b in self.program]


def bundle_cost(bundle: Mapping[str, Any]) -> int:
    """A bundle costs a cycle when it has any engine key besides the free ones,
    even one with an empty slot list."""
    return 0 if bundle.keys() <= isa.FREE_ENGINES else 1


# ---------------------------------------------------------------- validation


MAX_NESTING = 16  # lists in a slot nested deeper than this are refused (keys nest 2 or 3)


def _freeze(x: Any, depth: int = 0) -> Any:
    """JSON lists become tuples, recursively (debug keys are tuples)."""
    if type(x) is list or type(x) is tuple:
        if depth >= MAX_NESTING:
            raise KernelError(f"lists nested more than {MAX_NESTING} deep")
        return tuple(_freeze(y, depth + 1) for y in x)
    return x


def _is_key(x: Any) -> bool:
    if type(x) is int or type(x) is str:
        return True
    return type(x) is tuple and all(_is_key(y) for y in x)


def check_slot(engine: str, slot: tuple) -> isa.Op:
    """Check one normalized slot against the ISA table; return its op.

    Raises KernelError (without a place; callers add bundle, engine, slot).
    """
    if len(slot) == 0:
        raise KernelError("empty slot")
    name = slot[0]
    if type(name) is not str:
        raise KernelError(f"op name must be a string, not {describe(name)}")
    op = isa.lookup(engine, name)
    if op is None:
        others = [e for e in isa.ENGINES if isa.lookup(e, name) is not None]
        hint = f" (it is a {others[0]} op)" if others else ""
        raise KernelError(f"unknown {engine} op {name!r}{hint}")
    if len(slot) - 1 != op.arity:
        raise KernelError(
            f"{name!r} takes {op.arity} operand{'s' * (op.arity != 1)} "
            f"({', '.join(o.name for o in op.operands) or 'none'}), got {len(slot) - 1}"
        )
    for operand, value in zip(op.operands, slot[1:], strict=True):
        kind = operand.kind
        if kind.is_integer:
            if type(value) is not int:
                raise KernelError(f"{name}: operand {operand.name} must be an integer, "
                                  f"not {describe(value)}")
            if kind is isa.Kind.TARGET and value < 0:
                raise KernelError(f"{name}: jump target {value} is negative")
        elif kind is isa.Kind.TEXT:
            if type(value) is not str:
                raise KernelError(f"{name}: operand {operand.name} must be a string")
        elif kind is isa.Kind.KEY:
            if not _is_key(value):
                raise KernelError(f"{name}: {describe(value)} is not a debug key")
        elif kind is isa.Kind.KEYS and (
            type(value) is not tuple or len(value) != isa.VLEN
            or not all(_is_key(k) for k in value)
        ):
            raise KernelError(f"{name}: operand {operand.name} must be {isa.VLEN} debug keys")
    off = slot[op.offset_index] if op.offset_index is not None else 0
    for index, width, _ in op.scratch_operands:
        first = slot[index] + off
        if first < 0 or first + width > isa.SCRATCH_SIZE:
            what = op.operands[index - 1].name
            span = f"{first}..{first + width - 1}" if width > 1 else str(first)
            raise KernelError(
                f"{name}: operand {what} reaches scratch {span}, outside 0..{isa.SCRATCH_SIZE - 1}"
            )
    return op


def normalize_program(program: Any) -> Program:
    """Validate a program and return it with tuple slots.

    Accepts the reference simulator's shape with tuples or JSON lists. Every
    error names the bundle, engine and slot. Equal bundles come back as one
    shared object (kernels repeat bundles a lot, and the fast emulator decodes
    each distinct one once), so treat a Kernel's program as read-only.
    Operands that compare equal (1, 1.0, True) share a key, so a repeat of an
    already-valid bundle is not type-checked again.
    """
    return _normalize(program)[0]


def _normalize(program: Any) -> tuple[Program, list[Bundle], list[int], list[int]]:
    """(normalized program, distinct bundles, index of each bundle among them, counts)."""
    if not isinstance(program, list):
        raise KernelError(f"a program is a list of bundles, not {type(program).__name__}")
    interned: dict[tuple, int] = {}
    distinct: list[Bundle] = []
    index: list[int] = []
    counts: list[int] = []
    add = index.append
    valid: dict[str, dict[tuple, tuple]] = {e: {} for e in isa.ENGINES}
    for pc, bundle in enumerate(program):
        if type(bundle) is not dict:
            raise KernelError(f"a bundle is an object of engine -> slots, "
                              f"not {describe(bundle)}", bundle=pc)
        if len(bundle) == 1:  # the common shape, {engine: [slot]}: its repeats cost a lookup
            [(engine, slots)] = bundle.items()
            if type(slots) is list and len(slots) == 1:
                slot = slots[0]
                try:
                    i = interned.get((engine, slot if type(slot) is tuple else tuple(slot)))
                except TypeError:  # not a sequence, or lists inside: the general way
                    i = None
                if i is not None:
                    counts[i] += 1
                    add(i)
                    continue
        new = _normalize_bundle(bundle, pc, valid)
        # Normalized slots are tuples all the way down: the key always hashes.
        if len(new) == 1:
            [(engine, slots)] = new.items()
            key = (engine, slots[0]) if len(slots) == 1 else (engine, tuple(slots))
        else:
            key = tuple([(e, tuple(sl)) for e, sl in new.items()])
        i = interned.get(key)
        if i is None:
            i = interned[key] = len(distinct)
            distinct.append(new)
            counts.append(0)
        counts[i] += 1
        add(i)
    return list(map(distinct.__getitem__, index)), distinct, index, counts


def walk_bundle(bundle: dict, pc: int
                ) -> Iterator[KernelError | tuple[str, list[tuple[int, tuple, isa.Op]]]]:
    """Check one raw bundle against the ISA table: yields a KernelError for each
    problem, and for each engine that has a slot list, (engine, [(index,
    normalized slot, op), ...] of its valid slots). Loading raises the first
    problem; the linter reports them all."""
    for engine, slots in bundle.items():
        if engine not in isa.SLOT_LIMITS:
            yield KernelError(f"unknown engine {describe(engine)}", bundle=pc)
            continue
        if not isinstance(slots, list | tuple):
            yield KernelError("an engine's slots must be a list", bundle=pc, engine=engine)
            continue
        limit = isa.SLOT_LIMITS[engine]
        if len(slots) > limit and engine not in isa.UNENFORCED_LIMITS:
            yield KernelError(f"{len(slots)} slots, over the limit of {limit}",
                              bundle=pc, engine=engine)
        valid = []
        for i, slot in enumerate(slots):
            if not isinstance(slot, list | tuple):
                yield KernelError(f"a slot is a list (op, operand, ...), not "
                                  f"{describe(slot)}", bundle=pc, engine=engine, slot=i)
                continue
            try:
                t = _freeze(slot)
                op = check_slot(engine, t)
            except KernelError as e:
                yield KernelError(e.reason, bundle=pc, engine=engine, slot=i)
                continue
            valid.append((i, t, op))
        yield engine, valid


# (Within one program, each valid slot by engine and content: a slot met
# again is not checked again. Operands that compare equal (1, True) share an
# entry, as they share a bundle key.)
# Slots per bundle each engine may hold (the debug limit is not enforced).
_MAX_SLOTS = {e: (1 << 62 if e in isa.UNENFORCED_LIMITS else n)
              for e, n in isa.SLOT_LIMITS.items()}


def _normalize_bundle(bundle: dict, pc: int, seen: dict[str, dict[tuple, tuple]]) -> Bundle:
    """The bundle with tuple slots, each checked against the ISA table the
    first time the program has it (`seen`: the valid slots so far, by
    engine); anything unusual goes the exact way (walk_bundle), which names
    the first problem."""
    new: Bundle = {}
    for engine, slots in bundle.items():
        limit = _MAX_SLOTS.get(engine)
        if limit is None or (type(slots) is not list and type(slots) is not tuple) \
                or len(slots) > limit:
            return _checked_bundle(bundle, pc)
        valid = seen[engine]
        out = []
        for slot in slots:
            try:
                t = slot if type(slot) is tuple else tuple(slot)
                try:
                    got = valid.get(t)
                except TypeError:  # lists inside (debug keys read from JSON)
                    t = _freeze(t)
                    got = valid.get(t)
                if got is None:  # first seen: the generated check of its op
                    got = _QUICK[engine, t[0]](t)
                    if got is None:
                        return _checked_bundle(bundle, pc)
                    valid[t] = got
            except (TypeError, KeyError, IndexError, KernelError):
                # not a sequence, an unknown op, or something odd inside
                return _checked_bundle(bundle, pc)
            out.append(got)
        new[engine] = out
    return new


def _quick_check(op: isa.Op) -> Callable[[tuple], tuple | None]:
    """A function that returns a slot of `op` when it is valid and None when
    not (then the exact check says why): the operand kinds of the table as
    one generated expression. Debug keys and load_offset's shifted operands
    take the general check."""
    names = [f"x{i}" for i in range(1, op.arity + 1)]
    tests = []
    for name, operand in zip(names, op.operands, strict=True):
        kind = operand.kind
        if kind.is_scratch and op.offset is None:
            tests.append(f"type({name}) is int and 0 <= {name} <= {isa.SCRATCH_SIZE - kind.width}")
        elif kind is isa.Kind.TARGET:
            tests.append(f"type({name}) is int and {name} >= 0")
        elif kind.is_integer:
            tests.append(f"type({name}) is int")
        elif kind is isa.Kind.TEXT:
            tests.append(f"type({name}) is str")
        elif kind is isa.Kind.KEY:  # the usual key: a flat tuple of numbers and names
            tests.append(f"(type({name}) is tuple and all(type(y) is int or type(y) is str "
                         f"for y in {name}) or type({name}) is int or type({name}) is str)")
        elif kind is isa.Kind.KEYS:
            tests.append(f"type({name}) is tuple and len({name}) == {isa.VLEN} and "
                         f"all(type(k) is tuple and all(type(y) is int or type(y) is str "
                         f"for y in k) for k in {name})")
        else:
            return lambda t, op=op: _general_check(op, t)
    if op.offset is not None:
        return lambda t, op=op: _general_check(op, t)
    unpack = f"    _, {', '.join(names)}, = t\n" if names else ""
    source = (f"def check(t):\n    if len(t) != {op.arity + 1}:\n        return None\n{unpack}"
              f"    return t if {' and '.join(tests) or 'True'} else None\n")
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 (our own table's operand kinds)
    return namespace["check"]


def _general_check(op: isa.Op, t: tuple) -> tuple | None:
    try:
        check_slot(op.engine, _freeze(t))
    except KernelError:
        return None
    return _freeze(t)


class _QuickChecks(dict):
    """(engine, op) -> its generated check, made the first time it is needed
    (an unknown op raises KeyError: the exact check names it)."""

    def __missing__(self, key: tuple[str, str]) -> Callable[[tuple], tuple | None]:
        check = self[key] = _quick_check(isa.BY_MACHINE[key])
        return check


_QUICK: dict[tuple[str, str], Callable[[tuple], tuple | None]] = _QuickChecks()


def _checked_bundle(bundle: dict, pc: int) -> Bundle:
    new: Bundle = {}
    for item in walk_bundle(bundle, pc):
        if isinstance(item, KernelError):
            raise item
        engine, checked = item
        new[engine] = [slot for _, slot, _ in checked]
    return new


def _flat_index(bundle: Bundle, engine: str, slot: int) -> int | None:
    """The position of `bundle[engine][slot]` among all the bundle's slots."""
    i = 0
    for e, slots in bundle.items():
        if e == engine:
            return i + slot if 0 <= slot < len(slots) else None
        i += len(slots)
    return None


# ---------------------------------------------------------------- reading


def image_fields(data: Any) -> dict[str, Any]:
    """The Kernel arguments decoded JSON of any accepted shape gives (as
    found, not yet validated); raises KernelError for another shape."""
    return _image_fields(data, machine_description())


def kernel_from_json(data: Any) -> Kernel:
    """Build a Kernel from decoded JSON of any accepted shape."""
    return Kernel(**image_fields(data))


def _decode(text: str, filename: str | None) -> Any:
    with gc_paused():
        return decode(text, filename, KernelError)


def _read(name: str) -> str:
    try:
        return read_text(name)
    except (OSError, UnicodeDecodeError) as e:
        raise KernelError(read_problem(e), location=Location(name)) from None


def read_kernel_data(path: str | os.PathLike) -> Any:
    """A kernel file's decoded JSON, not yet validated (for the linter)."""
    name = os.fspath(path)
    return _decode(_read(name), name)


def loads_kernel(text: str, *, filename: str | None = None) -> Kernel:
    """Parse kernel JSON text; errors carry the file name."""
    data = _decode(text, filename)
    try:
        return kernel_from_json(data)
    except KernelError as e:
        if e.location is None and filename is not None:
            e.location = Location(filename)
        raise


def load_kernel(path: str | os.PathLike) -> Kernel:
    """Read a `.vk.json` kernel image (or a bare bundle list / instrs object)."""
    name = os.fspath(path)
    return loads_kernel(_read(name), filename=name)


# ---------------------------------------------------------------- writing


def _dumps_bundle(bundle: Bundle) -> str:
    return to_json(bundle)


def _lines(items: Iterable[str]) -> str:
    body = ",\n".join(f"    {s}" for s in items)
    return f"[\n{body}\n  ]" if body else "[]"


def _dumps_hints(hints: Hints) -> str:
    fields = {"restrict": [list(x) for x in hints.restrict], "pinned": sorted(hints.pinned),
              "temps": sorted(hints.temps)}
    return "{" + ", ".join(f'"{k}": {json.dumps(v)}' for k, v in fields.items() if v) + "}"


def dumps_kernel(kernel: Kernel) -> str:
    """Kernel image JSON, one bundle per line so that line diffs mean something."""
    scratch = ",\n".join(
        f"    {json.dumps(str(a))}: {to_json([n, ln])}"
        for a, (n, ln) in sorted(kernel.scratch.items())
    )
    labels = ",\n".join(
        f"    {to_json(n)}: {pc}" for n, pc in kernel.labels.items()
    )
    parts = [
        f'  "format": {json.dumps(FORMAT)}',
        f'  "version": {VERSION}',
        f'  "machine": {json.dumps(machine_description())}',
        f'  "scratch": {{\n{scratch}\n  }}' if scratch else '  "scratch": {}',
        f'  "labels": {{\n{labels}\n  }}' if labels else '  "labels": {}',
    ]
    if kernel.source is not None:
        parts.append(f'  "source": {_lines(json.dumps(s) for s in kernel.source)}')
    if kernel.op_source is not None:
        parts.append(f'  "op_source": {_lines(json.dumps(s) for s in kernel.op_source)}')
    if kernel.scheduled is not None:
        parts.append(f'  "scheduled": {kernel.scheduled}')
    if kernel.renamed:
        renamed = ", ".join(f'"{a}": {w}' for a, w in sorted(kernel.renamed.items()))
        parts.append(f'  "renamed": {{{renamed}}}')
    if kernel.hints:
        parts.append(f'  "hints": {_dumps_hints(kernel.hints)}')
    parts.append(f'  "program": {_lines(_dumps_bundle(b) for b in kernel.program)}')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def save_kernel(kernel: Kernel, path: str | os.PathLike) -> None:
    """Write a `.vk.json` image atomically (temporary file, then rename)."""
    write_text_atomic(path, dumps_kernel(kernel))
