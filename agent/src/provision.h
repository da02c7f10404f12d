/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Provisioning: the task handlers that turn a queued task into Kubernetes
 * objects and a Helm release, and watch the cluster until the store is READY,
 * FAILED or gone. Also answers the API's questions about the cluster.
 */

#include "api.h"
#include "config.h"
#include "runner.h"

typedef struct Provisioner Provisioner;

int provisioner_new(Provisioner **ret, const Config *config);
Provisioner *provisioner_free(Provisioner *p);
void provisioner_reload(Provisioner *p, const Config *config);
/* Starts the reconciler: reports namespaces labelled as ours with no store, repairs releases a killed helm left pending. */
int provisioner_start(Provisioner *p, const char *db_path);

/* TaskHandler for the runner; userdata is the Provisioner. */
int provisioner_run_task(Worker *w, Task *t, void *userdata);

void provisioner_api_hooks(Provisioner *p, ApiHooks *ret);
