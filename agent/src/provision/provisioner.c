/* SPDX-License-Identifier: Apache-2.0 */

/* The Provisioner: its lifetime, its settings snapshot and reload, and the Kubernetes clients it makes. */

#include "basic/log.h"
#include "basic/util.h"
#include "cluster/kubeconfig.h"
#include "core/backup.h"
#include "provision/provision-internal.h"

int settings_copy(Provisioner *p, ProvisionSettings *ret, uint64_t *ret_generation)
{
        int r;
        pthread_mutex_lock(&p->lock);
        Config c = {
                .kubeconfig = p->set.kubeconfig,
                .chart_path = p->set.chart_path,
                .chart_repository = p->set.chart_repository,
                .base_domain = p->set.base_domain,
                .ingress_class = p->set.ingress_class,
                .url_scheme = p->set.url_scheme,
                .cluster_issuer = p->set.cluster_issuer,
                .helm_binary = p->set.helm_binary,
                .state_dir = p->set.state_dir,
                .helm_timeout_sec = p->set.helm_timeout_sec,
                .provision_timeout_sec = p->set.provision_timeout_sec,
                .backup_timeout_sec = p->set.backup_timeout_sec,
                .backup_max_bytes = p->set.backup_max_bytes,
                .backup_every_sec = p->set.backups.every_sec,
                .backup_min_every_sec = p->set.backups.min_every_sec,
                .backup_keep_last = p->set.backups.keep_last,
                .backup_keep_daily = p->set.backups.keep_daily,
                .backup_keep_weekly = p->set.backups.keep_weekly,
                .backup_overdue_grace_sec = p->set.backups.overdue_grace_sec,
                .unschedulable_timeout_sec = p->set.unschedulable_timeout_sec,
                .readiness_watch_sec = p->set.readiness_watch_sec,
                .readiness_recheck_sec = p->set.readiness_recheck_sec,
                .overcommit_percent = p->set.overcommit_percent,
                .usage_interval_sec = p->set.usage_interval_sec,
                .usage_keep_sec = p->set.usage_keep_sec,
                .usage_max_samples = p->set.usage_max_samples,
                .history_keep_sec = p->set.history_keep_sec,
                .history_max_changes = p->set.history_max_changes,
                .quota_pods = p->set.quota_pods,
                .quota_memory = p->set.quota_memory,
                .quota_cpu = p->set.quota_cpu,
                .storage_mysql = p->set.storage_mysql,
                .storage_wordpress = p->set.storage_wordpress,
                .egress_extra_cidrs = p->set.egress_extra_cidrs,
                .egress_excluded_cidrs = p->set.egress_excluded_cidrs,
                .egress_ports = p->set.egress_ports,
                .woocommerce_url = p->set.woocommerce_url,
                .smtp_host = p->set.smtp_host,
                .smtp_port = p->set.smtp_port,
                .smtp_tls = p->set.smtp_tls,
                .smtp_user = p->set.smtp_user,
                .smtp_password_file = p->set.smtp_password_file,
                .mail_from = p->set.mail_from,
                .backup_s3_endpoint = p->set.s3_endpoint,
                .backup_s3_bucket = p->set.s3_bucket,
                .backup_s3_region = p->set.s3_region,
                .backup_s3_prefix = p->set.s3_prefix,
                .backup_s3_credentials_file = p->set.s3_credentials_file,
                .backup_s3_timeout_sec = p->set.s3_timeout_sec,
        };
        r = settings_from_config(ret, &c);
        if (ret_generation)
                *ret_generation = p->generation;
        pthread_mutex_unlock(&p->lock);
        return r;
}

typedef struct CopyRemoval {
        Provisioner *p;
        ProvisionSettings set;
        json_t *row;
} CopyRemoval;

static void *copy_removal_main(void *userdata)
{
        CopyRemoval *c = userdata;
        Provisioner *p = c->p;

        backup_remote_remove(&c->set, c->row, &p->stopping);
        settings_done(&c->set);
        json_decref(c->row);
        free(c);
        pthread_mutex_lock(&p->lock);
        p->copy_removals--;
        pthread_cond_broadcast(&p->copy_removals_done);
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

/*
 * A backup removed (deleted, pruned, expired): its copy on S3 goes too, as the settings are now, on a
 * thread of its own: the removal may come from the main loop (expiry, retention), which must not wait
 * for S3. A stop cancels it; the copy then stays, as the log says.
 */
static void provisioner_backup_removed(json_t *row, void *userdata)
{
        Provisioner *p = userdata;
        pthread_attr_t attr;
        pthread_t t;
        CopyRemoval *c;
        int r;

        if (!json_is_string(json_object_get(row, "remote_key")))
                return;
        c = calloc(1, sizeof *c);
        if (!c || settings_copy(p, &c->set, NULL) < 0) {
                free(c);
                return (void) log_oom();
        }
        c->p = p;
        c->row = json_incref(row);
        pthread_mutex_lock(&p->lock);
        p->copy_removals++;
        pthread_mutex_unlock(&p->lock);
        (void) pthread_attr_init(&attr);
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = -pthread_create(&t, &attr, copy_removal_main, c);
        (void) pthread_attr_destroy(&attr);
        if (r < 0) {
                log_warning_errno(r, "Backup %s: cannot start removing its copy on S3: %m",
                                  strna(json_string_value(json_object_get(row, "id"))));
                settings_done(&c->set);
                json_decref(c->row);
                free(c);
                pthread_mutex_lock(&p->lock);
                p->copy_removals--;
                pthread_mutex_unlock(&p->lock);
        }
}

int provisioner_new(Provisioner **ret, const Config *config)
{
        Provisioner *p;
        int r;

        assert(ret);
        assert(config);
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        pthread_mutex_init(&p->status_lock, NULL);
        pthread_mutex_init(&p->probe_lock, NULL);
        pthread_mutex_init(&p->creds_lock, NULL);
        pthread_mutex_init(&p->capacity_lock, NULL);
        pthread_cond_init(&p->copy_removals_done, NULL);
        r = settings_from_config(&p->set, config);
        if (r < 0) {
                free(p);
                return r;
        }
        /* The keys of the copies on S3 are read at the start, so a file that cannot be stops it here. */
        if (backup_s3_enabled(&p->set)) {
                _cleanup_free_ char *access = NULL;
                _cleanup_erase_free_ char *secret = NULL;
                char reason[512];

                r = backup_s3_credentials(p->set.s3_credentials_file, &access, &secret, reason,
                                          sizeof reason);
                if (r < 0) {
                        log_error("%s", reason);
                        settings_done(&p->set);
                        free(p);
                        return r;
                }
        }
        p->orphans = json_array();
        backup_set_removed_hook(provisioner_backup_removed, p);
        *ret = p;
        return 0;
}

void provisioner_cancel(Provisioner *p)
{
        if (p)
                atomic_store(&p->stopping, true);
}

Provisioner *provisioner_free(Provisioner *p)
{
        if (!p)
                return NULL;
        backup_set_removed_hook(NULL, NULL);
        atomic_store(&p->stopping, true);
        pthread_mutex_lock(&p->lock);
        while (p->copy_removals > 0)
                pthread_cond_wait(&p->copy_removals_done, &p->lock);
        pthread_mutex_unlock(&p->lock);
        if (p->reconciler_started)
                pthread_join(p->reconciler, NULL);
        if (p->usage_sampler_started)
                pthread_join(p->usage_sampler, NULL);
        free(p->usage_state);
        free(p->usage_reason);
        free(p->db_path);
        settings_done(&p->set);
        kube_client_free(p->status_client);
        kube_client_free(p->creds_client);
        kube_client_free(p->capacity_client);
        free(p->capacity_need_source);
        free(p->capacity_need_version);
        json_decref(p->capacity_version_needs);
        free(p->status_detail);
        json_decref(p->orphans);
        pthread_mutex_destroy(&p->lock);
        pthread_mutex_destroy(&p->status_lock);
        pthread_mutex_destroy(&p->probe_lock);
        pthread_mutex_destroy(&p->creds_lock);
        pthread_mutex_destroy(&p->capacity_lock);
        free(p);
        return NULL;
}

void provisioner_reload(Provisioner *p, const Config *config)
{
        ProvisionSettings fresh;

        assert(p);
        assert(config);
        if (settings_from_config(&fresh, config) < 0)
                return;
        pthread_mutex_lock(&p->lock);
        settings_done(&p->set);
        p->set = fresh;
        p->generation++;
        pthread_mutex_unlock(&p->lock);
}

int make_client(const char *kubeconfig, KubeClient **ret, char **ret_error)
{
        _cleanup_(kubeconfig_freep) KubeConfig *kc = NULL;
        int r;

        r = kubeconfig_load_full(kubeconfig, NULL, &kc, ret_error);
        if (r < 0)
                return r;
        return kube_client_new(ret, kc, KUBE_TIMEOUT_SEC);
}

int provisioner_probe_cluster(void *userdata)
{
        Provisioner *p = userdata;
        _cleanup_(kubeconfig_freep) KubeConfig *kc = NULL;
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        _cleanup_free_ char *kubeconfig = NULL;
        int r;

        assert(p);
        pthread_mutex_lock(&p->lock);
        kubeconfig = strdup(p->set.kubeconfig);
        pthread_mutex_unlock(&p->lock);
        if (!kubeconfig)
                return -ENOMEM;
        r = kubeconfig_load_full(kubeconfig, NULL, &kc, NULL);
        if (r < 0)
                return r;
        /* Short: an idle worker asks, and a cluster that is down refuses the connection at once. */
        r = kube_client_new(&c, kc, 2);
        if (r < 0)
                return r;
        kube_client_set_cancel(c, &p->stopping);
        return kube_request(c, "GET", "/readyz", NULL, NULL, NULL);
}
