/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lw-trace's output: one emitter for every record it prints, in the human
 * form or as NDJSON (--json), chosen once by out_init().  A record is a
 * JSON object on one line, {"v":SCHEMA,"type":TYPE,...}, or human text;
 * each call below gives both forms of one piece of it, so that the two
 * cannot drift apart:
 *
 *	out_begin("misuse");
 *	out_str("kind", OUT_JSON_ONLY, "fault");	"kind":"fault"
 *	out_hex("addr", OUT_KV, addr);			 addr=0x7f...
 *	out_uint("tid", " by tid %s", tid);		 by tid 121
 *	out_human(" (%d pages)", n);			human text only
 *	out_end("\n");
 *
 * @key is the JSON member's name (NULL for an element of a list).  @human
 * is the human form, a printf format given one string: for a value, the
 * value as text (numbers in decimal, hex as 0x..., a string as it is);
 * for a list or an object, its key.  OUT_KV (NULL) prints " key=value" for
 * a value and nothing for a list or an object; OUT_JSON_ONLY prints
 * nothing, and for a list or an object hides everything inside it from
 * the human form.  out_human() is text of the human form alone; the @human
 * of an end is printed as it is.
 *
 * Errors and warnings are records too: {"v":..,"type":"error" (or
 * "warning"),"message":"..."} on stdout, or "PROG: message" on stderr.
 * out_log() is the -v log, as it is on stderr in both forms.
 */
#ifndef __LWT_OUTPUT_H
#define __LWT_OUTPUT_H

#include <stdarg.h>
#include <stdbool.h>

extern const char out_json_only[];

#define OUT_KV		NULL		/* human: " key=value" */
#define OUT_JSON_ONLY	out_json_only	/* human: nothing */

void out_init(const char *prog, int schema, bool json);

void out_begin(const char *type);
void out_end(const char *human);

void out_uint(const char *key, const char *human, unsigned long long v);
void out_int(const char *key, const char *human, long long v);
void out_hex(const char *key, const char *human, unsigned long long v);
void out_bool(const char *key, const char *human, bool v);
void out_str(const char *key, const char *human, const char *v);
/* ns in JSON, ms in human form; OUT_KV drops a "_ns" key's suffix: " age=4ms" */
void out_ms(const char *key, const char *human, unsigned long long ns);
void out_human(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void out_obj_begin(const char *key, const char *human);
void out_obj_end(const char *human);
void out_list_begin(const char *key, const char *human);
void out_list_end(const char *human);

void out_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_vlog(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif /* __LWT_OUTPUT_H */
