/* Fuzz target for the ALPN lists (lib/io/alpn.c).
 *
 * With libFuzzer: clang -fsanitize=fuzzer,address,undefined
 * -DSWCO_FUZZ_LIBFUZZER ...  Without it (make check) main() runs the corpus
 * files given on the command line and a fixed number of pseudo-random
 * inputs.
 *
 * The first two bytes (big-endian, modulo the rest's length + 1) split
 * the rest into the server's comma-separated list
 * (what a user passes to swco_ssl_ctx_set_alpn) and the bytes a client
 * sends as its wire-format list.  Every buffer is a heap copy of exactly
 * its size, so a read or write past it is a sanitizer report.
 * Invariants: the wire format of a list parses back to the same names,
 * -EINVAL exactly when a name is empty or over 255 bytes; the server's
 * pick is the first of its names the client offers, pointed to inside the
 * client's list, and nothing when the client's list is malformed. */
#include "fuzz_main.h"
#include "io/io_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

static unsigned char *dup_exact(const void *p, size_t n)
{
    unsigned char *d = malloc(n ? n : 1);
    if (!d)
        abort();
    if (n)
        memcpy(d, p, n);
    return d;
}

/* Reference: split a comma list into names; -1 when one is empty or too long. */
static int ref_split(const char *s, size_t n, size_t *off, size_t *len, size_t max)
{
    size_t count = 0, start = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == ',') {
            size_t l = i - start;
            if (l == 0 || l > 255 || count == max)
                return -1;
            off[count] = start;
            len[count] = l;
            count++;
            start = i + 1;
        }
    }
    return (int)count;
}

/* Reference: a wire list's names; -1 when malformed or empty. */
static int ref_parse_wire(const unsigned char *w, size_t n, size_t *off, size_t *len, size_t max)
{
    size_t count = 0, i = 0;
    if (n == 0)
        return -1;
    while (i < n) {
        size_t l = w[i];
        if (l == 0 || i + 1 + l > n || count == max)
            return -1;
        off[count] = i + 1;
        len[count] = l;
        count++;
        i += 1 + l;
    }
    return (int)count;
}

#define MAXN 4096

static size_t aoff[MAXN], alen[MAXN], boff[MAXN], blen[MAXN];

/* Build the wire list of (s, n) and check it; returns it (or NULL). */
static unsigned char *build(const char *s, size_t n, long *wlen)
{
    unsigned char *w = malloc(n + 1);
    if (!w)
        abort();
    long rc = swco__alpn_wire(s, n, w);
    int count = ref_split(s, n, aoff, alen, MAXN);
    if (count < 0) {
        if (rc != -EINVAL)
            FAIL("wire of a bad list gave %ld", rc);
        free(w);
        return NULL;
    }
    if (count == 0) {
        if (rc != 0)
            FAIL("wire of an empty list gave %ld", rc);
        free(w);
        return NULL;
    }
    if (rc <= 0 || (size_t)rc > n + 1)
        FAIL("wire of a good list gave %ld for %zu bytes", rc, n);
    if (!swco__alpn_wire_valid(w, (size_t)rc))
        FAIL("wire list not valid");
    int back = ref_parse_wire(w, (size_t)rc, boff, blen, MAXN);
    if (back != count)
        FAIL("wire list has %d names, not %d", back, count);
    for (int i = 0; i < count; i++)
        if (blen[i] != alen[i] || memcmp(w + boff[i], s + aoff[i], alen[i]) != 0)
            FAIL("name %d differs", i);
    *wlen = rc;
    return w;
}

static void check_select(const unsigned char *ours, size_t olen, const unsigned char *peer,
                         size_t plen)
{
    const unsigned char *sel = (const unsigned char *)"x";
    unsigned char sel_len = 7;
    int got = swco__alpn_select(ours, olen, peer, plen, &sel, &sel_len);
    int no = ref_parse_wire(ours, olen, aoff, alen, MAXN);
    int np = ref_parse_wire(peer, plen, boff, blen, MAXN);
    if ((np < 0) != !swco__alpn_wire_valid(peer, plen))
        FAIL("validity of the peer's list disagrees");
    int want = -1; /* index into peer's names */
    if (no > 0 && np > 0) {
        for (int i = 0; i < no && want < 0; i++)
            for (int j = 0; j < np; j++)
                if (alen[i] == blen[j] && memcmp(ours + aoff[i], peer + boff[j], alen[i]) == 0) {
                    want = j;
                    break;
                }
    }
    if (want < 0) {
        if (got != 0 || sel != NULL || sel_len != 0)
            FAIL("selected %d with no common name", got);
        return;
    }
    if (got != 1 || !sel)
        FAIL("no selection, expected one");
    if (sel < peer || sel + sel_len > peer + plen)
        FAIL("selection outside the peer's list");
    if (sel_len != blen[want] || memcmp(sel, peer + boff[want], sel_len) != 0)
        FAIL("selected the wrong name");
    if (sel[-1] != sel_len)
        FAIL("selection does not start a name");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t *rest = data + 2;
    size_t rlen = size - 2;
    size_t split = ((size_t)data[0] << 8 | data[1]) % (rlen + 1);
    char *a = (char *)dup_exact(rest, split);
    unsigned char *b = dup_exact(rest + split, rlen - split);
    size_t bn = rlen - split;

    long wa = 0, wb = 0;
    unsigned char *ours = build(a, split, &wa);
    /* the client's bytes as received */
    if (ours)
        check_select(ours, (size_t)wa, b, bn);
    check_select(b, bn, b, bn); /* a list against itself: its first name */
    /* the client's bytes read as a comma list too */
    unsigned char *theirs = build((const char *)b, bn, &wb);
    if (ours && theirs)
        check_select(ours, (size_t)wa, theirs, (size_t)wb);
    /* malformed ours: nothing, never a read past it */
    if (ours)
        check_select(b, bn, ours, (size_t)wa);
    free(theirs);
    free(ours);
    free(b);
    free(a);
    return 0;
}

#ifndef SWCO_FUZZ_LIBFUZZER
int main(int argc, char **argv)
{
    static uint8_t buf[65536];
    if (fuzz_run_files(argc, argv))
        return 1;
    /* Pseudo-random inputs rich in commas, short names and length bytes. */
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (int round = 0; round < 20000; round++) {
        size_t n = 1 + (size_t)(x % 600);
        for (size_t i = 0; i < n; i++) {
            fuzz_next(&x);
            unsigned r = (unsigned)(x >> 32);
            buf[i] = (uint8_t)(r % 5 == 0 ? ',' : r % 7 == 0 ? r % 6 : 'a' + r % 4);
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
