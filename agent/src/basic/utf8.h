/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Text that leaves the daemon (JSON, D-Bus, the journal) must be valid UTF-8: jansson and
 * sd-bus refuse anything else, and one refused string fails a whole reply. Two ways text
 * goes bad: a byte limit cuts a character in half, and helm, the cluster or a client sends
 * bytes that were never UTF-8. The first is prevented by cutting with utf8_prefix_len()
 * (and what is built on it) instead of at a bare byte count; the second is repaired with
 * utf8_escape_invalid() where such text comes in.
 */

#include "basic/macro.h"

/* The replacement character U+FFFD, which stands for each invalid sequence. */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * The length in bytes of the longest prefix of s of at most max bytes that does not end
 * inside a character: a character that would not fit whole, or that the end of s cuts
 * short (as a truncating snprintf() leaves it), is left out entirely. Invalid bytes count
 * as one character each (utf8_escape_invalid() is what repairs them).
 */
size_t utf8_prefix_len(const char *s, size_t max);

/* The longest end of s of at most max bytes that starts on a character boundary (the end of a long output). */
const char *utf8_suffix(const char *s, size_t max);

/* Cuts s in place to at most max bytes, on a character boundary; returns s. */
char *utf8_truncate(char *s, size_t max);

/*
 * For "%.*s": the arguments that print at most max bytes of s, never half a character.
 *     fail(err, "No store with id '%.*s'.", UTF8_PREFIX(id, 40));
 */
#define UTF8_PREFIX(s, max) (int) utf8_prefix_len((s), (max)), (s)

/*
 * snprintf() for text people read: when the output does not fit in n bytes, it is cut
 * before the first character that does not fit whole. Returns buf.
 */
_printf_(3, 4) char *utf8_snprintf(char *buf, size_t n, const char *format, ...);

/* Whether s is valid UTF-8 as jansson and sd-bus take it: shortest forms, no surrogates, at most U+10FFFF. */
bool utf8_is_valid(const char *s);

/*
 * A new string of s with every invalid sequence (a stray byte, an overlong form, a
 * surrogate, a character cut short) replaced by U+FFFD; NULL when out of memory.
 */
char *utf8_escape_invalid(const char *s);

/*
 * utf8_escape_invalid(), then at most max bytes of it on a character boundary: what a
 * writer of bounded text (a reason, an event detail) stores. NULL when out of memory.
 */
char *utf8_strndup_valid(const char *s, size_t max);
