/* Layout of a Table's shared segment and the check of a header another
 * process wrote (see table_int.h).  No dependency on the rest of the
 * library: the fuzz target links this file alone. */
#include "table_int.h"

#include <errno.h>
#include <string.h>

#include <swco/error.h>

static uint64_t round_up8(uint64_t n) { return (n + 7) / 8 * 8; }

void swco__table_layout(uint64_t rows, uint64_t data_size, uint64_t *nbuckets,
                        uint64_t *nconflict, uint64_t *row_size, uint64_t *hdr_size)
{
    uint64_t p = 1;
    while (p < rows)
        p <<= 1;
    *nbuckets = p;
    *nconflict = rows / 2 + 64;
    *row_size = SWCO__TABLE_ROW_HDR + round_up8(data_size);
    *hdr_size = (sizeof(swco__table_hdr_t) + 63) / 64 * 64;
}

/* The columns must be what swco_table_column() builds: named, typed,
 * packed in order, unused slots zero.  Returns their data size, 0 if bad. */
static uint64_t check_cols(const swco__table_col_t *cols, uint32_t ncols)
{
    static const swco__table_col_t zero;
    uint64_t data = 0;
    for (uint32_t i = 0; i < SWCO_TABLE_COLUMN_MAX; i++) {
        const swco__table_col_t *c = &cols[i];
        if (i >= ncols) {
            if (memcmp(c, &zero, sizeof zero) != 0)
                return 0;
            continue;
        }
        size_t len = strnlen(c->name, sizeof c->name);
        if (len == 0 || len > SWCO_TABLE_NAME_MAX)
            return 0;
        for (size_t k = len; k < sizeof c->name; k++)
            if (c->name[k])
                return 0;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(cols[j].name, c->name) == 0)
                return 0;
        if (c->pad != 0 || c->offset != data)
            return 0;
        switch (c->type) {
        case SWCO_TABLE_INT:
        case SWCO_TABLE_DOUBLE:
            if (c->size != 8)
                return 0;
            data += 8;
            break;
        case SWCO_TABLE_STRING:
            if (c->size == 0 || c->size > SWCO__TABLE_STRING_MAX)
                return 0;
            data += round_up8(4 + (uint64_t)c->size);
            break;
        default:
            return 0;
        }
    }
    return data;
}

int swco__table_check_header(const void *mem, size_t size, const swco__table_col_t *cols,
                             int ncols, swco__table_hdr_t *copy)
{
    if (!mem || size < sizeof(swco__table_hdr_t))
        return size == 0 ? -EAGAIN : SWCO_ESCHEMA;
    const swco__table_hdr_t *h = mem;
    if (!__atomic_load_n(&h->ready, __ATOMIC_ACQUIRE))
        return -EAGAIN;
    /* Copy the header once: the creator (or anyone) may still write it. */
    swco__table_hdr_t tmp, *cp = copy ? copy : &tmp;
    memcpy(cp, h, sizeof *cp);
    const swco__table_hdr_t c = *cp;
    if (c.magic != SWCO__TABLE_MAGIC || c.version != SWCO__TABLE_VERSION ||
        c.hdr_bytes != sizeof(swco__table_hdr_t))
        return SWCO_ESCHEMA;
    if (c.ncols == 0 || c.ncols > SWCO_TABLE_COLUMN_MAX)
        return SWCO_ESCHEMA;
    if (cols && (c.ncols != (uint32_t)ncols || memcmp(c.cols, cols, sizeof c.cols) != 0))
        return SWCO_ESCHEMA;
    uint64_t data = check_cols(c.cols, c.ncols);
    if (data == 0 || data != c.data_size)
        return SWCO_ESCHEMA;
    if (c.capacity == 0 || c.capacity > SWCO__TABLE_ROWS_MAX)
        return SWCO_ESCHEMA;
    uint64_t nb, nc, rs, hs;
    swco__table_layout(c.capacity, c.data_size, &nb, &nc, &rs, &hs);
    if (c.nbuckets != nb || c.nconflict != nc || c.row_size != rs || c.hdr_size != hs)
        return SWCO_ESCHEMA;
    /* Bounded above: nb + nc < 2^31 rows of at most 2^25 bytes. */
    uint64_t total = hs + (nb + nc) * rs;
    if (c.total_size != total || total != (uint64_t)size)
        return SWCO_ESCHEMA;
    if (c.free_head && (c.free_head <= nb || c.free_head > nb + nc))
        return SWCO_ESCHEMA;
    if (c.next_unused > nc || c.rows_used < 0 || (uint64_t)c.rows_used > c.capacity ||
        c.conflict_used < 0 || (uint64_t)c.conflict_used > nc)
        return SWCO_ESCHEMA;
    return 0;
}
