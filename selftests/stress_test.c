// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem mixed-load stress test, bounded in time (GUESTMEM_STRESS_SECONDS,
 * default 10; `make stress` runs it for 60).
 *
 * One space, shared by threads of this process and by a forked child:
 *
 *  - stable span: three adjacent regions of different backings (VMALLOC,
 *    USER shared anonymous (shmem), USER memfd), cut into stripes that straddle page and
 *    region boundaries.  Each writer (two threads here, one thread in the
 *    child) owns every third stripe and writes random sub-ranges of its
 *    stripes through every write path (GUESTMEM_WRITE, BATCH, FILL, COPY,
 *    ATOMIC, pwrite, pwritev, stores through a shared mapping), keeps a
 *    shadow copy and reads its stripes back through every read path: what
 *    it reads must be exactly its shadow.  At the end the whole span is
 *    checked against the shadows.
 *  - churn windows (one right after the stable span, so accesses cross into
 *    it, one for the child): regions added, checked (zero or the user
 *    pages' contents), written, read back, removed and re-added, with
 *    different backings and flags.
 *  - a reader doing long exact and partial reads across every boundary,
 *    with GET_INFO/GET_REGIONS consistency checks;
 *  - a faulter touching a mapping over the stable span and the churn
 *    window (SIGBUS is allowed only in the churn window), zapping it with
 *    zapping with MAP_FIXED and mapping and unmapping small windows;
 *  - a dirty-log writer and a dirty-log fetcher (fetch-and-clear across a
 *    VMALLOC and a USER DIRTY_LOG region): a write completed before a fetch
 *    began must have been reported by that fetch or an earlier one that
 *    ended after the write began, and a page nobody wrote is never
 *    reported.
 *
 * Any error other than the expected ones, any data mismatch, or any kernel
 * report (checked by the VM runner) fails the test.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define B		0x100000000ULL		/* the stable span */
#define R0_SIZE		(1ULL << 20)		/* VMALLOC */
#define R1_SIZE		(1ULL << 20)		/* USER, shared anonymous */
#define R2_SIZE		(512ULL << 10)		/* USER, memfd */
#define SPAN		(R0_SIZE + R1_SIZE + R2_SIZE)
#define STRIPE		(4096 + 256 + 8)	/* drifts across pages and regions */
#define NSTRIPES	(SPAN / STRIPE)
#define NWRITERS	3			/* two threads and the child */
#define CHILD_WRITER	2

#define CW		(B + SPAN)		/* churn window, right after the span */
#define CW_CHILD	0x400000000ULL		/* the child's churn window */
#define CSLOTS		8
#define CSLOT_PAGES	16
#define CW_SIZE		(CSLOTS * CSLOT_PAGES * PG)

#define DB		0x200000000ULL		/* dirty-log regions */
#define D1_PAGES	192			/* VMALLOC | DIRTY_LOG */
#define D2_PAGES	64			/* USER | DIRTY_LOG, adjacent */
#define DPAGES		(D1_PAGES + D2_PAGES)

#define SEED0		0x5eedULL

/* ---- shared state ---------------------------------------------------------- */

static int gfd;
static uint8_t *shadow;			/* expected contents of the span */
static uint8_t *smap;			/* MAP_SHARED of the span */
static uint8_t *dmap;			/* MAP_SHARED of the dirty regions */
static uint64_t deadline_ms;
static volatile int stop;
static bool is_child;

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_msg[1024];
static volatile int failed;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fail_lock);
	if (!failed) {
		int n = snprintf(fail_msg, sizeof(fail_msg), "%s: ",
				 is_child ? "child" : "parent");

		va_start(ap, fmt);
		vsnprintf(fail_msg + n, sizeof(fail_msg) - n, fmt, ap);
		va_end(ap);
		failed = 1;
		printf("# FAILURE %s\n", fail_msg);
		fflush(stdout);
	}
	stop = 1;
	pthread_mutex_unlock(&fail_lock);
}

static bool running(void)
{
	return !stop && now_ms() < deadline_ms;
}

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t rn(uint64_t *s, uint64_t n)
{
	return n ? xs(s) % n : 0;
}

/* ---- per-thread SIGBUS catching --------------------------------------------- */

static __thread sigjmp_buf tls_jmp;
static __thread volatile sig_atomic_t tls_armed;

static void bus_handler(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (!tls_armed) {
		printf("# unexpected signal %d at %p\n", sig, si->si_addr);
		fflush(stdout);
		signal(sig, SIG_DFL);
		return;
	}
	tls_armed = 0;
	siglongjmp(tls_jmp, sig);
}

/* Read one byte of a mapping; false on SIGBUS. */
static bool touch_read(volatile uint8_t *p, uint8_t *v)
{
	if (sigsetjmp(tls_jmp, 1)) {
		tls_armed = 0;
		return false;
	}
	tls_armed = 1;
	*v = *p;
	tls_armed = 0;
	return true;
}

/* ---- writers: stripes of the stable span -------------------------------------- */

struct wstats {
	uint64_t writes, reads, bytes;
	uint64_t by_path[8];
};

static const char *const wpath_name[8] = {
	"ioctl", "batch", "fill", "copy", "atomic", "pwrite", "pwritev", "mmap",
};

static uint64_t stripe_gpa(unsigned int j)
{
	return B + (uint64_t)j * STRIPE;
}

/* A random stripe of writer @w. */
static unsigned int own_stripe(unsigned int w, uint64_t *rs)
{
	unsigned int n = (NSTRIPES - w + NWRITERS - 1) / NWRITERS;

	return w + NWRITERS * rn(rs, n);
}

/* An exact GUESTMEM_READ or GUESTMEM_WRITE of the space. */
static int io(unsigned long cmd, uint64_t gpa, void *buf, uint64_t len)
{
	return cmd == GUESTMEM_READ ? gm_read(gfd, gpa, buf, len) :
				      gm_write(gfd, gpa, buf, len);
}

/* Write [off, off + len) of the span with @src through a random path. */
static int write_path(unsigned int path, uint64_t off, const uint8_t *src,
		      uint64_t len, uint64_t *rs, unsigned int w)
{
	uint64_t gpa = B + off;
	struct guestmem_batch_op ops[2];
	struct guestmem_batch bt;
	struct guestmem_fill f;
	struct guestmem_copy c;
	struct guestmem_atomic a;
	struct iovec iov[2];
	uint64_t half, v;

	switch (path) {
	case 0:
		return io(GUESTMEM_WRITE, gpa, (void *)src, len);
	case 1:
		half = rn(rs, len + 1);
		memset(ops, 0, sizeof(ops));
		memset(&bt, 0, sizeof(bt));
		ops[0].op = ops[1].op = GUESTMEM_OP_WRITE;
		ops[0].gpa = gpa;
		ops[0].len = half;
		ops[0].buf = (uintptr_t)src;
		ops[1].gpa = gpa + half;
		ops[1].len = len - half;
		ops[1].buf = (uintptr_t)(src + half);
		bt.ops = (uintptr_t)ops;
		bt.count = 2;
		if (ioctl(gfd, GUESTMEM_BATCH, &bt))
			return -errno;
		return bt.done == 2 ? 0 : -EPROTO;
	case 2:
		/* src was made a run of one byte by the caller */
		memset(&f, 0, sizeof(f));
		f.gpa = gpa;
		f.len = len;
		f.value = src[0];
		return ioctl(gfd, GUESTMEM_FILL, &f) ? -errno : 0;
	case 3: {
		/* From another stripe of the same writer, through guest memory. */
		unsigned int k = own_stripe(w, rs);
		uint64_t soff = stripe_gpa(k) - B + (off - (stripe_gpa(0) - B)) % STRIPE;

		if (soff + len > stripe_gpa(k) - B + STRIPE)
			soff = stripe_gpa(k) - B + STRIPE - len;
		memset(&c, 0, sizeof(c));
		c.dst = gpa;
		c.src = B + soff;
		c.len = len;
		if (ioctl(gfd, GUESTMEM_COPY, &c))
			return -errno;
		memmove(shadow + off, shadow + soff, len);
		return 1;	/* the shadow is already updated */
	}
	case 4:
		memcpy(&v, src, 8);
		memset(&a, 0, sizeof(a));
		a.gpa = gpa;
		a.size = 8;
		a.op = GUESTMEM_ATOMIC_STORE;
		a.value = v;
		return ioctl(gfd, GUESTMEM_ATOMIC, &a) ? -errno : 0;
	case 5:
		return pwrite(gfd, src, len, gpa) == (ssize_t)len ? 0 : -EIO;
	case 6:
		half = rn(rs, len + 1);
		iov[0].iov_base = (void *)src;
		iov[0].iov_len = half;
		iov[1].iov_base = (void *)(src + half);
		iov[1].iov_len = len - half;
		return pwritev(gfd, iov, 2, gpa) == (ssize_t)len ? 0 : -EIO;
	default:
		memcpy(smap + off, src, len);
		return 0;
	}
}

/* Read [off, off + len) of the span into @dst through a random path. */
static int read_path(unsigned int path, uint64_t off, uint8_t *dst, uint64_t len)
{
	struct guestmem_batch_op op;
	struct guestmem_batch bt;
	struct iovec iov[2];

	switch (path) {
	case 0:
		return io(GUESTMEM_READ, B + off, dst, len);
	case 1:
		memset(&op, 0, sizeof(op));
		memset(&bt, 0, sizeof(bt));
		op.op = GUESTMEM_OP_READ;
		op.gpa = B + off;
		op.len = len;
		op.buf = (uintptr_t)dst;
		bt.ops = (uintptr_t)&op;
		bt.count = 1;
		return ioctl(gfd, GUESTMEM_BATCH, &bt) ? -errno : 0;
	case 2:
		return pread(gfd, dst, len, B + off) == (ssize_t)len ? 0 : -EIO;
	case 3:
		iov[0].iov_base = dst;
		iov[0].iov_len = len / 3;
		iov[1].iov_base = dst + len / 3;
		iov[1].iov_len = len - len / 3;
		return preadv(gfd, iov, 2, B + off) == (ssize_t)len ? 0 : -EIO;
	default:
		memcpy(dst, smap + off, len);
		return 0;
	}
}

struct writer {
	pthread_t th;
	unsigned int w;
	struct wstats st;
};

static void *writer_fn(void *arg)
{
	struct writer *wr = arg;
	uint64_t rs = 0x1234567ULL * (wr->w + 1) ^ now_ms();
	uint8_t *src = malloc(STRIPE), *got = malloc(STRIPE);

	if (!src || !got) {
		fail("malloc");
		return NULL;
	}
	while (running()) {
		unsigned int j = own_stripe(wr->w, &rs), path = rn(&rs, 8);
		uint64_t soff = stripe_gpa(j) - B, o, l, i;
		int ret;

		l = 1 + rn(&rs, STRIPE);
		if (path == 4)
			l = 8;
		o = rn(&rs, STRIPE - l + 1);
		if (path == 4)
			o = ((soff + o + 7) & ~7ULL) - soff;
		if (o + l > STRIPE) {
			path = 0;
			o = STRIPE - l;
		}
		for (i = 0; i < l; i++)
			src[i] = xs(&rs);
		if (path == 2)
			memset(src, src[0], l);
		ret = write_path(path, soff + o, src, l, &rs, wr->w);
		if (ret < 0) {
			fail("writer %u: %s of %llu bytes at gpa %#llx: %s",
			     wr->w, wpath_name[path], (unsigned long long)l,
			     (unsigned long long)(B + soff + o), strerror(-ret));
			break;
		}
		if (!ret)
			memcpy(shadow + soff + o, src, l);
		wr->st.writes++;
		wr->st.bytes += l;
		wr->st.by_path[path]++;

		/* Read the whole stripe back through a random path. */
		path = rn(&rs, 5);
		ret = read_path(path, soff, got, STRIPE);
		if (ret < 0) {
			fail("writer %u: read path %u at gpa %#llx: %s", wr->w,
			     path, (unsigned long long)(B + soff), strerror(-ret));
			break;
		}
		wr->st.reads++;
		if (memcmp(got, shadow + soff, STRIPE)) {
			long d = 0;

			while (got[d] == shadow[soff + d])
				d++;
			fail("writer %u: stripe %u reads %#x at gpa %#llx (read path %u), wrote %#x",
			     wr->w, j, got[d], (unsigned long long)(B + soff + d),
			     path, shadow[soff + d]);
			break;
		}
	}
	free(src);
	free(got);
	return NULL;
}

/* Check writer @w's stripes (or all bytes if w < 0) against the shadow. */
static long verify_span(int w, uint8_t *buf)
{
	uint64_t off;

	if (io(GUESTMEM_READ, B, buf, SPAN))
		return -2;
	for (off = 0; off < SPAN; off++) {
		unsigned int j = off / STRIPE;
		int owner = j < NSTRIPES ? (int)(j % NWRITERS) : -1;

		if (w >= 0 && owner != w)
			continue;
		if (buf[off] != shadow[off])
			return off;
	}
	return -1;
}

/* ---- churn -------------------------------------------------------------------- */

struct churn {
	pthread_t th;
	uint64_t base;		/* window GPA */
	uint8_t *pool;		/* CSLOTS * CSLOT_PAGES pages (shared anonymous) */
	uint8_t *mpool;		/* the same, memfd */
	uint64_t adds, removes, checked;
};

struct cslot {
	bool present;
	uint64_t pages;
	uint32_t backing, flags;
	bool memfd;
	uint8_t fill;		/* what the whole region holds now */
};

static void *churn_fn(void *arg)
{
	struct churn *c = arg;
	struct cslot slots[CSLOTS];
	uint64_t rs = 0xc0ffee ^ c->base ^ now_ms();
	uint8_t *buf = malloc(CSLOT_PAGES * PG);
	unsigned int i;

	memset(slots, 0, sizeof(slots));
	if (!buf) {
		fail("malloc");
		return NULL;
	}
	while (running()) {
		unsigned int s = rn(&rs, CSLOTS);
		struct cslot *sl = &slots[s];
		uint64_t gpa = c->base + s * CSLOT_PAGES * PG, size;
		uint8_t *user;
		long bad;
		int ret;

		if (sl->present) {
			size = sl->pages * PG;
			ret = io(GUESTMEM_READ, gpa, buf, size);
			if (ret || (bad = mem_check(buf, sl->fill, size)) != -1) {
				fail("churn: region at %#llx reads wrong (%s)",
				     (unsigned long long)gpa,
				     ret ? strerror(-ret) : "data");
				break;
			}
			ret = gm_remove(gfd, gpa, size);
			if (ret) {
				fail("churn: remove %#llx: %s",
				     (unsigned long long)gpa, strerror(-ret));
				break;
			}
			sl->present = false;
			c->removes++;
			/* Gone at once for every path. */
			ret = io(GUESTMEM_READ, gpa, buf, 1);
			if (ret != -ENXIO) {
				fail("churn: read after remove: %d", ret);
				break;
			}
			continue;
		}
		sl->pages = 1 + rn(&rs, CSLOT_PAGES);
		size = sl->pages * PG;
		sl->backing = rn(&rs, 3) ? GUESTMEM_BACKING_VMALLOC :
					   GUESTMEM_BACKING_USER;
		sl->flags = 0;
		if (!rn(&rs, 4))
			sl->flags |= GUESTMEM_REGION_DIRTY_LOG;
		if (!rn(&rs, 5))
			sl->flags |= GUESTMEM_REGION_READONLY;
		sl->memfd = rn(&rs, 2);
		user = (sl->memfd ? c->mpool : c->pool) + s * CSLOT_PAGES * PG;
		if (sl->backing == GUESTMEM_BACKING_USER) {
			sl->fill = xs(&rs);
			memset(user, sl->fill, size);
		} else {
			sl->fill = 0;
		}
		ret = gm_add(gfd, gpa, size,
			     sl->backing == GUESTMEM_BACKING_USER ? (uintptr_t)user : 0,
			     sl->backing, sl->flags);
		if (ret) {
			fail("churn: add %#llx size %#llx backing %u flags %#x: %s",
			     (unsigned long long)gpa, (unsigned long long)size,
			     sl->backing, sl->flags, strerror(-ret));
			break;
		}
		sl->present = true;
		c->adds++;
		/* New memory: zeroes, or the user pages' contents. */
		ret = io(GUESTMEM_READ, gpa, buf, size);
		if (ret || (bad = mem_check(buf, sl->fill, size)) != -1) {
			fail("churn: new region at %#llx (backing %u) does not read %#x: %s",
			     (unsigned long long)gpa, sl->backing, sl->fill,
			     ret ? strerror(-ret) : "data");
			break;
		}
		c->checked++;
		if (!(sl->flags & GUESTMEM_REGION_READONLY)) {
			struct guestmem_fill f;

			memset(&f, 0, sizeof(f));
			f.gpa = gpa;
			f.len = size;
			f.value = (uint8_t)xs(&rs);
			if (ioctl(gfd, GUESTMEM_FILL, &f)) {
				fail("churn: fill: %s", strerror(errno));
				break;
			}
			sl->fill = f.value;
		} else if (io(GUESTMEM_WRITE, gpa, buf, 1) != -EACCES) {
			fail("churn: write to a read-only region did not fail with EACCES");
			break;
		}
	}
	/* Leave the window empty. */
	for (i = 0; i < CSLOTS; i++)
		if (slots[i].present &&
		    gm_remove(gfd, c->base + i * CSLOT_PAGES * PG, slots[i].pages * PG))
			fail("churn: final remove failed");
	free(buf);
	return NULL;
}

/* ---- reader: long accesses across every boundary -------------------------------- */

struct reader {
	pthread_t th;
	uint64_t reads, partial_short, info;
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	uint64_t rs = 0xfeed ^ now_ms(), len, gpa, done;
	uint8_t *buf = malloc(SPAN + CW_SIZE);
	struct guestmem_region regs[64];
	struct guestmem_region_list l;
	struct guestmem_info info;
	int ret;
	unsigned int i;

	if (!buf) {
		fail("malloc");
		return NULL;
	}
	while (running()) {
		/* Anywhere in the span, across region boundaries. */
		len = 1 + rn(&rs, 256 << 10);
		gpa = B + rn(&rs, SPAN - len + 1);
		ret = rn(&rs, 2) ? io(GUESTMEM_READ, gpa, buf, len) :
		      pread(gfd, buf, len, gpa) == (ssize_t)len ? 0 : -EIO;
		if (ret) {
			fail("reader: %llu bytes at %#llx in the stable span: %s",
			     (unsigned long long)len, (unsigned long long)gpa,
			     strerror(-ret));
			break;
		}
		r->reads++;

		/* From the span into the churn window: exact is all or nothing. */
		gpa = B + SPAN - 1 - rn(&rs, 64 << 10);
		len = B + SPAN - gpa + rn(&rs, CW_SIZE);
		ret = gm_io(gfd, GUESTMEM_READ, gpa, buf, len, 0, &done);
		if (ret && ret != -ENXIO) {
			fail("reader: exact read into the churn window: %s",
			     strerror(-ret));
			break;
		}
		if ((!ret && done != len) || (ret && done)) {
			fail("reader: exact read: ret %d done %llu len %llu", ret,
			     (unsigned long long)done, (unsigned long long)len);
			break;
		}
		ret = gm_io(gfd, GUESTMEM_READ, gpa, buf, len,
			    GUESTMEM_IO_PARTIAL, &done);
		if (ret || done < B + SPAN - gpa || done > len) {
			fail("reader: partial read into the churn window: ret %d done %llu",
			     ret, (unsigned long long)done);
			break;
		}
		r->partial_short += done < len;

		/* Reads of the dirty-log regions never dirty a page. */
		if (!rn(&rs, 4) && io(GUESTMEM_READ, DB, buf, DPAGES * PG)) {
			fail("reader: dirty-log regions: %s", strerror(errno));
			break;
		}

		/* The region list: sorted, disjoint, stable regions there. */
		if (!rn(&rs, 8)) {
			unsigned int stable = 0;

			memset(&l, 0, sizeof(l));
			l.count = 64;
			l.regions = (uintptr_t)regs;
			if (ioctl(gfd, GUESTMEM_GET_REGIONS, &l) || l.count > 64 ||
			    gm_info(gfd, &info)) {
				fail("reader: GET_REGIONS/GET_INFO: %s", strerror(errno));
				break;
			}
			for (i = 0; i < l.count; i++) {
				if (i && regs[i].gpa < regs[i - 1].gpa + regs[i - 1].size) {
					fail("reader: GET_REGIONS unsorted or overlapping at %u", i);
					break;
				}
				stable += regs[i].gpa >= B && regs[i].gpa < B + SPAN;
			}
			if (stable != 3)
				fail("reader: %u stable regions listed", stable);
			r->info++;
		}
	}
	free(buf);
	return NULL;
}

/* ---- faulter ------------------------------------------------------------------------ */

struct faulter {
	pthread_t th;
	uint64_t churn_base;
	uint8_t *map;		/* [B, CW + CW_SIZE), or the child's window */
	uint64_t maplen, mapgpa;
	uint64_t touches, sigbus, zaps, remaps;
};

static void *faulter_fn(void *arg)
{
	struct faulter *f = arg;
	uint64_t rs = 0xfa017 ^ now_ms() ^ f->churn_base;
	uint8_t v;

	while (running()) {
		uint64_t off = rn(&rs, f->maplen), gpa = f->mapgpa + off;
		bool churn = gpa >= f->churn_base && gpa < f->churn_base + CW_SIZE;
		unsigned int act = rn(&rs, 64);

		if (act == 0) {
			uint64_t first = rn(&rs, f->maplen / PG);
			uint64_t n = 1 + rn(&rs, f->maplen / PG - first);

			/* Drop the PTEs: MADV_DONTNEED is refused on PFN maps. */
			if (mmap(f->map + first * PG, n * PG,
				 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				 gfd, f->mapgpa + first * PG) !=
			    f->map + first * PG) {
				fail("faulter: mmap MAP_FIXED: %s",
				     strerror(errno));
				break;
			}
			f->zaps++;
			continue;
		}
		if (act == 1) {
			/* A short-lived mapping of the churn window. */
			uint64_t n = 1 + rn(&rs, CW_SIZE / PG), i;
			uint8_t *p = mmap(NULL, n * PG, PROT_READ, MAP_SHARED, gfd,
					  f->churn_base);

			if (p == MAP_FAILED) {
				fail("faulter: mmap: %s", strerror(errno));
				break;
			}
			for (i = 0; i < n; i++)
				f->sigbus += !touch_read(p + i * PG, &v);
			munmap(p, n * PG);
			f->remaps++;
			continue;
		}
		if (act == 2 && !is_child) {
			/* Read faults on the dirty-log regions dirty nothing. */
			if (!touch_read(dmap + rn(&rs, DPAGES) * PG, &v)) {
				fail("faulter: SIGBUS in a dirty-log region");
				break;
			}
			continue;
		}
		f->touches++;
		if (!touch_read(f->map + off, &v)) {
			f->sigbus++;
			if (!churn) {
				fail("faulter: SIGBUS at gpa %#llx, a stable region",
				     (unsigned long long)gpa);
				break;
			}
		}
	}
	return NULL;
}

/* ---- dirty log ----------------------------------------------------------------------- */

static uint64_t *started;	/* per page: seq of the last write begun */
static uint64_t *written;	/* per page: seq of the last write completed */

struct dwriter {
	pthread_t th;
	uint64_t writes, by_path[5];
};

static void *dwriter_fn(void *arg)
{
	struct dwriter *d = arg;
	uint64_t rs = 0xd1d1 ^ now_ms(), seq = 0;

	while (running()) {
		unsigned int p = rn(&rs, DPAGES), path = rn(&rs, 5);
		uint64_t gpa = DB + (uint64_t)p * PG + 8 * rn(&rs, PG / 8);
		struct guestmem_atomic a;
		struct guestmem_fill f;
		int ret = 0;

		seq++;
		__atomic_store_n(&started[p], seq, __ATOMIC_SEQ_CST);
		switch (path) {
		case 0:
			ret = io(GUESTMEM_WRITE, gpa, &seq, 8);
			break;
		case 1:
			__atomic_store_n((uint64_t *)(dmap + (gpa - DB)), seq,
					 __ATOMIC_SEQ_CST);
			break;
		case 2:
			memset(&a, 0, sizeof(a));
			a.gpa = gpa;
			a.size = 8;
			a.op = GUESTMEM_ATOMIC_XCHG;
			a.value = seq;
			ret = ioctl(gfd, GUESTMEM_ATOMIC, &a) ? -errno : 0;
			break;
		case 3:
			memset(&f, 0, sizeof(f));
			f.gpa = gpa;
			f.len = 8;
			f.value = seq & 0xff;
			ret = ioctl(gfd, GUESTMEM_FILL, &f) ? -errno : 0;
			break;
		default:
			ret = pwrite(gfd, &seq, 8, gpa) == 8 ? 0 : -EIO;
		}
		if (ret) {
			fail("dirty writer: path %u at %#llx: %s", path,
			     (unsigned long long)gpa, strerror(-ret));
			break;
		}
		__atomic_store_n(&written[p], seq, __ATOMIC_SEQ_CST);
		d->writes++;
		d->by_path[path]++;
	}
	return NULL;
}

struct dfetcher {
	pthread_t th;
	uint64_t fetches, reported, peeks;
	uint64_t last_rep[DPAGES];
};

/*
 * One fetch-and-clear, checked: A = written[] before, E = started[] after.
 * Page p reported: someone began writing it (E[p] != 0); record E[p].
 * Then every write completed before this fetch began (A[p]) must be covered
 * by a reporting fetch that ended after that write began (last_rep[p]).
 */
static int fetch_check(struct dfetcher *d, bool clear)
{
	uint64_t a[DPAGES], e[DPAGES], bm[DPAGES / 64];
	struct guestmem_dirty_log l;
	unsigned int p;

	for (p = 0; p < DPAGES; p++)
		a[p] = __atomic_load_n(&written[p], __ATOMIC_SEQ_CST);
	memset(&l, 0, sizeof(l));
	l.gpa = DB;
	l.size = DPAGES * PG;
	l.bitmap = (uintptr_t)bm;
	l.flags = clear ? GUESTMEM_DIRTY_LOG_CLEAR : 0;
	memset(bm, 0xff, sizeof(bm));
	if (ioctl(gfd, GUESTMEM_GET_DIRTY_LOG, &l)) {
		fail("dirty fetch: %s", strerror(errno));
		return -1;
	}
	for (p = 0; p < DPAGES; p++)
		e[p] = __atomic_load_n(&started[p], __ATOMIC_SEQ_CST);
	if (!clear) {
		d->peeks++;
		for (p = 0; p < DPAGES; p++)
			if (((bm[p / 64] >> (p % 64)) & 1) && !e[p]) {
				fail("dirty peek: page %u reported, never written", p);
				return -1;
			}
		return 0;
	}
	d->fetches++;
	for (p = 0; p < DPAGES; p++) {
		if (!((bm[p / 64] >> (p % 64)) & 1))
			continue;
		if (!e[p]) {
			fail("dirty fetch: page %u reported dirty, never written", p);
			return -1;
		}
		d->last_rep[p] = e[p];
		d->reported++;
	}
	for (p = 0; p < DPAGES; p++) {
		if (a[p] > d->last_rep[p]) {
			fail("dirty fetch: page %u (gpa %#llx): the write of seq %llu completed before this fetch began, and no fetch since it began reported the page (last report covers seq %llu)",
			     p, (unsigned long long)(DB + p * PG),
			     (unsigned long long)a[p],
			     (unsigned long long)d->last_rep[p]);
			return -1;
		}
	}
	return 0;
}

static void *dfetcher_fn(void *arg)
{
	struct dfetcher *d = arg;
	uint64_t rs = 0xdf ^ now_ms();

	while (running()) {
		if (fetch_check(d, rn(&rs, 6) != 0))
			break;
		if (rn(&rs, 2))
			sched_yield();
	}
	return NULL;
}

/* ---- setup, the child, the test --------------------------------------------------- */

static unsigned long stress_seconds(void)
{
	const char *v = getenv("GUESTMEM_STRESS_SECONDS");
	unsigned long s = v && *v ? strtoul(v, NULL, 0) : 10;

	return s ? s : 1;
}

static int stress_timeout(void)
{
	return 120 + 2 * stress_seconds();
}

static uint8_t *map_shared(uint64_t gpa, uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, gpa);

	return p == MAP_FAILED ? NULL : p;
}

static int install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = bus_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) || sigaction(SIGSEGV, &sa, NULL))
		return -1;
	return 0;
}

static struct churn *new_churn(uint64_t base)
{
	struct churn *c = calloc(1, sizeof(*c));
	int mfd = memfd_create("stress-churn", MFD_CLOEXEC);

	if (!c || mfd < 0 || ftruncate(mfd, CW_SIZE))
		return NULL;
	c->base = base;
	c->pool = map_shmem(CW_SIZE);
	c->mpool = mmap(NULL, CW_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	close(mfd);
	if (!c->pool || c->mpool == MAP_FAILED)
		return NULL;
	return c;
}

/* The forked child: a writer, a churner and a faulter of its own. */
static int child_main(void)
{
	struct writer w = { .w = CHILD_WRITER };
	struct churn *c = new_churn(CW_CHILD);
	struct faulter f;
	uint8_t *buf = malloc(SPAN);
	long bad;

	is_child = true;
	memset(&f, 0, sizeof(f));
	f.churn_base = CW_CHILD;
	f.mapgpa = CW_CHILD;
	f.maplen = CW_SIZE;
	f.map = map_shared(CW_CHILD, CW_SIZE);
	if (!c || !f.map || !buf) {
		printf("# child: setup failed\n");
		return 1;
	}
	if (pthread_create(&w.th, NULL, writer_fn, &w) ||
	    pthread_create(&c->th, NULL, churn_fn, c) ||
	    pthread_create(&f.th, NULL, faulter_fn, &f)) {
		printf("# child: pthread_create failed\n");
		return 1;
	}
	pthread_join(w.th, NULL);
	pthread_join(c->th, NULL);
	pthread_join(f.th, NULL);
	if (!failed) {
		bad = verify_span(CHILD_WRITER, buf);
		if (bad != -1)
			fail("final check of the child's stripes: offset %ld", bad);
	}
	printf("# child: writer %llu writes %llu reads; churn %llu adds %llu removes; faulter %llu touches %llu SIGBUS %llu remaps\n",
	       (unsigned long long)w.st.writes, (unsigned long long)w.st.reads,
	       (unsigned long long)c->adds, (unsigned long long)c->removes,
	       (unsigned long long)f.touches, (unsigned long long)f.sigbus,
	       (unsigned long long)f.remaps);
	fflush(stdout);
	return failed ? 1 : 0;
}

FIXTURE(stress) {
	int dummy;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, mixed_load, stress_timeout())
{
	unsigned long secs = stress_seconds();
	uint8_t *u1, *u2, *ud, *buf;
	struct writer w[2];
	struct churn *c;
	struct reader rd;
	struct faulter f;
	struct dwriter dw;
	struct dfetcher *df;
	struct guestmem_info info;
	uint64_t t0, i;
	long lck0, bad;
	int mfd, st;
	pid_t pid;

	printf("# stress_test: %lu s (GUESTMEM_STRESS_SECONDS)\n", secs);
	ASSERT_EQ(0, install_handlers());
	lck0 = vmlck_kb(0);
	gfd = gm_open();
	ASSERT_LE(0, gfd);

	/* The stable span: VMALLOC | USER shared anonymous | USER memfd. */
	u1 = map_shmem(R1_SIZE);
	mfd = memfd_create("stress-span", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, R2_SIZE + D2_PAGES * PG));
	u2 = mmap(NULL, R2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ud = mmap(NULL, D2_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd,
		  R2_SIZE);
	close(mfd);
	ASSERT_NE(NULL, u1);
	ASSERT_NE(MAP_FAILED, u2);
	ASSERT_NE(MAP_FAILED, ud);
	ASSERT_EQ(0, gm_add_vmalloc(gfd, B, R0_SIZE));
	ASSERT_EQ(0, gm_add_user(gfd, B + R0_SIZE, R1_SIZE, u1));
	ASSERT_EQ(0, gm_add_user(gfd, B + R0_SIZE + R1_SIZE, R2_SIZE, u2));
	shadow = malloc(SPAN);
	buf = malloc(SPAN);
	ASSERT_NE(NULL, shadow);
	ASSERT_NE(NULL, buf);
	pat_fill(shadow, B, SPAN, SEED0);
	ASSERT_EQ(0, gm_write(gfd, B, shadow, SPAN));
	smap = map_shared(B, SPAN);
	ASSERT_NE(NULL, smap);

	/* The dirty-log regions, adjacent: VMALLOC then USER. */
	ASSERT_EQ(0, gm_add(gfd, DB, D1_PAGES * PG, 0, GUESTMEM_BACKING_VMALLOC,
			    GUESTMEM_REGION_DIRTY_LOG));
	ASSERT_EQ(0, gm_add(gfd, DB + D1_PAGES * PG, D2_PAGES * PG, (uintptr_t)ud,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_DIRTY_LOG));
	dmap = map_shared(DB, DPAGES * PG);
	ASSERT_NE(NULL, dmap);
	started = calloc(DPAGES, 8);
	written = calloc(DPAGES, 8);
	df = calloc(1, sizeof(*df));
	ASSERT_NE(NULL, started);
	ASSERT_NE(NULL, written);
	ASSERT_NE(NULL, df);

	c = new_churn(CW);
	ASSERT_NE(NULL, c);
	memset(&f, 0, sizeof(f));
	f.churn_base = CW;
	f.mapgpa = B;
	f.maplen = SPAN + CW_SIZE;
	f.map = map_shared(B, f.maplen);
	ASSERT_NE(NULL, f.map);
	memset(w, 0, sizeof(w));
	memset(&rd, 0, sizeof(rd));
	memset(&dw, 0, sizeof(dw));

	t0 = now_ms();
	deadline_ms = t0 + secs * 1000;
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(child_main());

	for (i = 0; i < 2; i++) {
		w[i].w = i;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, writer_fn, &w[i]));
	}
	ASSERT_EQ(0, pthread_create(&c->th, NULL, churn_fn, c));
	ASSERT_EQ(0, pthread_create(&rd.th, NULL, reader_fn, &rd));
	ASSERT_EQ(0, pthread_create(&f.th, NULL, faulter_fn, &f));
	ASSERT_EQ(0, pthread_create(&dw.th, NULL, dwriter_fn, &dw));
	ASSERT_EQ(0, pthread_create(&df->th, NULL, dfetcher_fn, df));

	for (i = 0; i < 2; i++)
		pthread_join(w[i].th, NULL);
	pthread_join(c->th, NULL);
	pthread_join(rd.th, NULL);
	pthread_join(f.th, NULL);
	pthread_join(dw.th, NULL);
	pthread_join(df->th, NULL);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("the child failed (status %#x)", st);

	/* Quiet now: a last fetch sees every write. */
	if (!failed)
		fetch_check(df, true);
	if (!failed) {
		bad = verify_span(0, buf);
		if (bad == -1)
			bad = verify_span(1, buf);
		if (bad != -1)
			fail("final check: span offset %ld differs from the shadow", bad);
		/* Bytes past the last stripe were never written. */
		else if (pat_check(buf + NSTRIPES * STRIPE, B + NSTRIPES * STRIPE,
				   SPAN - NSTRIPES * STRIPE, SEED0) != -1)
			fail("final check: the unowned tail changed");
	}
	ASSERT_EQ(0, gm_info(gfd, &info));
	EXPECT_EQ(5U, info.num_regions) TH_LOG("churn regions left behind");

	printf("# stress_test: ran %llu ms\n", (unsigned long long)(now_ms() - t0));
	for (i = 0; i < 2; i++)
		printf("#   writer %llu: %llu writes (%llu bytes) %llu verified reads; paths ioctl %llu batch %llu fill %llu copy %llu atomic %llu pwrite %llu pwritev %llu mmap %llu\n",
		       (unsigned long long)i, (unsigned long long)w[i].st.writes,
		       (unsigned long long)w[i].st.bytes,
		       (unsigned long long)w[i].st.reads,
		       (unsigned long long)w[i].st.by_path[0],
		       (unsigned long long)w[i].st.by_path[1],
		       (unsigned long long)w[i].st.by_path[2],
		       (unsigned long long)w[i].st.by_path[3],
		       (unsigned long long)w[i].st.by_path[4],
		       (unsigned long long)w[i].st.by_path[5],
		       (unsigned long long)w[i].st.by_path[6],
		       (unsigned long long)w[i].st.by_path[7]);
	printf("#   churn: %llu adds, %llu removes; reader: %llu span reads, %llu short partial reads, %llu region-list checks\n",
	       (unsigned long long)c->adds, (unsigned long long)c->removes,
	       (unsigned long long)rd.reads, (unsigned long long)rd.partial_short,
	       (unsigned long long)rd.info);
	printf("#   faulter: %llu touches, %llu SIGBUS (churn window), %llu zaps, %llu remaps\n",
	       (unsigned long long)f.touches, (unsigned long long)f.sigbus,
	       (unsigned long long)f.zaps, (unsigned long long)f.remaps);
	printf("#   dirty log: %llu writes, %llu fetch-and-clears (%llu pages reported), %llu peeks\n",
	       (unsigned long long)dw.writes, (unsigned long long)df->fetches,
	       (unsigned long long)df->reported, (unsigned long long)df->peeks);
	fflush(stdout);
	ASSERT_FALSE(failed) TH_LOG("%s", fail_msg);

	/* Everything goes away with the fd and the mappings. */
	munmap(smap, SPAN);
	munmap(dmap, DPAGES * PG);
	munmap(f.map, f.maplen);
	close(gfd);
	EXPECT_EQ(lck0, wait_vmlck(0, lck0, SETTLE_MS)) TH_LOG("VmLck stays charged");
}

TEST_HARNESS_MAIN
