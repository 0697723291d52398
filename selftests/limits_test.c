// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem limits, beyond what regions_test and user_backing_test cover
 * (the basic ENOSPC, VmLck accounting and memory.current growth):
 *
 *  - max_regions: refused values leave it alone; lowered below a space's
 *    count, that space keeps its regions and adds fail until it shrinks
 *    below the limit; adders racing for the last slots get exactly the
 *    limit, never one more;
 *  - memory cgroup: a memory.max smaller than a VMALLOC region refuses it
 *    with ENOMEM (no OOM kill, nothing left charged) while smaller regions
 *    fit; the charge goes to the cgroup of the process that added the
 *    region, even through an inherited fd, and goes away when the region is
 *    freed by another process closing the last fd; a DIRTY_LOG or USER
 *    region whose size cannot possibly be backed is ENOMEM too, not an OOM
 *    kill (guestmem must not allocate its bookkeeping first);
 *  - RLIMIT_MEMLOCK: the limit covers every space of the mm together; a
 *    refused region leaves VmLck alone; a USER region far beyond the limit
 *    is refused cleanly (ENOMEM), with no kernel warning.
 */
#include <pthread.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define G		0x100000000ULL

/* ---- max_regions ------------------------------------------------------------ */

FIXTURE(maxreg) {
	uint64_t saved;
};

FIXTURE_SETUP(maxreg)
{
	ASSERT_EQ(0, read_file_u64(MAX_REGIONS_PARAM, &self->saved));
}

FIXTURE_TEARDOWN_PARENT(maxreg)
{
	EXPECT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, self->saved));
}

TEST_F(maxreg, refused_values_change_nothing)
{
	static const char *const bad[] = { "0", "-1", "abc", "4294967296",
					   "99999999999999999999", "0x80000000" };
	uint64_t v;
	unsigned int i;
	int ret;

	ASSERT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, 1234));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ret = write_str(MAX_REGIONS_PARAM, bad[i]);
		EXPECT_TRUE(ret == -EINVAL || ret == -ERANGE)
			TH_LOG("writing \"%s\": %d", bad[i], ret);
		ASSERT_EQ(0, read_file_u64(MAX_REGIONS_PARAM, &v));
		EXPECT_EQ(1234ULL, v) TH_LOG("after \"%s\"", bad[i]);
	}
	/* The largest sane value is accepted. */
	ASSERT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, 1 << 20));
	ASSERT_EQ(0, read_file_u64(MAX_REGIONS_PARAM, &v));
	EXPECT_EQ(1ULL << 20, v);
}

TEST_F(maxreg, lowered_below_a_space_count)
{
	struct guestmem_info info;
	uint8_t b = 7;
	int fd = gm_open(), i;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, 16));
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, gm_add_vmalloc(fd, G + i * 2 * PG, PG));
	}
	EXPECT_EQ(-ENOSPC, gm_add_vmalloc(fd, 0, PG));

	/* Lowered: what is there stays and works; nothing new comes in. */
	ASSERT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, 4));
	ASSERT_EQ(0, gm_info(fd, &info));
	EXPECT_EQ(16U, info.num_regions);
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, gm_write(fd, G + i * 2 * PG + PG - 1, &b, 1));
	}
	EXPECT_EQ(-ENOSPC, gm_add_vmalloc(fd, 0, PG));
	/* Removing is always possible; adding only below the limit. */
	for (i = 15; i >= 4; i--) {
		ASSERT_EQ(0, gm_remove(fd, G + i * 2 * PG, PG));
		EXPECT_EQ(-ENOSPC, gm_add_vmalloc(fd, 0, PG)) TH_LOG("at %d regions", i);
	}
	ASSERT_EQ(0, gm_remove(fd, G, PG));
	EXPECT_EQ(0, gm_add_vmalloc(fd, 0, PG));
	EXPECT_EQ(-ENOSPC, gm_add_vmalloc(fd, PG, PG));
	ASSERT_EQ(0, gm_info(fd, &info));
	EXPECT_EQ(4U, info.num_regions);
	close(fd);
}

struct racer {
	int fd;
	unsigned int id;
	unsigned int ok, nospc, other;
	pthread_t th;
};

static void *race_add(void *arg)
{
	struct racer *r = arg;
	unsigned int i;
	int ret;

	for (i = 0; i < 40; i++) {
		ret = gm_add_vmalloc(r->fd, G + ((uint64_t)r->id * 64 + i) * 2 * PG, PG);
		if (!ret)
			r->ok++;
		else if (ret == -ENOSPC)
			r->nospc++;
		else
			r->other++;
	}
	return NULL;
}

TEST_F(maxreg, racing_adders_get_exactly_the_limit)
{
	enum { LIMIT = 50, NT = 4 };
	struct racer r[NT];
	struct guestmem_info info;
	unsigned int i, ok = 0;
	int fd = gm_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, LIMIT));
	memset(r, 0, sizeof(r));
	for (i = 0; i < NT; i++) {
		r[i].fd = fd;
		r[i].id = i;
		ASSERT_EQ(0, pthread_create(&r[i].th, NULL, race_add, &r[i]));
	}
	for (i = 0; i < NT; i++) {
		pthread_join(r[i].th, NULL);
		ok += r[i].ok;
		EXPECT_EQ(0U, r[i].other);
	}
	EXPECT_EQ((unsigned int)LIMIT, ok);
	ASSERT_EQ(0, gm_info(fd, &info));
	EXPECT_EQ((uint32_t)LIMIT, info.num_regions);
	EXPECT_EQ((uint64_t)LIMIT, info.generation);
	close(fd);
}

/* ---- memory cgroup ------------------------------------------------------------ */

FIXTURE(memcg) {
	char root[64];
	char grp[2][96];
	bool mounted, created[2];
};

static long long cg_read(const char *grp, const char *file)
{
	char path[160];
	uint64_t v = 0;

	snprintf(path, sizeof(path), "%s/%s", grp, file);
	return read_file_u64(path, &v) ? -1 : (long long)v;
}

/* A "key value" line of a cgroup file (memory.events). */
static long long cg_key(const char *grp, const char *file, const char *key)
{
	char path[160], line[128];
	long long v = -1;
	size_t klen = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", grp, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ' ')
			v = strtoll(line + klen + 1, NULL, 10);
	fclose(f);
	return v;
}

static int cg_set(const char *grp, const char *file, const char *val)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", grp, file);
	return write_str(path, val);
}

static int cg_enter(const char *grp)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return cg_set(grp, "cgroup.procs", pid);
}

FIXTURE_SETUP(memcg)
{
	int i, ret;

	self->created[0] = self->created[1] = false;
	ret = cg2_mount_memory(self->root, sizeof(self->root), "gm-limits-cg",
			       &self->mounted);
	ASSERT_EQ(0, ret) TH_LOG("cgroup2 with the memory controller: %s",
				 strerror(-ret));
	for (i = 0; i < 2; i++) {
		snprintf(self->grp[i], sizeof(self->grp[i]), "%s/lim%d", self->root, i);
		ASSERT_EQ(0, mkdir(self->grp[i], 0755));
		self->created[i] = true;
	}
}

FIXTURE_TEARDOWN_PARENT(memcg)
{
	int i;

	/* Children that entered the groups are gone: the groups are empty. */
	for (i = 0; i < 2; i++) {
		if (self->created[i]) {
			EXPECT_EQ(0, rmdir(self->grp[i])) TH_LOG("rmdir %s: %s",
							       self->grp[i], strerror(errno));
		}
	}
	if (self->mounted) {
		EXPECT_EQ(0, umount(self->root));
		rmdir(self->root);
	}
}

/* Refused charges reclaim first: 3 s in the debug VM on an idle host. */
TEST_F_TIMEOUT(memcg, memory_max_refuses_a_large_region, 120)
{
	const char *g = self->grp[0];
	pid_t pid;

	ASSERT_EQ(0, cg_set(g, "memory.max", "33554432"));	/* 32 MiB */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long long c0, c1;
		uint8_t b = 1;
		int fd, i;

		CHILD_CHECK(cg_enter(g) == 0);
		fd = gm_open();
		CHILD_CHECK(fd >= 0);
		c0 = cg_read(g, "memory.current");
		CHILD_CHECK(c0 >= 0);
		/* Twice the limit: refused, nothing stays charged. */
		CHILD_CHECK(gm_add_vmalloc(fd, G, 64ULL << 20) == -ENOMEM);
		c1 = cg_read(g, "memory.current");
		CHILD_CHECK(c1 - c0 < (1 << 20));
		/* Refused again, and the space still works. */
		CHILD_CHECK(gm_add_vmalloc(fd, G, 48ULL << 20) == -ENOMEM);
		CHILD_CHECK(gm_add_vmalloc(fd, G, 8ULL << 20) == 0);
		c1 = cg_read(g, "memory.current");
		CHILD_CHECK(c1 - c0 >= (7LL << 20));
		CHILD_CHECK(gm_write(fd, G + (8 << 20) - 1, &b, 1) == 0);
		/* What is left under the limit is still refused as a whole. */
		CHILD_CHECK(gm_add_vmalloc(fd, 2 * G, 32ULL << 20) == -ENOMEM);
		CHILD_CHECK(gm_remove(fd, G, 8ULL << 20) == 0);
		/* A VMALLOC region is freed an RCU grace period later. */
		for (i = 0; i < SETTLE_MS; i++) {
			c1 = cg_read(g, "memory.current");
			if (c1 - c0 < (1 << 20))
				break;
			usleep(1000);
		}
		CHILD_CHECK(c1 - c0 < (1 << 20));
		close(fd);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid)) TH_LOG("1000 + 9: the child was OOM-killed");
	EXPECT_EQ(0LL, cg_key(g, "memory.events", "oom_kill"));
}

/*
 * The charge follows the process that added the region (an fd inherited
 * across fork), and is dropped when the region is freed by another
 * process's close.
 */
TEST_F(memcg, charge_follows_the_adder)
{
	const uint64_t size = 16ULL << 20;
	const char *a = self->grp[0], *b = self->grp[1];
	long long a0, b0, a1, b1;
	int fd = gm_open(), st;
	pid_t pid;

	ASSERT_LE(0, fd);
	a0 = cg_read(a, "memory.current");
	b0 = cg_read(b, "memory.current");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(cg_enter(b) == 0);
		CHILD_CHECK(gm_add_vmalloc(fd, G, size) == 0);
		_exit(0);
	}
	st = wait_child(pid);
	ASSERT_EQ(0, st);
	a1 = cg_read(a, "memory.current");
	b1 = cg_read(b, "memory.current");
	EXPECT_LE((long long)(size - (1 << 20)), b1 - b0)
		TH_LOG("adder's group: %lld -> %lld", b0, b1);
	EXPECT_GT(1LL << 20, a1 - a0);
	/* The parent, in another group, frees it. */
	close(fd);
	b1 = cg_read(b, "memory.current");
	EXPECT_GT(1LL << 20, b1 - b0) TH_LOG("still charged after the last close: %lld -> %lld",
					     b0, b1);
}

/*
 * Sizes no machine can back, with bookkeeping that grows with the size: a
 * DIRTY_LOG bitmap (size / 32768 bytes) and a USER page array (size / 512
 * bytes).  In a 32 MiB group these must fail with ENOMEM like any other
 * region that does not fit -- not OOM-kill the caller because guestmem
 * allocated the bookkeeping before finding that out.
 */
/* Run @child in a process of its own in the 32 MiB group @g: not OOM-killed. */
static void run_in_32m_group(struct __test_metadata *_metadata, const char *g,
			     void (*child)(void))
{
	pid_t pid;

	ASSERT_EQ(0, cg_set(g, "memory.max", "33554432"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(cg_enter(g) == 0);
		child();
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid)) TH_LOG("1000 + 9: the child was OOM-killed");
	EXPECT_EQ(0LL, cg_key(g, "memory.events", "oom_kill"));
}

static void unbackable_dirty_log_region(void)
{
	int fd = gm_open();

	CHILD_CHECK(fd >= 0);
	/* 2^44 bytes: 2^32 pages, a 512 MiB bitmap. */
	CHILD_CHECK(gm_add(fd, G, 1ULL << 44, 0, GUESTMEM_BACKING_VMALLOC,
			   GUESTMEM_REGION_DIRTY_LOG) == -ENOMEM);
	CHILD_CHECK(gm_add(fd, G, 1ULL << 42, 0, GUESTMEM_BACKING_VMALLOC,
			   GUESTMEM_REGION_DIRTY_LOG |
			   GUESTMEM_REGION_READONLY) == -ENOMEM);
	close(fd);
}

TEST_F(memcg, unbackable_dirty_log_region_is_enomem)
{
	run_in_32m_group(_metadata, self->grp[0], unbackable_dirty_log_region);
}

static void unbackable_user_region(void)
{
	int fd, ret;

	CHILD_CHECK(cap_ipc_lock(true) == 0);
	CHILD_CHECK(set_memlock(64 << 10) == 0);
	fd = gm_open();
	CHILD_CHECK(fd >= 0);
	/*
	 * 64 GiB of an unmapped, low user range: far past RLIMIT_MEMLOCK
	 * (ENOMEM) and not mapped (EFAULT); its page array would be 128 MiB.
	 */
	ret = gm_add_user(fd, G, 64ULL << 30, (void *)0x10000000UL);
	CHILD_CHECK(ret == -ENOMEM || ret == -EFAULT);
	close(fd);
}

TEST_F(memcg, unbackable_user_region_is_enomem)
{
	run_in_32m_group(_metadata, self->grp[0], unbackable_user_region);
}

/* ---- RLIMIT_MEMLOCK ---------------------------------------------------------- */

#define KB(pages)	((long)(pages) * (long)(PG / 1024))

TEST(memlock_covers_all_spaces_of_the_mm)
{
	uint8_t *mem = map_anon(16 * PG);
	pid_t pid;

	ASSERT_NE(NULL, mem);
	memset(mem, 1, 16 * PG);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long base = vmlck_kb(0);
		int f1, f2;

		CHILD_CHECK(cap_ipc_lock(true) == 0);
		CHILD_CHECK(set_memlock(base * 1024 + 8 * PG) == 0);
		f1 = gm_open();
		f2 = gm_open();
		CHILD_CHECK(f1 >= 0 && f2 >= 0);
		CHILD_CHECK(gm_add_user(f1, G, 6 * PG, mem) == 0);
		CHILD_CHECK(vmlck_kb(0) == base + KB(6));
		/* The other space shares the mm's limit. */
		CHILD_CHECK(gm_add_user(f2, G, 4 * PG, mem + 6 * PG) == -ENOMEM);
		CHILD_CHECK(vmlck_kb(0) == base + KB(6));
		CHILD_CHECK(gm_add_user(f2, G, 2 * PG, mem + 6 * PG) == 0);
		CHILD_CHECK(vmlck_kb(0) == base + KB(8));
		CHILD_CHECK(gm_add_user(f2, 2 * G, PG, mem + 8 * PG) == -ENOMEM);
		/* Closing one space makes room in the other. */
		CHILD_CHECK(close(f1) == 0);
		CHILD_CHECK(wait_vmlck(0, base + KB(2), SETTLE_MS) == base + KB(2));
		CHILD_CHECK(gm_add_user(f2, 2 * G, 6 * PG, mem + 8 * PG) == 0);
		CHILD_CHECK(vmlck_kb(0) == base + KB(8));
		CHILD_CHECK(close(f2) == 0);
		CHILD_CHECK(wait_vmlck(0, base, SETTLE_MS) == base);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
	munmap(mem, 16 * PG);
}

/*
 * A USER region of terabytes: refused by RLIMIT_MEMLOCK (or as unmapped),
 * cleanly -- guestmem must not ask the allocator for its page array first
 * (for 2 TiB that is a 4 GiB array: a kernel warning, which the VM runner
 * reports).
 */
TEST(memlock_refuses_terabytes_cleanly)
{
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		long base = vmlck_kb(0);
		int fd, ret;

		CHILD_CHECK(cap_ipc_lock(true) == 0);
		CHILD_CHECK(set_memlock(base * 1024 + 16 * PG) == 0);
		fd = gm_open();
		CHILD_CHECK(fd >= 0);
		ret = gm_add_user(fd, G, 2ULL << 40, (void *)0x10000000UL);
		CHILD_CHECK(ret == -ENOMEM);
		ret = gm_add(fd, G, 2ULL << 40, 0x10000000UL, GUESTMEM_BACKING_USER,
			     GUESTMEM_REGION_READONLY);
		CHILD_CHECK(ret == -ENOMEM);
		CHILD_CHECK(vmlck_kb(0) == base);
		close(fd);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
}

TEST_HARNESS_MAIN
