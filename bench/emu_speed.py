"""Emulator speed as users meet it, against the take-home's own simulator, in one run.

    python bench/emu_speed.py --takehome DIR [--repeat 5] [--images 1000]

DIR is a local checkout of anthropics/original_performance_takehome (never
part of this repository); its `problem.Machine` is timed in the same process
on the same inputs. Every figure is end to end from what the user holds:

- `KernelBuilder.instrs` (bundles of tuples) passed to `emu.run`, loading and
  checking included, against `Machine(mem, instrs, ...).run()`;
- the lists a JSON dump of them reads back as, the same way;
- `vemu run FILE --mem IMAGE`, `vemu run FILE --check` (the take-home
  image, checked against the reference kernel) and `vemu run K.vk.json
  --check` (the same program as a kernel image) as whole processes, through
  the installed `vemu` script, against a Python process that reads the same
  JSON files and runs `Machine` (without checking anything);
- N images of each full-size corpus kernel with `emu.run_batch` against N
  runs of `Machine` (timed on a sample of the images and scaled), and the
  worst ratio.

Both processes run with Python's bytecode cache on, as a user's Python runs
(this project's sandboxes set PYTHONDONTWRITEBYTECODE, which would make every
process compile every module it imports: both sides, but ours has more).

Kernels: two ~1,100-cycle corpus kernels and the take-home's starting kernel
(147,734 cycles, built by the checkout's own KernelBuilder). Nothing is
kept between calls (each load checks its program afresh). In one process:
best of --repeat runs, interleaved; whole processes: medians of 3 x --repeat.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asm  # noqa: E402
import emu  # noqa: E402
from bench.timing import USER_ENV, tool_command  # noqa: E402
from emu.problem import Params, make_image  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
KERNELS = ["lianghongkey+original_performance_takehome",
           "mmurrs+original_performance_takehome"]


def best(repeat: int, *fns: Callable[[], object]) -> list[float]:
    """Best time of each function, the functions interleaved `repeat` times."""
    out = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            out[i] = min(out[i], time.perf_counter() - t)
    return out


def machine_runner(problem) -> Callable[[list, list[int]], int]:
    def run(instrs: list, mem: list[int]) -> int:
        m = problem.Machine(list(mem), instrs, problem.DebugInfo(scratch_map={}))
        m.enable_pause = False
        m.enable_debug = False
        m.run()
        return m.cycle
    return run


def in_process(name: str, instrs: list, mem: list[int], machine, repeat: int) -> None:
    lists = json.loads(json.dumps(instrs))
    cycles = machine(instrs, mem)
    assert emu.run(instrs, mem).cycles == cycles == emu.run(lists, mem).cycles
    t_machine, t_tuples, t_lists = best(repeat, lambda: machine(instrs, mem),
                                        lambda: emu.run(instrs, mem),
                                        lambda: emu.run(lists, mem))
    print(f"{name:<26}{cycles:>8} cycles  Machine {t_machine * 1e3:8.1f} ms   "
          f"emu.run(tuples) {t_tuples * 1e3:7.1f} ms = {t_machine / t_tuples:5.2f}x   "
          f"emu.run(JSON lists) {t_lists * 1e3:7.1f} ms = {t_machine / t_lists:5.2f}x")


MACHINE_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
import problem
instrs = json.load(open(sys.argv[2]))
mem = json.load(open(sys.argv[3]))
m = problem.Machine(mem, instrs, problem.DebugInfo(scratch_map={}))
m.enable_pause = False
m.enable_debug = False
m.run()
print(m.cycle, "cycles")
"""


def as_processes(name: str, instrs: list, mem: list[int], takehome: Path, repeat: int) -> float:
    """Whole processes, taking turns: the take-home's Machine against `vemu
    run` with --mem, with --check (the take-home image), and with --check on
    the same program as a kernel image (.vk.json: the full command line).
    Prints the medians; returns the --check ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        program, image = Path(tmp) / "k.json", Path(tmp) / "mem.json"
        kernel_image = Path(tmp) / "k.vk.json"
        program.write_text(json.dumps(instrs))
        image.write_text(json.dumps(mem))
        asm.save_kernel(asm.Kernel(instrs), kernel_image)
        vemu = [*tool_command("vemu", "emu.launch"), "run"]
        commands = {
            "python + Machine": [sys.executable, "-c", MACHINE_SCRIPT, str(takehome),
                                 str(program), str(image)],
            "vemu run --mem": [*vemu, str(program), "--mem", str(image)],
            "vemu run --check": [*vemu, str(program), "--check"],
            ".vk.json --check": [*vemu, str(kernel_image), "--check"],
        }
        times: dict[str, list[float]] = {label: [] for label in commands}
        cycles: set[int] = set()
        for command in commands.values():  # writes the bytecode caches of all
            subprocess.run(command, capture_output=True, cwd=ROOT, env=USER_ENV)
        for _ in range(repeat):
            for label, command in commands.items():
                t = time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                                      env=USER_ENV)
                times[label].append(time.perf_counter() - t)
                assert done.returncode == 0, done.stderr
                cycles.add(int(done.stdout.split()[0]))  # "N cycles, ..."
    assert len(cycles) == 1, cycles
    median = {label: statistics.median(t) for label, t in times.items()}
    base = median["python + Machine"]
    others = "   ".join(f"{label} {median[label] * 1e3:4.0f} ms = {base / median[label]:4.2f}x"
                       for label in list(commands)[1:])
    print(f"{name:<26}process: python + Machine {base * 1e3:4.0f} ms   {others}")
    return base / median["vemu run --check"]


def batched(name: str, instrs: list, params: Params, machine, images: int,
            repeat: int) -> float:
    """One kernel's batch figure, printed; the ratio."""
    mems = [make_image(params, seed) for seed in range(images)]
    sample = mems[:min(images, SAMPLE)]
    results = emu.run_batch(instrs, mems[:3])
    assert [r.cycles for r in results] == [machine(instrs, m) for m in mems[:3]]
    t_machine = t_batch = float("inf")
    for _ in range(min(repeat, 2)):  # interleaved: a slow spell of the machine hits both
        t = time.perf_counter()
        for m in sample:
            machine(instrs, m)
        t_machine = min(t_machine, (time.perf_counter() - t) * images / len(sample))
        [t] = best(1, lambda: emu.run_batch(instrs, mems))
        t_batch = min(t_batch, t)
    scaled = "" if len(sample) == images else f" ({len(sample)} timed, scaled)"
    print(f"{images} images of {name:<22} {results[0].cycles:>6} cycles: Machine "
          f"{t_machine:7.1f} s{scaled}   emu.run_batch {t_batch:6.2f} s = "
          f"{t_machine / t_batch:6.1f}x", flush=True)
    return t_machine / t_batch


SAMPLE = 10  # images Machine runs per kernel (its time is scaled to all of them)


def corpus_kernels(names: list[str] | None = None) -> list[tuple[str, list, Params]]:
    """Full-size corpus kernels (the `.small` variants left out) as bundles of tuples."""
    out = []
    for path in sorted(CORPUS.glob("*.json.gz")):
        name = path.name.removesuffix(".json.gz")
        if name.endswith(".small") or (names is not None and name not in names):
            continue
        doc = json.loads(gzip.decompress(path.read_bytes()))
        p = doc["params"]
        instrs = [{e: [tuple(s) for s in slots] for e, slots in b.items()}
                  for b in doc["instrs"]]
        out.append((name.split("+")[0], instrs,
                    Params(p["forest_height"], p["batch_size"], p["rounds"])))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--takehome", type=Path, required=True,
                    help="a checkout of anthropics/original_performance_takehome")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--processes-only", action="store_true",
                    help="only the whole-process figures")
    args = ap.parse_args()
    sys.path.insert(0, str(args.takehome))
    import perf_takehome
    import problem
    machine = machine_runner(problem)
    kernels = corpus_kernels(KERNELS)
    kb = perf_takehome.KernelBuilder()
    kb.build_kernel(10, 2047, 256, 16)
    kernels.append(("starting kernel", kb.instrs, Params(10, 256, 16)))
    if not args.processes_only:
        print("In one process, end to end from what the user holds (loading included):")
        for name, instrs, params in kernels:
            in_process(name, instrs, make_image(params, 123), machine, args.repeat)
    print(f"As whole processes (interpreter start, imports, reading the files; medians of "
          f"{args.repeat * 3}, taking turns):")
    for name, instrs, params in kernels[:-1]:  # the ~1,100-cycle corpus kernels
        as_processes(name, instrs, make_image(params, 123), args.takehome, args.repeat * 3)
    if args.processes_only:
        return
    print(f"Batched, every full-size corpus kernel ({SAMPLE} images timed on Machine, "
          "interleaved with the batch):")
    ratios = {name: batched(name, instrs, params, machine, args.images, args.repeat)
              for name, instrs, params in corpus_kernels()}
    worst = min(ratios, key=ratios.get)
    print(f"worst: {worst} {ratios[worst]:.1f}x   median "
          f"{sorted(ratios.values())[len(ratios) // 2]:.1f}x")


if __name__ == "__main__":
    main()
