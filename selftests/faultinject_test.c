// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem under allocation and user-copy failures (FAILSLAB,
 * FAIL_PAGE_ALLOC, FAULT_INJECTION_USERCOPY; only in the debug kernel).
 *
 * Systematic part: for each operation -- open, region add (VMALLOC with
 * DIRTY_LOG, USER anonymous, USER memfd), remove, batch, dirty-log
 * fetch-and-clear, reads and writes, mmap faults, the small ioctls and
 * close -- fail its 1st, 2nd, 3rd, ... fault point (/proc/thread-self/
 * fail-nth, which counts the slab, page allocator and user-copy points
 * together) until it runs to completion.  Every injected failure must give
 * a clean errno the contract lists, leave the space exactly as it was (or
 * as the documented partial result says: `done` of a batch or a transfer),
 * lose no dirty bit, leave nothing charged (VmLck), and the space must work
 * afterwards; page faults must be retried, never SIGBUS.  Leaks are caught
 * by the VM runner's kmemleak scan.
 *
 * Random part: a child with make-it-fail set runs a few hundred mixed
 * operations while failslab, fail_page_alloc and fail_usercopy fail a share
 * of its calls (task-filter, probability); afterwards its space matches what
 * it was told succeeded, and everything works and is released.
 *
 * Without the fault-injection debugfs files (Debian's stock kernel) the
 * fault-injection tests skip.  One test needs no fault injection: a
 * dirty-log fetch-and-clear whose bitmap faults half way must not lose the
 * bits it had already cleared.
 */
#include <setjmp.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define G		0x100000ULL
#define DBG		"/sys/kernel/debug"
#define MAXN		3000	/* fault points per operation, at most */

static const char *const fi_dirs[] = { "failslab", "fail_page_alloc",
				       "fail_usercopy" };
static const char *const fi_knobs[] = {
	"probability", "interval", "times", "space", "verbose", "task-filter",
	"ignore-gfp-wait", "ignore-gfp-highmem", "min-order",
	"verbose_ratelimit_interval_ms", "verbose_ratelimit_burst",
};
#define NDIRS	(sizeof(fi_dirs) / sizeof(fi_dirs[0]))
#define NKNOBS	(sizeof(fi_knobs) / sizeof(fi_knobs[0]))

static int put(const char *dir, const char *knob, const char *val)
{
	char path[160];
	int fd, ret = 0;
	ssize_t len = strlen(val);

	snprintf(path, sizeof(path), DBG "/%s/%s", dir, knob);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

static int get(const char *dir, const char *knob, char *val, size_t size)
{
	char path[160];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), DBG "/%s/%s", dir, knob);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, val, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	val[n] = 0;
	while (n && val[n - 1] == '\n')
		val[--n] = 0;
	return 0;
}

/* Set a knob of every fault type that has it. */
static void put_all(const char *knob, const char *val)
{
	unsigned int d;

	for (d = 0; d < NDIRS; d++)
		put(fi_dirs[d], knob, val);
}

/* ---- fail-nth --------------------------------------------------------------- */

static int nth_fd = -1;

static int arm(int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%d", n);

	return pwrite(nth_fd, b, l, 0) == l ? 0 : -errno;
}

/*
 * Was the armed fault point reached (and failed)?  Then disarm.  Reading
 * fail-nth is itself a user copy that counts: if it fails, the point was
 * not reached before.
 */
static bool fired(void)
{
	char b[16] = "";
	ssize_t r = pread(nth_fd, b, sizeof(b) - 1, 0);
	bool f = r > 0 && atoi(b) == 0;
	int i;

	for (i = 0; i < 5; i++) {
		if (pwrite(nth_fd, "0", 1, 0) == 1) {
			memset(b, 0, sizeof(b));
			if (pread(nth_fd, b, sizeof(b) - 1, 0) > 0 && atoi(b) == 0)
				break;
		}
	}
	return f;
}

/* ---- the fixture: save, configure, restore the knobs -------------------------- */

FIXTURE(fi) {
	char saved[NDIRS][NKNOBS][32];
	bool have[NDIRS][NKNOBS];
};

FIXTURE_SETUP(fi)
{
	unsigned int d, k;

	if (access(DBG "/failslab", F_OK) || access(DBG "/fail_page_alloc", F_OK) ||
	    access("/proc/thread-self/fail-nth", F_OK))
		SKIP(return, "[allowed-skip] no fault injection in this kernel (%s/failslab, %s/fail_page_alloc, /proc/thread-self/fail-nth)",
		     DBG, DBG);
	for (d = 0; d < NDIRS; d++)
		for (k = 0; k < NKNOBS; k++)
			self->have[d][k] = !get(fi_dirs[d], fi_knobs[k],
						self->saved[d][k],
						sizeof(self->saved[d][k]));
	/*
	 * Nothing fails at random (probability 0), but fail-nth sees every
	 * allocation: also those that may sleep, highmem ones (vmalloc's
	 * pages) and order 0.  One report line per failure, no stack.
	 */
	put_all("probability", "0");
	put_all("task-filter", "Y");
	put_all("interval", "1");
	put_all("times", "-1");
	put_all("space", "0");
	put_all("verbose", "1");
	put_all("verbose_ratelimit_burst", "1000000");
	put_all("ignore-gfp-wait", "N");
	put("fail_page_alloc", "ignore-gfp-highmem", "N");
	put("fail_page_alloc", "min-order", "0");
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nth_fd);
}

FIXTURE_TEARDOWN_PARENT(fi)
{
	unsigned int d, k;

	/* The switches first, so nothing fails while the rest is restored. */
	for (d = 0; d < NDIRS; d++)
		if (self->have[d][0])
			put(fi_dirs[d], "probability", self->saved[d][0]);
	for (d = 0; d < NDIRS; d++)
		for (k = 1; k < NKNOBS; k++)
			if (self->have[d][k])
				put(fi_dirs[d], fi_knobs[k], self->saved[d][k]);
}

/* ---- helpers ------------------------------------------------------------------ */

struct sweep {
	const char *name;
	int points;		/* fault points reached (and failed) */
	int failed;		/* of those, how many failed the operation */
	int errs[8][2];		/* errno -> count */
};

static void count_err(struct sweep *s, int err)
{
	int i;

	s->failed++;
	for (i = 0; i < 8; i++) {
		if (!s->errs[i][0] || s->errs[i][0] == err) {
			s->errs[i][0] = err;
			s->errs[i][1]++;
			return;
		}
	}
}

static void report(struct sweep *s)
{
	char line[256];
	int i;

	snprintf(line, sizeof(line), "# %s: %d fault points failed, %d of them failed the call",
		 s->name, s->points, s->failed);
	for (i = 0; i < 8 && s->errs[i][0]; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s x%d",
			 i ? ", " : " (", strerror(s->errs[i][0]), s->errs[i][1]);
	printf("%s%s\n", line, s->errs[0][0] ? ")" : "");
	fflush(stdout);
}

static bool one_of(int err, const int *allowed)
{
	for (; *allowed; allowed++)
		if (*allowed == err)
			return true;
	return false;
}

static int info_of(int fd, uint32_t *n, uint64_t *gen)
{
	struct guestmem_info info;
	int ret = gm_info(fd, &info);

	*n = info.num_regions;
	*gen = info.generation;
	return ret;
}

/* Is @gpa..+len backed, holding @c, and does a write there stick? */
static int works(int fd, uint64_t gpa, uint64_t len)
{
	uint8_t *buf = malloc(len), b = 0x6b;
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = gm_read(fd, gpa, buf, len);
	if (!ret)
		ret = gm_write(fd, gpa + len - 1, &b, 1);
	if (!ret)
		ret = gm_read(fd, gpa + len - 1, buf, 1);
	if (!ret && buf[0] != b)
		ret = -EIO;
	free(buf);
	return ret;
}

static const int E_ALLOC[] = { ENOMEM, EFAULT, 0 };
static const int E_COPY[] = { EFAULT, 0 };

/* ---- the sweeps ----------------------------------------------------------------- */

TEST_F(fi, open_and_close)
{
	struct sweep s = { .name = "open" };
	int n, fd, err;

	for (n = 1; n <= MAXN; n++) {
		ASSERT_EQ(0, arm(n));
		fd = open(GM_DEV, O_RDWR | O_CLOEXEC);
		err = fd < 0 ? errno : 0;
		if (!fired()) {
			ASSERT_LE(0, fd) TH_LOG("open failed with no fault: %s", strerror(err));
			close(fd);
			break;
		}
		s.points++;
		if (fd < 0) {
			count_err(&s, err);
			ASSERT_TRUE(one_of(err, E_ALLOC)) TH_LOG("open: %s", strerror(err));
			continue;
		}
		ASSERT_EQ(0, gm_add_vmalloc(fd, G, PG));
		ASSERT_EQ(0, works(fd, G, PG));
		close(fd);
	}
	ASSERT_LE(n, MAXN);
	report(&s);

	/* Releasing a space with regions: failures in there must not matter. */
	s = (struct sweep){ .name = "close" };
	for (n = 1; n <= MAXN; n++) {
		fd = gm_open();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, gm_add(fd, G, 4 * PG, 0, GUESTMEM_BACKING_VMALLOC,
				    GUESTMEM_REGION_DIRTY_LOG));
		ASSERT_EQ(0, gm_add_vmalloc(fd, G + 4 * PG, 4 * PG));
		ASSERT_EQ(0, arm(n));
		close(fd);
		if (!fired())
			break;
		s.points++;
	}
	ASSERT_LE(n, MAXN);
	report(&s);
}

/* Add one region while failing its n-th fault point, for every n. */
static void sweep_add(struct __test_metadata *_metadata, const char *name,
		      uint32_t backing, uint32_t flags, int memfd)
{
	struct sweep s = { .name = name };
	const uint64_t size = 8 * PG;
	long lck = vmlck_kb(0);
	uint64_t gen0, gen;
	uint32_t n0, nr;
	uint8_t *mem = NULL, *buf = malloc(size);
	int n, fd = gm_open(), ret;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	/* A neighbour, so the set has something to copy. */
	ASSERT_EQ(0, gm_add_vmalloc(fd, G + 64 * PG, PG));
	for (n = 1; n <= MAXN; n++) {
		const int fillv = n & 0xff;

		if (backing == GUESTMEM_BACKING_USER) {
			/* Fresh pages each time: pinning must fault them in. */
			mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
				   memfd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS,
				   memfd, 0);
			ASSERT_NE(MAP_FAILED, mem);
			if (memfd >= 0)
				memset(mem, fillv, size);
		}
		ASSERT_EQ(0, info_of(fd, &n0, &gen0));
		ASSERT_EQ(0, arm(n));
		ret = gm_add(fd, G, size, (uintptr_t)mem, backing, flags);
		if (!fired()) {
			ASSERT_EQ(0, ret) TH_LOG("%s failed with no fault: %d", name, ret);
			n = MAXN + 1;
		} else {
			s.points++;
			if (ret) {
				count_err(&s, -ret);
				ASSERT_TRUE(one_of(-ret, E_ALLOC))
					TH_LOG("%s, fault point %d: %s", name, n, strerror(-ret));
			}
		}
		ASSERT_EQ(0, info_of(fd, &nr, &gen));
		if (ret) {
			/* Nothing happened. */
			ASSERT_EQ(n0, nr);
			ASSERT_EQ(gen0, gen);
			ASSERT_EQ(-ENXIO, gm_read(fd, G, buf, 1));
			ASSERT_EQ(lck, vmlck_kb(0)) TH_LOG("%s, fault point %d: VmLck stays charged",
							  name, n);
		} else {
			ASSERT_EQ(n0 + 1, nr);
			ASSERT_EQ(gen0 + 1, gen);
			ASSERT_EQ(0, gm_read(fd, G, buf, size));
			if (backing == GUESTMEM_BACKING_VMALLOC) {
				ASSERT_EQ(-1, mem_check(buf, 0, size));
			} else if (memfd >= 0) {
				ASSERT_EQ(-1, mem_check(buf, fillv, size))
					TH_LOG("reads %#x, user memory holds %#x", buf[0], mem[0]);
			}
			if (flags & GUESTMEM_REGION_DIRTY_LOG) {
				uint64_t bm = ~0ULL;
				struct guestmem_dirty_log dl = {
					.gpa = G, .size = size, .bitmap = (uintptr_t)&bm,
				};

				ASSERT_EQ(0, gm_ioctl(fd, GUESTMEM_GET_DIRTY_LOG, &dl));
				ASSERT_EQ(0ULL, bm);
			}
			if (flags & GUESTMEM_REGION_READONLY) {
				ASSERT_EQ(-EACCES, gm_write(fd, G, buf, 1));
			} else {
				ASSERT_EQ(0, works(fd, G, size));
			}
			ASSERT_EQ(0, gm_remove(fd, G, size));
			ASSERT_EQ(lck, wait_vmlck(0, lck, SETTLE_MS));
		}
		if (mem)
			munmap(mem, size);
	}
	ASSERT_EQ(MAXN + 2, n) TH_LOG("%s still failing after %d fault points", name, MAXN);
	ASSERT_EQ(0, works(fd, G + 64 * PG, PG));
	close(fd);
	free(buf);
	report(&s);
}

TEST_F(fi, add_vmalloc_dirty_log)
{
	sweep_add(_metadata, "add VMALLOC|DIRTY_LOG", GUESTMEM_BACKING_VMALLOC,
		  GUESTMEM_REGION_DIRTY_LOG, -1);
}

TEST_F(fi, add_user_anonymous)
{
	sweep_add(_metadata, "add USER (anonymous)", GUESTMEM_BACKING_USER, 0, -1);
}

TEST_F(fi, add_user_memfd_read_only)
{
	int mfd = memfd_create("fi", MFD_CLOEXEC);

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 8 * PG));
	sweep_add(_metadata, "add USER (memfd, READONLY|DIRTY_LOG)",
		  GUESTMEM_BACKING_USER,
		  GUESTMEM_REGION_READONLY | GUESTMEM_REGION_DIRTY_LOG, mfd);
	close(mfd);
}

/*
 * Removal never fails for want of memory (issue 14, point 8): a failed
 * allocation makes it wait for the set the last update replaced and use
 * that.  Only the copy of its argument may fail (EFAULT), before anything
 * happens.  Before, a failed allocation of the new set was ENOMEM.
 */
TEST_F(fi, remove)
{
	struct sweep s = { .name = "remove" };
	int survived = 0;
	uint8_t b;
	uint8_t *mem = map_anon(4 * PG);
	long lck = vmlck_kb(0);
	uint32_t n0, nr;
	uint64_t gen0, gen;
	int n, ret, fd = gm_open(), last;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, mem);
	memset(mem, 2, 4 * PG);
	for (last = 0; last < 2; last++) {
		/* last: removing the only region (an empty set to allocate). */
		if (!last) {
			ASSERT_EQ(0, gm_add_vmalloc(fd, G + 64 * PG, PG));
		}
		for (n = 1; n <= MAXN; n++) {
			ASSERT_EQ(0, gm_add_user(fd, G, 4 * PG, mem));
			ASSERT_EQ(0, info_of(fd, &n0, &gen0));
			ASSERT_EQ(0, arm(n));
			ret = gm_remove(fd, G, 4 * PG);
			if (!fired()) {
				ASSERT_EQ(0, ret);
				break;
			}
			s.points++;
			ASSERT_EQ(0, info_of(fd, &nr, &gen));
			if (ret) {
				count_err(&s, -ret);
				ASSERT_TRUE(one_of(-ret, E_COPY))
					TH_LOG("remove, fault point %d: %s", n, strerror(-ret));
				/* Still there, whole. */
				ASSERT_EQ(n0, nr);
				ASSERT_EQ(gen0, gen);
				ASSERT_EQ(0, works(fd, G, 4 * PG));
				ASSERT_EQ(0, gm_remove(fd, G, 4 * PG));
			} else {
				survived++;
				ASSERT_EQ(n0 - 1, nr);
				ASSERT_EQ(gen0 + 1, gen);
				ASSERT_EQ(-ENXIO, gm_read(fd, G, &b, 1));
			}
			ASSERT_EQ(lck, wait_vmlck(0, lck, SETTLE_MS));
		}
		ASSERT_LE(n, MAXN);
		if (!last) {
			ASSERT_EQ(0, gm_remove(fd, G + 64 * PG, PG));
		}
	}
	/* Each sweep failed the allocation of the new set at least once. */
	ASSERT_LE(2, survived);
	close(fd);
	munmap(mem, 4 * PG);
	report(&s);
}

/*
 * The same right after a batch add of three regions: the set that add
 * replaced has room for fewer keys than the removal of one needs, so the
 * add keeps a spare of the right size.  Before it did, the removal's
 * failed allocation found no set to take: a WARNING and ENOMEM.
 */
TEST_F(fi, remove_after_batch_add)
{
	struct guestmem_region_batch b;
	struct guestmem_region r[3];
	int survived = 0, n, i, ret, fd = gm_open();
	uint32_t n0, nr;
	uint64_t gen0, gen;
	uint8_t byte;

	ASSERT_LE(0, fd);
	for (i = 0; i < 3; i++)
		r[i] = gm_region(G + i * 2 * PG, PG, 0, GUESTMEM_BACKING_VMALLOC, 0);
	for (n = 1; n <= MAXN; n++) {
		b = (struct guestmem_region_batch){ .regions = (uintptr_t)r,
						     .count = 3 };
		ASSERT_EQ(0, gm_ioctl(fd, GUESTMEM_ADD_REGIONS, &b));
		ASSERT_EQ(0, info_of(fd, &n0, &gen0));
		ASSERT_EQ(0, arm(n));
		ret = gm_remove(fd, G, PG);
		if (!fired()) {
			ASSERT_EQ(0, ret);
			break;
		}
		ASSERT_EQ(0, info_of(fd, &nr, &gen));
		if (ret) {
			ASSERT_TRUE(one_of(-ret, E_COPY))
				TH_LOG("remove, fault point %d: %s", n, strerror(-ret));
			ASSERT_EQ(n0, nr);
			ASSERT_EQ(gen0, gen);
			ASSERT_EQ(0, gm_remove(fd, G, PG));
		} else {
			survived++;
			ASSERT_EQ(n0 - 1, nr);
			ASSERT_EQ(gen0 + 1, gen);
			ASSERT_EQ(-ENXIO, gm_read(fd, G, &byte, 1));
		}
		b = (struct guestmem_region_batch){ .regions = (uintptr_t)&r[1],
						     .count = 2 };
		ASSERT_EQ(0, gm_ioctl(fd, GUESTMEM_REMOVE_REGIONS, &b));
		ASSERT_EQ(0, info_of(fd, &nr, &gen));
		ASSERT_EQ(0U, nr);
	}
	ASSERT_LE(n, MAXN);
	/* The allocation of the new set failed at least once, and it went on. */
	ASSERT_LE(1, survived);
	close(fd);
}

/* Two adjacent regions of different backings, the boundary at B2. */
static int two_regions(int fd, uint8_t *mem)
{
	int ret = gm_add_vmalloc(fd, G, 4 * PG);

	return ret ? ret : gm_add_user(fd, G + 4 * PG, 4 * PG, mem);
}

#define B2	(G + 4 * PG)

TEST_F(fi, batch)
{
	struct sweep s = { .name = "batch" };
	uint8_t *mem = map_anon(4 * PG), a[300], b[300], got[300], chk[300];
	struct guestmem_batch_op ops[3];
	struct guestmem_batch bt;
	const uint64_t x = B2 - 150, y = B2 + 1000;
	uint8_t zero[300];
	int n, ret, fd = gm_open();
	unsigned int done, i;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, mem);
	memset(mem, 0, 4 * PG);
	memset(zero, 0, sizeof(zero));
	ASSERT_EQ(0, two_regions(fd, mem));
	pat_fill(a, x, sizeof(a), 1);
	pat_fill(b, y, sizeof(b), 2);
	for (n = 1; n <= MAXN; n++) {
		ASSERT_EQ(0, gm_write(fd, x, zero, sizeof(zero)));
		ASSERT_EQ(0, gm_write(fd, y, zero, sizeof(zero)));
		memset(ops, 0, sizeof(ops));
		ops[0].op = GUESTMEM_OP_WRITE;
		ops[0].gpa = x;
		ops[0].len = sizeof(a);
		ops[0].buf = (uintptr_t)a;
		ops[1].op = GUESTMEM_OP_READ;
		ops[1].gpa = x;
		ops[1].len = sizeof(got);
		ops[1].buf = (uintptr_t)got;
		ops[2].op = GUESTMEM_OP_WRITE;
		ops[2].gpa = y;
		ops[2].len = sizeof(b);
		ops[2].buf = (uintptr_t)b;
		memset(&bt, 0, sizeof(bt));
		bt.ops = (uintptr_t)ops;
		bt.count = 3;
		bt.done = 0xdead;
		ASSERT_EQ(0, arm(n));
		ret = gm_ioctl(fd, GUESTMEM_BATCH, &bt);
		if (!fired()) {
			ASSERT_EQ(0, ret);
			ASSERT_EQ(3U, bt.done);
			break;
		}
		s.points++;
		done = bt.done;
		if (ret) {
			count_err(&s, -ret);
			ASSERT_EQ(-EFAULT, ret);
			/* 0xdead: the header could not be read or `done` stored. */
			ASSERT_TRUE(done == 0xdead || done < 3) TH_LOG("done %u", done);
		} else {
			ASSERT_EQ(3U, done);
		}
		/* Ops before `done` ran, the failing one moved a prefix, the rest nothing. */
		ASSERT_EQ(0, gm_read(fd, x, chk, sizeof(chk)));
		if (!ret || (done != 0xdead && done >= 1)) {
			ASSERT_EQ(0, memcmp(chk, a, sizeof(a)));
		} else {
			for (i = 0; i < sizeof(chk) && chk[i] == a[i]; i++)
				;
			ASSERT_EQ(-1, mem_check(chk + i, 0, sizeof(chk) - i))
				TH_LOG("fault point %d: op 0 wrote past its prefix", n);
		}
		ASSERT_EQ(0, gm_read(fd, y, chk, sizeof(chk)));
		if (!ret) {
			ASSERT_EQ(0, memcmp(chk, b, sizeof(b)));
		} else if (done == 2) {
			for (i = 0; i < sizeof(chk) && chk[i] == b[i]; i++)
				;
			ASSERT_EQ(-1, mem_check(chk + i, 0, sizeof(chk) - i));
		} else {
			ASSERT_EQ(-1, mem_check(chk, 0, sizeof(chk)))
				TH_LOG("fault point %d: op 2 ran after op %u failed", n, done);
		}
	}
	ASSERT_LE(n, MAXN);
	close(fd);
	munmap(mem, 4 * PG);
	report(&s);
}

/* Which pages does a (non-clearing) fetch report? */
static uint64_t peek(int fd, uint64_t gpa, unsigned int pages)
{
	uint64_t bm = 0;
	struct guestmem_dirty_log dl = {
		.gpa = gpa, .size = pages * PG, .bitmap = (uintptr_t)&bm,
	};

	if (ioctl(fd, GUESTMEM_GET_DIRTY_LOG, &dl))
		return ~0ULL;
	return bm;
}

TEST_F(fi, dirty_log_fetch_and_clear)
{
	struct sweep s = { .name = "dirty log fetch-and-clear" };
	static const unsigned int pages[] = { 1, 4, 6, 7 };
	const uint64_t want = 0xd2;
	struct guestmem_dirty_log dl;
	uint8_t *mem = map_anon(4 * PG);
	uint64_t bm;
	unsigned int i;
	int n, ret, fd = gm_open();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, mem);
	memset(mem, 0, 4 * PG);
	/* Across a VMALLOC and a USER region, both logged. */
	ASSERT_EQ(0, gm_add(fd, G, 4 * PG, 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_DIRTY_LOG));
	ASSERT_EQ(0, gm_add(fd, G + 4 * PG, 4 * PG, (uintptr_t)mem,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_DIRTY_LOG));
	for (n = 1; n <= MAXN; n++) {
		peek(fd, G, 8);
		memset(&dl, 0, sizeof(dl));
		dl.gpa = G;
		dl.size = 8 * PG;
		dl.bitmap = (uintptr_t)&bm;
		dl.flags = GUESTMEM_DIRTY_LOG_CLEAR;
		ASSERT_EQ(0, gm_ioctl(fd, GUESTMEM_GET_DIRTY_LOG, &dl));
		for (i = 0; i < 4; i++) {
			ASSERT_EQ(0, gm_write(fd, G + pages[i] * PG + 9, "x", 1));
		}
		ASSERT_EQ(want, peek(fd, G, 8));
		bm = 0;
		ASSERT_EQ(0, arm(n));
		ret = gm_ioctl(fd, GUESTMEM_GET_DIRTY_LOG, &dl);
		if (!fired()) {
			ASSERT_EQ(0, ret);
			ASSERT_EQ(want, bm);
			ASSERT_EQ(0ULL, peek(fd, G, 8));
			break;
		}
		s.points++;
		if (ret) {
			count_err(&s, -ret);
			ASSERT_TRUE(one_of(-ret, E_ALLOC)) TH_LOG("%s", strerror(-ret));
			/* A failed fetch-and-clear consumed nothing. */
			ASSERT_EQ(want, peek(fd, G, 8))
				TH_LOG("fault point %d: dirty bits lost by a failed fetch (%s)",
				       n, strerror(-ret));
		} else {
			ASSERT_EQ(want, bm);
			ASSERT_EQ(0ULL, peek(fd, G, 8));
		}
	}
	ASSERT_LE(n, MAXN);
	close(fd);
	munmap(mem, 4 * PG);
	report(&s);
}

/*
 * A fetch-and-clear longer than guestmem's 32768-page step, over USER
 * regions aliasing one small buffer (so 33024 pages cost 1 MiB): a fault on
 * the second step's copy-out must not lose the first step's bits.
 */
#define BIG_REGIONS	129
#define BIG_PAGES	(BIG_REGIONS * 256)
static const unsigned int big_dirty[] = { 0, 77, 4095, 32767, 32768, 33023 };

static int big_setup(int fd, uint8_t *mem)
{
	unsigned int i;
	int ret;

	for (i = 0; i < BIG_REGIONS; i++) {
		ret = gm_add(fd, G + (uint64_t)i * 256 * PG, 256 * PG, (uintptr_t)mem,
			     GUESTMEM_BACKING_USER, GUESTMEM_REGION_DIRTY_LOG);
		if (ret)
			return ret;
	}
	return 0;
}

static int big_dirty_all(int fd)
{
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(big_dirty) / sizeof(big_dirty[0]); i++) {
		ret = gm_write(fd, G + (uint64_t)big_dirty[i] * PG, "d", 1);
		if (ret)
			return ret;
	}
	return 0;
}

/* Pages of big_dirty[] missing from @bm (or -1 if all there); extra bits too. */
static long big_check(const uint64_t *bm)
{
	unsigned int i, p, k;

	for (p = 0; p < BIG_PAGES; p++) {
		bool want = false, got = (bm[p / 64] >> (p % 64)) & 1;

		for (k = 0; k < sizeof(big_dirty) / sizeof(big_dirty[0]); k++)
			want |= big_dirty[k] == p;
		if (want != got)
			return p;
	}
	(void)i;
	return -1;
}

static int big_fetch(int fd, uint64_t *bm, bool clear)
{
	struct guestmem_dirty_log dl;

	memset(&dl, 0, sizeof(dl));
	dl.gpa = G;
	dl.size = (uint64_t)BIG_PAGES * PG;
	dl.bitmap = (uintptr_t)bm;
	dl.flags = clear ? GUESTMEM_DIRTY_LOG_CLEAR : 0;
	return gm_ioctl(fd, GUESTMEM_GET_DIRTY_LOG, &dl);
}

/* No fault injection needed: the bitmap's second part is not mapped. */
TEST(dirty_log_efault_in_second_step_loses_nothing)
{
	const size_t words = BIG_PAGES / 64, bytes = words * 8;
	uint8_t *mem = map_anon(256 * PG), *area;
	uint64_t *bm = malloc(bytes), *half;
	long bad;
	int fd = gm_open();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, bm);
	memset(mem, 0, 256 * PG);
	ASSERT_EQ(0, big_setup(fd, mem));
	ASSERT_EQ(0, big_dirty_all(fd));

	/* 4096 bytes (the first 32768 pages' bits) mapped, then nothing. */
	area = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	ASSERT_EQ(0, mprotect(area + PG, PG, PROT_NONE));
	half = (uint64_t *)area;
	EXPECT_EQ(-EFAULT, big_fetch(fd, half, true));

	/* Every written page is still reported. */
	memset(bm, 0, bytes);
	ASSERT_EQ(0, big_fetch(fd, bm, false));
	bad = big_check(bm);
	EXPECT_EQ(-1, bad) TH_LOG("page %ld: a fetch-and-clear that failed with EFAULT lost its dirty bit",
				  bad);
	close(fd);
	munmap(area, 2 * PG);
	munmap(mem, 256 * PG);
	free(bm);
}

TEST_F(fi, dirty_log_two_steps)
{
	struct sweep s = { .name = "dirty log fetch-and-clear, two steps" };
	const size_t bytes = BIG_PAGES / 64 * 8;
	uint8_t *mem = map_anon(256 * PG);
	uint64_t *bm = malloc(bytes);
	long bad;
	int n, ret, fd = gm_open();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, bm);
	memset(mem, 0, 256 * PG);
	ASSERT_EQ(0, big_setup(fd, mem));
	for (n = 1; n <= MAXN; n++) {
		ASSERT_EQ(0, big_fetch(fd, bm, true));
		ASSERT_EQ(0, big_dirty_all(fd));
		memset(bm, 0, bytes);
		ASSERT_EQ(0, arm(n));
		ret = big_fetch(fd, bm, true);
		if (!fired()) {
			ASSERT_EQ(0, ret);
			ASSERT_EQ(-1, big_check(bm));
			break;
		}
		s.points++;
		if (!ret) {
			ASSERT_EQ(-1, big_check(bm));
			continue;
		}
		count_err(&s, -ret);
		ASSERT_TRUE(one_of(-ret, E_ALLOC));
		memset(bm, 0, bytes);
		ASSERT_EQ(0, big_fetch(fd, bm, false));
		bad = big_check(bm);
		ASSERT_EQ(-1, bad) TH_LOG("fault point %d (%s): page %ld lost its dirty bit",
					  n, strerror(-ret), bad);
	}
	ASSERT_LE(n, MAXN);
	close(fd);
	munmap(mem, 256 * PG);
	free(bm);
	report(&s);
}

TEST_F(fi, read_write_paths)
{
	struct sweep s = { .name = "READ/WRITE/pread/pwrite" };
	const uint64_t gpa = B2 - 3 * PG - 17, len = 6 * PG;
	uint8_t *mem = map_anon(4 * PG), *src = malloc(len), *old = malloc(len);
	uint8_t *got = malloc(len), *chk = malloc(len);
	uint64_t done;
	int n, ret, fd = gm_open(), path;
	ssize_t r;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, got);
	ASSERT_NE(NULL, chk);
	memset(mem, 0, 4 * PG);
	ASSERT_EQ(0, two_regions(fd, mem));
	for (path = 0; path < 4; path++) {
		for (n = 1; n <= MAXN; n++) {
			pat_fill(old, gpa, len, n + 100 * path);
			pat_fill(src, gpa, len, n + 100 * path + 50);
			ASSERT_EQ(0, gm_write(fd, gpa, old, len));
			memset(got, 0xee, len);
			done = ~0ULL;
			ASSERT_EQ(0, arm(n));
			switch (path) {
			case 0:
				ret = gm_io(fd, GUESTMEM_WRITE, gpa, src, len, 0, &done);
				break;
			case 1:
				ret = gm_io(fd, GUESTMEM_READ, gpa, got, len, 0, &done);
				break;
			case 2:
				r = pwrite(fd, src, len, gpa);
				ret = r < 0 ? -errno : 0;
				done = r < 0 ? 0 : r;
				break;
			default:
				r = pread(fd, got, len, gpa);
				ret = r < 0 ? -errno : 0;
				done = r < 0 ? 0 : r;
			}
			if (!fired()) {
				ASSERT_EQ(0, ret);
				ASSERT_EQ(len, done);
				break;
			}
			s.points++;
			if (ret) {
				count_err(&s, -ret);
				ASSERT_EQ(-EFAULT, ret) TH_LOG("path %d", path);
				if (path >= 2)
					done = 0;
			}
			/* The ioctls' `done` is not stored when the struct faults. */
			if (done == ~0ULL || done == 0xdeadbeefcafeULL)
				continue;
			ASSERT_GE(len, done);
			ASSERT_EQ(0, gm_read(fd, gpa, chk, len));
			if (path == 0 || path == 2) {
				/* [0, done) written, the rest untouched. */
				ASSERT_EQ(0, memcmp(chk, src, done)) TH_LOG("path %d", path);
				ASSERT_EQ(0, memcmp(chk + done, old + done, len - done))
					TH_LOG("path %d, fault point %d: guest bytes past done=%llu changed",
					       path, n, (unsigned long long)done);
			} else {
				ASSERT_EQ(0, memcmp(chk, old, len));
				ASSERT_EQ(0, memcmp(got, old, done));
				ASSERT_EQ(-1, mem_check(got + done, 0xee, len - done))
					TH_LOG("path %d: user bytes past done=%llu written",
					       path, (unsigned long long)done);
			}
		}
		ASSERT_LE(n, MAXN);
	}
	close(fd);
	munmap(mem, 4 * PG);
	free(src);
	free(old);
	free(got);
	free(chk);
	report(&s);
}

static sigjmp_buf fault_jmp;

static void fault_handler(int sig)
{
	siglongjmp(fault_jmp, sig);
}

TEST_F(fi, mmap_faults)
{
	struct sweep s = { .name = "mmap faults" };
	uint8_t *mem = map_shmem(4 * PG), pat[8 * PG], v = 0;
	struct sigaction sa, obus, osegv;
	volatile uint8_t *m;
	int n, sig, fd = gm_open();
	bool f;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, mem);
	memset(mem, 0, 4 * PG);
	ASSERT_EQ(0, two_regions(fd, mem));
	pat_fill(pat, G, sizeof(pat), 9);
	ASSERT_EQ(0, gm_write(fd, G, pat, sizeof(pat)));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fault_handler;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	for (n = 1; n <= MAXN; n++) {
		/* A new mapping each time: its page tables must be allocated. */
		m = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, G);
		ASSERT_NE(MAP_FAILED, m);
		ASSERT_EQ(0, arm(n));
		sig = sigsetjmp(fault_jmp, 1);
		if (!sig) {
			v = m[3 * PG + 5];		/* VMALLOC */
			m[5 * PG + 7] = 0x77;		/* USER */
		}
		f = fired();
		ASSERT_EQ(0, sig) TH_LOG("fault point %d: signal %d on an access that must work",
					 n, sig);
		ASSERT_EQ(pat[3 * PG + 5], v);
		ASSERT_EQ(0x77, mem[PG + 7]);
		mem[PG + 7] = pat[5 * PG + 7];
		munmap((void *)m, 8 * PG);
		if (!f)
			break;
		s.points++;
	}
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	ASSERT_LE(n, MAXN);
	close(fd);
	munmap(mem, 4 * PG);
	report(&s);
}

/* The small ioctls: a copy fault is EFAULT and changes nothing. */
TEST_F(fi, small_ioctls)
{
	struct sweep s = { .name = "GET_INFO/GET_REGIONS/FILL/COPY/ATOMIC" };
	uint8_t *mem = map_anon(4 * PG), before[64], after[64];
	struct guestmem_region regs[4];
	struct guestmem_region_list l;
	struct guestmem_info info;
	struct guestmem_fill fl;
	struct guestmem_copy cp;
	struct guestmem_atomic at;
	int n, ret, fd = gm_open(), which;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, mem);
	memset(mem, 0x21, 4 * PG);
	ASSERT_EQ(0, two_regions(fd, mem));
	for (which = 0; which < 5; which++) {
		for (n = 1; n <= MAXN; n++) {
			ASSERT_EQ(0, gm_read(fd, B2 - 32, before, sizeof(before)));
			memset(&l, 0, sizeof(l));
			l.count = 4;
			l.regions = (uintptr_t)regs;
			memset(&fl, 0, sizeof(fl));
			fl.gpa = B2 - 32;
			fl.len = 64;
			fl.value = n & 0xff;
			memset(&cp, 0, sizeof(cp));
			cp.dst = B2 - 32;
			cp.src = G;
			cp.len = 64;
			memset(&at, 0, sizeof(at));
			at.gpa = B2 - 8;
			at.size = 8;
			at.op = GUESTMEM_ATOMIC_FETCH_ADD;
			at.value = 1;
			ASSERT_EQ(0, arm(n));
			switch (which) {
			case 0:
				ret = gm_ioctl(fd, GUESTMEM_GET_INFO, &info);
				break;
			case 1:
				ret = gm_ioctl(fd, GUESTMEM_GET_REGIONS, &l);
				break;
			case 2:
				ret = gm_ioctl(fd, GUESTMEM_FILL, &fl);
				break;
			case 3:
				ret = gm_ioctl(fd, GUESTMEM_COPY, &cp);
				break;
			default:
				ret = gm_ioctl(fd, GUESTMEM_ATOMIC, &at);
			}
			if (!fired()) {
				ASSERT_EQ(0, ret);
				break;
			}
			s.points++;
			if (!ret)
				continue;
			count_err(&s, -ret);
			ASSERT_TRUE(one_of(-ret, E_COPY)) TH_LOG("%d: %s", which, strerror(-ret));
			/* FILL and COPY read their arguments first: nothing moved. */
			ASSERT_EQ(0, gm_read(fd, B2 - 32, after, sizeof(after)));
			if (which == 2 || which == 3) {
				ASSERT_EQ(0, memcmp(before, after, sizeof(after)));
			}
		}
		ASSERT_LE(n, MAXN);
	}
	close(fd);
	munmap(mem, 4 * PG);
	report(&s);
}

/* ---- random failures for a whole process (task-filter, probability) --------------- */

#define RND_OPS		300
#define RND_SLOTS	8

static int set_make_it_fail(int v)
{
	char b[4];
	int i, fd;

	snprintf(b, sizeof(b), "%d", v);
	/* The write itself can fail while failures are on: retry. */
	for (i = 0; i < 1000; i++) {
		fd = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (write(fd, b, strlen(b)) == (ssize_t)strlen(b)) {
			close(fd);
			return 0;
		}
		close(fd);
	}
	return -1;
}

/* The child: random ops under random failures; exit status = what went wrong. */
static int random_child(void)
{
	static const int e_add[] = { ENOMEM, EFAULT, 0 };
	static const int e_remove[] = { EFAULT, 0 };
	static const int e_io[] = { EFAULT, 0 };
	static const int e_dirty[] = { ENOMEM, EFAULT, 0 };
	bool present[RND_SLOTS] = { false }, user[RND_SLOTS] = { false };
	uint8_t *mem = map_shmem(RND_SLOTS * 4 * PG), buf[3 * PG];
	uint64_t x = 88172645463325252ULL, bm;
	unsigned int i, k, slot, bad_op = 0, bad_err = 0, injected_fail = 0;
	long lck = vmlck_kb(0);
	int fd, ret = 0;
	const char *what = NULL;

	if (!mem)
		return 2;
	memset(mem, 0x13, RND_SLOTS * 4 * PG);
	fd = gm_open();
	if (fd < 0)
		return 3;
	if (set_make_it_fail(1))
		return 4;
	for (i = 0; i < RND_OPS && !what; i++) {
		uint64_t gpa;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		slot = x % RND_SLOTS;
		gpa = G + (uint64_t)slot * 4 * PG;
		switch ((x >> 8) % 6) {
		case 0:
			if (present[slot])
				break;
			user[slot] = (x >> 16) & 1;
			ret = gm_add(fd, gpa, 4 * PG,
				     user[slot] ? (uintptr_t)(mem + slot * 4 * PG) : 0,
				     user[slot] ? GUESTMEM_BACKING_USER :
						  GUESTMEM_BACKING_VMALLOC,
				     GUESTMEM_REGION_DIRTY_LOG);
			if (!ret)
				present[slot] = true;
			else if (!one_of(-ret, e_add))
				what = "add";
			break;
		case 1:
			if (!present[slot])
				break;
			ret = gm_remove(fd, gpa, 4 * PG);
			if (!ret)
				present[slot] = false;
			else if (!one_of(-ret, e_remove))
				what = "remove";
			break;
		case 2:
		case 3: {
			uint64_t done;
			bool w = (x >> 20) & 1;

			/* Across this slot and the next: exact semantics. */
			ret = gm_io(fd, w ? GUESTMEM_WRITE : GUESTMEM_READ,
				    gpa + 3 * PG, buf, 2 * PG, 0, &done);
			if (ret && ret != -ENXIO && !one_of(-ret, e_io))
				what = "read/write";
			if (ret == -ENXIO && present[slot] &&
			    (slot + 1 < RND_SLOTS && present[slot + 1]))
				what = "read/write: ENXIO over backed pages";
			break;
		}
		case 4: {
			struct guestmem_dirty_log dl = {
				.gpa = gpa, .size = 4 * PG, .bitmap = (uintptr_t)&bm,
				.flags = GUESTMEM_DIRTY_LOG_CLEAR,
			};

			ret = gm_ioctl(fd, GUESTMEM_GET_DIRTY_LOG, &dl);
			if (ret && ret != -ENXIO && !one_of(-ret, e_dirty))
				what = "dirty log";
			break;
		}
		default: {
			uint8_t *m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, gpa);

			if (m == MAP_FAILED) {
				if (errno != ENOMEM && errno != EAGAIN)
					what = "mmap";
				ret = -errno;
				break;
			}
			if (present[slot])
				buf[0] = m[PG + 3];	/* must not SIGBUS */
			/*
			 * munmap() itself allocates (maple tree nodes) and may
			 * fail under failslab; a mapping left behind would keep
			 * the space, and its locked memory, alive after close.
			 */
			for (k = 0; k < 1000 && munmap(m, 4 * PG); k++)
				;
			if (k == 1000)
				what = "munmap";
			ret = 0;
		}
		}
		if (ret)
			injected_fail++;
		if (what) {
			bad_op = i;
			bad_err = -ret;
		}
	}
	if (set_make_it_fail(0))
		return 5;
	printf("# random failures: %u ops, %u failed cleanly\n", i, injected_fail);
	if (what) {
		printf("# random failures: op %u (%s) returned %s\n", bad_op, what,
		       strerror(bad_err));
		return 6;
	}
	/* The space is what the child was told, and all of it works. */
	{
		struct guestmem_region regs[RND_SLOTS + 1];
		struct guestmem_region_list l = { .count = RND_SLOTS + 1,
						  .regions = (uintptr_t)regs };
		unsigned int n = 0, k = 0;

		if (ioctl(fd, GUESTMEM_GET_REGIONS, &l))
			return 7;
		for (i = 0; i < RND_SLOTS; i++) {
			if (!present[i])
				continue;
			n++;
			if (k >= l.count || regs[k].gpa != G + (uint64_t)i * 4 * PG)
				return 8;
			k++;
			if (works(fd, G + (uint64_t)i * 4 * PG, 4 * PG))
				return 9;
		}
		if (l.count != n)
			return 10;
	}
	close(fd);
	if (wait_vmlck(0, lck, SETTLE_MS) != lck)
		return 11;
	return 0;
}

TEST_F(fi, random_failures_in_a_process)
{
	int st;
	pid_t pid;

	put("failslab", "probability", "10");
	put("fail_page_alloc", "probability", "10");
	put("fail_usercopy", "probability", "5");
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(random_child());
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	put_all("probability", "0");
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("the child died of signal %d",
					  WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_HARNESS_MAIN
