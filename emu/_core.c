/* The fast engine's compiled core: decodes a program (checking every slot as
 * it goes, by the ISA table's operand kinds) and runs it, cycle for cycle as
 * the reference engine does. Built when a C compiler is there; emu/native.py
 * says what it is for and the Python engines do everything without it.
 *
 * The ops themselves are not written here: emu/generated_core.h holds the op
 * table and each op's code, generated from its meaning in asm/isa.py
 * (emu/codegen_c.py). This file knows bundles, slots, operand kinds and the
 * order of a bundle's effects, nothing about any one op.
 *
 * decode(program) -> a program object, or None when anything in it is not
 *   plainly valid (the Python loader then checks it and names the problem).
 * run(program, scratch, mem, trace, pc, cycle, pause, max_cycles)
 *   -> (status, pc, cycle, at), the lists updated in place; or None when the
 *   state holds something that is not a word (the Python engines take over).
 *   status: 0 finished, 1 halted, 2 paused, 3 a fault in bundle `at` (the
 *   state is the one before it, for the reference engine to name the fault),
 *   4 the cycle limit passed at the jump in bundle `at` (the state after it).
 * run_images(program, memory, scratch, max_cycles) -> run's outcome and the
 *   trace for every row of two uint32 arrays (emu/batch.py's compiled path).
 * SCRATCH_SIZE: the words of scratch run() takes (the quick `vemu run` reads
 *   it here instead of loading the ISA table).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "generated_core.h"

#define FAULT 1
enum { ST_FINISHED, ST_HALTED, ST_PAUSED, ST_FAULT, ST_LIMIT, ST_READY };

typedef struct {
    int32_t opc;
    int64_t o[MAX_ARITY];
} Slot;

typedef struct {
    Py_ssize_t first;  /* its slots: slots[first .. first + count) */
    Py_ssize_t count;
    int cost;
} Bundle;

typedef struct {
    Py_ssize_t n;
    Bundle *bundles;
    Slot *slots;
} Program;

typedef struct {
    uint32_t *s;
    const uint32_t *mem;
    uint64_t nmem;
    uint64_t n;
    int pause;
    /* the bundle's pending effects, applied in the order they were made; the
     * counts are size_t because a uint32_t store may alias an int, which
     * would make every pending write reload and store its count again */
    size_t nsw, nmw, ntw;
    uint32_t sw_addr[MAX_SCRATCH_WRITES], sw_val[MAX_SCRATCH_WRITES];
    uint64_t mw_addr[MAX_MEM_WRITES];
    uint32_t mw_val[MAX_MEM_WRITES];
    uint32_t tw[MAX_TRACE_WRITES];
    int jumped;
    uint64_t jump_to;
    int stop;
} Run;

#define SCRATCH_WRITE(a, v) (r->sw_addr[r->nsw] = (uint32_t)(a), r->sw_val[r->nsw++] = (uint32_t)(v))
#define MEM_WRITE(a, v) (r->mw_addr[r->nmw] = (a), r->mw_val[r->nmw++] = (uint32_t)(v))
#define TRACE_WRITE(v) (r->tw[r->ntw++] = (uint32_t)(v))
#define JUMP(t) (r->jumped = 1, r->jump_to = (t))
#define STOP(st) (r->stop = (st))

#define CORE_EXEC
#include "generated_core.h"

/* ------------------------------------------------------------ decoding */

static PyObject *engine_index;  /* engine name -> index */
static PyObject *op_index[N_ENGINES];  /* per engine: op name -> index into OP_INFO */

#define SCRATCH_OPERAND_LIMIT ((int64_t)1 << 40)

static int is_key(PyObject *x, int depth) {
    if (PyLong_CheckExact(x) || PyUnicode_CheckExact(x)) return 1;
    if (depth > 8 || !(PyList_CheckExact(x) || PyTuple_CheckExact(x))) return 0;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(x);
    PyObject **items = PySequence_Fast_ITEMS(x);
    for (Py_ssize_t i = 0; i < n; i++)
        if (!is_key(items[i], depth + 1)) return 0;
    return 1;
}

/* One slot into *out; 0 when it is not plainly valid. *keep: whether it runs. */
static int decode_slot(int engine, PyObject *slot, Slot *out, int *keep) {
    if (!(PyList_CheckExact(slot) || PyTuple_CheckExact(slot))) return 0;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(slot);
    PyObject **items = PySequence_Fast_ITEMS(slot);
    if (len < 1 || !PyUnicode_CheckExact(items[0])) return 0;
    PyObject *found = PyDict_GetItemWithError(op_index[engine], items[0]);
    if (found == NULL) {
        PyErr_Clear();
        return 0;
    }
    int opc = (int)PyLong_AsLong(found);
    const OpInfo *op = &OP_INFO[opc];
    if (len - 1 != op->arity) return 0;
    out->opc = opc;
    for (int k = 0; k < op->arity; k++) {
        PyObject *v = items[k + 1];
        int kind = op->kinds[k];
        out->o[k] = 0;
        if (kind == K_TEXT) {
            if (!PyUnicode_CheckExact(v)) return 0;
        } else if (kind == K_KEY) {
            if (!is_key(v, 0)) return 0;
        } else if (kind == K_KEYS) {
            if (!(PyList_CheckExact(v) || PyTuple_CheckExact(v))
                    || PySequence_Fast_GET_SIZE(v) != VLEN || !is_key(v, -1))
                return 0;
        } else {  /* a number: a scratch address, an immediate, a target */
            if (!PyLong_CheckExact(v)) return 0;
            int overflow = 0;
            long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
            if (overflow) return 0;
            if (kind == K_TARGET && x < 0) return 0;
            if ((KIND_WIDTH[kind] || k == op->offset)
                    && (x > SCRATCH_OPERAND_LIMIT || x < -SCRATCH_OPERAND_LIMIT))
                return 0;
            out->o[k] = x;
        }
    }
    int64_t shift = op->offset >= 0 ? out->o[op->offset] : 0;
    for (int k = 0; k < op->arity; k++) {
        int width = KIND_WIDTH[op->kinds[k]];
        if (width == 0) continue;
        int64_t first = out->o[k] + shift;
        if (first < 0 || first + width > SCRATCH_SIZE) return 0;
    }
    *keep = op->runs;
    return 1;
}

static void free_program(PyObject *capsule) {
    Program *p = PyCapsule_GetPointer(capsule, "emu._core.program");
    if (p == NULL) return;
    free(p->bundles);
    free(p->slots);
    free(p);
}

static PyObject *decode(PyObject *self, PyObject *arg) {
    (void)self;
    if (!(PyList_CheckExact(arg) || PyTuple_CheckExact(arg))) Py_RETURN_NONE;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(arg);
    PyObject **bundles = PySequence_Fast_ITEMS(arg);
    Py_ssize_t cap = 64, used = 0;
    Program *p = calloc(1, sizeof(Program));
    Slot *slots = malloc(cap * sizeof(Slot));
    Bundle *info = malloc((n > 0 ? n : 1) * sizeof(Bundle));
    if (p == NULL || slots == NULL || info == NULL) goto nomem;
    for (Py_ssize_t pc = 0; pc < n; pc++) {
        PyObject *bundle = bundles[pc];
        if (!PyDict_CheckExact(bundle)) goto invalid;
        Py_ssize_t pos = 0;
        PyObject *engine_name, *slot_list;
        int cost = 0;
        info[pc].first = used;
        while (PyDict_Next(bundle, &pos, &engine_name, &slot_list)) {
            if (!PyUnicode_CheckExact(engine_name)) goto invalid;
            PyObject *found = PyDict_GetItemWithError(engine_index, engine_name);
            if (found == NULL) {
                PyErr_Clear();
                goto invalid;
            }
            int engine = (int)PyLong_AsLong(found);
            if (!ENGINE_FREE[engine]) cost = 1;
            if (!(PyList_CheckExact(slot_list) || PyTuple_CheckExact(slot_list))) goto invalid;
            Py_ssize_t count = PySequence_Fast_GET_SIZE(slot_list);
            PyObject **items = PySequence_Fast_ITEMS(slot_list);
            if (ENGINE_LIMIT[engine] >= 0 && count > ENGINE_LIMIT[engine]) goto invalid;
            for (Py_ssize_t i = 0; i < count; i++) {
                if (used == cap) {
                    cap *= 2;
                    Slot *grown = realloc(slots, cap * sizeof(Slot));
                    if (grown == NULL) goto nomem;
                    slots = grown;
                }
                int keep = 0;
                if (!decode_slot(engine, items[i], &slots[used], &keep)) goto invalid;
                used += keep;
            }
        }
        info[pc].count = used - info[pc].first;
        info[pc].cost = cost;
    }
    p->n = n;
    p->bundles = info;
    p->slots = slots;
    PyObject *capsule = PyCapsule_New(p, "emu._core.program", free_program);
    if (capsule == NULL) {
        free(info);
        free(slots);
        free(p);
    }
    return capsule;
invalid:
    free(info);
    free(slots);
    free(p);
    Py_RETURN_NONE;
nomem:
    free(info);
    free(slots);
    free(p);
    return PyErr_NoMemory();
}

/* ------------------------------------------------------------ running */

/* The words of a list into a new array; 0 when an item is not a word. */
static int read_words(PyObject *list, uint32_t *out) {
    Py_ssize_t n = PyList_GET_SIZE(list);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyList_GET_ITEM(list, i);
        if (!PyLong_CheckExact(v)) return 0;
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow || x < 0 || x > 0xFFFFFFFFLL) return 0;
        out[i] = (uint32_t)x;
    }
    return 1;
}

/* Store the words that changed back into the list. */
static int write_words(PyObject *list, const uint32_t *now, const uint32_t *before,
                       Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (now[i] == before[i]) continue;
        PyObject *v = PyLong_FromUnsignedLong(now[i]);
        if (v == NULL) return -1;
        PyList_SetItem(list, i, v);  /* steals v, drops the old word */
    }
    return 0;
}

typedef struct {
    uint32_t *items;
    size_t n, cap;
} Words;

static int words_push(Words *w, const uint32_t *v, size_t k) {
    if (w->n + k > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        while (cap < w->n + k) cap *= 2;
        uint32_t *grown = realloc(w->items, cap * sizeof(uint32_t));
        if (grown == NULL) return -1;
        w->items = grown;
        w->cap = cap;
    }
    memcpy(w->items + w->n, v, k * sizeof(uint32_t));
    w->n += k;
    return 0;
}

/* The words of a trace buffer as a new list of ints. */
static PyObject *words_list(const Words *w) {
    PyObject *list = PyList_New((Py_ssize_t)w->n);
    if (list == NULL) return NULL;
    for (size_t j = 0; j < w->n; j++) {
        PyObject *v = PyLong_FromUnsignedLong(w->items[j]);
        if (v == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)j, v);
    }
    return list;
}

/* A run over `p` with scratch `s` and memory `mem` of `nmem` words. */
static void start_run(Run *r, const Program *p, uint32_t *s, uint32_t *mem, Py_ssize_t nmem,
                      int pause) {
    r->s = s;
    r->mem = mem;
    r->nmem = (uint64_t)nmem;
    r->n = (uint64_t)p->n;
    r->pause = pause;
}

/* No effects pending yet: a bundle starts. */
static void begin_bundle(Run *r) {
    r->nsw = r->nmw = r->ntw = 0;
    r->jumped = 0;
    r->stop = ST_READY;
}

/* Apply a bundle's pending effects in the order they were made; -1 when out
 * of memory. */
static int commit(Run *r, uint32_t *mem, Words *trace) {
    for (size_t k = 0; k < r->nsw; k++) r->s[r->sw_addr[k]] = r->sw_val[k];
    for (size_t k = 0; k < r->nmw; k++) mem[r->mw_addr[k]] = r->mw_val[k];
    if (r->ntw && words_push(trace, r->tw, r->ntw) < 0) return -1;
    return 0;
}

/* After a committed bundle at `pc` whose cycles bring the run to `after`:
 * the next pc in *to, and ST_LIMIT when a jump passed the limit, else the
 * bundle's own stop (ST_READY to go on). */
static inline int leave_bundle(const Run *r, uint64_t pc, long long after,
                               long long max_cycles, uint64_t *to) {
    *to = r->jumped ? r->jump_to : pc + 1;
    if (r->jumped && max_cycles >= 0 && after > max_cycles) return ST_LIMIT;
    return r->stop;
}

/* Run from *pc until the program ends, halts, pauses, faults or passes the
 * limit; the status. */
static int execute(const Program *p, Run *r, uint32_t *mem, Words *trace, uint64_t *pc,
                   long long *cycle, long long max_cycles, Py_ssize_t *at) {
    const uint64_t n = (uint64_t)p->n;
    for (;;) {
        if (*pc >= n) return ST_FINISHED;
        const Bundle *b = &p->bundles[*pc];
        begin_bundle(r);
        const Slot *sl = &p->slots[b->first];
        for (Py_ssize_t k = 0; k < b->count; k++) {
            if (exec_slot(r, &sl[k], *pc) == FAULT) {
                *at = (Py_ssize_t)*pc;
                return ST_FAULT;
            }
        }
        if (commit(r, mem, trace) < 0) return -1;
        *cycle += b->cost;
        const uint64_t was = *pc;
        const int status = leave_bundle(r, was, *cycle, max_cycles, pc);
        if (status == ST_LIMIT) *at = (Py_ssize_t)was;
        if (status != ST_READY) return status;
    }
}

static PyObject *run(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *capsule, *scratch, *mem, *trace;
    long long pc_in, cycle, max_cycles;
    int pause;
    if (!PyArg_ParseTuple(args, "OO!O!O!LLpL", &capsule, &PyList_Type, &scratch, &PyList_Type,
                          &mem, &PyList_Type, &trace, &pc_in, &cycle, &pause, &max_cycles))
        return NULL;
    Program *p = PyCapsule_GetPointer(capsule, "emu._core.program");
    if (p == NULL) return NULL;
    if (PyList_GET_SIZE(scratch) != SCRATCH_SIZE || pc_in < 0) Py_RETURN_NONE;
    Py_ssize_t nmem = PyList_GET_SIZE(mem);
    uint32_t *words = malloc((2 * SCRATCH_SIZE + 2 * (nmem + 1)) * sizeof(uint32_t));
    if (words == NULL) return PyErr_NoMemory();
    uint32_t *s = words, *s0 = words + SCRATCH_SIZE;
    uint32_t *m = words + 2 * SCRATCH_SIZE, *m0 = m + nmem + 1;
    if (!read_words(scratch, s) || !read_words(mem, m)) {
        free(words);
        Py_RETURN_NONE;
    }
    memcpy(s0, s, SCRATCH_SIZE * sizeof(uint32_t));
    memcpy(m0, m, nmem * sizeof(uint32_t));
    Run *r = malloc(sizeof(Run));
    if (r == NULL) {
        free(words);
        return PyErr_NoMemory();
    }
    start_run(r, p, s, m, nmem, pause);
    Words tw = {NULL, 0, 0};
    uint64_t pc = (uint64_t)pc_in;
    Py_ssize_t at = -1;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = execute(p, r, m, &tw, &pc, &cycle, max_cycles, &at);
    Py_END_ALLOW_THREADS
    free(r);
    PyObject *result = NULL;
    if (status < 0) {
        PyErr_NoMemory();
        goto done;
    }
    if (write_words(scratch, s, s0, SCRATCH_SIZE) < 0 || write_words(mem, m, m0, nmem) < 0)
        goto done;
    if (tw.n) {  /* the words traced, after those the list held */
        PyObject *traced = words_list(&tw);
        const Py_ssize_t end = PyList_GET_SIZE(trace);
        const int bad = traced == NULL || PyList_SetSlice(trace, end, end, traced) < 0;
        Py_XDECREF(traced);
        if (bad) goto done;
    }
    result = Py_BuildValue("iKLn", status, (unsigned long long)pc, cycle, at);
done:
    free(tw.items);
    free(words);
    return result;
}

/* Images that run together, slot by slot: the op of one slot runs for every
 * image of the group before the next slot's, so the op switch jumps to the
 * same case many times in a row, which the branch predictor gets right
 * (about 10% off a run on the corpus kernels; one image at a time, every
 * slot's jump goes somewhere new). */
#define GROUP 32

/* Run images 0..k-1 (k <= GROUP) from the start in lockstep while they share
 * a pc: an image whose path leaves the group's, or that faults or stops,
 * leaves it (one that goes elsewhere is run on alone by execute). out[4*i..]:
 * image i's status, pc, cycle and bundle `at`, as run() reports them; -1
 * when out of memory. */
static int run_lockstep(const Program *p, Run *runs, uint32_t *const *mems, Words *traces,
                        int k, long long max_cycles, long long *out) {
    int active[GROUP], na = 0;
    unsigned char faulted[GROUP];
    for (int i = 0; i < k; i++) active[na++] = i;
    uint64_t pc = 0;
    long long cycle = 0;
    while (na > 0) {
        if (pc >= (uint64_t)p->n) {
            for (int a = 0; a < na; a++) {
                long long *o = &out[4 * active[a]];
                o[0] = ST_FINISHED, o[1] = (long long)pc, o[2] = cycle, o[3] = -1;
            }
            return 0;
        }
        const Bundle *b = &p->bundles[pc];
        const Slot *sl = &p->slots[b->first];
        for (int a = 0; a < na; a++) {
            begin_bundle(&runs[active[a]]);
            faulted[active[a]] = 0;
        }
        for (Py_ssize_t j = 0; j < b->count; j++)
            for (int a = 0; a < na; a++)
                if (!faulted[active[a]] && exec_slot(&runs[active[a]], &sl[j], pc) == FAULT)
                    faulted[active[a]] = 1;
        const long long after = cycle + b->cost;
        uint64_t next = 0;  /* where the group goes: the first image kept says */
        int kept = 0;
        for (int a = 0; a < na; a++) {
            const int i = active[a];
            Run *r = &runs[i];
            long long *o = &out[4 * i];
            if (faulted[i]) {  /* the state stays the one before the bundle */
                o[0] = ST_FAULT, o[1] = (long long)pc, o[2] = cycle, o[3] = (long long)pc;
                continue;
            }
            if (commit(r, mems[i], &traces[i]) < 0) return -1;
            uint64_t to;
            const int status = leave_bundle(r, pc, after, max_cycles, &to);
            if (status != ST_READY) {
                o[0] = status, o[1] = (long long)to, o[2] = after;
                o[3] = status == ST_LIMIT ? (long long)pc : -1;
                continue;
            }
            if (kept == 0) next = to;
            if (to == next) {
                active[kept++] = i;
                continue;
            }
            uint64_t alone = to;
            long long cycles = after;
            Py_ssize_t at = -1;
            const int ended = execute(p, r, mems[i], &traces[i], &alone, &cycles, max_cycles,
                                      &at);
            if (ended < 0) return -1;
            o[0] = ended, o[1] = (long long)alone, o[2] = cycles, o[3] = at;
        }
        na = kept;
        pc = next;
        cycle = after;
    }
    return 0;
}

/* run_images(program, memory, scratch, max_cycles) -> [(status, pc, cycle, at,
 * trace)], one per image: runs the program from its start on every row of
 * `memory` (k rows of words) with the matching row of `scratch` (k rows of
 * SCRATCH_SIZE words), both writable uint32 buffers updated in place, with
 * pauses run through: GROUP images at a time in lockstep, with the
 * interpreter lock released. */
static PyObject *run_images(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *capsule, *memory, *scratch;
    long long max_cycles;
    if (!PyArg_ParseTuple(args, "OOOL", &capsule, &memory, &scratch, &max_cycles)) return NULL;
    Program *p = PyCapsule_GetPointer(capsule, "emu._core.program");
    if (p == NULL) return NULL;
    Py_buffer mb, sb;
    if (PyObject_GetBuffer(memory, &mb, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_ND) < 0)
        return NULL;
    if (PyObject_GetBuffer(scratch, &sb, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_ND) < 0) {
        PyBuffer_Release(&mb);
        return NULL;
    }
    PyObject *result = NULL;
    Run *runs = NULL;
    long long *out = NULL;  /* per image: status, pc, cycle, at */
    Words *traces = NULL;
    Py_ssize_t k = sb.ndim == 2 ? sb.shape[0] : -1;
    if (mb.ndim != 2 || mb.itemsize != 4 || sb.itemsize != 4 || mb.shape[0] != k
            || sb.shape[1] != SCRATCH_SIZE) {
        PyErr_SetString(PyExc_ValueError, "run_images: memory and scratch are k rows of words");
        goto done;
    }
    Py_ssize_t nmem = mb.shape[1];
    runs = malloc(GROUP * sizeof(Run));
    out = malloc((k > 0 ? k : 1) * 4 * sizeof(long long));
    traces = calloc(k > 0 ? k : 1, sizeof(Words));
    if (runs == NULL || out == NULL || traces == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t first = 0; first < k && !failed; first += GROUP) {
        const int size = (int)(k - first < GROUP ? k - first : GROUP);
        uint32_t *mems[GROUP];
        for (int i = 0; i < size; i++) {
            mems[i] = (uint32_t *)mb.buf + (first + i) * nmem;
            start_run(&runs[i], p, (uint32_t *)sb.buf + (first + i) * SCRATCH_SIZE, mems[i],
                      nmem, 0);
        }
        if (run_lockstep(p, runs, mems, traces + first, size, max_cycles, out + 4 * first) < 0)
            failed = 1;
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyList_New(k);
    if (result == NULL) goto done;
    for (Py_ssize_t i = 0; i < k; i++) {
        PyObject *trace = words_list(&traces[i]);
        if (trace == NULL) goto fail;
        PyObject *item = Py_BuildValue("iKLnN", (int)out[4 * i], (unsigned long long)out[4 * i + 1],
                                       out[4 * i + 2], (Py_ssize_t)out[4 * i + 3], trace);
        if (item == NULL) goto fail;
        PyList_SET_ITEM(result, i, item);
    }
    goto done;
fail:
    Py_CLEAR(result);
done:
    if (traces != NULL)
        for (Py_ssize_t i = 0; i < k; i++) free(traces[i].items);
    free(traces);
    free(out);
    free(runs);
    PyBuffer_Release(&sb);
    PyBuffer_Release(&mb);
    return result;
}

/* words(images, n): the images (lists of n words each) as one writable
 * buffer (a bytearray) of uint32, row after row; None when any is not such a
 * list. */
static PyObject *words(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *images;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, &images, &n)) return NULL;
    Py_ssize_t rows = PyList_GET_SIZE(images);
    if (n < 0 || (rows > 0 && n > PY_SSIZE_T_MAX / 4 / rows)) Py_RETURN_NONE;
    PyObject *out = PyByteArray_FromStringAndSize(NULL, rows * n * (Py_ssize_t)sizeof(uint32_t));
    if (out == NULL) return NULL;
    uint32_t *buf = (uint32_t *)PyByteArray_AS_STRING(out);
    for (Py_ssize_t i = 0; i < rows; i++) {
        PyObject *image = PyList_GET_ITEM(images, i);
        if (!PyList_CheckExact(image) || PyList_GET_SIZE(image) != n
                || !read_words(image, buf + i * n)) {
            Py_DECREF(out);
            Py_RETURN_NONE;
        }
    }
    return out;
}

static PyMethodDef methods[] = {
    {"words", words, METH_VARARGS,
     "words(images, n): lists of n words as one uint32 buffer, or None"},
    {"decode", decode, METH_O,
     "decode(program): the program decoded for run(), or None if it is not plainly valid"},
    {"run", run, METH_VARARGS,
     "run(program, scratch, mem, trace, pc, cycle, pause, max_cycles): "
     "(status, pc, cycle, at), or None"},
    {"run_images", run_images, METH_VARARGS,
     "run_images(program, memory, scratch, max_cycles): every image run from the start, "
     "[(status, pc, cycle, at, trace)]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_core",
    "The fast engine's compiled core (see emu/native.py).", -1, methods,
};

#ifndef SOURCE_ID  /* setup.py's digest of this file and its header */
#define SOURCE_ID "unknown"
#endif

PyMODINIT_FUNC PyInit__core(void) {
    PyObject *mod = PyModule_Create(&module);
    if (mod == NULL || PyModule_AddStringConstant(mod, "TABLE_ID", CORE_TABLE_ID) < 0
            || PyModule_AddStringConstant(mod, "SOURCE_ID", SOURCE_ID) < 0
            || PyModule_AddIntConstant(mod, "SCRATCH_SIZE", SCRATCH_SIZE) < 0)
        return NULL;
    engine_index = PyDict_New();
    if (engine_index == NULL) return NULL;
    for (int e = 0; e < N_ENGINES; e++) {
        op_index[e] = PyDict_New();
        PyObject *v = PyLong_FromLong(e);
        if (op_index[e] == NULL || v == NULL
                || PyDict_SetItemString(engine_index, ENGINE_NAME[e], v) < 0)
            return NULL;
        Py_DECREF(v);
    }
    for (int i = 0; i < N_OPS; i++) {
        PyObject *v = PyLong_FromLong(i);
        if (v == NULL || PyDict_SetItemString(op_index[OP_INFO[i].engine], OP_INFO[i].name, v) < 0)
            return NULL;
        Py_DECREF(v);
    }
    return mod;
}
