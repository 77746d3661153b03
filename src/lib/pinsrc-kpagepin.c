// SPDX-License-Identifier: GPL-2.0-or-later
/* kpagepin debugfs pin source (DESIGN section 4): same reader as kpageflags */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "pininspect/kpage.h"
#include "pininspect/pinsrc.h"
#include "pininspect/root.h"
#include "pininspect/util.h"

#define KPAGEPIN_PATH "sys/kernel/debug/" KPAGEPIN_DIR

/* "kpagepin <abi> <provider>\n"; -EPROTO for another ABI, -EINVAL for garbage */
int pi_kpagepin_parse_version(const char *buf, size_t len, struct pi_kpagepin_info *ret)
{
	char line[64], provider[16];
	unsigned int abi;
	char extra;
	size_t n = len;

	if (n && buf[n - 1] == '\n')
		n--;
	if (n >= sizeof(line) || memchr(buf, '\0', n))
		return -EINVAL;
	memcpy(line, buf, n);
	line[n] = '\0';
	if (sscanf(line, "kpagepin %u %15s %c", &abi, provider, &extra) != 2)
		return -EINVAL;
	if (strcmp(provider, "module") && strcmp(provider, "patch"))
		return -EINVAL;
	ret->abi = abi;
	snprintf(ret->provider, sizeof(ret->provider), "%s", provider);
	return abi == KPAGEPIN_ABI_VERSION ? 0 : -EPROTO;
}

static int kpagepin_read(struct pi_pinsrc *src, const uint64_t *pfns, size_t n, uint64_t *out)
{
	size_t missing = 0;
	int r = pi_kpage_read(src->priv, pfns, n, out, &missing);

	if (r < 0)
		return r;
	/* entries past the bound are not pages: mark them so no verdict uses them */
	if (missing)
		for (size_t i = 0; i < n; i++)
			if (!out[i])
				out[i] = KPP_F_NOPAGE;
	return 0;
}

static void kpagepin_close(struct pi_pinsrc *src)
{
	pi_kpage_close(src->priv);
	free(src);
}

int pi_pinsrc_kpagepin_open(struct pi_pinsrc **ret, struct pi_kpagepin_info *ret_info)
{
	_cleanup_free_ char *buf = NULL;
	struct pi_kpagepin_info info;
	struct pi_kpage_file *f;
	struct pi_pinsrc *src;
	size_t len;
	int r;

	r = pi_root_read_file(KPAGEPIN_PATH "/version", &buf, &len);
	if (r < 0)
		return r;
	r = pi_kpagepin_parse_version(buf, len, &info);
	if (ret_info && (r == 0 || r == -EPROTO))
		*ret_info = info;
	if (r < 0)
		return r;
	r = pi_kpage_open(KPAGEPIN_PATH "/pages", &f);
	if (r < 0)
		return r;
	src = calloc(1, sizeof(*src));
	if (!src) {
		pi_kpage_close(f);
		return -ENOMEM;
	}
	src->kind = PI_SRC_KPAGEPIN;
	src->priv = f;
	src->read = kpagepin_read;
	src->close = kpagepin_close;
	*ret = src;
	return 0;
}
