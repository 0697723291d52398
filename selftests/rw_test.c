// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem through the read/write family: read, write, pread, pwrite, readv,
 * writev, preadv, pwritev with the file position as GPA (an unsigned-offset
 * file, partial semantics), and lseek with SEEK_SET, SEEK_CUR, SEEK_DATA and
 * SEEK_HOLE.  Data written through one path is read through every other
 * (ioctl, read family, the user's own mapping of a USER region).
 *
 * GPAs >= 2^63 are negative off_t values: the read family reaches them with
 * lseek + read/write (the VFS refuses negative pread/pwrite offsets, and a
 * position plus a count that wraps past 2^64), lseek results are taken raw.
 */
#include <sys/uio.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

/*
 *   [0x10000, 0x14000) A  VMALLOC
 *   [0x14000, 0x18000) U  USER anonymous (self->u)
 *   [0x18000, 0x1e000) hole
 *   [0x1e000, 0x20000) W  VMALLOC
 *   [0x20000, 0x22000) C  USER READONLY (self->c)
 *   [2^63 - 2 pages, 2^63 + 2 pages) H VMALLOC
 *   [2^64 - 4 pages, 2^64) T VMALLOC
 * Every backed byte at g starts as pat(g, SEED0).
 */
#define A	0x10000ULL
#define U	0x14000ULL
#define HOLE	0x18000ULL
#define W	0x1e000ULL
#define C	0x20000ULL
#define C_END	0x22000ULL
#define MID	(1ULL << 63)
#define H	(MID - 2 * PG)
#define T	GPA_END(4 * PG)
#define SEED0	100

FIXTURE(rw) {
	int fd;
	uint8_t *u, *c;
};

FIXTURE_SETUP(rw)
{
	static uint8_t buf[4 * 4096];

	self->fd = gm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
	self->u = map_anon(4 * PG);
	self->c = map_anon(2 * PG);
	ASSERT_NE(NULL, self->u);
	ASSERT_NE(NULL, self->c);
	pat_fill(self->u, U, 4 * PG, SEED0);
	pat_fill(self->c, C, 2 * PG, SEED0);

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, A, 4 * PG));
	ASSERT_EQ(0, gm_add_user(self->fd, U, 4 * PG, self->u));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, W, 2 * PG));
	ASSERT_EQ(0, gm_add(self->fd, C, 2 * PG, (uintptr_t)self->c,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_READONLY));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, H, 4 * PG));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, T, 4 * PG));

	pat_fill(buf, A, 4 * PG, SEED0);
	ASSERT_EQ(0, gm_write(self->fd, A, buf, 4 * PG));
	pat_fill(buf, W, 2 * PG, SEED0);
	ASSERT_EQ(0, gm_write(self->fd, W, buf, 2 * PG));
	pat_fill(buf, H, 4 * PG, SEED0);
	ASSERT_EQ(0, gm_write(self->fd, H, buf, 4 * PG));
	pat_fill(buf, T, 4 * PG, SEED0);
	ASSERT_EQ(0, gm_write(self->fd, T, buf, 4 * PG));
}

FIXTURE_TEARDOWN(rw)
{
	close(self->fd);
	munmap(self->u, 4 * PG);
	munmap(self->c, 2 * PG);
}

TEST_F(rw, pwrite_pread_across_regions)
{
	static uint8_t buf[8 * 4096];
	const uint64_t gpa = A + 2 * PG + 3, len = 4 * PG - 8;

	pat_fill(buf, gpa, len, 1);
	ASSERT_EQ((ssize_t)len, pwrite(self->fd, buf, len, gpa));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ((ssize_t)len, pread(self->fd, buf, len, gpa));
	EXPECT_EQ(-1, pat_check(buf, gpa, len, 1));
	EXPECT_GPA_PAT(self->fd, gpa, len, 1);
	EXPECT_EQ(-1, pat_check(self->u, U, gpa + len - U, 1));
	EXPECT_EQ(-1, pat_check(self->u + (gpa + len - U), gpa + len,
				U + 4 * PG - (gpa + len), SEED0));
	EXPECT_GPA_PAT(self->fd, A, gpa - A, SEED0);

	/* Whole backed run A..U in one call. */
	ASSERT_EQ((ssize_t)(8 * PG), pread(self->fd, buf, 8 * PG, A));
}

TEST_F(rw, read_write_move_the_position)
{
	uint8_t buf[64];

	ASSERT_EQ((off_t)(U - 16), lseek(self->fd, U - 16, SEEK_SET));
	pat_fill(buf, U - 16, 32, 2);
	ASSERT_EQ(32, write(self->fd, buf, 32));
	ASSERT_EQ((off_t)(U + 16), lseek(self->fd, 0, SEEK_CUR));
	ASSERT_EQ((off_t)(U - 16), lseek(self->fd, -32, SEEK_CUR));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(32, read(self->fd, buf, 32));
	EXPECT_EQ(-1, pat_check(buf, U - 16, 32, 2));
	ASSERT_EQ((off_t)(U + 16), lseek(self->fd, 0, SEEK_CUR));
	ASSERT_EQ(16, read(self->fd, buf, 16));
	EXPECT_EQ(-1, pat_check(buf, U + 16, 16, SEED0));
	ASSERT_EQ((off_t)(U + 64), lseek(self->fd, 32, SEEK_CUR));
	ASSERT_EQ((off_t)(U + 48), lseek(self->fd, -16, SEEK_CUR));
	EXPECT_GPA_PAT(self->fd, U - 16, 32, 2);
	EXPECT_EQ(-1, pat_check(self->u, U, 16, 2));

	/* A position in a hole is fine; reading there is not. */
	ASSERT_EQ((off_t)(HOLE + 5), lseek(self->fd, HOLE + 5, SEEK_SET));
	EXPECT_EQ(-1, read(self->fd, buf, 8));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, write(self->fd, buf, 8));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ((off_t)(HOLE + 5), lseek(self->fd, 0, SEEK_CUR));
}

TEST_F(rw, readv_writev)
{
	static uint8_t src[3 * 4096 + 64], dst[3 * 4096 + 64];
	const uint64_t gpa = U - PG - 5, len = 5 + 8000 + 3000;
	struct iovec wv[3] = {
		{ src, 5 }, { src + 5, 8000 }, { src + 8005, 3000 },
	};
	struct iovec rv[4] = {
		{ dst, 1 }, { dst + 1, 4095 }, { dst + 4096, 7 },
		{ dst + 4103, len - 4103 },
	};

	pat_fill(src, gpa, len, 3);
	ASSERT_EQ((off_t)gpa, lseek(self->fd, gpa, SEEK_SET));
	ASSERT_EQ((ssize_t)len, writev(self->fd, wv, 3));
	ASSERT_EQ((off_t)(gpa + len), lseek(self->fd, 0, SEEK_CUR));
	ASSERT_EQ((off_t)gpa, lseek(self->fd, gpa, SEEK_SET));
	ASSERT_EQ((ssize_t)len, readv(self->fd, rv, 4));
	EXPECT_EQ(0, memcmp(src, dst, len));
	EXPECT_GPA_PAT(self->fd, gpa, len, 3);
	EXPECT_EQ(-1, pat_check(self->u, U, gpa + len - U, 3));

	/* pwritev/preadv leave the position alone. */
	pat_fill(src, A + 7, len, 4);
	ASSERT_EQ((ssize_t)len, pwritev(self->fd, wv, 3, A + 7));
	memset(dst, 0, sizeof(dst));
	ASSERT_EQ((ssize_t)len, preadv(self->fd, rv, 4, A + 7));
	EXPECT_EQ(0, memcmp(src, dst, len));
	EXPECT_EQ((off_t)gpa + (off_t)len, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_GPA_PAT(self->fd, A + 7, len, 4);

	/* Short at the hole: readv stops there. */
	memset(dst, 0xee, sizeof(dst));
	ASSERT_EQ(80, preadv(self->fd, (struct iovec[]){ { dst, 50 }, { dst + 50, 100 } },
			     2, HOLE - 80));
	EXPECT_EQ(-1, pat_check(dst, HOLE - 80, 80, SEED0));
	EXPECT_EQ(-1, mem_check(dst + 80, 0xee, 70));
}

TEST_F(rw, partial_at_holes)
{
	uint8_t buf[256];

	memset(buf, 0xee, sizeof(buf));
	ASSERT_EQ(100, pread(self->fd, buf, 200, HOLE - 100));
	EXPECT_EQ(-1, pat_check(buf, HOLE - 100, 100, SEED0));
	EXPECT_EQ(-1, mem_check(buf + 100, 0xee, 156));

	EXPECT_EQ(-1, pread(self->fd, buf, 10, HOLE));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, pread(self->fd, buf, 10, W - 1));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, pread(self->fd, buf, 10, 0));
	EXPECT_EQ(ENXIO, errno);

	/* read(): short count, position at the hole, then ENXIO there. */
	ASSERT_EQ((off_t)(HOLE - 100), lseek(self->fd, HOLE - 100, SEEK_SET));
	ASSERT_EQ(100, read(self->fd, buf, 200));
	ASSERT_EQ((off_t)HOLE, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(-1, read(self->fd, buf, 10));
	EXPECT_EQ(ENXIO, errno);
	ASSERT_EQ((off_t)HOLE, lseek(self->fd, 0, SEEK_CUR));

	/* Writes: short count up to the hole; none at all in it. */
	pat_fill(buf, HOLE - 50, 100, 5);
	ASSERT_EQ(50, pwrite(self->fd, buf, 100, HOLE - 50));
	EXPECT_GPA_PAT(self->fd, HOLE - 50, 50, 5);
	EXPECT_EQ(-1, pat_check(self->u + 4 * PG - 50, HOLE - 50, 50, 5));
	EXPECT_EQ(-1, pwrite(self->fd, buf, 10, HOLE + PG));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, pwrite(self->fd, buf, 100, W - 50));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_GPA_PAT(self->fd, W, 2 * PG, SEED0);

	/* Zero-length transfers succeed anywhere. */
	EXPECT_EQ(0, pread(self->fd, buf, 0, HOLE + 8));
	EXPECT_EQ(0, pwrite(self->fd, buf, 0, HOLE + 8));
	EXPECT_EQ(0, pread(self->fd, buf, 0, A));
	EXPECT_EQ(0, pwrite(self->fd, buf, 0, C));
}

TEST_F(rw, readonly_region)
{
	uint8_t buf[256];

	ASSERT_EQ(256, pread(self->fd, buf, 256, C + 100));
	EXPECT_EQ(-1, pat_check(buf, C + 100, 256, SEED0));

	pat_fill(buf, C, 16, 6);
	EXPECT_EQ(-1, pwrite(self->fd, buf, 16, C));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, pwrite(self->fd, buf, 16, C_END - 16));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, pwritev(self->fd, (struct iovec[]){ { buf, 8 }, { buf + 8, 8 } },
			      2, C + 64));
	EXPECT_EQ(EACCES, errno);

	/* From W into C: short count, up to C. */
	pat_fill(buf, C - 64, 128, 7);
	ASSERT_EQ(64, pwrite(self->fd, buf, 128, C - 64));
	EXPECT_GPA_PAT(self->fd, C - 64, 64, 7);

	ASSERT_EQ((off_t)C, lseek(self->fd, C, SEEK_SET));
	EXPECT_EQ(-1, write(self->fd, buf, 16));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ((off_t)C, lseek(self->fd, 0, SEEK_CUR));

	EXPECT_GPA_PAT(self->fd, C, 2 * PG, SEED0);
	EXPECT_EQ(-1, pat_check(self->c, C, 2 * PG, SEED0));
}

TEST_F(rw, efault)
{
	void *bad = unmapped_range(PG);

	ASSERT_NE(NULL, bad);
	EXPECT_EQ(-1, pread(self->fd, bad, 16, A));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pwrite(self->fd, bad, 16, A));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pwrite(self->fd, bad, 16, U - 8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_GPA_PAT(self->fd, A, 8 * PG, SEED0);
}

/* Around 2^63, where off_t turns negative. */
TEST_F(rw, across_2_pow_63)
{
	static uint8_t buf[4 * 4096];

	ASSERT_EQ(MID - 16, raw_lseek(self->fd, MID - 16, SEEK_SET));
	ASSERT_EQ(32, read(self->fd, buf, 32));
	EXPECT_EQ(-1, pat_check(buf, MID - 16, 32, SEED0));
	EXPECT_EQ(MID + 16, raw_lseek(self->fd, 0, SEEK_CUR));

	pat_fill(buf, MID - 8, 24, 8);
	ASSERT_EQ(MID - 8, raw_lseek(self->fd, MID - 8, SEEK_SET));
	ASSERT_EQ(24, write(self->fd, buf, 24));
	EXPECT_EQ(MID + 16, raw_lseek(self->fd, 0, SEEK_CUR));
	EXPECT_GPA_PAT(self->fd, MID - 8, 24, 8);
	EXPECT_GPA_PAT(self->fd, H, 2 * PG - 8, SEED0);
	EXPECT_GPA_PAT(self->fd, MID + 16, 2 * PG - 16, SEED0);

	/* pread from below 2^63 across it. */
	ASSERT_EQ((ssize_t)(2 * PG), pread(self->fd, buf, 2 * PG, MID - PG));
	EXPECT_EQ(-1, pat_check(buf, MID - PG, PG - 8, SEED0));
	EXPECT_EQ(-1, pat_check(buf + PG - 8, MID - 8, 24, 8));

	/* readv above 2^63, short at the end of H. */
	ASSERT_EQ(MID + PG, raw_lseek(self->fd, MID + PG, SEEK_SET));
	memset(buf, 0xee, sizeof(buf));
	ASSERT_EQ((ssize_t)PG, readv(self->fd, (struct iovec[]){ { buf, 100 },
							  { buf + 100, 2 * PG } }, 2));
	EXPECT_EQ(-1, pat_check(buf, MID + PG, PG, SEED0));
	EXPECT_EQ(MID + 2 * PG, raw_lseek(self->fd, 0, SEEK_CUR));

	/* The VFS refuses negative pread/pwrite offsets outright. */
	EXPECT_EQ(-1, pread(self->fd, buf, 16, (off_t)MID));
	EXPECT_EQ(EINVAL, errno);
}

/* The last bytes of the address space. */
TEST_F(rw, top_of_address_space)
{
	static uint8_t buf[4 * 4096];

	ASSERT_EQ(T, raw_lseek(self->fd, T, SEEK_SET));
	/* A position plus a count may not reach 2^64. */
	EXPECT_EQ(-1, read(self->fd, buf, 4 * PG));
	EXPECT_EQ(EOVERFLOW, errno);
	ASSERT_EQ((ssize_t)(4 * PG - 1), read(self->fd, buf, 4 * PG - 1));
	EXPECT_EQ(-1, pat_check(buf, T, 4 * PG - 1, SEED0));
	EXPECT_EQ(GPA_TOP, raw_lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(-1, read(self->fd, buf, 1));
	EXPECT_EQ(EOVERFLOW, errno);

	ASSERT_EQ(GPA_END(16), raw_lseek(self->fd, GPA_END(16), SEEK_SET));
	pat_fill(buf, GPA_END(16), 15, 9);
	ASSERT_EQ(15, write(self->fd, buf, 15));
	EXPECT_EQ(GPA_TOP, raw_lseek(self->fd, 0, SEEK_CUR));
	EXPECT_GPA_PAT(self->fd, GPA_END(16), 15, 9);
	EXPECT_GPA_PAT(self->fd, GPA_TOP, 1, SEED0);
	ASSERT_EQ(GPA_END(16), raw_lseek(self->fd, GPA_END(16), SEEK_SET));
	EXPECT_EQ(-1, write(self->fd, buf, 16));
	EXPECT_EQ(EOVERFLOW, errno);
	EXPECT_GPA_PAT(self->fd, GPA_END(16), 15, 9);
	EXPECT_GPA_PAT(self->fd, GPA_TOP, 1, SEED0);

	/* SEEK_CUR arithmetic is unsigned up there. */
	ASSERT_EQ(T, raw_lseek(self->fd, T, SEEK_SET));
	EXPECT_EQ(GPA_END(16), raw_lseek(self->fd, 4 * PG - 16, SEEK_CUR));
	EXPECT_EQ(T + 5, raw_lseek(self->fd, (uint64_t)-(int64_t)(4 * PG - 21), SEEK_CUR));
	EXPECT_EQ(GPA_TOP, raw_lseek(self->fd, GPA_TOP, SEEK_SET));
}

TEST_F(rw, lseek_whence)
{
	/* This space has a region ending at 2^64: its extent is not an offset. */
	EXPECT_EQ(LSEEK_ERR(EOVERFLOW), raw_lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ(LSEEK_ERR(EINVAL), raw_lseek(self->fd, 0, 5));
	EXPECT_EQ(LSEEK_ERR(EINVAL), raw_lseek(self->fd, 0, 100));
	EXPECT_EQ(0ULL, raw_lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(HOLE + 1, raw_lseek(self->fd, HOLE + 1, SEEK_SET));
	EXPECT_EQ(HOLE + 1, raw_lseek(self->fd, 0, SEEK_CUR));
}

/* [start, end) of data as SEEK_DATA/SEEK_HOLE report it; end 0 = 2^64. */
struct seg {
	uint64_t start, end;
};

static int walk(int fd, struct seg *s, int max)
{
	uint64_t pos = 0;
	int n = 0;

	while (n < max) {
		uint64_t d = raw_lseek(fd, pos, SEEK_DATA), h;

		if (d == LSEEK_ERR(ENXIO))
			break;
		h = raw_lseek(fd, d, SEEK_HOLE);
		s[n].start = d;
		if (h == LSEEK_ERR(ENXIO)) {
			s[n++].end = 0;
			break;
		}
		s[n++].end = h;
		if (h <= d)
			return -1;	/* no progress: broken */
		pos = h;
	}
	return n;
}

TEST_F(rw, seek_data_hole_walk)
{
	const struct seg want[] = {
		{ A, HOLE }, { W, C_END }, { H, MID + 2 * PG }, { T, 0 },
	};
	struct seg got[16];
	uint8_t b;
	int n, i;

	n = walk(self->fd, got, 16);
	ASSERT_EQ(4, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(want[i].start, got[i].start) TH_LOG("segment %d", i);
		EXPECT_EQ(want[i].end, got[i].end) TH_LOG("segment %d", i);
	}

	/* Inside data, SEEK_DATA stays; inside a hole, SEEK_HOLE stays. */
	EXPECT_EQ(A + 0x2345, raw_lseek(self->fd, A + 0x2345, SEEK_DATA));
	EXPECT_EQ(HOLE, raw_lseek(self->fd, A + 0x2345, SEEK_HOLE));
	EXPECT_EQ(HOLE + 0x1000, raw_lseek(self->fd, HOLE + 0x1000, SEEK_HOLE));
	EXPECT_EQ(W, raw_lseek(self->fd, HOLE + 0x1000, SEEK_DATA));
	EXPECT_EQ(W, raw_lseek(self->fd, HOLE, SEEK_DATA));
	EXPECT_EQ(A, raw_lseek(self->fd, 0, SEEK_DATA));
	EXPECT_EQ(0ULL, raw_lseek(self->fd, 0, SEEK_HOLE));
	EXPECT_EQ(C_END, raw_lseek(self->fd, C_END - 1, SEEK_HOLE));
	EXPECT_EQ(H, raw_lseek(self->fd, C_END, SEEK_DATA));
	EXPECT_EQ(MID + 2 * PG, raw_lseek(self->fd, MID, SEEK_HOLE));
	EXPECT_EQ(T, raw_lseek(self->fd, MID + 2 * PG, SEEK_DATA));
	EXPECT_EQ(LSEEK_ERR(ENXIO), raw_lseek(self->fd, T + 5, SEEK_HOLE));
	EXPECT_EQ(LSEEK_ERR(ENXIO), raw_lseek(self->fd, GPA_TOP, SEEK_HOLE));
	EXPECT_EQ(GPA_TOP, raw_lseek(self->fd, GPA_TOP, SEEK_DATA));

	/* SEEK_DATA moves the position there. */
	EXPECT_EQ(W, raw_lseek(self->fd, HOLE + 3, SEEK_DATA));
	ASSERT_EQ(1, read(self->fd, &b, 1));
	EXPECT_EQ(pat(W, SEED0), b);

	/* Without T the data ends at 2^63 + 2 pages. */
	ASSERT_EQ(0, gm_remove(self->fd, T, 4 * PG));
	EXPECT_EQ(LSEEK_ERR(ENXIO), raw_lseek(self->fd, MID + 2 * PG, SEEK_DATA));
	EXPECT_EQ(LSEEK_ERR(ENXIO), raw_lseek(self->fd, GPA_TOP, SEEK_DATA));
	EXPECT_EQ(T, raw_lseek(self->fd, T, SEEK_HOLE));
	EXPECT_EQ(GPA_TOP, raw_lseek(self->fd, GPA_TOP, SEEK_HOLE));
	n = walk(self->fd, got, 16);
	ASSERT_EQ(3, n);
	EXPECT_EQ(MID + 2 * PG, got[2].end);

	/* A region added in the middle of a hole shows up. */
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, HOLE + PG, PG));
	EXPECT_EQ(HOLE + PG, raw_lseek(self->fd, HOLE, SEEK_DATA));
	EXPECT_EQ(HOLE + 2 * PG, raw_lseek(self->fd, HOLE + PG, SEEK_HOLE));
	n = walk(self->fd, got, 16);
	ASSERT_EQ(4, n);
}

TEST(seek_empty_space)
{
	int fd = gm_open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(LSEEK_ERR(ENXIO), raw_lseek(fd, 0, SEEK_DATA));
	EXPECT_EQ(LSEEK_ERR(ENXIO), raw_lseek(fd, MID, SEEK_DATA));
	EXPECT_EQ(LSEEK_ERR(ENXIO), raw_lseek(fd, GPA_TOP, SEEK_DATA));
	EXPECT_EQ(0ULL, raw_lseek(fd, 0, SEEK_HOLE));
	EXPECT_EQ(12345ULL, raw_lseek(fd, 12345, SEEK_HOLE));
	EXPECT_EQ(GPA_TOP, raw_lseek(fd, GPA_TOP, SEEK_HOLE));

	/* One region covering the whole top: no hole after it. */
	ASSERT_EQ(0, gm_add_vmalloc(fd, GPA_END(PG), PG));
	EXPECT_EQ(GPA_END(PG), raw_lseek(fd, 0, SEEK_DATA));
	EXPECT_EQ(LSEEK_ERR(ENXIO), raw_lseek(fd, GPA_END(PG), SEEK_HOLE));
	EXPECT_EQ(GPA_END(PG) - 1, raw_lseek(fd, GPA_END(PG) - 1, SEEK_HOLE));
	ASSERT_EQ(0, gm_add_vmalloc(fd, 0, PG));
	EXPECT_EQ(0ULL, raw_lseek(fd, 0, SEEK_DATA));
	EXPECT_EQ(PG, raw_lseek(fd, 0, SEEK_HOLE));
	close(fd);
}

/* Every writer path against every reader path. */
enum { P_IOCTL, P_PRW, P_RWV, P_PRWV, P_MAP, NPATHS };
static const char *const path_name[] = {
	"ioctl", "pread/pwrite", "read/write(v)", "preadv/pwritev", "user mapping",
};

static ssize_t do_path(int fd, int path, bool wr, uint8_t *buf, size_t len,
		       uint64_t gpa, uint8_t *umap)
{
	struct iovec iov[3];
	size_t a = len / 3, b = len / 2;

	iov[0] = (struct iovec){ buf, a };
	iov[1] = (struct iovec){ buf + a, b - a };
	iov[2] = (struct iovec){ buf + b, len - b };
	switch (path) {
	case P_IOCTL:
		if (wr ? gm_write(fd, gpa, buf, len) : gm_read(fd, gpa, buf, len))
			return -1;
		return len;
	case P_PRW:
		return wr ? pwrite(fd, buf, len, gpa) : pread(fd, buf, len, gpa);
	case P_RWV:
		if (lseek(fd, gpa, SEEK_SET) != (off_t)gpa)
			return -1;
		if (wr)
			return len & 1 ? write(fd, buf, len) : writev(fd, iov, 3);
		return len & 1 ? read(fd, buf, len) : readv(fd, iov, 3);
	case P_PRWV:
		return wr ? pwritev(fd, iov, 3, gpa) : preadv(fd, iov, 3, gpa);
	case P_MAP:
		if (wr)
			memcpy(umap + (gpa - U), buf, len);
		else
			memcpy(buf, umap + (gpa - U), len);
		return len;
	}
	return -1;
}

TEST_F(rw, every_path_to_every_path)
{
	static uint8_t buf[8192];
	int w, r;

	for (w = 0; w < NPATHS; w++) {
		for (r = 0; r < NPATHS; r++) {
			/* Across A|U unless the user mapping is involved. */
			bool map = w == P_MAP || r == P_MAP;
			uint64_t gpa = map ? U + 0x100 + w * 64 : U - 0x300 - r * 8;
			size_t len = 4096 + 64 * r + w;
			uint64_t seed = 200 + w * 8 + r;

			pat_fill(buf, gpa, len, seed);
			ASSERT_EQ((ssize_t)len, do_path(self->fd, w, true, buf, len,
							gpa, self->u))
				TH_LOG("write via %s", path_name[w]);
			memset(buf, 0, sizeof(buf));
			ASSERT_EQ((ssize_t)len, do_path(self->fd, r, false, buf, len,
							gpa, self->u))
				TH_LOG("read via %s", path_name[r]);
			EXPECT_EQ(-1, pat_check(buf, gpa, len, seed))
				TH_LOG("written via %s, read via %s",
				       path_name[w], path_name[r]);
		}
	}
}

TEST_HARNESS_MAIN
