"""Scheduler quality and speed against the corpus authors, in one run.

    python bench/sched_speed.py [--seeds 3] [--first-seed 11] [--levels 1,2,3]
                                [--budget 10] [--kernels NAME,...] [--skip-programs]

For every full-size corpus kernel (tests/corpus): flattened to one op per
bundle in a random order its dependences allow (one order per seed, so that
the authors' packing cannot leak through program order), then scheduled at
each level. Per kernel and level: the cycles reached on each seed (checked
correct on a take-home image), the worst as a ratio to the authors' own count
and to the tight lower bound (asm/sched/bounds.py, of the program as
scheduled: after lane splitting when that was kept), and the time; last, the
most vector ops any kept schedule ran as scalar lanes. Then the medians
over every run, and `vasm assemble --no-cache --schedule` of
programs/takehome/fast.vasm and baseline.vasm as whole processes, as a user
runs them (with Python's bytecode cache), and fast.vasm again unchanged, from
the build cache.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asm.kernel import kernel_from_json  # noqa: E402
from asm.sched.flatten import flatten  # noqa: E402
from asm.sched.schedule import schedule_kernel  # noqa: E402
from bench.timing import USER_ENV, tool_command  # noqa: E402
from emu.problem import Params, make_image  # noqa: E402
from emu.verify import run_verified  # noqa: E402


def corpus(names: set[str] | None) -> list[tuple[str, dict]]:
    out = []
    for path in sorted((ROOT / "tests" / "corpus").glob("*.json.gz")):
        name = path.name.split("+")[0]
        if ".small." in path.name or (names and name not in names):
            continue
        out.append((name, json.loads(gzip.decompress(path.read_bytes()))))
    return out


def run_kernel(data: dict, level: int, seeds: list[int], budget: float, split: bool = True
               ) -> tuple[list[int], int, float, bool, int]:
    """(cycles per seed, tight bound, seconds in all, all correct, most vector
    ops a kept schedule split into lanes)."""
    kernel = kernel_from_json(data)
    p = data["params"]
    mem = make_image(Params(p["forest_height"], p["batch_size"], p["rounds"]), 5)
    cycles, bound, seconds, correct, moved = [], 0, 0.0, True, 0
    for seed in seeds:
        flat = flatten(kernel, random.Random(seed))
        t = time.perf_counter()
        s = schedule_kernel(flat, level=level, budget=budget, split=split)
        moved = max(moved, s.split.moved if s.split else 0)
        seconds += time.perf_counter() - t
        run = run_verified(s.kernel, list(mem), verify=True)
        cycles.append(run.result.cycles)
        bound = s.bound
        correct = correct and bool(run.correct)
    return cycles, bound, seconds, correct, moved


def whole_process(args: list[str], repeat: int = 1) -> tuple[float, str]:
    """The fastest of `repeat` runs of a whole `vasm` process (the installed
    script, bench/timing.py), and what `vemu run --check` says of its output.
    The build cache is the user's: pass `--no-cache` in `args` to leave it out."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "k.vk.json"
        command = [*tool_command("vasm", "asm.cli"), *args, "-q", "-o", str(out)]
        # (as pip does at install: every module compiled once)
        subprocess.run([sys.executable, "-m", "compileall", "-q", "asm", "emu"],
                       capture_output=True, cwd=ROOT, env=USER_ENV)
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=USER_ENV)
            times.append(time.perf_counter() - t)
            if done.returncode:
                return times[-1], done.stderr.strip().splitlines()[-1]
        seconds = min(times)
        ran = subprocess.run([*tool_command("vemu", "emu.launch"), "run", str(out), "--check"],
                             capture_output=True, text=True, cwd=ROOT)
        return seconds, ran.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=11,
                    help="the first shuffle seed (11 is the one the scheduler was tuned on; "
                         "others are held out)")
    ap.add_argument("--levels", default="1,2,3")
    ap.add_argument("--budget", type=float, default=10.0, help="seconds per schedule at -O3")
    ap.add_argument("--kernels", help="comma-separated author names (default: all)")
    ap.add_argument("--skip-programs", action="store_true")
    ap.add_argument("--no-split", action="store_true", help="schedule without lane splitting")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    names = set(args.kernels.split(",")) if args.kernels else None
    ratios: dict[int, list[float]] = {lv: [] for lv in levels}
    over: dict[int, list[str]] = {lv: [] for lv in levels}
    print(f"{len(seeds)} shuffles per kernel (seeds {seeds[0]}..{seeds[-1]}); -O3 budget "
          f"{args.budget:g} s. Cycles per seed; worst/authors; worst/tight bound; time.")
    print(f"{'kernel':<28}{'authors':>8}{'bound':>7}" + "".join(
        f"  {'-O' + str(lv) + ' cycles':<22}{'/auth':>6}{'/bnd':>6}{'time':>7}" for lv in levels)
        + "  split")
    for name, data in corpus(names):
        row = f"{name:<28}{data['cycles']:>8}"
        cells = []
        bound, split = 0, 0
        for lv in levels:
            cycles, bound, seconds, correct, moved = run_kernel(data, lv, seeds, args.budget,
                                                                not args.no_split)
            split = max(split, moved)
            worst = max(cycles)
            ratios[lv] += [c / data["cycles"] for c in cycles]
            if worst > data["cycles"]:
                over[lv].append(name)
            mark = "" if correct else " WRONG"
            cells.append(f"  {','.join(map(str, cycles)) + mark:<22}"
                         f"{worst / data['cycles']:>6.3f}{worst / bound:>6.3f}"
                         f"{seconds / len(seeds):>6.1f}s")
        print(row + f"{bound:>7}" + "".join(cells) + f"{split:>7}", flush=True)
    for lv in levels:
        print(f"-O{lv}: median ratio to the authors {statistics.median(ratios[lv]):.3f} over "
              f"{len(ratios[lv])} runs; over the authors on some seed: "
              f"{', '.join(over[lv]) or 'none'}")
    if args.skip_programs:
        return
    # The absolute times below depend on the machine and its load at the time.
    # The loop runs as a script's top level does (`python -c "for i in
    # range(10_000_000): pass"`): its variable in a namespace dict, which
    # takes about twice as long as a function's local.
    loop = compile("for i in range(10_000_000): pass", "<loop>", "exec")
    t = time.perf_counter()
    exec(loop, {})
    print(f"(this machine now: an empty 10M-iteration Python loop at a script's top level "
          f"takes {time.perf_counter() - t:.2f} s)")
    for program in ("fast.vasm", "baseline.vasm"):
        for lv in (1, 2):
            src = f"programs/takehome/{program}"
            # (the machine's speed wanders: the best of three short runs)
            repeat = 3 if program == "fast.vasm" else 1
            seconds, outcome = whole_process(["assemble", "--no-cache", "--schedule", f"-O{lv}",
                                              src], repeat)
            print(f"vasm assemble --no-cache --schedule -O{lv} {src}: {seconds:.2f} s"
                  f"{' (best of 3)' if repeat > 1 else ''}; vemu run: {outcome}")
    # The loop a user lives in: the same build again, from the build cache.
    src = "programs/takehome/fast.vasm"
    whole_process(["assemble", "--schedule", src])  # (fills the cache if need be)
    seconds, outcome = whole_process(["assemble", "--schedule", src], 3)
    print(f"vasm assemble --schedule {src} again, unchanged (the build cache): "
          f"{seconds:.2f} s (best of 3); vemu run: {outcome}")


if __name__ == "__main__":
    main()
