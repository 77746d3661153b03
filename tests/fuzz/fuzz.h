/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared bits of the libFuzzer targets (tests/fuzz/run.sh builds them with
 * clang -fsanitize=fuzzer,address,undefined).
 */
#ifndef PININSPECT_FUZZ_H
#define PININSPECT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the code under test promises: a violation is a crash. */
#define FZ_ASSERT(cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
				__FILE__, __LINE__, #cond);			\
			abort();						\
		}								\
	} while (0)

/*
 * The input in a heap block of exactly size bytes, without a terminating
 * NUL: parsers that take (buf, len) must not read past len, and ASan sees
 * every byte read beyond it.
 */
static inline char *fz_dup(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	if (!p)
		abort();
	if (size)
		memcpy(p, data, size);
	return p;
}

/* The input as a NUL-terminated string cut at its first NUL byte. */
static inline char *fz_strdup(const uint8_t *data, size_t size)
{
	char *p = malloc(size + 1);

	if (!p)
		abort();
	if (size)
		memcpy(p, data, size);
	p[size] = '\0';
	return p;
}

#endif
