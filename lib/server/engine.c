/* One event loop's listeners and connections: accept, read, frame, write,
 * output buffers, TLS, datagrams, heartbeat and the PROXY header.
 *
 * Everything runs in loop callbacks on the engine's own thread; nothing
 * here holds a coroutine.  An idle connection costs its table slot, one
 * small econn_t and the loop's fd slot: reads land in one scratch buffer
 * per engine, and a connection keeps a buffer of its own only while it
 * holds part of a packet (framed listeners) or output the socket did not
 * take yet; both are freed as soon as they drain.
 *
 * Hooks may call back into the engine (send, close, pause) from inside a
 * callback; an econn_t is held (hold count) by every frame that still uses
 * it after a hook ran, and freed when the last lets go of a closed one. */
#include "server/server_int.h"

#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SCRATCH_SIZE (64 * 1024)  /* one read; also the largest UDP datagram */
#define FILE_BUF_SIZE (16 * 1024) /* TLS sendfile: file bytes per SSL_write */
#define ACCEPT_BATCH 64           /* accepts per wakeup, so reads get a turn */
#define DGRAM_BATCH 64            /* datagrams per wakeup */
#define READ_BATCH 4              /* plain reads per wakeup of one connection */
#define TLS_READ_BATCH 16         /* TLS reads (records) per wakeup */
#define CHUNK_MIN 4096            /* smallest output chunk (small sends share it) */
#define SENDFILE_STEP (1 << 20)   /* bytes per sendfile(2) call */
#define DEFAULT_OUTPUT_SIZE (2u << 20)
#define DEFAULT_PACKAGE_MAX (2u << 20)
#define HANDSHAKE_TIMEOUT_MS 10000 /* TLS handshake and PROXY header */
#define CLOSE_FLUSH_TIMEOUT_MS 60000 /* graceful close: reset after so long without progress */
#define EMFILE_BACKOFF_MS 100

/* ------------------------------------------------------------ structures */

/* One piece of queued output: bytes, or a part of a file. */
typedef struct chunk {
    struct chunk *next;
    int file_fd;          /* >= 0: a file part */
    off_t file_off;       /* file: where the next byte comes from */
    size_t len;           /* data: bytes stored; file: bytes left */
    size_t off;           /* data: bytes already written */
    size_t cap;           /* data: room in data[] */
    char data[];
} chunk_t;

/* A coroutine waiting in swco__engine_send (its stack holds this). */
typedef struct ewait {
    swco__waiter_t w;
    struct ewait *next;
    struct econn *ec;
    int room;             /* 1: for room in the buffer; 0: for bytes written */
    size_t need;          /* room: bytes that must fit */
    int64_t target;       /* written: c->send_bytes to reach */
} ewait_t;

typedef struct elisten elisten_t;

enum {
    EC_ANNOUNCED = 1,     /* connect hook ran: close hook runs at the end */
    EC_CLOSED = 2,        /* fd closed, slot released */
    EC_CLOSING = 4,       /* graceful close: flushing, then close */
    EC_FULL = 8,          /* buffer hook said full, not yet empty */
    EC_PROXY = 16,        /* waiting for the PROXY header */
    EC_TLS_WW = 32,       /* TLS handshake wants the socket writable */
    EC_RESUME_POSTED = 64, /* a read is deferred to the next turn */
    EC_EOF = 128          /* the peer's EOF, kept open by the eof hook: no reads */
};

/* A connection's engine state (c->io). */
typedef struct econn {
    swco__engine_t *e;
    swco__conn_t *c;      /* NULL once closed */
    elisten_t *el;
    swco__list_t link;    /* e->conns_list */
    chunk_t *out, *out_tail;
    char *in;             /* part of a packet (framed listeners) */
    uint32_t in_len, in_cap, scanned;
    uint16_t hold;
    uint8_t flags;
    uint8_t interest;     /* SWCO_EVENT_* the loop watches */
    ewait_t *room_waiters, *written_waiters;
    swco_socket_t *tls;   /* TLS state (ssl.c's), NULL for plain */
    long timer;           /* handshake / close-flush deadline */
    int fd;
} econn_t;

struct elisten {
    swco__engine_t *e;
    swco__listener_t *l;
    int fd;
    int active;           /* registered in the loop */
    long backoff_timer;
    swco__framing_t frame; /* l's framing, package_max_length defaulted */
};

struct swco__engine {
    swco_server_t *srv;
    swco__conn_table_t *conns;
    int reactor_id;
    swco__engine_hooks_t hooks;
    swco__engine_eof_fn eof;  /* NULL: the peer's EOF closes */
    void *ud;
    elisten_t **ls;
    int nls;
    int accepting;
    swco__list_t conns_list;
    long count;
    long buffers;         /* chunks and partial packets allocated now */
    char *scratch;
    char *fbuf;           /* TLS sendfile */
    long hb_timer;
    long hb_ms;
};

static void conn_event(int fd, int events, void *arg);
static void close_now(econn_t *ec, int reset);
static void flush(econn_t *ec);
static void resume_read(void *arg);

/* --------------------------------------------------------------- helpers */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t high_mark(const swco__engine_t *e)
{
    size_t h = e->srv ? e->srv->opt.buffer_output_size : 0;
    return h ? h : DEFAULT_OUTPUT_SIZE;
}

static void stat_add(swco__engine_t *e, int64_t *field, int64_t n)
{
    (void)e;
    __atomic_add_fetch(field, n, __ATOMIC_RELAXED);
}

#define SHM_ADD(e, name, n)                                                                     \
    do {                                                                                        \
        if ((e)->srv && (e)->srv->shm)                                                          \
            stat_add((e), &(e)->srv->shm->name, (n));                                           \
    } while (0)

static void hold(econn_t *ec) { ec->hold++; }

static void econn_free(econn_t *ec)
{
    if (ec->in) {
        free(ec->in);
        ec->e->buffers--;
    }
    free(ec);
}

/* Let go of ec; frees a closed one nobody holds.  Returns 1 when ec is
 * closed (whether or not freed): the caller must not touch it then. */
static int release(econn_t *ec)
{
    int closed = (ec->flags & EC_CLOSED) != 0;
    if (--ec->hold == 0 && closed)
        econn_free(ec);
    return closed;
}

static void set_interest(econn_t *ec)
{
    if (ec->flags & EC_CLOSED)
        return;
    int want = 0;
    if (!(ec->flags & (EC_CLOSING | EC_EOF)) &&
        (!ec->c->paused || !(ec->flags & EC_ANNOUNCED)))
        want |= SWCO_EVENT_READ;
    if (ec->out || (ec->flags & EC_TLS_WW))
        want |= SWCO_EVENT_WRITE;
    if (want != ec->interest && swco_event_modify(ec->fd, want) == 0)
        ec->interest = (uint8_t)want;
}

static void chunk_free(econn_t *ec, chunk_t *ch)
{
    if (ch->file_fd >= 0)
        close(ch->file_fd);
    free(ch);
    ec->e->buffers--;
}

static void addr_of(const struct sockaddr_storage *ss, socklen_t len, char *text, size_t text_len,
                    int *port)
{
    *port = 0;
    text[0] = 0;
    if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
        size_t max = len > offsetof(struct sockaddr_un, sun_path)
                         ? len - offsetof(struct sockaddr_un, sun_path)
                         : 0;
        if (max > sizeof un->sun_path)
            max = sizeof un->sun_path;
        size_t n = strnlen(un->sun_path, max);
        if (n >= text_len)
            n = text_len - 1;
        memcpy(text, un->sun_path, n);
        text[n] = 0;
        return;
    }
    swco__addr_t a;
    memset(&a, 0, sizeof a);
    memcpy(&a.ss, ss, len < sizeof a.ss ? len : sizeof a.ss);
    a.len = len;
    swco__addr_describe(&a);
    snprintf(text, text_len, "%s", a.text);
    *port = a.port;
}

/* ---------------------------------------------------------------- waits */

static void ewait_unlink(ewait_t *w)
{
    econn_t *ec = w->ec;
    ewait_t **pp = w->room ? &ec->room_waiters : &ec->written_waiters;
    for (; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    w->next = NULL;
}

static void ewait_cancel(swco__waiter_t *w) { ewait_unlink(SWCO__CONTAINER(w, ewait_t, w)); }

/* Wait (in a coroutine) on ec's room or written list, FIFO.  Returns 0
 * when woken for progress, SWCO_ENOCONN when the connection closed, or
 * the wait's error (-ECANCELED). */
static int ewait_on(econn_t *ec, ewait_t *w)
{
    w->ec = ec;
    w->next = NULL;
    w->w.what = w->room ? "server send (buffer full)" : "server send (until written)";
    w->w.cancel = ewait_cancel;
    ewait_t **pp = w->room ? &ec->room_waiters : &ec->written_waiters;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
    hold(ec);
    int rc = swco__wait(&w->w, -1);
    if (rc != 0 && !(ec->flags & EC_CLOSED))
        ewait_unlink(w); /* cancelled, or the wait could not begin */
    if (release(ec))
        return SWCO_ENOCONN;
    return rc;
}

static void wake_list(ewait_t **head, int result)
{
    while (*head) {
        ewait_t *w = *head;
        *head = w->next;
        w->next = NULL;
        swco__co_wake(&w->w, result);
    }
}

/* After the output queue shrank: the waiters it satisfies, the buffer
 * hook's "empty", and a graceful close that was waiting for the end. */
static void after_progress(econn_t *ec)
{
    swco__engine_t *e = ec->e;
    hold(ec);
    for (ewait_t **pp = &ec->written_waiters; *pp && !(ec->flags & EC_CLOSED);) {
        ewait_t *w = *pp;
        if (ec->c->send_bytes >= w->target) {
            *pp = w->next;
            w->next = NULL;
            swco__co_wake(&w->w, 0);
            pp = &ec->written_waiters; /* the list may have changed meanwhile */
        } else {
            pp = &w->next;
        }
    }
    size_t high = high_mark(e);
    if (!(ec->flags & EC_CLOSED) && (ec->flags & EC_FULL) &&
        (size_t)ec->c->send_queued <= high / 2) {
        ec->flags &= (uint8_t)~EC_FULL;
        if (e->hooks.buffer)
            e->hooks.buffer(e->ud, e, ec->c, 0);
    }
    while (!(ec->flags & EC_CLOSED) && ec->room_waiters) {
        ewait_t *w = ec->room_waiters;
        size_t q = (size_t)ec->c->send_queued;
        if (q != 0 && q + w->need > high)
            break;
        ec->room_waiters = w->next;
        w->next = NULL;
        swco__co_wake(&w->w, 0); /* runs now and queues its data */
    }
    if (!(ec->flags & EC_CLOSED) && (ec->flags & EC_CLOSING) && !ec->out)
        close_now(ec, 0);
    release(ec);
}

/* --------------------------------------------------------------- output */

/* Write what the socket takes now: bytes written (0 when it takes none),
 * or a negative code (the connection is broken). */
static long write_some(econn_t *ec, const char *p, size_t len)
{
    if (ec->tls) {
        int want = 0;
        long n = swco__ssl_write(ec->tls, p, len, &want);
        return n == -EAGAIN ? 0 : n;
    }
    for (;;) {
        ssize_t n = send(ec->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return -errno;
    }
}

static void wrote(econn_t *ec, size_t n)
{
    swco__conn_t *c = ec->c;
    c->send_bytes += (int64_t)n;
    c->last_send_time = wall_now();
    SHM_ADD(ec->e, send_bytes, (int64_t)n);
}

/* Whether the connection may write now (TLS handshake and PROXY header
 * done). */
static int can_write(const econn_t *ec)
{
    return (ec->flags & (EC_ANNOUNCED | EC_CLOSED)) == EC_ANNOUNCED ||
           ((ec->flags & EC_CLOSING) && !(ec->flags & EC_CLOSED) && (!ec->tls || ec->tls->ssl_ready));
}

/* One step of a file part: bytes written, 0 when the socket is full, < 0
 * on error. */
static long write_file(econn_t *ec, chunk_t *ch)
{
    size_t step = ch->len < SENDFILE_STEP ? ch->len : SENDFILE_STEP;
    if (!ec->tls) {
        for (;;) {
            off_t off = ch->file_off;
            ssize_t n = sendfile(ec->fd, ch->file_fd, &off, step);
            if (n > 0) {
                ch->file_off = off;
                return n;
            }
            if (n == 0)
                return -EIO; /* the file shrank */
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
        }
    }
    swco__engine_t *e = ec->e;
    if (!e->fbuf && !(e->fbuf = malloc(FILE_BUF_SIZE)))
        return 0; /* try again on the next writable turn */
    if (step > FILE_BUF_SIZE)
        step = FILE_BUF_SIZE;
    ssize_t r = pread(ch->file_fd, e->fbuf, step, ch->file_off);
    if (r <= 0)
        return r == 0 ? -EIO : -errno;
    long n = write_some(ec, e->fbuf, (size_t)r);
    if (n > 0)
        ch->file_off += n;
    return n;
}

/* Write queued output until the socket is full or the queue empty. */
static void flush(econn_t *ec)
{
    if (!can_write(ec))
        return;
    int progress = 0;
    while (ec->out) {
        chunk_t *ch = ec->out;
        long n;
        if (ch->file_fd >= 0)
            n = write_file(ec, ch);
        else
            n = write_some(ec, ch->data + ch->off, ch->len - ch->off);
        if (n < 0) {
            swco__log(SWCO_LOG_DEBUG, "server: write to fd %d: %s", ec->fd, swco_strerror((int)n));
            close_now(ec, 1);
            return;
        }
        if (n == 0)
            break;
        progress = 1;
        wrote(ec, (size_t)n);
        ec->c->send_queued -= n;
        if (ch->file_fd >= 0) {
            ch->len -= (size_t)n;
            if (ch->len > 0)
                continue;
        } else {
            ch->off += (size_t)n;
            if (ch->off < ch->len)
                continue;
        }
        ec->out = ch->next;
        if (!ec->out)
            ec->out_tail = NULL;
        chunk_free(ec, ch);
    }
    set_interest(ec);
    if (progress || !ec->out)
        after_progress(ec);
}

/* Queue len bytes at the end of ec's output. */
static int queue_data(econn_t *ec, const char *p, size_t len)
{
    chunk_t *t = ec->out_tail;
    if (t && t->file_fd < 0 && t->cap - t->len >= len) {
        memcpy(t->data + t->len, p, len);
        t->len += len;
    } else {
        size_t cap = len < CHUNK_MIN ? CHUNK_MIN : len;
        chunk_t *ch = malloc(sizeof *ch + cap);
        if (!ch)
            return -ENOMEM;
        ch->next = NULL;
        ch->file_fd = -1;
        ch->file_off = 0;
        ch->len = len;
        ch->off = 0;
        ch->cap = cap;
        memcpy(ch->data, p, len);
        if (t)
            t->next = ch;
        else
            ec->out = ch;
        ec->out_tail = ch;
        ec->e->buffers++;
    }
    ec->c->send_queued += (int64_t)len;
    return 0;
}

static void check_full(econn_t *ec)
{
    swco__engine_t *e = ec->e;
    if (!(ec->flags & EC_FULL) && (size_t)ec->c->send_queued >= high_mark(e)) {
        ec->flags |= EC_FULL;
        if (e->hooks.buffer)
            e->hooks.buffer(e->ud, e, ec->c, 1);
    }
}

static void check_full_refused(econn_t *ec)
{
    swco__engine_t *e = ec->e;
    if (!(ec->flags & EC_FULL)) {
        ec->flags |= EC_FULL;
        if (e->hooks.buffer)
            e->hooks.buffer(e->ud, e, ec->c, 1);
    }
}

static econn_t *econn_of(swco__engine_t *e, swco__conn_t *c)
{
    econn_t *ec = c ? c->io : NULL;
    if (!ec || ec->e != e || ec->c != c || (ec->flags & (EC_CLOSED | EC_CLOSING)) ||
        c->state != SWCO__CONN_OPEN)
        return NULL;
    return ec;
}

long swco__engine_send(swco__engine_t *e, swco__conn_t *c, const void *data, size_t len,
                       int flags)
{
    if (!e || (!data && len))
        return -EINVAL;
    econn_t *ec = econn_of(e, c);
    if (!ec)
        return SWCO_ENOCONN;
    if (len > LONG_MAX)
        return -EINVAL;
    size_t high = high_mark(e);
    /* Refused while output is queued and this would pass the high mark
     * (an empty buffer takes any size, so every send can go through), and
     * while earlier senders wait for room (their data goes first). */
    while (ec->room_waiters ||
           (c->send_queued > 0 && (size_t)c->send_queued + len > high)) {
        /* The high mark is reached for this send even if no send passed
         * it: the buffer hook says full, whether this sender waits or not. */
        hold(ec);
        check_full_refused(ec);
        if (release(ec))
            return SWCO_ENOCONN;
        if (!(flags & SWCO__SEND_YIELD) || swco__co_can_wait() != 0)
            return -ENOBUFS;
        ewait_t w = {.room = 1, .need = len};
        int rc = ewait_on(ec, &w);
        if (rc != 0)
            return rc;
        if (!econn_of(e, c) || c->io != ec)
            return SWCO_ENOCONN;
        break; /* woken for room (it runs at once: the room is still there) */
    }
    const char *p = data;
    size_t left = len;
    hold(ec);
    if (!ec->out && can_write(ec) && left > 0) {
        long n = write_some(ec, p, left);
        if (n < 0) {
            close_now(ec, 1);
            release(ec);
            return n;
        }
        if (n > 0)
            wrote(ec, (size_t)n);
        p += n;
        left -= (size_t)n;
    }
    if (left > 0) {
        if (queue_data(ec, p, left) != 0) {
            release(ec);
            if (left == len)
                return -ENOMEM;
            close_now(ec, 1); /* part of the data went out: the stream is broken */
            return -ENOMEM;
        }
        set_interest(ec);
        check_full(ec);
    }
    if (release(ec))
        return SWCO_ENOCONN;
    if (flags & SWCO__SEND_WAIT) {
        int64_t target = c->send_bytes + c->send_queued;
        while (c->send_bytes < target) {
            if (swco__co_can_wait() != 0)
                return SWCO_ENOTCO;
            ewait_t w = {.room = 0, .target = target};
            int rc = ewait_on(ec, &w);
            if (rc != 0)
                return rc;
            if (c->io != ec || (ec->flags & EC_CLOSED))
                return SWCO_ENOCONN;
        }
    }
    return (long)len;
}

long long swco__engine_sendfile(swco__engine_t *e, swco__conn_t *c, const char *path,
                                long long offset, long long length)
{
    if (!e || !path || offset < 0 || length < 0)
        return -EINVAL;
    econn_t *ec = econn_of(e, c);
    if (!ec)
        return SWCO_ENOCONN;
    int ffd = open(path, O_RDONLY | O_CLOEXEC);
    if (ffd < 0)
        return -errno;
    struct stat st;
    if (fstat(ffd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        close(ffd);
        return rc;
    }
    if (offset > st.st_size || (length > 0 && length > st.st_size - offset)) {
        close(ffd);
        return -EINVAL;
    }
    if (length == 0)
        length = st.st_size - offset;
    if (length == 0) {
        close(ffd);
        return 0;
    }
    chunk_t *ch = malloc(sizeof *ch);
    if (!ch) {
        close(ffd);
        return -ENOMEM;
    }
    ch->next = NULL;
    ch->file_fd = ffd;
    ch->file_off = (off_t)offset;
    ch->len = (size_t)length;
    ch->off = 0;
    ch->cap = 0;
    if (ec->out_tail)
        ec->out_tail->next = ch;
    else
        ec->out = ch;
    ec->out_tail = ch;
    e->buffers++;
    c->send_queued += length;
    hold(ec);
    if (ec->out == ch)
        flush(ec);
    if (!(ec->flags & EC_CLOSED)) {
        set_interest(ec);
        check_full(ec);
    }
    release(ec);
    return length;
}

/* ---------------------------------------------------------------- close */

static void close_now(econn_t *ec, int reset)
{
    if (ec->flags & EC_CLOSED)
        return;
    swco__engine_t *e = ec->e;
    swco__conn_t *c = ec->c;
    hold(ec);
    ec->flags |= EC_CLOSED;
    swco__list_unlink(&ec->link);
    e->count--;
    if (ec->timer) {
        swco__timer_del(ec->timer);
        ec->timer = 0;
    }
    swco_event_del(ec->fd);
    while (ec->out) {
        chunk_t *ch = ec->out;
        ec->out = ch->next;
        chunk_free(ec, ch);
    }
    ec->out_tail = NULL;
    c->send_queued = 0;
    /* ec->in goes with ec: a hook may still be reading a packet in it */
    if (ec->tls) {
        if (reset)
            ec->tls->ssl_ready = 0; /* no close_notify */
        swco__ssl_detach(ec->tls);
        free(ec->tls);
        ec->tls = NULL;
    }
    if (reset) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(ec->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    /* The kernel fd is closed only once the slot is released: until then
     * no accept (on another loop sharing the table: THREAD mode, PROCESS
     * mode's reactor threads) can get the same number and reopen the slot
     * under us, which made the close hook name the new connection and the
     * release free it. */
    __atomic_store_n(&c->state, SWCO__CONN_CLOSING, __ATOMIC_RELEASE);
    SHM_ADD(e, close_count, 1);
    SHM_ADD(e, connection_num, -1);
    wake_list(&ec->room_waiters, SWCO_ENOCONN);
    wake_list(&ec->written_waiters, SWCO_ENOCONN);
    if ((ec->flags & EC_ANNOUNCED) && e->hooks.close)
        e->hooks.close(e->ud, e, c);
    swco__conn_release(e->conns, c);
    ec->c = NULL;
    close(ec->fd);
    release(ec);
}

static void close_timeout(long id, void *arg)
{
    (void)id;
    econn_t *ec = arg;
    ec->timer = 0;
    if (ec->flags & EC_CLOSING) {
        /* a deadline on progress, not on the whole flush: a slow reader
         * that keeps reading gets all of it */
        double quiet_ms = (wall_now() - ec->c->last_send_time) * 1000;
        if (quiet_ms >= 0 && quiet_ms < CLOSE_FLUSH_TIMEOUT_MS) {
            long t = swco__timer_add(CLOSE_FLUSH_TIMEOUT_MS - (long)quiet_ms, close_timeout, ec);
            if (t > 0) {
                ec->timer = t;
                return;
            }
        }
    }
    swco__log(SWCO_LOG_INFO, "server: fd %d: %s timed out, closing", ec->fd,
              (ec->flags & EC_CLOSING) ? "flush before close" : "handshake");
    close_now(ec, 1);
}

int swco__engine_close(swco__engine_t *e, swco__conn_t *c, int reset)
{
    econn_t *ec = econn_of(e, c);
    if (!ec)
        return SWCO_ENOCONN;
    if (reset || !ec->out || !can_write(ec)) {
        close_now(ec, reset);
        return 0;
    }
    /* Graceful: no more reads or sends, the output goes first. */
    ec->flags |= EC_CLOSING;
    __atomic_store_n(&c->state, SWCO__CONN_CLOSING, __ATOMIC_RELEASE);
    if (ec->timer)
        swco__timer_del(ec->timer);
    long id = swco__timer_add(CLOSE_FLUSH_TIMEOUT_MS, close_timeout, ec);
    ec->timer = id > 0 ? id : 0;
    set_interest(ec);
    return 0;
}

int swco__engine_pause(swco__engine_t *e, swco__conn_t *c, int pause)
{
    econn_t *ec = econn_of(e, c);
    if (!ec)
        return SWCO_ENOCONN;
    int was = c->paused;
    c->paused = pause != 0;
    set_interest(ec);
    /* TLS may hold decrypted bytes the socket no longer signals: read them
     * on the next turn. */
    if (was && !pause && ec->tls && !(ec->flags & EC_RESUME_POSTED)) {
        hold(ec);
        if (swco_event_defer(resume_read, ec, NULL) == 0)
            ec->flags |= EC_RESUME_POSTED;
        else
            release(ec);
    }
    return 0;
}

/* ---------------------------------------------------------------- input */

static void announce(econn_t *ec)
{
    swco__engine_t *e = ec->e;
    if (ec->timer) {
        swco__timer_del(ec->timer);
        ec->timer = 0;
    }
    ec->flags |= EC_ANNOUNCED;
    ec->c->ssl = ec->tls != NULL;
    hold(ec);
    if (e->hooks.connect)
        e->hooks.connect(e->ud, e, ec->c);
    if (!(ec->flags & EC_CLOSED)) {
        set_interest(ec);
        if (ec->out)
            flush(ec); /* sent before the handshake ended */
    }
    release(ec);
}

/* Keep buf[0..len) as the start of the next packet. */
static int keep_partial(econn_t *ec, const char *buf, size_t len)
{
    if (len == 0) {
        if (ec->in) {
            free(ec->in);
            ec->in = NULL;
            ec->in_cap = 0;
            ec->e->buffers--;
        }
        ec->in_len = 0;
        return 0;
    }
    if (ec->in && buf >= ec->in && buf < ec->in + ec->in_cap) {
        memmove(ec->in, buf, len);
        ec->in_len = (uint32_t)len;
        return 0;
    }
    size_t cap = len < 256 ? 256 : len;
    char *p = malloc(cap);
    if (!p)
        return -ENOMEM;
    memcpy(p, buf, len);
    if (ec->in)
        free(ec->in);
    else
        ec->e->buffers++;
    ec->in = p;
    ec->in_len = (uint32_t)len;
    ec->in_cap = (uint32_t)cap;
    return 0;
}

/* Deliver the complete packets of buf[0..len); returns the bytes used, or
 * -1 when the connection closed (buf may be gone then). */
static long frame_out(econn_t *ec, const char *buf, size_t len)
{
    swco__engine_t *e = ec->e;
    const swco__framing_t *f = &ec->el->frame;
    int split = f->mode != SWCO__FRAME_EOF || ec->el->l->opt.eof_split;
    size_t off = 0;
    size_t scanned = ec->scanned;
    while (off < len) {
        long n = swco__framing_check(f, buf + off, len - off, &scanned);
        if (n == 0)
            break;
        if (n < 0) {
            swco__log(SWCO_LOG_WARNING, "server: fd %d: %s, closing", ec->fd,
                      n == SWCO_EPKGTOOBIG ? "packet exceeds package_max_length"
                                           : "bad packet length");
            close_now(ec, 1);
            return -1;
        }
        size_t total = (size_t)n;
        if (!split) {
            /* open_eof_check: everything up to the last delimiter at once */
            long m;
            size_t s2 = 0;
            while (off + total < len &&
                   (m = swco__framing_check(f, buf + off + total, len - off - total, &s2)) > 0)
                total += (size_t)m;
            scanned = s2 > 0 ? s2 : 0;
        }
        hold(ec);
        if (e->hooks.receive)
            e->hooks.receive(e->ud, e, ec->c, buf + off, total);
        if (release(ec))
            return -1;
        off += total;
    }
    ec->scanned = (uint32_t)scanned;
    return (long)off;
}

/* Bytes read from the connection: to the receive hook as they are, or as
 * packets, keeping only an incomplete one. */
static void deliver(econn_t *ec, const char *data, size_t n)
{
    swco__engine_t *e = ec->e;
    const swco__framing_t *f = &ec->el->frame;
    if (f->mode == SWCO__FRAME_NONE && !ec->in) {
        if (e->hooks.receive)
            e->hooks.receive(e->ud, e, ec->c, data, n);
        return;
    }
    if (!ec->in) {
        long used = frame_out(ec, data, n);
        if (used < 0)
            return;
        if (keep_partial(ec, data + used, n - (size_t)used) != 0)
            close_now(ec, 1);
        return;
    }
    size_t need = (size_t)ec->in_len + n;
    if (need > ec->in_cap) {
        size_t cap = (size_t)ec->in_cap * 2;
        if (cap < need)
            cap = need;
        char *p = cap <= UINT32_MAX ? realloc(ec->in, cap) : NULL;
        if (!p) {
            close_now(ec, 1);
            return;
        }
        ec->in = p;
        ec->in_cap = (uint32_t)cap;
    }
    memcpy(ec->in + ec->in_len, data, n);
    ec->in_len = (uint32_t)need;
    hold(ec);
    long used = frame_out(ec, ec->in, ec->in_len);
    if (used >= 0 && !(ec->flags & EC_CLOSED))
        keep_partial(ec, ec->in + used, ec->in_len - (size_t)used);
    release(ec);
}

/* The PROXY header: peek, parse, and take from the socket exactly the
 * header's bytes, so what follows (a TLS hello, the first request) is
 * read as usual.  While the header is incomplete every byte seen belongs
 * to it: those are taken and kept in ec->in. */
static void proxy_step(econn_t *ec)
{
    swco__engine_t *e = ec->e;
    ssize_t n;
    do
        n = recv(ec->fd, e->scratch, SCRATCH_SIZE, MSG_PEEK);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        close_now(ec, n < 0);
        return;
    }
    const char *buf = e->scratch;
    size_t have = ec->in_len, total = have + (size_t)n;
    if (have > 0) {
        if (total > ec->in_cap) {
            char *p = realloc(ec->in, total);
            if (!p) {
                close_now(ec, 1);
                return;
            }
            ec->in = p;
            ec->in_cap = (uint32_t)total;
        }
        memcpy(ec->in + have, e->scratch, (size_t)n);
        buf = ec->in;
    }
    swco__proxy_hdr_t hdr;
    memset(&hdr, 0, sizeof hdr);
    long r = swco__proxy_parse(buf, total, &hdr);
    if (r < 0 || (r == 0 && total > 65536 + 16) || (size_t)r > total ||
        (r > 0 && (size_t)r < have)) {
        swco__log(SWCO_LOG_INFO, "server: fd %d from %s: bad PROXY protocol header, closing",
                  ec->fd, ec->c->addr);
        close_now(ec, 1);
        return;
    }
    size_t take = r == 0 ? (size_t)n : (size_t)r - have;
    if (r == 0 && have == 0) {
        if (keep_partial(ec, e->scratch, (size_t)n) != 0) {
            close_now(ec, 1);
            return;
        }
    } else if (r == 0) {
        ec->in_len = (uint32_t)total;
    }
    /* take the bytes used from the socket (they are there: peeked) */
    ssize_t got;
    do
        got = recv(ec->fd, e->scratch, take, 0);
    while (got < 0 && errno == EINTR);
    if (got != (ssize_t)take) {
        close_now(ec, 1);
        return;
    }
    if (r == 0)
        return;
    keep_partial(ec, NULL, 0);
    ec->scanned = 0;
    ec->flags &= (uint8_t)~EC_PROXY;
    if (!hdr.local) {
        if (!hdr.src.text[0])
            swco__addr_describe(&hdr.src);
        snprintf(ec->c->addr, sizeof ec->c->addr, "%s", hdr.src.text);
        ec->c->port = hdr.src.port;
    }
    if (!ec->tls)
        announce(ec);
}

static void conn_read(econn_t *ec)
{
    swco__engine_t *e = ec->e;
    hold(ec);
    if (ec->flags & EC_PROXY) {
        proxy_step(ec);
        if (ec->flags & (EC_CLOSED | EC_PROXY)) {
            release(ec);
            return;
        }
    }
    for (int i = 0;; i++) {
        if ((ec->flags & (EC_CLOSED | EC_CLOSING | EC_EOF)) ||
            (ec->c->paused && (ec->flags & EC_ANNOUNCED)))
            break;
        long n;
        if (ec->tls) {
            if (i >= TLS_READ_BATCH) {
                /* OpenSSL may hold decrypted bytes the socket will not
                 * signal again: come back on the next turn, after others */
                if (!(ec->flags & EC_RESUME_POSTED)) {
                    hold(ec);
                    if (swco_event_defer(resume_read, ec, NULL) == 0)
                        ec->flags |= EC_RESUME_POSTED;
                    else
                        release(ec);
                }
                break;
            }
            int want = 0;
            n = swco__ssl_read(ec->tls, e->scratch, SCRATCH_SIZE, &want);
            uint8_t ww = (n == -EAGAIN && want == SWCO_EVENT_WRITE) ? EC_TLS_WW : 0;
            if ((ec->flags & EC_TLS_WW) != ww) {
                ec->flags = (uint8_t)((ec->flags & ~EC_TLS_WW) | ww);
                set_interest(ec);
            }
            if (ec->tls->ssl_ready && !(ec->flags & EC_ANNOUNCED)) {
                announce(ec);
                if (ec->flags & EC_CLOSED)
                    break;
            }
        } else {
            if (i >= READ_BATCH)
                break;
            n = recv(ec->fd, e->scratch, SCRATCH_SIZE, 0);
            if (n < 0)
                n = -errno;
        }
        if (n > 0) {
            swco__conn_t *c = ec->c;
            c->recv_bytes += n;
            c->last_recv_time = wall_now();
            SHM_ADD(e, recv_bytes, n);
            deliver(ec, e->scratch, (size_t)n);
            if (!ec->tls && n < SCRATCH_SIZE)
                break;
            continue;
        }
        if (n == -EINTR)
            continue;
        if (n == -EAGAIN || n == -EWOULDBLOCK)
            break;
        if (n < 0 && !(ec->flags & EC_ANNOUNCED))
            swco__log(SWCO_LOG_DEBUG, "server: fd %d: handshake: %s", ec->fd,
                      swco_strerror((int)n));
        if (n == 0 && e->eof && (ec->flags & EC_ANNOUNCED) &&
            !(ec->flags & EC_CLOSING) && e->eof(e->ud, e, ec->c)) {
            /* the hook keeps it: no more reads, output as usual until
             * someone closes it */
            if (!(ec->flags & EC_CLOSED)) {
                ec->flags |= EC_EOF;
                set_interest(ec);
            }
            break;
        }
        if (n == 0 && ec->out && can_write(ec) && !(ec->flags & EC_CLOSING)) {
            /* the peer only shut its side: it may still read what is
             * queued for it (a half-close, as nc -N does) */
            swco__engine_close(e, ec->c, 0);
            break;
        }
        close_now(ec, n < 0); /* 0: the peer closed; < 0: broken */
        break;
    }
    release(ec);
}

static void conn_event(int fd, int events, void *arg)
{
    (void)fd;
    econn_t *ec = arg;
    hold(ec);
    if ((events & (SWCO_EVENT_WRITE | SWCO_EVENT_ERROR)) && ec->out)
        flush(ec);
    if ((events & SWCO_EVENT_ERROR) && (ec->flags & (EC_EOF | EC_CLOSED)) == EC_EOF) {
        /* both ways shut (or reset) after the peer's EOF: nothing more
         * can go out, and the error would be reported again each turn */
        close_now(ec, 1);
    }
    if (!(ec->flags & EC_CLOSED) &&
        ((events & (SWCO_EVENT_READ | SWCO_EVENT_ERROR)) ||
         ((events & SWCO_EVENT_WRITE) && (ec->flags & EC_TLS_WW))))
        conn_read(ec);
    release(ec);
}

static void resume_read(void *arg)
{
    econn_t *ec = arg;
    ec->flags &= (uint8_t)~EC_RESUME_POSTED;
    if (!(ec->flags & EC_CLOSED) && !ec->c->paused)
        conn_read(ec);
    release(ec);
}

/* --------------------------------------------------------------- accept */

static void tcp_options(const swco__listener_t *l, int fd)
{
    int on = 1;
    if (l->opt.nodelay)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (l->opt.keepalive) {
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
        if (l->opt.keepidle > 0)
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &l->opt.keepidle, sizeof(int));
        if (l->opt.keepinterval > 0)
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &l->opt.keepinterval, sizeof(int));
        if (l->opt.keepcount > 0)
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &l->opt.keepcount, sizeof(int));
    }
}

static int tls_setup(econn_t *ec, swco_ssl_ctx_t *ctx)
{
    swco_socket_t *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->fd = ec->fd;
    s->type = SOCK_STREAM;
    s->domain = ec->el->l->family;
    s->ssl_server = 1;
    /* The listener keeps ctx for the server's life: no reference taken
     * (its count is not atomic, and THREAD mode shares it). */
    s->ssl_ctx = ctx;
    int rc = swco__ssl_attach(s, ctx, 1);
    if (rc != 0) {
        free(s);
        return rc;
    }
    /* An idle TLS connection keeps no read or write buffer either. */
    SSL_set_mode((SSL *)s->ssl, SSL_MODE_RELEASE_BUFFERS);
    ec->tls = s;
    return 0;
}

static void conn_new(elisten_t *el, int cfd, const struct sockaddr_storage *ss, socklen_t sl)
{
    swco__engine_t *e = el->e;
    swco__listener_t *l = el->l;
    swco__conn_t *c = swco__conn_open(e->conns, cfd);
    if (!c) {
        swco__log(SWCO_LOG_WARNING, "server: fd %d is past the connection table, refused", cfd);
        close(cfd);
        return;
    }
    econn_t *ec = calloc(1, sizeof *ec);
    if (!ec || swco_event_add(cfd, SWCO_EVENT_READ, conn_event, ec, NULL) != 0) {
        swco__log(SWCO_LOG_WARNING, "server: fd %d: out of memory, refused", cfd);
        free(ec);
        swco__conn_release(e->conns, c);
        close(cfd);
        return;
    }
    ec->e = e;
    ec->c = c;
    ec->el = el;
    ec->fd = cfd;
    ec->interest = SWCO_EVENT_READ;
    c->listener = (uint8_t)l->index;
    c->reactor_id = (int16_t)e->reactor_id;
    c->connect_time = wall_now();
    c->io = ec;
    int port = 0;
    addr_of(ss, sl, c->addr, sizeof c->addr, &port);
    c->port = port;
    if (l->family != AF_UNIX)
        tcp_options(l, cfd);
    swco__list_push(&e->conns_list, &ec->link);
    e->count++;
    SHM_ADD(e, accept_count, 1);
    SHM_ADD(e, connection_num, 1);
    if (l->opt.proxy_protocol)
        ec->flags |= EC_PROXY;
    if ((l->sock_type & SWCO_SOCK_SSL) && l->ssl_ctx) {
        int rc = tls_setup(ec, l->ssl_ctx);
        if (rc != 0) {
            swco__log(SWCO_LOG_WARNING, "server: fd %d: TLS: %s", cfd, swco_strerror(rc));
            close_now(ec, 1);
            return;
        }
    }
    if ((ec->flags & EC_PROXY) || ec->tls) {
        long id = swco__timer_add(HANDSHAKE_TIMEOUT_MS, close_timeout, ec);
        ec->timer = id > 0 ? id : 0;
        return;
    }
    announce(ec);
}

static void backoff_end(long id, void *arg)
{
    (void)id;
    elisten_t *el = arg;
    el->backoff_timer = 0;
    if (el->active)
        swco_event_modify(el->fd, SWCO_EVENT_READ);
}

static long conn_total(const swco__engine_t *e)
{
    if (e->srv && e->srv->shm)
        return (long)__atomic_load_n(&e->srv->shm->connection_num, __ATOMIC_RELAXED);
    return e->count;
}

static void accept_event(int fd, int events, void *arg)
{
    (void)events;
    elisten_t *el = arg;
    swco__engine_t *e = el->e;
    long max = e->srv ? e->srv->opt.max_connection : 0;
    for (int i = 0; i < ACCEPT_BATCH && el->active; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* the pending connection stays: listen again a little later
                 * instead of being woken for it in a loop */
                swco__log(SWCO_LOG_WARNING, "server: accept: %s", strerror(errno));
                if (!el->backoff_timer && swco_event_modify(fd, 0) == 0) {
                    long id = swco__timer_add(EMFILE_BACKOFF_MS, backoff_end, el);
                    if (id > 0)
                        el->backoff_timer = id;
                    else
                        swco_event_modify(fd, SWCO_EVENT_READ);
                }
            }
            return;
        }
        if (max > 0 && conn_total(e) >= max) {
            swco__log(SWCO_LOG_WARNING,
                      "server: max_connection (%ld) reached, connection refused", max);
            close(cfd);
            continue;
        }
        conn_new(el, cfd, &ss, sl);
    }
}

/* ------------------------------------------------------------ datagrams */

static void dgram_event(int fd, int events, void *arg)
{
    (void)events;
    elisten_t *el = arg;
    swco__engine_t *e = el->e;
    for (int i = 0; i < DGRAM_BATCH && el->active; i++) {
        swco__addr_t from;
        memset(&from, 0, sizeof from);
        from.len = sizeof from.ss;
        ssize_t n = recvfrom(fd, e->scratch, SCRATCH_SIZE, MSG_TRUNC, (struct sockaddr *)&from.ss,
                             &from.len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (n > SCRATCH_SIZE) {
            swco__log(SWCO_LOG_WARNING, "server: datagram of %zd bytes cut to %d", n,
                      SCRATCH_SIZE);
            n = SCRATCH_SIZE;
        }
        from.family = from.ss.ss_family;
        if (from.family == AF_UNIX)
            addr_of(&from.ss, from.len, from.text, sizeof from.text, &from.port);
        else
            swco__addr_describe(&from);
        SHM_ADD(e, recv_bytes, n);
        if (e->hooks.packet)
            e->hooks.packet(e->ud, e, el->l, e->scratch, (size_t)n, &from);
    }
}

long swco__engine_sendto(swco__engine_t *e, swco__listener_t *l, const char *addr, int port,
                         const void *data, size_t len)
{
    if (!e || !l || !addr || (!data && len))
        return -EINVAL;
    elisten_t *el = NULL;
    for (int i = 0; i < e->nls; i++)
        if (e->ls[i]->l == l)
            el = e->ls[i];
    if (!el || l->stream)
        return -EINVAL;
    struct sockaddr_storage ss;
    socklen_t sl;
    /* The same address rules as a task worker's sendto (base.c). */
    if (swco__srv_dest_addr(l->family, addr, port, &ss, &sl) < 0)
        return -EINVAL;
    ssize_t n;
    do
        n = sendto(el->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&ss, sl);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    SHM_ADD(e, send_bytes, n);
    return (long)n;
}

/* ------------------------------------------------------------ heartbeat */

static double idle_limit(const swco__engine_t *e, const swco__listener_t *l)
{
    if (l->opt.heartbeat_idle_time > 0)
        return l->opt.heartbeat_idle_time;
    if (!e->srv)
        return 0;
    const swco__srv_opts_t *o = &e->srv->opt;
    if (o->heartbeat_idle_time > 0)
        return o->heartbeat_idle_time;
    return o->heartbeat_check_interval > 0 ? 2 * o->heartbeat_check_interval : 0;
}

long swco__engine_heartbeat(swco__engine_t *e, int close_them, long long *fds, long max)
{
    if (!e || max < 0 || (max > 0 && !fds))
        return -EINVAL;
    double now = wall_now();
    long found = 0;
    long long *ids = NULL;
    size_t nids = 0, cap = 0;
    for (swco__list_t *p = e->conns_list.next; p != &e->conns_list; p = p->next) {
        econn_t *ec = SWCO__CONTAINER(p, econn_t, link);
        /* not yet announced: the handshake's own deadline covers those */
        if ((ec->flags & (EC_CLOSED | EC_CLOSING | EC_ANNOUNCED)) != EC_ANNOUNCED)
            continue;
        double limit = idle_limit(e, ec->el->l);
        swco__conn_t *c = ec->c;
        double last = c->last_recv_time > 0 ? c->last_recv_time : c->connect_time;
        if (limit <= 0 || now - last <= limit)
            continue;
        long long id = swco__conn_id(e->conns, c);
        if (found < max)
            fds[found] = id;
        found++;
        if (!close_them)
            continue;
        if (nids == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            long long *t = realloc(ids, ncap * sizeof *t);
            if (!t)
                break; /* the rest on the next round */
            ids = t;
            cap = ncap;
        }
        ids[nids++] = id;
    }
    /* Closed by id: a close hook may close others (the list changes). */
    for (size_t i = 0; i < nids; i++) {
        swco__conn_t *c = swco__conn_lookup(e->conns, ids[i]);
        if (c && econn_of(e, c)) {
            swco__log(SWCO_LOG_DEBUG, "server: fd %d idle past heartbeat_idle_time, closing",
                      c->fd);
            swco__engine_close(e, c, 0);
        }
    }
    free(ids);
    return found;
}

static void hb_tick(long id, void *arg)
{
    (void)id;
    swco__engine_t *e = arg;
    e->hb_timer = 0;
    swco__engine_heartbeat(e, 1, NULL, 0);
    if (!e->hb_timer) {
        long t = swco__timer_add(e->hb_ms, hb_tick, e);
        e->hb_timer = t > 0 ? t : 0;
    }
}

/* ------------------------------------------------------------ lifecycle */

swco__engine_t *swco__engine_new(swco_server_t *srv, swco__conn_table_t *conns, int reactor_id,
                                 const swco__engine_hooks_t *hooks, void *ud)
{
    if (!conns || !hooks) {
        swco__fail(-EINVAL);
        return NULL;
    }
    swco__engine_t *e = calloc(1, sizeof *e);
    if (!e || !(e->scratch = malloc(SCRATCH_SIZE))) {
        free(e);
        swco__fail(-ENOMEM);
        return NULL;
    }
    e->srv = srv;
    e->conns = conns;
    e->reactor_id = reactor_id;
    e->hooks = *hooks;
    e->ud = ud;
    swco__list_init(&e->conns_list);
    if (srv && srv->opt.heartbeat_check_interval > 0) {
        e->hb_ms = swco__seconds_to_ms(srv->opt.heartbeat_check_interval);
        long id = swco__timer_add(e->hb_ms, hb_tick, e);
        e->hb_timer = id > 0 ? id : 0;
    }
    return e;
}

int swco__engine_listen(swco__engine_t *e, swco__listener_t *l, int fd)
{
    if (!e || !l || fd < 0)
        return -EINVAL;
    if (l->opt.frame.mode == SWCO__FRAME_EOF &&
        (l->opt.frame.eof_len == 0 || l->opt.frame.eof_len > sizeof l->opt.frame.eof))
        return -EINVAL;
    if (l->opt.frame.mode == SWCO__FRAME_LENGTH && l->opt.frame.len_size != 1 &&
        l->opt.frame.len_size != 2 && l->opt.frame.len_size != 4)
        return -EINVAL;
    elisten_t *el = calloc(1, sizeof *el);
    elisten_t **t = el ? realloc(e->ls, sizeof *t * (size_t)(e->nls + 1)) : NULL;
    if (!t) {
        free(el);
        return -ENOMEM;
    }
    e->ls = t;
    el->e = e;
    el->l = l;
    el->fd = fd;
    el->frame = l->opt.frame;
    if (el->frame.max_len == 0)
        el->frame.max_len = DEFAULT_PACKAGE_MAX;
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    int rc = swco_event_add(fd, SWCO_EVENT_READ, l->stream ? accept_event : dgram_event, el, NULL);
    if (rc != 0) {
        free(el);
        return rc;
    }
    el->active = 1;
    e->ls[e->nls++] = el;
    e->accepting = 1;
    return 0;
}

void swco__engine_stop_accepting(swco__engine_t *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->nls; i++) {
        elisten_t *el = e->ls[i];
        if (el->backoff_timer) {
            swco__timer_del(el->backoff_timer);
            el->backoff_timer = 0;
        }
        if (el->active) {
            swco_event_del(el->fd);
            el->active = 0;
        }
    }
    e->accepting = 0;
}

void swco__engine_on_eof(swco__engine_t *e, swco__engine_eof_fn fn)
{
    if (e)
        e->eof = fn;
}

long swco__engine_count(const swco__engine_t *e) { return e ? e->count : 0; }

long swco__engine_buffers(const swco__engine_t *e) { return e ? e->buffers : 0; }

void swco__engine_close_all(swco__engine_t *e, int reset)
{
    if (!e || e->count == 0)
        return;
    long long *ids = malloc(sizeof *ids * (size_t)e->count);
    size_t n = 0;
    if (!ids) { /* one at a time: slower, same result */
        while (!swco__list_empty(&e->conns_list)) {
            econn_t *ec = SWCO__CONTAINER(e->conns_list.next, econn_t, link);
            close_now(ec, reset);
        }
        return;
    }
    for (swco__list_t *p = e->conns_list.next; p != &e->conns_list && n < (size_t)e->count;
         p = p->next) {
        econn_t *ec = SWCO__CONTAINER(p, econn_t, link);
        if (!(ec->flags & EC_CLOSING))
            ids[n++] = swco__conn_id(e->conns, ec->c);
    }
    for (size_t i = 0; i < n; i++) {
        swco__conn_t *c = swco__conn_lookup(e->conns, ids[i]);
        if (c && econn_of(e, c))
            swco__engine_close(e, c, reset);
    }
    free(ids);
}

void swco__engine_free(swco__engine_t *e)
{
    if (!e)
        return;
    swco__engine_stop_accepting(e);
    if (e->hb_timer) {
        swco__timer_del(e->hb_timer);
        e->hb_timer = 0;
    }
    while (!swco__list_empty(&e->conns_list)) {
        econn_t *ec = SWCO__CONTAINER(e->conns_list.next, econn_t, link);
        if (ec->out)
            flush(ec); /* what the socket takes now; the rest is lost */
        if (!(ec->flags & EC_CLOSED))
            close_now(ec, 0);
    }
    for (int i = 0; i < e->nls; i++)
        free(e->ls[i]);
    free(e->ls);
    free(e->scratch);
    free(e->fbuf);
    free(e);
}
