// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem regions: ADD_REGION, REMOVE_REGION, GET_REGIONS and GET_INFO,
 * with every error DESIGN.md lists for them: EINVAL, EOVERFLOW, EEXIST,
 * ENOENT, ENOSPC (the max_regions module parameter), ENOMEM and EFAULT.
 */
#include <sys/mount.h>
#include <sys/wait.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define MB		(1ULL << 20)
#define BASE		0x1000000ULL	/* 16 MiB */
#define P(n)		(BASE + (uint64_t)(n) * PG)

static void check_info(struct __test_metadata *_metadata, int fd,
		       uint32_t n, uint64_t total, uint64_t gen, int line)
{
	struct guestmem_info info;
	int i;

	ASSERT_EQ(0, gm_info(fd, &info)) TH_LOG("from line %d", line);
	EXPECT_EQ(1U, info.api_version) TH_LOG("from line %d", line);
	EXPECT_EQ(n, info.num_regions) TH_LOG("from line %d", line);
	EXPECT_EQ(total, info.total_size) TH_LOG("from line %d", line);
	EXPECT_EQ(gen, info.generation) TH_LOG("from line %d", line);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0ULL, info.reserved[i]) TH_LOG("from line %d", line);
	}
}
#define CHECK_INFO(fd, n, total, gen) \
	check_info(_metadata, fd, n, total, gen, __LINE__)

FIXTURE(space) {
	int fd;
	char *mem;		/* 64 pages of anonymous memory */
	long vmlck;
};

FIXTURE_SETUP(space)
{
	self->fd = gm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
	self->mem = map_anon(64 * PG);
	ASSERT_NE(NULL, self->mem);
	memset(self->mem, 0x5a, 64 * PG);
	self->vmlck = vmlck_kb(0);
	ASSERT_LE(0, self->vmlck);
}

FIXTURE_TEARDOWN(space)
{
	close(self->fd);
	munmap(self->mem, 64 * PG);
}

TEST_F(space, add_vmalloc_zeroed)
{
	static char buf[16 * 4096];
	struct guestmem_region_list l;
	struct guestmem_region r;

	CHECK_INFO(self->fd, 0, 0, 0);
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(0), 16 * PG));
	CHECK_INFO(self->fd, 1, 16 * PG, 1);

	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, gm_read(self->fd, P(0), buf, sizeof(buf)));
	EXPECT_EQ(-1, mem_check(buf, 0, sizeof(buf)));

	memset(&r, 0xff, sizeof(r));
	memset(&l, 0, sizeof(l));
	l.count = 1;
	l.regions = (uintptr_t)&r;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, &l));
	EXPECT_EQ(1U, l.count);
	EXPECT_EQ(P(0), r.gpa);
	EXPECT_EQ(16 * PG, r.size);
	EXPECT_EQ(0ULL, r.user_addr);
	EXPECT_EQ((uint32_t)GUESTMEM_BACKING_VMALLOC, r.backing);
	EXPECT_EQ(0U, r.flags);
	EXPECT_EQ(0ULL, r.reserved[0]);
	EXPECT_EQ(0ULL, r.reserved[1]);

	/* VMALLOC memory is not charged as locked memory. */
	EXPECT_EQ(self->vmlck, vmlck_kb(0));
}

TEST_F(space, add_einval)
{
	uint64_t m = (uintptr_t)self->mem;
	const struct {
		uint64_t gpa, size, user_addr;
		uint32_t backing, flags;
		uint64_t res0, res1;
		const char *what;
	} c[] = {
		{ P(0) + 1, PG, 0, 0, 0, 0, 0, "gpa unaligned by 1" },
		{ P(0) + 2048, PG, 0, 0, 0, 0, 0, "gpa unaligned by 2048" },
		{ GPA_END(PG) + 1, PG - 1, 0, 0, 0, 0, 0, "unaligned at the top" },
		{ P(0), 1, 0, 0, 0, 0, 0, "size 1" },
		{ P(0), PG - 1, 0, 0, 0, 0, 0, "size PG-1" },
		{ P(0), PG + 1, 0, 0, 0, 0, 0, "size PG+1" },
		{ P(0), 3 * PG + 512, 0, 0, 0, 0, 0, "size unaligned" },
		{ P(0), 0, 0, 0, 0, 0, 0, "size 0" },
		{ 0, 0, 0, 0, 0, 0, 0, "all zero" },
		{ P(0), PG, 0, 2, 0, 0, 0, "backing 2" },
		{ P(0), PG, 0, 0x100, 0, 0, 0, "backing 0x100" },
		{ P(0), PG, 0, 0xffffffff, 0, 0, 0, "backing ~0" },
		{ P(0), PG, 0, 0, 1U << 2, 0, 0, "flag bit 2" },
		{ P(0), PG, 0, 0, 1U << 31, 0, 0, "flag bit 31" },
		{ P(0), PG, 0, 0, ~3U, 0, 0, "every unknown flag" },
		{ P(0), PG, 0, 0, 0, 1, 0, "reserved[0] = 1" },
		{ P(0), PG, 0, 0, 0, 1ULL << 63, 0, "reserved[0] bit 63" },
		{ P(0), PG, 0, 0, 0, 0, 1, "reserved[1] = 1" },
		{ P(0), PG, m, 0, 0, 0, 0, "VMALLOC with a user_addr" },
		{ P(0), PG, PG, 0, 0, 0, 0, "VMALLOC with user_addr PG" },
		{ P(0), PG, 1, 0, 0, 0, 0, "VMALLOC with user_addr 1" },
		{ P(0), PG, m + 1, 1, 0, 0, 0, "USER, user_addr unaligned by 1" },
		{ P(0), PG, m + 2048, 1, 0, 0, 0, "USER, user_addr unaligned" },
		{ P(0), 0, m, 1, 0, 0, 0, "USER, size 0" },
		{ P(0), PG + 8, m, 1, 0, 0, 0, "USER, size unaligned" },
		{ P(0) + 8, PG, m, 1, 0, 0, 0, "USER, gpa unaligned" },
		{ P(0), PG, m, 1, 1U << 5, 0, 0, "USER, unknown flag" },
		{ P(0), PG, m, 1, 0, 0, 7, "USER, reserved[1]" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct guestmem_region r = gm_region(c[i].gpa, c[i].size,
						     c[i].user_addr,
						     c[i].backing, c[i].flags);

		r.reserved[0] = c[i].res0;
		r.reserved[1] = c[i].res1;
		EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_ADD_REGION, &r))
			TH_LOG("case %u: %s", i, c[i].what);
	}
	CHECK_INFO(self->fd, 0, 0, 0);
	EXPECT_EQ(self->vmlck, vmlck_kb(0));

	/* The same space still takes a valid region. */
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(0), PG));
	CHECK_INFO(self->fd, 1, PG, 1);
}

TEST_F(space, add_eoverflow)
{
	uint64_t m = (uintptr_t)self->mem;
	const struct {
		uint64_t gpa, size, user_addr;
		uint32_t backing;
	} c[] = {
		{ GPA_END(PG), 2 * PG, 0, 0 },
		{ GPA_END(PG), GPA_END(PG), 0, 0 },
		{ GPA_END(4 * PG), 8 * PG, 0, 0 },
		{ 2 * PG, GPA_END(PG), 0, 0 },
		{ 1ULL << 63, (1ULL << 63) + PG, 0, 0 },
		{ 0xffffffff00000000ULL, 0x100000000ULL + PG, 0, 0 },
		{ GPA_END(PG), 2 * PG, m, 1 },
		{ GPA_END(8 * PG), 16 * PG, m, 1 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		EXPECT_EQ(-EOVERFLOW, gm_add(self->fd, c[i].gpa, c[i].size,
					     c[i].user_addr, c[i].backing, 0))
			TH_LOG("case %u: gpa %#llx size %#llx", i,
			       (unsigned long long)c[i].gpa,
			       (unsigned long long)c[i].size);
	}
	CHECK_INFO(self->fd, 0, 0, 0);
	EXPECT_EQ(self->vmlck, vmlck_kb(0));
}

/* A region ending exactly at 2^64 is valid; its last byte is reachable. */
TEST_F(space, top_of_address_space)
{
	struct guestmem_region *r;
	uint8_t b, buf[32];
	uint32_t n = 0;
	uint64_t done;

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, GPA_END(PG), PG));
	ASSERT_EQ(0, gm_add_user(self->fd, GPA_END(3 * PG), 2 * PG, self->mem));
	CHECK_INFO(self->fd, 2, 3 * PG, 2);

	b = 0xc3;
	ASSERT_EQ(0, gm_write(self->fd, GPA_TOP, &b, 1));
	b = 0;
	ASSERT_EQ(0, gm_read(self->fd, GPA_TOP, &b, 1));
	EXPECT_EQ(0xc3, b);

	/* Across the USER/VMALLOC boundary just below the top. */
	pat_fill(buf, GPA_END(PG) - 16, sizeof(buf), 11);
	ASSERT_EQ(0, gm_write(self->fd, GPA_END(PG) - 16, buf, sizeof(buf)));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, gm_read(self->fd, GPA_END(PG) - 16, buf, sizeof(buf)));
	EXPECT_EQ(-1, pat_check(buf, GPA_END(PG) - 16, sizeof(buf), 11));
	/* The USER half landed in the user's memory. */
	EXPECT_EQ(-1, pat_check(self->mem + 2 * PG - 16, GPA_END(PG) - 16, 16, 11));

	/* The last 32 bytes, up to and including 2^64 - 1. */
	pat_fill(buf, GPA_END(32), sizeof(buf), 12);
	ASSERT_EQ(0, gm_write(self->fd, GPA_END(32), buf, sizeof(buf)));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, gm_read(self->fd, GPA_END(32), buf, sizeof(buf)));
	EXPECT_EQ(-1, pat_check(buf, GPA_END(32), sizeof(buf), 12));

	/* One byte more wraps. */
	EXPECT_EQ(-EOVERFLOW, gm_io(self->fd, GUESTMEM_READ, GPA_END(32), buf,
				    33, 0, &done));
	EXPECT_EQ(-EOVERFLOW, gm_io(self->fd, GUESTMEM_READ, GPA_TOP, buf, 2,
				    GUESTMEM_IO_PARTIAL, &done));

	/* Overlaps at the top. */
	EXPECT_EQ(-EEXIST, gm_add_vmalloc(self->fd, GPA_END(PG), PG));
	EXPECT_EQ(-EEXIST, gm_add_vmalloc(self->fd, GPA_END(2 * PG), PG));
	EXPECT_EQ(-EEXIST, gm_add_vmalloc(self->fd, GPA_END(4 * PG), 2 * PG));
	/* Adjacent below is fine. */
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, GPA_END(4 * PG), PG));
	CHECK_INFO(self->fd, 3, 4 * PG, 3);

	r = gm_regions(self->fd, &n);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(3U, n);
	EXPECT_EQ(GPA_END(4 * PG), r[0].gpa);
	EXPECT_EQ(GPA_END(3 * PG), r[1].gpa);
	EXPECT_EQ(2 * PG, r[1].size);
	EXPECT_EQ((uint64_t)(uintptr_t)self->mem, r[1].user_addr);
	EXPECT_EQ(GPA_END(PG), r[2].gpa);
	EXPECT_EQ(PG, r[2].size);
	free(r);

	/* The whole top 4 pages in one read. */
	{
		static uint8_t big[4 * 4096];

		ASSERT_EQ(0, gm_read(self->fd, GPA_END(4 * PG), big, sizeof(big)));
		EXPECT_EQ(-1, pat_check(big + sizeof(big) - 32, GPA_END(32), 32, 12));
	}

	ASSERT_EQ(0, gm_remove(self->fd, GPA_END(PG), PG));
	ASSERT_EQ(0, gm_remove(self->fd, GPA_END(3 * PG), 2 * PG));
	ASSERT_EQ(0, gm_remove(self->fd, GPA_END(4 * PG), PG));
	CHECK_INFO(self->fd, 0, 0, 6);
	EXPECT_EQ(self->vmlck, vmlck_kb(0));
	EXPECT_EQ(-ENXIO, gm_read(self->fd, GPA_TOP, &b, 1));
}

/* Allocation failure: far more than the machine has. */
TEST_F(space, add_vmalloc_enomem)
{
	EXPECT_EQ(-ENOMEM, gm_add_vmalloc(self->fd, 0, 1ULL << 40));
	/* Ends exactly at 2^64: no overflow, just too big. */
	EXPECT_EQ(-ENOMEM, gm_add_vmalloc(self->fd, PG, GPA_END(PG)));
	EXPECT_EQ(-ENOMEM, gm_add_vmalloc(self->fd, 1ULL << 63, 1ULL << 63));
	CHECK_INFO(self->fd, 0, 0, 0);
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, 0, PG));
	CHECK_INFO(self->fd, 1, PG, 1);
}

/* [start, end) in pages relative to BASE. */
struct span {
	unsigned int start, end;
};

TEST_F(space, overlap_eexist_every_shape)
{
	/* X = [16, 24), Y = [32, 40) */
	static const struct span c[] = {
		{ 16, 24 },	/* identical */
		{ 12, 17 },	/* over the start */
		{ 23, 30 },	/* over the end */
		{ 18, 20 },	/* strictly inside */
		{ 10, 30 },	/* strictly containing */
		{ 16, 18 },	/* same start, shorter */
		{ 16, 30 },	/* same start, longer */
		{ 20, 24 },	/* same end, shorter */
		{ 10, 24 },	/* same end, longer */
		{ 15, 17 },	/* straddles the first page */
		{ 23, 25 },	/* straddles the last page */
		{ 16, 17 },	/* the first page */
		{ 23, 24 },	/* the last page */
		{ 0, 64 },	/* far around */
		{ 24, 33 },	/* adjacent to X, into Y */
		{ 20, 36 },	/* into both */
		{ 10, 50 },	/* around both */
		{ 31, 41 },	/* around Y */
		{ 39, 40 },	/* last page of Y */
		{ 23, 33 },	/* the gap and one page of each */
	};
	unsigned int i, backing;

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(16), 8 * PG));
	ASSERT_EQ(0, gm_add_user(self->fd, P(32), 8 * PG, self->mem + 32 * PG));
	CHECK_INFO(self->fd, 2, 16 * PG, 2);
	self->vmlck = vmlck_kb(0);

	for (backing = 0; backing < 2; backing++) {
		for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			uint64_t size = (uint64_t)(c[i].end - c[i].start) * PG;
			uint64_t ua = backing ? (uintptr_t)self->mem : 0;

			EXPECT_EQ(-EEXIST, gm_add(self->fd, P(c[i].start), size,
						  ua, backing, 0))
				TH_LOG("backing %u [%u, %u)", backing,
				       c[i].start, c[i].end);
		}
	}
	CHECK_INFO(self->fd, 2, 16 * PG, 2);
	EXPECT_EQ(self->vmlck, vmlck_kb(0)) TH_LOG("a refused USER add stayed charged");
}

TEST_F(space, adjacent_regions)
{
	static uint8_t buf[40 * 4096];
	struct guestmem_region *r;
	uint32_t n = 0, i;

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(16), 8 * PG));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(32), 8 * PG));
	/* Fills the gap exactly: adjacent on both sides. */
	ASSERT_EQ(0, gm_add_user(self->fd, P(24), 8 * PG, self->mem));
	/* Adjacent below the lowest and above the highest. */
	ASSERT_EQ(0, gm_add_user(self->fd, P(8), 8 * PG, self->mem + 8 * PG));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(40), 8 * PG));
	/* Single pages adjacent to them. */
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(7), PG));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(48), PG));
	CHECK_INFO(self->fd, 7, 42 * PG, 7);

	r = gm_regions(self->fd, &n);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(7U, n);
	EXPECT_EQ(P(7), r[0].gpa);
	for (i = 1; i < n; i++) {
		EXPECT_EQ(r[i - 1].gpa + r[i - 1].size, r[i].gpa) TH_LOG("entry %u", i);
	}
	free(r);

	/* One exact access across all seven. */
	pat_fill(buf, P(7) + 3, sizeof(buf) - 6, 21);
	ASSERT_EQ(0, gm_write(self->fd, P(7) + 3, buf, sizeof(buf) - 6));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, gm_read(self->fd, P(7) + 3, buf, sizeof(buf) - 6));
	EXPECT_EQ(-1, pat_check(buf, P(7) + 3, sizeof(buf) - 6, 21));
	EXPECT_EQ(-1, pat_check(self->mem, P(24), 8 * PG, 21));
	EXPECT_EQ(-1, pat_check(self->mem + 8 * PG, P(8), 8 * PG, 21));
	/* One more byte at either end is a hole. */
	EXPECT_EQ(-ENXIO, gm_read(self->fd, P(7) - 1, buf, 2));
	EXPECT_EQ(-ENXIO, gm_read(self->fd, P(49) - 1, buf, 2));
	EXPECT_EQ(-ENXIO, gm_read(self->fd, P(7) - 1, buf, 42 * PG + 1));
	EXPECT_EQ(-ENXIO, gm_read(self->fd, P(7), buf, 42 * PG + 1));
	ASSERT_EQ(0, gm_read(self->fd, P(7), buf, 40 * PG));
}

TEST_F(space, remove_enoent)
{
	/* A = [16, 24), B = [24, 32), C = [40, 48) */
	static const struct span c[] = {
		{ 0, 1 },	/* nothing there */
		{ 16, 23 },	/* smaller */
		{ 17, 24 },	/* same end, later start */
		{ 15, 24 },	/* same end, earlier start */
		{ 16, 25 },	/* bigger, into B */
		{ 17, 25 },	/* shifted */
		{ 16, 32 },	/* A and B together */
		{ 18, 20 },	/* inside A */
		{ 32, 40 },	/* the hole between B and C */
		{ 48, 56 },	/* the hole after C */
		{ 40, 47 },
		{ 41, 48 },
	};
	static uint8_t buf[32 * 4096];
	unsigned int i;

	EXPECT_EQ(-ENOENT, gm_remove(self->fd, P(0), PG));	/* empty space */

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(16), 8 * PG));
	ASSERT_EQ(0, gm_add_user(self->fd, P(24), 8 * PG, self->mem));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(40), 8 * PG));
	CHECK_INFO(self->fd, 3, 24 * PG, 3);
	self->vmlck = vmlck_kb(0);

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		EXPECT_EQ(-ENOENT, gm_remove(self->fd, P(c[i].start),
					     (uint64_t)(c[i].end - c[i].start) * PG))
			TH_LOG("[%u, %u)", c[i].start, c[i].end);
	}
	CHECK_INFO(self->fd, 3, 24 * PG, 3);
	EXPECT_EQ(self->vmlck, vmlck_kb(0));
	ASSERT_EQ(0, gm_read(self->fd, P(16), buf, 16 * PG));
	ASSERT_EQ(0, gm_read(self->fd, P(40), buf, 8 * PG));

	/* Exact removal works, and a second one is ENOENT. */
	ASSERT_EQ(0, gm_remove(self->fd, P(16), 8 * PG));
	CHECK_INFO(self->fd, 2, 16 * PG, 4);
	EXPECT_EQ(-ENOENT, gm_remove(self->fd, P(16), 8 * PG));
	EXPECT_EQ(-ENXIO, gm_read(self->fd, P(16), buf, 1));
	EXPECT_EQ(-ENXIO, gm_read(self->fd, P(24) - 1, buf, 1));
	ASSERT_EQ(0, gm_read(self->fd, P(24), buf, 8 * PG));
	CHECK_INFO(self->fd, 2, 16 * PG, 4);
}

/*
 * A removal names a range no region can have (empty, misaligned, wrapping):
 * EINVAL or EOVERFLOW, as an add of it would be, not ENOENT; even where a
 * region starts at that gpa.
 */
TEST_F(space, remove_invalid_range)
{
	static const struct {
		uint64_t gpa, size;
		int err;
	} c[] = {
		{ P(16), 0, -EINVAL },
		{ P(16) + 1, 8 * PG, -EINVAL },
		{ P(16), 8 * PG - 1, -EINVAL },
		{ P(16), 8 * PG + 1, -EINVAL },
		{ P(16) + 2048, 8 * PG - 2048, -EINVAL },
		{ -PG, 2 * PG, -EOVERFLOW },
		{ -8 * PG, ~0ULL - 4095, -EOVERFLOW },
	};
	unsigned int i;

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(16), 8 * PG));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, -PG, PG));
	CHECK_INFO(self->fd, 2, 9 * PG, 2);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		EXPECT_EQ(c[i].err, gm_remove(self->fd, c[i].gpa, c[i].size))
			TH_LOG("gpa %#llx size %#llx",
			       (unsigned long long)c[i].gpa,
			       (unsigned long long)c[i].size);
	CHECK_INFO(self->fd, 2, 9 * PG, 2);
	/* The last page of the GPA space is removable, exactly. */
	EXPECT_EQ(0, gm_remove(self->fd, -PG, PG));
	EXPECT_EQ(0, gm_remove(self->fd, P(16), 8 * PG));
	CHECK_INFO(self->fd, 0, 0, 4);
}

/* REMOVE_REGION matches gpa and size alone; reserved must be zero. */
TEST_F(space, remove_matches_gpa_and_size)
{
	struct guestmem_region r, *list;
	uint32_t n = 0, i;
	uint8_t b;

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(0), 4 * PG));
	ASSERT_EQ(0, gm_add(self->fd, P(4), 4 * PG, (uintptr_t)self->mem,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_READONLY));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(100), 4 * PG));
	ASSERT_EQ(0, gm_add_user(self->fd, P(200), 4 * PG, self->mem + 8 * PG));

	/* Garbage in backing, flags and user_addr is ignored. */
	r = gm_region(P(0), 4 * PG, 0x12345678, 7, 0xffffffff);
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_REMOVE_REGION, &r));
	r = gm_region(P(4), 4 * PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_REMOVE_REGION, &r));
	CHECK_INFO(self->fd, 2, 8 * PG, 6);

	/* Non-zero reserved is EINVAL, even for an existing region. */
	r = gm_region(P(100), 4 * PG, 0, 0, 0);
	r.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_REMOVE_REGION, &r));
	r.reserved[0] = 0;
	r.reserved[1] = 1ULL << 40;
	EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_REMOVE_REGION, &r));
	CHECK_INFO(self->fd, 2, 8 * PG, 6);
	ASSERT_EQ(0, gm_read(self->fd, P(100), &b, 1));

	/* Entries from GET_REGIONS can be passed straight back. */
	list = gm_regions(self->fd, &n);
	ASSERT_NE(NULL, list);
	ASSERT_EQ(2U, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, gm_ioctl(self->fd, GUESTMEM_REMOVE_REGION, &list[i]));
	}
	free(list);
	CHECK_INFO(self->fd, 0, 0, 8);
	EXPECT_EQ(self->vmlck, vmlck_kb(0));
}

TEST_F(space, get_regions)
{
	struct guestmem_region want[5], got[8];
	struct guestmem_region_list l;
	void *hole = unmapped_range(PG);
	uint64_t m1 = (uintptr_t)self->mem, m2 = m1 + 16 * PG;
	unsigned int i;

	ASSERT_NE(NULL, hole);

	/* Empty space. */
	memset(&l, 0, sizeof(l));
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, &l));
	EXPECT_EQ(0U, l.count);
	memset(got, 0xff, sizeof(got));
	l.count = 4;
	l.regions = (uintptr_t)got;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, &l));
	EXPECT_EQ(0U, l.count);
	EXPECT_EQ(-1, mem_check(got, 0xff, sizeof(got)));

	/* Five regions, added out of order; want[] is the GPA order. */
	want[0] = gm_region(0x1000, PG, m1, GUESTMEM_BACKING_USER,
			    GUESTMEM_REGION_READONLY);
	want[1] = gm_region(0x2000, 3 * PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	want[2] = gm_region(0x50000000, 2 * PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	want[3] = gm_region(0x100000000ULL, 4 * PG, m2, GUESTMEM_BACKING_USER, 0);
	want[4] = gm_region(GPA_END(PG), PG, 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_READONLY);
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_ADD_REGION, &want[2]));
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_ADD_REGION, &want[4]));
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_ADD_REGION, &want[0]));
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_ADD_REGION, &want[3]));
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_ADD_REGION, &want[1]));
	CHECK_INFO(self->fd, 5, 11 * PG, 5);

	/* count = 0 only asks for n: regions is not touched, even if bogus. */
	memset(&l, 0, sizeof(l));
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, &l));
	EXPECT_EQ(5U, l.count);
	l.count = 0;
	l.regions = (uintptr_t)hole;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, &l));
	EXPECT_EQ(5U, l.count);

	/* count < n: the first count entries, and count = n. */
	memset(got, 0xff, sizeof(got));
	l.count = 3;
	l.regions = (uintptr_t)got;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, &l));
	EXPECT_EQ(5U, l.count);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, memcmp(&want[i], &got[i], sizeof(got[i])))
			TH_LOG("entry %u: gpa %#llx", i, (unsigned long long)got[i].gpa);
	}
	EXPECT_EQ(-1, mem_check(&got[3], 0xff, 5 * sizeof(got[0])));

	/* count == n and count > n: n entries, the rest untouched. */
	memset(got, 0xff, sizeof(got));
	l.count = 5;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, &l));
	EXPECT_EQ(5U, l.count);
	EXPECT_EQ(0, memcmp(want, got, sizeof(want)));
	memset(got, 0xff, sizeof(got));
	l.count = 8;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, &l));
	EXPECT_EQ(5U, l.count);
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(0, memcmp(&want[i], &got[i], sizeof(got[i])))
			TH_LOG("entry %u: gpa %#llx backing %u flags %#x user_addr %#llx reserved %#llx %#llx",
			       i, (unsigned long long)got[i].gpa, got[i].backing,
			       got[i].flags, (unsigned long long)got[i].user_addr,
			       (unsigned long long)got[i].reserved[0],
			       (unsigned long long)got[i].reserved[1]);
	}
	EXPECT_EQ(-1, mem_check(&got[5], 0xff, 3 * sizeof(got[0])));

	/* Errors. */
	l.count = 2;
	l.reserved = 1;
	EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, &l));
	l.reserved = 0;
	l.regions = 0;
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, &l));
	l.count = 2;
	l.regions = (uintptr_t)hole;
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, &l));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, NULL));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_GET_REGIONS, hole));
	CHECK_INFO(self->fd, 5, 11 * PG, 5);
}

TEST_F(space, generation_and_total_size)
{
	struct guestmem_region r;
	uint64_t gen = 0;

	CHECK_INFO(self->fd, 0, 0, gen);
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(0), 2 * PG));
	CHECK_INFO(self->fd, 1, 2 * PG, ++gen);
	EXPECT_EQ(-EEXIST, gm_add_vmalloc(self->fd, P(1), 2 * PG));
	EXPECT_EQ(-EINVAL, gm_add_vmalloc(self->fd, P(1) + 1, 2 * PG));
	EXPECT_EQ(-EOVERFLOW, gm_add_vmalloc(self->fd, GPA_END(PG), 2 * PG));
	CHECK_INFO(self->fd, 1, 2 * PG, gen);
	ASSERT_EQ(0, gm_add_user(self->fd, P(2), 5 * PG, self->mem));
	CHECK_INFO(self->fd, 2, 7 * PG, ++gen);
	ASSERT_EQ(0, gm_remove(self->fd, P(0), 2 * PG));
	CHECK_INFO(self->fd, 1, 5 * PG, ++gen);
	EXPECT_EQ(-ENOENT, gm_remove(self->fd, P(0), 2 * PG));
	r = gm_region(P(2), 5 * PG, 0, 0, 0);
	r.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_REMOVE_REGION, &r));
	CHECK_INFO(self->fd, 1, 5 * PG, gen);
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(0), 2 * PG));
	CHECK_INFO(self->fd, 2, 7 * PG, ++gen);
	ASSERT_EQ(0, gm_remove(self->fd, P(2), 5 * PG));
	CHECK_INFO(self->fd, 1, 2 * PG, ++gen);
	ASSERT_EQ(0, gm_remove(self->fd, P(0), 2 * PG));
	CHECK_INFO(self->fd, 0, 0, ++gen);
	EXPECT_EQ(6ULL, gen);
}

/* Deterministic permutation of 0..n-1. */
static void shuffle(unsigned int *v, unsigned int n, uint64_t seed)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		v[i] = i;
	for (i = n - 1; i > 0; i--) {
		unsigned int j, t;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (unsigned int)((seed >> 33) % (i + 1));
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

/*
 * Many single-page regions with one-page holes between them, added and
 * removed in random order: lookups at every region's first and last byte
 * and in every hole.  3 s in the debug VM on an idle host.
 */
TEST_F_TIMEOUT(space, many_regions, 120)
{
	enum { N = 256 };
	unsigned int order[N], i;
	struct guestmem_region *r;
	char *mem;
	uint32_t n = 0;
	uint8_t b;
	long base_lck;

	mem = map_anon(N * PG);
	ASSERT_NE(NULL, mem);
	memset(mem, 0, N * PG);
	base_lck = vmlck_kb(0);

	shuffle(order, N, 1);
	for (i = 0; i < N; i++) {
		unsigned int k = order[i];
		uint64_t gpa = 0x40000000ULL + (uint64_t)k * 2 * PG;

		if (k & 1) {
			ASSERT_EQ(0, gm_add_user(self->fd, gpa, PG, mem + k * PG))
				TH_LOG("region %u", k);
		} else {
			ASSERT_EQ(0, gm_add_vmalloc(self->fd, gpa, PG))
				TH_LOG("region %u", k);
		}
	}
	CHECK_INFO(self->fd, N, N * PG, N);
	EXPECT_EQ(base_lck + (long)(N / 2 * PG / 1024), vmlck_kb(0));

	r = gm_regions(self->fd, &n);
	ASSERT_NE(NULL, r);
	ASSERT_EQ((uint32_t)N, n);
	for (i = 0; i < N; i++) {
		EXPECT_EQ(0x40000000ULL + (uint64_t)i * 2 * PG, r[i].gpa);
		EXPECT_EQ(PG, r[i].size);
		EXPECT_EQ((uint32_t)(i & 1), r[i].backing);
		EXPECT_EQ(i & 1 ? (uint64_t)(uintptr_t)(mem + i * PG) : 0ULL,
			  r[i].user_addr);
	}
	free(r);

	for (i = 0; i < N; i++) {
		uint64_t gpa = 0x40000000ULL + (uint64_t)i * 2 * PG;

		b = (uint8_t)i;
		ASSERT_EQ(0, gm_write(self->fd, gpa, &b, 1));
		b = (uint8_t)~i;
		ASSERT_EQ(0, gm_write(self->fd, gpa + PG - 1, &b, 1));
		ASSERT_EQ(-ENXIO, gm_read(self->fd, gpa + PG, &b, 1));
		ASSERT_EQ(-ENXIO, gm_read(self->fd, gpa + 2 * PG - 1, &b, 1));
		ASSERT_EQ(-ENXIO, gm_read(self->fd, gpa - 1, &b, 1));
	}
	for (i = 0; i < N; i++) {
		uint64_t gpa = 0x40000000ULL + (uint64_t)i * 2 * PG;

		ASSERT_EQ(0, gm_read(self->fd, gpa, &b, 1));
		ASSERT_EQ((uint8_t)i, b);
		ASSERT_EQ(0, gm_read(self->fd, gpa + PG - 1, &b, 1));
		ASSERT_EQ((uint8_t)~i, b);
		if (i & 1) {
			ASSERT_EQ((uint8_t)i, (uint8_t)mem[i * PG]);
			ASSERT_EQ((uint8_t)~i, (uint8_t)mem[i * PG + PG - 1]);
		}
	}

	shuffle(order, N, 2);
	for (i = 0; i < N; i++) {
		unsigned int k = order[i];

		ASSERT_EQ(0, gm_remove(self->fd, 0x40000000ULL + (uint64_t)k * 2 * PG, PG))
			TH_LOG("region %u", k);
	}
	CHECK_INFO(self->fd, 0, 0, 2 * N);
	EXPECT_EQ(base_lck, vmlck_kb(0));
	munmap(mem, N * PG);
}

TEST_F(space, bad_argument_pointers)
{
	void *hole = unmapped_range(PG);

	ASSERT_NE(NULL, hole);
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_ADD_REGION, NULL));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_ADD_REGION, hole));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_REMOVE_REGION, NULL));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_REMOVE_REGION, hole));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_READ, NULL));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_WRITE, hole));
	CHECK_INFO(self->fd, 0, 0, 0);
}

/* ---- the region limit (module parameter max_regions) ---- */

FIXTURE(limit) {
	uint64_t saved;
	bool changed;
};

FIXTURE_SETUP(limit)
{
	self->changed = false;
	ASSERT_EQ(0, read_file_u64(MAX_REGIONS_PARAM, &self->saved))
		TH_LOG("%s missing: module parameter max_regions", MAX_REGIONS_PARAM);
}

/* Runs in the parent, so the limit is restored even if the test dies. */
FIXTURE_TEARDOWN_PARENT(limit)
{
	if (self->changed) {
		EXPECT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, self->saved));
	}
}

TEST_F(limit, parameter)
{
	struct stat st;

	ASSERT_EQ(0, stat(MAX_REGIONS_PARAM, &st));
	EXPECT_EQ(0644U, st.st_mode & 07777);
	EXPECT_LE(1ULL, self->saved);
}

TEST_F(limit, enospc)
{
	enum { LIMIT = 8 };
	char *mem = map_anon(4 * PG);
	uint64_t val = 0;
	long lck;
	int fd, fd2, i;
	uint8_t b;

	ASSERT_NE(NULL, mem);
	memset(mem, 1, 4 * PG);
	self->changed = true;
	ASSERT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, LIMIT));
	ASSERT_EQ(0, read_file_u64(MAX_REGIONS_PARAM, &val));
	ASSERT_EQ((uint64_t)LIMIT, val);

	fd = gm_open();
	ASSERT_LE(0, fd);
	for (i = 0; i < LIMIT; i++) {
		ASSERT_EQ(0, gm_add_vmalloc(fd, (uint64_t)i * 2 * PG, PG))
			TH_LOG("region %d of %d", i, LIMIT);
	}
	EXPECT_EQ(-ENOSPC, gm_add_vmalloc(fd, 0x100000, PG));
	lck = vmlck_kb(0);
	EXPECT_EQ(-ENOSPC, gm_add_user(fd, 0x200000, 4 * PG, mem));
	EXPECT_EQ(lck, vmlck_kb(0)) TH_LOG("refused USER region stayed charged");
	/* Adjacent to an existing one makes no difference. */
	EXPECT_EQ(-ENOSPC, gm_add_vmalloc(fd, PG, PG));
	CHECK_INFO(fd, LIMIT, LIMIT * PG, LIMIT);
	EXPECT_EQ(-ENXIO, gm_read(fd, 0x100000, &b, 1));

	/* The limit is per space. */
	fd2 = gm_open();
	ASSERT_LE(0, fd2);
	for (i = 0; i < LIMIT; i++) {
		ASSERT_EQ(0, gm_add_vmalloc(fd2, (uint64_t)i * 2 * PG, PG));
	}
	EXPECT_EQ(-ENOSPC, gm_add_vmalloc(fd2, 0x100000, PG));
	close(fd2);

	/* Freeing one slot makes room for exactly one. */
	ASSERT_EQ(0, gm_remove(fd, 3 * 2 * PG, PG));
	ASSERT_EQ(0, gm_add_user(fd, 0x200000, 4 * PG, mem));
	EXPECT_EQ(-ENOSPC, gm_add_vmalloc(fd, 0x100000, PG));
	CHECK_INFO(fd, LIMIT, (LIMIT + 3) * PG, LIMIT + 2);
	close(fd);

	/* Raised again, a new space takes more. */
	ASSERT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, self->saved));
	self->changed = false;
	fd = gm_open();
	ASSERT_LE(0, fd);
	for (i = 0; i < LIMIT + 2; i++) {
		ASSERT_EQ(0, gm_add_vmalloc(fd, (uint64_t)i * 2 * PG, PG));
	}
	close(fd);
	munmap(mem, 4 * PG);
}

/* ---- VMALLOC regions are charged to the caller's memory cgroup ---- */

FIXTURE(memcg) {
	char root[64];
	char grp[96];
	bool mounted, created;
};

static long long cg_u64(const char *grp, const char *file)
{
	char path[160];
	uint64_t v = 0;

	snprintf(path, sizeof(path), "%s/%s", grp, file);
	return read_file_u64(path, &v) ? -1 : (long long)v;
}

FIXTURE_SETUP(memcg)
{
	int ret;

	self->created = false;
	ret = cg2_mount_memory(self->root, sizeof(self->root), "guestmem-cg",
			       &self->mounted);
	ASSERT_EQ(0, ret) TH_LOG("cgroup2 with the memory controller: %s",
				 strerror(-ret));
	snprintf(self->grp, sizeof(self->grp), "%s/guestmem", self->root);
	ASSERT_EQ(0, mkdir(self->grp, 0755));
	self->created = true;
}

FIXTURE_TEARDOWN_PARENT(memcg)
{
	if (self->created) {
		EXPECT_EQ(0, rmdir(self->grp));
	}
	if (self->mounted) {
		EXPECT_EQ(0, umount(self->root));
		rmdir(self->root);
	}
}

TEST_F(memcg, vmalloc_region_charged)
{
	const uint64_t size = 16ULL << 20;
	char path[160], pid[32];
	long long c0, c1, c2;
	int fd, i;

	snprintf(path, sizeof(path), "%s/cgroup.procs", self->grp);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	ASSERT_EQ(0, write_str(path, pid));

	fd = gm_open();
	ASSERT_LE(0, fd);
	c0 = cg_u64(self->grp, "memory.current");
	ASSERT_LE(0, c0);
	ASSERT_EQ(0, gm_add_vmalloc(fd, 0, size));
	c1 = cg_u64(self->grp, "memory.current");
	EXPECT_LE((long long)(size - (1 << 20)), c1 - c0)
		TH_LOG("memory.current %lld -> %lld for a %llu-byte region",
		       c0, c1, (unsigned long long)size);
	ASSERT_EQ(0, gm_remove(fd, 0, size));
	/*
	 * A VMALLOC region is freed one RCU grace period after its removal
	 * (a fast-path access may still be finishing): milliseconds.
	 */
	for (i = 0; i < SETTLE_MS; i++) {
		c2 = cg_u64(self->grp, "memory.current");
		if (c1 - c2 >= (long long)(size - (1 << 20)))
			break;
		usleep(1000);
	}
	EXPECT_LE((long long)(size - (1 << 20)), c1 - c2)
		TH_LOG("memory.current %lld -> %lld after removal", c1, c2);
	close(fd);

	/* Back to the root group, so the teardown can remove ours. */
	snprintf(path, sizeof(path), "%s/cgroup.procs", self->root);
	ASSERT_EQ(0, write_str(path, pid));
}

TEST_HARNESS_MAIN
