/* Server options by Swoole's names: one table maps each name to its field,
 * its type, its range and where it applies (the server, each listener, or
 * both), so set, get and the defaults all read the same description.
 *
 * Listener options set server-wide are every listener's default: they go
 * to srv->lopt (what a new listener copies) and to each listener that has
 * not set that option itself (its opt_own bit). */
#include "server/server_int.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

enum { T_INT, T_LONG, T_SIZE, T_DOUBLE, T_BOOL, T_STR, T_SPECIAL };
enum { W_SRV = 1, W_LIS = 2, W_BOTH = 3 };
enum {
    SP_NONE,
    SP_EOF_CHECK,     /* open_eof_check */
    SP_EOF_SPLIT,     /* open_eof_split */
    SP_LENGTH_CHECK,  /* open_length_check */
    SP_PACKAGE_EOF,   /* package_eof */
    SP_LENGTH_TYPE,   /* package_length_type */
    SP_PROTOCOLS      /* ssl_protocols */
};
/* Listener option groups (bits of swco__listener_t.opt_own): options that
 * write the same field share one, so a listener's framing mode is one
 * choice whichever of its three switches set it. */
enum {
    G_NONE = -1,
    G_FRAME_MODE = 0,
    G_EOF,
    G_LEN_TYPE,
    G_LEN_OFFSET,
    G_BODY_OFFSET,
    G_MAX_LEN,
    G_NODELAY,
    G_KEEPALIVE,
    G_KEEPIDLE,
    G_KEEPINTERVAL,
    G_KEEPCOUNT,
    G_HB_IDLE,
    G_PROXY,
    G_CERT,
    G_KEY,
    G_CA,
    G_VERIFY,
    G_CIPHERS,
    G_PROTOCOLS,
    /* HTTP and WebSocket (swco__http_lopts_t) */
    G_H_ENABLED,
    G_H_WEBSOCKET,
    G_H_PARSE_POST,
    G_H_PARSE_COOKIE,
    G_H_PARSE_FILES,
    G_H_COMPRESSION,
    G_H_COMPRESSION_LEVEL,
    G_H_COMPRESSION_MIN_LENGTH,
    G_H_MAX_URI_LENGTH,
    G_H_MAX_HEADER_SIZE,
    G_H_HEADER_TIMEOUT,
    G_H_BODY_TIMEOUT,
    G_H_KEEPALIVE_TIMEOUT,
    G_H_UPLOAD_TMP_DIR,
    G_H_UPLOAD_MAX_FILESIZE,
    G_H_UPLOAD_MEMORY_MAX,
    G_H_DOCUMENT_ROOT,
    G_H_STATIC_HANDLER,
    G_H_STATIC_LOCATIONS,
    G_H_INDEX_FILES,
    G_H_WS_MAX_FRAME_SIZE,
    G_H_WS_COMPRESSION,
    G_H_WS_CLOSE_FRAME,
    G_H_WS_PING_FRAME,
    G_H_WS_PONG_FRAME
};

typedef struct opt_def {
    const char *name;
    int type;
    int where;
    int live;      /* may change while the server runs */
    size_t off;    /* into swco__srv_opts_t (W_SRV, W_BOTH) or swco__lopts_t (W_LIS) */
    size_t loff;   /* W_BOTH: into swco__lopts_t */
    double min, max;
    int special;
    int group;
} opt_def_t;

#define SO(f) offsetof(swco__srv_opts_t, f)
#define LO(f) offsetof(swco__lopts_t, f)
#define MAXSZ 1099511627776.0 /* 1 TiB: the largest size accepted */

static const opt_def_t defs[] = {
    /* server-wide */
    {"worker_num", T_INT, W_SRV, 0, SO(worker_num), 0, 1, 4096, SP_NONE, G_NONE},
    {"reactor_num", T_INT, W_SRV, 0, SO(reactor_num), 0, 1, 256, SP_NONE, G_NONE},
    {"task_worker_num", T_INT, W_SRV, 0, SO(task_worker_num), 0, 0, 4096, SP_NONE, G_NONE},
    {"task_enable_coroutine", T_BOOL, W_SRV, 0, SO(task_enable_coroutine), 0, 0, 1, SP_NONE, G_NONE},
    {"max_connection", T_LONG, W_SRV, 0, SO(max_connection), 0, 1, SWCO__CONN_FD_MAX, SP_NONE, G_NONE},
    {"max_conn", T_LONG, W_SRV, 0, SO(max_connection), 0, 1, SWCO__CONN_FD_MAX, SP_NONE, G_NONE},
    {"backlog", T_INT, W_SRV, 0, SO(backlog), 0, 1, 65535, SP_NONE, G_NONE},
    {"dispatch_mode", T_INT, W_SRV, 0, SO(dispatch_mode), 0, 1, 5, SP_NONE, G_NONE},
    {"heartbeat_check_interval", T_DOUBLE, W_SRV, 0, SO(heartbeat_check_interval), 0, 0, 86400 * 365, SP_NONE, G_NONE},
    {"heartbeat_idle_time", T_DOUBLE, W_BOTH, 1, SO(heartbeat_idle_time), LO(heartbeat_idle_time), 0, 86400 * 365, SP_NONE, G_HB_IDLE},
    {"buffer_output_size", T_SIZE, W_SRV, 1, SO(buffer_output_size), 0, 1, MAXSZ, SP_NONE, G_NONE},
    {"socket_buffer_size", T_SIZE, W_SRV, 0, SO(socket_buffer_size), 0, 1, MAXSZ, SP_NONE, G_NONE},
    {"send_yield", T_BOOL, W_SRV, 1, SO(send_yield), 0, 0, 1, SP_NONE, G_NONE},
    {"enable_coroutine", T_BOOL, W_SRV, 0, SO(enable_coroutine), 0, 0, 1, SP_NONE, G_NONE},
    {"max_coroutine", T_LONG, W_SRV, 0, SO(max_coroutine), 0, 1, LONG_MAX, SP_NONE, G_NONE},
    {"max_request", T_LONG, W_SRV, 1, SO(max_request), 0, 0, LONG_MAX, SP_NONE, G_NONE},
    {"max_wait_time", T_DOUBLE, W_SRV, 1, SO(max_wait_time), 0, 0, 86400 * 365, SP_NONE, G_NONE},
    {"reload_async", T_BOOL, W_SRV, 0, SO(reload_async), 0, 0, 1, SP_NONE, G_NONE},
    {"daemonize", T_BOOL, W_SRV, 0, SO(daemonize), 0, 0, 1, SP_NONE, G_NONE},
    {"pid_file", T_STR, W_SRV, 0, SO(pid_file), 0, 0, 0, SP_NONE, G_NONE},
    {"log_file", T_STR, W_SRV, 0, SO(log_file), 0, 0, 0, SP_NONE, G_NONE},
    {"enable_reuse_port", T_BOOL, W_SRV, 0, SO(enable_reuse_port), 0, 0, 1, SP_NONE, G_NONE},
    /* per listener (server-wide: the default of every listener) */
    {"open_eof_check", T_SPECIAL, W_LIS, 0, 0, 0, 0, 0, SP_EOF_CHECK, G_FRAME_MODE},
    {"open_eof_split", T_SPECIAL, W_LIS, 0, 0, 0, 0, 0, SP_EOF_SPLIT, G_FRAME_MODE},
    {"package_eof", T_SPECIAL, W_LIS, 0, 0, 0, 0, 0, SP_PACKAGE_EOF, G_EOF},
    {"open_length_check", T_SPECIAL, W_LIS, 0, 0, 0, 0, 0, SP_LENGTH_CHECK, G_FRAME_MODE},
    {"package_length_type", T_SPECIAL, W_LIS, 0, 0, 0, 0, 0, SP_LENGTH_TYPE, G_LEN_TYPE},
    {"package_length_offset", T_SIZE, W_LIS, 0, LO(frame.len_offset), 0, 0, 65536, SP_NONE, G_LEN_OFFSET},
    {"package_body_offset", T_SIZE, W_LIS, 0, LO(frame.body_offset), 0, 0, 65536, SP_NONE, G_BODY_OFFSET},
    {"package_max_length", T_SIZE, W_LIS, 0, LO(frame.max_len), 0, 1, MAXSZ, SP_NONE, G_MAX_LEN},
    {"open_tcp_nodelay", T_BOOL, W_LIS, 0, LO(nodelay), 0, 0, 1, SP_NONE, G_NODELAY},
    {"open_tcp_keepalive", T_BOOL, W_LIS, 0, LO(keepalive), 0, 0, 1, SP_NONE, G_KEEPALIVE},
    {"tcp_keepidle", T_INT, W_LIS, 0, LO(keepidle), 0, 1, 32767, SP_NONE, G_KEEPIDLE},
    {"tcp_keepinterval", T_INT, W_LIS, 0, LO(keepinterval), 0, 1, 32767, SP_NONE, G_KEEPINTERVAL},
    {"tcp_keepcount", T_INT, W_LIS, 0, LO(keepcount), 0, 1, 127, SP_NONE, G_KEEPCOUNT},
    {"open_proxy_protocol", T_BOOL, W_LIS, 0, LO(proxy_protocol), 0, 0, 1, SP_NONE, G_PROXY},
    {"ssl_cert_file", T_STR, W_LIS, 0, LO(ssl_cert_file), 0, 0, 0, SP_NONE, G_CERT},
    {"ssl_key_file", T_STR, W_LIS, 0, LO(ssl_key_file), 0, 0, 0, SP_NONE, G_KEY},
    {"ssl_ca_file", T_STR, W_LIS, 0, LO(ssl_ca_file), 0, 0, 0, SP_NONE, G_CA},
    {"ssl_verify_peer", T_BOOL, W_LIS, 0, LO(ssl_verify_peer), 0, 0, 1, SP_NONE, G_VERIFY},
    {"ssl_ciphers", T_STR, W_LIS, 0, LO(ssl_ciphers), 0, 0, 0, SP_NONE, G_CIPHERS},
    {"ssl_protocols", T_SPECIAL, W_LIS, 0, 0, 0, 0, 0, SP_PROTOCOLS, G_PROTOCOLS},
    /* HTTP and WebSocket (swco/http.h, swco/websocket.h) */
    {"open_http_protocol", T_BOOL, W_LIS, 0, LO(http.enabled), 0, 0, 1, SP_NONE, G_H_ENABLED},
    {"open_websocket_protocol", T_BOOL, W_LIS, 0, LO(http.websocket), 0, 0, 1, SP_NONE, G_H_WEBSOCKET},
    {"http_parse_post", T_BOOL, W_LIS, 0, LO(http.parse_post), 0, 0, 1, SP_NONE, G_H_PARSE_POST},
    {"http_parse_cookie", T_BOOL, W_LIS, 0, LO(http.parse_cookie), 0, 0, 1, SP_NONE, G_H_PARSE_COOKIE},
    {"http_parse_files", T_BOOL, W_LIS, 0, LO(http.parse_files), 0, 0, 1, SP_NONE, G_H_PARSE_FILES},
    {"http_compression", T_BOOL, W_LIS, 0, LO(http.compression), 0, 0, 1, SP_NONE, G_H_COMPRESSION},
    {"http_compression_level", T_INT, W_LIS, 0, LO(http.compression_level), 0, 1, 9, SP_NONE, G_H_COMPRESSION_LEVEL},
    {"compression_min_length", T_SIZE, W_LIS, 0, LO(http.compression_min_length), 0, 0, MAXSZ, SP_NONE, G_H_COMPRESSION_MIN_LENGTH},
    {"http_max_uri_length", T_SIZE, W_LIS, 0, LO(http.max_uri_length), 0, 16, 16777216, SP_NONE, G_H_MAX_URI_LENGTH},
    {"http_max_header_size", T_SIZE, W_LIS, 0, LO(http.max_header_size), 0, 256, 16777216, SP_NONE, G_H_MAX_HEADER_SIZE},
    {"http_header_timeout", T_DOUBLE, W_LIS, 0, LO(http.header_timeout), 0, 0, 86400, SP_NONE, G_H_HEADER_TIMEOUT},
    {"http_body_timeout", T_DOUBLE, W_LIS, 0, LO(http.body_timeout), 0, 0, 86400, SP_NONE, G_H_BODY_TIMEOUT},
    {"http_keepalive_timeout", T_DOUBLE, W_LIS, 0, LO(http.keepalive_timeout), 0, 0, 86400, SP_NONE, G_H_KEEPALIVE_TIMEOUT},
    {"upload_tmp_dir", T_STR, W_LIS, 0, LO(http.upload_tmp_dir), 0, 0, 0, SP_NONE, G_H_UPLOAD_TMP_DIR},
    {"upload_max_filesize", T_SIZE, W_LIS, 0, LO(http.upload_max_filesize), 0, 0, MAXSZ, SP_NONE, G_H_UPLOAD_MAX_FILESIZE},
    {"http_upload_memory_max", T_SIZE, W_LIS, 0, LO(http.upload_memory_max), 0, 0, MAXSZ, SP_NONE, G_H_UPLOAD_MEMORY_MAX},
    {"document_root", T_STR, W_LIS, 0, LO(http.document_root), 0, 0, 0, SP_NONE, G_H_DOCUMENT_ROOT},
    {"enable_static_handler", T_BOOL, W_LIS, 0, LO(http.static_handler), 0, 0, 1, SP_NONE, G_H_STATIC_HANDLER},
    {"static_handler_locations", T_STR, W_LIS, 0, LO(http.static_locations), 0, 0, 0, SP_NONE, G_H_STATIC_LOCATIONS},
    {"http_index_files", T_STR, W_LIS, 0, LO(http.index_files), 0, 0, 0, SP_NONE, G_H_INDEX_FILES},
    {"websocket_max_frame_size", T_SIZE, W_LIS, 0, LO(http.ws_max_frame_size), 0, 1, MAXSZ, SP_NONE, G_H_WS_MAX_FRAME_SIZE},
    {"websocket_compression", T_BOOL, W_LIS, 0, LO(http.ws_compression), 0, 0, 1, SP_NONE, G_H_WS_COMPRESSION},
    {"open_websocket_close_frame", T_BOOL, W_LIS, 0, LO(http.ws_close_frame), 0, 0, 1, SP_NONE, G_H_WS_CLOSE_FRAME},
    {"open_websocket_ping_frame", T_BOOL, W_LIS, 0, LO(http.ws_ping_frame), 0, 0, 1, SP_NONE, G_H_WS_PING_FRAME},
    {"open_websocket_pong_frame", T_BOOL, W_LIS, 0, LO(http.ws_pong_frame), 0, 0, 1, SP_NONE, G_H_WS_PONG_FRAME},
};

#define NDEFS (sizeof defs / sizeof defs[0])

static const opt_def_t *find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < NDEFS; i++)
        if (strcmp(defs[i].name, name) == 0)
            return &defs[i];
    return NULL;
}

/* ---------------------------------------------------------------- parsing */

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = 0, 0;
    }
    return SWCO_EOPTVALUE;
}

/* A whole decimal integer, optionally (sizes) with a K, M or G suffix
 * (powers of 1024), within [min, max]. */
static int parse_integer(const char *v, double min, double max, int suffix, long long *out)
{
    if (!*v || isspace((unsigned char)*v))
        return SWCO_EOPTVALUE;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v)
        return SWCO_EOPTVALUE;
    if (suffix && *end) {
        long long mul = 0;
        switch (*end) {
        case 'k': case 'K': mul = 1LL << 10; break;
        case 'm': case 'M': mul = 1LL << 20; break;
        case 'g': case 'G': mul = 1LL << 30; break;
        }
        if (!mul || end[1] || n > LLONG_MAX / mul || n < 0)
            return SWCO_EOPTVALUE;
        n *= mul;
        end++;
    }
    if (*end || (double)n < min || (double)n > max)
        return SWCO_EOPTVALUE;
    *out = n;
    return 0;
}

static int parse_double(const char *v, double min, double max, double *out)
{
    if (!*v || isspace((unsigned char)*v))
        return SWCO_EOPTVALUE;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d) || d < min || d > max)
        return SWCO_EOPTVALUE;
    *out = d;
    return 0;
}

/* package_length_type: PHP pack() letters.  Signedness does not matter
 * to a length; s, S, l, L are the machine's order. */
static int parse_length_type(const char *v, int *size, int *big)
{
    if (!v[0] || v[1])
        return SWCO_EOPTVALUE;
    const int native_big = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__;
    switch (v[0]) {
    case 'c': case 'C': *size = 1; *big = 1; return 0;
    case 'n': *size = 2; *big = 1; return 0;
    case 'v': *size = 2; *big = 0; return 0;
    case 's': case 'S': *size = 2; *big = native_big; return 0;
    case 'N': *size = 4; *big = 1; return 0;
    case 'V': *size = 4; *big = 0; return 0;
    case 'l': case 'L': *size = 4; *big = native_big; return 0;
    }
    return SWCO_EOPTVALUE;
}

static char length_type_letter(const swco__framing_t *f)
{
    if (f->len_size == 1)
        return 'C';
    if (f->len_size == 2)
        return f->big_endian ? 'n' : 'v';
    return f->big_endian ? 'N' : 'V';
}

/* ssl_protocols: TLS versions separated by commas, spaces or '|'
 * ("TLSv1.2,TLSv1.3", "TLSv1.3"); the range from the lowest to the
 * highest named. */
static int parse_protocols(const char *v, int *min, int *max)
{
    int lo = 0, hi = 0, any = 0;
    const char *p = v;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '|')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ", |");
        int ver;
        if ((n == 7 && strncasecmp(p, "TLSv1.2", 7) == 0) || (n == 3 && strncmp(p, "1.2", 3) == 0))
            ver = SWCO_TLS1_2;
        else if ((n == 7 && strncasecmp(p, "TLSv1.3", 7) == 0) ||
                 (n == 3 && strncmp(p, "1.3", 3) == 0))
            ver = SWCO_TLS1_3;
        else
            return SWCO_EOPTVALUE;
        if (!any || ver < lo)
            lo = ver;
        if (!any || ver > hi)
            hi = ver;
        any = 1;
        p += n;
    }
    if (!any)
        return SWCO_EOPTVALUE;
    *min = lo;
    *max = hi;
    return 0;
}

/* ------------------------------------------------------------- applying */

/* Parse value for def and store it at base + off (base: the struct the
 * offset is into).  Nothing is changed when the value is bad. */
static int apply_plain(const opt_def_t *def, void *base, size_t off, const char *value)
{
    char *field = (char *)base + off;
    long long n;
    double d;
    int b, rc;
    switch (def->type) {
    case T_INT:
        if ((rc = parse_integer(value, def->min, def->max, 0, &n)) < 0)
            return rc;
        *(int *)field = (int)n;
        return 0;
    case T_LONG:
        if ((rc = parse_integer(value, def->min, def->max, 0, &n)) < 0)
            return rc;
        *(long *)field = (long)n;
        return 0;
    case T_SIZE:
        if ((rc = parse_integer(value, def->min, def->max, 1, &n)) < 0)
            return rc;
        *(size_t *)field = (size_t)n;
        return 0;
    case T_DOUBLE:
        if ((rc = parse_double(value, def->min, def->max, &d)) < 0)
            return rc;
        *(double *)field = d;
        return 0;
    case T_BOOL:
        if ((rc = parse_bool(value, &b)) < 0)
            return rc;
        *(int *)field = b;
        return 0;
    case T_STR: {
        char *copy = NULL;
        if (*value && !(copy = strdup(value)))
            return -ENOMEM;
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    }
    return SWCO_EOPTVALUE;
}

static int apply_lopt(const opt_def_t *def, swco__lopts_t *lo, const char *value)
{
    int b, rc, size, big, min, max;
    switch (def->special) {
    case SP_NONE:
        return apply_plain(def, lo, def->where == W_BOTH ? def->loff : def->off, value);
    case SP_EOF_CHECK:
        if ((rc = parse_bool(value, &b)) < 0)
            return rc;
        if (b)
            lo->frame.mode = SWCO__FRAME_EOF;
        else if (lo->frame.mode == SWCO__FRAME_EOF)
            lo->frame.mode = SWCO__FRAME_NONE, lo->eof_split = 0;
        return 0;
    case SP_EOF_SPLIT:
        /* As in Swoole, splitting implies checking. */
        if ((rc = parse_bool(value, &b)) < 0)
            return rc;
        lo->eof_split = b;
        if (b)
            lo->frame.mode = SWCO__FRAME_EOF;
        return 0;
    case SP_LENGTH_CHECK:
        if ((rc = parse_bool(value, &b)) < 0)
            return rc;
        if (b)
            lo->frame.mode = SWCO__FRAME_LENGTH;
        else if (lo->frame.mode == SWCO__FRAME_LENGTH)
            lo->frame.mode = SWCO__FRAME_NONE;
        return 0;
    case SP_PACKAGE_EOF: {
        size_t n = strlen(value);
        if (n == 0 || n > sizeof lo->frame.eof)
            return SWCO_EOPTVALUE;
        memset(lo->frame.eof, 0, sizeof lo->frame.eof);
        memcpy(lo->frame.eof, value, n);
        lo->frame.eof_len = n;
        return 0;
    }
    case SP_LENGTH_TYPE:
        if ((rc = parse_length_type(value, &size, &big)) < 0)
            return rc;
        lo->frame.len_size = size;
        lo->frame.big_endian = big;
        return 0;
    case SP_PROTOCOLS:
        if ((rc = parse_protocols(value, &min, &max)) < 0)
            return rc;
        lo->ssl_min_proto = min;
        lo->ssl_max_proto = max;
        return 0;
    }
    return SWCO_EOPTVALUE;
}

int swco__srv_option_set(swco_server_t *srv, swco__listener_t *l, const char *name,
                         const char *value)
{
    if (!srv)
        return -EINVAL;
    const opt_def_t *def = find(name);
    if (!def || (l && !(def->where & W_LIS)))
        return SWCO_EOPTION;
    if (srv->running && !def->live)
        return -EBUSY;
    if (!value)
        return SWCO_EOPTVALUE;
    int rc;
    if (l) {
        if ((rc = apply_lopt(def, &l->opt, value)) == 0)
            l->opt_own |= 1ull << def->group;
        return rc;
    }
    if (def->where & W_SRV) {
        if ((rc = apply_plain(def, &srv->opt, def->off, value)) < 0)
            return rc;
    }
    if (def->where & W_LIS) {
        if ((rc = apply_lopt(def, &srv->lopt, value)) < 0)
            return rc;
        for (int i = 0; i < srv->nlisteners; i++) {
            swco__listener_t *li = srv->listeners[i];
            if (!(li->opt_own & (1ull << def->group)) && (rc = apply_lopt(def, &li->opt, value)) < 0)
                return rc;
        }
    }
    return 0;
}

/* ------------------------------------------------------------- reading */

/* The shortest text that reads back as d. */
static int format_double(char *buf, size_t len, double d)
{
    for (int prec = 6; prec <= 17; prec++) {
        int n = snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return n;
    }
    return snprintf(buf, len, "%.17g", d);
}

long swco__srv_option_get(const swco_server_t *srv, const swco__listener_t *l, const char *name,
                          char *out, size_t out_len)
{
    if (!srv || (!out && out_len))
        return -EINVAL;
    const opt_def_t *def = find(name);
    if (!def || (l && !(def->where & W_LIS)))
        return SWCO_EOPTION;
    const swco__lopts_t *lo = l ? &l->opt : &srv->lopt;
    const void *base;
    size_t off;
    if (!l && (def->where & W_SRV)) {
        base = &srv->opt;
        off = def->off;
    } else {
        base = lo;
        off = def->where == W_BOTH ? def->loff : def->off;
    }
    const char *field = (const char *)base + off;
    char tmp[64] = "";
    const char *text = tmp;
    size_t n;
    switch (def->special) {
    case SP_EOF_CHECK:
        snprintf(tmp, sizeof tmp, "%d", lo->frame.mode == SWCO__FRAME_EOF);
        break;
    case SP_EOF_SPLIT:
        snprintf(tmp, sizeof tmp, "%d", lo->frame.mode == SWCO__FRAME_EOF && lo->eof_split);
        break;
    case SP_LENGTH_CHECK:
        snprintf(tmp, sizeof tmp, "%d", lo->frame.mode == SWCO__FRAME_LENGTH);
        break;
    case SP_PACKAGE_EOF:
        memcpy(tmp, lo->frame.eof, lo->frame.eof_len);
        tmp[lo->frame.eof_len] = 0;
        break;
    case SP_LENGTH_TYPE:
        tmp[0] = length_type_letter(&lo->frame);
        tmp[1] = 0;
        break;
    case SP_PROTOCOLS: {
        int min = lo->ssl_min_proto ? lo->ssl_min_proto : SWCO_TLS1_2;
        int max = lo->ssl_max_proto ? lo->ssl_max_proto : SWCO_TLS1_3;
        snprintf(tmp, sizeof tmp, "%s", min == max ? (min == SWCO_TLS1_2 ? "TLSv1.2" : "TLSv1.3")
                                                   : "TLSv1.2,TLSv1.3");
        break;
    }
    default:
        switch (def->type) {
        case T_INT:
        case T_BOOL:
            snprintf(tmp, sizeof tmp, "%d", *(const int *)field);
            break;
        case T_LONG:
            snprintf(tmp, sizeof tmp, "%ld", *(const long *)field);
            break;
        case T_SIZE:
            snprintf(tmp, sizeof tmp, "%zu", *(const size_t *)field);
            break;
        case T_DOUBLE:
            format_double(tmp, sizeof tmp, *(const double *)field);
            break;
        case T_STR:
            text = *(char *const *)field ? *(char *const *)field : "";
            break;
        }
    }
    n = strlen(text);
    if (n + 1 > out_len)
        return -ERANGE;
    memcpy(out, text, n + 1);
    return (long)n;
}

/* ------------------------------------------------------------- defaults */

void swco__srv_opts_default(swco__srv_opts_t *o, swco__lopts_t *lo)
{
    if (o) {
        memset(o, 0, sizeof *o);
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        if (cpus < 1)
            cpus = 1;
        if (cpus > 256)
            cpus = 256;
        struct rlimit rl;
        long maxconn = 100000;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            (long)rl.rlim_cur < maxconn)
            maxconn = (long)rl.rlim_cur;
        o->worker_num = (int)cpus;
        o->reactor_num = (int)cpus;
        o->max_connection = maxconn;
        o->backlog = 511;
        o->dispatch_mode = SWCO_DISPATCH_FD_MOD;
        o->buffer_output_size = 2u << 20;
        o->socket_buffer_size = 2u << 20;
        o->enable_coroutine = 1;
        o->max_coroutine = swco_coroutine_get_max();
        o->max_wait_time = 3.0;
        o->reload_async = 1;
    }
    if (lo) {
        memset(lo, 0, sizeof *lo);
        lo->frame.mode = SWCO__FRAME_NONE;
        memcpy(lo->frame.eof, "\r\n\r\n", 4);
        lo->frame.eof_len = 4;
        lo->frame.len_size = 4;
        lo->frame.big_endian = 1;
        lo->frame.len_offset = 0;
        lo->frame.body_offset = 4;
        lo->frame.max_len = 2u << 20;
        lo->nodelay = 1;
        lo->keepidle = 3600;
        lo->keepinterval = 60;
        lo->keepcount = 5;
        lo->http.parse_post = lo->http.parse_cookie = lo->http.parse_files = 1;
        lo->http.compression = 1;
        lo->http.compression_level = 1;
        lo->http.compression_min_length = 20;
        lo->http.max_uri_length = 8192;
        lo->http.max_header_size = 32768;
        lo->http.header_timeout = 30;
        lo->http.body_timeout = 60;
        lo->http.keepalive_timeout = 60;
        lo->http.ws_max_frame_size = 2u << 20;
    }
}

static void free_str(char **p)
{
    free(*p);
    *p = NULL;
}

void swco__srv_opts_free(swco__srv_opts_t *o, swco__lopts_t *lo)
{
    if (o) {
        free_str(&o->pid_file);
        free_str(&o->log_file);
    }
    if (lo) {
        free_str(&lo->ssl_cert_file);
        free_str(&lo->ssl_key_file);
        free_str(&lo->ssl_ca_file);
        free_str(&lo->ssl_ciphers);
        free_str(&lo->http.upload_tmp_dir);
        free_str(&lo->http.document_root);
        free_str(&lo->http.static_locations);
        free_str(&lo->http.index_files);
    }
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

void swco__lopts_copy(swco__lopts_t *dst, const swco__lopts_t *src)
{
    *dst = *src;
    dst->ssl_cert_file = dup_or_null(src->ssl_cert_file);
    dst->ssl_key_file = dup_or_null(src->ssl_key_file);
    dst->ssl_ca_file = dup_or_null(src->ssl_ca_file);
    dst->ssl_ciphers = dup_or_null(src->ssl_ciphers);
    dst->http.upload_tmp_dir = dup_or_null(src->http.upload_tmp_dir);
    dst->http.document_root = dup_or_null(src->http.document_root);
    dst->http.static_locations = dup_or_null(src->http.static_locations);
    dst->http.index_files = dup_or_null(src->http.index_files);
}

/* ---------------------------------------------------------------- public */

int swco_server_set(swco_server_t *srv, const char *name, const char *value)
{
    return swco__srv_ret(swco__srv_option_set(srv, NULL, name, value));
}

int swco_server_set_list(swco_server_t *srv, const char *const *names, const char *const *values,
                         size_t n, size_t *bad_index)
{
    if (!srv || (n && (!names || !values))) {
        if (bad_index)
            *bad_index = 0;
        return swco__fail(-EINVAL);
    }
    for (size_t i = 0; i < n; i++) {
        int rc = swco__srv_option_set(srv, NULL, names[i], values[i]);
        if (rc < 0) {
            if (bad_index)
                *bad_index = i;
            return swco__fail(rc);
        }
    }
    if (bad_index)
        *bad_index = n;
    return 0;
}

long swco_server_get_option(const swco_server_t *srv, const char *name, char *out, size_t out_len)
{
    long rc = swco__srv_option_get(srv, NULL, name, out, out_len);
    return rc < 0 ? swco__fail((int)rc) : rc;
}

int swco_server_listener_set(swco_server_t *srv, int listener, const char *name,
                             const char *value)
{
    if (!srv || listener < 0 || listener >= srv->nlisteners)
        return swco__fail(-EINVAL);
    return swco__srv_ret(swco__srv_option_set(srv, srv->listeners[listener], name, value));
}
