"""The language's words, grouped as the highlighters show them.

Mnemonics come from the ISA table; directives are listed here once (the
assembler's stages each handle their share, and a test checks that together
they handle exactly these). `vasm editors --write` copies both into the VS
Code, Vim and Emacs files; the Pygments lexer reads them directly.
"""

from __future__ import annotations

from . import isa

# Declarations and symbol directives: what a module has and shares.
DECLARATIONS = (".scratch", ".vector", ".temp", ".const", ".equ", ".global", ".extern",
                ".restrict")
# Assembly-time text processing: includes, macros, loops, conditionals, messages.
PREPROCESSOR = (".include", ".macro", ".endm", ".rept", ".endr", ".for", ".endfor", ".if",
                ".elif", ".else", ".endif", ".ifdef", ".ifndef", ".error", ".warning")
# Bundle layout for the scheduler and the machine.
LAYOUT = (".pin", ".endpin", ".empty")
DIRECTIVES = DECLARATIONS + PREPROCESSOR + LAYOUT
# Directives that open a block -> the directive that closes it, and the
# branches a conditional block may have between.
BLOCKS = {".macro": ".endm", ".rept": ".endr", ".for": ".endfor", ".if": ".endif",
          ".ifdef": ".endif", ".ifndef": ".endif", ".pin": ".endpin"}
BRANCHES = (".elif", ".else")

ENGINE_GROUPS = ("alu", "valu", "load", "store", "flow", "control", "debug")


def mnemonic_groups() -> dict[str, list[str]]:
    """Mnemonics (aliases too) by group: each engine, with the flow engine's
    control-flow ops (jumps, halt, pause) in a group of their own."""
    groups: dict[str, list[str]] = {g: [] for g in ENGINE_GROUPS}
    for op in isa.OPS:
        group = "control" if op.control is not None else op.engine
        groups[group].extend((op.mnemonic, *op.aliases))
    return groups


def target_operands() -> dict[str, tuple[int, ...]]:
    """For each mnemonic with jump-target operands, their positions (0-based):
    names there are label references."""
    out = {}
    for m, op in isa.BY_MNEMONIC.items():
        where = tuple(i for i, o in enumerate(op.operands)
                      if o.kind in (isa.Kind.TARGET, isa.Kind.OFFSET))
        if where:
            out[m] = where
    return out
