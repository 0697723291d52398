// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_dirty: the dirty log (module/dirty.c) --
 * guestmem_get_dirty_log() and guestmem_mark_dirty(), and the pages each
 * write path marks: guestmem_write() and the typed accessors, fill, copy,
 * atomics, write walks, caches; reads and failed writes mark nothing.
 */
#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/string.h>
#include <linux/guestmem.h>
#include "helpers.h"

/*
 * The layout of the dirty-log suite, in pages from GMT_BASE:
 *
 *   0-3      D0   DIRTY_LOG
 *   4-7      D1   DIRTY_LOG (adjacent: pages 0-7 are fetched as one range)
 *   8             hole
 *   9-10     N    read-write, no dirty log
 *   11       RD   READONLY | DIRTY_LOG
 *   16-145   BIG  DIRTY_LOG, 130 pages: a bitmap of three words
 */
#define GMT_BIG		16
#define GMT_BIG_PAGES	130

static int gmt_dirty_init(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);

	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 0, 4, GUESTMEM_REGION_DIRTY_LOG), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 4, 4, GUESTMEM_REGION_DIRTY_LOG), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 9, 2, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 11, 1, GUESTMEM_REGION_READONLY |
					    GUESTMEM_REGION_DIRTY_LOG), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, GMT_BIG, GMT_BIG_PAGES,
					    GUESTMEM_REGION_DIRTY_LOG), 0);
	test->priv = gm;
	return 0;
}

/* Pages 0-7 (D0, D1) must be dirty exactly as @want says; then clean. */
static void gmt_expect_dirty(struct kunit *test, struct guestmem *gm,
			     unsigned long want, const char *what)
{
	KUNIT_EXPECT_EQ_MSG(test, gmt_dirty(test, gm, 0, 8), want,
			    "dirty pages of D0+D1 after %s", what);
}

/* A new region is all clean, whatever range of it is fetched. */
static void guestmem_test_dirty_new_clean(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	unsigned long big[4];
	unsigned int i;

	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 0, 8), 0UL);
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 3, 2), 0UL);
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 11, 1), 0UL);
	memset(big, 0xff, sizeof(big));
	KUNIT_ASSERT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG),
						     GMT_PG(GMT_BIG_PAGES), big, false), 0);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ_MSG(test, big[i], 0UL, "word %u of BIG's bitmap", i);
	KUNIT_EXPECT_EQ(test, big[3], ~0UL);
}

struct gmt_dwalk {
	unsigned int calls;
	unsigned int stop_at;	/* 1-based call that returns -EIO */
	bool write;		/* write a byte into each chunk */
	u64 gpa[4];
	size_t len[4];
};

static int gmt_dwalk_fn(void *kaddr, u64 gpa, size_t len, void *priv)
{
	struct gmt_dwalk *w = priv;

	if (w->calls < ARRAY_SIZE(w->gpa)) {
		w->gpa[w->calls] = gpa;
		w->len[w->calls] = len;
	}
	if (w->write)
		*(u8 *)kaddr ^= 0xff;
	else
		(void)READ_ONCE(*(u8 *)kaddr);
	return ++w->calls == w->stop_at ? -EIO : 0;
}

/* Reads through every path never mark a page. */
static void guestmem_test_dirty_reads(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u8 *buf = kunit_kmalloc(test, GMT_PG(8), GFP_KERNEL);
	struct guestmem_cache cache;
	struct gmt_dwalk walk = {};
	struct {
		u64 a, b, c;
	} obj;
	unsigned int s;
	u16 v16;
	u32 v32;
	u64 v64;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	gmt_pattern(buf, GMT_PG(8), 2);
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(0), buf, GMT_PG(8)), 0);
	gmt_expect_dirty(test, gm, 0xff, "writing all of D0+D1");

	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_P(0), buf, GMT_PG(8)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_obj(gm, GMT_P(4) - 12, &obj), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_le16(gm, GMT_P(1) - 1, &v16), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_le32(gm, GMT_P(2) - 2, &v32), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_le64(gm, GMT_P(4) - 3, &v64), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_be16(gm, GMT_P(5) - 1, &v16), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_be32(gm, GMT_P(6) - 2, &v32), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_be64(gm, GMT_P(8) - 8, &v64), 0);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(2) + 1, GMT_PG(4), false,
						   gmt_dwalk_fn, &walk), 0);
	KUNIT_EXPECT_EQ(test, walk.calls, 2U);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&cache, gm, GMT_P(5) + 9, GMT_PG(2)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&cache, 0, buf, GMT_PG(2)), 0);
	for (s = 0; s < ARRAY_SIZE(gmt_sizes); s++) {
		v64 = U64_MAX;
		KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(s) + 64, gmt_sizes[s],
						      GUESTMEM_ATOMIC_LOAD, &v64, 0), 0);
	}
	/* A copy reads its source: only the destination, here N, is written. */
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(9), GMT_P(3) + 5, GMT_PG(2)), 0);
	/* Fetching without clearing is a read too. */
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(8),
						     (unsigned long *)buf, false), 0);
	gmt_expect_dirty(test, gm, 0, "reads");
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 11, 1), 0UL);
}

/* Writes that fail, at any step, mark nothing. */
static void guestmem_test_dirty_failed_writes(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct guestmem_cache cache;
	struct gmt_dwalk walk = { .write = true };
	u8 buf[16] = {};
	u64 v;

	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(8) - 1, buf, 2), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(0) - 1, buf, 2), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(11) - 1, buf, 2), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(11), buf, 1), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_write_le32(gm, GMT_P(8) - 2, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write_be64(gm, GMT_P(11) - 4, 1), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, GMT_P(7), 1, GMT_PG(2)), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, GMT_P(11), 1, 1), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(7) + 10, GMT_P(0), GMT_PG(1)), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(0), GMT_P(8), 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(11), GMT_P(0), 1), -EACCES);
	v = 1;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(1) + 1, 2, GUESTMEM_ATOMIC_STORE,
					      &v, 0), -EINVAL);
	v = 0x100;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(1), 1, GUESTMEM_ATOMIC_STORE,
					      &v, 0), -EINVAL);
	v = 1;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(11), 4, GUESTMEM_ATOMIC_STORE,
					      &v, 0), -EACCES);
	v = 1;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(2), 4, GUESTMEM_ATOMIC_CMPXCHG,
					      &v, 5), 0);
	KUNIT_EXPECT_EQ(test, v, 0ULL);		/* mismatch: nothing written */
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(6), GMT_PG(3), true,
						   gmt_dwalk_fn, &walk), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(10), GMT_PG(2), true,
						   gmt_dwalk_fn, &walk), -EACCES);
	KUNIT_EXPECT_EQ(test, walk.calls, 0U);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&cache, gm, GMT_P(2), 8), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, 4, buf, 5), -EINVAL);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&cache, gm, GMT_P(11), 8), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, 0, buf, 1), -EACCES);
	/* Empty writes write nothing. */
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(3), buf, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, GMT_P(3), 1, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(3), GMT_P(1), 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(3), 0, true,
						   gmt_dwalk_fn, &walk), 0);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&cache, gm, GMT_P(3), 8), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, 0, buf, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(3), 0), 0);

	gmt_expect_dirty(test, gm, 0, "failed and empty writes");
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 11, 1), 0UL);
}

static void guestmem_test_dirty_write(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u8 *buf = kunit_kzalloc(test, GMT_PG(8), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(2), buf, 1), 0);
	gmt_expect_dirty(test, gm, BIT(2), "a 1-byte write to page 2");
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(8) - 1, buf, 1), 0);
	gmt_expect_dirty(test, gm, BIT(7), "a write to the last byte");
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(1) - 1, buf, 2), 0);
	gmt_expect_dirty(test, gm, BIT(0) | BIT(1), "a write across pages 0-1");
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(3) + 5, buf, GMT_PG(2)), 0);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4) | BIT(5), "a write across D0 and D1");
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(6), buf, GMT_PG(1)), 0);
	gmt_expect_dirty(test, gm, BIT(6), "a write of exactly page 6");
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(0), buf, GMT_PG(8)), 0);
	gmt_expect_dirty(test, gm, 0xff, "a write of D0 and D1");
	/* N has no dirty log. */
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(9), buf, GMT_PG(2)), 0);
	gmt_expect_dirty(test, gm, 0, "a write to N only");
}

static void guestmem_test_dirty_obj_endian(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct {
		u64 a, b, c;
	} obj = { 1, 2, 3 };

	KUNIT_EXPECT_EQ(test, guestmem_write_obj(gm, GMT_P(4) - 12, &obj), 0);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4), "write_obj across D0 and D1");
	KUNIT_EXPECT_EQ(test, guestmem_write_obj(gm, GMT_P(6) + 8, &obj), 0);
	gmt_expect_dirty(test, gm, BIT(6), "write_obj inside page 6");

	KUNIT_EXPECT_EQ(test, guestmem_write_le16(gm, GMT_P(1) - 1, 0x1234), 0);
	gmt_expect_dirty(test, gm, BIT(0) | BIT(1), "write_le16 across pages 0-1");
	KUNIT_EXPECT_EQ(test, guestmem_write_le32(gm, GMT_P(2) - 2, 0x12345678), 0);
	gmt_expect_dirty(test, gm, BIT(1) | BIT(2), "write_le32 across pages 1-2");
	KUNIT_EXPECT_EQ(test, guestmem_write_le64(gm, GMT_P(4) - 4, 1), 0);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4), "write_le64 across D0 and D1");
	KUNIT_EXPECT_EQ(test, guestmem_write_be16(gm, GMT_P(5) - 1, 0x1234), 0);
	gmt_expect_dirty(test, gm, BIT(4) | BIT(5), "write_be16 across pages 4-5");
	KUNIT_EXPECT_EQ(test, guestmem_write_be32(gm, GMT_P(6), 0x12345678), 0);
	gmt_expect_dirty(test, gm, BIT(6), "write_be32 at page 6");
	KUNIT_EXPECT_EQ(test, guestmem_write_be64(gm, GMT_P(8) - 8, 1), 0);
	gmt_expect_dirty(test, gm, BIT(7), "write_be64 at the end of page 7");
}

static void guestmem_test_dirty_fill(struct kunit *test)
{
	struct guestmem *gm = test->priv;

	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, GMT_P(1) + 1, 0xaa, GMT_PG(3)), 0);
	gmt_expect_dirty(test, gm, BIT(1) | BIT(2) | BIT(3) | BIT(4), "fill of pages 1-4");
	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, GMT_P(7) + 100, 0xaa, 1), 0);
	gmt_expect_dirty(test, gm, BIT(7), "fill of a byte in page 7");
	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, GMT_P(0), 0, GMT_PG(8)), 0);
	gmt_expect_dirty(test, gm, 0xff, "fill of D0 and D1");
}

static void guestmem_test_dirty_copy(struct kunit *test)
{
	struct guestmem *gm = test->priv;

	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(6), GMT_P(0), 100), 0);
	gmt_expect_dirty(test, gm, BIT(6), "copy from page 0 to page 6");
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(4) - 10, GMT_P(9), 20), 0);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4), "copy from N across D0 and D1");
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(1), GMT_P(1) + 1, GMT_PG(1)), 0);
	gmt_expect_dirty(test, gm, BIT(1), "overlapping copy down onto page 1");
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(2) + 1, GMT_P(2), GMT_PG(1)), 0);
	gmt_expect_dirty(test, gm, BIT(2) | BIT(3), "overlapping copy up into pages 2-3");
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(3), GMT_P(0), GMT_PG(4)), 0);
	gmt_expect_dirty(test, gm, 0x78, "overlapping copy up into pages 3-6");
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(9), GMT_P(0), GMT_PG(2)), 0);
	gmt_expect_dirty(test, gm, 0, "copy from D0 to N");
}

/* Every op but LOAD and a mismatching CMPXCHG marks the object's page. */
KUNIT_ARRAY_PARAM_DESC(dirty_atomic, gmt_op_cases, name);

static void guestmem_test_dirty_atomic(struct kunit *test)
{
	const struct gmt_op_case *oc = test->param_value;
	unsigned int c = oc - gmt_op_cases;
	struct guestmem *gm = test->priv;
	unsigned int s;

	for (s = 0; s < ARRAY_SIZE(gmt_sizes); s++) {
		struct gmt_op_want w = gmt_op_model(oc, gmt_sizes[s]);
		unsigned int page = (s * ARRAY_SIZE(gmt_op_cases) + c) % 8;
		u64 gpa = GMT_P(page + 1) - 8, v;
		char what[64];

		/* Set up the content the model expects. */
		v = GMT_INIT & gmt_mask(gmt_sizes[s]);
		KUNIT_ASSERT_EQ(test, guestmem_atomic(gm, gpa, gmt_sizes[s],
						      GUESTMEM_ATOMIC_STORE, &v, 0), 0);
		gmt_dirty(test, gm, 0, 8);
		v = w.in;
		KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, gmt_sizes[s], oc->op,
						      &v, w.expected), 0);
		KUNIT_EXPECT_EQ(test, v, w.out);
		snprintf(what, sizeof(what), "%s of size %u in page %u", oc->name,
			 gmt_sizes[s], page);
		gmt_expect_dirty(test, gm, w.dirty ? BIT(page) : 0, what);
	}
}

/* guestmem_walk_chunks() with write=true marks the chunks' pages. */
static void guestmem_test_dirty_walk(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct gmt_dwalk walk = { .write = true };

	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(2) - 1, GMT_PG(1) + 2, true,
						   gmt_dwalk_fn, &walk), 0);
	KUNIT_EXPECT_EQ(test, walk.calls, 1U);
	gmt_expect_dirty(test, gm, BIT(1) | BIT(2) | BIT(3), "a write walk of pages 1-3");

	walk = (struct gmt_dwalk){ .write = true };
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(3) + 1, GMT_PG(2), true,
						   gmt_dwalk_fn, &walk), 0);
	KUNIT_EXPECT_EQ(test, walk.calls, 2U);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4) | BIT(5), "a write walk across D0 and D1");

	/* The walker marks what it hands out for writing, written or not. */
	walk = (struct gmt_dwalk){};
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(7), GMT_PG(1), true,
						   gmt_dwalk_fn, &walk), 0);
	gmt_expect_dirty(test, gm, BIT(7), "a write walk of page 7");

	walk = (struct gmt_dwalk){ .write = true };
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(0), GMT_PG(8), false,
						   gmt_dwalk_fn, &walk), 0);
	KUNIT_EXPECT_EQ(test, walk.calls, 2U);
	/* The caller wrote through a read walk: guestmem_mark_dirty() is its job. */
	gmt_expect_dirty(test, gm, 0, "a read walk");
}

/*
 * A write walk whose callback writes its chunk and then stops the walk:
 * the chunk it wrote must still be in the dirty log (for live migration a
 * lost dirty page is lost data).
 */
static void guestmem_test_dirty_walk_stop(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct gmt_dwalk walk = { .write = true, .stop_at = 1 };
	unsigned long bits;

	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(3), GMT_PG(2), true,
						   gmt_dwalk_fn, &walk), -EIO);
	KUNIT_EXPECT_EQ(test, walk.calls, 1U);
	bits = gmt_dirty(test, gm, 0, 8);
	/* Page 4 was never handed out: whether it is marked is not checked. */
	KUNIT_EXPECT_EQ_MSG(test, bits & ~BIT(4), BIT(3),
			    "dirty pages after a walk that wrote page 3, then returned -EIO");

	walk = (struct gmt_dwalk){ .write = true, .stop_at = 2 };
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(3), GMT_PG(2), true,
						   gmt_dwalk_fn, &walk), -EIO);
	KUNIT_EXPECT_EQ(test, walk.calls, 2U);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4),
			 "a walk that wrote pages 3 and 4, then returned -EIO");
}

static void guestmem_test_dirty_cache(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct guestmem_cache cache;
	u8 buf[64] = {};

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&cache, gm, GMT_P(5) + 100, GMT_PG(2)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, GMT_PG(1) - 100, buf, 1), 0);
	gmt_expect_dirty(test, gm, BIT(6), "a cache write to the first byte of page 6");
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, GMT_PG(1) - 101, buf, 2), 0);
	gmt_expect_dirty(test, gm, BIT(5) | BIT(6), "a cache write across pages 5-6");
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, 0, buf, 1), 0);
	gmt_expect_dirty(test, gm, BIT(5), "a cache write to the first cached byte");
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, GMT_PG(2) - 1, buf, 1), 0);
	gmt_expect_dirty(test, gm, BIT(7), "a cache write to the last cached byte");
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&cache, 0, buf, sizeof(buf)), 0);
	gmt_expect_dirty(test, gm, 0, "a cache read");
}

static void guestmem_test_dirty_mark(struct kunit *test)
{
	struct guestmem *gm = test->priv;

	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(2) + 7, 1), 0);
	gmt_expect_dirty(test, gm, BIT(2), "marking a byte of page 2");
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(3) + 1, GMT_PG(1)), 0);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4), "marking across D0 and D1");
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(0), GMT_PG(8)), 0);
	gmt_expect_dirty(test, gm, 0xff, "marking D0 and D1");
	/* Pages without a dirty log are ignored. */
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(9), GMT_PG(2)), 0);
	gmt_expect_dirty(test, gm, 0, "marking N");
	/* An unbacked byte: ENXIO, with the pages before it marked. */
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(7) + 5, GMT_PG(2)), -ENXIO);
	gmt_expect_dirty(test, gm, BIT(7), "marking page 7 and the hole");
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(8), 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(0) - 1, 2), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, U64_MAX, 2), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(0), U64_MAX), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(8), 0), 0);
	gmt_expect_dirty(test, gm, 0, "failed and empty marks");
}

/* Fetching without clearing keeps the bits; with clearing, only in range. */
static void guestmem_test_dirty_fetch_clear(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	unsigned long bits;
	u8 byte = 1;

	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(1) + 9, &byte, 1), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(5), &byte, 1), 0);
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(8), &bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits, BIT(1) | BIT(5));
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(8), &bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits, BIT(1) | BIT(5));
	/* Bit 0 is the first page fetched. */
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(1), GMT_PG(5), &bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits, BIT(0) | BIT(4));
	/* Fetch and clear D1 alone: D0's page 1 stays dirty. */
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(4), GMT_PG(4), &bits, true), 0);
	KUNIT_EXPECT_EQ(test, bits, BIT(1));
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(8), &bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits, BIT(1));
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(1), GMT_PG(1), &bits, true), 0);
	KUNIT_EXPECT_EQ(test, bits, BIT(0));
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(8), &bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits, 0UL);
	/* After a clear, writes are tracked again. */
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(5), &byte, 1), 0);
	gmt_expect_dirty(test, gm, BIT(5), "a write after a clear");
	gmt_expect_dirty(test, gm, 0, "nothing since");
}

/* Bit i of __u64 word i / 64, LSB first; nothing written past the last word. */
static void guestmem_test_dirty_layout(struct kunit *test)
{
	static const unsigned int dirty[] = { 0, 1, 63, 64, 65, 127, 128, 129 };
	struct guestmem *gm = test->priv;
	unsigned long bits[4];
	unsigned int i;
	u8 byte = 1;

	for (i = 0; i < ARRAY_SIZE(dirty); i++)
		KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(GMT_BIG + dirty[i]) + i * 8,
						     &byte, 1), 0);

	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG), GMT_PG(GMT_BIG_PAGES),
						     bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(0) | BIT(1) | BIT(63));
	KUNIT_EXPECT_EQ(test, bits[1], BIT(0) | BIT(1) | BIT(63));
	KUNIT_EXPECT_EQ(test, bits[2], BIT(0) | BIT(1));
	KUNIT_EXPECT_EQ(test, bits[3], ~0UL);

	/* From page 1: 129 bits, every page one bit lower. */
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG + 1),
						     GMT_PG(GMT_BIG_PAGES - 1), bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(0) | BIT(62) | BIT(63));
	KUNIT_EXPECT_EQ(test, bits[1], BIT(0) | BIT(62) | BIT(63));
	KUNIT_EXPECT_EQ(test, bits[2], BIT(0));
	KUNIT_EXPECT_EQ(test, bits[3], ~0UL);

	/* Exactly one word, and bits past the range are zero though dirty. */
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG + 64), GMT_PG(64),
						     bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(0) | BIT(1) | BIT(63));
	KUNIT_EXPECT_EQ(test, bits[1], ~0UL);
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG + 62), GMT_PG(3),
						     bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(1) | BIT(2));
	KUNIT_EXPECT_EQ(test, bits[1], ~0UL);
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG + 129), GMT_PG(1),
						     bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(0));
	KUNIT_EXPECT_EQ(test, bits[1], ~0UL);

	/* Clear a middle stretch only, then check all three words again. */
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG + 63), GMT_PG(2),
						     bits, true), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(0) | BIT(1));
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG), GMT_PG(GMT_BIG_PAGES),
						     bits, true), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(0) | BIT(1));
	KUNIT_EXPECT_EQ(test, bits[1], BIT(1) | BIT(63));
	KUNIT_EXPECT_EQ(test, bits[2], BIT(0) | BIT(1));
	KUNIT_EXPECT_EQ(test, bits[3], ~0UL);
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG), GMT_PG(GMT_BIG_PAGES),
						     bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0] | bits[1] | bits[2], 0UL);
}

static void guestmem_test_dirty_errors(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	unsigned long bits[2];
	u8 byte = 1;

	/* Leave a dirty page: no failing fetch may clear it. */
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(7), &byte, 1), 0);

	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0) + 1, GMT_PG(1), bits, true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0) + PAGE_SIZE / 2, GMT_PG(1),
						     bits, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(1) + 1, bits, true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), 1, bits, true), -EINVAL);
	/* A page without a dirty log in the range. */
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(9), GMT_PG(1), bits, true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(10), GMT_PG(2), bits, true),
			-EINVAL);
	/* An unbacked page in the range. */
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(7), GMT_PG(2), bits, true),
			-ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(9), bits, true),
			-ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(8), GMT_PG(1), bits, true),
			-ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0) - PAGE_SIZE, GMT_PG(2),
						     bits, true), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, 0, GMT_PG(1), bits, true), -ENXIO);
	/* Past 2^64 - 1. */
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_TOP_PAGE, GMT_PG(2), bits, true),
			-EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_TOP_PAGE, bits, true),
			-EOVERFLOW);
	/* An empty range succeeds and writes no word. */
	bits[0] = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), 0, bits, true), 0);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(8), 0, bits, true), 0);
	KUNIT_EXPECT_EQ(test, bits[0], ~0UL);

	gmt_expect_dirty(test, gm, BIT(7), "failed fetches");
}

static struct kunit_case guestmem_dirty_cases[] = {
	KUNIT_CASE(guestmem_test_dirty_new_clean),
	KUNIT_CASE(guestmem_test_dirty_reads),
	KUNIT_CASE(guestmem_test_dirty_failed_writes),
	KUNIT_CASE(guestmem_test_dirty_write),
	KUNIT_CASE(guestmem_test_dirty_obj_endian),
	KUNIT_CASE(guestmem_test_dirty_fill),
	KUNIT_CASE(guestmem_test_dirty_copy),
	KUNIT_CASE_PARAM(guestmem_test_dirty_atomic, dirty_atomic_gen_params),
	KUNIT_CASE(guestmem_test_dirty_walk),
	KUNIT_CASE(guestmem_test_dirty_walk_stop),
	KUNIT_CASE(guestmem_test_dirty_cache),
	KUNIT_CASE(guestmem_test_dirty_mark),
	KUNIT_CASE(guestmem_test_dirty_fetch_clear),
	KUNIT_CASE(guestmem_test_dirty_layout),
	KUNIT_CASE(guestmem_test_dirty_errors),
	{}
};

static struct kunit_suite guestmem_dirty_suite = {
	.name = "guestmem_dirty",
	.init = gmt_dirty_init,
	.test_cases = guestmem_dirty_cases,
};

kunit_test_suite(guestmem_dirty_suite);
