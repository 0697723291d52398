// SPDX-License-Identifier: GPL-2.0
/*
 * A READONLY USER region pins the pages its caller goes on using.  Over
 * untouched anonymous memory a plain read-only long-term pin gets the
 * shared zero page, over a private file (shmem) mapping the page cache; the
 * caller's next write moves its mapping to a new page, and on 6.1 (which
 * does not unshare such pins, as 6.2 and later do) guestmem kept reading
 * the old one.  The same holds for a read-only private mapping the caller
 * later makes writable.  Here the caller writes through its own mapping
 * after the add, and GUESTMEM_READ and pread see the write; the file's own
 * contents are untouched; the region stays read-only.
 */
#include "guestmem_util.h"
#include "kselftest_harness.h"

#define B	0x7000000000ULL
#define NPG	4
#define LEN	(NPG * PG)

GM_SPACE_FIXTURE(pin);

/* The READONLY USER region [B, B + LEN) over @p. */
static int add_readonly(int fd, void *p)
{
	return gm_add(fd, B, LEN, (uintptr_t)p, GUESTMEM_BACKING_USER,
		      GUESTMEM_REGION_READONLY);
}

/* A memfd of LEN bytes, all holes: its fd, or -1. */
static int memfd_holes(void)
{
	int mfd = memfd_create("gm-ro-pin", MFD_CLOEXEC);

	if (mfd >= 0 && ftruncate(mfd, LEN)) {
		close(mfd);
		return -1;
	}
	return mfd;
}

/* Write through @p after the add; every read path sees it. */
static int check_sees_caller_writes(int fd, uint8_t *p, uint8_t v)
{
	uint8_t buf[LEN];
	unsigned int i;

	memset(p, v, LEN);
	memset(buf, 0, sizeof(buf));
	if (gm_read(fd, B, buf, LEN))
		return -1;
	if (mem_check(buf, v, LEN) != -1)
		return -2;
	memset(buf, 0, sizeof(buf));
	if (pread(fd, buf, LEN, B) != (ssize_t)LEN)
		return -3;
	if (mem_check(buf, v, LEN) != -1)
		return -4;
	/* Page by page too, once more after another write. */
	for (i = 0; i < NPG; i++)
		p[i * PG + 7] = v + 1 + i;
	for (i = 0; i < NPG; i++) {
		if (gm_read(fd, B + i * PG + 7, buf, 1) || buf[0] != (uint8_t)(v + 1 + i))
			return -5;
	}
	return 0;
}

/*
 * The READONLY region over @p, a PROT_READ private mapping holding @was:
 * it reads @was, and once the caller makes @p writable, every read path
 * follows the caller's writes.
 */
static int check_made_writable(int fd, uint8_t *p, uint8_t was, uint8_t v)
{
	uint8_t buf[LEN];

	if (gm_read(fd, B, buf, LEN))
		return -11;
	if (mem_check(buf, was, LEN) != -1)
		return -12;
	if (mprotect(p, LEN, PROT_READ | PROT_WRITE))
		return -13;
	return check_sees_caller_writes(fd, p, v);
}

TEST_F(pin, untouched_anonymous)
{
	uint8_t v = 0x5a;
	uint8_t *p;

	p = map_anon(LEN);	/* never touched: no page yet */
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, add_readonly(self->fd, p));
	EXPECT_EQ(0, check_sees_caller_writes(self->fd, p, 0x5a));
	EXPECT_EQ(-EACCES, gm_write(self->fd, B, &v, 1));
	EXPECT_EQ(0, gm_remove(self->fd, B, LEN));
	munmap(p, LEN);
}

/* Read before the add: the zero page is mapped; still the caller's page. */
TEST_F(pin, read_anonymous)
{
	volatile uint8_t *p;
	unsigned int i;

	p = map_anon(LEN);
	ASSERT_NE(NULL, p);
	for (i = 0; i < NPG; i++)
		ASSERT_EQ(0, p[i * PG]);
	ASSERT_EQ(0, add_readonly(self->fd, (void *)p));
	EXPECT_EQ(0, check_sees_caller_writes(self->fd, (uint8_t *)p, 0x6b));
	munmap((void *)p, LEN);
}

TEST_F(pin, private_shmem)
{
	uint8_t buf[LEN];
	uint8_t *p;
	int mfd;

	mfd = memfd_holes();
	ASSERT_LE(0, mfd);
	memset(buf, 0x11, sizeof(buf));
	ASSERT_EQ((ssize_t)LEN, pwrite(mfd, buf, LEN, 0));
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0x11, p[0]);	/* the page cache is mapped */
	ASSERT_EQ(0, add_readonly(self->fd, p));
	/* The region starts with the file's contents ... */
	EXPECT_EQ(0, gm_read(self->fd, B, buf, LEN));
	EXPECT_EQ(-1, mem_check(buf, 0x11, LEN));
	/* ... follows the caller's private copy ... */
	EXPECT_EQ(0, check_sees_caller_writes(self->fd, p, 0x22));
	/* ... and the file is untouched. */
	ASSERT_EQ((ssize_t)LEN, pread(mfd, buf, LEN, 0));
	EXPECT_EQ(-1, mem_check(buf, 0x11, LEN));
	EXPECT_EQ(0, gm_remove(self->fd, B, LEN));
	munmap(p, LEN);
	close(mfd);
}

/*
 * A read-only private mapping still takes a READONLY region, and it too
 * pins what the caller goes on using once it makes the mapping writable:
 * 6.12 unshares the pin (gup_must_unshare()); on 6.1 guestmem breaks COW
 * itself (FOLL_WRITE | FOLL_FORCE), or the caller's first write after
 * mprotect() left the region on the page cache.  (Not for hugetlbfs, which
 * refuses FOLL_FORCE | FOLL_WRITE: there 6.1 keeps the old page.)
 */
TEST_F(pin, private_read_only_mapping)
{
	uint8_t buf[LEN];
	uint8_t *p;
	int mfd;

	mfd = memfd_holes();
	ASSERT_LE(0, mfd);
	memset(buf, 0x33, sizeof(buf));
	ASSERT_EQ((ssize_t)LEN, pwrite(mfd, buf, LEN, 0));
	p = mmap(NULL, LEN, PROT_READ, MAP_PRIVATE, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0x33, p[0]);	/* the page cache is mapped */
	EXPECT_EQ(0, add_readonly(self->fd, p));
	EXPECT_EQ(-EFAULT, gm_add(self->fd, B + LEN, LEN, (uintptr_t)p,
				  GUESTMEM_BACKING_USER, 0));
	EXPECT_EQ(0, check_made_writable(self->fd, p, 0x33, 0x44));
	/* The file is untouched. */
	ASSERT_EQ((ssize_t)LEN, pread(mfd, buf, LEN, 0));
	EXPECT_EQ(-1, mem_check(buf, 0x33, LEN));
	EXPECT_EQ(0, gm_remove(self->fd, B, LEN));
	munmap(p, LEN);
	close(mfd);
}

/* The same over untouched anonymous memory mapped PROT_READ. */
TEST_F(pin, read_only_anonymous_made_writable)
{
	uint8_t *p;

	p = mmap(NULL, LEN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, add_readonly(self->fd, p));
	EXPECT_EQ(0, check_made_writable(self->fd, p, 0, 0x55));
	EXPECT_EQ(0, gm_remove(self->fd, B, LEN));
	munmap(p, LEN);
}

/*
 * Breaking COW in a read-only mapping must not reach memory the caller
 * cannot read: a READONLY region over PROT_NONE memory is EFAULT, nothing
 * pinned (it was pinned while guestmem forced the pin of any COW mapping).
 */
TEST_F(pin, prot_none_is_efault)
{
	struct guestmem_info info;
	long lck = vmlck_kb(0);
	uint8_t *p;
	int mfd;

	p = mmap(NULL, LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EFAULT, add_readonly(self->fd, p));
	munmap(p, LEN);
	mfd = memfd_holes();
	ASSERT_LE(0, mfd);
	p = mmap(NULL, LEN, PROT_NONE, MAP_PRIVATE, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EFAULT, add_readonly(self->fd, p));
	munmap(p, LEN);
	close(mfd);
	EXPECT_EQ(lck, vmlck_kb(0));
	EXPECT_EQ(0, gm_info(self->fd, &info));
	EXPECT_EQ(0U, info.num_regions);
}

TEST_HARNESS_MAIN
