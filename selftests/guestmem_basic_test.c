// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem basics: the uapi layout (checked at compile time), opening
 * /dev/guestmem, GET_INFO of a fresh space, ENOTTY for unknown ioctls, one
 * space per open, and close freeing the space.
 */
#include <assert.h>
#include <stddef.h>
#include <sys/wait.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

/* ---- ABI layout, exactly as DESIGN.md gives it (x86-64 and i386 alike) ---- */

#define FIELD(type, field, off, size)					\
	static_assert(offsetof(struct type, field) == (off),		\
		      #type "." #field " offset");			\
	static_assert(sizeof(((struct type *)0)->field) == (size),	\
		      #type "." #field " size")
#define SIZE(type, size)						\
	static_assert(sizeof(struct type) == (size), #type " size");	\
	static_assert(sizeof(struct type) % 8 == 0, #type " padding")

SIZE(guestmem_region, 48);
FIELD(guestmem_region, gpa, 0, 8);
FIELD(guestmem_region, size, 8, 8);
FIELD(guestmem_region, user_addr, 16, 8);
FIELD(guestmem_region, backing, 24, 4);
FIELD(guestmem_region, flags, 28, 4);
FIELD(guestmem_region, reserved, 32, 16);

SIZE(guestmem_region_list, 16);
FIELD(guestmem_region_list, count, 0, 4);
FIELD(guestmem_region_list, reserved, 4, 4);
FIELD(guestmem_region_list, regions, 8, 8);

SIZE(guestmem_info, 64);
FIELD(guestmem_info, api_version, 0, 4);
FIELD(guestmem_info, num_regions, 4, 4);
FIELD(guestmem_info, total_size, 8, 8);
FIELD(guestmem_info, generation, 16, 8);
FIELD(guestmem_info, features, 24, 8);
FIELD(guestmem_info, reserved, 32, 32);

SIZE(guestmem_io, 40);
FIELD(guestmem_io, gpa, 0, 8);
FIELD(guestmem_io, len, 8, 8);
FIELD(guestmem_io, buf, 16, 8);
FIELD(guestmem_io, flags, 24, 4);
FIELD(guestmem_io, reserved, 28, 4);
FIELD(guestmem_io, done, 32, 8);

SIZE(guestmem_batch_op, 32);
FIELD(guestmem_batch_op, op, 0, 4);
FIELD(guestmem_batch_op, flags, 4, 4);
FIELD(guestmem_batch_op, gpa, 8, 8);
FIELD(guestmem_batch_op, len, 16, 8);
FIELD(guestmem_batch_op, buf, 24, 8);

SIZE(guestmem_batch, 24);
FIELD(guestmem_batch, ops, 0, 8);
FIELD(guestmem_batch, count, 8, 4);
FIELD(guestmem_batch, flags, 12, 4);
FIELD(guestmem_batch, done, 16, 4);
FIELD(guestmem_batch, reserved, 20, 4);
SIZE(guestmem_region_batch, 24);
FIELD(guestmem_region_batch, regions, 0, 8);
FIELD(guestmem_region_batch, count, 8, 4);
FIELD(guestmem_region_batch, flags, 12, 4);
FIELD(guestmem_region_batch, index, 16, 4);
FIELD(guestmem_region_batch, reserved, 20, 4);

SIZE(guestmem_atomic, 40);
FIELD(guestmem_atomic, gpa, 0, 8);
FIELD(guestmem_atomic, value, 8, 8);
FIELD(guestmem_atomic, expected, 16, 8);
FIELD(guestmem_atomic, size, 24, 4);
FIELD(guestmem_atomic, op, 28, 4);
FIELD(guestmem_atomic, flags, 32, 4);
FIELD(guestmem_atomic, reserved, 36, 4);

SIZE(guestmem_fill, 24);
FIELD(guestmem_fill, gpa, 0, 8);
FIELD(guestmem_fill, len, 8, 8);
FIELD(guestmem_fill, value, 16, 4);
FIELD(guestmem_fill, flags, 20, 4);

SIZE(guestmem_copy, 32);
FIELD(guestmem_copy, dst, 0, 8);
FIELD(guestmem_copy, src, 8, 8);
FIELD(guestmem_copy, len, 16, 8);
FIELD(guestmem_copy, flags, 24, 4);
FIELD(guestmem_copy, reserved, 28, 4);

SIZE(guestmem_dirty_log, 32);
FIELD(guestmem_dirty_log, gpa, 0, 8);
FIELD(guestmem_dirty_log, size, 8, 8);
FIELD(guestmem_dirty_log, bitmap, 16, 8);
FIELD(guestmem_dirty_log, flags, 24, 4);
FIELD(guestmem_dirty_log, reserved, 28, 4);

/* Constants. */
static_assert(GUESTMEM_API_VERSION == 1, "api version");
static_assert(GUESTMEM_BACKING_VMALLOC == 0, "backing");
static_assert(GUESTMEM_BACKING_USER == 1, "backing");
static_assert(GUESTMEM_REGION_READONLY == 1, "flag");
static_assert(GUESTMEM_REGION_DIRTY_LOG == 2, "flag");
static_assert(GUESTMEM_FEATURE_MMAP == 1, "feature");
static_assert(GUESTMEM_FEATURE_BATCH == 2, "feature");
static_assert(GUESTMEM_FEATURE_ATOMIC == 4, "feature");
static_assert(GUESTMEM_FEATURE_FILL_COPY == 8, "feature");
static_assert(GUESTMEM_FEATURE_DIRTY_LOG == 16, "feature");
static_assert(GUESTMEM_FEATURE_REGION_BATCH == 32, "feature");
static_assert(GUESTMEM_REGION_BATCH_MAX == 4096, "region batch max");
static_assert(GUESTMEM_IO_PARTIAL == 1, "io flag");
static_assert(GUESTMEM_OP_READ == 0 && GUESTMEM_OP_WRITE == 1, "ops");
static_assert(GUESTMEM_BATCH_MAX == 1024, "batch max");
static_assert(GUESTMEM_ATOMIC_LOAD == 0 && GUESTMEM_ATOMIC_STORE == 1 &&
	      GUESTMEM_ATOMIC_XCHG == 2 && GUESTMEM_ATOMIC_CMPXCHG == 3 &&
	      GUESTMEM_ATOMIC_FETCH_ADD == 4 && GUESTMEM_ATOMIC_FETCH_OR == 5 &&
	      GUESTMEM_ATOMIC_FETCH_AND == 6, "atomic ops");
static_assert(GUESTMEM_DIRTY_LOG_CLEAR == 1, "dirty log flag");

/* ioctl numbers: type 0xB9, the numbers, directions and sizes of DESIGN.md. */
#define R _IOC_READ
#define W _IOC_WRITE
#define RW (_IOC_READ | _IOC_WRITE)
static_assert(GUESTMEM_GET_INFO == _IOC(R, 0xB9, 0x00, 64), "GET_INFO");
static_assert(GUESTMEM_ADD_REGION == _IOC(W, 0xB9, 0x10, 48), "ADD_REGION");
static_assert(GUESTMEM_REMOVE_REGION == _IOC(W, 0xB9, 0x11, 48), "REMOVE");
static_assert(GUESTMEM_GET_REGIONS == _IOC(RW, 0xB9, 0x12, 16), "GET_REGIONS");
static_assert(GUESTMEM_ADD_REGIONS == _IOC(RW, 0xB9, 0x13, 24), "ADD_REGIONS");
static_assert(GUESTMEM_REMOVE_REGIONS == _IOC(RW, 0xB9, 0x14, 24),
	      "REMOVE_REGIONS");
static_assert(GUESTMEM_READ == _IOC(RW, 0xB9, 0x20, 40), "READ");
static_assert(GUESTMEM_WRITE == _IOC(RW, 0xB9, 0x21, 40), "WRITE");
static_assert(GUESTMEM_BATCH == _IOC(RW, 0xB9, 0x22, 24), "BATCH");
static_assert(GUESTMEM_ATOMIC == _IOC(RW, 0xB9, 0x23, 40), "ATOMIC");
static_assert(GUESTMEM_FILL == _IOC(W, 0xB9, 0x24, 24), "FILL");
static_assert(GUESTMEM_COPY == _IOC(W, 0xB9, 0x25, 32), "COPY");
static_assert(GUESTMEM_GET_DIRTY_LOG == _IOC(RW, 0xB9, 0x30, 32), "DIRTY_LOG");

static const unsigned long known_cmds[] = {
	GUESTMEM_GET_INFO, GUESTMEM_ADD_REGION, GUESTMEM_REMOVE_REGION,
	GUESTMEM_GET_REGIONS, GUESTMEM_READ, GUESTMEM_WRITE, GUESTMEM_BATCH,
	GUESTMEM_ATOMIC, GUESTMEM_FILL, GUESTMEM_COPY, GUESTMEM_GET_DIRTY_LOG,
	GUESTMEM_ADD_REGIONS, GUESTMEM_REMOVE_REGIONS,
};

#define ALL_FEATURES (GUESTMEM_FEATURE_MMAP | GUESTMEM_FEATURE_BATCH |	\
		      GUESTMEM_FEATURE_ATOMIC | GUESTMEM_FEATURE_FILL_COPY | \
		      GUESTMEM_FEATURE_DIRTY_LOG | GUESTMEM_FEATURE_REGION_BATCH)

static bool is_known(unsigned long cmd)
{
	size_t i;

	for (i = 0; i < sizeof(known_cmds) / sizeof(known_cmds[0]); i++)
		if (known_cmds[i] == cmd)
			return true;
	return false;
}

/* A zeroed, page-sized argument buffer, so no unknown ioctl can EFAULT. */
static char argbuf[8192] __attribute__((aligned(4096)));

TEST(device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(GM_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	/* DESIGN.md: /dev/guestmem is created 0600. */
	EXPECT_EQ(0600U, st.st_mode & 07777);
}

TEST(open_and_get_info)
{
	struct guestmem_info info;
	int fd, i;

	fd = gm_open();
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));

	/* Pre-fill with 0xff: every field and reserved word must be written. */
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_GET_INFO, &info));
	EXPECT_EQ(1U, info.api_version);
	EXPECT_EQ(0U, info.num_regions);
	EXPECT_EQ(0ULL, info.total_size);
	EXPECT_EQ(0ULL, info.generation);
	EXPECT_EQ(0ULL, info.features & ~ALL_FEATURES)
		TH_LOG("unknown feature bits in %#llx",
		       (unsigned long long)info.features);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0ULL, info.reserved[i]) TH_LOG("reserved[%d]", i);
	}

	/* Same answer again: GET_INFO itself changes nothing. */
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_GET_INFO, &info));
	EXPECT_EQ(0ULL, info.generation);
	EXPECT_EQ(0U, info.num_regions);
	EXPECT_EQ(0, close(fd));
}

TEST(get_info_efault)
{
	void *hole = unmapped_range(PG);
	int fd = gm_open();
	char *p;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, hole);
	EXPECT_EQ(-EFAULT, gm_ioctl(fd, GUESTMEM_GET_INFO, NULL));
	EXPECT_EQ(-EFAULT, gm_ioctl(fd, GUESTMEM_GET_INFO, hole));

	/* A buffer whose last byte is unmapped. */
	p = map_anon(2 * PG);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, munmap(p + PG, PG));
	EXPECT_EQ(-EFAULT, gm_ioctl(fd, GUESTMEM_GET_INFO,
				    p + PG - sizeof(struct guestmem_info) + 1));
	munmap(p, PG);
	close(fd);
}

TEST(unknown_ioctls_enotty)
{
	static const unsigned int sizes[] = {
		0, 1, 4, 8, 16, 24, 32, 40, 48, 56, 64, 72, 128, 4096,
	};
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE,
	};
	struct guestmem_info info;
	unsigned int nr, d, s, bad = 0, tried = 0;
	int fd = gm_open();

	ASSERT_LE(0, fd);

	/* Every other number, direction and size of type 0xB9. */
	for (nr = 0; nr < 256; nr++) {
		for (d = 0; d < 4; d++) {
			for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
				unsigned long cmd = _IOC(dirs[d], 0xB9, nr, sizes[s]);
				int ret;

				if (is_known(cmd))
					continue;
				memset(argbuf, 0, sizeof(argbuf));
				tried++;
				ret = gm_ioctl(fd, cmd, argbuf);
				if (ret != -ENOTTY) {
					if (bad++ < 10)
						TH_LOG("cmd %#lx (nr %#x dir %u size %u): %d, want -ENOTTY",
						       cmd, nr, dirs[d], sizes[s], ret);
				}
			}
		}
	}
	EXPECT_EQ(0U, bad) TH_LOG("%u of %u unknown 0xB9 ioctls not ENOTTY",
				 bad, tried);

	/* The known numbers with another type. */
	for (nr = 0; nr < sizeof(known_cmds) / sizeof(known_cmds[0]); nr++) {
		unsigned long cmd = known_cmds[nr];
		unsigned long types[] = { 0x00, 0xB8, 0xBA, 0x39, 0xF9, 'G' };
		unsigned int t;

		for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			unsigned long other = _IOC(_IOC_DIR(cmd), types[t],
						   _IOC_NR(cmd), _IOC_SIZE(cmd));

			memset(argbuf, 0, sizeof(argbuf));
			EXPECT_EQ(-ENOTTY, gm_ioctl(fd, other, argbuf))
				TH_LOG("cmd %#lx", other);
		}
	}

	/* Assorted foreign ioctls a char device may be sent. */
	memset(argbuf, 0, sizeof(argbuf));
	EXPECT_EQ(-ENOTTY, gm_ioctl(fd, 0x5401 /* TCGETS */, argbuf));
	EXPECT_EQ(-ENOTTY, gm_ioctl(fd, 0x541B /* FIONREAD */, argbuf));
	EXPECT_EQ(-ENOTTY, gm_ioctl(fd, _IO(0, 0), argbuf));
	EXPECT_EQ(-ENOTTY, gm_ioctl(fd, 0xffffffffUL, argbuf));
	EXPECT_EQ(-ENOTTY, gm_ioctl(fd, _IOR(0xAE, 0x00, int), argbuf));

	/* None of this touched the space. */
	ASSERT_EQ(0, gm_info(fd, &info));
	EXPECT_EQ(0ULL, info.generation);
	EXPECT_EQ(0U, info.num_regions);
	close(fd);
}

/*
 * An ioctl of the ABI whose feature bit is not advertised is not
 * implemented, so it must answer ENOTTY; an advertised one must not.
 */
TEST(feature_bits_match_ioctls)
{
	static const struct {
		uint64_t feature;
		unsigned long cmd;
	} map[] = {
		{ GUESTMEM_FEATURE_BATCH, GUESTMEM_BATCH },
		{ GUESTMEM_FEATURE_ATOMIC, GUESTMEM_ATOMIC },
		{ GUESTMEM_FEATURE_FILL_COPY, GUESTMEM_FILL },
		{ GUESTMEM_FEATURE_FILL_COPY, GUESTMEM_COPY },
		{ GUESTMEM_FEATURE_DIRTY_LOG, GUESTMEM_GET_DIRTY_LOG },
		{ GUESTMEM_FEATURE_REGION_BATCH, GUESTMEM_ADD_REGIONS },
		{ GUESTMEM_FEATURE_REGION_BATCH, GUESTMEM_REMOVE_REGIONS },
	};
	struct guestmem_info info;
	unsigned int i;
	int fd = gm_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gm_info(fd, &info));
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		int ret;

		memset(argbuf, 0, sizeof(argbuf));
		ret = gm_ioctl(fd, map[i].cmd, argbuf);
		if (info.features & map[i].feature) {
			EXPECT_NE(-ENOTTY, ret)
				TH_LOG("cmd %#lx advertised", map[i].cmd);
		} else {
			EXPECT_EQ(-ENOTTY, ret)
				TH_LOG("cmd %#lx not advertised", map[i].cmd);
		}
	}
	/* The region and I/O ioctls are always there. */
	memset(argbuf, 0, sizeof(argbuf));
	EXPECT_NE(-ENOTTY, gm_ioctl(fd, GUESTMEM_GET_REGIONS, argbuf));
	memset(argbuf, 0, sizeof(argbuf));
	EXPECT_EQ(0, gm_ioctl(fd, GUESTMEM_READ, argbuf));	/* len 0 */
	memset(argbuf, 0, sizeof(argbuf));
	EXPECT_EQ(0, gm_ioctl(fd, GUESTMEM_WRITE, argbuf));	/* len 0 */
	close(fd);
}

TEST(two_opens_are_two_spaces)
{
	struct guestmem_info i1, i2;
	char buf[256], buf2[256];
	int fd1 = gm_open(), fd2 = gm_open();

	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);

	ASSERT_EQ(0, gm_add_vmalloc(fd1, 0x100000, 4 * PG));
	ASSERT_EQ(0, gm_info(fd1, &i1));
	ASSERT_EQ(0, gm_info(fd2, &i2));
	EXPECT_EQ(1U, i1.num_regions);
	EXPECT_EQ(1ULL, i1.generation);
	EXPECT_EQ(4 * PG, i1.total_size);
	EXPECT_EQ(0U, i2.num_regions);
	EXPECT_EQ(0ULL, i2.generation);
	EXPECT_EQ(0ULL, i2.total_size);

	/* fd2 has nothing there... */
	EXPECT_EQ(-ENXIO, gm_read(fd2, 0x100000, buf, sizeof(buf)));
	/* ...so the same range is free in it (no EEXIST). */
	ASSERT_EQ(0, gm_add_vmalloc(fd2, 0x100000, 4 * PG));

	pat_fill(buf, 0x100000, sizeof(buf), 1);
	ASSERT_EQ(0, gm_write(fd1, 0x100000, buf, sizeof(buf)));
	pat_fill(buf, 0x100000, sizeof(buf), 2);
	ASSERT_EQ(0, gm_write(fd2, 0x100000, buf, sizeof(buf)));

	ASSERT_EQ(0, gm_read(fd1, 0x100000, buf2, sizeof(buf2)));
	EXPECT_EQ(-1, pat_check(buf2, 0x100000, sizeof(buf2), 1));
	ASSERT_EQ(0, gm_read(fd2, 0x100000, buf2, sizeof(buf2)));
	EXPECT_EQ(-1, pat_check(buf2, 0x100000, sizeof(buf2), 2));

	/* Removing in one leaves the other alone. */
	ASSERT_EQ(0, gm_remove(fd1, 0x100000, 4 * PG));
	EXPECT_EQ(-ENXIO, gm_read(fd1, 0x100000, buf2, sizeof(buf2)));
	ASSERT_EQ(0, gm_read(fd2, 0x100000, buf2, sizeof(buf2)));
	EXPECT_EQ(-1, pat_check(buf2, 0x100000, sizeof(buf2), 2));

	/* Closing one leaves the other alone. */
	ASSERT_EQ(0, close(fd1));
	ASSERT_EQ(0, gm_read(fd2, 0x100000, buf2, sizeof(buf2)));
	EXPECT_EQ(-1, pat_check(buf2, 0x100000, sizeof(buf2), 2));
	ASSERT_EQ(0, gm_info(fd2, &i2));
	EXPECT_EQ(1U, i2.num_regions);
	close(fd2);
}

/* A dup()ed fd is the same open file, hence the same space. */
TEST(dup_is_same_space)
{
	struct guestmem_info info;
	char buf[64];
	int fd = gm_open(), fd2;

	ASSERT_LE(0, fd);
	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, gm_add_vmalloc(fd, 0, PG));
	ASSERT_EQ(0, gm_info(fd2, &info));
	EXPECT_EQ(1U, info.num_regions);
	pat_fill(buf, 0, sizeof(buf), 3);
	ASSERT_EQ(0, gm_write(fd, 0, buf, sizeof(buf)));
	ASSERT_EQ(0, close(fd));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, gm_read(fd2, 0, buf, sizeof(buf)));
	EXPECT_EQ(-1, pat_check(buf, 0, sizeof(buf), 3));
	close(fd2);
}

/*
 * For tests that may need more than the harness's default timeout (30 s)
 * on a slow, loaded machine: only TEST_F() can have a timeout of its own.
 */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

/*
 * Open and close many times, then 64 times with a space holding 4 MiB of
 * VMALLOC memory (256 MiB in all): MemAvailable must come back to within
 * 64 MiB of where it was, so regions that close does not free show (and
 * kmemleak, in the debug VM, sees smaller leaks).  Allocating, zeroing and
 * freeing 256 MiB takes 7 s in the debug VM (KASAN) on an idle host.
 */
TEST_F_TIMEOUT(slow, close_frees_space, 120)
{
	const uint64_t size = 4ULL << 20;
	long before, after = 0;
	uint64_t end;
	int i, fd;

	before = proc_file_kb("/proc/meminfo", "MemAvailable");
	ASSERT_LT(0, before);

	for (i = 0; i < 200; i++) {
		fd = gm_open();
		ASSERT_LE(0, fd) TH_LOG("open #%d: %s", i, strerror(errno));
		ASSERT_EQ(0, close(fd));
	}

	for (i = 0; i < 64; i++) {
		char b = (char)i;

		fd = gm_open();
		ASSERT_LE(0, fd) TH_LOG("open #%d: %s", i, strerror(errno));
		ASSERT_EQ(0, gm_add_vmalloc(fd, (uint64_t)i << 32, size))
			TH_LOG("iteration %d", i);
		ASSERT_EQ(0, gm_write(fd, ((uint64_t)i << 32) + size - 1, &b, 1));
		ASSERT_EQ(0, close(fd));
	}

	/* Frees may complete shortly after close. */
	end = now_ms() + SETTLE_MS;
	do {
		after = proc_file_kb("/proc/meminfo", "MemAvailable");
		if (after + 64 * 1024 >= before)
			break;
		sleep_ms(50);
	} while (now_ms() < end);
	EXPECT_LE(before - 64 * 1024, after)
		TH_LOG("MemAvailable %ld kB before, %ld kB after", before, after);
}

/* A space outlives a close of its fd while a child still holds it. */
TEST(space_lives_while_fd_held)
{
	int fd = gm_open(), st, p[2];
	char buf[32], c;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gm_add_vmalloc(fd, 0x2000, PG));
	pat_fill(buf, 0x2000, sizeof(buf), 9);
	ASSERT_EQ(0, gm_write(fd, 0x2000, buf, sizeof(buf)));
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(2);
		memset(buf, 0, sizeof(buf));
		if (gm_read(fd, 0x2000, buf, sizeof(buf)))
			_exit(3);
		_exit(pat_check(buf, 0x2000, sizeof(buf), 9) == -1 ? 0 : 4);
	}
	close(p[0]);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(1, write(p[1], "x", 1));
	close(p[1]);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_HARNESS_MAIN
