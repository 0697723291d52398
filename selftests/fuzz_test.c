// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem fuzzer: random sequences of every syscall a client can make on
 * /dev/guestmem -- every ioctl (and unknown ones), read/write/pread/pwrite/
 * readv/writev/preadv/pwritev, lseek, mmap/munmap/madvise and touching the
 * mappings, open/close/dup and fork -- with random and edge values: GPAs at
 * and around region edges and near 2^64, sizes 0, 1 and huge, unknown flags,
 * ops and backings, non-zero reserved fields, and NULL, unmapped, read-only,
 * kernel, non-canonical, guard-straddling and guestmem-mapped user buffers.
 *
 * Two checks on every result:
 *  1. it is success or an errno DESIGN.md lists for that call (the table
 *     below), and
 *  2. it agrees with a model of every space (regions, dirty pages): the
 *     errno is one that applies to these arguments, `done` and counts are
 *     exact, and data written through one path reads back through another
 *     (ioctls, the read/write family and mappings), guest bytes past `done`
 *     are untouched, user bytes past what was transferred are untouched, and
 *     the dirty log reports exactly the pages written.
 *
 * The run is deterministic for a seed (children run one at a time and the
 * model is re-read from the kernel after each).  It prints its seed; replay
 * with GUESTMEM_FUZZ_SEED=<seed>, and stop right after a failing op with
 * GUESTMEM_FUZZ_OPS=<op + 1>; GUESTMEM_FUZZ_TRACE=1 prints every op.
 * GUESTMEM_FUZZ_OPS sets the number of operations (default FUZZ_OPS_DEFAULT,
 * about 10 s on the debug kernel under TCG).  Without GUESTMEM_FUZZ_SEED the
 * seed is FUZZ_SEED_DEFAULT, so that `make check` runs the same sequence
 * every time; `make stress` draws a new seed for each run (and
 * GUESTMEM_FUZZ_SEED=random does here).
 */
#include <setjmp.h>

#include "fuzz/fuzz.h"
#include "kselftest_harness.h"

/* ---- setup and the test ----------------------------------------------------- */

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

static int fuzz_timeout(void)
{
	/* Generous: about 5 ms per op on the debug kernel under TCG. */
	return 60 + env_ul("GUESTMEM_FUZZ_OPS", FUZZ_OPS_DEFAULT) / 50;
}

FIXTURE(fuzz) {
	uint64_t saved_max;
	bool have_param;
};

FIXTURE_SETUP(fuzz)
{
	self->have_param = !read_file_u64(MAX_REGIONS_PARAM, &self->saved_max);
}

FIXTURE_TEARDOWN_PARENT(fuzz)
{
	if (self->have_param)
		write_file_u64(MAX_REGIONS_PARAM, self->saved_max);
}

static int setup_memory(void)
{
	int mfd, i;

	data = guarded(DATA_SZ, PROT_READ | PROT_WRITE, -1);
	ropg = guarded(PG, PROT_READ, -1);
	argpg = guarded(PG, PROT_READ | PROT_WRITE, -1);
	regarea = guarded(PG, PROT_READ | PROT_WRITE, -1);
	bmarea = guarded(BM_SZ, PROT_READ | PROT_WRITE, -1);
	opsarea = guarded(OPS_SZ, PROT_READ | PROT_WRITE, -1);
	iovarea = guarded(PG, PROT_READ | PROT_WRITE, -1);
	pool = guarded(POOL_PAGES * PG, PROT_READ | PROT_WRITE, GUARDED_SHMEM);
	ropool = guarded(ROPOOL_PAGES * PG, PROT_READ, GUARDED_SHMEM);
	scratch = malloc(VERIFY_MAX);
	scratch2 = malloc(VERIFY_MAX);
	/* PROT_NONE rather than a hole: later mmap()s cannot land there. */
	unmapped = mmap(NULL, 16 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (unmapped == MAP_FAILED)
		unmapped = NULL;
	mfd = memfd_create("fuzz-pool", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, (MEMFD_PAGES + 1) * PG))
		return -1;
	mfpool = guarded(MEMFD_PAGES * PG, PROT_READ | PROT_WRITE, mfd);
	close(mfd);
	if (!data || !ropg || !argpg || !regarea || !bmarea || !opsarea ||
	    !iovarea || !pool || !ropool || !mfpool || !scratch || !scratch2 ||
	    !unmapped)
		return -1;
	for (i = 0; i < POOL_PAGES; i++)
		pool[i * PG] = i;
	for (i = 0; i < MEMFD_PAGES; i++)
		mfpool[i * PG] = i;
	for (i = 0; i < NSLOT; i++)
		slot_fd[i] = -1;
	return 0;
}

TEST_F_TIMEOUT(fuzz, random_syscalls, fuzz_timeout())
{
	unsigned long ops = env_ul("GUESTMEM_FUZZ_OPS", FUZZ_OPS_DEFAULT), i, ran;
	const char *s = getenv("GUESTMEM_FUZZ_SEED");
	struct sigaction sa;
	uint64_t t0, ms;
	long lck0;

	if (s && *s && strcmp(s, "random"))
		seed = strtoull(s, NULL, 0);
	else if (s && *s)
		seed = ((uint64_t)time(NULL) << 20) ^ ((uint64_t)getpid() << 8) ^ now_ms();
	else
		seed = FUZZ_SEED_DEFAULT;
	trace = env_ul("GUESTMEM_FUZZ_TRACE", 0);
	rng = seed;
	printf("# fuzz_test: seed=%#llx ops=%lu (replay with GUESTMEM_FUZZ_SEED=%#llx)\n",
	       (unsigned long long)seed, ops, (unsigned long long)seed);
	fflush(stdout);

	ASSERT_EQ(0, setup_memory());
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = touch_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));

	if (self->have_param) {
		ASSERT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, MAXREG));
		max_regions = MAXREG;
	} else {
		max_regions = ~0U;
	}
	lck0 = vmlck_kb(0);

	t0 = now_ms();
	for (ran = 0; ran < ops && !failed; ran++) {
		op_index = ran;
		run_op(true);
	}
	ms = now_ms() - t0;

	/* Everything closed and unmapped: the charges go away, the device works. */
	for (i = 0; i < NSLOT; i++)
		if (slot_fd[i] >= 0)
			close(slot_fd[i]);
	for (i = 0; i < MAXMAP; i++)
		if (maps[i].used)
			munmap(maps[i].addr, maps[i].len);
	EXPECT_EQ(lck0, wait_vmlck(0, lck0, SETTLE_MS)) TH_LOG("VmLck stays charged");

	printf("# fuzz_test: seed=%#llx ran %lu of %lu ops in %llu.%03llu s\n",
	       (unsigned long long)seed, ran, ops, (unsigned long long)ms / 1000,
	       (unsigned long long)ms % 1000);
	print_call_stats();
	print_op_times();
	ASSERT_FALSE(failed) TH_LOG("%s", fail_msg);
	{
		int fd = gm_open();
		uint8_t b = 1;

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, gm_add_vmalloc(fd, 0, PG));
		ASSERT_EQ(0, gm_write(fd, PG - 1, &b, 1));
		close(fd);
	}
}

TEST_HARNESS_MAIN
