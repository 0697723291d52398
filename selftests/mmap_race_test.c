// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem mmap races, bounded in time: threads (and processes) fault and
 * write pages of a mapping in a loop while the regions underneath are
 * removed and re-added (changing backing and layout), the mapping is
 * zapped (mapped again over itself), and other mappings come and go.  SIGBUS
 * is expected while a range is unbacked; it is caught per thread with
 * sigsetjmp() and counted.  What a thread reads must always be something
 * that was written there (or zero): never stale freed memory.  The kernel
 * log must stay clean (the VM runner checks it).
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define RB		0x200000000ULL	/* GPA of the raced range */
#define RPAGES		16
#define RSIZE		(RPAGES * PG)
#define NWORKERS	3
#define THREAD_MS	2000
#define PROC_MS		1000
#define RACE_MAX_MS	60000	/* a machine too loaded for progress */

/*
 * Worker w stores MAGIC | w << 40 | n (n = 1, 2, ...) in its own slot, word
 * SLOT(w) of a page.  Word ZERO_WORD of every page is never written.
 */
#define MAGIC		(0x6d6dULL << 48)
#define TAG(w)		(MAGIC | (uint64_t)(w) << 40)
#define CNT_MASK	((1ULL << 40) - 1)
#define SLOT(w)		((w) * 8)
#define ZERO_WORD	256

/* ---- per-thread SIGBUS catching ----------------------------------------- */

static __thread sigjmp_buf tls_jmp;
static __thread volatile sig_atomic_t tls_armed;

static void bus_handler(int sig, siginfo_t *si, void *ctx)
{
	if (!tls_armed) {
		signal(SIGBUS, SIG_DFL);	/* unexpected: die of it */
		return;
	}
	tls_armed = 0;
	siglongjmp(tls_jmp, 1);
}

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 16);
}

/* ---- the shared state ---------------------------------------------------- */

struct stats {
	uint64_t ok;		/* iterations with every access done */
	uint64_t sigbus;	/* iterations cut short by SIGBUS */
	uint64_t stale;		/* own slot lost to a region swap: allowed */
	uint64_t bad;		/* a value nobody wrote: never allowed */
	uint64_t bad_value;	/* the first such value */
	uint64_t bad_where;	/* and where (offset in the mapping) */
	uint64_t errors;	/* failed syscalls (madvise, mmap, ...) */
};

struct race {
	int fd;
	uint8_t *map;		/* RSIZE at RB, MAP_SHARED */
	uint8_t *umem;		/* the USER incarnations' memory */
	volatile int stop;
	uint64_t *sigbus_total;	/* atomic, shared with child processes */
};

struct worker {
	struct race *r;
	unsigned int id;
	pthread_t th;
	struct stats st;
};

static void note_bad(struct stats *st, uint64_t v, uint64_t where)
{
	if (!st->bad++) {
		st->bad_value = v;
		st->bad_where = where;
	}
}

/*
 * One iteration: store to the own slot of a random page, load it back, load
 * another worker's slot and the never-written word.  Returns after a SIGBUS
 * with st->sigbus bumped.
 */
static void __attribute__((noinline))
hammer_once(struct race *r, unsigned int id, uint64_t *seed, uint64_t *cnt,
	    struct stats *st)
{
	unsigned int pg = rnd(seed) % RPAGES;
	unsigned int other = (id + 1 + rnd(seed) % (NWORKERS - 1)) % NWORKERS;
	volatile uint64_t *page = (volatile uint64_t *)(r->map + pg * PG);
	uint64_t v = TAG(id) | ++*cnt;
	uint64_t got, oth, zero;

	if (sigsetjmp(tls_jmp, 1)) {
		st->sigbus++;
		__atomic_fetch_add(r->sigbus_total, 1, __ATOMIC_RELAXED);
		return;
	}
	tls_armed = 1;
	page[SLOT(id)] = v;
	got = page[SLOT(id)];
	oth = page[SLOT(other)];
	zero = page[ZERO_WORD];
	tls_armed = 0;

	st->ok++;
	/*
	 * The region may have been swapped between the store and the load:
	 * then the slot holds zero (fresh VMALLOC) or an older value of ours
	 * (USER memory keeps what was written in an earlier USER incarnation).
	 */
	if (got != v) {
		if (got == 0 || ((got & ~CNT_MASK) == TAG(id) &&
				 (got & CNT_MASK) < (v & CNT_MASK)))
			st->stale++;
		else
			note_bad(st, got, pg * PG + SLOT(id) * 8);
	}
	if (oth && ((oth >> 48) != (MAGIC >> 48) ||
		    ((oth >> 40) & 0xff) >= NWORKERS))
		note_bad(st, oth, pg * PG + SLOT(other) * 8);
	if (zero)
		note_bad(st, zero, pg * PG + ZERO_WORD * 8);
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct race *r = w->r;
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (w->id + 1), cnt = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		hammer_once(r, w->id, &seed, &cnt, &w->st);
		/*
		 * Worker 0 also zaps the whole mapping now and then: a
		 * MAP_FIXED mapping over it drops every PTE (MADV_DONTNEED
		 * is refused on PFN mappings).
		 */
		if (w->id == 0 && cnt % 64 == 0 &&
		    mmap(r->map, RSIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, r->fd, RB) != r->map)
			w->st.errors++;
	}
	return NULL;
}

/* Maps, touches and unmaps the raced range in a loop. */
static void *mapper_fn(void *arg)
{
	struct worker *w = arg;
	struct race *r = w->r;
	uint64_t seed = 12345;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		unsigned int first = rnd(&seed) % RPAGES;
		unsigned int n = 1 + rnd(&seed) % (RPAGES - first);
		volatile uint64_t *q;
		void *m;

		m = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			 r->fd, (off_t)(RB + first * PG));
		if (m == MAP_FAILED) {
			w->st.errors++;
			continue;
		}
		q = (volatile uint64_t *)((uint8_t *)m + rnd(&seed) % n * PG);
		if (sigsetjmp(tls_jmp, 1)) {
			w->st.sigbus++;
		} else {
			uint64_t zero;

			tls_armed = 1;
			zero = q[ZERO_WORD];
			tls_armed = 0;
			if (zero)
				note_bad(&w->st, zero, ZERO_WORD * 8);
			w->st.ok++;
		}
		if (munmap(m, n * PG))
			w->st.errors++;
	}
	return NULL;
}

/*
 * The layouts the remover cycles through: one VMALLOC region, one USER
 * region, then USER + VMALLOC halves.  USER memory at GPA RB + x is always
 * umem + x, so what was written there stays there.
 */
static int add_layout(struct race *r, unsigned int layout)
{
	int ret;

	switch (layout % 3) {
	case 0:
		return gm_add_vmalloc(r->fd, RB, RSIZE);
	case 1:
		return gm_add_user(r->fd, RB, RSIZE, r->umem);
	default:
		ret = gm_add_user(r->fd, RB, RSIZE / 2, r->umem);
		if (ret)
			return ret;
		return gm_add_vmalloc(r->fd, RB + RSIZE / 2, RSIZE / 2);
	}
}

static int remove_layout(struct race *r, unsigned int layout)
{
	int ret;

	if (layout % 3 != 2)
		return gm_remove(r->fd, RB, RSIZE);
	ret = gm_remove(r->fd, RB, RSIZE / 2);
	if (ret)
		return ret;
	return gm_remove(r->fd, RB + RSIZE / 2, RSIZE / 2);
}

/*
 * Remove and re-add the regions until @ms have passed and @enough(@arg)
 * says the accessors have seen what they must (RACE_MAX_MS at most).
 * Every other hole stays open until some access hit it (or 20 ms went
 * by), so that SIGBUS paths are exercised.  Returns the number of cycles,
 * or -errno on failure; the final layout is left in *layout (always added).
 */
static long remover(struct race *r, unsigned int ms, unsigned int *layout,
		    bool (*enough)(const void *arg), const void *arg)
{
	uint64_t start = now_ms(), t, before;
	long cycles = 0;
	int ret;

	for (;;) {
		t = now_ms() - start;
		if (t >= RACE_MAX_MS || (t >= ms && enough(arg)))
			break;
		before = __atomic_load_n(r->sigbus_total, __ATOMIC_RELAXED);
		ret = remove_layout(r, *layout);
		if (ret)
			return ret;
		/* Every other cycle re-adds at once, racing faults just begun. */
		t = now_ms();
		while (cycles % 2 &&
		       __atomic_load_n(r->sigbus_total, __ATOMIC_RELAXED) == before &&
		       now_ms() - t < 20)
			sched_yield();
		ret = add_layout(r, ++*layout);
		if (ret)
			return ret;
		cycles++;
		/* Let the workers fault the new pages in now and then. */
		if (cycles % 4 == 0)
			sched_yield();
	}
	return cycles;
}

FIXTURE(race) {
	struct race r;
	unsigned int layout;
};

FIXTURE_SETUP(race)
{
	ASSERT_EQ(0, sig_install(SIGBUS, bus_handler));
	memset(&self->r, 0, sizeof(self->r));
	self->r.fd = gm_open();
	ASSERT_LE(0, self->r.fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
	self->r.sigbus_total = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->r.sigbus_total);
	*self->r.sigbus_total = 0;
	self->r.umem = map_shmem(RSIZE);
	ASSERT_NE(NULL, self->r.umem);
	memset(self->r.umem, 0, RSIZE);
	self->layout = 0;
	ASSERT_EQ(0, add_layout(&self->r, self->layout));
	self->r.map = mmap(NULL, RSIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			   self->r.fd, (off_t)RB);
	ASSERT_NE(MAP_FAILED, self->r.map) TH_LOG("mmap: %s", strerror(errno));
}

FIXTURE_TEARDOWN(race)
{
	if (self->r.map && self->r.map != MAP_FAILED)
		munmap(self->r.map, RSIZE);
	if (self->r.fd >= 0)
		close(self->r.fd);
	if (self->r.umem)
		munmap(self->r.umem, RSIZE);
	if (self->r.sigbus_total && self->r.sigbus_total != MAP_FAILED)
		munmap(self->r.sigbus_total, sizeof(uint64_t));
}

/* After the race the mapping and the ioctls agree again, page by page. */
static int check_coherent(struct race *r)
{
	static uint8_t buf[RSIZE];
	volatile uint8_t *m = r->map;
	unsigned int i;

	if (sigsetjmp(tls_jmp, 1))
		return -1;
	tls_armed = 1;
	for (i = 0; i < RSIZE; i++)
		m[i] = pat(RB + i, 77);
	tls_armed = 0;
	if (gm_read(r->fd, RB, buf, RSIZE))
		return -2;
	if (pat_check(buf, RB, RSIZE, 77) != -1)
		return -3;
	pat_fill(buf, RB, RSIZE, 78);
	if (gm_write(r->fd, RB, buf, RSIZE))
		return -4;
	tls_armed = 1;
	for (i = 0; i < RSIZE; i++) {
		if (m[i] != pat(RB + i, 78)) {
			tls_armed = 0;
			return -5;
		}
	}
	tls_armed = 0;
	return 0;
}

/* Counters of other threads or processes, read while they run. */
static uint64_t peek(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* Every worker and the mapper went through, and some access hit a hole. */
static bool threads_enough(const void *arg)
{
	const struct worker *w = arg;
	uint64_t bus = 0;
	unsigned int i;

	for (i = 0; i <= NWORKERS; i++) {
		if (!peek(&w[i].st.ok))
			return false;
		if (i < NWORKERS)
			bus += peek(&w[i].st.sigbus);
	}
	return bus > 0;
}

#define EXPECT_STATS_SANE(st, who) do {					\
	EXPECT_EQ(0ULL, (st).bad) TH_LOG("%s read %#llx at map offset %#llx", \
				      who, (unsigned long long)(st).bad_value, \
				      (unsigned long long)(st).bad_where); \
	EXPECT_EQ(0ULL, (st).errors) TH_LOG("%s: failed syscalls", who);	\
	EXPECT_LT(0ULL, (st).ok) TH_LOG("%s made no progress", who);	\
} while (0)

/*
 * Threads fault and write while the regions are swapped underneath, for
 * THREAD_MS and on until each has made progress and some access hit a
 * hole, however slowly they get to run.
 */
TEST_F_TIMEOUT(race, threads_vs_remove_add, 150)
{
	struct worker w[NWORKERS + 1];
	uint64_t total_ok = 0, total_bus = 0, total_stale = 0;
	unsigned int i;
	long cycles;

	memset(w, 0, sizeof(w));
	for (i = 0; i <= NWORKERS; i++) {
		w[i].r = &self->r;
		w[i].id = i;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL,
					    i < NWORKERS ? worker_fn : mapper_fn,
					    &w[i]));
	}
	cycles = remover(&self->r, THREAD_MS, &self->layout, threads_enough, w);
	__atomic_store_n(&self->r.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i <= NWORKERS; i++) {
		ASSERT_EQ(0, pthread_join(w[i].th, NULL));
	}

	for (i = 0; i < NWORKERS; i++) {
		total_ok += w[i].st.ok;
		total_bus += w[i].st.sigbus;
		total_stale += w[i].st.stale;
	}
	ksft_print_msg("%ld remove/add cycles; workers: %llu ok, %llu SIGBUS, %llu stale; mapper: %llu ok, %llu SIGBUS\n",
		       cycles, (unsigned long long)total_ok,
		       (unsigned long long)total_bus,
		       (unsigned long long)total_stale,
		       (unsigned long long)w[NWORKERS].st.ok,
		       (unsigned long long)w[NWORKERS].st.sigbus);

	ASSERT_LT(0, cycles) TH_LOG("remove/add failed: %s", strerror((int)-cycles));
	for (i = 0; i < NWORKERS; i++) {
		EXPECT_STATS_SANE(w[i].st, "worker");
	}
	EXPECT_STATS_SANE(w[NWORKERS].st, "mapper");
	EXPECT_LT(0ULL, total_bus) TH_LOG("no access ever hit a removed region");

	EXPECT_EQ(0, check_coherent(&self->r));
}

/* What the parent and the children of the process test share. */
#define NCHILD		2

struct procs {
	struct stats st[NCHILD];
	volatile int stop;
};

/* Each child went through, and had its PTEs zapped under it. */
static bool procs_enough(const void *arg)
{
	const struct procs *p = arg;
	unsigned int i;

	for (i = 0; i < NCHILD; i++)
		if (!peek(&p->st[i].ok) || !peek(&p->st[i].sigbus))
			return false;
	return true;
}

/*
 * Wait (at most @ms) until every child has made progress past @ok[]:
 * their mappings work.
 */
static bool procs_progress(const struct procs *p, const uint64_t *ok,
			   unsigned int ms)
{
	uint64_t end = now_ms() + ms;
	unsigned int i;

	for (i = 0; i < NCHILD; i++) {
		while (peek(&p->st[i].ok) <= ok[i]) {
			if (now_ms() >= end)
				return false;
			sleep_ms(1);
		}
	}
	return true;
}

/*
 * Child processes fault and write through their inherited mapping (their
 * fd copies closed) while the parent swaps the regions (until each child
 * hit a hole), then closes its fd: the children's mappings alone keep the
 * space alive and working, and when they exit the last one out frees it
 * (uncharging the parent's USER pages).
 */
TEST_F_TIMEOUT(race, processes_vs_remove_add_then_close, 150)
{
	uint64_t ok[NCHILD];
	struct procs *p;
	struct stats *st;
	pid_t pid[NCHILD];
	long cycles, base;
	int status;
	unsigned int i;

	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, sizeof(*p));
	st = p->st;
	/* The set-up layout is VMALLOC only: nothing of ours is charged. */
	ASSERT_EQ(0U, self->layout);
	base = vmlck_kb(0);
	ASSERT_LE(0, base);

	for (i = 0; i < NCHILD; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			/* Until told, or for sure once the parent has given up. */
			uint64_t seed = 777 + i, cnt = 0;
			uint64_t end = now_ms() + 2 * RACE_MAX_MS;

			close(self->r.fd);
			while (!p->stop && now_ms() < end)
				hammer_once(&self->r, i, &seed, &cnt, &st[i]);
			_exit(0);
		}
	}
	/* The parent only needs the fd now. */
	EXPECT_EQ(0, munmap(self->r.map, RSIZE));
	self->r.map = NULL;

	cycles = remover(&self->r, PROC_MS, &self->layout, procs_enough, p);
	/* End on a USER layout so that the children free pinned pages. */
	if (cycles > 0 && self->layout % 3 == 0) {
		EXPECT_EQ(0, remove_layout(&self->r, self->layout));
		EXPECT_EQ(0, add_layout(&self->r, ++self->layout));
	}
	EXPECT_EQ(0, close(self->r.fd));
	self->r.fd = -1;
	/* Still charged: the children's mappings hold the space... */
	EXPECT_LT(base, vmlck_kb(0));
	/* ...and it works for them. */
	for (i = 0; i < NCHILD; i++)
		ok[i] = peek(&st[i].ok);
	EXPECT_TRUE(procs_progress(p, ok, SETTLE_MS))
		TH_LOG("a child made no progress after the last close");
	p->stop = 1;

	for (i = 0; i < NCHILD; i++) {
		if (waitpid(pid[i], &status, 0) != pid[i])
			status = -1;
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("child %u: status %#x", i, status);
	}
	ksft_print_msg("%ld remove/add cycles; children: %llu+%llu ok, %llu+%llu SIGBUS\n",
		       cycles, (unsigned long long)st[0].ok,
		       (unsigned long long)st[1].ok,
		       (unsigned long long)st[0].sigbus,
		       (unsigned long long)st[1].sigbus);
	ASSERT_LT(0, cycles) TH_LOG("remove/add failed: %s", strerror((int)-cycles));
	for (i = 0; i < NCHILD; i++) {
		EXPECT_STATS_SANE(st[i], "child");
		/* Each child's PTEs must have been zapped at some point. */
		EXPECT_LT(0ULL, st[i].sigbus)
			TH_LOG("child %u never hit a removed region", i);
	}
	/* The last mapping is gone: the space and its USER pages with it. */
	EXPECT_EQ(base, wait_vmlck(0, base, SETTLE_MS));
	munmap(p, sizeof(*p));
}

TEST_HARNESS_MAIN
