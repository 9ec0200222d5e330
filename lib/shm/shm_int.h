/* Helpers shared by lib/shm/ and lib/process/: shared anonymous memory,
 * a cached pid, and futex calls. */
#ifndef SWCO_SHM_INT_H
#define SWCO_SHM_INT_H

#include "internal.h"

#include <sys/types.h>

/* An anonymous MAP_SHARED mapping of at least size bytes, zero-filled;
 * NULL with errno set on failure. */
void *swco__shm_alloc(size_t size);
void swco__shm_free(void *p, size_t size);
/* getpid() without a system call; refreshed in the child after fork(). */
pid_t swco__pid(void);
/* 1 when pid is gone (no such process, or a zombie), else 0. */
int swco__pid_dead(pid_t pid);
/* Shared (not private) futex wait/wake on a 32-bit word; wait (while *addr
 * is val, until deadline) returns 0, -ETIMEDOUT, -EINTR or -EAGAIN (value
 * changed). */
int swco__futex_wait_until(uint32_t *addr, uint32_t val, swco__deadline_t deadline);
int swco__futex_wake(uint32_t *addr, int n);

#endif
