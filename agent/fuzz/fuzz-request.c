/* SPDX-License-Identifier: Apache-2.0 */

/*
 * One HTTP request through the daemon's own request callback (api/dispatch.c), as libmicrohttpd
 * hands it over: the Host check, route matching, authentication, rate limits, body checks, the
 * handler with its field and name checks against a real database, and static files from a real
 * web root. Only the socket is missing.
 *
 * The input is a request in a plain text form:
 *
 *   METHOD PATH[?key=value&...]
 *   Header: value
 *   ...
 *   <empty line>
 *   body
 *
 * In the path, the header values and a text body, "$ADMIN" and "$TENANT" stand for the tokens of
 * an admin and of a tenant account made at start, "$SESSION" and "$CSRF" for a session of the
 * tenant's, and "$STORE" for the id of a store of the tenant's, so that the fuzzer gets past
 * authentication and finds a store. The live stream is left out: it waits for store changes by
 * design and would hold the fuzzer.
 */

#include "api/api-internal.h"
#include "basic/util.h"
#include "core/account.h"
#include "core/config.h"
#include "core/token.h"
#include "fuzz.h"

static Config *config; /* the server borrows from it (host names, proxies) for its whole life */
static ApiServer *server;
static bool verbose;
/* What "$ADMIN", "$TENANT", "$SESSION", "$CSRF" and "$STORE" in the input stand for. */
static char *admin_token, *tenant_token, *session_cookie, *session_csrf, *store_id;

static void write_scratch(const char *rel, const char *text)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", fuzz_scratch_dir(), rel);
        f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                abort();
}

/* An account with a token; *ret_caller is who calls with it. */
static char *token_for(Db *db, const char *account, AccountRole role, Caller *ret_caller)
{
        _cleanup_(account_freep) Account *a = NULL;
        char *token = NULL;

        FUZZ_SETUP(account_create(db, account, role, &a) >= 0);
        FUZZ_SETUP(token_create(db, a->id, "fuzz", 0, &token) >= 0);
        /* The caller as the token makes it (a session hangs off a token). */
        FUZZ_SETUP(token_verify(db, token, ret_caller) >= 0);
        return token;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        char path[512];
        Caller admin, tenant;
        StoreLimits limits;
        StoreError err = {};
        Store *store = NULL;
        bool replayed;
        Db *db = NULL;

        fuzz_log_setup();
        if (config_new_default(&config) < 0)
                abort();

        /* A database and a web root of our own, limits that a flood of inputs does not exhaust. */
        snprintf(path, sizeof path, "%s/web/assets", fuzz_scratch_dir());
        if (mkdir_p(path, 0700) < 0)
                abort();
        write_scratch("web/index.html", "<!doctype html><title>storeagent</title>\n");
        write_scratch("web/assets/app.js", "console.log('storeagent');\n");
        free(config->database);
        free(config->web_root);
        if (asprintf(&config->database, "%s/storeagent.db", fuzz_scratch_dir()) < 0 ||
            asprintf(&config->web_root, "%s/web", fuzz_scratch_dir()) < 0)
                abort();
        config->requests_per_window = 10000000;
        config->signin_failures = 1000000;
        config->max_stores = 100000;
        config->tenant_max_stores = 100000;
        config->creates_per_hour = 100000;
        config->max_pending_tasks = 100000;

        FUZZ_SETUP(db_open(config->database, &db) >= 0);
        admin_token = token_for(db, "admin", ACCOUNT_ADMIN, &admin);
        tenant_token = token_for(db, "tenant", ACCOUNT_TENANT, &tenant);
        FUZZ_SETUP(session_create(db, &tenant, 3600 * USEC_PER_SEC, &session_cookie, &session_csrf) >= 0);
        /* A store of the tenant's, so that the store routes find one. */
        store_limits_from_config(config, &limits);
        FUZZ_SETUP(store_create(db, &limits, &tenant, "fuzzshop", "woocommerce", NULL, NULL, &store, &replayed,
                                &err) == 0);
        store_id = strdup(store->id);
        if (!store_id)
                abort();
        store_free(store);
        db_close(db);

        FUZZ_SETUP(api_server_new(&server, config, NULL, NULL) >= 0);
        /* FUZZ_VERBOSE=1 prints each answer, to see what an input reproduces. */
        verbose = getenv("FUZZ_VERBOSE");
        return 0;
}

/* "k=v&k2=v2" into the request's URL map, as ulfius splits a query. */
static void put_query(struct _u_map *map, char *query)
{
        char *save = NULL;

        for (char *kv = strtok_r(query, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
                char *eq = strchr(kv, '=');

                if (eq)
                        *eq++ = '\0';
                u_map_put(map, kv, eq ?: "");
        }
}

/* The text with the names of the test credentials and store replaced by their values. */
static char *substitute(const char *v)
{
        const char *names[] = { "$ADMIN", "$TENANT", "$SESSION", "$CSRF", "$STORE" };
        const char *values[] = { admin_token, tenant_token, session_cookie, session_csrf, store_id };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const char *at = strstr(v, names[i]);
                char *s;

                if (!at)
                        continue;
                if (asprintf(&s, "%.*s%s%s", (int) (at - v), v, values[i], at + strlen(names[i])) < 0)
                        abort();
                return s;
        }
        return strdup(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = NULL;
        struct _u_request req;
        struct _u_response resp;
        char *line, *next, *sp, *query, *body;
        size_t body_len;
        RequestContext probe = {};

        /* The request text ends where its body starts: after the first empty line. */
        text = malloc(size + 1);
        if (!text)
                abort();
        memcpy(text, data, size);
        text[size] = '\0';
        body = strstr(text, "\n\n");
        if (body) {
                *body = '\0';
                body += 2;
                body_len = size - (size_t) (body - text);
        } else
                body_len = 0;

        next = strchr(text, '\n');
        if (next)
                *next++ = '\0';
        line = text;
        sp = strchr(line, ' ');
        if (!sp || sp == line || sp[1] != '/')
                return 0;
        *sp = '\0';
        query = strchr(sp + 1, '?');
        if (query)
                *query++ = '\0';
        if (api_route_match("/api/v1/stream", sp + 1, &probe))
                return 0;

        if (ulfius_init_request(&req) != U_OK || ulfius_init_response(&resp) != U_OK)
                abort();
        free(req.http_verb);
        free(req.url_path);
        req.http_verb = strdup(line);
        req.url_path = substitute(sp + 1);
        if (!req.http_verb || !req.url_path)
                abort();
        if (query)
                put_query(req.map_url, query);

        for (line = next; line && *line; line = next) {
                char *colon;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = '\0';
                _cleanup_free_ char *v = substitute(colon + 1 + strspn(colon + 1, " "));
                if (!v)
                        abort();
                if (strcasecmp(line, "Cookie") == 0) {
                        char *eq = strchr(v, '=');
                        if (eq) {
                                *eq = '\0';
                                u_map_put(req.map_cookie, v, eq + 1);
                        }
                } else
                        u_map_put(req.map_header, line, v);
        }
        if (body_len > 0 && !memchr(body, 0, body_len)) {
                /* A text body may name the test credentials too ({"token": "$TENANT"} signs in). */
                req.binary_body = substitute(body);
                if (!req.binary_body)
                        abort();
                req.binary_body_length = strlen(req.binary_body);
        } else if (body_len > 0) {
                req.binary_body = malloc(body_len);
                if (!req.binary_body)
                        abort();
                memcpy(req.binary_body, body, body_len);
                req.binary_body_length = body_len;
        }

        FUZZ_ASSERT(api_on_request(&req, &resp, server) == U_CALLBACK_COMPLETE);
        /* Every request is answered, with a status a client can read. */
        FUZZ_ASSERT(resp.status >= 200 && resp.status < 600);
        if (verbose)
                fprintf(stderr, "%s %s -> %ld %.*s\n", req.http_verb, req.url_path, resp.status,
                        (int) MIN(resp.binary_body_length, (size_t) 300), (const char *) resp.binary_body);

        ulfius_clean_request(&req);
        ulfius_clean_response(&resp);
        return 0;
}
