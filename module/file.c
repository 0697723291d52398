// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/guestmem file: one space per open, the read/write family with
 * the file position as GPA, lseek, and mmap with the file offset as GPA.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>
#include "compat.h"
#include "internal.h"
#include "trace.h"

/* The space's mappings hold no page cache: nothing to operate on. */
static const struct address_space_operations gm_aops;

static int gm_open(struct inode *inode, struct file *file)
{
	struct guestmem *gm = gm_alloc();

	if (!gm)
		return -ENOMEM;
	file->private_data = gm;
	/*
	 * Mappings of this file are this space's alone, so that removing a
	 * region zaps exactly them (as /dev/mem does with its own mapping).
	 */
	gm->mapping.host = inode;
	gm->mapping.a_ops = &gm_aops;
	file->f_mapping = &gm->mapping;
	gm_file_set_unsigned_offset(file);
	return 0;
}

static int gm_release(struct inode *inode, struct file *file)
{
	guestmem_put(file->private_data);
	return 0;
}

static size_t gm_actor_copy_to_iter(void *kaddr, size_t len, u64 offset,
				    void *ctx)
{
	return len - copy_to_iter(kaddr, len, ctx);
}

static size_t gm_actor_copy_from_iter(void *kaddr, size_t len, u64 offset,
				      void *ctx)
{
	return len - copy_from_iter(kaddr, len, ctx);
}

/*
 * read()/write() family: partial semantics.  A short count stops at a hole,
 * a read-only byte (writes) or a fault in the user buffer; an error is
 * returned only when the first byte cannot move.
 */
static ssize_t gm_rw_iter(struct kiocb *iocb, struct iov_iter *iter, bool write)
{
	struct guestmem *gm = iocb->ki_filp->private_data;
	u64 done;
	int ret;

	ret = gm_access(gm, (u64)iocb->ki_pos, iov_iter_count(iter), write, true,
			write ? gm_actor_copy_from_iter : gm_actor_copy_to_iter,
			iter, &done);
	if (done) {
		iocb->ki_pos = (loff_t)((u64)iocb->ki_pos + done);
		return done;
	}
	return ret;
}

static ssize_t gm_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	return gm_rw_iter(iocb, to, false);
}

static ssize_t gm_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	return gm_rw_iter(iocb, from, true);
}

/* First unbacked GPA at or after @gpa; false if backed up to 2^64 - 1. */
static bool gm_find_hole(struct guestmem *gm, struct gm_set *set, u64 gpa,
			 u64 *hole)
{
	struct gm_region *r;
	unsigned int i;

	r = gm_lookup(gm, set, gpa, &i);
	if (!r) {
		*hole = gpa;
		return true;
	}
	while (i + 1 < set->count && r->last != U64_MAX &&
	       set->keys[i + 1].gpa == r->last + 1)
		r = set->keys[++i].region;
	if (r->last == U64_MAX)
		return false;
	*hole = r->last + 1;
	return true;
}

static loff_t gm_llseek(struct file *file, loff_t offset, int whence)
{
	struct guestmem *gm = file->private_data;
	struct gm_set *set;
	bool found;
	u64 pos, end;
	int idx;

	switch (whence) {
	case SEEK_SET:
		pos = (u64)offset;
		break;
	case SEEK_CUR:
		pos = (u64)file->f_pos + (u64)offset;
		/* Moving past either end of the 64-bit space. */
		if (offset > 0 ? pos < (u64)file->f_pos : pos > (u64)file->f_pos)
			return -EINVAL;
		break;
	case SEEK_END:
		/*
		 * Relative to the space's extent, the end of its highest
		 * region, so that tools sizing a file with SEEK_END
		 * (vm-memory, QEMU) see the space.
		 */
		idx = srcu_read_lock(&gm->srcu);
		set = gm_set_deref(gm);
		end = set->count ? set->keys[set->count - 1].last : 0;
		found = set->count;
		srcu_read_unlock(&gm->srcu, idx);
		if (found && end == U64_MAX)
			return -EOVERFLOW;
		end += found ? 1 : 0;
		pos = end + (u64)offset;
		if (offset > 0 ? pos < end : pos > end)
			return -EINVAL;
		break;
	case SEEK_DATA:
	case SEEK_HOLE:
		idx = srcu_read_lock(&gm->srcu);
		set = gm_set_deref(gm);
		if (whence == SEEK_DATA)
			pos = gm_next_region_start(set, (u64)offset, &found);
		else
			found = gm_find_hole(gm, set, (u64)offset, &pos);
		srcu_read_unlock(&gm->srcu, idx);
		if (!found)
			return -ENXIO;
		break;
	default:
		return -EINVAL;
	}
	return vfs_setpos(file, (loff_t)pos, LLONG_MAX);
}

/*
 * The page frame a mapping maps at @offset of @r, in *@pfn; false if a
 * mapping must not map that page.  Anonymous pages (private anonymous
 * memory, and private file memory after copy-on-write) stay the owner's
 * alone: the kernel maps an anonymous page writable in one place only
 * (mm/page_table_check.c enforces it), and a second, writable or not,
 * would break that as soon as the owner makes its own PTE writable.  Such
 * pages fault with SIGBUS in a mapping (KVM_RUN: EFAULT); the ioctls, the
 * read family, ->access and the in-kernel API reach them through the
 * region's kernel mapping.
 */
static bool gm_region_pfn(struct gm_region *r, u64 offset, unsigned long *pfn)
{
	struct page *page;

	if (r->backing != GUESTMEM_BACKING_USER) {
		/* vmalloc or vmap, or a one-page region's direct-map page */
		*pfn = is_vmalloc_addr(r->kaddr) ?
			vmalloc_to_pfn(r->kaddr + offset) :
			page_to_pfn(virt_to_page(r->kaddr + offset));
		return true;
	}
	page = r->pages[offset >> PAGE_SHIFT];
	if (PageAnon(page))
		return false;
	*pfn = page_to_pfn(page);
	return true;
}

/*
 * Pages around a faulting one that a fault maps too, as filemap_map_pages()
 * does for page-cache files (fault_around_bytes, 64 KiB by default).
 */
#define GM_FAULT_AROUND_PAGES	16

struct gm_pte_upgrade {
	struct vm_area_struct *vma;
	struct gm_region *r;
	unsigned long addr;	/* a user address ... */
	u64 offset;		/* ... and the offset in @r it maps */
};

static int gm_pte_upgrade_fn(pte_t *ptep, unsigned long addr, void *data)
{
	struct gm_pte_upgrade *up = data;
	pte_t pte = ptep_get(ptep);
	unsigned long pfn;

	/* Only our own PTE for this page; it may have been zapped meanwhile. */
	if (!gm_region_pfn(up->r, up->offset + (addr - up->addr), &pfn))
		return 0;
	if (pte_present(pte) && pte_pfn(pte) == pfn && !pte_write(pte))
		set_pte_at(up->vma->vm_mm, addr, ptep,
			   pte_mkyoung(pte_mkdirty(gm_pte_mkwrite(pte))));
	return 0;
}

/*
 * Make the PTEs of @npages pages from @addr, which map @r from @offset,
 * writable, marking the pages dirty first.  For dirty-logged regions this
 * runs under gm->dirty_sem (read), which fetch-and-clear holds for write
 * while it clears bits and zaps: so a page never has a writable PTE while
 * its bit is clear.  (The core's own write upgrade, after ->pfn_mkwrite
 * returns, could be fooled by an identical read-only PTE reinstalled after
 * such a zap.)
 */
static void gm_make_writable(struct guestmem *gm, struct vm_area_struct *vma,
			     unsigned long addr, struct gm_region *r, u64 offset,
			     unsigned long npages)
{
	struct gm_pte_upgrade up = { .vma = vma, .r = r, .addr = addr,
				     .offset = offset };
	bool logged = r->flags & GUESTMEM_REGION_DIRTY_LOG;

	if (WARN_ON_ONCE(!(vma->vm_flags & VM_WRITE)))
		return;

	if (logged) {
		down_read(&gm->dirty_sem);
		gm_region_mark_dirty(r, offset, npages << PAGE_SHIFT);
	}
	apply_to_existing_page_range(vma->vm_mm, addr, npages << PAGE_SHIFT,
				     gm_pte_upgrade_fn, &up);
	if (logged)
		up_read(&gm->dirty_sem);
}

struct gm_pte_insert {
	struct mm_struct *mm;
	struct gm_region *r;
	unsigned long addr;	/* a user address ... */
	u64 offset;		/* ... and the offset in @r it maps */
	pgprot_t prot;
};

static int gm_pte_insert_fn(pte_t *ptep, unsigned long addr, void *data)
{
	struct gm_pte_insert *ins = data;
	unsigned long pfn;

	/* Mapped already (by another fault), or not to be mapped here. */
	if (!pte_none(ptep_get(ptep)) ||
	    !gm_region_pfn(ins->r, ins->offset + (addr - ins->addr), &pfn))
		return 0;
	set_pte_at(ins->mm, addr, ptep, pte_mkspecial(pfn_pte(pfn, ins->prot)));
	return 0;
}

/*
 * Map @npages pages of @r from @offset at @addr of @vma with @prot, in one
 * page-table walk, leaving present PTEs alone: what vmf_insert_pfn_prot()
 * does page by page, without its PAT lookup (track_pfn_insert(), a walk of
 * the resource tree for every page, about 6 us of each guest fault under
 * TCG): these are RAM pages the kernel maps write-back, the memory type
 * that lookup finds.  The PTEs are special, as vmf_insert_pfn() makes
 * them, and set with set_pte_at() (the page-table check sees each).
 */
static vm_fault_t gm_insert_ptes(struct vm_area_struct *vma,
				 unsigned long addr, struct gm_region *r,
				 u64 offset, unsigned long npages,
				 pgprot_t prot)
{
	struct gm_pte_insert ins = { .mm = vma->vm_mm, .r = r, .addr = addr,
				     .offset = offset, .prot = prot };

	if (apply_to_page_range(vma->vm_mm, addr, npages << PAGE_SHIFT,
				gm_pte_insert_fn, &ins))
		return VM_FAULT_OOM;
	return VM_FAULT_NOPAGE;
}

static unsigned long gm_vma_addr(struct vm_area_struct *vma, pgoff_t pgoff)
{
	return vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
}

/*
 * Page fault in a mapping: look the GPA up under SRCU and map the backing
 * page.  Region removal unpublishes, waits for SRCU readers (so for this
 * handler) and then zaps the range, so a PTE inserted here never outlives
 * the memory it points to.
 *
 * A page of a dirty-logged region is mapped by its own fault only, and
 * writable only by a write fault, which logs it first under gm->dirty_sem
 * (read), as gm_make_writable() does: the guest's next write to a page a
 * CLEAR zapped is one fault that logs it (a read-only PTE there would make
 * it a write-protect fault, for a KVM guest an emulated write).  Any other
 * fault also maps the aligned window of GM_FAULT_AROUND_PAGES pages around
 * the page that lies in the VMA and the region, as filemap_map_pages()
 * does; writable when no write needs trapping (writable region and
 * mapping).
 */
static vm_fault_t gm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct guestmem *gm = vma->vm_file->private_data;
	u64 gpa = (u64)vmf->pgoff << PAGE_SHIFT;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	pgoff_t first, last;
	struct gm_region *r;
	unsigned long pfn;
	bool writable;
	unsigned int i;
	vm_fault_t ret;
	pgprot_t prot;
	int idx;

	idx = srcu_read_lock(&gm->srcu);
	r = gm_lookup(gm, gm_set_deref(gm), gpa, &i);
	if (!r || (write && (r->flags & GUESTMEM_REGION_READONLY)) ||
	    (write && !(vma->vm_flags & VM_WRITE)) ||
	    !gm_region_pfn(r, gpa - r->gpa, &pfn)) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	writable = (vma->vm_flags & VM_WRITE) &&
		   !(r->flags & GUESTMEM_REGION_READONLY);
	if (r->flags & GUESTMEM_REGION_DIRTY_LOG) {
		if (!write) {
			ret = gm_insert_ptes(vma, vmf->address & PAGE_MASK, r,
					     gpa - r->gpa, 1, vma->vm_page_prot);
			goto out;
		}
		down_read(&gm->dirty_sem);
		gm_region_mark_dirty(r, gpa - r->gpa, PAGE_SIZE);
		ret = gm_insert_ptes(vma, vmf->address & PAGE_MASK, r,
				     gpa - r->gpa, 1,
				     vm_get_page_prot(vma->vm_flags));
		up_read(&gm->dirty_sem);
		goto out;
	}
	first = max3(vmf->pgoff & ~(pgoff_t)(GM_FAULT_AROUND_PAGES - 1),
		     vma->vm_pgoff, (pgoff_t)(r->gpa >> PAGE_SHIFT));
	last = min3(vmf->pgoff | (GM_FAULT_AROUND_PAGES - 1),
		    vma->vm_pgoff + vma_pages(vma) - 1,
		    (pgoff_t)(r->last >> PAGE_SHIFT));
	prot = writable ? vm_get_page_prot(vma->vm_flags) : vma->vm_page_prot;
	ret = gm_insert_ptes(vma, gm_vma_addr(vma, first), r,
			     ((u64)first << PAGE_SHIFT) - r->gpa,
			     last - first + 1, prot);
out:
	srcu_read_unlock(&gm->srcu, idx);
	this_cpu_inc(gm->counters->faults);
	trace_guestmem_mmap_fault(gm->id, gpa, write, (__force unsigned int)ret);
	return ret;
}

/* A write to a present, read-only PTE of a shared writable mapping. */
static vm_fault_t gm_pfn_mkwrite(struct vm_fault *vmf)
{
	struct guestmem *gm = vmf->vma->vm_file->private_data;
	u64 gpa = (u64)vmf->pgoff << PAGE_SHIFT;
	struct gm_region *r;
	unsigned int i;
	vm_fault_t ret = VM_FAULT_NOPAGE;
	int idx;

	idx = srcu_read_lock(&gm->srcu);
	r = gm_lookup(gm, gm_set_deref(gm), gpa, &i);
	if (!r || (r->flags & GUESTMEM_REGION_READONLY))
		ret = VM_FAULT_SIGBUS;
	else
		gm_make_writable(gm, vmf->vma, vmf->address & PAGE_MASK, r,
				 gpa - r->gpa, 1);
	srcu_read_unlock(&gm->srcu, idx);
	/* VM_FAULT_NOPAGE: the PTE is done, the core must not upgrade it. */
	return ret;
}

/*
 * ptrace(), /proc/PID/mem and the like on a mapping: get_user_pages()
 * refuses VM_PFNMAP, so access_remote_vm() asks here.  Copy through the
 * region's kernel mapping under SRCU, as the ioctls do, up to the end of
 * the region or of the VMA; write only into a writable region through a
 * VMA with VM_WRITE (FOLL_FORCE does not override guestmem's read-only
 * regions or mappings), recording the pages in the dirty log.  (Not
 * generic_access_phys(), which ioremaps the page and refuses RAM on x86.)
 */
static int gm_vma_access(struct vm_area_struct *vma, unsigned long addr,
			 void *buf, int len, int write)
{
	struct guestmem *gm = vma->vm_file->private_data;
	u64 gpa = ((u64)vma->vm_pgoff << PAGE_SHIFT) + (addr - vma->vm_start);
	struct gm_region *r;
	unsigned int i;
	u64 offset;
	int idx, n;

	if (len <= 0)
		return 0;
	if (write && !(vma->vm_flags & VM_WRITE))
		return -EACCES;
	idx = srcu_read_lock(&gm->srcu);
	r = gm_lookup(gm, gm_set_deref(gm), gpa, &i);
	if (!r) {
		n = -ENXIO;
		goto out;
	}
	if (write && (r->flags & GUESTMEM_REGION_READONLY)) {
		n = -EACCES;
		goto out;
	}
	offset = gpa - r->gpa;
	n = min3((u64)len, r->last - gpa + 1, (u64)(vma->vm_end - addr));
	if (write) {
		memcpy(r->kaddr + offset, buf, n);
		gm_region_mark_dirty(r, offset, n);
	} else {
		memcpy(buf, r->kaddr + offset, n);
	}
	gm_count_access(gm, write, n, 0);
out:
	srcu_read_unlock(&gm->srcu, idx);
	return n;
}

static const struct vm_operations_struct gm_vm_ops = {
	.fault = gm_fault,
	.pfn_mkwrite = gm_pfn_mkwrite,
	.access = gm_vma_access,
};

static int gm_mmap(struct file *file, struct vm_area_struct *vma)
{
	/*
	 * Shared mappings only.  VM_MAYSHARE, not VM_SHARED: the VFS clears
	 * VM_SHARED of a MAP_SHARED mapping of a file opened O_RDONLY, which
	 * may still be mapped PROT_READ.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	/*
	 * PFN mappings, as remap_pfn_range() makes: special PTEs, no struct
	 * page references (the pages belong to the region, which outlives
	 * every PTE pointing at it), and memory KVM accepts as a memslot's
	 * (hva_to_pfn_remapped() in virt/kvm/kvm_main.c; it refuses
	 * VM_MIXEDMAP).  Every zap reaches KVM through the MMU notifiers.
	 */
	gm_vma_set_flags(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &gm_vm_ops;
	return 0;
}

const struct file_operations gm_fops = {
	.owner = THIS_MODULE,
	GM_FOP_UNSIGNED_OFFSET
	.open = gm_open,
	.release = gm_release,
	.llseek = gm_llseek,
	.read_iter = gm_read_iter,
	.write_iter = gm_write_iter,
	.unlocked_ioctl = gm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = gm_mmap,
	.fsync = noop_fsync,
};
