/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/macro.h"
#include "provision/settings.h"

void settings_done(ProvisionSettings *s)
{
        free(s->kubeconfig);
        free(s->chart_path);
        free(s->chart_repository);
        free(s->base_domain);
        free(s->ingress_class);
        free(s->url_scheme);
        free(s->cluster_issuer);
        free(s->helm_binary);
        free(s->state_dir);
        free(s->quota_pods);
        free(s->quota_memory);
        free(s->quota_cpu);
        free(s->storage_mysql);
        free(s->storage_wordpress);
        free(s->woocommerce_url);
        free(s->smtp_host);
        free(s->smtp_tls);
        free(s->smtp_user);
        free(s->smtp_password_file);
        free(s->mail_from);
        free(s->egress_extra_cidrs);
        free(s->egress_excluded_cidrs);
        free(s->egress_ports);
        free(s->s3_endpoint);
        free(s->s3_bucket);
        free(s->s3_region);
        free(s->s3_prefix);
        free(s->s3_credentials_file);
        *s = (ProvisionSettings){};
}

int settings_from_config(ProvisionSettings *s, const Config *c)
{
        assert(s);
        assert(c);
        *s = (ProvisionSettings){
                .kubeconfig = strdup(c->kubeconfig),
                .chart_path = strdup(c->chart_path),
                .chart_repository = strdup(c->chart_repository),
                .base_domain = strdup(c->base_domain),
                .ingress_class = strdup(c->ingress_class),
                .url_scheme = strdup(c->url_scheme),
                .cluster_issuer = strdup(c->cluster_issuer),
                .helm_binary = strdup(c->helm_binary),
                .state_dir = strdup(c->state_dir),
                .helm_timeout_sec = c->helm_timeout_sec,
                .backup_timeout_sec = c->backup_timeout_sec,
                .backup_max_bytes = c->backup_max_bytes,
                .provision_timeout_sec = c->provision_timeout_sec,
                .unschedulable_timeout_sec = c->unschedulable_timeout_sec,
                .usage_interval_sec = c->usage_interval_sec,
                .usage_keep_sec = c->usage_keep_sec,
                .usage_max_samples = c->usage_max_samples,
                .history_keep_sec = c->history_keep_sec,
                .history_max_changes = c->history_max_changes,
                .readiness_watch_sec = c->readiness_watch_sec,
                .readiness_recheck_sec = c->readiness_recheck_sec,
                .overcommit_percent = c->overcommit_percent,
                .quota_pods = strdup(c->quota_pods),
                .quota_memory = strdup(c->quota_memory),
                .quota_cpu = strdup(c->quota_cpu),
                .storage_mysql = strdup(c->storage_mysql),
                .storage_wordpress = strdup(c->storage_wordpress),
                .woocommerce_url = strdup(c->woocommerce_url),
                .smtp_host = strdup(c->smtp_host),
                .smtp_port = c->smtp_port,
                .smtp_tls = strdup(c->smtp_tls),
                .smtp_user = strdup(c->smtp_user),
                .smtp_password_file = strdup(c->smtp_password_file),
                .mail_from = strdup(c->mail_from),
                .egress_extra_cidrs = strdup(c->egress_extra_cidrs),
                .egress_excluded_cidrs = strdup(c->egress_excluded_cidrs),
                .egress_ports = strdup(c->egress_ports),
                .s3_endpoint = strdup(c->backup_s3_endpoint),
                .s3_bucket = strdup(c->backup_s3_bucket),
                .s3_region = strdup(c->backup_s3_region),
                .s3_prefix = strdup(c->backup_s3_prefix),
                .s3_credentials_file = strdup(c->backup_s3_credentials_file),
                .s3_timeout_sec = c->backup_s3_timeout_sec,
        };
        backup_policy_from_config(c, &s->backups);
        if (!s->kubeconfig || !s->chart_path || !s->chart_repository || !s->base_domain || !s->ingress_class ||
            !s->url_scheme || !s->cluster_issuer || !s->helm_binary || !s->state_dir || !s->quota_pods || !s->quota_memory ||
            !s->quota_cpu || !s->storage_mysql || !s->storage_wordpress || !s->egress_extra_cidrs ||
            !s->egress_excluded_cidrs || !s->egress_ports || !s->woocommerce_url || !s->smtp_host ||
            !s->smtp_tls || !s->smtp_user || !s->smtp_password_file || !s->mail_from ||
            !s->s3_endpoint || !s->s3_bucket || !s->s3_region || !s->s3_prefix || !s->s3_credentials_file) {
                settings_done(s);
                return -ENOMEM;
        }
        return 0;
}

