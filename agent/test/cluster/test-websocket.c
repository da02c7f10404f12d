/* SPDX-License-Identifier: Apache-2.0 */

/*
 * RFC 6455 framing (cluster/websocket.c) and the exec channel stream on top of it
 * (cluster/kube-exec.c): headers with 7-, 16- and 64-bit lengths, masking, fragmented messages
 * fed a byte at a time, control frames between fragments, the protocol errors, the accept key of
 * the RFC's own example, and the channels and status of pods/exec.
 */

#include "cluster/kube-exec.h"
#include "cluster/websocket.h"
#include "tests.h"

typedef struct Collected {
        uint8_t data[1 << 17];
        size_t size;
        unsigned messages;
        unsigned firsts;
        uint8_t last_control;
        size_t control_size;
        unsigned controls;
} Collected;

static int collect_data(uint8_t opcode, bool first, bool last, const uint8_t *p, size_t n, void *userdata)
{
        Collected *c = userdata;

        if (first)
                c->firsts++;
        if (n > 0) {
                if (c->size + n > sizeof c->data)
                        return -E2BIG;
                memcpy(c->data + c->size, p, n);
                c->size += n;
        }
        if (last)
                c->messages++;
        return 0;
}

static int collect_control(uint8_t opcode, const uint8_t *p, size_t n, void *userdata)
{
        Collected *c = userdata;

        c->last_control = opcode;
        c->control_size = n;
        c->controls++;
        return 0;
}

/* Appends an unmasked server frame to buf. */
static size_t frame(uint8_t *buf, bool fin, uint8_t op, const void *payload, size_t n)
{
        size_t k = ws_frame_header(buf, fin, op, n, NULL);

        memcpy(buf + k, payload, n);
        return k + n;
}

static int feed_bytewise(WsParser *p, const uint8_t *b, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int r = ws_parser_feed(p, b + i, 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

TEST(header_lengths)
{
        uint8_t h[WS_HEADER_MAX];
        const uint8_t mask[4] = { 1, 2, 3, 4 };

        ASSERT_EQ(ws_frame_header(h, true, WS_OP_BINARY, 125, NULL), 2u);
        ASSERT_EQ(h[0], 0x82);
        ASSERT_EQ(h[1], 125);
        ASSERT_EQ(ws_frame_header(h, true, WS_OP_BINARY, 126, NULL), 4u);
        ASSERT_EQ(h[1], 126);
        ASSERT_EQ(h[2], 0);
        ASSERT_EQ(h[3], 126);
        ASSERT_EQ(ws_frame_header(h, false, WS_OP_TEXT, 65535, NULL), 4u);
        ASSERT_EQ(h[0], 0x01);
        ASSERT_EQ(ws_frame_header(h, true, WS_OP_BINARY, 65536, NULL), 10u);
        ASSERT_EQ(h[1], 127);
        ASSERT_EQ(h[7], 1);
        ASSERT_EQ(h[8], 0);
        ASSERT_EQ(ws_frame_header(h, true, WS_OP_CLOSE, 2, mask), 6u);
        ASSERT_EQ(h[1], 0x82);
        ASSERT_EQ(h[5], 4);
}

TEST(mask_roundtrip_at_offsets)
{
        const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
        uint8_t b[5] = { 'H', 'e', 'l', 'l', 'o' };

        /* RFC 6455 5.7: "Hello" masked with 37 fa 21 3d. */
        ws_mask_apply(b, 5, mask, 0);
        ASSERT_TRUE(memcmp(b, "\x7f\x9f\x4d\x51\x58", 5) == 0);
        /* Masking in two pieces at their offsets equals masking at once. */
        ws_mask_apply(b, 3, mask, 0);
        ws_mask_apply(b + 3, 2, mask, 3);
        ASSERT_TRUE(memcmp(b, "Hello", 5) == 0);
}

TEST(accept_value_of_rfc_example)
{
        char a[29];

        ASSERT_EQ(ws_accept_value("dGhlIHNhbXBsZSBub25jZQ==", a), 0);
        ASSERT_STREQ(a, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(lengths_16_and_64_bit_streamed)
{
        static uint8_t payload[70000], buf[80000];
        static Collected c;
        WsParser p;
        size_t n = 0;

        for (size_t i = 0; i < sizeof payload; i++)
                payload[i] = (uint8_t) (i * 7);
        n += frame(buf + n, true, WS_OP_BINARY, payload, 300);               /* 16-bit length */
        n += frame(buf + n, true, WS_OP_BINARY, payload, sizeof payload);    /* 64-bit length */
        c = (Collected){};
        ws_parser_init(&p, collect_data, collect_control, &c);
        /* In uneven pieces, as a socket delivers them. */
        for (size_t off = 0; off < n;) {
                size_t k = MIN((size_t) 4093, n - off);
                ASSERT_EQ(ws_parser_feed(&p, buf + off, k), 0);
                off += k;
        }
        ASSERT_EQ(c.messages, 2u);
        ASSERT_EQ(c.size, 300u + sizeof payload);
        ASSERT_TRUE(memcmp(c.data, payload, 300) == 0);
        ASSERT_TRUE(memcmp(c.data + 300, payload, sizeof payload) == 0);
}

TEST(fragmented_message_with_ping_between)
{
        uint8_t buf[256];
        Collected c = {};
        WsParser p;
        size_t n = 0;

        n += frame(buf + n, false, WS_OP_BINARY, "\x01" "abc", 4);
        n += frame(buf + n, true, WS_OP_PING, "hi", 2);
        n += frame(buf + n, false, WS_OP_CONTINUATION, "def", 3);
        n += frame(buf + n, true, WS_OP_CONTINUATION, "", 0);
        n += frame(buf + n, true, WS_OP_BINARY, "\x02" "x", 2);
        ws_parser_init(&p, collect_data, collect_control, &c);
        ASSERT_EQ(feed_bytewise(&p, buf, n), 0);
        ASSERT_EQ(c.messages, 2u);
        ASSERT_EQ(c.firsts, 2u);
        ASSERT_EQ(c.size, 9u);
        ASSERT_TRUE(memcmp(c.data, "\x01" "abcdef\x02x", 9) == 0);
        ASSERT_EQ(c.controls, 1u);
        ASSERT_EQ(c.last_control, WS_OP_PING);
        ASSERT_EQ(c.control_size, 2u);
}

TEST(close_frame)
{
        uint8_t buf[16];
        Collected c = {};
        WsParser p;
        size_t n = frame(buf, true, WS_OP_CLOSE, "\x03\xe8", 2);

        ws_parser_init(&p, collect_data, collect_control, &c);
        ASSERT_EQ(ws_parser_feed(&p, buf, n), 0);
        ASSERT_EQ(c.last_control, WS_OP_CLOSE);
        ASSERT_EQ(c.control_size, 2u);
}

static int parse_one(const uint8_t *b, size_t n)
{
        Collected *c = calloc(1, sizeof(Collected));
        WsParser p;
        int r;

        ws_parser_init(&p, collect_data, collect_control, c);
        r = ws_parser_feed(&p, b, n);
        free(c);
        return r;
}

TEST(protocol_errors)
{
        uint8_t buf[300];

        /* masked frame from the server */
        ASSERT_EQ(parse_one((const uint8_t *) "\x82\x81\0\0\0\0x", 7), -EPROTO);
        /* reserved bit */
        ASSERT_EQ(parse_one((const uint8_t *) "\xc2\x00", 2), -EPROTO);
        /* continuation without a message */
        ASSERT_EQ(parse_one((const uint8_t *) "\x80\x00", 2), -EPROTO);
        /* a new message inside a fragmented one */
        ASSERT_EQ(parse_one((const uint8_t *) "\x02\x01" "a" "\x82\x01" "b", 6), -EPROTO);
        /* fragmented control frame */
        ASSERT_EQ(parse_one((const uint8_t *) "\x09\x00", 2), -EPROTO);
        /* control frame over 125 bytes */
        ASSERT_EQ(parse_one(buf, ws_frame_header(buf, true, WS_OP_PING, 126, NULL)), -EPROTO);
        /* unknown opcode */
        ASSERT_EQ(parse_one((const uint8_t *) "\x83\x00", 2), -EPROTO);
        /* 64-bit length with its top bit set */
        ASSERT_EQ(parse_one((const uint8_t *) "\x82\x7f\x80\0\0\0\0\0\0\0", 10), -EPROTO);
}

/* ---------------------------------------------------------------- the exec channels */

static int out_collect(const void *p, size_t n, void *userdata)
{
        Collected *c = userdata;

        memcpy(c->data + c->size, p, n);
        c->size += n;
        return 0;
}

static size_t channel_frame(uint8_t *buf, uint8_t channel, const char *s)
{
        uint8_t tmp[4096];
        size_t n = strlen(s);

        tmp[0] = channel;
        memcpy(tmp + 1, s, n);
        return frame(buf, true, WS_OP_BINARY, tmp, n + 1);
}

TEST(exec_stream_success)
{
        _cleanup_(kube_exec_stream_freep) KubeExecStream *s = NULL;
        _cleanup_(kube_exec_result_done) KubeExecResult res = {};
        static Collected c;
        uint8_t buf[4096];
        size_t n = 0;

        c = (Collected){};
        n += channel_frame(buf + n, 1, "INSERT INTO t ");
        n += channel_frame(buf + n, 2, "warning: x\n");
        n += channel_frame(buf + n, 1, "VALUES (1);\n");
        n += channel_frame(buf + n, 3, "{\"metadata\":{},\"status\":\"Success\"}");
        ASSERT_EQ(kube_exec_stream_new(&s, out_collect, &c), 0);
        ASSERT_EQ(kube_exec_stream_result(s, &res), -ECONNRESET);
        ASSERT_EQ(kube_exec_stream_feed(s, buf, n), 1);
        ASSERT_EQ(kube_exec_stream_result(s, &res), 0);
        ASSERT_EQ(res.exit_code, 0);
        ASSERT_EQ(res.stdout_bytes, 26u);
        ASSERT_EQ(c.size, 26u);
        ASSERT_TRUE(memcmp(c.data, "INSERT INTO t VALUES (1);\n", 26) == 0);
        ASSERT_STREQ(res.stderr_tail, "warning: x\n");
}

TEST(exec_stream_exit_code_and_stderr_tail)
{
        _cleanup_(kube_exec_stream_freep) KubeExecStream *s = NULL;
        _cleanup_(kube_exec_result_done) KubeExecResult res = {};
        static uint8_t buf[16384];
        char big[3000];
        size_t n = 0;

        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        n += channel_frame(buf + n, 2, big);
        n += channel_frame(buf + n, 2, big);
        n += channel_frame(buf + n, 2, "mysqldump: Got error: 1045: Access denied\n");
        n += channel_frame(buf + n, 3,
                           "{\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\",\"message\":\"command "
                           "terminated with non-zero exit code: 2\",\"details\":{\"causes\":[{\"reason\":"
                           "\"ExitCode\",\"message\":\"2\"}]}}");
        ASSERT_EQ(kube_exec_stream_new(&s, NULL, NULL), 0);
        ASSERT_EQ(kube_exec_stream_feed(s, buf, n), 1);
        ASSERT_EQ(kube_exec_stream_result(s, &res), 0);
        ASSERT_EQ(res.exit_code, 2);
        ASSERT_CONTAINS(res.message, "non-zero exit code");
        ASSERT_EQ(strlen(res.stderr_tail), (size_t) KUBE_EXEC_STDERR_MAX);
        ASSERT_TRUE(strstr(res.stderr_tail, "Access denied\n") != NULL);
}

TEST(exec_stream_command_did_not_run)
{
        _cleanup_(kube_exec_stream_freep) KubeExecStream *s = NULL;
        _cleanup_(kube_exec_result_done) KubeExecResult res = {};
        uint8_t buf[512];
        size_t n = channel_frame(buf, 3, "{\"status\":\"Failure\",\"message\":\"executable file not found\"}");

        ASSERT_EQ(kube_exec_stream_new(&s, NULL, NULL), 0);
        ASSERT_EQ(kube_exec_stream_feed(s, buf, n), 1);
        ASSERT_EQ(kube_exec_stream_result(s, &res), 0);
        ASSERT_EQ(res.exit_code, -1);
        ASSERT_STREQ(res.message, "executable file not found");
}

TEST(exec_stream_close_without_status)
{
        _cleanup_(kube_exec_stream_freep) KubeExecStream *s = NULL;
        KubeExecResult res = {};
        uint8_t buf[64];
        size_t n = 0;

        n += channel_frame(buf + n, 1, "partial");
        n += frame(buf + n, true, WS_OP_CLOSE, "\x03\xe8", 2);
        ASSERT_EQ(kube_exec_stream_new(&s, NULL, NULL), 0);
        ASSERT_EQ(kube_exec_stream_feed(s, buf, n), 0);
        ASSERT_TRUE(kube_exec_stream_closed(s));
        ASSERT_EQ(kube_exec_stream_result(s, &res), -ECONNRESET);
}

static int out_refuse(const void *p, size_t n, void *userdata)
{
        return -ENOSPC;
}

TEST(exec_stream_output_error_stops)
{
        _cleanup_(kube_exec_stream_freep) KubeExecStream *s = NULL;
        uint8_t buf[64];
        size_t n = channel_frame(buf, 1, "data");

        ASSERT_EQ(kube_exec_stream_new(&s, out_refuse, NULL), 0);
        ASSERT_EQ(kube_exec_stream_feed(s, buf, n), -ENOSPC);
        /* and stays failed */
        ASSERT_EQ(kube_exec_stream_feed(s, buf, n), -ENOSPC);
}

DEFINE_TEST_MAIN(LOG_INFO);
