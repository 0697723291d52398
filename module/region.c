// SPDX-License-Identifier: GPL-2.0
/*
 * Regions and their backings: zeroed vmalloc memory charged to the memory
 * cgroup, or the caller's own pages, long-term pinned, charged to
 * RLIMIT_MEMLOCK and mapped contiguously with vmap().
 */
#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "internal.h"

#define GM_REGION_FLAGS	(GUESTMEM_REGION_READONLY | GUESTMEM_REGION_DIRTY_LOG)

/**
 * gm_region_validate - check a region descriptor before anything is taken
 * @desc: the descriptor from the caller
 *
 * Return: 0, -EINVAL or -EOVERFLOW.
 */
int gm_region_validate(const struct guestmem_region *desc)
{
	if (desc->reserved[0] || desc->reserved[1])
		return -EINVAL;
	if (desc->flags & ~GM_REGION_FLAGS)
		return -EINVAL;
	if (!desc->size || !PAGE_ALIGNED(desc->size) || !PAGE_ALIGNED(desc->gpa))
		return -EINVAL;
	switch (desc->backing) {
	case GUESTMEM_BACKING_VMALLOC:
		if (desc->user_addr)
			return -EINVAL;
		break;
	case GUESTMEM_BACKING_USER:
		if (!PAGE_ALIGNED(desc->user_addr))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	return gm_check_range(desc->gpa, desc->size);
}

static int gm_region_alloc_vmalloc(struct gm_region *r)
{
	r->kaddr = __vmalloc(r->size, GFP_KERNEL_ACCOUNT | __GFP_ZERO |
			     __GFP_NOWARN | __GFP_RETRY_MAYFAIL);
	return r->kaddr ? 0 : -ENOMEM;
}

static int gm_region_pin_user(struct gm_region *r)
{
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long pinned = 0;
	int ret;

	if (r->user_addr + r->size < r->user_addr ||
	    r->user_addr + r->size > TASK_SIZE)
		return -EFAULT;
	if (!(r->flags & GUESTMEM_REGION_READONLY))
		gup_flags |= FOLL_WRITE;

	/* RLIMIT_MEMLOCK first: a refused charge costs nothing. */
	ret = account_locked_vm(current->mm, r->npages, true);
	if (ret)
		return ret;
	/* vmap() maps at most UINT_MAX pages. */
	r->pages = r->npages > UINT_MAX ? NULL :
		kvmalloc_array(r->npages, sizeof(*r->pages),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN |
			       __GFP_RETRY_MAYFAIL);
	if (!r->pages) {
		ret = -ENOMEM;
		goto uncharge;
	}

	while (pinned < r->npages) {
		int n = min_t(unsigned long, r->npages - pinned, SZ_64K);

		ret = pin_user_pages_fast(r->user_addr + pinned * PAGE_SIZE, n,
					  gup_flags, r->pages + pinned);
		if (ret <= 0) {
			if (ret != -ENOMEM && ret != -EINTR)
				ret = -EFAULT;
			goto unpin;
		}
		pinned += ret;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto unpin;
		}
		cond_resched();
	}

	r->kaddr = vmap(r->pages, r->npages, VM_MAP, PAGE_KERNEL);
	if (!r->kaddr) {
		ret = -ENOMEM;
		goto unpin;
	}
	r->mm = current->mm;
	mmgrab(r->mm);
	return 0;

unpin:
	unpin_user_pages(r->pages, pinned);
	kvfree(r->pages);
	r->pages = NULL;
uncharge:
	account_locked_vm(current->mm, r->npages, false);
	return ret;
}

/**
 * gm_region_create - allocate a region and its backing
 * @desc: a descriptor that passed gm_region_validate()
 *
 * Return: the region, or ERR_PTR(-ENOMEM/-EFAULT/-EINTR).
 */
struct gm_region *gm_region_create(const struct guestmem_region *desc)
{
	struct gm_region *r;
	int ret;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return ERR_PTR(-ENOMEM);
	r->gpa = desc->gpa;
	r->size = desc->size;
	r->last = desc->gpa + (desc->size - 1);
	r->user_addr = desc->user_addr;
	r->backing = desc->backing;
	r->flags = desc->flags;
	r->npages = desc->size >> PAGE_SHIFT;

	/*
	 * Neither backing can hold more pages than the machine has: refuse
	 * before any allocation proportional to the size.
	 */
	if (r->npages > totalram_pages()) {
		ret = -ENOMEM;
		goto free_region;
	}
	if (r->flags & GUESTMEM_REGION_DIRTY_LOG) {
		r->dirty_bitmap = kvcalloc(BITS_TO_LONGS(r->npages),
					   sizeof(unsigned long),
					   GFP_KERNEL_ACCOUNT | __GFP_NOWARN |
					   __GFP_RETRY_MAYFAIL);
		if (!r->dirty_bitmap) {
			ret = -ENOMEM;
			goto free_region;
		}
	}

	if (r->backing == GUESTMEM_BACKING_USER)
		ret = gm_region_pin_user(r);
	else
		ret = gm_region_alloc_vmalloc(r);
	if (ret)
		goto free_bitmap;
	return r;

free_bitmap:
	kvfree(r->dirty_bitmap);
free_region:
	kfree(r);
	return ERR_PTR(ret);
}

/**
 * gm_region_destroy - free a region no reader or mapping can reach any more
 * @r: the region
 *
 * USER pages are unpinned (marked dirty unless the region was read-only)
 * and uncharged from the mm that was charged, whoever drops the region.
 */
void gm_region_destroy(struct gm_region *r)
{
	if (r->backing == GUESTMEM_BACKING_USER) {
		vunmap(r->kaddr);
		unpin_user_pages_dirty_lock(r->pages, r->npages,
					    !(r->flags & GUESTMEM_REGION_READONLY));
		account_locked_vm(r->mm, r->npages, false);
		mmdrop(r->mm);
		kvfree(r->pages);
	} else {
		vfree(r->kaddr);
	}
	kvfree(r->dirty_bitmap);
	kfree(r);
}

/**
 * gm_region_mark_dirty - record a write in the region's dirty log
 * @r: the region
 * @offset: offset of the first byte written
 * @len: number of bytes written (non-zero)
 *
 * Called after the bytes were written, so that whoever fetches the bit
 * reads the new contents.
 */
void gm_region_mark_dirty(struct gm_region *r, u64 offset, u64 len)
{
	unsigned long first = offset >> PAGE_SHIFT;
	unsigned long last = (offset + len - 1) >> PAGE_SHIFT;

	if (!r->dirty_bitmap)
		return;
	for (; first <= last; first++)
		set_bit(first, r->dirty_bitmap);
}
