/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * kube: talks to the Kubernetes API server over libcurl.
 *
 * One KubeClient per thread: it owns a CURL easy handle, so connections are
 * reused between calls, and it remembers the last failure in words
 * (kube_client_last_error()) for the caller to log or show once.
 *
 * TLS is always verified against the kubeconfig's CA (and only that CA) unless
 * the kubeconfig says insecure-skip-tls-verify. PEM data from the kubeconfig is
 * handed to curl as /proc/self/fd/N of a memfd: the GnuTLS build of libcurl 7.88
 * refuses CURLOPT_CAINFO_BLOB and silently ignores CURLOPT_SSLCERT_BLOB and
 * CURLOPT_SSLKEY_BLOB (no client certificate is sent), so blobs are not used.
 *
 * Errors are negative errno values:
 *   HTTP 400, 422 -> -EINVAL        401 -> -EACCES       403 -> -EPERM
 *   404 -> -ENOENT                  409 -> -EEXIST (AlreadyExists) or -EBUSY (Conflict)
 *   410 -> -ESTALE (resourceVersion too old)             413 -> -EFBIG
 *   405, 415 -> -EOPNOTSUPP         429, 5xx after retries -> -EAGAIN
 *   other HTTP -> -EIO              unparsable body -> -EBADMSG
 *   connect refused -> -ECONNREFUSED, DNS failure or no route -> -EHOSTUNREACH,
 *   timeout -> -ETIMEDOUT, connection lost -> -ECONNRESET,
 *   TLS failure (including certificate verification) -> -EPROTO,
 *   cancelled through kube_client_set_cancel() -> -ECANCELED.
 */

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "basic/macro.h"
#include "cluster/kubeconfig.h"

typedef struct KubeClient KubeClient;

#define KUBE_FIELD_MANAGER "storeagent"

/*
 * A client for the cluster cfg describes. timeout_sec bounds every call
 * (kube_request() including its retries); 0 picks 30 seconds. cfg is copied
 * from, not kept. A tokenFile is re-read here, so a new client picks up a
 * rotated token.
 */
int kube_client_new(KubeClient **ret, const KubeConfig *cfg, unsigned timeout_sec);
KubeClient *kube_client_free(KubeClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(KubeClient *, kube_client_free);

/*
 * While *flag is true every call on this client fails with -ECANCELED as soon as
 * curl next reports progress (at least once a second, also in a quiet watch)
 * or the retry backoff next wakes. NULL clears it. The flag must outlive the client.
 */
void kube_client_set_cancel(KubeClient *c, const atomic_bool *flag);
/*
 * fence (may be NULL) is asked before every request that is not a GET; a negative errno
 * refuses the request and is returned as is. A task's worker checks there that it still
 * holds the task's lease, so a worker that lost it changes nothing in the cluster.
 */
void kube_client_set_fence(KubeClient *c, int (*fence)(void *userdata), void *userdata);

/*
 * The last failure in words, e.g. "HTTP 403 Forbidden: namespaces is forbidden:
 * User \"system:serviceaccount:...\" cannot create ...", with the API server's
 * Status.message, or curl's text for connection failures. "" after a success.
 * Valid until the next call on the client.
 */
const char *kube_client_last_error(KubeClient *c);
/* What kube_client_last_error() says after an HTTP 401: the credentials are no longer good. */
#define KUBE_UNAUTHORIZED_MESSAGE                                                                            \
        "The cluster refused the agent's credentials (HTTP 401): its token expired or was revoked; renew it " \
        "with contrib/rbac/install --rotate"
/* HTTP status of the last response (0 when none arrived). */
long kube_client_last_status(KubeClient *c);
/* Status.reason of the last failed response ("AlreadyExists", "Conflict", "Invalid", ...) or NULL. */
const char *kube_client_last_reason(KubeClient *c);

/*
 * One API call: method on server+path (path may carry a query string), with an
 * optional body. Retries with exponential backoff (up to 4 attempts, 200 ms
 * doubling to at most 2 s, never past the client's timeout) on connection
 * errors, 429 (honouring Retry-After up to 5 s) and 5xx. A POST is retried only
 * when the server surely did not act on it (no connection, 429, 503), so a
 * create is never sent twice; PATCH (apply), PUT, GET and DELETE are idempotent.
 * On success *ret (if not NULL) gets the parsed JSON body (NULL for an empty body).
 */
int kube_request(KubeClient *c, const char *method, const char *path, const char *content_type,
                 const char *body, json_t **ret);

/*
 * "/api/v1/namespaces/ns/configmaps/name", "/apis/apps/v1/deployments", ...
 * namespace NULL: cluster-scoped or all namespaces; name NULL: the collection.
 * -EINVAL for empty parts or names containing '/'.
 */
int kube_path(char **ret, const char *api_version, const char *resource, const char *namespace,
              const char *name);

/*
 * The path of a manifest, from its apiVersion, kind, metadata.name and
 * metadata.namespace. Known kinds map to their plural resource and scope; other
 * kinds fall back to the lowercase plural, namespaced when metadata.namespace is set.
 * -EINVAL when a field is missing or a namespaced kind has no namespace.
 */
int kube_object_path(json_t *object, char **ret);

/*
 * Server-side apply: PATCH <object path>?fieldManager=storeagent&force=true with
 * application/apply-patch+yaml (JSON is YAML). Creates or updates; applying the
 * same object twice is a no-op. *ret (if not NULL) gets the object as stored.
 */
int kube_apply(KubeClient *c, json_t *object, json_t **ret);

int kube_get(KubeClient *c, const char *path, json_t **ret);

/* GET of a collection, optionally filtered by a label selector ("a=b,c"). */
int kube_list(KubeClient *c, const char *path, const char *label_selector, json_t **ret);

/*
 * DELETE with propagationPolicy (Background, Foreground, Orphan or NULL for the
 * server's default). Returns 0 when the object is gone or being deleted, also
 * when it was already gone (404).
 */
int kube_delete(KubeClient *c, const char *path, const char *propagation);

/*
 * Called for every watch event; type is ADDED, MODIFIED, DELETED or BOOKMARK and
 * object the event's object (borrowed). Return 0 to go on, >0 to stop the watch
 * (kube_watch() returns that value), <0 to abort it with that error.
 */
typedef int (*KubeWatchFunc)(const char *type, json_t *object, void *userdata);

/*
 * Watches a collection path (e.g. kube_path(..., "v1", "configmaps", ns, NULL)).
 * resource_version NULL starts with synthetic ADDED events for what exists; pass
 * the list's metadata.resourceVersion to see only what changes after a list.
 * The server ends the watch after timeout_sec (0 picks 300).
 * Returns 0 when the server closed the watch, the callback's >0 value when it
 * stopped it, -ESTALE when the resourceVersion is too old (410 Gone, as a status
 * or as an ERROR event: list again), or another error as for kube_request().
 * A watch makes one attempt; reconnecting (with the last resourceVersion seen)
 * is the caller's loop, since only the caller knows where it is.
 */
int kube_watch(KubeClient *c, const char *path, const char *label_selector, const char *resource_version,
               unsigned timeout_sec, KubeWatchFunc f, void *userdata);

/*
 * Called with each piece of a container's log as it arrives (not split at lines). Return 0 to go on,
 * >0 to stop reading (kube_pod_log() returns that value), <0 to abort with that error.
 */
typedef int (*KubeLogFunc)(const char *data, size_t n, void *userdata);

typedef struct KubeLogOptions {
        const char *container; /* NULL: the pod's only container */
        uint64_t tail_lines;   /* 0: the whole log */
        uint64_t limit_bytes;  /* 0: no limit */
        bool follow;           /* keep reading as the container writes, until cancelled */
        bool timestamps;
} KubeLogOptions;

/*
 * Reads a container's log (GET .../pods/NAME/log). Without follow it ends with the log (bounded
 * by the client's timeout); with follow it ends when the container stops, the callback stops it,
 * or the client's cancel flag is raised (-ECANCELED). Errors as for kube_request(); no retries.
 */
int kube_pod_log(KubeClient *c, const char *namespace, const char *pod, const KubeLogOptions *opts,
                 KubeLogFunc f, void *userdata);

/* GET /version; *ret_git_version gets e.g. "v1.33.13". */
int kube_server_version(KubeClient *c, char **ret_git_version);
