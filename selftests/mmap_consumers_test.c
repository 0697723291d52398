// SPDX-License-Identifier: GPL-2.0
/*
 * Who else takes a guestmem mapping: debuggers and the pin-based consumers.
 *
 * Mappings are PFN mappings (VM_PFNMAP), which get_user_pages() refuses.
 * ptrace() and /proc/PID/mem fall back on the mapping's ->access and read
 * and write every backing through it (writes only into writable regions
 * through writable mappings, dirty-logged).  process_vm_readv(), io_uring
 * fixed buffers and O_DIRECT pin user pages: they fail cleanly with EFAULT,
 * and the same I/O through pread()/pwrite() on the guestmem fd works.
 * Anonymous pages of USER regions are never mapped (SIGBUS), as the kernel
 * maps an anonymous page writable in one place only; ->access still
 * reaches them.
 *
 * The space of each test:
 *   [0, 4)   VMALLOC, DIRTY_LOG
 *   [4, 8)   USER over a memfd (MAP_SHARED)
 *   [8, 10)  hole
 *   [10, 12) VMALLOC, READONLY
 *   [12, 14) USER over private anonymous memory
 * (in pages), mapped whole, shared and writable, at self->map.
 */
#include <linux/io_uring.h>
#include <linux/loop.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define NPAGES	14
#define SEED	0x6d6170ULL

FIXTURE(consumers) {
	int fd;
	int memfd;
	uint8_t *shm;		/* the memfd's own mapping, 4 pages */
	uint8_t *anon;		/* the anonymous memory of [12, 14), 2 pages */
	uint8_t *map;		/* the guestmem mapping of [0, 14) */
};

FIXTURE_SETUP(consumers)
{
	self->fd = gm_open();
	ASSERT_LE(0, self->fd);
	self->memfd = memfd_create("consumers", 0);
	ASSERT_LE(0, self->memfd);
	ASSERT_EQ(0, ftruncate(self->memfd, 4 * PG));
	self->shm = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->memfd, 0);
	ASSERT_NE(MAP_FAILED, self->shm);
	self->anon = map_anon(2 * PG);
	ASSERT_NE(NULL, self->anon);
	memset(self->anon, 0x5a, 2 * PG);

	ASSERT_EQ(0, gm_add(self->fd, 0, 4 * PG, 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_DIRTY_LOG));
	ASSERT_EQ(0, gm_add_user(self->fd, 4 * PG, 4 * PG, self->shm));
	ASSERT_EQ(0, gm_add(self->fd, 10 * PG, 2 * PG, 0,
			    GUESTMEM_BACKING_VMALLOC, GUESTMEM_REGION_READONLY));
	ASSERT_EQ(0, gm_add_user(self->fd, 12 * PG, 2 * PG, self->anon));
	ASSERT_EQ(0, gm_pat_write(self->fd, 0, 8 * PG, SEED));

	self->map = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_EQ(0, sigbus_install());
}

FIXTURE_TEARDOWN(consumers)
{
	munmap(self->map, NPAGES * PG);
	munmap(self->anon, 2 * PG);
	munmap(self->shm, 4 * PG);
	close(self->memfd);
	close(self->fd);
}

static int open_self_mem(void)
{
	return open("/proc/self/mem", O_RDWR | O_CLOEXEC);
}

/* /proc/self/mem reads every backed page, across the backing boundary. */
TEST_F(consumers, proc_mem_reads_across_backings)
{
	int mem = open_self_mem();
	size_t len = 8 * PG;
	uint8_t *buf = malloc(len);

	ASSERT_LE(0, mem);
	ASSERT_NE(NULL, buf);
	/* Before the mapping has a single PTE, and after. */
	ASSERT_EQ((ssize_t)len, pread(mem, buf, len, (uintptr_t)self->map));
	EXPECT_EQ(-1, pat_check(buf, 0, len, SEED));
	ASSERT_EQ(0, sigbus_memcpy(buf, self->map, len));
	ASSERT_EQ((ssize_t)len, pread(mem, buf, len, (uintptr_t)self->map));
	EXPECT_EQ(-1, pat_check(buf, 0, len, SEED));
	/* A read that runs into the hole stops at it. */
	EXPECT_EQ((ssize_t)PG, pread(mem, buf, 2 * PG,
				     (uintptr_t)self->map + 7 * PG));
	EXPECT_EQ(-1, pread(mem, buf, PG, (uintptr_t)self->map + 8 * PG));
	EXPECT_EQ(EIO, errno);
	/* Anonymous pages are not mapped, but ->access reaches them. */
	ASSERT_EQ((ssize_t)PG, pread(mem, buf, PG,
				     (uintptr_t)self->map + 12 * PG));
	EXPECT_EQ(-1, mem_check(buf, 0x5a, PG));
	free(buf);
	close(mem);
}

/* /proc/self/mem writes land in guest memory and in the dirty log. */
TEST_F(consumers, proc_mem_writes_are_guest_writes)
{
	uint64_t bitmap = ~0ULL;
	char msg[] = "written through /proc/self/mem";
	char back[sizeof(msg)];
	int mem = open_self_mem();

	ASSERT_LE(0, mem);
	ASSERT_EQ(0, gm_dirty_log(self->fd, 0, 4 * PG, &bitmap,
				  GUESTMEM_DIRTY_LOG_CLEAR));
	/* Across the VMALLOC|USER boundary, from page 3 into page 4. */
	ASSERT_EQ((ssize_t)sizeof(msg),
		  pwrite(mem, msg, sizeof(msg),
			 (uintptr_t)self->map + 4 * PG - 10));
	ASSERT_EQ(0, gm_read(self->fd, 4 * PG - 10, back, sizeof(back)));
	EXPECT_EQ(0, memcmp(msg, back, sizeof(msg)));
	EXPECT_EQ(0, memcmp(msg + 10, self->shm, sizeof(msg) - 10));
	ASSERT_EQ(0, gm_dirty_log(self->fd, 0, 4 * PG, &bitmap, 0));
	EXPECT_EQ(1ULL << 3, bitmap);
	/* Into anonymous memory, which the owner's mapping sees. */
	ASSERT_EQ((ssize_t)sizeof(msg),
		  pwrite(mem, msg, sizeof(msg), (uintptr_t)self->map + 12 * PG));
	EXPECT_EQ(0, memcmp(msg, self->anon, sizeof(msg)));
	close(mem);
}

/* FOLL_FORCE does not write read-only regions or read-only mappings. */
TEST_F(consumers, proc_mem_honours_read_only)
{
	uint8_t *ro = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, self->fd, 0);
	int mem = open_self_mem();
	uint8_t byte = 0xee, b;

	ASSERT_LE(0, mem);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-1, pwrite(mem, &byte, 1, (uintptr_t)self->map + 10 * PG));
	EXPECT_EQ(EIO, errno);
	ASSERT_EQ(0, gm_read(self->fd, 10 * PG, &b, 1));
	EXPECT_EQ(0, b);
	EXPECT_EQ(-1, pwrite(mem, &byte, 1, (uintptr_t)ro + 5));
	EXPECT_EQ(EIO, errno);
	ASSERT_EQ(0, gm_read(self->fd, 5, &b, 1));
	EXPECT_EQ(pat(5, SEED), b);
	/* Reading through the read-only mapping works. */
	ASSERT_EQ(1, pread(mem, &b, 1, (uintptr_t)ro + 5));
	EXPECT_EQ(pat(5, SEED), b);
	munmap(ro, 4 * PG);
	close(mem);
}

/* A debugger peeks and pokes a traced child's mapping. */
TEST_F(consumers, ptrace_peeks_and_pokes)
{
	long word, want = 0;
	uint8_t back[8];
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		for (;;)
			pause();
	}
	ASSERT_EQ(0, ptrace(PTRACE_ATTACH, pid, NULL, NULL));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, pid, self->map + 4 * PG - 4, NULL);
	ASSERT_EQ(0, errno);
	for (int i = 7; i >= 0; i--)
		want = (want << 8) | pat(4 * PG - 4 + i, SEED);
	EXPECT_EQ(want, word);
	ASSERT_EQ(0, ptrace(PTRACE_POKEDATA, pid, self->map + 4 * PG - 4,
			    (void *)0x1122334455667788L));
	ASSERT_EQ(0, gm_read(self->fd, 4 * PG - 4, back, 8));
	EXPECT_EQ(0x1122334455667788L, *(long *)back);
	/* A hole is an error, as for an unmapped address. */
	errno = 0;
	ptrace(PTRACE_PEEKDATA, pid, self->map + 8 * PG, NULL);
	EXPECT_NE(0, errno);
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, pid, NULL, NULL));
	kill(pid, SIGKILL);
	EXPECT_EQ(1000 + SIGKILL, wait_child(pid));
}

/* Anonymous pages fault with SIGBUS in the mapping; memfd pages do not. */
TEST_F(consumers, anonymous_pages_are_not_mapped)
{
	uint8_t b;

	EXPECT_EQ(-1, sigbus_load(self->map + 12 * PG));
	EXPECT_EQ(-1, sigbus_store(self->map + 13 * PG, 1));
	EXPECT_EQ(pat(4 * PG, SEED), sigbus_load(self->map + 4 * PG));
	EXPECT_EQ(0, sigbus_store(self->map + 4 * PG, 0x77));
	EXPECT_EQ(0x77, self->shm[0]);
	/* The owner's memory is untouched and still its own. */
	EXPECT_EQ(-1, mem_check(self->anon, 0x5a, 2 * PG));
	self->anon[0] = 0x11;
	EXPECT_EQ(0, gm_read(self->fd, 12 * PG, &b, 1));
	EXPECT_EQ(0x11, b);
}

/* process_vm_readv() of a mapping: EFAULT; pread() on the fd works. */
TEST_F(consumers, process_vm_readv_fails_cleanly)
{
	uint8_t buf[64];
	struct iovec local = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct iovec remote = { .iov_base = self->map + 2 * PG,
				.iov_len = sizeof(buf) };

	ASSERT_EQ(0, sigbus_memcpy(buf, self->map, sizeof(buf)));
	EXPECT_EQ(-1, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ((ssize_t)sizeof(buf), pread(self->fd, buf, sizeof(buf), 2 * PG));
	EXPECT_EQ(-1, pat_check(buf, 2 * PG, sizeof(buf), SEED));
}

static int io_uring_register_one(void *base, size_t len)
{
	struct io_uring_params p;
	struct iovec iov = { .iov_base = base, .iov_len = len };
	int ring, ret;

	memset(&p, 0, sizeof(p));
	ring = syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0)
		return -1000 - errno;
	ret = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		      &iov, 1);
	ret = ret < 0 ? -errno : 0;
	close(ring);
	return ret;
}

/* io_uring fixed buffers over a mapping: EFAULT; over plain memory: fine. */
TEST_F(consumers, io_uring_fixed_buffers_fail_cleanly)
{
	uint8_t *plain = map_anon(4 * PG);

	ASSERT_NE(NULL, plain);
	EXPECT_EQ(0, io_uring_register_one(plain, 4 * PG));
	EXPECT_EQ(-EFAULT, io_uring_register_one(self->map, 4 * PG));
	EXPECT_EQ(-EFAULT, io_uring_register_one(self->map + 4 * PG, 4 * PG));
	munmap(plain, 4 * PG);
}

/* A loop device over a file in /tmp: a block device takes O_DIRECT. */
static int loop_attach(const char *file, char *dev, size_t devlen)
{
	int ctl, n, back, loop;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -1;
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (n < 0)
		return -1;
	snprintf(dev, devlen, "/dev/loop%d", n);
	back = open(file, O_RDWR | O_CLOEXEC);
	loop = open(dev, O_RDWR | O_CLOEXEC);
	if (back < 0 || loop < 0 || ioctl(loop, LOOP_SET_FD, back)) {
		if (back >= 0)
			close(back);
		if (loop >= 0)
			close(loop);
		return -1;
	}
	close(back);
	return loop;
}

/* O_DIRECT into or out of a mapping: EFAULT; through the fd: fine. */
TEST_F(consumers, o_direct_fails_cleanly)
{
	const char *file = "/tmp/consumers-loop.img";
	uint8_t *plain = map_anon(4 * PG);
	char dev[32];
	int img, loop, dio;

	ASSERT_NE(NULL, plain);
	img = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, img);
	memset(plain, 0xc3, 4 * PG);
	ASSERT_EQ((ssize_t)(4 * PG), pwrite(img, plain, 4 * PG, 0));
	close(img);
	loop = loop_attach(file, dev, sizeof(dev));
	ASSERT_LE(0, loop) TH_LOG("no loop device: %s", strerror(errno));
	dio = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, dio);

	memset(plain, 0, 4 * PG);
	EXPECT_EQ((ssize_t)(4 * PG), pread(dio, plain, 4 * PG, 0));
	EXPECT_EQ(-1, mem_check(plain, 0xc3, 4 * PG));
	EXPECT_EQ(-1, pread(dio, self->map, 4 * PG, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pwrite(dio, self->map + 4 * PG, 4 * PG, 0));
	EXPECT_EQ(EFAULT, errno);
	/* The way to do it: an aligned bounce buffer and the fd. */
	EXPECT_EQ((ssize_t)(4 * PG), pwrite(self->fd, plain, 4 * PG, 4 * PG));
	EXPECT_EQ(-1, mem_check(self->shm, 0xc3, 4 * PG));

	close(dio);
	ioctl(loop, LOOP_CLR_FD, 0);
	close(loop);
	unlink(file);
	munmap(plain, 4 * PG);
}

TEST_HARNESS_MAIN
