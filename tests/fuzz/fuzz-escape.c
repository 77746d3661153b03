// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The escapers that put process-chosen bytes (VMA names, comm) into JSON,
 * table/terminal text and Prometheus labels. Checked properties:
 *  - JSON: the document is {"<key>":"<value>"} with both strings valid JSON
 *    (no raw control bytes, valid UTF-8, only defined escapes); when the
 *    input is valid UTF-8 the decoded string equals it byte for byte.
 *  - text: no C0/C1 control byte or DEL reaches the terminal, valid UTF-8.
 *  - Prometheus: only \\ \" \n escapes, no raw newline or quote, valid UTF-8.
 */
#include <stdbool.h>
#include "fuzz.h"
#include "jsonwrt.h"

/* UTF-8 decoder for validation (independent of pi_utf8_seq_len) */
static int utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	int len;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return -1;
	}
	if ((size_t)len > n)
		return -1;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return len;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		int l = utf8_next(s + i, n - i, &cp);

		if (l < 0)
			return false;
		i += (size_t)l;
	}
	return true;
}

static void put_utf8(uint32_t c, char **o)
{
	unsigned char *p = (unsigned char *)*o;

	if (c < 0x80) {
		*p++ = (unsigned char)c;
	} else if (c < 0x800) {
		*p++ = (unsigned char)(0xc0 | c >> 6);
		*p++ = (unsigned char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*p++ = (unsigned char)(0xe0 | c >> 12);
		*p++ = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		*p++ = (unsigned char)(0x80 | (c & 0x3f));
	} else {
		*p++ = (unsigned char)(0xf0 | c >> 18);
		*p++ = (unsigned char)(0x80 | (c >> 12 & 0x3f));
		*p++ = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		*p++ = (unsigned char)(0x80 | (c & 0x3f));
	}
	*o = (char *)p;
}

/*
 * Parse the JSON string starting at *pp (at its opening quote) per RFC 8259;
 * decode it into out (NUL-terminated). Returns false when it is not valid.
 */
static bool json_string(const char **pp, const char *end, char *out)
{
	const unsigned char *p = (const unsigned char *)*pp, *e = (const unsigned char *)end;
	char *o = out;

	if (p >= e || *p++ != '"')
		return false;
	while (p < e && *p != '"') {
		uint32_t cp;
		int l;

		if (*p < 0x20)
			return false;
		if (*p != '\\') {
			l = utf8_next(p, (size_t)(e - p), &cp);
			if (l < 0)
				return false;
			memcpy(o, p, (size_t)l);
			o += l;
			p += l;
			continue;
		}
		if (++p >= e)
			return false;
		switch (*p++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			cp = 0;
			for (int i = 0; i < 4; i++, p++) {
				int d;

				if (p >= e)
					return false;
				if (*p >= '0' && *p <= '9')
					d = *p - '0';
				else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
					d = (*p | 0x20) - 'a' + 10;
				else
					return false;
				cp = cp << 4 | (uint32_t)d;
			}
			/* the writer never splits into surrogates: it writes UTF-8 */
			if (cp >= 0xd800 && cp <= 0xdfff)
				return false;
			put_utf8(cp, &o);
			break;
		default:
			return false;
		}
	}
	if (p >= e)
		return false;
	*o = '\0';
	*pp = (const char *)p + 1;
	return true;
}

static void check_json(const char *in, size_t inlen)
{
	char *doc = NULL, *k, *v;
	size_t doclen = 0;
	FILE *f = open_memstream(&doc, &doclen);
	struct jsonwrt w;
	const char *p, *end;

	FZ_ASSERT(f);
	jw_init(&w, f, false);
	jw_object_open(&w, NULL);
	jw_string(&w, in, in);
	jw_object_close(&w);
	fclose(f);

	/* decoded strings are never longer than what was written */
	k = malloc(doclen + 1);
	v = malloc(doclen + 1);
	FZ_ASSERT(k && v);
	p = doc;
	end = doc + doclen;
	FZ_ASSERT(doclen >= 2 && *p == '{');
	p++;
	FZ_ASSERT(json_string(&p, end, k));
	FZ_ASSERT(p < end && *p == ':');
	p++;
	FZ_ASSERT(json_string(&p, end, v));
	FZ_ASSERT(p + 1 == end && *p == '}');
	FZ_ASSERT(!strcmp(k, v));
	/* lossless for text that already is valid UTF-8 */
	if (valid_utf8((const unsigned char *)in, inlen))
		FZ_ASSERT(!strcmp(v, in));
	free(k);
	free(v);
	free(doc);
}

/* no C0, DEL or C1 control characters, valid UTF-8 */
static void check_terminal_safe(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		int l = utf8_next(u + i, n - i, &cp);

		FZ_ASSERT(l > 0);
		FZ_ASSERT(cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f));
		i += (size_t)l;
	}
}

static void check_text(const char *in)
{
	char *t = pi_escape_text(in);

	FZ_ASSERT(t);
	check_terminal_safe(t);
	/* a backslash in the output always starts an escape: \xNN */
	for (const char *p = t; (p = strchr(p, '\\')); p += 4)
		FZ_ASSERT(p[1] == 'x' && p[2] && p[3]);
	free(t);
}

static void check_prom(const char *in)
{
	char *t = pi_escape_prom_label(in);

	FZ_ASSERT(t);
	check_terminal_safe(t);
	for (const char *p = t; *p; p++) {
		FZ_ASSERT(*p != '"' && *p != '\n');
		if (*p == '\\') {
			p++;
			FZ_ASSERT(*p == '\\' || *p == '"' || *p == 'n');
		}
	}
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fz_strdup(data, size);
	size_t len = strlen(in);

	check_json(in, len);
	check_text(in);
	check_prom(in);
	free(in);
	return 0;
}
