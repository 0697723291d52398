// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_access: guestmem_read(), guestmem_write() and the
 * typed accessors of <linux/guestmem.h> (module/access.c) across region
 * boundaries, holes, read-only regions and the top of the 64-bit space.
 *
 * Each test starts on the access layout of helpers.c, in pages from
 * GMT_BASE: R0 (0), R1 (1-2), R2 (3), a hole (4), R3 READONLY (5), R4 (6);
 * gmt_check_model() compares every backed byte with the model.
 */
#include <kunit/test.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/guestmem.h>
#include "helpers.h"

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

static void guestmem_test_access_zeroed(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_check_model(test, ctx, "new regions are zero");
	gmt_read(test, ctx, 0, GMT_PG(4), 0);
}

static void guestmem_test_access_cross_two(struct kunit *test)
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

static void guestmem_test_access_cross_three(struct kunit *test)
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
static void guestmem_test_access_hole(struct kunit *test)
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

static void guestmem_test_access_readonly(struct kunit *test)
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

static void guestmem_test_access_obj(struct kunit *test)
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
	KUNIT_EXPECT_EQ(test, guestmem_read(ctx->gm, GMT_P(1), raw, 1), 0);
	KUNIT_EXPECT_EQ(test, raw[0], 0xff);	/* the low byte of d, in R1 */
	memcpy(ctx->model + off, &in, sizeof(in));
	gmt_check_model(test, ctx, "after write_obj");

	/* Errors: nothing moves either way. */
	memset(&out, 0xee, sizeof(out));
	KUNIT_EXPECT_EQ(test, guestmem_read_obj(ctx->gm, GMT_P(4) - 3, &out), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write_obj(ctx->gm, GMT_P(4) - 3, &in), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write_obj(ctx->gm, GMT_P(6) - 3, &in), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_read_obj(ctx->gm, U64_MAX - 3, &out), -EOVERFLOW);
	gmt_all_bytes(test, (u8 *)&out, 0xee, sizeof(out), "object after failed reads");
	gmt_check_model(test, ctx, "after failed object accesses");

	/* An object of one byte, and an array type. */
	{
		u8 one = 0x42, arr[3] = { 7, 8, 9 }, back[3];

		KUNIT_EXPECT_EQ(test, guestmem_write_obj(ctx->gm, GMT_P(3) - 1, &one), 0);
		KUNIT_EXPECT_EQ(test, guestmem_write_obj(ctx->gm, GMT_P(3), &arr), 0);
		KUNIT_EXPECT_EQ(test, guestmem_read_obj(ctx->gm, GMT_P(3), &back), 0);
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

/*
 * Where the endian accessors are tried: aligned, unaligned, and across each
 * byte position of a boundary.
 */
struct gmt_endian_case {
	const char *name;
	u64 off;
};

static const struct gmt_endian_case gmt_endian_cases[] = {
	{ "R0 + 0", 0 },
	{ "R0 + 64", 64 },
	{ "R0 + 3", 3 },
	{ "R1 + page + 1", GMT_PG(2) + 1 },
	{ "R1 - 7", GMT_PG(1) - 7 },
	{ "R1 - 6", GMT_PG(1) - 6 },
	{ "R1 - 5", GMT_PG(1) - 5 },
	{ "R1 - 4", GMT_PG(1) - 4 },
	{ "R1 - 3", GMT_PG(1) - 3 },
	{ "R1 - 2", GMT_PG(1) - 2 },
	{ "R1 - 1", GMT_PG(1) - 1 },
	{ "R4 + 1", GMT_PG(6) + 1 },
	{ "R4 + 2", GMT_PG(6) + 2 },
	{ "R4 + 3", GMT_PG(6) + 3 },
	{ "R4 + 4", GMT_PG(6) + 4 },
	{ "R4 + 5", GMT_PG(6) + 5 },
	{ "R4 + 6", GMT_PG(6) + 6 },
	{ "R4 + 7", GMT_PG(6) + 7 },
};

KUNIT_ARRAY_PARAM_DESC(access_endian, gmt_endian_cases, name);

static void guestmem_test_access_endian(struct kunit *test)
{
	const struct gmt_endian_case *t = test->param_value;
	struct gmt_ctx *ctx = test->priv;

	gmt_endian_at(test, ctx, t->off);
	gmt_check_model(test, ctx, "after the endian accessors");
}

/* The same bytes read with the other byte order. */
static void guestmem_test_access_endian_mixed(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	u16 v16;
	u32 v32;
	u64 v64;

	KUNIT_EXPECT_EQ(test, guestmem_write_le32(ctx->gm, GMT_P(2) - 2, 0x01020304), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_be32(ctx->gm, GMT_P(2) - 2, &v32), 0);
	KUNIT_EXPECT_EQ(test, v32, 0x04030201U);
	KUNIT_EXPECT_EQ(test, guestmem_read_le16(ctx->gm, GMT_P(2) - 1, &v16), 0);
	KUNIT_EXPECT_EQ(test, v16, 0x0203);
	KUNIT_EXPECT_EQ(test, guestmem_write_be64(ctx->gm, GMT_P(3) - 4,
						  0x0102030405060708ULL), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_le64(ctx->gm, GMT_P(3) - 4, &v64), 0);
	KUNIT_EXPECT_EQ(test, v64, 0x0807060504030201ULL);
	KUNIT_EXPECT_EQ(test, guestmem_read_be16(ctx->gm, GMT_P(3) - 1, &v16), 0);
	KUNIT_EXPECT_EQ(test, v16, 0x0405);

	/* (the model lags behind the two mixed-order writes above) */
	KUNIT_EXPECT_EQ(test, guestmem_read(ctx->gm, GMT_P(2) - 2, ctx->model + GMT_PG(2) - 2,
					    4), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(ctx->gm, GMT_P(3) - 4, ctx->model + GMT_PG(3) - 4,
					    8), 0);
	gmt_check_model(test, ctx, "after mixed-order accessors");
}

/* Failures leave the value and guest memory alone. */
static void guestmem_test_access_endian_failures(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	u16 v16 = 0xeeee;
	u32 v32 = 0xeeeeeeee;
	u64 v64 = 0xeeeeeeeeeeeeeeeeULL;

	KUNIT_EXPECT_EQ(test, guestmem_read_le16(ctx->gm, GMT_P(4) - 1, &v16), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read_be32(ctx->gm, GMT_P(4), &v32), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read_le64(ctx->gm, GMT_P(5) - 4, &v64), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_read_be64(ctx->gm, U64_MAX - 6, &v64), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_read_le32(ctx->gm, U64_MAX - 2, &v32), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, v16, 0xeeee);
	KUNIT_EXPECT_EQ(test, v32, 0xeeeeeeeeU);
	KUNIT_EXPECT_EQ(test, v64, 0xeeeeeeeeeeeeeeeeULL);
	KUNIT_EXPECT_EQ(test, guestmem_write_le64(ctx->gm, GMT_P(4) - 4, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write_be16(ctx->gm, GMT_P(5), 1), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_write_le32(ctx->gm, GMT_P(6) - 2, 1), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_write_be64(ctx->gm, U64_MAX, 1), -EOVERFLOW);
	gmt_check_model(test, ctx, "after failed accessors");
}

/* Regions at the very top of the 64-bit space: [2^64 - 2P, 2^64). */
static void guestmem_test_access_top(struct kunit *test)
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
static void guestmem_test_access_many_adjacent(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct guestmem *gm = ctx->gm;
	u64 base = GMT_BASE + SZ_1G;
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
static void guestmem_test_access_remove_middle(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_write(test, ctx, 0, GMT_PG(4), 50, 0);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(ctx->gm, GMT_P(1), GMT_PG(2)), 0);
	gmt_read(test, ctx, GMT_PG(1) - 10, 20, -ENXIO);
	gmt_read(test, ctx, GMT_PG(3) - 10, 20, -ENXIO);
	gmt_read(test, ctx, 0, GMT_PG(4), -ENXIO);
	gmt_write(test, ctx, 0, GMT_PG(4), 51, -ENXIO);
	gmt_read(test, ctx, 0, GMT_PG(1), 0);
	gmt_read(test, ctx, GMT_PG(3), GMT_PG(1), 0);

	KUNIT_EXPECT_EQ(test, gmt_add(ctx->gm, GMT_P(1), GMT_PG(2), 0), 0);
	memset(ctx->model + GMT_PG(1), 0, GMT_PG(2));
	gmt_check_model(test, ctx, "after remove and add");
	gmt_write(test, ctx, GMT_PG(1) - 1, GMT_PG(2) + 2, 52, 0);
	gmt_check_model(test, ctx, "after a write across the new region");
}

static struct kunit_case guestmem_access_cases[] = {
	KUNIT_CASE(guestmem_test_access_zeroed),
	KUNIT_CASE(guestmem_test_access_cross_two),
	KUNIT_CASE(guestmem_test_access_cross_three),
	KUNIT_CASE(guestmem_test_access_hole),
	KUNIT_CASE(guestmem_test_access_readonly),
	KUNIT_CASE(guestmem_test_access_obj),
	KUNIT_CASE_PARAM(guestmem_test_access_endian, access_endian_gen_params),
	KUNIT_CASE(guestmem_test_access_endian_mixed),
	KUNIT_CASE(guestmem_test_access_endian_failures),
	KUNIT_CASE(guestmem_test_access_top),
	KUNIT_CASE(guestmem_test_access_many_adjacent),
	KUNIT_CASE(guestmem_test_access_remove_middle),
	{}
};

static struct kunit_suite guestmem_access_suite = {
	.name = "guestmem_access",
	.init = gmt_access_init,
	.test_cases = guestmem_access_cases,
};

kunit_test_suite(guestmem_access_suite);
