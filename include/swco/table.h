/* libswco: a fixed-capacity hash table in shared memory.
 *
 * Define the columns, create the table (anonymous shared memory before
 * fork(), or named so that unrelated processes attach to it), then read
 * and write rows from any process.  Each hash bucket has its own lock; a
 * process that dies holding one is detected and the lock recovered.
 *
 *   swco_table_t *t = swco_table_new(1024);
 *   swco_table_column(t, "hits", SWCO_TABLE_INT, 0);
 *   swco_table_column(t, "name", SWCO_TABLE_STRING, 32);
 *   swco_table_create(t);
 *   swco_table_set_int(t, "k1", "hits", 1);
 */
#ifndef SWCO_TABLE_H
#define SWCO_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <swco/export.h>

SWCO_BEGIN_DECLS

typedef struct swco_table swco_table_t;
typedef struct swco_table_row swco_table_row_t;
typedef struct swco_table_iter swco_table_iter_t;

/* Column types. */
enum swco_table_type {
    SWCO_TABLE_INT = 1,    /* int64_t */
    SWCO_TABLE_DOUBLE = 2, /* double */
    SWCO_TABLE_STRING = 3  /* up to size bytes, binary safe */
};

/* Limits. */
#define SWCO_TABLE_KEY_MAX 63      /* bytes in a key */
#define SWCO_TABLE_COLUMN_MAX 32   /* columns in a table */
#define SWCO_TABLE_NAME_MAX 31     /* bytes in a column name */

/* Figures returned by swco_table_stats().  Set size to sizeof the struct
 * before the call; fields added later go at the end. */
typedef struct swco_table_stats {
    size_t size;               /* set by the caller: sizeof(swco_table_stats_t) */
    size_t capacity;           /* rows the table accepts */
    size_t rows_used;          /* rows stored now */
    size_t buckets;            /* hash buckets (one row each) */
    size_t conflict_capacity;  /* extra rows for keys whose bucket is taken */
    size_t conflict_used;      /* of those, in use now */
    size_t longest_chain;      /* most rows in one bucket now */
    size_t memory_size;        /* bytes of shared memory */
} swco_table_stats_t;

/**
 * swco_table_new - start defining a table of up to rows rows
 *
 * Add columns with swco_table_column(), then call swco_table_create() or
 * swco_table_create_named(), or swco_table_attach() to open one that
 * exists.  Returns the table, or NULL with swco_last_error() set to
 * -EINVAL (rows 0 or above 2^30) or -ENOMEM.
 */
SWCO_API swco_table_t *swco_table_new(size_t rows);

/**
 * swco_table_free - release this process's handle and mapping
 *
 * The shared memory lives on while other processes map it; a named table
 * stays until swco_table_unlink().  NULL is ignored.
 */
SWCO_API void swco_table_free(swco_table_t *t);

/**
 * swco_table_column - add a column before the table is created
 *
 * type is SWCO_TABLE_INT, SWCO_TABLE_DOUBLE or SWCO_TABLE_STRING; size is
 * the largest string in bytes (ignored for numbers).  Returns 0; -EINVAL
 * for a bad type, zero string size, empty name or a table already
 * created; -ENAMETOOLONG for a name over SWCO_TABLE_NAME_MAX; -EEXIST for
 * a duplicate name; -ENOSPC past SWCO_TABLE_COLUMN_MAX columns.
 */
SWCO_API int swco_table_column(swco_table_t *t, const char *name, int type, size_t size);

/**
 * swco_table_memory_size - bytes of shared memory the table needs
 *
 * Valid before creation, from the columns added so far.  Returns the
 * size, or 0 for NULL.
 */
SWCO_API size_t swco_table_memory_size(const swco_table_t *t);

/**
 * swco_table_create - allocate the table in anonymous shared memory
 *
 * Processes forked afterwards share it.  Returns 0, -EINVAL (no column,
 * already created), -ENOMEM.
 */
SWCO_API int swco_table_create(swco_table_t *t);

/**
 * swco_table_create_named - allocate the table in named shared memory
 *
 * name is a shm_open() name ("/mytable").  Other processes open it with
 * swco_table_attach().  Returns 0, -EEXIST when the name is taken, -EINVAL,
 * or another -errno from shm_open()/ftruncate()/mmap().
 */
SWCO_API int swco_table_create_named(swco_table_t *t, const char *name);

/**
 * swco_table_attach - open a named table created by another process
 *
 * The columns defined on t must be the same (names, types, sizes, order)
 * as the creator's; the row count given to swco_table_new() is not
 * checked.  The whole header of the memory is checked before use (magic,
 * layout version, column layout, sizes, counters, free list), since
 * another process wrote it; afterwards only this process's checked copy
 * of the layout is used, and chain links or lengths that a broken process
 * writes into rows later cannot send a call outside the mapping.  Returns
 * 0, -ENOENT when no such table exists, SWCO_ESCHEMA when the columns
 * differ or the memory is not a sound table (also one created by a
 * library with another layout version), -EAGAIN while the creator is
 * still initialising it, -EINVAL.
 */
SWCO_API int swco_table_attach(swco_table_t *t, const char *name);

/**
 * swco_table_unlink - remove a named table's name
 *
 * Processes that have it mapped keep using it.  Returns 0 or -errno.
 */
SWCO_API int swco_table_unlink(const char *name);

/**
 * swco_table_set_int - set an integer column, creating the row if absent
 *
 * A new row starts with every column zero.  Returns 0; SWCO_EKEYTOOLONG
 * (key over SWCO_TABLE_KEY_MAX bytes), -EINVAL (empty key, column of
 * another type, table not created), SWCO_ENOCOLUMN, SWCO_EFULL.  On error
 * the table is unchanged.
 */
SWCO_API int swco_table_set_int(swco_table_t *t, const char *key, const char *column,
                                int64_t value);

/**
 * swco_table_set_double - set a double column, creating the row if absent
 *
 * Returns as swco_table_set_int().
 */
SWCO_API int swco_table_set_double(swco_table_t *t, const char *key, const char *column,
                                   double value);

/**
 * swco_table_set_string - set a string column from len bytes of value
 *
 * Returns as swco_table_set_int(), plus SWCO_EVALTOOLONG when len exceeds
 * the column's size.
 */
SWCO_API int swco_table_set_string(swco_table_t *t, const char *key, const char *column,
                                   const void *value, size_t len);

/**
 * swco_table_get_int - read an integer column into *out
 *
 * Returns 0, -ENOENT when the row does not exist, SWCO_ENOCOLUMN, -EINVAL.
 */
SWCO_API int swco_table_get_int(swco_table_t *t, const char *key, const char *column,
                                int64_t *out);

/**
 * swco_table_get_double - read a double column into *out
 *
 * Returns as swco_table_get_int().
 */
SWCO_API int swco_table_get_double(swco_table_t *t, const char *key, const char *column,
                                   double *out);

/**
 * swco_table_get_string - copy a string column into buf (cap bytes)
 *
 * A NUL is added when it fits.  Returns the string's length, -ENOSPC when
 * cap is smaller than the length (nothing is copied), -ENOENT,
 * SWCO_ENOCOLUMN, -EINVAL.
 */
SWCO_API long swco_table_get_string(swco_table_t *t, const char *key, const char *column,
                                    char *buf, size_t cap);

/**
 * swco_table_incr - add by to an integer column, creating the row if absent
 *
 * The new value goes to *out when out is not NULL.  Returns as
 * swco_table_set_int().
 */
SWCO_API int swco_table_incr(swco_table_t *t, const char *key, const char *column, int64_t by,
                             int64_t *out);

/**
 * swco_table_decr - subtract by from an integer column
 *
 * Same as swco_table_incr() with -by.
 */
SWCO_API int swco_table_decr(swco_table_t *t, const char *key, const char *column, int64_t by,
                             int64_t *out);

/**
 * swco_table_incr_double - add by to a double column, creating the row
 *
 * Returns as swco_table_incr().
 */
SWCO_API int swco_table_incr_double(swco_table_t *t, const char *key, const char *column,
                                    double by, double *out);

/**
 * swco_table_del - delete a row
 *
 * Returns 0, -ENOENT when there is no such row, SWCO_EKEYTOOLONG, -EINVAL.
 */
SWCO_API int swco_table_del(swco_table_t *t, const char *key);

/**
 * swco_table_exists - whether a row exists
 *
 * Returns 1 or 0, SWCO_EKEYTOOLONG, -EINVAL.
 */
SWCO_API int swco_table_exists(swco_table_t *t, const char *key);

/**
 * swco_table_count - rows stored now
 *
 * Returns the count, or -EINVAL when t is NULL or not created.
 */
SWCO_API long swco_table_count(const swco_table_t *t);

/**
 * swco_table_stats - fill *out with the table's figures
 *
 * Fills the fields of *out that fit in out->size bytes, never writing past
 * them.  longest_chain walks every bucket, so it costs time proportional to
 * the table's size.  Returns 0, or -EINVAL (t or out NULL, out->size
 * smaller than the first version of the struct, up to memory_size).
 */
SWCO_API int swco_table_stats(swco_table_t *t, swco_table_stats_t *out);

/**
 * swco_table_column_count - number of columns
 *
 * Returns it, or -EINVAL.
 */
SWCO_API int swco_table_column_count(const swco_table_t *t);

/**
 * swco_table_column_name - name of column i (0-based)
 *
 * Returns a string owned by the table, or NULL when i is out of range.
 */
SWCO_API const char *swco_table_column_name(const swco_table_t *t, int i);

/**
 * swco_table_column_type - type of the named column
 *
 * Returns a SWCO_TABLE_* value, SWCO_ENOCOLUMN, or -EINVAL.
 */
SWCO_API int swco_table_column_type(const swco_table_t *t, const char *column);

/**
 * swco_table_row_new - a row buffer for whole-row set and get
 *
 * The buffer holds one value per column of t (which must be created) and
 * remembers which columns were set.  Returns it, or NULL with
 * swco_last_error() set to -EINVAL or -ENOMEM.
 */
SWCO_API swco_table_row_t *swco_table_row_new(swco_table_t *t);

/**
 * swco_table_row_free - free a row buffer
 *
 * NULL is ignored.
 */
SWCO_API void swco_table_row_free(swco_table_row_t *row);

/**
 * swco_table_row_clear - forget every value set in the buffer
 *
 * NULL is ignored.
 */
SWCO_API void swco_table_row_clear(swco_table_row_t *row);

/**
 * swco_table_row_set_int - put an integer column into the buffer
 *
 * Returns 0, SWCO_ENOCOLUMN, -EINVAL (NULL or a column of another type).
 */
SWCO_API int swco_table_row_set_int(swco_table_row_t *row, const char *column, int64_t value);

/**
 * swco_table_row_set_double - put a double column into the buffer
 *
 * Returns as swco_table_row_set_int().
 */
SWCO_API int swco_table_row_set_double(swco_table_row_t *row, const char *column, double value);

/**
 * swco_table_row_set_string - put a string column into the buffer
 *
 * Returns as swco_table_row_set_int(), plus SWCO_EVALTOOLONG.
 */
SWCO_API int swco_table_row_set_string(swco_table_row_t *row, const char *column,
                                       const void *value, size_t len);

/**
 * swco_table_row_get_int - read an integer column from the buffer
 *
 * Returns 0, SWCO_ENOCOLUMN, -EINVAL.
 */
SWCO_API int swco_table_row_get_int(const swco_table_row_t *row, const char *column,
                                    int64_t *out);

/**
 * swco_table_row_get_double - read a double column from the buffer
 *
 * Returns as swco_table_row_get_int().
 */
SWCO_API int swco_table_row_get_double(const swco_table_row_t *row, const char *column,
                                       double *out);

/**
 * swco_table_row_get_string - copy a string column from the buffer
 *
 * Returns the length, -ENOSPC when cap is too small, SWCO_ENOCOLUMN,
 * -EINVAL.
 */
SWCO_API long swco_table_row_get_string(const swco_table_row_t *row, const char *column,
                                        char *buf, size_t cap);

/**
 * swco_table_set_row - write the columns set in row to the table's row key
 *
 * Creates the row when absent (unset columns zero); in an existing row only
 * the columns set in the buffer change.  All of it happens under the row's
 * lock.  Returns as swco_table_set_int(); -EINVAL when row belongs to
 * another table or has no column set.
 */
SWCO_API int swco_table_set_row(swco_table_t *t, const char *key, const swco_table_row_t *row);

/**
 * swco_table_get_row - copy the whole row key into the buffer
 *
 * The copy is taken under the row's lock, so it is one consistent
 * snapshot.  Returns 0, -ENOENT, SWCO_EKEYTOOLONG, -EINVAL.
 */
SWCO_API int swco_table_get_row(swco_table_t *t, const char *key, swco_table_row_t *row);

/* Called by swco_table_update() with the row locked. */
typedef int (*swco_table_update_fn)(swco_table_row_t *row, void *arg);

/**
 * swco_table_update - read, change and write back one row under its lock
 *
 * Copies row key (created with zero columns when absent) into a buffer,
 * calls fn(buffer, arg) with the row locked, and when fn returns 0 writes
 * back the columns fn set with swco_table_row_set_*().  A non-zero return
 * from fn leaves the row as it was (a row created for the call stays, with
 * zero columns) and is returned.  Keep fn short: other processes spin on
 * the lock.
 *
 * fn may use the same table: reads and writes of any row, also of rows
 * that share the locked bucket, work without locking it again (they see
 * the table as stored, not fn's buffer), and so do nested updates.  When
 * fn deleted the row itself, the columns it set are written to a new row
 * (none set: the row stays deleted); a write-back that finds the table
 * full returns SWCO_EFULL.  The bucket counts as held by the thread, so
 * another coroutine of the thread that runs while fn yields uses it the
 * same way (do not yield in fn).  A nested update of a key in another
 * bucket locks that bucket too: two threads or processes nesting in
 * opposite orders wait for each other for ever.  Returns 0, fn's code, or
 * as swco_table_set_int().
 */
SWCO_API int swco_table_update(swco_table_t *t, const char *key, swco_table_update_fn fn,
                               void *arg);

/**
 * swco_table_iter_new - iterate over the table's keys
 *
 * Works from any process.  Rows deleted during the walk are not returned
 * once deleted; every other row present for the whole walk is returned
 * exactly once.  Returns the iterator, or NULL with -EINVAL or -ENOMEM.
 */
SWCO_API swco_table_iter_t *swco_table_iter_new(swco_table_t *t);

/**
 * swco_table_iter_next - copy the next key into key (cap bytes, NUL ended)
 *
 * Returns the key's length (> 0), 0 at the end, -ENOSPC when cap cannot
 * hold the key and its NUL (the key stays next: call again
 * with a larger buffer), -EINVAL.
 */
SWCO_API int swco_table_iter_next(swco_table_iter_t *it, char *key, size_t cap);

/**
 * swco_table_iter_rewind - start the walk again from the first bucket
 *
 * NULL is ignored.
 */
SWCO_API void swco_table_iter_rewind(swco_table_iter_t *it);

/**
 * swco_table_iter_free - free an iterator
 *
 * NULL is ignored.
 */
SWCO_API void swco_table_iter_free(swco_table_iter_t *it);

SWCO_END_DECLS

#endif /* SWCO_TABLE_H */
