// SPDX-License-Identifier: GPL-2.0
/*
 * VMALLOC bytes per space are bounded by the max_vmalloc_mb module
 * parameter (default 4096): a VMALLOC region past it is ENOMEM and changes
 * nothing; USER regions do not count; each space has its own budget;
 * removal gives the bytes back; a lowered limit leaves existing regions
 * alone and refuses new ones; 0 refuses every VMALLOC region; bad values
 * are refused.
 */
#include "guestmem_util.h"
#include "kselftest_harness.h"

#define CAP_PARAM	"/sys/module/guestmem/parameters/max_vmalloc_mb"
#define B		0x8000000000ULL
#define MB		(1ULL << 20)

FIXTURE(cap) {
	uint64_t saved;
};

FIXTURE_SETUP(cap)
{
	ASSERT_EQ(0, read_file_u64(CAP_PARAM, &self->saved))
		TH_LOG("%s: no VMALLOC limit parameter", CAP_PARAM);
}

FIXTURE_TEARDOWN_PARENT(cap)
{
	EXPECT_EQ(0, write_file_u64(CAP_PARAM, self->saved));
}

TEST_F(cap, default_value)
{
	EXPECT_EQ(4096ULL, self->saved);
}

TEST_F(cap, bounded_per_space)
{
	struct guestmem_info info;
	int fd, other;
	uint8_t *mem;

	fd = gm_open();
	other = gm_open();
	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, write_file_u64(CAP_PARAM, 1));

	/* 1 MiB in two regions; not one byte more. */
	ASSERT_EQ(0, gm_add_vmalloc(fd, B, MB / 2));
	ASSERT_EQ(0, gm_add_vmalloc(fd, B + MB, MB / 2));
	EXPECT_EQ(-ENOMEM, gm_add_vmalloc(fd, B + 2 * MB, PG));
	EXPECT_EQ(-ENOMEM, gm_add(fd, B + 2 * MB, PG, 0,
				  GUESTMEM_BACKING_VMALLOC,
				  GUESTMEM_REGION_READONLY));
	ASSERT_EQ(0, gm_info(fd, &info));
	EXPECT_EQ(2U, info.num_regions);
	EXPECT_EQ(MB, info.total_size);
	EXPECT_EQ(2ULL, info.generation);

	/* USER regions are not VMALLOC bytes. */
	mem = map_shmem(2 * MB);
	ASSERT_NE(NULL, mem);
	EXPECT_EQ(0, gm_add_user(fd, B + 4 * MB, 2 * MB, mem));

	/* Another space has a budget of its own. */
	EXPECT_EQ(0, gm_add_vmalloc(other, B, MB));
	EXPECT_EQ(-ENOMEM, gm_add_vmalloc(other, B + MB, PG));

	/* Removal gives the bytes back, exactly. */
	ASSERT_EQ(0, gm_remove(fd, B, MB / 2));
	EXPECT_EQ(-ENOMEM, gm_add_vmalloc(fd, B, MB / 2 + PG));
	EXPECT_EQ(0, gm_add_vmalloc(fd, B, MB / 2));
	EXPECT_EQ(-ENOMEM, gm_add_vmalloc(fd, B + 2 * MB, PG));
	close(other);
	close(fd);
	munmap(mem, 2 * MB);
}

TEST_F(cap, lowered_and_zero)
{
	uint8_t b = 9;
	int fd;

	fd = gm_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_file_u64(CAP_PARAM, 2));
	ASSERT_EQ(0, gm_add_vmalloc(fd, B, 2 * MB));
	/* Lowered below what the space has: it keeps it, gets no more. */
	ASSERT_EQ(0, write_file_u64(CAP_PARAM, 1));
	EXPECT_EQ(0, gm_write(fd, B + 2 * MB - 1, &b, 1));
	EXPECT_EQ(-ENOMEM, gm_add_vmalloc(fd, B + 4 * MB, PG));
	ASSERT_EQ(0, gm_remove(fd, B, 2 * MB));
	EXPECT_EQ(0, gm_add_vmalloc(fd, B, MB));
	ASSERT_EQ(0, gm_remove(fd, B, MB));
	/* 0: no VMALLOC region at all. */
	ASSERT_EQ(0, write_file_u64(CAP_PARAM, 0));
	EXPECT_EQ(-ENOMEM, gm_add_vmalloc(fd, B, PG));
	close(fd);
}

TEST_F(cap, large_values)
{
	uint64_t v;
	int fd;

	/* The largest limit whose bytes fit in 64 bits, and no larger. */
	EXPECT_EQ(0, write_file_u64(CAP_PARAM, ~0ULL >> 20));
	EXPECT_NE(0, write_file_u64(CAP_PARAM, (~0ULL >> 20) + 1));
	EXPECT_NE(0, write_str(CAP_PARAM, "-1"));
	EXPECT_NE(0, write_str(CAP_PARAM, "many"));
	ASSERT_EQ(0, read_file_u64(CAP_PARAM, &v));
	EXPECT_EQ(~0ULL >> 20, v);
	/* A limit that large still refuses what cannot be allocated. */
	fd = gm_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOMEM, gm_add_vmalloc(fd, 0, 1ULL << 46));
	EXPECT_EQ(0, gm_add_vmalloc(fd, 0, PG));
	close(fd);
}

TEST_HARNESS_MAIN
