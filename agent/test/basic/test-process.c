/* SPDX-License-Identifier: Apache-2.0 */

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/process.h"
#include "basic/util.h"
#include "tests.h"

/*
 * A stand-in for a helm that outlived the daemon: a process in a group of its own. The test
 * is its parent only to reap it; process_settle() works through a pidfd as it does for a
 * process it never started.
 */
static pid_t start_group(const char *seconds, bool ignore_term)
{
        pid_t pid = fork();

        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                (void) setpgid(0, 0);
                if (ignore_term)
                        (void) signal(SIGTERM, SIG_IGN);
                execlp("sleep", "sleep", seconds, (char *) NULL);
                _exit(127);
        }
        (void) setpgid(pid, pid);
        return pid;
}

/* Reaps pid in the background, as init would reap an orphan, so the pidfd sees it exit. */
static void *reaper(void *p)
{
        (void) waitpid((pid_t) (intptr_t) p, NULL, 0);
        return NULL;
}

TEST(test_start_time_and_age)
{
        uint64_t start, again, age;

        ASSERT_EQ(process_start_time(getpid(), &start), 0);
        ASSERT_EQ(process_start_time(getpid(), &again), 0);
        ASSERT_EQ(start, again);
        ASSERT_EQ(process_age(start, &age), 0);
        ASSERT_TRUE(age < 600 * USEC_PER_SEC); /* this test started a moment ago */
        ASSERT_EQ(process_start_time(0x3fffffff, &start), -ESRCH);
}

TEST(test_settle_waits_for_exit)
{
        pid_t pid = start_group("0.3", false);
        pthread_t t;
        uint64_t start;
        ProcessSettled how;

        ASSERT_EQ(process_start_time(pid, &start), 0);
        ASSERT_EQ(pthread_create(&t, NULL, reaper, (void *) (intptr_t) pid), 0);
        ASSERT_EQ(process_settle(pid, start, 30 * USEC_PER_SEC, USEC_PER_SEC, NULL, &how), 0);
        ASSERT_EQ(how, PROCESS_EXITED);
        pthread_join(t, NULL);
}

TEST(test_settle_ends_what_runs_too_long)
{
        /* Deaf to SIGTERM, as a helm busy in a hook may be: SIGKILL follows after the grace. */
        pid_t pid = start_group("60", true);
        pthread_t t;
        uint64_t start, began = mono_usec();
        ProcessSettled how;

        ASSERT_EQ(process_start_time(pid, &start), 0);
        ASSERT_EQ(pthread_create(&t, NULL, reaper, (void *) (intptr_t) pid), 0);
        ASSERT_EQ(process_settle(pid, start, 200 * USEC_PER_MSEC, 200 * USEC_PER_MSEC, NULL, &how), 0);
        ASSERT_EQ(how, PROCESS_ENDED);
        ASSERT_TRUE(mono_usec() - began < 10 * USEC_PER_SEC);
        pthread_join(t, NULL);
        ASSERT_EQ(kill(pid, 0), -1);
}

TEST(test_settle_leaves_a_reused_pid_alone)
{
        /* The pid is there but started at another time: another process now, never signalled. */
        pid_t pid = start_group("60", false);
        uint64_t start;
        ProcessSettled how;
        int status;

        ASSERT_EQ(process_start_time(pid, &start), 0);
        ASSERT_EQ(process_settle(pid, start + 1, 0, 0, NULL, &how), 0);
        ASSERT_EQ(how, PROCESS_GONE);
        ASSERT_EQ(kill(pid, 0), 0);
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, &status, 0);
        ASSERT_EQ(process_settle(pid, start, 0, 0, NULL, &how), 0);
        ASSERT_EQ(how, PROCESS_GONE);
}

DEFINE_TEST_MAIN(LOG_ERR)
