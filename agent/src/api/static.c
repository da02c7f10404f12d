/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The dashboard's files, served from web_root without ever leaving it: paths are decoded
 * before dot segments are refused, and files are opened beneath the root without symlinks.
 */

#include <ctype.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "api/api-internal.h"
#include "basic/util.h"

static const char *mime_type(const char *path)
{
        static const struct {
                const char *ext, *type;
        } table[] = {
                { ".html", "text/html; charset=utf-8" },
                { ".js", "text/javascript; charset=utf-8" },
                { ".mjs", "text/javascript; charset=utf-8" },
                { ".css", "text/css; charset=utf-8" },
                { ".json", "application/json" },
                { ".svg", "image/svg+xml" },
                { ".png", "image/png" },
                { ".jpg", "image/jpeg" },
                { ".ico", "image/x-icon" },
                { ".webp", "image/webp" },
                { ".woff2", "font/woff2" },
                { ".woff", "font/woff" },
                { ".txt", "text/plain; charset=utf-8" },
                { ".map", "application/json" },
                { ".webmanifest", "application/manifest+json" },
        };
        const char *dot = strrchr(path, '.');

        if (dot && !strchr(dot, '/'))
                for (size_t i = 0; i < ELEMENTSOF(table); i++)
                        if (strcasecmp(dot, table[i].ext) == 0)
                                return table[i].type;
        return "application/octet-stream";
}

static int open_beneath(int dirfd, const char *rel)
{
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
        };
        long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
        if (fd >= 0)
                return (int) fd;
        if (errno != ENOSYS && errno != EPERM)
                return -errno;

        /* No openat2() (kernels before 5.6, or a seccomp filter): walk one component at a time, no symlinks. */
        _cleanup_close_ int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        for (const char *p = rel;;) {
                char comp[256];
                size_t n;
                bool last;
                int next;

                while (*p == '/')
                        p++;
                n = strcspn(p, "/");
                if (n == 0 || n >= sizeof comp)
                        return -ENOENT;
                memcpy(comp, p, n);
                comp[n] = '\0';
                if (streq(comp, "..") || streq(comp, "."))
                        return -EACCES;
                p += n;
                while (*p == '/')
                        p++;
                last = *p == '\0';
                next = openat(cur, comp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? 0 : O_DIRECTORY));
                if (next < 0)
                        return -errno;
                safe_close(cur);
                cur = next;
                if (last)
                        return TAKE_FD(cur);
        }
}

static int serve_file(struct _u_response *resp, int fd, const char *name, bool immutable,
                      const char *encoding)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, cap = 0;
        struct stat st;

        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 32 * 1024 * 1024)
                return -ENOENT;
        cap = (size_t) st.st_size + 1;
        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + size, cap - size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
                if (size == cap)
                        break;
        }
        ulfius_set_binary_body_response(resp, 200, buf, size);
        u_map_put(resp->map_header, "Content-Type", mime_type(name));
        u_map_put(resp->map_header, "Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
        /* The answer depends on Accept-Encoding whenever a compressed copy may exist. */
        u_map_put(resp->map_header, "Vary", "Accept-Encoding");
        if (encoding)
                u_map_put(resp->map_header, "Content-Encoding", encoding);
        return 0;
}

/*
 * Whether an Accept-Encoding header admits coding: named with a q above 0, or "*" with a q
 * above 0 and coding not named. Codings are case-insensitive. Pure, so it can be fuzzed.
 */
bool api_accepts_encoding(const char *header, const char *coding)
{
        bool named = false, star = false;
        size_t n;

        if (!header || !coding)
                return false;
        n = strlen(coding);
        for (const char *p = header; *p;) {
                size_t len, tok;
                bool ok = true;

                p += strspn(p, " \t,");
                len = strcspn(p, ",");
                tok = strcspn(p, ";, \t");
                if (tok > len)
                        tok = len;
                /* A parameter "q=0", "q=0.0", ... refuses the coding; any other q accepts it. */
                for (size_t i = tok; i < len; i++) {
                        const char *v;

                        if (p[i] != ';')
                                continue;
                        v = p + i + 1;
                        v += strspn(v, " \t");
                        if (v >= p + len || (v[0] != 'q' && v[0] != 'Q') || v + 1 >= p + len || v[1] != '=')
                                continue;
                        ok = false;
                        for (v += 2; v < p + len && strchr("0123456789.", *v); v++)
                                if (*v >= '1' && *v <= '9')
                                        ok = true;
                }
                if (tok == n && strncasecmp(p, coding, n) == 0) {
                        if (!ok)
                                return false;
                        named = true;
                } else if (tok == 1 && p[0] == '*')
                        star = ok;
                p += len;
        }
        return named || star;
}

/* The file at rel, or its .br or .gz copy when the client takes it (written at build time). */
static int serve_path(ApiServer *s, const struct _u_request *req, struct _u_response *resp, const char *rel,
                      bool immutable)
{
        static const char *const encodings[] = { "br", "gzip" }, *const suffixes[] = { ".br", ".gz" };
        const char *accept = u_map_get_case(req->map_header, "Accept-Encoding");
        _cleanup_close_ int fd = -EBADF;

        for (size_t i = 0; i < ELEMENTSOF(encodings); i++) {
                char zpath[1200];
                int zfd;

                if (!api_accepts_encoding(accept, encodings[i]))
                        continue;
                if ((size_t) snprintf(zpath, sizeof zpath, "%s%s", rel, suffixes[i]) >= sizeof zpath)
                        continue;
                zfd = open_beneath(s->web_root_fd, zpath);
                if (zfd < 0)
                        continue;
                fd = zfd;
                if (serve_file(resp, fd, rel, immutable, encodings[i]) >= 0)
                        return 0;
                fd = safe_close(fd);
        }
        fd = open_beneath(s->web_root_fd, rel);
        if (fd < 0)
                return fd;
        return serve_file(resp, fd, rel, immutable, NULL);
}

/* Decodes %XX escapes; refuses malformed escapes and NUL bytes. */
static int percent_decode(const char *in, char *out, size_t n)
{
        size_t o = 0;

        for (const char *p = in; *p; p++) {
                char c = *p;
                if (c == '%') {
                        unsigned v;
                        if (!isxdigit((unsigned char) p[1]) || !isxdigit((unsigned char) p[2]) ||
                            sscanf(p + 1, "%2x", &v) != 1 || v == 0)
                                return -EINVAL;
                        c = (char) v;
                        p += 2;
                }
                if (o + 1 >= n)
                        return -ENAMETOOLONG;
                out[o++] = c;
        }
        out[o] = '\0';
        return 0;
}

/*
 * The request path as a file name beneath the web root. Decoded first, so "%2e%2e" is seen for
 * what it is; then every dot segment is refused. Pure, so it can be fuzzed on its own.
 */
int api_static_path(const char *url_path, char *out, size_t n)
{
        int r;

        assert(url_path);
        assert(out);
        r = percent_decode(url_path, out, n);
        if (r < 0)
                return r;
        for (const char *seg = out; *seg;) {
                while (*seg == '/')
                        seg++;
                size_t len = strcspn(seg, "/");
                if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
                        return -EPERM;
                seg += len;
        }
        if (strchr(out, '\\') || strlen(out) > 1024)
                return -EINVAL;
        return 0;
}

int api_serve_static(ApiServer *s, const struct _u_request *req, struct _u_response *resp)
{
        char path[1100];
        const char *rel;
        int r;

        if (!streq(req->http_verb, "GET") && !streq(req->http_verb, "HEAD")) {
                u_map_put(resp->map_header, "Allow", "GET, HEAD");
                return api_error(resp, 405, "method_not_allowed", "Only GET and HEAD are served here.");
        }

        r = api_static_path(req->url_path, path, sizeof path);
        if (r == -EPERM)
                return api_error(resp, 400, "invalid_path", "Path segments '.' and '..' are not allowed.");
        if (r < 0)
                return api_error(resp, 400, "invalid_path", "Invalid path.");

        if (s->web_root_fd < 0)
                return api_error(resp, 404, "not_found",
                                 "The dashboard is not installed (web_root '%s' is missing); the API is under /api/v1.",
                                 strna(s->web_root));

        rel = path;
        while (*rel == '/')
                rel++;
        if (*rel == '\0')
                rel = "index.html";

        if (serve_path(s, req, resp, rel, strncmp(rel, "assets/", 7) == 0) >= 0)
                return 0;

        /* Client-side routes get the app shell; missing assets stay 404. */
        const char *last = strrchr(rel, '/');
        last = last ? last + 1 : rel;
        if (strncmp(rel, "assets/", 7) != 0 && !strchr(last, '.') &&
            serve_path(s, req, resp, "index.html", false) >= 0)
                return 0;
        return api_error(resp, 404, "not_found", "Not found.");
}
