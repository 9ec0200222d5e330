/* Small pieces every HTTP file uses: growable buffers, a request's arena,
 * name/value lists. */
#include "http/http_int.h"

#include <strings.h>

int swco__hbuf_reserve(swco__hbuf_t *b, size_t n)
{
    if (b->cap - b->len >= n + 1)
        return 0;
    size_t need = b->len + n + 1;
    if (need < b->len)
        return -ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int swco__hbuf_add(swco__hbuf_t *b, const void *data, size_t n)
{
    if (swco__hbuf_reserve(b, n) < 0)
        return -ENOMEM;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

int swco__hbuf_adds(swco__hbuf_t *b, const char *s) { return swco__hbuf_add(b, s, strlen(s)); }

void swco__hbuf_free(swco__hbuf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---------------------------------------------------------------- arena */

struct swco__arena_blk {
    struct swco__arena_blk *next;
    size_t used, size;
    max_align_t data[];
};

#define ARENA_BLOCK 4000

void *swco__arena_alloc(swco__arena_t *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    struct swco__arena_blk *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        if (!(b = malloc(sizeof *b + size)))
            return NULL;
        b->used = 0;
        b->size = size;
        if (n > ARENA_BLOCK / 2 && a->head) {
            /* a big one: keep the current block in front for small ones */
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

char *swco__arena_strndup(swco__arena_t *a, const char *s, size_t n)
{
    char *p = swco__arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void swco__arena_free(swco__arena_t *a)
{
    struct swco__arena_blk *b = a->head;
    while (b) {
        struct swco__arena_blk *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

/* ----------------------------------------------------------- kv lists */

int swco__kv_add(swco__kvlist_t *l, const char *name, size_t name_len, const char *value,
                 size_t value_len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        swco__kv_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    swco__kv_t *kv = &l->v[l->n++];
    kv->name = name;
    kv->name_len = name_len;
    kv->value = value;
    kv->value_len = value_len;
    return 0;
}

static int same(const swco__kv_t *kv, const char *name, size_t n, int icase)
{
    if (kv->name_len != n)
        return 0;
    return icase ? strncasecmp(kv->name, name, n) == 0 : memcmp(kv->name, name, n) == 0;
}

const swco__kv_t *swco__kv_find(const swco__kvlist_t *l, const char *name, int icase)
{
    if (!name)
        return NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < l->n; i++)
        if (same(&l->v[i], name, n, icase))
            return &l->v[i];
    return NULL;
}

size_t swco__kv_remove(swco__kvlist_t *l, const char *name, int icase)
{
    size_t n = strlen(name), kept = 0, removed = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (same(&l->v[i], name, n, icase))
            removed++;
        else
            l->v[kept++] = l->v[i];
    }
    l->n = kept;
    return removed;
}

void swco__kv_free(swco__kvlist_t *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

int swco__kv_add_arena(swco__arena_t *a, swco__kvlist_t *l, const char *name, size_t name_len,
                       const char *value, size_t value_len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        swco__kv_t *v = swco__arena_alloc(a, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        if (l->n)
            memcpy(v, l->v, l->n * sizeof *v);
        l->v = v; /* the old array stays in the arena until it is freed */
        l->cap = cap;
    }
    swco__kv_t *kv = &l->v[l->n++];
    kv->name = name;
    kv->name_len = name_len;
    kv->value = value;
    kv->value_len = value_len;
    return 0;
}
