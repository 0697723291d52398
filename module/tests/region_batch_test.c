// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_region_batch: guestmem_add_regions() and
 * guestmem_remove_regions() (module/space.c) -- all or nothing, entries
 * checked in order against the space and the entries before them, the
 * failing entry's index, one generation per call.
 */
#include <kunit/test.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/guestmem.h>
#include "helpers.h"

/* Five regions, given out of GPA order: pages 8, 0, 4, 12 (two), 2. */
static void gmt_batch_five(struct guestmem_region *r)
{
	r[0] = gmt_desc(GMT_PG(8), GMT_PG(2), 0);
	r[1] = gmt_desc(GMT_PG(0), GMT_PG(1), 0);
	r[2] = gmt_desc(GMT_PG(4), GMT_PG(2), GUESTMEM_REGION_DIRTY_LOG);
	r[3] = gmt_desc(GMT_PG(12), GMT_PG(2), 0);
	r[4] = gmt_desc(GMT_PG(2), GMT_PG(1), GUESTMEM_REGION_READONLY);
}

static void guestmem_test_region_batch_add(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	struct guestmem_region r[5];
	unsigned int index = 99, i;

	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(20), GMT_PG(1), 0), 0);
	gmt_batch_five(r);
	KUNIT_EXPECT_EQ(test, guestmem_add_regions(gm, r, 5, &index), 0);
	KUNIT_EXPECT_EQ(test, index, 5U);
	/* One publication for the whole call. */
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 2ULL);
	for (i = 0; i < 5; i++)
		gmt_expect_region(test, gm, r[i].gpa, r[i].size, true);
	gmt_expect_region(test, gm, GMT_PG(20), GMT_PG(1), true);
	KUNIT_EXPECT_EQ(test, guestmem_write_le32(gm, GMT_PG(2), 1), -EACCES);

	/* Zero entries: nothing happens, the generation stays. */
	KUNIT_EXPECT_EQ(test, guestmem_add_regions(gm, r, 0, &index), 0);
	KUNIT_EXPECT_EQ(test, index, 0U);
	KUNIT_EXPECT_EQ(test, guestmem_remove_regions(gm, r, 0, &index), 0);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 2ULL);
}

/*
 * A batch whose entry @bad fails, how (@err), and how entry @bad is broken;
 * the entries around it are gmt_batch_five()'s.
 */
struct gmt_batch_case {
	const char *name;
	unsigned int bad;
	int err;
	u64 gpa, size;		/* entry @bad's range, unless 0 */
	u32 flags, backing;
	u64 reserved1;
};

static const struct gmt_batch_case batch_add_cases[] = {
	{ "misaligned size", 3, -EINVAL, GMT_PG(12), 100 },
	{ "unknown flag", 1, -EINVAL, .flags = 0x100 },
	{ "unknown backing", 4, -EINVAL, .backing = 9 },
	{ "reserved field", 0, -EINVAL, .reserved1 = 1 },
	{ "wrapping range", 2, -EOVERFLOW, U64_MAX - GMT_PG(1) + 1, GMT_PG(2) },
	{ "over the space's region", 3, -EEXIST, GMT_PG(19), GMT_PG(2) },
	{ "over an earlier entry", 3, -EEXIST, GMT_PG(9), GMT_PG(1) },
	{ "around an earlier entry", 4, -EEXIST, GMT_PG(3), GMT_PG(4) },
	{ "the same as an earlier entry", 1, -EEXIST, GMT_PG(8), GMT_PG(2) },
};

static void batch_add_desc(const struct gmt_batch_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(batch_add, batch_add_cases, batch_add_desc);

static void gmt_batch_break(struct guestmem_region *r,
			    const struct gmt_batch_case *c)
{
	struct guestmem_region *e = &r[c->bad];

	if (c->size) {
		e->gpa = c->gpa;
		e->size = c->size;
	}
	e->flags |= c->flags;
	if (c->backing)
		e->backing = c->backing;
	e->reserved[1] = c->reserved1;
}

/* A failing add batch changes nothing, and names its first bad entry. */
static void guestmem_test_region_batch_add_fails(struct kunit *test)
{
	const struct gmt_batch_case *c = test->param_value;
	struct guestmem *gm = gmt_create(test);
	struct guestmem_region r[5];
	unsigned int index = 99, i;

	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(20), GMT_PG(1), 0), 0);
	gmt_batch_five(r);
	gmt_batch_break(r, c);
	KUNIT_EXPECT_EQ(test, guestmem_add_regions(gm, r, 5, &index), c->err);
	KUNIT_EXPECT_EQ(test, index, c->bad);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 1ULL);
	for (i = 0; i < 5; i++)
		if (i != c->bad)
			gmt_expect_byte(test, gm, r[i].gpa, -ENXIO, 0);
	gmt_expect_region(test, gm, GMT_PG(20), GMT_PG(1), true);

	/* The entries before the bad one alone go in, in one update. */
	KUNIT_EXPECT_EQ(test, guestmem_add_regions(gm, r, c->bad, &index), 0);
	KUNIT_EXPECT_EQ(test, index, c->bad);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), c->bad ? 2ULL : 1ULL);
}

static void guestmem_test_region_batch_remove(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	struct guestmem_region r[5], rm[4];
	unsigned int index = 99;

	gmt_batch_five(r);
	KUNIT_ASSERT_EQ(test, guestmem_add_regions(gm, r, 5, NULL), 0);
	rm[0] = r[3];
	rm[1] = r[1];
	rm[2] = r[4];
	/* Matched on GPA and size alone. */
	rm[2].flags = 0;
	rm[2].backing = 7;

	/* A region named twice. */
	rm[3] = r[1];
	KUNIT_EXPECT_EQ(test, guestmem_remove_regions(gm, rm, 4, &index), -ENOENT);
	KUNIT_EXPECT_EQ(test, index, 3U);
	/* Not a region's exact range. */
	rm[3] = gmt_desc(GMT_PG(8), GMT_PG(1), 0);
	KUNIT_EXPECT_EQ(test, guestmem_remove_regions(gm, rm, 4, &index), -ENOENT);
	KUNIT_EXPECT_EQ(test, index, 3U);
	/* A reserved field. */
	rm[1].reserved[0] = 1;
	KUNIT_EXPECT_EQ(test, guestmem_remove_regions(gm, rm, 3, &index), -EINVAL);
	KUNIT_EXPECT_EQ(test, index, 1U);
	rm[1].reserved[0] = 0;
	/* Ranges no region can have: refused before the lookup. */
	rm[2].gpa += 1;
	KUNIT_EXPECT_EQ(test, guestmem_remove_regions(gm, rm, 3, &index), -EINVAL);
	KUNIT_EXPECT_EQ(test, index, 2U);
	rm[2].gpa -= 1;
	rm[3] = gmt_desc(U64_MAX & PAGE_MASK, GMT_PG(2), 0);
	KUNIT_EXPECT_EQ(test, guestmem_remove_regions(gm, rm, 4, &index), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, index, 3U);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 1ULL);
	gmt_expect_region(test, gm, r[1].gpa, r[1].size, true);

	KUNIT_EXPECT_EQ(test, guestmem_remove_regions(gm, rm, 3, &index), 0);
	KUNIT_EXPECT_EQ(test, index, 3U);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 2ULL);
	gmt_expect_byte(test, gm, r[3].gpa, -ENXIO, 0);
	gmt_expect_byte(test, gm, r[1].gpa, -ENXIO, 0);
	gmt_expect_byte(test, gm, r[4].gpa, -ENXIO, 0);
	gmt_expect_region(test, gm, r[0].gpa, r[0].size, true);
	gmt_expect_region(test, gm, r[2].gpa, r[2].size, true);
	/* Gone means gone: a second removal finds nothing. */
	KUNIT_EXPECT_EQ(test, guestmem_remove_regions(gm, rm, 1, &index), -ENOENT);
	KUNIT_EXPECT_EQ(test, index, 0U);
}

/* Errors of the call as a whole report @count as the index. */
static void guestmem_test_region_batch_call_errors(struct kunit *test)
{
	struct file *file = gmt_open_dev(test, O_RDONLY);
	struct guestmem *gm = gmt_create(test), *ro;
	struct guestmem_region r[5];
	unsigned int index = 99;

	gmt_batch_five(r);
	KUNIT_EXPECT_EQ(test, guestmem_add_regions(gm, r,
						   GUESTMEM_REGION_BATCH_MAX + 1U,
						   &index), -E2BIG);
	KUNIT_EXPECT_EQ(test, index, GUESTMEM_REGION_BATCH_MAX + 1U);
	KUNIT_EXPECT_EQ(test, guestmem_remove_regions(gm, r,
						      GUESTMEM_REGION_BATCH_MAX + 1U,
						      &index), -E2BIG);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 0ULL);

	ro = guestmem_get_file(file);
	KUNIT_ASSERT_FALSE(test, IS_ERR(ro));
	KUNIT_EXPECT_EQ(test, guestmem_add_regions(ro, r, 5, &index), -EBADF);
	KUNIT_EXPECT_EQ(test, index, 5U);
	KUNIT_EXPECT_EQ(test, guestmem_remove_regions(ro, r, 2, &index), -EBADF);
	KUNIT_EXPECT_EQ(test, index, 2U);
	guestmem_put(ro);
}

static struct kunit_case guestmem_region_batch_cases[] = {
	KUNIT_CASE(guestmem_test_region_batch_add),
	KUNIT_CASE_PARAM(guestmem_test_region_batch_add_fails,
			 batch_add_gen_params),
	KUNIT_CASE(guestmem_test_region_batch_remove),
	KUNIT_CASE(guestmem_test_region_batch_call_errors),
	{}
};

static struct kunit_suite guestmem_region_batch_suite = {
	.name = "guestmem_region_batch",
	.test_cases = guestmem_region_batch_cases,
};

kunit_test_suite(guestmem_region_batch_suite);
