/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The client: one curl easy handle with the cluster's TLS material and token,
 * and the last failure in words. Requests are in kube-request.c.
 */

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/mman.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "cluster/kube-internal.h"
#include "storeagent-build.h"

#define KUBE_TIMEOUT_DEFAULT_SEC 30U
#define KUBE_RETRY_AFTER_MAX_USEC (5 * USEC_PER_SEC)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;
static atomic_bool insecure_warned = false;

void kube_buffer_reset(KubeBuffer *b, size_t max)
{
        b->size = 0;
        b->max = max;
        b->overflow = false;
        if (b->data)
                b->data[0] = '\0';
}

void kube_buffer_done(KubeBuffer *b)
{
        free(b->data);
        *b = (KubeBuffer){};
}

bool kube_buffer_append(KubeBuffer *b, const char *p, size_t n)
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

static void curl_init_once(void)
{
        curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void pem_file_done(KubePemFile *p)
{
        p->fd = safe_close(p->fd);
        p->path[0] = '\0';
}

/* Puts PEM data where curl can open it by name without it touching a disk. */
static int pem_file_make(KubePemFile *p, const char *name, const char *pem)
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
        xsprintf(p->path, "/proc/self/fd/%d", p->fd);
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
        kube_buffer_done(&c->body);
        free(c);
        return NULL;
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

int kube_client_new(KubeClient **ret, const KubeConfig *cfg, unsigned timeout_sec)
{
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        _cleanup_erase_free_ char *token = NULL;
        const char *ca_path = NULL;
        int r;

        assert(ret);
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
                r = kube_curl_setopt_check(curl_easy_setopt(c->curl, opt, val));                                 \
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
        assert(c);
        c->cancel = flag;
}

void kube_client_set_fence(KubeClient *c, int (*fence)(void *userdata), void *userdata)
{
        assert(c);
        c->fence = fence;
        c->fence_userdata = userdata;
}

const char *kube_client_last_error(KubeClient *c)
{
        assert(c);
        return c->last_error ?: "";
}

long kube_client_last_status(KubeClient *c)
{
        assert(c);
        return c->last_status;
}

const char *kube_client_last_reason(KubeClient *c)
{
        assert(c);
        return c->last_reason;
}

void kube_clear_error(KubeClient *c)
{
        free(c->last_error);
        c->last_error = NULL;
        free(c->last_reason);
        c->last_reason = NULL;
}

_printf_(2, 3) void kube_set_error(KubeClient *c, const char *format, ...)
{
        va_list ap;
        char *s;

        va_start(ap, format);
        if (vasprintf(&s, format, ap) < 0)
                s = NULL;
        va_end(ap);
        /* It quotes the API server, a proxy or curl, and becomes a store's reason: keep it UTF-8. */
        if (s && !utf8_is_valid(s)) {
                char *t = utf8_escape_invalid(s);
                free(s);
                s = t;
        }
        free(c->last_error);
        c->last_error = s;
}
