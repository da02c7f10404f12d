/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The transport: URLs, resetting the handle for a request, and one API call
 * with its retries and backoff.
 */

#include <ctype.h>
#include <inttypes.h>
#include <time.h>

#include "basic/log.h"
#include "basic/util.h"
#include "cluster/kube-internal.h"

#define KUBE_ATTEMPTS_MAX 4
#define KUBE_BACKOFF_FIRST_USEC (200 * USEC_PER_MSEC)
#define KUBE_BACKOFF_MAX_USEC (2 * USEC_PER_SEC)
#define KUBE_BODY_MAX (64U * 1024U * 1024U)

/* Sleeps usec, waking early (-ECANCELED) when the cancel flag is raised. */
static int sleep_cancellable(KubeClient *c, uint64_t usec)
{
        uint64_t end = mono_usec() + usec;

        for (;;) {
                uint64_t now = mono_usec(), slice;
                struct timespec ts;

                if (c->cancel && atomic_load(c->cancel))
                        return -ECANCELED;
                if (now >= end)
                        return 0;
                slice = MIN(end - now, 100 * USEC_PER_MSEC);
                ts.tv_sec = (time_t) (slice / USEC_PER_SEC);
                ts.tv_nsec = (long) ((slice % USEC_PER_SEC) * NSEC_PER_USEC);
                (void) nanosleep(&ts, NULL);
        }
}

/* Percent-encodes everything but RFC 3986 unreserved characters. */
int kube_url_escape(const char *s, char **ret)
{
        static const char hex[] = "0123456789ABCDEF";
        char *out = malloc(strlen(s) * 3 + 1), *o;

        if (!out)
                return -ENOMEM;
        o = out;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (isalnum(*p) || strchr("-._~", *p))
                        *o++ = (char) *p;
                else {
                        *o++ = '%';
                        *o++ = hex[*p >> 4];
                        *o++ = hex[*p & 15];
                }
        }
        *o = '\0';
        *ret = out;
        return 0;
}

/* Appends "?key=value" or "&key=value" (value escaped) to *url. */
int kube_url_add_query(char **url, const char *key, const char *value)
{
        _cleanup_free_ char *escaped = NULL;
        char *n;
        int r;

        r = kube_url_escape(value, &escaped);
        if (r < 0)
                return r;
        if (asprintf(&n, "%s%c%s=%s", *url, strchr(*url, '?') ? '&' : '?', key, escaped) < 0)
                return -ENOMEM;
        free(*url);
        *url = n;
        return 0;
}

int kube_make_url(KubeClient *c, const char *path, char **ret)
{
        char *u;

        if (isempty(path) || path[0] != '/')
                return -EINVAL;
        if (asprintf(&u, "%s%s", c->server, path) < 0)
                return -ENOMEM;
        *ret = u;
        return 0;
}

/*
 * Resets the handle for a request: method, body and headers. The header list
 * must live until the transfer is done, so it goes back to the caller.
 */
int kube_prepare(KubeClient *c, const char *method, const char *url, const char *content_type,
                   const char *body, long timeout_msec, struct curl_slist **ret_headers)
{
        _cleanup_(curl_slist_free_allp) struct curl_slist *h = NULL;
        _cleanup_free_ char *ct = NULL;
        struct curl_slist *t;
        int r;

        h = curl_slist_append(NULL, "Accept: application/json");
        if (!h)
                return -ENOMEM;
        /* No "Expect: 100-continue" round trip for larger bodies. */
        if (!(t = curl_slist_append(h, "Expect:")))
                return -ENOMEM;
        if (content_type) {
                if (asprintf(&ct, "Content-Type: %s", content_type) < 0) {
                        ct = NULL;
                        return -ENOMEM;
                }
                if (!(t = curl_slist_append(h, ct)))
                        return -ENOMEM;
        }
        if (c->auth_header && !(t = curl_slist_append(h, c->auth_header)))
                return -ENOMEM;

#define SET(opt, val)                                                                                       \
        do {                                                                                                \
                r = kube_curl_setopt_check(curl_easy_setopt(c->curl, opt, val));                                 \
                if (r < 0)                                                                                  \
                        return r;                                                                           \
        } while (0)

        SET(CURLOPT_URL, url);
        if (body) {
                SET(CURLOPT_POST, 1L);
                SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body));
                SET(CURLOPT_POSTFIELDS, body);
        } else {
                SET(CURLOPT_HTTPGET, 1L);
        }
        SET(CURLOPT_CUSTOMREQUEST, streq(method, body ? "POST" : "GET") ? NULL : method);
        SET(CURLOPT_HTTPHEADER, h);
        SET(CURLOPT_TIMEOUT_MS, MAX(timeout_msec, 1L));
        SET(CURLOPT_CONNECTTIMEOUT_MS, MAX(MIN(timeout_msec, KUBE_CONNECT_TIMEOUT_MAX_MSEC), 1L));
#undef SET

        c->errbuf[0] = '\0';
        c->retry_after_usec = 0;
        c->last_status = 0;
        *ret_headers = TAKE_PTR(h);
        return 0;
}

static size_t body_callback(char *p, size_t size, size_t nmemb, void *userdata)
{
        KubeClient *c = userdata;
        size_t n = size * nmemb;

        return kube_buffer_append(&c->body, p, n) ? n : 0;
}

int kube_request(KubeClient *c, const char *method, const char *path, const char *content_type,
                 const char *body, json_t **ret)
{
        _cleanup_free_ char *url = NULL;
        uint64_t deadline, backoff = KUBE_BACKOFF_FIRST_USEC;
        bool idempotent;
        int r;

        if (!c || isempty(method))
                return -EINVAL;
        idempotent = !streq(method, "POST");
        kube_clear_error(c);
        r = kube_make_url(c, path, &url);
        if (r < 0) {
                kube_set_error(c, "invalid API path '%s'", strna(path));
                return r;
        }
        if (c->fence && !streq(method, "GET")) {
                r = c->fence(c->fence_userdata);
                if (r < 0) {
                        kube_set_error(c, "%s %s: refused, the task is no longer ours", method, url);
                        return r;
                }
        }
        deadline = mono_usec() + (uint64_t) c->timeout_sec * USEC_PER_SEC;

        for (unsigned attempt = 1;; attempt++) {
                _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
                uint64_t now = mono_usec(), wait;
                bool retry;
                CURLcode code;
                long status = 0;

                if (now >= deadline)
                        now = deadline - 1000; /* the last attempt still gets a millisecond */
                r = kube_prepare(c, method, url, content_type, body, (long) ((deadline - now) / USEC_PER_MSEC),
                            &headers);
                if (r < 0)
                        return r;
                kube_buffer_reset(&c->body, KUBE_BODY_MAX);
                (void) curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, body_callback);
                (void) curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);

                code = curl_easy_perform(c->curl);
                if (code == CURLE_WRITE_ERROR && c->body.overflow) {
                        kube_set_error(c, "%s %s: response larger than %u bytes", method, url, KUBE_BODY_MAX);
                        return -EFBIG;
                }
                if (code != CURLE_OK) {
                        kube_set_curl_error(c, code, method, url);
                        r = kube_curl_code_to_errno(c, code);
                        /* A POST that may have reached the server is not sent twice. */
                        retry = idempotent ? kube_curl_retryable(code)
                                           : code == CURLE_COULDNT_CONNECT ||
                                                     code == CURLE_COULDNT_RESOLVE_HOST;
                } else {
                        (void) curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
                        c->last_status = status;
                        if (status >= 200 && status < 300) {
                                json_t *j = NULL;

                                if (ret && c->body.size > 0) {
                                        json_error_t e;

                                        j = json_loadb(c->body.data, c->body.size, 0, &e);
                                        if (!j) {
                                                kube_set_error(c, "%s %s: response is not JSON: %s", method, url,
                                                          e.text);
                                                return -EBADMSG;
                                        }
                                }
                                kube_clear_error(c); /* from earlier attempts */
                                if (ret)
                                        *ret = j;
                                return 0;
                        }
                        kube_set_http_error(c, status, c->body.data, c->body.size);
                        r = kube_http_status_to_errno(status, c->last_reason);
                        retry = idempotent ? kube_http_retryable(status) : status == 429 || status == 503;
                }

                if (!retry)
                        return r;
                now = mono_usec();
                wait = MAX(backoff, c->retry_after_usec);
                if (attempt >= KUBE_ATTEMPTS_MAX || now + wait >= deadline) {
                        char *s = NULL;
                        int r2;

                        r2 = asprintf(&s, "%s (gave up after %u attempts)", strna(c->last_error), attempt);
                        if (r2 >= 0) {
                                free(c->last_error);
                                c->last_error = s;
                        }
                        return r;
                }
                log_debug("Kubernetes API %s %s failed (%s), retrying in %" PRIu64 " ms.", method, path,
                          strna(c->last_error), wait / USEC_PER_MSEC);
                r = sleep_cancellable(c, wait);
                if (r < 0) {
                        kube_set_error(c, "%s %s: cancelled", method, url);
                        return r;
                }
                backoff = MIN(backoff * 2, KUBE_BACKOFF_MAX_USEC);
        }
}
