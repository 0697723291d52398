/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers hiding the differences between the kernel lines guestmem
 * builds against (Debian's 6.1 and 6.12).
 */
#ifndef _GUESTMEM_COMPAT_H
#define _GUESTMEM_COMPAT_H

#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/mm.h>

/*
 * A local the compiler does not initialise under CONFIG_INIT_STACK_ALL_*:
 * 6.12's compiler_attributes.h has it, 6.1's not; gcc 12 and clang know it.
 */
#ifndef __uninitialized
#if __has_attribute(__uninitialized__)
#define __uninitialized	__attribute__((__uninitialized__))
#else
#define __uninitialized
#endif
#endif

/*
 * Unsigned-offset files (positions are GPAs up to 2^64 - 1): 6.12 marks the
 * file_operations with FOP_UNSIGNED_OFFSET, 6.1 marks each open file with
 * FMODE_UNSIGNED_OFFSET.
 */
#ifdef FOP_UNSIGNED_OFFSET
#define GM_FOP_UNSIGNED_OFFSET	.fop_flags = FOP_UNSIGNED_OFFSET,
static inline void gm_file_set_unsigned_offset(struct file *file)
{
}
#else
#define GM_FOP_UNSIGNED_OFFSET
static inline void gm_file_set_unsigned_offset(struct file *file)
{
	file->f_mode |= FMODE_UNSIGNED_OFFSET;
}
#endif

/*
 * 6.3 made vma->vm_flags read-only outside vm_flags_set()/vm_flags_clear();
 * module/Kbuild probes the headers for it (GM_HAVE_VM_FLAGS_SET).
 */
static inline void gm_vma_set_flags(struct vm_area_struct *vma, vm_flags_t flags)
{
#ifdef GM_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * Make a PTE writable.  6.6 renamed the vma-less pte_mkwrite() to
 * pte_mkwrite_novma() (module/Kbuild probes for GM_HAVE_PTE_MKWRITE_NOVMA);
 * the new pte_mkwrite() is not exported.  Callers check VM_WRITE.
 */
static inline pte_t gm_pte_mkwrite(pte_t pte)
{
#ifdef GM_HAVE_PTE_MKWRITE_NOVMA
	return pte_mkwrite_novma(pte);
#else
	return pte_mkwrite(pte);
#endif
}

/*
 * pin_user_pages(), called with the mmap lock held: 6.5 dropped its vmas
 * argument (module/Kbuild probes for GM_PIN_USER_PAGES_VMAS).
 */
static inline long gm_pin_user_pages(unsigned long start,
				     unsigned long nr_pages,
				     unsigned int gup_flags, struct page **pages)
{
#ifdef GM_PIN_USER_PAGES_VMAS
	return pin_user_pages(start, nr_pages, gup_flags, pages, NULL);
#else
	return pin_user_pages(start, nr_pages, gup_flags, pages);
#endif
}

/*
 * eventfd_signal(): 6.8 dropped its count argument (module/Kbuild probes
 * for GM_EVENTFD_SIGNAL_COUNT).  Adds 1.
 */
static inline void gm_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef GM_EVENTFD_SIGNAL_COUNT
	eventfd_signal(ctx, 1);
#else
	eventfd_signal(ctx);
#endif
}

#endif /* _GUESTMEM_COMPAT_H */
