/* SPDX-License-Identifier: Apache-2.0 */

#include <fcntl.h>
#include <stdarg.h>
#include <yaml.h>

#include "basic/util.h"
#include "cluster/kubeconfig.h"

#define KUBECONFIG_SIZE_MAX (4U * 1024U * 1024U)
#define TOKEN_FILE_SIZE_MAX (64U * 1024U)

static void erase_free(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

KubeConfig *kubeconfig_free(KubeConfig *c)
{
        if (!c)
                return NULL;
        free(c->server);
        free(c->ca_pem);
        free(c->ca_file);
        free(c->cert_pem);
        free(c->cert_file);
        erase_free(c->key_pem);
        free(c->key_file);
        erase_free(c->token);
        free(c->token_file);
        free(c->context_name);
        free(c->cluster_name);
        free(c->user_name);
        free(c->namespace);
        free(c);
        return NULL;
}

/* Sets *err to the formatted sentence (when err is not NULL) and returns r. */
_printf_(3, 4) static int fail(char **err, int r, const char *format, ...)
{
        va_list ap;

        if (err) {
                char *s = NULL;

                va_start(ap, format);
                if (vasprintf(&s, format, ap) < 0)
                        s = NULL;
                va_end(ap);
                *err = s;
        }
        return r;
}

static void yaml_document_deletep(yaml_document_t **d)
{
        if (*d)
                yaml_document_delete(*d);
}

static void yaml_parser_deletep(yaml_parser_t **p)
{
        if (*p)
                yaml_parser_delete(*p);
}

/* The scalar's text, or NULL for anything else and for YAML's null spellings. */
static const char *node_string(yaml_node_t *n)
{
        const char *v;

        if (!n || n->type != YAML_SCALAR_NODE)
                return NULL;
        v = (const char *) n->data.scalar.value;
        if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            (streq(v, "") || streq(v, "~") || streq(v, "null") || streq(v, "Null") || streq(v, "NULL")))
                return NULL;
        return v;
}

static yaml_node_t *mapping_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
        if (!m || m->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
                const char *k = node_string(yaml_document_get_node(d, p->key));
                if (k && streq(k, key))
                        return yaml_document_get_node(d, p->value);
        }
        return NULL;
}

static const char *mapping_get_string(yaml_document_t *d, yaml_node_t *m, const char *key)
{
        return node_string(mapping_get(d, m, key));
}

/*
 * Finds the entry of the list root[list_key] whose "name" is name and returns its
 * inner mapping (entry[item_key]), e.g. clusters[name=foo].cluster.
 */
static int find_named(yaml_document_t *d, yaml_node_t *root, const char *list_key, const char *name,
                      const char *item_key, yaml_node_t **ret)
{
        yaml_node_t *list = mapping_get(d, root, list_key);

        if (!list || list->type != YAML_SEQUENCE_NODE)
                return -ENOENT;
        for (yaml_node_item_t *i = list->data.sequence.items.start; i < list->data.sequence.items.top; i++) {
                yaml_node_t *entry = yaml_document_get_node(d, *i);
                const char *n = mapping_get_string(d, entry, "name");
                yaml_node_t *inner;

                if (!n || !streq(n, name))
                        continue;
                inner = mapping_get(d, entry, item_key);
                if (!inner || inner->type != YAML_MAPPING_NODE)
                        return -EBADMSG;
                *ret = inner;
                return 0;
        }
        return -ENOENT;
}

static int base64_value(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/* Standard base64 (whitespace ignored, padding optional) into a NUL-terminated string. */
static int base64_decode_string(const char *in, char **ret)
{
        _cleanup_free_ char *out = NULL;
        size_t n = 0, pad = 0;
        uint32_t acc = 0;
        unsigned bits = 0;

        out = malloc(strlen(in) / 4 * 3 + 4);
        if (!out)
                return -ENOMEM;
        for (const char *p = in; *p; p++) {
                int v;

                if (strchr(" \t\r\n", *p))
                        continue;
                if (*p == '=') {
                        pad++;
                        continue;
                }
                if (pad > 0) /* data after padding */
                        return -EINVAL;
                v = base64_value(*p);
                if (v < 0)
                        return -EINVAL;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (char) ((acc >> bits) & 0xff);
                }
        }
        /* 6 leftover bits cannot encode anything: a truncated string. */
        if (bits >= 6 || pad > 2)
                return -EINVAL;
        if (memchr(out, 0, n))
                return -EINVAL;
        out[n] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

/* Whether an http(s) URL has a host after its scheme, and nothing a URL cannot hold. */
static bool server_has_host(const char *url)
{
        const char *host = strstr(url, "://") + 3;

        for (const char *p = url; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f)
                        return false;
        return strcspn(host, "/?#") > 0 && host[0] != ':';
}

static int resolve_path(const char *dir, const char *p, char **ret)
{
        char *s = p[0] == '/' ? strdup(p) : strjoin_path(dir, p);

        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int check_readable(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        return fd < 0 ? -errno : 0;
}

/*
 * Reads one PEM item: base64 data (field_data) wins over a file (field_file).
 * Exactly one of *ret_pem and *ret_file is set when the item is present.
 */
static int load_pem(const char *kc_path, const char *dir, yaml_document_t *d, yaml_node_t *m,
                    const char *what, const char *what_name, const char *field_data, const char *field_file,
                    char **ret_pem, char **ret_file, char **err)
{
        const char *data = mapping_get_string(d, m, field_data);
        const char *file = mapping_get_string(d, m, field_file);
        int r;

        if (data) {
                _cleanup_free_ char *pem = NULL;

                r = base64_decode_string(data, &pem);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return fail(err, -EINVAL, "kubeconfig %s: %s '%s': %s is not valid base64", kc_path,
                                    what, what_name, field_data);
                if (!strstr(pem, "-----BEGIN "))
                        return fail(err, -EINVAL, "kubeconfig %s: %s '%s': %s does not contain PEM data",
                                    kc_path, what, what_name, field_data);
                *ret_pem = TAKE_PTR(pem);
                return 0;
        }
        if (file) {
                _cleanup_free_ char *abs = NULL;

                r = resolve_path(dir, file, &abs);
                if (r < 0)
                        return r;
                r = check_readable(abs);
                if (r < 0)
                        return fail(err, r, "kubeconfig %s: %s '%s': cannot read %s file %s: %s", kc_path,
                                    what, what_name, field_file, abs, strerror(-r));
                *ret_file = TAKE_PTR(abs);
        }
        return 0;
}

static char *dir_of(const char *path)
{
        const char *slash = strrchr(path, '/');

        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t) (slash - path));
}

static int strdup_to(const char *s, char **ret)
{
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int parse(const char *path, const char *text, size_t size, const char *context, KubeConfig **ret,
                 char **err)
{
        _cleanup_(kubeconfig_freep) KubeConfig *c = NULL;
        _cleanup_free_ char *dir = NULL;
        yaml_parser_t parser_storage;
        yaml_document_t doc_storage;
        _cleanup_(yaml_parser_deletep) yaml_parser_t *parser = NULL;
        _cleanup_(yaml_document_deletep) yaml_document_t *doc = NULL;
        yaml_node_t *root, *ctx, *cluster, *user;
        const char *ctx_name, *cluster_name, *user_name, *s;
        int r;

        if (!yaml_parser_initialize(&parser_storage))
                return -ENOMEM;
        parser = &parser_storage;
        yaml_parser_set_input_string(parser, (const unsigned char *) text, size);
        if (!yaml_parser_load(parser, &doc_storage))
                return fail(err, -EINVAL, "kubeconfig %s: not valid YAML: %s at line %zu", path,
                            strna(parser->problem), parser->problem_mark.line + 1);
        doc = &doc_storage;

        root = yaml_document_get_root_node(doc);
        if (!root)
                return fail(err, -EINVAL, "kubeconfig %s: file is empty", path);
        if (root->type != YAML_MAPPING_NODE)
                return fail(err, -EINVAL, "kubeconfig %s: not a kubeconfig (top level is not a mapping)",
                            path);

        ctx_name = context ?: mapping_get_string(doc, root, "current-context");
        if (!ctx_name)
                return fail(err, -EINVAL,
                            "kubeconfig %s: no current-context is set and no context was given", path);
        r = find_named(doc, root, "contexts", ctx_name, "context", &ctx);
        if (r < 0)
                return fail(err, -EINVAL, "kubeconfig %s: context '%s' %s", path, ctx_name,
                            r == -ENOENT ? "not found" : "has no 'context' section");

        cluster_name = mapping_get_string(doc, ctx, "cluster");
        if (!cluster_name)
                return fail(err, -EINVAL, "kubeconfig %s: context '%s' names no cluster", path, ctx_name);
        r = find_named(doc, root, "clusters", cluster_name, "cluster", &cluster);
        if (r < 0)
                return fail(err, -EINVAL, "kubeconfig %s: cluster '%s' (used by context '%s') %s", path,
                            cluster_name, ctx_name, r == -ENOENT ? "not found" : "has no 'cluster' section");

        user_name = mapping_get_string(doc, ctx, "user");
        user = NULL;
        if (user_name) {
                r = find_named(doc, root, "users", user_name, "user", &user);
                if (r < 0)
                        return fail(err, -EINVAL, "kubeconfig %s: user '%s' (used by context '%s') %s", path,
                                    user_name, ctx_name,
                                    r == -ENOENT ? "not found" : "has no 'user' section");
        }

        c = calloc(1, sizeof(*c));
        dir = dir_of(path);
        if (!c || !dir)
                return -ENOMEM;
        if (strdup_to(ctx_name, &c->context_name) < 0 || strdup_to(cluster_name, &c->cluster_name) < 0 ||
            strdup_to(user_name, &c->user_name) < 0 ||
            strdup_to(mapping_get_string(doc, ctx, "namespace"), &c->namespace) < 0)
                return -ENOMEM;

        /* Cluster: where and whom to trust. */
        s = mapping_get_string(doc, cluster, "server");
        if (!s)
                return fail(err, -EINVAL, "kubeconfig %s: cluster '%s' has no server", path, cluster_name);
        if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
                return fail(err, -EINVAL, "kubeconfig %s: cluster '%s': server '%s' is not an http(s) URL",
                            path, cluster_name, s);
        if (!server_has_host(s))
                return fail(err, -EINVAL, "kubeconfig %s: cluster '%s': server '%s' names no host", path,
                            cluster_name, s);
        c->server = strdup(s);
        if (!c->server)
                return -ENOMEM;
        for (size_t n = strlen(c->server); n > 0 && c->server[n - 1] == '/'; n--)
                c->server[n - 1] = '\0';

        s = mapping_get_string(doc, cluster, "insecure-skip-tls-verify");
        c->insecure_skip_tls_verify = s && (streq(s, "true") || streq(s, "True") || streq(s, "TRUE"));

        r = load_pem(path, dir, doc, cluster, "cluster", cluster_name, "certificate-authority-data",
                     "certificate-authority", &c->ca_pem, &c->ca_file, err);
        if (r < 0)
                return r;

        /* User: who we are. */
        if (user) {
                const char *token_file;

                r = load_pem(path, dir, doc, user, "user", user_name, "client-certificate-data",
                             "client-certificate", &c->cert_pem, &c->cert_file, err);
                if (r < 0)
                        return r;
                r = load_pem(path, dir, doc, user, "user", user_name, "client-key-data", "client-key",
                             &c->key_pem, &c->key_file, err);
                if (r < 0)
                        return r;
                if ((c->cert_pem || c->cert_file) != (c->key_pem || c->key_file))
                        return fail(err, -EINVAL,
                                    "kubeconfig %s: user '%s' has a client %s but no client %s", path,
                                    user_name, c->cert_pem || c->cert_file ? "certificate" : "key",
                                    c->cert_pem || c->cert_file ? "key" : "certificate");

                /* As in client-go, a tokenFile's content wins over an inline token. */
                token_file = mapping_get_string(doc, user, "tokenFile");
                if (token_file) {
                        size_t n;

                        r = resolve_path(dir, token_file, &c->token_file);
                        if (r < 0)
                                return r;
                        r = read_file(c->token_file, TOKEN_FILE_SIZE_MAX, &c->token, &n);
                        if (r < 0)
                                return fail(err, r, "kubeconfig %s: user '%s': cannot read tokenFile %s: %s",
                                            path, user_name, c->token_file, strerror(-r));
                        while (n > 0 && strchr(" \t\r\n", c->token[n - 1]))
                                c->token[--n] = '\0';
                        if (n == 0)
                                return fail(err, -EINVAL, "kubeconfig %s: user '%s': tokenFile %s is empty",
                                            path, user_name, c->token_file);
                } else if (strdup_to(mapping_get_string(doc, user, "token"), &c->token) < 0)
                        return -ENOMEM;

                if (!c->token && !c->cert_pem && !c->cert_file &&
                    (mapping_get(doc, user, "exec") || mapping_get(doc, user, "auth-provider")))
                        return fail(
                                err, -EOPNOTSUPP,
                                "kubeconfig %s: user '%s' authenticates through an exec/auth-provider "
                                "plugin, which storeagent does not support; use a ServiceAccount token or "
                                "a client certificate",
                                path, user_name);
        }

        *ret = TAKE_PTR(c);
        return 0;
}

int kubeconfig_load_full(const char *path, const char *context, KubeConfig **ret, char **ret_error)
{
        _cleanup_free_ char *text = NULL, *error = NULL;
        size_t size;
        int r;

        assert(ret);
        if (isempty(path))
                return fail(ret_error, -EINVAL, "no kubeconfig path given");

        r = read_file(path, KUBECONFIG_SIZE_MAX, &text, &size);
        if (r == -EFBIG)
                return fail(ret_error, r, "kubeconfig %s: larger than %u bytes", path, KUBECONFIG_SIZE_MAX);
        if (r < 0)
                return fail(ret_error, r, "kubeconfig %s: cannot read: %s", path, strerror(-r));

        r = parse(path, text, size, context, ret, &error);
        explicit_bzero(text, size); /* it may hold a key or token */
        if (r < 0 && ret_error) {
                if (!error && r == -ENOMEM)
                        error = strdup("out of memory");
                *ret_error = TAKE_PTR(error);
        }
        return r;
}

int kubeconfig_load(const char *path, KubeConfig **ret)
{
        assert(ret);
        return kubeconfig_load_full(path, NULL, ret, NULL);
}
