/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The create task: namespace, quota, policies, secrets, helm install, readiness; for a clone (payload
 * "clone"), then its backup restored into the new store (task-clone.c).
 */

#include <inttypes.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/store.h"
#include "provision/provision-internal.h"

int task_create(Job *j)
{
        _cleanup_free_ char *chart = NULL, *cloned = NULL;
        json_t *clone = json_object_get(j->t->payload, "clone");
        char reason[700] = "";
        int r, stop;

        j->steps = clone ? 9 : 7;
        j->expected = STORE_PROVISIONING;
        if (superseded(j, STORE_PROVISIONING))
                return 0;

        /* Back for another look at the workloads: everything before the wait is done. */
        if (streq_ptr(wait_resuming(j), "workloads")) {
                j->step = 7;
                goto wait;
        }

        /* Created while the nodes were full: wait for room without holding this worker (the queue brings the
         * task back every stores.capacity.recheck, and at once when a store's delete ends). */
        if (streq_ptr(j->store->step, STORE_STEP_WAITING_FOR_CAPACITY)) {
                r = provisioner_start_waiting(j->p, j->db, j->store, reason, sizeof reason);
                if (r == ERROR_NO_CAPACITY) {
                        set_waiting_reason(j, reason);
                        worker_wait_for_capacity(j->w);
                        return -EAGAIN;
                }
                if (r < 0)
                        return r;
                set_waiting_reason(j, NULL);
                (void) store_add_event(j->db, j->store->id, "system", "capacity.available",
                                       "The nodes have room for the store now; provisioning starts.");
        }

        begin_step(j, "connecting to the cluster");
        {
                _cleanup_free_ char *version = NULL;
                r = kube_server_version(j->kube, &version);
                if (r < 0)
                        return cluster_error(j, r, "The Kubernetes API server is not reachable");
        }
        set_waiting_reason(j, NULL);

        struct {
                const char *name;
                int (*fn)(Job *j);
        } steps[] = {
                { "creating namespace", step_namespace },
                { "applying quota and limits", step_quota },
                { "applying network policies", step_network_policies },
                { "creating secrets", step_secrets },
        };
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                r = job_checkpoint(j);
                if (r < 0)
                        return r;
                if (superseded(j, STORE_PROVISIONING))
                        return 0;
                begin_step(j, steps[i].name);
                r = steps[i].fn(j);
                if (r < 0)
                        return r;
        }

        r = job_checkpoint(j);
        if (r < 0)
                return r;
        if (superseded(j, STORE_PROVISIONING))
                return 0;
        begin_step(j, "helm install");
        r = find_chart(j, NULL, &chart);
        if (r < 0)
                return r;
        r = run_helm_install(j, chart, reason, sizeof reason);
        if (r == -EAGAIN) {
                char waiting[800];
                utf8_snprintf(waiting, sizeof waiting, "helm install will be retried: %s", reason);
                set_waiting_reason(j, waiting);
                return r;
        }
        if (r == -ECANCELED)
                return r;
        if (r < 0) {
                char msg[800];
                utf8_snprintf(msg, sizeof msg, "helm install failed: %s", reason);
                return fail_store(j, "store.failed", msg);
        }
        {
                _cleanup_free_ char *version = NULL;
                int64_t revision = 0;
                if (read_release(j, &revision, &version) >= 0)
                        (void) store_set_release(j->db, j->store->id, version, revision, NULL);
                if (revision > 1) /* the release was there before: a retry */
                        (void) nudge_workloads(j, NULL, 0);
        }

        begin_step(j, "waiting for workloads");
        r = wait_begin(j, "workloads", NULL);
        if (r < 0)
                return r;
wait:
        r = wait_for_workloads(j, STORE_PROVISIONING, reason, sizeof reason);
        stop = wait_interrupted(r);
        if (stop <= 0)
                return stop;
        if (r < 0)
                return fail_store(j, "store.failed", reason);

        if (clone) {
                r = clone_restore(j, clone, &cloned, reason, sizeof reason);
                if (r == -ECANCELED || r == -ESTALE || r == -ENOMEM)
                        return r;
                if (r < 0)
                        return cluster_error(j, r, "Restoring the backup into the new store failed");
                if (r > 0) {
                        char msg[800];
                        utf8_snprintf(msg, sizeof msg, "The store could not be made from its backup: %s",
                                      reason);
                        return fail_store(j, "store.clone_failed", msg);
                }
                r = worker_fence(j->w);
                if (r < 0)
                        return r;
                (void) store_add_event(j->db, j->store->id, "system", "store.cloned", cloned);
                log_struct(LOG_INFO,
                           LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id, "ACTION",
                                      "store.cloned"),
                           "Store %s: %s", j->store->name, cloned);
        }

        mark_ready(j, "store.ready", "All workloads are ready and the setup Job completed.", NULL);
        return 0;
}
