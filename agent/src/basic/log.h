/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Logging: structured fields to journald when our stderr is the journal stream
 * (or when asked), otherwise one JSON object per line on stderr. A message is
 * never dropped: a failed journal write falls back to stderr.
 *
 * Helpers return errors; the caller that handles an error logs it once:
 *         return log_error_errno(r, "Failed to open database '%s': %m", path);
 * "%m" prints strerror(-r) when r is given.
 */

#include <stdarg.h>
#include <syslog.h>

#include "basic/macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_JSON,
        _LOG_TARGET_MAX,
        _LOG_TARGET_INVALID = -EINVAL,
} LogTarget;

const char *log_target_to_string(LogTarget t);
LogTarget log_target_from_string(const char *s);

/* Picks journald or stderr; AUTO uses journald only when stderr is $JOURNAL_STREAM. */
void log_setup(LogTarget target, int max_level);
void log_set_max_level(int level);
int log_get_max_level(void);
LogTarget log_get_target(void);
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);

/* Fields are "KEY", "value" pairs; a NULL value skips the pair. */
#define LOG_FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

_printf_(6, 7) int log_internal(int level, int error, const char *file, int line, const char *const *fields,
                                const char *format, ...);
int log_internalv(int level, int error, const char *file, int line, const char *const *fields,
                  const char *format, va_list ap);

#define log_full_errno(level, error, ...) log_internal((level), (error), __FILE__, __LINE__, NULL, __VA_ARGS__)
#define log_struct_errno(level, error, fields, ...)                                                          \
        log_internal((level), (error), __FILE__, __LINE__, (fields), __VA_ARGS__)
#define log_struct(level, fields, ...) log_struct_errno(level, 0, fields, __VA_ARGS__)

#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_notice_errno(e, ...) log_full_errno(LOG_NOTICE, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)

#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")

/* MESSAGE_IDs operators can alert on; docs/journal-catalog.catalog describes them. */
#define SA_MESSAGE_STARTED "2f5c8e1d0b6a4f0e9d3c7b1a5e8f2c40"
#define SA_MESSAGE_STORE_READY "8a1f3e5c7d9b4a2e8c6f0d1b3a5e7c91"
#define SA_MESSAGE_STORE_FAILED "c4e2a0f8d6b94c1e8a3f5d7b9e1c3a52"
#define SA_MESSAGE_STORE_DELETED "5d7f9b1e3c5a4e8d9f1b3d5e7a9c1e63"
#define SA_MESSAGE_ORPHAN_NAMESPACE "e6a8c0e2f4b64d1a8c0e2a4c6e8f0a74"
