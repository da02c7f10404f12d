/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What the agent puts into a store's namespace before helm runs, and the
 * values it gives helm, built from the settings and the store's name and id
 * alone: no I/O, no cluster. The task steps apply these, `storeagentd render`
 * prints them, and the unit tests look at them. Each returns a new reference,
 * or NULL when out of memory.
 */

#include <jansson.h>

#include "provision/settings.h"

#define CREDENTIALS_SECRET "store-credentials"
#define LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define LABEL_STORE_ID "storeagent.io/store-id"
#define LABEL_STORE_NAME "storeagent.io/store-name"

/* "store-<name>"; returns -ENOMEM or 0. */
int store_namespace_name(const char *name, char **ret);

/* The labels every object of the store carries. */
json_t *store_labels_new(const char *name, const char *id);

json_t *store_namespace_new(const char *name, const char *id);
/* Binds the "storeagent-store" ClusterRole to the agent's service account sa_ns/sa_name. */
json_t *store_rolebinding_new(const char *name, const char *id, const char *sa_ns, const char *sa_name);
json_t *store_quota_new(const ProvisionSettings *set, const char *name, const char *id);
json_t *store_limit_range_new(const char *name, const char *id);
/* The three NetworkPolicies, as an array in the order they are applied. */
json_t *store_network_policies_new(const char *name, const char *id);
/* The credentials Secret; the caller brings the passwords (random ones, or placeholders to show). */
json_t *store_secret_new(const char *name, const char *id, const char *root_password, const char *user_password,
                         const char *admin_password);
/* The Helm values file's content. */
json_t *store_values_new(const ProvisionSettings *set, const char *name);
