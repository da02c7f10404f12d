/* SPDX-License-Identifier: Apache-2.0 */

/* `storeagentd render`: the objects and values of a new store, printed instead of applied. */

#include "basic/macro.h"
#include "provision/objects.h"
#include "provision/render.h"
#include "provision/yaml-emit.h"

/* Takes the reference to v. */
static int print_document(FILE *f, const char *comment, json_t *v)
{
        _cleanup_(json_decrefp) json_t *owned = v;
        _cleanup_free_ char *text = NULL;
        int r;

        if (!owned)
                return -ENOMEM;
        r = json_to_yaml(owned, &text);
        if (r < 0)
                return r;
        fprintf(f, "---\n# %s\n%s", comment, text);
        return 0;
}

int provision_render(const Config *config, const char *name, const char *id, FILE *f)
{
        _cleanup_(json_decrefp) json_t *policies = NULL;
        _cleanup_free_ char *ns = NULL, *comment = NULL;
        ProvisionSettings set;
        json_t *o;
        size_t i;
        int r;

        assert(config);
        assert(name);
        assert(id);
        assert(f);

        r = store_namespace_name(name, &ns);
        if (r < 0)
                return r;
        r = settings_from_config(&set, config);
        if (r < 0)
                return r;

        fprintf(f,
                "# What storeagentd applies for a new store '%s', in this order, before it runs\n"
                "# helm upgrade --install %s %s -n %s with the values of the last document.\n"
                "# Passwords are made when the store is; they show as \"%s\" here. When the agent runs\n"
                "# as a service account it also binds the storeagent-store ClusterRole in %s.\n",
                name, name, set.chart_path, ns, RENDER_PLACEHOLDER, ns);

        r = print_document(f, "the store's namespace (Pod Security: restricted)", store_namespace_new(name, id));
        if (r >= 0)
                r = print_document(f, "what the store may use (stores.quota in the configuration)",
                                   store_quota_new(&set, name, id));
        if (r >= 0)
                r = print_document(f, "per-container defaults and limits", store_limit_range_new(name, id));
        if (r < 0)
                goto out;

        policies = store_network_policies_new(name, id);
        if (!policies) {
                r = -ENOMEM;
                goto out;
        }
        json_array_foreach(policies, i, o) {
                r = print_document(f, "who may reach the store's pods", json_incref(o));
                if (r < 0)
                        goto out;
        }
        json_decref(policies);
        policies = store_egress_policies_new(&set, name, id);
        if (!policies) {
                r = -ENOMEM;
                goto out;
        }
        json_array_foreach(policies, i, o) {
                r = print_document(f, "what the store's pods may reach (stores.egress in the configuration)",
                                   json_incref(o));
                if (r < 0)
                        goto out;
        }

        r = print_document(f, "created once, never rotated; the chart reads these keys",
                           store_secret_new(name, id, RENDER_PLACEHOLDER, RENDER_PLACEHOLDER, RENDER_PLACEHOLDER));
        if (r >= 0 && !isempty(set.smtp_host) && !isempty(set.smtp_password_file))
                r = print_document(f,
                                   "the SMTP password (stores.mail.smtp_password_file, read at every "
                                   "create and upgrade)",
                                   store_smtp_secret_new(name, id, RENDER_PLACEHOLDER));
        if (r < 0)
                goto out;

        if (asprintf(&comment, "Helm values (written to %s/values/%s.yaml)", set.state_dir, id) < 0) {
                comment = NULL;
                r = -ENOMEM;
                goto out;
        }
        r = print_document(f, comment, store_values_new(&set, name));
out:
        settings_done(&set);
        if (r >= 0 && fflush(f) != 0)
                r = -errno;
        return r;
}
