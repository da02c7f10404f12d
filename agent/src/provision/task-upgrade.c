/* SPDX-License-Identifier: Apache-2.0 */

/* The upgrade and rollback tasks: helm upgrade to a chart version (rolling back when it fails), helm rollback to a revision. */

#include <inttypes.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/error.h"
#include "core/store-settings.h"
#include "core/store.h"
#include "provision/provision-internal.h"

/* A settings change whose upgrade was rolled back: the store's settings are what its release runs again.
 * Returns the words for the store's reason, "" when the upgrade changed no settings. */
static const char *put_settings_back(Job *j)
{
        json_t *before = json_object_get(j->t->payload, "settings_before");
        int r;

        if (!json_is_object(before) || worker_fence(j->w) < 0)
                return "";
        r = store_settings_replace(j->db, j->store->id, before);
        if (r < 0) {
                log_struct_errno(LOG_WARNING, r, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id),
                                 "Putting back the settings of store %s after the rollback failed: %m",
                                 j->store->name);
                return " The new settings are kept but not applied.";
        }
        return " The settings are back as they were.";
}

/* What the wait after the upgrade (or after its rollback) needs when it ends, kept with the wait. */
static json_t *upgrade_wait_extra(int64_t old_revision, const char *old_version, const char *reason)
{
        return json_pack("{sIss*ss*}", "old_revision", (json_int_t) old_revision, "old_version", old_version,
                         "reason", reason);
}

int task_upgrade(Job *j)
{
        _cleanup_free_ char *chart = NULL, *old_version = NULL;
        const char *version = json_string_value(json_object_get(j->t->payload, "chart_version"));
        const char *resume;
        char reason[700] = "", rb_reason[600] = "", msg[1200];
        int64_t old_revision = 0;
        bool repaired;
        int r, stop;

        j->steps = 3;
        j->expected = STORE_UPGRADING;
        if (superseded(j, STORE_UPGRADING))
                return 0;
        resume = wait_resuming(j);
        if (resume) {
                /* Back for another look at the workloads, after the upgrade or after its rollback. */
                j->step = j->steps;
                old_revision = (int64_t) json_integer_value(json_object_get(j->wait, "old_revision"));
                old_version = strdup(strempty(json_string_value(json_object_get(j->wait, "old_version"))));
                if (!old_version)
                        return -ENOMEM;
                utf8_snprintf(reason, sizeof reason, "%s",
                              strempty(json_string_value(json_object_get(j->wait, "reason"))));
                if (streq(resume, "rollback"))
                        goto rollback_wait;
                goto upgrade_wait;
        }
        /* Asked while the nodes were full (stores.capacity.when_full: wait): wait for room without holding
         * this worker, as a create does; the store runs its old version meanwhile. */
        if (streq_ptr(j->store->step, STORE_STEP_WAITING_FOR_CAPACITY)) {
                r = provisioner_admit_upgrade(j->p, j->db, j->store, strna(version), true, reason,
                                              sizeof reason);
                if (r == ERROR_NO_CAPACITY) {
                        set_waiting_reason(j, reason);
                        worker_wait_for_capacity(j->w);
                        return -EAGAIN;
                }
                if (r < 0)
                        return r;
                set_waiting_reason(j, NULL);
                (void) store_add_event(j->db, j->store->id, "system", "capacity.available",
                                       "The nodes have room for the upgrade now; it starts.");
        }
        begin_step(j, "preparing upgrade");
        r = find_chart(j, version, &chart);
        if (r < 0) {
                utf8_snprintf(msg, sizeof msg, "Chart version %s is not available in %s.", strna(version),
                              j->set.chart_repository);
                r = worker_fence(j->w);
                if (r < 0)
                        return r;
                (void) store_add_event(j->db, j->store->id, "system", "store.upgrade_failed", msg);
                (void) store_set_status(j->db, j->store->id, STORE_READY, msg);
                return 0;
        }
        r = repair_pending_release(j, &repaired);
        if (r < 0)
                return r;
        /* The guardrails follow the agent: a store made by an older agent gets today's network policies
         * (egress included) when it is next upgraded, and a changed stores.egress.* applies then too. */
        r = step_network_policies(j);
        if (r < 0)
                return r;
        r = step_smtp_secret(j);
        if (r < 0)
                return r;
        r = read_release(j, &old_revision, &old_version);
        if (r < 0 && r != -ENOENT)
                return -EAGAIN;

        begin_step(j, "helm upgrade");
        r = run_helm_install(j, chart, reason, sizeof reason);
        if (r == -EAGAIN || r == -ECANCELED)
                return r;
        if (r >= 0) {
                begin_step(j, "waiting for workloads");
                r = wait_begin(j, "upgrade", upgrade_wait_extra(old_revision, old_version, NULL));
                if (r < 0)
                        return r;
        upgrade_wait:
                r = wait_for_workloads(j, STORE_UPGRADING, reason, sizeof reason);
                stop = wait_interrupted(r);
                if (stop <= 0)
                        return stop;
                if (r >= 0) {
                        char kept[600];
                        kept_claim_sizes(j, kept, sizeof kept);
                        utf8_snprintf(msg, sizeof msg, "Upgraded to chart version %s.%s", version, kept);
                        mark_ready(j, "store.upgraded", msg, NULL);
                        return 0;
                }
        }

        /* The upgrade failed: go back to what worked, and say so. */
        if (old_revision <= 0) {
                utf8_snprintf(msg, sizeof msg, "Upgrade to %s failed: %s", version, reason);
                return fail_store(j, "store.upgrade_failed", msg);
        }
        progress(j, "upgrade failed; rolling back to revision %" PRIi64, old_revision);
        r = rollback_to(j, (int) old_revision, rb_reason, sizeof rb_reason);
        if (r == -ECANCELED)
                return r;
        if (r >= 0) {
                r = wait_begin(j, "rollback", upgrade_wait_extra(old_revision, old_version, reason));
                if (r < 0)
                        return r;
        rollback_wait:
                r = wait_for_workloads(j, STORE_UPGRADING, rb_reason, sizeof rb_reason);
        }
        stop = wait_interrupted(r);
        if (stop <= 0)
                return stop;
        if (r < 0) {
                utf8_snprintf(msg, sizeof msg,
                              "Upgrade to %s failed (%s) and the rollback to revision %" PRIi64 " failed too: %s",
                              version, reason, old_revision, rb_reason);
                return fail_store(j, "store.upgrade_failed", msg);
        }
        utf8_snprintf(msg, sizeof msg,
                      "Upgrade to %s failed: %s; rolled back to revision %" PRIi64 " (chart %s).%s", version,
                      reason, old_revision, strna(old_version), put_settings_back(j));
        mark_ready(j, "store.upgrade_failed", msg, msg);
        return 0;
}

int task_rollback(Job *j)
{
        json_int_t revision = json_integer_value(json_object_get(j->t->payload, "revision"));
        char reason[700] = "", msg[900];
        bool repaired;
        int r, stop;

        j->steps = 2;
        j->expected = STORE_UPGRADING;
        if (superseded(j, STORE_UPGRADING))
                return 0;
        if (wait_resuming(j)) {
                j->step = j->steps;
                goto wait;
        }
        r = repair_pending_release(j, &repaired);
        if (r < 0)
                return r;
        begin_step(j, "helm rollback");
        r = rollback_to(j, (int) revision, reason, sizeof reason);
        if (r == -EAGAIN || r == -ECANCELED)
                return r;
        if (r < 0) {
                /* A rollback helm refused (no such revision) leaves the release as it was. */
                utf8_snprintf(msg, sizeof msg, "Rollback to revision %" JSON_INTEGER_FORMAT " failed: %s",
                              revision, reason);
                mark_ready(j, "store.rollback_failed", msg, msg);
                return 0;
        }
        begin_step(j, "waiting for workloads");
        r = wait_begin(j, "rollback", NULL);
        if (r < 0)
                return r;
wait:
        r = wait_for_workloads(j, STORE_UPGRADING, reason, sizeof reason);
        stop = wait_interrupted(r);
        if (stop <= 0)
                return stop;
        if (r < 0) {
                utf8_snprintf(msg, sizeof msg,
                              "Rollback to revision %" JSON_INTEGER_FORMAT " did not become ready: %s",
                              revision, reason);
                return fail_store(j, "store.failed", msg);
        }
        utf8_snprintf(msg, sizeof msg, "Rolled back to revision %" JSON_INTEGER_FORMAT ".", revision);
        mark_ready(j, "store.rolled_back", msg, NULL);
        return 0;
}
