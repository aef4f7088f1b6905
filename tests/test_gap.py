"""Where a schedule's cycles go: `vasm diff --engines` between two schedules
of one program, and the report's account of a block that is over its tight
bound (asm/sched/gap.py)."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from conftest import load_corpus

from asm import assemble
from asm.cli import main as vasm
from asm.kernel import Kernel, kernel_from_json, save_kernel
from asm.sched.debugops import BlockGraph
from asm.sched.deps import blocks
from asm.sched.flatten import flatten
from asm.sched.gap import Chain, explain, longest_chain
from asm.sched.listsched import list_schedule
from asm.sched.schedule import report, schedule_kernel

CORPUS = Path(__file__).parent / "corpus"


def test_diff_engines_says_where_the_second_schedule_loses(tmp_path):
    # The same six loads and adds: packed two loads a cycle, and one a cycle.
    packed = Kernel([{"load": [("const", 0, 1), ("const", 1, 2)]},
                     {"load": [("const", 2, 3), ("const", 3, 4)]},
                     {"alu": [("+", 4, 0, 1), ("+", 5, 2, 3)]}])
    slow = Kernel([{"load": [("const", 0, 1)]}, {"load": [("const", 1, 2)]},
                   {"load": [("const", 2, 3)]}, {"load": [("const", 3, 4)]},
                   {"alu": [("+", 4, 0, 1), ("+", 5, 2, 3)]}])
    save_kernel(packed, tmp_path / "a.vk.json")
    save_kernel(slow, tmp_path / "b.vk.json")
    r = CliRunner().invoke(vasm, ["diff", str(tmp_path / "a.vk.json"),
                                  str(tmp_path / "b.vk.json"), "--engines", "--window", "2"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "A = a.vk.json: 3 cycles; B = b.vk.json: 5 cycles (+2)"
    assert lines[2].split() == ["cycles", "load", "|", "load", "|", "load"]
    assert lines[3].split() == ["0..1", "100%", "|", "50%", "|", "1.0"]
    assert lines[-1].split() == ["in", "all", "2.0"]
    r = CliRunner().invoke(vasm, ["diff", str(tmp_path / "a.vk.json"),
                                  str(tmp_path / "b.vk.json"), "--window", "2"])
    assert r.exit_code == 2 and "--window needs --engines" in r.output


def test_the_longest_chain_counts_waits_and_dependences():
    # Six loads (three cycles at two a cycle), then an add of the last two.
    k = assemble(".scratch v, 6\n.scratch s\n" + "".join(
        f"const v[{i}], {i}\n" for i in range(6)) + "add s, v[4], v[5]\n")
    [block] = blocks(k)
    bg = BlockGraph(block.nodes)
    g = bg.graph
    cycle_of = list_schedule(g, np.arange(g.n, dtype=np.float64))
    chain = longest_chain(g, bg.graph_nodes, cycle_of)
    assert chain.length == 4
    assert chain.waits == Counter({"load": 2})  # v[4] waits two cycles for a load slot
    assert chain.cycles == Counter({"data": 1}) and chain.steps == Counter({"data": 1})


def test_the_explanation_names_the_missing_constraint():
    memory = Chain(900, Counter({"load": 500}), Counter({"data": 300, "memory": 9}),
                   Counter({"data": 300, "memory": 9}), barriers=8)
    assert "memory order cuts the loads into 9 phases" in explain(memory)
    reuse = Chain(100, Counter({"alu": 60}), Counter({"reuse": 20}), Counter({"reuse": 20}))
    assert "20 of its steps wait for a scratch word" in explain(reuse)
    assert "--rename" in explain(reuse)
    handoff = Chain(100, Counter({"valu": 60}), Counter({"data": 40}), Counter({"data": 40}))
    assert "dependences and full valu slots delay each other" in explain(handoff)


def test_a_real_kernel_over_its_bound_is_explained_in_the_report():
    data = load_corpus(next(CORPUS.glob("chokevin+*.small.json.gz")))
    s = schedule_kernel(flatten(kernel_from_json(data), random.Random(1)), level=1)
    assert s.after > 1.02 * s.bound
    text = report(s)
    [why] = [line for line in text.splitlines() if line.startswith("block at pc")]
    assert "over its tight bound: its longest chain" in why
    assert "memory order cuts the loads into" in why and ".restrict" in why
