// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem READONLY regions: every write path refuses them and changes
 * nothing -- GUESTMEM_WRITE (exact EACCES; partial stops before the first
 * read-only byte), write/pwrite/writev (short count, or EACCES when the
 * first byte is read-only), GUESTMEM_BATCH, GUESTMEM_ATOMIC (all but LOAD),
 * GUESTMEM_FILL, GUESTMEM_COPY's destination and stores through mmap()
 * (SIGBUS, caught with sigsetjmp) -- while every read path works.
 */
#include <sys/uio.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

/*
 * The space every test starts with (pages relative to B):
 *
 *   [0, 4)   R0 VMALLOC
 *   [4, 8)   RO1 USER READONLY, shared anonymous (shmem) memory uro
 *   [8, 12)  R2 USER, shared anonymous memory u2
 *   [12, 16) RO2 VMALLOC READONLY (zero-filled)
 *   [16, 20) hole
 *
 * R0 and R2 start as pat(gpa, SEED0), RO1 as pat(gpa, SEED_RO).
 */
#define B		0x3000000000ULL
#define G(pg)		(B + (uint64_t)(pg) * PG)
#define SEED0		41
#define SEED_RO		42

/* ---- helpers ---------------------------------------------------------------- */

/* Everything as the setup left it (both read-only regions included). */
#define EXPECT_ALL_INITIAL() do {					\
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(0), 4 * PG, SEED0));	\
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(4), 4 * PG, SEED_RO));	\
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(8), 4 * PG, SEED0));	\
	EXPECT_EQ(-1, gm_mem_check(self->fd, G(12), 4 * PG, 0));	\
	EXPECT_EQ(-1, pat_check(self->uro, G(4), 4 * PG, SEED_RO));	\
} while (0)

FIXTURE(ro) {
	int fd;
	uint8_t *uro, *u2;
};

FIXTURE_SETUP(ro)
{
	uint8_t *buf;

	self->fd = gm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
	self->uro = map_shmem(4 * PG);
	self->u2 = map_shmem(4 * PG);
	ASSERT_NE(NULL, self->uro);
	ASSERT_NE(NULL, self->u2);
	pat_fill(self->uro, G(4), 4 * PG, SEED_RO);
	pat_fill(self->u2, G(8), 4 * PG, SEED0);

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(0), 4 * PG));
	ASSERT_EQ(0, gm_add(self->fd, G(4), 4 * PG, (uintptr_t)self->uro,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_READONLY));
	ASSERT_EQ(0, gm_add_user(self->fd, G(8), 4 * PG, self->u2));
	ASSERT_EQ(0, gm_add(self->fd, G(12), 4 * PG, 0,
			    GUESTMEM_BACKING_VMALLOC, GUESTMEM_REGION_READONLY));

	buf = malloc(4 * PG);
	ASSERT_NE(NULL, buf);
	pat_fill(buf, G(0), 4 * PG, SEED0);
	ASSERT_EQ(0, gm_write(self->fd, G(0), buf, 4 * PG));
	free(buf);
	ASSERT_EQ(0, sigbus_install());
}

FIXTURE_TEARDOWN(ro)
{
	close(self->fd);
	munmap(self->uro, 4 * PG);
	munmap(self->u2, 4 * PG);
}

/* GET_REGIONS shows the flag. */
TEST_F(ro, regions_flagged)
{
	struct guestmem_region *r;
	uint32_t n = 0;

	r = gm_regions(self->fd, &n);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(4U, n);
	EXPECT_EQ(0U, r[0].flags);
	EXPECT_EQ((uint32_t)GUESTMEM_REGION_READONLY, r[1].flags);
	EXPECT_EQ(0U, r[2].flags);
	EXPECT_EQ((uint32_t)GUESTMEM_REGION_READONLY, r[3].flags);
	free(r);
}

/* Exact GUESTMEM_WRITE: EACCES with done = 0 and nothing written. */
TEST_F(ro, ioctl_write_exact)
{
	static const struct { uint64_t gpa, len; } c[] = {
		{ G(4), 1 },
		{ G(5) + 7, 100 },
		{ G(4) - 100, 200 },		/* R0 -> RO1 */
		{ G(8) - 100, 200 },		/* RO1 -> R2 */
		{ G(0), 12 * PG },		/* R0, RO1, R2 */
		{ G(12), PG },			/* RO2 */
		{ G(12) - 1, 2 },		/* R2 -> RO2 */
		{ G(15), 2 * PG },		/* RO2 -> hole: EACCES or ENXIO */
	};
	static uint8_t buf[12 * 4096];
	unsigned int i;
	uint64_t done;
	int ret;

	memset(buf, 0xab, sizeof(buf));
	for (i = 0; i < ARRAY_LEN(c); i++) {
		ret = gm_io(self->fd, GUESTMEM_WRITE, c[i].gpa, buf, c[i].len, 0,
			    &done);
		if (i == ARRAY_LEN(c) - 1) {
			/* Both are true of it; either error is fine. */
			EXPECT_TRUE(ret == -EACCES || ret == -ENXIO);
		} else {
			EXPECT_EQ(-EACCES, ret)
				TH_LOG("write %#llx + %#llx",
				       (unsigned long long)c[i].gpa,
				       (unsigned long long)c[i].len);
		}
		EXPECT_EQ(0ULL, done);
	}
	EXPECT_ALL_INITIAL();
}

/* Partial GUESTMEM_WRITE stops before the first read-only byte. */
TEST_F(ro, ioctl_write_partial)
{
	static uint8_t buf[4 * 4096];
	uint64_t done;

	memset(buf, 0xcd, sizeof(buf));
	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_WRITE, G(4) - 100, buf, 200,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(100ULL, done);
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(0), 4 * PG - 100, SEED0));
	EXPECT_EQ(-1, gm_mem_check(self->fd, G(4) - 100, 100, 0xcd));

	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_WRITE, G(12) - 10, buf, 2 * PG,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(10ULL, done);
	EXPECT_EQ(-1, mem_check(self->u2 + 4 * PG - 10, 0xcd, 10));

	/* Starting on a read-only byte: EACCES, nothing moved. */
	EXPECT_EQ(-EACCES, gm_io(self->fd, GUESTMEM_WRITE, G(4), buf, 100,
				 GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(0ULL, done);
	EXPECT_EQ(-EACCES, gm_io(self->fd, GUESTMEM_WRITE, G(7) + PG - 1, buf,
				 2 * PG, GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(0ULL, done);
	EXPECT_EQ(-EACCES, gm_io(self->fd, GUESTMEM_WRITE, G(13), buf, 100,
				 GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(0ULL, done);
	EXPECT_EQ(-1, pat_check(self->uro, G(4), 4 * PG, SEED_RO));
	EXPECT_EQ(-1, gm_mem_check(self->fd, G(12), 4 * PG, 0));
	EXPECT_EQ(-1, pat_check(self->u2, G(8), 4 * PG - 10, SEED0));
}

/* write()/pwrite()/writev(): short count at a read-only byte, else EACCES. */
TEST_F(ro, write_family)
{
	static uint8_t buf[2 * 4096];
	struct iovec iov[3];
	ssize_t n;

	memset(buf, 0xe1, sizeof(buf));
	n = pwrite(self->fd, buf, 300, G(4) - 200);
	EXPECT_EQ(200, n);
	EXPECT_EQ(-1, gm_mem_check(self->fd, G(4) - 200, 200, 0xe1));

	errno = 0;
	EXPECT_EQ(-1, pwrite(self->fd, buf, 300, G(4)));
	EXPECT_EQ(EACCES, errno);
	errno = 0;
	EXPECT_EQ(-1, pwrite(self->fd, buf, 1, G(15) + PG - 1));
	EXPECT_EQ(EACCES, errno);

	/* write() at the file position, which moves by the short count. */
	ASSERT_EQ((off_t)(G(12) - 50), lseek(self->fd, G(12) - 50, SEEK_SET));
	EXPECT_EQ(50, write(self->fd, buf, sizeof(buf)));
	EXPECT_EQ((off_t)G(12), lseek(self->fd, 0, SEEK_CUR));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, buf, 10));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ((off_t)G(12), lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(-1, mem_check(self->u2 + 4 * PG - 50, 0xe1, 50));

	/* writev() and pwritev() across R0 -> RO1. */
	memset(buf, 0xe2, sizeof(buf));
	iov[0].iov_base = buf;
	iov[0].iov_len = 30;
	iov[1].iov_base = buf + 100;
	iov[1].iov_len = 40;
	iov[2].iov_base = buf + 1000;
	iov[2].iov_len = 500;
	ASSERT_EQ((off_t)(G(4) - 50), lseek(self->fd, G(4) - 50, SEEK_SET));
	EXPECT_EQ(50, writev(self->fd, iov, 3));
	EXPECT_EQ(-1, gm_mem_check(self->fd, G(4) - 50, 50, 0xe2));
	errno = 0;
	EXPECT_EQ(-1, pwritev(self->fd, iov, 3, G(6)));
	EXPECT_EQ(EACCES, errno);

	EXPECT_EQ(-1, pat_check(self->uro, G(4), 4 * PG, SEED_RO));
	EXPECT_EQ(-1, gm_mem_check(self->fd, G(12), 4 * PG, 0));
}

/* Every read path works on read-only regions. */
TEST_F(ro, reads_work)
{
	static uint8_t buf[16 * 4096];
	struct iovec iov[2];
	uint8_t *map;
	int i;

	ASSERT_EQ(0, gm_read(self->fd, G(0), buf, 16 * PG));
	EXPECT_EQ(-1, pat_check(buf, G(0), 4 * PG, SEED0));
	EXPECT_EQ(-1, pat_check(buf + 4 * PG, G(4), 4 * PG, SEED_RO));
	EXPECT_EQ(-1, pat_check(buf + 8 * PG, G(8), 4 * PG, SEED0));
	EXPECT_EQ(-1, mem_check(buf + 12 * PG, 0, 4 * PG));

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ((ssize_t)(2 * PG), pread(self->fd, buf, 2 * PG, G(5)));
	EXPECT_EQ(-1, pat_check(buf, G(5), 2 * PG, SEED_RO));
	iov[0].iov_base = buf;
	iov[0].iov_len = 10;
	iov[1].iov_base = buf + 100;
	iov[1].iov_len = 20;
	EXPECT_EQ(30, preadv(self->fd, iov, 2, G(7) + 5));
	EXPECT_EQ(-1, pat_check(buf, G(7) + 5, 10, SEED_RO));
	EXPECT_EQ(-1, pat_check(buf + 100, G(7) + 15, 20, SEED_RO));

	/* Through a read-only and through a writable mapping. */
	map = mmap(NULL, 16 * PG, PROT_READ, MAP_SHARED, self->fd, G(0));
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-1, pat_check(map + 4 * PG, G(4), 4 * PG, SEED_RO));
	EXPECT_EQ(-1, mem_check(map + 12 * PG, 0, 4 * PG));
	munmap(map, 16 * PG);
	map = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		   G(0));
	ASSERT_NE(MAP_FAILED, map);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(pat(G(4 + i) + 9, SEED_RO),
			  sigbus_load(map + (4 + i) * PG + 9));
	}
	EXPECT_EQ(0, sigbus_load(map + 13 * PG));
	munmap(map, 16 * PG);
	EXPECT_ALL_INITIAL();
}

/* GUESTMEM_BATCH: a write op on a read-only region fails at its index. */
TEST_F(ro, batch)
{
	uint8_t w[64], r[64];
	struct guestmem_batch_op ops[4] = {
		gm_batch_op(GUESTMEM_OP_READ, G(6), 64, r),	/* RO1 is fine */
		gm_batch_op(GUESTMEM_OP_WRITE, G(1), 64, w),
		gm_batch_op(GUESTMEM_OP_WRITE, G(4) - 32, 64, w), /* R0 -> RO1 */
		gm_batch_op(GUESTMEM_OP_WRITE, G(2), 64, w),
	};
	uint32_t done;

	memset(w, 0x5e, sizeof(w));
	EXPECT_EQ(-EACCES, gm_batch(self->fd, ops, 4, &done));
	EXPECT_EQ(2U, done);
	EXPECT_EQ(-1, pat_check(r, G(6), 64, SEED_RO));
	EXPECT_EQ(-1, gm_mem_check(self->fd, G(1), 64, 0x5e));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(2), 2 * PG, SEED0));
	EXPECT_EQ(-1, gm_pat_check(self->fd, G(4), 4 * PG, SEED_RO));

	/* RO2 (VMALLOC) too, as the first op. */
	ops[0] = ops[3];
	ops[0].gpa = G(14);
	EXPECT_EQ(-EACCES, gm_batch(self->fd, ops, 1, &done));
	EXPECT_EQ(0U, done);
	EXPECT_EQ(-1, gm_mem_check(self->fd, G(12), 4 * PG, 0));
}

/* GUESTMEM_ATOMIC: LOAD works, every other op is EACCES. */
TEST_F(ro, atomics)
{
	static const uint32_t ops[] = {
		GUESTMEM_ATOMIC_STORE, GUESTMEM_ATOMIC_XCHG,
		GUESTMEM_ATOMIC_CMPXCHG, GUESTMEM_ATOMIC_FETCH_ADD,
		GUESTMEM_ATOMIC_FETCH_OR, GUESTMEM_ATOMIC_FETCH_AND,
	};
	static const uint64_t gpas[] = { G(5) + 64, G(13) + 64 };
	struct guestmem_atomic a;
	unsigned int g, o, s;

	for (g = 0; g < ARRAY_LEN(gpas); g++) {
		for (s = 1; s <= 8; s *= 2) {
			uint64_t cur;

			memset(&a, 0, sizeof(a));
			a.gpa = gpas[g];
			a.size = s;
			a.op = GUESTMEM_ATOMIC_LOAD;
			ASSERT_EQ(0, gm_ioctl(self->fd, GUESTMEM_ATOMIC, &a));
			cur = a.value;
			if (g == 1) {
				EXPECT_EQ(0ULL, cur);
			} else {
				uint64_t expect = 0;

				memcpy(&expect, self->uro + PG + 64, s);
				EXPECT_EQ(expect, cur);
			}
			for (o = 0; o < ARRAY_LEN(ops); o++) {
				memset(&a, 0, sizeof(a));
				a.gpa = gpas[g];
				a.size = s;
				a.op = ops[o];
				a.value = 1;
				a.expected = cur;	/* a CMPXCHG that would succeed */
				EXPECT_EQ(-EACCES, gm_ioctl(self->fd, GUESTMEM_ATOMIC, &a))
					TH_LOG("gpa %#llx size %u op %u",
					       (unsigned long long)gpas[g], s, ops[o]);
			}
		}
	}
	EXPECT_ALL_INITIAL();
}

/* GUESTMEM_FILL: EACCES, and nothing written before the read-only part. */
TEST_F(ro, fill)
{
	static const struct { uint64_t gpa, len; } c[] = {
		{ G(4), 1 }, { G(6), PG }, { G(4) - 10, 20 }, { G(0), 16 * PG },
		{ G(12) - 1, 2 }, { G(14), 100 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(c); i++) {
		EXPECT_EQ(-EACCES, gm_fill(self->fd, c[i].gpa, c[i].len, 0x99))
			TH_LOG("fill %#llx + %#llx", (unsigned long long)c[i].gpa,
			       (unsigned long long)c[i].len);
	}
	EXPECT_ALL_INITIAL();
}

/* GUESTMEM_COPY: a read-only destination is EACCES; a read-only source is fine. */
TEST_F(ro, copy)
{
	static const struct { uint64_t dst, src, len; } c[] = {
		{ G(4), G(0), 64 },
		{ G(4) - 32, G(0), 64 },	/* dst R0 -> RO1 */
		{ G(5), G(4), PG },		/* RO1 onto itself */
		{ G(13), G(9), 100 },
		{ G(11), G(9), 2 * PG },	/* dst R2 -> RO2 */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(c); i++) {
		EXPECT_EQ(-EACCES, gm_copy(self->fd, c[i].dst, c[i].src, c[i].len))
			TH_LOG("copy %#llx <- %#llx + %#llx",
			       (unsigned long long)c[i].dst,
			       (unsigned long long)c[i].src,
			       (unsigned long long)c[i].len);
	}
	EXPECT_ALL_INITIAL();

	/* From read-only into writable memory. */
	ASSERT_EQ(0, gm_copy(self->fd, G(9), G(5), 2 * PG));
	EXPECT_EQ(0, memcmp(self->u2 + PG, self->uro + PG, 2 * PG));
	EXPECT_EQ(-1, pat_check(self->uro, G(4), 4 * PG, SEED_RO));
}

/* mmap stores into read-only regions raise SIGBUS; writable pages work. */
TEST_F(ro, mmap_write_sigbus)
{
	volatile uint8_t *map;
	unsigned int pg;

	map = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		   G(0));
	ASSERT_NE(MAP_FAILED, map);

	/* First touch a write (the fault handler refuses it). */
	for (pg = 4; pg < 16; pg += 8) {
		EXPECT_EQ(-1, sigbus_store(map + pg * PG + 3, 0x42))
			TH_LOG("page %u: store went through", pg);
		EXPECT_EQ(map + pg * PG + 3, sigbus_addr);
	}
	/* First touch a read, then a write (the write-notify path refuses). */
	for (pg = 5; pg < 16; pg += 8) {
		EXPECT_LE(0, sigbus_load(map + pg * PG + 7));
		EXPECT_EQ(-1, sigbus_store(map + pg * PG + 7, 0x43))
			TH_LOG("page %u: store went through", pg);
		EXPECT_EQ(map + pg * PG + 7, sigbus_addr);
		/* Again, with the page now present. */
		EXPECT_EQ(-1, sigbus_store(map + pg * PG + 8, 0x44));
	}
	/* Writable neighbours are writable. */
	EXPECT_EQ(0, sigbus_store(map + 3 * PG + PG - 1, 0x45));
	EXPECT_EQ(0, sigbus_store(map + 8 * PG, 0x46));
	EXPECT_EQ(0x45, sigbus_load(map + 4 * PG - 1));
	EXPECT_EQ(0x46, self->u2[0]);
	/* The read-only bytes never changed. */
	EXPECT_EQ(-1, pat_check(self->uro, G(4), 4 * PG, SEED_RO));
	EXPECT_EQ(-1, gm_mem_check(self->fd, G(12), 4 * PG, 0));
	EXPECT_EQ(pat(G(4) + 3, SEED_RO), sigbus_load(map + 4 * PG + 3));
	munmap((void *)map, 16 * PG);

	/* A mapping of the read-only region alone, written at its first byte. */
	map = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, G(7));
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-1, sigbus_store(map, 1));
	EXPECT_EQ(map, sigbus_addr);
	EXPECT_EQ(pat(G(7), SEED_RO), sigbus_load(map));
	munmap((void *)map, PG);
}

/* Removing a read-only region and adding it back writable lifts the ban. */
TEST_F(ro, readd_writable)
{
	uint8_t w[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	EXPECT_EQ(-EACCES, gm_write(self->fd, G(13), w, 8));
	ASSERT_EQ(0, gm_remove(self->fd, G(12), 4 * PG));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, G(12), 4 * PG));
	EXPECT_EQ(0, gm_write(self->fd, G(13), w, 8));
	/* And the other way round. */
	ASSERT_EQ(0, gm_remove(self->fd, G(0), 4 * PG));
	ASSERT_EQ(0, gm_add(self->fd, G(0), 4 * PG, 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_READONLY));
	EXPECT_EQ(-EACCES, gm_write(self->fd, G(1), w, 8));
}

TEST_HARNESS_MAIN
