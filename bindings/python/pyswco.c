/* Python coroutines on libswco.
 *
 * CPython keeps the state of the running code in the thread state: the
 * current C frame record (cframe, which points at the interpreter frame), the
 * recursion counter, the chunked data stack that holds interpreter frames,
 * the exception being handled, the contextvars context and the trashcan
 * nesting.  A libswco coroutine switch swaps C stacks under the interpreter,
 * so the scheduler hook below saves those fields when a context is left and
 * puts them back when it is entered again; a coroutine entered for the first
 * time gets a fresh set (no frames, empty data stack, no exception, no
 * context), as a new thread would.  The field list is the one greenlet
 * saves for CPython 3.11.
 *
 * Everything here runs with the GIL held: the calls that switch never
 * release it, so the interpreter never sees a half-switched thread state.
 */
#include "pyswco.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030C0000
#error "the swco Python binding saves CPython 3.11 thread state; build it against Python 3.11"
#endif

/* The interpreter frame type is internal in 3.11 (greenlet does the same). */
#define Py_BUILD_CORE 1
#include "internal/pycore_frame.h"
#undef Py_BUILD_CORE

/* Saved interpreter state of one context (a coroutine, or the thread's own
 * context, cid 0).  Fields are meaningful only while the context is not
 * running; the references held then are owned here. */
typedef struct pyco_state {
    struct pyco_state *next, *prev; /* the thread's states, for backtrace() */
    long cid;
    int dead;                       /* coroutine ended: drop its state on leaving */
    _PyCFrame *cframe;
    int recursion_depth;
    _PyStackChunk *datastack_chunk;
    PyObject **datastack_top;
    PyObject **datastack_limit;
    _PyErr_StackItem *exc_info;
    _PyErr_StackItem exc_state;     /* owns exc_value */
    PyObject *context;              /* owned */
    int trash_delete_nesting;
} pyco_state_t;

/* This thread runs Python coroutines: only then does the hook touch the
 * thread state (libswco may run plain C coroutines in other threads). */
static __thread int tls_active;
/* The use_tracing flag the interpreter would compute for this thread now
 * (as _PyThreadState_UpdateTracingState does): a saved C frame record may
 * hold a stale one, and a new coroutine must trace when the thread does, so
 * sys.settrace()/setprofile() (debuggers, coverage) see every coroutine. */
static uint8_t tracing_flag(PyThreadState *ts)
{
    return ts->tracing == 0 && (ts->c_tracefunc || ts->c_profilefunc) ? 255 : 0;
}

static PyObject *exc_error, *exc_timeout, *exc_closed, *exc_cancelled;

/* ------------------------------------------------------------- errors */

PyObject *pyswco_raise(int code)
{
    return pyswco_raise_msg(code, NULL);
}

PyObject *pyswco_raise_msg(int code, const char *message)
{
    PyObject *cls = exc_error;
    if (code == -ECANCELED)
        cls = exc_cancelled;
    else if (code == -ETIMEDOUT)
        cls = exc_timeout;
    else if (code == SWCO_ECLOSED)
        cls = exc_closed;
    PyObject *exc = PyObject_CallFunction(cls, "s", message ? message : swco_strerror(code));
    if (!exc)
        return NULL;
    PyObject *c = PyLong_FromLong(code);
    PyObject *n = PyUnicode_FromString(swco_err_name(code));
    if (c && n && PyObject_SetAttrString(exc, "code", c) == 0 &&
        PyObject_SetAttrString(exc, "name", n) == 0)
        PyErr_SetObject(cls, exc);
    Py_XDECREF(c);
    Py_XDECREF(n);
    Py_DECREF(exc);
    return NULL;
}

/* An exception escaped a callback the Python layer should have wrapped:
 * report it with its traceback and go on (it must not cross into whatever
 * coroutine runs next). */
static void report_unhandled(const char *where)
{
    if (exc_cancelled && PyErr_ExceptionMatches(exc_cancelled)) {
        PyErr_Clear();
        return;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value)
        PyException_SetTraceback(value, tb);
    PySys_WriteStderr("swco: unhandled exception in %s (coroutine %ld):\n", where,
                      swco_coroutine_id());
    PyErr_Display(type, value, tb);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* ------------------------------------------------------ state switching */

/* Root chunks of the frame data stack of ended coroutines, kept for the
 * next new ones: each would otherwise cost an mmap and a munmap. */
#define CHUNK_CACHE_MAX 64
static __thread _PyStackChunk *chunk_cache[CHUNK_CACHE_MAX];
static __thread int chunk_cached;

static void free_datastack(_PyStackChunk *chunk)
{
    PyObjectArenaAllocator arena;
    PyObject_GetArenaAllocator(&arena);
    while (chunk) {
        _PyStackChunk *prev = chunk->previous;
        if (!prev && chunk_cached < CHUNK_CACHE_MAX)
            chunk_cache[chunk_cached++] = chunk;
        else
            arena.free(arena.ctx, chunk, chunk->size);
        chunk = prev;
    }
}

static void save_state(PyThreadState *ts, pyco_state_t *st)
{
    st->cframe = ts->cframe;
    st->recursion_depth = ts->recursion_limit - ts->recursion_remaining;
    st->datastack_chunk = ts->datastack_chunk;
    st->datastack_top = ts->datastack_top;
    st->datastack_limit = ts->datastack_limit;
    st->exc_info = ts->exc_info;
    st->exc_state = ts->exc_state;
    ts->exc_state.exc_value = NULL;
    ts->exc_state.previous_item = NULL;
    st->context = ts->context;
    ts->context = NULL;
    st->trash_delete_nesting = ts->trash_delete_nesting;
}

static void restore_state(PyThreadState *ts, pyco_state_t *st)
{
    ts->cframe = st->cframe;
    ts->recursion_remaining = ts->recursion_limit - st->recursion_depth;
    ts->datastack_chunk = st->datastack_chunk;
    ts->datastack_top = st->datastack_top;
    ts->datastack_limit = st->datastack_limit;
    ts->exc_state = st->exc_state;
    ts->exc_info = st->exc_info ? st->exc_info : &ts->exc_state;
    st->exc_state.exc_value = NULL;
    ts->context = st->context;
    st->context = NULL;
    ts->context_ver++; /* contextvars caches the last lookup: invalidate it */
    ts->trash_delete_nesting = st->trash_delete_nesting;
}

/* A coroutine's first entry: a thread state with nothing running.  The
 * coroutine's entry function replaces root_cframe with a record on its own
 * stack before it calls Python. */
static void fresh_state(PyThreadState *ts)
{
    ts->cframe = &ts->root_cframe;
    ts->recursion_remaining = ts->recursion_limit;
    if (chunk_cached > 0) {
        /* As CPython sets up a root chunk: its first slot stays unused so
         * that popping the bottom frame never frees the chunk. */
        _PyStackChunk *chunk = chunk_cache[--chunk_cached];
        chunk->previous = NULL;
        chunk->top = 0;
        ts->datastack_chunk = chunk;
        ts->datastack_top = &chunk->data[1];
        ts->datastack_limit = (PyObject **)((char *)chunk + chunk->size);
    } else {
        ts->datastack_chunk = NULL; /* the first call allocates a root chunk */
        ts->datastack_top = NULL;
        ts->datastack_limit = NULL;
    }
    ts->exc_state.exc_value = NULL;
    ts->exc_state.previous_item = NULL;
    ts->exc_info = &ts->exc_state;
    ts->context = NULL;
    ts->context_ver++;
    ts->trash_delete_nesting = 0;
}

/* The ended coroutine's state is live in ts: release what it owns before
 * the next context's state overwrites it. */
static void drop_live_state(PyThreadState *ts)
{
    Py_CLEAR(ts->context);
    Py_CLEAR(ts->exc_state.exc_value);
    free_datastack(ts->datastack_chunk);
    ts->datastack_chunk = NULL;
    ts->datastack_top = NULL;
    ts->datastack_limit = NULL;
}

static __thread pyco_state_t *tls_states;

static pyco_state_t *state_new(long cid)
{
    pyco_state_t *st = calloc(1, sizeof *st);
    if (!st)
        Py_FatalError("swco: out of memory saving interpreter state");
    st->cid = cid;
    st->next = tls_states;
    if (tls_states)
        tls_states->prev = st;
    tls_states = st;
    return st;
}

static void state_free(pyco_state_t *st)
{
    if (!st)
        return;
    if (st->prev)
        st->prev->next = st->next;
    else
        tls_states = st->next;
    if (st->next)
        st->next->prev = st->prev;
    free(st);
}

/* While swco.run() (or swco.wait()) drives the loop, the thread's own
 * context runs only the event loop, so it gives the GIL up there: other
 * Python threads run while this one waits in epoll.  The GIL is taken back
 * whenever that context is left for a coroutine, or the loop calls into
 * Python (timer callbacks, releasing a callable). */
static __thread int tls_in_loop;
static __thread PyThreadState *tls_released; /* non-NULL: GIL given up */
static __thread int tls_hold;                /* Python runs in the loop context */
static __thread PyObject *tls_on_signal;     /* called when a signal handler raised */

static void gil_take(void)
{
    if (tls_released) {
        PyThreadState *ts = tls_released;
        tls_released = NULL;
        PyEval_RestoreThread(ts);
    }
}

static void gil_give(void)
{
    if (tls_in_loop && !tls_hold && !tls_released)
        tls_released = PyEval_SaveThread();
}

static void pyswco_hook(int event, long cid, void **slot, void *arg)
{
    (void)arg;
    if (!tls_active)
        return;
    pyco_state_t *st = *slot;
    PyThreadState *ts;
    switch (event) {
    case SWCO_COROUTINE_SWITCH_OUT:
        if (cid == 0)
            gil_take();
        ts = PyThreadState_Get();
        if (st && st->dead) {
            drop_live_state(ts);
            state_free(st);
            *slot = NULL;
            return;
        }
        if (!st)
            *slot = st = state_new(cid);
        save_state(ts, st);
        break;
    case SWCO_COROUTINE_SWITCH_IN:
        ts = PyThreadState_Get();
        if (st) {
            restore_state(ts, st);
            if (ts->cframe != &ts->root_cframe)
                ts->cframe->use_tracing = tracing_flag(ts);
        } else if (cid != 0) {
            *slot = state_new(cid);
            fresh_state(ts);
        } /* else: the thread's context was never left under the hook */
        if (cid == 0)
            gil_give();
        break;
    case SWCO_COROUTINE_END:
        if (cid == 0) {
            state_free(st);
            *slot = NULL;
        } else if (st) {
            st->dead = 1;
        }
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------- coroutine entry */

/* arg_free for callables and item_free for channel values; the loop may
 * call it (a one-shot timer is done) while the GIL is given up, a pool
 * thread (an abandoned AIO job) without it. */
void pyswco_decref(void *obj)
{
    if (tls_released) {
        gil_take();
        Py_DECREF((PyObject *)obj);
        gil_give();
    } else if (!PyGILState_Check()) {
        PyGILState_STATE g = PyGILState_Ensure();
        Py_DECREF((PyObject *)obj);
        PyGILState_Release(g);
    } else {
        Py_DECREF((PyObject *)obj);
    }
}
#define py_decref pyswco_decref

int pyswco_in_coroutine(void)
{
    return swco_coroutine_id() > 0;
}

static pid_t after_fork_pid; /* the process that ran PyOS_AfterFork_Child */

void pyswco_child_enter(void)
{
    pid_t me = getpid();
    if (after_fork_pid != me) {
        after_fork_pid = me;
        PyOS_AfterFork_Child();
    }
}

void pyswco_report(const char *where)
{
    report_unhandled(where);
}

static pid_t server_pid; /* the process running swco_server_start, 0 none */

void pyswco_server_begin(void)
{
    server_pid = getpid();
    /* the server's coroutines run Python: switch interpreter state for
     * them as for swco.go's */
    tls_active = 1;
}

int pyswco_server_end(void)
{
    int forked = server_pid && getpid() != server_pid;
    if (forked)
        pyswco_child_enter();
    server_pid = 0;
    return forked;
}

int pyswco_server_enter(void)
{
    if (server_pid && getpid() != server_pid)
        pyswco_child_enter();
    /* the server keeps the lock in its processes' main threads: a thread
     * without it is one of the C library's own */
    return PyGILState_Check();
}

void pyswco_call(PyObject *fn, const char *fmt, int forked, ...)
{
    /* 1: taken back from the loop; 2: a thread without it */
    int how = 0;
    PyGILState_STATE g = PyGILState_UNLOCKED;
    if (forked) {
        how = 0;
    } else if (tls_released) {
        gil_take();
        how = 1;
    } else if (!PyGILState_Check()) {
        g = PyGILState_Ensure();
        how = 2;
    }
    /* Python code on the loop's context: a coroutine it starts and that
     * comes back must not give the GIL up under it */
    int hold = how != 2 && !pyswco_in_coroutine();
    if (hold)
        tls_hold++;
    /* A coroutine that C code created (a server's handler, not swco.go's
     * pyco_entry) enters Python on the thread's root C frame record, which
     * every such coroutine would share: give it one on its own stack, as
     * pyco_entry does, for the duration of the call. */
    PyThreadState *ts = PyThreadState_Get();
    _PyCFrame base;
    int own_cframe = ts->cframe == &ts->root_cframe && pyswco_in_coroutine();
    if (own_cframe) {
        base.use_tracing = tracing_flag(ts);
        base.current_frame = NULL;
        base.previous = &ts->root_cframe;
        ts->cframe = &base;
    }
    PyObject *args = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, forked);
        args = Py_VaBuildValue(fmt, ap);
        va_end(ap);
    }
    PyObject *r = !fmt || args ? PyObject_CallObject(fn, args) : NULL;
    Py_XDECREF(args);
    if (r)
        Py_DECREF(r);
    else
        report_unhandled(forked ? "child process" : "callback");
    if (own_cframe)
        ts->cframe = &ts->root_cframe; /* base dies with this call */
    if (hold)
        tls_hold--;
    if (how == 1)
        gil_give();
    else if (how == 2)
        PyGILState_Release(g);
}

/* Body of every Python coroutine: call fn() on a fresh C frame record. */
static void pyco_entry(void *arg)
{
    PyObject *fn = arg;
    PyThreadState *ts = PyThreadState_Get();
    _PyCFrame base;
    base.use_tracing = tracing_flag(ts);
    base.current_frame = NULL; /* tracebacks end at this coroutine's entry */
    base.previous = &ts->root_cframe;
    ts->cframe = &base;
    PyObject *r = PyObject_CallObject(fn, NULL);
    if (r)
        Py_DECREF(r);
    else
        report_unhandled("coroutine");
    ts->cframe = &ts->root_cframe; /* base dies with this function */
}

static long start_coroutine(PyObject *fn)
{
    tls_active = 1;
    Py_INCREF(fn);
    /* 0 (the default size, pooled by the scheduler) once that is big enough */
    size_t stack = swco_coroutine_get_stack_size() >= PYSWCO_STACK_SIZE ? 0 : PYSWCO_STACK_SIZE;
    long cid = swco_coroutine_create_ex(pyco_entry, fn, py_decref, stack);
    if (cid < 0)
        Py_DECREF(fn);
    return cid;
}

PyObject *pyswco_go(PyObject *fn)
{
    if (!PyCallable_Check(fn))
        return pyswco_raise(-EINVAL);
    long cid = start_coroutine(fn);
    if (cid < 0)
        return pyswco_raise((int)cid);
    return PyLong_FromLong(cid);
}

/* swco_run's first coroutine has the default C stack: it only starts the
 * Python one, with a big stack, and ends. */
typedef struct run_arg {
    PyObject *fn;
    long rc;
} run_arg_t;

/* End of every loop turn: run Python's signal handlers (a wait interrupted
 * by SIGINT ends its turn early).  When one raises (KeyboardInterrupt),
 * on_signal(exc) stops the loop: it cancels every coroutine and timer, and
 * run() re-raises exc. */
static void loop_cycle(void *arg)
{
    (void)arg;
    if (!tls_on_signal)
        return;
    gil_take();
    tls_hold++;
    if (PyErr_CheckSignals() < 0) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (tb && value)
            PyException_SetTraceback(value, tb);
        PyObject *r = PyObject_CallFunctionObjArgs(tls_on_signal, value ? value : Py_None, NULL);
        if (r)
            Py_DECREF(r);
        else
            report_unhandled("signal handler");
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
    }
    tls_hold--;
    gil_give();
}

/* Drive the loop with the GIL given up and signals checked every turn. */
static int drive_loop(int (*loop)(void *), void *arg, PyObject *on_signal)
{
    int outer = tls_in_loop;
    PyObject *outer_sig = tls_on_signal;
    tls_active = 1;
    tls_in_loop = 1;
    tls_on_signal = on_signal;
    swco_event_cycle(loop_cycle, NULL, NULL);
    int rc = loop(arg); /* frees the thread's loop, cycle callback included */
    gil_take();
    tls_in_loop = outer;
    tls_on_signal = outer_sig;
    return rc;
}

static void run_main(void *arg)
{
    run_arg_t *ra = arg;
    ra->rc = start_coroutine(ra->fn);
}

static int run_loop(void *arg)
{
    return swco_run(run_main, arg);
}

static int wait_loop(void *arg)
{
    (void)arg;
    return swco_event_wait();
}

PyObject *pyswco_run(PyObject *fn, PyObject *on_signal)
{
    if (!PyCallable_Check(fn) || !PyCallable_Check(on_signal))
        return pyswco_raise(-EINVAL);
    if (pyswco_in_coroutine())
        return pyswco_raise(SWCO_ECOSTATE);
    run_arg_t ra = {fn, 0};
    int rc = drive_loop(run_loop, &ra, on_signal);
    if (ra.rc < 0)
        return pyswco_raise((int)ra.rc);
    if (rc < 0)
        return pyswco_raise(rc);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

PyObject *pyswco_wait(PyObject *on_signal)
{
    if (!PyCallable_Check(on_signal))
        return pyswco_raise(-EINVAL);
    if (pyswco_in_coroutine())
        return pyswco_raise(SWCO_ECOSTATE);
    int rc = drive_loop(wait_loop, NULL, on_signal);
    if (rc < 0)
        return pyswco_raise(rc);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------ arguments */
/* Arguments of a METH_FASTCALL | METH_KEYWORDS call, by position and then
 * by name: out[i] gets names[i]'s (borrowed), or NULL when it was not given;
 * the first `required` must be.  0, or -1 with TypeError set. */
static int unpack_args(const char *fname, const char *const names[], int n, int required,
                       PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                       PyObject **out)
{
    if (nargs > n) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d argument%s (%zd given)", fname, n,
                     n == 1 ? "" : "s", nargs);
        return -1;
    }
    for (int i = 0; i < n; i++)
        out[i] = i < nargs ? args[i] : NULL;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        int i = 0;
        while (i < n && PyUnicode_CompareWithASCIIString(key, names[i]) != 0)
            i++;
        if (i == n) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname,
                         key);
            return -1;
        }
        if (out[i]) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname,
                         names[i]);
            return -1;
        }
        out[i] = args[nargs + k];
    }
    for (int i = 0; i < required; i++) {
        if (!out[i]) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, names[i]);
            return -1;
        }
    }
    return 0;
}

#define FOREVER (-1.0) /* swco.FOREVER */

/* float(obj) as a timeout; FOREVER when not given. */
static int timeout_arg(PyObject *obj, double *timeout)
{
    if (!obj) {
        *timeout = FOREVER;
        return 0;
    }
    if (PyFloat_CheckExact(obj)) {
        *timeout = PyFloat_AS_DOUBLE(obj);
        return 0;
    }
    PyObject *f = PyNumber_Float(obj);
    if (!f)
        return -1;
    *timeout = PyFloat_AS_DOUBLE(f);
    Py_DECREF(f);
    return 0;
}

/* ------------------------------------------------------------- channels */

static swco_channel_t *pyswco_channel_new(long capacity)
{
    swco_channel_t *chan = swco_channel_new_ex(capacity, py_decref);
    if (!chan)
        pyswco_raise(swco_last_error());
    return chan;
}

static PyObject *pyswco_channel_push(swco_channel_t *chan, PyObject *value, double timeout)
{
    Py_INCREF(value); /* the channel's reference, until popped or freed */
    int rc = swco_channel_push(chan, value, timeout);
    if (rc < 0) {
        Py_DECREF(value);
        return pyswco_raise(rc);
    }
    Py_RETURN_NONE;
}

static PyObject *pyswco_channel_pop(swco_channel_t *chan, double timeout)
{
    void *value = NULL;
    int rc = swco_channel_pop(chan, &value, timeout);
    if (rc < 0)
        return pyswco_raise(rc);
    return value; /* the channel's reference becomes the caller's */
}

/* swco.Channel is a C type, so that push() and pop() are one C call from
 * Python.  chan is NULL until __init__ runs (a subclass may skip it); every
 * call then fails as libswco does for a NULL channel, with -EINVAL.  Not
 * GC-tracked: buffered values cannot be visited through libswco's API. */
typedef struct {
    PyObject_HEAD
    swco_channel_t *chan;
    PyObject *weakrefs;
} channel_object;

#define CHAN(op) (((channel_object *)(op))->chan)

static int channel_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"capacity", NULL};
    PyObject *cap = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Channel", kwlist, &cap))
        return -1;
    long capacity = 0;
    if (cap) {
        if (!PyLong_Check(cap)) {
            PyErr_SetString(PyExc_TypeError, "capacity must be an int");
            return -1;
        }
        capacity = PyLong_AsLong(cap);
        if (capacity == -1 && PyErr_Occurred())
            return -1;
    }
    swco_channel_t *chan = pyswco_channel_new(capacity);
    if (!chan)
        return -1;
    /* __init__ again: the old channel is closed (its waiters wake with
     * ClosedError) and its values released, after the new one is in place */
    swco_channel_t *old = CHAN(op);
    CHAN(op) = chan;
    if (old)
        swco_channel_free(old);
    return 0;
}

static void channel_dealloc(PyObject *op)
{
    channel_object *self = (channel_object *)op;
    if (self->weakrefs)
        PyObject_ClearWeakRefs(op);
    swco_channel_t *chan = self->chan;
    self->chan = NULL;
    if (chan)
        swco_channel_free(chan); /* releases buffered values */
    Py_TYPE(op)->tp_free(op);
}

static PyObject *channel_push(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
    static const char *const names[] = {"value", "timeout"};
    PyObject *arg[2];
    double timeout;
    if (unpack_args("Channel.push", names, 2, 1, args, nargs, kwnames, arg) < 0 ||
        timeout_arg(arg[1], &timeout) < 0)
        return NULL;
    return pyswco_channel_push(CHAN(op), arg[0], timeout);
}

static PyObject *channel_pop(PyObject *op, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames)
{
    static const char *const names[] = {"timeout"};
    PyObject *arg[1];
    double timeout;
    if (unpack_args("Channel.pop", names, 1, 0, args, nargs, kwnames, arg) < 0 ||
        timeout_arg(arg[0], &timeout) < 0)
        return NULL;
    return pyswco_channel_pop(CHAN(op), timeout);
}

static PyObject *channel_close(PyObject *op, PyObject *unused)
{
    int rc = swco_channel_close(CHAN(op));
    if (rc == SWCO_ECLOSED)
        Py_RETURN_FALSE;
    if (rc < 0)
        return pyswco_raise(rc);
    Py_RETURN_TRUE;
}

/* A count, or the negative code it is instead. */
static PyObject *count_result(long n)
{
    return n < 0 ? pyswco_raise((int)n) : PyLong_FromLong(n);
}

static PyObject *channel_get_closed(PyObject *op, void *unused)
{
    int rc = swco_channel_is_closed(CHAN(op));
    return rc < 0 ? pyswco_raise(rc) : PyBool_FromLong(rc);
}

static PyObject *channel_get_capacity(PyObject *op, void *unused)
{
    return count_result(swco_channel_capacity(CHAN(op)));
}

static PyObject *channel_get_producers(PyObject *op, void *unused)
{
    return count_result(swco_channel_producers(CHAN(op)));
}

static PyObject *channel_get_consumers(PyObject *op, void *unused)
{
    return count_result(swco_channel_consumers(CHAN(op)));
}

static Py_ssize_t channel_length(PyObject *op)
{
    long n = swco_channel_length(CHAN(op));
    if (n < 0) {
        pyswco_raise((int)n);
        return -1;
    }
    return n;
}

/* iter(channel): pops until the channel is closed and drained.  Like the
 * generator it replaces, it is finished once a pop raised. */
typedef struct {
    PyObject_HEAD
    PyObject *channel; /* NULL once finished */
} channel_iter_object;

static PyObject *channel_iter_next(PyObject *op)
{
    channel_iter_object *it = (channel_iter_object *)op;
    PyObject *channel = it->channel;
    if (!channel)
        return NULL;
    Py_INCREF(channel); /* another next() may finish the iterator meanwhile */
    PyObject *value = pyswco_channel_pop(CHAN(channel), FOREVER);
    if (!value) {
        if (PyErr_ExceptionMatches(exc_closed))
            PyErr_Clear();
        Py_CLEAR(it->channel);
    }
    Py_DECREF(channel);
    return value;
}

static void channel_iter_dealloc(PyObject *op)
{
    Py_XDECREF(((channel_iter_object *)op)->channel);
    PyObject_Free(op);
}

static PyTypeObject channel_iter_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "swco.ChannelIterator",
    .tp_basicsize = sizeof(channel_iter_object),
    .tp_dealloc = channel_iter_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Iterator over a Channel's values until it is closed and drained.",
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = channel_iter_next,
};

static PyObject *channel_iter(PyObject *op)
{
    channel_iter_object *it = PyObject_New(channel_iter_object, &channel_iter_type);
    if (!it)
        return NULL;
    Py_INCREF(op);
    it->channel = op;
    return (PyObject *)it;
}

static PyMethodDef channel_methods[] = {
    {"push", (PyCFunction)(void (*)(void))channel_push, METH_FASTCALL | METH_KEYWORDS,
     "push($self, /, value, timeout=-1.0)\n--\n\n"
     "Send value, waiting up to timeout seconds while the channel is full.\n\n"
     "Raises swco.TimeoutError, swco.ClosedError (closed before or while\n"
     "waiting), CancelledError, or swco.Error (SWCO_ENOTCO) when it would\n"
     "have to wait outside a coroutine."},
    {"pop", (PyCFunction)(void (*)(void))channel_pop, METH_FASTCALL | METH_KEYWORDS,
     "pop($self, /, timeout=-1.0)\n--\n\n"
     "Receive the oldest value, waiting up to timeout seconds.\n\n"
     "A closed channel still gives its buffered values, then raises\n"
     "swco.ClosedError.  Raises swco.TimeoutError, CancelledError, or\n"
     "swco.Error (SWCO_ENOTCO) as push() does."},
    {"close", channel_close, METH_NOARGS,
     "close($self, /)\n--\n\n"
     "Close the channel: waiters wake with ClosedError.\n\n"
     "Returns False when it was already closed, True otherwise."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef channel_getset[] = {
    {"closed", channel_get_closed, NULL, "True once close() was called.", NULL},
    {"capacity", channel_get_capacity, NULL, "The capacity given at creation.", NULL},
    {"producers", channel_get_producers, NULL, "Number of coroutines waiting to push.", NULL},
    {"consumers", channel_get_consumers, NULL, "Number of coroutines waiting to pop.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods channel_as_sequence = {
    .sq_length = channel_length,
};

static PyTypeObject channel_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "swco.Channel",
    .tp_basicsize = sizeof(channel_object),
    .tp_dealloc = channel_dealloc,
    .tp_as_sequence = &channel_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Channel(capacity=0)\n--\n\n"
              "A bounded channel of Python objects between coroutines of a thread.\n\n"
              "Channel(capacity): capacity values are buffered (0: unbuffered, push\n"
              "waits for a popper).  A wake runs the woken coroutine at once, except\n"
              "unbuffered: there push and pop meet as in Go, the caller goes on and\n"
              "the other side runs when the caller next waits or yields.  The\n"
              "channel holds a reference to each value it buffers.  Timeouts are\n"
              "seconds; a negative or zero timeout waits for ever.  Raises\n"
              "swco.Error with code -EINVAL for a negative capacity.",
    .tp_weaklistoffset = offsetof(channel_object, weakrefs),
    .tp_iter = channel_iter,
    .tp_methods = channel_methods,
    .tp_getset = channel_getset,
    .tp_init = channel_init,
    .tp_new = PyType_GenericNew,
};

/* ------------------------------------------------------- yield, resume */

/* swco.yield_() and swco.resume(): C functions, as Channel's methods are,
 * so that a switch costs no Python frame. */
static PyObject *py_yield(PyObject *module, PyObject *unused)
{
    int rc = swco_coroutine_yield();
    if (rc < 0)
        return pyswco_raise(rc);
    Py_RETURN_NONE;
}

static PyObject *py_resume(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    static const char *const names[] = {"cid"};
    PyObject *arg[1];
    if (unpack_args("resume", names, 1, 1, args, nargs, kwnames, arg) < 0)
        return NULL;
    long cid = PyLong_AsLong(arg[0]);
    if (cid == -1 && PyErr_Occurred())
        return NULL;
    int rc = swco_coroutine_resume(cid);
    if (rc < 0)
        return pyswco_raise(rc);
    Py_RETURN_NONE;
}

static PyMethodDef module_functions[] = {
    {"yield_", py_yield, METH_NOARGS,
     "yield_()\n--\n\n"
     "Suspend the current coroutine until swco.resume(its cid).\n\n"
     "Raises CancelledError when cancelled instead."},
    {"resume", (PyCFunction)(void (*)(void))py_resume, METH_FASTCALL | METH_KEYWORDS,
     "resume(cid)\n--\n\n"
     "Resume coroutine cid suspended by swco.yield_(); runs it at once."},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------ introspection */

/* Where a coroutine is: its Python frames, outermost first, as
 * (filename, lineno, name) tuples.  A suspended coroutine's frames are read
 * from the state saved when it was left. */
PyObject *pyswco_backtrace(long cid)
{
    PyThreadState *ts = PyThreadState_Get();
    _PyInterpreterFrame *f = NULL;
    if (cid == swco_coroutine_id()) {
        f = ts->cframe->current_frame;
    } else {
        pyco_state_t *st = tls_states;
        while (st && (st->cid != cid || st->dead))
            st = st->next;
        if (!st) {
            if (cid <= 0 || swco_coroutine_exists(cid))
                return PyList_New(0); /* alive, never ran Python here */
            return pyswco_raise(SWCO_ENOCO);
        }
        f = st->cframe ? st->cframe->current_frame : NULL;
    }
    PyObject *list = PyList_New(0);
    for (; list && f; f = f->previous) {
        if (_PyFrame_IsIncomplete(f))
            continue;
        PyCodeObject *code = f->f_code;
        int line = PyCode_Addr2Line(code, _PyInterpreterFrame_LASTI(f) * (int)sizeof(_Py_CODEUNIT));
        PyObject *item = Py_BuildValue("(OiO)", code->co_filename, line, code->co_name);
        if (!item || PyList_Insert(list, 0, item) < 0)
            Py_CLEAR(list);
        Py_XDECREF(item);
    }
    return list;
}

/* --------------------------------------------------------------- module */

static PyObject *new_exception(PyObject *dict, const char *name, PyObject *bases, const char *doc)
{
    PyObject *cls = PyErr_NewExceptionWithDoc(name, doc, bases, NULL);
    Py_XDECREF(bases);
    if (!cls)
        return NULL;
    const char *dot = strrchr(name, '.');
    if (PyDict_SetItemString(dict, dot ? dot + 1 : name, cls) < 0) {
        Py_DECREF(cls);
        return NULL;
    }
    return cls;
}

int pyswco_module_init(PyObject *dict)
{
    /* The thread-state layout is that of the minor version we were built
     * for: refuse any other. */
    int major = 0, minor = 0;
    if (sscanf(Py_GetVersion(), "%d.%d", &major, &minor) != 2 || major != PY_MAJOR_VERSION ||
        minor != PY_MINOR_VERSION) {
        PyErr_Format(PyExc_ImportError,
                     "swco was built for CPython %d.%d and cannot load into Python %d.%d; "
                     "rebuild libswco with configure PYTHON=<this interpreter>",
                     PY_MAJOR_VERSION, PY_MINOR_VERSION, major, minor);
        return -1;
    }
    exc_error = new_exception(dict, "swco.Error", NULL,
                              "A libswco call failed; .code is the negative error code "
                              "(-errno or SWCO_E*), .name its symbolic name.");
    if (!exc_error)
        return -1;
    exc_timeout = new_exception(dict, "swco.TimeoutError",
                                PyTuple_Pack(2, exc_error, PyExc_TimeoutError),
                                "A wait ran out of time (code -ETIMEDOUT).");
    exc_closed = new_exception(dict, "swco.ClosedError", PyTuple_Pack(1, exc_error),
                               "The channel or object is closed (code SWCO_ECLOSED).");
    exc_cancelled = new_exception(
        dict, "swco.CancelledError", PyTuple_Pack(1, PyExc_BaseException),
        "The coroutine was cancelled (code -ECANCELED); it should unwind.  Derives from "
        "BaseException so that 'except Exception' does not stop the unwinding.");
    if (!exc_timeout || !exc_closed || !exc_cancelled)
        return -1;
    /* Channel and the switching functions, named as in swco (which
     * exports them) */
    if (PyType_Ready(&channel_type) < 0 || PyType_Ready(&channel_iter_type) < 0 ||
        PyDict_SetItemString(dict, "Channel", (PyObject *)&channel_type) < 0)
        return -1;
    PyObject *modname = PyUnicode_FromString("swco");
    if (!modname)
        return -1;
    for (PyMethodDef *def = module_functions; def->ml_name; def++) {
        PyObject *fn = PyCFunction_NewEx(def, NULL, modname);
        if (!fn || PyDict_SetItemString(dict, def->ml_name, fn) < 0) {
            Py_XDECREF(fn);
            Py_DECREF(modname);
            return -1;
        }
        Py_DECREF(fn);
    }
    Py_DECREF(modname);
    /* Python coroutines need big stacks; make that the default so that the
     * scheduler pools them (only default-sized stacks are reused). */
    if (swco_coroutine_get_stack_size() < PYSWCO_STACK_SIZE)
        swco_coroutine_set_stack_size(PYSWCO_STACK_SIZE);
    int rc = swco_coroutine_set_hook(pyswco_hook, NULL, NULL);
    if (rc < 0) {
        PyErr_Format(PyExc_ImportError,
                     "swco: cannot install the coroutine hook (%s): import swco before "
                     "any coroutine exists",
                     swco_strerror(rc));
        return -1;
    }
    return 0;
}

/* --------------------------------------------------------------- select */

/* The ClosedError of a select, naming the closed channel in .channel. */
static PyObject *raise_closed_channel(PyObject *channel)
{
    pyswco_raise(SWCO_ECLOSED);
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && PyObject_SetAttrString(value, "channel", channel) < 0)
        PyErr_Clear();
    PyErr_Restore(type, value, tb);
    return NULL;
}

/* swco.select(): one swco_select_t over Channel objects.  Each case holds a
 * reference to its Channel (and a push case to its value) until the select
 * returns; the value of the push case that completed becomes its channel's
 * reference, as in pyswco_channel_push().  Returns (channel, value) (value
 * None for a push case), None when block is 0 and no case is ready, or NULL
 * with ClosedError (.channel set), TimeoutError, CancelledError, swco.Error,
 * TypeError or ValueError. */
PyObject *pyswco_select(PyObject *pops, PyObject *pushes, double timeout, int block)
{
    PyObject *popseq = NULL, *pushseq = NULL, *result = NULL;
    PyObject **chans = NULL, **vals = NULL;
    swco_select_t *sel = NULL;
    Py_ssize_t n = 0, npop = 0;

    popseq = PySequence_Fast(pops, "select(): pop must be an iterable of Channel");
    if (!popseq)
        goto out;
    pushseq = PySequence_Fast(pushes, "select(): push must be an iterable of (Channel, value)");
    if (!pushseq)
        goto out;
    npop = PySequence_Fast_GET_SIZE(popseq);
    Py_ssize_t npush = PySequence_Fast_GET_SIZE(pushseq);
    if (npop + npush == 0) {
        PyErr_SetString(PyExc_ValueError, "select() needs at least one pop or push case");
        goto out;
    }
    if (npop + npush > INT_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "select(): too many cases");
        goto out;
    }
    chans = PyMem_Calloc((size_t)(npop + npush), sizeof *chans);
    vals = PyMem_Calloc((size_t)(npop + npush), sizeof *vals);
    if (!chans || !vals) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < npop; i++, n++) {
        PyObject *ch = PySequence_Fast_GET_ITEM(popseq, i);
        if (!PyObject_TypeCheck(ch, &channel_type)) {
            PyErr_Format(PyExc_TypeError, "select(): pop[%zd] is %.100s, not a Channel", i,
                         Py_TYPE(ch)->tp_name);
            goto out;
        }
        Py_INCREF(ch);
        chans[n] = ch;
    }
    for (Py_ssize_t i = 0; i < npush; i++, n++) {
        PyObject *pair = PySequence_Fast(PySequence_Fast_GET_ITEM(pushseq, i), "");
        if (!pair || PySequence_Fast_GET_SIZE(pair) != 2 ||
            !PyObject_TypeCheck(PySequence_Fast_GET_ITEM(pair, 0), &channel_type)) {
            Py_XDECREF(pair);
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "select(): push[%zd] is not a (Channel, value) pair", i);
            goto out;
        }
        chans[n] = PySequence_Fast_GET_ITEM(pair, 0);
        vals[n] = PySequence_Fast_GET_ITEM(pair, 1);
        Py_INCREF(chans[n]);
        Py_INCREF(vals[n]); /* the channel's, if this case completes */
        Py_DECREF(pair);
    }
    sel = swco_select_new();
    if (!sel) {
        pyswco_raise(swco_last_error());
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int rc = i < npop ? swco_select_add_pop(sel, CHAN(chans[i]))
                          : swco_select_add_push(sel, CHAN(chans[i]), vals[i]);
        if (rc < 0) {
            pyswco_raise(rc);
            goto out;
        }
    }
    int k = block ? swco_select_wait(sel, timeout) : swco_select_try(sel);
    if (k == -EAGAIN && !block) {
        result = Py_NewRef(Py_None);
    } else if (k == SWCO_ECLOSED || (k >= 0 && swco_select_closed(sel) == 1)) {
        raise_closed_channel(chans[swco_select_index(sel)]);
    } else if (k < 0) {
        pyswco_raise(k);
    } else if (k >= npop) {
        vals[k] = NULL; /* now its channel's (or its popper's) reference */
        result = PyTuple_Pack(2, chans[k], Py_None);
    } else {
        PyObject *value = swco_select_value(sel); /* the channel's reference, now ours */
        result = PyTuple_Pack(2, chans[k], value);
        Py_DECREF(value);
    }
out:
    swco_select_free(sel);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_XDECREF(vals[i]);
        Py_DECREF(chans[i]);
    }
    PyMem_Free(chans);
    PyMem_Free(vals);
    Py_XDECREF(popseq);
    Py_XDECREF(pushseq);
    return result;
}
