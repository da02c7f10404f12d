/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>

/*
 * Writes a JSON value as one YAML document (block style, keys in their JSON
 * order, no "---" marker). Strings that YAML would read as something else
 * (numbers, booleans, null, "") are quoted, so the document reads back as the
 * same JSON. Returns 0 and the text in *ret, or a negative errno.
 */
int json_to_yaml(json_t *v, char **ret);
