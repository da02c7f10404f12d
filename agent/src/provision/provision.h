/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Provisioning: the task handlers that turn a queued task into Kubernetes
 * objects and a Helm release, and watch the cluster until the store is READY,
 * FAILED or gone. Also answers the API's questions about the cluster.
 */

#include <jansson.h>
#include <stdatomic.h>

#include "core/config.h"
#include "core/runner.h"
#include "core/store.h"

typedef struct Provisioner Provisioner;

int provisioner_new(Provisioner **ret, const Config *config);
/* Cancels the cluster reads in flight (capacity, usage, the reconciler's) for a stop; free joins. */
void provisioner_cancel(Provisioner *p);
Provisioner *provisioner_free(Provisioner *p);
void provisioner_reload(Provisioner *p, const Config *config);
/* Starts the reconciler: reports namespaces labelled as ours with no store, repairs releases a killed helm left pending. */
int provisioner_start(Provisioner *p, const char *db_path);

/* TaskHandler for the runner; userdata is the Provisioner. */
int provisioner_run_task(Worker *w, Task *t, void *userdata);
/* The runner's cluster_probe: 0 when the API server answers /readyz with 200, within 2 s. */
int provisioner_probe_cluster(void *userdata);

/* What the API asks of the cluster side (the daemon wires these into ApiHooks). */
/* {"reachable": bool, "detail": "..."}; answers from a cache, quickly. */
int provisioner_cluster_status(Provisioner *p, json_t **ret);
/*
 * Helm revision history of a store: [{revision, status, chart, app_version, updated, description}], read
 * with helm now. Only for stores whose history was never kept; tasks keep it (store_set_releases()).
 */
int provisioner_release_history(Provisioner *p, const Store *s, json_t **ret);
/* [{"version": "0.1.0"}, ...] chart versions available for upgrades. */
int provisioner_chart_versions(Provisioner *p, json_t **ret);
/*
 * The store's administrator credentials, read from its Secret now: {url, admin_url, username, password}.
 * Safe from any thread. -ENOENT: no Secret (or no admin keys in it); a kube error (kube.h) when the
 * cluster cannot be asked. The caller must not log *ret.
 */
int provisioner_store_credentials(Provisioner *p, const Store *s, json_t **ret);
/*
 * The pods of a store whose logs can be read, now: [{pod, component, phase, containers: [name...],
 * init_containers: [name...]}], sorted by pod name. Safe from any thread; a kube error when the cluster
 * cannot be asked.
 */
int provisioner_store_log_sources(Provisioner *p, const Store *s, json_t **ret);
/*
 * Reads one container's log of one of the store's pods into sink, on the calling thread, with a
 * Kubernetes client of its own: until the end of the log, or with req->follow until *cancel (or the
 * daemon's stop) or the sink ends it. -ENOENT: no such pod (or container) in the store's namespace;
 * -EINVAL: a pod or container name that cannot be one; otherwise a kube error (kube.h) or the sink's.
 */
int provisioner_store_logs(Provisioner *p, const Store *s, const StoreLogRequest *req,
                           const atomic_bool *cancel, StoreLogSink sink, void *userdata);
/*
 * Capacity (provision/capacity.h), read from the cluster now. provisioner_admit() is the store service's
 * admission (StoreAdmitFn; a store of chart_version, NULL for the configured chart's, needs what that
 * version reserves): 0 room, ERROR_NO_CAPACITY with the reason, a negative errno when the cluster
 * cannot tell. provisioner_capacity() is the model for the API: with details, the whole model; without,
 * only {"known", "fits"}; {"known": false, "detail"} when the cluster cannot be read.
 */
int provisioner_admit(Provisioner *p, Db *db, const char *chart_version, char *reason, size_t reason_len);
int provisioner_capacity(Provisioner *p, Db *db, bool details, json_t **ret);
/* A store created while the nodes were full (stores.capacity.when_full: wait) leaves its waiting step when
 * there is room: 0, it reserves its room now; ERROR_NO_CAPACITY with the reason while there is none. */
int provisioner_start_waiting(Provisioner *p, Db *db, const Store *s, char *reason, size_t reason_len);
/*
 * An upgrade of s to chart_version (StoreUpgradeAdmitFn): the new version's reservation, read from the
 * chart as a new store's is, less what the store holds now, must be free; one that needs no more is 0.
 * With start (the task of an upgrade that waits for room), the store leaves its waiting step when it fits.
 */
int provisioner_admit_upgrade(Provisioner *p, Db *db, const Store *s, const char *chart_version, bool start,
                              char *reason, size_t reason_len);
/*
 * Whether the store charts' CPU and memory can be known: {"metrics": "available" | "unavailable" |
 * "disabled", "reason" (when not available), "interval_seconds"}, from the usage sampler's last look at
 * the metrics.k8s.io API. Safe from any thread.
 */
int provisioner_usage_status(Provisioner *p, json_t **ret);
/* Namespaces labelled as ours without a store row. */
int provisioner_orphans(Provisioner *p, json_t **ret);
