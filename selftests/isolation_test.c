// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem isolation: access control and information leaks.
 *  - /dev/guestmem is a root-owned 0600 character device; a process that
 *    dropped to an unprivileged user (65534) cannot open it, not even by
 *    reopening an inherited descriptor through /proc, but a descriptor it
 *    was handed still works (a space is shared by sharing its fd);
 *  - one space is unreachable from any other open of the device, whatever
 *    the path (ioctls, read/write, lseek, mmap, dirty log, /proc reopen,
 *    a child's own open);
 *  - new VMALLOC memory reads as zeroes through every path, even right
 *    after the kernel freed lots of memory full of non-zero bytes, and a
 *    mapping kept across a remove/re-add never shows the old bytes;
 *  - every structure guestmem copies to user space is fully initialised
 *    (buffers pre-filled with 0xff): exact contents for GET_INFO and
 *    GET_REGIONS entries, only the documented output fields change in the
 *    others, nothing is written past what the call returns.
 */
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define G		0x100000ULL
#define NOBODY		65534

#define ALL_FEATURES	(GUESTMEM_FEATURE_MMAP | GUESTMEM_FEATURE_BATCH | \
			 GUESTMEM_FEATURE_ATOMIC | GUESTMEM_FEATURE_FILL_COPY | \
			 GUESTMEM_FEATURE_DIRTY_LOG | \
			 GUESTMEM_FEATURE_REGION_BATCH)

/* Child helpers: exit with the line number of the first failed check. */
static void drop_to_nobody(void)
{
	CHILD_CHECK(setgroups(0, NULL) == 0);
	CHILD_CHECK(setgid(NOBODY) == 0);
	CHILD_CHECK(setuid(NOBODY) == 0);
	CHILD_CHECK(getuid() == NOBODY && geteuid() == NOBODY);
}

TEST(device_node_mode_and_owner)
{
	struct stat st;

	ASSERT_EQ(0, stat(GM_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);
	EXPECT_EQ(0U, st.st_gid);
}

TEST(unprivileged_user_cannot_open)
{
	uint8_t buf[64], got[64];
	int fd = gm_open();
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gm_add_vmalloc(fd, G, PG));
	pat_fill(buf, G, sizeof(buf), 3);
	ASSERT_EQ(0, gm_write(fd, G, buf, sizeof(buf)));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char path[64];
		int fd2;

		drop_to_nobody();
		CHILD_CHECK(open(GM_DEV, O_RDWR) < 0 && errno == EACCES);
		CHILD_CHECK(open(GM_DEV, O_RDONLY) < 0 && errno == EACCES);
		CHILD_CHECK(open(GM_DEV, O_WRONLY) < 0 && errno == EACCES);
		/* Reopening the inherited fd goes through the inode: refused. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		fd2 = open(path, O_RDWR);
		CHILD_CHECK(fd2 < 0 && errno == EACCES);
		/* The descriptor it was handed is the space, and works. */
		CHILD_CHECK(gm_read(fd, G, got, sizeof(got)) == 0);
		CHILD_CHECK(memcmp(got, buf, sizeof(got)) == 0);
		CHILD_CHECK(gm_write(fd, G + 100, buf, 8) == 0);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
	ASSERT_EQ(0, gm_read(fd, G + 100, got, 8));
	EXPECT_EQ(0, memcmp(got, buf, 8));
	close(fd);
}

static sigjmp_buf bus_jmp;

static void bus_handler(int sig)
{
	siglongjmp(bus_jmp, sig);
}

/* Does reading *p raise SIGBUS? */
static bool sigbus_on_read(volatile uint8_t *p)
{
	struct sigaction sa, old;
	bool bus = false;
	uint8_t v;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bus_handler;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jmp, 1))
		bus = true;
	else
		v = *p;
	sigaction(SIGBUS, &old, NULL);
	(void)v;
	return bus;
}

TEST(spaces_are_isolated)
{
	uint8_t *buf = malloc(4 * PG), *got = malloc(4 * PG), *m;
	uint64_t bm[1] = { ~0ULL };
	struct guestmem_dirty_log dl;
	struct guestmem_atomic at;
	struct guestmem_copy cp;
	struct guestmem_info info;
	struct guestmem_region_list l;
	char path[64];
	int a, b, c;
	pid_t pid;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, got);
	a = gm_open();
	b = gm_open();
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, gm_add(a, G, 4 * PG, 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_DIRTY_LOG));
	pat_fill(buf, G, 4 * PG, 7);
	ASSERT_EQ(0, gm_write(a, G, buf, 4 * PG));

	/* Nothing of A from B, by any path. */
	EXPECT_EQ(-ENXIO, gm_read(b, G, got, 1));
	EXPECT_EQ(-1, pread(b, got, 1, G));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(LSEEK_ERR(ENXIO), raw_lseek(b, 0, SEEK_DATA));
	memset(&l, 0, sizeof(l));
	ASSERT_EQ(0, ioctl(b, GUESTMEM_GET_REGIONS, &l));
	EXPECT_EQ(0U, l.count);
	memset(&dl, 0, sizeof(dl));
	dl.gpa = G;
	dl.size = PG;
	dl.bitmap = (uintptr_t)bm;
	EXPECT_EQ(-ENXIO, gm_ioctl(b, GUESTMEM_GET_DIRTY_LOG, &dl));
	memset(&at, 0, sizeof(at));
	at.gpa = G;
	at.size = 8;
	at.op = GUESTMEM_ATOMIC_LOAD;
	EXPECT_EQ(-ENXIO, gm_ioctl(b, GUESTMEM_ATOMIC, &at));
	memset(&cp, 0, sizeof(cp));
	cp.dst = G + 8 * PG;
	cp.src = G;
	cp.len = 8;
	EXPECT_EQ(-ENXIO, gm_ioctl(b, GUESTMEM_COPY, &cp));
	m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, b, G);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_TRUE(sigbus_on_read(m));
	EXPECT_TRUE(sigbus_on_read(m + 3 * PG + 5));

	/* Reopening A through /proc opens the device: a new, empty space. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", a);
	c = open(path, O_RDWR);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, gm_info(c, &info));
	EXPECT_EQ(0U, info.num_regions);
	EXPECT_EQ(0ULL, info.generation);
	EXPECT_EQ(-ENXIO, gm_read(c, G, got, 1));
	close(c);

	/* A child's own open is its own space, too. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int d = gm_open();

		CHILD_CHECK(d >= 0);
		CHILD_CHECK(gm_read(d, G, got, 1) == -ENXIO);
		CHILD_CHECK(gm_add_vmalloc(d, G, PG) == 0);
		CHILD_CHECK(gm_write(d, G, "child", 5) == 0);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));

	/* B can have the same GPAs: its own zeroed memory. */
	ASSERT_EQ(0, gm_add_vmalloc(b, G, 4 * PG));
	ASSERT_EQ(0, gm_read(b, G, got, 4 * PG));
	EXPECT_EQ(-1, mem_check(got, 0, 4 * PG));
	EXPECT_FALSE(sigbus_on_read(m));
	EXPECT_EQ(0, m[0]);
	memset(got, 0x77, PG);
	ASSERT_EQ(0, gm_write(b, G, got, PG));
	EXPECT_EQ(0x77, m[10]);

	/* ...and A never sees B's writes, nor its own log B's. */
	ASSERT_EQ(0, gm_read(a, G, got, 4 * PG));
	EXPECT_EQ(-1, pat_check(got, G, 4 * PG, 7));
	dl.flags = GUESTMEM_DIRTY_LOG_CLEAR;
	dl.size = 4 * PG;
	ASSERT_EQ(0, gm_ioctl(a, GUESTMEM_GET_DIRTY_LOG, &dl));
	EXPECT_EQ(0xfULL, bm[0]);	/* A's own writes */
	ASSERT_EQ(0, gm_write(b, G, got, 4 * PG));
	ASSERT_EQ(0, gm_ioctl(a, GUESTMEM_GET_DIRTY_LOG, &dl));
	EXPECT_EQ(0ULL, bm[0]);

	/* Closing A leaves B whole. */
	close(a);
	ASSERT_EQ(0, gm_read(b, G, buf, 4 * PG));
	EXPECT_EQ(0, memcmp(buf, got, 4 * PG));
	munmap(m, 4 * PG);
	close(b);
	free(buf);
	free(got);
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
 * Lots of freed kernel memory full of 0xa5 (VMALLOC regions filled and
 * removed) and of freed user memory full of 0x5a, then a big region: all
 * zero, through GUESTMEM_READ, pread and a mapping.  160 MiB of VMALLOC
 * memory: 3 s in the debug VM (KASAN) on an idle host.
 */
TEST_F_TIMEOUT(slow, new_vmalloc_memory_reads_zero, 120)
{
	const uint64_t big = 32ULL << 20, chunk = 1ULL << 20;
	struct guestmem_fill f;
	uint8_t *buf = malloc(chunk), *m, *u;
	uint64_t off;
	int fd = gm_open(), i;
	long bad;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, gm_add_vmalloc(fd, G, big));
		memset(&f, 0, sizeof(f));
		f.gpa = G;
		f.len = big;
		f.value = 0xa5;
		ASSERT_EQ(0, gm_ioctl(fd, GUESTMEM_FILL, &f));
		ASSERT_EQ(0, gm_remove(fd, G, big));
	}
	u = map_anon(big);
	ASSERT_NE(NULL, u);
	memset(u, 0x5a, big);
	munmap(u, big);

	ASSERT_EQ(0, gm_add_vmalloc(fd, G, big));
	for (off = 0; off < big; off += chunk) {
		memset(buf, 0xff, chunk);
		ASSERT_EQ(0, gm_read(fd, G + off, buf, chunk));
		bad = mem_check(buf, 0, chunk);
		ASSERT_EQ(-1, bad) TH_LOG("byte at gpa %#llx is %#x",
					  (unsigned long long)(G + off + bad), buf[bad]);
	}
	for (i = 0; i < 64; i++) {
		uint8_t b = 0xff;

		off = (uint64_t)rand() % big;
		ASSERT_EQ(1, pread(fd, &b, 1, G + off));
		EXPECT_EQ(0, b);
	}
	m = mmap(NULL, big, PROT_READ, MAP_SHARED, fd, G);
	ASSERT_NE(MAP_FAILED, m);
	bad = mem_check(m, 0, big);
	EXPECT_EQ(-1, bad) TH_LOG("mapping: byte %ld is %#x", bad, m[bad]);
	munmap(m, big);
	ASSERT_EQ(0, gm_remove(fd, G, big));
	free(buf);
	close(fd);
}

/* A mapping kept across remove and re-add never shows the old bytes. */
TEST(readd_reads_zero_everywhere)
{
	const uint64_t size = 16 * PG;
	uint8_t *m, *buf = malloc(size);
	struct guestmem_fill f;
	int fd = gm_open(), i;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, G);
	ASSERT_NE(MAP_FAILED, m);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, gm_add_vmalloc(fd, G, size));
		EXPECT_EQ(-1, mem_check(m, 0, size)) TH_LOG("round %d", i);
		memset(&f, 0, sizeof(f));
		f.gpa = G;
		f.len = size;
		f.value = 0xc3;
		ASSERT_EQ(0, gm_ioctl(fd, GUESTMEM_FILL, &f));
		memset(m + PG, 0x3c, PG);	/* and through the mapping */
		EXPECT_EQ(0xc3, m[0]);
		ASSERT_EQ(0, gm_remove(fd, G, size));
		EXPECT_TRUE(sigbus_on_read(m + PG));
	}
	munmap(m, size);
	free(buf);
	close(fd);
}

/* Structures copied out: exact contents, nothing else touched. */
TEST(outputs_fully_initialised)
{
	uint8_t *mem = map_anon(4 * PG);
	struct guestmem_region exp, out[8];
	struct guestmem_region_list l, l0;
	struct guestmem_info info, want;
	struct guestmem_io io, io0;
	struct guestmem_batch_op ops[2], ops0[2];
	struct guestmem_batch bt, bt0;
	struct guestmem_atomic at, at0;
	struct guestmem_dirty_log dl, dl0;
	struct guestmem_fill fl, fl0;
	struct guestmem_copy cp, cp0;
	struct guestmem_region r, r0;
	uint8_t buf[256];
	uint64_t bm[4];
	int fd = gm_open(), i;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, mem);
	memset(mem, 1, 4 * PG);
	ASSERT_EQ(0, gm_add(fd, G, 4 * PG, 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_DIRTY_LOG));
	ASSERT_EQ(0, gm_add(fd, G + 4 * PG, 4 * PG, (uintptr_t)mem,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_READONLY));

	/* GET_INFO: byte for byte what it should be. */
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_GET_INFO, &info));
	memset(&want, 0, sizeof(want));
	want.api_version = GUESTMEM_API_VERSION;
	want.num_regions = 2;
	want.total_size = 8 * PG;
	want.generation = 2;
	want.features = info.features;
	EXPECT_EQ(0ULL, info.features & ~ALL_FEATURES);
	EXPECT_EQ(0, memcmp(&info, &want, sizeof(info)));

	/* GET_REGIONS: exact entries; the rest of the array and list alone. */
	memset(out, 0xff, sizeof(out));
	memset(&l, 0, sizeof(l));
	l.count = 8;
	l.regions = (uintptr_t)out;
	l0 = l;
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_GET_REGIONS, &l));
	EXPECT_EQ(2U, l.count);
	EXPECT_EQ(l0.reserved, l.reserved);
	EXPECT_EQ(l0.regions, l.regions);
	memset(&exp, 0, sizeof(exp));
	exp.gpa = G;
	exp.size = 4 * PG;
	exp.backing = GUESTMEM_BACKING_VMALLOC;
	exp.flags = GUESTMEM_REGION_DIRTY_LOG;
	EXPECT_EQ(0, memcmp(&out[0], &exp, sizeof(exp)));
	exp.gpa = G + 4 * PG;
	exp.user_addr = (uintptr_t)mem;
	exp.backing = GUESTMEM_BACKING_USER;
	exp.flags = GUESTMEM_REGION_READONLY;
	EXPECT_EQ(0, memcmp(&out[1], &exp, sizeof(exp)));
	for (i = 2; i < 8; i++) {
		EXPECT_EQ(-1, mem_check(&out[i], 0xff, sizeof(out[i])))
			TH_LOG("entry %d written", i);
	}
	/* count < n: only that many entries. */
	memset(out, 0xff, sizeof(out));
	l.count = 1;
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_GET_REGIONS, &l));
	EXPECT_EQ(2U, l.count);
	EXPECT_EQ(-1, mem_check(&out[1], 0xff, sizeof(out[1])));

	/* READ: `done` is the only field written; the buffer past it is not. */
	memset(buf, 0xff, sizeof(buf));
	memset(&io, 0, sizeof(io));
	io.gpa = G + 4 * PG - 100;
	io.len = 200;
	io.buf = (uintptr_t)buf;
	io.flags = GUESTMEM_IO_PARTIAL;
	io.done = ~0ULL;
	io0 = io;
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_READ, &io));
	EXPECT_EQ(200ULL, io.done);	/* the USER region follows */
	io0.done = io.done;
	EXPECT_EQ(0, memcmp(&io, &io0, sizeof(io)));
	io.gpa = G + 8 * PG - 100;	/* a hole after 100 bytes */
	io.done = ~0ULL;
	memset(buf, 0xff, sizeof(buf));
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_READ, &io));
	EXPECT_EQ(100ULL, io.done);
	EXPECT_EQ(-1, mem_check(buf + 100, 0xff, sizeof(buf) - 100));
	/* Exact failure: done 0, buffer untouched. */
	io.flags = 0;
	io.done = ~0ULL;
	memset(buf, 0xff, sizeof(buf));
	EXPECT_EQ(-1, ioctl(fd, GUESTMEM_READ, &io));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(0ULL, io.done);
	EXPECT_EQ(-1, mem_check(buf, 0xff, sizeof(buf)));
	/* read() at the same place: a short count, nothing past it. */
	memset(buf, 0xff, sizeof(buf));
	EXPECT_EQ(100, pread(fd, buf, 200, G + 8 * PG - 100));
	EXPECT_EQ(-1, mem_check(buf + 100, 0xff, sizeof(buf) - 100));

	/* BATCH: only `done`; the ops are input only. */
	memset(ops, 0, sizeof(ops));
	ops[0].op = GUESTMEM_OP_WRITE;
	ops[0].gpa = G;
	ops[0].len = 16;
	ops[0].buf = (uintptr_t)buf;
	ops[1].op = GUESTMEM_OP_READ;
	ops[1].gpa = G;
	ops[1].len = 16;
	ops[1].buf = (uintptr_t)(buf + 16);
	memcpy(ops0, ops, sizeof(ops));
	memset(&bt, 0, sizeof(bt));
	bt.ops = (uintptr_t)ops;
	bt.count = 2;
	bt.done = ~0U;
	bt0 = bt;
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_BATCH, &bt));
	EXPECT_EQ(2U, bt.done);
	bt0.done = bt.done;
	EXPECT_EQ(0, memcmp(&bt, &bt0, sizeof(bt)));
	EXPECT_EQ(0, memcmp(ops, ops0, sizeof(ops)));

	/* ATOMIC: only `value`, zero-extended; STORE writes nothing back. */
	memset(&at, 0, sizeof(at));
	at.gpa = G + 8;
	at.size = 1;
	at.op = GUESTMEM_ATOMIC_LOAD;
	at.value = ~0ULL;
	at.expected = 0x1234;
	at0 = at;
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_ATOMIC, &at));
	EXPECT_EQ((uint64_t)buf[8], at.value);
	at0.value = at.value;
	EXPECT_EQ(0, memcmp(&at, &at0, sizeof(at)));
	at.op = GUESTMEM_ATOMIC_STORE;
	at.value = 0x5a;
	at.expected = 0;
	at0 = at;
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_ATOMIC, &at));
	EXPECT_EQ(0, memcmp(&at, &at0, sizeof(at)));

	/* GET_DIRTY_LOG: the struct is input only; bits stop at npages. */
	memset(bm, 0xff, sizeof(bm));
	memset(&dl, 0, sizeof(dl));
	dl.gpa = G;
	dl.size = 3 * PG;
	dl.bitmap = (uintptr_t)bm;
	dl.flags = GUESTMEM_DIRTY_LOG_CLEAR;
	dl0 = dl;
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_GET_DIRTY_LOG, &dl));
	EXPECT_EQ(0, memcmp(&dl, &dl0, sizeof(dl)));
	EXPECT_EQ(1ULL, bm[0]);		/* page 0 written by the batch and atomic */
	EXPECT_EQ(~0ULL, bm[1]);	/* past the bitmap's one word */

	/* The _IOW ioctls write nothing back. */
	memset(&fl, 0, sizeof(fl));
	fl.gpa = G;
	fl.len = 10;
	fl.value = 9;
	fl0 = fl;
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_FILL, &fl));
	EXPECT_EQ(0, memcmp(&fl, &fl0, sizeof(fl)));
	memset(&cp, 0, sizeof(cp));
	cp.dst = G + 100;
	cp.src = G + 4 * PG;
	cp.len = 10;
	cp0 = cp;
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_COPY, &cp));
	EXPECT_EQ(0, memcmp(&cp, &cp0, sizeof(cp)));
	r = gm_region(G + 16 * PG, PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	r0 = r;
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_ADD_REGION, &r));
	EXPECT_EQ(0, memcmp(&r, &r0, sizeof(r)));
	ASSERT_EQ(0, ioctl(fd, GUESTMEM_REMOVE_REGION, &r));
	EXPECT_EQ(0, memcmp(&r, &r0, sizeof(r)));

	close(fd);
	munmap(mem, 4 * PG);
}

TEST_HARNESS_MAIN
