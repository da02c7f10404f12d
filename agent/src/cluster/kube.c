/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <time.h>

#include "basic/log.h"
#include "basic/util.h"
#include "cluster/kube.h"
#include "storeagent-build.h"

#define KUBE_TIMEOUT_DEFAULT_SEC 30U
#define KUBE_CONNECT_TIMEOUT_MAX_MSEC 10000L
#define KUBE_ATTEMPTS_MAX 4
#define KUBE_BACKOFF_FIRST_USEC (200 * USEC_PER_MSEC)
#define KUBE_BACKOFF_MAX_USEC (2 * USEC_PER_SEC)
#define KUBE_RETRY_AFTER_MAX_USEC (5 * USEC_PER_SEC)
#define KUBE_WATCH_TIMEOUT_DEFAULT_SEC 300U
/* Slack over the server-side watch timeout before we give up on a silent connection. */
#define KUBE_WATCH_SLACK_SEC 30U
#define KUBE_BODY_MAX (64U * 1024U * 1024U)
#define KUBE_ERROR_BODY_MAX (1024U * 1024U)
#define KUBE_WATCH_LINE_MAX (16U * 1024U * 1024U)

typedef struct Buffer {
        char *data;
        size_t size;
        size_t alloc;
        size_t max;
        bool overflow;
} Buffer;

/* A PEM item curl reads as a file: a memfd (or O_TMPFILE) opened through /proc/self/fd/N. */
typedef struct PemFile {
        int fd;
        char path[64];
} PemFile;

struct KubeClient {
        CURL *curl;
        char *server;
        char *auth_header; /* "Authorization: Bearer ..." (wiped on free) */
        PemFile ca, cert, key;
        unsigned timeout_sec;
        const atomic_bool *cancel;

        long last_status;
        char *last_error;
        char *last_reason;
        char errbuf[CURL_ERROR_SIZE];

        Buffer body;
        uint64_t retry_after_usec;
};

typedef struct WatchState {
        KubeClient *client;
        KubeWatchFunc func;
        void *userdata;
        Buffer line;
        int result;    /* set when the callback or an ERROR event ended the watch */
        bool finished; /* result is meaningful */
        bool checked;  /* HTTP status looked at */
        bool streaming;
} WatchState;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;
static atomic_bool insecure_warned = false;

static void curl_init_once(void)
{
        curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void curl_slist_free_allp(struct curl_slist **l)
{
        if (*l)
                curl_slist_free_all(*l);
}

static void buffer_reset(Buffer *b, size_t max)
{
        b->size = 0;
        b->max = max;
        b->overflow = false;
        if (b->data)
                b->data[0] = '\0';
}

static void buffer_done(Buffer *b)
{
        free(b->data);
        *b = (Buffer){};
}

/* Appends and keeps the data NUL-terminated; false on overflow or OOM. */
static bool buffer_append(Buffer *b, const char *p, size_t n)
{
        if (b->size + n > b->max) {
                b->overflow = true;
                return false;
        }
        if (b->size + n + 1 > b->alloc) {
                size_t a = MAX(b->alloc * 2, (size_t) 16384);
                char *d;

                while (a < b->size + n + 1)
                        a *= 2;
                d = realloc(b->data, a);
                if (!d)
                        return false;
                b->data = d;
                b->alloc = a;
        }
        memcpy(b->data + b->size, p, n);
        b->size += n;
        b->data[b->size] = '\0';
        return true;
}

static void pem_file_done(PemFile *p)
{
        p->fd = safe_close(p->fd);
        p->path[0] = '\0';
}

/* Puts PEM data where curl can open it by name without it touching a disk. */
static int pem_file_make(PemFile *p, const char *name, const char *pem)
{
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(pem), done = 0;

        fd = memfd_create(name, MFD_CLOEXEC);
        if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
                const char *dir = getenv("RUNTIME_DIRECTORY") ?: "/tmp";

                fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        }
        if (fd < 0)
                return -errno;
        while (done < n) {
                ssize_t k = write(fd, pem + done, n - done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                done += (size_t) k;
        }
        p->fd = TAKE_FD(fd);
        snprintf(p->path, sizeof(p->path), "/proc/self/fd/%d", p->fd);
        return 0;
}

KubeClient *kube_client_free(KubeClient *c)
{
        if (!c)
                return NULL;
        if (c->curl)
                curl_easy_cleanup(c->curl);
        free(c->server);
        if (c->auth_header) {
                explicit_bzero(c->auth_header, strlen(c->auth_header));
                free(c->auth_header);
        }
        pem_file_done(&c->ca);
        pem_file_done(&c->cert);
        pem_file_done(&c->key);
        free(c->last_error);
        free(c->last_reason);
        buffer_done(&c->body);
        free(c);
        return NULL;
}

static int curl_setopt_check(CURLcode code)
{
        if (code == CURLE_OK)
                return 0;
        return code == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EOPNOTSUPP;
}

static int progress_callback(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                             curl_off_t ulnow)
{
        KubeClient *c = userdata;

        return c->cancel && atomic_load(c->cancel) ? 1 : 0;
}

static size_t header_callback(char *p, size_t size, size_t nmemb, void *userdata)
{
        KubeClient *c = userdata;
        size_t n = size * nmemb;

        if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
                char buf[32];
                size_t k = MIN(n - 12, sizeof(buf) - 1);
                unsigned long secs;
                char *end;

                memcpy(buf, p + 12, k);
                buf[k] = '\0';
                errno = 0;
                secs = strtoul(buf, &end, 10);
                if (errno == 0 && end != buf)
                        c->retry_after_usec = MIN((uint64_t) secs * USEC_PER_SEC, KUBE_RETRY_AFTER_MAX_USEC);
        }
        return n;
}

static size_t body_callback(char *p, size_t size, size_t nmemb, void *userdata)
{
        KubeClient *c = userdata;
        size_t n = size * nmemb;

        return buffer_append(&c->body, p, n) ? n : 0;
}

int kube_client_new(KubeClient **ret, const KubeConfig *cfg, unsigned timeout_sec)
{
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        _cleanup_erase_free_ char *token = NULL;
        const char *ca_path = NULL;
        int r;

        if (!cfg || isempty(cfg->server))
                return -EINVAL;

        pthread_once(&curl_once, curl_init_once);
        if (curl_init_result != CURLE_OK)
                return -EIO;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->ca.fd = c->cert.fd = c->key.fd = -EBADF;
        c->timeout_sec = timeout_sec > 0 ? timeout_sec : KUBE_TIMEOUT_DEFAULT_SEC;
        c->server = strdup(cfg->server);
        c->curl = curl_easy_init();
        if (!c->server || !c->curl)
                return -ENOMEM;

        /* A rotated projected token lands in tokenFile; read it fresh for every new client. */
        if (cfg->token_file) {
                size_t n;

                r = read_file(cfg->token_file, 64 * 1024, &token, &n);
                if (r < 0)
                        return r;
                while (n > 0 && strchr(" \t\r\n", token[n - 1]))
                        token[--n] = '\0';
        } else if (cfg->token) {
                token = strdup(cfg->token);
                if (!token)
                        return -ENOMEM;
        }
        if (!isempty(token) && asprintf(&c->auth_header, "Authorization: Bearer %s", token) < 0) {
                c->auth_header = NULL;
                return -ENOMEM;
        }

        if (cfg->ca_pem) {
                r = pem_file_make(&c->ca, "kube-ca", cfg->ca_pem);
                if (r < 0)
                        return r;
                ca_path = c->ca.path;
        } else
                ca_path = cfg->ca_file;
        if (cfg->cert_pem) {
                r = pem_file_make(&c->cert, "kube-cert", cfg->cert_pem);
                if (r < 0)
                        return r;
        }
        if (cfg->key_pem) {
                r = pem_file_make(&c->key, "kube-key", cfg->key_pem);
                if (r < 0)
                        return r;
        }

#define SET(opt, val)                                                                                       \
        do {                                                                                                \
                r = curl_setopt_check(curl_easy_setopt(c->curl, opt, val));                                 \
                if (r < 0)                                                                                  \
                        return r;                                                                           \
        } while (0)

        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_ERRORBUFFER, c->errbuf);
        SET(CURLOPT_USERAGENT, "storeagent/" PACKAGE_VERSION);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_TCP_KEEPALIVE, 1L);
        SET(CURLOPT_NOPROGRESS, 0L);
        SET(CURLOPT_XFERINFOFUNCTION, progress_callback);
        SET(CURLOPT_XFERINFODATA, c);
        SET(CURLOPT_HEADERFUNCTION, header_callback);
        SET(CURLOPT_HEADERDATA, c);

        if (cfg->insecure_skip_tls_verify) {
                SET(CURLOPT_SSL_VERIFYPEER, 0L);
                SET(CURLOPT_SSL_VERIFYHOST, 0L);
                if (!atomic_exchange(&insecure_warned, true))
                        log_warning("Kubeconfig context '%s' sets insecure-skip-tls-verify: "
                                    "the API server at %s is not authenticated.",
                                    strna(cfg->context_name), cfg->server);
        } else {
                SET(CURLOPT_SSL_VERIFYPEER, 1L);
                SET(CURLOPT_SSL_VERIFYHOST, 2L);
                if (ca_path) {
                        /* Trust the cluster's CA only, not the system store as well. */
                        SET(CURLOPT_CAINFO, ca_path);
                        SET(CURLOPT_CAPATH, (char *) NULL);
                }
        }
        if (cfg->cert_pem || cfg->cert_file) {
                SET(CURLOPT_SSLCERT, cfg->cert_pem ? c->cert.path : cfg->cert_file);
                SET(CURLOPT_SSLCERTTYPE, "PEM");
                SET(CURLOPT_SSLKEY, cfg->key_pem ? c->key.path : cfg->key_file);
                SET(CURLOPT_SSLKEYTYPE, "PEM");
        }
#undef SET

        *ret = TAKE_PTR(c);
        return 0;
}

void kube_client_set_cancel(KubeClient *c, const atomic_bool *flag)
{
        c->cancel = flag;
}

const char *kube_client_last_error(KubeClient *c)
{
        return c->last_error ?: "";
}

long kube_client_last_status(KubeClient *c)
{
        return c->last_status;
}

const char *kube_client_last_reason(KubeClient *c)
{
        return c->last_reason;
}

static void clear_error(KubeClient *c)
{
        free(c->last_error);
        c->last_error = NULL;
        free(c->last_reason);
        c->last_reason = NULL;
}

_printf_(2, 3) static void set_error(KubeClient *c, const char *format, ...)
{
        va_list ap;
        char *s;

        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0)
                s = NULL;
        va_end(ap);
        free(c->last_error);
        c->last_error = s;
}

static const char *http_reason_phrase(long status)
{
        switch (status) {
        case 400:
                return "Bad Request";
        case 401:
                return "Unauthorized";
        case 403:
                return "Forbidden";
        case 404:
                return "Not Found";
        case 405:
                return "Method Not Allowed";
        case 406:
                return "Not Acceptable";
        case 409:
                return "Conflict";
        case 410:
                return "Gone";
        case 413:
                return "Request Entity Too Large";
        case 415:
                return "Unsupported Media Type";
        case 422:
                return "Unprocessable Entity";
        case 429:
                return "Too Many Requests";
        case 500:
                return "Internal Server Error";
        case 502:
                return "Bad Gateway";
        case 503:
                return "Service Unavailable";
        case 504:
                return "Gateway Timeout";
        default:
                return status >= 500 ? "Server Error" : "Error";
        }
}

static bool http_retryable(long status)
{
        return status == 429 || (status >= 500 && status <= 599);
}

static int http_status_to_errno(long status, const char *reason)
{
        switch (status) {
        case 400:
        case 422:
                return -EINVAL;
        case 401:
                return -EACCES;
        case 403:
                return -EPERM;
        case 404:
                return -ENOENT;
        case 409:
                return streq_ptr(reason, "AlreadyExists") ? -EEXIST : -EBUSY;
        case 410:
                return -ESTALE;
        case 405:
        case 415:
                return -EOPNOTSUPP;
        case 413:
                return -EFBIG;
        default:
                if (http_retryable(status))
                        return -EAGAIN;
                return -EIO;
        }
}

/*
 * Records "HTTP 403 Forbidden: <Status.message>" from a failed response. An
 * error body that is not a Status (a proxy's HTML, say) is quoted, shortened.
 */
static void set_http_error(KubeClient *c, long status, const char *body, size_t size)
{
        _cleanup_(json_decrefp) json_t *j = NULL;
        const char *message = NULL, *reason = NULL;

        if (size > 0)
                j = json_loadb(body, size, 0, NULL);
        if (json_is_object(j)) {
                message = json_string_value(json_object_get(j, "message"));
                reason = json_string_value(json_object_get(j, "reason"));
        }
        free(c->last_reason);
        c->last_reason = reason ? strdup(reason) : NULL;

        if (message)
                set_error(c, "HTTP %ld %s: %s", status, http_reason_phrase(status), message);
        else if (size > 0) {
                char text[201];
                size_t n = MIN(size, sizeof(text) - 1);

                for (size_t i = 0; i < n; i++)
                        text[i] = isprint((unsigned char) body[i]) ? body[i] : ' ';
                text[n] = '\0';
                set_error(c, "HTTP %ld %s: %s%s", status, http_reason_phrase(status), text,
                          size > n ? "..." : "");
        } else
                set_error(c, "HTTP %ld %s", status, http_reason_phrase(status));
}

static int curl_code_to_errno(KubeClient *c, CURLcode code)
{
        long os_errno = 0;

        switch (code) {
        case CURLE_OK:
                return 0;
        case CURLE_ABORTED_BY_CALLBACK:
                return -ECANCELED;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
                (void) curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno);
                if (os_errno == EHOSTUNREACH || os_errno == ENETUNREACH)
                        return -EHOSTUNREACH;
                if (os_errno == ETIMEDOUT)
                        return -ETIMEDOUT;
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return -ECONNRESET;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_USE_SSL_FAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_SHUTDOWN_FAILED:
                return -EPROTO;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return -EINVAL;
        default:
                return -EIO;
        }
}

/* Connection-level failures worth another attempt; TLS and URL errors will not heal. */
static bool curl_retryable(CURLcode code)
{
        switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return true;
        default:
                return false;
        }
}

static void set_curl_error(KubeClient *c, CURLcode code, const char *method, const char *url)
{
        char *p;

        if (code == CURLE_ABORTED_BY_CALLBACK) {
                set_error(c, "%s %s: cancelled", method, url);
                return;
        }
        /* GnuTLS names the CA file, which for kubeconfig data is our memfd: no help to anyone. */
        p = strstr(c->errbuf, " CAfile: /proc/self/fd/");
        if (p)
                *p = '\0';
        for (size_t n = strlen(c->errbuf); n > 0 && strchr(". \n", c->errbuf[n - 1]); n--)
                c->errbuf[n - 1] = '\0';
        if (code == CURLE_PEER_FAILED_VERIFICATION)
                set_error(c,
                          "%s %s: %s (the API server's certificate is not signed by the kubeconfig's "
                          "certificate authority, or does not name this host)",
                          method, url, c->errbuf[0] ? c->errbuf : curl_easy_strerror(code));
        else
                set_error(c, "%s %s: %s", method, url, c->errbuf[0] ? c->errbuf : curl_easy_strerror(code));
}

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
static int url_escape(const char *s, char **ret)
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
static int url_add_query(char **url, const char *key, const char *value)
{
        _cleanup_free_ char *escaped = NULL;
        char *n;
        int r;

        r = url_escape(value, &escaped);
        if (r < 0)
                return r;
        if (asprintf(&n, "%s%c%s=%s", *url, strchr(*url, '?') ? '&' : '?', key, escaped) < 0)
                return -ENOMEM;
        free(*url);
        *url = n;
        return 0;
}

static int make_url(KubeClient *c, const char *path, char **ret)
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
static int prepare(KubeClient *c, const char *method, const char *url, const char *content_type,
                   const char *body, long timeout_msec, struct curl_slist **ret_headers)
{
        _cleanup_(curl_slist_free_allp) struct curl_slist *h = NULL;
        struct curl_slist *t;
        char ct[128];
        int r;

        h = curl_slist_append(NULL, "Accept: application/json");
        if (!h)
                return -ENOMEM;
        /* No "Expect: 100-continue" round trip for larger bodies. */
        if (!(t = curl_slist_append(h, "Expect:")))
                return -ENOMEM;
        if (content_type) {
                snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
                if (!(t = curl_slist_append(h, ct)))
                        return -ENOMEM;
        }
        if (c->auth_header && !(t = curl_slist_append(h, c->auth_header)))
                return -ENOMEM;

#define SET(opt, val)                                                                                       \
        do {                                                                                                \
                r = curl_setopt_check(curl_easy_setopt(c->curl, opt, val));                                 \
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
        clear_error(c);
        r = make_url(c, path, &url);
        if (r < 0) {
                set_error(c, "invalid API path '%s'", strna(path));
                return r;
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
                r = prepare(c, method, url, content_type, body, (long) ((deadline - now) / USEC_PER_MSEC),
                            &headers);
                if (r < 0)
                        return r;
                buffer_reset(&c->body, KUBE_BODY_MAX);
                (void) curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, body_callback);
                (void) curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);

                code = curl_easy_perform(c->curl);
                if (code == CURLE_WRITE_ERROR && c->body.overflow) {
                        set_error(c, "%s %s: response larger than %u bytes", method, url, KUBE_BODY_MAX);
                        return -EFBIG;
                }
                if (code != CURLE_OK) {
                        set_curl_error(c, code, method, url);
                        r = curl_code_to_errno(c, code);
                        /* A POST that may have reached the server is not sent twice. */
                        retry = idempotent ? curl_retryable(code)
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
                                                set_error(c, "%s %s: response is not JSON: %s", method, url,
                                                          e.text);
                                                return -EBADMSG;
                                        }
                                }
                                clear_error(c); /* from earlier attempts */
                                if (ret)
                                        *ret = j;
                                return 0;
                        }
                        set_http_error(c, status, c->body.data, c->body.size);
                        r = http_status_to_errno(status, c->last_reason);
                        retry = idempotent ? http_retryable(status) : status == 429 || status == 503;
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
                        set_error(c, "%s %s: cancelled", method, url);
                        return r;
                }
                backoff = MIN(backoff * 2, KUBE_BACKOFF_MAX_USEC);
        }
}

/* Appends "/<part>" escaped; '/' inside a part would change the path, so it is refused. */
static int path_append(char **p, const char *part)
{
        _cleanup_free_ char *escaped = NULL;
        char *n;
        int r;

        if (isempty(part) || strchr(part, '/') || streq(part, ".") || streq(part, ".."))
                return -EINVAL;
        r = url_escape(part, &escaped);
        if (r < 0)
                return r;
        if (asprintf(&n, "%s/%s", *p, escaped) < 0)
                return -ENOMEM;
        free(*p);
        *p = n;
        return 0;
}

int kube_path(char **ret, const char *api_version, const char *resource, const char *namespace,
              const char *name)
{
        _cleanup_free_ char *p = NULL;
        int r;

        if (isempty(api_version) || isempty(resource) || api_version[0] == '/' ||
            api_version[strlen(api_version) - 1] == '/' || strstr(api_version, ".."))
                return -EINVAL;
        /* The core group lives under /api, every other group under /apis/<group>. */
        if (asprintf(&p, "%s/%s", strchr(api_version, '/') ? "/apis" : "/api", api_version) < 0)
                return -ENOMEM;
        if (namespace) {
                r = path_append(&p, "namespaces");
                if (r >= 0)
                        r = path_append(&p, namespace);
                if (r < 0)
                        return r;
        }
        r = path_append(&p, resource);
        if (r < 0)
                return r;
        if (name) {
                r = path_append(&p, name);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

typedef struct KindInfo {
        const char *kind;
        const char *resource;
        bool cluster_scoped;
} KindInfo;

static const KindInfo kind_table[] = {
        { "Namespace", "namespaces", true },
        { "ResourceQuota", "resourcequotas", false },
        { "LimitRange", "limitranges", false },
        { "NetworkPolicy", "networkpolicies", false },
        { "Secret", "secrets", false },
        { "ConfigMap", "configmaps", false },
        { "ServiceAccount", "serviceaccounts", false },
        { "Role", "roles", false },
        { "RoleBinding", "rolebindings", false },
        { "ClusterRole", "clusterroles", true },
        { "ClusterRoleBinding", "clusterrolebindings", true },
        { "Service", "services", false },
        { "Endpoints", "endpoints", false },
        { "Pod", "pods", false },
        { "Deployment", "deployments", false },
        { "StatefulSet", "statefulsets", false },
        { "ReplicaSet", "replicasets", false },
        { "DaemonSet", "daemonsets", false },
        { "Job", "jobs", false },
        { "CronJob", "cronjobs", false },
        { "PersistentVolumeClaim", "persistentvolumeclaims", false },
        { "PersistentVolume", "persistentvolumes", true },
        { "StorageClass", "storageclasses", true },
        { "Ingress", "ingresses", false },
        { "IngressClass", "ingressclasses", true },
        { "Event", "events", false },
        { "PodDisruptionBudget", "poddisruptionbudgets", false },
        { "HorizontalPodAutoscaler", "horizontalpodautoscalers", false },
        { "Node", "nodes", true },
        { "PriorityClass", "priorityclasses", true },
        { "CustomResourceDefinition", "customresourcedefinitions", true },
};

/* "Widget" -> "widgets", "Policy" -> "policies", "Ingress" -> "ingresses". */
static int kind_to_plural(const char *kind, char **ret)
{
        size_t n = strlen(kind);
        char *s = malloc(n + 3), *e;

        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i <= n; i++)
                s[i] = (char) tolower((unsigned char) kind[i]);
        e = s + n;
        if (n > 1 && e[-1] == 'y' && !strchr("aeiou", e[-2]))
                strcpy(e - 1, "ies");
        else if (e[-1] == 's' || e[-1] == 'x' || (n > 1 && (streq(e - 2, "ch") || streq(e - 2, "sh"))))
                strcpy(e, "es");
        else
                strcpy(e, "s");
        *ret = s;
        return 0;
}

int kube_object_path(json_t *object, char **ret)
{
        _cleanup_free_ char *plural = NULL;
        const char *api_version, *kind, *name, *namespace, *resource = NULL;
        bool cluster_scoped = false;
        json_t *metadata;
        int r;

        if (!json_is_object(object))
                return -EINVAL;
        api_version = json_string_value(json_object_get(object, "apiVersion"));
        kind = json_string_value(json_object_get(object, "kind"));
        metadata = json_object_get(object, "metadata");
        name = json_string_value(json_object_get(metadata, "name"));
        namespace = json_string_value(json_object_get(metadata, "namespace"));
        if (isempty(api_version) || isempty(kind) || isempty(name))
                return -EINVAL;

        for (size_t i = 0; i < ELEMENTSOF(kind_table); i++)
                if (streq(kind_table[i].kind, kind)) {
                        resource = kind_table[i].resource;
                        cluster_scoped = kind_table[i].cluster_scoped;
                        break;
                }
        if (!resource) {
                r = kind_to_plural(kind, &plural);
                if (r < 0)
                        return r;
                resource = plural;
                cluster_scoped = isempty(namespace);
        }
        if (!cluster_scoped && isempty(namespace))
                return -EINVAL;

        return kube_path(ret, api_version, resource, cluster_scoped ? NULL : namespace, name);
}

int kube_apply(KubeClient *c, json_t *object, json_t **ret)
{
        _cleanup_free_ char *path = NULL, *body = NULL;
        int r;

        clear_error(c);
        r = kube_object_path(object, &path);
        if (r == -EINVAL) {
                json_t *metadata = json_object_get(object, "metadata");

                set_error(c,
                          "cannot apply %s '%s': apiVersion, kind, metadata.name and (for namespaced kinds) "
                          "metadata.namespace are required",
                          strna(json_string_value(json_object_get(object, "kind"))),
                          strna(json_string_value(json_object_get(metadata, "name"))));
                return r;
        }
        if (r < 0)
                return r;
        r = url_add_query(&path, "fieldManager", KUBE_FIELD_MANAGER);
        if (r >= 0)
                r = url_add_query(&path, "force", "true");
        if (r < 0)
                return r;

        body = json_dumps(object, JSON_COMPACT);
        if (!body)
                return -ENOMEM;
        return kube_request(c, "PATCH", path, "application/apply-patch+yaml", body, ret);
}

int kube_get(KubeClient *c, const char *path, json_t **ret)
{
        return kube_request(c, "GET", path, NULL, NULL, ret);
}

int kube_list(KubeClient *c, const char *path, const char *label_selector, json_t **ret)
{
        _cleanup_free_ char *p = strdup(path ?: "");
        int r;

        if (!p)
                return -ENOMEM;
        if (!isempty(label_selector)) {
                r = url_add_query(&p, "labelSelector", label_selector);
                if (r < 0)
                        return r;
        }
        return kube_request(c, "GET", p, NULL, NULL, ret);
}

int kube_delete(KubeClient *c, const char *path, const char *propagation)
{
        _cleanup_free_ char *p = strdup(path ?: "");
        int r;

        if (!p)
                return -ENOMEM;
        if (!isempty(propagation)) {
                r = url_add_query(&p, "propagationPolicy", propagation);
                if (r < 0)
                        return r;
        }
        r = kube_request(c, "DELETE", p, NULL, NULL, NULL);
        if (r == -ENOENT) {
                /* Already gone is what we wanted. */
                clear_error(c);
                return 0;
        }
        return r;
}

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
                set_error(w->client, "watch: malformed event: %s", event ? "no type or object" : e.text);
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
                set_error(w->client, "watch: HTTP %lld %s: %s", (long long) code,
                          http_reason_phrase((long) code), strna(message));
                w->result = http_status_to_errno((long) code, reason);
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
                return buffer_append(&w->client->body, p, n) ? n : 0;

        if (!buffer_append(&w->line, p, n)) {
                if (w->line.overflow) {
                        set_error(w->client, "watch: event larger than %u bytes", KUBE_WATCH_LINE_MAX);
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
        clear_error(c);
        if (timeout_sec == 0)
                timeout_sec = KUBE_WATCH_TIMEOUT_DEFAULT_SEC;
        r = make_url(c, path, &url);
        if (r < 0) {
                set_error(c, "invalid API path '%s'", strna(path));
                return r;
        }
        if (asprintf(&tmo, "%u", timeout_sec) < 0)
                return -ENOMEM;
        r = url_add_query(&url, "watch", "1");
        if (r >= 0)
                r = url_add_query(&url, "allowWatchBookmarks", "true");
        if (r >= 0)
                r = url_add_query(&url, "timeoutSeconds", tmo);
        if (r >= 0 && !isempty(label_selector))
                r = url_add_query(&url, "labelSelector", label_selector);
        if (r >= 0 && !isempty(resource_version))
                r = url_add_query(&url, "resourceVersion", resource_version);
        if (r < 0)
                return r;

        r = prepare(c, "GET", url, NULL, NULL, (long) (timeout_sec + KUBE_WATCH_SLACK_SEC) * 1000L,
                    &headers);
        if (r < 0)
                return r;
        /* A silent watch is normal; only the connect phase gets the client's shorter timeout. */
        (void) curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS,
                                MIN((long) c->timeout_sec * 1000L, KUBE_CONNECT_TIMEOUT_MAX_MSEC));
        buffer_reset(&c->body, KUBE_ERROR_BODY_MAX);
        w.line.max = KUBE_WATCH_LINE_MAX;
        (void) curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, watch_callback);
        (void) curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &w);

        code = curl_easy_perform(c->curl);
        (void) curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        c->last_status = status;

        if (w.finished) {
                buffer_done(&w.line);
                return w.result;
        }
        if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && !w.streaming)) {
                buffer_done(&w.line);
                set_curl_error(c, code, "GET", url);
                return curl_code_to_errno(c, code);
        }
        if (status != 200) {
                buffer_done(&w.line);
                set_http_error(c, status, c->body.data, c->body.size);
                return http_status_to_errno(status, c->last_reason);
        }
        /* A last event without its newline. */
        if (w.line.size > 0 && !watch_line(&w, w.line.data, w.line.size)) {
                buffer_done(&w.line);
                return w.result;
        }
        buffer_done(&w.line);
        return 0;
}

int kube_server_version(KubeClient *c, char **ret_git_version)
{
        _cleanup_(json_decrefp) json_t *j = NULL;
        const char *v;
        char *s;
        int r;

        r = kube_get(c, "/version", &j);
        if (r < 0)
                return r;
        v = json_string_value(json_object_get(j, "gitVersion"));
        if (!v) {
                set_error(c, "GET /version: no gitVersion in the response");
                return -EBADMSG;
        }
        s = strdup(v);
        if (!s)
                return -ENOMEM;
        *ret_git_version = s;
        return 0;
}
