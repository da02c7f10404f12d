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
/* The SMTP password (stores.mail.smtp_password_file), key "smtp-password"; the chart mounts it. */
#define SMTP_SECRET "store-smtp"
#define LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define LABEL_STORE_ID "storeagent.io/store-id"
#define LABEL_STORE_NAME "storeagent.io/store-name"
#define LABEL_COMPONENT "app.kubernetes.io/component"
/* The component of the Job that gives WordPress a new admin password, and of its pod. */
#define COMPONENT_CREDENTIALS "credentials"
/* How long the password Job may run, retries included. */
#define ROTATE_JOB_DEADLINE_SEC 300

/* "store-<name>"; returns -ENOMEM or 0. */
int store_namespace_name(const char *name, char **ret);

/* The labels every object of the store carries. */
json_t *store_labels_new(const char *name, const char *id);

json_t *store_namespace_new(const char *name, const char *id);
/* Binds the "storeagent-store" ClusterRole to the agent's service account sa_ns/sa_name. */
json_t *store_rolebinding_new(const char *name, const char *id, const char *sa_ns, const char *sa_name);
json_t *store_quota_new(const ProvisionSettings *set, const char *name, const char *id);
json_t *store_limit_range_new(const char *name, const char *id);
/* The label and port of the pod cert-manager starts to answer an ACME HTTP-01 challenge (its acmesolver). */
#define ACME_SOLVER_LABEL "acme.cert-manager.io/http01-solver"
#define ACME_SOLVER_PORT 8089
/*
 * The four ingress NetworkPolicies, as an array in the order they are applied: deny everything, the
 * ingress controller to web, the store's pods to its database, the ingress controller to cert-manager's
 * HTTP-01 solver.
 */
json_t *store_network_policies_new(const char *name, const char *id);
/*
 * The five egress NetworkPolicies, as an array in the order they are applied: deny everything, then
 * DNS, the store's database, the internet on stores.egress.ports minus stores.egress.excluded_cidrs,
 * and stores.egress.extra_cidrs.
 */
json_t *store_egress_policies_new(const ProvisionSettings *set, const char *name, const char *id);
/* The credentials Secret; the caller brings the passwords (random ones, or placeholders to show). */
json_t *store_secret_new(const char *name, const char *id, const char *root_password, const char *user_password,
                         const char *admin_password);
/* The SMTP Secret; the caller brings the password (the file's content, or a placeholder to show). */
json_t *store_smtp_secret_new(const char *name, const char *id, const char *password);
/* The Helm values file's content. */
json_t *store_values_new(const ProvisionSettings *set, const char *name);

/*
 * What the merchant signs in with, from the store's credentials Secret (as the API server returns
 * it: base64 "data"): {url, admin_url, username, password}. -ENOENT when the Secret lacks the admin
 * keys, -EBADMSG when they are not base64, -ENOMEM.
 */
int store_credentials_from_secret(json_t *secret, const char *url, json_t **ret);
/* The value of one key of a Secret's "data", decoded. -ENOENT when missing, -EBADMSG when not base64. */
int secret_value(json_t *secret, const char *key, char **ret);

/* The Secret that holds a new admin password while the Job applies it (name: the Job's). */
json_t *store_rotate_secret_new(const char *name, const char *id, const char *object, const char *password);
/*
 * The Job that sets the WordPress admin user's password to the one in the Secret `object` (env, never
 * argv): WP-CLI in the image of the release's setup Job, with its WORDPRESS_* environment and its
 * WordPress volume, under the restricted Pod Security Standard and within the namespace's LimitRange.
 * setup_job is the chart's setup Job as the API server returns it. NULL when setup_job lacks the image
 * or the volume, or when out of memory.
 */
json_t *store_rotate_job_new(const char *name, const char *id, const char *object, const char *admin_user,
                             json_t *setup_job);
