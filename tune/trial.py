"""One trial: the kernel assembled with one choice of its parameters,
scheduled, run on every image and checked. A kernel that does not assemble,
faults or computes a wrong result is a failed trial with its message, never
a good result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asm.diagnostics import printable
from asm.kernel import Kernel
from asm.stages.assembler import assemble_full
from emu.problem import Params, compare_values, expected_output, make_image

# A check of a run's final memory: None when right, else what is wrong.
Check = Callable[[list[int]], str | None]


@dataclass(frozen=True)
class Image:
    """A memory image to run on and how to check what the kernel leaves."""

    name: str
    mem: list[int]
    check: Check


def takehome_images(params: Params, seeds: Sequence[int]) -> list[Image]:
    """The take-home's images for `seeds`, checked against its reference kernel."""
    out = []
    for seed in seeds:
        mem = make_image(params, seed)
        expected = expected_output(mem)

        def check(after: list[int], expected=expected) -> str | None:
            wrong = compare_values(after, expected)
            return None if wrong is None else f"wrong output: {wrong}"

        out.append(Image(f"seed {seed}", mem, check))
    return out


def expected_images(pairs: Sequence[tuple[str, list[int], list[int]]]) -> list[Image]:
    """The user's own images: (name, memory, the whole memory expected after)."""
    out = []
    for name, mem, want in pairs:
        def check(after: list[int], want=want) -> str | None:
            if len(after) != len(want):
                return f"{len(after)} words of memory, expected {len(want)}"
            wrong = next((i for i, (a, b) in enumerate(zip(after, want, strict=True))
                          if a != b), None)
            return None if wrong is None else (f"word {wrong} is {after[wrong]}, expected "
                                               f"{want[wrong]}")

        out.append(Image(name, mem, check))
    return out


@dataclass(frozen=True)
class Build:
    """How every trial is built: the source and what `vasm assemble` would be
    given besides the tuned parameters."""

    source: Path
    defines: Mapping[str, int] = field(default_factory=dict)
    include_paths: tuple[str, ...] = ()
    level: int = 2
    budget: float | None = None
    split: bool = True
    rename: bool = False


@dataclass
class Outcome:
    """What a trial found: cycles (the most any image took) and the tight
    bound, or why it failed ("failed": it did not build or run; "wrong")."""

    cycles: int | None = None
    bound: int | None = None
    seconds: float = 0.0
    failure: str | None = None  # "failed" or "wrong"
    message: str | None = None
    kernel: Kernel | None = field(default=None, repr=False)


def evaluate(build: Build, defines: Mapping[str, int], images: Sequence[Image], *,
             seed: int = 0, keep_kernel: bool = False) -> Outcome:
    """Assemble with `defines` (over the build's own), schedule, run and check."""
    started = time.perf_counter()
    out = _evaluate(build, defines, images, seed)
    out.seconds = time.perf_counter() - started
    if not keep_kernel:
        out.kernel = None
    return out


def _evaluate(build: Build, defines: Mapping[str, int], images: Sequence[Image],
              seed: int) -> Outcome:
    from asm.sched.schedule import schedule_kernel
    from emu import run_batch
    assembly = assemble_full(build.source, defines={**build.defines, **defines},
                             include_paths=build.include_paths)
    if assembly.kernel is None or assembly.errors:
        first = assembly.errors[0] if assembly.errors else None
        where = f"{first.location}: " if first is not None and first.location else ""
        text = first.message if first is not None else "does not assemble"
        return Outcome(failure="failed", message=printable(f"{where}{text}"))
    options = {"level": build.level, "budget": build.budget, "jobs": 1, "split": build.split,
               "seed": seed}
    if build.rename:
        options["rename_words"] = "all"
    scheduled = schedule_kernel(assembly.kernel, **options)
    kernel = scheduled.kernel
    results = run_batch(kernel, [list(i.mem) for i in images])
    cycles = 0
    for image, result in zip(images, results, strict=True):
        if result.error is not None:
            return Outcome(failure="failed", message=printable(f"{image.name}: {result.error}"),
                           kernel=kernel)
        wrong = image.check(result.mem)
        if wrong is not None:
            return Outcome(failure="wrong", message=printable(f"{image.name}: {wrong}"),
                           kernel=kernel)
        cycles = max(cycles, result.cycles)
    return Outcome(cycles, scheduled.bound, kernel=kernel)
