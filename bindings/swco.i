/* bindings/swco.i - the flat libswco C API for every SWIG binding.
 *
 * A language's interface file (bindings/<lang>/swco_<lang>.i) declares its
 * %module, defines how a negative return code becomes that language's error
 * as a %define SWCO_LANGUAGE_TYPEMAPS that this file expands before the
 * headers (out typemaps for int and long results, which raise on a negative
 * value, and one for swco_err_t, an error code returned as data and never
 * raised; see python/swco_python.i), binds the
 * callback-taking calls with its own code, and %includes this file.
 *
 * What is shared:
 *  - the public headers, with SWCO_API empty (export.h does that under SWIG);
 *  - ownership: every _new returns a new object (%newobject), every _free
 *    takes it back (%delobject), so the language frees what it created once;
 *  - calls that take a C function pointer plus void *arg are %ignored here:
 *    a binding wraps them with its own trampoline, passing the language's
 *    callable as arg and releasing it through arg_free.
 */

%{
#include <swco.h>
%}

#define SWCO_BEGIN_DECLS
#define SWCO_END_DECLS

/* ---------------------------------------------------------- ownership */
%newobject swco_channel_new;
%newobject swco_channel_new_ex;
%delobject swco_channel_free;
%newobject swco_select_new;
%delobject swco_select_free;
%newobject swco_waitgroup_new;
%delobject swco_waitgroup_free;
%newobject swco_mutex_new;
%delobject swco_mutex_free;
%newobject swco_cond_new;
%delobject swco_cond_free;
%newobject swco_table_new;
%delobject swco_table_free;
%newobject swco_atomic_new;
%delobject swco_atomic_free;
%newobject swco_atomic64_new;
%delobject swco_atomic64_free;
%newobject swco_lock_new;
%delobject swco_lock_free;
%newobject swco_pool_new;
%newobject swco_socket_new;
%newobject swco_socket_new_fd;
%newobject swco_socket_accept;
%delobject swco_socket_free;
%newobject swco_ssl_ctx_new;
%delobject swco_ssl_ctx_free;
%delobject swco_pool_free;
%delobject swco_process_free;

/* ------------------------------------------ bound by each language's code */
%ignore swco_run;
%ignore swco_coroutine_create;
%ignore swco_coroutine_create_ex;
%ignore swco_defer;
%ignore swco_coroutine_set_local;
%ignore swco_coroutine_get_local;
%ignore swco_coroutine_set_hook;
%ignore swco_coroutine_list;
%ignore swco_coroutine_stats;
%ignore swco_coroutine_stats_t;
%ignore swco_coroutine_stats;
%ignore swco_timer_after;
%ignore swco_timer_tick;
%ignore swco_timer_add;
%ignore swco_channel_new_ex;   /* values are the language's objects */
%ignore swco_channel_push;
%ignore swco_channel_pop;
%ignore swco_select_add_push;  /* the pushed and popped values, likewise */
%ignore swco_select_value;
%ignore swco_log_set_handler;
%ignore swco_event_add;
%ignore swco_event_modify;
%ignore swco_event_del;
%ignore swco_event_isset;
%ignore swco_event_defer;
%ignore swco_event_cycle;
%ignore swco_event_signal;
%ignore swco_set_last_error;
/* shared memory and processes: buffers, out-parameters, callbacks, forks */
%ignore swco_table_set_int;
%ignore swco_table_set_double;
%ignore swco_table_set_string;
%ignore swco_table_get_int;
%ignore swco_table_get_double;
%ignore swco_table_get_string;
%ignore swco_table_incr;
%ignore swco_table_decr;
%ignore swco_table_incr_double;
%ignore swco_table_stats;
%ignore swco_table_stats_t;
%ignore swco_table_row_new;
%ignore swco_table_row_free;
%ignore swco_table_row_clear;
%ignore swco_table_row_set_int;
%ignore swco_table_row_set_double;
%ignore swco_table_row_set_string;
%ignore swco_table_row_get_int;
%ignore swco_table_row_get_double;
%ignore swco_table_row_get_string;
%ignore swco_table_set_row;
%ignore swco_table_get_row;
%ignore swco_table_update;
%ignore swco_table_iter_new;
%ignore swco_table_iter_next;
%ignore swco_table_iter_rewind;
%ignore swco_table_iter_free;
%ignore swco_process_new;
%ignore swco_process_start;
%ignore swco_process_write;
%ignore swco_process_read;
%ignore swco_process_wait;
%ignore swco_process_exec;
%ignore swco_process_wait_any;
%ignore swco_process_push;
%ignore swco_process_pop;
%ignore swco_pool_on_worker_start;
%ignore swco_pool_on_worker_stop;
%ignore swco_pool_on_message;
%ignore swco_pool_start;
%ignore swco_pool_reply;
%ignore swco_pool_send;
%ignore swco_pool_recv;
%ignore swco_pool_push;
%ignore swco_socket_send;
%ignore swco_socket_send_all;
%ignore swco_socket_recv;
%ignore swco_socket_recv_all;
%ignore swco_socket_peek;
%ignore swco_socket_sendto;
%ignore swco_socket_recvfrom;
%ignore swco_socket_getsockname;
%ignore swco_socket_getpeername;
%ignore swco_socket_set_package_eof;
%ignore swco_socket_recv_packet;
%ignore swco_socket_get_timeout;
%ignore swco_socket_get_default_timeout;

/* TLS: the peer's subject is copied into the caller's buffer. */
%ignore swco_ssl_get_peer_subject;

/* The language's error mapping. */
#ifdef SWCO_LANGUAGE_TYPEMAPS
SWCO_LANGUAGE_TYPEMAPS
#endif

%include <stdint.i>
%include <swco/export.h>
%include <swco/types.h>
%include <swco/version.h>
%include <swco/error.h>
%include <swco/log.h>
%include <swco/coroutine.h>
%include <swco/reactor.h>
%include <swco/timer.h>
%include <swco/channel.h>
%include <swco/sync.h>
%include <swco/table.h>
%include <swco/atomic.h>
%include <swco/lock.h>
%include <swco/process.h>
%include <swco/pool.h>
%include <swco/socket.h>
%include <swco/ssl.h>
