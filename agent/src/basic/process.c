/* SPDX-License-Identifier: Apache-2.0 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "basic/process.h"
#include "basic/util.h"

#define SLICE_MSEC 100
#define KILL_WAIT_USEC (10 * USEC_PER_SEC)

int process_start_time(pid_t pid, uint64_t *ret)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        const char *p;
        uint64_t v;
        int r;

        assert(ret);
        if (pid <= 0)
                return -EINVAL;
        xsprintf(path, "/proc/%d/stat", (int) pid);
        r = read_file(path, 4096, &text, NULL);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        /* The command name (field 2) may hold spaces and parentheses: count fields after its last ')'. */
        p = strrchr(text, ')');
        if (!p)
                return -EBADMSG;
        /* From the ')' that ends field 2, each step moves to the space before the next field. */
        for (int field = 2; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        if (sscanf(p + 1, "%" SCNu64, &v) != 1)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int process_age(uint64_t start_time, uint64_t *ret_usec)
{
        struct timespec ts;
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t now, started;

        assert(ret_usec);
        if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
                return -EIO;
        /* /proc counts a process's start on the boot-time clock. */
        now = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
        started = start_time * USEC_PER_SEC / (uint64_t) hz;
        *ret_usec = now > started ? now - started : 0;
        return 0;
}

static int pidfd_open_(pid_t pid)
{
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? -errno : fd;
}

/* Polls the pidfd until the process exits (1), deadline passes (0) or *cancel rises (-ECANCELED). */
static int wait_exit(int pidfd, uint64_t deadline, const atomic_bool *cancel)
{
        for (;;) {
                struct pollfd p = { .fd = pidfd, .events = POLLIN };
                uint64_t now = mono_usec();
                int k;

                if (cancel && atomic_load(cancel))
                        return -ECANCELED;
                if (now >= deadline)
                        return 0;
                k = poll(&p, 1, (int) MIN((deadline - now) / USEC_PER_MSEC + 1, (uint64_t) SLICE_MSEC));
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k > 0)
                        return 1;
        }
}

static void signal_group(int pidfd, pid_t pid, int sig)
{
        /* The leader through its pidfd (never a stranger), then the rest of its group (helm's children). */
        (void) syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
        (void) kill(-pid, sig);
}

int process_settle(pid_t pid, uint64_t start_time, uint64_t wait_usec, uint64_t grace_usec,
                   const atomic_bool *cancel, ProcessSettled *ret)
{
        _cleanup_close_ int pidfd = -EBADF;
        uint64_t now_start;
        int r;

        assert(ret);
        if (pid <= 0)
                return -EINVAL;
        pidfd = pidfd_open_(pid);
        if (pidfd == -ESRCH) {
                *ret = PROCESS_GONE;
                return 0;
        }
        if (pidfd < 0)
                return pidfd;
        /* Read after the pidfd is open: if the start time matches now, the pidfd is that process. */
        r = process_start_time(pid, &now_start);
        if (r == -ESRCH || (r >= 0 && now_start != start_time)) {
                *ret = PROCESS_GONE;
                return 0;
        }
        if (r < 0)
                return r;

        r = wait_exit(pidfd, mono_usec() + wait_usec, cancel);
        if (r < 0)
                return r;
        if (r > 0) {
                *ret = PROCESS_EXITED;
                return 0;
        }
        signal_group(pidfd, pid, SIGTERM);
        r = wait_exit(pidfd, mono_usec() + grace_usec, NULL);
        if (r < 0)
                return r;
        if (r == 0) {
                signal_group(pidfd, pid, SIGKILL);
                r = wait_exit(pidfd, mono_usec() + KILL_WAIT_USEC, NULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        return -ETIME;
        }
        *ret = PROCESS_ENDED;
        return 0;
}
