/* SPDX-License-Identifier: Apache-2.0 */

/* storectl platform: the stores of each status now and their peak over the last day, and the
 * provisioning time of the last creates with p50 and p95 (the D-Bus method GetPlatformStats). */

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>

#include "basic/util.h"
#include "storectl/storectl-args.h"
#include "storectl/storectl-bus.h"
#include "storectl/storectl-output.h"
#include "storectl/storectl-platform.h"

#define PLATFORM_WINDOW_SEC 86400U
#define PLATFORM_CREATES_DEFAULT 20U

static const char *seconds_text(char buf[static 32], json_t *v)
{
        if (!json_is_integer(v))
                return "-";
        snprintf(buf, 32, "%" JSON_INTEGER_FORMAT " s", json_integer_value(v));
        return buf;
}

int verb_platform(sd_bus *bus, char **args)
{
        static const char *const statuses[] = { "PROVISIONING", "READY", "FAILED", "UPGRADING", "DELETING" };
        _cleanup_(json_decrefp) json_t *stats = NULL;
        json_t *points, *times, *c;
        char a[32], b[32];
        size_t i;
        int r;

        r = CALL_JSON(bus, "GetPlatformStats", &stats, "tt", (uint64_t) PLATFORM_WINDOW_SEC,
                      (uint64_t) (arg_limit > 0 ? arg_limit : PLATFORM_CREATES_DEFAULT));
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(stats);
                return EXIT_OK;
        }
        points = json_object_get(json_object_get(stats, "stores_by_status"), "points");
        printf("%-13s %5s %5s\n", "STATUS", "NOW", "PEAK");
        for (i = 0; i < ELEMENTSOF(statuses); i++) {
                json_int_t now = 0, peak = 0;
                json_t *p;
                size_t k;

                json_array_foreach(points, k, p) {
                        json_t *counts = json_object_get(p, "counts");
                        json_int_t n = json_integer_value(json_object_get(counts, statuses[i]));

                        peak = MAX(peak, n);
                        now = n;
                }
                printf("%-13s %5" JSON_INTEGER_FORMAT " %5" JSON_INTEGER_FORMAT "\n", statuses[i], now,
                       peak);
        }
        printf("(peak: the most at any of %zu times over the last 24 hours)\n\n", json_array_size(points));

        times = json_object_get(stats, "provisioning");
        if (json_array_size(json_object_get(times, "creates")) == 0) {
                printf("No store has become ready yet.\n");
                return EXIT_OK;
        }
        printf("Provisioning time of the last %zu creates: p50 %s, p95 %s\n\n",
               json_array_size(json_object_get(times, "creates")),
               seconds_text(a, json_object_get(times, "p50_seconds")),
               seconds_text(b, json_object_get(times, "p95_seconds")));
        printf("%-32s %-20s %s\n", "NAME", "CREATED", "READY AFTER");
        json_array_foreach(json_object_get(times, "creates"), i, c)
                printf("%-32s %-20s %s\n", strna(json_string_value(json_object_get(c, "name"))),
                       strna(json_string_value(json_object_get(c, "created_at"))),
                       seconds_text(a, json_object_get(c, "seconds")));
        return EXIT_OK;
}
