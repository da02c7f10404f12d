/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Talking to storeagentd over D-Bus: the connection, method calls, and their errors. */

#include <jansson.h>
#include <systemd/sd-bus.h>

#include "basic/macro.h"

/* The system bus, or --bus-address. */
int bus_connect(sd_bus **ret);
/* Prints what went wrong, in words for a person, and returns the exit code that says it to a script. */
int report_error(const sd_bus_error *e, int r);
/* Calls a method whose reply is one string. */
int call_string(sd_bus *bus, const char *method, char **ret, sd_bus_error *error, const char *types, ...);
/* Parses a JSON reply; prints why when it is not JSON. */
int parse_reply(const char *s, json_t **ret);

/* Calls a method whose reply is a JSON document; on failure prints why and returns the exit code (> 0). */
#define CALL_JSON(bus, method, ret, ...)                                                                             \
        ({                                                                                                           \
                _cleanup_(sd_bus_error_free) sd_bus_error _e = SD_BUS_ERROR_NULL;                                    \
                _cleanup_free_ char *_s = NULL;                                                                      \
                int _r = call_string((bus), (method), &_s, &_e, __VA_ARGS__);                                        \
                _r < 0 ? report_error(&_e, _r) : parse_reply(_s, (ret)) < 0 ? EXIT_FAIL : EXIT_OK;                   \
        })
