/* libswco: host name resolution on the AIO thread pool.
 *
 * getaddrinfo() blocks, so swco_dns_getaddrinfo() runs it on the pool while the
 * coroutine yields.  Results come back as an opaque list of numeric address
 * strings ("127.0.0.1", "::1") with their family and port.  A small
 * per-thread cache (off by default) can keep answers for a while.
 */
#ifndef SWCO_DNS_H
#define SWCO_DNS_H

#include <stddef.h>

#include <swco/export.h>

SWCO_BEGIN_DECLS

typedef struct swco_addrinfo swco_addrinfo_t;

/**
 * swco_dns_getaddrinfo - resolve a host name without blocking the thread
 *
 * Resolves host (a name or a numeric address) and, when not NULL, service
 * (a port number or service name) for family (AF_INET, AF_INET6, or
 * AF_UNSPEC / 0 for both) and socktype (SOCK_STREAM, SOCK_DGRAM, or 0 for
 * any), on the AIO pool, within timeout seconds (<= 0: no limit).  Numeric
 * addresses are converted at once without the pool.  Returns a result list
 * to read with swco_addrinfo_count() and friends and release with
 * swco_addrinfo_free(), or NULL with swco_last_error() set to SWCO_EDNS
 * (the name does not resolve), -EMFILE or -ENFILE (no descriptor left to
 * read the hosts file or ask a server), -ETIMEDOUT, -EINVAL, -ENOMEM or
 * -ECANCELED.
 */
SWCO_API swco_addrinfo_t *swco_dns_getaddrinfo(const char *host, const char *service, int family,
                                           int socktype, double timeout);

/**
 * swco_addrinfo_count - number of addresses in a result
 */
SWCO_API size_t swco_addrinfo_count(const swco_addrinfo_t *ai);

/**
 * swco_addrinfo_address - the i-th address as a numeric string
 *
 * Returns a string owned by ai ("127.0.0.1", "::1"), or NULL when i is out
 * of range.
 */
SWCO_API const char *swco_addrinfo_address(const swco_addrinfo_t *ai, size_t i);

/**
 * swco_addrinfo_family - the i-th address's family (AF_INET or AF_INET6)
 *
 * Returns the family, or -EINVAL when i is out of range.
 */
SWCO_API int swco_addrinfo_family(const swco_addrinfo_t *ai, size_t i);

/**
 * swco_addrinfo_port - the i-th address's port (0 when no service was given)
 *
 * Returns the port, or -EINVAL when i is out of range.
 */
SWCO_API int swco_addrinfo_port(const swco_addrinfo_t *ai, size_t i);

/**
 * swco_addrinfo_free - release a result of swco_dns_getaddrinfo()
 */
SWCO_API void swco_addrinfo_free(swco_addrinfo_t *ai);

/**
 * swco_dns_gethostbyname - resolve a host name to its first address
 *
 * Writes the first address of host for family (AF_INET, AF_INET6 or 0 for
 * either) as a NUL-terminated numeric string into out (out_len bytes; 46
 * is always enough).  Returns 0, SWCO_EDNS, -ETIMEDOUT, -ENOSPC when out is
 * too small, or another code as swco_dns_getaddrinfo().
 */
SWCO_API int swco_dns_gethostbyname(const char *host, int family, char *out, size_t out_len,
                                double timeout);

/**
 * swco_dns_cache_set - enable and size the calling thread's DNS cache
 *
 * Answers of swco_dns_getaddrinfo() are kept for ttl seconds (0 turns the
 * cache off, the default) in a cache of at most capacity entries (0 keeps
 * the current capacity, initially 128).  Changing it empties the cache.
 * Returns 0 or -EINVAL.
 */
SWCO_API int swco_dns_cache_set(double ttl, int capacity);

/**
 * swco_dns_cache_clear - empty the calling thread's DNS cache
 */
SWCO_API void swco_dns_cache_clear(void);

SWCO_END_DECLS

#endif /* SWCO_DNS_H */
