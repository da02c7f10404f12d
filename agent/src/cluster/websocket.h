/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * websocket: RFC 6455 framing, without I/O. Debian 12's libcurl (7.88) has no WebSocket support,
 * so kube-exec.c does the upgrade itself and uses these pieces over curl_easy_send/recv.
 *
 * The parser takes the server's bytes in pieces of any size and hands payloads on as they
 * arrive (a data frame is never held whole: a dump streams through it with bounded memory).
 * Control frames (at most 125 bytes by the RFC) are collected and handed on whole.
 *
 * Server frames must not be masked (RFC 6455 5.1), reserved bits must be zero, control frames
 * must not be fragmented, a continuation needs a message to continue, a new data frame must not
 * interrupt a fragmented one, a 64-bit length must have its top bit clear: each of these is
 * -EPROTO, and the parser stays failed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
        WS_OP_CONTINUATION = 0x0,
        WS_OP_TEXT = 0x1,
        WS_OP_BINARY = 0x2,
        WS_OP_CLOSE = 0x8,
        WS_OP_PING = 0x9,
        WS_OP_PONG = 0xA,
};

#define WS_CONTROL_MAX 125U
#define WS_HEADER_MAX 14U /* 2 + 8 (64-bit length) + 4 (mask) */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/*
 * Called for each piece of a data message's payload, in order. first is true for the first
 * piece of a message (its first byte is the message's first byte), last for the end of the
 * message (fin of its last frame; the piece may then be empty). opcode is the message's
 * (TEXT or BINARY). A negative return stops the parser with that error, a positive one stops it
 * there (the rest is not read) and ws_parser_feed() returns it, then and on every later call.
 */
typedef int (*WsDataFunc)(uint8_t opcode, bool first, bool last, const uint8_t *p, size_t n, void *userdata);
/* Called for a whole control frame (CLOSE, PING, PONG); the payload is at most 125 bytes. */
typedef int (*WsControlFunc)(uint8_t opcode, const uint8_t *p, size_t n, void *userdata);

typedef struct WsParser {
        /* header being read */
        uint8_t header[WS_HEADER_MAX];
        size_t header_have;
        /* frame being read */
        bool in_frame;
        bool fin;
        uint8_t opcode;
        uint64_t remaining;
        /* message being read (data frames) */
        bool in_message;
        bool message_started;
        uint8_t message_opcode;
        /* control frame payload */
        uint8_t control[WS_CONTROL_MAX];
        size_t control_have;
        int error;

        WsDataFunc on_data;
        WsControlFunc on_control;
        void *userdata;
} WsParser;

void ws_parser_init(WsParser *p, WsDataFunc on_data, WsControlFunc on_control, void *userdata);
/*
 * Feeds n bytes. 0, the first negative error (-EPROTO for a broken frame, or a callback's), or
 * a callback's positive value that stopped the parser.
 */
int ws_parser_feed(WsParser *p, const uint8_t *data, size_t n);

/*
 * A frame header for a payload of n bytes into buf (WS_HEADER_MAX bytes); mask NULL for an
 * unmasked frame. Returns the header's length.
 */
size_t ws_frame_header(uint8_t buf[static WS_HEADER_MAX], bool fin, uint8_t opcode, uint64_t n,
                       const uint8_t *mask);
/* XORs p with the mask, p being at offset bytes into the payload. */
void ws_mask_apply(uint8_t *p, size_t n, const uint8_t mask[static 4], uint64_t offset);

/* The Sec-WebSocket-Accept value for a key: base64(SHA-1(key + GUID)), 28 characters. */
int ws_accept_value(const char *key, char ret[static 29]);
/* Standard base64 with padding of n bytes into out (4 * ceil(n / 3) + 1 bytes). */
void ws_base64(const uint8_t *p, size_t n, char *out);
