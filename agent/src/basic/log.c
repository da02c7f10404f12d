/* SPDX-License-Identifier: Apache-2.0 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include <systemd/sd-journal.h>

#include "basic/log.h"
#include "basic/utf8.h"

static LogTarget log_target = LOG_TARGET_JSON;
static atomic_int log_max_level = LOG_INFO;
static pthread_mutex_t log_stderr_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const log_target_table[_LOG_TARGET_MAX] = {
        [LOG_TARGET_AUTO] = "auto",
        [LOG_TARGET_JOURNAL] = "journal",
        [LOG_TARGET_JSON] = "json",
};

const char *log_target_to_string(LogTarget t)
{
        return t >= 0 && t < _LOG_TARGET_MAX ? log_target_table[t] : NULL;
}

LogTarget log_target_from_string(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(log_target_table); i++)
                if (streq_ptr(log_target_table[i], s))
                        return (LogTarget) i;
        return _LOG_TARGET_INVALID;
}

static const char *const log_level_table[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "error",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

const char *log_level_to_string(int level)
{
        return level >= 0 && level < (int) ELEMENTSOF(log_level_table) ? log_level_table[level] : "unknown";
}

int log_level_from_string(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(log_level_table); i++)
                if (streq_ptr(log_level_table[i], s))
                        return (int) i;
        return -EINVAL;
}

/* True when fd 2 is the stream systemd connected to journald ($JOURNAL_STREAM is "dev:ino"). */
static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(LogTarget target, int max_level)
{
        if (target == LOG_TARGET_AUTO)
                target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_JSON;
        log_target = target;
        if (max_level >= 0)
                log_max_level = max_level;
}

void log_set_max_level(int level)
{
        log_max_level = level;
}

int log_get_max_level(void)
{
        return log_max_level;
}

LogTarget log_get_target(void)
{
        return log_target;
}

static void json_escape(FILE *f, const char *s)
{
        _cleanup_free_ char *valid = NULL;

        /* A JSON line must be UTF-8 for whoever reads it; what a client or helm sent need not be. */
        if (!utf8_is_valid(s)) {
                valid = utf8_escape_invalid(s);
                s = valid ?: "(not UTF-8)";
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        if (*p < 0x20)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

static void lowercase_key(FILE *f, const char *k)
{
        fputc('"', f);
        for (; *k; k++)
                fputc(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k, f);
        fputc('"', f);
}

static void log_write_json(int level, int error, const char *file, int line, const char *const *fields,
                           const char *message)
{
        struct timespec ts;
        struct tm tm;
        char stamp[64];
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

        f = open_memstream(&buf, &len);
        if (!f)
                return;
        fprintf(f, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"message\":", stamp, ts.tv_nsec / 1000000,
                log_level_to_string(level));
        json_escape(f, message);
        if (error != 0)
                fprintf(f, ",\"errno\":%d", error < 0 ? -error : error);
        for (const char *const *k = fields; k && *k; k += 2) {
                if (!k[1])
                        continue;
                fputc(',', f);
                lowercase_key(f, k[0]);
                fputc(':', f);
                json_escape(f, k[1]);
        }
        if (log_max_level >= LOG_DEBUG)
                fprintf(f, ",\"code_file\":\"%s\",\"code_line\":%d", file, line);
        fputs("}\n", f);
        fclose(f);

        pthread_mutex_lock(&log_stderr_lock);
        (void) fwrite(buf, 1, len, stderr);
        fflush(stderr);
        pthread_mutex_unlock(&log_stderr_lock);
        free(buf);
}

static int log_write_journal(int level, int error, const char *file, int line, const char *const *fields,
                             const char *message)
{
        struct iovec iov[64];
        char *owned[64];
        size_t n = 0, o = 0;
        int r;

#define ADD(...)                                                                                             \
        do {                                                                                                 \
                if (n < ELEMENTSOF(iov) && asprintf(&owned[o], __VA_ARGS__) >= 0) {                          \
                        iov[n++] = (struct iovec){ owned[o], strlen(owned[o]) };                             \
                        o++;                                                                                 \
                }                                                                                            \
        } while (0)

        ADD("MESSAGE=%s", message);
        ADD("PRIORITY=%d", level);
        ADD("SYSLOG_IDENTIFIER=storeagentd");
        ADD("CODE_FILE=%s", file);
        ADD("CODE_LINE=%d", line);
        if (error != 0)
                ADD("ERRNO=%d", error < 0 ? -error : error);
        for (const char *const *k = fields; k && *k; k += 2)
                if (k[1])
                        ADD("%s=%s", k[0], k[1]);
#undef ADD

        r = sd_journal_sendv(iov, (int) n);
        for (size_t i = 0; i < o; i++)
                free(owned[i]);
        return r;
}

int log_internalv(int level, int error, const char *file, int line, const char *const *fields,
                  const char *format, va_list ap)
{
        char message[2048];
        int saved_errno = errno, r;

        if ((level & LOG_PRIMASK) > log_max_level)
                return error < 0 ? error : -abs(error);

        /* "%m" in the format means the error we were given, not whatever errno holds now. */
        if (error != 0)
                errno = error < 0 ? -error : error;
        r = vsnprintf(message, sizeof message, format, ap);
        if (r >= (int) sizeof message) { /* cut short: say so rather than end mid-word, or mid-character */
                utf8_truncate(message, sizeof message - 4);
                strcat(message, "...");
        }

        if (log_target != LOG_TARGET_JOURNAL ||
            log_write_journal(level, error, file, line, fields, message) < 0)
                log_write_json(level, error, file, line, fields, message);

        errno = saved_errno;
        return error < 0 ? error : -abs(error);
}

int log_internal(int level, int error, const char *file, int line, const char *const *fields,
                 const char *format, ...)
{
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_internalv(level, error, file, line, fields, format, ap);
        va_end(ap);
        return r;
}
