// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem's dirty log against KVM's, for a KVM guest whose memslot is a
 * guestmem mapping of DIRTY_LOG regions (VMALLOC and USER over a memfd),
 * the memslot itself created with KVM_MEM_LOG_DIRTY_PAGES:
 *
 *  - round after round, the guest reads some pages, then writes some of
 *    those and some others; after each round GUESTMEM_GET_DIRTY_LOG with
 *    CLEAR and KVM_GET_DIRTY_LOG both equal exactly the pages it wrote (a
 *    read-only PTE from the read makes KVM emulate the write, still
 *    logged; the CLEAR zaps the pages so the next round's writes fault and
 *    are logged again);
 *  - when GUESTMEM_WRITE and the sample DMA device write too, guestmem's
 *    log is KVM's plus exactly their pages, and KVM's is the guest's.
 */
#include <endian.h>

#include "guestmem_util.h"
#include "samples.h"
#include "vmm.h"
#include "kselftest_harness.h"

#define G		VMM_TEST_GPA_MIN
#define GP(pg)		(G + (uint64_t)(pg) * PG)
#define NPG		64		/* [0, 32) VMALLOC, [32, 64) USER memfd */
#define GUEST_PAGES	62		/* the guest's; 62: DMA source, 63: ring */
#define SRC_PG		62
#define RING_PG		63
#define SLOT		1
#define ROUNDS		6


/* What the guest does to page @pg in round @r: bit 0 read, bit 1 write. */
#define DO_READ		1
#define DO_WRITE	2
static inline unsigned int page_op(uint64_t r, uint64_t pg)
{
	uint64_t h = ((r + 1) * 0x9E3779B97F4A7C15ULL) ^ (pg * 0xBF58476D1CE4E5B9ULL);

	h ^= h >> 29;
	h *= 0x94D049BB133111EBULL;
	h ^= h >> 32;
	switch (h & 3) {
	case 0:
		return DO_WRITE;
	case 1:
		return DO_READ | DO_WRITE;	/* read in one run, written in the next */
	case 2:
		return DO_READ;
	default:
		return 0;
	}
}

static inline uint64_t val(uint64_t r, uint64_t pg)
{
	return (r << 32) | pg | 0x8000000000000000ULL;
}

/*
 * Round r: read the DO_READ pages, sync (r, 1) (so the reads and the writes
 * are separate KVM_RUNs), write the DO_WRITE pages, sync (r, 2).
 */
static void guest_rounds(uint64_t first, uint64_t rounds)
{
	uint64_t r, pg, sum = 0;

	for (r = first; r < first + rounds; r++) {
		for (pg = 0; pg < GUEST_PAGES; pg++)
			if (page_op(r, pg) & DO_READ)
				sum += GUEST_READ(uint64_t, GP(pg) + 8 * (pg % 512));
		GUEST_SYNC2(r, 1);
		for (pg = 0; pg < GUEST_PAGES; pg++)
			if (page_op(r, pg) & DO_WRITE)
				GUEST_WRITE(uint64_t, GP(pg) + 8 * (r % 512), val(r, pg));
		GUEST_SYNC2(r, 2);
	}
	GUEST_SYNC2(sum, 3);
}

static uint64_t expected_log(uint64_t r)
{
	uint64_t pg, bits = 0;

	for (pg = 0; pg < GUEST_PAGES; pg++)
		if (page_op(r, pg) & DO_WRITE)
			bits |= 1ULL << pg;
	return bits;
}

#define RUN_SYNC2(v, a, b) do {						\
	int __r = vcpu_next(v, &uc);					\
	ASSERT_EQ(UCALL_SYNC, __r) TH_LOG("%s", vcpu_what(v, __r));	\
	ASSERT_EQ((uint64_t)(a), uc.args[0]);				\
	ASSERT_EQ((uint64_t)(b), uc.args[1]);				\
} while (0)

FIXTURE(dirty) {
	int fd, memfd;
	uint8_t *map, *user;
	struct vm *vm;
	struct vcpu *v;
};

FIXTURE_SETUP(dirty)
{
	self->vm = NULL;
	self->map = MAP_FAILED;
	self->user = MAP_FAILED;
	self->fd = gm_open();
	ASSERT_LE(0, self->fd);
	self->memfd = memfd_create("guestmem-dirty", MFD_CLOEXEC);
	ASSERT_LE(0, self->memfd);
	ASSERT_EQ(0, ftruncate(self->memfd, 32 * PG));
	self->user = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			  self->memfd, 0);
	ASSERT_NE(MAP_FAILED, self->user);
	ASSERT_EQ(0, gm_add(self->fd, G, 32 * PG, 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_DIRTY_LOG));
	ASSERT_EQ(0, gm_add(self->fd, GP(32), 32 * PG, (uintptr_t)self->user,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_DIRTY_LOG));
	self->map = mmap(NULL, NPG * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, G);
	ASSERT_NE(MAP_FAILED, self->map);

	self->vm = vm_create();
	ASSERT_NE(NULL, self->vm)
		TH_LOG("no KVM VM (%s): the guest tests need /dev/kvm (nested SVM)",
		       strerror(errno));
	ASSERT_EQ(0, vm_memslot(self->vm, SLOT, G, NPG * PG, self->map,
				KVM_MEM_LOG_DIRTY_PAGES));
	ASSERT_EQ(0, vm_map(self->vm, G, G, NPG * PG));
}

FIXTURE_TEARDOWN(dirty)
{
	vm_free(self->vm);
	if (self->map != MAP_FAILED)
		munmap(self->map, NPG * PG);
	if (self->user != MAP_FAILED)
		munmap(self->user, 32 * PG);
	close(self->fd);
	close(self->memfd);
}

/* Both logs of the whole slot; guestmem's with CLEAR. */
static int both_logs(FIXTURE_DATA(dirty) *self, uint64_t *gm, uint64_t *kvm)
{
	int ret;

	*gm = *kvm = 0xdeadbeef;
	ret = gm_dirty_log(self->fd, G, NPG * PG, gm, GUESTMEM_DIRTY_LOG_CLEAR);
	if (ret)
		return ret;
	return vm_dirty_log(self->vm, SLOT, kvm);
}

TEST_F_TIMEOUT(dirty, equals_kvm_round_after_round, 120)
{
	uint64_t r, pg, gm, kvm, want;
	struct ucall uc;
	int ret;

	/* Both logs start clean. */
	ASSERT_EQ(0, both_logs(self, &gm, &kvm));
	EXPECT_EQ(0ULL, gm);
	EXPECT_EQ(0ULL, kvm);

	self->v = vcpu_add(self->vm, guest_rounds, 0, ROUNDS, 0, 0);
	ASSERT_NE(NULL, self->v);
	for (r = 0; r < ROUNDS; r++) {
		RUN_SYNC2(self->v, r, 1);
		/* Reads alone dirty nothing. */
		EXPECT_EQ(0, gm_dirty_log(self->fd, G, NPG * PG, &gm, 0));
		EXPECT_EQ(0ULL, gm) TH_LOG("round %" PRIu64 ": reads logged", r);
		RUN_SYNC2(self->v, r, 2);
		want = expected_log(r);
		ASSERT_EQ(0, both_logs(self, &gm, &kvm));
		EXPECT_EQ(want, gm) TH_LOG("round %" PRIu64 ": guestmem", r);
		EXPECT_EQ(want, kvm) TH_LOG("round %" PRIu64 ": KVM", r);
		for (pg = 0; pg < GUEST_PAGES; pg++) {
			if (!(page_op(r, pg) & DO_WRITE))
				continue;
			EXPECT_EQ(val(r, pg),
				  *(uint64_t *)(self->map + pg * PG + 8 * (r % 512)));
		}
		printf("# round %" PRIu64 ": %d pages written, both logs equal them\n",
		       r, __builtin_popcountll(want));
	}
	ret = vcpu_next(self->v, &uc);
	ASSERT_EQ(UCALL_SYNC, ret) TH_LOG("%s", vcpu_what(self->v, ret));
	ASSERT_EQ(3ULL, uc.args[1]);
	ASSERT_EQ(0, both_logs(self, &gm, &kvm));
	EXPECT_EQ(0ULL, gm);
	EXPECT_EQ(0ULL, kvm);
}

TEST_F_TIMEOUT(dirty, ioctl_and_device_pages_only_in_guestmem, 120)
{
	uint64_t r, gm, kvm, want, extra, w = 0x5eed;
	struct guestmem_dma_desc d;
	struct guestmem_dma_kick k;
	uint32_t avail;
	struct ucall uc;
	int dma;

	dma = sample_open(DMA_DEV, DMA_KO);
	ASSERT_LE(0, dma) TH_LOG("%s: %s", DMA_DEV, strerror(-dma));
	ASSERT_EQ(0, dma_bind(dma, self->fd, GP(RING_PG), 4));
	ASSERT_EQ(0, both_logs(self, &gm, &kvm));

	self->v = vcpu_add(self->vm, guest_rounds, 0, 3, 0, 0);
	ASSERT_NE(NULL, self->v);
	for (r = 0; r < 3; r++) {
		RUN_SYNC2(self->v, r, 1);
		RUN_SYNC2(self->v, r, 2);
		want = expected_log(r);

		/* The ioctl writes pages 3 and 40 (one maybe also the guest's). */
		ASSERT_EQ(0, gm_write(self->fd, GP(3) + 16, &w, sizeof(w)));
		ASSERT_EQ(0, gm_write(self->fd, GP(40) + 16, &w, sizeof(w)));
		/* The device copies a page onto [20.5, 21.5) (it writes the ring). */
		d = dma_desc(GP(SRC_PG), GP(20) + PG / 2, PG, 0);
		ASSERT_EQ(0, gm_write(self->fd, GP(RING_PG) + 32 + 32 * (r & 3),
				      &d, sizeof(d)));
		avail = htole32(r + 1);
		ASSERT_EQ(0, gm_write(self->fd, GP(RING_PG), &avail, sizeof(avail)));
		memset(&k, 0, sizeof(k));
		ASSERT_EQ(0, gm_ioctl(dma, GUESTMEM_DMA_KICK, &k));
		ASSERT_EQ(1U, k.processed);
		ASSERT_EQ(0U, k.errors);

		extra = 1ULL << 3 | 1ULL << 40 | 1ULL << 20 | 1ULL << 21 |
			1ULL << RING_PG;
		ASSERT_EQ(0, both_logs(self, &gm, &kvm));
		EXPECT_EQ(want | extra, gm) TH_LOG("round %" PRIu64 ": guestmem", r);
		EXPECT_EQ(want, kvm) TH_LOG("round %" PRIu64 ": KVM", r);
	}
	close(dma);
}

TEST_HARNESS_MAIN
