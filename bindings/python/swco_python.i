/* bindings/python/swco_python.i - the low-level Python module swco_raw.
 *
 * SWIG binds the whole C API (bindings/swco.i) with proxy classes: the
 * generated swco_raw.py over the C extension _swco (swig -interface _swco).
 * Objects own what a constructor returned, so dropping one frees it.  This
 * file adds only what Python needs: exceptions for negative results, the
 * Python side of the shared parameter patterns and callbacks, the GIL and
 * fork rules.  pyswco.c keeps the hook that switches CPython's
 * per-coroutine state, the coroutine starters and the C Channel type.  The
 * Pythonic API is bindings/python/swco.py.
 *
 * Built without -threads: no wrapper releases the GIL, which the calls that
 * switch coroutines (sleep, channel, wait, lock, yield) rely on; the calls
 * that block the thread release it explicitly below.
 */
%module swco_raw

%{
#include "pyswco.h"
%}

%init %{
    if (pyswco_module_init(d) < 0 || pyswco_curl_init(d) < 0)
        return NULL;
%}

/* --------------------------------------------------------------- results
 * Negative int/long results become swco.Error (or a subclass) carrying the
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
%typemap(out) long long {
    if ($1 < 0) {
        pyswco_raise((int)$1);
        SWIG_fail;
    }
    $result = PyLong_FromLongLong($1);
}
/* counters are values, whatever their sign */
%typemap(out) int64_t, uint32_t {
    $result = PyLong_FromLongLong((long long)$1);
}
%typemap(out) double {
    if ($1 < 0) {
        pyswco_raise((int)$1);
        SWIG_fail;
    }
    $result = PyFloat_FromDouble($1);
}
%typemap(out, fragment=SWIG_From_frag(int)) swco_err_t {
    $result = SWIG_From(int)((int)$1);
}
%enddef

/* ------------------------------------------------------------ out values
 * Outputs are collected in a list that starts with the marker Ellipsis;
 * the ret typemap turns it into the value (one) or a tuple (several).  The
 * call's own result goes first unless it only said "success" (0) or was a
 * length the output carries. */
%{
#define PYSWCO_DROP_ZERO 0 /* keep the result unless it is 0 */
#define PYSWCO_DROP 1      /* the output replaces the result */

static PyObject *pyswco_out(PyObject *result, PyObject *o, int how)
{
    if (!o) {
        Py_XDECREF(result);
        return NULL;
    }
    if (result && PyList_CheckExact(result) && PyList_GET_SIZE(result) > 0 &&
        PyList_GET_ITEM(result, 0) == Py_Ellipsis) {
        int rc = PyList_Append(result, o);
        Py_DECREF(o);
        if (rc < 0) {
            Py_DECREF(result);
            return NULL;
        }
        return result;
    }
    PyObject *list = PyList_New(0);
    int keep = result && result != Py_None && PyLong_CheckExact(result) &&
               !(how == PYSWCO_DROP || PyLong_AsLong(result) == 0);
    if (!list || PyList_Append(list, Py_Ellipsis) < 0 || (keep && PyList_Append(list, result) < 0) ||
        PyList_Append(list, o) < 0)
        Py_CLEAR(list);
    Py_XDECREF(result);
    Py_DECREF(o);
    return list;
}

/* The collected outputs as the call's value. */
static PyObject *pyswco_out_done(PyObject *result)
{
    if (!result || !PyList_CheckExact(result) || PyList_GET_SIZE(result) < 1 ||
        PyList_GET_ITEM(result, 0) != Py_Ellipsis)
        return result;
    Py_ssize_t n = PyList_GET_SIZE(result);
    PyObject *v = n == 2 ? PyList_GET_ITEM(result, 1) : PyList_GetSlice(result, 1, n);
    if (n == 2)
        Py_INCREF(v);
    else if (v)
        Py_SETREF(v, PyList_AsTuple(v));
    Py_DECREF(result);
    return v;
}

static PyObject *pyswco_text(const char *s, Py_ssize_t n)
{
    return PyUnicode_DecodeUTF8(s, n, "surrogateescape");
}
%}

/* (after the cleanup: NULL is returned as is, with the exception set) */
%typemap(ret) int, long {
    $result = pyswco_out_done($result);
}

/* (const void *data, size_t len): bytes-like objects, str (UTF-8) or None. */
%typemap(in) (const void *SWCO_BYTES_IN, size_t SWCO_LEN) (Py_buffer view, int have_view = 0) {
    if ($input == Py_None) {
        $1 = NULL;
        $2 = 0;
    } else if (PyUnicode_Check($input)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize($input, &n);
        if (!s)
            SWIG_fail;
        $1 = ($1_ltype)s;
        $2 = (size_t)n;
    } else {
        if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) < 0)
            SWIG_fail;
        have_view = 1;
        $1 = ($1_ltype)view.buf;
        $2 = (size_t)view.len;
    }
}
%typemap(freearg) (const void *SWCO_BYTES_IN, size_t SWCO_LEN) {
    if (have_view$argnum)
        PyBuffer_Release(&view$argnum);
}
%typemap(typecheck) (const void *SWCO_BYTES_IN, size_t SWCO_LEN) {
    $1 = $input == Py_None || PyUnicode_Check($input) || PyObject_CheckBuffer($input);
}

/* (void *buf, size_t cap): the size in, the bytes the call returned out. */
%typemap(in) (void *SWCO_BUF_OUT, size_t SWCO_CAP) (PyObject *bytes = NULL) {
    long size = PyLong_AsLong($input);
    if (size == -1 && PyErr_Occurred())
        SWIG_fail;
    if (size <= 0) {
        pyswco_raise(-EINVAL);
        SWIG_fail;
    }
    bytes = PyBytes_FromStringAndSize(NULL, size);
    if (!bytes)
        SWIG_fail;
    $1 = ($1_ltype)PyBytes_AS_STRING(bytes);
    $2 = (size_t)size;
}
%typemap(argout) (void *SWCO_BUF_OUT, size_t SWCO_CAP) {
    Py_ssize_t n = (Py_ssize_t)result;
    if (n != (Py_ssize_t)$2 && _PyBytes_Resize(&bytes$argnum, n) < 0)
        SWIG_fail;
    $result = pyswco_out($result, bytes$argnum, PYSWCO_DROP);
    bytes$argnum = NULL;
    if (!$result)
        SWIG_fail;
}
%typemap(freearg) (void *SWCO_BUF_OUT, size_t SWCO_CAP) {
    Py_XDECREF(bytes$argnum);
}

/* (char *addr, size_t addr_len): a NUL-ended string out. */
%typemap(in, numinputs=0) (char *SWCO_STR_OUT, size_t SWCO_STR_CAP) (char temp[SWCO_STR_CAP_DEFAULT]) {
    temp[0] = '\0';
    $1 = temp;
    $2 = sizeof temp;
}
%typemap(argout) (char *SWCO_STR_OUT, size_t SWCO_STR_CAP) {
    $result = pyswco_out($result, pyswco_text($1, (Py_ssize_t)strnlen($1, $2)), PYSWCO_DROP);
    if (!$result)
        SWIG_fail;
}

/* (char **out, size_t *out_len): a buffer the library malloc'd. */
%typemap(in, numinputs=0) (char **SWCO_ALLOC_OUT, size_t *SWCO_ALLOC_LEN) (char *buf = NULL, size_t len = 0) {
    $1 = &buf;
    $2 = &len;
}
%typemap(argout) (char **SWCO_ALLOC_OUT, size_t *SWCO_ALLOC_LEN) {
    $result = pyswco_out($result, PyBytes_FromStringAndSize(buf$argnum ? buf$argnum : "", (Py_ssize_t)len$argnum), PYSWCO_DROP);
    if (!$result)
        SWIG_fail;
}
%typemap(freearg) (char **SWCO_ALLOC_OUT, size_t *SWCO_ALLOC_LEN) {
    free(buf$argnum);
}

/* const char **data: result bytes at *data, valid until the next call. */
%typemap(in, numinputs=0) const char **SWCO_PTR_LEN_OUT (const char *p = NULL) {
    $1 = ($1_ltype)&p;
}
%typemap(argout) const char **SWCO_PTR_LEN_OUT {
    $result = pyswco_out($result, PyBytes_FromStringAndSize(p$argnum ? p$argnum : "", (Py_ssize_t)result), PYSWCO_DROP);
    if (!$result)
        SWIG_fail;
}

/* int/int64_t/double *out: the value. */
%typemap(in, numinputs=0) int *SWCO_OUT (int v = 0), int64_t *SWCO_OUT (int64_t v = 0),
    double *SWCO_OUT (double v = 0) {
    $1 = &v;
}
%typemap(argout) int *SWCO_OUT {
    $result = pyswco_out($result, PyLong_FromLong(v$argnum), PYSWCO_DROP_ZERO);
    if (!$result)
        SWIG_fail;
}
%typemap(argout) int64_t *SWCO_OUT {
    $result = pyswco_out($result, PyLong_FromLongLong((long long)v$argnum), PYSWCO_DROP_ZERO);
    if (!$result)
        SWIG_fail;
}
%typemap(argout) double *SWCO_OUT {
    $result = pyswco_out($result, PyFloat_FromDouble(v$argnum), PYSWCO_DROP_ZERO);
    if (!$result)
        SWIG_fail;
}

/* void **value: an opaque pointer out. */
%typemap(in, numinputs=0) void **SWCO_PTR_OUT (void *p = NULL) {
    $1 = &p;
}
%typemap(argout) void **SWCO_PTR_OUT {
    $result = pyswco_out($result, SWIG_NewPointerObj(p$argnum, $descriptor(void *), 0), PYSWCO_DROP_ZERO);
    if (!$result)
        SWIG_fail;
}

/* (long *cids, long max) and (void **frames, long max): max in, a list out. */
%typemap(in) (long *SWCO_LONGS_OUT, long SWCO_MAX), (void **SWCO_PTRS_OUT, long SWCO_MAX) {
    long max = PyLong_AsLong($input);
    if (max == -1 && PyErr_Occurred())
        SWIG_fail;
    if (max < 0) {
        pyswco_raise(-EINVAL);
        SWIG_fail;
    }
    $2 = max;
    $1 = PyMem_Calloc((size_t)max + 1, sizeof *$1);
    if (!$1) {
        PyErr_NoMemory();
        SWIG_fail;
    }
}
%typemap(argout) (long *SWCO_LONGS_OUT, long SWCO_MAX), (void **SWCO_PTRS_OUT, long SWCO_MAX) {
    long n = (long)result < $2 ? (long)result : $2;
    PyObject *list = PyList_New(n);
    for (long i = 0; list && i < n; i++) {
        PyObject *v = PyLong_FromSize_t((size_t)$1[i]);
        if (!v)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, v);
    }
    $result = pyswco_out($result, list, PYSWCO_DROP);
    if (!$result)
        SWIG_fail;
}
%typemap(freearg) (long *SWCO_LONGS_OUT, long SWCO_MAX), (void **SWCO_PTRS_OUT, long SWCO_MAX) {
    PyMem_Free($1);
}

/* char *const argv[]: a sequence of str. */
%typemap(arginit) char *const SWCO_ARGV[] "$1 = NULL;"
%typemap(in) char *const SWCO_ARGV[] (PyObject *seq = NULL) {
    seq = PySequence_Fast($input, "argv must be a list of str");
    if (!seq)
        SWIG_fail;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    $1 = PyMem_Calloc((size_t)n + 1, sizeof(char *));
    if (!$1) {
        PyErr_NoMemory();
        SWIG_fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *s = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i));
        if (!s)
            SWIG_fail;
        $1[i] = (char *)s; /* valid while seq lives */
    }
}
%typemap(freearg) char *const SWCO_ARGV[] {
    PyMem_Free((void *)$1);
    Py_XDECREF(seq$argnum);
}

/* (long long *fds, long max): max in, a list of connection ids out. */
%typemap(in) (long long *SWCO_LLONGS_OUT, long SWCO_MAX) {
    long max = PyLong_AsLong($input);
    if (max == -1 && PyErr_Occurred())
        SWIG_fail;
    if (max < 0) {
        pyswco_raise(-EINVAL);
        SWIG_fail;
    }
    $2 = max;
    $1 = PyMem_Calloc((size_t)max + 1, sizeof *$1);
    if (!$1) {
        PyErr_NoMemory();
        SWIG_fail;
    }
}
%typemap(argout) (long long *SWCO_LLONGS_OUT, long SWCO_MAX) {
    long n = (long)result < $2 ? (long)result : $2;
    PyObject *list = PyList_New(n);
    for (long i = 0; list && i < n; i++) {
        PyObject *v = PyLong_FromLongLong($1[i]);
        if (!v)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, v);
    }
    $result = pyswco_out($result, list, PYSWCO_DROP);
    if (!$result)
        SWIG_fail;
}
%typemap(freearg) (long long *SWCO_LLONGS_OUT, long SWCO_MAX) {
    PyMem_Free($1);
}

/* Option text: str (UTF-8) or bytes as they are (package_eof), no NUL. */
%{
static int pyswco_text_arg(PyObject *obj, const char **out)
{
    const char *s;
    Py_ssize_t n;
    if (PyBytes_Check(obj)) {
        s = PyBytes_AS_STRING(obj);
        n = PyBytes_GET_SIZE(obj);
    } else if (PyUnicode_Check(obj)) {
        s = PyUnicode_AsUTF8AndSize(obj, &n);
        if (!s)
            return -1;
    } else {
        PyErr_Format(PyExc_TypeError, "option names and values are str or bytes, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (strlen(s) != (size_t)n) {
        PyErr_SetString(PyExc_ValueError, "option text contains a NUL byte");
        return -1;
    }
    *out = s;
    return 0;
}

/* The error of swco_server_set_list names the option that failed: its
 * message starts with the name, .option and .index say which. */
static void pyswco_option_error(const char *name, size_t index)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value) {
        PyObject *msg = PyUnicode_FromFormat("%s: %S", name, value);
        PyObject *args = msg ? PyTuple_Pack(1, msg) : NULL;
        PyObject *opt = PyUnicode_DecodeUTF8(name, (Py_ssize_t)strlen(name), "surrogateescape");
        PyObject *idx = PyLong_FromSize_t(index);
        if (!args || !opt || !idx || PyObject_SetAttrString(value, "args", args) < 0 ||
            PyObject_SetAttrString(value, "option", opt) < 0 ||
            PyObject_SetAttrString(value, "index", idx) < 0)
            PyErr_Clear(); /* the error still says what failed, less precisely */
        Py_XDECREF(msg);
        Py_XDECREF(args);
        Py_XDECREF(opt);
        Py_XDECREF(idx);
    }
    PyErr_Restore(type, value, tb);
}
%}
/* None is NULL: a header value that removes the header; an option
 * refuses it (-EINVAL). */
%typemap(in) const char *SWCO_TEXT_IN {
    if ($input == Py_None)
        $1 = NULL;
    else if (pyswco_text_arg($input, (const char **)&$1) < 0)
        SWIG_fail;
}
%typemap(typecheck) const char *SWCO_TEXT_IN {
    $1 = $input == Py_None || PyUnicode_Check($input) || PyBytes_Check($input);
}

/* size_t *len of a call returning const char *: the result as that many
 * bytes (None when NULL). */
%typemap(in, numinputs=0) size_t *SWCO_RESULT_LEN (size_t rlen = 0) {
    $1 = &rlen;
}
%typemap(argout) size_t *SWCO_RESULT_LEN {
    Py_XDECREF($result);
    if (result) {
        $result = PyBytes_FromStringAndSize((const char *)result, (Py_ssize_t)rlen$argnum);
    } else {
        Py_INCREF(Py_None);
        $result = Py_None;
    }
    if (!$result)
        SWIG_fail;
}

/* (names, values, n, bad_index): one argument, a dict or a sequence of
 * (name, value) pairs of str or bytes. */
%typemap(in) (const char *const *SWCO_NAMES, const char *const *SWCO_VALUES, size_t SWCO_NPAIRS,
              size_t *SWCO_BAD_INDEX) (PyObject *items = NULL, size_t npairs = 0, size_t bad = (size_t)-1) {
    items = PyDict_Check($input) ? PyDict_Items($input) : PySequence_List($input);
    if (!items)
        SWIG_fail;
    Py_ssize_t count = PyList_GET_SIZE(items);
    const char **names = PyMem_Calloc((size_t)count + 1, sizeof *names);
    const char **values = PyMem_Calloc((size_t)count + 1, sizeof *values);
    $1 = ($1_ltype)names;
    $2 = ($2_ltype)values;
    if (!names || !values) {
        PyErr_NoMemory();
        SWIG_fail;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = PyList_GET_ITEM(items, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "options are a dict or (name, value) pairs");
            SWIG_fail;
        }
        /* valid while items holds the pairs */
        if (pyswco_text_arg(PyTuple_GET_ITEM(pair, 0), &names[i]) < 0 ||
            pyswco_text_arg(PyTuple_GET_ITEM(pair, 1), &values[i]) < 0)
            SWIG_fail;
    }
    npairs = (size_t)count;
    $3 = npairs;
    $4 = &bad;
}
%typemap(freearg) (const char *const *SWCO_NAMES, const char *const *SWCO_VALUES, size_t SWCO_NPAIRS,
                   size_t *SWCO_BAD_INDEX) {
    if (bad$argnum < npairs$argnum && PyErr_Occurred())
        pyswco_option_error($1[bad$argnum], bad$argnum);
    PyMem_Free((void *)$1);
    PyMem_Free((void *)$2);
    Py_XDECREF(items$argnum);
}

/* ------------------------------------------------------------- callbacks
 * A callable (or None: no callback) becomes arg.  The reference taken for
 * it goes to the library when the call succeeds (arg_free releases it);
 * when the call fails, arg stays the caller's and is released here.  The
 * short form, of calls done with fn before they return, borrows it. */
%define SWCO_CALLBACK(FN_T)
%typemap(in) (FN_T fn, void *arg, swco_free_fn arg_free) (PyObject *held = NULL) {
    if ($input == Py_None) {
        $1 = NULL;
        $2 = NULL;
        $3 = NULL;
    } else if (!PyCallable_Check($input)) {
        pyswco_raise(-EINVAL);
        SWIG_fail;
    } else {
        $1 = pyswco_cb_##FN_T;
        Py_INCREF($input);
        held = $input;
        $2 = $input;
        $3 = pyswco_decref;
    }
}
%typemap(argout) (FN_T fn, void *arg, swco_free_fn arg_free) {
    held$argnum = NULL; /* the library's now */
}
%typemap(freearg) (FN_T fn, void *arg, swco_free_fn arg_free) {
    Py_XDECREF(held$argnum);
}
%typemap(in) (FN_T fn, void *arg) {
    if (!PyCallable_Check($input)) {
        pyswco_raise(-EINVAL);
        SWIG_fail;
    }
    $1 = pyswco_cb_##FN_T;
    $2 = $input;
}
%enddef

/* The trampolines: each calls the callable with the callback's arguments
 * (objects as borrowed proxies) and reports an exception it raised. */
%{
static void pyswco_cb_swco_fn(void *arg)
{
    pyswco_call(arg, NULL, 0);
}

static void pyswco_cb_swco_timer_fn(long timer_id, void *arg)
{
    pyswco_call(arg, "(l)", 0, timer_id);
}

static void pyswco_cb_swco_event_fn(int fd, int events, void *arg)
{
    pyswco_call(arg, "(ii)", 0, fd, events);
}

static void pyswco_cb_swco_signal_fn(int signo, void *arg)
{
    pyswco_call(arg, "(i)", 0, signo);
}

static void pyswco_cb_swco_log_fn(int level, const char *message, void *arg)
{
    pyswco_call(arg, "(is)", 0, level, message);
}

/* The children libswco forks run these first. */
static void pyswco_cb_swco_process_fn(swco_process_t *proc, void *arg)
{
    pyswco_child_enter();
    pyswco_call(arg, "(N)", 1, SWIG_NewPointerObj(proc, SWIGTYPE_p_swco_process, 0));
}

static void pyswco_cb_swco_pool_worker_fn(swco_pool_t *pool, int worker_id, void *arg)
{
    pyswco_child_enter();
    pyswco_call(arg, "(Ni)", 1, SWIG_NewPointerObj(pool, SWIGTYPE_p_swco_pool, 0), worker_id);
}

static void pyswco_cb_swco_pool_message_fn(swco_pool_t *pool, int worker_id, const void *data,
                                           size_t len, void *arg)
{
    pyswco_child_enter();
    pyswco_call(arg, "(Niy#)", 1, SWIG_NewPointerObj(pool, SWIGTYPE_p_swco_pool, 0), worker_id,
                (const char *)data, (Py_ssize_t)len);
}

/* Server callbacks run in the process that started the server, in the
 * workers, task workers and manager it forks (pyswco_server_enter makes a
 * forked one's interpreter usable first), on the loop or in the coroutines
 * the server creates per event; never where this thread has no Python
 * (a PROCESS master's reactor threads): those are skipped. */
#define PYSWCO_SRV(srv) SWIG_NewPointerObj((void *)(srv), SWIGTYPE_p_swco_server, 0)

static void pyswco_cb_swco_server_fn(swco_server_t *srv, void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(N)", 0, PYSWCO_SRV(srv));
}

static void pyswco_cb_swco_server_worker_fn(swco_server_t *srv, int worker_id, void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(Ni)", 0, PYSWCO_SRV(srv), worker_id);
}

static void pyswco_cb_swco_server_worker_error_fn(swco_server_t *srv, int worker_id, int pid,
                                                  int exit_code, int signo, void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(Niiii)", 0, PYSWCO_SRV(srv), worker_id, pid, exit_code, signo);
}

static void pyswco_cb_swco_server_conn_fn(swco_server_t *srv, long long fd, int reactor_id,
                                          void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(NLi)", 0, PYSWCO_SRV(srv), fd, reactor_id);
}

static void pyswco_cb_swco_server_receive_fn(swco_server_t *srv, long long fd, int reactor_id,
                                             const void *data, size_t len, void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(NLiy#)", 0, PYSWCO_SRV(srv), fd, reactor_id, (const char *)data,
                    (Py_ssize_t)len);
}

static void pyswco_cb_swco_server_packet_fn(swco_server_t *srv, const void *data, size_t len,
                                            const char *addr, int port, int listener, void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(Ny#Nii)", 0, PYSWCO_SRV(srv), (const char *)data, (Py_ssize_t)len,
                    pyswco_text(addr, (Py_ssize_t)strlen(addr)), port, listener);
}

static void pyswco_cb_swco_server_task_fn(swco_server_t *srv, long task_id, int src_worker_id,
                                          const void *data, size_t len, void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(Nliy#)", 0, PYSWCO_SRV(srv), task_id, src_worker_id,
                    (const char *)data, (Py_ssize_t)len);
}

static void pyswco_cb_swco_server_finish_fn(swco_server_t *srv, long task_id, const void *data,
                                            size_t len, void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(Nly#)", 0, PYSWCO_SRV(srv), task_id, (const char *)data,
                    (Py_ssize_t)len);
}

static void pyswco_cb_swco_server_message_fn(swco_server_t *srv, int src_worker_id,
                                             const void *data, size_t len, void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(Niy#)", 0, PYSWCO_SRV(srv), src_worker_id, (const char *)data,
                    (Py_ssize_t)len);
}

/* An HTTP request handler runs in the request's coroutine; req and resp
 * are the library's (the proxies own nothing) and valid until it returns:
 * swco.http.Request/Response stop using them then. */
static void pyswco_cb_swco_http_handler_fn(swco_server_t *srv, swco_http_request_t *req,
                                           swco_http_response_t *resp, void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(NNN)", 0, PYSWCO_SRV(srv),
                    SWIG_NewPointerObj(req, SWIGTYPE_p_swco_http_request, 0),
                    SWIG_NewPointerObj(resp, SWIGTYPE_p_swco_http_response, 0));
}

/* WebSocket events run in coroutines of the serving worker.  A handshake
 * accepts (0): the Python layer refuses by ending resp with a status
 * (swco/websocket.h: a resp the callback ended is a refusal). */
static int pyswco_cb_swco_ws_handshake_fn(swco_server_t *srv, swco_http_request_t *req,
                                          swco_http_response_t *resp, void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(NNN)", 0, PYSWCO_SRV(srv),
                    SWIG_NewPointerObj(req, SWIGTYPE_p_swco_http_request, 0),
                    SWIG_NewPointerObj(resp, SWIGTYPE_p_swco_http_response, 0));
    return 0;
}

static void pyswco_cb_swco_ws_open_fn(swco_server_t *srv, long long fd, swco_http_request_t *req,
                                      void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(NLN)", 0, PYSWCO_SRV(srv), fd,
                    SWIG_NewPointerObj(req, SWIGTYPE_p_swco_http_request, 0));
}

static void pyswco_cb_swco_ws_message_fn(swco_server_t *srv, long long fd, int opcode,
                                         const char *data, size_t len, void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(NLiy#)", 0, PYSWCO_SRV(srv), fd, opcode, data, (Py_ssize_t)len);
}

static void pyswco_cb_swco_ws_close_fn(swco_server_t *srv, long long fd, int code,
                                       const char *reason, void *arg)
{
    if (pyswco_server_enter())
        pyswco_call(arg, "(NLiN)", 0, PYSWCO_SRV(srv), fd, code,
                    pyswco_text(reason ? reason : "", (Py_ssize_t)strlen(reason ? reason : "")));
}

/* PROCESS mode calls it in the master's reactor threads, where this
 * interpreter (whose lock the master's main thread holds while the server
 * runs) cannot run: there it answers -1, which dispatches by fd mod. */
static int pyswco_cb_swco_server_dispatch_fn(swco_server_t *srv, long long fd, int event,
                                             const void *data, size_t len, void *arg)
{
    if (!pyswco_server_enter())
        return -1;
    PyObject *r = PyObject_CallFunction(arg, "(NLiy#)", PYSWCO_SRV(srv), fd, event,
                                        (const char *)data, (Py_ssize_t)len);
    long v = r ? PyLong_AsLong(r) : -1;
    Py_XDECREF(r);
    if (PyErr_Occurred()) {
        pyswco_report("dispatch callback");
        return -1;
    }
    return v < 0 || v > INT_MAX ? -1 : (int)v;
}

/* Runs inside swco_table_update() with the row locked: an exception stays
 * set for the wrapper to raise, and 1 leaves the row as it was. */
static int pyswco_cb_swco_table_update_fn(swco_table_row_t *row, void *arg)
{
    PyObject *r = PyObject_CallFunction(arg, "(N)",
                                        SWIG_NewPointerObj(row, SWIGTYPE_p_swco_table_row, 0));
    if (!r)
        return 1;
    long rc = r == Py_None ? 0 : PyLong_AsLong(r);
    Py_DECREF(r);
    if (rc == -1 && PyErr_Occurred())
        return 1;
    return (int)rc;
}
%}

/* Calls that run a Python callable before they return: its exception is
 * the call's. */
%define SWCO_PY_RAISES(fn)
%exception fn {
    $action
    if (PyErr_Occurred())
        SWIG_fail;
}
%enddef
SWCO_PY_RAISES(swco_table_update)

/* swco_aio_run() gives arg back when it returns 0 (fn has run) and keeps it
 * after an error (fn may still run; arg_free releases it then). */
%exception swco_aio_run {
    $action
    if (result == 0)
        Py_XDECREF(held1);
    held1 = NULL;
}

/* ---------------------------------------------------------- constructors
 * NULL means the reason is in swco_last_error(). */
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
SWCO_PY_CTOR(swco_channel_new_ex)
SWCO_PY_CTOR(swco_waitgroup_new)
SWCO_PY_CTOR(swco_mutex_new)
SWCO_PY_CTOR(swco_cond_new)
SWCO_PY_CTOR(swco_table_new)
SWCO_PY_CTOR(swco_table_row_new)
SWCO_PY_CTOR(swco_table_iter_new)
SWCO_PY_CTOR(swco_atomic_new)
SWCO_PY_CTOR(swco_atomic64_new)
SWCO_PY_CTOR(swco_lock_new)
SWCO_PY_CTOR(swco_pool_new)
SWCO_PY_CTOR(swco_process_new)
SWCO_PY_CTOR(swco_socket_new)
SWCO_PY_CTOR(swco_socket_new_fd)
SWCO_PY_CTOR(swco_socket_accept)
SWCO_PY_CTOR(swco_ssl_ctx_new)
SWCO_PY_CTOR(swco_getaddrinfo)
SWCO_PY_CTOR(swco_dns_getaddrinfo)

/* A server in THREAD mode would run Python callbacks in several threads of
 * one interpreter, serialised by its lock: refused, with the reason. */
%exception swco_server_new {
    if (arg3 == SWCO_SERVER_THREAD) {
        pyswco_raise_msg(-ENOTSUP, "swco.Server: THREAD mode runs the workers as threads of "
                                   "one interpreter, which its global lock serialises; use "
                                   "SERVER_BASE or SERVER_PROCESS (worker processes)");
        SWIG_fail;
    }
    $action
    if (!result) {
        if (!PyErr_Occurred())
            pyswco_raise(swco_last_error());
        SWIG_fail;
    }
}

%exception swco_http_server_new {
    if (arg3 == SWCO_SERVER_THREAD) {
        pyswco_raise_msg(-ENOTSUP, "swco.http.Server: THREAD mode runs the workers as threads "
                                   "of one interpreter, which its global lock serialises; use "
                                   "SERVER_BASE or SERVER_PROCESS (worker processes)");
        SWIG_fail;
    }
    $action
    if (!result) {
        if (!PyErr_Occurred())
            pyswco_raise(swco_last_error());
        SWIG_fail;
    }
}
SWCO_PY_CTOR(swco_http_response_create)
SWCO_PY_CTOR(swco_ws_client_new)
%exception swco_ws_server_new {
    if (arg3 == SWCO_SERVER_THREAD) {
        pyswco_raise_msg(-ENOTSUP, "swco.websocket.Server: THREAD mode runs the workers as "
                                   "threads of one interpreter, which its global lock "
                                   "serialises; use SERVER_BASE or SERVER_PROCESS");
        SWIG_fail;
    }
    $action
    if (!result) {
        if (!PyErr_Occurred())
            pyswco_raise(swco_last_error());
        SWIG_fail;
    }
}

/* swco_server_start forks the manager, workers and task workers as
 * swco_pool_start does; the server's callbacks run in coroutines it creates
 * (pyswco_server_begin turns the state-switching hook on for them).  Not
 * from a coroutine: the loop it runs would nest in this one's. */
%exception swco_server_start {
    if (pyswco_in_coroutine()) {
        pyswco_raise(SWCO_ECOSTATE);
        SWIG_fail;
    }
    pyswco_server_begin();
    PyOS_BeforeFork();
    $action
    /* daemonize: start returns in a forked master */
    if (!pyswco_server_end())
        PyOS_AfterFork_Parent();
}

/* The Prometheus text outgrows the default string buffer with many
 * workers: retry in a bigger one (kept for the next call). */
%{
static char *pyswco_prom_buf;
%}
%exception swco_server_stats_prometheus {
    $action
    for (size_t cap = 65536; result == -ERANGE && cap <= ((size_t)64 << 20); cap *= 4) {
        char *p = realloc(pyswco_prom_buf, cap);
        if (!p)
            break;
        pyswco_prom_buf = p;
        p[0] = '\0';
        arg2 = p;
        arg3 = cap;
        $action
    }
}

/* ------------------------------------------------------------------ GIL
 * Calls that block the thread without switching coroutines: other Python
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
SWCO_PY_NOGIL(swco_pool_recv)

/* Calls that yield inside a coroutine but block the thread outside one. */
%define SWCO_PY_NOGIL_OUTSIDE(fn)
%exception fn {
    if (!pyswco_in_coroutine()) {
        Py_BEGIN_ALLOW_THREADS
        $action
        Py_END_ALLOW_THREADS
    } else {
        $action
    }
}
%enddef
SWCO_PY_NOGIL_OUTSIDE(swco_exec_run)
SWCO_PY_NOGIL_OUTSIDE(swco_process_wait)

/* Calls that fork: the child finds the interpreter as os.fork() leaves it
 * (the callbacks call PyOS_AfterFork_Child() first). */
%define SWCO_PY_FORKS(fn)
%exception fn {
    PyOS_BeforeFork();
    $action
    PyOS_AfterFork_Parent();
}
%enddef
SWCO_PY_FORKS(swco_process_start)
SWCO_PY_FORKS(swco_pool_start)

/* -------------------------------------------------------------- ignored */
/* CPython's own state hook is installed at import; replacing it would
 * corrupt the interpreter. */
%ignore swco_coroutine_set_hook;
/* Python coroutines start through pyswco_go()/pyswco_run() (swco.go,
 * swco.run), which give each its interpreter state and C frame record; a
 * raw start would run Python on the creator's state. */
%ignore swco_run;
%ignore swco_coroutine_create;
%ignore swco_coroutine_create_ex;

%include "swco.i"

/* -------------------------------------------------- Python-only C (pyswco.c) */
PyObject *pyswco_run(PyObject *fn, PyObject *on_signal);
PyObject *pyswco_go(PyObject *fn);
PyObject *pyswco_wait(PyObject *on_signal);
PyObject *pyswco_backtrace(long cid);
PyObject *pyswco_raise(int code);

/* swco.http_request() over swco_http_client (pyswco_curl.c), with the GIL
 * released outside coroutines; pyswco_curl_flush() closes its idle clients. */
PyObject *pyswco_curl_request(PyObject *url, PyObject *method, PyObject *body, PyObject *headers,
                              double timeout, int follow, int verify);
PyObject *pyswco_curl_flush(void);

/* swco.http's request accessors that return many values at once
 * (pyswco_http.c): lists of (name, value bytes) pairs, uploaded files,
 * the body as bytes, the request line's fields. */
PyObject *pyswco_http_params(swco_http_request_t *req, int kind);
PyObject *pyswco_http_files(swco_http_request_t *req);
PyObject *pyswco_http_body(swco_http_request_t *req);
PyObject *pyswco_http_request_info(swco_http_request_t *req);

/* swco.select() over Channel objects (end of pyswco.c). */
PyObject *pyswco_select(PyObject *pops, PyObject *pushes, double timeout, int block);

/* The names pyswco.c adds to the C module, in the proxy module too. */
%pythoncode %{
Channel = _swco.Channel
Error = _swco.Error
TimeoutError = _swco.TimeoutError
ClosedError = _swco.ClosedError
CancelledError = _swco.CancelledError
CurlError = _swco.CurlError
CurlTimeoutError = _swco.CurlTimeoutError
yield_ = _swco.yield_
resume = _swco.resume
%}
