/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem in-kernel API: a guest physical address space for kernel code.
 *
 * A &struct guestmem is the same object user space reaches through an open
 * /dev/guestmem file.  Kernel code creates one with guestmem_create() or
 * takes a reference on a user's with guestmem_get_file()/guestmem_get_fd(),
 * and then reads and writes guest memory by guest physical address (GPA).
 * Accesses cross region boundaries transparently and are exact: the whole
 * range must be backed (and writable, for writes) or nothing is transferred.
 *
 * Every function returns 0 or a negative errno matching the ioctls:
 * -EINVAL, -EOVERFLOW (range wraps past 2^64), -EEXIST, -ENOENT,
 * -ENXIO (unbacked guest byte), -EACCES (write to a read-only region),
 * -EFAULT, -ENOSPC, -ENOMEM.  All of them may sleep.
 */
#ifndef _LINUX_GUESTMEM_H
#define _LINUX_GUESTMEM_H

#include <linux/rcupdate.h>
#include <linux/string.h>
#include <linux/types.h>
#include <asm/byteorder.h>
#include <uapi/linux/guestmem.h>

struct file;
struct guestmem;

struct guestmem *guestmem_create(void);
struct guestmem *guestmem_get_file(struct file *file);
struct guestmem *guestmem_get_fd(int fd);
void guestmem_get(struct guestmem *gm);
void guestmem_put(struct guestmem *gm);

int guestmem_add_region(struct guestmem *gm, const struct guestmem_region *region);
int guestmem_remove_region(struct guestmem *gm, u64 gpa, u64 size);
int guestmem_add_regions(struct guestmem *gm,
			 const struct guestmem_region *regions,
			 unsigned int count, unsigned int *index);
int guestmem_remove_regions(struct guestmem *gm,
			    const struct guestmem_region *regions,
			    unsigned int count, unsigned int *index);
u64 guestmem_generation(struct guestmem *gm);

int guestmem_read(struct guestmem *gm, u64 gpa, void *buf, size_t len);
int guestmem_write(struct guestmem *gm, u64 gpa, const void *buf, size_t len);

/**
 * typedef guestmem_chunk_fn_t - callback of guestmem_walk_chunks()
 * @kaddr: kernel address of the first byte of the chunk
 * @gpa: guest physical address of the first byte of the chunk
 * @len: number of bytes in the chunk (never 0)
 * @priv: the caller's cookie
 *
 * Called with the region set pinned (SRCU): the chunk's memory cannot be
 * freed until the callback returns.  The callback may sleep.  A chunk of a
 * walk for reading must not be written: a READONLY region's kernel mapping
 * is read-only.  The callback must not remove a region of the space it
 * walks (guestmem_remove_region() fails with -EDEADLK and warns) nor drop
 * the last reference to it (warns; the walk frees the space as it ends).
 *
 * Return: 0 to continue the walk, anything else to stop it and make
 * guestmem_walk_chunks() return that value.
 */
typedef int (*guestmem_chunk_fn_t)(void *kaddr, u64 gpa, size_t len, void *priv);

int guestmem_walk_chunks(struct guestmem *gm, u64 gpa, u64 len, bool write,
			 guestmem_chunk_fn_t fn, void *priv);

int guestmem_atomic(struct guestmem *gm, u64 gpa, u32 size, u32 op, u64 *value,
		    u64 expected);
int guestmem_fill(struct guestmem *gm, u64 gpa, u8 value, u64 len);
int guestmem_copy(struct guestmem *gm, u64 dst, u64 src, u64 len);
int guestmem_get_dirty_log(struct guestmem *gm, u64 gpa, u64 size,
			   unsigned long *bitmap, bool clear);
int guestmem_mark_dirty(struct guestmem *gm, u64 gpa, u64 len);

/**
 * struct guestmem_cache - a cached translation of a GPA range
 * @gm: the space (the cache holds no reference on it)
 * @space_generation: the space's live generation counter (internal)
 * @gpa: first byte of the range
 * @len: length of the range, inside one region (0: an empty cache)
 * @generation: the space generation @region was resolved at
 * @kaddr: kernel address of @gpa for reads under RCU-sched: set only for
 *	a region that may be read so (VMALLOC), valid only while
 *	@generation is current and only inside a read section of the space
 *	(the accessors do this)
 * @region: the region resolved (opaque)
 *
 * The analog of KVM's gfn_to_hva_cache; use guestmem_cache_init(),
 * guestmem_cache_read() and guestmem_cache_write(), never @kaddr directly.
 * A cache is not locked: give each thread its own (as KVM has per-vCPU
 * caches), or serialise its users.
 */
struct guestmem_cache {
	struct guestmem *gm;
	const u64 *space_generation;
	u64 gpa;
	u64 len;
	u64 generation;
	void *kaddr;
	void *region;
};

/*
 * Reads of at most this many bytes through a valid cache are done inline,
 * with preemption disabled for the copy.
 */
#define GUESTMEM_CACHE_INLINE_MAX	256

int guestmem_cache_init(struct guestmem_cache *c, struct guestmem *gm, u64 gpa,
			u64 len);
int __guestmem_cache_read(struct guestmem_cache *c, u64 offset, void *buf,
			  size_t len);
int guestmem_cache_write(struct guestmem_cache *c, u64 offset, const void *buf,
			 size_t len);

/**
 * guestmem_cache_read - read through a cached translation
 * @c: a cache set up by guestmem_cache_init()
 * @offset: offset into the cached range
 * @buf: destination (kernel memory)
 * @len: bytes; @offset + @len must lie within the cached range
 *
 * While the space is unchanged, a small read of a VMALLOC region is a
 * generation check and a memcpy() under RCU-sched: guestmem_remove_region()
 * frees such a region only after an RCU grace period.  Other reads take an
 * SRCU read section out of line.  After a region add or remove the range is
 * resolved again, and the read fails if it is no longer inside one region.
 *
 * Return: 0, -EINVAL (outside the cached range) or -ENXIO.
 */
static inline int guestmem_cache_read(struct guestmem_cache *c, u64 offset,
				      void *buf, size_t len)
{
	if (offset <= c->len && len <= c->len - offset && len &&
	    len <= GUESTMEM_CACHE_INLINE_MAX) {
		rcu_read_lock_sched();
		if (likely(c->kaddr &&
			   READ_ONCE(*c->space_generation) == c->generation)) {
			memcpy(buf, c->kaddr + offset, len);
			rcu_read_unlock_sched();
			return 0;
		}
		rcu_read_unlock_sched();
	}
	return __guestmem_cache_read(c, offset, buf, len);
}

/**
 * guestmem_read_obj - read a plain object from guest memory
 * @gm: the address space
 * @gpa: guest physical address of the object
 * @ptr: pointer to the object to fill; sizeof(*@ptr) bytes are read
 *
 * The object must be plain data (no pointers the guest may not forge).
 *
 * Return: 0 or a negative errno as guestmem_read().
 */
#define guestmem_read_obj(gm, gpa, ptr) ({			\
	typeof(ptr) __gm_obj = (ptr);					\
									\
	guestmem_read((gm), (gpa), __gm_obj, sizeof(*__gm_obj));	\
})

/**
 * guestmem_write_obj - write a plain object to guest memory
 * @gm: the address space
 * @gpa: guest physical address of the object
 * @ptr: pointer to the object; sizeof(*@ptr) bytes are written
 *
 * Return: 0 or a negative errno as guestmem_write().
 */
#define guestmem_write_obj(gm, gpa, ptr) ({			\
	typeof(ptr) __gm_obj = (ptr);					\
									\
	guestmem_write((gm), (gpa), __gm_obj, sizeof(*__gm_obj));	\
})

/*
 * Endian accessors: guestmem_read_le32(gm, gpa, &val) reads a little-endian
 * 32-bit value at @gpa into the CPU-order @val; guestmem_write_be16(gm, gpa,
 * val) stores @val big-endian.  No alignment is required.
 */
#define __GUESTMEM_ENDIAN_ACCESSORS(bits, end)			\
static inline int guestmem_read_##end##bits(struct guestmem *gm,	\
					     u64 gpa, typeof(u##bits) *val)	\
{									\
	__##end##bits raw;						\
	int ret = guestmem_read(gm, gpa, &raw, sizeof(raw));		\
									\
	if (!ret)							\
		*val = end##bits##_to_cpu(raw);				\
	return ret;							\
}									\
static inline int guestmem_write_##end##bits(struct guestmem *gm,	\
					      u64 gpa, u##bits val)	\
{									\
	__##end##bits raw = cpu_to_##end##bits(val);			\
									\
	return guestmem_write(gm, gpa, &raw, sizeof(raw));		\
}

__GUESTMEM_ENDIAN_ACCESSORS(16, le)
__GUESTMEM_ENDIAN_ACCESSORS(32, le)
__GUESTMEM_ENDIAN_ACCESSORS(64, le)
__GUESTMEM_ENDIAN_ACCESSORS(16, be)
__GUESTMEM_ENDIAN_ACCESSORS(32, be)
__GUESTMEM_ENDIAN_ACCESSORS(64, be)

#undef __GUESTMEM_ENDIAN_ACCESSORS

#endif /* _LINUX_GUESTMEM_H */
