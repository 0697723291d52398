// SPDX-License-Identifier: GPL-2.0
/*
 * Atomic operations on guest memory, coherent with every other access path
 * (including user mappings, where the guest may use its own atomics).
 */
#include <linux/atomic.h>
#include <linux/compiler.h>
#include "internal.h"

#define GM_ATOMIC_OP_MAX	GUESTMEM_ATOMIC_FETCH_AND

/* The new value an op stores, given the current one. */
static u64 gm_atomic_apply(u32 op, u64 cur, u64 operand)
{
	switch (op) {
	case GUESTMEM_ATOMIC_FETCH_ADD:
		return cur + operand;
	case GUESTMEM_ATOMIC_FETCH_OR:
		return cur | operand;
	case GUESTMEM_ATOMIC_FETCH_AND:
		return cur & operand;
	default:	/* STORE, XCHG */
		return operand;
	}
}

static u64 gm_load(void *p, u32 size)
{
	switch (size) {
	case 1:
		return READ_ONCE(*(u8 *)p);
	case 2:
		return READ_ONCE(*(u16 *)p);
	case 4:
		return READ_ONCE(*(u32 *)p);
	default:
		return READ_ONCE(*(u64 *)p);
	}
}

/* x86 has cmpxchg for 1, 2, 4 and 8 bytes; returns the value seen. */
static u64 gm_cmpxchg(void *p, u32 size, u64 old, u64 new)
{
	switch (size) {
	case 1:
		return cmpxchg((u8 *)p, (u8)old, (u8)new);
	case 2:
		return cmpxchg((u16 *)p, (u16)old, (u16)new);
	case 4:
		return cmpxchg((u32 *)p, (u32)old, (u32)new);
	default:
		return cmpxchg((u64 *)p, old, new);
	}
}

/*
 * One op on a naturally aligned object of @size bytes at @p.  Returns the
 * previous value; for CMPXCHG, whether it matched is up to the caller to
 * see by comparing it with @expected.
 */
static u64 gm_atomic_op(void *p, u32 size, u64 mask, u32 op, u64 operand,
			u64 expected)
{
	u64 old, seen;

	if (op == GUESTMEM_ATOMIC_LOAD)
		return gm_load(p, size);
	if (op == GUESTMEM_ATOMIC_CMPXCHG)
		return gm_cmpxchg(p, size, expected, operand);
	old = gm_load(p, size);
	for (;;) {
		seen = gm_cmpxchg(p, size, old,
				  gm_atomic_apply(op, old, operand) & mask);
		if (seen == old)
			return old;
		old = seen;
	}
}

/**
 * guestmem_atomic - an atomic operation on guest memory
 * @gm: the space
 * @gpa: address of the object, naturally aligned to @size
 * @size: 1, 2, 4 or 8 bytes
 * @op: %GUESTMEM_ATOMIC_LOAD, _STORE, _XCHG, _CMPXCHG, _FETCH_ADD, _FETCH_OR
 *	or _FETCH_AND
 * @value: in: the operand (ignored by LOAD); out: the previous value,
 *	zero-extended (left alone by STORE)
 * @expected: for CMPXCHG, the value expected at @gpa; a failed comparison
 *	still returns 0, with *@value the current content
 *
 * Values are in host byte order.  Operand bits above @size bytes are
 * refused.  Every op but LOAD is a write (refused on read-only regions,
 * recorded in the dirty log).
 *
 * Return: 0, -EINVAL (size, alignment, op or operand), -EOVERFLOW, -ENXIO,
 * -EACCES or -EBADF (an op but LOAD through a read-only reference).
 */
int guestmem_atomic(struct guestmem *gm, u64 gpa, u32 size, u32 op, u64 *value,
		    u64 expected)
{
	bool write = op != GUESTMEM_ATOMIC_LOAD;
	struct gm_region *r;
	unsigned int i;
	u64 old, offset, mask;
	void *p;
	int idx, ret = 0;

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	mask = size == 8 ? U64_MAX : (1ULL << (size * 8)) - 1;
	if (op > GM_ATOMIC_OP_MAX || gpa & (size - 1))
		return -EINVAL;
	if (write && gm_ref_ro(gm))
		return -EBADF;
	gm = gm_ref(gm);
	if ((write && (*value & ~mask)) ||
	    (op == GUESTMEM_ATOMIC_CMPXCHG && (expected & ~mask)))
		return -EINVAL;

	idx = srcu_read_lock(&gm->srcu);
	r = gm_lookup(gm, gm_set_deref(gm), gpa, &i);
	if (!r) {
		ret = -ENXIO;
		goto out;
	}
	if (write && (r->flags & GUESTMEM_REGION_READONLY)) {
		ret = -EACCES;
		goto out;
	}
	offset = gpa - r->gpa;
	p = r->kaddr + offset;
	old = gm_atomic_op(p, size, mask, op, *value, expected);
	/* A CMPXCHG that did not match wrote nothing. */
	if (write && (op != GUESTMEM_ATOMIC_CMPXCHG || old == expected))
		gm_region_mark_dirty(r, offset, size);
	if (op != GUESTMEM_ATOMIC_STORE)
		*value = old;
out:
	srcu_read_unlock(&gm->srcu, idx);
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_atomic);
