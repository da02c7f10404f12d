/* SPDX-License-Identifier: Apache-2.0 */

#include <stdarg.h>

#include "core/config.h"
#include "provision/objects.h"
#include "tests.h"

#define NAME "shop1"
#define ID "0123456789abcdef"

/* The member at a path of object keys, e.g. at(o, "metadata", "labels", NULL). */
static json_t *at(json_t *o, ...)
{
        const char *key;
        va_list ap;

        va_start(ap, o);
        while (o && (key = va_arg(ap, const char *)))
                o = json_object_get(o, key);
        va_end(ap);
        return o;
}

#define STR_AT(o, ...) json_string_value(at((o), __VA_ARGS__, NULL))

static void replace(char **field, const char *value)
{
        free(*field);
        *field = strdup(value);
        ASSERT_TRUE(*field);
}

/* Settings from a configuration that differs from the defaults wherever the builders read it. */
static void settings_for_test(ProvisionSettings *ret)
{
        _cleanup_(config_freep) Config *c = NULL;

        ASSERT_EQ(config_new_default(&c), 0);
        replace(&c->quota_pods, "7");
        replace(&c->quota_memory, "3Gi");
        replace(&c->quota_cpu, "3");
        replace(&c->storage_mysql, "5Gi");
        replace(&c->storage_wordpress, "6Gi");
        replace(&c->base_domain, "shops.example");
        replace(&c->ingress_class, "nginx");
        replace(&c->url_scheme, "https");
        ASSERT_EQ(settings_from_config(ret, c), 0);
}

/* Every object lives in store-NAME and carries the store's three labels. */
static void check_object(json_t *o, const char *api_version, const char *kind, const char *name)
{
        ASSERT_TRUE(o);
        CHECK_STREQ(STR_AT(o, "apiVersion"), api_version);
        CHECK_STREQ(STR_AT(o, "kind"), kind);
        CHECK_STREQ(STR_AT(o, "metadata", "name"), name);
        if (!streq(kind, "Namespace"))
                CHECK_STREQ(STR_AT(o, "metadata", "namespace"), "store-" NAME);
        CHECK_STREQ(STR_AT(o, "metadata", "labels", LABEL_MANAGED_BY), "storeagent");
        CHECK_STREQ(STR_AT(o, "metadata", "labels", LABEL_STORE_ID), ID);
        CHECK_STREQ(STR_AT(o, "metadata", "labels", LABEL_STORE_NAME), NAME);
}

TEST(test_namespace)
{
        _cleanup_(json_decrefp) json_t *ns = store_namespace_new(NAME, ID);
        _cleanup_free_ char *name = NULL;

        check_object(ns, "v1", "Namespace", "store-" NAME);
        CHECK_STREQ(STR_AT(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce"), "restricted");
        CHECK_STREQ(STR_AT(ns, "metadata", "labels", "pod-security.kubernetes.io/warn"), "restricted");
        CHECK(!at(ns, "metadata", "namespace", NULL));
        ASSERT_EQ(store_namespace_name(NAME, &name), 0);
        CHECK_STREQ(name, "store-" NAME);
}

TEST(test_quota_from_settings)
{
        ProvisionSettings set;
        _cleanup_(json_decrefp) json_t *quota = NULL;

        settings_for_test(&set);
        quota = store_quota_new(&set, NAME, ID);
        check_object(quota, "v1", "ResourceQuota", "store-quota");
        CHECK_STREQ(STR_AT(quota, "spec", "hard", "pods"), "7");
        CHECK_STREQ(STR_AT(quota, "spec", "hard", "requests.memory"), "3Gi");
        CHECK_STREQ(STR_AT(quota, "spec", "hard", "limits.memory"), "3Gi");
        CHECK_STREQ(STR_AT(quota, "spec", "hard", "requests.cpu"), "3");
        CHECK_STREQ(STR_AT(quota, "spec", "hard", "limits.cpu"), "3");
        CHECK((json_object_size(at(quota, "spec", "hard", NULL))) == (size_t) (5));
        settings_done(&set);
}

TEST(test_quota_defaults)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(json_decrefp) json_t *quota = NULL;
        ProvisionSettings set;

        ASSERT_EQ(config_new_default(&c), 0);
        ASSERT_EQ(settings_from_config(&set, c), 0);
        quota = store_quota_new(&set, NAME, ID);
        /* The documented defaults (README, config.c): 10 pods, 2Gi, 4 CPUs. */
        CHECK_STREQ(STR_AT(quota, "spec", "hard", "pods"), "10");
        CHECK_STREQ(STR_AT(quota, "spec", "hard", "limits.memory"), "2Gi");
        CHECK_STREQ(STR_AT(quota, "spec", "hard", "limits.cpu"), "4");
        settings_done(&set);
}

TEST(test_limit_range)
{
        _cleanup_(json_decrefp) json_t *lr = store_limit_range_new(NAME, ID);
        json_t *limit;

        check_object(lr, "v1", "LimitRange", "store-limits");
        ASSERT_EQ(json_array_size(at(lr, "spec", "limits", NULL)), 1u);
        limit = json_array_get(at(lr, "spec", "limits", NULL), 0);
        CHECK_STREQ(STR_AT(limit, "type"), "Container");
        CHECK_STREQ(STR_AT(limit, "default", "cpu"), "500m");
        CHECK_STREQ(STR_AT(limit, "default", "memory"), "256Mi");
        CHECK_STREQ(STR_AT(limit, "defaultRequest", "cpu"), "50m");
        CHECK_STREQ(STR_AT(limit, "defaultRequest", "memory"), "64Mi");
        CHECK_STREQ(STR_AT(limit, "max", "cpu"), "1");
        CHECK_STREQ(STR_AT(limit, "max", "memory"), "1Gi");
}

TEST(test_network_policies)
{
        _cleanup_(json_decrefp) json_t *list = store_network_policies_new(NAME, ID);
        json_t *deny, *web, *db, *from, *port;

        ASSERT_EQ(json_array_size(list), 4u);
        deny = json_array_get(list, 0);
        web = json_array_get(list, 1);
        db = json_array_get(list, 2);

        /* Default deny: an empty pod selector (every pod), Ingress, and no rule. */
        check_object(deny, "networking.k8s.io/v1", "NetworkPolicy", "default-deny-ingress");
        CHECK(json_is_object(at(deny, "spec", "podSelector", NULL)));
        CHECK((json_object_size(at(deny, "spec", "podSelector", NULL))) == (size_t) (0));
        CHECK_STREQ(json_string_value(json_array_get(at(deny, "spec", "policyTypes", NULL), 0)), "Ingress");
        CHECK(!at(deny, "spec", "ingress", NULL));

        /* The ingress controller's namespaces reach the web pods' http port. */
        check_object(web, "networking.k8s.io/v1", "NetworkPolicy", "allow-ingress-controller-to-web");
        CHECK_STREQ(STR_AT(web, "spec", "podSelector", "matchLabels", "app.kubernetes.io/component"), "web");
        from = json_array_get(at(json_array_get(at(web, "spec", "ingress", NULL), 0), "from", NULL), 0);
        from = json_array_get(at(from, "namespaceSelector", "matchExpressions", NULL), 0);
        CHECK_STREQ(STR_AT(from, "key"), "kubernetes.io/metadata.name");
        CHECK_STREQ(STR_AT(from, "operator"), "In");
        CHECK_STREQ(json_string_value(json_array_get(at(from, "values", NULL), 0)), "kube-system");
        port = json_array_get(at(json_array_get(at(web, "spec", "ingress", NULL), 0), "ports", NULL), 0);
        CHECK_STREQ(STR_AT(port, "port"), "http");
        CHECK_STREQ(STR_AT(port, "protocol"), "TCP");

        /* Only web, setup, cron and password Job pods reach the database, on 3306. */
        check_object(db, "networking.k8s.io/v1", "NetworkPolicy", "allow-web-to-database");
        CHECK_STREQ(STR_AT(db, "spec", "podSelector", "matchLabels", "app.kubernetes.io/component"), "database");
        from = json_array_get(at(json_array_get(at(db, "spec", "ingress", NULL), 0), "from", NULL), 0);
        CHECK(!at(from, "namespaceSelector", NULL));
        from = json_array_get(at(from, "podSelector", "matchExpressions", NULL), 0);
        CHECK_STREQ(STR_AT(from, "key"), "app.kubernetes.io/component");
        CHECK((json_array_size(at(from, "values", NULL))) == (size_t) (4));
        CHECK_STREQ(json_string_value(json_array_get(at(from, "values", NULL), 0)), "web");
        CHECK_STREQ(json_string_value(json_array_get(at(from, "values", NULL), 1)), "setup");
        CHECK_STREQ(json_string_value(json_array_get(at(from, "values", NULL), 2)), "cron");
        CHECK_STREQ(json_string_value(json_array_get(at(from, "values", NULL), 3)), "credentials");
        port = json_array_get(at(json_array_get(at(db, "spec", "ingress", NULL), 0), "ports", NULL), 0);
        CHECK(json_integer_value(at(port, "port", NULL)) == 3306);

        /* cert-manager's HTTP-01 solver pod: from the ingress controller's namespaces, on its port only. */
        json_t *acme = json_array_get(list, 3);
        check_object(acme, "networking.k8s.io/v1", "NetworkPolicy", "allow-ingress-controller-to-acme-solver");
        CHECK_STREQ(STR_AT(acme, "spec", "podSelector", "matchLabels", "acme.cert-manager.io/http01-solver"), "true");
        CHECK((json_object_size(at(acme, "spec", "podSelector", "matchLabels", NULL))) == (size_t) (1));
        from = json_array_get(at(json_array_get(at(acme, "spec", "ingress", NULL), 0), "from", NULL), 0);
        CHECK(!at(from, "podSelector", NULL));
        from = json_array_get(at(from, "namespaceSelector", "matchExpressions", NULL), 0);
        CHECK_STREQ(STR_AT(from, "key"), "kubernetes.io/metadata.name");
        CHECK_STREQ(json_string_value(json_array_get(at(from, "values", NULL), 0)), "kube-system");
        port = json_array_get(at(json_array_get(at(acme, "spec", "ingress", NULL), 0), "ports", NULL), 0);
        CHECK(json_integer_value(at(port, "port", NULL)) == 8089);
        CHECK((json_array_size(at(json_array_get(at(acme, "spec", "ingress", NULL), 0), "ports", NULL))) == 1u);
}

/* Whether a policy's "component In [...]" pod selector picks the component. */
static bool selects(json_t *policy, const char *component)
{
        json_t *e = json_array_get(at(policy, "spec", "podSelector", "matchExpressions", NULL), 0), *v;
        size_t i;

        ASSERT_TRUE(e);
        ASSERT_STREQ(STR_AT(e, "key"), LABEL_COMPONENT);
        ASSERT_STREQ(STR_AT(e, "operator"), "In");
        json_array_foreach(at(e, "values", NULL), i, v)
                if (streq(json_string_value(v), component))
                        return true;
        return false;
}

static json_t *rule(json_t *policy, size_t i)
{
        return json_array_get(at(policy, "spec", "egress", NULL), i);
}

TEST(test_egress_policies)
{
        _cleanup_(settings_done) ProvisionSettings set = {};
        _cleanup_(json_decrefp) json_t *list = NULL;
        json_t *deny, *dns, *db, *net, *extra, *to, *except;

        settings_for_test(&set);
        list = store_egress_policies_new(&set, NAME, ID);
        ASSERT_EQ(json_array_size(list), 5u);
        deny = json_array_get(list, 0);
        dns = json_array_get(list, 1);
        db = json_array_get(list, 2);
        net = json_array_get(list, 3);
        extra = json_array_get(list, 4);

        /* Every pod, Egress, no rule: what no rule below names stays closed, MySQL's own connections too. */
        check_object(deny, "networking.k8s.io/v1", "NetworkPolicy", "default-deny-egress");
        CHECK(json_object_size(at(deny, "spec", "podSelector", NULL)) == 0);
        CHECK_STREQ(json_string_value(json_array_get(at(deny, "spec", "policyTypes", NULL), 0)), "Egress");
        CHECK(!at(deny, "spec", "egress", NULL));
        for (size_t i = 1; i < 5; i++) {
                json_t *p = json_array_get(list, i);
                CHECK_STREQ(json_string_value(json_array_get(at(p, "spec", "policyTypes", NULL), 0)), "Egress");
                CHECK(!selects(p, "database"));
                CHECK(selects(p, "web"));
                CHECK(selects(p, "setup"));
                CHECK(selects(p, "cron")); /* the chart's CronJob: database, DNS, and what events fetch */
        }

        /* DNS: only kube-dns pods of kube-system, UDP and TCP 53. */
        check_object(dns, "networking.k8s.io/v1", "NetworkPolicy", "allow-dns-egress");
        CHECK(selects(dns, COMPONENT_CREDENTIALS));
        to = json_array_get(at(rule(dns, 0), "to", NULL), 0);
        CHECK_STREQ(STR_AT(to, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"), "kube-system");
        CHECK_STREQ(STR_AT(to, "podSelector", "matchLabels", "k8s-app"), "kube-dns");
        CHECK_STREQ(STR_AT(json_array_get(at(rule(dns, 0), "ports", NULL), 0), "protocol"), "UDP");
        CHECK_STREQ(STR_AT(json_array_get(at(rule(dns, 0), "ports", NULL), 1), "protocol"), "TCP");
        CHECK(json_integer_value(at(json_array_get(at(rule(dns, 0), "ports", NULL), 1), "port", NULL)) == 53);

        /* The database of this namespace only (no namespaceSelector), on 3306. */
        check_object(db, "networking.k8s.io/v1", "NetworkPolicy", "allow-egress-to-database");
        CHECK(selects(db, COMPONENT_CREDENTIALS));
        to = json_array_get(at(rule(db, 0), "to", NULL), 0);
        CHECK(!at(to, "namespaceSelector", NULL));
        CHECK_STREQ(STR_AT(to, "podSelector", "matchLabels", LABEL_COMPONENT), "database");
        CHECK(json_integer_value(at(json_array_get(at(rule(db, 0), "ports", NULL), 0), "port", NULL)) == 3306);

        /* The internet: 0.0.0.0/0 minus the default excluded ranges, TCP 80 and 443, for web and setup. */
        check_object(net, "networking.k8s.io/v1", "NetworkPolicy", "allow-egress-to-internet");
        CHECK(!selects(net, COMPONENT_CREDENTIALS));
        to = json_array_get(at(rule(net, 0), "to", NULL), 0);
        CHECK_STREQ(STR_AT(to, "ipBlock", "cidr"), "0.0.0.0/0");
        except = at(to, "ipBlock", "except", NULL);
        CHECK(json_array_size(except) == 8);
        CHECK_STREQ(json_string_value(json_array_get(except, 4)), "169.254.0.0/16");
        CHECK_STREQ(json_string_value(json_array_get(except, 7)), "10.43.0.0/16");
        CHECK(json_array_size(at(rule(net, 0), "ports", NULL)) == 2);
        CHECK(json_integer_value(at(json_array_get(at(rule(net, 0), "ports", NULL), 1), "port", NULL)) == 443);

        /* Nothing extra by default, but the policy exists, with no rule. */
        check_object(extra, "networking.k8s.io/v1", "NetworkPolicy", "allow-egress-to-extra");
        CHECK(json_is_array(at(extra, "spec", "egress", NULL)));
        CHECK(json_array_size(at(extra, "spec", "egress", NULL)) == 0);
}

TEST(test_egress_configured)
{
        _cleanup_(settings_done) ProvisionSettings set = {};
        _cleanup_(json_decrefp) json_t *list = NULL;
        json_t *net, *extra, *to;

        settings_for_test(&set);
        replace(&set.egress_extra_cidrs, "192.0.2.25/32,2001:db8::/32");
        replace(&set.egress_excluded_cidrs, "169.254.0.0/16");
        replace(&set.egress_ports, "443");
        list = store_egress_policies_new(&set, NAME, ID);
        net = json_array_get(list, 3);
        extra = json_array_get(list, 4);

        to = json_array_get(at(rule(net, 0), "to", NULL), 0);
        CHECK(json_array_size(at(to, "ipBlock", "except", NULL)) == 1);
        CHECK(json_array_size(at(rule(net, 0), "ports", NULL)) == 1);
        CHECK(json_integer_value(at(json_array_get(at(rule(net, 0), "ports", NULL), 0), "port", NULL)) == 443);
        /* Extra ranges: any port (a rule without ports). */
        CHECK(json_array_size(at(rule(extra, 0), "to", NULL)) == 2);
        CHECK_STREQ(STR_AT(json_array_get(at(rule(extra, 0), "to", NULL), 1), "ipBlock", "cidr"), "2001:db8::/32");
        CHECK(!at(rule(extra, 0), "ports", NULL));

        /* No ports: no internet rule at all, since a rule without ports would open every port. */
        replace(&set.egress_ports, "");
        replace(&set.egress_excluded_cidrs, "");
        json_decref(list);
        list = store_egress_policies_new(&set, NAME, ID);
        net = json_array_get(list, 3);
        CHECK(json_array_size(at(net, "spec", "egress", NULL)) == 0);
        replace(&set.egress_ports, "80");
        json_decref(list);
        list = store_egress_policies_new(&set, NAME, ID);
        to = json_array_get(at(rule(json_array_get(list, 3), 0), "to", NULL), 0);
        CHECK(!at(to, "ipBlock", "except", NULL));
}

TEST(test_secret_shape)
{
        static const char *const keys[] = { "mysql-root-password", "mysql-password", "admin-password",
                                            "admin-user", "database", "database-user" };
        _cleanup_(json_decrefp) json_t *s = store_secret_new(NAME, ID, "R", "U", "A");

        check_object(s, "v1", "Secret", CREDENTIALS_SECRET);
        CHECK_STREQ(STR_AT(s, "type"), "Opaque");
        /* The chart reads exactly these keys (charts/store-woocommerce/templates). */
        CHECK((json_object_size(at(s, "stringData", NULL))) == (size_t) (ELEMENTSOF(keys)));
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                CHECK(json_is_string(at(s, "stringData", keys[i], NULL)));
        CHECK_STREQ(STR_AT(s, "stringData", "mysql-root-password"), "R");
        CHECK_STREQ(STR_AT(s, "stringData", "mysql-password"), "U");
        CHECK_STREQ(STR_AT(s, "stringData", "admin-password"), "A");
        CHECK_STREQ(STR_AT(s, "stringData", "admin-user"), "admin");
        CHECK_STREQ(STR_AT(s, "stringData", "database"), "wordpress");
        CHECK_STREQ(STR_AT(s, "stringData", "database-user"), "wordpress");
}

TEST(test_rolebinding)
{
        _cleanup_(json_decrefp) json_t *rb = store_rolebinding_new(NAME, ID, "storeagent", "agent");
        json_t *subject;

        check_object(rb, "rbac.authorization.k8s.io/v1", "RoleBinding", "storeagent-store");
        CHECK_STREQ(STR_AT(rb, "roleRef", "kind"), "ClusterRole");
        CHECK_STREQ(STR_AT(rb, "roleRef", "name"), "storeagent-store");
        subject = json_array_get(at(rb, "subjects", NULL), 0);
        CHECK_STREQ(STR_AT(subject, "kind"), "ServiceAccount");
        CHECK_STREQ(STR_AT(subject, "namespace"), "storeagent");
        CHECK_STREQ(STR_AT(subject, "name"), "agent");
}

TEST(test_values)
{
        static const char *const keys[] = { "storeName", "baseDomain", "ingress", "credentials", "admin", "mysql",
                                            "wordpress" };
        _cleanup_(json_decrefp) json_t *v = NULL;
        ProvisionSettings set;

        settings_for_test(&set);
        v = store_values_new(&set, NAME);
        ASSERT_TRUE(v);
        /* Exactly these keys: anything else would be a value the chart does not read. */
        CHECK((json_object_size(v)) == (size_t) (ELEMENTSOF(keys)));
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                CHECK(at(v, keys[i], NULL));
        CHECK_STREQ(STR_AT(v, "storeName"), NAME);
        CHECK_STREQ(STR_AT(v, "baseDomain"), "shops.example");
        CHECK_STREQ(STR_AT(v, "ingress", "className"), "nginx");
        CHECK(json_is_true(at(v, "ingress", "tls", "enabled", NULL)));
        CHECK((json_object_size(at(v, "ingress", "tls", NULL))) == (size_t) (1));
        CHECK_STREQ(STR_AT(v, "credentials", "secretName"), CREDENTIALS_SECRET);
        CHECK_STREQ(STR_AT(v, "admin", "user"), "admin");
        CHECK_STREQ(STR_AT(v, "admin", "email"), "admin@" NAME ".shops.example");
        CHECK_STREQ(STR_AT(v, "mysql", "persistence", "size"), "5Gi");
        CHECK_STREQ(STR_AT(v, "wordpress", "persistence", "size"), "6Gi");
        settings_done(&set);

        /* Plain http: no TLS. */
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(json_decrefp) json_t *plain = NULL;
        ASSERT_EQ(config_new_default(&c), 0);
        ASSERT_EQ(settings_from_config(&set, c), 0);
        plain = store_values_new(&set, NAME);
        CHECK(json_is_false(at(plain, "ingress", "tls", "enabled", NULL)));
        /* No cluster issuer: the chart's Ingress gets no cert-manager annotation. */
        CHECK(!at(plain, "ingress", "tls", "clusterIssuer", NULL));
        /* No mirror and no mail configured: the chart's own defaults, no such keys. */
        CHECK(!at(plain, "woocommerce", NULL));
        CHECK(!at(plain, "mail", NULL));
        settings_done(&set);
}

TEST(test_values_cluster_issuer)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(json_decrefp) json_t *https = NULL, *http = NULL;
        ProvisionSettings set;

        ASSERT_EQ(config_new_default(&c), 0);
        replace(&c->cluster_issuer, "shops-ca");
        replace(&c->url_scheme, "https");
        ASSERT_EQ(settings_from_config(&set, c), 0);
        https = store_values_new(&set, NAME);
        settings_done(&set);
        CHECK(json_is_true(at(https, "ingress", "tls", "enabled", NULL)));
        CHECK_STREQ(STR_AT(https, "ingress", "tls", "clusterIssuer"), "shops-ca");

        /* An issuer with plain http issues nothing: the Ingress has no tls section to name a Secret. */
        replace(&c->url_scheme, "http");
        ASSERT_EQ(settings_from_config(&set, c), 0);
        http = store_values_new(&set, NAME);
        settings_done(&set);
        CHECK(json_is_false(at(http, "ingress", "tls", "enabled", NULL)));
        CHECK(!at(http, "ingress", "tls", "clusterIssuer", NULL));
}

TEST(test_values_mail_and_mirror)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(json_decrefp) json_t *v = NULL, *secret = NULL;
        _cleanup_(settings_done) ProvisionSettings set = {};

        ASSERT_EQ(config_new_default(&c), 0);
        replace(&c->woocommerce_url, "https://mirror.example/woocommerce.11.2.0.zip");
        replace(&c->smtp_host, "smtp.example.com");
        c->smtp_port = 465;
        replace(&c->smtp_tls, "tls");
        replace(&c->smtp_user, "shop-mailer");
        replace(&c->smtp_password_file, "/etc/storeagent/smtp-password");
        replace(&c->mail_from, "orders@example.com");
        ASSERT_EQ(settings_from_config(&set, c), 0);
        v = store_values_new(&set, NAME);
        ASSERT_TRUE(v);
        /* Only the URL: the chart pins the version and its SHA-256. */
        CHECK_STREQ(STR_AT(v, "woocommerce", "url"), "https://mirror.example/woocommerce.11.2.0.zip");
        CHECK(json_object_size(at(v, "woocommerce", NULL)) == 1);
        CHECK_STREQ(STR_AT(v, "mail", "smtp", "host"), "smtp.example.com");
        CHECK(json_integer_value(at(v, "mail", "smtp", "port", NULL)) == 465);
        CHECK_STREQ(STR_AT(v, "mail", "smtp", "tls"), "tls");
        CHECK_STREQ(STR_AT(v, "mail", "smtp", "user"), "shop-mailer");
        /* The password is never a value: the chart mounts the agent's Secret. */
        CHECK_STREQ(STR_AT(v, "mail", "smtp", "passwordSecret"), SMTP_SECRET);
        CHECK(!at(v, "mail", "smtp", "password", NULL));
        CHECK_STREQ(STR_AT(v, "mail", "from"), "orders@example.com");

        secret = store_smtp_secret_new(NAME, ID, "s3cret");
        check_object(secret, "v1", "Secret", SMTP_SECRET);
        CHECK_STREQ(STR_AT(secret, "stringData", "smtp-password"), "s3cret");
}

/* The Secret as the API server returns it: base64 data. */
static json_t *secret_with(const char *user_b64, const char *password_b64)
{
        return json_pack("{s:{s:s?, s:s?, s:s}}", "data", "admin-user", user_b64, "admin-password", password_b64,
                         "mysql-password", "ZGJwYXNz");
}

TEST(test_credentials_from_secret)
{
        _cleanup_(json_decrefp) json_t *good = secret_with("YWRtaW4=", "czNjcjN0UGFzc3dvcmQ="), *creds = NULL;
        _cleanup_(json_decrefp) json_t *no_pw = secret_with("YWRtaW4=", NULL), *bad = secret_with("YWRtaW4=", "@@@=");
        _cleanup_(json_decrefp) json_t *padded = secret_with("YQ==", "YWI=");
        json_t *out = NULL;

        ASSERT_EQ(store_credentials_from_secret(good, "http://shop1.shops.example", &creds), 0);
        /* Exactly what the merchant signs in with, and nothing else of the Secret (no database password). */
        CHECK(json_object_size(creds) == 4);
        CHECK_STREQ(STR_AT(creds, "url"), "http://shop1.shops.example");
        CHECK_STREQ(STR_AT(creds, "admin_url"), "http://shop1.shops.example/wp-admin/");
        CHECK_STREQ(STR_AT(creds, "username"), "admin");
        CHECK_STREQ(STR_AT(creds, "password"), "s3cr3tPassword");

        CHECK(store_credentials_from_secret(no_pw, "http://x", &out) == -ENOENT);
        CHECK(store_credentials_from_secret(bad, "http://x", &out) == -EBADMSG);
        CHECK(!out);
        ASSERT_EQ(store_credentials_from_secret(padded, "http://x", &out), 0);
        CHECK_STREQ(STR_AT(out, "username"), "a");
        CHECK_STREQ(STR_AT(out, "password"), "ab");
        json_decref(out);
}

TEST(test_rotate_secret)
{
        _cleanup_(json_decrefp) json_t *s = store_rotate_secret_new(NAME, ID, "credentials-rotate-7", "NEWPW");

        check_object(s, "v1", "Secret", "credentials-rotate-7");
        CHECK_STREQ(STR_AT(s, "metadata", "labels", "app.kubernetes.io/component"), "credentials");
        /* Only the new admin password: the database passwords are never part of a rotation. */
        CHECK(json_object_size(at(s, "stringData", NULL)) == 1);
        CHECK_STREQ(STR_AT(s, "stringData", "admin-password"), "NEWPW");
}

/* The chart's setup Job as the cluster has it, cut to what the password Job takes from it. */
static json_t *setup_job_new(bool with_volume)
{
        return json_pack("{s:{s:{s:{s:[{s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}], s:[{s:s, s:{s:s}}, {s:s, "
                         "s:{s:s}}]}}}}",
                         "spec", "template", "spec", "containers", "image", "wordpress:cli-2.12.0-php8.3", "env",
                         "name", "WORDPRESS_DB_HOST", "value", "shop1-mysql", "name", "WORDPRESS_DB_PASSWORD_FILE",
                         "value", "/etc/storeagent/credentials/mysql-password", "name", "STORE_TITLE", "value", "x",
                         "volumes", "name", with_volume ? "wordpress" : "other", "persistentVolumeClaim",
                         "claimName", "shop1-wordpress-data", "name", "scripts", "configMap", "name", "shop1-setup");
}

static json_t *env_named(json_t *env, const char *name)
{
        json_t *e;
        size_t i;
        json_array_foreach(env, i, e)
                if (streq_ptr(STR_AT(e, "name"), name))
                        return e;
        return NULL;
}

TEST(test_rotate_job)
{
        _cleanup_(json_decrefp) json_t *setup = setup_job_new(true), *novol = setup_job_new(false), *job = NULL;
        _cleanup_free_ char *text = NULL;
        json_t *pod, *c, *env, *v;
        size_t i;
        bool claim = false;

        job = store_rotate_job_new(NAME, ID, "credentials-rotate-7", "admin", setup);
        ASSERT_TRUE(job);
        check_object(job, "batch/v1", "Job", "credentials-rotate-7");
        CHECK_STREQ(STR_AT(job, "metadata", "labels", "app.kubernetes.io/component"), "credentials");
        /* Not one of the release's objects: readiness (app.kubernetes.io/instance) never counts it. */
        CHECK(!at(job, "metadata", "labels", "app.kubernetes.io/instance", NULL));
        CHECK(json_integer_value(at(job, "spec", "activeDeadlineSeconds", NULL)) == ROTATE_JOB_DEADLINE_SEC);
        CHECK_STREQ(STR_AT(job, "spec", "template", "metadata", "labels", "app.kubernetes.io/component"), "credentials");

        pod = at(job, "spec", "template", "spec", NULL);
        CHECK_STREQ(STR_AT(pod, "restartPolicy"), "Never");
        CHECK(json_is_false(at(pod, "automountServiceAccountToken", NULL)));
        /* Restricted Pod Security. */
        CHECK(json_is_true(at(pod, "securityContext", "runAsNonRoot", NULL)));
        CHECK_STREQ(STR_AT(pod, "securityContext", "seccompProfile", "type"), "RuntimeDefault");
        ASSERT_EQ(json_array_size(at(pod, "containers", NULL)), 1u);
        c = json_array_get(at(pod, "containers", NULL), 0);
        CHECK_STREQ(STR_AT(c, "image"), "wordpress:cli-2.12.0-php8.3");
        CHECK(json_is_false(at(c, "securityContext", "allowPrivilegeEscalation", NULL)));
        CHECK(json_is_true(at(c, "securityContext", "runAsNonRoot", NULL)));
        CHECK_STREQ(json_string_value(json_array_get(at(c, "securityContext", "capabilities", "drop", NULL), 0)), "ALL");
        CHECK_STREQ(STR_AT(c, "securityContext", "seccompProfile", "type"), "RuntimeDefault");
        /* Within the namespace's LimitRange (max cpu 1, memory 1Gi), with requests of its own. */
        CHECK_STREQ(STR_AT(c, "resources", "limits", "cpu"), "500m");
        CHECK_STREQ(STR_AT(c, "resources", "limits", "memory"), "384Mi");
        CHECK(json_is_string(at(c, "resources", "requests", "memory", NULL)));

        /* The new password comes from the Secret through the environment; the rest of the chart's WORDPRESS_*. */
        env = at(c, "env", NULL);
        CHECK_STREQ(STR_AT(env_named(env, "NEW_ADMIN_PASSWORD"), "valueFrom", "secretKeyRef", "name"),
                    "credentials-rotate-7");
        CHECK_STREQ(STR_AT(env_named(env, "NEW_ADMIN_PASSWORD"), "valueFrom", "secretKeyRef", "key"), "admin-password");
        CHECK(!at(env_named(env, "NEW_ADMIN_PASSWORD"), "value", NULL));
        CHECK_STREQ(STR_AT(env_named(env, "ADMIN_USER"), "value"), "admin");
        CHECK_STREQ(STR_AT(env_named(env, "WORDPRESS_DB_HOST"), "value"), "shop1-mysql");
        CHECK(env_named(env, "WORDPRESS_DB_PASSWORD_FILE"));
        CHECK(!env_named(env, "STORE_TITLE"));
        /* Never on a command line: the script hands the variable to wp's standard input. */
        text = json_dumps(at(c, "command", NULL), 0);
        CHECK(!strstr(text, "--user_pass="));
        CHECK_CONTAINS(text, "--prompt=user_pass");
        CHECK_CONTAINS(text, "user update");

        json_array_foreach(at(pod, "volumes", NULL), i, v) {
                if (streq_ptr(STR_AT(v, "name"), "wordpress"))
                        claim = streq_ptr(STR_AT(v, "persistentVolumeClaim", "claimName"), "shop1-wordpress-data");
                if (streq_ptr(STR_AT(v, "name"), "credentials")) {
                        /* Only the database password the WordPress config reads, not the admin password. */
                        CHECK_STREQ(STR_AT(v, "secret", "secretName"), CREDENTIALS_SECRET);
                        CHECK(json_array_size(at(v, "secret", "items", NULL)) == 1);
                        CHECK_STREQ(STR_AT(json_array_get(at(v, "secret", "items", NULL), 0), "key"), "mysql-password");
                }
        }
        CHECK(claim);

        /* A setup Job without the WordPress volume gives no Job. */
        CHECK(!store_rotate_job_new(NAME, ID, "credentials-rotate-7", "admin", novol));
        CHECK(!store_rotate_job_new(NAME, ID, "credentials-rotate-7", "admin", NULL));
}

DEFINE_TEST_MAIN(LOG_ERR);
