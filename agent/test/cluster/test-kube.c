/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The Kubernetes API client, in three parts:
 *
 *  1. against a scripted HTTP server in this process: retries and backoff on
 *     503/429 (Retry-After), error mapping with the Status message, the apply
 *     request as sent, watch streams split across chunks, cancel and timeouts;
 *  2. against `openssl s_server` demanding a client certificate (when openssl is
 *     installed): PEM data passed through memfds, files, a wrong CA refused;
 *  3. against the real control plane named by $KUBECONFIG: server version,
 *     server-side apply twice, get, list by label, 404/409/422/401/403 with the
 *     API server's words, delete twice, a watch seeing an object created while
 *     it runs, unreachable server, wrong CA.
 *
 * Without $KUBECONFIG parts 1 and 2 run and the test exits 77 (skipped), so a
 * missing control plane is never mistaken for a pass.
 */

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "basic/util.h"
#include "cluster/kube.h"
#include "tests.h"

extern char **environ;

#define CHECK_R(call, expected)                                                                             \
        do {                                                                                                \
                int _r = (call);                                                                            \
                if (_r != (expected)) {                                                                     \
                        fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d; last error: %s\n",        \
                                __FILE__, __LINE__, #call, _r, strerror(_r < 0 ? -_r : 0), (expected),      \
                                kube_client_last_error(c));                                                 \
                        failures++;                                                                         \
                }                                                                                           \
        } while (0)

/* ---- Part 1: a scripted HTTP/1.1 server on 127.0.0.1 ---------------------------------------------- */

typedef struct FakeResponse {
        int status;
        const char *headers;   /* extra header lines, each ending in \r\n */
        const char *body;      /* sent with Content-Length */
        const char *chunks[4]; /* or sent chunked, with a pause between chunks */
        bool hang;             /* never answer; wait until the client goes away */
} FakeResponse;

typedef struct FakeServer {
        int fd;
        unsigned port;
        pthread_t thread;
        const FakeResponse *responses;
        size_t n_responses;
        atomic_size_t served;
        char requests[8][2048]; /* request line, headers and body as received */
} FakeServer;

static void write_all(int fd, const char *s, size_t n)
{
        while (n > 0) {
                ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
                if (k <= 0)
                        return;
                s += k;
                n -= (size_t) k;
        }
}

/* Reads one request (headers and a Content-Length body) into buf. */
static void read_request(int fd, char *buf, size_t size)
{
        size_t n = 0, want = 0;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                char *end;
                ssize_t k;

                if (poll(&p, 1, 5000) <= 0)
                        break;
                k = recv(fd, buf + n, size - 1 - n, 0);
                if (k <= 0)
                        break;
                n += (size_t) k;
                buf[n] = '\0';
                end = strstr(buf, "\r\n\r\n");
                if (end && want == 0) {
                        const char *cl = strcasestr(buf, "Content-Length:");
                        want = (size_t) (end + 4 - buf) + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
                }
                if ((want > 0 && n >= want) || n >= size - 1)
                        break;
        }
        buf[n] = '\0';
}

static void *fake_server_thread(void *userdata)
{
        FakeServer *s = userdata;

        for (size_t i = 0; i < s->n_responses; i++) {
                const FakeResponse *resp = &s->responses[i];
                char head[1024];
                int cfd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);

                if (cfd < 0)
                        break;
                read_request(cfd, s->requests[MIN(i, ELEMENTSOF(s->requests) - 1)], sizeof(s->requests[0]));
                /* Counted before answering: the client may check the count as soon as it has the
                 * last byte, before this thread runs again. */
                atomic_fetch_add(&s->served, 1);

                if (resp->hang) {
                        /* Until the client hangs up (its timeout or cancel). */
                        struct pollfd p = { .fd = cfd, .events = POLLIN | POLLRDHUP };
                        (void) poll(&p, 1, 30000);
                } else if (resp->body || !resp->chunks[0]) {
                        const char *body = resp->body ?: "";
                        snprintf(head, sizeof(head),
                                 "HTTP/1.1 %d Whatever\r\nContent-Type: application/json\r\nConnection: "
                                 "close\r\n"
                                 "%sContent-Length: %zu\r\n\r\n",
                                 resp->status, resp->headers ?: "", strlen(body));
                        write_all(cfd, head, strlen(head));
                        write_all(cfd, body, strlen(body));
                } else {
                        snprintf(head, sizeof(head),
                                 "HTTP/1.1 %d Whatever\r\nContent-Type: application/json\r\nConnection: "
                                 "close\r\n"
                                 "%sTransfer-Encoding: chunked\r\n\r\n",
                                 resp->status, resp->headers ?: "");
                        write_all(cfd, head, strlen(head));
                        for (size_t k = 0; k < ELEMENTSOF(resp->chunks) && resp->chunks[k]; k++) {
                                char len[32];
                                snprintf(len, sizeof(len), "%zx\r\n", strlen(resp->chunks[k]));
                                write_all(cfd, len, strlen(len));
                                write_all(cfd, resp->chunks[k], strlen(resp->chunks[k]));
                                write_all(cfd, "\r\n", 2);
                                sleep_msec(50); /* so the client sees the pieces separately */
                        }
                        write_all(cfd, "0\r\n\r\n", 5);
                }
                close(cfd);
        }
        return NULL;
}

static void fake_server_start(FakeServer *s, const FakeResponse *responses, size_t n)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);

        memset(s, 0, sizeof(*s));
        s->responses = responses;
        s->n_responses = n;
        s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s->fd < 0 || bind(s->fd, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(s->fd, 16) < 0 ||
            getsockname(s->fd, (struct sockaddr *) &a, &len) < 0)
                abort();
        s->port = ntohs(a.sin_port);
        if (pthread_create(&s->thread, NULL, fake_server_thread, s) != 0)
                abort();
}

static void fake_server_stop(FakeServer *s)
{
        shutdown(s->fd, SHUT_RDWR); /* wakes accept() if the script was not used up */
        pthread_join(s->thread, NULL);
        close(s->fd);
}

static KubeClient *fake_client(FakeServer *s, unsigned timeout_sec)
{
        char server[64];
        KubeConfig cfg = { .server = server, .token = (char *) "t0ken" };
        KubeClient *c = NULL;

        snprintf(server, sizeof(server), "http://127.0.0.1:%u", s->port);
        if (kube_client_new(&c, &cfg, timeout_sec) < 0)
                abort();
        return c;
}

#define STATUS(code, reason, msg)                                                                           \
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"" msg              \
        "\",\"reason\":\"" reason "\",\"code\":" #code "}"

TEST(test_retry_then_success)
{
        static const FakeResponse script[] = {
                { .status = 503, .body = STATUS(503, "ServiceUnavailable", "etcd is busy") },
                { .status = 429,
                  .headers = "Retry-After: 1\r\n",
                  .body = STATUS(429, "TooManyRequests", "slow down") },
                { .status = 200, .body = "{\"gitVersion\":\"v9.9.9\"}" },
        };
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        _cleanup_free_ char *v = NULL;
        FakeServer s;
        uint64_t t0;

        fake_server_start(&s, script, ELEMENTSOF(script));
        c = fake_client(&s, 10);
        t0 = mono_usec();
        CHECK_R(kube_server_version(c, &v), 0);
        CHECK(v && streq(v, "v9.9.9"));
        /* 200 ms backoff after the 503, then Retry-After's full second after the 429. */
        CHECK(elapsed_msec(t0) >= 1150);
        CHECK(atomic_load(&s.served) == 3);
        CHECK_CONTAINS(s.requests[0], "GET /version HTTP/1.1");
        CHECK_CONTAINS(s.requests[0], "Authorization: Bearer t0ken");
        CHECK_CONTAINS(s.requests[0], "Accept: application/json");
        CHECK(streq(kube_client_last_error(c), ""));
        CHECK(kube_client_last_status(c) == 200);
        fake_server_stop(&s);
}

TEST(test_retry_exhausted)
{
        static const FakeResponse script[] = {
                { .status = 500, .body = STATUS(500, "InternalError", "boom") },
                { .status = 502, .body = "<html>bad gateway</html>" },
                { .status = 503, .body = "" },
                { .status = 504,
                  .body = STATUS(504, "Timeout", "the server was unable to return a response in time") },
        };
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        FakeServer s;

        fake_server_start(&s, script, ELEMENTSOF(script));
        c = fake_client(&s, 20);
        CHECK_R(kube_get(c, "/api/v1/namespaces", NULL), -EAGAIN);
        CHECK(atomic_load(&s.served) == 4);
        CHECK_CONTAINS(kube_client_last_error(c), "HTTP 504 Gateway Timeout: the server was unable to "
                                                  "return a response in time (gave up after 4 attempts)");
        fake_server_stop(&s);
}

TEST(test_post_not_repeated)
{
        static const FakeResponse script[] = {
                { .status = 500, .body = STATUS(500, "InternalError", "etcdserver: request timed out") },
                { .status = 503, .body = STATUS(503, "ServiceUnavailable", "not ready") },
                { .status = 201, .body = "{}" },
        };
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        FakeServer s;

        fake_server_start(&s, script, ELEMENTSOF(script));
        c = fake_client(&s, 10);
        /* A 500 may have created the object: not sent again. */
        CHECK_R(kube_request(c, "POST", "/api/v1/namespaces", "application/json", "{}", NULL), -EAGAIN);
        CHECK(atomic_load(&s.served) == 1);
        CHECK(!strstr(kube_client_last_error(c), "gave up"));
        /* A 503 says nothing was done: sent again. */
        CHECK_R(kube_request(c, "POST", "/api/v1/namespaces", "application/json", "{}", NULL), 0);
        CHECK(atomic_load(&s.served) == 3);
        fake_server_stop(&s);
}

/* A worker that lost its task's lease: every request but a GET is refused before it is sent. */
static int refuse_writes(void *userdata)
{
        atomic_int *asked = userdata;
        atomic_fetch_add(asked, 1);
        return -ECANCELED;
}

TEST(test_fence_refuses_writes)
{
        static const FakeResponse script[] = {
                { .status = 200, .body = "{\"kind\":\"Namespace\"}" },
        };
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        atomic_int asked = 0;
        FakeServer s;

        fake_server_start(&s, script, ELEMENTSOF(script));
        c = fake_client(&s, 10);
        kube_client_set_fence(c, refuse_writes, &asked);
        CHECK_R(kube_request(c, "POST", "/api/v1/namespaces", "application/json", "{}", NULL), -ECANCELED);
        CHECK_R(kube_request(c, "PATCH", "/api/v1/namespaces/x", "application/merge-patch+json", "{}", NULL),
                -ECANCELED);
        CHECK_R(kube_delete(c, "/api/v1/namespaces/x", NULL), -ECANCELED);
        CHECK(atomic_load(&asked) == 3);
        CHECK(atomic_load(&s.served) == 0);
        CHECK_CONTAINS(kube_client_last_error(c), "no longer ours");
        /* Reading is not acting: a GET goes through without asking. */
        CHECK_R(kube_get(c, "/api/v1/namespaces/x", NULL), 0);
        CHECK(atomic_load(&asked) == 3);
        CHECK(atomic_load(&s.served) == 1);
        fake_server_stop(&s);
}

TEST(test_error_mapping)
{
        static const FakeResponse script[] = {
                { .status = 404, .body = STATUS(404, "NotFound", "configmaps \\\"x\\\" not found") },
                { .status = 409,
                  .body = STATUS(409, "AlreadyExists", "configmaps \\\"x\\\" already exists") },
                { .status = 409, .body = STATUS(409, "Conflict", "the object has been modified") },
                { .status = 422, .body = STATUS(422, "Invalid", "ConfigMap \\\"Bad_Name\\\" is invalid") },
                { .status = 403,
                  .body = STATUS(403, "Forbidden",
                                 "namespaces is forbidden: User \\\"system:serviceaccount:x:y\\\" cannot "
                                 "create resource") },
                { .status = 401, .body = STATUS(401, "Unauthorized", "Unauthorized") },
                { .status = 410, .body = STATUS(410, "Expired", "too old resource version") },
                { .status = 400, .body = "not json at all" },
        };
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        FakeServer s;

        fake_server_start(&s, script, ELEMENTSOF(script));
        c = fake_client(&s, 10);

        CHECK_R(kube_get(c, "/api/v1/namespaces/a/configmaps/x", NULL), -ENOENT);
        CHECK(streq(kube_client_last_error(c), "HTTP 404 Not Found: configmaps \"x\" not found"));
        CHECK(streq_ptr(kube_client_last_reason(c), "NotFound"));
        CHECK(kube_client_last_status(c) == 404);
        CHECK_R(kube_request(c, "POST", "/api/v1/namespaces/a/configmaps", "application/json", "{}", NULL),
                -EEXIST);
        CHECK_R(kube_request(c, "PUT", "/api/v1/namespaces/a/configmaps/x", "application/json", "{}", NULL),
                -EBUSY);
        CHECK_CONTAINS(s.requests[2], "PUT /api/v1/namespaces/a/configmaps/x HTTP/1.1");
        CHECK_R(kube_get(c, "/x", NULL), -EINVAL);
        CHECK(streq(kube_client_last_error(c),
                    "HTTP 422 Unprocessable Entity: ConfigMap \"Bad_Name\" is invalid"));
        CHECK_R(kube_get(c, "/x", NULL), -EPERM);
        CHECK_CONTAINS(kube_client_last_error(c),
                       "HTTP 403 Forbidden: namespaces is forbidden: User \"system:serviceaccount:x:y\"");
        CHECK_R(kube_get(c, "/x", NULL), -EACCES);
        CHECK(streq(kube_client_last_error(c), KUBE_UNAUTHORIZED_MESSAGE));
        CHECK_R(kube_get(c, "/x", NULL), -ESTALE);
        CHECK_R(kube_get(c, "/x", NULL), -EINVAL);
        CHECK(streq(kube_client_last_error(c), "HTTP 400 Bad Request: not json at all"));
        CHECK(atomic_load(&s.served) == ELEMENTSOF(script)); /* none of these is retried */
        fake_server_stop(&s);
}

TEST(test_apply_delete_list_requests)
{
        static const FakeResponse script[] = {
                { .status = 200,
                  .body = "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\",\"resourceVersion\":\"7\"}"
                          "}" },
                { .status = 404, .body = STATUS(404, "NotFound", "configmaps \\\"cm\\\" not found") },
                { .status = 200, .body = "{\"items\":[]}" },
                { .status = 200, .body = "{not json" },
        };
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        _cleanup_(json_decrefp) json_t *obj = NULL, *res = NULL, *list = NULL;
        FakeServer s;

        fake_server_start(&s, script, ELEMENTSOF(script));
        c = fake_client(&s, 10);

        obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                        "metadata", "name", "cm", "namespace", "store-a", "data", "k", "v");
        CHECK_R(kube_apply(c, obj, &res), 0);
        CHECK(streq_ptr(
                json_string_value(json_object_get(json_object_get(res, "metadata"), "resourceVersion")),
                "7"));
        CHECK_CONTAINS(s.requests[0],
                       "PATCH /api/v1/namespaces/store-a/configmaps/cm?fieldManager=storeagent&force=true "
                       "HTTP/1.1");
        CHECK_CONTAINS(s.requests[0], "Content-Type: application/apply-patch+yaml");
        CHECK_CONTAINS(s.requests[0], "\"kind\":\"ConfigMap\"");
        CHECK(!strstr(s.requests[0], "Expect:"));

        /* Deleting what is already gone is success, and says nothing went wrong. */
        CHECK_R(kube_delete(c, "/api/v1/namespaces/store-a/configmaps/cm", "Background"), 0);
        CHECK_CONTAINS(
                s.requests[1],
                "DELETE /api/v1/namespaces/store-a/configmaps/cm?propagationPolicy=Background HTTP/1.1");
        CHECK(streq(kube_client_last_error(c), ""));

        CHECK_R(kube_list(c, "/api/v1/namespaces", "app=x,tier in (a,b)", &list), 0);
        CHECK_CONTAINS(s.requests[2],
                       "GET /api/v1/namespaces?labelSelector=app%3Dx%2Ctier%20in%20%28a%2Cb%29 HTTP/1.1");
        CHECK(json_is_array(json_object_get(list, "items")));

        CHECK_R(kube_get(c, "/api/v1/namespaces", &res), -EBADMSG);
        CHECK_CONTAINS(kube_client_last_error(c), "response is not JSON");
        fake_server_stop(&s);
}

typedef struct WatchLog {
        char types[8][16];
        char names[8][64];
        size_t n;
        const char *stop_at; /* type at which to return 1 */
} WatchLog;

static int record_event(const char *type, json_t *object, void *userdata)
{
        WatchLog *w = userdata;
        const char *name = json_string_value(json_object_get(json_object_get(object, "metadata"), "name"));

        if (w->n < ELEMENTSOF(w->types)) {
                snprintf(w->types[w->n], sizeof(w->types[0]), "%s", type);
                snprintf(w->names[w->n], sizeof(w->names[0]), "%s", strna(name));
                w->n++;
        }
        return w->stop_at && streq(type, w->stop_at) ? 1 : 0;
}

#define EV_ADDED                                                                                            \
        "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\","              \
        "\"resourceVersion\":\"5\"}}}\n"
#define EV_MODIFIED "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
#define EV_BOOKMARK "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}"

TEST(test_watch_stream)
{
        static const FakeResponse script[] = {
                /* Events split mid-line across chunks; the last one without its newline. */
                { .status = 200,
                  .chunks = { EV_ADDED "{\"type\":\"MOD",
                              "IFIED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n", EV_BOOKMARK } },
                { .status = 200, .chunks = { EV_ADDED, EV_MODIFIED, EV_BOOKMARK "\n" } },
                { .status = 200,
                  .chunks = { EV_ADDED, "{\"type\":\"ERROR\",\"object\":" STATUS(
                                                410, "Expired", "too old resource version: 1 (5)") "}\n" } },
                { .status = 410, .body = STATUS(410, "Expired", "too old resource version") },
        };
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        WatchLog w = {};
        FakeServer s;

        fake_server_start(&s, script, ELEMENTSOF(script));
        c = fake_client(&s, 10);

        CHECK_R(kube_watch(c, "/api/v1/namespaces/n/configmaps", "app=x", "42", 5, record_event, &w), 0);
        CHECK_CONTAINS(s.requests[0], "GET "
                                      "/api/v1/namespaces/n/"
                                      "configmaps?watch=1&allowWatchBookmarks=true&timeoutSeconds=5&"
                                      "labelSelector=app%3Dx&resourceVersion=42 HTTP/1.1");
        CHECK(w.n == 3);
        CHECK(streq(w.types[0], "ADDED") && streq(w.names[0], "a"));
        CHECK(streq(w.types[1], "MODIFIED"));
        CHECK(streq(w.types[2], "BOOKMARK"));

        /* The callback stops the watch: its value comes back. */
        w = (WatchLog){ .stop_at = "MODIFIED" };
        CHECK_R(kube_watch(c, "/api/v1/namespaces/n/configmaps", NULL, NULL, 5, record_event, &w), 1);
        CHECK(w.n == 2);

        w = (WatchLog){};
        CHECK_R(kube_watch(c, "/api/v1/namespaces/n/configmaps", NULL, "1", 5, record_event, &w), -ESTALE);
        CHECK(w.n == 1);
        CHECK_CONTAINS(kube_client_last_error(c), "too old resource version: 1 (5)");

        CHECK_R(kube_watch(c, "/api/v1/namespaces/n/configmaps", NULL, "1", 5, record_event, &w), -ESTALE);
        CHECK_CONTAINS(kube_client_last_error(c), "HTTP 410 Gone: too old resource version");
        fake_server_stop(&s);
}

TEST(test_cancel_and_timeout)
{
        static const FakeResponse script[] = { { .hang = true }, { .hang = true }, { .hang = true } };
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        atomic_bool cancel = false;
        WatchLog w = {};
        pthread_t t;
        FakeServer s;
        uint64_t t0;

        fake_server_start(&s, script, ELEMENTSOF(script));
        c = fake_client(&s, 1);

        /* The client's 1 s timeout bounds a call that gets no answer (without it the call would
         * hang; the upper bound is loose because it only has to tell the two apart). */
        t0 = mono_usec();
        CHECK_R(kube_get(c, "/api/v1/namespaces", NULL), -ETIMEDOUT);
        CHECK(elapsed_msec(t0) >= 900 && elapsed_msec(t0) < 15000);
        CHECK_CONTAINS(kube_client_last_error(c), "imed out");

        /* A raised flag ends a silent watch long before its 60 s timeout. */
        kube_client_set_cancel(c, &cancel);
        CHECK(pthread_create(&t, NULL, raise_after_300ms, &cancel) == 0);
        t0 = mono_usec();
        CHECK_R(kube_watch(c, "/api/v1/namespaces", NULL, NULL, 60, record_event, &w), -ECANCELED);
        CHECK(elapsed_msec(t0) < 15000);
        pthread_join(t, NULL);

        /* With the flag still up nothing starts (a started call would time out: -ETIMEDOUT). */
        CHECK_R(kube_get(c, "/api/v1/namespaces", NULL), -ECANCELED);
        CHECK_CONTAINS(kube_client_last_error(c), "cancelled");
        kube_client_set_cancel(c, NULL);
        fake_server_stop(&s);
}

TEST(test_connection_refused)
{
        KubeConfig cfg = { .server = (char *) "http://127.0.0.1:1" };
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        uint64_t t0;

        CHECK(kube_client_new(&c, &cfg, 10) == 0);
        t0 = mono_usec();
        CHECK_R(kube_get(c, "/version", NULL), -ECONNREFUSED);
        /* Retried (200+400+800 ms of backoff), then given up rather than retried for ever. */
        CHECK(elapsed_msec(t0) >= 1300 && elapsed_msec(t0) < 20000);
        CHECK_CONTAINS(kube_client_last_error(c),
                       "GET http://127.0.0.1:1/version: Failed to connect to 127.0.0.1 port 1");
        CHECK_CONTAINS(kube_client_last_error(c), "(gave up after 4 attempts)");
        CHECK(kube_client_last_status(c) == 0);
}

TEST(test_paths)
{
        _cleanup_free_ char *p1 = NULL, *p2 = NULL, *p3 = NULL, *p4 = NULL, *p5 = NULL, *p6 = NULL,
                            *p7 = NULL;
        _cleanup_(json_decrefp) json_t *ns = NULL, *np = NULL, *widget = NULL, *noname = NULL,
                                       *cm_nons = NULL;
        char *x = NULL;

        CHECK(kube_path(&p1, "v1", "namespaces", NULL, "store-a") == 0);
        CHECK(streq_ptr(p1, "/api/v1/namespaces/store-a"));
        CHECK(kube_path(&p2, "apps/v1", "deployments", "store-a", NULL) == 0);
        CHECK(streq_ptr(p2, "/apis/apps/v1/namespaces/store-a/deployments"));
        CHECK(kube_path(&p3, "v1", "configmaps", "ns", "a b") == 0);
        CHECK(streq_ptr(p3, "/api/v1/namespaces/ns/configmaps/a%20b"));
        CHECK(kube_path(&x, "v1", "configmaps", "ns", "../secrets") == -EINVAL);
        CHECK(kube_path(&x, "v1", "configmaps", "", NULL) == -EINVAL);
        CHECK(kube_path(&x, "", "configmaps", NULL, NULL) == -EINVAL);
        CHECK(!x);

        ns = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name",
                       "store-a");
        CHECK(kube_object_path(ns, &p4) == 0);
        CHECK(streq_ptr(p4, "/api/v1/namespaces/store-a"));
        np = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "networking.k8s.io/v1", "kind",
                       "NetworkPolicy", "metadata", "name", "deny", "namespace", "store-a");
        CHECK(kube_object_path(np, &p5) == 0);
        CHECK(streq_ptr(p5, "/apis/networking.k8s.io/v1/namespaces/store-a/networkpolicies/deny"));
        widget = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "example.com/v1", "kind", "Policy",
                           "metadata", "name", "w", "namespace", "n");
        CHECK(kube_object_path(widget, &p6) == 0);
        CHECK(streq_ptr(p6, "/apis/example.com/v1/namespaces/n/policies/w"));
        json_object_set_new(widget, "kind", json_string("Ingress"));
        CHECK(kube_object_path(widget, &p7) == 0);
        CHECK(streq_ptr(p7, "/apis/example.com/v1/namespaces/n/ingresses/w"));
        noname = json_pack("{s:s, s:s, s:{}}", "apiVersion", "v1", "kind", "Secret", "metadata");
        CHECK(kube_object_path(noname, &x) == -EINVAL);
        cm_nons = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
                            "name", "x");
        CHECK(kube_object_path(cm_nons, &x) == -EINVAL);
        CHECK(!x);
}

/* ---- Part 2: TLS against openssl s_server ------------------------------------------------------------ */

static char *tls_dir; /* test_tmpdir(): removed when every check passed */

static int run(char *const argv[])
{
        pid_t pid;
        int status;
        posix_spawn_file_actions_t fa;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -1;
        }
        posix_spawn_file_actions_destroy(&fa);
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
                return -1;
        return WEXITSTATUS(status);
}

/* A CA, a server certificate for 127.0.0.1 signed by it, and a client certificate. */
static bool make_pki(void)
{
        _cleanup_free_ char *ca_key = test_path(tls_dir, "ca.key"), *ca_crt = test_path(tls_dir, "ca.crt"),
                            *srv_key = test_path(tls_dir, "srv.key"),
                            *srv_csr = test_path(tls_dir, "srv.csr"),
                            *srv_crt = test_path(tls_dir, "srv.crt"),
                            *cli_key = test_path(tls_dir, "cli.key"),
                            *cli_csr = test_path(tls_dir, "cli.csr"),
                            *cli_crt = test_path(tls_dir, "cli.crt"), *ext = test_path(tls_dir, "ext"),
                            *other_key = test_path(tls_dir, "other.key"),
                            *other_crt = test_path(tls_dir, "other.crt");

        if (write_file_atomic(ext, "subjectAltName=IP:127.0.0.1\n", 28, 0600) < 0)
                return false;
#define OPENSSL(...) run((char *const[]){ (char *) "openssl", __VA_ARGS__, NULL }) == 0
        return OPENSSL("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                       "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj", "/CN=test-ca") &&
               OPENSSL("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                       "-keyout", other_key, "-out", other_crt, "-days", "2", "-subj", "/CN=other-ca") &&
               OPENSSL("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                       srv_key, "-out", srv_csr, "-subj", "/CN=127.0.0.1") &&
               OPENSSL("x509", "-req", "-in", srv_csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
                       "-out", srv_crt, "-days", "2", "-extfile", ext) &&
               OPENSSL("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                       cli_key, "-out", cli_csr, "-subj", "/CN=client") &&
               OPENSSL("x509", "-req", "-in", cli_csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
                       "-out", cli_crt, "-days", "2");
#undef OPENSSL
}

static unsigned free_port(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        unsigned port = 0;

        if (fd >= 0 && bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0 &&
            getsockname(fd, (struct sockaddr *) &a, &len) == 0)
                port = ntohs(a.sin_port);
        if (fd >= 0)
                close(fd);
        return port;
}

static bool port_open(unsigned port)
{
        struct sockaddr_in a = { .sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                 .sin_port = htons(port) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok = fd >= 0 && connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0;

        if (fd >= 0)
                close(fd);
        return ok;
}

static char *slurp(const char *path)
{
        char *s = NULL;
        if (read_file(path, 1 << 20, &s, NULL) < 0)
                abort();
        return s;
}

TEST(test_tls)
{
        _cleanup_free_ char *ca_crt = NULL, *srv_crt = NULL, *srv_key = NULL, *cli_crt = NULL,
                            *cli_key = NULL, *other_crt = NULL, *ca_pem = NULL, *cli_pem = NULL,
                            *key_pem = NULL, *other_pem = NULL;
        char server[64], accept_arg[16];
        unsigned port;
        pid_t pid;
        int r;

        if (run((char *const[]){ (char *) "openssl", (char *) "version", NULL }) != 0)
                TEST_SKIP("test_tls: openssl is not installed, the TLS part needs it to make certificates");
        tls_dir = test_tmpdir();
        if (!make_pki()) {
                fprintf(stderr, "test-kube: could not make test certificates\n");
                failures++;
                return;
        }
        ca_crt = test_path(tls_dir, "ca.crt");
        srv_crt = test_path(tls_dir, "srv.crt");
        srv_key = test_path(tls_dir, "srv.key");
        cli_crt = test_path(tls_dir, "cli.crt");
        cli_key = test_path(tls_dir, "cli.key");
        other_crt = test_path(tls_dir, "other.crt");
        ca_pem = slurp(ca_crt);
        cli_pem = slurp(cli_crt);
        key_pem = slurp(cli_key);
        other_pem = slurp(other_crt);

        port = free_port();
        snprintf(accept_arg, sizeof(accept_arg), "%u", port);
        snprintf(server, sizeof(server), "https://127.0.0.1:%u", port);
        {
                /* -Verify 1 -verify_return_error: no valid client certificate, no HTTP. */
                char *const argv[] = { (char *) "openssl",
                                       (char *) "s_server",
                                       (char *) "-quiet",
                                       (char *) "-accept",
                                       accept_arg,
                                       (char *) "-cert",
                                       srv_crt,
                                       (char *) "-key",
                                       srv_key,
                                       (char *) "-CAfile",
                                       ca_crt,
                                       (char *) "-Verify",
                                       (char *) "1",
                                       (char *) "-verify_return_error",
                                       (char *) "-www",
                                       NULL };
                posix_spawn_file_actions_t fa;

                posix_spawn_file_actions_init(&fa);
                posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
                posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
                posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
                r = posix_spawnp(&pid, "openssl", &fa, NULL, argv, environ);
                posix_spawn_file_actions_destroy(&fa);
                if (r != 0) {
                        failures++;
                        return;
                }
        }
        for (unsigned i = 0; i < 100 && !port_open(port); i++)
                sleep_msec(50);

        {
                /* PEM data (memfd paths): the way a k3s kubeconfig carries its credentials. */
                KubeConfig cfg = {
                        .server = server, .ca_pem = ca_pem, .cert_pem = cli_pem, .key_pem = key_pem
                };
                _cleanup_(kube_client_freep) KubeClient *c = NULL;

                CHECK(kube_client_new(&c, &cfg, 5) == 0);
                CHECK_R(kube_request(c, "GET", "/", NULL, NULL, NULL), 0);
                CHECK(kube_client_last_status(c) == 200);
                /* The connection is reused and the memfds reread fine. */
                CHECK_R(kube_request(c, "GET", "/", NULL, NULL, NULL), 0);
        }
        {
                KubeConfig cfg = {
                        .server = server, .ca_file = ca_crt, .cert_file = cli_crt, .key_file = cli_key
                };
                _cleanup_(kube_client_freep) KubeClient *c = NULL;

                CHECK(kube_client_new(&c, &cfg, 5) == 0);
                CHECK_R(kube_request(c, "GET", "/", NULL, NULL, NULL), 0);
        }
        {
                /* No client certificate: the server refuses the handshake. */
                KubeConfig cfg = { .server = server, .ca_pem = ca_pem };
                _cleanup_(kube_client_freep) KubeClient *c = NULL;

                CHECK(kube_client_new(&c, &cfg, 5) == 0);
                r = kube_request(c, "GET", "/", NULL, NULL, NULL);
                CHECK(r == -ECONNRESET || r == -EPROTO);
        }
        {
                /* A CA that did not sign the server's certificate: refused, not retried, and said so. */
                KubeConfig cfg = {
                        .server = server, .ca_pem = other_pem, .cert_pem = cli_pem, .key_pem = key_pem
                };
                _cleanup_(kube_client_freep) KubeClient *c = NULL;

                CHECK(kube_client_new(&c, &cfg, 5) == 0);
                CHECK_R(kube_request(c, "GET", "/", NULL, NULL, NULL), -EPROTO);
                CHECK_CONTAINS(kube_client_last_error(c), "certificate");
                CHECK(!strstr(kube_client_last_error(c), "gave up after"));
        }
        {
                /* The system store is not trusted in addition to the kubeconfig's CA (nor instead of it). */
                KubeConfig cfg = { .server = server, .cert_pem = cli_pem, .key_pem = key_pem };
                _cleanup_(kube_client_freep) KubeClient *c = NULL;

                CHECK(kube_client_new(&c, &cfg, 5) == 0);
                CHECK_R(kube_request(c, "GET", "/", NULL, NULL, NULL), -EPROTO);
        }
        {
                KubeConfig cfg = { .server = server,
                                   .ca_pem = other_pem,
                                   .cert_pem = cli_pem,
                                   .key_pem = key_pem,
                                   .insecure_skip_tls_verify = true };
                _cleanup_(kube_client_freep) KubeClient *c = NULL;

                CHECK(kube_client_new(&c, &cfg, 5) == 0);
                CHECK_R(kube_request(c, "GET", "/", NULL, NULL, NULL), 0);
        }

        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
}

/* ---- Part 3: the real control plane ------------------------------------------------------------------ */

/* A self-signed CA that signed nothing: the cluster must be refused with it. */
static const char WRONG_CA_PEM[] = "-----BEGIN CERTIFICATE-----\n"
                                   "MIIBnTCCAUOgAwIBAgIUTRsxYKD00VjpOEtptAtCLnz2eacwCgYIKoZIzj0EAwIw\n"
                                   "IzEhMB8GA1UEAwwYc3RvcmVhZ2VudC10ZXN0LXdyb25nLWNhMCAXDTI2MTEyNzIw\n"
                                   "MDYyN1oYDzIxMjYxMTAzMjAwNjI3WjAjMSEwHwYDVQQDDBhzdG9yZWFnZW50LXRl\n"
                                   "c3Qtd3JvbmctY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAStA2MD/GEg6Gra\n"
                                   "bO+XxQ0v8bd1Bp3dpMRE2CsyPoghaT5/JtCpmMvb9uuWzjeDPVsZ7uXWNQ/0Vrzs\n"
                                   "UiwpY23Yo1MwUTAdBgNVHQ4EFgQUQQht3lMZu81vJQ213DwDtjXHkygwHwYDVR0j\n"
                                   "BBgwFoAUQQht3lMZu81vJQ213DwDtjXHkygwDwYDVR0TAQH/BAUwAwEB/zAKBggq\n"
                                   "hkjOPQQDAgNIADBFAiEAv4t8hIvfokiys+ZxfdFcXhZ0os6WSKNL57PW7qCb5u8C\n"
                                   "IEitv1tk9ZOv29HUMsniN5t4Zyqd9Wr/PuujPOMCWRcd\n"
                                   "-----END CERTIFICATE-----\n";

static json_t *configmap(const char *ns, const char *name, const char *value)
{
        return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind",
                         "ConfigMap", "metadata", "name", name, "namespace", ns, "labels", "storeagent-test",
                         "kube", "data", "value", value);
}

typedef struct Creator {
        const KubeConfig *cfg;
        const char *ns;
        int result;
} Creator;

/* Creates a ConfigMap from its own client (one client per thread) while the main thread watches. */
static void *create_later(void *userdata)
{
        Creator *cr = userdata;
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        _cleanup_(json_decrefp) json_t *cm = configmap(cr->ns, "watched", "1");

        sleep_msec(700);
        cr->result = kube_client_new(&c, cr->cfg, 10);
        if (cr->result >= 0)
                cr->result = kube_apply(c, cm, NULL);
        return NULL;
}

static int stop_at_watched(const char *type, json_t *object, void *userdata)
{
        WatchLog *w = userdata;
        const char *name = json_string_value(json_object_get(json_object_get(object, "metadata"), "name"));

        record_event(type, object, userdata);
        (void) w;
        return streq(type, "ADDED") && streq_ptr(name, "watched") ? 1 : 0;
}

static void cluster_checks(const char *kubeconfig_path)
{
        _cleanup_(kubeconfig_freep) KubeConfig *cfg = NULL;
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        _cleanup_free_ char *error = NULL, *version = NULL, *ns_path = NULL, *cm_path = NULL,
                            *cms_path = NULL;
        _cleanup_(json_decrefp) json_t *ns = NULL, *res = NULL, *list = NULL, *cm = NULL, *bad = NULL;
        char ns_name[64], selector[96], run_label[16];
        const char *rv;
        int r;

        r = kubeconfig_load_full(kubeconfig_path, NULL, &cfg, &error);
        if (r < 0) {
                fprintf(stderr, "test-kube: %s\n", strna(error));
                failures++;
                return;
        }
        CHECK(kube_client_new(&c, cfg, 20) == 0);
        if (!c)
                return;

        CHECK_R(kube_server_version(c, &version), 0);
        CHECK(version && strncmp(version, "v1.", 3) == 0);
        printf("test-kube: API server %s at %s\n", strna(version), cfg->server);

        snprintf(ns_name, sizeof(ns_name), "storeagent-test-kube-%d", (int) getpid());
        snprintf(selector, sizeof(selector), "storeagent-test=kube,run=%d", (int) getpid());
        CHECK(kube_path(&ns_path, "v1", "namespaces", NULL, ns_name) == 0);
        CHECK(kube_path(&cms_path, "v1", "configmaps", ns_name, NULL) == 0);
        CHECK(kube_path(&cm_path, "v1", "configmaps", ns_name, "cm1") == 0);

        /* Apply twice: both succeed, the second updates the label. */
        snprintf(run_label, sizeof(run_label), "%d", (int) getpid());
        ns = json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}}}", "apiVersion", "v1", "kind", "Namespace",
                       "metadata", "name", ns_name, "labels", "storeagent-test", "kube", "run", run_label,
                       "generation", "1");
        CHECK_R(kube_apply(c, ns, &res), 0);
        CHECK(streq_ptr(json_string_value(json_object_get(
                                json_object_get(json_object_get(res, "metadata"), "labels"), "generation")),
                        "1"));
        json_object_set_new(json_object_get(json_object_get(ns, "metadata"), "labels"), "generation",
                            json_string("2"));
        json_decref(res);
        res = NULL;
        CHECK_R(kube_apply(c, ns, &res), 0);
        CHECK(streq_ptr(json_string_value(json_object_get(
                                json_object_get(json_object_get(res, "metadata"), "labels"), "generation")),
                        "2"));
        json_decref(res);
        res = NULL;

        CHECK_R(kube_get(c, ns_path, &res), 0);
        CHECK(streq_ptr(json_string_value(json_object_get(json_object_get(res, "metadata"), "name")),
                        ns_name));
        CHECK(streq_ptr(json_string_value(json_object_get(
                                json_object_get(json_object_get(res, "metadata"), "labels"), "generation")),
                        "2"));
        CHECK(streq_ptr(
                json_string_value(
                        json_object_get(json_object_get(res, "metadata"), "managedFields")
                                ? json_object_get(
                                          json_array_get(json_object_get(json_object_get(res, "metadata"),
                                                                         "managedFields"),
                                                         0),
                                          "manager")
                                : NULL),
                KUBE_FIELD_MANAGER));
        json_decref(res);
        res = NULL;

        CHECK_R(kube_list(c, "/api/v1/namespaces", selector, &list), 0);
        CHECK(json_array_size(json_object_get(list, "items")) == 1);
        CHECK(streq_ptr(
                json_string_value(json_object_get(
                        json_object_get(json_array_get(json_object_get(list, "items"), 0), "metadata"),
                        "name")),
                ns_name));

        /* A ConfigMap; then create it again by POST: AlreadyExists. */
        cm = configmap(ns_name, "cm1", "a");
        CHECK_R(kube_apply(c, cm, NULL), 0);
        CHECK_R(kube_get(c, cm_path, &res), 0);
        CHECK(streq_ptr(json_string_value(json_object_get(json_object_get(res, "data"), "value")), "a"));
        {
                _cleanup_free_ char *body = json_dumps(cm, JSON_COMPACT);
                CHECK_R(kube_request(c, "POST", cms_path, "application/json", body, NULL), -EEXIST);
                CHECK(streq_ptr(kube_client_last_reason(c), "AlreadyExists"));
                CHECK_CONTAINS(kube_client_last_error(c),
                               "HTTP 409 Conflict: configmaps \"cm1\" already exists");
        }
        {
                /* An update with a stale resourceVersion: Conflict. */
                _cleanup_free_ char *body = NULL;
                json_object_set_new(json_object_get(res, "metadata"), "resourceVersion", json_string("1"));
                body = json_dumps(res, JSON_COMPACT);
                CHECK_R(kube_request(c, "PUT", cm_path, "application/json", body, NULL), -EBUSY);
                CHECK(streq_ptr(kube_client_last_reason(c), "Conflict"));
                CHECK_CONTAINS(kube_client_last_error(c),
                               "HTTP 409 Conflict: Operation cannot be fulfilled on configmaps \"cm1\"");
        }
        json_decref(res);
        res = NULL;

        /* 404 with the server's words. */
        {
                _cleanup_free_ char *p = NULL;
                CHECK(kube_path(&p, "v1", "configmaps", ns_name, "nope") == 0);
                CHECK_R(kube_get(c, p, NULL), -ENOENT);
                CHECK(streq(kube_client_last_error(c), "HTTP 404 Not Found: configmaps \"nope\" not found"));
                CHECK(kube_client_last_status(c) == 404);
        }

        /* An invalid object: 422 and the validation message. */
        bad = configmap(ns_name, "Bad_Name", "x");
        CHECK_R(kube_apply(c, bad, NULL), -EINVAL);
        CHECK_CONTAINS(kube_client_last_error(c), "HTTP 422 Unprocessable Entity: ");
        CHECK_CONTAINS(kube_client_last_error(c), "Bad_Name");
        printf("test-kube: invalid object: %s\n", kube_client_last_error(c));

        /* Watch: started from the list's resourceVersion, sees what another thread creates meanwhile. */
        {
                _cleanup_(json_decrefp) json_t *cms = NULL;
                Creator cr = { .cfg = cfg, .ns = ns_name };
                WatchLog w = {};
                pthread_t t;

                CHECK_R(kube_list(c, cms_path, "storeagent-test=kube", &cms), 0);
                rv = json_string_value(json_object_get(json_object_get(cms, "metadata"), "resourceVersion"));
                CHECK(rv != NULL);
                CHECK(pthread_create(&t, NULL, create_later, &cr) == 0);
                CHECK_R(kube_watch(c, cms_path, "storeagent-test=kube", rv, 20, stop_at_watched, &w), 1);
                pthread_join(t, NULL);
                CHECK(cr.result == 0);
                CHECK(w.n >= 1 && streq(w.types[w.n - 1], "ADDED") && streq(w.names[w.n - 1], "watched"));
                /* cm1 existed before the resourceVersion: not replayed. */
                for (size_t i = 0; i < w.n; i++)
                        CHECK(!streq(w.names[i], "cm1"));
        }
        {
                /* Without a resourceVersion the current objects arrive as ADDED first. */
                WatchLog w = { .stop_at = "ADDED" };
                CHECK_R(kube_watch(c, cms_path, "storeagent-test=kube", NULL, 10, record_event, &w), 1);
        }
        {
                /* The server ends a watch at its timeout: 0. */
                WatchLog w = {};
                uint64_t t0 = mono_usec();
                _cleanup_free_ char *p = NULL;
                CHECK(kube_path(&p, "v1", "secrets", ns_name, NULL) == 0);
                CHECK_R(kube_watch(c, p, "nothing=here", "0", 1, record_event, &w), 0);
                CHECK(elapsed_msec(t0) < 30000);
        }
        {
                /* Cancel a quiet watch. */
                atomic_bool cancel = false;
                pthread_t t;
                WatchLog w = {};
                uint64_t t0 = mono_usec();
                kube_client_set_cancel(c, &cancel);
                CHECK(pthread_create(&t, NULL, raise_after_300ms, &cancel) == 0);
                CHECK_R(kube_watch(c, cms_path, "nothing=here", "0", 60, record_event, &w), -ECANCELED);
                pthread_join(t, NULL);
                CHECK(elapsed_msec(t0) < 15000); /* not the watch's 60 s */
                kube_client_set_cancel(c, NULL);
        }

        /* Delete: gone is gone, twice. */
        CHECK_R(kube_delete(c, cm_path, NULL), 0);
        CHECK_R(kube_get(c, cm_path, NULL), -ENOENT);
        CHECK_R(kube_delete(c, cm_path, "Background"), 0);

        /* Credentials the server does not accept: 401. */
        {
                KubeConfig anon = { .server = cfg->server,
                                    .ca_pem = cfg->ca_pem,
                                    .ca_file = cfg->ca_file,
                                    .insecure_skip_tls_verify = cfg->insecure_skip_tls_verify,
                                    .token = (char *) "not-a-valid-token" };
                _cleanup_(kube_client_freep) KubeClient *a = NULL;
                CHECK(kube_client_new(&a, &anon, 10) == 0);
                r = kube_get(a, "/api/v1/namespaces", NULL);
                if (r != -EACCES)
                        fprintf(stderr, "401 check: %d %s\n", r, kube_client_last_error(a));
                CHECK(r == -EACCES);
                CHECK(streq(kube_client_last_error(a), KUBE_UNAUTHORIZED_MESSAGE));
        }

        /* A ServiceAccount with no rights: 403 naming the user and the verb. */
        {
                _cleanup_(json_decrefp) json_t *sa = NULL, *treq = NULL, *tres = NULL;
                _cleanup_free_ char *tpath = NULL, *body = NULL;
                const char *token;

                sa = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "ServiceAccount",
                               "metadata", "name", "nobody", "namespace", ns_name);
                CHECK_R(kube_apply(c, sa, NULL), 0);
                CHECK(asprintf(&tpath, "/api/v1/namespaces/%s/serviceaccounts/nobody/token", ns_name) > 0);
                treq = json_pack("{s:s, s:s, s:{s:I}}", "apiVersion", "authentication.k8s.io/v1", "kind",
                                 "TokenRequest", "spec", "expirationSeconds", (json_int_t) 600);
                body = json_dumps(treq, JSON_COMPACT);
                r = kube_request(c, "POST", tpath, "application/json", body, &tres);
                token = json_string_value(json_object_get(json_object_get(tres, "status"), "token"));
                if (r < 0 || !token)
                        printf("test-kube: TokenRequest unavailable (%s), 403 check skipped\n",
                               kube_client_last_error(c));
                else {
                        KubeConfig sacfg = { .server = cfg->server,
                                             .ca_pem = cfg->ca_pem,
                                             .ca_file = cfg->ca_file,
                                             .insecure_skip_tls_verify = cfg->insecure_skip_tls_verify,
                                             .token = (char *) token };
                        _cleanup_(kube_client_freep) KubeClient *a = NULL;
                        _cleanup_(json_decrefp) json_t *other = NULL;

                        other = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                                          "metadata", "name", "storeagent-test-forbidden");
                        CHECK(kube_client_new(&a, &sacfg, 10) == 0);
                        r = kube_apply(a, other, NULL);
                        if (r != -EPERM)
                                fprintf(stderr, "403 check: %d %s\n", r, kube_client_last_error(a));
                        CHECK(r == -EPERM);
                        CHECK_CONTAINS(kube_client_last_error(a),
                                       "HTTP 403 Forbidden: namespaces \"storeagent-test-forbidden\" is "
                                       "forbidden: User \"system:serviceaccount:");
                        printf("test-kube: forbidden: %s\n", kube_client_last_error(a));
                }
        }

        /* Unreachable API server: a clear connection error, fast. */
        {
                KubeConfig off = *cfg;
                _cleanup_(kube_client_freep) KubeClient *a = NULL;
                uint64_t t0;

                off.server = (char *) "https://127.0.0.1:1";
                CHECK(kube_client_new(&a, &off, 10) == 0);
                t0 = mono_usec();
                r = kube_get(a, "/version", NULL);
                CHECK(r == -ECONNREFUSED);
                CHECK(elapsed_msec(t0) < 20000); /* gives up, does not retry for ever */
                CHECK_CONTAINS(kube_client_last_error(a), "Failed to connect to 127.0.0.1 port 1");
        }

        /* The wrong CA: the real server is refused. */
        if (!cfg->insecure_skip_tls_verify && strncmp(cfg->server, "https://", 8) == 0) {
                KubeConfig wrong = *cfg;
                _cleanup_(kube_client_freep) KubeClient *a = NULL;

                wrong.ca_pem = (char *) WRONG_CA_PEM;
                wrong.ca_file = NULL;
                CHECK(kube_client_new(&a, &wrong, 10) == 0);
                CHECK(kube_get(a, "/version", NULL) == -EPROTO);
                CHECK_CONTAINS(kube_client_last_error(a),
                               "not signed by the kubeconfig's certificate authority");
                CHECK(!strstr(kube_client_last_error(a), "/proc/self/fd"));
                printf("test-kube: wrong CA: %s\n", kube_client_last_error(a));
        }

        /* Clean up: the namespace takes the rest with it. */
        CHECK_R(kube_delete(c, ns_path, "Background"), 0);
        CHECK_R(kube_delete(c, ns_path, "Background"), 0);
}

/* The cluster part: needs the control plane from tests/cluster ($KUBECONFIG). */
TEST(test_cluster)
{
        const char *kubeconfig = getenv("KUBECONFIG");

        if (isempty(kubeconfig))
                TEST_SKIP("test_cluster: $KUBECONFIG not set, no control plane to run against");
        cluster_checks(kubeconfig);
}

DEFINE_TEST_MAIN(LOG_ERR)
