// SPDX-License-Identifier: GPL-2.0
/*
 * The dirty log of DIRTY_LOG regions: one bit per page, set after every
 * write by any path.  Writes through user mappings are trapped by
 * write-protecting the pages: PTEs of dirty-logged pages are inserted
 * read-only, and the fault that makes one writable sets the page's bit
 * first, under gm->dirty_sem (read).  Fetch-and-clear holds gm->dirty_sem
 * for write while it clears the bits and then zaps exactly the pages it
 * cleared, so a page never has a writable PTE while its bit is clear: a
 * page written before the zap was dirty at the clear and is reported now
 * (the caller reads its contents after the fetch returns); a write after
 * the zap faults again and sets the bit for the next fetch.  The zap goes
 * through the mm's MMU notifiers, so a KVM guest running on a mapping
 * loses its writable mapping of those pages too, and only of those (as
 * KVM's own dirty log write-protects only the pages it reports).
 */
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "internal.h"

/* The uapi bitmap is __u64 words, bit i LSB first: a 64-bit kernel bitmap. */
static_assert(BITS_PER_LONG == 64);

/*
 * Check that [gpa, gpa + size) is page aligned and every page is in a
 * DIRTY_LOG region.
 */
static int gm_dirty_check(struct guestmem *gm, struct gm_set *set, u64 gpa,
			  u64 size)
{
	struct gm_region *r;
	unsigned int i;
	u64 pos = 0;
	int ret;

	if (!PAGE_ALIGNED(gpa) || !PAGE_ALIGNED(size))
		return -EINVAL;
	ret = gm_check_range(gpa, size);
	if (ret)
		return ret;
	if (!size)
		return 0;
	r = gm_lookup(gm, set, gpa, &i);
	for (;;) {
		if (!r)
			return -ENXIO;
		if (!(r->flags & GUESTMEM_REGION_DIRTY_LOG))
			return -EINVAL;
		if (r->last - (gpa + pos) + 1 >= size - pos)
			return 0;
		pos += r->last - (gpa + pos) + 1;
		r = ++i < set->count && set->keys[i].gpa == gpa + pos ?
			set->keys[i].region : NULL;
	}
}

/*
 * Zap the user PTEs of the pages of @r set in @bits, bit 0 = page @first
 * of @r: exactly the pages a fetch-and-clear cleared, so that a guest or
 * process keeps its mappings of the clean pages (and a KVM guest, told by
 * the MMU notifiers, its mappings of them too) and faults again only where
 * it must be logged again.
 */
static void gm_dirty_zap(struct guestmem *gm, struct gm_region *r,
			 unsigned long first, unsigned long bits)
{
	pgoff_t base = (r->gpa >> PAGE_SHIFT) + first;
	unsigned long start, end = 0;

	lockdep_assert_held_write(&gm->dirty_sem);
	while (end < BITS_PER_LONG) {
		start = find_next_bit(&bits, BITS_PER_LONG, end);
		if (start >= BITS_PER_LONG)
			break;
		end = find_next_zero_bit(&bits, BITS_PER_LONG, start);
		unmap_mapping_pages(&gm->mapping, base + start, end - start,
				    false);
	}
}

/* Put the @n low bits of @bits at bit @pos of @out (which has room). */
static void gm_bits_put(unsigned long *out, unsigned long pos,
			unsigned long bits, unsigned long n)
{
	unsigned long w = pos / BITS_PER_LONG, sh = pos % BITS_PER_LONG;

	out[w] |= bits << sh;
	if (sh && sh + n > BITS_PER_LONG)
		out[w + 1] |= bits >> (BITS_PER_LONG - sh);
}

/* The @n bits of @in from bit @pos, as the low bits of a word. */
static unsigned long gm_bits_get(const unsigned long *in, unsigned long pos,
				 unsigned long n)
{
	unsigned long w = pos / BITS_PER_LONG, sh = pos % BITS_PER_LONG;
	unsigned long bits = in[w] >> sh;

	if (sh && sh + n > BITS_PER_LONG)
		bits |= in[w + 1] << (BITS_PER_LONG - sh);
	return bits & BITMAP_LAST_WORD_MASK(n);
}

enum gm_dirty_op {
	GM_DIRTY_FETCH,		/* copy the bits into @bits */
	GM_DIRTY_CLEAR,		/* move them there, zapping the cleared pages */
	GM_DIRTY_RESTORE,	/* put the bits of @bits back */
};

/*
 * A resched point (and, fetching, a check for a fatal signal) every
 * GM_DIRTY_RESCHED_WORDS words of a region's bitmap.
 */
#define GM_DIRTY_RESCHED_WORDS	4	/* 256 pages: 1 MiB */
/* DESIGN.md: a resched point at least every MiB of a long operation. */
static_assert(GM_DIRTY_RESCHED_WORDS * BITS_PER_LONG * PAGE_SIZE <= SZ_1M);

/*
 * Fetch, fetch and clear, or restore the bits of @npages pages from @gpa,
 * bit 0 of @bits = the page at @gpa (@bits zeroed by the caller for a
 * fetch).  A word of the region's bitmap at a time: one atomic
 * fetch-and-clear per word, then the zap of exactly the pages it cleared.
 * Runs under SRCU (and for a clear, gm->dirty_sem for write).
 *
 * Return: the pages done: @npages, or fewer when a fatal signal stopped a
 * fetch (a restore always runs to the end).
 */
static unsigned long gm_dirty_walk(struct guestmem *gm, struct gm_set *set,
				   u64 gpa, unsigned long npages,
				   unsigned long *bits, enum gm_dirty_op op)
{
	unsigned long done = 0, words = 0;

	while (done < npages) {
		u64 cur = gpa + ((u64)done << PAGE_SHIFT);
		unsigned long first, n, pos;
		struct gm_region *r;
		unsigned int i;

		r = gm_lookup(gm, set, cur, &i);	/* checked: present */
		first = (cur - r->gpa) >> PAGE_SHIFT;
		n = min(npages - done, r->npages - first);
		for (pos = first; pos < first + n; ) {
			unsigned long w = pos / BITS_PER_LONG;
			unsigned long lo = pos % BITS_PER_LONG;
			unsigned long cnt = min(BITS_PER_LONG - lo,
						first + n - pos);
			unsigned long mask = BITMAP_LAST_WORD_MASK(lo + cnt) &
					     BITMAP_FIRST_WORD_MASK(lo);
			atomic_long_t *word = (atomic_long_t *)&r->dirty_bitmap[w];
			unsigned long at = done + (pos - first), b;

			switch (op) {
			case GM_DIRTY_RESTORE:
				b = gm_bits_get(bits, at, cnt) << lo;
				if (b)
					atomic_long_or(b, word);
				break;
			case GM_DIRTY_CLEAR:
				b = atomic_long_fetch_andnot(mask, word) & mask;
				if (b)
					gm_dirty_zap(gm, r, w * BITS_PER_LONG, b);
				gm_bits_put(bits, at, b >> lo, cnt);
				break;
			default:
				b = READ_ONCE(r->dirty_bitmap[w]) & mask;
				gm_bits_put(bits, at, b >> lo, cnt);
			}
			pos += cnt;
			if (++words % GM_DIRTY_RESCHED_WORDS)
				continue;
			if (op != GM_DIRTY_RESTORE && fatal_signal_pending(current))
				return done + (pos - first);
			cond_resched();
		}
		done += n;
	}
	return npages;
}

/*
 * Fetch (and with @clear, clear) the bits into @bits, which it zeroes;
 * stopped by a fatal signal, it puts back what it cleared.
 */
static int gm_dirty_fetch(struct guestmem *gm, struct gm_set *set, u64 gpa,
			  unsigned long npages, unsigned long *bits, bool clear)
{
	unsigned long n;

	bitmap_zero(bits, npages);
	if (clear)
		down_write(&gm->dirty_sem);
	n = gm_dirty_walk(gm, set, gpa, npages, bits,
			  clear ? GM_DIRTY_CLEAR : GM_DIRTY_FETCH);
	if (clear)
		up_write(&gm->dirty_sem);
	if (n == npages)
		return 0;
	if (clear)
		gm_dirty_walk(gm, set, gpa, n, bits, GM_DIRTY_RESTORE);
	return -EINTR;
}

/**
 * guestmem_get_dirty_log - fetch, and optionally clear, the dirty log
 * @gm: the space
 * @gpa: first page, page aligned
 * @size: bytes, page aligned; every page must be in a DIRTY_LOG region
 * @bitmap: out: BITS_TO_LONGS(@size / PAGE_SIZE) longs, bit i = page i
 * @clear: atomically clear what was fetched; later writes, including
 *	through existing user mappings, are recorded again
 *
 * Return: 0, -EINVAL (misaligned, or a page without DIRTY_LOG),
 * -EOVERFLOW, -ENXIO (an unbacked page), -EBADF (@clear through a
 * read-only reference) or -EINTR (a fatal signal stopped a long fetch;
 * nothing is cleared).
 */
int guestmem_get_dirty_log(struct guestmem *gm, u64 gpa, u64 size,
			   unsigned long *bitmap, bool clear)
{
	unsigned long npages = size >> PAGE_SHIFT;
	struct gm_set *set;
	int idx, ret;

	if (clear && gm_ref_ro(gm))
		return -EBADF;
	gm = gm_ref(gm);

	idx = srcu_read_lock(&gm->srcu);
	set = gm_set_deref(gm);
	ret = gm_dirty_check(gm, set, gpa, size);
	if (!ret)
		ret = gm_dirty_fetch(gm, set, gpa, npages, bitmap, clear);
	srcu_read_unlock(&gm->srcu, idx);
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_get_dirty_log);

/**
 * guestmem_mark_dirty - record writes made outside the guestmem accessors
 * @gm: the space
 * @gpa: first byte written
 * @len: bytes written; 0 does nothing
 *
 * For kernel code that changed guest memory where guestmem cannot see it,
 * such as a device writing the pages of a USER region through a mapping of
 * its own.  A walk with guestmem_walk_chunks() for writing marks its chunks
 * itself; a chunk walked for reading must never be written through (the
 * range was not checked writable, and a READONLY region's kernel mapping
 * is read-only).  Pages of regions without DIRTY_LOG are ignored.
 *
 * Return: 0, -EOVERFLOW, -ENXIO if a byte is unbacked (pages before it
 * are marked), or -EBADF (read-only reference).
 */
int guestmem_mark_dirty(struct guestmem *gm, u64 gpa, u64 len)
{
	struct gm_set *set;
	u64 pos = 0;
	int idx, ret;

	if (gm_ref_ro(gm))
		return -EBADF;
	ret = gm_check_range(gpa, len);
	if (ret || !len)
		return ret;
	idx = srcu_read_lock(&gm->srcu);
	set = gm_set_deref(gm);
	while (pos < len) {
		struct gm_region *r;
		unsigned int i;
		u64 n;

		r = gm_lookup(gm, set, gpa + pos, &i);
		if (!r) {
			ret = -ENXIO;
			break;
		}
		n = min(len - pos, r->last - (gpa + pos) + 1);
		gm_region_mark_dirty(r, gpa + pos - r->gpa, n);
		pos += n;
	}
	srcu_read_unlock(&gm->srcu, idx);
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_mark_dirty);

/**
 * gm_ioctl_get_dirty_log - GUESTMEM_GET_DIRTY_LOG
 * @gm: the space, or a read-only reference to it (which cannot clear)
 * @argp: user pointer to &struct guestmem_dirty_log
 *
 * The whole bitmap is fetched into a kernel buffer and copied out at once,
 * so that a fault on the user's bitmap can put every fetched bit back: a
 * failed call loses nothing.
 *
 * Return: 0 or a negative errno.
 */
int gm_ioctl_get_dirty_log(struct guestmem *gm, void __user *argp)
{
	struct guestmem_dirty_log log;
	unsigned long *buf, npages;
	struct gm_set *set;
	size_t bytes;
	bool clear;
	int idx, ret;

	if (copy_from_user(&log, argp, sizeof(log)))
		return -EFAULT;
	if (log.reserved || (log.flags & ~GUESTMEM_DIRTY_LOG_CLEAR))
		return -EINVAL;
	clear = log.flags & GUESTMEM_DIRTY_LOG_CLEAR;
	if (clear && gm_ref_ro(gm))
		return -EBADF;
	gm = gm_ref(gm);
	npages = log.size >> PAGE_SHIFT;
	bytes = BITS_TO_LONGS(npages) * sizeof(unsigned long);

	idx = srcu_read_lock(&gm->srcu);
	set = gm_set_deref(gm);
	ret = gm_dirty_check(gm, set, log.gpa, log.size);
	if (ret || !npages)
		goto out;
	/* One bit per backed page: 1/32768 of the memory it describes. */
	buf = kvzalloc(bytes, GFP_KERNEL_ACCOUNT | __GFP_NOWARN |
		       __GFP_RETRY_MAYFAIL);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	ret = gm_dirty_fetch(gm, set, log.gpa, npages, buf, clear);
	if (!ret && copy_to_user(u64_to_user_ptr(log.bitmap), buf, bytes)) {
		if (clear)
			gm_dirty_walk(gm, set, log.gpa, npages, buf,
				      GM_DIRTY_RESTORE);
		ret = -EFAULT;
	}
	kvfree(buf);
out:
	srcu_read_unlock(&gm->srcu, idx);
	return ret;
}
