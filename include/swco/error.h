/* libswco: error codes.
 *
 * Functions return 0 (or a count) on success and a negative code on failure:
 * -errno where one fits (-ETIMEDOUT, -ECANCELED, -EINVAL, ...), and the
 * SWCO_E* codes below (all under -4000) for failures errno cannot name.
 * Each meaning has one code: where errno has one (-EBUSY, -EPROTO,
 * -EOWNERDEAD) the library uses it.  Codes keep their numbers for ever;
 * the gaps are codes that were removed.
 * Constructors return NULL and leave the code in swco_last_error().
 */
#ifndef SWCO_ERROR_H
#define SWCO_ERROR_H

#include <swco/export.h>
#include <swco/types.h>

SWCO_BEGIN_DECLS

/* X(name, value, message): the library's own codes. */
#define SWCO_ERROR_MAP(X) \
    X(SWCO_ECLOSED,      -4001, "channel or object is closed") \
    X(SWCO_EDEADLOCK,    -4002, "coroutines wait but nothing can wake them") \
    X(SWCO_ECOLIMIT,     -4003, "too many coroutines (max_coroutine reached)") \
    X(SWCO_ENOTCO,       -4004, "operation needs a coroutine context") \
    X(SWCO_ENOCO,        -4005, "no such coroutine") \
    X(SWCO_ECOSTATE,     -4006, "coroutine is not in a state that allows this") \
    X(SWCO_ENOTIMER,     -4008, "no such timer") \
    X(SWCO_EFULL,        -4009, "table is full") \
    X(SWCO_EKEYTOOLONG,  -4010, "key is too long") \
    X(SWCO_ENOCOLUMN,    -4011, "no such column") \
    X(SWCO_EVALTOOLONG,  -4012, "value is too long for its column") \
    X(SWCO_ESCHEMA,      -4013, "schema does not match") \
    X(SWCO_EPKGTOOBIG,   -4015, "packet exceeds package_max_length") \
    X(SWCO_ESSL,         -4017, "TLS error") \
    X(SWCO_ESSLVERIFY,   -4018, "TLS peer certificate verification failed") \
    X(SWCO_EDNS,         -4019, "host name could not be resolved") \
    X(SWCO_ECURL,        -4020, "libcurl error") \
    X(SWCO_EEXITED,      -4021, "process has exited") \
    X(SWCO_ENOTWORKER,   -4024, "not called from a pool worker") \
    X(SWCO_EOPTION,      -4025, "unknown option name") \
    X(SWCO_EOPTVALUE,    -4026, "bad value for the option") \
    X(SWCO_ENOCONN,      -4027, "no such connection (closed or never opened)") \
    X(SWCO_ENOTLOCAL,    -4028, "connection belongs to another worker")

enum swco_error {
#define SWCO__ERRENUM(name, value, msg) name = (value),
    SWCO_ERROR_MAP(SWCO__ERRENUM)
#undef SWCO__ERRENUM
    SWCO_ERROR_MIN_ = -4999
};

/**
 * swco_strerror - describe an error code
 *
 * Returns a static, human-readable message for code, which may be a
 * negative errno value or one of the SWCO_E* codes.  Positive errno values
 * are accepted too.  Unknown codes give "unknown error".
 */
SWCO_API const char *swco_strerror(int code);

/**
 * swco_err_name - name an error code
 *
 * Returns the symbolic name of code as a static string: "ETIMEDOUT" for
 * -ETIMEDOUT, "SWCO_ECLOSED" for SWCO_ECLOSED, "UNKNOWN" otherwise.
 */
SWCO_API const char *swco_err_name(int code);

/**
 * swco_last_error - error code left by the last failing call
 *
 * Constructors return NULL on failure and leave the reason here.  The slot
 * is per thread and is only written on failure, so read it right after the
 * call that failed.  Returns the code (negative), or 0 when no call of this
 * thread has failed yet; it is data, not a failure of this call.
 */
SWCO_API swco_err_t swco_last_error(void);

/**
 * swco_set_last_error - set the calling thread's last-error slot
 *
 * Sets the value swco_last_error() returns.  Bindings use it to report
 * errors that happen in their own code the same way the library does.
 */
SWCO_API void swco_set_last_error(int code);

SWCO_END_DECLS

#endif /* SWCO_ERROR_H */
