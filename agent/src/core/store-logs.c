/* SPDX-License-Identifier: Apache-2.0 */

/* Which pod and container of a store a log request means, from the store's pods as the cluster lists. */

#include "basic/util.h"
#include "core/store.h"

static bool has_name(json_t *names, const char *name)
{
        size_t i;
        json_t *n;

        json_array_foreach(names, i, n)
                if (streq(strempty(json_string_value(n)), name))
                        return true;
        return false;
}

int store_log_source_find(json_t *pods, const char *pod, const char *container, const char **ret_pod,
                          const char **ret_container)
{
        json_t *found = NULL, *p;
        const char *first;
        size_t i;

        assert(ret_pod);
        assert(ret_container);
        json_array_foreach(pods, i, p) {
                const char *name = json_string_value(json_object_get(p, "pod"));
                if (!name)
                        continue;
                const char *component = json_string_value(json_object_get(p, "component"));
                if (pod ? streq(name, pod) : streq(strempty(component), "web")) {
                        found = p;
                        break;
                }
        }
        if (!found && !pod)
                found = json_array_get(pods, 0);
        if (!found)
                return -ENOENT;
        first = json_string_value(json_array_get(json_object_get(found, "containers"), 0));
        if (container ? !has_name(json_object_get(found, "containers"), container) &&
                                !has_name(json_object_get(found, "init_containers"), container)
                      : !first)
                return -ENOENT;
        *ret_pod = json_string_value(json_object_get(found, "pod"));
        *ret_container = container ?: first;
        return 0;
}
