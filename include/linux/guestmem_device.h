/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem device API: what an emulated device needs besides guest memory
 * access (include/linux/guestmem.h).
 *
 * - &struct guestmem_notifier: a kick eventfd whose wake-up queues the
 *   device's work on a workqueue (the VMM binds the eventfd to a guest
 *   doorbell with KVM_IOEVENTFD) and an interrupt eventfd the device signals
 *   on completion (bound with KVM_IRQFD).  As vhost's vhost_poll.
 * - &struct guestmem_vq: a virtio 1.x split virtqueue in a space's guest
 *   memory, read and written only through guestmem's exact accessors.  A
 *   hostile ring marks the queue broken (virtio's DEVICE_NEEDS_RESET)
 *   instead of hanging, crashing or reaching outside the space.  As vringh
 *   and rust-vmm's virtio-queue.
 */
#ifndef _LINUX_GUESTMEM_DEVICE_H
#define _LINUX_GUESTMEM_DEVICE_H

#include <linux/bits.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/guestmem.h>

struct eventfd_ctx;
struct file;
struct guestmem_notifier;

/**
 * typedef guestmem_kick_fn_t - the device's work, run after a kick
 * @n: the notifier that was kicked
 *
 * Runs in process context on the notifier's workqueue, never in the kick
 * eventfd's wake-up and never twice at once for one notifier; it may sleep.
 * Kicks that arrive while it runs queue it once more.  It may call
 * guestmem_notifier_kick() to run again later (to bound the length of one
 * run).  It must not unbind or bind @n (that waits for it).
 */
typedef void (*guestmem_kick_fn_t)(struct guestmem_notifier *n);

/**
 * struct guestmem_notifier - kick and interrupt eventfds of a device
 * @fn: the device's work (set by guestmem_notifier_init())
 * @wq: the workqueue @work runs on
 * @work: runs @fn
 * @wait: entry on the kick eventfd's wait queue
 * @pt: poll table used to find that wait queue
 * @wqh: the wait queue @wait is on, or NULL
 * @kick: the kick eventfd's file (a reference), or NULL
 * @call: the interrupt eventfd (a reference), or NULL
 * @bind_lock: serialises bind and unbind
 * @call_lock: protects @call against unbind while signalling, and
 *	@stopping (taken with interrupts off)
 * @stopping: an unbind is under way: guestmem_notifier_kick() does nothing
 *
 * Embed it in the device and treat every field as private.
 */
struct guestmem_notifier {
	guestmem_kick_fn_t fn;
	struct workqueue_struct *wq;
	struct work_struct work;
	wait_queue_entry_t wait;
	poll_table pt;
	wait_queue_head_t *wqh;
	struct file *kick;
	struct eventfd_ctx *call;
	struct mutex bind_lock;	/* see above */
	spinlock_t call_lock;	/* see above */
	bool stopping;
};

void guestmem_notifier_init(struct guestmem_notifier *n, guestmem_kick_fn_t fn,
			    struct workqueue_struct *wq);
int guestmem_notifier_bind(struct guestmem_notifier *n, struct file *kick,
			   struct file *call);
int guestmem_notifier_bind_fd(struct guestmem_notifier *n, int kick_fd,
			      int call_fd);
void guestmem_notifier_unbind(struct guestmem_notifier *n);
void guestmem_notifier_kick(struct guestmem_notifier *n);
void guestmem_notifier_flush(struct guestmem_notifier *n);
bool guestmem_notifier_signal(struct guestmem_notifier *n);

/* Feature bits of guestmem_vq_init() (the virtio ring feature numbers). */
#define GUESTMEM_VQ_F_INDIRECT_DESC	BIT_ULL(28)	/* VIRTIO_RING_F_INDIRECT_DESC */
#define GUESTMEM_VQ_F_EVENT_IDX		BIT_ULL(29)	/* VIRTIO_RING_F_EVENT_IDX */

/* Largest queue size of a split virtqueue (virtio 1.x, 2.7). */
#define GUESTMEM_VQ_MAX_SIZE		32768

/*
 * A chain holds up to max(queue size, GUESTMEM_VQ_MAX_SEGS) buffers (vhost's
 * UIO_MAXIOV): an indirect table may be longer than the queue, as Linux
 * guests build them.  An indirect table holds up to GUESTMEM_VQ_MAX_INDIRECT
 * descriptors (a 16-bit next index reaches no further; vhost's limit).
 */
#define GUESTMEM_VQ_MAX_SEGS		1024
#define GUESTMEM_VQ_MAX_INDIRECT	65536

/**
 * struct guestmem_vq_seg - one buffer of a descriptor chain
 * @gpa: guest physical address of the buffer's first byte
 * @len: bytes in the buffer (may be 0)
 * @write: true for a device-writable buffer, false for a readable one
 *
 * Only the address arithmetic is checked (the buffer does not wrap past
 * 2^64); the bytes are reached through guestmem's accessors, which report
 * holes (-ENXIO) and READONLY regions (-EACCES) when the device gets there.
 */
struct guestmem_vq_seg {
	u64 gpa;
	u32 len;
	bool write;
};

/**
 * struct guestmem_vq_chain - a descriptor chain popped from the avail ring
 * @head: index of the chain's head descriptor (give it back to
 *	guestmem_vq_push())
 * @nr_out: device-readable buffers, @seg[0 .. @nr_out - 1]
 * @nr_in: device-writable buffers, @seg[@nr_out .. @nr_out + @nr_in - 1]
 * @out_len: bytes in the readable buffers
 * @in_len: bytes in the writable buffers
 * @seg: the buffers in chain order (owned by the queue)
 */
struct guestmem_vq_chain {
	u16 head;
	unsigned int nr_out;
	unsigned int nr_in;
	u64 out_len;
	u64 in_len;
	struct guestmem_vq_seg *seg;
};

/**
 * struct guestmem_vq - a split virtqueue in a guestmem space
 * @gm: the space (the queue holds a reference)
 * @num: queue size, a power of two
 * @max_segs: most buffers in a chain, max(@num, %GUESTMEM_VQ_MAX_SEGS)
 * @features: %GUESTMEM_VQ_F_* negotiated
 * @desc: GPA of the descriptor table (16-byte aligned)
 * @avail: GPA of the available ring (2-byte aligned)
 * @used: GPA of the used ring (4-byte aligned)
 * @last_avail: the device's index of the next avail entry to pop
 * @used_idx: the used ring index the device published last
 * @signalled_used: @used_idx when guestmem_vq_need_notify() last ran
 * @signalled_valid: @signalled_used is meaningful
 * @broken: 0, or the negative errno that broke the queue
 * @seg: the buffers of the last chain popped (@max_segs entries)
 *
 * Treat every field as private; use the functions below.  A queue is not
 * locked: one context (the device's work) uses it at a time.
 */
struct guestmem_vq {
	struct guestmem *gm;
	u32 num;
	u32 max_segs;
	u64 features;
	u64 desc;
	u64 avail;
	u64 used;
	u16 last_avail;
	u16 used_idx;
	u16 signalled_used;
	bool signalled_valid;
	int broken;
	struct guestmem_vq_seg *seg;
};

int guestmem_vq_init(struct guestmem_vq *vq, struct guestmem *gm, u32 num,
		     u64 features, u64 desc, u64 avail, u64 used);
void guestmem_vq_destroy(struct guestmem_vq *vq);
void guestmem_vq_set_base(struct guestmem_vq *vq, u16 last_avail, u16 used_idx);
int guestmem_vq_pop(struct guestmem_vq *vq, struct guestmem_vq_chain *chain);
int guestmem_vq_push(struct guestmem_vq *vq, u16 head, u32 len);
bool guestmem_vq_need_notify(struct guestmem_vq *vq);
int guestmem_vq_disable_notify(struct guestmem_vq *vq);
int guestmem_vq_enable_notify(struct guestmem_vq *vq);
int guestmem_vq_broken(const struct guestmem_vq *vq);
int guestmem_vq_chain_read(struct guestmem_vq *vq,
			   const struct guestmem_vq_chain *chain, u64 offset,
			   void *buf, size_t len);
int guestmem_vq_chain_write(struct guestmem_vq *vq,
			    const struct guestmem_vq_chain *chain, u64 offset,
			    const void *buf, size_t len);

#endif /* _LINUX_GUESTMEM_DEVICE_H */
