/* SPDX-License-Identifier: Apache-2.0 */

/*
 * A store's logs, for its owner: which pods and containers there are, and one container's log read
 * or followed through pods/log. Only the store's own namespace is ever read; which caller may ask
 * for which store is the store service's decision, made before these are called.
 */

#include "basic/log.h"
#include "basic/util.h"
#include "core/store.h"
#include "provision/objects.h"
#include "provision/provision-internal.h"

/* A Kubernetes object name (DNS subdomain: lowercase letters, digits, '-' and '.'), at most max long. */
static bool kube_name_is_valid(const char *s, size_t max)
{
        size_t n;

        if (isempty(s))
                return false;
        n = strlen(s);
        if (n > max || !strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]) ||
            !strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[n - 1]))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == n;
}

static int logs_client(Provisioner *p, const atomic_bool *cancel, KubeClient **ret)
{
        _cleanup_free_ char *kubeconfig = NULL;
        int r;

        pthread_mutex_lock(&p->lock);
        kubeconfig = strdup(p->set.kubeconfig);
        pthread_mutex_unlock(&p->lock);
        if (!kubeconfig)
                return -ENOMEM;
        r = make_client(kubeconfig, ret, NULL);
        if (r < 0)
                return r;
        kube_client_set_cancel(*ret, cancel ? cancel : &p->stopping);
        return 0;
}

static int append_names(json_t *to, json_t *containers)
{
        size_t i;
        json_t *c;

        json_array_foreach(containers, i, c) {
                const char *name = json_string_value(json_object_get(c, "name"));
                if (name && json_array_append_new(to, json_string(name)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int by_pod_name(const void *a, const void *b)
{
        return strcmp(json_string_value(json_object_get(*(json_t *const *) a, "pod")),
                      json_string_value(json_object_get(*(json_t *const *) b, "pod")));
}

int provisioner_store_log_sources(Provisioner *p, const Store *s, json_t **ret)
{
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        _cleanup_(json_decrefp) json_t *list = NULL, *out = NULL;
        _cleanup_free_ char *ns = NULL, *path = NULL;
        _cleanup_free_ json_t **sorted = NULL;
        json_t *items, *pod;
        size_t i, n = 0;
        int r;

        assert(p);
        assert(s);
        assert(ret);
        r = store_namespace_name(s->name, &ns);
        if (r < 0)
                return r;
        r = kube_path(&path, "v1", "pods", ns, NULL);
        if (r < 0)
                return r;
        r = logs_client(p, NULL, &c);
        if (r < 0)
                return r;
        r = kube_list(c, path, NULL, &list);
        if (r == -ENOENT) {
                *ret = json_array();
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;

        items = json_object_get(list, "items");
        sorted = calloc(json_array_size(items) + 1, sizeof *sorted);
        out = json_array();
        if (!sorted || !out)
                return -ENOMEM;
        json_array_foreach(items, i, pod) {
                json_t *meta = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
                const char *name = json_string_value(json_object_get(meta, "name"));
                const char *component =
                        json_string_value(json_object_get(json_object_get(meta, "labels"), LABEL_COMPONENT));
                json_t *status = json_object_get(pod, "status");
                const char *phase = json_string_value(json_object_get(status, "phase"));
                json_t *containers = json_array(), *inits = json_array(), *item;

                if (!containers || !inits) {
                        json_decref(containers);
                        json_decref(inits);
                        return -ENOMEM;
                }
                if (!name || append_names(containers, json_object_get(spec, "containers")) < 0 ||
                    append_names(inits, json_object_get(spec, "initContainers")) < 0) {
                        json_decref(containers);
                        json_decref(inits);
                        continue;
                }
                item = json_pack("{s:s, s:s?, s:s?, s:o, s:o}", "pod", name, "component", component, "phase",
                                 phase, "containers", containers, "init_containers", inits);
                if (!item)
                        return -ENOMEM;
                sorted[n++] = item;
        }
        qsort(sorted, n, sizeof *sorted, by_pod_name);
        for (i = 0; i < n; i++)
                if (json_array_append_new(out, sorted[i]) < 0) {
                        for (size_t j = i + 1; j < n; j++)
                                json_decref(sorted[j]);
                        return -ENOMEM;
                }
        *ret = TAKE_PTR(out);
        return 0;
}

typedef struct LogForward {
        StoreLogSink sink;
        void *userdata;
} LogForward;

static int log_forward(const char *data, size_t n, void *userdata)
{
        LogForward *f = userdata;
        return f->sink(data, n, f->userdata);
}

int provisioner_store_logs(Provisioner *p, const Store *s, const StoreLogRequest *req,
                           const atomic_bool *cancel, StoreLogSink sink, void *userdata)
{
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        _cleanup_free_ char *ns = NULL;
        LogForward f = { .sink = sink, .userdata = userdata };
        KubeLogOptions o;
        int r;

        assert(p);
        assert(s);
        assert(req);
        assert(sink);
        if (!kube_name_is_valid(req->pod, 253) ||
            (req->container && !kube_name_is_valid(req->container, 63)))
                return -EINVAL;
        r = store_namespace_name(s->name, &ns);
        if (r < 0)
                return r;
        r = logs_client(p, cancel, &c);
        if (r < 0)
                return r;
        o = (KubeLogOptions) {
                .container = req->container,
                .tail_lines = req->tail_lines,
                .limit_bytes = req->limit_bytes,
                .follow = req->follow,
        };
        r = kube_pod_log(c, ns, req->pod, &o, log_forward, &f);
        /* "container x is not valid for pod y" is a 400 from the API server: no such container. */
        if (r == -EINVAL && kube_client_last_status(c) == 400)
                return -ENOENT;
        if (r < 0 && r != -ECANCELED && r != -ENOENT)
                log_struct_errno(LOG_WARNING, r, LOG_FIELDS("STORE_ID", s->id),
                                 "Reading the log of pod '%s' of store '%s' failed: %s", req->pod, s->name,
                                 kube_client_last_error(c));
        return r;
}
