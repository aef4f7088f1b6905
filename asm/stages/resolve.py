"""Resolve stage: IR + scratch layout -> `Kernel`.

Every operand becomes an integer (scratch address, immediate, jump target);
the result is the reference simulator's bundle list plus the scratch map,
labels and source map.
"""

from __future__ import annotations

from .. import isa
from ..cfg import ControlFlow
from ..errors import Note, ToolchainError
from ..ir import Deferred, IROp, Module, Ref
from ..kernel import Hints, Kernel
from ..suggestions import did_you_mean, still_substituted_message
from ..tree import Name
from .expr import ExprError, evaluate

# Each op's operand widths, by mnemonic (cheaper than hashing Kind enums per operand).
_WIDTHS = {op.mnemonic: tuple(o.kind.width for o in op.operands) for op in isa.OPS}
# Slot positions of immediates that become a word (not load_offset's offset).
_WORD_IMMEDIATES = {op.mnemonic: tuple(i for i, o in enumerate(op.operands, start=1)
                                       if o.kind is isa.Kind.IMM and o.name != op.offset)
                    for op in isa.OPS}


class _Fail(Exception):
    pass


class Resolver:
    def __init__(self, module: Module, addresses: dict[str, int],
                 diagnostics: list[ToolchainError], *, partial: bool = False) -> None:
        self.m = module
        # A module checked alone before linking (`vasm assemble -c`): `.extern`
        # names stand for 0, and addresses are not final.
        self.partial = partial
        self.diagnostics = diagnostics
        self.where = {name: (addresses[name], s.length) for name, s in module.symbols.items()
                      if name in addresses}
        self.labels = {name: pc for name, (pc, _, _) in module.labels.items()}
        # Slots by operand list (the module keeps the lists alive, so ids stay unique).
        self.slots: dict[int, tuple] = {}

    def fail(self, o: IROp, message: str, node, notes: tuple[Note, ...] = ()) -> _Fail:
        pos = node if isinstance(node, int) else getattr(node, "pos", None)
        self.diagnostics.append(o.src.error(message, pos, getattr(node, "end", None),
                                            notes=notes))
        return _Fail()

    def scratch(self, o: IROp, ref: Ref, width: int) -> int:
        if ref.name is None:
            a = ref.offset
            if a < 0 or a + width > isa.SCRATCH_SIZE:
                raise self.fail(o, f"@{a}{self.span(a, width)} is outside scratch "
                                f"(0..{isa.SCRATCH_SIZE - 1})", ref.node)
            return a
        w = self.where.get(ref.name)
        if w is None:
            # An .extern is open before linking, and reported at its declaration
            # (once) when it stays open: its uses stand for 0.
            if ref.name in self.m.externs:
                return 0
            raise self.fail(o, self.unknown_symbol(ref.name), ref.node)
        base, length = w
        if ref.offset < 0 or ref.offset + width > length:
            has = f"'{ref.name}' has {length} word{'s' * (length != 1)}"
            if width > 1:
                message = (f"vector operand covers words {ref.offset}..{ref.offset + width - 1} "
                           f"of '{ref.name}', but {has}")
            else:
                message = f"word {ref.offset} is outside '{ref.name}': {has}"
            raise self.fail(o, message, ref.node)
        return base + ref.offset

    @staticmethod
    def span(a: int, width: int) -> str:
        return f" (words {a}..{a + width - 1})" if width > 1 else ""

    def unknown_symbol(self, name: str) -> str:
        if name in self.labels:
            return f"'{name}' is a label, not a scratch symbol"
        if name in self.m.equs:
            return f"'{name}' is an assembly-time constant, not a scratch symbol; write @{name}"
        if "{" in name:
            return still_substituted_message(name)
        hint = did_you_mean(name, self.where) or (
            "; declare it with .scratch, or .extern if another module defines it"
            if self.partial else "; declare it with .scratch")
        return f"unknown scratch symbol '{name}'{hint}"

    def label(self, o: IROp, node: Name) -> int:
        pc = self.labels.get(node.id)
        if pc is not None:
            return pc
        if node.id in self.m.externs:  # as for scratch symbols
            return 0
        if node.id in self.where:
            raise self.fail(o, f"'{node.id}' is a scratch symbol; an immediate needs a number "
                            "or a label", node)
        if node.id in self.m.equs:
            # Folded where it stood, so an .equ set later never reached it.
            site = self.m.equ_sites.get(node.id)
            if site is None:  # a definition that failed, reported already
                return 0
            raise self.fail(o, f"'{node.id}' is used before its .equ: set it above its first "
                            "use", node, notes=(Note(f"'{node.id}' is set here", site),))
        hint = did_you_mean(node.id, [*self.labels, *self.m.equs])
        if not hint and self.partial:
            hint = "; declare it with .extern if another module defines it"
        raise self.fail(o, f"unknown name '{node.id}' (not a label or .equ constant){hint}",
                        node)

    def immediate(self, o: IROp, d: Deferred, pc: int) -> int:
        try:
            v = evaluate(d.value, lambda n: self.label(o, n))
        except ExprError as e:
            raise self.fail(o, e.message, e.pos) from None
        return v - (pc + 1) if d.relative else v

    def slot(self, o: IROp, pc: int) -> tuple[tuple, bool]:
        """(the encoded slot, whether it depends on the op's own position);
        memoized on the operand list when it does not (lowering gives a
        repeated line's ops one list)."""
        got = self.slots.get(id(o.args))
        if got is not None:
            return got, False
        t, moves = self._slot(o, pc)
        if not moves:
            self.slots[id(o.args)] = t
        return t, moves

    def _slot(self, o: IROp, pc: int) -> tuple[tuple, bool]:
        """(the encoded slot, whether it depends on the op's own position)."""
        op = o.op
        out = [op.name]
        moves = False
        offset_index = op.offset_index
        for width, arg in zip(_WIDTHS[op.mnemonic], o.args, strict=True):
            t = type(arg)
            if t is Ref:
                out.append(self.scratch(o, arg, width))
            elif t is Deferred:
                out.append(self.immediate(o, arg, pc))
                moves = True
            else:
                out.append(arg)
        for index in _WORD_IMMEDIATES[op.mnemonic]:  # (most ops have none)
            v = out[index]
            if not -(1 << (isa.WORD_BITS - 1)) <= v <= isa.WORD_MASK:
                self.diagnostics.append(o.src.error(
                    f"{v} does not fit in {isa.WORD_BITS} bits: the machine keeps "
                    f"{v & isa.WORD_MASK} (the value mod 2**{isa.WORD_BITS})",
                    getattr(o.nodes[index - 1], "pos", None), severity="warning"))
        # load_offset: every scratch operand moves by imm (known once linked).
        if offset_index is not None and not self.partial:
            off = out[offset_index]
            for index, width, _ in op.scratch_operands:
                a = out[index] + off
                if a < 0 or a + width > isa.SCRATCH_SIZE:
                    raise self.fail(o, f"'{op.mnemonic}' reaches scratch {a} through its "
                                    f"offset {off}, outside 0..{isa.SCRATCH_SIZE - 1}",
                                    o.nodes[index - 1])
        return tuple(out), moves

    def run(self) -> Kernel | None:
        program = []
        source = []
        op_source: list[tuple[str, ...] | None] = []  # where ops of one bundle differ
        ok = True
        shared: dict[tuple, dict] = {}  # equal bundles share one object, as Kernel does
        where: dict[int, str] = {}  # a Src (by id) -> its position
        done: dict[int, tuple] = {}  # IR bundles shared by repeated lines
        flows: list[int] = []  # the pcs whose bundle has flow ops: where jumps can be
        filled: dict[int, tuple] = {}  # a template's slot, by the nodes its ops share
        slot = self.slot
        for pc, b in enumerate(self.m.bundles):
            got = done.get(id(b))  # (the module keeps its bundles alive)
            if got is not None:
                program.append(got[0])
                source.append(got[1])
                op_source.append(None)
                if got[2]:
                    flows.append(pc)
                continue
            ops = b.ops
            moves = once = False
            try:
                if len(ops) == 1 and len(b.order) == 1:  # most bundles: a shorter way
                    o = ops[0]
                    engine = b.order[0]
                    h = o.hole
                    if h >= 0:
                        # Filled in from a template: the template's slot with
                        # this key, in a bundle of its own, listed once.
                        t = filled.get(id(o.nodes))
                        if t is None:
                            t, moves = self._slot(o, pc)
                            if not moves:
                                filled[id(o.nodes)] = t
                        else:
                            t = (*t[:h + 1], o.args[h], *t[h + 2:])
                        bundle = {engine: [t]}
                        once = True
                    else:
                        t, moves = slot(o, pc)
                        key: tuple = (engine, t)  # (no other path makes a (str, tuple) key)
                        bundle = shared.get(key)
                        if bundle is None:
                            bundle = shared[key] = {engine: [t]}
                    src = o.src
                    lines = None
                else:
                    bundle = {e: [] for e in b.order}
                    for o in ops:
                        try:
                            t, m = slot(o, pc)
                        except _Fail:
                            ok = False
                            continue
                        bundle[o.op.engine].append(t)
                        moves = moves or m
                    key = tuple([(e, tuple(s)) for e, s in bundle.items()])
                    bundle = shared.setdefault(key, bundle)
                    src = ops[0].src if ops else b.src
                    lines = _op_lines(b, src.where)
            except _Fail:
                ok = False
                continue
            program.append(bundle)
            w = where.get(id(src))
            if w is None:
                w = where[id(src)] = src.where
            source.append(w)
            op_source.append(lines)
            flow = "flow" in bundle
            if flow:
                flows.append(pc)
            if not moves and not once:  # a bundle listed again (a repeated line) is this one
                done[id(b)] = (bundle, w, flow)
        # (after an error the program lacks bundles: its jumps are not checked)
        if ok and not self.partial and not self.jumps_inside(program, flows):
            ok = False
        if not ok:
            return None
        scratch = {a: (name, self.m.symbols[name].length)
                   for name, (a, _) in self.where.items()}
        # Every slot was built from the ISA table and range-checked above.
        return Kernel(program, scratch, dict(self.labels), source, op_source=op_source,
                      hints=self.hints(), validate=False)

    def hints(self) -> Hints:
        """The scheduler's hints: `.restrict` sets and `.temp` symbols as scratch
        words, `.pin` ranges as bundle indices."""
        address = {name: a for name, (a, _) in self.where.items()}
        restrict = tuple(words for words in (
            tuple(sorted({address[n] for n in names if n in address}))
            for names, _ in self.m.restricts) if words)
        pinned = frozenset(pc for start, end in self.m.pins for pc in range(start, end))
        temps = frozenset(address[s.name] + i for s in self.m.symbols.values()
                          if s.temp and s.name in address for i in range(s.length))
        return Hints(restrict, pinned, temps)


    def jumps_inside(self, program: list[dict], flows: list[int]) -> bool:
        """Every jump's target in 0..len(program) (the end itself stops the
        run); each one outside is an error at its target operand. `flows`:
        the pcs of the bundles with flow ops."""
        n = len(program)
        outside = ControlFlow(program, pcs=flows).outside()
        for j in outside:
            flow_ops = [o for o in self.m.bundles[j.pc].ops if o.op.engine == "flow"]
            o = flow_ops[j.slot]
            index = next(i for i, operand in enumerate(o.op.operands)
                         if operand.kind in (isa.Kind.TARGET, isa.Kind.OFFSET))
            how = "" if o.op.operands[index].kind is isa.Kind.TARGET else \
                f" ({j.target - j.pc - 1:+d} from bundle {j.pc + 1})"
            self.fail(o, f"jump target {j.target}{how} is outside the program "
                      f"(0..{n}, where {n} ends it)", o.nodes[index])
        return not outside


def _op_lines(b, first: str) -> tuple[str, ...] | None:
    """Each op's source position in the bundle's slot order (engines in the
    bundle's order, then its ops), or None when all are at `first`."""
    if len(b.ops) < 2 or all(o.src.where == first for o in b.ops):
        return None
    return tuple(o.src.where for e in b.order for o in b.ops if o.op.engine == e)


def resolve(module: Module, addresses: dict[str, int], *, partial: bool = False
            ) -> tuple[Kernel | None, list[ToolchainError]]:
    """(the kernel, or None after errors; the diagnostics). With `partial`,
    only check the module: `.extern` names may stay undefined."""
    diagnostics: list[ToolchainError] = []
    return Resolver(module, addresses, diagnostics, partial=partial).run(), diagnostics
