/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Failures of the API server and of the connection to it, turned into the
 * errno values kube.h promises and into the words kube_client_last_error() shows.
 */

#include <ctype.h>

#include "basic/util.h"
#include "cluster/kube-internal.h"

const char *kube_http_reason_phrase(long status)
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

bool kube_http_retryable(long status)
{
        return status == 429 || (status >= 500 && status <= 599);
}

int kube_http_status_to_errno(long status, const char *reason)
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
                if (kube_http_retryable(status))
                        return -EAGAIN;
                return -EIO;
        }
}

/*
 * Records "HTTP 403 Forbidden: <Status.message>" from a failed response. An
 * error body that is not a Status (a proxy's HTML, say) is quoted, shortened.
 */
void kube_set_http_error(KubeClient *c, long status, const char *body, size_t size)
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

        /* The API server says only "Unauthorized"; what the operator needs is what to do about it. */
        if (status == 401)
                kube_set_error(c, "%s", KUBE_UNAUTHORIZED_MESSAGE);
        else if (message)
                kube_set_error(c, "HTTP %ld %s: %s", status, kube_http_reason_phrase(status), message);
        else if (size > 0) {
                char text[201];
                size_t n = MIN(size, sizeof(text) - 1);

                for (size_t i = 0; i < n; i++)
                        text[i] = isprint((unsigned char) body[i]) ? body[i] : ' ';
                text[n] = '\0';
                kube_set_error(c, "HTTP %ld %s: %s%s", status, kube_http_reason_phrase(status), text,
                          size > n ? "..." : "");
        } else
                kube_set_error(c, "HTTP %ld %s", status, kube_http_reason_phrase(status));
}

int kube_curl_code_to_errno(KubeClient *c, CURLcode code)
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
bool kube_curl_retryable(CURLcode code)
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

void kube_set_curl_error(KubeClient *c, CURLcode code, const char *method, const char *url)
{
        char *p;

        if (code == CURLE_ABORTED_BY_CALLBACK) {
                kube_set_error(c, "%s %s: cancelled", method, url);
                return;
        }
        /* GnuTLS names the CA file, which for kubeconfig data is our memfd: no help to anyone. */
        p = strstr(c->errbuf, " CAfile: /proc/self/fd/");
        if (p)
                *p = '\0';
        for (size_t n = strlen(c->errbuf); n > 0 && strchr(". \n", c->errbuf[n - 1]); n--)
                c->errbuf[n - 1] = '\0';
        if (code == CURLE_PEER_FAILED_VERIFICATION)
                kube_set_error(c,
                          "%s %s: %s (the API server's certificate is not signed by the kubeconfig's "
                          "certificate authority, or does not name this host)",
                          method, url, c->errbuf[0] ? c->errbuf : curl_easy_strerror(code));
        else
                kube_set_error(c, "%s %s: %s", method, url, c->errbuf[0] ? c->errbuf : curl_easy_strerror(code));
}
