/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/log.h"
#include "basic/util.h"
#include "core/account.h"
#include "core/token.h"
#include "tests.h"

/* Whether the bytes of text appear in the database's files: the main file, its write-ahead log
 * and a rollback journal, wherever SQLite happens to have put the rows so far. */
static bool db_files_contain(const char *path, const char *text)
{
        static const char *const suffixes[] = { "", "-wal", "-journal" };

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                _cleanup_free_ char *file = NULL, *data = NULL;
                size_t size = 0;

                ASSERT_TRUE(asprintf(&file, "%s%s", path, suffixes[i]) >= 0);
                if (access(file, F_OK) < 0)
                        continue;
                ASSERT_EQ(read_file(file, 64 * 1024 * 1024, &data, &size), 0);
                if (memmem(data, size, text, strlen(text)))
                        return true;
        }
        return false;
}

TEST(test_tokens)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "t.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_free_ char *tok = NULL, *tok2 = NULL, *cookie = NULL, *csrf = NULL, *csrf2 = NULL;
        _cleanup_(account_freep) Account *admin = NULL;
        Caller info;
        int64_t n;

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(account_create(db, "admin", ACCOUNT_ADMIN, &admin), 0);
        ASSERT_EQ(token_create(db, admin->id, "laptop", 0, &tok), 0);
        ASSERT_EQ(strncmp(tok, "sa_", 3), 0);
        ASSERT_EQ(strlen(tok), 3 + TOKEN_RANDOM_CHARS);
        ASSERT_EQ(token_create(db, admin->id, "laptop", 0, &tok2), -EEXIST);
        ASSERT_EQ(token_create(db, admin->id, "bad name", 0, &tok2), -EINVAL);

        ASSERT_EQ(token_verify(db, tok, &info), 0);
        ASSERT_STREQ(info.token, "laptop");
        ASSERT_STREQ(info.account, "admin");
        ASSERT_EQ(info.account_id, admin->id);
        ASSERT_EQ(info.role, ACCOUNT_ADMIN);
        /* One character off, a prefix, or nothing at all: refused. */
        char saved = tok[10];
        tok[10] = saved == 'a' ? 'b' : 'a';
        ASSERT_EQ(token_verify(db, tok, &info), -EACCES);
        tok[10] = saved;
        ASSERT_EQ(token_verify(db, "sa_", &info), -EACCES);
        ASSERT_EQ(token_verify(db, "", &info), -EACCES);

        /* Only the hash is stored: the clear text appears nowhere in the database's files, while
         * the hash does (which shows that the search looks where the rows are). */
        sqlite3_stmt *s = NULL;
        ASSERT_EQ(db_prepare(db, "SELECT hash FROM tokens", &s), 0);
        ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
        char hash[65];
        ASSERT_EQ(sha256_hex(tok, strlen(tok), hash), 0);
        ASSERT_STREQ((const char *) sqlite3_column_text(s, 0), hash);
        db_stmt_release(s);
        ASSERT_TRUE(db_files_contain(path, hash));
        ASSERT_TRUE(!db_files_contain(path, tok + 3));

        /* Sessions live as long as their token. */
        ASSERT_EQ(session_create(db, &info, 60 * USEC_PER_SEC, &cookie, &csrf), 0);
        ASSERT_EQ(session_verify(db, cookie, &info, &csrf2), 0);
        ASSERT_STREQ(csrf, csrf2);
        /* Nor is a session's cookie kept in the clear, only its hash. */
        char cookie_hash[65];
        ASSERT_EQ(sha256_hex(cookie, strlen(cookie), cookie_hash), 0);
        ASSERT_TRUE(db_files_contain(path, cookie_hash));
        ASSERT_TRUE(!db_files_contain(path, cookie));
        ASSERT_EQ(token_count_active(db, &n), 0);
        ASSERT_EQ(n, 1);
        ASSERT_EQ(token_revoke(db, admin->id, "laptop"), 0);
        ASSERT_EQ(token_revoke(db, admin->id, "laptop"), -ENOENT);
        ASSERT_EQ(token_verify(db, tok, &info), -EACCES);
        ASSERT_EQ(session_verify(db, cookie, &info, NULL), -EACCES);
}

/* A token of a tenant, one that expired, and one of a disabled account: each refused for its own reason,
 * and a session stops with its account. Token names are per account. */
TEST(test_accounts)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "t.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_free_ char *t1 = NULL, *t2 = NULL, *t3 = NULL, *cookie = NULL, *csrf = NULL;
        _cleanup_(account_freep) Account *a = NULL, *b = NULL;
        Caller c;

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(account_create(db, "shop-a", ACCOUNT_TENANT, &a), 0);
        ASSERT_EQ(account_create(db, "shop-b", ACCOUNT_TENANT, &b), 0);
        ASSERT_EQ(account_create(db, "shop-a", ACCOUNT_ADMIN, NULL), -EEXIST);
        ASSERT_EQ(account_create(db, "system", ACCOUNT_ADMIN, NULL), -EINVAL);
        ASSERT_EQ(account_create(db, "-x", ACCOUNT_ADMIN, NULL), -EINVAL);

        /* The same token name in two accounts. */
        ASSERT_EQ(token_create(db, a->id, "ci", 0, &t1), 0);
        ASSERT_EQ(token_create(db, b->id, "ci", 0, &t2), 0);
        ASSERT_EQ(token_verify(db, t2, &c), 0);
        ASSERT_STREQ(c.account, "shop-b");
        ASSERT_EQ(c.role, ACCOUNT_TENANT);

        /* Expired: a token whose time has passed. */
        ASSERT_EQ(token_create(db, a->id, "short", now_usec() + 1, &t3), 0);
        usleep(10);
        ASSERT_EQ(token_verify(db, t3, &c), -EKEYEXPIRED);

        /* Disabled: every token and session of the account stops at once, and starts again when enabled. */
        ASSERT_EQ(token_verify(db, t1, &c), 0);
        ASSERT_EQ(session_create(db, &c, 60 * USEC_PER_SEC, &cookie, &csrf), 0);
        ASSERT_EQ(session_verify(db, cookie, &c, NULL), 0);
        ASSERT_EQ(account_set_disabled(db, a->id, true), 0);
        ASSERT_EQ(token_verify(db, t1, &c), -EPERM);
        ASSERT_EQ(session_verify(db, cookie, &c, NULL), -EPERM);
        ASSERT_EQ(token_verify(db, t2, &c), 0); /* the other account is untouched */
        ASSERT_EQ(account_set_disabled(db, a->id, false), 0);
        ASSERT_EQ(token_verify(db, t1, &c), 0);

        /* Revoking one account's token leaves the other account's token of the same name. */
        ASSERT_EQ(token_revoke(db, a->id, "ci"), 0);
        ASSERT_EQ(token_verify(db, t1, &c), -EACCES);
        ASSERT_EQ(token_verify(db, t2, &c), 0);
}

TEST(test_consttime)
{
        ASSERT_TRUE(memeq_consttime("abc", "abc", 3));
        ASSERT_TRUE(!memeq_consttime("abc", "abd", 3));
        ASSERT_TRUE(memeq_consttime("", "", 0));
}

DEFINE_TEST_MAIN(LOG_ERR)
