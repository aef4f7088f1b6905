"""The assembler's IR: bundles of ops whose operands are still symbolic.

Lowering (asm/stages/lower.py) builds a `Module`; layout gives scratch symbols their
addresses; resolution turns it into a `Kernel`. The scheduler and the linker
work on this IR too, so it keeps what they need: temps, `.restrict` sets,
`.pin` ranges, `.global` / `.extern` names and the source of every op.

Repeated code shares objects: a line expanded again with the same values
yields the same `IROp`s and `IRBundle`s (and `Module.bundles` may list one
bundle object many times); a line whose debug key names every loop variable
yields ops filled in from one template (`IROp.hole`). Passes build new objects; they never edit these
in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import isa
from .errors import Location
from .source import Src
from .tree import Node, Value


@dataclass(slots=True)
class Ref:
    """A scratch operand: `name[offset]`, or the raw address `offset` when name is None."""

    name: str | None
    offset: int
    node: Node


@dataclass(slots=True)
class Deferred:
    """An immediate that names labels; `relative` for cond_jump_rel's offset."""

    value: Value
    relative: bool = False


Arg = int | Ref | Deferred | tuple | str


@dataclass(slots=True)
class IROp:
    op: isa.Op
    args: list[Arg]
    src: Src
    pos: int
    nodes: list[Node]  # each argument's syntax, for error positions
    # An op filled in from a template (asm/stages/expand/plan.py): args[hole]
    # is its debug key, and every other argument is that of every op filled
    # in from the same template, which all share `nodes`. -1: not filled in.
    hole: int = -1


@dataclass(slots=True)
class IRBundle:
    ops: list[IROp]
    src: Src
    pos: int
    # Engines in the order the bundle names them, ops and `.empty` alike;
    # engines named only by `.empty` get an empty slot list.
    order: list[str] = field(default_factory=list)
    pinned: bool = False  # inside .pin / .endpin


@dataclass(slots=True)
class Symbol:
    name: str
    length: int
    src: Src
    pos: int
    pin: int | None = None
    temp: bool = False
    vector: bool = False
    const: int | None = None  # the value, for `.const`


@dataclass
class Module:
    bundles: list[IRBundle] = field(default_factory=list)
    symbols: dict[str, Symbol] = field(default_factory=dict)
    labels: dict[str, tuple[int, Src, int]] = field(default_factory=dict)
    globals: dict[str, tuple[Src, int]] = field(default_factory=dict)
    externs: dict[str, tuple[Src, int]] = field(default_factory=dict)
    restricts: list[tuple[list[str], Src]] = field(default_factory=list)
    pins: list[tuple[int, int]] = field(default_factory=list)  # [start, end) bundle ranges
    equs: dict[str, Value] = field(default_factory=dict)
    equ_sites: dict[str, Location] = field(default_factory=dict)  # where each .equ was set
