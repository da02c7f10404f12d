/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * s3: a small client of S3-compatible object storage, for the copies of backups. Objects are
 * addressed path-style (endpoint/bucket/key) and every request is signed with AWS Signature
 * Version 4 by libcurl itself (CURLOPT_AWS_SIGV4). Bodies stream from and to files in bounded
 * pieces; the secret key is never logged or put in a reason.
 *
 * The calls return 0 when the server did what was asked, 1 when it did not (or could not be
 * reached) with the reason in error ("HTTP 403 SignatureDoesNotMatch: ..."), and a negative
 * errno for trouble of this host (memory, a file that cannot be read or written, -ECANCELED).
 */

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct S3Target {
        const char *endpoint;   /* "https://s3.example.com" or "http://127.0.0.1:9000" */
        const char *bucket;
        const char *region;     /* "us-east-1" */
        const char *access_key;
        const char *secret_key;
        uint64_t timeout_sec;   /* one request, connect to the body's end */
        const atomic_bool *cancel; /* optional: raised, a request ends at once with -ECANCELED */
} S3Target;

/*
 * Reads a credentials file's text: "key = value" lines, as in AWS's credentials file
 * (aws_access_key_id, aws_secret_access_key; "access_key_id"/"secret_access_key" too), comments
 * (# or ;) and [section] lines ignored (the first section's keys win). -EINVAL when a key lacks.
 */
int s3_credentials_parse(const char *text, char **ret_access_key, char **ret_secret_key);

/* The URL of an object: endpoint (without a trailing '/'), '/', bucket, '/', key. */
int s3_object_url(const S3Target *t, const char *key, char **ret);

/*
 * The reason of a refusal: "HTTP <status>", then the S3 error's Code and Message from the XML
 * body when there is one.
 */
void s3_error_reason(long status, const char *body, size_t body_len, char *error, size_t n);

/* PUTs the file at path as key; sha256 (hex) is the file's digest, or NULL for an unsigned payload. */
int s3_put_file(const S3Target *t, const char *key, const char *path, const char *sha256, char *error,
                size_t n);
/* GETs key into the file at path (created or truncated, mode 0600). */
int s3_get_file(const S3Target *t, const char *key, const char *path, char *error, size_t n);
/* DELETEs key (a key that is not there is no error, as S3 says). */
int s3_delete(const S3Target *t, const char *key, char *error, size_t n);
