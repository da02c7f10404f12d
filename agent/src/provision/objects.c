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
                "[o, o, o]",
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
                /* Only the web tier and the setup Job of this namespace may reach the database. */
                json_pack("{s:s, s:s, s:o, s:{s:{s:{s:s}}, s:[s], s:[{s:[{s:{s:[{s:s, s:s, s:[s, s]}]}}], "
                          "s:[{s:s, s:i}]}]}}",
                          "apiVersion", "networking.k8s.io/v1", "kind", "NetworkPolicy", "metadata",
                          store_metadata_new("allow-web-to-database", name, id), "spec", "podSelector", "matchLabels",
                          "app.kubernetes.io/component", "database", "policyTypes", "Ingress", "ingress", "from",
                          "podSelector", "matchExpressions", "key", "app.kubernetes.io/component", "operator", "In",
                          "values", "web", "setup", "ports", "protocol", "TCP", "port", 3306));
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

json_t *store_values_new(const ProvisionSettings *set, const char *name)
{
        _cleanup_free_ char *email = NULL;

        assert(set);
        assert(name);
        if (asprintf(&email, "admin@%s.%s", name, set->base_domain) < 0)
                return NULL;
        return json_pack("{s:s, s:s, s:{s:s, s:{s:b}}, s:{s:s}, s:{s:s, s:s}, s:{s:{s:s}}, s:{s:{s:s}}}", "storeName",
                         name, "baseDomain", set->base_domain, "ingress", "className", set->ingress_class, "tls",
                         "enabled", streq(set->url_scheme, "https"), "credentials", "secretName", CREDENTIALS_SECRET,
                         "admin", "user", "admin", "email", email, "mysql", "persistence", "size", set->storage_mysql,
                         "wordpress", "persistence", "size", set->storage_wordpress);
}
