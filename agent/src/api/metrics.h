/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Request counters and latency histograms by route and status, in Prometheus text format. */

#include <stdint.h>
#include <stdio.h>

#include "basic/macro.h"

typedef struct Metrics Metrics;

int metrics_new(Metrics **ret);
Metrics *metrics_free(Metrics *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Metrics *, metrics_free);

/* route is a template such as "/api/v1/stores/{id}"; it must outlive the Metrics object. */
void metrics_observe_request(Metrics *m, const char *method, const char *route, int status, double seconds);
void metrics_write_requests(Metrics *m, FILE *f);
