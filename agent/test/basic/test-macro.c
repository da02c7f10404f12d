/* SPDX-License-Identifier: Apache-2.0 */

#include <sys/wait.h>

#include "basic/macro.h"
#include "tests.h"

TEST(test_snprintf_ok)
{
        char buf[8];

        ASSERT_TRUE(snprintf_ok(buf, sizeof buf, "%s-%d", "ab", 1234) == buf);
        ASSERT_STREQ(buf, "ab-1234"); /* 7 characters and the NUL: just fits */
        ASSERT_TRUE(snprintf_ok(buf, sizeof buf, "%s-%d", "ab", 12345) == NULL);
        ASSERT_TRUE(snprintf_ok(buf, sizeof buf, "%s", "") == buf);
        ASSERT_STREQ(buf, "");
}

TEST(test_xsprintf)
{
        char buf[8];
        pid_t pid;
        int status;

        xsprintf(buf, "%u", 1234567u);
        ASSERT_STREQ(buf, "1234567");

        /* One character too many aborts rather than going on with a cut string. */
        fflush(NULL);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                (void) freopen("/dev/null", "w", stderr);
                xsprintf(buf, "%u", 12345678u);
                _exit(0);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

DEFINE_TEST_MAIN(LOG_ERR)
