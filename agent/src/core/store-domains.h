/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A store's own domains: hosts a merchant points at the store, served by its Ingress beside
 * <name>.<base_domain>, each with its own certificate when stores are https. One of them may be the
 * primary domain, the host the shop's URLs (WordPress's home and siteurl) use; none: the store's own
 * host. Every change is applied with an upgrade to the store's current chart version, as settings are.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/db.h"
#include "core/store.h"

/* RFC 1035: a host name is at most 253 characters, a label at most 63. */
#define STORE_DOMAIN_MAX 253U

/* 0 when domain is a lowercase host name a store may have (labels of a-z, 0-9 and '-', at least two,
 * a top-level label that is not all digits: no IP address, no wildcard); ERROR_INVALID_REQUEST with a
 * message saying why not. */
int store_domain_check(const char *domain, char *msg, size_t msg_len);

/* The store's domains, [{"domain", "primary", "created_at"}] oldest first, and its primary domain
 * (NULL: none, the store's own host). No visibility check: for the provisioner. */
int store_domains_of(Db *db, const char *id, json_t **ret_items, char **ret_primary);

/* {"items": [...], "primary": domain or null} of a store the caller can see (ERROR_NOT_FOUND otherwise). */
int store_domains_get(Db *db, const Caller *caller, const char *id, json_t **ret, StoreError *err);

/* Adds domain to the store (primary: also makes it the primary one) and queues the redeploy that serves
 * it. Refuses (ERROR_INVALID_REQUEST) a bad host name, the store's own host and other hosts under
 * stores.base_domain (those of the store's own host are its own), ERROR_DOMAIN_TAKEN a domain of
 * another store or one the store has, ERROR_DOMAIN_CAP past stores.domains.max_per_store. */
int store_domain_add(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                     const char *domain, bool primary, Store **ret, StoreError *err);

/* Removes one of the store's domains (the primary one too: the store's own host is primary again). */
int store_domain_remove(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                        const char *domain, Store **ret, StoreError *err);

/* Makes one of the store's domains the primary one; NULL: the store's own host. */
int store_domain_set_primary(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                             const char *domain, Store **ret, StoreError *err);
