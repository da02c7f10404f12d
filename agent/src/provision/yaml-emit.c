/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <inttypes.h>
#include <strings.h>
#include <yaml.h>

#include "basic/macro.h"
#include "provision/yaml-emit.h"

typedef struct Buffer {
        char *data;
        size_t size;
} Buffer;

static int buffer_write(void *userdata, unsigned char *chunk, size_t n)
{
        Buffer *b = userdata;
        char *p = realloc(b->data, b->size + n + 1);

        if (!p)
                return 0; /* libyaml: 0 is a write error */
        memcpy(p + b->size, chunk, n);
        b->size += n;
        p[b->size] = '\0';
        b->data = p;
        return 1;
}

/* True when a plain scalar s would not read back as the string s (YAML 1.1 and 1.2 resolvers both). */
static bool needs_quotes(const char *s)
{
        static const char *const words[] = { "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n" };
        char *end;

        if (isempty(s))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasecmp(s, words[i]) == 0)
                        return true;
        if (strcasecmp(s, ".inf") == 0 || strcasecmp(s, "-.inf") == 0 || strcasecmp(s, "+.inf") == 0 ||
            strcasecmp(s, ".nan") == 0)
                return true;
        /* Anything strtod reads whole is a number (decimal, hex, exponent, "0123"); "1_000" and 1.1's
         * sexagesimal "1:20" are numbers to some readers too. */
        (void) strtod(s, &end);
        if (*end == '\0')
                return true;
        if ((isdigit((unsigned char) s[0]) || ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char) s[1]))) &&
            strspn(s + 1, "0123456789_:.") == strlen(s + 1))
                return true;
        return false;
}

static int emit_scalar(yaml_emitter_t *e, const char *text, bool quote)
{
        yaml_event_t ev;

        if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) text, (int) strlen(text), 1, 1,
                                          quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE))
                return -ENOMEM;
        return yaml_emitter_emit(e, &ev) ? 0 : -EIO;
}

static int emit_value(yaml_emitter_t *e, json_t *v)
{
        yaml_event_t ev;
        char num[64];
        int r;

        switch (json_typeof(v)) {
        case JSON_OBJECT: {
                const char *key;
                json_t *member;

                /* An empty mapping in block style has no text at all; "{}" says what it is. */
                if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                         json_object_size(v) ? YAML_BLOCK_MAPPING_STYLE
                                                                             : YAML_FLOW_MAPPING_STYLE) ||
                    !yaml_emitter_emit(e, &ev))
                        return -EIO;
                json_object_foreach(v, key, member) {
                        r = emit_scalar(e, key, needs_quotes(key));
                        if (r < 0)
                                return r;
                        r = emit_value(e, member);
                        if (r < 0)
                                return r;
                }
                if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(e, &ev))
                        return -EIO;
                return 0;
        }
        case JSON_ARRAY: {
                json_t *item;
                size_t i;

                if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                          json_array_size(v) ? YAML_BLOCK_SEQUENCE_STYLE
                                                                             : YAML_FLOW_SEQUENCE_STYLE) ||
                    !yaml_emitter_emit(e, &ev))
                        return -EIO;
                json_array_foreach(v, i, item) {
                        r = emit_value(e, item);
                        if (r < 0)
                                return r;
                }
                if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(e, &ev))
                        return -EIO;
                return 0;
        }
        case JSON_STRING:
                return emit_scalar(e, json_string_value(v), needs_quotes(json_string_value(v)));
        case JSON_INTEGER:
                (void) snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return emit_scalar(e, num, false);
        case JSON_REAL:
                (void) snprintf(num, sizeof num, "%.17g", json_real_value(v));
                return emit_scalar(e, num, false);
        case JSON_TRUE:
                return emit_scalar(e, "true", false);
        case JSON_FALSE:
                return emit_scalar(e, "false", false);
        default:
                return emit_scalar(e, "null", false);
        }
}

int json_to_yaml(json_t *v, char **ret)
{
        yaml_emitter_t e;
        yaml_event_t ev;
        Buffer b = {};
        int r = -EIO;

        assert(v);
        assert(ret);
        if (!yaml_emitter_initialize(&e))
                return -ENOMEM;
        yaml_emitter_set_output(&e, buffer_write, &b);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_width(&e, -1); /* long strings stay on one line */
        if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || !yaml_emitter_emit(&e, &ev))
                goto out;
        if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || !yaml_emitter_emit(&e, &ev))
                goto out;
        r = emit_value(&e, v);
        if (r < 0)
                goto out;
        r = -EIO;
        if (!yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&e, &ev) ||
            !yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&e, &ev) || !yaml_emitter_flush(&e))
                goto out;
        if (!b.data)
                goto out;
        *ret = TAKE_PTR(b.data);
        r = 0;
out:
        yaml_emitter_delete(&e);
        free(b.data);
        return r;
}
