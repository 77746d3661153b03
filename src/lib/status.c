// SPDX-License-Identifier: GPL-2.0-or-later
/* /proc/PID/status and /proc/PID/stat */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "pininspect/root.h"
#include "pininspect/status.h"
#include "pininspect/util.h"

static const char *field_value(const char *line, const char *le, const char *key)
{
	size_t kl = strlen(key);

	if ((size_t)(le - line) <= kl || strncmp(line, key, kl) || line[kl] != ':')
		return NULL;
	line += kl + 1;
	while (line < le && (*line == ' ' || *line == '\t'))
		line++;
	return line;
}

/* a decimal number at *p (at most 20 digits), advancing *p past it */
static int parse_number(const char **p, const char *le, uint64_t *ret)
{
	char tmp[24];
	size_t n = 0;

	while (*p + n < le && (*p)[n] >= '0' && (*p)[n] <= '9' && n < sizeof(tmp) - 1)
		n++;
	if (!n)
		return -EINVAL;
	memcpy(tmp, *p, n);
	tmp[n] = '\0';
	*p += n;
	return pi_parse_u64(tmp, 10, ret);
}

static int parse_kib(const char *p, const char *le, uint64_t *ret)
{
	if (parse_number(&p, le, ret) < 0)
		return -EINVAL;
	/* the line need not be NUL-terminated: compare within it only */
	return le - p != 3 || memcmp(p, " kB", 3) ? -EINVAL : 0;
}

static int parse_uids(const char *p, const char *le, uid_t *real, uid_t *eff)
{
	uint64_t v[2];

	for (int i = 0; i < 2; i++) {
		while (p < le && (*p == '\t' || *p == ' '))
			p++;
		if (parse_number(&p, le, &v[i]) < 0 || v[i] > UINT32_MAX)
			return -EINVAL;
	}
	*real = (uid_t)v[0];
	*eff = (uid_t)v[1];
	return 0;
}

int pi_status_parse(const char *buf, size_t len, struct pi_status *ret)
{
	const char *p = buf, *end = buf + len;
	struct pi_status st = { 0 };
	bool have_uid = false, have_name = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *v;

		if ((v = field_value(p, le, "Name"))) {
			size_t n = (size_t)(le - v);

			if (n >= sizeof(st.name))
				n = sizeof(st.name) - 1;
			memcpy(st.name, v, n);
			st.name[n] = '\0';
			have_name = true;
		} else if ((v = field_value(p, le, "Uid"))) {
			if (parse_uids(v, le, &st.uid_real, &st.uid_effective) < 0)
				return -EINVAL;
			have_uid = true;
		} else if ((v = field_value(p, le, "Tgid"))) {
			uint64_t t;

			if (parse_number(&v, le, &t) < 0 || v != le || t > INT32_MAX)
				return -EINVAL;
			st.tgid = (pid_t)t;
		} else if ((v = field_value(p, le, "VmPin"))) {
			if (parse_kib(v, le, &st.vmpin_kib) < 0)
				return -EINVAL;
			st.has_vmpin = true;
		} else if ((v = field_value(p, le, "VmLck"))) {
			if (parse_kib(v, le, &st.vmlck_kib) < 0)
				return -EINVAL;
			st.has_vmlck = true;
		}
		p = nl ? nl + 1 : end;
	}
	if (!have_name || !have_uid)
		return -EINVAL;
	*ret = st;
	return 0;
}

int pi_status_read(pid_t pid, struct pi_status *ret)
{
	_cleanup_free_ char *buf = NULL, *comm = NULL;
	size_t len, clen;
	int r = pi_root_readf(&buf, &len, "proc/%d/status", (int)pid);

	if (r < 0)
		return r;
	r = pi_status_parse(buf, len, ret);
	if (r < 0)
		return r;
	/* status escapes the name (\\, \e, \n); comm has the raw bytes */
	if (pi_root_readf(&comm, &clen, "proc/%d/comm", (int)pid) == 0) {
		if (clen && comm[clen - 1] == '\n')
			comm[--clen] = '\0';
		if (clen < sizeof(ret->name) && !memchr(comm, '\0', clen))
			memcpy(ret->name, comm, clen + 1);
	}
	return 0;
}

int pi_stat_parse_starttime(const char *buf, size_t len, uint64_t *ret)
{
	const char *p = NULL, *end = buf + len;
	int field = 2;

	/* comm may hold ") ": the fields start after the last ')' */
	for (const char *q = buf; q < end; q++)
		if (*q == ')')
			p = q;
	if (!p)
		return -EINVAL;
	p++;
	while (p < end) {
		char tmp[24];
		size_t n = 0;

		while (p < end && *p == ' ')
			p++;
		field++;
		while (p + n < end && p[n] != ' ' && p[n] != '\n')
			n++;
		if (field == 22) {
			if (!n || n >= sizeof(tmp))
				return -EINVAL;
			memcpy(tmp, p, n);
			tmp[n] = '\0';
			return pi_parse_u64(tmp, 10, ret);
		}
		if (!n)
			break;
		p += n;
	}
	return -EINVAL;
}

int pi_stat_starttime(pid_t pid, uint64_t *ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = pi_root_readf(&buf, &len, "proc/%d/stat", (int)pid);

	if (r < 0)
		return r;
	return pi_stat_parse_starttime(buf, len, ret);
}
