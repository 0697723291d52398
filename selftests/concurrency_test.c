// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem under concurrency: writer threads write and read back across the
 * boundaries of four stable regions (VMALLOC, anonymous USER, memfd USER,
 * VMALLOC) through the ioctls and the read/write family, reader threads
 * read across a region that comes and goes and look at the region list,
 * while a churn thread adds and removes other regions (of both backings,
 * one of them adjacent to a stable region) in a loop.  After a bounded run
 * (RUN_MS, longer if some thread has not had a turn yet, RUN_MAX_MS at
 * most), every byte of the stable regions is verified, through the ioctl
 * and through the users' own memory.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/uio.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define RUN_MS		3000
#define RUN_MAX_MS	60000		/* a machine too loaded to progress */
#define TIMEOUT_S	120		/* the harness's: never hang */

#define SB		0x10000000ULL		/* stable area */
#define SPAGES		64			/* S0..S3, 16 pages each */
#define SLEN		(SPAGES * PG)
#define SLOT0		(SB + SLEN)		/* churn slot adjacent to S3 */
#define NSLOTS		8
#define SLOT_PAGES	4
#define SLOT_GPA(k)	((k) ? SB + SLEN + (uint64_t)(k) * 16 * PG : SLOT0)
#define SLOT_SEED(k)	(0x5100 + (k))
#define NWRITERS	3
#define NREADERS	2
#define SEED0		0x77

struct shared {
	int fd;
	atomic_bool stop;
	uint8_t *shadow;		/* expected content of the stable area */
	uint8_t *s1, *s2;		/* user memory of S1 and S2 */
	uint8_t *pool;			/* user memory for USER churn regions */
	/* results */
	atomic_long errors;
	atomic_long writer_iters, reader_iters, churn_ops, churn_adds,
		    churn_removes, reads_with_slot0, reads_without_slot0;
	pthread_mutex_t lock;
	char first_error[256];
};

static void fail(struct shared *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct shared *s, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&s->errors, 1) == 0) {
		pthread_mutex_lock(&s->lock);
		va_start(ap, fmt);
		vsnprintf(s->first_error, sizeof(s->first_error), fmt, ap);
		va_end(ap);
		pthread_mutex_unlock(&s->lock);
	}
}

static uint64_t rnd(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* Write [gpa, gpa+len) from buf by one of four paths; 0 or -errno. */
static int put(int fd, int how, uint64_t gpa, uint8_t *buf, size_t len)
{
	struct iovec iov[2] = { { buf, len / 2 }, { buf + len / 2, len - len / 2 } };
	uint64_t done = 0;
	ssize_t n;
	int ret;

	switch (how) {
	case 0:
		return gm_write(fd, gpa, buf, len);
	case 1:
		ret = gm_io(fd, GUESTMEM_WRITE, gpa, buf, len, GUESTMEM_IO_PARTIAL, &done);
		return ret ? ret : done == len ? 0 : -EPROTO;
	case 2:
		n = pwrite(fd, buf, len, gpa);
		break;
	default:
		n = pwritev(fd, iov, 2, gpa);
		break;
	}
	return n < 0 ? -errno : (size_t)n == len ? 0 : -EPROTO;
}

static int get(int fd, int how, uint64_t gpa, uint8_t *buf, size_t len)
{
	struct iovec iov[2] = { { buf, len / 3 }, { buf + len / 3, len - len / 3 } };
	uint64_t done = 0;
	ssize_t n;
	int ret;

	switch (how) {
	case 0:
		return gm_read(fd, gpa, buf, len);
	case 1:
		ret = gm_io(fd, GUESTMEM_READ, gpa, buf, len, GUESTMEM_IO_PARTIAL, &done);
		return ret ? ret : done == len ? 0 : -EPROTO;
	case 2:
		n = pread(fd, buf, len, gpa);
		break;
	default:
		n = preadv(fd, iov, 2, gpa);
		break;
	}
	return n < 0 ? -errno : (size_t)n == len ? 0 : -EPROTO;
}

struct writer {
	struct shared *s;
	int id;
	pthread_t th;
};

/* Writer t owns [8 + 16t, 24 + 16t) pages: it straddles S_t | S_t+1. */
static void *writer_fn(void *arg)
{
	struct writer *w = arg;
	struct shared *s = w->s;
	const uint64_t lo = (8 + 16 * (uint64_t)w->id) * PG, span = 16 * PG;
	const uint64_t boundary = lo + 8 * PG;
	uint64_t state = 0x9e3779b97f4a7c15ULL * (w->id + 1), k;
	uint8_t *buf = malloc(span), *chk = malloc(span);

	if (!buf || !chk) {
		fail(s, "writer %d: malloc", w->id);
		return NULL;
	}
	for (k = 1; !atomic_load(&s->stop); k++) {
		uint64_t len = 1 + rnd(&state) % (3 * PG), off, gpa;
		uint64_t seed = ((uint64_t)w->id << 24) | k;
		int ret;

		if (k & 1) {	/* across the region boundary */
			uint64_t before = 1 + rnd(&state) % (len < 2 ? 1 : len - 1);

			off = boundary - (before < len ? before : len - 1) - lo;
		} else {
			off = rnd(&state) % (span - len);
		}
		gpa = SB + lo + off;
		pat_fill(buf, gpa, len, seed);
		ret = put(s->fd, k % 4, gpa, buf, len);
		if (ret) {
			fail(s, "writer %d: write path %d gpa %#llx len %llu: %d",
			     w->id, (int)(k % 4), (unsigned long long)gpa,
			     (unsigned long long)len, ret);
			break;
		}
		memcpy(s->shadow + lo + off, buf, len);
		memset(chk, 0, len);
		ret = get(s->fd, (k / 4) % 4, gpa, chk, len);
		if (ret || memcmp(chk, buf, len)) {
			fail(s, "writer %d: read back path %d gpa %#llx len %llu: %d",
			     w->id, (int)((k / 4) % 4), (unsigned long long)gpa,
			     (unsigned long long)len, ret);
			break;
		}
		if (k % 16 == 0) {
			ret = gm_read(s->fd, SB + lo, chk, span);
			if (ret || memcmp(chk, s->shadow + lo, span)) {
				fail(s, "writer %d: slice differs: %d", w->id, ret);
				break;
			}
		}
		atomic_fetch_add(&s->writer_iters, 1);
	}
	free(buf);
	free(chk);
	return NULL;
}

/* Every byte of a churn slot read back is 0 or the slot's pattern. */
static bool slot_bytes_ok(const uint8_t *buf, uint64_t gpa, size_t len, int k)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] && buf[i] != pat(gpa + i, SLOT_SEED(k)))
			return false;
	return true;
}

struct reader {
	struct shared *s;
	int id;
	pthread_t th;
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	struct shared *s = r->s;
	const size_t blen = 16 * PG;
	uint8_t *buf = mmap(NULL, blen, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct guestmem_region list[4 + NSLOTS + 2];
	uint64_t state = 0x1234567ULL + r->id, it;

	if (buf == MAP_FAILED) {
		fail(s, "reader %d: mmap", r->id);
		return NULL;
	}
	for (it = 0; !atomic_load(&s->stop); it++) {
		/* The static tail of S3: [56, 64) pages is never written. */
		const uint64_t tail = SB + 60 * PG;
		struct guestmem_region_list l;
		uint64_t done = 0, pos;
		uint32_t i;
		ssize_t n;
		int ret, k;

		/* Fresh pages now and then, so the copies fault. */
		if (it % 8 == 0)
			madvise(buf, blen, MADV_DONTNEED);

		/* Exact: S3's tail and slot 0, present or not. */
		memset(buf, 0xee, 8 * PG);
		ret = gm_read(s->fd, tail, buf, 8 * PG);
		if (ret == 0) {
			if (pat_check(buf, tail, 4 * PG, SEED0) != -1 ||
			    !slot_bytes_ok(buf + 4 * PG, SLOT0, 4 * PG, 0))
				fail(s, "reader %d: bad bytes in exact read", r->id);
			atomic_fetch_add(&s->reads_with_slot0, 1);
		} else if (ret == -ENXIO) {
			if (mem_check(buf, 0xee, 8 * PG) != -1)
				fail(s, "reader %d: failed exact read moved bytes", r->id);
			atomic_fetch_add(&s->reads_without_slot0, 1);
		} else {
			fail(s, "reader %d: exact read: %d", r->id, ret);
		}

		/*
		 * Partial: S3's 4 pages, and up to 4 more of slot 0 (all of
		 * them unless it went away in the middle), never past it.
		 */
		ret = gm_io(s->fd, GUESTMEM_READ, tail, buf, 12 * PG,
			    GUESTMEM_IO_PARTIAL, &done);
		if (ret || done < 4 * PG || done > 8 * PG)
			fail(s, "reader %d: partial read: %d done %llu", r->id,
			     ret, (unsigned long long)done);
		else if (pat_check(buf, tail, 4 * PG, SEED0) != -1 ||
			 !slot_bytes_ok(buf + 4 * PG, SLOT0, done - 4 * PG, 0))
			fail(s, "reader %d: bad bytes in partial read", r->id);

		/*
		 * A whole churn slot through pread: all of it, or a short
		 * count if the region went away in the middle, or ENXIO.
		 */
		k = 1 + rnd(&state) % (NSLOTS - 1);
		memset(buf, 0xee, SLOT_PAGES * PG);
		n = pread(s->fd, buf, SLOT_PAGES * PG, SLOT_GPA(k));
		if (n > 0 && n <= (ssize_t)(SLOT_PAGES * PG)) {
			if (!slot_bytes_ok(buf, SLOT_GPA(k), n, k))
				fail(s, "reader %d: bad bytes in slot %d", r->id, k);
		} else if (!(n < 0 && errno == ENXIO)) {
			fail(s, "reader %d: pread slot %d: %zd errno %d", r->id, k,
			     n, errno);
		}

		/* The region list: sorted, disjoint, the stable four in it. */
		memset(&l, 0, sizeof(l));
		l.count = sizeof(list) / sizeof(list[0]);
		l.regions = (uintptr_t)list;
		ret = gm_ioctl(s->fd, GUESTMEM_GET_REGIONS, &l);
		if (ret || l.count < 4 || l.count > 4 + NSLOTS) {
			fail(s, "reader %d: GET_REGIONS %d count %u", r->id, ret, l.count);
		} else {
			int stable = 0;

			for (i = 0; i < l.count; i++) {
				if (i && list[i - 1].gpa + list[i - 1].size > list[i].gpa)
					fail(s, "reader %d: region list unsorted", r->id);
				if (list[i].gpa >= SB && list[i].gpa < SB + SLEN)
					stable++;
			}
			if (stable != 4)
				fail(s, "reader %d: %d stable regions listed", r->id, stable);
		}

		/* SEEK_HOLE after S3: at slot 0's start or end. */
		pos = raw_lseek(s->fd, tail, SEEK_HOLE);
		if (pos != SLOT0 && pos != SLOT0 + SLOT_PAGES * PG)
			fail(s, "reader %d: SEEK_HOLE %#llx", r->id,
			     (unsigned long long)pos);

		atomic_fetch_add(&s->reader_iters, 1);
	}
	munmap(buf, blen);
	return NULL;
}

static void *churn_fn(void *arg)
{
	struct shared *s = arg;
	bool present[NSLOTS] = { false };
	uint64_t state = 42, it;
	uint8_t *buf = malloc(SLOT_PAGES * PG);
	int k, ret;

	if (!buf) {
		fail(s, "churn: malloc");
		return NULL;
	}
	for (it = 0; !atomic_load(&s->stop); it++) {
		k = rnd(&state) % NSLOTS;
		if (present[k]) {
			ret = gm_remove(s->fd, SLOT_GPA(k), SLOT_PAGES * PG);
			if (ret) {
				fail(s, "churn: remove slot %d: %d", k, ret);
				break;
			}
			present[k] = false;
			atomic_fetch_add(&s->churn_removes, 1);
		} else {
			uint8_t *mem = s->pool + (size_t)k * SLOT_PAGES * PG;

			if (it & 1)
				ret = gm_add_user(s->fd, SLOT_GPA(k), SLOT_PAGES * PG, mem);
			else
				ret = gm_add_vmalloc(s->fd, SLOT_GPA(k), SLOT_PAGES * PG);
			if (ret) {
				fail(s, "churn: add slot %d: %d", k, ret);
				break;
			}
			present[k] = true;
			atomic_fetch_add(&s->churn_adds, 1);
			pat_fill(buf, SLOT_GPA(k), SLOT_PAGES * PG, SLOT_SEED(k));
			ret = gm_write(s->fd, SLOT_GPA(k), buf, SLOT_PAGES * PG);
			if (ret) {
				fail(s, "churn: write slot %d: %d", k, ret);
				break;
			}
		}
		/* Overlapping a stable region is refused, whatever else goes on. */
		if (it % 16 == 0) {
			ret = gm_add_vmalloc(s->fd, SB + SLEN - PG, 2 * PG);
			if (ret != -EEXIST)
				fail(s, "churn: overlapping add: %d", ret);
		}
		atomic_fetch_add(&s->churn_ops, 1);
	}
	for (k = 0; k < NSLOTS; k++) {
		if (present[k]) {
			ret = gm_remove(s->fd, SLOT_GPA(k), SLOT_PAGES * PG);
			if (ret)
				fail(s, "churn: final remove slot %d: %d", k, ret);
			else
				atomic_fetch_add(&s->churn_removes, 1);
		}
	}
	free(buf);
	return NULL;
}

/* Go on until @min_ms have passed and @progress holds, or @max_ms. */
static bool keep_running(uint64_t start, unsigned int min_ms,
			 unsigned int max_ms, bool progress)
{
	uint64_t t = now_ms() - start;

	return t < min_ms || (!progress && t < max_ms);
}

FIXTURE(conc) {
	int unused;
};

FIXTURE_SETUP(conc)
{
}

FIXTURE_TEARDOWN(conc)
{
}

TEST_F_TIMEOUT(conc, readers_writers_and_churn, TIMEOUT_S)
{
	struct writer w[NWRITERS];
	struct reader r[NREADERS];
	struct guestmem_info info;
	pthread_t churn;
	struct shared *s = calloc(1, sizeof(*s));
	uint8_t *buf;
	int memfd, i;
	uint64_t start;

	ASSERT_NE(NULL, s);
	pthread_mutex_init(&s->lock, NULL);
	s->fd = gm_open();
	ASSERT_LE(0, s->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
	s->shadow = malloc(SLEN);
	buf = malloc(SLEN);
	s->s1 = map_anon(16 * PG);
	s->pool = map_anon(NSLOTS * SLOT_PAGES * PG);
	ASSERT_NE(NULL, s->shadow);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, s->s1);
	ASSERT_NE(NULL, s->pool);
	memset(s->pool, 0, NSLOTS * SLOT_PAGES * PG);
	memfd = memfd_create("guestmem-conc", MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, 16 * PG));
	s->s2 = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, s->s2);

	ASSERT_EQ(0, gm_add_vmalloc(s->fd, SB, 16 * PG));
	ASSERT_EQ(0, gm_add_user(s->fd, SB + 16 * PG, 16 * PG, s->s1));
	ASSERT_EQ(0, gm_add_user(s->fd, SB + 32 * PG, 16 * PG, s->s2));
	ASSERT_EQ(0, gm_add_vmalloc(s->fd, SB + 48 * PG, 16 * PG));
	pat_fill(s->shadow, SB, SLEN, SEED0);
	ASSERT_EQ(0, gm_write(s->fd, SB, s->shadow, SLEN));

	for (i = 0; i < NWRITERS; i++) {
		w[i].s = s;
		w[i].id = i;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, writer_fn, &w[i]));
	}
	for (i = 0; i < NREADERS; i++) {
		r[i].s = s;
		r[i].id = i;
		ASSERT_EQ(0, pthread_create(&r[i].th, NULL, reader_fn, &r[i]));
	}
	ASSERT_EQ(0, pthread_create(&churn, NULL, churn_fn, s));

	/* Every kind of thread must have had its turns, however loaded. */
	start = now_ms();
	while (keep_running(start, RUN_MS, RUN_MAX_MS,
			    atomic_load(&s->writer_iters) &&
			    atomic_load(&s->reader_iters) &&
			    atomic_load(&s->churn_ops)) &&
	       !atomic_load(&s->errors))
		sleep_ms(50);
	atomic_store(&s->stop, true);
	for (i = 0; i < NWRITERS; i++)
		pthread_join(w[i].th, NULL);
	for (i = 0; i < NREADERS; i++)
		pthread_join(r[i].th, NULL);
	pthread_join(churn, NULL);

	TH_LOG("%ld writer, %ld reader iterations; %ld churn ops (%ld adds, %ld removes); exact reads with/without slot 0: %ld/%ld",
	       atomic_load(&s->writer_iters), atomic_load(&s->reader_iters),
	       atomic_load(&s->churn_ops), atomic_load(&s->churn_adds),
	       atomic_load(&s->churn_removes), atomic_load(&s->reads_with_slot0),
	       atomic_load(&s->reads_without_slot0));
	EXPECT_EQ(0, atomic_load(&s->errors)) TH_LOG("first error: %s", s->first_error);
	EXPECT_LT(0, atomic_load(&s->writer_iters));
	EXPECT_LT(0, atomic_load(&s->reader_iters));
	EXPECT_LT(0, atomic_load(&s->churn_ops));

	/* The stable area holds exactly what the writers last wrote. */
	memset(buf, 0, SLEN);
	ASSERT_EQ(0, gm_read(s->fd, SB, buf, SLEN));
	for (i = 0; i < SPAGES; i++) {
		EXPECT_EQ(0, memcmp(buf + i * PG, s->shadow + i * PG, PG))
			TH_LOG("stable page %d differs", i);
	}
	EXPECT_EQ(0, memcmp(s->s1, s->shadow + 16 * PG, 16 * PG));
	EXPECT_EQ(0, memcmp(s->s2, s->shadow + 32 * PG, 16 * PG));
	ASSERT_EQ((ssize_t)(16 * PG), pread(memfd, buf, 16 * PG, 0));
	EXPECT_EQ(0, memcmp(buf, s->shadow + 32 * PG, 16 * PG));

	/* Only the stable regions are left; every add and remove counted. */
	ASSERT_EQ(0, gm_info(s->fd, &info));
	EXPECT_EQ(4U, info.num_regions);
	EXPECT_EQ(SLEN, info.total_size);
	EXPECT_EQ((uint64_t)(4 + atomic_load(&s->churn_adds) +
			     atomic_load(&s->churn_removes)), info.generation);
	EXPECT_EQ(atomic_load(&s->churn_adds), atomic_load(&s->churn_removes));

	close(s->fd);
	close(memfd);
}

/*
 * Removing a region under other threads' long reads, then closing the last
 * fd while they are still reading: no use after free (the kernel's KASAN is
 * watching), every read either whole or ENXIO, then EBADF.
 */
struct hammer {
	int fd;
	atomic_bool stop;
	atomic_long bad, ok, enxio, closed;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	const size_t len = 64 * PG;
	uint8_t *buf = malloc(len);

	if (!buf) {
		atomic_fetch_add(&h->bad, 1);
		return NULL;
	}
	while (!atomic_load(&h->stop)) {
		int ret = gm_read(h->fd, SB, buf, len);

		if (ret == -EBADF) {
			atomic_fetch_add(&h->closed, 1);
			break;
		}
		if (ret == 0) {
			if (!slot_bytes_ok(buf, SB, len, 0))
				atomic_fetch_add(&h->bad, 1);
			atomic_fetch_add(&h->ok, 1);
		} else if (ret == -ENXIO) {
			atomic_fetch_add(&h->enxio, 1);
		} else {
			atomic_fetch_add(&h->bad, 1);
		}
	}
	free(buf);
	return NULL;
}

TEST_F_TIMEOUT(conc, remove_under_long_reads, TIMEOUT_S)
{
	struct hammer h = { 0 };
	pthread_t th[2];
	uint8_t *buf = malloc(64 * PG), *mem = map_anon(64 * PG);
	uint64_t start;
	int i, rounds = 0, fd2;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, mem);
	h.fd = gm_open();
	ASSERT_LE(0, h.fd);
	pat_fill(buf, SB, 64 * PG, SLOT_SEED(0));
	memcpy(mem, buf, 64 * PG);
	fd2 = dup(h.fd);
	ASSERT_LE(0, fd2);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_create(&th[i], NULL, hammer_fn, &h));
	}

	/* Until the readers have seen both the region and the hole. */
	start = now_ms();
	while (keep_running(start, RUN_MS / 2, RUN_MAX_MS,
			    atomic_load(&h.ok) && atomic_load(&h.enxio))) {
		int ret = rounds & 1 ? gm_add_user(fd2, SB, 64 * PG, mem)
				     : gm_add_vmalloc(fd2, SB, 64 * PG);

		ASSERT_EQ(0, ret);
		if (!(rounds & 1)) {
			ASSERT_EQ(0, gm_write(fd2, SB, buf, 64 * PG));
		}
		sleep_ms(1);
		ASSERT_EQ(0, gm_remove(fd2, SB, 64 * PG));
		sleep_ms(1);
		rounds++;
	}
	/* Leave a region in place and close every fd while they read. */
	ASSERT_EQ(0, gm_add_user(fd2, SB, 64 * PG, mem));
	ASSERT_EQ(0, close(fd2));
	sleep_ms(20);
	ASSERT_EQ(0, close(h.fd));
	sleep_ms(100);
	atomic_store(&h.stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	TH_LOG("%d add/remove rounds; reads: %ld whole, %ld ENXIO; %ld saw EBADF",
	       rounds, atomic_load(&h.ok), atomic_load(&h.enxio),
	       atomic_load(&h.closed));
	EXPECT_EQ(0, atomic_load(&h.bad));
	EXPECT_LT(0, rounds);
	EXPECT_LT(0, atomic_load(&h.ok));
	EXPECT_LT(0, atomic_load(&h.enxio));
	munmap(mem, 64 * PG);
	free(buf);
}

TEST_HARNESS_MAIN
