/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PININSPECT_UTIL_H
#define PININSPECT_UTIL_H

#include <stdlib.h>
#include <stdint.h>
#include <stdbool.h>

#define _cleanup_(f)	__attribute__((cleanup(f)))
#define _must_check_	__attribute__((warn_unused_result))
#define _printf_(a, b)	__attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(freep)

static inline void *take_ptr_(void **p) { void *v = *p; *p = NULL; return v; }
#define TAKE_PTR(p) take_ptr_((void **)&(p))

/* checked number parsing: whole string, no sign surprises; 0 or -EINVAL/-ERANGE */
int pi_parse_u64(const char *s, int base, uint64_t *ret);
int pi_parse_pid(const char *s, int *ret);

/* grow *arr (element size sz) so it holds at least n elements */
int pi_grow(void **arr, size_t *cap, size_t n, size_t sz);

#endif
