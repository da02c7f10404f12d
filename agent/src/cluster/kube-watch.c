/* SPDX-License-Identifier: Apache-2.0 */

/* Watch streams: one event per line, handed to the caller as it arrives. */

#include "basic/util.h"
#include "cluster/kube-internal.h"

#define KUBE_WATCH_TIMEOUT_DEFAULT_SEC 300U
/* Slack over the server-side watch timeout before we give up on a silent connection. */
#define KUBE_WATCH_SLACK_SEC 30U
#define KUBE_ERROR_BODY_MAX (1024U * 1024U)
#define KUBE_WATCH_LINE_MAX (16U * 1024U * 1024U)

typedef struct WatchState {
        KubeClient *client;
        KubeWatchFunc func;
        void *userdata;
        KubeBuffer line;
        int result;    /* set when the callback or an ERROR event ended the watch */
        bool finished; /* result is meaningful */
        bool checked;  /* HTTP status looked at */
        bool streaming;
} WatchState;

/* Handles one line of a watch stream; false stops the transfer. */
static bool watch_line(WatchState *w, const char *line, size_t n)
{
        _cleanup_(json_decrefp) json_t *event = NULL;
        json_error_t e;
        const char *type;
        json_t *object;
        int r;

        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
                n--;
        if (n == 0)
                return true;

        event = json_loadb(line, n, 0, &e);
        type = json_string_value(json_object_get(event, "type"));
        object = json_object_get(event, "object");
        if (!event || !type || !json_is_object(object)) {
                kube_set_error(w->client, "watch: malformed event: %s", event ? "no type or object" : e.text);
                w->result = -EBADMSG;
                w->finished = true;
                return false;
        }

        if (streq(type, "ERROR")) {
                /* The object is a Status; 410 Gone says the resourceVersion is too old. */
                json_int_t code = json_integer_value(json_object_get(object, "code"));
                const char *message = json_string_value(json_object_get(object, "message"));
                const char *reason = json_string_value(json_object_get(object, "reason"));

                free(w->client->last_reason);
                w->client->last_reason = reason ? strdup(reason) : NULL;
                kube_set_error(w->client, "watch: HTTP %lld %s: %s", (long long) code,
                          kube_http_reason_phrase((long) code), strna(message));
                w->result = kube_http_status_to_errno((long) code, reason);
                if (w->result == -EIO && code == 0)
                        w->result = -EPROTO;
                w->finished = true;
                return false;
        }

        r = w->func(type, object, w->userdata);
        if (r != 0) {
                w->result = r;
                w->finished = true;
                return false;
        }
        return true;
}

static size_t watch_callback(char *p, size_t size, size_t nmemb, void *userdata)
{
        WatchState *w = userdata;
        size_t n = size * nmemb;
        char *start, *nl;

        if (!w->checked) {
                long status = 0;

                (void) curl_easy_getinfo(w->client->curl, CURLINFO_RESPONSE_CODE, &status);
                w->checked = true;
                w->streaming = status == 200;
        }
        if (!w->streaming) /* an error body: keep it for the message */
                return kube_buffer_append(&w->client->body, p, n) ? n : 0;

        if (!kube_buffer_append(&w->line, p, n)) {
                if (w->line.overflow) {
                        kube_set_error(w->client, "watch: event larger than %u bytes", KUBE_WATCH_LINE_MAX);
                        w->result = -EFBIG;
                } else
                        w->result = -ENOMEM;
                w->finished = true;
                return 0;
        }

        start = w->line.data;
        while ((nl = memchr(start, '\n', w->line.size - (size_t) (start - w->line.data)))) {
                if (!watch_line(w, start, (size_t) (nl - start)))
                        return 0;
                start = nl + 1;
        }
        /* Keep the unfinished tail for the next chunk. */
        w->line.size -= (size_t) (start - w->line.data);
        memmove(w->line.data, start, w->line.size);
        w->line.data[w->line.size] = '\0';
        return n;
}

int kube_watch(KubeClient *c, const char *path, const char *label_selector, const char *resource_version,
               unsigned timeout_sec, KubeWatchFunc f, void *userdata)
{
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_free_ char *url = NULL, *tmo = NULL;
        WatchState w = { .client = c, .func = f, .userdata = userdata };
        CURLcode code;
        long status = 0;
        int r;

        if (!c || !f)
                return -EINVAL;
        kube_clear_error(c);
        if (timeout_sec == 0)
                timeout_sec = KUBE_WATCH_TIMEOUT_DEFAULT_SEC;
        r = kube_make_url(c, path, &url);
        if (r < 0) {
                kube_set_error(c, "invalid API path '%s'", strna(path));
                return r;
        }
        if (asprintf(&tmo, "%u", timeout_sec) < 0)
                return -ENOMEM;
        r = kube_url_add_query(&url, "watch", "1");
        if (r >= 0)
                r = kube_url_add_query(&url, "allowWatchBookmarks", "true");
        if (r >= 0)
                r = kube_url_add_query(&url, "timeoutSeconds", tmo);
        if (r >= 0 && !isempty(label_selector))
                r = kube_url_add_query(&url, "labelSelector", label_selector);
        if (r >= 0 && !isempty(resource_version))
                r = kube_url_add_query(&url, "resourceVersion", resource_version);
        if (r < 0)
                return r;

        r = kube_prepare(c, "GET", url, NULL, NULL, (long) (timeout_sec + KUBE_WATCH_SLACK_SEC) * 1000L,
                    &headers);
        if (r < 0)
                return r;
        /* A silent watch is normal; only the connect phase gets the client's shorter timeout. */
        (void) curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS,
                                MIN((long) c->timeout_sec * 1000L, KUBE_CONNECT_TIMEOUT_MAX_MSEC));
        kube_buffer_reset(&c->body, KUBE_ERROR_BODY_MAX);
        w.line.max = KUBE_WATCH_LINE_MAX;
        (void) curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, watch_callback);
        (void) curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &w);

        code = curl_easy_perform(c->curl);
        (void) curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        c->last_status = status;

        if (w.finished) {
                kube_buffer_done(&w.line);
                return w.result;
        }
        if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && !w.streaming)) {
                kube_buffer_done(&w.line);
                kube_set_curl_error(c, code, "GET", url);
                return kube_curl_code_to_errno(c, code);
        }
        if (status != 200) {
                kube_buffer_done(&w.line);
                kube_set_http_error(c, status, c->body.data, c->body.size);
                return kube_http_status_to_errno(status, c->last_reason);
        }
        /* A last event without its newline. */
        if (w.line.size > 0 && !watch_line(&w, w.line.data, w.line.size)) {
                kube_buffer_done(&w.line);
                return w.result;
        }
        kube_buffer_done(&w.line);
        return 0;
}
