/* Coroutine stacks: mmap'd, with a PROT_NONE guard region below, registered
 * with valgrind so it follows the switches.
 *
 * The guard is address space only: PROT_NONE pages are never backed by
 * memory, so a wide guard costs nothing but room in the address space.  It
 * is wide (64 KiB by default) because a frame larger than the guard moves
 * the stack pointer past it: code built without -fstack-clash-protection
 * then writes straight into whatever is mapped below, often the next
 * coroutine's stack.  Code built with the flag probes on the way down and
 * so stops at the guard: on x86_64 every page, on aarch64 GCC every 64 KiB
 * (it assumes a 64 KiB guard), which the default covers. */
#include "internal.h"

#include <sys/mman.h>
#include <unistd.h>

#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#endif
#ifdef SWCO_ASAN
#include <sanitizer/asan_interface.h>
#endif

#ifndef MAP_STACK
#define MAP_STACK 0
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

int swco__stack_alloc(swco__stack_t *st, size_t usable, size_t guard)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    usable = (usable + page - 1) & ~(page - 1);
    guard = (guard + page - 1) & ~(page - 1);
    if (guard < page)
        guard = page;
    size_t size = usable + guard;
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (base == MAP_FAILED)
        return -ENOMEM;
    /* Pages that can never be touched are never backed: the guard costs
     * no memory, however wide. */
    if (mprotect(base, guard, PROT_NONE) != 0) {
        munmap(base, size);
        return -ENOMEM;
    }
    st->base = base;
    st->size = size;
    st->lo = (char *)base + guard;
    st->hi = (char *)base + size;
#ifdef HAVE_VALGRIND_VALGRIND_H
    st->vg_id = VALGRIND_STACK_REGISTER(st->lo, st->hi);
#else
    st->vg_id = 0;
#endif
    return 0;
}

void swco__stack_free(swco__stack_t *st)
{
    if (!st->base)
        return;
#ifdef HAVE_VALGRIND_VALGRIND_H
    VALGRIND_STACK_DEREGISTER(st->vg_id);
#endif
#ifdef SWCO_ASAN
    /* Frames that never returned left poison; whatever is mapped here next
     * (perhaps by uninstrumented code) must not inherit it. */
    ASAN_UNPOISON_MEMORY_REGION(st->lo, (size_t)((char *)st->hi - (char *)st->lo));
#endif
    munmap(st->base, st->size);
    st->base = NULL;
}
