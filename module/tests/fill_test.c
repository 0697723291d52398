// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_fill: guestmem_fill() (module/access.c) -- exact
 * semantics within and across regions, read-only regions, holes, 2^64 and
 * empty ranges, every backed byte checked against the model after each
 * fill.
 *
 * Each test starts on the fill/copy layout of helpers.c, in pages from
 * GMT_BASE: A (0), B (1-2), C (3), a hole (4), R READONLY (5), D (6),
 * S READONLY (7), with a pattern in A-C and D.
 */
#include <kunit/test.h>
#include <linux/string.h>
#include <linux/guestmem.h>
#include "helpers.h"

/* guestmem_fill() at page offset @off of the layout; expect @want. */
static void gmt_fill(struct kunit *test, struct gmt_ctx *ctx, u64 off, u64 len,
		     u8 value, int want)
{
	char what[96];
	int ret;

	snprintf(what, sizeof(what), "fill of %llu bytes of 0x%02x at +%#llx",
		 len, value, off);
	ret = guestmem_fill(ctx->gm, GMT_BASE + off, value, len);
	KUNIT_EXPECT_EQ_MSG(test, ret, want, "%s", what);
	if (!ret && !want)
		memset(ctx->model + off, value, len);
	gmt_check_model(test, ctx, what);
}

/* Within one region, exactly the bytes asked for. */
static void guestmem_test_fill_exact(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_fill(test, ctx, GMT_PG(1) + 3, 100, 0xa5, 0);
	gmt_fill(test, ctx, GMT_PG(1) + 200, 1, 0x00, 0);
	gmt_fill(test, ctx, GMT_PG(2) - 5, 10, 0xff, 0);	/* B's page boundary */
	gmt_fill(test, ctx, 0, GMT_PG(1), 0x3c, 0);		/* all of A */
	gmt_fill(test, ctx, GMT_PG(7) - 1, 1, 0x81, 0);	/* D's last byte */
	gmt_fill(test, ctx, GMT_PG(6), 1, 0x18, 0);		/* D's first byte */
}

/* Across two and three regions, and all of A-C. */
static void guestmem_test_fill_cross(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_fill(test, ctx, GMT_PG(1) - 7, 14, 0x11, 0);
	gmt_fill(test, ctx, GMT_PG(3) - 1, 2, 0x22, 0);
	gmt_fill(test, ctx, GMT_PG(1) - 7, GMT_PG(2) + 16, 0x33, 0);
	gmt_fill(test, ctx, 1, GMT_PG(4) - 2, 0x44, 0);
	gmt_fill(test, ctx, 0, GMT_PG(4), 0x00, 0);
}

/* A read-only byte anywhere in the range: EACCES, nothing written. */
static void guestmem_test_fill_readonly(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_fill(test, ctx, GMT_PG(5), GMT_PG(1), 0x55, -EACCES);
	gmt_fill(test, ctx, GMT_PG(5) + 9, 1, 0x55, -EACCES);
	gmt_fill(test, ctx, GMT_PG(6) - 1, 2, 0x55, -EACCES);		/* R, D */
	gmt_fill(test, ctx, GMT_PG(7) - 3, 6, 0x55, -EACCES);		/* D, S */
	gmt_fill(test, ctx, GMT_PG(6), GMT_PG(2), 0x55, -EACCES);	/* D, S */
	gmt_fill(test, ctx, GMT_PG(5), GMT_PG(3), 0x55, -EACCES);	/* R, D, S */
}

/* An unbacked byte anywhere in the range: ENXIO, nothing written. */
static void guestmem_test_fill_hole(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_fill(test, ctx, GMT_PG(4) - 5, 10, 0x66, -ENXIO);		/* C, hole */
	gmt_fill(test, ctx, GMT_PG(4) - 1, 2, 0x66, -ENXIO);
	gmt_fill(test, ctx, 0, GMT_PG(5), 0x66, -ENXIO);		/* A-C, hole */
	gmt_fill(test, ctx, 1, GMT_PG(8), 0x66, -ENXIO);
	gmt_fill(test, ctx, GMT_PG(4), 1, 0x66, -ENXIO);
	gmt_fill(test, ctx, GMT_PG(4) + 17, GMT_PG(1), 0x66, -ENXIO);	/* hole, R */
	gmt_fill(test, ctx, -GMT_PG(1), GMT_PG(1) + 1, 0x66, -ENXIO);	/* hole, A */
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, 0, 0x66, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, U64_MAX, 0x66, 1), -ENXIO);
	gmt_check_model(test, ctx, "after fills of holes");
}

/* Ranges past 2^64 - 1 are EOVERFLOW. */
static void guestmem_test_fill_overflow(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, U64_MAX, 0x77, 2), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, GMT_P(0), 0x77, U64_MAX), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, 2, 0x77, U64_MAX), -EOVERFLOW);
	/* [1, 2^64) ends exactly at the last byte: no overflow, just a hole. */
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, 1, 0x77, U64_MAX), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, GMT_TOP_PAGE, 0x77, PAGE_SIZE + 1),
			-EOVERFLOW);
	gmt_check_model(test, ctx, "after overflowing fills");
}

/* Empty fills succeed anywhere. */
static void guestmem_test_fill_zero(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_fill(test, ctx, 5, 0, 0x77, 0);
	gmt_fill(test, ctx, GMT_PG(4), 0, 0x77, 0);	/* hole */
	gmt_fill(test, ctx, GMT_PG(5), 0, 0x77, 0);	/* read-only */
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, U64_MAX, 0x77, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, 0, 0x77, 0), 0);
	gmt_check_model(test, ctx, "after empty fills");
}

/* The last bytes of the space can be filled once backed. */
static void guestmem_test_fill_top(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	u8 top[2];

	KUNIT_ASSERT_EQ(test, gmt_add(ctx->gm, GMT_TOP_PAGE, PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, GMT_TOP_PAGE, 0x12, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, U64_MAX, 0x34, 1), 0);
	KUNIT_ASSERT_EQ(test, guestmem_read(ctx->gm, U64_MAX - 1, top, 2), 0);
	KUNIT_EXPECT_EQ(test, top[0], 0x12);
	KUNIT_EXPECT_EQ(test, top[1], 0x34);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, U64_MAX, 0x34, 2), -EOVERFLOW);
	gmt_check_model(test, ctx, "after fills of the top page");
}

static struct kunit_case guestmem_fill_cases[] = {
	KUNIT_CASE(guestmem_test_fill_exact),
	KUNIT_CASE(guestmem_test_fill_cross),
	KUNIT_CASE(guestmem_test_fill_readonly),
	KUNIT_CASE(guestmem_test_fill_hole),
	KUNIT_CASE(guestmem_test_fill_overflow),
	KUNIT_CASE(guestmem_test_fill_zero),
	KUNIT_CASE(guestmem_test_fill_top),
	{}
};

static struct kunit_suite guestmem_fill_suite = {
	.name = "guestmem_fill",
	.init = gmt_fc_init,
	.test_cases = guestmem_fill_cases,
};

kunit_test_suite(guestmem_fill_suite);
