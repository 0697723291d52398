// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem GUESTMEM_FILL and GUESTMEM_COPY: exact semantics (a range that
 * touches a hole or, for the destination, a read-only byte changes nothing),
 * crossing regions of different backings, memmove semantics with overlapping
 * ranges in both directions, zero length, EOVERFLOW, EINVAL for flags,
 * reserved and a fill value above 0xff, EFAULT for the argument.
 */
#include "guestmem_util.h"
#include "kselftest_harness.h"

/*
 * The space every test starts with (pages relative to B):
 *
 *   [0, 4)   R0 VMALLOC
 *   [4, 8)   R1 USER, anonymous memory u1
 *   [8, 12)  R2 VMALLOC
 *   [12, 16) hole
 *   [16, 20) RO USER READONLY, anonymous memory uro
 *   [20, 24) R3 VMALLOC
 *   [2^64 - 2 pages, 2^64) RT VMALLOC
 *
 * Backed bytes start as pat(gpa, SEED0) (RO: pat(gpa, SEED_RO)).  Tests keep
 * a model of [0, 12) ("shadow") and compare the whole of it after each step.
 */
#define B		0x1234000000ULL
#define G(pg)		(B + (uint64_t)(pg) * PG)
#define RT		GPA_END(2 * PG)
#define SEED0		31
#define SEED_RO		32
#define LOW_LEN		(12 * PG)

FIXTURE(fc) {
	int fd;
	uint8_t *u1, *uro;
	uint8_t *shadow;	/* model of [G(0), G(12)) */
	uint8_t *now;
};

FIXTURE_SETUP(fc)
{
	uint8_t *buf;

	self->fd = gm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
	self->u1 = map_anon(4 * PG);
	self->uro = map_anon(4 * PG);
	self->shadow = malloc(LOW_LEN);
	self->now = malloc(LOW_LEN);
	ASSERT_NE(NULL, self->u1);
	ASSERT_NE(NULL, self->uro);
	ASSERT_NE(NULL, self->shadow);
	ASSERT_NE(NULL, self->now);
	pat_fill(self->uro, G(16), 4 * PG, SEED_RO);

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(0), 4 * PG));
	ASSERT_EQ(0, gm_add_user(self->fd, G(4), 4 * PG, self->u1));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(8), 4 * PG));
	ASSERT_EQ(0, gm_add(self->fd, G(16), 4 * PG, (uintptr_t)self->uro,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_READONLY));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(20), 4 * PG));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, RT, 2 * PG));

	pat_fill(self->shadow, G(0), LOW_LEN, SEED0);
	ASSERT_EQ(0, gm_write(self->fd, G(0), self->shadow, LOW_LEN));
	buf = malloc(4 * PG);
	ASSERT_NE(NULL, buf);
	pat_fill(buf, G(20), 4 * PG, SEED0);
	ASSERT_EQ(0, gm_write(self->fd, G(20), buf, 4 * PG));
	pat_fill(buf, RT, 2 * PG, SEED0);
	ASSERT_EQ(0, gm_write(self->fd, RT, buf, 2 * PG));
	free(buf);
}

FIXTURE_TEARDOWN(fc)
{
	close(self->fd);
	munmap(self->u1, 4 * PG);
	munmap(self->uro, 4 * PG);
	free(self->shadow);
	free(self->now);
}

/* Index of the first byte of [G(0), G(12)) that differs from the model. */
static long shadow_diff(int fd, const uint8_t *shadow, uint8_t *now)
{
	long i;

	if (gm_read(fd, G(0), now, LOW_LEN))
		return -2;
	for (i = 0; i < (long)LOW_LEN; i++)
		if (now[i] != shadow[i])
			return i;
	return -1;
}

#define EXPECT_SHADOW()							\
	EXPECT_EQ(-1, shadow_diff(self->fd, self->shadow, self->now))	\
		TH_LOG("guest memory differs from the model")

/* The other backed memory is untouched. */
#define EXPECT_REST_UNTOUCHED() do {					\
	EXPECT_GPA_PAT(self->fd, G(20), 4 * PG, SEED0);			\
	EXPECT_GPA_PAT(self->fd, RT, 2 * PG, SEED0);			\
	EXPECT_EQ(-1, pat_check(self->uro, G(16), 4 * PG, SEED_RO));	\
} while (0)

/* ---- FILL --------------------------------------------------------------- */

TEST_F(fc, fill_basic)
{
	static const struct { uint64_t gpa, len; uint32_t v; } c[] = {
		{ G(0), 1, 0x00 },
		{ G(0) + 17, 100, 0xff },
		{ G(2) + PG - 1, 2, 0x5a },		/* page boundary */
		{ G(9), PG, 0x80 },
		{ G(11) + PG - 1, 1, 0x01 },		/* last backed byte */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(c); i++) {
		ASSERT_EQ(0, gm_fill(self->fd, c[i].gpa, c[i].len, c[i].v));
		memset(self->shadow + (c[i].gpa - G(0)), c[i].v, c[i].len);
		EXPECT_SHADOW();
	}
	EXPECT_REST_UNTOUCHED();
}

/* One fill across VMALLOC, USER and VMALLOC regions. */
TEST_F(fc, fill_cross_region)
{
	const uint64_t gpa = G(3) + 100, len = 6 * PG - 95;

	ASSERT_EQ(0, gm_fill(self->fd, gpa, len, 0xc3));
	memset(self->shadow + (gpa - G(0)), 0xc3, len);
	EXPECT_SHADOW();
	/* The USER region's own memory has it too. */
	EXPECT_EQ(-1, mem_check(self->u1, 0xc3, 4 * PG));
	/* The whole low space at once. */
	ASSERT_EQ(0, gm_fill(self->fd, G(0), LOW_LEN, 0));
	memset(self->shadow, 0, LOW_LEN);
	EXPECT_SHADOW();
	EXPECT_REST_UNTOUCHED();
}

struct refused_fill {
	uint64_t gpa, len;
};

/* Each of the @n fills fails with @err, and no byte changes. */
static void expect_fills_refused(struct __test_metadata *_metadata,
				 FIXTURE_DATA(fc) *self, int err,
				 const struct refused_fill *c, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		EXPECT_EQ(-err, gm_fill(self->fd, c[i].gpa, c[i].len, 0xaa))
			TH_LOG("fill %#llx + %#llx", (unsigned long long)c[i].gpa,
			       (unsigned long long)c[i].len);
		EXPECT_SHADOW();
	}
	EXPECT_REST_UNTOUCHED();
}

/* Exact: a fill touching a hole is ENXIO and changes nothing. */
TEST_F(fc, fill_hole_exact)
{
	static const struct refused_fill c[] = {
		{ G(11) + 10, PG },		/* R2 -> hole */
		{ G(0), 12 * PG + 1 },		/* R0..R2 -> one byte of hole */
		{ G(12), 16 },			/* starts in the hole */
		{ G(15) + PG - 1, 2 },		/* hole -> RO */
		{ G(8), 16 * PG },		/* R2, hole, RO, R3 */
		{ G(0) - PG, 2 * PG },		/* hole -> R0 */
		{ 0, 8 },
	};

	expect_fills_refused(_metadata, self, ENXIO, c, ARRAY_LEN(c));
}

/* Read-only destination: EACCES, nothing written (before or after it). */
TEST_F(fc, fill_readonly)
{
	EXPECT_EQ(-EACCES, gm_fill(self->fd, G(17), 16, 0x11));
	EXPECT_EQ(-EACCES, gm_fill(self->fd, G(19) + PG - 8, 16, 0x11));	/* RO -> R3 */
	EXPECT_REST_UNTOUCHED();
}

TEST_F(fc, fill_einval)
{
	static const uint32_t bad_values[] = { 0x100, 0x1ff, 0x8000, 1U << 31,
					       ~0U, 0xffffff00 };
	static const uint32_t bad_flags[] = { 1, 2, 1U << 31, ~0U };
	struct guestmem_fill f;
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(bad_values); i++) {
		EXPECT_EQ(-EINVAL, gm_fill(self->fd, G(1), 64, bad_values[i]))
			TH_LOG("value %#x", bad_values[i]);
		/* Even with length 0. */
		EXPECT_EQ(-EINVAL, gm_fill(self->fd, G(1), 0, bad_values[i]));
	}
	for (i = 0; i < ARRAY_LEN(bad_flags); i++) {
		memset(&f, 0, sizeof(f));
		f.gpa = G(1);
		f.len = 64;
		f.value = 0x22;
		f.flags = bad_flags[i];
		EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_FILL, &f))
			TH_LOG("flags %#x", bad_flags[i]);
	}
	EXPECT_SHADOW();
	/* 0xff itself is fine. */
	ASSERT_EQ(0, gm_fill(self->fd, G(1), 64, 0xff));
	memset(self->shadow + PG, 0xff, 64);
	EXPECT_SHADOW();
}

TEST_F(fc, fill_zero_length)
{
	static const uint64_t gpas[] = { G(0), G(12), G(17), 0, GPA_TOP,
					 GPA_END(PG) + 3, 1ULL << 63 };
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(gpas); i++) {
		EXPECT_EQ(0, gm_fill(self->fd, gpas[i], 0, 0x77))
			TH_LOG("gpa %#llx", (unsigned long long)gpas[i]);
	}
	EXPECT_SHADOW();
	EXPECT_REST_UNTOUCHED();
}

TEST_F(fc, fill_eoverflow)
{
	static const struct refused_fill c[] = {
		{ GPA_TOP, 2 },
		{ RT, 2 * PG + 1 },
		{ RT + 1, 2 * PG },
		{ G(0), GPA_TOP },
		{ 2, ~0ULL },
		{ GPA_TOP, ~0ULL },
	};
	uint8_t buf[2 * 4096];

	expect_fills_refused(_metadata, self, EOVERFLOW, c, ARRAY_LEN(c));

	/* Up to the last byte of the space is fine. */
	ASSERT_EQ(0, gm_fill(self->fd, RT + 5, 2 * PG - 5, 0x66));
	ASSERT_EQ(0, gm_read(self->fd, RT, buf, sizeof(buf)));
	EXPECT_EQ(-1, pat_check(buf, RT, 5, SEED0));
	EXPECT_EQ(-1, mem_check(buf + 5, 0x66, sizeof(buf) - 5));
}

TEST_F(fc, fill_copy_efault)
{
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_FILL, NULL));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_COPY, NULL));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_FILL, unmapped_range(PG)));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_COPY, unmapped_range(PG)));
	EXPECT_SHADOW();
}

/* ---- COPY --------------------------------------------------------------- */

/* Copy in guest memory and in the model; compare everything. */
static int copy_both(int fd, uint8_t *shadow, uint64_t dst, uint64_t src,
		     uint64_t len)
{
	int ret = gm_copy(fd, dst, src, len);

	if (!ret)
		memmove(shadow + (dst - G(0)), shadow + (src - G(0)), len);
	return ret;
}

#define COPY_CHECK(dst, src, len) do {					\
	ASSERT_EQ(0, copy_both(self->fd, self->shadow, dst, src, len))	\
		TH_LOG("copy %#llx <- %#llx + %#llx",			\
		       (unsigned long long)(dst),			\
		       (unsigned long long)(src),			\
		       (unsigned long long)(len));			\
	EXPECT_EQ(-1, shadow_diff(self->fd, self->shadow, self->now))	\
		TH_LOG("after copy %#llx <- %#llx + %#llx",		\
		       (unsigned long long)(dst),			\
		       (unsigned long long)(src),			\
		       (unsigned long long)(len));			\
} while (0)

TEST_F(fc, copy_within_region)
{
	COPY_CHECK(G(2), G(0) + 5, 100);		/* disjoint */
	COPY_CHECK(G(0) + 1000, G(0) + 900, 500);	/* overlap, dst > src */
	COPY_CHECK(G(0) + 900, G(0) + 1000, 500);	/* overlap, dst < src */
	COPY_CHECK(G(1) + 1, G(1), 2 * PG);		/* shift up by one */
	COPY_CHECK(G(1), G(1) + 1, 2 * PG);		/* shift down by one */
	COPY_CHECK(G(0), G(0), 4 * PG);			/* dst == src */
	/* The same within the USER region. */
	COPY_CHECK(G(4) + 3000, G(4) + 10, 2 * PG);
	COPY_CHECK(G(4) + 10, G(4) + 3000, 2 * PG);
	COPY_CHECK(G(5) + 7, G(5), 2 * PG + 1);
	EXPECT_EQ(0, memcmp(self->u1, self->shadow + 4 * PG, 4 * PG));
	EXPECT_REST_UNTOUCHED();
}

/* Overlapping copies whose ranges cross VMALLOC/USER boundaries. */
TEST_F(fc, copy_across_regions_overlap)
{
	COPY_CHECK(G(3) + 877, G(3) + 100, 3 * PG);	/* both cross R0|R1 */
	COPY_CHECK(G(3) + 100, G(3) + 877, 3 * PG);
	COPY_CHECK(G(1) + 1, G(1), 10 * PG - 1);	/* R0..R2, up by 1 */
	COPY_CHECK(G(1), G(1) + 1, 10 * PG - 1);	/* down by 1 */
	COPY_CHECK(G(0) + PG + 2995, G(0) + 5, 6 * PG + 123);
	COPY_CHECK(G(0) + 5, G(0) + PG + 2995, 6 * PG + 123);
	/* Off by exactly a region: src R0..R1, dst R1..R2. */
	COPY_CHECK(G(4) + 9, G(0) + 9, 6 * PG);
	COPY_CHECK(G(0) + 9, G(4) + 9, 6 * PG);
	/* The whole low space shifted by a page, both ways. */
	COPY_CHECK(G(1), G(0), 11 * PG);
	COPY_CHECK(G(0), G(1), 11 * PG);
	EXPECT_EQ(0, memcmp(self->u1, self->shadow + 4 * PG, 4 * PG));
	EXPECT_REST_UNTOUCHED();
}

/* Non-overlapping copies between backings, and from a READONLY region. */
TEST_F(fc, copy_across_backings)
{
	uint8_t buf[PG];

	COPY_CHECK(G(5), G(1) + 3, PG);		/* VMALLOC -> USER */
	COPY_CHECK(G(9) + 1, G(6) + 2, PG + 17);	/* USER -> VMALLOC */
	/* RO source is fine; the destination is in the model. */
	ASSERT_EQ(0, gm_copy(self->fd, G(2) + 11, G(17) + 5, 300));
	memcpy(self->shadow + 2 * PG + 11, self->uro + PG + 5, 300);
	EXPECT_SHADOW();
	/* Into R3 (beyond the model) from R1, crossing nothing. */
	ASSERT_EQ(0, gm_copy(self->fd, G(21), G(4), PG));
	ASSERT_EQ(0, gm_read(self->fd, G(21), buf, PG));
	EXPECT_EQ(0, memcmp(buf, self->shadow + 4 * PG, PG));
	/* To and from the top of the space. */
	ASSERT_EQ(0, gm_copy(self->fd, RT + PG, G(7), PG));
	ASSERT_EQ(0, gm_read(self->fd, RT + PG, buf, PG));
	EXPECT_EQ(0, memcmp(buf, self->shadow + 7 * PG, PG));
	COPY_CHECK(G(8), G(0), 0);
	ASSERT_EQ(0, gm_copy(self->fd, G(10), RT + PG, PG));
	memcpy(self->shadow + 10 * PG, buf, PG);
	EXPECT_SHADOW();
}

/* Pseudo-random copies of [0, 12 pages) against the model. */
TEST_F(fc, copy_random)
{
	uint64_t x = 0x853c49e6748fea9bULL;
	unsigned int i;

	for (i = 0; i < 60; i++) {
		uint64_t len, src, dst;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		len = (x >> 33) % (i % 3 ? 3 * PG : 64) + 1;
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		src = (x >> 20) % (LOW_LEN - len + 1);
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		if (i % 2) {
			/* Near src, overlapping it more often than not. */
			dst = src + (x >> 40) % (2 * len + 1);
			dst = dst >= len ? dst - len : 0;
			if (dst > LOW_LEN - len)
				dst = LOW_LEN - len;
		} else {
			dst = (x >> 20) % (LOW_LEN - len + 1);
		}
		COPY_CHECK(G(0) + dst, G(0) + src, len);
	}
	EXPECT_EQ(0, memcmp(self->u1, self->shadow + 4 * PG, 4 * PG));
}

struct refused_copy {
	uint64_t dst, src, len;
	int err;
};

/* Each of the @n copies fails with its errno, and no byte changes. */
static void expect_copies_refused(struct __test_metadata *_metadata,
				  FIXTURE_DATA(fc) *self,
				  const struct refused_copy *c, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		EXPECT_EQ(-c[i].err, gm_copy(self->fd, c[i].dst, c[i].src, c[i].len))
			TH_LOG("copy %#llx <- %#llx + %#llx",
			       (unsigned long long)c[i].dst,
			       (unsigned long long)c[i].src,
			       (unsigned long long)c[i].len);
		EXPECT_SHADOW();
		EXPECT_REST_UNTOUCHED();
	}
}

/* Exact: a source with a hole is ENXIO, nothing written. */
TEST_F(fc, copy_src_hole)
{
	static const struct refused_copy c[] = {
		{ G(0), G(11) + PG - 10, 100, ENXIO },	/* src R2 -> hole */
		{ G(0), G(12), 1, ENXIO },		/* src in the hole */
		{ G(1), G(0), 12 * PG + 1, ENXIO },	/* src R0..R2 + 1 byte */
		{ G(20), G(8), 8 * PG, ENXIO },		/* src through hole */
		{ G(0) + 50, G(0) - 50, 100, ENXIO },	/* src hole -> R0 */
		{ G(9), G(11) + 8, PG, ENXIO },		/* overlapping, src into hole */
	};

	expect_copies_refused(_metadata, self, c, ARRAY_LEN(c));
}

/* Exact: a destination with a hole or a read-only byte changes nothing. */
TEST_F(fc, copy_dst_hole_or_readonly)
{
	static const struct refused_copy c[] = {
		{ G(11) + PG - 10, G(0), 100, ENXIO },	/* dst R2 -> hole */
		{ G(12), G(0), 1, ENXIO },
		{ G(0) - 50, G(1), 100, ENXIO },	/* dst hole -> R0 */
		{ G(17), G(0), 64, EACCES },		/* dst RO */
		{ G(19) + PG - 8, G(0), 16, EACCES },	/* dst RO -> R3 */
		{ G(16), G(16) + 1, 100, EACCES },	/* RO onto itself */
	};

	expect_copies_refused(_metadata, self, c, ARRAY_LEN(c));
}

TEST_F(fc, copy_einval)
{
	static const uint32_t bad[] = { 1, 2, 1U << 31, ~0U };
	struct guestmem_copy c;
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		memset(&c, 0, sizeof(c));
		c.dst = G(1);
		c.src = G(0);
		c.len = 64;
		c.flags = bad[i];
		EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_COPY, &c))
			TH_LOG("flags %#x", bad[i]);
		c.flags = 0;
		c.reserved = bad[i];
		EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_COPY, &c))
			TH_LOG("reserved %#x", bad[i]);
	}
	EXPECT_SHADOW();
}

TEST_F(fc, copy_zero_length)
{
	static const struct { uint64_t dst, src; } c[] = {
		{ G(12), G(13) },	/* holes */
		{ G(17), G(0) },	/* read-only destination */
		{ G(0), G(12) },
		{ GPA_TOP, GPA_TOP },
		{ 0, GPA_TOP },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(c); i++) {
		EXPECT_EQ(0, gm_copy(self->fd, c[i].dst, c[i].src, 0));
	}
	EXPECT_SHADOW();
	EXPECT_REST_UNTOUCHED();
}

TEST_F(fc, copy_eoverflow)
{
	static const struct refused_copy c[] = {
		{ GPA_TOP, G(0), 2, EOVERFLOW },	/* dst wraps */
		{ G(0), GPA_TOP, 2, EOVERFLOW },	/* src wraps */
		{ RT, G(0), 2 * PG + 1, EOVERFLOW },
		{ G(0), RT, 2 * PG + 1, EOVERFLOW },
		{ RT + 1, RT, 2 * PG, EOVERFLOW },
		{ G(0), G(1), ~0ULL, EOVERFLOW },
		{ 2, 0, ~0ULL, EOVERFLOW },
	};

	expect_copies_refused(_metadata, self, c, ARRAY_LEN(c));

	/* Overlapping at the very top, ending at 2^64 - 1: fine. */
	{
		uint8_t buf[2 * 4096], expect[2 * 4096];

		pat_fill(expect, RT, sizeof(expect), SEED0);
		memmove(expect + 3, expect, sizeof(expect) - 3);
		ASSERT_EQ(0, gm_copy(self->fd, RT + 3, RT, 2 * PG - 3));
		ASSERT_EQ(0, gm_read(self->fd, RT, buf, sizeof(buf)));
		EXPECT_EQ(0, memcmp(buf, expect, sizeof(buf)));
	}
}

TEST_HARNESS_MAIN
