// SPDX-License-Identifier: GPL-2.0
/*
 * USER regions take anonymous, shmem (memfd, tmpfs, MAP_SHARED|MAP_ANONYMOUS)
 * and hugetlbfs memory, and nothing else: a mapping of any other file
 * (ramfs here; the test VM's root is tmpfs, which is shmem), shared or
 * private, READONLY or not, and a device (PFN) mapping are EINVAL, with
 * nothing pinned (VmLck unchanged) and nothing added -- also when only the
 * last page of the range is of another kind.  A range with a hole is
 * EFAULT.
 */
#include "guestmem_util.h"
#include "kselftest_harness.h"

#define B	0x5000000000ULL
#define NPG	4

FIXTURE(kinds) {
	int fd;
	char dir[64];
	int rfd;	/* a file on ramfs, NPG pages */
	long vmlck;
};

FIXTURE_SETUP(kinds)
{
	uint8_t buf[PG];
	unsigned int i;

	self->fd = gm_open();
	ASSERT_LE(0, self->fd);
	snprintf(self->dir, sizeof(self->dir), "/tmp/gm_ramfs_XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, mount("none", self->dir, "ramfs", 0, NULL))
		TH_LOG("mount ramfs: %s", strerror(errno));
	{
		char path[96];

		snprintf(path, sizeof(path), "%s/f", self->dir);
		self->rfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	ASSERT_LE(0, self->rfd);
	for (i = 0; i < NPG; i++) {
		memset(buf, 0x30 + i, sizeof(buf));
		ASSERT_EQ((ssize_t)PG, write(self->rfd, buf, PG));
	}
	self->vmlck = vmlck_kb(0);
	ASSERT_LE(0, self->vmlck);
}

FIXTURE_TEARDOWN(kinds)
{
	close(self->rfd);
	close(self->fd);
	umount(self->dir);
	rmdir(self->dir);
}

/* Adding a USER region over @mem fails with @err and leaves no trace. */
#define EXPECT_REFUSED(err, mem, npg, flags) do {			\
	struct guestmem_info __i;					\
									\
	EXPECT_EQ(err, gm_add(self->fd, B, (npg) * PG, (uintptr_t)(mem),	\
			      GUESTMEM_BACKING_USER, flags));		\
	EXPECT_EQ(self->vmlck, vmlck_kb(0));				\
	EXPECT_EQ(0, gm_info(self->fd, &__i));				\
	EXPECT_EQ(0U, __i.num_regions);					\
} while (0)

#define EXPECT_ACCEPTED(mem, npg, flags) do {				\
	EXPECT_EQ(0, gm_add(self->fd, B, (npg) * PG, (uintptr_t)(mem),	\
			    GUESTMEM_BACKING_USER, flags));		\
	EXPECT_EQ(self->vmlck + (long)((npg) * PG / 1024), vmlck_kb(0));\
	EXPECT_EQ(0, gm_remove(self->fd, B, (npg) * PG));		\
	EXPECT_EQ(self->vmlck, vmlck_kb(0));				\
} while (0)

/* Another file's pages, shared or private, writable or read-only. */
TEST_F(kinds, ramfs_file)
{
	static const int shares[] = { MAP_SHARED, MAP_PRIVATE };
	static const uint32_t flags[] = { 0, GUESTMEM_REGION_READONLY };
	unsigned int s, f;
	uint8_t *p;

	for (s = 0; s < 2; s++) {
		for (f = 0; f < 2; f++) {
			p = mmap(NULL, NPG * PG, PROT_READ | PROT_WRITE,
				 shares[s], self->rfd, 0);
			ASSERT_NE(MAP_FAILED, p);
			/* Touched pages too, as a caller's would be. */
			p[0] = 1;
			EXPECT_REFUSED(-EINVAL, p, NPG, flags[f]);
			munmap(p, NPG * PG);
		}
		p = mmap(NULL, NPG * PG, PROT_READ, shares[s], self->rfd, 0);
		ASSERT_NE(MAP_FAILED, p);
		EXPECT_REFUSED(-EINVAL, p, NPG, GUESTMEM_REGION_READONLY);
		munmap(p, NPG * PG);
	}
}

/* Good memory followed by a page of another kind, and by a hole. */
TEST_F(kinds, mixed_ranges)
{
	uint8_t *p;

	p = map_shmem(NPG * PG);
	ASSERT_NE(NULL, p);
	memset(p, 1, NPG * PG);
	ASSERT_EQ(p + (NPG - 1) * PG,
		  mmap(p + (NPG - 1) * PG, PG, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, self->rfd, 0));
	EXPECT_REFUSED(-EINVAL, p, NPG, 0);
	EXPECT_REFUSED(-EINVAL, p, NPG, GUESTMEM_REGION_READONLY);
	EXPECT_ACCEPTED(p, NPG - 1, 0);
	ASSERT_EQ(0, munmap(p + (NPG - 1) * PG, PG));
	EXPECT_REFUSED(-EFAULT, p, NPG, 0);
	munmap(p, NPG * PG);
}

/* A device mapping: another space's guestmem mapping (VM_PFNMAP). */
TEST_F(kinds, device_mapping)
{
	uint8_t *p;
	int other;

	other = gm_open();
	ASSERT_LE(0, other);
	ASSERT_EQ(0, gm_add_vmalloc(other, 0, NPG * PG));
	p = mmap(NULL, NPG * PG, PROT_READ | PROT_WRITE, MAP_SHARED, other, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;	/* a present PFN */
	EXPECT_REFUSED(-EINVAL, p, NPG, 0);
	EXPECT_REFUSED(-EINVAL, p, NPG, GUESTMEM_REGION_READONLY);
	munmap(p, NPG * PG);
	close(other);
}

/*
 * What is accepted: anonymous, shmem, memfd (shared and private); hugetlbfs
 * (a file and MAP_HUGETLB) in user_backing_test's huge fixture.
 */
TEST_F(kinds, accepted)
{
	uint8_t *p;
	int mfd;

	p = map_anon(NPG * PG);
	ASSERT_NE(NULL, p);
	EXPECT_ACCEPTED(p, NPG, 0);
	EXPECT_ACCEPTED(p, NPG, GUESTMEM_REGION_READONLY);
	munmap(p, NPG * PG);

	p = map_shmem(NPG * PG);
	ASSERT_NE(NULL, p);
	EXPECT_ACCEPTED(p, NPG, 0);
	munmap(p, NPG * PG);

	mfd = memfd_create("gm-kinds", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, NPG * PG));
	p = mmap(NULL, NPG * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_ACCEPTED(p, NPG, 0);
	munmap(p, NPG * PG);
	p = mmap(NULL, NPG * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_ACCEPTED(p, NPG, 0);
	EXPECT_ACCEPTED(p, NPG, GUESTMEM_REGION_READONLY);
	munmap(p, NPG * PG);
	close(mfd);
}

TEST_HARNESS_MAIN
