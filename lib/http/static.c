/* Static files from a listener's document_root.
 *
 * A GET or HEAD whose path is under static_handler_locations (all paths
 * when none are set) is looked up below document_root.  The path is taken
 * from the raw request target and decoded here; a ".." segment is refused
 * (403), and a path that cannot name a file (an encoded '/', a NUL or a
 * backslash) is not found.  The file is opened with openat2's
 * RESOLVE_BENEATH from the root, so neither ".." nor a symlink can lead
 * out of it (403); kernels without openat2 open it normally and check
 * where the descriptor really is.  Directories get their index files
 * (http_index_files, default "index.html,index.htm") and a redirect to
 * the path with a '/' when it had none.
 *
 * Validators are a strong ETag from the size and modification time and a
 * Last-Modified; If-Match / If-Unmodified-Since answer 412, If-None-Match /
 * If-Modified-Since 304, as RFC 9110 section 13.2.2 orders them.  Range
 * takes one range (a-b, a-, -n): 206 with Content-Range; several ranges
 * are answered with the whole file (200), which RFC 9110 allows, and no
 * satisfiable range with 416 and "Content-Range: bytes * /size".  If-Range
 * (an ETag, strongly compared, or a date) falls back to 200 when the file
 * changed.  The body goes with swco_http_response_sendfile, through the
 * public response API, so any backend serves it.
 *
 * Where nothing is found: with static_handler_locations set the request
 * is answered (404); without, it goes on to the request handler. */
#include "http/http_int.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------- MIME types */

/* Sorted by extension (lower case) for bsearch. */
static const struct mime {
    const char *ext, *type;
} mime_types[] = {
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/aac"},
    {"apng", "image/apng"},
    {"atom", "application/atom+xml"},
    {"avi", "video/x-msvideo"},
    {"avif", "image/avif"},
    {"bin", "application/octet-stream"},
    {"bmp", "image/bmp"},
    {"bz2", "application/x-bzip2"},
    {"cjs", "text/javascript"},
    {"css", "text/css"},
    {"csv", "text/csv"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"eot", "application/vnd.ms-fontobject"},
    {"epub", "application/epub+zip"},
    {"flac", "audio/flac"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"ico", "image/x-icon"},
    {"ics", "text/calendar"},
    {"jar", "application/java-archive"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript"},
    {"json", "application/json"},
    {"jsonld", "application/ld+json"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"m4a", "audio/mp4"},
    {"m4v", "video/mp4"},
    {"map", "application/json"},
    {"md", "text/markdown"},
    {"mid", "audio/midi"},
    {"midi", "audio/midi"},
    {"mjs", "text/javascript"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/opus"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"rar", "application/vnd.rar"},
    {"rss", "application/rss+xml"},
    {"rtf", "application/rtf"},
    {"sh", "application/x-sh"},
    {"svg", "image/svg+xml"},
    {"svgz", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"tgz", "application/gzip"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"toml", "application/toml"},
    {"ts", "video/mp2t"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain"},
    {"vtt", "text/vtt"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"weba", "audio/webm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "application/xml"},
    {"xz", "application/x-xz"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"zip", "application/zip"},
    {"zst", "application/zstd"},
};

static int mime_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct mime *)elem)->ext);
}

const char *swco__http_mime_type(const char *path)
{
    static const char fallback[] = "application/octet-stream";
    if (!path)
        return fallback;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base || !dot[1])
        return fallback; /* no extension, or a dot file */
    char ext[16];
    size_t n = strlen(dot + 1);
    if (n >= sizeof ext)
        return fallback;
    for (size_t i = 0; i <= n; i++)
        ext[i] = (char)tolower((unsigned char)dot[1 + i]);
    const struct mime *m = bsearch(ext, mime_types, sizeof mime_types / sizeof mime_types[0],
                                   sizeof mime_types[0], mime_cmp);
    return m ? m->type : fallback;
}

/* ------------------------------------------------------------ HTTP dates */

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), whatever the locale. */
static void fmt_date(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int month_of(const char *s)
{
    for (int i = 0; i < 12; i++)
        if (strncasecmp(s, months[i], 3) == 0)
            return i;
    return -1;
}

/* n digits at *s into *v; advances *s.  0 or -1. */
static int digits(const char **s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            return -1;
        *v = *v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    return 0;
}

static int hms(const char **s, struct tm *tm)
{
    if (digits(s, 2, &tm->tm_hour) || *(*s)++ != ':' || digits(s, 2, &tm->tm_min) ||
        *(*s)++ != ':' || digits(s, 2, &tm->tm_sec))
        return -1;
    return tm->tm_hour < 24 && tm->tm_min < 60 && tm->tm_sec < 61 ? 0 : -1;
}

/* An HTTP-date (RFC 9110 5.6.7: IMF-fixdate, and the obsolete RFC 850 and
 * asctime forms recipients must take).  0 with *out, or -1. */
static int parse_date(const char *s, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    while (*s == ' ' || *s == '\t')
        s++;
    const char *comma = strchr(s, ',');
    if (comma && comma - s == 3) { /* Sun, 06 Nov 1994 08:49:37 GMT */
        s += 4;
        if (*s++ != ' ' || digits(&s, 2, &tm.tm_mday) || *s++ != ' ' ||
            (tm.tm_mon = month_of(s)) < 0)
            return -1;
        s += 3;
        if (*s++ != ' ' || digits(&s, 4, &tm.tm_year) || *s++ != ' ' || hms(&s, &tm) ||
            strncmp(s, " GMT", 4) != 0)
            return -1;
        tm.tm_year -= 1900;
    } else if (comma) { /* Sunday, 06-Nov-94 08:49:37 GMT */
        s = comma + 1;
        if (*s++ != ' ' || digits(&s, 2, &tm.tm_mday) || *s++ != '-' ||
            (tm.tm_mon = month_of(s)) < 0)
            return -1;
        s += 3;
        if (*s++ != '-' || digits(&s, 2, &tm.tm_year) || *s++ != ' ' || hms(&s, &tm) ||
            strncmp(s, " GMT", 4) != 0)
            return -1;
        /* RFC 9110: a two-digit year more than 50 years ahead is in the past */
        if (tm.tm_year < 70)
            tm.tm_year += 100;
    } else { /* Sun Nov  6 08:49:37 1994 */
        if (strlen(s) < 24 || s[3] != ' ')
            return -1;
        s += 4;
        if ((tm.tm_mon = month_of(s)) < 0)
            return -1;
        s += 3;
        if (*s++ != ' ')
            return -1;
        if (*s == ' ')
            s++, tm.tm_mday = 0;
        if (!isdigit((unsigned char)*s))
            return -1;
        while (isdigit((unsigned char)*s))
            tm.tm_mday = tm.tm_mday * 10 + (*s++ - '0');
        if (*s++ != ' ' || hms(&s, &tm) || *s++ != ' ' || digits(&s, 4, &tm.tm_year))
            return -1;
        tm.tm_year -= 1900;
    }
    if (tm.tm_mday < 1 || tm.tm_mday > 31)
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = t;
    return 0;
}

/* --------------------------------------------------------------- ETags */

/* Whether the entity-tag list `list` ("*" or "a", W/"b", ...) holds etag
 * (always strong: "..."), comparing weakly (W/ ignored) or strongly (a
 * weak tag never matches). */
static int etag_match(const char *list, const char *etag, int strong)
{
    size_t elen = strlen(etag);
    const char *s = list;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (!*s)
            return 0;
        if (*s == '*')
            return 1;
        int weak = 0;
        if (s[0] == 'W' && s[1] == '/') {
            weak = 1;
            s += 2;
        }
        if (*s != '"')
            return 0; /* malformed: no match */
        const char *end = strchr(s + 1, '"');
        if (!end)
            return 0;
        size_t n = (size_t)(end + 1 - s);
        if (n == elen && memcmp(s, etag, n) == 0 && !(strong && weak))
            return 1;
        s = end + 1;
    }
}

/* Every field named name matches (any of them holds etag). */
static int header_etag_match(const swco__kvlist_t *h, const char *name, const char *etag,
                             int strong, int *present)
{
    int hit = 0;
    *present = 0;
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->v[i].name, name) == 0) {
            *present = 1;
            if (etag_match(h->v[i].value, etag, strong))
                hit = 1;
        }
    return hit;
}

static const char *header(const swco_http_request_t *req, const char *name)
{
    const swco__kv_t *kv = swco__kv_find(&req->lists[SWCO_HTTP_HEADER], name, 1);
    return kv ? kv->value : NULL;
}

/* ---------------------------------------------------------------- ranges */

enum { RANGE_NONE = 0, RANGE_ONE, RANGE_BAD };

static int parse_num(const char **s, long long *v)
{
    if (!isdigit((unsigned char)**s))
        return -1;
    long long x = 0;
    while (isdigit((unsigned char)**s)) {
        if (x > (LLONG_MAX - 9) / 10)
            x = LLONG_MAX / 10; /* saturate: far past any file */
        else
            x = x * 10 + (**s - '0');
        (*s)++;
    }
    *v = x;
    return 0;
}

/* A Range header against a file of size bytes: RANGE_ONE with [*first,
 * *last] for one satisfiable range; RANGE_BAD when no range is
 * satisfiable (416); RANGE_NONE when it is malformed, not in bytes, or
 * asks for several ranges (the whole file then). */
static int parse_range(const char *v, long long size, long long *first, long long *last)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (strncasecmp(v, "bytes", 5) != 0)
        return RANGE_NONE;
    v += 5;
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v++ != '=')
        return RANGE_NONE;
    int specs = 0, ok = 0;
    long long f = 0, l = 0;
    for (;;) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        if (!*v)
            break;
        long long a = -1, b = -1;
        if (*v == '-') {
            v++;
            if (parse_num(&v, &b) < 0)
                return RANGE_NONE;
            specs++;
            if (b > 0 && size > 0) { /* the last b bytes */
                ok++;
                f = b >= size ? 0 : size - b;
                l = size - 1;
            }
        } else {
            if (parse_num(&v, &a) < 0 || *v++ != '-')
                return RANGE_NONE;
            if (isdigit((unsigned char)*v)) {
                if (parse_num(&v, &b) < 0 || b < a)
                    return RANGE_NONE;
            }
            specs++;
            if (a < size) {
                ok++;
                f = a;
                l = b < 0 || b >= size ? size - 1 : b;
            }
        }
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v && *v != ',')
            return RANGE_NONE;
    }
    if (specs == 0)
        return RANGE_NONE;
    if (ok == 0)
        return RANGE_BAD;
    if (specs > 1)
        return RANGE_NONE;
    *first = f;
    *last = l;
    return RANGE_ONE;
}

/* ----------------------------------------------------------------- paths */

/* Whether path is under one of the comma-separated prefixes of locs
 * (whole segments: "/static" holds "/static" and "/static/a", not
 * "/staticx"); NULL holds every path. */
static int in_locations(const char *locs, const char *path)
{
    if (!locs)
        return 1;
    const char *s = locs;
    while (*s) {
        while (*s == ',' || *s == ' ' || *s == '\t')
            s++;
        const char *p = s;
        while (*s && *s != ',')
            s++;
        const char *e = s;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        size_t n = (size_t)(e - p);
        if (n == 0)
            continue;
        if (strncmp(path, p, n) == 0 &&
            (p[n - 1] == '/' || path[n] == 0 || path[n] == '/' || path[n] == '?'))
            return 1;
    }
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

enum { P_OK = 0, P_NOTFOUND, P_FORBIDDEN };

/* The raw target's path decoded into a relative path below the root
 * (segments joined by '/', "." for the root itself) in rel (cap bytes);
 * *dir_slash when it ended with '/'.  P_FORBIDDEN for a ".." segment,
 * P_NOTFOUND for what cannot name a file (bad escapes, NUL, an encoded
 * '/', a backslash, too long). */
static int clean_path(const char *uri, char *rel, size_t cap, int *dir_slash)
{
    const char *p = uri;
    if (*p != '/') { /* absolute-form: skip scheme and authority */
        const char *ss = strstr(p, "://");
        if (!ss)
            return P_NOTFOUND;
        p = strchr(ss + 3, '/');
        if (!p)
            p = "/";
    }
    size_t n = 0;
    *dir_slash = 0;
    while (*p && *p != '?' && *p != '#') {
        while (*p == '/')
            p++;
        if (!*p || *p == '?' || *p == '#') {
            *dir_slash = 1;
            break;
        }
        size_t seg = n ? n + 1 : 0; /* where this segment starts in rel */
        if (seg >= cap)
            return P_NOTFOUND;
        size_t k = seg;
        while (*p && *p != '/' && *p != '?' && *p != '#') {
            int c = (unsigned char)*p++;
            if (c == '%') {
                int h = hexval((unsigned char)p[0]), l = h < 0 ? -1 : hexval((unsigned char)p[1]);
                if (h < 0 || l < 0)
                    return P_NOTFOUND;
                c = h * 16 + l;
                p += 2;
                if (c == '/')
                    return P_NOTFOUND;
            }
            if (c == 0 || c == '\\')
                return P_NOTFOUND;
            if (k + 1 >= cap)
                return P_NOTFOUND;
            rel[k++] = (char)c;
        }
        size_t len = k - seg;
        if (len == 2 && rel[seg] == '.' && rel[seg + 1] == '.')
            return P_FORBIDDEN;
        if (len == 1 && rel[seg] == '.')
            continue; /* "." */
        if (seg)
            rel[n] = '/';
        n = k;
    }
    if (n == 0)
        rel[n++] = '.';
    rel[n] = 0;
    return P_OK;
}

int swco__http_static_openat2 = 1;

/* Open rel below rootfd without leaving the root: a descriptor, or
 * -ENOENT, -EXDEV (it would leave the root), -EACCES, ... */
static int open_beneath(int rootfd, const char *rootpath, const char *rel)
{
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
#ifdef SYS_openat2
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    while (swco__http_static_openat2) {
        long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
        if (fd >= 0)
            return (int)fd;
        if (errno == EAGAIN || errno == EINTR)
            continue; /* a rename raced the lookup */
        /* ENOSYS: before Linux 5.6; EPERM: a seccomp filter refusing it */
        if (errno != ENOSYS && errno != EPERM)
            return -errno;
        break;
    }
#endif
    /* no openat2: open, then check where the descriptor really is */
    int fd = openat(rootfd, rel, flags);
    if (fd < 0)
        return -errno;
    char link[64], real[PATH_MAX + 1], *root = realpath(rootpath, NULL);
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, real, sizeof real - 1);
    int inside = 0;
    if (root && n > 0) {
        real[n] = 0;
        size_t rl = strlen(root);
        inside = strncmp(real, root, rl) == 0 &&
                 (real[rl] == 0 || real[rl] == '/' || (rl == 1 && root[0] == '/'));
    }
    free(root);
    if (!inside) {
        close(fd);
        return -EXDEV;
    }
    return fd;
}

/* The absolute path of an open file for swco_http_response_sendfile. */
static char *fd_path(swco__arena_t *a, int fd, const char *root, const char *rel)
{
    char link[64], real[PATH_MAX + 1];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, real, sizeof real - 1);
    if (n > 0 && real[0] == '/')
        return swco__arena_strndup(a, real, (size_t)n);
    /* no /proc: the path we opened */
    size_t rl = strlen(root), ll = strlen(rel);
    char *p = swco__arena_alloc(a, rl + ll + 2);
    if (p) {
        memcpy(p, root, rl);
        p[rl] = '/';
        memcpy(p + rl + 1, rel, ll + 1);
    }
    return p;
}

/* ------------------------------------------------------------ responses */

static int answer(swco_http_response_t *resp, int status)
{
    char body[64];
    int n = snprintf(body, sizeof body, "%d %s\n", status, swco__http_reason(status));
    swco_http_response_status(resp, status, NULL);
    swco_http_response_header(resp, "Content-Type", "text/plain");
    swco_http_response_end(resp, body, (size_t)n);
    return 1;
}

/* 301 to the directory's path with a '/' (and the query). */
static int redirect_dir(swco_http_request_t *req, swco_http_response_t *resp, const char *rel)
{
    static const char keep[] = "-._~!$&'()*+,;=:@/";
    swco__hbuf_t b = {0};
    int rc = swco__hbuf_add(&b, "/", 1);
    for (const char *p = rel; rc == 0 && *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) || strchr(keep, c)) {
            rc = swco__hbuf_add(&b, p, 1);
        } else {
            char esc[4];
            snprintf(esc, sizeof esc, "%%%02X", c);
            rc = swco__hbuf_add(&b, esc, 3);
        }
    }
    if (rc == 0)
        rc = swco__hbuf_add(&b, "/", 1);
    if (rc == 0 && req->query && *req->query) {
        rc = swco__hbuf_add(&b, "?", 1);
        if (rc == 0)
            rc = swco__hbuf_adds(&b, req->query);
    }
    if (rc == 0)
        rc = swco_http_response_redirect(resp, b.p, 301);
    if (rc < 0)
        answer(resp, 500);
    swco__hbuf_free(&b);
    return 1;
}

/* Serve the regular file fd (st) found at rel. */
static int serve_file(swco_http_request_t *req, swco_http_response_t *resp, int fd,
                      const struct stat *st, const char *rel)
{
    const char *root = req->opt->document_root;
    char etag[80], lastmod[32];
    long long size = (long long)st->st_size;
    snprintf(etag, sizeof etag, "\"%llx-%llx%08lx\"", (unsigned long long)size,
             (unsigned long long)st->st_mtim.tv_sec, (unsigned long)st->st_mtim.tv_nsec);
    fmt_date(st->st_mtim.tv_sec, lastmod);
    const swco__kvlist_t *h = &req->lists[SWCO_HTTP_HEADER];
    time_t when;
    int present;
    const char *v;

    /* RFC 9110 13.2.2: If-Match, If-Unmodified-Since, If-None-Match,
     * If-Modified-Since, If-Range, in this order */
    if (!header_etag_match(h, "If-Match", etag, 1, &present) && present)
        return answer(resp, 412);
    if (!present && (v = header(req, "If-Unmodified-Since")) && parse_date(v, &when) == 0 &&
        st->st_mtim.tv_sec > when)
        return answer(resp, 412);
    int not_modified = header_etag_match(h, "If-None-Match", etag, 0, &present);
    if (!present && (v = header(req, "If-Modified-Since")) && parse_date(v, &when) == 0)
        not_modified = st->st_mtim.tv_sec <= when;
    if (not_modified) {
        swco_http_response_status(resp, 304, NULL);
        swco_http_response_header(resp, "ETag", etag);
        swco_http_response_header(resp, "Last-Modified", lastmod);
        swco_http_response_end(resp, NULL, 0);
        return 1;
    }

    long long first = 0, last = size - 1;
    int range = RANGE_NONE;
    if (!req->head && (v = header(req, "Range"))) {
        range = parse_range(v, size, &first, &last);
        const char *ir = header(req, "If-Range");
        if (range != RANGE_NONE && ir) {
            while (*ir == ' ')
                ir++;
            int same;
            if (*ir == '"' || (ir[0] == 'W' && ir[1] == '/'))
                same = etag_match(ir, etag, 1) && *ir == '"';
            else
                same = parse_date(ir, &when) == 0 && when == st->st_mtim.tv_sec;
            if (!same)
                range = RANGE_NONE, first = 0, last = size - 1;
        }
    }
    if (range == RANGE_BAD) {
        char cr[48];
        snprintf(cr, sizeof cr, "bytes */%lld", size);
        swco_http_response_status(resp, 416, NULL);
        swco_http_response_header(resp, "Content-Range", cr);
        swco_http_response_header(resp, "Accept-Ranges", "bytes");
        swco_http_response_end(resp, NULL, 0);
        return 1;
    }

    char *path = fd_path(&req->arena, fd, root, rel);
    if (!path)
        return answer(resp, 500);
    swco_http_response_header(resp, "Content-Type", swco__http_mime_type(rel));
    swco_http_response_header(resp, "ETag", etag);
    swco_http_response_header(resp, "Last-Modified", lastmod);
    swco_http_response_header(resp, "Accept-Ranges", "bytes");
    long long off = 0, len = size;
    if (range == RANGE_ONE) {
        char cr[80];
        snprintf(cr, sizeof cr, "bytes %lld-%lld/%lld", first, last, size);
        swco_http_response_status(resp, 206, NULL);
        swco_http_response_header(resp, "Content-Range", cr);
        off = first;
        len = last - first + 1;
    } else {
        swco_http_response_status(resp, 200, NULL);
    }
    int rc = swco_http_response_sendfile(resp, path, off, len);
    if (rc == -ENOENT || rc == -EACCES || rc == -EINVAL || rc == -EISDIR) {
        /* the file changed between the look and the send: nothing went out */
        swco_http_response_header(resp, "ETag", NULL);
        swco_http_response_header(resp, "Last-Modified", NULL);
        swco_http_response_header(resp, "Accept-Ranges", NULL);
        swco_http_response_header(resp, "Content-Range", NULL);
        return answer(resp, rc == -EACCES ? 403 : 404);
    }
    return 1;
}

int swco__http_static_serve(swco_http_request_t *req, swco_http_response_t *resp)
{
    const swco__http_lopts_t *o = req ? req->opt : NULL;
    if (!o || !o->static_handler || !o->document_root || !*o->document_root || !resp)
        return 0;
    if (!req->method || (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0))
        return 0;
    const char *uri = req->uri;
    if (!uri || (*uri != '/' && !strstr(uri, "://")))
        return 0; /* "*", authority-form */
    /* the location test sees the decoded path (as the handler does) */
    const char *path = req->path ? req->path : uri;
    if (!in_locations(o->static_locations, path))
        return 0;
    /* static-only locations answer what is not there; otherwise the handler */
    int only = o->static_locations != NULL;

    char rel[PATH_MAX];
    int dir_slash;
    int pc = clean_path(uri, rel, sizeof rel - 64, &dir_slash);
    if (pc == P_FORBIDDEN)
        return answer(resp, 403);
    if (pc == P_NOTFOUND)
        return only ? answer(resp, 404) : 0;

    int rootfd = open(o->document_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return only ? answer(resp, 404) : 0;
    int ret;
    int fd = open_beneath(rootfd, o->document_root, rel);
    struct stat st;
    if (fd < 0) {
        if (fd == -ENOENT || fd == -ENOTDIR || fd == -ENAMETOOLONG)
            ret = only ? answer(resp, 404) : 0;
        else if (fd == -EXDEV || fd == -ELOOP || fd == -EACCES || fd == -EPERM)
            ret = answer(resp, 403);
        else
            ret = only ? answer(resp, 500) : 0;
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        ret = only ? answer(resp, 500) : 0;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        if (!dir_slash && strcmp(rel, ".") != 0) {
            ret = redirect_dir(req, resp, rel);
            goto out;
        }
        /* the first index file there is */
        const char *list = o->index_files ? o->index_files : "index.html,index.htm";
        size_t rl = strcmp(rel, ".") == 0 ? 0 : strlen(rel);
        ret = -1;
        for (const char *s = list; *s && ret < 0;) {
            while (*s == ',' || *s == ' ')
                s++;
            size_t n = strcspn(s, ", ");
            if (n == 0 || memchr(s, '/', n) || rl + n + 2 > sizeof rel) {
                s += n;
                continue;
            }
            if (rl)
                rel[rl] = '/';
            memcpy(rel + (rl ? rl + 1 : 0), s, n);
            rel[(rl ? rl + 1 : 0) + n] = 0;
            s += n;
            int ifd = open_beneath(rootfd, o->document_root, rel);
            if (ifd < 0) {
                if (ifd == -EXDEV || ifd == -ELOOP)
                    ret = answer(resp, 403);
                continue;
            }
            struct stat ist;
            if (fstat(ifd, &ist) == 0 && S_ISREG(ist.st_mode))
                ret = serve_file(req, resp, ifd, &ist, rel);
            close(ifd);
        }
        if (ret < 0)
            ret = only ? answer(resp, 403) : 0;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        ret = answer(resp, 403); /* a FIFO, socket or device: never served */
        goto out;
    }
    if (dir_slash) { /* "/file.txt/": not a directory */
        ret = only ? answer(resp, 404) : 0;
        goto out;
    }
    ret = serve_file(req, resp, fd, &st, rel);
out:
    if (fd >= 0)
        close(fd);
    close(rootfd);
    return ret;
}
