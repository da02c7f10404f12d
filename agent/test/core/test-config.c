/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/log.h"
#include "basic/util.h"
#include "core/config.h"
#include "tests.h"

static char *dir;

static int intro(void)
{
        dir = test_tmpdir();
        return 0;
}

static char *write_config(const char *name, const char *text)
{
        char *path = strjoin_path(dir, name);
        ASSERT_TRUE(path);
        ASSERT_EQ(write_file_atomic(path, text, strlen(text), 0600), 0);
        return path;
}

static void expect_error(const char *text, const char *needle1, const char *needle2)
{
        _cleanup_free_ char *path = write_config("bad.yaml", text), *error = NULL;
        _cleanup_(config_freep) Config *c = NULL;

        ASSERT_TRUE(config_load(path, false, &c, &error) < 0);
        ASSERT_TRUE(!c);
        ASSERT_CONTAINS(error, path);
        ASSERT_CONTAINS(error, needle1);
        if (needle2)
                ASSERT_CONTAINS(error, needle2);
}

TEST(test_defaults)
{
        _cleanup_(config_freep) Config *c = NULL;

        ASSERT_EQ(config_new_default(&c), 0);
        ASSERT_STREQ(c->listen_address, "127.0.0.1");
        ASSERT_EQ(c->listen_port, 8080);
        ASSERT_EQ(c->requests_per_window, 100);
        ASSERT_EQ(c->window_sec, 900);
        ASSERT_EQ(c->creates_per_hour, 5);
        ASSERT_STREQ(c->quota_pods, "10");
        ASSERT_STREQ(c->quota_memory, "2Gi");
        ASSERT_STREQ(c->kubeconfig, "/etc/rancher/k3s/k3s.yaml");
}

TEST(test_good_file)
{
        _cleanup_free_ char *path = write_config("good.yaml", "# a comment\n"
                                                               "listen:\n"
                                                               "  address: 0.0.0.0\n"
                                                               "  port: 9090\n"
                                                               "database: /tmp/x.db\n"
                                                               "workers: 4\n"
                                                               "stores:\n"
                                                               "  base_domain: shops.example.com\n"
                                                               "  quota:\n"
                                                               "    memory: 4Gi\n"
                                                               "limits:\n"
                                                               "  creates_per_hour: 0\n"
                                                               "log:\n"
                                                               "  format: json\n");
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL;

        ASSERT_EQ(config_load(path, false, &c, &error), 0);
        ASSERT_STREQ(c->listen_address, "0.0.0.0");
        ASSERT_EQ(c->listen_port, 9090);
        ASSERT_STREQ(c->database, "/tmp/x.db");
        ASSERT_EQ(c->workers, 4);
        ASSERT_STREQ(c->base_domain, "shops.example.com");
        ASSERT_STREQ(c->quota_memory, "4Gi");
        ASSERT_EQ(c->creates_per_hour, 0);
        ASSERT_STREQ(c->log_format, "json");
        /* Untouched keys keep their defaults. */
        ASSERT_EQ(c->requests_per_window, 100);
}

TEST(test_empty_and_missing)
{
        _cleanup_free_ char *path = write_config("empty.yaml", ""), *missing = strjoin_path(dir, "nope.yaml");
        _cleanup_(config_freep) Config *c = NULL, *d = NULL, *e = NULL;
        _cleanup_free_ char *error = NULL;

        ASSERT_EQ(config_load(path, false, &c, NULL), 0);
        ASSERT_EQ(c->listen_port, 8080);
        ASSERT_EQ(config_load(missing, true, &d, NULL), 0);
        ASSERT_EQ(config_load(missing, false, &e, &error), -ENOENT);
        ASSERT_CONTAINS(error, "nope.yaml");
}

TEST(test_errors)
{
        expect_error("listen:\n  adress: 1.2.3.4\n", ":2:", "unknown key 'listen.adress'");
        expect_error("bogus: 1\n", ":1:", "unknown key 'bogus'");
        expect_error("listen:\n  port: eighty\n", ":2:", "listen.port");
        expect_error("listen:\n  port: 70000\n", ":2:", "out of range");
        expect_error("listen:\n  port: \"80\"\n", ":2:", "expected an integer");
        expect_error("workers: [1, 2]\n", ":1:", "expected a scalar");
        expect_error("limits: 5\n", ":1:", "expected a mapping");
        expect_error("log:\n  format: xml\n", "log.format", "expected one of: auto, journal, json");
        expect_error("stores:\n  quota:\n    memory: 2 GB\n", ":3:", "stores.quota.memory");
        expect_error("listen: {port: 1\n", "YAML syntax error", NULL);
        expect_error("- a\n- b\n", "top level", NULL);
}

TEST(test_egress_lists)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *path = write_config("egress.yaml", "stores:\n"
                                                                 "  egress:\n"
                                                                 "    extra_cidrs: [10.1.2.3/32, \"2001:0db8::/32\"]\n"
                                                                 "    excluded_cidrs: 169.254.0.0/16, 10.0.0.0/8\n"
                                                                 "    ports: [443]\n");

        ASSERT_EQ(config_new_default(&c), 0);
        ASSERT_STREQ(c->egress_extra_cidrs, "");
        ASSERT_STREQ(c->egress_ports, "80,443");
        ASSERT_CONTAINS(c->egress_excluded_cidrs, "169.254.0.0/16");
        ASSERT_CONTAINS(c->egress_excluded_cidrs, "10.42.0.0/16");
        c = config_free(c);

        /* A YAML list or a comma-separated scalar; addresses come back canonical. */
        ASSERT_EQ(config_load(path, false, &c, NULL), 0);
        ASSERT_STREQ(c->egress_extra_cidrs, "10.1.2.3/32,2001:db8::/32");
        ASSERT_STREQ(c->egress_excluded_cidrs, "169.254.0.0/16,10.0.0.0/8");
        ASSERT_STREQ(c->egress_ports, "443");

        expect_error("stores:\n  egress:\n    extra_cidrs: [10.0.0.1]\n", ":3:", "not a CIDR");
        expect_error("stores:\n  egress:\n    extra_cidrs: [10.0.0.1/8]\n", "stores.egress.extra_cidrs",
                     "bits set past the prefix");
        expect_error("stores:\n  egress:\n    extra_cidrs: [example.com/32]\n", ":3:", "not an IP address");
        /* The internet rule is 0.0.0.0/0, so what it leaves out must be a smaller IPv4 range. */
        expect_error("stores:\n  egress:\n    excluded_cidrs: [\"fd00::/8\"]\n", ":3:", "not an IPv4 address");
        expect_error("stores:\n  egress:\n    excluded_cidrs: [0.0.0.0/0]\n", ":3:", "prefix must be 1..32");
        expect_error("stores:\n  egress:\n    ports: [80, 0]\n", ":3:", "not a port");
        expect_error("stores:\n  egress:\n    ports: [[80]]\n", ":3:", "expected a list of scalars");
}

TEST(test_cluster_issuer)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *path = write_config("issuer.yaml", "stores:\n  tls:\n    cluster_issuer: letsencrypt-prod\n");

        ASSERT_EQ(config_load(path, false, &c, NULL), 0);
        ASSERT_STREQ(c->cluster_issuer, "letsencrypt-prod");
        /* A ClusterIssuer's name is a Kubernetes object name: refused at load, not when helm renders it. */
        expect_error("stores:\n  tls:\n    cluster_issuer: Lets_Encrypt\n", ":3:", "Kubernetes object name");
        expect_error("stores:\n  tls:\n    cluster_issuer: -ca\n", "stores.tls.cluster_issuer", "object name");
        expect_error("stores:\n  tls:\n    cluster_issuer: ca.\n", "stores.tls.cluster_issuer", "object name");
        expect_error("stores:\n  tls:\n    cluster_issuer: a..b\n", "stores.tls.cluster_issuer", "object name");
}

TEST(test_backups_s3)
{
        _cleanup_free_ char *path = write_config("s3.yaml", "backups:\n  s3:\n    endpoint: http://127.0.0.1:9000\n"
                                                             "    bucket: shop-backups\n    prefix: agent1/\n"
                                                             "    credentials_file: /etc/storeagent/s3\n");
        _cleanup_(config_freep) Config *c = NULL, *d = NULL;
        _cleanup_free_ char *error = NULL;

        /* Off by default. */
        ASSERT_EQ(config_new_default(&d), 0);
        ASSERT_STREQ(d->backup_s3_endpoint, "");
        ASSERT_STREQ(d->backup_s3_region, "us-east-1");
        ASSERT_EQ(config_load(path, false, &c, &error), 0);
        ASSERT_STREQ(c->backup_s3_endpoint, "http://127.0.0.1:9000");
        ASSERT_STREQ(c->backup_s3_bucket, "shop-backups");
        ASSERT_STREQ(c->backup_s3_prefix, "agent1/");
        ASSERT_STREQ(c->backup_s3_credentials_file, "/etc/storeagent/s3");
        ASSERT_EQ(c->backup_s3_timeout_sec, 3600u);

        expect_error("backups:\n  s3:\n    endpoint: ftp://x\n    bucket: abc\n    credentials_file: /f\n",
                     "backups.s3.endpoint", "http");
        expect_error("backups:\n  s3:\n    endpoint: http://u:p@x\n    bucket: abc\n    credentials_file: /f\n",
                     "backups.s3.endpoint", "plain URL");
        expect_error("backups:\n  s3:\n    endpoint: http://x\n    credentials_file: /f\n", "backups.s3.bucket",
                     NULL);
        expect_error("backups:\n  s3:\n    endpoint: http://x\n    bucket: Up_Case\n    credentials_file: /f\n",
                     "backups.s3.bucket", NULL);
        expect_error("backups:\n  s3:\n    endpoint: http://x\n    bucket: abc\n", "credentials_file", NULL);
        expect_error("backups:\n  s3:\n    bucket: abc\n    credentials_file: /f\n", "backups.s3.endpoint", NULL);
        expect_error("backups:\n  s3:\n    endpoint: http://x\n    bucket: abc\n    credentials_file: /f\n"
                     "    prefix: ../up\n",
                     "backups.s3.prefix", NULL);
        expect_error("backups:\n  s3:\n    endpoint: http://x\n    bucket: abc\n    credentials_file: /f\n"
                     "    region: 'us east'\n",
                     "backups.s3.region", NULL);
}

TEST(test_dump_roundtrip)
{
        _cleanup_(config_freep) Config *c = NULL, *d = NULL;
        _cleanup_free_ char *buf = NULL, *path = NULL;
        size_t n = 0;
        FILE *f;

        ASSERT_EQ(config_new_default(&c), 0);
        free(c->base_domain);
        c->base_domain = strdup("example.org");
        c->listen_port = 1234;
        free(c->egress_extra_cidrs);
        c->egress_extra_cidrs = strdup("192.0.2.0/24,2001:db8::/32");
        f = open_memstream(&buf, &n);
        config_dump(c, f);
        fclose(f);
        /* The effective configuration printed by --check-config is itself a valid configuration. */
        path = write_config("dump.yaml", buf);
        ASSERT_EQ(config_load(path, false, &d, NULL), 0);
        ASSERT_STREQ(d->base_domain, "example.org");
        ASSERT_EQ(d->listen_port, 1234);
        ASSERT_STREQ(d->egress_extra_cidrs, "192.0.2.0/24,2001:db8::/32");
        ASSERT_STREQ(d->egress_ports, "80,443");
}

/* Strings YAML would cut, fold or refuse inside double quotes come back as they were (fuzz-config
 * found them: agent/fuzz/regressions/fuzz-config). */
TEST(test_dump_roundtrip_escapes)
{
        static const char *const values[] = {
                "/srv/it's \"quoted\"\\dir", "tab\tnew\nline\x01\x7f", "nel\xc2\x85" "c1\xc2\x8c" "ls\xe2\x80\xa8",
                "bom\xef\xbb\xbf" "caf\xc3\xa9 \xf0\x9f\x9b\x92",
        };

        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                _cleanup_(config_freep) Config *c = NULL, *d = NULL;
                _cleanup_free_ char *buf = NULL, *path = NULL;
                size_t n = 0;
                FILE *f;

                ASSERT_EQ(config_new_default(&c), 0);
                free(c->database);
                c->database = strdup(values[i]);
                f = open_memstream(&buf, &n);
                config_dump(c, f);
                fclose(f);
                path = write_config("dump-escapes.yaml", buf);
                ASSERT_EQ(config_load(path, false, &d, NULL), 0);
                ASSERT_STREQ(d->database, values[i]);
        }
}

DEFINE_TEST_MAIN_WITH_INTRO(LOG_WARNING, intro)
