"""`vemu run --trace`: Chrome Trace Event JSON with the take-home's tracks and
our args, checked for structure on a source kernel and a corpus kernel."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

import emu
from asm import isa
from asm.stages.assembler import assemble
from emu.cli import main as vemu
from emu.problem import Params, make_image
from emu.trace import BASE_ADDR_TID, trace_json

ROOT = Path(__file__).parent.parent
BASELINE = ROOT / "programs" / "takehome" / "baseline.vasm"
SLOTS = sum(n for e, n in isa.SLOT_LIMITS.items() if e not in isa.FREE_ENGINES)


def check_structure(kernel, mem) -> list[dict]:
    text, state, error = trace_json(kernel, mem)
    assert error is None
    events = json.loads(text)
    assert text.count("\n") == len(events) + 2  # "[", one event per line, "]"
    meta = [e for e in events if e["ph"] == "M"]
    assert {"Core 0", "Core 0 Scratch"} == {e["args"]["name"] for e in meta
                                           if e["name"] == "process_name"}
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in meta if e["name"] == "thread_name"}
    slot_threads = {t: n for (pid, t), n in threads.items() if pid == 0}
    assert len(slot_threads) == SLOTS and slot_threads[1] == "alu-0"
    assert sorted(n for (pid, _), n in threads.items() if pid == 1) == sorted(
        f"{name}-{length}" for name, length in kernel.scratch.values())
    ops = [e for e in events if e["ph"] == "X" and e["pid"] == 0 and e["dur"] == 1]
    # one event per executed slot, on that slot's thread, at its cycle
    run = emu.run(kernel, mem)
    assert state.cycle == run.cycles and state.mem == run.mem
    assert max(e["ts"] for e in ops) == run.cycles - 1
    per_thread = Counter((e["tid"], e["ts"]) for e in ops)
    assert max(per_thread.values()) == 1
    for e in ops[:50]:
        assert slot_threads[e["tid"]].startswith(isa.BY_MACHINE[
            (slot_threads[e["tid"]].split("-")[0], e["name"])].engine)
        assert {"slot", "named", "pc"} <= set(e["args"])
    values = [e for e in events if e["ph"] == "X" and e["pid"] == 1]
    assert all(e["tid"] - BASE_ADDR_TID in kernel.scratch for e in values)
    return events


def test_trace_of_a_source_kernel_names_operands_and_lines():
    kernel = assemble(BASELINE, defines={"ROUNDS": 1, "BATCH": 8})
    mem = make_image(Params(3, 8, 1), 5)
    events = check_structure(kernel, mem)
    ops = [e for e in events if e["ph"] == "X" and e["pid"] == 0 and e["dur"] == 1]
    assert len(ops) == sum(1 for b in kernel.program for e, s in b.items()
                           if e != "debug" for _ in s)  # straight-line: each bundle once
    first = ops[0]["args"]
    assert first["named"] == "const tmp1, 0"
    assert first["source"].endswith("baseline.vasm:53")
    assert first["line"].startswith("const")
    # the scratch track shows each value change of a header word once
    rounds_addr = next(a for a, (n, _) in kernel.scratch.items() if n == "rounds")
    changes = [e for e in events if e["pid"] == 1 and e["tid"] == BASE_ADDR_TID + rounds_addr
               and e["ph"] == "X"]
    assert [e["name"] for e in changes] == ["1"]


def test_trace_of_a_corpus_kernel_has_the_expected_tracks(corpus_entry):
    if len(corpus_entry["instrs"]) > 5000:
        return  # the big flat kernels add nothing here but time
    kernel = emu.as_kernel({"instrs": corpus_entry["instrs"],
                            "scratch_map": corpus_entry.get("scratch_map", {})})
    p = corpus_entry["params"]
    check_structure(kernel, make_image(Params(p["forest_height"], p["batch_size"],
                                              p["rounds"]), 3))


def test_vemu_trace_option(tmp_path):
    out = tmp_path / "t.json"
    r = CliRunner().invoke(vemu, ["run", str(BASELINE), "-D", "ROUNDS=1", "-D", "BATCH=8",
                                  "--rounds", "1", "--batch", "8", "--height", "3", "--check",
                                  "--trace", str(out)])
    assert r.exit_code == 0, r.output
    assert "correct" in r.output
    assert json.loads(out.read_text())[0]["args"]["name"] == "Core 0"
    r = CliRunner().invoke(vemu, ["run", str(BASELINE), "--seeds", "2", "--trace", str(out)])
    assert r.exit_code == 2 and "--trace traces a single run" in r.output


def test_trace_is_written_up_to_a_fault(tmp_path):
    kernel = tmp_path / "k.json"
    kernel.write_text(json.dumps([{"load": [["const", 0, 7]]}, {"alu": [["//", 1, 0, 2]]}]))
    out = tmp_path / "t.json"
    r = CliRunner().invoke(vemu, ["run", str(kernel), "--mem", "-", "--trace", str(out)],
                           input="[1, 2, 3]")
    assert r.exit_code == 1 and "division by zero" in r.output
    events = json.loads(out.read_text())
    assert [e["name"] for e in events if e["ph"] == "X" and e["dur"] == 1] == ["const"]
