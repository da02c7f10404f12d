/* SPDX-License-Identifier: Apache-2.0 */

#include <string.h>
#include <strings.h>

#include "basic/names.h"

int store_name_validate(const char *name, const char **ret_why)
{
        const char *why = NULL;
        size_t n;

        if (isempty(name))
                why = "Store name must not be empty.";
        else if ((n = strlen(name)) > STORE_NAME_MAX)
                why = "Store name must be at most 40 characters long.";
        else if (!(name[0] >= 'a' && name[0] <= 'z'))
                why = "Store name must start with a lowercase letter.";
        else if (name[n - 1] == '-')
                why = "Store name must end with a lowercase letter or a digit.";
        else
                for (size_t i = 0; i < n; i++) {
                        char c = name[i];
                        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                                why = "Store name may contain only lowercase letters, digits and '-'.";
                                break;
                        }
                }

        if (why) {
                if (ret_why)
                        *ret_why = why;
                return -EINVAL;
        }
        return 0;
}

bool object_name_is_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i < n; i++) {
                bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');
                bool edge = i == 0 || i == n - 1 || s[i - 1] == '.' || s[i + 1] == '.';
                if (!alnum && (edge || (s[i] != '-' && s[i] != '.')))
                        return false;
        }
        return true;
}

/* Semantic version "MAJOR.MINOR.PATCH" with an optional "-prerelease" of [0-9A-Za-z.-]. */
bool chart_version_is_valid(const char *v)
{
        int parts = 0;
        const char *p = v;

        if (isempty(v) || strlen(v) > 64)
                return false;
        for (;;) {
                if (!(*p >= '0' && *p <= '9'))
                        return false;
                while (*p >= '0' && *p <= '9')
                        p++;
                parts++;
                if (*p == '.' && parts < 3) {
                        p++;
                        continue;
                }
                break;
        }
        if (parts != 3)
                return false;
        if (*p == '\0')
                return true;
        if (*p != '-' || p[1] == '\0')
                return false;
        for (p++; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      *p == '.' || *p == '-'))
                        return false;
        return true;
}

bool host_name_listed(const char *list, const char *name, size_t len)
{
        assert(name);

        for (const char *p = list; p && *p;) {
                size_t n, m;

                p += strspn(p, " ");
                n = strcspn(p, " ");
                m = n > 1 && p[n - 1] == '.' ? n - 1 : n;
                if (m > 0 && m == len && strncasecmp(p, name, len) == 0)
                        return true;
                p += n;
        }
        return false;
}
