/* Request bodies: read through the request's body source (req->src) and
 * parsed as they arrive, by Content-Type:
 *   application/x-www-form-urlencoded  the POST list (and the raw body);
 *   multipart/form-data                fields into the POST list, files
 *                                      spooled to upload_tmp_dir (or kept
 *                                      in memory up to http_upload_memory_max);
 *   anything else                      the raw body (req->body).
 * And the public accessors that wait for it: swco_http_request_body and
 * swco_http_request_file_*.
 *
 * The multipart parser is a window over the stream: it holds one read
 * buffer plus, between reads, at most a delimiter's length of undecided
 * bytes (or one part's header block), whatever the body's size, so a
 * 1 GiB upload costs what a 1 KiB one does (the file's bytes go straight
 * from the buffer to the temp file).
 *
 * Limits: the whole body is bounded by package_max_length (the body source
 * refuses more: -EMSGSIZE; a source that does not is checked here too);
 * form fields count their size plus FIELD_COST each against it, so a body
 * of many tiny fields cannot make the list many times its size; a file
 * past upload_max_filesize gets -EFBIG and the rest of it is skipped while
 * the request goes on. */
#include "http/http_int.h"

#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)
#define MAX_BOUNDARY 200          /* RFC 2046 says 70; some clients go over */
#define MAX_PART_HEADER (16 * 1024) /* one part's header block */
#define MAX_PADDING 256           /* LWSP after a delimiter */
#define FIELD_COST 64             /* bookkeeping of one POST field / file */
#define DEFAULT_PACKAGE_MAX (2u << 20)

static const swco__http_lopts_t default_opts = {
    .enabled = 1, .parse_post = 1, .parse_cookie = 1, .parse_files = 1,
};

static const swco__http_lopts_t *opts(const swco_http_request_t *req)
{
    return req->opt ? req->opt : &default_opts;
}

/* package_max_length of the request's listener. */
static size_t max_body(const swco_http_request_t *req)
{
    size_t m = 0;
    if (req->srv && req->listener >= 0 && req->listener < req->srv->nlisteners &&
        req->srv->listeners[req->listener])
        m = req->srv->listeners[req->listener]->opt.frame.max_len;
    return m ? m : DEFAULT_PACKAGE_MAX;
}

static long src_read(swco_http_request_t *req, void *buf, size_t len)
{
    if (!req->src)
        return 0;
    return req->src->read(req->src_ctx, buf, len, 0);
}

/* ------------------------------------------------- header value pieces */

static int ows(char c) { return c == ' ' || c == '\t'; }

static int tchar(unsigned char c)
{
    return c > 32 && c < 127 && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

/* Whether the media type of a Content-Type value [s, e) is type. */
static int media_is(const char *s, const char *e, const char *type)
{
    while (s < e && ows(*s))
        s++;
    const char *t = s;
    while (t < e && *t != ';' && !ows(*t))
        t++;
    size_t n = strlen(type);
    return (size_t)(t - s) == n && strncasecmp(s, type, n) == 0;
}

/* One ";name=value" parameter of a header value, from *pp on (the value
 * itself is skipped first when *pp points at it): 1 with the name and the
 * value (unquoted, quoted-pairs resolved, into the arena) or 0 at the end.
 * Malformed pieces are skipped. */
static int next_param(swco__arena_t *a, const char **pp, const char *e, const char **name,
                      size_t *name_len, char **value, size_t *value_len)
{
    const char *p = *pp;
    for (;;) {
        /* to the next ';' outside quotes */
        int q = 0;
        while (p < e && (q || *p != ';')) {
            if (q && *p == '\\' && p + 1 < e)
                p++;
            else if (*p == '"')
                q = !q;
            p++;
        }
        if (p >= e) {
            *pp = e;
            return 0;
        }
        p++; /* ';' */
        while (p < e && ows(*p))
            p++;
        const char *n = p;
        while (p < e && tchar((unsigned char)*p))
            p++;
        const char *ne = p;
        while (p < e && ows(*p))
            p++;
        if (ne == n || p >= e || *p != '=')
            continue;
        p++;
        while (p < e && ows(*p))
            p++;
        char *v;
        size_t vl = 0;
        if (p < e && *p == '"') {
            const char *s = ++p;
            while (p < e && *p != '"')
                p += *p == '\\' && p + 1 < e ? 2 : 1;
            if (!(v = swco__arena_alloc(a, (size_t)(p - s) + 1)))
                return -ENOMEM;
            for (const char *c = s; c < p && c < e; c++) {
                /* \" and \\ are quoted-pairs; any other backslash stays
                 * (browsers send Windows paths unescaped) */
                if (*c == '\\' && c + 1 < p && (c[1] == '"' || c[1] == '\\'))
                    c++;
                v[vl++] = *c;
            }
            v[vl] = 0;
            if (p < e)
                p++;
        } else {
            const char *s = p;
            while (p < e && *p != ';' && !ows(*p))
                p++;
            if (!(v = swco__arena_strndup(a, s, (size_t)(p - s))))
                return -ENOMEM;
            vl = (size_t)(p - s);
        }
        *pp = p;
        *name = n;
        *name_len = (size_t)(ne - n);
        *value = v;
        *value_len = vl;
        return 1;
    }
}

/* RFC 8187 ext-value (charset'lang'pct-encoded) as UTF-8 in the arena;
 * NULL when malformed. */
static char *ext_value(swco__arena_t *a, const char *v, size_t n)
{
    const char *q1 = memchr(v, '\'', n);
    const char *q2 = q1 ? memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - v)) : NULL;
    if (!q2)
        return NULL;
    size_t dl;
    char *d = swco__http_decode(a, q2 + 1, n - (size_t)(q2 + 1 - v), 0, &dl);
    if (!d)
        return NULL;
    if ((size_t)(q1 - v) == 10 && strncasecmp(v, "ISO-8859-1", 10) == 0) {
        char *u = swco__arena_alloc(a, dl * 2 + 1);
        if (!u)
            return NULL;
        size_t o = 0;
        for (size_t i = 0; i < dl; i++) {
            unsigned char c = (unsigned char)d[i];
            if (c < 0x80) {
                u[o++] = (char)c;
            } else {
                u[o++] = (char)(0xc0 | c >> 6);
                u[o++] = (char)(0x80 | (c & 0x3f));
            }
        }
        u[o] = 0;
        return u;
    }
    return d; /* UTF-8 (or anything else): the bytes as sent */
}

/* -------------------------------------------------------- multipart */

enum { MP_PREAMBLE, MP_DELIM, MP_HEADERS, MP_BODY, MP_END };
enum { PART_SKIP, PART_FIELD, PART_FILE };

typedef struct mp {
    swco_http_request_t *req;
    const swco__http_lopts_t *o;
    char delim[4 + MAX_BOUNDARY]; /* CRLF "--" boundary */
    size_t dlen;
    int state;
    char *buf;
    size_t len, cap;
    size_t budget;    /* bytes of POST field names and values left */
    size_t fields_left; /* fields and files left (package_max_length / FIELD_COST) */
    size_t file_max;  /* upload_max_filesize */
    /* the current part */
    int part;
    const char *name;
    size_t name_len;
    swco__hbuf_t value; /* a field's value, or a file's bytes while in memory */
    long file;          /* index in req->files */
    int fd;             /* its temp file, -1 none */
} mp_t;

static int add_file(swco_http_request_t *req, long *idx)
{
    if ((req->nfiles & (req->nfiles - 1)) == 0) { /* 0, 1, 2, 4 ..: grow */
        size_t cap = req->nfiles ? req->nfiles * 2 : 1;
        swco__http_file_t *f = realloc(req->files, cap * sizeof *f);
        if (!f)
            return -ENOMEM;
        req->files = f;
    }
    memset(&req->files[req->nfiles], 0, sizeof req->files[0]);
    *idx = (long)req->nfiles++;
    return 0;
}

/* Drop what a file holds (its temp file, its bytes) and mark it err. */
static void file_fail(mp_t *m, int err)
{
    swco__http_file_t *f = &m->req->files[m->file];
    if (m->fd >= 0) {
        close(m->fd);
        m->fd = -1;
    }
    if (f->tmp_path) {
        unlink(f->tmp_path);
        free(f->tmp_path);
        f->tmp_path = NULL;
    }
    free(f->data);
    f->data = NULL;
    swco__hbuf_free(&m->value);
    f->size = 0; /* nothing of it is kept (PHP says 0 too) */
    if (!f->error)
        f->error = err;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Move the current file to a temp file (with what it has in memory). */
static int file_spool(mp_t *m)
{
    swco__http_file_t *f = &m->req->files[m->file];
    const char *dir = m->o->upload_tmp_dir && *m->o->upload_tmp_dir ? m->o->upload_tmp_dir
                                                                     : "/tmp";
    size_t dl = strlen(dir);
    char *path = malloc(dl + sizeof "/swco-upload-XXXXXX");
    if (!path)
        return -ENOMEM;
    memcpy(path, dir, dl);
    memcpy(path + dl, "/swco-upload-XXXXXX", sizeof "/swco-upload-XXXXXX");
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        free(path);
        file_fail(m, -EIO);
        return 0;
    }
    f->tmp_path = path;
    m->fd = fd;
    if (m->value.len && write_all(fd, m->value.p, m->value.len) < 0)
        file_fail(m, -EIO);
    swco__hbuf_free(&m->value);
    return 0;
}

static int part_begin(mp_t *m, const char *h, const char *he)
{
    swco_http_request_t *req = m->req;
    const char *disp = NULL, *disp_e = NULL, *type = NULL, *type_e = NULL;
    /* header lines (a line starting with SP/HT continues the previous
     * one: it stays inside the value we keep) */
    const char *p = h;
    while (p < he) {
        const char *eol = memmem(p, (size_t)(he - p), "\r\n", 2);
        const char *e = eol ? eol : he;
        while (eol && e + 2 < he && ows(e[2])) {
            eol = memmem(e + 2, (size_t)(he - e - 2), "\r\n", 2);
            e = eol ? eol : he;
        }
        const char *colon = memchr(p, ':', (size_t)(e - p));
        if (colon) {
            const char *v = colon + 1;
            while (v < e && ows(*v))
                v++;
            size_t nl = (size_t)(colon - p);
            if (nl == 19 && strncasecmp(p, "Content-Disposition", 19) == 0)
                disp = v, disp_e = e;
            else if (nl == 12 && strncasecmp(p, "Content-Type", 12) == 0)
                type = v, type_e = e;
        }
        p = e + 2;
    }
    m->part = PART_SKIP;
    if (!disp || !media_is(disp, disp_e, "form-data"))
        return 0;
    const char *pp = disp, *pn;
    size_t pnl, vl, name_len = 0, fname_len = 0;
    char *v, *name = NULL, *fname = NULL, *fname_ext = NULL;
    int r;
    while ((r = next_param(&req->arena, &pp, disp_e, &pn, &pnl, &v, &vl)) > 0) {
        if (pnl == 4 && strncasecmp(pn, "name", 4) == 0 && !name)
            name = v, name_len = vl;
        else if (pnl == 8 && strncasecmp(pn, "filename", 8) == 0 && !fname)
            fname = v, fname_len = vl;
        else if (pnl == 9 && strncasecmp(pn, "filename*", 9) == 0 && !fname_ext)
            fname_ext = ext_value(&req->arena, v, vl);
    }
    if (r < 0)
        return r;
    if (!name || !name_len) /* nothing to file it under: skipped, as PHP does */
        return 0;
    if (name_len > m->budget || m->fields_left == 0)
        return -EMSGSIZE;
    m->budget -= name_len;
    m->fields_left--;
    m->name = name;
    m->name_len = name_len;
    m->value.len = 0;
    if (!fname && !fname_ext) {
        m->part = PART_FIELD;
        return 0;
    }
    if (fname_ext) {
        fname = fname_ext;
        fname_len = strlen(fname_ext);
    }
    /* the name without a client's directories (old browsers sent paths) */
    for (size_t i = fname_len; i > 0; i--)
        if (fname[i - 1] == '/' || fname[i - 1] == '\\') {
            fname += i;
            break;
        }
    if ((r = add_file(req, &m->file)) < 0)
        return r;
    swco__http_file_t *f = &req->files[m->file];
    f->field = name;
    f->name = fname;
    if (type) {
        while (type_e > type && ows(type_e[-1]))
            type_e--;
        f->type = swco__arena_strndup(&req->arena, type, (size_t)(type_e - type));
    } else {
        f->type = swco__arena_strndup(&req->arena, "", 0);
    }
    if (!f->type)
        return -ENOMEM;
    m->part = PART_FILE;
    m->fd = -1;
    swco__hbuf_free(&m->value);
    if (m->o->upload_memory_max == 0) /* every file to disk, even empty ones */
        return file_spool(m);
    return 0;
}

static int part_data(mp_t *m, const char *p, size_t n)
{
    if (m->part == PART_FIELD) {
        if (n > m->budget)
            return -EMSGSIZE;
        m->budget -= n;
        return swco__hbuf_add(&m->value, p, n);
    }
    if (m->part != PART_FILE)
        return 0;
    swco__http_file_t *f = &m->req->files[m->file];
    if (f->error)
        return 0; /* the rest of a refused file */
    if (n > m->file_max || (unsigned long long)f->size + n > m->file_max) {
        file_fail(m, -EFBIG);
        return 0;
    }
    f->size += (long long)n;
    if (m->fd < 0 && !f->tmp_path && (size_t)f->size <= m->o->upload_memory_max)
        return swco__hbuf_add(&m->value, p, n);
    if (m->fd < 0) {
        int r = file_spool(m);
        if (r < 0 || f->error)
            return r;
    }
    if (write_all(m->fd, p, n) < 0)
        file_fail(m, -EIO);
    return 0;
}

static int part_end(mp_t *m)
{
    swco_http_request_t *req = m->req;
    if (m->part == PART_FIELD) {
        char *v = swco__arena_strndup(&req->arena, m->value.p ? m->value.p : "", m->value.len);
        if (!v || swco__kv_add(&req->lists[SWCO_HTTP_POST], m->name, m->name_len, v,
                               m->value.len) < 0)
            return -ENOMEM;
    } else if (m->part == PART_FILE) {
        swco__http_file_t *f = &req->files[m->file];
        if (!f->error && !*f->name && f->size == 0) {
            file_fail(m, -ENOENT); /* an empty file input: no file was chosen */
        } else if (!f->error && m->fd >= 0) {
            if (close(m->fd) < 0)
                file_fail(m, -EIO);
            m->fd = -1;
        } else if (!f->error) {
            if (!m->value.p && swco__hbuf_reserve(&m->value, 0) < 0)
                return -ENOMEM;
            m->value.p[m->value.len] = 0;
            f->data = m->value.p; /* the file takes the buffer */
            memset(&m->value, 0, sizeof m->value);
        }
    }
    m->part = PART_SKIP;
    return 0;
}

/* A part cut short by err: a field is dropped, a file marked. */
static void part_abort(mp_t *m, int err)
{
    if (m->state == MP_BODY && m->part == PART_FILE)
        file_fail(m, err);
    m->part = PART_SKIP;
}

/* Parse what m->buf holds; eof: nothing more will come.  Leaves the
 * undecided tail at the front of the buffer.  0 or a negative code. */
static int mp_feed(mp_t *m, int eof)
{
    size_t pos = 0;
    int r = 0;
    while (r == 0 && pos < m->len) {
        const char *p = m->buf + pos;
        size_t avail = m->len - pos;
        if (m->state == MP_PREAMBLE || m->state == MP_BODY) {
            const char *hit = memmem(p, avail, m->delim, m->dlen);
            size_t take = hit ? (size_t)(hit - p)
                          : avail >= m->dlen ? avail - (m->dlen - 1)
                                             : 0;
            if (m->state == MP_BODY && take)
                r = part_data(m, p, take);
            pos += take;
            if (!hit || r < 0)
                break;
            pos += m->dlen;
            if (m->state == MP_BODY && (r = part_end(m)) < 0)
                break;
            m->state = MP_DELIM;
        } else if (m->state == MP_DELIM) {
            if (p[0] == '-') {
                if (avail < 2)
                    break;
                if (p[1] != '-')
                    return -EPROTO;
                m->state = MP_END;
                pos = m->len;
                break;
            }
            size_t i = 0;
            while (i < avail && ows(p[i]))
                i++;
            if (i > MAX_PADDING)
                return -EPROTO;
            if (i + 2 > avail)
                break;
            if (p[i] != '\r' || p[i + 1] != '\n')
                return -EPROTO;
            pos += i; /* the header block starts with this CRLF */
            m->state = MP_HEADERS;
        } else if (m->state == MP_HEADERS) {
            const char *hit = memmem(p, avail, "\r\n\r\n", 4);
            if (!hit) {
                /* a block too long is refused at the same point however
                 * the bytes arrive: the end could start in the last 3 */
                if (avail > MAX_PART_HEADER + 3)
                    return -EPROTO;
                break;
            }
            if ((size_t)(hit - p) > MAX_PART_HEADER)
                return -EPROTO;
            r = part_begin(m, p + 2, hit + 2);
            pos += (size_t)(hit - p) + 4; /* the part's body starts here */
            m->state = MP_BODY;
        } else { /* MP_END: the epilogue is ignored */
            pos = m->len;
        }
    }
    if (r < 0)
        return r;
    memmove(m->buf, m->buf + pos, m->len - pos);
    m->len -= pos;
    if (eof && m->state != MP_END)
        return -EPROTO;
    return 0;
}

static int load_multipart(swco_http_request_t *req, const char *ct, const char *ct_e)
{
    mp_t m;
    memset(&m, 0, sizeof m);
    m.req = req;
    m.o = opts(req);
    m.fd = -1;
    m.budget = max_body(req);
    m.fields_left = max_body(req) / FIELD_COST;
    m.file_max = m.o->upload_max_filesize ? m.o->upload_max_filesize : max_body(req);
    /* the boundary */
    const char *pp = ct, *pn;
    size_t pnl, vl;
    char *v, *boundary = NULL;
    size_t blen = 0;
    int r;
    while ((r = next_param(&req->arena, &pp, ct_e, &pn, &pnl, &v, &vl)) > 0)
        if (pnl == 8 && strncasecmp(pn, "boundary", 8) == 0 && !boundary)
            boundary = v, blen = vl;
    if (r < 0)
        return r;
    if (!boundary || blen == 0 || blen > MAX_BOUNDARY)
        return 1; /* not a form we can parse: the raw body */
    memcpy(m.delim, "\r\n--", 4);
    memcpy(m.delim + 4, boundary, blen);
    m.dlen = blen + 4;
    m.cap = READ_CHUNK + MAX_PART_HEADER + m.dlen;
    if (!(m.buf = malloc(m.cap)))
        return -ENOMEM;
    /* a CRLF before the body makes its first "--boundary" a delimiter like
     * the others */
    memcpy(m.buf, "\r\n", 2);
    m.len = 2;
    size_t total = 0, max = max_body(req);
    int seen = 0;
    for (;;) {
        long n = src_read(req, m.buf + m.len, m.cap - m.len);
        if (n == 0) {
            r = !seen ? 0 : mp_feed(&m, 1); /* an empty body is an empty form */
            break;
        }
        if (n < 0) {
            r = (int)n;
            break;
        }
        seen = 1;
        if ((size_t)n > max - total) {
            /* parse up to the limit first: the answer does not depend on
             * where reads split */
            m.len += max - total;
            if ((r = mp_feed(&m, 0)) == 0)
                r = -EMSGSIZE;
            break;
        }
        total += (size_t)n;
        m.len += (size_t)n;
        if ((r = mp_feed(&m, 0)) < 0)
            break;
    }
    if (r < 0)
        part_abort(&m, r);
    if (m.fd >= 0)
        close(m.fd);
    swco__hbuf_free(&m.value);
    free(m.buf);
    return r;
}

/* ---------------------------------------------------- the whole body */

/* Read the rest of the body into req->body (at most max bytes). */
static int load_raw(swco_http_request_t *req, int whole)
{
    if (!req->src || (req->content_length == 0 && !req->chunked))
        return 0; /* no body */
    size_t max = max_body(req);
    /* a whole Content-Length body gets one buffer of its size */
    size_t cl = whole && req->content_length > 0 &&
                        (unsigned long long)req->content_length <= max
                    ? (size_t)req->content_length
                    : 0;
    for (;;) {
        size_t room = req->body.cap > req->body.len ? req->body.cap - req->body.len - 1 : 0;
        size_t want = cl > req->body.len ? cl - req->body.len : cl ? 1 : READ_CHUNK;
        if (want > READ_CHUNK)
            want = READ_CHUNK;
        if (room < want && !(cl && req->body.len >= cl)) {
            if (swco__hbuf_reserve(&req->body, want) < 0)
                return -ENOMEM;
            room = req->body.cap - req->body.len - 1;
        }
        char one; /* the read that finds the end of a full buffer */
        long n = src_read(req, room ? req->body.p + req->body.len : &one, room ? room : 1);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return 0;
        if (!room) {
            if (swco__hbuf_add(&req->body, &one, 1) < 0)
                return -ENOMEM;
        } else {
            req->body.len += (size_t)n;
            req->body.p[req->body.len] = 0;
        }
        if (req->body.len > max)
            return -EMSGSIZE;
    }
}

static int load_urlencoded(swco_http_request_t *req)
{
    int r = load_raw(req, 1);
    if (r < 0 || !req->body.len)
        return r;
    size_t fields = 1;
    for (const char *p = req->body.p; (p = memchr(p, '&', req->body.len - (size_t)(p - req->body.p)));
         p++)
        fields++;
    if (fields > max_body(req) / FIELD_COST)
        return -EMSGSIZE;
    return swco__http_parse_query(&req->arena, &req->lists[SWCO_HTTP_POST], req->body.p,
                                  req->body.len);
}

int swco__http_body_load(swco_http_request_t *req)
{
    if (!req)
        return -EINVAL;
    if (req->body_state == SWCO__BODY_LOADED)
        return 0;
    if (req->body_state == SWCO__BODY_FAILED)
        return req->body_error;
    if (req->body_state == SWCO__BODY_LOADING)
        return -EBUSY;
    int streamed = req->body_state == SWCO__BODY_STREAMED;
    req->body_state = SWCO__BODY_LOADING;
    const swco__http_lopts_t *o = opts(req);
    const swco__kv_t *ct = swco__kv_find(&req->lists[SWCO_HTTP_HEADER], "Content-Type", 1);
    const char *cs = ct ? ct->value : "", *ce = ct ? ct->value + ct->value_len : cs;
    int r = 1; /* 1: the raw body */
    /* the part swco_http_request_read left is no form: kept raw */
    if (streamed)
        r = 1;
    else if (o->parse_post && media_is(cs, ce, "application/x-www-form-urlencoded"))
        r = load_urlencoded(req);
    else if (o->parse_post && o->parse_files && media_is(cs, ce, "multipart/form-data"))
        r = load_multipart(req, cs, ce);
    if (r == 1)
        r = load_raw(req, !streamed);
    req->parsed |= 1u << SWCO_HTTP_POST;
    if (r < 0) {
        req->body_state = SWCO__BODY_FAILED;
        req->body_error = r;
        return r;
    }
    req->body_state = SWCO__BODY_LOADED;
    return 0;
}

void swco__http_body_free(swco_http_request_t *req)
{
    if (!req)
        return;
    for (size_t i = 0; i < req->nfiles; i++) {
        swco__http_file_t *f = &req->files[i];
        if (f->tmp_path) {
            unlink(f->tmp_path); /* ENOENT when the handler moved it away */
            free(f->tmp_path);
        }
        free(f->data);
    }
    free(req->files);
    req->files = NULL;
    req->nfiles = 0;
    swco__hbuf_free(&req->body);
}

/* ------------------------------------------------------- public API */

const char *swco_http_request_body(swco_http_request_t *req, size_t *len)
{
    if (len)
        *len = 0;
    if (!req) {
        swco__fail(-EINVAL);
        return NULL;
    }
    int r = swco__http_body_load(req);
    if (r < 0) {
        swco__fail(r);
        return NULL;
    }
    if (!req->body.len)
        return NULL;
    if (len)
        *len = req->body.len;
    return req->body.p;
}

/* File i after the body is in, or NULL (-EINVAL as the last error). */
static const swco__http_file_t *file_at(swco_http_request_t *req, size_t i)
{
    if (req)
        (void)swco__http_body_load(req);
    if (!req || i >= req->nfiles) {
        swco__fail(-EINVAL);
        return NULL;
    }
    return &req->files[i];
}

size_t swco_http_request_file_count(swco_http_request_t *req)
{
    if (!req)
        return 0;
    (void)swco__http_body_load(req);
    return req->nfiles;
}

const char *swco_http_request_file_field(swco_http_request_t *req, size_t i)
{
    const swco__http_file_t *f = file_at(req, i);
    return f ? f->field : NULL;
}

const char *swco_http_request_file_name(swco_http_request_t *req, size_t i)
{
    const swco__http_file_t *f = file_at(req, i);
    return f ? f->name : NULL;
}

const char *swco_http_request_file_type(swco_http_request_t *req, size_t i)
{
    const swco__http_file_t *f = file_at(req, i);
    return f ? f->type : NULL;
}

long long swco_http_request_file_size(swco_http_request_t *req, size_t i)
{
    const swco__http_file_t *f = file_at(req, i);
    return f ? f->size : -EINVAL;
}

const char *swco_http_request_file_tmp_path(swco_http_request_t *req, size_t i)
{
    const swco__http_file_t *f = file_at(req, i);
    return f ? f->tmp_path : NULL;
}

const char *swco_http_request_file_data(swco_http_request_t *req, size_t i)
{
    const swco__http_file_t *f = file_at(req, i);
    return f ? f->data : NULL;
}

int swco_http_request_file_error(swco_http_request_t *req, size_t i)
{
    const swco__http_file_t *f = file_at(req, i);
    return f ? f->error : -EINVAL;
}
