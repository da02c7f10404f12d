/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Capacity admission of new stores: the question the daemon lets the store service ask (whether the
 * cluster has room for one more), and the lock that makes the question and the insert of the store one
 * step for concurrent creates.
 */

#include <pthread.h>

#include "core/error.h"
#include "core/store-internal.h"
#include "core/store.h"

static StoreAdmitFn admit_fn;
static void *admit_userdata;
static StoreUpgradeAdmitFn upgrade_fn;
static void *upgrade_userdata;
static pthread_mutex_t admit_lock = PTHREAD_MUTEX_INITIALIZER;

void store_set_admission(StoreAdmitFn fn, void *userdata)
{
        admit_fn = fn;
        admit_userdata = userdata;
}

void store_set_upgrade_admission(StoreUpgradeAdmitFn fn, void *userdata)
{
        upgrade_fn = fn;
        upgrade_userdata = userdata;
}

int store_upgrade_admission_ask(Db *db, const Store *s, const char *chart_version, char *reason,
                                size_t reason_len)
{
        char why[512] = "";
        int r;

        if (!upgrade_fn)
                return 0;
        r = upgrade_fn(upgrade_userdata, db, s, chart_version, why, sizeof why);
        if (r == ERROR_NO_CAPACITY && reason && reason_len > 0)
                snprintf(reason, reason_len, "%s", why[0] ? why : error_info(r)->message);
        return r;
}

void store_admission_lock(void)
{
        pthread_mutex_lock(&admit_lock);
}

void store_admission_unlock(void)
{
        pthread_mutex_unlock(&admit_lock);
}

int store_admission_ask(Db *db, const char *idempotency_key, const char *actor, const char *chart_version,
                        char *reason, size_t reason_len)
{
        char why[512] = "";
        uint64_t used = 0;
        int r;

        if (!admit_fn)
                return 0;
        if (idempotency_key) {
                _cleanup_stmt_ sqlite3_stmt *q = NULL;
                r = db_prepare(db, "SELECT count(*) FROM idempotency_keys WHERE key = ? AND actor = ?", &q);
                if (r < 0)
                        return r;
                sqlite3_bind_text(q, 1, idempotency_key, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(q, 2, actor, -1, SQLITE_TRANSIENT);
                if (sqlite3_step(q) == SQLITE_ROW)
                        used = (uint64_t) sqlite3_column_int64(q, 0);
                if (used > 0)
                        return 0;
        }
        r = admit_fn(admit_userdata, db, chart_version, why, sizeof why);
        if (r == ERROR_NO_CAPACITY && reason && reason_len > 0)
                snprintf(reason, reason_len, "%s", why[0] ? why : error_info(r)->message);
        return r;
}
