/* The shared-memory layout of a Table, and the check a process runs on a
 * segment it did not write before it uses it (swco_table_attach()).  Kept
 * free of the library's other internals so that the fuzz target and the
 * tests can use it alone. */
#ifndef SWCO_TABLE_INT_H
#define SWCO_TABLE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <swco/table.h>

#define SWCO__TABLE_MAGIC 0x324c42544f435753ULL /* "SWCOTBL2" */
#define SWCO__TABLE_VERSION 2
#define SWCO__TABLE_ROW_HDR 72          /* lock, next, keylen, key[63] */
#define SWCO__TABLE_ROWS_MAX (1u << 30) /* rows given to swco_table_new() */
#define SWCO__TABLE_STRING_MAX (1u << 20)

typedef struct swco__table_col {
    char name[SWCO_TABLE_NAME_MAX + 1];
    uint32_t type;
    uint32_t size;   /* string capacity; 8 for numbers */
    uint32_t offset; /* in the row's data */
    uint32_t pad;
} swco__table_col_t;

typedef struct swco__table_hdr {
    uint64_t magic;
    uint32_t ready;
    uint32_t ncols;
    swco__table_col_t cols[SWCO_TABLE_COLUMN_MAX];
    uint64_t capacity, nbuckets, nconflict, row_size, data_size, total_size, hdr_size;
    uint32_t pool_lock;
    uint32_t free_head;   /* 1-based conflict row index of the free list */
    uint64_t next_unused; /* conflict rows never used start here */
    int64_t rows_used;
    int64_t conflict_used;
    uint32_t version;   /* SWCO__TABLE_VERSION */
    uint32_t hdr_bytes; /* sizeof(swco__table_hdr_t) of the creator */
    uint64_t seg_id;    /* tells segments apart (also two mappings of one) */
} swco__table_hdr_t;

/* The layout of a table of rows rows whose columns take data_size bytes:
 * buckets, conflict rows, row size and header size. */
void swco__table_layout(uint64_t rows, uint64_t data_size, uint64_t *nbuckets,
                        uint64_t *nconflict, uint64_t *row_size, uint64_t *hdr_size);

/* Check the size bytes at mem (a segment another process created) before
 * any use: 0 when it is a sound table header whose columns equal the
 * ncols of cols (any columns when cols is NULL), -EAGAIN while its
 * creator has not finished it, SWCO_ESCHEMA for anything else.  Reads
 * only the header, once, into *copy when copy is not NULL: use that copy,
 * not the shared one, which any process may change after the check.
 * Never reads outside [mem, mem + size). */
int swco__table_check_header(const void *mem, size_t size, const swco__table_col_t *cols,
                             int ncols, swco__table_hdr_t *copy);

/* In table.c: use size bytes at mem as t's table after the check above
 * (swco_table_attach() without the shm_open()); returns its answer.
 * Unbind forgets the memory without unmapping it (the fuzz target's). */
int swco__table_bind(swco_table_t *t, void *mem, size_t size);
void swco__table_unbind(swco_table_t *t);
/* The segment t uses (its header first), NULL before creation. */
const void *swco__table_segment(const swco_table_t *t);

#endif
