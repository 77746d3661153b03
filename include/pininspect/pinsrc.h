/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_PINSRC_H
#define PININSPECT_PINSRC_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "../../kernel/kpagepin/kpagepin_abi.h"

/*
 * Exact pin sources give, per PFN, one u64 in the kpagepin ABI format
 * (kernel/kpagepin/kpagepin_abi.h): refcount, pin count, flags. The
 * kpagepin debugfs file and the bpf reader return the same thing, so
 * verdicts treat both alike.
 */
enum pi_source {
	PI_SRC_NONE,
	PI_SRC_IOURING,		/* holder ranges only */
	PI_SRC_BPF,
	PI_SRC_KPAGEPIN,
};
const char *pi_source_name(enum pi_source s);
int pi_source_from_name(const char *name, enum pi_source *ret);

struct pi_pinsrc {
	enum pi_source kind;
	void *priv;
	int (*read)(struct pi_pinsrc *src, const uint64_t *pfns, size_t n, uint64_t *out);
	void (*close)(struct pi_pinsrc *src);
};

/* kpagepin debugfs: version checked (-EPROTO for another ABI), pages opened */
struct pi_kpagepin_info {
	unsigned int abi;
	char provider[16];	/* "module" or "patch" */
};
int pi_kpagepin_parse_version(const char *buf, size_t len, struct pi_kpagepin_info *ret);
int pi_pinsrc_kpagepin_open(struct pi_pinsrc **ret, struct pi_kpagepin_info *ret_info);

/*
 * bpf: -EOPNOTSUPP when built without it; otherwise -errno from loading,
 * with a human reason in why (may be NULL).
 */
int pi_pinsrc_bpf_open(struct pi_pinsrc **ret, char *why, size_t whylen);

static inline int pi_pinsrc_read(struct pi_pinsrc *s, const uint64_t *pfns, size_t n, uint64_t *out)
{
	return s->read(s, pfns, n, out);
}
void pi_pinsrc_close(struct pi_pinsrc *s);

#endif
