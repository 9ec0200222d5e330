/* Atomic counters in shared memory, with futex wait/wakeup. */
#include "shm_int.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

void *swco__shm_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void swco__shm_free(void *p, size_t size)
{
    if (p)
        munmap(p, size);
}

static pid_t cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void pid_refresh(void) { cached_pid = getpid(); }

static void pid_init(void)
{
    pid_refresh();
    pthread_atfork(NULL, NULL, pid_refresh);
}

pid_t swco__pid(void)
{
    pthread_once(&pid_once, pid_init);
    return cached_pid;
}

int swco__pid_dead(pid_t pid)
{
    if (pid <= 0)
        return 0;
    if (kill(pid, 0) < 0)
        return errno == ESRCH;
    /* A zombie still answers kill(0) but will never release anything. */
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

int swco__futex_wait_until(uint32_t *addr, uint32_t val, swco__deadline_t deadline)
{
    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time: the
     * deadline as it is, with no conversion to a relative wait. */
    struct timespec ts, *tsp = NULL;
    if (deadline != SWCO__DEADLINE_NONE) {
        ts = swco__deadline_timespec(deadline);
        tsp = &ts;
    }
    long rc = syscall(SYS_futex, addr, FUTEX_WAIT_BITSET, val, tsp, NULL, FUTEX_BITSET_MATCH_ANY);
    if (rc == 0)
        return 0;
    return -errno;
}

int swco__futex_wake(uint32_t *addr, int n)
{
    long rc = syscall(SYS_futex, addr, FUTEX_WAKE, n, NULL, NULL, 0);
    return rc < 0 ? -errno : (int)rc;
}

/* ------------------------------------------------------------ 32-bit */

struct swco_atomic {
    uint32_t value;
};

struct swco_atomic64 {
    int64_t value;
};

swco_atomic_t *swco_atomic_new(uint32_t value)
{
    swco_atomic_t *a = swco__shm_alloc(sizeof *a);
    if (!a) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    a->value = value;
    return a;
}

void swco_atomic_free(swco_atomic_t *a) { swco__shm_free(a, sizeof *a); }

uint32_t swco_atomic_add(swco_atomic_t *a, uint32_t n)
{
    return __atomic_add_fetch(&a->value, n, __ATOMIC_SEQ_CST);
}

uint32_t swco_atomic_sub(swco_atomic_t *a, uint32_t n)
{
    return __atomic_sub_fetch(&a->value, n, __ATOMIC_SEQ_CST);
}

uint32_t swco_atomic_get(swco_atomic_t *a) { return __atomic_load_n(&a->value, __ATOMIC_SEQ_CST); }

void swco_atomic_set(swco_atomic_t *a, uint32_t value)
{
    __atomic_store_n(&a->value, value, __ATOMIC_SEQ_CST);
}

int swco_atomic_cmpset(swco_atomic_t *a, uint32_t cmp, uint32_t value)
{
    if (!a)
        return swco__fail(-EINVAL);
    return __atomic_compare_exchange_n(&a->value, &cmp, value, 0, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

int swco_atomic_wait(swco_atomic_t *a, double timeout)
{
    if (!a)
        return swco__fail(-EINVAL);
    swco__deadline_t deadline = swco__deadline_from_timeout(timeout);
    for (;;) {
        if (swco_atomic_cmpset(a, 1, 0) == 1)
            return 0;
        if (swco__deadline_passed(deadline))
            return swco__fail(-ETIMEDOUT);
        int rc = swco__futex_wait_until(&a->value, 0, deadline);
        if (rc == -EINTR)
            return swco__fail(rc);
        /* 0, -EAGAIN (value changed) and -ETIMEDOUT loop to re-check. */
    }
}

int swco_atomic_wakeup(swco_atomic_t *a, int n)
{
    if (!a || n < 1)
        return swco__fail(-EINVAL);
    if (swco_atomic_cmpset(a, 0, 1) != 1)
        return 0;
    return swco__futex_wake(&a->value, n);
}

/* ------------------------------------------------------------ 64-bit */

swco_atomic64_t *swco_atomic64_new(int64_t value)
{
    swco_atomic64_t *a = swco__shm_alloc(sizeof *a);
    if (!a) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    a->value = value;
    return a;
}

void swco_atomic64_free(swco_atomic64_t *a) { swco__shm_free(a, sizeof *a); }

int64_t swco_atomic64_add(swco_atomic64_t *a, int64_t n)
{
    return (int64_t)__atomic_add_fetch((uint64_t *)&a->value, (uint64_t)n, __ATOMIC_SEQ_CST);
}

int64_t swco_atomic64_sub(swco_atomic64_t *a, int64_t n)
{
    return (int64_t)__atomic_sub_fetch((uint64_t *)&a->value, (uint64_t)n, __ATOMIC_SEQ_CST);
}

int64_t swco_atomic64_get(swco_atomic64_t *a) { return __atomic_load_n(&a->value, __ATOMIC_SEQ_CST); }

void swco_atomic64_set(swco_atomic64_t *a, int64_t value)
{
    __atomic_store_n(&a->value, value, __ATOMIC_SEQ_CST);
}

int swco_atomic64_cmpset(swco_atomic64_t *a, int64_t cmp, int64_t value)
{
    if (!a)
        return swco__fail(-EINVAL);
    return __atomic_compare_exchange_n(&a->value, &cmp, value, 0, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}
