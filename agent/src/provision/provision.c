/* SPDX-License-Identifier: Apache-2.0 */

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>

#include "basic/log.h"
#include "basic/util.h"
#include "cluster/helm.h"
#include "cluster/kube.h"
#include "cluster/kubeconfig.h"
#include "core/store.h"
#include "provision/provision.h"

#define CREDENTIALS_SECRET "store-credentials"
#define LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define LABEL_STORE_ID "storeagent.io/store-id"
#define LABEL_STORE_NAME "storeagent.io/store-name"
#define KUBE_TIMEOUT_SEC 15
#define CLUSTER_STATUS_TTL_USEC (5 * USEC_PER_SEC)
#define DELETE_TIMEOUT_USEC (300 * USEC_PER_SEC)

typedef struct ProvisionSettings {
        char *kubeconfig;
        char *chart_path;
        char *chart_repository;
        char *base_domain;
        char *ingress_class;
        char *url_scheme;
        char *helm_binary;
        char *state_dir;
        uint64_t helm_timeout_sec;
        uint64_t provision_timeout_sec;
        char *quota_pods, *quota_memory, *quota_cpu;
        char *storage_mysql, *storage_wordpress;
} ProvisionSettings;

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

        /* The reconciler thread: orphan namespaces, releases left pending with no task to repair them. */
        pthread_t reconciler;
        bool reconciler_started;
        atomic_bool stopping;
        char *db_path;
};

/* What one worker thread keeps between tasks. */
typedef struct WorkerState {
        KubeClient *kube;
        uint64_t generation;
} WorkerState;

static void worker_state_free(void *p)
{
        WorkerState *ws = p;
        if (!ws)
                return;
        kube_client_free(ws->kube);
        free(ws);
}

static void settings_done(ProvisionSettings *s)
{
        free(s->kubeconfig);
        free(s->chart_path);
        free(s->chart_repository);
        free(s->base_domain);
        free(s->ingress_class);
        free(s->url_scheme);
        free(s->helm_binary);
        free(s->state_dir);
        free(s->quota_pods);
        free(s->quota_memory);
        free(s->quota_cpu);
        free(s->storage_mysql);
        free(s->storage_wordpress);
        *s = (ProvisionSettings){};
}

static int settings_from_config(ProvisionSettings *s, const Config *c)
{
        *s = (ProvisionSettings){
                .kubeconfig = strdup(c->kubeconfig),
                .chart_path = strdup(c->chart_path),
                .chart_repository = strdup(c->chart_repository),
                .base_domain = strdup(c->base_domain),
                .ingress_class = strdup(c->ingress_class),
                .url_scheme = strdup(c->url_scheme),
                .helm_binary = strdup(c->helm_binary),
                .state_dir = strdup(c->state_dir),
                .helm_timeout_sec = c->helm_timeout_sec,
                .provision_timeout_sec = c->provision_timeout_sec,
                .quota_pods = strdup(c->quota_pods),
                .quota_memory = strdup(c->quota_memory),
                .quota_cpu = strdup(c->quota_cpu),
                .storage_mysql = strdup(c->storage_mysql),
                .storage_wordpress = strdup(c->storage_wordpress),
        };
        if (!s->kubeconfig || !s->chart_path || !s->chart_repository || !s->base_domain || !s->ingress_class ||
            !s->url_scheme || !s->helm_binary || !s->state_dir || !s->quota_pods || !s->quota_memory ||
            !s->quota_cpu || !s->storage_mysql || !s->storage_wordpress) {
                settings_done(s);
                return -ENOMEM;
        }
        return 0;
}

static int settings_copy(Provisioner *p, ProvisionSettings *ret, uint64_t *ret_generation)
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
                .helm_binary = p->set.helm_binary,
                .state_dir = p->set.state_dir,
                .helm_timeout_sec = p->set.helm_timeout_sec,
                .provision_timeout_sec = p->set.provision_timeout_sec,
                .quota_pods = p->set.quota_pods,
                .quota_memory = p->set.quota_memory,
                .quota_cpu = p->set.quota_cpu,
                .storage_mysql = p->set.storage_mysql,
                .storage_wordpress = p->set.storage_wordpress,
        };
        r = settings_from_config(ret, &c);
        if (ret_generation)
                *ret_generation = p->generation;
        pthread_mutex_unlock(&p->lock);
        return r;
}

int provisioner_new(Provisioner **ret, const Config *config)
{
        Provisioner *p;
        int r;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        pthread_mutex_init(&p->status_lock, NULL);
        pthread_mutex_init(&p->probe_lock, NULL);
        r = settings_from_config(&p->set, config);
        if (r < 0) {
                free(p);
                return r;
        }
        p->orphans = json_array();
        *ret = p;
        return 0;
}

Provisioner *provisioner_free(Provisioner *p)
{
        if (!p)
                return NULL;
        atomic_store(&p->stopping, true);
        if (p->reconciler_started)
                pthread_join(p->reconciler, NULL);
        free(p->db_path);
        settings_done(&p->set);
        kube_client_free(p->status_client);
        free(p->status_detail);
        json_decref(p->orphans);
        pthread_mutex_destroy(&p->lock);
        pthread_mutex_destroy(&p->status_lock);
        pthread_mutex_destroy(&p->probe_lock);
        free(p);
        return NULL;
}

void provisioner_reload(Provisioner *p, const Config *config)
{
        ProvisionSettings fresh;

        if (settings_from_config(&fresh, config) < 0)
                return;
        pthread_mutex_lock(&p->lock);
        settings_done(&p->set);
        p->set = fresh;
        p->generation++;
        pthread_mutex_unlock(&p->lock);
}

static int make_client(const char *kubeconfig, KubeClient **ret, char **ret_error)
{
        _cleanup_(kubeconfig_freep) KubeConfig *kc = NULL;
        int r;

        r = kubeconfig_load_full(kubeconfig, NULL, &kc, ret_error);
        if (r < 0)
                return r;
        return kube_client_new(ret, kc, KUBE_TIMEOUT_SEC);
}

/* ---- the task context ---- */

typedef struct Job {
        Provisioner *p;
        Worker *w;
        Task *t;
        Db *db;
        Store *store;
        KubeClient *kube;
        ProvisionSettings set;
        HelmContext helm;
        char ns[80];
        char helm_dir[512];
        char values_path[512];
        char task_id[24];
        int step, steps;
        StoreStatus expected; /* the status this task works under; anything else means it was superseded */
        json_t *seen_events;
} Job;

static void job_done(Job *j)
{
        settings_done(&j->set);
        store_free(j->store);
        json_decref(j->seen_events);
}

static void progress(Job *j, const char *fmt, ...) _printf_(2, 3);
static void progress(Job *j, const char *fmt, ...)
{
        char step[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(step, sizeof step, fmt, ap);
        va_end(ap);
        (void) store_set_progress(j->db, j->store->id, step, j->step, j->steps);
}

/* Starts the next numbered step: progress, an event, and a journal line. */
static void begin_step(Job *j, const char *name)
{
        j->step++;
        progress(j, "%s", name);
        (void) store_add_event(j->db, j->store->id, "system", "step", name);
        log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id, "STEP", name),
                   "Store %s: %s (step %d of %d).", j->store->name, name, j->step, j->steps);
}

/* A reason shown on the store while the task keeps trying. */
static void set_waiting_reason(Job *j, const char *reason)
{
        (void) store_set_reason(j->db, j->store->id, reason);
}

/* True when the store moved on (someone asked for a delete): the running task should stop. */
static bool superseded(Job *j, StoreStatus expected)
{
        _cleanup_(store_freep) Store *cur = NULL;
        return store_get(j->db, j->store->id, &cur) >= 0 && cur->status != expected;
}

static int fail_store(Job *j, const char *action, const char *reason)
{
        /* Written only while the store is still in the status this task works under: a delete asked for
         * meanwhile (even between a check and this write) wins, and the failure of the work it replaces
         * is moot. */
        if (store_set_status_if(j->db, j->store->id, j->expected, STORE_FAILED, reason) == -ESTALE) {
                (void) store_add_event(j->db, j->store->id, "system", "task.superseded", reason);
                return 0;
        }
        (void) store_add_event(j->db, j->store->id, "system", action, reason);
        log_struct(LOG_WARNING,
                   LOG_FIELDS("MESSAGE_ID", SA_MESSAGE_STORE_FAILED, "STORE_ID", j->store->id, "TASK_ID", j->task_id,
                              "REASON", reason),
                   "Store %s failed: %s", j->store->name, reason);
        return -EIO;
}

static bool is_transient(int r)
{
        return r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ETIMEDOUT || r == -EAGAIN || r == -ECONNRESET ||
               r == -ENETUNREACH || r == -EPROTO || r == -ENOTCONN || r == -EACCES || r == -EPERM;
}

/* Turns an error talking to the cluster into "wait and retry" or "fail", and records why. */
static int cluster_error(Job *j, int r, const char *doing)
{
        char reason[600];

        if (r == -ECANCELED)
                return r;
        snprintf(reason, sizeof reason, "%s: %s", doing, j->kube ? kube_client_last_error(j->kube) : strerror(-r));
        if (is_transient(r)) {
                char waiting[700];
                snprintf(waiting, sizeof waiting, "Waiting for the cluster: %s", reason);
                set_waiting_reason(j, waiting);
                (void) store_add_event(j->db, j->store->id, "system", "cluster.unreachable", reason);
                return -EAGAIN;
        }
        return fail_store(j, "store.failed", reason);
}

static int job_checkpoint(Job *j)
{
        return worker_checkpoint(j->w);
}

static int ensure_client(Job *j, uint64_t generation)
{
        WorkerState *ws = worker_get_data(j->w);
        _cleanup_free_ char *error = NULL;
        int r;

        if (!ws) {
                ws = calloc(1, sizeof *ws);
                if (!ws)
                        return -ENOMEM;
                worker_set_data(j->w, ws, worker_state_free);
        }
        if (ws->kube && ws->generation == generation) {
                j->kube = ws->kube;
                return 0;
        }
        ws->kube = kube_client_free(ws->kube);
        r = make_client(j->set.kubeconfig, &ws->kube, &error);
        if (r < 0) {
                char reason[700];
                snprintf(reason, sizeof reason, "Waiting for the cluster: kubeconfig '%s': %s", j->set.kubeconfig,
                         error ?: strerror(-r));
                set_waiting_reason(j, reason);
                log_struct(LOG_WARNING, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id), "%s", reason);
                return -EAGAIN;
        }
        kube_client_set_cancel(ws->kube, worker_cancel_flag(j->w));
        ws->generation = generation;
        j->kube = ws->kube;
        return 0;
}

static int job_init(Job *j, Provisioner *p, Worker *w, Task *t)
{
        uint64_t generation;
        int r;

        *j = (Job){ .p = p, .w = w, .t = t, .db = worker_db(w) };
        snprintf(j->task_id, sizeof j->task_id, "%" PRIi64, t->id);
        r = settings_copy(p, &j->set, &generation);
        if (r < 0)
                return r;
        r = store_get(j->db, t->store_id, &j->store);
        if (r < 0)
                return r;
        snprintf(j->ns, sizeof j->ns, "store-%s", j->store->name);
        snprintf(j->helm_dir, sizeof j->helm_dir, "%s/helm", j->set.state_dir);
        snprintf(j->values_path, sizeof j->values_path, "%s/values/%s.yaml", j->set.state_dir, j->store->id);
        j->helm = (HelmContext){
                .binary = j->set.helm_binary,
                .kubeconfig = j->set.kubeconfig,
                .state_dir = j->helm_dir,
                .timeout_sec = (unsigned) j->set.helm_timeout_sec,
                .cancel = worker_cancel_flag(w),
        };
        j->seen_events = json_object();
        if (!j->seen_events)
                return -ENOMEM;
        return ensure_client(j, generation);
}

/* ---- cluster objects ---- */

static json_t *labels(Job *j)
{
        return json_pack("{s:s, s:s, s:s}", LABEL_MANAGED_BY, "storeagent", LABEL_STORE_ID, j->store->id,
                         LABEL_STORE_NAME, j->store->name);
}

/* The namespace also enforces the "restricted" Pod Security Standard, which every pod of the chart meets. */
static json_t *namespace_labels(Job *j)
{
        json_t *l = labels(j);
        if (l) {
                json_object_set_new(l, "pod-security.kubernetes.io/enforce", json_string("restricted"));
                json_object_set_new(l, "pod-security.kubernetes.io/warn", json_string("restricted"));
        }
        return l;
}

static int apply(Job *j, json_t *obj, const char *what)
{
        _cleanup_(json_decrefp) json_t *o = obj;
        int r;

        if (!o)
                return -ENOMEM;
        r = kube_apply(j->kube, o, NULL);
        if (r < 0)
                return cluster_error(j, r, what);
        return 0;
}

/*
 * With the least-privilege identity from contrib/rbac the agent holds no rights inside a
 * namespace until it binds the "storeagent-store" ClusterRole there. It learns who it is
 * from a SelfSubjectReview; as cluster admin (or a user) there is nothing to bind.
 */
static int ensure_store_rolebinding(Job *j)
{
        _cleanup_(json_decrefp) json_t *review = NULL;
        const char *user;
        char sa_ns[128], sa_name[128];
        int r;

        r = kube_request(j->kube, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", "application/json",
                         "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}", &review);
        if (r < 0)
                return cluster_error(j, r, "Asking the cluster who the agent is failed");
        user = json_string_value(
                json_object_get(json_object_get(json_object_get(review, "status"), "userInfo"), "username"));
        if (!user || sscanf(user, "system:serviceaccount:%127[^:]:%127s", sa_ns, sa_name) != 2)
                return 0;
        return apply(j,
                     json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:s}]}", "apiVersion",
                               "rbac.authorization.k8s.io/v1", "kind", "RoleBinding", "metadata", "name",
                               "storeagent-store", "namespace", j->ns, "labels", labels(j), "roleRef", "apiGroup",
                               "rbac.authorization.k8s.io", "kind", "ClusterRole", "name", "storeagent-store",
                               "subjects", "kind", "ServiceAccount", "name", sa_name, "namespace", sa_ns),
                     "Binding the store role in the namespace failed");
}

static int step_namespace(Job *j)
{
        _cleanup_(json_decrefp) json_t *existing = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = kube_path(&path, "v1", "namespaces", NULL, j->ns);
        if (r < 0)
                return r;
        r = kube_get(j->kube, path, &existing);
        if (r >= 0) {
                const char *owner = json_string_value(
                        json_object_get(json_object_get(json_object_get(existing, "metadata"), "labels"), LABEL_STORE_ID));
                const char *phase = json_string_value(json_object_get(json_object_get(existing, "status"), "phase"));
                char reason[300];

                /* A namespace on its way out (an earlier store of this name) is waited for, whoever owned it. */
                if (streq_ptr(phase, "Terminating")) {
                        snprintf(reason, sizeof reason, "Waiting for the old namespace %s to finish terminating.", j->ns);
                        set_waiting_reason(j, reason);
                        return -EAGAIN;
                }
                if (!streq_ptr(owner, j->store->id)) {
                        snprintf(reason, sizeof reason,
                                 "Namespace %s already exists and does not belong to this store; refusing to touch it.",
                                 j->ns);
                        return fail_store(j, "store.failed", reason);
                }
        } else if (r != -ENOENT)
                return cluster_error(j, r, "Reading the namespace failed");

        r = apply(j,
                  json_pack("{s:s, s:s, s:{s:s, s:o}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name",
                            j->ns, "labels", namespace_labels(j)),
                  "Creating the namespace failed");
        if (r < 0)
                return r;
        return ensure_store_rolebinding(j);
}

static int step_quota(Job *j)
{
        int r;

        r = apply(j,
                  json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:{s:s, s:s, s:s, s:s, s:s}}}", "apiVersion", "v1", "kind",
                            "ResourceQuota", "metadata", "name", "store-quota", "namespace", j->ns, "labels", labels(j),
                            "spec", "hard", "pods", j->set.quota_pods, "requests.memory", j->set.quota_memory,
                            "limits.memory", j->set.quota_memory, "requests.cpu", j->set.quota_cpu, "limits.cpu",
                            j->set.quota_cpu),
                  "Applying the ResourceQuota failed");
        if (r < 0)
                return r;
        return apply(j,
                     json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:[{s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}}]}}",
                               "apiVersion", "v1", "kind", "LimitRange", "metadata", "name", "store-limits",
                               "namespace", j->ns, "labels", labels(j), "spec", "limits", "type", "Container",
                               "default", "cpu", "500m", "memory", "256Mi", "defaultRequest", "cpu", "50m", "memory",
                               "64Mi", "max", "cpu", "1", "memory", "1Gi"),
                     "Applying the LimitRange failed");
}

static int step_network_policies(Job *j)
{
        int r;

        /* Nothing reaches a store's pods unless a rule below lets it. */
        r = apply(j,
                  json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:{}, s:[s]}}", "apiVersion", "networking.k8s.io/v1",
                            "kind", "NetworkPolicy", "metadata", "name", "default-deny-ingress", "namespace", j->ns,
                            "labels", labels(j), "spec", "podSelector", "policyTypes", "Ingress"),
                  "Applying the default-deny NetworkPolicy failed");
        if (r < 0)
                return r;

        /* The ingress controller (k3s runs traefik in kube-system) may reach the web port. */
        r = apply(j,
                  json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:{s:{s:s}}, s:[s], s:[{s:[{s:{s:[{s:s, s:s, s:[s, s, "
                            "s]}]}}], s:[{s:s, s:s}]}]}}",
                            "apiVersion", "networking.k8s.io/v1", "kind", "NetworkPolicy", "metadata", "name",
                            "allow-ingress-controller-to-web", "namespace", j->ns, "labels", labels(j), "spec",
                            "podSelector", "matchLabels", "app.kubernetes.io/component", "web", "policyTypes",
                            "Ingress", "ingress", "from", "namespaceSelector", "matchExpressions", "key",
                            "kubernetes.io/metadata.name", "operator", "In", "values", "kube-system", "traefik",
                            "ingress-nginx", "ports", "protocol", "TCP", "port", "http"),
                  "Applying the ingress NetworkPolicy failed");
        if (r < 0)
                return r;

        /* Only the web tier and the setup Job of this namespace may reach the database. */
        return apply(j,
                     json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:{s:{s:s}}, s:[s], s:[{s:[{s:{s:[{s:s, s:s, s:[s, "
                               "s]}]}}], s:[{s:s, s:i}]}]}}",
                               "apiVersion", "networking.k8s.io/v1", "kind", "NetworkPolicy", "metadata", "name",
                               "allow-web-to-database", "namespace", j->ns, "labels", labels(j), "spec",
                               "podSelector", "matchLabels", "app.kubernetes.io/component", "database", "policyTypes",
                               "Ingress", "ingress", "from", "podSelector", "matchExpressions", "key",
                               "app.kubernetes.io/component", "operator", "In", "values", "web", "setup", "ports",
                               "protocol", "TCP", "port", 3306),
                     "Applying the database NetworkPolicy failed");
}

static int step_secrets(Job *j)
{
        _cleanup_erase_free_ char *root = NULL, *user = NULL, *admin = NULL, *body = NULL;
        _cleanup_(json_decrefp) json_t *secret = NULL;
        _cleanup_free_ char *path = NULL, *collection = NULL;
        int r;

        r = kube_path(&path, "v1", "secrets", j->ns, CREDENTIALS_SECRET);
        if (r < 0)
                return r;
        r = kube_get(j->kube, path, NULL);
        if (r >= 0)
                return 0; /* Created by an earlier attempt: never rotate passwords. */
        if (r != -ENOENT)
                return cluster_error(j, r, "Reading the credentials Secret failed");

        if (random_alnum(32, &root) < 0 || random_alnum(32, &user) < 0 || random_alnum(24, &admin) < 0)
                return -EIO;
        secret = json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s}}", "apiVersion", "v1",
                           "kind", "Secret", "metadata", "name", CREDENTIALS_SECRET, "namespace", j->ns, "labels",
                           labels(j), "type", "Opaque", "stringData", "mysql-root-password", root, "mysql-password", user,
                           "admin-password", admin, "admin-user", "admin", "database", "wordpress", "database-user",
                           "wordpress");
        if (!secret)
                return -ENOMEM;
        body = json_dumps(secret, JSON_COMPACT);
        if (!body)
                return -ENOMEM;
        r = kube_path(&collection, "v1", "secrets", j->ns, NULL);
        if (r < 0)
                return r;
        /* Create, not apply: if another attempt won the race, its passwords stay. */
        r = kube_request(j->kube, "POST", collection, "application/json", body, NULL);
        if (r == -EEXIST)
                return 0;
        if (r < 0)
                return cluster_error(j, r, "Creating the credentials Secret failed");
        return 0;
}

static int write_values(Job *j)
{
        _cleanup_(json_decrefp) json_t *v = NULL;
        _cleanup_free_ char *text = NULL, *dir = NULL, *email = NULL;
        bool tls = streq(j->set.url_scheme, "https");
        int r;

        if (asprintf(&dir, "%s/values", j->set.state_dir) < 0 ||
            asprintf(&email, "admin@%s.%s", j->store->name, j->set.base_domain) < 0)
                return -ENOMEM;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        v = json_pack("{s:s, s:s, s:{s:s, s:{s:b}}, s:{s:s}, s:{s:s, s:s}, s:{s:{s:s}}, s:{s:{s:s}}}", "storeName",
                      j->store->name, "baseDomain", j->set.base_domain, "ingress", "className", j->set.ingress_class,
                      "tls", "enabled", tls, "credentials", "secretName", CREDENTIALS_SECRET, "admin", "user", "admin",
                      "email", email, "mysql", "persistence", "size", j->set.storage_mysql, "wordpress", "persistence",
                      "size", j->set.storage_wordpress);
        if (!v)
                return -ENOMEM;
        /* JSON is YAML; helm reads it as a values file. */
        text = json_dumps(v, JSON_INDENT(2));
        if (!text)
                return -ENOMEM;
        return write_file_atomic(j->values_path, text, strlen(text), 0600);
}

/* Keeps the end of helm's output, where its error is. */
static void add_helm_event(Db *db, const char *store_id, const char *what, const HelmResult *res)
{
        const char *out = res->output ?: "";
        size_t n = strlen(out);
        char detail[2300];

        snprintf(detail, sizeof detail, "%s (exit %d)%s%s", what, res->exit_status, n ? ": " : "",
                 n > 2000 ? out + n - 2000 : out);
        (void) store_add_event(db, store_id, "helm", "helm", detail);
}

/* Copies the last non-empty line of text into buf. */
static void last_line(const char *text, char *buf, size_t n)
{
        const char *end = text + strlen(text), *start;

        while (end > text && (end[-1] == '\n' || end[-1] == ' '))
                end--;
        start = end;
        while (start > text && start[-1] != '\n')
                start--;
        snprintf(buf, n, "%.*s", (int) (end - start), start);
}

/* The line of helm's output that says what went wrong. */
static void helm_reason(const HelmResult *res, char *buf, size_t n)
{
        const char *out = res->output ?: "";
        const char *e = strstr(out, "Error: ");

        if (!e)
                e = strstr(out, "error: ");
        if (res->timed_out) {
                snprintf(buf, n, "helm timed out");
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
        snprintf(buf, n, "%.*s", (int) MIN(len, n - 1), e);
        for (char *p = buf; *p; p++)
                if (*p == '\n')
                        *p = ' ';
}

/* Worth another attempt. "another operation ... is in progress": a helm that outlived an
 * earlier daemon (killed without its control group) still holds the release; the next
 * attempt finds it pending and repairs it, or finds it done. */
static bool helm_output_transient(const HelmResult *res)
{
        const char *out = res->output ?: "";
        return strstr(out, "connection refused") || strstr(out, "i/o timeout") || strstr(out, "no such host") ||
               strstr(out, "Kubernetes cluster unreachable") || strstr(out, "TLS handshake timeout") ||
               strstr(out, "another operation (install/upgrade/rollback) is in progress") ||
               res->exit_status >= 128;
}

/*
 * A helm that was killed mid-operation leaves its release "pending-*", and
 * every later helm call on it refuses. A first install that never finished
 * is uninstalled (a create task installs again); a pending upgrade or rollback
 * is rolled back to the last good revision. `found` says how it was noticed,
 * for the timeline. Returns 0 when there was nothing to do or the repair
 * worked (*ret_repaired says which), -EAGAIN when it failed, -ECANCELED.
 */
static int repair_release(Db *db, const HelmContext *h, const Store *s, const char *ns, const char *task_id,
                          const char *found, bool *ret_repaired)
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
        if (!helm_status_is_pending(st))
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

        if (streq_ptr(st, "pending-install") || last_good == 0) {
                snprintf(detail, sizeof detail, "Release was left %s %s; uninstalling it.", st, found);
                r = helm_uninstall(h, s->name, ns, &res);
        } else {
                snprintf(detail, sizeof detail, "Release was left %s %s; rolling back to revision %d.", st, found,
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

static int repair_pending_release(Job *j, bool *ret_repaired)
{
        return repair_release(j->db, &j->helm, j->store, j->ns, j->task_id, "by an interrupted helm", ret_repaired);
}

/* Reads the release's revision and chart version back from helm: one `helm history` call. */
static int read_release(Job *j, int64_t *ret_revision, char **ret_chart_version)
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
static int find_chart(Job *j, const char *version, char **ret)
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
                        char needle[96];
                        snprintf(needle, sizeof needle, "\nversion: %s\n", version);
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

static int run_helm_install(Job *j, const char *chart, char *reason, size_t reason_len)
{
        HelmResult res = {};
        bool repaired;
        int r;

        r = repair_pending_release(j, &repaired);
        if (r < 0)
                return r;
        r = write_values(j);
        if (r < 0) {
                snprintf(reason, reason_len, "writing the values file %s failed: %s", j->values_path, strerror(-r));
                return -EIO;
        }

        r = helm_upgrade_install(&j->helm, j->store->name, j->ns, chart, j->values_path, &res);
        if (r == -ECANCELED) {
                helm_result_done(&res);
                return r;
        }
        if (r < 0 && r != -ETIME) {
                helm_result_done(&res);
                snprintf(reason, reason_len, "helm could not be run (%s): %s", j->set.helm_binary, strerror(-r));
                return -ENOEXEC;
        }
        add_helm_event(j->db, j->store->id, "helm upgrade --install", &res);
        if (res.exit_status == 0 && !res.timed_out) {
                helm_result_done(&res);
                return 0;
        }
        helm_reason(&res, reason, reason_len);
        bool transient = helm_output_transient(&res) || res.timed_out;
        helm_result_done(&res);
        return transient ? -EAGAIN : -EIO;
}

/* ---- readiness ---- */

typedef struct Readiness {
        int total, ready;
        bool job_failed;
        char waiting_on[128];
        char failure[512];
} Readiness;

/* The label selector for the release's objects (the chart's app.kubernetes.io/instance). */
static void instance_selector(const Job *j, char *buf, size_t n)
{
        snprintf(buf, n, "app.kubernetes.io/instance=%s", j->store->name);
}

/* spec.replicas of a Deployment, StatefulSet or ReplicaSet; the API server's default is 1. */
static json_int_t spec_replicas(json_t *o)
{
        json_t *v = json_object_get(json_object_get(o, "spec"), "replicas");
        return json_is_integer(v) ? json_integer_value(v) : 1;
}

static void check_workloads(json_t *list, const char *kind, Readiness *rd)
{
        json_t *items = json_object_get(list, "items"), *o;
        size_t i;

        json_array_foreach(items, i, o) {
                json_t *status = json_object_get(o, "status");
                const char *name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
                bool ok = false;

                if (streq(kind, "Deployment")) {
                        json_int_t want = spec_replicas(o);
                        json_int_t avail = json_integer_value(json_object_get(status, "availableReplicas"));
                        json_int_t updated = json_integer_value(json_object_get(status, "updatedReplicas"));
                        json_int_t gen = json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation"));
                        json_int_t observed = json_integer_value(json_object_get(status, "observedGeneration"));
                        ok = observed >= gen && avail >= want && updated >= want;
                } else if (streq(kind, "StatefulSet")) {
                        json_int_t want = spec_replicas(o);
                        json_int_t ready = json_integer_value(json_object_get(status, "readyReplicas"));
                        json_int_t updated = json_integer_value(json_object_get(status, "updatedReplicas"));
                        json_int_t gen = json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation"));
                        json_int_t observed = json_integer_value(json_object_get(status, "observedGeneration"));
                        ok = observed >= gen && ready >= want && (updated >= want || updated == 0);
                } else {
                        json_t *conds = json_object_get(status, "conditions"), *c;
                        size_t k;
                        json_array_foreach(conds, k, c) {
                                const char *type = json_string_value(json_object_get(c, "type"));
                                bool is_true = streq_ptr(json_string_value(json_object_get(c, "status")), "True");
                                if (streq_ptr(type, "Complete") && is_true)
                                        ok = true;
                                if (streq_ptr(type, "Failed") && is_true) {
                                        rd->job_failed = true;
                                        snprintf(rd->failure, sizeof rd->failure, "Setup Job %s failed: %s", strna(name),
                                                 strna(json_string_value(json_object_get(c, "message"))));
                                }
                        }
                        if (json_integer_value(json_object_get(status, "succeeded")) > 0)
                                ok = true;
                }
                rd->total++;
                if (ok)
                        rd->ready++;
                else if (!rd->waiting_on[0])
                        snprintf(rd->waiting_on, sizeof rd->waiting_on, "%s %s", kind, strna(name));
        }
}

/* Copies new cluster Events of the namespace into the store's timeline; remembers the latest warning. */
static void collect_events(Job *j, char *last_warning, size_t n)
{
        _cleanup_(json_decrefp) json_t *list = NULL;
        _cleanup_free_ char *path = NULL;
        json_t *e;
        size_t i;

        if (kube_path(&path, "v1", "events", j->ns, NULL) < 0 || kube_list(j->kube, path, NULL, &list) < 0)
                return;
        json_array_foreach(json_object_get(list, "items"), i, e) {
                const char *uid = json_string_value(json_object_get(json_object_get(e, "metadata"), "uid"));
                json_int_t count = json_integer_value(json_object_get(e, "count"));
                const char *type = json_string_value(json_object_get(e, "type"));
                const char *reason = json_string_value(json_object_get(e, "reason"));
                const char *message = json_string_value(json_object_get(e, "message"));
                json_t *obj = json_object_get(e, "involvedObject");
                char key[160], detail[1024];

                if (!uid)
                        continue;
                snprintf(key, sizeof key, "%s/%" JSON_INTEGER_FORMAT, uid, count);
                snprintf(detail, sizeof detail, "%s %s/%s: %s: %s", strna(type),
                         strna(json_string_value(json_object_get(obj, "kind"))),
                         strna(json_string_value(json_object_get(obj, "name"))), strna(reason), strna(message));
                if (streq_ptr(type, "Warning") && last_warning)
                        snprintf(last_warning, n, "%s/%s: %s: %s", strna(json_string_value(json_object_get(obj, "kind"))),
                                 strna(json_string_value(json_object_get(obj, "name"))), strna(reason),
                                 strna(message));
                if (json_object_get(j->seen_events, key) || json_object_size(j->seen_events) > 500)
                        continue;
                json_object_set_new(j->seen_events, key, json_true());
                (void) store_add_event(j->db, j->store->id, "cluster", "k8s.event", detail);
        }
}

/* The last words of a failed setup pod (the chart uses FallbackToLogsOnError: "setup: ERROR: ..."). */
static void job_pod_message(Job *j, const char *selector, char *buf, size_t n)
{
        _cleanup_(json_decrefp) json_t *pods = NULL;
        _cleanup_free_ char *path = NULL, *sel = NULL;
        json_t *pod;
        size_t i;

        if (kube_path(&path, "v1", "pods", j->ns, NULL) < 0 ||
            asprintf(&sel, "%s,app.kubernetes.io/component=setup", selector) < 0 ||
            kube_list(j->kube, path, sel, &pods) < 0)
                return;
        json_array_foreach(json_object_get(pods, "items"), i, pod) {
                json_t *cs, *c;
                size_t k;
                cs = json_object_get(json_object_get(pod, "status"), "containerStatuses");
                json_array_foreach(cs, k, c) {
                        const char *msg = json_string_value(
                                json_object_get(json_object_get(json_object_get(c, "state"), "terminated"), "message"));
                        if (!msg || !*msg)
                                continue;
                        /* The last line is where the script says what failed. */
                        last_line(msg, buf, n);
                }
        }
}

typedef struct WatchWake {
        int events;
} WatchWake;

static int on_watch_event(const char *type, json_t *object, void *userdata)
{
        WatchWake *ww = userdata;
        ww->events++;
        return 1; /* any change: go and look again */
}

/*
 * Waits until every Deployment is available, every StatefulSet ready and the
 * setup Job complete, as the API server reports them. Pods are watched so a
 * change wakes us at once; workloads are then listed afresh.
 */
static int wait_for_workloads(Job *j, StoreStatus expected, char *reason, size_t reason_len)
{
        _cleanup_free_ char *deploy = NULL, *sts = NULL, *jobs = NULL, *pods = NULL;
        char selector[128], last_warning[512] = "";
        uint64_t deadline = mono_usec() + j->set.provision_timeout_sec * USEC_PER_SEC;
        int r;

        instance_selector(j, selector, sizeof selector);
        if (kube_path(&deploy, "apps/v1", "deployments", j->ns, NULL) < 0 ||
            kube_path(&sts, "apps/v1", "statefulsets", j->ns, NULL) < 0 ||
            kube_path(&jobs, "batch/v1", "jobs", j->ns, NULL) < 0 || kube_path(&pods, "v1", "pods", j->ns, NULL) < 0)
                return -ENOMEM;

        for (;;) {
                _cleanup_(json_decrefp) json_t *d = NULL, *s = NULL, *jb = NULL, *pl = NULL;
                Readiness rd = {};

                r = job_checkpoint(j);
                if (r < 0)
                        return r;
                if (superseded(j, expected))
                        return -ECONNABORTED;

                r = kube_list(j->kube, deploy, selector, &d);
                if (r >= 0)
                        r = kube_list(j->kube, sts, selector, &s);
                if (r >= 0)
                        r = kube_list(j->kube, jobs, selector, &jb);
                if (r < 0)
                        return cluster_error(j, r, "Reading the store's workloads failed");

                check_workloads(d, "Deployment", &rd);
                check_workloads(s, "StatefulSet", &rd);
                check_workloads(jb, "Job", &rd);
                collect_events(j, last_warning, sizeof last_warning);

                if (rd.job_failed) {
                        char detail[400] = "";
                        job_pod_message(j, selector, detail, sizeof detail);
                        snprintf(reason, reason_len, "%s%s%s", rd.failure, detail[0] ? ": " : "", detail);
                        return -EIO;
                }
                if (rd.total > 0 && rd.ready == rd.total)
                        return 0;

                progress(j, "waiting for workloads: %d of %d ready%s%s", rd.ready, rd.total,
                         rd.waiting_on[0] ? ", waiting on " : "", rd.waiting_on);

                if (mono_usec() > deadline) {
                        snprintf(reason, reason_len, "Not ready after %" PRIu64 " s: %s%s%s",
                                 j->set.provision_timeout_sec, rd.waiting_on[0] ? rd.waiting_on : "no workloads found",
                                 last_warning[0] ? " is not ready; last cluster warning: " : " is not ready",
                                 last_warning);
                        return -ETIMEDOUT;
                }

                /* Block until a pod in the namespace changes, or a second passes (workload status follows pods). */
                const char *rv = NULL;
                if (kube_list(j->kube, pods, NULL, &pl) >= 0)
                        rv = json_string_value(json_object_get(json_object_get(pl, "metadata"), "resourceVersion"));
                WatchWake ww = {};
                r = kube_watch(j->kube, pods, NULL, rv, 1, on_watch_event, &ww);
                if (r == -ECANCELED)
                        return r;
                if (r < 0 && r != -ESTALE)
                        (void) worker_sleep(j->w, USEC_PER_SEC);
        }
}

/*
 * A retry after pods were refused (a quota too small, say): the StatefulSet and ReplicaSet
 * controllers retry a refused pod creation with exponential backoff, so by the time the
 * cause is fixed their next try may be minutes away, past the retry's own timeout. Any
 * update to the object queues it at once; an annotation with the time is that update.
 * Only the workloads that lack pods are touched; running pods are left alone.
 */
static void nudge_workloads(Job *j)
{
        static const char *const resources[] = { "statefulsets", "replicasets" };
        char selector[128], body[160];
        uint64_t now = now_usec() / USEC_PER_SEC;

        instance_selector(j, selector, sizeof selector);
        snprintf(body, sizeof body, "{\"metadata\":{\"annotations\":{\"storeagent.io/nudged-at\":\"%" PRIu64 "\"}}}",
                 now);
        for (size_t k = 0; k < ELEMENTSOF(resources); k++) {
                _cleanup_free_ char *path = NULL;
                _cleanup_(json_decrefp) json_t *list = NULL;
                json_t *o;
                size_t i;

                if (kube_path(&path, "apps/v1", resources[k], j->ns, NULL) < 0 ||
                    kube_list(j->kube, path, selector, &list) < 0)
                        continue;
                json_array_foreach(json_object_get(list, "items"), i, o) {
                        _cleanup_free_ char *item = NULL;
                        const char *name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
                        json_int_t have = json_integer_value(
                                json_object_get(json_object_get(o, "status"), "replicas"));

                        if (!name || spec_replicas(o) <= have || kube_path(&item, "apps/v1", resources[k], j->ns, name) < 0)
                                continue;
                        if (kube_request(j->kube, "PATCH", item, "application/merge-patch+json", body, NULL) < 0)
                                log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id),
                                           "Could not nudge %s: %s", item, kube_client_last_error(j->kube));
                }
        }
}

static void mark_ready(Job *j, const char *action, const char *detail, const char *reason)
{
        _cleanup_free_ char *url = NULL, *version = NULL;
        int64_t revision = 0;

        if (asprintf(&url, "%s://%s.%s", j->set.url_scheme, j->store->name, j->set.base_domain) < 0)
                url = NULL;
        (void) read_release(j, &revision, &version);
        (void) store_set_release(j->db, j->store->id, version, revision, url);
        (void) store_add_event(j->db, j->store->id, "system", action, detail);
        (void) store_set_status(j->db, j->store->id, STORE_READY, reason);
        char rev[24];
        snprintf(rev, sizeof rev, "%" PRIi64, revision);
        log_struct(LOG_INFO,
                   LOG_FIELDS("MESSAGE_ID", SA_MESSAGE_STORE_READY, "STORE_ID", j->store->id, "TASK_ID", j->task_id,
                              "HELM_REVISION", rev, "URL", url),
                   "Store %s is ready at %s (revision %s).", j->store->name, strna(url), rev);
}

/* ---- task kinds ---- */

/*
 * What a task does with the outcome of wait_for_workloads() when it is not a plain failure:
 * superseded by a delete (done, 0), or interrupted (back to the queue, the error itself).
 * Returns 1 when the caller should go on and judge success or failure.
 */
static int wait_interrupted(int r)
{
        if (r == -ECONNABORTED)
                return 0;
        if (r == -EAGAIN || r == -ECANCELED || r == -ESTALE)
                return r;
        return 1;
}

static int task_create(Job *j)
{
        _cleanup_free_ char *chart = NULL;
        char reason[700] = "";
        int r, stop;

        j->steps = 7;
        j->expected = STORE_PROVISIONING;
        if (superseded(j, STORE_PROVISIONING))
                return 0;

        begin_step(j, "connecting to the cluster");
        {
                _cleanup_free_ char *version = NULL;
                r = kube_server_version(j->kube, &version);
                if (r < 0)
                        return cluster_error(j, r, "The Kubernetes API server is not reachable");
        }
        set_waiting_reason(j, NULL);

        struct {
                const char *name;
                int (*fn)(Job *j);
        } steps[] = {
                { "creating namespace", step_namespace },
                { "applying quota and limits", step_quota },
                { "applying network policies", step_network_policies },
                { "creating secrets", step_secrets },
        };
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                r = job_checkpoint(j);
                if (r < 0)
                        return r;
                if (superseded(j, STORE_PROVISIONING))
                        return 0;
                begin_step(j, steps[i].name);
                r = steps[i].fn(j);
                if (r < 0)
                        return r;
        }

        r = job_checkpoint(j);
        if (r < 0)
                return r;
        if (superseded(j, STORE_PROVISIONING))
                return 0;
        begin_step(j, "helm install");
        r = find_chart(j, NULL, &chart);
        if (r < 0)
                return r;
        r = run_helm_install(j, chart, reason, sizeof reason);
        if (r == -EAGAIN) {
                char waiting[800];
                snprintf(waiting, sizeof waiting, "helm install will be retried: %s", reason);
                set_waiting_reason(j, waiting);
                return r;
        }
        if (r == -ECANCELED)
                return r;
        if (r < 0) {
                char msg[800];
                snprintf(msg, sizeof msg, "helm install failed: %s", reason);
                return fail_store(j, "store.failed", msg);
        }
        {
                _cleanup_free_ char *version = NULL;
                int64_t revision = 0;
                if (read_release(j, &revision, &version) >= 0)
                        (void) store_set_release(j->db, j->store->id, version, revision, NULL);
                if (revision > 1) /* the release was there before: a retry */
                        nudge_workloads(j);
        }

        begin_step(j, "waiting for workloads");
        r = wait_for_workloads(j, STORE_PROVISIONING, reason, sizeof reason);
        stop = wait_interrupted(r);
        if (stop <= 0)
                return stop;
        if (r < 0)
                return fail_store(j, "store.failed", reason);

        mark_ready(j, "store.ready", "All workloads are ready and the setup Job completed.", NULL);
        return 0;
}

static int task_delete(Job *j)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(json_decrefp) json_t *ns = NULL;
        HelmResult res = {};
        bool ours = false;
        int r;

        j->steps = 4;
        j->expected = STORE_DELETING;
        begin_step(j, "connecting to the cluster");
        {
                _cleanup_free_ char *version = NULL;
                r = kube_server_version(j->kube, &version);
                if (r < 0)
                        return cluster_error(j, r, "The Kubernetes API server is not reachable");
        }
        set_waiting_reason(j, NULL);

        r = kube_path(&path, "v1", "namespaces", NULL, j->ns);
        if (r < 0)
                return r;
        r = kube_get(j->kube, path, &ns);
        if (r < 0 && r != -ENOENT)
                return cluster_error(j, r, "Reading the namespace failed");
        if (r >= 0)
                ours = streq_ptr(json_string_value(json_object_get(
                                         json_object_get(json_object_get(ns, "metadata"), "labels"), LABEL_STORE_ID)),
                                 j->store->id);

        begin_step(j, "helm uninstall");
        if (ours) {
                r = helm_uninstall(&j->helm, j->store->name, j->ns, &res);
                if (r == -ECANCELED) {
                        helm_result_done(&res);
                        return r;
                }
                if (r >= 0)
                        add_helm_event(j->db, j->store->id, "helm uninstall", &res);
                if (r < 0 || res.exit_status != 0) {
                        char reason[600];
                        helm_reason(&res, reason, sizeof reason);
                        bool transient = r < 0 || helm_output_transient(&res);
                        helm_result_done(&res);
                        if (transient)
                                return -EAGAIN;
                        /* Deleting the namespace removes the release's objects anyway; say so and go on. */
                        (void) store_add_event(j->db, j->store->id, "system", "helm.uninstall_failed", reason);
                } else
                        helm_result_done(&res);
        }

        begin_step(j, "deleting namespace");
        if (ours) {
                r = kube_delete(j->kube, path, "Foreground");
                if (r < 0)
                        return cluster_error(j, r, "Deleting the namespace failed");
        } else if (r >= 0 && ns)
                (void) store_add_event(j->db, j->store->id, "system", "store.delete",
                                       "The namespace is not labelled as this store's; it was left alone.");

        begin_step(j, "waiting for the namespace to disappear");
        uint64_t deadline = mono_usec() + DELETE_TIMEOUT_USEC, started = mono_usec();
        while (ours) {
                _cleanup_(json_decrefp) json_t *cur = NULL;
                r = kube_get(j->kube, path, &cur);
                if (r == -ENOENT)
                        break;
                if (r < 0)
                        return cluster_error(j, r, "Watching the namespace go failed");
                const char *uid = json_string_value(json_object_get(json_object_get(cur, "metadata"), "uid"));
                const char *old_uid = json_string_value(json_object_get(json_object_get(ns, "metadata"), "uid"));
                if (!streq_ptr(uid, old_uid))
                        break; /* a new namespace of the same name: ours is gone */
                progress(j, "namespace %s terminating (%" PRIu64 " s)", j->ns, (mono_usec() - started) / USEC_PER_SEC);
                if (mono_usec() > deadline) {
                        char reason[600];
                        json_t *conds = json_object_get(json_object_get(cur, "status"), "conditions"), *c;
                        size_t i;
                        const char *why = NULL;
                        json_array_foreach(conds, i, c)
                                if (streq_ptr(json_string_value(json_object_get(c, "status")), "True"))
                                        why = json_string_value(json_object_get(c, "message"));
                        snprintf(reason, sizeof reason, "Namespace %s did not go away within %" PRIu64 " s%s%s", j->ns,
                                 DELETE_TIMEOUT_USEC / USEC_PER_SEC, why ? ": " : "", strna(why));
                        return fail_store(j, "store.delete_failed", reason);
                }
                r = worker_sleep(j->w, USEC_PER_SEC);
                if (r < 0)
                        return r;
        }

        (void) unlink(j->values_path);
        (void) store_add_event(j->db, j->store->id, "system", "store.deleted",
                               "Release uninstalled and namespace gone.");
        (void) store_set_status(j->db, j->store->id, STORE_DELETED, NULL);
        log_struct(LOG_INFO,
                   LOG_FIELDS("MESSAGE_ID", SA_MESSAGE_STORE_DELETED, "STORE_ID", j->store->id, "TASK_ID", j->task_id),
                   "Store %s deleted; nothing of it is left in the cluster.", j->store->name);
        return 0;
}

static int rollback_to(Job *j, int revision, char *reason, size_t reason_len)
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
                bool transient = r < 0 || helm_output_transient(&res);
                helm_result_done(&res);
                return transient ? -EAGAIN : -EIO;
        }
        helm_result_done(&res);
        return 0;
}

static int task_upgrade(Job *j)
{
        _cleanup_free_ char *chart = NULL, *old_version = NULL;
        const char *version = json_string_value(json_object_get(j->t->payload, "chart_version"));
        char reason[700] = "", msg[1200];
        int64_t old_revision = 0;
        bool repaired;
        int r, stop;

        j->steps = 3;
        j->expected = STORE_UPGRADING;
        if (superseded(j, STORE_UPGRADING))
                return 0;
        begin_step(j, "preparing upgrade");
        r = find_chart(j, version, &chart);
        if (r < 0) {
                snprintf(msg, sizeof msg, "Chart version %s is not available in %s.", strna(version),
                         j->set.chart_repository);
                (void) store_add_event(j->db, j->store->id, "system", "store.upgrade_failed", msg);
                (void) store_set_status(j->db, j->store->id, STORE_READY, msg);
                return 0;
        }
        r = repair_pending_release(j, &repaired);
        if (r < 0)
                return r;
        r = read_release(j, &old_revision, &old_version);
        if (r < 0 && r != -ENOENT)
                return -EAGAIN;

        begin_step(j, "helm upgrade");
        r = run_helm_install(j, chart, reason, sizeof reason);
        if (r == -EAGAIN || r == -ECANCELED)
                return r;
        if (r >= 0) {
                begin_step(j, "waiting for workloads");
                r = wait_for_workloads(j, STORE_UPGRADING, reason, sizeof reason);
                stop = wait_interrupted(r);
                if (stop <= 0)
                        return stop;
                if (r >= 0) {
                        snprintf(msg, sizeof msg, "Upgraded to chart version %s.", version);
                        mark_ready(j, "store.upgraded", msg, NULL);
                        return 0;
                }
        }

        /* The upgrade failed: go back to what worked, and say so. */
        if (old_revision <= 0) {
                snprintf(msg, sizeof msg, "Upgrade to %s failed: %s", version, reason);
                return fail_store(j, "store.upgrade_failed", msg);
        }
        char rb_reason[600] = "";
        progress(j, "upgrade failed; rolling back to revision %" PRIi64, old_revision);
        r = rollback_to(j, (int) old_revision, rb_reason, sizeof rb_reason);
        if (r == -ECANCELED)
                return r;
        if (r >= 0)
                r = wait_for_workloads(j, STORE_UPGRADING, rb_reason, sizeof rb_reason);
        stop = wait_interrupted(r);
        if (stop <= 0)
                return stop;
        if (r < 0) {
                snprintf(msg, sizeof msg, "Upgrade to %s failed (%s) and the rollback to revision %" PRIi64 " failed too: %s",
                         version, reason, old_revision, rb_reason);
                return fail_store(j, "store.upgrade_failed", msg);
        }
        snprintf(msg, sizeof msg, "Upgrade to %s failed: %s; rolled back to revision %" PRIi64 " (chart %s).", version,
                 reason, old_revision, strna(old_version));
        mark_ready(j, "store.upgrade_failed", msg, msg);
        return 0;
}

static int task_rollback(Job *j)
{
        json_int_t revision = json_integer_value(json_object_get(j->t->payload, "revision"));
        char reason[700] = "", msg[900];
        bool repaired;
        int r, stop;

        j->steps = 2;
        j->expected = STORE_UPGRADING;
        if (superseded(j, STORE_UPGRADING))
                return 0;
        r = repair_pending_release(j, &repaired);
        if (r < 0)
                return r;
        begin_step(j, "helm rollback");
        r = rollback_to(j, (int) revision, reason, sizeof reason);
        if (r == -EAGAIN || r == -ECANCELED)
                return r;
        if (r < 0) {
                /* A rollback helm refused (no such revision) leaves the release as it was. */
                snprintf(msg, sizeof msg, "Rollback to revision %" JSON_INTEGER_FORMAT " failed: %s", revision, reason);
                mark_ready(j, "store.rollback_failed", msg, msg);
                return 0;
        }
        begin_step(j, "waiting for workloads");
        r = wait_for_workloads(j, STORE_UPGRADING, reason, sizeof reason);
        stop = wait_interrupted(r);
        if (stop <= 0)
                return stop;
        if (r < 0) {
                snprintf(msg, sizeof msg, "Rollback to revision %" JSON_INTEGER_FORMAT " did not become ready: %s",
                         revision, reason);
                return fail_store(j, "store.failed", msg);
        }
        snprintf(msg, sizeof msg, "Rolled back to revision %" JSON_INTEGER_FORMAT ".", revision);
        mark_ready(j, "store.rolled_back", msg, NULL);
        return 0;
}

int provisioner_run_task(Worker *w, Task *t, void *userdata)
{
        Provisioner *p = userdata;
        Job j;
        int r;

        r = job_init(&j, p, w, t);
        if (r < 0) {
                if (j.store)
                        goto done;
                job_done(&j);
                return r == -ENOENT ? 0 : r;
        }
        if (j.store->status == STORE_DELETED) {
                r = 0;
                goto done;
        }

        switch (t->kind) {
        case TASK_CREATE:
                r = task_create(&j);
                break;
        case TASK_DELETE:
                r = task_delete(&j);
                break;
        case TASK_UPGRADE:
                r = task_upgrade(&j);
                break;
        case TASK_ROLLBACK:
                r = task_rollback(&j);
                break;
        default:
                r = -EINVAL;
        }
done:
        job_done(&j);
        return r;
}

/* ---- answers for the API ---- */

/*
 * Asks the API server for its version, at most once per CLUSTER_STATUS_TTL_USEC. The probe runs
 * outside status_lock so that readers get the cached answer at once, and only one probe runs at
 * a time (whoever finds probe_lock taken uses the cache).
 */
int provisioner_cluster_status(Provisioner *p, json_t **ret)
{
        assert(p);
        bool stale;

        pthread_mutex_lock(&p->status_lock);
        stale = p->status_checked == 0 || mono_usec() - p->status_checked > CLUSTER_STATUS_TTL_USEC;
        pthread_mutex_unlock(&p->status_lock);

        if (stale && pthread_mutex_trylock(&p->probe_lock) == 0) {
                _cleanup_free_ char *version = NULL, *error = NULL, *kubeconfig = NULL, *detail = NULL;
                uint64_t generation;
                int r;

                pthread_mutex_lock(&p->lock);
                kubeconfig = strdup(p->set.kubeconfig);
                generation = p->generation;
                pthread_mutex_unlock(&p->lock);

                if (p->status_client && p->status_generation != generation)
                        p->status_client = kube_client_free(p->status_client);
                r = !kubeconfig ? -ENOMEM : p->status_client ? 0 : make_client(kubeconfig, &p->status_client, &error);
                if (r >= 0) {
                        p->status_generation = generation;
                        kube_client_set_cancel(p->status_client, &p->stopping);
                        r = kube_server_version(p->status_client, &version);
                }
                if (r >= 0)
                        detail = TAKE_PTR(version);
                else if (asprintf(&detail, "%s",
                                  error ?: (p->status_client ? kube_client_last_error(p->status_client)
                                                             : strerror(-r))) < 0)
                        detail = NULL;

                pthread_mutex_lock(&p->status_lock);
                p->reachable = r >= 0;
                free(p->status_detail);
                p->status_detail = TAKE_PTR(detail);
                p->status_checked = mono_usec();
                pthread_mutex_unlock(&p->status_lock);
                pthread_mutex_unlock(&p->probe_lock);
        }

        pthread_mutex_lock(&p->status_lock);
        *ret = json_pack("{s:b, s:s}", "reachable", p->reachable && p->status_checked != 0, "detail",
                         p->status_checked ? strna(p->status_detail) : "not checked yet");
        pthread_mutex_unlock(&p->status_lock);
        return *ret ? 0 : -ENOMEM;
}

int provisioner_release_history(Provisioner *p, const Store *s, json_t **ret)
{
        assert(p);
        _cleanup_(json_decrefp) json_t *history = NULL;
        ProvisionSettings set;
        char ns[80], helm_dir[512];
        json_t *items, *h;
        size_t i;
        int r;

        r = settings_copy(p, &set, NULL);
        if (r < 0)
                return r;
        snprintf(ns, sizeof ns, "store-%s", s->name);
        snprintf(helm_dir, sizeof helm_dir, "%s/helm", set.state_dir);
        HelmContext h_ctx = { .binary = set.helm_binary, .kubeconfig = set.kubeconfig, .state_dir = helm_dir, .timeout_sec = 30 };
        r = helm_history(&h_ctx, s->name, ns, &history, NULL);
        settings_done(&set);
        if (r < 0)
                return r;
        items = json_array();
        json_array_foreach(history, i, h)
                json_array_append_new(items, json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}", "revision",
                                                       json_object_get(h, "revision") ?: json_null(), "status",
                                                       json_object_get(h, "status") ?: json_null(), "chart",
                                                       json_object_get(h, "chart") ?: json_null(), "app_version",
                                                       json_object_get(h, "app_version") ?: json_null(), "updated",
                                                       json_object_get(h, "updated") ?: json_null(), "description",
                                                       json_object_get(h, "description") ?: json_null()));
        *ret = items;
        return 0;
}

static int add_version(json_t *list, const char *v)
{
        json_t *e;
        size_t i;
        json_array_foreach(list, i, e)
                if (streq_ptr(json_string_value(json_object_get(e, "version")), v))
                        return 0;
        return json_array_append_new(list, json_pack("{s:s}", "version", v));
}

int provisioner_chart_versions(Provisioner *p, json_t **ret)
{
        assert(p);
        _cleanup_free_ char *chart_yaml = NULL, *text = NULL, *repo = NULL;
        json_t *list = json_array();
        DIR *d;

        pthread_mutex_lock(&p->lock);
        repo = strdup(p->set.chart_repository);
        if (asprintf(&chart_yaml, "%s/Chart.yaml", p->set.chart_path) < 0)
                chart_yaml = NULL;
        pthread_mutex_unlock(&p->lock);
        if (!list || !repo || !chart_yaml) {
                json_decref(list);
                return -ENOMEM;
        }
        if (read_file(chart_yaml, 65536, &text, NULL) >= 0) {
                const char *v = strstr(text, "\nversion: ");
                if (v) {
                        char buf[64];
                        v += 10;
                        snprintf(buf, sizeof buf, "%.*s", (int) strcspn(v, "\n \r\""), v);
                        add_version(list, buf);
                }
        }
        d = opendir(repo);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        size_t n = strlen(de->d_name);
                        const char *prefix = "store-woocommerce-";
                        if (n > strlen(prefix) + 4 && strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
                            streq(de->d_name + n - 4, ".tgz")) {
                                char buf[64];
                                snprintf(buf, sizeof buf, "%.*s", (int) (n - strlen(prefix) - 4),
                                         de->d_name + strlen(prefix));
                                add_version(list, buf);
                        }
                }
                closedir(d);
        }
        *ret = list;
        return 0;
}

int provisioner_orphans(Provisioner *p, json_t **ret)
{
        assert(p);
        pthread_mutex_lock(&p->status_lock);
        *ret = json_copy(p->orphans);
        pthread_mutex_unlock(&p->status_lock);
        return *ret ? 0 : -ENOMEM;
}

/* ---- reconciliation ---- */

static bool reconciler_sleep(Provisioner *p, unsigned seconds)
{
        for (unsigned i = 0; i < seconds * 5; i++) {
                if (atomic_load(&p->stopping))
                        return false;
                usleep(200 * 1000);
        }
        return !atomic_load(&p->stopping);
}

/* Rolls back (or uninstalls) a release a killed helm left pending, for a store no task is working on. */
static void repair_idle_release(Provisioner *p, Db *db, const ProvisionSettings *set, Store *s)
{
        char ns[80], helm_dir[512];
        bool repaired;

        snprintf(ns, sizeof ns, "store-%s", s->name);
        snprintf(helm_dir, sizeof helm_dir, "%s/helm", set->state_dir);
        HelmContext h = { .binary = set->helm_binary, .kubeconfig = set->kubeconfig, .state_dir = helm_dir,
                          .timeout_sec = (unsigned) set->helm_timeout_sec, .cancel = &p->stopping };
        (void) repair_release(db, &h, s, ns, NULL, "at startup with no task running", &repaired);
}

static void reconcile_once(Provisioner *p, Db *db, bool first)
{
        _cleanup_(json_decrefp) json_t *list = NULL, *orphans = NULL;
        _cleanup_(kube_client_freep) KubeClient *kube = NULL;
        ProvisionSettings set;
        json_t *ns;
        size_t i;

        if (settings_copy(p, &set, NULL) < 0)
                return;
        if (make_client(set.kubeconfig, &kube, NULL) < 0)
                goto out;
        kube_client_set_cancel(kube, &p->stopping);
        if (kube_list(kube, "/api/v1/namespaces", LABEL_MANAGED_BY "=storeagent", &list) < 0)
                goto out;

        orphans = json_array();
        json_array_foreach(json_object_get(list, "items"), i, ns) {
                json_t *meta = json_object_get(ns, "metadata");
                const char *name = json_string_value(json_object_get(meta, "name"));
                const char *id = json_string_value(json_object_get(json_object_get(meta, "labels"), LABEL_STORE_ID));
                _cleanup_(store_freep) Store *s = NULL;

                if (!name)
                        continue;
                if (!id || store_get(db, id, &s) < 0 || s->status == STORE_DELETED) {
                        json_array_append_new(orphans, json_pack("{s:s, s:s?}", "namespace", name, "store_id", id));
                        if (first)
                                log_struct(LOG_WARNING,
                                           LOG_FIELDS("MESSAGE_ID", SA_MESSAGE_ORPHAN_NAMESPACE, "NAMESPACE", name,
                                                      "STORE_ID", id),
                                           "Namespace %s is labelled as storeagent's but no store owns it; leaving it alone.",
                                           name);
                        continue;
                }
                bool busy;
                if (first && store_has_active_task(db, s->id, &busy) >= 0 && !busy)
                        repair_idle_release(p, db, &set, s);
        }
        pthread_mutex_lock(&p->status_lock);
        json_decref(p->orphans);
        p->orphans = TAKE_PTR(orphans);
        pthread_mutex_unlock(&p->status_lock);
out:
        settings_done(&set);
}

static void *reconciler_main(void *arg)
{
        Provisioner *p = arg;
        _cleanup_(db_closep) Db *db = NULL;
        bool first = true;

        if (db_open(p->db_path, &db) < 0)
                return NULL;
        while (!atomic_load(&p->stopping)) {
                json_t *st = NULL;
                bool reachable = provisioner_cluster_status(p, &st) >= 0 && json_is_true(json_object_get(st, "reachable"));
                json_decref(st);
                if (reachable) {
                        reconcile_once(p, db, first);
                        first = false;
                }
                if (!reconciler_sleep(p, first ? 5 : 60))
                        break;
        }
        return NULL;
}

int provisioner_start(Provisioner *p, const char *db_path)
{
        p->db_path = strdup(db_path);
        if (!p->db_path)
                return -ENOMEM;
        int r = pthread_create(&p->reconciler, NULL, reconciler_main, p);
        if (r != 0)
                return -r;
        p->reconciler_started = true;
        return 0;
}
