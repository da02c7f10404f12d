/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The provisioner's answers about room on the cluster (provision/provision.h): the admission of a new
 * store and the model GET /api/v1/platform, /metrics and D-Bus show, read from the cluster when asked.
 */

#include <unistd.h>

#include "basic/log.h"
#include "basic/util.h"
#include "core/error.h"
#include "provision/provision-internal.h"

/* The version in a chart directory's Chart.yaml; NULL when it says none. */
static char *chart_dir_version(const char *chart_path)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        const char *v;

        if (asprintf(&path, "%s/Chart.yaml", chart_path) < 0 || read_file(path, 65536, &text, NULL) < 0)
                return NULL;
        v = strstr(text, "\nversion: ");
        if (!v)
                return NULL;
        v += strlen("\nversion: ");
        return strndup(v, strcspn(v, "\n \r\"'"));
}

/* What a store of chart version `version` reserves: the configured chart's need for its own version (and
 * for a store that names none, or a version no longer in the repository), else that version's chart
 * rendered once per configuration. The caller holds capacity_lock, with this generation's need read. */
static int version_needs(Provisioner *p, const ProvisionSettings *set, const char *version,
                         CapacityAmounts *ret)
{
        _cleanup_free_ char *tgz = NULL;
        json_t *known;
        int r;

        *ret = p->capacity_need;
        if (!version || streq_ptr(version, p->capacity_need_version))
                return 0;
        known = json_object_get(p->capacity_version_needs, version);
        if (known) {
                for (int k = 0; k < _CAPACITY_RESOURCE_MAX; k++)
                        ret->v[k] = json_real_value(json_array_get(known, k));
                return 0;
        }
        if (asprintf(&tgz, "%s/store-woocommerce-%s.tgz", set->chart_repository, version) < 0)
                return -ENOMEM;
        if (access(tgz, R_OK) < 0)
                return 0;
        r = read_store_needs(set, tgz, ret, NULL);
        if (r < 0)
                return r;
        known = json_pack("[f, f, f]", ret->v[CAPACITY_CPU], ret->v[CAPACITY_MEMORY], ret->v[CAPACITY_PODS]);
        if (!known || json_object_set_new(p->capacity_version_needs, version, known) < 0)
                return -ENOMEM;
        return 0;
}

/* Reads the model now, for a new store of chart version `version` (NULL: the configured chart's); with
 * ret_set, the settings it was read with. The caller holds capacity_lock. */
static int read_model_with(Provisioner *p, Db *db, const char *version, json_t **ret, char **ret_reason,
                           ProvisionSettings *ret_set)
{
        _cleanup_(json_decrefp) json_t *nodes = NULL, *pods = NULL, *stores = NULL, *names = NULL;
        _cleanup_free_ char *kubeconfig = NULL, *error = NULL;
        _cleanup_(settings_done) ProvisionSettings set = {};
        CapacityAmounts extra = {}, need;
        uint64_t generation;
        json_t *st;
        size_t i;
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
                free(p->capacity_need_version);
                p->capacity_need_version = chart_dir_version(set.chart_path);
                json_decref(p->capacity_version_needs);
                p->capacity_version_needs = json_object();
                if (!p->capacity_version_needs)
                        return -ENOMEM;
                r = read_store_needs(&set, NULL, &p->capacity_need, &p->capacity_need_source);
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
        /* What the new store needs; each active store reserves it plus its extra (which may be negative). */
        r = version_needs(p, &set, version, &need);
        if (r < 0)
                return r;
        r = store_active_reservations(db, &stores);
        if (r < 0)
                return r;
        names = json_array();
        if (!names)
                return -ENOMEM;
        /* A store of another chart version reserves that version's need; one upgrading, the larger of
         * both. */
        json_array_foreach(stores, i, st) {
                const char *to = json_string_value(json_object_get(st, "upgrade_to"));
                CapacityAmounts has, will;

                if (json_array_append(names, json_object_get(st, "name")) < 0)
                        return -ENOMEM;
                r = version_needs(p, &set, json_string_value(json_object_get(st, "chart_version")), &has);
                if (r >= 0 && to)
                        r = version_needs(p, &set, to, &will);
                if (r < 0)
                        return r;
                for (int k = 0; k < _CAPACITY_RESOURCE_MAX; k++)
                        extra.v[k] += (to ? MAX(has.v[k], will.v[k]) : has.v[k]) - need.v[k];
        }
        r = capacity_model(nodes, pods, names, &need, &extra, set.overcommit_percent, ret,
                           ret_reason);
        if (r >= 0)
                json_object_set_new(*ret, "store_needs_from", json_string(p->capacity_need_source));
        if (r >= 0 && ret_set) {
                *ret_set = set;
                set = (ProvisionSettings) {};
        }
        return r;
}

static int read_model(Provisioner *p, Db *db, const char *version, json_t **ret, char **ret_reason)
{
        return read_model_with(p, db, version, ret, ret_reason, NULL);
}

int provisioner_admit(Provisioner *p, Db *db, const char *chart_version, char *reason, size_t reason_len)
{
        _cleanup_(json_decrefp) json_t *model = NULL;
        _cleanup_free_ char *why = NULL;
        int r;

        assert(p);
        assert(db);
        pthread_mutex_lock(&p->capacity_lock);
        r = read_model(p, db, chart_version, &model, &why);
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
        r = read_model(p, db, NULL, &model, NULL);
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
        /* This store waits, so it reserves nothing in the model yet; it needs its own version's room. */
        r = read_model(p, db, s->chart_version, &model, &why);
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

int provisioner_admit_upgrade(Provisioner *p, Db *db, const Store *s, const char *chart_version, bool start,
                              char *reason, size_t reason_len)
{
        _cleanup_(json_decrefp) json_t *model = NULL;
        _cleanup_(settings_done) ProvisionSettings set = {};
        CapacityAmounts has, will;
        int r, short_of = -1;
        double more = 0, free_ = 0;

        assert(p);
        assert(db);
        assert(s);
        assert(chart_version);
        if (start)
                store_admission_lock(); /* the create's lock, as provisioner_start_waiting() takes it */
        pthread_mutex_lock(&p->capacity_lock);
        /* A waiting upgrade's store holds what it runs now in this model; an admitted one, both. */
        r = read_model_with(p, db, NULL, &model, NULL, &set);
        if (r >= 0)
                r = version_needs(p, &set, s->chart_version, &has);
        if (r >= 0)
                r = version_needs(p, &set, chart_version, &will);
        pthread_mutex_unlock(&p->capacity_lock);
        if (r >= 0)
                for (int k = 0; k < _CAPACITY_RESOURCE_MAX && short_of < 0; k++) {
                        json_t *f = json_object_get(json_object_get(model, "free"),
                                                    capacity_resource_to_string(k));
                        more = will.v[k] - has.v[k];
                        free_ = (double) json_integer_value(f);
                        if (more > 0 && more > free_)
                                short_of = k;
                }
        if (r < 0)
                log_warning_errno(r, "Cannot tell whether the cluster has room to upgrade store %s, "
                                  "admitting it: %m", s->name);
        else if (short_of >= 0) {
                char needs[32], has_free[32];
                capacity_format(short_of, more, needs, sizeof needs);
                capacity_format(short_of, free_, has_free, sizeof has_free);
                snprintf(reason, reason_len,
                         "The cluster has no room for this upgrade: chart %s needs %s more %s than store "
                         "%s holds now, %s is free on the schedulable nodes. Delete a store, add a node, or "
                         "raise stores.capacity.overcommit_percent.",
                         chart_version, needs, capacity_resource_to_string(short_of), s->name, has_free);
                if (start)
                        store_admission_unlock();
                else
                        log_info("Upgrade of store %s refused: %s", s->name, reason);
                return ERROR_NO_CAPACITY;
        }
        r = start ? store_set_progress(db, s->id, "queued", 0, 0) : 0;
        if (start)
                store_admission_unlock();
        return r < 0 ? r : 0;
}
