/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * helm: runs the helm binary as a child process.
 *
 * posix_spawn with an argv (never a shell), stdin from /dev/null, stdout and
 * stderr through O_CLOEXEC pipes read with poll(), every other fd closed, signal
 * mask and dispositions reset, its own process group. The environment is built,
 * not inherited: PATH, HOME=<state_dir>, KUBECONFIG, and HELM_CACHE_HOME,
 * HELM_CONFIG_HOME, HELM_DATA_HOME under <state_dir> (created 0700); so
 * HELM_KUBECONTEXT, HELM_NAMESPACE, proxies and the like never leak in from the
 * daemon's environment. Secrets go in values files, never on the command line.
 *
 * After timeout_sec, or when *cancel turns true, helm gets SIGTERM (helm 3 and 4
 * then mark a running install/upgrade failed instead of leaving it pending) and
 * SIGKILL HELM_KILL_GRACE_SEC later.
 *
 * Works with helm 3 (>= 3.13, for uninstall --ignore-not-found) and helm 4; the
 * flags used and the JSON read (status -o json, history -o json) are the same in both.
 */

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <sys/types.h>

#include "basic/macro.h"

#define HELM_KILL_GRACE_SEC 5U
#define HELM_HISTORY_MAX 10
/* The combined output kept for people: its first and last halves when longer. */
#define HELM_OUTPUT_MAX (64U * 1024U)
/* stdout kept for parsing (status -o json carries the whole chart). */
#define HELM_STDOUT_MAX (16U * 1024U * 1024U)

typedef struct HelmContext {
        const char *binary;        /* "helm" (looked up in $PATH) or an absolute path */
        const char *kubeconfig;    /* passed as KUBECONFIG */
        const char *state_dir;     /* HOME, with HELM_*_HOME under it; best a dir of its own, e.g.
                                    * <StateDirectory>/helm (created 0700 when missing) */
        unsigned timeout_sec;      /* 0 picks 300 */
        const atomic_bool *cancel; /* may be NULL */
        /* May be NULL. Asked right before helm starts: a negative errno keeps it from starting and is
         * returned as is. The task's fencing check: a worker that lost its lease runs no helm. */
        int (*may_start)(void *userdata);
        /* May be NULL. Told the pid and start time (clock ticks after boot) once helm runs, and pid 0
         * once it is reaped: the task records them, so that a helm that outlives the daemon can be
         * found by the next start. */
        void (*child)(void *userdata, pid_t pid, uint64_t start_time);
        void *userdata;
} HelmContext;

typedef struct HelmResult {
        int exit_status;   /* exit code, or 128+signal when helm died of a signal */
        bool timed_out;    /* killed after timeout_sec */
        bool cancelled;    /* killed because *cancel was raised */
        char *output;      /* stdout and stderr as they came, at most HELM_OUTPUT_MAX (+ a marker) */
        char *stdout_data; /* stdout alone, at most HELM_STDOUT_MAX */
} HelmResult;

/* Frees the strings; the struct itself is the caller's. Safe on a zeroed result. */
void helm_result_done(HelmResult *r);

/*
 * Runs `<binary> args...` (args is NULL-terminated, without argv[0]).
 * Returns 0 when helm ran to its end, whatever its exit status (check
 * ret->exit_status). Returns -ETIME when it was killed after the timeout and
 * -ECANCELED when it was killed because of the cancel flag; *ret is filled in
 * those two cases too, so the caller can show what helm printed. Other errors
 * (-ENOENT: no such binary, ...) leave *ret untouched.
 */
int helm_run(const HelmContext *h, char *const *args, HelmResult *ret);

/*
 * helm upgrade --install <release> <chart> --namespace <ns> [--values <file>]
 *   --reset-values --history-max 10 --timeout <timeout_sec - grace>s
 * No --wait: the daemon watches readiness itself. --timeout bounds hooks, and is
 * kept below our kill timeout so helm fails the release cleanly first.
 * The namespace must exist. Returns as helm_run(); success is exit_status 0.
 */
int helm_upgrade_install(const HelmContext *h, const char *release, const char *namespace, const char *chart,
                         const char *values_file, HelmResult *ret);

/*
 * helm uninstall <release> --namespace <ns> --ignore-not-found. A release that
 * does not exist is success: with --ignore-not-found helm exits 0 (helm >= 3.13
 * and 4); output containing "release: not found" is also taken as success.
 * Returns 0 when the release is gone, -EIO when helm failed (output in *ret),
 * or as helm_run(). *ret is filled whenever helm ran.
 */
int helm_uninstall(const HelmContext *h, const char *release, const char *namespace, HelmResult *ret);

/*
 * helm rollback <release> [<revision>] --namespace <ns> --history-max 10 --timeout ...
 * revision 0 rolls back to the previous revision. Returns as helm_run().
 */
int helm_rollback(const HelmContext *h, const char *release, const char *namespace, int revision,
                  HelmResult *ret);

/*
 * helm status <release> --namespace <ns> -o json: the release object
 * ({name, namespace, version, info: {status, description, ...}, ...}).
 * -ENOENT when there is no such release, -EIO when helm failed otherwise,
 * -EBADMSG when its output is not JSON, or as helm_run(). On failure
 * *ret_error (if not NULL) gets what helm printed.
 */
int helm_status(const HelmContext *h, const char *release, const char *namespace, json_t **ret,
                char **ret_error);

/*
 * helm history <release> --namespace <ns> -o json: an array of {revision,
 * updated, status, chart, app_version, description}, oldest first.
 * Errors as helm_status(); an empty history is -ENOENT.
 */
int helm_history(const HelmContext *h, const char *release, const char *namespace, json_t **ret,
                 char **ret_error);

/* `helm version --template {{.Version}}`, e.g. "v4.3.1". */
int helm_version(const HelmContext *h, char **ret, char **ret_error);

/* info.status and version of a release object from helm_status(); NULL / 0 when absent. */
const char *helm_release_status(json_t *release);
int helm_release_revision(json_t *release);

/* True for pending-install, pending-upgrade and pending-rollback: a helm that was killed mid-operation. */
bool helm_status_is_pending(const char *status);
