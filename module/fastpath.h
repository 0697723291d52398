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
#include "internal.h"

/*
 * Copy a small piece: the sizes of scalars and guest objects become plain
 * loads and stores instead of a call to memcpy().
 */
static __always_inline void gm_copy_small(void *dst, const void *src,
					  size_t len)
{
	switch (len) {
	case 1:
		memcpy(dst, src, 1);
		break;
	case 2:
		memcpy(dst, src, 2);
		break;
	case 4:
		memcpy(dst, src, 4);
		break;
	case 8:
		memcpy(dst, src, 8);
		break;
	case 16:
		memcpy(dst, src, 16);
		break;
	default:
		memcpy(dst, src, len);
	}
}

/* Count a fast-path access in @c, this CPU's counters; @sign is 1 or -1. */
static __always_inline void gm_count_fast(struct gm_counters *c, bool write,
					  size_t len, bool hint_hit, int sign)
{
	if (hint_hit)
		c->hinted += sign;
	else
		c->lookups += sign;
	if (write) {
		c->writes += sign;
		c->written_bytes += sign * (s64)len;
	} else {
		c->reads += sign;
		c->read_bytes += sign * (s64)len;
	}
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
 * tried, and no function is called.  A completed access is counted in the
 * space's statistics; *@hint_hit tells how, for a caller that has to take
 * the count back.
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
	*hint_hit = true;
	i = cpu->hint;
	key = likely(i < set->count) ? &set->keys[i] : NULL;
	if (unlikely(!key || gpa < key->gpa || gpa > key->last)) {
		key = search ? gm_search_key(gm, set, gpa) : NULL;
		*hint_hit = false;
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
		gm_copy_small(kaddr + offset, buf, len);
		gm_region_mark_dirty(r, offset, len);
	} else {
		gm_copy_small(buf, kaddr + offset, len);
	}
	gm_count_fast(cpu, write, len, *hint_hit, 1);
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

/*
 * Small user copies for the fast path.  Scalar sizes are one inline access
 * between user_access_begin() and user_access_end() (no call, and no
 * hardened-usercopy check, which a runtime length needs: the kernel side
 * is a stack buffer of the caller).  Return false if any byte faulted,
 * however many moved: the caller redoes the access on the general path,
 * which counts them exactly.
 */
static __always_inline bool gm_get_user_small(u8 *b, const char __user *ubuf,
					      size_t len)
{
	u64 v8;
	u32 v4;
	u16 v2;
	u8 v1;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return !copy_from_user(b, ubuf, len);
	if (!user_access_begin(ubuf, len))
		return false;
	/*
	 * copy_from_user()'s speculation barrier: x86's user_access_begin()
	 * has it (__uaccess_begin_nospec()), other architectures' need not.
	 */
	if (!IS_ENABLED(CONFIG_X86))
		barrier_nospec();
	switch (len) {
	case 1:
		unsafe_get_user(v1, (const u8 __user *)ubuf, fault);
		*b = v1;
		break;
	case 2:
		unsafe_get_user(v2, (const u16 __user *)ubuf, fault);
		memcpy(b, &v2, sizeof(v2));
		break;
	case 4:
		unsafe_get_user(v4, (const u32 __user *)ubuf, fault);
		memcpy(b, &v4, sizeof(v4));
		break;
	default:
		unsafe_get_user(v8, (const u64 __user *)ubuf, fault);
		memcpy(b, &v8, sizeof(v8));
	}
	user_access_end();
	return true;
fault:
	user_access_end();
	return false;
}

static __always_inline bool gm_put_user_small(char __user *ubuf, const u8 *b,
					      size_t len)
{
	union {
		u8 v1;
		u16 v2;
		u32 v4;
		u64 v8;
	} v;

	switch (len) {
	case 1:
	case 2:
	case 4:
	case 8:
		break;
	default:
		return !copy_to_user(ubuf, b, len);
	}
	memcpy(&v, b, len == 8 ? 8 : len == 4 ? 4 : len == 2 ? 2 : 1);
	if (!user_access_begin(ubuf, len))
		return false;
	switch (len) {
	case 1:
		unsafe_put_user(v.v1, (u8 __user *)ubuf, fault);
		break;
	case 2:
		unsafe_put_user(v.v2, (u16 __user *)ubuf, fault);
		break;
	case 4:
		unsafe_put_user(v.v4, (u32 __user *)ubuf, fault);
		break;
	default:
		unsafe_put_user(v.v8, (u64 __user *)ubuf, fault);
	}
	user_access_end();
	return true;
fault:
	user_access_end();
	return false;
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
 * faults before guest memory is written) is redone by gm_access().
 *
 * Return: as gm_access().
 */
static __always_inline int gm_access_user(struct guestmem *gm, u64 gpa,
					  u64 len, bool write, bool partial,
					  char __user *ubuf, u64 *done)
{
	u8 bounce[GM_FAST_USER_MAX];
	bool hint_hit;
	int ret;

	if (!len || len > sizeof(bounce))
		goto slow;
	if (write) {
		if (!gm_get_user_small(bounce, ubuf, len))
			goto slow;
		ret = gm_access_fast_search(gm, gpa, bounce, len, true,
					    &hint_hit);
		if (ret != GM_FAST_DONE)
			goto slow;
	} else {
		ret = gm_access_fast_search(gm, gpa, bounce, len, false,
					    &hint_hit);
		if (ret != GM_FAST_DONE)
			goto slow;
		if (unlikely(!gm_put_user_small(ubuf, bounce, len))) {
			/* The general path counts the access again. */
			preempt_disable();
			gm_count_fast(this_cpu_ptr(gm->counters), false, len,
				      hint_hit, -1);
			preempt_enable();
			goto slow;
		}
	}
	*done = len;
	return 0;

slow:
	return gm_access(gm, gpa, len, write, partial,
			 write ? gm_actor_copy_from_user : gm_actor_copy_to_user,
			 &ubuf, done);
}

#endif /* _GUESTMEM_FASTPATH_H */
