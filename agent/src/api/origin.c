/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Where a request comes from and what it was sent to: the host name it names (refused unless
 * the daemon serves it, against DNS rebinding), the peer's full address, and whether the
 * browser reached us over HTTPS through a trusted reverse proxy (for the Secure cookie).
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>

#include "api/api-internal.h"
#include "basic/names.h"
#include "basic/util.h"

/*
 * ulfius keeps only sizeof(struct sockaddr) of the peer's address: half of an IPv6 address,
 * which cannot tell ::1 from a v4-mapped peer on a dual-stack socket. The full address is kept
 * with the connection (conn.c); the URI log callback, which MHD hands the connection, tells
 * conn.c which connection's request line this thread parsed last.
 */
void *api_uri_logger(void *cls, const char *uri, struct MHD_Connection *connection)
{
        api_conn_request_started(connection);
        return ulfius_uri_logger(cls, uri);
}

void api_peer_address(char *buf, size_t n)
{
        struct sockaddr_storage request_peer;
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *) &request_peer;
        const struct sockaddr_in *a4 = (const struct sockaddr_in *) &request_peer;

        assert(buf);
        assert(n >= INET6_ADDRSTRLEN);
        snprintf(buf, n, "unknown");
        if (!api_conn_peer(&request_peer))
                return;
        if (request_peer.ss_family == AF_INET)
                (void) inet_ntop(AF_INET, &a4->sin_addr, buf, (socklen_t) n);
        else if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
                /* An IPv4 peer on a dual-stack socket is named as IPv4, as the trusted list names it. */
                (void) inet_ntop(AF_INET, (const uint8_t *) &a6->sin6_addr + 12, buf, (socklen_t) n);
        else
                (void) inet_ntop(AF_INET6, &a6->sin6_addr, buf, (socklen_t) n);
}

/* Whether word (an address as the configuration spells it) is in the space-separated list. */
static bool address_listed(const char *list, const char *addr)
{
        unsigned char want[sizeof(struct in6_addr)], have[sizeof(struct in6_addr)];
        int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

        if (inet_pton(family, addr, want) != 1)
                return false;
        for (const char *p = list; p && *p;) {
                size_t len = strcspn(p, " ");
                char word[INET6_ADDRSTRLEN + 1];

                if (len > 0 && len < sizeof word) {
                        memcpy(word, p, len);
                        word[len] = '\0';
                        /* Compared as addresses, so "::1" and "0:0::1" are the same peer. */
                        if (inet_pton(family, word, have) == 1 &&
                            memcmp(want, have, family == AF_INET ? 4 : 16) == 0)
                                return true;
                }
                p += len;
                p += strspn(p, " ");
        }
        return false;
}

bool api_request_is_https(const struct _u_request *req, const ApiLimits *lim)
{
        char peer[INET6_ADDRSTRLEN + 1];
        const char *proto;

        assert(req);
        assert(lim);
        if (streq_ptr(lim->secure_cookies, "always"))
                return true;
        if (streq_ptr(lim->secure_cookies, "never"))
                return false;
        proto = u_map_get_case(req->map_header, "X-Forwarded-Proto");
        if (!proto || strcasecmp(proto, "https") != 0)
                return false;
        /* Anyone can send the header; only a proxy we were told to trust is believed. */
        api_peer_address(peer, sizeof peer);
        return address_listed(lim->trusted_proxies, peer);
}

/* Whether name (a Host header without its port) is an IPv4 address or a bracketed IPv6 address. */
static bool host_is_address(const char *name, size_t len)
{
        char buf[INET6_ADDRSTRLEN + 3];
        unsigned char a[sizeof(struct in6_addr)];

        if (len == 0 || len >= sizeof buf)
                return false;
        if (name[0] == '[') {
                if (len < 3 || name[len - 1] != ']')
                        return false;
                memcpy(buf, name + 1, len - 2);
                buf[len - 2] = '\0';
                return inet_pton(AF_INET6, buf, a) == 1;
        }
        memcpy(buf, name, len);
        buf[len] = '\0';
        return inet_pton(AF_INET, buf, a) == 1;
}

/*
 * A page on another site can make a browser talk to us by pointing its own name at 127.0.0.1
 * (DNS rebinding); the browser then sends that name as Host. An address in Host cannot be
 * rebound (the page's origin would be the address itself, i.e. us), so every address is fine,
 * whichever the socket unit listens on; names must be localhost or configured.
 */
bool api_host_allowed(const char *host, const ApiLimits *lim)
{
        size_t len;

        assert(lim);
        /* HTTP/1.0 without Host: not a browser (MHD refuses HTTP/1.1 without one). */
        if (!host)
                return true;
        len = strlen(host);
        /* Strip ":port" (after the "]" of an IPv6 address); the port plays no part in rebinding. */
        const char *colon = strrchr(host, ':'), *bracket = host[0] == '[' ? strchr(host, ']') : NULL;
        if (colon && (host[0] != '[' || (bracket && colon > bracket))) {
                for (const char *p = colon + 1; *p; p++)
                        if (!isdigit((unsigned char) *p))
                                return false;
                len = (size_t) (colon - host);
        }
        /* A fully qualified name's trailing dot names the same host. */
        if (len > 1 && host[len - 1] == '.' && host[0] != '[')
                len--;
        if (host_is_address(host, len))
                return true;
        if (len == strlen("localhost") && strncasecmp(host, "localhost", len) == 0)
                return true;
        return host_name_listed(lim->hostnames, host, len);
}
