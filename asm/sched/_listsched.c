/* The list-scheduling pass of asm/sched/listsched.py, compiled: the same algorithm
 * step for step (tests/test_listsched.py checks that both give the same
 * cycles on random graphs), about a hundred times faster, so that the
 * scheduler's search can afford many passes. Built when a C compiler is
 * there (asm/sched/compiled.py loads it); every caller runs its Python twin otherwise.
 *
 * schedule(n, offsets, edges, engine, caps, npred, keys, out, one_order)
 *   offsets[n+1], edges[]: each op's successors, each with its latency (0/1)
 *   in bit 30 (LATENCY_BIT: half the memory a pass reads, which is most of
 *   its time once the graph outgrows the caches)
 *   engine[n]: each op's engine index into caps; npred[n]: predecessor counts
 *   keys[n] (doubles): each op's priority, lower first, ties in op order
 *   out[n]: filled with each op's cycle
 *   one_order: a cycle's ops go in one priority order across the engines
 *   (else engine by engine, each in turn taking its lowest up to its slots)
 * schedule(..., one_order, dist, target, horizon, reach) keeps engine `target`
 *   supplied (listsched.Supply): dist[n], each op's steps down to its nearest
 *   op of `target`; in a cycle that starts with fewer of target's ops ready
 *   than caps[target] * horizon, each other engine first takes its ready ops
 *   with dist <= reach, nearest first, then by key.
 * Every sequence is a buffer of C ints (array('i'), NumPy int32). Raises
 * ValueError when the graph has a cycle.
 *
 * The graph walks the search needs for its priorities, compiled for the same
 * reason (Graph in asm/sched/graph.py has the Python versions; downstream_work
 * in asm/sched/priorities.py those of work and summed):
 * topological(n, offsets, targets, npred, out) -> ops placed (n unless cyclic)
 *   out[n]: a topological order (Kahn's, the ready ops as a stack)
 * walk(kind, n, order, offsets, targets, lats, extra, target, out)
 *   kind 0, heights: out[i] = max(extra[i], out[s] + lat) over successors s
 *   kind 1, releases: out[s] = max(out[s], out[i] + lat), out zero first
 *   kind 2, distances to engine `target` (extra: each op's engine):
 *           out[i] = 0 on it, else min(out[s] + max(lat, 1)), 1 << 20 if none
 * work(n, order, offsets, targets, npred, engine, weights, engines, out)
 *   out[i] (doubles): the sum over `engines` (in that order) of the engine's
 *   weight times the count of its ops among op i's descendants, from bit sets
 *   of each op's descendants (freed once its last predecessor has read it)
 * implied(n, offsets, targets, lats, keep)
 *   keep[k] = 0 for each edge a -> c that a path a -> b -> c of two edges
 *   implies (their latencies add up to at least its own), else 1: a pass
 *   over the graph without those edges gives the same cycles (an op is
 *   ready as late either way), in fewer steps
 * chains(n, order, latest, waited, carried, out)
 *   the blame walk of asm/sched/search.py: for each op y, successors first
 *   (order read backwards), carried[y] is added to out[u], u = latest[y]
 *   (none when -1), and to carried[u] too when waited[u] is 0; carried
 *   changes in place
 * held(n, offsets, targets, lats, cycles, engine, caps, engines, latest, waited,
 *      entering): what blame in asm/sched/search.py walks up, of a schedule:
 *   latest[i], the predecessor whose edge let op i go last (the last such
 *   edge, in edge order; -1 for none), waited[i], whether op i ran after it
 *   was ready, and entering[i], the idle slots of `engines` (each engine's
 *   cycles before its last op with slots to spare, caps[e] less those used)
 *   that op i, of that engine's ops the first ready after the slot (then the
 *   first placed, then the first in op order), could have filled
 * scratch_edges(n, w_node, w_word, r_node, r_word, bundle_first, src, dst, lat)
 *   -> edges: the dependences through scratch of deps._ScratchOrder.edges,
 *   from the writes (w_node, w_word: sorted by word, then op) and the reads
 *   (r_node, r_word) of a block, bundle_first[i] the first op of op i's
 *   bundle: into src, dst, lat (room for 2 * reads + writes), sorted by
 *   src, then dst, each pair once at its largest latency
 * grouped(n, offsets, consumers, stores, out)
 *   the walk of deps.output_groups, last op first: out[i] = i for a store
 *   (stores[i] not 0), else the one group of op i's consumers (offsets and
 *   consumers: CSR, each later than i), -2 for several, -1 for none; then
 *   every negative one -1
 * summed(n, order, offsets, targets, engine, weights, out)
 *   out[i] (doubles): the sum over op i's successors s, in edge order, of
 *   out[s] + weights[engine[s]] (downstream work where bit sets would be too
 *   big: shared descendants count more than once)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <limits.h>

/* Of an edge given to schedule(): its latency (graph.py LATENCY_BIT). */
#define LATENCY_BIT (1 << 30)

typedef struct {
    double key;
    int op;
    int dist;  /* in a supply heap: steps to the supplied engine's nearest op */
} Entry;

typedef struct {
    Entry *items;  /* a binary heap by (key, op), the key beside its op so
                    * that a comparison reads no other memory */
    Py_ssize_t size;
} Heap;

/* The heap functions take `by_dist` (a supply heap) as a constant at every
 * call: inlined, each kind of heap gets a version of its own, and a ready
 * heap's comparisons leave the distance out (4% of a pass). */
#if defined(__GNUC__)
#define HEAP_FN static inline __attribute__((always_inline))
#else
#define HEAP_FN static inline
#endif

/* Whether entry a goes before entry b: nearer first (in a supply heap),
 * then lower key, ties in op order (the order a stable sort of the keys
 * gives). (bitwise, without branches: which way a heap step goes is as
 * good as random, and a mispredicted branch costs more than the
 * comparisons) */
HEAP_FN int before(Entry a, Entry b, const int by_dist) {
    int by_key = (a.key < b.key) | ((a.key == b.key) & (a.op < b.op));
    if (!by_dist) return by_key;
    return (a.dist < b.dist) | ((a.dist == b.dist) & by_key);
}

HEAP_FN void heap_push(Heap *h, double key, int v, int dist, const int by_dist) {
    Py_ssize_t i = h->size++;
    Entry *a = h->items, e = {key, v, dist};
    while (i > 0) {
        Py_ssize_t parent = (i - 1) / 2;
        if (!before(e, a[parent], by_dist)) break;
        a[i] = a[parent];
        i = parent;
    }
    a[i] = e;
}

HEAP_FN int heap_pop(Heap *h, const int by_dist) {
    Entry *a = h->items;
    int top = a[0].op;
    Entry last = a[--h->size];
    Py_ssize_t i = 0, n = h->size;
    for (;;) {
        Py_ssize_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n) child += before(a[child + 1], a[child], by_dist);
        if (!before(a[child], last, by_dist)) break;
        a[i] = a[child];
        i = child;
    }
    if (n > 0) a[i] = last;
    return top;
}

/* The index of the lowest set bit of a nonzero mask. */
HEAP_FN int lowest_bit(unsigned mask) {
#if defined(__GNUC__)
    return __builtin_ctz(mask);
#else
    int k = 0;
    while (!(mask & 1u)) mask >>= 1, k++;
    return k;
#endif
}

/* Whether a heap holds an op not placed yet, dropping those placed from its
 * top (a supply heap and a ready heap hold the same op). */
HEAP_FN int heap_clean(Heap *h, const int *cycle, const int by_dist) {
    while (h->size && cycle[h->items[0].op] >= 0) heap_pop(h, by_dist);
    return h->size > 0;
}

/* The buffers a function takes, got one after another and released together. */
typedef struct {
    Py_buffer views[10];
    int count;
} Bufs;

static void *take(Bufs *b, PyObject *obj, Py_ssize_t itemsize, const char *format,
                  Py_ssize_t want, const char *what, int writable) {
    Py_buffer *v = &b->views[b->count];
    if (PyObject_GetBuffer(obj, v, (writable ? PyBUF_CONTIG : PyBUF_CONTIG_RO) | PyBUF_FORMAT) < 0)
        return NULL;
    b->count++;
    if (v->itemsize != itemsize || (v->format && strcmp(v->format, format) != 0)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a buffer of C %s", what,
                     format[0] == 'i' ? "ints" : "doubles");
        return NULL;
    }
    if (want >= 0 && v->len / itemsize < want) {
        PyErr_Format(PyExc_ValueError, "%s: too short", what);
        return NULL;
    }
    return v->buf;
}

static int *take_ints(Bufs *b, PyObject *obj, Py_ssize_t want, const char *what, int writable) {
    return take(b, obj, sizeof(int), "i", want, what, writable);
}

static void release(Bufs *b) {
    for (int k = 0; k < b->count; k++) PyBuffer_Release(&b->views[k]);
    b->count = 0;
}

/* The first of the `len` indices in `a` outside lo..n-1 (lo is 0 or -1, for
 * "none"), or -1 (no Python object touched: runs without the interpreter's
 * lock). */
static Py_ssize_t out_of_range(const int *a, Py_ssize_t len, int lo, Py_ssize_t n, int mask) {
    /* (`mask`: the bits of an entry that are the index; one unsigned
     * comparison per index, without a branch: the compiler vectorizes it,
     * and the pass checks every edge on every call) */
    if (n <= INT_MAX) {
        unsigned bad = 0, first = (unsigned)lo, limit = (unsigned)n - first;
        for (Py_ssize_t k = 0; k < len; k++) bad |= (unsigned)(a[k] & mask) - first >= limit;
        if (!bad) return -1;
    }
    for (Py_ssize_t k = 0; k < len; k++)
        if ((a[k] & mask) < lo || (a[k] & mask) >= n) return k;
    return -1;
}

static void range_error(const int *a, Py_ssize_t k, int lo, Py_ssize_t n, const char *what) {
    PyErr_Format(PyExc_ValueError, "%s: %d is out of range (%d..%zd)", what, a[k], lo, n - 1);
}

/* Whether each of the `len` entries in `a` is in lo..n-1 (else a ValueError). */
static int ints_in_range(const int *a, Py_ssize_t len, int lo, Py_ssize_t n, const char *what) {
    Py_ssize_t k = out_of_range(a, len, lo, n, -1);
    if (k >= 0) range_error(a, k, lo, n, what);
    return k < 0;
}

/* Whether each of the `len` indices in `a` is in 0..n-1 (else a ValueError). */
static int ops_in_range(const int *a, Py_ssize_t len, Py_ssize_t n, const char *what) {
    return ints_in_range(a, len, 0, n, what);
}

static PyObject *schedule(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *o_off, *o_edges, *o_eng, *o_caps, *o_npred, *o_keys, *o_out;
    PyObject *o_dist = Py_None;
    int one_order = 1, target = -1, horizon = 0, reach = 0;
    if (!PyArg_ParseTuple(args, "nOOOOOOOp|Oiii", &n, &o_off, &o_edges, &o_eng, &o_caps,
                          &o_npred, &o_keys, &o_out, &one_order, &o_dist, &target, &horizon,
                          &reach))
        return NULL;
    Bufs b = {.count = 0};
    PyObject *result = NULL;
    const int *off = take_ints(&b, o_off, n + 1, "offsets", 0);
    const int *edges = off ? take_ints(&b, o_edges, off[n], "edges", 0) : NULL;
    const int *eng = edges ? take_ints(&b, o_eng, n, "engine", 0) : NULL;
    const int *caps = eng ? take_ints(&b, o_caps, -1, "caps", 0) : NULL;
    const int *npred = caps ? take_ints(&b, o_npred, n, "npred", 0) : NULL;
    const double *key = npred ? take(&b, o_keys, sizeof(double), "d", n, "keys", 0) : NULL;
    int *cycle = key ? take_ints(&b, o_out, n, "out", 1) : NULL;
    if (!cycle) goto done;
    Py_ssize_t ne = b.views[3].len / (Py_ssize_t)sizeof(int);
    const int *dist = NULL;  /* supplying engine `target` (see listsched.Supply) */
    if (o_dist != Py_None) {
        dist = take_ints(&b, o_dist, n, "dist", 0);
        if (!dist) goto done;
        if (target < 0 || target >= ne) {
            PyErr_SetString(PyExc_ValueError, "the supplied engine is out of range");
            goto done;
        }
    }
    /* From here on the pass touches no Python object: other threads run
     * meanwhile (the search runs independent passes side by side,
     * asm/sched/search.py). */
    /* Per op, side by side: an edge's visit reads and writes the first two,
     * and the successor it makes ready is pushed by the other two; it is
     * anywhere in memory (one cache line, not four: 3% of a pass). */
    typedef struct {
        int waiting;  /* predecessors not placed yet */
        int late;  /* the cycle in which a latency-1 predecessor last ran */
        int engine;
        double key;
    } Pending;
    Pending *pend = NULL;
    int *following = NULL, *counts = NULL, *used = NULL;
    Py_ssize_t *unplaced = NULL;
    Heap *ready = NULL, *near = NULL;
    Entry *offer = NULL;
    int *offer_near = NULL;
    Py_ssize_t bad;
    int ok = 0, cyclic = 0;
    Py_BEGIN_ALLOW_THREADS
    bad = out_of_range(edges, off[n], 0, n, ~LATENCY_BIT);
    if (bad < 0) {
        pend = malloc(sizeof(Pending) * (n + 1));
        following = malloc(sizeof(int) * (n + 1));
        counts = calloc(ne + 1, sizeof(int));
        used = calloc(ne + 1, sizeof(int));
        unplaced = calloc(ne + 1, sizeof(Py_ssize_t));  /* ready, per engine */
        ready = calloc(ne + 1, sizeof(Heap));
        near = calloc(ne + 1, sizeof(Heap));  /* ready ops within reach of `target`'s */
        offer = calloc(ne + 1, sizeof(Entry));
        offer_near = calloc(ne + 1, sizeof(int));
        /* (an engine is a bit of a mask in the pass) */
        ok = pend && following && counts && used && unplaced && ready && near && offer &&
             offer_near && ne <= 32;
    }
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        if (eng[i] < 0 || eng[i] >= ne) ok = 0;
        else counts[eng[i]]++;
    }
    for (Py_ssize_t e = 0; ok && e < ne; e++) {
        ready[e].items = malloc(sizeof(Entry) * (counts[e] + 1));
        near[e].items = dist ? malloc(sizeof(Entry) * (counts[e] + 1)) : NULL;
        if (!ready[e].items || (dist && !near[e].items)) ok = 0;
    }
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        pend[i].waiting = npred[i];
        pend[i].late = -1;
        pend[i].engine = eng[i];
        pend[i].key = key[i];
        cycle[i] = -1;
    }
#define MAKE_READY(i) do { \
        int e_ = pend[i].engine; \
        heap_push(&ready[e_], pend[i].key, (i), 0, 0); \
        unplaced[e_]++; \
        if (dist && e_ != target && dist[i] <= reach) \
            heap_push(&near[e_], pend[i].key, (i), dist[i], 1); \
    } while (0)
    /* The heap engine e takes its next op from this cycle: its supply heap
     * (1: the cycle is short of the supplied engine's ops and it holds one),
     * else its ready heap (0), or none (-1). */
#define SOURCE(e) (short_of && (e) != target && heap_clean(&near[e], cycle, 1) ? 1 \
                   : heap_clean(&ready[e], cycle, 0) ? 0 : -1)
    /* What engine e offers next this cycle, and whether from its supply
     * heap; its bit in `offering` is clear when it offers nothing (no ready
     * op, or no free slot). */
#define REFRESH(e) do { \
        int e2_ = (e), from_ = used[e2_] < caps[e2_] ? SOURCE(e2_) : -1; \
        offering &= ~(1u << e2_); \
        if (from_ >= 0) { \
            offer[e2_] = (from_ ? near : ready)[e2_].items[0]; \
            offer_near[e2_] = from_; \
            offering |= 1u << e2_; \
        } \
    } while (0)
    /* Op i placed on engine e now: its successors ready now join their
     * engines' heaps (their engines' bits set in `made`), those a
     * latency-1 edge from it holds, the next cycle's. */
#define PLACE(i, e, made) do { \
        cycle[i] = now; \
        used[e]++; \
        unplaced[e]--; \
        done++; \
        for (int k_ = off[i]; k_ < off[(i) + 1]; k_++) { \
            int s_ = edges[k_] & ~LATENCY_BIT; \
            Pending *p_ = &pend[s_]; \
            if (edges[k_] & LATENCY_BIT) p_->late = now; \
            if (--p_->waiting == 0) { \
                if (p_->late == now) following[nfollow++] = s_; \
                else { \
                    MAKE_READY(s_); \
                    made |= 1u << p_->engine; \
                } \
            } \
        } \
    } while (0)
    for (Py_ssize_t i = 0; ok && i < n; i++)
        if (pend[i].waiting == 0) MAKE_READY((int)i);
    Py_ssize_t nfollow = 0, done = 0;
    int now = 0;
    while (ok && done < n) {
        for (Py_ssize_t k = 0; k < nfollow; k++) MAKE_READY(following[k]);
        nfollow = 0;
        memset(used, 0, sizeof(int) * ne);
        /* Fewer of the supplied engine's ops ready than `horizon` cycles'
         * worth: this cycle the other engines take the ops nearest to one. */
        int short_of = dist && unplaced[target] < (Py_ssize_t)caps[target] * horizon;
        /* The cycle's ops in one priority order across the engines: each
         * engine with a free slot offers the op it would take next (with a
         * supply rule, its nearest first; `offer`, kept current as its heaps
         * change), and the lowest key goes. An op made ready within the
         * cycle (a zero-latency edge: a word read before it is written
         * again) then competes with what its engine has not taken yet,
         * instead of finding it filled by ops that come later in the
         * priority. */
        unsigned offering = 0;  /* the engines with an offer, a bit each */
        for (int e = 0; one_order && e < ne; e++) REFRESH(e);
        while (offering) {
            /* the lowest offer, and the next lowest of another engine */
            int best = lowest_bit(offering), second = -1;
            for (unsigned rest = offering & (offering - 1); rest; rest &= rest - 1) {
                int e = lowest_bit(rest);
                if (before(offer[e], offer[best], 0)) second = best, best = e;
                else if (second < 0 || before(offer[e], offer[second], 0)) second = e;
            }
            /* The best engine places ops while its offer stays below the
             * other engines' (which change only when it makes one of
             * their ops ready). */
            for (;;) {
                int i = heap_pop(offer_near[best] ? &near[best] : &ready[best],
                                 offer_near[best]);
                unsigned changed = 0;
                PLACE(i, best, changed);
                REFRESH(best);
                changed &= ~(1u << best);
                for (int e = 0; changed; e++, changed >>= 1)
                    if (changed & 1) {
                        REFRESH(e);
                        second = -2;  /* (another engine's offer changed) */
                    }
                if (second == -2 || !(offering >> best & 1u) ||
                    (second >= 0 && !before(offer[best], offer[second], 0)))
                    break;
            }
        }
        /* Engine by engine (not `one_order`): each in turn takes its ready
         * ops up to its slots, and all again while any op was placed (one
         * made ready within the cycle can still take a slot left free). */
        int progressed = !one_order;
        while (progressed) {
            progressed = 0;
            for (Py_ssize_t e = 0; e < ne; e++) {
                while (used[e] < caps[e]) {
                    int from = SOURCE(e);
                    if (from < 0) break;
                    int i = heap_pop(from ? &near[e] : &ready[e], from);
                    unsigned changed = 0;  /* (unused here) */
                    PLACE(i, (int)e, changed);
                    progressed = 1;
                }
            }
        }
#undef PLACE
#undef REFRESH
#undef SOURCE
#undef MAKE_READY
        if (done < n) {
            int any = nfollow > 0;
            for (Py_ssize_t e = 0; !any && e < ne; e++) any = unplaced[e] > 0;
            if (!any) {
                cyclic = 1;
                break;
            }
            now++;
        }
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0)
        range_error(edges, bad, 0, n, "edges");
    else if (!ok)
        PyErr_SetString(PyExc_ValueError, "bad graph or out of memory");
    else if (cyclic)
        PyErr_SetString(PyExc_ValueError, "the graph has a cycle");
    else
        result = Py_NewRef(Py_None);
    if (ready)
        for (Py_ssize_t e = 0; e < ne; e++) free(ready[e].items);
    if (near)
        for (Py_ssize_t e = 0; e < ne; e++) free(near[e].items);
    free(near);
    free(ready);
    free(offer);
    free(offer_near);
    free(unplaced);
    free(used);
    free(counts);
    free(following);
    free(pend);
done:
    release(&b);
    return result;
}

static PyObject *topological(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *o_off, *o_tgt, *o_npred, *o_out;
    if (!PyArg_ParseTuple(args, "nOOOO", &n, &o_off, &o_tgt, &o_npred, &o_out)) return NULL;
    Bufs b = {.count = 0};
    PyObject *result = NULL;
    int *waiting = NULL, *stack = NULL;
    const int *off = take_ints(&b, o_off, n + 1, "offsets", 0);
    const int *tgt = off ? take_ints(&b, o_tgt, off[n], "targets", 0) : NULL;
    const int *npred = tgt ? take_ints(&b, o_npred, n, "npred", 0) : NULL;
    int *out = npred ? take_ints(&b, o_out, n, "out", 1) : NULL;
    if (!out || !ops_in_range(tgt, off[n], n, "targets")) goto done;
    waiting = malloc(sizeof(int) * (n + 1));
    stack = malloc(sizeof(int) * (n + 1));
    if (!waiting || !stack) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t top = 0, placed = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        waiting[i] = npred[i];
        if (waiting[i] == 0) stack[top++] = (int)i;
    }
    while (top > 0) {
        int i = stack[--top];
        out[placed++] = i;
        for (int k = off[i]; k < off[i + 1]; k++)
            if (--waiting[tgt[k]] == 0) stack[top++] = tgt[k];
    }
    result = PyLong_FromSsize_t(placed);
done:
    free(waiting);
    free(stack);
    release(&b);
    return result;
}

/* The buffers every walk over the graph starts with: a topological order
 * and the successors in CSR form, each checked to name ops in range. 0 (with
 * the error set) when one is missing or wrong. */
static int take_walk(Bufs *b, Py_ssize_t n, PyObject *o_order, PyObject *o_off, PyObject *o_tgt,
                     const int **order, const int **off, const int **tgt) {
    *order = take_ints(b, o_order, n, "order", 0);
    *off = *order ? take_ints(b, o_off, n + 1, "offsets", 0) : NULL;
    *tgt = *off ? take_ints(b, o_tgt, (*off)[n], "targets", 0) : NULL;
    return *tgt && ops_in_range(*order, n, n, "order") &&
           ops_in_range(*tgt, (*off)[n], n, "targets");
}

static PyObject *walk(PyObject *self, PyObject *args) {
    int kind, target;
    Py_ssize_t n;
    PyObject *o_order, *o_off, *o_tgt, *o_lat, *o_extra, *o_out;
    if (!PyArg_ParseTuple(args, "inOOOOOiO", &kind, &n, &o_order, &o_off, &o_tgt, &o_lat,
                          &o_extra, &target, &o_out))
        return NULL;
    Bufs b = {.count = 0};
    PyObject *result = NULL;
    const int *order, *off, *tgt;
    int ok = take_walk(&b, n, o_order, o_off, o_tgt, &order, &off, &tgt);
    const int *lat = ok ? take_ints(&b, o_lat, off[n], "lats", 0) : NULL;
    const int *extra = lat ? take_ints(&b, o_extra, n, "extra", 0) : NULL;
    int *out = extra ? take_ints(&b, o_out, n, "out", 1) : NULL;
    if (!out) goto done;
    if (kind == 0) {
        for (Py_ssize_t k = n - 1; k >= 0; k--) {
            int i = order[k], best = extra[i];
            for (int e = off[i]; e < off[i + 1]; e++)
                if (out[tgt[e]] + lat[e] > best) best = out[tgt[e]] + lat[e];
            out[i] = best;
        }
    } else if (kind == 1) {
        memset(out, 0, sizeof(int) * n);
        for (Py_ssize_t k = 0; k < n; k++) {
            int i = order[k], r = out[i];
            for (int e = off[i]; e < off[i + 1]; e++)
                if (r + lat[e] > out[tgt[e]]) out[tgt[e]] = r + lat[e];
        }
    } else if (kind == 2) {
        for (Py_ssize_t k = n - 1; k >= 0; k--) {
            int i = order[k];
            if (extra[i] == target) {
                out[i] = 0;
                continue;
            }
            int best = 1 << 20;
            for (int e = off[i]; e < off[i + 1]; e++) {
                int v = out[tgt[e]] + (lat[e] ? lat[e] : 1);
                if (v < best) best = v;
            }
            out[i] = best;
        }
    } else {
        PyErr_SetString(PyExc_ValueError, "kind: 0, 1 or 2");
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    release(&b);
    return result;
}

static PyObject *implied(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *o_off, *o_tgt, *o_lat, *o_keep;
    if (!PyArg_ParseTuple(args, "nOOOO", &n, &o_off, &o_tgt, &o_lat, &o_keep)) return NULL;
    Bufs b = {.count = 0};
    PyObject *result = NULL;
    Py_ssize_t *seen = NULL;
    int *most = NULL;
    const int *off = take_ints(&b, o_off, n + 1, "offsets", 0);
    const int *tgt = off ? take_ints(&b, o_tgt, off[n], "targets", 0) : NULL;
    const int *lat = tgt ? take_ints(&b, o_lat, off[n], "lats", 0) : NULL;
    int *keep = lat ? take_ints(&b, o_keep, off[n], "keep", 1) : NULL;
    if (!keep || !ops_in_range(tgt, off[n], n, "targets")) goto done;
    seen = malloc(sizeof(Py_ssize_t) * (n + 1));  /* the op whose two-edge paths most[] holds */
    most = malloc(sizeof(int) * (n + 1));  /* the longest latency of those paths, per op */
    if (!seen || !most) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) seen[i] = -1;
    for (Py_ssize_t a = 0; a < n; a++) {
        for (int k = off[a]; k < off[a + 1]; k++) {
            int mid = tgt[k];
            for (int k2 = off[mid]; k2 < off[mid + 1]; k2++) {
                int c = tgt[k2], v = lat[k] + lat[k2];
                if (seen[c] != a || most[c] < v) {
                    seen[c] = a;
                    most[c] = v;
                }
            }
        }
        for (int k = off[a]; k < off[a + 1]; k++)
            keep[k] = !(seen[tgt[k]] == a && most[tgt[k]] >= lat[k]);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    free(seen);
    free(most);
    release(&b);
    return result;
}

static PyObject *chains(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *o_order, *o_latest, *o_waited, *o_carried, *o_out;
    if (!PyArg_ParseTuple(args, "nOOOOO", &n, &o_order, &o_latest, &o_waited, &o_carried,
                          &o_out))
        return NULL;
    Bufs b = {.count = 0};
    PyObject *result = NULL;
    const int *order = take_ints(&b, o_order, n, "order", 0);
    const int *latest = order ? take_ints(&b, o_latest, n, "latest", 0) : NULL;
    const int *waited = latest ? take_ints(&b, o_waited, n, "waited", 0) : NULL;
    int *carried = waited ? take_ints(&b, o_carried, n, "carried", 1) : NULL;
    int *out = carried ? take_ints(&b, o_out, n, "out", 1) : NULL;
    if (!out || !ops_in_range(order, n, n, "order") || !ints_in_range(latest, n, -1, n, "latest"))
        goto done;
    memset(out, 0, sizeof(int) * n);
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        int y = order[k], w = carried[y], u = latest[y];
        if (w && u >= 0) {
            out[u] += w;
            if (!waited[u]) carried[u] += w;
        }
    }
    result = Py_NewRef(Py_None);
done:
    release(&b);
    return result;
}

static PyObject *held(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *o_off, *o_tgt, *o_lat, *o_cyc, *o_eng, *o_caps, *o_engines, *o_latest, *o_waited,
        *o_entering;
    if (!PyArg_ParseTuple(args, "nOOOOOOOOOO", &n, &o_off, &o_tgt, &o_lat, &o_cyc, &o_eng,
                          &o_caps, &o_engines, &o_latest, &o_waited, &o_entering))
        return NULL;
    Bufs b = {.count = 0};
    PyObject *result = NULL;
    int *ready_at = NULL, *used = NULL, *best = NULL;
    const int *off = take_ints(&b, o_off, n + 1, "offsets", 0);
    const int *tgt = off ? take_ints(&b, o_tgt, off[n], "targets", 0) : NULL;
    const int *lat = tgt ? take_ints(&b, o_lat, off[n], "lats", 0) : NULL;
    const int *cyc = lat ? take_ints(&b, o_cyc, n, "cycles", 0) : NULL;
    const int *eng = cyc ? take_ints(&b, o_eng, n, "engine", 0) : NULL;
    const int *caps = eng ? take_ints(&b, o_caps, -1, "caps", 0) : NULL;
    const int *engines = caps ? take_ints(&b, o_engines, -1, "engines", 0) : NULL;
    int *latest = engines ? take_ints(&b, o_latest, n, "latest", 1) : NULL;
    int *waited = latest ? take_ints(&b, o_waited, n, "waited", 1) : NULL;
    int *entering = waited ? take_ints(&b, o_entering, n, "entering", 1) : NULL;
    if (!entering) goto done;
    Py_ssize_t ne = b.views[5].len / (Py_ssize_t)sizeof(int);
    Py_ssize_t nbusy = b.views[6].len / (Py_ssize_t)sizeof(int);
    if (!ops_in_range(tgt, off[n], n, "targets") || !ops_in_range(eng, n, ne, "engine") ||
        !ops_in_range(engines, nbusy, ne, "engines") ||
        !ints_in_range(cyc, n, 0, 1 << 29, "cycles") ||
        !ints_in_range(lat, off[n], 0, 1 << 29, "lats"))
        goto done;
    ready_at = calloc(n + 1, sizeof(int));
    if (!ready_at) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        for (int k = off[i]; k < off[i + 1]; k++)
            if (cyc[i] + lat[k] > ready_at[tgt[k]]) ready_at[tgt[k]] = cyc[i] + lat[k];
    Py_ssize_t span = 2;  /* cycles and ready times are below span - 1 */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (cyc[i] + 2 > span) span = (Py_ssize_t)cyc[i] + 2;
        if (ready_at[i] + 2 > span) span = (Py_ssize_t)ready_at[i] + 2;
    }
    used = malloc(sizeof(int) * span);
    best = malloc(sizeof(int) * span);
    if (!used || !best) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) latest[i] = -1;
    for (Py_ssize_t i = 0; i < n; i++)  /* (the last edge that holds, in edge order) */
        for (int k = off[i]; k < off[i + 1]; k++)
            if (cyc[i] + lat[k] == ready_at[tgt[k]]) latest[tgt[k]] = (int)i;
    for (Py_ssize_t i = 0; i < n; i++) {
        waited[i] = cyc[i] > ready_at[i];
        entering[i] = 0;
    }
    for (Py_ssize_t x = 0; x < nbusy; x++) {
        int e = engines[x], end = -1;  /* end: the engine's last cycle */
        for (Py_ssize_t t = 0; t < span; t++) used[t] = 0, best[t] = -1;
        /* best[r]: of the engine's ops ready at r, the one placed first
         * (then the first in op order) */
        for (Py_ssize_t i = 0; i < n; i++) {
            if (eng[i] != e) continue;
            used[cyc[i]]++;
            if (cyc[i] > end) end = cyc[i];
            int r = ready_at[i];
            if (best[r] < 0 || cyc[i] < cyc[best[r]]) best[r] = (int)i;
        }
        /* each idle slot before the last cycle goes to the op ready soonest
         * after it: walked backwards, `next` is the first ready after t */
        int next = -1;
        for (Py_ssize_t t = span - 2; t >= 0; t--) {
            if (best[t + 1] >= 0) next = best[t + 1];
            if (t < end && used[t] < caps[e] && next >= 0) entering[next] += caps[e] - used[t];
        }
    }
    result = Py_NewRef(Py_None);
done:
    free(ready_at);
    free(used);
    free(best);
    release(&b);
    return result;
}

static PyObject *grouped(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *o_off, *o_cons, *o_store, *o_out;
    if (!PyArg_ParseTuple(args, "nOOOO", &n, &o_off, &o_cons, &o_store, &o_out)) return NULL;
    Bufs b = {.count = 0};
    PyObject *result = NULL;
    const int *off = take_ints(&b, o_off, n + 1, "offsets", 0);
    const int *cons = off ? take_ints(&b, o_cons, off[n], "consumers", 0) : NULL;
    const int *store = cons ? take_ints(&b, o_store, n, "stores", 0) : NULL;
    int *out = store ? take_ints(&b, o_out, n, "out", 1) : NULL;
    if (!out || !ops_in_range(cons, off[n], n, "consumers")) goto done;
    for (Py_ssize_t i = n - 1; i >= 0; i--) {
        if (store[i]) {
            out[i] = (int)i;
            continue;
        }
        int g = -1;
        for (int k = off[i]; k < off[i + 1]; k++) {
            int c = cons[k], x = c > i ? out[c] : -1;  /* (a consumer comes later) */
            if (x == -1 || x == g) continue;
            if (g != -1) {
                g = -2;
                break;
            }
            g = x;
        }
        out[i] = g;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (out[i] < 0) out[i] = -1;
    result = Py_NewRef(Py_None);
done:
    release(&b);
    return result;
}

static int u64_cmp(const void *pa, const void *pb) {
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

/* Of the writes w_node[lo..hi-1] of one word, sorted by op: the first at
 * or after op `op` (hi if none). */
static Py_ssize_t first_write(const int *w_node, Py_ssize_t lo, Py_ssize_t hi, int op) {
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (w_node[mid] < op) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static PyObject *scratch_edges(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *o_wn, *o_ww, *o_rn, *o_rw, *o_first, *o_src, *o_dst, *o_lat;
    if (!PyArg_ParseTuple(args, "nOOOOOOOO", &n, &o_wn, &o_ww, &o_rn, &o_rw, &o_first, &o_src,
                          &o_dst, &o_lat))
        return NULL;
    Bufs b = {.count = 0};
    PyObject *result = NULL;
    int *count = NULL, *at = NULL, *tmp_dst = NULL, *tmp_lat = NULL;
    uint64_t *pairs = NULL;
    Py_ssize_t *from = NULL;
    const int *w_node = take_ints(&b, o_wn, -1, "w_node", 0);
    Py_ssize_t nw = w_node ? b.views[0].len / (Py_ssize_t)sizeof(int) : 0;
    const int *w_word = w_node ? take_ints(&b, o_ww, nw, "w_word", 0) : NULL;
    const int *r_node = w_word ? take_ints(&b, o_rn, -1, "r_node", 0) : NULL;
    Py_ssize_t nr = r_node ? b.views[2].len / (Py_ssize_t)sizeof(int) : 0;
    const int *r_word = r_node ? take_ints(&b, o_rw, nr, "r_word", 0) : NULL;
    const int *first = r_word ? take_ints(&b, o_first, n, "bundle_first", 0) : NULL;
    Py_ssize_t most = 2 * nr + nw;
    int *src = first ? take_ints(&b, o_src, most, "src", 1) : NULL;
    int *dst = src ? take_ints(&b, o_dst, most, "dst", 1) : NULL;
    int *lat = dst ? take_ints(&b, o_lat, most, "lat", 1) : NULL;
    if (!lat || !ops_in_range(w_node, nw, n, "w_node") || !ops_in_range(r_node, nr, n, "r_node")
        || !ops_in_range(first, n, n, "bundle_first"))
        goto done;
    for (Py_ssize_t k = 0; k < nw; k++) {
        int unsorted = k > 0 && (w_word[k] < w_word[k - 1] ||
                                 (w_word[k] == w_word[k - 1] && w_node[k] < w_node[k - 1]));
        if (w_word[k] < 0 || unsorted) {
            PyErr_SetString(PyExc_ValueError, "the writes are not sorted by word, then op");
            goto done;
        }
    }
    count = calloc(n + 1, sizeof(int));
    at = malloc(sizeof(int) * (n + 1));
    tmp_dst = malloc(sizeof(int) * (most + 1));
    tmp_lat = malloc(sizeof(int) * (most + 1));
    pairs = malloc(sizeof(uint64_t) * (most + 1));
    if (!count || !at || !tmp_dst || !tmp_lat || !pairs) {
        PyErr_NoMemory();
        goto done;
    }
    /* The edges as found, in src/dst/lat (then sorted into tmp_*): a read
     * follows the last write of its word in an earlier bundle (1); the first
     * write of the word in the reader's bundle or after follows the read
     * (0); writes of a word keep their order (1). */
    /* each word's writes: from[word] up to from[word + 1] */
    int words = 0;
    for (Py_ssize_t k = 0; k < nw; k++)
        if (w_word[k] >= words) words = w_word[k] + 1;
    from = calloc(words + 2, sizeof(Py_ssize_t));
    if (!from) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < nw; k++) from[w_word[k] + 1]++;
    for (int w = 0; w < words; w++) from[w + 1] += from[w];
    Py_ssize_t m = 0;
#define FOUND(a, z, l) do { \
        if ((a) != (z)) { src[m] = (a); dst[m] = (z); lat[m] = (l); m++; } \
    } while (0)
    for (Py_ssize_t k = 0; k < nr; k++) {
        int word = r_word[k], reader = r_node[k];
        if (word < 0 || word >= words) continue;  /* (never written) */
        Py_ssize_t lo = from[word], hi = from[word + 1];
        Py_ssize_t q = first_write(w_node, lo, hi, first[reader]);
        if (q > lo) FOUND(w_node[q - 1], reader, 1);
        if (q < hi) FOUND(reader, w_node[q], 0);
    }
    for (Py_ssize_t k = 0; k + 1 < nw; k++)
        if (w_word[k + 1] == w_word[k]) FOUND(w_node[k], w_node[k + 1], 1);
#undef FOUND
    /* By source (counting), then by target within each source's, each pair
     * once at its largest latency. */
    for (Py_ssize_t k = 0; k < m; k++) count[src[k] + 1]++;
    for (Py_ssize_t i = 0; i < n; i++) count[i + 1] += count[i];
    memcpy(at, count, sizeof(int) * (n + 1));
    for (Py_ssize_t k = 0; k < m; k++) {
        int j = at[src[k]]++;
        tmp_dst[j] = dst[k];
        tmp_lat[j] = lat[k];
    }
    Py_ssize_t out = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int lo = count[i], hi = count[i + 1];
        if (hi - lo > 64) {  /* (a word read by many: sorted as pairs) */
            for (int j = lo; j < hi; j++)
                pairs[j - lo] = (uint64_t)tmp_dst[j] << 32 | (uint32_t)tmp_lat[j];
            qsort(pairs, hi - lo, sizeof(uint64_t), u64_cmp);
            for (int j = lo; j < hi; j++) {
                tmp_dst[j] = (int)(pairs[j - lo] >> 32);
                tmp_lat[j] = (int)(pairs[j - lo] & 0xffffffffu);
            }
        }
        for (int j = lo + 1; j < hi; j++) {  /* (insertion: most ops have few) */
            int d = tmp_dst[j], l = tmp_lat[j], k = j;
            for (; k > lo && tmp_dst[k - 1] > d; k--) {
                tmp_dst[k] = tmp_dst[k - 1];
                tmp_lat[k] = tmp_lat[k - 1];
            }
            tmp_dst[k] = d;
            tmp_lat[k] = l;
        }
        for (int j = lo; j < hi; j++) {
            if (j > lo && tmp_dst[j] == tmp_dst[j - 1]) {
                if (tmp_lat[j] > lat[out - 1]) lat[out - 1] = tmp_lat[j];
                continue;
            }
            src[out] = (int)i;
            dst[out] = tmp_dst[j];
            lat[out] = tmp_lat[j];
            out++;
        }
    }
    result = PyLong_FromSsize_t(out);
done:
    free(count);
    free(at);
    free(tmp_dst);
    free(tmp_lat);
    free(pairs);
    free(from);
    release(&b);
    return result;
}

static PyObject *summed(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *o_order, *o_off, *o_tgt, *o_eng, *o_w, *o_out;
    if (!PyArg_ParseTuple(args, "nOOOOOO", &n, &o_order, &o_off, &o_tgt, &o_eng, &o_w, &o_out))
        return NULL;
    Bufs b = {.count = 0};
    PyObject *result = NULL;
    const int *order, *off, *tgt;
    int ok = take_walk(&b, n, o_order, o_off, o_tgt, &order, &off, &tgt);
    const int *eng = ok ? take_ints(&b, o_eng, n, "engine", 0) : NULL;
    const double *weight = eng ? take(&b, o_w, sizeof(double), "d", -1, "weights", 0) : NULL;
    double *out = weight ? take(&b, o_out, sizeof(double), "d", n, "out", 1) : NULL;
    if (!out) goto done;
    Py_ssize_t nw = b.views[4].len / (Py_ssize_t)sizeof(double);
    if (!ops_in_range(eng, n, nw, "engine")) goto done;
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        int i = order[k];
        double total = 0.0;
        for (int e = off[i]; e < off[i + 1]; e++) total += out[tgt[e]] + weight[eng[tgt[e]]];
        out[i] = total;
    }
    result = Py_NewRef(Py_None);
done:
    release(&b);
    return result;
}

/* Counting the bits of the descendant sets is most of downstream work's time:
 * where the compiler can, `work` is built twice, once for CPUs with the
 * popcount instruction (half the time on fast.vasm), picked when loaded. */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)
#define WITH_POPCOUNT __attribute__((target_clones("popcnt", "default")))
#else
#define WITH_POPCOUNT
#endif

WITH_POPCOUNT
static PyObject *work(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *o_order, *o_off, *o_tgt, *o_npred, *o_eng, *o_w, *o_engines, *o_out;
    if (!PyArg_ParseTuple(args, "nOOOOOOOO", &n, &o_order, &o_off, &o_tgt, &o_npred, &o_eng,
                          &o_w, &o_engines, &o_out))
        return NULL;
    Bufs b = {.count = 0};
    PyObject *result = NULL;
    uint64_t **closure = NULL, **masks = NULL, *d = NULL;
    int *unread = NULL;
    Py_ssize_t *lo = NULL, *hi = NULL, ne = 0, nw = 0;
    const int *order, *off, *tgt;
    int ok = take_walk(&b, n, o_order, o_off, o_tgt, &order, &off, &tgt);
    const int *npred = ok ? take_ints(&b, o_npred, n, "npred", 0) : NULL;
    const int *eng = npred ? take_ints(&b, o_eng, n, "engine", 0) : NULL;
    const double *weight = eng ? take(&b, o_w, sizeof(double), "d", -1, "weights", 0) : NULL;
    const int *engines = weight ? take_ints(&b, o_engines, -1, "engines", 0) : NULL;
    double *out = engines ? take(&b, o_out, sizeof(double), "d", n, "out", 1) : NULL;
    if (!out) goto done;
    nw = b.views[5].len / (Py_ssize_t)sizeof(double);
    ne = b.views[6].len / (Py_ssize_t)sizeof(int);
    if (!ops_in_range(engines, ne, nw, "engines")) goto done;
    Py_ssize_t words = (n + 63) / 64;
    closure = calloc(n + 1, sizeof(uint64_t *));
    masks = calloc(ne + 1, sizeof(uint64_t *));
    unread = malloc(sizeof(int) * (n + 1));
    d = calloc(words + 1, sizeof(uint64_t));
    lo = malloc(sizeof(Py_ssize_t) * (n + 1));
    hi = malloc(sizeof(Py_ssize_t) * (n + 1));
    if (!closure || !masks || !unread || !d || !lo || !hi) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t e = 0; e < ne; e++) {
        masks[e] = calloc(words + 1, sizeof(uint64_t));
        if (!masks[e]) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t i = 0; i < n; i++)
            if (eng[i] == engines[e]) masks[e][i / 64] |= (uint64_t)1 << (i % 64);
    }
    /* Each kept bit set covers only the words from its lowest to its highest
     * set bit (lo[i], hi[i]): descendants cluster, so most sets are short. */
    for (Py_ssize_t i = 0; i < n; i++) unread[i] = npred[i];
    int failed = 0;
    /* (no Python object touched: the search's other threads run meanwhile) */
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        int i = order[k];
        Py_ssize_t a = i / 64, z = i / 64 + 1;  /* d's words in use: [a, z) */
        for (int e = off[i]; e < off[i + 1]; e++) {
            int s = tgt[e];
            uint64_t *c = closure[s];
            if (c) {
                if (lo[s] < a) a = lo[s];
                if (hi[s] > z) z = hi[s];
                for (Py_ssize_t w = lo[s]; w < hi[s]; w++) d[w] |= c[w - lo[s]];
            }
            if (--unread[s] == 0) {
                free(closure[s]);
                closure[s] = NULL;
            }
        }
        double total = 0.0;
        for (Py_ssize_t e = 0; e < ne; e++) {
            long count = 0;
            const uint64_t *m = masks[e];
            for (Py_ssize_t w = a; w < z; w++) count += __builtin_popcountll(d[w] & m[w]);
            total += weight[engines[e]] * (double)count;
        }
        out[i] = total;
        if (unread[i] > 0) {  /* some predecessor will read it */
            d[i / 64] |= (uint64_t)1 << (i % 64);
            uint64_t *c = malloc(sizeof(uint64_t) * (z - a + 1));
            if (!c) {
                failed = 1;
                break;
            }
            memcpy(c, d + a, sizeof(uint64_t) * (z - a));
            closure[i] = c;
            lo[i] = a;
            hi[i] = z;
        }
        memset(d + a, 0, sizeof(uint64_t) * (z - a));
    }
    Py_END_ALLOW_THREADS
    if (failed)
        PyErr_NoMemory();
    else
        result = Py_NewRef(Py_None);
done:
    if (closure)
        for (Py_ssize_t i = 0; i < n; i++) free(closure[i]);
    free(closure);
    if (masks)
        for (Py_ssize_t e = 0; e < ne; e++) free(masks[e]);
    free(masks);
    free(unread);
    free(d);
    free(lo);
    free(hi);
    release(&b);
    return result;
}

static PyMethodDef methods[] = {
    {"work", work, METH_VARARGS,
     "work(n, order, offsets, targets, npred, engine, weights, engines, out): each op's "
     "weighted count of descendants per engine into out"},
    {"implied", implied, METH_VARARGS,
     "implied(n, offsets, targets, lats, keep): 0 in keep for each edge a two-edge path "
     "implies"},
    {"chains", chains, METH_VARARGS,
     "chains(n, order, latest, waited, carried, out): the blame walk's weights into out"},
    {"held", held, METH_VARARGS,
     "held(n, offsets, targets, lats, cycles, engine, caps, engines, latest, waited, "
     "entering): blame's inputs (search.py) into the last three"},
    {"grouped", grouped, METH_VARARGS,
     "grouped(n, offsets, consumers, stores, out): each op's output group into out"},
    {"scratch_edges", scratch_edges, METH_VARARGS,
     "scratch_edges(n, w_node, w_word, r_node, r_word, bundle_first, src, dst, lat): "
     "the dependences through scratch into src, dst, lat; returns how many"},
    {"summed", summed, METH_VARARGS,
     "summed(n, order, offsets, targets, engine, weights, out): each op's sum over its "
     "successors of their sums and weights into out"},
    {"topological", topological, METH_VARARGS,
     "topological(n, offsets, targets, npred, out): a topological order into out; "
     "returns the ops placed"},
    {"walk", walk, METH_VARARGS,
     "walk(kind, n, order, offsets, targets, lats, extra, target, out): heights (0), "
     "releases (1) or distances to an engine (2) into out"},
    {"schedule", schedule, METH_VARARGS,
     "schedule(n, offsets, edges, engine, caps, npred, keys, out[, dist, target, "
     "horizon, reach]): each op's cycle into out"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_listsched",
    "The compiled list-scheduling pass of asm.sched.listsched and graph walks of asm.sched.graph.",
    -1, methods,
};

#ifndef SOURCE_ID  /* setup.py's digest of this file */
#define SOURCE_ID "unknown"
#endif

PyMODINIT_FUNC PyInit__listsched(void) {
    PyObject *mod = PyModule_Create(&module);
    if (mod == NULL || PyModule_AddStringConstant(mod, "SOURCE_ID", SOURCE_ID) < 0)
        return NULL;
    return mod;
}
