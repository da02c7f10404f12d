/* SPDX-License-Identifier: Apache-2.0 */

#include <curl/curl.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "cluster/s3.h"
#include "storeagent-build.h"

/* The SHA-256 of no bytes: the payload of a GET or DELETE. */
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define S3_ERROR_BODY_MAX (16U * 1024U) /* what is kept of an error's body, for its Code and Message */

static inline void curl_easy_cleanupp(CURL **c)
{
        if (*c)
                curl_easy_cleanup(*c);
}

static inline void curl_slist_free_allp(struct curl_slist **l)
{
        curl_slist_free_all(*l);
}

static char *skip_space(char *p)
{
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

static void strip_end(char *p)
{
        size_t n = strlen(p);

        while (n > 0 && strchr(" \t\r", p[n - 1]))
                p[--n] = 0;
}

int s3_credentials_parse(const char *text, char **ret_access_key, char **ret_secret_key)
{
        _cleanup_erase_free_ char *copy = strdup(text);
        _cleanup_free_ char *access = NULL;
        _cleanup_erase_free_ char *secret = NULL;
        char *line, *save = NULL;
        int sections = 0;

        if (!copy)
                return -ENOMEM;
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *key = skip_space(line), *eq, *value;
                char **slot = NULL;

                strip_end(key);
                if (*key == 0 || *key == '#' || *key == ';')
                        continue;
                if (*key == '[') {
                        if (++sections > 1)
                                break; /* the first section's keys win */
                        continue;
                }
                eq = strchr(key, '=');
                if (!eq)
                        return -EINVAL;
                *eq = 0;
                strip_end(key);
                value = skip_space(eq + 1);
                if (STR_IN_SET(key, "aws_access_key_id", "access_key_id"))
                        slot = &access;
                else if (STR_IN_SET(key, "aws_secret_access_key", "secret_access_key"))
                        slot = &secret;
                if (!slot || *slot || !*value)
                        continue;
                *slot = strdup(value);
                if (!*slot)
                        return -ENOMEM;
        }
        if (!access || !secret)
                return -EINVAL;
        /* A ':' would end the key in curl's "key:secret"; S3's keys have none. */
        if (strchr(access, ':'))
                return -EINVAL;
        *ret_access_key = TAKE_PTR(access);
        *ret_secret_key = TAKE_PTR(secret);
        return 0;
}

int s3_object_url(const S3Target *t, const char *key, char **ret)
{
        size_t n = strlen(t->endpoint);

        while (n > 0 && t->endpoint[n - 1] == '/')
                n--;
        return asprintf(ret, "%.*s/%s/%s", (int) n, t->endpoint, t->bucket, key) < 0 ? -ENOMEM : 0;
}

/* The text of the first <tag>...</tag> in body, into out (empty when there is none). */
static void xml_element(const char *body, size_t len, const char *tag, char *out, size_t n)
{
        char open[32], close[32];
        const char *a, *b;

        *out = 0;
        xsprintf(open, "<%s>", tag);
        xsprintf(close, "</%s>", tag);
        a = memmem(body, len, open, strlen(open));
        if (!a)
                return;
        a += strlen(open);
        b = memmem(a, len - (size_t) (a - body), close, strlen(close));
        if (!b)
                return;
        utf8_snprintf(out, n, "%.*s", (int) MIN((size_t) (b - a), n - 1), a);
}

void s3_error_reason(long status, const char *body, size_t body_len, char *error, size_t n)
{
        char code[128], message[256];

        xml_element(body ?: "", body ? body_len : 0, "Code", code, sizeof code);
        xml_element(body ?: "", body ? body_len : 0, "Message", message, sizeof message);
        utf8_snprintf(error, n, "HTTP %ld%s%s%s%s", status, *code ? " " : "", code, *message ? ": " : "",
                      message);
}

/* One request's state: the file it reads or writes, and what is kept of an error's body. */
typedef struct Request {
        CURL *curl;
        int in_fd;  /* what a PUT sends */
        int out_fd; /* where a GET's object goes */
        int error;  /* of a file, as a negative errno */
        char *body;
        size_t body_len;
} Request;

static size_t on_write(char *p, size_t size, size_t nmemb, void *userdata)
{
        Request *q = userdata;
        size_t n = size * nmemb;
        long status = 0;

        (void) curl_easy_getinfo(q->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300 && q->out_fd >= 0) {
                size_t left = n;

                while (left > 0) {
                        ssize_t k = write(q->out_fd, p, left);

                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0) {
                                q->error = -errno;
                                return 0; /* ends the transfer */
                        }
                        p += k;
                        left -= (size_t) k;
                }
                return n;
        }
        /* A refusal's body (or an answer to a PUT or DELETE): its start is kept for the reason. */
        if (q->body_len < S3_ERROR_BODY_MAX) {
                size_t take = MIN(n, S3_ERROR_BODY_MAX - q->body_len);
                char *b = realloc(q->body, q->body_len + take + 1);

                if (!b) {
                        q->error = -ENOMEM;
                        return 0;
                }
                memcpy(b + q->body_len, p, take);
                q->body = b;
                q->body_len += take;
                q->body[q->body_len] = 0;
        }
        return n;
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *userdata)
{
        Request *q = userdata;

        for (;;) {
                ssize_t k = read(q->in_fd, p, size * nmemb);

                if (k >= 0)
                        return (size_t) k;
                if (errno != EINTR) {
                        q->error = -errno;
                        return CURL_READFUNC_ABORT;
                }
        }
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        const atomic_bool *cancel = userdata;

        return atomic_load(cancel) ? 1 : 0;
}

/* Sends one signed request; 0 on a 2xx answer, 1 with the reason otherwise. */
static int s3_request(const S3Target *t, const char *method, const char *key, Request *q,
                      int64_t upload_size, const char *sha256, char *error, size_t n)
{
        _cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_free_ char *url = NULL, *sigv4 = NULL, *sha_header = NULL;
        char curl_error[CURL_ERROR_SIZE] = "";
        CURLcode cc;
        long status = 0;
        int r;

        r = s3_object_url(t, key, &url);
        if (r < 0)
                return r;
        if (asprintf(&sigv4, "aws:amz:%s:s3", t->region) < 0 ||
            asprintf(&sha_header, "x-amz-content-sha256: %s", sha256 ?: "UNSIGNED-PAYLOAD") < 0)
                return -ENOMEM;
        curl = curl_easy_init();
        if (!curl)
                return -ENOMEM;
        q->curl = curl;
        /* "Expect:" keeps curl from waiting for a 100 Continue before the body. */
        headers = curl_slist_append(NULL, "Expect:");
        if (!headers)
                return -ENOMEM;
        {
                struct curl_slist *l = curl_slist_append(headers, sha_header);

                if (!l)
                        return -ENOMEM;
                headers = l;
        }

        (void) curl_easy_setopt(curl, CURLOPT_URL, url);
        (void) curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        (void) curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* no proxy from the environment */
        (void) curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        (void) curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
        (void) curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long) t->timeout_sec);
        (void) curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long) MIN(t->timeout_sec, (uint64_t) 60));
        (void) curl_easy_setopt(curl, CURLOPT_USERAGENT, "storeagent/" PACKAGE_VERSION);
        (void) curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4);
        (void) curl_easy_setopt(curl, CURLOPT_USERNAME, t->access_key);
        (void) curl_easy_setopt(curl, CURLOPT_PASSWORD, t->secret_key);
        (void) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        (void) curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
        (void) curl_easy_setopt(curl, CURLOPT_WRITEDATA, q);
        if (streq(method, "PUT")) {
                (void) curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
                (void) curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
                (void) curl_easy_setopt(curl, CURLOPT_READDATA, q);
                (void) curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t) upload_size);
        } else if (!streq(method, "GET"))
                (void) curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        if (t->cancel) {
                (void) curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
                (void) curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
                (void) curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *) t->cancel);
        }

        cc = curl_easy_perform(curl);
        if (q->error < 0)
                return q->error;
        if (cc == CURLE_ABORTED_BY_CALLBACK)
                return -ECANCELED;
        if (cc != CURLE_OK) {
                utf8_snprintf(error, n, "%s %s: %s", method, url,
                              *curl_error ? curl_error : curl_easy_strerror(cc));
                return 1;
        }
        (void) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299) {
                s3_error_reason(status, q->body, q->body_len, error, n);
                return 1;
        }
        return 0;
}

int s3_put_file(const S3Target *t, const char *key, const char *path, const char *sha256, char *error,
                size_t n)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        Request q = { .in_fd = -EBADF, .out_fd = -EBADF };
        struct stat st;
        int r;

        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        q.in_fd = fd;
        r = s3_request(t, "PUT", key, &q, (int64_t) st.st_size, sha256, error, n);
        free(q.body);
        return r;
}

int s3_get_file(const S3Target *t, const char *key, const char *path, char *error, size_t n)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        Request q = { .in_fd = -EBADF, .out_fd = -EBADF };
        int r;

        if (fd < 0)
                return -errno;
        q.out_fd = fd;
        r = s3_request(t, "GET", key, &q, 0, S3_EMPTY_SHA256, error, n);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        free(q.body);
        return r;
}

int s3_delete(const S3Target *t, const char *key, char *error, size_t n)
{
        Request q = { .in_fd = -EBADF, .out_fd = -EBADF };
        int r;

        r = s3_request(t, "DELETE", key, &q, 0, S3_EMPTY_SHA256, error, n);
        free(q.body);
        return r;
}
