/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdio.h>

#include "core/config.h"

#define RENDER_PLACEHOLDER "<generated>"

/*
 * Writes what the agent would put into the cluster for a new store called
 * name under config, as YAML documents separated by "---": the namespace,
 * ResourceQuota, LimitRange, NetworkPolicies, the credentials Secret (its
 * passwords shown as RENDER_PLACEHOLDER) and, last, the Helm values. id stands
 * in for the store id, which is only made when the store is created. Touches
 * no cluster. The name must be valid (store_name_validate()).
 */
int provision_render(const Config *config, const char *name, const char *id, FILE *f);
