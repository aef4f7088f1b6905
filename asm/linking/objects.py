"""Relocatable objects (`.vo`): one module's IR as JSON, for `vasm link`.

An object is the assembler's IR after lowering, before layout: code whose
scratch operands still name symbols (`vals[8]`), whose immediates may still
name labels (`loop`, `loop + 2`), with the module's declarations, labels,
`.global` / `.extern` names, `.restrict` sets, `.pin` ranges and source
positions. Reading it back gives an equal `Module`, so linking objects and
linking freshly assembled modules are the same thing. Schema: docs/linking.md.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from .. import isa
from ..errors import Location, ObjectError, ToolchainError
from ..fileio import read_problem, read_text, write_text_atomic
from ..ir import Deferred, IRBundle, IROp, Module, Ref, Symbol
from ..jsonread import decode, describe, to_json
from ..source import Src
from ..stages.expr import unparse
from ..tree import Bin, Name, Node, Num, Un

FORMAT = "vliw-object"
VERSION = 1

K = isa.Kind
_IMMEDIATE = frozenset({K.IMM, K.TARGET, K.OFFSET})
_REF = re.compile(r"(?P<name>[^\[\]@]+)(?:\[(?P<offset>-?\d+)\])?|@(?P<raw>\d+)")


@dataclass
class ObjectModule:
    """A module ready to link: its name (the source file's stem), the file it
    came from, and its IR."""

    name: str
    module: Module
    path: str | None = None


# ---------------------------------------------------------------- writing


def _at(src: Src, pos: int | None) -> str:
    return src.where if pos is None else f"{src.where}:{src.col(pos)}"


def _operand(kind: isa.Kind, arg: Any) -> Any:
    if type(arg) is Ref:
        if arg.name is None:
            return f"@{arg.offset}"
        return arg.name if arg.offset == 0 else f"{arg.name}[{arg.offset}]"
    if type(arg) is Deferred:
        return unparse(arg.value)
    if kind in (K.KEY, K.KEYS):
        return _jsonable(arg)
    return arg


def _jsonable(key: Any) -> Any:
    return [_jsonable(k) for k in key] if isinstance(key, tuple) else key


def _bundle_json(b: IRBundle) -> str:
    by_engine: dict[str, list] = {e: [] for e in b.order}
    for o in b.ops:
        by_engine[o.op.engine].append(o)
    ops = [o for e in b.order for o in by_engine[e]]
    srcs = {o.src.where for o in ops}
    if not ops:
        src: Any = b.src.where
    elif len(srcs) == 1:
        src = ops[0].src.where
    else:
        src = [o.src.where for o in ops]
    out: dict[str, Any] = {"src": src}
    for e, group in by_engine.items():
        out[e] = [[o.op.name, *(_operand(x.kind, a) for x, a in zip(o.op.operands, o.args, strict=True))]
                  for o in group]
    return to_json(out)


def _lines(items: list[str], opener: str = "[", closer: str = "]") -> str:
    if not items:
        return opener + closer
    return f"{opener}\n" + ",\n".join(f"    {s}" for s in items) + f"\n  {closer}"


def dumps_object(obj: ObjectModule) -> str:
    """Object JSON: one symbol, label or bundle per line, so diffs read well."""
    m = obj.module
    d = json.dumps

    def symbol(s: Symbol) -> str:
        entry: dict[str, Any] = {"name": s.name, "size": s.length}
        if s.pin is not None:
            entry["pin"] = s.pin
        if s.temp:
            entry["temp"] = True
        if s.vector:
            entry["vector"] = True
        if s.const is not None:
            entry["const"] = s.const
        entry["at"] = _at(s.src, s.pos)
        return to_json(entry)

    labels = [f"{to_json(n)}: {d({'pc': pc, 'at': _at(src, pos)})}"
              for n, (pc, src, pos) in m.labels.items()]

    def names(table: dict[str, tuple[Src, int]]) -> list[str]:
        return [f"{to_json(n)}: {d(_at(src, pos))}"
                for n, (src, pos) in table.items()]

    restrict = [to_json({"names": names_, "at": src.where})
                for names_, src in m.restricts]
    parts = [
        f'  "format": {d(FORMAT)}',
        f'  "version": {VERSION}',
        f'  "module": {to_json(obj.name)}',
        f'  "file": {to_json(obj.path)}',
        f'  "symbols": {_lines([symbol(s) for s in m.symbols.values()])}',
        f'  "labels": {_lines(labels, "{", "}")}',
        f'  "globals": {_lines(names(m.globals), "{", "}")}',
        f'  "externs": {_lines(names(m.externs), "{", "}")}',
        f'  "restrict": {_lines(restrict)}',
        f'  "pins": {d([list(p) for p in m.pins])}',
        f'  "code": {_lines([_bundle_json(b) for b in m.bundles])}',
    ]
    return "{\n" + ",\n".join(parts) + "\n}\n"


def save_object(obj: ObjectModule, path: str | os.PathLike) -> None:
    """Write a `.vo` atomically (temporary file, then rename)."""
    write_text_atomic(path, dumps_object(obj))


# ---------------------------------------------------------------- reading


class _Reader:
    """Builds a Module from decoded object JSON, checking every field; the
    first problem raises ObjectError naming the place."""

    def __init__(self, filename: str | None) -> None:
        self.filename = filename
        self.srcs: dict[str, Src] = {}
        self.refs: dict[str, Ref] = {}
        self.where = ""

    def fail(self, message: str) -> ObjectError:
        where = f"{self.where}: " if self.where else ""
        return ObjectError(f"{where}{message}", location=Location(self.filename))

    def src(self, text: Any) -> tuple[Src, int | None]:
        """'file:line[:col]' -> (Src, position in the line or None)."""
        if not isinstance(text, str):
            raise self.fail(f"expected a 'file:line' position, not {describe(text)}")
        head, _, last = text.rpartition(":")
        col = None
        if head and last.isdigit():
            file, sep, line = head.rpartition(":")
            if sep and line.isdigit():
                col, head, last = int(last), file, line
        if not last.isdigit():
            raise self.fail(f"expected a 'file:line' position, not {describe(text)}")
        key = f"{head}:{last}"
        s = self.srcs.get(key)
        if s is None:
            s = self.srcs[key] = Src(head if head != "<input>" else None, int(last))
        return s, None if col is None else col - 1

    def int_(self, x: Any, what: str) -> int:
        if type(x) is not int:
            raise self.fail(f"{what} must be an integer, not {describe(x)}")
        return x

    def read(self, data: Any) -> ObjectModule:
        if not isinstance(data, dict):
            raise self.fail("an object file is a JSON object")
        if data.get("format") != FORMAT:
            raise self.fail(f"format {describe(data.get('format'))} is not {FORMAT!r}"
                            + ("; this is a kernel image, not an object"
                               if data.get("format") == "vliw-kernel" else ""))
        version = data.get("version")
        if type(version) is not int or version < 1:
            raise self.fail(f"version {describe(version)} is not a positive integer")
        if version > VERSION:
            raise self.fail(f"version {version} is newer than this toolchain reads "
                            f"({VERSION}); upgrade the toolchain")
        name = data.get("module")
        if not isinstance(name, str) or not name:
            raise self.fail("the object has no module name")
        path = data.get("file")
        if path is not None and not isinstance(path, str):
            raise self.fail(f"'file' must be a string, not {describe(path)}")
        m = Module()
        for i, s in enumerate(self.list_(data, "symbols")):
            self.where = f"symbol {i}"
            self.symbol(m, s)
        self.where = ""
        code = self.list_(data, "code")
        for label, entry in self.dict_(data, "labels").items():
            self.where = f"label {label!r}"
            if not isinstance(entry, dict):
                raise self.fail("expected {\"pc\": N, \"at\": POSITION}")
            pc = self.int_(entry.get("pc"), "'pc'")
            if not 0 <= pc <= len(code):
                raise self.fail(f"pc {pc} is outside the code (0..{len(code)})")
            src, pos = self.src(entry.get("at"))
            m.labels[label] = (pc, src, pos)
        for key, table in (("globals", m.globals), ("externs", m.externs)):
            for n, at in self.dict_(data, key).items():
                self.where = f"{key[:-1]} {n!r}"
                table[n] = self.src(at)
        for i, r in enumerate(self.list_(data, "restrict")):
            self.where = f"restrict {i}"
            if not isinstance(r, dict) or not isinstance(r.get("names"), list) or not all(
                    isinstance(n, str) for n in r["names"]):
                raise self.fail("expected {\"names\": [NAME, ...], \"at\": POSITION}")
            m.restricts.append((list(r["names"]), self.src(r.get("at"))[0]))
        for i, p in enumerate(self.list_(data, "pins")):
            self.where = f"pin range {i}"
            if (not isinstance(p, list) or len(p) != 2 or not all(type(x) is int for x in p)
                    or not 0 <= p[0] <= p[1] <= len(code)):
                raise self.fail(f"expected [START, END] within 0..{len(code)}, not {describe(p)}")
            m.pins.append((p[0], p[1]))
        pinned = {pc for a, b in m.pins for pc in range(a, b)}
        for pc, b in enumerate(code):
            self.where = f"bundle {pc}"
            m.bundles.append(self.bundle(b, pc in pinned))
        self.where = ""
        return ObjectModule(name, m, path)

    def list_(self, data: dict, key: str) -> list:
        x = data.get(key, [])
        if not isinstance(x, list):
            raise self.fail(f"'{key}' must be a list")
        return x

    def dict_(self, data: dict, key: str) -> dict:
        x = data.get(key, {})
        if not isinstance(x, dict):
            raise self.fail(f"'{key}' must be an object")
        return x

    def symbol(self, m: Module, s: Any) -> None:
        if not isinstance(s, dict) or not isinstance(s.get("name"), str):
            raise self.fail("expected {\"name\": NAME, \"size\": N, ...}")
        size = self.int_(s.get("size"), "'size'")
        if size < 1:
            raise self.fail(f"size {size} must be at least 1")
        pin = s.get("pin")
        if pin is not None:
            self.int_(pin, "'pin'")
        const = s.get("const")
        if const is not None:
            self.int_(const, "'const'")
        src, pos = self.src(s.get("at"))
        if s["name"] in m.symbols:
            raise self.fail(f"symbol {s['name']!r} is listed twice")
        m.symbols[s["name"]] = Symbol(s["name"], size, src, pos, pin, bool(s.get("temp")),
                                      bool(s.get("vector")), const)

    def bundle(self, b: Any, pinned: bool) -> IRBundle:
        if not isinstance(b, dict):
            raise self.fail("a bundle is a JSON object of engines")
        raw_src = b.get("src")
        count = sum(len(v) for k, v in b.items() if k != "src" and isinstance(v, list))
        if isinstance(raw_src, list):
            if len(raw_src) != count:
                raise self.fail(f"'src' lists {len(raw_src)} positions for {count} ops")
            srcs = [self.src(x)[0] for x in raw_src]
        else:
            srcs = [self.src(raw_src)[0]] * max(count, 1)
        ops: list[IROp] = []
        order: list[str] = []
        for engine, slots in b.items():
            if engine == "src":
                continue
            if engine not in isa.SLOT_LIMITS:
                raise self.fail(f"unknown engine {describe(engine)}")
            if not isinstance(slots, list):
                raise self.fail(f"engine {engine}: expected a list of slots")
            order.append(engine)
            for i, slot in enumerate(slots):
                ops.append(self.op(engine, i, slot, srcs[len(ops)]))
        return IRBundle(ops, srcs[0], None, order, pinned=pinned)

    def op(self, engine: str, i: int, slot: Any, src: Src) -> IROp:
        where = f"{engine} slot {i}"
        if not isinstance(slot, list) or not slot or not isinstance(slot[0], str):
            raise self.fail(f"{where}: expected [OP, OPERAND, ...]")
        op = isa.lookup(engine, slot[0])
        if op is None:
            raise self.fail(f"{where}: unknown {engine} op {describe(slot[0])}")
        if len(slot) - 1 != op.arity:
            raise self.fail(f"{where}: '{op.name}' takes {op.arity} operands, "
                            f"got {len(slot) - 1}")
        args = []
        for x, a in zip(op.operands, slot[1:], strict=True):
            if type(a) is int and x.kind in _IMMEDIATE:
                args.append(a)
            elif type(a) is str and x.kind.is_scratch:
                ref = self.refs.get(a)
                args.append(ref if ref is not None else self.ref(a, where, x.name))
            else:
                args.append(self.arg(x.kind, a, where, x.name))
        return IROp(op, args, src, None, [None] * op.arity)

    def ref(self, a: str, where: str, name: str) -> Ref:
        got = _REF.fullmatch(a)
        if got is None:
            raise self.fail(f"{where} operand {name}: expected NAME, NAME[N] or @N, "
                            f"not {describe(a)}")
        if got["raw"] is not None:
            ref = Ref(None, int(got["raw"]), None)
        else:
            ref = Ref(got["name"], int(got["offset"] or 0), Name(got["name"], None, None))
        self.refs[a] = ref  # Refs are never edited in place, so one may serve many ops
        return ref

    def arg(self, kind: isa.Kind, a: Any, where: str, name: str) -> Any:
        if kind.is_scratch:
            if not isinstance(a, str):
                raise self.fail(f"{where} operand {name}: expected NAME, NAME[N] or @N, "
                                f"not {describe(a)}")
            return self.ref(a, where, name)
        where = f"{where} operand {name}"
        if kind in _IMMEDIATE:
            if isinstance(a, str):
                return Deferred(self.expression(a, where), kind is K.OFFSET)
            raise self.fail(f"{where}: expected an integer or an expression, not {describe(a)}")
        if kind is K.KEY:
            return self.key(a, where)
        if kind is K.KEYS:
            if not isinstance(a, list) or len(a) != isa.VLEN:
                raise self.fail(f"{where}: expected a list of {isa.VLEN} debug keys")
            return tuple(self.key(k, where) for k in a)
        if not isinstance(a, str):
            raise self.fail(f"{where}: expected a string, not {describe(a)}")
        return a

    def key(self, k: Any, where: str) -> Any:
        if type(k) is int or isinstance(k, str):
            return k
        if isinstance(k, list):
            if all(type(x) is int or type(x) is str for x in k):
                return tuple(k)
            return tuple(self.key(x, where) for x in k)
        raise self.fail(f"{where}: a debug key is a number, a string or a list of them")

    def expression(self, text: str, where: str) -> Node:
        from ..stages.syntax import parse_line
        try:
            lines = parse_line(f"_ {text}")
            stmt = lines[0].stmts[0]
            (node,) = stmt.args
        except (ToolchainError, ValueError, IndexError, AttributeError):
            raise self.fail(f"{where}: {describe(text)} is not an expression") from None
        if type(node) not in (Name, Bin, Un, Num):
            raise self.fail(f"{where}: {describe(text)} is not an expression")
        return _unplace(node)


def _unplace(node: Node) -> Node:
    """Positions parsed from the object's text mean nothing in the source."""
    node.pos = node.end = None
    if type(node) is Bin:
        node.op_pos = None
        _unplace(node.a)
        _unplace(node.b)
    elif type(node) is Un:
        _unplace(node.a)
    return node


def loads_object(text: str, *, filename: str | None = None) -> ObjectModule:
    """Parse object JSON text; errors name the file and the place in it."""
    data = decode(text, filename, ObjectError)
    return _Reader(filename).read(data)


def load_object(path: str | os.PathLike) -> ObjectModule:
    name = os.fspath(path)
    try:
        text = read_text(name)
    except (OSError, UnicodeDecodeError) as e:
        raise ObjectError(read_problem(e), location=Location(name)) from None
    return loads_object(text, filename=name)
