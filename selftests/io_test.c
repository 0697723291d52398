// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem GUESTMEM_READ / GUESTMEM_WRITE: exact and partial modes across
 * regions of different backings, holes, read-only regions, the top of the
 * 64-bit space, bad buffers (EFAULT with `done`), EOVERFLOW and EINVAL.
 */
#include "guestmem_util.h"
#include "kselftest_harness.h"

/*
 * The space every test starts with (pages relative to B):
 *
 *   [ 0,  4) R0 VMALLOC
 *   [ 4,  8) R1 USER, anonymous memory u1
 *   [ 8, 12) R2 USER, memfd mapping m2
 *   [12, 16) hole
 *   [16, 20) R3 VMALLOC
 *   [20, 24) R4 USER READONLY, anonymous memory u4
 *   [24, 28) R5 VMALLOC
 *   [28, ..) hole
 *   [2^64 - 4 pages, 2^64) RT VMALLOC
 *
 * Every backed byte at GPA g starts as pat(g, SEED0).
 */
#define B		0x40000000ULL
#define G(pg)		(B + (uint64_t)(pg) * PG)
#define RT		GPA_END(4 * PG)
#define SEED0		100

FIXTURE(io) {
	int fd;
	int memfd;
	uint8_t *u1, *m2, *u4;
};

FIXTURE_SETUP(io)
{
	uint8_t *buf;

	self->fd = gm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
	self->u1 = map_anon(4 * PG);
	self->u4 = map_anon(4 * PG);
	ASSERT_NE(NULL, self->u1);
	ASSERT_NE(NULL, self->u4);
	self->memfd = memfd_create("guestmem-io", MFD_CLOEXEC);
	ASSERT_LE(0, self->memfd);
	ASSERT_EQ(0, ftruncate(self->memfd, 4 * PG));
	self->m2 = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			self->memfd, 0);
	ASSERT_NE(MAP_FAILED, self->m2);

	memset(self->u1, 0, 4 * PG);
	memset(self->m2, 0, 4 * PG);
	pat_fill(self->u4, G(20), 4 * PG, SEED0);

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(0), 4 * PG));
	ASSERT_EQ(0, gm_add_user(self->fd, G(4), 4 * PG, self->u1));
	ASSERT_EQ(0, gm_add_user(self->fd, G(8), 4 * PG, self->m2));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(16), 4 * PG));
	ASSERT_EQ(0, gm_add(self->fd, G(20), 4 * PG, (uintptr_t)self->u4,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_READONLY));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(24), 4 * PG));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, RT, 4 * PG));

	buf = malloc(12 * PG);
	ASSERT_NE(NULL, buf);
	pat_fill(buf, G(0), 12 * PG, SEED0);
	ASSERT_EQ(0, gm_write(self->fd, G(0), buf, 12 * PG));
	pat_fill(buf, G(16), 4 * PG, SEED0);
	ASSERT_EQ(0, gm_write(self->fd, G(16), buf, 4 * PG));
	pat_fill(buf, G(24), 4 * PG, SEED0);
	ASSERT_EQ(0, gm_write(self->fd, G(24), buf, 4 * PG));
	pat_fill(buf, RT, 4 * PG, SEED0);
	ASSERT_EQ(0, gm_write(self->fd, RT, buf, 4 * PG));
	free(buf);
}

FIXTURE_TEARDOWN(io)
{
	close(self->fd);
	munmap(self->u1, 4 * PG);
	munmap(self->u4, 4 * PG);
	munmap(self->m2, 4 * PG);
	close(self->memfd);
}

/* The setup's writes are where they should be, whichever the backing. */
TEST_F(io, initial_content)
{
	EXPECT_GPA_PAT(self->fd, G(0), 12 * PG, SEED0);
	EXPECT_GPA_PAT(self->fd, G(16), 12 * PG, SEED0);
	EXPECT_GPA_PAT(self->fd, RT, 4 * PG, SEED0);
	EXPECT_EQ(-1, pat_check(self->u1, G(4), 4 * PG, SEED0));
	EXPECT_EQ(-1, pat_check(self->m2, G(8), 4 * PG, SEED0));
}

TEST_F(io, zero_length)
{
	static const uint64_t gpas[] = { 0, G(0), G(13), G(20), GPA_TOP,
					 GPA_END(1) - 5, 1ULL << 63 };
	unsigned int i, f;
	uint64_t done;

	for (i = 0; i < sizeof(gpas) / sizeof(gpas[0]); i++) {
		for (f = 0; f < 2; f++) {
			EXPECT_EQ(0, gm_io(self->fd, GUESTMEM_READ, gpas[i],
					   NULL, 0, f, &done));
			EXPECT_EQ(0ULL, done);
			EXPECT_EQ(0, gm_io(self->fd, GUESTMEM_WRITE, gpas[i],
					   NULL, 0, f, &done));
			EXPECT_EQ(0ULL, done);
		}
	}
	/* Even the read-only region and a bogus buffer: nothing moves. */
	EXPECT_EQ(0, gm_io(self->fd, GUESTMEM_WRITE, G(20), (void *)1, 0, 0, &done));
	EXPECT_EQ(0ULL, done);
	EXPECT_GPA_PAT(self->fd, G(20), 4 * PG, SEED0);
}

TEST_F(io, einval)
{
	static const uint32_t flags[] = { 2, 4, 1U << 31, ~1U, ~0U };
	struct guestmem_io io;
	uint8_t buf[64];
	unsigned int i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		uint64_t done;

		EXPECT_EQ(-EINVAL, gm_io(self->fd, GUESTMEM_READ, G(0), buf,
					 sizeof(buf), flags[i], &done))
			TH_LOG("flags %#x", flags[i]);
		EXPECT_EQ(-EINVAL, gm_io(self->fd, GUESTMEM_WRITE, G(0), buf,
					 sizeof(buf), flags[i], &done))
			TH_LOG("flags %#x", flags[i]);
	}
	memset(&io, 0, sizeof(io));
	io.gpa = G(0);
	io.len = sizeof(buf);
	io.buf = (uintptr_t)buf;
	io.reserved = 1;
	EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_READ, &io));
	io.reserved = 0x80000000;
	EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_WRITE, &io));
	io.flags = GUESTMEM_IO_PARTIAL;
	EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_WRITE, &io));
	EXPECT_GPA_PAT(self->fd, G(0), 4 * PG, SEED0);
}

TEST_F(io, eoverflow)
{
	static const struct { uint64_t gpa, len; } c[] = {
		{ GPA_TOP, 2 },
		{ GPA_END(32), 33 },
		{ RT, 4 * PG + 1 },
		{ RT + 1, 4 * PG },
		{ GPA_END(PG), 2 * PG },
	};
	static uint8_t buf[4 * 4096 + 64];
	unsigned int i, f;
	uint64_t done;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		for (f = 0; f < 2; f++) {
			memset(buf, 0xee, sizeof(buf));
			EXPECT_EQ(-EOVERFLOW, gm_io(self->fd, GUESTMEM_READ, c[i].gpa,
						    buf, c[i].len, f, &done))
				TH_LOG("read %#llx + %#llx flags %u",
				       (unsigned long long)c[i].gpa,
				       (unsigned long long)c[i].len, f);
			EXPECT_EQ(0ULL, done);
			EXPECT_EQ(-1, mem_check(buf, 0xee, sizeof(buf)));
			EXPECT_EQ(-EOVERFLOW, gm_io(self->fd, GUESTMEM_WRITE, c[i].gpa,
						    buf, c[i].len, f, &done))
				TH_LOG("write %#llx + %#llx flags %u",
				       (unsigned long long)c[i].gpa,
				       (unsigned long long)c[i].len, f);
			EXPECT_EQ(0ULL, done);
		}
	}
	EXPECT_GPA_PAT(self->fd, RT, 4 * PG, SEED0);

	/* The boundary itself: the last byte is 2^64 - 1, no overflow. */
	ASSERT_EQ(0, gm_read(self->fd, RT, buf, 4 * PG));
	EXPECT_EQ(-1, pat_check(buf, RT, 4 * PG, SEED0));
	ASSERT_EQ(0, gm_read(self->fd, GPA_TOP, buf, 1));
	EXPECT_EQ(pat(GPA_TOP, SEED0), buf[0]);
}

/* Lengths no buffer can have: the GPA range check comes first. */
TEST_F(io, eoverflow_huge_len)
{
	static const struct { uint64_t gpa, len; } c[] = {
		{ 2, GPA_TOP },			/* last byte would be 2^64 */
		{ B, GPA_END(B) + 1 },
		{ 1ULL << 63, (1ULL << 63) + 1 },
		{ GPA_TOP, GPA_TOP },
	};
	uint8_t buf[64];
	unsigned int i;
	uint64_t done;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		EXPECT_EQ(-EOVERFLOW, gm_io(self->fd, GUESTMEM_READ, c[i].gpa,
					    buf, c[i].len, 0, &done))
			TH_LOG("read %#llx + %#llx", (unsigned long long)c[i].gpa,
			       (unsigned long long)c[i].len);
		EXPECT_EQ(-EOVERFLOW, gm_io(self->fd, GUESTMEM_WRITE, c[i].gpa,
					    buf, c[i].len, GUESTMEM_IO_PARTIAL, &done))
			TH_LOG("write %#llx + %#llx", (unsigned long long)c[i].gpa,
			       (unsigned long long)c[i].len);
	}
}

/* One exact write and read across VMALLOC, anonymous USER and memfd USER. */
TEST_F(io, exact_across_backings)
{
	static uint8_t buf[12 * 4096];
	const uint64_t gpa = G(0) + 7, len = 12 * PG - 7 - 9;
	uint64_t done;

	pat_fill(buf, gpa, len, 1);
	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_WRITE, gpa, buf, len, 0, &done));
	EXPECT_EQ(len, done);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_READ, gpa, buf, len, 0, &done));
	EXPECT_EQ(len, done);
	EXPECT_EQ(-1, pat_check(buf, gpa, len, 1));

	/* The bytes are in the users' memory too. */
	EXPECT_EQ(-1, pat_check(self->u1, G(4), 4 * PG, 1));
	EXPECT_EQ(-1, pat_check(self->m2, G(8), 4 * PG - 9, 1));
	ASSERT_EQ((ssize_t)(4 * PG), pread(self->memfd, buf, 4 * PG, 0));
	EXPECT_EQ(-1, pat_check(buf, G(8), 4 * PG - 9, 1));
	/* And the untouched edges kept their old bytes. */
	EXPECT_GPA_PAT(self->fd, G(0), 7, SEED0);
	EXPECT_GPA_PAT(self->fd, G(12) - 9, 9, SEED0);

	/* Odd sizes at each boundary. */
	pat_fill(buf, G(4) - 1, 2, 2);
	ASSERT_EQ(0, gm_write(self->fd, G(4) - 1, buf, 2));
	pat_fill(buf, G(8) - 3, 5, 2);
	ASSERT_EQ(0, gm_write(self->fd, G(8) - 3, buf, 5));
	EXPECT_GPA_PAT(self->fd, G(4) - 1, 2, 2);
	EXPECT_GPA_PAT(self->fd, G(8) - 3, 5, 2);
	EXPECT_EQ(pat(G(4), 2), self->u1[0]);
	EXPECT_EQ(pat(G(8) + 1, 2), self->m2[1]);
}

/* What the user stores in its own memory is what the guest reads. */
TEST_F(io, user_mapping_writes_visible)
{
	uint8_t buf[3 * 4096];

	pat_fill(self->u1, G(4), 4 * PG, 3);
	pat_fill(self->m2, G(8), 2 * PG, 3);
	pat_fill(buf, G(10), 2 * PG, 3);
	ASSERT_EQ((ssize_t)(2 * PG), pwrite(self->memfd, buf, 2 * PG, 2 * PG));
	pat_fill(self->u4, G(20), 4 * PG, 3);	/* the read-only region */
	EXPECT_GPA_PAT(self->fd, G(4), 8 * PG, 3);
	EXPECT_GPA_PAT(self->fd, G(20), 4 * PG, 3);
	EXPECT_GPA_PAT(self->fd, G(0), 4 * PG, SEED0);
	EXPECT_GPA_PAT(self->fd, G(24), 4 * PG, SEED0);
}

TEST_F(io, exact_read_hole_moves_nothing)
{
	static const struct { uint64_t gpa, len; } c[] = {
		{ G(12) - 100, 200 },		/* R2 into the hole */
		{ G(12), 1 },			/* the hole's first byte */
		{ G(16) - 1, 2 },		/* the hole into R3 */
		{ G(13), PG },			/* inside the hole */
		{ G(11), 6 * PG },		/* R2, hole, R3 */
		{ G(0), 28 * PG },		/* everything around it */
		{ G(24), 4 * PG + 1 },		/* R5 into the hole after it */
		{ G(28), 1 },
		{ RT - 1, 2 },			/* into the top region */
		{ 0, 1 },
	};
	static uint8_t buf[28 * 4096];
	unsigned int i, w;
	uint64_t done;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(buf, 0xee, c[i].len);
		EXPECT_EQ(-ENXIO, gm_io(self->fd, GUESTMEM_READ, c[i].gpa, buf,
					c[i].len, 0, &done))
			TH_LOG("case %u", i);
		EXPECT_EQ(0ULL, done) TH_LOG("case %u", i);
		EXPECT_EQ(-1, mem_check(buf, 0xee, c[i].len)) TH_LOG("case %u", i);
	}

	/* Exact writes: the guest memory on either side is untouched. */
	for (w = 0; w < sizeof(c) / sizeof(c[0]); w++) {
		pat_fill(buf, c[w].gpa, c[w].len, 4);
		EXPECT_EQ(-ENXIO, gm_io(self->fd, GUESTMEM_WRITE, c[w].gpa, buf,
					c[w].len, 0, &done))
			TH_LOG("case %u", w);
		EXPECT_EQ(0ULL, done) TH_LOG("case %u", w);
	}
	EXPECT_GPA_PAT(self->fd, G(0), 12 * PG, SEED0);
	EXPECT_GPA_PAT(self->fd, G(16), 12 * PG, SEED0);
	EXPECT_GPA_PAT(self->fd, RT, 4 * PG, SEED0);
	EXPECT_EQ(-1, pat_check(self->m2, G(8), 4 * PG, SEED0));
}

TEST_F(io, partial_read)
{
	static uint8_t buf[16 * 4096];
	uint64_t done;

	/* Up to the hole. */
	memset(buf, 0xee, sizeof(buf));
	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_READ, G(12) - 100, buf, 200,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(100ULL, done);
	EXPECT_EQ(-1, pat_check(buf, G(12) - 100, 100, SEED0));
	EXPECT_EQ(-1, mem_check(buf + 100, 0xee, 100));

	/* Across three backings, then the hole; R3 beyond is not reached. */
	memset(buf, 0xee, sizeof(buf));
	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_READ, G(1) + 5, buf, 16 * PG,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(11 * PG - 5, done);
	EXPECT_EQ(-1, pat_check(buf, G(1) + 5, 11 * PG - 5, SEED0));
	EXPECT_EQ(-1, mem_check(buf + 11 * PG - 5, 0xee, 5 * PG + 5));

	/* The read-only region reads fine; stop at the hole after R5. */
	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_READ, G(17), buf, 12 * PG,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(11 * PG, done);
	EXPECT_EQ(-1, pat_check(buf, G(17), 11 * PG, SEED0));

	/* Fully backed: done == len. */
	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_READ, G(2), buf, 3 * PG,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(3 * PG, done);
	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_READ, RT, buf, 4 * PG,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(4 * PG, done);

	/* The first byte unbacked: ENXIO, done 0, nothing moved. */
	memset(buf, 0xee, sizeof(buf));
	EXPECT_EQ(-ENXIO, gm_io(self->fd, GUESTMEM_READ, G(12), buf, 8 * PG,
				GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(0ULL, done);
	EXPECT_EQ(-ENXIO, gm_io(self->fd, GUESTMEM_READ, RT - 16, buf, 32,
				GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(0ULL, done);
	EXPECT_EQ(-1, mem_check(buf, 0xee, sizeof(buf)));
}

TEST_F(io, partial_write)
{
	static uint8_t buf[16 * 4096];
	uint64_t done;

	pat_fill(buf, G(12) - 100, 200, 5);
	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_WRITE, G(12) - 100, buf, 200,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(100ULL, done);
	EXPECT_GPA_PAT(self->fd, G(12) - 100, 100, 5);
	EXPECT_EQ(-1, pat_check(self->m2 + 4 * PG - 100, G(12) - 100, 100, 5));
	EXPECT_GPA_PAT(self->fd, G(8), 4 * PG - 100, SEED0);

	/* Starting in the hole: ENXIO, nothing written anywhere. */
	pat_fill(buf, G(15), 2 * PG, 6);
	EXPECT_EQ(-ENXIO, gm_io(self->fd, GUESTMEM_WRITE, G(15), buf, 2 * PG,
				GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(0ULL, done);
	EXPECT_GPA_PAT(self->fd, G(16), 4 * PG, SEED0);

	/* Fully backed across three backings: done == len. */
	pat_fill(buf, G(0), 12 * PG, 7);
	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_WRITE, G(0), buf, 12 * PG,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(12 * PG, done);
	EXPECT_GPA_PAT(self->fd, G(0), 12 * PG, 7);
}

TEST_F(io, readonly_region)
{
	static uint8_t buf[8 * 4096];
	uint64_t done;

	/* Reads work. */
	EXPECT_GPA_PAT(self->fd, G(20), 4 * PG, SEED0);

	/* Exact writes anywhere in it, or touching it, are EACCES. */
	pat_fill(buf, G(20), 16, 8);
	EXPECT_EQ(-EACCES, gm_io(self->fd, GUESTMEM_WRITE, G(20), buf, 16, 0, &done));
	EXPECT_EQ(0ULL, done);
	pat_fill(buf, G(24) - 1, 1, 8);
	EXPECT_EQ(-EACCES, gm_io(self->fd, GUESTMEM_WRITE, G(24) - 1, buf, 1, 0, &done));
	pat_fill(buf, G(20) - 50, 100, 8);
	EXPECT_EQ(-EACCES, gm_io(self->fd, GUESTMEM_WRITE, G(20) - 50, buf, 100, 0, &done));
	EXPECT_EQ(0ULL, done);
	pat_fill(buf, G(23), 2 * PG, 8);
	EXPECT_EQ(-EACCES, gm_io(self->fd, GUESTMEM_WRITE, G(23), buf, 2 * PG, 0, &done));
	pat_fill(buf, G(18), 8 * PG, 8);
	EXPECT_EQ(-EACCES, gm_io(self->fd, GUESTMEM_WRITE, G(18), buf, 8 * PG, 0, &done));
	EXPECT_EQ(0ULL, done);
	EXPECT_GPA_PAT(self->fd, G(16), 12 * PG, SEED0);

	/* Partial: up to the first read-only byte. */
	pat_fill(buf, G(20) - 50, 100, 9);
	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_WRITE, G(20) - 50, buf, 100,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(50ULL, done);
	EXPECT_GPA_PAT(self->fd, G(20) - 50, 50, 9);
	EXPECT_GPA_PAT(self->fd, G(20), 8 * PG, SEED0);

	/* Partial starting in it: EACCES, done 0. */
	pat_fill(buf, G(22), 4 * PG, 10);
	EXPECT_EQ(-EACCES, gm_io(self->fd, GUESTMEM_WRITE, G(22), buf, 4 * PG,
				 GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(0ULL, done);
	EXPECT_GPA_PAT(self->fd, G(20), 8 * PG, SEED0);
	EXPECT_EQ(-1, pat_check(self->u4, G(20), 4 * PG, SEED0));
}

/*
 * A bad user buffer: EFAULT, `done` = the bytes that moved before the
 * fault, and no byte past them changed.
 */
TEST_F(io, efault)
{
	const uint64_t gpa = G(3) + 100;	/* crosses R0 -> R1 */
	uint8_t *buf = map_anon(2 * PG);
	uint64_t done;
	unsigned int f;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, munmap(buf + PG, PG));

	for (f = 0; f < 2; f++) {
		/* NULL buffer: nothing moves. */
		EXPECT_EQ(-EFAULT, gm_io(self->fd, GUESTMEM_READ, gpa, NULL, 64, f, &done));
		EXPECT_EQ(0ULL, done);
		EXPECT_EQ(-EFAULT, gm_io(self->fd, GUESTMEM_WRITE, gpa, NULL, 64, f, &done));
		EXPECT_EQ(0ULL, done);
		EXPECT_GPA_PAT(self->fd, G(0), 8 * PG, SEED0);

		/* Read into a buffer whose second page is unmapped. */
		memset(buf, 0xee, PG);
		EXPECT_EQ(-EFAULT, gm_io(self->fd, GUESTMEM_READ, gpa, buf, 2 * PG,
					 f, &done));
		EXPECT_EQ(PG, done) TH_LOG("flags %u", f);
		EXPECT_EQ(-1, pat_check(buf, gpa, PG, SEED0));
	}

	/* Write from it: the first page lands, the rest is untouched. */
	pat_fill(buf, gpa, PG, 11);
	EXPECT_EQ(-EFAULT, gm_io(self->fd, GUESTMEM_WRITE, gpa, buf, 2 * PG, 0, &done));
	EXPECT_EQ(PG, done);
	EXPECT_GPA_PAT(self->fd, gpa, PG, 11);
	EXPECT_GPA_PAT(self->fd, gpa + PG, 8 * PG - (gpa + PG - G(0)), SEED0);
	EXPECT_GPA_PAT(self->fd, G(0), gpa - G(0), SEED0);

	pat_fill(buf, gpa, PG, 12);
	EXPECT_EQ(-EFAULT, gm_io(self->fd, GUESTMEM_WRITE, gpa, buf, 2 * PG,
				 GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(PG, done);
	EXPECT_GPA_PAT(self->fd, gpa, PG, 12);
	EXPECT_GPA_PAT(self->fd, gpa + PG, 8 * PG - (gpa + PG - G(0)), SEED0);

	/* Fault in the middle of the memfd region. */
	pat_fill(buf + PG - 1000, G(9), 1000, 13);
	EXPECT_EQ(-EFAULT, gm_io(self->fd, GUESTMEM_WRITE, G(9), buf + PG - 1000,
				 3000, 0, &done));
	EXPECT_EQ(1000ULL, done);
	EXPECT_GPA_PAT(self->fd, G(9), 1000, 13);
	EXPECT_GPA_PAT(self->fd, G(9) + 1000, 2000, SEED0);
	EXPECT_EQ(-1, pat_check(self->m2 + PG + 1000, G(9) + 1000, 2000, SEED0));

	munmap(buf, PG);
}

TEST_F(io, top_of_address_space)
{
	static uint8_t buf[4 * 4096];
	uint64_t done;

	pat_fill(buf, RT, 4 * PG, 14);
	ASSERT_EQ(0, gm_write(self->fd, RT, buf, 4 * PG));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, gm_read(self->fd, RT, buf, 4 * PG));
	EXPECT_EQ(-1, pat_check(buf, RT, 4 * PG, 14));

	buf[0] = 0x5c;
	ASSERT_EQ(0, gm_write(self->fd, GPA_TOP, buf, 1));
	buf[0] = 0;
	ASSERT_EQ(0, gm_read(self->fd, GPA_TOP, buf, 1));
	EXPECT_EQ(0x5c, buf[0]);

	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_READ, GPA_END(100), buf, 100,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(100ULL, done);
	EXPECT_EQ(-ENXIO, gm_io(self->fd, GUESTMEM_READ, RT - 1, buf, 2, 0, &done));
	EXPECT_EQ(-ENXIO, gm_io(self->fd, GUESTMEM_WRITE, RT - 1, buf, 2, 0, &done));
	ASSERT_EQ(0, gm_read(self->fd, RT, buf, 1));
	EXPECT_EQ(pat(RT, 14), buf[0]);
}

/* 32 adjacent single-page regions of alternating backings, one access. */
TEST_F(io, many_adjacent_regions)
{
	enum { N = 32 };
	const uint64_t c = 0x70000000ULL;
	static uint8_t buf[(N + 1) * 4096];
	uint8_t *mem = map_anon(N * PG);
	uint64_t done;
	unsigned int i;

	ASSERT_NE(NULL, mem);
	memset(mem, 0, N * PG);
	for (i = 0; i < N; i++) {
		if (i % 2) {
			ASSERT_EQ(0, gm_add_user(self->fd, c + i * PG, PG, mem + i * PG));
		} else {
			ASSERT_EQ(0, gm_add_vmalloc(self->fd, c + i * PG, PG));
		}
	}
	pat_fill(buf, c + 5, N * PG - 15, 15);
	ASSERT_EQ(0, gm_write(self->fd, c + 5, buf, N * PG - 15));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_READ, c, buf, (N + 1) * PG,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(N * PG, done);
	EXPECT_EQ(-1, mem_check(buf, 0, 5));
	EXPECT_EQ(-1, pat_check(buf + 5, c + 5, N * PG - 15, 15));
	EXPECT_EQ(-1, mem_check(buf + N * PG - 10, 0, 10));
	for (i = 1; i < N; i += 2) {
		EXPECT_EQ(-1, pat_check(mem + i * PG, c + i * PG,
					i == N - 1 ? PG - 10 : PG, 15));
	}
	munmap(mem, N * PG);
}

TEST_F(io, large_transfer)
{
	const uint64_t c = 0x80000000ULL, half = 512 * 1024;
	uint8_t *mem = map_anon(half), *buf = malloc(2 * half);

	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, c, half));
	ASSERT_EQ(0, gm_add_user(self->fd, c + half, half, mem));
	pat_fill(buf, c, 2 * half, 16);
	ASSERT_EQ(0, gm_write(self->fd, c, buf, 2 * half));
	memset(buf, 0, 2 * half);
	ASSERT_EQ(0, gm_read(self->fd, c, buf, 2 * half));
	EXPECT_EQ(-1, pat_check(buf, c, 2 * half, 16));
	EXPECT_EQ(-1, pat_check(mem, c + half, half, 16));
	free(buf);
	munmap(mem, half);
}

TEST_HARNESS_MAIN
