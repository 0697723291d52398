// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem_dma: a sample emulated device built only on guestmem's in-kernel
 * API (include/linux/guestmem.h).
 *
 * A DMA copy engine whose descriptor ring lives in guest memory, as a
 * virtio or vhost device's would.  Each open of /dev/guestmem_dma is one
 * device instance; GUESTMEM_DMA_BIND attaches it to the address space behind
 * a /dev/guestmem descriptor (taking a reference of its own) and to a ring at
 * a GPA of that space, starting at the header's used_idx (read with the
 * little-endian accessor guestmem_read_le32()).  On a kick the device reads
 * the ring header's avail_idx through a cached translation (guestmem_cache,
 * re-resolved by guestmem when the space's regions change), reads each new
 * descriptor (guestmem_read_obj), copies guest to guest (guestmem_copy,
 * which crosses regions), stores the descriptor's status with an atomic
 * 4-byte store (guestmem_atomic) and publishes used_idx through the cache.
 * Every write goes through guestmem, so it lands in the space's dirty log.
 *
 * The ABI, and the ring's layout in guest memory, are in guestmem_dma.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>
#include <linux/guestmem.h>
#include "guestmem_dma.h"

/* The guest memory layout and the ioctl structures of guestmem_dma.h. */
static_assert(sizeof(struct guestmem_dma_ring_hdr) == GUESTMEM_DMA_RING_ALIGN);
static_assert(offsetof(struct guestmem_dma_ring_hdr, avail_idx) == 0);
static_assert(offsetof(struct guestmem_dma_ring_hdr, used_idx) == 4);
static_assert(sizeof(struct guestmem_dma_desc) == GUESTMEM_DMA_RING_ALIGN);
static_assert(offsetof(struct guestmem_dma_desc, src) == 0);
static_assert(offsetof(struct guestmem_dma_desc, dst) == 8);
static_assert(offsetof(struct guestmem_dma_desc, len) == 16);
static_assert(offsetof(struct guestmem_dma_desc, flags) == 20);
static_assert(offsetof(struct guestmem_dma_desc, status) == 24);
static_assert(offsetof(struct guestmem_dma_desc, reserved) == 28);
static_assert(sizeof(struct guestmem_dma_bind) == 32);
static_assert(offsetof(struct guestmem_dma_bind, ring_size) == 4);
static_assert(offsetof(struct guestmem_dma_bind, ring_gpa) == 8);
static_assert(offsetof(struct guestmem_dma_bind, flags) == 16);
static_assert(offsetof(struct guestmem_dma_bind, reserved) == 20);
static_assert(sizeof(struct guestmem_dma_kick) == 32);
static_assert(offsetof(struct guestmem_dma_kick, reserved) == 16);
static_assert(sizeof(struct guestmem_dma_info) == 64);
static_assert(offsetof(struct guestmem_dma_info, completed) == 16);
static_assert(offsetof(struct guestmem_dma_info, reserved) == 32);
/* A descriptor or the header never crosses a page, so never a region. */
static_assert(PAGE_SIZE % GUESTMEM_DMA_RING_ALIGN == 0);
static_assert((GUESTMEM_DMA_RING_MAX & (GUESTMEM_DMA_RING_MAX - 1)) == 0);

/**
 * struct gdma_dev - one device instance (one open file)
 * @lock: serialises bind, unbind, kicks and info against each other
 * @gm: the bound space (a reference of the device's own), or NULL
 * @ring_gpa: GPA of the ring header
 * @ring_size: descriptors in the ring, a power of two
 * @next: consumer index: the next descriptor to process (free-running)
 * @published: the used_idx last stored in the ring header
 * @completed: descriptors completed since the bind
 * @errors: how many of them completed with an error status
 * @hdr: cached translation of the ring header
 */
struct gdma_dev {
	struct mutex lock;	/* see above */
	struct guestmem *gm;
	u64 ring_gpa;
	u32 ring_size;
	u32 next;
	u32 published;
	u64 completed;
	u64 errors;
	struct guestmem_cache hdr;
};

static u64 gdma_desc_gpa(struct gdma_dev *dev, u32 idx)
{
	return dev->ring_gpa + sizeof(struct guestmem_dma_ring_hdr) +
	       (u64)(idx & (dev->ring_size - 1)) *
	       sizeof(struct guestmem_dma_desc);
}

/* Checks of a descriptor's fields; 0 or the negative errno of its status. */
static int gdma_desc_check(const struct guestmem_dma_desc *d)
{
	if (d->flags || d->reserved)
		return -EINVAL;
	if (le32_to_cpu(d->len) > GUESTMEM_DMA_MAX_LEN)
		return -EINVAL;
	return 0;
}

/*
 * Complete the descriptor at @desc_gpa with @status (a negative errno or
 * GUESTMEM_DMA_STATUS_DONE): one atomic store of the little-endian word, so
 * a driver polling the status never sees a torn value.
 */
static int gdma_complete(struct gdma_dev *dev, u64 desc_gpa, int status)
{
	u64 value = (__force u32)cpu_to_le32((u32)status);

	return guestmem_atomic(dev->gm,
			       desc_gpa + offsetof(struct guestmem_dma_desc, status),
			       sizeof(u32), GUESTMEM_ATOMIC_STORE, &value, 0);
}

/* Store the consumer index as the header's used_idx, if not there yet. */
static int gdma_publish_used(struct gdma_dev *dev)
{
	__le32 used = cpu_to_le32(dev->next);
	int ret;

	if (dev->published == dev->next)
		return 0;
	/* Statuses before the index that covers them (pairs with the driver). */
	smp_wmb();
	ret = guestmem_cache_write(&dev->hdr,
				   offsetof(struct guestmem_dma_ring_hdr, used_idx),
				   &used, sizeof(used));
	if (!ret)
		dev->published = dev->next;
	return ret;
}

/* How many descriptors @avail makes pending; -EPROTO past the ring size. */
static int gdma_pending(struct gdma_dev *dev, u32 avail, u32 *pending)
{
	u32 n = avail - dev->next;

	if (n > dev->ring_size)
		return -EPROTO;
	*pending = n;
	return 0;
}

/**
 * gdma_process - run the device on the descriptors made available
 * @dev: a bound device, with @dev->lock held
 * @k: out: @k->processed, @k->errors and @k->used_idx
 *
 * Processes descriptors from the consumer index up to the header's
 * avail_idx, then publishes used_idx.  A descriptor's own failure (bad
 * fields, unbacked or read-only target) becomes its status and processing
 * goes on; a failure to reach the ring itself stops it.  Might sleep.
 *
 * Return: 0, -EPROTO (avail_idx out of range), -ENXIO or -EACCES (ring
 * memory unbacked or read-only), -EINTR (fatal signal).
 */
static int gdma_process(struct gdma_dev *dev, struct guestmem_dma_kick *k)
{
	struct guestmem *gm = dev->gm;
	__le32 avail_le;
	u32 pending;
	int ret;

	lockdep_assert_held(&dev->lock);
	ret = guestmem_cache_read(&dev->hdr,
				  offsetof(struct guestmem_dma_ring_hdr, avail_idx),
				  &avail_le, sizeof(avail_le));
	if (ret)
		goto out;
	ret = gdma_pending(dev, le32_to_cpu(avail_le), &pending);
	if (ret)
		goto out;
	/* Read descriptors only after the index that published them. */
	smp_rmb();

	while (pending--) {
		u64 desc_gpa = gdma_desc_gpa(dev, dev->next);
		struct guestmem_dma_desc d;
		int status;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		/* One read: the device works on its own copy (no double fetch). */
		ret = guestmem_read_obj(gm, desc_gpa, &d);
		if (ret)
			break;
		status = gdma_desc_check(&d);
		if (!status)
			status = guestmem_copy(gm, le64_to_cpu(d.dst),
					       le64_to_cpu(d.src),
					       le32_to_cpu(d.len));
		ret = gdma_complete(dev, desc_gpa,
				    status ?: GUESTMEM_DMA_STATUS_DONE);
		if (ret)
			break;
		dev->next++;
		dev->completed++;
		k->processed++;
		if (status) {
			dev->errors++;
			k->errors++;
		}
		cond_resched();
	}
out:
	/* Publish what was completed, even when stopped early. */
	if (!ret)
		ret = gdma_publish_used(dev);
	else
		gdma_publish_used(dev);
	k->used_idx = dev->next;
	return ret;
}

/* Drop the binding; the caller puts the returned space after unlocking. */
static struct guestmem *gdma_unbind_locked(struct gdma_dev *dev)
{
	struct guestmem *gm = dev->gm;

	dev->gm = NULL;
	dev->ring_gpa = 0;
	dev->ring_size = 0;
	dev->next = 0;
	dev->published = 0;
	dev->completed = 0;
	dev->errors = 0;
	memset(&dev->hdr, 0, sizeof(dev->hdr));
	return gm;
}

static int gdma_ioctl_bind(struct gdma_dev *dev, void __user *argp)
{
	struct guestmem_dma_bind b;
	struct guestmem_cache hdr;
	struct guestmem *gm, *old;
	u64 ring_bytes;
	u32 used;
	int ret;

	if (copy_from_user(&b, argp, sizeof(b)))
		return -EFAULT;
	if (b.flags || b.reserved[0] || b.reserved[1] || b.reserved[2])
		return -EINVAL;
	if (!b.ring_size || b.ring_size > GUESTMEM_DMA_RING_MAX ||
	    !is_power_of_2(b.ring_size))
		return -EINVAL;
	if (!IS_ALIGNED(b.ring_gpa, GUESTMEM_DMA_RING_ALIGN))
		return -EINVAL;
	ring_bytes = sizeof(struct guestmem_dma_ring_hdr) +
		     (u64)b.ring_size * sizeof(struct guestmem_dma_desc);
	if (ring_bytes - 1 > U64_MAX - b.ring_gpa)
		return -EOVERFLOW;

	gm = guestmem_get_fd(b.guestmem_fd);
	if (IS_ERR(gm))
		return PTR_ERR(gm);
	/*
	 * The device writes guest memory: a read-only reference (a descriptor
	 * opened O_RDONLY) refuses every write, even this empty one.
	 */
	ret = guestmem_write(gm, b.ring_gpa, NULL, 0);
	if (ret)
		goto put;
	/* The header must lie in one region: the cache refuses it otherwise. */
	ret = guestmem_cache_init(&hdr, gm, b.ring_gpa,
				  sizeof(struct guestmem_dma_ring_hdr));
	if (ret)
		goto put;
	ret = guestmem_read_le32(gm, b.ring_gpa +
				 offsetof(struct guestmem_dma_ring_hdr, used_idx),
				 &used);
	if (ret)
		goto put;

	ret = mutex_lock_killable(&dev->lock);
	if (ret)
		goto put;
	old = gdma_unbind_locked(dev);
	dev->gm = gm;
	dev->ring_gpa = b.ring_gpa;
	dev->ring_size = b.ring_size;
	dev->next = used;
	dev->published = dev->next;
	dev->hdr = hdr;
	mutex_unlock(&dev->lock);
	guestmem_put(old);
	return 0;

put:
	guestmem_put(gm);
	return ret;
}

static int gdma_ioctl_unbind(struct gdma_dev *dev)
{
	struct guestmem *old;
	int ret;

	ret = mutex_lock_killable(&dev->lock);
	if (ret)
		return ret;
	old = gdma_unbind_locked(dev);
	mutex_unlock(&dev->lock);
	guestmem_put(old);
	return 0;
}

static int gdma_ioctl_kick(struct gdma_dev *dev, void __user *argp)
{
	struct guestmem_dma_kick k;
	int ret;

	if (copy_from_user(&k, argp, sizeof(k)))
		return -EFAULT;
	if (k.flags || k.reserved[0] || k.reserved[1])
		return -EINVAL;
	memset(&k, 0, sizeof(k));

	ret = mutex_lock_killable(&dev->lock);
	if (ret)
		return ret;
	if (!dev->gm) {
		mutex_unlock(&dev->lock);
		return -ENOTCONN;
	}
	ret = gdma_process(dev, &k);
	mutex_unlock(&dev->lock);

	/* Even after a late error: what was done is reported. */
	if (copy_to_user(argp, &k, sizeof(k)))
		return -EFAULT;
	return ret;
}

static int gdma_ioctl_get_info(struct gdma_dev *dev, void __user *argp)
{
	struct guestmem_dma_info info;
	int ret;

	memset(&info, 0, sizeof(info));
	ret = mutex_lock_killable(&dev->lock);
	if (ret)
		return ret;
	info.ring_gpa = dev->ring_gpa;
	info.ring_size = dev->ring_size;
	info.next_idx = dev->next;
	info.completed = dev->completed;
	info.errors = dev->errors;
	mutex_unlock(&dev->lock);

	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static long gdma_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct gdma_dev *dev = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case GUESTMEM_DMA_BIND:
		return gdma_ioctl_bind(dev, argp);
	case GUESTMEM_DMA_UNBIND:
		return gdma_ioctl_unbind(dev);
	case GUESTMEM_DMA_KICK:
		return gdma_ioctl_kick(dev, argp);
	case GUESTMEM_DMA_GET_INFO:
		return gdma_ioctl_get_info(dev, argp);
	default:
		return -ENOTTY;
	}
}

/*
 * The doorbell: a __u32 in host byte order, the new avail_idx.  The device
 * stores it in the ring header and processes up to it.
 */
static ssize_t gdma_write(struct file *file, const char __user *buf,
			  size_t count, loff_t *ppos)
{
	struct gdma_dev *dev = file->private_data;
	struct guestmem_dma_kick k = {};
	__le32 avail_le;
	u32 avail, pending;
	int ret;

	if (count != sizeof(avail))
		return -EINVAL;
	if (copy_from_user(&avail, buf, sizeof(avail)))
		return -EFAULT;

	ret = mutex_lock_killable(&dev->lock);
	if (ret)
		return ret;
	if (!dev->gm) {
		ret = -ENOTCONN;
		goto unlock;
	}
	/* Refuse a bad index before it reaches guest memory. */
	if (gdma_pending(dev, avail, &pending)) {
		ret = -EINVAL;
		goto unlock;
	}
	avail_le = cpu_to_le32(avail);
	ret = guestmem_cache_write(&dev->hdr,
				   offsetof(struct guestmem_dma_ring_hdr, avail_idx),
				   &avail_le, sizeof(avail_le));
	if (!ret)
		ret = gdma_process(dev, &k);
unlock:
	mutex_unlock(&dev->lock);
	return ret ? ret : sizeof(avail);
}

static int gdma_open(struct inode *inode, struct file *file)
{
	struct gdma_dev *dev;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev)
		return -ENOMEM;
	mutex_init(&dev->lock);
	file->private_data = dev;
	/* A device, not a file: no position, no pread/pwrite. */
	return stream_open(inode, file);
}

static int gdma_release(struct inode *inode, struct file *file)
{
	struct gdma_dev *dev = file->private_data;

	/* No ioctl or write can be running: the file has no user left. */
	guestmem_put(dev->gm);
	mutex_destroy(&dev->lock);
	kfree(dev);
	return 0;
}

static const struct file_operations gdma_fops = {
	.owner = THIS_MODULE,
	.open = gdma_open,
	.release = gdma_release,
	.write = gdma_write,
	.unlocked_ioctl = gdma_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice gdma_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "guestmem_dma",
	.fops = &gdma_fops,
	.mode = 0600,
};

static int __init gdma_init(void)
{
	int ret = misc_register(&gdma_miscdev);

	if (ret)
		pr_err("cannot register /dev/guestmem_dma: %d\n", ret);
	return ret;
}

static void __exit gdma_exit(void)
{
	misc_deregister(&gdma_miscdev);
}

module_init(gdma_init);
module_exit(gdma_exit);

MODULE_DESCRIPTION("guestmem sample: a DMA copy engine with its ring in guest memory");
MODULE_AUTHOR("guestmem developers");
MODULE_LICENSE("GPL");
