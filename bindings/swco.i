/* bindings/swco.i - the libswco C API for every SWIG binding.
 *
 * Every public header is %included here, so a language gets the whole API
 * (tools/swig-coverage counts it; make check wants >= 95%).  A language's
 * interface file (bindings/<lang>/swco_<lang>.i) declares its %module,
 * defines the typemaps for the canonical parameter patterns below (and, as
 * SWCO_LANGUAGE_TYPEMAPS, its error mapping: a negative int or long result
 * is an error to raise, a swco_err_t an error code returned as data, never
 * raised), then
 * %includes this file; it adds only what the language alone needs (state
 * switching, exceptions).  A pattern a language leaves undefined still binds:
 * SWIG's defaults pass the pointers through.
 *
 * What is shared:
 *  - ownership: every constructor returns a new object (%newobject) and
 *    every opaque object type has the matching _free as its destructor, so
 *    dropping the language's object frees it; calling _free explicitly
 *    disowns it first (%delobject);
 *  - structs that grow carry a size field first: their constructor here
 *    zeroes them and sets it;
 *  - the parameter patterns, applied here to every function that has them:
 *
 *    canonical pattern                         what the language does
 *    (const void *SWCO_BYTES_IN, size_t SWCO_LEN)  bytes/str in (None: NULL, 0)
 *    (void *SWCO_BUF_OUT, size_t SWCO_CAP)     takes a size, allocates that
 *                                              much, returns the first
 *                                              result bytes as a byte string
 *    (char *SWCO_STR_OUT, size_t SWCO_STR_CAP) no input: a buffer of
 *                                              SWCO_STR_CAP_DEFAULT bytes,
 *                                              returns the NUL-ended string
 *    (char **SWCO_ALLOC_OUT, size_t *SWCO_ALLOC_LEN)  no input: the library
 *                                              mallocs, the language copies
 *                                              the bytes and free()s
 *    const char **SWCO_PTR_LEN_OUT             no input: result bytes at
 *                                              *ptr (library-owned), copied
 *    T *SWCO_OUT (int, long, int64_t, double)  no input: returns the value
 *                                              (the call's 0 status dropped)
 *    void **SWCO_PTR_OUT                       no input: returns the pointer
 *    (long *SWCO_LONGS_OUT, long SWCO_MAX) and (void **SWCO_PTRS_OUT, long
 *    SWCO_MAX)                                 takes max, returns a list
 *    char *const SWCO_ARGV[]                   a list of strings, NULL-ended
 *    (long long *SWCO_LLONGS_OUT, long SWCO_MAX)  takes max, returns a list
 *                                              (connection ids)
 *    const char *SWCO_TEXT_IN                  an option value: text, or
 *                                              bytes passed as they are
 *    (const char *const *SWCO_NAMES, const char *const *SWCO_VALUES,
 *     size_t SWCO_NPAIRS, size_t *SWCO_BAD_INDEX)  one input: name/value
 *                                              pairs (a dict); on error
 *                                              the failing name goes with
 *                                              the error
 *    size_t *SWCO_RESULT_LEN                   no input: the length of the
 *                                              returned const char *, which
 *                                              comes back as that many
 *                                              bytes (NULL: none)
 *
 *  - callbacks: SWCO_CALLBACK(fn_type) is expanded for every callback type
 *    below.  A language defines it (before %including this file) to emit
 *    typemaps for (fn_type fn, void *arg, swco_free_fn arg_free) - its
 *    callable becomes arg, a C trampoline of fn_type calls it, arg_free
 *    releases the reference - and for the short (fn_type fn, void *arg)
 *    of calls that are done with fn before they return.  Undefined, the
 *    function pointers pass through as opaque values.
 */

%{
#include <swco.h>
#include <swco/websocket.h>
#include <errno.h>
#include <dlfcn.h>
%}

#define SWCO_BEGIN_DECLS
#define SWCO_END_DECLS

/* Bytes a language's SWCO_STR_OUT buffer has (addresses, keys, subjects). */
%{
#define SWCO_STR_CAP_DEFAULT 4096
%}

/* The language's error mapping. */
#ifdef SWCO_LANGUAGE_TYPEMAPS
SWCO_LANGUAGE_TYPEMAPS
#endif

/* ------------------------------------------------------------ objects
 * SWIG sees each opaque type as an empty struct without a constructor
 * (the _new functions make them) whose destructor is the library's _free. */
%define SWCO_OBJECT(TAG, FREE)
%nodefaultctor TAG;
struct TAG {};
%extend TAG {
    ~TAG() { FREE($self); }
}
%delobject FREE;
%enddef

SWCO_OBJECT(swco_channel, swco_channel_free)
SWCO_OBJECT(swco_select, swco_select_free)
SWCO_OBJECT(swco_waitgroup, swco_waitgroup_free)
SWCO_OBJECT(swco_mutex, swco_mutex_free)
SWCO_OBJECT(swco_cond, swco_cond_free)
SWCO_OBJECT(swco_table, swco_table_free)
SWCO_OBJECT(swco_table_row, swco_table_row_free)
SWCO_OBJECT(swco_table_iter, swco_table_iter_free)
SWCO_OBJECT(swco_atomic, swco_atomic_free)
SWCO_OBJECT(swco_atomic64, swco_atomic64_free)
SWCO_OBJECT(swco_lock, swco_lock_free)
SWCO_OBJECT(swco_pool, swco_pool_free)
SWCO_OBJECT(swco_process, swco_process_free)
SWCO_OBJECT(swco_socket, swco_socket_free)
SWCO_OBJECT(swco_ssl_ctx, swco_ssl_ctx_free)
SWCO_OBJECT(swco_addrinfo, swco_addrinfo_free)
SWCO_OBJECT(swco_server, swco_server_free)
/* A handler's response belongs to the library (the binding's object does
 * not own it); one from swco_http_response_create is the caller's. */
SWCO_OBJECT(swco_http_response, swco_http_response_free)
SWCO_OBJECT(swco_ws_client, swco_ws_client_free)

%newobject swco_channel_new;
%newobject swco_channel_new_ex;
%newobject swco_select_new;
%newobject swco_waitgroup_new;
%newobject swco_mutex_new;
%newobject swco_cond_new;
%newobject swco_table_new;
%newobject swco_table_row_new;
%newobject swco_table_iter_new;
%newobject swco_atomic_new;
%newobject swco_atomic64_new;
%newobject swco_lock_new;
%newobject swco_pool_new;
%newobject swco_process_new;
%newobject swco_socket_new;
%newobject swco_socket_new_fd;
%newobject swco_socket_accept;
%newobject swco_ssl_ctx_new;
%newobject swco_dns_getaddrinfo;
%newobject swco_server_new;
%newobject swco_http_server_new;
%newobject swco_http_response_create;
%newobject swco_ws_server_new;
%newobject swco_ws_client_new;

/* Structs the library fills: a zeroed one from the language's constructor,
 * with its size field set when it has one (SWCO_STRUCT_SIZE). */
%define SWCO_STRUCT(TAG)
%extend TAG {
    TAG() {
        struct TAG *p = calloc(1, sizeof *p);
        if (p)
            SWCO_STRUCT_SIZE(p);
        return p;
    }
    ~TAG() { free($self); }
}
%enddef
%{
#include <stdlib.h>
#define SWCO_STRUCT_SIZE(p) ((p)->size = sizeof *(p))
%}
SWCO_STRUCT(swco_coroutine_stats)
SWCO_STRUCT(swco_file_stat)
SWCO_STRUCT(swco_file_statvfs)
SWCO_STRUCT(swco_table_stats)
SWCO_STRUCT(swco_server_client_info)
SWCO_STRUCT(swco_server_stats)
SWCO_STRUCT(swco_server_worker_stats)
/* Read-only to a binding: the library fills them. */
%immutable swco_coroutine_stats::size;
%immutable swco_file_stat::size;
%immutable swco_file_statvfs::size;
%immutable swco_table_stats::size;
%immutable swco_server_client_info::size;
%immutable swco_server_stats::size;
%immutable swco_server_worker_stats::size;

/* ------------------------------------------------- parameter patterns */
%apply (const void *SWCO_BYTES_IN, size_t SWCO_LEN) {
    (const void *data, size_t len),
    (const void *buf, size_t len),
    (const void *value, size_t len),
    (const char *eof, size_t len)
};
%apply (void *SWCO_BUF_OUT, size_t SWCO_CAP) {
    (void *buf, size_t cap),
    (void *buf, size_t len),
    (char *buf, size_t cap)
};
%apply (char *SWCO_STR_OUT, size_t SWCO_STR_CAP) {
    (char *addr, size_t addr_len),
    (char *out, size_t out_len),
    (char *key, size_t cap),
    (char *buf, size_t len)
};
%apply (char **SWCO_ALLOC_OUT, size_t *SWCO_ALLOC_LEN) { (char **out, size_t *out_len) };
%apply const char **SWCO_PTR_LEN_OUT { const char **data };
%apply int *SWCO_OUT { int *status, int *port };
%apply int64_t *SWCO_OUT { int64_t *out };
%apply double *SWCO_OUT { double *out };
%apply void **SWCO_PTR_OUT { void **value };
%apply (long *SWCO_LONGS_OUT, long SWCO_MAX) { (long *cids, long max) };
%apply (void **SWCO_PTRS_OUT, long SWCO_MAX) { (void **frames, long max) };
%apply char *const SWCO_ARGV[] { char *const argv[] };
/* swco_server_connections, swco_server_heartbeat */
%apply (long long *SWCO_LLONGS_OUT, long SWCO_MAX) { (long long *fds, long max) };
/* swco_server_set, swco_server_listener_set: package_eof may be any bytes */
%apply const char *SWCO_TEXT_IN { const char *value };
/* swco_server_set_list */
%apply (const char *const *SWCO_NAMES, const char *const *SWCO_VALUES, size_t SWCO_NPAIRS,
        size_t *SWCO_BAD_INDEX) {
    (const char *const *names, const char *const *values, size_t n, size_t *bad_index)
};
/* swco_http_request_body, swco_http_request_raw_header, swco_ws_client_data */
%apply size_t *SWCO_RESULT_LEN { size_t *len };
/* swco_process_wait_any: both are results (the call returns 1 or 0). */
%apply int *OUTPUT { int *pid, int *status } ;

/* ----------------------------------------------------------- callbacks */
#ifndef SWCO_CALLBACK
%define SWCO_CALLBACK(FN_T)
%enddef
#endif
SWCO_CALLBACK(swco_fn)
SWCO_CALLBACK(swco_timer_fn)
SWCO_CALLBACK(swco_event_fn)
SWCO_CALLBACK(swco_signal_fn)
SWCO_CALLBACK(swco_log_fn)
SWCO_CALLBACK(swco_coroutine_hook_fn)
SWCO_CALLBACK(swco_process_fn)
SWCO_CALLBACK(swco_pool_worker_fn)
SWCO_CALLBACK(swco_pool_message_fn)
SWCO_CALLBACK(swco_table_update_fn)
SWCO_CALLBACK(swco_server_fn)
SWCO_CALLBACK(swco_server_worker_fn)
SWCO_CALLBACK(swco_server_worker_error_fn)
SWCO_CALLBACK(swco_server_conn_fn)
SWCO_CALLBACK(swco_server_receive_fn)
SWCO_CALLBACK(swco_server_packet_fn)
SWCO_CALLBACK(swco_server_task_fn)
SWCO_CALLBACK(swco_server_finish_fn)
SWCO_CALLBACK(swco_server_message_fn)
SWCO_CALLBACK(swco_server_dispatch_fn)
SWCO_CALLBACK(swco_http_handler_fn)
SWCO_CALLBACK(swco_ws_handshake_fn)
SWCO_CALLBACK(swco_ws_open_fn)
SWCO_CALLBACK(swco_ws_message_fn)
SWCO_CALLBACK(swco_ws_close_fn)

/* ----------------------------------------------------------- libcurl
 * A CURL easy handle is an opaque pointer to a binding (one made by the
 * language's own libcurl binding, passed as its address); CURLcode is an
 * int. */
typedef void CURL;
typedef int CURLcode;

/* --------------------------------------------------------- libswco_hook
 * The hook's switches live in libswco_hook, which a program preloads
 * (LD_PRELOAD) and a binding must not link: linking it would interpose libc
 * in every program that loads the binding.  The binding finds them at run
 * time instead; without the hook library they return -ENOSYS. */
%{
#include <swco/hook.h>
static int swco__bind_hook(const char *name, int arg, int has_arg)
{
    void *sym = dlsym(RTLD_DEFAULT, name);
    if (!sym)
        return -ENOSYS;
    if (has_arg) {
        int (*fn)(int) = (int (*)(int))sym;
        return fn(arg);
    }
    int (*fn)(void) = (int (*)(void))sym;
    return fn();
}
#define swco_hook_enable(flags) swco__bind_hook("swco_hook_enable", (flags), 1)
#define swco_hook_disable() swco__bind_hook("swco_hook_disable", 0, 0)
#define swco_hook_get_flags() swco__bind_hook("swco_hook_get_flags", 0, 0)
%}

%include <stdint.i>
%include <swco/export.h>
%include <swco/types.h>
%include <swco/types.h>
%include <swco/version.h>
%include <swco/error.h>
%include <swco/log.h>
%include <swco/coroutine.h>
%include <swco/reactor.h>
%include <swco/timer.h>
%include <swco/channel.h>
%include <swco/sync.h>
%include <swco/aio.h>
%include <swco/dns.h>
%include <swco/socket.h>
%include <swco/file.h>
%include <swco/exec.h>
%include <swco/ssl.h>
%include <swco/table.h>
%include <swco/atomic.h>
%include <swco/lock.h>
%include <swco/process.h>
%include <swco/pool.h>
%include <swco/curl.h>
/* swco_http_client: an opaque object freed with the client */
SWCO_OBJECT(swco_http_client, swco_http_client_free)
%newobject swco_http_client_new;
%include <swco/http_client.h>
%include <swco/hook.h>
%include <swco/server.h>
%include <swco/http.h>
%include <swco/websocket.h>
