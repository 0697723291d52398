// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem: a guest physical address space for processes and kernel code.
 *
 * Module entry: the /dev/guestmem misc device and the module parameters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/stddef.h>
#include <linux/workqueue.h>
#include "internal.h"

static int gm_set_max_regions(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(val, 0, &n);
	if (ret)
		return ret;
	if (!n || n > INT_MAX / sizeof(void *))
		return -EINVAL;
	WRITE_ONCE(guestmem_max_regions, n);
	return 0;
}

static const struct kernel_param_ops gm_max_regions_ops = {
	.set = gm_set_max_regions,
	.get = param_get_uint,
};

module_param_cb(max_regions, &gm_max_regions_ops, &guestmem_max_regions, 0644);
MODULE_PARM_DESC(max_regions,
		 "Maximum number of regions per address space (default 32768)");

static int gm_set_max_vmalloc_mb(const char *val,
				 const struct kernel_param *kp)
{
	unsigned long mb;
	int ret;

	ret = kstrtoul(val, 0, &mb);
	if (ret)
		return ret;
	/* In bytes, the limit must fit in 64 bits. */
	if (mb > U64_MAX >> 20)
		return -EINVAL;
	WRITE_ONCE(guestmem_max_vmalloc_mb, mb);
	return 0;
}

static const struct kernel_param_ops gm_max_vmalloc_mb_ops = {
	.set = gm_set_max_vmalloc_mb,
	.get = param_get_ulong,
};

module_param_cb(max_vmalloc_mb, &gm_max_vmalloc_mb_ops,
		&guestmem_max_vmalloc_mb, 0644);
MODULE_PARM_DESC(max_vmalloc_mb,
		 "Maximum MiB of VMALLOC regions per address space, ENOMEM past it; 0 refuses VMALLOC regions (default 4096)");

static struct miscdevice gm_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "guestmem",
	.fops = &gm_fops,
	.mode = 0600,
};

/* The uapi layout of DESIGN.md, checked at build time. */
#define GM_CHECK_OFFSET(type, field, off) \
	static_assert(offsetof(struct type, field) == (off))

static_assert(sizeof(struct guestmem_region) == 48);
GM_CHECK_OFFSET(guestmem_region, gpa, 0);
GM_CHECK_OFFSET(guestmem_region, size, 8);
GM_CHECK_OFFSET(guestmem_region, user_addr, 16);
GM_CHECK_OFFSET(guestmem_region, backing, 24);
GM_CHECK_OFFSET(guestmem_region, flags, 28);
GM_CHECK_OFFSET(guestmem_region, reserved, 32);
static_assert(sizeof(struct guestmem_region_list) == 16);
GM_CHECK_OFFSET(guestmem_region_list, count, 0);
GM_CHECK_OFFSET(guestmem_region_list, reserved, 4);
GM_CHECK_OFFSET(guestmem_region_list, regions, 8);
static_assert(sizeof(struct guestmem_info) == 64);
GM_CHECK_OFFSET(guestmem_info, api_version, 0);
GM_CHECK_OFFSET(guestmem_info, num_regions, 4);
GM_CHECK_OFFSET(guestmem_info, total_size, 8);
GM_CHECK_OFFSET(guestmem_info, generation, 16);
GM_CHECK_OFFSET(guestmem_info, features, 24);
GM_CHECK_OFFSET(guestmem_info, reserved, 32);
static_assert(sizeof(struct guestmem_io) == 40);
GM_CHECK_OFFSET(guestmem_io, gpa, 0);
GM_CHECK_OFFSET(guestmem_io, len, 8);
GM_CHECK_OFFSET(guestmem_io, buf, 16);
GM_CHECK_OFFSET(guestmem_io, flags, 24);
GM_CHECK_OFFSET(guestmem_io, reserved, 28);
GM_CHECK_OFFSET(guestmem_io, done, 32);
static_assert(sizeof(struct guestmem_batch_op) == 32);
GM_CHECK_OFFSET(guestmem_batch_op, op, 0);
GM_CHECK_OFFSET(guestmem_batch_op, flags, 4);
GM_CHECK_OFFSET(guestmem_batch_op, gpa, 8);
GM_CHECK_OFFSET(guestmem_batch_op, len, 16);
GM_CHECK_OFFSET(guestmem_batch_op, buf, 24);
static_assert(sizeof(struct guestmem_batch) == 24);
GM_CHECK_OFFSET(guestmem_batch, ops, 0);
GM_CHECK_OFFSET(guestmem_batch, count, 8);
GM_CHECK_OFFSET(guestmem_batch, flags, 12);
GM_CHECK_OFFSET(guestmem_batch, done, 16);
GM_CHECK_OFFSET(guestmem_batch, reserved, 20);
static_assert(sizeof(struct guestmem_region_batch) == 24);
GM_CHECK_OFFSET(guestmem_region_batch, regions, 0);
GM_CHECK_OFFSET(guestmem_region_batch, count, 8);
GM_CHECK_OFFSET(guestmem_region_batch, flags, 12);
GM_CHECK_OFFSET(guestmem_region_batch, index, 16);
GM_CHECK_OFFSET(guestmem_region_batch, reserved, 20);
static_assert(sizeof(struct guestmem_atomic) == 40);
GM_CHECK_OFFSET(guestmem_atomic, gpa, 0);
GM_CHECK_OFFSET(guestmem_atomic, value, 8);
GM_CHECK_OFFSET(guestmem_atomic, expected, 16);
GM_CHECK_OFFSET(guestmem_atomic, size, 24);
GM_CHECK_OFFSET(guestmem_atomic, op, 28);
GM_CHECK_OFFSET(guestmem_atomic, flags, 32);
GM_CHECK_OFFSET(guestmem_atomic, reserved, 36);
static_assert(sizeof(struct guestmem_fill) == 24);
GM_CHECK_OFFSET(guestmem_fill, gpa, 0);
GM_CHECK_OFFSET(guestmem_fill, len, 8);
GM_CHECK_OFFSET(guestmem_fill, value, 16);
GM_CHECK_OFFSET(guestmem_fill, flags, 20);
static_assert(sizeof(struct guestmem_copy) == 32);
GM_CHECK_OFFSET(guestmem_copy, dst, 0);
GM_CHECK_OFFSET(guestmem_copy, src, 8);
GM_CHECK_OFFSET(guestmem_copy, len, 16);
GM_CHECK_OFFSET(guestmem_copy, flags, 24);
GM_CHECK_OFFSET(guestmem_copy, reserved, 28);
static_assert(sizeof(struct guestmem_dirty_log) == 32);
GM_CHECK_OFFSET(guestmem_dirty_log, gpa, 0);
GM_CHECK_OFFSET(guestmem_dirty_log, size, 8);
GM_CHECK_OFFSET(guestmem_dirty_log, bitmap, 16);
GM_CHECK_OFFSET(guestmem_dirty_log, flags, 24);
GM_CHECK_OFFSET(guestmem_dirty_log, reserved, 28);

/*
 * The size of every field too: with the offsets above, the fields lie back
 * to back, with no implicit padding, the same for 32-bit and 64-bit user
 * space.  Then the ioctl numbers (type 0xB9, number, direction, size) and
 * the constants.  (selftests/guestmem_basic_test.c checks them again, as
 * user space compiles the header.)
 */
#define GM_CHECK_SIZEOF(type, field, size) \
	static_assert(sizeof_field(struct type, field) == (size))

GM_CHECK_SIZEOF(guestmem_region, gpa, 8);
GM_CHECK_SIZEOF(guestmem_region, size, 8);
GM_CHECK_SIZEOF(guestmem_region, user_addr, 8);
GM_CHECK_SIZEOF(guestmem_region, backing, 4);
GM_CHECK_SIZEOF(guestmem_region, flags, 4);
GM_CHECK_SIZEOF(guestmem_region, reserved, 16);
GM_CHECK_OFFSET(guestmem_region, reserved[1], 40);
GM_CHECK_SIZEOF(guestmem_region, reserved[1], 8);
GM_CHECK_SIZEOF(guestmem_region_list, count, 4);
GM_CHECK_SIZEOF(guestmem_region_list, reserved, 4);
GM_CHECK_SIZEOF(guestmem_region_list, regions, 8);
GM_CHECK_SIZEOF(guestmem_info, api_version, 4);
GM_CHECK_SIZEOF(guestmem_info, num_regions, 4);
GM_CHECK_SIZEOF(guestmem_info, total_size, 8);
GM_CHECK_SIZEOF(guestmem_info, generation, 8);
GM_CHECK_SIZEOF(guestmem_info, features, 8);
GM_CHECK_SIZEOF(guestmem_info, reserved, 32);
GM_CHECK_OFFSET(guestmem_info, reserved[3], 56);
GM_CHECK_SIZEOF(guestmem_info, reserved[3], 8);
GM_CHECK_SIZEOF(guestmem_io, gpa, 8);
GM_CHECK_SIZEOF(guestmem_io, len, 8);
GM_CHECK_SIZEOF(guestmem_io, buf, 8);
GM_CHECK_SIZEOF(guestmem_io, flags, 4);
GM_CHECK_SIZEOF(guestmem_io, reserved, 4);
GM_CHECK_SIZEOF(guestmem_io, done, 8);
GM_CHECK_SIZEOF(guestmem_batch_op, op, 4);
GM_CHECK_SIZEOF(guestmem_batch_op, flags, 4);
GM_CHECK_SIZEOF(guestmem_batch_op, gpa, 8);
GM_CHECK_SIZEOF(guestmem_batch_op, len, 8);
GM_CHECK_SIZEOF(guestmem_batch_op, buf, 8);
GM_CHECK_SIZEOF(guestmem_batch, ops, 8);
GM_CHECK_SIZEOF(guestmem_batch, count, 4);
GM_CHECK_SIZEOF(guestmem_batch, flags, 4);
GM_CHECK_SIZEOF(guestmem_batch, done, 4);
GM_CHECK_SIZEOF(guestmem_batch, reserved, 4);
GM_CHECK_SIZEOF(guestmem_region_batch, regions, 8);
GM_CHECK_SIZEOF(guestmem_region_batch, count, 4);
GM_CHECK_SIZEOF(guestmem_region_batch, flags, 4);
GM_CHECK_SIZEOF(guestmem_region_batch, index, 4);
GM_CHECK_SIZEOF(guestmem_region_batch, reserved, 4);
GM_CHECK_SIZEOF(guestmem_atomic, gpa, 8);
GM_CHECK_SIZEOF(guestmem_atomic, value, 8);
GM_CHECK_SIZEOF(guestmem_atomic, expected, 8);
GM_CHECK_SIZEOF(guestmem_atomic, size, 4);
GM_CHECK_SIZEOF(guestmem_atomic, op, 4);
GM_CHECK_SIZEOF(guestmem_atomic, flags, 4);
GM_CHECK_SIZEOF(guestmem_atomic, reserved, 4);
GM_CHECK_SIZEOF(guestmem_fill, gpa, 8);
GM_CHECK_SIZEOF(guestmem_fill, len, 8);
GM_CHECK_SIZEOF(guestmem_fill, value, 4);
GM_CHECK_SIZEOF(guestmem_fill, flags, 4);
GM_CHECK_SIZEOF(guestmem_copy, dst, 8);
GM_CHECK_SIZEOF(guestmem_copy, src, 8);
GM_CHECK_SIZEOF(guestmem_copy, len, 8);
GM_CHECK_SIZEOF(guestmem_copy, flags, 4);
GM_CHECK_SIZEOF(guestmem_copy, reserved, 4);
GM_CHECK_SIZEOF(guestmem_dirty_log, gpa, 8);
GM_CHECK_SIZEOF(guestmem_dirty_log, size, 8);
GM_CHECK_SIZEOF(guestmem_dirty_log, bitmap, 8);
GM_CHECK_SIZEOF(guestmem_dirty_log, flags, 4);
GM_CHECK_SIZEOF(guestmem_dirty_log, reserved, 4);

#define GM_CHECK_IOCTL(cmd, dir, nr, size) \
	static_assert((cmd) == _IOC(dir, 0xB9, nr, size))

GM_CHECK_IOCTL(GUESTMEM_GET_INFO, _IOC_READ, 0x00, 64);
GM_CHECK_IOCTL(GUESTMEM_ADD_REGION, _IOC_WRITE, 0x10, 48);
GM_CHECK_IOCTL(GUESTMEM_REMOVE_REGION, _IOC_WRITE, 0x11, 48);
GM_CHECK_IOCTL(GUESTMEM_GET_REGIONS, _IOC_READ | _IOC_WRITE, 0x12, 16);
GM_CHECK_IOCTL(GUESTMEM_ADD_REGIONS, _IOC_READ | _IOC_WRITE, 0x13, 24);
GM_CHECK_IOCTL(GUESTMEM_REMOVE_REGIONS, _IOC_READ | _IOC_WRITE, 0x14, 24);
GM_CHECK_IOCTL(GUESTMEM_READ, _IOC_READ | _IOC_WRITE, 0x20, 40);
GM_CHECK_IOCTL(GUESTMEM_WRITE, _IOC_READ | _IOC_WRITE, 0x21, 40);
GM_CHECK_IOCTL(GUESTMEM_BATCH, _IOC_READ | _IOC_WRITE, 0x22, 24);
GM_CHECK_IOCTL(GUESTMEM_ATOMIC, _IOC_READ | _IOC_WRITE, 0x23, 40);
GM_CHECK_IOCTL(GUESTMEM_FILL, _IOC_WRITE, 0x24, 24);
GM_CHECK_IOCTL(GUESTMEM_COPY, _IOC_WRITE, 0x25, 32);
GM_CHECK_IOCTL(GUESTMEM_GET_DIRTY_LOG, _IOC_READ | _IOC_WRITE, 0x30, 32);

static_assert(GUESTMEM_API_VERSION == 1);
static_assert(GUESTMEM_BACKING_VMALLOC == 0);
static_assert(GUESTMEM_BACKING_USER == 1);
static_assert(GUESTMEM_REGION_READONLY == 1U);
static_assert(GUESTMEM_REGION_DIRTY_LOG == 2U);
static_assert(GUESTMEM_FEATURE_MMAP == 1ULL);
static_assert(GUESTMEM_FEATURE_BATCH == 2ULL);
static_assert(GUESTMEM_FEATURE_ATOMIC == 4ULL);
static_assert(GUESTMEM_FEATURE_FILL_COPY == 8ULL);
static_assert(GUESTMEM_FEATURE_DIRTY_LOG == 16ULL);
static_assert(GUESTMEM_FEATURE_REGION_BATCH == 32ULL);
/* 64-bit constants, so that ~FEATURE masks the whole __u64. */
static_assert(sizeof(GUESTMEM_FEATURE_MMAP) == 8);
static_assert(sizeof(GUESTMEM_FEATURE_BATCH) == 8);
static_assert(sizeof(GUESTMEM_FEATURE_ATOMIC) == 8);
static_assert(sizeof(GUESTMEM_FEATURE_FILL_COPY) == 8);
static_assert(sizeof(GUESTMEM_FEATURE_DIRTY_LOG) == 8);
static_assert(sizeof(GUESTMEM_FEATURE_REGION_BATCH) == 8);
static_assert(GUESTMEM_IO_PARTIAL == 1U);
static_assert(GUESTMEM_OP_READ == 0);
static_assert(GUESTMEM_OP_WRITE == 1);
static_assert(GUESTMEM_BATCH_MAX == 1024);
static_assert(GUESTMEM_REGION_BATCH_MAX == 4096);
static_assert(GUESTMEM_ATOMIC_LOAD == 0);
static_assert(GUESTMEM_ATOMIC_STORE == 1);
static_assert(GUESTMEM_ATOMIC_XCHG == 2);
static_assert(GUESTMEM_ATOMIC_CMPXCHG == 3);
static_assert(GUESTMEM_ATOMIC_FETCH_ADD == 4);
static_assert(GUESTMEM_ATOMIC_FETCH_OR == 5);
static_assert(GUESTMEM_ATOMIC_FETCH_AND == 6);
static_assert(GUESTMEM_DIRTY_LOG_CLEAR == 1U);

/* Frees removed VMALLOC regions after an RCU grace period (region.c). */
struct workqueue_struct *gm_free_wq;

static int __init gm_init(void)
{
	int ret;

	gm_free_wq = alloc_workqueue("guestmem_free", WQ_UNBOUND, 0);
	if (!gm_free_wq)
		return -ENOMEM;
	gm_debugfs_init();
	ret = misc_register(&gm_miscdev);
	if (ret) {
		pr_err("cannot register /dev/guestmem: %d\n", ret);
		gm_debugfs_exit();
		destroy_workqueue(gm_free_wq);
	}
	return ret;
}

static void __exit gm_exit(void)
{
	misc_deregister(&gm_miscdev);
	gm_debugfs_exit();
	/* Regions queued by queue_rcu_work(): into the queue, then freed. */
	rcu_barrier();
	destroy_workqueue(gm_free_wq);
}

module_init(gm_init);
module_exit(gm_exit);

MODULE_DESCRIPTION("Guest physical address spaces for processes and kernel code");
MODULE_AUTHOR("guestmem developers");
MODULE_LICENSE("GPL");
