/* make bench: shared-memory Table, Atomic and Lock figures.  There is no
 * peer to run; each line prints the target it is measured against. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <swco.h>

enum { ROWS = 1000000 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char (*keys)[16];

/* set then get every key in [lo, hi); returns the operations done. */
static long set_get(swco_table_t *t, long lo, long hi, int passes)
{
    static const char s[64] = "0123456789012345678901234567890123456789012345678901234567890123";
    long ops = 0;
    for (int p = 0; p < passes; p++)
        for (long i = lo; i < hi; i++) {
            int64_t v;
            if (swco_table_set_int(t, keys[i], "i", i + p) != 0 ||
                swco_table_get_int(t, keys[i], "i", &v) != 0 || v != i + p) {
                fprintf(stderr, "table error at %ld\n", i);
                exit(1);
            }
            if ((i & 15) == 0) {
                swco_table_set_double(t, keys[i], "d", 0.5);
                swco_table_set_string(t, keys[i], "s", s, sizeof s);
                ops += 2;
            }
            ops += 2;
        }
    return ops;
}

int main(void)
{
    keys = malloc(sizeof *keys * ROWS);
    for (long i = 0; i < ROWS; i++)
        snprintf(keys[i], sizeof keys[i], "key:%07ld", i);
    swco_table_t *t = swco_table_new(ROWS);
    swco_table_column(t, "i", SWCO_TABLE_INT, 0);
    swco_table_column(t, "d", SWCO_TABLE_DOUBLE, 0);
    swco_table_column(t, "s", SWCO_TABLE_STRING, 64);
    if (swco_table_create(t) != 0) {
        fprintf(stderr, "table create: %s\n", swco_strerror(swco_last_error()));
        return 1;
    }
    set_get(t, 0, ROWS, 1); /* fill and fault in */
    double t0 = now();
    long ops = set_get(t, 0, ROWS, 3);
    double el = now() - t0;
    printf("table set+get, 1 process, 1M rows: %.1f M ops/s (target 20.0 M, Swoole 2.3 M)\n",
           (double)ops / el / 1e6);

    swco_atomic64_t *total = swco_atomic64_new(0);
    t0 = now();
    for (int p = 0; p < 2; p++)
        if (fork() == 0) {
            swco_atomic64_add(total, set_get(t, p * (ROWS / 2), (p + 1) * (ROWS / 2), 3));
            _exit(0);
        }
    while (wait(NULL) > 0)
        ;
    el = now() - t0;
    printf("table set+get, 2 processes, 1M rows: %.1f M ops/s (target 20.0 M)\n",
           (double)swco_atomic64_get(total) / el / 1e6);
    swco_table_free(t);

    /* The same work on 10,000 rows that stay in cache: the cost of the code
     * itself, without the memory misses a 1M-row table pays. */
    t = swco_table_new(10000);
    swco_table_column(t, "i", SWCO_TABLE_INT, 0);
    swco_table_column(t, "d", SWCO_TABLE_DOUBLE, 0);
    swco_table_column(t, "s", SWCO_TABLE_STRING, 64);
    swco_table_create(t);
    set_get(t, 0, 10000, 1);
    t0 = now();
    ops = set_get(t, 0, 10000, 300);
    el = now() - t0;
    printf("table set+get, 1 process, 10K rows: %.1f M ops/s (target 20.0 M)\n",
           (double)ops / el / 1e6);
    swco_table_free(t);

    swco_atomic_t *a = swco_atomic_new(0);
    long n = 200000000;
    t0 = now();
    for (long i = 0; i < n; i++)
        swco_atomic_add(a, 1);
    el = now() - t0;
    printf("atomic add, 1 process: %.1f M ops/s (target 100.0 M)\n", (double)n / el / 1e6);
    swco_atomic_free(a);

    static const char *names[] = {"mutex", "rwlock", "spinlock", "semaphore"};
    for (int type = 0; type < 4; type++) {
        swco_lock_t *l = swco_lock_new(type, 1);
        n = 10000000;
        t0 = now();
        for (long i = 0; i < n; i++) {
            swco_lock_lock(l);
            swco_lock_unlock(l);
        }
        el = now() - t0;
        printf("lock %s acquire+release: %.1f ns\n", names[type], el / (double)n * 1e9);
        swco_lock_free(l);
    }
    swco_atomic64_free(total);
    free(keys);
    return 0;
}
