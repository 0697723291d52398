/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fast paths of small accesses, inlined into the hot callers (the
 * in-kernel API, GUESTMEM_READ/WRITE, batch ops): one region, RCU-sched,
 * no walk and no actor.  Everything else goes through gm_access().
 */
#ifndef _GUESTMEM_FASTPATH_H
#define _GUESTMEM_FASTPATH_H

#include <linux/nospec.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "compat.h"
#include "internal.h"

/* Which side of gm_copy_sized() is user memory, if any. */
enum gm_copy_side {
	GM_COPY_KERNEL,		/* neither: a memcpy() */
	GM_COPY_FROM_USER,	/* @src */
	GM_COPY_TO_USER,	/* @dst */
};

/*
 * In gm_copy_sized() alone, whose variables it uses: move the @type at
 * byte off of src to dst, the user side with one unsafe_get_user() or
 * unsafe_put_user() (which jumps to fault when it faults), a kernel side
 * with a memcpy() of constant size, which is a plain load or store.
 */
#define gm_move_sized(type)						\
do {									\
	type __v;							\
									\
	if (side == GM_COPY_FROM_USER)					\
		unsafe_get_user(__v, (const type __user __force *)(src + off), \
				fault);					\
	else								\
		memcpy(&__v, src + off, sizeof(__v));			\
	if (side == GM_COPY_TO_USER)					\
		unsafe_put_user(__v, (type __user __force *)(dst + off), \
				fault);					\
	else								\
		memcpy(dst + off, &__v, sizeof(__v));			\
} while (0)

/**
 * gm_copy_sized - copy a small piece, with the accesses of its size
 * @dst: destination (a user address, cast, for GM_COPY_TO_USER)
 * @src: source (a user address, cast, for GM_COPY_FROM_USER)
 * @len: bytes
 * @side: which side is user memory (a constant: the rest folds away)
 *
 * The sizes of scalars and of 16-byte guest objects (virtqueue
 * descriptors) become one or two plain loads and stores: no call to
 * memcpy() or copy_{from,to}_user(), and for user memory one
 * user_access_begin() section, which needs no hardened-usercopy check
 * (the kernel side of a user copy is a stack buffer of the caller).
 * Other sizes take memcpy() or copy_{from,to}_user().
 *
 * Return: true, or false if a user access faulted, however many bytes
 * moved: the caller then redoes the access on the general path, which
 * counts them exactly.
 */
static __always_inline bool gm_copy_sized(void *dst, const void *src,
					  size_t len, enum gm_copy_side side)
{
	const void __user *uptr = (const void __user __force *)
		(side == GM_COPY_TO_USER ? dst : src);
	size_t off = 0;

	if (side != GM_COPY_KERNEL) {
		if (len != 1 && len != 2 && len != 4 && len != 8 && len != 16)
			return side == GM_COPY_FROM_USER ?
			       !copy_from_user(dst, uptr, len) :
			       !copy_to_user((void __user *)uptr, src, len);
		if (!user_access_begin(uptr, len))
			return false;
		/*
		 * copy_from_user()'s speculation barrier: x86's
		 * user_access_begin() has it (__uaccess_begin_nospec()),
		 * other architectures' need not.
		 */
		if (side == GM_COPY_FROM_USER && !IS_ENABLED(CONFIG_X86))
			barrier_nospec();
	}
	switch (len) {
	case 1:
		gm_move_sized(u8);
		break;
	case 2:
		gm_move_sized(u16);
		break;
	case 4:
		gm_move_sized(u32);
		break;
	case 16:
		gm_move_sized(u64);
		off = 8;
		fallthrough;
	case 8:
		gm_move_sized(u64);
		break;
	default:
		/* Only kernel memory gets here. */
		if (side == GM_COPY_KERNEL)
			memcpy(dst, src, len);
	}
	if (side != GM_COPY_KERNEL)
		user_access_end();
	return true;
fault:
	user_access_end();
	return false;
}

#undef gm_move_sized

/*
 * Count a completed fast-path access in @c, this CPU's counters (with
 * preemption off): @hint_hit, a lookup the last-hit hint answered (one
 * more lookup and hint hit, counted once in @hinted), else one more lookup.
 */
static __always_inline void gm_count_fast(struct gm_counters *c, bool write,
					  size_t len, bool hint_hit)
{
	if (hint_hit)
		c->hinted++;
	else
		c->lookups++;
	if (write) {
		c->writes++;
		c->written_bytes += len;
	} else {
		c->reads++;
		c->read_bytes += len;
	}
}

/*
 * gm_count_fast() of a read counted after the read section, preemptible:
 * this_cpu operations.  Plain ones in the section are cheaper, which is
 * why the fast path counts there when it can.
 */
static __always_inline void gm_count_fast_read(struct guestmem *gm, size_t len,
					       bool hint_hit)
{
	struct gm_counters __percpu *c = gm->counters;

	this_cpu_inc(*(hint_hit ? &c->hinted : &c->lookups));
	this_cpu_inc(c->reads);
	this_cpu_add(c->read_bytes, len);
}

/* What gm_access_fast() did. */
enum {
	GM_FAST_DONE,	/* the access is complete */
	GM_FAST_SLOW,	/* nothing moved: take gm_access(), which says why */
	GM_FAST_SRCU,	/* nothing moved: a USER region, try gm_access_fast_srcu() */
};

/*
 * The fast path of small accesses that lie in one region: no actor, no
 * walk, and (inlined into its callers) no call but memcpy().  Unless
 * @srcu, it runs under RCU-sched only (preemption off, no barrier): only
 * VMALLOC regions, which guestmem_remove_region() frees after a normal
 * grace period, are accessed so; a USER region's key says GM_KEY_SRCU and
 * the access is left to the same path under SRCU (@srcu), which the
 * removal waits for before it unpins the pages.  @buf must be kernel
 * memory.  Returns GM_FAST_SLOW, having touched nothing, when the access
 * is not one the fast path can complete (unbacked, crossing a boundary,
 * read-only); the caller then takes gm_access(), which reports why.  @len
 * is non-zero.  Without @search only the region of the last lookup is
 * tried, and no function is called.
 *
 * A completed access is counted in the space's statistics here, unless
 * the caller has more to do that may fail (hand the bytes read over to
 * user memory): then it passes @hint_hit, which receives how the region
 * was found, and counts the read with gm_count_fast_read() once it is done.
 */
static __always_inline int gm_access_fast(struct guestmem *gm, u64 gpa,
					  void *buf, size_t len, bool write,
					  bool search, bool srcu,
					  bool *hint_hit)
{
	struct gm_counters *cpu;
	struct gm_region *r;
	struct gm_set *set;
	struct gm_key *key;
	bool hinted = true;
	unsigned int i;
	void *kaddr;
	int idx = 0, ret = GM_FAST_SLOW;
	u64 offset;

	if (srcu)
		idx = srcu_read_lock(&gm->srcu);
	/* Under SRCU too: this CPU's hint and counters, plain accesses. */
	rcu_read_lock_sched();
	set = srcu ? srcu_dereference(gm->set, &gm->srcu) :
		     rcu_dereference_sched(gm->set);
	/* Preemption is off: this CPU's hint and counters, plain accesses. */
	cpu = this_cpu_ptr(gm->counters);
	i = cpu->hint;
	key = likely(i < set->count) ? &set->keys[i] : NULL;
	if (unlikely(!key || gpa < key->gpa || gpa > key->last)) {
		key = search ? gm_search_key(gm, set, gpa) : NULL;
		hinted = false;
	}
	if (unlikely(!key || len - 1 > key->last - gpa))
		goto out;
	/* Nothing of a USER region, not even its struct, without SRCU. */
	kaddr = key->kaddr;
	if (srcu) {
		kaddr = gm_key_kaddr(key);
	} else if (unlikely((unsigned long)kaddr & GM_KEY_SRCU)) {
		ret = GM_FAST_SRCU;
		goto out;
	}
	offset = gpa - key->gpa;
	if (write) {
		r = key->region;
		if (unlikely(r->flags & GUESTMEM_REGION_READONLY))
			goto out;
		gm_copy_sized(kaddr + offset, buf, len, GM_COPY_KERNEL);
		gm_region_mark_dirty(r, offset, len);
	} else {
		gm_copy_sized(buf, kaddr + offset, len, GM_COPY_KERNEL);
	}
	if (hint_hit)
		*hint_hit = hinted;
	else
		gm_count_fast(cpu, write, len, hinted);
	ret = GM_FAST_DONE;
out:
	rcu_read_unlock_sched();
	if (srcu)
		srcu_read_unlock(&gm->srcu, idx);
	return ret;
}

int gm_access_fast_srcu(struct guestmem *gm, u64 gpa, void *buf, size_t len,
			bool write, bool *hint_hit);

/*
 * The fast path with a search: under RCU-sched, and for a USER region the
 * same under SRCU.  Returns GM_FAST_DONE or GM_FAST_SLOW.
 */
static __always_inline int gm_access_fast_search(struct guestmem *gm, u64 gpa,
						 void *buf, size_t len,
						 bool write, bool *hint_hit)
{
	int ret = gm_access_fast(gm, gpa, buf, len, write, true, false,
				 hint_hit);

	if (ret == GM_FAST_SRCU)
		ret = gm_access_fast_srcu(gm, gpa, buf, len, write, hint_hit);
	return ret;
}

/**
 * gm_access_user - move bytes between a GPA range and a user buffer
 * @gm: the space
 * @gpa: first guest byte
 * @len: number of bytes
 * @write: true to write guest memory
 * @partial: as for gm_access()
 * @ubuf: the user buffer
 * @done: out: bytes moved
 *
 * Small accesses inside one region bounce through the stack and the fast
 * path: the user copy happens outside any read section, and hardened
 * usercopy checks a stack object instead of looking up a vmap area.  The
 * result is the one gm_access() would give: anything the fast path cannot
 * finish cleanly (a hole, a boundary, a read-only region, a user buffer that
 * faults) is redone by gm_access(), which moves and counts what it can.  A
 * fast access is counted once it has completed, user copy included.
 *
 * Return: as gm_access().
 */
static __always_inline int gm_access_user(struct guestmem *gm, u64 gpa,
					  u64 len, bool write, bool partial,
					  char __user *ubuf, u64 *done)
{
	/*
	 * Not zero-filled (CONFIG_INIT_STACK_ALL_ZERO would clear all of it
	 * for every access): only bytes written first are ever read.
	 */
	u8 bounce[GM_FAST_USER_MAX] __uninitialized;
	bool hint_hit;

	if (!len || len > sizeof(bounce))
		goto slow;
	if (write) {
		if (!gm_copy_sized(bounce, (const void __force *)ubuf, len,
				   GM_COPY_FROM_USER) ||
		    gm_access_fast_search(gm, gpa, bounce, len, true,
					  NULL) != GM_FAST_DONE)
			goto slow;
	} else {
		if (gm_access_fast_search(gm, gpa, bounce, len, false,
					  &hint_hit) != GM_FAST_DONE ||
		    !gm_copy_sized((void __force *)ubuf, bounce, len,
				   GM_COPY_TO_USER))
			goto slow;
		/* Counted once the bytes are the caller's. */
		gm_count_fast_read(gm, len, hint_hit);
	}
	*done = len;
	return 0;

slow:
	return gm_access(gm, gpa, len, write, partial,
			 write ? gm_actor_copy_from_user : gm_actor_copy_to_user,
			 &ubuf, done);
}

#endif /* _GUESTMEM_FASTPATH_H */
