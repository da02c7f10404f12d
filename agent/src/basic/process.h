/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Processes that are not our children: a helm an earlier, killed instance of the daemon
 * started. A pid alone may name another process by now; the pid and the start time
 * (/proc/PID/stat field 22, clock ticks after boot) together name one process for good.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/macro.h"

/* The start time of pid in clock ticks after boot; -ESRCH when there is no such process. */
int process_start_time(pid_t pid, uint64_t *ret);

/* How long ago a process that started at start_time (clock ticks after boot) started. */
int process_age(uint64_t start_time, uint64_t *ret_usec);

/* How process_settle() ended. */
typedef enum ProcessSettled {
        PROCESS_GONE,    /* not running (or the pid names another process now) */
        PROCESS_EXITED,  /* ran, and ended by itself while we waited */
        PROCESS_ENDED,   /* ran past wait_usec: its process group got SIGTERM, then SIGKILL */
} ProcessSettled;

/*
 * Waits up to wait_usec for the process (pid, start_time) to exit; past that, sends its process
 * group SIGTERM and, grace_usec later, SIGKILL, and waits for it to go. Works on any process of
 * ours, child or not (through a pidfd). -ECANCELED when *cancel turns true while waiting (the
 * process is left alone then), -ETIME when it would not die even of SIGKILL within seconds.
 */
int process_settle(pid_t pid, uint64_t start_time, uint64_t wait_usec, uint64_t grace_usec,
                   const atomic_bool *cancel, ProcessSettled *ret);
