/* SPDX-License-Identifier: Apache-2.0 */

/*
 * kubeconfig_load_full() on kubeconfigs written to a temporary directory: what
 * a good one yields, and that each broken one fails with a sentence naming the
 * problem.
 */

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "basic/util.h"
#include "cluster/kubeconfig.h"
#include "tests.h"

/* The error text must name the problem: what the operator reads in the journal. */
#define CHECK_ERROR(r_expected, substring)                                                                  \
        do {                                                                                                \
                if (r != (r_expected) || !error || !strstr(error, (substring))) {                           \
                        fprintf(stderr, "%s:%d: got r=%d error=\"%s\", expected r=%d and \"%s\"\n",         \
                                __FILE__, __LINE__, r, strna(error), (r_expected), (substring));            \
                        failures++;                                                                         \
                }                                                                                           \
        } while (0)

static char *dir; /* test_tmpdir(): removed when every check passed */

static int intro(void)
{
        dir = test_tmpdir();
        return 0;
}

static char *mfree_str(char *p)
{
        free(p);
        return NULL;
}

static const char CA_PEM[] = "-----BEGIN CERTIFICATE-----\nTUlJQ0FURVNUQ0E=\n-----END CERTIFICATE-----\n";
static const char CERT_PEM[] = "-----BEGIN CERTIFICATE-----\nTUlJQ0xJRU5U\n-----END CERTIFICATE-----\n";
static const char KEY_PEM[] = "-----BEGIN EC PRIVATE KEY-----\nTUlJS0VZ\n-----END EC PRIVATE KEY-----\n";

static char *base64(const char *s)
{
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t n = strlen(s), o = 0;
        char *out = malloc(n / 3 * 4 + 5);
        const unsigned char *p = (const unsigned char *) s;

        if (!out)
                abort();
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) p[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t) p[i + 1] << 8;
                if (i + 2 < n)
                        v |= p[i + 2];
                out[o++] = alphabet[(v >> 18) & 63];
                out[o++] = alphabet[(v >> 12) & 63];
                out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
                out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
        }
        out[o] = '\0';
        return out;
}

/* A kubeconfig with one cluster, user and context; parts are YAML lines under each. */
static char *kubeconfig(const char *name, const char *current, const char *cluster_lines,
                        const char *user_lines)
{
        return test_write_file(dir, name, 0600,
                            "apiVersion: v1\n"
                            "kind: Config\n"
                            "%s%s%s"
                            "clusters:\n"
                            "- name: c1\n"
                            "  cluster:\n"
                            "%s"
                            "contexts:\n"
                            "- name: ctx1\n"
                            "  context:\n"
                            "    cluster: c1\n"
                            "    user: u1\n"
                            "    namespace: shop\n"
                            "- name: ctx-missing-cluster\n"
                            "  context:\n"
                            "    cluster: nope\n"
                            "    user: u1\n"
                            "users:\n"
                            "- name: u1\n"
                            "  user:\n"
                            "%s",
                            current ? "current-context: " : "", current ?: "", current ? "\n" : "",
                            cluster_lines, user_lines);
}

TEST(test_embedded_data)
{
        _cleanup_free_ char *ca = base64(CA_PEM), *cert = base64(CERT_PEM), *key = base64(KEY_PEM);
        _cleanup_free_ char *cluster = NULL, *user = NULL, *path = NULL, *error = NULL;
        _cleanup_(kubeconfig_freep) KubeConfig *c = NULL;
        int r;

        CHECK(asprintf(&cluster, "    server: https://127.0.0.1:6443/\n    certificate-authority-data: %s\n",
                       ca) > 0);
        CHECK(asprintf(&user, "    client-certificate-data: %s\n    client-key-data: %s\n", cert, key) > 0);
        path = kubeconfig("embedded.yaml", "ctx1", cluster, user);

        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK(r == 0);
        CHECK(!error);
        if (!c)
                return;
        CHECK_STREQ(c->server, "https://127.0.0.1:6443");
        CHECK_STREQ(c->ca_pem, CA_PEM);
        CHECK(!c->ca_file);
        CHECK_STREQ(c->cert_pem, CERT_PEM);
        CHECK_STREQ(c->key_pem, KEY_PEM);
        CHECK(!c->cert_file && !c->key_file && !c->token && !c->token_file);
        CHECK(!c->insecure_skip_tls_verify);
        CHECK_STREQ(c->context_name, "ctx1");
        CHECK_STREQ(c->cluster_name, "c1");
        CHECK_STREQ(c->user_name, "u1");
        CHECK_STREQ(c->namespace, "shop");

        /* The short form gives the same. */
        c = kubeconfig_free(c);
        CHECK(kubeconfig_load(path, &c) == 0);
        CHECK(c && streq_ptr(c->key_pem, KEY_PEM));
}

TEST(test_file_references)
{
        _cleanup_free_ char *ca = NULL, *cert = NULL, *key = NULL, *path = NULL, *error = NULL;
        _cleanup_free_ char *sub = test_path(dir, "pki"), *abs_cluster = NULL;
        _cleanup_(kubeconfig_freep) KubeConfig *c = NULL;
        int r;

        CHECK(mkdir(sub, 0700) == 0);
        ca = test_write_file(dir, "pki/ca.crt", 0600, "%s", CA_PEM);
        cert = test_write_file(dir, "pki/client.crt", 0600, "%s", CERT_PEM);
        key = test_write_file(dir, "client.key", 0600, "%s", KEY_PEM);

        /* Relative paths are relative to the kubeconfig's directory, not to our cwd. */
        path = kubeconfig("files.yaml", "ctx1",
                          "    server: https://10.0.0.1:6443\n    certificate-authority: pki/ca.crt\n",
                          "    client-certificate: pki/client.crt\n    client-key: ./client.key\n");
        CHECK(chdir("/") == 0);
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK(r == 0);
        if (!c)
                return;
        CHECK_STREQ(c->ca_file, ca);
        CHECK_STREQ(c->cert_file, cert);
        CHECK(c->key_file && streq(c->key_file + strlen(c->key_file) - strlen("client.key"), "client.key"));
        CHECK(c->key_file && c->key_file[0] == '/');
        CHECK(!c->ca_pem && !c->cert_pem && !c->key_pem);
        c = kubeconfig_free(c);

        /* Absolute paths stay as they are. */
        CHECK(asprintf(&abs_cluster, "    server: https://10.0.0.1:6443\n    certificate-authority: %s\n",
                       ca) > 0);
        free(path);
        path = kubeconfig("files-abs.yaml", "ctx1", abs_cluster, "    token: abc\n");
        CHECK(kubeconfig_load(path, &c) == 0);
        CHECK(c && streq_ptr(c->ca_file, ca));
}

TEST(test_tokens)
{
        _cleanup_free_ char *path = NULL, *tf = NULL, *error = NULL;
        _cleanup_(kubeconfig_freep) KubeConfig *c = NULL;
        int r;

        path = kubeconfig("token.yaml", "ctx1",
                          "    server: https://k:6443\n    insecure-skip-tls-verify: true\n",
                          "    token: s3cr3t-token\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK(r == 0);
        if (!c)
                return;
        CHECK_STREQ(c->token, "s3cr3t-token");
        CHECK(!c->token_file);
        CHECK(c->insecure_skip_tls_verify);
        CHECK(!c->cert_pem && !c->cert_file);
        c = kubeconfig_free(c);

        /* tokenFile: read, trailing newline dropped, and it wins over an inline token (as in client-go). */
        tf = test_write_file(dir, "sa.token", 0600, "from-file-token\n");
        free(path);
        path = kubeconfig("tokenfile.yaml", "ctx1", "    server: https://k:6443\n",
                          "    token: inline\n    tokenFile: sa.token\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK(r == 0);
        if (!c)
                return;
        CHECK_STREQ(c->token, "from-file-token");
        CHECK_STREQ(c->token_file, tf);
}

TEST(test_context_selection)
{
        _cleanup_free_ char *path = NULL, *error = NULL;
        _cleanup_(kubeconfig_freep) KubeConfig *c = NULL;
        int r;

        path = kubeconfig("nocurrent.yaml", NULL, "    server: https://k:6443\n", "    token: t\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "no current-context");
        CHECK(!c);
        error = mfree_str(error);

        /* An explicit context works without current-context. */
        r = kubeconfig_load_full(path, "ctx1", &c, &error);
        CHECK(r == 0 && c && streq_ptr(c->context_name, "ctx1"));
        c = kubeconfig_free(c);

        r = kubeconfig_load_full(path, "prod", &c, &error);
        CHECK_ERROR(-EINVAL, "context 'prod' not found");
        error = mfree_str(error);

        free(path);
        path = kubeconfig("badcurrent.yaml", "staging", "    server: https://k:6443\n", "    token: t\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "context 'staging' not found");
        CHECK(error && strstr(error, path)); /* names the file too */
        error = mfree_str(error);

        r = kubeconfig_load_full(path, "ctx-missing-cluster", &c, &error);
        CHECK_ERROR(-EINVAL, "cluster 'nope' (used by context 'ctx-missing-cluster') not found");
}

TEST(test_broken)
{
        _cleanup_free_ char *path = NULL, *error = NULL, *missing = test_path(dir, "does-not-exist.yaml");
        _cleanup_(kubeconfig_freep) KubeConfig *c = NULL;
        int r;

        r = kubeconfig_load_full(missing, NULL, &c, &error);
        CHECK_ERROR(-ENOENT, "does-not-exist.yaml: cannot read: No such file or directory");
        error = mfree_str(error);

        path = kubeconfig("badb64.yaml", "ctx1", "    server: https://k:6443\n",
                          "    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
                          "    client-key-data: not*base64!\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "user 'u1': client-key-data is not valid base64");
        error = mfree_str(error);

        free(path);
        path = kubeconfig("notpem.yaml", "ctx1",
                          "    server: https://k:6443\n    certificate-authority-data: aGVsbG8=\n",
                          "    token: t\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "cluster 'c1': certificate-authority-data does not contain PEM data");
        error = mfree_str(error);

        free(path);
        path = kubeconfig("missingfile.yaml", "ctx1",
                          "    server: https://k:6443\n    certificate-authority: gone/ca.crt\n",
                          "    token: t\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-ENOENT, "gone/ca.crt: No such file or directory");
        CHECK(error && strstr(error, "certificate-authority"));
        error = mfree_str(error);

        free(path);
        path = kubeconfig("missingtoken.yaml", "ctx1", "    server: https://k:6443\n",
                          "    tokenFile: /nonexistent/token\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-ENOENT, "cannot read tokenFile /nonexistent/token");
        error = mfree_str(error);

        free(path);
        path = kubeconfig("nokey.yaml", "ctx1", "    server: https://k:6443\n",
                          "    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "user 'u1' has a client certificate but no client key");
        error = mfree_str(error);

        free(path);
        path = kubeconfig("noserver.yaml", "ctx1", "    insecure-skip-tls-verify: true\n", "    token: t\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "cluster 'c1' has no server");
        error = mfree_str(error);

        free(path);
        path = kubeconfig("badserver.yaml", "ctx1", "    server: 127.0.0.1:6443\n", "    token: t\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "is not an http(s) URL");
        error = mfree_str(error);

        /* A scheme and nothing else: the trailing slashes the parser strips would leave "https:". */
        free(path);
        path = kubeconfig("nohost.yaml", "ctx1", "    server: https://\n", "    token: t\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "server 'https://' names no host");
        error = mfree_str(error);

        free(path);
        path = kubeconfig("porthost.yaml", "ctx1", "    server: \"http://:6443/\"\n", "    token: t\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "names no host");
        error = mfree_str(error);

        free(path);
        path = kubeconfig("spacehost.yaml", "ctx1", "    server: \"https://k 6443\"\n", "    token: t\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "names no host");
        error = mfree_str(error);

        free(path);
        path = kubeconfig(
                "exec.yaml", "ctx1", "    server: https://k:6443\n",
                "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EOPNOTSUPP, "exec/auth-provider plugin");
        error = mfree_str(error);

        free(path);
        path = test_write_file(dir, "notyaml.yaml", 0600, "clusters: [\n  - {name: x\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "not valid YAML");
        error = mfree_str(error);

        free(path);
        path = test_write_file(dir, "list.yaml", 0600, "- a\n- b\n");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "not a kubeconfig");
        error = mfree_str(error);

        free(path);
        path = test_write_file(dir, "empty.yaml", 0600, "%s", "");
        r = kubeconfig_load_full(path, NULL, &c, &error);
        CHECK_ERROR(-EINVAL, "file is empty");
        error = mfree_str(error);

        /* Without an error pointer the return code alone still says it. */
        CHECK(kubeconfig_load(missing, &c) == -ENOENT);
        CHECK(!c);
}

DEFINE_TEST_MAIN_WITH_INTRO(LOG_ERR, intro)
