// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_uapi: the layout of every uapi struct, the ioctl
 * numbers and the constants of uapi/linux/guestmem.h.
 */
#include <kunit/test.h>
#include <linux/ioctl.h>
#include <linux/stddef.h>
#include <linux/guestmem.h>

/*
 * The fields of each struct are listed back to back: together with the
 * struct size, this also proves there is no implicit padding anywhere (the
 * layout is the same for 32-bit and 64-bit user space).
 */
static void guestmem_test_uapi_region(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct guestmem_region), 48);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region, gpa), 0);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region, gpa), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region, size), 8);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region, size), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region, user_addr), 16);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region, user_addr), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region, backing), 24);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region, backing), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region, flags), 28);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region, flags), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region, reserved), 32);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region, reserved), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region, reserved[1]), 40);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region, reserved[1]), 8);
}

static void guestmem_test_uapi_region_list(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct guestmem_region_list), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region_list, count), 0);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region_list, count), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region_list, reserved), 4);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region_list, reserved), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region_list, regions), 8);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region_list, regions), 8);
}

static void guestmem_test_uapi_info(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct guestmem_info), 64);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_info, api_version), 0);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_info, api_version), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_info, num_regions), 4);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_info, num_regions), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_info, total_size), 8);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_info, total_size), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_info, generation), 16);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_info, generation), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_info, features), 24);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_info, features), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_info, reserved), 32);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_info, reserved), 32);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_info, reserved[3]), 56);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_info, reserved[3]), 8);
}

static void guestmem_test_uapi_io(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct guestmem_io), 40);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_io, gpa), 0);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_io, gpa), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_io, len), 8);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_io, len), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_io, buf), 16);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_io, buf), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_io, flags), 24);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_io, flags), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_io, reserved), 28);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_io, reserved), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_io, done), 32);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_io, done), 8);
}

static void guestmem_test_uapi_batch(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct guestmem_batch_op), 32);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_batch_op, op), 0);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_batch_op, op), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_batch_op, flags), 4);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_batch_op, flags), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_batch_op, gpa), 8);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_batch_op, gpa), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_batch_op, len), 16);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_batch_op, len), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_batch_op, buf), 24);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_batch_op, buf), 8);

	KUNIT_EXPECT_EQ(test, sizeof(struct guestmem_batch), 24);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_batch, ops), 0);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_batch, ops), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_batch, count), 8);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_batch, count), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_batch, flags), 12);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_batch, flags), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_batch, done), 16);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_batch, done), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_batch, reserved), 20);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_batch, reserved), 4);
}

static void guestmem_test_uapi_atomic(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct guestmem_atomic), 40);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_atomic, gpa), 0);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_atomic, gpa), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_atomic, value), 8);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_atomic, value), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_atomic, expected), 16);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_atomic, expected), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_atomic, size), 24);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_atomic, size), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_atomic, op), 28);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_atomic, op), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_atomic, flags), 32);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_atomic, flags), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_atomic, reserved), 36);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_atomic, reserved), 4);
}

static void guestmem_test_uapi_fill_copy(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct guestmem_fill), 24);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_fill, gpa), 0);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_fill, gpa), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_fill, len), 8);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_fill, len), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_fill, value), 16);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_fill, value), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_fill, flags), 20);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_fill, flags), 4);

	KUNIT_EXPECT_EQ(test, sizeof(struct guestmem_copy), 32);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_copy, dst), 0);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_copy, dst), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_copy, src), 8);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_copy, src), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_copy, len), 16);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_copy, len), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_copy, flags), 24);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_copy, flags), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_copy, reserved), 28);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_copy, reserved), 4);
}

static void guestmem_test_uapi_dirty_log(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct guestmem_dirty_log), 32);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_dirty_log, gpa), 0);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_dirty_log, gpa), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_dirty_log, size), 8);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_dirty_log, size), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_dirty_log, bitmap), 16);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_dirty_log, bitmap), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_dirty_log, flags), 24);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_dirty_log, flags), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_dirty_log, reserved), 28);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_dirty_log, reserved), 4);
}

/* Every field of the ioctl number, and the whole number spelled out. */
static void gmt_ioctl(struct kunit *test, const char *name, unsigned int cmd,
		      unsigned int dir, unsigned int nr, unsigned int size)
{
	KUNIT_EXPECT_EQ_MSG(test, _IOC_TYPE(cmd), 0xB9U, "type of %s", name);
	KUNIT_EXPECT_EQ_MSG(test, _IOC_NR(cmd), nr, "number of %s", name);
	KUNIT_EXPECT_EQ_MSG(test, _IOC_DIR(cmd), dir, "direction of %s", name);
	KUNIT_EXPECT_EQ_MSG(test, _IOC_SIZE(cmd), size, "size of %s", name);
	KUNIT_EXPECT_EQ_MSG(test, cmd, (unsigned int)_IOC(dir, 0xB9U, nr, size), "%s", name);
}

#define GMT_IOCTL(test, cmd, dir, nr, size) gmt_ioctl(test, #cmd, cmd, dir, nr, size)

static void guestmem_test_uapi_ioctls(struct kunit *test)
{
	const unsigned int r = _IOC_READ, w = _IOC_WRITE;

	GMT_IOCTL(test, GUESTMEM_GET_INFO, r, 0x00, 64);
	GMT_IOCTL(test, GUESTMEM_ADD_REGION, w, 0x10, 48);
	GMT_IOCTL(test, GUESTMEM_REMOVE_REGION, w, 0x11, 48);
	GMT_IOCTL(test, GUESTMEM_GET_REGIONS, r | w, 0x12, 16);
	GMT_IOCTL(test, GUESTMEM_READ, r | w, 0x20, 40);
	GMT_IOCTL(test, GUESTMEM_WRITE, r | w, 0x21, 40);
	GMT_IOCTL(test, GUESTMEM_BATCH, r | w, 0x22, 24);
	GMT_IOCTL(test, GUESTMEM_ATOMIC, r | w, 0x23, 40);
	GMT_IOCTL(test, GUESTMEM_FILL, w, 0x24, 24);
	GMT_IOCTL(test, GUESTMEM_COPY, w, 0x25, 32);
	GMT_IOCTL(test, GUESTMEM_GET_DIRTY_LOG, r | w, 0x30, 32);
}

static void guestmem_test_uapi_constants(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, GUESTMEM_API_VERSION, 1);

	KUNIT_EXPECT_EQ(test, GUESTMEM_BACKING_VMALLOC, 0);
	KUNIT_EXPECT_EQ(test, GUESTMEM_BACKING_USER, 1);

	KUNIT_EXPECT_EQ(test, GUESTMEM_REGION_READONLY, 1U);
	KUNIT_EXPECT_EQ(test, GUESTMEM_REGION_DIRTY_LOG, 2U);

	KUNIT_EXPECT_EQ(test, GUESTMEM_FEATURE_MMAP, 1ULL);
	KUNIT_EXPECT_EQ(test, GUESTMEM_FEATURE_BATCH, 2ULL);
	KUNIT_EXPECT_EQ(test, GUESTMEM_FEATURE_ATOMIC, 4ULL);
	KUNIT_EXPECT_EQ(test, GUESTMEM_FEATURE_FILL_COPY, 8ULL);
	KUNIT_EXPECT_EQ(test, GUESTMEM_FEATURE_DIRTY_LOG, 16ULL);
	/* 64-bit constants, so that ~FEATURE masks the whole __u64. */
	KUNIT_EXPECT_EQ(test, sizeof(GUESTMEM_FEATURE_MMAP), 8);
	KUNIT_EXPECT_EQ(test, sizeof(GUESTMEM_FEATURE_DIRTY_LOG), 8);

	KUNIT_EXPECT_EQ(test, GUESTMEM_IO_PARTIAL, 1U);

	KUNIT_EXPECT_EQ(test, GUESTMEM_OP_READ, 0);
	KUNIT_EXPECT_EQ(test, GUESTMEM_OP_WRITE, 1);
	KUNIT_EXPECT_EQ(test, GUESTMEM_BATCH_MAX, 1024);

	KUNIT_EXPECT_EQ(test, GUESTMEM_ATOMIC_LOAD, 0);
	KUNIT_EXPECT_EQ(test, GUESTMEM_ATOMIC_STORE, 1);
	KUNIT_EXPECT_EQ(test, GUESTMEM_ATOMIC_XCHG, 2);
	KUNIT_EXPECT_EQ(test, GUESTMEM_ATOMIC_CMPXCHG, 3);
	KUNIT_EXPECT_EQ(test, GUESTMEM_ATOMIC_FETCH_ADD, 4);
	KUNIT_EXPECT_EQ(test, GUESTMEM_ATOMIC_FETCH_OR, 5);
	KUNIT_EXPECT_EQ(test, GUESTMEM_ATOMIC_FETCH_AND, 6);

	KUNIT_EXPECT_EQ(test, GUESTMEM_DIRTY_LOG_CLEAR, 1U);
}

static struct kunit_case guestmem_uapi_cases[] = {
	KUNIT_CASE(guestmem_test_uapi_region),
	KUNIT_CASE(guestmem_test_uapi_region_list),
	KUNIT_CASE(guestmem_test_uapi_info),
	KUNIT_CASE(guestmem_test_uapi_io),
	KUNIT_CASE(guestmem_test_uapi_batch),
	KUNIT_CASE(guestmem_test_uapi_atomic),
	KUNIT_CASE(guestmem_test_uapi_fill_copy),
	KUNIT_CASE(guestmem_test_uapi_dirty_log),
	KUNIT_CASE(guestmem_test_uapi_ioctls),
	KUNIT_CASE(guestmem_test_uapi_constants),
	{}
};

static struct kunit_suite guestmem_uapi_suite = {
	.name = "guestmem_uapi",
	.test_cases = guestmem_uapi_cases,
};

kunit_test_suite(guestmem_uapi_suite);
