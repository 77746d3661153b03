// SPDX-License-Identifier: GPL-2.0
/*
 * kpagepin: per-PFN pin state in debugfs, for pininspect.
 *
 * /sys/kernel/debug/kpagepin/version  "kpagepin 1 module\n"
 * /sys/kernel/debug/kpagepin/pages    one u64 per PFN (kpagepin_abi.h)
 * /sys/kernel/debug/kpagepin/stats    "name value" lines
 *
 * All files are read-only (0444) so that kernel lockdown "integrity" does not
 * block them.  Entries are racy snapshots, like /proc/kpageflags: no
 * reference is taken on the pages, only their struct page is read.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/memory_hotplug.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/page-flags.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "kpagepin_abi.h"

#define KPP_ENTRY_SIZE		sizeof(u64)
/* Entries per chunk: one page of kernel buffer, then copy out and resched. */
#define KPP_CHUNK		(PAGE_SIZE / KPP_ENTRY_SIZE)

static struct dentry *kpp_dir;

static atomic64_t kpp_nr_reads;
static atomic64_t kpp_nr_read_errors;
static atomic64_t kpp_nr_pages_read;
static atomic64_t kpp_nr_pages_nopage;
static atomic64_t kpp_nr_pages_maybe_pinned;

static inline u64 kpp_sat(long v)
{
	if (v <= 0)
		return 0;
	return min_t(u64, v, KPP_COUNT_MAX);
}

/*
 * max_pfn is not exported to modules.  The end of the highest online node is
 * the same bound for every PFN with a struct page that we could report.
 */
static unsigned long kpp_pfn_bound(void)
{
	unsigned long end = 0;
	int nid;

	for_each_online_node(nid)
		end = max(end, pgdat_end_pfn(NODE_DATA(nid)));
	return end;
}

/* Mapcount of a small folio; only used for the pin estimate. */
static int kpp_small_mapcount(struct page *page, struct folio *folio)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	/* page_mapcount() is gone; folio_mapcount() handles typed pages. */
	return folio_mapcount(folio);
#else
	/* Small folio: plain _mapcount + 1, negative for typed pages. */
	return page_mapcount(page);
#endif
}

/*
 * hugetlb keeps PG_anon_exclusive on the head page only, a THP on the head
 * for its PMD mapping and per page for PTE mappings (the tails get their
 * own bits when the PMD is split): report the head's bit for the tails
 * too while the folio is PMD-mapped, as the bpf source and /proc/kpageflags
 * on newer kernels do.
 */
static bool kpp_anon_exclusive(struct page *page, struct folio *folio)
{
	struct page *head = &folio->page;

	if (!folio_test_large(folio))
		return PageAnonExclusive(page);
	if (folio_test_hugetlb(folio))
		return PageAnonExclusive(head);
	return PageAnonExclusive(page) ||
	       (folio_entire_mapcount(folio) > 0 && PageAnonExclusive(head));
}

static u64 kpp_entry(unsigned long pfn)
{
	struct page *page = pfn_to_online_page(pfn);
	struct folio *folio;
	long ref, pins;
	u64 e = 0;

	if (!page)
		return KPP_F_NOPAGE;

	/*
	 * Racy: the page may be freed, split or reused under us.  struct page
	 * of an online PFN stays readable (as for /proc/kpageflags), and a
	 * torn result is a wrong snapshot, never a crash.
	 */
	folio = page_folio(page);
	ref = folio_ref_count(folio);
	e |= kpp_sat(ref) << KPP_REFCOUNT_SHIFT;

	if (folio_test_large(folio)) {
		/* Large folios count pins exactly in _pincount. */
		pins = atomic_read(&folio->_pincount);
		e |= KPP_F_LARGE | KPP_F_PIN_EXACT;
		if (PageHead(page))
			e |= KPP_F_HEAD;
	} else if (ref >= GUP_PIN_COUNTING_BIAS) {
		/*
		 * Small folios add GUP_PIN_COUNTING_BIAS per pin to the
		 * refcount; each mapping holds one plain reference, the rest
		 * is an estimate (1024 plain references look like one pin).
		 */
		pins = (ref - max(kpp_small_mapcount(page, folio), 0)) /
		       GUP_PIN_COUNTING_BIAS;
	} else {
		pins = 0;
	}
	e |= kpp_sat(pins) << KPP_PINCOUNT_SHIFT;

	if (folio_maybe_dma_pinned(folio))
		e |= KPP_F_MAYBE_PINNED;

	/* PG_anon_exclusive aliases another flag on non-anon pages. */
	if (folio_test_anon(folio)) {
		e |= KPP_F_ANON;
		if (!folio_test_ksm(folio) && kpp_anon_exclusive(page, folio))
			e |= KPP_F_ANON_EXCLUSIVE;
	}

	if (folio_is_longterm_pinnable(folio))
		e |= KPP_F_LONGTERM_PINNABLE;

	return e;
}

static ssize_t kpp_pages_read(struct file *file, char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	unsigned long pfn, bound, n, i, done = 0;
	u64 nopage = 0, pinned = 0;
	loff_t pos = *ppos;
	ssize_t ret = 0;
	u64 *kbuf;

	atomic64_inc(&kpp_nr_reads);

	/* Same rules as /proc/kpageflags, but past the end is an error. */
	bound = kpp_pfn_bound();
	if (pos < 0 || pos % KPP_ENTRY_SIZE || count % KPP_ENTRY_SIZE ||
	    pos / KPP_ENTRY_SIZE >= bound) {
		atomic64_inc(&kpp_nr_read_errors);
		return -EINVAL;
	}
	pfn = pos / KPP_ENTRY_SIZE;
	count = min_t(u64, count, (u64)(bound - pfn) * KPP_ENTRY_SIZE);
	if (!count)
		return 0;

	kbuf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;

	while (done < count / KPP_ENTRY_SIZE) {
		n = min_t(unsigned long, count / KPP_ENTRY_SIZE - done,
			  KPP_CHUNK);
		for (i = 0; i < n; i++) {
			kbuf[i] = kpp_entry(pfn + done + i);
			if (kbuf[i] & KPP_F_NOPAGE)
				nopage++;
			if (kbuf[i] & KPP_F_MAYBE_PINNED)
				pinned++;
			/* The ABI is little-endian whatever the CPU. */
			kbuf[i] = (__force u64)cpu_to_le64(kbuf[i]);
		}
		if (copy_to_user(ubuf + done * KPP_ENTRY_SIZE, kbuf,
				 n * KPP_ENTRY_SIZE)) {
			ret = -EFAULT;
			break;
		}
		done += n;
		cond_resched();
		if (fatal_signal_pending(current))
			break;
	}
	kfree(kbuf);

	atomic64_add(done, &kpp_nr_pages_read);
	atomic64_add(nopage, &kpp_nr_pages_nopage);
	atomic64_add(pinned, &kpp_nr_pages_maybe_pinned);

	/* Report a partial read before an error, as read(2) expects. */
	if (!done) {
		if (ret)
			atomic64_inc(&kpp_nr_read_errors);
		return ret;
	}
	*ppos = pos + done * KPP_ENTRY_SIZE;
	return done * KPP_ENTRY_SIZE;
}

static const struct file_operations kpp_pages_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= kpp_pages_read,
	.llseek	= default_llseek,
};

static ssize_t kpp_version_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	static const char ver[] = "kpagepin " __stringify(KPAGEPIN_ABI_VERSION)
				  " module\n";

	return simple_read_from_buffer(ubuf, count, ppos, ver,
				       sizeof(ver) - 1);
}

static const struct file_operations kpp_version_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= kpp_version_read,
	.llseek	= default_llseek,
};

static int kpp_stats_show(struct seq_file *m, void *v)
{
	seq_printf(m, "reads %lld\n", atomic64_read(&kpp_nr_reads));
	seq_printf(m, "read_errors %lld\n", atomic64_read(&kpp_nr_read_errors));
	seq_printf(m, "pages_read %lld\n", atomic64_read(&kpp_nr_pages_read));
	seq_printf(m, "pages_nopage %lld\n",
		   atomic64_read(&kpp_nr_pages_nopage));
	seq_printf(m, "pages_maybe_pinned %lld\n",
		   atomic64_read(&kpp_nr_pages_maybe_pinned));
	seq_printf(m, "pfn_bound %lu\n", kpp_pfn_bound());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kpp_stats);

static int __init kpp_init(void)
{
	kpp_dir = debugfs_create_dir(KPAGEPIN_DIR, NULL);
	if (IS_ERR(kpp_dir))
		return PTR_ERR(kpp_dir);

	/* No write, mmap or ioctl: debugfs allows these under lockdown. */
	debugfs_create_file("version", 0444, kpp_dir, NULL, &kpp_version_fops);
	debugfs_create_file("pages", 0444, kpp_dir, NULL, &kpp_pages_fops);
	debugfs_create_file("stats", 0444, kpp_dir, NULL, &kpp_stats_fops);
	return 0;
}

static void __exit kpp_exit(void)
{
	debugfs_remove(kpp_dir);
}

module_init(kpp_init);
module_exit(kpp_exit);

MODULE_DESCRIPTION("Per-PFN page pin state in debugfs (kpagepin ABI 1)");
MODULE_LICENSE("GPL");
