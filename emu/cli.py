"""`vemu`: run kernels on the emulator. A thin layer over `emu`'s API.

Exit codes: 0 success, 1 wrong output or runtime fault, 2 usage or input error.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from asm.diagnostics import first_error, printable, render
from asm.errors import Location, ToolchainError
from asm.fileio import read_problem, read_text, safe_streams, strip_bom, write_output
from asm.jsonread import decode
from asm.kernel import Kernel, load_kernel

# The CLI, not the emulator, reaches for the assembler (loaded only for .vasm).
from asm.options import assemble_options, assemble_or_exit, refuse_clobbering, warn_extension
from asm.source import Sources

from .limits import DEFAULT_MAX_CYCLES
from .machine import ENGINES, check_image
from .problem import TAKEHOME_SEED, Params, make_image, reads_header
from .state import EmuError
from .verify import VerifiedRun, run_verified, verified

EXIT_WRONG = 1
EXIT_INPUT = 2


class InputError(Exception):
    """Bad input to the command: reported and exit 2."""


def _fail(err: ToolchainError | InputError, code: int) -> None:
    if isinstance(err, EmuError) and err.reason.startswith("cycle limit"):
        err.notes = (*err.notes, "does the kernel loop forever? --max-cycles N moves the limit")
    if isinstance(err, ToolchainError):
        # The source line of a runtime fault is shown when its file is at hand.
        click.echo(render(err, Sources(), program="vemu"), err=True)
    else:
        click.echo(f"vemu: error: {err}", err=True)
    sys.exit(code)


def _load(path: str, defines: tuple[str, ...], include_paths: tuple[str, ...],
          outputs: tuple[str | None, ...] = ()) -> Kernel:
    """The kernel to run: an image, or a source assembled (`outputs`: what the
    command will write, refused when the assembly read it)."""
    if path.endswith(".vasm"):
        return assemble_or_exit(path, defines, include_paths, program="vemu",
                                exit_code=EXIT_INPUT, outputs=outputs).kernel
    return load_kernel(path)


def _read_image(source: str, what: str = "memory image") -> list[int]:
    try:
        text = strip_bom(sys.stdin.read()) if source == "-" else read_text(source)
    except (OSError, UnicodeDecodeError) as e:
        raise ToolchainError(read_problem(e), location=Location(source)) from None
    try:
        data = decode(text, source, ToolchainError, what)
    except ToolchainError as e:
        raise InputError(str(e)) from None
    return check_image(data)


def _region(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    start, colon, end = text.partition(":")
    try:
        region = int(start, 0), int(end, 0)
    except ValueError:
        region = None
    if not colon or region is None or not 0 <= region[0] <= region[1]:
        raise click.BadParameter(f"{text!r}: expected START:END with 0 <= START <= END",
                                 param_hint="--expect-region")
    return region


def _compare_memory(mem: list[int], expected: list[int],
                    region: tuple[int, int] | None) -> str | None:
    """None when the memory (or its region) is `expected`, else what differs."""
    start, end = region if region is not None else (0, len(mem))
    if end > len(mem):
        return f"region {start}:{end} runs past the end of memory ({len(mem)} words)"
    got = mem[start:end]
    if len(expected) != len(got):
        return (f"DIFFERS: {len(got)} words in {start}:{end}, but the expected file has "
                f"{len(expected)}")
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        if a != b:
            wrong = sum(x != y for x, y in zip(got, expected, strict=True))
            many = f"{wrong} words differ" if wrong > 1 else "the only word that differs"
            return f"DIFFERS at word {start + i}: {a}, expected {b} ({many})"
    return None


def _describe(run: VerifiedRun) -> str:
    if run.correct is None:
        return "not checked"
    if run.correct:
        return "correct"
    where = f" at pause point {run.stage}" if run.stage is not None else ""
    return f"WRONG{where}: {run.mismatch}"


def _run_traced(kernel: Kernel, mem: list[int], path: str, *, verify: bool,
                max_cycles: int | None) -> VerifiedRun:
    """--trace: run on the reference engine, writing the trace (up to a fault)."""
    from .machine import RunResult
    from .trace import trace_json
    text, state, error = trace_json(kernel, mem, max_cycles=max_cycles)
    write_output(path, text)
    if error is not None:
        raise error
    result = RunResult(state.cycle, list(state.mem), list(state.scratch),
                       list(state.trace_buffer), state.pc, state.status, None)
    return verified(result, mem, verify=verify)


def _run_batched(kernel: Kernel, images: list, *, verify: bool,
                 max_cycles: int | None) -> list[tuple]:
    """--seeds N: every image in one batched run (emu/batch.py), each checked;
    on a terminal, a progress line once it takes a second."""
    from asm.progress import progress_line

    from .batch import run_batch
    line = progress_line(f"running {len(images)} images")
    try:
        results = run_batch(kernel, [mem for _, mem in images], max_cycles=max_cycles,
                            progress=line)
    finally:
        if line is not None:
            line.clear()
    runs = []
    for (s, mem), r in zip(images, results, strict=True):
        if r.error is not None:
            raise r.error
        runs.append((s, verified(r, mem, verify=verify)))
    return runs


TAKEHOME = Params()  # the take-home's own image: the default of every image option


def image_options(f):
    """The take-home image's parameters, shared by run, debug and stats."""
    for option in reversed([
        click.option("--height", default=TAKEHOME.height, show_default=True,
                     type=click.IntRange(0, 20), help="Tree height of the take-home image."),
        click.option("--batch", default=TAKEHOME.batch_size, show_default=True,
                     type=click.IntRange(1, 1 << 16), help="Batch size of the take-home image."),
        click.option("--rounds", default=TAKEHOME.rounds, show_default=True,
                     type=click.IntRange(0, 1 << 16), help="Rounds of the take-home image."),
        click.option("--seed", default=TAKEHOME_SEED, show_default=True, type=int,
                     help="Random seed of the take-home image (123: the one the take-home's "
                          "test_kernel_cycles uses)."),
    ]):
        f = option(f)
    return f


def max_cycles_option(what: str):
    """--max-cycles N, one meaning for run, debug and stats: 0 is no limit."""
    return click.option("--max-cycles", type=click.IntRange(0), metavar="N",
                        default=DEFAULT_MAX_CYCLES, show_default=True,
                        callback=lambda ctx, param, value: value or None,
                        help=f"{what}; 0: no limit.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vliw-toolchain")
def main() -> None:
    """Cycle-exact emulator for the VLIW SIMD machine of the performance take-home."""
    safe_streams()


@main.command()
@click.argument("kernel", type=click.Path(dir_okay=False))
@click.option("--mem", "mem_file", metavar="FILE|-",
              help="Memory image: a JSON array of words, '-' for stdin. "
                   "Default: the take-home image from --height/--batch/--rounds/--seed.")
@image_options
@click.option("--seeds", type=click.IntRange(1), metavar="N",
              help="Run on N random images, like the take-home's submission check "
                   "(seeds --seed..--seed+N-1 when --seed is given, else random ones); "
                   "all at once with NumPy unless --pause, --debug or another engine.")
@click.option("--check", is_flag=True,
              help="Compare the output values with the reference kernel; exit 1 on a mismatch.")
@click.option("--debug", is_flag=True,
              help="Execute debug compares against the reference kernel's value trace.")
@click.option("--pause", is_flag=True,
              help="Honour pause and check the values at every pause point (implies --check).")
@click.option("--dump-mem", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
              help="Write the final memory as a JSON array ('-': stdout).")
@click.option("--engine", type=click.Choice(sorted(ENGINES)), default="fast", show_default=True,
              help="Emulator engine: 'reference' follows the spec line by line.")
@max_cycles_option("Stop with an error once a taken jump finds more than N cycles spent "
                   "(a kernel that loops forever)")
@click.option("--trace", "trace_file", type=click.Path(dir_okay=False, allow_dash=True),
              metavar="FILE", help="Write a Perfetto / Chrome trace of the run (one image; "
              "runs on the reference engine; '-': stdout).")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON summary object as the last line of stdout.")
@click.option("--expect", "expect_file", type=click.Path(dir_okay=False, allow_dash=True),
              metavar="FILE", help="Check the final memory against FILE, a JSON array of "
              "words (all of memory, or the region --expect-region names); exit 1 if not.")
@click.option("--expect-region", metavar="START:END",
              help="With --expect: only memory words START..END-1 are compared.")
@click.option("--watch", is_flag=True,
              help="Assemble and run again on every save of KERNEL (a .vasm source) or a "
                   "file it includes, printing the cycles or the first error; Ctrl-C stops.")
@assemble_options
@click.pass_context
def run(ctx: click.Context, kernel: str, mem_file: str | None, height: int, batch: int,
        rounds: int, seed: int, seeds: int | None, check: bool, debug: bool, pause: bool,
        dump_mem: str | None, engine: str, max_cycles: int | None, trace_file: str | None,
        as_json: bool, expect_file: str | None, expect_region: str | None, watch: bool,
        defines: tuple[str, ...], include_paths: tuple[str, ...]) -> None:
    """Run KERNEL (a .vk.json image, a JSON bundle list, or a .vasm source, assembled
    first) and report its cycles. With --watch, again on every save of the source."""
    if mem_file is not None and seeds is not None:
        raise click.UsageError("--mem and --seeds exclude each other")
    if expect_region is not None and expect_file is None:
        raise click.UsageError("--expect-region needs --expect FILE")
    if expect_file is not None and (seeds or 1) > 1:
        raise click.UsageError("--expect checks a single run, not --seeds")
    region = _region(expect_region)
    if dump_mem is not None and seeds is not None and seeds > 1:
        raise click.UsageError("--dump-mem needs a single run, not --seeds")
    if trace_file is not None and ((seeds or 1) > 1 or pause or debug):
        raise click.UsageError("--trace traces a single run, without --seeds, --pause or "
                               "--debug")
    if watch and not kernel.endswith(".vasm"):
        raise click.UsageError("--watch re-assembles a .vasm source on every save; give one")
    outputs = (dump_mem, trace_file)
    refuse_clobbering(outputs, [p for p in (kernel, mem_file, expect_file) if p], "vemu")
    for path in outputs:
        warn_extension(path, "json", "vemu")
    given_seed = ctx.get_parameter_source("seed") is click.core.ParameterSource.COMMANDLINE
    settings = _RunSettings(kernel, mem_file, Params(height, batch, rounds), seed, seeds,
                            given_seed, check, debug, pause, dump_mem, engine, max_cycles,
                            trace_file, as_json, expect_file, region)
    if watch:
        _watch_run(settings, defines, include_paths)
        return
    try:
        k = _load(kernel, defines, include_paths, outputs)
        runs, expected = settings.execute(k)
    except EmuError as e:
        _fail(e, EXIT_WRONG)
    except (ToolchainError, InputError) as e:
        _fail(e, EXIT_INPUT)
    try:
        code = settings.report(runs, expected)
    except ToolchainError as e:
        _fail(e, EXIT_INPUT)
    if code:
        sys.exit(code)


@dataclass
class _RunSettings:
    """What `vemu run` was asked: where the images come from, how to run and
    check them, what to print and write."""

    kernel: str
    mem_file: str | None
    params: Params
    seed: int
    seeds: int | None
    given_seed: bool  # --seed on the command line: --seeds counts from it
    check: bool
    debug: bool
    pause: bool
    dump_mem: str | None
    engine: str
    max_cycles: int | None
    trace_file: str | None
    as_json: bool
    expect_file: str | None
    region: tuple[int, int] | None

    def images(self, k: Kernel) -> list[tuple[int | None, list[int]]]:
        """(seed or None, memory image) of each run."""
        if self.mem_file is not None:
            return [(None, _read_image(self.mem_file))]
        # --check and --pause compare with the take-home's reference: asked
        # for by name, the take-home image needs no note (a WRONG says the rest).
        if not (self.check or self.pause) and not reads_header(k):
            p = self.params
            click.echo(f"note: {self.kernel} reads no word of the take-home image's header, "
                       f"so it may not be a take-home kernel; it runs on the take-home image "
                       f"(height {p.height}, batch {p.batch_size}, rounds {p.rounds}, seed "
                       f"{self.seed if self.seeds is None else 'per run'}): --mem gives your "
                       "own", err=True)
        if self.seeds is None:
            seed_list = [self.seed]
        elif self.given_seed:
            seed_list = [self.seed + i for i in range(self.seeds)]
        else:
            seed_list = [random.SystemRandom().randrange(2**32) for _ in range(self.seeds)]
        return [(s, make_image(self.params, s)) for s in seed_list]

    def execute(self, k: Kernel) -> tuple[list[tuple], list[int] | None]:
        """Every run (seed, VerifiedRun), and the expected memory (--expect).
        Raises EmuError, ToolchainError or InputError."""
        expected = _read_image(self.expect_file, "expected memory") if self.expect_file \
            else None
        images = self.images(k)
        if self.trace_file is not None:
            return [(images[0][0], _run_traced(k, images[0][1], self.trace_file,
                                               verify=self.check,
                                               max_cycles=self.max_cycles))], expected
        if len(images) > 1 and self.engine == "fast" and not (self.pause or self.debug):
            return _run_batched(k, images, verify=self.check,
                                max_cycles=self.max_cycles), expected
        return [(s, run_verified(k, mem, verify=self.check or self.pause, pause=self.pause,
                                 debug=self.debug, engine=self.engine,
                                 max_cycles=self.max_cycles))
                for s, mem in images], expected

    def report(self, runs: list[tuple], expected: list[int] | None) -> int:
        """Print the runs (and write --dump-mem); the exit status. Raises
        ToolchainError when --dump-mem cannot be written."""
        # With data on stdout ('-'), the summary goes to stderr.
        to_stderr = "-" in (self.dump_mem, self.trace_file)
        mismatch = None
        if expected is not None:  # (a single run: --expect refuses --seeds)
            mismatch = _compare_memory(runs[0][1].result.mem, expected, self.region)
        for s, r in runs:
            label = f"seed {s}: " if len(runs) > 1 else ""
            status = "" if r.result.status.value == "finished" else f", {r.result.status.value}"
            verdicts = [] if r.correct is None and expected is not None else [_describe(r)]
            if expected is not None:
                verdicts.append(f"memory {'as expected' if mismatch is None else mismatch}")
            click.echo(f"{label}{r.result.cycles} cycles{status}, {'; '.join(verdicts)}",
                       err=to_stderr)
        if len(runs) == 1 and runs[0][1].result.trace_buffer:
            click.echo(f"trace buffer: {runs[0][1].result.trace_buffer}", err=to_stderr)
        if self.dump_mem is not None:
            write_output(self.dump_mem, json.dumps(runs[0][1].result.mem) + "\n")
        correct = [r.correct for _, r in runs]
        if expected is not None:
            correct.append(mismatch is None)
        if self.as_json:
            cycles = [r.result.cycles for _, r in runs]
            summary = {
                "cycles": max(cycles),
                "correct": None if None in correct else all(correct),
                "trace_buffer": runs[0][1].result.trace_buffer,
                "status": runs[0][1].result.status.value,
                "engine": self.engine,
                "runs": [{"seed": s, "cycles": r.result.cycles, "correct": r.correct}
                         for s, r in runs],
            }
            click.echo(json.dumps(summary), err=to_stderr)
        return EXIT_WRONG if False in correct else 0


def _watch_run(settings: _RunSettings, defines: tuple[str, ...],
               include_paths: tuple[str, ...]) -> None:
    """`vemu run --watch`: assemble and run on every save of the source or a
    file it includes, printing the cycles or the first error; the
    assembler's reuse layer and the schedule cache stay warm between saves."""
    from asm.options import parse_defines, project_or_exit
    from asm.stages.assembler import assemble_full
    from asm.stages.reuse import Reuse
    from asm.watching import watch
    reuse = Reuse()
    source = settings.kernel

    def work() -> list[str]:
        project = project_or_exit(source, "vemu")
        result = assemble_full(source, defines={**project.defines, **parse_defines(defines)},
                               include_paths=(*include_paths, *project.include_paths),
                               reuse=reuse, keep_ir=False)
        read = [f for f in result.sources.texts if f != "<input>"] or [source]
        if project.path is not None:
            read.append(str(project.path))
        if result.kernel is None or result.errors:
            click.echo(first_error(result, "vemu"), err=True)
            return read
        try:
            settings.report(*settings.execute(result.kernel))
        except (ToolchainError, InputError) as e:
            click.echo(render(e, Sources(), program="vemu") if isinstance(e, ToolchainError)
                       else f"vemu: error: {e}", err=True)
        return read

    watch(work, say=lambda text: click.echo(text, err=True))


@main.command("debug")
@click.argument("kernel", type=click.Path(dir_okay=False))
@click.option("--mem", "mem_file", metavar="FILE",
              help="Memory image (default: the take-home image from --height/--batch/"
                   "--rounds/--seed).")
@image_options
@max_cycles_option("Stop a run at cycle N, as 'vemu run' would; 'set max-cycles N' at the "
                   "prompt changes it")
@assemble_options
def debug_cmd(kernel: str, mem_file: str | None, height: int, batch: int, rounds: int,
              seed: int, max_cycles: int | None, defines: tuple[str, ...],
              include_paths: tuple[str, ...]) -> None:
    """Step through KERNEL bundle by bundle, with gdb's commands: breakpoints on
    source lines, labels, macros and pcs, watches, print/x/display, finish,
    Ctrl-C to stop a run. 'help' at the prompt lists the commands."""
    from .debugger import debug, for_image, from_assembly
    try:
        if kernel.endswith(".vasm"):
            assembly = assemble_or_exit(kernel, defines, include_paths, program="vemu",
                                        exit_code=EXIT_INPUT, keep_ir=True)
            k, locations = assembly.kernel, from_assembly(assembly, kernel)
        else:
            k = load_kernel(kernel)
            locations = for_image(k)
        if mem_file == "-":
            raise InputError("the debugger reads its commands from stdin; give --mem a file")
        mem = (_read_image(mem_file) if mem_file is not None
               else make_image(Params(height, batch, rounds), seed))
    except (ToolchainError, InputError) as e:
        _fail(e, EXIT_INPUT)
    interactive = sys.stdin.isatty()
    debug(k, mem, stdin=None if interactive else sys.stdin, stdout=sys.stdout,
          max_cycles=max_cycles, locations=locations)


@main.command()
@click.argument("kernel", type=click.Path(dir_okay=False))
@click.option("--run", "do_run", is_flag=True,
              help="Count the bundles a run executes (loops included) instead of each "
                   "bundle once as written.")
@click.option("--mem", "mem_file", metavar="FILE|-", help="With --run: the memory image "
              "(default: the take-home image from --height/--batch/--rounds/--seed).")
@image_options
@max_cycles_option("With --run: stop with an error past N cycles (at a taken jump)")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, allow_dash=True),
              metavar="FILE", help="Also write a self-contained HTML page with the occupancy "
              "picture ('-': stdout, the report going to stderr).")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@assemble_options
def stats(kernel: str, do_run: bool, mem_file: str | None, height: int, batch: int,
          rounds: int, seed: int, max_cycles: int | None, html_file: str | None,
          as_json: bool, defines: tuple[str, ...], include_paths: tuple[str, ...]) -> None:
    """Per-engine slot use of KERNEL: ops, utilization, resource bound, critical
    path, idle runs, and the same per region between labels."""
    from .stats import compute, html_page, report
    refuse_clobbering([html_file], [p for p in (kernel, mem_file) if p], "vemu")
    warn_extension(html_file, "html", "vemu")
    try:
        k = _load(kernel, defines, include_paths, (html_file,))
        mem = None
        if do_run:
            mem = (_read_image(mem_file) if mem_file is not None
                   else make_image(Params(height, batch, rounds), seed))
        elif mem_file is not None:
            raise click.UsageError("--mem needs --run")
        result = compute(k, mem, max_cycles=max_cycles)
    except EmuError as e:
        _fail(e, EXIT_WRONG)
    except (ToolchainError, InputError) as e:
        _fail(e, EXIT_INPUT)
    to_stderr = html_file == "-"
    if as_json:
        click.echo(json.dumps(result.to_json()), err=to_stderr)
    else:
        click.echo(printable(report(result)), err=to_stderr)
    if html_file is not None:
        try:
            write_output(html_file, html_page(result, f"vemu stats {Path(kernel).name}"))
        except ToolchainError as e:
            _fail(e, EXIT_INPUT)


if __name__ == "__main__":
    main()
