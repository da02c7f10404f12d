/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "basic/hmac.h"
#include "basic/log.h"
#include "basic/util.h"
#include "core/webhook.h"
#include "notify/webhook-sender.h"
#include "storeagent-build.h"

struct WebhookSender {
        WebhookSenderOptions o;
        char *db_path;
        pthread_t thread;
        bool started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool woken;
        atomic_bool stop;
};

static inline void curl_slist_free_allp(struct curl_slist **l)
{
        curl_slist_free_all(*l);
}

/* What one transfer learns beyond curl's result. */
typedef struct Transfer {
        WebhookSender *sender;
        bool refused;
        char refused_address[INET6_ADDRSTRLEN];
} Transfer;

static bool ipv4_is_private(uint32_t a)
{
        static const struct {
                uint32_t net, mask;
        } ranges[] = {
                { 0x00000000, 0xff000000 }, /* 0.0.0.0/8 "this network" */
                { 0x0a000000, 0xff000000 }, /* 10.0.0.0/8 */
                { 0x64400000, 0xffc00000 }, /* 100.64.0.0/10 shared (CGNAT) */
                { 0x7f000000, 0xff000000 }, /* 127.0.0.0/8 loopback */
                { 0xa9fe0000, 0xffff0000 }, /* 169.254.0.0/16 link-local (cloud metadata) */
                { 0xac100000, 0xfff00000 }, /* 172.16.0.0/12 */
                { 0xc0000000, 0xffffff00 }, /* 192.0.0.0/24 protocol assignments */
                { 0xc0a80000, 0xffff0000 }, /* 192.168.0.0/16 */
                { 0xc6120000, 0xfffe0000 }, /* 198.18.0.0/15 benchmarking */
                { 0xe0000000, 0xe0000000 }, /* 224.0.0.0/3 multicast, reserved, broadcast */
        };

        for (size_t i = 0; i < ELEMENTSOF(ranges); i++)
                if ((a & ranges[i].mask) == ranges[i].net)
                        return true;
        return false;
}

bool webhook_address_is_private(const struct sockaddr *sa)
{
        assert(sa);

        if (sa->sa_family == AF_INET)
                return ipv4_is_private(ntohl(((const struct sockaddr_in *) sa)->sin_addr.s_addr));
        if (sa->sa_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;
                if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
                        uint32_t v4;
                        memcpy(&v4, a->s6_addr + 12, 4);
                        return ipv4_is_private(ntohl(v4));
                }
                return IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
                       IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_MULTICAST(a) ||
                       (a->s6_addr[0] & 0xfe) == 0xfc; /* fc00::/7 unique local */
        }
        return true; /* neither IPv4 nor IPv6: nothing a webhook should reach */
}

static curl_socket_t open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *address)
{
        Transfer *t = userdata;
        int fd;

        if (!t->sender->o.allow_private && webhook_address_is_private(&address->addr)) {
                const void *in = address->family == AF_INET6
                                         ? (const void *) &((struct sockaddr_in6 *) &address->addr)->sin6_addr
                                         : (const void *) &((struct sockaddr_in *) &address->addr)->sin_addr;
                t->refused = true;
                if (!inet_ntop(address->family, in, t->refused_address, sizeof t->refused_address))
                        strcpy(t->refused_address, "?");
                return CURL_SOCKET_BAD;
        }
        fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
        return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static size_t discard_body(char *ptr, size_t size, size_t n, void *userdata)
{
        return size * n;
}

static int transfer_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                             curl_off_t ulnow)
{
        Transfer *t = userdata;
        return atomic_load(&t->sender->stop) ? 1 : 0;
}

/* Posts one delivery. Returns the HTTP status in *ret_code (0: none) and why it failed in error. */
static int post(WebhookSender *s, CURL *curl, const WebhookDelivery *d, long *ret_code, char *error, size_t n)
{
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        char signature[64 + 32], hex[65], event[128], delivery[64];
        Transfer t = { .sender = s };
        CURLcode cc;
        int r;

        *ret_code = 0;
        r = hmac_sha256_hex(d->secret, strlen(d->secret), d->payload, strlen(d->payload), hex);
        if (r < 0) {
                snprintf(error, n, "Signing the delivery failed.");
                return r;
        }
        snprintf(signature, sizeof signature, "X-Storeagent-Signature: sha256=%s", hex);
        snprintf(event, sizeof event, "X-Storeagent-Event: %s", d->event);
        snprintf(delivery, sizeof delivery, "X-Storeagent-Delivery: %" PRIi64, d->id);
        /* "Expect:" keeps curl from waiting for a 100 Continue the receiver may never send. */
        const char *const lines[] = { "Content-Type: application/json", signature, event, delivery, "Expect:" };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                struct curl_slist *l = curl_slist_append(headers, lines[i]);
                if (!l) {
                        snprintf(error, n, "Out of memory.");
                        return -ENOMEM;
                }
                headers = l;
        }

        curl_easy_reset(curl);
        (void) curl_easy_setopt(curl, CURLOPT_URL, d->url);
        (void) curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        (void) curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* no proxy from the environment */
        (void) curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        (void) curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) (s->o.timeout_usec / 1000));
        (void) curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long) (s->o.timeout_usec / 1000));
        (void) curl_easy_setopt(curl, CURLOPT_USERAGENT, "storeagent/" PACKAGE_VERSION);
        (void) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        (void) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, d->payload);
        (void) curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long) strlen(d->payload));
        (void) curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
        (void) curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
        (void) curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &t);
        (void) curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        (void) curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, transfer_progress);
        (void) curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);

        cc = curl_easy_perform(curl);
        if (t.refused) {
                snprintf(error, n,
                         "The destination %s is a loopback, private or link-local address; "
                         "webhooks.private_destinations refuses it.",
                         t.refused_address);
                return -EPERM;
        }
        if (cc == CURLE_ABORTED_BY_CALLBACK) {
                snprintf(error, n, "The agent stopped during the delivery.");
                return -ECANCELED;
        }
        if (cc != CURLE_OK) {
                snprintf(error, n, "%s", curl_easy_strerror(cc));
                return -EIO;
        }
        (void) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, ret_code);
        if (*ret_code < 200 || *ret_code > 299) {
                snprintf(error, n, "The receiver answered HTTP %ld.", *ret_code);
                return -EBADMSG;
        }
        return 0;
}

static uint64_t backoff(const WebhookSender *s, int attempts)
{
        uint64_t delay = s->o.retry_initial_usec;

        for (int i = 1; i < attempts && delay < s->o.retry_max_usec; i++)
                delay *= 2;
        return MIN(delay, s->o.retry_max_usec);
}

static void deliver(WebhookSender *s, Db *db, CURL *curl, const WebhookDelivery *d)
{
        char error[512] = "", webhook_id[24], delivery_id[24];
        uint64_t retry_at = 0;
        long code;
        int r;

        r = post(s, curl, d, &code, error, sizeof error);
        if (r == -ECANCELED)
                retry_at = now_usec();
        else if (r < 0 && r != -EPERM && (uint64_t) d->attempts < s->o.max_attempts)
                retry_at = now_usec() + backoff(s, d->attempts);

        if (r >= 0)
                log_debug("Webhook %" PRIi64 " delivery %" PRIi64 " (%s) delivered, HTTP %ld.", d->webhook_id, d->id,
                          d->event, code);
        else if (retry_at == 0) {
                snprintf(webhook_id, sizeof webhook_id, "%" PRIi64, d->webhook_id);
                snprintf(delivery_id, sizeof delivery_id, "%" PRIi64, d->id);
                log_struct(LOG_WARNING, LOG_FIELDS("WEBHOOK_ID", webhook_id, "WEBHOOK_DELIVERY_ID", delivery_id),
                           "Webhook %" PRIi64 " delivery %" PRIi64 " (%s) failed after %d attempt(s): %s",
                           d->webhook_id, d->id, d->event, d->attempts, error);
        } else
                log_info("Webhook %" PRIi64 " delivery %" PRIi64 " (%s) attempt %d failed, trying again: %s",
                         d->webhook_id, d->id, d->event, d->attempts, error);

        r = webhook_delivery_finish(db, d, r >= 0, code, error, retry_at, s->o.keep);
        if (r < 0)
                log_warning_errno(r, "Failed to record webhook delivery %" PRIi64 ": %m", d->id);
}

static void wait_for_work(WebhookSender *s, uint64_t usec)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        usec += (uint64_t) ts.tv_nsec / 1000;
        ts.tv_sec += (time_t) (usec / USEC_PER_SEC);
        ts.tv_nsec = (long) (usec % USEC_PER_SEC) * 1000;

        pthread_mutex_lock(&s->lock);
        while (!s->woken && !atomic_load(&s->stop))
                if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) != 0)
                        break;
        s->woken = false;
        pthread_mutex_unlock(&s->lock);
}

static void *sender_thread(void *userdata)
{
        WebhookSender *s = userdata;
        _cleanup_(db_closep) Db *db = NULL;
        CURL *curl = NULL;
        int r;

        while (!atomic_load(&s->stop)) {
                _cleanup_(webhook_delivery_freep) WebhookDelivery *d = NULL;
                uint64_t due = s->o.poll_usec;

                if (!db) {
                        r = db_open(s->db_path, &db);
                        if (r < 0) {
                                log_warning_errno(r, "Webhook sender: failed to open the database: %m");
                                wait_for_work(s, s->o.poll_usec);
                                continue;
                        }
                }
                if (!curl) {
                        curl = curl_easy_init();
                        if (!curl) {
                                log_oom();
                                wait_for_work(s, s->o.poll_usec);
                                continue;
                        }
                }

                /* A read first: the write lock is taken only when a delivery is due. */
                r = webhook_delivery_next_due(db, now_usec(), &due);
                if (r >= 0 && due == 0) {
                        r = webhook_delivery_next(db, now_usec(), &d);
                        if (r >= 0) {
                                deliver(s, db, curl, d);
                                continue;
                        }
                }
                if (r < 0 && r != -EAGAIN && r != -ENODATA)
                        log_warning_errno(r, "Webhook sender: failed to read the delivery queue: %m");
                if (r < 0 || due == 0 || due > s->o.poll_usec)
                        due = s->o.poll_usec;
                wait_for_work(s, due);
        }
        if (curl)
                curl_easy_cleanup(curl);
        return NULL;
}

int webhook_sender_new(WebhookSender **ret, const WebhookSenderOptions *o)
{
        _cleanup_(webhook_sender_freep) WebhookSender *s = NULL;
        pthread_condattr_t attr;

        assert(ret);
        assert(o && o->db_path);

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->o = *o;
        s->db_path = strdup(o->db_path);
        if (!s->db_path)
                return -ENOMEM;
        s->o.db_path = s->db_path;
        pthread_mutex_init(&s->lock, NULL);
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&s->cond, &attr);
        pthread_condattr_destroy(&attr);
        *ret = TAKE_PTR(s);
        return 0;
}

static void sender_wake(void *userdata)
{
        webhook_sender_wake(userdata);
}

int webhook_sender_start(WebhookSender *s)
{
        int r;

        assert(s);
        {
                _cleanup_(db_closep) Db *db = NULL;
                r = db_open(s->db_path, &db);
                if (r < 0)
                        return r;
                r = webhook_delivery_release_stale(db);
                if (r > 0)
                        log_notice("Resuming %d webhook delivery(ies) interrupted by the previous run.", r);
        }
        r = -pthread_create(&s->thread, NULL, sender_thread, s);
        if (r < 0)
                return r;
        s->started = true;
        webhook_set_waker(sender_wake, s);
        return 0;
}

void webhook_sender_wake(WebhookSender *s)
{
        assert(s);
        pthread_mutex_lock(&s->lock);
        s->woken = true;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

void webhook_sender_stop(WebhookSender *s)
{
        if (!s || !s->started)
                return;
        webhook_set_waker(NULL, NULL);
        atomic_store(&s->stop, true);
        webhook_sender_wake(s);
        pthread_join(s->thread, NULL);
        s->started = false;
}

WebhookSender *webhook_sender_free(WebhookSender *s)
{
        if (!s)
                return NULL;
        webhook_sender_stop(s);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s->db_path);
        free(s);
        return NULL;
}
