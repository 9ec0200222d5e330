/* libswco: stackful coroutines.
 *
 * A thread that calls swco_run() gets a scheduler and an event loop.  Creating
 * a coroutine enters it at once; its creator continues when the child yields
 * or ends.  A coroutine that waits (sleep, channel, socket, timer) yields to
 * the coroutine that resumed it, and the event loop resumes it when its event
 * fires.  Everything here acts on the calling thread's scheduler.
 */
#ifndef SWCO_COROUTINE_H
#define SWCO_COROUTINE_H

#include <stddef.h>
#include <swco/export.h>
#include <swco/types.h>

SWCO_BEGIN_DECLS

/**
 * swco_run - run fn as the first coroutine, then the event loop
 *
 * Creates the calling thread's scheduler and event loop if needed, starts
 * fn(arg) as a coroutine and runs the loop until no coroutine, timer, fd
 * event or thread-pool job is left.  Returns 0 then.
 *
 * If coroutines are still waiting when nothing is left that could wake them
 * (a channel nobody will push to, a yield nobody will resume), swco_run logs
 * each waiting coroutine and what it waits on, cancels them (their waits
 * return -ECANCELED, so they unwind and their defers run) and returns
 * SWCO_EDEADLOCK.  Returns SWCO_ECOLIMIT or -ENOMEM when fn cannot be started,
 * -EINVAL when fn is NULL and SWCO_ECOSTATE when called from a coroutine.
 */
SWCO_API int swco_run(swco_fn fn, void *arg);

/**
 * swco_coroutine_create - start a coroutine and run it at once
 *
 * Runs fn(arg) on a new coroutine straight away; the caller continues when
 * the new coroutine yields or ends (Swoole's go()).  Callable from a
 * coroutine or from plain thread code; in the latter case swco_event_wait()
 * or swco_run() drives whatever the coroutine waits for.
 *
 * Returns the new coroutine id (> 0, never reused in the process), or
 * -EINVAL (fn NULL), SWCO_ECOLIMIT (the max_coroutine limit is reached) or
 * -ENOMEM (no stack could be mapped).  Exactly
 * swco_coroutine_create_ex(fn, arg, NULL, 0): arg stays the caller's.
 */
SWCO_API long swco_coroutine_create(swco_fn fn, void *arg);

/**
 * swco_coroutine_create_ex - start a coroutine with its own stack size
 *
 * As swco_coroutine_create(); in addition arg_free(arg), when not NULL, is
 * called when the coroutine ends (after its defers), and stack_size, when
 * not 0, overrides the default stack size for this coroutine (rounded up to
 * whole pages, at least 16 KiB).  Returns the new cid or a negative code;
 * when creation fails arg_free is not called.
 */
SWCO_API long swco_coroutine_create_ex(swco_fn fn, void *arg, swco_free_fn arg_free,
                                       size_t stack_size);

/**
 * swco_coroutine_yield - suspend the current coroutine until resumed
 *
 * Switches back to whoever resumed (or created) the current coroutine.  It
 * continues when some other code calls swco_coroutine_resume() with its id.
 * Returns 0 when resumed, -ECANCELED when cancelled with
 * swco_coroutine_cancel(), SWCO_ENOTCO outside a coroutine.
 */
SWCO_API int swco_coroutine_yield(void);

/**
 * swco_coroutine_resume - continue a coroutine that called swco_coroutine_yield
 *
 * Switches to coroutine cid at once; the caller continues when it yields
 * again or ends.  Only a coroutine suspended by swco_coroutine_yield() may be
 * resumed this way: one that waits on a timer, channel or socket is resumed
 * by that object.  Returns 0, SWCO_ENOCO for an unknown cid, or
 * SWCO_ECOSTATE for a coroutine that is running or waits on something else.
 */
SWCO_API int swco_coroutine_resume(long cid);

/**
 * swco_coroutine_cancel - cancel what a coroutine waits on
 *
 * The wait coroutine cid is in (sleep, channel, socket, yield, ...) returns
 * -ECANCELED at once, and so does every later wait of that coroutine, so
 * that it unwinds.  Returns 0, SWCO_ENOCO for an unknown cid, SWCO_ECOSTATE
 * for the calling coroutine itself.  A coroutine that is not waiting is
 * marked, and its next wait fails.
 */
SWCO_API int swco_coroutine_cancel(long cid);

/**
 * swco_coroutine_is_cancelled - whether the current coroutine was cancelled
 *
 * Returns 1 when swco_coroutine_cancel() was called on the current
 * coroutine, 0 otherwise (and outside coroutines).
 */
SWCO_API int swco_coroutine_is_cancelled(void);

/**
 * swco_coroutine_id - id of the running coroutine
 *
 * Returns the cid of the coroutine the caller runs in (> 0), or 0 outside
 * any coroutine (cids start at 1).
 */
SWCO_API long swco_coroutine_id(void);

/**
 * swco_coroutine_parent_id - id of the coroutine that created cid
 *
 * cid 0 means the current coroutine.  Returns the creator's cid (> 0), 0
 * when it has none (cid was created outside a coroutine, or cid is 0 and
 * the caller runs outside any coroutine), or SWCO_ENOCO when cid is not
 * alive in this thread (or is negative).
 */
SWCO_API long swco_coroutine_parent_id(long cid);

/**
 * swco_coroutine_exists - whether a coroutine is alive
 *
 * Returns 1 when coroutine cid exists in the calling thread, 0 otherwise.
 */
SWCO_API int swco_coroutine_exists(long cid);

/**
 * swco_coroutine_wait_reason - what a coroutine waits on
 *
 * Returns a static string naming the wait coroutine cid is suspended in
 * ("sleep", "channel pop", "socket read", "yield", ...), "running" for the
 * current coroutine, "runnable" for one that was switched away from but is
 * not waiting, or NULL when cid is not alive.
 */
SWCO_API const char *swco_coroutine_wait_reason(long cid);

/**
 * swco_coroutine_backtrace - where a coroutine is suspended
 *
 * Fills frames with up to max return addresses of coroutine cid's stack,
 * innermost first, as backtrace(3) does for the calling thread: for a
 * waiting coroutine, the frames from its wait back to its entry function;
 * for the calling coroutine, its own.  The coroutine does not run any of
 * its code and stays in its wait.  Returns the number of frames, -EINVAL
 * (frames NULL, max outside 1..4096), SWCO_ENOCO for an unknown cid, or
 * SWCO_ECOSTATE for a coroutine that is not waiting but switched away by
 * resuming another.
 */
SWCO_API long swco_coroutine_backtrace(long cid, void **frames, long max);

/**
 * swco_coroutine_print_backtrace - write a coroutine's backtrace to an fd
 *
 * Resolves swco_coroutine_backtrace(cid, ...) to symbol names with
 * backtrace_symbols_fd(3) and writes one line per frame to fd (programs
 * linked with -rdynamic show their own function names).  Returns the number
 * of frames or the error of swco_coroutine_backtrace().
 */
SWCO_API int swco_coroutine_print_backtrace(long cid, int fd);

/**
 * swco_defer - run fn(arg) when the current coroutine ends
 *
 * Deferred calls run in last-in, first-out order when the coroutine's
 * function returns, on the coroutine's own stack (so they may still yield).
 * arg_free(arg), when not NULL, is called right after fn(arg) has run;
 * when the call fails it is not called and arg stays the caller's.  Returns 0, SWCO_ENOTCO outside a coroutine, -EINVAL for fn NULL,
 * -ENOMEM.
 */
SWCO_API int swco_defer(swco_fn fn, void *arg, swco_free_fn arg_free);

/**
 * swco_coroutine_set_local - attach a value to the current coroutine
 *
 * Stores value under key (any address the caller owns, such as that of a
 * static variable) in the current coroutine's local storage, replacing (and
 * releasing with its value_free) any earlier value under the same key.  When
 * the coroutine ends, after its defers, value_free(value) is called for every
 * value still stored.  Returns 0, SWCO_ENOTCO outside a coroutine, -EINVAL for
 * key NULL, -ENOMEM.
 */
SWCO_API int swco_coroutine_set_local(const void *key, void *value, swco_free_fn value_free);

/**
 * swco_coroutine_get_local - read a value attached to the current coroutine
 *
 * Returns the value stored under key by swco_coroutine_set_local(), or NULL
 * when there is none or outside a coroutine.
 */
SWCO_API void *swco_coroutine_get_local(const void *key);

/**
 * swco_sleep - suspend the current coroutine for some seconds
 *
 * Inside a coroutine, yields and resumes after seconds (millisecond
 * resolution) while other coroutines run; returns 0, or -ECANCELED when the
 * coroutine is cancelled.  Outside a coroutine it blocks the thread like
 * nanosleep().  Returns -EINVAL for a negative or non-finite value.
 */
SWCO_API int swco_sleep(double seconds);

/*
 * Process-wide counters, filled by swco_coroutine_stats().  Set size to
 * sizeof the struct before the call; fields added later go at the end.
 */
typedef struct swco_coroutine_stats {
    size_t size;              /* set by the caller: sizeof(swco_coroutine_stats_t) */
    long live;                /* coroutines alive in this thread */
    long peak;                /* most alive at once in this thread */
    unsigned long long created; /* coroutines created by this thread */
    long max;                 /* max_coroutine limit (per process) */
    size_t stack_size;        /* default stack size for new coroutines */
    size_t stack_bytes;       /* virtual bytes of stacks mapped by this thread, pool and guards included */
    long pooled_stacks;       /* stacks kept for reuse */
} swco_coroutine_stats_t;

/**
 * swco_coroutine_stats - counters of the calling thread's scheduler
 *
 * Fills the fields of *out that fit in out->size bytes, and never writes
 * past them (out->size itself is left as it is).  Returns 0, or -EINVAL
 * when out is NULL or out->size is smaller than the first version of the
 * struct (all fields up to pooled_stacks).
 */
SWCO_API int swco_coroutine_stats(swco_coroutine_stats_t *out);

/**
 * swco_coroutine_count - number of coroutines alive in the calling thread
 */
SWCO_API long swco_coroutine_count(void);

/**
 * swco_coroutine_list - ids of the coroutines alive in the calling thread
 *
 * Writes up to max ids into cids and returns how many coroutines are alive
 * (which may be more than max).  cids may be NULL when max is 0.  Returns
 * -EINVAL for a negative max or NULL cids with max > 0.
 */
SWCO_API long swco_coroutine_list(long *cids, long max);

/**
 * swco_coroutine_set_max - set the max_coroutine limit
 *
 * Once max coroutines are alive in the process, in all threads together,
 * creating one more fails with SWCO_ECOLIMIT; while fewer are alive,
 * creating one in any thread succeeds (the count is exact, no thread keeps
 * a reserve).  Lowering the limit below the number alive ends none of them;
 * creates fail until enough have ended.  The default is 100000.  Returns 0,
 * or -EINVAL when max < 1.
 */
SWCO_API int swco_coroutine_set_max(long max);

/**
 * swco_coroutine_get_max - the max_coroutine limit
 */
SWCO_API long swco_coroutine_get_max(void);

/**
 * swco_coroutine_set_stack_size - default stack size of new coroutines
 *
 * bytes is rounded up to whole pages; the stack is reserved virtually and
 * only the pages a coroutine touches use memory.  A guard region below each
 * stack (see swco_coroutine_set_guard_size()) turns an overflow into a
 * SIGSEGV with a message naming the coroutine.  An idle coroutine uses one
 * page (4 KiB) of memory.  Each stack is two memory mappings (stack and
 * guard), so the kernel's vm.max_map_count (65530 by default) bounds how
 * many coroutines a process can hold at once to about 32,000; beyond it
 * creation fails with -ENOMEM.  Raise the sysctl for more.  Returns 0, or
 * -EINVAL below 16 KiB or above 1 GiB.
 */
SWCO_API int swco_coroutine_set_stack_size(size_t bytes);

/**
 * swco_coroutine_get_stack_size - default stack size of new coroutines
 */
SWCO_API size_t swco_coroutine_get_stack_size(void);

/**
 * swco_coroutine_set_guard_size - size of the guard below new stacks
 *
 * Every coroutine stack has bytes (rounded up to whole pages; 64 KiB by
 * default) of PROT_NONE address space below it.  The guard is never backed
 * by memory, so a wide one costs nothing but address space.  Stacks made
 * before the call keep their guard.
 *
 * What user code needs: a function whose frame (locals, alloca, variable
 * length arrays) is larger than the guard moves the stack pointer past it.
 * Compiled without stack-clash protection, its first write can then land
 * in memory mapped below, often another coroutine's stack, corrupting it
 * silently.  Compile code that runs in coroutines with
 * -fstack-clash-protection (GCC 8, Clang 11 and later; libswco itself is
 * built with it when the compiler has it): every page of a large frame is
 * then probed on the way down and an overflow always stops at the guard
 * with SIGSEGV (on aarch64, GCC's probes assume a 64 KiB guard: keep at
 * least the default there).  Code built without it (older libraries) is
 * safe for frames up to the guard size; give coroutines running such code a
 * larger guard.
 * `pkg-config --variable=coroutine_cflags swco` prints the flag when the
 * compiler libswco was built with has it.  Returns 0, or -EINVAL below one
 * page or above 1 GiB.
 */
SWCO_API int swco_coroutine_set_guard_size(size_t bytes);

/**
 * swco_coroutine_get_guard_size - size of the guard below new stacks
 */
SWCO_API size_t swco_coroutine_get_guard_size(void);

/* Events passed to a binding hook. */
enum swco_coroutine_event {
    SWCO_COROUTINE_CREATE = 0,  /* a coroutine was created (before it first runs) */
    SWCO_COROUTINE_SWITCH_OUT = 1, /* the context cid is about to be left */
    SWCO_COROUTINE_SWITCH_IN = 2,  /* the context cid was just entered */
    SWCO_COROUTINE_END = 3      /* coroutine cid ended (after defers and locals) */
};

/*
 * A binding hook: event is one of enum swco_coroutine_event, cid the
 * coroutine concerned (0 for the thread's own, non-coroutine context), slot
 * a pointer-sized place owned by the binding, one per coroutine and one for
 * the thread's own context, initially NULL.
 */
typedef void (*swco_coroutine_hook_fn)(int event, long cid, void **slot, void *arg);

/**
 * swco_coroutine_set_hook - let a language binding follow every switch
 *
 * fn(event, cid, slot, arg) is called when a coroutine is created, for the
 * context being left and the context being entered on every switch, and when
 * a coroutine ends, in the thread doing it.  Interpreters use it to save and
 * restore their per-thread state (frame, stack, exception) per coroutine in
 * *slot.  One hook per process; fn NULL removes it.  Set it before any
 * coroutine exists.  arg_free(arg), when not NULL, is called once the hook
 * is replaced or removed by a later successful call; when this call fails,
 * or fn is NULL, it is not called and arg stays the caller's.  Returns 0, or SWCO_ECOSTATE when coroutines are alive in any
 * thread.
 */
SWCO_API int swco_coroutine_set_hook(swco_coroutine_hook_fn fn, void *arg, swco_free_fn arg_free);

SWCO_END_DECLS

#endif /* SWCO_COROUTINE_H */
