/* Table: a fixed-capacity hash table in shared memory.
 *
 * Layout of the shared segment: a header (schema, counters, the conflict
 * pool), then nbuckets bucket rows, then nconflict conflict rows.  A key
 * hashes to one bucket row; keys whose bucket is taken chain through
 * conflict rows linked from it.  The bucket row's lock word guards the
 * whole chain.  Lock words hold the owner's pid, so a waiter that finds
 * the owner dead takes the lock over.
 */
#include "shm_int.h"
#include "table_int.h"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROW_HDR SWCO__TABLE_ROW_HDR

typedef swco__table_col_t col_t;
typedef swco__table_hdr_t shm_hdr_t;

typedef struct row {
    uint32_t lock;
    uint32_t next; /* 1-based row index of the next row in the chain */
    uint8_t keylen;
    char key[SWCO_TABLE_KEY_MAX];
    /* data follows at ROW_HDR */
} row_t;

struct swco_table {
    size_t rows;
    int ncols;
    col_t cols[SWCO_TABLE_COLUMN_MAX];
    size_t data_size;
    shm_hdr_t *h;
    char *base;  /* first row */
    size_t map_size;
    size_t row_size;
    uint64_t mask;
    /* Copied from the header when it was checked: the shared copy is
     * writable by every process and is not trusted again. */
    uint64_t nbuckets, nconflict, nrows, seg_id;
};

struct swco_table_row {
    swco_table_t *t;
    uint64_t setmask;
    unsigned char data[];
};

struct swco_table_iter {
    swco_table_t *t;
    uint64_t pos;  /* next bucket to read */
    char (*keys)[SWCO_TABLE_KEY_MAX + 1];
    size_t n, i, cap;
};

/* ---------------------------------------------------------------- locks */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void lock_word(uint32_t *l)
{
    uint32_t me = (uint32_t)swco__pid();
    uint32_t cur = 0;
    if (SWCO__LIKELY(__atomic_compare_exchange_n(l, &cur, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
        return;
    for (unsigned i = 1;; i++) {
        cur = __atomic_load_n(l, __ATOMIC_RELAXED);
        if (cur == 0) {
            if (__atomic_compare_exchange_n(l, &cur, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
                return;
            continue;
        }
        cpu_relax();
        if ((i & 127) == 0)
            sched_yield();
        if ((i & 4095) == 0 && cur != me && swco__pid_dead((pid_t)cur)) {
            /* The holder died inside its critical section: take over. */
            if (__atomic_compare_exchange_n(l, &cur, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
                return;
        }
    }
}

static inline void unlock_word(uint32_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

/* ---------------------------------------------------------------- helpers */

static uint64_t hash_key(const char *k, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, k, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        k += 8;
        n -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, k, n);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    h *= 0x9e3779b97f4a7c15ULL;
    h ^= h >> 32;
    return h;
}

static inline row_t *row_at(const swco_table_t *t, uint64_t idx)
{
    return (row_t *)(t->base + idx * t->row_size);
}

static inline unsigned char *row_data(row_t *r) { return (unsigned char *)r + ROW_HDR; }

/* The row after r in its chain, or NULL at its end.  Links live in memory
 * every process may write: one that points outside the table ends the
 * chain instead of sending us outside the mapping. */
static inline row_t *next_row(const swco_table_t *t, const row_t *r)
{
    uint32_t n = r->next;
    return n && n <= t->nrows ? row_at(t, n - 1) : NULL;
}

/* A row's key length, never past its key field. */
static inline size_t key_len(const row_t *r)
{
    return r->keylen <= SWCO_TABLE_KEY_MAX ? r->keylen : SWCO_TABLE_KEY_MAX;
}

/* ------------------------------------------------------- held buckets */

/* Buckets this thread has locked in swco_table_update() while its callback
 * runs.  The callback (or another coroutine of the thread, should it
 * yield) may use the table: a bucket in this list is used without locking
 * it again, where spinning on our own lock would never end.  A segment is
 * known by its id, so a second mapping of a named table counts too; a
 * forked child inherits the list but not the locks (pid). */
typedef struct held {
    uint64_t seg_id, bucket;
    pid_t pid;
    struct held *next;
} held_t;

static SWCO__TLS held_t *tls_held;

static int held_here(const swco_table_t *t, uint64_t bucket)
{
    pid_t pid = swco__pid();
    for (const held_t *x = tls_held; x; x = x->next)
        if (x->bucket == bucket && x->seg_id == t->seg_id && x->pid == pid)
            return 1;
    return 0;
}

static void held_remove(held_t *x)
{
    for (held_t **pp = &tls_held; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            return;
        }
}

/* Lock bucket b unless this thread holds it; 1 when bucket_unlock() must
 * release it. */
static inline int bucket_lock(const swco_table_t *t, row_t *b)
{
    if (SWCO__UNLIKELY(tls_held != NULL) &&
        held_here(t, (uint64_t)((char *)b - t->base) / t->row_size))
        return 0;
    lock_word(&b->lock);
    return 1;
}

static inline void bucket_unlock(row_t *b, int locked)
{
    if (locked)
        unlock_word(&b->lock);
}

static size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

static const col_t *find_col(const swco_table_t *t, const char *name, int *idx)
{
    if (!name)
        return NULL;
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0) {
            if (idx)
                *idx = i;
            return &t->cols[i];
        }
    return NULL;
}

/* Validate key; returns its length or a negative code. */
static int check_key(const swco_table_t *t, const char *key)
{
    if (!t || !t->h || !key)
        return -EINVAL;
    size_t n = strnlen(key, SWCO_TABLE_KEY_MAX + 1);
    if (n == 0)
        return -EINVAL;
    if (n > SWCO_TABLE_KEY_MAX)
        return SWCO_EKEYTOOLONG;
    return (int)n;
}

/* ------------------------------------------------------------- creation */

swco_table_t *swco_table_new(size_t rows)
{
    if (rows == 0 || rows > (1u << 30)) {
        swco__fail(-EINVAL);
        return NULL;
    }
    swco_table_t *t = calloc(1, sizeof *t);
    if (!t) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    t->rows = rows;
    return t;
}

void swco_table_free(swco_table_t *t)
{
    if (!t)
        return;
    if (t->h)
        munmap(t->h, t->map_size);
    free(t);
}

int swco_table_column(swco_table_t *t, const char *name, int type, size_t size)
{
    if (!t || !name || !*name || t->h)
        return swco__fail(-EINVAL);
    if (strlen(name) > SWCO_TABLE_NAME_MAX)
        return swco__fail(-ENAMETOOLONG);
    if (type != SWCO_TABLE_INT && type != SWCO_TABLE_DOUBLE && type != SWCO_TABLE_STRING)
        return swco__fail(-EINVAL);
    if (type == SWCO_TABLE_STRING && (size == 0 || size > (1u << 20)))
        return swco__fail(-EINVAL);
    if (find_col(t, name, NULL))
        return swco__fail(-EEXIST);
    if (t->ncols >= SWCO_TABLE_COLUMN_MAX)
        return swco__fail(-ENOSPC);
    col_t *c = &t->cols[t->ncols++];
    memset(c, 0, sizeof *c);
    strcpy(c->name, name);
    c->type = (uint32_t)type;
    c->size = type == SWCO_TABLE_STRING ? (uint32_t)size : 8;
    c->offset = (uint32_t)t->data_size;
    t->data_size += type == SWCO_TABLE_STRING ? round_up(4 + size, 8) : 8;
    return 0;
}

static void layout(const swco_table_t *t, uint64_t *nb, uint64_t *nc, size_t *rs, size_t *hs)
{
    uint64_t r, h;
    swco__table_layout(t->rows, t->data_size, nb, nc, &r, &h);
    *rs = (size_t)r;
    *hs = (size_t)h;
}

size_t swco_table_memory_size(const swco_table_t *t)
{
    if (!t)
        return 0;
    if (t->h)
        return t->map_size;
    uint64_t nb, nc;
    size_t rs, hs;
    layout(t, &nb, &nc, &rs, &hs);
    return hs + (size_t)(nb + nc) * rs;
}

/* Use mem as the table; hc is the header as created or as checked. */
static void bind_mapping(swco_table_t *t, void *mem, size_t size, const shm_hdr_t *hc)
{
    t->h = mem;
    t->map_size = size;
    t->base = (char *)mem + hc->hdr_size;
    t->row_size = hc->row_size;
    t->nbuckets = hc->nbuckets;
    t->nconflict = hc->nconflict;
    t->nrows = hc->nbuckets + hc->nconflict;
    t->mask = hc->nbuckets - 1;
    t->rows = hc->capacity;
    t->data_size = hc->data_size;
    t->seg_id = hc->seg_id;
}

static void init_segment(swco_table_t *t, void *mem, size_t size)
{
    shm_hdr_t *h = mem;
    uint64_t nb, nc;
    size_t rs, hs;
    layout(t, &nb, &nc, &rs, &hs);
    h->ncols = (uint32_t)t->ncols;
    memcpy(h->cols, t->cols, sizeof h->cols);
    h->capacity = t->rows;
    h->nbuckets = nb;
    h->nconflict = nc;
    h->row_size = rs;
    h->data_size = t->data_size;
    h->total_size = size;
    h->hdr_size = hs;
    h->version = SWCO__TABLE_VERSION;
    h->hdr_bytes = sizeof *h;
    h->seg_id = swco__now_ns() ^ ((uint64_t)swco__pid() << 40) ^ (uint64_t)(uintptr_t)mem;
    h->magic = SWCO__TABLE_MAGIC;
    __atomic_store_n(&h->ready, 1, __ATOMIC_RELEASE);
    bind_mapping(t, mem, size, h);
}

int swco_table_create(swco_table_t *t)
{
    if (!t || t->h || t->ncols == 0)
        return swco__fail(-EINVAL);
    size_t size = swco_table_memory_size(t);
    void *mem = swco__shm_alloc(size);
    if (!mem)
        return swco__fail(-ENOMEM);
    init_segment(t, mem, size);
    return 0;
}

int swco_table_create_named(swco_table_t *t, const char *name)
{
    if (!t || t->h || t->ncols == 0 || !name || !*name)
        return swco__fail(-EINVAL);
    size_t size = swco_table_memory_size(t);
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return swco__fail(-errno);
    if (ftruncate(fd, (off_t)size) < 0) {
        int e = errno;
        close(fd);
        shm_unlink(name);
        return swco__fail(-e);
    }
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (mem == MAP_FAILED) {
        shm_unlink(name);
        return swco__fail(-e);
    }
    init_segment(t, mem, size);
    return 0;
}

int swco_table_attach(swco_table_t *t, const char *name)
{
    if (!t || t->h || !name || !*name)
        return swco__fail(-EINVAL);
    int fd = shm_open(name, O_RDWR, 0);
    if (fd < 0)
        return swco__fail(-errno);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return swco__fail(-e);
    }
    if (st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return swco__fail(st.st_size == 0 ? -EAGAIN : SWCO_ESCHEMA);
    }
    size_t size = (size_t)st.st_size;
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (mem == MAP_FAILED)
        return swco__fail(-e);
    int rc = swco__table_bind(t, mem, size);
    if (rc) {
        munmap(mem, size);
        return swco__fail(rc);
    }
    return 0;
}

int swco__table_bind(swco_table_t *t, void *mem, size_t size)
{
    /* Another process wrote this memory: check all of the header, and
     * use the checked copy from now on. */
    shm_hdr_t hc;
    int rc = swco__table_check_header(mem, size, t->cols, t->ncols, &hc);
    if (rc)
        return rc;
    bind_mapping(t, mem, size, &hc);
    return 0;
}

const void *swco__table_segment(const swco_table_t *t) { return t->h; }

void swco__table_unbind(swco_table_t *t)
{
    t->h = NULL;
    t->base = NULL;
    t->map_size = 0;
}

int swco_table_unlink(const char *name)
{
    if (!name)
        return swco__fail(-EINVAL);
    return shm_unlink(name) < 0 ? swco__fail(-errno) : 0;
}

/* --------------------------------------------------------------- chains */

/* Find key in the (locked) chain of bucket b; NULL when absent. */
static row_t *chain_find(swco_table_t *t, row_t *b, const char *key, size_t n)
{
    if (!b->keylen)
        return NULL;
    /* At most every conflict row after the bucket: a loop is corruption. */
    uint64_t hops = 0;
    for (row_t *r = b; r && hops <= t->nconflict; r = next_row(t, r), hops++)
        if (r->keylen == n && memcmp(r->key, key, n) == 0)
            return r;
    return NULL;
}

static int reserve_count(const swco_table_t *t)
{
    shm_hdr_t *h = t->h;
    int64_t cur = __atomic_load_n(&h->rows_used, __ATOMIC_RELAXED);
    do {
        if (cur >= (int64_t)t->rows || cur < 0)
            return SWCO_EFULL;
    } while (!__atomic_compare_exchange_n(&h->rows_used, &cur, cur + 1, 0, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return 0;
}

static uint64_t pool_alloc(swco_table_t *t)
{
    shm_hdr_t *h = t->h;
    uint64_t idx = 0;
    lock_word(&h->pool_lock);
    uint32_t head = h->free_head;
    if (head > t->nbuckets && head <= t->nrows) {
        idx = head;
        h->free_head = row_at(t, idx - 1)->next;
    } else if (h->next_unused < t->nconflict) {
        idx = t->nbuckets + h->next_unused + 1;
        h->next_unused++;
    }
    if (idx)
        h->conflict_used++;
    unlock_word(&h->pool_lock);
    return idx;
}

static void pool_free(swco_table_t *t, uint64_t idx)
{
    shm_hdr_t *h = t->h;
    lock_word(&h->pool_lock);
    row_at(t, idx - 1)->next = h->free_head;
    h->free_head = (uint32_t)idx;
    h->conflict_used--;
    unlock_word(&h->pool_lock);
}

/* With bucket b locked: the row for key, inserted with zero columns when
 * absent; *out NULL and a code when the table is full. */
static int chain_get_or_add(swco_table_t *t, row_t *b, const char *key, size_t n, row_t **out)
{
    row_t *r = chain_find(t, b, key, n);
    if (r) {
        *out = r;
        return 0;
    }
    int rc = reserve_count(t);
    if (rc)
        return rc;
    if (!b->keylen) {
        memset(row_data(b), 0, t->data_size);
        memcpy(b->key, key, n);
        b->keylen = (uint8_t)n;
        *out = b;
        return 0;
    }
    uint64_t idx = pool_alloc(t);
    if (!idx) {
        __atomic_sub_fetch(&t->h->rows_used, 1, __ATOMIC_RELAXED);
        return SWCO_EFULL;
    }
    r = row_at(t, idx - 1);
    memset(row_data(r), 0, t->data_size);
    memcpy(r->key, key, n);
    r->keylen = (uint8_t)n;
    r->next = b->next;
    b->next = (uint32_t)idx;
    *out = r;
    return 0;
}

static void chain_del(swco_table_t *t, row_t *b, row_t *r)
{
    if (r == b) {
        row_t *c = next_row(t, b);
        if (c) {
            uint64_t idx = b->next;
            memcpy(row_data(b), row_data(c), t->data_size);
            memcpy(b->key, c->key, key_len(c));
            b->keylen = (uint8_t)key_len(c);
            b->next = c->next;
            pool_free(t, idx);
        } else {
            b->keylen = 0;
        }
    } else {
        row_t *p = b, *q;
        while ((q = next_row(t, p)) && q != r)
            p = q;
        if (!q)
            return; /* r was found from b: only corruption gets here */
        uint64_t idx = p->next;
        p->next = r->next;
        r->keylen = 0;
        pool_free(t, idx);
    }
    __atomic_sub_fetch(&t->h->rows_used, 1, __ATOMIC_RELAXED);
}

static inline row_t *bucket_of(swco_table_t *t, const char *key, size_t n)
{
    return row_at(t, hash_key(key, n) & t->mask);
}

/* ------------------------------------------------------- column access */

static void put_value(unsigned char *data, const col_t *c, const void *v, size_t len)
{
    if (c->type == SWCO_TABLE_STRING) {
        uint32_t l = (uint32_t)len;
        memcpy(data + c->offset, &l, 4);
        memcpy(data + c->offset + 4, v, len);
    } else {
        memcpy(data + c->offset, v, 8);
    }
}

static long get_string_from(const unsigned char *data, const col_t *c, char *buf, size_t cap)
{
    uint32_t l;
    memcpy(&l, data + c->offset, 4);
    if (l > c->size) /* written by a broken or hostile process */
        l = c->size;
    if (!buf || cap < l)
        return -ENOSPC;
    memcpy(buf, data + c->offset + 4, l);
    if (cap > l)
        buf[l] = 0;
    return (long)l;
}

/* Set one column of row key to v (len bytes for a string). */
static int set_col(swco_table_t *t, const char *key, const char *column, int type, const void *v,
                   size_t len)
{
    int n = check_key(t, key);
    if (n < 0)
        return swco__fail(n);
    const col_t *c = find_col(t, column, NULL);
    if (!c)
        return swco__fail(column ? SWCO_ENOCOLUMN : -EINVAL);
    if ((int)c->type != type)
        return swco__fail(-EINVAL);
    if (type == SWCO_TABLE_STRING && len > c->size)
        return swco__fail(SWCO_EVALTOOLONG);
    row_t *b = bucket_of(t, key, (size_t)n), *r;
    int locked = bucket_lock(t, b);
    int rc = chain_get_or_add(t, b, key, (size_t)n, &r);
    if (!rc)
        put_value(row_data(r), c, v, len);
    bucket_unlock(b, locked);
    return rc ? swco__fail(rc) : 0;
}

int swco_table_set_int(swco_table_t *t, const char *key, const char *column, int64_t value)
{
    return set_col(t, key, column, SWCO_TABLE_INT, &value, 8);
}

int swco_table_set_double(swco_table_t *t, const char *key, const char *column, double value)
{
    return set_col(t, key, column, SWCO_TABLE_DOUBLE, &value, 8);
}

int swco_table_set_string(swco_table_t *t, const char *key, const char *column, const void *value,
                          size_t len)
{
    if (!value && len)
        return swco__fail(-EINVAL);
    return set_col(t, key, column, SWCO_TABLE_STRING, value ? value : "", len);
}

/* Copy one column of row key: 8 bytes to out, or a string to buf. */
static long get_col(swco_table_t *t, const char *key, const char *column, int type, void *out,
                    size_t cap)
{
    int n = check_key(t, key);
    if (n < 0)
        return swco__fail(n);
    const col_t *c = find_col(t, column, NULL);
    if (!c)
        return swco__fail(column ? SWCO_ENOCOLUMN : -EINVAL);
    if ((int)c->type != type || (!out && type != SWCO_TABLE_STRING))
        return swco__fail(-EINVAL);
    row_t *b = bucket_of(t, key, (size_t)n);
    long rc = 0;
    int locked = bucket_lock(t, b);
    row_t *r = chain_find(t, b, key, (size_t)n);
    if (!r)
        rc = -ENOENT;
    else if (type == SWCO_TABLE_STRING)
        rc = get_string_from(row_data(r), c, out, cap);
    else
        memcpy(out, row_data(r) + c->offset, 8);
    bucket_unlock(b, locked);
    return rc < 0 ? swco__fail((int)rc) : rc;
}

int swco_table_get_int(swco_table_t *t, const char *key, const char *column, int64_t *out)
{
    return (int)get_col(t, key, column, SWCO_TABLE_INT, out, 8);
}

int swco_table_get_double(swco_table_t *t, const char *key, const char *column, double *out)
{
    return (int)get_col(t, key, column, SWCO_TABLE_DOUBLE, out, 8);
}

long swco_table_get_string(swco_table_t *t, const char *key, const char *column, char *buf,
                           size_t cap)
{
    return get_col(t, key, column, SWCO_TABLE_STRING, buf, cap);
}

static int incr(swco_table_t *t, const char *key, const char *column, int type, int64_t by_i,
                double by_d, void *out)
{
    int n = check_key(t, key);
    if (n < 0)
        return swco__fail(n);
    const col_t *c = find_col(t, column, NULL);
    if (!c)
        return swco__fail(column ? SWCO_ENOCOLUMN : -EINVAL);
    if ((int)c->type != type)
        return swco__fail(-EINVAL);
    row_t *b = bucket_of(t, key, (size_t)n), *r;
    int locked = bucket_lock(t, b);
    int rc = chain_get_or_add(t, b, key, (size_t)n, &r);
    if (!rc) {
        unsigned char *p = row_data(r) + c->offset;
        if (type == SWCO_TABLE_INT) {
            int64_t v;
            memcpy(&v, p, 8);
            v = (int64_t)((uint64_t)v + (uint64_t)by_i);
            memcpy(p, &v, 8);
            if (out)
                memcpy(out, &v, 8);
        } else {
            double v;
            memcpy(&v, p, 8);
            v += by_d;
            memcpy(p, &v, 8);
            if (out)
                memcpy(out, &v, 8);
        }
    }
    bucket_unlock(b, locked);
    return rc ? swco__fail(rc) : 0;
}

int swco_table_incr(swco_table_t *t, const char *key, const char *column, int64_t by, int64_t *out)
{
    return incr(t, key, column, SWCO_TABLE_INT, by, 0, out);
}

int swco_table_decr(swco_table_t *t, const char *key, const char *column, int64_t by, int64_t *out)
{
    return incr(t, key, column, SWCO_TABLE_INT, (int64_t)(0 - (uint64_t)by), 0, out);
}

int swco_table_incr_double(swco_table_t *t, const char *key, const char *column, double by,
                           double *out)
{
    return incr(t, key, column, SWCO_TABLE_DOUBLE, 0, by, out);
}

int swco_table_del(swco_table_t *t, const char *key)
{
    int n = check_key(t, key);
    if (n < 0)
        return swco__fail(n);
    row_t *b = bucket_of(t, key, (size_t)n);
    int locked = bucket_lock(t, b);
    row_t *r = chain_find(t, b, key, (size_t)n);
    if (r)
        chain_del(t, b, r);
    bucket_unlock(b, locked);
    return r ? 0 : swco__fail(-ENOENT);
}

int swco_table_exists(swco_table_t *t, const char *key)
{
    int n = check_key(t, key);
    if (n < 0)
        return swco__fail(n);
    row_t *b = bucket_of(t, key, (size_t)n);
    int locked = bucket_lock(t, b);
    int found = chain_find(t, b, key, (size_t)n) != NULL;
    bucket_unlock(b, locked);
    return found;
}

long swco_table_count(const swco_table_t *t)
{
    if (!t || !t->h)
        return swco__fail(-EINVAL);
    return (long)__atomic_load_n(&t->h->rows_used, __ATOMIC_RELAXED);
}

int swco_table_stats(swco_table_t *t, swco_table_stats_t *dst)
{
    if (!t || !t->h || !dst || dst->size < SWCO__STRUCT_V1_SIZE(swco_table_stats_t, memory_size))
        return swco__fail(-EINVAL);
    shm_hdr_t *h = t->h;
    swco_table_stats_t full, *out = &full;
    memset(out, 0, sizeof *out);
    out->capacity = t->rows;
    out->rows_used = (size_t)__atomic_load_n(&h->rows_used, __ATOMIC_RELAXED);
    out->buckets = t->nbuckets;
    out->conflict_capacity = t->nconflict;
    out->conflict_used = (size_t)__atomic_load_n(&h->conflict_used, __ATOMIC_RELAXED);
    out->memory_size = t->map_size;
    for (uint64_t i = 0; i < t->nbuckets; i++) {
        row_t *r = row_at(t, i);
        if (!__atomic_load_n(&r->keylen, __ATOMIC_RELAXED))
            continue;
        size_t len = 1;
        uint32_t next = __atomic_load_n(&r->next, __ATOMIC_RELAXED);
        while (next && next <= t->nrows && len <= t->nconflict) {
            len++;
            next = __atomic_load_n(&row_at(t, next - 1)->next, __ATOMIC_RELAXED);
        }
        if (len > out->longest_chain)
            out->longest_chain = len;
    }
    swco__struct_fill(dst, out, sizeof *out);
    return 0;
}

int swco_table_column_count(const swco_table_t *t) { return t ? t->ncols : swco__fail(-EINVAL); }

const char *swco_table_column_name(const swco_table_t *t, int i)
{
    if (!t || i < 0 || i >= t->ncols)
        return NULL;
    return t->cols[i].name;
}

int swco_table_column_type(const swco_table_t *t, const char *column)
{
    if (!t || !column)
        return swco__fail(-EINVAL);
    const col_t *c = find_col(t, column, NULL);
    return c ? (int)c->type : swco__fail(SWCO_ENOCOLUMN);
}

/* ----------------------------------------------------------------- rows */

swco_table_row_t *swco_table_row_new(swco_table_t *t)
{
    if (!t || !t->h) {
        swco__fail(-EINVAL);
        return NULL;
    }
    swco_table_row_t *row = calloc(1, sizeof *row + t->data_size);
    if (!row) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    row->t = t;
    return row;
}

void swco_table_row_free(swco_table_row_t *row) { free(row); }

void swco_table_row_clear(swco_table_row_t *row)
{
    if (!row)
        return;
    row->setmask = 0;
    memset(row->data, 0, row->t->data_size);
}

static int row_put(swco_table_row_t *row, const char *column, int type, const void *v, size_t len)
{
    if (!row || !column)
        return swco__fail(-EINVAL);
    int i;
    const col_t *c = find_col(row->t, column, &i);
    if (!c)
        return swco__fail(SWCO_ENOCOLUMN);
    if ((int)c->type != type)
        return swco__fail(-EINVAL);
    if (type == SWCO_TABLE_STRING && len > c->size)
        return swco__fail(SWCO_EVALTOOLONG);
    put_value(row->data, c, v, len);
    row->setmask |= 1ULL << i;
    return 0;
}

int swco_table_row_set_int(swco_table_row_t *row, const char *column, int64_t value)
{
    return row_put(row, column, SWCO_TABLE_INT, &value, 8);
}

int swco_table_row_set_double(swco_table_row_t *row, const char *column, double value)
{
    return row_put(row, column, SWCO_TABLE_DOUBLE, &value, 8);
}

int swco_table_row_set_string(swco_table_row_t *row, const char *column, const void *value,
                              size_t len)
{
    if (!value && len)
        return swco__fail(-EINVAL);
    return row_put(row, column, SWCO_TABLE_STRING, value ? value : "", len);
}

static const col_t *row_col(const swco_table_row_t *row, const char *column, int type, int *rc)
{
    *rc = 0;
    if (!row || !column) {
        *rc = -EINVAL;
        return NULL;
    }
    const col_t *c = find_col(row->t, column, NULL);
    if (!c)
        *rc = SWCO_ENOCOLUMN;
    else if ((int)c->type != type)
        *rc = -EINVAL;
    return *rc ? NULL : c;
}

int swco_table_row_get_int(const swco_table_row_t *row, const char *column, int64_t *out)
{
    int rc;
    const col_t *c = row_col(row, column, SWCO_TABLE_INT, &rc);
    if (!c || !out)
        return swco__fail(rc ? rc : -EINVAL);
    memcpy(out, row->data + c->offset, 8);
    return 0;
}

int swco_table_row_get_double(const swco_table_row_t *row, const char *column, double *out)
{
    int rc;
    const col_t *c = row_col(row, column, SWCO_TABLE_DOUBLE, &rc);
    if (!c || !out)
        return swco__fail(rc ? rc : -EINVAL);
    memcpy(out, row->data + c->offset, 8);
    return 0;
}

long swco_table_row_get_string(const swco_table_row_t *row, const char *column, char *buf,
                               size_t cap)
{
    int rc;
    const col_t *c = row_col(row, column, SWCO_TABLE_STRING, &rc);
    if (!c)
        return swco__fail(rc);
    long n = get_string_from(row->data, c, buf, cap);
    return n < 0 ? swco__fail((int)n) : n;
}

/* Copy the columns set in row into data. */
static void row_apply(const swco_table_t *t, const swco_table_row_t *row, unsigned char *data)
{
    for (int i = 0; i < t->ncols; i++) {
        if (!(row->setmask & (1ULL << i)))
            continue;
        const col_t *c = &t->cols[i];
        size_t len = 8;
        if (c->type == SWCO_TABLE_STRING) {
            uint32_t l;
            memcpy(&l, row->data + c->offset, 4);
            len = 4 + (size_t)(l <= c->size ? l : c->size);
        }
        memcpy(data + c->offset, row->data + c->offset, len);
    }
}

int swco_table_set_row(swco_table_t *t, const char *key, const swco_table_row_t *row)
{
    int n = check_key(t, key);
    if (n < 0)
        return swco__fail(n);
    if (!row || row->t != t || !row->setmask)
        return swco__fail(-EINVAL);
    row_t *b = bucket_of(t, key, (size_t)n), *r;
    int locked = bucket_lock(t, b);
    int rc = chain_get_or_add(t, b, key, (size_t)n, &r);
    if (!rc)
        row_apply(t, row, row_data(r));
    bucket_unlock(b, locked);
    return rc ? swco__fail(rc) : 0;
}

int swco_table_get_row(swco_table_t *t, const char *key, swco_table_row_t *row)
{
    int n = check_key(t, key);
    if (n < 0)
        return swco__fail(n);
    if (!row || row->t != t)
        return swco__fail(-EINVAL);
    row_t *b = bucket_of(t, key, (size_t)n);
    int locked = bucket_lock(t, b);
    row_t *r = chain_find(t, b, key, (size_t)n);
    if (r)
        memcpy(row->data, row_data(r), t->data_size);
    bucket_unlock(b, locked);
    if (!r)
        return swco__fail(-ENOENT);
    row->setmask = 0;
    return 0;
}

int swco_table_update(swco_table_t *t, const char *key, swco_table_update_fn fn, void *arg)
{
    int n = check_key(t, key);
    if (n < 0)
        return swco__fail(n);
    if (!fn)
        return swco__fail(-EINVAL);
    swco_table_row_t *row = swco_table_row_new(t);
    if (!row)
        return swco_last_error();
    row_t *b = bucket_of(t, key, (size_t)n), *r;
    int locked = bucket_lock(t, b);
    int rc = chain_get_or_add(t, b, key, (size_t)n, &r);
    if (!rc) {
        memcpy(row->data, row_data(r), t->data_size);
        held_t me = {.seg_id = t->seg_id,
                     .bucket = (uint64_t)((char *)b - t->base) / t->row_size,
                     .pid = swco__pid(),
                     .next = tls_held};
        tls_held = &me;
        rc = fn(row, arg);
        held_remove(&me);
        /* fn may have added or deleted rows of this bucket (moving ours):
         * find the row again, and create it again if fn deleted it. */
        if (!rc && row->setmask) {
            rc = chain_get_or_add(t, b, key, (size_t)n, &r);
            if (!rc)
                row_apply(t, row, row_data(r));
        }
    }
    bucket_unlock(b, locked);
    free(row);
    return rc ? swco__fail(rc) : 0;
}

/* ------------------------------------------------------------ iteration */

swco_table_iter_t *swco_table_iter_new(swco_table_t *t)
{
    if (!t || !t->h) {
        swco__fail(-EINVAL);
        return NULL;
    }
    swco_table_iter_t *it = calloc(1, sizeof *it);
    if (!it) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    it->t = t;
    return it;
}

void swco_table_iter_free(swco_table_iter_t *it)
{
    if (!it)
        return;
    free(it->keys);
    free(it);
}

void swco_table_iter_rewind(swco_table_iter_t *it)
{
    if (it)
        it->pos = it->n = it->i = 0;
}

/* Snapshot the keys of the next non-empty bucket; 0 when none is left. */
static int iter_fill(swco_table_iter_t *it)
{
    swco_table_t *t = it->t;
    it->n = it->i = 0;
    while (it->pos < t->nbuckets) {
        row_t *b = row_at(t, it->pos++);
        if (!__atomic_load_n(&b->keylen, __ATOMIC_RELAXED))
            continue;
        int locked = bucket_lock(t, b);
        uint64_t hops = 0;
        for (row_t *r = b; r && r->keylen && hops <= t->nconflict; r = next_row(t, r), hops++) {
            if (it->n == it->cap) {
                size_t cap = it->cap ? it->cap * 2 : 8;
                void *p = realloc(it->keys, cap * sizeof *it->keys);
                if (!p) {
                    bucket_unlock(b, locked);
                    it->pos--;
                    return -ENOMEM;
                }
                it->keys = p;
                it->cap = cap;
            }
            memcpy(it->keys[it->n], r->key, key_len(r));
            it->keys[it->n][key_len(r)] = 0;
            it->n++;
        }
        bucket_unlock(b, locked);
        if (it->n)
            return 1;
    }
    return 0;
}

int swco_table_iter_next(swco_table_iter_t *it, char *key, size_t cap)
{
    if (!it || !key)
        return swco__fail(-EINVAL);
    for (;;) {
        if (it->i == it->n) {
            int rc = iter_fill(it);
            if (rc <= 0)
                return rc < 0 ? swco__fail(rc) : 0;
        }
        const char *k = it->keys[it->i];
        size_t n = strlen(k);
        if (cap < n + 1)
            return swco__fail(-ENOSPC);
        it->i++;
        /* Rows deleted since the snapshot are not returned. */
        if (swco_table_exists(it->t, k) != 1)
            continue;
        memcpy(key, k, n + 1);
        return (int)n;
    }
}
