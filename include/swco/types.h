/* libswco: the typedefs every header shares.
 *
 * Callbacks take an opaque arg; a function that keeps arg after it returns
 * also takes an arg_free (a swco_free_fn, NULL allowed) and calls it exactly
 * once when it is done with arg.  Each header says when that is.
 */
#ifndef SWCO_TYPES_H
#define SWCO_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include <swco/export.h>

SWCO_BEGIN_DECLS

/* Body of a coroutine, and the shape of every plain (fn, arg) callback. */
typedef void (*swco_fn)(void *arg);
/* Releases an arg the library kept after the call that received it. */
typedef void (*swco_free_fn)(void *arg);
/* A signal handler run by the event loop: the signal number and its arg. */
typedef void (*swco_signal_fn)(int signo, void *arg);
/*
 * A value that is an error code returned as data (0 or a negative code, see
 * swco/error.h), such as swco_last_error()'s.  Bindings return it as a
 * number and never raise it; every other int result that is negative is an
 * error to raise.
 */
typedef int swco_err_t;

SWCO_END_DECLS

#endif /* SWCO_TYPES_H */
