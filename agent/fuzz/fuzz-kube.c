/* SPDX-License-Identifier: Apache-2.0 */

/*
 * What the Kubernetes API server answers, through the real client (cluster/kube-*.c) and libcurl:
 * a watch stream split into events line by line, an error body turned into the words the store
 * shows, a response body read as JSON. An HTTP server on 127.0.0.1 in this process answers every
 * request with the input: its first byte picks the status (none that the client retries, which
 * would only make it sleep), the rest is the body.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "cluster/kube.h"
#include "cluster/kubeconfig.h"
#include "fuzz.h"

static pthread_mutex_t answer_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *answer; /* a copy: a connection curl gave up on may still be served after the input */
static size_t answer_size;
static long answer_status;
static int listen_fd = -EBADF;
static KubeClient *client;

static void write_all(int fd, const void *p, size_t n)
{
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k <= 0)
                        return; /* the client hung up (it refused an oversized event): fine */
                p = (const uint8_t *) p + k;
                n -= (size_t) k;
        }
}

/* Reads a request's head (the client sends no body on GET) and answers with the current input. */
static void *serve(void *arg)
{
        for (;;) {
                _cleanup_close_ int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                char head[8192], status_line[128];
                size_t got = 0;

                if (fd < 0)
                        continue;
                while (got < sizeof head - 1) {
                        ssize_t k = read(fd, head + got, sizeof head - 1 - got);
                        if (k <= 0)
                                break;
                        got += (size_t) k;
                        head[got] = '\0';
                        if (strstr(head, "\r\n\r\n"))
                                break;
                }
                pthread_mutex_lock(&answer_lock);
                snprintf(status_line, sizeof status_line,
                         "HTTP/1.1 %ld Fuzz\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
                         answer_status);
                write_all(fd, status_line, strlen(status_line));
                write_all(fd, answer, answer_size);
                pthread_mutex_unlock(&answer_lock);
        }
        return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;
        KubeConfig cfg = {};
        char server[64];
        pthread_t t;

        fuzz_log_setup();
        listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        FUZZ_SETUP(listen_fd >= 0);
        FUZZ_SETUP(bind(listen_fd, (struct sockaddr *) &sa, sizeof sa) == 0);
        FUZZ_SETUP(listen(listen_fd, 16) == 0);
        FUZZ_SETUP(getsockname(listen_fd, (struct sockaddr *) &sa, &len) == 0);
        FUZZ_SETUP(pthread_create(&t, NULL, serve, NULL) == 0);

        snprintf(server, sizeof server, "http://127.0.0.1:%u", ntohs(sa.sin_port));
        cfg.server = server;
        cfg.token = (char *) "fuzz";
        FUZZ_SETUP(kube_client_new(&client, &cfg, 5) >= 0);
        return 0;
}

static int on_event(const char *type, json_t *object, void *userdata)
{
        unsigned *n = userdata;

        FUZZ_ASSERT(type && json_is_object(object));
        /* A callback may stop the watch; do so now and then, as readiness does when it is done. */
        return ++*n >= 8 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* Answers the client takes as they come: 429 and 5xx it retries after a pause. */
        static const long statuses[] = { 200, 201, 204, 302, 400, 401, 403, 404, 409, 410, 422 };
        _cleanup_(json_decrefp) json_t *j = NULL;
        unsigned events = 0;
        int r;

        if (size < 1)
                return 0;
        pthread_mutex_lock(&answer_lock);
        free(answer);
        answer = malloc(size);
        FUZZ_SETUP(answer);
        memcpy(answer, data + 1, size - 1);
        answer_size = size - 1;
        answer_status = statuses[data[0] % ELEMENTSOF(statuses)];
        pthread_mutex_unlock(&answer_lock);

        r = kube_watch(client, "/api/v1/namespaces/store-fuzz/pods", "app=fuzz", "1", 5, on_event, &events);
        FUZZ_ASSERT(r <= 1);
        if (r < 0)
                FUZZ_ASSERT(kube_client_last_error(client));

        r = kube_request(client, "GET", "/api/v1/namespaces/store-fuzz", NULL, NULL, &j);
        if (r < 0)
                FUZZ_ASSERT(!j && kube_client_last_error(client)[0]);
        return 0;
}
