/* SPDX-License-Identifier: Apache-2.0 */

/* storectl usage: the latest sample of a store's resource use against its quota, each pod's use, and
 * the last hour's peak (the D-Bus method GetStoreUsage). */

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>

#include "basic/util.h"
#include "storectl/storectl-args.h"
#include "storectl/storectl-bus.h"
#include "storectl/storectl-output.h"
#include "storectl/storectl-usage.h"

static const char *cpu_text(char buf[static 32], json_t *v)
{
        int64_t m = json_integer_value(v);

        if (!json_is_integer(v))
                return "-";
        if (m < 1000)
                snprintf(buf, 32, "%" PRId64 "m", m);
        else
                snprintf(buf, 32, "%.2f cores", (double) m / 1000);
        return buf;
}

static const char *bytes_text(char buf[static 32], json_t *v)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double n = (double) json_integer_value(v);
        size_t i = 0;

        if (!json_is_integer(v))
                return "-";
        while (n >= 1024 && i < ELEMENTSOF(units) - 1) {
                n /= 1024;
                i++;
        }
        snprintf(buf, 32, i == 0 ? "%.0f %s" : "%.1f %s", n, units[i]);
        return buf;
}

/* "300m of 4.00 cores (8%), peak 310m" */
static void amount_line(const char *label, json_t *samples, const char *key, const char *quota_key,
                        const char *(*text)(char[static 32], json_t *))
{
        json_t *last = json_array_get(samples, json_array_size(samples) - 1);
        json_t *v = json_object_get(last, key), *q = json_object_get(last, quota_key), *s, *peak = NULL;
        char a[32], b[32], c[32];
        size_t i;

        json_array_foreach(samples, i, s) {
                json_t *x = json_object_get(s, key);
                if (json_is_integer(x) && (!peak || json_integer_value(x) > json_integer_value(peak)))
                        peak = x;
        }
        printf("%-9s %s", label, text(a, v));
        if (json_is_integer(v) && json_is_integer(q) && json_integer_value(q) > 0)
                printf(" of %s (%" PRId64 "%%)", text(b, q),
                       (int64_t) (json_integer_value(v) * 100 / json_integer_value(q)));
        else if (!json_is_integer(q))
                printf(" (no quota)");
        if (peak)
                printf(", peak %s in the last hour", text(c, peak));
        printf("\n");
}

int verb_usage(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *res = NULL;
        json_t *samples, *last, *pod;
        char a[32], b[32];
        size_t i;
        int r;

        r = CALL_JSON(bus, "GetStoreUsage", &res, "s", args[0]);
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(res);
                return EXIT_OK;
        }
        samples = json_object_get(res, "samples");
        if (streq_ptr(jstr(res, "metrics"), "available"))
                printf("Metrics:  available (sampled every %" PRId64 " s)\n",
                       (int64_t) json_integer_value(json_object_get(res, "interval_seconds")));
        else
                printf("Metrics:  %s: %s\n", jstr(res, "metrics") ?: "unavailable",
                       jstr(res, "reason") ?: "");
        if (json_array_size(samples) == 0) {
                printf("No samples in the last hour.\n");
                return EXIT_OK;
        }
        last = json_array_get(samples, json_array_size(samples) - 1);
        printf("At:       %s\n", jstr(last, "at") ?: "-");
        amount_line("CPU:", samples, "cpu_millicores", "cpu_quota_millicores", cpu_text);
        amount_line("Memory:", samples, "memory_bytes", "memory_quota_bytes", bytes_text);
        amount_line("Storage:", samples, "storage_requested_bytes", "storage_quota_bytes", bytes_text);
        if (json_array_size(json_object_get(last, "pods")) > 0) {
                printf("\n%-48s %-12s %s\n", "POD", "CPU", "MEMORY");
                json_array_foreach(json_object_get(last, "pods"), i, pod)
                        printf("%-48s %-12s %s\n", jstr(pod, "name") ?: "-",
                               cpu_text(a, json_object_get(pod, "cpu_millicores")),
                               bytes_text(b, json_object_get(pod, "memory_bytes")));
        }
        return EXIT_OK;
}
