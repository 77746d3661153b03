// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdlib.h>
#include "tap.h"
#include "jsonwrt.h"

static char *json_of(const char *bytes)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jsonwrt w;

	jw_init(&w, f, false);
	jw_object_open(&w, NULL);
	jw_string(&w, "s", bytes);
	jw_u64(&w, "n", 7);
	jw_array_open(&w, "a");
	jw_null(&w, NULL);
	jw_bool(&w, NULL, true);
	jw_array_close(&w);
	jw_object_close(&w);
	fclose(f);
	return buf;
}

int main(void)
{
	char *s;

	s = json_of("plain");
	is_str(s, "{\"s\":\"plain\",\"n\":7,\"a\":[null,true]}", "compact document");
	free(s);
	s = json_of("a\"b\\c\nd\x1b[0m");
	is_str(s, "{\"s\":\"a\\\"b\\\\c\\nd\\u001b[0m\",\"n\":7,\"a\":[null,true]}",
	       "quotes, backslash, newline, ESC escaped");
	free(s);
	s = json_of("caf\xc3\xa9 \xff\xc0\xaf");
	is_str(s, "{\"s\":\"caf\xc3\xa9 \\\\xff\\\\xc0\\\\xaf\",\"n\":7,\"a\":[null,true]}",
	       "valid UTF-8 kept, invalid and overlong bytes as \\xNN text");
	free(s);
	s = pi_escape_text("/tmp/a\nb\x1b]0;pwned\x07 \xe2\x82\xac\\");
	is_str(s, "/tmp/a\\x0ab\\x1b]0;pwned\\x07 \xe2\x82\xac\\x5c", "table cell escaping");
	free(s);
	s = pi_escape_prom_label("a\"b\\c\nd\x01");
	is_str(s, "a\\\"b\\\\c\\nd\\\\x01", "Prometheus label escaping");
	free(s);
	is_int(pi_utf8_seq_len((const unsigned char *)"\xed\xa0\x80"), 0, "surrogate rejected");
	is_int(pi_utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80"), 4, "emoji accepted");
	return tap_done();
}
