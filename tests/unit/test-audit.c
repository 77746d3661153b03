// SPDX-License-Identifier: GPL-2.0-or-later
/* Audit check logic on synthetic pages, processes and summaries. */
#include <errno.h>
#include "tap.h"
#include "pininspect/audit.h"

#define PG 4096ULL
#define BIAS_PIN (1025 | (1ULL << KPP_PINCOUNT_SHIFT) | KPP_F_MAYBE_PINNED | KPP_F_ANON | \
		  KPP_F_ANON_EXCLUSIVE | KPP_F_LONGTERM_PINNABLE)
#define NOT_PINNED (1 | KPP_F_ANON | KPP_F_ANON_EXCLUSIVE)

static struct pi_vma vma = { .start = 0x10000, .end = 0x20000, .name = "" };
static struct pi_holder holders[2] = {
	{ .start = 0x10000, .end = 0x14000, .fd = 4, .index = 0, .desc = "io_uring fd 4 buf 0" },
	{ .start = 0x30000, .end = 0x34000, .fd = 4, .index = 1, .desc = "io_uring fd 4 buf 1" },
};

static void make_proc(struct pi_proc *p, uint64_t vmpin_kib, size_t nholders)
{
	memset(p, 0, sizeof(*p));
	p->pid = 42;
	snprintf(p->status.name, sizeof(p->status.name), "synthetic");
	p->status.has_vmpin = true;
	p->status.vmpin_kib = vmpin_kib;
	p->vmas.vmas = &vma;
	p->vmas.n = 1;
	p->holders.h = holders;
	p->holders.n = nholders;
}

/* kpagepin with kpageflags: every check can run */
static const struct pi_audit_caps kpp_caps = {
	.source = PI_SRC_KPAGEPIN, .exclusive_known = true, .longterm_known = true,
	.pfn_visible = true, .layout_known = true,
};

static void all_enabled(bool en[PI_CHK__MAX])
{
	for (int i = 0; i < PI_CHK__MAX; i++)
		en[i] = true;
}

/* a present page at addr with entry pin from an exact source */
static void feed(struct pi_audit_proc *a, uint64_t addr, uint64_t pin, enum pi_source src,
		 const struct pi_holder *h)
{
	struct pi_page pg = { .addr = addr, .present = true, .pin = pin, .pin_known = true,
			      .pfn_known = true, .holder = h, .vma = &vma };

	pi_page_decide(&pg, src);
	pi_audit_page(&pg, a);
}

static void feed_missing(struct pi_audit_proc *a, uint64_t addr, bool swapped,
			 const struct pi_holder *h)
{
	struct pi_page pg = { .addr = addr, .swapped = swapped, .holder = h, .vma = &vma };

	pi_page_decide(&pg, PI_SRC_BPF);
	pi_audit_page(&pg, a);
}

static size_t count(const struct pi_audit_proc *a, enum pi_check_id id)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		n += a->f[i].check == id;
	return n;
}

static const struct pi_finding *first(const struct pi_audit_proc *a, enum pi_check_id id)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->f[i].check == id)
			return &a->f[i];
	return NULL;
}

static void test_selection(void)
{
	bool en[PI_CHK__MAX];
	const char *bad = NULL;
	size_t badlen = 0;
	enum pi_severity sev;

	ok(pi_checks_select(NULL, NULL, en, &bad, &badlen) == 0 && en[0] && en[PI_CHK__MAX - 1],
	   "no --check/--skip: every check");
	ok(pi_checks_select("desync,bias-only", NULL, en, &bad, &badlen) == 0 &&
	   en[PI_CHK_HOLDER_NOT_PINNED] && en[PI_CHK_BIAS_ONLY] && !en[PI_CHK_ORPHANED_PIN],
	   "--check selects, desync is an alias of holder-not-pinned");
	ok(pi_checks_select(NULL, "bias-only,pins-unaccounted", en, &bad, &badlen) == 0 &&
	   !en[PI_CHK_BIAS_ONLY] && !en[PI_CHK_PINS_UNACCOUNTED] && en[PI_CHK_PINNED_SWAPPED],
	   "--skip removes");
	is_int(pi_checks_select("orphaned-pin,nope", NULL, en, &bad, &badlen), -EINVAL,
	       "unknown id rejected");
	ok(badlen == 4 && strncmp(bad, "nope", 4) == 0, "unknown id reported");
	is_int(pi_checks_select(NULL, "pinned", en, &bad, &badlen), -EINVAL,
	       "a prefix is not an id");
	ok(pi_severity_from_name("warning", &sev) == 0 && sev == PI_SEV_WARNING,
	   "severity names parse");
	ok(pi_severity_from_name("fatal", &sev) < 0, "unknown severity rejected");
	ok(PI_SEV_ERROR > PI_SEV_WARNING && PI_SEV_WARNING > PI_SEV_INFO, "severities ordered");
	for (int i = 0; i < PI_CHK__MAX; i++) {
		const struct pi_check_info *ci = pi_check_info(i);

		if (!ci->id || !ci->description || !ci->hint || pi_check_lookup(ci->id,
		    strlen(ci->id)) != i) {
			ok(0, "check %d fully described", i);
			return;
		}
	}
	ok(1, "every check has id, description, hint and is found by its id");
}

static void test_unmet(void)
{
	struct pi_audit_caps iou = { .source = PI_SRC_IOURING, .exclusive_known = false };
	struct pi_audit_caps bpf = { .source = PI_SRC_BPF, .exclusive_known = true };
	struct pi_audit_caps kpp = { .source = PI_SRC_KPAGEPIN, .exclusive_known = true,
				     .longterm_known = true, .pfn_visible = true, .layout_known = true };
	int n = 0;

	ok(pi_check_unmet(PI_CHK_HOLDER_NOT_PINNED, &iou) != NULL,
	   "desync needs an exact source: skipped with io_uring holders");
	ok(pi_check_unmet(PI_CHK_BIAS_ONLY, &iou) && pi_check_unmet(PI_CHK_LONGTERM_UNPINNABLE, &iou),
	   "bias-only and longterm skipped with io_uring holders");
	ok(pi_check_unmet(PI_CHK_PINNED_NOT_EXCLUSIVE, &iou) != NULL,
	   "exclusivity unknown: pinned-not-exclusive skipped");
	ok(!pi_check_unmet(PI_CHK_PINNED_NOT_PRESENT, &iou) && !pi_check_unmet(PI_CHK_ORPHANED_PIN, &iou),
	   "pagemap/fdinfo checks run with holders only");
	ok(!pi_check_unmet(PI_CHK_HOLDER_NOT_PINNED, &bpf) &&
	   pi_check_unmet(PI_CHK_LONGTERM_UNPINNABLE, &bpf) != NULL,
	   "bpf without the zone bits: desync runs, longterm skipped");
	bpf.longterm_known = true;
	ok(!pi_check_unmet(PI_CHK_LONGTERM_UNPINNABLE, &bpf), "bpf with the zone bits: longterm runs");
	for (int i = 0; i < PI_CHK__MAX; i++)
		n += pi_check_unmet(i, &kpp) == NULL;
	is_int(n, PI_CHK__MAX, "kpagepin with kpageflags: every check runs");
	kpp.pfn_visible = false;
	ok(pi_check_unmet(PI_CHK_LONGTERM_IN_MOVABLE, &kpp) != NULL,
	   "longterm-pin-in-movable needs PFNs: skipped without privilege");
	kpp.pfn_visible = true;
	kpp.layout_known = false;
	ok(pi_check_unmet(PI_CHK_LONGTERM_IN_MOVABLE, &kpp) != NULL,
	   "longterm-pin-in-movable needs the layout");
	ok(!pi_check_unmet(PI_CHK_MEMLOCK_HEADROOM, &iou) && !pi_check_unmet(PI_CHK_FORK_UNSAFE, &iou),
	   "memlock-headroom and fork-unsafe run with holders only");
	ok(pi_check_unmet(PI_CHK_VFIO_PINS, &iou) != NULL, "vfio-pins needs an exact source");
}

static void test_clean(void)
{
	struct pi_audit_proc a;
	struct pi_proc p;
	bool en[PI_CHK__MAX];

	all_enabled(en);
	make_proc(&p, 16, 1);
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	for (uint64_t addr = 0x10000; addr < 0x14000; addr += PG)
		feed(&a, addr, BIAS_PIN, PI_SRC_BPF, &holders[0]);
	for (uint64_t addr = 0x14000; addr < 0x18000; addr += PG)
		feed(&a, addr, NOT_PINNED, PI_SRC_BPF, NULL);
	pi_audit_proc_finish(&a);
	is_int(a.n, 1, "clean: one finding");
	is_int(count(&a, PI_CHK_BIAS_ONLY), 1, "clean: it is bias-only (info)");
	ok(first(&a, PI_CHK_BIAS_ONLY) && first(&a, PI_CHK_BIAS_ONLY)->pages == 4 &&
	   first(&a, PI_CHK_BIAS_ONLY)->start == 0x10000 && first(&a, PI_CHK_BIAS_ONLY)->end == 0x14000,
	   "clean: bias-only covers the 4 pinned pages as one run");
	is_int(a.held, 4, "clean: 4 pages held");
	pi_audit_proc_free(&a);

	/* exact pins on a large folio: not even bias-only */
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	for (uint64_t addr = 0x10000; addr < 0x14000; addr += PG)
		feed(&a, addr, 513 | (1ULL << KPP_PINCOUNT_SHIFT) | KPP_F_PIN_EXACT | KPP_F_LARGE |
		     KPP_F_ANON | KPP_F_ANON_EXCLUSIVE | KPP_F_MAYBE_PINNED | KPP_F_LONGTERM_PINNABLE,
		     PI_SRC_KPAGEPIN, &holders[0]);
	pi_audit_proc_finish(&a);
	is_int(a.n, 0, "exact pins, VmPin accounted, long-term pinnable: no finding");
	pi_audit_proc_free(&a);
}

static void test_desync(void)
{
	struct pi_audit_proc a;
	struct pi_proc p;
	bool en[PI_CHK__MAX];
	const struct pi_finding *f;
	char msg[256];

	all_enabled(en);
	make_proc(&p, 16, 1);
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	feed(&a, 0xf000, NOT_PINNED, PI_SRC_BPF, NULL);
	for (uint64_t addr = 0x10000; addr < 0x14000; addr += PG)
		feed(&a, addr, NOT_PINNED, PI_SRC_BPF, &holders[0]);
	feed(&a, 0x14000, NOT_PINNED, PI_SRC_BPF, NULL);
	pi_audit_proc_finish(&a);
	f = first(&a, PI_CHK_HOLDER_NOT_PINNED);
	ok(f && f->start == 0x10000 && f->end == 0x14000 && f->pages == 4 &&
	   strcmp(f->holder, "io_uring fd 4 buf 0") == 0,
	   "desync: holder-not-pinned for exactly the buffer's pages");
	is_int(count(&a, PI_CHK_VMPIN_UNACCOUNTED), 0, "desync explains VmPin: no vmpin-unaccounted");
	is_int(a.n, 1, "desync: nothing else");
	pi_finding_message(f, msg, sizeof(msg));
	ok(strstr(msg, "io_uring fd 4 buf 0") && strstr(msg, "desync"), "desync message: %s", msg);
	pi_audit_proc_free(&a);

	/* a child that inherited the ring: VmPin 0, its copies are rightly not pinned */
	make_proc(&p, 0, 1);
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	for (uint64_t addr = 0x10000; addr < 0x14000; addr += PG)
		feed(&a, addr, NOT_PINNED, PI_SRC_BPF, &holders[0]);
	pi_audit_proc_finish(&a);
	is_int(a.n, 0, "inherited ring (VmPin 0): no desync");
	pi_audit_proc_free(&a);

	/* disabled: not reported */
	make_proc(&p, 16, 1);
	en[PI_CHK_HOLDER_NOT_PINNED] = false;
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	for (uint64_t addr = 0x10000; addr < 0x14000; addr += PG)
		feed(&a, addr, NOT_PINNED, PI_SRC_BPF, &holders[0]);
	pi_audit_proc_finish(&a);
	is_int(count(&a, PI_CHK_HOLDER_NOT_PINNED), 0, "--skip=holder-not-pinned: no finding");
	is_int(count(&a, PI_CHK_VMPIN_UNACCOUNTED), 0, "skipped desync still explains VmPin");
	pi_audit_proc_free(&a);
}

static void test_mapping(void)
{
	struct pi_audit_proc a;
	struct pi_proc p;
	bool en[PI_CHK__MAX];
	const struct pi_finding *f;

	all_enabled(en);
	make_proc(&p, 16, 1);
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	feed_missing(&a, 0x10000, false, &holders[0]);
	feed_missing(&a, 0x11000, false, &holders[0]);
	feed_missing(&a, 0x12000, true, &holders[0]);
	feed(&a, 0x13000, BIAS_PIN & ~KPP_F_ANON_EXCLUSIVE, PI_SRC_BPF, &holders[0]);
	pi_audit_proc_finish(&a);
	f = first(&a, PI_CHK_PINNED_NOT_PRESENT);
	ok(f && f->pages == 2 && f->start == 0x10000 && f->end == 0x12000,
	   "pinned-not-present: the 2 unmapped pages");
	f = first(&a, PI_CHK_PINNED_SWAPPED);
	ok(f && f->pages == 1 && f->start == 0x12000, "pinned-swapped: the swapped page");
	f = first(&a, PI_CHK_PINNED_NOT_EXCLUSIVE);
	ok(f && f->pages == 1 && f->start == 0x13000, "pinned-not-exclusive: the shared page");
	is_int(count(&a, PI_CHK_VMPIN_UNACCOUNTED), 0, "holder pages count as held for VmPin");
	pi_audit_proc_free(&a);

	/* a gap or another holder starts a new run */
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	feed(&a, 0x10000, BIAS_PIN, PI_SRC_BPF, NULL);
	feed(&a, 0x12000, BIAS_PIN, PI_SRC_BPF, NULL);
	feed(&a, 0x13000, BIAS_PIN, PI_SRC_BPF, &holders[0]);
	is_int(count(&a, PI_CHK_BIAS_ONLY), 3, "runs split at gaps and holder changes");
	pi_audit_proc_free(&a);

	/* kpagepin says a pinned page is not long-term pinnable */
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	for (uint64_t addr = 0x10000; addr < 0x14000; addr += PG)
		feed(&a, addr, BIAS_PIN & ~KPP_F_LONGTERM_PINNABLE, PI_SRC_KPAGEPIN, &holders[0]);
	f = first(&a, PI_CHK_LONGTERM_UNPINNABLE);
	ok(f && f->pages == 4, "longterm-unpinnable: kpagepin without LONGTERM_PINNABLE");
	pi_audit_proc_free(&a);
	{
		struct pi_audit_caps bpf = { .source = PI_SRC_BPF, .exclusive_known = true };

		pi_audit_proc_init(&a, &p, en, &bpf);
		feed(&a, 0x10000, BIAS_PIN & ~KPP_F_LONGTERM_PINNABLE, PI_SRC_BPF, &holders[0]);
		is_int(count(&a, PI_CHK_LONGTERM_UNPINNABLE), 0,
		       "bpf that cannot read the zone: flag clear means unknown, no finding");
		pi_audit_proc_free(&a);
		bpf.longterm_known = true;
		pi_audit_proc_init(&a, &p, en, &bpf);
		feed(&a, 0x10000, BIAS_PIN & ~KPP_F_LONGTERM_PINNABLE, PI_SRC_BPF, &holders[0]);
		is_int(count(&a, PI_CHK_LONGTERM_UNPINNABLE), 1, "bpf that reads the zone: finding");
		pi_audit_proc_free(&a);
	}
	{
		struct pi_audit_caps iou = { .source = PI_SRC_IOURING };

		pi_audit_proc_init(&a, &p, en, &iou);
		ok(!a.enabled[PI_CHK_HOLDER_NOT_PINNED] && !a.enabled[PI_CHK_BIAS_ONLY] &&
		   a.enabled[PI_CHK_PINNED_NOT_PRESENT], "init turns off checks the caps cannot run");
		pi_audit_proc_free(&a);
	}
}

static void test_accounting(void)
{
	struct pi_audit_proc a;
	struct pi_proc p;
	bool en[PI_CHK__MAX];
	const struct pi_finding *f;
	char msg[256];

	all_enabled(en);
	/* buffer 1 outside every VMA, VmPin still 16 KiB: munmap while registered */
	make_proc(&p, 16, 2);
	p.holders.h = &holders[1];
	p.holders.n = 1;
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	feed(&a, 0x10000, NOT_PINNED, PI_SRC_BPF, NULL);
	pi_audit_proc_finish(&a);
	f = first(&a, PI_CHK_ORPHANED_PIN);
	ok(f && f->start == 0x30000 && f->end == 0x34000 && f->pages == 4,
	   "orphaned-pin: the unmapped buffer");
	is_int(count(&a, PI_CHK_VMPIN_UNACCOUNTED), 0, "orphan explains VmPin");
	pi_audit_proc_free(&a);

	p.status.vmpin_kib = 0;
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	pi_audit_proc_finish(&a);
	is_int(a.n, 0, "buffer outside VMAs without VmPin: a stale entry, not a pin");
	pi_audit_proc_free(&a);

	/* VmPin 64 KiB, 4 pages found */
	make_proc(&p, 64, 1);
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	for (uint64_t addr = 0x10000; addr < 0x14000; addr += PG)
		feed(&a, addr, BIAS_PIN, PI_SRC_BPF, &holders[0]);
	pi_audit_proc_finish(&a);
	f = first(&a, PI_CHK_VMPIN_UNACCOUNTED);
	ok(f && !f->has_range && f->pages == 12 && f->vmpin_kib == 64 && f->found_kib == 16,
	   "vmpin-unaccounted: 48 KiB missing");
	pi_finding_message(f, msg, sizeof(msg));
	ok(strstr(msg, "48 KiB") != NULL, "vmpin-unaccounted message: %s", msg);
	is_int(count(&a, PI_CHK_PINS_UNACCOUNTED), 0, "no reverse finding");
	pi_audit_proc_free(&a);

	/* pins found beyond VmPin (e.g. VFIO charges locked_vm) */
	make_proc(&p, 4, 0);
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	for (uint64_t addr = 0x10000; addr < 0x14000; addr += PG)
		feed(&a, addr, BIAS_PIN, PI_SRC_BPF, NULL);
	pi_audit_proc_finish(&a);
	f = first(&a, PI_CHK_PINS_UNACCOUNTED);
	ok(f && f->pages == 3 && pi_check_info(f->check)->severity == PI_SEV_INFO,
	   "pins-unaccounted: 12 KiB beyond VmPin, info");
	pi_audit_proc_free(&a);

	/* no VmPin line: the accounting checks stay quiet */
	make_proc(&p, 0, 0);
	p.status.has_vmpin = false;
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	feed(&a, 0x10000, BIAS_PIN, PI_SRC_BPF, NULL);
	pi_audit_proc_finish(&a);
	ok(!count(&a, PI_CHK_PINS_UNACCOUNTED) && !count(&a, PI_CHK_VMPIN_UNACCOUNTED),
	   "no VmPin: no accounting finding");
	pi_audit_proc_free(&a);

	is_int(pi_range_unmapped_pages(&p.vmas, 0x1e000, 0x22001), 3,
	       "unmapped pages of a partly mapped, unaligned range");
	is_int(pi_range_unmapped_pages(&p.vmas, 0x10000, 0x20000), 0, "mapped range");
}

static void set_acct(struct pi_accounting *acc, uint64_t soft, uint64_t vmpin, uint64_t vmlck,
		     bool cap)
{
	memset(acc, 0, sizeof(*acc));
	acc->memlock.known = true;
	acc->memlock.soft = acc->memlock.hard = soft;
	acc->has_vmpin = acc->has_vmlck = true;
	acc->vmpin_kib = vmpin;
	acc->vmlck_kib = vmlck;
	acc->cap_known = true;
	acc->cap_ipc_lock = cap;
	pi_accounting_compute(acc);
}

/* the audit of process p with the accounting acc and memlock threshold (-1: default) */
static void audit_memlock(struct pi_audit_proc *a, const struct pi_proc *p, const bool *en,
			  struct pi_accounting *acc, int64_t threshold_kib)
{
	pi_audit_proc_init(a, p, en, &kpp_caps);
	a->acct = acc;
	a->memlock_threshold_kib = threshold_kib;
	pi_audit_proc_finish(a);
}

static void test_memlock(void)
{
	struct pi_audit_proc a;
	struct pi_accounting acc;
	struct pi_proc p;
	bool en[PI_CHK__MAX];
	const struct pi_finding *f;
	char msg[256];

	all_enabled(en);
	make_proc(&p, 256, 0);
	/* 8 MiB limit: 10% is 819 KiB; 256 KiB pinned: 7936 KiB left */
	set_acct(&acc, 8 << 20, 256, 0, false);
	is_int(pi_memlock_threshold_kib(&acc, -1), 819, "default threshold: 10%% of the limit");
	set_acct(&acc, 64ULL << 30, 256, 0, false);
	is_int(pi_memlock_threshold_kib(&acc, -1), 1024, "default threshold: at most 1 MiB");
	is_int(pi_memlock_threshold_kib(&acc, 5), 5, "--memlock-headroom wins");

	set_acct(&acc, 8 << 20, 256, 0, false);
	audit_memlock(&a, &p, en, &acc, -1);
	is_int(count(&a, PI_CHK_MEMLOCK_HEADROOM), 0, "plenty of headroom: quiet");
	pi_audit_proc_free(&a);

	/* 280 KiB limit, VmPin 256 (VmLck 0): 24 KiB left, under 28 */
	set_acct(&acc, 280 << 10, 256, 0, false);
	audit_memlock(&a, &p, en, &acc, -1);
	f = first(&a, PI_CHK_MEMLOCK_HEADROOM);
	ok(f && f->headroom_kib == 24 && f->limit_kib == 280 && f->threshold_kib == 28 &&
	   pi_check_info(f->check)->severity == PI_SEV_WARNING, "memlock-headroom: 24 KiB left warns");
	if (f) {
		pi_finding_message(f, msg, sizeof(msg));
		ok(strstr(msg, "24 KiB") && strstr(msg, "ENOMEM"), "memlock message: %s", msg);
	}
	pi_audit_proc_free(&a);

	/* VmLck (VFIO) larger than VmPin binds */
	set_acct(&acc, 1024 << 10, 0, 1000, false);
	audit_memlock(&a, &p, en, &acc, -1);
	f = first(&a, PI_CHK_MEMLOCK_HEADROOM);
	ok(f && f->headroom_kib == 24, "memlock-headroom: VmLck counts");
	pi_audit_proc_free(&a);

	/* CAP_IPC_LOCK, unlimited: never */
	set_acct(&acc, 280 << 10, 256, 0, true);
	audit_memlock(&a, &p, en, &acc, -1);
	is_int(count(&a, PI_CHK_MEMLOCK_HEADROOM), 0, "CAP_IPC_LOCK: not checked");
	pi_audit_proc_free(&a);
	set_acct(&acc, 0, 256, 0, false);
	acc.memlock.soft_unlimited = true;
	pi_accounting_compute(&acc);
	audit_memlock(&a, &p, en, &acc, -1);
	is_int(count(&a, PI_CHK_MEMLOCK_HEADROOM), 0, "unlimited: not checked");
	pi_audit_proc_free(&a);

	/* over the limit already (limit lowered after registering) */
	set_acct(&acc, 128 << 10, 256, 0, false);
	audit_memlock(&a, &p, en, &acc, 0);
	f = first(&a, PI_CHK_MEMLOCK_HEADROOM);
	ok(f && f->headroom_kib == -128, "memlock-headroom: over the limit, threshold 0");
	pi_audit_proc_free(&a);
}

/* io_uring charges the user: headroom = soft limit - the uid's io_uring buffers when less */
static void test_memlock_user(void)
{
	struct pi_accounting acc[5], *pa[5];
	struct pi_finding f;
	char msg[320];

	/* 1 MiB limit; uid 1000: two processes with 256 KiB each, VmPin 256 */
	for (int i = 0; i < 5; i++) {
		set_acct(&acc[i], 1024 << 10, 256, 0, false);
		acc[i].uid_known = true;
		acc[i].uid = 1000;
		acc[i].iouring_kib = 256;
		pa[i] = &acc[i];
	}
	/* uid 1001, 512 KiB: another user's sum */
	acc[2].uid = 1001;
	acc[2].iouring_kib = 512;
	acc[2].vmpin_kib = 512;
	/* uid 1000 with CAP_IPC_LOCK: its rings charge nobody */
	acc[3].cap_ipc_lock = true;
	acc[3].iouring_kib = 4096;
	/* uid 1000, no rings, VmLck 900 (VFIO): its own counters bind */
	acc[4].iouring_kib = 0;
	acc[4].vmpin_kib = 0;
	acc[4].vmlck_kib = 900;
	pi_accounting_compute(&acc[2]);
	pi_accounting_compute(&acc[4]);
	ok(acc[0].headroom_kib == 768 && !acc[0].headroom_by_user && !acc[0].user_known,
	   "before the pass: per-process headroom 1024 - 256 = 768");
	is_int(pi_iouring_buffer_kib(0x1000, 0x41000), 256, "buffer of 64 pages: 256 KiB");
	is_int(pi_iouring_buffer_kib(0x1800, 0x2001), 8, "unaligned buffer: pages rounded out");
	is_int(pi_iouring_buffer_kib(0x1000, 0x1000), 0, "empty buffer: nothing");
	is_int(pi_iouring_charge_kib(64, true, 2048, 0), 2048,
	       "64 KiB buffer in a THP, VmPin 2048: the whole folio is charged");
	is_int(pi_iouring_charge_kib(64, true, 2048, 1), 64, "with an RDMA MR VmPin is not io_uring's alone");
	is_int(pi_iouring_charge_kib(256, true, 0, 0), 256, "inherited ring (VmPin 0): the buffer pages");
	is_int(pi_iouring_charge_kib(0, true, 512, 0), 0, "VmPin without io_uring buffers: no io_uring charge");
	is_int(pi_iouring_charge_kib(256, false, 0, 0), 256, "no VmPin line: the buffer pages");
	pi_accounting_user_sums(pa, 5);
	ok(acc[0].user_known && acc[0].user_iouring_kib == 512 && acc[0].user_procs == 2,
	   "uid 1000: 2 processes, 512 KiB (CAP_IPC_LOCK and ringless ones do not add)");
	ok(acc[0].proc_headroom_kib == 768 && acc[0].user_headroom_kib == 512 &&
	   acc[0].headroom_kib == 512 && acc[0].headroom_by_user,
	   "uid 1000: headroom 1024 - 512 = 512, by user");
	ok(acc[1].headroom_kib == 512 && acc[1].headroom_by_user, "the other process of uid 1000 too");
	ok(acc[2].user_iouring_kib == 512 && acc[2].headroom_kib == 512 && !acc[2].headroom_by_user,
	   "uid 1001 alone: the user's sum equals its VmPin, process binds (ties go to process)");
	ok(acc[4].user_iouring_kib == 512 && acc[4].headroom_kib == 124 && !acc[4].headroom_by_user,
	   "VmLck 900 binds before the user's 512 KiB");
	ok(acc[3].user_iouring_kib == 512 && acc[3].user_headroom_kib == 512 &&
	   acc[3].headroom_kib == 768 && !acc[3].headroom_by_user &&
	   !pi_accounting_low_headroom(&acc[3], 1000000),
	   "CAP_IPC_LOCK: the user's sum shown, not applied (its rings check none), never low");
	/* the threshold check follows the user's headroom */
	ok(pi_accounting_low_headroom(&acc[0], 600) && !pi_accounting_low_headroom(&acc[0], 500),
	   "threshold 600 KiB warns at 512 KiB left, 500 does not");
	ok(pi_memlock_finding(&acc[0], 600, &f) && f.by_user && f.headroom_kib == 512 &&
	   f.user_iouring_kib == 512 && f.uid == 1000 && f.threshold_kib == 600,
	   "memlock-headroom finding by user");
	pi_finding_message(&f, msg, sizeof(msg));
	ok(strstr(msg, "uid 1000") && strstr(msg, "512 KiB") && strstr(msg, "ENOMEM"),
	   "message: %s", msg);
	ok(!pi_memlock_finding(&acc[0], -1, &f), "default threshold (102 KiB): quiet");
	/* again: idempotent */
	pi_accounting_user_sums(pa, 5);
	ok(acc[0].user_iouring_kib == 512 && acc[0].headroom_kib == 512, "a second pass: the same");
	/* limit lowered under the user's sum: negative, as the kernel would refuse */
	acc[0].memlock.soft = 300 << 10;
	pi_accounting_compute(&acc[0]);
	ok(acc[0].headroom_kib == -212 && acc[0].headroom_by_user, "300 KiB limit: -212 KiB by user");
}

static void test_fork(void)
{
	struct pi_smaps_vma v[3] = {
		{ .start = 0x10000, .end = 0x12000, .dontfork = true },
		{ .start = 0x12000, .end = 0x20000 },
		{ .start = 0x30000, .end = 0x40000, .dontfork = true },
	};
	struct pi_smaps sm = { .v = v, .n = 3 };
	struct pi_holder h[3] = {
		{ .start = 0x10000, .end = 0x14000, .desc = "io_uring fd 4 buf 0" },	/* partial */
		{ .start = 0x30800, .end = 0x33000, .desc = "io_uring fd 4 buf 1" },	/* head shared */
		{ .start = 0x34000, .end = 0x38000, .desc = "io_uring fd 4 buf 2" },	/* clean */
	};
	struct pi_audit_proc a;
	struct pi_proc p;
	bool en[PI_CHK__MAX];
	const struct pi_finding *f;
	char msg[256];

	all_enabled(en);
	make_proc(&p, 0, 0);
	p.status.has_vmpin = false;
	p.holders.h = h;
	p.holders.n = 3;
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	a.smaps = &sm;
	a.max_map_count = 65530;
	pi_audit_proc_finish(&a);
	is_int(count(&a, PI_CHK_FORK_UNSAFE), 2, "fork-unsafe: partial and edge, not the clean buffer");
	f = first(&a, PI_CHK_FORK_UNSAFE);
	ok(f && f->fork == PI_FORK_PARTIAL && f->pages == 4 && f->dontfork_pages == 2 &&
	   f->start == 0x10000 && f->end == 0x14000, "partial DONTFORK: 2 of 4 pages");
	if (f) {
		pi_finding_message(f, msg, sizeof(msg));
		ok(strstr(msg, "2 of 4") != NULL, "partial message: %s", msg);
	}
	f = NULL;
	for (size_t i = 0; i < a.n; i++)
		if (a.f[i].check == PI_CHK_FORK_UNSAFE)
			f = &a.f[i];	/* the last one */
	ok(f && f->fork == PI_FORK_EDGE_SHARED && strcmp(f->detail, "first page") == 0 &&
	   f->start == 0x30000, "head page shared under DONTFORK");
	pi_audit_proc_free(&a);

	/* VMA count at 95% of vm.max_map_count */
	p.holders.n = 1;
	p.holders.h = &h[2];
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	a.smaps = &sm;
	a.max_map_count = 3;
	pi_audit_proc_finish(&a);
	f = first(&a, PI_CHK_FORK_UNSAFE);
	ok(f && f->fork == PI_FORK_MAP_COUNT && f->vma_count == 3 && !f->has_range,
	   "VMA count near vm.max_map_count");
	pi_audit_proc_free(&a);

	/* before 5.9 a buffer without DONTFORK is a finding too */
	ok(pi_release_fork_shares_pinned("5.8.18") && pi_release_fork_shares_pinned("4.19.0-foo") &&
	   !pi_release_fork_shares_pinned("5.9.0") && !pi_release_fork_shares_pinned("6.18.44") &&
	   !pi_release_fork_shares_pinned("garbage"), "kernels before 5.9 share pinned pages at fork");
	{
		struct pi_smaps_vma nv = { .start = 0x10000, .end = 0x20000 };
		struct pi_smaps nsm = { .v = &nv, .n = 1 };

		p.holders.h = h;
		p.holders.n = 1;
		pi_audit_proc_init(&a, &p, en, &kpp_caps);
		a.smaps = &nsm;
		a.fork_shares_pinned = true;
		pi_audit_proc_finish(&a);
		f = first(&a, PI_CHK_FORK_UNSAFE);
		ok(f && f->fork == PI_FORK_NO_DONTFORK && f->pages == 4, "old kernel, no DONTFORK: finding");
		pi_audit_proc_free(&a);
		pi_audit_proc_init(&a, &p, en, &kpp_caps);
		a.smaps = &nsm;
		pi_audit_proc_finish(&a);
		is_int(count(&a, PI_CHK_FORK_UNSAFE), 0, "current kernel, no DONTFORK: quiet");
		pi_audit_proc_free(&a);
	}

	/* no smaps: nothing to say */
	p.holders.h = h;
	p.holders.n = 3;
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	pi_audit_proc_finish(&a);
	is_int(count(&a, PI_CHK_FORK_UNSAFE), 0, "no smaps: no fork finding");
	pi_audit_proc_free(&a);
}

static void test_movable(void)
{
	struct pi_zone_span zones[2] = {
		{ .node = 0, .name = "normal", .start = 0x1000, .end = 0x2000 },
		{ .node = 0, .name = "movable", .start = 0x2000, .end = 0x3000 },
	};
	struct pi_cma_area cma = { .name = "reserved", .start = 0x1800, .end = 0x1900 };
	struct pi_layout l = { .zones = zones, .nzones = 2, .cma = &cma, .ncma = 1,
			       .cma_sysfs = true, .cma_ranges_known = true };
	struct pi_audit_proc a;
	struct pi_proc p;
	bool en[PI_CHK__MAX];
	const struct pi_finding *f;
	char msg[256];
	uint64_t pfns[4] = { 0x1000, 0x2000, 0x2001, 0x1800 };

	all_enabled(en);
	make_proc(&p, 16, 1);
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	a.layout = &l;
	for (int i = 0; i < 4; i++) {
		struct pi_page pg = { .addr = 0x10000 + i * PG, .present = true, .pin = BIAS_PIN,
				      .pin_known = true, .pfn = pfns[i], .pfn_known = true,
				      .holder = &holders[0], .vma = &vma };

		pi_page_decide(&pg, PI_SRC_KPAGEPIN);
		pi_audit_page(&pg, &a);
	}
	/* a not-pinned page in the movable zone is no finding */
	{
		struct pi_page pg = { .addr = 0x15000, .present = true, .pin = NOT_PINNED | KPP_F_PIN_EXACT,
				      .pin_known = true, .pfn = 0x2005, .pfn_known = true, .vma = &vma };

		pi_page_decide(&pg, PI_SRC_KPAGEPIN);
		pi_audit_page(&pg, &a);
	}
	pi_audit_proc_finish(&a);
	is_int(count(&a, PI_CHK_LONGTERM_IN_MOVABLE), 2, "movable: one run in ZONE_MOVABLE, one in CMA");
	f = first(&a, PI_CHK_LONGTERM_IN_MOVABLE);
	ok(f && f->pages == 2 && f->start == 0x11000 && f->has_pfn && f->pfn_start == 0x2000 &&
	   f->pfn_end == 0x2002 && strcmp(f->detail, "ZONE_MOVABLE") == 0 &&
	   pi_check_info(f->check)->severity == PI_SEV_ERROR, "ZONE_MOVABLE run: 2 pages, error");
	f = NULL;
	for (size_t i = 0; i < a.n; i++)
		if (a.f[i].check == PI_CHK_LONGTERM_IN_MOVABLE)
			f = &a.f[i];	/* the last one */
	ok(f && f->pages == 1 && strcmp(f->detail, "CMA area reserved") == 0, "CMA run named");
	if (f) {
		pi_finding_message(f, msg, sizeof(msg));
		ok(strstr(msg, "CMA area reserved") != NULL, "movable message: %s", msg);
	}
	pi_audit_proc_free(&a);

	/* no layout given: off */
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	{
		struct pi_page pg = { .addr = 0x10000, .present = true, .pin = BIAS_PIN, .pin_known = true,
				      .pfn = 0x2000, .pfn_known = true, .holder = &holders[0], .vma = &vma };

		pi_page_decide(&pg, PI_SRC_KPAGEPIN);
		pi_audit_page(&pg, &a);
	}
	is_int(count(&a, PI_CHK_LONGTERM_IN_MOVABLE), 0, "no layout: no movable finding");
	pi_audit_proc_free(&a);
}

static void test_vfio(void)
{
	struct pi_holder vh = { .start = 0x10000, .end = 0x14000, .fd = -1, .desc = "vfio (VmLck)",
				.kind = PI_HOLDER_VFIO };
	struct pi_audit_proc a;
	struct pi_proc p;
	bool en[PI_CHK__MAX];
	const struct pi_finding *f;

	all_enabled(en);
	/* VFIO-like: 4 pinned pages, VmPin 0, VmLck 16, placed as the vfio class */
	make_proc(&p, 0, 0);
	p.status.has_vmlck = true;
	p.status.vmlck_kib = 16;
	p.holders.h = &vh;
	p.holders.n = 1;
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	for (uint64_t addr = 0x10000; addr < 0x14000; addr += PG)
		feed(&a, addr, BIAS_PIN, PI_SRC_BPF, &vh);
	pi_audit_proc_finish(&a);
	f = first(&a, PI_CHK_VFIO_PINS);
	ok(f && f->pages == 4 && f->vmlck_kib == 16 && pi_check_info(f->check)->severity == PI_SEV_INFO,
	   "vfio-pins: the 4 pages, info");
	is_int(count(&a, PI_CHK_PINS_UNACCOUNTED), 0, "vfio class: no pins-unaccounted");
	is_int(count(&a, PI_CHK_ORPHANED_PIN), 0, "vfio holder is no io_uring buffer to orphan");
	is_int((int)a.vfio_pages, 4, "vfio pages counted");
	pi_audit_proc_free(&a);

	/* classified but not placed (VmPin covers some): the VmLck share is vfio */
	make_proc(&p, 4, 0);
	p.status.has_vmlck = true;
	p.status.vmlck_kib = 8;
	p.has_vfio = true;
	p.vfio.vfio = true;
	p.vfio.lock_kib = 8;
	pi_audit_proc_init(&a, &p, en, &kpp_caps);
	for (uint64_t addr = 0x10000; addr < 0x14000; addr += PG)
		feed(&a, addr, BIAS_PIN, PI_SRC_BPF, NULL);
	pi_audit_proc_finish(&a);
	f = first(&a, PI_CHK_VFIO_PINS);
	ok(f && f->pages == 2 && !f->has_range, "vfio-pins: 8 KiB of the 12 beyond VmPin");
	f = first(&a, PI_CHK_PINS_UNACCOUNTED);
	ok(f && f->pages == 1, "pins-unaccounted: the 4 KiB VmLck does not cover");
	pi_audit_proc_free(&a);
}

static void test_orphan_finding(void)
{
	struct pi_rmap_proc rp = { .pid = 77, .comm = "x" };
	struct pi_rmap_holder rh = { .h = { .start = 0x30000, .end = 0x34000,
					    .desc = "io_uring fd 4 buf 1" } };
	struct pi_orphan_attr at = { .proc = &rp, .holder = &rh, .why = "buffer no longer mapped" };
	struct pi_finding f;
	char msg[256];

	pi_orphan_finding(&f, 0x1000, 0x1004, &at);
	ok(f.check == PI_CHK_ORPHANED_PIN && f.has_pfn && f.pages == 4 && f.pfn_runs == 1 &&
	   f.has_range && f.start == 0x30000 && strcmp(f.holder, "io_uring fd 4 buf 1") == 0,
	   "system-wide orphan: PFNs, holder and its range");
	pi_finding_message(&f, msg, sizeof(msg));
	ok(strstr(msg, "mapped by no process") && strstr(msg, "buffer no longer mapped"),
	   "orphan message: %s", msg);
	pi_orphan_finding(&f, 0x1000, 0x1001, NULL);
	ok(!f.has_range && !*f.holder, "unattributed orphan: no holder");
	pi_finding_message(&f, msg, sizeof(msg));
	ok(strstr(msg, "holder: unknown") != NULL, "unattributed message: %s", msg);
}

int main(void)
{
	test_selection();
	test_unmet();
	test_clean();
	test_desync();
	test_mapping();
	test_accounting();
	test_memlock();
	test_memlock_user();
	test_fork();
	test_movable();
	test_vfio();
	test_orphan_finding();
	return tap_done();
}
