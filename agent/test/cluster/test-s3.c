/* SPDX-License-Identifier: Apache-2.0 */

/* The pieces of the S3 client that need no server: the credentials file, object URLs, error reasons. */

#include "basic/log.h"
#include "basic/util.h"
#include "cluster/s3.h"
#include "tests.h"

static void expect_keys(const char *text, const char *access, const char *secret)
{
        _cleanup_free_ char *a = NULL, *s = NULL;

        ASSERT_EQ(s3_credentials_parse(text, &a, &s), 0);
        ASSERT_STREQ(a, access);
        ASSERT_STREQ(s, secret);
}

TEST(test_credentials_aws_file)
{
        expect_keys("[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = wJalr/K7MDENG+bPx\n",
                    "AKIAEXAMPLE", "wJalr/K7MDENG+bPx");
        /* Comments, blank lines, CRLF, spaces around '=', the short names. */
        expect_keys("# the backups' bucket\r\n\r\n; key\r\naccess_key_id=ak\r\n  secret_access_key =  s e \r\n",
                    "ak", "s e");
        /* The first section's keys win; other keys are ignored. */
        expect_keys("[a]\naws_access_key_id=one\nregion=eu\naws_secret_access_key=x\n[b]\naws_access_key_id=two\n",
                    "one", "x");
        /* A secret may hold '=' (base64). */
        expect_keys("aws_access_key_id=k\naws_secret_access_key=abc==\n", "k", "abc==");
}

TEST(test_credentials_refused)
{
        char *a = NULL, *s = NULL;

        ASSERT_EQ(s3_credentials_parse("", &a, &s), -EINVAL);
        ASSERT_EQ(s3_credentials_parse("aws_access_key_id=k\n", &a, &s), -EINVAL);
        ASSERT_EQ(s3_credentials_parse("aws_secret_access_key=s\n", &a, &s), -EINVAL);
        ASSERT_EQ(s3_credentials_parse("aws_access_key_id=k\naws_secret_access_key=\n", &a, &s), -EINVAL);
        ASSERT_EQ(s3_credentials_parse("just a line\n", &a, &s), -EINVAL);
        /* curl takes "key:secret": a key with ':' would move the split. */
        ASSERT_EQ(s3_credentials_parse("aws_access_key_id=a:b\naws_secret_access_key=s\n", &a, &s), -EINVAL);
        /* The second section's keys do not fill in the first's. */
        ASSERT_EQ(s3_credentials_parse("[a]\naws_access_key_id=k\n[b]\naws_secret_access_key=s\n", &a, &s), -EINVAL);
        ASSERT_TRUE(!a && !s);
}

TEST(test_object_url)
{
        S3Target t = { .endpoint = "http://127.0.0.1:9000/", .bucket = "backups" };
        _cleanup_free_ char *u1 = NULL, *u2 = NULL;

        ASSERT_EQ(s3_object_url(&t, "p/shop1/20261201T195100Z-0123/manifest.json", &u1), 0);
        ASSERT_STREQ(u1, "http://127.0.0.1:9000/backups/p/shop1/20261201T195100Z-0123/manifest.json");
        t.endpoint = "https://s3.eu-west-1.amazonaws.com";
        ASSERT_EQ(s3_object_url(&t, "k", &u2), 0);
        ASSERT_STREQ(u2, "https://s3.eu-west-1.amazonaws.com/backups/k");
}

TEST(test_error_reason)
{
        static const char body[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
                                   "<Message>The request signature we calculated does not match</Message>"
                                   "<RequestId>1</RequestId></Error>";
        char reason[256];

        s3_error_reason(403, body, strlen(body), reason, sizeof reason);
        ASSERT_STREQ(reason, "HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match");
        s3_error_reason(404, "<Error><Code>NoSuchBucket</Code></Error>", 40, reason, sizeof reason);
        ASSERT_STREQ(reason, "HTTP 404 NoSuchBucket");
        /* No XML (a proxy's page, a HEAD): the status alone. */
        s3_error_reason(502, "<html>Bad gateway</html>", 24, reason, sizeof reason);
        ASSERT_STREQ(reason, "HTTP 502");
        s3_error_reason(500, NULL, 0, reason, sizeof reason);
        ASSERT_STREQ(reason, "HTTP 500");
        /* A body cut before its closing tag says nothing it does not hold. */
        s3_error_reason(403, "<Error><Code>AccessDen", 22, reason, sizeof reason);
        ASSERT_STREQ(reason, "HTTP 403");
}

DEFINE_TEST_MAIN(LOG_CRIT)
