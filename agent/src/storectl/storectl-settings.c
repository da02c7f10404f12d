/* SPDX-License-Identifier: Apache-2.0 */

/* storectl settings, domain and redeploy: a store's title, currency, country and administrator e-mail, and
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

/* storectl domain list|add|rm|primary STORE [DOMAIN]: the D-Bus methods GetStoreDomains,
 * AddStoreDomain, RemoveStoreDomain and SetStorePrimaryDomain ("-" or none: the store's own host). */
int verb_domain(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *res = NULL;
        const char *sub = args[0], *store = args[1], *domain = args[2];
        json_t *d;
        size_t i;
        int r;

        if (streq(sub, "list") && !domain) {
                r = CALL_JSON(bus, "GetStoreDomains", &res, "s", store);
                if (r != EXIT_OK)
                        return r;
                if (arg_json) {
                        print_json(res);
                        return EXIT_OK;
                }
                json_array_foreach(json_object_get(res, "items"), i, d)
                        printf("%s%s\n", jstr(d, "domain") ?: "",
                               json_is_true(json_object_get(d, "primary")) ? "  (primary)" : "");
                if (!jstr(res, "primary"))
                        printf("(the store's own host is primary)\n");
                return EXIT_OK;
        }
        if (streq(sub, "add") && domain)
                r = CALL_JSON(bus, "AddStoreDomain", &res, "ssb", store, domain, 0);
        else if (streq(sub, "rm") && domain)
                r = CALL_JSON(bus, "RemoveStoreDomain", &res, "ss", store, domain);
        else if (streq(sub, "primary"))
                r = CALL_JSON(bus, "SetStorePrimaryDomain", &res, "ss", store,
                              !domain || streq(domain, "-") ? "" : domain);
        else {
                fprintf(stderr, "Usage: storectl domain list|add|rm|primary ID|NAME [DOMAIN]\n");
                return EXIT_USAGE;
        }
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, res, "Domain change");
}
