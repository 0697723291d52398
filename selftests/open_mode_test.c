// SPDX-License-Identifier: GPL-2.0
/*
 * The open mode of /dev/guestmem is honoured.  A descriptor opened O_RDONLY
 * (its space is its own, so it stays empty) reads: GET_INFO, GET_REGIONS,
 * READ, pread, lseek, atomic LOAD, GET_DIRTY_LOG without CLEAR, a batch of
 * reads and PROT_READ shared mappings all work (or fail as on any empty
 * space); every call that would change the space or guest memory fails
 * with EBADF, as write(2) does, and changes nothing.  O_WRONLY and O_RDWR
 * descriptors are not refused anything.
 */
#include "guestmem_util.h"
#include "kselftest_harness.h"

#define B	0x4000000000ULL

/* Every changing ioctl is EBADF on an O_RDONLY descriptor. */
TEST(rdonly_refuses_changes)
{
	static const uint32_t ops[] = {
		GUESTMEM_ATOMIC_STORE, GUESTMEM_ATOMIC_XCHG,
		GUESTMEM_ATOMIC_CMPXCHG, GUESTMEM_ATOMIC_FETCH_ADD,
		GUESTMEM_ATOMIC_FETCH_OR, GUESTMEM_ATOMIC_FETCH_AND,
	};
	struct guestmem_region r = gm_region(B, PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	struct guestmem_info info;
	uint8_t buf[64] = { 0 };
	uint64_t done, v;
	unsigned int i;
	void *mem;
	int fd;

	fd = open(GM_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s O_RDONLY: %s", GM_DEV, strerror(errno));
	mem = map_anon(PG);
	ASSERT_NE(NULL, mem);

	EXPECT_EQ(-EBADF, gm_ioctl(fd, GUESTMEM_ADD_REGION, &r));
	EXPECT_EQ(-EBADF, gm_add_user(fd, B + PG, PG, mem));
	EXPECT_EQ(-EBADF, gm_remove(fd, B, PG));
	/* Even malformed or empty changes: the mode is checked first. */
	r.reserved[0] = 1;
	EXPECT_EQ(-EBADF, gm_ioctl(fd, GUESTMEM_ADD_REGION, &r));
	EXPECT_EQ(-EBADF, gm_ioctl(fd, GUESTMEM_ADD_REGION, NULL));
	EXPECT_EQ(-EBADF, gm_io(fd, GUESTMEM_WRITE, B, buf, sizeof(buf), 0,
				&done));
	EXPECT_EQ(0ULL, done);
	EXPECT_EQ(-EBADF, gm_io(fd, GUESTMEM_WRITE, B, buf, 0, 0, &done));
	EXPECT_EQ(-EBADF, gm_io(fd, GUESTMEM_WRITE, B, buf, sizeof(buf),
				GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(-EBADF, gm_fill(fd, B, PG, 0xaa));
	EXPECT_EQ(-EBADF, gm_fill(fd, B, 0, 0xaa));
	EXPECT_EQ(-EBADF, gm_copy(fd, B, B + PG, PG));
	EXPECT_EQ(-EBADF, gm_copy(fd, B, B, 0));
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		v = 1;
		EXPECT_EQ(-EBADF, gm_atomic(fd, B, 8, ops[i], &v, 0)) TH_LOG("op %u", ops[i]);
	}
	EXPECT_EQ(-EBADF, gm_dirty_log(fd, B, PG, buf,
				       GUESTMEM_DIRTY_LOG_CLEAR));
	EXPECT_EQ(-EBADF, gm_dirty_log(fd, B, 0, buf,
				       GUESTMEM_DIRTY_LOG_CLEAR));
	/* write(2) itself: the VFS refuses it. */
	EXPECT_EQ(-1, pwrite(fd, buf, sizeof(buf), B));
	EXPECT_EQ(EBADF, errno);

	/* Nothing changed. */
	EXPECT_EQ(0, gm_info(fd, &info));
	EXPECT_EQ(0U, info.num_regions);
	EXPECT_EQ(0ULL, info.total_size);
	EXPECT_EQ(0ULL, info.generation);
	EXPECT_EQ(0, vmlck_kb(0));
	close(fd);
	munmap(mem, PG);
}

/* A batch fails at its first write op, the reads before it having run. */
TEST(rdonly_batch)
{
	struct guestmem_batch_op ops[3];
	uint8_t buf[16];
	uint32_t done;
	int fd;

	fd = open(GM_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GUESTMEM_OP_READ;	/* len 0: succeeds on any space */
	ops[0].buf = (uintptr_t)buf;
	ops[1].op = GUESTMEM_OP_WRITE;
	ops[1].gpa = B;
	ops[1].buf = (uintptr_t)buf;
	ops[1].len = sizeof(buf);
	ops[2] = ops[0];
	EXPECT_EQ(-EBADF, gm_batch(fd, ops, 3, &done));
	EXPECT_EQ(1U, done);
	/* Even an empty write. */
	ops[1].len = 0;
	EXPECT_EQ(-EBADF, gm_batch(fd, ops, 3, &done));
	EXPECT_EQ(1U, done);
	/* Reads alone run. */
	EXPECT_EQ(0, gm_batch(fd, ops, 1, &done));
	EXPECT_EQ(1U, done);
	ops[0].len = 1;
	ops[0].gpa = B;
	EXPECT_EQ(-ENXIO, gm_batch(fd, ops, 1, &done));
	EXPECT_EQ(0U, done);
	EXPECT_EQ(0, gm_batch(fd, ops, 0, &done));
	close(fd);
}

/* What only reads works on an O_RDONLY descriptor, as on any empty space. */
TEST(rdonly_reads)
{
	struct guestmem_region_list list;
	struct guestmem_info info;
	uint8_t buf[64];
	uint64_t done, v = 0;
	uint8_t *p;
	int fd;

	fd = open(GM_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, gm_info(fd, &info));
	EXPECT_EQ((uint32_t)GUESTMEM_API_VERSION, info.api_version);
	memset(&list, 0, sizeof(list));
	EXPECT_EQ(0, gm_ioctl(fd, GUESTMEM_GET_REGIONS, &list));
	EXPECT_EQ(0U, list.count);
	EXPECT_EQ(-ENXIO, gm_io(fd, GUESTMEM_READ, B, buf, sizeof(buf), 0,
				&done));
	EXPECT_EQ(0, gm_io(fd, GUESTMEM_READ, B, buf, 0, 0, &done));
	EXPECT_EQ(-1, pread(fd, buf, sizeof(buf), B));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(LSEEK_ERR(ENXIO), raw_lseek(fd, 0, SEEK_DATA));
	EXPECT_EQ(-ENXIO, gm_atomic(fd, B, 8, GUESTMEM_ATOMIC_LOAD, &v, 0));
	EXPECT_EQ(0, gm_dirty_log(fd, B, 0, buf, 0));
	EXPECT_EQ(-ENXIO, gm_dirty_log(fd, B, PG, buf, 0));

	/*
	 * A PROT_READ shared mapping: the VFS clears VM_SHARED (not
	 * VM_MAYSHARE) of a MAP_SHARED mapping of an O_RDONLY file.  Its
	 * pages are holes (SIGBUS on access).  A writable one is refused by
	 * the VFS.
	 */
	p = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, B);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap PROT_READ: %s", strerror(errno));
	ASSERT_EQ(0, sigbus_install());
	EXPECT_EQ(-1, sigbus_load(p + PG));
	EXPECT_EQ(-1, mprotect(p, 2 * PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(p, 2 * PG);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				   fd, B));
	EXPECT_EQ(EACCES, errno);
	close(fd);
}

/* O_WRONLY and O_RDWR descriptors change their spaces as before. */
TEST(writable_modes)
{
	static const int modes[] = { O_RDWR, O_WRONLY };
	uint8_t buf[16] = { 1, 2, 3 }, out[16];
	unsigned int i;
	int fd;

	for (i = 0; i < 2; i++) {
		fd = open(GM_DEV, modes[i] | O_CLOEXEC);
		ASSERT_LE(0, fd);
		EXPECT_EQ(0, gm_add_vmalloc(fd, B, 2 * PG));
		EXPECT_EQ(0, gm_write(fd, B, buf, sizeof(buf)));
		EXPECT_EQ(0, gm_copy(fd, B + PG, B, PG));
		EXPECT_EQ(0, gm_read(fd, B + PG, out, sizeof(out)));
		EXPECT_EQ(0, memcmp(buf, out, sizeof(out)));
		EXPECT_EQ(0, gm_fill(fd, B, PG, 7));
		EXPECT_EQ(0, gm_remove(fd, B, 2 * PG));
		close(fd);
	}
}

TEST_HARNESS_MAIN
