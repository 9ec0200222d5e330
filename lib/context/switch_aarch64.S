/* Context switch for aarch64, AAPCS64.
 *
 * void *swco__ctx_switch(void **from, void *to, void *arg)
 *   x0 = where to store the current stack pointer
 *   x1 = stack pointer of the context to enter
 *   x2 = value handed to the entered context (returned in x0)
 *
 * Saved: x19-x28, x29 (frame), x30 (return address), d8-d15 and FPCR in a
 * 176-byte frame (a multiple of 16, so sp stays aligned).  Writing FPCR can
 * be slow, so it is written only when the entered context's differs from
 * the one in force.  FPCR (rounding mode, flush-to-zero, ...) is AArch64's
 * counterpart of the control bits of x86's MXCSR and x87 control word: each
 * context keeps its own, and a new one starts with its creator's
 * (swco__ctx_make).  The cumulative exception flags live in FPSR, which the
 * ABI does not preserve across calls: the coroutines of a thread share it.
 */
    .text
    .globl  swco__ctx_switch
    .hidden swco__ctx_switch
    .type   swco__ctx_switch, %function
    .p2align 4
swco__ctx_switch:
    sub     sp, sp, #176
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    stp     d8,  d9,  [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mrs     x10, fpcr               /* kept in x10 for the comparison below */
    str     x10, [sp, #160]
    mov     x9, sp
    str     x9, [x0]
    mov     sp, x1
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8,  d9,  [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    ldr     x11, [sp, #160]
    cmp     x10, x11
    b.eq    1f
    msr     fpcr, x11
1:
    add     sp, sp, #176
    mov     x0, x2
    ret
    .size   swco__ctx_switch, .-swco__ctx_switch

/* First code on a new stack: x19 holds the entry, x0 its argument.  The
 * entry never returns.  x30 is marked undefined so that unwinders
 * (backtrace(), gdb) stop here instead of reading past the stack's top. */
    .globl  swco__ctx_trampoline
    .hidden swco__ctx_trampoline
    .type   swco__ctx_trampoline, %function
    .p2align 4
swco__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    blr     x19
    brk     #0
    .cfi_endproc
    .size   swco__ctx_trampoline, .-swco__ctx_trampoline

    .section .note.GNU-stack, "", %progbits
