/* SPDX-License-Identifier: Apache-2.0 */

/*
 * What the cluster and helm answer, as the daemon reads it: a Secret's data (base64, the store's
 * login), helm's output (the reason a store shows, transient or not), helm's status JSON, an
 * object's API path, and the YAML `storeagentd render` writes from JSON. The first byte picks the
 * reader, the rest is the answer. Helm's output readers are provision-internal; this harness is
 * white-box on purpose, like a unit test of the folder.
 */

#include <yaml.h>

#include "cluster/helm.h"
#include "cluster/kube.h"
#include "provision/objects.h"
#include "provision/provision-internal.h"
#include "provision/yaml-emit.h"
#include "fuzz.h"

static void yaml_parser_deletep(yaml_parser_t *p)
{
        yaml_parser_delete(p);
}

static void fuzz_secret(json_t *j)
{
        _cleanup_(json_decrefp) json_t *creds = NULL;
        _cleanup_free_ char *user = NULL;

        if (secret_value(j, "admin-user", &user) >= 0)
                FUZZ_ASSERT(user);
        if (json_is_object(j) && store_credentials_from_secret(j, "http://shop.localtest.me", &creds) >= 0)
                FUZZ_ASSERT(json_is_string(json_object_get(creds, "password")));
}

static void fuzz_helm_output(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *out = fuzz_strndup(data, size);
        HelmResult res = { .output = out, .exit_status = size > 0 ? data[0] : 0 };
        char reason[300], line[200];

        helm_reason(&res, reason, sizeof reason);
        FUZZ_ASSERT(strlen(reason) < sizeof reason && !strchr(reason, '\n'));
        last_line(out, line, sizeof line);
        FUZZ_ASSERT(strlen(line) < sizeof line);
        (void) helm_output_transient(&res);
}

static void fuzz_helm_status(json_t *j)
{
        const char *st = helm_release_status(j);

        (void) helm_release_revision(j);
        if (st)
                (void) helm_status_is_pending(st);
}

static void fuzz_object_path(json_t *j)
{
        _cleanup_free_ char *path = NULL;

        if (kube_object_path(j, &path) >= 0)
                FUZZ_ASSERT(path && path[0] == '/');
}

static void fuzz_yaml_emit(json_t *j)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(yaml_parser_deletep) yaml_parser_t parser = {};
        yaml_document_t doc;

        if (json_to_yaml(j, &text) < 0)
                return;
        /* What render prints is YAML that kubectl can read. */
        FUZZ_ASSERT(yaml_parser_initialize(&parser));
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, strlen(text));
        if (!yaml_parser_load(&parser, &doc))
                fprintf(stderr, "not YAML: %s\n--- text ---\n%s\n", strna(parser.problem), text);
        else
                yaml_document_delete(&doc);
        FUZZ_ASSERT(parser.error == YAML_NO_ERROR);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        fuzz_log_setup();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(json_decrefp) json_t *j = NULL;

        if (size < 1)
                return 0;
        if (data[0] % 5 == 1) {
                fuzz_helm_output(data + 1, size - 1);
                return 0;
        }
        j = json_loadb((const char *) data + 1, size - 1, JSON_DECODE_ANY, NULL);
        if (!j)
                return 0;
        switch (data[0] % 5) {
        case 0:
                fuzz_secret(j);
                break;
        case 2:
                fuzz_helm_status(j);
                break;
        case 3:
                fuzz_object_path(j);
                break;
        case 4:
                fuzz_yaml_emit(j);
                break;
        }
        return 0;
}
