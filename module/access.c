// SPDX-License-Identifier: GPL-2.0
/*
 * GPA accesses: one walk over the region snapshot serves every path (ioctls,
 * the read/write family, the in-kernel API).  An access first measures how
 * much of its range is usable, so that an exact access moves no byte unless
 * all of it can move, then hands each contiguous piece to an actor.  Small
 * accesses inside one region take the fast path of fastpath.h first.
 */
#include <linux/nospec.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>
#include "fastpath.h"
#include "internal.h"
#include "trace.h"

/*
 * How many leading bytes of [gpa, gpa + len) are backed (and writable, for
 * a write).  *err says why the rest is not: -ENXIO or -EACCES.
 */
static u64 gm_usable(struct guestmem *gm, struct gm_set *set, u64 gpa, u64 len,
		     bool write, unsigned int *first, int *err)
{
	struct gm_region *r;
	unsigned int i;
	u64 usable = 0;

	*err = 0;
	r = gm_lookup(gm, set, gpa, &i);
	if (!r) {
		*err = -ENXIO;
		return 0;
	}
	*first = i;
	for (;;) {
		u64 cur = gpa + usable, in_region;

		if (write && (r->flags & GUESTMEM_REGION_READONLY)) {
			*err = -EACCES;
			return usable;
		}
		in_region = r->last - cur + 1;
		if (in_region >= len - usable)
			return len;
		usable += in_region;
		if (++i >= set->count || set->keys[i].gpa != gpa + usable) {
			*err = -ENXIO;
			return usable;
		}
		r = set->keys[i].region;
	}
}

/*
 * Long accesses move at most this much between resched points and checks
 * for a fatal signal.
 */
#define GM_PIECE	SZ_1M

static int __gm_access(struct guestmem *gm, u64 gpa, u64 len, bool write,
		       bool partial, gm_actor_t actor, void *ctx, u64 *done,
		       u64 max_piece);

/**
 * gm_access - move bytes between a GPA range and a caller's buffer
 * @gm: the space
 * @gpa: first guest byte
 * @len: number of bytes
 * @write: true to write guest memory
 * @partial: false for exact semantics (all or nothing up front), true to
 *	move up to the first unbacked or read-only byte
 * @actor: moves each contiguous chunk
 * @ctx: passed to @actor
 * @done: out: bytes moved
 *
 * @actor is called with at most 1 MiB at a time, with a resched point
 * between calls; a fatal signal ends the access between two of them.
 *
 * Return: 0, -EOVERFLOW, -ENXIO, -EACCES, -EFAULT when @actor fails, or
 * -EINTR on a fatal signal (then *@done counts the bytes moved before).
 */
int gm_access(struct guestmem *gm, u64 gpa, u64 len, bool write, bool partial,
	      gm_actor_t actor, void *ctx, u64 *done)
{
	return __gm_access(gm, gpa, len, write, partial, actor, ctx, done,
			   GM_PIECE);
}

/* gm_access() in pieces of at most @max_piece bytes (no larger than a region). */
static int __gm_access(struct guestmem *gm, u64 gpa, u64 len, bool write,
		       bool partial, gm_actor_t actor, void *ctx, u64 *done,
		       u64 max_piece)
{
	struct gm_set *set;
	unsigned int i = 0;
	u64 moved = 0, asked = len;
	int idx, ret;

	*done = 0;
	ret = gm_check_range(gpa, len);
	if (ret || !len) {
		if (ret)
			trace_guestmem_access_error(gm->id, gpa, len, write, ret);
		return ret;
	}

	idx = srcu_read_lock(&gm->srcu);
	set = gm_set_deref(gm);
	len = min(len, gm_usable(gm, set, gpa, len, write, &i, &ret));
	if (ret && (!partial || !len))
		goto out;
	ret = 0;

	while (moved < len) {
		struct gm_region *r = set->keys[i].region;
		u64 offset = gpa + moved - r->gpa;
		u64 chunk = min3(r->size - offset, len - moved, max_piece);
		size_t left;

		if (moved && fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		left = actor(r->kaddr + offset, chunk, moved, ctx);
		if (unlikely(left == GM_ACTOR_STOP)) {
			/* Marked before the read section ends: @r is live. */
			if (write)
				gm_region_mark_dirty(r, offset, chunk);
			ret = -ECANCELED;
			break;
		}
		if (write && chunk > left)
			gm_region_mark_dirty(r, offset, chunk - left);
		moved += chunk - left;
		if (left) {
			ret = -EFAULT;
			break;
		}
		if (offset + chunk == r->size)
			i++;
		if (moved < len)
			cond_resched();
	}
	*done = moved;
out:
	srcu_read_unlock(&gm->srcu, idx);
	gm_count_access(gm, write, *done, ret);
	if (ret)
		trace_guestmem_access_error(gm->id, gpa, asked, write, ret);
	return ret;
}

/* @ctx points to the user buffer's address (a char __user *). */
size_t gm_actor_copy_to_user(void *kaddr, size_t len, u64 offset, void *ctx)
{
	char __user *ubuf = *(char __user **)ctx;

	return copy_to_user(ubuf + offset, kaddr, len);
}

/*
 * Not copy_from_user(): on a fault it zero-fills the rest of the
 * destination, which here is guest memory that must stay untouched.  But
 * its speculation barrier, which __copy_from_user() lacks: no load from a
 * user address that access_ok() refused runs ahead, even speculatively.
 */
size_t gm_actor_copy_from_user(void *kaddr, size_t len, u64 offset, void *ctx)
{
	const char __user *ubuf = *(char __user **)ctx + offset;

	if (!access_ok(ubuf, len))
		return len;
	barrier_nospec();
	return __copy_from_user(kaddr, ubuf, len);
}

static size_t gm_actor_memcpy_from_guest(void *kaddr, size_t len, u64 offset,
					 void *ctx)
{
	memcpy((char *)ctx + offset, kaddr, len);
	return 0;
}

static size_t gm_actor_memcpy_to_guest(void *kaddr, size_t len, u64 offset,
				       void *ctx)
{
	memcpy(kaddr, (const char *)ctx + offset, len);
	return 0;
}

/**
 * gm_access_fast_srcu - the fast path under SRCU, for USER regions
 * @gm: the space
 * @gpa: first guest byte
 * @buf: kernel buffer
 * @len: bytes, at most GM_FAST_KERNEL_MAX, non-zero
 * @write: true to write guest memory
 * @hint_hit: as for gm_access_fast()
 *
 * Out of line: the price of the SRCU read section is paid only for the
 * regions whose memory is not the module's own.
 *
 * Return: GM_FAST_DONE or GM_FAST_SLOW.
 */
int gm_access_fast_srcu(struct guestmem *gm, u64 gpa, void *buf, size_t len,
			bool write, bool *hint_hit)
{
	return gm_access_fast(gm, gpa, buf, len, write, true, true, hint_hit);
}

/*
 * guestmem_read() and guestmem_write() beyond their inline pass, whose
 * result is @fast: the fast path under SRCU if that pass found a USER
 * region, else with a search; then the general path.
 */
static noinline int gm_access_kernel(struct guestmem *gm, u64 gpa, void *buf,
				     size_t len, bool write, int fast)
{
	u64 done;

	if (len && len <= GM_FAST_KERNEL_MAX) {
		if (fast == GM_FAST_SRCU)
			fast = gm_access_fast_srcu(gm, gpa, buf, len, write,
						   NULL);
		else
			fast = gm_access_fast_search(gm, gpa, buf, len, write,
						     NULL);
		if (fast == GM_FAST_DONE)
			return 0;
	}
	return gm_access(gm, gpa, len, write, false,
			 write ? gm_actor_memcpy_to_guest :
				 gm_actor_memcpy_from_guest, buf, &done);
}

/**
 * guestmem_read - read guest memory into a kernel buffer
 * @gm: the space
 * @gpa: first guest byte
 * @buf: destination
 * @len: number of bytes; 0 succeeds without access
 *
 * Exact: the range may cross any number of adjacent regions, but if any
 * byte is unbacked nothing is read.
 *
 * Return: 0, -EOVERFLOW (range wraps) or -ENXIO (unbacked byte).
 */
int guestmem_read(struct guestmem *gm, u64 gpa, void *buf, size_t len)
{
	int fast = GM_FAST_SLOW;

	gm = gm_ref(gm);
	if (likely(len && len <= GM_FAST_KERNEL_MAX)) {
		fast = gm_access_fast(gm, gpa, buf, len, false, false, false,
				      NULL);
		if (likely(fast == GM_FAST_DONE))
			return 0;
	}
	return gm_access_kernel(gm, gpa, buf, len, false, fast);
}
EXPORT_SYMBOL_GPL(guestmem_read);

/**
 * guestmem_write - write a kernel buffer to guest memory
 * @gm: the space
 * @gpa: first guest byte
 * @buf: source
 * @len: number of bytes; 0 succeeds without access
 *
 * Exact: nothing is written unless every byte is backed and writable.
 * Pages of dirty-logged regions are marked dirty.  Through a read-only
 * reference (see guestmem_get_file()) it fails with -EBADF even for 0
 * bytes, so that an empty write tells whether a reference may write.
 *
 * Return: 0, -EOVERFLOW, -ENXIO, -EACCES (read-only region) or -EBADF
 * (read-only reference).
 */
int guestmem_write(struct guestmem *gm, u64 gpa, const void *buf, size_t len)
{
	int fast = GM_FAST_SLOW;

	if (unlikely(gm_ref_ro(gm)))
		return -EBADF;
	if (likely(len && len <= GM_FAST_KERNEL_MAX)) {
		fast = gm_access_fast(gm, gpa, (void *)buf, len, true, false,
				      false, NULL);
		if (likely(fast == GM_FAST_DONE))
			return 0;
	}
	return gm_access_kernel(gm, gpa, (void *)buf, len, true, fast);
}
EXPORT_SYMBOL_GPL(guestmem_write);

struct gm_chunk_walk {
	guestmem_chunk_fn_t fn;
	void *priv;
	u64 gpa;
	int ret;
};

static size_t gm_actor_chunk(void *kaddr, size_t len, u64 offset, void *ctx)
{
	struct gm_chunk_walk *walk = ctx;

	walk->ret = walk->fn(kaddr, walk->gpa + offset, len, walk->priv);
	/*
	 * Any non-zero return stops the walk; the callback may have written
	 * its chunk, which __gm_access() marks dirty in the read section.
	 */
	return walk->ret ? GM_ACTOR_STOP : 0;
}

/**
 * guestmem_walk_chunks - visit each contiguous piece of a GPA range
 * @gm: the space
 * @gpa: first guest byte
 * @len: number of bytes; 0 succeeds without calling @fn
 * @write: the caller will write through the chunks: the range must be
 *	writable, and pages of dirty-logged regions are marked dirty
 * @fn: called in GPA order with each piece's kernel address and length
 * @priv: passed to @fn
 *
 * The analog of vm-memory's try_access(): a range spanning several regions
 * comes out as one chunk per region.  Exact: @fn is not called at all
 * unless the whole range is backed (and writable, if @write).
 *
 * @fn runs inside the space's read section (SRCU): it may sleep, but must
 * not add or remove a region of this space (guestmem_add_region() and
 * guestmem_remove_region() refuse with -EDEADLK and a warning: a removal by
 * another task would hold the space's lock while waiting for this read
 * section) nor drop the last reference to it (caught with a warning; the
 * walk holds a reference of its own and frees the space when it ends).
 * Nor may it wait for another task that changes the space's regions.  The
 * chunks of a write walk,
 * including the one whose callback stopped the walk, are marked dirty
 * before the read section ends.
 *
 * Return: 0, -EOVERFLOW, -ENXIO, -EACCES, -EBADF (@write through a
 * read-only reference), or the first non-zero value returned by @fn (which
 * ends the walk).
 */
int guestmem_walk_chunks(struct guestmem *gm, u64 gpa, u64 len, bool write,
			 guestmem_chunk_fn_t fn, void *priv)
{
	struct gm_chunk_walk walk = { .fn = fn, .priv = priv, .gpa = gpa };
	struct gm_walker walker;
	u64 done;
	int ret;

	if (write && gm_ref_ro(gm))
		return -EBADF;
	gm = gm_ref(gm);
	gm_walk_begin(gm, &walker);
	/* One chunk per region: the callback has what it needs to resched. */
	ret = __gm_access(gm, gpa, len, write, false, gm_actor_chunk, &walk,
			  &done, U64_MAX);
	gm_walk_end(gm, &walker);
	return walk.ret ?: ret;
}
EXPORT_SYMBOL_GPL(guestmem_walk_chunks);

static size_t gm_actor_memset(void *kaddr, size_t len, u64 offset, void *ctx)
{
	memset(kaddr, *(u8 *)ctx, len);
	return 0;
}

/**
 * guestmem_fill - set a range of guest memory to one byte value
 * @gm: the space
 * @gpa: first guest byte
 * @value: the byte
 * @len: number of bytes; 0 succeeds without access
 *
 * Exact: nothing is written unless the whole range is backed and writable.
 * A fatal signal stops a long fill between two pieces of 1 MiB.
 *
 * Return: 0, -EOVERFLOW, -ENXIO, -EACCES, -EBADF (read-only reference) or
 * -EINTR (fatal signal).
 */
int guestmem_fill(struct guestmem *gm, u64 gpa, u8 value, u64 len)
{
	u64 done;

	if (gm_ref_ro(gm))
		return -EBADF;
	return gm_access(gm, gpa, len, true, false, gm_actor_memset, &value,
			 &done);
}
EXPORT_SYMBOL_GPL(guestmem_fill);

/*
 * The largest piece, starting at @pos of the copy (or ending there, when
 * @backward), that lies in one source and one destination region.
 */
static u64 gm_copy_piece(struct guestmem *gm, struct gm_set *set, u64 dst,
			 u64 src, u64 pos, u64 left, bool backward,
			 void **dst_k, void **src_k, struct gm_region **dst_r)
{
	u64 d = backward ? dst + pos - 1 : dst + pos;
	u64 s = backward ? src + pos - 1 : src + pos;
	struct gm_region *rd, *rs;
	unsigned int i;
	u64 n;

	/* gm_usable() has checked that both ranges are fully backed. */
	rd = gm_lookup(gm, set, d, &i);
	rs = gm_lookup(gm, set, s, &i);
	if (backward) {
		n = min3(left, d - rd->gpa + 1, s - rs->gpa + 1);
		*dst_k = rd->kaddr + (d - rd->gpa) - (n - 1);
		*src_k = rs->kaddr + (s - rs->gpa) - (n - 1);
	} else {
		n = min3(left, rd->last - d + 1, rs->last - s + 1);
		*dst_k = rd->kaddr + (d - rd->gpa);
		*src_k = rs->kaddr + (s - rs->gpa);
	}
	*dst_r = rd;
	return n;
}

/**
 * guestmem_copy - copy guest memory to guest memory
 * @gm: the space
 * @dst: first destination byte
 * @src: first source byte
 * @len: number of bytes; 0 succeeds without access
 *
 * memmove() semantics: the ranges may overlap, and both may span any number
 * of regions.  Exact: nothing is written unless the source is fully backed
 * and the destination fully backed and writable.  A fatal signal stops a
 * long copy between two pieces of 1 MiB.
 *
 * Return: 0, -EOVERFLOW, -ENXIO, -EACCES, -EBADF (read-only reference) or
 * -EINTR (fatal signal).
 */
int guestmem_copy(struct guestmem *gm, u64 dst, u64 src, u64 len)
{
	bool backward = dst > src && dst - src < len;
	struct gm_set *set;
	unsigned int i;
	u64 pos, left;
	int idx, ret;

	if (gm_ref_ro(gm))
		return -EBADF;
	ret = gm_check_range(dst, len) ?: gm_check_range(src, len);
	if (ret || !len)
		return ret;

	idx = srcu_read_lock(&gm->srcu);
	set = gm_set_deref(gm);
	if (gm_usable(gm, set, src, len, false, &i, &ret) < len ||
	    gm_usable(gm, set, dst, len, true, &i, &ret) < len)
		goto out;

	pos = backward ? len : 0;
	for (left = len; left; ) {
		struct gm_region *rd;
		void *dk, *sk;
		u64 n;

		if (left < len && fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		n = gm_copy_piece(gm, set, dst, src, pos, min_t(u64, left, GM_PIECE),
				  backward, &dk, &sk, &rd);
		memmove(dk, sk, n);
		gm_region_mark_dirty(rd, (dk - rd->kaddr), n);
		left -= n;
		pos = backward ? pos - n : pos + n;
		if (left)
			cond_resched();
	}
out:
	srcu_read_unlock(&gm->srcu, idx);
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_copy);
