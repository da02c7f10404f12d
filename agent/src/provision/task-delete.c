/* SPDX-License-Identifier: Apache-2.0 */

/* The delete task: helm uninstall, then the namespace, and wait until it is gone. */

#include <inttypes.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/store.h"
#include "provision/provision-internal.h"

#define DELETE_TIMEOUT_USEC (300 * USEC_PER_SEC)

int task_delete(Job *j)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(json_decrefp) json_t *ns = NULL;
        HelmResult res = {};
        bool ours = false;
        int r;

        j->steps = 4;
        j->expected = STORE_DELETING;
        begin_step(j, "connecting to the cluster");
        {
                _cleanup_free_ char *version = NULL;
                r = kube_server_version(j->kube, &version);
                if (r < 0)
                        return cluster_error(j, r, "The Kubernetes API server is not reachable");
        }
        set_waiting_reason(j, NULL);

        r = kube_path(&path, "v1", "namespaces", NULL, j->ns);
        if (r < 0)
                return r;
        r = kube_get(j->kube, path, &ns);
        if (r < 0 && r != -ENOENT)
                return cluster_error(j, r, "Reading the namespace failed");
        if (r >= 0)
                ours = streq_ptr(json_string_value(json_object_get(
                                         json_object_get(json_object_get(ns, "metadata"), "labels"), LABEL_STORE_ID)),
                                 j->store->id);

        begin_step(j, "helm uninstall");
        if (ours) {
                r = helm_uninstall(&j->helm, j->store->name, j->ns, &res);
                if (r == -ECANCELED) {
                        helm_result_done(&res);
                        return r;
                }
                if (r >= 0)
                        add_helm_event(j->db, j->store->id, "helm uninstall", &res);
                if (r < 0 || res.exit_status != 0) {
                        char reason[600];
                        helm_reason(&res, reason, sizeof reason);
                        bool transient = r < 0 || helm_failed_for_the_cluster(j, &res);
                        helm_result_done(&res);
                        if (transient)
                                return -EAGAIN;
                        /* Deleting the namespace removes the release's objects anyway; say so and go on. */
                        (void) store_add_event(j->db, j->store->id, "system", "helm.uninstall_failed", reason);
                } else
                        helm_result_done(&res);
        }

        begin_step(j, "deleting namespace");
        if (ours) {
                r = kube_delete(j->kube, path, "Foreground");
                if (r < 0)
                        return cluster_error(j, r, "Deleting the namespace failed");
        } else if (r >= 0 && ns)
                (void) store_add_event(j->db, j->store->id, "system", "store.delete",
                                       "The namespace is not labelled as this store's; it was left alone.");

        begin_step(j, "waiting for the namespace to disappear");
        uint64_t deadline = mono_usec() + DELETE_TIMEOUT_USEC, started = mono_usec();
        while (ours) {
                _cleanup_(json_decrefp) json_t *cur = NULL;
                r = kube_get(j->kube, path, &cur);
                if (r == -ENOENT)
                        break;
                if (r < 0)
                        return cluster_error(j, r, "Watching the namespace go failed");
                const char *uid = json_string_value(json_object_get(json_object_get(cur, "metadata"), "uid"));
                const char *old_uid = json_string_value(json_object_get(json_object_get(ns, "metadata"), "uid"));
                if (!streq_ptr(uid, old_uid))
                        break; /* a new namespace of the same name: ours is gone */
                progress(j, "namespace %s terminating (%" PRIu64 " s)", j->ns, (mono_usec() - started) / USEC_PER_SEC);
                if (mono_usec() > deadline) {
                        char reason[600];
                        json_t *conds = json_object_get(json_object_get(cur, "status"), "conditions"), *c;
                        size_t i;
                        const char *why = NULL;
                        json_array_foreach(conds, i, c)
                                if (streq_ptr(json_string_value(json_object_get(c, "status")), "True"))
                                        why = json_string_value(json_object_get(c, "message"));
                        utf8_snprintf(reason, sizeof reason,
                                      "Namespace %s did not go away within %" PRIu64 " s%s%s", j->ns,
                                      DELETE_TIMEOUT_USEC / USEC_PER_SEC, why ? ": " : "", strna(why));
                        return fail_store(j, "store.delete_failed", reason);
                }
                r = worker_sleep(j->w, USEC_PER_SEC);
                if (r < 0)
                        return r;
        }

        r = worker_fence(j->w);
        if (r < 0)
                return r;
        (void) unlink(j->values_path);
        (void) store_add_event(j->db, j->store->id, "system", "store.deleted",
                               "Release uninstalled and namespace gone.");
        (void) store_set_status(j->db, j->store->id, STORE_DELETED, NULL);
        log_struct(LOG_INFO,
                   LOG_FIELDS("MESSAGE_ID", SA_MESSAGE_STORE_DELETED, "STORE_ID", j->store->id, "TASK_ID", j->task_id),
                   "Store %s deleted; nothing of it is left in the cluster.", j->store->name);
        return 0;
}
