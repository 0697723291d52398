/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * guestmem: a guest physical address space for processes and kernel code.
 *
 * Opening /dev/guestmem creates an empty address space owned by the open
 * file.  Regions of memory are added at guest physical addresses (GPAs) and
 * then read and written by GPA with the ioctls below, with
 * read()/write()/pread()/pwrite() (file position = GPA) or through mmap()
 * (file offset = GPA).  Accesses cross region boundaries transparently.
 */
#ifndef _UAPI_LINUX_GUESTMEM_H
#define _UAPI_LINUX_GUESTMEM_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define GUESTMEM_API_VERSION		1

#define GUESTMEM_BACKING_VMALLOC	0
#define GUESTMEM_BACKING_USER		1

#define GUESTMEM_REGION_READONLY	0x1U
#define GUESTMEM_REGION_DIRTY_LOG	0x2U

/**
 * struct guestmem_region - one region of a guest physical address space
 * @gpa: first guest physical address of the region; page aligned
 * @size: size in bytes; page aligned and non-zero
 * @user_addr: for %GUESTMEM_BACKING_USER, the page-aligned start of the
 *	caller's memory backing the region; 0 for other backings
 * @backing: one of %GUESTMEM_BACKING_VMALLOC or %GUESTMEM_BACKING_USER
 * @flags: %GUESTMEM_REGION_READONLY and/or %GUESTMEM_REGION_DIRTY_LOG
 * @reserved: must be zero
 *
 * Argument of %GUESTMEM_ADD_REGION and %GUESTMEM_REMOVE_REGION (which
 * matches @gpa and @size alone), and entry of %GUESTMEM_GET_REGIONS.
 */
struct guestmem_region {
	__u64 gpa;
	__u64 size;
	__u64 user_addr;
	__u32 backing;
	__u32 flags;
	__u64 reserved[2];
};

/**
 * struct guestmem_region_list - argument of %GUESTMEM_GET_REGIONS
 * @count: in: capacity of @regions; out: number of regions in the space
 * @reserved: must be zero
 * @regions: user pointer to an array of @count &struct guestmem_region,
 *	filled with min(@count, number of regions) entries sorted by GPA
 */
struct guestmem_region_list {
	__u32 count;
	__u32 reserved;
	__u64 regions;
};

/**
 * struct guestmem_region_batch - argument of %GUESTMEM_ADD_REGIONS and
 *	%GUESTMEM_REMOVE_REGIONS
 * @regions: user pointer to an array of @count &struct guestmem_region
 *	(for a removal, each entry is matched on @gpa and @size alone, as by
 *	%GUESTMEM_REMOVE_REGION, and its @reserved must be zero)
 * @count: number of entries, at most %GUESTMEM_REGION_BATCH_MAX; 0 succeeds
 * @flags: must be 0
 * @index: out: the index of the entry that failed the call; @count if the
 *	call succeeded or failed as a whole (@flags, @reserved or @count
 *	invalid, @regions unreadable, no memory for the new region set).
 *	Entries are checked in order, each against the space and the entries
 *	before it, with the errors of the single-region ioctl; a call that
 *	fails changes nothing.  (On a descriptor opened read-only the call
 *	is -EBADF before the argument is read, and @index is not written.)
 * @reserved: must be zero
 *
 * All entries take effect at once: readers see the space before the call
 * or after it, never a part of it.
 */
struct guestmem_region_batch {
	__u64 regions;
	__u32 count;
	__u32 flags;
	__u32 index;
	__u32 reserved;
};

#define GUESTMEM_REGION_BATCH_MAX	4096

#define GUESTMEM_FEATURE_MMAP		_BITULL(0)
#define GUESTMEM_FEATURE_BATCH		_BITULL(1)
#define GUESTMEM_FEATURE_ATOMIC		_BITULL(2)
#define GUESTMEM_FEATURE_FILL_COPY	_BITULL(3)
#define GUESTMEM_FEATURE_DIRTY_LOG	_BITULL(4)
#define GUESTMEM_FEATURE_REGION_BATCH	_BITULL(5)

/**
 * struct guestmem_info - result of %GUESTMEM_GET_INFO
 * @api_version: %GUESTMEM_API_VERSION
 * @num_regions: number of regions in the space
 * @total_size: sum of the sizes of all regions
 * @generation: bumped by every successful region add or remove
 * @features: mask of the %GUESTMEM_FEATURE_* bits implemented
 * @reserved: zero
 */
struct guestmem_info {
	__u32 api_version;
	__u32 num_regions;
	__u64 total_size;
	__u64 generation;
	__u64 features;
	__u64 reserved[4];
};

#define GUESTMEM_IO_PARTIAL		0x1U

/**
 * struct guestmem_io - argument of %GUESTMEM_READ and %GUESTMEM_WRITE
 * @gpa: first guest physical address to access
 * @len: number of bytes; 0 is a successful no-op
 * @buf: user pointer to the buffer to read into or write from
 * @flags: 0 for an exact transfer (all bytes or none), or
 *	%GUESTMEM_IO_PARTIAL to transfer up to the first unbacked or
 *	read-only byte
 * @reserved: must be zero
 * @done: out: number of bytes transferred
 */
struct guestmem_io {
	__u64 gpa;
	__u64 len;
	__u64 buf;
	__u32 flags;
	__u32 reserved;
	__u64 done;
};

#define GUESTMEM_OP_READ		0
#define GUESTMEM_OP_WRITE		1

/**
 * struct guestmem_batch_op - one operation of a %GUESTMEM_BATCH
 * @op: %GUESTMEM_OP_READ or %GUESTMEM_OP_WRITE
 * @flags: must be 0 (every batched op is exact)
 * @gpa: first guest physical address to access
 * @len: number of bytes
 * @buf: user pointer to the buffer
 */
struct guestmem_batch_op {
	__u32 op;
	__u32 flags;
	__u64 gpa;
	__u64 len;
	__u64 buf;
};

/**
 * struct guestmem_batch - argument of %GUESTMEM_BATCH
 * @ops: user pointer to an array of @count &struct guestmem_batch_op
 * @count: number of operations, at most %GUESTMEM_BATCH_MAX
 * @flags: must be 0
 * @done: out: number of operations completed in order; on error, the index
 *	of the failing operation
 * @reserved: must be zero
 */
struct guestmem_batch {
	__u64 ops;
	__u32 count;
	__u32 flags;
	__u32 done;
	__u32 reserved;
};

#define GUESTMEM_BATCH_MAX		1024

#define GUESTMEM_ATOMIC_LOAD		0
#define GUESTMEM_ATOMIC_STORE		1
#define GUESTMEM_ATOMIC_XCHG		2
#define GUESTMEM_ATOMIC_CMPXCHG		3
#define GUESTMEM_ATOMIC_FETCH_ADD	4
#define GUESTMEM_ATOMIC_FETCH_OR	5
#define GUESTMEM_ATOMIC_FETCH_AND	6

/**
 * struct guestmem_atomic - argument of %GUESTMEM_ATOMIC
 * @gpa: guest physical address, naturally aligned to @size
 * @value: in: operand (ignored by LOAD); out: previous value (all ops but
 *	STORE), zero-extended, in host byte order
 * @expected: for CMPXCHG, the value expected at @gpa
 * @size: 1, 2, 4 or 8
 * @op: one of the GUESTMEM_ATOMIC_* operations
 * @flags: must be 0
 * @reserved: must be zero
 */
struct guestmem_atomic {
	__u64 gpa;
	__u64 value;
	__u64 expected;
	__u32 size;
	__u32 op;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct guestmem_fill - argument of %GUESTMEM_FILL
 * @gpa: first guest physical address to fill
 * @len: number of bytes
 * @value: byte value in bits 0-7; other bits must be zero
 * @flags: must be 0
 */
struct guestmem_fill {
	__u64 gpa;
	__u64 len;
	__u32 value;
	__u32 flags;
};

/**
 * struct guestmem_copy - argument of %GUESTMEM_COPY
 * @dst: first destination guest physical address
 * @src: first source guest physical address
 * @len: number of bytes; the ranges may overlap (memmove semantics)
 * @flags: must be 0
 * @reserved: must be zero
 */
struct guestmem_copy {
	__u64 dst;
	__u64 src;
	__u64 len;
	__u32 flags;
	__u32 reserved;
};

#define GUESTMEM_DIRTY_LOG_CLEAR	0x1U

/**
 * struct guestmem_dirty_log - argument of %GUESTMEM_GET_DIRTY_LOG
 * @gpa: first guest physical address; page aligned
 * @size: page aligned; every page must be in a %GUESTMEM_REGION_DIRTY_LOG
 *	region
 * @bitmap: user pointer to the bitmap: bit i (LSB first, in __u64 words)
 *	is page i of the range
 * @flags: %GUESTMEM_DIRTY_LOG_CLEAR to fetch and clear atomically
 * @reserved: must be zero
 */
struct guestmem_dirty_log {
	__u64 gpa;
	__u64 size;
	__u64 bitmap;
	__u32 flags;
	__u32 reserved;
};

#define GUESTMEM_GET_INFO	_IOR(0xB9, 0x00, struct guestmem_info)
#define GUESTMEM_ADD_REGION	_IOW(0xB9, 0x10, struct guestmem_region)
#define GUESTMEM_REMOVE_REGION	_IOW(0xB9, 0x11, struct guestmem_region)
#define GUESTMEM_GET_REGIONS	_IOWR(0xB9, 0x12, struct guestmem_region_list)
#define GUESTMEM_ADD_REGIONS	_IOWR(0xB9, 0x13, struct guestmem_region_batch)
#define GUESTMEM_REMOVE_REGIONS	_IOWR(0xB9, 0x14, struct guestmem_region_batch)
#define GUESTMEM_READ		_IOWR(0xB9, 0x20, struct guestmem_io)
#define GUESTMEM_WRITE		_IOWR(0xB9, 0x21, struct guestmem_io)
#define GUESTMEM_BATCH		_IOWR(0xB9, 0x22, struct guestmem_batch)
#define GUESTMEM_ATOMIC		_IOWR(0xB9, 0x23, struct guestmem_atomic)
#define GUESTMEM_FILL		_IOW(0xB9, 0x24, struct guestmem_fill)
#define GUESTMEM_COPY		_IOW(0xB9, 0x25, struct guestmem_copy)
#define GUESTMEM_GET_DIRTY_LOG	_IOWR(0xB9, 0x30, struct guestmem_dirty_log)

#endif /* _UAPI_LINUX_GUESTMEM_H */
