/* SPDX-License-Identifier: Apache-2.0 */

/* The reconciler thread: namespaces labelled as ours with no store, releases left pending with no task. */

#include <inttypes.h>

#include "basic/log.h"
#include "basic/util.h"
#include "core/store.h"
#include "provision/provision-internal.h"

/* ---- reconciliation ---- */

static bool reconciler_sleep(Provisioner *p, unsigned seconds)
{
        for (unsigned i = 0; i < seconds * 5; i++) {
                if (atomic_load(&p->stopping))
                        return false;
                usleep(200 * 1000);
        }
        return !atomic_load(&p->stopping);
}

/* Rolls back (or uninstalls) a release a killed helm left pending, for a store no task is working on. */
static void repair_idle_release(Provisioner *p, Db *db, const ProvisionSettings *set, Store *s)
{
        _cleanup_free_ char *ns = NULL, *helm_dir = NULL;
        bool repaired;

        if (store_namespace_name(s->name, &ns) < 0 || asprintf(&helm_dir, "%s/helm", set->state_dir) < 0)
                return; /* out of memory: the next start tries again */
        HelmContext h = { .binary = set->helm_binary, .kubeconfig = set->kubeconfig, .state_dir = helm_dir,
                          .timeout_sec = (unsigned) set->helm_timeout_sec, .cancel = &p->stopping };
        (void) repair_release(db, &h, s, ns, NULL, "at startup with no task running", false,
                             &repaired);
}

static void reconcile_once(Provisioner *p, Db *db, bool first)
{
        _cleanup_(json_decrefp) json_t *list = NULL, *orphans = NULL;
        _cleanup_(kube_client_freep) KubeClient *kube = NULL;
        ProvisionSettings set;
        json_t *ns;
        size_t i;

        if (settings_copy(p, &set, NULL) < 0)
                return;
        if (make_client(set.kubeconfig, &kube, NULL) < 0)
                goto out;
        kube_client_set_cancel(kube, &p->stopping);
        if (kube_list(kube, "/api/v1/namespaces", LABEL_MANAGED_BY "=storeagent", &list) < 0)
                goto out;

        orphans = json_array();
        json_array_foreach(json_object_get(list, "items"), i, ns) {
                json_t *meta = json_object_get(ns, "metadata");
                const char *name = json_string_value(json_object_get(meta, "name"));
                const char *id = json_string_value(json_object_get(json_object_get(meta, "labels"), LABEL_STORE_ID));
                _cleanup_(store_freep) Store *s = NULL;

                if (!name)
                        continue;
                if (!id || store_get(db, id, &s) < 0 || s->status == STORE_DELETED) {
                        json_array_append_new(orphans, json_pack("{s:s, s:s?}", "namespace", name, "store_id", id));
                        if (first)
                                log_struct(LOG_WARNING,
                                           LOG_FIELDS("MESSAGE_ID", SA_MESSAGE_ORPHAN_NAMESPACE, "NAMESPACE", name,
                                                      "STORE_ID", id),
                                           "Namespace %s is labelled as storeagent's but no store owns it; leaving it alone.",
                                           name);
                        continue;
                }
                bool busy;
                if (first && store_has_active_task(db, s->id, &busy) >= 0 && !busy)
                        repair_idle_release(p, db, &set, s);
        }
        pthread_mutex_lock(&p->status_lock);
        json_decref(p->orphans);
        p->orphans = TAKE_PTR(orphans);
        pthread_mutex_unlock(&p->status_lock);
out:
        settings_done(&set);
}

static void *reconciler_main(void *arg)
{
        Provisioner *p = arg;
        _cleanup_(db_closep) Db *db = NULL;
        bool first = true;

        if (db_open(p->db_path, &db) < 0)
                return NULL;
        while (!atomic_load(&p->stopping)) {
                json_t *st = NULL;
                bool reachable = provisioner_cluster_status(p, &st) >= 0 && json_is_true(json_object_get(st, "reachable"));
                json_decref(st);
                if (reachable) {
                        reconcile_once(p, db, first);
                        first = false;
                }
                if (!reconciler_sleep(p, first ? 5 : 60))
                        break;
        }
        return NULL;
}

int provisioner_start(Provisioner *p, const char *db_path)
{
        assert(p);
        assert(db_path);
        p->db_path = strdup(db_path);
        if (!p->db_path)
                return -ENOMEM;
        int r = pthread_create(&p->reconciler, NULL, reconciler_main, p);
        if (r != 0)
                return -r;
        p->reconciler_started = true;
        return usage_sampler_start(p);
}
