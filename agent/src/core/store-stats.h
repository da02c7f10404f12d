/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The platform's numbers over time, for admins: how many stores were in each status at each of a
 * series of times (counted back from today's stores through the status changes schema 13 keeps),
 * and how long the last creates took from the request to READY (from each store's timeline).
 */

#include <jansson.h>
#include <stdint.h>

#include "core/db.h"

/* The most points one status history has, and the most creates one read of provisioning times covers. */
#define STORE_STATS_POINTS_MAX 500U
#define STORE_STATS_CREATES_MAX 1000U

/*
 * The count of stores of each status but DELETED at points evenly spaced from from_usec to to_usec
 * (both included): {"points": [{"at", "counts": {"PROVISIONING": n, ...}}], "complete_since"}. The
 * counts are exact back to complete_since (null: the whole window), before which a point has
 * "counts": null: kept_since_usec, before which changes are pruned by age (0: none), or, when
 * keep_max changes are kept and older ones were pruned, the oldest kept change.
 */
int store_status_history(Db *db, uint64_t from_usec, uint64_t to_usec, unsigned points,
                         uint64_t kept_since_usec, uint64_t keep_max, json_t **ret);

/*
 * The last n stores created that became READY, newest first, each with the seconds from its create
 * to its first READY: {"creates": [{"id", "name", "created_at", "ready_at", "seconds"}], "p50_seconds",
 * "p95_seconds"} (the percentiles by nearest rank, null without creates).
 */
int store_provision_times(Db *db, uint64_t n, json_t **ret);

/* Removes the status changes before before_usec, and beyond the newest keep_max. */
int store_transitions_prune(Db *db, uint64_t before_usec, uint64_t keep_max);
