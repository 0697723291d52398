// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem mmap: the file offset is a GPA.  One mapping across regions of
 * both backings and holes, coherent with the ioctls, pread/pwrite and the
 * USER backing's own memory; SIGBUS for holes, for writes to READONLY
 * regions and after removal; regions added under an existing mapping;
 * fork; MAP_PRIVATE and unaligned offsets refused; the mapping (and so the
 * space) outliving close(fd); the top of the 64-bit GPA space; madvise
 * (MADV_DONTNEED refused, as for every PFN mapping), partial munmap, mremap.
 *
 * SIGBUS is caught with sigsetjmp()/siglongjmp() and its si_addr checked.
 */
#include <signal.h>
#include <sys/wait.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

/*
 * The space every test starts with (pages relative to B):
 *
 *   [0, 4) R0 VMALLOC (zero-filled)
 *   [4, 8) R1 USER over shared anonymous (shmem) memory u, which starts as pat(., SEED_U)
 *   [8, ..) hole
 */
#define B		0x100000000ULL
#define G(pg)		(B + (uint64_t)(pg) * PG)
#define SEED_U		7
#define RW		(PROT_READ | PROT_WRITE)

/* ---- SIGBUS catching --------------------------------------------------- */

/* Reading (and writing) the byte at p raises SIGBUS at exactly p. */
#define EXPECT_BUS_READ(p) do {						\
	EXPECT_EQ(-1, sigbus_load(p)) TH_LOG("read at %p did not SIGBUS", (void *)(p)); \
	EXPECT_EQ((void *)(p), sigbus_addr);				\
} while (0)

#define EXPECT_BUS_WRITE(p) do {					\
	EXPECT_EQ(-1, sigbus_store(p, 0xa5)) TH_LOG("write at %p did not SIGBUS", (void *)(p)); \
	EXPECT_EQ((void *)(p), sigbus_addr);				\
} while (0)

#define EXPECT_BUS_RW(p) do {						\
	EXPECT_BUS_READ(p);						\
	EXPECT_BUS_WRITE(p);						\
} while (0)

/* ---- mapping helpers --------------------------------------------------- */

static uint8_t *gm_map(int fd, uint64_t gpa, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)gpa);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * [p, p + len) of a mapping reads as pat(gpa + ., seed): -1, the index of
 * the first wrong byte, or -2 if the read raised SIGBUS.
 */
static long map_pat_check(const uint8_t *p, uint64_t gpa, size_t len,
			  uint64_t seed)
{
	uint8_t *buf = malloc(len);
	long ret;

	if (!buf)
		return -3;
	ret = sigbus_memcpy(buf, p, len) ? -2 : pat_check(buf, gpa, len, seed);
	free(buf);
	return ret;
}

/* Same for a constant byte c. */
static long map_mem_check(const uint8_t *p, int c, size_t len)
{
	uint8_t *buf = malloc(len);
	long ret;

	if (!buf)
		return -3;
	ret = sigbus_memcpy(buf, p, len) ? -2 : mem_check(buf, c, len);
	free(buf);
	return ret;
}

/* Writes pat(gpa + ., seed) to [p, p + len) of a mapping: 0 or -1 (SIGBUS). */
static int map_pat_fill(uint8_t *p, uint64_t gpa, size_t len, uint64_t seed)
{
	uint8_t *buf = malloc(len);
	int ret;

	if (!buf)
		return -3;
	pat_fill(buf, gpa, len, seed);
	ret = sigbus_memcpy(p, buf, len);
	free(buf);
	return ret;
}

/* pread of [gpa, gpa + len) against the pattern (-2: short or failed). */
static long pread_pat_check(int fd, uint64_t gpa, size_t len, uint64_t seed)
{
	uint8_t *buf = malloc(len);
	long ret;

	if (!buf)
		return -3;
	ret = pread(fd, buf, len, (off_t)gpa) != (ssize_t)len ? -2 :
		pat_check(buf, gpa, len, seed);
	free(buf);
	return ret;
}

static int pwrite_pat_fill(int fd, uint64_t gpa, size_t len, uint64_t seed)
{
	uint8_t *buf = malloc(len);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	pat_fill(buf, gpa, len, seed);
	n = pwrite(fd, buf, len, (off_t)gpa);
	free(buf);
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

/* ---- fixture ----------------------------------------------------------- */

FIXTURE(mm) {
	int fd;
	uint8_t *u;		/* 4 pages: the memory of R1 */
};

FIXTURE_SETUP(mm)
{
	ASSERT_EQ(0, sigbus_install());
	self->fd = gm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
	self->u = map_shmem(4 * PG);
	ASSERT_NE(NULL, self->u);
	pat_fill(self->u, G(4), 4 * PG, SEED_U);
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(0), 4 * PG));
	ASSERT_EQ(0, gm_add_user(self->fd, G(4), 4 * PG, self->u));
}

FIXTURE_TEARDOWN(mm)
{
	if (self->fd >= 0)
		close(self->fd);
	munmap(self->u, 4 * PG);
}

/* ---- tests ------------------------------------------------------------- */

TEST_F(mm, feature_mmap)
{
	struct guestmem_info info;

	ASSERT_EQ(0, gm_info(self->fd, &info));
	EXPECT_NE(0ULL, info.features & GUESTMEM_FEATURE_MMAP)
		TH_LOG("features %#llx lack GUESTMEM_FEATURE_MMAP",
		       (unsigned long long)info.features);
}

/* Both backings read through one mapping as they were set up. */
TEST_F(mm, initial_content)
{
	uint8_t *p = gm_map(self->fd, G(0), 8 * PG, RW);

	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(-1, map_mem_check(p, 0, 4 * PG));
	EXPECT_EQ(-1, map_pat_check(p + 4 * PG, G(4), 4 * PG, SEED_U));
	/* A read-only mapping too. */
	EXPECT_EQ(0, munmap(p, 8 * PG));
	p = gm_map(self->fd, G(2), 4 * PG, PROT_READ);
	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(-1, map_mem_check(p, 0, 2 * PG));
	EXPECT_EQ(-1, map_pat_check(p + 2 * PG, G(4), 2 * PG, SEED_U));
	EXPECT_EQ(0, munmap(p, 4 * PG));
}

/* Writes through the mapping reach the ioctls, pread and the user memory. */
TEST_F(mm, mapping_writes_visible_to_ioctl_and_pread)
{
	uint8_t *p = gm_map(self->fd, G(0), 8 * PG, RW);

	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, map_pat_fill(p, G(0), 8 * PG, 1));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(0), 8 * PG, 1));
	EXPECT_EQ(-1, pread_pat_check(self->fd, G(0), 8 * PG, 1));
	EXPECT_EQ(-1, pat_check(self->u, G(4), 4 * PG, 1));

	/* One store sequence straddling the VMALLOC/USER boundary. */
	ASSERT_EQ(0, map_pat_fill(p + 4 * PG - 100, G(4) - 100, 200, 2));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(4) - 100, 200, 2));
	EXPECT_EQ(-1, pread_pat_check(self->fd, G(4) - 100, 200, 2));
	EXPECT_EQ(-1, pat_check(self->u, G(4), 100, 2));
	/* Neighbours untouched. */
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(4) - 101, 1, 1));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(4) + 100, 1, 1));
	EXPECT_EQ(0, munmap(p, 8 * PG));
}

/* The ioctls, pwrite and the user memory reach already-faulted pages. */
TEST_F(mm, ioctl_and_pwrite_visible_in_mapping)
{
	uint8_t *p = gm_map(self->fd, G(0), 8 * PG, RW);
	unsigned int i;

	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	/* Fault every page in, read-only PTEs for some, writable for others. */
	for (i = 0; i < 8; i++) {
		if (i % 2) {
			EXPECT_EQ(0, sigbus_store(p + i * PG + 1, 0));
		} else {
			EXPECT_LE(0, sigbus_load(p + i * PG));
		}
	}
	ASSERT_EQ(0, gm_pat_write(self->fd, G(0), 8 * PG, 3));
	EXPECT_EQ(-1, map_pat_check(p, G(0), 8 * PG, 3));

	ASSERT_EQ(0, pwrite_pat_fill(self->fd, G(2) + 100, 3 * PG, 4));
	EXPECT_EQ(-1, map_pat_check(p + 2 * PG + 100, G(2) + 100, 3 * PG, 4));
	EXPECT_EQ(-1, map_pat_check(p, G(0), 2 * PG + 100, 3));
	EXPECT_EQ(-1, map_pat_check(p + 5 * PG + 100, G(5) + 100, 3 * PG - 100, 3));

	/* R1's memory is the user's own: both views are the same pages. */
	pat_fill(self->u + PG, G(5), PG, 5);
	EXPECT_EQ(-1, map_pat_check(p + 5 * PG, G(5), PG, 5));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(5), PG, 5));
	EXPECT_EQ(0, munmap(p, 8 * PG));
}

/* Holes fault with SIGBUS, for reads and writes, at the faulting address. */
TEST_F(mm, hole_sigbus)
{
	uint8_t *p;
	unsigned int i;

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(12), 4 * PG));
	p = gm_map(self->fd, G(0), 16 * PG, RW);
	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));

	for (i = 0; i < 16; i++) {
		if (i >= 8 && i < 12) {
			EXPECT_BUS_READ(p + i * PG);
			EXPECT_BUS_WRITE(p + i * PG + PG - 1);
		} else {
			EXPECT_EQ(0, sigbus_store(p + i * PG + 7, 0x11 + i))
				TH_LOG("page %u", i);
			EXPECT_EQ(0x11 + (int)i, sigbus_load(p + i * PG + 7));
		}
	}
	EXPECT_BUS_READ(p + 9 * PG + 123);
	/* A copy running from backed memory into the hole faults in the hole. */
	EXPECT_EQ(-2, map_pat_check(p + 7 * PG, G(7), 2 * PG, 0));
	EXPECT_TRUE((uint8_t *)sigbus_addr >= p + 8 * PG &&
		    (uint8_t *)sigbus_addr < p + 9 * PG)
		TH_LOG("SIGBUS at %p, hole page at %p", sigbus_addr, p + 8 * PG);

	/* The mapping is still good after the SIGBUS. */
	ASSERT_EQ(0, map_pat_fill(p + 12 * PG, G(12), 4 * PG, 6));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(12), 4 * PG, 6));
	ASSERT_EQ(0, map_pat_fill(p, G(0), 8 * PG, 6));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(0), 8 * PG, 6));
	EXPECT_BUS_RW(p + 11 * PG);
	EXPECT_EQ(0, munmap(p, 16 * PG));
}

/*
 * A writable shared mapping over READONLY regions is allowed; reads work and
 * writes raise SIGBUS, whether the page was read first (write-protect fault
 * on a present PTE) or not (write fault on an empty PTE).
 */
TEST_F(mm, readonly_region_write_sigbus)
{
	uint8_t *u2 = map_shmem(2 * PG);
	uint8_t *p;

	ASSERT_NE(NULL, u2);
	pat_fill(u2, G(16), 2 * PG, 8);
	ASSERT_EQ(0, gm_add(self->fd, G(16), 2 * PG, (uintptr_t)u2,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_READONLY));
	ASSERT_EQ(0, gm_add(self->fd, G(18), 2 * PG, 0,
			    GUESTMEM_BACKING_VMALLOC, GUESTMEM_REGION_READONLY));
	p = gm_map(self->fd, G(16), 4 * PG, RW);
	ASSERT_NE(NULL, p) TH_LOG("mmap RW over READONLY regions: %s",
				  strerror(errno));

	/* USER, read first then write. */
	EXPECT_EQ(pat(G(16) + 5, 8), sigbus_load(p + 5));
	EXPECT_BUS_WRITE(p + 5);
	EXPECT_EQ(pat(G(16) + 5, 8), sigbus_load(p + 5));
	/* USER, write first. */
	EXPECT_BUS_WRITE(p + PG + 9);
	EXPECT_EQ(pat(G(17) + 9, 8), sigbus_load(p + PG + 9));
	/* VMALLOC, read first then write. */
	EXPECT_EQ(0, sigbus_load(p + 2 * PG));
	EXPECT_BUS_WRITE(p + 2 * PG);
	/* VMALLOC, write first. */
	EXPECT_BUS_WRITE(p + 3 * PG + PG - 1);
	EXPECT_EQ(0, sigbus_load(p + 3 * PG + PG - 1));

	EXPECT_EQ(-1, map_pat_check(p, G(16), 2 * PG, 8));
	EXPECT_EQ(-1, map_mem_check(p + 2 * PG, 0, 2 * PG));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(16), 2 * PG, 8));
	EXPECT_EQ(-1, gm_mem_check(self->fd, G(18), 2 * PG, 0));
	EXPECT_EQ(-1, pat_check(u2, G(16), 2 * PG, 8));

	EXPECT_EQ(0, munmap(p, 4 * PG));
	EXPECT_EQ(0, gm_remove(self->fd, G(16), 2 * PG));
	munmap(u2, 2 * PG);
}

/* A mapping made over a hole sees a region added there afterwards. */
TEST_F(mm, map_before_region_exists)
{
	uint8_t *u3 = map_shmem(2 * PG);
	uint8_t *p = gm_map(self->fd, G(32), 4 * PG, RW);

	ASSERT_NE(NULL, u3);
	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_BUS_RW(p);
	EXPECT_BUS_RW(p + 3 * PG);

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(32), 2 * PG));
	EXPECT_EQ(-1, map_mem_check(p, 0, 2 * PG));
	ASSERT_EQ(0, gm_pat_write(self->fd, G(32), 2 * PG, 9));
	EXPECT_EQ(-1, map_pat_check(p, G(32), 2 * PG, 9));
	ASSERT_EQ(0, map_pat_fill(p + 100, G(32) + 100, PG, 10));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(32) + 100, PG, 10));
	EXPECT_BUS_RW(p + 2 * PG);

	pat_fill(u3, G(34), 2 * PG, 11);
	ASSERT_EQ(0, gm_add_user(self->fd, G(34), 2 * PG, u3));
	EXPECT_EQ(-1, map_pat_check(p + 2 * PG, G(34), 2 * PG, 11));
	ASSERT_EQ(0, map_pat_fill(p, G(32), 4 * PG, 12));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(32), 4 * PG, 12));
	EXPECT_EQ(-1, pat_check(u3, G(34), 2 * PG, 12));
	EXPECT_EQ(0, munmap(p, 4 * PG));
	munmap(u3, 2 * PG);
}

/*
 * Removing a region zaps its pages: accesses raise SIGBUS (whether the PTE
 * was read-only or writable); re-adding gives the new region's memory.
 */
TEST_F(mm, remove_while_mapped_then_readd)
{
	uint8_t *u3 = map_shmem(4 * PG);
	uint8_t *p = gm_map(self->fd, G(0), 8 * PG, RW);
	unsigned int i;

	ASSERT_NE(NULL, u3);
	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, map_pat_fill(p + PG, G(1), 7 * PG, 13));
	EXPECT_LE(0, sigbus_load(p));	/* page 0: a read-only PTE */

	ASSERT_EQ(0, gm_remove(self->fd, G(0), 4 * PG));
	for (i = 0; i < 4; i++) {
		EXPECT_BUS_RW(p + i * PG + 8 * i);
	}
	EXPECT_EQ(-1, map_pat_check(p + 4 * PG, G(4), 4 * PG, 13));

	ASSERT_EQ(0, gm_remove(self->fd, G(4), 4 * PG));
	for (i = 4; i < 8; i++) {
		EXPECT_BUS_RW(p + i * PG + PG - 1 - i);
	}
	/* The user memory kept what was written through the mapping. */
	EXPECT_EQ(-1, pat_check(self->u, G(4), 4 * PG, 13));

	/* Re-added VMALLOC: fresh, zeroed memory. */
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(0), 4 * PG));
	EXPECT_EQ(-1, map_mem_check(p, 0, 4 * PG));
	/* Re-added USER over other memory: that memory, not the old one. */
	pat_fill(u3, G(4), 4 * PG, 14);
	ASSERT_EQ(0, gm_add_user(self->fd, G(4), 4 * PG, u3));
	EXPECT_EQ(-1, map_pat_check(p + 4 * PG, G(4), 4 * PG, 14));

	ASSERT_EQ(0, map_pat_fill(p, G(0), 8 * PG, 15));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(0), 8 * PG, 15));
	EXPECT_EQ(-1, pat_check(u3, G(4), 4 * PG, 15));
	EXPECT_EQ(-1, pat_check(self->u, G(4), 4 * PG, 13));

	/* Re-added with a different size and a hole after it. */
	ASSERT_EQ(0, gm_remove(self->fd, G(0), 4 * PG));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(0), 2 * PG));
	EXPECT_EQ(-1, map_mem_check(p, 0, 2 * PG));
	EXPECT_BUS_RW(p + 2 * PG);
	EXPECT_BUS_RW(p + 3 * PG + 5);
	EXPECT_EQ(0, munmap(p, 8 * PG));
	EXPECT_EQ(0, gm_remove(self->fd, G(4), 4 * PG));
	munmap(u3, 4 * PG);
}

/* A forked child sees the parent's writes, and the parent the child's. */
TEST_F(mm, fork_shares_mapping)
{
	uint8_t *p = gm_map(self->fd, G(0), 8 * PG, RW);
	pid_t pid;

	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, map_pat_fill(p, G(0), 8 * PG, 16));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (map_pat_check(p, G(0), 8 * PG, 16) != -1)
			_exit(10);
		if (map_pat_fill(p + 2 * PG, G(2), 4 * PG, 17))
			_exit(11);
		if (gm_pat_check(self->fd, G(2), 4 * PG, 17) != -1)
			_exit(12);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid)) TH_LOG("child failed");
	EXPECT_EQ(-1, map_pat_check(p + 2 * PG, G(2), 4 * PG, 17));
	EXPECT_EQ(-1, map_pat_check(p, G(0), 2 * PG, 16));
	EXPECT_EQ(-1, map_pat_check(p + 6 * PG, G(6), 2 * PG, 16));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(2), 4 * PG, 17));
	EXPECT_EQ(-1, pat_check(self->u, G(4), 2 * PG, 17));
	EXPECT_EQ(0, munmap(p, 8 * PG));
}

static int pipe_put(int fd)
{
	char c = 'x';

	return write(fd, &c, 1) == 1 ? 0 : -1;
}

static int pipe_get(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? 0 : -1;
}

/*
 * Removal in the parent zaps the child's inherited mapping too; a region
 * added there afterwards shows up in the child.
 */
TEST_F(mm, remove_zaps_child_mapping)
{
	uint8_t *p = gm_map(self->fd, G(0), 8 * PG, RW);
	int to_child[2], to_parent[2];
	pid_t pid;

	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		/* Fault both regions in, writable. */
		if (map_pat_fill(p, G(0), 8 * PG, 18))
			_exit(20);
		if (pipe_put(to_parent[1]) || pipe_get(to_child[0]))
			_exit(21);
		/* The parent removed both regions. */
		if (sigbus_load(p + 5) != -1 || sigbus_addr != p + 5)
			_exit(22);
		if (sigbus_store(p + 6 * PG, 1) != -1 || sigbus_addr != p + 6 * PG)
			_exit(23);
		if (pipe_put(to_parent[1]) || pipe_get(to_child[0]))
			_exit(24);
		/* The parent added a new region at G(0) and wrote seed 19. */
		if (map_pat_check(p, G(0), 2 * PG, 19) != -1)
			_exit(25);
		if (map_mem_check(p + 2 * PG, 0, 2 * PG) != -1)
			_exit(26);
		if (sigbus_load(p + 4 * PG) != -1)
			_exit(27);
		_exit(0);
	}
	/* Only the child writes to_parent: EOF there if it dies. */
	close(to_child[0]);
	close(to_parent[1]);
	ASSERT_EQ(0, pipe_get(to_parent[0])) TH_LOG("child: %d", wait_child(pid));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(0), 8 * PG, 18));
	ASSERT_EQ(0, gm_remove(self->fd, G(0), 4 * PG));
	ASSERT_EQ(0, gm_remove(self->fd, G(4), 4 * PG));
	ASSERT_EQ(0, pipe_put(to_child[1]));
	ASSERT_EQ(0, pipe_get(to_parent[0])) TH_LOG("child: %d", wait_child(pid));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(0), 4 * PG));
	ASSERT_EQ(0, gm_pat_write(self->fd, G(0), 2 * PG, 19));
	ASSERT_EQ(0, pipe_put(to_child[1]));
	EXPECT_EQ(0, wait_child(pid));
	EXPECT_EQ(-1, pat_check(self->u, G(4), 4 * PG, 18));
	EXPECT_EQ(0, munmap(p, 8 * PG));
	close(to_child[1]);
	close(to_parent[0]);
}

TEST_F(mm, map_private_einval)
{
	static const int prots[] = { PROT_READ, RW, PROT_NONE };
	static const uint64_t gpas[] = { G(0), G(4), G(100) };
	unsigned int i, j;
	void *p;

	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++) {
			errno = 0;
			p = mmap(NULL, 4 * PG, prots[i], MAP_PRIVATE, self->fd,
				 (off_t)gpas[j]);
			EXPECT_EQ(MAP_FAILED, p) TH_LOG("MAP_PRIVATE prot %d at %#llx",
							prots[i],
							(unsigned long long)gpas[j]);
			EXPECT_EQ(EINVAL, errno);
			if (p != MAP_FAILED)
				munmap(p, 4 * PG);
		}
	}
	/* MAP_SHARED_VALIDATE (no extra flags) is MAP_SHARED. */
	p = mmap(NULL, PG, RW, MAP_SHARED_VALIDATE, self->fd, (off_t)G(0));
	ASSERT_NE(MAP_FAILED, p) TH_LOG("MAP_SHARED_VALIDATE: %s", strerror(errno));
	EXPECT_EQ(0, sigbus_store(p, 3));
	EXPECT_EQ(0, munmap(p, PG));
}

/* The raw syscall, so that the kernel (not libc) judges the offset. */
static long raw_mmap(void *addr, size_t len, int prot, int flags, int fd,
		     uint64_t off)
{
	long ret = syscall(SYS_mmap, addr, len, prot, flags, fd, off);

	return ret == -1 ? -errno : ret;
}

TEST_F(mm, unaligned_offset_einval)
{
	static const uint64_t offs[] = { G(0) + 1, G(0) + 2048, G(4) - 1,
					 G(100) + 8, GPA_END(PG) + 1, GPA_TOP };
	unsigned int i;
	long ret;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		ret = raw_mmap(NULL, PG, RW, MAP_SHARED, self->fd, offs[i]);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("offset %#llx",
					       (unsigned long long)offs[i]);
		if (ret > 0)
			munmap((void *)ret, PG);
	}
	/* libc's mmap agrees. */
	errno = 0;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, RW, MAP_SHARED, self->fd,
				   (off_t)(G(0) + 512)));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * The mapping keeps the space alive after close(fd): faults still work (even
 * for pages never faulted before close), writes land, and the USER region
 * stays pinned and charged until the last mapping goes.
 */
TEST_F(mm, mapping_outlives_close)
{
	uint8_t *p = gm_map(self->fd, G(0), 8 * PG, RW);
	long lck;

	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, map_pat_fill(p, G(0), 2 * PG, 20));	/* pages 0-1 only */
	lck = vmlck_kb(0);
	ASSERT_LE(16, lck) TH_LOG("VmLck %ld kB with a 16 kB USER region", lck);

	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;

	EXPECT_EQ(-1, map_pat_check(p, G(0), 2 * PG, 20));
	EXPECT_EQ(-1, map_mem_check(p + 2 * PG, 0, 2 * PG));	/* new faults */
	EXPECT_EQ(-1, map_pat_check(p + 4 * PG, G(4), 4 * PG, SEED_U));
	ASSERT_EQ(0, map_pat_fill(p, G(0), 8 * PG, 21));
	EXPECT_EQ(-1, map_pat_check(p, G(0), 8 * PG, 21));
	EXPECT_EQ(-1, pat_check(self->u, G(4), 4 * PG, 21));
	EXPECT_EQ(lck, vmlck_kb(0)) TH_LOG("USER region uncharged while mapped");

	/* The last mapping gone, the space goes and the region is uncharged. */
	EXPECT_EQ(0, munmap(p, 8 * PG));
	EXPECT_EQ(lck - 16, wait_vmlck(0, lck - 16, SETTLE_MS));
	EXPECT_EQ(-1, pat_check(self->u, G(4), 4 * PG, 21));
}

/* Mapping a range that is all hole succeeds; its accesses raise SIGBUS. */
TEST_F(mm, all_hole_mapping)
{
	const size_t big = 1ULL << 30;
	int fd2 = gm_open();
	uint8_t *p, *q;

	ASSERT_LE(0, fd2);
	/* An empty space. */
	p = gm_map(fd2, 0, 16 * PG, RW);
	ASSERT_NE(NULL, p) TH_LOG("mmap of an empty space: %s", strerror(errno));
	EXPECT_BUS_RW(p);
	EXPECT_BUS_RW(p + 15 * PG + 100);
	EXPECT_EQ(0, munmap(p, 16 * PG));
	close(fd2);

	/* A big hole of a populated space, far from its regions. */
	q = gm_map(self->fd, 1ULL << 40, big, PROT_READ);
	ASSERT_NE(NULL, q) TH_LOG("mmap 1 GiB of hole: %s", strerror(errno));
	EXPECT_BUS_READ(q);
	EXPECT_BUS_READ(q + big / 2 + 17);
	EXPECT_BUS_READ(q + big - 1);
	EXPECT_EQ(0, munmap(q, big));
}

/* The last pages of the 64-bit GPA space, offsets >= 2^63. */
TEST_F(mm, top_of_gpa_space)
{
	const uint64_t top = GPA_END(2 * PG);
	uint8_t *p, *q;
	long ret;

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, top, 2 * PG));
	p = gm_map(self->fd, top, 2 * PG, RW);
	ASSERT_NE(NULL, p) TH_LOG("mmap at 2^64 - 8 KiB: %s", strerror(errno));
	EXPECT_EQ(-1, map_mem_check(p, 0, 2 * PG));
	ASSERT_EQ(0, map_pat_fill(p, top, 2 * PG, 22));
	EXPECT_EQ(-1, gm_pat_check(self->fd, top, 2 * PG, 22));
	ASSERT_EQ(0, gm_pat_write(self->fd, GPA_END(PG), PG, 23));
	EXPECT_EQ(-1, map_pat_check(p + PG, GPA_END(PG), PG, 23));
	EXPECT_EQ(-1, map_pat_check(p, top, PG, 22));
	EXPECT_EQ(0, sigbus_store(p + 2 * PG - 1, 0x77));
	EXPECT_EQ(0, munmap(p, 2 * PG));

	/* Hole below, region at the top, in one mapping. */
	q = gm_map(self->fd, GPA_END(4 * PG), 4 * PG, RW);
	ASSERT_NE(NULL, q) TH_LOG("mmap at 2^64 - 16 KiB: %s", strerror(errno));
	EXPECT_BUS_RW(q + PG);
	EXPECT_EQ(0x77, sigbus_load(q + 4 * PG - 1));

	/* Removal zaps up there too. */
	ASSERT_EQ(0, gm_remove(self->fd, top, 2 * PG));
	EXPECT_BUS_RW(q + 4 * PG - 1);
	EXPECT_EQ(0, munmap(q, 4 * PG));

	/* A mapping that would run past 2^64 - 1 is refused. */
	ret = raw_mmap(NULL, 2 * PG, RW, MAP_SHARED, self->fd, GPA_END(PG));
	EXPECT_EQ(-EOVERFLOW, ret);
	if (ret > 0)
		munmap((void *)ret, 2 * PG);
}

/*
 * MADV_DONTNEED is refused, as for every PFN mapping (remap_pfn_range()'s,
 * udmabuf's): the pages are the regions', not the mapping's, and stay.  A
 * MAP_FIXED mapping over the old one drops its PTEs; the data refaults.
 */
TEST_F(mm, madvise_dontneed_refused)
{
	uint8_t *p = gm_map(self->fd, G(0), 12 * PG, RW), *q;

	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, map_pat_fill(p, G(0), 8 * PG, 24));
	EXPECT_EQ(-1, madvise(p, 12 * PG, MADV_DONTNEED));	/* hole included */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, map_pat_check(p, G(0), 8 * PG, 24));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(0), 8 * PG, 24));

	q = mmap(p + 3 * PG, 2 * PG, RW, MAP_SHARED | MAP_FIXED, self->fd,
		 (off_t)G(3));
	ASSERT_EQ(p + 3 * PG, q);
	EXPECT_EQ(-1, map_pat_check(p + 3 * PG, G(3), 2 * PG, 24));
	ASSERT_EQ(0, map_pat_fill(p + 3 * PG, G(3), 2 * PG, 25));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(3), 2 * PG, 25));
	EXPECT_EQ(-1, pat_check(self->u, G(4), PG, 25));
	EXPECT_EQ(-1, map_pat_check(p, G(0), 3 * PG, 24));
	EXPECT_BUS_RW(p + 8 * PG);
	EXPECT_EQ(0, munmap(p, 12 * PG));
}

/* munmap of part of a mapping leaves the rest working, at the right GPAs. */
TEST_F(mm, munmap_partial)
{
	uint8_t *p = gm_map(self->fd, G(0), 8 * PG, RW);

	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, map_pat_fill(p, G(0), 8 * PG, 26));
	ASSERT_EQ(0, munmap(p + 2 * PG, 4 * PG));	/* the middle */
	EXPECT_EQ(-1, map_pat_check(p, G(0), 2 * PG, 26));
	EXPECT_EQ(-1, map_pat_check(p + 6 * PG, G(6), 2 * PG, 26));

	ASSERT_EQ(0, map_pat_fill(p + 6 * PG, G(6), 2 * PG, 27));
	ASSERT_EQ(0, map_pat_fill(p + PG, G(1), PG, 27));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(6), 2 * PG, 27));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(1), PG, 27));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(2), 4 * PG, 26));

	/* The tail piece still maps G(6..8): removing R1 zaps it. */
	ASSERT_EQ(0, gm_remove(self->fd, G(4), 4 * PG));
	EXPECT_BUS_RW(p + 6 * PG);
	EXPECT_BUS_RW(p + 8 * PG - 1);
	EXPECT_EQ(-1, map_pat_check(p + PG, G(1), PG, 27));

	ASSERT_EQ(0, munmap(p, PG));			/* the head page */
	EXPECT_EQ(-1, map_pat_check(p + PG, G(1), PG, 27));
	EXPECT_EQ(0, munmap(p + PG, PG));
	EXPECT_EQ(0, munmap(p + 6 * PG, 2 * PG));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(0), PG, 26));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(1), PG, 27));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(2), 2 * PG, 26));
}

/* mremap shrinking keeps the head; a move keeps the GPAs. */
TEST_F(mm, mremap)
{
	uint8_t *p = gm_map(self->fd, G(0), 8 * PG, RW);
	uint8_t *q, *dst;

	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, map_pat_fill(p, G(0), 8 * PG, 28));

	q = mremap(p, 8 * PG, 6 * PG, 0);
	ASSERT_EQ(p, q) TH_LOG("mremap shrink: %s", strerror(errno));
	EXPECT_EQ(-1, map_pat_check(p, G(0), 6 * PG, 28));
	ASSERT_EQ(0, map_pat_fill(p + 3 * PG, G(3), 3 * PG, 29));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(3), 3 * PG, 29));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(6), 2 * PG, 28));

	/* Move it elsewhere: same GPAs, and removal still zaps it. */
	dst = unmapped_range(6 * PG);
	ASSERT_NE(NULL, dst);
	q = mremap(p, 6 * PG, 6 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, q) TH_LOG("mremap move: %s", strerror(errno));
	EXPECT_EQ(-1, map_pat_check(q, G(0), 3 * PG, 28));
	EXPECT_EQ(-1, map_pat_check(q + 3 * PG, G(3), 3 * PG, 29));
	ASSERT_EQ(0, map_pat_fill(q, G(0), PG, 30));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(0), PG, 30));
	ASSERT_EQ(0, gm_remove(self->fd, G(0), 4 * PG));
	EXPECT_BUS_RW(q);
	EXPECT_BUS_RW(q + 4 * PG - 1);
	EXPECT_EQ(-1, map_pat_check(q + 4 * PG, G(4), 2 * PG, 29));

	/* And shrink the moved one down to one page. */
	q = mremap(dst, 6 * PG, PG, 0);
	ASSERT_EQ(dst, q) TH_LOG("mremap shrink: %s", strerror(errno));
	EXPECT_BUS_READ(q);
	EXPECT_EQ(0, munmap(q, PG));
}

/* mprotect: a read-only mapping of the fd made writable works. */
TEST_F(mm, mprotect_to_writable)
{
	uint8_t *p = gm_map(self->fd, G(2), 4 * PG, PROT_READ);

	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(-1, map_pat_check(p + 2 * PG, G(4), 2 * PG, SEED_U));
	ASSERT_EQ(0, mprotect(p, 4 * PG, RW));
	ASSERT_EQ(0, map_pat_fill(p, G(2), 4 * PG, 31));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(2), 4 * PG, 31));
	EXPECT_EQ(0, munmap(p, 4 * PG));
}

TEST_HARNESS_MAIN
