// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_copy: guestmem_copy() (module/access.c) -- memmove()
 * semantics within and across regions, overlaps in both directions, exact
 * failures, read-only sources, every backed byte checked against the model
 * after each copy.
 *
 * Each test starts on the fill/copy layout of helpers.c, in pages from
 * GMT_BASE: A (0), B (1-2), C (3), a hole (4), R READONLY (5), D (6),
 * S READONLY (7), with a pattern in A-C and D.
 */
#include <kunit/test.h>
#include <linux/string.h>
#include <linux/guestmem.h>
#include "helpers.h"

/* guestmem_copy() between page offsets of the layout; expect @want. */
static void gmt_copy(struct kunit *test, struct gmt_ctx *ctx, u64 dst, u64 src,
		     u64 len, int want)
{
	char what[96];
	int ret;

	snprintf(what, sizeof(what), "copy of %llu bytes from +%#llx to +%#llx",
		 len, src, dst);
	ret = guestmem_copy(ctx->gm, GMT_BASE + dst, GMT_BASE + src, len);
	KUNIT_EXPECT_EQ_MSG(test, ret, want, "%s", what);
	if (!ret && !want)
		memmove(ctx->model + dst, ctx->model + src, len);
	gmt_check_model(test, ctx, what);
}

/* Disjoint ranges, inside one region and between regions. */
static void guestmem_test_copy_disjoint(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_copy(test, ctx, GMT_PG(1) + 10, GMT_PG(2) + 100, 500, 0);	/* in B */
	gmt_copy(test, ctx, GMT_PG(2) + 100, GMT_PG(1) + 10, 500, 0);
	gmt_copy(test, ctx, GMT_PG(6) + 10, GMT_PG(1) - 20, 40, 0);	/* A+B to D */
	gmt_copy(test, ctx, GMT_PG(3) - 30, GMT_PG(6) + 1, 100, 0);	/* D to B+C */
	gmt_copy(test, ctx, GMT_PG(6), 0, GMT_PG(1), 0);		/* A to D */
	gmt_copy(test, ctx, 0, GMT_PG(3), GMT_PG(1), 0);		/* C to A */
	gmt_copy(test, ctx, GMT_PG(2), GMT_PG(6), GMT_PG(1), 0);		/* D to B */
}

static void gmt_shift_desc(const u64 *shift, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "shift %llu", *shift);
}

/*
 * Copy @len bytes @shift bytes down to @at, then, on a new pattern, from
 * @at @shift bytes up.
 */
static void gmt_copy_both_ways(struct kunit *test, struct gmt_ctx *ctx, u64 at,
			       u64 shift, u64 len, unsigned int seed)
{
	gmt_repattern(test, ctx, seed);
	gmt_copy(test, ctx, at, at + shift, len, 0);	/* down */
	gmt_repattern(test, ctx, seed + 20);
	gmt_copy(test, ctx, at + shift, at, len, 0);	/* up */
}

/* Overlapping ranges inside one region, both directions. */
static const u64 gmt_region_shifts[] = {
	1, 3, 8, 255, GMT_PG(1) - 1, GMT_PG(1), GMT_PG(1) + 1
};

KUNIT_ARRAY_PARAM(copy_overlap_region, gmt_region_shifts, gmt_shift_desc);

static void guestmem_test_copy_overlap_region(struct kunit *test)
{
	const u64 *shift = test->param_value;

	gmt_copy_both_ways(test, test->priv, GMT_PG(1) + 2, *shift,
			   GMT_PG(2) - *shift - 6, 10 + (shift - gmt_region_shifts));
}

/* Onto itself: nothing changes. */
static void guestmem_test_copy_onto_itself(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_copy(test, ctx, GMT_PG(1) + 5, GMT_PG(1) + 5, 1000, 0);
	gmt_copy(test, ctx, 0, 0, GMT_PG(4), 0);
}

/*
 * Overlapping ranges that both span A, B and C, both directions: the
 * pieces of the source and of the destination end at different places.
 */
static const u64 gmt_three_shifts[] = {
	1, 7, GMT_PG(1) - 1, GMT_PG(1), GMT_PG(1) + 1, GMT_PG(2) - 3, GMT_PG(2) + 3
};

KUNIT_ARRAY_PARAM(copy_overlap_three, gmt_three_shifts, gmt_shift_desc);

static void guestmem_test_copy_overlap_three(struct kunit *test)
{
	const u64 *shift = test->param_value;

	gmt_copy_both_ways(test, test->priv, 1, *shift, GMT_PG(4) - *shift - 2,
			   50 + (shift - gmt_three_shifts));
}

/* The whole of A-C moved by one byte each way. */
static void guestmem_test_copy_shift_all(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_repattern(test, ctx, 90);
	gmt_copy(test, ctx, 0, 1, GMT_PG(4) - 1, 0);
	gmt_repattern(test, ctx, 91);
	gmt_copy(test, ctx, 1, 0, GMT_PG(4) - 1, 0);
}

/* Exact: any failure leaves guest memory untouched. */
static void guestmem_test_copy_failures(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	/* Unbacked source or destination bytes. */
	gmt_copy(test, ctx, 0, GMT_PG(4) - 1, 2, -ENXIO);
	gmt_copy(test, ctx, 0, GMT_PG(4), 1, -ENXIO);
	gmt_copy(test, ctx, GMT_PG(1), GMT_PG(3), GMT_PG(1) + 1, -ENXIO);
	gmt_copy(test, ctx, GMT_PG(4) - 1, 0, 2, -ENXIO);
	gmt_copy(test, ctx, GMT_PG(3), 0, GMT_PG(2), -ENXIO);
	gmt_copy(test, ctx, 1, 0, GMT_PG(4) + 1, -ENXIO);	/* overlapping */
	gmt_copy(test, ctx, 0, 1, GMT_PG(4) + 1, -ENXIO);
	gmt_copy(test, ctx, 0, -GMT_PG(1), GMT_PG(1), -ENXIO);

	/* Read-only destination bytes. */
	gmt_copy(test, ctx, GMT_PG(5), 0, 1, -EACCES);
	gmt_copy(test, ctx, GMT_PG(5), GMT_PG(1), GMT_PG(1), -EACCES);
	gmt_copy(test, ctx, GMT_PG(7) - 1, 0, 2, -EACCES);		/* D, S */
	gmt_copy(test, ctx, GMT_PG(6), GMT_PG(1), GMT_PG(2), -EACCES);
	gmt_copy(test, ctx, GMT_PG(5), GMT_PG(5), 8, -EACCES);		/* onto itself */
	gmt_copy(test, ctx, GMT_PG(5) + 1, GMT_PG(5), GMT_PG(2), -EACCES);

	/* Ranges past 2^64 - 1. */
	KUNIT_EXPECT_EQ(test, guestmem_copy(ctx->gm, U64_MAX, GMT_P(0), 2), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_copy(ctx->gm, GMT_P(0), U64_MAX, 2), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_copy(ctx->gm, GMT_P(0), GMT_P(1), U64_MAX),
			-EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_copy(ctx->gm, GMT_TOP_PAGE, GMT_P(0), PAGE_SIZE + 1),
			-EOVERFLOW);
	gmt_check_model(test, ctx, "after overflowing copies");
}

/* A read-only source is fine, into one region or across several. */
static void guestmem_test_copy_readonly_source(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_copy(test, ctx, GMT_PG(3), GMT_PG(5), GMT_PG(1), 0);	/* R to C */
	gmt_repattern(test, ctx, 3);
	gmt_copy(test, ctx, 100, GMT_PG(5) + 50, GMT_PG(2), 0);	/* R+D to A+B */
	gmt_repattern(test, ctx, 4);
	gmt_copy(test, ctx, 0, GMT_PG(5), GMT_PG(3), 0);		/* R+D+S to A-C */
	gmt_copy(test, ctx, GMT_PG(6) + 7, GMT_PG(7), 100, 0);	/* S to D */
}

/* Empty copies succeed wherever they are. */
static void guestmem_test_copy_zero(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_copy(test, ctx, 0, 10, 0, 0);
	gmt_copy(test, ctx, GMT_PG(4), GMT_PG(4), 0, 0);	/* hole */
	gmt_copy(test, ctx, GMT_PG(5), 0, 0, 0);		/* read-only */
	KUNIT_EXPECT_EQ(test, guestmem_copy(ctx->gm, U64_MAX, U64_MAX, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_copy(ctx->gm, 0, U64_MAX, 0), 0);
	gmt_check_model(test, ctx, "after empty copies");
}

static struct kunit_case guestmem_copy_cases[] = {
	KUNIT_CASE(guestmem_test_copy_disjoint),
	KUNIT_CASE_PARAM(guestmem_test_copy_overlap_region, copy_overlap_region_gen_params),
	KUNIT_CASE(guestmem_test_copy_onto_itself),
	KUNIT_CASE_PARAM(guestmem_test_copy_overlap_three, copy_overlap_three_gen_params),
	KUNIT_CASE(guestmem_test_copy_shift_all),
	KUNIT_CASE(guestmem_test_copy_failures),
	KUNIT_CASE(guestmem_test_copy_readonly_source),
	KUNIT_CASE(guestmem_test_copy_zero),
	{}
};

static struct kunit_suite guestmem_copy_suite = {
	.name = "guestmem_copy",
	.init = gmt_fc_init,
	.test_cases = guestmem_copy_cases,
};

kunit_test_suite(guestmem_copy_suite);
