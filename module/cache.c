// SPDX-License-Identifier: GPL-2.0
/*
 * Cached translations for hot paths, as KVM's gfn_to_hva_cache: a range
 * inside one region is resolved once to a kernel address and reused while
 * the space's generation is unchanged.  Each access still runs inside a
 * read section of the space: RCU-sched for small ones of a VMALLOC region
 * (guestmem_cache_read() does them inline), SRCU for the rest, resolving
 * included.  A removal bumps the generation, waits for SRCU readers before
 * it unpins a USER region and frees a VMALLOC region only after an RCU
 * grace period, so a user of the cache never touches freed memory: after
 * it, the cache re-resolves or fails.
 */
#include <linux/string.h>
#include "internal.h"

/*
 * Resolve @c against @set; called under SRCU.  c->kaddr, which the
 * RCU-sched paths use, is set only for a VMALLOC region (see GM_KEY_SRCU).
 */
static int gm_cache_resolve(struct guestmem_cache *c, struct gm_set *set)
{
	struct gm_region *r;
	unsigned int i;

	c->generation = set->generation;
	c->kaddr = NULL;
	c->region = NULL;
	r = gm_lookup(gm_ref(c->gm), set, c->gpa, &i);
	if (!r || c->len - 1 > r->last - c->gpa)
		return -ENXIO;
	if (r->backing != GUESTMEM_BACKING_USER)
		c->kaddr = r->kaddr + (c->gpa - r->gpa);
	c->region = r;
	return 0;
}

/**
 * guestmem_cache_init - resolve a GPA range for repeated access
 * @c: the cache to fill (caller-owned memory)
 * @gm: the space; the cache does not hold a reference, the caller does (a
 *	cache of a read-only reference refuses writes with -EBADF)
 * @gpa: first byte of the range
 * @len: length of the range, which must lie in one region; 0 gives an
 *	empty cache, through which only empty accesses succeed (a range of
 *	no bytes is a no-op that succeeds on every path, DESIGN.md)
 *
 * Return: 0, -EOVERFLOW, or -ENXIO if the range is not inside one region.
 */
int guestmem_cache_init(struct guestmem_cache *c, struct guestmem *gm, u64 gpa,
			u64 len)
{
	int idx, ret;

	memset(c, 0, sizeof(*c));
	ret = gm_check_range(gpa, len);
	if (ret)
		return ret;
	c->gm = gm;
	gm = gm_ref(gm);
	c->space_generation = &gm->generation;
	c->gpa = gpa;
	c->len = len;
	if (!len)
		return 0;	/* nothing to resolve, ever */
	idx = srcu_read_lock(&gm->srcu);
	ret = gm_cache_resolve(c, gm_set_deref(gm));
	srcu_read_unlock(&gm->srcu, idx);
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_cache_init);

/* Copy through the resolved @c, in a read section that protects @kaddr. */
static int gm_cache_copy(struct guestmem_cache *c, void *kaddr, u64 offset,
			 void *buf, size_t len, bool write)
{
	struct gm_region *r = c->region;

	if (!write) {
		memcpy(buf, kaddr + offset, len);
		return 0;
	}
	if (r->flags & GUESTMEM_REGION_READONLY)
		return -EACCES;
	memcpy(kaddr + offset, buf, len);
	gm_region_mark_dirty(r, c->gpa - r->gpa + offset, len);
	return 0;
}

static int gm_cache_access(struct guestmem_cache *c, u64 offset, void *buf,
			   size_t len, bool write)
{
	struct guestmem *gm = gm_ref(c->gm);
	struct gm_region *r;
	struct gm_set *set;
	int idx, ret;

	if (offset > c->len || len > c->len - offset)
		return -EINVAL;
	if (write && gm_ref_ro(c->gm))
		return -EBADF;
	if (!len)
		return 0;
	if (len <= GM_FAST_KERNEL_MAX) {
		/* A VMALLOC region resolved at the current generation. */
		rcu_read_lock_sched();
		set = rcu_dereference_sched(gm->set);
		if (likely(c->kaddr && set->generation == c->generation)) {
			ret = gm_cache_copy(c, c->kaddr, offset, buf, len,
					    write);
			rcu_read_unlock_sched();
			return ret;
		}
		rcu_read_unlock_sched();
	}
	idx = srcu_read_lock(&gm->srcu);
	set = gm_set_deref(gm);
	ret = 0;
	if (unlikely(set->generation != c->generation || !c->region))
		ret = gm_cache_resolve(c, set);
	if (!ret) {
		r = c->region;
		ret = gm_cache_copy(c, r->kaddr + (c->gpa - r->gpa), offset,
				    buf, len, write);
	}
	srcu_read_unlock(&gm->srcu, idx);
	return ret;
}

/**
 * __guestmem_cache_read - read through a cached translation, out of line
 * @c: a cache set up by guestmem_cache_init()
 * @offset: offset into the cached range
 * @buf: destination
 * @len: bytes; @offset + @len must lie within the cached range
 *
 * The body of guestmem_cache_read() for what its inline part does not do:
 * large reads, and the first read after the space changed, which resolves
 * the range again.
 *
 * Return: 0, -EINVAL (outside the cached range) or -ENXIO.
 */
int __guestmem_cache_read(struct guestmem_cache *c, u64 offset, void *buf,
			  size_t len)
{
	return gm_cache_access(c, offset, buf, len, false);
}
EXPORT_SYMBOL_GPL(__guestmem_cache_read);

/**
 * guestmem_cache_write - write through a cached translation
 * @c: a cache set up by guestmem_cache_init()
 * @offset: offset into the cached range
 * @buf: source
 * @len: bytes; @offset + @len must lie within the cached range
 *
 * Return: 0, -EINVAL, -ENXIO, -EACCES (read-only region) or -EBADF (a
 * cache of a read-only reference).
 */
int guestmem_cache_write(struct guestmem_cache *c, u64 offset, const void *buf,
			 size_t len)
{
	return gm_cache_access(c, offset, (void *)buf, len, true);
}
EXPORT_SYMBOL_GPL(guestmem_cache_write);
