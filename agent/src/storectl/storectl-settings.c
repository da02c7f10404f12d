/* SPDX-License-Identifier: Apache-2.0 */

/* storectl settings and redeploy: a store's title, currency, country and administrator e-mail, and
 * re-applying its current chart version (the D-Bus methods GetStoreSettings, SetStoreSettings and
 * RedeployStore). */

#include <jansson.h>
#include <stdio.h>

#include "basic/util.h"
#include "storectl/storectl-args.h"
#include "storectl/storectl-bus.h"
#include "storectl/storectl-follow.h"
#include "storectl/storectl-output.h"
#include "storectl/storectl-settings.h"

int verb_redeploy(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        int r;

        r = CALL_JSON(bus, "RedeployStore", &store, "s", args[0]);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, store, "Redeploy");
}

static int settings_put(json_t *changes, const char *key, const char *value)
{
        if (!value)
                return 0;
        return json_object_set_new(changes, key, isempty(value) ? json_null() : json_string(value));
}

int verb_settings(sd_bus *bus, char **args)
{
        static const char *const keys[] = { "title", "currency", "country", "admin_email" };
        _cleanup_(json_decrefp) json_t *res = NULL, *changes = json_object();
        _cleanup_free_ char *text = NULL;
        int r;

        if (!changes)
                return EXIT_FAIL;
        if (!(arg_given & OPT_SETTINGS)) {
                r = CALL_JSON(bus, "GetStoreSettings", &res, "s", args[0]);
                if (r != EXIT_OK)
                        return r;
                if (arg_json) {
                        print_json(res);
                        return EXIT_OK;
                }
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        printf("%-12s %s\n", keys[i], jstr(res, keys[i]) ?: "(the chart's default)");
                return EXIT_OK;
        }
        if (settings_put(changes, "title", arg_title) < 0 ||
            settings_put(changes, "currency", arg_currency) < 0 ||
            settings_put(changes, "country", arg_country) < 0 ||
            settings_put(changes, "admin_email", arg_admin_email) < 0)
                return EXIT_FAIL;
        text = json_dumps(changes, JSON_COMPACT);
        if (!text)
                return EXIT_FAIL;
        r = CALL_JSON(bus, "SetStoreSettings", &res, "ss", args[0], text);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, res, "Settings change");
}
