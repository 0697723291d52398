// SPDX-License-Identifier: GPL-2.0
/*
 * KVM guests whose memory is a guestmem mapping (lib/vmm.c runs them):
 *
 *  - guest code reads and writes VMALLOC alone, USER over a memfd alone and
 *    a VMALLOC|USER boundary; the guest's writes are seen by GUESTMEM_READ,
 *    pread, the mapping and the USER region's own pages; writes by
 *    GUESTMEM_WRITE, pwrite and the sample DMA device (which is built on
 *    guestmem's in-kernel API; the guest itself fills its descriptor ring)
 *    are seen by the guest;
 *  - a hole inside the memslot: KVM_RUN fails with EFAULT, and once a
 *    region is added there the guest goes on and sees it;
 *  - USER over private anonymous memory next to VMALLOC: two memslots (the
 *    guestmem mapping, and the process's own mapping that the region pins),
 *    the guest crosses the boundary and guestmem sees its writes; the
 *    guestmem mapping of the anonymous region is EFAULT for KVM, cleanly;
 *  - USER over a hugetlbfs huge page: KVM_RUN fails with EFAULT (KVM
 *    refuses tail pages of PFN mappings), no kernel report;
 *  - a READONLY region under a guest write: EFAULT or an MMIO exit, memory
 *    unchanged;
 *  - the VMM reports a guest's failed assertion and exception;
 *  - the VMM forks and closes its guestmem fd while the guest runs (between
 *    KVM_RUNs, and with a vCPU thread inside KVM_RUN all along); the module
 *    cannot be unloaded while the mapping exists.
 *
 * No /dev/kvm is a failure, not a skip: the test VMs always have nested SVM.
 */
#include <endian.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "guestmem_util.h"
#include "samples.h"
#include "vmm.h"
#include "kselftest_harness.h"

/*
 * The space (pages relative to G), all of it one memslot (SLOT) through one
 * guestmem mapping, identity mapped in the guest:
 *
 *   [0, 4)  the test range: the variant's backings, 2 pages each
 *   [4, 6)  AUX: VMALLOC (the DMA ring at page 4, a DMA source at page 5)
 *   [6, 8)  hole
 */
#define G		VMM_TEST_GPA_MIN
#define GP(pg)		(G + (uint64_t)(pg) * PG)
#define NPAGES		8
#define TEST_LEN	(4 * PG)
#define RING		GP(4)
#define RING_SIZE	4U
#define SLOT		1


/* The 64-bit word a test expects at @gpa for @seed (guest and host). */
static inline uint64_t wpat(uint64_t gpa, uint64_t seed)
{
	return (gpa * 0x9E3779B97F4A7C15ULL) ^ (seed << 32) ^ seed;
}

static void wpat_fill(void *buf, uint64_t gpa, uint64_t len, uint64_t seed)
{
	uint64_t i;

	for (i = 0; i < len; i += 8)
		*(uint64_t *)((uint8_t *)buf + i) = wpat(gpa + i, seed);
}

/* -1 if [buf, buf + len) is wpat(gpa, seed), else the first wrong offset. */
static long wpat_check(const void *buf, uint64_t gpa, uint64_t len,
		       uint64_t seed)
{
	uint64_t i;

	for (i = 0; i < len; i += 8)
		if (*(const uint64_t *)((const uint8_t *)buf + i) != wpat(gpa + i, seed))
			return (long)i;
	return -1;
}

/* ---- guest code ----------------------------------------------------------- */

/* Check that [gpa, gpa + len) is wpat(seed), then write wpat(wseed). */
static void guest_check_write(uint64_t gpa, uint64_t len, uint64_t seed,
			      uint64_t wseed)
{
	uint64_t a;

	for (a = gpa; a < gpa + len; a += 8)
		GUEST_ASSERT2(GUEST_READ(uint64_t, a) == wpat(a, seed), a,
			      GUEST_READ(uint64_t, a));
	GUEST_SYNC(1);
	for (a = gpa; a < gpa + len; a += 8)
		GUEST_WRITE(uint64_t, a, wpat(a, wseed));
	GUEST_SYNC(2);
}

/* Read the word at each of @n pages from @gpa and report it. */
static void guest_read_pages(uint64_t gpa, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		GUEST_SYNC2(gpa + i * PG, GUEST_READ(uint64_t, gpa + i * PG));
}

/* Write @val to @gpa; with @read_first, read it and sync before. */
static void guest_write_word(uint64_t gpa, uint64_t val, uint64_t read_first)
{
	if (read_first)
		GUEST_SYNC(GUEST_READ(uint64_t, gpa));
	GUEST_WRITE(uint64_t, gpa, val);
	GUEST_SYNC(0xd0e);
}

/*
 * Be the sample DMA device's driver: write a descriptor that copies @len
 * bytes from @src to @dst into the ring, publish it, have the host kick the
 * device, and check the status, used_idx and the copy.
 */
static void guest_dma(uint64_t src, uint64_t dst, uint64_t len)
{
	uint64_t d = RING + 32, i;

	GUEST_WRITE(uint64_t, d, htole64(src));
	GUEST_WRITE(uint64_t, d + 8, htole64(dst));
	GUEST_WRITE(uint32_t, d + 16, htole32((uint32_t)len));
	GUEST_WRITE(uint32_t, d + 20, 0);
	GUEST_WRITE(uint32_t, d + 24, GUESTMEM_DMA_STATUS_PENDING);
	GUEST_WRITE(uint32_t, d + 28, 0);
	asm volatile("" ::: "memory");
	GUEST_WRITE(uint32_t, RING, htole32(1));	/* avail_idx */
	GUEST_SYNC(0xd3a);				/* kick, please */
	GUEST_ASSERT_EQ(le32toh(GUEST_READ(uint32_t, RING + 4)), 1);
	GUEST_ASSERT_EQ(le32toh(GUEST_READ(uint32_t, d + 24)),
			GUESTMEM_DMA_STATUS_DONE);
	for (i = 0; i < len; i += 8)
		GUEST_ASSERT2(GUEST_READ(uint64_t, dst + i) ==
			      GUEST_READ(uint64_t, src + i), dst + i,
			      GUEST_READ(uint64_t, dst + i));
}

/* ---- host helpers --------------------------------------------------------- */

#define RUN_EXPECT(v, want) do {					\
	int __r = vcpu_next(v, &uc);					\
	ASSERT_EQ(want, __r) TH_LOG("%s", vcpu_what(v, __r));		\
} while (0)

#define RUN_SYNC(v, val) do {						\
	RUN_EXPECT(v, UCALL_SYNC);					\
	ASSERT_EQ((uint64_t)(val), uc.args[0]);				\
} while (0)

#define NO_KVM_MSG "no KVM VM (%s): the guest tests need /dev/kvm (nested SVM)"

static int memfd_map(size_t len, void **mem)
{
	int fd = memfd_create("guestmem-kvm", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, len)) {
		close(fd);
		return -1;
	}
	*mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*mem == MAP_FAILED) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- one mapping, one memslot --------------------------------------------- */

FIXTURE(space) {
	int fd, memfd;
	uint8_t *map;		/* guestmem mapping of [G, G + NPAGES pages) */
	uint8_t *user;		/* the memfd (USER backing), 4 pages */
	struct vm *vm;
};

FIXTURE_VARIANT(space) {
	uint32_t backing[2];	/* of pages [0, 2) and [2, 4) */
};

FIXTURE_VARIANT_ADD(space, vmalloc) {
	.backing = { GUESTMEM_BACKING_VMALLOC, GUESTMEM_BACKING_VMALLOC },
};

FIXTURE_VARIANT_ADD(space, memfd) {
	.backing = { GUESTMEM_BACKING_USER, GUESTMEM_BACKING_USER },
};

FIXTURE_VARIANT_ADD(space, vmalloc_memfd) {
	.backing = { GUESTMEM_BACKING_VMALLOC, GUESTMEM_BACKING_USER },
};

FIXTURE_VARIANT_ADD(space, memfd_vmalloc) {
	.backing = { GUESTMEM_BACKING_USER, GUESTMEM_BACKING_VMALLOC },
};

FIXTURE_SETUP(space)
{
	int i;

	self->vm = NULL;
	self->map = MAP_FAILED;
	self->fd = gm_open();
	ASSERT_LE(0, self->fd);
	self->memfd = memfd_map(TEST_LEN, (void **)&self->user);
	ASSERT_LE(0, self->memfd);
	for (i = 0; i < 2; i++) {
		uint64_t gpa = GP(2 * i);

		if (variant->backing[i] == GUESTMEM_BACKING_USER) {
			ASSERT_EQ(0, gm_add_user(self->fd, gpa, 2 * PG,
						 self->user + 2 * i * PG));
		} else {
			ASSERT_EQ(0, gm_add_vmalloc(self->fd, gpa, 2 * PG));
		}
	}
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, GP(4), 2 * PG));
	self->map = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, G);
	ASSERT_NE(MAP_FAILED, self->map);

	self->vm = vm_create();
	ASSERT_NE(NULL, self->vm) TH_LOG(NO_KVM_MSG, strerror(errno));
	ASSERT_EQ(0, vm_memslot(self->vm, SLOT, G, NPAGES * PG, self->map, 0));
	ASSERT_EQ(0, vm_map(self->vm, G, G, NPAGES * PG));
}

FIXTURE_TEARDOWN(space)
{
	vm_free(self->vm);
	if (self->map != MAP_FAILED)
		munmap(self->map, NPAGES * PG);
	close(self->fd);
	close(self->memfd);
}

/* The test range holds wpat(seed) by every way of looking at it. */
static void check_all_views(struct __test_metadata *_metadata,
			    FIXTURE_DATA(space) *self,
			    const FIXTURE_VARIANT(space) *variant, uint64_t seed)
{
	static uint8_t buf[TEST_LEN];
	int i;

	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, gm_read(self->fd, G, buf, TEST_LEN));
	EXPECT_EQ(-1, wpat_check(buf, G, TEST_LEN, seed)) TH_LOG("GUESTMEM_READ");
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ((ssize_t)TEST_LEN, pread(self->fd, buf, TEST_LEN, G));
	EXPECT_EQ(-1, wpat_check(buf, G, TEST_LEN, seed)) TH_LOG("pread");
	EXPECT_EQ(-1, wpat_check(self->map, G, TEST_LEN, seed)) TH_LOG("mapping");
	for (i = 0; i < 2; i++) {
		if (variant->backing[i] != GUESTMEM_BACKING_USER)
			continue;
		EXPECT_EQ(-1, wpat_check(self->user + 2 * i * PG, GP(2 * i),
					 2 * PG, seed)) TH_LOG("USER pages");
	}
}

TEST_F(space, guest_reads_and_writes)
{
	static uint8_t buf[TEST_LEN];
	struct vcpu *v;
	struct ucall uc;

	/* GUESTMEM_WRITE -> guest; guest -> every view. */
	wpat_fill(buf, G, TEST_LEN, 1);
	ASSERT_EQ(0, gm_write(self->fd, G, buf, TEST_LEN));
	v = vcpu_add(self->vm, guest_check_write, G, TEST_LEN, 1, 2);
	ASSERT_NE(NULL, v);
	RUN_SYNC(v, 1);
	RUN_SYNC(v, 2);
	RUN_EXPECT(v, UCALL_DONE);
	check_all_views(_metadata, self, variant, 2);

	/* pwrite -> guest. */
	wpat_fill(buf, G, TEST_LEN, 3);
	ASSERT_EQ((ssize_t)TEST_LEN, pwrite(self->fd, buf, TEST_LEN, G));
	ASSERT_EQ(0, vcpu_restart(v, guest_check_write, G, TEST_LEN, 3, 4));
	RUN_SYNC(v, 1);
	RUN_SYNC(v, 2);
	RUN_EXPECT(v, UCALL_DONE);
	check_all_views(_metadata, self, variant, 4);

	/* Our own stores through the mapping -> guest. */
	wpat_fill(self->map, G, TEST_LEN, 5);
	ASSERT_EQ(0, vcpu_restart(v, guest_check_write, G, TEST_LEN, 5, 6));
	RUN_SYNC(v, 1);
	RUN_SYNC(v, 2);
	RUN_EXPECT(v, UCALL_DONE);
	check_all_views(_metadata, self, variant, 6);
}

TEST_F(space, dma_device_writes_seen_by_guest)
{
	struct guestmem_dma_kick k;
	static uint8_t buf[PG];
	struct vcpu *v;
	struct ucall uc;
	int dma;

	dma = sample_open(DMA_DEV, DMA_KO);
	ASSERT_LE(0, dma) TH_LOG("%s: %s", DMA_DEV, strerror(-dma));
	ASSERT_EQ(0, dma_bind(dma, self->fd, RING, RING_SIZE));

	/* The source: a page of AUX, written with the ioctl. */
	ASSERT_EQ(0, gm_pat_write(self->fd, GP(5), PG, 9));
	/* A page copied across the middle of the test range. */
	v = vcpu_add(self->vm, guest_dma, GP(5), GP(1) + PG / 2, PG, 0);
	ASSERT_NE(NULL, v);
	RUN_SYNC(v, 0xd3a);
	memset(&k, 0, sizeof(k));
	ASSERT_EQ(0, gm_ioctl(dma, GUESTMEM_DMA_KICK, &k));
	EXPECT_EQ(1U, k.processed);
	EXPECT_EQ(0U, k.errors);
	RUN_EXPECT(v, UCALL_DONE);
	/* The copy, by GPA and through the mapping. */
	ASSERT_EQ(0, gm_read(self->fd, GP(1) + PG / 2, buf, PG));
	EXPECT_EQ(-1, pat_check(buf, GP(5), PG, 9));
	EXPECT_EQ(0, memcmp(self->map + PG + PG / 2, self->map + 5 * PG, PG));
	close(dma);
}

TEST_F(space, hole_is_efault_until_added)
{
	struct vcpu *v;
	struct ucall uc;
	uint64_t val = 0x1234567890abcdefULL;
	int ret;

	ASSERT_EQ(0, gm_write(self->fd, GP(5), &val, sizeof(val)));
	v = vcpu_add(self->vm, guest_read_pages, GP(5), 2, 0, 0);
	ASSERT_NE(NULL, v);
	RUN_EXPECT(v, UCALL_SYNC);
	EXPECT_EQ(GP(5), uc.args[0]);
	EXPECT_EQ(val, uc.args[1]);

	/* GP(6) is a hole: the guest's read cannot complete. */
	ret = vcpu_next(v, &uc);
	ASSERT_EQ(-EFAULT, ret) TH_LOG("%s", vcpu_what(v, ret));
	ret = vcpu_next(v, &uc);
	ASSERT_EQ(-EFAULT, ret) TH_LOG("again: %s", vcpu_what(v, ret));

	/* A region there: the same read now completes and sees it. */
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, GP(6), PG));
	val = ~val;
	ASSERT_EQ(0, gm_write(self->fd, GP(6), &val, sizeof(val)));
	RUN_EXPECT(v, UCALL_SYNC);
	EXPECT_EQ(GP(6), uc.args[0]);
	EXPECT_EQ(val, uc.args[1]);
	RUN_EXPECT(v, UCALL_DONE);
}

/* ---- USER over private anonymous memory ------------------------------------ */

TEST(anon_boundary)
{
	static uint8_t buf[4 * PG];
	uint8_t *anon, *map;
	struct vcpu *v;
	struct ucall uc;
	struct vm *vm;
	int fd, ret;

	fd = gm_open();
	ASSERT_LE(0, fd);
	anon = map_anon(2 * PG);
	ASSERT_NE(NULL, anon);
	memset(anon, 0x5a, 2 * PG);
	ASSERT_EQ(0, gm_add_vmalloc(fd, G, 2 * PG));
	ASSERT_EQ(0, gm_add_user(fd, GP(2), 2 * PG, anon));
	map = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, G);
	ASSERT_NE(MAP_FAILED, map);

	vm = vm_create();
	ASSERT_NE(NULL, vm) TH_LOG(NO_KVM_MSG, strerror(errno));
	ASSERT_EQ(0, vm_map(vm, G, G, 4 * PG));
	/* VMALLOC through guestmem, the anonymous pages through our mapping. */
	ASSERT_EQ(0, vm_memslot(vm, SLOT, G, 2 * PG, map, 0));
	ASSERT_EQ(0, vm_memslot(vm, SLOT + 1, GP(2), 2 * PG, anon, 0));

	wpat_fill(buf, G, sizeof(buf), 11);
	ASSERT_EQ(0, gm_write(fd, G, buf, sizeof(buf)));
	v = vcpu_add(vm, guest_check_write, G, 4 * PG, 11, 12);
	ASSERT_NE(NULL, v);
	RUN_SYNC(v, 1);
	RUN_SYNC(v, 2);
	RUN_EXPECT(v, UCALL_DONE);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, gm_read(fd, G, buf, sizeof(buf)));
	EXPECT_EQ(-1, wpat_check(buf, G, sizeof(buf), 12));
	EXPECT_EQ(-1, wpat_check(anon, GP(2), 2 * PG, 12));

	/* The guestmem mapping of the anonymous region: EFAULT, cleanly. */
	ASSERT_EQ(0, vm_memslot(vm, SLOT + 1, GP(2), 0, anon, 0));
	ASSERT_EQ(0, vm_memslot(vm, SLOT + 1, GP(2), 2 * PG, map + 2 * PG, 0));
	ASSERT_EQ(0, vcpu_restart(v, guest_check_write, G, 4 * PG, 12, 13));
	ret = vcpu_next(v, &uc);
	ASSERT_EQ(-EFAULT, ret) TH_LOG("%s", vcpu_what(v, ret));
	EXPECT_EQ(-1, wpat_check(anon, GP(2), 2 * PG, 12));

	vm_free(vm);
	munmap(map, 4 * PG);
	close(fd);
	munmap(anon, 2 * PG);
}

/* ---- USER over a hugetlbfs huge page --------------------------------------- */

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

TEST(hugetlb_is_efault)
{
	long hkb = proc_file_kb("/proc/meminfo", "Hugepagesize");
	uint64_t saved = 0, hsize;
	uint8_t *huge, *map;
	struct vcpu *v;
	struct ucall uc;
	struct vm *vm;
	int fd, ret;

	ASSERT_LT(0, hkb) TH_LOG("no huge pages in this kernel");
	hsize = (uint64_t)hkb * 1024;
	ASSERT_EQ(0, read_file_u64(NR_HUGEPAGES, &saved));
	ASSERT_EQ(0, write_file_u64(NR_HUGEPAGES, saved + 1));
	huge = mmap(NULL, hsize, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	ASSERT_NE(MAP_FAILED, huge) TH_LOG("MAP_HUGETLB: %s", strerror(errno));
	memset(huge, 0x77, hsize);

	fd = gm_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gm_add_user(fd, G, hsize, huge));
	map = mmap(NULL, hsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, G);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0x77, map[PG]);	/* the mapping itself works for us */

	vm = vm_create();
	ASSERT_NE(NULL, vm) TH_LOG(NO_KVM_MSG, strerror(errno));
	ASSERT_EQ(0, vm_map(vm, G, G, hsize));
	ASSERT_EQ(0, vm_memslot(vm, SLOT, G, hsize, map, 0));
	v = vcpu_add(vm, guest_read_pages, G + PG, 1, 0, 0);
	ASSERT_NE(NULL, v);
	ret = vcpu_next(v, &uc);
	EXPECT_EQ(-EFAULT, ret) TH_LOG("%s", vcpu_what(v, ret));

	/* The VMM's own mapping of the same memory is fine for KVM. */
	ASSERT_EQ(0, vm_memslot(vm, SLOT, G, 0, map, 0));
	ASSERT_EQ(0, vm_memslot(vm, SLOT, G, hsize, huge, 0));
	RUN_EXPECT(v, UCALL_SYNC);
	EXPECT_EQ(0x7777777777777777ULL, uc.args[1]);

	vm_free(vm);
	munmap(map, hsize);
	close(fd);
	munmap(huge, hsize);
	EXPECT_EQ(0, write_file_u64(NR_HUGEPAGES, saved));
}

/* ---- READONLY ----------------------------------------------------------- */

TEST(readonly_guest_write)
{
	uint8_t *mem, *map, copy[4 * PG];
	int fd, memfd, i, ret;
	struct vm *vm;

	memfd = memfd_map(4 * PG, (void **)&mem);
	ASSERT_LE(0, memfd);
	wpat_fill(mem, G, 4 * PG, 21);
	memcpy(copy, mem, sizeof(copy));
	fd = gm_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gm_add(fd, G, 4 * PG, (uintptr_t)mem,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_READONLY));
	map = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, G);
	ASSERT_NE(MAP_FAILED, map);
	vm = vm_create();
	ASSERT_NE(NULL, vm) TH_LOG(NO_KVM_MSG, strerror(errno));
	ASSERT_EQ(0, vm_map(vm, G, G, 4 * PG));
	ASSERT_EQ(0, vm_memslot(vm, SLOT, G, 4 * PG, map, 0));

	/* Page 0: written with no PTE; page 1: read (a PTE), then written. */
	for (i = 0; i < 2; i++) {
		uint64_t gpa = GP(i) + 64;
		struct vcpu *v = vcpu_add(vm, guest_write_word, gpa, 0xbad, i, 0);
		struct ucall uc;

		ASSERT_NE(NULL, v);
		if (i) {
			RUN_SYNC(v, wpat(gpa, 21));
		}
		ret = vcpu_next(v, &uc);
		if (ret == -EFAULT) {
			printf("# page %d (%s): the guest's write is KVM_RUN EFAULT\n",
			       i, i ? "read first" : "untouched");
		} else {
			ASSERT_EQ(UCALL_NONE, ret) TH_LOG("%s", vcpu_what(v, ret));
			ASSERT_EQ((uint32_t)KVM_EXIT_MMIO, v->run->exit_reason)
				TH_LOG("%s", vcpu_what(v, ret));
			EXPECT_EQ(gpa, v->run->mmio.phys_addr);
			EXPECT_TRUE(v->run->mmio.is_write);
			printf("# page %d (%s): the guest's write is an MMIO exit\n",
			       i, i ? "read first" : "untouched");
		}
	}
	EXPECT_EQ(0, memcmp(copy, mem, sizeof(copy)));
	EXPECT_EQ(0, memcmp(copy, map, sizeof(copy)));

	vm_free(vm);
	munmap(map, 4 * PG);
	close(fd);
	close(memfd);
	munmap(mem, 4 * PG);
}

/* ---- the VMM itself: what a failing guest reports ------------------------- */

static void guest_fail(uint64_t what, uint64_t gva)
{
	if (what == 0)
		GUEST_ASSERT_EQ(gva, 42);
	GUEST_SYNC(GUEST_READ(uint64_t, gva));	/* gva is not mapped: #PF */
}

TEST(vmm_reports_failures)
{
	struct vcpu *v;
	struct ucall uc;
	struct vm *vm;
	int ret;

	vm = vm_create();
	ASSERT_NE(NULL, vm) TH_LOG(NO_KVM_MSG, strerror(errno));
	v = vcpu_add(vm, guest_fail, 0, 41, 0, 0);
	ASSERT_NE(NULL, v);
	ret = vcpu_next(v, &uc);
	ASSERT_EQ(UCALL_ABORT, ret) TH_LOG("%s", vcpu_what(v, ret));
	EXPECT_EQ(41ULL, uc.args[2]);
	EXPECT_EQ(42ULL, uc.args[3]);
	EXPECT_NE(NULL, strstr((const char *)(uintptr_t)uc.args[0], "(gva) == (uint64_t)(42)"))
		TH_LOG("%s", vcpu_what(v, ret));
	printf("# %s\n", vcpu_what(v, ret));

	ASSERT_EQ(0, vcpu_restart(v, guest_fail, 1, G + 0x123, 0, 0));
	ret = vcpu_next(v, &uc);
	ASSERT_EQ(UCALL_EXCEPTION, ret) TH_LOG("%s", vcpu_what(v, ret));
	EXPECT_EQ(14ULL, uc.args[0]);		/* #PF */
	EXPECT_EQ(G + 0x123, uc.args[3]);	/* CR2 */
	printf("# %s\n", vcpu_what(v, ret));
	vm_free(vm);
}

/* ---- lifetime: fork, close while running, unload refused ------------------- */

/* A VMALLOC page and a memfd page, one mapping, one memslot. */
FIXTURE(two_pages) {
	int fd, memfd;
	uint8_t *mem;		/* the memfd; its first page backs GP(1) */
	uint8_t *map;		/* guestmem mapping of [G, GP(2)) */
	struct vm *vm;
};

FIXTURE_SETUP(two_pages)
{
	self->fd = -1;
	self->map = MAP_FAILED;
	self->vm = NULL;
	self->memfd = memfd_map(2 * PG, (void **)&self->mem);
	ASSERT_LE(0, self->memfd);
	self->fd = gm_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G, PG));
	ASSERT_EQ(0, gm_add_user(self->fd, GP(1), PG, self->mem));
	self->map = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, G);
	ASSERT_NE(MAP_FAILED, self->map);
	self->vm = vm_create();
	ASSERT_NE(NULL, self->vm) TH_LOG(NO_KVM_MSG, strerror(errno));
	ASSERT_EQ(0, vm_map(self->vm, G, G, 2 * PG));
	ASSERT_EQ(0, vm_memslot(self->vm, SLOT, G, 2 * PG, self->map, 0));
}

FIXTURE_TEARDOWN(two_pages)
{
	vm_free(self->vm);
	if (self->map != MAP_FAILED)
		munmap(self->map, 2 * PG);
	if (self->fd >= 0)
		close(self->fd);
	if (self->memfd >= 0) {
		close(self->memfd);
		munmap(self->mem, 2 * PG);
	}
}

static void guest_counter(uint64_t gpa, uint64_t rounds)
{
	uint64_t i;

	for (i = 0; i < rounds; i++) {
		GUEST_WRITE(uint64_t, gpa, GUEST_READ(uint64_t, gpa) + 1);
		GUEST_SYNC(GUEST_READ(uint64_t, gpa + 8));
	}
}

TEST_F(two_pages, fork_close_unload)
{
	uint8_t *mem = self->mem, *map = self->map;
	struct vcpu *v;
	struct ucall uc;
	int ret;
	pid_t pid;

	v = vcpu_add(self->vm, guest_counter, G + PG - 8, 4, 0, 0);
	ASSERT_NE(NULL, v);
	RUN_SYNC(v, 0);
	EXPECT_EQ(1ULL, *(uint64_t *)(map + PG - 8));

	/* A child sees the guest's memory through the inherited mapping. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		CHILD_CHECK(*(uint64_t *)(map + PG - 8) == 1);
		*(uint64_t *)(map + PG) = 0xc41d;	/* USER page */
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid));
	EXPECT_EQ(0xc41dULL, *(uint64_t *)mem);

	/* Only the mapping holds the space now; the guest goes on. */
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	RUN_SYNC(v, 0xc41d);
	ret = syscall(SYS_delete_module, "guestmem", O_NONBLOCK) ? -errno : 0;
	EXPECT_TRUE(ret == -EBUSY || ret == -EAGAIN)
		TH_LOG("delete_module(guestmem): %d", ret);
	RUN_SYNC(v, 0xc41d);
	RUN_SYNC(v, 0xc41d);
	RUN_EXPECT(v, UCALL_DONE);
	EXPECT_EQ(4ULL, *(uint64_t *)(map + PG - 8));
}

/*
 * The same while a vCPU thread is inside KVM_RUN all along: the guest counts
 * at @gpa and copies the word at @gpa + 8 (written by a forked child) to
 * @gpa + 16, forever.  Waits are bounded; only a failure waits long.
 */
static void guest_count_forever(uint64_t gpa)
{
	uint64_t n;

	for (n = 1;; n++) {
		GUEST_WRITE(uint64_t, gpa, n);
		GUEST_WRITE(uint64_t, gpa + 16, GUEST_READ(uint64_t, gpa + 8));
	}
}

struct bg_vcpu {
	struct vcpu *v;
	volatile int stop;
	int ret;
};

static void *bg_vcpu_fn(void *arg)
{
	struct bg_vcpu *b = arg;

	do {
		b->ret = vcpu_run(b->v);
	} while (!b->stop && (b->ret == -EINTR || !b->ret));
	return NULL;
}

static void sig_noop(int sig)
{
	(void)sig;
}

/* Wait (bounded) until the 64-bit word at @p differs from @old. */
static bool wait_change(volatile uint64_t *p, uint64_t old)
{
	uint64_t end = now_ms() + 120 * 1000;

	while (*p == old)
		if (now_ms() >= end)
			return false;
	return true;
}

TEST_F(two_pages, close_and_fork_while_vcpu_runs)
{
	uint8_t *map = self->map;
	volatile uint64_t *w;
	struct bg_vcpu b = { 0 };
	struct sigaction sa;
	pthread_t thread;
	int ret, i;
	uint64_t seen;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_noop;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));	/* no SA_RESTART */
	/* The counter in the USER page, the child's word in it too. */
	b.v = vcpu_add(self->vm, guest_count_forever, GP(1), 0, 0, 0);
	ASSERT_NE(NULL, b.v);
	w = (volatile uint64_t *)self->mem;
	ASSERT_EQ(0, pthread_create(&thread, NULL, bg_vcpu_fn, &b));
	ASSERT_TRUE(wait_change(w, 0)) TH_LOG("the guest does not run");

	/* A child forked now sees the running guest through the mapping. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		volatile uint64_t *cw = (volatile uint64_t *)(map + PG);

		CHILD_CHECK(wait_change(cw, cw[0]));	/* the guest counts */
		cw[1] = 0xc41d;				/* the guest copies it */
		CHILD_CHECK(wait_change(cw + 2, 0));
		CHILD_CHECK(cw[2] == 0xc41d);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid));

	/* Closed: the mapping holds the space, the guest goes on. */
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	seen = *w;
	ASSERT_TRUE(wait_change(w, seen)) TH_LOG("the guest stopped after close()");
	ret = syscall(SYS_delete_module, "guestmem", O_NONBLOCK) ? -errno : 0;
	EXPECT_TRUE(ret == -EBUSY || ret == -EAGAIN)
		TH_LOG("delete_module(guestmem): %d", ret);
	seen = *w;
	ASSERT_TRUE(wait_change(w, seen)) TH_LOG("the guest stopped after rmmod");
	EXPECT_EQ(0xc41dULL, w[2]);

	/* Stop the vCPU: a signal ends its KVM_RUN with EINTR. */
	b.stop = 1;
	for (i = 0; pthread_tryjoin_np(thread, NULL) == EBUSY; i++) {
		ASSERT_LT(i, 12000) TH_LOG("the vCPU thread does not stop");
		pthread_kill(thread, SIGUSR1);
		sleep_ms(10);
	}
	EXPECT_EQ(-EINTR, b.ret) TH_LOG("KVM_RUN: %s", strerror(-b.ret));
}

TEST_HARNESS_MAIN
