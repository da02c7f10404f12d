/* SPDX-License-Identifier: Apache-2.0 */

/*
 * pods/exec over WebSocket: the HTTP/1.1 upgrade done by hand over curl's CONNECT_ONLY
 * connection (curl brings TLS, the client certificate and the CA; the token goes into the
 * request), standard input sent in frames, and the channel stream read by kube-exec-stream.c.
 */

#include <inttypes.h>
#include <poll.h>

#include "basic/log.h"
#include "basic/util.h"
#include "cluster/kube-exec.h"
#include "cluster/kube-internal.h"
#include "cluster/websocket.h"

#define EXEC_HEAD_MAX (16U * 1024U)
#define EXEC_ERROR_BODY_MAX (64U * 1024U)
#define EXEC_READ_CHUNK (64U * 1024U)
#define EXEC_POLL_SLICE_MSEC 1000
#define EXEC_STDIN_CHUNK (32U * 1024U)

/* ---------------------------------------------------------------- the connection */

typedef struct ExecConn {
        KubeClient *client;
        CURL *curl;
        curl_socket_t fd;
        uint64_t deadline;
} ExecConn;

static int conn_wait(ExecConn *x, short events)
{
        for (;;) {
                struct pollfd p = { .fd = x->fd, .events = events };
                uint64_t now = mono_usec();
                int k;

                if (x->client->cancel && atomic_load(x->client->cancel))
                        return -ECANCELED;
                if (now >= x->deadline)
                        return -ETIMEDOUT;
                k = poll(&p, 1, (int) MIN((x->deadline - now) / USEC_PER_MSEC + 1, EXEC_POLL_SLICE_MSEC));
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k > 0)
                        return 0;
        }
}

static int conn_send(ExecConn *x, const void *p, size_t n)
{
        while (n > 0) {
                size_t sent = 0;
                CURLcode code = curl_easy_send(x->curl, p, n, &sent);
                int r;

                if (code == CURLE_AGAIN) {
                        r = conn_wait(x, POLLOUT);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (code != CURLE_OK)
                        return -ECONNRESET;
                p = (const uint8_t *) p + sent;
                n -= sent;
        }
        return 0;
}

/* Receives up to n bytes: >0 the count, 0 at the end of the stream. */
static ssize_t conn_recv(ExecConn *x, void *p, size_t n)
{
        for (;;) {
                size_t got = 0;
                CURLcode code = curl_easy_recv(x->curl, p, n, &got);
                int r;

                if (code == CURLE_AGAIN) {
                        r = conn_wait(x, POLLIN);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (code != CURLE_OK)
                        return -ECONNRESET;
                return (ssize_t) got;
        }
}

/* One masked frame from the client, as the RFC demands. */
static int conn_send_frame(ExecConn *x, uint8_t opcode, const uint8_t *payload, size_t n)
{
        uint8_t head[WS_HEADER_MAX], mask[4], buf[WS_CONTROL_MAX];
        size_t k;
        int r;

        assert(n <= sizeof buf);
        r = random_bytes(mask, sizeof mask);
        if (r < 0)
                return r;
        k = ws_frame_header(head, true, opcode, n, mask);
        memcpy(buf, payload, n);
        ws_mask_apply(buf, n, mask, 0);
        r = conn_send(x, head, k);
        if (r < 0)
                return r;
        return conn_send(x, buf, n);
}

/* The value of header name in head ("Name: value\r\n"), copied into buf, or NULL. */
static const char *head_value(const char *head, const char *name, char *buf, size_t size)
{
        size_t l = strlen(name);

        for (const char *line = strstr(head, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
                const char *p = line + 2, *end;
                size_t k;

                if (strncasecmp(p, name, l) != 0 || p[l] != ':')
                        continue;
                p += l + 1;
                p += strspn(p, " \t");
                end = strstr(p, "\r\n");
                k = end ? (size_t) (end - p) : strlen(p);
                while (k > 0 && strchr(" \t", p[k - 1]))
                        k--;
                if (k >= size)
                        return NULL;
                memcpy(buf, p, k);
                buf[k] = '\0';
                return buf;
        }
        return NULL;
}

/* The authority ("host:port") and the request target of url. */
static int split_url(const char *url, char **ret_host, const char **ret_target)
{
        const char *p = strstr(url, "://"), *slash;
        char *h;

        if (!p)
                return -EINVAL;
        p += 3;
        slash = strchr(p, '/');
        if (!slash || slash == p)
                return -EINVAL;
        h = strndup(p, (size_t) (slash - p));
        if (!h)
                return -ENOMEM;
        *ret_host = h;
        *ret_target = slash;
        return 0;
}

static void curl_easy_cleanupp(CURL **c)
{
        if (*c)
                curl_easy_cleanup(*c);
}

/* Reads an error answer's body (what arrived with the head, then up to EXEC_ERROR_BODY_MAX). */
static void read_error_body(ExecConn *x, KubeBuffer *b, const char *head, long status)
{
        char tmp[4096], lenbuf[32];
        uint64_t want = EXEC_ERROR_BODY_MAX;

        if (head_value(head, "Content-Length", lenbuf, sizeof lenbuf) &&
            safe_atou64(lenbuf, &want) >= 0)
                want = MIN(want, (uint64_t) EXEC_ERROR_BODY_MAX);
        while (b->size < want) {
                ssize_t k = conn_recv(x, tmp, MIN(sizeof tmp, (size_t) (want - b->size)));

                if (k <= 0 || !kube_buffer_append(b, tmp, (size_t) k))
                        break;
        }
        kube_set_http_error(x->client, status, b->data, b->size);
}

/* Sends one chunk of standard input as a masked binary frame on channel 0; 0 at its end (then closed). */
static int send_stdin_chunk(ExecConn *x, KubeExecInputFunc in, void *userdata, uint8_t *frame, bool v5,
                            bool *ret_done)
{
        uint8_t mask[4], head[WS_HEADER_MAX];
        uint8_t *payload = frame + WS_HEADER_MAX;
        ssize_t k;
        size_t h;
        int r;

        k = in(payload + 1, EXEC_STDIN_CHUNK, userdata);
        if (k < 0)
                return (int) k;
        r = random_bytes(mask, sizeof mask);
        if (r < 0)
                return r;
        if (k == 0 && !v5) {
                *ret_done = true;
                return 0;
        }
        if (k == 0) {
                /* v5: a message on channel 255 naming the stream closes it; the command sees EOF. */
                payload[0] = KUBE_EXEC_CHANNEL_CLOSE;
                payload[1] = KUBE_EXEC_CHANNEL_STDIN;
                k = 1;
                *ret_done = true;
        } else
                payload[0] = KUBE_EXEC_CHANNEL_STDIN;
        h = ws_frame_header(head, true, WS_OP_BINARY, (uint64_t) k + 1, mask);
        ws_mask_apply(payload, (size_t) k + 1, mask, 0);
        memcpy(payload - h, head, h);
        return conn_send(x, payload - h, h + (size_t) k + 1);
}

/* Receives what is there without waiting: >0 bytes, 0 none for now, <0 error or the end (-ECONNRESET). */
static ssize_t conn_recv_now(ExecConn *x, void *p, size_t n)
{
        size_t got = 0;
        CURLcode code = curl_easy_recv(x->curl, p, n, &got);

        if (code == CURLE_AGAIN)
                return 0;
        if (code != CURLE_OK || got == 0)
                return -ECONNRESET;
        return (ssize_t) got;
}

int kube_exec(KubeClient *c, const char *namespace, const char *pod, const char *container,
              char *const *argv, unsigned timeout_sec, KubeExecOutputFunc out, void *userdata,
              KubeExecResult *ret)
{
        return kube_exec_stdin(c, namespace, pod, container, argv, timeout_sec, NULL, out, userdata, ret);
}

int kube_exec_stdin(KubeClient *c, const char *namespace, const char *pod, const char *container,
                    char *const *argv, unsigned timeout_sec, KubeExecInputFunc in, KubeExecOutputFunc out,
                    void *userdata, KubeExecResult *ret)
{
        _cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
        _cleanup_(kube_exec_stream_freep) KubeExecStream *s = NULL;
        _cleanup_free_ char *path = NULL, *url = NULL, *host = NULL, *request = NULL;
        _cleanup_free_ uint8_t *buf = NULL, *frame = NULL;
        _cleanup_(kube_buffer_done) KubeBuffer head = {};
        bool stdin_done = !in;
        uint8_t pong[WS_CONTROL_MAX];
        size_t pong_size = 0;
        uint8_t key_raw[16];
        char key[32], accept_want[29], value[256];
        const char *target, *body;
        ExecConn x = {};
        long status = 0;
        CURLcode code;
        char *sep;
        int r;

        assert(c);
        assert(ret);
        if (isempty(namespace) || isempty(pod) || !argv || !argv[0])
                return -EINVAL;
        kube_clear_error(c);

        r = kube_path(&path, "v1", "pods", namespace, pod);
        if (r < 0)
                return r;
        if (asprintf(&url, "%s%s/exec", c->server, path) < 0) {
                url = NULL;
                return -ENOMEM;
        }
        for (size_t i = 0; argv[i]; i++) {
                r = kube_url_add_query(&url, "command", argv[i]);
                if (r < 0)
                        return r;
        }
        if (container) {
                r = kube_url_add_query(&url, "container", container);
                if (r < 0)
                        return r;
        }
        if (in) {
                r = kube_url_add_query(&url, "stdin", "true");
                if (r < 0)
                        return r;
        }
        r = kube_url_add_query(&url, "stdout", "true");
        if (r < 0)
                return r;
        r = kube_url_add_query(&url, "stderr", "true");
        if (r < 0)
                return r;
        r = split_url(url, &host, &target);
        if (r < 0) {
                kube_set_error(c, "invalid API server URL '%s'", c->server);
                return r;
        }
        if (c->fence) {
                r = c->fence(c->fence_userdata);
                if (r < 0) {
                        kube_set_error(c, "exec in %s/%s: refused, the task is no longer ours", namespace, pod);
                        return r;
                }
        }

        x.client = c;
        x.deadline = mono_usec() + (uint64_t) (timeout_sec > 0 ? timeout_sec : c->timeout_sec) * USEC_PER_SEC;

        /* A copy of the client's handle: its TLS material, CA and timeouts, without disturbing it. */
        curl = curl_easy_duphandle(c->curl);
        if (!curl)
                return -ENOMEM;
        x.curl = curl;
        c->errbuf[0] = '\0';
        if (curl_easy_setopt(curl, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK ||
            /* No HTTP/2 through ALPN: the upgrade is HTTP/1.1. */
            curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL) != CURLE_OK ||
            curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, KUBE_CONNECT_TIMEOUT_MAX_MSEC) != CURLE_OK)
                return -EOPNOTSUPP;
        code = curl_easy_perform(curl);
        if (code != CURLE_OK) {
                kube_set_curl_error(c, code, "GET", url);
                return kube_curl_code_to_errno(c, code);
        }
        if (curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &x.fd) != CURLE_OK || x.fd == CURL_SOCKET_BAD)
                return -ECONNRESET;

        r = random_bytes(key_raw, sizeof key_raw);
        if (r < 0)
                return r;
        ws_base64(key_raw, sizeof key_raw, key);
        r = ws_accept_value(key, accept_want);
        if (r < 0)
                return r;
        r = asprintf(&request,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "User-Agent: storeagent\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n"
                     "%s%s"
                     "\r\n",
                     target, host, key, c->auth_header ?: "", c->auth_header ? "\r\n" : "");
        if (r < 0) {
                request = NULL;
                return -ENOMEM;
        }
        r = conn_send(&x, request, strlen(request));
        explicit_bzero(request, strlen(request));
        if (r < 0) {
                kube_set_error(c, "exec in %s/%s: sending the request failed", namespace, pod);
                return r;
        }

        /* The answer's head; what follows it already belongs to the stream. */
        buf = malloc(EXEC_READ_CHUNK);
        if (!buf)
                return -ENOMEM;
        kube_buffer_reset(&head, EXEC_HEAD_MAX);
        for (;;) {
                ssize_t k = conn_recv(&x, buf, 4096);

                if (k < 0) {
                        kube_set_error(c, "exec in %s/%s: no answer to the upgrade (%s)", namespace, pod,
                                       strerror((int) -k));
                        return (int) k;
                }
                if (k == 0) {
                        kube_set_error(c, "exec in %s/%s: the server closed the connection", namespace, pod);
                        return -ECONNRESET;
                }
                if (!kube_buffer_append(&head, (const char *) buf, (size_t) k)) {
                        kube_set_error(c, "exec in %s/%s: the answer's head is too long", namespace, pod);
                        return -EPROTO;
                }
                if (strstr(head.data, "\r\n\r\n"))
                        break;
        }
        sep = strstr(head.data, "\r\n\r\n");
        body = sep + 4;
        sep[2] = '\0'; /* the head keeps its last "\r\n" for head_value() */
        if (sscanf(head.data, "HTTP/1.%*1[01] %ld", &status) != 1) {
                kube_set_error(c, "exec in %s/%s: not an HTTP answer", namespace, pod);
                return -EPROTO;
        }
        c->last_status = status;
        if (status != 101) {
                _cleanup_(kube_buffer_done) KubeBuffer b = {};
                _cleanup_free_ char *head_copy = strdup(head.data);

                kube_buffer_reset(&b, EXEC_ERROR_BODY_MAX);
                (void) kube_buffer_append(&b, body, head.size - (size_t) (body - head.data));
                read_error_body(&x, &b, head_copy ?: "", status);
                return kube_http_status_to_errno(status, c->last_reason);
        }
        if (!head_value(head.data, "Sec-WebSocket-Accept", value, sizeof value) || !streq(value, accept_want)) {
                kube_set_error(c, "exec in %s/%s: the upgrade's Sec-WebSocket-Accept is wrong", namespace, pod);
                return -EPROTO;
        }
        if (!head_value(head.data, "Sec-WebSocket-Protocol", value, sizeof value) ||
            !STR_IN_SET(value, "v5.channel.k8s.io", "v4.channel.k8s.io")) {
                kube_set_error(c, "exec in %s/%s: the server chose no channel protocol we speak", namespace,
                               pod);
                return -EPROTO;
        }

        if (in) {
                frame = malloc(WS_HEADER_MAX + 1 + EXEC_STDIN_CHUNK);
                if (!frame)
                        return -ENOMEM;
        }

        r = kube_exec_stream_new(&s, out, userdata);
        if (r < 0)
                return r;
        r = kube_exec_stream_feed(s, body, head.size - (size_t) (body - head.data));
        /* While there is input: a chunk out, then whatever came in meanwhile, without waiting for it. */
        while (r == 0 && !kube_exec_stream_closed(s) && !stdin_done) {
                ssize_t k;

                r = send_stdin_chunk(&x, in, userdata, frame, streq(value, "v5.channel.k8s.io"), &stdin_done);
                if (r < 0)
                        break;
                while (r == 0 && (k = conn_recv_now(&x, buf, EXEC_READ_CHUNK)) != 0) {
                        if (k < 0) {
                                r = (int) k;
                                break;
                        }
                        r = kube_exec_stream_feed(s, buf, (size_t) k);
                }
                if (r == 0 && kube_exec_stream_take_ping(s, pong, &pong_size))
                        r = conn_send_frame(&x, WS_OP_PONG, pong, pong_size);
        }
        while (r == 0 && !kube_exec_stream_closed(s)) {
                ssize_t k;

                if (kube_exec_stream_take_ping(s, pong, &pong_size)) {
                        r = conn_send_frame(&x, WS_OP_PONG, pong, pong_size);
                        if (r < 0)
                                break;
                }
                k = conn_recv(&x, buf, EXEC_READ_CHUNK);
                if (k <= 0) {
                        r = (int) k;
                        break;
                }
                r = kube_exec_stream_feed(s, buf, (size_t) k);
        }
        if (r < 0) {
                if (r == -ECANCELED)
                        kube_set_error(c, "exec in %s/%s: cancelled", namespace, pod);
                else if (r == -ETIMEDOUT)
                        kube_set_error(c, "exec in %s/%s: no end after %u s", namespace, pod,
                                       timeout_sec > 0 ? timeout_sec : c->timeout_sec);
                else if (r == -EPROTO)
                        kube_set_error(c, "exec in %s/%s: broken WebSocket stream", namespace, pod);
                else if (!c->last_error)
                        kube_set_error(c, "exec in %s/%s: %s", namespace, pod, strerror(-r));
                return r;
        }

        /* Say goodbye (status 1000); the server closes after its status anyway. */
        (void) conn_send_frame(&x, WS_OP_CLOSE, (const uint8_t[]){ 0x03, 0xE8 }, 2);

        r = kube_exec_stream_result(s, ret);
        if (r < 0) {
                kube_set_error(c, "exec in %s/%s: the stream ended without the command's status", namespace,
                               pod);
                return r;
        }
        memcpy(ret->protocol, value, MIN(strlen(value) + 1, sizeof ret->protocol));
        ret->protocol[sizeof ret->protocol - 1] = '\0';
        log_debug("exec in %s/%s (%s): exit %d, %" PRIu64 " bytes of output", namespace, pod, value,
                  ret->exit_code, ret->stdout_bytes);
        return 0;
}
