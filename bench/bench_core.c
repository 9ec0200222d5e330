/* bench_core: the core runtime's figures, one line each:
 *   switch, create+exit, channel round trip, select, 100,000 timers, idle
 *   memory.
 * bench/run-bench.sh prints the peers' figures (Go, Boost.Context) beside. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <swco.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

/* ---------------------------------------------------------------- switch */
#if defined(SWCO_BENCH_RAW_SWITCH)
/* The bare machine switch, the figure comparable with Boost's
 * jump_fcontext: the same assembly the library uses, linked in here. */
void *swco__ctx_switch(void **from, void *to, void *arg);
void swco__ctx_trampoline(void);
static void *raw_main, *raw_co;
static void raw_entry(void *arg)
{
    for (;;)
        swco__ctx_switch(&raw_co, raw_main, NULL);
}

static void bench_raw_switch(void)
{
    static char stack[64 * 1024] __attribute__((aligned(16)));
    unsigned long long *sp = (unsigned long long *)(stack + sizeof stack - 24) - 7;
    memset(sp, 0, 64);
    /* The control words in force, as swco__ctx_make() does: a frame whose
     * MXCSR differed would measure the cost of loading MXCSR instead. */
    unsigned mxcsr;
    unsigned short fpucw;
    __asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(fpucw));
    sp[0] = mxcsr | ((unsigned long long)fpucw << 32);
    sp[1] = (unsigned long long)(size_t)raw_entry;
    sp[7] = (unsigned long long)(size_t)swco__ctx_trampoline;
    raw_co = sp;
    const long n = 20000000;
    double t0 = now();
    for (long i = 0; i < n; i++)
        swco__ctx_switch(&raw_main, raw_co, NULL);
    printf("context switch pair (machine)   : %8.1f ns\n", (now() - t0) / (double)n * 1e9);
}
#endif

static volatile int stop_yielding;
static void yielder(void *arg)
{
    while (!stop_yielding)
        swco_coroutine_yield();
}

static void bench_switch(void)
{
    const long n = 10000000;
    stop_yielding = 0;
    long cid = swco_coroutine_create(yielder, NULL);
    double t0 = now();
    for (long i = 0; i < n; i++)
        swco_coroutine_resume(cid);
    double t = now() - t0;
    stop_yielding = 1;
    swco_coroutine_resume(cid);
    printf("switch (resume+yield API pair)  : %8.1f ns\n", t / (double)n * 1e9);
}

/* ----------------------------------------------------------- create+exit */
static void empty(void *arg) {}

static void bench_create(void)
{
    const long n = 2000000;
    double t0 = now();
    for (long i = 0; i < n; i++)
        swco_coroutine_create(empty, NULL);
    double t = now() - t0;
    printf("coroutine create+exit           : %8.1f ns  (%.1f M/s)\n", t / (double)n * 1e9,
           (double)n / t / 1e6);
}

/* ------------------------------------------------------------- ping-pong */
static swco_channel_t *ping, *pong;
static void ponger(void *arg)
{
    void *v;
    while (swco_channel_pop(ping, &v, -1) == 0)
        swco_channel_push(pong, v, -1);
}

static void pinger(void *arg)
{
    const long n = 2000000;
    swco_coroutine_create(ponger, NULL);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        void *v;
        swco_channel_push(ping, (void *)i, -1);
        swco_channel_pop(pong, &v, -1);
    }
    *(double *)arg = (now() - t0) / (double)n * 1e9;
    swco_channel_close(ping);
}

/* A value to another coroutine and back, over two channels of capacity
 * 0 (Go's unbuffered) and 1 (Swoole's default). */
static void bench_channel(void)
{
    for (long capacity = 0; capacity <= 1; capacity++) {
        double ns = 0;
        ping = swco_channel_new(capacity);
        pong = swco_channel_new(capacity);
        swco_run(pinger, &ns);
        swco_channel_free(ping);
        swco_channel_free(pong);
        printf("channel round trip (cap %ld)      : %8.1f ns\n", capacity, ns);
    }
}

/* ---------------------------------------------------------------- select */
/* The cost of choosing: a pop from one ready channel against a select of
 * two ready channels (a fair pick, then the same pop), each followed by the
 * push that makes the channel ready again.  No coroutine switch. */
static void bench_select(void)
{
    const long n = 5000000;
    swco_channel_t *x = swco_channel_new(1), *y = swco_channel_new(1);
    swco_channel_t *chans[2] = {x, y};
    swco_select_t *sel = swco_select_new();
    swco_select_add_pop(sel, x);
    swco_select_add_pop(sel, y);
    swco_channel_push(x, "x", 0);
    swco_channel_push(y, "y", 0);
    void *v;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        swco_channel_pop(x, &v, 0);
        swco_channel_push(x, v, 0);
    }
    double pop = (now() - t0) / (double)n * 1e9;
    t0 = now();
    for (long i = 0; i < n; i++) {
        int k = swco_select_try(sel);
        swco_channel_push(chans[k], swco_select_value(sel), 0);
    }
    double sel_ns = (now() - t0) / (double)n * 1e9;
    printf("pop+push, 1 ready channel       : %8.1f ns\n", pop);
    printf("select+push, 2 ready channels   : %8.1f ns\n", sel_ns);
    swco_select_free(sel);
    swco_channel_free(x);
    swco_channel_free(y);
}

/* ---------------------------------------------------------------- timers */
static void never(long id, void *arg) {}

static void bench_timers(void)
{
    enum { N = 100000 };
    static long ids[N];
    swco_event_cycle(NULL, NULL, NULL); /* create the loop outside the timing */
    double t0 = now();
    for (long i = 0; i < N; i++)
        ids[i] = swco_timer_after((1000 + (i * 7919) % 100000) / 1000.0, never, NULL, NULL);
    for (long i = 0; i < N; i++)
        swco_timer_clear(ids[i]);
    double t = now() - t0;
    printf("100,000 timers added and removed: %8.2f ms\n", t * 1e3);
    swco_event_wait();
}

/* ------------------------------------------------------------ idle memory */
static void idle(void *arg) { swco_coroutine_yield(); }

static void bench_memory(void)
{
    /* Each guarded stack is two mappings; stay well inside vm.max_map_count. */
    enum { N = 20000 };
    static long ids[N];
    long made = 0;
    long before = rss_bytes();
    for (long i = 0; i < N; i++)
        if ((ids[made] = swco_coroutine_create(idle, NULL)) > 0)
            made++;
    long after = rss_bytes();
    printf("memory per idle coroutine       : %8.2f KiB resident (%ld coroutines)\n",
           (double)(after - before) / (double)made / 1024.0, made);
    for (long i = 0; i < made; i++)
        swco_coroutine_resume(ids[i]);
}

int main(int argc, char **argv)
{
    printf("libswco %s core benchmark (one thread)\n", swco_version_string());
#if defined(SWCO_BENCH_RAW_SWITCH)
    bench_raw_switch();
#endif
    bench_switch();
    bench_create();
    bench_channel();
    bench_select();
    bench_timers();
    bench_memory();
    return 0;
}
