/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The configuration file: the table of every key (type, default, limits), the YAML reader and the
 * checks of each kind of value. It is long because the table is one list a reader scans for a
 * key, and splitting it by topic would scatter what config_dump() and the docs walk in order.
 */

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <yaml.h>

#include "basic/log.h"
#include "basic/names.h"
#include "basic/util.h"
#include "core/config.h"

typedef enum ConfigType {
        CONFIG_STRING,
        CONFIG_UINT,
        CONFIG_SIZE, /* Kubernetes quantity kept as text, checked with parse_size() */
        CONFIG_ENUM,
        CONFIG_CIDRS,  /* list of IPv4 or IPv6 CIDRs */
        CONFIG_CIDRS4, /* list of IPv4 CIDRs, none of them 0.0.0.0/0 */
        CONFIG_PORTS,  /* list of port numbers */
        CONFIG_NAMES,  /* list of host names or addresses, kept space-separated */
        CONFIG_OBJECT, /* a Kubernetes object name (DNS-1123 subdomain), or empty */
} ConfigType;

/* A list key holds at most this many entries: each becomes a line of a NetworkPolicy. */
#define CONFIG_LIST_MAX 64

typedef struct ConfigKey {
        const char *key; /* dotted path */
        ConfigType type;
        size_t offset;
        const char *def;
        uint64_t min, max;
        const char *const *choices;
} ConfigKey;

static const char *const log_formats[] = { "auto", "journal", "json", NULL };
static const char *const log_levels[] = { "debug", "info", "notice", "warning", "error", NULL };
static const char *const url_schemes[] = { "http", "https", NULL };
static const char *const secure_cookie_modes[] = { "auto", "always", "never", NULL };
static const char *const private_destination_policies[] = { "refuse", "allow", NULL };
static const char *const smtp_tls_modes[] = { "none", "starttls", "tls", NULL };
static const char *const when_full_policies[] = { "refuse", "wait", NULL };

#define S(k, f, d) { k, CONFIG_STRING, offsetof(Config, f), d, 0, 0, NULL }
#define U(k, f, d, lo, hi) { k, CONFIG_UINT, offsetof(Config, f), d, lo, hi, NULL }
#define Z(k, f, d) { k, CONFIG_SIZE, offsetof(Config, f), d, 0, 0, NULL }
#define E(k, f, d, c) { k, CONFIG_ENUM, offsetof(Config, f), d, 0, 0, c }
#define O(k, f, d) { k, CONFIG_OBJECT, offsetof(Config, f), d, 0, 0, NULL }
#define L(k, t, f, d) { k, t, offsetof(Config, f), d, 0, 0, NULL }

/* What an endpoint URL may hold: scheme, host, port, path. */
#define CONFIG_URL_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:/[]"

static const ConfigKey config_keys[] = {
        S("listen.address", listen_address, "127.0.0.1"),
        U("listen.port", listen_port, "8080", 1, 65535),
        U("listen.max_connections", http_threads_max, "256", 4, 65536),
        U("listen.connections_per_address", connections_per_address, "128", 1, 65536),
        U("listen.request_timeout", request_timeout_sec, "10", 1, 3600),
        U("listen.idle_timeout", idle_timeout_sec, "60", 5, 86400),
        L("listen.hostnames", CONFIG_NAMES, listen_hostnames, ""),
        L("listen.trusted_proxies", CONFIG_NAMES, trusted_proxies, "127.0.0.1 ::1"),
        E("listen.secure_cookies", secure_cookies, "auto", secure_cookie_modes),
        S("database", database, LOCALSTATEDIR "/lib/storeagent/storeagent.db"),
        U("database_busy_timeout_ms", database_busy_timeout_ms, "5000", 10, 600000),
        S("state_dir", state_dir, LOCALSTATEDIR "/lib/storeagent"),
        S("kubeconfig", kubeconfig, "/etc/rancher/k3s/k3s.yaml"),
        S("chart.path", chart_path, PKGDATADIR "/charts/store-woocommerce"),
        S("chart.repository", chart_repository, PKGDATADIR "/charts/repo"),
        S("helm.binary", helm_binary, "helm"),
        U("helm.timeout", helm_timeout_sec, "300", 10, 86400),
        S("stores.base_domain", base_domain, "localtest.me"),
        S("stores.ingress_class", ingress_class, "traefik"),
        U("stores.domains.max_per_store", max_domains, "5", 0, 100),
        E("stores.url_scheme", url_scheme, "http", url_schemes),
        O("stores.tls.cluster_issuer", cluster_issuer, ""),
        S("stores.quota.pods", quota_pods, "10"),
        Z("stores.quota.memory", quota_memory, "2Gi"),
        S("stores.quota.cpu", quota_cpu, "4"),
        Z("stores.storage.mysql", storage_mysql, "2Gi"),
        Z("stores.storage.wordpress", storage_wordpress, "2Gi"),
        U("stores.provision_timeout", provision_timeout_sec, "600", 10, 86400),
        U("usage.sample_interval", usage_interval_sec, "30", 0, 3600),
        U("usage.keep", usage_keep_sec, "86400", 3600, 31622400),
        U("usage.max_samples", usage_max_samples, "2880", 10, 1000000),
        U("platform.history_keep", history_keep_sec, "604800", 86400, 31622400),
        U("platform.history_max_changes", history_max_changes, "100000", 100, 10000000),
        U("platform.max_creates", stats_max_creates, "200", 1, 1000),
        U("backups.timeout", backup_timeout_sec, "3600", 10, 86400),
        U("backups.schedule", backup_every_sec, "86400", 0, 31622400),
        U("backups.min_schedule", backup_min_every_sec, "3600", 1, 31622400),
        U("backups.scheduler_interval", backup_scheduler_interval_sec, "60", 1, 3600),
        U("backups.keep_last", backup_keep_last, "0", 0, 10000),
        U("backups.keep_daily", backup_keep_daily, "7", 0, 10000),
        U("backups.keep_weekly", backup_keep_weekly, "4", 0, 10000),
        U("backups.overdue_grace", backup_overdue_grace_sec, "3600", 0, 31622400),
        U("backups.keep_after_delete", backup_keep_after_delete_sec, "2592000", 0, 31622400),
        U("backups.max_bytes", backup_max_bytes, "0", 0, UINT64_C(1) << 60),
        S("backups.s3.endpoint", backup_s3_endpoint, ""),
        S("backups.s3.bucket", backup_s3_bucket, ""),
        S("backups.s3.region", backup_s3_region, "us-east-1"),
        S("backups.s3.prefix", backup_s3_prefix, ""),
        S("backups.s3.credentials_file", backup_s3_credentials_file, ""),
        U("backups.s3.timeout", backup_s3_timeout_sec, "3600", 10, 86400),
        S("stores.woocommerce.url", woocommerce_url, ""),
        S("stores.mail.smtp_host", smtp_host, ""),
        U("stores.mail.smtp_port", smtp_port, "587", 1, 65535),
        E("stores.mail.smtp_tls", smtp_tls, "starttls", smtp_tls_modes),
        S("stores.mail.smtp_user", smtp_user, ""),
        S("stores.mail.smtp_password_file", smtp_password_file, ""),
        S("stores.mail.from", mail_from, ""),
        U("stores.unschedulable_timeout", unschedulable_timeout_sec, "60", 1, 86400),
        U("stores.readiness_watch", readiness_watch_sec, "5", 1, 600),
        U("stores.readiness_recheck", readiness_recheck_sec, "3", 1, 600),
        U("stores.capacity.overcommit_percent", overcommit_percent, "100", 10, 1000),
        E("stores.capacity.when_full", when_full, "refuse", when_full_policies),
        U("stores.capacity.recheck", capacity_recheck_sec, "10", 1, 600),
        L("stores.egress.extra_cidrs", CONFIG_CIDRS, egress_extra_cidrs, ""),
        /* Private, shared (CGNAT), link-local (cloud metadata), loopback, and k3s's pod and service networks. */
        L("stores.egress.excluded_cidrs", CONFIG_CIDRS4, egress_excluded_cidrs,
          "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,169.254.0.0/16,127.0.0.0/8,10.42.0.0/16,"
          "10.43.0.0/16"),
        L("stores.egress.ports", CONFIG_PORTS, egress_ports, "80,443"),
        E("webhooks.private_destinations", webhook_private_destinations, "refuse", private_destination_policies),
        U("webhooks.max_url_bytes", webhook_max_url_bytes, "2048", 64, 65536),
        U("webhooks.max_per_account", webhook_max_per_account, "10", 0, 10000),
        U("webhooks.timeout", webhook_timeout_sec, "10", 1, 300),
        U("webhooks.max_attempts", webhook_max_attempts, "8", 1, 100),
        U("webhooks.retry_initial_ms", webhook_retry_initial_ms, "10000", 100, 3600000),
        U("webhooks.retry_max", webhook_retry_max_sec, "3600", 1, 86400),
        U("webhooks.log_keep", webhook_log_keep, "100", 1, 100000),
        U("webhooks.poll_interval_ms", webhook_poll_interval_ms, "1000", 50, 60000),
        U("workers", workers, "2", 1, 64),
        U("tasks.lease", task_lease_sec, "60", 2, 3600),
        S("web_root", web_root, PKGDATADIR "/web"),
        U("idle_exit", idle_exit_sec, "0", 0, 86400),
        E("log.format", log_format, "auto", log_formats),
        E("log.level", log_level, "info", log_levels),
        U("limits.requests_per_window", requests_per_window, "100", 1, 10000000),
        U("limits.window", window_sec, "900", 1, 86400),
        U("limits.creates_per_hour", creates_per_hour, "5", 0, 100000),
        U("limits.max_stores", max_stores, "50", 0, 100000),
        U("limits.tenant_max_stores", tenant_max_stores, "3", 0, 100000),
        U("limits.max_pending_tasks", max_pending_tasks, "10", 1, 100000),
        U("limits.max_body_bytes", max_body_bytes, "65536", 256, 16777216),
        U("limits.max_json_depth", max_json_depth, "16", 2, 256),
        U("limits.max_header_bytes", max_header_bytes, "16384", 1024, 1048576),
        U("limits.session_ttl", session_ttl_sec, "43200", 60, 2592000),
        U("limits.signin_failures", signin_failures, "10", 1, 1000000),
        U("limits.signin_window", signin_window_sec, "900", 1, 86400),
        U("limits.streams_per_account", streams_per_account, "4", 1, 10000),
        U("limits.max_streams", max_streams, "64", 1, 65536),
        U("limits.max_cluster_calls", max_cluster_calls, "16", 1, 1024),
        U("limits.max_log_lines", max_log_lines, "5000", 1, 1000000),
        U("limits.max_log_bytes", max_log_bytes, "4194304", 1024, 1073741824),
        U("limits.log_buffer_bytes", log_buffer_bytes, "65536", 4096, 16777216),
};

#undef S
#undef U
#undef Z
#undef E
#undef O
#undef L

static bool config_type_is_list(ConfigType t)
{
        return t == CONFIG_CIDRS || t == CONFIG_CIDRS4 || t == CONFIG_PORTS || t == CONFIG_NAMES;
}

/* What separates a list's entries where it is kept: names as the HTTP side reads them, the rest by commas. */
static char config_list_separator(ConfigType t)
{
        return t == CONFIG_NAMES ? ' ' : ',';
}

_printf_(2, 3) static void set_why(char **ret_why, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(ret_why, fmt, ap) < 0)
                *ret_why = NULL;
        va_end(ap);
}

/*
 * One CIDR, in the canonical form the API server keeps: "a.b.c.d/n" with the host bits clear (a
 * NetworkPolicy with "10.0.0.1/8" is refused or silently widened, depending on the version).
 */
static int cidr_normalize(const char *s, bool v4_only, char **ret, char **ret_why)
{
        _cleanup_free_ char *addr = NULL;
        const char *slash = strchr(s, '/');
        uint8_t bytes[16];
        char text[INET6_ADDRSTRLEN];
        int family, bits, prefix;

        if (!slash) {
                set_why(ret_why, "'%s' is not a CIDR (address/prefix)", s);
                return -EINVAL;
        }
        addr = strndup(s, slash - s);
        if (!addr)
                return -ENOMEM;
        if (inet_pton(AF_INET, addr, bytes) == 1)
                family = AF_INET, bits = 32;
        else if (!v4_only && inet_pton(AF_INET6, addr, bytes) == 1)
                family = AF_INET6, bits = 128;
        else {
                set_why(ret_why, "'%s' is not an %saddress", addr, v4_only ? "IPv4 " : "IP ");
                return -EINVAL;
        }
        if (safe_atoi(slash + 1, &prefix) < 0 || prefix < (v4_only ? 1 : 0) || prefix > bits) {
                set_why(ret_why, "'%s': prefix must be %d..%d", s, v4_only ? 1 : 0, bits);
                return -EINVAL;
        }
        for (int b = prefix; b < bits; b++)
                if (bytes[b / 8] & (0x80 >> (b % 8))) {
                        set_why(ret_why, "'%s' has bits set past the prefix", s);
                        return -EINVAL;
                }
        if (!inet_ntop(family, bytes, text, sizeof text) || asprintf(ret, "%s/%d", text, prefix) < 0)
                return -ENOMEM;
        return 0;
}

/* A list as a scalar ("80, 443") or joined from a YAML sequence: entries split on commas and blanks. */
static int config_list_normalize(const ConfigKey *k, const char *value, char **ret, char **ret_why)
{
        _cleanup_free_ char *copy = strdup(value), *out = NULL;
        size_t n = 0, count = 0;
        char *save = NULL;
        FILE *f;

        if (!copy)
                return -ENOMEM;
        f = open_memstream(&out, &n);
        if (!f)
                return -ENOMEM;
        for (char *e = strtok_r(copy, ", \t\n", &save); e; e = strtok_r(NULL, ", \t\n", &save)) {
                _cleanup_free_ char *item = NULL;
                int r;

                if (++count > CONFIG_LIST_MAX) {
                        set_why(ret_why, "more than %d entries", CONFIG_LIST_MAX);
                        fclose(f);
                        return -E2BIG;
                }
                if (k->type == CONFIG_NAMES) {
                        /* Printable words; an entry with a quote or a backslash is a typo, not a name. */
                        for (const char *p = e; *p; p++)
                                if ((unsigned char) *p < 0x21 || (unsigned char) *p > 0x7e || strchr("\"'\\#", *p)) {
                                        set_why(ret_why, "'%s' is not a host name or address", e);
                                        fclose(f);
                                        return -EINVAL;
                                }
                        r = (item = strdup(e)) ? 0 : -ENOMEM;
                } else if (k->type == CONFIG_PORTS) {
                        uint64_t port;
                        if (safe_atou64(e, &port) < 0 || port < 1 || port > 65535) {
                                set_why(ret_why, "'%s' is not a port (1..65535)", e);
                                fclose(f);
                                return -EINVAL;
                        }
                        r = asprintf(&item, "%" PRIu64, port) < 0 ? -ENOMEM : 0;
                } else
                        r = cidr_normalize(e, k->type == CONFIG_CIDRS4, &item, ret_why);
                if (r < 0) {
                        fclose(f);
                        return r;
                }
                if (count > 1)
                        fputc(config_list_separator(k->type), f);
                fputs(item, f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

static char **config_str(Config *c, const ConfigKey *k)
{
        return (char **) ((uint8_t *) c + k->offset);
}

static uint64_t *config_uint(Config *c, const ConfigKey *k)
{
        return (uint64_t *) ((uint8_t *) c + k->offset);
}

Config *config_free(Config *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (config_keys[i].type != CONFIG_UINT)
                        free(*config_str(c, &config_keys[i]));
        free(c);
        return NULL;
}

static int config_set(Config *c, const ConfigKey *k, const char *value, char **ret_why)
{
        switch (k->type) {
        case CONFIG_UINT: {
                uint64_t v;
                if (safe_atou64(value, &v) < 0) {
                        *ret_why = strdup("expected a non-negative integer");
                        return -EINVAL;
                }
                if (v < k->min || v > k->max) {
                        if (asprintf(ret_why, "value %" PRIu64 " out of range %" PRIu64 "..%" PRIu64, v, k->min,
                                     k->max) < 0)
                                *ret_why = NULL;
                        return -ERANGE;
                }
                *config_uint(c, k) = v;
                return 0;
        }
        case CONFIG_SIZE: {
                uint64_t v;
                if (parse_size(value, &v) < 0 || v == 0) {
                        *ret_why = strdup("expected a size such as 512Mi or 2Gi");
                        return -EINVAL;
                }
                break;
        }
        case CONFIG_ENUM: {
                bool ok = false;
                for (const char *const *ch = k->choices; *ch; ch++)
                        ok = ok || streq(*ch, value);
                if (!ok) {
                        _cleanup_free_ char *list = NULL;
                        size_t n = 0;
                        FILE *f = open_memstream(&list, &n);
                        if (f) {
                                for (const char *const *ch = k->choices; *ch; ch++)
                                        fprintf(f, "%s%s", ch == k->choices ? "" : ", ", *ch);
                                fclose(f);
                        }
                        if (asprintf(ret_why, "expected one of: %s", strna(list)) < 0)
                                *ret_why = NULL;
                        return -EINVAL;
                }
                break;
        }
        case CONFIG_CIDRS:
        case CONFIG_CIDRS4:
        case CONFIG_PORTS:
        case CONFIG_NAMES: {
                char *list = NULL;
                int r;

                *ret_why = NULL;
                r = config_list_normalize(k, value, &list, ret_why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        if (!*ret_why)
                                *ret_why = strdup("invalid list");
                        return -EINVAL;
                }
                free(*config_str(c, k));
                *config_str(c, k) = list;
                return 0;
        }
        case CONFIG_OBJECT:
                if (!isempty(value) && !object_name_is_valid(value)) {
                        *ret_why = strdup("expected a Kubernetes object name (lower-case letters, digits, '-' "
                                          "and '.'), or empty");
                        return -EINVAL;
                }
                break;
        case CONFIG_STRING:
                if (strlen(value) > 4096) {
                        *ret_why = strdup("value too long");
                        return -EINVAL;
                }
                break;
        }

        char *s = strdup(value);
        if (!s)
                return -ENOMEM;
        free(*config_str(c, k));
        *config_str(c, k) = s;
        return 0;
}

int config_new_default(Config **ret)
{
        assert(ret);

        _cleanup_(config_freep) Config *c = NULL;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                _cleanup_free_ char *why = NULL;
                int r = config_set(c, &config_keys[i], config_keys[i].def, &why);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

static const ConfigKey *config_key_find(const char *path)
{
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (streq(config_keys[i].key, path))
                        return &config_keys[i];
        return NULL;
}

/* True when path is a prefix ("limits") of at least one key, so it must be a mapping. */
static bool config_section_exists(const char *path)
{
        size_t n = strlen(path);
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (strncmp(config_keys[i].key, path, n) == 0 && config_keys[i].key[n] == '.')
                        return true;
        return false;
}

typedef struct ConfigParser {
        const char *path;
        yaml_parser_t parser;
        Config *config;
        char *error;
} ConfigParser;

_printf_(3, 4) static int parser_fail(ConfigParser *p, size_t line, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        free(p->error);
        if (asprintf(&p->error, "%s:%zu: %s", p->path, line, strna(msg)) < 0)
                p->error = NULL;
        return -EINVAL;
}

static int parser_next(ConfigParser *p, yaml_event_t *ev)
{
        if (!yaml_parser_parse(&p->parser, ev))
                return parser_fail(p, p->parser.problem_mark.line + 1, "YAML syntax error: %s",
                                   strna(p->parser.problem));
        return 0;
}

static const char *event_type_name(yaml_event_type_t t)
{
        switch (t) {
        case YAML_MAPPING_START_EVENT:
                return "a mapping";
        case YAML_SEQUENCE_START_EVENT:
                return "a list";
        case YAML_SCALAR_EVENT:
                return "a scalar";
        case YAML_ALIAS_EVENT:
                return "an alias";
        default:
                return "something else";
        }
}

static int parse_mapping(ConfigParser *p, const char *prefix);

/* A list key given as a YAML sequence of scalars: joined with commas, then checked like a scalar list. */
static int parse_list(ConfigParser *p, const ConfigKey *k, const char *path, size_t line)
{
        _cleanup_free_ char *joined = NULL, *why = NULL;
        size_t n = 0;
        bool first = true;
        FILE *f;
        int r;

        f = open_memstream(&joined, &n);
        if (!f)
                return -ENOMEM;
        for (;;) {
                yaml_event_t ev;

                r = parser_next(p, &ev);
                if (r < 0) {
                        fclose(f);
                        return r;
                }
                if (ev.type == YAML_SEQUENCE_END_EVENT) {
                        yaml_event_delete(&ev);
                        break;
                }
                if (ev.type != YAML_SCALAR_EVENT) {
                        r = parser_fail(p, ev.start_mark.line + 1, "key '%s': expected a list of scalars, got %s",
                                        path, event_type_name(ev.type));
                        yaml_event_delete(&ev);
                        fclose(f);
                        return r;
                }
                /* One entry per item: an item that would split into several is a mistake, not a list. */
                if (ev.data.scalar.length == 0 || strpbrk((const char *) ev.data.scalar.value, ", \t\n")) {
                        r = parser_fail(p, ev.start_mark.line + 1, "key '%s': list entry '%s' is empty or has a space or a comma",
                                        path, (const char *) ev.data.scalar.value);
                        yaml_event_delete(&ev);
                        fclose(f);
                        return r;
                }
                fprintf(f, "%s%s", first ? "" : ",", (const char *) ev.data.scalar.value);
                first = false;
                yaml_event_delete(&ev);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        r = config_set(p->config, k, joined, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return parser_fail(p, line, "key '%s': invalid value: %s", path, strna(why));
        return 0;
}

static int parse_value(ConfigParser *p, const char *path, size_t key_line)
{
        yaml_event_t ev;
        int r;

        r = parser_next(p, &ev);
        if (r < 0)
                return r;

        const ConfigKey *k = config_key_find(path);
        if (k && config_type_is_list(k->type) && ev.type == YAML_SEQUENCE_START_EVENT) {
                size_t line = ev.start_mark.line + 1;
                yaml_event_delete(&ev);
                return parse_list(p, k, path, line);
        }
        if (k) {
                if (ev.type != YAML_SCALAR_EVENT) {
                        r = parser_fail(p, ev.start_mark.line + 1, "key '%s': expected a scalar, got %s", path,
                                        event_type_name(ev.type));
                        yaml_event_delete(&ev);
                        return r;
                }
                const char *v = (const char *) ev.data.scalar.value;
                bool quoted = ev.data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                              ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
                if (k->type == CONFIG_UINT && quoted) {
                        r = parser_fail(p, ev.start_mark.line + 1, "key '%s': expected an integer, got a string",
                                        path);
                        yaml_event_delete(&ev);
                        return r;
                }
                _cleanup_free_ char *why = NULL;
                r = config_set(p->config, k, v, &why);
                if (r == -ENOMEM) {
                        yaml_event_delete(&ev);
                        return r;
                }
                if (r < 0)
                        r = parser_fail(p, ev.start_mark.line + 1, "key '%s': invalid value '%s': %s", path, v,
                                        strna(why));
                yaml_event_delete(&ev);
                return r;
        }

        if (config_section_exists(path)) {
                if (ev.type != YAML_MAPPING_START_EVENT) {
                        r = parser_fail(p, ev.start_mark.line + 1, "key '%s': expected a mapping, got %s", path,
                                        event_type_name(ev.type));
                        yaml_event_delete(&ev);
                        return r;
                }
                yaml_event_delete(&ev);
                return parse_mapping(p, path);
        }

        yaml_event_delete(&ev);
        return parser_fail(p, key_line, "unknown key '%s'", path);
}

static int parse_mapping(ConfigParser *p, const char *prefix)
{
        for (;;) {
                yaml_event_t ev;
                _cleanup_free_ char *path = NULL;
                size_t line;
                int r;

                r = parser_next(p, &ev);
                if (r < 0)
                        return r;
                if (ev.type == YAML_MAPPING_END_EVENT) {
                        yaml_event_delete(&ev);
                        return 0;
                }
                if (ev.type != YAML_SCALAR_EVENT) {
                        r = parser_fail(p, ev.start_mark.line + 1, "expected a key, got %s",
                                        event_type_name(ev.type));
                        yaml_event_delete(&ev);
                        return r;
                }
                line = ev.start_mark.line + 1;
                if (asprintf(&path, "%s%s%s", prefix ?: "", prefix ? "." : "", (const char *) ev.data.scalar.value) <
                    0)
                        path = NULL;
                yaml_event_delete(&ev);
                if (!path)
                        return -ENOMEM;
                r = parse_value(p, path, line);
                if (r < 0)
                        return r;
        }
}

static int parse_document(ConfigParser *p)
{
        yaml_event_t ev;
        int r;

        for (;;) {
                r = parser_next(p, &ev);
                if (r < 0)
                        return r;
                yaml_event_type_t t = ev.type;
                size_t line = ev.start_mark.line + 1;
                yaml_event_delete(&ev);

                switch (t) {
                case YAML_STREAM_START_EVENT:
                case YAML_DOCUMENT_START_EVENT:
                case YAML_DOCUMENT_END_EVENT:
                        continue;
                case YAML_STREAM_END_EVENT:
                        return 0;
                case YAML_MAPPING_START_EVENT:
                        r = parse_mapping(p, NULL);
                        if (r < 0)
                                return r;
                        continue;
                case YAML_SCALAR_EVENT:
                        /* An empty file or "~" parses as one null scalar; that means "all defaults". */
                        continue;
                default:
                        return parser_fail(p, line, "expected a mapping at the top level");
                }
        }
}

static bool has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool chars_in(const char *s, const char *allowed)
{
        return s[strspn(s, allowed)] == 0;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"
#define KEY_CHARS LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ._-/"

/* The backups.s3 keys go together: an endpoint needs a bucket and credentials; keys stay plain. */
static int config_check_s3(const Config *c, const char *path, char **ret_why)
{
        const char *why = NULL, *e = c->backup_s3_endpoint, *b = c->backup_s3_bucket;
        const char *prefix = c->backup_s3_prefix;

        if (isempty(c->backup_s3_endpoint)) {
                if (!isempty(c->backup_s3_bucket) || !isempty(c->backup_s3_credentials_file))
                        why = "backups.s3.bucket and backups.s3.credentials_file need backups.s3.endpoint";
        } else if (!has_prefix(e, "http://") && !has_prefix(e, "https://"))
                why = "backups.s3.endpoint must be an http:// or https:// URL";
        else if (strpbrk(e + strlen("https://"), "?#@ ") || !chars_in(e, CONFIG_URL_CHARS))
                why = "backups.s3.endpoint must be a plain URL (no user, query or fragment)";
        else if (strlen(b) < 3 || strlen(b) > 63 || !chars_in(b, LOWER_DIGITS ".-"))
                why = "backups.s3.bucket must be a bucket name (3 to 63 of a-z, 0-9, '.', '-')";
        else if (isempty(c->backup_s3_credentials_file))
                why = "backups.s3.endpoint needs backups.s3.credentials_file";
        else if (isempty(c->backup_s3_region) || !chars_in(c->backup_s3_region, LOWER_DIGITS "-"))
                why = "backups.s3.region must be a region name (a-z, 0-9, '-')";
        else if (prefix[0] == '/' || strstr(prefix, "..") || strlen(prefix) > 256 || !chars_in(prefix, KEY_CHARS))
                why = "backups.s3.prefix may hold letters, digits, '.', '_', '-' and '/' (not first), "
                      "at most 256";
        if (!why)
                return 0;
        if (asprintf(ret_why, "%s: %s", path, why) < 0)
                *ret_why = NULL;
        return -EINVAL;
}

int config_load(const char *path, bool missing_ok, Config **ret, char **ret_error)
{
        assert(path);
        assert(ret);

        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        ConfigParser p = { .path = path };
        int r;

        r = config_new_default(&c);
        if (r < 0)
                return r;

        f = fopen(path, "re");
        if (!f) {
                r = -errno;
                if (r == -ENOENT && missing_ok) {
                        *ret = TAKE_PTR(c);
                        return 0;
                }
                if (ret_error && asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }

        if (!yaml_parser_initialize(&p.parser))
                return -ENOMEM;
        yaml_parser_set_input_file(&p.parser, f);
        p.config = c;
        r = parse_document(&p);
        yaml_parser_delete(&p.parser);
        if (r >= 0)
                r = config_check_s3(c, path, &p.error);
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(p.error);
                free(p.error);
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

void config_dump(const Config *c, FILE *f)
{
        assert(c);
        assert(f);

        char open[4][64] = {};
        size_t depth = 0;

        /* The table keeps each section's keys together; print it as nested YAML. */
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                const ConfigKey *k = &config_keys[i];
                char parts[4][64] = {};
                size_t n = 0, common = 0;

                for (const char *s = k->key; *s && n < 4; n++) {
                        size_t len = strcspn(s, ".");
                        snprintf(parts[n], sizeof parts[n], "%.*s", (int) len, s);
                        s += len;
                        if (*s == '.')
                                s++;
                }

                while (common < depth && common < n - 1 && streq(open[common], parts[common]))
                        common++;
                for (size_t j = common; j < n - 1; j++) {
                        fprintf(f, "%*s%s:\n", (int) (2 * j), "", parts[j]);
                        memcpy(open[j], parts[j], sizeof open[j]);
                }
                depth = n - 1;

                fprintf(f, "%*s%s: ", (int) (2 * (n - 1)), "", parts[n - 1]);
                if (k->type == CONFIG_UINT)
                        fprintf(f, "%" PRIu64 "\n", *config_uint((Config *) c, k));
                else if (config_type_is_list(k->type)) {
                        /* A flow sequence, so the output loads back as the same configuration. */
                        const char *v = *config_str((Config *) c, k);
                        fputc('[', f);
                        for (size_t o = 0; v[o];) {
                                char sep[2] = { config_list_separator(k->type), '\0' };
                                size_t len = strcspn(v + o, sep);
                                const char *q = k->type == CONFIG_PORTS ? "" : "\"";
                                fprintf(f, "%s%s%.*s%s", o ? ", " : "", q, (int) len, v + o, q);
                                o += len + (v[o + len] == sep[0]);
                        }
                        fputs("]\n", f);
                } else {
                        fputs_yaml_quoted(*config_str((Config *) c, k), f);
                        fputc('\n', f);
                }
        }
}
