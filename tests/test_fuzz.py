"""Front doors under mutated input: every outcome is a result or our own
diagnostic, never a Python exception, never a hang (a time limit per input),
never a damaged output file. The budget follows the Hypothesis profile
(tests/budget.py); for a run of a chosen length:
    FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py"""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
import os
import signal
import tempfile
from pathlib import Path

from budget import examples
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asm.cli import main as vasm
from asm.diagnostics import render_all
from asm.errors import ToolchainError
from asm.kernel import loads_kernel
from asm.linking.objects import ObjectModule, dumps_object, loads_object
from asm.stages.assembler import assemble_full, assemble_module
from asm.views.fmt import format_source
from emu.cli import main as vemu

ROOT = Path(__file__).parent.parent
SEEDS = sorted([*ROOT.glob("tests/diagnostics/*.vasm"), *ROOT.glob("tests/data/*.vasm"),
                *ROOT.glob("tests/link/*/*.vasm"), ROOT / "tests/editors/sample.vasm",
                *ROOT.glob("programs/**/*.vasm")])
TEXTS = [p.read_text(encoding="utf-8") for p in SEEDS]
PIECES = ["{", "}", ";", ",", "(", ")", "[", "]", "@", "#", '"', "\\", "\\x", ".macro m a",
          ".endm", ".rept 3", ".endr", ".for i = 0, 3", ".endfor", ".if 1", ".else", ".endif",
          "{x}", "{@}", "x:", "\n", " ", "0x", "-", "<<", "99999999999999999999", "=", "!",
          ".include \"nope.vasm\"", ".const c, 5", ".global g", ".extern e", ".pin", ".endpin",
          "vadd", "load_offset", "jump", "cond_jump_rel", "vcompare"]


@st.composite
def mutated(draw) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(text)))
        kind = draw(st.integers(0, 2))
        if kind == 0:
            text = text[:i] + draw(st.sampled_from(PIECES)) + text[i:]
        elif kind == 1:
            text = text[:i] + text[i + draw(st.integers(1, 12)):]
        else:
            j = draw(st.integers(0, len(text)))
            text = text[:i] + text[j:j + draw(st.integers(1, 40))] + text[i:]
    return text


FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 0)) or examples(150), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LIMIT = 30  # seconds for one input: far above any real one, so reaching it means a hang


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float = LIMIT):
    """Interrupt an input that runs too long (an alarm signal: Unix, main thread)."""
    def alarm(signum, frame):
        raise Hang(f"one input ran for more than {seconds} s")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@FUZZ
@given(mutated())
def test_assembler_gives_a_kernel_or_diagnostics(text):
    defines = {"ROUNDS": 1, "BATCH": 4}
    for run in (assemble_full, assemble_module):
        with time_limit():
            result = run(text, filename="fuzz.vasm", defines=defines)
        rendered = render_all(result.diagnostics, result.sources)
        if getattr(result, "kernel", None) is None and result.module is None:
            assert result.errors and "error" in rendered


@FUZZ
@given(mutated())
def test_formatter_is_idempotent_or_reports(text):
    try:
        with time_limit():
            once = format_source(text, filename="fuzz.vasm")
    except ToolchainError:
        return
    assert format_source(once, filename="fuzz.vasm") == once


@FUZZ
@given(st.sampled_from(["[]", '{"format": "vliw-kernel", "version": 1, "program": []}',
                        '[{"alu": [["+", 0, 1, 2]]}, {"flow": [["jump", 0]]}]']),
       st.lists(st.tuples(st.integers(0, 200), st.sampled_from(
           ['"', "[", "]", "{", "}", "0", "-1", ",", ":", "x", "null", "1e9", "99999999999",
            '"alu"', '"+"', "[[", "]]", ""])), min_size=1, max_size=4))
def test_kernel_reader_gives_a_kernel_or_our_error(base, edits):
    text = base
    for at, piece in edits:
        at = min(at, len(text))
        text = text[:at] + piece + text[at:]
    with contextlib.suppress(ToolchainError), time_limit():  # anything else fails the test
        loads_kernel(text, filename="k.json")


# ---------------------------------------------------------------- JSON documents
# Text edits mostly break the JSON syntax; these edit the parsed document, so
# the readers' checks of every field are what gets exercised.

JUNK = [None, True, -1, 0, 1, 7, 1536, 2**32, 2**64, -(2**40), 1.5, "", "x", "alu", "+",
        "const", "load", "halt", [], [0], [[]], ["+", 0, 1, 2], {}, {"alu": []}, "\u0000"]


def _paths(doc, path=()):
    yield path
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*path, i))


@st.composite
def edited(draw, doc):
    """`doc` with up to three random edits: a value replaced, a key or element
    dropped, a key or element added, an element duplicated."""
    doc = copy.deepcopy(doc)
    junk = st.sampled_from(JUNK).map(copy.deepcopy)  # never share (and then edit) a JUNK list
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        last = path[-1]
        kind = draw(st.integers(0, 3))
        if kind == 0:
            parent[last] = draw(junk)
        elif kind == 1:
            del parent[last]
        elif kind == 2 and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "alu", "format", "version", "0"]))] = \
                draw(junk)
        else:
            parent.append(draw(junk))
    return doc


SMALL_KERNELS = [json.loads(gzip.decompress(p.read_bytes()))
                 for p in sorted((ROOT / "tests/corpus").glob("*.small.json.gz"))][:2]
for k in SMALL_KERNELS:  # a few hundred bundles is plenty to mutate
    k["program"] = k.get("program", k.get("instrs"))[:40]
    k.pop("instrs", None)
    k.pop("source", None)


def _object_doc(path: Path) -> dict:
    result = assemble_module(path)
    assert result.module is not None, path
    return json.loads(dumps_object(ObjectModule(path.stem, result.module, str(path))))


OBJECTS = [_object_doc(p) for p in sorted(ROOT.glob("tests/link/map/*.vasm"))]


@FUZZ
@given(st.sampled_from(SMALL_KERNELS).flatmap(edited))
def test_edited_kernel_images_load_or_give_our_error(doc):
    with contextlib.suppress(ToolchainError), time_limit():
        loads_kernel(json.dumps(doc), filename="k.json")


@FUZZ
@given(st.sampled_from(OBJECTS).flatmap(edited))
def test_edited_objects_load_or_give_our_error(doc):
    with contextlib.suppress(ToolchainError), time_limit():
        loads_object(json.dumps(doc), filename="m.vo")


def _clean(result) -> None:
    """A CLI outcome we accept: exit 0, 1 or 2, our own message, no traceback."""
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert "error" in result.output


MEM = [0] * 64 + list(range(64))


@contextlib.contextmanager
def fresh_dir():
    """An empty directory for one example, removed after it (pytest's
    tmp_path is one per test)."""
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


@FUZZ
@given(st.one_of(st.sampled_from(SMALL_KERNELS).flatmap(edited),
                 st.sampled_from(SMALL_KERNELS)),
       st.one_of(st.just(MEM), edited(MEM), st.sampled_from(JUNK).map(copy.deepcopy)))
def test_vemu_runs_edited_kernels_and_images_or_reports(doc, mem):
    with fresh_dir() as tmp_path:
        kernel, image = tmp_path / "k.json", tmp_path / "m.json"
        kernel.write_text(json.dumps(doc))
        image.write_text(json.dumps(mem))
        with time_limit():
            result = CliRunner().invoke(vemu, ["run", str(kernel), "--mem", str(image),
                                               "--max-cycles", "5000", "--json"])
        _clean(result)


@FUZZ
@given(mutated(), st.booleans())
def test_vasm_never_leaves_a_damaged_output(text, compile_only):
    with fresh_dir() as tmp_path:
        source, out = tmp_path / "k.vasm", tmp_path / ("k.vo" if compile_only else "k.vk.json")
        source.write_text(text)
        out.write_text("OLD")
        args = ["assemble", str(source), "-o", str(out), "-D", "ROUNDS=1", "-D", "BATCH=4"]
        with time_limit():
            result = CliRunner().invoke(vasm, args + (["-c"] if compile_only else []))
        _clean(result)
        written = out.read_text()
        if result.exit_code == 0:
            (loads_object if compile_only else loads_kernel)(written)
        else:
            assert written == "OLD"  # a failed run leaves the old file alone
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["k.vasm", out.name])


@FUZZ
@given(st.lists(st.sampled_from(OBJECTS).flatmap(edited), min_size=1, max_size=2))
def test_vasm_link_reads_edited_objects_or_reports(docs):
    with fresh_dir() as tmp_path:
        paths = []
        for i, doc in enumerate(docs):
            paths.append(tmp_path / f"m{i}.vo")
            paths[-1].write_text(json.dumps(doc))
        with time_limit():
            result = CliRunner().invoke(vasm, ["link", *map(str, paths), "-o",
                                               str(tmp_path / "k.vk.json")])
        _clean(result)
