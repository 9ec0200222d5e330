/* Fuzz target for the check of a Table header that another process wrote
 * (swco__table_check_header(), lib/shm/table_hdr.c), which
 * swco_table_attach() runs on a named segment before using it.
 *
 * With libFuzzer: clang -fsanitize=fuzzer,address,undefined
 * -DSWCO_FUZZ_LIBFUZZER ...  Without it (make check) main() runs the corpus
 * files given on the command line and a fixed number of pseudo-random
 * inputs.
 *
 * Input: byte 0 picks the mode.  Mode 0: the rest is the segment, raw.
 * Otherwise bytes 1-4 choose a schema and a row count, a sound segment is
 * built for it, and the rest is a list of 4-byte mutations (op, offset
 * low, offset high, value) applied to its header or its size; mode 1
 * checks against the schema's columns, the others accept any columns.
 * Invariants: the check answers 0, -EAGAIN or SWCO_ESCHEMA; an unmutated
 * segment passes; a segment that passes has a layout that fits its size
 * exactly (each row is touched, so ASan sees any overrun). */
#include "fuzz_main.h"
#include "shm/table_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <swco/error.h>


#define HDR sizeof(swco__table_hdr_t)

static void fail(const char *what, uint64_t a, uint64_t b)
{
    fprintf(stderr, "fuzz_table: %s (%llu, %llu)\n", what, (unsigned long long)a,
            (unsigned long long)b);
    abort();
}

/* Everything a passing header promises, checked on our own copy. */
static void verify(const unsigned char *mem, size_t size)
{
    swco__table_hdr_t h;
    memcpy(&h, mem, sizeof h);
    if (h.nbuckets == 0 || (h.nbuckets & (h.nbuckets - 1)))
        fail("buckets not a power of two", h.nbuckets, 0);
    if (h.hdr_size < HDR || h.hdr_size > size)
        fail("header size", h.hdr_size, size);
    uint64_t rows = h.nbuckets + h.nconflict;
    if (h.row_size < SWCO__TABLE_ROW_HDR + h.data_size)
        fail("row size", h.row_size, h.data_size);
    if (rows > (size - h.hdr_size) / h.row_size || h.hdr_size + rows * h.row_size != size)
        fail("rows do not fit", rows, size);
    if (h.ncols == 0 || h.ncols > SWCO_TABLE_COLUMN_MAX)
        fail("columns", h.ncols, 0);
    for (uint32_t i = 0; i < h.ncols; i++) {
        const swco__table_col_t *c = &h.cols[i];
        uint64_t span = c->type == SWCO_TABLE_STRING ? 4 + (uint64_t)c->size : 8;
        if ((uint64_t)c->offset + span > h.data_size)
            fail("column outside the row", i, c->offset);
        if (memchr(c->name, 0, sizeof c->name) == NULL)
            fail("column name not terminated", i, 0);
    }
    if (h.free_head && (h.free_head <= h.nbuckets || h.free_head > rows))
        fail("free list head", h.free_head, rows);
    if (h.rows_used < 0 || (uint64_t)h.rows_used > h.capacity)
        fail("rows used", (uint64_t)h.rows_used, h.capacity);
    /* Touch the first and last byte of every row. */
    volatile unsigned char sink = 0;
    for (uint64_t r = 0; r < rows; r++) {
        const unsigned char *row = mem + h.hdr_size + r * h.row_size;
        sink ^= row[0];
        sink ^= row[h.row_size - 1];
    }
    (void)sink;
}

static void check(const unsigned char *mem, size_t size, const swco__table_col_t *cols,
                  int ncols)
{
    swco__table_hdr_t copy;
    int rc = swco__table_check_header(mem, size, cols, ncols, &copy);
    if (rc != 0 && rc != -EAGAIN && rc != SWCO_ESCHEMA)
        fail("unexpected answer", (uint64_t)(int64_t)rc, 0);
    if (rc == 0) {
        if (memcmp(&copy, mem, sizeof copy) != 0)
            fail("copy differs from the checked header", 0, 0);
        verify(mem, size);
    }
}

/* Columns as swco_table_column() lays them out. */
static int make_cols(const uint8_t *sel, swco__table_col_t *cols, uint64_t *data_size)
{
    int ncols = 1 + sel[0] % 4;
    uint64_t off = 0;
    memset(cols, 0, sizeof(swco__table_col_t) * SWCO_TABLE_COLUMN_MAX);
    for (int i = 0; i < ncols; i++) {
        swco__table_col_t *c = &cols[i];
        snprintf(c->name, sizeof c->name, "c%d", i);
        c->type = 1 + (uint32_t)((sel[1] >> (2 * i)) & 3) % 3;
        c->size = c->type == SWCO_TABLE_STRING ? 1 + (uint32_t)(sel[2] >> i) % 64 : 8;
        c->offset = (uint32_t)off;
        off += c->type == SWCO_TABLE_STRING ? (4 + (uint64_t)c->size + 7) / 8 * 8 : 8;
    }
    *data_size = off;
    return ncols;
}

static uint64_t interesting(uint8_t v, const swco__table_hdr_t *h, size_t size)
{
    static const uint64_t fixed[] = {0, 1, 2, 7, 8, 63, 64, 0x7fffffff, 0x80000000ULL,
                                     0xffffffffULL, 1ULL << 30, (1ULL << 30) + 1, 1ULL << 32,
                                     1ULL << 40, 1ULL << 62, ~0ULL};
    switch (v % 24) {
    case 16: return size;
    case 17: return size + 1;
    case 18: return h->nbuckets + 1;
    case 19: return h->nbuckets + h->nconflict;
    case 20: return h->nbuckets + h->nconflict + 1;
    case 21: return h->row_size * 2;
    case 22: return h->capacity * 2;
    case 23: return (uint64_t)v << 8 | v;
    default: return fixed[v % 16];
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] % 4 == 0) {
        /* Raw bytes, in a buffer of exactly their size. */
        size_t n = size - 1;
        unsigned char *mem = malloc(n ? n : 1);
        if (!mem)
            return 0;
        memcpy(mem, data + 1, n);
        check(mem, n, NULL, 0);
        free(mem);
        return 0;
    }
    if (size < 5)
        return 0;
    swco__table_col_t cols[SWCO_TABLE_COLUMN_MAX];
    uint64_t data_size;
    int ncols = make_cols(data + 1, cols, &data_size);
    uint64_t rows = 1 + data[4] % 16, nb, nc, rs, hs;
    swco__table_layout(rows, data_size, &nb, &nc, &rs, &hs);
    size_t seg = (size_t)(hs + (nb + nc) * rs);
    unsigned char *mem = calloc(1, seg + 256);
    if (!mem)
        return 0;
    swco__table_hdr_t *h = (swco__table_hdr_t *)mem;
    h->magic = SWCO__TABLE_MAGIC;
    h->ready = 1;
    h->ncols = (uint32_t)ncols;
    memcpy(h->cols, cols, sizeof h->cols);
    h->capacity = rows;
    h->nbuckets = nb;
    h->nconflict = nc;
    h->row_size = rs;
    h->data_size = data_size;
    h->total_size = seg;
    h->hdr_size = hs;
    h->version = SWCO__TABLE_VERSION;
    h->hdr_bytes = HDR;
    h->seg_id = 42;
    const swco__table_col_t *want = data[0] % 4 == 1 ? cols : NULL;
    if (size < 9 && swco__table_check_header(mem, seg, want, ncols, NULL) != 0)
        fail("a sound segment was refused", seg, (uint64_t)ncols);
    size_t len = seg;
    for (size_t i = 5; i + 4 <= size; i += 4) {
        uint8_t op = data[i], v = data[i + 3];
        size_t off = (size_t)(data[i + 1] | data[i + 2] << 8) % HDR;
        uint64_t x = interesting(v, h, len);
        switch (op % 5) {
        case 0: mem[off] ^= v ? v : 0x80; break;
        case 1: {
            uint32_t y = (uint32_t)x;
            memcpy(mem + (off & ~(size_t)3), &y, 4);
            break;
        }
        case 2: memcpy(mem + (off & ~(size_t)7), &x, 8); break;
        case 3:
            /* Shrink, or grow into the zeroed slack after the segment. */
            if (v % 2)
                len -= len > v ? v : 0;
            else if (len + v % 64 <= seg + 256)
                len += v % 64;
            break;
        default: mem[off] = v; break;
        }
    }
    /* The segment is len bytes: give ASan exactly that. */
    unsigned char *exact = malloc(len ? len : 1);
    if (exact) {
        memcpy(exact, mem, len);
        check(exact, len, want, ncols);
        free(exact);
    }
    free(mem);
    return 0;
}

#ifndef SWCO_FUZZ_LIBFUZZER
int main(int argc, char **argv)
{
    if (fuzz_run_files(argc, argv))
        return 1;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 20000; round++) {
        uint8_t buf[64];
        size_t n = 5 + (size_t)(x % 40);
        fuzz_fill(buf, n, &x);
        /* Few mutations, so that many segments are nearly sound. */
        if (round % 3 == 0)
            n = 5 + 4 * (round % 2);
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
