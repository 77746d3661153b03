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

/*
 * Output goes through the unlocked stdio calls: the writers are
 * single-threaded, and --pages --json writes a few hundred bytes for
 * each of millions of pages, so per-byte locking and printf dominate.
 */
static void put(FILE *f, const char *s, size_t n)
{
	fwrite_unlocked(s, 1, n, f);
}

static void puts_(FILE *f, const char *s)
{
	put(f, s, strlen(s));
}

/* bytes that go out as they are: printable ASCII but '"' and '\\' */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

void jw_escape(FILE *f, const char *bytes)
{
	const unsigned char *s = (const unsigned char *)bytes;
	char buf[8];

	while (*s) {
		const unsigned char *run = s;
		int n;

		while (plain(*s))
			s++;
		if (s > run)
			put(f, (const char *)run, (size_t)(s - run));
		if (!*s)
			break;
		n = pi_utf8_seq_len(s);
		if (n == 0) {
			snprintf(buf, sizeof(buf), "\\\\x%02x", *s);
			puts_(f, buf);
			s++;
			continue;
		}
		if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
			/* C1 controls (U+0080-U+009F, e.g. CSI): valid JSON, but escaped
			 * so a consumer printing the string raw cannot drive a terminal */
			snprintf(buf, sizeof(buf), "\\u%04x", s[1]);
			puts_(f, buf);
			s += 2;
			continue;
		}
		if (n > 1) {
			put(f, (const char *)s, (size_t)n);
			s += n;
			continue;
		}
		switch (*s) {
		case '"': puts_(f, "\\\""); break;
		case '\\': puts_(f, "\\\\"); break;
		case '\n': puts_(f, "\\n"); break;
		case '\t': puts_(f, "\\t"); break;
		case '\r': puts_(f, "\\r"); break;
		default:
			/* control bytes and DEL */
			snprintf(buf, sizeof(buf), "\\u%04x", *s);
			puts_(f, buf);
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
	static const char spaces[] = "\n                                ";
	size_t n = 1 + 2 * (size_t)w->depth;

	if (!w->pretty)
		return;
	if (n > sizeof(spaces) - 1)
		n = sizeof(spaces) - 1;
	put(w->out, spaces, n);
}

static void key(struct jsonwrt *w, const char *k)
{
	if (w->depth > 0 && w->need_comma[w->depth])
		putc_unlocked(',', w->out);
	if (w->depth > 0) {
		w->need_comma[w->depth] = true;
		indent(w);
	}
	if (k) {
		putc_unlocked('"', w->out);
		jw_escape(w->out, k);
		if (w->pretty)
			put(w->out, "\": ", 3);
		else
			put(w->out, "\":", 2);
	}
}

static void open_(struct jsonwrt *w, const char *k, char c)
{
	key(w, k);
	putc_unlocked(c, w->out);
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
	putc_unlocked(c, w->out);
}

void jw_object_open(struct jsonwrt *w, const char *k) { open_(w, k, '{'); }
void jw_object_close(struct jsonwrt *w) { close_(w, '}'); }
void jw_array_open(struct jsonwrt *w, const char *k) { open_(w, k, '['); }
void jw_array_close(struct jsonwrt *w) { close_(w, ']'); }

void jw_string(struct jsonwrt *w, const char *k, const char *bytes)
{
	key(w, k);
	putc_unlocked('"', w->out);
	jw_escape(w->out, bytes);
	putc_unlocked('"', w->out);
}

void jw_string_or_null(struct jsonwrt *w, const char *k, const char *bytes)
{
	if (bytes)
		jw_string(w, k, bytes);
	else
		jw_null(w, k);
}

/* digits of v in base 10 or 16, right-aligned in buf; returns the first */
static char *digits(uint64_t v, unsigned int base, char *end)
{
	char *p = end;

	do {
		*--p = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	return p;
}

void jw_hex(struct jsonwrt *w, const char *k, uint64_t v)
{
	char buf[24], *end = buf + sizeof(buf) - 1, *p;

	key(w, k);
	*end = '"';
	p = digits(v, 16, end);
	*--p = 'x';
	*--p = '0';
	*--p = '"';
	put(w->out, p, (size_t)(end + 1 - p));
}

void jw_u64(struct jsonwrt *w, const char *k, uint64_t v)
{
	char buf[24], *end = buf + sizeof(buf), *p;

	key(w, k);
	p = digits(v, 10, end);
	put(w->out, p, (size_t)(end - p));
}

void jw_i64(struct jsonwrt *w, const char *k, int64_t v)
{
	char buf[24], *end = buf + sizeof(buf), *p;

	key(w, k);
	p = digits(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, 10, end);
	if (v < 0)
		*--p = '-';
	put(w->out, p, (size_t)(end - p));
}

void jw_double(struct jsonwrt *w, const char *k, double v)
{
	key(w, k);
	fprintf(w->out, "%.6f", v);
}

void jw_bool(struct jsonwrt *w, const char *k, bool v)
{
	key(w, k);
	if (v)
		put(w->out, "true", 4);
	else
		put(w->out, "false", 5);
}

void jw_null(struct jsonwrt *w, const char *k)
{
	key(w, k);
	put(w->out, "null", 4);
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
