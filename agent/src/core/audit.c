/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>

#include "basic/log.h"
#include "basic/util.h"
#include "core/audit.h"

/* Targets and errors may quote a request (a name that was refused): kept short and valid UTF-8. */
#define AUDIT_TEXT_MAX 256

static const char *const audit_result_table[_AUDIT_RESULT_MAX] = {
        [AUDIT_OK] = "ok",
        [AUDIT_DENIED] = "denied",
        [AUDIT_FAILED] = "failed",
};

const char *audit_result_to_string(AuditResult r)
{
        return r >= 0 && r < _AUDIT_RESULT_MAX ? audit_result_table[r] : NULL;
}

AuditResult audit_result_from_string(const char *s)
{
        for (size_t i = 0; i < _AUDIT_RESULT_MAX; i++)
                if (streq_ptr(audit_result_table[i], s))
                        return (AuditResult) i;
        return _AUDIT_RESULT_INVALID;
}

static const char *entry_actor(const AuditEntry *e)
{
        if (e->actor)
                return e->actor;
        return e->caller ? e->caller->account : "anonymous";
}

int audit_record(Db *db, const AuditEntry *e)
{
        assert(db);
        assert(e);
        assert(e->action);

        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        const char *actor = entry_actor(e), *result = audit_result_to_string(e->result);
        const char *token = e->caller && e->caller->token[0] ? e->caller->token : NULL;
        int r, rc;

        assert(result);
        log_struct(e->result == AUDIT_OK ? LOG_INFO : LOG_NOTICE,
                   LOG_FIELDS("ACTOR", actor, "ACTION", e->action, "RESULT", result, "TOKEN_NAME", strempty(token),
                              "TARGET", strempty(e->target), "STORE_ID", strempty(e->store_id), "ERROR_CODE",
                              strempty(e->error), "SOURCE", strempty(e->source), "REQUEST_ID", strempty(e->request_id)),
                   "Audit: %s %s %s%s%s: %s%s%s.", actor, e->action, strempty(e->target_kind),
                   e->target_kind ? " " : "", strempty(e->target), result, e->error ? " " : "", strempty(e->error));

        r = db_prepare(db,
                       "INSERT INTO audit (time, actor, account_id, token_name, action, target_kind, target, store_id, "
                       "result, error, source, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, (sqlite3_int64) now_usec());
        sqlite3_bind_text(q, 2, actor, -1, SQLITE_TRANSIENT);
        if (e->caller && e->caller->account_id > 0)
                sqlite3_bind_int64(q, 3, e->caller->account_id);
        sqlite3_bind_text(q, 4, token, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 5, e->action, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 6, e->target_kind, -1, SQLITE_TRANSIENT);
        r = db_bind_text_utf8(q, 7, e->target, AUDIT_TEXT_MAX);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 8, e->store_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 9, result, -1, SQLITE_STATIC);
        r = db_bind_text_utf8(q, 10, e->error, AUDIT_TEXT_MAX);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 11, e->source, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 12, e->request_id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        return 0;
}

static json_t *text_or_null(sqlite3_stmt *q, int col)
{
        return db_column_json_string(q, col);
}

int audit_query(Db *db, const AuditFilter *f, json_t **ret_items, int64_t *ret_next)
{
        assert(db);
        assert(f);
        assert(ret_items);
        assert(ret_next);

        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *items = json_array();
        _cleanup_free_ char *action_like = NULL;
        uint64_t limit = f->limit > 0 ? MIN(f->limit, (uint64_t) 1000) : 100;
        int64_t last = 0;
        uint64_t n = 0;
        int r, rc;

        if (!items)
                return -ENOMEM;
        if (f->action) {
                /* "store." matches every store action; anything else matches itself. */
                size_t len = strlen(f->action);
                if (len > 0 && f->action[len - 1] == '.') {
                        if (asprintf(&action_like, "%s%%", f->action) < 0)
                                return -ENOMEM;
                } else {
                        action_like = strdup(f->action);
                        if (!action_like)
                                return -ENOMEM;
                }
        }
        r = db_prepare(db,
                       "SELECT a.id, a.time, a.actor, a.token_name, a.action, a.target_kind, a.target, a.store_id, "
                       "a.result, a.error, a.source, a.request_id FROM audit a "
                       "WHERE (?1 = 0 OR a.account_id = ?1) AND (?2 IS NULL OR a.actor = ?2) "
                       "AND (?3 IS NULL OR a.action LIKE ?3 ESCAPE '\\') "
                       "AND (?4 IS NULL OR a.store_id = ?4 OR (a.target_kind = 'store' AND a.target = ?4)) "
                       "AND (?5 IS NULL OR a.result = ?5) AND (?6 = 0 OR a.time >= ?6) AND (?7 = 0 OR a.time < ?7) "
                       "AND (?8 = 0 OR a.id < ?8) ORDER BY a.id DESC LIMIT ?9",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, MAX(f->account_id, (int64_t) 0));
        sqlite3_bind_text(q, 2, f->actor, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 3, action_like, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 4, f->store, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 5, f->result >= 0 ? audit_result_to_string(f->result) : NULL, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 6, (sqlite3_int64) f->since);
        sqlite3_bind_int64(q, 7, (sqlite3_int64) f->until);
        sqlite3_bind_int64(q, 8, f->before_id);
        sqlite3_bind_int64(q, 9, (sqlite3_int64) limit);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                char ts[32];
                json_t *o;

                last = sqlite3_column_int64(q, 0);
                o = json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t) last,
                              "time", format_timestamp(ts, (uint64_t) sqlite3_column_int64(q, 1), true), "actor",
                              text_or_null(q, 2), "token", text_or_null(q, 3), "action", text_or_null(q, 4),
                              "target_kind", text_or_null(q, 5), "target", text_or_null(q, 6), "store_id",
                              text_or_null(q, 7), "result", text_or_null(q, 8), "error", text_or_null(q, 9), "source",
                              text_or_null(q, 10), "request_id", text_or_null(q, 11));
                if (!o || json_array_append_new(items, o) < 0)
                        return -ENOMEM;
                n++;
        }
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        *ret_next = n == limit ? last : 0;
        *ret_items = TAKE_PTR(items);
        return 0;
}
