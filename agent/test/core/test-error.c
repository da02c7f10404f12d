/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/dbus-names.h"
#include "core/error.h"
#include "tests.h"

/* Every domain error has a whole row, and the REST codes clients branch on are unique. */
TEST(test_table_complete)
{
        for (int e = 1; e < _ERROR_MAX; e++) {
                const ErrorInfo *info = error_info(e);

                ASSERT_TRUE(info);
                CHECK(info->http_status >= 400 && info->http_status <= 599);
                CHECK(info->code && info->code[0]);
                for (const char *p = info->code; p && *p; p++)
                        CHECK((*p >= 'a' && *p <= 'z') || *p == '_');
                CHECK(info->bus_name && strncmp(info->bus_name, "org.storeagent.Error.", 21) == 0);
                CHECK(info->message && info->message[0]);
                for (int f = 1; f < e; f++)
                        CHECK(!streq_ptr(error_info(f)->code, info->code));
        }
        ASSERT_TRUE(!error_info(0));
        ASSERT_TRUE(!error_info(-ENOSPC));
        ASSERT_TRUE(!error_info(_ERROR_MAX));
}

/* What clients and storectl already see; changing any of these breaks them. */
TEST(test_wire_names_kept)
{
        static const struct {
                Error e;
                int status;
                const char *code, *bus_name;
        } kept[] = {
                { ERROR_INVALID_REQUEST, 400, "invalid_request", STOREAGENT_ERROR_INVALID_ARGUMENT },
                { ERROR_INVALID_NAME, 400, "invalid_name", STOREAGENT_ERROR_INVALID_ARGUMENT },
                { ERROR_INVALID_ENGINE, 400, "invalid_engine", STOREAGENT_ERROR_INVALID_ARGUMENT },
                { ERROR_NOT_FOUND, 404, "not_found", STOREAGENT_ERROR_NOT_FOUND },
                { ERROR_NAME_TAKEN, 409, "name_taken", STOREAGENT_ERROR_NAME_TAKEN },
                { ERROR_BUSY, 409, "operation_in_progress", STOREAGENT_ERROR_BUSY },
                { ERROR_INVALID_STATE, 409, "invalid_state", STOREAGENT_ERROR_INVALID_STATE },
                { ERROR_STORE_CAP, 429, "store_cap_reached", STOREAGENT_ERROR_LIMIT_REACHED },
                { ERROR_CREATION_LIMITED, 429, "creation_limited", STOREAGENT_ERROR_LIMIT_REACHED },
                { ERROR_TASK_CAP, 429, "task_cap_reached", STOREAGENT_ERROR_LIMIT_REACHED },
                { ERROR_KEY_REUSED, 422, "idempotency_key_reused", STOREAGENT_ERROR_INVALID_ARGUMENT },
                { ERROR_TRY_AGAIN, 503, "busy", STOREAGENT_ERROR_TRY_AGAIN },
                { ERROR_STORAGE_FULL, 507, "storage_full", "org.storeagent.Error.StorageFull" },
                { ERROR_ACCOUNT_STORE_CAP, 429, "account_store_cap_reached", STOREAGENT_ERROR_LIMIT_REACHED },
                { ERROR_FORBIDDEN, 403, "forbidden", STOREAGENT_ERROR_ACCESS_DENIED },
                { ERROR_ACCOUNT_NOT_FOUND, 404, "account_not_found", STOREAGENT_ERROR_NOT_FOUND },
                { ERROR_ACCOUNT_TAKEN, 409, "account_name_taken", STOREAGENT_ERROR_NAME_TAKEN },
                { ERROR_TOKEN_NOT_FOUND, 404, "token_not_found", STOREAGENT_ERROR_NOT_FOUND },
                { ERROR_TOKEN_TAKEN, 409, "token_name_taken", STOREAGENT_ERROR_NAME_TAKEN },
                { ERROR_CREDENTIALS_UNAVAILABLE, 409, "credentials_unavailable", STOREAGENT_ERROR_INVALID_STATE },
                { ERROR_STORAGE_READ_ONLY, 507, "storage_read_only", "org.storeagent.Error.StorageReadOnly" },
                { ERROR_NO_CAPACITY, 507, "insufficient_capacity", STOREAGENT_ERROR_LIMIT_REACHED },
                { ERROR_WEBHOOK_NOT_FOUND, 404, "webhook_not_found", STOREAGENT_ERROR_NOT_FOUND },
                { ERROR_WEBHOOK_CAP, 409, "webhook_cap_reached", STOREAGENT_ERROR_LIMIT_REACHED },
                { ERROR_DOMAIN_TAKEN, 409, "domain_taken", STOREAGENT_ERROR_NAME_TAKEN },
                { ERROR_DOMAIN_NOT_FOUND, 404, "domain_not_found", STOREAGENT_ERROR_NOT_FOUND },
                { ERROR_DOMAIN_CAP, 409, "domain_cap_reached", STOREAGENT_ERROR_LIMIT_REACHED },
        };

        ASSERT_EQ(ELEMENTSOF(kept), _ERROR_MAX - 1);
        for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
                const ErrorInfo *info = error_info(kept[i].e);

                ASSERT_TRUE(info);
                CHECK(info->http_status == kept[i].status);
                CHECK_STREQ(info->code, kept[i].code);
                CHECK_STREQ(info->bus_name, kept[i].bus_name);
        }
        /* The limits say when to come back; the others have nothing to wait for. */
        CHECK(error_info(ERROR_TASK_CAP)->retry_after);
        CHECK(error_info(ERROR_TRY_AGAIN)->retry_after);
        CHECK(!error_info(ERROR_STORAGE_FULL)->retry_after);
        CHECK(!error_info(ERROR_STORAGE_READ_ONLY)->retry_after);
        CHECK(!error_info(ERROR_NAME_TAKEN)->retry_after);
        CHECK(!error_info(ERROR_NO_CAPACITY)->retry_after); /* room comes back when someone acts, not by itself */
}

/* A full disk is its own error, never the pending-task cap it used to be mistaken for. */
TEST(test_from_errno)
{
        ASSERT_EQ(error_from_errno(-ENOSPC), ERROR_STORAGE_FULL);
        ASSERT_EQ(error_from_errno(-EAGAIN), ERROR_TRY_AGAIN);
        ASSERT_EQ(error_from_errno(-EROFS), ERROR_STORAGE_READ_ONLY);
        ASSERT_EQ(error_from_errno(-EIO), -EIO);
        ASSERT_EQ(error_from_errno(-ENOMEM), -ENOMEM);
        ASSERT_EQ(error_from_errno(0), 0);
        ASSERT_EQ(error_from_errno(ERROR_NAME_TAKEN), ERROR_NAME_TAKEN);
}

DEFINE_TEST_MAIN(LOG_ERR)
