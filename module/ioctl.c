// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI of uapi/linux/guestmem.h.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "fastpath.h"
#include "internal.h"

static int gm_ioctl_get_info(struct guestmem *gm, void __user *argp)
{
	struct guestmem_info info;
	struct gm_set *set;
	int idx;

	memset(&info, 0, sizeof(info));
	idx = srcu_read_lock(&gm->srcu);
	set = gm_set_deref(gm);
	info.api_version = GUESTMEM_API_VERSION;
	info.num_regions = set->count;
	info.total_size = set->total_size;
	info.generation = set->generation;
	srcu_read_unlock(&gm->srcu, idx);
	info.features = GUESTMEM_FEATURE_MMAP | GUESTMEM_FEATURE_BATCH |
			GUESTMEM_FEATURE_ATOMIC | GUESTMEM_FEATURE_FILL_COPY |
			GUESTMEM_FEATURE_DIRTY_LOG | GUESTMEM_FEATURE_REGION_BATCH;

	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static int gm_ioctl_add_region(struct guestmem *gm, void __user *argp)
{
	struct guestmem_region desc;

	if (copy_from_user(&desc, argp, sizeof(desc)))
		return -EFAULT;
	return guestmem_add_region(gm, &desc);
}

static int gm_ioctl_remove_region(struct guestmem *gm, void __user *argp)
{
	struct guestmem_region desc;

	if (copy_from_user(&desc, argp, sizeof(desc)))
		return -EFAULT;
	if (desc.reserved[0] || desc.reserved[1])
		return -EINVAL;
	return guestmem_remove_region(gm, desc.gpa, desc.size);
}

/*
 * GUESTMEM_ADD_REGIONS (@add) and GUESTMEM_REMOVE_REGIONS: the entries are
 * copied in whole before any is checked; @index is written back whatever
 * the outcome, once the argument has been read.
 */
static int gm_ioctl_update_regions(struct guestmem *gm, void __user *argp,
				   bool add)
{
	struct guestmem_region_batch __user *ubatch = argp;
	struct guestmem_region_batch batch;
	struct guestmem_region *regions;
	unsigned int index;
	int ret;

	if (copy_from_user(&batch, argp, sizeof(batch)))
		return -EFAULT;
	index = batch.count;
	if (batch.flags || batch.reserved) {
		ret = -EINVAL;
		goto out;
	}
	if (batch.count > GUESTMEM_REGION_BATCH_MAX) {
		ret = -E2BIG;
		goto out;
	}
	if (!batch.count) {
		ret = 0;
		goto out;
	}
	regions = vmemdup_user(u64_to_user_ptr(batch.regions),
			       array_size(batch.count, sizeof(*regions)));
	if (IS_ERR(regions)) {
		ret = PTR_ERR(regions);
		goto out;
	}
	if (add)
		ret = guestmem_add_regions(gm, regions, batch.count, &index);
	else
		ret = guestmem_remove_regions(gm, regions, batch.count, &index);
	kvfree(regions);
out:
	if (put_user(index, &ubatch->index))
		return -EFAULT;
	return ret;
}

static int gm_ioctl_get_regions(struct guestmem *gm, void __user *argp)
{
	struct guestmem_region_list list;
	struct guestmem_region __user *out;
	struct gm_set *set;
	unsigned int i, n;
	int idx, ret = 0;

	if (copy_from_user(&list, argp, sizeof(list)))
		return -EFAULT;
	if (list.reserved)
		return -EINVAL;
	out = u64_to_user_ptr(list.regions);

	idx = srcu_read_lock(&gm->srcu);
	set = gm_set_deref(gm);
	n = min(list.count, set->count);
	for (i = 0; i < n; i++) {
		struct gm_region *r = set->keys[i].region;
		struct guestmem_region entry;

		memset(&entry, 0, sizeof(entry));
		entry.gpa = r->gpa;
		entry.size = r->size;
		entry.user_addr = r->user_addr;
		entry.backing = r->backing;
		entry.flags = r->flags;
		if (copy_to_user(out + i, &entry, sizeof(entry))) {
			ret = -EFAULT;
			break;
		}
	}
	list.count = set->count;
	srcu_read_unlock(&gm->srcu, idx);
	if (ret)
		return ret;

	if (put_user(list.count, &((struct guestmem_region_list __user *)argp)->count))
		return -EFAULT;
	return 0;
}

static int gm_ioctl_io(struct file *file, void __user *argp, bool write)
{
	struct guestmem *gm = file->private_data;
	struct guestmem_io io;
	char __user *ubuf;
	u64 done;
	int ret;

	if (copy_from_user(&io, argp, sizeof(io)))
		return -EFAULT;
	done = 0;
	if (write && !gm_file_writable(file)) {
		ret = -EBADF;
		goto out;
	}
	if (io.reserved || (io.flags & ~GUESTMEM_IO_PARTIAL)) {
		ret = -EINVAL;
		goto out;
	}

	ubuf = u64_to_user_ptr(io.buf);
	ret = gm_access_user(gm, io.gpa, io.len, write,
			     io.flags & GUESTMEM_IO_PARTIAL, ubuf, &done);
out:
	if (put_user(done, &((struct guestmem_io __user *)argp)->done))
		return -EFAULT;
	return ret;
}

/* Batch ops read from user space at a time. */
#define GM_BATCH_CHUNK	16

/* Whether the user ranges [a, a + alen) and [b, b + blen) share a byte. */
static bool gm_user_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return alen && blen && a <= b + (blen - 1) && b <= a + (alen - 1);
}

static int gm_ioctl_batch(struct file *file, void __user *argp)
{
	struct guestmem *gm = file->private_data;
	struct guestmem_batch __user *ubatch = argp;
	struct guestmem_batch_op ops[GM_BATCH_CHUNK];
	struct guestmem_batch_op __user *uops;
	struct guestmem_batch batch;
	u32 n, first = 0, have = 0;
	int ret = 0;

	if (copy_from_user(&batch, argp, sizeof(batch)))
		return -EFAULT;
	if (batch.flags || batch.reserved)
		return -EINVAL;
	if (batch.count > GUESTMEM_BATCH_MAX)
		return -E2BIG;
	uops = u64_to_user_ptr(batch.ops);

	/*
	 * In order; each op exact; stop at the first failure.  Ops are read
	 * GM_BATCH_CHUNK at a time (ops[] holds ops first .. first + have - 1).
	 */
	for (n = 0; n < batch.count; n++) {
		struct guestmem_batch_op *op;
		bool write;
		u64 done;

		if (n == first + have) {
			first = n;
			have = min_t(u32, batch.count - n, GM_BATCH_CHUNK);
			if (copy_from_user(ops, uops + n, have * sizeof(*ops))) {
				/* Read op by op, to fail at the right one. */
				have = 1;
				if (copy_from_user(ops, uops + n, sizeof(*ops))) {
					ret = -EFAULT;
					break;
				}
			}
		}
		op = &ops[n - first];
		if (op->flags || op->op > GUESTMEM_OP_WRITE) {
			ret = -EINVAL;
			break;
		}
		write = op->op == GUESTMEM_OP_WRITE;
		if (write && !gm_file_writable(file)) {
			ret = -EBADF;
			break;
		}
		ret = gm_access_user(gm, op->gpa, op->len, write, false,
				     u64_to_user_ptr(op->buf), &done);
		if (ret)
			break;
		/*
		 * A read into the op array itself changes the ops after it:
		 * read those again, as a batch run op by op would see them.
		 */
		if (!write && n + 1 < first + have &&
		    gm_user_overlap(op->buf, op->len, (unsigned long)(uops + n + 1),
				    (u64)(first + have - n - 1) * sizeof(*ops)))
			have = n + 1 - first;
	}
	if (put_user(n, &ubatch->done))
		return -EFAULT;
	return ret;
}

static int gm_ioctl_atomic(struct guestmem *gm, void __user *argp)
{
	struct guestmem_atomic a;
	int ret;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags || a.reserved)
		return -EINVAL;
	ret = guestmem_atomic(gm, a.gpa, a.size, a.op, &a.value, a.expected);
	if (ret)
		return ret;
	if (a.op == GUESTMEM_ATOMIC_STORE)
		return 0;
	if (put_user(a.value, &((struct guestmem_atomic __user *)argp)->value))
		return -EFAULT;
	return 0;
}

static int gm_ioctl_fill(struct guestmem *gm, void __user *argp)
{
	struct guestmem_fill f;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	if (f.flags || f.value > U8_MAX)
		return -EINVAL;
	return guestmem_fill(gm, f.gpa, f.value, f.len);
}

static int gm_ioctl_copy(struct guestmem *gm, void __user *argp)
{
	struct guestmem_copy c;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	if (c.flags || c.reserved)
		return -EINVAL;
	return guestmem_copy(gm, c.dst, c.src, c.len);
}

/**
 * gm_ioctl - dispatch the ioctls of a space's file
 * @file: the /dev/guestmem file
 * @cmd: ioctl number
 * @arg: user pointer to the ioctl's structure
 *
 * The open mode is honoured: on a file opened without write access, every
 * call that would change the space or guest memory fails with -EBADF, as
 * write(2) does, before anything is read from @arg (atomics other than
 * LOAD, batches with a write op and dirty-log clears once their structure
 * says so).
 *
 * Return: 0 or a negative errno; -ENOTTY for unknown ioctls.
 */
long gm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct guestmem *gm = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case GUESTMEM_ADD_REGION:
	case GUESTMEM_REMOVE_REGION:
	case GUESTMEM_ADD_REGIONS:
	case GUESTMEM_REMOVE_REGIONS:
	case GUESTMEM_FILL:
	case GUESTMEM_COPY:
		if (!gm_file_writable(file))
			return -EBADF;
		break;
	case GUESTMEM_ATOMIC:
	case GUESTMEM_GET_DIRTY_LOG:
		/* The API refuses changes through a read-only reference. */
		if (!gm_file_writable(file))
			gm = (struct guestmem *)((unsigned long)gm | GM_REF_RO);
		break;
	}

	switch (cmd) {
	case GUESTMEM_GET_INFO:
		return gm_ioctl_get_info(gm, argp);
	case GUESTMEM_ADD_REGION:
		return gm_ioctl_add_region(gm, argp);
	case GUESTMEM_REMOVE_REGION:
		return gm_ioctl_remove_region(gm, argp);
	case GUESTMEM_GET_REGIONS:
		return gm_ioctl_get_regions(gm, argp);
	case GUESTMEM_ADD_REGIONS:
		return gm_ioctl_update_regions(gm, argp, true);
	case GUESTMEM_REMOVE_REGIONS:
		return gm_ioctl_update_regions(gm, argp, false);
	case GUESTMEM_READ:
		return gm_ioctl_io(file, argp, false);
	case GUESTMEM_WRITE:
		return gm_ioctl_io(file, argp, true);
	case GUESTMEM_BATCH:
		return gm_ioctl_batch(file, argp);
	case GUESTMEM_ATOMIC:
		return gm_ioctl_atomic(gm, argp);
	case GUESTMEM_FILL:
		return gm_ioctl_fill(gm, argp);
	case GUESTMEM_COPY:
		return gm_ioctl_copy(gm, argp);
	case GUESTMEM_GET_DIRTY_LOG:
		return gm_ioctl_get_dirty_log(gm, argp);
	default:
		return -ENOTTY;
	}
}
