/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The daemon's D-Bus names: the bus name, object path and interface, the group
 * allowed to call it, and the error names it replies with. Shared by the
 * daemon's bus side and storectl, which links nothing else of the daemon.
 */

#define STOREAGENT_BUS_NAME "org.storeagent.Agent1"
#define STOREAGENT_BUS_PATH "/org/storeagent/Agent1"
#define STOREAGENT_BUS_INTERFACE "org.storeagent.Agent1"

/* The group whose members may call the interface as admins (root always may); also named in the D-Bus policy. */
#define STOREAGENT_ADMIN_GROUP "storeagent-admin"
/* The group whose members may call it as the tenant account of their user name, when an operator made one. */
#define STOREAGENT_TENANT_GROUP "storeagent-tenant"

#define STOREAGENT_ERROR_NAME_TAKEN "org.storeagent.Error.NameTaken"
#define STOREAGENT_ERROR_NOT_FOUND "org.storeagent.Error.NotFound"
#define STOREAGENT_ERROR_BUSY "org.storeagent.Error.Busy"
#define STOREAGENT_ERROR_INVALID_STATE "org.storeagent.Error.InvalidState"
#define STOREAGENT_ERROR_LIMIT_REACHED "org.storeagent.Error.LimitReached"
#define STOREAGENT_ERROR_INVALID_ARGUMENT "org.storeagent.Error.InvalidArgument"
/* The database stayed locked past its busy timeout; nothing was changed, the call may be repeated. */
#define STOREAGENT_ERROR_TRY_AGAIN "org.storeagent.Error.TryAgain"
/* The daemon's storage (its database's file system) is full; nothing was changed until space is freed. */
#define STOREAGENT_ERROR_STORAGE_FULL "org.storeagent.Error.StorageFull"
#define STOREAGENT_ERROR_STORAGE_READ_ONLY "org.storeagent.Error.StorageReadOnly"
/* A tenant asked for what only an admin may do. */
#define STOREAGENT_ERROR_ACCESS_DENIED "org.storeagent.Error.AccessDenied"
