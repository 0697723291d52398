// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem_vq: a sample device serving a virtio split virtqueue in a
 * guestmem space, kicked through an eventfd and completing through another,
 * built only on guestmem's in-kernel API (include/linux/guestmem.h and
 * include/linux/guestmem_device.h).
 *
 * It is the vhost pattern (drivers/vhost/vhost.c, vhost-net's handle_tx()):
 * the kick eventfd's wake-up queues the device's work on the device's own
 * workqueue (guestmem_notifier); the work disables guest kicks, pops every
 * available chain (guestmem_vq_pop()), serves it, pushes it to the used
 * ring, re-enables kicks and looks once more (guestmem_vq_enable_notify()),
 * and finally signals the interrupt eventfd if the driver asked for it
 * (guestmem_vq_need_notify()).  One run serves at most GVQ_PKT_WEIGHT
 * chains or GVQ_WEIGHT bytes copied, whichever comes first (vhost-net's
 * VHOST_NET_PKT_WEIGHT and VHOST_NET_WEIGHT), signals what it completed,
 * then queues itself again and returns (vhost_exceeds_weight()): a driver
 * that keeps submitting, or one large queue of long chains, can hold the
 * worker and the device's lock (which GET_STATUS and close wait for) only
 * that long.  With the poll_us module
 * parameter, a run that has caught up signals its completions and then
 * keeps looking for new chains for that long before it re-enables kicks
 * (vhost-net's busyloop_timeout): a driver with requests in flight then
 * adds more without exiting.
 *
 * A request copies its payload from its readable to its writable buffers
 * and ends with a status byte; the ABI is in guestmem_vq.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/guestmem.h>
#include <linux/guestmem_device.h>
#include "guestmem_vq.h"

static_assert(sizeof(struct guestmem_vq_req_hdr) == 8);
static_assert(sizeof(struct guestmem_vq_bind) == 64);
static_assert(sizeof(struct guestmem_vq_status) == 56);
static_assert(GUESTMEM_VQ_FEAT_INDIRECT_DESC == GUESTMEM_VQ_F_INDIRECT_DESC);
static_assert(GUESTMEM_VQ_FEAT_EVENT_IDX == GUESTMEM_VQ_F_EVENT_IDX);

/* The devices' work runs here; destroyed (drained) at module unload. */
static struct workqueue_struct *gvq_wq;

/*
 * One run's budget (vhost-net's VHOST_NET_PKT_WEIGHT and VHOST_NET_WEIGHT):
 * this many chains, or this many bytes copied (payloads and status bytes),
 * whichever comes first.
 */
#define GVQ_PKT_WEIGHT	256
#define GVQ_WEIGHT	0x80000

static unsigned int poll_us;
module_param(poll_us, uint, 0644);
MODULE_PARM_DESC(poll_us,
		 "Microseconds the device's work keeps looking for new requests once it has served all, before it asks the driver to kick again (vhost-net's busyloop_timeout); 0 (default): none");

/**
 * struct gvq_dev - one device instance (one open file)
 * @bind_lock: serialises bind, unbind and release
 * @lock: the queue and the counters; taken by the work
 * @n: the kick and interrupt eventfds
 * @vq: the queue, while @bound
 * @bound: @vq is set up
 * @broken_signalled: the interrupt for a broken queue was sent
 * @requests: chains completed since the bind
 * @errors: how many with a status other than OK
 * @interrupts: interrupt eventfd signals since the bind
 * @bounce: a page to copy payloads through
 */
struct gvq_dev {
	struct mutex bind_lock;	/* see above */
	struct mutex lock;	/* see above */
	struct guestmem_notifier n;
	struct guestmem_vq vq;
	bool bound;
	bool broken_signalled;
	u64 requests;
	u64 errors;
	u64 interrupts;
	void *bounce;
};

/* Copy a request's payload; a status byte. */
static u8 gvq_copy(struct gvq_dev *dev, const struct guestmem_vq_chain *c,
		   u64 *payload)
{
	struct guestmem_vq_req_hdr hdr;
	u64 len, done;
	int ret;

	if (c->out_len < sizeof(hdr))
		return GUESTMEM_VQ_S_UNSUPP;
	if (guestmem_vq_chain_read(&dev->vq, c, 0, &hdr, sizeof(hdr)))
		return GUESTMEM_VQ_S_IOERR;
	if (le32_to_cpu(hdr.type) != GUESTMEM_VQ_REQ_COPY || hdr.reserved)
		return GUESTMEM_VQ_S_UNSUPP;
	len = c->out_len - sizeof(hdr);
	if (len > GUESTMEM_VQ_MAX_PAYLOAD || len > c->in_len - 1)
		return GUESTMEM_VQ_S_UNSUPP;

	for (done = 0; done < len; done += PAGE_SIZE) {
		size_t n = min_t(u64, len - done, PAGE_SIZE);

		ret = guestmem_vq_chain_read(&dev->vq, c, sizeof(hdr) + done,
					     dev->bounce, n);
		if (!ret)
			ret = guestmem_vq_chain_write(&dev->vq, c, done,
						      dev->bounce, n);
		if (ret)
			return GUESTMEM_VQ_S_IOERR;
		cond_resched();
	}
	*payload = len;
	return GUESTMEM_VQ_S_OK;
}

/*
 * Serve one chain and give it back; false once the queue is broken.  Adds
 * the bytes it wrote to *@bytes.
 */
static bool gvq_serve(struct gvq_dev *dev, const struct guestmem_vq_chain *c,
		      u64 *bytes)
{
	u64 payload = 0;
	u32 used = 0;
	u8 status;

	if (!c->in_len) {
		status = GUESTMEM_VQ_S_UNSUPP;
	} else {
		status = gvq_copy(dev, c, &payload);
		/* The status goes in the last writable byte. */
		if (!guestmem_vq_chain_write(&dev->vq, c, c->in_len - 1,
					     &status, 1))
			used = payload + 1;
		else
			status = GUESTMEM_VQ_S_IOERR;	/* counted, not seen */
	}
	dev->requests++;
	if (status != GUESTMEM_VQ_S_OK)
		dev->errors++;
	*bytes += used;
	return !guestmem_vq_push(&dev->vq, c->head, used);
}

static void gvq_signal(struct gvq_dev *dev)
{
	if (guestmem_notifier_signal(&dev->n))
		dev->interrupts++;
}

/*
 * With poll_us set, look for a chain for up to that long (the worker keeps
 * its CPU; a driver that sees kicks disabled adds requests without
 * exiting).  1 (a chain in @c), 0 or -EIO, as guestmem_vq_pop().
 */
static int gvq_poll(struct gvq_dev *dev, struct guestmem_vq_chain *c)
{
	unsigned int us = READ_ONCE(poll_us);
	u64 end;
	int ret;

	if (!us)
		return 0;
	end = local_clock() + (u64)us * NSEC_PER_USEC;
	do {
		cpu_relax();
		ret = guestmem_vq_pop(&dev->vq, c);
		if (ret)
			return ret;
	} while (local_clock() < end && !need_resched());
	return 0;
}

/* The device's work: run on gvq_wq after a kick. */
static void gvq_kick(struct guestmem_notifier *n)
{
	struct gvq_dev *dev = container_of(n, struct gvq_dev, n);
	struct guestmem_vq_chain c;
	unsigned int chains = 0;
	bool pushed = false;
	u64 bytes = 0;
	int ret;

	mutex_lock(&dev->lock);
	if (!dev->bound)
		goto unlock;
	for (;;) {
		if (guestmem_vq_disable_notify(&dev->vq))
			break;
		for (;;) {
			ret = guestmem_vq_pop(&dev->vq, &c);
			if (!ret && READ_ONCE(poll_us)) {
				/* Caught up: completions first, then poll. */
				if (pushed && guestmem_vq_need_notify(&dev->vq))
					gvq_signal(dev);
				pushed = false;
				ret = gvq_poll(dev, &c);
			}
			if (ret != 1)
				break;
			if (!gvq_serve(dev, &c, &bytes))
				break;
			pushed = true;
			if (++chains >= GVQ_PKT_WEIGHT || bytes >= GVQ_WEIGHT) {
				/*
				 * The budget is spent: signal, run again
				 * later.  Kicks stay disabled meanwhile;
				 * an unbind suppresses the requeue and the
				 * next bind queues a run for the rest.
				 */
				guestmem_notifier_kick(n);
				goto notify;
			}
			cond_resched();
		}
		if (ret)
			break;
		/* Nothing left: let the driver kick, then look once more. */
		if (guestmem_vq_enable_notify(&dev->vq) <= 0)
			break;
	}
notify:
	if (pushed && guestmem_vq_need_notify(&dev->vq))
		gvq_signal(dev);
	/* A broken queue interrupts once; the driver reads the status. */
	if (guestmem_vq_broken(&dev->vq) && !dev->broken_signalled) {
		dev->broken_signalled = true;
		gvq_signal(dev);
	}
unlock:
	mutex_unlock(&dev->lock);
}

/*
 * Drop the binding: stop the kicks and serve the ones queued
 * (guestmem_notifier_unbind() flushes, and a run that queues itself again
 * meanwhile is not run), then tear the queue down.
 */
static void gvq_unbind_locked(struct gvq_dev *dev)
{
	lockdep_assert_held(&dev->bind_lock);
	guestmem_notifier_unbind(&dev->n);
	mutex_lock(&dev->lock);
	if (dev->bound) {
		dev->bound = false;
		guestmem_vq_destroy(&dev->vq);
	}
	mutex_unlock(&dev->lock);
}

static int gvq_ioctl_bind(struct gvq_dev *dev, void __user *argp)
{
	struct guestmem_vq_bind b;
	struct guestmem *gm;
	u16 used_idx = 0;
	int ret;

	if (copy_from_user(&b, argp, sizeof(b)))
		return -EFAULT;
	if ((b.flags & ~GUESTMEM_VQ_BIND_RESUME) || b.reserved[0] ||
	    b.reserved[1] || b.reserved[2])
		return -EINVAL;

	mutex_lock(&dev->bind_lock);
	gvq_unbind_locked(dev);

	gm = guestmem_get_fd(b.guestmem_fd);
	if (IS_ERR(gm)) {
		ret = PTR_ERR(gm);
		goto unlock;
	}
	/* guestmem_vq_init() refuses a read-only reference (-EBADF). */
	if (b.flags & GUESTMEM_VQ_BIND_RESUME) {
		ret = guestmem_read_le16(gm, b.used_gpa + 2, &used_idx);
		if (ret)
			goto put;
	}

	mutex_lock(&dev->lock);
	ret = guestmem_vq_init(&dev->vq, gm, b.num, b.features, b.desc_gpa,
			       b.avail_gpa, b.used_gpa);
	if (!ret) {
		/* This device completes every chain it pops at once. */
		guestmem_vq_set_base(&dev->vq, used_idx, used_idx);
		dev->bound = true;
		dev->broken_signalled = false;
		dev->requests = 0;
		dev->errors = 0;
		dev->interrupts = 0;
	}
	mutex_unlock(&dev->lock);
	if (ret)
		goto put;

	/* Last: a kick already pending runs the work on the new queue. */
	ret = guestmem_notifier_bind_fd(&dev->n, b.kick_fd, b.call_fd);
	if (ret)
		gvq_unbind_locked(dev);
put:
	guestmem_put(gm);
unlock:
	mutex_unlock(&dev->bind_lock);
	return ret;
}

static int gvq_ioctl_get_status(struct gvq_dev *dev, void __user *argp)
{
	struct guestmem_vq_status st;

	memset(&st, 0, sizeof(st));
	mutex_lock(&dev->lock);
	if (dev->bound) {
		st.bound = 1;
		st.broken = guestmem_vq_broken(&dev->vq);
		st.requests = dev->requests;
		st.errors = dev->errors;
		st.interrupts = dev->interrupts;
		st.last_avail = dev->vq.last_avail;
		st.used_idx = dev->vq.used_idx;
	}
	mutex_unlock(&dev->lock);
	return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
}

static long gvq_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct gvq_dev *dev = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case GUESTMEM_VQ_BIND:
		return gvq_ioctl_bind(dev, argp);
	case GUESTMEM_VQ_UNBIND:
		mutex_lock(&dev->bind_lock);
		gvq_unbind_locked(dev);
		mutex_unlock(&dev->bind_lock);
		return 0;
	case GUESTMEM_VQ_GET_STATUS:
		return gvq_ioctl_get_status(dev, argp);
	case GUESTMEM_VQ_FLUSH:
		/* Not under bind_lock: a bind or unbind flushes too. */
		guestmem_notifier_flush(&dev->n);
		return 0;
	default:
		return -ENOTTY;
	}
}

static int gvq_open(struct inode *inode, struct file *file)
{
	struct gvq_dev *dev;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev)
		return -ENOMEM;
	dev->bounce = kmalloc(PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	if (!dev->bounce) {
		kfree(dev);
		return -ENOMEM;
	}
	mutex_init(&dev->bind_lock);
	mutex_init(&dev->lock);
	guestmem_notifier_init(&dev->n, gvq_kick, gvq_wq);
	file->private_data = dev;
	return stream_open(inode, file);
}

static int gvq_release(struct inode *inode, struct file *file)
{
	struct gvq_dev *dev = file->private_data;

	mutex_lock(&dev->bind_lock);
	gvq_unbind_locked(dev);
	mutex_unlock(&dev->bind_lock);
	/* No work of this device is queued or running now. */
	mutex_destroy(&dev->lock);
	mutex_destroy(&dev->bind_lock);
	kfree(dev->bounce);
	kfree(dev);
	return 0;
}

static const struct file_operations gvq_fops = {
	.owner = THIS_MODULE,
	.open = gvq_open,
	.release = gvq_release,
	.unlocked_ioctl = gvq_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice gvq_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "guestmem_vq",
	.fops = &gvq_fops,
	.mode = 0600,
};

static int __init gvq_init(void)
{
	int ret;

	gvq_wq = alloc_workqueue("guestmem_vq", WQ_UNBOUND, 0);
	if (!gvq_wq)
		return -ENOMEM;
	ret = misc_register(&gvq_miscdev);
	if (ret) {
		pr_err("cannot register /dev/guestmem_vq: %d\n", ret);
		destroy_workqueue(gvq_wq);
	}
	return ret;
}

static void __exit gvq_exit(void)
{
	misc_deregister(&gvq_miscdev);
	/* Every device was released, and each flushed its work. */
	destroy_workqueue(gvq_wq);
}

module_init(gvq_init);
module_exit(gvq_exit);

MODULE_DESCRIPTION("guestmem sample: a virtqueue copy device kicked and completed through eventfds");
MODULE_AUTHOR("guestmem developers");
MODULE_LICENSE("GPL");
