/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The helm runner, in two parts:
 *
 *  1. with stand-ins for helm (env, sh, sleep and a fake helm script written
 *     here): the child's environment is only what we give it, output is captured
 *     and bounded, no fd leaks in, a timeout or the cancel flag kills it (SIGTERM,
 *     then SIGKILL), and the helm commands are built with the flags we expect;
 *  2. with the real helm ($HELM) on the control plane ($KUBECONFIG), on a tiny
 *     chart written to a temporary directory: install, upgrade, history,
 *     rollback, uninstall (twice), status of a missing release.
 *
 * Without $HELM and $KUBECONFIG part 1 runs and the test exits 77 (skipped).
 */

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "basic/utf8.h"
#include "basic/util.h"
#include "cluster/helm.h"
#include "cluster/kube.h"
#include "tests.h"

/* Checks a helm call's return; on surprise prints what helm said. */
#define CHECK_HELM(call, expected, res)                                                                     \
        do {                                                                                                \
                int _r = (call);                                                                            \
                if (_r != (expected)) {                                                                     \
                        fprintf(stderr, "%s:%d: %s returned %d, expected %d; helm said:\n%s\n", __FILE__,   \
                                __LINE__, #call, _r, (expected), strna((res)->output));                     \
                        failures++;                                                                         \
                }                                                                                           \
        } while (0)

static char *dir; /* test_tmpdir(): removed when every check passed */

static int intro(void)
{
        dir = test_tmpdir();
        return 0;
}

static HelmContext context(const char *binary, const char *state, unsigned timeout)
{
        return (HelmContext){ .binary = binary,
                              .kubeconfig = "/nonexistent/kubeconfig",
                              .state_dir = state,
                              .timeout_sec = timeout };
}

TEST(test_environment)
{
        _cleanup_free_ char *state = test_path(dir, "state");
        HelmContext h = context("/usr/bin/env", state, 10);
        HelmResult res = {};
        size_t lines = 0;
        struct stat st;

        /* What the daemon may carry in its environment must not reach helm. */
        setenv("HELM_KUBECONTEXT", "someone-elses-cluster", 1);
        setenv("HELM_NAMESPACE", "kube-system", 1);
        setenv("HTTPS_PROXY", "http://proxy.invalid:3128", 1);

        CHECK_HELM(helm_run(&h, NULL, &res), 0, &res);
        CHECK(res.exit_status == 0);
        for (char *l = res.stdout_data, *nl; l && *l; l = nl + 1) {
                static const char *const allowed[] = {
                        "PATH=",          "HOME=", "KUBECONFIG=", "HELM_CACHE_HOME=", "HELM_CONFIG_HOME=",
                        "HELM_DATA_HOME="
                };
                bool ok = false;

                nl = strchr(l, '\n');
                if (!nl)
                        break;
                *nl = '\0';
                for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                        ok = ok || strncmp(l, allowed[i], strlen(allowed[i])) == 0;
                if (!ok)
                        fprintf(stderr, "unexpected variable in helm's environment: %s\n", l);
                CHECK(ok);
                lines++;
        }
        CHECK(lines == 6);
        CHECK_CONTAINS(res.output, "KUBECONFIG=/nonexistent/kubeconfig");
        CHECK(!strstr(res.output, "HELM_KUBECONTEXT"));
        {
                _cleanup_free_ char *home = NULL, *cache = NULL;
                CHECK(asprintf(&home, "HOME=%s\n", state) > 0);
                CHECK(asprintf(&cache, "HELM_CACHE_HOME=%s/cache\n", state) > 0);
                CHECK_CONTAINS(res.output, home);
                CHECK_CONTAINS(res.output, cache);
        }
        CHECK(stat(state, &st) == 0 && (st.st_mode & 0777) == 0700);
        {
                _cleanup_free_ char *data = test_path(dir, "state/data");
                CHECK(stat(data, &st) == 0 && (st.st_mode & 0777) == 0700);
        }
        helm_result_done(&res);
        unsetenv("HELM_KUBECONTEXT");
        unsetenv("HELM_NAMESPACE");
        unsetenv("HTTPS_PROXY");
}

TEST(test_output_and_status)
{
        _cleanup_free_ char *state = test_path(dir, "state");
        HelmContext h = context("/bin/sh", state, 10);
        HelmResult res = {};
        int leak;

        CHECK_HELM(
                helm_run(&h,
                         (char *const[]){ (char *) "-c", (char *) "echo out; echo err >&2; exit 3", NULL },
                         &res),
                0, &res);
        CHECK(res.exit_status == 3);
        CHECK(!res.timed_out && !res.cancelled);
        CHECK_CONTAINS(res.output, "out\n");
        CHECK_CONTAINS(res.output, "err\n");
        CHECK(streq_ptr(res.stdout_data, "out\n"));
        helm_result_done(&res);

        /* stdin is /dev/null: a program reading it ends at once. */
        CHECK_HELM(helm_run(&h, (char *const[]){ (char *) "-c", (char *) "cat; echo done", NULL }, &res), 0,
                   &res);
        CHECK(streq_ptr(res.stdout_data, "done\n"));
        helm_result_done(&res);

        /* A descriptor we forgot to mark O_CLOEXEC still does not reach helm. */
        leak = dup2(STDERR_FILENO, 42);
        CHECK(leak == 42);
        CHECK_HELM(helm_run(&h, (char *const[]){ (char *) "-c", (char *) "ls /proc/self/fd", NULL }, &res),
                   0, &res);
        CHECK(res.exit_status == 0);
        CHECK(!strstr(res.stdout_data, "42"));
        CHECK_CONTAINS(res.stdout_data, "2\n");
        close(leak);
        helm_result_done(&res);

        /* Long output keeps its beginning and its end (where helm's error is), 64 KiB in all. */
        CHECK_HELM(helm_run(&h,
                            (char *const[]){ (char *) "-c",
                                             (char *) "echo BEGIN; head -c 300000 /dev/zero | tr '\\0' a; "
                                                      "echo; echo 'Error: the end' >&2",
                                             NULL },
                            &res),
                   0, &res);
        CHECK(res.output && strlen(res.output) < HELM_OUTPUT_MAX + 100);
        CHECK(res.output && strncmp(res.output, "BEGIN\n", 6) == 0);
        CHECK_CONTAINS(res.output, "bytes omitted ...]");
        CHECK_CONTAINS(res.output, "Error: the end\n");
        CHECK(res.stdout_data && strlen(res.stdout_data) == 6 + 300000 + 1);
        helm_result_done(&res);

        /* What people read is UTF-8: bytes that are not become U+FFFD, and the two cuts of long output
         * (here inside three-byte characters) fall on character boundaries; stdout stays as it came. */
        CHECK_HELM(helm_run(&h,
                            (char *const[]){ (char *) "-c",
                                             (char *) "printf 'caf\\351 \\377\\n'; "
                                                      "e=$(printf '\\342\\202\\254'); yes \"$e\" | head -c 200000 | tr -d '\\n'; "
                                                      "echo; echo 'Error: the end' >&2",
                                             NULL },
                            &res),
                   0, &res);
        CHECK(res.output && utf8_is_valid(res.output));
        CHECK(res.output && strncmp(res.output, "caf" UTF8_REPLACEMENT " " UTF8_REPLACEMENT "\n", 3 + 3 + 1 + 3 + 1) == 0);
        CHECK_CONTAINS(res.output, "\xe2\x82\xac\n[... ");
        CHECK_CONTAINS(res.output, "omitted ...]\n\xe2\x82\xac");
        CHECK_CONTAINS(res.output, "Error: the end\n");
        CHECK(res.stdout_data && strncmp(res.stdout_data, "caf\351 \377\n", 7) == 0);
        helm_result_done(&res);

        /* Dying of a signal is reported as the shell would. */
        CHECK_HELM(helm_run(&h, (char *const[]){ (char *) "-c", (char *) "kill -SEGV $$", NULL }, &res), 0,
                   &res);
        CHECK(res.exit_status == 128 + 11);
        helm_result_done(&res);

        h.binary = "/nonexistent/helm";
        res = (HelmResult){ .exit_status = 12345 };
        CHECK(helm_run(&h, NULL, &res) == -ENOENT);
        CHECK(res.exit_status == 12345); /* untouched */

        h.binary = "storeagent-no-such-helm-in-path";
        CHECK(helm_run(&h, NULL, &res) == -ENOENT);
}

/* What a task hears of its helm: the child's pid and start time while it runs, pid 0 once reaped. */
typedef struct Seen {
        int refuse;
        unsigned asked;
        pid_t pids[4];
        uint64_t starts[4];
        bool alive[4];
        unsigned n;
} Seen;

static int seen_may_start(void *userdata)
{
        Seen *s = userdata;
        s->asked++;
        return s->refuse;
}

static void seen_child(void *userdata, pid_t pid, uint64_t start_time)
{
        Seen *s = userdata;
        char path[64];
        if (s->n >= ELEMENTSOF(s->pids))
                return;
        xsprintf(path, "/proc/%d", (int) pid);
        s->alive[s->n] = pid > 0 && access(path, F_OK) == 0;
        s->pids[s->n] = pid;
        s->starts[s->n++] = start_time;
}

TEST(test_fence_and_child)
{
        _cleanup_free_ char *state = test_path(dir, "state-fence");
        HelmContext h = context("sleep", state, 10);
        HelmResult res = {};
        Seen seen = { .refuse = -ECANCELED };

        h.may_start = seen_may_start;
        h.child = seen_child;
        h.userdata = &seen;
        /* Refused: nothing runs, the refusal comes back as is. */
        CHECK(helm_run(&h, (char *const *) (const char *[]){ "0.1", NULL }, &res) == -ECANCELED);
        CHECK(seen.asked == 1 && seen.n == 0);
        seen.refuse = 0;
        CHECK_HELM(helm_run(&h, (char *const *) (const char *[]){ "0.1", NULL }, &res), 0, &res);
        helm_result_done(&res);
        CHECK(seen.asked == 2);
        CHECK(seen.n == 2);
        CHECK(seen.pids[0] > 0 && seen.starts[0] > 0 && seen.alive[0]);
        CHECK(seen.pids[1] == 0 && !seen.alive[1]);
}

TEST(test_timeout_and_cancel)
{
        _cleanup_free_ char *state = test_path(dir, "state");
        HelmResult res = {};
        atomic_bool cancel = false;
        uint64_t t0;
        pthread_t t;

        {
                /* /bin/sleep stands in for a helm that hangs: the 1 s timeout ends it with SIGTERM. */
                HelmContext h = context("/bin/sleep", state, 1);

                t0 = mono_usec();
                CHECK_HELM(helm_run(&h, (char *const[]){ (char *) "30", NULL }, &res), -ETIME, &res);
                CHECK(elapsed_msec(t0) >= 900 && elapsed_msec(t0) < 15000); /* not the 30 s */
                CHECK(res.timed_out && !res.cancelled);
                CHECK(res.exit_status == 128 + 15);
                helm_result_done(&res);
        }
        {
                /* A stand-in that ignores SIGTERM gets SIGKILL after the grace period; so do its children.
                 */
                HelmContext h = context("/bin/sh", state, 1);

                t0 = mono_usec();
                CHECK_HELM(
                        helm_run(&h,
                                 (char *const[]){
                                         (char *) "-c",
                                         (char *) "trap '' TERM; echo started; while :; do sleep 0.2; done",
                                         NULL },
                                 &res),
                        -ETIME, &res);
                CHECK(elapsed_msec(t0) >= (1 + HELM_KILL_GRACE_SEC) * 1000 - 100);
                CHECK(elapsed_msec(t0) < (1 + HELM_KILL_GRACE_SEC) * 1000 + 15000); /* it never ends alone */
                CHECK(res.exit_status == 128 + 9);
                CHECK_CONTAINS(res.output, "started");
                helm_result_done(&res);
        }
        {
                /* A child that never stops talking is stopped all the same. */
                HelmContext h = context("/usr/bin/yes", state, 1);

                t0 = mono_usec();
                CHECK_HELM(helm_run(&h, NULL, &res), -ETIME, &res);
                CHECK(elapsed_msec(t0) < 15000);
                CHECK(res.output && strlen(res.output) < HELM_OUTPUT_MAX + 100);
                helm_result_done(&res);
        }
        {
                /* The cancel flag (the daemon's SIGTERM) ends it well before its timeout. */
                HelmContext h = context("/bin/sleep", state, 60);

                h.cancel = &cancel;
                CHECK(pthread_create(&t, NULL, raise_after_300ms, &cancel) == 0);
                t0 = mono_usec();
                CHECK_HELM(helm_run(&h, (char *const[]){ (char *) "30", NULL }, &res), -ECANCELED, &res);
                pthread_join(t, NULL);
                CHECK(elapsed_msec(t0) < 15000); /* not the 30 s sleep */
                CHECK(res.cancelled && !res.timed_out);
                helm_result_done(&res);
        }
}

/* A fake helm that records its arguments and answers like helm 3/4 do. */
static const char FAKE_HELM[] =
        "#!/bin/sh\n"
        "echo \"$*\" >> \"$HOME/args\"\n"
        "case \"$1\" in\n"
        "status)\n"
        "  [ \"$2\" = missing ] && { echo 'Error: release: not found' >&2; exit 1; }\n"
        "  [ \"$2\" = broken ] && { echo 'not json'; exit 0; }\n"
        "  echo 'WARNING: Kubernetes configuration file is group-readable. This is insecure.' >&2\n"
        "  echo "
        "\"{\\\"name\\\":\\\"$2\\\",\\\"info\\\":{\\\"status\\\":\\\"pending-upgrade\\\"},\\\"version\\\":7,"
        "\\\"namespace\\\":\\\"$4\\\"}\" ;;\n"
        "history)\n"
        "  [ \"$2\" = missing ] && { echo 'Error: release: not found' >&2; exit 1; }\n"
        "  echo '[{\"revision\":1,\"status\":\"superseded\"},{\"revision\":2,\"status\":\"deployed\"}]' ;;\n"
        "uninstall)\n"
        "  [ \"$2\" = old ] && { echo 'Error: uninstall: Release not loaded: old: release: not found' >&2; "
        "exit 1; }\n"
        "  [ \"$2\" = stuck ] && { echo 'Error: uninstall: failed to delete release: stuck' >&2; exit 1; }\n"
        "  echo \"release \\\"$2\\\" uninstalled\" ;;\n"
        "version) echo v4.99.0 ;;\n"
        "*) echo \"Release \\\"$2\\\" has been upgraded. Happy Helming!\" ;;\n"
        "esac\n";

TEST(test_commands)
{
        _cleanup_free_ char *state = test_path(dir, "fakestate"),
                            *fake = test_write_file(dir, "fake-helm", 0755, "%s", FAKE_HELM);
        _cleanup_free_ char *args = NULL, *err = NULL, *version = NULL;
        _cleanup_free_ char *args_path = test_path(dir, "fakestate/args");
        _cleanup_(json_decrefp) json_t *st = NULL, *hist = NULL;
        HelmContext h = context(fake, state, 120);
        HelmResult res = {};

        CHECK_HELM(helm_upgrade_install(&h, "shop", "store-shop", "/charts/store", "/run/values.yaml", &res),
                   0, &res);
        CHECK(res.exit_status == 0);
        CHECK_CONTAINS(res.output, "Happy Helming");
        helm_result_done(&res);
        CHECK_HELM(helm_rollback(&h, "shop", "store-shop", 0, &res), 0, &res);
        helm_result_done(&res);
        CHECK_HELM(helm_rollback(&h, "shop", "store-shop", 3, &res), 0, &res);
        helm_result_done(&res);
        CHECK_HELM(helm_uninstall(&h, "shop", "store-shop", &res), 0, &res);
        helm_result_done(&res);
        /* An old helm without --ignore-not-found semantics: "not found" still counts as gone. */
        CHECK_HELM(helm_uninstall(&h, "old", "store-old", &res), 0, &res);
        CHECK(res.exit_status == 1);
        helm_result_done(&res);
        CHECK_HELM(helm_uninstall(&h, "stuck", "store-stuck", &res), -EIO, &res);
        CHECK_CONTAINS(res.output, "failed to delete release");
        helm_result_done(&res);

        /* JSON from stdout only: the warning on stderr does not spoil it. */
        CHECK(helm_status(&h, "shop", "store-shop", &st, NULL) == 0);
        CHECK(streq_ptr(helm_release_status(st), "pending-upgrade"));
        CHECK(helm_status_is_pending(helm_release_status(st)));
        CHECK(!helm_status_is_pending("deployed"));
        CHECK(helm_release_revision(st) == 7);
        CHECK(helm_status(&h, "missing", "store-x", &st, &err) == -ENOENT);
        CHECK_CONTAINS(err, "release: not found");
        err = (free(err), NULL);
        CHECK(helm_status(&h, "broken", "store-x", &st, &err) == -EBADMSG);
        CHECK_CONTAINS(err, "no JSON");
        err = (free(err), NULL);
        CHECK(helm_history(&h, "shop", "store-shop", &hist, NULL) == 0);
        CHECK(json_array_size(hist) == 2);
        CHECK(helm_history(&h, "missing", "store-x", &hist, &err) == -ENOENT);
        CHECK(helm_version(&h, &version, NULL) == 0);
        CHECK(streq_ptr(version, "v4.99.0"));

        /* Nothing that looks like a flag is taken as a release, namespace or chart. */
        CHECK(helm_upgrade_install(&h, "--set=x", "ns", "/c", NULL, &res) == -EINVAL);
        CHECK(helm_uninstall(&h, "r", "", &res) == -EINVAL);

        CHECK(read_file(args_path, 1 << 20, &args, NULL) == 0);
        CHECK_CONTAINS(
                args,
                "upgrade --install shop /charts/store --namespace store-shop --values /run/values.yaml "
                "--reset-values --history-max 10 --timeout 115s\n");
        CHECK_CONTAINS(args, "rollback shop --namespace store-shop --history-max 10 --timeout 115s\n");
        CHECK_CONTAINS(args, "rollback shop 3 --namespace store-shop --history-max 10 --timeout 115s\n");
        CHECK_CONTAINS(args, "uninstall shop --namespace store-shop --ignore-not-found --timeout 115s\n");
        CHECK_CONTAINS(args, "status shop --namespace store-shop --output json\n");
        CHECK_CONTAINS(args, "history shop --namespace store-shop --output json\n");
        CHECK_CONTAINS(args, "version --template {{.Version}}\n");
        (void) unlink(args_path);
        (void) unlink(fake);
}

/* ---- The real helm on the control plane ------------------------------------------------------------- */

static void write_chart(void)
{
        _cleanup_free_ char *chart = test_path(dir, "tiny"), *templates = test_path(dir, "tiny/templates");
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        CHECK(mkdir(chart, 0755) == 0);
        CHECK(mkdir(templates, 0755) == 0);
        a = test_write_file(dir, 
                "tiny/Chart.yaml", 0644,
                "apiVersion: v2\nname: tiny\ndescription: a ConfigMap, for the helm runner's tests\n"
                "type: application\nversion: 0.1.0\nappVersion: \"1.0\"\n");
        b = test_write_file(dir, "tiny/values.yaml", 0644, "greeting: hello\n");
        c = test_write_file(dir, "tiny/templates/configmap.yaml", 0644,
                         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\n"
                         "data:\n  greeting: {{ .Values.greeting | quote }}\n");
}

static const char *configmap_greeting(KubeClient *k, const char *ns, const char *name, json_t **store)
{
        _cleanup_free_ char *path = NULL;

        if (kube_path(&path, "v1", "configmaps", ns, name) < 0 || kube_get(k, path, store) < 0)
                return NULL;
        return json_string_value(json_object_get(json_object_get(*store, "data"), "greeting"));
}

static const char *history_status(json_t *hist, size_t i)
{
        return json_string_value(json_object_get(json_array_get(hist, i), "status"));
}

static void cluster_checks(const char *helm, const char *kubeconfig)
{
        _cleanup_free_ char *state = test_path(dir, "helmstate"), *chart = test_path(dir, "tiny"),
                            *values = NULL, *error = NULL;
        _cleanup_free_ char *version = NULL, *ns_path = NULL,
                            *missing_chart = test_path(dir, "no-such-chart");
        _cleanup_(kubeconfig_freep) KubeConfig *cfg = NULL;
        _cleanup_(kube_client_freep) KubeClient *k = NULL;
        _cleanup_(json_decrefp) json_t *ns = NULL;
        HelmContext h = { .binary = helm, .kubeconfig = kubeconfig, .state_dir = state, .timeout_sec = 120 };
        HelmResult res = {};
        char ns_name[64];
        const char *release = "tiny";

        write_chart();
        if (kubeconfig_load_full(kubeconfig, NULL, &cfg, &error) < 0 || kube_client_new(&k, cfg, 20) < 0) {
                fprintf(stderr, "test-helm: cannot talk to the cluster: %s\n", strna(error));
                failures++;
                return;
        }
        CHECK(helm_version(&h, &version, &error) == 0);
        printf("test-helm: helm %s\n", strna(version));

        snprintf(ns_name, sizeof(ns_name), "storeagent-test-helm-%d", (int) getpid());
        ns = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
                       "name", ns_name, "labels", "storeagent-test", "helm");
        if (kube_apply(k, ns, NULL) < 0) {
                fprintf(stderr, "test-helm: cannot create namespace: %s\n", kube_client_last_error(k));
                failures++;
                return;
        }
        CHECK(kube_path(&ns_path, "v1", "namespaces", NULL, ns_name) == 0);

        /* Install: revision 1, deployed, the ConfigMap is there with our value. */
        values = test_write_file(dir, "values.yaml", 0600, "greeting: one\n");
        CHECK_HELM(helm_upgrade_install(&h, release, ns_name, chart, values, &res), 0, &res);
        CHECK(res.exit_status == 0);
        if (res.exit_status != 0)
                fprintf(stderr, "helm upgrade --install said:\n%s\n", strna(res.output));
        helm_result_done(&res);
        {
                _cleanup_(json_decrefp) json_t *st = NULL, *cm = NULL;
                CHECK(helm_status(&h, release, ns_name, &st, &error) == 0);
                CHECK(streq_ptr(helm_release_status(st), "deployed"));
                CHECK(helm_release_revision(st) == 1);
                CHECK(streq_ptr(json_string_value(json_object_get(st, "namespace")), ns_name));
                CHECK(streq_ptr(configmap_greeting(k, ns_name, "tiny-greeting", &cm), "one"));
        }

        /* Upgrade with new values: revision 2. */
        free(values);
        values = test_write_file(dir, "values.yaml", 0600, "greeting: two\n");
        CHECK_HELM(helm_upgrade_install(&h, release, ns_name, chart, values, &res), 0, &res);
        CHECK(res.exit_status == 0);
        helm_result_done(&res);
        {
                _cleanup_(json_decrefp) json_t *st = NULL, *hist = NULL, *cm = NULL;
                CHECK(helm_status(&h, release, ns_name, &st, NULL) == 0);
                CHECK(helm_release_revision(st) == 2);
                CHECK(streq_ptr(configmap_greeting(k, ns_name, "tiny-greeting", &cm), "two"));
                CHECK(helm_history(&h, release, ns_name, &hist, NULL) == 0);
                CHECK(json_array_size(hist) == 2);
                CHECK(streq_ptr(history_status(hist, 0), "superseded"));
                CHECK(streq_ptr(history_status(hist, 1), "deployed"));
                CHECK(json_integer_value(json_object_get(json_array_get(hist, 1), "revision")) == 2);
                CHECK(json_is_string(json_object_get(json_array_get(hist, 1), "chart")));
        }

        /* Rollback to 1: a new revision 3 with revision 1's values. */
        CHECK_HELM(helm_rollback(&h, release, ns_name, 1, &res), 0, &res);
        CHECK(res.exit_status == 0);
        helm_result_done(&res);
        {
                _cleanup_(json_decrefp) json_t *st = NULL, *cm = NULL;
                CHECK(helm_status(&h, release, ns_name, &st, NULL) == 0);
                CHECK(helm_release_revision(st) == 3);
                CHECK(streq_ptr(helm_release_status(st), "deployed"));
                CHECK(streq_ptr(configmap_greeting(k, ns_name, "tiny-greeting", &cm), "one"));
        }
        /* Rollback 0: the previous revision (2), as revision 4. */
        CHECK_HELM(helm_rollback(&h, release, ns_name, 0, &res), 0, &res);
        CHECK(res.exit_status == 0);
        helm_result_done(&res);
        {
                _cleanup_(json_decrefp) json_t *st = NULL, *cm = NULL;
                CHECK(helm_status(&h, release, ns_name, &st, NULL) == 0);
                CHECK(helm_release_revision(st) == 4);
                CHECK(streq_ptr(configmap_greeting(k, ns_name, "tiny-greeting", &cm), "two"));
        }

        /* A chart that does not exist: helm runs, fails, and says why. */
        CHECK_HELM(helm_upgrade_install(&h, "other", ns_name, missing_chart, NULL, &res), 0, &res);
        CHECK(res.exit_status != 0);
        CHECK_CONTAINS(res.output, "no-such-chart");
        printf("test-helm: missing chart: %s", strna(res.output));
        helm_result_done(&res);

        /* Uninstall: gone, ConfigMap too; twice is fine. */
        CHECK_HELM(helm_uninstall(&h, release, ns_name, &res), 0, &res);
        CHECK(res.exit_status == 0);
        helm_result_done(&res);
        {
                _cleanup_(json_decrefp) json_t *st = NULL, *hist = NULL, *cm = NULL;
                free(error);
                error = NULL;
                CHECK(helm_status(&h, release, ns_name, &st, &error) == -ENOENT);
                CHECK_CONTAINS(error, "not found");
                CHECK(helm_history(&h, release, ns_name, &hist, NULL) == -ENOENT);
                CHECK(!configmap_greeting(k, ns_name, "tiny-greeting", &cm));
                CHECK(kube_client_last_status(k) == 404);
        }
        CHECK_HELM(helm_uninstall(&h, release, ns_name, &res), 0, &res);
        CHECK(res.exit_status == 0);
        helm_result_done(&res);

        CHECK(kube_delete(k, ns_path, "Background") == 0);
}

/* The cluster part: needs the control plane from tests/cluster ($HELM, $KUBECONFIG). */
TEST(test_cluster)
{
        const char *helm = getenv("HELM"), *kubeconfig = getenv("KUBECONFIG");

        if (isempty(helm) || isempty(kubeconfig))
                TEST_SKIP("test_cluster: $HELM or $KUBECONFIG not set, no control plane to run against");
        cluster_checks(helm, kubeconfig);
}

DEFINE_TEST_MAIN_WITH_INTRO(LOG_ERR, intro)
