/* Host name resolution: getaddrinfo() on the AIO pool, numeric addresses
 * converted in place, and an optional per-thread cache of answers. */
#include "io/io_int.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ addresses */

void swco__addr_describe(swco__addr_t *a)
{
    a->family = a->ss.ss_family;
    a->text[0] = 0;
    a->port = 0;
    if (a->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
        inet_ntop(AF_INET, &in->sin_addr, a->text, sizeof a->text);
        a->port = ntohs(in->sin_port);
    } else if (a->family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, a->text, sizeof a->text);
        a->port = ntohs(in6->sin6_port);
    }
}

int swco__addr_numeric(swco__addr_t *a, const char *host, int port, int family)
{
    memset(a, 0, sizeof *a);
    if (!host || port < 0 || port > 65535)
        return -EINVAL;
    if (family != AF_INET6) {
        struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
        if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
            in->sin_family = AF_INET;
            in->sin_port = htons((uint16_t)port);
            a->len = sizeof *in;
            swco__addr_describe(a);
            return 0;
        }
    }
    if (family != AF_INET) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons((uint16_t)port);
            a->len = sizeof *in6;
            swco__addr_describe(a);
            return 0;
        }
    }
    return -EINVAL;
}

/* ---------------------------------------------------------------- cache */

typedef struct cache_entry {
    struct cache_entry *next;
    char *key;
    long long expires;
    swco_addrinfo_t *ai;
} cache_entry_t;

static __thread cache_entry_t *cache_head;
static __thread long long cache_ttl_ms;
static __thread int cache_cap = 128;
static __thread int cache_n;

static swco_addrinfo_t *ai_copy(const swco_addrinfo_t *src)
{
    swco_addrinfo_t *ai = calloc(1, sizeof *ai);
    if (!ai)
        return NULL;
    ai->addrs = malloc(sizeof *ai->addrs * (src->n ? src->n : 1));
    if (!ai->addrs) {
        free(ai);
        return NULL;
    }
    memcpy(ai->addrs, src->addrs, sizeof *ai->addrs * src->n);
    ai->n = src->n;
    return ai;
}

static void entry_free(cache_entry_t *e)
{
    swco_addrinfo_free(e->ai);
    free(e->key);
    free(e);
}

void swco_dns_cache_clear(void)
{
    for (cache_entry_t *e = cache_head, *n; e; e = n) {
        n = e->next;
        entry_free(e);
    }
    cache_head = NULL;
    cache_n = 0;
}

int swco_dns_cache_set(double ttl, int capacity)
{
    if (ttl < 0 || ttl > 1e7 || capacity < 0)
        return swco__fail(-EINVAL);
    swco_dns_cache_clear();
    cache_ttl_ms = ttl > 0 ? swco__seconds_to_ms(ttl) : 0;
    if (capacity > 0)
        cache_cap = capacity;
    return 0;
}

static swco_addrinfo_t *cache_get(const char *key)
{
    long long now = swco__now_ms();
    for (cache_entry_t **pe = &cache_head, *e; (e = *pe); pe = &e->next) {
        if (strcmp(e->key, key) != 0)
            continue;
        *pe = e->next;
        if (e->expires <= now) {
            entry_free(e);
            cache_n--;
            return NULL;
        }
        e->next = cache_head; /* most recently used first */
        cache_head = e;
        return ai_copy(e->ai);
    }
    return NULL;
}

static void cache_put(const char *key, const swco_addrinfo_t *ai)
{
    cache_entry_t *e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key)) || !(e->ai = ai_copy(ai))) {
        if (e) {
            free(e->key);
            free(e);
        }
        return;
    }
    e->expires = swco__now_ms() + cache_ttl_ms;
    e->next = cache_head;
    cache_head = e;
    if (++cache_n > cache_cap) { /* drop the least recently used */
        cache_entry_t **pe = &cache_head;
        while ((*pe)->next)
            pe = &(*pe)->next;
        entry_free(*pe);
        *pe = NULL;
        cache_n--;
    }
}

/* --------------------------------------------------------------- lookup */

typedef struct gai_job {
    char *host, *service;
    int family, socktype;
    int rc;
    int err; /* errno after a failed lookup */
    struct addrinfo *res;
} gai_job_t;

static void gai_run(void *arg)
{
    gai_job_t *j = arg;
    struct addrinfo hints = {.ai_family = j->family, .ai_socktype = j->socktype};
    hints.ai_flags = AI_ADDRCONFIG;
    errno = 0;
    j->rc = getaddrinfo(j->host, j->service, &hints, &j->res);
    if (j->rc == EAI_NONAME || j->rc == EAI_ADDRFAMILY) {
        /* AI_ADDRCONFIG hides ::1 on hosts without global v6: retry. */
        hints.ai_flags = 0;
        errno = 0;
        j->rc = getaddrinfo(j->host, j->service, &hints, &j->res);
    }
    j->err = j->rc ? errno : 0;
}

static void gai_free(void *arg)
{
    gai_job_t *j = arg;
    if (j->res)
        freeaddrinfo(j->res);
    free(j->host);
    free(j->service);
    free(j);
}

static int gai_code(int rc, int err)
{
    /* Out of descriptors, glibc cannot open /etc/hosts or a DNS socket and
     * answers EAI_NONAME: say what happened, not "no such name". */
    if (err == EMFILE || err == ENFILE || (rc == EAI_SYSTEM && err > 0))
        return -err;
    switch (rc) {
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_FAMILY:
    case EAI_SOCKTYPE:
    case EAI_BADFLAGS:
    case EAI_SERVICE:
        return -EINVAL;
    default:
        return SWCO_EDNS;
    }
}

static swco_addrinfo_t *ai_from(struct addrinfo *res)
{
    size_t n = 0;
    for (struct addrinfo *p = res; p; p = p->ai_next)
        n++;
    swco_addrinfo_t *ai = calloc(1, sizeof *ai);
    if (!ai || !(ai->addrs = calloc(n ? n : 1, sizeof *ai->addrs))) {
        free(ai);
        return NULL;
    }
    for (struct addrinfo *p = res; p; p = p->ai_next) {
        if ((p->ai_family != AF_INET && p->ai_family != AF_INET6) ||
            p->ai_addrlen > sizeof(struct sockaddr_storage))
            continue;
        swco__addr_t a = {0};
        memcpy(&a.ss, p->ai_addr, p->ai_addrlen);
        a.len = p->ai_addrlen;
        swco__addr_describe(&a);
        int dup = 0;
        for (size_t i = 0; i < ai->n && !dup; i++)
            dup = ai->addrs[i].family == a.family && ai->addrs[i].port == a.port &&
                  strcmp(ai->addrs[i].text, a.text) == 0;
        if (!dup)
            ai->addrs[ai->n++] = a;
    }
    return ai;
}

swco_addrinfo_t *swco_dns_getaddrinfo(const char *host, const char *service, int family, int socktype,
                                  double timeout)
{
    if (!host || !*host || (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)) {
        swco__fail(-EINVAL);
        return NULL;
    }
    /* Numeric host and port: no lookup needed. */
    char *end = NULL;
    long port = service ? strtol(service, &end, 10) : 0;
    if (!service || (end && *end == 0 && port >= 0 && port <= 65535)) {
        swco__addr_t a;
        if (swco__addr_numeric(&a, host, (int)port, family) == 0) {
            swco_addrinfo_t one = {1, &a};
            swco_addrinfo_t *ai = ai_copy(&one);
            if (!ai)
                swco__fail(-ENOMEM);
            return ai;
        }
    }
    char key[512];
    int use_cache = cache_ttl_ms > 0 &&
                    snprintf(key, sizeof key, "%s|%s|%d|%d", host, service ? service : "", family,
                             socktype) < (int)sizeof key;
    if (use_cache) {
        swco_addrinfo_t *ai = cache_get(key);
        if (ai)
            return ai;
    }
    gai_job_t *j = calloc(1, sizeof *j);
    if (!j || !(j->host = strdup(host)) || (service && !(j->service = strdup(service)))) {
        if (j)
            gai_free(j);
        swco__fail(-ENOMEM);
        return NULL;
    }
    j->family = family;
    j->socktype = socktype;
    int rc = swco_aio_run(gai_run, j, gai_free, timeout);
    if (rc != 0) {
        swco__fail(rc);
        return NULL;
    }
    swco_addrinfo_t *ai = NULL;
    if (j->rc != 0) {
        swco__fail(gai_code(j->rc, j->err));
    } else if (!(ai = ai_from(j->res))) {
        swco__fail(-ENOMEM);
    } else if (ai->n == 0) {
        swco_addrinfo_free(ai);
        ai = NULL;
        swco__fail(SWCO_EDNS);
    } else if (use_cache) {
        cache_put(key, ai);
    }
    gai_free(j);
    return ai;
}

size_t swco_addrinfo_count(const swco_addrinfo_t *ai) { return ai ? ai->n : 0; }

const char *swco_addrinfo_address(const swco_addrinfo_t *ai, size_t i)
{
    return ai && i < ai->n ? ai->addrs[i].text : NULL;
}

int swco_addrinfo_family(const swco_addrinfo_t *ai, size_t i)
{
    return ai && i < ai->n ? ai->addrs[i].family : swco__fail(-EINVAL);
}

int swco_addrinfo_port(const swco_addrinfo_t *ai, size_t i)
{
    return ai && i < ai->n ? ai->addrs[i].port : swco__fail(-EINVAL);
}

void swco_addrinfo_free(swco_addrinfo_t *ai)
{
    if (!ai)
        return;
    free(ai->addrs);
    free(ai);
}

int swco_dns_gethostbyname(const char *host, int family, char *out, size_t out_len, double timeout)
{
    if (!out || out_len == 0)
        return swco__fail(-EINVAL);
    swco_addrinfo_t *ai = swco_dns_getaddrinfo(host, NULL, family, SOCK_STREAM, timeout);
    if (!ai)
        return swco_last_error();
    const char *a = ai->addrs[0].text;
    int rc = 0;
    if (strlen(a) >= out_len)
        rc = swco__fail(-ENOSPC);
    else
        strcpy(out, a);
    swco_addrinfo_free(ai);
    return rc;
}
