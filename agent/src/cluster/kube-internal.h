/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What the files of the Kubernetes client share and its users do not see: the
 * KubeClient itself, the response buffer, the error recording and mapping
 * (kube-error.c), and the transport pieces the watch reuses (kube-request.c).
 *
 *   kube-client.c   the client: curl handle, TLS material, last error
 *   kube-error.c    HTTP status and curl code to errno and to words
 *   kube-request.c  URLs, one request with retries
 *   kube-object.c   paths, apply, get, list, delete, /version
 *   kube-watch.c    watch streams
 *   kube-exec.c     pods/exec: the upgrade, standard input, the loop
 *   kube-exec-stream.c  the exec's channels and status over the WebSocket stream
 *   kube-log.c      container logs (pods/log), read or followed
 *
 * (The client is not in kube.c: kube.c and kube.h would be one module, and
 * this header, which needs kube.h, would make it use itself.)
 */

#include <curl/curl.h>
#include <stdint.h>

#include "cluster/kube.h"

#define KUBE_CONNECT_TIMEOUT_MAX_MSEC 10000L

typedef struct KubeBuffer {
        char *data;
        size_t size;
        size_t alloc;
        size_t max;
        bool overflow;
} KubeBuffer;

/* A PEM item curl reads as a file: a memfd (or O_TMPFILE) opened through /proc/self/fd/N. */
typedef struct KubePemFile {
        int fd;
        char path[64];
} KubePemFile;

struct KubeClient {
        CURL *curl;
        char *server;
        char *auth_header; /* "Authorization: Bearer ..." (wiped on free) */
        KubePemFile ca, cert, key;
        unsigned timeout_sec;
        const atomic_bool *cancel;
        int (*fence)(void *userdata);
        void *fence_userdata;

        long last_status;
        char *last_error;
        char *last_reason;
        char errbuf[CURL_ERROR_SIZE];

        KubeBuffer body;
        uint64_t retry_after_usec;
};

static inline void curl_slist_free_allp(struct curl_slist **l)
{
        if (*l)
                curl_slist_free_all(*l);
}

static inline int kube_curl_setopt_check(CURLcode code)
{
        if (code == CURLE_OK)
                return 0;
        return code == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EOPNOTSUPP;
}

/* kube.c */
void kube_buffer_reset(KubeBuffer *b, size_t max);
void kube_buffer_done(KubeBuffer *b);
/* Appends and keeps the data NUL-terminated; false on overflow or OOM. */
bool kube_buffer_append(KubeBuffer *b, const char *p, size_t n);
void kube_clear_error(KubeClient *c);
_printf_(2, 3) void kube_set_error(KubeClient *c, const char *format, ...);

/* kube-error.c */
const char *kube_http_reason_phrase(long status);
bool kube_http_retryable(long status);
int kube_http_status_to_errno(long status, const char *reason);
void kube_set_http_error(KubeClient *c, long status, const char *body, size_t size);
int kube_curl_code_to_errno(KubeClient *c, CURLcode code);
bool kube_curl_retryable(CURLcode code);
void kube_set_curl_error(KubeClient *c, CURLcode code, const char *method, const char *url);

/* kube-request.c */
int kube_url_escape(const char *s, char **ret);
int kube_url_add_query(char **url, const char *key, const char *value);
int kube_make_url(KubeClient *c, const char *path, char **ret);
int kube_prepare(KubeClient *c, const char *method, const char *url, const char *content_type,
                 const char *body, long timeout_msec, struct curl_slist **ret_headers);
