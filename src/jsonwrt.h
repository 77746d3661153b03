/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_JSONWRT_H
#define PININSPECT_JSONWRT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Streaming JSON writer: documents of millions of pages are written as
 * they are produced. Strings are bytes (VMA names, comm): control bytes
 * become \u00XX and bytes that are not valid UTF-8 become the text \xNN,
 * so the output is always valid JSON.
 */
#define JW_MAX_DEPTH 16

struct jsonwrt {
	FILE *out;
	int depth;
	bool pretty;
	bool need_comma[JW_MAX_DEPTH];
};

void jw_init(struct jsonwrt *w, FILE *out, bool pretty);
void jw_object_open(struct jsonwrt *w, const char *key);
void jw_object_close(struct jsonwrt *w);
void jw_array_open(struct jsonwrt *w, const char *key);
void jw_array_close(struct jsonwrt *w);
void jw_string(struct jsonwrt *w, const char *key, const char *bytes);
void jw_string_or_null(struct jsonwrt *w, const char *key, const char *bytes);
void jw_hex(struct jsonwrt *w, const char *key, uint64_t v);
void jw_u64(struct jsonwrt *w, const char *key, uint64_t v);
void jw_i64(struct jsonwrt *w, const char *key, int64_t v);
void jw_double(struct jsonwrt *w, const char *key, double v);
void jw_bool(struct jsonwrt *w, const char *key, bool v);
void jw_null(struct jsonwrt *w, const char *key);
/* end of a top-level document: newline and flush */
void jw_end(struct jsonwrt *w);

/* JSON string body of bytes (no quotes) into f */
void jw_escape(FILE *f, const char *bytes);

/*
 * Escape bytes for a terminal/table cell: control bytes, backslash and
 * invalid UTF-8 as \xNN (like util-linux's mbs_safe_encode). Returns a
 * malloc'ed string or NULL.
 */
char *pi_escape_text(const char *bytes);
/* Prometheus label value: \\ \" \n, invalid UTF-8 and control bytes as \xNN text */
char *pi_escape_prom_label(const char *bytes);

/* length of a valid UTF-8 sequence at s (1..4) or 0 if invalid */
int pi_utf8_seq_len(const unsigned char *s);

#endif
