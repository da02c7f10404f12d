/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What a ResourceQuota refused, from the namespace's Events, and whether it admits it now. */

#include <jansson.h>
#include <stdbool.h>

/* A spec.hard key no pod uses: adding it and taking it away makes the quota controller count usage again. */
#define QUOTA_RECOUNT_KEY "count/recounts.storeagent.io"

/* The latest pod creation a ResourceQuota refused, as the namespace's Events tell it. */
typedef struct QuotaRefusal {
        char seen[160];      /* the Event (uid/count) that told of it */
        char acted[160];     /* the Event the last nudge answered */
        char recounted[160]; /* the Event for which the quota's usage was last recounted */
        char requested[256]; /* what the pod asked for: "limits.memory=512Mi,requests.cpu=250m" */
} QuotaRefusal;

/* Notes a FailedCreate Event that says "exceeded quota"; other Events are ignored. */
void quota_refusal_note(QuotaRefusal *q, const char *key, const char *reason, const char *message);
/* A Kubernetes quantity ("500m", "1.5", "512Mi", "2G") in thousandths. */
int parse_quantity_milli(const char *s, double *ret);
/* Whether one ResourceQuota admits "res=qty,res=qty" on top of what it counts as used now
 * (resources it does not limit are another quota's business). */
bool quota_admits(json_t *quota, const char *requested);
