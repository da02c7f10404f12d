/* SPDX-License-Identifier: Apache-2.0 */

/* Objects: their API paths, and apply, get, list and delete on them. */

#include <ctype.h>

#include "basic/util.h"
#include "cluster/kube-internal.h"

/* Appends "/<part>" escaped; '/' inside a part would change the path, so it is refused. */
static int path_append(char **p, const char *part)
{
        _cleanup_free_ char *escaped = NULL;
        char *n;
        int r;

        if (isempty(part) || strchr(part, '/') || streq(part, ".") || streq(part, ".."))
                return -EINVAL;
        r = kube_url_escape(part, &escaped);
        if (r < 0)
                return r;
        if (asprintf(&n, "%s/%s", *p, escaped) < 0)
                return -ENOMEM;
        free(*p);
        *p = n;
        return 0;
}

int kube_path(char **ret, const char *api_version, const char *resource, const char *namespace,
              const char *name)
{
        _cleanup_free_ char *p = NULL;
        int r;

        assert(ret);
        if (isempty(api_version) || isempty(resource) || api_version[0] == '/' ||
            api_version[strlen(api_version) - 1] == '/' || strstr(api_version, ".."))
                return -EINVAL;
        /* The core group lives under /api, every other group under /apis/<group>. */
        if (asprintf(&p, "%s/%s", strchr(api_version, '/') ? "/apis" : "/api", api_version) < 0)
                return -ENOMEM;
        if (namespace) {
                r = path_append(&p, "namespaces");
                if (r >= 0)
                        r = path_append(&p, namespace);
                if (r < 0)
                        return r;
        }
        r = path_append(&p, resource);
        if (r < 0)
                return r;
        if (name) {
                r = path_append(&p, name);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

typedef struct KindInfo {
        const char *kind;
        const char *resource;
        bool cluster_scoped;
} KindInfo;

static const KindInfo kind_table[] = {
        { "Namespace", "namespaces", true },
        { "ResourceQuota", "resourcequotas", false },
        { "LimitRange", "limitranges", false },
        { "NetworkPolicy", "networkpolicies", false },
        { "Secret", "secrets", false },
        { "ConfigMap", "configmaps", false },
        { "ServiceAccount", "serviceaccounts", false },
        { "Role", "roles", false },
        { "RoleBinding", "rolebindings", false },
        { "ClusterRole", "clusterroles", true },
        { "ClusterRoleBinding", "clusterrolebindings", true },
        { "Service", "services", false },
        { "Endpoints", "endpoints", false },
        { "Pod", "pods", false },
        { "Deployment", "deployments", false },
        { "StatefulSet", "statefulsets", false },
        { "ReplicaSet", "replicasets", false },
        { "DaemonSet", "daemonsets", false },
        { "Job", "jobs", false },
        { "CronJob", "cronjobs", false },
        { "PersistentVolumeClaim", "persistentvolumeclaims", false },
        { "PersistentVolume", "persistentvolumes", true },
        { "StorageClass", "storageclasses", true },
        { "Ingress", "ingresses", false },
        { "IngressClass", "ingressclasses", true },
        { "Event", "events", false },
        { "PodDisruptionBudget", "poddisruptionbudgets", false },
        { "HorizontalPodAutoscaler", "horizontalpodautoscalers", false },
        { "Node", "nodes", true },
        { "PriorityClass", "priorityclasses", true },
        { "CustomResourceDefinition", "customresourcedefinitions", true },
};

/* "Widget" -> "widgets", "Policy" -> "policies", "Ingress" -> "ingresses". */
static int kind_to_plural(const char *kind, char **ret)
{
        size_t n = strlen(kind);
        char *s = malloc(n + 3), *e;

        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i <= n; i++)
                s[i] = (char) tolower((unsigned char) kind[i]);
        e = s + n;
        if (n > 1 && e[-1] == 'y' && !strchr("aeiou", e[-2]))
                strcpy(e - 1, "ies");
        else if (e[-1] == 's' || e[-1] == 'x' || (n > 1 && (streq(e - 2, "ch") || streq(e - 2, "sh"))))
                strcpy(e, "es");
        else
                strcpy(e, "s");
        *ret = s;
        return 0;
}

int kube_object_path(json_t *object, char **ret)
{
        _cleanup_free_ char *plural = NULL;
        const char *api_version, *kind, *name, *namespace, *resource = NULL;
        bool cluster_scoped = false;
        json_t *metadata;
        int r;

        assert(ret);
        if (!json_is_object(object))
                return -EINVAL;
        api_version = json_string_value(json_object_get(object, "apiVersion"));
        kind = json_string_value(json_object_get(object, "kind"));
        metadata = json_object_get(object, "metadata");
        name = json_string_value(json_object_get(metadata, "name"));
        namespace = json_string_value(json_object_get(metadata, "namespace"));
        if (isempty(api_version) || isempty(kind) || isempty(name))
                return -EINVAL;

        for (size_t i = 0; i < ELEMENTSOF(kind_table); i++)
                if (streq(kind_table[i].kind, kind)) {
                        resource = kind_table[i].resource;
                        cluster_scoped = kind_table[i].cluster_scoped;
                        break;
                }
        if (!resource) {
                r = kind_to_plural(kind, &plural);
                if (r < 0)
                        return r;
                resource = plural;
                cluster_scoped = isempty(namespace);
        }
        if (!cluster_scoped && isempty(namespace))
                return -EINVAL;

        return kube_path(ret, api_version, resource, cluster_scoped ? NULL : namespace, name);
}

int kube_apply(KubeClient *c, json_t *object, json_t **ret)
{
        _cleanup_free_ char *path = NULL, *body = NULL;
        int r;

        assert(c);
        kube_clear_error(c);
        r = kube_object_path(object, &path);
        if (r == -EINVAL) {
                json_t *metadata = json_object_get(object, "metadata");

                kube_set_error(c,
                          "cannot apply %s '%s': apiVersion, kind, metadata.name and (for namespaced kinds) "
                          "metadata.namespace are required",
                          strna(json_string_value(json_object_get(object, "kind"))),
                          strna(json_string_value(json_object_get(metadata, "name"))));
                return r;
        }
        if (r < 0)
                return r;
        r = kube_url_add_query(&path, "fieldManager", KUBE_FIELD_MANAGER);
        if (r >= 0)
                r = kube_url_add_query(&path, "force", "true");
        if (r < 0)
                return r;

        body = json_dumps(object, JSON_COMPACT);
        if (!body)
                return -ENOMEM;
        return kube_request(c, "PATCH", path, "application/apply-patch+yaml", body, ret);
}

int kube_get(KubeClient *c, const char *path, json_t **ret)
{
        assert(c);
        return kube_request(c, "GET", path, NULL, NULL, ret);
}

int kube_list(KubeClient *c, const char *path, const char *label_selector, json_t **ret)
{
        _cleanup_free_ char *p = strdup(path ?: "");
        int r;

        assert(c);
        if (!p)
                return -ENOMEM;
        if (!isempty(label_selector)) {
                r = kube_url_add_query(&p, "labelSelector", label_selector);
                if (r < 0)
                        return r;
        }
        return kube_request(c, "GET", p, NULL, NULL, ret);
}

int kube_delete(KubeClient *c, const char *path, const char *propagation)
{
        _cleanup_free_ char *p = strdup(path ?: "");
        int r;

        assert(c);
        if (!p)
                return -ENOMEM;
        if (!isempty(propagation)) {
                r = kube_url_add_query(&p, "propagationPolicy", propagation);
                if (r < 0)
                        return r;
        }
        r = kube_request(c, "DELETE", p, NULL, NULL, NULL);
        if (r == -ENOENT) {
                /* Already gone is what we wanted. */
                kube_clear_error(c);
                return 0;
        }
        return r;
}

int kube_server_version(KubeClient *c, char **ret_git_version)
{
        _cleanup_(json_decrefp) json_t *j = NULL;
        const char *v;
        char *s;
        int r;

        assert(c);
        assert(ret_git_version);
        r = kube_get(c, "/version", &j);
        if (r < 0)
                return r;
        v = json_string_value(json_object_get(j, "gitVersion"));
        if (!v) {
                kube_set_error(c, "GET /version: no gitVersion in the response");
                return -EBADMSG;
        }
        s = strdup(v);
        if (!s)
                return -ENOMEM;
        *ret_git_version = s;
        return 0;
}
