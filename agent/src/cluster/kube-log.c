/* SPDX-License-Identifier: Apache-2.0 */

/*
 * A container's log (pods/log): read to its end, or followed (follow=true), handed to the caller
 * in chunks as the API server sends them.
 */

#include <inttypes.h>

#include "basic/util.h"
#include "cluster/kube-internal.h"

#define KUBE_LOG_ERROR_BODY_MAX (64U * 1024U)

typedef struct LogState {
        KubeClient *client;
        KubeLogFunc func;
        void *userdata;
        int result; /* set when the callback ended the transfer */
        bool finished;
        bool checked;
        bool streaming;
} LogState;

static size_t log_callback(char *p, size_t size, size_t nmemb, void *userdata)
{
        LogState *l = userdata;
        size_t n = size * nmemb;
        int r;

        if (!l->checked) {
                long status = 0;

                (void) curl_easy_getinfo(l->client->curl, CURLINFO_RESPONSE_CODE, &status);
                l->checked = true;
                l->streaming = status == 200;
        }
        if (!l->streaming) /* an error body: keep it for the message */
                return kube_buffer_append(&l->client->body, p, n) ? n : 0;
        if (n == 0)
                return 0;
        r = l->func(p, n, l->userdata);
        if (r != 0) {
                l->result = r;
                l->finished = true;
                return 0;
        }
        return n;
}

int kube_pod_log(KubeClient *c, const char *namespace, const char *pod, const KubeLogOptions *opts,
                 KubeLogFunc f, void *userdata)
{
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_free_ char *pod_path = NULL, *path = NULL, *url = NULL, *num = NULL, *bytes = NULL;
        LogState l = { .client = c, .func = f, .userdata = userdata };
        CURLcode code;
        long status = 0;
        int r;

        if (!c || !f || !opts)
                return -EINVAL;
        kube_clear_error(c);
        r = kube_path(&pod_path, "v1", "pods", namespace, pod);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/log", pod_path) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        r = kube_make_url(c, path, &url);
        if (r < 0)
                return r;
        if (!isempty(opts->container))
                r = kube_url_add_query(&url, "container", opts->container);
        if (r >= 0 && opts->tail_lines > 0) {
                if (asprintf(&num, "%" PRIu64, opts->tail_lines) < 0)
                        return -ENOMEM;
                r = kube_url_add_query(&url, "tailLines", num);
        }
        if (r >= 0 && opts->limit_bytes > 0) {
                if (asprintf(&bytes, "%" PRIu64, opts->limit_bytes) < 0)
                        return -ENOMEM;
                r = kube_url_add_query(&url, "limitBytes", bytes);
        }
        if (r >= 0 && opts->follow)
                r = kube_url_add_query(&url, "follow", "true");
        if (r >= 0 && opts->timestamps)
                r = kube_url_add_query(&url, "timestamps", "true");
        if (r < 0)
                return r;

        r = kube_prepare(c, "GET", url, NULL, NULL, (long) c->timeout_sec * 1000L, &headers);
        if (r < 0)
                return r;
        if (opts->follow) {
                /*
                 * A followed log is quiet for as long as the container is: no deadline for the
                 * transfer (the cancel flag ends it), TCP keepalive to notice a dead peer.
                 */
                (void) curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 0L);
                (void) curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
        }
        kube_buffer_reset(&c->body, KUBE_LOG_ERROR_BODY_MAX);
        (void) curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, log_callback);
        (void) curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &l);

        code = curl_easy_perform(c->curl);
        (void) curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        c->last_status = status;
        if (opts->follow)
                (void) curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 0L);

        if (l.finished)
                return l.result;
        if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && !l.streaming)) {
                kube_set_curl_error(c, code, "GET", url);
                return kube_curl_code_to_errno(c, code);
        }
        if (status != 200) {
                kube_set_http_error(c, status, c->body.data, c->body.size);
                return kube_http_status_to_errno(status, c->last_reason);
        }
        return 0;
}
