/* SPDX-License-Identifier: Apache-2.0 */

/* What a ResourceQuota refused, from the namespace's Events, and whether it admits it now. */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/util.h"
#include "provision/quota.h"

void quota_refusal_note(QuotaRefusal *q, const char *key, const char *reason, const char *message)
{
        const char *req, *end;

        assert(q);
        if (!key || !streq_ptr(reason, "FailedCreate") || !message || !strstr(message, "exceeded quota"))
                return;
        /* "... exceeded quota: store-quota, requested: limits.memory=512Mi, used: ..., limited: ..." */
        req = strstr(message, "requested: ");
        if (!req)
                return;
        req += strlen("requested: ");
        end = strstr(req, ", used:");
        if (!end)
                end = req + strlen(req);
        snprintf(q->requested, sizeof q->requested, "%.*s", (int) (end - req), req);
        snprintf(q->seen, sizeof q->seen, "%s", key);
}

int parse_quantity_milli(const char *s, double *ret)
{
        static const struct {
                const char *suffix;
                double factor;
        } table[] = {
                { "n", 1e-9 },   { "u", 1e-6 },    { "m", 1e-3 },    { "", 1 },        { "k", 1e3 },
                { "M", 1e6 },    { "G", 1e9 },
                { "T", 1e12 },   { "P", 1e15 },    { "E", 1e18 },    { "Ki", 0x1p10 }, { "Mi", 0x1p20 },
                { "Gi", 0x1p30 }, { "Ti", 0x1p40 }, { "Pi", 0x1p50 }, { "Ei", 0x1p60 },
        };
        char *end;
        double v;

        if (!s || !*s)
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || !isfinite(v))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(end, table[i].suffix)) {
                        *ret = v * table[i].factor * 1e3;
                        return 0;
                }
        return -EINVAL;
}

bool quota_admits(json_t *quota, const char *requested)
{
        json_t *status = json_object_get(quota, "status");
        json_t *hard = json_object_get(status, "hard") ?: json_object_get(json_object_get(quota, "spec"), "hard");
        json_t *used = json_object_get(status, "used");
        _cleanup_free_ char *copy = strdup(requested);
        char *save = NULL;

        if (!copy)
                return false;
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(item, '=');
                double want, limit, have = 0;

                if (!eq)
                        continue;
                *eq = '\0';
                while (*item == ' ')
                        item++;
                if (!json_object_get(hard, item))
                        continue; /* another quota's resource */
                if (parse_quantity_milli(eq + 1, &want) < 0 ||
                    parse_quantity_milli(json_string_value(json_object_get(hard, item)), &limit) < 0)
                        return false;
                if (json_object_get(used, item) &&
                    parse_quantity_milli(json_string_value(json_object_get(used, item)), &have) < 0)
                        return false;
                if (have + want > limit)
                        return false;
        }
        return true;
}

