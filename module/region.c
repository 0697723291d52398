// SPDX-License-Identifier: GPL-2.0
/*
 * Regions and their backings: zeroed vmalloc memory charged to the memory
 * cgroup, or the caller's own pages (anonymous, shmem or hugetlbfs memory
 * only), long-term pinned, charged to RLIMIT_MEMLOCK and mapped
 * contiguously with vmap().  The kernel mapping of a READONLY region is
 * read-only (PAGE_KERNEL_RO): for VMALLOC, zeroed pages of its own, vmapped.
 */
#include <linux/bitmap.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/rcupdate.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "compat.h"
#include "internal.h"

/* Pages pinned under one hold of the mmap lock. */
#define GM_PIN_CHUNK	4096

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

/* The kernel's mapping of a region: read-only for a READONLY region. */
static pgprot_t gm_region_prot(const struct gm_region *r)
{
	return r->flags & GUESTMEM_REGION_READONLY ? PAGE_KERNEL_RO : PAGE_KERNEL;
}

static void gm_region_free_pages(struct gm_region *r, unsigned long n)
{
	while (n)
		__free_page(r->pages[--n]);
	kvfree(r->pages);
	r->pages = NULL;
}

/*
 * A READONLY VMALLOC region: zeroed pages of its own (in @r->pages) mapped
 * read-only, so that no kernel mapping of the region but the direct map is
 * writable.
 */
static int gm_region_alloc_readonly(struct gm_region *r)
{
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_NOWARN | __GFP_RETRY_MAYFAIL;
	unsigned long n;
	int ret = -ENOMEM;

	r->pages = r->npages > UINT_MAX ? NULL :
		kvmalloc_array(r->npages, sizeof(*r->pages), gfp);
	if (!r->pages)
		return -ENOMEM;
	for (n = 0; n < r->npages; n++) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto free;
		}
		r->pages[n] = alloc_page(gfp | __GFP_ZERO);
		if (!r->pages[n])
			goto free;
		if (!(n % GM_PIN_CHUNK))
			cond_resched();
	}
	r->kaddr = vmap(r->pages, r->npages, VM_MAP, PAGE_KERNEL_RO);
	if (r->kaddr)
		return 0;
free:
	gm_region_free_pages(r, n);
	return ret;
}

/*
 * A writable VMALLOC region: vmalloc memory, or, for a single page, a page
 * of its own in the direct map: the same contiguous kernel range, without
 * a vmap area to allocate, search and purge (a VMM's thousands of one-page
 * regions; in the debug kernel a vmalloc() and vfree() of a page cost
 * about 3 ms together, an alloc_page() and free 65 us).
 */
static int gm_region_alloc_vmalloc(struct gm_region *r)
{
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN |
			  __GFP_RETRY_MAYFAIL;
	struct page *page;

	if (r->flags & GUESTMEM_REGION_READONLY)
		return gm_region_alloc_readonly(r);
	if (r->npages == 1) {
		page = alloc_page(gfp);
		r->kaddr = page ? page_address(page) : NULL;
	} else {
		r->kaddr = __vmalloc(r->size, gfp);
	}
	return r->kaddr ? 0 : -ENOMEM;
}

/*
 * Whether a USER region may pin the memory of @vma: anonymous, shmem (and
 * memfd) or hugetlbfs memory only.  Any other file's pages would be written
 * (or, read-only, kept) behind the file system's back: GUP does not refuse
 * them on 6.1, and on 6.12 only a writable pin of a file that needs dirty
 * tracking.  Device and PFN mappings have no pages to pin.
 */
static bool gm_vma_accepted(struct vm_area_struct *vma)
{
	if (vma->vm_flags & (VM_IO | VM_PFNMAP))
		return false;
	return vma_is_anonymous(vma) || is_vm_hugetlb_page(vma) ||
	       shmem_file(vma->vm_file);
}

/* The GUP flags that break COW in @vma (a COW mapping), as a write would. */
static unsigned int gm_cow_break_flags(struct vm_area_struct *vma)
{
	if (!is_cow_mapping(vma->vm_flags))
		return 0;
	if (vma->vm_flags & VM_WRITE)
		return FOLL_WRITE;
	if ((vma->vm_flags & VM_READ) && !is_vm_hugetlb_page(vma))
		return FOLL_WRITE | FOLL_FORCE;
	return 0;
}

/*
 * Pin up to @nr pages from @addr, all in one VMA, checking that VMA under
 * the same hold of the mmap lock as the pin, so that what is pinned is what
 * was checked.
 *
 * Return: pages pinned (> 0), -EFAULT (@addr not mapped, or GUP failed),
 * -EINVAL (memory of another kind), -ENOMEM or -EINTR.
 */
static long gm_pin_user_chunk(struct gm_region *r, unsigned long addr,
			      unsigned long nr, struct page **pages)
{
	struct mm_struct *mm = current->mm;
	unsigned int gup_flags = FOLL_LONGTERM;
	struct vm_area_struct *vma;
	long ret;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = vma_lookup(mm, addr);
	if (!vma) {
		ret = -EFAULT;
	} else if (!gm_vma_accepted(vma)) {
		ret = -EINVAL;
	} else {
		/*
		 * A READONLY region pins the pages the caller goes on using.
		 * In a private VMA that is or may be made writable (a COW
		 * mapping), a read-only pin may get the shared zero page or
		 * page cache, which the caller's next write replaces: 6.2
		 * and later unshare such a long-term pin (gup_must_unshare()),
		 * 6.1 does not.  Break COW now, as a write would: FOLL_WRITE,
		 * and FOLL_FORCE where the VMA is readable but read-only for
		 * now (the page is copied, the mapping stays read-only, as
		 * for ptrace()'s writes).  Never where it is not readable:
		 * FOLL_FORCE would pin PROT_NONE memory, which is -EFAULT.
		 * (Nor for hugetlb, which refuses FOLL_FORCE | FOLL_WRITE.)
		 */
		gup_flags |= r->flags & GUESTMEM_REGION_READONLY ?
			     gm_cow_break_flags(vma) : FOLL_WRITE;
		nr = min(nr, (vma->vm_end - addr) >> PAGE_SHIFT);
		ret = gm_pin_user_pages(addr, nr, gup_flags, pages);
		if (ret == 0)
			ret = -EFAULT;
		else if (ret < 0 && ret != -ENOMEM && ret != -EINTR)
			ret = -EFAULT;
	}
	mmap_read_unlock(mm);
	return ret;
}

/*
 * Charge the pages of a USER region against RLIMIT_MEMLOCK, twice, as
 * io_uring and iommufd do: to the adding process's mm (its VmLck, kept
 * while it lives) and to its user's locked_vm, shared with io_uring and
 * iommufd and by all the user's processes, so that no pattern of processes
 * (children adding a region each to a shared fd and exiting) pins more
 * than the limit.  With CAP_IPC_LOCK nothing is checked and the user is
 * not charged.  Records what it charged to whom for gm_region_uncharge().
 */
static int gm_region_charge(struct gm_region *r)
{
	unsigned long limit, cur, new;
	struct user_struct *user;
	int ret;

	ret = account_locked_vm(current->mm, r->npages, true);
	if (ret)
		return ret;
	r->mm = current->mm;
	mmgrab(r->mm);
	if (capable(CAP_IPC_LOCK))
		return 0;

	user = get_uid(current_user());
	limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	cur = atomic_long_read(&user->locked_vm);
	do {
		new = cur + r->npages;
		if (new < cur || new > limit) {
			free_uid(user);
			account_locked_vm(r->mm, r->npages, false);
			mmdrop(r->mm);
			r->mm = NULL;
			return -ENOMEM;
		}
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, new));
	r->user = user;
	return 0;
}

/* Undo exactly what gm_region_charge() did, once, whoever calls it. */
static void gm_region_uncharge(struct gm_region *r)
{
	if (r->user) {
		atomic_long_sub(r->npages, &r->user->locked_vm);
		free_uid(r->user);
		r->user = NULL;
	}
	account_locked_vm(r->mm, r->npages, false);
	mmdrop(r->mm);
	r->mm = NULL;
}

static int gm_region_pin_user(struct gm_region *r)
{
	unsigned long pinned = 0;
	int ret;

	/* A kthread or workqueue has no user memory to pin. */
	if (!current->mm)
		return -EFAULT;
	if (r->user_addr + r->size < r->user_addr ||
	    r->user_addr + r->size > TASK_SIZE)
		return -EFAULT;

	/* RLIMIT_MEMLOCK first: a refused charge costs nothing. */
	ret = gm_region_charge(r);
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
		long n;

		n = gm_pin_user_chunk(r, r->user_addr + pinned * PAGE_SIZE,
				      min_t(unsigned long, r->npages - pinned,
					    GM_PIN_CHUNK),
				      r->pages + pinned);
		if (n < 0) {
			ret = n;
			goto unpin;
		}
		pinned += n;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto unpin;
		}
		cond_resched();
	}

	r->kaddr = vmap(r->pages, r->npages, VM_MAP, gm_region_prot(r));
	if (!r->kaddr) {
		ret = -ENOMEM;
		goto unpin;
	}
	return 0;

unpin:
	unpin_user_pages(r->pages, pinned);
	kvfree(r->pages);
	r->pages = NULL;
uncharge:
	gm_region_uncharge(r);
	return ret;
}

/**
 * gm_region_create - allocate a region and its backing
 * @desc: a descriptor that passed gm_region_validate()
 *
 * Return: the region, or ERR_PTR(-ENOMEM/-EFAULT/-EINVAL/-EINTR).
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
 * and uncharged from the mm and the user that were charged, whoever drops
 * the region.
 */
void gm_region_destroy(struct gm_region *r)
{
	if (r->backing == GUESTMEM_BACKING_USER) {
		vunmap(r->kaddr);
		unpin_user_pages_dirty_lock(r->pages, r->npages,
					    !(r->flags & GUESTMEM_REGION_READONLY));
		gm_region_uncharge(r);
		kvfree(r->pages);
	} else if (r->pages) {
		vunmap(r->kaddr);
		gm_region_free_pages(r, r->npages);
	} else if (!is_vmalloc_addr(r->kaddr)) {
		__free_page(virt_to_page(r->kaddr));
	} else {
		vfree(r->kaddr);
	}
	kvfree(r->dirty_bitmap);
	kfree(r);
}

static void gm_region_free_work(struct work_struct *work)
{
	gm_region_destroy(container_of(to_rcu_work(work), struct gm_region,
				       free_work));
}

/**
 * gm_region_destroy_after_gp - free a removed region once no reader can
 *	reach it
 * @r: the region, unpublished, with every SRCU reader and every mapping
 *	of it gone
 * @rcu_gp: a cookie of get_state_synchronize_rcu() taken after @r was
 *	unpublished
 *
 * A USER region is freed at once: no RCU-sched reader touches its pages
 * (GM_KEY_SRCU).  A VMALLOC region may still be read or written by a fast
 * path under RCU-sched that found it before it was unpublished: it is
 * freed when @rcu_gp has elapsed, now if it already has, else from
 * gm_free_wq after a normal grace period.  Nothing here allocates or fails.
 */
void gm_region_destroy_after_gp(struct gm_region *r, unsigned long rcu_gp)
{
	if (r->backing == GUESTMEM_BACKING_USER ||
	    poll_state_synchronize_rcu(rcu_gp)) {
		gm_region_destroy(r);
		return;
	}
	INIT_RCU_WORK(&r->free_work, gm_region_free_work);
	queue_rcu_work(gm_free_wq, &r->free_work);
}

/**
 * gm_region_mark_dirty - record a write in the region's dirty log
 * @r: the region
 * @offset: offset of the first byte written
 * @len: number of bytes written (non-zero)
 *
 * Called after the bytes were written, so that whoever fetches the bit
 * reads the new contents.  A word of the bitmap at a time (one atomic OR).
 */
void gm_region_mark_dirty(struct gm_region *r, u64 offset, u64 len)
{
	unsigned long first = offset >> PAGE_SHIFT;
	unsigned long last = (offset + len - 1) >> PAGE_SHIFT;

	if (!r->dirty_bitmap)
		return;
	if (first == last) {
		set_bit(first, r->dirty_bitmap);
		return;
	}
	while (first <= last) {
		unsigned long lo = first % BITS_PER_LONG;
		unsigned long n = min(BITS_PER_LONG - lo, last - first + 1);

		atomic_long_or(BITMAP_FIRST_WORD_MASK(lo) &
			       BITMAP_LAST_WORD_MASK(lo + n),
			       (atomic_long_t *)&r->dirty_bitmap[first / BITS_PER_LONG]);
		first += n;
	}
}
