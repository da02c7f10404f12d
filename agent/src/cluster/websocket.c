/* SPDX-License-Identifier: Apache-2.0 */

/*
 * RFC 6455 frames: the header, masking, and a streaming parser of the server's side.
 */

#include <errno.h>
#include <gnutls/crypto.h>
#include <string.h>

#include "basic/macro.h"
#include "cluster/websocket.h"

void ws_parser_init(WsParser *p, WsDataFunc on_data, WsControlFunc on_control, void *userdata)
{
        assert(p);
        *p = (WsParser){ .on_data = on_data, .on_control = on_control, .userdata = userdata };
}

static bool opcode_is_control(uint8_t op)
{
        return op & 0x8;
}

/* The header's full length once its first two bytes are known. */
static size_t header_length(const uint8_t *h)
{
        size_t n = 2;
        uint8_t len7 = h[1] & 0x7F;

        if (len7 == 126)
                n += 2;
        else if (len7 == 127)
                n += 8;
        if (h[1] & 0x80)
                n += 4;
        return n;
}

static int fail(WsParser *p, int r)
{
        p->error = r;
        return r;
}

/* The header is complete: check it and start the frame. */
static int frame_begin(WsParser *p)
{
        const uint8_t *h = p->header;
        uint8_t op = h[0] & 0x0F, len7 = h[1] & 0x7F;
        uint64_t len = len7;

        if (h[0] & 0x70)   /* RSV1-3: no extension was negotiated */
                return -EPROTO;
        if (h[1] & 0x80)   /* a server never masks */
                return -EPROTO;
        if (len7 == 126)
                len = ((uint64_t) h[2] << 8) | h[3];
        else if (len7 == 127) {
                len = 0;
                for (size_t i = 0; i < 8; i++)
                        len = (len << 8) | h[2 + i];
                if (len >> 63)
                        return -EPROTO;
        }

        switch (op) {
        case WS_OP_CONTINUATION:
                if (!p->in_message)
                        return -EPROTO;
                break;
        case WS_OP_TEXT:
        case WS_OP_BINARY:
                if (p->in_message)
                        return -EPROTO;
                p->in_message = true;
                p->message_started = false;
                p->message_opcode = op;
                break;
        case WS_OP_CLOSE:
        case WS_OP_PING:
        case WS_OP_PONG:
                if (!(h[0] & 0x80) || len > WS_CONTROL_MAX)
                        return -EPROTO;
                p->control_have = 0;
                break;
        default:
                return -EPROTO;
        }

        p->in_frame = true;
        p->fin = h[0] & 0x80;
        p->opcode = op;
        p->remaining = len;
        return 0;
}

/* The frame's payload is complete. */
static int frame_end(WsParser *p)
{
        int r = 0;

        p->in_frame = false;
        p->header_have = 0;
        if (opcode_is_control(p->opcode)) {
                if (p->on_control)
                        r = p->on_control(p->opcode, p->control, p->control_have, p->userdata);
                return r;
        }
        if (p->fin) {
                /* A message that ends on a frame whose payload was already handed on (or empty). */
                if (p->on_data)
                        r = p->on_data(p->message_opcode, !p->message_started, true, NULL, 0, p->userdata);
                p->in_message = false;
                p->message_started = false;
        }
        return r;
}

int ws_parser_feed(WsParser *p, const uint8_t *data, size_t n)
{
        int r;

        assert(p);
        assert(data || n == 0);
        if (p->error != 0)
                return p->error;

        while (n > 0 || (p->in_frame && p->remaining == 0)) {
                if (!p->in_frame) {
                        size_t need = p->header_have < 2 ? 2 : header_length(p->header);
                        size_t k = MIN(need - p->header_have, n);

                        memcpy(p->header + p->header_have, data, k);
                        p->header_have += k;
                        data += k;
                        n -= k;
                        if (p->header_have < 2 || p->header_have < header_length(p->header))
                                continue;
                        r = frame_begin(p);
                        if (r != 0)
                                return fail(p, r);
                        continue;
                }

                if (p->remaining == 0) {
                        r = frame_end(p);
                        if (r != 0)
                                return fail(p, r);
                        continue;
                }

                size_t k = (size_t) MIN((uint64_t) n, p->remaining);
                if (opcode_is_control(p->opcode)) {
                        memcpy(p->control + p->control_have, data, k);
                        p->control_have += k;
                } else if (p->on_data) {
                        bool last = p->fin && k == p->remaining;

                        r = p->on_data(p->message_opcode, !p->message_started, last, data, k, p->userdata);
                        if (r != 0)
                                return fail(p, r);
                        p->message_started = true;
                        if (last) {
                                /* Handed on as the last piece: the end of the frame says nothing more. */
                                p->in_message = false;
                                p->message_started = false;
                                p->in_frame = false;
                                p->header_have = 0;
                                data += k;
                                n -= k;
                                continue;
                        }
                }
                p->remaining -= k;
                data += k;
                n -= k;
        }
        return 0;
}

size_t ws_frame_header(uint8_t buf[static WS_HEADER_MAX], bool fin, uint8_t opcode, uint64_t n,
                       const uint8_t *mask)
{
        size_t k = 2;

        buf[0] = (uint8_t) ((fin ? 0x80 : 0) | (opcode & 0x0F));
        if (n < 126)
                buf[1] = (uint8_t) n;
        else if (n <= 0xFFFF) {
                buf[1] = 126;
                buf[2] = (uint8_t) (n >> 8);
                buf[3] = (uint8_t) n;
                k = 4;
        } else {
                buf[1] = 127;
                for (size_t i = 0; i < 8; i++)
                        buf[2 + i] = (uint8_t) (n >> (56 - 8 * i));
                k = 10;
        }
        if (mask) {
                buf[1] |= 0x80;
                memcpy(buf + k, mask, 4);
                k += 4;
        }
        return k;
}

void ws_mask_apply(uint8_t *p, size_t n, const uint8_t mask[static 4], uint64_t offset)
{
        assert(p || n == 0);
        for (size_t i = 0; i < n; i++)
                p[i] ^= mask[(offset + i) & 3];
}

void ws_base64(const uint8_t *p, size_t n, char *out)
{
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t i = 0;

        for (; i + 3 <= n; i += 3) {
                uint32_t v = ((uint32_t) p[i] << 16) | ((uint32_t) p[i + 1] << 8) | p[i + 2];

                *out++ = t[v >> 18];
                *out++ = t[(v >> 12) & 63];
                *out++ = t[(v >> 6) & 63];
                *out++ = t[v & 63];
        }
        if (n - i == 1) {
                uint32_t v = (uint32_t) p[i] << 16;

                *out++ = t[v >> 18];
                *out++ = t[(v >> 12) & 63];
                *out++ = '=';
                *out++ = '=';
        } else if (n - i == 2) {
                uint32_t v = ((uint32_t) p[i] << 16) | ((uint32_t) p[i + 1] << 8);

                *out++ = t[v >> 18];
                *out++ = t[(v >> 12) & 63];
                *out++ = t[(v >> 6) & 63];
                *out++ = '=';
        }
        *out = '\0';
}

int ws_accept_value(const char *key, char ret[static 29])
{
        uint8_t digest[20];
        char buf[128];
        size_t n;

        assert(key);
        n = strlen(key);
        if (n + strlen(WS_GUID) >= sizeof buf)
                return -EINVAL;
        memcpy(buf, key, n);
        memcpy(buf + n, WS_GUID, strlen(WS_GUID));
        if (gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, n + strlen(WS_GUID), digest) < 0)
                return -EIO;
        ws_base64(digest, sizeof digest, ret);
        return 0;
}
