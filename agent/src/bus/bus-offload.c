/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Methods whose work asks the cluster: the Kubernetes client blocks, up to its timeout on an API server
 * that does not answer, and the main loop must not (it answers every other caller, signals and the
 * watchdog). The work runs on a thread of the call's own with a database connection of its own; the
 * reply is sent from the main loop, woken through an eventfd, since sd-bus is not thread-safe. At most
 * limits.max_cluster_calls at once; more get org.storeagent.Error.TryAgain.
 */

#include <inttypes.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "basic/dbus-names.h"
#include "basic/log.h"
#include "basic/util.h"
#include "bus/bus-internal.h"

struct BusCall {
        BusCall *next;
        Bus *bus;
        sd_bus_message *message; /* referenced and released on the main loop only */
        BusWorkFn work;
        BusReplyFn reply;
        void *userdata;
        void (*free_userdata)(void *userdata);
        json_t *result;
        int r;
};

static void bus_call_free(BusCall *c)
{
        if (!c)
                return;
        if (c->free_userdata)
                c->free_userdata(c->userdata);
        json_decref(c->result);
        free(c);
}

static void *bus_call_main(void *userdata)
{
        BusCall *c = userdata;
        BusOffloads *o = &c->bus->offloads;
        _cleanup_(db_closep) Db *db = NULL;
        uint64_t one = 1;

        c->r = db_open(c->bus->database, &db);
        if (c->r >= 0)
                c->r = c->work(db, c->userdata, &c->result);

        pthread_mutex_lock(&o->lock);
        c->next = o->done;
        o->done = c;
        o->running--;
        pthread_cond_broadcast(&o->cond);
        pthread_mutex_unlock(&o->lock);
        (void) !write(o->efd, &one, sizeof one);
        return NULL;
}

/* On the main loop: the replies of the calls whose work ended. */
static int on_calls_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Bus *b = userdata;
        BusCall *done;
        uint64_t n;

        (void) !read(fd, &n, sizeof n);
        pthread_mutex_lock(&b->offloads.lock);
        done = TAKE_PTR(b->offloads.done);
        pthread_mutex_unlock(&b->offloads.lock);
        while (done) {
                BusCall *c = done;
                int r;

                done = c->next;
                r = c->reply(b, c->message, c->r, c->result, c->userdata);
                if (r < 0) {
                        /* What an sd-bus method handler's error return would have sent. */
                        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                        (void) sd_bus_error_set_errno(&e, r);
                        (void) sd_bus_reply_method_error(c->message, &e);
                }
                sd_bus_message_unref(c->message);
                bus_call_free(c);
        }
        return 0;
}

int bus_offloads_init(Bus *b, uint64_t max)
{
        BusOffloads *o = &b->offloads;
        int r;

        *o = (BusOffloads) { .max = max, .efd = -EBADF };
        pthread_mutex_init(&o->lock, NULL);
        pthread_cond_init(&o->cond, NULL);
        o->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (o->efd < 0)
                return -errno;
        r = sd_event_add_io(b->event, &o->source, o->efd, EPOLLIN, on_calls_done, b);
        if (r < 0)
                o->efd = safe_close(o->efd);
        return r < 0 ? r : 0;
}

void bus_offloads_done(Bus *b)
{
        BusOffloads *o = &b->offloads;
        BusCall *done;

        /* The work ends by itself: the cluster client's timeout bounds it. */
        pthread_mutex_lock(&o->lock);
        while (o->running > 0)
                pthread_cond_wait(&o->cond, &o->lock);
        done = TAKE_PTR(o->done);
        pthread_mutex_unlock(&o->lock);
        while (done) {
                BusCall *c = done;
                done = c->next;
                sd_bus_message_unref(c->message);
                bus_call_free(c);
        }
        sd_event_source_disable_unref(o->source);
        safe_close(o->efd);
        pthread_cond_destroy(&o->cond);
        pthread_mutex_destroy(&o->lock);
}

int bus_offload(Bus *b, sd_bus_message *m, BusWorkFn work, BusReplyFn reply, void *userdata,
                void (*free_userdata)(void *userdata), sd_bus_error *error)
{
        BusOffloads *o = &b->offloads;
        pthread_attr_t attr;
        pthread_t t;
        BusCall *c;
        int r;

        c = calloc(1, sizeof *c);
        if (!c) {
                if (free_userdata)
                        free_userdata(userdata);
                return -ENOMEM;
        }
        *c = (BusCall) { .bus = b, .work = work, .reply = reply, .userdata = userdata,
                         .free_userdata = free_userdata };
        pthread_mutex_lock(&o->lock);
        if (o->running >= o->max) {
                pthread_mutex_unlock(&o->lock);
                bus_call_free(c);
                return sd_bus_error_setf(error, STOREAGENT_ERROR_TRY_AGAIN,
                                         "%" PRIu64 " calls that read the cluster are running "
                                         "(limits.max_cluster_calls); try again shortly.", o->max);
        }
        o->running++;
        pthread_mutex_unlock(&o->lock);

        c->message = sd_bus_message_ref(m);
        (void) pthread_attr_init(&attr);
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = -pthread_create(&t, &attr, bus_call_main, c);
        (void) pthread_attr_destroy(&attr);
        if (r < 0) {
                pthread_mutex_lock(&o->lock);
                o->running--;
                pthread_cond_broadcast(&o->cond);
                pthread_mutex_unlock(&o->lock);
                sd_bus_message_unref(c->message);
                bus_call_free(c);
                return r;
        }
        /* Answered later, from on_calls_done(). */
        return 1;
}
