/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The kubeconfig parser (cluster/kubeconfig.c): YAML of any shape, contexts, clusters and users
 * that name each other or not, base64 PEM data. The input is written to a file, since the
 * parser resolves relative file names against the kubeconfig's own directory.
 */

#include "cluster/kubeconfig.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        fuzz_log_setup();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(kubeconfig_freep) KubeConfig *kc = NULL;
        _cleanup_free_ char *error = NULL;
        const char *path = fuzz_write_file("kubeconfig", data, size);
        int r;

        r = kubeconfig_load_full(path, NULL, &kc, &error);
        if (r < 0) {
                FUZZ_ASSERT(!kc);
                return 0;
        }
        /* What kube-client.c relies on when it builds a client from it. */
        FUZZ_ASSERT(kc->server);
        FUZZ_ASSERT(strncmp(kc->server, "https://", 8) == 0 || strncmp(kc->server, "http://", 7) == 0);
        FUZZ_ASSERT(!kc->ca_pem || !kc->ca_file);
        FUZZ_ASSERT(!!(kc->cert_pem || kc->cert_file) == !!(kc->key_pem || kc->key_file));
        FUZZ_ASSERT(kc->context_name && kc->cluster_name);
        return 0;
}
