/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "notify/webhook-sender.h"
#include "tests.h"

static bool private_address(const char *text)
{
        struct sockaddr_storage ss = {};

        if (strchr(text, ':')) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
                a->sin6_family = AF_INET6;
                ASSERT_EQ(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *) &ss;
                a->sin_family = AF_INET;
                ASSERT_EQ(inet_pton(AF_INET, text, &a->sin_addr), 1);
        }
        return webhook_address_is_private((struct sockaddr *) &ss);
}

TEST(test_refused_destinations)
{
        static const char *const refused[] = {
                "127.0.0.1", "127.9.9.9", "10.0.0.1", "10.42.0.7", "172.16.0.1", "172.31.255.255",
                "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
                "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
                "::ffff:169.254.169.254", "::ffff:10.1.2.3",
        };
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                if (!private_address(refused[i]))
                        fprintf(stderr, "%s should be refused\n", refused[i]);
                ASSERT_TRUE(private_address(refused[i]));
        }
}

TEST(test_public_destinations)
{
        static const char *const allowed[] = {
                "8.8.8.8", "1.1.1.1", "172.32.0.1", "192.169.0.1", "100.128.0.1", "11.0.0.1",
                "2001:4860:4860::8888", "2606:4700::1111", "::ffff:8.8.8.8",
        };
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                if (private_address(allowed[i]))
                        fprintf(stderr, "%s should be allowed\n", allowed[i]);
                ASSERT_TRUE(!private_address(allowed[i]));
        }
}

DEFINE_TEST_MAIN(LOG_ERR)
