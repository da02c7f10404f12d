/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * API tokens and dashboard sessions. A token is "sa_" followed by 40 random
 * characters; only its SHA-256 is stored. Tokens carry 238 bits of entropy, so a
 * fast hash is enough; lookups go by hash and the final compare is constant-time.
 */

#include <jansson.h>
#include <stdint.h>

#include "core/db.h"

#define TOKEN_PREFIX "sa_"
#define TOKEN_RANDOM_CHARS 40

typedef struct TokenInfo {
        int64_t id;
        char name[128];
} TokenInfo;

/* Token names: 1-64 of [A-Za-z0-9_.@-]. */
bool token_name_is_valid(const char *name);

/* Creates a token; the clear text goes to *ret_token once and is never stored. -EEXIST if the name is taken. */
int token_create(Db *db, const char *name, char **ret_token);
/* Looks up a clear-text token; -EACCES if unknown or revoked. Records last use. */
int token_verify(Db *db, const char *token, TokenInfo *ret);
int token_revoke(Db *db, const char *name);
/* [{name, created_at, last_used_at, revoked_at}] */
int token_list(Db *db, json_t **ret);
int token_count_active(Db *db, int64_t *ret);

/* Sessions: an opaque cookie value and a CSRF token, both random; the cookie's hash is stored. */
int session_create(Db *db, const TokenInfo *t, uint64_t ttl_usec, char **ret_cookie, char **ret_csrf);
int session_verify(Db *db, const char *cookie, TokenInfo *ret, char **ret_csrf);
int session_delete(Db *db, const char *cookie);
