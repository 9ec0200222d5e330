/* Fuzz target for request bodies (lib/http/multipart.c) and the form and
 * cookie decoders (lib/http/form.c).
 *
 * With libFuzzer: tools/fuzz multipart SECONDS.  Without it (make check)
 * main() runs the corpus files given on the command line and a fixed
 * number of pseudo-random inputs, most of them mutations of real forms.
 *
 * Input: one flag byte, a Content-Type line ending in '\n', the body.
 *   flags & 3        the read size of the second parse (1, 7, 4093, all)
 *   flags >> 2 & 3   http_upload_memory_max (0, 8, 1 MiB) / files on disk
 *   flags & 16       http_parse_files off
 *   flags & 32       upload_max_filesize 64
 *   flags & 64       package_max_length 4096 (else 1 MiB)
 *   flags & 128      the body source fails (-ETIMEDOUT) instead of ending
 * The body is loaded twice, at two read sizes (all at once, and the one
 * the flags say): a parser that answers differently depending on where
 * reads split is a bug, as is a crash, a leak, a read past the input, or
 * a temp file left behind.  Every outcome is checked against the limits:
 * fields and files, sizes, errors, what is in memory and on disk.  The
 * Content-Type line is also fed to the query, cookie and percent decoders,
 * with their invariants checked.
 *
 * fuzz-sources: libswco   (read by tools/fuzz) */
#include "fuzz_main.h"
#include "http/http_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* the input being run, printed when a check fails */
static const uint8_t *cur;
static size_t cur_len;

static void dump_input(void)
{
    fprintf(stderr, "input (%zu bytes): \"", cur_len);
    for (size_t i = 0; cur && i < cur_len; i++)
        fprintf(stderr, cur[i] >= 32 && cur[i] < 127 && cur[i] != '"' && cur[i] != '\\' ? "%c"
                                                                                      : "\\x%02x",
                cur[i]);
    fprintf(stderr, "\"\n");
}

#define FAIL(...)                                                                             \
    do {                                                                                      \
        fprintf(stderr, __VA_ARGS__);                                                         \
        fputc('\n', stderr);                                                                  \
        dump_input();                                                                         \
        abort();                                                                              \
    } while (0)

typedef struct src {
    const uint8_t *data;
    size_t len, pos, chunk;
    int end;
} src_t;

static long src_read(void *ctx, void *buf, size_t len, double timeout)
{
    src_t *s = ctx;
    (void)timeout;
    if (s->pos == s->len)
        return s->end;
    size_t n = s->len - s->pos;
    if (s->chunk && n > s->chunk)
        n = s->chunk;
    if (n > len)
        n = len;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return (long)n;
}

static const swco__http_body_src_t src_ops = {src_read};

static swco_server_t *srv_small, *srv_big; /* package_max_length 4096, 1 MiB */
static char tmpdir[64];

static void init(void)
{
    if (srv_small)
        return;
    snprintf(tmpdir, sizeof tmpdir, "%s/fuzz_multipart.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir))
        FAIL("mkdtemp: %s", strerror(errno));
    srv_small = swco_server_new("127.0.0.1", 0, SWCO_SERVER_BASE, SWCO_SOCK_TCP);
    srv_big = swco_server_new("127.0.0.1", 0, SWCO_SERVER_BASE, SWCO_SOCK_TCP);
    if (!srv_small || !srv_big || swco_server_set(srv_small, "package_max_length", "4096") ||
        swco_server_set(srv_big, "package_max_length", "1048576"))
        FAIL("servers");
}

static int tmp_files(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        FAIL("opendir %s", tmpdir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* One file's bytes, from memory or disk (malloc'd), or NULL. */
static char *file_bytes(const swco__http_file_t *f)
{
    char *b = malloc((size_t)f->size + 1);
    if (!b)
        abort();
    if (f->data) {
        memcpy(b, f->data, (size_t)f->size);
        if (f->data[f->size] != 0)
            FAIL("in-memory file not terminated");
        return b;
    }
    int fd = open(f->tmp_path, O_RDONLY);
    if (fd < 0)
        FAIL("temp file %s: %s", f->tmp_path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size != f->size)
        FAIL("temp file of %lld bytes, size says %lld", (long long)st.st_size, f->size);
    if (read(fd, b, (size_t)f->size) != (ssize_t)f->size)
        FAIL("temp file short");
    close(fd);
    return b;
}

typedef struct outcome {
    int rc;
    swco_http_request_t req;
} outcome_t;

static void load(outcome_t *o, swco_server_t *srv, const swco__http_lopts_t *opt,
                 const char *ctype, size_t ctype_len, const uint8_t *body, size_t n, size_t chunk,
                 int end)
{
    swco_http_request_t *req = &o->req;
    memset(req, 0, sizeof *req);
    req->srv = srv;
    req->opt = opt;
    req->version = 11;
    req->content_length = -1;
    req->chunked = 1;
    char *ct = swco__arena_strndup(&req->arena, ctype, ctype_len);
    if (!ct || swco__kv_add(&req->lists[SWCO_HTTP_HEADER], "Content-Type", 12, ct, ctype_len))
        abort();
    /* the body in an allocation of its exact size */
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        abort();
    memcpy(copy, body, n);
    src_t s = {copy, n, 0, chunk, end};
    req->src = &src_ops;
    req->src_ctx = &s;
    o->rc = swco__http_body_load(req);
    if (swco__http_body_load(req) != o->rc)
        FAIL("a second load answered differently");
    req->src = NULL;
    free(copy);
}

static void check_outcome(const outcome_t *o, size_t max, const swco__http_lopts_t *opt, int end)
{
    const swco_http_request_t *req = &o->req;
    int rc = o->rc;
    if (rc != 0 && rc != -EPROTO && rc != -EMSGSIZE && rc != end)
        FAIL("load: %d", rc);
    if (rc == 0 && req->body_state != SWCO__BODY_LOADED)
        FAIL("state %d after success", req->body_state);
    if (rc < 0 && (req->body_state != SWCO__BODY_FAILED || req->body_error != rc))
        FAIL("state %d / %d after %d", req->body_state, req->body_error, rc);
    if (req->body.len > max)
        FAIL("raw body of %zu bytes past %zu", req->body.len, max);
    if (req->body.len && req->body.p[req->body.len])
        FAIL("raw body not terminated");
    const swco__kvlist_t *l = &req->lists[SWCO_HTTP_POST];
    if (l->n > max / 64)
        FAIL("%zu fields for a %zu-byte limit", l->n, max);
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].name[l->v[i].name_len] || l->v[i].value[l->v[i].value_len] ||
            !l->v[i].name_len)
            FAIL("field %zu malformed", i);
    size_t fmax = opt->upload_max_filesize ? opt->upload_max_filesize : max;
    for (size_t i = 0; i < req->nfiles; i++) {
        const swco__http_file_t *f = &req->files[i];
        if (!f->field || !f->name || !f->type)
            FAIL("file %zu without strings", i);
        if (strchr(f->name, '/') || strchr(f->name, '\\'))
            FAIL("file name '%s' keeps a directory", f->name);
        if (f->size < 0 || (size_t)f->size > fmax)
            FAIL("file %zu of %lld bytes (max %zu)", i, f->size, fmax);
        if (f->error) {
            if (f->tmp_path || f->data)
                FAIL("failed file %zu still holds its bytes", i);
            if (f->error != -EFBIG && f->error != -ENOENT && f->error != -EIO &&
                f->error != rc)
                FAIL("file error %d", f->error);
        } else {
            if (!!f->tmp_path == !!f->data)
                FAIL("file %zu: temp file %p and data %p", i, (void *)f->tmp_path,
                     (void *)f->data);
            if (f->data && (size_t)f->size > opt->upload_memory_max)
                FAIL("file of %lld bytes in memory (max %zu)", f->size, opt->upload_memory_max);
            if (f->tmp_path && opt->upload_memory_max && (size_t)f->size <= opt->upload_memory_max)
                FAIL("file of %lld bytes on disk (memory max %zu)", f->size,
                     opt->upload_memory_max);
        }
    }
    if (!opt->parse_files && req->nfiles)
        FAIL("files with http_parse_files off");
}

static void same_outcome(const outcome_t *a, const outcome_t *b)
{
    if (a->rc != b->rc)
        FAIL("read sizes disagree: %d vs %d", a->rc, b->rc);
    if (a->rc < 0 && a->rc != -EPROTO)
        return; /* limits may trip at different points of a field */
    const swco__kvlist_t *la = &a->req.lists[SWCO_HTTP_POST], *lb = &b->req.lists[SWCO_HTTP_POST];
    if (la->n != lb->n)
        FAIL("fields: %zu vs %zu", la->n, lb->n);
    for (size_t i = 0; i < la->n; i++)
        if (la->v[i].name_len != lb->v[i].name_len || la->v[i].value_len != lb->v[i].value_len ||
            memcmp(la->v[i].name, lb->v[i].name, la->v[i].name_len) ||
            memcmp(la->v[i].value, lb->v[i].value, la->v[i].value_len))
            FAIL("field %zu differs", i);
    if (a->req.body.len != b->req.body.len ||
        (a->req.body.len && memcmp(a->req.body.p, b->req.body.p, a->req.body.len)))
        FAIL("raw bodies differ");
    if (a->req.nfiles != b->req.nfiles)
        FAIL("files: %zu vs %zu", a->req.nfiles, b->req.nfiles);
    for (size_t i = 0; i < a->req.nfiles; i++) {
        const swco__http_file_t *fa = &a->req.files[i], *fb = &b->req.files[i];
        if (fa->error != fb->error || fa->size != fb->size || strcmp(fa->field, fb->field) ||
            strcmp(fa->name, fb->name) || strcmp(fa->type, fb->type))
            FAIL("file %zu differs", i);
        if (fa->error)
            continue;
        char *ba = file_bytes(fa), *bb = file_bytes(fb);
        if (memcmp(ba, bb, (size_t)fa->size))
            FAIL("file %zu's bytes differ", i);
        free(ba);
        free(bb);
    }
}

static void clear(outcome_t *o)
{
    swco__http_body_free(&o->req);
    for (int k = 0; k < 4; k++)
        swco__kv_free(&o->req.lists[k]);
    swco__arena_free(&o->req.arena);
}

/* The decoders on the Content-Type line. */
static void decoders(const char *s, size_t n)
{
    swco__arena_t a = {0};
    swco__kvlist_t l = {0};
    size_t dl;
    char *d = swco__http_decode(&a, s, n, 1, &dl);
    if (!d || dl > n || d[dl])
        FAIL("decode: %zu -> %zu", n, dl);
    if (swco__http_parse_query(&a, &l, s, n))
        FAIL("parse_query");
    size_t amps = 0;
    for (size_t i = 0; i < n; i++)
        amps += s[i] == '&';
    if (l.n > amps + 1)
        FAIL("%zu query fields from %zu '&'", l.n, amps);
    for (size_t i = 0; i < l.n; i++)
        if (!l.v[i].name_len || l.v[i].name[l.v[i].name_len] || l.v[i].value[l.v[i].value_len])
            FAIL("query field %zu", i);
    swco__kv_free(&l);
    if (swco__http_parse_cookies(&a, &l, s, n))
        FAIL("parse_cookies");
    for (size_t i = 0; i < l.n; i++) {
        const char *nm = l.v[i].name;
        size_t nl = l.v[i].name_len;
        if (!nl || nm[0] == ' ' || nm[0] == '\t' || nm[nl - 1] == ' ' || nm[nl - 1] == '\t' ||
            memchr(nm, ';', nl) || memchr(nm, '=', nl))
            FAIL("cookie name '%s'", nm);
    }
    swco__kv_free(&l);
    /* what we encode decodes back (up to the first NUL: a C string) */
    swco__hbuf_t b = {0};
    char *z = swco__arena_strndup(&a, s, n);
    if (swco__http_encode_cookie(&b, z))
        FAIL("encode_cookie");
    for (size_t i = 0; i < b.len; i++)
        if (!((b.p[i] >= 'a' && b.p[i] <= 'z') || (b.p[i] >= 'A' && b.p[i] <= 'Z') ||
              (b.p[i] >= '0' && b.p[i] <= '9') || strchr("-._~%", b.p[i])))
            FAIL("encoded cookie holds '%c'", b.p[i]);
    char *back = swco__http_decode(&a, b.p ? b.p : "", b.len, 0, &dl);
    if (dl != strlen(z) || memcmp(back, z, dl))
        FAIL("encode/decode round trip");
    swco__hbuf_free(&b);
    swco__arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    cur = data;
    cur_len = size;
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    const uint8_t *p = data + 1, *end = data + size;
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        nl = end;
    const char *ctype = (const char *)p;
    size_t ctype_len = (size_t)(nl - p);
    const uint8_t *body = nl < end ? nl + 1 : end;
    size_t n = (size_t)(end - body);

    decoders(ctype, ctype_len);

    swco_server_t *srv = flags & 64 ? srv_small : srv_big;
    size_t max = flags & 64 ? 4096 : 1048576;
    swco__http_lopts_t opt = srv->listeners[0]->opt.http;
    static const size_t mem[] = {0, 8, 1 << 20, 0};
    opt.upload_memory_max = mem[flags >> 2 & 3];
    opt.parse_files = !(flags & 16);
    opt.upload_max_filesize = flags & 32 ? 64 : 0;
    opt.upload_tmp_dir = tmpdir;
    static const size_t chunks[] = {1, 7, 4093, 0};
    int endc = flags & 128 ? -ETIMEDOUT : 0;

    outcome_t a, b;
    load(&a, srv, &opt, ctype, ctype_len, body, n, 0, endc);
    check_outcome(&a, max, &opt, endc);
    load(&b, srv, &opt, ctype, ctype_len, body, n, chunks[flags & 3], endc);
    check_outcome(&b, max, &opt, endc);
    same_outcome(&a, &b);
    clear(&a);
    clear(&b);
    if (tmp_files())
        FAIL("temp files left behind");
    return 0;
}

#ifndef SWCO_FUZZ_LIBFUZZER
static const char *const seeds[] = {
    "\x00multipart/form-data; boundary=XyZ\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
    "Content-Type: text/plain\r\n\r\nfile\r\n--Xy\r\nbody\r\n--XyZ--\r\n",
    "\x05multipart/form-data; boundary=\"q b\"\n"
    "pre\r\n--q b \r\nContent-Disposition: form-data; name=f; filename*=UTF-8''%E2%82%AC\r\n\r\n"
    "\r\n--q b\r\nContent-Disposition: form-data; name=\"e\"; filename=\"\"\r\n\r\n\r\n--q b--",
    "\x21multipart/form-data; boundary=b\n"
    "--b\r\nContent-Disposition: form-data; name=\"big\"; filename=\"x\"\r\n\r\n"
    "0123456789012345678901234567890123456789012345678901234567890123456789\r\n--b--",
    "\x42" "application/x-www-form-urlencoded\na=1&b=%20+%zz&c&=d&e%5B%5D=2",
    "\x83text/plain\nraw body",
    "\x10multipart/form-data; boundary=b\n--b\r\n\r\nx\r\n--b--",
};

int main(int argc, char **argv)
{
    if (fuzz_run_files(argc, argv))
        return 1;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    static uint8_t buf[8192];
    for (int round = 0; round < 3000; round++) {
        const char *seed = seeds[fuzz_next(&x) % (sizeof seeds / sizeof seeds[0])];
        size_t n = strlen(seed + 1) + 1; /* the flag byte may be 0 */
        memcpy(buf, seed, n);
        buf[0] = (uint8_t)fuzz_next(&x);
        /* a few mutations: flip, insert CRLF / dashes, cut */
        int muts = (int)(fuzz_next(&x) % 4);
        for (int m = 0; m < muts && n > 2; m++) {
            size_t at = 1 + fuzz_next(&x) % (n - 1);
            switch (fuzz_next(&x) % 4) {
            case 0:
                buf[at] = (uint8_t)fuzz_next(&x);
                break;
            case 1:
                if (n + 2 < sizeof buf) {
                    memmove(buf + at + 2, buf + at, n - at);
                    memcpy(buf + at, fuzz_next(&x) % 2 ? "\r\n" : "--", 2);
                    n += 2;
                }
                break;
            case 2:
                n = at;
                break;
            default:
                if (n * 2 < sizeof buf) { /* repeat the body part */
                    memcpy(buf + n, buf + at, n - at);
                    n += n - at;
                }
            }
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    swco_server_free(srv_small);
    swco_server_free(srv_big);
    rmdir(tmpdir);
    return 0;
}
#endif
