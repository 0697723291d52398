// SPDX-License-Identifier: GPL-2.0
/*
 * Cached translations for hot paths, as KVM's gfn_to_hva_cache: a range
 * inside one region is resolved once to a kernel address and reused while
 * the space's generation is unchanged.  Each access still runs inside an
 * SRCU read section, so a removal (which bumps the generation and waits for
 * SRCU readers before freeing) can never leave a user of the cache touching
 * freed memory: after it, the cache re-resolves or fails.
 */
#include <linux/string.h>
#include "internal.h"

/* Resolve @c against @set; called under SRCU. */
static int gm_cache_resolve(struct guestmem_cache *c, struct gm_set *set)
{
	struct gm_region *r;
	unsigned int i;

	c->generation = set->generation;
	c->kaddr = NULL;
	r = gm_lookup(c->gm, set, c->gpa, &i);
	if (!r || c->len - 1 > r->last - c->gpa)
		return -ENXIO;
	c->kaddr = r->kaddr + (c->gpa - r->gpa);
	c->region = r;
	return 0;
}

/**
 * guestmem_cache_init - resolve a GPA range for repeated access
 * @c: the cache to fill (caller-owned memory)
 * @gm: the space; the cache does not hold a reference, the caller does
 * @gpa: first byte of the range
 * @len: length of the range (non-zero); the range must lie in one region
 *
 * Return: 0, -EINVAL (zero length), -EOVERFLOW, or -ENXIO if the range is
 * not inside one region.
 */
int guestmem_cache_init(struct guestmem_cache *c, struct guestmem *gm, u64 gpa,
			u64 len)
{
	int idx, ret;

	memset(c, 0, sizeof(*c));
	if (!len)
		return -EINVAL;
	ret = gm_check_range(gpa, len);
	if (ret)
		return ret;
	c->gm = gm;
	c->gpa = gpa;
	c->len = len;
	idx = srcu_read_lock(&gm->srcu);
	ret = gm_cache_resolve(c, gm_set_deref(gm));
	srcu_read_unlock(&gm->srcu, idx);
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_cache_init);

static int gm_cache_access(struct guestmem_cache *c, u64 offset, void *buf,
			   size_t len, bool write)
{
	struct guestmem *gm = c->gm;
	struct gm_region *r;
	struct gm_set *set;
	int idx, ret = 0;

	if (offset > c->len || len > c->len - offset)
		return -EINVAL;
	if (!len)
		return 0;
	idx = srcu_read_lock(&gm->srcu);
	set = gm_set_deref(gm);
	if (unlikely(set->generation != c->generation || !c->kaddr)) {
		ret = gm_cache_resolve(c, set);
		if (ret)
			goto out;
	}
	r = c->region;
	if (write) {
		if (r->flags & GUESTMEM_REGION_READONLY) {
			ret = -EACCES;
			goto out;
		}
		memcpy(c->kaddr + offset, buf, len);
		gm_region_mark_dirty(r, c->gpa - r->gpa + offset, len);
	} else {
		memcpy(buf, c->kaddr + offset, len);
	}
out:
	srcu_read_unlock(&gm->srcu, idx);
	return ret;
}

/**
 * guestmem_cache_read - read through a cached translation
 * @c: a cache set up by guestmem_cache_init()
 * @offset: offset into the cached range
 * @buf: destination
 * @len: bytes; @offset + @len must lie within the cached range
 *
 * Cheap while the space is unchanged; after a region add or remove it
 * re-resolves the range, failing if it is no longer inside one region.
 *
 * Return: 0, -EINVAL (outside the cached range) or -ENXIO.
 */
int guestmem_cache_read(struct guestmem_cache *c, u64 offset, void *buf,
			size_t len)
{
	return gm_cache_access(c, offset, buf, len, false);
}
EXPORT_SYMBOL_GPL(guestmem_cache_read);

/**
 * guestmem_cache_write - write through a cached translation
 * @c: a cache set up by guestmem_cache_init()
 * @offset: offset into the cached range
 * @buf: source
 * @len: bytes; @offset + @len must lie within the cached range
 *
 * Return: 0, -EINVAL, -ENXIO or -EACCES (read-only region).
 */
int guestmem_cache_write(struct guestmem_cache *c, u64 offset, const void *buf,
			 size_t len)
{
	return gm_cache_access(c, offset, (void *)buf, len, true);
}
EXPORT_SYMBOL_GPL(guestmem_cache_write);
