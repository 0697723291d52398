// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem USER regions: the caller's anonymous, shared-anonymous, memfd and
 * hugetlbfs memory, long-term pinned and charged to RLIMIT_MEMLOCK (VmLck);
 * EFAULT for user ranges that are not entirely mapped, with nothing left
 * charged; ENOMEM past RLIMIT_MEMLOCK without CAP_IPC_LOCK; uncharging on
 * removal and on close.
 */
#include <sys/mount.h>
#include <sys/wait.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define G	0x40000000ULL
#define KB(pages) ((long)((pages) * PG / 1024))

FIXTURE(ub) {
	int fd;
	long lck;
};

FIXTURE_SETUP(ub)
{
	self->fd = gm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
	self->lck = vmlck_kb(0);
	ASSERT_LE(0, self->lck);
}

FIXTURE_TEARDOWN(ub)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(ub, anonymous)
{
	struct guestmem_region *r;
	uint8_t *mem = map_anon(8 * PG);
	uint32_t n = 0;

	ASSERT_NE(NULL, mem);
	pat_fill(mem, G, 8 * PG, 1);
	ASSERT_EQ(0, gm_add_user(self->fd, G, 8 * PG, mem));
	EXPECT_EQ(self->lck + KB(8), vmlck_kb(0));

	r = gm_regions(self->fd, &n);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(1U, n);
	EXPECT_EQ((uint64_t)(uintptr_t)mem, r[0].user_addr);
	EXPECT_EQ((uint32_t)GUESTMEM_BACKING_USER, r[0].backing);
	free(r);

	/* Both directions. */
	EXPECT_GPA_PAT(self->fd, G, 8 * PG, 1);
	ASSERT_EQ(0, gm_pat_write(self->fd, G + 100, 7 * PG, 2));
	EXPECT_EQ(-1, pat_check(mem + 100, G + 100, 7 * PG, 2));
	EXPECT_EQ(-1, pat_check(mem, G, 100, 1));
	pat_fill(mem, G, 8 * PG, 3);
	EXPECT_GPA_PAT(self->fd, G, 8 * PG, 3);

	/* Pinned: the pages outlive the user's mapping. */
	ASSERT_EQ(0, munmap(mem, 8 * PG));
	EXPECT_GPA_PAT(self->fd, G, 8 * PG, 3);
	ASSERT_EQ(0, gm_pat_write(self->fd, G, 8 * PG, 4));
	EXPECT_GPA_PAT(self->fd, G, 8 * PG, 4);
	EXPECT_EQ(self->lck + KB(8), vmlck_kb(0));

	ASSERT_EQ(0, gm_remove(self->fd, G, 8 * PG));
	EXPECT_EQ(self->lck, vmlck_kb(0));
}

/* Never-touched memory: pinned for writing, not the shared zero page. */
TEST_F(ub, anonymous_untouched)
{
	uint8_t *mem = map_anon(4 * PG), *buf = malloc(4 * PG);

	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, gm_add_user(self->fd, G, 4 * PG, mem));
	memset(buf, 0xee, 4 * PG);
	ASSERT_EQ(0, gm_read(self->fd, G, buf, 4 * PG));
	EXPECT_EQ(-1, mem_check(buf, 0, 4 * PG));
	ASSERT_EQ(0, gm_pat_write(self->fd, G, 4 * PG, 5));
	EXPECT_EQ(-1, pat_check(mem, G, 4 * PG, 5));
	ASSERT_EQ(0, gm_remove(self->fd, G, 4 * PG));
	EXPECT_EQ(-1, pat_check(mem, G, 4 * PG, 5));
	/* A second, untouched mapping still reads zero (no shared page). */
	munmap(mem, 4 * PG);
	free(buf);
}

/* Private anonymous memory stays coherent for the parent across fork. */
TEST_F(ub, anonymous_across_fork)
{
	uint8_t *mem = map_anon(4 * PG);
	pid_t pid;
	int st;

	ASSERT_NE(NULL, mem);
	pat_fill(mem, G, 4 * PG, 6);
	ASSERT_EQ(0, gm_add_user(self->fd, G, 4 * PG, mem));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		memset(mem, 0x11, 4 * PG);	/* the child's own copy */
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_GPA_PAT(self->fd, G, 4 * PG, 6);
	pat_fill(mem, G, 4 * PG, 7);
	EXPECT_GPA_PAT(self->fd, G, 4 * PG, 7);
	ASSERT_EQ(0, gm_pat_write(self->fd, G, 4 * PG, 8));
	EXPECT_EQ(-1, pat_check(mem, G, 4 * PG, 8));
	munmap(mem, 4 * PG);
}

TEST_F(ub, shared_anonymous)
{
	uint8_t *mem = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, mem);
	pat_fill(mem, G, 4 * PG, 9);
	ASSERT_EQ(0, gm_add_user(self->fd, G, 4 * PG, mem));
	EXPECT_EQ(self->lck + KB(4), vmlck_kb(0));
	EXPECT_GPA_PAT(self->fd, G, 4 * PG, 9);
	ASSERT_EQ(0, gm_pat_write(self->fd, G, 4 * PG, 10));
	EXPECT_EQ(-1, pat_check(mem, G, 4 * PG, 10));
	ASSERT_EQ(0, gm_remove(self->fd, G, 4 * PG));
	EXPECT_EQ(self->lck, vmlck_kb(0));
	munmap(mem, 4 * PG);
}

TEST_F(ub, memfd)
{
	uint8_t *mem, buf[4 * 4096];
	int mfd = memfd_create("guestmem-ub", MFD_CLOEXEC);

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 8 * PG));
	mem = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, mem);

	/*
	 * Two regions over the same memfd, swapped: GPA G maps file pages
	 * 4..7 and G + 4 pages maps file pages 0..3.
	 */
	ASSERT_EQ(0, gm_add_user(self->fd, G, 4 * PG, mem + 4 * PG));
	ASSERT_EQ(0, gm_add_user(self->fd, G + 4 * PG, 4 * PG, mem));
	EXPECT_EQ(self->lck + KB(8), vmlck_kb(0));

	/* A guest write across the boundary lands in both halves of the file. */
	ASSERT_EQ(0, gm_pat_write(self->fd, G + 2 * PG, 4 * PG, 11));
	ASSERT_EQ((ssize_t)(2 * PG), pread(mfd, buf, 2 * PG, 6 * PG));
	EXPECT_EQ(-1, pat_check(buf, G + 2 * PG, 2 * PG, 11));
	ASSERT_EQ((ssize_t)(2 * PG), pread(mfd, buf, 2 * PG, 0));
	EXPECT_EQ(-1, pat_check(buf, G + 4 * PG, 2 * PG, 11));

	/* File writes (not through the mapping) reach the guest. */
	pat_fill(buf, G + 4 * PG, 4 * PG, 12);
	ASSERT_EQ((ssize_t)(4 * PG), pwrite(mfd, buf, 4 * PG, 0));
	EXPECT_GPA_PAT(self->fd, G + 4 * PG, 4 * PG, 12);
	pat_fill(mem + 4 * PG, G, 4 * PG, 13);
	EXPECT_GPA_PAT(self->fd, G, 4 * PG, 13);

	/* Removal and unmapping keep what the guest wrote in the file. */
	ASSERT_EQ(0, gm_pat_write(self->fd, G, 8 * PG, 14));
	ASSERT_EQ(0, gm_remove(self->fd, G, 4 * PG));
	ASSERT_EQ(0, gm_remove(self->fd, G + 4 * PG, 4 * PG));
	EXPECT_EQ(self->lck, vmlck_kb(0));
	ASSERT_EQ(0, munmap(mem, 8 * PG));
	ASSERT_EQ((ssize_t)(4 * PG), pread(mfd, buf, 4 * PG, 4 * PG));
	EXPECT_EQ(-1, pat_check(buf, G, 4 * PG, 14));
	ASSERT_EQ((ssize_t)(4 * PG), pread(mfd, buf, 4 * PG, 0));
	EXPECT_EQ(-1, pat_check(buf, G + 4 * PG, 4 * PG, 14));
	close(mfd);
}

/* The same user pages behind two GPA ranges. */
TEST_F(ub, aliased_user_memory)
{
	uint8_t *mem = map_anon(4 * PG), buf[2 * 4096];

	ASSERT_NE(NULL, mem);
	memset(mem, 0, 4 * PG);
	ASSERT_EQ(0, gm_add_user(self->fd, G, 4 * PG, mem));
	ASSERT_EQ(0, gm_add_user(self->fd, 2 * G, 2 * PG, mem + 2 * PG));
	ASSERT_EQ(0, gm_pat_write(self->fd, 2 * G, 2 * PG, 15));
	EXPECT_EQ(-1, pat_check(mem + 2 * PG, 2 * G, 2 * PG, 15));
	ASSERT_EQ(0, gm_read(self->fd, G + 2 * PG, buf, 2 * PG));
	EXPECT_EQ(-1, pat_check(buf, 2 * G, 2 * PG, 15));
	ASSERT_EQ(0, gm_remove(self->fd, G, 4 * PG));
	ASSERT_EQ(0, gm_remove(self->fd, 2 * G, 2 * PG));
	EXPECT_EQ(self->lck, vmlck_kb(0));
	munmap(mem, 4 * PG);
}

/* A user range not entirely mapped: EFAULT, nothing added or charged. */
TEST_F(ub, efault_unmapped_user_range)
{
	uint8_t *mem = map_anon(8 * PG);
	struct guestmem_info info;
	uint8_t *none;

	ASSERT_NE(NULL, mem);
	memset(mem, 1, 8 * PG);

	/* A hole in the middle. */
	ASSERT_EQ(0, munmap(mem + 3 * PG, PG));
	EXPECT_EQ(-EFAULT, gm_add_user(self->fd, G, 8 * PG, mem));
	EXPECT_EQ(self->lck, vmlck_kb(0));
	/* The last page missing. */
	EXPECT_EQ(-EFAULT, gm_add_user(self->fd, G, 4 * PG, mem));
	EXPECT_EQ(-EFAULT, gm_add_user(self->fd, G, 2 * PG, mem + 2 * PG));
	/* The first page missing. */
	EXPECT_EQ(-EFAULT, gm_add_user(self->fd, G, 4 * PG, mem + 3 * PG));
	/* Nothing at all. */
	EXPECT_EQ(-EFAULT, gm_add_user(self->fd, G, PG, mem + 3 * PG));
	EXPECT_EQ(self->lck, vmlck_kb(0));

	/* PROT_NONE memory. */
	none = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);
	EXPECT_EQ(-EFAULT, gm_add_user(self->fd, G, 4 * PG, none));
	/* Partly PROT_NONE. */
	ASSERT_EQ(0, mprotect(none, 2 * PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(-EFAULT, gm_add_user(self->fd, G, 4 * PG, none));

	/* Beyond user space. */
	EXPECT_EQ(-EFAULT, gm_add_user(self->fd, G, 2 * PG,
				       (void *)(uintptr_t)0x7ffffffff000ULL));
	EXPECT_EQ(-EFAULT, gm_add_user(self->fd, G, PG,
				       (void *)(uintptr_t)0xffff888000000000ULL));
	EXPECT_EQ(-EFAULT, gm_add_user(self->fd, G, PG,
				       (void *)(uintptr_t)GPA_END(PG)));

	EXPECT_EQ(self->lck, vmlck_kb(0)) TH_LOG("refused ranges stayed charged");
	ASSERT_EQ(0, gm_info(self->fd, &info));
	EXPECT_EQ(0U, info.num_regions);
	EXPECT_EQ(0ULL, info.generation);

	/* The mapped parts can still be added, charged exactly once. */
	ASSERT_EQ(0, gm_add_user(self->fd, G, 3 * PG, mem));
	ASSERT_EQ(0, gm_add_user(self->fd, G + 3 * PG, 4 * PG, mem + 4 * PG));
	ASSERT_EQ(0, gm_add_user(self->fd, G + 7 * PG, 2 * PG, none));
	EXPECT_EQ(self->lck + KB(9), vmlck_kb(0));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(self->lck, wait_vmlck(0, self->lck, SETTLE_MS));
	munmap(mem, 8 * PG);
	munmap(none, 4 * PG);
}

TEST_F(ub, vmlck_removal_and_close)
{
	uint8_t *mem = map_anon(32 * PG);

	ASSERT_NE(NULL, mem);
	memset(mem, 2, 32 * PG);
	ASSERT_EQ(0, gm_add_user(self->fd, G, 4 * PG, mem));
	ASSERT_EQ(0, gm_add_user(self->fd, G + 4 * PG, 8 * PG, mem + 4 * PG));
	ASSERT_EQ(0, gm_add_user(self->fd, 2 * G, 16 * PG, mem + 12 * PG));
	EXPECT_EQ(self->lck + KB(28), vmlck_kb(0));
	/* VMALLOC regions are not locked memory. */
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, 3 * G, 64 * PG));
	EXPECT_EQ(self->lck + KB(28), vmlck_kb(0));

	ASSERT_EQ(0, gm_remove(self->fd, G + 4 * PG, 8 * PG));
	EXPECT_EQ(self->lck + KB(20), vmlck_kb(0));
	/* Refused removals change nothing. */
	EXPECT_EQ(-ENOENT, gm_remove(self->fd, G, 8 * PG));
	EXPECT_EQ(self->lck + KB(20), vmlck_kb(0));

	/* Close frees the rest. */
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(self->lck, wait_vmlck(0, self->lck, SETTLE_MS));

	/* The same memory can be added again to a new space. */
	self->fd = gm_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, gm_add_user(self->fd, G, 32 * PG, mem));
	EXPECT_EQ(self->lck + KB(32), vmlck_kb(0));
	munmap(mem, 32 * PG);
}

/* ---- RLIMIT_MEMLOCK and CAP_IPC_LOCK ---- */

/* In a forked child: fail with the line number as exit status. */
static void memlock_child(void)
{
	uint8_t *mem = map_anon(32 * PG), *other = map_anon(4 * PG);
	long base = vmlck_kb(0);
	struct guestmem_info info;
	int fd;

	CHILD_CHECK(mem && other && base >= 0);
	memset(mem, 3, 32 * PG);
	memset(other, 3, 4 * PG);
	CHILD_CHECK(cap_ipc_lock(true) == 0);
	CHILD_CHECK(cap_ipc_lock(false) == 0);	/* really gone */
	/* The limit: what is locked now plus 16 pages. */
	CHILD_CHECK(set_memlock(base * 1024 + 16 * PG) == 0);

	fd = gm_open();
	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(gm_add_user(fd, G, 16 * PG, mem) == 0);
	CHILD_CHECK(vmlck_kb(0) == base + KB(16));
	CHILD_CHECK(gm_add_user(fd, 2 * G, PG, mem + 16 * PG) == -ENOMEM);
	CHILD_CHECK(vmlck_kb(0) == base + KB(16));
	CHILD_CHECK(gm_info(fd, &info) == 0 && info.num_regions == 1 &&
		    info.generation == 1);
	/* VMALLOC regions are not subject to it. */
	CHILD_CHECK(gm_add_vmalloc(fd, 3 * G, 32 * PG) == 0);

	CHILD_CHECK(gm_remove(fd, G, 16 * PG) == 0);
	CHILD_CHECK(vmlck_kb(0) == base);
	CHILD_CHECK(gm_add_user(fd, G, 17 * PG, mem) == -ENOMEM);
	CHILD_CHECK(vmlck_kb(0) == base);
	CHILD_CHECK(gm_add_user(fd, G, 8 * PG, mem) == 0);
	CHILD_CHECK(gm_add_user(fd, G + 8 * PG, 8 * PG, mem + 8 * PG) == 0);
	CHILD_CHECK(gm_add_user(fd, G + 16 * PG, PG, mem + 16 * PG) == -ENOMEM);
	CHILD_CHECK(vmlck_kb(0) == base + KB(16));

	/* mlock()ed memory counts against the same limit. */
	CHILD_CHECK(gm_remove(fd, G + 8 * PG, 8 * PG) == 0);
	CHILD_CHECK(mlock(other, 4 * PG) == 0);
	CHILD_CHECK(vmlck_kb(0) == base + KB(12));
	CHILD_CHECK(gm_add_user(fd, G + 8 * PG, 5 * PG, mem + 8 * PG) == -ENOMEM);
	CHILD_CHECK(gm_add_user(fd, G + 8 * PG, 4 * PG, mem + 8 * PG) == 0);
	CHILD_CHECK(vmlck_kb(0) == base + KB(16));
	CHILD_CHECK(munlock(other, 4 * PG) == 0);

	/* Close uncharges; a new space can use the whole limit again. */
	CHILD_CHECK(close(fd) == 0);
	CHILD_CHECK(wait_vmlck(0, base, SETTLE_MS) == base);
	fd = gm_open();
	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(gm_add_user(fd, G, 16 * PG, mem) == 0);
	CHILD_CHECK(gm_add_user(fd, 2 * G, PG, mem + 16 * PG) == -ENOMEM);
	CHILD_CHECK(close(fd) == 0);
	CHILD_CHECK(wait_vmlck(0, base, SETTLE_MS) == base);
	_exit(0);
}

TEST(rlimit_memlock_without_cap_ipc_lock)
{
	pid_t pid;
	int st;

	ASSERT_EQ(1, cap_ipc_lock(false)) TH_LOG("test must run with CAP_IPC_LOCK");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		memlock_child();
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("child failed at line ending in %d",
					     WEXITSTATUS(st));
}

/* With CAP_IPC_LOCK the limit does not apply, but VmLck is still charged. */
TEST(rlimit_memlock_with_cap_ipc_lock)
{
	uint8_t *mem = map_anon(32 * PG);
	long base = vmlck_kb(0);
	int fd = gm_open();

	ASSERT_NE(NULL, mem);
	ASSERT_LE(0, fd);
	memset(mem, 4, 32 * PG);
	ASSERT_EQ(1, cap_ipc_lock(false));
	ASSERT_EQ(0, set_memlock(base * 1024 + 4 * PG));
	ASSERT_EQ(0, gm_add_user(fd, G, 32 * PG, mem));
	EXPECT_EQ(base + KB(32), vmlck_kb(0));
	ASSERT_EQ(0, gm_remove(fd, G, 32 * PG));
	EXPECT_EQ(base, vmlck_kb(0));
	close(fd);
	munmap(mem, 32 * PG);
}

/* ---- hugetlbfs ---- */

FIXTURE(huge) {
	char dir[64];
	char file[96];
	uint64_t saved_nr;
	uint64_t hpage;		/* huge page size in bytes */
	bool mounted, nr_changed;
};

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"
#define HUGE_NEEDED 6

FIXTURE_SETUP(huge)
{
	long hkb = proc_file_kb("/proc/meminfo", "Hugepagesize");
	long freep;
	const char *tmp = access("/tmp", W_OK) == 0 ? "/tmp" : "/dev/shm";

	self->mounted = false;
	self->nr_changed = false;
	ASSERT_LT(0, hkb) TH_LOG("no huge pages in this kernel (Hugepagesize missing)");
	self->hpage = (uint64_t)hkb * 1024;
	ASSERT_EQ(0, read_file_u64(NR_HUGEPAGES, &self->saved_nr));

	self->nr_changed = true;
	ASSERT_EQ(0, write_file_u64(NR_HUGEPAGES, self->saved_nr + HUGE_NEEDED));
	freep = proc_file_kb("/proc/meminfo", "HugePages_Free");
	ASSERT_LE(HUGE_NEEDED, freep)
		TH_LOG("could not reserve %d huge pages (%ld free)", HUGE_NEEDED, freep);

	snprintf(self->dir, sizeof(self->dir), "%s/guestmem-huge.XXXXXX", tmp);
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, mount("none", self->dir, "hugetlbfs", 0, NULL))
		TH_LOG("mount hugetlbfs on %s: %s", self->dir, strerror(errno));
	self->mounted = true;
	snprintf(self->file, sizeof(self->file), "%s/mem", self->dir);
}

FIXTURE_TEARDOWN_PARENT(huge)
{
	if (self->mounted) {
		unlink(self->file);
		EXPECT_EQ(0, umount(self->dir));
		rmdir(self->dir);
	}
	if (self->nr_changed) {
		EXPECT_EQ(0, write_file_u64(NR_HUGEPAGES, self->saved_nr));
	}
}

TEST_F(huge, hugetlbfs_file)
{
	const uint64_t hp = self->hpage, size = 2 * hp;
	uint8_t *mem, *buf = malloc(size);
	int hfd, fd = gm_open();
	long lck = vmlck_kb(0);

	ASSERT_NE(NULL, buf);
	ASSERT_LE(0, fd);
	hfd = open(self->file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, hfd);
	ASSERT_EQ(0, ftruncate(hfd, size));
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, hfd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	pat_fill(mem, G, size, 20);

	/* The whole file as one region, next to a VMALLOC region. */
	ASSERT_EQ(0, gm_add_user(fd, G, size, mem));
	ASSERT_EQ(0, gm_add_vmalloc(fd, G + size, 4 * PG));
	EXPECT_EQ(lck + (long)(size / 1024), vmlck_kb(0));
	EXPECT_GPA_PAT(fd, G, size, 20);

	/* Across the huge page boundary and into the VMALLOC region. */
	pat_fill(buf, G + hp - 3 * PG - 1, 6 * PG, 21);
	ASSERT_EQ(0, gm_write(fd, G + hp - 3 * PG - 1, buf, 6 * PG));
	EXPECT_EQ(-1, pat_check(mem + hp - 3 * PG - 1, G + hp - 3 * PG - 1, 6 * PG, 21));
	pat_fill(buf, G + size - PG, 2 * PG, 22);
	ASSERT_EQ(0, gm_write(fd, G + size - PG, buf, 2 * PG));
	EXPECT_EQ(-1, pat_check(mem + size - PG, G + size - PG, PG, 22));
	EXPECT_GPA_PAT(fd, G + size - PG, 2 * PG, 22);

	/* A page-aligned piece in the middle, spanning both huge pages. */
	ASSERT_EQ(0, gm_add_user(fd, 2 * G, 3 * PG, mem + hp - PG));
	EXPECT_EQ(lck + (long)(size / 1024) + KB(3), vmlck_kb(0));
	ASSERT_EQ(0, gm_read(fd, 2 * G, buf, 3 * PG));
	EXPECT_EQ(0, memcmp(buf, mem + hp - PG, 3 * PG));
	pat_fill(buf, 2 * G, 3 * PG, 23);
	ASSERT_EQ(0, gm_write(fd, 2 * G, buf, 3 * PG));
	EXPECT_EQ(-1, pat_check(mem + hp - PG, 2 * G, 3 * PG, 23));
	memset(buf, 0, 3 * PG);
	ASSERT_EQ(0, gm_read(fd, G + hp - PG, buf, 3 * PG));	/* the alias */
	EXPECT_EQ(-1, pat_check(buf, 2 * G, 3 * PG, 23));

	/* The user's writes reach the guest. */
	pat_fill(mem, G, size, 24);
	EXPECT_GPA_PAT(fd, G, size, 24);

	ASSERT_EQ(0, gm_pat_write(fd, G, size, 25));
	ASSERT_EQ(0, gm_remove(fd, 2 * G, 3 * PG));
	ASSERT_EQ(0, gm_remove(fd, G, size));
	EXPECT_EQ(lck, vmlck_kb(0));
	/* The file keeps what the guest wrote. */
	ASSERT_EQ(0, munmap(mem, size));
	mem = mmap(NULL, size, PROT_READ, MAP_SHARED, hfd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	EXPECT_EQ(-1, pat_check(mem, G, size, 25));
	munmap(mem, size);
	close(hfd);
	close(fd);
	free(buf);
}

TEST_F(huge, map_hugetlb_anonymous)
{
	const uint64_t hp = self->hpage;
	uint8_t *mem, *buf = malloc(hp + 2 * PG);
	int fd = gm_open();
	long lck = vmlck_kb(0);

	ASSERT_NE(NULL, buf);
	ASSERT_LE(0, fd);
	mem = mmap(NULL, hp, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	ASSERT_NE(MAP_FAILED, mem) TH_LOG("MAP_HUGETLB: %s", strerror(errno));
	pat_fill(mem, G + PG, hp, 26);

	/* VMALLOC | hugetlb | VMALLOC, one access across all three. */
	ASSERT_EQ(0, gm_add_vmalloc(fd, G, PG));
	ASSERT_EQ(0, gm_add_user(fd, G + PG, hp, mem));
	ASSERT_EQ(0, gm_add_vmalloc(fd, G + PG + hp, PG));
	EXPECT_EQ(lck + (long)(hp / 1024), vmlck_kb(0));
	EXPECT_GPA_PAT(fd, G + PG, hp, 26);
	pat_fill(buf, G, hp + 2 * PG, 27);
	ASSERT_EQ(0, gm_write(fd, G, buf, hp + 2 * PG));
	EXPECT_EQ(-1, pat_check(mem, G + PG, hp, 27));
	memset(buf, 0, hp + 2 * PG);
	ASSERT_EQ(0, gm_read(fd, G, buf, hp + 2 * PG));
	EXPECT_EQ(-1, pat_check(buf, G, hp + 2 * PG, 27));

	close(fd);
	EXPECT_EQ(lck, wait_vmlck(0, lck, SETTLE_MS));
	munmap(mem, hp);
	free(buf);
}

TEST_HARNESS_MAIN
