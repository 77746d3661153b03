// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * src/lib/pinsrc-bpf.c built without HAVE_BPF (as configure does without
 * clang, bpftool or libbpf): the bpf source must still link, fail with
 * -EOPNOTSUPP, say why, and leave its output parameter alone. TAP output.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "pininspect/pinsrc.h"
#include "src/bpf/pinsrc-bpf.h"

#ifdef HAVE_BPF
#error "test-bpf-stub must be built without HAVE_BPF"
#endif

static int n, failed;

static void ok(int cond, const char *what)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, what);
	failed |= !cond;
}

int main(void)
{
	struct pi_pinsrc *src = (struct pi_pinsrc *)&n;
	char why[64] = "unchanged";
	int r;

	printf("1..5\n");
	r = pi_pinsrc_bpf_open(&src, why, sizeof(why));
	ok(r == -EOPNOTSUPP, "pi_pinsrc_bpf_open returns -EOPNOTSUPP");
	ok(strcmp(why, "built without bpf support") == 0, "why says built without bpf support");
	ok(src == (struct pi_pinsrc *)&n, "ret is left untouched");
	r = pi_pinsrc_bpf_open(&src, NULL, 0);
	ok(r == -EOPNOTSUPP, "why may be NULL");
	r = pi_pinsrc_bpf_open(&src, why, 4);
	ok(r == -EOPNOTSUPP && strlen(why) == 3, "why is truncated to whylen");
	return failed;
}
