// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_space: a space as a whole (module/space.c) -- an
 * empty space, range arithmetic up to 2^64, references, and the space
 * behind a /dev/guestmem file, read-write and read-only.
 */
#include <kunit/test.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/guestmem.h>
#include "../internal.h"	/* struct guestmem: its reference count */
#include "helpers.h"

/* A chunk callback that must never run. */
static int gmt_chunk_never(void *kaddr, u64 gpa, size_t len, void *priv)
{
	unsigned int *calls = priv;

	(*calls)++;
	return 0;
}

static void guestmem_test_space_empty(struct kunit *test)
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
static void guestmem_test_space_overflow(struct kunit *test)
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

static void guestmem_test_space_refcount(struct kunit *test)
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
static void guestmem_test_space_independent(struct kunit *test)
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
static void guestmem_test_space_get_file(struct kunit *test)
{
	struct guestmem *gm, *again;
	struct file *file, *other;
	u8 *buf, *want;
	loff_t pos;

	KUNIT_EXPECT_PTR_EQ(test, guestmem_get_file(NULL), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, guestmem_get_fd(-1), ERR_PTR(-EBADF));

	file = gmt_open_dev(test, O_RDWR);

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
static void guestmem_test_space_get_file_rdonly(struct kunit *test)
{
	struct guestmem *ro, *gm, *again;
	struct guestmem_region desc = gmt_desc(SZ_1M, 2 * PAGE_SIZE, 0);
	struct guestmem_cache c;
	unsigned long bitmap[1];
	unsigned int calls = 0;
	struct file *file;
	u64 val = 5;
	u8 buf[8];

	file = gmt_open_dev(test, O_RDONLY);
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

static struct kunit_case guestmem_space_cases[] = {
	KUNIT_CASE(guestmem_test_space_empty),
	KUNIT_CASE(guestmem_test_space_overflow),
	KUNIT_CASE(guestmem_test_space_refcount),
	KUNIT_CASE(guestmem_test_space_independent),
	KUNIT_CASE(guestmem_test_space_get_file),
	KUNIT_CASE(guestmem_test_space_get_file_rdonly),
	{}
};

static struct kunit_suite guestmem_space_suite = {
	.name = "guestmem_space",
	.test_cases = guestmem_space_cases,
};

kunit_test_suite(guestmem_space_suite);
