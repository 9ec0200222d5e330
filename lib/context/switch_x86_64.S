/* Context switch for x86_64, System V ABI.
 *
 * void *swco__ctx_switch(void **from, void *to, void *arg)
 *   rdi = where to store the current stack pointer
 *   rsi = stack pointer of the context to enter
 *   rdx = value handed to the entered context (returned, and in rdi)
 *
 * The stack being left keeps a 64-byte frame: MXCSR and the x87 control
 * word in one 8-byte slot, r12 r13 r14 r15 rbx rbp, and the return address
 * pushed by the call.
 *
 * The ABI makes the MXCSR control bits and the x87 control word
 * callee-saved (the MXCSR status flags are caller-saved), so each context
 * keeps its own.  MXCSR is stored and loaded on every switch, as
 * Boost.Context does: deciding whether a load is needed means reading back
 * the value stmxcsr just stored, and that read waits for the store to
 * complete on some CPUs (AMD Zen), costing more than the load it would
 * save.  A context's flags travel with it; a new context starts with its
 * creator's whole MXCSR (swco__ctx_make), so loads of a different value,
 * slow on some Intel CPUs, happen only after one side raised a new flag.
 * The x87 control word, whose load is costly and which almost nobody
 * changes, is loaded only when it differs.  Caller-saved registers need no
 * care: the switch is an ordinary call for the compiler.
 */
    .text
    .globl  swco__ctx_switch
    .hidden swco__ctx_switch
    .type   swco__ctx_switch, @function
    .p2align 4
swco__ctx_switch:
    .cfi_startproc
    leaq    -0x38(%rsp), %rsp
    movq    %r12, 0x08(%rsp)
    movq    %r13, 0x10(%rsp)
    movq    %r14, 0x18(%rsp)
    movq    %r15, 0x20(%rsp)
    movq    %rbx, 0x28(%rsp)
    movq    %rbp, 0x30(%rsp)
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)
    movq    %rsp, %r9               /* the frame just left */
    movq    %rsi, %rsp
    ldmxcsr (%rsp)
    movq    0x38(%rsp), %r8         /* where the entered context resumes */
    movzwl  4(%rsp), %r11d
    cmpw    4(%r9), %r11w           /* x87 control word: load if it differs */
    jne     2f
1:
    movq    0x08(%rsp), %r12
    movq    0x10(%rsp), %r13
    movq    0x18(%rsp), %r14
    movq    0x20(%rsp), %r15
    movq    0x28(%rsp), %rbx
    movq    0x30(%rsp), %rbp
    leaq    0x40(%rsp), %rsp
    movq    %rdx, %rax
    movq    %rdx, %rdi
    /* An indirect jump, not ret: a ret into another stack would miss the
     * return-stack predictor on every switch. */
    jmpq    *%r8
2:
    fldcw   4(%rsp)
    jmp     1b
    .cfi_endproc
    .size   swco__ctx_switch, .-swco__ctx_switch

/* First code run on a new stack: r12 holds the entry function and rdi its
 * argument (set by the switch).  The entry never returns. */
    .globl  swco__ctx_trampoline
    .hidden swco__ctx_trampoline
    .type   swco__ctx_trampoline, @function
    .p2align 4
swco__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    callq   *%r12
    ud2
    .cfi_endproc
    .size   swco__ctx_trampoline, .-swco__ctx_trampoline

    .section .note.GNU-stack, "", @progbits
