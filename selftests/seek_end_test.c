// SPDX-License-Identifier: GPL-2.0
/*
 * lseek(SEEK_END): relative to the space's extent, the end of its highest
 * region (0 when the space is empty), so that tools which size a file with
 * SEEK_END (rust-vmm vm-memory, QEMU) see the space.  EOVERFLOW when the
 * highest region ends at 2^64 (the extent is not a 64-bit number); EINVAL
 * when the result would leave the 64-bit space (below 0 or past 2^64 - 1).
 * A failed lseek leaves the position alone.
 *
 * Results at or above 2^63 are negative off_t values: they are taken raw
 * (raw_lseek), as rw_test does.
 */
#include "guestmem_util.h"
#include "kselftest_harness.h"

#define LSEEK_ERR(e)	((uint64_t)-(int64_t)(e))
#define MID		(1ULL << 63)

FIXTURE(seek_end) {
	int fd;
};

FIXTURE_SETUP(seek_end)
{
	self->fd = gm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(seek_end)
{
	close(self->fd);
}

/* The position, which a failed lseek must not have moved. */
static uint64_t pos(int fd)
{
	return raw_lseek(fd, 0, SEEK_CUR);
}

TEST_F(seek_end, empty_space)
{
	EXPECT_EQ((uint64_t)(0), raw_lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ((uint64_t)(0x1000), raw_lseek(self->fd, 0x1000, SEEK_END));
	EXPECT_EQ((uint64_t)(0x1000), pos(self->fd));
	/* Below 0. */
	EXPECT_EQ(LSEEK_ERR(EINVAL), raw_lseek(self->fd, -1ULL, SEEK_END));
	EXPECT_EQ(LSEEK_ERR(EINVAL), raw_lseek(self->fd, MID, SEEK_END));
	EXPECT_EQ((uint64_t)(0x1000), pos(self->fd));
	/* Any non-negative offset is a position: up to 2^63 - 1. */
	EXPECT_EQ((uint64_t)(MID - 1), raw_lseek(self->fd, MID - 1, SEEK_END));
	/* glibc's lseek agrees on what is small enough to be a result. */
	EXPECT_EQ(0, lseek(self->fd, 0, SEEK_END));

	/* A space that had regions and lost them is empty again. */
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, 0x10000, 4 * PG));
	EXPECT_EQ((uint64_t)(0x14000), raw_lseek(self->fd, 0, SEEK_END));
	ASSERT_EQ(0, gm_remove(self->fd, 0x10000, 4 * PG));
	EXPECT_EQ((uint64_t)(0), raw_lseek(self->fd, 0, SEEK_END));
}

/*
 * Holes below, between and above the regions: the extent is the end of the
 * highest one, whatever lies below; adding and removing regions moves it.
 */
TEST_F(seek_end, holes_at_the_top)
{
	uint8_t buf[16], want[16];

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, 0x10000, 4 * PG));
	EXPECT_EQ((uint64_t)(0x14000), raw_lseek(self->fd, 0, SEEK_END));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, 0x100000, 2 * PG));
	EXPECT_EQ((uint64_t)(0x102000), raw_lseek(self->fd, 0, SEEK_END));
	/* A region below the highest one does not move the extent. */
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, 0x40000, PG));
	EXPECT_EQ((uint64_t)(0x102000), raw_lseek(self->fd, 0, SEEK_END));

	/* Relative to the extent, back into the highest region: its bytes. */
	pat_fill(want, 0x101ff0, sizeof(want), 7);
	ASSERT_EQ(0, gm_write(self->fd, 0x101ff0, want, sizeof(want)));
	EXPECT_EQ((uint64_t)(0x101ff0), raw_lseek(self->fd, -16, SEEK_END));
	EXPECT_EQ((ssize_t)sizeof(buf), read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, want, sizeof(buf)));
	/* At the extent: the hole above, nothing to read. */
	EXPECT_EQ((uint64_t)(0x102000), pos(self->fd));
	EXPECT_EQ(-1, read(self->fd, buf, 1));
	EXPECT_EQ(ENXIO, errno);
	/* Past the extent is a position too (as past the end of a file). */
	EXPECT_EQ((uint64_t)(0x103000), raw_lseek(self->fd, 0x1000, SEEK_END));
	EXPECT_EQ(-1, read(self->fd, buf, 1));
	EXPECT_EQ(ENXIO, errno);

	/* Removing the highest region: the extent falls to the next one. */
	ASSERT_EQ(0, gm_remove(self->fd, 0x100000, 2 * PG));
	EXPECT_EQ((uint64_t)(0x41000), raw_lseek(self->fd, 0, SEEK_END));
	ASSERT_EQ(0, gm_remove(self->fd, 0x40000, PG));
	EXPECT_EQ((uint64_t)(0x14000), raw_lseek(self->fd, 0, SEEK_END));

	/* A region high above: results at and past 2^63, taken raw. */
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, MID, 2 * PG));
	EXPECT_EQ((uint64_t)(MID + 2 * PG), raw_lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ((uint64_t)(0x14000), raw_lseek(self->fd, 0x14000 - (MID + 2 * PG),
				     SEEK_END));
}

/* A region ending at 2^64: the extent is not a 64-bit number. */
TEST_F(seek_end, region_ending_at_2_64)
{
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, 0x10000, PG));
	ASSERT_EQ((uint64_t)(0x1234), raw_lseek(self->fd, 0x1234, SEEK_SET));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, GPA_END(4 * PG), 4 * PG));
	EXPECT_EQ(LSEEK_ERR(EOVERFLOW), raw_lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ(LSEEK_ERR(EOVERFLOW), raw_lseek(self->fd, -1ULL, SEEK_END));
	EXPECT_EQ(LSEEK_ERR(EOVERFLOW), raw_lseek(self->fd, 1, SEEK_END));
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ(EOVERFLOW, errno);
	EXPECT_EQ((uint64_t)(0x1234), pos(self->fd));
	/* The other ways to move still work, up to the last byte. */
	EXPECT_EQ((uint64_t)(GPA_TOP), raw_lseek(self->fd, GPA_TOP, SEEK_SET));
	EXPECT_EQ((uint64_t)(GPA_END(4 * PG)), raw_lseek(self->fd, 0x20000, SEEK_DATA));

	/* Removed, the extent is the region below again. */
	ASSERT_EQ(0, gm_remove(self->fd, GPA_END(4 * PG), 4 * PG));
	EXPECT_EQ((uint64_t)(0x11000), raw_lseek(self->fd, 0, SEEK_END));
}

/* The highest region ends one page short of 2^64: the last results. */
TEST_F(seek_end, region_ending_below_2_64)
{
	uint64_t end = GPA_END(PG);

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, GPA_END(4 * PG), 3 * PG));
	EXPECT_EQ((uint64_t)(end), raw_lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ((uint64_t)(GPA_TOP), raw_lseek(self->fd, PG - 1, SEEK_END));
	/* 2^64 and beyond: out of the space. */
	EXPECT_EQ(LSEEK_ERR(EINVAL), raw_lseek(self->fd, PG, SEEK_END));
	EXPECT_EQ(LSEEK_ERR(EINVAL), raw_lseek(self->fd, MID - 1, SEEK_END));
	EXPECT_EQ((uint64_t)(GPA_TOP), pos(self->fd));
	/* Down by the most an off_t can say, -2^63. */
	EXPECT_EQ((uint64_t)(MID), raw_lseek(self->fd, MID - end, SEEK_END));
	EXPECT_EQ((uint64_t)(MID - PG), raw_lseek(self->fd, MID, SEEK_END));
}

/* Negative offsets relative to a small extent. */
TEST_F(seek_end, negative_offsets)
{
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, 0x2000, 2 * PG));
	ASSERT_EQ((uint64_t)(0x4000), raw_lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ((uint64_t)(0x3fff), raw_lseek(self->fd, -1ULL, SEEK_END));
	EXPECT_EQ((uint64_t)(0x2000), raw_lseek(self->fd, -0x2000ULL, SEEK_END));
	EXPECT_EQ((uint64_t)(0), raw_lseek(self->fd, -0x4000ULL, SEEK_END));
	EXPECT_EQ(0, lseek(self->fd, -0x4000, SEEK_END));
	ASSERT_EQ((uint64_t)(0x100), raw_lseek(self->fd, 0x100, SEEK_SET));
	EXPECT_EQ(LSEEK_ERR(EINVAL), raw_lseek(self->fd, -0x4001ULL, SEEK_END));
	EXPECT_EQ(LSEEK_ERR(EINVAL), raw_lseek(self->fd, MID, SEEK_END));
	EXPECT_EQ(-1, lseek(self->fd, -0x4001, SEEK_END));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ((uint64_t)(0x100), pos(self->fd));
}

/* The extent is the space's: an fd shared with dup() sees it. */
TEST_F(seek_end, shared_fd)
{
	int dup_fd;

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, 0x200000, 16 * PG));
	dup_fd = dup(self->fd);
	ASSERT_LE(0, dup_fd);
	EXPECT_EQ((uint64_t)(0x210000), raw_lseek(dup_fd, 0, SEEK_END));
	EXPECT_EQ((uint64_t)(0x210000), pos(self->fd));
	close(dup_fd);
}

TEST_HARNESS_MAIN
