/* Python side of the swco binding: the calls that take Python objects
 * (callables, channel values) and the scheduler hook that gives every
 * coroutine its own CPython 3.11 thread state.  Compiled into _swco with the
 * SWIG wrapper; swco_python.i exposes these functions. */
#ifndef PYSWCO_H
#define PYSWCO_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <swco.h>

/* Python coroutines get this much (virtual, reserved) stack, so deep
 * recursion ends in RecursionError long before the guard page. */
#define PYSWCO_STACK_SIZE ((size_t)8 << 20)

/* Module setup: version check, exception classes, hook.  0 or -1 with a
 * Python error set. */
int pyswco_module_init(PyObject *module_dict);

/* Raise the swco exception for a negative code; always returns NULL. */
PyObject *pyswco_raise(int code);

PyObject *pyswco_run(PyObject *fn, PyObject *on_signal);
PyObject *pyswco_go(PyObject *fn);
PyObject *pyswco_wait(PyObject *on_signal);
PyObject *pyswco_backtrace(long cid);

/* For the SWIG callback trampolines (swco_python.i). */

/* Call fn(*args) with the GIL taken however this thread left it (the loop
 * may have given it up, a pool thread has none); args is built by
 * Py_BuildValue(fmt, ...), no arguments when fmt is NULL.  An exception is
 * reported on stderr (as an unhandled one in a coroutine) and cleared.
 * forked: the call runs in a child libswco forked, where the GIL is held. */
void pyswco_call(PyObject *fn, const char *fmt, int forked, ...);
/* arg_free of every callable a callback holds. */
void pyswco_decref(void *obj);
/* First Python call in a child libswco forked: PyOS_AfterFork_Child() once. */
void pyswco_child_enter(void);
/* 1 inside a coroutine, 0 in the thread's own context. */
int pyswco_in_coroutine(void);
/* Report the Python exception set (as an unhandled one) and clear it. */
void pyswco_report(const char *where);
/* Raise the swco exception for code with message text instead of
 * swco_strerror(code)'s; returns NULL. */
PyObject *pyswco_raise_msg(int code, const char *message);

/* Servers (swco_server_start): begin/end bracket the start call in the
 * process that makes it; enter is the first thing every server callback
 * does: in a process the server forked it makes the interpreter usable
 * (pyswco_child_enter).  Returns 1 when this thread may run Python, 0 when
 * it may not (a thread that holds no interpreter state). */
void pyswco_server_begin(void);
/* end: 1 when this process is a fork of the one that began (daemonize):
 * its interpreter was made usable as a child's. */
int pyswco_server_end(void);
int pyswco_server_enter(void);

/* HTTP client over swco_http_client (pyswco_curl.c).  pyswco_curl_init()
 * adds CurlError and CurlTimeoutError to the module: 0 or -1.
 * pyswco_curl_flush() frees the thread's idle clients (their connections). */
int pyswco_curl_init(PyObject *module_dict);
PyObject *pyswco_curl_request(PyObject *url, PyObject *method, PyObject *body, PyObject *headers,
                              double timeout, int follow, int verify);
PyObject *pyswco_curl_flush(void);

/* swco.http helpers (pyswco_http.c). */
PyObject *pyswco_http_params(swco_http_request_t *req, int kind);
PyObject *pyswco_http_files(swco_http_request_t *req);
PyObject *pyswco_http_body(swco_http_request_t *req);
PyObject *pyswco_http_request_info(swco_http_request_t *req);

/* swco.select() over Channel objects (end of pyswco.c). */
PyObject *pyswco_select(PyObject *pops, PyObject *pushes, double timeout, int block);

#endif /* PYSWCO_H */
