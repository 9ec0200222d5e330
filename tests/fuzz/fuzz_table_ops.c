/* Fuzz target for a Table whose shared memory another process corrupted:
 * a sound table is built and filled (lib/shm/table.c, compiled in), the
 * input rewrites bytes anywhere in its segment (header, chain links, key
 * and string lengths, the free list), and a second handle binds the
 * result as swco_table_attach() would and runs every kind of call on it.
 * Invariant: the bind answers 0, -EAGAIN or SWCO_ESCHEMA, and no call
 * reads or writes outside the segment or fails to end (ASan and the
 * fuzzer's timeout watch).
 *
 * With libFuzzer: clang -fsanitize=fuzzer,address,undefined
 * -DSWCO_FUZZ_LIBFUZZER ...  Without it (make check) main() runs the
 * corpus files given on the command line and fixed pseudo-random inputs.
 *
 * Input: bytes 0-2 choose the columns, byte 3 the rows, byte 4 how many
 * keys to store; then 5-byte mutations (op, offset as 3 bytes, value).
 * The lock words are cleared afterwards: a lock word holding a live pid is
 * a process that holds the lock, and waiting for it is right. */
#include "fuzz_main.h"
#include "shm/shm_int.h"
#include "shm/table_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>


/* What table.c needs from the rest of the library. */
static int last_error;
int swco__fail(int code) { return last_error = code; }
int swco_last_error(void) { return last_error; }
uint64_t swco__now_ns(void) { return 12345; }
pid_t swco__pid(void) { return 4242; }
int swco__pid_dead(pid_t pid) { return pid != 4242; }
void *swco__shm_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
void swco__shm_free(void *p, size_t size) { munmap(p, size); }

static const char *names[4] = {"c0", "c1", "c2", "c3"};

static int define(swco_table_t *t, const uint8_t *sel)
{
    int ncols = 1 + sel[0] % 4;
    for (int i = 0; i < ncols; i++) {
        int type = 1 + ((sel[1] >> (2 * i)) & 3) % 3;
        size_t sz = type == SWCO_TABLE_STRING ? 1 + (size_t)(sel[2] >> i) % 64 : 0;
        if (swco_table_column(t, names[i], type, sz) != 0)
            abort();
    }
    return ncols;
}

typedef struct ctx {
    swco_table_t *t;
    int ncols;
} ctx_t;

/* Every read and write the table offers, on key. */
static void poke(swco_table_t *t, int ncols, const char *key, int write)
{
    int64_t i;
    double d;
    char buf[80];
    for (int c = 0; c < ncols; c++) {
        int type = swco_table_column_type(t, names[c]);
        if (type == SWCO_TABLE_INT) {
            swco_table_get_int(t, key, names[c], &i);
            if (write)
                swco_table_incr(t, key, names[c], 3, &i);
        } else if (type == SWCO_TABLE_DOUBLE) {
            swco_table_get_double(t, key, names[c], &d);
            if (write)
                swco_table_incr_double(t, key, names[c], 0.5, &d);
        } else {
            long n = swco_table_get_string(t, key, names[c], buf, sizeof buf);
            if (n > (long)sizeof buf)
                abort();
            if (write)
                swco_table_set_string(t, key, names[c], "xyz", 3);
        }
    }
    swco_table_exists(t, key);
}

static int inside(swco_table_row_t *row, void *arg)
{
    ctx_t *c = arg;
    char key[8];
    for (int k = 0; k < 10; k++) {
        snprintf(key, sizeof key, "k%d", k);
        poke(c->t, c->ncols, key, k == 2);
    }
    swco_table_row_set_string(row, names[0], "u", 1); /* -EINVAL unless a string */
    swco_table_row_set_int(row, names[0], 9);
    return 0;
}

static void exercise(swco_table_t *t, int ncols)
{
    char key[80];
    swco_table_stats_t st = {.size = sizeof st};
    swco_table_stats(t, &st);
    swco_table_count(t);
    swco_table_iter_t *it = swco_table_iter_new(t);
    int guard = 0;
    while (it && swco_table_iter_next(it, key, sizeof key) > 0 && guard++ < 100000)
        poke(t, ncols, key, 0);
    swco_table_iter_free(it);
    for (int k = 0; k < 12; k++) {
        snprintf(key, sizeof key, "k%d", k);
        poke(t, ncols, key, k % 3 == 0);
    }
    ctx_t c = {t, ncols};
    swco_table_update(t, "k1", inside, &c);
    swco_table_row_t *row = swco_table_row_new(t);
    if (row) {
        swco_table_get_row(t, "k4", row);
        swco_table_set_row(t, "k5", row);
        swco_table_row_free(row);
    }
    for (int k = 0; k < 12; k += 2) {
        snprintf(key, sizeof key, "k%d", k);
        swco_table_del(t, key);
    }
    for (int k = 20; k < 40; k++) {
        snprintf(key, sizeof key, "k%d", k);
        poke(t, ncols, key, 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    size_t rows = 1 + data[3] % 16;
    swco_table_t *maker = swco_table_new(rows);
    int ncols = define(maker, data);
    if (swco_table_create(maker) != 0)
        abort();
    char key[8];
    for (int k = 0; k < data[4] % 12; k++) {
        snprintf(key, sizeof key, "k%d", k);
        poke(maker, ncols, key, 1);
    }
    size_t seg = swco_table_memory_size(maker);
    /* Copy out, mutate, clear lock words. */
    unsigned char *mem = malloc(seg + 256);
    if (!mem)
        abort();
    memset(mem, 0, seg + 256);
    const swco__table_hdr_t *mh = swco__table_segment(maker);
    memcpy(mem, mh, seg);
    uint64_t nb, nc, rs, hs;
    swco__table_layout(rows, mh->data_size, &nb, &nc, &rs, &hs);
    size_t len = seg;
    for (size_t i = 5; i + 5 <= size; i += 5) {
        uint8_t op = data[i], v = data[i + 4];
        size_t off = (size_t)(data[i + 1] | data[i + 2] << 8 | data[i + 3] << 16) % len;
        switch (op % 6) {
        case 0: mem[off] ^= v ? v : 0x80; break;
        case 1: mem[off] = v; break;
        case 2: {
            static const uint32_t odd[] = {0, 1, 0x7fffffff, 0xffffffff, 64, 65, 100, 200};
            uint32_t x = v < 8 ? odd[v] : v;
            if ((off & ~(size_t)3) + 4 <= len)
                memcpy(mem + (off & ~(size_t)3), &x, 4);
            break;
        }
        case 3: {
            /* A chain link of row off % rows to v % (rows + 2). */
            uint64_t r = off % (nb + nc);
            uint32_t x = (uint32_t)(v % (nb + nc + 2));
            memcpy(mem + hs + r * rs + 4, &x, 4);
            break;
        }
        case 4: {
            /* A key length. */
            uint64_t r = off % (nb + nc);
            mem[hs + r * rs + 8] = v;
            break;
        }
        default:
            if (v % 2)
                len -= len > v ? v : 0;
            else if (len + v % 64 <= seg + 256)
                len += v % 64;
            break;
        }
    }
    memset(mem + offsetof(swco__table_hdr_t, pool_lock), 0, 4);
    for (uint64_t r = 0; r < nb + nc && hs + r * rs + 4 <= len; r++)
        memset(mem + hs + r * rs, 0, 4);
    unsigned char *exact = malloc(len ? len : 1);
    if (!exact)
        abort();
    memcpy(exact, mem, len);
    free(mem);
    swco_table_t *t = swco_table_new(1);
    define(t, data);
    int rc = swco__table_bind(t, exact, len);
    if (rc != 0 && rc != -EAGAIN && rc != SWCO_ESCHEMA)
        abort();
    if (rc == 0) {
        exercise(t, ncols);
        swco__table_unbind(t);
    }
    swco_table_free(t);
    free(exact);
    swco_table_free(maker);
    return 0;
}

#ifndef SWCO_FUZZ_LIBFUZZER
int main(int argc, char **argv)
{
    if (fuzz_run_files(argc, argv))
        return 1;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 3000; round++) {
        uint8_t buf[64];
        size_t n = 5 + (size_t)(x % 60);
        fuzz_fill(buf, n, &x);
        /* Mutations of rows only, mostly: keep the header sound. */
        for (size_t i = 5; i + 5 <= n; i += 5)
            if (round % 2)
                buf[i] = (uint8_t)(3 + buf[i] % 2);
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
