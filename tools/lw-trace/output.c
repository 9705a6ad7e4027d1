// SPDX-License-Identifier: GPL-2.0
/*
 * lw-trace's output emitter (output.h): every record, in its human form or
 * as one JSON object per line.  It keeps the state of the record being
 * written: the stream, the lists and objects open in it, how many members
 * each has (for JSON's commas) and whether the human form of what is open
 * is hidden.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include "output.h"

#define OUT_MAX_DEPTH	8

const char out_json_only[] = { 0 };

static struct {
	FILE *f;			/* this record's stream */
	const char *prog;
	int schema;
	bool json;
	int depth;			/* lists and objects open */
	unsigned int n[OUT_MAX_DEPTH];	/* members written, per depth */
	bool hide[OUT_MAX_DEPTH];	/* no human form at this depth */
} out = { .prog = "lw-trace", .schema = 1 };

void out_init(const char *prog, int schema, bool json)
{
	out.prog = prog;
	out.schema = schema;
	out.json = json;
}

static bool human_shown(const char *human)
{
	return !out.json && !out.hide[out.depth] && human != OUT_JSON_ONLY;
}

static void json_str(const char *s)
{
	fputc('"', out.f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out.f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out.f, "\\u%04x", c);
		else
			fputc(c, out.f);
	}
	fputc('"', out.f);
}

/* The comma before a member and its name, if it has one. */
static void json_member(const char *key)
{
	if (out.n[out.depth]++)
		fputc(',', out.f);
	if (key)
		fprintf(out.f, "\"%s\":", key);
}

/* The human form of a value, @text. */
static void human_field(const char *key, const char *human, const char *text)
{
	if (!human_shown(human))
		return;
	if (human)
		fprintf(out.f, human, text);
	else
		fprintf(out.f, " %s=%s", key, text);
}

/* A value whose JSON form is @text as it is, or quoted. */
static void scalar(const char *key, const char *human, const char *text,
		   bool quote)
{
	if (!out.json) {
		human_field(key, human, text);
		return;
	}
	json_member(key);
	fprintf(out.f, quote ? "\"%s\"" : "%s", text);
}

void out_uint(const char *key, const char *human, unsigned long long v)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", v);
	scalar(key, human, text, false);
}

void out_int(const char *key, const char *human, long long v)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", v);
	scalar(key, human, text, false);
}

void out_hex(const char *key, const char *human, unsigned long long v)
{
	char text[24];

	snprintf(text, sizeof(text), "0x%llx", v);
	scalar(key, human, text, true);
}

void out_bool(const char *key, const char *human, bool v)
{
	scalar(key, human, v ? "true" : "false", false);
}

void out_str(const char *key, const char *human, const char *v)
{
	if (!out.json) {
		human_field(key, human, v);
		return;
	}
	json_member(key);
	json_str(v);
}

void out_ms(const char *key, const char *human, unsigned long long ns)
{
	size_t n = strlen(key);
	char text[24];

	if (out.json || human) {
		snprintf(text, sizeof(text), "%llu", out.json ? ns : ns / 1000000);
		scalar(key, human, text, false);
		return;
	}
	if (!human_shown(human))
		return;
	if (n > 3 && !strcmp(key + n - 3, "_ns"))
		n -= 3;
	fprintf(out.f, " %.*s=%llums", (int)n, key, ns / 1000000);
}

void out_human(const char *fmt, ...)
{
	va_list ap;

	if (!human_shown(NULL))
		return;
	va_start(ap, fmt);
	vfprintf(out.f, fmt, ap);
	va_end(ap);
}

static void container_begin(const char *key, const char *human, char open)
{
	bool hide = out.hide[out.depth] || human == OUT_JSON_ONLY;

	assert(out.depth + 1 < OUT_MAX_DEPTH);
	if (out.json) {
		json_member(key);
		fputc(open, out.f);
	} else if (!hide && human) {
		fprintf(out.f, human, key ? key : "");
	}
	out.depth++;
	out.n[out.depth] = 0;
	out.hide[out.depth] = hide;
}

static void container_end(const char *human, char close)
{
	bool hide = out.hide[out.depth];

	assert(out.depth > 0);
	out.depth--;
	if (out.json)
		fputc(close, out.f);
	else if (!hide && human)
		fputs(human, out.f);
}

void out_obj_begin(const char *key, const char *human)
{
	container_begin(key, human, '{');
}

void out_obj_end(const char *human)
{
	container_end(human, '}');
}

void out_list_begin(const char *key, const char *human)
{
	container_begin(key, human, '[');
}

void out_list_end(const char *human)
{
	container_end(human, ']');
}

/* A record on stdout: {"v":SCHEMA,"type":@type in JSON. */
void out_begin(const char *type)
{
	out.f = stdout;
	out.depth = 0;
	out.n[0] = 0;
	out.hide[0] = false;
	if (!out.json)
		return;
	fprintf(out.f, "{\"v\":%d,\"type\":\"%s\"", out.schema, type);
	out.n[0] = 2;
}

/* The end of the record (@human ends its human form), flushed. */
void out_end(const char *human)
{
	assert(out.depth == 0);
	if (out.json)
		fputs("}\n", out.f);
	else if (human)
		fputs(human, out.f);
	fflush(out.f);
}

/* An error or a warning, between records: human text goes to stderr. */
static void message(const char *type, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	out_begin(type);
	if (!out.json)
		out.f = stderr;
	out_human("%s: ", out.prog);
	out_str("message", "%s", msg);
	out_end("\n");
}

void out_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message("error", fmt, ap);
	va_end(ap);
}

void out_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	message("warning", fmt, ap);
	va_end(ap);
}

void out_vlog(const char *fmt, va_list ap)
{
	vfprintf(stderr, fmt, ap);
}

void out_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vlog(fmt, ap);
	va_end(ap);
}
