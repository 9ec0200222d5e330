/* Request bodies and forms (lib/http/form.c, lib/http/multipart.c).
 *
 * "parse": the decoders and the body loader driven directly, through a
 * request whose body source is a fake that hands the body out in pieces
 * of a chosen size (every size, for the small bodies: a parser that works
 * at one split and not at another is caught here).  These reach internals,
 * so the suite links the library statically (libswco_core.la).
 *
 * "end to end" (added once the HTTP server landed): real peers (curl,
 * python3) posting to a server on loopback. */
#include "testutil.h"

#include "http/http_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* ----------------------------------------------------- a fake request */

typedef struct fake_src {
    const char *data;   /* the body, or NULL: generated (gen_*) */
    size_t len, pos;
    size_t chunk;       /* at most this much per read (0: all) */
    int end_error;      /* returned instead of 0 at the end */
    long reads;
    /* generated body: head, n bytes of pattern, tail */
    const char *head, *tail;
    unsigned long long gen_n, gen_pos;
} fake_src_t;

static uint8_t pattern_byte(unsigned long long i)
{
    /* mostly letters, with CRLF "--" runs that start like a delimiter */
    static const char s[] = "abcdefghij\r\n--bounda\r\n-klmnopqrstuvwxyz0123456789\r\n\r\n";
    return (uint8_t)s[(i * 7 + i / 997) % (sizeof s - 1)];
}

static long fake_read(void *ctx, void *buf, size_t len, double timeout)
{
    fake_src_t *f = ctx;
    (void)timeout;
    f->reads++;
    size_t want = f->chunk && f->chunk < len ? f->chunk : len;
    if (f->data) {
        size_t left = f->len - f->pos;
        if (left == 0)
            return f->end_error;
        size_t n = want < left ? want : left;
        memcpy(buf, f->data + f->pos, n);
        f->pos += n;
        return (long)n;
    }
    /* generated: head, gen_n pattern bytes, tail */
    size_t hl = strlen(f->head), tl = strlen(f->tail);
    unsigned long long total = hl + f->gen_n + tl;
    if (f->gen_pos >= total)
        return f->end_error;
    size_t n = 0;
    uint8_t *o = buf;
    while (n < want && f->gen_pos < total) {
        unsigned long long p = f->gen_pos;
        if (p < hl)
            o[n++] = (uint8_t)f->head[p];
        else if (p < hl + f->gen_n)
            o[n++] = pattern_byte(p - hl);
        else
            o[n++] = (uint8_t)f->tail[p - hl - f->gen_n];
        f->gen_pos++;
    }
    return (long)n;
}

static const swco__http_body_src_t fake_src_ops = {fake_read};

static swco_server_t *srv;

/* A server (never started) holding the listener options the loader reads.
 * opts: name=value pairs, NULL-terminated. */
static void server_with(const char *const *opts)
{
    srv = swco_server_new("127.0.0.1", 0, SWCO_SERVER_BASE, SWCO_SOCK_TCP);
    ck_assert_ptr_nonnull(srv);
    ck_assert_int_eq(swco_server_set(srv, "open_http_protocol", "1"), 0);
    for (int i = 0; opts && opts[i]; i += 2)
        ck_assert_msg(swco_server_set(srv, opts[i], opts[i + 1]) == 0, "option %s", opts[i]);
}

static void req_init(swco_http_request_t *req, fake_src_t *fs, const char *ctype)
{
    memset(req, 0, sizeof *req);
    req->srv = srv;
    req->listener = 0;
    req->opt = &srv->listeners[0]->opt.http;
    req->version = 11;
    req->content_length = fs->data ? (long long)fs->len : -1;
    if (ctype)
        ck_assert_int_eq(swco__kv_add(&req->lists[SWCO_HTTP_HEADER], "Content-Type", 12, ctype,
                                      strlen(ctype)),
                         0);
    req->src = &fake_src_ops;
    req->src_ctx = fs;
}

static void req_clear(swco_http_request_t *req)
{
    swco__http_body_free(req);
    for (int k = 0; k < 4; k++)
        swco__kv_free(&req->lists[k]);
    swco__arena_free(&req->arena);
}

static const char *post(swco_http_request_t *req, const char *name)
{
    const swco__kv_t *kv = swco__kv_find(&req->lists[SWCO_HTTP_POST], name, 0);
    return kv ? kv->value : NULL;
}

static int dir_entries(const char *path)
{
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_http_body.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(tmpdir);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(b, 1, (size_t)n, fp), (size_t)n);
    b[n] = 0;
    fclose(fp);
    *len = (size_t)n;
    return b;
}

static long vm_kib(const char *field)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (fp && fgets(line, sizeof line, fp))
        if (!strncmp(line, field, fl) && line[fl] == ':')
            v = atol(line + fl + 1);
    if (fp)
        fclose(fp);
    return v;
}

/* ------------------------------------------------------------ form.c */

START_TEST(test_decode)
{
    swco__arena_t a = {0};
    size_t n;
    const char *in = "%41%zz%4+a%2%%00b%e2%82%AC";
    char *d = swco__http_decode(&a, in, strlen(in), 1, &n);
    /* bad escapes stay as they were; %00 is a NUL inside the value */
    ck_assert_uint_eq(n, 16);
    ck_assert_int_eq(memcmp(d, "A%zz%4 a%2%\0b\xe2\x82\xac", 17), 0);
    d = swco__http_decode(&a, "a+b%2", 5, 0, &n);
    ck_assert_str_eq(d, "a+b%2");
    d = swco__http_decode(&a, "%", 1, 1, &n);
    ck_assert_str_eq(d, "%");
    d = swco__http_decode(&a, "", 0, 1, &n);
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq(d, "");
    swco__arena_free(&a);
}
END_TEST

START_TEST(test_query)
{
    swco__arena_t a = {0};
    swco__kvlist_t l = {0};
    const char *q = "a=1&b=%20x+y&c&=d&&e=+&a=2&f%5B%5D=%zz&g==";
    ck_assert_int_eq(swco__http_parse_query(&a, &l, q, strlen(q)), 0);
    ck_assert_uint_eq(l.n, 7);
    const char *want[][2] = {{"a", "1"},   {"b", " x y"}, {"c", ""}, {"e", " "},
                             {"a", "2"},   {"f[]", "%zz"}, {"g", "="}};
    for (size_t i = 0; i < l.n; i++) {
        ck_assert_str_eq(l.v[i].name, want[i][0]);
        ck_assert_str_eq(l.v[i].value, want[i][1]);
        ck_assert_uint_eq(l.v[i].value_len, strlen(want[i][1]));
    }
    ck_assert_str_eq(swco__kv_find(&l, "a", 0)->value, "1");
    swco__kv_free(&l);
    ck_assert_int_eq(swco__http_parse_query(&a, &l, "", 0), 0);
    ck_assert_uint_eq(l.n, 0);
    swco__kv_free(&l);
    swco__arena_free(&a);
}
END_TEST

START_TEST(test_cookies)
{
    swco__arena_t a = {0};
    swco__kvlist_t l = {0};
    const char *c = " a=1; b=\"q v\";c=%41+/x==;  d ;=x; e = 5 ;a=dup;";
    ck_assert_int_eq(swco__http_parse_cookies(&a, &l, c, strlen(c)), 0);
    const char *want[][2] = {{"a", "1"}, {"b", "q v"}, {"c", "A+/x=="}, {"d", ""},
                             {"e", "5"}, {"a", "dup"}};
    ck_assert_uint_eq(l.n, 6);
    for (size_t i = 0; i < l.n; i++) {
        ck_assert_str_eq(l.v[i].name, want[i][0]);
        ck_assert_str_eq(l.v[i].value, want[i][1]);
    }
    /* the first of a name wins, as PHP's $_COOKIE */
    ck_assert_str_eq(swco__kv_find(&l, "a", 0)->value, "1");
    swco__kv_free(&l);
    swco__arena_free(&a);
}
END_TEST

START_TEST(test_encode_cookie)
{
    swco__hbuf_t b = {0};
    ck_assert_int_eq(swco__http_encode_cookie(&b, "a b;c=\xc3\xa7,~-._Z9"), 0);
    ck_assert_str_eq(b.p, "a%20b%3Bc%3D%C3%A7%2C~-._Z9");
    /* and back */
    swco__arena_t a = {0};
    size_t n;
    ck_assert_str_eq(swco__http_decode(&a, b.p, b.len, 0, &n), "a b;c=\xc3\xa7,~-._Z9");
    b.len = 0;
    ck_assert_int_eq(swco__http_encode_cookie(&b, ""), 0);
    ck_assert_uint_eq(b.len, 0);
    swco__hbuf_free(&b);
    swco__arena_free(&a);
}
END_TEST

/* ------------------------------------------------------ bodies: forms */

START_TEST(test_urlencoded)
{
    server_with(NULL);
    const char *body = "name=J%C3%B6rg+M&empty=&list%5B%5D=1&list%5B%5D=2&bad=%G1";
    for (size_t chunk = 1; chunk <= strlen(body); chunk += chunk < 8 ? 1 : 13) {
        fake_src_t fs = {.data = body, .len = strlen(body), .chunk = chunk};
        swco_http_request_t req;
        req_init(&req, &fs, "application/x-www-form-urlencoded; charset=UTF-8");
        ck_assert_int_eq(swco__http_body_load(&req), 0);
        ck_assert_int_eq(req.body_state, SWCO__BODY_LOADED);
        ck_assert_uint_eq(req.lists[SWCO_HTTP_POST].n, 5);
        ck_assert_str_eq(post(&req, "name"), "J\xc3\xb6rg M");
        ck_assert_str_eq(post(&req, "empty"), "");
        ck_assert_str_eq(req.lists[SWCO_HTTP_POST].v[3].value, "2");
        ck_assert_str_eq(post(&req, "bad"), "%G1");
        /* the raw body stays readable */
        size_t len;
        const char *raw = swco_http_request_body(&req, &len);
        ck_assert_uint_eq(len, strlen(body));
        ck_assert_int_eq(memcmp(raw, body, len), 0);
        /* once per request */
        long reads = fs.reads;
        ck_assert_int_eq(swco__http_body_load(&req), 0);
        ck_assert_int_eq(fs.reads, reads);
        req_clear(&req);
    }
    swco_server_free(srv);
}
END_TEST

static const char form_body[] =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "Hello\r\n--not the boundary\r\nWorld\r\n"
    "--XyZ\r\n"
    "content-disposition: form-data; name=\"doc\"; filename=\"C:\\\\Users\\\\me\\\\notes.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "line one\r\nline two\r\n"
    "--XyZ  \r\n"
    "Content-Disposition: form-data; name=\"pic\"; filename=\"x.bin\"; "
    "filename*=UTF-8''%E2%82%AC%20rates.bin\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "\x00\x01\x02\r\n--Xy\xff"
    "\r\n--XyZ\r\n"
    "Content-Disposition: form-data; name=\"q\\\"uote\"\r\n"
    "\r\n"
    "\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data\r\n"
    "\r\n"
    "no name: skipped\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=empty; filename=\"\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue, ignored\r\n";

static const char pic[] = "\x00\x01\x02\r\n--Xy\xff";

/* The form above, parsed, whatever the read sizes, with files up to 10
 * bytes in memory. */
START_TEST(test_multipart_fields_and_files)
{
    make_tmpdir();
    const char *opts[] = {"upload_tmp_dir", tmpdir, "http_upload_memory_max", "10", NULL};
    server_with(opts);
    size_t blen = sizeof form_body - 1;
    for (size_t chunk = 1; chunk <= blen; chunk++) {
        fake_src_t fs = {.data = form_body, .len = blen, .chunk = chunk};
        swco_http_request_t req;
        req_init(&req, &fs, "multipart/form-data; boundary=XyZ");
        ck_assert_int_eq(swco__http_body_load(&req), 0);
        ck_assert_uint_eq(req.lists[SWCO_HTTP_POST].n, 2);
        ck_assert_str_eq(post(&req, "title"), "Hello\r\n--not the boundary\r\nWorld");
        ck_assert_str_eq(post(&req, "q\"uote"), "");
        ck_assert_uint_eq(swco_http_request_file_count(&req), 3);
        /* a Windows path: only the name is kept */
        ck_assert_str_eq(swco_http_request_file_field(&req, 0), "doc");
        ck_assert_str_eq(swco_http_request_file_name(&req, 0), "notes.txt");
        ck_assert_str_eq(swco_http_request_file_type(&req, 0), "text/plain");
        ck_assert_int_eq(swco_http_request_file_size(&req, 0), 18);
        ck_assert_int_eq(swco_http_request_file_error(&req, 0), 0);
        /* 18 bytes > 10: on disk */
        const char *tp = swco_http_request_file_tmp_path(&req, 0);
        ck_assert_ptr_nonnull(tp);
        ck_assert_ptr_null(swco_http_request_file_data(&req, 0));
        ck_assert_int_eq(strncmp(tp, tmpdir, strlen(tmpdir)), 0);
        size_t n;
        char *c = slurp(tp, &n);
        ck_assert_uint_eq(n, 18);
        ck_assert_str_eq(c, "line one\r\nline two");
        free(c);
        /* filename* wins over filename; 10 bytes: in memory */
        ck_assert_str_eq(swco_http_request_file_name(&req, 1), "\xe2\x82\xac rates.bin");
        ck_assert_str_eq(swco_http_request_file_type(&req, 1), "application/octet-stream");
        ck_assert_int_eq(swco_http_request_file_size(&req, 1), 10);
        ck_assert_ptr_null(swco_http_request_file_tmp_path(&req, 1));
        ck_assert_int_eq(memcmp(swco_http_request_file_data(&req, 1), pic, 10), 0);
        /* an empty file input: no file */
        ck_assert_str_eq(swco_http_request_file_field(&req, 2), "empty");
        ck_assert_int_eq(swco_http_request_file_error(&req, 2), -ENOENT);
        ck_assert_int_eq(swco_http_request_file_size(&req, 2), 0);
        ck_assert_ptr_null(swco_http_request_file_tmp_path(&req, 2));
        /* the body accessor: files were parsed out, nothing raw */
        ck_assert_ptr_null(swco_http_request_body(&req, &n));
        ck_assert_uint_eq(n, 0);
        /* out of range */
        ck_assert_ptr_null(swco_http_request_file_name(&req, 3));
        ck_assert_int_eq(swco_last_error(), -EINVAL);
        ck_assert_int_eq(swco_http_request_file_error(&req, 3), -EINVAL);
        ck_assert_int_eq(dir_entries(tmpdir), 1);
        req_clear(&req);
        /* temp files go with the request */
        ck_assert_int_eq(dir_entries(tmpdir), 0);
    }
    swco_server_free(srv);
    remove_tmpdir();
}
END_TEST

/* http_upload_memory_max 0: every file to disk, even an empty one. */
START_TEST(test_multipart_all_on_disk)
{
    make_tmpdir();
    const char *opts[] = {"upload_tmp_dir", tmpdir, NULL};
    server_with(opts);
    const char *body = "--b\r\n"
                       "Content-Disposition: form-data; name=\"f\"; filename=\"e.txt\"\r\n\r\n"
                       "\r\n--b\r\n"
                       "Content-Disposition: form-data; name=\"g\"; filename=\"a/b/../g.txt\"\r\n\r\n"
                       "G\r\n--b--";
    fake_src_t fs = {.data = body, .len = strlen(body)};
    swco_http_request_t req;
    req_init(&req, &fs, "Multipart/Form-Data; charset=utf-8; boundary=\"b\"");
    ck_assert_int_eq(swco__http_body_load(&req), 0);
    ck_assert_uint_eq(req.nfiles, 2);
    ck_assert_int_eq(req.files[0].error, 0);
    ck_assert_int_eq(req.files[0].size, 0);
    ck_assert_ptr_nonnull(req.files[0].tmp_path);
    ck_assert_str_eq(req.files[1].name, "g.txt");
    ck_assert_str_eq(req.files[1].type, "");
    size_t n;
    char *c = slurp(req.files[1].tmp_path, &n);
    ck_assert_str_eq(c, "G");
    free(c);
    /* a file the handler moved away stays where it went */
    char moved[128];
    snprintf(moved, sizeof moved, "%s.moved", tmpdir);
    ck_assert_int_eq(rename(req.files[1].tmp_path, moved), 0);
    req_clear(&req);
    ck_assert_int_eq(dir_entries(tmpdir), 0);
    ck_assert_int_eq(access(moved, F_OK), 0);
    unlink(moved);
    swco_server_free(srv);
    remove_tmpdir();
}
END_TEST

/* A file past upload_max_filesize: -EFBIG, its bytes dropped, the request
 * goes on (the fields after it are there). */
START_TEST(test_multipart_file_too_big)
{
    make_tmpdir();
    const char *opts[] = {"upload_tmp_dir", tmpdir, "upload_max_filesize", "100", NULL};
    server_with(opts);
    char body[4096];
    char big[300];
    memset(big, 'x', sizeof big);
    int n = snprintf(body, sizeof body,
                     "--b\r\nContent-Disposition: form-data; name=\"big\"; filename=\"big\"\r\n\r\n"
                     "%.*s\r\n--b\r\n"
                     "Content-Disposition: form-data; name=\"ok\"; filename=\"ok\"\r\n\r\n"
                     "%.*s\r\n--b\r\n"
                     "Content-Disposition: form-data; name=\"after\"\r\n\r\nstill here\r\n--b--\r\n",
                     (int)sizeof big, big, 100, big);
    for (size_t chunk = 7; chunk < 400; chunk += 31) {
        fake_src_t fs = {.data = body, .len = (size_t)n, .chunk = chunk};
        swco_http_request_t req;
        req_init(&req, &fs, "multipart/form-data; boundary=b");
        ck_assert_int_eq(swco__http_body_load(&req), 0);
        ck_assert_uint_eq(swco_http_request_file_count(&req), 2);
        ck_assert_int_eq(swco_http_request_file_error(&req, 0), -EFBIG);
        ck_assert_ptr_null(swco_http_request_file_tmp_path(&req, 0));
        ck_assert_ptr_null(swco_http_request_file_data(&req, 0));
        /* exactly the limit is fine */
        ck_assert_int_eq(swco_http_request_file_error(&req, 1), 0);
        ck_assert_int_eq(swco_http_request_file_size(&req, 1), 100);
        ck_assert_str_eq(post(&req, "after"), "still here");
        ck_assert_int_eq(dir_entries(tmpdir), 1);
        req_clear(&req);
        ck_assert_int_eq(dir_entries(tmpdir), 0);
    }
    swco_server_free(srv);
    remove_tmpdir();
}
END_TEST

/* Malformed bodies: -EPROTO, what came before kept, no temp file left. */
START_TEST(test_multipart_malformed)
{
    make_tmpdir();
    const char *opts[] = {"upload_tmp_dir", tmpdir, NULL};
    server_with(opts);
    static const struct {
        const char *body;
        int fields, files;
    } cases[] = {
        /* cut inside a file */
        {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b\r\n"
         "Content-Disposition: form-data; name=\"f\"; filename=\"f\"\r\n\r\npartial",
         1, 1},
        /* no closing delimiter */
        {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b\r\n", 1, 0},
        /* junk after a delimiter */
        {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--bX\r\n", 1, 0},
        {"--b-x", 0, 0},
        /* headers never end */
        {"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n", 0, 0},
        /* no boundary at all */
        {"just some bytes", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_src_t fs = {.data = cases[i].body, .len = strlen(cases[i].body), .chunk = 3};
        swco_http_request_t req;
        req_init(&req, &fs, "multipart/form-data; boundary=b");
        ck_assert_msg(swco__http_body_load(&req) == -EPROTO, "case %zu", i);
        ck_assert_int_eq(req.body_state, SWCO__BODY_FAILED);
        ck_assert_int_eq(swco__http_body_load(&req), -EPROTO);
        ck_assert_uint_eq(req.lists[SWCO_HTTP_POST].n, (size_t)cases[i].fields);
        ck_assert_uint_eq(req.nfiles, (size_t)cases[i].files);
        if (cases[i].files) {
            ck_assert_int_eq(req.files[0].error, -EPROTO);
            ck_assert_ptr_null(req.files[0].tmp_path);
        }
        size_t n;
        ck_assert_ptr_null(swco_http_request_body(&req, &n));
        ck_assert_int_eq(swco_last_error(), -EPROTO);
        ck_assert_int_eq(dir_entries(tmpdir), 0);
        req_clear(&req);
    }
    /* header block too long */
    size_t hl = 20000;
    char *huge = malloc(hl + 64);
    memcpy(huge, "--b\r\nX-Pad: ", 12);
    memset(huge + 12, 'p', hl);
    strcpy(huge + 12 + hl, "\r\n\r\nv\r\n--b--");
    fake_src_t fs = {.data = huge, .len = strlen(huge)};
    swco_http_request_t req;
    req_init(&req, &fs, "multipart/form-data; boundary=b");
    ck_assert_int_eq(swco__http_body_load(&req), -EPROTO);
    req_clear(&req);
    free(huge);
    /* an empty body is an empty form; an unusable boundary, a raw body */
    fs = (fake_src_t){.data = "", .len = 0};
    req_init(&req, &fs, "multipart/form-data; boundary=b");
    ck_assert_int_eq(swco__http_body_load(&req), 0);
    ck_assert_uint_eq(req.lists[SWCO_HTTP_POST].n, 0);
    req_clear(&req);
    fs = (fake_src_t){.data = "--\r\n", .len = 4};
    req_init(&req, &fs, "multipart/form-data; boundary=");
    ck_assert_int_eq(swco__http_body_load(&req), 0);
    ck_assert_uint_eq(req.body.len, 4);
    req_clear(&req);
    swco_server_free(srv);
    remove_tmpdir();
}
END_TEST

/* ------------------------------------------------------- bodies: raw */

START_TEST(test_raw_body_and_limits)
{
    const char *opts[] = {"package_max_length", "1000", NULL};
    server_with(opts);
    char big[1001];
    memset(big, 'j', sizeof big);
    /* any other type: kept as it came */
    fake_src_t fs = {.data = big, .len = 1000, .chunk = 333};
    swco_http_request_t req;
    req_init(&req, &fs, "application/json");
    size_t n;
    const char *b = swco_http_request_body(&req, &n);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(n, 1000);
    ck_assert_int_eq(b[1000], 0);
    req_clear(&req);
    /* past package_max_length (a source that did not enforce it) */
    fs = (fake_src_t){.data = big, .len = 1001, .chunk = 100};
    req_init(&req, &fs, NULL);
    ck_assert_ptr_null(swco_http_request_body(&req, &n));
    ck_assert_int_eq(swco_last_error(), -EMSGSIZE);
    ck_assert_int_eq(req.body_error, -EMSGSIZE);
    req_clear(&req);
    /* the source's own error (a timeout) is the body's */
    fs = (fake_src_t){.data = big, .len = 10, .end_error = -ETIMEDOUT};
    req_init(&req, &fs, "multipart/form-data; boundary=b");
    ck_assert_int_eq(swco__http_body_load(&req), -ETIMEDOUT);
    req_clear(&req);
    fs = (fake_src_t){.data = big, .len = 10, .end_error = SWCO_ENOCONN};
    req_init(&req, &fs, "application/x-www-form-urlencoded");
    ck_assert_int_eq(swco__http_body_load(&req), SWCO_ENOCONN);
    req_clear(&req);
    /* a body swco_http_request_read began: the rest, raw */
    fs = (fake_src_t){.data = "a=1&b=2", .len = 7};
    req_init(&req, &fs, "application/x-www-form-urlencoded");
    char two[2];
    ck_assert_int_eq(fake_read(&fs, two, 2, 0), 2);
    req.body_state = SWCO__BODY_STREAMED;
    b = swco_http_request_body(&req, &n);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(b, "1&b=2");
    ck_assert_uint_eq(req.lists[SWCO_HTTP_POST].n, 0);
    req_clear(&req);
    /* no body source: no body */
    fs = (fake_src_t){0};
    req_init(&req, &fs, NULL);
    req.src = NULL;
    ck_assert_ptr_null(swco_http_request_body(&req, &n));
    ck_assert_int_eq(req.body_state, SWCO__BODY_LOADED);
    req_clear(&req);
    swco_server_free(srv);
}
END_TEST

/* Many tiny fields cost more than their bytes: bounded at
 * package_max_length / 64 of them. */
START_TEST(test_field_count_limit)
{
    const char *opts[] = {"package_max_length", "6400", NULL};
    server_with(opts);
    char body[6400];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)sprintf(body + n, "%sa=1", i ? "&" : "");
    fake_src_t fs = {.data = body, .len = n};
    swco_http_request_t req;
    req_init(&req, &fs, "application/x-www-form-urlencoded");
    ck_assert_int_eq(swco__http_body_load(&req), 0);
    ck_assert_uint_eq(req.lists[SWCO_HTTP_POST].n, 100);
    req_clear(&req);
    n += (size_t)sprintf(body + n, "&b=2");
    fs = (fake_src_t){.data = body, .len = n};
    req_init(&req, &fs, "application/x-www-form-urlencoded");
    ck_assert_int_eq(swco__http_body_load(&req), -EMSGSIZE);
    req_clear(&req);
    /* the same in a multipart body */
    char *mp = malloc(6400);
    for (int parts = 100; parts <= 101; parts++) {
        n = 0;
        for (int i = 0; i < parts; i++)
            n += (size_t)sprintf(mp + n,
                                 "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n");
        n += (size_t)sprintf(mp + n, "--b--");
        ck_assert_uint_lt(n, 6400);
        fs = (fake_src_t){.data = mp, .len = n};
        req_init(&req, &fs, "multipart/form-data; boundary=b");
        ck_assert_int_eq(swco__http_body_load(&req), parts == 100 ? 0 : -EMSGSIZE);
        ck_assert_uint_eq(req.lists[SWCO_HTTP_POST].n, 100);
        req_clear(&req);
    }
    swco_server_free(srv);
    free(mp);
}
END_TEST

/* http_parse_post / http_parse_files off: the raw body. */
START_TEST(test_parse_options_off)
{
    const char *body = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n";
    const char *o1[] = {"http_parse_files", "0", NULL};
    const char *o2[] = {"http_parse_post", "0", NULL};
    const char *const *sets[] = {o1, o2};
    for (int s = 0; s < 2; s++) {
        server_with(sets[s]);
        fake_src_t fs = {.data = body, .len = strlen(body)};
        swco_http_request_t req;
        req_init(&req, &fs, "multipart/form-data; boundary=b");
        size_t n;
        const char *b = swco_http_request_body(&req, &n);
        ck_assert_uint_eq(n, strlen(body));
        ck_assert_str_eq(b, body);
        ck_assert_uint_eq(req.lists[SWCO_HTTP_POST].n, 0);
        ck_assert_uint_eq(swco_http_request_file_count(&req), 0);
        req_clear(&req);
        fs = (fake_src_t){.data = "a=1", .len = 3};
        req_init(&req, &fs, "application/x-www-form-urlencoded");
        ck_assert_int_eq(swco__http_body_load(&req), 0);
        ck_assert_uint_eq(req.lists[SWCO_HTTP_POST].n, s == 0 ? 1 : 0);
        ck_assert_uint_eq(req.body.len, 3);
        req_clear(&req);
        swco_server_free(srv);
    }
}
END_TEST

/* A large upload through the parser: its bytes land in the temp file
 * exactly, in constant memory (the process's peak grows by far less than
 * the file). */
START_TEST(test_multipart_large_constant_memory)
{
    make_tmpdir();
    const char *opts[] = {"upload_tmp_dir", tmpdir, "package_max_length", "4294967296", NULL};
    server_with(opts);
    unsigned long long size = 64ull << 20;
    fake_src_t fs = {
        .head = "--boundary\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big\"\r\n\r\n",
        .tail = "\r\n--boundary\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n"
                "--boundary--\r\n",
        .gen_n = size,
        .chunk = 65536 - 17,
    };
    swco_http_request_t req;
    req_init(&req, &fs, "multipart/form-data; boundary=boundary");
    long hwm0 = vm_kib("VmHWM");
    ck_assert_int_eq(swco__http_body_load(&req), 0);
    long hwm1 = vm_kib("VmHWM");
    ck_assert_msg(hwm1 - hwm0 < 4096, "peak grew by %ld KiB", hwm1 - hwm0);
    ck_assert_uint_eq(req.nfiles, 1);
    ck_assert_int_eq(req.files[0].error, 0);
    ck_assert_int_eq(req.files[0].size, (long long)size);
    ck_assert_str_eq(post(&req, "x"), "y");
    int fd = open(req.files[0].tmp_path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    static uint8_t buf[1 << 16];
    unsigned long long at = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < r; i++, at++)
            if (buf[i] != pattern_byte(at))
                ck_abort_msg("byte %llu differs", at);
    close(fd);
    ck_assert_uint_eq(at, size);
    req_clear(&req);
    ck_assert_int_eq(dir_entries(tmpdir), 0);
    swco_server_free(srv);
    remove_tmpdir();
}
END_TEST

/* ------------------------------------------------------- end to end */

#include <signal.h>
#include <sys/wait.h>

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}
#define FNV0 0xcbf29ce484222325ull

/* The checksum of file i of req, from memory or its temp file. */
static uint64_t file_sum(swco_http_request_t *req, size_t i)
{
    const char *data = swco_http_request_file_data(req, i);
    long long size = swco_http_request_file_size(req, i);
    if (data)
        return fnv(FNV0, data, (size_t)size);
    const char *tp = swco_http_request_file_tmp_path(req, i);
    if (!tp)
        return 0;
    int fd = open(tp, O_RDONLY);
    if (fd < 0)
        return 1;
    size_t cap = 256 * 1024;
    char *buf = malloc(cap);
    uint64_t h = FNV0;
    ssize_t r;
    while ((r = read(fd, buf, cap)) > 0)
        h = fnv(h, buf, (size_t)r);
    free(buf);
    close(fd);
    return h;
}

/* Routes: /pid (the worker's pid), /form (everything the request carries,
 * one line each), anything else: the raw body's length and checksum. */
static void e2e_handler(swco_server_t *s, swco_http_request_t *req, swco_http_response_t *resp,
                        void *arg)
{
    (void)s, (void)arg;
    char *out = NULL;
    size_t outlen = 0;
    FILE *fp = open_memstream(&out, &outlen);
    const char *path = swco_http_request_path(req);
    if (!strcmp(path, "/pid")) {
        fprintf(fp, "%d\n", (int)getpid());
    } else if (!strcmp(path, "/form")) {
        static const char *const kinds[] = {"header", "get", "post", "cookie"};
        for (int k = SWCO_HTTP_GET; k <= SWCO_HTTP_COOKIE; k++)
            for (size_t i = 0; i < swco_http_request_param_count(req, k); i++)
                fprintf(fp, "%s %s=%.*s\n", kinds[k], swco_http_request_param_name(req, k, i),
                        (int)swco_http_request_param_value_len(req, k, i),
                        swco_http_request_param_value(req, k, i));
        for (size_t i = 0; i < swco_http_request_file_count(req); i++)
            fprintf(fp, "file %s %s %s %lld %d %s %016llx\n",
                    swco_http_request_file_field(req, i), swco_http_request_file_name(req, i),
                    swco_http_request_file_type(req, i), swco_http_request_file_size(req, i),
                    swco_http_request_file_error(req, i),
                    swco_http_request_file_tmp_path(req, i) ? "disk"
                    : swco_http_request_file_data(req, i)   ? "mem"
                                                            : "none",
                    (unsigned long long)file_sum(req, i));
    } else {
        size_t n;
        const char *b = swco_http_request_body(req, &n);
        fprintf(fp, "body %zu %016llx %d\n", n, (unsigned long long)fnv(FNV0, b ? b : "", n),
                b || !n ? 0 : (int)swco_last_error());
    }
    fclose(fp);
    swco_http_response_header(resp, "Content-Type", "text/plain");
    swco_http_response_end(resp, out, outlen);
    free(out);
}

typedef struct e2e {
    pid_t pid;
    int port;
    char url[64];
} e2e_t;

/* A BASE-mode HTTP server with one worker in a child; opts as
 * server_with's. */
static void e2e_start(e2e_t *e, const char *const *opts)
{
    swco_server_t *s = swco_http_server_new("127.0.0.1", 0, SWCO_SERVER_BASE, SWCO_SOCK_TCP);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(swco_server_set(s, "worker_num", "1"), 0);
    for (int i = 0; opts && opts[i]; i += 2)
        ck_assert_msg(swco_server_set(s, opts[i], opts[i + 1]) == 0, "option %s", opts[i]);
    ck_assert_int_eq(swco_http_on_request(s, e2e_handler, NULL, NULL), 0);
    e->port = swco_server_listener_port(s, 0);
    ck_assert_int_gt(e->port, 0);
    snprintf(e->url, sizeof e->url, "http://127.0.0.1:%d", e->port);
    e->pid = fork();
    ck_assert_int_ge(e->pid, 0);
    if (e->pid == 0) {
        int rc = swco_server_start(s);
        swco_server_free(s);
        _exit(rc == 0 ? 0 : 1);
    }
    swco_server_free(s);
}

static void e2e_stop(e2e_t *e)
{
    ck_assert_int_eq(kill(e->pid, SIGTERM), 0);
    int status;
    ck_assert_int_eq(waitpid(e->pid, &status, 0), e->pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server status %d", status);
}

/* Run a shell command; its output (malloc'd). */
static char *run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        fwrite(buf, 1, n, m);
    int st = pclose(p);
    fclose(m);
    ck_assert_msg(st == 0, "'%s' exited with %d: %s", cmd, st, out);
    return out;
}

static int have(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    if (system(cmd) == 0)
        return 1;
    ck_assert_msg(!getenv("CI") || strcmp(getenv("CI"), "true"), "%s missing (CI=true)", tool);
    fprintf(stderr, "check_http_body: %s not found, case skipped\n", tool);
    return 0;
}

static void has_line(const char *out, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, line, n) == 0 && p[n] == '\n')
            return;
    ck_abort_msg("no line '%s' in:\n%s", line, out);
}

/* A file of n bytes of a pattern; its checksum. */
static uint64_t make_file(const char *path, size_t n, unsigned seed)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    uint64_t h = FNV0, x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint8_t b = (uint8_t)(x >> 29);
        fputc(b, fp);
        h = fnv(h, &b, 1);
    }
    fclose(fp);
    return h;
}

/* curl -F: fields and several files, one large (on disk), small ones in
 * memory; curl --data-urlencode; cookies with curl -b. */
START_TEST(test_e2e_curl)
{
    if (!have("curl"))
        return;
    make_tmpdir();
    char up[128], big[128], small[128], empty[128], line[512];
    snprintf(up, sizeof up, "%s/up", tmpdir);
    ck_assert_int_eq(mkdir(up, 0700), 0);
    const char *opts[] = {"upload_tmp_dir", up, "http_upload_memory_max", "1024",
                          "package_max_length", "67108864", NULL};
    e2e_t e;
    e2e_start(&e, opts);
    snprintf(big, sizeof big, "%s/big.bin", tmpdir);
    snprintf(small, sizeof small, "%s/small.txt", tmpdir);
    snprintf(empty, sizeof empty, "%s/empty", tmpdir);
    uint64_t hbig = make_file(big, 20u << 20, 1);
    uint64_t hsmall = make_file(small, 1000, 2);
    uint64_t hempty = make_file(empty, 0, 3);
    double t = 60 * slow();
    char *out = run("curl -sS --max-time %g -F title='Hello world' -F 'note=a&b=c' "
                    "-F 'big=@%s;type=application/x-big' -F 'small=@%s;filename=s m.txt' "
                    "-F 'nothing=@%s' -F 'multi=@%s' '%s/form?x=1&y=%%20z'",
                    t, big, small, empty, small, e.url);
    has_line(out, "get x=1");
    has_line(out, "get y= z");
    has_line(out, "post title=Hello world");
    has_line(out, "post note=a&b=c");
    snprintf(line, sizeof line, "file big big.bin application/x-big %u 0 disk %016llx",
             20u << 20, (unsigned long long)hbig);
    has_line(out, line);
    snprintf(line, sizeof line, "file small s m.txt text/plain 1000 0 mem %016llx",
             (unsigned long long)hsmall);
    has_line(out, line);
    snprintf(line, sizeof line, "file nothing empty application/octet-stream 0 0 mem %016llx",
             (unsigned long long)hempty);
    has_line(out, line);
    snprintf(line, sizeof line, "file multi small.txt text/plain 1000 0 mem %016llx",
             (unsigned long long)hsmall);
    has_line(out, line);
    free(out);
    out = run("curl -sS --max-time %g --data-urlencode 'msg=a&b=c d+e%%' "
              "--data-urlencode 'name=J\xc3\xb6rg' -d 'plain=1' '%s/form'",
              t, e.url);
    has_line(out, "post msg=a&b=c d+e%");
    has_line(out, "post name=J\xc3\xb6rg");
    has_line(out, "post plain=1");
    free(out);
    out = run("curl -sS --max-time %g -b 'a=1; b=x%%20y; c=\"q\"; tok=YWJj+/==' '%s/form'", t,
              e.url);
    has_line(out, "cookie a=1");
    has_line(out, "cookie b=x y");
    has_line(out, "cookie c=q");
    has_line(out, "cookie tok=YWJj+/==");
    free(out);
    /* a raw body, chunked (curl -T - streams it) */
    out = run("head -c 300000 %s | curl -sS --max-time %g -T - -H 'Content-Type: application/x-raw' "
              "'%s/raw'",
              big, t, e.url);
    uint64_t h = FNV0;
    FILE *fp = fopen(big, "rb");
    char buf[4096];
    for (size_t left = 300000; left;) {
        size_t k = fread(buf, 1, left < sizeof buf ? left : sizeof buf, fp);
        h = fnv(h, buf, k);
        left -= k;
    }
    fclose(fp);
    snprintf(line, sizeof line, "body 300000 %016llx 0", (unsigned long long)h);
    has_line(out, line);
    free(out);
    e2e_stop(&e);
    /* the temp files went with their requests */
    ck_assert_int_eq(dir_entries(up), 0);
    rmdir(up);
    remove_tmpdir();
}
END_TEST

/* Python's http.client: urlencoded with a Content-Length, a multipart form
 * sent chunked, a JSON body; and a file past upload_max_filesize. */
START_TEST(test_e2e_python)
{
    if (!have("python3"))
        return;
    make_tmpdir();
    const char *opts[] = {"upload_tmp_dir", tmpdir, "upload_max_filesize", "5000", NULL};
    e2e_t e;
    e2e_start(&e, opts);
    char script[] = "/tmp/check_http_body_py.XXXXXX";
    int fd = mkstemp(script);
    ck_assert_int_ge(fd, 0);
    const char *py =
        "import http.client, sys\n"
        "port = int(sys.argv[1])\n"
        "def req(method, path, body, headers):\n"
        "    c = http.client.HTTPConnection('127.0.0.1', port, timeout=60)\n"
        "    c.request(method, path, body=body, headers=headers,\n"
        "              encode_chunked=not isinstance(body, (bytes, str, type(None))))\n"
        "    r = c.getresponse()\n"
        "    sys.stdout.write('%d\\n' % r.status + r.read().decode('utf-8', 'replace'))\n"
        "    c.close()\n"
        "req('POST', '/form', 'a=1&b=%C3%A9t%C3%A9&c=x+y',\n"
        "    {'Content-Type': 'application/x-www-form-urlencoded'})\n"
        "B = 'pyBoundary42'\n"
        "parts = [b'--' + B.encode() + b'\\r\\nContent-Disposition: form-data; name=\"f\"\\r\\n\\r\\nv\\r\\n',\n"
        "         b'--' + B.encode() + b'\\r\\nContent-Disposition: form-data; name=\"up\"; filename=\"u.txt\"\\r\\n'\n"
        "         b'Content-Type: text/csv\\r\\n\\r\\n' + b'0123456789' * 100 + b'\\r\\n',\n"
        "         b'--' + B.encode() + b'\\r\\nContent-Disposition: form-data; name=\"huge\"; filename=\"h\"\\r\\n\\r\\n'\n"
        "         + b'z' * 6000 + b'\\r\\n',\n"
        "         b'--' + B.encode() + b'\\r\\nContent-Disposition: form-data; name=\"after\"\\r\\n\\r\\nyes\\r\\n',\n"
        "         b'--' + B.encode() + b'--\\r\\n']\n"
        "req('POST', '/form', iter(parts), {'Content-Type': 'multipart/form-data; boundary=' + B})\n"
        "req('PUT', '/raw', b'{\"k\": [1, 2, 3]}', {'Content-Type': 'application/json'})\n";
    ck_assert_int_eq(write(fd, py, strlen(py)), (ssize_t)strlen(py));
    close(fd);
    char *out = run("python3 %s %d", script, e.port);
    unlink(script);
    has_line(out, "post a=1");
    has_line(out, "post b=\xc3\xa9t\xc3\xa9");
    has_line(out, "post c=x y");
    has_line(out, "post f=v");
    has_line(out, "post after=yes");
    char line[256];
    char hundred[1001];
    for (int i = 0; i < 100; i++)
        memcpy(hundred + i * 10, "0123456789", 10);
    snprintf(line, sizeof line, "file up u.txt text/csv 1000 0 disk %016llx",
             (unsigned long long)fnv(FNV0, hundred, 1000));
    has_line(out, line);
    snprintf(line, sizeof line, "file huge h  0 %d none %016llx", -EFBIG, 0ull);
    has_line(out, line);
    const char *json = "{\"k\": [1, 2, 3]}";
    snprintf(line, sizeof line, "body %zu %016llx 0", strlen(json),
             (unsigned long long)fnv(FNV0, json, strlen(json)));
    has_line(out, line);
    free(out);
    e2e_stop(&e);
    ck_assert_int_eq(dir_entries(tmpdir), 0);
    remove_tmpdir();
}
END_TEST

static long proc_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, fp))
        if (!strncmp(line, field, fl) && line[fl] == ':')
            v = atol(line + fl + 1);
    fclose(fp);
    return v;
}

/* A 1 GiB upload (curl -F from a sparse file with marks in it) streams to
 * a temp file: the worker's resident memory grows by less than 16 MiB, and
 * the handler sees every byte (size and checksum).  Under a slow build
 * (SWCO_TEST_SLOW > 4: valgrind) the file is 256 MiB. */
START_TEST(test_e2e_upload_1gib)
{
    if (!have("curl"))
        return;
    make_tmpdir();
    char up[128], src[128];
    snprintf(up, sizeof up, "%s/up", tmpdir);
    ck_assert_int_eq(mkdir(up, 0700), 0);
    const char *opts[] = {"upload_tmp_dir", up, "package_max_length", "2147483648", NULL};
    e2e_t e;
    e2e_start(&e, opts);
    off_t size = slow() > 4 ? (off_t)256 << 20 : (off_t)1 << 30;
    snprintf(src, sizeof src, "%s/big.img", tmpdir);
    int fd = open(src, O_CREAT | O_RDWR | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, size), 0);
    /* marks, some across the parser's read boundaries */
    static const off_t at[] = {0, 65535, 1 << 20, 100000007};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        ck_assert_int_eq(pwrite(fd, "\r\n--mark--\r\n", 12, at[i]), 12);
    ck_assert_int_eq(pwrite(fd, "end", 3, size - 3), 3);
    uint64_t h = FNV0;
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    ssize_t r;
    lseek(fd, 0, SEEK_SET);
    while ((r = read(fd, buf, cap)) > 0)
        h = fnv(h, buf, (size_t)r);
    free(buf);
    close(fd);
    double t = 300 * slow();
    char *out = run("curl -sS --max-time %g '%s/pid'", t, e.url);
    pid_t worker = (pid_t)atoi(out);
    free(out);
    ck_assert_int_gt(worker, 0);
    /* reset the worker's peak (VmHWM) to its current size */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)worker);
    FILE *cr = fopen(path, "w");
    if (cr) {
        fputs("5", cr);
        fclose(cr);
    }
    long rss0 = proc_kib(worker, "VmRSS"), hwm0 = proc_kib(worker, "VmHWM");
    out = run("curl -sS --max-time %g -F 'file=@%s;type=application/octet-stream' '%s/form'", t,
              src, e.url);
    long hwm1 = proc_kib(worker, "VmHWM");
    char line[256];
    snprintf(line, sizeof line, "file file big.img application/octet-stream %lld 0 disk %016llx",
             (long long)size, (unsigned long long)h);
    has_line(out, line);
    free(out);
    long base = hwm0 > rss0 ? rss0 : rss0; /* after clear_refs the peak starts at RSS */
    fprintf(stderr,
            "check_http_body: %lld MiB upload: worker VmRSS before %ld KiB, VmHWM before %ld "
            "KiB, after %ld KiB: grew %ld KiB\n",
            (long long)(size >> 20), rss0, hwm0, hwm1, hwm1 - base);
    ck_assert_msg(hwm1 - base < 16 * 1024, "the worker grew by %ld KiB", hwm1 - base);
    e2e_stop(&e);
    ck_assert_int_eq(dir_entries(up), 0);
    rmdir(up);
    remove_tmpdir();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http_body");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_decode);
    tcase_add_test(tc, test_query);
    tcase_add_test(tc, test_cookies);
    tcase_add_test(tc, test_encode_cookie);
    tcase_add_test(tc, test_urlencoded);
    tcase_add_test(tc, test_multipart_fields_and_files);
    tcase_add_test(tc, test_multipart_all_on_disk);
    tcase_add_test(tc, test_multipart_file_too_big);
    tcase_add_test(tc, test_multipart_malformed);
    tcase_add_test(tc, test_raw_body_and_limits);
    tcase_add_test(tc, test_field_count_limit);
    tcase_add_test(tc, test_parse_options_off);
    tcase_add_test(tc, test_multipart_large_constant_memory);
    suite_add_tcase(s, tc);
    TCase *e2e = tcase_create("end to end");
    tcase_set_timeout(e2e, 600);
    tcase_add_test(e2e, test_e2e_curl);
    tcase_add_test(e2e, test_e2e_python);
    tcase_add_test(e2e, test_e2e_upload_1gib);
    suite_add_tcase(s, e2e);
    return run_suite(s);
}
