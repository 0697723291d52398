// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem GUESTMEM_BATCH: ops run in order, each exact; the first failing
 * op stops the batch with its error and `done` = its index, earlier ops
 * having taken effect and later ones not run.  count 0, E2BIG above
 * GUESTMEM_BATCH_MAX (before anything runs), GUESTMEM_BATCH_MAX itself,
 * EINVAL for a partial op, an unknown op or op flag, batch flags and
 * reserved, EFAULT for the ops array and for an op's buffer, ENXIO, EACCES
 * and EOVERFLOW at an op's index.
 */
#include "guestmem_util.h"
#include "kselftest_harness.h"

/*
 * The space every test starts with (pages relative to B; gm_access_space()):
 *
 *   [0, 4)   R0 VMALLOC
 *   [4, 8)   R1 USER, anonymous memory u1
 *   [8, 12)  hole
 *   [12, 16) RO USER READONLY, anonymous memory uro
 *
 * R0 and R1 start as pat(gpa, SEED0), RO as pat(gpa, SEED_RO).
 */
#define B		0x7000000000ULL
#define G(pg)		(B + (uint64_t)(pg) * PG)
#define SEED0		21
#define SEED_RO		22

#define RD(gpa, len, buf)	gm_batch_op(GUESTMEM_OP_READ, gpa, len, buf)
#define WR(gpa, len, buf)	gm_batch_op(GUESTMEM_OP_WRITE, gpa, len, buf)

FIXTURE(batch) {
	int fd;
	uint8_t *u1, *uro;
};

FIXTURE_SETUP(batch)
{
	self->fd = gm_access_space(B, false, SEED0, SEED_RO, &self->u1,
				   &self->uro);
	ASSERT_LE(0, self->fd) TH_LOG("the space: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(batch)
{
	close(self->fd);
	munmap(self->u1, 4 * PG);
	munmap(self->uro, 4 * PG);
}

TEST_F(batch, count_zero)
{
	struct guestmem_batch_op op = WR(G(0), 8, NULL);
	uint32_t done;

	EXPECT_EQ(0, gm_batch(self->fd, NULL, 0, &done));
	EXPECT_EQ(0U, done);
	/* The ops pointer is not even looked at. */
	EXPECT_EQ(0, gm_batch(self->fd, unmapped_range(PG), 0, &done));
	EXPECT_EQ(0U, done);
	EXPECT_EQ(0, gm_batch(self->fd, &op, 0, &done));
	EXPECT_EQ(0U, done);
	EXPECT_GPA_PAT(self->fd, G(0), 8 * PG, SEED0);
}

/* Above GUESTMEM_BATCH_MAX: E2BIG, and not even the first op runs. */
TEST_F(batch, e2big_before_anything_runs)
{
	static const uint32_t counts[] = { GUESTMEM_BATCH_MAX + 1,
					   GUESTMEM_BATCH_MAX * 2, 1U << 31, ~0U };
	struct guestmem_batch_op *ops;
	uint8_t data[16];
	unsigned int i;
	uint32_t done;

	ops = calloc(GUESTMEM_BATCH_MAX * 2, sizeof(*ops));
	ASSERT_NE(NULL, ops);
	memset(data, 0x5c, sizeof(data));
	for (i = 0; i < GUESTMEM_BATCH_MAX * 2; i++)
		ops[i] = WR(G(0) + 16 * (i % 256), 16, data);
	for (i = 0; i < ARRAY_LEN(counts); i++) {
		EXPECT_EQ(-E2BIG, gm_batch(self->fd, ops, counts[i], &done))
			TH_LOG("count %u", counts[i]);
		EXPECT_GPA_PAT(self->fd, G(0), 4 * PG, SEED0);
	}
	free(ops);
}

/* Exactly GUESTMEM_BATCH_MAX ops: all run, done = count. */
TEST_F(batch, batch_max)
{
	struct guestmem_batch_op *ops;
	static uint8_t out[GUESTMEM_BATCH_MAX][8];
	uint8_t *expect;
	unsigned int i;
	uint32_t done;

	ops = calloc(GUESTMEM_BATCH_MAX, sizeof(*ops));
	expect = malloc(8 * PG);
	ASSERT_NE(NULL, ops);
	ASSERT_NE(NULL, expect);
	pat_fill(expect, G(0), 8 * PG, SEED0);
	/* Half writes of 8 bytes spread over R0 and R1, half reads of them. */
	for (i = 0; i < GUESTMEM_BATCH_MAX / 2; i++) {
		uint64_t off = (uint64_t)i * 64 + (i % 7);

		pat_fill(expect + off, G(0) + off, 8, 99);
		ops[i] = WR(G(0) + off, 8, expect + off);
		ops[GUESTMEM_BATCH_MAX / 2 + i] = RD(G(0) + off, 8, out[i]);
	}
	ASSERT_EQ(0, gm_batch(self->fd, ops, GUESTMEM_BATCH_MAX, &done));
	EXPECT_EQ((uint32_t)GUESTMEM_BATCH_MAX, done);
	for (i = 0; i < GUESTMEM_BATCH_MAX / 2; i++) {
		uint64_t off = (uint64_t)i * 64 + (i % 7);

		EXPECT_EQ(-1, pat_check(out[i], G(0) + off, 8, 99))
			TH_LOG("read op %u", i);
	}
	{
		uint8_t *now = malloc(8 * PG);

		ASSERT_NE(NULL, now);
		ASSERT_EQ(0, gm_read(self->fd, G(0), now, 8 * PG));
		EXPECT_EQ(0, memcmp(now, expect, 8 * PG));
		free(now);
	}
	free(expect);
	free(ops);
}

/* A write then a read of the same bytes in one batch sees the write. */
TEST_F(batch, in_order)
{
	uint8_t x[100], y[100], r1[100], r2[100], r0[100];
	const uint64_t gpa = G(4) - 50;		/* crosses R0 -> R1 */
	struct guestmem_batch_op ops[] = {
		RD(gpa, 100, r0),
		WR(gpa, 100, x),
		RD(gpa, 100, r1),
		WR(gpa + 10, 80, y + 10),
		RD(gpa, 100, r2),
	};
	uint32_t done;

	memset(x, 0x11, sizeof(x));
	memset(y, 0x22, sizeof(y));
	memset(r0, 0, sizeof(r0));
	memset(r1, 0, sizeof(r1));
	memset(r2, 0, sizeof(r2));
	ASSERT_EQ(0, gm_batch(self->fd, ops, ARRAY_LEN(ops), &done));
	EXPECT_EQ((uint32_t)ARRAY_LEN(ops), done);
	EXPECT_EQ(-1, pat_check(r0, gpa, 100, SEED0));
	EXPECT_EQ(-1, mem_check(r1, 0x11, 100));
	EXPECT_EQ(-1, mem_check(r2, 0x11, 10));
	EXPECT_EQ(-1, mem_check(r2 + 10, 0x22, 80));
	EXPECT_EQ(-1, mem_check(r2 + 90, 0x11, 10));
	/* The USER part is in u1. */
	EXPECT_EQ(-1, mem_check(self->u1, 0x22, 40));
	EXPECT_EQ(-1, mem_check(self->u1 + 40, 0x11, 10));
	EXPECT_GPA_PAT(self->fd, G(0), 4 * PG - 50, SEED0);
	EXPECT_GPA_PAT(self->fd, G(4) + 50, 4 * PG - 50, SEED0);
}

/* The 5th op hits a hole: ENXIO, done = 4, ops 0-3 done, 5+ not run. */
TEST_F(batch, fifth_op_fails_hole)
{
	uint8_t w[4][64], rd[64], later[64], tail[32];
	struct guestmem_batch_op ops[8];
	unsigned int i;
	uint32_t done;

	for (i = 0; i < 4; i++)
		memset(w[i], 0xa0 + i, 64);
	memset(later, 0xee, sizeof(later));
	memset(rd, 0x77, sizeof(rd));
	ops[0] = WR(G(0), 64, w[0]);
	ops[1] = WR(G(4) - 32, 64, w[1]);	/* R0 -> R1 */
	ops[2] = RD(G(0), 64, rd);		/* sees op 0 */
	ops[3] = WR(G(6) + 100, 64, w[3]);
	ops[4] = WR(G(8) - 16, 64, later);	/* R1 -> hole: exact, nothing */
	ops[5] = WR(G(1), 64, later);
	ops[6] = WR(G(5), 64, later);
	ops[7] = RD(G(0), 64, later);

	EXPECT_EQ(-ENXIO, gm_batch(self->fd, ops, ARRAY_LEN(ops), &done));
	EXPECT_EQ(4U, done);
	/* Ops 0-3 took effect. */
	EXPECT_EQ(-1, mem_check(rd, 0xa0, 64));
	EXPECT_EQ(-1, mem_check(self->u1, 0xa1, 32));
	EXPECT_EQ(-1, mem_check(self->u1 + 2 * PG + 100, 0xa3, 64));
	ASSERT_EQ(0, gm_read(self->fd, G(4) - 32, tail, 32));
	EXPECT_EQ(-1, mem_check(tail, 0xa1, 32));
	/* Op 4 wrote nothing of its backed part; later ops did not run. */
	EXPECT_EQ(-1, pat_check(self->u1 + 4 * PG - 16, G(8) - 16, 16, SEED0));
	EXPECT_GPA_PAT(self->fd, G(1), 64, SEED0);
	EXPECT_GPA_PAT(self->fd, G(5), 64, SEED0);
	EXPECT_EQ(-1, mem_check(later, 0xee, sizeof(later)));
}

/* A read op of a hole in the middle: its buffer and later ops untouched. */
TEST_F(batch, read_hole_stops)
{
	uint8_t a[32], b[32], c[32], d[32];
	struct guestmem_batch_op ops[] = {
		RD(G(1), 32, a),
		RD(G(10), 32, b),
		RD(G(2), 32, c),
	};
	uint32_t done;

	memset(a, 0, sizeof(a));
	memset(b, 0x33, sizeof(b));
	memset(c, 0x44, sizeof(c));
	memset(d, 0x55, sizeof(d));
	EXPECT_EQ(-ENXIO, gm_batch(self->fd, ops, ARRAY_LEN(ops), &done));
	EXPECT_EQ(1U, done);
	EXPECT_EQ(-1, pat_check(a, G(1), 32, SEED0));
	EXPECT_EQ(-1, mem_check(b, 0x33, 32));
	EXPECT_EQ(-1, mem_check(c, 0x44, 32));

	/* The first op failing: done = 0. */
	ops[0] = RD(G(8) - 8, 16, d);
	EXPECT_EQ(-ENXIO, gm_batch(self->fd, ops, 1, &done));
	EXPECT_EQ(0U, done);
	EXPECT_EQ(-1, mem_check(d, 0x55, 32));
}

/* An op asking for GUESTMEM_IO_PARTIAL (or any flag): EINVAL at its index. */
TEST_F(batch, op_flags_einval)
{
	static const uint32_t bad[] = { GUESTMEM_IO_PARTIAL, 2, 1U << 31, ~0U };
	uint8_t w0[16], w1[16], w2[16];
	struct guestmem_batch_op ops[4];
	unsigned int i;
	uint32_t done;

	memset(w0, 0x10, sizeof(w0));
	memset(w1, 0x11, sizeof(w1));
	memset(w2, 0x12, sizeof(w2));
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		ops[0] = WR(G(0), 16, w0);
		ops[1] = WR(G(5), 16, w1);
		ops[2] = WR(G(2), 16, w2);
		ops[2].flags = bad[i];
		ops[3] = WR(G(3), 16, w2);
		EXPECT_EQ(-EINVAL, gm_batch(self->fd, ops, 4, &done))
			TH_LOG("op flags %#x", bad[i]);
		EXPECT_EQ(2U, done);
		EXPECT_EQ(-1, mem_check(self->u1 + PG, 0x11, 16));
		EXPECT_GPA_PAT(self->fd, G(2), 16, SEED0);
		EXPECT_GPA_PAT(self->fd, G(3), 16, SEED0);
		/* A partial read op is refused the same way. */
		ops[0] = RD(G(2), 16, w0);
		ops[0].flags = bad[i];
		EXPECT_EQ(-EINVAL, gm_batch(self->fd, ops, 4, &done));
		EXPECT_EQ(0U, done);
		EXPECT_EQ(-1, mem_check(w0, 0x10, 16));
	}
	/* Would a partial op have moved the bytes up to the hole?  No. */
	ops[0] = WR(G(8) - 8, 16, w0);
	ops[0].flags = GUESTMEM_IO_PARTIAL;
	EXPECT_EQ(-EINVAL, gm_batch(self->fd, ops, 1, &done));
	EXPECT_EQ(0U, done);
	EXPECT_EQ(-1, pat_check(self->u1 + 4 * PG - 8, G(8) - 8, 8, SEED0));
}

TEST_F(batch, unknown_op_einval)
{
	static const uint32_t bad[] = { 2, 3, 0x100, 1U << 31, ~0U };
	uint8_t w[16];
	struct guestmem_batch_op ops[3];
	unsigned int i;
	uint32_t done;

	memset(w, 0x61, sizeof(w));
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		ops[0] = WR(G(0) + 32 * i, 16, w);
		ops[1] = gm_batch_op(bad[i], G(1), 16, w);
		ops[2] = WR(G(2), 16, w);
		EXPECT_EQ(-EINVAL, gm_batch(self->fd, ops, 3, &done))
			TH_LOG("op %#x", bad[i]);
		EXPECT_EQ(1U, done);
		EXPECT_GPA_PAT(self->fd, G(1), 16, SEED0);
		EXPECT_GPA_PAT(self->fd, G(2), 16, SEED0);
	}
	{
		uint8_t buf[32 * ARRAY_LEN(bad)];
		unsigned int k;

		ASSERT_EQ(0, gm_read(self->fd, G(0), buf, sizeof(buf)));
		for (k = 0; k < ARRAY_LEN(bad); k++) {
			EXPECT_EQ(-1, mem_check(buf + 32 * k, 0x61, 16));
		}
	}
}

/* Batch flags and reserved: EINVAL and nothing runs. */
TEST_F(batch, batch_flags_reserved_einval)
{
	static const uint32_t bad[] = { 1, 2, 1U << 31, ~0U };
	struct guestmem_batch b;
	uint8_t w[16];
	struct guestmem_batch_op op = WR(G(0), 16, w);
	unsigned int i;

	memset(w, 0x3c, sizeof(w));
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		memset(&b, 0, sizeof(b));
		b.ops = (uintptr_t)&op;
		b.count = 1;
		b.flags = bad[i];
		EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_BATCH, &b))
			TH_LOG("flags %#x", bad[i]);
		b.flags = 0;
		b.reserved = bad[i];
		EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_BATCH, &b))
			TH_LOG("reserved %#x", bad[i]);
		EXPECT_GPA_PAT(self->fd, G(0), 16, SEED0);
	}
	/* And with those clear the same batch works. */
	memset(&b, 0, sizeof(b));
	b.ops = (uintptr_t)&op;
	b.count = 1;
	EXPECT_EQ(0, gm_ioctl(self->fd, GUESTMEM_BATCH, &b));
	EXPECT_EQ(1U, b.done);
}

/* Bad user memory: the ops array, an op's buffer, the argument itself. */
TEST_F(batch, efault)
{
	struct guestmem_batch_op *ops;
	uint8_t w[3][32], r[32];
	uint8_t *two;
	uint32_t done;
	unsigned int i;

	for (i = 0; i < 3; i++)
		memset(w[i], 0xc0 + i, 32);

	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_BATCH, NULL));
	EXPECT_EQ(-EFAULT, gm_batch(self->fd, NULL, 1, &done));
	EXPECT_EQ(0U, done);
	EXPECT_EQ(-EFAULT, gm_batch(self->fd, unmapped_range(PG), 3, &done));
	EXPECT_EQ(0U, done);

	/* Ops 0-2 at the end of a page, op 3 on the next, unmapped one. */
	two = map_anon(2 * PG);
	ASSERT_NE(NULL, two);
	ASSERT_EQ(0, munmap(two + PG, PG));
	ops = (struct guestmem_batch_op *)(two + PG) - 3;
	ops[0] = WR(G(0), 32, w[0]);
	ops[1] = WR(G(5), 32, w[1]);
	ops[2] = WR(G(2), 32, w[2]);
	EXPECT_EQ(-EFAULT, gm_batch(self->fd, ops, 5, &done));
	EXPECT_EQ(3U, done);
	EXPECT_EQ(-1, mem_check(self->u1 + PG, 0xc1, 32));
	ASSERT_EQ(0, gm_read(self->fd, G(0), r, 32));
	EXPECT_EQ(-1, mem_check(r, 0xc0, 32));
	ASSERT_EQ(0, gm_read(self->fd, G(2), r, 32));
	EXPECT_EQ(-1, mem_check(r, 0xc2, 32));
	munmap(two, PG);

	/* An op's buffer: EFAULT at its index; a write op from NULL. */
	{
		struct guestmem_batch_op o[3] = {
			WR(G(3), 32, w[0]),
			WR(G(3) + 64, 32, NULL),
			WR(G(3) + 128, 32, w[2]),
		};

		EXPECT_EQ(-EFAULT, gm_batch(self->fd, o, 3, &done));
		EXPECT_EQ(1U, done);
		ASSERT_EQ(0, gm_read(self->fd, G(3), r, 32));
		EXPECT_EQ(-1, mem_check(r, 0xc0, 32));
		EXPECT_GPA_PAT(self->fd, G(3) + 128, 32, SEED0);

		/* A read op into an unmapped buffer. */
		o[0] = WR(G(3) + 256, 32, w[1]);
		o[1] = RD(G(3), 32, unmapped_range(PG));
		o[2] = WR(G(3) + 512, 32, w[2]);
		EXPECT_EQ(-EFAULT, gm_batch(self->fd, o, 3, &done));
		EXPECT_EQ(1U, done);
		ASSERT_EQ(0, gm_read(self->fd, G(3) + 256, r, 32));
		EXPECT_EQ(-1, mem_check(r, 0xc1, 32));
		EXPECT_GPA_PAT(self->fd, G(3) + 512, 32, SEED0);
	}
}

/* A write op to a READONLY region: EACCES at its index; reads of it work. */
TEST_F(batch, readonly_eacces)
{
	uint8_t w[32], r[32], r2[32];
	struct guestmem_batch_op ops[] = {
		RD(G(13), 32, r),
		WR(G(1), 32, w),
		WR(G(14) + 8, 32, w),
		WR(G(2), 32, w),
	};
	uint32_t done;

	memset(w, 0x9d, sizeof(w));
	EXPECT_EQ(-EACCES, gm_batch(self->fd, ops, ARRAY_LEN(ops), &done));
	EXPECT_EQ(2U, done);
	EXPECT_EQ(-1, pat_check(r, G(13), 32, SEED_RO));
	ASSERT_EQ(0, gm_read(self->fd, G(1), r2, 32));
	EXPECT_EQ(-1, mem_check(r2, 0x9d, 32));
	EXPECT_GPA_PAT(self->fd, G(2), 32, SEED0);
	EXPECT_EQ(-1, pat_check(self->uro, G(12), 4 * PG, SEED_RO));
}

/* An op whose range wraps: EOVERFLOW at its index. */
TEST_F(batch, eoverflow)
{
	uint8_t w[32];
	struct guestmem_batch_op ops[] = {
		WR(G(0), 32, w),
		RD(GPA_TOP, 2, w),
		WR(G(1), 32, w),
	};
	uint32_t done;

	memset(w, 0x4e, sizeof(w));
	EXPECT_EQ(-EOVERFLOW, gm_batch(self->fd, ops, 3, &done));
	EXPECT_EQ(1U, done);
	EXPECT_GPA_PAT(self->fd, G(1), 32, SEED0);
	ops[1] = WR(GPA_END(16), 17, w);
	EXPECT_EQ(-EOVERFLOW, gm_batch(self->fd, ops, 3, &done));
	EXPECT_EQ(1U, done);
	EXPECT_GPA_PAT(self->fd, G(1), 32, SEED0);
}

/* Zero-length ops succeed anywhere, whatever their buffer. */
TEST_F(batch, zero_length_ops)
{
	uint8_t w[8];
	struct guestmem_batch_op ops[] = {
		WR(G(10), 0, NULL),		/* hole */
		RD(G(13), 0, NULL),
		WR(G(13), 0, (void *)1),	/* read-only */
		RD(GPA_TOP, 0, NULL),
		WR(G(0), 8, w),
	};
	uint32_t done;

	memset(w, 0x2f, sizeof(w));
	EXPECT_EQ(0, gm_batch(self->fd, ops, ARRAY_LEN(ops), &done));
	EXPECT_EQ((uint32_t)ARRAY_LEN(ops), done);
	ASSERT_EQ(0, gm_read(self->fd, G(0), w, 8));
	EXPECT_EQ(-1, mem_check(w, 0x2f, 8));
}

/*
 * A read op whose buffer is the op array itself: the ops after it run as
 * the read left them, as if the batch were run op by op (the kernel reads
 * ops ahead in chunks and must read them again).
 */
TEST_F(batch, read_into_later_ops)
{
	struct guestmem_batch_op ops[20], crafted;
	uint64_t marker = 0x1122334455667788ULL, got = 0;
	uint32_t done;
	unsigned int i;

	/* In guest memory at G(1): a write op of the marker to G(2) + 8. */
	crafted = WR(G(2) + 8, sizeof(marker), &marker);
	ASSERT_EQ(0, gm_write(self->fd, G(1), &crafted, sizeof(crafted)));

	for (i = 0; i < ARRAY_LEN(ops); i++)
		ops[i] = RD(G(0), 8, &got);
	/* Op 1 reads the crafted op over op 2 (invalid until then) ... */
	ops[1] = RD(G(1), sizeof(crafted), &ops[2]);
	ops[2] = gm_batch_op(99, G(0), 8, &got);
	/* ... and op 17, in the second chunk, over op 18. */
	ops[17] = RD(G(1), sizeof(crafted), &ops[18]);
	ops[18] = gm_batch_op(99, G(0), 8, &got);
	EXPECT_EQ(0, gm_batch(self->fd, ops, ARRAY_LEN(ops), &done));
	EXPECT_EQ(ARRAY_LEN(ops), done);
	EXPECT_EQ(0, memcmp(&ops[2], &crafted, sizeof(crafted)));
	ASSERT_EQ(0, gm_read(self->fd, G(2) + 8, &got, sizeof(got)));
	EXPECT_EQ(marker, got);

	/* Without the read the invalid op stops the batch where it is. */
	ops[1] = RD(G(0), 8, &got);
	ops[2] = gm_batch_op(99, G(0), 8, &got);
	EXPECT_EQ(-EINVAL, gm_batch(self->fd, ops, ARRAY_LEN(ops), &done));
	EXPECT_EQ(2U, done);
}

/*
 * Small accesses whose user buffer ends in an unmapped page: EFAULT, with
 * done counting exactly the bytes that moved (the 1-, 2-, 4- and 8-byte
 * fast path falls back to the byte-exact general one).
 */
TEST_F(batch, small_access_efault_is_byte_exact)
{
	static const uint64_t sizes[] = { 2, 4, 8, 16, 64 };
	uint8_t *two = map_anon(2 * PG), want[64];
	unsigned int i;

	ASSERT_NE(NULL, two);
	ASSERT_EQ(0, munmap(two + PG, PG));
	for (i = 0; i < ARRAY_LEN(sizes); i++) {
		uint64_t len = sizes[i], in = len / 2, done;
		uint8_t *buf = two + PG - in;

		memset(two + PG - 64, 0xee, 64);
		EXPECT_EQ(-EFAULT, gm_io(self->fd, GUESTMEM_READ, G(1) + 8, buf,
					 len, 0, &done));
		EXPECT_EQ(in, done) TH_LOG("read of %llu bytes",
					   (unsigned long long)len);
		pat_fill(want, G(1) + 8, in, SEED0);
		EXPECT_EQ(0, memcmp(buf, want, in));

		memset(two + PG - 64, 0xa0 + i, 64);
		EXPECT_EQ(-EFAULT, gm_io(self->fd, GUESTMEM_WRITE, G(2) + 8, buf,
					 len, 0, &done));
		EXPECT_EQ(in, done) TH_LOG("write of %llu bytes",
					   (unsigned long long)len);
		EXPECT_EQ(-1, gm_mem_check(self->fd, G(2) + 8, in, 0xa0 + i));
		EXPECT_GPA_PAT(self->fd, G(2) + 8 + in, len - in, SEED0);
		/* Leave G(2) as the fixture made it. */
		pat_fill(want, G(2) + 8, len, SEED0);
		ASSERT_EQ(0, gm_write(self->fd, G(2) + 8, want, len));
	}
	munmap(two, PG);
}

TEST_HARNESS_MAIN
