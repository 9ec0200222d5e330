/* Python side of the shared-memory and process calls: Table rows as dicts,
 * byte buffers for the IPC calls, and the fork-aware trampolines of
 * Process and ProcessPool.
 *
 * libswco forks inside swco_process_start() and swco_pool_start().  The
 * forking thread holds the GIL (no wrapper releases it), PyOS_BeforeFork()
 * runs before and PyOS_AfterFork_Parent() after, and the first trampoline
 * that runs in a new child calls PyOS_AfterFork_Child() before any Python
 * code, as os.fork() does.  The child then leaves through libswco's own
 * path (_exit after the callbacks), or earlier through os._exit() in swco.py.
 */
#include "pyswco.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void decref(void *obj)
{
    Py_DECREF((PyObject *)obj);
}

/* ---------------------------------------------------------------- table */

static PyObject *table_value(swco_table_row_t *row, const char *col, int type)
{
    if (type == SWCO_TABLE_INT) {
        int64_t v = 0;
        int rc = swco_table_row_get_int(row, col, &v);
        return rc < 0 ? pyswco_raise(rc) : PyLong_FromLongLong((long long)v);
    }
    if (type == SWCO_TABLE_DOUBLE) {
        double v = 0;
        int rc = swco_table_row_get_double(row, col, &v);
        return rc < 0 ? pyswco_raise(rc) : PyFloat_FromDouble(v);
    }
    size_t cap = 256;
    for (;;) {
        char *buf = PyMem_Malloc(cap);
        if (!buf)
            return PyErr_NoMemory();
        long n = swco_table_row_get_string(row, col, buf, cap);
        if (n >= 0) {
            PyObject *s = PyUnicode_DecodeUTF8(buf, n, "surrogateescape");
            PyMem_Free(buf);
            return s;
        }
        PyMem_Free(buf);
        if (n != -ENOSPC)
            return pyswco_raise((int)n);
        cap *= 2;
    }
}

/* Every column of the row buffer as a dict. */
static PyObject *row_dict(swco_table_t *t, swco_table_row_t *row)
{
    PyObject *result = PyDict_New();
    int n = swco_table_column_count(t);
    for (int i = 0; result && i < n; i++) {
        const char *col = swco_table_column_name(t, i);
        PyObject *v = table_value(row, col, swco_table_column_type(t, col));
        if (!v || PyDict_SetItemString(result, col, v) < 0)
            Py_CLEAR(result);
        Py_XDECREF(v);
    }
    return result;
}

PyObject *pyswco_table_get(swco_table_t *t, const char *key, PyObject *column)
{
    swco_table_row_t *row = swco_table_row_new(t);
    if (!row)
        return pyswco_raise(swco_last_error());
    PyObject *result = NULL;
    int rc = swco_table_get_row(t, key, row);
    if (rc < 0) {
        pyswco_raise(rc);
    } else if (column != Py_None) {
        const char *col = PyUnicode_AsUTF8(column);
        int type = col ? swco_table_column_type(t, col) : 0;
        if (col && type < 0)
            pyswco_raise(type);
        else if (col)
            result = table_value(row, col, type);
    } else {
        result = row_dict(t, row);
    }
    swco_table_row_free(row);
    return result;
}

/* One value into the row buffer, converted by the column's type. */
static int row_put(swco_table_t *t, swco_table_row_t *row, const char *col, PyObject *v)
{
    int type = swco_table_column_type(t, col);
    if (type < 0) {
        pyswco_raise(type);
        return -1;
    }
    int rc;
    if (type == SWCO_TABLE_INT) {
        long long x = PyLong_AsLongLong(v);
        if (x == -1 && PyErr_Occurred())
            return -1;
        rc = swco_table_row_set_int(row, col, (int64_t)x);
    } else if (type == SWCO_TABLE_DOUBLE) {
        double x = PyFloat_AsDouble(v);
        if (x == -1.0 && PyErr_Occurred())
            return -1;
        rc = swco_table_row_set_double(row, col, x);
    } else {
        const char *s;
        Py_ssize_t len;
        if (PyUnicode_Check(v)) {
            s = PyUnicode_AsUTF8AndSize(v, &len);
            if (!s)
                return -1;
        } else if (PyBytes_AsStringAndSize(v, (char **)&s, &len) < 0) {
            return -1;
        }
        rc = swco_table_row_set_string(row, col, s, (size_t)len);
    }
    if (rc < 0) {
        pyswco_raise(rc);
        return -1;
    }
    return 0;
}

/* The dict values ({column: value}) into the row buffer: 0, or -1 with an
 * exception set. */
static int row_fill(swco_table_t *t, swco_table_row_t *row, PyObject *values)
{
    if (!PyDict_Check(values)) {
        PyErr_SetString(PyExc_TypeError, "a table row is a dict of column values");
        return -1;
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(values, &pos, &k, &v)) {
        const char *col = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
        if (!col) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "column names are str");
            return -1;
        }
        if (row_put(t, row, col, v) < 0)
            return -1;
    }
    return 0;
}

PyObject *pyswco_table_set(swco_table_t *t, const char *key, PyObject *values)
{
    swco_table_row_t *row = swco_table_row_new(t);
    if (!row)
        return pyswco_raise(swco_last_error());
    int ok = row_fill(t, row, values) == 0;
    if (ok && PyDict_Size(values) > 0) {
        int rc = swco_table_set_row(t, key, row);
        if (rc < 0) {
            pyswco_raise(rc);
            ok = 0;
        }
    } else if (ok) { /* no column: just make sure the row exists */
        int rc = swco_table_exists(t, key);
        if (rc == 0 && swco_table_column_count(t) > 0) {
            const char *col = swco_table_column_name(t, 0);
            int type = swco_table_column_type(t, col);
            rc = type == SWCO_TABLE_INT      ? swco_table_incr(t, key, col, 0, NULL)
                 : type == SWCO_TABLE_DOUBLE ? swco_table_incr_double(t, key, col, 0, NULL)
                                             : swco_table_set_string(t, key, col, "", 0);
        }
        if (rc < 0) {
            pyswco_raise(rc);
            ok = 0;
        }
    }
    swco_table_row_free(row);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

PyObject *pyswco_table_incr(swco_table_t *t, const char *key, const char *column, PyObject *by)
{
    int type = swco_table_column_type(t, column);
    if (type < 0)
        return pyswco_raise(type);
    if (type == SWCO_TABLE_DOUBLE) {
        double x = PyFloat_AsDouble(by), out = 0;
        if (x == -1.0 && PyErr_Occurred())
            return NULL;
        int rc = swco_table_incr_double(t, key, column, x, &out);
        return rc < 0 ? pyswco_raise(rc) : PyFloat_FromDouble(out);
    }
    long long x = PyLong_AsLongLong(by);
    if (x == -1 && PyErr_Occurred())
        return NULL;
    int64_t out = 0;
    int rc = swco_table_incr(t, key, column, (int64_t)x, &out);
    return rc < 0 ? pyswco_raise(rc) : PyLong_FromLongLong((long long)out);
}

PyObject *pyswco_table_keys(swco_table_t *t)
{
    swco_table_iter_t *it = swco_table_iter_new(t);
    if (!it)
        return pyswco_raise(swco_last_error());
    PyObject *list = PyList_New(0);
    char key[SWCO_TABLE_KEY_MAX + 1];
    int n;
    while (list && (n = swco_table_iter_next(it, key, sizeof key)) > 0) {
        PyObject *k = PyUnicode_DecodeUTF8(key, n, "surrogateescape");
        if (!k || PyList_Append(list, k) < 0)
            Py_CLEAR(list);
        Py_XDECREF(k);
    }
    swco_table_iter_free(it);
    if (list && n < 0) {
        Py_DECREF(list);
        return pyswco_raise(n);
    }
    return list;
}

PyObject *pyswco_table_stats(swco_table_t *t)
{
    swco_table_stats_t s = {.size = sizeof s};
    int rc = swco_table_stats(t, &s);
    if (rc < 0)
        return pyswco_raise(rc);
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:n,s:n,s:n}", "capacity", (Py_ssize_t)s.capacity,
                         "rows_used", (Py_ssize_t)s.rows_used, "buckets", (Py_ssize_t)s.buckets,
                         "conflict_capacity", (Py_ssize_t)s.conflict_capacity, "conflict_used",
                         (Py_ssize_t)s.conflict_used, "longest_chain",
                         (Py_ssize_t)s.longest_chain, "memory_size", (Py_ssize_t)s.memory_size);
}

/* --------------------------------------------------------- table update */

/* swco_table_update() with a Python callable (or a dict of new values):
 * the callable gets the row as a dict while the row is locked and returns
 * the columns to write.  A Python exception makes the callback return
 * UPDATE_RAISED, so that the row is left as it was. */
#define UPDATE_RAISED 1

typedef struct update_call {
    swco_table_t *t;
    PyObject *values; /* dict, or callable(row) -> dict or None */
    PyObject *row;    /* owned: the row as written */
} update_call_t;

static int update_row(swco_table_row_t *row, void *arg)
{
    update_call_t *u = arg;
    PyObject *values = u->values;
    if (PyCallable_Check(values)) {
        PyObject *now = row_dict(u->t, row);
        values = now ? PyObject_CallFunctionObjArgs(u->values, now, NULL) : NULL;
        Py_XDECREF(now);
        if (!values)
            return UPDATE_RAISED;
    } else {
        Py_INCREF(values);
    }
    int rc = values == Py_None ? 0 : row_fill(u->t, row, values);
    Py_DECREF(values);
    /* the buffer holds the old row with the new columns set */
    u->row = rc == 0 ? row_dict(u->t, row) : NULL;
    return u->row ? 0 : UPDATE_RAISED;
}

PyObject *pyswco_table_update(swco_table_t *t, const char *key, PyObject *values)
{
    if (!PyDict_Check(values) && !PyCallable_Check(values)) {
        PyErr_SetString(PyExc_TypeError,
                        "update() takes a dict of column values or a callable(row)");
        return NULL;
    }
    update_call_t u = {t, values, NULL};
    int rc = swco_table_update(t, key, update_row, &u);
    if (rc == UPDATE_RAISED && PyErr_Occurred())
        return NULL;
    if (rc != 0) {
        Py_XDECREF(u.row);
        return pyswco_raise(rc);
    }
    return u.row;
}

/* ------------------------------------------------------------- forking */

static pid_t after_fork_pid; /* the process that ran PyOS_AfterFork_Child */

/* First Python call in a child forked by libswco. */
static void child_enter(void)
{
    pid_t me = getpid();
    if (after_fork_pid != me) {
        after_fork_pid = me;
        PyOS_AfterFork_Child();
    }
}

static void call_report(PyObject *fn, PyObject *args)
{
    PyObject *r = args ? PyObject_CallObject(fn, args) : NULL;
    if (r)
        Py_DECREF(r);
    else
        PyErr_Print(); /* swco.py's wrappers report; this is the last resort */
    Py_XDECREF(args);
}

static PyObject *bytes_arg(PyObject *data, const char **buf, Py_ssize_t *len)
{
    if (PyBytes_AsStringAndSize(data, (char **)buf, len) < 0)
        return NULL;
    return data;
}

/* A bytes object of size bytes to read into (NULL with an exception set). */
static PyObject *bytes_buffer(long size)
{
    if (size <= 0)
        return pyswco_raise(-EINVAL);
    return PyBytes_FromStringAndSize(NULL, size);
}

/* Finish a read into b that returned n (bytes, or a negative code). */
static PyObject *bytes_result(PyObject *b, long n, long size)
{
    if (n < 0) {
        Py_DECREF(b);
        return pyswco_raise((int)n);
    }
    if (n != size && _PyBytes_Resize(&b, n) < 0)
        return NULL;
    return b;
}

/* -------------------------------------------------------------- process */

static void process_entry(swco_process_t *proc, void *arg)
{
    (void)proc;
    child_enter();
    call_report(arg, PyTuple_New(0));
}

swco_process_t *pyswco_process_new(PyObject *fn, int ipc, int redirect_stdio)
{
    if (!PyCallable_Check(fn)) {
        pyswco_raise(-EINVAL);
        return NULL;
    }
    Py_INCREF(fn);
    swco_process_t *p = swco_process_new(process_entry, fn, decref, ipc, redirect_stdio);
    if (!p) {
        Py_DECREF(fn);
        pyswco_raise(swco_last_error());
    }
    return p;
}

PyObject *pyswco_process_start(swco_process_t *proc)
{
    PyOS_BeforeFork();
    int pid = swco_process_start(proc);
    PyOS_AfterFork_Parent();
    if (pid < 0)
        return pyswco_raise(pid);
    return PyLong_FromLong(pid);
}

PyObject *pyswco_process_write(swco_process_t *proc, PyObject *data, double timeout)
{
    const char *buf;
    Py_ssize_t len;
    if (!bytes_arg(data, &buf, &len))
        return NULL;
    long n = swco_process_write(proc, buf, (size_t)len, timeout);
    return n < 0 ? pyswco_raise((int)n) : PyLong_FromLong(n);
}

PyObject *pyswco_process_read(swco_process_t *proc, long size, double timeout)
{
    PyObject *b = bytes_buffer(size);
    if (!b)
        return NULL;
    long n = swco_process_read(proc, PyBytes_AS_STRING(b), (size_t)size, timeout);
    return bytes_result(b, n, size);
}

PyObject *pyswco_process_wait(swco_process_t *proc, double timeout)
{
    int rc;
    if (swco_coroutine_id() == 0) { /* blocks the thread: let others run */
        Py_BEGIN_ALLOW_THREADS
        rc = swco_process_wait(proc, timeout);
        Py_END_ALLOW_THREADS
    } else {
        rc = swco_process_wait(proc, timeout); /* yields the coroutine */
    }
    if (rc < 0)
        return pyswco_raise(rc);
    Py_RETURN_NONE;
}

/* ----------------------------------------------------------------- pool */

static void pool_start_cb(swco_pool_t *pool, int id, void *arg)
{
    (void)pool;
    child_enter();
    if (arg != Py_None)
        call_report(arg, Py_BuildValue("(i)", id));
}

static void pool_stop_cb(swco_pool_t *pool, int id, void *arg)
{
    (void)pool;
    child_enter();
    call_report(arg, Py_BuildValue("(i)", id));
}

static void pool_message_cb(swco_pool_t *pool, int id, const void *data, size_t len, void *arg)
{
    (void)pool;
    child_enter();
    PyObject *bytes = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
    call_report(arg, bytes ? Py_BuildValue("(iN)", id, bytes) : NULL);
}

PyObject *pyswco_pool_set_callbacks(swco_pool_t *pool, PyObject *on_start, PyObject *on_message,
                                    PyObject *on_stop)
{
    /* A start callback always runs: it makes the worker's interpreter
     * usable (PyOS_AfterFork_Child). */
    Py_INCREF(on_start);
    int rc = swco_pool_on_worker_start(pool, pool_start_cb, on_start, decref);
    if (rc < 0) {
        Py_DECREF(on_start);
        return pyswco_raise(rc);
    }
    if (on_message != Py_None) {
        Py_INCREF(on_message);
        rc = swco_pool_on_message(pool, pool_message_cb, on_message, decref);
        if (rc < 0) {
            Py_DECREF(on_message);
            return pyswco_raise(rc);
        }
    }
    if (on_stop != Py_None) {
        Py_INCREF(on_stop);
        rc = swco_pool_on_worker_stop(pool, pool_stop_cb, on_stop, decref);
        if (rc < 0) {
            Py_DECREF(on_stop);
            return pyswco_raise(rc);
        }
    }
    Py_RETURN_NONE;
}

PyObject *pyswco_pool_start(swco_pool_t *pool)
{
    /* The manager forks every worker with the GIL and the import lock held,
     * so each child finds the interpreter in the state os.fork() leaves. */
    PyOS_BeforeFork();
    int rc = swco_pool_start(pool);
    PyOS_AfterFork_Parent();
    if (rc < 0)
        return pyswco_raise(rc);
    Py_RETURN_NONE;
}

PyObject *pyswco_pool_send(swco_pool_t *pool, int worker_id, PyObject *data)
{
    const char *buf;
    Py_ssize_t len;
    if (!bytes_arg(data, &buf, &len))
        return NULL;
    long n = swco_pool_send(pool, worker_id, buf, (size_t)len);
    return n < 0 ? pyswco_raise((int)n) : PyLong_FromLong(n);
}

PyObject *pyswco_pool_recv(swco_pool_t *pool, int worker_id, long size, double timeout)
{
    PyObject *b = bytes_buffer(size);
    if (!b)
        return NULL;
    long n;
    Py_BEGIN_ALLOW_THREADS
    n = swco_pool_recv(pool, worker_id, PyBytes_AS_STRING(b), (size_t)size, timeout);
    Py_END_ALLOW_THREADS
    return bytes_result(b, n, size);
}

PyObject *pyswco_pool_push(swco_pool_t *pool, PyObject *data)
{
    const char *buf;
    Py_ssize_t len;
    if (!bytes_arg(data, &buf, &len))
        return NULL;
    long n = swco_pool_push(pool, buf, (size_t)len);
    return n < 0 ? pyswco_raise((int)n) : PyLong_FromLong(n);
}

PyObject *pyswco_pool_reply(swco_pool_t *pool, PyObject *data)
{
    const char *buf;
    Py_ssize_t len;
    if (!bytes_arg(data, &buf, &len))
        return NULL;
    long n = swco_pool_reply(pool, buf, (size_t)len);
    return n < 0 ? pyswco_raise((int)n) : PyLong_FromLong(n);
}

/* ----------------------------------------------------------------- exec */

PyObject *pyswco_exec(const char *cmd, double timeout)
{
    char *out = NULL;
    size_t len = 0;
    int status = 0, rc;
    if (swco_coroutine_id() == 0) { /* blocks the thread: let others run */
        Py_BEGIN_ALLOW_THREADS
        rc = swco_exec_run(cmd, &out, &len, &status, timeout);
        Py_END_ALLOW_THREADS
    } else {
        rc = swco_exec_run(cmd, &out, &len, &status, timeout); /* yields */
    }
    if (rc < 0) {
        free(out);
        return pyswco_raise(rc);
    }
    PyObject *text = PyUnicode_DecodeUTF8(out ? out : "", (Py_ssize_t)len, "surrogateescape");
    free(out);
    return text ? Py_BuildValue("(iN)", status, text) : NULL;
}

/* ---------------------------------------------------------------- async */

/* A Python call on the AIO pool.  The pool thread takes the GIL with
 * PyGILState_Ensure() (a thread state of its own), runs the call and keeps
 * its result or exception for the waiting coroutine. */
typedef struct async_job {
    PyObject *fn;                 /* owned */
    PyObject *result;             /* owned, NULL when it raised */
    PyObject *type, *value, *tb;  /* the exception, owned */
} async_job_t;

static void async_job_free(void *arg)
{
    async_job_t *job = arg;
    PyGILState_STATE g = PyGILState_Ensure(); /* the loop may have given it up */
    Py_XDECREF(job->fn);
    Py_XDECREF(job->result);
    Py_XDECREF(job->type);
    Py_XDECREF(job->value);
    Py_XDECREF(job->tb);
    PyGILState_Release(g);
    PyMem_RawFree(job);
}

static void async_run(void *arg)
{
    async_job_t *job = arg;
    PyGILState_STATE g = PyGILState_Ensure();
    job->result = PyObject_CallObject(job->fn, NULL);
    if (!job->result)
        PyErr_Fetch(&job->type, &job->value, &job->tb);
    PyGILState_Release(g);
}

PyObject *pyswco_async_call(PyObject *fn, double timeout)
{
    if (!PyCallable_Check(fn))
        return pyswco_raise(-EINVAL);
    async_job_t *job = PyMem_RawCalloc(1, sizeof *job);
    if (!job)
        return PyErr_NoMemory();
    Py_INCREF(fn);
    job->fn = fn;
    int rc = swco_aio_run(async_run, job, async_job_free, timeout);
    if (rc < 0)
        return pyswco_raise(rc); /* the job is the library's now */
    PyObject *result = job->result;
    job->result = NULL;
    if (!result) {
        PyErr_Restore(job->type, job->value, job->tb);
        job->type = job->value = job->tb = NULL;
    }
    async_job_free(job);
    return result;
}

/* --------------------------------------------------------------- socket */

PyObject *pyswco_socket_send(swco_socket_t *s, PyObject *data, int all, double timeout)
{
    const char *buf;
    Py_ssize_t len;
    if (!bytes_arg(data, &buf, &len))
        return NULL;
    Py_INCREF(data); /* the buffer must outlive a yield */
    long n = all ? swco_socket_send_all(s, buf, (size_t)len, timeout)
                 : swco_socket_send(s, buf, (size_t)len, timeout);
    Py_DECREF(data);
    return n < 0 ? pyswco_raise((int)n) : PyLong_FromLong(n);
}

PyObject *pyswco_socket_recv(swco_socket_t *s, long size, int all, double timeout)
{
    PyObject *b = bytes_buffer(size);
    if (!b)
        return NULL;
    long n = all ? swco_socket_recv_all(s, PyBytes_AS_STRING(b), (size_t)size, timeout)
                 : swco_socket_recv(s, PyBytes_AS_STRING(b), (size_t)size, timeout);
    return bytes_result(b, n, size);
}

PyObject *pyswco_socket_name(swco_socket_t *s, int peer)
{
    char addr[256] = "";
    int port = 0;
    int rc = peer ? swco_socket_getpeername(s, addr, sizeof addr, &port)
                  : swco_socket_getsockname(s, addr, sizeof addr, &port);
    if (rc < 0)
        return pyswco_raise(rc);
    return Py_BuildValue("(si)", addr, port);
}

/* Socket calls whose data or results pass through buffers and
 * out-parameters. */

PyObject *pyswco_socket_sendto(swco_socket_t *s, const char *host, int port, PyObject *data,
                               double timeout)
{
    const char *buf;
    Py_ssize_t len;
    if (!bytes_arg(data, &buf, &len))
        return NULL;
    Py_INCREF(data); /* the buffer must outlive a yield */
    long n = swco_socket_sendto(s, host, port, buf, (size_t)len, timeout);
    Py_DECREF(data);
    return n < 0 ? pyswco_raise((int)n) : PyLong_FromLong(n);
}

PyObject *pyswco_socket_recvfrom(swco_socket_t *s, long size, double timeout)
{
    PyObject *b = bytes_buffer(size);
    if (!b)
        return NULL;
    char addr[256] = "";
    int port = 0;
    long n = swco_socket_recvfrom(s, PyBytes_AS_STRING(b), (size_t)size, addr, sizeof addr, &port,
                                  timeout);
    b = bytes_result(b, n, size);
    return b ? Py_BuildValue("(N(si))", b, addr, port) : NULL;
}

PyObject *pyswco_socket_peek(swco_socket_t *s, long size)
{
    PyObject *b = bytes_buffer(size);
    if (!b)
        return NULL;
    return bytes_result(b, swco_socket_peek(s, PyBytes_AS_STRING(b), (size_t)size), size);
}

PyObject *pyswco_socket_set_package_eof(swco_socket_t *s, PyObject *eof)
{
    const char *buf = NULL;
    Py_ssize_t len = 0;
    if (eof != Py_None && !bytes_arg(eof, &buf, &len))
        return NULL;
    int rc = swco_socket_set_package_eof(s, buf, (size_t)len);
    if (rc < 0)
        return pyswco_raise(rc);
    Py_RETURN_NONE;
}

PyObject *pyswco_socket_recv_packet(swco_socket_t *s, double timeout)
{
    const char *data = NULL;
    long n = swco_socket_recv_packet(s, &data, timeout);
    if (n < 0)
        return pyswco_raise((int)n);
    /* copied at once: the packet is valid until the next receive */
    return PyBytes_FromStringAndSize(n ? data : "", n);
}

/* The timeout of one kind for s, or the process-wide default when s is
 * NULL; the library's INFINITY ("never") is -1.0 here, negative values are
 * error codes. */
PyObject *pyswco_socket_get_timeout(swco_socket_t *s, int kind)
{
    double t = s ? swco_socket_get_timeout(s, kind) : swco_socket_get_default_timeout(kind);
    if (t < 0)
        return pyswco_raise((int)t);
    return PyFloat_FromDouble(isinf(t) ? -1.0 : t);
}

/* The peer certificate's subject, None when the peer sent none. */
PyObject *pyswco_ssl_peer_subject(swco_socket_t *s)
{
    char subject[1024] = "";
    int rc = swco_ssl_get_peer_subject(s, subject, sizeof subject);
    if (rc == -ENOENT)
        Py_RETURN_NONE;
    if (rc < 0)
        return pyswco_raise(rc);
    return PyUnicode_DecodeUTF8(subject, (Py_ssize_t)strlen(subject), "surrogateescape");
}

/* -------------------------------------------------------- process queue */

PyObject *pyswco_process_push(swco_process_t *proc, PyObject *data)
{
    const char *buf;
    Py_ssize_t len;
    if (!bytes_arg(data, &buf, &len))
        return NULL;
    long n = swco_process_push(proc, buf, (size_t)len);
    return n < 0 ? pyswco_raise((int)n) : PyLong_FromLong(n);
}

PyObject *pyswco_process_pop(swco_process_t *proc, long size, double timeout)
{
    PyObject *b = bytes_buffer(size);
    if (!b)
        return NULL;
    long n = swco_process_pop(proc, PyBytes_AS_STRING(b), (size_t)size, timeout);
    return bytes_result(b, n, size);
}
