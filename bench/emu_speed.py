"""Emulator speed: the fast engine as a ratio to the reference engine, same run.

    python bench/emu_speed.py [--repeat N] [--takehome DIR]

End to end from a loaded Kernel to the result (decode included), best of N
runs each, for one run of the take-home's starting kernel (147,734 cycles)
and of ~1,400-cycle optimized corpus kernels. Loading (JSON parse and
validation) is shared by both engines and reported on its own.

Batched runs: --images N (default 1,000) random take-home images of a
~1,350-cycle corpus kernel (prateek's), all at once with `emu.run_batch`
against N sequential `emu.run` calls with the fast engine and with the
reference engine (a tenth of the images, scaled), same process.

--takehome DIR also times the take-home's own simulator (problem.Machine from
a local checkout of anthropics/original_performance_takehome, never part of
this repository) on the same starting kernel, for the claim that our
reference engine is no slower than it, and on the batch kernel's images.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import emu  # noqa: E402
from asm.kernel import Kernel, dumps_kernel, loads_kernel  # noqa: E402
from bench.timing import best_of  # noqa: E402
from emu.problem import Params, make_image  # noqa: E402
from emu.starting_kernel import build_starting_kernel  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
OPTIMIZED = [
    "prateek+original_performance_takehome.json.gz",
    "YibinLong+Anthropic_Performance_Take_Home.json.gz",
]




def compare(name: str, kernel: Kernel, mem: list[int], repeat: int) -> None:
    cycles = emu.run(kernel, mem, engine="fast").cycles
    assert cycles == emu.run(kernel, mem, engine="reference").cycles
    ref = best_of(repeat, lambda: emu.run(kernel, mem, engine="reference"))
    fast = best_of(repeat, lambda: emu.run(kernel, mem, engine="fast"))
    print(f"{name:<44} {cycles:>8} cycles  reference {ref * 1e3:8.1f} ms  "
          f"fast {fast * 1e3:7.1f} ms  fast/reference speed {ref / fast:5.2f}x")


def takehome_machine(directory: Path, program: list, mem: list[int], repeat: int) -> float:
    sys.path.insert(0, str(directory))
    import problem  # the take-home's simulator, from the local checkout

    def once():
        m = problem.Machine(list(mem), program, problem.DebugInfo(scratch_map={}))
        m.enable_pause = False
        m.enable_debug = False
        m.run()
        assert m.cycle == 147_734
    return best_of(repeat, once)


def batch(images: int, repeat: int, takehome: Path | None) -> None:
    import time
    doc = json.loads(gzip.decompress((CORPUS / OPTIMIZED[0]).read_bytes()))
    p = doc["params"]
    kernel = loads_kernel(json.dumps(doc))
    params = Params(p["forest_height"], p["batch_size"], p["rounds"])
    mems = [make_image(params, seed) for seed in range(images)]
    batched = best_of(repeat, lambda: emu.run_batch(kernel, mems))
    results = emu.run_batch(kernel, mems)
    t = time.perf_counter()
    singles = [emu.run(kernel, m) for m in mems]
    fast = time.perf_counter() - t
    assert all(a.mem == b.mem and a.cycles == b.cycles for a, b in zip(results, singles, strict=True))
    few = mems[:max(1, images // 10)]
    t = time.perf_counter()
    for m in few:
        emu.run(kernel, m, engine="reference")
    ref = (time.perf_counter() - t) * images / len(few)
    print(f"{images} images of {OPTIMIZED[0].removesuffix('.json.gz')} "
          f"({results[0].cycles} cycles): run_batch {batched:.2f} s; sequential fast "
          f"{fast:.1f} s ({fast / batched:.0f}x); sequential reference {ref:.1f} s "
          f"({ref / batched:.0f}x)")
    if takehome:
        sys.path.insert(0, str(takehome))
        import problem
        program = [{e: [tuple(x) for x in sl] for e, sl in b.items()} for b in doc["instrs"]]
        t = time.perf_counter()
        for m in few:
            machine = problem.Machine(list(m), program, problem.DebugInfo(scratch_map={}))
            machine.enable_pause = False
            machine.enable_debug = False
            machine.run()
        th = (time.perf_counter() - t) * images / len(few)
        print(f"  the take-home's Machine would take {th:.1f} s: run_batch is "
              f"{th / batched:.0f}x faster")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--takehome", type=Path, help="a checkout of the take-home, to time its Machine")
    ap.add_argument("--images", type=int, default=1000, help="images for the batched run")
    args = ap.parse_args()

    # The small kernels first: timed beside the starting kernel's 200k bundles
    # in the heap, every run would start with its caches cold, which is not
    # what `vemu run` on a small kernel sees.
    for name in OPTIMIZED:
        doc = json.loads(gzip.decompress((CORPUS / name).read_bytes()))
        p = doc["params"]
        image = make_image(Params(p["forest_height"], p["batch_size"], p["rounds"]), 123)
        compare(name.removesuffix(".json.gz"), loads_kernel(json.dumps(doc)), image, args.repeat)
    program, scratch = build_starting_kernel()
    text = dumps_kernel(Kernel(program, scratch=scratch))
    load = best_of(args.repeat, lambda: loads_kernel(text))
    kernel = loads_kernel(text)
    mem = make_image()
    print(f"starting kernel: {len(program)} bundles; loading its .vk.json "
          f"({len(text) / 1e6:.1f} MB) takes {load * 1e3:.0f} ms")
    compare("starting kernel (h10 b256 r16, seed 123)", kernel, mem, args.repeat)
    batch(args.images, args.repeat, args.takehome)
    if args.takehome:
        th = takehome_machine(args.takehome, program, mem, args.repeat)
        ref = best_of(args.repeat, lambda: emu.run(kernel, mem, engine="reference"))
        print(f"take-home Machine on the starting kernel: {th * 1e3:.0f} ms; our reference "
              f"engine {ref * 1e3:.0f} ms ({th / ref:.2f}x the take-home's speed)")


if __name__ == "__main__":
    main()
