/* The library's allocations, and a test-only way to make one of them fail.
 *
 * Code in lib/ calls malloc, calloc, realloc, strdup, strndup and mmap as
 * usual: in libswco, internal.h maps those names onto the wrappers below, so a
 * test linked with libswco_core.la can fail the Nth allocation and check
 * that every constructor then returns NULL with -ENOMEM, leaking nothing.
 * Unarmed, a wrapper costs one relaxed atomic load. */
#define SWCO__ALLOC_REAL 1 /* this file calls the real functions */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Allocations left before the one that fails (0: none fails), and the
 * number of failures injected since the last arming. */
static long countdown;
static long injected;

void swco__alloc_fail_nth(long n)
{
    __atomic_store_n(&injected, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&countdown, n > 0 ? n : 0, __ATOMIC_SEQ_CST);
}

long swco__alloc_injected(void)
{
    return __atomic_load_n(&injected, __ATOMIC_SEQ_CST);
}

/* 1 when this allocation is the one to fail.  Any thread's allocation
 * counts: the library's helper threads allocate on a caller's behalf. */
static int should_fail(void)
{
    long left = __atomic_load_n(&countdown, __ATOMIC_RELAXED);
    while (SWCO__UNLIKELY(left > 0)) {
        if (__atomic_compare_exchange_n(&countdown, &left, left - 1, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED)) {
            if (left != 1)
                return 0;
            __atomic_add_fetch(&injected, 1, __ATOMIC_SEQ_CST);
            errno = ENOMEM;
            return 1;
        }
    }
    return 0;
}

void *swco__malloc(size_t size)
{
    return should_fail() ? NULL : malloc(size);
}

void *swco__calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : calloc(n, size);
}

void *swco__realloc(void *p, size_t size)
{
    return should_fail() ? NULL : realloc(p, size);
}

char *swco__strdup(const char *s)
{
    return should_fail() ? NULL : strdup(s);
}

char *swco__strndup(const char *s, size_t n)
{
    return should_fail() ? NULL : strndup(s, n);
}

void *swco__mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return should_fail() ? MAP_FAILED : mmap(addr, len, prot, flags, fd, off);
}
