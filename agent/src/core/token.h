/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * API tokens and dashboard sessions. A token is "sa_" followed by 40 random
 * characters; only its SHA-256 is stored. Tokens carry 238 bits of entropy, so a
 * fast hash is enough; lookups go by hash and the final compare is constant-time.
 */

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/db.h"

#define TOKEN_PREFIX "sa_"
#define TOKEN_RANDOM_CHARS 40

/* Token names: 1-64 of [A-Za-z0-9_.@-], unique within their account. */
bool token_name_is_valid(const char *name);

/*
 * Creates a token of an account, valid until expires_at (0: until revoked); the clear text
 * goes to *ret_token once and is never stored. -EEXIST if the account has a token of that
 * name, -EINVAL for a bad name.
 */
int token_create(Db *db, int64_t account_id, const char *name, uint64_t expires_at, char **ret_token);
/*
 * Looks up a clear-text token and fills the caller it stands for. Records last use.
 * -EACCES unknown or revoked, -EKEYEXPIRED expired, -EPERM its account is disabled.
 */
int token_verify(Db *db, const char *token, Caller *ret);
/*
 * The account a clear-text token belongs to, whatever its state (revoked, expired, disabled
 * account): who a failed sign-in was aimed at. -ENOENT for a token that never existed.
 */
int token_owner(Db *db, const char *token, int64_t *ret_account_id, char ret_account[static ACCOUNT_NAME_MAX + 1]);
/* Revokes the token of an account by name and ends its sessions; -ENOENT when there is no live one. */
int token_revoke(Db *db, int64_t account_id, const char *name);
/* [{account, name, created_at, expires_at, last_used_at, revoked_at, expired}] of one account, or of every
 * account when account_id is 0. */
int token_list(Db *db, int64_t account_id, json_t **ret);
int token_count_active(Db *db, int64_t *ret);

/* Sessions: an opaque cookie value and a CSRF token, both random; the cookie's hash is stored. A session
 * is as good as its token: revoked, expired or disabled ends it (same errors as token_verify). */
int session_create(Db *db, const Caller *c, uint64_t ttl_usec, char **ret_cookie, char **ret_csrf);
int session_verify(Db *db, const char *cookie, Caller *ret, char **ret_csrf);
int session_delete(Db *db, const char *cookie);
