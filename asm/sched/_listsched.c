/* The list-scheduling pass of asm/listsched.py, compiled: the same algorithm
 * step for step (tests/test_listsched.py checks that both give the same
 * cycles on random graphs), about a hundred times faster, so that the
 * scheduler's search can afford many passes. Built when a C compiler is
 * there; asm/listsched.py runs its own Python version otherwise.
 *
 * schedule(n, offsets, targets, lats, engine, caps, npred, order, out)
 *   offsets[n+1], targets[], lats[]: each op's successors and latencies (0/1)
 *   engine[n]: each op's engine index into caps; npred[n]: predecessor counts
 *   order[n]: the ops by priority (rank r is op order[r])
 *   out[n]: filled with each op's cycle
 * Every sequence is a buffer of C ints (array('i'), NumPy int32). Raises
 * ValueError when the graph has a cycle.
 *
 * The graph walks the search needs for its priorities, compiled for the same
 * reason (Graph in asm/sched/listsched.py has the Python versions):
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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

typedef struct {
    int *items;
    Py_ssize_t size;
} Heap;

static void heap_push(Heap *h, int v) {
    Py_ssize_t i = h->size++;
    int *a = h->items;
    while (i > 0) {
        Py_ssize_t parent = (i - 1) / 2;
        if (a[parent] <= v) break;
        a[i] = a[parent];
        i = parent;
    }
    a[i] = v;
}

static int heap_pop(Heap *h) {
    int *a = h->items;
    int top = a[0];
    int last = a[--h->size];
    Py_ssize_t i = 0, n = h->size;
    for (;;) {
        Py_ssize_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && a[child + 1] < a[child]) child++;
        if (a[child] >= last) break;
        a[i] = a[child];
        i = child;
    }
    if (n > 0) a[i] = last;
    return top;
}

static int get_ints(PyObject *obj, Py_buffer *view, Py_ssize_t want, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_CONTIG_RO | PyBUF_FORMAT) < 0) return -1;
    if (view->itemsize != sizeof(int) || (view->format && strcmp(view->format, "i") != 0)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a buffer of C ints", what);
        PyBuffer_Release(view);
        return -1;
    }
    if (want >= 0 && view->len / (Py_ssize_t)sizeof(int) < want) {
        PyErr_Format(PyExc_ValueError, "%s: too short", what);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *schedule(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *o_off, *o_tgt, *o_lat, *o_eng, *o_caps, *o_npred, *o_order, *o_out;
    if (!PyArg_ParseTuple(args, "nOOOOOOOO", &n, &o_off, &o_tgt, &o_lat, &o_eng, &o_caps,
                          &o_npred, &o_order, &o_out))
        return NULL;
    Py_buffer b_off, b_tgt, b_lat, b_eng, b_caps, b_npred, b_order, b_out;
    int got = 0;
    PyObject *result = NULL;
    if (get_ints(o_off, &b_off, n + 1, "offsets") < 0) goto done;
    got = 1;
    const int *off = b_off.buf;
    Py_ssize_t m = off[n];
    if (get_ints(o_tgt, &b_tgt, m, "targets") < 0) goto done;
    got = 2;
    if (get_ints(o_lat, &b_lat, m, "lats") < 0) goto done;
    got = 3;
    if (get_ints(o_eng, &b_eng, n, "engine") < 0) goto done;
    got = 4;
    if (get_ints(o_caps, &b_caps, -1, "caps") < 0) goto done;
    got = 5;
    if (get_ints(o_npred, &b_npred, n, "npred") < 0) goto done;
    got = 6;
    if (get_ints(o_order, &b_order, n, "order") < 0) goto done;
    got = 7;
    if (PyObject_GetBuffer(o_out, &b_out, PyBUF_CONTIG | PyBUF_FORMAT) < 0) goto done;
    got = 8;
    if (b_out.itemsize != sizeof(int) || (b_out.format && strcmp(b_out.format, "i") != 0)
        || b_out.len / (Py_ssize_t)sizeof(int) < n) {
        PyErr_SetString(PyExc_TypeError, "out: expected a writable buffer of n C ints");
        goto done;
    }

    const int *tgt = b_tgt.buf, *lat = b_lat.buf, *eng = b_eng.buf, *caps = b_caps.buf;
    const int *npred = b_npred.buf, *order = b_order.buf;
    Py_ssize_t ne = b_caps.len / (Py_ssize_t)sizeof(int);
    int *rank = malloc(sizeof(int) * (n + 1));
    int *waiting = malloc(sizeof(int) * (n + 1));
    long *late = malloc(sizeof(long) * (n + 1));
    int *cycle = b_out.buf;
    int *following = malloc(sizeof(int) * (n + 1));
    int *counts = calloc(ne + 1, sizeof(int));
    int *used = calloc(ne + 1, sizeof(int));
    Heap *ready = calloc(ne + 1, sizeof(Heap));
    int ok = rank && waiting && late && following && counts && used && ready;
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        if (eng[i] < 0 || eng[i] >= ne || order[i] < 0 || order[i] >= n) ok = 0;
        else counts[eng[i]]++;
    }
    for (Py_ssize_t e = 0; ok && e < ne; e++) {
        ready[e].items = malloc(sizeof(int) * (counts[e] + 1));
        if (!ready[e].items) ok = 0;
    }
    if (!ok) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad graph or out of memory");
        goto freeall;
    }
    for (Py_ssize_t r = 0; r < n; r++) rank[order[r]] = (int)r;
    for (Py_ssize_t i = 0; i < n; i++) {
        waiting[i] = npred[i];
        late[i] = -1;
        cycle[i] = -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (waiting[i] == 0) heap_push(&ready[eng[i]], rank[i]);
    Py_ssize_t nfollow = 0, done = 0;
    long now = 0;
    while (done < n) {
        for (Py_ssize_t k = 0; k < nfollow; k++) {
            int i = following[k];
            heap_push(&ready[eng[i]], rank[i]);
        }
        nfollow = 0;
        memset(used, 0, sizeof(int) * ne);
        int progressed = 1;
        while (progressed) {
            progressed = 0;
            for (Py_ssize_t e = 0; e < ne; e++) {
                Heap *h = &ready[e];
                while (h->size && used[e] < caps[e]) {
                    int i = order[heap_pop(h)];
                    cycle[i] = (int)now;
                    used[e]++;
                    done++;
                    progressed = 1;
                    for (int k = off[i]; k < off[i + 1]; k++) {
                        int s = tgt[k];
                        if (lat[k]) late[s] = now;
                        if (--waiting[s] == 0) {
                            if (late[s] == now) following[nfollow++] = s;
                            else heap_push(&ready[eng[s]], rank[s]);
                        }
                    }
                }
            }
        }
        if (done < n) {
            int any = nfollow > 0;
            for (Py_ssize_t e = 0; !any && e < ne; e++) any = ready[e].size > 0;
            if (!any) {
                PyErr_SetString(PyExc_ValueError, "the graph has a cycle");
                goto freeall;
            }
            now++;
        }
    }
    result = Py_NewRef(Py_None);
freeall:
    if (ready)
        for (Py_ssize_t e = 0; e < ne; e++) free(ready[e].items);
    free(ready);
    free(used);
    free(counts);
    free(following);
    free(late);
    free(waiting);
    free(rank);
done:
    if (got >= 8) PyBuffer_Release(&b_out);
    if (got >= 7) PyBuffer_Release(&b_order);
    if (got >= 6) PyBuffer_Release(&b_npred);
    if (got >= 5) PyBuffer_Release(&b_caps);
    if (got >= 4) PyBuffer_Release(&b_eng);
    if (got >= 3) PyBuffer_Release(&b_lat);
    if (got >= 2) PyBuffer_Release(&b_tgt);
    if (got >= 1) PyBuffer_Release(&b_off);
    return result;
}

static PyObject *topological(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *o_off, *o_tgt, *o_npred, *o_out;
    if (!PyArg_ParseTuple(args, "nOOOO", &n, &o_off, &o_tgt, &o_npred, &o_out)) return NULL;
    Py_buffer b_off, b_tgt, b_npred, b_out;
    int got = 0;
    PyObject *result = NULL;
    if (get_ints(o_off, &b_off, n + 1, "offsets") < 0) goto done;
    got = 1;
    const int *off = b_off.buf;
    if (get_ints(o_tgt, &b_tgt, off[n], "targets") < 0) goto done;
    got = 2;
    if (get_ints(o_npred, &b_npred, n, "npred") < 0) goto done;
    got = 3;
    if (get_ints(o_out, &b_out, n, "out") < 0) goto done;
    got = 4;
    if (b_out.readonly) {
        PyErr_SetString(PyExc_TypeError, "out: expected a writable buffer");
        goto done;
    }
    const int *tgt = b_tgt.buf, *npred = b_npred.buf;
    int *out = b_out.buf;
    int *waiting = malloc(sizeof(int) * (n + 1));
    int *stack = malloc(sizeof(int) * (n + 1));
    if (!waiting || !stack) {
        free(waiting);
        free(stack);
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
        for (int k = off[i]; k < off[i + 1]; k++) {
            int s = tgt[k];
            if (s >= 0 && s < n && --waiting[s] == 0) stack[top++] = s;
        }
    }
    free(waiting);
    free(stack);
    result = PyLong_FromSsize_t(placed);
done:
    if (got >= 4) PyBuffer_Release(&b_out);
    if (got >= 3) PyBuffer_Release(&b_npred);
    if (got >= 2) PyBuffer_Release(&b_tgt);
    if (got >= 1) PyBuffer_Release(&b_off);
    return result;
}

static PyObject *walk(PyObject *self, PyObject *args) {
    int kind, target;
    Py_ssize_t n;
    PyObject *o_order, *o_off, *o_tgt, *o_lat, *o_extra, *o_out;
    if (!PyArg_ParseTuple(args, "inOOOOOiO", &kind, &n, &o_order, &o_off, &o_tgt, &o_lat,
                          &o_extra, &target, &o_out))
        return NULL;
    Py_buffer b_order, b_off, b_tgt, b_lat, b_extra, b_out;
    int got = 0;
    PyObject *result = NULL;
    if (get_ints(o_order, &b_order, n, "order") < 0) goto done;
    got = 1;
    if (get_ints(o_off, &b_off, n + 1, "offsets") < 0) goto done;
    got = 2;
    const int *off = b_off.buf;
    if (get_ints(o_tgt, &b_tgt, off[n], "targets") < 0) goto done;
    got = 3;
    if (get_ints(o_lat, &b_lat, off[n], "lats") < 0) goto done;
    got = 4;
    if (get_ints(o_extra, &b_extra, n, "extra") < 0) goto done;
    got = 5;
    if (get_ints(o_out, &b_out, n, "out") < 0) goto done;
    got = 6;
    if (b_out.readonly) {
        PyErr_SetString(PyExc_TypeError, "out: expected a writable buffer");
        goto done;
    }
    const int *order = b_order.buf, *tgt = b_tgt.buf, *lat = b_lat.buf, *extra = b_extra.buf;
    int *out = b_out.buf;
    for (Py_ssize_t k = 0; k < n; k++)
        if (order[k] < 0 || order[k] >= n) {
            PyErr_SetString(PyExc_ValueError, "order: an op out of range");
            goto done;
        }
    for (Py_ssize_t k = 0; k < off[n]; k++)
        if (tgt[k] < 0 || tgt[k] >= n) {
            PyErr_SetString(PyExc_ValueError, "targets: an op out of range");
            goto done;
        }
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
    if (got >= 6) PyBuffer_Release(&b_out);
    if (got >= 5) PyBuffer_Release(&b_extra);
    if (got >= 4) PyBuffer_Release(&b_lat);
    if (got >= 3) PyBuffer_Release(&b_tgt);
    if (got >= 2) PyBuffer_Release(&b_off);
    if (got >= 1) PyBuffer_Release(&b_order);
    return result;
}

static PyObject *work(PyObject *self, PyObject *args) {
    Py_ssize_t n;
    PyObject *o_order, *o_off, *o_tgt, *o_npred, *o_eng, *o_w, *o_engines, *o_out;
    if (!PyArg_ParseTuple(args, "nOOOOOOOO", &n, &o_order, &o_off, &o_tgt, &o_npred, &o_eng,
                          &o_w, &o_engines, &o_out))
        return NULL;
    Py_buffer b_order, b_off, b_tgt, b_npred, b_eng, b_w, b_engines, b_out;
    int got = 0;
    PyObject *result = NULL;
    uint64_t **closure = NULL, **masks = NULL;
    int *unread = NULL;
    uint64_t *d = NULL;
    Py_ssize_t *lo = NULL, *hi = NULL;
    Py_ssize_t ne = 0;
    if (get_ints(o_order, &b_order, n, "order") < 0) goto done;
    got = 1;
    if (get_ints(o_off, &b_off, n + 1, "offsets") < 0) goto done;
    got = 2;
    const int *off = b_off.buf;
    if (get_ints(o_tgt, &b_tgt, off[n], "targets") < 0) goto done;
    got = 3;
    if (get_ints(o_npred, &b_npred, n, "npred") < 0) goto done;
    got = 4;
    if (get_ints(o_eng, &b_eng, n, "engine") < 0) goto done;
    got = 5;
    if (PyObject_GetBuffer(o_w, &b_w, PyBUF_CONTIG_RO | PyBUF_FORMAT) < 0) goto done;
    got = 6;
    if (get_ints(o_engines, &b_engines, -1, "engines") < 0) goto done;
    got = 7;
    if (PyObject_GetBuffer(o_out, &b_out, PyBUF_CONTIG | PyBUF_FORMAT) < 0) goto done;
    got = 8;
    Py_ssize_t nw = b_w.len / (Py_ssize_t)sizeof(double);
    if (b_w.itemsize != sizeof(double) || (b_w.format && strcmp(b_w.format, "d") != 0)
        || b_out.itemsize != sizeof(double) || (b_out.format && strcmp(b_out.format, "d") != 0)
        || b_out.len / (Py_ssize_t)sizeof(double) < n) {
        PyErr_SetString(PyExc_TypeError, "weights, out: expected buffers of doubles");
        goto done;
    }
    const int *order = b_order.buf, *tgt = b_tgt.buf, *npred = b_npred.buf;
    const int *eng = b_eng.buf, *engines = b_engines.buf;
    const double *weight = b_w.buf;
    double *out = b_out.buf;
    ne = b_engines.len / (Py_ssize_t)sizeof(int);
    for (Py_ssize_t k = 0; k < n; k++)
        if (order[k] < 0 || order[k] >= n || eng[k] < 0) {
            PyErr_SetString(PyExc_ValueError, "order or engine out of range");
            goto done;
        }
    for (Py_ssize_t k = 0; k < off[n]; k++)
        if (tgt[k] < 0 || tgt[k] >= n) {
            PyErr_SetString(PyExc_ValueError, "targets: an op out of range");
            goto done;
        }
    for (Py_ssize_t e = 0; e < ne; e++)
        if (engines[e] < 0 || engines[e] >= nw) {
            PyErr_SetString(PyExc_ValueError, "engines: no weight for an engine");
            goto done;
        }
    Py_ssize_t words = (n + 63) / 64;
    closure = calloc(n + 1, sizeof(uint64_t *));
    masks = calloc(ne + 1, sizeof(uint64_t *));
    unread = malloc(sizeof(int) * (n + 1));
    d = malloc(sizeof(uint64_t) * (words + 1));
    if (!closure || !masks || !unread || !d) {
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
    lo = malloc(sizeof(Py_ssize_t) * (n + 1));
    hi = malloc(sizeof(Py_ssize_t) * (n + 1));
    if (!lo || !hi) {
        PyErr_NoMemory();
        goto done;
    }
    memset(d, 0, sizeof(uint64_t) * words);
    for (Py_ssize_t i = 0; i < n; i++) unread[i] = npred[i];
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        int i = order[k];
        Py_ssize_t a = i / 64, b = i / 64 + 1;  /* d's words in use: [a, b) */
        for (int e = off[i]; e < off[i + 1]; e++) {
            int s = tgt[e];
            uint64_t *c = closure[s];
            if (c) {
                if (lo[s] < a) a = lo[s];
                if (hi[s] > b) b = hi[s];
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
            for (Py_ssize_t w = a; w < b; w++) count += __builtin_popcountll(d[w] & m[w]);
            total += weight[engines[e]] * (double)count;
        }
        out[i] = total;
        if (unread[i] > 0) {  /* some predecessor will read it */
            d[i / 64] |= (uint64_t)1 << (i % 64);
            uint64_t *c = malloc(sizeof(uint64_t) * (b - a + 1));
            if (!c) {
                PyErr_NoMemory();
                goto done;
            }
            memcpy(c, d + a, sizeof(uint64_t) * (b - a));
            closure[i] = c;
            lo[i] = a;
            hi[i] = b;
        }
        memset(d + a, 0, sizeof(uint64_t) * (b - a));
    }
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
    if (got >= 8) PyBuffer_Release(&b_out);
    if (got >= 7) PyBuffer_Release(&b_engines);
    if (got >= 6) PyBuffer_Release(&b_w);
    if (got >= 5) PyBuffer_Release(&b_eng);
    if (got >= 4) PyBuffer_Release(&b_npred);
    if (got >= 3) PyBuffer_Release(&b_tgt);
    if (got >= 2) PyBuffer_Release(&b_off);
    if (got >= 1) PyBuffer_Release(&b_order);
    return result;
}

static PyMethodDef methods[] = {
    {"work", work, METH_VARARGS,
     "work(n, order, offsets, targets, npred, engine, weights, engines, out): each op's "
     "weighted count of descendants per engine into out"},
    {"topological", topological, METH_VARARGS,
     "topological(n, offsets, targets, npred, out): a topological order into out; "
     "returns the ops placed"},
    {"walk", walk, METH_VARARGS,
     "walk(kind, n, order, offsets, targets, lats, extra, target, out): heights (0), "
     "releases (1) or distances to an engine (2) into out"},
    {"schedule", schedule, METH_VARARGS,
     "schedule(n, offsets, targets, lats, engine, caps, npred, order, out): each op's "
     "cycle into out"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_listsched",
    "The compiled list-scheduling pass of asm.listsched.", -1, methods,
};

PyMODINIT_FUNC PyInit__listsched(void) { return PyModule_Create(&module); }
