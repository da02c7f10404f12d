/* SPDX-License-Identifier: Apache-2.0 */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "basic/process.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "cluster/helm.h"

#define HELM_TIMEOUT_DEFAULT_SEC 300U
#define HELM_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* How long to keep reading after helm exited, should a child of it hold the pipes. */
#define HELM_DRAIN_USEC (500 * USEC_PER_MSEC)
#define POLL_SLICE_MSEC 100

/* Growing text with an upper bound; past it, the middle is dropped (head kept, tail rolling). */
typedef struct Capture {
        char *data;
        size_t size;
        size_t alloc;
        size_t max;
        size_t omitted; /* bytes dropped from the middle */
        bool keep_tail; /* false: drop everything past max */
} Capture;

static void capture_done(Capture *c)
{
        free(c->data);
        *c = (Capture){};
}

static int capture_append(Capture *c, const char *p, size_t n)
{
        if (!c->keep_tail && c->size + n > c->max) {
                c->omitted += c->size + n - c->max;
                n = c->max - c->size;
        }
        if (c->size + n + 1 > c->alloc) {
                size_t a = MAX(c->alloc * 2, (size_t) 8192);
                char *d;

                while (a < c->size + n + 1)
                        a *= 2;
                d = realloc(c->data, a);
                if (!d)
                        return -ENOMEM;
                c->data = d;
                c->alloc = a;
        }
        memcpy(c->data + c->size, p, n);
        c->size += n;
        if (c->keep_tail && c->size > c->max) {
                /* Keep the first half and the newest half: helm's error is at the end. */
                size_t head = c->max / 2, tail = c->max - head, drop = c->size - c->max;

                memmove(c->data + head, c->data + c->size - tail, tail);
                c->omitted += drop;
                c->size = c->max;
        }
        c->data[c->size] = '\0';
        return 0;
}

/* The captured text as a new string, with a marker where the middle was dropped. */
static int capture_take(Capture *c, char **ret)
{
        char *s;

        if (c->omitted == 0 || !c->keep_tail) {
                s = c->data ? TAKE_PTR(c->data) : strdup("");
                if (!s)
                        return -ENOMEM;
        } else {
                size_t head = c->max / 2;

                /* Both halves were kept by byte count: each is shown from and to a character boundary. */
                if (asprintf(&s, "%.*s\n[... %zu bytes omitted ...]\n%s", UTF8_PREFIX(c->data, head), c->omitted,
                             utf8_suffix(c->data, c->size - head)) < 0)
                        return -ENOMEM;
        }
        capture_done(c);
        *ret = s;
        return 0;
}

void helm_result_done(HelmResult *r)
{
        if (!r)
                return;
        free(r->output);
        free(r->stdout_data);
        *r = (HelmResult){};
}

static void helm_result_donep(HelmResult *r)
{
        helm_result_done(r);
}

static void posix_spawn_file_actions_destroyp(posix_spawn_file_actions_t **a)
{
        if (*a)
                posix_spawn_file_actions_destroy(*a);
}

static void posix_spawnattr_destroyp(posix_spawnattr_t **a)
{
        if (*a)
                posix_spawnattr_destroy(*a);
}

/*
 * Creates path (and parents) 0700. An existing HELM_*_HOME of ours is tightened
 * to 0700 as well; the state dir itself may be the daemon's and keeps its mode.
 */
static int make_dir(const char *path, bool tighten)
{
        int r = mkdir_p(path, 0700);

        if (r < 0)
                return r;
        if (tighten && chmod(path, 0700) < 0)
                return -errno;
        return 0;
}

/* PATH, HOME, KUBECONFIG and the three HELM_*_HOME; nothing from our own environment but PATH. */
static int build_env(const HelmContext *h, char ***ret)
{
        static const char *const homes[][2] = {
                { "HELM_CACHE_HOME", "cache" },
                { "HELM_CONFIG_HOME", "config" },
                { "HELM_DATA_HOME", "data" },
        };
        _cleanup_strv_free_ char **env = NULL;
        const char *path = getenv("PATH");
        size_t n = 0;
        int r;

        env = calloc(ELEMENTSOF(homes) + 4, sizeof(char *));
        if (!env)
                return -ENOMEM;
        if (asprintf(&env[n], "PATH=%s", isempty(path) ? HELM_DEFAULT_PATH : path) < 0)
                return env[n] = NULL, -ENOMEM;
        n++;
        if (asprintf(&env[n], "HOME=%s", h->state_dir) < 0)
                return env[n] = NULL, -ENOMEM;
        n++;
        if (asprintf(&env[n], "KUBECONFIG=%s", h->kubeconfig) < 0)
                return env[n] = NULL, -ENOMEM;
        n++;
        for (size_t i = 0; i < ELEMENTSOF(homes); i++) {
                _cleanup_free_ char *dir = strjoin_path(h->state_dir, homes[i][1]);

                if (!dir)
                        return -ENOMEM;
                r = make_dir(dir, true);
                if (r < 0)
                        return r;
                if (asprintf(&env[n], "%s=%s", homes[i][0], dir) < 0)
                        return env[n] = NULL, -ENOMEM;
                n++;
        }
        *ret = TAKE_PTR(env);
        return 0;
}

static int build_argv(const HelmContext *h, char *const *args, char ***ret)
{
        _cleanup_free_ char **argv = NULL;
        size_t n = 0;

        while (args && args[n])
                n++;
        argv = calloc(n + 2, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        /* posix_spawn takes char *const[]; nothing writes to these strings. */
        argv[0] = (char *) h->binary;
        for (size_t i = 0; i < n; i++)
                argv[i + 1] = args[i];
        *ret = TAKE_PTR(argv);
        return 0;
}

static int spawn(const HelmContext *h, char *const *args, int out_fd, int err_fd, pid_t *ret_pid)
{
        _cleanup_(posix_spawn_file_actions_destroyp) posix_spawn_file_actions_t *fa = NULL;
        _cleanup_(posix_spawnattr_destroyp) posix_spawnattr_t *attr = NULL;
        posix_spawn_file_actions_t fa_storage;
        posix_spawnattr_t attr_storage;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char **argv = NULL;
        sigset_t all, none;
        pid_t pid;
        int r;

        r = make_dir(h->state_dir, false);
        if (r < 0)
                return r;
        r = build_env(h, &env);
        if (r < 0)
                return r;
        r = build_argv(h, args, &argv);
        if (r < 0)
                return r;

        r = posix_spawn_file_actions_init(&fa_storage);
        if (r != 0)
                return -r;
        fa = &fa_storage;
        if ((r = posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0)) != 0 ||
            (r = posix_spawn_file_actions_adddup2(fa, out_fd, STDOUT_FILENO)) != 0 ||
            (r = posix_spawn_file_actions_adddup2(fa, err_fd, STDERR_FILENO)) != 0)
                return -r;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        /* Belt and braces over O_CLOEXEC: a library's stray fd must not reach helm. */
        r = posix_spawn_file_actions_addclosefrom_np(fa, 3);
        if (r != 0)
                return -r;
#endif

        r = posix_spawnattr_init(&attr_storage);
        if (r != 0)
                return -r;
        attr = &attr_storage;
        /* The daemon blocks signals for sd-event and ignores SIGPIPE; helm must start clean. */
        sigfillset(&all);
        sigemptyset(&none);
        if ((r = posix_spawnattr_setsigmask(attr, &none)) != 0 ||
            (r = posix_spawnattr_setsigdefault(attr, &all)) != 0 ||
            (r = posix_spawnattr_setpgroup(attr, 0)) != 0 ||
            (r = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                        POSIX_SPAWN_SETPGROUP)) != 0)
                return -r;

        if (strchr(h->binary, '/'))
                r = posix_spawn(&pid, h->binary, fa, attr, argv, env);
        else
                r = posix_spawnp(&pid, h->binary, fa, attr, argv, env);
        if (r != 0)
                return -r;
        *ret_pid = pid;
        return 0;
}

/*
 * Reads what is there, at most 1 MiB at a time so a chatty child cannot keep us
 * from checking the clock; returns 0 on EOF (and closes), 1 when more may come.
 */
static int drain(int *fd, Capture *combined, Capture *own)
{
        char buf[16384];

        for (unsigned i = 0;; i++) {
                if (i >= 64)
                        return 1;
                ssize_t n = read(*fd, buf, sizeof(buf));
                int r;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 1;
                        *fd = safe_close(*fd);
                        return 0;
                }
                if (n == 0) {
                        *fd = safe_close(*fd);
                        return 0;
                }
                r = capture_append(combined, buf, (size_t) n);
                if (r >= 0 && own)
                        r = capture_append(own, buf, (size_t) n);
                if (r < 0)
                        return r;
        }
}

int helm_run(const HelmContext *h, char *const *args, HelmResult *ret)
{
        _cleanup_close_ int out_r = -EBADF, out_w = -EBADF, err_r = -EBADF, err_w = -EBADF;
        Capture combined = { .max = HELM_OUTPUT_MAX, .keep_tail = true };
        Capture out = { .max = HELM_STDOUT_MAX };
        uint64_t start, deadline, kill_at = 0, exited_at = 0;
        unsigned timeout_sec;
        bool timed_out = false, cancelled = false, killed = false, reaped = false;
        int status = 0, r, pipes[2];
        pid_t pid = 0;

        if (!h || isempty(h->binary) || isempty(h->kubeconfig) || isempty(h->state_dir) || !ret)
                return -EINVAL;
        timeout_sec = h->timeout_sec > 0 ? h->timeout_sec : HELM_TIMEOUT_DEFAULT_SEC;

        if (pipe2(pipes, O_CLOEXEC) < 0)
                return -errno;
        out_r = pipes[0];
        out_w = pipes[1];
        if (pipe2(pipes, O_CLOEXEC) < 0)
                return -errno;
        err_r = pipes[0];
        err_w = pipes[1];
        if (fcntl(out_r, F_SETFL, O_NONBLOCK) < 0 || fcntl(err_r, F_SETFL, O_NONBLOCK) < 0)
                return -errno;

        if (h->may_start) {
                r = h->may_start(h->userdata);
                if (r < 0)
                        return r;
        }
        r = spawn(h, args, out_w, err_w, &pid);
        if (r < 0)
                return r;
        out_w = safe_close(out_w);
        err_w = safe_close(err_w);
        if (h->child) {
                uint64_t started = 0;

                /* helm cannot have been reaped yet, so its /proc entry is there. */
                (void) process_start_time(pid, &started);
                h->child(h->userdata, pid, started);
        }

        start = mono_usec();
        deadline = start + (uint64_t) timeout_sec * USEC_PER_SEC;

        /* From here on the child exists: every path below reaps it. */
        for (;;) {
                struct pollfd p[2];
                nfds_t n = 0;
                uint64_t now;
                int k;

                if (out_r >= 0)
                        p[n++] = (struct pollfd){ .fd = out_r, .events = POLLIN };
                if (err_r >= 0)
                        p[n++] = (struct pollfd){ .fd = err_r, .events = POLLIN };

                if (!reaped) {
                        pid_t w = waitpid(pid, &status, WNOHANG);

                        if (w == pid || (w < 0 && errno == ECHILD)) {
                                reaped = true;
                                exited_at = mono_usec();
                        }
                }
                now = mono_usec();
                if (reaped && (n == 0 || now >= exited_at + HELM_DRAIN_USEC))
                        break;

                if (!reaped && !killed) {
                        if (h->cancel && atomic_load(h->cancel))
                                cancelled = true;
                        else if (now >= deadline)
                                timed_out = true;
                        if (cancelled || timed_out) {
                                (void) kill(-pid, SIGTERM);
                                killed = true;
                                kill_at = now + HELM_KILL_GRACE_SEC * USEC_PER_SEC;
                        }
                } else if (!reaped && kill_at > 0 && now >= kill_at) {
                        (void) kill(-pid, SIGKILL);
                        kill_at = 0;
                }

                if (n == 0) {
                        /* Pipes closed but helm still running: wait for it in slices. */
                        struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };
                        (void) nanosleep(&ts, NULL);
                        continue;
                }

                k = poll(p, n, POLL_SLICE_MSEC);
                if (k < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                for (nfds_t i = 0; k > 0 && i < n; i++) {
                        if (!p[i].revents)
                                continue;
                        if (p[i].fd == out_r)
                                r = drain(&out_r, &combined, &out);
                        else
                                r = drain(&err_r, &combined, NULL);
                        if (r < 0)
                                break;
                }
                if (r < 0)
                        break;
                r = 0;
        }

        if (r < 0 && !reaped) {
                /* Out of memory or a poll failure: do not leave helm running behind us. */
                (void) kill(-pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
        }
        if (h->child)
                h->child(h->userdata, 0, 0);
        if (r < 0) {
                capture_done(&combined);
                capture_done(&out);
                return r;
        }

        {
                _cleanup_(helm_result_donep) HelmResult res = {};

                if (WIFEXITED(status))
                        res.exit_status = WEXITSTATUS(status);
                else if (WIFSIGNALED(status))
                        res.exit_status = 128 + WTERMSIG(status);
                else
                        res.exit_status = 255;
                res.timed_out = timed_out;
                res.cancelled = cancelled;
                r = capture_take(&combined, &res.output);
                if (r >= 0)
                        r = capture_take(&out, &res.stdout_data);
                if (r < 0) {
                        capture_done(&combined);
                        capture_done(&out);
                        return r;
                }
                /*
                 * The output is for people, and ends up in a store's reason and timeline: bytes that are
                 * not UTF-8 (a chart's Latin-1 message, binary noise) are shown as U+FFFD. stdout alone
                 * is for the JSON parser, which judges it itself.
                 */
                if (!utf8_is_valid(res.output)) {
                        char *t = utf8_escape_invalid(res.output);
                        if (!t) {
                                helm_result_done(&res);
                                return -ENOMEM;
                        }
                        free(res.output);
                        res.output = t;
                }
                *ret = res;
                res = (HelmResult){};
        }
        if (timed_out)
                return -ETIME;
        if (cancelled)
                return -ECANCELED;
        return 0;
}

static void timeout_arg(const HelmContext *h, char buf[static 32])
{
        unsigned t = h->timeout_sec > 0 ? h->timeout_sec : HELM_TIMEOUT_DEFAULT_SEC;

        /* Below our kill timeout, so helm marks the release failed itself rather than being killed. */
        if (t > 2 * HELM_KILL_GRACE_SEC)
                t -= HELM_KILL_GRACE_SEC;
        xsnprintf(buf, 32, "%us", t);
}

static bool valid_arg(const char *s)
{
        /* Not empty, and not something helm would take for a flag. */
        return !isempty(s) && s[0] != '-';
}

int helm_upgrade_install(const HelmContext *h, const char *release, const char *namespace, const char *chart,
                         const char *values_file, HelmResult *ret)
{
        char tmo[32], hist[16];
        const char *argv[20];
        size_t n = 0;

        if (!h || !valid_arg(release) || !valid_arg(namespace) || !valid_arg(chart) ||
            (values_file && !valid_arg(values_file)))
                return -EINVAL;
        timeout_arg(h, tmo);
        xsprintf(hist, "%d", HELM_HISTORY_MAX);

        argv[n++] = "upgrade";
        argv[n++] = "--install";
        argv[n++] = release;
        argv[n++] = chart;
        argv[n++] = "--namespace";
        argv[n++] = namespace;
        if (values_file) {
                argv[n++] = "--values";
                argv[n++] = values_file;
        }
        /* Every upgrade carries the full values file; nothing is inherited from the last release. */
        argv[n++] = "--reset-values";
        argv[n++] = "--history-max";
        argv[n++] = hist;
        argv[n++] = "--timeout";
        argv[n++] = tmo;
        argv[n] = NULL;
        return helm_run(h, (char *const *) argv, ret);
}

static bool output_says_not_found(const HelmResult *r)
{
        return r->output && strstr(r->output, "release: not found");
}

int helm_uninstall(const HelmContext *h, const char *release, const char *namespace, HelmResult *ret)
{
        _cleanup_(helm_result_donep) HelmResult res = {};
        char tmo[32];
        int r;

        if (!h || !valid_arg(release) || !valid_arg(namespace) || !ret)
                return -EINVAL;
        timeout_arg(h, tmo);

        r = helm_run(h,
                     (char *const *) (const char *[]){ "uninstall", release, "--namespace", namespace,
                                                       "--ignore-not-found", "--timeout", tmo, NULL },
                     &res);
        if (r < 0 && r != -ETIME && r != -ECANCELED)
                return r;
        if (r == 0 && res.exit_status != 0)
                r = output_says_not_found(&res) ? 0 : -EIO;
        *ret = res;
        res = (HelmResult){};
        return r;
}

int helm_rollback(const HelmContext *h, const char *release, const char *namespace, int revision,
                  HelmResult *ret)
{
        char tmo[32], hist[16], rev[16];
        const char *argv[16];
        size_t n = 0;

        if (!h || !valid_arg(release) || !valid_arg(namespace) || revision < 0)
                return -EINVAL;
        timeout_arg(h, tmo);
        xsprintf(hist, "%d", HELM_HISTORY_MAX);
        xsprintf(rev, "%d", revision);

        argv[n++] = "rollback";
        argv[n++] = release;
        if (revision > 0)
                argv[n++] = rev;
        argv[n++] = "--namespace";
        argv[n++] = namespace;
        argv[n++] = "--history-max";
        argv[n++] = hist;
        argv[n++] = "--timeout";
        argv[n++] = tmo;
        argv[n] = NULL;
        return helm_run(h, (char *const *) argv, ret);
}

/* Trimmed output for a caller's error message. */
static void take_error_text(HelmResult *res, char **ret_error)
{
        size_t n;

        if (!ret_error || !res->output)
                return;
        n = strlen(res->output);
        while (n > 0 && strchr(" \t\r\n", res->output[n - 1]))
                res->output[--n] = '\0';
        *ret_error = TAKE_PTR(res->output);
}

/* Runs a read-only helm command whose stdout is JSON. */
static int run_json(const HelmContext *h, char *const *args, json_t **ret, char **ret_error)
{
        _cleanup_(helm_result_donep) HelmResult res = {};
        json_error_t e;
        json_t *j;
        int r;

        r = helm_run(h, args, &res);
        if (r == -ETIME || r == -ECANCELED) {
                take_error_text(&res, ret_error);
                return r;
        }
        if (r < 0)
                return r;
        if (res.exit_status != 0) {
                r = output_says_not_found(&res) ? -ENOENT : -EIO;
                take_error_text(&res, ret_error);
                return r;
        }
        j = json_loads(res.stdout_data, 0, &e);
        if (!j) {
                if (ret_error && asprintf(ret_error, "helm printed no JSON: %s", e.text) < 0)
                        *ret_error = NULL;
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

int helm_status(const HelmContext *h, const char *release, const char *namespace, json_t **ret,
                char **ret_error)
{
        _cleanup_(json_decrefp) json_t *j = NULL;
        int r;

        if (!h || !valid_arg(release) || !valid_arg(namespace) || !ret)
                return -EINVAL;
        r = run_json(h,
                     (char *const *) (const char *[]){ "status", release, "--namespace", namespace,
                                                       "--output", "json", NULL },
                     &j, ret_error);
        if (r < 0)
                return r;
        if (!json_is_object(j)) {
                if (ret_error)
                        *ret_error = strdup("helm status printed JSON that is not a release object");
                return -EBADMSG;
        }
        *ret = TAKE_PTR(j);
        return 0;
}

int helm_history(const HelmContext *h, const char *release, const char *namespace, json_t **ret,
                 char **ret_error)
{
        _cleanup_(json_decrefp) json_t *j = NULL;
        int r;

        if (!h || !valid_arg(release) || !valid_arg(namespace) || !ret)
                return -EINVAL;
        r = run_json(h,
                     (char *const *) (const char *[]){ "history", release, "--namespace", namespace,
                                                       "--output", "json", NULL },
                     &j, ret_error);
        if (r < 0)
                return r;
        if (!json_is_array(j)) {
                if (ret_error)
                        *ret_error = strdup("helm history printed JSON that is not a list");
                return -EBADMSG;
        }
        if (json_array_size(j) == 0) {
                if (ret_error)
                        *ret_error = strdup("release has no history");
                return -ENOENT;
        }
        *ret = TAKE_PTR(j);
        return 0;
}

int helm_version(const HelmContext *h, char **ret, char **ret_error)
{
        _cleanup_(helm_result_donep) HelmResult res = {};
        size_t n;
        int r;

        if (!h || !ret)
                return -EINVAL;
        r = helm_run(h, (char *const *) (const char *[]){ "version", "--template", "{{.Version}}", NULL },
                     &res);
        if (r == -ETIME || r == -ECANCELED)
                take_error_text(&res, ret_error);
        if (r < 0)
                return r;
        if (res.exit_status != 0) {
                take_error_text(&res, ret_error);
                return -EIO;
        }
        n = strlen(res.stdout_data);
        while (n > 0 && strchr(" \t\r\n", res.stdout_data[n - 1]))
                res.stdout_data[--n] = '\0';
        if (n == 0)
                return -EBADMSG;
        *ret = TAKE_PTR(res.stdout_data);
        return 0;
}

const char *helm_release_status(json_t *release)
{
        return json_string_value(json_object_get(json_object_get(release, "info"), "status"));
}

int helm_release_revision(json_t *release)
{
        return (int) json_integer_value(json_object_get(release, "version"));
}

bool helm_status_is_pending(const char *status)
{
        return status && strncmp(status, "pending-", 8) == 0;
}
