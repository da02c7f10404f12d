/* SPDX-License-Identifier: Apache-2.0 */

/* What the API asks of the cluster side, answered from caches and helm. */

#include <dirent.h>
#include <inttypes.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/store.h"
#include "provision/provision-internal.h"

#define CLUSTER_STATUS_TTL_USEC (5 * USEC_PER_SEC)

/* ---- answers for the API ---- */

/*
 * Asks the API server for its version, at most once per CLUSTER_STATUS_TTL_USEC. The probe runs
 * outside status_lock so that readers get the cached answer at once, and only one probe runs at
 * a time (whoever finds probe_lock taken uses the cache).
 */
int provisioner_cluster_status(Provisioner *p, json_t **ret)
{
        assert(p);
        assert(ret);
        bool stale;

        pthread_mutex_lock(&p->status_lock);
        stale = p->status_checked == 0 || mono_usec() - p->status_checked > CLUSTER_STATUS_TTL_USEC;
        pthread_mutex_unlock(&p->status_lock);

        if (stale && pthread_mutex_trylock(&p->probe_lock) == 0) {
                _cleanup_free_ char *version = NULL, *error = NULL, *kubeconfig = NULL, *detail = NULL;
                uint64_t generation;
                int r;

                pthread_mutex_lock(&p->lock);
                kubeconfig = strdup(p->set.kubeconfig);
                generation = p->generation;
                pthread_mutex_unlock(&p->lock);

                if (p->status_client && p->status_generation != generation)
                        p->status_client = kube_client_free(p->status_client);
                r = !kubeconfig ? -ENOMEM : p->status_client ? 0 : make_client(kubeconfig, &p->status_client, &error);
                if (r >= 0) {
                        p->status_generation = generation;
                        kube_client_set_cancel(p->status_client, &p->stopping);
                        r = kube_server_version(p->status_client, &version);
                }
                if (r >= 0)
                        detail = TAKE_PTR(version);
                else /* it may quote a kubeconfig path, any bytes; the answer is JSON */
                        detail = utf8_escape_invalid(error ?: (p->status_client
                                                                       ? kube_client_last_error(p->status_client)
                                                                       : strerror(-r)));

                pthread_mutex_lock(&p->status_lock);
                p->reachable = r >= 0;
                free(p->status_detail);
                p->status_detail = TAKE_PTR(detail);
                p->status_checked = mono_usec();
                pthread_mutex_unlock(&p->status_lock);
                pthread_mutex_unlock(&p->probe_lock);
        }

        pthread_mutex_lock(&p->status_lock);
        *ret = json_pack("{s:b, s:s}", "reachable", p->reachable && p->status_checked != 0, "detail",
                         p->status_checked ? strna(p->status_detail) : "not checked yet");
        pthread_mutex_unlock(&p->status_lock);
        return *ret ? 0 : -ENOMEM;
}

int release_history_read(const HelmContext *h, const char *release, const char *namespace, json_t **ret)
{
        _cleanup_(json_decrefp) json_t *history = NULL;
        json_t *items, *e;
        size_t i;
        int r;

        assert(h);
        assert(ret);
        r = helm_history(h, release, namespace, &history, NULL);
        if (r == -ENOENT) {
                *ret = json_array();
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        items = json_array();
        if (!items)
                return -ENOMEM;
        json_array_foreach(history, i, e)
                json_array_append_new(items, json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}", "revision",
                                                       json_object_get(e, "revision") ?: json_null(), "status",
                                                       json_object_get(e, "status") ?: json_null(), "chart",
                                                       json_object_get(e, "chart") ?: json_null(), "app_version",
                                                       json_object_get(e, "app_version") ?: json_null(), "updated",
                                                       json_object_get(e, "updated") ?: json_null(), "description",
                                                       json_object_get(e, "description") ?: json_null()));
        *ret = items;
        return 0;
}

int provisioner_release_history(Provisioner *p, const Store *s, json_t **ret)
{
        _cleanup_free_ char *ns = NULL, *helm_dir = NULL;
        ProvisionSettings set;
        int r;

        assert(p);
        assert(s);
        assert(ret);
        r = store_namespace_name(s->name, &ns);
        if (r < 0)
                return r;
        r = settings_copy(p, &set, NULL);
        if (r < 0)
                return r;
        if (asprintf(&helm_dir, "%s/helm", set.state_dir) < 0) {
                settings_done(&set);
                return -ENOMEM;
        }
        HelmContext h_ctx = { .binary = set.helm_binary, .kubeconfig = set.kubeconfig, .state_dir = helm_dir, .timeout_sec = 30 };
        r = release_history_read(&h_ctx, s->name, ns, ret);
        settings_done(&set);
        return r;
}

static int add_version(json_t *list, const char *v)
{
        json_t *e;
        size_t i;
        json_array_foreach(list, i, e)
                if (streq_ptr(json_string_value(json_object_get(e, "version")), v))
                        return 0;
        return json_array_append_new(list, json_pack("{s:s}", "version", v));
}

int provisioner_chart_versions(Provisioner *p, json_t **ret)
{
        assert(p);
        assert(ret);
        _cleanup_free_ char *chart_yaml = NULL, *text = NULL, *repo = NULL;
        json_t *list = json_array();
        DIR *d;

        pthread_mutex_lock(&p->lock);
        repo = strdup(p->set.chart_repository);
        if (asprintf(&chart_yaml, "%s/Chart.yaml", p->set.chart_path) < 0)
                chart_yaml = NULL;
        pthread_mutex_unlock(&p->lock);
        if (!list || !repo || !chart_yaml) {
                json_decref(list);
                return -ENOMEM;
        }
        if (read_file(chart_yaml, 65536, &text, NULL) >= 0) {
                const char *v = strstr(text, "\nversion: ");
                if (v) {
                        _cleanup_free_ char *version = NULL;
                        v += 10;
                        version = strndup(v, strcspn(v, "\n \r\""));
                        if (version)
                                add_version(list, version);
                }
        }
        d = opendir(repo);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        size_t n = strlen(de->d_name);
                        const char *prefix = "store-woocommerce-";
                        if (n > strlen(prefix) + 4 && strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
                            streq(de->d_name + n - 4, ".tgz")) {
                                _cleanup_free_ char *version = strndup(de->d_name + strlen(prefix),
                                                                       n - strlen(prefix) - 4);
                                if (version)
                                        add_version(list, version);
                        }
                }
                closedir(d);
        }
        *ret = list;
        return 0;
}

int provisioner_orphans(Provisioner *p, json_t **ret)
{
        assert(p);
        assert(ret);
        pthread_mutex_lock(&p->status_lock);
        *ret = json_copy(p->orphans);
        pthread_mutex_unlock(&p->status_lock);
        return *ret ? 0 : -ENOMEM;
}
