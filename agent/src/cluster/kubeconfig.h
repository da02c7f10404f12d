/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * kubeconfig: reads the one context the agent talks through (server, CA,
 * client certificate and key, bearer token) from a kubeconfig file with
 * libyaml. No network, no curl: kube.c turns a KubeConfig into a client.
 *
 * What is understood, as kubectl reads it:
 *   clusters[].cluster: server, certificate-authority-data (base64 PEM) or
 *     certificate-authority (file), insecure-skip-tls-verify
 *   users[].user: client-certificate-data / client-key-data (base64 PEM) or
 *     client-certificate / client-key (files), token or tokenFile
 *   contexts[].context: cluster, user, namespace; current-context
 * Embedded data wins over a file path when both are given. Relative file paths
 * are resolved against the kubeconfig's own directory. exec and auth-provider
 * credential plugins are not supported (a ServiceAccount token or client
 * certificate is what the agent is meant to run with).
 */

#include <stdbool.h>

#include "basic/macro.h"

/* The k3s default, also the daemon's default "kubeconfig" setting. */
#define KUBECONFIG_K3S_DEFAULT "/etc/rancher/k3s/k3s.yaml"

typedef struct KubeConfig {
        char *server;     /* "https://127.0.0.1:6443", no trailing slash */
        char *ca_pem;     /* decoded certificate-authority-data, or NULL */
        char *ca_file;    /* absolute path, or NULL */
        char *cert_pem;   /* decoded client-certificate-data, or NULL */
        char *cert_file;  /* absolute path, or NULL */
        char *key_pem;    /* decoded client-key-data, or NULL (wiped on free) */
        char *key_file;   /* absolute path, or NULL */
        char *token;      /* bearer token (from token or tokenFile), or NULL (wiped on free) */
        char *token_file; /* absolute path of tokenFile, or NULL; kube.c re-reads it per client */
        bool insecure_skip_tls_verify;
        char *context_name; /* the context that was used */
        char *cluster_name;
        char *user_name;
        char *namespace; /* the context's namespace, or NULL */
} KubeConfig;

/*
 * Loads the context named by `context` (NULL: the file's current-context) from
 * the kubeconfig at `path`.
 *
 * Returns 0 and a new KubeConfig in *ret, or:
 *   -ENOENT (or another file errno) when the kubeconfig or a file it names cannot be read,
 *   -EINVAL when the content is wrong (not YAML, no current-context, unknown
 *           context/cluster/user, bad base64, certificate without key, no server),
 *   -EOPNOTSUPP when the user authenticates only through exec/auth-provider plugins.
 * On failure *ret_error (if not NULL) gets a sentence naming the problem, for the
 * caller to log once, e.g. "kubeconfig /etc/k.yaml: context 'prod' not found".
 * *ret is written only on success, *ret_error only on failure.
 */
int kubeconfig_load_full(const char *path, const char *context, KubeConfig **ret, char **ret_error);

/* kubeconfig_load_full() with the current context and no error text. */
int kubeconfig_load(const char *path, KubeConfig **ret);

KubeConfig *kubeconfig_free(KubeConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(KubeConfig *, kubeconfig_free);
