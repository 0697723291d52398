// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem region batches: GUESTMEM_ADD_REGIONS and GUESTMEM_REMOVE_REGIONS.
 * All or nothing, with the single-region ioctls' errors per entry, entries
 * checked in order (each against the space and the entries before it), the
 * failing entry's index reported, and readers that see the whole batch or
 * none of it.
 */
#include <pthread.h>
#include <sys/mman.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define BASE		0x1000000ULL	/* 16 MiB */
#define P(n)		(BASE + (uint64_t)(n) * PG)
#define CAP_PARAM	"/sys/module/guestmem/parameters/max_vmalloc_mb"

/* ADD_REGIONS (@add) or REMOVE_REGIONS; -errno, and the index reported. */
static int update(int fd, bool add, const struct guestmem_region *r,
		  uint32_t count, uint32_t *index)
{
	struct guestmem_region_batch b = {
		.regions = (uintptr_t)r, .count = count, .index = 0xdeadbeef,
	};
	int ret;

	ret = gm_ioctl(fd, add ? GUESTMEM_ADD_REGIONS : GUESTMEM_REMOVE_REGIONS,
		       &b);
	if (index)
		*index = b.index;
	return ret;
}

/* @n one-page VMALLOC regions, every other page from P(0), shuffled. */
static struct guestmem_region *pages(uint32_t n, unsigned int seed)
{
	struct guestmem_region *r = calloc(n, sizeof(*r));
	uint32_t i;

	if (!r)
		return NULL;
	for (i = 0; i < n; i++)
		r[i] = gm_region(P(2 * i), PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	srand(seed);
	for (i = n - 1; i > 0; i--) {
		uint32_t j = rand() % (i + 1);
		struct guestmem_region t = r[i];

		r[i] = r[j];
		r[j] = t;
	}
	return r;
}

/* The space holds exactly @n regions, generation @gen. */
static void check_space(struct __test_metadata *_metadata, int fd,
			uint32_t n, uint64_t total, uint64_t gen, int line)
{
	struct guestmem_info info;

	ASSERT_EQ(0, gm_info(fd, &info)) TH_LOG("from line %d", line);
	EXPECT_EQ(n, info.num_regions) TH_LOG("from line %d", line);
	EXPECT_EQ(total, info.total_size) TH_LOG("from line %d", line);
	EXPECT_EQ(gen, info.generation) TH_LOG("from line %d", line);
}
#define CHECK_SPACE(fd, n, total, gen) \
	check_space(_metadata, fd, n, total, gen, __LINE__)

FIXTURE(space) {
	int fd;
	char *mem;		/* 16 pages of anonymous memory */
};

FIXTURE_SETUP(space)
{
	self->fd = gm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
	self->mem = map_anon(16 * PG);
	ASSERT_NE(NULL, self->mem);
	memset(self->mem, 0x5a, 16 * PG);
}

FIXTURE_TEARDOWN(space)
{
	close(self->fd);
	munmap(self->mem, 16 * PG);
}

TEST_F(space, feature_bit)
{
	struct guestmem_info info;

	ASSERT_EQ(0, gm_info(self->fd, &info));
	EXPECT_EQ(GUESTMEM_FEATURE_REGION_BATCH,
		  info.features & GUESTMEM_FEATURE_REGION_BATCH);
}

/* Thousands of regions in any order, in one call each way. */
TEST_F(space, add_and_remove_many)
{
	const uint32_t n = 3000;
	struct guestmem_region *r = pages(n, 1), *got;
	uint32_t i, index, cnt;
	uint64_t v;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, 0, PG));
	ASSERT_EQ(0, update(self->fd, true, r, n, &index));
	EXPECT_EQ(n, index);
	/* One publication: the generation moves once. */
	CHECK_SPACE(self->fd, n + 1, (n + 1) * PG, 2);

	got = gm_regions(self->fd, &cnt);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(n + 1, cnt);
	EXPECT_EQ(0ULL, got[0].gpa);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(P(2 * i), got[i + 1].gpa);
		EXPECT_EQ(PG, got[i + 1].size);
	}
	free(got);
	/* Each is memory of its own, zeroed, and the holes stay holes. */
	for (i = 0; i < n; i += 97) {
		v = 0x1234 + i;
		EXPECT_EQ(-1, gm_mem_check(self->fd, P(2 * i), PG, 0));
		EXPECT_EQ(0, gm_write(self->fd, P(2 * i) + 8, &v, sizeof(v)));
		EXPECT_EQ(-ENXIO, gm_read(self->fd, P(2 * i + 1), &v, 1));
	}
	for (i = 0; i < n; i += 97) {
		EXPECT_EQ(0, gm_read(self->fd, P(2 * i) + 8, &v, sizeof(v)));
		EXPECT_EQ(0x1234ULL + i, v);
	}

	free(r);
	r = pages(n, 2);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, update(self->fd, false, r, n, &index));
	EXPECT_EQ(n, index);
	CHECK_SPACE(self->fd, 1, PG, 3);
	EXPECT_EQ(-ENXIO, gm_read(self->fd, P(0), &v, 1));
	free(r);
}

TEST_F(space, count_zero)
{
	uint32_t index;

	EXPECT_EQ(0, update(self->fd, true, NULL, 0, &index));
	EXPECT_EQ(0U, index);
	EXPECT_EQ(0, update(self->fd, false, NULL, 0, &index));
	EXPECT_EQ(0U, index);
	CHECK_SPACE(self->fd, 0, 0, 0);
}

/* Errors of the call as a whole report @count as the index. */
TEST_F(space, call_errors)
{
	struct guestmem_region r = gm_region(P(0), PG, 0,
					     GUESTMEM_BACKING_VMALLOC, 0);
	struct guestmem_region_batch b;
	bool add;

	for (add = false; ; add = true) {
		unsigned long cmd = add ? GUESTMEM_ADD_REGIONS :
					  GUESTMEM_REMOVE_REGIONS;

		b = (struct guestmem_region_batch){ .regions = (uintptr_t)&r,
						    .count = 1, .flags = 1 };
		EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, cmd, &b));
		EXPECT_EQ(1U, b.index);
		b.flags = 0;
		b.reserved = 1;
		EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, cmd, &b));
		EXPECT_EQ(1U, b.index);
		b.reserved = 0;
		b.count = GUESTMEM_REGION_BATCH_MAX + 1;
		EXPECT_EQ(-E2BIG, gm_ioctl(self->fd, cmd, &b));
		EXPECT_EQ(GUESTMEM_REGION_BATCH_MAX + 1U, b.index);
		b.count = 2;
		b.regions = (uintptr_t)unmapped_range(2 * PG);
		EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, cmd, &b));
		EXPECT_EQ(2U, b.index);
		/* The argument itself unreadable. */
		EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, cmd,
					    unmapped_range(PG)));
		if (add)
			break;
	}
	CHECK_SPACE(self->fd, 0, 0, 0);
}

/*
 * An add batch whose entry @bad fails with @err changes nothing: no
 * region, no generation, no VmLck from the USER entries before it.
 */
static void add_fails(struct __test_metadata *_metadata, int fd,
		      struct guestmem_region *r, uint32_t n, uint32_t bad,
		      int err, int line)
{
	struct guestmem_info before, after;
	long lck = vmlck_kb(0);
	uint32_t index;

	ASSERT_EQ(0, gm_info(fd, &before));
	EXPECT_EQ(err, update(fd, true, r, n, &index)) TH_LOG("line %d", line);
	EXPECT_EQ(bad, index) TH_LOG("line %d", line);
	ASSERT_EQ(0, gm_info(fd, &after));
	EXPECT_EQ(before.num_regions, after.num_regions) TH_LOG("line %d", line);
	EXPECT_EQ(before.generation, after.generation) TH_LOG("line %d", line);
	EXPECT_EQ(lck, vmlck_kb(0)) TH_LOG("line %d: pins kept", line);
}
#define ADD_FAILS(r, n, bad, err) \
	add_fails(_metadata, self->fd, r, n, bad, err, __LINE__)

TEST_F(space, add_entry_errors)
{
	struct guestmem_region r[5];
	char *hole = unmapped_range(4 * PG);
	int i;

	ASSERT_NE(NULL, hole);
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, P(100), 4 * PG));
	/* USER entries first, so that a failure must unpin them. */
	for (i = 0; i < 5; i++)
		r[i] = gm_region(P(4 * i), 4 * PG,
				 (uintptr_t)self->mem + (i % 4) * 4 * PG,
				 GUESTMEM_BACKING_USER, 0);

	r[3].size = PG + 1;
	ADD_FAILS(r, 5, 3, -EINVAL);
	r[3].size = 4 * PG;
	r[2].reserved[1] = 1;
	ADD_FAILS(r, 5, 2, -EINVAL);
	r[2].reserved[1] = 0;
	r[4].flags = 0x80;
	ADD_FAILS(r, 5, 4, -EINVAL);
	r[4].flags = 0;
	r[1].user_addr = (uintptr_t)hole;
	ADD_FAILS(r, 5, 1, -EFAULT);
	r[1].user_addr = (uintptr_t)self->mem + 4 * PG;
	r[4] = gm_region(GPA_END(PG), 2 * PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	ADD_FAILS(r, 5, 4, -EOVERFLOW);
	/* Against the space ... */
	r[4] = gm_region(P(102), PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	ADD_FAILS(r, 5, 4, -EEXIST);
	/* ... and against an entry before it, in either direction. */
	r[4] = gm_region(P(5), 2 * PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	ADD_FAILS(r, 5, 4, -EEXIST);
	r[3] = gm_region(P(18), PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	r[4] = gm_region(P(16), 8 * PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	ADD_FAILS(r, 5, 4, -EEXIST);
	/* The first failing entry in order is the one reported. */
	r[3] = gm_region(P(101), PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	r[4].size = 3;
	ADD_FAILS(r, 5, 3, -EEXIST);

	r[3] = gm_region(P(12), 4 * PG, (uintptr_t)self->mem + 12 * PG,
			 GUESTMEM_BACKING_USER, GUESTMEM_REGION_READONLY);
	r[4] = gm_region(P(16), 4 * PG, 0, GUESTMEM_BACKING_VMALLOC,
			 GUESTMEM_REGION_DIRTY_LOG);
	EXPECT_EQ(0, update(self->fd, true, r, 5, NULL));
	CHECK_SPACE(self->fd, 6, 24 * PG, 2);
	/* The USER regions are the caller's memory. */
	EXPECT_EQ(-1, gm_mem_check(self->fd, P(0), 16 * PG, 0x5a));
	EXPECT_EQ(-1, gm_mem_check(self->fd, P(16), 4 * PG, 0));
}

/* Sequential checks: ENOSPC at the entry that passes the limit. */
TEST_F(space, add_limit)
{
	struct guestmem_region *r = pages(10, 3);
	uint64_t saved;
	uint32_t index;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, read_file_u64(MAX_REGIONS_PARAM, &saved));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, 0, PG));
	ASSERT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, 6));
	EXPECT_EQ(-ENOSPC, update(self->fd, true, r, 10, &index));
	EXPECT_EQ(5U, index);
	EXPECT_EQ(0, update(self->fd, true, r, 5, &index));
	EXPECT_EQ(5U, index);
	EXPECT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, saved));
	CHECK_SPACE(self->fd, 6, 6 * PG, 2);
	free(r);
}

/* The VMALLOC cap counts the entries before the one that passes it. */
TEST_F(space, add_vmalloc_cap)
{
	struct guestmem_region r[3];
	uint64_t saved;
	uint32_t index;
	int i;

	ASSERT_EQ(0, read_file_u64(CAP_PARAM, &saved));
	ASSERT_EQ(0, write_file_u64(CAP_PARAM, 2));
	for (i = 0; i < 3; i++)
		r[i] = gm_region(P(i * 256), 768 * 1024, 0,
				 GUESTMEM_BACKING_VMALLOC, 0);
	EXPECT_EQ(-ENOMEM, update(self->fd, true, r, 3, &index));
	EXPECT_EQ(2U, index);
	EXPECT_EQ(0, update(self->fd, true, r, 2, &index));
	EXPECT_EQ(0, write_file_u64(CAP_PARAM, saved));
	CHECK_SPACE(self->fd, 2, 2 * 768 * 1024, 1);
}

TEST_F(space, remove_entry_errors)
{
	struct guestmem_region r[4];
	struct guestmem_info info;
	uint32_t index;
	long lck;
	int i;

	for (i = 0; i < 4; i++)
		r[i] = gm_region(P(4 * i), 4 * PG,
				 (uintptr_t)self->mem + 4 * i * PG,
				 GUESTMEM_BACKING_USER, 0);
	lck = vmlck_kb(0);
	ASSERT_EQ(0, update(self->fd, true, r, 4, NULL));
	EXPECT_EQ(lck + 64, vmlck_kb(0));
	lck += 64;

	r[2].size = 2 * PG;		/* not a region's exact range */
	EXPECT_EQ(-ENOENT, update(self->fd, false, r, 4, &index));
	EXPECT_EQ(2U, index);
	r[2].size = 4 * PG;
	r[3] = r[1];			/* named twice */
	EXPECT_EQ(-ENOENT, update(self->fd, false, r, 4, &index));
	EXPECT_EQ(3U, index);
	r[3] = gm_region(P(12), 4 * PG, 0, 0, 0);
	r[1].reserved[0] = 1;
	EXPECT_EQ(-EINVAL, update(self->fd, false, r, 4, &index));
	EXPECT_EQ(1U, index);
	r[1].reserved[0] = 0;
	r[0].gpa = P(100);
	EXPECT_EQ(-ENOENT, update(self->fd, false, r, 4, &index));
	EXPECT_EQ(0U, index);
	r[0].gpa = P(0);
	/* Ranges no region can have: refused as such, before the lookup. */
	r[2].gpa += 1;
	EXPECT_EQ(-EINVAL, update(self->fd, false, r, 4, &index));
	EXPECT_EQ(2U, index);
	r[2].gpa -= 1;
	r[3].size = 0;
	EXPECT_EQ(-EINVAL, update(self->fd, false, r, 4, &index));
	EXPECT_EQ(3U, index);
	r[3] = gm_region(-2 * PG, 4 * PG, 0, 0, 0);
	EXPECT_EQ(-EOVERFLOW, update(self->fd, false, r, 4, &index));
	EXPECT_EQ(3U, index);
	r[3] = gm_region(P(12), 4 * PG, 0, 0, 0);
	CHECK_SPACE(self->fd, 4, 16 * PG, 1);
	EXPECT_EQ(lck, vmlck_kb(0));

	/* Backing, flags and user_addr are ignored, as by REMOVE_REGION. */
	r[0].backing = 7;
	r[0].flags = 0xff;
	r[0].user_addr = 1;
	EXPECT_EQ(0, update(self->fd, false, r, 3, &index));
	EXPECT_EQ(3U, index);
	EXPECT_EQ(lck - 48, wait_vmlck(0, lck - 48, 2000));
	ASSERT_EQ(0, gm_info(self->fd, &info));
	EXPECT_EQ(1U, info.num_regions);
	EXPECT_EQ(0, gm_remove(self->fd, P(12), 4 * PG));
	EXPECT_EQ(lck - 64, wait_vmlck(0, lck - 64, 2000));
}

/* A removal batch zaps every removed range from the mappings, only those. */
TEST_F(space, remove_zaps_mappings)
{
	struct guestmem_region *r = pages(8, 4);
	volatile uint8_t *map;
	int i;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, sigbus_install());
	ASSERT_EQ(0, update(self->fd, true, r, 8, NULL));
	map = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->fd, P(0));
	ASSERT_NE(MAP_FAILED, map);
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, sigbus_store(map + 2 * i * PG, i + 1));
	/* Remove the regions of r[0..3], whichever they are. */
	ASSERT_EQ(0, update(self->fd, false, r, 4, NULL));
	for (i = 0; i < 4; i++) {
		uint64_t page = (r[i].gpa - P(0)) / PG;

		EXPECT_EQ(-1, sigbus_load(map + page * PG));
	}
	for (i = 4; i < 8; i++) {
		uint64_t page = (r[i].gpa - P(0)) / PG;

		EXPECT_EQ((int)page / 2 + 1, sigbus_load(map + page * PG));
	}
	munmap((void *)map, 16 * PG);
	free(r);
}

TEST(read_only_file)
{
	struct guestmem_region r = gm_region(P(0), PG, 0,
					     GUESTMEM_BACKING_VMALLOC, 0);
	int fd = open(GM_DEV, O_RDONLY);
	uint32_t index = 7;

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADF, update(fd, true, &r, 1, &index));
	EXPECT_EQ(-EBADF, update(fd, false, &r, 1, &index));
	close(fd);
}

/* ---- readers see all of a batch or none of it ---- */

struct watch {
	int fd;
	uint32_t n;
	volatile bool stop;
	unsigned long samples, partial;
};

static void *watch_regions(void *arg)
{
	struct watch *w = arg;
	struct guestmem_info info;

	while (!w->stop) {
		if (gm_info(w->fd, &info))
			break;
		if ((info.num_regions != 0 && info.num_regions != w->n) ||
		    info.total_size != info.num_regions * PG)
			w->partial++;
		w->samples++;
	}
	return NULL;
}

TEST_F(space, readers_see_all_or_none)
{
	struct watch w = { .fd = self->fd, .n = 256 };
	struct guestmem_region *r = pages(w.n, 5);
	pthread_t t;
	int round;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, pthread_create(&t, NULL, watch_regions, &w));
	for (round = 0; round < 20; round++) {
		ASSERT_EQ(0, update(self->fd, true, r, w.n, NULL));
		ASSERT_EQ(0, update(self->fd, false, r, w.n, NULL));
	}
	w.stop = true;
	pthread_join(t, NULL);
	EXPECT_EQ(0UL, w.partial);
	EXPECT_LT(0UL, w.samples);
	TH_LOG("%lu samples", w.samples);
	free(r);
}

TEST_HARNESS_MAIN
