/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The part of the configuration provisioning works from. Every task takes its
 * own copy when it starts, so a reload never changes a task halfway through.
 */

#include <stdint.h>

#include "core/backup-schedule.h"
#include "core/config.h"

typedef struct ProvisionSettings {
        char *kubeconfig;
        char *chart_path;
        char *chart_repository;
        char *base_domain;
        char *ingress_class;
        char *url_scheme;
        char *cluster_issuer; /* with url_scheme https: READY also waits for the store's Certificate */
        char *helm_binary;
        char *state_dir;
        uint64_t helm_timeout_sec;
        uint64_t provision_timeout_sec;
        uint64_t backup_timeout_sec;
        uint64_t backup_max_bytes; /* what all backups together may take; 0: no budget */
        BackupPolicy backups;      /* retention of scheduled backups */
        /* The copy off the host (backups.s3.*); an empty endpoint: none. */
        char *s3_endpoint, *s3_bucket, *s3_region, *s3_prefix, *s3_credentials_file;
        uint64_t s3_timeout_sec;
        uint64_t unschedulable_timeout_sec;
        uint64_t readiness_watch_sec, readiness_recheck_sec;
        uint64_t overcommit_percent;
        uint64_t usage_interval_sec, usage_keep_sec, usage_max_samples;
        uint64_t history_keep_sec, history_max_changes;
        char *quota_pods, *quota_memory, *quota_cpu;
        char *storage_mysql, *storage_wordpress;
        char *woocommerce_url;
        char *smtp_host, *smtp_tls, *smtp_user, *smtp_password_file, *mail_from;
        uint64_t smtp_port;
        char *egress_extra_cidrs, *egress_excluded_cidrs, *egress_ports; /* comma-separated, checked */
} ProvisionSettings;

/* Fills *s with copies of the config's strings; on failure *s holds nothing to free. */
int settings_from_config(ProvisionSettings *s, const Config *c);
void settings_done(ProvisionSettings *s);
