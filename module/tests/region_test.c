// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_region: the region set of a space
 * (guestmem_add_region() and guestmem_remove_region() in module/space.c,
 * module/region.c) -- insertion, adjacency, overlap, validation, removal,
 * the generation, lookups among 10,000 regions, and removal's grace periods.
 */
#include <kunit/test.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/guestmem.h>
#include "helpers.h"

/*
 * Expedited RCU grace periods completed since boot: exported for rcutorture
 * (kernel/rcu/tree.c) but declared only in kernel/rcu/rcu.h.
 */
unsigned long rcu_exp_batches_completed(void);

static void guestmem_test_region_add_remove(struct kunit *test)
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
static void guestmem_test_region_adjacent(struct kunit *test)
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

/*
 * Every way a new region can overlap existing ones is -EEXIST.  The space
 * holds [4, 8) and [12, 13) (in pages), a gap [8, 12) between them.
 */
struct gmt_overlap_case {
	const char *name;
	u64 first, pages;
};

static const struct gmt_overlap_case gmt_overlap_cases[] = {
	{ "identical", 4, 4 },
	{ "strictly inside", 5, 1 },
	{ "inside, same start", 4, 1 },
	{ "inside, same end", 7, 1 },
	{ "covering", 3, 6 },
	{ "covering, same end", 3, 5 },
	{ "covering, same start", 4, 5 },
	{ "over the left edge", 3, 2 },
	{ "over the left edge, from the hole's start", 0, 5 },
	{ "over the right edge", 7, 2 },
	{ "over the right edge up to the next region", 7, 5 },
	{ "over the right edge and into the next region", 7, 6 },
	{ "in the gap, into the next region by one page", 9, 4 },
	{ "gap-filling plus one page", 8, 5 },
	{ "covering both regions", 3, 10 },
	{ "covering both, far past", 2, 100 },
	{ "the next region itself", 12, 1 },
	{ "both regions and the gaps", 0, 13 },
};

KUNIT_ARRAY_PARAM_DESC(region_overlap, gmt_overlap_cases, name);

/* [4, 8) with a tag at byte 16, and [12, 13). */
static struct guestmem *gmt_overlap_space(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);

	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(4), GMT_PG(4), 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(12), GMT_PG(1), 0), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write_le32(gm, GMT_PG(4) + 16, 0x600d600d), 0);
	return gm;
}

/* Nothing was disturbed. */
static void gmt_expect_overlap_space(struct kunit *test, struct guestmem *gm)
{
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 2ULL);
	gmt_expect_region(test, gm, GMT_PG(4), GMT_PG(4), true);
	gmt_expect_region(test, gm, GMT_PG(12), GMT_PG(1), true);
	gmt_expect_byte(test, gm, GMT_PG(4) + 16, 0, 0x0d);
	gmt_expect_byte(test, gm, GMT_PG(10), -ENXIO, 0);
}

static void guestmem_test_region_overlap(struct kunit *test)
{
	const struct gmt_overlap_case *t = test->param_value;
	struct guestmem *gm = gmt_overlap_space(test);

	KUNIT_EXPECT_EQ_MSG(test, gmt_add(gm, GMT_PG(t->first),
					  GMT_PG(t->pages), 0), -EEXIST,
			    "pages [%llu, %llu)", t->first,
			    t->first + t->pages);
	gmt_expect_overlap_space(test, gm);
}

/* Overlap with flags; touching neighbours, also at the top of the space. */
static void guestmem_test_region_overlap_neighbours(struct kunit *test)
{
	struct guestmem *gm = gmt_overlap_space(test);

	/* Also with flags, and at byte granularity of the edges. */
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(7), GMT_PG(1),
				      GUESTMEM_REGION_READONLY), -EEXIST);
	gmt_expect_overlap_space(test, gm);

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

/* A valid descriptor: two pages at page 16. */
#define GMT_OK_GPA	GMT_PG(16)
#define GMT_OK_SIZE	GMT_PG(2)

/* Descriptors refused with @err, and leaving the space empty. */
struct gmt_invalid_case {
	const char *what;
	struct guestmem_region desc;
	int err;
};

static const struct gmt_invalid_case gmt_invalid_cases[] = {
	{ "gpa + 1", { .gpa = GMT_OK_GPA + 1, .size = GMT_OK_SIZE }, -EINVAL },
	{ "gpa + half a page",
	  { .gpa = GMT_OK_GPA + PAGE_SIZE / 2, .size = GMT_OK_SIZE }, -EINVAL },
	{ "gpa 2^64 - 1", { .gpa = U64_MAX, .size = GMT_OK_SIZE }, -EINVAL },
	{ "size 0", { .gpa = GMT_OK_GPA, .size = 0 }, -EINVAL },
	{ "size 1", { .gpa = GMT_OK_GPA, .size = 1 }, -EINVAL },
	{ "size page - 1", { .gpa = GMT_OK_GPA, .size = PAGE_SIZE - 1 }, -EINVAL },
	{ "size page + 1", { .gpa = GMT_OK_GPA, .size = PAGE_SIZE + 1 }, -EINVAL },
	{ "size 2^64 - 1", { .gpa = GMT_OK_GPA, .size = U64_MAX }, -EINVAL },
	{ "flag bit 2",
	  { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .flags = 1U << 2 }, -EINVAL },
	{ "flag bit 31",
	  { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .flags = 1U << 31 }, -EINVAL },
	{ "READONLY and bit 5",
	  { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE,
	    .flags = GUESTMEM_REGION_READONLY | (1U << 5) }, -EINVAL },
	{ "all flags",
	  { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .flags = U32_MAX }, -EINVAL },
	{ "backing 2",
	  { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .backing = 2 }, -EINVAL },
	{ "backing ~0",
	  { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .backing = U32_MAX }, -EINVAL },
	{ "reserved[0]",
	  { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .reserved = { 1, 0 } }, -EINVAL },
	{ "reserved[1]",
	  { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .reserved = { 0, 1ULL << 63 } },
	  -EINVAL },
	{ "VMALLOC with user_addr",
	  { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .user_addr = PAGE_SIZE }, -EINVAL },
	{ "VMALLOC with user_addr 1",
	  { .gpa = GMT_OK_GPA, .size = GMT_OK_SIZE, .user_addr = 1 }, -EINVAL },
	/* Ranges that would pass 2^64. */
	{ "two pages from the top page",
	  { .gpa = GMT_TOP_PAGE, .size = GMT_PG(2) }, -EOVERFLOW },
	{ "three pages from the page below the top",
	  { .gpa = GMT_TOP_PAGE - GMT_PG(1), .size = GMT_PG(3) }, -EOVERFLOW },
	{ "page 2, size 2^64 - one page",
	  { .gpa = GMT_PG(2), .size = U64_MAX & PAGE_MASK }, -EOVERFLOW },
	{ "2^63, size 2^63 + one page",
	  { .gpa = 1ULL << 63, .size = 1ULL << 63 | PAGE_SIZE }, -EOVERFLOW },
	/* Valid, but far more than the machine has: refused, quietly. */
	{ "2^62 bytes", { .gpa = 0, .size = 1ULL << 62 }, -ENOMEM },
	{ "2^40 bytes ending at 2^64",
	  { .gpa = GMT_TOP_PAGE - (1ULL << 40) + PAGE_SIZE, .size = 1ULL << 40 },
	  -ENOMEM },
};

KUNIT_ARRAY_PARAM_DESC(region_invalid, gmt_invalid_cases, what);

static void guestmem_test_region_invalid(struct kunit *test)
{
	const struct gmt_invalid_case *t = test->param_value;
	struct guestmem *gm = gmt_create(test);

	KUNIT_EXPECT_EQ_MSG(test, guestmem_add_region(gm, &t->desc), t->err,
			    "%s", t->what);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 0ULL);
	gmt_expect_byte(test, gm, GMT_OK_GPA, -ENXIO, 0);
	gmt_expect_byte(test, gm, U64_MAX, -ENXIO, 0);
}

/* The valid descriptor is fine, and so is one ending at 2^64. */
static void guestmem_test_region_valid_edges(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	struct guestmem_region desc;

	desc = gmt_desc(GMT_OK_GPA, GMT_OK_SIZE, 0);
	KUNIT_EXPECT_EQ(test, guestmem_add_region(gm, &desc), 0);
	desc = gmt_desc(GMT_TOP_PAGE - GMT_PG(1), GMT_PG(2), 0);
	KUNIT_EXPECT_EQ(test, guestmem_add_region(gm, &desc), 0);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 2ULL);
	gmt_expect_region(test, gm, GMT_TOP_PAGE - GMT_PG(1), GMT_PG(2), true);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_TOP_PAGE - GMT_PG(1),
						     GMT_PG(2)), 0);
	gmt_expect_byte(test, gm, U64_MAX, -ENXIO, 0);
}

/* [4, 8), [8, 10), [12, 13), with tags at the start and end of [8, 10). */
static struct guestmem *gmt_remove_space(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);

	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(4), GMT_PG(4), 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(8), GMT_PG(2), 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(12), GMT_PG(1), 0), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write_be32(gm, GMT_PG(8), 0xa1b2c3d4), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write_be32(gm, GMT_PG(10) - 8, 0x01020304), 0);
	return gm;
}

/*
 * Only [gpa, gpa + size) exactly as added matches (-ENOENT); a range no
 * region can have is refused as such before any lookup.
 */
struct gmt_inexact_case {
	const char *name;
	u64 gpa, size;
	int err;
};

static const struct gmt_inexact_case gmt_inexact_cases[] = {
	{ "a prefix of [4, 8)", GMT_PG(4), GMT_PG(3), -ENOENT },
	{ "[4, 8) and a page of [8, 10)", GMT_PG(4), GMT_PG(5), -ENOENT },
	{ "[4, 8) and [8, 10)", GMT_PG(4), GMT_PG(6), -ENOENT },
	{ "a suffix of [4, 8)", GMT_PG(5), GMT_PG(3), -ENOENT },
	{ "[4, 8) and the page below", GMT_PG(3), GMT_PG(5), -ENOENT },
	{ "size 0 at page 4", GMT_PG(4), 0, -EINVAL },
	{ "[4, 8) shifted by a byte", GMT_PG(4) + 1, GMT_PG(4), -EINVAL },
	{ "[4, 8) and a byte", GMT_PG(4), GMT_PG(4) + 1, -EINVAL },
	{ "the gap [10, 12)", GMT_PG(10), GMT_PG(2), -ENOENT },
	{ "the page above [12, 13)", GMT_PG(13), GMT_PG(1), -ENOENT },
	{ "the top page", U64_MAX & PAGE_MASK, PAGE_SIZE, -ENOENT },
	{ "page 12, size 2^64 - 1", GMT_PG(12), U64_MAX, -EINVAL },
	{ "page 12 up past 2^64", GMT_PG(12), U64_MAX & PAGE_MASK, -EOVERFLOW },
};

KUNIT_ARRAY_PARAM_DESC(region_remove_mismatch, gmt_inexact_cases, name);

static void guestmem_test_region_remove_mismatch(struct kunit *test)
{
	const struct gmt_inexact_case *t = test->param_value;
	struct guestmem *gm = gmt_remove_space(test);

	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, t->gpa, t->size), t->err);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 3ULL);
	gmt_expect_region(test, gm, GMT_PG(4), GMT_PG(6), true);
	gmt_expect_region(test, gm, GMT_PG(12), GMT_PG(1), true);
}

static void guestmem_test_region_remove(struct kunit *test)
{
	struct guestmem *empty = gmt_create(test), *gm;

	KUNIT_EXPECT_EQ(test, guestmem_remove_region(empty, 0, PAGE_SIZE), -ENOENT);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(empty, 0, 0), -EINVAL);

	gm = gmt_remove_space(test);
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
static void guestmem_test_region_generation(struct kunit *test)
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
/* The first GMT_MANY_BATCH adds are single, the others batches of as many. */
#define GMT_MANY_BATCH	1000U

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
 * scrambled order (every insertion position gets exercised): the first
 * GMT_MANY_BATCH one by one, the others GMT_MANY_BATCH to a
 * guestmem_add_regions() call (the same merge into the sorted set, once
 * per call instead of once per region), then looked up at each region's
 * first and last byte and at each hole's first and last byte, forwards
 * and backwards (the last-hit hint must never be trusted blindly).
 */
static void guestmem_test_region_many(struct kunit *test)
{
	const u64 updates = GMT_MANY_BATCH + GMT_MANY / GMT_MANY_BATCH - 1;
	struct guestmem *gm = gmt_create(test);
	struct gmt_fails f = { .test = test };
	ktime_t start = ktime_get();
	struct guestmem_region *batch;
	unsigned int n, i, k;
	u8 pair[2];
	int ret;

	batch = kunit_kmalloc_array(test, GMT_MANY_BATCH, sizeof(*batch),
				    GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, batch);
	for (n = 0; n < GMT_MANY; n++) {
		i = (unsigned int)(((u64)n * GMT_MANY_STEP) % GMT_MANY);
		if (n >= GMT_MANY_BATCH) {
			k = n % GMT_MANY_BATCH;
			batch[k] = gmt_desc(gmt_many_gpa(i), PAGE_SIZE, 0);
			if (k < GMT_MANY_BATCH - 1)
				continue;
			ret = guestmem_add_regions(gm, batch, GMT_MANY_BATCH,
						   NULL);
		} else {
			ret = gmt_add(gm, gmt_many_gpa(i), PAGE_SIZE, 0);
		}
		if (ret) {
			KUNIT_FAIL(test, "adding region %u (the %u-th add): %d", i, n, ret);
			return;
		}
	}
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), updates);
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
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), updates + 1 + 10);
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
 * A USER region added from a context without user memory (a KUnit case
 * runs in a kthread of its own, with no mm): -EFAULT, nothing charged or
 * published.  It used to take a NULL mm and oops in mmgrab().
 */
static void guestmem_test_region_user_without_mm(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	struct guestmem_region desc = gmt_desc(0, GMT_PG(2), 0);

	KUNIT_ASSERT_NULL(test, current->mm);
	desc.backing = GUESTMEM_BACKING_USER;
	desc.user_addr = SZ_1M;
	KUNIT_EXPECT_EQ(test, guestmem_add_region(gm, &desc), -EFAULT);
	KUNIT_EXPECT_EQ(test, guestmem_add_regions(gm, &desc, 1, NULL), -EFAULT);
	KUNIT_EXPECT_EQ(test, guestmem_generation(gm), 0ULL);
	gmt_expect_byte(test, gm, 0, -ENXIO, 0);
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
static void guestmem_test_region_remove_no_expedited_rcu(struct kunit *test)
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

static struct kunit_case guestmem_region_cases[] = {
	KUNIT_CASE(guestmem_test_region_add_remove),
	KUNIT_CASE(guestmem_test_region_adjacent),
	KUNIT_CASE_PARAM(guestmem_test_region_overlap, region_overlap_gen_params),
	KUNIT_CASE(guestmem_test_region_overlap_neighbours),
	KUNIT_CASE_PARAM(guestmem_test_region_invalid, region_invalid_gen_params),
	KUNIT_CASE(guestmem_test_region_valid_edges),
	KUNIT_CASE(guestmem_test_region_remove),
	KUNIT_CASE_PARAM(guestmem_test_region_remove_mismatch,
			 region_remove_mismatch_gen_params),
	KUNIT_CASE(guestmem_test_region_generation),
	KUNIT_CASE_SLOW(guestmem_test_region_many),
	KUNIT_CASE(guestmem_test_region_remove_no_expedited_rcu),
	KUNIT_CASE(guestmem_test_region_user_without_mm),
	{}
};

static struct kunit_suite guestmem_region_suite = {
	.name = "guestmem_region",
	.test_cases = guestmem_region_cases,
};

kunit_test_suite(guestmem_region_suite);
