/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What the files of the provision layer share: the Provisioner itself, the
 * context of one running task (Job), and the steps the task kinds are made of.
 * Nothing outside src/provision includes this.
 */

#include <pthread.h>
#include <stdatomic.h>

#include "cluster/helm.h"
#include "cluster/kube.h"
#include "core/db.h"
#include "provision/capacity-model.h"
#include "provision/objects.h"
#include "provision/provision.h"
#include "provision/quota.h"
#include "provision/settings.h"

#define KUBE_TIMEOUT_SEC 15

struct Provisioner {
        pthread_mutex_t lock;
        ProvisionSettings set;
        uint64_t generation; /* bumped on reload so workers rebuild their clients */

        /* Cached answers for the API. */
        pthread_mutex_t status_lock;
        pthread_mutex_t probe_lock; /* held while one thread asks the API server; guards status_client */
        uint64_t status_checked;
        bool reachable;
        char *status_detail;
        json_t *orphans;
        KubeClient *status_client;
        uint64_t status_generation;

        /* Credentials reads from the API's threads: one cached client, used by whoever takes creds_lock. */
        pthread_mutex_t creds_lock;
        KubeClient *creds_client;
        uint64_t creds_generation;

        /* Capacity reads (admission, /platform, /metrics): one client, used by whoever takes capacity_lock. */
        pthread_mutex_t capacity_lock;
        KubeClient *capacity_client;
        uint64_t capacity_generation;
        CapacityAmounts capacity_need; /* what a new store reserves, for the settings of need_generation */
        char *capacity_need_source;    /* "chart" or "quota" */
        uint64_t capacity_need_generation;
        char *capacity_need_version;    /* the configured chart's version: what capacity_need is of */
        json_t *capacity_version_needs; /* {"version": [cpu, memory, pods]} of other chart versions */

        /* The reconciler thread: orphan namespaces, releases left pending with no task to repair them. */
        pthread_t reconciler;
        bool reconciler_started;
        atomic_bool stopping;
        unsigned copy_removals; /* removals of copies on S3 under way, under lock */
        pthread_cond_t copy_removals_done;
        char *db_path;

        /* The usage sampler thread (usage.c); its view of the metrics API, under status_lock. */
        pthread_t usage_sampler;
        bool usage_sampler_started;
        char *usage_state;  /* "available", "unavailable", "disabled"; NULL before the first look */
        char *usage_reason; /* why not available */
};

/* usage.c */
int usage_sampler_start(Provisioner *p);

/* settings.c */
int settings_copy(Provisioner *p, ProvisionSettings *ret, uint64_t *ret_generation);
int make_client(const char *kubeconfig, KubeClient **ret, char **ret_error);

/* store-needs.c: what a new store reserves, from `helm template` of the chart (the quota when that fails);
 * chart NULL is the configured chart, else a chart archive or directory (another version's). */
int read_store_needs(const ProvisionSettings *set, const char *chart, CapacityAmounts *ret,
                     char **ret_source);

/* ---- job.c: the context of one task ---- */

typedef struct Job {
        Provisioner *p;
        Worker *w;
        Task *t;
        Db *db;
        Store *store;
        KubeClient *kube;
        ProvisionSettings set;
        HelmContext helm;
        char *ns;
        char *helm_dir;
        char *values_path;
        char task_id[24];
        int step, steps;
        StoreStatus expected; /* the status this task works under; anything else means it was superseded */
        json_t *seen_events;
        json_t *wait; /* the wait for the workloads this task is in, in its payload (borrowed), or NULL */
} Job;

void progress(Job *j, const char *fmt, ...) _printf_(2, 3);
/* Starts the next numbered step: progress, an event, and a journal line. */
void begin_step(Job *j, const char *name);
/* A reason shown on the store while the task keeps trying. */
void set_waiting_reason(Job *j, const char *reason);
/* True when the store moved on (someone asked for a delete): the running task should stop. */
bool superseded(Job *j, StoreStatus expected);
/* Marks the store FAILED for reason (unless superseded); returns -EIO, or 0 when superseded. */
int fail_store(Job *j, const char *action, const char *reason);
/* Whether an error talking to the cluster may pass by itself (unreachable, timeout, throttled, refused for now). */
bool cluster_error_is_transient(int r);
/* Whether the API server was not reached at all (the runner then probes it and wakes the task). */
bool cluster_error_is_unreachable(int r);
/* Turns an error talking to the cluster into "wait and retry" (-EAGAIN) or "fail", and records why. */
int cluster_error(Job *j, int r, const char *doing);
int job_checkpoint(Job *j);

/*
 * Keeps the release's Helm history with the store, for GET .../releases to serve without starting helm;
 * called as a task ends on the store (READY or FAILED), before the status says so.
 */
void job_record_releases(Job *j);

/* The release's Helm history, in the shape the API serves; an absent release is an empty array. */
int release_history_read(const HelmContext *h, const char *release, const char *namespace, json_t **ret);

/* ---- steps.c: the namespace and what goes into it before helm ---- */

int step_namespace(Job *j);
int step_quota(Job *j);
int step_network_policies(Job *j);
int step_secrets(Job *j);
/* The store-smtp Secret from stores.mail.smtp_password_file, when one is configured (create, upgrade). */
int step_smtp_secret(Job *j);
int write_values(Job *j);

/* ---- certificate.c ---- */

/*
 * With url_scheme https and stores.tls.cluster_issuer, counts the store's Certificate into total, and into
 * ready when cert-manager says it is Ready for its current spec; otherwise names it and why in waiting_on
 * (when that is still empty). Without an issuer there is nothing to count.
 */
void check_certificate(Job *j, int *total, int *ready, char *waiting_on, size_t n);

/* ---- release.c: helm ---- */

void add_helm_event(Db *db, const char *store_id, const char *what, const HelmResult *res);
/* Copies the last non-empty line of text into buf. */
void last_line(const char *text, char *buf, size_t n);
void helm_reason(const HelmResult *res, char *buf, size_t n);
bool helm_output_transient(const HelmResult *res);
bool helm_failed_for_the_cluster(Job *j, const HelmResult *res);
int repair_release(Db *db, const HelmContext *h, const Store *s, const char *ns, const char *task_id,
                   const char *found, bool failed_too, bool *ret_repaired);
int repair_pending_release(Job *j, bool *ret_repaired);
int read_release(Job *j, int64_t *ret_revision, char **ret_chart_version);
int find_chart(Job *j, const char *version, char **ret);
int run_helm_install(Job *j, const char *chart, char *reason, size_t reason_len);
int rollback_to(Job *j, int revision, char *reason, size_t reason_len);

/* ---- readiness.c ---- */

/*
 * A task waits for its store's workloads without holding a worker: wait_begin() records the wait in the
 * task's payload ("wait": the phase, when it began, what was seen so far), the task's row keeps it
 * across attempts and restarts, and wait_resuming() tells the next attempt to go straight back to it.
 * extra (taken, may be NULL) holds what the task needs when the wait ends; read it from j->wait.
 */
int wait_begin(Job *j, const char *phase, json_t *extra);
/* The phase of the wait an earlier attempt of this task handed back from, or NULL. */
const char *wait_resuming(Job *j);
/*
 * Watches the workloads for up to stores.readiness_watch: 0 when ready; -EINPROGRESS when not yet (the
 * wait is saved and the task is to be handed back, due again after stores.readiness_recheck); -EIO with
 * the cluster's reason when a pod stays unschedulable, cannot pull its image, or a volume claim cannot be
 * bound, for stores.unschedulable_timeout; -ETIMEDOUT once stores.provision_timeout has passed since
 * wait_begin().
 */
int wait_for_workloads(Job *j, StoreStatus expected, char *reason, size_t reason_len);
/* Why a pod cannot start until something outside the store changes (unschedulable, its image cannot be
 * pulled), written into buf; NULL when it is not stuck. */
const char *pod_stuck_reason(json_t *pod, char *buf, size_t n);
void mark_ready(Job *j, const char *action, const char *detail, const char *reason);
/*
 * What the chart says about claims whose size it kept on this upgrade (annotation
 * storeagent.io/size-kept: the StorageClass cannot expand, or the value would shrink it), as
 * " Volume NAME kept SIZE: WHY." sentences; empty when none.
 */
void kept_claim_sizes(Job *j, char *buf, size_t n);
int wait_interrupted(int r);

/* ---- nudge.c: waking controllers that back off from refused pod creations ---- */

/* When a refusal is pending that every quota of the namespace now admits, nudges the workloads
 * that lack pods and records it in the timeline. Returns how many were nudged. */
int nudge_if_quota_admits(Job *j, QuotaRefusal *q);
/* Nudges the release's StatefulSets, ReplicaSets and Jobs that lack pods; names them in
 * ret_names when given. Returns how many were nudged. */
int nudge_workloads(Job *j, char *ret_names, size_t n);

/* ---- the task kinds ---- */

int task_create(Job *j);
int task_delete(Job *j);
int task_upgrade(Job *j);
int task_rollback(Job *j);
int task_rotate_credentials(Job *j);
int task_backup(Job *j);
int task_restore(Job *j);

/* ---- task-backup.c, shared with task-restore.c ---- */

/* Takes backup backup_id (a queued or running row) of the job's store; 0 once its row is final. */
int backup_take(Job *j, const char *backup_id);
/* A Running pod of the release's component, not being deleted; -ENOENT when none. */
int backup_find_pod(Job *j, const char *component, char **ret);
/* Removes a backup's directory and the files a backup puts there. */
void backup_remove_dir(const char *path);

/* ---- backup-copy.c: the copy of a backup on S3-compatible storage ---- */

/* Whether backups.s3.endpoint names one. */
bool backup_s3_enabled(const ProvisionSettings *s);
/* After backup backup_id succeeded: its files to S3; the row and the timeline say how it went. */
void backup_copy(Job *j, const char *backup_id);
/*
 * When dir (backup row's directory) is gone and the backup has a copy: downloads it into dir.partial,
 * checks each part's SHA-256, renames it dir. 0 when dir is there, 1 with a reason, or -ENOMEM.
 */
int backup_fetch(Job *j, json_t *row, const char *dir, char *reason, size_t n);
/* Reads the keys of backups.s3.credentials_file; a negative errno with the reason (never the keys). */
int backup_s3_credentials(const char *path, char **ret_access_key, char **ret_secret_key, char *reason,
                          size_t n);
/* Deletes the copy of a removed backup (its row), best effort: trouble is logged. */
void backup_remote_remove(const ProvisionSettings *s, json_t *row, const atomic_bool *cancel);

/* ---- task-restore.c, shared with task-clone.c ---- */

/* 0 when every part of backup row (as backup_get_row() gives it) has the SHA-256 its manifest says, else 1
 * with the reason. */
int restore_verify(Job *j, json_t *row, char *reason, size_t n);
/* The same for the files in dir (no download). */
int restore_verify_dir(json_t *row, const char *dir, char *reason, size_t n);
/* Puts every part of backup row into the job's store. 0, 1 with a reason, or a cluster error. */
int restore_load(Job *j, json_t *row, char *reason, size_t n);

/* ---- task-clone.c, called by task-create.c ---- */

/*
 * A new store made from a backup (the create task's payload "clone"), once its workloads are ready:
 * the backup is checked and restored into it, then the site's URL and the administrator's password
 * are made the new store's own. 0 with *ret_detail (the timeline's words), 1 with a reason when the
 * clone cannot be made, or an error of the task (a cluster error, -ECANCELED, ...).
 */
int clone_restore(Job *j, json_t *clone, char **ret_detail, char *reason, size_t n);
