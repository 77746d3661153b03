/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mkfixture - write a fake root tree for pininspect tests from a short,
 * reviewable text description.
 *
 * Usage: mkfixture DESC OUTDIR     (DESC "-" is stdin; OUTDIR made like mkdir -p)
 *
 * The description is line oriented.  '#' starts a comment when it begins a
 * line or follows whitespace (write \# for a literal one); trailing
 * whitespace is dropped (write \x20 to keep it).  Numbers are decimal or
 * 0x-prefixed hex.  Pages are 4096 bytes.  Where TEXT is taken, C escapes
 * are decoded: \n \t \r \\ \" \' \a \b \f \v \e \xHH \NNN (octal) \# "\ " and
 * \c (end the text here, without the newline mkfixture would append).
 * "<<TAG" ending a line takes the next lines up to one that is exactly TAG
 * as the text (escapes decoded there too).
 * Later lines win where two write the same entry.
 *
 * Per process, after "pid N" (several sections may follow each other):
 *   pid N                        start proc/N/ (maps, pagemap, status, stat,
 *                                comm, fd/, fdinfo/ are always written)
 *   comm TEXT                    task name (default "fixture"): status Name
 *                                (kernel-escaped), stat field 2, comm
 *   status KEY TEXT              status line "KEY:\tTEXT"; Uid/Gid with one
 *                                number repeat it 4 times; Vm*, Rss* and
 *                                HugetlbPages take "N [kB]" -> "%8s kB"
 *   status -KEY                  drop a default line (Name State Tgid Pid
 *                                PPid Uid Gid)
 *   stat starttime|state|ppid V  stat fields 22, 3, 4 (default 1000, S, 1)
 *   maps TEXT                    one maps line, verbatim
 *   vma START-END PERMS [OFFSET MM:mm INODE] [NAME]
 *   vma START-END PERMS [off=N] [dev=MM:mm] [inode=N] [NAME]
 *                                one maps line formatted as the kernel does
 *                                (START, END, OFFSET in hex, 0x optional)
 *   pages VADDR COUNT [pfn=N] [step=N] [swap=TYPE:OFF] [raw=N] FLAG...
 *                                COUNT pagemap entries from VADDR; pfn= sets
 *                                bits 0-54 and "present", advancing by step
 *                                (default 1) per page; swap= sets type, offset
 *                                (advancing by 1) and "swap"; raw= ORs bits.
 *                                FLAG: present swap file exclusive soft-dirty
 *                                uffd-wp guard bitN
 *   fd N TEXT                    fd/N -> TEXT symlink
 *   fdinfo N [TEXT] <<TAG        fdinfo/N with the lines up to TAG (and the
 *                                fd/N -> TEXT symlink when TEXT is given)
 *   truncate pagemap VADDR [+B]  cut pagemap at VADDR's entry (+B: B bytes,
 *                                0-7, into it: a torn entry)
 *   omit FILE                    do not write maps, pagemap, status, stat,
 *                                comm, fd or fdinfo
 *   raw FILE TEXT | raw FILE <<TAG
 *                                write proc/N/FILE (replacing what mkfixture
 *                                would generate); FILE starting with '/' is
 *                                relative to OUTDIR and needs no pid section
 *
 * Without a truncate line, pagemap is extended (sparse, zero entries) to
 * cover every maps line's end address below 2^47.
 *
 * System wide:
 *   kpageflags PFN COUNT FLAG...   KPF_* names in lower case (anon, lru,
 *                                  mappedtodisk alias owner_2 alias
 *                                  anon_exclusive, ...), bitN or a number
 *   kpagecount PFN COUNT VALUE
 *   kpagepin PFN COUNT [ref=N] [pins=N] [raw=N] FLAG...
 *                                  maybe_pinned pin_exact anon anon_exclusive
 *                                  large head longterm_pinnable nopage bitN
 *   kpagepin-version TEXT          sys/kernel/debug/kpagepin/version
 *   kpagepin-stats <<TAG           sys/kernel/debug/kpagepin/stats
 *   truncate kpageflags|kpagecount|kpagepin PFN [+B]
 *   maxpfn N                       extend the PFN-indexed files to N entries
 * A PFN-indexed file exists only when a line names it ("kpageflags 0 0"
 * makes an empty one).
 *
 * Errors: "mkfixture: DESC:LINE: why" and exit status 1.
 * See tests/helpers/FIXTURES.md for examples.
 */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE	/* reallocarray */
#endif
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "kernel/kpagepin/kpagepin_abi.h"

#define PAGE_SHIFT	12
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define PM_SWAP_TYPE_MASK 0x1fULL
#define PM_SWAP_OFF_SHIFT 5
#define PM_SWAP_OFF_MASK ((1ULL << 50) - 1)
/* user addresses of a 4-level x86-64 page table; beyond, pagemap reads EOF */
#define USER_VA_END	(1ULL << 47)
/* kernel: seq_setwidth(m, 25 + sizeof(void *) * 6 - 1) before the name */
#define MAPS_NAME_COL	(25 + 8 * 6 - 1)

struct flagname {
	const char	*name;
	unsigned int	bit;
};

static const struct flagname pagemap_flags[] = {
	{ "soft-dirty", 55 },
	{ "exclusive", 56 },
	{ "uffd-wp", 57 },
	{ "guard", 58 },
	{ "file", 61 },
	{ "swap", 62 },
	{ "present", 63 },
	{ NULL, 0 }
};

/* include/uapi/linux/kernel-page-flags.h and the kernel-hacking bits */
static const struct flagname kpageflags_flags[] = {
	{ "locked", 0 }, { "error", 1 }, { "referenced", 2 }, { "uptodate", 3 },
	{ "dirty", 4 }, { "lru", 5 }, { "active", 6 }, { "slab", 7 },
	{ "writeback", 8 }, { "reclaim", 9 }, { "buddy", 10 }, { "mmap", 11 },
	{ "anon", 12 }, { "swapcache", 13 }, { "swapbacked", 14 },
	{ "compound_head", 15 }, { "compound_tail", 16 }, { "huge", 17 },
	{ "unevictable", 18 }, { "hwpoison", 19 }, { "nopage", 20 },
	{ "ksm", 21 }, { "thp", 22 }, { "offline", 23 }, { "zero_page", 24 },
	{ "idle", 25 }, { "pgtable", 26 },
	{ "reserved", 32 }, { "mlocked", 33 }, { "mappedtodisk", 34 },
	{ "owner_2", 34 }, { "anon_exclusive", 34 }, { "private", 35 },
	{ "private_2", 36 }, { "owner_private", 37 }, { "arch", 38 },
	{ "uncached", 39 }, { "softdirty", 40 }, { "arch_2", 41 },
	{ "arch_3", 42 },
	{ NULL, 0 }
};

#define KPP_BIT(f)	(__builtin_ctzll(f))
static const struct flagname kpagepin_flags[] = {
	{ "maybe_pinned", KPP_BIT(KPP_F_MAYBE_PINNED) },
	{ "pin_exact", KPP_BIT(KPP_F_PIN_EXACT) },
	{ "anon", KPP_BIT(KPP_F_ANON) },
	{ "anon_exclusive", KPP_BIT(KPP_F_ANON_EXCLUSIVE) },
	{ "large", KPP_BIT(KPP_F_LARGE) },
	{ "head", KPP_BIT(KPP_F_HEAD) },
	{ "longterm_pinnable", KPP_BIT(KPP_F_LONGTERM_PINNABLE) },
	{ "nopage", KPP_BIT(KPP_F_NOPAGE) },
	{ NULL, 0 }
};

/* Growable byte string; may hold NUL bytes. */
struct buf {
	char	*data;
	size_t	len;
	size_t	cap;
};

/* COUNT u64 entries from INDEX: VALUE, plus STEP * i added to the PFN or swap offset. */
struct run {
	uint64_t	index;
	uint64_t	count;
	uint64_t	value;
	uint64_t	pfn_step;
	uint64_t	swap_step;
	unsigned int	line;
};

struct runs {
	struct run	*v;
	size_t		n;
};

struct kv {
	char		*key;
	struct buf	val;
};

struct rawfile {
	char		*path;
	struct buf	data;
	unsigned int	line;
};

struct fdent {
	unsigned int	fd;
	char		*target;	/* NULL: no symlink */
	struct buf	info;
	bool		has_info;
};

enum omit_bits {
	OMIT_MAPS	= 1 << 0,
	OMIT_PAGEMAP	= 1 << 1,
	OMIT_STATUS	= 1 << 2,
	OMIT_STAT	= 1 << 3,
	OMIT_COMM	= 1 << 4,
	OMIT_FD		= 1 << 5,
	OMIT_FDINFO	= 1 << 6,
};

static const struct flagname omit_names[] = {
	{ "maps", 0 }, { "pagemap", 1 }, { "status", 2 }, { "stat", 3 },
	{ "comm", 4 }, { "fd", 5 }, { "fdinfo", 6 }, { NULL, 0 }
};

struct proc {
	long		pid;
	unsigned int	line;
	struct buf	comm;
	struct buf	maps;
	struct kv	*status;
	size_t		nstatus;
	char		**status_drop;
	size_t		nstatus_drop;
	unsigned long long starttime;
	char		state;
	long		ppid;
	struct runs	pagemap;
	bool		pm_truncate;
	uint64_t	pm_truncate_at;	/* bytes */
	struct fdent	*fds;
	size_t		nfds;
	struct rawfile	*raws;
	size_t		nraws;
	unsigned int	omit;
};

enum pfnfile { PF_KPAGEFLAGS, PF_KPAGECOUNT, PF_KPAGEPIN, PF_NR };

static const char *const pfnfile_names[PF_NR] = {
	[PF_KPAGEFLAGS] = "kpageflags",
	[PF_KPAGECOUNT] = "kpagecount",
	[PF_KPAGEPIN] = "kpagepin",
};

static const char *const pfnfile_paths[PF_NR] = {
	[PF_KPAGEFLAGS] = "proc/kpageflags",
	[PF_KPAGECOUNT] = "proc/kpagecount",
	[PF_KPAGEPIN] = "sys/kernel/debug/kpagepin/pages",
};

struct fixture {
	const char	*desc;
	FILE		*in;
	unsigned int	lineno;
	char		*line;
	size_t		linesz;

	struct proc	*procs;
	size_t		nprocs;

	struct runs	pfn[PF_NR];
	bool		pfn_used[PF_NR];
	bool		pfn_truncate[PF_NR];
	uint64_t	pfn_truncate_at[PF_NR];	/* bytes */
	uint64_t	maxpfn;

	bool		have_kpp_version;
	struct buf	kpp_version;
	bool		have_kpp_stats;
	struct buf	kpp_stats;
	struct rawfile	*raws;
	size_t		nraws;

	int		outfd;
	const char	*outdir;
};

static void __attribute__((noreturn, format(printf, 2, 3)))
fail(const struct fixture *fx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mkfixture: %s:%u: ", fx->desc, fx->lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fail_nolines(const char *fmt, ...)
{
	va_list ap;

	fputs("mkfixture: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

static void *xrealloc(void *p, size_t n, size_t sz)
{
	p = reallocarray(p, n ? n : 1, sz);
	if (!p)
		fail_nolines("%s", strerror(ENOMEM));
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		fail_nolines("%s", strerror(ENOMEM));
	return p;
}

static void buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->data = xrealloc(b->data, b->cap, 1);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_putc(struct buf *b, char c)
{
	buf_put(b, &c, 1);
}

static void __attribute__((format(printf, 2, 3)))
buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		fail_nolines("internal: formatted line too long");
	buf_put(b, tmp, n);
}

static void runs_add(struct runs *r, const struct run *run)
{
	r->v = xrealloc(r->v, r->n + 1, sizeof(*r->v));
	r->v[r->n++] = *run;
}

/* ---- lexing ---------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decode C escapes of S into OUT.  Sets *STOP when \c ended the text.
 * Fails the whole run on a bad escape: a typo must not become a fixture.
 */
static void unescape(const struct fixture *fx, const char *s, struct buf *out, bool *stop)
{
	if (stop)
		*stop = false;
	while (*s) {
		unsigned int v;
		int i, d;

		if (*s != '\\') {
			buf_putc(out, *s++);
			continue;
		}
		s++;
		switch (*s) {
		case 'n': buf_putc(out, '\n'); s++; break;
		case 't': buf_putc(out, '\t'); s++; break;
		case 'r': buf_putc(out, '\r'); s++; break;
		case 'a': buf_putc(out, '\a'); s++; break;
		case 'b': buf_putc(out, '\b'); s++; break;
		case 'f': buf_putc(out, '\f'); s++; break;
		case 'v': buf_putc(out, '\v'); s++; break;
		case 'e': buf_putc(out, '\x1b'); s++; break;
		case '\\': case '"': case '\'': case '#': case ' ':
			buf_putc(out, *s++);
			break;
		case 'c':
			if (stop)
				*stop = true;
			return;
		case 'x':
			s++;
			for (v = 0, i = 0; i < 2 && (d = hexval(*s)) >= 0; i++, s++)
				v = v * 16 + d;
			if (!i)
				fail(fx, "\\x needs a hex digit");
			buf_putc(out, (char)v);
			break;
		case '0': case '1': case '2': case '3':
		case '4': case '5': case '6': case '7':
			for (v = 0, i = 0; i < 3 && *s >= '0' && *s <= '7'; i++, s++)
				v = v * 8 + (*s - '0');
			if (v > 0xff)
				fail(fx, "octal escape above \\377");
			buf_putc(out, (char)v);
			break;
		case '\0':
			fail(fx, "backslash at the end of the line");
		default:
			fail(fx, "unknown escape '\\%c'", *s);
		}
	}
}

/* Cut the comment and trailing whitespace of LINE in place. */
static void strip_comment(char *line)
{
	char *p, *end;

	for (p = line; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
	}
	/* drop trailing whitespace, but not an escaped "\\ " */
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1])) {
		size_t bs = 0;

		while (end - 1 - (ptrdiff_t)bs > line && end[-2 - (ptrdiff_t)bs] == '\\')
			bs++;
		if (bs % 2)
			break;
		*--end = '\0';
	}
}

static char *next_token(char **p)
{
	char *s = *p, *tok;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s) {
		*p = s;
		return NULL;
	}
	tok = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return tok;
}

static char *rest_of_line(char **p)
{
	char *s = *p;

	while (isspace((unsigned char)*s))
		s++;
	*p = s + strlen(s);
	return s;
}

static char *need_token(const struct fixture *fx, char **p, const char *what)
{
	char *tok = next_token(p);

	if (!tok)
		fail(fx, "missing %s", what);
	return tok;
}

static void no_more(const struct fixture *fx, char **p)
{
	char *tok = next_token(p);

	if (tok)
		fail(fx, "unexpected '%s'", tok);
}

static bool parse_u64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		v = strtoull(s + 2, &end, 16);
	else
		v = strtoull(s, &end, 10);
	if (errno || *end || (s[0] == '0' && tolower((unsigned char)s[1]) == 'x' && !s[2]))
		return false;
	*ret = v;
	return true;
}

static uint64_t need_u64(const struct fixture *fx, const char *s, const char *what)
{
	uint64_t v;

	if (!parse_u64(s, &v))
		fail(fx, "%s: '%s' is not a number (decimal or 0x hex)", what, s);
	return v;
}

/* Hex as in /proc/PID/maps, "0x" optional. */
static uint64_t need_hex(const struct fixture *fx, const char *s, const char *what)
{
	unsigned long long v;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	errno = 0;
	v = strtoull(s, &end, 16);
	if (!isxdigit((unsigned char)*s) || errno || *end)
		fail(fx, "%s: '%s' is not a hex number", what, s);
	return v;
}

/* Names compare with '-' and '_' as the same character. */
static bool flag_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : tolower((unsigned char)*a);
		char y = *b == '-' ? '_' : *b;

		if (x != y)
			return false;
	}
	return !*a && !*b;
}

/* OR the flags of a space/comma separated list into *VAL. */
static void parse_flag_list(const struct fixture *fx, char *list,
			    const struct flagname *names, const char *kind,
			    uint64_t *val)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(list, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		const struct flagname *f;
		uint64_t v;

		if (!strncmp(tok, "bit", 3) && parse_u64(tok + 3, &v)) {
			if (v > 63)
				fail(fx, "%s: bit %" PRIu64 " is out of range", kind, v);
			*val |= 1ULL << v;
			continue;
		}
		if (isdigit((unsigned char)*tok)) {
			*val |= need_u64(fx, tok, kind);
			continue;
		}
		for (f = names; f->name; f++)
			if (flag_eq(tok, f->name))
				break;
		if (!f->name)
			fail(fx, "unknown %s flag '%s'", kind, tok);
		*val |= 1ULL << f->bit;
	}
}

/* If LINE ends in "<<TAG", cut it off and return a copy of TAG. */
static char *heredoc_tag(char *line)
{
	char *p = line + strlen(line), *tag;

	while (p > line && !isspace((unsigned char)p[-1]))
		p--;
	if (strncmp(p, "<<", 2) || !p[2])
		return NULL;
	tag = xstrdup(p + 2);
	*p = '\0';
	strip_comment(line);
	return tag;
}

/* Read lines up to TAG (freed here) into OUT, escapes decoded. */
static void read_heredoc(struct fixture *fx, char *tag, struct buf *out)
{
	unsigned int start = fx->lineno;

	for (;;) {
		ssize_t n = getline(&fx->line, &fx->linesz, fx->in);
		bool stop;

		if (n < 0) {
			fx->lineno = start;
			fail(fx, "no '%s' line ends this text", tag);
		}
		fx->lineno++;
		if (n && fx->line[n - 1] == '\n')
			fx->line[--n] = '\0';
		if (!strcmp(fx->line, tag))
			break;
		unescape(fx, fx->line, out, &stop);
		if (!stop)
			buf_putc(out, '\n');
	}
	free(tag);
}

/* ---- directives ------------------------------------------------------ */

static struct proc *cur_proc(const struct fixture *fx, const char *directive)
{
	if (!fx->nprocs)
		fail(fx, "'%s' needs a 'pid N' line first", directive);
	return &fx->procs[fx->nprocs - 1];
}

static void check_relpath(const struct fixture *fx, const char *path)
{
	const char *p = path;

	if (!*p)
		fail(fx, "empty file name");
	while (*p) {
		const char *slash = strchrnul(p, '/');

		if ((slash - p == 2 && !strncmp(p, "..", 2)) ||
		    (slash - p == 1 && *p == '.'))
			fail(fx, "'.' and '..' are not allowed in '%s'", path);
		p = *slash ? slash + 1 : slash;
	}
}

static void do_pid(struct fixture *fx, char *args)
{
	uint64_t pid = need_u64(fx, need_token(fx, &args, "PID"), "pid");
	struct proc *pr;
	size_t i;

	no_more(fx, &args);
	if (!pid || pid > 0x7fffffff)
		fail(fx, "pid %" PRIu64 " is out of range", pid);
	for (i = 0; i < fx->nprocs; i++)
		if (fx->procs[i].pid == (long)pid)
			fail(fx, "pid %" PRIu64 " already has a section at line %u",
			     pid, fx->procs[i].line);
	fx->procs = xrealloc(fx->procs, fx->nprocs + 1, sizeof(*fx->procs));
	pr = &fx->procs[fx->nprocs++];
	*pr = (struct proc){ .pid = pid, .line = fx->lineno, .starttime = 1000,
			     .state = 'S', .ppid = 1 };
	buf_put(&pr->comm, "fixture", 7);
}

static void do_status(struct fixture *fx, char *args)
{
	struct proc *pr = cur_proc(fx, "status");
	char *key = need_token(fx, &args, "status KEY");
	struct kv *kv;

	if (*key == '-') {
		no_more(fx, &args);
		pr->status_drop = xrealloc(pr->status_drop, pr->nstatus_drop + 1,
					   sizeof(char *));
		pr->status_drop[pr->nstatus_drop++] = xstrdup(key + 1);
		return;
	}
	if (strchr(key, ':'))
		fail(fx, "status KEY is written without ':'");
	pr->status = xrealloc(pr->status, pr->nstatus + 1, sizeof(*pr->status));
	kv = &pr->status[pr->nstatus++];
	*kv = (struct kv){ .key = xstrdup(key) };
	unescape(fx, rest_of_line(&args), &kv->val, NULL);
}

static void do_stat(struct fixture *fx, char *args)
{
	struct proc *pr = cur_proc(fx, "stat");
	char *key = need_token(fx, &args, "stat FIELD");
	char *val = need_token(fx, &args, "stat VALUE");

	no_more(fx, &args);
	if (!strcmp(key, "starttime"))
		pr->starttime = need_u64(fx, val, "starttime");
	else if (!strcmp(key, "ppid"))
		pr->ppid = need_u64(fx, val, "ppid");
	else if (!strcmp(key, "state") && strlen(val) == 1)
		pr->state = *val;
	else
		fail(fx, "stat knows starttime N, ppid N and state C, not '%s %s'", key, val);
}

static void do_maps(struct fixture *fx, char *args)
{
	struct proc *pr = cur_proc(fx, "maps");
	bool stop;

	unescape(fx, rest_of_line(&args), &pr->maps, &stop);
	if (!stop)
		buf_putc(&pr->maps, '\n');
}

/*
 * If ARGS starts with "OFFSET MM:mm INODE" (hex, hex:hex, decimal), take
 * them and advance ARGS.
 */
static bool take_maps_columns(char **args, uint64_t *off, unsigned int *major,
			      unsigned int *minor, uint64_t *inode)
{
	unsigned long long o, i;
	unsigned int ma, mi;
	int n = 0;

	if (sscanf(*args, " %llx %x:%x %llu%n", &o, &ma, &mi, &i, &n) != 4 || !n ||
	    ((*args)[n] && !isspace((unsigned char)(*args)[n])))
		return false;
	*off = o;
	*major = ma;
	*minor = mi;
	*inode = i;
	*args += n;
	return true;
}

static void do_vma(struct fixture *fx, char *args)
{
	struct proc *pr = cur_proc(fx, "vma");
	char *range = need_token(fx, &args, "START-END");
	char *perms = need_token(fx, &args, "PERMS");
	uint64_t start, end, off = 0, inode = 0;
	unsigned int major = 0, minor = 0;
	struct buf line = { 0 };
	char *dash, *p;

	dash = strchr(range, '-');
	if (!dash)
		fail(fx, "vma: expected START-END, got '%s'", range);
	*dash = '\0';
	start = need_hex(fx, range, "vma START");
	end = need_hex(fx, dash + 1, "vma END");
	if (start >= end || (start | end) & ((1 << PAGE_SHIFT) - 1))
		fail(fx, "vma: %s-%s is not a page-aligned, non-empty range", range, dash + 1);
	if (strlen(perms) != 4)
		fail(fx, "vma: PERMS looks like rw-p, not '%s'", perms);

	/* the maps columns themselves: "00001000 fe:01 77" */
	if (take_maps_columns(&args, &off, &major, &minor, &inode))
		goto name;
	for (;;) {
		while (isspace((unsigned char)*args))
			args++;
		if (!strncmp(args, "off=", 4) || !strncmp(args, "dev=", 4) ||
		    !strncmp(args, "inode=", 6)) {
			char *tok = next_token(&args), *val = strchr(tok, '=') + 1;

			if (*tok == 'o')
				off = need_u64(fx, val, "vma off=");
			else if (*tok == 'i')
				inode = need_u64(fx, val, "vma inode=");
			else if (sscanf(val, "%x:%x", &major, &minor) != 2)
				fail(fx, "vma: dev= looks like 08:01, not '%s'", val);
			continue;
		}
		break;
	}
name:
	/* what show_vma_header_prefix() prints, trailing space included */
	buf_printf(&line, "%08" PRIx64 "-%08" PRIx64 " %s %08" PRIx64 " %02x:%02x %" PRIu64 " ",
		   start, end, perms, off, major, minor, inode);
	p = rest_of_line(&args);
	if (*p) {
		while (line.len < MAPS_NAME_COL)
			buf_putc(&line, ' ');
		buf_putc(&line, ' ');
		unescape(fx, p, &line, NULL);
	}
	buf_putc(&line, '\n');
	buf_put(&pr->maps, line.data, line.len);
	free(line.data);
}

static void do_pages(struct fixture *fx, char *args)
{
	struct proc *pr = cur_proc(fx, "pages");
	uint64_t vaddr = need_u64(fx, need_token(fx, &args, "VADDR"), "pages VADDR");
	uint64_t count = need_u64(fx, need_token(fx, &args, "COUNT"), "pages COUNT");
	struct run run = { .count = count, .line = fx->lineno };
	bool stepped = false;
	char *tok;

	if (vaddr & ((1 << PAGE_SHIFT) - 1))
		fail(fx, "pages: 0x%" PRIx64 " is not page aligned", vaddr);
	run.index = vaddr >> PAGE_SHIFT;

	while ((tok = next_token(&args))) {
		uint64_t v;

		if (!strncmp(tok, "pfn=", 4)) {
			v = need_u64(fx, tok + 4, "pfn=");
			if (v > PM_PFN_MASK)
				fail(fx, "pfn=0x%" PRIx64 " does not fit in 55 bits", v);
			run.value |= v | 1ULL << 63;
			if (!stepped)
				run.pfn_step = 1;
		} else if (!strncmp(tok, "step=", 5)) {
			run.pfn_step = need_u64(fx, tok + 5, "step=");
			stepped = true;
		} else if (!strncmp(tok, "swap=", 5)) {
			char *colon = strchr(tok + 5, ':');
			uint64_t type, off;

			if (!colon)
				fail(fx, "swap= looks like TYPE:OFFSET, not '%s'", tok + 5);
			*colon = '\0';
			type = need_u64(fx, tok + 5, "swap TYPE");
			off = need_u64(fx, colon + 1, "swap OFFSET");
			if (type > PM_SWAP_TYPE_MASK || off > PM_SWAP_OFF_MASK)
				fail(fx, "swap=%s:%s does not fit (type 0-31, offset 50 bits)",
				     tok + 5, colon + 1);
			run.value |= type | off << PM_SWAP_OFF_SHIFT | 1ULL << 62;
			run.swap_step = 1;
		} else if (!strncmp(tok, "raw=", 4)) {
			run.value |= need_u64(fx, tok + 4, "raw=");
		} else {
			parse_flag_list(fx, tok, pagemap_flags, "pagemap", &run.value);
		}
	}
	if (run.pfn_step && run.swap_step)
		fail(fx, "pages: pfn= and swap= exclude each other");
	runs_add(&pr->pagemap, &run);
}

static void do_fd(struct fixture *fx, char *args, bool fdinfo)
{
	struct proc *pr = cur_proc(fx, fdinfo ? "fdinfo" : "fd");
	char *tag = fdinfo ? heredoc_tag(args) : NULL;
	uint64_t n = need_u64(fx, need_token(fx, &args, "fd number"), "fd");
	char *target = rest_of_line(&args);
	struct fdent *fe;
	size_t i;

	if (fdinfo && !tag)
		fail(fx, "fdinfo needs its text: fdinfo N [TARGET] <<EOF");
	if (!fdinfo && !*target)
		fail(fx, "fd needs a TARGET for the fd/N symlink");
	if (n > 0x7fffffff)
		fail(fx, "fd %" PRIu64 " is out of range", n);
	for (i = 0; i < pr->nfds; i++)
		if (pr->fds[i].fd == n)
			fail(fx, "fd %" PRIu64 " is given twice", n);
	pr->fds = xrealloc(pr->fds, pr->nfds + 1, sizeof(*pr->fds));
	fe = &pr->fds[pr->nfds++];
	*fe = (struct fdent){ .fd = n };
	if (*target) {
		struct buf t = { 0 };

		unescape(fx, target, &t, NULL);
		if (!t.len || memchr(t.data, '\0', t.len))
			fail(fx, "a symlink target cannot be empty or hold NUL bytes");
		fe->target = t.data;
	}
	if (fdinfo) {
		read_heredoc(fx, tag, &fe->info);
		fe->has_info = true;
	}
}

static void do_truncate(struct fixture *fx, char *args)
{
	char *what = need_token(fx, &args, "file to truncate");
	uint64_t at = need_u64(fx, need_token(fx, &args, "VADDR or PFN"), "truncate");
	char *tok = next_token(&args);
	uint64_t extra = 0;
	int i;

	/* "+N" cuts N bytes into the entry: a torn u64 */
	if (tok) {
		if (*tok != '+' || (extra = need_u64(fx, tok + 1, "truncate +BYTES")) > 7)
			fail(fx, "truncate: expected +BYTES (0-7) after the entry, not '%s'", tok);
		no_more(fx, &args);
	}
	if (!strcmp(what, "pagemap")) {
		struct proc *pr = cur_proc(fx, "truncate pagemap");

		if (at & ((1 << PAGE_SHIFT) - 1))
			fail(fx, "truncate pagemap: 0x%" PRIx64 " is not page aligned", at);
		if ((at >> PAGE_SHIFT) > INT64_MAX / 8 - 1)
			fail(fx, "truncate pagemap: 0x%" PRIx64 " is out of range", at);
		pr->pm_truncate = true;
		pr->pm_truncate_at = (at >> PAGE_SHIFT) * 8 + extra;
		return;
	}
	for (i = 0; i < PF_NR; i++) {
		if (!strcmp(what, pfnfile_names[i])) {
			if (at > INT64_MAX / 8 - 1)
				fail(fx, "truncate %s: PFN 0x%" PRIx64 " is out of range", what, at);
			fx->pfn_used[i] = true;
			fx->pfn_truncate[i] = true;
			fx->pfn_truncate_at[i] = at * 8 + extra;
			return;
		}
	}
	fail(fx, "truncate knows pagemap, kpageflags, kpagecount and kpagepin, not '%s'", what);
}

static void do_omit(struct fixture *fx, char *args)
{
	struct proc *pr = cur_proc(fx, "omit");
	char *tok;

	while ((tok = next_token(&args))) {
		const struct flagname *f;

		for (f = omit_names; f->name; f++)
			if (!strcmp(f->name, tok))
				break;
		if (!f->name)
			fail(fx, "omit knows maps pagemap status stat comm fd fdinfo, not '%s'", tok);
		pr->omit |= 1U << f->bit;
	}
}

static void do_raw(struct fixture *fx, char *args)
{
	char *tag = heredoc_tag(args);
	char *path = need_token(fx, &args, "raw FILE");
	struct rawfile rf = { .line = fx->lineno };
	struct proc *pr = NULL;

	if (*path == '/') {
		path++;
	} else {
		pr = cur_proc(fx, "raw FILE (FILE not starting with '/')");
	}
	check_relpath(fx, path);
	rf.path = xstrdup(path);
	if (tag) {
		no_more(fx, &args);
		read_heredoc(fx, tag, &rf.data);
	} else {
		bool stop;

		unescape(fx, rest_of_line(&args), &rf.data, &stop);
		if (!stop)
			buf_putc(&rf.data, '\n');
	}
	if (pr) {
		pr->raws = xrealloc(pr->raws, pr->nraws + 1, sizeof(*pr->raws));
		pr->raws[pr->nraws++] = rf;
	} else {
		fx->raws = xrealloc(fx->raws, fx->nraws + 1, sizeof(*fx->raws));
		fx->raws[fx->nraws++] = rf;
	}
}

static void do_pfnfile(struct fixture *fx, enum pfnfile which, char *args)
{
	const char *name = pfnfile_names[which];
	uint64_t pfn = need_u64(fx, need_token(fx, &args, "PFN"), name);
	uint64_t count = need_u64(fx, need_token(fx, &args, "COUNT"), name);
	struct run run = { .index = pfn, .count = count, .line = fx->lineno };
	char *tok;

	switch (which) {
	case PF_KPAGEFLAGS:
		parse_flag_list(fx, rest_of_line(&args), kpageflags_flags, name, &run.value);
		break;
	case PF_KPAGECOUNT:
		run.value = need_u64(fx, need_token(fx, &args, "VALUE"), name);
		no_more(fx, &args);
		break;
	case PF_KPAGEPIN:
		while ((tok = next_token(&args))) {
			uint64_t v;

			if (!strncmp(tok, "ref=", 4)) {
				v = need_u64(fx, tok + 4, "ref=");
				if (v > KPP_COUNT_MAX)
					fail(fx, "ref=%" PRIu64 " exceeds the 24-bit field", v);
				run.value |= v << KPP_REFCOUNT_SHIFT;
			} else if (!strncmp(tok, "pins=", 5)) {
				v = need_u64(fx, tok + 5, "pins=");
				if (v > KPP_COUNT_MAX)
					fail(fx, "pins=%" PRIu64 " exceeds the 24-bit field", v);
				run.value |= v << KPP_PINCOUNT_SHIFT;
			} else if (!strncmp(tok, "raw=", 4)) {
				run.value |= need_u64(fx, tok + 4, "raw=");
			} else {
				parse_flag_list(fx, tok, kpagepin_flags, name, &run.value);
			}
		}
		break;
	case PF_NR:
		break;
	}
	fx->pfn_used[which] = true;
	runs_add(&fx->pfn[which], &run);
}

static void parse(struct fixture *fx)
{
	ssize_t n;

	while ((n = getline(&fx->line, &fx->linesz, fx->in)) >= 0) {
		char *p, *word;

		fx->lineno++;
		if (n && fx->line[n - 1] == '\n')
			fx->line[--n] = '\0';
		if (memchr(fx->line, '\0', n))
			fail(fx, "NUL byte in the description (write \\x00)");
		strip_comment(fx->line);
		p = fx->line;
		word = next_token(&p);
		if (!word)
			continue;

		if (!strcmp(word, "pid"))
			do_pid(fx, p);
		else if (!strcmp(word, "comm")) {
			struct proc *pr = cur_proc(fx, word);

			pr->comm.len = 0;
			unescape(fx, rest_of_line(&p), &pr->comm, NULL);
		} else if (!strcmp(word, "status"))
			do_status(fx, p);
		else if (!strcmp(word, "stat"))
			do_stat(fx, p);
		else if (!strcmp(word, "maps"))
			do_maps(fx, p);
		else if (!strcmp(word, "vma"))
			do_vma(fx, p);
		else if (!strcmp(word, "pages"))
			do_pages(fx, p);
		else if (!strcmp(word, "fd"))
			do_fd(fx, p, false);
		else if (!strcmp(word, "fdinfo"))
			do_fd(fx, p, true);
		else if (!strcmp(word, "truncate"))
			do_truncate(fx, p);
		else if (!strcmp(word, "omit"))
			do_omit(fx, p);
		else if (!strcmp(word, "raw"))
			do_raw(fx, p);
		else if (!strcmp(word, "kpageflags"))
			do_pfnfile(fx, PF_KPAGEFLAGS, p);
		else if (!strcmp(word, "kpagecount"))
			do_pfnfile(fx, PF_KPAGECOUNT, p);
		else if (!strcmp(word, "kpagepin"))
			do_pfnfile(fx, PF_KPAGEPIN, p);
		else if (!strcmp(word, "kpagepin-version")) {
			bool stop;

			fx->kpp_version.len = 0;
			unescape(fx, rest_of_line(&p), &fx->kpp_version, &stop);
			if (!stop)
				buf_putc(&fx->kpp_version, '\n');
			fx->have_kpp_version = true;
		} else if (!strcmp(word, "kpagepin-stats")) {
			char *tag = heredoc_tag(p);

			if (!tag)
				fail(fx, "kpagepin-stats needs its text: kpagepin-stats <<EOF");
			no_more(fx, &p);
			fx->kpp_stats.len = 0;
			read_heredoc(fx, tag, &fx->kpp_stats);
			fx->have_kpp_stats = true;
		} else if (!strcmp(word, "maxpfn")) {
			fx->maxpfn = need_u64(fx, need_token(fx, &p, "N"), "maxpfn");
			no_more(fx, &p);
		} else
			fail(fx, "unknown directive '%s'", word);
	}
	if (ferror(fx->in))
		fail_nolines("%s: %s", fx->desc, strerror(errno));
}

/* ---- writing ------------------------------------------------------------ */

static void mkdirs(const struct fixture *fx, const char *path, bool last_too)
{
	char *p = xstrdup(path), *s;

	for (s = p; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (*p && mkdirat(fx->outfd, p, 0755) && errno != EEXIST)
			fail_nolines("%s/%s: %s", fx->outdir, p, strerror(errno));
		*s = '/';
	}
	if (last_too && mkdirat(fx->outfd, p, 0755) && errno != EEXIST)
		fail_nolines("%s/%s: %s", fx->outdir, p, strerror(errno));
	free(p);
}

static int open_out(const struct fixture *fx, const char *path)
{
	int fd;

	mkdirs(fx, path, false);
	fd = openat(fx->outfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_nolines("%s/%s: %s", fx->outdir, path, strerror(errno));
	return fd;
}

static void write_all(const struct fixture *fx, int fd, const char *path,
		      const void *data, size_t len, off_t off)
{
	const char *p = data;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fail_nolines("%s/%s: %s", fx->outdir, path, strerror(errno));
		}
		p += n;
		len -= n;
		off += n;
	}
}

static void write_file(const struct fixture *fx, const char *path, const struct buf *b)
{
	int fd = open_out(fx, path);

	write_all(fx, fd, path, b->data ? b->data : "", b->len, 0);
	close(fd);
}

static void set_bytes(const struct fixture *fx, int fd, const char *path, uint64_t bytes)
{
	if (bytes > INT64_MAX || ftruncate(fd, (off_t)bytes))
		fail_nolines("%s/%s: cannot make it %" PRIu64 " bytes long: %s",
			     fx->outdir, path, bytes, strerror(errno ? errno : EFBIG));
}

static void set_size(const struct fixture *fx, int fd, const char *path, uint64_t entries)
{
	if (entries > INT64_MAX / 8)
		fail_nolines("%s/%s: %" PRIu64 " entries are too many", fx->outdir, path, entries);
	set_bytes(fx, fd, path, entries * 8);
}

/* Write the u64 runs sparsely; returns the entry count the file reaches. */
static uint64_t write_runs(struct fixture *fx, int fd, const char *path,
			   const struct runs *runs)
{
	enum { CHUNK = 8192 };
	uint64_t *chunk = xrealloc(NULL, CHUNK, sizeof(uint64_t));
	uint64_t top = 0;
	size_t r;

	for (r = 0; r < runs->n; r++) {
		const struct run *run = &runs->v[r];
		uint64_t i = 0;

		fx->lineno = run->line;
		if (run->index > (INT64_MAX / 8) - run->count)
			fail(fx, "entries beyond 2^60 bytes cannot be written");
		while (i < run->count) {
			uint64_t n = run->count - i < CHUNK ? run->count - i : CHUNK;
			uint64_t j;

			for (j = 0; j < n; j++) {
				uint64_t v = run->value, k = i + j;

				if (run->pfn_step)
					v = (v & ~PM_PFN_MASK) |
					    (((v & PM_PFN_MASK) + k * run->pfn_step) & PM_PFN_MASK);
				if (run->swap_step) {
					uint64_t off = (v >> PM_SWAP_OFF_SHIFT) & PM_SWAP_OFF_MASK;

					off = (off + k) & PM_SWAP_OFF_MASK;
					v = (v & ~(PM_SWAP_OFF_MASK << PM_SWAP_OFF_SHIFT)) |
					    off << PM_SWAP_OFF_SHIFT;
				}
				chunk[j] = htole64(v);
			}
			if (pwrite(fd, chunk, n * 8, (off_t)((run->index + i) * 8)) != (ssize_t)(n * 8))
				fail(fx, "writing %s: %s", path,
				     errno ? strerror(errno) : "short write");
			i += n;
		}
		if (run->index + run->count > top)
			top = run->index + run->count;
	}
	free(chunk);
	return top;
}

/* Highest end address of the parseable maps lines (user part only). */
static uint64_t maps_extent(const struct buf *maps)
{
	const char *p = maps->data, *end = p ? p + maps->len : NULL;
	uint64_t top = 0;

	while (p && p < end) {
		unsigned long long s, e;
		const char *nl = memchr(p, '\n', end - p);

		if (sscanf(p, "%llx-%llx", &s, &e) == 2 && e <= USER_VA_END && e > top)
			top = e;
		p = nl ? nl + 1 : NULL;
	}
	return top;
}

static bool has_raw(const struct proc *pr, const char *name)
{
	size_t i;

	for (i = 0; i < pr->nraws; i++)
		if (!strcmp(pr->raws[i].path, name))
			return true;
	return false;
}

static const struct buf *raw_data(const struct proc *pr, const char *name)
{
	size_t i;
	const struct buf *b = NULL;

	for (i = 0; i < pr->nraws; i++)
		if (!strcmp(pr->raws[i].path, name))
			b = &pr->raws[i].data;
	return b;
}

/* kernel order of the status lines we may write */
static const char *const status_order[] = {
	"Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid",
	"Uid", "Gid", "FDSize", "Groups", "NStgid", "NSpid", "NSpgid", "NSsid",
	"Kthread", "VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS",
	"RssAnon", "RssFile", "RssShmem", "VmData", "VmStk", "VmExe", "VmLib",
	"VmPTE", "VmSwap", "HugetlbPages", "CoreDumping", "THP_enabled",
	"untag_mask", "Threads", NULL
};

static bool status_dropped(const struct proc *pr, const char *key)
{
	size_t i;

	for (i = 0; i < pr->nstatus_drop; i++)
		if (!strcmp(pr->status_drop[i], key))
			return true;
	return false;
}

static const struct kv *status_given(const struct proc *pr, const char *key)
{
	const struct kv *kv = NULL;
	size_t i;

	for (i = 0; i < pr->nstatus; i++)
		if (!strcmp(pr->status[i].key, key))
			kv = &pr->status[i];	/* the last one wins */
	return kv;
}

static bool is_kb_key(const char *key)
{
	return !strncmp(key, "Vm", 2) || !strncmp(key, "Rss", 3) ||
	       !strcmp(key, "HugetlbPages");
}

static void status_line(struct buf *out, const char *key, const struct buf *val)
{
	const char *v = val->data ? val->data : "";
	char num[32];

	buf_printf(out, "%s:\t", key);
	if ((!strcmp(key, "Uid") || !strcmp(key, "Gid")) && val->len &&
	    strspn(v, "0123456789") == val->len) {
		buf_printf(out, "%s\t%s\t%s\t%s\n", v, v, v, v);
		return;
	}
	if (is_kb_key(key) && sscanf(v, "%31[0-9]", num) == 1) {
		const char *rest = v + strlen(num);

		while (*rest == ' ')
			rest++;
		if (!*rest || !strcmp(rest, "kB")) {
			buf_printf(out, "%8s kB\n", num);
			return;
		}
	}
	buf_put(out, v, val->len);
	buf_putc(out, '\n');
}

static void default_status(const struct proc *pr, const char *key, struct buf *val)
{
	size_t i;

	val->len = 0;
	if (!strcmp(key, "Name")) {
		/* proc_task_name() escapes only '\n' and '\\' */
		for (i = 0; i < pr->comm.len; i++) {
			char c = pr->comm.data[i];

			if (c == '\n')
				buf_put(val, "\\n", 2);
			else if (c == '\\')
				buf_put(val, "\\\\", 2);
			else
				buf_putc(val, c);
		}
	} else if (!strcmp(key, "State")) {
		buf_printf(val, "%c (%s)", pr->state,
			   pr->state == 'R' ? "running" : pr->state == 'D' ? "disk sleep" :
			   pr->state == 'Z' ? "zombie" : pr->state == 'T' ? "stopped" :
			   "sleeping");
	} else if (!strcmp(key, "Tgid") || !strcmp(key, "Pid")) {
		buf_printf(val, "%ld", pr->pid);
	} else if (!strcmp(key, "PPid")) {
		buf_printf(val, "%ld", pr->ppid);
	} else if (!strcmp(key, "Uid") || !strcmp(key, "Gid")) {
		buf_put(val, "0", 1);
	}
}

static void build_status(const struct proc *pr, struct buf *out)
{
	static const char *const defaults[] = {
		"Name", "State", "Tgid", "Pid", "PPid", "Uid", "Gid", NULL
	};
	struct buf def = { 0 };
	size_t i, k;

	for (k = 0; status_order[k]; k++) {
		const char *key = status_order[k];
		const struct kv *kv = status_given(pr, key);
		bool is_default = false;

		for (i = 0; defaults[i]; i++)
			if (!strcmp(defaults[i], key))
				is_default = true;
		if (status_dropped(pr, key))
			continue;
		if (kv) {
			status_line(out, key, &kv->val);
		} else if (is_default) {
			default_status(pr, key, &def);
			status_line(out, key, &def);
		}
	}
	/* keys we do not know go last, in the order given */
	for (i = 0; i < pr->nstatus; i++) {
		const char *key = pr->status[i].key;

		for (k = 0; status_order[k]; k++)
			if (!strcmp(status_order[k], key))
				break;
		if (!status_order[k] && status_given(pr, key) == &pr->status[i] &&
		    !status_dropped(pr, key))
			status_line(out, key, &pr->status[i].val);
	}
	free(def.data);
}

static void build_stat(const struct proc *pr, struct buf *out)
{
	/* fields 1-4, then 5-21, 22 starttime, 23-52 */
	buf_printf(out, "%ld (", pr->pid);
	buf_put(out, pr->comm.data, pr->comm.len);
	buf_printf(out, ") %c %ld %ld %ld 0 -1 4194304 100 0 0 0 1 1 0 0 20 0 1 0 %llu "
		   "8388608 256 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
		   "0 0 0 0 0 0 0 0 0\n",
		   pr->state, pr->ppid, pr->pid, pr->pid, pr->starttime);
}

static const char *join_path(struct buf *pb, const char *dir, const char *name)
{
	pb->len = 0;
	buf_put(pb, dir, strlen(dir));
	buf_putc(pb, '/');
	buf_put(pb, name, strlen(name));
	return pb->data;
}

static void write_proc(struct fixture *fx, const struct proc *pr)
{
	struct buf b = { 0 }, pb = { 0 };
	const char *path;
	char dir[64];
	size_t i;

	snprintf(dir, sizeof(dir), "proc/%ld", pr->pid);
	mkdirs(fx, dir, true);

#define P(name) (path = join_path(&pb, dir, name))
	if (!(pr->omit & OMIT_MAPS) && !has_raw(pr, "maps"))
		write_file(fx, P("maps"), &pr->maps);

	if (!(pr->omit & OMIT_PAGEMAP) && !has_raw(pr, "pagemap")) {
		const struct buf *maps = raw_data(pr, "maps");
		uint64_t top, want;
		int fd = open_out(fx, P("pagemap"));

		top = write_runs(fx, fd, path, &pr->pagemap);
		want = maps_extent(maps ? maps : &pr->maps) >> PAGE_SHIFT;
		if (want > top)
			set_size(fx, fd, path, want);
		if (pr->pm_truncate)
			set_bytes(fx, fd, path, pr->pm_truncate_at);
		close(fd);
	}

	if (!(pr->omit & OMIT_STATUS) && !has_raw(pr, "status")) {
		b.len = 0;
		build_status(pr, &b);
		write_file(fx, P("status"), &b);
	}
	if (!(pr->omit & OMIT_STAT) && !has_raw(pr, "stat")) {
		b.len = 0;
		build_stat(pr, &b);
		write_file(fx, P("stat"), &b);
	}
	if (!(pr->omit & OMIT_COMM) && !has_raw(pr, "comm")) {
		b.len = 0;
		buf_put(&b, pr->comm.data, pr->comm.len);
		buf_putc(&b, '\n');
		write_file(fx, P("comm"), &b);
	}
	if (!(pr->omit & OMIT_FD))
		mkdirs(fx, P("fd"), true);
	if (!(pr->omit & OMIT_FDINFO))
		mkdirs(fx, P("fdinfo"), true);

	for (i = 0; i < pr->nfds; i++) {
		const struct fdent *fe = &pr->fds[i];
		char name[32];

		if (fe->target && !(pr->omit & OMIT_FD)) {
			snprintf(name, sizeof(name), "fd/%u", fe->fd);
			P(name);
			mkdirs(fx, path, false);
			if (unlinkat(fx->outfd, path, 0) && errno != ENOENT)
				fail_nolines("%s/%s: %s", fx->outdir, path, strerror(errno));
			if (symlinkat(fe->target, fx->outfd, path))
				fail_nolines("%s/%s: %s", fx->outdir, path, strerror(errno));
		}
		if (fe->has_info && !(pr->omit & OMIT_FDINFO)) {
			snprintf(name, sizeof(name), "fdinfo/%u", fe->fd);
			write_file(fx, P(name), &fe->info);
		}
	}

	for (i = 0; i < pr->nraws; i++) {
		const struct rawfile *rf = &pr->raws[i];

		write_file(fx, P(rf->path), &rf->data);
	}
#undef P
	free(b.data);
	free(pb.data);
}

static void write_global(struct fixture *fx)
{
	size_t i;
	int w;

	for (w = 0; w < PF_NR; w++) {
		const char *path = pfnfile_paths[w];
		uint64_t top;
		int fd;

		if (!fx->pfn_used[w])
			continue;
		fd = open_out(fx, path);
		top = write_runs(fx, fd, path, &fx->pfn[w]);
		if (fx->maxpfn > top)
			set_size(fx, fd, path, fx->maxpfn);
		if (fx->pfn_truncate[w])
			set_bytes(fx, fd, path, fx->pfn_truncate_at[w]);
		close(fd);
	}
	if (fx->have_kpp_version)
		write_file(fx, "sys/kernel/debug/kpagepin/version", &fx->kpp_version);
	if (fx->have_kpp_stats)
		write_file(fx, "sys/kernel/debug/kpagepin/stats", &fx->kpp_stats);
	for (i = 0; i < fx->nraws; i++)
		write_file(fx, fx->raws[i].path, &fx->raws[i].data);
}

static void free_raws(struct rawfile *raws, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(raws[i].path);
		free(raws[i].data.data);
	}
	free(raws);
}

static void free_fixture(struct fixture *fx)
{
	size_t i, j;

	for (i = 0; i < fx->nprocs; i++) {
		struct proc *pr = &fx->procs[i];

		free(pr->comm.data);
		free(pr->maps.data);
		for (j = 0; j < pr->nstatus; j++) {
			free(pr->status[j].key);
			free(pr->status[j].val.data);
		}
		free(pr->status);
		for (j = 0; j < pr->nstatus_drop; j++)
			free(pr->status_drop[j]);
		free(pr->status_drop);
		free(pr->pagemap.v);
		for (j = 0; j < pr->nfds; j++) {
			free(pr->fds[j].target);
			free(pr->fds[j].info.data);
		}
		free(pr->fds);
		free_raws(pr->raws, pr->nraws);
	}
	free(fx->procs);
	for (i = 0; i < PF_NR; i++)
		free(fx->pfn[i].v);
	free(fx->kpp_version.data);
	free(fx->kpp_stats.data);
	free_raws(fx->raws, fx->nraws);
	free(fx->line);
}

int main(int argc, char **argv)
{
	struct fixture fx = { .outfd = -1 };
	size_t i;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs("Usage: mkfixture DESC OUTDIR\n"
		      "Write a fake /proc and debugfs tree under OUTDIR from the description DESC\n"
		      "(\"-\" reads stdin). The format is documented in tests/helpers/FIXTURES.md.\n",
		      stdout);
		return EXIT_SUCCESS;
	}
	if (argc != 3) {
		fputs("Usage: mkfixture DESC OUTDIR\n", stderr);
		return EXIT_FAILURE;
	}
	fx.desc = argv[1];
	fx.outdir = argv[2];
	fx.in = strcmp(fx.desc, "-") ? fopen(fx.desc, "re") : stdin;
	if (!fx.in)
		fail_nolines("%s: %s", fx.desc, strerror(errno));

	/* parse everything first: a bad description writes nothing */
	parse(&fx);

	fx.outfd = open(*fx.outdir == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx.outfd < 0)
		fail_nolines("%s: %s", fx.outdir, strerror(errno));
	mkdirs(&fx, fx.outdir, true);	/* like mkdir -p */
	close(fx.outfd);
	fx.outfd = open(fx.outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx.outfd < 0)
		fail_nolines("%s: %s", fx.outdir, strerror(errno));
	mkdirs(&fx, "proc", true);

	for (i = 0; i < fx.nprocs; i++)
		write_proc(&fx, &fx.procs[i]);
	write_global(&fx);
	close(fx.outfd);
	if (fx.in != stdin)
		fclose(fx.in);
	free_fixture(&fx);
	return EXIT_SUCCESS;
}
