/* SPDX-License-Identifier: Apache-2.0 */

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "provision/objects.h"

int store_namespace_name(const char *name, char **ret)
{
        char *ns;

        assert(name);
        assert(ret);
        if (asprintf(&ns, "store-%s", name) < 0)
                return -ENOMEM;
        *ret = ns;
        return 0;
}

json_t *store_labels_new(const char *name, const char *id)
{
        assert(name);
        assert(id);
        return json_pack("{s:s, s:s, s:s}", LABEL_MANAGED_BY, "storeagent", LABEL_STORE_ID, id, LABEL_STORE_NAME,
                         name);
}

/* metadata of an object in the store's namespace: {name, namespace, labels}. */
static json_t *store_metadata_new(const char *object, const char *name, const char *id)
{
        _cleanup_free_ char *ns = NULL;

        if (store_namespace_name(name, &ns) < 0)
                return NULL;
        return json_pack("{s:s, s:s, s:o}", "name", object, "namespace", ns, "labels", store_labels_new(name, id));
}

json_t *store_namespace_new(const char *name, const char *id)
{
        _cleanup_free_ char *ns = NULL;
        json_t *l;

        assert(name);
        assert(id);
        if (store_namespace_name(name, &ns) < 0)
                return NULL;
        l = store_labels_new(name, id);
        /* The namespace also enforces the "restricted" Pod Security Standard, which every pod of the chart meets. */
        if (!l || json_object_set_new(l, "pod-security.kubernetes.io/enforce", json_string("restricted")) < 0 ||
            json_object_set_new(l, "pod-security.kubernetes.io/warn", json_string("restricted")) < 0) {
                json_decref(l);
                return NULL;
        }
        return json_pack("{s:s, s:s, s:{s:s, s:o}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", ns,
                         "labels", l);
}

json_t *store_rolebinding_new(const char *name, const char *id, const char *sa_ns, const char *sa_name)
{
        assert(name);
        assert(id);
        assert(sa_ns);
        assert(sa_name);
        return json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:s}]}", "apiVersion",
                         "rbac.authorization.k8s.io/v1", "kind", "RoleBinding", "metadata",
                         store_metadata_new("storeagent-store", name, id), "roleRef", "apiGroup",
                         "rbac.authorization.k8s.io", "kind", "ClusterRole", "name", "storeagent-store", "subjects",
                         "kind", "ServiceAccount", "name", sa_name, "namespace", sa_ns);
}

json_t *store_quota_new(const ProvisionSettings *set, const char *name, const char *id)
{
        assert(set);
        assert(name);
        assert(id);
        return json_pack("{s:s, s:s, s:o, s:{s:{s:s, s:s, s:s, s:s, s:s}}}", "apiVersion", "v1", "kind",
                         "ResourceQuota", "metadata", store_metadata_new("store-quota", name, id), "spec", "hard",
                         "pods", set->quota_pods, "requests.memory", set->quota_memory, "limits.memory",
                         set->quota_memory, "requests.cpu", set->quota_cpu, "limits.cpu", set->quota_cpu);
}

json_t *store_limit_range_new(const char *name, const char *id)
{
        assert(name);
        assert(id);
        return json_pack("{s:s, s:s, s:o, s:{s:[{s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}}]}}", "apiVersion", "v1",
                         "kind", "LimitRange", "metadata", store_metadata_new("store-limits", name, id), "spec",
                         "limits", "type", "Container", "default", "cpu", "500m", "memory", "256Mi", "defaultRequest",
                         "cpu", "50m", "memory", "64Mi", "max", "cpu", "1", "memory", "1Gi");
}

json_t *store_network_policies_new(const char *name, const char *id)
{
        assert(name);
        assert(id);
        return json_pack(
                "[o, o, o, o]",
                /* Nothing reaches a store's pods unless a rule below lets it. */
                json_pack("{s:s, s:s, s:o, s:{s:{}, s:[s]}}", "apiVersion", "networking.k8s.io/v1", "kind",
                          "NetworkPolicy", "metadata", store_metadata_new("default-deny-ingress", name, id), "spec",
                          "podSelector", "policyTypes", "Ingress"),
                /* The ingress controller (k3s runs traefik in kube-system) may reach the web port. */
                json_pack("{s:s, s:s, s:o, s:{s:{s:{s:s}}, s:[s], s:[{s:[{s:{s:[{s:s, s:s, s:[s, s, s]}]}}], "
                          "s:[{s:s, s:s}]}]}}",
                          "apiVersion", "networking.k8s.io/v1", "kind", "NetworkPolicy", "metadata",
                          store_metadata_new("allow-ingress-controller-to-web", name, id), "spec", "podSelector",
                          "matchLabels", "app.kubernetes.io/component", "web", "policyTypes", "Ingress", "ingress",
                          "from", "namespaceSelector", "matchExpressions", "key", "kubernetes.io/metadata.name",
                          "operator", "In", "values", "kube-system", "traefik", "ingress-nginx", "ports", "protocol",
                          "TCP", "port", "http"),
                /*
                 * Only the web tier, the setup Job, the cron runs and the password Job of this namespace may
                 * reach the database.
                 */
                json_pack("{s:s, s:s, s:o, s:{s:{s:{s:s}}, s:[s], s:[{s:[{s:{s:[{s:s, s:s, s:[s, s, s, s]}]}}], "
                          "s:[{s:s, s:i}]}]}}",
                          "apiVersion", "networking.k8s.io/v1", "kind", "NetworkPolicy", "metadata",
                          store_metadata_new("allow-web-to-database", name, id), "spec", "podSelector", "matchLabels",
                          "app.kubernetes.io/component", "database", "policyTypes", "Ingress", "ingress", "from",
                          "podSelector", "matchExpressions", "key", "app.kubernetes.io/component", "operator", "In",
                          "values", "web", "setup", "cron", COMPONENT_CREDENTIALS, "ports", "protocol",
                          "TCP", "port", 3306),
                /*
                 * The pod cert-manager starts in the namespace to answer an ACME HTTP-01 challenge: the CA
                 * fetches /.well-known/acme-challenge/ through the ingress controller, which forwards to it.
                 */
                json_pack("{s:s, s:s, s:o, s:{s:{s:{s:s}}, s:[s], s:[{s:[{s:{s:[{s:s, s:s, s:[s, s, s]}]}}], "
                          "s:[{s:s, s:i}]}]}}",
                          "apiVersion", "networking.k8s.io/v1", "kind", "NetworkPolicy", "metadata",
                          store_metadata_new("allow-ingress-controller-to-acme-solver", name, id), "spec",
                          "podSelector", "matchLabels", ACME_SOLVER_LABEL, "true", "policyTypes", "Ingress",
                          "ingress", "from", "namespaceSelector", "matchExpressions", "key",
                          "kubernetes.io/metadata.name", "operator", "In", "values", "kube-system", "traefik",
                          "ingress-nginx", "ports", "protocol", "TCP", "port", ACME_SOLVER_PORT));
}

/* ---- what a store's pods may reach ---- */

static json_t *json_decref_and_null(json_t *j)
{
        json_decref(j);
        return NULL;
}

/* Pods whose component is one of the NULL-terminated list. */
static json_t *components_selector_new(const char *const *components)
{
        json_t *values = json_array();

        for (const char *const *c = components; values && *c; c++)
                if (json_array_append_new(values, json_string(*c)) < 0)
                        values = json_decref_and_null(values);
        return json_pack("{s:[{s:s, s:s, s:o}]}", "matchExpressions", "key", LABEL_COMPONENT, "operator", "In",
                         "values", values);
}

static json_t *egress_policy_new(const char *object, const char *name, const char *id, json_t *pod_selector,
                                 json_t *egress)
{
        return json_pack("{s:s, s:s, s:o, s:{s:o, s:[s], s:o}}", "apiVersion", "networking.k8s.io/v1", "kind",
                         "NetworkPolicy", "metadata", store_metadata_new(object, name, id), "spec", "podSelector",
                         pod_selector, "policyTypes", "Egress", "egress", egress);
}

/* Each entry of a checked comma-separated list made into a JSON value by make(). */
static json_t *list_map_new(const char *csv, json_t *(*make)(const char *item))
{
        _cleanup_free_ char *copy = strdup(csv);
        json_t *a = json_array();
        char *save = NULL;

        if (!copy || !a)
                return json_decref_and_null(a);
        for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save))
                if (json_array_append_new(a, make(e)) < 0)
                        return json_decref_and_null(a);
        return a;
}

static json_t *tcp_port_new(const char *port)
{
        return json_pack("{s:s, s:i}", "protocol", "TCP", "port", atoi(port));
}

static json_t *ip_block_new(const char *cidr)
{
        return json_pack("{s:{s:s}}", "ipBlock", "cidr", cidr);
}

static json_t *string_new(const char *s)
{
        return json_string(s);
}

/* The internet rule: any IPv4 address but the excluded ranges, on the configured TCP ports. */
static json_t *internet_egress_new(const ProvisionSettings *set)
{
        _cleanup_(json_decrefp) json_t *block = NULL;
        json_t *ports;

        /* No ports means no internet: a rule without ports would allow every port. */
        if (isempty(set->egress_ports))
                return json_array();
        block = json_pack("{s:s}", "cidr", "0.0.0.0/0");
        if (!block)
                return NULL;
        if (!isempty(set->egress_excluded_cidrs) &&
            json_object_set_new(block, "except", list_map_new(set->egress_excluded_cidrs, string_new)) < 0)
                return NULL;
        ports = list_map_new(set->egress_ports, tcp_port_new);
        return json_pack("[{s:[{s:O}], s:o}]", "to", "ipBlock", block, "ports", ports);
}

static json_t *extra_egress_new(const ProvisionSettings *set)
{
        if (isempty(set->egress_extra_cidrs))
                return json_array();
        return json_pack("[{s:o}]", "to", list_map_new(set->egress_extra_cidrs, ip_block_new));
}

json_t *store_egress_policies_new(const ProvisionSettings *set, const char *name, const char *id)
{
        /* "cron": the chart's CronJob that runs WordPress's scheduled events (which fetch and send too). */
        static const char *const clients[] = { "web", "setup", "cron", COMPONENT_CREDENTIALS, NULL };
        static const char *const online[] = { "web", "setup", "cron", NULL };

        assert(set);
        assert(name);
        assert(id);
        return json_pack(
                "[o, o, o, o, o]",
                /* Nothing leaves a store's pods unless a rule below lets it: MySQL never talks first. */
                json_pack("{s:s, s:s, s:o, s:{s:{}, s:[s]}}", "apiVersion", "networking.k8s.io/v1", "kind",
                          "NetworkPolicy", "metadata", store_metadata_new("default-deny-egress", name, id), "spec",
                          "podSelector", "policyTypes", "Egress"),
                /* The cluster's resolver, to find the database Service by name. */
                egress_policy_new("allow-dns-egress", name, id, components_selector_new(clients),
                                  json_pack("[{s:[{s:{s:{s:s}}, s:{s:{s:s}}}], s:[{s:s, s:i}, {s:s, s:i}]}]", "to",
                                            "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name",
                                            "kube-system", "podSelector", "matchLabels", "k8s-app", "kube-dns",
                                            "ports", "protocol", "UDP", "port", 53, "protocol", "TCP", "port", 53)),
                /* The store's own database, and no other store's. */
                egress_policy_new("allow-egress-to-database", name, id, components_selector_new(clients),
                                  json_pack("[{s:[{s:{s:{s:s}}}], s:[{s:s, s:i}]}]", "to", "podSelector",
                                            "matchLabels", LABEL_COMPONENT, "database", "ports", "protocol", "TCP",
                                            "port", 3306)),
                /*
                 * Plugins, updates and the WooCommerce download come from the internet; the node, the API
                 * server, cloud metadata and every pod and Service of the cluster are in the excluded ranges.
                 */
                egress_policy_new("allow-egress-to-internet", name, id, components_selector_new(online),
                                  internet_egress_new(set)),
                /*
                 * What the operator allows besides (stores.egress.extra_cidrs), on any port. Applied even
                 * when empty, so a range taken out of the configuration leaves the policy on the next apply.
                 */
                egress_policy_new("allow-egress-to-extra", name, id, components_selector_new(online),
                                  extra_egress_new(set)));
}

json_t *store_secret_new(const char *name, const char *id, const char *root_password, const char *user_password,
                         const char *admin_password)
{
        assert(name);
        assert(id);
        assert(root_password);
        assert(user_password);
        assert(admin_password);
        return json_pack("{s:s, s:s, s:o, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "apiVersion", "v1", "kind", "Secret",
                         "metadata", store_metadata_new(CREDENTIALS_SECRET, name, id), "type", "Opaque", "stringData",
                         "mysql-root-password", root_password, "mysql-password", user_password, "admin-password",
                         admin_password, "admin-user", "admin", "database", "wordpress", "database-user", "wordpress");
}

json_t *store_smtp_secret_new(const char *name, const char *id, const char *password)
{
        assert(name);
        assert(id);
        assert(password);
        return json_pack("{s:s, s:s, s:o, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Secret", "metadata",
                         store_metadata_new(SMTP_SECRET, name, id), "type", "Opaque", "stringData",
                         "smtp-password", password);
}

/* The chart's mail values, or NULL (none to give) in *ret; -ENOMEM. */
static int mail_values_new(const ProvisionSettings *set, json_t **ret)
{
        _cleanup_(json_decrefp) json_t *mail = NULL;

        *ret = NULL;
        if (isempty(set->smtp_host) && isempty(set->mail_from))
                return 0;
        mail = json_object();
        if (!mail)
                return -ENOMEM;
        if (!isempty(set->smtp_host) &&
            json_object_set_new(mail, "smtp",
                                json_pack("{s:s, s:I, s:s, s:s, s:s}", "host", set->smtp_host, "port",
                                          (json_int_t) set->smtp_port, "tls", set->smtp_tls, "user",
                                          set->smtp_user, "passwordSecret",
                                          isempty(set->smtp_password_file) ? "" : SMTP_SECRET)) < 0)
                return -ENOMEM;
        if (!isempty(set->mail_from) && json_object_set_new(mail, "from", json_string(set->mail_from)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(mail);
        return 0;
}

json_t *store_values_new(const ProvisionSettings *set, const char *name)
{
        _cleanup_(json_decrefp) json_t *v = NULL, *mail = NULL;
        _cleanup_free_ char *email = NULL;

        assert(set);
        assert(name);
        if (asprintf(&email, "admin@%s.%s", name, set->base_domain) < 0)
                return NULL;
        v = json_pack("{s:s, s:s, s:{s:s, s:{s:b}}, s:{s:s}, s:{s:s, s:s}, s:{s:{s:s}}, s:{s:{s:s}}}",
                      "storeName", name, "baseDomain", set->base_domain, "ingress", "className",
                      set->ingress_class, "tls", "enabled", streq(set->url_scheme, "https"), "credentials",
                      "secretName", CREDENTIALS_SECRET, "admin", "user", "admin", "email", email, "mysql",
                      "persistence", "size", set->storage_mysql, "wordpress", "persistence", "size",
                      set->storage_wordpress);
        if (!v)
                return NULL;
        /* cert-manager issues the certificate the Ingress names (its ingress-shim reads the annotation). */
        if (streq(set->url_scheme, "https") && !isempty(set->cluster_issuer) &&
            json_object_set_new(json_object_get(json_object_get(v, "ingress"), "tls"), "clusterIssuer",
                                json_string(set->cluster_issuer)) < 0)
                return NULL;
        /* Only what the operator set: the chart pins the version, its hash and the default URL. */
        if (!isempty(set->woocommerce_url) &&
            json_object_set_new(v, "woocommerce", json_pack("{s:s}", "url", set->woocommerce_url)) < 0)
                return NULL;
        if (mail_values_new(set, &mail) < 0)
                return NULL;
        if (mail && json_object_set(v, "mail", mail) < 0)
                return NULL;
        return TAKE_PTR(v);
}

/* ---- the administrator's credentials ---- */

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

/* Standard base64 with padding, as the API server writes a Secret's data. */
static int base64_decode(const char *in, char **ret)
{
        size_t n = strlen(in), k = 0;
        unsigned acc = 0;
        int bits = 0, pad = 0;
        char *out;

        if (n % 4 != 0)
                return -EBADMSG;
        out = calloc(1, n / 4 * 3 + 1); /* zeroed: erase_and_freep() on an early return reads up to a NUL */
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int v;
                if (in[i] == '=') {
                        /* Padding only at the end, at most two. */
                        if (i < n - 2 || (i == n - 2 && in[n - 1] != '=')) {
                                erase_and_freep(&out);
                                return -EBADMSG;
                        }
                        pad++;
                        continue;
                }
                v = base64_value(in[i]);
                if (v < 0) {
                        erase_and_freep(&out);
                        return -EBADMSG;
                }
                acc = (acc << 6) | (unsigned) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[k++] = (char) ((acc >> bits) & 0xff);
                }
        }
        out[k] = '\0';
        if (strlen(out) != k) { /* a NUL inside: not a password we could show */
                erase_and_freep(&out);
                return -EBADMSG;
        }
        *ret = out;
        return 0;
}

int secret_value(json_t *secret, const char *key, char **ret)
{
        const char *v;

        assert(key);
        assert(ret);
        v = json_string_value(json_object_get(json_object_get(secret, "data"), key));
        if (!v)
                return -ENOENT;
        return base64_decode(v, ret);
}

int store_credentials_from_secret(json_t *secret, const char *url, json_t **ret)
{
        _cleanup_erase_free_ char *password = NULL;
        _cleanup_free_ char *user = NULL, *admin_url = NULL;
        json_t *o;
        int r;

        assert(secret);
        assert(url);
        assert(ret);
        r = secret_value(secret, "admin-user", &user);
        if (r < 0)
                return r;
        r = secret_value(secret, "admin-password", &password);
        if (r < 0)
                return r;
        if (asprintf(&admin_url, "%s/wp-admin/", url) < 0)
                return -ENOMEM;
        o = json_pack("{s:s, s:s, s:s, s:s}", "url", url, "admin_url", admin_url, "username", user, "password",
                      password);
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;
}

json_t *store_rotate_secret_new(const char *name, const char *id, const char *object, const char *password)
{
        json_t *meta, *labels;

        assert(name);
        assert(id);
        assert(object);
        assert(password);
        meta = store_metadata_new(object, name, id);
        labels = json_object_get(meta, "labels");
        if (!labels || json_object_set_new(labels, LABEL_COMPONENT, json_string(COMPONENT_CREDENTIALS)) < 0) {
                json_decref(meta);
                return NULL;
        }
        return json_pack("{s:s, s:s, s:o, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Secret", "metadata", meta,
                         "type", "Opaque", "stringData", "admin-password", password);
}

/* The chart's environment that makes wp-config.php find the database (WORDPRESS_*), copied. */
static json_t *wordpress_env(json_t *container)
{
        json_t *env = json_array(), *e;
        size_t i;

        if (!env)
                return NULL;
        json_array_foreach(json_object_get(container, "env"), i, e) {
                const char *n = json_string_value(json_object_get(e, "name"));
                if (n && strncmp(n, "WORDPRESS_", 10) == 0 && json_array_append_new(env, json_deep_copy(e)) < 0) {
                        json_decref(env);
                        return NULL;
                }
        }
        return env;
}

/*
 * The password reaches wp through its standard input, from the environment (printf is a shell
 * builtin), so it is in no process's argv and in no field of the Job.
 */
#define ROTATE_SCRIPT                                                                                          \
        "set -eu\n"                                                                                            \
        "printf '%s\\n' \"$NEW_ADMIN_PASSWORD\" |\n"                                                            \
        "  wp --path=/var/www/html user update \"$ADMIN_USER\" --prompt=user_pass --skip-email\n"              \
        "echo \"password of $ADMIN_USER changed\"\n"

json_t *store_rotate_job_new(const char *name, const char *id, const char *object, const char *admin_user,
                             json_t *setup_job)
{
        _cleanup_(json_decrefp) json_t *meta = NULL, *env = NULL, *pod_labels = NULL;
        json_t *pod, *container, *v, *job;
        const char *image, *claim = NULL;
        size_t i;

        assert(name);
        assert(id);
        assert(object);
        assert(admin_user);
        pod = json_object_get(json_object_get(json_object_get(setup_job, "spec"), "template"), "spec");
        container = json_array_get(json_object_get(pod, "containers"), 0);
        image = json_string_value(json_object_get(container, "image"));
        json_array_foreach(json_object_get(pod, "volumes"), i, v)
                if (streq_ptr(json_string_value(json_object_get(v, "name")), "wordpress"))
                        claim = json_string_value(
                                json_object_get(json_object_get(v, "persistentVolumeClaim"), "claimName"));
        if (!image || !claim)
                return NULL;

        meta = store_metadata_new(object, name, id);
        pod_labels = store_labels_new(name, id);
        env = wordpress_env(container);
        if (!meta || !pod_labels || !env ||
            json_object_set_new(json_object_get(meta, "labels"), LABEL_COMPONENT, json_string(COMPONENT_CREDENTIALS)) < 0 ||
            json_object_set_new(pod_labels, LABEL_COMPONENT, json_string(COMPONENT_CREDENTIALS)) < 0 ||
            json_array_append_new(env, json_pack("{s:s, s:s}", "name", "ADMIN_USER", "value", admin_user)) < 0 ||
            json_array_append_new(env, json_pack("{s:s, s:{s:{s:s, s:s}}}", "name", "NEW_ADMIN_PASSWORD", "valueFrom",
                                                 "secretKeyRef", "name", object, "key", "admin-password")) < 0 ||
            json_array_append_new(env, json_pack("{s:s, s:s}", "name", "HOME", "value", "/tmp")) < 0)
                return NULL;

        job = json_pack(
                "{s:s, s:s, s:O, s:{s:i, s:i, s:i, s:{s:{s:O}, s:{s:b, s:b, s:s, s:{s:b, s:i, s:i, s:i, s:{s:s}}, "
                "s:[{s:s, s:s, s:s, s:[s, s, s], s:O, s:s, s:{s:{s:s, s:s}, s:{s:s, s:s}}, "
                "s:{s:b, s:b, s:b, s:b, s:{s:[s]}, s:{s:s}}, s:[{s:s, s:s}, {s:s, s:s, s:b}, {s:s, s:s}]}], "
                "s:[{s:s, s:{s:s}}, {s:s, s:{s:s, s:i, s:[{s:s, s:s}]}}, {s:s, s:{s:s}}]}}}}",
                "apiVersion", "batch/v1", "kind", "Job", "metadata", meta, "spec",
                /* One retry for a pod lost on its way; the old password stays valid whatever happens. */
                "backoffLimit", 1, "activeDeadlineSeconds", ROTATE_JOB_DEADLINE_SEC, "ttlSecondsAfterFinished", 86400,
                "template", "metadata", "labels", pod_labels, "spec", "automountServiceAccountToken", false,
                "enableServiceLinks", false, "restartPolicy", "Never",
                /* www-data, as the chart's setup Job: the owner of the WordPress files. */
                "securityContext", "runAsNonRoot", true, "runAsUser", 33, "runAsGroup", 33, "fsGroup", 33,
                "seccompProfile", "type", "RuntimeDefault", "containers", "name", "rotate", "image", image,
                "imagePullPolicy", "IfNotPresent", "command", "bash", "-c", ROTATE_SCRIPT, "env", env,
                "terminationMessagePolicy", "FallbackToLogsOnError",
                /* Inside the LimitRange's max, and small beside the quota the store's pods leave. */
                "resources", "requests", "cpu", "50m", "memory", "128Mi", "limits", "cpu", "500m", "memory", "384Mi",
                "securityContext", "allowPrivilegeEscalation", false, "privileged", false, "readOnlyRootFilesystem",
                true, "runAsNonRoot", true, "capabilities", "drop", "ALL", "seccompProfile", "type", "RuntimeDefault",
                "volumeMounts", "name", "wordpress", "mountPath", "/var/www/html", "name", "credentials", "mountPath",
                "/etc/storeagent/credentials", "readOnly", true, "name", "tmp", "mountPath", "/tmp", "volumes", "name",
                "wordpress", "persistentVolumeClaim", "claimName", claim, "name", "credentials", "secret",
                "secretName", CREDENTIALS_SECRET, "defaultMode", 0440, "items", "key", "mysql-password", "path",
                "mysql-password", "name", "tmp", "emptyDir", "medium", "Memory");
        return job;
}
