/* SPDX-License-Identifier: Apache-2.0 */

#include <errno.h>
#include <stddef.h>

#include "basic/dbus-names.h"
#include "basic/macro.h"
#include "core/error.h"

static const ErrorInfo error_table[_ERROR_MAX] = {
        [ERROR_INVALID_REQUEST] = { 400, "invalid_request", STOREAGENT_ERROR_INVALID_ARGUMENT, "Invalid request." },
        [ERROR_INVALID_NAME] = { 400, "invalid_name", STOREAGENT_ERROR_INVALID_ARGUMENT, "Invalid store name." },
        [ERROR_INVALID_ENGINE] = { 400, "invalid_engine", STOREAGENT_ERROR_INVALID_ARGUMENT, "Unsupported engine." },
        [ERROR_NOT_FOUND] = { 404, "not_found", STOREAGENT_ERROR_NOT_FOUND, "No such store." },
        [ERROR_NAME_TAKEN] = { 409, "name_taken", STOREAGENT_ERROR_NAME_TAKEN, "That name is taken." },
        [ERROR_BUSY] = { 409, "operation_in_progress", STOREAGENT_ERROR_BUSY, "Another operation is running." },
        [ERROR_INVALID_STATE] = { 409, "invalid_state", STOREAGENT_ERROR_INVALID_STATE,
                                  "Not possible in this state." },
        [ERROR_STORE_CAP] = { 429, "store_cap_reached", STOREAGENT_ERROR_LIMIT_REACHED, "Store cap reached.", true },
        [ERROR_CREATION_LIMITED] = { 429, "creation_limited", STOREAGENT_ERROR_LIMIT_REACHED,
                                     "Creation limit reached.", true },
        [ERROR_TASK_CAP] = { 429, "task_cap_reached", STOREAGENT_ERROR_LIMIT_REACHED, "Too many operations queued.",
                             true },
        [ERROR_KEY_REUSED] = { 422, "idempotency_key_reused", STOREAGENT_ERROR_INVALID_ARGUMENT,
                               "Idempotency key reused." },
        [ERROR_TRY_AGAIN] = { 503, "busy", STOREAGENT_ERROR_TRY_AGAIN,
                              "The database is busy; nothing was changed, try again in a second.", true },
        /* 507 Insufficient Storage (RFC 4918): the request was fine, the server has no room to record it. */
        [ERROR_STORAGE_FULL] = { 507, "storage_full", STOREAGENT_ERROR_STORAGE_FULL,
                                 "The agent's storage is full; nothing was changed. An operator must free space." },
        [ERROR_ACCOUNT_STORE_CAP] = { 429, "account_store_cap_reached", STOREAGENT_ERROR_LIMIT_REACHED,
                                      "This account's cap on active stores is reached.", true },
        [ERROR_FORBIDDEN] = { 403, "forbidden", STOREAGENT_ERROR_ACCESS_DENIED, "Only an admin may do this." },
        [ERROR_ACCOUNT_NOT_FOUND] = { 404, "account_not_found", STOREAGENT_ERROR_NOT_FOUND, "No such account." },
        [ERROR_ACCOUNT_TAKEN] = { 409, "account_name_taken", STOREAGENT_ERROR_NAME_TAKEN,
                                  "An account of that name exists." },
        [ERROR_TOKEN_NOT_FOUND] = { 404, "token_not_found", STOREAGENT_ERROR_NOT_FOUND, "No such token." },
        [ERROR_TOKEN_TAKEN] = { 409, "token_name_taken", STOREAGENT_ERROR_NAME_TAKEN,
                                "This account has a token of that name." },
        [ERROR_CREDENTIALS_UNAVAILABLE] = { 409, "credentials_unavailable", STOREAGENT_ERROR_INVALID_STATE,
                                            "The store has no credentials to show." },
        [ERROR_STORAGE_READ_ONLY] = { 507, "storage_read_only", STOREAGENT_ERROR_STORAGE_READ_ONLY,
                                      "The agent's storage is read-only; nothing was changed. An operator must "
                                      "repair it." },
        [ERROR_NO_CAPACITY] = { 507, "insufficient_capacity", STOREAGENT_ERROR_LIMIT_REACHED,
                                "The cluster has no room for another store." },
        [ERROR_WEBHOOK_NOT_FOUND] = { 404, "webhook_not_found", STOREAGENT_ERROR_NOT_FOUND, "No such webhook." },
        [ERROR_WEBHOOK_CAP] = { 409, "webhook_cap_reached", STOREAGENT_ERROR_LIMIT_REACHED,
                                "This account has as many webhooks as it may have." },
        [ERROR_DOMAIN_TAKEN] = { 409, "domain_taken", STOREAGENT_ERROR_NAME_TAKEN,
                                 "Another store serves that domain." },
        [ERROR_DOMAIN_NOT_FOUND] = { 404, "domain_not_found", STOREAGENT_ERROR_NOT_FOUND,
                                     "The store has no such domain." },
        [ERROR_DOMAIN_CAP] = { 409, "domain_cap_reached", STOREAGENT_ERROR_LIMIT_REACHED,
                               "This store has as many domains as it may have." },
};

const ErrorInfo *error_info(int e)
{
        if (e <= _ERROR_NONE || e >= _ERROR_MAX)
                return NULL;
        return &error_table[e];
}

int error_from_errno(int r)
{
        switch (r) {
        case -ENOSPC:
                return ERROR_STORAGE_FULL;
        case -EROFS:
                return ERROR_STORAGE_READ_ONLY;
        case -EAGAIN:
                return ERROR_TRY_AGAIN;
        default:
                return r;
        }
}
