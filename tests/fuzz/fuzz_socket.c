/* Fuzz target for a socket's read-ahead buffer and packet state
 * (lib/io/socket.c: recv_packet, recv, recv_all, peek, the buffer they
 * share, and the framing settings changed between calls).
 *
 * The real calls run on one end of a socketpair: a reader coroutine runs
 * the read operations of the input while the driver (the main coroutine)
 * writes the input's data to the other end in chunks, one loop turn apart,
 * and may cancel the reader's wait.  In the end the driver shuts its end
 * down, so every read finishes.
 *
 * Oracle: everything a read hands out is the next bytes of what was
 * written (nothing lost, repeated or reordered, also across a cancelled
 * recv_all), peek shows the next bytes, a packet is what the framing
 * parser finds at the same place of the written stream (a framing error
 * too, after which the socket is closed), and after end of stream every
 * read returns 0.
 *
 * Input: [mode] [max] [framing...] then records:
 *   op%8 = 0,1: write next (k+1) bytes (k = next byte)   (driver)
 *          2: recv_packet                                  (reader)
 *          3: recv of k+1 bytes, 4: recv_all of k+1 bytes  (reader)
 *          5: peek of k bytes                              (reader)
 *          6: cancel the reader's wait                     (driver)
 *          7: set package_max_length from k               (reader)
 *
 * make check links the shared library and framing.c for the oracle.
 * fuzz-sources: libswco   (read by tools/fuzz) */
#include "fuzz_main.h"
#include "io/io_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <swco.h>


#define MAX_WRITTEN 65536
#define MAX_OPS 512

typedef struct op {
    int code;
    int arg;
    const uint8_t *bytes; /* write: the data */
} op_t;

typedef struct run {
    swco_socket_t *s;
    int peer;
    swco__framing_t frame; /* the oracle's copy of the settings */
    op_t rops[MAX_OPS], dops[MAX_OPS];
    int nr, nd;
    uint8_t written[MAX_WRITTEN];
    size_t nwritten;
    size_t consumed;     /* bytes handed out so far */
    int eof, closed;     /* the reader saw end of stream / a framing error */
    int reader_done;
} run_t;

static void fail(const char *what, long got, long want)
{
    fprintf(stderr, "fuzz_socket: %s: got %ld, want %ld\n", what, got, want);
    abort();
}

/* n bytes handed out at p: the next bytes of the written stream. */
static void handed_out(run_t *r, const void *p, long n, const char *what)
{
    if (n < 0)
        return;
    if (r->eof && n > 0)
        fail("bytes after end of stream", n, 0);
    if (r->consumed + (size_t)n > r->nwritten)
        fail(what, (long)(r->consumed + (size_t)n), (long)r->nwritten);
    if (memcmp(p, r->written + r->consumed, (size_t)n) != 0)
        fail(what, -1, (long)r->consumed);
    r->consumed += (size_t)n;
}

static void check_closed(run_t *r, long rc, const char *what)
{
    if (rc != SWCO_ECLOSED)
        fail(what, rc, SWCO_ECLOSED);
}

static void reader(void *arg)
{
    run_t *r = arg;
    static char buf[300];
    for (int i = 0; i < r->nr; i++) {
        const op_t *o = &r->rops[i];
        long rc;
        switch (o->code) {
        case 2: {
            const char *pkt = NULL;
            rc = swco_socket_recv_packet(r->s, &pkt, -1);
            if (r->closed) {
                check_closed(r, rc, "recv_packet after close");
                break;
            }
            if (rc > 0) {
                if ((size_t)rc > r->frame.max_len)
                    fail("packet over max", rc, (long)r->frame.max_len);
                if (r->frame.mode != SWCO__FRAME_NONE) {
                    long want = swco__framing_check(&r->frame, (const char *)r->written + r->consumed,
                                                    r->nwritten - r->consumed, NULL);
                    if (want != rc)
                        fail("packet size", rc, want);
                }
                handed_out(r, pkt, rc, "recv_packet");
            } else if (rc == 0) {
                r->eof = 1; /* a partial packet may have been dropped */
            } else if (rc == SWCO_EPKGTOOBIG || rc == -EPROTO) {
                long want = swco__framing_check(&r->frame, (const char *)r->written + r->consumed,
                                                r->nwritten - r->consumed, NULL);
                if (want != rc)
                    fail("framing error", rc, want);
                if (swco_socket_fd(r->s) != SWCO_ECLOSED)
                    fail("open after a framing error", swco_socket_fd(r->s), SWCO_ECLOSED);
                r->closed = 1;
            } else if (rc != -ECANCELED) {
                fail("recv_packet", rc, 0);
            }
            break;
        }
        case 3:
            rc = swco_socket_recv(r->s, buf, (size_t)o->arg, -1);
            if (r->closed) {
                check_closed(r, rc, "recv after close");
                break;
            }
            if (rc == 0)
                r->eof = 1;
            else if (rc < 0 && rc != -ECANCELED)
                fail("recv", rc, 0);
            handed_out(r, buf, rc, "recv");
            break;
        case 4:
            rc = swco_socket_recv_all(r->s, buf, (size_t)o->arg, -1);
            if (r->closed) {
                check_closed(r, rc, "recv_all after close");
                break;
            }
            if (rc < 0 && rc != -ECANCELED)
                fail("recv_all", rc, 0);
            handed_out(r, buf, rc, "recv_all");
            if (rc >= 0 && rc < o->arg) /* the last bytes before the end */
                r->eof = 1;
            break;
        case 5:
            rc = swco_socket_peek(r->s, buf, (size_t)o->arg);
            if (r->closed) {
                check_closed(r, rc, "peek after close");
                break;
            }
            if (rc == -EAGAIN)
                break;
            if (rc < 0 || rc > o->arg)
                fail("peek", rc, o->arg);
            if (r->eof && rc > 0)
                fail("peek after end of stream", rc, 0);
            if (r->consumed + (size_t)rc > r->nwritten ||
                memcmp(buf, r->written + r->consumed, (size_t)rc) != 0)
                fail("peek bytes", rc, (long)r->consumed);
            break;
        case 7: {
            size_t max = o->arg == 255 ? 1u << 20 : 1 + (size_t)o->arg * 3;
            if (swco_socket_set_package_max_length(r->s, max) != 0)
                fail("set max", -1, 0);
            r->frame.max_len = max;
            break;
        }
        }
    }
    r->reader_done = 1;
}

/* Let the loop turn once: a deferred call resumes the driver (a zero
 * timer would make the loop sleep for its millisecond). */
static void resume_driver(void *arg) { swco_coroutine_resume((long)(intptr_t)arg); }

static void next_turn(void)
{
    swco_event_defer(resume_driver, (void *)(intptr_t)swco_coroutine_id(), NULL);
    swco_coroutine_yield();
}

static void driver(void *arg)
{
    run_t *r = arg;
    swco_coroutine_create(reader, r); /* runs until it waits */
    for (int i = 0; i < r->nd; i++) {
        const op_t *o = &r->dops[i];
        if (o->code == 6) {
            if (!r->closed && !r->reader_done)
                swco_socket_cancel(r->s);
            continue;
        }
        /* The oracle knows a byte once it is written, before any read can
         * return it.  A full socket buffer (a reader that stopped reading)
         * ends the writing. */
        ssize_t n = send(r->peer, o->bytes, (size_t)o->arg, MSG_NOSIGNAL);
        if (n > 0) {
            memcpy(r->written + r->nwritten, o->bytes, (size_t)n);
            r->nwritten += (size_t)n;
        }
        if (n != o->arg)
            break;
        /* Two turns: the reader runs in the fd phase of the next one. */
        next_turn();
        next_turn();
    }
    shutdown(r->peer, SHUT_WR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    static run_t r;
    memset(&r, 0, sizeof r);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        return 0;
    r.s = swco_socket_new_fd(sv[0]);
    r.peer = sv[1];
    size_t pos = 3;
    int mode = data[0] % 3;
    size_t max = data[1] == 255 ? 1u << 20 : 1 + (size_t)data[1] * 3;
    swco_socket_set_package_max_length(r.s, max);
    if (mode == 1) {
        size_t len = 1 + data[2] % 8;
        if (size < pos + len)
            len = size - pos;
        swco_socket_set_package_eof(r.s, (const char *)data + pos, len);
        pos += len;
    } else if (mode == 2) {
        static const int sizes[] = {1, 2, 4, 4};
        swco_socket_set_package_length(r.s, sizes[data[2] % 4], data[2] / 4 % 2, data[3] % 8,
                                       data[4] % 16);
        pos = 5;
    }
    r.frame = r.s->frame; /* the settings as the socket took them */
    size_t planned = 0;
    while (pos < size && r.nr < MAX_OPS && r.nd < MAX_OPS) {
        int code = data[pos++] % 8;
        int k = pos < size ? data[pos] : 0;
        if (code != 2 && code != 6 && pos < size)
            pos++;
        switch (code) {
        case 0:
        case 1: {
            size_t len = (size_t)k + 1;
            if (len > size - pos)
                len = size - pos;
            if (len == 0 || planned + len > MAX_WRITTEN)
                break;
            r.dops[r.nd++] = (op_t){0, (int)len, data + pos};
            planned += len;
            pos += len;
            break;
        }
        case 6:
            r.dops[r.nd++] = (op_t){6, 0, NULL};
            break;
        case 3:
        case 4:
            r.rops[r.nr++] = (op_t){code, k + 1, NULL};
            break;
        default:
            r.rops[r.nr++] = (op_t){code, k, NULL};
            break;
        }
    }
    if (swco_run(driver, &r) != 0)
        fail("swco_run", -1, 0);
    if (!r.reader_done)
        fail("reader did not finish", 0, 1);
    swco_socket_free(r.s);
    close(sv[1]);
    return 0;
}

#ifndef SWCO_FUZZ_LIBFUZZER
int main(int argc, char **argv)
{
    if (fuzz_run_files(argc, argv))
        return 1;
    /* Pseudo-random programs: the ops drawn with the write and packet ops
     * often enough, and the stream made of a small alphabet so that
     * delimiters and small lengths occur. */
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (int round = 0; round < 3000; round++) {
        uint8_t buf[512];
        size_t n = 8 + (size_t)(x % 400);
        for (size_t i = 0; i < n; i++) {
            fuzz_next(&x);
            buf[i] = (uint8_t)(i < 5 ? x >> 32 : x % 3 == 0 ? (uint64_t)(uint8_t)"\r\n\0\1\2ab"[x % 7] : x >> 40);
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
