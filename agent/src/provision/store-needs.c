/* SPDX-License-Identifier: Apache-2.0 */

/*
 * What a new store reserves on the nodes, read from the store as the agent would install it: `helm
 * template` of the chart with the values a new store gets, every workload's pods' requests summed (a
 * container without requests gets the store's LimitRange default), each resource capped by the store's
 * ResourceQuota (no pod of the store may ask for more).
 */

#include <yaml.h>

#include "basic/log.h"
#include "basic/util.h"
#include "provision/capacity-model.h"
#include "provision/provision-internal.h"

static void yaml_document_deletep(yaml_document_t **d)
{
        if (*d)
                yaml_document_delete(*d);
}

static void yaml_parser_deletep(yaml_parser_t **p)
{
        if (*p)
                yaml_parser_delete(*p);
}

/* A YAML node as JSON: mappings and sequences as such, every scalar a string (quantities are strings anyway). */
static json_t *node_to_json(yaml_document_t *d, yaml_node_t *n, unsigned depth)
{
        json_t *j;

        if (!n || depth > 64)
                return json_null();
        switch (n->type) {
        case YAML_SCALAR_NODE:
                return json_stringn((const char *) n->data.scalar.value, n->data.scalar.length);
        case YAML_SEQUENCE_NODE:
                j = json_array();
                for (yaml_node_item_t *i = n->data.sequence.items.start; j && i < n->data.sequence.items.top; i++)
                        json_array_append_new(j, node_to_json(d, yaml_document_get_node(d, *i), depth + 1));
                return j;
        case YAML_MAPPING_NODE:
                j = json_object();
                for (yaml_node_pair_t *p = n->data.mapping.pairs.start; j && p < n->data.mapping.pairs.top; p++) {
                        yaml_node_t *k = yaml_document_get_node(d, p->key);
                        if (k && k->type == YAML_SCALAR_NODE) {
                                _cleanup_free_ char *key = strndup((const char *) k->data.scalar.value,
                                                                   k->data.scalar.length);
                                if (key)
                                        json_object_set_new(j, key, node_to_json(d, yaml_document_get_node(d, p->value),
                                                                                 depth + 1));
                        }
                }
                return j;
        default:
                return json_null();
        }
}

int capacity_parse_manifests(const char *text, json_t **ret)
{
        _cleanup_(json_decrefp) json_t *docs = json_array();
        yaml_parser_t parser;
        _cleanup_(yaml_parser_deletep) yaml_parser_t *pp = NULL;

        assert(text);
        assert(ret);
        if (!docs || !yaml_parser_initialize(&parser))
                return -ENOMEM;
        pp = &parser;
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, strlen(text));
        for (;;) {
                yaml_document_t doc;
                _cleanup_(yaml_document_deletep) yaml_document_t *dp = NULL;
                yaml_node_t *root;

                if (!yaml_parser_load(&parser, &doc))
                        return -EBADMSG;
                dp = &doc;
                root = yaml_document_get_root_node(&doc);
                if (!root)
                        break; /* the end of the stream */
                if (root->type == YAML_MAPPING_NODE)
                        json_array_append_new(docs, node_to_json(&doc, root, 0));
        }
        *ret = TAKE_PTR(docs);
        return 0;
}

/* A pod template's requests, with the LimitRange's default request for a container that names none. */
static void template_requests(json_t *spec, json_t *defaults, CapacityAmounts *ret)
{
        /* A copy, so the defaults can be filled in. */
        _cleanup_(json_decrefp) json_t *pod = json_pack("{s:o}", "spec", json_deep_copy(spec));
        json_t *c;
        size_t i;

        if (!pod) {
                *ret = (CapacityAmounts) {};
                return;
        }
        const char *lists[] = { "containers", "initContainers" };
        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                json_array_foreach(json_object_get(json_object_get(pod, "spec"), lists[l]), i, c) {
                        json_t *res = json_object_get(c, "resources");
                        json_t *req;
                        if (!json_is_object(res)) {
                                json_object_set_new(c, "resources", json_object());
                                res = json_object_get(c, "resources");
                        }
                        req = json_object_get(res, "requests");
                        if (!json_is_object(req)) {
                                json_object_set_new(res, "requests", json_object());
                                req = json_object_get(res, "requests");
                        }
                        const char *k;
                        json_t *v;
                        json_object_foreach(defaults, k, v)
                                if (!json_object_get(req, k))
                                        json_object_set(req, k, v);
                }
        capacity_pod_requests(pod, ret);
}

int capacity_manifests_needs(json_t *docs, json_t *limit_range, CapacityAmounts *ret)
{
        json_t *doc, *limit, *defaults = NULL;
        CapacityAmounts sum = {};
        size_t i;

        assert(ret);
        json_array_foreach(json_object_get(json_object_get(limit_range, "spec"), "limits"), i, limit)
                if (streq_ptr(json_string_value(json_object_get(limit, "type")), "Container"))
                        defaults = json_object_get(limit, "defaultRequest");

        json_array_foreach(docs, i, doc) {
                const char *kind = json_string_value(json_object_get(doc, "kind"));
                json_t *spec = json_object_get(doc, "spec"), *pod_spec;
                double copies = 1, v;
                CapacityAmounts a;

                if (streq_ptr(kind, "Pod"))
                        pod_spec = spec;
                else if (streq_ptr(kind, "Deployment") || streq_ptr(kind, "StatefulSet") ||
                         streq_ptr(kind, "Job")) {
                        const char *n = json_string_value(
                                json_object_get(spec, streq_ptr(kind, "Job") ? "parallelism" : "replicas"));
                        if (n && parse_quantity_milli(n, &v) >= 0)
                                copies = v / 1000.0;
                        pod_spec = json_object_get(json_object_get(spec, "template"), "spec");
                } else
                        continue;
                template_requests(pod_spec, defaults, &a);
                for (int r = 0; r < _CAPACITY_RESOURCE_MAX; r++)
                        sum.v[r] += a.v[r] * copies;
        }
        *ret = sum;
        return 0;
}

int read_store_needs(const ProvisionSettings *set, const char *chart, CapacityAmounts *ret,
                     char **ret_source)
{
        _cleanup_(json_decrefp) json_t *values = NULL, *docs = NULL, *lr = NULL;
        _cleanup_(helm_result_done) HelmResult res = {};
        _cleanup_free_ char *dir = NULL, *values_path = NULL, *helm_dir = NULL, *text = NULL;
        CapacityAmounts quota, rendered;
        int r;

        assert(set);
        assert(ret);
        r = capacity_store_needs(set, &quota);
        if (r < 0)
                return r;

        if (asprintf(&dir, "%s/values", set->state_dir) < 0 || asprintf(&helm_dir, "%s/helm", set->state_dir) < 0 ||
            asprintf(&values_path, "%s/capacity-probe.json", dir) < 0)
                return -ENOMEM;
        values = store_values_new(set, "capacity-probe");
        lr = store_limit_range_new("capacity-probe", "0");
        text = values ? json_dumps(values, JSON_INDENT(2)) : NULL;
        if (!text || !lr)
                return -ENOMEM;
        r = mkdir_p(dir, 0700);
        if (r >= 0)
                r = write_file_atomic(values_path, text, strlen(text), 0600);
        if (r >= 0) {
                HelmContext h = { .binary = set->helm_binary, .kubeconfig = set->kubeconfig, .state_dir = helm_dir,
                                  .timeout_sec = 30 };
                r = helm_run(&h,
                             (char *const *) (const char *[]){
                                     "template", "capacity-probe", chart ?: set->chart_path, "--namespace",
                                     "store-capacity-probe", "--values", values_path, NULL },
                             &res);
                if (r >= 0 && res.exit_status != 0)
                        r = -EIO;
        }
        if (r >= 0)
                r = capacity_parse_manifests(res.stdout_data ?: "", &docs);
        if (r >= 0)
                r = capacity_manifests_needs(docs, lr, &rendered);
        if (r < 0 || rendered.v[CAPACITY_PODS] <= 0) {
                /* Without the chart's own numbers, the quota is the most a store may take. */
                log_warning_errno(r < 0 ? r : -ENODATA,
                                  "Cannot render the chart to learn what a store requests, reserving its quota: %m");
                *ret = quota;
                if (ret_source)
                        *ret_source = strdup("quota");
                return 0;
        }
        for (int k = 0; k < _CAPACITY_RESOURCE_MAX; k++)
                ret->v[k] = quota.v[k] > 0 ? MIN(rendered.v[k], quota.v[k]) : rendered.v[k];
        if (ret_source)
                *ret_source = strdup("chart");
        return 0;
}
