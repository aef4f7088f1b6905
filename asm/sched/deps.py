"""Dependence analysis: basic blocks, and the ordering constraints between the
ops of a block, for the scheduler.

Every op keeps the meaning it has in its original bundle: all of a bundle's
reads happen before any of its writes, and of two writes to one word the later
(engine order, then slot order) wins. Edges carry a latency: 1 where the
successor must come in a later bundle (a true dependence, or an output
dependence on a scratch word), 0 where it may share the bundle (an anti
dependence: the reader reads first; or two stores that may touch the same
memory, which a bundle applies in its own order, kept by the scheduler).

Memory dependences use the alias model of asm/sched/alias.py: loads never
depend on loads; anything the model cannot separate stays in order. Words
the entry block sets once (to a constant, or a loaded word plus a constant)
keep those values in every later block. Ops that append to the trace buffer
(a `trace` in their meaning) keep their order.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from .. import isa
from ..cfg import ControlFlow
from ..kernel import Kernel, bundle_cost
from . import compiled
from .alias import (
    Based,
    Const,
    Region,
    Root,
    Value,
    disjoint,
    effect,
    entry_value,
    inputs,
    region_of,
    regions,
    words_of,
)

K = isa.Kind
# A sync node is no op at all: it stands for "every load so far", so that a
# store waits for one node instead of thousands (same constraints, fewer edges).
SYNC = "sync"
SYNC_OP = isa.Op(SYNC, SYNC, SYNC, (), "all earlier loads of a region")
SYNC_AFTER = 8  # loads a store would otherwise wait on one by one


@dataclass(slots=True)
class OpNode:
    """One op of a block, with what it touches and its dependences."""

    index: int  # position in the block, original order
    pc: int  # the original bundle
    at: int  # position among the original bundle's slots (engines in order, then slots)
    engine: str
    slot: tuple
    op: isa.Op
    reads: tuple[int, ...]
    writes: tuple[int, ...]
    # The block's edges, once it is built (the successors made from them
    # when first asked: the scheduler's graph reads the arrays themselves).
    edges: Edges | None = field(default=None, compare=False, repr=False)
    _succs: dict[int, int] | None = field(default=None, compare=False, repr=False)

    @property
    def succs(self) -> dict[int, int]:
        """Node index -> latency, in the order the edges were found."""
        s = self._succs
        if s is None:
            s = self._succs = {} if self.edges is None else self.edges.successors(self.index)
        return s

    @property
    def is_debug(self) -> bool:
        """Costs no slot and no cycle (debug ops, and sync nodes)."""
        return self.engine == "debug" or self.engine == SYNC

    @property
    def is_sync(self) -> bool:
        return self.engine == SYNC

    @property
    def is_control(self) -> bool:
        return self.op.control is not None


class Edges:
    """A built block's dependence edges as arrays (NumPy int32), each op's
    successors in CSR form in the order they were found: `offsets` (ops + 1),
    `targets`, `lats`. Its nodes share it; fixed once the block is built."""

    __slots__ = ("offsets", "targets", "lats", "_lists")

    def __init__(self, offsets: np.ndarray, targets: np.ndarray, lats: np.ndarray) -> None:
        self.offsets, self.targets, self.lats = offsets, targets, lats
        self._lists: tuple[list[int], list[int], list[int]] | None = None

    def successors(self, i: int) -> dict[int, int]:
        if self._lists is None:
            self._lists = (self.offsets.tolist(), self.targets.tolist(), self.lats.tolist())
        o, t, lat = self._lists
        return dict(zip(t[o[i]:o[i + 1]], lat[o[i]:o[i + 1]], strict=True))

    @staticmethod
    def of(nodes: Sequence[OpNode]) -> Edges | None:
        """The edges `nodes` share, if they are the whole block the edges
        belong to, in order; else None."""
        edges = nodes[0].edges if nodes else None
        if edges is None or len(edges.offsets) != len(nodes) + 1:
            return None
        return edges if all(x.edges is edges and x.index == i for i, x in enumerate(nodes)) \
            else None


@dataclass
class Block:
    start: int  # first original pc
    end: int  # one past the last original pc
    nodes: list[OpNode]
    pinned: bool = False  # emitted exactly as written
    # What the dependences depend on besides the bundles: the words known at
    # entry (constant addresses) and the .restrict sets, as text (a memo's key).
    context: str = ""

    def original_cycles(self, program: Sequence[dict]) -> int:
        return sum(map(bundle_cost, program[self.start:self.end]))


def global_constants(program: Sequence[dict], entry_end: int) -> dict[int, Value]:
    """Words written exactly once in the whole program, in the entry block
    (which nothing jumps back into), with a value known there: the same value
    in every block after it. A value is a constant (`const`, or `add` /
    `add_imm` of known values, as inside a block) or a word loaded there plus
    a known offset, when the loaded word is itself written only that once.
    Kernels compute their pointers this way (a header word plus an offset), so
    stores through them are told apart in later blocks."""
    writes: dict[int, int] = defaultdict(int)
    for bundle in program:
        for engine, slots in bundle.items():
            for slot in slots:
                for w in isa.BY_MACHINE[(engine, slot[0])].writes(slot):
                    writes[w] += 1
    values = _Values({}, set())
    for pc in range(entry_end):
        # Every slot reads the values from before its bundle.
        for written in [values.effect(n) for n in _bundle_nodes(program, pc, 0)]:
            values.val.update(written)
    out: dict[int, Value] = {}
    for w, v in values.val.items():
        if writes[w] != 1:
            continue
        if type(v) is Const:
            out[w] = v
        elif type(v) is Based and v.root.origin != "entry" and writes[v.root.word] == 1:
            # A loaded root: in a later block it is that word's value at entry.
            out[w] = Based(Root(v.root.word, "entry"), v.offset)
    return out


class _Values:
    """Abstract values of scratch words inside one block, in original order."""

    def __init__(self, known: dict[int, Value], restricted: set[int]) -> None:
        self.known = known  # values valid at block entry
        self.restricted = restricted  # words named by .restrict
        self.val: dict[int, Value] = {}

    def get(self, w: int) -> Value:
        v = self.val.get(w)
        if v is not None:
            return v
        return self.known.get(w) or entry_value(w)

    def effect(self, node: OpNode) -> dict[int, Value]:
        """The values an op writes (computed from values before its bundle)."""
        return effect(node, self.get, self.restricted)


# ---------------------------------------------------------------- the graph


def _edge(nodes: list[OpNode], a: int, b: int, latency: int) -> None:
    if a == b:
        return
    succs = nodes[a].succs
    if succs.get(b, -1) < latency:
        succs[b] = latency


def predecessors(nodes: Sequence[OpNode], of: Iterable[int]) -> dict[int, dict[int, int]]:
    """The predecessors (node index -> latency) of the nodes `of`. (Nodes keep
    only their successors: few readers need predecessors, and making a dict
    of them for every op cost as much as the successors'.)"""
    out: dict[int, dict[int, int]] = {i: {} for i in of}
    edges = Edges.of(nodes)
    if edges is not None:  # (from the arrays: no op's successors made)
        wanted = np.isin(edges.targets, np.fromiter(out, dtype=np.int32, count=len(out)))
        sources = csr_sources(edges.offsets)
        for x, s, lat in zip(sources[wanted].tolist(), edges.targets[wanted].tolist(),
                             edges.lats[wanted].tolist(), strict=True):
            out[s][x] = lat
        return out
    for x in nodes:
        for s, lat in x.succs.items():
            into = out.get(s)
            if into is not None:
                into[x.index] = lat
    return out


class _SyncChain:
    """Per region, the accesses since the last sync node and that node: a later
    access that must follow all of them waits on the node and the few since."""

    def __init__(self, nodes: list[OpNode], latency: int) -> None:
        self.nodes = nodes
        self.latency = latency  # from an access to its sync node
        self.fresh: dict[Region, list[int]] = defaultdict(list)
        self.sync: dict[Region, int] = {}

    def before(self, region: Region) -> Iterable[tuple[int, int]]:
        """(node, latency) pairs standing for every access of the region so far."""
        if len(self.fresh[region]) >= SYNC_AFTER:
            self._make(region)
        if region in self.sync:
            yield self.sync[region], 0
        for i in self.fresh[region]:
            yield i, self.latency

    def _make(self, region: Region) -> None:
        nodes = self.nodes
        s = OpNode(len(nodes), nodes[-1].pc if nodes else 0, -1, SYNC, (SYNC,), SYNC_OP, (), ())
        nodes.append(s)
        if region in self.sync:
            _edge(nodes, self.sync[region], s.index, 0)
        for i in self.fresh[region]:
            _edge(nodes, i, s.index, self.latency)
        self.sync[region] = s.index
        self.fresh[region] = []


class _Memory:
    """Loads and stores seen so far in a block, grouped by region."""

    def __init__(self, restrict_sets: list[set[int]], nodes: list[OpNode]) -> None:
        self.restrict_sets = restrict_sets
        self.stores: dict[Region, dict[int | None, list[int]]] = regions()
        self.loads: dict[Region, dict[int | None, list[int]]] = regions()
        self.load_chain = _SyncChain(nodes, 0)  # a store may share a load's bundle
        self.store_chain = _SyncChain(nodes, 1)  # a load comes a cycle after a store

    def must_follow(self, table: dict, chain: _SyncChain, region: Region,
                    words: list[int] | None, latency: int) -> Iterable[tuple[int, int]]:
        """(node, latency) pairs an access must follow among `table`'s: precise
        matches in its own region, and every access of each other region that
        may alias (through the sync chain)."""
        for r in list(table):
            if self.disjoint(r, region):
                continue
            if r == region and words is not None:
                by_word = table[r]
                for w in words:
                    for i in by_word.get(w, ()):
                        yield i, latency
                for i in by_word.get(None, ()):
                    yield i, latency
                continue
            yield from chain.before(r)

    def disjoint(self, r1: Region, r2: Region) -> bool:
        return disjoint(r1, r2, self.restrict_sets)

    def conflicts(self, table: dict, region: Region, words: list[int] | None) -> Iterable[int]:
        """Ops in `table` (stores or loads) that may touch the same memory."""
        for r, by_word in table.items():
            if self.disjoint(r, region):
                continue
            if r != region or words is None:
                for ops in by_word.values():
                    yield from ops
                continue
            for w in words:
                yield from by_word.get(w, ())
            yield from by_word.get(None, ())

    def add(self, table: dict, region: Region, words: list[int] | None, index: int) -> None:
        by_word = table[region]
        for w in (words if words is not None else [None]):
            by_word.setdefault(w, []).append(index)

    def kill(self, region: Region, words: list[int] | None) -> None:
        """A precise store: earlier accesses to exactly those words are ordered
        before it already, so later ones need only depend on it."""
        if words is None:
            return
        for table in (self.stores, self.loads):
            by_word = table.get(region)
            if by_word:
                for w in words:
                    by_word.pop(w, None)


def _bundle_nodes(program: Sequence[dict], pc: int, first: int) -> list[OpNode]:
    """The ops of bundle `pc` as nodes numbered from `first`, without edges."""
    return _block_nodes(program, pc, pc + 1, first)


def _block_nodes(program: Sequence[dict], start: int, end: int, first: int = 0
                 ) -> list[OpNode]:
    """The ops of bundles start..end-1 as nodes numbered from `first`, without
    edges (one loop: a block has tens of thousands)."""
    out: list[OpNode] = []
    by_machine, node = isa.BY_MACHINE, OpNode
    index = first
    for pc in range(start, end):
        at = 0
        for engine, slots in program[pc].items():
            for slot in slots:
                op = by_machine[(engine, slot[0])]
                reads, writes = op.scratch_words(slot)
                out.append(node(index, pc, at, engine, slot, op, reads, writes))
                index += 1
                at += 1
    return out


def output_groups(nodes: Sequence[OpNode], *, native: bool = True) -> list[int]:
    """For each op, the store its values all flow to (that store's index), or
    -1: none or several (constants, shared tables). Kernels work on their
    batch in groups that share nothing but constants, each ending in stores
    of its own; this finds them from data flow alone (reads after writes:
    reuse of the same scratch by two groups does not join them). The walk
    is compiled when built (and `native`); the Python one is the same."""
    n = len(nodes)
    # Who reads what each op writes: each read's writer is the last op before
    # it (in op order) to write the word, found with NumPy.
    r_node, r_word, key, w_node, w_word = _reads_and_writes(nodes)
    if len(key):
        q = np.searchsorted(key, r_word * (n + 1) + r_node, side="left")
        prev = np.maximum(q - 1, 0)
        read = (q > 0) & (w_word[prev] == r_word)
        producer, consumer = w_node[prev][read], r_node[read]
    else:
        producer = consumer = w_node
    by_producer = np.argsort(producer, kind="stable")
    if native and compiled.core is not None:
        stores = np.fromiter((x.op.memory == "write" for x in nodes), dtype=np.int32, count=n)
        out = np.empty(n, dtype=np.int32)
        compiled.core.grouped(n, csr_offsets(producer, n),
                              np.ascontiguousarray(consumer[by_producer], dtype=np.int32),
                              stores, out)
        return out.tolist()
    starts, consumers = csr_offsets(producer, n).tolist(), consumer[by_producer].tolist()
    # Consumers before producers: each op's group is its consumers' one
    # group, if they have one between them (-2: several).
    group = [-1] * n
    for i in range(n - 1, -1, -1):
        if nodes[i].op.memory == "write":
            group[i] = i
            continue
        g = -1
        for c in consumers[starts[i]:starts[i + 1]]:
            x = group[c]
            if x == -1 or x == g:
                continue
            if g != -1:
                g = -2
                break
            g = x
        group[i] = g
    return [g if g >= 0 else -1 for g in group]


class _ScratchOrder:
    """The writes of each scratch word in a block, in program order, found
    with NumPy: what orders the block's ops through scratch, and which op
    wrote the word a later bundle reads."""

    def __init__(self, ops: Sequence[OpNode]) -> None:
        n = len(ops)
        self.n = n
        pcs = np.fromiter((x.pc for x in ops), dtype=np.int64, count=n)
        # Each op's bundle starts at this op (ops are in bundle order).
        self.bundle_first = np.searchsorted(pcs, pcs, side="left")
        self.r_node, self.r_word, self.w_key, self.w_node, self.w_word = _reads_and_writes(ops)
        self._writers: dict[int, list[int]] = {}

    def edges(self, *, native: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(from, to, latency) of every dependence through scratch, each pair
        once at its largest latency, sorted by from, then to: a read follows
        the last write of its word in an earlier bundle (1); the first write
        of the word in the reader's own bundle or after follows the read (0:
        it may share the bundle, the read sees the old value); and writes of
        a word keep their order (1). Compiled when built (and `native`); the
        NumPy version is the same."""
        n, w_node, w_word = self.n, self.w_node, self.w_word
        r_node, r_word = self.r_node, self.r_word
        if not len(w_word):  # nothing written: nothing to order
            return w_node, w_node, w_node
        if native and compiled.core is not None:
            most = 2 * len(r_node) + len(w_node)
            src, dst, lat = (np.empty(most, dtype=np.int32) for _ in range(3))
            int32 = functools.partial(np.ascontiguousarray, dtype=np.int32)
            made = compiled.core.scratch_edges(n, int32(w_node), int32(w_word), int32(r_node),
                                               int32(r_word), int32(self.bundle_first),
                                               src, dst, lat)
            return (src[:made].astype(np.int64), dst[:made].astype(np.int64),
                    lat[:made].astype(np.int64))
        key = self.w_key
        q = np.searchsorted(key, r_word * (n + 1) + self.bundle_first[r_node], side="left")
        prev = np.maximum(q - 1, 0)
        true = (q > 0) & (w_word[prev] == r_word)
        nxt = np.minimum(q, len(key) - 1)
        anti = (q < len(key)) & (w_word[nxt] == r_word)
        same = w_word[1:] == w_word[:-1]
        src = np.concatenate([w_node[prev][true], r_node[anti], w_node[:-1][same]])
        dst = np.concatenate([r_node[true], w_node[nxt][anti], w_node[1:][same]])
        lat = np.concatenate([np.ones(int(true.sum()), np.int64),
                              np.zeros(int(anti.sum()), np.int64),
                              np.ones(int(same.sum()), np.int64)])
        keep = src != dst
        src, dst, lat = src[keep], dst[keep], lat[keep]
        # One edge per pair, at its largest latency.
        order = np.lexsort((lat, dst, src))
        src, dst, lat = src[order], dst[order], lat[order]
        last = np.ones(len(src), dtype=bool)
        last[:-1] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        return src[last], dst[last], lat[last]

    def writer(self, node: int, w: int) -> int:
        """The op whose write of `w` the bundle of op `node` reads, or -1."""
        writers = self._writers.get(w)
        if writers is None:
            lo, hi = np.searchsorted(self.w_word, [w, w + 1])
            writers = self._writers[w] = self.w_node[lo:hi].tolist()
        k = bisect_left(writers, int(self.bundle_first[node]))
        return writers[k - 1] if k else -1


def _settle(nodes: list[OpNode], src: np.ndarray, dst: np.ndarray, lat: np.ndarray) -> None:
    """The block's edges, made one `Edges` its nodes share: those through
    scratch (`src`, `dst`, `lat`: sorted by source, then target, each pair
    once), then those `_edge` put in the nodes' own successors (memory, the
    trace, control; sync nodes), each pair once at its largest latency, each
    op's in the order they were found (scratch first), as if all had been
    put in its successors one by one."""
    n = len(nodes)
    more = [(x.index, x._succs) for x in nodes if x._succs]
    if more:  # (few beside those through scratch: merged in, not all sorted again)
        m_src = np.repeat(np.array([i for i, _ in more], dtype=np.int64),
                          [len(d) for _, d in more])  # (ascending: nodes are in order)
        m_dst = np.fromiter(chain.from_iterable(d for _, d in more), dtype=np.int64)
        m_lat = np.fromiter(chain.from_iterable(d.values() for _, d in more), dtype=np.int64)
        # A pair through scratch too keeps its place there, at the larger
        # latency (each node's successors hold a pair once already).
        key, m_key = src * (n + 1) + dst, m_src * (n + 1) + m_dst
        at = np.searchsorted(key, m_key)
        both = at < len(key)
        both[both] = key[at[both]] == m_key[both]
        lat = lat.copy()
        lat[at[both]] = np.maximum(lat[at[both]], m_lat[both])
        # The others follow their source's scratch edges, in the order found.
        m_src, m_dst, m_lat = m_src[~both], m_dst[~both], m_lat[~both]
        after = np.searchsorted(src, m_src, side="right")
        src, dst, lat = (np.insert(a, after, b) for a, b in
                         ((src, m_src), (dst, m_dst), (lat, m_lat)))
    edges = Edges(csr_offsets(src, n), np.ascontiguousarray(dst, dtype=np.int32),
                  np.ascontiguousarray(lat, dtype=np.int32))
    for x in nodes:
        x.edges, x._succs = edges, None


def one_per_pair(src: np.ndarray, dst: np.ndarray, lat: np.ndarray, came: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges `src` -> `dst` of latency `lat` with each pair once, at its
    largest latency, where it first came (`came`: a key in the order the
    edges came), ordered by source, then coming: what each op's successors
    hold when put in one by one, the largest latency kept."""
    if not len(src):
        return src, dst, lat
    order = np.lexsort((came, dst, src))
    src, dst, lat, came = src[order], dst[order], lat[order], came[order]
    starts = np.flatnonzero(np.r_[True, (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])])
    lat = np.maximum.reduceat(lat, starts)
    src, dst, came = src[starts], dst[starts], came[starts]
    order = np.lexsort((came, src))
    return src[order], dst[order], lat[order]


def csr_offsets(sources: np.ndarray, n: int) -> np.ndarray:
    """Where each of `n` ops' edges start (and one past the last), edges
    sorted by their `sources`."""
    offsets = np.zeros(n + 1, dtype=np.int32)
    offsets[1:] = np.cumsum(np.bincount(sources, minlength=n))
    return offsets


def csr_sources(offsets: np.ndarray) -> np.ndarray:
    """The op each edge leaves from, edges in CSR form (`offsets`, as
    csr_offsets makes them)."""
    return np.repeat(np.arange(len(offsets) - 1, dtype=np.int32), np.diff(offsets))


def _reads_and_writes(ops: Sequence[OpNode]) -> tuple[np.ndarray, ...]:
    """(op, word) of every word the ops read, op by op; then (key, op, word)
    of every word they write, sorted by key: by word, then op
    (key = word * (ops + 1) + op)."""
    n = len(ops)
    r_node, r_word = _flat(ops, "reads")
    w_node, w_word = _flat(ops, "writes")
    key = w_word * (n + 1) + w_node
    order = np.argsort(key, kind="stable")
    return r_node, r_word, key[order], w_node[order], w_word[order]


def _flat(ops: Sequence[OpNode], which: str) -> tuple[np.ndarray, np.ndarray]:
    """(op, word) of every word the ops read (or write), op by op."""
    lists = [getattr(x, which) for x in ops]
    sizes = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    words = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(sizes.sum()))
    return np.repeat(np.arange(len(lists), dtype=np.int64), sizes), words


class _AddressValues:
    """The abstract value of a word as an op's bundle reads it, worked out on
    demand from the writes that lead to it (only addresses need values)."""

    def __init__(self, ops: Sequence[OpNode], scratch: _ScratchOrder,
                 known: dict[int, Value], restricted: set[int]) -> None:
        self.ops, self.scratch = ops, scratch
        self.known, self.restricted = known, restricted
        self.effects: dict[int, dict[int, Value]] = {}

    def read(self, node: int, w: int) -> Value:
        p = self.scratch.writer(node, w)
        if p < 0:
            return self.known.get(w) or entry_value(w)
        return self._effect_of(p)[w]

    def _effect_of(self, i: int) -> dict[int, Value]:
        effects, ops, writer = self.effects, self.ops, self.scratch.writer
        stack = [i]
        while stack:  # (not recursive: a pointer bumped a thousand times is a chain)
            j = stack[-1]
            if j in effects:
                stack.pop()
                continue
            need = [p for p in (writer(j, w) for w in inputs(ops[j]))
                    if p >= 0 and p not in effects]
            if need:
                stack.extend(need)
                continue
            effects[j] = effect(ops[j], lambda w, j=j: self.read(j, w), self.restricted)
            stack.pop()
        return effects[i]


def build_block(program: Sequence[dict], start: int, end: int, *,
                known: dict[int, Value] | None = None,
                restrict_sets: list[set[int]] | None = None) -> list[OpNode]:
    """The nodes of one block with their dependence edges."""
    nodes = _block_nodes(program, start, end)
    if not nodes:
        return nodes
    ops = list(nodes)  # sync nodes join `nodes` as they are made
    scratch = _ScratchOrder(ops)
    through_scratch = scratch.edges()
    values = _AddressValues(ops, scratch, known or {},
                            set().union(*(restrict_sets or [set()])))
    memory = _Memory(restrict_sets or [], nodes)
    last_trace: int | None = None
    ordered = [n for n in ops if n.op.memory is not None or n.op.meaning.trace is not None]
    i = 0
    while i < len(ordered):
        j = i
        while j < len(ordered) and ordered[j].pc == ordered[i].pc:
            j += 1
        bundle = ordered[i:j]
        # Addresses are read before the bundle's writes.
        addresses = {n.index: values.read(n.index, n.op.address_word(n.slot))
                     for n in bundle if n.op.memory is not None}
        # Memory reads also see memory as it was before the bundle, even where
        # a store comes earlier in the bundle's own order.
        for n in bundle:
            if n.op.memory == "read":
                addr = addresses[n.index]
                region = region_of(addr)
                words = words_of(addr, n.op.mem_width)
                for s, lat in memory.must_follow(memory.stores, memory.store_chain,
                                                 region, words, 1):
                    _edge(nodes, s, n.index, lat)
                memory.add(memory.loads, region, words, n.index)
                memory.load_chain.fresh[region].append(n.index)
        # Then writes, in the bundle's own order (later ones win).
        for n in bundle:
            if n.op.memory == "write":
                addr = addresses[n.index]
                region = region_of(addr)
                words = words_of(addr, n.op.mem_width)
                # Two stores that may alias can share a bundle: the later one
                # in the bundle's order wins, as it does in program order.
                for s in memory.conflicts(memory.stores, region, words):
                    _edge(nodes, s, n.index, 0)
                for ld, lat in memory.must_follow(memory.loads, memory.load_chain,
                                                  region, words, 0):
                    _edge(nodes, ld, n.index, lat)
                memory.kill(region, words)
                memory.add(memory.stores, region, words, n.index)
                memory.store_chain.fresh[region].append(n.index)
            if n.op.meaning.trace is not None:  # the trace buffer keeps its order
                if last_trace is not None:
                    _edge(nodes, last_trace, n.index, 1)
                last_trace = n.index
        i = j
    # Control flow ends the block: everything else comes first or alongside.
    for n in ops:
        if n.is_control:
            for m in ops:
                if m.index != n.index:
                    _edge(nodes, m.index, n.index, 1 if m.is_control else 0)
    _settle(nodes, *through_scratch)
    return nodes


def blocks(kernel: Kernel, *, flow: ControlFlow | None = None) -> list[Block]:
    """Every basic block of a kernel, with its dependence graph (its hints'
    `.restrict` sets separate memory regions; `.pin`ned blocks get no graph)."""
    program = kernel.program
    restrict, pinned = kernel.hints.restrict, kernel.hints.pinned
    flow = flow or ControlFlow(program)
    entry_end = flow.entry_end
    # (nothing to carry when the entry block is the whole program)
    known = global_constants(program, entry_end) if entry_end < len(program) else {}
    restrict_sets = [set(s) for s in restrict]
    out = []
    sets = repr(sorted(sorted(s) for s in restrict_sets))
    for r in flow.blocks(pinned):
        block_known = known if r.start >= entry_end else {}
        nodes = [] if r.pinned else build_block(program, r.start, r.end, known=block_known,
                                                restrict_sets=restrict_sets)
        out.append(Block(r.start, r.end, nodes, r.pinned,
                         f"{sorted(block_known.items())!r} {sets}"))
    return out
