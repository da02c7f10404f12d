/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "basic/macro.h"

/* Wall clock in microseconds; what goes into the database and the API. */
uint64_t now_usec(void);
/* Monotonic clock in microseconds; for durations and deadlines. */
uint64_t mono_usec(void);

/* "2026-11-27T20:00:00Z" (or with milliseconds when ms is true); buf needs 32 bytes. */
char *format_timestamp(char buf[static 32], uint64_t usec, bool ms);

/* Fills buf with n random bytes from getrandom(); never blocks after early boot. */
int random_bytes(void *buf, size_t n);
/* Returns a new string of 2*n lowercase hex digits made of n random bytes. */
int random_hex(size_t n, char **ret);
/* Returns a new string of n characters from [A-Za-z0-9] (passwords, tokens). */
int random_alnum(size_t n, char **ret);

void hex_encode(const uint8_t *data, size_t n, char *out /* 2n+1 */);

/* SHA-256 of data as 64 lowercase hex digits. */
int sha256_hex(const void *data, size_t n, char out[static 65]);

/* Compares two strings of the same length without an early exit, so timing says nothing. */
bool memeq_consttime(const void *a, const void *b, size_t n);

int safe_atou64(const char *s, uint64_t *ret);
int safe_atoi(const char *s, int *ret);

/* Parses "2Gi", "512Mi", "1G", "100" into bytes. */
int parse_size(const char *s, uint64_t *ret);

int mkdir_p(const char *path, mode_t mode);
int write_file_atomic(const char *path, const char *data, size_t n, mode_t mode);
int read_file(const char *path, size_t max, char **ret, size_t *ret_size);

char *strjoin_path(const char *a, const char *b);

/* Writes s as a double-quoted YAML scalar that a YAML parser reads back as the same string. */
void fputs_yaml_quoted(const char *s, FILE *f);
