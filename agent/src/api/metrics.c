/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>
#include <pthread.h>

#include "api/metrics.h"

static const double buckets[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };

typedef struct Series {
        struct Series *next;
        const char *method;
        const char *route;
        int status;
        uint64_t count;
        double sum;
        uint64_t bucket[ELEMENTSOF(buckets)];
} Series;

struct Metrics {
        pthread_mutex_t lock;
        Series *series;
};

int metrics_new(Metrics **ret)
{
        Metrics *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        pthread_mutex_init(&m->lock, NULL);
        *ret = m;
        return 0;
}

Metrics *metrics_free(Metrics *m)
{
        if (!m)
                return NULL;
        for (Series *s = m->series, *n; s; s = n) {
                n = s->next;
                free(s);
        }
        pthread_mutex_destroy(&m->lock);
        free(m);
        return NULL;
}

void metrics_observe_request(Metrics *m, const char *method, const char *route, int status, double seconds)
{
        Series *s;

        pthread_mutex_lock(&m->lock);
        for (s = m->series; s; s = s->next)
                if (s->status == status && s->route == route && streq(s->method, method))
                        break;
        if (!s) {
                s = calloc(1, sizeof *s);
                if (!s) {
                        pthread_mutex_unlock(&m->lock);
                        return;
                }
                /* Methods come from a fixed set; keep a static copy so the pointer stays valid. */
                static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
                s->method = "OTHER";
                for (size_t i = 0; i < ELEMENTSOF(methods); i++)
                        if (streq(methods[i], method))
                                s->method = methods[i];
                s->route = route;
                s->status = status;
                s->next = m->series;
                m->series = s;
        }
        s->count++;
        s->sum += seconds;
        for (size_t i = 0; i < ELEMENTSOF(buckets); i++)
                if (seconds <= buckets[i])
                        s->bucket[i]++;
        pthread_mutex_unlock(&m->lock);
}

void metrics_write_requests(Metrics *m, FILE *f)
{
        pthread_mutex_lock(&m->lock);
        fputs("# HELP storeagent_http_requests_total HTTP requests by method, route and status code.\n"
              "# TYPE storeagent_http_requests_total counter\n",
              f);
        for (Series *s = m->series; s; s = s->next)
                fprintf(f, "storeagent_http_requests_total{method=\"%s\",route=\"%s\",code=\"%d\"} %" PRIu64 "\n",
                        s->method, s->route, s->status, s->count);
        fputs("# HELP storeagent_http_request_duration_seconds Time from request to response.\n"
              "# TYPE storeagent_http_request_duration_seconds histogram\n",
              f);
        for (Series *s = m->series; s; s = s->next) {
                for (size_t i = 0; i < ELEMENTSOF(buckets); i++)
                        fprintf(f,
                                "storeagent_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",code="
                                "\"%d\",le=\"%g\"} %" PRIu64 "\n",
                                s->method, s->route, s->status, buckets[i], s->bucket[i]);
                fprintf(f,
                        "storeagent_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",code=\"%d\","
                        "le=\"+Inf\"} %" PRIu64 "\n",
                        s->method, s->route, s->status, s->count);
                fprintf(f,
                        "storeagent_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\",code=\"%d\"} %.6f\n",
                        s->method, s->route, s->status, s->sum);
                fprintf(f,
                        "storeagent_http_request_duration_seconds_count{method=\"%s\",route=\"%s\",code=\"%d\"} "
                        "%" PRIu64 "\n",
                        s->method, s->route, s->status, s->count);
        }
        pthread_mutex_unlock(&m->lock);
}
