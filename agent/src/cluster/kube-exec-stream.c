/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The pods/exec stream after the upgrade: WebSocket messages, each led by its channel byte,
 * turned into standard output for the caller, a tail of standard error, and the command's status.
 */

#include "basic/util.h"
#include "cluster/kube-exec.h"
#include "cluster/kube-internal.h"
#include "cluster/websocket.h"

#define EXEC_STATUS_MAX (64U * 1024U)

struct KubeExecStream {
        WsParser parser;
        KubeExecOutputFunc out;
        void *userdata;

        int channel; /* of the message being read; -1 before its first byte */
        uint64_t stdout_bytes;
        /* the tail of stderr, a ring */
        char err[KUBE_EXEC_STDERR_MAX];
        size_t err_start, err_size;
        KubeBuffer status;
        bool have_status;
        bool closed;
        /* a ping's payload to answer */
        uint8_t pong[WS_CONTROL_MAX];
        size_t pong_size;
        bool pong_pending;
};

void kube_exec_result_done(KubeExecResult *r)
{
        if (!r)
                return;
        free(r->message);
        free(r->stderr_tail);
        *r = (KubeExecResult){};
}

static void err_append(KubeExecStream *s, const uint8_t *p, size_t n)
{
        if (n >= sizeof s->err) {
                p += n - sizeof s->err;
                n = sizeof s->err;
        }
        for (size_t i = 0; i < n; i++) {
                size_t at = (s->err_start + s->err_size) % sizeof s->err;

                s->err[at] = (char) p[i];
                if (s->err_size < sizeof s->err)
                        s->err_size++;
                else
                        s->err_start = (s->err_start + 1) % sizeof s->err;
        }
}

static int on_data(uint8_t opcode, bool first, bool last, const uint8_t *p, size_t n, void *userdata)
{
        KubeExecStream *s = userdata;
        int r;

        if (first) {
                if (n == 0) {
                        s->channel = last ? -1 : s->channel; /* an empty message: nothing */
                        if (last)
                                return 0;
                        return -EPROTO; /* cannot happen: a first piece with no byte is also the last */
                }
                s->channel = p[0];
                p++;
                n--;
                if (s->channel == KUBE_EXEC_CHANNEL_STATUS)
                        kube_buffer_reset(&s->status, EXEC_STATUS_MAX);
        }

        switch (s->channel) {
        case KUBE_EXEC_CHANNEL_STDOUT:
                if (n > 0 && s->out) {
                        r = s->out(p, n, s->userdata);
                        if (r < 0)
                                return r;
                }
                s->stdout_bytes += n;
                break;
        case KUBE_EXEC_CHANNEL_STDERR:
                err_append(s, p, n);
                break;
        case KUBE_EXEC_CHANNEL_STATUS:
                if (n > 0 && !kube_buffer_append(&s->status, (const char *) p, n))
                        return s->status.overflow ? -EPROTO : -ENOMEM;
                if (last) {
                        /* The command's end: what may follow is not ours to read. */
                        s->have_status = true;
                        s->channel = -1;
                        return 1;
                }
                break;
        default:
                /* stdin echo, resize, close of a stream (v5): nothing for us */
                break;
        }
        if (last)
                s->channel = -1;
        return 0;
}

static int on_control(uint8_t opcode, const uint8_t *p, size_t n, void *userdata)
{
        KubeExecStream *s = userdata;

        if (opcode == WS_OP_CLOSE)
                s->closed = true;
        else if (opcode == WS_OP_PING) {
                memcpy(s->pong, p, n);
                s->pong_size = n;
                s->pong_pending = true;
        }
        return 0;
}

int kube_exec_stream_new(KubeExecStream **ret, KubeExecOutputFunc out, void *userdata)
{
        KubeExecStream *s;

        assert(ret);
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->out = out;
        s->userdata = userdata;
        s->channel = -1;
        ws_parser_init(&s->parser, on_data, on_control, s);
        *ret = s;
        return 0;
}

KubeExecStream *kube_exec_stream_free(KubeExecStream *s)
{
        if (!s)
                return NULL;
        kube_buffer_done(&s->status);
        free(s);
        return NULL;
}

int kube_exec_stream_feed(KubeExecStream *s, const void *p, size_t n)
{
        int r;

        assert(s);
        r = ws_parser_feed(&s->parser, p, n);
        if (r < 0)
                return r;
        return s->have_status ? 1 : 0;
}

bool kube_exec_stream_closed(KubeExecStream *s)
{
        assert(s);
        return s->closed;
}

/*
 * The status: {"status":"Success"}, or {"status":"Failure","reason":"NonZeroExitCode",
 * "message":"...","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}, or another
 * Failure (the command could not start) with its message.
 */
static int parse_status(const char *data, size_t n, KubeExecResult *ret)
{
        _cleanup_(json_decrefp) json_t *j = NULL;
        const char *status, *message;
        json_t *causes, *cause;
        size_t i;

        j = json_loadb(data, n, 0, NULL);
        if (!json_is_object(j))
                return -EBADMSG;
        status = json_string_value(json_object_get(j, "status"));
        if (!status)
                return -EBADMSG;
        message = json_string_value(json_object_get(j, "message"));
        if (message) {
                ret->message = strdup(message);
                if (!ret->message)
                        return -ENOMEM;
        }
        if (streq(status, "Success")) {
                ret->exit_code = 0;
                return 0;
        }
        ret->exit_code = -1;
        causes = json_object_get(json_object_get(j, "details"), "causes");
        json_array_foreach(causes, i, cause) {
                const char *reason = json_string_value(json_object_get(cause, "reason"));
                const char *m = json_string_value(json_object_get(cause, "message"));
                int code;

                if (reason && m && streq(reason, "ExitCode") && safe_atoi(m, &code) >= 0 && code >= 0 &&
                    code <= 255)
                        ret->exit_code = code;
        }
        return 0;
}

int kube_exec_stream_result(KubeExecStream *s, KubeExecResult *ret)
{
        KubeExecResult res = { .exit_code = -1 };
        int r;

        assert(s);
        assert(ret);
        if (!s->have_status)
                return -ECONNRESET;
        r = parse_status(s->status.data ?: "", s->status.size, &res);
        if (r < 0) {
                kube_exec_result_done(&res);
                return r;
        }
        res.stderr_tail = malloc(s->err_size + 1);
        if (!res.stderr_tail) {
                kube_exec_result_done(&res);
                return -ENOMEM;
        }
        for (size_t i = 0; i < s->err_size; i++)
                res.stderr_tail[i] = s->err[(s->err_start + i) % sizeof s->err];
        res.stderr_tail[s->err_size] = '\0';
        res.stdout_bytes = s->stdout_bytes;
        *ret = res;
        return 0;
}

bool kube_exec_stream_take_ping(KubeExecStream *s, uint8_t buf[static WS_CONTROL_MAX], size_t *ret_size)
{
        assert(s);
        if (!s->pong_pending)
                return false;
        s->pong_pending = false;
        memcpy(buf, s->pong, s->pong_size);
        *ret_size = s->pong_size;
        return true;
}
