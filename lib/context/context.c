/* Building the first frame of a new stack, per architecture; or, with
 * --with-context=ucontext, the whole switch through swapcontext(). */
#include "internal.h"

#include <string.h>

#if defined(SWCO_CONTEXT_UCONTEXT)

#include <stdlib.h>
#include <ucontext.h>

/* With ucontext a context is a pointer to a ucontext_t.  The thread's own
 * context gets one the first time it is switched away from. */
typedef struct uctx {
    ucontext_t uc;
    void *arg;
    void (*entry)(void *);
} uctx_t;

static __thread uctx_t thread_uctx;
static __thread void *switch_arg;

static void uctx_start(void)
{
    uctx_t *self = switch_arg;
    self->entry(self->arg);
    abort();
}

void swco__ctx_make(void **ctx, swco__stack_t *st, void (*entry)(void *))
{
    /* Keep the ucontext_t at the top of the stack itself. */
    uctx_t *u = (uctx_t *)(((uintptr_t)st->hi - sizeof(uctx_t)) & ~(uintptr_t)15);
    memset(u, 0, sizeof *u);
    getcontext(&u->uc);
    u->uc.uc_stack.ss_sp = st->lo;
    u->uc.uc_stack.ss_size = (size_t)((char *)u - (char *)st->lo) & ~(size_t)15;
    u->uc.uc_link = NULL;
    u->entry = entry;
    makecontext(&u->uc, uctx_start, 0);
    *ctx = u;
}

void *swco__ctx_switch(void **from, void *to, void *arg)
{
    uctx_t *self = *from ? *from : &thread_uctx;
    *from = self;
    uctx_t *target = to;
    target->arg = arg;
    switch_arg = target;
    swapcontext(&self->uc, &target->uc);
    return self->arg;
}

#else /* assembly */

void swco__ctx_trampoline(void);

void swco__ctx_make(void **ctx, swco__stack_t *st, void (*entry)(void *))
{
    uintptr_t top = (uintptr_t)st->hi & ~(uintptr_t)15;
#if defined(__x86_64__)
    /* Frame popped by the switch: fpu word, r12..r15, rbx, rbp, return
     * address.  The return slot sits at 8 mod 16 so that the trampoline's
     * call leaves the entry with the ABI's alignment. */
    uint64_t *ret = (uint64_t *)(top - 24);
    uint64_t *sp = ret - 7;
    memset(sp, 0, 8 * 8);
    /* The creator's whole MXCSR and its x87 control word, as a new
     * thread inherits its creator's floating-point environment. */
    uint32_t mxcsr;
    uint16_t fpucw;
    __asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(fpucw));
    sp[0] = mxcsr | ((uint64_t)fpucw << 32); /* flags too: see switch_x86_64.S */
    sp[1] = (uint64_t)(uintptr_t)entry;          /* r12 */
    sp[7] = (uint64_t)(uintptr_t)swco__ctx_trampoline;
    *ctx = sp;
#elif defined(__aarch64__)
    uint64_t *sp = (uint64_t *)(top - 176 - 16);
    memset(sp, 0, 176);
    sp[0] = (uint64_t)(uintptr_t)entry;                  /* x19 */
    sp[11] = (uint64_t)(uintptr_t)swco__ctx_trampoline;  /* x30 */
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    sp[20] = fpcr; /* the creator's, as a new thread inherits it */
    *ctx = sp;
#else
#error "no assembly context switch for this CPU: configure --with-context=ucontext"
#endif
}

#endif
