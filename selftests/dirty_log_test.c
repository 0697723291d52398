// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem DIRTY_LOG regions and GUESTMEM_GET_DIRTY_LOG: new regions start
 * clean, reads never dirty, every write path (GUESTMEM_WRITE, write/pwrite/
 * writev, GUESTMEM_BATCH, GUESTMEM_FILL, GUESTMEM_COPY's destination,
 * GUESTMEM_ATOMIC, stores through mmap) sets exactly the bits of the pages
 * it wrote, failed writes set none, CLEAR fetches and clears and writes
 * through existing mappings (a forked child's included) are tracked again;
 * the bitmap layout (bit i LSB first in __u64 words, bits past the range
 * written as zero, nothing written past the last word); ENXIO, EINVAL,
 * EFAULT; READONLY|DIRTY_LOG; and a writer racing with fetch-and-clear
 * without losing a write.
 */
#include <pthread.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

/*
 * The space every test starts with (pages relative to B):
 *
 *   [0, 70)    D0 VMALLOC DIRTY_LOG
 *   [70, 100)  D1 USER DIRTY_LOG, shared anonymous (shmem) memory u1
 *   [100, 104) hole
 *   [104, 108) N  VMALLOC (no dirty log)
 *   [108, 112) RD USER READONLY|DIRTY_LOG, shared anonymous memory urd
 *
 * The setup writes nothing, so every bit starts clear.
 */
#define B		0x5000000000ULL
#define G(pg)		(B + (uint64_t)(pg) * PG)
#define NPAGES		100		/* D0 + D1 */
#define SEED_RD		51
#define WORDS(n)	(((n) + 63) / 64)
#define MAXPAGES	256
#define GUARD		0xa5a5a5a5a5a5a5a5ULL

/* ---- dirty log helpers ------------------------------------------------------ */

/*
 * Fetch the log of @npages pages at @gpa into @bm (pre-filled with ones,
 * followed by a guard word that must survive).  -EPROTO if the guard word
 * was written.
 */
static int fetch(int fd, uint64_t gpa, uint64_t npages, uint32_t flags,
		 uint64_t *bm)
{
	uint64_t w = WORDS(npages);
	int ret;

	memset(bm, 0xff, w * 8);
	bm[w] = GUARD;
	ret = gm_dirty_log(fd, gpa, npages * PG, bm, flags);
	if (!ret && bm[w] != GUARD)
		return -EPROTO;
	return ret;
}

static bool bit(const uint64_t *bm, uint64_t i)
{
	return bm[i / 64] >> (i % 64) & 1;
}

/*
 * Compare a fetched bitmap of @npages with the set @pages (a list ended by
 * -1): the first wrong page, -1 if all match, or -2 if a bit past @npages
 * in the last word is set.
 */
static long bm_diff(const uint64_t *bm, uint64_t npages, const int *pages)
{
	uint64_t expect[WORDS(MAXPAGES)] = { 0 };
	uint64_t i, w = WORDS(npages);

	for (; *pages >= 0; pages++)
		expect[*pages / 64] |= 1ULL << (*pages % 64);
	for (i = 0; i < npages; i++)
		if (bit(bm, i) != bit(expect, i))
			return (long)i;
	if (npages % 64 && bm[w - 1] >> (npages % 64))
		return -2;
	return -1;
}

static void bm_print(struct __test_metadata *_metadata, const uint64_t *bm,
		     uint64_t npages)
{
	char line[512];
	size_t n = 0;
	uint64_t i;

	line[0] = 0;
	for (i = 0; i < npages && n < sizeof(line) - 16; i++)
		if (bit(bm, i))
			n += snprintf(line + n, sizeof(line) - n, " %llu",
				      (unsigned long long)i);
	TH_LOG("dirty pages:%s", line);
}

/*
 * Fetch (with @flags) the log of D0+D1 and expect exactly the pages listed
 * after @flags, terminated by -1.
 */
#define EXPECT_DIRTY(flags, ...) do {					\
	static const int __pages[] = { __VA_ARGS__ };			\
	uint64_t __bm[WORDS(NPAGES) + 1];				\
	long __d;							\
	ASSERT_EQ(0, fetch(self->fd, G(0), NPAGES, flags, __bm));	\
	__d = bm_diff(__bm, NPAGES, __pages);				\
	EXPECT_EQ(-1, __d) {						\
		TH_LOG("first wrong page %ld", __d);			\
		bm_print(_metadata, __bm, NPAGES);			\
	}								\
} while (0)

#define CLR	GUESTMEM_DIRTY_LOG_CLEAR
#define END	-1

FIXTURE(dl) {
	int fd;
	uint8_t *u1, *urd;
};

FIXTURE_SETUP(dl)
{
	self->fd = gm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
	self->u1 = map_shmem(30 * PG);
	self->urd = map_shmem(4 * PG);
	ASSERT_NE(NULL, self->u1);
	ASSERT_NE(NULL, self->urd);
	pat_fill(self->urd, G(108), 4 * PG, SEED_RD);

	ASSERT_EQ(0, gm_add(self->fd, G(0), 70 * PG, 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_DIRTY_LOG));
	ASSERT_EQ(0, gm_add(self->fd, G(70), 30 * PG, (uintptr_t)self->u1,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_DIRTY_LOG));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(104), 4 * PG));
	ASSERT_EQ(0, gm_add(self->fd, G(108), 4 * PG, (uintptr_t)self->urd,
			    GUESTMEM_BACKING_USER,
			    GUESTMEM_REGION_READONLY | GUESTMEM_REGION_DIRTY_LOG));
	ASSERT_EQ(0, sigbus_install());
}

FIXTURE_TEARDOWN(dl)
{
	close(self->fd);
	munmap(self->u1, 30 * PG);
	munmap(self->urd, 4 * PG);
}

TEST_F(dl, info_features)
{
	struct guestmem_info info;

	ASSERT_EQ(0, gm_info(self->fd, &info));
	EXPECT_EQ(0x1fULL, info.features & 0x1f)
		TH_LOG("features %#llx", (unsigned long long)info.features);
	EXPECT_NE(0ULL, info.features & GUESTMEM_FEATURE_DIRTY_LOG);
}

/* A new region starts clean, also where a dirty one was removed. */
TEST_F(dl, new_region_clean)
{
	uint64_t bm[WORDS(NPAGES) + 1];
	uint8_t b = 1;

	EXPECT_DIRTY(0, END);
	ASSERT_EQ(0, fetch(self->fd, G(108), 4, 0, bm));
	EXPECT_EQ(0ULL, bm[0]);

	ASSERT_EQ(0, gm_write(self->fd, G(3), &b, 1));
	EXPECT_DIRTY(0, 3, END);
	ASSERT_EQ(0, gm_remove(self->fd, G(0), 70 * PG));
	ASSERT_EQ(0, gm_add(self->fd, G(0), 70 * PG, 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_DIRTY_LOG));
	EXPECT_DIRTY(0, END);
	/* Removed without DIRTY_LOG, added back with it. */
	ASSERT_EQ(0, gm_write(self->fd, G(105), &b, 1));
	ASSERT_EQ(0, gm_remove(self->fd, G(104), 4 * PG));
	ASSERT_EQ(0, gm_add(self->fd, G(104), 4 * PG, 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_DIRTY_LOG));
	ASSERT_EQ(0, fetch(self->fd, G(104), 4, 0, bm));
	EXPECT_EQ(0ULL, bm[0]);
}

/* No read path dirties anything. */
TEST_F(dl, reads_dont_dirty)
{
	static uint8_t buf[8 * 4096];
	struct guestmem_batch_op op = {
		.op = GUESTMEM_OP_READ, .gpa = G(20), .len = PG,
		.buf = (uintptr_t)buf,
	};
	struct iovec iov[2];
	volatile uint8_t *map;
	unsigned int i;
	uint64_t sum = 0, v = 0;

	ASSERT_EQ(0, gm_read(self->fd, G(0), buf, 8 * PG));
	ASSERT_EQ(0, gm_read(self->fd, G(68), buf, 4 * PG));	/* D0 -> D1 */
	ASSERT_EQ((ssize_t)(2 * PG), pread(self->fd, buf, 2 * PG, G(10)));
	iov[0].iov_base = buf;
	iov[0].iov_len = 100;
	iov[1].iov_base = buf + PG;
	iov[1].iov_len = PG;
	ASSERT_EQ((ssize_t)(PG + 100), preadv(self->fd, iov, 2, G(75)));
	ASSERT_EQ(0, gm_batch(self->fd, &op, 1, NULL));
	ASSERT_EQ(0, gm_atomic(self->fd, G(30), 8, GUESTMEM_ATOMIC_LOAD, &v, 0));
	/* Copy source (into the region without a log). */
	ASSERT_EQ(0, gm_copy(self->fd, G(104), G(40), 2 * PG));
	/* Read faults through a writable shared mapping. */
	map = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->fd, G(0));
	ASSERT_NE(MAP_FAILED, map);
	for (i = 0; i < NPAGES; i++)
		sum += map[i * PG + 1];
	EXPECT_EQ(0ULL, sum);
	EXPECT_DIRTY(0, END);
	munmap((void *)map, NPAGES * PG);
}

/* Every write path marks exactly the pages it wrote. */
TEST_F(dl, write_paths_exact_bits)
{
	static uint8_t buf[4 * 4096];
	struct guestmem_batch_op ops[3];
	struct guestmem_batch b;
	struct guestmem_atomic a;
	struct guestmem_fill f;
	struct guestmem_copy c;
	struct iovec iov[3];
	volatile uint8_t *map;
	unsigned int i;

	memset(buf, 0x3c, sizeof(buf));

	/* GUESTMEM_WRITE: one byte, the last of page 2; pages 3-5. */
	ASSERT_EQ(0, gm_write(self->fd, G(3) - 1, buf, 1));
	ASSERT_EQ(0, gm_write(self->fd, G(3) + 2048, buf, 2 * PG - 2048 + 1));
	EXPECT_DIRTY(CLR, 2, 3, 4, 5, END);

	/* Partial mode stops at the hole: pages 98 and 99 only. */
	{
		uint64_t done;

		ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_WRITE, G(98) + 5, buf,
				   2 * PG + 100, GUESTMEM_IO_PARTIAL, &done));
		EXPECT_EQ(2 * PG - 5, done);
	}
	EXPECT_DIRTY(CLR, 98, 99, END);

	/* pwrite(), crossing D0 -> D1. */
	ASSERT_EQ(2, pwrite(self->fd, buf, 2, G(70) - 1));
	EXPECT_DIRTY(CLR, 69, 70, END);

	/* writev() at the file position: pages 10 and 11. */
	iov[0].iov_base = buf;
	iov[0].iov_len = 10;
	iov[1].iov_base = buf + 100;
	iov[1].iov_len = 4000;
	iov[2].iov_base = buf + 5000;
	iov[2].iov_len = 200;
	ASSERT_EQ((off_t)(G(10) + 50), lseek(self->fd, G(10) + 50, SEEK_SET));
	ASSERT_EQ(4210, writev(self->fd, iov, 3));
	EXPECT_DIRTY(CLR, 10, 11, END);

	/* write() into the USER region. */
	ASSERT_EQ((off_t)G(80), lseek(self->fd, G(80), SEEK_SET));
	ASSERT_EQ(1, write(self->fd, buf, 1));
	EXPECT_DIRTY(CLR, 80, END);

	/* GUESTMEM_BATCH: two writes and a read between them. */
	memset(ops, 0, sizeof(ops));
	ops[0].op = GUESTMEM_OP_WRITE;
	ops[0].gpa = G(20) + 7;
	ops[0].len = 8;
	ops[0].buf = (uintptr_t)buf;
	ops[1].op = GUESTMEM_OP_READ;
	ops[1].gpa = G(21);
	ops[1].len = PG;
	ops[1].buf = (uintptr_t)buf;
	ops[2].op = GUESTMEM_OP_WRITE;
	ops[2].gpa = G(23) - 4;
	ops[2].len = 8;
	ops[2].buf = (uintptr_t)buf;
	memset(&b, 0, sizeof(b));
	b.ops = (uintptr_t)ops;
	b.count = 3;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_BATCH, &b));
	EXPECT_DIRTY(CLR, 20, 22, 23, END);

	/* GUESTMEM_FILL: pages 30-32, and one byte of page 90. */
	memset(&f, 0, sizeof(f));
	f.gpa = G(30) + PG - 1;
	f.len = PG + 2;
	f.value = 0x11;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_FILL, &f));
	f.gpa = G(91) - 1;
	f.len = 1;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_FILL, &f));
	EXPECT_DIRTY(CLR, 30, 31, 32, 90, END);

	/* GUESTMEM_COPY: only the destination; forward and backward overlap. */
	memset(&c, 0, sizeof(c));
	c.dst = G(42);
	c.src = G(40);
	c.len = PG;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_COPY, &c));
	c.dst = G(44) + 50;
	c.src = G(43) + 100;
	c.len = 200;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_COPY, &c));
	c.dst = G(70) - 100;		/* D0 -> D1, from N */
	c.src = G(104);
	c.len = 200;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_COPY, &c));
	c.dst = G(46) + 10;		/* overlapping, dst below src */
	c.src = G(46) + 20;
	c.len = PG;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_COPY, &c));
	EXPECT_DIRTY(CLR, 42, 44, 46, 47, 69, 70, END);

	/* GUESTMEM_ATOMIC: every op but LOAD. */
	for (i = GUESTMEM_ATOMIC_LOAD; i <= GUESTMEM_ATOMIC_FETCH_AND; i++) {
		memset(&a, 0, sizeof(a));
		a.gpa = G(50 + i) + 8 * i;
		a.size = 8;
		a.op = i;
		a.value = 1;
		a.expected = 0;		/* CMPXCHG: memory is 0, succeeds */
		ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_ATOMIC, &a)) TH_LOG("op %u", i);
	}
	memset(&a, 0, sizeof(a));
	a.gpa = G(85) + PG - 1;
	a.size = 1;
	a.op = GUESTMEM_ATOMIC_FETCH_ADD;
	a.value = 1;
	ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_ATOMIC, &a));
	EXPECT_DIRTY(CLR, 51, 52, 53, 54, 55, 56, 85, END);

	/* Stores through mmap: write-first, read-then-write, read only. */
	map = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->fd, G(0));
	ASSERT_NE(MAP_FAILED, map);
	map[60 * PG + 5] = 1;
	(void)map[61 * PG];
	map[61 * PG + PG - 1] = 2;
	(void)map[62 * PG];
	map[95 * PG + 100] = 3;		/* USER region */
	*(volatile uint32_t *)(map + 65 * PG + 8) = 4;
	EXPECT_DIRTY(CLR, 60, 61, 65, 95, END);
	EXPECT_EQ(3, self->u1[25 * PG + 100]);
	munmap((void *)map, NPAGES * PG);

	EXPECT_DIRTY(0, END);
}

/* Writes that fail (or move nothing) mark nothing. */
TEST_F(dl, failed_writes_dont_dirty)
{
	static uint8_t buf[4 * 4096];
	struct guestmem_batch_op ops[2];
	struct guestmem_batch b;
	struct guestmem_fill f;
	struct guestmem_copy c;
	struct guestmem_atomic a;
	uint8_t *half;
	uint64_t done;

	memset(buf, 0x77, sizeof(buf));
	/* Exact write D1 -> hole. */
	EXPECT_EQ(-ENXIO, gm_write(self->fd, G(99), buf, PG + 1));
	/* Zero length. */
	EXPECT_EQ(0, gm_write(self->fd, G(5), buf, 0));
	EXPECT_EQ(0, pwrite(self->fd, buf, 0, G(6)));
	/* Fill into the hole, copy into the hole and the read-only region. */
	memset(&f, 0, sizeof(f));
	f.gpa = G(98);
	f.len = 3 * PG;
	f.value = 1;
	EXPECT_EQ(-ENXIO, gm_ioctl(self->fd, GUESTMEM_FILL, &f));
	memset(&c, 0, sizeof(c));
	c.dst = G(99);
	c.src = G(0);
	c.len = 2 * PG;
	EXPECT_EQ(-ENXIO, gm_ioctl(self->fd, GUESTMEM_COPY, &c));
	c.dst = G(7);			/* source in the hole */
	c.src = G(99);
	EXPECT_EQ(-ENXIO, gm_ioctl(self->fd, GUESTMEM_COPY, &c));
	/* Misaligned atomic, hole atomic. */
	memset(&a, 0, sizeof(a));
	a.gpa = G(8) + 1;
	a.size = 8;
	a.op = GUESTMEM_ATOMIC_STORE;
	EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_ATOMIC, &a));
	/* A batch failing at op 1: op 0 counts, op 1 not. */
	memset(ops, 0, sizeof(ops));
	ops[0].op = GUESTMEM_OP_WRITE;
	ops[0].gpa = G(12);
	ops[0].len = 8;
	ops[0].buf = (uintptr_t)buf;
	ops[1].op = GUESTMEM_OP_WRITE;
	ops[1].gpa = G(97);
	ops[1].len = 4 * PG;
	ops[1].buf = (uintptr_t)buf;
	memset(&b, 0, sizeof(b));
	b.ops = (uintptr_t)ops;
	b.count = 2;
	EXPECT_EQ(-ENXIO, gm_ioctl(self->fd, GUESTMEM_BATCH, &b));
	EXPECT_EQ(1U, b.done);
	EXPECT_DIRTY(CLR, 12, END);

	/* EFAULT after one page moved: only that page. */
	half = map_shmem(2 * PG);
	ASSERT_NE(NULL, half);
	ASSERT_EQ(0, munmap(half + PG, PG));
	EXPECT_EQ(-EFAULT, gm_io(self->fd, GUESTMEM_WRITE, G(14), half, 2 * PG,
				 0, &done));
	EXPECT_GE(PG, done);
	if (done) {
		EXPECT_DIRTY(CLR, 14, END);
	} else {
		EXPECT_DIRTY(CLR, END);
	}
	/* EFAULT at once: nothing. */
	EXPECT_EQ(-EFAULT, gm_io(self->fd, GUESTMEM_WRITE, G(16), half + PG, 64,
				 0, &done));
	EXPECT_EQ(0ULL, done);
	EXPECT_DIRTY(0, END);
	munmap(half, PG);
}

/* CLEAR fetches and clears; the same mapping's later writes are tracked. */
TEST_F(dl, clear_and_retrack_mapping)
{
	volatile uint8_t *map;
	int pipefd[2];
	char c = 0;
	pid_t pid;
	int status;

	map = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->fd, G(0));
	ASSERT_NE(MAP_FAILED, map);
	map[3 * PG] = 1;
	map[75 * PG] = 1;
	EXPECT_DIRTY(0, 3, 75, END);	/* fetching without CLEAR keeps them */
	EXPECT_DIRTY(0, 3, 75, END);
	EXPECT_DIRTY(CLR, 3, 75, END);
	EXPECT_DIRTY(0, END);

	/* The PTEs that were writable are write-protected again. */
	map[3 * PG + 1] = 2;
	EXPECT_DIRTY(0, 3, END);
	map[3 * PG + 2] = 3;
	map[75 * PG + 2] = 3;
	EXPECT_DIRTY(CLR, 3, 75, END);

	/* Several rounds on the same page. */
	for (int i = 0; i < 5; i++) {
		map[40 * PG + i] = (uint8_t)i;
		EXPECT_DIRTY(CLR, 40, END);
		EXPECT_DIRTY(0, END);
	}
	/* Read after the clear: still clean; then written: dirty. */
	EXPECT_EQ(4, map[40 * PG + 4]);
	EXPECT_DIRTY(0, END);
	map[40 * PG + 5] = 5;
	EXPECT_DIRTY(CLR, 40, END);

	/* A forked child's inherited mapping is write-protected too. */
	map[7 * PG] = 1;
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) != 1)
			_exit(2);
		map[7 * PG + 1] = 9;
		map[8 * PG] = 9;
		_exit(0);
	}
	close(pipefd[0]);
	EXPECT_DIRTY(CLR, 7, END);
	ASSERT_EQ(1, write(pipefd[1], &c, 1));
	close(pipefd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_DIRTY(CLR, 7, 8, END);
	EXPECT_EQ(9, map[7 * PG + 1]);
	munmap((void *)map, NPAGES * PG);
}

/* Bit i is page i, LSB first in __u64 words; bits past the range are 0. */
TEST_F(dl, bitmap_layout)
{
	static const int pages[] = { 0, 1, 63, 64, 65, 98, 99 };
	uint64_t bm[WORDS(NPAGES) + 1];
	unsigned int i;
	uint8_t v = 1;

	for (i = 0; i < ARRAY_LEN(pages); i++) {
		ASSERT_EQ(0, gm_write(self->fd, G(pages[i]) + 17, &v, 1));
	}

	/* All 100 pages (two regions): words 0 and 1, 36 bits used in 1. */
	ASSERT_EQ(0, fetch(self->fd, G(0), NPAGES, 0, bm));
	EXPECT_EQ((1ULL << 0) | (1ULL << 1) | (1ULL << 63), bm[0]);
	EXPECT_EQ((1ULL << 0) | (1ULL << 1) | (1ULL << 34) | (1ULL << 35), bm[1]);
	EXPECT_EQ(GUARD, bm[2]);

	/* From page 1, 64 pages: pages 1, 63, 64 -> bits 0, 62, 63. */
	ASSERT_EQ(0, fetch(self->fd, G(1), 64, 0, bm));
	EXPECT_EQ((1ULL << 0) | (1ULL << 62) | (1ULL << 63), bm[0]);
	EXPECT_EQ(GUARD, bm[1]);

	/* From page 63, 3 pages: bits 0-2, all else in the word zero. */
	ASSERT_EQ(0, fetch(self->fd, G(63), 3, 0, bm));
	EXPECT_EQ(7ULL, bm[0]);
	EXPECT_EQ(GUARD, bm[1]);

	/* One clean page: the whole word is zeroed. */
	ASSERT_EQ(0, fetch(self->fd, G(2), 1, 0, bm));
	EXPECT_EQ(0ULL, bm[0]);
	EXPECT_EQ(GUARD, bm[1]);

	/* 65 pages from page 35: pages 63, 64, 65, 98, 99 -> 28, 29, 30, 63, 64. */
	ASSERT_EQ(0, fetch(self->fd, G(35), 65, 0, bm));
	EXPECT_EQ((1ULL << 28) | (1ULL << 29) | (1ULL << 30) | (1ULL << 63), bm[0]);
	EXPECT_EQ(1ULL, bm[1]);
	EXPECT_EQ(GUARD, bm[2]);

	/* Clearing a sub-range clears only it. */
	ASSERT_EQ(0, fetch(self->fd, G(64), 2, CLR, bm));
	EXPECT_EQ(3ULL, bm[0]);
	EXPECT_DIRTY(0, 0, 1, 63, 98, 99, END);

	/* Size 0: nothing to write; the bitmap is left alone. */
	bm[0] = GUARD;
	EXPECT_EQ(0, gm_dirty_log(self->fd, G(0), 0, bm, CLR));
	EXPECT_EQ(GUARD, bm[0]);
	EXPECT_DIRTY(0, 0, 1, 63, 98, 99, END);
}

/* The ioctl's error cases; none of them clears anything. */
TEST_F(dl, errors)
{
	static const uint32_t bad[] = { 2, 4, 1U << 31, ~0U };
	struct guestmem_dirty_log l;
	uint64_t bm[8];
	unsigned int i;
	uint8_t v = 1;

	ASSERT_EQ(0, gm_write(self->fd, G(97), &v, 1));
	ASSERT_EQ(0, gm_write(self->fd, G(0), &v, 1));

	/* An unbacked page: ENXIO. */
	EXPECT_EQ(-ENXIO, fetch(self->fd, G(95), 7, CLR, bm));
	EXPECT_EQ(-ENXIO, fetch(self->fd, G(100), 1, CLR, bm));
	EXPECT_EQ(-ENXIO, fetch(self->fd, G(0) - PG, 2, CLR, bm));
	EXPECT_EQ(-ENXIO, fetch(self->fd, G(103), 1, 0, bm));
	EXPECT_EQ(-ENXIO, fetch(self->fd, 0, 1, 0, bm));

	/* A page of a region without DIRTY_LOG: EINVAL. */
	EXPECT_EQ(-EINVAL, fetch(self->fd, G(104), 1, CLR, bm));
	EXPECT_EQ(-EINVAL, fetch(self->fd, G(106), 4, CLR, bm));	/* N -> RD */

	/* Unaligned gpa or size. */
	EXPECT_EQ(-EINVAL, gm_dirty_log(self->fd, G(0) + 1, PG, bm, CLR));
	EXPECT_EQ(-EINVAL, gm_dirty_log(self->fd, G(0) + 2048, PG, bm, CLR));
	EXPECT_EQ(-EINVAL, gm_dirty_log(self->fd, G(0), PG + 1, bm, CLR));
	EXPECT_EQ(-EINVAL, gm_dirty_log(self->fd, G(0), 100, bm, CLR));
	EXPECT_EQ(-EINVAL, gm_dirty_log(self->fd, G(0), 2 * PG - 1, bm, CLR));

	/* Unknown flags, reserved. */
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		memset(&l, 0, sizeof(l));
		l.gpa = G(0);
		l.size = PG;
		l.bitmap = (uintptr_t)bm;
		l.flags = bad[i];
		EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_GET_DIRTY_LOG, &l))
			TH_LOG("flags %#x", bad[i]);
		l.flags = bad[i] | CLR;
		EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_GET_DIRTY_LOG, &l));
		l.flags = CLR;
		l.reserved = bad[i];
		EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_GET_DIRTY_LOG, &l))
			TH_LOG("reserved %#x", bad[i]);
	}

	/* Ranges that wrap. */
	EXPECT_EQ(-EOVERFLOW, gm_dirty_log(self->fd, GPA_END(PG), 2 * PG, bm, 0));
	EXPECT_EQ(-EOVERFLOW, gm_dirty_log(self->fd, G(0), GPA_END(PG), bm, 0));

	/* Bad pointers. */
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_GET_DIRTY_LOG, NULL));
	EXPECT_EQ(-EFAULT, gm_dirty_log(self->fd, G(0), PG, NULL, 0));
	EXPECT_EQ(-EFAULT, gm_dirty_log(self->fd, G(0), PG, unmapped_range(PG), 0));

	/* Nothing was cleared by any of it. */
	EXPECT_DIRTY(0, 0, 97, END);
}

/* READONLY|DIRTY_LOG: reads do not dirty, writes are refused and do not. */
TEST_F(dl, readonly_dirty_log)
{
	static uint8_t buf[4 * 4096];
	volatile uint8_t *map;
	uint64_t bm[2];
	uint64_t done, v = 0;

	/* Reads. */
	ASSERT_EQ(0, gm_read(self->fd, G(108), buf, 4 * PG));
	EXPECT_EQ(-1, pat_check(buf, G(108), 4 * PG, SEED_RD));
	ASSERT_EQ((ssize_t)PG, pread(self->fd, buf, PG, G(109)));
	ASSERT_EQ(0, gm_atomic(self->fd, G(110), 4, GUESTMEM_ATOMIC_LOAD, &v, 0));
	ASSERT_EQ(0, gm_copy(self->fd, G(0), G(111), 8));
	map = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		   G(108));
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(pat(G(111) + 5, SEED_RD), map[3 * PG + 5]);
	ASSERT_EQ(0, fetch(self->fd, G(108), 4, 0, bm));
	EXPECT_EQ(0ULL, bm[0]);

	/* Writes, by every path. */
	memset(buf, 0xfe, sizeof(buf));
	EXPECT_EQ(-EACCES, gm_write(self->fd, G(108), buf, 8));
	EXPECT_EQ(-EACCES, gm_io(self->fd, GUESTMEM_WRITE, G(109), buf, 8,
				 GUESTMEM_IO_PARTIAL, &done));
	errno = 0;
	EXPECT_EQ(-1, pwrite(self->fd, buf, 8, G(110)));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-EACCES, gm_fill(self->fd, G(111), 8, 0));
	EXPECT_EQ(-EACCES, gm_copy(self->fd, G(108), G(0), PG));
	v = 0;
	EXPECT_EQ(-EACCES, gm_atomic(self->fd, G(110), 4, GUESTMEM_ATOMIC_STORE,
				     &v, 0));
	EXPECT_EQ(-1, sigbus_store(map + PG, 1));
	EXPECT_EQ(-1, sigbus_store(map + 3 * PG + 5, 1));	/* present, read-only */

	ASSERT_EQ(0, fetch(self->fd, G(108), 4, CLR, bm));
	EXPECT_EQ(0ULL, bm[0]);
	EXPECT_EQ(-1, pat_check(self->urd, G(108), 4 * PG, SEED_RD));
	/* Only the copy destination above was dirtied. */
	EXPECT_DIRTY(0, 0, END);
	munmap((void *)map, 4 * PG);
}

/* More pages than one 4 KiB chunk of bits (32768): words past 512. */
TEST_F(dl, bitmap_large)
{
	const uint64_t n = 32768 + 130, gpa = 1ULL << 40;
	static const uint64_t pages[] = { 0, 63, 32767, 32768, 32769,
					  32768 + 64, 32768 + 129 };
	uint64_t *bm, w = WORDS(n), i, expect_ones = 0;
	uint8_t v = 1;

	ASSERT_EQ(0, gm_add(self->fd, gpa, n * PG, 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_DIRTY_LOG));
	bm = malloc((w + 1) * 8);
	ASSERT_NE(NULL, bm);
	for (i = 0; i < ARRAY_LEN(pages); i++) {
		ASSERT_EQ(0, gm_write(self->fd, gpa + pages[i] * PG + 4095, &v, 1));
	}
	ASSERT_EQ(0, fetch(self->fd, gpa, n, CLR, bm));
	for (i = 0; i < n; i++) {
		bool want = false;
		unsigned int k;

		for (k = 0; k < ARRAY_LEN(pages); k++)
			want |= pages[k] == i;
		if (bit(bm, i) != want) {
			EXPECT_EQ(want, bit(bm, i)) TH_LOG("page %llu",
							   (unsigned long long)i);
			break;
		}
		expect_ones += want;
	}
	EXPECT_EQ((uint64_t)ARRAY_LEN(pages), expect_ones);
	EXPECT_EQ(0ULL, bm[w - 1] >> (n % 64));
	EXPECT_EQ(GUARD, bm[w]);
	ASSERT_EQ(0, fetch(self->fd, gpa, n, 0, bm));
	for (i = 0; i < w; i++) {
		EXPECT_EQ(0ULL, bm[i]);
	}
	free(bm);
	ASSERT_EQ(0, gm_remove(self->fd, gpa, n * PG));
}

/* ---- a writer racing with fetch-and-clear --------------------------------- */

/*
 * A region of its own, large enough (many page tables' worth) that fetching
 * its log takes a while; the writer uses RACE_PAGES pages near its start.
 */
#define RACE_GPA	(1ULL << 41)
#define RACE_REGION	8192
#define RACE_PAGES	48
#define RACE_STRIDE	3
#define RACE_MS		4000		/* at least, */
#define RACE_MAX_MS	60000		/* at most: a machine too loaded */
#define RACE_ROUNDS	20UL		/* until this many fetches */
#define RACE_CHECKS	100UL		/* and this many pages checked */

struct racer {
	int fd;
	volatile uint8_t *map;
	volatile int stop;
	uint64_t published;	/* highest value whose store is complete */
	uint64_t writes;
	int err;
};

static uint64_t race_pg(unsigned int p)
{
	return (uint64_t)p * RACE_STRIDE;
}

/*
 * Writes an increasing sequence number to the first 8 bytes of the pages in
 * a scrambled order: through the mapping, and every third store through
 * GUESTMEM_WRITE.  After each store, publishes the number (release).
 */
static void *racer_fn(void *arg)
{
	struct racer *r = arg;
	uint64_t seq = 0, x = 12345;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		unsigned int p;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		p = (x >> 33) % RACE_PAGES;
		seq++;
		if (seq % 3 == 0) {
			if (gm_write(r->fd, RACE_GPA + race_pg(p) * PG, &seq, 8)) {
				r->err = errno ? errno : EIO;
				break;
			}
		} else {
			__atomic_store_n((uint64_t *)(r->map + race_pg(p) * PG),
					 seq, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&r->published, seq, __ATOMIC_RELEASE);
		/*
		 * Pause now and then: a writer that touches every page
		 * during every fetch leaves no page for the checker, whose
		 * pages must hold a value published before the fetch.
		 */
		if (seq % 512 == 0)
			usleep(200);
	}
	r->writes = seq;
	return NULL;
}

/*
 * One thread writes continuously while this one fetches-and-clears.  After
 * each fetch, read every page's sequence number: a page whose number grew
 * since the previous fetch, to a value that was already published before
 * this fetch started, was written between the two fetches, so this fetch
 * must report it dirty -- or that write is lost for a migration that
 * copies the pages each fetch reports.  Runs for RACE_MS, and on until
 * there was enough to check, however slowly either thread gets to run.
 */
TEST_F_TIMEOUT(dl, concurrent_fetch_clear_loses_nothing, 120)
{
	uint64_t prev[RACE_PAGES] = { 0 }, *bm;
	unsigned long rounds = 0, checked = 0, lost = 0;
	uint64_t start = now_ms();
	struct racer r;
	pthread_t tid;
	unsigned int p;

	ASSERT_EQ(0, gm_add(self->fd, RACE_GPA, RACE_REGION * PG, 0,
			    GUESTMEM_BACKING_VMALLOC, GUESTMEM_REGION_DIRTY_LOG));
	bm = malloc((WORDS(RACE_REGION) + 1) * 8);
	ASSERT_NE(NULL, bm);
	memset(&r, 0, sizeof(r));
	r.fd = self->fd;
	r.map = mmap(NULL, RACE_REGION * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		     self->fd, RACE_GPA);
	ASSERT_NE(MAP_FAILED, r.map);
	ASSERT_EQ(0, pthread_create(&tid, NULL, racer_fn, &r));

	for (;;) {
		uint64_t t = now_ms() - start, before;
		bool last = t >= RACE_MAX_MS ||
			    (t >= RACE_MS && rounds > RACE_ROUNDS &&
			     checked > RACE_CHECKS);

		if (last) {
			__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
			pthread_join(tid, NULL);
		}
		before = __atomic_load_n(&r.published, __ATOMIC_ACQUIRE);
		ASSERT_EQ(0, fetch(self->fd, RACE_GPA, RACE_REGION, CLR, bm));
		rounds++;
		for (p = 0; p < RACE_PAGES; p++) {
			uint64_t cur = __atomic_load_n((uint64_t *)(r.map + race_pg(p) * PG),
						       __ATOMIC_ACQUIRE);

			if (cur > prev[p] && cur <= before) {
				checked++;
				if (!bit(bm, race_pg(p)) && lost++ < 5)
					TH_LOG("round %lu: page %llu changed %llu -> %llu (published %llu) but is clean",
					       rounds, (unsigned long long)race_pg(p),
					       (unsigned long long)prev[p],
					       (unsigned long long)cur,
					       (unsigned long long)before);
			}
			prev[p] = cur;
		}
		if (last)
			break;
		/* Let the writer run between fetches on a single CPU too. */
		if (rounds % 4 == 0)
			sched_yield();
	}
	EXPECT_EQ(0, r.err);
	EXPECT_EQ(0UL, lost) TH_LOG("%lu lost writes in %lu rounds", lost, rounds);
	/* The check must have had something to check. */
	EXPECT_LT(RACE_ROUNDS, rounds);
	EXPECT_LT(RACE_CHECKS, checked) TH_LOG("rounds %lu writes %llu", rounds,
					       (unsigned long long)r.writes);
	/* Quiet now: the next fetch is clean. */
	ASSERT_EQ(0, fetch(self->fd, RACE_GPA, RACE_REGION, CLR, bm));
	for (p = 0; p < WORDS(RACE_REGION); p++) {
		EXPECT_EQ(0ULL, bm[p]);
	}
	TH_LOG("%lu rounds, %llu writes, %lu checks", rounds,
	       (unsigned long long)r.writes, checked);
	munmap((void *)r.map, RACE_REGION * PG);
	free(bm);
}

TEST_HARNESS_MAIN
