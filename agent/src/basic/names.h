/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "basic/macro.h"

/*
 * Store names become a DNS label in three places: the namespace "store-<name>",
 * the Helm release "<name>" and the host "<name>.<base domain>". The chart derives
 * object names such as "<name>-mysql" (a StatefulSet, whose pods need a name of at
 * most 63 characters including a revision hash label) and "<name>-setup-r<rev>", so
 * names stay well below the 63-character label limit.
 */
#define STORE_NAME_MAX 40

/* Returns 0 when valid; otherwise -EINVAL and a sentence for the user in why (static text). */
int store_name_validate(const char *name, const char **ret_why);

/* Helm release revisions and chart versions the API accepts. */
bool chart_version_is_valid(const char *v);

/* A Kubernetes object name (DNS-1123 subdomain): lower-case letters, digits, '-' and '.', at most 253
 * characters, each dot-separated label starting and ending with a letter or digit. */
bool object_name_is_valid(const char *s);

/* Whether the len characters at name are one of list's space-separated host names, case aside and an entry's
 * trailing dot aside (a fully qualified name names the same host). A NULL list holds none. */
bool host_name_listed(const char *list, const char *name, size_t len);
