// SPDX-License-Identifier: GPL-2.0
/*
 * Long calls are preemptible and killable.  With the soft-lockup detector
 * at its most sensitive (watchdog_thresh = 1: a CPU that does not schedule
 * for 2 s is reported, which fails the run), FILL, COPY, READ, WRITE and a
 * dirty-log fetch-and-clear over the largest VMALLOC region the machine
 * gives run without a report (this matters on kernels with voluntary
 * preemption, such as Debian's 6.1; a fully preemptible kernel would not
 * show it).  A process killed during a large COPY, or during a large READ
 * into memory it has not touched yet, dies within a second.
 */
#include "guestmem_util.h"
#include "kselftest_harness.h"

#define THRESH		"/proc/sys/kernel/watchdog_thresh"
#define B		0x9000000000ULL
#define MB		(1ULL << 20)

/*
 * The largest VMALLOC, DIRTY_LOG region the machine gives, at B, leaving
 * room for what the tests add (a buffer of half the region) and for the
 * rest of the system: region and buffer take at most half of MemAvailable.
 * A region the allocator would give but that leaves the machine nothing
 * sets off the OOM killer, a kernel report.
 */
static uint64_t add_big(int fd)
{
	static const uint64_t sizes[] = { 1024 * MB, 768 * MB, 512 * MB,
					  256 * MB, 128 * MB };
	long avail_kb = proc_file_kb("/proc/meminfo", "MemAvailable");
	unsigned int i;

	if (avail_kb <= 0)
		return 0;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		if (sizes[i] / 2 * 3 > (uint64_t)avail_kb * 1024 / 2)
			continue;
		if (!gm_add(fd, B, sizes[i], 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_DIRTY_LOG))
			return sizes[i];
	}
	return 0;
}

FIXTURE(big) {
	uint64_t thresh;
	uint64_t size;
	int fd;
};

FIXTURE_SETUP(big)
{
	self->fd = gm_open();
	ASSERT_LE(0, self->fd);
	if (read_file_u64(THRESH, &self->thresh))
		self->thresh = 0;
	else
		ASSERT_EQ(0, write_file_u64(THRESH, 1));
	self->size = add_big(self->fd);
	ASSERT_NE(0ULL, self->size);
	TH_LOG("region of %llu MiB", (unsigned long long)(self->size / MB));
}

FIXTURE_TEARDOWN(big)
{
	close(self->fd);
	if (self->thresh)
		EXPECT_EQ(0, write_file_u64(THRESH, self->thresh));
}

TEST_F(big, no_lockup)
{
	uint64_t half = self->size / 2, t, done, n = half / PG;
	uint64_t *bitmap;
	uint8_t *buf;

	bitmap = calloc(self->size / PG / 64, 8);
	ASSERT_NE(NULL, bitmap);
	t = now_ms();
	EXPECT_EQ(0, gm_fill(self->fd, B, self->size, 0x5a));
	TH_LOG("FILL %llu MiB: %llu ms", (unsigned long long)(self->size / MB),
	       (unsigned long long)(now_ms() - t));
	t = now_ms();
	EXPECT_EQ(0, gm_dirty_log(self->fd, B, self->size, bitmap,
				  GUESTMEM_DIRTY_LOG_CLEAR));
	TH_LOG("dirty fetch and clear: %llu ms",
	       (unsigned long long)(now_ms() - t));
	EXPECT_EQ(~0ULL, bitmap[0]);
	EXPECT_EQ(~0ULL, bitmap[self->size / PG / 64 - 1]);
	t = now_ms();
	EXPECT_EQ(0, gm_copy(self->fd, B + half, B, half));
	TH_LOG("COPY %llu MiB: %llu ms", (unsigned long long)(half / MB),
	       (unsigned long long)(now_ms() - t));
	t = now_ms();
	EXPECT_EQ(0, gm_dirty_log(self->fd, B, self->size, bitmap, 0));
	TH_LOG("dirty fetch: %llu ms", (unsigned long long)(now_ms() - t));
	EXPECT_EQ(0ULL, bitmap[0]);
	EXPECT_EQ(~0ULL, bitmap[self->size / PG / 64 - 1]);
	free(bitmap);

	/* READ into memory not touched yet, then WRITE it back. */
	buf = mmap(NULL, half, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	t = now_ms();
	EXPECT_EQ(0, gm_io(self->fd, GUESTMEM_READ, B + half, buf, half, 0,
			   &done));
	EXPECT_EQ(half, done);
	TH_LOG("READ %llu MiB: %llu ms", (unsigned long long)(half / MB),
	       (unsigned long long)(now_ms() - t));
	EXPECT_EQ(0x5a, buf[0]);
	EXPECT_EQ(0x5a, buf[half - 1]);
	buf[n / 2 * PG] = 0xa5;
	t = now_ms();
	EXPECT_EQ(0, gm_io(self->fd, GUESTMEM_WRITE, B, buf, half, 0, &done));
	EXPECT_EQ(half, done);
	TH_LOG("WRITE %llu MiB: %llu ms", (unsigned long long)(half / MB),
	       (unsigned long long)(now_ms() - t));
	munmap(buf, half);
}

/* Kill a child in the middle of @op, forever repeated; time its death. */
static uint64_t kill_during(int fd, uint64_t size, int op)
{
	uint64_t half = size / 2, done, t;
	int p[2], st;
	pid_t pid;
	char c;

	if (pipe(p))
		return ~0ULL;
	pid = fork();
	if (!pid) {
		uint8_t *buf = NULL;

		if (op)
			buf = mmap(NULL, half, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				   -1, 0);
		CHILD_CHECK(buf != MAP_FAILED);
		CHILD_CHECK(write(p[1], "s", 1) == 1);
		for (;;) {
			if (op) {
				gm_io(fd, GUESTMEM_READ, B, buf, half, 0, &done);
				madvise(buf, half, MADV_DONTNEED);
			} else {
				gm_copy(fd, B + half, B, half);
			}
		}
	}
	if (pid < 0 || read(p[0], &c, 1) != 1)
		return ~0ULL;
	/* Let it get well into the call (its start is not observable). */
	sleep_ms(300);
	t = now_ms();
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	t = now_ms() - t;
	close(p[0]);
	close(p[1]);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? t : ~0ULL;
}

TEST_F(big, killable_copy)
{
	uint64_t ms = kill_during(self->fd, self->size, 0);

	TH_LOG("killed during COPY: dead after %llu ms", (unsigned long long)ms);
	EXPECT_GT(1000ULL, ms);
}

TEST_F(big, killable_read)
{
	uint64_t ms = kill_during(self->fd, self->size, 1);

	TH_LOG("killed during READ: dead after %llu ms", (unsigned long long)ms);
	EXPECT_GT(1000ULL, ms);
}

TEST_HARNESS_MAIN
