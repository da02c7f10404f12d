/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The provisioner's answers about room on the cluster (provision/provision.h): the admission of a new
 * store and the model GET /api/v1/platform, /metrics and D-Bus show, read from the cluster when asked.
 */

#include "basic/log.h"
#include "basic/util.h"
#include "core/error.h"
#include "provision/provision-internal.h"

/* Reads the model now. The caller holds capacity_lock. */
static int read_model(Provisioner *p, Db *db, json_t **ret, char **ret_reason)
{
        _cleanup_(json_decrefp) json_t *nodes = NULL, *pods = NULL, *names = NULL;
        _cleanup_free_ char *kubeconfig = NULL, *error = NULL;
        _cleanup_(settings_done) ProvisionSettings set = {};
        uint64_t generation;
        int r;

        r = settings_copy(p, &set, &generation);
        if (r < 0)
                return r;
        kubeconfig = strdup(set.kubeconfig);
        if (!kubeconfig)
                return -ENOMEM;
        /* The chart is rendered once per configuration: a reload may change the quota, the chart or its values. */
        if (!p->capacity_need_source || p->capacity_need_generation != generation) {
                free(p->capacity_need_source);
                p->capacity_need_source = NULL;
                r = read_store_needs(&set, &p->capacity_need, &p->capacity_need_source);
                if (r < 0)
                        return r;
                if (!p->capacity_need_source)
                        return -ENOMEM;
                p->capacity_need_generation = generation;
        }

        if (p->capacity_client && p->capacity_generation != generation)
                p->capacity_client = kube_client_free(p->capacity_client);
        if (!p->capacity_client) {
                r = make_client(kubeconfig, &p->capacity_client, &error);
                if (r < 0)
                        return r;
                kube_client_set_cancel(p->capacity_client, &p->stopping);
                p->capacity_generation = generation;
        }
        r = kube_list(p->capacity_client, "/api/v1/nodes", NULL, &nodes);
        if (r >= 0)
                /* Only pods that hold room: Pending ones bound to a node too, finished ones not. */
                r = kube_list(p->capacity_client,
                              "/api/v1/pods?fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed", NULL,
                              &pods);
        if (r < 0)
                return r;
        r = store_active_names(db, &names);
        if (r < 0)
                return r;
        r = capacity_model(nodes, pods, names, &p->capacity_need, set.overcommit_percent, ret, ret_reason);
        if (r >= 0)
                json_object_set_new(*ret, "store_needs_from", json_string(p->capacity_need_source));
        return r;
}

int provisioner_admit(Provisioner *p, Db *db, char *reason, size_t reason_len)
{
        _cleanup_(json_decrefp) json_t *model = NULL;
        _cleanup_free_ char *why = NULL;
        int r;

        assert(p);
        assert(db);
        pthread_mutex_lock(&p->capacity_lock);
        r = read_model(p, db, &model, &why);
        pthread_mutex_unlock(&p->capacity_lock);
        if (r < 0) {
                log_warning_errno(r, "Cannot tell whether the cluster has room for a new store, admitting it: %m");
                return r;
        }
        if (!why)
                return 0;
        log_info("New store refused: %s", why);
        snprintf(reason, reason_len, "%s", why);
        return ERROR_NO_CAPACITY;
}

int provisioner_capacity(Provisioner *p, Db *db, bool details, json_t **ret)
{
        _cleanup_(json_decrefp) json_t *model = NULL;
        int r;

        assert(p);
        assert(db);
        assert(ret);
        pthread_mutex_lock(&p->capacity_lock);
        r = read_model(p, db, &model, NULL);
        pthread_mutex_unlock(&p->capacity_lock);
        if (r < 0) {
                char detail[512];
                pthread_mutex_lock(&p->capacity_lock);
                snprintf(detail, sizeof detail, "The nodes and pods could not be read: %s",
                         p->capacity_client ? strna(kube_client_last_error(p->capacity_client)) : strerror(-r));
                pthread_mutex_unlock(&p->capacity_lock);
                *ret = json_pack("{s:b, s:s}", "known", 0, "detail", detail);
                return *ret ? 0 : -ENOMEM;
        }
        if (!details) {
                *ret = json_pack("{s:b, s:O}", "known", 1, "fits", json_object_get(model, "fits"));
                return *ret ? 0 : -ENOMEM;
        }
        *ret = TAKE_PTR(model);
        return 0;
}

int provisioner_start_waiting(Provisioner *p, Db *db, const Store *s, char *reason, size_t reason_len)
{
        _cleanup_(json_decrefp) json_t *model = NULL;
        _cleanup_free_ char *why = NULL;
        int r;

        assert(p);
        assert(db);
        assert(s);
        /* The same lock as creates take: a store that starts here is counted by the next create, and the
         * other way round. */
        store_admission_lock();
        pthread_mutex_lock(&p->capacity_lock);
        r = read_model(p, db, &model, &why); /* this store waits, so it reserves nothing in it yet */
        pthread_mutex_unlock(&p->capacity_lock);
        if (r >= 0 && why) {
                store_admission_unlock();
                snprintf(reason, reason_len, "%s", why);
                return ERROR_NO_CAPACITY;
        }
        if (r < 0)
                log_warning_errno(r, "Cannot tell whether the cluster has room for store %s, starting it: %m", s->name);
        r = store_set_progress(db, s->id, "queued", 0, 0);
        store_admission_unlock();
        return r < 0 ? r : 0;
}
