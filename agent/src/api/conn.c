/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Connections before their requests reach dispatch: how many one client address and everybody
 * together may hold, and how long a request may take to arrive. libmicrohttpd's timeout restarts
 * with every byte, so a client sending a byte a second would hold a connection (and the memory
 * behind it) for as long as it likes. Here a watchdog thread gives each request a deadline from
 * its first byte that no trickle moves, and ends the connections that miss it; a connection over
 * a limit is let in only to be told so.
 */

#include <arpa/inet.h>
#include <inttypes.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#include "api/api-internal.h"
#include "basic/log.h"
#include "basic/util.h"

/* How often the watchdog looks: deadlines hold to within this. */
#define WATCHDOG_TICK_USEC (250 * USEC_PER_MSEC)
/* A connection over a limit gets this long to send the request its refusal answers. */
#define REFUSED_DEADLINE_USEC (1 * USEC_PER_SEC)
/* Cut and refused connections are logged as counts, at most this often: a flood must not become a flood of lines. */
#define LOG_INTERVAL_USEC (10 * USEC_PER_SEC)

struct ApiConn {
        ApiConn *prev, *next;
        struct MHD_Connection *connection;
        struct sockaddr_storage peer; /* as libmicrohttpd gives it; family 0 when unknown */
        int fd;
        uint8_t addr[16]; /* IPv4 as v4-mapped IPv6, so a peer counts once whichever family it uses */
        uint64_t deadline;   /* monotonic; 0 while idle between requests (listen.idle_timeout applies) */
        uint64_t bytes_base; /* bytes received when the previous request ended */
        bool serving;        /* the request has arrived: the response is ours to send, no deadline */
        bool cut;
        int refuse; /* 0, or the status its request gets: 429 (its address is over), 503 (all are) */
};

/*
 * The connection of the request this thread is running (api_conn_enter() to api_conn_leave()).
 * A pool thread serves many connections, and ulfius does not hand the connection to the
 * request callback; the URI log callback sees it, but another connection's request line may be
 * parsed on the same thread before this request's headers are complete, so that is only a hint.
 */
static _Thread_local ApiConn *current_conn;
static _Thread_local struct MHD_Connection *hint_connection;

static void address_key(const struct sockaddr *sa, uint8_t key[static 16])
{
        memset(key, 0, 16);
        if (!sa)
                return;
        if (sa->sa_family == AF_INET) {
                key[10] = key[11] = 0xff;
                memcpy(key + 12, &((const struct sockaddr_in *) sa)->sin_addr, 4);
        } else if (sa->sa_family == AF_INET6)
                memcpy(key, &((const struct sockaddr_in6 *) sa)->sin6_addr, 16);
}

/*
 * What the kernel has received on the socket, whether or not libmicrohttpd has read it yet: the
 * one way to tell from outside that a new request began on a kept-alive connection.
 */
static int bytes_received(int fd, uint64_t *ret)
{
        struct tcp_info ti = {};
        socklen_t len = sizeof ti;

        if (fd < 0)
                return -EBADF;
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
                return -errno;
        if (len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
                return -EOPNOTSUPP;
        *ret = ti.tcpi_bytes_received;
        return 0;
}

void api_conn_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
        ApiServer *s = cls;
        ApiConn *c;

        if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
                c = *socket_context;
                if (!c)
                        return;
                /* Called before libmicrohttpd closes the fd: once unlinked, the watchdog cannot touch a reused fd. */
                pthread_mutex_lock(&s->conns_lock);
                if (c->prev)
                        c->prev->next = c->next;
                else
                        s->conns = c->next;
                if (c->next)
                        c->next->prev = c->prev;
                s->n_conns--;
                pthread_mutex_unlock(&s->conns_lock);
                free(c);
                *socket_context = NULL;
                return;
        }

        const union MHD_ConnectionInfo *fdi = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ai = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        unsigned same = 0;

        c = calloc(1, sizeof *c);
        if (!c)
                return; /* untracked: libmicrohttpd's own limits and idle timeout still hold */
        c->connection = connection;
        c->fd = fdi ? fdi->connect_fd : -EBADF;
        address_key(ai ? ai->client_addr : NULL, c->addr);
        if (ai && ai->client_addr && ai->client_addr->sa_family == AF_INET)
                memcpy(&c->peer, ai->client_addr, sizeof(struct sockaddr_in));
        else if (ai && ai->client_addr && ai->client_addr->sa_family == AF_INET6)
                memcpy(&c->peer, ai->client_addr, sizeof(struct sockaddr_in6));

        pthread_mutex_lock(&s->conns_lock);
        for (ApiConn *o = s->conns; o; o = o->next)
                same += memcmp(o->addr, c->addr, sizeof c->addr) == 0;
        c->refuse = same >= s->connections_per_address ? 429 : s->n_conns >= s->max_connections ? 503 : 0;
        /* A new connection owes its first request at once; only a kept-alive one may idle. */
        c->deadline = mono_usec() + (c->refuse ? REFUSED_DEADLINE_USEC : s->request_timeout_usec);
        if (c->refuse)
                s->conns_refused++;
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        pthread_mutex_unlock(&s->conns_lock);
        *socket_context = c;
}

void api_conn_request_started(struct MHD_Connection *connection)
{
        hint_connection = connection;
}

void api_conn_enter(ApiServer *s, const struct _u_request *req)
{
        const struct sockaddr *sa = req->client_address;
        ApiConn *found = NULL;
        unsigned matches = 0;

        current_conn = NULL;
        if (!sa)
                return;
        /*
         * ulfius copies the first sizeof(struct sockaddr) bytes of the peer's address: for IPv4 the
         * whole address and port, which only one open connection has; for IPv6 the port and the
         * first half of the address, which two peers of one network could share. Then the URI
         * log's hint decides, and without it the request goes untracked (as before a connection's
         * record could be allocated): libmicrohttpd's own limits still hold.
         */
        pthread_mutex_lock(&s->conns_lock);
        for (ApiConn *o = s->conns; o; o = o->next) {
                if (memcmp(&o->peer, sa, sizeof(struct sockaddr)) != 0)
                        continue;
                if (matches++ == 0 || o->connection == hint_connection)
                        found = o;
        }
        if (matches > 1 && found && found->connection != hint_connection)
                found = NULL;
        pthread_mutex_unlock(&s->conns_lock);
        current_conn = found;
}

void api_conn_leave(void)
{
        current_conn = NULL;
}

struct MHD_Connection *api_conn_current(void)
{
        return current_conn ? current_conn->connection : NULL;
}

bool api_conn_peer(struct sockaddr_storage *ret)
{
        /* The peer never changes while the connection lives, and its request is running here. */
        if (!current_conn || current_conn->peer.ss_family == 0)
                return false;
        *ret = current_conn->peer;
        return true;
}

int api_conn_admit(ApiServer *s, unsigned *ret_open)
{
        ApiConn *c = current_conn;
        unsigned same = 0;
        int refuse;

        if (!c)
                return 0;
        pthread_mutex_lock(&s->conns_lock);
        c->serving = true;
        refuse = c->refuse;
        if (refuse == 429)
                for (ApiConn *o = s->conns; o; o = o->next)
                        same += memcmp(o->addr, c->addr, sizeof c->addr) == 0;
        else if (refuse == 503)
                same = s->n_conns;
        pthread_mutex_unlock(&s->conns_lock);
        if (ret_open)
                *ret_open = same;
        return refuse;
}

void api_request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
        ApiServer *s = cls;
        const union MHD_ConnectionInfo *i;
        ApiConn *c;
        uint64_t bytes = 0;
        int r;

        mhd_request_completed(NULL, connection, con_cls, toe);

        i = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        c = i ? i->socket_context : NULL;
        if (!c)
                return;
        r = bytes_received(c->fd, &bytes);
        pthread_mutex_lock(&s->conns_lock);
        c->serving = false;
        if (r >= 0) {
                /* Idle until the next request's first byte; the watchdog starts its deadline then. */
                c->bytes_base = bytes;
                c->deadline = 0;
        } else
                /* Cannot see bytes arrive: the next request's time runs from the end of this one. */
                c->deadline = mono_usec() + s->request_timeout_usec;
        pthread_mutex_unlock(&s->conns_lock);
}

/* Called with conns_lock held, which keeps c->fd libmicrohttpd's open socket. */
static void conn_cut(ApiServer *s, ApiConn *c, bool started)
{
        /*
         * A client that sent part of a request waits for an answer: it gets a 408 saying why. One
         * that sent nothing may be about to reuse the connection, and must not take a 408 for the
         * answer to its next request: it just sees the connection close, and retries.
         */
        if (started)
                (void) send(c->fd, s->timeout_reply, strlen(s->timeout_reply), MSG_DONTWAIT | MSG_NOSIGNAL);
        /* Its pool thread sees the end of input and closes the connection itself. */
        (void) shutdown(c->fd, SHUT_RDWR);
        c->cut = true;
}

static void *watchdog_main(void *p)
{
        ApiServer *s = p;
        uint64_t logged_at = 0;
        unsigned cut = 0;

        pthread_mutex_lock(&s->conns_lock);
        while (!s->watchdog_stop) {
                struct timespec ts;
                uint64_t now, until;

                until = mono_usec() + WATCHDOG_TICK_USEC;
                ts = (struct timespec){ .tv_sec = (time_t) (until / USEC_PER_SEC),
                                        .tv_nsec = (long) (until % USEC_PER_SEC * NSEC_PER_USEC) };
                (void) pthread_cond_timedwait(&s->watchdog_cond, &s->conns_lock, &ts);
                if (s->watchdog_stop)
                        break;

                now = mono_usec();
                for (ApiConn *c = s->conns; c; c = c->next) {
                        uint64_t bytes = 0;
                        bool known;

                        if (c->serving || c->cut)
                                continue;
                        known = bytes_received(c->fd, &bytes) >= 0;
                        if (c->deadline == 0) {
                                if (known && bytes > c->bytes_base)
                                        c->deadline = now + s->request_timeout_usec;
                                continue;
                        }
                        if (now < c->deadline)
                                continue;
                        conn_cut(s, c, !known || bytes > c->bytes_base);
                        cut++;
                }

                if ((cut > 0 || s->conns_refused > 0) && now - logged_at >= LOG_INTERVAL_USEC) {
                        unsigned refused = s->conns_refused, n = cut;

                        s->conns_refused = 0;
                        cut = 0;
                        logged_at = now;
                        pthread_mutex_unlock(&s->conns_lock);
                        log_warning("HTTP: closed %u connection(s) whose request did not arrive within %" PRIu64
                                    " s (listen.request_timeout); refused %u over listen.connections_per_address "
                                    "or listen.max_connections.",
                                    n, s->request_timeout_usec / USEC_PER_SEC, refused);
                        pthread_mutex_lock(&s->conns_lock);
                }
        }
        pthread_mutex_unlock(&s->conns_lock);
        return NULL;
}

int api_conn_watchdog_start(ApiServer *s)
{
        int r;

        assert(s);
        r = pthread_create(&s->watchdog, NULL, watchdog_main, s);
        if (r != 0)
                return -r;
        s->watchdog_started = true;
        return 0;
}

void api_conn_watchdog_stop(ApiServer *s)
{
        assert(s);
        if (!s->watchdog_started)
                return;
        pthread_mutex_lock(&s->conns_lock);
        s->watchdog_stop = true;
        pthread_cond_signal(&s->watchdog_cond);
        pthread_mutex_unlock(&s->conns_lock);
        (void) pthread_join(s->watchdog, NULL);
        s->watchdog_started = false;
}

int api_conn_init(ApiServer *s, const Config *config)
{
        pthread_condattr_t attr;
        _cleanup_free_ char *body = NULL;
        int r;

        assert(s);
        assert(config);
        s->max_connections = (unsigned) config->http_threads_max;
        s->connections_per_address = (unsigned) MIN(config->connections_per_address, config->http_threads_max);
        s->request_timeout_usec = config->request_timeout_sec * USEC_PER_SEC;
        s->idle_timeout_sec = (unsigned) config->idle_timeout_sec;

        pthread_mutex_init(&s->conns_lock, NULL);
        /* The watchdog's deadlines are monotonic; its wait must be too. */
        if (pthread_condattr_init(&attr) != 0)
                return -ENOMEM;
        (void) pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        r = pthread_cond_init(&s->watchdog_cond, &attr);
        pthread_condattr_destroy(&attr);
        if (r != 0)
                return -r;
        s->conns_initialized = true;

        if (asprintf(&body,
                     "{\"error\":{\"code\":\"request_timeout\",\"message\":\"The request did not arrive within %" PRIu64
                     " seconds (listen.request_timeout).\"}}",
                     config->request_timeout_sec) < 0)
                return -ENOMEM;
        if (asprintf(&s->timeout_reply,
                     "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\nX-Content-Type-Options: nosniff\r\n\r\n%s",
                     strlen(body), body) < 0) {
                s->timeout_reply = NULL;
                return -ENOMEM;
        }
        return 0;
}

void api_conn_done(ApiServer *s)
{
        if (!s || !s->conns_initialized)
                return;
        api_conn_watchdog_stop(s);
        /* libmicrohttpd has stopped: every connection it told us of, it has told us it closed. */
        assert(!s->conns);
        pthread_cond_destroy(&s->watchdog_cond);
        pthread_mutex_destroy(&s->conns_lock);
        free(s->timeout_reply);
        s->conns_initialized = false;
}
