// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_cache: struct guestmem_cache (module/cache.c) --
 * init and its errors, reads and writes within the cached range, and what
 * becomes of a cache as regions are added and removed, up to a removal
 * racing with readers of the fast paths.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/guestmem.h>
#include "helpers.h"

/*
 * The layout of the cache suite, in pages from GMT_BASE:
 *
 *   0-3    C0  read-write
 *   4-5    C1  read-write (adjacent)
 *   6          hole
 *   7      R   READONLY
 */
static int gmt_cache_init(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);

	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 0, 4, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 4, 2, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 7, 1, GUESTMEM_REGION_READONLY), 0);
	test->priv = gm;
	return 0;
}

/* Read @len bytes at @gpa and compare them with @want. */
static void gmt_expect_guest(struct kunit *test, struct guestmem *gm, u64 gpa,
			     const u8 *want, size_t len, const char *what)
{
	u8 *got = kunit_kmalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, got);
	memset(got, 0xee, len);
	KUNIT_ASSERT_EQ_MSG(test, guestmem_read(gm, gpa, got, len), 0, "%s", what);
	gmt_bytes_eq(test, got, want, len, what);
	kunit_kfree(test, got);
}

/* Caches of ranges inside one region. */
struct gmt_cache_ok_case {
	const char *name;
	u64 off, len;
};

static const struct gmt_cache_ok_case gmt_cache_ok_cases[] = {
	{ "inside C0, across pages", GMT_PG(1) + 5, GMT_PG(2) },
	{ "all of C0", 0, GMT_PG(4) },
	{ "C0's last byte", GMT_PG(4) - 1, 1 },
	{ "all of C1", GMT_PG(4), GMT_PG(2) },
	{ "R", GMT_PG(7), GMT_PG(1) },
};

KUNIT_ARRAY_PARAM_DESC(cache_init_ok, gmt_cache_ok_cases, name);

static void guestmem_test_cache_init_ok(struct kunit *test)
{
	const struct gmt_cache_ok_case *t = test->param_value;
	struct guestmem *gm = test->priv;
	struct guestmem_cache c;

	memset(&c, 0xa5, sizeof(c));
	KUNIT_EXPECT_EQ_MSG(test, guestmem_cache_init(&c, gm, GMT_BASE + t->off,
						      t->len), 0,
			    "cache of %llu bytes at +%#llx", t->len, t->off);
	KUNIT_EXPECT_PTR_EQ(test, c.gm, gm);
	KUNIT_EXPECT_EQ(test, c.gpa, GMT_BASE + t->off);
	KUNIT_EXPECT_EQ(test, c.len, t->len);
	KUNIT_EXPECT_EQ(test, c.generation, guestmem_generation(gm));
}

/* Ranges no cache can be made of. */
struct gmt_cache_bad_case {
	const char *name;
	u64 gpa, len;
	int ret;
};

static const struct gmt_cache_bad_case gmt_cache_bad_cases[] = {
	{ "across C0 and C1", GMT_P(4) - 1, 2, -ENXIO },
	{ "all of C0 and C1", GMT_P(0), GMT_PG(6), -ENXIO },
	{ "hole", GMT_P(6), 1, -ENXIO },
	{ "C1, hole", GMT_P(6) - 1, 2, -ENXIO },
	{ "hole, R", GMT_P(7) - 1, 2, -ENXIO },
	{ "R, beyond", GMT_P(7), GMT_PG(1) + 1, -ENXIO },
	{ "before C0", GMT_P(0) - 1, 2, -ENXIO },
	{ "GPA 0", 0, 1, -ENXIO },
	{ "past 2^64 - 1", U64_MAX, 2, -EOVERFLOW },
	{ "C0 and 2^64 - 1 bytes", GMT_P(0), U64_MAX, -EOVERFLOW },
};

KUNIT_ARRAY_PARAM_DESC(cache_init_errors, gmt_cache_bad_cases, name);

static void guestmem_test_cache_init_errors(struct kunit *test)
{
	const struct gmt_cache_bad_case *t = test->param_value;
	struct guestmem *gm = test->priv;
	struct guestmem_cache c;

	KUNIT_EXPECT_EQ_MSG(test, guestmem_cache_init(&c, gm, t->gpa, t->len),
			    t->ret, "cache of %llu bytes at %#llx",
			    t->len, t->gpa);
}

/* A failed cache gives no access. */
static void guestmem_test_cache_init_failed(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct guestmem_cache c;
	u8 byte = 0xee;

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, GMT_P(6), 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, &byte, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, &byte, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, byte, 0xee);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, U64_MAX, 2), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, &byte, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, &byte, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, byte, 0xee);
}

/*
 * An empty range is a no-op that succeeds (DESIGN.md, every path), in a
 * region or a hole: an empty cache, through which only empty accesses
 * succeed, whatever the space does meanwhile.
 */
static void guestmem_test_cache_empty(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	static const u64 gpas[] = { GMT_P(0), GMT_P(6), U64_MAX };
	struct guestmem_cache c;
	unsigned int i;
	u8 byte = 0xee;

	for (i = 0; i < ARRAY_SIZE(gpas); i++) {
		KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, gpas[i], 0), 0);
		KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, &byte, 0), 0);
		KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, &byte, 0), 0);
		KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, &byte, 1), -EINVAL);
		KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, &byte, 1), -EINVAL);
		KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 1, &byte, 0), -EINVAL);
		KUNIT_EXPECT_EQ(test, byte, 0xee);
	}
	/* Still empty, and still fine, after the space changed. */
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(64), GMT_PG(1), 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, &byte, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, &byte, 1), -EINVAL);
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_PG(64), GMT_PG(1)), 0);
}

/* Reads and writes through the cache are guest memory at the right place. */
static void guestmem_test_cache_rw(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 base = GMT_P(1) + 5, len = GMT_PG(2);
	u8 *data = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *got = kunit_kmalloc(test, len, GFP_KERNEL);
	struct guestmem_cache c;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, data);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, got);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, base, len), 0);

	/* Written through the cache, read by GPA. */
	gmt_pattern(data, len, 1);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, len), 0);
	gmt_expect_guest(test, gm, base, data, len, "a cache write of the whole range");
	gmt_pattern(data, 100, 2);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 4000, data, 100), 0);
	gmt_expect_guest(test, gm, base + 4000, data, 100, "a cache write inside the range");
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, len - 1, data, 1), 0);
	gmt_expect_guest(test, gm, base + len - 1, data, 1, "a cache write of the last byte");

	/* Written by GPA, read through the cache. */
	gmt_pattern(data, len, 3);
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, base, data, len), 0);
	memset(got, 0xee, len);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, got, len), 0);
	gmt_bytes_eq(test, got, data, len, "a cache read of the whole range");
	memset(got, 0xee, len);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 77, got, 3000), 0);
	gmt_bytes_eq(test, got, data + 77, 3000, "a cache read inside the range");
	memset(got, 0xee, len);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, len - 1, got, 1), 0);
	KUNIT_EXPECT_EQ(test, got[0], data[len - 1]);
	/* The bytes around the range were never written. */
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, base - 1, got, 1), 0);
	KUNIT_EXPECT_EQ(test, got[0], 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, base + len, got, 1), 0);
	KUNIT_EXPECT_EQ(test, got[0], 0);
}

/* Accesses outside the cached range are EINVAL and touch nothing. */
static void guestmem_test_cache_range(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 base = GMT_P(2) + 16, len = 64;
	struct guestmem_cache c;
	u8 buf[128], zero[128] = {};

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, base, len), 0);
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, len, buf, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, len + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, len - 1, buf, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, len + 1, buf, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, U64_MAX, buf, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 1, buf, SIZE_MAX), -EINVAL);
	gmt_all_bytes(test, buf, 0xee, sizeof(buf), "buffer of failed cache reads");

	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, len, buf, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, buf, len + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, len - 1, buf, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, U64_MAX, buf, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 1, buf, SIZE_MAX), -EINVAL);
	gmt_expect_guest(test, gm, base - 32, zero, len + 64, "after failed cache writes");

	/* Empty accesses inside the range succeed. */
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, len, buf, 0), 0);
	gmt_all_bytes(test, buf, 0xee, sizeof(buf), "buffer of empty cache reads");
}

/* A region added elsewhere bumps the generation; the cache re-resolves. */
static void guestmem_test_cache_unrelated_change(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 base = GMT_P(1) + 100, gen;
	struct guestmem_cache c;
	u8 data[32], got[32];
	unsigned int i;

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, base, sizeof(data)), 0);
	gmt_pattern(data, sizeof(data), 4);
	KUNIT_ASSERT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), 0);
	gen = c.generation;

	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 32, 1, 0), 0);
	KUNIT_EXPECT_NE(test, guestmem_generation(gm), gen);
	memset(got, 0xee, sizeof(got));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, got, sizeof(got)), 0);
	gmt_bytes_eq(test, got, data, sizeof(got), "a cache read after an unrelated add");
	KUNIT_EXPECT_EQ(test, c.generation, guestmem_generation(gm));

	/* Removing a neighbour, even an adjacent one, changes nothing either. */
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(4), GMT_PG(2)), 0);
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(32), GMT_PG(1)), 0);
	gmt_pattern(data, sizeof(data), 5);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), 0);
	KUNIT_EXPECT_EQ(test, c.generation, guestmem_generation(gm));
	gmt_expect_guest(test, gm, base, data, sizeof(data),
			 "a cache write after removing other regions");

	/* Many changes in a row. */
	for (i = 0; i < 20; i++) {
		KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 40 + i, 1, 0), 0);
		memset(got, 0xee, sizeof(got));
		KUNIT_ASSERT_EQ(test, guestmem_cache_read(&c, 0, got, sizeof(got)), 0);
		if (!gmt_bytes_eq(test, got, data, sizeof(got), "a cache read among adds"))
			break;
	}
}

/* After its region is removed the cache fails, and never reads freed memory. */
static void guestmem_test_cache_removed(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 base = GMT_P(1) + 100;
	struct guestmem_cache c, other;
	u8 data[32], buf[32];

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, base, sizeof(data)), 0);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&other, gm, GMT_P(4), sizeof(data)), 0);
	gmt_pattern(data, sizeof(data), 6);
	KUNIT_ASSERT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), 0);
	KUNIT_ASSERT_EQ(test, guestmem_cache_write(&other, 0, data, sizeof(data)), 0);

	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(0), GMT_PG(4)), 0);
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, sizeof(buf)), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 5, buf, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 31, data, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, sizeof(buf)), -ENXIO);
	gmt_all_bytes(test, buf, 0xee, sizeof(buf), "buffer of failed cache reads");
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, base, buf, 1), -ENXIO);

	/* A cache of another region is unaffected. */
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&other, 0, buf, sizeof(buf)), 0);
	gmt_bytes_eq(test, buf, data, sizeof(buf), "a cache of C1 after removing C0");
}

/*
 * A region added again where the cache points: new memory, new flags.  The
 * cached range straddles the boundary of pages 1 and 2.
 */
static void guestmem_test_cache_readded(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 base = GMT_P(2) - 16;
	struct guestmem_cache c;
	u8 data[32], buf[32], zero[32] = {};

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, base, sizeof(data)), 0);
	gmt_pattern(data, sizeof(data), 7);
	KUNIT_ASSERT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), 0);

	/* The same region again: zeros, then writes land in the new memory. */
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(0), GMT_PG(4)), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 0, 4, 0), 0);
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, sizeof(buf)), 0);
	gmt_bytes_eq(test, buf, zero, sizeof(buf), "a cache read of a re-added region");
	KUNIT_EXPECT_EQ(test, c.generation, guestmem_generation(gm));
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), 0);
	gmt_expect_guest(test, gm, base, data, sizeof(data), "a cache write to a re-added region");

	/* Two regions split at page 2: backed, but no longer inside one region. */
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(0), GMT_PG(4)), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 0, 2, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 2, 2, 0), 0);
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 20, buf, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, 1), -ENXIO);
	gmt_all_bytes(test, buf, 0xee, sizeof(buf), "buffer of failed cache reads");
	gmt_expect_guest(test, gm, base, zero, sizeof(zero), "after failed cache writes");

	/* A read-only region there: reads zeros, writes EACCES. */
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(0), GMT_PG(2)), 0);
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(2), GMT_PG(2)), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 1, 3, GUESTMEM_REGION_READONLY), 0);
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, sizeof(buf)), 0);
	gmt_bytes_eq(test, buf, zero, sizeof(buf), "a cache read of a read-only region");
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), -EACCES);
	gmt_expect_guest(test, gm, base, zero, sizeof(zero), "a read-only region");

	/* And writable again. */
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(1), GMT_PG(3)), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 1, 2, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), 0);
	gmt_expect_guest(test, gm, base, data, sizeof(data), "a writable region again");
}

/* A cache of a read-only region reads; its writes are EACCES. */
static void guestmem_test_cache_readonly(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct guestmem_cache c;
	u8 buf[64], zero[64] = {};

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, GMT_P(7) + 8, sizeof(buf)), 0);
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, sizeof(buf)), 0);
	gmt_bytes_eq(test, buf, zero, sizeof(buf), "a cache read of R");
	memset(buf, 0x5a, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, buf, sizeof(buf)), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 63, buf, 1), -EACCES);
	gmt_expect_guest(test, gm, GMT_P(7), zero, sizeof(zero), "R after cache writes");
}

#define GMT_REMOVALS	50

struct gmt_reader {
	struct guestmem *gm;
	u64 gpa;
	unsigned int id;
	unsigned long reads;	/* reads that returned the right value */
	unsigned long misses;	/* -ENXIO while the region was away */
	unsigned int bad;	/* wrong values and unexpected errors */
	int bad_ret;		/* the last unexpected return value */
	u64 bad_val;		/* the last wrong value */
};

/*
 * Small writes and reads through the fast paths (guestmem_write(),
 * guestmem_read() and the inline cached accessor) racing with removal of
 * their region.  Each reader owns the words at its index modulo
 * GMT_RACERS: a read returns what the reader wrote there, or zero if the
 * region was replaced in between, or -ENXIO.
 */
static int gmt_reader_fn(void *data)
{
	struct gmt_reader *r = data;
	struct guestmem_cache c;
	bool cached = false;
	unsigned long k = 0;
	u64 val, got;
	int ret;

	while (!kthread_should_stop()) {
		u64 off = ((++k % (GMT_PG(2) / 8 / GMT_RACERS)) * GMT_RACERS + r->id) * 8;

		val = (u64)k << 8 | (r->id + 1);
		ret = guestmem_write(r->gm, r->gpa + off, &val, sizeof(val));
		if (!ret) {
			got = 0xeeeeeeeeeeeeeeeeULL;
			if (!cached)
				cached = !guestmem_cache_init(&c, r->gm, r->gpa,
							      GMT_PG(2));
			if (k % 2 && cached)
				ret = guestmem_cache_read(&c, off, &got, sizeof(got));
			else
				ret = guestmem_read(r->gm, r->gpa + off, &got, sizeof(got));
		}
		if (ret == -ENXIO) {
			r->misses++;
			cached = false;
		} else if (ret) {
			r->bad_ret = ret;
			r->bad++;
		} else if (got != val && got != 0) {
			r->bad_val = got;
			r->bad++;
		} else {
			WRITE_ONCE(r->reads, r->reads + 1);
		}
		cond_resched();
	}
	return 0;
}

/*
 * Removal frees a VMALLOC region only after an RCU grace period, so the
 * fast paths (RCU-sched, no wait by the removal) never touch freed memory:
 * readers racing with the removal and re-adding of their region see their
 * own writes, a new zeroed region, or -ENXIO, never freed memory (which
 * KASAN would report).
 */
static void guestmem_test_cache_removal_race(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct gmt_reader readers[GMT_RACERS];
	unsigned long reads = 0, misses = 0;
	struct gmt_threads th;
	unsigned int i, n;
	u64 gpa = GMT_P(16);

	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 16, 2, 0), 0);
	for (i = 0; i < GMT_RACERS; i++)
		readers[i] = (struct gmt_reader){ .gm = gm, .gpa = gpa, .id = i };
	n = gmt_threads_start(test, &th, gmt_reader_fn, readers, sizeof(readers[0]),
			      "gmt_reader");
	/*
	 * Every reader runs, and has read its own write once, before the
	 * first removal.
	 */
	for (i = 0; i < n; i++) {
		unsigned long deadline = jiffies + 30 * HZ;

		while (!READ_ONCE(readers[i].reads) && time_before(jiffies, deadline))
			usleep_range(500, 1000);
		if (!READ_ONCE(readers[i].reads))
			KUNIT_FAIL(test, "reader %u read nothing in 30 s", i);
	}
	for (i = 0; i < GMT_REMOVALS && n == GMT_RACERS; i++) {
		if (guestmem_remove_region(gm, gpa, GMT_PG(2)) ||
		    gmt_add_pages(gm, 16, 2, 0)) {
			KUNIT_FAIL(test, "removal %u: remove or add failed", i);
			break;
		}
		cond_resched();
	}
	gmt_threads_stop(&th);
	for (i = 0; i < n; i++) {
		reads += readers[i].reads;
		misses += readers[i].misses;
		KUNIT_EXPECT_EQ_MSG(test, readers[i].bad, 0U,
				    "reader %u: last error %d, last wrong value %#llx",
				    i, readers[i].bad_ret, readers[i].bad_val);
	}
	KUNIT_ASSERT_EQ(test, n, GMT_RACERS);
	kunit_info(test, "%u removals: %lu good reads, %lu misses", GMT_REMOVALS,
		   reads, misses);
}

static struct kunit_case guestmem_cache_cases[] = {
	KUNIT_CASE_PARAM(guestmem_test_cache_init_ok, cache_init_ok_gen_params),
	KUNIT_CASE_PARAM(guestmem_test_cache_init_errors, cache_init_errors_gen_params),
	KUNIT_CASE(guestmem_test_cache_init_failed),
	KUNIT_CASE(guestmem_test_cache_empty),
	KUNIT_CASE(guestmem_test_cache_rw),
	KUNIT_CASE(guestmem_test_cache_range),
	KUNIT_CASE(guestmem_test_cache_unrelated_change),
	KUNIT_CASE(guestmem_test_cache_removed),
	KUNIT_CASE(guestmem_test_cache_readded),
	KUNIT_CASE(guestmem_test_cache_readonly),
	KUNIT_CASE(guestmem_test_cache_removal_race),
	{}
};

static struct kunit_suite guestmem_cache_suite = {
	.name = "guestmem_cache",
	.init = gmt_cache_init,
	.test_cases = guestmem_cache_cases,
};

kunit_test_suite(guestmem_cache_suite);
