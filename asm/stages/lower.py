"""Lower stage: expanded items -> IR (`Module`).

Groups ops into bundles, checks every operand against its op's definition in
the ISA table, records declarations and labels. Names stay symbolic.
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import isa, keywords
from ..errors import Note, ToolchainError
from ..ir import Deferred, IRBundle, IROp, Module, Ref, Symbol
from ..source import Src
from ..suggestions import did_you_mean, plural, still_substituted_message, unknown_op_message
from ..tree import Bin, Indexed, Key, Lst, Name, Node, Num, Raw, Stmt, Str, Tup, Un
from .expand import Item

K = isa.Kind
# A tuple: membership is by identity first, where a set would call Enum.__hash__.
_SCRATCH_KINDS = tuple(k for k in K if k.is_scratch)
_NUMBER_KINDS = (K.IMM, K.TARGET, K.OFFSET)
# Each op's operands with the shape lowering expects, for the common cases.
_SCRATCH, _NUMBER, _KEY, _OTHER = "scratch", "number", "key", "other"
_SHAPES = {
    mnemonic: tuple(
        (o, _SCRATCH if o.kind in _SCRATCH_KINDS else _NUMBER if o.kind in _NUMBER_KINDS
         else _KEY if o.kind is K.KEY else _OTHER) for o in op.operands)
    for mnemonic, op in isa.BY_MNEMONIC.items()
}


_UNSEEN = object()  # (operands may be None: the statement had an error)


class LowerError(Exception):
    """Abandons the statement being lowered; the diagnostic is already recorded."""


class Lowerer:
    def __init__(self, diagnostics: list[ToolchainError], macros=()) -> None:
        self.m = Module()
        self.diagnostics = diagnostics
        self.macros = set(macros)
        self.bundle: IRBundle | None = None  # the open brace bundle
        self.pin_start: tuple[int, Src, int] | None = None
        # Work on an object met again in the input, by its id (the input list
        # keeps every such object alive while lowering runs, so ids stay
        # unique): operands by statement, Refs by node, and one-op bundles
        # outside braces by item, unpinned and pinned.
        self.lowered: dict[int, list | None] = {}
        self.refs: dict[int, Ref] = {}
        self.single: tuple[dict[int, IRBundle], dict[int, IRBundle]] = ({}, {})

    def fail(self, src: Src, message: str, node=None, notes: tuple[Note, ...] = ()
             ) -> LowerError:
        pos = node if isinstance(node, int) else getattr(node, "pos", None)
        self.diagnostics.append(src.error(message, pos, getattr(node, "end", None),
                                          notes=notes))
        return LowerError()

    def warn(self, src: Src, message: str, node=None) -> None:
        pos = node if isinstance(node, int) else getattr(node, "pos", None)
        self.diagnostics.append(src.error(message, pos, getattr(node, "end", None),
                                          severity="warning"))

    # ------------------------------------------------------------ items

    def run(self, items: list[Item]) -> Module:
        stmt, label, open_, close = self.stmt, self.label, self.open, self.close
        single, bundles, lowered = self.single, self.m.bundles, self.lowered
        by_mnemonic = isa.BY_MNEMONIC
        for it in items:
            try:
                k = it.kind
                if k == "stmt":
                    if self.bundle is None:
                        h = it.hole
                        if h < 0:
                            # An item met again (expansion hands out the same item
                            # for a line repeated with the same values) is, outside
                            # braces, the same one-op bundle, built once.
                            got = single[self.pin_start is not None].get(id(it))
                            if got is not None:
                                bundles.append(got)
                                continue
                        else:
                            # A filled item: its template lowered before, a bundle
                            # of its own (stmt() has the first time and every error).
                            s = it.node
                            args = lowered.get(id(s))
                            if args is not None:
                                args = args.copy()
                                args[h] = it.key
                                op = by_mnemonic[s.name]
                                src = it.src
                                bundles.append(IRBundle(
                                    [IROp(op, args, src, s.pos, s.args, h)], src, s.pos,
                                    [op.engine], self.pin_start is not None))
                                continue
                    stmt(it.node, it.src, it)
                elif k == "label":
                    label(it.node, it.src)
                elif k == "open":
                    open_(it.src, it.pos)
                else:
                    close(it.src, it.pos)
            except LowerError:
                pass
        if self.bundle is not None:
            self.fail(self.bundle.src, "'{' is never closed", self.bundle.pos)
            self.bundle = None
        if self.pin_start is not None:
            self.fail(self.pin_start[1], "'.pin' without '.endpin'", self.pin_start[2])
        return self.m

    def label(self, name: Name, src: Src) -> None:
        if self.bundle is not None:
            raise self.fail(src, "a label cannot stand inside a bundle; put it before the '{'",
                            name)
        prev = self.m.labels.get(name.id)
        if prev is not None:
            raise self.fail(src, f"label '{name.id}' is defined twice", name,
                            notes=(Note("first defined here", prev[1].loc(prev[2])),))
        self.m.labels[name.id] = (len(self.m.bundles), src, name.pos)

    def open(self, src: Src, pos: int) -> None:
        if self.bundle is not None:
            raise self.fail(src, "'{' inside a bundle: bundles do not nest", pos)
        self.bundle = IRBundle([], src, pos, pinned=self.pin_start is not None)

    def close(self, src: Src, pos: int) -> None:
        b = self.bundle
        if b is None:
            raise self.fail(src, "'}' without a '{'", pos)
        self.bundle = None
        if not b.order:
            b.order.append(isa.ENGINES[0])  # `{ }`: one cycle, an engine with no slots
        elif b.order == ["*none*"]:
            b.order = []
        self.m.bundles.append(b)

    def stmt(self, s: Stmt, src: Src, item: Item) -> None:
        op = isa.BY_MNEMONIC.get(s.name)
        if op is not None:
            if s.pin is not None:
                raise self.fail(src, f"'@ ADDR' pins declarations, not ops like '{s.name}'",
                                s.pin)
            # The same statement object (a line parsed once, met again) has the
            # same operands, which later stages then meet as one list.
            args = self.lowered.get(id(s), _UNSEEN)
            if args is _UNSEEN:
                args = self.lowered[id(s)] = self.operands(op, s, src)
            hole = item.hole
            if hole >= 0 and args is not None:
                # A template's operands, this item's debug key in the hole (a
                # hole that lowered at all is a debug key's operand).
                args = args.copy()
                args[hole] = item.key
            b = self.add_op(IROp(op, args, src, s.pos, s.args, hole), src, s)
            if b is not None and hole < 0:  # the same bundle whenever the item comes again
                self.single[b.pinned][id(item)] = b
            return
        handler = _DIRECTIVES.get(s.name)
        if handler is not None:
            if s.pin is not None and s.name not in _PINNABLE:
                raise self.fail(src, f"'@ ADDR' pins declarations only, not '{s.name}'", s.pin)
            handler(self, s, src)
            return
        raise self.fail(src, self.unknown(s.name), s.pos)

    def unknown(self, name: str) -> str:
        if "{" in name:
            return still_substituted_message(name)
        if name.startswith("."):
            return f"unknown directive '{name}'" + did_you_mean(name, keywords.DIRECTIVES)
        return unknown_op_message(name, self.macros)

    def add_op(self, o: IROp, src: Src, s: Stmt) -> IRBundle | None:
        """Add an op to the open brace bundle, or else as a one-op bundle of its
        own, which is returned."""
        if o.args is None:
            return None
        b = self.bundle
        if b is None:
            b = IRBundle([o], src, s.pos, [o.op.engine], self.pin_start is not None)
            self.m.bundles.append(b)
            return b
        engine = o.op.engine
        if engine not in isa.UNENFORCED_LIMITS:
            limit = isa.SLOT_LIMITS[engine]
            n = 1 + sum(1 for x in b.ops if x.op.engine == engine)
            if n > limit:
                raise self.fail(src, f"too many {engine} ops in one bundle: this is number "
                                f"{n}, the machine has {plural(limit, engine + ' slot')}",
                                s.pos)
        if engine not in b.order:
            b.order.append(engine)
        b.ops.append(o)
        return None

    # ------------------------------------------------------------ operands

    def operands(self, op: isa.Op, s: Stmt, src: Src) -> list | None:
        args = s.args
        shapes = _SHAPES[op.mnemonic]
        if len(args) != len(shapes):
            n = len(shapes)
            names = ", ".join(o.name for o in op.operands) or "no operands"
            where = args[n] if len(args) > n else s.pos
            raise self.fail(src, f"'{s.name}' takes {plural(n, 'operand')} ({names}), "
                            f"got {len(args)}", where)
        out = []
        refs = self.refs
        for (operand, shape), node in zip(shapes, args, strict=True):
            # The common shapes inline; operand() has every case and every error.
            t = type(node)
            if shape is _SCRATCH:
                # Lines share nodes (a parse, the arguments folding left alone),
                # and a node's Ref is the same wherever it stands.
                got = refs.get(id(node))
                if got is not None:
                    out.append(got)
                    continue
                if t is Name:
                    ref = Ref(node.id, 0, node)
                elif t is Indexed and type(node.index) is Num:
                    ref = Ref(node.name.id, node.index.value, node)
                else:
                    out.append(self.operand(operand, node, src, s))
                    continue
                refs[id(node)] = ref
                out.append(ref)
                continue
            elif shape is _NUMBER:
                if t is Num:
                    out.append(node.value)
                    continue
            elif shape is _KEY and t is Key:
                out.append(node.value)
                continue
            elif shape is _KEY and t is Tup:
                key = []
                for x in node.items:
                    tx = type(x)
                    if tx is not Num and tx is not Str:
                        break
                    key.append(x.value)
                else:
                    out.append(tuple(key))
                    continue
            out.append(self.operand(operand, node, src, s))
        return out

    def operand(self, operand: isa.Operand, node: Node, src: Src, s: Stmt):
        kind = operand.kind
        t = type(node)
        if kind in _SCRATCH_KINDS:
            if t is Name:
                return Ref(node.id, 0, node)
            if t is Indexed:
                if type(node.index) is not Num:
                    raise self.fail(src, f"the offset in '{node.name.id}[...]' must be an "
                                    "assembly-time constant", node.index)
                return Ref(node.name.id, node.index.value, node)
            if t is Raw:
                if type(node.addr) is not Num:
                    raise self.fail(src, "a raw scratch address must be an assembly-time "
                                    "constant", node.addr)
                return Ref(None, node.addr.value, node)
            if t is Num:
                raise self.fail(src, f"operand {operand.name} of '{s.name}' is a scratch word, "
                                f"not the number {node.value}: "
                                f"{isa.BY_MNEMONIC[s.name].engine} operands name scratch words",
                                node, notes=_constant_notes(node.value))
            raise self.fail(src, f"operand {operand.name} of '{s.name}' is a scratch address, "
                            f"not {_describe(node)}", node)
        if kind in _NUMBER_KINDS:
            if t is Num:
                return node.value
            if t is Name or t is Bin or t is Un:
                return Deferred(node, kind is K.OFFSET)
            if t is Raw:
                raise self.fail(src, f"operand {operand.name} of '{s.name}' is an immediate, "
                                "not a scratch address: drop the '@'", node)
            raise self.fail(src, f"operand {operand.name} of '{s.name}' is an immediate, not "
                            f"{_describe(node)}", node)
        if kind is K.KEY:
            return self.key(node, src)
        if kind is K.KEYS:
            if t is not Lst or len(node.items) != isa.VLEN:
                raise self.fail(src, f"'{s.name}' needs a list of {isa.VLEN} debug keys, "
                                "one per lane: [k0, ..., k7]", node)
            return tuple(self.key(k, src) for k in node.items)
        if t is not Str:
            raise self.fail(src, f"'{s.name}' takes a string in double quotes", node)
        return node.value

    def key(self, node: Node, src: Src):
        t = type(node)
        if t is Num or t is Str or t is Key:
            return node.value
        if t is Tup:
            out = []
            for x in node.items:
                tx = type(x)
                out.append(x.value if tx is Num or tx is Str else self.key(x, src))
            return tuple(out)
        raise self.fail(src, "a debug key is a number, a string or a tuple of them, all "
                        "known at assembly time", node)

    # ------------------------------------------------------------ directives

    def _name(self, node: Node, src: Src, what: str) -> str:
        if type(node) is not Name:
            raise self.fail(src, f"expected {what}, not {_describe(node)}", node)
        if "{" in node.id:
            raise self.fail(src, self.unknown(node.id), node)
        return node.id

    def _int(self, node: Node, src: Src, what: str) -> int:
        if type(node) is not Num:
            raise self.fail(src, f"{what} must be an assembly-time constant", node)
        return node.value

    def declare(self, s: Stmt, src: Src) -> None:
        usage = {".scratch": "NAME[, LEN]", ".vector": "NAME[, COUNT]", ".temp": "NAME[, LEN]"}
        if not 1 <= len(s.args) <= 2:
            raise self.fail(src, f"'{s.name}' reads: {s.name} {usage[s.name]} [@ ADDR]", s.pos)
        name = self._name(s.args[0], src, "a symbol name")
        count = self._int(s.args[1], src, "the size") if len(s.args) == 2 else 1
        if count < 1:
            raise self.fail(src, f"the size of '{name}' must be at least 1, not {count}",
                            s.args[1])
        vector = s.name == ".vector"
        length = count * isa.VLEN if vector else count
        self.add_symbol(Symbol(name, length, src, s.args[0].pos, self.pin(s, src),
                               temp=s.name == ".temp", vector=vector))

    def pin(self, s: Stmt, src: Src) -> int | None:
        if s.pin is None:
            return None
        return self._int(s.pin, src, "a pinned address")

    def add_symbol(self, sym: Symbol) -> None:
        prev = self.m.symbols.get(sym.name)
        if prev is not None:
            raise self.fail(sym.src, f"scratch symbol '{sym.name}' is declared twice", sym.pos,
                            notes=(Note("first declared here", prev.src.loc(prev.pos)),))
        self.m.symbols[sym.name] = sym

    def const(self, s: Stmt, src: Src) -> None:
        if len(s.args) != 2:
            raise self.fail(src, "'.const' reads: .const NAME, VALUE", s.pos)
        name = self._name(s.args[0], src, "a symbol name")
        value = self._int(s.args[1], src, "the value of '.const'")
        self.add_symbol(Symbol(name, 1, src, s.args[0].pos, self.pin(s, src), const=value))
        op = isa.BY_MNEMONIC["const"]
        self.add_op(IROp(op, [Ref(name, 0, s.args[0]), value], src, s.pos, s.args), src, s)

    def names(self, s: Stmt, src: Src) -> list[tuple[str, Node]]:
        if not s.args:
            raise self.fail(src, f"'{s.name}' takes one or more names", s.pos)
        return [(self._name(a, src, "a name"), a) for a in s.args]

    def global_(self, s: Stmt, src: Src) -> None:
        for name, node in self.names(s, src):
            self.m.globals.setdefault(name, (src, node.pos))

    def extern(self, s: Stmt, src: Src) -> None:
        for name, node in self.names(s, src):
            self.m.externs.setdefault(name, (src, node.pos))

    def restrict(self, s: Stmt, src: Src) -> None:
        got = [name for name, _ in self.names(s, src)]
        if len(got) < 2:
            raise self.fail(src, "'.restrict' names two or more scratch words whose memory "
                            "regions are disjoint", s.pos)
        self.m.restricts.append((got, src))

    def pin_block(self, s: Stmt, src: Src) -> None:
        if s.args:
            raise self.fail(src, f"'{s.name}' takes no operands", s.args[0])
        if self.bundle is not None:
            raise self.fail(src, f"'{s.name}' cannot stand inside a bundle", s.pos)
        if s.name == ".pin":
            if self.pin_start is not None:
                raise self.fail(src, "'.pin' inside '.pin'", s.pos)
            self.pin_start = (len(self.m.bundles), src, s.pos)
            return
        if self.pin_start is None:
            raise self.fail(src, "'.endpin' without '.pin'", s.pos)
        self.m.pins.append((self.pin_start[0], len(self.m.bundles)))
        self.pin_start = None

    def empty(self, s: Stmt, src: Src) -> None:
        b = self.bundle
        if b is None:
            raise self.fail(src, "'.empty' belongs inside a bundle's braces", s.pos)
        if not s.args:  # `{ .empty }`: the machine's {} (no engine, no cycle)
            if b.order or b.ops:
                raise self.fail(src, "'.empty' with no engines makes a bundle with no "
                                "engines at all; this one has some", s.pos)
            b.order.append("*none*")
            return
        for a in s.args:
            engine = self._name(a, src, "an engine name")
            if engine not in isa.SLOT_LIMITS:
                raise self.fail(src, f"unknown engine '{engine}' (engines: "
                                f"{', '.join(isa.ENGINES)})", a)
            if engine in b.order:
                raise self.fail(src, f"engine '{engine}' is already in this bundle", a)
            b.order.append(engine)


def _constant_notes(value: int) -> tuple[Note, ...]:
    name = f"k{value}" if value >= 0 else f"minus{-value}"
    return (Note(f"to use the number {value}, put it in a word first: '.const {name}, "
                 f"{value}' declares one that holds it (loaded once, at the start), or "
                 f"'const t, {value}' loads it into a word t of yours"),
            Note(f"'@{value}' is the raw scratch word at address {value}, not the number"))


def _describe(node: Node) -> str:
    t = type(node)
    return {Num: "a number", Name: "a name", Indexed: "a scratch word", Raw: "a raw address",
            Str: "a string", Tup: "a tuple", Key: "a tuple", Lst: "a list"}.get(t, "an expression")


_DIRECTIVES = {
    ".scratch": Lowerer.declare, ".vector": Lowerer.declare, ".temp": Lowerer.declare,
    ".const": Lowerer.const, ".global": Lowerer.global_, ".extern": Lowerer.extern,
    ".restrict": Lowerer.restrict, ".pin": Lowerer.pin_block, ".endpin": Lowerer.pin_block,
    ".empty": Lowerer.empty,
}
_PINNABLE = {".scratch", ".vector", ".temp", ".const"}


def lower(items: list[Item], macros: Iterable[str] = ()
          ) -> tuple[Module, list[ToolchainError]]:
    """(the IR of the expanded items, the diagnostics). `macros` are the names
    of the macros defined, so that an unknown op can say it is not one."""
    diagnostics: list[ToolchainError] = []
    return Lowerer(diagnostics, macros).run(items), diagnostics
