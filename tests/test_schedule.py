"""The scheduler never changes what a program computes, never takes more
cycles, and never breaks a slot limit."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pytest
from budget import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st
from strategies import MEM_SIZE, any_programs, memories, programs

import emu
from asm import isa
from asm.cfg import ControlFlow
from asm.kernel import Kernel, bundle_cost
from asm.sched.bounds import bounds
from asm.sched.deps import build_block
from asm.sched.graph import Graph
from asm.sched.schedule import schedule_kernel
from asm.stages.assembler import assemble

MAX_CYCLES = 2_000


def outcome(kernel: Kernel, mem: list[int]):
    try:
        r = emu.run(kernel, list(mem), max_cycles=MAX_CYCLES)
    except emu.EmuError as e:
        return ("fault", e.reason), None
    return (r.mem, r.trace_buffer, r.status), r.cycles


def within_limits(program) -> bool:
    return all(len(slots) <= isa.SLOT_LIMITS[e] for b in program for e, slots in b.items()
               if e not in isa.UNENFORCED_LIMITS)


LEVELS = [
    pytest.param({"level": 1}, 150, id="O1"),
    pytest.param({}, 150, id="O2"),
    pytest.param({"rename_words": "all"}, 150, id="O2-renamed"),
    # -O3 with a small budget on two processes: the parallel search runs.
    pytest.param({"level": 3, "budget": 0.3, "jobs": 2}, 40, id="O3"),
]


@pytest.mark.parametrize(("options", "share"), LEVELS)
def test_random_programs_compute_the_same_in_no_more_cycles(options, share):
    @settings(deadline=None, max_examples=examples(share))
    @given(any_programs(max_bundles=14), memories())
    def check(program, mem):
        k = Kernel(program)
        before, cycles_before = outcome(k, mem)
        if before[0] == "fault":
            return  # a faulting program has no result to keep (faults are not reordered away)
        s = schedule_kernel(k, **options)
        after, cycles_after = outcome(s.kernel, mem)
        assert after == before
        assert cycles_after <= cycles_before
        assert within_limits(s.kernel.program)
        for b in s.blocks:
            assert b.bound.simple <= b.bound.paths <= b.bound.tight and b.after <= b.before
            # The bounds hold for every schedule of the scheduler's own (the
            # block as written may pack writes more tightly than it models).
            assert b.kept.startswith(("as written", "pinned")) or b.bound.tight <= b.after
    check()


_MEMORY_OPS = st.sampled_from([
    "const p, {a}", "const q, {b}", "add_imm p, p, {a}", "add x, p, q",
    "load x, p", "load y, q", "store p, x", "store q, y", "vload v, p", "vstore q, v",
    "add y, x, y", "mul x, x, y", "load_offset v, p, 2", "trace_write x",
])


@settings(deadline=None, max_examples=examples(200))
@given(st.lists(st.tuples(_MEMORY_OPS, st.integers(0, 20), st.integers(0, 20)),
                min_size=1, max_size=25), memories())
def test_memory_traffic_through_aliasing_and_distinct_addresses(lines, mem):
    assert_kept_by_scheduling(_POINTERS + _lines(lines), mem)


_POINTERS = ".scratch p\n.scratch q\n.scratch x\n.scratch y\n.vector v\n"


def _lines(picked: list[tuple[str, int, int]]) -> str:
    return "".join(t.format(a=a, b=b) + "\n" for t, a, b in picked)


def assert_kept_by_scheduling(src: str, mem: list[int]) -> None:
    """Same memory, trace and status after scheduling, in no more cycles."""
    k = assemble(src)
    before, _ = outcome(k, mem)
    if before[0] == "fault":
        return
    s = schedule_kernel(k)
    assert outcome(s.kernel, mem)[0] == before
    assert s.after <= s.before


_ENTRY_OPS = st.sampled_from(["const p, {a}", "const q, {b}", "add_imm p, p, {a}",
                              "add q, p, q", "add_imm q, p, {b}", "const x, {b}"])


@settings(deadline=None, max_examples=examples(200))
@given(st.lists(st.tuples(_ENTRY_OPS, st.integers(0, 20), st.integers(0, 20)), max_size=6),
       st.lists(st.tuples(_MEMORY_OPS, st.integers(0, 20), st.integers(0, 20)),
                min_size=1, max_size=20), memories())
def test_pointers_set_in_the_entry_block_are_constants_after_it(entry, lines, mem):
    # The entry block computes addresses; a later block (a jump target) uses
    # them, and may set them again (then they are not constants at all).
    assert_kept_by_scheduling(_POINTERS + _lines(entry) + "jump body\nbody:\n" + _lines(lines),
                              mem)


def test_stores_through_distinct_entry_pointers_share_a_bundle():
    # As kernels compute their output pointers: base + offset, once, up front.
    src = (".scratch base\n.scratch off\n.scratch p\n.scratch q\n.vector v\n"
           "const base, 16\nconst off, 8\nadd p, base, off\nadd q, p, off\njump body\n"
           "body:\nvstore p, v\nvstore q, v\nhalt\n")
    s = schedule_kernel(assemble(src))
    assert any(len(b.get("store", ())) == 2 for b in s.kernel.program)


@settings(deadline=None, max_examples=examples(100))
@given(st.lists(st.sampled_from(["load x, p", "store p, x", "load y, q", "store q, y",
                                 "add x, x, y", "add_imm p, p, 1", "add_imm q, q, 1",
                                 "vload v, p", "vstore q, v"]), min_size=1, max_size=20),
       memories())
def test_restricted_bases_in_disjoint_regions_keep_results(lines, mem):
    # p walks 0..19+7, q walks 40.. : the regions never meet, as .restrict promises.
    src = (".scratch p\n.scratch q\n.scratch x\n.scratch y\n.vector v\n.restrict p, q\n"
           "const p, 0\nconst q, 40\n" + "\n".join(lines) + "\n")
    k = assemble(src)
    mem = mem + [0] * 80
    before, _ = outcome(k, mem)
    assert k.hints.restrict == ((0, 1),)  # .restrict travels with the kernel
    s = schedule_kernel(k)
    assert outcome(s.kernel, mem)[0] == before


def test_a_flat_kernel_is_packed_to_its_bound():
    src = ".scratch a, 24\n" + "".join(f"add a[{i}], a[{i}], a[{i + 12}]\n" for i in range(12))
    s = schedule_kernel(assemble(src))
    assert len(s.kernel.program) == 1 and s.after == 1 == s.blocks[0].bound.tight


def test_bundle_meaning_is_kept_when_flattening_reads_before_writes():
    # A swap inside one bundle: each add reads the other's old value.
    k = assemble(".scratch a\n.scratch b\n.scratch z\nconst a, 1\nconst b, 2\n"
                 "{ add a, b, z ; add b, a, z }\nstore z, a\nhalt")
    s = schedule_kernel(k)
    mem = [0] * 8
    assert outcome(s.kernel, mem)[0] == outcome(k, mem)[0]


def test_jumps_stay_last_and_targets_follow_their_blocks():
    src = """.scratch i
.scratch n
.scratch one
.scratch c
    const n, 5
    const one, 1
    const i, 0
loop:
    add i, i, one
    lt c, i, n
    cond_jump c, loop
    store n, i
    halt
"""
    k = assemble(src)
    s = schedule_kernel(k)
    mem = [0] * 8
    assert outcome(s.kernel, mem)[0] == outcome(k, mem)[0]
    assert outcome(s.kernel, mem)[1] < outcome(k, mem)[1]
    assert s.kernel.labels["loop"] < k.labels["loop"]


def test_restrict_lets_loads_pass_stores_through_other_bases():
    src = ".scratch p\n.scratch q\n.scratch x\n.scratch y\n{}store p, x\nload y, q\n"
    plain = build_block(assemble(src.format("")).program, 0, 2)
    assert plain[0].succs == {1: 1}  # may alias: ordered
    restricted = build_block(assemble(src.format("")).program, 0, 2, restrict_sets=[{0, 1}])
    assert not restricted[0].succs


def test_lower_bound_is_never_above_the_schedule():
    src = ".scratch a, 40\n" + "".join(
        f"mul a[{i % 20}], a[{(i * 7) % 20}], a[{20 + i % 20}]\n" for i in range(60))
    k = assemble(src)
    s = schedule_kernel(k)
    for b in s.blocks:
        assert b.bound.simple <= b.bound.tight <= b.after <= b.before


def test_stores_after_every_gather_start_no_sooner_than_the_loads_end():
    # Loads through unknown addresses may read what the stores write, so the
    # stores wait for all of them: 40 loads take 20 cycles of the load engine,
    # and then 8 stores 4 of the store engine. Paths alone see the loads' 20.
    src = (".scratch a, 48\n.scratch v, 48\n" + "".join(
        f"load v[{i}], a[{i}]\n" for i in range(40)) + "".join(
        f"store a[{40 + i}], v[{i}]\n" for i in range(8)))
    k = assemble(src)
    s = schedule_kernel(k)
    (b,) = [b for b in s.blocks if b.ops]
    assert b.bound.paths == 20
    assert b.bound.tight == 20 - 1 + 4 == b.after
    assert b.bound.engine == "store"


def test_a_long_chain_is_bounded_in_small_memory(monkeypatch):
    """A block with more distinct release times than bounds.MAX_THRESHOLDS
    (a chain through one reused word: 90,000 of them in the take-home's
    baseline, which once asked for a 63 GB grid) is bounded from a spread of
    thresholds: still a true bound, here exactly the chain."""
    from asm.sched import bounds as bounds_module
    monkeypatch.setattr(bounds_module, "MAX_THRESHOLDS", 16)
    n = 300
    chain = [((i + 1, 1),) if i + 1 < n else () for i in range(n)]
    alu = isa.ENGINES.index("alu")
    side = [() for _ in range(n)]  # and as many free ops beside it
    b = bounds(Graph(chain + side, [alu] * (2 * n)))
    assert b.tight == b.critical == n


@pytest.mark.parametrize("mem_size", [MEM_SIZE])
def test_debug_ops_cost_nothing(mem_size):
    src = ".scratch a\n.scratch b\nconst a, 1\ncompare a, (0, 0)\nconst b, 2\ncompare b, (0, 1)\n"
    s = schedule_kernel(assemble(src))
    assert sum(map(bundle_cost, s.kernel.program)) == 1
    assert bounds(Graph([], [])).tight == 0


@settings(deadline=None, max_examples=examples(200))
@given(programs(max_bundles=14), memories(),
       st.none() | st.sets(st.integers(0, 64), max_size=24))
def test_renaming_keeps_results(program, mem, words):
    # (words: renaming limited to those, as to a kernel's .temp words)
    from asm.sched.rename import _touched, rename, touched
    k = Kernel(program)
    before, _ = outcome(k, mem)
    renamed, _ = rename(k, words)
    assert outcome(renamed, mem)[0] == before
    # what renaming says its program touches, without a walk, is what it touches
    assert touched(renamed.program) == _touched(renamed.program)
    if words is not None:  # the bundles passed over, touching none of the words, change nothing
        with patch("asm.sched.rename._touching", lambda d, index, w: [True] * len(index)):
            assert rename(k, words)[0].program == renamed.program


def test_renaming_limited_to_a_temporary_moves_its_reads_too():
    # (the bundle reading it writes no temporary: renaming must not pass it over)
    from asm.sched.rename import rename
    k = assemble(".scratch t\n.scratch a, 2\nconst t, 1\nadd a[0], t, t\n"
                 "const t, 2\nadd a[1], t, t\n")
    t = next(addr for addr, (name, _) in k.scratch.items() if name == "t")
    renamed, moved = rename(k, [t])
    fresh = renamed.program[0]["load"][0][1]
    assert moved == 1 and fresh != t
    assert renamed.program[1]["alu"][0][2:] == (fresh, fresh)
    assert renamed.program[2:] == k.program[2:]


def test_renaming_breaks_reuse_of_a_temporary():
    body = "".join(f"const t, {i}\nadd a[{i}], t, t\n" for i in range(8))
    k = assemble(".scratch t\n.scratch a, 8\n" + body)
    plain = schedule_kernel(k)
    renamed = schedule_kernel(k, rename_words="all")
    assert renamed.after < plain.after
    assert renamed.after == 5  # 8 consts on 2 load slots, the last add one cycle later


def test_small_baseline_schedules_correctly_near_its_bound():
    from pathlib import Path

    from asm import schedule
    from asm.stages.assembler import assemble_full
    from emu.problem import Params, make_image
    from emu.verify import run_verified
    src = Path(__file__).parent.parent / "programs" / "takehome" / "baseline.vasm"
    result = assemble_full(src, defines={"ROUNDS": 4, "BATCH": 32})
    s = schedule(result)  # .restrict and .temp from the source
    run = run_verified(s.kernel, make_image(Params(10, 32, 4), 9), verify=True)
    assert run.correct
    assert s.after <= 1.15 * s.bound and s.after < s.before / 10


@settings(deadline=None, max_examples=examples(200))
@given(programs(max_bundles=12), memories(), st.integers(0, 3))
def test_flattening_keeps_results(program, mem, seed):
    import random

    from asm.sched.flatten import flatten
    k = Kernel(program)
    before, _ = outcome(k, mem)
    if before[0] == "fault" or ControlFlow(program).unmovable:
        return
    for rng in (None, random.Random(seed)):
        assert outcome(flatten(k, rng), mem)[0] == before


def test_relative_jumps_count_from_their_own_bundle():
    # The jump shares its new bundle with ops from earlier bundles.
    program = [{"load": [("const", i, int(i == 3))]} for i in range(8)]
    program += [{"flow": [("cond_jump_rel", 3, 0)]}, {"flow": [("halt",)]}]
    k = Kernel(program)
    s = schedule_kernel(k)
    assert outcome(s.kernel, [0, 0])[0] == outcome(k, [0, 0])[0]


@pytest.mark.slow
@settings(deadline=None, max_examples=examples(250))
@given(programs(max_bundles=16), memories(), st.integers(0, 1))
# Found by the hour-long run: a load after a store in one bundle's order was
# made to follow the store, but it reads memory as it was before the bundle.
@example(program=[*({"load": [("const", d, 0)]} for d in range(8)), {"alu": []},
                  {"store": [("store", 0, 0)], "alu": [("+", 0, 0, 0), ("+", 0, 0, 0)],
                   "flow": [("trace_write", 0)], "load": [("load", 0, 0), ("load", 0, 0)]},
                  {"store": [("store", 0, 0)]}],
         mem=[1] + [0] * (MEM_SIZE - 1), seed=0)
def test_deep_scheduling_flattening_renaming_keep_results(program, mem, seed):
    """The three transforms at once, many more examples (this depth found a
    relative-jump bug and an emulator fault-placement bug the others missed)."""
    import random

    from asm.sched.flatten import flatten
    k = Kernel(program)
    before, cycles = outcome(k, mem)
    if before[0] == "fault":
        return
    for options in ({"level": 1}, {}, {"rename_words": "all"}):
        s = schedule_kernel(k, **options)
        after, cycles_after = outcome(s.kernel, mem)
        assert after == before and cycles_after <= cycles
        assert within_limits(s.kernel.program)
    if not ControlFlow(program).unmovable:
        assert outcome(flatten(k, random.Random(seed)), mem)[0] == before


def test_renamed_words_keep_names_and_diff_shows_moves():
    from asm.views.diff import diff_kernels
    from asm.views.disasm import disassemble
    body = "".join(f"const t, {i}\nadd a[{i}], t, t\n" for i in range(8))
    k = assemble(".temp t\n.scratch a, 8\n" + body)
    s = schedule_kernel(k, rename_words="all")
    names = {name for name, _ in s.kernel.scratch.values()}
    copies = {name for name in names if name.startswith("t.")}
    assert copies and set(s.kernel.renamed.values()) == {0}  # all copies of t (word 0)
    code = [line for line in disassemble(s.kernel).splitlines()
            if not line.startswith((".scratch", ".temp"))]
    assert not [line for line in code if "@" in line], "a renamed word shows as a raw address"
    diff, changed = diff_kernels(k, s.kernel)
    assert changed
    ops = [line for line in diff.splitlines() if line[:1] in ("<", ">", "-", "+")
           and line[1:5] == "    "]  # op rows, not bundle headers
    assert ops and all(line[0] in "<>" for line in ops), "renaming showed as changed ops"


def test_output_groups_follow_data_not_shared_scratch():
    from asm.sched.deps import output_groups
    # Four chains: each loads its word, adds the shared constant, stores it
    # back. They reuse one temporary (t = 2), which ties them by anti and
    # output dependences, not by data.
    program = [{"load": [("const", 1, 5)]}]  # the shared constant
    for k in range(4):
        program += [{"load": [("const", 10 + k, k)]}, {"load": [("load", 2, 10 + k)]},
                    {"alu": [("+", 2, 2, 1)]}, {"store": [("store", 10 + k, 2)]}]
    nodes = build_block(program, 0, len(program))
    groups = output_groups(nodes)
    stores = [n.index for n in nodes if n.op.memory == "write"]
    assert groups[0] == -1  # the constant feeds every group
    assert [groups[n.index] for n in nodes[1:] if n.op.engine != "sync"] == \
        [s for s in stores for _ in range(4)]


def _output_groups_one_by_one(nodes):
    """deps.output_groups as its docstring says it, op by op (sets of
    consumers, a set of their groups): what the NumPy version must give."""
    last_writer, consumers = {}, [set() for _ in nodes]
    for n in nodes:
        for w in n.reads:
            if w in last_writer:
                consumers[last_writer[w]].add(n.index)
        for w in n.writes:
            last_writer[w] = n.index
    group = [-1] * len(nodes)
    for n in reversed(nodes):
        if n.op.memory == "write":
            group[n.index] = n.index
            continue
        seen = {group[c] for c in consumers[n.index]} - {-1}
        group[n.index] = seen.pop() if len(seen) == 1 else (-2 if seen else -1)
    return [g if g >= 0 else -1 for g in group]


@settings(deadline=None, max_examples=examples(150))
@given(st.one_of(programs(), st.deferred(lambda: grouped_programs())))
def test_output_groups_are_those_worked_out_op_by_op(program):
    from asm.sched.deps import output_groups
    for block in ControlFlow(program).blocks():
        nodes = build_block(program, block.start, block.end)
        expected = _output_groups_one_by_one(nodes)
        assert output_groups(nodes) == expected
        assert output_groups(nodes, native=False) == expected


@st.composite
def grouped_programs(draw):
    """Independent groups, each a chain of ALU and vector ops on words of its
    own (some reused across groups) that ends in a store: the shape the
    staggered starts are for."""
    groups = draw(st.integers(4, 6))
    program = [{"load": [("const", 0, draw(st.integers(1, 9)))]}]
    for k in range(groups):
        base = 8 + 16 * draw(st.integers(0, groups - 1))  # groups may share words
        program.append({"load": [("const", base, k), ("vload", base + 8, 0)]})
        for _ in range(draw(st.integers(1, 5))):
            op = draw(st.sampled_from(["+", "*", "^", "<<"]))
            if draw(st.booleans()):
                program.append({"valu": [(op, base + 8, base + 8, base + 8)]})
            else:
                program.append({"alu": [(op, base + 1, base + 8, 0)]})
        program.append({"store": [("vstore", base, base + 8)]})
    return program


@settings(deadline=None, max_examples=examples(40))
@given(grouped_programs(), memories())
def test_grouped_programs_compute_the_same_with_staggered_starts(program, mem):
    k = Kernel(program)
    before, cycles_before = outcome(k, mem)
    s = schedule_kernel(k)
    after, cycles_after = outcome(s.kernel, mem)
    assert after == before and cycles_after <= cycles_before
    assert within_limits(s.kernel.program)


def _four_groups() -> Graph:
    """Four groups, each a load, an add and a store of its own."""
    program = [{"load": [("const", 1, 5)]}]
    for k in range(4):
        program += [{"load": [("const", 10 + k, k)]}, {"load": [("load", 2, 10 + k)]},
                    {"alu": [("+", 2, 2, 1)]}, {"store": [("store", 10 + k, 2)]}]
    return Graph.from_nodes(build_block(program, 0, len(program)))


def test_staggered_start_delays_each_group_by_a_step():
    from asm.sched.priorities import group_count, staggered
    g = _four_groups()
    assert group_count(g) == 4
    bound = max(g.heights) + 30  # 30 cycles of slack, 10 per step between 4 groups
    delay = staggered(g, 1.0, bound) + g.height_array
    groups = sorted(set(g.groups.tolist()) - {-1})
    for rank, group in enumerate(groups):
        assert set(delay[g.groups == group].tolist()) == {10.0 * rank}
    assert set(delay[g.groups == -1].tolist()) == {0.0}


def test_windows_are_re_planned_by_the_staggered_starts_too():
    from asm.sched.search import plans_of
    g = _four_groups()
    made = {"height": -g.height_array, "stagger 0.33": np.arange(g.n) * 1.0,
            "order": np.arange(g.n) * 2.0}
    plans = plans_of(g, made)
    assert any(p is made["stagger 0.33"] for p in plans)
    assert any(p is made["height"] for p in plans)
    assert not any(p is made["order"] for p in plans)  # program order is no plan


def test_a_graph_pickles_for_the_parallel_search():
    # -O3's worker processes get the graph pickled; one built from nodes must
    # not carry them (they hold the ISA table's functions). Found by the bench.
    import pickle
    program = [{"load": [("const", 1, 5)]}, {"alu": [("+", 2, 1, 1)]},
               {"store": [("store", 1, 2)]}]
    g = Graph.from_nodes(build_block(program, 0, len(program)))
    copy = pickle.loads(pickle.dumps(g))
    assert copy.n == g.n and copy.succ == g.succ
    g.groups  # noqa: B018 - made before pickling, it travels
    assert list(pickle.loads(pickle.dumps(g)).groups) == list(g.groups)


@settings(deadline=None, max_examples=examples(60))
@given(st.lists(st.integers(0, 40), min_size=1, max_size=60), st.integers(0, 40),
       st.integers(1, 20), st.randoms())
def test_a_replanned_window_reorders_only_its_own_ops(cycles, first, width, random):
    # The perturbation's re-plan move: outside the window the schedule's
    # cycles are the keys; inside it, the ops take the plan's order, spread
    # over the window's cycles.
    import numpy as np

    from asm.sched.search import _replanned
    cycle_of = np.array(cycles, dtype=np.int32)
    plan = np.array(random.sample(range(len(cycles)), len(cycles)), dtype=np.float64)
    key = _replanned(cycle_of, plan, first, width)
    inside = (cycle_of >= first) & (cycle_of < first + width)
    assert (key[~inside] == cycle_of[~inside]).all()
    assert (key[inside] >= first).all() and (key[inside] < first + width).all()
    ops = np.flatnonzero(inside)
    assert (np.diff(plan[ops[np.argsort(key[ops])]]) > 0).all()


def _through_pointers(batches: list[int]) -> list[dict]:
    """Loads through a pointer read from memory, then a store through another:
    the store may alias every load, so each batch of them (SYNC_AFTER and
    more) is ordered through a sync node, chained to the batch before."""
    out = [{"load": [("const", 0, 0)]}, {"load": [("load", 1, 0)]},
           {"load": [("const", 2, 1)]}, {"load": [("load", 3, 2)]}]
    for count in batches:
        out += [{"load": [("load", 10 + i, 1)]} for i in range(count)]
        out.append({"store": [("store", 3, 10)]})
    return out


@settings(deadline=None, max_examples=examples(200))
@given(programs(max_bundles=14), st.lists(st.integers(6, 12), max_size=3), st.integers(0, 6),
       st.randoms(use_true_random=False))
def test_a_stored_placement_is_checked_as_the_walk_checks_it(program, batches, how, rng):
    """A block schedule read back from the cache is checked with NumPy over the
    block's edges; the walk through every op's successors says the same, for
    the scheduler's own placement and for that placement damaged."""
    from asm.sched.deps import blocks
    from asm.sched.schedule import _valid_placement, _valid_placement_walk, schedule_block
    from asm.sched.tuning import LEVELS
    k = Kernel(_through_pointers(batches) + program if batches else program)
    for block in blocks(k):
        if block.pinned or not block.nodes:
            continue
        bundles, _ = schedule_block(block, k.program, LEVELS[1])
        if bundles is None:
            bundles = [[x for x in block.nodes if x.pc == pc and not x.is_sync]
                       for pc in range(block.start, block.end)]
            bundles = [b for b in bundles if b]
        bundles = [list(b) for b in bundles]
        ops = [x for b in bundles for x in b]
        if how == 1 and ops:  # an op moved to another bundle (maybe before what it needs)
            x = rng.choice(ops)
            next(b for b in bundles if x in b).remove(x)
            bundles = [b for b in bundles if b]
            bundles.insert(rng.randrange(len(bundles) + 1), [x])
        elif how == 2:  # bundles in another order
            rng.shuffle(bundles)
        elif how == 3 and ops:  # an op twice, or left out
            x = rng.choice(ops)
            if rng.random() < 0.5:
                bundles.append([x])
            else:
                next(b for b in bundles if x in b).remove(x)
        elif how == 4 and len(bundles) > 1:  # two bundles as one (slot limits)
            a = bundles.pop()
            bundles[-1] = bundles[-1] + a
        elif how == 5:  # a sync node placed
            sync = [x for x in block.nodes if x.is_sync]
            if sync:
                bundles.append([sync[0]])
        elif how == 6:  # an op a sync node waits for, moved last (past what waits on it)
            waited = [x for x in ops if any(block.nodes[s].is_sync for s in x.succs)]
            if waited:
                x = rng.choice(waited)
                next(b for b in bundles if x in b).remove(x)
                bundles = [b for b in bundles if b] + [[x]]
        assert _valid_placement(block, bundles) == _valid_placement_walk(block, bundles)
