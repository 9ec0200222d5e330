/* Python side of the swco binding: the calls that take Python objects
 * (callables, channel values) and the scheduler hook that gives every
 * coroutine its own CPython 3.11 thread state.  Compiled into _swco with the
 * SWIG wrapper; swco_python.i exposes these functions. */
#ifndef PYSWCO_H
#define PYSWCO_H

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
PyObject *pyswco_defer(PyObject *fn);
PyObject *pyswco_timer_add(double seconds, int flags, PyObject *fn);
swco_channel_t *pyswco_channel_new(long capacity);
PyObject *pyswco_channel_push(swco_channel_t *chan, PyObject *value, double timeout);
PyObject *pyswco_channel_pop(swco_channel_t *chan, double timeout);
PyObject *pyswco_coroutine_list(void);
PyObject *pyswco_coroutine_stats(void);
PyObject *pyswco_backtrace(long cid);

/* HTTP client over swco_curl_perform() (pyswco_curl.c).  pyswco_curl_init()
 * adds CurlError and CurlTimeoutError to the module: 0 or -1. */
int pyswco_curl_init(PyObject *module_dict);
PyObject *pyswco_curl_request(PyObject *url, PyObject *method, PyObject *body, PyObject *headers,
                              double timeout, int follow, int verify);

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

#endif /* PYSWCO_H */
