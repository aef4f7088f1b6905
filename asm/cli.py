"""`vasm`: the command-line front end. Thin: parse options, call the library,
render diagnostics, choose the exit code (0 ok, 1 bad input, 2 usage)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .diagnostics import render, render_all
from .errors import ToolchainError
from .fileio import TextForm, read_problem, read_text_form, safe_streams, write_output
from .kernel import Kernel, dumps_kernel, load_kernel, loads_kernel
from .options import (
    EXIT_BAD_INPUT,
    assemble_options,
    assemble_or_exit,
    files_read,
    parse_defines,
    project_or_exit,
    refuse_clobbering,
    warn_extension,
)
from .progress import progress_line
from .project import ProjectOptions
from .suggestions import plural

# NumPy's OpenBLAS starts a thread per core when it loads, and they spin: on 2
# cores importing NumPy took 0.19 s of CPU (0.12 s wall) against 0.11 s with
# one, and a `-O1` run of fast.vasm 0.14 s more CPU, taken from the
# scheduler's own threads. No command uses BLAS; a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

if TYPE_CHECKING:
    from .stages.assembler import Assembly



FORMAT_BY_NAME = "a name ending in .vasm gets .vasm source, any other a kernel image"


def _fail(err: ToolchainError) -> None:
    click.echo(render(err), err=True)
    sys.exit(EXIT_BAD_INPUT)


def schedule_options(f):
    """-O, --budget, -j, -q, --report, --no-split, --rename, --seed and
    --no-cache: every command that schedules takes them all
    (`schedule_settings` reads them)."""
    for option in reversed([
        click.option("-O", "level", type=click.IntRange(1, 3), default=2, show_default=True,
                     metavar="LEVEL", help="Optimization level: -O1 one quick pass, -O2 "
                     "a fixed search (deterministic), -O3 a longer search on every core. "
                     "Given, it implies --schedule."),
        click.option("--budget", type=click.FloatRange(0), metavar="SECONDS",
                     help="With -O3: how long scheduling may take (default 30)."),
        click.option("-j", "--jobs", type=click.IntRange(1), metavar="N",
                     help="Cores to schedule on (default: $VASM_JOBS, else every core): "
                          "threads at -O1 and -O2, whose result is the same for any N; "
                          "processes at -O3."),
        click.option("-q", "--quiet", is_flag=True,
                     help="No progress line (shown on a terminal when scheduling takes "
                          "over a second)."),
        click.option("--report", is_flag=True,
                     help="Print cycles, utilization and, per block, the lower bounds "
                          "and the distance from them."),
        click.option("--no-split", "no_split", is_flag=True,
                     help="Never run a vector ALU op as 8 scalar ALU ops (by default "
                          "the scheduler does where that balances the ALUs)."),
        click.option("--rename", is_flag=True,
                     help="Move any definition whose value dies inside its block to a free "
                          "word (not only .temp ones), breaking false dependences."),
        click.option("--seed", type=click.IntRange(0), metavar="N",
                     help="The search's seed (-O2, -O3; default 0): another seed, another "
                          "schedule as good on average ('vasm tune' can choose it)."),
        click.option("--no-cache", "no_cache", is_flag=True,
                     help="Neither use nor keep results in the build cache (kept in "
                          "$VASM_CACHE_DIR or ~/.cache/vliw-toolchain; docs/assembler.md)."),
    ]):
        f = option(f)
    return f


def build_options(schedule_help: str):
    """--max-errors, -W error and --schedule with its options, shared by assemble and link."""
    def decorate(f):
        for option in reversed([
            click.option("--max-errors", type=click.IntRange(1), metavar="N",
                         help="Show at most N errors."),
            click.option("-W", "warn", type=click.Choice(["error"]), metavar="error",
                         help="Treat warnings as errors."),
            click.option("--schedule", "do_schedule", is_flag=True, help=schedule_help),
        ]):
            f = option(f)
        return schedule_options(f)
    return decorate


def _given(name: str) -> bool:
    """Whether the option was given on the command line (not its default)."""
    source = click.get_current_context().get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")


def schedule_settings(do_schedule: bool, level: int, budget: float | None, jobs: int | None,
                      quiet: bool, report: bool, no_split: bool, rename: bool,
                      seed: int | None, project: ProjectOptions | None = None,
                      no_cache: bool = False) -> ScheduleSettings | None:
    """What the scheduling options ask for (None: no scheduling). -O given
    implies --schedule (so does the project's `schedule = true`); an option
    that means nothing as given is a usage error naming what it needs."""
    if project is not None:
        if project.level is not None and not _given("level"):
            level = project.level
        do_schedule = do_schedule or project.schedule
        no_split = no_split or not project.split
    do_schedule = do_schedule or _given("level")
    if not do_schedule:
        for flag, name in ((report, "--report"), (no_split, "--no-split"), (rename, "--rename"),
                           (budget is not None, "--budget"), (jobs is not None, "-j"),
                           (seed is not None, "--seed")):
            if flag:
                raise click.UsageError(f"{name} needs --schedule (or -O LEVEL)")
        return None
    if budget is not None and level != 3:
        raise click.UsageError(f"--budget applies to -O3's search; at -O{level} it would do "
                               "nothing (add -O3)")
    if seed is not None and level == 1:
        raise click.UsageError("--seed chooses among -O2's and -O3's searches; -O1 has one")
    return ScheduleSettings(level, budget, jobs, quiet, report, no_split, rename, seed or 0,
                            no_cache)


class ScheduleSettings:
    """What the scheduling options ask for, and the progress line they show."""

    def __init__(self, level: int, budget: float | None, jobs: int | None, quiet: bool,
                 report: bool, no_split: bool = False, rename: bool = False,
                 seed: int = 0, no_cache: bool = False) -> None:
        self.options: dict = {"level": level, "budget": budget, "jobs": jobs, "seed": seed}
        if no_split:
            self.options["split"] = False
        if rename:
            self.options["rename_words"] = "all"
        self.report = report
        self.no_cache = no_cache
        self.line = progress_line("scheduling", quiet)
        self.report_text: str | None = None  # the last run's report, when asked for

    @property
    def key(self) -> dict:
        """What a build's result depends on of these settings (its cache key)."""
        return {k: v for k, v in self.options.items() if k != "jobs"}

    def run(self, kernel: Kernel):
        """Schedule `kernel` (asm/sched/schedule.py), then print the report if
        asked. Blocks scheduled before come from the cache (asm/buildcache.py)."""
        from .buildcache import DiskCache
        from .sched.schedule import report as report_text
        from .sched.schedule import schedule_kernel
        memo = None if self.no_cache else DiskCache.default("blocks")
        try:
            s = schedule_kernel(kernel, progress=self.line, memo=memo, **self.options)
        finally:
            if self.line is not None:
                self.line.clear()
        if self.report:
            self.report_text = report_text(s)
            click.echo(self.report_text, err=True)
        return s


def _write(path: str, text: str) -> None:
    """Write an output file (asm/fileio.py: '-' is stdout, devices and FIFOs
    are written in place, links followed); an unwritable one ends the command."""
    try:
        write_output(path, text)
    except ToolchainError as e:
        _fail(e)


def load_any(path: str, defines=(), include_paths=(), outputs=()) -> Kernel:
    """A kernel from an image or a `.vasm` source (`outputs`: what the command
    will write, refused when the assembly read it)."""
    if path.endswith(".vasm"):
        return assemble_or_exit(path, defines, include_paths, outputs=outputs).kernel
    try:
        return load_kernel(path)
    except ToolchainError as e:
        _fail(e)
        raise  # unreachable


PLUGINS = "vasm.commands"  # entry points: commands other packages add to `vasm`


class Commands(click.Group):
    """`vasm`'s commands: its own, and those other packages of the toolchain
    register under the entry point group PLUGINS (`vasm tune` comes from the
    `tune` package, which runs kernels on the emulator: `asm` itself never
    imports `emu`). Plugins are looked up only for a name that is not one of
    ours, or to list them all."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = super().get_command(ctx, name)
        if found is None:
            plugin = _plugins().get(name)
            found = plugin.load() if plugin is not None else None
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_plugins()})


def _plugins() -> dict:
    from importlib.metadata import entry_points
    return {e.name: e for e in entry_points(group=PLUGINS)}


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vliw-toolchain")
def main() -> None:
    """Assembler toolchain for the take-home's VLIW SIMD machine."""
    safe_streams()


@main.command("assemble")
@click.argument("sources", metavar="SRC...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@click.option("-o", "output", metavar="OUT", help="Kernel image to write (default: SRC with "
              ".vk.json; '-' for stdout); with -c, the object.")
@click.option("-c", "compile_only", is_flag=True,
              help="Write a relocatable object (.vo) per SRC for 'vasm link' instead.")
@assemble_options
@click.option("--listing", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
              help="Also write a listing: bundle index, encoded slots, source, macro chain "
                   "('-': stdout).")
@click.option("--map", "map_file", type=click.Path(dir_okay=False, allow_dash=True),
              metavar="FILE", help="Link (even one SRC) and write the link map to FILE "
              "('-': stdout).")
@build_options("Pack the ops into bundles with the scheduler (see 'vasm schedule').")
@click.option("--watch", is_flag=True,
              help="Assemble again on every save of SRC or a file it includes, printing "
                   "what was written or the first error; Ctrl-C stops.")
def assemble_cmd(sources: tuple[str, ...], output: str | None, compile_only: bool,
                 defines: tuple[str, ...], include_paths: tuple[str, ...],
                 listing: str | None, map_file: str | None, max_errors: int | None,
                 warn: str | None, do_schedule: bool, level: int, budget: float | None,
                 jobs: int | None, quiet: bool, report: bool, no_split: bool,
                 rename: bool, seed: int | None, no_cache: bool, watch: bool) -> None:
    """Assemble SRC (.vasm) into a kernel image (.vk.json). Several SRCs are
    assembled as modules and linked in order, as 'vasm link' does. A build
    done before, from the same files and options, comes from the build cache
    (--no-cache: not)."""
    werror = warn == "error"
    project = project_or_exit(sources[0])
    sched = schedule_settings(do_schedule, level, budget, jobs, quiet, report, no_split, rename,
                              seed, project, no_cache)
    if watch:
        if len(sources) > 1 or compile_only or map_file is not None or listing is not None:
            raise click.UsageError("--watch assembles one SRC into an image (no -c, --map or "
                                   "--listing)")
        out = output or _stem(sources[0]) + ".vk.json"
        refuse_clobbering([out], sources)
        _watch_assemble(sources[0], out, defines, include_paths, sched, werror)
        return
    if compile_only:
        if do_schedule or _given("level"):  # (a vasm.toml's `schedule` is for whole builds)
            raise click.UsageError("-c writes objects, which are scheduled when linked: "
                                   "give --schedule to 'vasm link'")
        if output is not None and len(sources) > 1:
            raise click.UsageError("-o names one object; with several SRCs leave it out "
                                   "(each SRC.vasm gives SRC.vo)")
        objects = [output or _stem(src) + ".vo" for src in sources]
        refuse_clobbering(objects, sources)
        warn_extension(output, "object")
        for obj_path, obj in zip(objects, _modules(sources, defines, include_paths, max_errors,
                                                   werror, objects), strict=True):
            from .linking.objects import dumps_object
            _write(obj_path, dumps_object(obj))
        return
    out = output or _stem(sources[0]) + ".vk.json"
    outputs = (out, listing, map_file)
    refuse_clobbering(outputs, sources)
    warn_extension(out, "image")
    if len(sources) > 1 or map_file is not None:
        _link_and_write(_modules(sources, defines, include_paths, max_errors, werror, outputs),
                        out, map_file=map_file, listing=listing, sched=sched,
                        max_errors=max_errors, werror=werror)
        return
    build = None
    if listing is None and not no_cache and (sched is None or sched.options["level"] < 3):
        build = _Build.start(sources[0], defines, include_paths, project, sched, werror)
        if build is not None and build.hit(outputs, out):
            return
    result = assemble_or_exit(sources[0], defines, include_paths, max_errors=max_errors,
                              werror=werror, keep_ir=listing is not None,
                              outputs=outputs)
    _finish(result, out, listing=listing, sched=sched)
    if build is not None:
        build.keep(result)


def _watch_assemble(src: str, out: str, defines, include_paths,
                    sched: ScheduleSettings | None, werror: bool) -> None:
    """`vasm assemble --watch`: build on every save of the source or a file it
    includes, the assembler's reuse layer and the schedule cache kept warm."""
    import time

    from .diagnostics import first_error
    from .stages.assembler import assemble_full
    from .stages.reuse import Reuse
    from .watching import watch
    reuse = Reuse()

    def work() -> list[str]:
        started = time.perf_counter()
        project = project_or_exit(src)
        result = assemble_full(src, defines={**project.defines, **parse_defines(defines)},
                               include_paths=(*include_paths, *project.include_paths),
                               reuse=reuse)
        read = [f for f in result.sources.texts if f != "<input>"] or [src]
        if project.path is not None:
            read.append(str(project.path))
        if result.kernel is None or result.errors or (werror and result.warnings):
            click.echo(first_error(result), err=True)
            return read
        refuse_clobbering([out], read)
        kernel = result.kernel
        if sched is not None:
            kernel = sched.run(kernel).kernel
        try:
            write_output(out, dumps_kernel(kernel))
        except ToolchainError as e:
            click.echo(render(e), err=True)
            return read
        cycles = f", {sum(kernel.cycle_cost)} cycles" if sched is not None else ""
        click.echo(f"wrote {out}: {plural(len(kernel.program), 'bundle')}{cycles} "
                   f"({time.perf_counter() - started:.2f} s)", err=True)
        return read

    watch(work, say=lambda text: click.echo(text, err=True))


class _Build:
    """A single source's build through the build cache (asm/buildcache.py):
    looked up before assembling; kept after."""

    def __init__(self, cache, key: str, src: str, sched: ScheduleSettings | None,
                 werror: bool) -> None:
        self.cache, self.key, self.src, self.sched = cache, key, src, sched
        self.werror = werror
        self.image: str | None = None

    @classmethod
    def start(cls, src: str, defines, include_paths, project: ProjectOptions,
              sched: ScheduleSettings | None, werror: bool) -> _Build | None:
        from .buildcache import DiskCache, build_key
        cache = DiskCache.default("builds")
        if cache is None:
            return None
        try:
            text = read_text_form(src)[0]
        except (OSError, UnicodeDecodeError):
            return None  # (the assembler says why)
        options = {"defines": {**project.defines, **parse_defines(defines)},
                   "include": [*include_paths, *project.include_paths],
                   "schedule": None if sched is None else sched.key, "werror": werror}
        return cls(cache, build_key(src, text, options), src, sched, werror)

    def hit(self, outputs, out: str) -> bool:
        """Write the stored build, if there is one still true to its files."""
        from .buildcache import lookup_build
        entry = lookup_build(self.cache, self.key)
        if entry is None:
            return False
        try:
            loads_kernel(entry["image"])  # checked, as any image read is
        except ToolchainError:
            return False
        refuse_clobbering(outputs, [self.src, *entry["files"]])
        if entry.get("said"):
            click.echo(entry["said"], err=True)
        if self.sched is not None and self.sched.report and entry.get("report"):
            click.echo(entry["report"], err=True)
        elif self.sched is not None and self.sched.report:
            return False  # (kept without its report: build it again to have one)
        _write(out, entry["image"])
        return True

    def keep(self, result: Assembly) -> None:
        from .buildcache import store_build
        files = {p: t for p, t in result.sources.texts.items()
                 if p != "<input>" and p != self.src}
        said = render_all(result.diagnostics, result.sources) if result.diagnostics else ""
        report = self.sched.report_text if self.sched is not None else None
        store_build(self.cache, self.key, files, dumps_kernel(result.kernel), said, report)


def _stem(path: str) -> str:
    return path[:-5] if path.endswith(".vasm") else path


def _finish(result: Assembly, out: str, *, listing: str | None,
            sched: ScheduleSettings | None) -> None:
    """Schedule if asked, then write the kernel and the listing."""
    if sched is not None:
        result.kernel = sched.run(result.kernel).kernel
    _write(out, dumps_kernel(result.kernel))
    if listing:
        from .views.listing import make_listing
        _write(listing, make_listing(result))


def _modules(paths: tuple[str, ...], defines: tuple[str, ...], include_paths: tuple[str, ...],
             max_errors: int | None, werror: bool, outputs=()) -> list:
    """Each path as a module to link: `.vo` objects are read (and `.json` files,
    so a kernel image given by mistake is named as one), anything else is
    assembled with -c. Every module's diagnostics are shown before exiting;
    an output that is a file some module included ends the run."""
    from .linking.objects import ObjectModule, load_object
    from .stages.assembler import assemble_module
    out = []
    read: list[str] = []
    failed = False
    parsed = parse_defines(defines)
    for path in paths:
        if path.endswith((".vo", ".json")):
            try:
                out.append(load_object(path))
            except ToolchainError as e:
                click.echo(render(e), err=True)
                failed = True
            continue
        project = project_or_exit(path)
        result = assemble_module(Path(path), defines={**project.defines, **parsed},
                                 include_paths=(*include_paths, *project.include_paths))
        if result.diagnostics:
            click.echo(render_all(result.diagnostics, result.sources, max_errors=max_errors),
                       err=True)
        if result.module is None or result.errors or (werror and result.warnings):
            failed = True
            continue
        read.extend(files_read(result))
        out.append(ObjectModule(Path(path).stem, result.module, path))
    if failed:
        sys.exit(EXIT_BAD_INPUT)
    refuse_clobbering(outputs, read)
    return out


def _link_and_write(objs: list, out: str, *, map_file: str | None, listing: str | None,
                    sched: ScheduleSettings | None, max_errors: int | None,
                    werror: bool) -> None:
    from .linking.link import link
    from .linking.linkmap import link_map
    linked = link(objs)
    if linked.diagnostics:
        click.echo(render_all(linked.diagnostics, linked.sources, max_errors=max_errors),
                   err=True)
    if linked.kernel is None or linked.errors or (werror and linked.diagnostics):
        sys.exit(EXIT_BAD_INPUT)
    if map_file:  # the map describes the linked code, before any scheduling
        _write(map_file, link_map(linked, out))
    _finish(linked.assembly(), out, listing=listing, sched=sched)


@main.command("link")
@click.argument("inputs", metavar="OBJ...", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
@click.option("-o", "output", required=True, metavar="OUT",
              help="Kernel image to write ('-': stdout).")
@click.option("--map", "map_file", type=click.Path(dir_okay=False, allow_dash=True),
              metavar="FILE", help="Write the link map (modules, code and scratch layout, "
              "globals) to FILE ('-': stdout).")
@assemble_options
@click.option("--listing", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
              help="Also write a listing of the linked code ('-': stdout).")
@build_options("Schedule the whole linked program (blocks may span modules).")
def link_cmd(inputs: tuple[str, ...], output: str, map_file: str | None,
             defines: tuple[str, ...], include_paths: tuple[str, ...], listing: str | None,
             max_errors: int | None, warn: str | None, do_schedule: bool, level: int,
             budget: float | None, jobs: int | None, quiet: bool, report: bool,
             no_split: bool, rename: bool, seed: int | None, no_cache: bool) -> None:
    """Link objects (.vo from 'vasm assemble -c'; a .vasm is assembled first) in
    command-line order into one kernel image."""
    werror = warn == "error"
    sched = schedule_settings(do_schedule, level, budget, jobs, quiet, report, no_split, rename,
                              seed, no_cache=no_cache)
    outputs = (output, map_file, listing)
    refuse_clobbering(outputs, inputs)
    warn_extension(output, "image")
    _link_and_write(_modules(inputs, defines, include_paths, max_errors, werror, outputs), output,
                    map_file=map_file, listing=listing, sched=sched,
                    max_errors=max_errors, werror=werror)


@main.command("schedule")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("-o", "output", required=True, metavar="OUT",
              help="OUT.vk.json for a kernel image, OUT.vasm for source; '-' writes "
                   "source to stdout when SRC is source, else an image.")
@assemble_options
@schedule_options
def schedule_cmd(src: str, output: str, defines: tuple[str, ...],
                 include_paths: tuple[str, ...], level: int, budget: float | None,
                 jobs: int | None, quiet: bool, report: bool, no_split: bool, rename: bool,
                 seed: int | None, no_cache: bool) -> None:
    """Pack SRC (a .vasm source or a kernel image) into as few bundles as its
    dependences allow; the result computes the same in no more cycles."""
    from .views.disasm import disassemble
    settings = schedule_settings(True, level, budget, jobs, quiet, report, no_split, rename,
                                 seed, project_or_exit(src) if src.endswith(".vasm") else None,
                                 no_cache)
    refuse_clobbering([output], [src])
    as_source = output.endswith(".vasm") or (output == "-" and src.endswith(".vasm"))
    warn_extension(output, "source" if as_source else "image", hint=FORMAT_BY_NAME)
    if src.endswith(".vasm"):
        kernel = assemble_or_exit(src, defines, include_paths, outputs=[output]).kernel
    else:
        kernel = load_any(src)
    s = settings.run(kernel)
    _write(output, disassemble(s.kernel) if as_source else dumps_kernel(s.kernel))


@main.command("check")
@click.argument("src", type=click.Path(dir_okay=False))
@assemble_options
@click.option("-W", "warn", type=click.Choice(["error"]), metavar="error",
              help="Treat warnings as errors.")
def check_cmd(src: str, defines: tuple[str, ...], include_paths: tuple[str, ...],
              warn: str | None) -> None:
    """Report errors and likely mistakes in SRC (a .vasm source or a kernel image,
    which need not be valid: every problem is listed)."""
    from .views.lint import lint, lint_file
    if src.endswith(".vasm"):
        result = assemble_or_exit(src, defines, include_paths)
        found, sources = lint(result.kernel), result.sources
    else:
        found, sources = lint_file(src), None
    if found:
        click.echo(render_all(found, sources), err=True)
    failed = any(d.severity == "error" or warn == "error" for d in found)
    sys.exit(EXIT_BAD_INPUT if failed else 0)


@main.command("disasm")
@click.argument("kernel", type=click.Path(dir_okay=False))
@click.option("-o", "output", default="-", show_default=True, metavar="OUT",
              help="Where to write the .vasm text.")
@assemble_options
def disasm_cmd(kernel: str, output: str, defines: tuple[str, ...],
               include_paths: tuple[str, ...]) -> None:
    """Disassemble a kernel image (or a .vasm source, assembled) into canonical .vasm."""
    from .views.disasm import disassemble
    refuse_clobbering([output], [kernel])
    warn_extension(output, "source")
    _write(output, disassemble(load_any(kernel, defines, include_paths, outputs=[output])))


@main.command("fmt")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--check", is_flag=True, help="Only report files that are not formatted; exit 1.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print a unified diff of what formatting would change (with --check, "
                   "or alone); nothing is written.")
@click.option("-i", "in_place", is_flag=True, help="Rewrite the files in place.")
def fmt_cmd(files: tuple[str, ...], check: bool, show_diff: bool, in_place: bool) -> None:
    """Lay out .vasm sources canonically (comments, directives and macros kept)."""
    from .views.fmt import format_source
    if show_diff and in_place:
        raise click.UsageError("--diff shows what -i would write; give one of them")
    bad = False
    for name in files:
        try:
            text, form = read_text_form(name)
            new = format_source(text, filename=name)
        except (OSError, UnicodeDecodeError) as e:
            click.echo(f"{name}: error: {read_problem(e)}", err=True)
            bad = True
            continue
        except ToolchainError as e:
            click.echo(render(e), err=True)
            bad = True
            continue
        if check or show_diff:
            if new != text:
                if check:
                    click.echo(f"{name}: not formatted", err=True)
                    bad = True
                if show_diff:
                    import difflib
                    click.echo("".join(difflib.unified_diff(
                        text.splitlines(keepends=True), new.splitlines(keepends=True),
                        f"{name}", f"{name} (formatted)")), nl=False)
        elif in_place:  # the file keeps its line endings and byte-order mark
            if new != text:
                try:
                    write_output(name, form.apply(new))
                except ToolchainError as e:
                    click.echo(render(e), err=True)
                    bad = True
        else:
            click.echo(TextForm(newline=form.newline).apply(new), nl=False)
    sys.exit(EXIT_BAD_INPUT if bad else 0)


@main.command("import")
@click.argument("src", type=click.Path(dir_okay=False, exists=True))
@click.option("-o", "output", required=True, metavar="OUT",
              help="OUT.vk.json for a kernel image, OUT.vasm for source.")
@click.option("--params", default="10,2047,256,16", show_default=True,
              metavar="H,N_NODES,BATCH,ROUNDS",
              help="Parameters for a Python KernelBuilder's build_kernel.")
def import_cmd(src: str, output: str, params: str) -> None:
    """Bring in a take-home user's kernel (JSON bundle list, instrs object, or a
    Python file defining KernelBuilder)."""
    from .views.disasm import disassemble
    from .views.importer import import_kernel
    try:
        values = tuple(int(p) for p in params.split(","))
        if len(values) != 4:
            raise ValueError
    except ValueError:
        raise click.BadParameter("expected four integers H,N_NODES,BATCH,ROUNDS",
                                 param_hint="--params") from None
    refuse_clobbering([output], [src])
    warn_extension(output, "source" if output.endswith(".vasm") else "image",
                   hint=FORMAT_BY_NAME)
    read: list[str] = []
    try:
        kernel = import_kernel(src, params=values, files_read=read)
    except ToolchainError as e:
        _fail(e)
    refuse_clobbering([output], read)
    _write(output, disassemble(kernel) if output.endswith(".vasm") else dumps_kernel(kernel))


@main.command("diff")
@click.argument("a", type=click.Path(dir_okay=False, exists=True))
@click.argument("b", type=click.Path(dir_okay=False, exists=True))
@click.option("--context", "-U", default=2, show_default=True, type=click.IntRange(0),
              help="Unchanged bundles shown around each change.")
@click.option("--engines", "by_engine", is_flag=True,
              help="Compare two schedules of one program engine by engine: slots used per "
                   "window of cycles, and where B loses its cycles (head, steady state, tail).")
@click.option("--window", type=click.IntRange(1), default=100, show_default=True,
              metavar="CYCLES", help="With --engines: the cycles in each window.")
@assemble_options
def diff_cmd(a: str, b: str, context: int, by_engine: bool, window: int,
             defines: tuple[str, ...], include_paths: tuple[str, ...]) -> None:
    """Show the change between two kernels (images or sources) as .vasm, bundle by
    bundle; with --engines, how two schedules of one program use each engine."""
    from .views.diff import diff_kernels
    if _given("window") and not by_engine:
        raise click.UsageError("--window needs --engines")
    ka, kb = load_any(a, defines, include_paths), load_any(b, defines, include_paths)
    if by_engine:
        from .views.engines import compare_engines
        short = (Path(a).name, Path(b).name)
        click.echo(compare_engines(ka, kb, names=short if short[0] != short[1] else (a, b),
                                   window=window), nl=False)
        return
    text, changed = diff_kernels(ka, kb, names=(a, b), context=context)
    click.echo(text, nl=False)
    sys.exit(1 if changed else 0)


@main.command("editors")
@click.option("--write", "mode", flag_value="write", help="Rewrite the generated files.")
@click.option("--check", "mode", flag_value="check", default=True,
              help="Only list stale files; exit 1 if any (the default).")
@click.option("--root", type=click.Path(file_okay=False, exists=True), metavar="DIR",
              help="The repository holding editors/ (default: this package's checkout, "
                   "else the current folder).")
def editors_cmd(mode: str, root: str | None) -> None:
    """Regenerate the word lists of the VS Code, Vim and Emacs highlighters from
    the ISA table (editors/), or check that they are current."""
    from .editor.editors import generated, stale
    if root is None:
        here = Path(__file__).resolve().parent.parent
        root = str(here if (here / "editors").is_dir() else Path.cwd())
    base = Path(root)
    try:
        texts = generated(base)
    except (OSError, ValueError) as e:
        click.echo(f"vasm: error: {e}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if mode == "write":
        for path, text in texts.items():
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                _write(str(path), text)
                click.echo(f"wrote {path}")
        return
    old = stale(base)
    for path in old:
        click.echo(f"{path}: stale; run 'vasm editors --write'", err=True)
    sys.exit(EXIT_BAD_INPUT if old else 0)


@main.command("lsp")
@click.option("--stdio", is_flag=True,
              help="Talk over stdin and stdout (the only transport; clients such as "
                   "vscode-languageclient pass it).")
def lsp_cmd(stdio: bool) -> None:
    """Serve the Language Server Protocol over stdin and stdout, for editors:
    diagnostics as you type, hover, completion, navigation, cycles as inlay
    hints (editors/README.md)."""
    from .editor.lsp import serve
    status = serve()
    # Exit now, without freeing the heap object by object: a large
    # document's assembly is hundreds of megabytes of small objects, and the
    # editor waits (and then kills the server) while a normal exit frees them.
    import contextlib
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # (closed by the server's writer)
            stream.flush()
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))
