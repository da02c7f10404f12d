/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What bus.c (connection, signals, lifecycle) and bus-method.c (the methods)
 * share. It does not include bus/bus.h, which only declares the type, so the
 * two modules do not include each other.
 */

#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "core/db.h"
#include "core/store.h"

/* Pages of stores read at a time, for ListStores and for the StoreChanged signals. */
#define LIST_PAGE 500

typedef struct Bus Bus;

struct Bus {
        sd_event *event;
        sd_bus *bus;
        sd_event_source *change_timer;
        sd_event_source *reconnect_timer;
        uint64_t reconnect_delay;
        Db *db; /* the main thread's own connection */
        StoreLimits limits;
        void (*on_queued)(void *userdata);
        void *userdata;
        uint64_t seen_counter;
        int64_t last_seq;
        uint64_t calls;
        uint64_t calls_reported;
};

/* The org.storeagent.Agent1 interface: methods, the Version property and the StoreChanged signal. */
extern const sd_bus_vtable bus_agent_vtable[];
