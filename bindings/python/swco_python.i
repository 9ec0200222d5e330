/* bindings/python/swco_python.i - the low-level Python module _swco.
 *
 * SWIG binds the flat C API (bindings/swco.i); pyswco.c adds the calls that
 * take Python callables and values and the hook that keeps CPython's
 * per-coroutine state.  The Pythonic API is bindings/python/swco.py.
 *
 * Built without -threads: no wrapper releases the GIL, which the calls that
 * switch coroutines (sleep, channel, wait, lock, yield) rely on.
 */
%module _swco

%{
#include "pyswco.h"
%}

%init %{
    if (pyswco_module_init(d) < 0)
        return NULL;
%}

/* Negative int/long results become swco.Error (or a subclass) carrying the
 * code; a swco_err_t is an error code returned as data (swco_last_error())
 * and comes back as a plain number.  Expanded by swco.i before the headers. */
%define SWCO_LANGUAGE_TYPEMAPS
%typemap(out, fragment=SWIG_From_frag(int)) int {
    if ($1 < 0) {
        pyswco_raise((int)$1);
        SWIG_fail;
    }
    $result = SWIG_From(int)($1);
}
%typemap(out, fragment=SWIG_From_frag(long)) long {
    if ($1 < 0) {
        pyswco_raise((int)$1);
        SWIG_fail;
    }
    $result = SWIG_From(long)($1);
}
/* counters are values, whatever their sign */
%typemap(out) int64_t, uint32_t {
    $result = PyLong_FromLongLong((long long)$1);
}
%typemap(out, fragment=SWIG_From_frag(int)) swco_err_t {
    $result = SWIG_From(int)((int)$1);
}
%enddef

/* Constructors: NULL means the reason is in swco_last_error(). */
%define SWCO_PY_CTOR(fn)
%exception fn {
    $action
    if (!result) {
        if (!PyErr_Occurred())
            pyswco_raise(swco_last_error());
        SWIG_fail;
    }
}
%enddef
SWCO_PY_CTOR(swco_channel_new)
SWCO_PY_CTOR(swco_waitgroup_new)
SWCO_PY_CTOR(swco_mutex_new)
SWCO_PY_CTOR(swco_cond_new)
SWCO_PY_CTOR(pyswco_channel_new)
SWCO_PY_CTOR(swco_table_new)
SWCO_PY_CTOR(swco_atomic_new)
SWCO_PY_CTOR(swco_atomic64_new)
SWCO_PY_CTOR(swco_lock_new)
SWCO_PY_CTOR(swco_pool_new)
SWCO_PY_CTOR(pyswco_process_new)
SWCO_PY_CTOR(swco_socket_new)
SWCO_PY_CTOR(swco_socket_new_fd)
SWCO_PY_CTOR(swco_socket_accept)
SWCO_PY_CTOR(swco_ssl_ctx_new)

/* Calls that block the thread without switching coroutines: other Python
 * threads run meanwhile. */
%define SWCO_PY_NOGIL(fn)
%exception fn {
    Py_BEGIN_ALLOW_THREADS
    $action
    Py_END_ALLOW_THREADS
}
%enddef
SWCO_PY_NOGIL(swco_lock_lock)
SWCO_PY_NOGIL(swco_lock_timedlock)
SWCO_PY_NOGIL(swco_lock_lock_read)
SWCO_PY_NOGIL(swco_lock_timedlock_read)
SWCO_PY_NOGIL(swco_atomic_wait)

%include "swco.i"

/* Python-specific calls (pyswco.c). */
%newobject pyswco_channel_new;
PyObject *pyswco_run(PyObject *fn, PyObject *on_signal);
PyObject *pyswco_go(PyObject *fn);
PyObject *pyswco_wait(PyObject *on_signal);
PyObject *pyswco_defer(PyObject *fn);
PyObject *pyswco_timer_add(double seconds, int flags, PyObject *fn);
swco_channel_t *pyswco_channel_new(long capacity);
PyObject *pyswco_channel_push(swco_channel_t *chan, PyObject *value, double timeout);
PyObject *pyswco_channel_pop(swco_channel_t *chan, double timeout);
PyObject *pyswco_coroutine_list(void);
PyObject *pyswco_coroutine_stats(void);
PyObject *pyswco_backtrace(long cid);
PyObject *pyswco_raise(int code);

/* HTTP client over swco_curl_perform() (pyswco_curl.c). */
%init %{
    if (pyswco_curl_init(d) < 0)
        return NULL;
%}
PyObject *pyswco_curl_request(PyObject *url, PyObject *method, PyObject *body, PyObject *headers,
                              double timeout, int follow, int verify);
int swco_curl_cleanup(void);

/* Socket calls with buffers and out-parameters (pyswco_proc.c). */
PyObject *pyswco_socket_sendto(swco_socket_t *s, const char *host, int port, PyObject *data,
                               double timeout);
PyObject *pyswco_socket_recvfrom(swco_socket_t *s, long size, double timeout);
PyObject *pyswco_socket_peek(swco_socket_t *s, long size);
PyObject *pyswco_socket_set_package_eof(swco_socket_t *s, PyObject *eof);
PyObject *pyswco_socket_recv_packet(swco_socket_t *s, double timeout);
PyObject *pyswco_socket_get_timeout(swco_socket_t *s, int kind);
PyObject *pyswco_ssl_peer_subject(swco_socket_t *s);

/* Shared memory and processes (pyswco_proc.c). */
%newobject pyswco_process_new;
PyObject *pyswco_table_set(swco_table_t *t, const char *key, PyObject *values);
PyObject *pyswco_table_get(swco_table_t *t, const char *key, PyObject *column);
PyObject *pyswco_table_incr(swco_table_t *t, const char *key, const char *column, PyObject *by);
PyObject *pyswco_table_keys(swco_table_t *t);
PyObject *pyswco_table_stats(swco_table_t *t);
PyObject *pyswco_table_update(swco_table_t *t, const char *key, PyObject *values);
swco_process_t *pyswco_process_new(PyObject *fn, int ipc, int redirect_stdio);
PyObject *pyswco_process_start(swco_process_t *proc);
PyObject *pyswco_process_write(swco_process_t *proc, PyObject *data, double timeout);
PyObject *pyswco_process_read(swco_process_t *proc, long size, double timeout);
PyObject *pyswco_process_wait(swco_process_t *proc, double timeout);
PyObject *pyswco_pool_set_callbacks(swco_pool_t *pool, PyObject *on_start, PyObject *on_message,
                                    PyObject *on_stop);
PyObject *pyswco_pool_start(swco_pool_t *pool);
PyObject *pyswco_pool_send(swco_pool_t *pool, int worker_id, PyObject *data);
PyObject *pyswco_pool_recv(swco_pool_t *pool, int worker_id, long size, double timeout);
PyObject *pyswco_pool_push(swco_pool_t *pool, PyObject *data);
PyObject *pyswco_pool_reply(swco_pool_t *pool, PyObject *data);
PyObject *pyswco_exec(const char *cmd, double timeout);
PyObject *pyswco_async_call(PyObject *fn, double timeout);
PyObject *pyswco_process_push(swco_process_t *proc, PyObject *data);
PyObject *pyswco_process_pop(swco_process_t *proc, long size, double timeout);
PyObject *pyswco_socket_send(swco_socket_t *s, PyObject *data, int all, double timeout);
PyObject *pyswco_socket_recv(swco_socket_t *s, long size, int all, double timeout);
PyObject *pyswco_socket_name(swco_socket_t *s, int peer);

/* swco.select() over Channel objects (end of pyswco.c). */
PyObject *pyswco_select(PyObject *pops, PyObject *pushes, double timeout, int block);
