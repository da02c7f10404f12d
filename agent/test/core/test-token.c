/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/log.h"
#include "basic/util.h"
#include "core/token.h"
#include "tests.h"

TEST(test_tokens)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "t.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_free_ char *tok = NULL, *tok2 = NULL, *cookie = NULL, *csrf = NULL, *csrf2 = NULL;
        TokenInfo info;
        int64_t n;

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(token_create(db, "admin", &tok), 0);
        ASSERT_EQ(strncmp(tok, "sa_", 3), 0);
        ASSERT_EQ(strlen(tok), 3 + TOKEN_RANDOM_CHARS);
        ASSERT_EQ(token_create(db, "admin", &tok2), -EEXIST);
        ASSERT_EQ(token_create(db, "bad name", &tok2), -EINVAL);

        ASSERT_EQ(token_verify(db, tok, &info), 0);
        ASSERT_STREQ(info.name, "admin");
        /* One character off, a prefix, or nothing at all: refused. */
        char saved = tok[10];
        tok[10] = saved == 'a' ? 'b' : 'a';
        ASSERT_EQ(token_verify(db, tok, &info), -EACCES);
        tok[10] = saved;
        ASSERT_EQ(token_verify(db, "sa_", &info), -EACCES);
        ASSERT_EQ(token_verify(db, "", &info), -EACCES);

        /* Only the hash is stored: the clear text appears nowhere in the database. */
        sqlite3_stmt *s = NULL;
        ASSERT_EQ(db_prepare(db, "SELECT hash FROM api_tokens", &s), 0);
        ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
        char hash[65];
        ASSERT_EQ(sha256_hex(tok, strlen(tok), hash), 0);
        ASSERT_STREQ((const char *) sqlite3_column_text(s, 0), hash);
        ASSERT_TRUE(!strstr((const char *) sqlite3_column_text(s, 0), tok + 3));
        sqlite3_finalize(s);

        /* Sessions live as long as their token. */
        ASSERT_EQ(session_create(db, &info, 60 * USEC_PER_SEC, &cookie, &csrf), 0);
        ASSERT_EQ(session_verify(db, cookie, &info, &csrf2), 0);
        ASSERT_STREQ(csrf, csrf2);
        ASSERT_EQ(token_count_active(db, &n), 0);
        ASSERT_EQ(n, 1);
        ASSERT_EQ(token_revoke(db, "admin"), 0);
        ASSERT_EQ(token_revoke(db, "admin"), -ENOENT);
        ASSERT_EQ(token_verify(db, tok, &info), -EACCES);
        ASSERT_EQ(session_verify(db, cookie, &info, NULL), -EACCES);
}

TEST(test_consttime)
{
        ASSERT_TRUE(memeq_consttime("abc", "abc", 3));
        ASSERT_TRUE(!memeq_consttime("abc", "abd", 3));
        ASSERT_TRUE(memeq_consttime("", "", 0));
}

DEFINE_TEST_MAIN(LOG_ERR)
