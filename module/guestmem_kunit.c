// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for guestmem, run through the exported in-kernel API of
 * include/linux/guestmem.h (this is a separate module, guestmem_kunit.ko):
 *
 *   guestmem_uapi     layout of every uapi struct, ioctl numbers, constants
 *   guestmem_space    an empty space, range arithmetic, references, files
 *   guestmem_regions  the region set: insert, overlap, validation, removal,
 *                     generation, and lookups among 10,000 regions
 *   guestmem_access   guestmem_read/write and the typed helpers across
 *                     boundaries, holes, read-only regions, the top of the
 *                     64-bit space
 *   guestmem_walk     guestmem_walk_chunks()
 *
 * Only VMALLOC regions are used: the tests run in a kthread, which has no
 * user memory to pin (the kselftests cover USER regions).
 */
#include <kunit/test.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>
#include <linux/guestmem.h>
#include "guestmem_kunit.h"
#include "internal.h"	/* struct guestmem: its reference count, set, SRCU */

/* Address of page @n. */
#define GMT_PG(n)	((u64)(n) * PAGE_SIZE)
/* First byte of the last page of the 64-bit space. */
#define GMT_TOP_PAGE	(U64_MAX - PAGE_SIZE + 1)

KUNIT_DEFINE_ACTION_WRAPPER(gmt_put_action, guestmem_put, struct guestmem *);
KUNIT_DEFINE_ACTION_WRAPPER(gmt_fput_action, fput, struct file *);

/* A new empty space, dropped when the test ends. */
static struct guestmem *gmt_create(struct kunit *test)
{
	struct guestmem *gm = guestmem_create();

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, gmt_put_action, gm), 0);
	return gm;
}

static struct guestmem_region gmt_desc(u64 gpa, u64 size, u32 flags)
{
	struct guestmem_region desc = {
		.gpa = gpa,
		.size = size,
		.backing = GUESTMEM_BACKING_VMALLOC,
		.flags = flags,
	};

	return desc;
}

static int gmt_add(struct guestmem *gm, u64 gpa, u64 size, u32 flags)
{
	struct guestmem_region desc = gmt_desc(gpa, size, flags);

	return guestmem_add_region(gm, &desc);
}

/* ------------------------------------------------------------------------ */
/* guestmem_uapi                                                            */
/* ------------------------------------------------------------------------ */

/*
 * The fields of each struct are listed back to back: together with the
 * struct size, this also proves there is no implicit padding anywhere (the
 * layout is the same for 32-bit and 64-bit user space).
 */
static void gm_uapi_region(struct kunit *test)
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

static void gm_uapi_region_list(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct guestmem_region_list), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region_list, count), 0);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region_list, count), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region_list, reserved), 4);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region_list, reserved), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct guestmem_region_list, regions), 8);
	KUNIT_EXPECT_EQ(test, sizeof_field(struct guestmem_region_list, regions), 8);
}

static void gm_uapi_info(struct kunit *test)
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

static void gm_uapi_io(struct kunit *test)
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

static void gm_uapi_batch(struct kunit *test)
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

static void gm_uapi_atomic(struct kunit *test)
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

static void gm_uapi_fill_copy(struct kunit *test)
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

static void gm_uapi_dirty_log(struct kunit *test)
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

static void gm_uapi_ioctls(struct kunit *test)
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

static void gm_uapi_constants(struct kunit *test)
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

static struct kunit_case gm_uapi_cases[] = {
	KUNIT_CASE(gm_uapi_region),
	KUNIT_CASE(gm_uapi_region_list),
	KUNIT_CASE(gm_uapi_info),
	KUNIT_CASE(gm_uapi_io),
	KUNIT_CASE(gm_uapi_batch),
	KUNIT_CASE(gm_uapi_atomic),
	KUNIT_CASE(gm_uapi_fill_copy),
	KUNIT_CASE(gm_uapi_dirty_log),
	KUNIT_CASE(gm_uapi_ioctls),
	KUNIT_CASE(gm_uapi_constants),
	{}
};

static struct kunit_suite gm_uapi_suite = {
	.name = "guestmem_uapi",
	.test_cases = gm_uapi_cases,
};

/* ------------------------------------------------------------------------ */
/* guestmem_space                                                           */
/* ------------------------------------------------------------------------ */

/* A chunk callback that must never run. */
static int gmt_chunk_never(void *kaddr, u64 gpa, size_t len, void *priv)
{
	unsigned int *calls = priv;

	(*calls)++;
	return 0;
}

static void gm_space_empty(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	unsigned int calls = 0;
	u8 buf[8];

	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 0ULL);

	/* Nothing is backed: not the first byte, not the last one. */
	memset(buf, 0xa5, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, 0, buf, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, U64_MAX, buf, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, U64_MAX - 7, buf, 8), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, SZ_1M, buf, 8), -ENXIO);
	gmt_all_bytes(test, buf, 0xa5, sizeof(buf), "buffer after failed reads");
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, 0, buf, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, U64_MAX, buf, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, 0, 1, false,
						   gmt_chunk_never, &calls), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, U64_MAX, 1, true,
						   gmt_chunk_never, &calls), -ENXIO);

	/* Zero-length accesses succeed anywhere, without touching anything. */
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, 0, buf, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, U64_MAX, buf, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, SZ_1M + 3, NULL, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, 0, buf, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, U64_MAX, NULL, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, U64_MAX, 0, true,
						   gmt_chunk_never, &calls), 0);
	gmt_all_bytes(test, buf, 0xa5, sizeof(buf), "buffer after empty reads");
	KUNIT_EXPECT_EQ(test, calls, 0U);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 0ULL);
}

/* [gpa, gpa + len) may end exactly at 2^64 but not pass it. */
static void gm_space_overflow(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	unsigned int calls = 0;
	u8 buf[16];

	memset(buf, 0x5a, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, U64_MAX, buf, 2), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, U64_MAX - 7, buf, 9), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, U64_MAX - 14, buf, 16), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, 2, buf, SIZE_MAX), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, U64_MAX, buf, 2), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, U64_MAX - 7, buf, 16), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, U64_MAX, buf, SIZE_MAX), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, U64_MAX, 2, false,
						   gmt_chunk_never, &calls), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, 2, U64_MAX, true,
						   gmt_chunk_never, &calls), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, U64_MAX, U64_MAX, false,
						   gmt_chunk_never, &calls), -EOVERFLOW);

	/* Ending exactly at 2^64 does not wrap: these are plain holes. */
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, U64_MAX - 15, buf, 16), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, 1, buf, SIZE_MAX), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, 0, buf, SIZE_MAX), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, 1, buf, SIZE_MAX), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, 1, U64_MAX, false,
						   gmt_chunk_never, &calls), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, 0, U64_MAX, false,
						   gmt_chunk_never, &calls), -ENXIO);

	gmt_all_bytes(test, buf, 0x5a, sizeof(buf), "buffer after failed reads");
	KUNIT_EXPECT_EQ(test, calls, 0U);
}

static void gm_space_refcount(struct kunit *test)
{
	struct guestmem *gm = guestmem_create();
	u8 byte = 0;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gm);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 1U);
	guestmem_get(gm);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 2U);
	guestmem_get(gm);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 3U);

	/* Regions survive while any reference is held. */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, SZ_64K, PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_write_le16(gm, SZ_64K + 10, 0x1234), 0);
	guestmem_put(gm);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 2U);
	guestmem_put(gm);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 1U);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, SZ_64K + 11, &byte, 1), 0);
	KUNIT_EXPECT_EQ(test, byte, 0x12);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 1ULL);

	/* The last put frees the space and its region (KASAN, kmemleak). */
	guestmem_put(gm);

	/* NULL and error pointers are ignored. */
	guestmem_put(NULL);
	guestmem_put(ERR_PTR(-ENOMEM));
}

/* Two spaces never share regions. */
static void gm_space_independent(struct kunit *test)
{
	struct guestmem *a = gmt_create(test), *b = gmt_create(test);
	u32 val = 0;

	KUNIT_EXPECT_EQ(test, gmt_add(a, 0, PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, gmt_add(b, 0, PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, gmt_add(a, SZ_1M, PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_write_le32(a, 16, 0xdeadbeef), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_le32(b, 16, &val), 0);
	KUNIT_EXPECT_EQ(test, val, 0U);
	KUNIT_EXPECT_EQ(test, guestmem_read_le32(a, 16, &val), 0);
	KUNIT_EXPECT_EQ(test, val, 0xdeadbeefU);
	KUNIT_EXPECT_EQ(test, guestmem_read_le32(b, SZ_1M, &val), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_generation(a), 2ULL);
	KUNIT_EXPECT_EQ(test, guestmem_generation(b), 1ULL);
}

/*
 * The space behind a /dev/guestmem file: guestmem_get_file() takes a
 * reference on it, and the file's read/write family sees what the
 * in-kernel API writes (and the other way round).
 */
static void gm_space_get_file(struct kunit *test)
{
	struct guestmem *gm, *again;
	struct file *file, *other;
	u8 *buf, *want;
	loff_t pos;

	KUNIT_EXPECT_PTR_EQ(test, guestmem_get_file(NULL), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, guestmem_get_fd(-1), ERR_PTR(-EBADF));

	file = filp_open("/dev/guestmem", O_RDWR, 0);
	if (IS_ERR(file))
		kunit_skip(test, "cannot open /dev/guestmem: %ld", PTR_ERR(file));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, gmt_fput_action, file), 0);

	gm = guestmem_get_file(file);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, gmt_put_action, gm), 0);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 2U);	/* the file and us */
	again = guestmem_get_file(file);
	KUNIT_EXPECT_PTR_EQ(test, again, gm);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 3U);
	guestmem_put(again);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 2U);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 0ULL);

	buf = kunit_kzalloc(test, 256, GFP_KERNEL);
	want = kunit_kzalloc(test, 256, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, want);

	KUNIT_ASSERT_EQ(test, gmt_add(gm, SZ_1M, PAGE_SIZE, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_TOP_PAGE, PAGE_SIZE, 0), 0);
	gmt_pattern(want, 256, 1);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, SZ_1M + 100, want, 256), 0);
	pos = SZ_1M + 100;
	KUNIT_EXPECT_EQ(test, kernel_read(file, buf, 256, &pos), 256);
	KUNIT_EXPECT_EQ(test, pos, (loff_t)(SZ_1M + 356));
	gmt_bytes_eq(test, buf, want, 256, "kernel_read() of guestmem_write()");

	/* The file position is the GPA, also above 2^63. */
	gmt_pattern(want, 256, 2);
	pos = (loff_t)GMT_TOP_PAGE;
	KUNIT_EXPECT_EQ(test, kernel_write(file, want, 256, &pos), 256);
	memset(buf, 0, 256);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_TOP_PAGE, buf, 256), 0);
	gmt_bytes_eq(test, buf, want, 256, "guestmem_read() of kernel_write()");

	/* Any other file is refused. */
	other = filp_open("/dev/null", O_RDONLY, 0);
	if (!IS_ERR(other)) {
		KUNIT_EXPECT_PTR_EQ(test, guestmem_get_file(other), ERR_PTR(-EINVAL));
		fput(other);
	}
}

/*
 * A file opened O_RDONLY gives a read-only reference: it reads, and every
 * call that would change the space or its memory is -EBADF and changes
 * nothing.  (The space is populated through the file's own space pointer,
 * which is what user space, whose O_RDONLY spaces stay empty, cannot do.)
 */
static void gm_space_get_file_rdonly(struct kunit *test)
{
	struct guestmem *ro, *gm, *again;
	struct guestmem_region desc = gmt_desc(SZ_1M, 2 * PAGE_SIZE, 0);
	struct guestmem_cache c;
	unsigned long bitmap[1];
	unsigned int calls = 0;
	struct file *file;
	u64 val = 5;
	u8 buf[8];

	file = filp_open("/dev/guestmem", O_RDONLY, 0);
	if (IS_ERR(file))
		kunit_skip(test, "cannot open /dev/guestmem: %ld", PTR_ERR(file));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, gmt_fput_action, file), 0);
	gm = file->private_data;

	ro = guestmem_get_file(file);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ro);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, gmt_put_action, ro), 0);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 2U);
	again = ro;
	guestmem_get(again);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 3U);
	guestmem_put(again);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 2U);

	/* Nothing that changes the space goes through ro ... */
	KUNIT_EXPECT_EQ(test, guestmem_add_region(ro, &desc), -EBADF);
	KUNIT_EXPECT_EQ(test, guestmem_generation(ro), 0ULL);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, SZ_1M, 2 * PAGE_SIZE,
				      GUESTMEM_REGION_DIRTY_LOG), 0);
	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, SZ_1M, 0x5a, 2 * PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, SZ_1M, 2 * PAGE_SIZE,
						     bitmap, true), 0);
	KUNIT_EXPECT_EQ(test, guestmem_generation(ro), 1ULL);
	memset(buf, 0xa5, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_write(ro, SZ_1M, buf, sizeof(buf)), -EBADF);
	KUNIT_EXPECT_EQ(test, guestmem_write(ro, SZ_1M, buf, 0), -EBADF);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ro, SZ_1M, 0, PAGE_SIZE), -EBADF);
	KUNIT_EXPECT_EQ(test, guestmem_copy(ro, SZ_1M, SZ_1M + PAGE_SIZE, 8), -EBADF);
	KUNIT_EXPECT_EQ(test, guestmem_atomic(ro, SZ_1M, 8, GUESTMEM_ATOMIC_STORE,
					      &val, 0), -EBADF);
	KUNIT_EXPECT_EQ(test, guestmem_atomic(ro, SZ_1M, 8, GUESTMEM_ATOMIC_XCHG,
					      &val, 0), -EBADF);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ro, SZ_1M, 8, true,
						   gmt_chunk_never, &calls), -EBADF);
	KUNIT_EXPECT_EQ(test, calls, 0U);
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(ro, SZ_1M, 8), -EBADF);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(ro, SZ_1M, 2 * PAGE_SIZE,
						     bitmap, true), -EBADF);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(ro, SZ_1M, 2 * PAGE_SIZE),
			-EBADF);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, ro, SZ_1M, 16), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, buf, 8), -EBADF);
	KUNIT_EXPECT_EQ(test, guestmem_generation(ro), 1ULL);

	/* ... and reads do, of memory none of those calls changed. */
	KUNIT_EXPECT_EQ(test, guestmem_read(ro, SZ_1M + PAGE_SIZE - 4, buf, 8), 0);
	KUNIT_EXPECT_EQ(test, buf[0], 0x5a);
	KUNIT_EXPECT_EQ(test, buf[7], 0x5a);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, 8), 0);
	KUNIT_EXPECT_EQ(test, buf[0], 0x5a);
	val = 0;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(ro, SZ_1M, 8, GUESTMEM_ATOMIC_LOAD,
					      &val, 0), 0);
	KUNIT_EXPECT_EQ(test, val, 0x5a5a5a5a5a5a5a5aULL);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ro, SZ_1M, 8, false,
						   gmt_chunk_never, &calls), 0);
	KUNIT_EXPECT_EQ(test, calls, 1U);
	bitmap[0] = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(ro, SZ_1M, 2 * PAGE_SIZE,
						     bitmap, false), 0);
	KUNIT_EXPECT_EQ(test, bitmap[0], 0UL);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, SZ_1M, 2 * PAGE_SIZE), 0);
}

static struct kunit_case gm_space_cases[] = {
	KUNIT_CASE(gm_space_empty),
	KUNIT_CASE(gm_space_overflow),
	KUNIT_CASE(gm_space_refcount),
	KUNIT_CASE(gm_space_independent),
	KUNIT_CASE(gm_space_get_file),
	KUNIT_CASE(gm_space_get_file_rdonly),
	{}
};

static struct kunit_suite gm_space_suite = {
	.name = "guestmem_space",
	.test_cases = gm_space_cases,
};

/* ------------------------------------------------------------------------ */
/* guestmem_regions                                                         */
/* ------------------------------------------------------------------------ */

/* Expect one byte at @gpa to read back as @want (or the read to fail). */
static void gmt_expect_byte(struct kunit *test, struct guestmem *gm, u64 gpa,
			    int want_ret, u8 want)
{
	u8 byte = 0xee;
	int ret = guestmem_read(gm, gpa, &byte, 1);

	KUNIT_EXPECT_EQ_MSG(test, ret, want_ret, "read at 0x%llx", gpa);
	if (!ret && !want_ret)
		KUNIT_EXPECT_EQ_MSG(test, byte, want, "byte at 0x%llx", gpa);
	if (want_ret)
		KUNIT_EXPECT_EQ_MSG(test, byte, 0xee, "buffer after read at 0x%llx", gpa);
}

/* A region is backed from its first to its last byte, and only there. */
static void gmt_expect_region(struct kunit *test, struct guestmem *gm, u64 gpa,
			      u64 size, bool holes_around)
{
	gmt_expect_byte(test, gm, gpa, 0, 0);
	gmt_expect_byte(test, gm, gpa + size - 1, 0, 0);
	if (holes_around) {
		if (gpa)
			gmt_expect_byte(test, gm, gpa - 1, -ENXIO, 0);
		if (gpa + size)
			gmt_expect_byte(test, gm, gpa + size, -ENXIO, 0);
	}
}

static void gm_regions_add_remove(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	u8 *buf = kunit_kzalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(16), GMT_PG(3), 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 1ULL);
	gmt_expect_region(test, gm, GMT_PG(16), GMT_PG(3), true);

	/* VMALLOC regions start zero-filled. */
	memset(buf, 0xa5, 3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_PG(16), buf, 3 * PAGE_SIZE), 0);
	gmt_all_bytes(test, buf, 0, 3 * PAGE_SIZE, "new region");

	memset(buf, 0x77, 3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_PG(16), buf, 3 * PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(16), GMT_PG(3)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 2ULL);
	gmt_expect_byte(test, gm, GMT_PG(16), -ENXIO, 0);
	gmt_expect_byte(test, gm, GMT_PG(19) - 1, -ENXIO, 0);

	/* Added again: new, zeroed memory. */
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(16), GMT_PG(3), 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 3ULL);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_PG(16), buf, 3 * PAGE_SIZE), 0);
	gmt_all_bytes(test, buf, 0, 3 * PAGE_SIZE, "region added again");

	/* Both flags are accepted on VMALLOC regions. */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(1), PAGE_SIZE, GUESTMEM_REGION_READONLY), 0);
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(3), PAGE_SIZE, GUESTMEM_REGION_DIRTY_LOG), 0);
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(5), PAGE_SIZE,
				      GUESTMEM_REGION_READONLY | GUESTMEM_REGION_DIRTY_LOG), 0);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 6ULL);
	gmt_expect_region(test, gm, GMT_PG(1), PAGE_SIZE, true);
	gmt_expect_region(test, gm, GMT_PG(3), PAGE_SIZE, true);
	gmt_expect_region(test, gm, GMT_PG(5), PAGE_SIZE, true);
}

/* New regions touching an existing one on either side, then filling a gap. */
static void gm_regions_adjacent(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	u8 *buf = kunit_kzalloc(test, GMT_PG(12), GFP_KERNEL);
	u8 *want = kunit_kzalloc(test, GMT_PG(12), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, want);

	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(4), GMT_PG(4), 0), 0);	/* [4, 8) */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(3), GMT_PG(1), 0), 0);	/* [3, 4) */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(8), GMT_PG(2), 0), 0);	/* [8, 10) */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(12), GMT_PG(2), 0), 0);	/* [12, 14) */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(0), GMT_PG(2), 0), 0);	/* [0, 2) */
	/* Exactly filling the gaps, touching neighbours on both sides. */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(10), GMT_PG(2), 0), 0);	/* [10, 12) */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(2), GMT_PG(1), 0), 0);	/* [2, 3) */
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 7ULL);

	/* [0, 14) is now one backed range, the rest is a hole. */
	gmt_expect_byte(test, gm, 0, 0, 0);
	gmt_expect_byte(test, gm, GMT_PG(14) - 1, 0, 0);
	gmt_expect_byte(test, gm, GMT_PG(14), -ENXIO, 0);
	gmt_pattern(want, GMT_PG(12), 3);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_PG(1) + 5, want, GMT_PG(12)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_PG(1) + 5, buf, GMT_PG(12)), 0);
	gmt_bytes_eq(test, buf, want, GMT_PG(12), "across 7 adjacent regions");
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_PG(2) + 5, buf, GMT_PG(12)), -ENXIO);
}

/* Every way a new region can overlap existing ones is -EEXIST. */
static void gm_regions_overlap(struct kunit *test)
{
	static const struct {
		u64 first, pages;
	} bad[] = {
		{ 4, 4 },	/* identical */
		{ 5, 1 },	/* strictly inside */
		{ 4, 1 },	/* inside, same start */
		{ 7, 1 },	/* inside, same end */
		{ 3, 6 },	/* covering */
		{ 3, 5 },	/* covering, same end */
		{ 4, 5 },	/* covering, same start */
		{ 3, 2 },	/* over the left edge */
		{ 0, 5 },	/* over the left edge, from the hole's start */
		{ 7, 2 },	/* over the right edge */
		{ 7, 5 },	/* over the right edge up to the next region */
		{ 7, 6 },	/* over the right edge and into the next region */
		{ 9, 4 },	/* in the gap, into the next region by one page */
		{ 8, 5 },	/* gap-filling plus one page */
		{ 3, 10 },	/* covering both regions */
		{ 2, 100 },	/* covering both, far past */
		{ 12, 1 },	/* the next region itself */
		{ 0, 13 },	/* both regions and the gaps */
	};
	struct guestmem *gm = gmt_create(test);
	unsigned int i;

	/* [4, 8) and [12, 13), a gap [8, 12) between them. */
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(4), GMT_PG(4), 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(12), GMT_PG(1), 0), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write_le32(gm, GMT_PG(4) + 16, 0x600d600d), 0);

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ_MSG(test, gmt_add(gm, GMT_PG(bad[i].first),
						  GMT_PG(bad[i].pages), 0), -EEXIST,
				    "pages [%llu, %llu)", bad[i].first,
				    bad[i].first + bad[i].pages);
	/* Also with flags, and at byte granularity of the edges. */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(7), GMT_PG(1),
				      GUESTMEM_REGION_READONLY), -EEXIST);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 2ULL);

	/* Nothing was disturbed. */
	gmt_expect_region(test, gm, GMT_PG(4), GMT_PG(4), true);
	gmt_expect_region(test, gm, GMT_PG(12), GMT_PG(1), true);
	gmt_expect_byte(test, gm, GMT_PG(4) + 16, 0, 0x0d);
	gmt_expect_byte(test, gm, GMT_PG(10), -ENXIO, 0);

	/* Adjacent on both sides and in the gap is fine. */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(3), GMT_PG(1), 0), 0);
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(8), GMT_PG(4), 0), 0);
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(13), GMT_PG(1), 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 5ULL);
	gmt_expect_byte(test, gm, GMT_PG(4) + 16, 0, 0x0d);

	/* At the very top of the address space. */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_TOP_PAGE - GMT_PG(1), GMT_PG(2), 0), 0);
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_TOP_PAGE, GMT_PG(1), 0), -EEXIST);
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_TOP_PAGE - GMT_PG(2), GMT_PG(2), 0), -EEXIST);
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_TOP_PAGE - GMT_PG(2), GMT_PG(1), 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 7ULL);
}

static void gm_regions_validation(struct kunit *test)
{
#define GMT_OK_GPA	GMT_PG(16)
#define GMT_OK_SIZE	GMT_PG(2)
	static const struct {
		struct guestmem_region desc;
		const char *what;
	} bad[] = {
		{ { .gpa = GMT_OK_GPA + 1, .size = GMT_OK_SIZE }, "gpa + 1" },
		{ { .gpa = GMT_OK_GPA + PAGE_SIZE / 2, .size = GMT_OK_SIZE }, "gpa + half a page" },
		{ { .gpa = U64_MAX, .size = GMT_OK_SIZE }, "gpa 2^64 - 1" },
		{ { .gpa = GMT_OK_GPA, .size = 0 }, "size 0" },
		{ { .gpa = GMT_OK_GPA, .size = 1 }, "size 1" },
		{ { .gpa = GMT_OK_GPA, .size = PAGE_SIZE - 1 }, "size page - 1" },
		{ { .gpa = GMT_OK_GPA, .size = PAGE_SIZE + 1 }, "size page + 1" },
		{ { .gpa = GMT_OK_GPA, .size = U64_MAX }, "size 2^64 - 1" },
		{ { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .flags = 1U << 2 }, "flag bit 2" },
		{ { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .flags = 1U << 31 }, "flag bit 31" },
		{ { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE,
		    .flags = GUESTMEM_REGION_READONLY | (1U << 5) }, "READONLY and bit 5" },
		{ { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .flags = U32_MAX }, "all flags" },
		{ { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .backing = 2 }, "backing 2" },
		{ { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .backing = U32_MAX }, "backing ~0" },
		{ { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .reserved = { 1, 0 } }, "reserved[0]" },
		{ { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .reserved = { 0, 1ULL << 63 } },
		  "reserved[1]" },
		{ { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .user_addr = PAGE_SIZE },
		  "VMALLOC with user_addr" },
		{ { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .user_addr = 1 },
		  "VMALLOC with user_addr 1" },
	};
	struct guestmem *gm = gmt_create(test);
	struct guestmem_region desc;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, guestmem_add_region(gm, &bad[i].desc), -EINVAL,
				    "%s", bad[i].what);
	}

	/* Ranges that would pass 2^64. */
	desc = gmt_desc(GMT_TOP_PAGE, GMT_PG(2), 0);
	KUNIT_EXPECT_EQ(test, guestmem_add_region(gm, &desc), -EOVERFLOW);
	desc = gmt_desc(GMT_TOP_PAGE - GMT_PG(1), GMT_PG(3), 0);
	KUNIT_EXPECT_EQ(test, guestmem_add_region(gm, &desc), -EOVERFLOW);
	desc = gmt_desc(GMT_PG(2), U64_MAX & PAGE_MASK, 0);
	KUNIT_EXPECT_EQ(test, guestmem_add_region(gm, &desc), -EOVERFLOW);
	desc = gmt_desc(1ULL << 63, 1ULL << 63 | PAGE_SIZE, 0);
	KUNIT_EXPECT_EQ(test, guestmem_add_region(gm, &desc), -EOVERFLOW);

	/* Valid, but far more than the machine has: refused, quietly. */
	desc = gmt_desc(0, 1ULL << 62, 0);
	KUNIT_EXPECT_EQ(test, guestmem_add_region(gm, &desc), -ENOMEM);
	desc = gmt_desc(GMT_TOP_PAGE - (1ULL << 40) + PAGE_SIZE, 1ULL << 40, 0);
	KUNIT_EXPECT_EQ(test, guestmem_add_region(gm, &desc), -ENOMEM);

	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 0ULL);
	gmt_expect_byte(test, gm, GMT_OK_GPA, -ENXIO, 0);
	gmt_expect_byte(test, gm, U64_MAX, -ENXIO, 0);

	/* The valid descriptor is fine, and so is one ending at 2^64. */
	desc = gmt_desc(GMT_OK_GPA, GMT_OK_SIZE, 0);
	KUNIT_EXPECT_EQ(test, guestmem_add_region(gm, &desc), 0);
	desc = gmt_desc(GMT_TOP_PAGE - GMT_PG(1), GMT_PG(2), 0);
	KUNIT_EXPECT_EQ(test, guestmem_add_region(gm, &desc), 0);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 2ULL);
	gmt_expect_region(test, gm, GMT_TOP_PAGE - GMT_PG(1), GMT_PG(2), true);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_TOP_PAGE - GMT_PG(1),
						     GMT_PG(2)), 0);
	gmt_expect_byte(test, gm, U64_MAX, -ENXIO, 0);
#undef GMT_OK_GPA
#undef GMT_OK_SIZE
}

static void gm_regions_remove(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);

	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, 0, PAGE_SIZE), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, 0, 0), -ENOENT);

	/* [4, 8), [8, 10), [12, 13) */
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(4), GMT_PG(4), 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(8), GMT_PG(2), 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(12), GMT_PG(1), 0), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write_be32(gm, GMT_PG(8), 0xa1b2c3d4), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write_be32(gm, GMT_PG(10) - 8, 0x01020304), 0);

	/* Only [gpa, gpa + size) exactly as added matches. */
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(4), GMT_PG(3)), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(4), GMT_PG(5)), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(4), GMT_PG(6)), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(5), GMT_PG(3)), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(3), GMT_PG(5)), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(4), 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(4) + 1, GMT_PG(4)), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(4), GMT_PG(4) + 1), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(10), GMT_PG(2)), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(13), GMT_PG(1)), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, U64_MAX & PAGE_MASK, PAGE_SIZE),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(12), U64_MAX), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 3ULL);
	gmt_expect_region(test, gm, GMT_PG(4), GMT_PG(6), true);
	gmt_expect_region(test, gm, GMT_PG(12), GMT_PG(1), true);

	/* Removing the first of two adjacent regions leaves the second. */
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(4), GMT_PG(4)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 4ULL);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(4), GMT_PG(4)), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 4ULL);
	gmt_expect_byte(test, gm, GMT_PG(4), -ENXIO, 0);
	gmt_expect_byte(test, gm, GMT_PG(8) - 1, -ENXIO, 0);
	gmt_expect_byte(test, gm, GMT_PG(8), 0, 0xa1);
	gmt_expect_byte(test, gm, GMT_PG(10) - 5, 0, 0x04);
	gmt_expect_byte(test, gm, GMT_PG(12), 0, 0);

	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(12), GMT_PG(1)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(8), GMT_PG(2)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 6ULL);
	gmt_expect_byte(test, gm, GMT_PG(8), -ENXIO, 0);
	gmt_expect_byte(test, gm, GMT_PG(12), -ENXIO, 0);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(8), GMT_PG(2)), -ENOENT);
}

/* The generation counts successful adds and removes, nothing else. */
static void gm_regions_generation(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	u64 gen = 0;
	u8 byte;
	int i;

	for (i = 0; i < 8; i++) {
		KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(i * 2), PAGE_SIZE, 0), 0);
		KUNIT_EXPECT_EQ(test, guestmem_generation(gm), ++gen);
		KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(i * 2), PAGE_SIZE, 0), -EEXIST);
		KUNIT_EXPECT_EQ(test, gmt_add(gm, 1, PAGE_SIZE, 0), -EINVAL);
		KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(i * 2 + 1),
							     PAGE_SIZE), -ENOENT);
		/* Accesses do not count either. */
		KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_PG(i * 2), &byte, 0), 0);
		KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_PG(i * 2), &byte, 1), 0);
		KUNIT_EXPECT_EQ(test, guestmem_generation(gm), gen);
	}
	for (i = 7; i >= 0; i -= 2) {
		KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_PG(i * 2), PAGE_SIZE), 0);
		KUNIT_EXPECT_EQ(test, guestmem_generation(gm), ++gen);
	}
	KUNIT_EXPECT_EQ(test, gen, 12ULL);
}

#define GMT_MANY	10000U
/* A multiplier coprime with GMT_MANY: the adds visit every index once. */
#define GMT_MANY_STEP	7919U
/* Every GMT_MANY_GAP-th region is removed at the end: 10 of them. */
#define GMT_MANY_GAP	(GMT_MANY / 10)

/* Region i of the many-regions test covers page 2i; page 2i + 1 is a hole. */
static u64 gmt_many_gpa(unsigned int i)
{
	return GMT_PG(2ULL * i);
}

static u32 gmt_many_head(unsigned int i)
{
	return 0xa5000000U | i;
}

static u32 gmt_many_tail(unsigned int i)
{
	return 0x5a000000U | i;
}

struct gmt_fails {
	struct kunit *test;
	unsigned int count;
};

/* Count mismatches in the big loops; print only the first few. */
static void gmt_mismatch(struct gmt_fails *f, const char *what, u64 gpa,
			 long long got, long long want)
{
	if (f->count++ < 8)
		KUNIT_FAIL(f->test, "%s at 0x%llx: got %lld (0x%llx), expected %lld",
			   what, gpa, got, got, want);
}

static void gmt_many_check(struct gmt_fails *f, struct guestmem *gm,
			   unsigned int i, bool present)
{
	u64 gpa = gmt_many_gpa(i);
	u32 word = 0;
	u8 byte = 0;
	int ret;

	/* First and last byte of the region. */
	ret = guestmem_read(gm, gpa, &byte, 1);
	if (ret != (present ? 0 : -ENXIO))
		gmt_mismatch(f, "read of a region's first byte", gpa, ret, present ? 0 : -ENXIO);
	else if (present && byte != (gmt_many_head(i) & 0xff))
		gmt_mismatch(f, "region's first byte", gpa, byte, gmt_many_head(i) & 0xff);
	ret = guestmem_read(gm, gpa + PAGE_SIZE - 1, &byte, 1);
	if (ret != (present ? 0 : -ENXIO))
		gmt_mismatch(f, "read of a region's last byte", gpa + PAGE_SIZE - 1, ret,
			     present ? 0 : -ENXIO);
	else if (present && byte != gmt_many_tail(i) >> 24)
		gmt_mismatch(f, "region's last byte", gpa + PAGE_SIZE - 1, byte,
			     gmt_many_tail(i) >> 24);
	if (present) {
		/* The right region was found: its tags name it. */
		ret = guestmem_read_le32(gm, gpa, &word);
		if (ret || word != gmt_many_head(i))
			gmt_mismatch(f, "head tag", gpa, ret ? ret : word, gmt_many_head(i));
		ret = guestmem_read_le32(gm, gpa + PAGE_SIZE - 4, &word);
		if (ret || word != gmt_many_tail(i))
			gmt_mismatch(f, "tail tag", gpa + PAGE_SIZE - 4, ret ? ret : word,
				     gmt_many_tail(i));
	}

	/* First and last byte of the hole after it. */
	ret = guestmem_read(gm, gpa + PAGE_SIZE, &byte, 1);
	if (ret != -ENXIO)
		gmt_mismatch(f, "read of a hole's first byte", gpa + PAGE_SIZE, ret, -ENXIO);
	ret = guestmem_read(gm, gpa + 2 * PAGE_SIZE - 1, &byte, 1);
	if (ret != -ENXIO)
		gmt_mismatch(f, "read of a hole's last byte", gpa + 2 * PAGE_SIZE - 1, ret,
			     -ENXIO);
}

/*
 * 10,000 one-page regions with a one-page hole after each, added in a
 * scrambled order (every insertion position gets exercised), then looked up
 * at each region's first and last byte and at each hole's first and last
 * byte, forwards and backwards (the last-hit hint must never be trusted
 * blindly).
 */
static void gm_regions_many(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	struct gmt_fails f = { .test = test };
	ktime_t start = ktime_get();
	unsigned int n, i;
	u8 pair[2];
	int ret;

	for (n = 0; n < GMT_MANY; n++) {
		i = (unsigned int)(((u64)n * GMT_MANY_STEP) % GMT_MANY);
		ret = gmt_add(gm, gmt_many_gpa(i), PAGE_SIZE, 0);
		if (ret) {
			KUNIT_FAIL(test, "adding region %u (the %u-th add): %d", i, n, ret);
			return;
		}
	}
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), (u64)GMT_MANY);
	kunit_info(test, "%u adds: %lld ms", GMT_MANY,
		   ktime_ms_delta(ktime_get(), start));

	/* Tag each region with its index at both ends. */
	start = ktime_get();
	for (i = 0; i < GMT_MANY; i++) {
		u64 gpa = gmt_many_gpa(i);

		ret = guestmem_write_le32(gm, gpa, gmt_many_head(i));
		if (ret)
			gmt_mismatch(&f, "write of head tag", gpa, ret, 0);
		ret = guestmem_write_le32(gm, gpa + PAGE_SIZE - 4, gmt_many_tail(i));
		if (ret)
			gmt_mismatch(&f, "write of tail tag", gpa + PAGE_SIZE - 4, ret, 0);
	}

	for (i = 0; i < GMT_MANY; i++)
		gmt_many_check(&f, gm, i, true);
	for (i = GMT_MANY; i-- > 0;)
		gmt_many_check(&f, gm, i, true);
	/* A strided order, jumping all over the array. */
	for (n = 0; n < GMT_MANY; n++)
		gmt_many_check(&f, gm, (n * 97U) % GMT_MANY, true);

	/* A two-byte read across each region's end into its hole fails. */
	for (i = 0; i < GMT_MANY; i++) {
		u64 gpa = gmt_many_gpa(i) + PAGE_SIZE - 1;

		pair[0] = 0xee;
		ret = guestmem_read(gm, gpa, pair, 2);
		if (ret != -ENXIO || pair[0] != 0xee)
			gmt_mismatch(&f, "read across a region's end", gpa, ret, -ENXIO);
	}
	kunit_info(test, "%u accesses: %lld ms", GMT_MANY * 21,
		   ktime_ms_delta(ktime_get(), start));

	/* Past the last region. */
	gmt_expect_byte(test, gm, gmt_many_gpa(GMT_MANY), -ENXIO, 0);
	gmt_expect_byte(test, gm, U64_MAX / 2, -ENXIO, 0);
	gmt_expect_byte(test, gm, U64_MAX, -ENXIO, 0);

	/* The last byte of the address space, in a region of its own. */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_TOP_PAGE, PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_write_le16(gm, U64_MAX - 1, 0xbeef), 0);
	gmt_expect_byte(test, gm, U64_MAX, 0, 0xbe);
	gmt_expect_byte(test, gm, GMT_TOP_PAGE, 0, 0);
	gmt_expect_byte(test, gm, GMT_TOP_PAGE - 1, -ENXIO, 0);
	gmt_many_check(&f, gm, 0, true);
	gmt_many_check(&f, gm, GMT_MANY - 1, true);

	/* Remove every GMT_MANY_GAP-th region: it becomes a hole, neighbours stay. */
	for (i = 0; i < GMT_MANY; i += GMT_MANY_GAP) {
		ret = guestmem_remove_region(gm, gmt_many_gpa(i), PAGE_SIZE);
		if (ret)
			gmt_mismatch(&f, "remove", gmt_many_gpa(i), ret, 0);
	}
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), (u64)GMT_MANY + 1 + 10);
	for (i = 0; i < GMT_MANY; i++)
		gmt_many_check(&f, gm, i, i % GMT_MANY_GAP);
	gmt_expect_byte(test, gm, U64_MAX, 0, 0xbe);

	KUNIT_EXPECT_EQ_MSG(test, f.count, 0U, "mismatches in the loops");

	/* Dropping the space frees every region. */
	start = ktime_get();
	kunit_remove_action(test, gmt_put_action, gm);
	guestmem_put(gm);
	kunit_info(test, "freeing %u regions: %lld ms", GMT_MANY - 10 + 1,
		   ktime_ms_delta(ktime_get(), start));
}

/*
 * Removal waits for SRCU readers and for a normal RCU grace period (for the
 * fast paths), never for an expedited one: rcu_exp_batches_completed() is
 * the expedited grace-period sequence of the machine, which advances by 4
 * (RCU_SEQ_CTR_SHIFT: the low two bits are the state) per grace period;
 * one synchronize_rcu_expedited() per removal (the module before issue 14,
 * point 8) made 32 of them here.  Three from elsewhere in the kernel (say
 * synchronize_net()) are tolerated.
 */
static void gm_regions_remove_no_expedited_rcu(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	unsigned long before, after;
	unsigned int i;
	u64 v = 0;

	before = rcu_exp_batches_completed();
	for (i = 0; i < 32; i++) {
		KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(16), GMT_PG(4), 0), 0);
		/* A fast-path access, so that the region has been read. */
		KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_PG(16) + 8, &v, 8), 0);
		KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_PG(16),
							     GMT_PG(4)), 0);
	}
	after = rcu_exp_batches_completed();
	KUNIT_EXPECT_LE_MSG(test, (after - before) / 4, 3UL,
			    "%lu expedited RCU grace periods during 32 removals",
			    (after - before) / 4);
}

static struct kunit_case gm_regions_cases[] = {
	KUNIT_CASE(gm_regions_add_remove),
	KUNIT_CASE(gm_regions_adjacent),
	KUNIT_CASE(gm_regions_overlap),
	KUNIT_CASE(gm_regions_validation),
	KUNIT_CASE(gm_regions_remove),
	KUNIT_CASE(gm_regions_generation),
	KUNIT_CASE_SLOW(gm_regions_many),
	KUNIT_CASE(gm_regions_remove_no_expedited_rcu),
	{}
};

static struct kunit_suite gm_regions_suite = {
	.name = "guestmem_regions",
	.test_cases = gm_regions_cases,
};

/* ------------------------------------------------------------------------ */
/* guestmem_access                                                          */
/* ------------------------------------------------------------------------ */

/*
 * The layout of the access and walk suites, in pages from GMT_BASE:
 *
 *   0      R0  1 page  read-write
 *   1-2    R1  2 pages read-write
 *   3      R2  1 page  read-write
 *   4          hole
 *   5      R3  1 page  READONLY
 *   6      R4  1 page  read-write
 *
 * A shadow copy (the model) of all seven pages says what guest memory
 * must contain; gmt_check_model() compares every backed byte with it.
 */
#define GMT_BASE	((u64)SZ_16M)
#define GMT_A(page)	(GMT_BASE + GMT_PG(page))
#define GMT_PAGES	7

struct gmt_ctx {
	struct guestmem *gm;
	u8 *model;
	u8 *buf;
};

static int gmt_access_init(struct kunit *test)
{
	struct gmt_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx);
	ctx->model = kunit_kzalloc(test, GMT_PG(GMT_PAGES), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->model);
	ctx->buf = kunit_kzalloc(test, GMT_PG(GMT_PAGES), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->buf);
	ctx->gm = gmt_create(test);
	KUNIT_ASSERT_EQ(test, gmt_add(ctx->gm, GMT_A(0), GMT_PG(1), 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(ctx->gm, GMT_A(1), GMT_PG(2), 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(ctx->gm, GMT_A(3), GMT_PG(1), 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(ctx->gm, GMT_A(5), GMT_PG(1),
				      GUESTMEM_REGION_READONLY), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(ctx->gm, GMT_A(6), GMT_PG(1), 0), 0);
	test->priv = ctx;
	return 0;
}

/* Guest memory equals the model, region by region and in one sweep. */
static void gmt_check_model(struct kunit *test, struct gmt_ctx *ctx,
			    const char *what)
{
	static const struct {
		unsigned int first, pages;
	} backed[] = { { 0, 1 }, { 1, 2 }, { 3, 1 }, { 5, 1 }, { 6, 1 }, { 0, 4 }, { 5, 2 } };
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(backed); i++) {
		u64 off = GMT_PG(backed[i].first), len = GMT_PG(backed[i].pages);

		memset(ctx->buf, 0xee, len);
		ret = guestmem_read(ctx->gm, GMT_BASE + off, ctx->buf, len);
		KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s: reading pages %u-%u", what,
				    backed[i].first, backed[i].first + backed[i].pages - 1);
		if (ret)
			continue;
		if (!gmt_bytes_eq(test, ctx->buf, ctx->model + off, len, what))
			break;
	}
}

/* Write through the API and to the model; expect @want_ret. */
static void gmt_write(struct kunit *test, struct gmt_ctx *ctx, u64 off,
		      size_t len, unsigned int seed, int want_ret)
{
	u8 *src = kunit_kmalloc(test, len ? len : 1, GFP_KERNEL);
	int ret;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, src);
	gmt_pattern(src, len, seed);
	ret = guestmem_write(ctx->gm, GMT_BASE + off, src, len);
	KUNIT_EXPECT_EQ_MSG(test, ret, want_ret, "write of %zu bytes at page %llu + %llu",
			    len, off >> PAGE_SHIFT, off & ~PAGE_MASK);
	if (!ret && !want_ret)
		memcpy(ctx->model + off, src, len);
	kunit_kfree(test, src);
}

/* Read through the API; on success compare with the model. */
static void gmt_read(struct kunit *test, struct gmt_ctx *ctx, u64 off,
		     size_t len, int want_ret)
{
	int ret;

	memset(ctx->buf, 0xee, len);
	ret = guestmem_read(ctx->gm, GMT_BASE + off, ctx->buf, len);
	KUNIT_EXPECT_EQ_MSG(test, ret, want_ret, "read of %zu bytes at page %llu + %llu",
			    len, off >> PAGE_SHIFT, off & ~PAGE_MASK);
	if (ret)
		gmt_all_bytes(test, ctx->buf, 0xee, len, "buffer of a failed read");
	else if (!want_ret)
		gmt_bytes_eq(test, ctx->buf, ctx->model + off, len, "read back");
}

static void gm_access_zeroed(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_check_model(test, ctx, "new regions are zero");
	gmt_read(test, ctx, 0, GMT_PG(4), 0);
}

static void gm_access_cross_two(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	/* R0 -> R1, R1 -> R2, R3 -> R4 (read only) */
	gmt_write(test, ctx, GMT_PG(1) - 100, 200, 1, 0);
	gmt_check_model(test, ctx, "write across R0/R1");
	gmt_write(test, ctx, GMT_PG(3) - 1, 2, 2, 0);
	gmt_check_model(test, ctx, "write across R1/R2");
	gmt_write(test, ctx, GMT_PG(3) - 1, 1, 3, 0);
	gmt_write(test, ctx, GMT_PG(3), 1, 4, 0);
	gmt_write(test, ctx, GMT_PG(0), GMT_PG(3), 5, 0);
	gmt_check_model(test, ctx, "write of R0 and R1 whole");
	gmt_read(test, ctx, GMT_PG(1) - 1, 2, 0);
	gmt_read(test, ctx, GMT_PG(1) - 100, 200, 0);
	gmt_read(test, ctx, GMT_PG(3) - 3000, 5000, 0);
	gmt_read(test, ctx, GMT_PG(6) - 10, 20, 0);
	gmt_read(test, ctx, GMT_PG(5), GMT_PG(2), 0);
	gmt_check_model(test, ctx, "after reads");
}

static void gm_access_cross_three(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	/* The tail of R0, all of R1, the head of R2. */
	gmt_write(test, ctx, GMT_PG(1) - 10, GMT_PG(2) + 20, 6, 0);
	gmt_check_model(test, ctx, "write across R0/R1/R2");
	gmt_read(test, ctx, GMT_PG(1) - 1, GMT_PG(2) + 2, 0);
	gmt_read(test, ctx, 1, GMT_PG(4) - 2, 0);
	/* Exactly the three regions. */
	gmt_write(test, ctx, 0, GMT_PG(4), 7, 0);
	gmt_check_model(test, ctx, "write of R0-R2 whole");
	gmt_read(test, ctx, 0, GMT_PG(4), 0);
	/* Odd lengths and offsets. */
	gmt_write(test, ctx, GMT_PG(1) - 3, GMT_PG(2) + 7, 8, 0);
	gmt_read(test, ctx, GMT_PG(1) - 5, GMT_PG(2) + 11, 0);
	gmt_check_model(test, ctx, "odd write across R0/R1/R2");
}

/* Exact semantics: an access touching a hole moves no byte at all. */
static void gm_access_hole(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_write(test, ctx, 0, GMT_PG(4), 9, 0);
	gmt_write(test, ctx, GMT_PG(6), GMT_PG(1), 10, 0);

	gmt_write(test, ctx, GMT_PG(4) - 10, 20, 11, -ENXIO);		/* R2 into the hole */
	gmt_write(test, ctx, GMT_PG(4) - 1, 2, 12, -ENXIO);
	gmt_write(test, ctx, GMT_PG(4), 1, 13, -ENXIO);			/* the hole */
	gmt_write(test, ctx, GMT_PG(5) - 1, 2, 14, -ENXIO);		/* hole into R3 */
	gmt_write(test, ctx, GMT_PG(1) - 10, GMT_PG(3) + 20, 15, -ENXIO);	/* R0-R2, hole */
	gmt_write(test, ctx, 0, GMT_PG(7), 16, -ENXIO);			/* everything */
	gmt_write(test, ctx, GMT_PG(7) - 10, 20, 17, -ENXIO);		/* R4 into the hole */
	gmt_write(test, ctx, (u64)-GMT_BASE + GMT_PG(1) - 10, 20, 18, -ENXIO);
	gmt_check_model(test, ctx, "after writes into holes");

	gmt_read(test, ctx, GMT_PG(4) - 10, 20, -ENXIO);
	gmt_read(test, ctx, GMT_PG(4) - 1, 2, -ENXIO);
	gmt_read(test, ctx, GMT_PG(4), 1, -ENXIO);
	gmt_read(test, ctx, GMT_PG(5) - 1, 2, -ENXIO);
	gmt_read(test, ctx, 0, GMT_PG(7), -ENXIO);
	gmt_read(test, ctx, GMT_PG(7) - 1, 2, -ENXIO);
	gmt_read(test, ctx, (u64)-GMT_BASE + GMT_PG(1) - 10, 20, -ENXIO);

	/* Zero-length accesses in the hole are no-ops that succeed. */
	gmt_write(test, ctx, GMT_PG(4), 0, 19, 0);
	gmt_read(test, ctx, GMT_PG(4) + 5, 0, 0);
	gmt_check_model(test, ctx, "after everything");
}

static void gm_access_readonly(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_write(test, ctx, GMT_PG(6), GMT_PG(1), 20, 0);
	gmt_write(test, ctx, GMT_PG(5), 1, 21, -EACCES);
	gmt_write(test, ctx, GMT_PG(6) - 1, 1, 22, -EACCES);
	gmt_write(test, ctx, GMT_PG(5), GMT_PG(1), 23, -EACCES);
	gmt_write(test, ctx, GMT_PG(5), GMT_PG(2), 24, -EACCES);	/* RO, then RW */
	gmt_write(test, ctx, GMT_PG(6) - 1, 2, 25, -EACCES);	/* RO into RW */
	gmt_write(test, ctx, GMT_PG(5) + 100, GMT_PG(1), 26, -EACCES);
	gmt_check_model(test, ctx, "after writes to the read-only region");

	/* Reading it is fine, and so is writing nothing. */
	gmt_read(test, ctx, GMT_PG(5), GMT_PG(1), 0);
	gmt_read(test, ctx, GMT_PG(5), GMT_PG(2), 0);
	gmt_read(test, ctx, GMT_PG(6) - 3, 6, 0);
	gmt_write(test, ctx, GMT_PG(5) + 7, 0, 27, 0);

	/* Other regions are still writable. */
	gmt_write(test, ctx, GMT_PG(7) - 8, 8, 28, 0);
	gmt_check_model(test, ctx, "after everything");
}

/* A plain struct, unaligned, across a region boundary. */
struct gmt_obj {
	u8 a;
	__le16 b;
	__be32 c;
	u64 d;
	u8 tail[5];
} __packed;

static void gm_access_obj(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_obj in = {
		.a = 0x11,
		.b = cpu_to_le16(0x2233),
		.c = cpu_to_be32(0x44556677),
		.d = 0x8899aabbccddeeffULL,
		.tail = { 1, 2, 3, 4, 5 },
	};
	struct gmt_obj out;
	u64 off = GMT_PG(1) - 7;	/* a, b, c in R0; d and tail in R1 */
	static const u8 head[] = { 0x11, 0x33, 0x22, 0x44, 0x55, 0x66, 0x77 };
	u8 raw[sizeof(in)];

	KUNIT_ASSERT_EQ(test, sizeof(in), 20);
	KUNIT_EXPECT_EQ(test, guestmem_write_obj(ctx->gm, GMT_BASE + off, &in), 0);
	memset(&out, 0, sizeof(out));
	KUNIT_EXPECT_EQ(test, guestmem_read_obj(ctx->gm, GMT_BASE + off, &out), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&out, &in, sizeof(in)), 0);

	/* Byte for byte as the struct says. */
	KUNIT_EXPECT_EQ(test, guestmem_read(ctx->gm, GMT_BASE + off, raw, sizeof(raw)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(raw, &in, sizeof(in)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(raw, head, sizeof(head)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(ctx->gm, GMT_A(1), raw, 1), 0);
	KUNIT_EXPECT_EQ(test, raw[0], 0xff);	/* the low byte of d, in R1 */
	memcpy(ctx->model + off, &in, sizeof(in));
	gmt_check_model(test, ctx, "after write_obj");

	/* Errors: nothing moves either way. */
	memset(&out, 0xee, sizeof(out));
	KUNIT_EXPECT_EQ(test, guestmem_read_obj(ctx->gm, GMT_A(4) - 3, &out), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write_obj(ctx->gm, GMT_A(4) - 3, &in), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write_obj(ctx->gm, GMT_A(6) - 3, &in), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_read_obj(ctx->gm, U64_MAX - 3, &out), -EOVERFLOW);
	gmt_all_bytes(test, (u8 *)&out, 0xee, sizeof(out), "object after failed reads");
	gmt_check_model(test, ctx, "after failed object accesses");

	/* An object of one byte, and an array type. */
	{
		u8 one = 0x42, arr[3] = { 7, 8, 9 }, back[3];

		KUNIT_EXPECT_EQ(test, guestmem_write_obj(ctx->gm, GMT_A(3) - 1, &one), 0);
		KUNIT_EXPECT_EQ(test, guestmem_write_obj(ctx->gm, GMT_A(3), &arr), 0);
		KUNIT_EXPECT_EQ(test, guestmem_read_obj(ctx->gm, GMT_A(3), &back), 0);
		KUNIT_EXPECT_EQ(test, memcmp(back, arr, 3), 0);
		ctx->model[GMT_PG(3) - 1] = 0x42;
		memcpy(ctx->model + GMT_PG(3), arr, 3);
		gmt_check_model(test, ctx, "after small objects");
	}
}

enum gmt_order { GMT_LE, GMT_BE };

/* Store @val with one accessor and read it back with the same one. */
static void gmt_endian_rw(struct guestmem *gm, u64 gpa, unsigned int bytes,
			  enum gmt_order order, u64 val, int *wret, int *rret,
			  u64 *back)
{
	bool be = order == GMT_BE;
	u16 v16 = 0;
	u32 v32 = 0;
	u64 v64 = 0;

	switch (bytes) {
	case 2:
		*wret = be ? guestmem_write_be16(gm, gpa, val) : guestmem_write_le16(gm, gpa, val);
		*rret = be ? guestmem_read_be16(gm, gpa, &v16) : guestmem_read_le16(gm, gpa, &v16);
		*back = v16;
		break;
	case 4:
		*wret = be ? guestmem_write_be32(gm, gpa, val) : guestmem_write_le32(gm, gpa, val);
		*rret = be ? guestmem_read_be32(gm, gpa, &v32) : guestmem_read_le32(gm, gpa, &v32);
		*back = v32;
		break;
	default:
		*wret = be ? guestmem_write_be64(gm, gpa, val) : guestmem_write_le64(gm, gpa, val);
		*rret = be ? guestmem_read_be64(gm, gpa, &v64) : guestmem_read_le64(gm, gpa, &v64);
		*back = v64;
		break;
	}
}

/* Check the bytes one accessor leaves in guest memory, and its read back. */
static void gmt_endian(struct kunit *test, struct gmt_ctx *ctx, u64 off,
		       unsigned int bytes, enum gmt_order order, u64 val,
		       const u8 *want)
{
	u64 gpa = GMT_BASE + off, back = 0;
	int wret, rret, ret;
	u8 raw[8];

	gmt_endian_rw(ctx->gm, gpa, bytes, order, val, &wret, &rret, &back);
	memset(raw, 0xee, sizeof(raw));
	ret = guestmem_read(ctx->gm, gpa, raw, bytes);
	KUNIT_EXPECT_EQ_MSG(test, wret, 0, "write_%s%u at +%llu",
			    order == GMT_BE ? "be" : "le", bytes * 8, off);
	KUNIT_EXPECT_EQ_MSG(test, rret, 0, "read_%s%u at +%llu",
			    order == GMT_BE ? "be" : "le", bytes * 8, off);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ_MSG(test, memcmp(raw, want, bytes), 0,
			    "bytes of write_%s%u(0x%llx) at +%llu: %*ph",
			    order == GMT_BE ? "be" : "le", bytes * 8, val, off,
			    (int)bytes, raw);
	KUNIT_EXPECT_EQ_MSG(test, back, val, "read_%s%u at +%llu",
			    order == GMT_BE ? "be" : "le", bytes * 8, off);
	memcpy(ctx->model + off, want, bytes);
}

static void gmt_endian_at(struct kunit *test, struct gmt_ctx *ctx, u64 off)
{
	static const u8 le16[] = { 0x22, 0x11 }, be16[] = { 0x11, 0x22 };
	static const u8 le32[] = { 0x44, 0x33, 0x22, 0x11 };
	static const u8 be32[] = { 0x11, 0x22, 0x33, 0x44 };
	static const u8 le64[] = { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
	static const u8 be64[] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	/* High bits set: no sign extension anywhere. */
	static const u8 le16h[] = { 0xfe, 0x80 };
	static const u8 be32h[] = { 0xfe, 0xdc, 0xba, 0x98 };
	static const u8 le64h[] = { 0x01, 0, 0, 0, 0, 0, 0, 0x80 };
	static const u8 be64h[] = { 0x80, 0, 0, 0, 0, 0, 0, 0xff };

	gmt_endian(test, ctx, off, 2, GMT_LE, 0x1122, le16);
	gmt_endian(test, ctx, off, 2, GMT_BE, 0x1122, be16);
	gmt_endian(test, ctx, off, 4, GMT_LE, 0x11223344, le32);
	gmt_endian(test, ctx, off, 4, GMT_BE, 0x11223344, be32);
	gmt_endian(test, ctx, off, 8, GMT_LE, 0x1122334455667788ULL, le64);
	gmt_endian(test, ctx, off, 8, GMT_BE, 0x1122334455667788ULL, be64);
	gmt_endian(test, ctx, off, 2, GMT_LE, 0x80fe, le16h);
	gmt_endian(test, ctx, off, 4, GMT_BE, 0xfedcba98, be32h);
	gmt_endian(test, ctx, off, 8, GMT_LE, 0x8000000000000001ULL, le64h);
	gmt_endian(test, ctx, off, 8, GMT_BE, 0x80000000000000ffULL, be64h);
}

static void gm_access_endian(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	u16 v16;
	u32 v32;
	u64 v64;
	u64 off;

	/* Aligned, unaligned, and across each byte position of a boundary. */
	gmt_endian_at(test, ctx, 0);
	gmt_endian_at(test, ctx, 64);
	gmt_endian_at(test, ctx, 3);
	gmt_endian_at(test, ctx, GMT_PG(2) + 1);
	for (off = GMT_PG(1) - 7; off < GMT_PG(1); off++)
		gmt_endian_at(test, ctx, off);
	for (off = GMT_PG(6) + 1; off < GMT_PG(6) + 8; off++)
		gmt_endian_at(test, ctx, off);
	gmt_check_model(test, ctx, "after the endian accessors");

	/* The same bytes read with the other byte order. */
	KUNIT_EXPECT_EQ(test, guestmem_write_le32(ctx->gm, GMT_A(2) - 2, 0x01020304), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_be32(ctx->gm, GMT_A(2) - 2, &v32), 0);
	KUNIT_EXPECT_EQ(test, v32, 0x04030201U);
	KUNIT_EXPECT_EQ(test, guestmem_read_le16(ctx->gm, GMT_A(2) - 1, &v16), 0);
	KUNIT_EXPECT_EQ(test, v16, 0x0203);
	KUNIT_EXPECT_EQ(test, guestmem_write_be64(ctx->gm, GMT_A(3) - 4,
						  0x0102030405060708ULL), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_le64(ctx->gm, GMT_A(3) - 4, &v64), 0);
	KUNIT_EXPECT_EQ(test, v64, 0x0807060504030201ULL);
	KUNIT_EXPECT_EQ(test, guestmem_read_be16(ctx->gm, GMT_A(3) - 1, &v16), 0);
	KUNIT_EXPECT_EQ(test, v16, 0x0405);

	/* Failures leave the value and guest memory alone. */
	v16 = 0xeeee;
	v32 = 0xeeeeeeee;
	v64 = 0xeeeeeeeeeeeeeeeeULL;
	KUNIT_EXPECT_EQ(test, guestmem_read_le16(ctx->gm, GMT_A(4) - 1, &v16), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read_be32(ctx->gm, GMT_A(4), &v32), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read_le64(ctx->gm, GMT_A(5) - 4, &v64), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read_be64(ctx->gm, U64_MAX - 6, &v64), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_read_le32(ctx->gm, U64_MAX - 2, &v32), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, v16, 0xeeee);
	KUNIT_EXPECT_EQ(test, v32, 0xeeeeeeeeU);
	KUNIT_EXPECT_EQ(test, v64, 0xeeeeeeeeeeeeeeeeULL);
	KUNIT_EXPECT_EQ(test, guestmem_write_le64(ctx->gm, GMT_A(4) - 4, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write_be16(ctx->gm, GMT_A(5), 1), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_write_le32(ctx->gm, GMT_A(6) - 2, 1), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_write_be64(ctx->gm, U64_MAX, 1), -EOVERFLOW);
	/* (the model now lags behind the two mixed-order writes above) */
	KUNIT_EXPECT_EQ(test, guestmem_read(ctx->gm, GMT_A(2) - 2, ctx->model + GMT_PG(2) - 2,
					    4), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(ctx->gm, GMT_A(3) - 4, ctx->model + GMT_PG(3) - 4,
					    8), 0);
	gmt_check_model(test, ctx, "after failed accessors");
}

/* Regions at the very top of the 64-bit space: [2^64 - 2P, 2^64). */
static void gm_access_top(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct guestmem *gm = ctx->gm;
	u64 low = GMT_TOP_PAGE - PAGE_SIZE;
	u8 *want = kunit_kzalloc(test, GMT_PG(2), GFP_KERNEL);
	u8 *got = kunit_kzalloc(test, GMT_PG(2), GFP_KERNEL);
	u64 v64 = 0;
	u16 v16 = 0;
	u8 byte = 0;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, want);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, got);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, low, PAGE_SIZE, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_TOP_PAGE, PAGE_SIZE, 0), 0);

	/* The very last bytes. */
	KUNIT_EXPECT_EQ(test, guestmem_write_be64(gm, U64_MAX - 7, 0x0102030405060708ULL), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, U64_MAX, &byte, 1), 0);
	KUNIT_EXPECT_EQ(test, byte, 0x08);
	KUNIT_EXPECT_EQ(test, guestmem_read_le64(gm, U64_MAX - 7, &v64), 0);
	KUNIT_EXPECT_EQ(test, v64, 0x0807060504030201ULL);
	byte = 0x99;
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, U64_MAX, &byte, 1), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_be16(gm, U64_MAX - 1, &v16), 0);
	KUNIT_EXPECT_EQ(test, v16, 0x0799);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, U64_MAX, &byte, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, U64_MAX, got, 2), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, U64_MAX - 3, want, 8), -EOVERFLOW);

	/* Across the boundary of the two top regions, and both whole. */
	gmt_pattern(want, 64, 30);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_TOP_PAGE - 32, want, 64), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_TOP_PAGE - 32, got, 64), 0);
	gmt_bytes_eq(test, got, want, 64, "across the top boundary");
	gmt_pattern(want, GMT_PG(2), 31);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, low, want, GMT_PG(2)), 0);
	memset(got, 0, GMT_PG(2));
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, low, got, GMT_PG(2)), 0);
	gmt_bytes_eq(test, got, want, GMT_PG(2), "the top two pages");
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, low + 1, got, GMT_PG(2)), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, low - 1, got, GMT_PG(2)), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, low - 1, want, 2), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, low, got, GMT_PG(2)), 0);
	gmt_bytes_eq(test, got, want, GMT_PG(2), "after failed accesses");

	/* Removing the last region makes the last byte a hole again. */
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_TOP_PAGE, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, U64_MAX, &byte, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, low, got, GMT_PG(2)), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, low, got, PAGE_SIZE), 0);
	gmt_bytes_eq(test, got, want, PAGE_SIZE, "the page below the top");
	gmt_check_model(test, ctx, "low regions, untouched");
}

/* Many small adjacent regions crossed by one access. */
static void gm_access_many_adjacent(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct guestmem *gm = ctx->gm;
	u64 base = SZ_1G;
	size_t len = GMT_PG(16) - 2;
	u8 *want = kunit_kzalloc(test, GMT_PG(16), GFP_KERNEL);
	u8 *got = kunit_kzalloc(test, GMT_PG(16), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, want);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, got);
	/* Added out of order, one page each. */
	for (i = 0; i < 16; i++)
		KUNIT_ASSERT_EQ(test, gmt_add(gm, base + GMT_PG((i * 5) % 16), PAGE_SIZE, 0), 0);
	gmt_pattern(want, len, 40);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, base + 1, want, len), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, base + 1, got, len), 0);
	gmt_bytes_eq(test, got, want, len, "across 16 regions");
	for (i = 0; i < 16; i++) {
		u8 byte = 0;

		KUNIT_EXPECT_EQ(test, guestmem_read(gm, base + GMT_PG(i) + 7, &byte, 1), 0);
		KUNIT_EXPECT_EQ_MSG(test, byte, want[GMT_PG(i) + 6], "page %u", i);
	}

	/* A hole in the middle: the same accesses now move nothing. */
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, base + GMT_PG(9), PAGE_SIZE), 0);
	memset(got, 0xee, len);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, base + 1, got, len), -ENXIO);
	gmt_all_bytes(test, got, 0xee, len, "buffer of a failed read");
	gmt_pattern(got, len, 41);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, base + 1, got, len), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, base + 1, got, GMT_PG(9) - 1), 0);
	gmt_bytes_eq(test, got, want, GMT_PG(9) - 1, "pages below the hole");
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, base + GMT_PG(10), got, GMT_PG(6) - 1), 0);
	gmt_bytes_eq(test, got, want + GMT_PG(10) - 1, GMT_PG(6) - 1, "pages above the hole");

	/* Filled again: zeroed memory in the middle. */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, base + GMT_PG(9), PAGE_SIZE, 0), 0);
	memset(want + GMT_PG(9) - 1, 0, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, base + 1, got, len), 0);
	gmt_bytes_eq(test, got, want, len, "with the new page");
	gmt_check_model(test, ctx, "other regions, untouched");
}

/* Removing a region in the middle of a run of adjacent ones. */
static void gm_access_remove_middle(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_write(test, ctx, 0, GMT_PG(4), 50, 0);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(ctx->gm, GMT_A(1), GMT_PG(2)), 0);
	gmt_read(test, ctx, GMT_PG(1) - 10, 20, -ENXIO);
	gmt_read(test, ctx, GMT_PG(3) - 10, 20, -ENXIO);
	gmt_read(test, ctx, 0, GMT_PG(4), -ENXIO);
	gmt_write(test, ctx, 0, GMT_PG(4), 51, -ENXIO);
	gmt_read(test, ctx, 0, GMT_PG(1), 0);
	gmt_read(test, ctx, GMT_PG(3), GMT_PG(1), 0);

	KUNIT_EXPECT_EQ(test, gmt_add(ctx->gm, GMT_A(1), GMT_PG(2), 0), 0);
	memset(ctx->model + GMT_PG(1), 0, GMT_PG(2));
	gmt_check_model(test, ctx, "after remove and add");
	gmt_write(test, ctx, GMT_PG(1) - 1, GMT_PG(2) + 2, 52, 0);
	gmt_check_model(test, ctx, "after a write across the new region");
}

static struct kunit_case gm_access_cases[] = {
	KUNIT_CASE(gm_access_zeroed),
	KUNIT_CASE(gm_access_cross_two),
	KUNIT_CASE(gm_access_cross_three),
	KUNIT_CASE(gm_access_hole),
	KUNIT_CASE(gm_access_readonly),
	KUNIT_CASE(gm_access_obj),
	KUNIT_CASE(gm_access_endian),
	KUNIT_CASE(gm_access_top),
	KUNIT_CASE(gm_access_many_adjacent),
	KUNIT_CASE(gm_access_remove_middle),
	{}
};

static struct kunit_suite gm_access_suite = {
	.name = "guestmem_access",
	.init = gmt_access_init,
	.test_cases = gm_access_cases,
};

/* ------------------------------------------------------------------------ */
/* guestmem_walk                                                            */
/* ------------------------------------------------------------------------ */

#define GMT_MAX_CHUNKS	8

struct gmt_walk {
	struct gmt_ctx *ctx;
	unsigned int calls;
	unsigned int stop_at;	/* 1-based call that returns @stop_ret */
	int stop_ret;
	int fill;		/* >= 0: write this byte through each chunk */
	unsigned int bad_content;
	struct {
		void *kaddr;
		u64 gpa;
		size_t len;
	} chunk[GMT_MAX_CHUNKS];
};

static int gmt_walk_fn(void *kaddr, u64 gpa, size_t len, void *priv)
{
	struct gmt_walk *w = priv;
	unsigned int n = w->calls++;

	/* The callback may sleep. */
	might_sleep();
	cond_resched();

	if (n < GMT_MAX_CHUNKS) {
		w->chunk[n].kaddr = kaddr;
		w->chunk[n].gpa = gpa;
		w->chunk[n].len = len;
	}
	/* The chunk maps exactly the guest bytes at @gpa. */
	if (gpa >= GMT_BASE && gpa - GMT_BASE + len <= GMT_PG(GMT_PAGES) &&
	    memcmp(kaddr, w->ctx->model + (gpa - GMT_BASE), len))
		w->bad_content++;
	if (w->fill >= 0 && gpa >= GMT_BASE && gpa - GMT_BASE + len <= GMT_PG(GMT_PAGES)) {
		memset(kaddr, w->fill, len);
		memset(w->ctx->model + (gpa - GMT_BASE), w->fill, len);
	}
	return w->calls == w->stop_at ? w->stop_ret : 0;
}

static void gmt_walk_init(struct gmt_walk *w, struct gmt_ctx *ctx)
{
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	w->fill = -1;
}

static int gmt_walk(struct gmt_walk *w, u64 off, u64 len, bool write)
{
	return guestmem_walk_chunks(w->ctx->gm, GMT_BASE + off, len, write,
				    gmt_walk_fn, w);
}

static void gmt_expect_chunk(struct kunit *test, const struct gmt_walk *w,
			     unsigned int n, u64 off, size_t len)
{
	KUNIT_EXPECT_EQ_MSG(test, w->chunk[n].gpa, GMT_BASE + off, "gpa of chunk %u", n);
	KUNIT_EXPECT_EQ_MSG(test, w->chunk[n].len, len, "length of chunk %u", n);
}

static void gmt_walk_fill_model(struct gmt_ctx *ctx)
{
	gmt_pattern(ctx->model, GMT_PG(GMT_PAGES), 60);
	/* The hole and the read-only region read as they are. */
	memset(ctx->model + GMT_PG(4), 0, GMT_PG(2));
}

static void gm_walk_three(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_fill_model(ctx);
	KUNIT_ASSERT_EQ(test, guestmem_write(ctx->gm, GMT_BASE, ctx->model, GMT_PG(4)), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write(ctx->gm, GMT_A(6), ctx->model + GMT_PG(6),
					     GMT_PG(1)), 0);

	/* The tail of R0, R1 whole, the head of R2: one chunk each, in order. */
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(1) - 10, GMT_PG(2) + 20, false), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 3U);
	gmt_expect_chunk(test, &w, 0, GMT_PG(1) - 10, 10);
	gmt_expect_chunk(test, &w, 1, GMT_PG(1), GMT_PG(2));
	gmt_expect_chunk(test, &w, 2, GMT_PG(3), 10);
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);

	/* The whole of R0-R2, and R3-R4 (read-only then read-write). */
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, GMT_PG(4), false), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 3U);
	gmt_expect_chunk(test, &w, 0, 0, GMT_PG(1));
	gmt_expect_chunk(test, &w, 1, GMT_PG(1), GMT_PG(2));
	gmt_expect_chunk(test, &w, 2, GMT_PG(3), GMT_PG(1));
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5) + 1, GMT_PG(2) - 2, false), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 2U);
	gmt_expect_chunk(test, &w, 0, GMT_PG(5) + 1, GMT_PG(1) - 1);
	gmt_expect_chunk(test, &w, 1, GMT_PG(6), GMT_PG(1) - 1);
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);

	/* Inside one region, multi-page: one chunk. */
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(1) + 5, GMT_PG(2) - 10, false), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 1U);
	gmt_expect_chunk(test, &w, 0, GMT_PG(1) + 5, GMT_PG(2) - 10);
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(3) - 1, 1, false), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 1U);
	gmt_expect_chunk(test, &w, 0, GMT_PG(3) - 1, 1);
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);
}

/* Writing through the chunks' kernel addresses lands in guest memory. */
static void gm_walk_write(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_init(&w, ctx);
	w.fill = 0x3c;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(1) - 3, GMT_PG(2) + 6, true), 0);
	KUNIT_EXPECT_EQ(test, w.calls, 3U);
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);	/* all zero before */
	gmt_check_model(test, ctx, "after writing through the chunks");

	gmt_walk_init(&w, ctx);
	w.fill = 0xc3;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(6), GMT_PG(1), true), 0);
	KUNIT_EXPECT_EQ(test, w.calls, 1U);
	gmt_check_model(test, ctx, "after writing through R4's chunk");
}

/* Exact: a hole anywhere in the range means no call at all. */
static void gm_walk_hole(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(4) - 1, 2, false), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, GMT_PG(7), false), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(4), 1, false), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5) - 1, 2, false), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(7) - 1, 2, false), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(7), PAGE_SIZE, true), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, (u64)-GMT_BASE + 1, PAGE_SIZE, true), -ENXIO);
	w.fill = 0x11;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, GMT_PG(4) + 1, true), -ENXIO);
	KUNIT_EXPECT_EQ(test, w.calls, 0U);
	gmt_check_model(test, ctx, "after failed walks");
}

/* A non-zero callback return stops the walk and is its result. */
static void gm_walk_stop(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_init(&w, ctx);
	w.stop_at = 2;
	w.stop_ret = 7;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, GMT_PG(4), false), 7);
	KUNIT_EXPECT_EQ(test, w.calls, 2U);
	gmt_expect_chunk(test, &w, 0, 0, GMT_PG(1));
	gmt_expect_chunk(test, &w, 1, GMT_PG(1), GMT_PG(2));

	gmt_walk_init(&w, ctx);
	w.stop_at = 1;
	w.stop_ret = -EIO;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, GMT_PG(4), true), -EIO);
	KUNIT_EXPECT_EQ(test, w.calls, 1U);

	/* Even -EFAULT and 1 are passed through as they are. */
	gmt_walk_init(&w, ctx);
	w.stop_at = 3;
	w.stop_ret = -EFAULT;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 10, GMT_PG(4) - 20, false), -EFAULT);
	KUNIT_EXPECT_EQ(test, w.calls, 3U);
	gmt_walk_init(&w, ctx);
	w.stop_at = 1;
	w.stop_ret = 1;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(6), 1, false), 1);
	KUNIT_EXPECT_EQ(test, w.calls, 1U);

	/* A stop on the last chunk is still returned. */
	gmt_walk_init(&w, ctx);
	w.stop_at = 2;
	w.stop_ret = 42;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5), GMT_PG(2), false), 42);
	KUNIT_EXPECT_EQ(test, w.calls, 2U);

	/* The next walk starts afresh. */
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, GMT_PG(4), false), 0);
	KUNIT_EXPECT_EQ(test, w.calls, 3U);
}

static void gm_walk_readonly(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_init(&w, ctx);
	w.fill = 0x22;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5), GMT_PG(1), true), -EACCES);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5) + 9, 1, true), -EACCES);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5), GMT_PG(2), true), -EACCES);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(6) - 1, 2, true), -EACCES);
	KUNIT_EXPECT_EQ(test, w.calls, 0U);
	gmt_check_model(test, ctx, "after refused walks");

	/* Reading through it is fine. */
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5), GMT_PG(2), false), 0);
	KUNIT_EXPECT_EQ(test, w.calls, 2U);
	gmt_expect_chunk(test, &w, 0, GMT_PG(5), GMT_PG(1));
	gmt_expect_chunk(test, &w, 1, GMT_PG(6), GMT_PG(1));
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);
}

static void gm_walk_zero_and_overflow(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, 0, false), 0);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(1), 0, true), 0);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(4), 0, true), 0);	/* hole */
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5), 0, true), 0);	/* read-only */
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, U64_MAX, 0, true,
						   gmt_walk_fn, &w), 0);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, U64_MAX, 2, false,
						   gmt_walk_fn, &w), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, GMT_BASE, U64_MAX, false,
						   gmt_walk_fn, &w), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, w.calls, 0U);
}

/* Chunks at the very top of the 64-bit space. */
static void gm_walk_top(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;
	u64 low = GMT_TOP_PAGE - PAGE_SIZE;

	KUNIT_ASSERT_EQ(test, gmt_add(ctx->gm, low, PAGE_SIZE, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(ctx->gm, GMT_TOP_PAGE, PAGE_SIZE, 0), 0);

	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, low + 1, GMT_PG(2) - 1, true,
						   gmt_walk_fn, &w), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 2U);
	KUNIT_EXPECT_EQ(test, w.chunk[0].gpa, low + 1);
	KUNIT_EXPECT_EQ(test, w.chunk[0].len, PAGE_SIZE - 1);
	KUNIT_EXPECT_EQ(test, w.chunk[1].gpa, GMT_TOP_PAGE);
	KUNIT_EXPECT_EQ(test, w.chunk[1].len, PAGE_SIZE);

	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, U64_MAX, 1, false,
						   gmt_walk_fn, &w), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 1U);
	KUNIT_EXPECT_EQ(test, w.chunk[0].gpa, U64_MAX);
	KUNIT_EXPECT_EQ(test, w.chunk[0].len, 1);
	/* The chunk's address is the top region's last byte. */
	*(u8 *)w.chunk[0].kaddr = 0x5e;

	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, low - 1, 2, false,
						   gmt_walk_fn, &w), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, low, U64_MAX, false,
						   gmt_walk_fn, &w), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, w.calls, 0U);
	{
		u8 byte = 0;

		KUNIT_EXPECT_EQ(test, guestmem_read(ctx->gm, U64_MAX, &byte, 1), 0);
		KUNIT_EXPECT_EQ(test, byte, 0x5e);
	}
}

/* Per chunk of a walk: whether the kernel maps it writable. */
struct gmt_ro_walk {
	unsigned int calls;
	int writable[4];
};

/* 1 if the kernel PTE of @addr is writable, 0 if not, -1 if none. */
static int gmt_kernel_writable(unsigned long addr)
{
#ifdef CONFIG_X86
	unsigned int level;
	pte_t *pte = lookup_address(addr, &level);

	if (!pte || !pte_present(*pte))
		return -1;
	return pte_write(*pte);
#else
	return -1;
#endif
}

static int gmt_writable_fn(void *kaddr, u64 gpa, size_t len, void *priv)
{
	struct gmt_ro_walk *w = priv;
	unsigned long first = (unsigned long)kaddr;
	unsigned long last = first + len - 1;
	int wr;

	if (w->calls >= ARRAY_SIZE(w->writable))
		return -E2BIG;
	/* Every page of the chunk as its first. */
	wr = gmt_kernel_writable(first);
	for (first = PAGE_ALIGN(first + 1); first <= last; first += PAGE_SIZE)
		if (gmt_kernel_writable(first) != wr)
			wr = -2;
	w->writable[w->calls++] = wr;
	return 0;
}

/*
 * The kernel's mapping of a READONLY region is read-only, for both
 * backings: every page of a chunk walked for reading has a read-only
 * kernel PTE, while a writable region's chunk is writable.  USER regions
 * pin memory of a user mm attached to the test thread.
 */
static void gm_walk_readonly_mapping(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	struct guestmem_region desc;
	struct gmt_ro_walk w = {};
	unsigned long uaddr;
	u8 *want, *buf;

	if (!IS_ENABLED(CONFIG_X86))
		kunit_skip(test, "kernel PTEs are read with x86's lookup_address()");

	KUNIT_ASSERT_EQ(test, gmt_add(gm, 0, GMT_PG(2), GUESTMEM_REGION_READONLY), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(2), GMT_PG(1), 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_PG(1), GMT_PG(2), false,
						   gmt_writable_fn, &w), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 2U);
	KUNIT_EXPECT_EQ(test, w.writable[0], 0);
	KUNIT_EXPECT_EQ(test, w.writable[1], 1);

	uaddr = kunit_vm_mmap(test, NULL, 0, GMT_PG(3), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, 0);
	if (!uaddr)
		kunit_skip(test, "no user memory for the test thread");
	want = kunit_kzalloc(test, GMT_PG(3), GFP_KERNEL);
	buf = kunit_kzalloc(test, GMT_PG(3), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, want);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	gmt_pattern(want, GMT_PG(3), 77);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)uaddr, want, GMT_PG(3)), 0UL);

	desc = gmt_desc(SZ_1M, GMT_PG(2), GUESTMEM_REGION_READONLY);
	desc.backing = GUESTMEM_BACKING_USER;
	desc.user_addr = uaddr;
	KUNIT_ASSERT_EQ(test, guestmem_add_region(gm, &desc), 0);
	desc = gmt_desc(SZ_1M + GMT_PG(2), GMT_PG(1), 0);
	desc.backing = GUESTMEM_BACKING_USER;
	desc.user_addr = uaddr + GMT_PG(2);
	KUNIT_ASSERT_EQ(test, guestmem_add_region(gm, &desc), 0);
	memset(&w, 0, sizeof(w));
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, SZ_1M + GMT_PG(1), GMT_PG(2),
						   false, gmt_writable_fn, &w), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 2U);
	KUNIT_EXPECT_EQ(test, w.writable[0], 0);
	KUNIT_EXPECT_EQ(test, w.writable[1], 1);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, SZ_1M, buf, GMT_PG(3)), 0);
	gmt_bytes_eq(test, buf, want, GMT_PG(3), "USER regions after the walk");
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, SZ_1M, GMT_PG(2)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, SZ_1M + GMT_PG(2),
						     GMT_PG(1)), 0);
}

/* Removal and the last put from a walk callback. */
struct gmt_walk_misuse {
	struct guestmem *gm;
	int remove_ret;
	int add_ret;
	bool put;
	bool add;
	unsigned int chunks;
	int misuse_seen;
};

static int gmt_misuse_fn(void *kaddr, u64 gpa, size_t len, void *priv)
{
	struct gmt_walk_misuse *m = priv;
	struct guestmem *gm = m->gm;

	m->chunks++;
	if (m->put) {
		m->put = false;
		guestmem_put(gm);
	} else if (m->add) {
		m->add = false;
		m->add_ret = gmt_add(gm, GMT_PG(64), GMT_PG(1), 0);
	} else if (m->chunks == 1) {
		m->remove_ret = guestmem_remove_region(gm, gpa, PAGE_SIZE);
	}
	/* The space is alive as long as the walk is. */
	m->misuse_seen = atomic_read(&gm->walk_misuse);
	return 0;
}

/*
 * A removal from a walk callback would wait for the walk's own read
 * section: it fails with -EDEADLK instead (before issue 14, point 9: a
 * deadlock), and is counted and warned about.  The warning, once per
 * space, is spent beforehand: any WARNING fails the test VM's log check.
 */
static void gm_walk_remove_in_callback(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk_misuse m = { .gm = ctx->gm, .remove_ret = 1 };
	struct guestmem *gm = ctx->gm;
	u8 b;

	gm->walk_misuse_warned = true;
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_A(0), 1, false,
						   gmt_misuse_fn, &m), 0);
	KUNIT_EXPECT_EQ(test, m.remove_ret, -EDEADLK);
	KUNIT_EXPECT_EQ(test, m.misuse_seen, 1);
	/* Nothing was removed; outside a walk the same removal works. */
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_A(0), &b, 1), 0);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_A(0), GMT_PG(1)), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&gm->walk_misuse), 1);
}

/*
 * An add from a walk callback deadlocks against a removal by another task
 * (which holds gm->lock while it waits for the walk's read section): it
 * fails with -EDEADLK, is counted, and the region is not added; outside
 * the walk the same add works.
 */
static void gm_walk_add_in_callback(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk_misuse m = { .gm = ctx->gm, .add = true, .add_ret = 1,
				     .remove_ret = 1 };
	struct guestmem *gm = ctx->gm;
	u8 b;

	gm->walk_misuse_warned = true;
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_A(0), 1, false,
						   gmt_misuse_fn, &m), 0);
	KUNIT_EXPECT_EQ(test, m.add_ret, -EDEADLK);
	KUNIT_EXPECT_EQ(test, m.misuse_seen, 1);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_PG(64), &b, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(64), GMT_PG(1), 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_PG(64), &b, 1), 0);
}

/*
 * The last put from a walk callback would free the space under the walk
 * (before issue 14, point 9: a use-after-free): the walk holds a reference
 * of its own and frees the space as it ends; KASAN and kmemleak check
 * that.  Counted and warned about (the warning spent beforehand, as
 * above); a put that is not the last is no misuse.
 */
static void gm_walk_last_put_in_callback(struct kunit *test)
{
	struct gmt_walk_misuse m = { .put = true };
	struct guestmem *gm = guestmem_create();

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gm);
	m.gm = gm;
	gm->walk_misuse_warned = true;
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 0, GMT_PG(1), 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(1), GMT_PG(1), 0), 0);
	guestmem_get(gm);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, 0, 1, true, gmt_misuse_fn,
						   &m), 0);
	KUNIT_EXPECT_EQ(test, m.misuse_seen, 0);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 1U);

	/* The last, in the first of two chunks: the walk goes on. */
	m = (struct gmt_walk_misuse){ .gm = gm, .put = true };
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, 0, GMT_PG(2), false,
						   gmt_misuse_fn, &m), 0);
	KUNIT_EXPECT_EQ(test, m.chunks, 2U);
	KUNIT_EXPECT_EQ(test, m.misuse_seen, 1);
}

struct gmt_remover {
	struct guestmem *gm;
	u64 gpa;
	u64 size;
	int ret;
	struct completion done;
	bool published;
};

static int gmt_remover_fn(void *data)
{
	struct gmt_remover *rm = data;

	rm->ret = guestmem_remove_region(rm->gm, rm->gpa, rm->size);
	complete(&rm->done);
	return 0;
}

/* Start a removal of the chunk's region, wait until it is unpublished. */
static int gmt_write_stop_fn(void *kaddr, u64 gpa, size_t len, void *priv)
{
	struct gmt_remover *rm = priv;
	u64 gen = READ_ONCE(rm->gm->generation);
	struct task_struct *t;
	unsigned int i;

	t = kthread_run(gmt_remover_fn, rm, "gmt_remover");
	if (IS_ERR(t)) {
		complete(&rm->done);
		return PTR_ERR(t);
	}
	for (i = 0; i < 5000 && READ_ONCE(rm->gm->generation) == gen; i++)
		usleep_range(1000, 2000);
	rm->published = READ_ONCE(rm->gm->generation) != gen &&
			!completion_done(&rm->done);
	memset(kaddr, 0x5a, len);
	return -EIO;
}

/*
 * A write walk whose callback stops it marks the chunk dirty in its read
 * section, in the region the callback wrote.  Here a removal of that
 * region unpublishes it while the callback runs (and then waits for a read
 * section this test holds, so that the region stays to be looked at):
 * before issue 14, point 9, the walker marked the chunk after leaving its
 * read section, by a lookup that found no region any more, and the bit was
 * lost.
 */
static void gm_walk_stop_marks_in_section(struct kunit *test)
{
	struct gmt_remover rm = { .gpa = GMT_PG(4), .size = GMT_PG(2) };
	struct guestmem *gm = gmt_create(test);
	struct gm_region *r;
	struct gm_set *set;
	unsigned int i;
	int idx;

	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(4), GMT_PG(2),
				      GUESTMEM_REGION_DIRTY_LOG), 0);
	rm.gm = gm;
	init_completion(&rm.done);
	idx = srcu_read_lock(&gm->srcu);
	set = srcu_dereference(gm->set, &gm->srcu);
	i = gm_set_search(set, GMT_PG(5));
	r = i < set->count ? set->keys[i].region : NULL;
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_PG(5), 16, true,
						   gmt_write_stop_fn, &rm), -EIO);
	KUNIT_EXPECT_TRUE(test, rm.published);
	if (r) {
		KUNIT_EXPECT_TRUE(test, test_bit(1, r->dirty_bitmap));
		KUNIT_EXPECT_FALSE(test, test_bit(0, r->dirty_bitmap));
	}
	srcu_read_unlock(&gm->srcu, idx);
	wait_for_completion(&rm.done);
	KUNIT_EXPECT_EQ(test, rm.ret, 0);
	KUNIT_EXPECT_NOT_NULL(test, r);
}

static struct kunit_case gm_walk_cases[] = {
	KUNIT_CASE(gm_walk_three),
	KUNIT_CASE(gm_walk_write),
	KUNIT_CASE(gm_walk_hole),
	KUNIT_CASE(gm_walk_stop),
	KUNIT_CASE(gm_walk_readonly),
	KUNIT_CASE(gm_walk_readonly_mapping),
	KUNIT_CASE(gm_walk_zero_and_overflow),
	KUNIT_CASE(gm_walk_top),
	KUNIT_CASE(gm_walk_remove_in_callback),
	KUNIT_CASE(gm_walk_add_in_callback),
	KUNIT_CASE(gm_walk_last_put_in_callback),
	KUNIT_CASE(gm_walk_stop_marks_in_section),
	{}
};

static struct kunit_suite gm_walk_suite = {
	.name = "guestmem_walk",
	.init = gmt_access_init,
	.test_cases = gm_walk_cases,
};

kunit_test_suites(&gm_uapi_suite, &gm_space_suite, &gm_regions_suite,
		  &gm_access_suite, &gm_walk_suite);

MODULE_DESCRIPTION("KUnit tests for guestmem");
MODULE_LICENSE("GPL");
