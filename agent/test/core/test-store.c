/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/account.h"
#include "core/queue.h"
#include "core/store.h"
#include "tests.h"


/* The admin account NAME as a caller (made on first use), as the REST and D-Bus front ends make them. */
static const Caller *as(Db *db, const char *name)
{
        static Caller callers[8];
        static unsigned n;
        _cleanup_(account_freep) Account *a = NULL;

        ASSERT_EQ(account_ensure_admin(db, name, &a), 0);
        for (unsigned i = 0; i < n; i++)
                if (callers[i].account_id == a->id)
                        return &callers[i];
        ASSERT_TRUE(n < ELEMENTSOF(callers));
        caller_from_account(a, &callers[n]);
        return &callers[n++];
}

static const StoreLimits limits = {
        .max_stores = 3, .creates_per_hour = 100, .max_pending_tasks = 100, .tenant_max_stores = 3
};

static Db *open_db(char **ret_dir)
{
        char *dir = test_tmpdir();
        _cleanup_free_ char *path = strjoin_path(dir, "state.db");
        Db *db = NULL;

        ASSERT_EQ(db_open(path, &db), 0);
        *ret_dir = dir;
        return db;
}

TEST(test_transitions)
{
        /* The paths a store takes. */
        ASSERT_TRUE(store_status_transition_allowed(STORE_PROVISIONING, STORE_READY));
        ASSERT_TRUE(store_status_transition_allowed(STORE_PROVISIONING, STORE_FAILED));
        ASSERT_TRUE(store_status_transition_allowed(STORE_PROVISIONING, STORE_DELETING));
        ASSERT_TRUE(store_status_transition_allowed(STORE_READY, STORE_UPGRADING));
        ASSERT_TRUE(store_status_transition_allowed(STORE_UPGRADING, STORE_READY));
        ASSERT_TRUE(store_status_transition_allowed(STORE_FAILED, STORE_PROVISIONING));
        ASSERT_TRUE(store_status_transition_allowed(STORE_DELETING, STORE_DELETED));
        ASSERT_TRUE(store_status_transition_allowed(STORE_DELETING, STORE_FAILED));
        /* And the ones it never takes. */
        ASSERT_TRUE(!store_status_transition_allowed(STORE_PROVISIONING, STORE_DELETED));
        ASSERT_TRUE(!store_status_transition_allowed(STORE_READY, STORE_PROVISIONING));
        ASSERT_TRUE(!store_status_transition_allowed(STORE_DELETED, STORE_PROVISIONING));
        ASSERT_TRUE(!store_status_transition_allowed(STORE_DELETED, STORE_READY));
        ASSERT_TRUE(!store_status_transition_allowed(STORE_DELETING, STORE_READY));
        ASSERT_TRUE(!store_status_transition_allowed(STORE_FAILED, STORE_READY));
        ASSERT_TRUE(!store_status_transition_allowed(STORE_READY, STORE_DELETED));
        for (int s = 0; s < _STORE_STATUS_MAX; s++) {
                ASSERT_EQ(store_status_from_string(store_status_to_string((StoreStatus) s)), s);
                ASSERT_TRUE(!store_status_transition_allowed(STORE_DELETED, (StoreStatus) s));
        }
        ASSERT_EQ(store_status_from_string("ready"), _STORE_STATUS_INVALID);
}

TEST(test_create_and_conflicts)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(db_closep) Db *db = open_db(&dir);
        _cleanup_(store_freep) Store *a = NULL, *b = NULL, *again = NULL, *dup = NULL;
        StoreError err = {};
        bool replayed = true;
        json_t *events = NULL;

        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "shop1", "woocommerce", NULL, "key-1", &a, &replayed, &err), 0);
        ASSERT_TRUE(!replayed);
        ASSERT_EQ(a->status, STORE_PROVISIONING);
        ASSERT_STREQ(a->owner, "alice");
        ASSERT_EQ(strlen(a->id), 16);

        /* Same Idempotency-Key, same request: the same store comes back. */
        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "shop1", "woocommerce", NULL, "key-1", &again, &replayed, &err), 0);
        ASSERT_TRUE(replayed);
        ASSERT_STREQ(again->id, a->id);
        /* Same key, different request: refused. */
        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "shop2", "woocommerce", NULL, "key-1", &b, NULL, &err),
                  ERROR_KEY_REUSED);
        /* Same name without a key: taken. */
        memset(&err, 0, sizeof err);
        ASSERT_EQ(store_create(db, &limits, as(db, "bob"), "shop1", "woocommerce", NULL, NULL, &dup, NULL, &err), ERROR_NAME_TAKEN);
        ASSERT_CONTAINS(err.message, "already exists");
        ASSERT_EQ(store_create(db, &limits, as(db, "bob"), "Bad", "woocommerce", NULL, NULL, &dup, NULL, &err), ERROR_INVALID_NAME);
        ASSERT_EQ(store_create(db, &limits, as(db, "bob"), "good", "magento", NULL, NULL, &dup, NULL, &err), ERROR_INVALID_ENGINE);
        ASSERT_CONTAINS(err.message, "Unsupported engine");

        ASSERT_EQ(store_events(db, a->id, 100, 0, &events), 0);
        ASSERT_EQ(json_array_size(events), 1);
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(events, 0), "action")), "store.create");
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(events, 0), "actor")), "alice");
        json_decref(events);
}

/* An admission hook that has room for `room` more stores, as the cluster side would say. */
static int room;
static unsigned asked;
static int admit_room(void *userdata, Db *db, const char *chart_version, char *reason, size_t n)
{
        uint64_t active = 0;

        asked++;
        ASSERT_EQ(store_count_active(db, 0, &active), 0);
        if ((int) active < room)
                return 0;
        snprintf(reason, n, "no room: a store needs 768Mi memory, 0 is free");
        return ERROR_NO_CAPACITY;
}

static int admit_unknown(void *userdata, Db *db, const char *chart_version, char *reason, size_t n)
{
        return -EHOSTUNREACH;
}

TEST(test_admission)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(db_closep) Db *db = open_db(&dir);
        _cleanup_(store_freep) Store *a = NULL, *b = NULL, *again = NULL;
        StoreError err = {};
        uint64_t active = 0;

        room = 1;
        store_set_admission(admit_room, NULL);
        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "fits", "woocommerce", NULL, "k1", &a, NULL, &err), 0);
        /* Refused with the hook's words, and nothing written. */
        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "full", "woocommerce", NULL, NULL, &b, NULL, &err),
                  ERROR_NO_CAPACITY);
        ASSERT_STREQ(err.message, "no room: a store needs 768Mi memory, 0 is free");
        ASSERT_EQ(error_info(ERROR_NO_CAPACITY)->http_status, 507);
        ASSERT_EQ(store_count_active(db, 0, &active), 0);
        ASSERT_EQ(active, 1);
        /* A taken name is refused as taken, not for want of room, and the cluster is not asked. */
        asked = 0;
        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "fits", "woocommerce", NULL, NULL, &b, NULL, &err),
                  ERROR_NAME_TAKEN);
        ASSERT_EQ(asked, 0);
        /* A replay of an Idempotency-Key is answered, not asked. */
        asked = 0;
        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "fits", "woocommerce", NULL, "k1", &again, NULL, &err), 0);
        ASSERT_STREQ(again->id, a->id);
        ASSERT_EQ(asked, 0);
        /* A hook that cannot tell (the cluster away) admits: the scheduler keeps the last word. */
        store_set_admission(admit_unknown, NULL);
        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "unknown", "woocommerce", NULL, NULL, &b, NULL, &err), 0);
        store_set_admission(NULL, NULL);
}

/* A create that names a chart version is asked about that version's room, not the configured chart's. */
static char *asked_version;
static int admit_version(void *userdata, Db *db, const char *chart_version, char *reason, size_t n)
{
        free(asked_version);
        asked_version = chart_version ? strdup(chart_version) : NULL;
        return 0;
}

TEST(test_admission_asks_for_the_named_version)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(db_closep) Db *db = open_db(&dir);
        _cleanup_(store_freep) Store *a = NULL, *b = NULL;
        StoreError err = {};

        store_set_admission(admit_version, NULL);
        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "named", "woocommerce", "0.3.0", NULL, &a, NULL, &err),
                  0);
        ASSERT_STREQ(asked_version, "0.3.0");
        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "plain", "woocommerce", NULL, NULL, &b, NULL, &err), 0);
        ASSERT_TRUE(!asked_version);
        store_set_admission(NULL, NULL);
}

/* An upgrade hook that has room for versions up to 0.2.x: 0.3.0 needs more than is free. */
static unsigned upgrade_asked;
static int admit_upgrade(void *userdata, Db *db, const Store *s, const char *chart_version, char *reason,
                         size_t n)
{
        upgrade_asked++;
        if (!streq(chart_version, "0.3.0"))
                return 0;
        snprintf(reason, n, "chart 0.3.0 needs 1Gi more memory than store %s holds now, 384Mi is free",
                 s->name);
        return ERROR_NO_CAPACITY;
}

static void settle(Db *db, const char *id)
{
        Task *task = NULL;

        ASSERT_EQ(queue_lease(db, "w/0", 60 * USEC_PER_SEC, &task), 0);
        ASSERT_EQ(store_set_status(db, id, STORE_READY, NULL), 0);
        ASSERT_EQ(queue_complete(db, task, "w/0"), 0);
        task_free(task);
}

static const char *reserved_upgrade_to(json_t *list, const char *name)
{
        json_t *e;
        size_t i;

        json_array_foreach(list, i, e)
                if (streq_ptr(json_string_value(json_object_get(e, "name")), name))
                        return json_string_value(json_object_get(e, "upgrade_to")) ?: "-";
        return NULL;
}

TEST(test_upgrade_admission)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(db_closep) Db *db = open_db(&dir);
        _cleanup_(store_freep) Store *s = NULL, *t = NULL;
        _cleanup_(json_decrefp) json_t *held = NULL, *held2 = NULL;
        StoreLimits waiting = limits;
        StoreError err = {};

        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "grows", "woocommerce", NULL, NULL, &s, NULL,
                               &err),
                  0);
        settle(db, s->id);
        store_set_upgrade_admission(admit_upgrade, NULL);

        /* More than is free: refused at once with the hook's words, the store as it was. */
        ASSERT_EQ(store_upgrade(db, &limits, as(db, "alice"), s->id, "0.3.0", &t, &err), ERROR_NO_CAPACITY);
        ASSERT_STREQ(err.message,
                     "chart 0.3.0 needs 1Gi more memory than store grows holds now, 384Mi is free");
        ASSERT_EQ(store_get(db, s->id, &t), 0);
        ASSERT_EQ(t->status, STORE_READY);
        t = store_free(t);

        /* With the wait policy: UPGRADING at the waiting step, the reason saying why; it holds only what it
         * runs. */
        waiting.wait_for_capacity = true;
        ASSERT_EQ(store_upgrade(db, &waiting, as(db, "alice"), s->id, "0.3.0", &t, &err), 0);
        ASSERT_EQ(t->status, STORE_UPGRADING);
        ASSERT_STREQ(t->step, STORE_STEP_WAITING_FOR_CAPACITY);
        ASSERT_TRUE(strstr(t->status_reason, "needs 1Gi more memory") != NULL);
        t = store_free(t);
        ASSERT_EQ(store_active_reservations(db, &held), 0);
        ASSERT_STREQ(reserved_upgrade_to(held, "grows"), "-");
        settle(db, s->id);

        /* An upgrade that fits is admitted, and holds its target's room until it ends. */
        upgrade_asked = 0;
        ASSERT_EQ(store_upgrade(db, &limits, as(db, "alice"), s->id, "0.2.0", &t, &err), 0);
        ASSERT_EQ(upgrade_asked, 1u);
        ASSERT_STREQ(t->step, "queued");
        t = store_free(t);
        ASSERT_EQ(store_active_reservations(db, &held2), 0);
        ASSERT_STREQ(reserved_upgrade_to(held2, "grows"), "0.2.0");

        /* A store that may not upgrade now is refused as such, without asking for room. */
        upgrade_asked = 0;
        ASSERT_EQ(store_upgrade(db, &limits, as(db, "alice"), s->id, "0.3.0", &t, &err), ERROR_BUSY);
        ASSERT_EQ(upgrade_asked, 0u);
        store_set_upgrade_admission(NULL, NULL);
}

TEST(test_caps)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(db_closep) Db *db = open_db(&dir);
        StoreLimits l = { .max_stores = 2, .creates_per_hour = 3, .max_pending_tasks = 100 };
        StoreError err = {};
        char name[16];

        for (int i = 0; i < 2; i++) {
                _cleanup_(store_freep) Store *s = NULL;
                snprintf(name, sizeof name, "s%d", i);
                ASSERT_EQ(store_create(db, &l, as(db, "alice"), name, "woocommerce", NULL, NULL, &s, NULL, &err), 0);
        }
        Store *s = NULL;
        ASSERT_EQ(store_create(db, &l, as(db, "alice"), "s9", "woocommerce", NULL, NULL, &s, NULL, &err), ERROR_STORE_CAP);
        ASSERT_CONTAINS(err.message, "at most 2");

        l.max_stores = 100;
        ASSERT_EQ(store_create(db, &l, as(db, "alice"), "s2", "woocommerce", NULL, NULL, &s, NULL, &err), 0);
        s = store_free(s);
        memset(&err, 0, sizeof err);
        ASSERT_EQ(store_create(db, &l, as(db, "alice"), "s3", "woocommerce", NULL, NULL, &s, NULL, &err), ERROR_CREATION_LIMITED);
        ASSERT_TRUE(err.retry_after_sec > 3500 && err.retry_after_sec <= 3600);
        ASSERT_CONTAINS(err.message, "3 stores per hour");
        /* The limit is per actor. */
        ASSERT_EQ(store_create(db, &l, as(db, "bob"), "s3", "woocommerce", NULL, NULL, &s, NULL, &err), 0);
        s = store_free(s);

        l.max_pending_tasks = 4;
        ASSERT_EQ(store_create(db, &l, as(db, "carol"), "s4", "woocommerce", NULL, NULL, &s, NULL, &err), ERROR_TASK_CAP);
}

TEST(test_operations)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(db_closep) Db *db = open_db(&dir);
        _cleanup_(store_freep) Store *s = NULL;
        Store *t = NULL;
        Task *task = NULL;
        StoreError err = {};

        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "shop", "woocommerce", NULL, NULL, &s, NULL, &err), 0);

        /* While the create is queued, upgrade and retry are refused. */
        ASSERT_EQ(store_upgrade(db, &limits, as(db, "alice"), s->id, "0.2.0", &t, &err), ERROR_BUSY);
        ASSERT_EQ(store_retry(db, &limits, as(db, "alice"), s->id, &t, &err), ERROR_INVALID_STATE);
        ASSERT_EQ(store_upgrade(db, &limits, as(db, "alice"), s->id, "bad", &t, &err), ERROR_INVALID_REQUEST);
        ASSERT_EQ(store_rollback(db, &limits, as(db, "alice"), s->id, 0, &t, &err), ERROR_INVALID_REQUEST);
        ASSERT_EQ(store_get(db, "0000000000000000", &t), -ENOENT);

        /* The worker finishes the create and the store is READY. */
        ASSERT_EQ(queue_lease(db, "w/0", 60 * USEC_PER_SEC, &task), 0);
        ASSERT_EQ(task->kind, TASK_CREATE);
        ASSERT_EQ(store_set_progress(db, s->id, "helm install", 6, 7), 0);
        ASSERT_EQ(store_get(db, s->id, &t), 0);
        ASSERT_STREQ(t->step, "helm install");
        ASSERT_EQ(t->progress_current, 6);
        t = store_free(t);
        ASSERT_EQ(store_set_status(db, s->id, STORE_READY, NULL), 0);
        ASSERT_EQ(queue_complete(db, task, "w/0"), 0);
        task = task_free(task);
        ASSERT_EQ(store_get(db, s->id, &t), 0);
        ASSERT_TRUE(t->step == NULL); /* progress clears when the store settles */
        t = store_free(t);
        /* A READY store can not jump back to PROVISIONING. */
        ASSERT_EQ(store_set_status(db, s->id, STORE_PROVISIONING, NULL), -EPERM);

        ASSERT_EQ(store_upgrade(db, &limits, as(db, "alice"), s->id, "0.2.0", &t, &err), 0);
        ASSERT_EQ(t->status, STORE_UPGRADING);
        t = store_free(t);
        ASSERT_EQ(queue_lease(db, "w/0", 60 * USEC_PER_SEC, &task), 0);
        ASSERT_EQ(task->kind, TASK_UPGRADE);
        ASSERT_STREQ(json_string_value(json_object_get(task->payload, "chart_version")), "0.2.0");

        /* Delete while the upgrade runs: DELETING at once; the delete task waits for the running one. */
        ASSERT_EQ(store_delete(db, as(db, "bob"), s->id, &t, &err), 0);
        ASSERT_EQ(t->status, STORE_DELETING);
        t = store_free(t);
        Task *other = NULL;
        ASSERT_EQ(queue_lease(db, "w/1", 60 * USEC_PER_SEC, &other), -EAGAIN);
        ASSERT_EQ(queue_complete(db, task, "w/0"), 0);
        task = task_free(task);
        ASSERT_EQ(queue_lease(db, "w/1", 60 * USEC_PER_SEC, &other), 0);
        ASSERT_EQ(other->kind, TASK_DELETE);
        /* Deleting twice is fine and changes nothing. */
        ASSERT_EQ(store_delete(db, as(db, "bob"), s->id, &t, &err), 0);
        t = store_free(t);
        ASSERT_EQ(store_set_status(db, s->id, STORE_DELETED, NULL), 0);
        ASSERT_EQ(queue_complete(db, other, "w/1"), 0);
        other = task_free(other);

        /* The row stays for the audit trail, out of the default listing; the name is free again. */
        json_t *items = NULL;
        uint64_t total = 0;
        ASSERT_EQ(store_list(db, &caller_system, &(StoreListQuery) { .status = -1, .limit = 50 }, &items, &total,
                             NULL, NULL),
                  0);
        ASSERT_EQ(total, 0);
        json_decref(items);
        ASSERT_EQ(store_list(db, &caller_system, &(StoreListQuery) { .status = STORE_DELETED, .limit = 50 }, &items,
                             &total, NULL, NULL),
                  0);
        ASSERT_EQ(total, 1);
        json_decref(items);
        ASSERT_EQ(store_get(db, s->id, &t), 0);
        ASSERT_TRUE(t->deleted_at > 0);
        t = store_free(t);
        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "shop", "woocommerce", NULL, NULL, &t, NULL, &err), 0);
        t = store_free(t);
}

TEST(test_retry_after_failed_delete)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(db_closep) Db *db = open_db(&dir);
        _cleanup_(store_freep) Store *s = NULL;
        Store *t = NULL;
        Task *task = NULL;
        StoreError err = {};

        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "shop", "woocommerce", NULL, NULL, &s, NULL, &err), 0);
        ASSERT_EQ(queue_lease(db, "w", 60 * USEC_PER_SEC, &task), 0);
        ASSERT_EQ(store_set_status(db, s->id, STORE_FAILED, "boom"), 0);
        ASSERT_EQ(queue_fail(db, task, "w", "boom"), 0);
        task = task_free(task);
        ASSERT_EQ(store_retry(db, &limits, as(db, "alice"), s->id, &t, &err), 0);
        ASSERT_EQ(t->status, STORE_PROVISIONING);
        ASSERT_TRUE(t->status_reason == NULL);
        t = store_free(t);
        ASSERT_EQ(queue_lease(db, "w", 60 * USEC_PER_SEC, &task), 0);
        ASSERT_EQ(task->kind, TASK_CREATE);
        ASSERT_EQ(queue_complete(db, task, "w"), 0);
        task = task_free(task);
        ASSERT_EQ(store_set_status(db, s->id, STORE_READY, NULL), 0);

        ASSERT_EQ(store_delete(db, as(db, "alice"), s->id, &t, &err), 0);
        t = store_free(t);
        ASSERT_EQ(queue_lease(db, "w", 60 * USEC_PER_SEC, &task), 0);
        ASSERT_EQ(store_set_status(db, s->id, STORE_FAILED, "namespace stuck"), 0);
        ASSERT_EQ(queue_fail(db, task, "w", "stuck"), 0);
        task = task_free(task);
        /* A failed delete is retried as a delete. */
        ASSERT_EQ(store_retry(db, &limits, as(db, "alice"), s->id, &t, &err), 0);
        ASSERT_EQ(t->status, STORE_DELETING);
        t = store_free(t);
        ASSERT_EQ(queue_lease(db, "w", 60 * USEC_PER_SEC, &task), 0);
        ASSERT_EQ(task->kind, TASK_DELETE);
        task = task_free(task);
}

/* A task that read PROVISIONING and then fails must not overwrite a delete committed in between:
 * the runner writes FAILED with store_set_status_if() against the status it works under. */
TEST(test_status_compare_and_set)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(db_closep) Db *db = open_db(&dir);
        _cleanup_(store_freep) Store *s = NULL;
        Store *t = NULL;
        StoreError err = {};

        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "shop", "woocommerce", NULL, NULL, &s, NULL, &err), 0);
        ASSERT_EQ(s->status, STORE_PROVISIONING);
        ASSERT_EQ(store_delete(db, as(db, "bob"), s->id, &t, &err), 0);
        ASSERT_EQ(t->status, STORE_DELETING);
        t = store_free(t);

        /* The create task's failure arrives late: refused, nothing written. */
        ASSERT_EQ(store_set_status_if(db, s->id, STORE_PROVISIONING, STORE_FAILED, "helm install failed"), -ESTALE);
        ASSERT_EQ(store_get(db, s->id, &t), 0);
        ASSERT_EQ(t->status, STORE_DELETING);
        ASSERT_TRUE(t->status_reason == NULL);
        t = store_free(t);

        /* The delete task's own failure is written. */
        ASSERT_EQ(store_set_status_if(db, s->id, STORE_DELETING, STORE_FAILED, "namespace stuck"), 0);
        ASSERT_EQ(store_get(db, s->id, &t), 0);
        ASSERT_EQ(t->status, STORE_FAILED);
        ASSERT_STREQ(t->status_reason, "namespace stuck");
        t = store_free(t);

        /* A transition the machine does not have is refused even when the status matches. */
        ASSERT_EQ(store_set_status_if(db, s->id, STORE_FAILED, STORE_DELETED, NULL), -EPERM);
        ASSERT_EQ(store_get(db, s->id, &t), 0);
        ASSERT_EQ(t->status, STORE_FAILED);
        t = store_free(t);
}

/* Text from helm and the cluster: kept on a character boundary, invalid bytes as U+FFFD, and every
 * row, however it was written, still becomes JSON (a row jansson refused failed the whole list). */
TEST(test_text_is_kept_valid)
{
        _cleanup_free_ char *dir = NULL, *reason = NULL, *dumped = NULL;
        _cleanup_(db_closep) Db *db = open_db(&dir);
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(json_decrefp) json_t *items = NULL, *events = NULL;
        Store *t = NULL;
        StoreError err = {};
        uint64_t total;
        size_t n = 0;

        ASSERT_EQ(store_create(db, &limits, as(db, "alice"), "shop", "woocommerce", NULL, NULL, &s, NULL, &err), 0);

        /* "x" and 700 two-byte characters: the limit falls inside one. */
        reason = malloc(1 + 1400 + 1);
        ASSERT_TRUE(reason);
        reason[n++] = 'x';
        for (int i = 0; i < 700; i++) {
                reason[n++] = '\xc3';
                reason[n++] = '\xa9';
        }
        reason[n] = '\0';
        ASSERT_EQ(store_set_reason(db, s->id, reason), 0);
        ASSERT_EQ(store_get(db, s->id, &t), 0);
        ASSERT_EQ(strlen(t->status_reason), STORE_REASON_MAX - 1);
        ASSERT_TRUE(utf8_is_valid(t->status_reason));
        t = store_free(t);

        ASSERT_EQ(store_set_status_if(db, s->id, STORE_PROVISIONING, STORE_FAILED, "helm: caf\xe9 \xff"), 0);
        ASSERT_EQ(store_add_event(db, s->id, "helm", "helm", "\xa9tail of output"), 0);
        ASSERT_EQ(store_get(db, s->id, &t), 0);
        ASSERT_STREQ(t->status_reason, "helm: caf" UTF8_REPLACEMENT " " UTF8_REPLACEMENT);
        t = store_free(t);

        /* A row an older agent wrote with bytes that are not UTF-8 is repaired as it is read. */
        _cleanup_free_ char *sql = NULL;
        ASSERT_TRUE(asprintf(&sql, "UPDATE stores SET step = 'half \xc3' WHERE id = '%s'", s->id) > 0);
        ASSERT_EQ(db_exec(db, sql), 0);
        ASSERT_EQ(store_list(db, as(db, "alice"), &(StoreListQuery) { .status = -1, .limit = 50 }, &items, &total, NULL,
                             NULL),
                  0);
        ASSERT_EQ(json_array_size(items), 1);
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(items, 0), "step")), "half " UTF8_REPLACEMENT);
        ASSERT_EQ(store_events(db, s->id, 50, 0, &events), 0);
        dumped = json_dumps(events, JSON_COMPACT);
        ASSERT_CONTAINS(dumped, UTF8_REPLACEMENT "tail of output");
}

TEST(test_changes)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(db_closep) Db *db = open_db(&dir);
        _cleanup_(store_freep) Store *a = NULL, *b = NULL;
        StoreError err = {};
        json_t *items = NULL;
        int64_t seq = 0, max = 0;
        uint64_t seen = store_changed_counter();

        ASSERT_EQ(store_create(db, &limits, as(db, "x"), "one", "woocommerce", NULL, NULL, &a, NULL, &err), 0);
        ASSERT_TRUE(store_changed_wait(&seen, 1000));
        ASSERT_EQ(store_max_seq(db, &seq), 0);
        ASSERT_EQ(store_create(db, &limits, as(db, "x"), "two", "woocommerce", NULL, NULL, &b, NULL, &err), 0);
        ASSERT_EQ(store_set_progress(db, a->id, "step", 1, 2), 0);
        ASSERT_EQ(store_changes_since(db, &caller_system, seq, &items, &max), 0);
        ASSERT_EQ(json_array_size(items), 2);
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(items, 0), "name")), "two");
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(items, 1), "name")), "one");
        ASSERT_TRUE(max > seq);
        json_decref(items);
        /* Nothing new: the wait times out. */
        seen = store_changed_counter();
        ASSERT_TRUE(!store_changed_wait(&seen, 10 * USEC_PER_MSEC));
}

/* The writer's side of test_changes_race: one write from a second connection as the reader's nth statement starts. */
typedef struct RaceWriter {
        Db *db;
        const char *store_id;
        unsigned fire_at, started;
} RaceWriter;

static int race_write(unsigned type, void *userdata, void *p, void *x)
{
        RaceWriter *w = userdata;

        if (type == SQLITE_TRACE_STMT && ++w->started == w->fire_at)
                ASSERT_EQ(store_set_status_if(w->db, w->store_id, STORE_PROVISIONING, STORE_READY, NULL), 0);
        return 0;
}

static bool saw_status(json_t *items, const char *status)
{
        json_t *item;
        size_t i;

        json_array_foreach(items, i, item)
                if (streq(json_string_value(json_object_get(item, "status")), status))
                        return true;
        return false;
}

/*
 * A tenant's live stream must not step past a change of its own written while it reads. The window's end
 * was once read by a second statement, and a store that became READY between the two reads was never
 * streamed (the dashboard then waited for it forever). Here the write lands as the reader's first, then
 * second statement starts (or after the read, when it takes fewer statements); the next read must carry it.
 */
TEST(test_changes_race)
{
        for (unsigned fire_at = 1; fire_at <= 2; fire_at++) {
                _cleanup_free_ char *dir = NULL;
                _cleanup_(db_closep) Db *db = open_db(&dir);
                _cleanup_(db_closep) Db *writer = NULL;
                _cleanup_free_ char *path = strjoin_path(dir, "state.db");
                _cleanup_(account_freep) Account *t = NULL;
                _cleanup_(store_freep) Store *mine = NULL, *other = NULL;
                StoreError err = {};
                Caller tenant;
                RaceWriter w;
                json_t *items = NULL;
                int64_t seq = 0;
                bool ready = false;

                ASSERT_EQ(db_open(path, &writer), 0);
                ASSERT_EQ(account_create(db, "tenant-r", ACCOUNT_TENANT, &t), 0);
                caller_from_account(t, &tenant);
                ASSERT_EQ(store_create(db, &limits, &tenant, "mine", "woocommerce", NULL, NULL, &mine, NULL, &err), 0);
                ASSERT_EQ(store_create(db, &limits, as(db, "admin-r"), "other", "woocommerce", NULL, NULL, &other, NULL,
                                       &err),
                          0);
                w = (RaceWriter) { .db = writer, .store_id = mine->id, .fire_at = fire_at };

                sqlite3_trace_v2(db_handle(db), SQLITE_TRACE_STMT, race_write, &w);
                ASSERT_EQ(store_changes_since(db, &tenant, seq, &items, &seq), 0);
                sqlite3_trace_v2(db_handle(db), 0, NULL, NULL);
                ready = saw_status(items, "READY");
                json_decref(items);
                if (w.started < fire_at)
                        ASSERT_EQ(store_set_status_if(writer, mine->id, STORE_PROVISIONING, STORE_READY, NULL), 0);

                ASSERT_EQ(store_changes_since(db, &tenant, seq, &items, &seq), 0);
                ready = ready || saw_status(items, "READY");
                json_decref(items);
                if (!ready)
                        log_error("fire_at %u: the READY of the tenant's store was never returned", fire_at);
                ASSERT_TRUE(ready);
        }
}

/*
 * A database that cannot grow (SQLITE_FULL; here by capping its page count, as a full disk would)
 * refuses a create with ERROR_STORAGE_FULL, not a queue cap, and leaves nothing of it behind.
 */
TEST(test_storage_full)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(db_closep) Db *db = open_db(&dir);
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_free_ char *sql = NULL;
        StoreLimits l = { .max_stores = 10000, .creates_per_hour = 10000, .max_pending_tasks = 10000 };
        uint64_t total_before = 0;
        char name[32];
        int r = 0;

        ASSERT_EQ(db_prepare(db, "PRAGMA page_count", &q), 0);
        ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
        ASSERT_TRUE(asprintf(&sql, "PRAGMA max_page_count = %lld", (long long) sqlite3_column_int64(q, 0)) >= 0);
        ASSERT_EQ(db_exec(db, sql), 0);

        for (int i = 0; i < 1000 && r == 0; i++) {
                _cleanup_(store_freep) Store *s = NULL;
                json_t *items = NULL;
                StoreError err = {};

                ASSERT_EQ(store_list(db, &caller_system, &(StoreListQuery) { .status = _STORE_STATUS_INVALID, .limit = 1 },
                                     &items, &total_before, NULL, NULL),
                          0);
                json_decref(items);
                snprintf(name, sizeof name, "full%d", i);
                r = store_create(db, &l, as(db, "alice"), name, "woocommerce", NULL, NULL, &s, NULL, &err);
        }
        ASSERT_EQ(r, ERROR_STORAGE_FULL);

        /* The refused create left no store, task or event. */
        Store *t = NULL;
        json_t *items = NULL;
        uint64_t total = 0, pending = 0;
        ASSERT_EQ(store_get_by_name(db, name, &t), -ENOENT);
        ASSERT_EQ(store_list(db, &caller_system, &(StoreListQuery) { .status = _STORE_STATUS_INVALID, .limit = 1 },
                             &items, &total, NULL, NULL),
                  0);
        json_decref(items);
        ASSERT_EQ(total, total_before);
        ASSERT_EQ(queue_count_active(db, &pending), 0);
        ASSERT_EQ(pending, total_before);
}

DEFINE_TEST_MAIN(LOG_ERR)
