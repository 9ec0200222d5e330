/* ALPN protocol lists: the user's comma-separated list to wire format, and
 * the server's choice among the protocols a client offers.  Kept apart
 * from ssl.c (no OpenSSL here) so that tests/fuzz/fuzz_alpn.c can drive it
 * with arbitrary bytes: the client's list comes from the network. */
#include "io/io_int.h"

#include <string.h>

long swco__alpn_wire(const char *list, size_t n, unsigned char *out)
{
    size_t len = 0, i = 0;
    if (n == 0)
        return 0;
    for (;;) {
        size_t start = i;
        while (i < n && list[i] != ',')
            i++;
        size_t l = i - start;
        if (l == 0 || l > 255) /* "a,,b", ",a", "a," or a name too long */
            return -EINVAL;
        out[len++] = (unsigned char)l;
        memcpy(out + len, list + start, l);
        len += l;
        if (i == n)
            return (long)len;
        i++; /* the comma */
    }
}

/* Whether the well-formed wire list (list, n) holds the name (p, l). */
static int wire_has(const unsigned char *list, size_t n, const unsigned char *p, size_t l,
                    const unsigned char **where)
{
    for (size_t i = 0; i < n; i += 1 + (size_t)list[i]) {
        if (list[i] == l && memcmp(list + i + 1, p, l) == 0) {
            *where = list + i + 1;
            return 1;
        }
    }
    return 0;
}

int swco__alpn_wire_valid(const unsigned char *list, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n;) {
        size_t l = list[i];
        if (l == 0 || l > n - i - 1)
            return 0;
        i += 1 + l;
    }
    return 1;
}

int swco__alpn_select(const unsigned char *ours, size_t ours_len, const unsigned char *peer,
                      size_t peer_len, const unsigned char **sel, unsigned char *sel_len)
{
    *sel = NULL;
    *sel_len = 0;
    if (!ours || !peer || !swco__alpn_wire_valid(ours, ours_len) ||
        !swco__alpn_wire_valid(peer, peer_len))
        return 0;
    for (size_t i = 0; i < ours_len; i += 1 + (size_t)ours[i]) {
        const unsigned char *where;
        if (wire_has(peer, peer_len, ours + i + 1, ours[i], &where)) {
            *sel = where; /* inside the peer's list, as OpenSSL wants */
            *sel_len = ours[i];
            return 1;
        }
    }
    return 0;
}
