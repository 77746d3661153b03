// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "jsonwrt.h"

int pi_utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	int n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void jw_escape(FILE *f, const char *bytes)
{
	const unsigned char *s = (const unsigned char *)bytes;

	while (*s) {
		int n = pi_utf8_seq_len(s);

		if (n == 0) {
			fprintf(f, "\\\\x%02x", *s);
			s++;
			continue;
		}
		if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
			/* C1 controls (U+0080-U+009F, e.g. CSI): valid JSON, but escaped
			 * so a consumer printing the string raw cannot drive a terminal */
			fprintf(f, "\\u%04x", s[1]);
			s += 2;
			continue;
		}
		if (n > 1) {
			fwrite(s, 1, (size_t)n, f);
			s += n;
			continue;
		}
		switch (*s) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*s < 0x20 || *s == 0x7f)
				fprintf(f, "\\u%04x", *s);
			else
				fputc(*s, f);
		}
		s++;
	}
}

void jw_init(struct jsonwrt *w, FILE *out, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->pretty = pretty;
}

static void indent(struct jsonwrt *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->out);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->out);
}

static void key(struct jsonwrt *w, const char *k)
{
	if (w->depth > 0 && w->need_comma[w->depth])
		fputc(',', w->out);
	if (w->depth > 0) {
		w->need_comma[w->depth] = true;
		indent(w);
	}
	if (k) {
		fputc('"', w->out);
		jw_escape(w->out, k);
		fputs(w->pretty ? "\": " : "\":", w->out);
	}
}

static void open_(struct jsonwrt *w, const char *k, char c)
{
	key(w, k);
	fputc(c, w->out);
	if (w->depth < JW_MAX_DEPTH - 1)
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_(struct jsonwrt *w, char c)
{
	bool had = w->need_comma[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (had)
		indent(w);
	fputc(c, w->out);
}

void jw_object_open(struct jsonwrt *w, const char *k) { open_(w, k, '{'); }
void jw_object_close(struct jsonwrt *w) { close_(w, '}'); }
void jw_array_open(struct jsonwrt *w, const char *k) { open_(w, k, '['); }
void jw_array_close(struct jsonwrt *w) { close_(w, ']'); }

void jw_string(struct jsonwrt *w, const char *k, const char *bytes)
{
	key(w, k);
	fputc('"', w->out);
	jw_escape(w->out, bytes);
	fputc('"', w->out);
}

void jw_string_or_null(struct jsonwrt *w, const char *k, const char *bytes)
{
	if (bytes)
		jw_string(w, k, bytes);
	else
		jw_null(w, k);
}

void jw_hex(struct jsonwrt *w, const char *k, uint64_t v)
{
	key(w, k);
	fprintf(w->out, "\"0x%" PRIx64 "\"", v);
}

void jw_u64(struct jsonwrt *w, const char *k, uint64_t v)
{
	key(w, k);
	fprintf(w->out, "%" PRIu64, v);
}

void jw_i64(struct jsonwrt *w, const char *k, int64_t v)
{
	key(w, k);
	fprintf(w->out, "%" PRId64, v);
}

void jw_double(struct jsonwrt *w, const char *k, double v)
{
	key(w, k);
	fprintf(w->out, "%.6f", v);
}

void jw_bool(struct jsonwrt *w, const char *k, bool v)
{
	key(w, k);
	fputs(v ? "true" : "false", w->out);
}

void jw_null(struct jsonwrt *w, const char *k)
{
	key(w, k);
	fputs("null", w->out);
}

void jw_end(struct jsonwrt *w)
{
	fputc('\n', w->out);
	fflush(w->out);
}

static char *escape_common(const char *bytes, bool prom)
{
	const unsigned char *s = (const unsigned char *)bytes;
	size_t len = strlen(bytes);
	char *out = malloc(len * 5 + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		int n = pi_utf8_seq_len(s);

		/* C1 controls (U+0080-U+009F, e.g. CSI) are as dangerous as C0 */
		if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
			n = 0;
		if (n > 1) {
			memcpy(o, s, (size_t)n);
			o += n;
			s += n;
			continue;
		}
		if (prom && (*s == '\\' || *s == '"')) {
			*o++ = '\\';
			*o++ = (char)*s;
		} else if (prom && *s == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (n == 0 || *s < 0x20 || *s == 0x7f || (!prom && *s == '\\')) {
			/* prom: a literal backslash must itself be escaped */
			o += sprintf(o, prom ? "\\\\x%02x" : "\\x%02x", *s);
		} else {
			*o++ = (char)*s;
		}
		s++;
	}
	*o = '\0';
	return out;
}

char *pi_escape_text(const char *bytes)
{
	return escape_common(bytes, false);
}

char *pi_escape_prom_label(const char *bytes)
{
	return escape_common(bytes, true);
}
