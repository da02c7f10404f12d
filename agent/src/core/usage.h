/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A store's resource use over time: samples the provisioner takes of its pods' CPU and memory (from
 * the cluster's metrics.k8s.io API) and of what its namespace's quota allows, kept in SQLite for a
 * bounded time and number of rows, and read back for the store's charts.
 */

#include <jansson.h>
#include <stdint.h>

#include "core/db.h"

/* The most samples one read returns (a day at a sample every 10 s). */
#define USAGE_SAMPLES_MAX 8640U

/* One sample. A negative amount is unknown (NULL in the table, null in JSON). */
typedef struct UsageSample {
        uint64_t at_usec;
        int64_t cpu_millicores;     /* the pods' CPU together; unknown without the metrics API */
        int64_t memory_bytes;       /* the pods' memory working set together; unknown likewise */
        int64_t cpu_quota_millicores, memory_quota_bytes;       /* the quota's limits.cpu, limits.memory */
        int64_t storage_requested_bytes, storage_quota_bytes;   /* the claims' requests, requests.storage */
        json_t *pods; /* [{"name", "cpu_millicores", "memory_bytes"}] (borrowed), or NULL */
} UsageSample;

int usage_record(Db *db, const char *store_id, const UsageSample *s);

/*
 * The store's samples taken at or after since_usec, oldest first: [{"at", "cpu_millicores",
 * "memory_bytes", "cpu_quota_millicores", "memory_quota_bytes", "storage_requested_bytes",
 * "storage_quota_bytes", "pods"}], at most max of the newest.
 */
int usage_history(Db *db, const char *store_id, uint64_t since_usec, uint64_t max, json_t **ret);

/* What the metrics say without a provisioner to ask: {"metrics": "unavailable", "reason",
 * "interval_seconds": 0}, or NULL when memory ran out. */
json_t *usage_status_unavailable(void);

/*
 * The store's use over the last window_sec before now_usec, as the REST API and D-Bus answer it: status
 * (the provisioner's word on the metrics API; taken, also on failure) with "store", "window_seconds"
 * and the "samples" of usage_history().
 */
int usage_answer(Db *db, const char *store_id, json_t *status, uint64_t window_sec, uint64_t now_usec,
                 json_t **ret);

/* Removes the samples taken before before_usec, and each store's beyond its newest keep_per_store. */
int usage_prune(Db *db, uint64_t before_usec, uint64_t keep_per_store);

/* The READY stores, whose use is sampled: [{"id", "name"}]. */
int usage_stores_to_sample(Db *db, json_t **ret);
