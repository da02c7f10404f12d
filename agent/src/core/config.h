/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The daemon's configuration: one YAML file, every key optional. The table in
 * config.c is the single source of keys, types, defaults and limits; README.md
 * documents the same keys.
 */

#include <stdint.h>
#include <stdio.h>

#include "basic/macro.h"

#define CONFIG_DEFAULT_PATH SYSCONFDIR "/storeagent/storeagent.yaml"

typedef struct Config {
        char *listen_address;
        uint64_t listen_port;
        uint64_t http_threads_max; /* connection limit; one thread per connection */
        uint64_t connections_per_address; /* connections one client address may hold open */
        uint64_t request_timeout_sec;     /* to receive one request's headers and body, however it trickles */
        uint64_t idle_timeout_sec;        /* a connection with no traffic at all is closed after this */
        char *listen_hostnames;    /* space-separated host names the daemon answers to, besides addresses */
        char *trusted_proxies;     /* space-separated peer addresses whose X-Forwarded-Proto is believed */
        char *secure_cookies;      /* "auto", "always" or "never" */
        char *database;
        uint64_t database_busy_timeout_ms; /* how long a write waits for another's lock before "busy" */
        char *kubeconfig;
        char *chart_path;
        char *chart_repository; /* directory of packaged chart versions for upgrades */
        char *base_domain;
        uint64_t max_domains; /* own domains one store may have */
        char *ingress_class;
        char *url_scheme;
        char *cluster_issuer; /* cert-manager ClusterIssuer of https stores' certificates; empty: none */
        char *helm_binary;
        char *state_dir;
        char *web_root;
        uint64_t workers;
        uint64_t task_lease_sec;
        uint64_t helm_timeout_sec;
        uint64_t provision_timeout_sec;
        uint64_t backup_timeout_sec; /* for each part of a backup (the dump, the files) */
        uint64_t backup_every_sec;   /* the platform's interval between scheduled backups; 0: none */
        uint64_t backup_min_every_sec; /* the shortest interval a store's owner may set */
        uint64_t backup_scheduler_interval_sec; /* how often the scheduler looks for due stores */
        uint64_t backup_keep_last, backup_keep_daily, backup_keep_weekly; /* retention of scheduled backups */
        uint64_t backup_max_bytes;   /* what all backups together may take on disk; 0: no budget */
        uint64_t backup_keep_after_delete_sec; /* a deleted store's backups are removed this long after */
        uint64_t backup_overdue_grace_sec; /* a last backup older than the interval and this is a warning */
        /* A copy of each backup on S3-compatible storage; no endpoint: none. */
        char *backup_s3_endpoint;         /* "https://s3.eu-west-1.amazonaws.com" */
        char *backup_s3_bucket;
        char *backup_s3_region;
        char *backup_s3_prefix;           /* the object keys' start ("storeagent/"); may be empty */
        char *backup_s3_credentials_file; /* access key and secret key; read at the start and at each copy */
        uint64_t backup_s3_timeout_sec;   /* one object's upload or download */
        uint64_t unschedulable_timeout_sec; /* a pod the scheduler cannot place for this long fails its store */
        uint64_t readiness_watch_sec;       /* a worker watches a store's workloads this long, then hands it back */
        uint64_t readiness_recheck_sec;     /* and the queue brings the waiting task back after this */
        uint64_t overcommit_percent;        /* stores admitted against this share of the nodes' allocatable */
        char *when_full;                    /* "refuse" a store that does not fit, or let it "wait" for room */
        uint64_t capacity_recheck_sec;      /* a store waiting for room is looked at again after this */
        uint64_t usage_interval_sec;        /* READY stores' resource use is sampled this often; 0: never */
        uint64_t usage_keep_sec;            /* samples are kept this long */
        uint64_t usage_max_samples;         /* and at most this many per store */
        uint64_t history_keep_sec;          /* stores' status changes are kept this long */
        uint64_t history_max_changes;       /* and at most this many */
        uint64_t stats_max_creates;         /* the most creates one read of provisioning times covers */
        uint64_t idle_exit_sec;
        char *log_format;
        char *log_level;

        /* Guardrails. */
        uint64_t requests_per_window;
        uint64_t window_sec;
        uint64_t creates_per_hour;
        uint64_t max_stores;
        uint64_t tenant_max_stores;
        uint64_t max_pending_tasks;
        uint64_t max_body_bytes;
        uint64_t max_json_depth;
        uint64_t max_header_bytes;
        uint64_t session_ttl_sec;
        uint64_t signin_failures;     /* failed sign-ins per client address and signin_window */
        uint64_t signin_window_sec;
        uint64_t streams_per_account; /* live streams open at once per account */
        uint64_t max_streams;         /* live streams open at once on the platform */
        uint64_t max_cluster_calls;   /* D-Bus calls that read the cluster, at once (each a thread) */
        uint64_t max_log_lines;       /* the most lines one log request may ask for */
        uint64_t max_log_bytes;       /* the most bytes a log read (without follow) returns */
        uint64_t log_buffer_bytes;    /* a log stream's buffer for a slow client */

        /* What each store's namespace gets. */
        char *quota_pods;
        char *quota_memory;
        char *quota_cpu;
        char *storage_mysql;
        char *storage_wordpress;
        char *woocommerce_url; /* a mirror of the WooCommerce zip the chart pins; empty: the chart's */

        /* Every store's outgoing mail (the chart's mail.smtp values); no smtp_host: none. */
        char *smtp_host;
        uint64_t smtp_port;
        char *smtp_tls;           /* "none", "starttls" or "tls" */
        char *smtp_user;
        char *smtp_password_file; /* read at each create and upgrade; becomes the store-smtp Secret */
        char *mail_from;

        /*
         * Where a store's pods may connect beyond the cluster's DNS and their own database. Lists are kept
         * as one comma-separated string in canonical form ("10.0.0.0/8,172.16.0.0/12"), checked on load.
         */
        char *egress_extra_cidrs;    /* reachable on any port (an SMTP relay, an S3 endpoint) */
        char *egress_excluded_cidrs; /* IPv4 ranges the internet rule leaves out */
        char *egress_ports;          /* TCP ports of the internet rule ("80,443") */

        /* Webhooks (core/webhook.h, notify/webhook-sender.h). */
        char *webhook_private_destinations; /* "refuse" or "allow" loopback, private, link-local addresses */
        uint64_t webhook_max_url_bytes;
        uint64_t webhook_max_per_account;
        uint64_t webhook_timeout_sec;     /* one delivery attempt, connect to answer */
        uint64_t webhook_max_attempts;
        uint64_t webhook_retry_initial_ms; /* the first wait before another attempt; doubles each time */
        uint64_t webhook_retry_max_sec;    /* the longest wait between attempts */
        uint64_t webhook_log_keep;         /* deliveries kept in each webhook's log */
        uint64_t webhook_poll_interval_ms; /* how often the sender looks for deliveries store events queued */
} Config;

int config_new_default(Config **ret);
Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/*
 * Loads path over the defaults. On failure returns a negative errno and, when
 * ret_error is given, a message naming the file, line and key.
 */
int config_load(const char *path, bool missing_ok, Config **ret, char **ret_error);

/* Writes the effective configuration as YAML (every key, defaults included). */
void config_dump(const Config *c, FILE *f);
