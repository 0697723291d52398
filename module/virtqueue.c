// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio 1.x split virtqueue in a guestmem space (virtio 1.2, 2.7).
 *
 * Every byte of the ring is reached through guestmem's exact accessors, so
 * a ring (or an indirect table) in a hole fails with -ENXIO and a used ring
 * in a READONLY region with -EACCES, and nothing outside the space is ever
 * touched.  The index fields are loaded and stored with guestmem_atomic()
 * (single 16-bit accesses, never torn).  The memory ordering is the spec's
 * and vringh's (drivers/vhost/vringh.c, __vringh_iov(), __vringh_complete(),
 * __vringh_need_notify()) and rust-vmm virtio-queue's (Queue::pop_descriptor_chain,
 * add_used, needs_notification):
 *
 *  - read avail->idx, smp_rmb(), then the avail entries and descriptors;
 *  - write the used entry, smp_wmb(), then used->idx;
 *  - smp_mb() between publishing used->idx (or avail_event / used->flags)
 *    and reading avail->flags / used_event (or avail->idx again), so that
 *    neither side misses the other's notification.
 *
 * A hostile ring breaks the queue (virtio's DEVICE_NEEDS_RESET): the
 * reason is kept as a negative errno (guestmem_vq_broken()), a ratelimited
 * message names it, and every later call fails with -EIO until the device
 * sets the queue up again.  Walking a chain is bounded by the queue size
 * (and an indirect table by its own size and the chain's buffer limit), so
 * no ring makes it loop.
 *
 * An indirect table may be longer than the queue, as Linux's
 * virtqueue_add_split() builds them (total_sg > num) and vhost accepts
 * them: a chain holds up to max(num, %GUESTMEM_VQ_MAX_SEGS) buffers, an
 * indirect table up to %GUESTMEM_VQ_MAX_INDIRECT descriptors (as vhost's
 * get_indirect(): a 16-bit next index reaches no further).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <uapi/linux/virtio_ring.h>
#include <linux/guestmem_device.h>
#include "internal.h"

/* The ring layouts of virtio 1.x (2.7.5, 2.7.6, 2.7.8), little-endian. */
struct gm_vring_desc {
	__le64 addr;
	__le32 len;
	__le16 flags;
	__le16 next;
};

struct gm_vring_used_elem {
	__le32 id;
	__le32 len;
};

#define GM_VQ_DESC_SIZE		sizeof(struct gm_vring_desc)
#define GM_VQ_FEATURES		(GUESTMEM_VQ_F_INDIRECT_DESC | \
				 GUESTMEM_VQ_F_EVENT_IDX)

static_assert(GM_VQ_DESC_SIZE == 16);
static_assert(sizeof(struct gm_vring_used_elem) == 8);

/* Offsets in the avail ring (flags, idx, ring[num], used_event). */
static u64 gm_vq_avail_idx(const struct guestmem_vq *vq)
{
	return vq->avail + 2;
}

static u64 gm_vq_avail_ring(const struct guestmem_vq *vq, u16 idx)
{
	return vq->avail + 4 + 2 * (u64)(idx & (vq->num - 1));
}

static u64 gm_vq_used_event(const struct guestmem_vq *vq)
{
	return vq->avail + 4 + 2 * (u64)vq->num;
}

/* Offsets in the used ring (flags, idx, ring[num], avail_event). */
static u64 gm_vq_used_ring(const struct guestmem_vq *vq, u16 idx)
{
	return vq->used + 4 + 8 * (u64)(idx & (vq->num - 1));
}

static u64 gm_vq_avail_event(const struct guestmem_vq *vq)
{
	return vq->used + 4 + 8 * (u64)vq->num;
}

/* A single 16-bit little-endian load or store of an index or flags field. */
static int gm_vq_load16(struct guestmem_vq *vq, u64 gpa, u16 *val)
{
	u64 v;
	int ret;

	ret = guestmem_atomic(vq->gm, gpa, 2, GUESTMEM_ATOMIC_LOAD, &v, 0);
	if (!ret)
		*val = le16_to_cpu((__force __le16)(u16)v);
	return ret;
}

static int gm_vq_store16(struct guestmem_vq *vq, u64 gpa, u16 val)
{
	u64 v = (__force u16)cpu_to_le16(val);

	return guestmem_atomic(vq->gm, gpa, 2, GUESTMEM_ATOMIC_STORE, &v, 0);
}

/* Break the queue for @err; returns -EIO, what callers get from now on. */
static int gm_vq_fail(struct guestmem_vq *vq, int err, const char *what)
{
	if (!vq->broken) {
		vq->broken = err;
		pr_warn_ratelimited("virtqueue at desc %#llx broken: %s (%d), avail index %u\n",
				    vq->desc, what, err, vq->last_avail);
	}
	return -EIO;
}

/**
 * guestmem_vq_init - set up a split virtqueue over a space
 * @vq: the queue to set up
 * @gm: the space holding the rings (the queue takes a reference)
 * @num: queue size: a power of two, 1 to %GUESTMEM_VQ_MAX_SIZE
 * @features: %GUESTMEM_VQ_F_INDIRECT_DESC and %GUESTMEM_VQ_F_EVENT_IDX, as
 *	negotiated with the driver
 * @desc: GPA of the descriptor table, 16-byte aligned
 * @avail: GPA of the available ring, 2-byte aligned
 * @used: GPA of the used ring, 4-byte aligned
 *
 * The queue starts as after a reset: the next entry popped is avail entry
 * 0 and the next used entry is used entry 0.  The rings are not read
 * here; a ring that is not backed breaks the queue when it is used.  The
 * device writes the used ring, so @gm must not be a read-only reference
 * (guestmem_get_file() of a file opened without write access): such a
 * queue would break at its first push.
 *
 * Context: process context; sleeps.
 * Return: 0, -EINVAL (size, features, alignment), -EBADF (@gm is a
 * read-only reference), -EOVERFLOW (a ring wraps past 2^64) or -ENOMEM.
 */
int guestmem_vq_init(struct guestmem_vq *vq, struct guestmem *gm, u32 num,
		     u64 features, u64 desc, u64 avail, u64 used)
{
	u32 max_segs = max_t(u32, num, GUESTMEM_VQ_MAX_SEGS);

	memset(vq, 0, sizeof(*vq));
	if (!num || num > GUESTMEM_VQ_MAX_SIZE || !is_power_of_2(num))
		return -EINVAL;
	if (features & ~GM_VQ_FEATURES)
		return -EINVAL;
	if (!IS_ALIGNED(desc, 16) || !IS_ALIGNED(avail, 2) ||
	    !IS_ALIGNED(used, 4))
		return -EINVAL;
	/* Last bytes of the table and rings (event fields included). */
	if ((u64)num * GM_VQ_DESC_SIZE - 1 > U64_MAX - desc ||
	    6 + 2 * (u64)num - 1 > U64_MAX - avail ||
	    6 + 8 * (u64)num - 1 > U64_MAX - used)
		return -EOVERFLOW;
	/* The device writes the used ring: not through a read-only reference. */
	if (gm_ref_ro(gm))
		return -EBADF;

	vq->seg = kvmalloc_array(max_segs, sizeof(*vq->seg), GFP_KERNEL_ACCOUNT);
	if (!vq->seg)
		return -ENOMEM;
	guestmem_get(gm);
	vq->gm = gm;
	vq->num = num;
	vq->max_segs = max_segs;
	vq->features = features;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	return 0;
}
EXPORT_SYMBOL_GPL(guestmem_vq_init);

/**
 * guestmem_vq_destroy - release a queue set up by guestmem_vq_init()
 * @vq: the queue (may also be one whose init failed, or zeroed)
 *
 * Drops the queue's reference on its space.  Chains popped from it are
 * invalid afterwards.
 *
 * Context: process context.
 */
void guestmem_vq_destroy(struct guestmem_vq *vq)
{
	kvfree(vq->seg);
	if (vq->gm)
		guestmem_put(vq->gm);
	memset(vq, 0, sizeof(*vq));
}
EXPORT_SYMBOL_GPL(guestmem_vq_destroy);

/**
 * guestmem_vq_set_base - resume a queue at given ring indices
 * @vq: a queue set up by guestmem_vq_init()
 * @last_avail: the next avail entry the device pops
 * @used_idx: the used->idx the device published last
 *
 * For a device that takes over a running ring (after migration, or from
 * another device model), as vhost's VHOST_SET_VRING_BASE.  The indices are
 * free-running 16-bit counters; the rings are not touched.
 *
 * Context: any.
 */
void guestmem_vq_set_base(struct guestmem_vq *vq, u16 last_avail, u16 used_idx)
{
	vq->last_avail = last_avail;
	vq->used_idx = used_idx;
	vq->signalled_valid = false;
}
EXPORT_SYMBOL_GPL(guestmem_vq_set_base);

/**
 * guestmem_vq_broken - why the queue is broken
 * @vq: the queue
 *
 * Return: 0 if it is not, else the negative errno naming the fault:
 * -EPROTO (avail->idx moved by more than the queue size), -ERANGE (a head
 * or next index out of its table), -ELOOP (a chain visits more descriptors
 * than its table holds: a loop), -E2BIG (a chain of more buffers than
 * max(queue size, %GUESTMEM_VQ_MAX_SEGS), or an indirect table of more than
 * %GUESTMEM_VQ_MAX_INDIRECT descriptors), -EBADMSG (a
 * malformed descriptor: indirect within indirect, indirect with NEXT,
 * indirect length not a non-zero multiple of 16, indirect not negotiated,
 * a readable buffer after a writable one), -EOVERFLOW (a buffer or table
 * wraps past 2^64), -ENXIO or -EACCES (ring or indirect table memory
 * unbacked, or a used ring in a READONLY region), or another errno of
 * guestmem's accessors.
 */
int guestmem_vq_broken(const struct guestmem_vq *vq)
{
	return vq->broken;
}
EXPORT_SYMBOL_GPL(guestmem_vq_broken);

/* Walk the chain at @head into @vq->seg; 0 or -EIO (queue broken). */
static int gm_vq_walk(struct guestmem_vq *vq, u16 head,
		      struct guestmem_vq_chain *chain)
{
	u64 table = vq->desc;
	u32 table_len = vq->num;
	u32 visited = 0;
	bool indirect = false;
	u32 i = head;
	int ret;

	memset(chain, 0, sizeof(*chain));
	chain->head = head;
	chain->seg = vq->seg;

	for (;;) {
		struct guestmem_vq_seg *seg;
		struct gm_vring_desc d;
		u16 flags;
		u64 addr;
		u32 len;

		/* Each table holds table_len descriptors: more is a loop. */
		if (++visited > table_len)
			return gm_vq_fail(vq, -ELOOP, "descriptor loop");
		ret = guestmem_read(vq->gm, table + (u64)i * GM_VQ_DESC_SIZE,
				    &d, sizeof(d));
		if (ret)
			return gm_vq_fail(vq, ret, indirect ?
					  "indirect table unreadable" :
					  "descriptor table unreadable");
		flags = le16_to_cpu(d.flags);
		addr = le64_to_cpu(d.addr);
		len = le32_to_cpu(d.len);

		if (flags & VRING_DESC_F_INDIRECT) {
			if (!(vq->features & GUESTMEM_VQ_F_INDIRECT_DESC))
				return gm_vq_fail(vq, -EBADMSG,
						  "indirect descriptor not negotiated");
			if (indirect)
				return gm_vq_fail(vq, -EBADMSG,
						  "indirect descriptor in an indirect table");
			if (flags & VRING_DESC_F_NEXT)
				return gm_vq_fail(vq, -EBADMSG,
						  "indirect descriptor with NEXT");
			if (!len || len % GM_VQ_DESC_SIZE)
				return gm_vq_fail(vq, -EBADMSG,
						  "indirect table length");
			if (len / GM_VQ_DESC_SIZE > GUESTMEM_VQ_MAX_INDIRECT)
				return gm_vq_fail(vq, -E2BIG,
						  "indirect table larger than 2^16 descriptors");
			if (len - 1 > U64_MAX - addr)
				return gm_vq_fail(vq, -EOVERFLOW,
						  "indirect table wraps");
			/* Its entries are read (and checked) one by one. */
			table = addr;
			table_len = len / GM_VQ_DESC_SIZE;
			visited = 0;
			indirect = true;
			i = 0;
			continue;
		}

		/* This bounds a walk of an indirect table too. */
		if (chain->nr_out + chain->nr_in >= vq->max_segs)
			return gm_vq_fail(vq, -E2BIG, "chain too long");
		if (len && len - 1 > U64_MAX - addr)
			return gm_vq_fail(vq, -EOVERFLOW, "buffer wraps");
		seg = &vq->seg[chain->nr_out + chain->nr_in];
		seg->gpa = addr;
		seg->len = len;
		seg->write = flags & VRING_DESC_F_WRITE;
		if (seg->write) {
			chain->nr_in++;
			chain->in_len += len;
		} else {
			if (chain->nr_in)
				return gm_vq_fail(vq, -EBADMSG,
						  "readable buffer after a writable one");
			chain->nr_out++;
			chain->out_len += len;
		}

		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = le16_to_cpu(d.next);
		if (i >= table_len)
			return gm_vq_fail(vq, -ERANGE, "next index out of range");
		cond_resched();
	}
}

/**
 * guestmem_vq_pop - take the next available descriptor chain
 * @vq: the queue
 * @chain: out: the chain (its buffers stay valid until the next pop)
 *
 * Reads avail->idx and, if the driver made a chain available, walks it.
 * A malformed ring breaks the queue (see guestmem_vq_broken()).  The chain
 * must be given back with guestmem_vq_push().
 *
 * Context: process context; sleeps.
 * Return: 1 (a chain), 0 (none available) or -EIO (the queue is broken).
 */
int guestmem_vq_pop(struct guestmem_vq *vq, struct guestmem_vq_chain *chain)
{
	u16 avail_idx, head;
	int ret;

	if (vq->broken)
		return -EIO;
	ret = gm_vq_load16(vq, gm_vq_avail_idx(vq), &avail_idx);
	if (ret)
		return gm_vq_fail(vq, ret, "avail ring unreadable");
	if ((u16)(avail_idx - vq->last_avail) > vq->num)
		return gm_vq_fail(vq, -EPROTO,
				  "avail index moved by more than the queue size");
	if (avail_idx == vq->last_avail)
		return 0;
	/* The entry and its descriptors after the index (vringh's virtio_rmb). */
	smp_rmb();

	ret = guestmem_read_le16(vq->gm, gm_vq_avail_ring(vq, vq->last_avail),
				 &head);
	if (ret)
		return gm_vq_fail(vq, ret, "avail ring unreadable");
	if (head >= vq->num)
		return gm_vq_fail(vq, -ERANGE, "head index out of range");
	ret = gm_vq_walk(vq, head, chain);
	if (ret)
		return ret;
	vq->last_avail++;
	return 1;
}
EXPORT_SYMBOL_GPL(guestmem_vq_pop);

/**
 * guestmem_vq_push - give a chain back through the used ring
 * @vq: the queue
 * @head: the chain's head (&guestmem_vq_chain.head)
 * @len: bytes the device wrote into the chain's writable buffers
 *
 * Writes the used entry, then (after smp_wmb()) publishes the new
 * used->idx.  Call guestmem_vq_need_notify() afterwards to learn whether to
 * interrupt the driver.
 *
 * Context: process context; sleeps.
 * Return: 0, -EINVAL (@head out of range) or -EIO (the queue is broken,
 * now or before).
 */
int guestmem_vq_push(struct guestmem_vq *vq, u16 head, u32 len)
{
	struct gm_vring_used_elem e = {
		.id = cpu_to_le32(head),
		.len = cpu_to_le32(len),
	};
	int ret;

	if (vq->broken)
		return -EIO;
	if (head >= vq->num)
		return -EINVAL;
	ret = guestmem_write_obj(vq->gm, gm_vq_used_ring(vq, vq->used_idx), &e);
	if (ret)
		return gm_vq_fail(vq, ret, "used ring unwritable");
	/* The entry before the index that covers it (vringh: virtio_wmb). */
	smp_wmb();
	ret = gm_vq_store16(vq, vq->used + 2, vq->used_idx + 1);
	if (ret)
		return gm_vq_fail(vq, ret, "used ring unwritable");
	vq->used_idx++;
	return 0;
}
EXPORT_SYMBOL_GPL(guestmem_vq_push);

/**
 * guestmem_vq_need_notify - whether the driver wants an interrupt now
 * @vq: the queue, after one or more guestmem_vq_push()
 *
 * Without EVENT_IDX: unless avail->flags has VRING_AVAIL_F_NO_INTERRUPT.
 * With EVENT_IDX: if used->idx passed used_event since the last call
 * (vring_need_event()).  A full barrier orders the used->idx store before
 * those reads.  A ring that cannot be read breaks the queue and gets no
 * interrupt from here: a device reports a broken queue its own way.
 *
 * Context: process context; sleeps.
 * Return: true if the device should signal the driver.
 */
bool guestmem_vq_need_notify(struct guestmem_vq *vq)
{
	u16 old, val;
	bool valid;
	int ret;

	if (vq->broken)
		return false;
	/* used->idx before avail->flags / used_event (vringh: virtio_mb). */
	smp_mb();
	if (!(vq->features & GUESTMEM_VQ_F_EVENT_IDX)) {
		ret = gm_vq_load16(vq, vq->avail, &val);
		if (ret) {
			gm_vq_fail(vq, ret, "avail ring unreadable");
			return false;
		}
		return !(val & VRING_AVAIL_F_NO_INTERRUPT);
	}

	old = vq->signalled_used;
	valid = vq->signalled_valid;
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	ret = gm_vq_load16(vq, gm_vq_used_event(vq), &val);
	if (ret) {
		gm_vq_fail(vq, ret, "avail ring unreadable");
		return false;
	}
	/* The first time, there is no previous index to compare with. */
	if (!valid)
		return true;
	return vring_need_event(val, vq->used_idx, old);
}
EXPORT_SYMBOL_GPL(guestmem_vq_need_notify);

/**
 * guestmem_vq_disable_notify - ask the driver not to kick
 * @vq: the queue
 *
 * Without EVENT_IDX sets VRING_USED_F_NO_NOTIFY in used->flags; with
 * EVENT_IDX nothing is needed (avail_event is simply not advanced).  A
 * hint only: the driver may kick anyway.
 *
 * Context: process context; sleeps.
 * Return: 0 or -EIO (the queue is broken).
 */
int guestmem_vq_disable_notify(struct guestmem_vq *vq)
{
	int ret;

	if (vq->broken)
		return -EIO;
	if (vq->features & GUESTMEM_VQ_F_EVENT_IDX)
		return 0;
	ret = gm_vq_store16(vq, vq->used, VRING_USED_F_NO_NOTIFY);
	return ret ? gm_vq_fail(vq, ret, "used ring unwritable") : 0;
}
EXPORT_SYMBOL_GPL(guestmem_vq_disable_notify);

/**
 * guestmem_vq_enable_notify - ask the driver to kick again
 * @vq: the queue
 *
 * Clears used->flags (or, with EVENT_IDX, sets avail_event to the next
 * entry the device will pop), then, after a full barrier, looks at
 * avail->idx again: a chain the driver made available before it could see
 * the change would otherwise wait for a kick that never comes.
 *
 * Context: process context; sleeps.
 * Return: 0 (nothing pending), 1 (chains are pending: pop them, possibly
 * after disabling notifications again) or -EIO (the queue is broken).
 */
int guestmem_vq_enable_notify(struct guestmem_vq *vq)
{
	u16 avail_idx;
	int ret;

	if (vq->broken)
		return -EIO;
	if (vq->features & GUESTMEM_VQ_F_EVENT_IDX)
		ret = gm_vq_store16(vq, gm_vq_avail_event(vq), vq->last_avail);
	else
		ret = gm_vq_store16(vq, vq->used, 0);
	if (ret)
		return gm_vq_fail(vq, ret, "used ring unwritable");
	/* The store above before the avail->idx load (vringh: virtio_mb). */
	smp_mb();
	ret = gm_vq_load16(vq, gm_vq_avail_idx(vq), &avail_idx);
	if (ret)
		return gm_vq_fail(vq, ret, "avail ring unreadable");
	return avail_idx != vq->last_avail;
}
EXPORT_SYMBOL_GPL(guestmem_vq_enable_notify);

/* Copy between @buf and the readable or writable buffers of a chain. */
static int gm_vq_chain_copy(struct guestmem_vq *vq,
			    const struct guestmem_vq_chain *chain, bool write,
			    u64 offset, void *buf, size_t len)
{
	unsigned int i = write ? chain->nr_out : 0;
	unsigned int end = write ? chain->nr_out + chain->nr_in : chain->nr_out;
	int ret;

	for (; i < end && len; i++) {
		const struct guestmem_vq_seg *seg = &chain->seg[i];
		size_t n;

		if (offset >= seg->len) {
			offset -= seg->len;
			continue;
		}
		n = min_t(u64, len, seg->len - offset);
		if (write)
			ret = guestmem_write(vq->gm, seg->gpa + offset, buf, n);
		else
			ret = guestmem_read(vq->gm, seg->gpa + offset, buf, n);
		if (ret)
			return ret;
		buf += n;
		len -= n;
		offset = 0;
	}
	return len ? -EINVAL : 0;
}

/**
 * guestmem_vq_chain_read - read from a chain's readable buffers
 * @vq: the queue the chain was popped from
 * @chain: the chain
 * @offset: offset into the concatenation of the readable buffers
 * @buf: destination
 * @len: bytes to read
 *
 * Each buffer is read with guestmem_read(): a buffer in a hole fails with
 * -ENXIO (the device completes the request with an error of its own; the
 * queue itself stays usable).
 *
 * Context: process context; sleeps.
 * Return: 0, -EINVAL (past the readable buffers; what came before was
 * read) or an errno of guestmem_read().
 */
int guestmem_vq_chain_read(struct guestmem_vq *vq,
			   const struct guestmem_vq_chain *chain, u64 offset,
			   void *buf, size_t len)
{
	return gm_vq_chain_copy(vq, chain, false, offset, buf, len);
}
EXPORT_SYMBOL_GPL(guestmem_vq_chain_read);

/**
 * guestmem_vq_chain_write - write into a chain's writable buffers
 * @vq: the queue the chain was popped from
 * @chain: the chain
 * @offset: offset into the concatenation of the writable buffers
 * @buf: source
 * @len: bytes to write
 *
 * Each buffer is written with guestmem_write(): -ENXIO for a buffer in a
 * hole, -EACCES for one in a READONLY region.
 *
 * Context: process context; sleeps.
 * Return: 0, -EINVAL (past the writable buffers; what came before was
 * written) or an errno of guestmem_write().
 */
int guestmem_vq_chain_write(struct guestmem_vq *vq,
			    const struct guestmem_vq_chain *chain, u64 offset,
			    const void *buf, size_t len)
{
	return gm_vq_chain_copy(vq, chain, true, offset, (void *)buf, len);
}
EXPORT_SYMBOL_GPL(guestmem_vq_chain_write);
