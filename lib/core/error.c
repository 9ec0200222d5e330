/* Error codes: names, messages and the per-thread last-error slot. */
#include "internal.h"

#include <string.h>

static SWCO__TLS int last_error;

swco_err_t swco_last_error(void) { return last_error; }

void swco_set_last_error(int code) { last_error = code; }

int swco__fail(int code)
{
    last_error = code;
    return code;
}

/* errno names we may return; strerror() covers their messages. */
#define ERRNO_MAP(X) \
    X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) X(ENOEXEC) \
    X(EBADF) X(ECHILD) X(EAGAIN) X(ENOMEM) X(EACCES) X(EFAULT) X(EBUSY) \
    X(EEXIST) X(EXDEV) X(ENODEV) X(ENOTDIR) X(EISDIR) X(EINVAL) X(ENFILE) \
    X(EMFILE) X(ENOTTY) X(EFBIG) X(ENOSPC) X(ESPIPE) X(EROFS) X(EMLINK) \
    X(EPIPE) X(EDOM) X(ERANGE) X(EDEADLK) X(ENAMETOOLONG) X(ENOLCK) X(ENOSYS) \
    X(ENOTEMPTY) X(ELOOP) X(ENOMSG) X(EIDRM) X(ENODATA) X(ETIME) X(EPROTO) \
    X(EOVERFLOW) X(EILSEQ) X(ENOTSOCK) X(EDESTADDRREQ) X(EMSGSIZE) \
    X(EPROTOTYPE) X(ENOPROTOOPT) X(EPROTONOSUPPORT) X(EOPNOTSUPP) \
    X(EAFNOSUPPORT) X(EADDRINUSE) X(EADDRNOTAVAIL) X(ENETDOWN) X(ENETUNREACH) \
    X(ECONNABORTED) X(ECONNRESET) X(ENOBUFS) X(EISCONN) X(ENOTCONN) \
    X(ESHUTDOWN) X(ETIMEDOUT) X(ECONNREFUSED) X(EHOSTDOWN) X(EHOSTUNREACH) \
    X(EALREADY) X(EINPROGRESS) X(ECANCELED) X(EOWNERDEAD) X(ENOTRECOVERABLE)

const char *swco_strerror(int code)
{
    switch (code) {
#define SWCO__ERRMSG(name, value, msg) \
    case name: return msg;
    SWCO_ERROR_MAP(SWCO__ERRMSG)
#undef SWCO__ERRMSG
    case 0: return "success";
    default: break;
    }
    if (code < 0)
        code = -code;
    if (code > 0 && code < 4000) {
        /* strerror() may use a shared buffer for unknown values; every value
         * glibc knows comes from its static table. */
        const char *m = strerror(code);
        if (m && strncmp(m, "Unknown error", 13) != 0)
            return m;
    }
    return "unknown error";
}

const char *swco_err_name(int code)
{
    switch (code) {
#define SWCO__ERRNAME(name, value, msg) \
    case name: return #name;
    SWCO_ERROR_MAP(SWCO__ERRNAME)
#undef SWCO__ERRNAME
    case 0: return "OK";
    default: break;
    }
    if (code > 0)
        code = -code;
    switch (-code) {
#define SWCO__ERRNONAME(e) \
    case e: return #e;
    ERRNO_MAP(SWCO__ERRNONAME)
#undef SWCO__ERRNONAME
    default: return "UNKNOWN";
    }
}
