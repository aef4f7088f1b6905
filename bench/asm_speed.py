"""Assembler speed, as ratios against baselines measured in the same run.

    python bench/asm_speed.py [--repeat N] [--skip-start]

1. Assembling disassembled kernels (every full-size corpus kernel and the
   take-home's 197k-bundle starting kernel): lines/s and ops/s, and the
   end-to-end speed as a fraction of a bare Lark parse of the same text (our
   grammar, whole file, LALR + basic lexer, plain parse tree: no work of
   ours at all, the floor).
2. `programs/takehome/baseline.vasm` (macros and .for loops) against building
   the same bundle list with a plain Python generator, the way take-home
   users build kernels today (emu/starting_kernel.py).

Best of N runs each (default 3; the bare parse of the starting kernel runs once).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asm.kernel import Kernel, kernel_from_json  # noqa: E402
from asm.stages.assembler import assemble  # noqa: E402
from asm.stages.syntax import tree_parser  # noqa: E402
from asm.views.disasm import disassemble  # noqa: E402
from bench.timing import best_of  # noqa: E402
from emu.starting_kernel import build_starting_kernel  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
BASELINE = ROOT / "programs" / "takehome" / "baseline.vasm"


def ops(kernel: Kernel) -> int:
    return sum(len(s) for b in kernel.program for s in b.values())


def generator_ratio(repeat: int) -> None:
    """Both sides in the same state: a small heap, nothing kept between runs
    (a Python generator's own garbage collections walk whatever is alive)."""
    t_gen = t_src = float("inf")
    for _ in range(repeat):
        t_gen = min(t_gen, best_of(1, build_starting_kernel))
        t_src = min(t_src, best_of(1, lambda: assemble(BASELINE)))
    print("baseline.vasm against a plain Python generator of the same bundles")
    print(f"  generator {t_gen:.3f}s   assemble {t_src:.3f}s   ratio {t_src / t_gen:.2f}x "
          "(target: no more than 2x)")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-start", action="store_true",
                    help="leave out the 197k-line starting kernel (about a minute)")
    args = ap.parse_args()
    generator_ratio(args.repeat)

    cases: list[tuple[str, Kernel]] = []
    for path in sorted(CORPUS.glob("*.json.gz")):
        if ".small." not in path.name:
            with gzip.open(path) as f:
                cases.append((path.name.split("+")[0], kernel_from_json(json.load(f))))
    if not args.skip_start:
        program, scratch = build_starting_kernel()
        cases.append(("starting kernel", Kernel(program, scratch=scratch)))

    tree_parser()  # build (or load) the parser tables outside the timings
    print("assembling disassembled kernels (best of "
          f"{args.repeat}; bare parse = the floor)")
    print(f"{'kernel':<16}{'lines':>8}{'ops':>8}{'assemble':>10}{'lines/s':>9}{'ops/s':>9}"
          f"{'bare parse':>11}{'vs floor':>9}")
    for name, kernel in cases:
        text = disassemble(kernel)
        n_lines, n_ops = text.count("\n"), ops(kernel)
        big = n_lines > 100_000
        t_asm = best_of(1 if big else args.repeat, lambda text=text: assemble(text))
        t_parse = best_of(1 if big else args.repeat, lambda text=text: tree_parser().parse(text))
        print(f"{name:<16}{n_lines:>8}{n_ops:>8}{t_asm:>9.2f}s{n_lines / t_asm:>9.0f}"
              f"{n_ops / t_asm:>9.0f}{t_parse:>10.2f}s{t_parse / t_asm:>8.2f}x")


if __name__ == "__main__":
    main()
