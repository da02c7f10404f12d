/* SPDX-License-Identifier: Apache-2.0 */

/* The steps of a create task before helm: the namespace and what goes into it, and the values file. */

#include "basic/log.h"
#include "basic/util.h"
#include "core/store.h"
#include "core/store-domains.h"
#include "core/store-settings.h"
#include "provision/provision-internal.h"

static int apply(Job *j, json_t *obj, const char *what)
{
        _cleanup_(json_decrefp) json_t *o = obj;
        int r;

        if (!o)
                return -ENOMEM;
        r = kube_apply(j->kube, o, NULL);
        if (r < 0)
                return cluster_error(j, r, what);
        return 0;
}

/*
 * With the least-privilege identity from contrib/rbac the agent holds no rights inside a
 * namespace until it binds the "storeagent-store" ClusterRole there. It learns who it is
 * from a SelfSubjectReview; as cluster admin (or a user) there is nothing to bind.
 */
static int ensure_store_rolebinding(Job *j)
{
        _cleanup_(json_decrefp) json_t *review = NULL;
        const char *user;
        char sa_ns[128], sa_name[128];
        int r;

        r = kube_request(j->kube, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", "application/json",
                         "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}", &review);
        if (r < 0)
                return cluster_error(j, r, "Asking the cluster who the agent is failed");
        user = json_string_value(
                json_object_get(json_object_get(json_object_get(review, "status"), "userInfo"), "username"));
        if (!user || sscanf(user, "system:serviceaccount:%127[^:]:%127s", sa_ns, sa_name) != 2)
                return 0;
        return apply(j, store_rolebinding_new(j->store->name, j->store->id, sa_ns, sa_name),
                     "Binding the store role in the namespace failed");
}

int step_namespace(Job *j)
{
        _cleanup_(json_decrefp) json_t *existing = NULL;
        _cleanup_free_ char *path = NULL, *reason = NULL;
        int r;

        r = kube_path(&path, "v1", "namespaces", NULL, j->ns);
        if (r < 0)
                return r;
        r = kube_get(j->kube, path, &existing);
        if (r >= 0) {
                const char *owner = json_string_value(
                        json_object_get(json_object_get(json_object_get(existing, "metadata"), "labels"), LABEL_STORE_ID));
                const char *phase = json_string_value(json_object_get(json_object_get(existing, "status"), "phase"));

                /* A namespace on its way out (an earlier store of this name) is waited for, whoever owned it. */
                if (streq_ptr(phase, "Terminating")) {
                        if (asprintf(&reason, "Waiting for the old namespace %s to finish terminating.", j->ns) < 0)
                                return -ENOMEM;
                        set_waiting_reason(j, reason);
                        return -EAGAIN;
                }
                if (!streq_ptr(owner, j->store->id)) {
                        if (asprintf(&reason,
                                     "Namespace %s already exists and does not belong to this store; refusing to touch it.",
                                     j->ns) < 0)
                                return -ENOMEM;
                        return fail_store(j, "store.failed", reason);
                }
        } else if (r != -ENOENT)
                return cluster_error(j, r, "Reading the namespace failed");

        r = apply(j, store_namespace_new(j->store->name, j->store->id), "Creating the namespace failed");
        if (r < 0)
                return r;
        return ensure_store_rolebinding(j);
}

int step_quota(Job *j)
{
        int r;

        r = apply(j, store_quota_new(&j->set, j->store->name, j->store->id), "Applying the ResourceQuota failed");
        if (r < 0)
                return r;
        return apply(j, store_limit_range_new(j->store->name, j->store->id), "Applying the LimitRange failed");
}

int step_network_policies(Job *j)
{
        static const char *const what[] = {
                "Applying the default-deny NetworkPolicy failed",
                "Applying the ingress NetworkPolicy failed",
                "Applying the database NetworkPolicy failed",
                "Applying the ACME HTTP-01 solver NetworkPolicy failed",
                "Applying the default-deny egress NetworkPolicy failed",
                "Applying the DNS egress NetworkPolicy failed",
                "Applying the database egress NetworkPolicy failed",
                "Applying the internet egress NetworkPolicy failed",
                "Applying the extra egress NetworkPolicy failed",
        };
        _cleanup_(json_decrefp) json_t *policies = store_network_policies_new(j->store->name, j->store->id);
        _cleanup_(json_decrefp) json_t *egress = store_egress_policies_new(&j->set, j->store->name, j->store->id);
        int r;

        if (!policies || !egress || json_array_extend(policies, egress) < 0)
                return -ENOMEM;
        assert(json_array_size(policies) == ELEMENTSOF(what));
        for (size_t i = 0; i < ELEMENTSOF(what); i++) {
                r = apply(j, json_incref(json_array_get(policies, i)), what[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int step_smtp_secret(Job *j)
{
        _cleanup_erase_free_ char *password = NULL;
        _cleanup_free_ char *reason = NULL;
        size_t n = 0;
        int r;

        if (isempty(j->set.smtp_host) || isempty(j->set.smtp_password_file))
                return 0;
        /* Read on every create and upgrade, so a changed password reaches the store on its next upgrade. */
        r = read_file(j->set.smtp_password_file, 4096, &password, &n);
        if (r < 0) {
                if (asprintf(&reason,
                             "Reading the SMTP password (stores.mail.smtp_password_file %s) failed: %s",
                             j->set.smtp_password_file, strerror(-r)) < 0)
                        return -ENOMEM;
                return fail_store(j, "store.failed", reason);
        }
        while (n > 0 && (password[n - 1] == '\n' || password[n - 1] == '\r'))
                password[--n] = '\0';
        return apply(j, store_smtp_secret_new(j->store->name, j->store->id, password),
                     "Applying the SMTP password Secret failed");
}

int step_secrets(Job *j)
{
        _cleanup_erase_free_ char *root = NULL, *user = NULL, *admin = NULL, *body = NULL;
        _cleanup_(json_decrefp) json_t *secret = NULL;
        _cleanup_free_ char *path = NULL, *collection = NULL;
        int r;

        r = kube_path(&path, "v1", "secrets", j->ns, CREDENTIALS_SECRET);
        if (r < 0)
                return r;
        r = kube_get(j->kube, path, NULL);
        if (r >= 0)
                return step_smtp_secret(j); /* Created by an earlier attempt: never rotate passwords. */
        if (r != -ENOENT)
                return cluster_error(j, r, "Reading the credentials Secret failed");

        if (random_alnum(32, &root) < 0 || random_alnum(32, &user) < 0 || random_alnum(24, &admin) < 0)
                return -EIO;
        secret = store_secret_new(j->store->name, j->store->id, root, user, admin);
        if (!secret)
                return -ENOMEM;
        body = json_dumps(secret, JSON_COMPACT);
        if (!body)
                return -ENOMEM;
        r = kube_path(&collection, "v1", "secrets", j->ns, NULL);
        if (r < 0)
                return r;
        /* Create, not apply: if another attempt won the race, its passwords stay. */
        r = kube_request(j->kube, "POST", collection, "application/json", body, NULL);
        if (r < 0 && r != -EEXIST)
                return cluster_error(j, r, "Creating the credentials Secret failed");
        return step_smtp_secret(j);
}

/* The store's own settings over the defaults: what the chart calls store.title, store.currency,
 * store.country and admin.email. */
static int apply_store_settings(Job *j, json_t *v)
{
        static const struct {
                const char *setting, *section, *key;
        } map[] = {
                { "title", "store", "title" },
                { "currency", "store", "currency" },
                { "country", "store", "country" },
                { "admin_email", "admin", "email" },
        };
        _cleanup_(json_decrefp) json_t *settings = NULL;
        int r;

        r = store_settings_of(j->db, j->store->id, &settings);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(map); i++) {
                const char *s = json_string_value(json_object_get(settings, map[i].setting));
                json_t *section;

                if (isempty(s))
                        continue;
                section = json_object_get(v, map[i].section);
                if (!section) {
                        section = json_object();
                        if (!section || json_object_set_new(v, map[i].section, section) < 0)
                                return -ENOMEM;
                }
                if (json_object_set_new(section, map[i].key, json_string(s)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The store's own domains: more hosts of its Ingress (domains.extra), and the one its URLs use
 * (domains.primary; absent: <storeName>.<baseDomain>). */
static int apply_store_domains(Job *j, json_t *v)
{
        _cleanup_(json_decrefp) json_t *items = NULL, *extra = json_array(), *domains = NULL;
        _cleanup_free_ char *primary = NULL;
        json_t *d;
        size_t i;
        int r;

        if (!extra)
                return -ENOMEM;
        r = store_domains_of(j->db, j->store->id, &items, &primary);
        if (r < 0)
                return r;
        if (json_array_size(items) == 0)
                return 0;
        json_array_foreach(items, i, d)
                if (json_array_append(extra, json_object_get(d, "domain")) < 0)
                        return -ENOMEM;
        domains = json_pack("{s:O}", "extra", extra);
        if (!domains || (primary && json_object_set_new(domains, "primary", json_string(primary)) < 0))
                return -ENOMEM;
        return json_object_set(v, "domains", domains);
}

int write_values(Job *j)
{
        _cleanup_(json_decrefp) json_t *v = NULL;
        _cleanup_free_ char *text = NULL, *dir = NULL;
        int r;

        if (asprintf(&dir, "%s/values", j->set.state_dir) < 0)
                return -ENOMEM;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        v = store_values_new(&j->set, j->store->name);
        if (!v)
                return -ENOMEM;
        r = apply_store_settings(j, v);
        if (r < 0)
                return r;
        r = apply_store_domains(j, v);
        if (r < 0)
                return r;
        /* JSON is YAML; helm reads it as a values file. */
        text = json_dumps(v, JSON_INDENT(2));
        if (!text)
                return -ENOMEM;
        return write_file_atomic(j->values_path, text, strlen(text), 0600);
}
