/* SPDX-License-Identifier: Apache-2.0 */

/* Running helm for a store: installs, rollbacks, repairs of releases a killed helm left pending, and what helm said. */

#include <inttypes.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/store.h"
#include "provision/provision-internal.h"

/* Keeps the end of helm's output, where its error is. */
void add_helm_event(Db *db, const char *store_id, const char *what, const HelmResult *res)
{
        const char *out = res->output ?: "";
        size_t n = strlen(out);
        char detail[2300];

        utf8_snprintf(detail, sizeof detail, "%s (exit %d)%s%s", what, res->exit_status, n ? ": " : "",
                           utf8_suffix(out, 2000));
        (void) store_add_event(db, store_id, "helm", "helm", detail);
}

/* Copies the last non-empty line of text into buf. */
void last_line(const char *text, char *buf, size_t n)
{
        const char *end = text + strlen(text), *start;

        while (end > text && (end[-1] == '\n' || end[-1] == ' '))
                end--;
        start = end;
        while (start > text && start[-1] != '\n')
                start--;
        utf8_snprintf(buf, n, "%.*s", (int) (end - start), start);
}

/* The line of helm's output that says what went wrong. */
void helm_reason(const HelmResult *res, char *buf, size_t n)
{
        const char *out = res->output ?: "";
        const char *e = strstr(out, "Error: ");

        if (!e)
                e = strstr(out, "error: ");
        if (res->timed_out) {
                utf8_snprintf(buf, n, "helm timed out");
                return;
        }
        if (!e) {
                last_line(out, buf, n);
                return;
        }
        /* The error line, and the lines that explain it ("- at '/mysql/persistence/size': ..."). */
        size_t len = 0;
        for (int lines = 0; lines < 4 && e[len]; lines++) {
                len += strcspn(e + len, "\n");
                if (e[len] == '\n' && e[len + 1] && e[len + 1] != '\n')
                        len++;
                else
                        break;
        }
        while (len > 0 && (e[len - 1] == '\n' || e[len - 1] == ' '))
                len--;
        utf8_snprintf(buf, n, "%.*s", (int) len, e);
        for (char *p = buf; *p; p++)
                if (*p == '\n')
                        *p = ' ';
}

/* Worth another attempt. "another operation ... is in progress": a helm that outlived an
 * earlier daemon (killed without its control group) still holds the release; the next
 * attempt finds it pending and repairs it, or finds it done. */
bool helm_output_transient(const HelmResult *res)
{
        const char *out = res->output ?: "";
        /* "Kubernetes cluster unreachable: the server has asked for the client to provide credentials":
         * a token the cluster no longer takes, which no retry mends. */
        if (strstr(out, "provide credentials") || strstr(out, "Unauthorized"))
                return false;
        return strstr(out, "connection refused") || strstr(out, "i/o timeout") || strstr(out, "no such host") ||
               strstr(out, "Kubernetes cluster unreachable") || strstr(out, "TLS handshake timeout") ||
               strstr(out, "connection reset by peer") ||
               strstr(out, "http2: client connection lost") || strstr(out, "broken pipe") ||
               strstr(out, "etcdserver: request timed out") ||
               strstr(out, "the server is currently unable to handle the request") ||
               strstr(out, "another operation (install/upgrade/rollback) is in progress") ||
               res->exit_status >= 128;
}

/*
 * A helm that lost the API server half way says so in as many ways as there are places a request
 * can be cut ("unexpected EOF", "http2: client connection lost", "failed to create resource: ..."):
 * an API server that does not answer now is the surer sign. Then the task waits for the cluster
 * (woken when it answers) instead of failing the store.
 */
bool helm_failed_for_the_cluster(Job *j, const HelmResult *res)
{
        _cleanup_free_ char *version = NULL;
        int r;

        if (helm_output_transient(res))
                return true;
        if (!j->kube)
                return false;
        r = kube_server_version(j->kube, &version);
        if (r >= 0 || !cluster_error_is_unreachable(r))
                return false;
        (void) store_add_event(j->db, j->store->id, "system", "cluster.unreachable",
                               "helm failed while the Kubernetes API server was not answering; "
                               "trying again once it is.");
        worker_wait_for_cluster(j->w);
        return true;
}

/*
 * A helm that was killed mid-operation leaves its release "pending-*", and
 * every later helm call on it refuses; one stopped with SIGTERM marks it
 * "failed". A first install that never finished (pending, or failed with no
 * revision ever deployed) is uninstalled (a create task installs again); a pending upgrade or rollback
 * is rolled back to the last good revision. `found` says how it was noticed,
 * for the timeline; failed_too says whether a failed first install counts (in a
 * task, which installs again; not for an idle FAILED store, whose release stays
 * for the operator to see). Returns 0 when there was nothing to do or the repair
 * worked (*ret_repaired says which), -EAGAIN when it failed, -ECANCELED.
 */
int repair_release(Db *db, const HelmContext *h, const Store *s, const char *ns, const char *task_id,
                          const char *found, bool failed_too, bool *ret_repaired)
{
        _cleanup_(json_decrefp) json_t *status = NULL, *history = NULL;
        HelmResult res = {};
        const char *st;
        char detail[300];
        int last_good = 0, r;

        *ret_repaired = false;
        /* A failing status is not fatal here: the operation that follows reports the real trouble. */
        if (helm_status(h, s->name, ns, &status, NULL) < 0)
                return 0;
        st = helm_release_status(status);
        /*
         * "failed" counts too when no revision was ever deployed: a first install that helm gave up
         * (a SIGTERM makes helm mark the release failed as it exits) refuses every later
         * `helm upgrade --install` with "has no deployed releases", so retrying could never mend it.
         * "uninstalling" too: a helm uninstall (a repair, or a delete) killed half way leaves it so, with
         * the same refusal; finishing the uninstall mends it.
         */
        if (!helm_status_is_pending(st) &&
            !(failed_too && (streq_ptr(st, "failed") || streq_ptr(st, "uninstalling"))))
                return 0;

        if (helm_history(h, s->name, ns, &history, NULL) >= 0) {
                size_t i;
                json_t *e;
                json_array_foreach(history, i, e) {
                        const char *hs = json_string_value(json_object_get(e, "status"));
                        if (streq_ptr(hs, "deployed") || streq_ptr(hs, "superseded"))
                                last_good = (int) json_integer_value(json_object_get(e, "revision"));
                }
        }

        if (streq_ptr(st, "failed") && last_good > 0)
                return 0; /* an upgrade that failed: helm upgrades from the deployed revision */
        if (streq_ptr(st, "pending-install") || streq_ptr(st, "uninstalling") || last_good == 0) {
                utf8_snprintf(detail, sizeof detail, "Release was left %s %s; uninstalling it.", st, found);
                r = helm_uninstall(h, s->name, ns, &res);
        } else {
                utf8_snprintf(detail, sizeof detail, "Release was left %s %s; rolling back to revision %d.",
                              st, found,
                              last_good);
                r = helm_rollback(h, s->name, ns, last_good, &res);
        }
        (void) store_add_event(db, s->id, "system", "helm.repair", detail);
        if (r >= 0)
                add_helm_event(db, s->id, "helm repair", &res);
        bool ok = r >= 0 && res.exit_status == 0;
        helm_result_done(&res);
        log_struct(LOG_NOTICE, LOG_FIELDS("STORE_ID", s->id, "TASK_ID", task_id), "%s (%s)", detail,
                   ok ? "done" : "failed");
        if (r == -ECANCELED)
                return r;
        if (!ok)
                return -EAGAIN;
        *ret_repaired = true;
        return 0;
}

int repair_pending_release(Job *j, bool *ret_repaired)
{
        return repair_release(j->db, &j->helm, j->store, j->ns, j->task_id, "by an interrupted helm", true,
                              ret_repaired);
}

/* Reads the release's revision and chart version back from helm: one `helm history` call. */
int read_release(Job *j, int64_t *ret_revision, char **ret_chart_version)
{
        _cleanup_(json_decrefp) json_t *history = NULL;
        json_t *last;
        const char *chart;
        int r;

        r = helm_history(&j->helm, j->store->name, j->ns, &history, NULL);
        if (r < 0)
                return r;
        last = json_array_get(history, json_array_size(history) - 1);
        if (!last)
                return -ENOENT;
        *ret_revision = json_integer_value(json_object_get(last, "revision"));
        *ret_chart_version = NULL;
        /* "store-woocommerce-1.2.3": the version starts after the last '-' that is followed by a digit run. */
        chart = json_string_value(json_object_get(last, "chart"));
        for (const char *p = chart; p && (p = strchr(p, '-')); p++)
                if (p[1] >= '0' && p[1] <= '9') {
                        *ret_chart_version = strdup(p + 1);
                        break;
                }
        return 0;
}

/* Chart to install: the packaged version from the repository, or the chart directory. */
int find_chart(Job *j, const char *version, char **ret)
{
        _cleanup_free_ char *tgz = NULL, *chart_yaml = NULL, *text = NULL;

        if (version) {
                if (asprintf(&tgz, "%s/store-woocommerce-%s.tgz", j->set.chart_repository, version) < 0)
                        return -ENOMEM;
                if (access(tgz, R_OK) == 0) {
                        *ret = TAKE_PTR(tgz);
                        return 0;
                }
                /* The unpacked chart counts when it is that version. */
                if (asprintf(&chart_yaml, "%s/Chart.yaml", j->set.chart_path) < 0)
                        return -ENOMEM;
                if (read_file(chart_yaml, 65536, &text, NULL) >= 0) {
                        _cleanup_free_ char *needle = NULL;
                        if (asprintf(&needle, "\nversion: %s\n", version) < 0)
                                return -ENOMEM;
                        if (strstr(text, needle)) {
                                *ret = strdup(j->set.chart_path);
                                return *ret ? 0 : -ENOMEM;
                        }
                }
                return -ENOENT;
        }
        *ret = strdup(j->set.chart_path);
        return *ret ? 0 : -ENOMEM;
}

int run_helm_install(Job *j, const char *chart, char *reason, size_t reason_len)
{
        HelmResult res = {};
        bool repaired;
        int r;

        r = repair_pending_release(j, &repaired);
        if (r < 0)
                return r;
        r = write_values(j);
        if (r < 0) {
                utf8_snprintf(reason, reason_len, "writing the values file %s failed: %s", j->values_path,
                              strerror(-r));
                return -EIO;
        }

        r = helm_upgrade_install(&j->helm, j->store->name, j->ns, chart, j->values_path, &res);
        if (r == -ECANCELED) {
                helm_result_done(&res);
                return r;
        }
        if (r < 0 && r != -ETIME) {
                helm_result_done(&res);
                utf8_snprintf(reason, reason_len, "helm could not be run (%s): %s", j->set.helm_binary,
                              strerror(-r));
                return -ENOEXEC;
        }
        add_helm_event(j->db, j->store->id, "helm upgrade --install", &res);
        if (res.exit_status == 0 && !res.timed_out) {
                helm_result_done(&res);
                return 0;
        }
        helm_reason(&res, reason, reason_len);
        bool transient = res.timed_out || helm_failed_for_the_cluster(j, &res);
        helm_result_done(&res);
        return transient ? -EAGAIN : -EIO;
}

int rollback_to(Job *j, int revision, char *reason, size_t reason_len)
{
        HelmResult res = {};
        int r;

        r = helm_rollback(&j->helm, j->store->name, j->ns, revision, &res);
        if (r == -ECANCELED) {
                helm_result_done(&res);
                return r;
        }
        if (r >= 0)
                add_helm_event(j->db, j->store->id, "helm rollback", &res);
        if (r < 0 || res.exit_status != 0) {
                helm_reason(&res, reason, reason_len);
                bool transient = r < 0 || helm_failed_for_the_cluster(j, &res);
                helm_result_done(&res);
                return transient ? -EAGAIN : -EIO;
        }
        helm_result_done(&res);
        return 0;
}
