/* lib/websocket internals: what the server, the client and the fuzz target
 * share.  Not installed.
 *
 *   frame.c    the frame codec: building frames, and a streaming reader
 *              that checks masking, opcodes, lengths, fragmentation with
 *              control frames in between, close payloads and UTF-8, and
 *              hands over whole messages (inflated) and control frames;
 *   deflate.c  permessage-deflate (RFC 7692): the extension header (offer,
 *              negotiation, the answer's check) and the raw deflate
 *              streams with and without context takeover;
 *   server.c   the server protocol (swco__ws_proto) and the upgrade;
 *   client.c   the coroutine client.
 */
#ifndef SWCO_WS_INT_H
#define SWCO_WS_INT_H

#include "http/http_int.h"

#include <swco/websocket.h>

#include <stdint.h>
#include <zlib.h>

/* The RFC 6455 GUID appended to the key for Sec-WebSocket-Accept. */
#define SWCO__WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Sec-WebSocket-Accept for a key (base64 of SHA-1 of key + GUID) into
 * out (29 bytes with the NUL).  0 or -EINVAL. */
int swco__ws_accept_key(const char *key, size_t key_len, char out[32]);

/* ------------------------------------------------------------ frames */

/* Append a frame to b: FIN unless more, RSV1 when compressed, masked
 * with a random key when masked (a client's frames).  0 or -ENOMEM. */
int swco__ws_frame_build(swco__hbuf_t *b, int opcode, int more, int compressed, const void *data,
                         size_t len, int masked);

/* dst[i] = src[i] ^ key[(pos + i) % 4] for n bytes (dst may be src). */
void swco__ws_mask(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4], unsigned pos);

/* A close frame's payload: code (network order) and reason, cut to 123
 * bytes at a UTF-8 boundary; its length.  code 0: an empty payload. */
size_t swco__ws_close_payload(char out[125], int code, const char *reason);

/* Whether code may be sent in a close frame (1000..1003, 1007..1014,
 * 3000..4999). */
int swco__ws_close_code_valid(int code);

/* Incremental UTF-8 check: state starts at 0; 0 after a call means the
 * text so far ends on a character boundary; -1 means invalid (for good). */
int swco__ws_utf8(uint32_t *state, const uint8_t *s, size_t n);

/* permessage-deflate parameters (deflate.c). */
typedef struct swco__ws_pmd {
    int on;
    int server_no_context_takeover, client_no_context_takeover;
    int server_max_window_bits, client_max_window_bits; /* 8..15; 0: not said */
} swco__ws_pmd_t;

/* A raw deflate or inflate stream of one direction. */
typedef struct swco__ws_zip {
    z_stream z;
    int ready;               /* z initialised */
    int inflate;             /* direction */
    int bits;                /* window bits */
    int no_takeover;         /* reset after each message */
    int level;
} swco__ws_zip_t;

/* Set up (lazily initialised on first use).  bits 8..15 (a deflater
 * cannot use 8: swco__ws_zip_usable says so). */
void swco__ws_zip_init(swco__ws_zip_t *zp, int inflate, int bits, int no_takeover, int level);
/* Whether a deflater can honour its window (raw deflate has no 8-bit
 * window: such a side sends its messages uncompressed). */
int swco__ws_zip_usable(const swco__ws_zip_t *zp);
/* Compress a whole message, appending it to out without the 00 00 ff ff
 * tail.  0 or a negative code. */
int swco__ws_deflate(swco__ws_zip_t *zp, const void *in, size_t n, swco__hbuf_t *out);
/* Inflate a whole message (the tail added back), appending to out;
 * -EMSGSIZE when out would pass max bytes (0: no limit), -EPROTO for
 * corrupt data, -ENOMEM. */
int swco__ws_inflate(swco__ws_zip_t *zp, const void *in, size_t n, swco__hbuf_t *out, size_t max);
void swco__ws_zip_free(swco__ws_zip_t *zp);

/* Server: the first acceptable permessage-deflate offer of a
 * Sec-WebSocket-Extensions value (NULL: none) into *out and the answer's
 * text into answer.  1 when agreed, 0 when none was acceptable, -ENOMEM. */
int swco__ws_pmd_negotiate(const char *offers, swco__ws_pmd_t *out, swco__hbuf_t *answer);
/* Client: the offer text for what want asks. */
int swco__ws_pmd_offer(const swco__ws_pmd_t *want, swco__hbuf_t *b);
/* Client: check the server's answer (Sec-WebSocket-Extensions, NULL:
 * none) against the offer; *out is what is in use.  0, or -EPROTO for an
 * answer the offer did not allow. */
int swco__ws_pmd_check(const char *answer, const swco__ws_pmd_t *offered, swco__ws_pmd_t *out);

/* ------------------------------------------------------------ reader */

/* A message or control frame the reader hands over: opcode, and the
 * payload in buf (buf->p[buf->len] is 0).  The callee may take buf->p
 * (then set buf->p NULL, len and cap 0).  Returns 0 to go on, nonzero to
 * stop the feed (which returns that value). */
typedef int (*swco__ws_emit_fn)(void *arg, int opcode, swco__hbuf_t *buf);

typedef struct swco__ws_reader {
    /* settings */
    int server;              /* frames must be masked (server) or not (client) */
    size_t max_size;         /* largest frame payload and message (0: none) */
    swco__ws_zip_t *inflater;/* permessage-deflate: RSV1 allowed */
    /* the frame being read */
    uint8_t hdr[14];
    unsigned hdr_have, hdr_need;
    int in_payload;
    uint64_t left;           /* payload bytes still to come */
    int fin, rsv1, opcode;
    uint8_t mask[4];
    unsigned mask_pos;
    /* the message being assembled */
    int msg_opcode;          /* 0: none */
    int msg_compressed;
    uint32_t utf8;
    swco__hbuf_t msg;
    swco__hbuf_t ctl;        /* a control frame's payload */
    swco__hbuf_t tmp;        /* inflated message */
    int failed;              /* the close code it failed with */
} swco__ws_reader_t;

void swco__ws_reader_init(swco__ws_reader_t *r, int server, size_t max_size,
                          swco__ws_zip_t *inflater);
/* Feed bytes: each whole message (opcode TEXT / BINARY, inflated, UTF-8
 * checked) and each control frame (CLOSE with a checked payload, PING,
 * PONG) goes to emit.  Returns 0 when all was taken, emit's nonzero
 * value, or the close code to fail the connection with (1002 protocol,
 * 1007 bad UTF-8 or compressed data, 1009 too big, 1011 no memory); a
 * failed reader keeps failing with that code. */
int swco__ws_reader_feed(swco__ws_reader_t *r, const char *data, size_t len,
                         swco__ws_emit_fn emit, void *arg);
void swco__ws_reader_free(swco__ws_reader_t *r);

#endif
