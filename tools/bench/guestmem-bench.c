// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem-bench: guestmem against its peers, side by side, in one run.
 *
 *   guestmem-bench [-r REPS] [-t MIN_MS] [-k FILE] [-o ROW[,ROW...]] [-v]
 *
 *   -r REPS    repetitions of each row (default 9)
 *   -t MIN_MS  minimum duration of each side of one repetition (default 50)
 *   -k FILE    the run file of guestmem_bench.ko (B5, B5c, B5x), e.g.
 *              /sys/kernel/debug/guestmem_bench/run; without it those rows
 *              are skipped
 *   -o ROWS    only these rows (B1,B1x,B2,B2b,B3,B4,B4s,B5,B6)
 *   -v         also print every slice (GMSLICE lines)
 *
 * Every repetition of a row times the guestmem side and its peer in
 * alternating slices of about MIN_MS / 25 (gm, peer, peer, gm, ...) until
 * each side has run for at least MIN_MS (CLOCK_MONOTONIC) and 25 slices,
 * so that the drift and the load of the emulated machine weigh on both
 * alike.  In a repetition, a side's time per unit is the 25th percentile
 * of its slices' (other VMs on the host steal time from the emulated CPU
 * in bursts that hit some slices and not others) and the repetition's
 * ratio is the ratio of the two.  The row shows the medians over the
 * repetitions.  Each side is run a few times before its slice is
 * calibrated: qemu translates a code path the first time it runs.
 *
 * Output, parsed by scripts/bench:
 *   GMBENCH|id|guestmem|peer|ratio|target|PASS or MISS|what is measured
 *   GMRAW|id|rep|gm ns/unit|peer ns/unit|ratio|slice pairs
 *   GMSLICE|id|rep|slice|gm ns/unit|peer ns/unit      (with -v)
 *   GMDIAG|name|value
 */
#include <sys/resource.h>

#include "bench_util.h"
#include "guestmem_util.h"

#define MAX_REPS	64
#define SLICES		25	/* slices per side and repetition */
#define MAX_ROUNDS	256	/* slice pairs kept per repetition */
#define QUANTILE	0.25	/* of a side's slices: its figure */
#define KiB		1024ULL
#define MiB		(1024ULL * KiB)

/* GPAs of the main space (B1, B1x, B2, B2b, B4, B4s). */
#define GPA_MAIN	0x100000ULL		/* 4 MiB: B1, B2, B2b, B1x peer */
#define MAIN_SIZE	(4 * MiB)
#define GPA_SPLIT	0x10000000ULL		/* B1x: 4 adjacent 256 KiB regions */
#define SPLIT_SIZE	(256 * KiB)
#define GPA_WHOLE	0x20000000ULL		/* B1x: 1 MiB region, the same pages */
#define GPA_MAP		0x40000000ULL		/* 16 MiB: B4, B4s */
#define MAP_SIZE	(16 * MiB)
#define STEADY_SIZE	(4 * MiB)		/* B4s: the mapped window copied */
#define GPA_MAPU	0x80000000ULL		/* B4s: USER region on the memfd's pages */

/*
 * Where both sides of a row are guestmem (B1x, B3), they read the same
 * physical pages (USER regions over one buffer): under nested
 * virtualisation the speed of guest memory depends on where the host put
 * it, by up to 2x for memory-bound loops, which is no property of either
 * side.
 */

#define IO_LEN		(1 * MiB)		/* B1, B1x, B4s */
#define SMALL_OFF	0x80ULL			/* B2: the 8 bytes read */
#define BATCH_OPS	64			/* B2b */

/* B3: 16,384 one-page regions, one page apart, against one region. */
#define B3_REGIONS	16384
#define GPA_MANY	0x100000000ULL
#define GPA_ONE		0x100000000ULL
#define B3_TABLE	65536			/* pre-drawn random reads */

#define GPA_B6		0x200000ULL		/* B6: 2 MiB regions */
#define B6_SIZE		(2 * MiB)

enum kind { LAT, THR, INFO };

struct side {
	/* Run @n operations and return the nanoseconds they took. */
	uint64_t (*run)(uint64_t n);
	double units;		/* work units per operation */
	uint64_t n;		/* calibrated operation count */
};

struct row {
	const char *id;
	const char *group;	/* what -o selects */
	const char *what;
	enum kind kind;
	const char *unit;	/* "B" (bytes), "read", "page", "op" */
	double target;		/* LAT: ratio <= target; THR: ratio >= target */
	struct side gm, peer;
};

static int reps = 9;
static bool verbose;
static uint64_t min_ns = 50000000ULL;
static long page_size;
static volatile uint64_t sink;

static int gm_main = -1, memfd_small = -1, memfd_map = -1;
static char *iobuf;

/* The library's calls, failing the benchmark on an error. */
static int open_space(void)
{
	int fd = gm_open();

	if (fd < 0)
		die("open " GM_DEV);
	return fd;
}

static void add_region(int fd, uint64_t gpa, uint64_t size, uint32_t backing,
		       void *user)
{
	errno = -gm_add(fd, gpa, size, (uintptr_t)user, backing, 0);
	if (errno)
		die("GUESTMEM_ADD_REGION %#" PRIx64 "+%#" PRIx64, gpa, size);
}

static void remove_region(int fd, uint64_t gpa, uint64_t size)
{
	errno = -gm_remove(fd, gpa, size);
	if (errno)
		die("GUESTMEM_REMOVE_REGION %#" PRIx64, gpa);
}

/* Fill guest memory and a memfd with the same non-zero bytes. */
static void fill_pattern(int gmfd, uint64_t gpa, int mfd, uint64_t len)
{
	char *p = malloc(len);
	uint64_t i;

	if (!p)
		die("malloc");
	for (i = 0; i < len; i++)
		p[i] = (char)(i * 7 + 1);
	if (gmfd >= 0) {
		errno = -gm_write(gmfd, gpa, p, len);
		if (errno)
			die("GUESTMEM_WRITE");
	}
	if (mfd >= 0 && pwrite(mfd, p, len, 0) != (ssize_t)len)
		die("pwrite memfd");
	free(p);
}

/* Populated anonymous memory holding a pattern, for USER regions. */
static char *user_buf(uint64_t size)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	uint64_t i;

	if (p == MAP_FAILED)
		die("mmap %" PRIu64, size);
	for (i = 0; i < size; i++)
		p[i] = (char)(i * 7 + 1);
	return p;
}

static int new_memfd(const char *name, uint64_t size)
{
	int fd = memfd_create(name, 0);

	if (fd < 0)
		die("memfd_create");
	if (ftruncate(fd, size))
		die("ftruncate");
	return fd;
}

/* ---- B1: 1 MiB reads, GUESTMEM_READ and pread vs pread of a memfd ---- */

static uint64_t b1_ioctl(uint64_t n)
{
	struct guestmem_io io;
	uint64_t t0 = now_ns(), i;

	memset(&io, 0, sizeof(io));
	io.gpa = GPA_MAIN;
	io.len = IO_LEN;
	io.buf = (uintptr_t)iobuf;
	for (i = 0; i < n; i++)
		if (ioctl(gm_main, GUESTMEM_READ, &io))
			die("GUESTMEM_READ");
	return now_ns() - t0;
}

static uint64_t b1_pread_gm(uint64_t n)
{
	uint64_t t0 = now_ns(), i;

	for (i = 0; i < n; i++)
		if (pread(gm_main, iobuf, IO_LEN, GPA_MAIN) != (ssize_t)IO_LEN)
			die("pread guestmem");
	return now_ns() - t0;
}

static uint64_t b1_pread_memfd(uint64_t n)
{
	uint64_t t0 = now_ns(), i;

	for (i = 0; i < n; i++)
		if (pread(memfd_small, iobuf, IO_LEN, 0) != (ssize_t)IO_LEN)
			die("pread memfd");
	return now_ns() - t0;
}

/* ---- B1x: 1 MiB across 4 regions vs 1 MiB in one region ---- */

static uint64_t b1x_split(uint64_t n)
{
	struct guestmem_io io;
	uint64_t t0 = now_ns(), i;

	memset(&io, 0, sizeof(io));
	io.gpa = GPA_SPLIT;
	io.len = IO_LEN;
	io.buf = (uintptr_t)iobuf;
	for (i = 0; i < n; i++)
		if (ioctl(gm_main, GUESTMEM_READ, &io))
			die("GUESTMEM_READ split");
	return now_ns() - t0;
}

static uint64_t b1x_whole(uint64_t n)
{
	struct guestmem_io io;
	uint64_t t0 = now_ns(), i;

	memset(&io, 0, sizeof(io));
	io.gpa = GPA_WHOLE;
	io.len = IO_LEN;
	io.buf = (uintptr_t)iobuf;
	for (i = 0; i < n; i++)
		if (ioctl(gm_main, GUESTMEM_READ, &io))
			die("GUESTMEM_READ whole");
	return now_ns() - t0;
}

/* ---- B2: 8-byte GUESTMEM_READ vs 8-byte pread of a memfd ---- */

static uint64_t b2_ioctl(uint64_t n)
{
	struct guestmem_io io;
	uint64_t t0 = now_ns(), i, v = 0;

	memset(&io, 0, sizeof(io));
	io.gpa = GPA_MAIN + SMALL_OFF;
	io.len = 8;
	io.buf = (uintptr_t)&v;
	for (i = 0; i < n; i++)
		if (ioctl(gm_main, GUESTMEM_READ, &io))
			die("GUESTMEM_READ 8");
	sink = v;
	return now_ns() - t0;
}

static uint64_t b2_pread(uint64_t n)
{
	uint64_t t0 = now_ns(), i, v = 0;

	for (i = 0; i < n; i++)
		if (pread(memfd_small, &v, 8, SMALL_OFF) != 8)
			die("pread memfd 8");
	sink = v;
	return now_ns() - t0;
}

/* ---- B2b: a batch of 64 8-byte reads vs 64 single reads ---- */

static uint64_t b2b_batch(uint64_t n)
{
	struct guestmem_batch_op ops[BATCH_OPS];
	struct guestmem_batch batch;
	uint64_t vals[BATCH_OPS], t0, i;

	memset(ops, 0, sizeof(ops));
	for (i = 0; i < BATCH_OPS; i++) {
		ops[i].op = GUESTMEM_OP_READ;
		ops[i].gpa = GPA_MAIN + i * 64;
		ops[i].len = 8;
		ops[i].buf = (uintptr_t)&vals[i];
	}
	memset(&batch, 0, sizeof(batch));
	batch.ops = (uintptr_t)ops;
	batch.count = BATCH_OPS;
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (ioctl(gm_main, GUESTMEM_BATCH, &batch))
			die("GUESTMEM_BATCH");
	sink = vals[BATCH_OPS - 1];
	return now_ns() - t0;
}

static uint64_t b2b_single(uint64_t n)
{
	uint64_t vals[BATCH_OPS], t0 = now_ns(), i;
	struct guestmem_io io;

	memset(&io, 0, sizeof(io));
	io.len = 8;
	for (i = 0; i < n; i++) {
		io.gpa = GPA_MAIN + (i % BATCH_OPS) * 64;
		io.buf = (uintptr_t)&vals[i % BATCH_OPS];
		if (ioctl(gm_main, GUESTMEM_READ, &io))
			die("GUESTMEM_READ single");
	}
	sink = vals[0];
	return now_ns() - t0;
}

/* ---- B3: random 8-byte reads over 16,384 regions vs over one ---- */

static int b3_many = -1, b3_one = -1;
static char *b3_buf;
static uint64_t *b3_gpa_many, *b3_gpa_one;

static uint64_t b3_run(int fd, const uint64_t *gpas, uint64_t n)
{
	struct guestmem_io io;
	uint64_t t0 = now_ns(), i, v = 0;

	memset(&io, 0, sizeof(io));
	io.len = 8;
	io.buf = (uintptr_t)&v;
	for (i = 0; i < n; i++) {
		io.gpa = gpas[i & (B3_TABLE - 1)];
		if (ioctl(fd, GUESTMEM_READ, &io))
			die("GUESTMEM_READ random");
	}
	sink = v;
	return now_ns() - t0;
}

static uint64_t b3_many_run(uint64_t n)
{
	return b3_run(b3_many, b3_gpa_many, n);
}

static uint64_t b3_one_run(uint64_t n)
{
	return b3_run(b3_one, b3_gpa_one, n);
}

static void b3_setup(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL, t0, i;

	b3_gpa_many = malloc(B3_TABLE * sizeof(uint64_t));
	b3_gpa_one = malloc(B3_TABLE * sizeof(uint64_t));
	if (!b3_gpa_many || !b3_gpa_one)
		die("malloc");
	/* The same page and offset sequence on both sides. */
	for (i = 0; i < B3_TABLE; i++) {
		uint64_t reg, off;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		reg = (x >> 20) % B3_REGIONS;
		off = ((x >> 4) % (page_size / 8)) * 8;
		b3_gpa_many[i] = GPA_MANY + reg * 2 * page_size + off;
		b3_gpa_one[i] = GPA_ONE + reg * page_size + off;
	}
	b3_buf = user_buf((uint64_t)B3_REGIONS * page_size);
	b3_many = open_space();
	t0 = now_ns();
	for (i = 0; i < B3_REGIONS; i++)
		add_region(b3_many, GPA_MANY + i * 2 * page_size, page_size,
			   GUESTMEM_BACKING_USER, b3_buf + i * page_size);
	printf("GMDIAG|B3 setup: add %d one-page regions|%.2f s\n", B3_REGIONS,
	       (now_ns() - t0) / 1e9);
	b3_one = open_space();
	add_region(b3_one, GPA_ONE, (uint64_t)B3_REGIONS * page_size,
		   GUESTMEM_BACKING_USER, b3_buf);
}

static void b3_teardown(void)
{
	uint64_t t0 = now_ns();

	close(b3_many);
	close(b3_one);
	printf("GMDIAG|B3 teardown: close both spaces|%.2f s\n",
	       (now_ns() - t0) / 1e9);
	free(b3_gpa_many);
	free(b3_gpa_one);
	munmap(b3_buf, (uint64_t)B3_REGIONS * page_size);
}

/* ---- B4: first touch of mapped pages, guestmem vs a memfd ---- */

static uint64_t touch_run(int fd, off_t off, uint64_t n, bool write)
{
	uint64_t pages_per_map = MAP_SIZE / page_size, total = 0, done = 0;

	while (done < n) {
		uint64_t pages = n - done < pages_per_map ? n - done : pages_per_map;
		uint64_t t0, i;
		char *p;

		p = mmap(NULL, pages * page_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, off);
		if (p == MAP_FAILED)
			die("mmap");
		t0 = now_ns();
		if (write) {
			for (i = 0; i < pages; i++)
				((volatile char *)p)[i * page_size] = (char)i;
		} else {
			uint64_t s = 0;

			for (i = 0; i < pages; i++)
				s += ((volatile char *)p)[i * page_size];
			sink = s;
		}
		total += now_ns() - t0;
		if (munmap(p, pages * page_size))
			die("munmap");
		done += pages;
	}
	return total;
}

static uint64_t b4_read_gm(uint64_t n)
{
	return touch_run(gm_main, GPA_MAP, n, false);
}

static uint64_t b4_read_memfd(uint64_t n)
{
	return touch_run(memfd_map, 0, n, false);
}

static uint64_t b4_write_gm(uint64_t n)
{
	return touch_run(gm_main, GPA_MAP, n, true);
}

static uint64_t b4_write_memfd(uint64_t n)
{
	return touch_run(memfd_map, 0, n, true);
}

/* ---- B4s: steady memcpy out of a mapping, guestmem vs a memfd ---- */

static char *map_gm, *map_gmu, *map_memfd;

static char *map_prefaulted(int fd, off_t off)
{
	char *p = mmap(NULL, STEADY_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, off);
	uint64_t i;

	if (p == MAP_FAILED)
		die("mmap steady");
	for (i = 0; i < STEADY_SIZE; i += page_size)
		((volatile char *)p)[i] = ((volatile char *)p)[i];
	return p;
}

static uint64_t steady_run(const char *map, uint64_t n)
{
	uint64_t t0 = now_ns(), i;

	for (i = 0; i < n; i++)
		memcpy(iobuf, map + (i % (STEADY_SIZE / IO_LEN)) * IO_LEN, IO_LEN);
	sink = iobuf[IO_LEN - 1];
	return now_ns() - t0;
}

static uint64_t b4s_gm(uint64_t n)
{
	return steady_run(map_gm, n);
}

static uint64_t b4s_gm_user(uint64_t n)
{
	return steady_run(map_gmu, n);
}

static uint64_t b4s_memfd(uint64_t n)
{
	return steady_run(map_memfd, n);
}

static long minor_faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		die("getrusage");
	return ru.ru_minflt;
}

/* ---- B6: add+remove of a 2 MiB region ---- */

static int b6_fd = -1;
static char *b6_user;

static uint64_t b6_vmalloc(uint64_t n)
{
	uint64_t t0 = now_ns(), i;

	for (i = 0; i < n; i++) {
		add_region(b6_fd, GPA_B6, B6_SIZE, GUESTMEM_BACKING_VMALLOC, NULL);
		remove_region(b6_fd, GPA_B6, B6_SIZE);
	}
	return now_ns() - t0;
}

static uint64_t b6_user_run(uint64_t n)
{
	uint64_t t0 = now_ns(), i;

	for (i = 0; i < n; i++) {
		add_region(b6_fd, GPA_B6, B6_SIZE, GUESTMEM_BACKING_USER, b6_user);
		remove_region(b6_fd, GPA_B6, B6_SIZE);
	}
	return now_ns() - t0;
}

/*
 * The add and the remove apart: each run times only its half; the other
 * half (the remove after each timed add, the add before each timed remove)
 * runs untimed in the same loop.
 */
static uint64_t b6_half(uint64_t n, uint32_t backing, void *user, bool remove)
{
	uint64_t t = 0, t0, i;

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		add_region(b6_fd, GPA_B6, B6_SIZE, backing, user);
		if (!remove)
			t += now_ns() - t0;
		t0 = now_ns();
		remove_region(b6_fd, GPA_B6, B6_SIZE);
		if (remove)
			t += now_ns() - t0;
	}
	return t;
}

static uint64_t b6_vmalloc_add(uint64_t n)
{
	return b6_half(n, GUESTMEM_BACKING_VMALLOC, NULL, false);
}

static uint64_t b6_vmalloc_remove(uint64_t n)
{
	return b6_half(n, GUESTMEM_BACKING_VMALLOC, NULL, true);
}

static uint64_t b6_user_add(uint64_t n)
{
	return b6_half(n, GUESTMEM_BACKING_USER, b6_user, false);
}

static uint64_t b6_user_remove(uint64_t n)
{
	return b6_half(n, GUESTMEM_BACKING_USER, b6_user, true);
}

/* Where B6's time goes: the add and the remove, timed apart. */
static void b6_split(const char *what, uint32_t backing, void *user)
{
	uint64_t add = 0, rem = 0, t0;
	int i;

	for (i = 0; i < 20; i++) {
		t0 = now_ns();
		add_region(b6_fd, GPA_B6, B6_SIZE, backing, user);
		add += now_ns() - t0;
		t0 = now_ns();
		remove_region(b6_fd, GPA_B6, B6_SIZE);
		rem += now_ns() - t0;
	}
	printf("GMDIAG|B6 %s: ADD_REGION, mean of 20|%.0f us\n", what,
	       add / 20 / 1e3);
	printf("GMDIAG|B6 %s: REMOVE_REGION, mean of 20|%.0f us\n", what,
	       rem / 20 / 1e3);
	/* The same removal once the add's SRCU callback has run. */
	rem = 0;
	for (i = 0; i < 20; i++) {
		add_region(b6_fd, GPA_B6, B6_SIZE, backing, user);
		usleep(50000);
		t0 = now_ns();
		remove_region(b6_fd, GPA_B6, B6_SIZE);
		rem += now_ns() - t0;
	}
	printf("GMDIAG|B6 %s: REMOVE_REGION 50 ms after the add, mean of 20|%.0f us\n",
	       what, rem / 20 / 1e3);
}

/* ---- diagnostics: what the syscall-bound rows are made of ---- */

static uint64_t diag_getppid(uint64_t n)
{
	uint64_t t0 = now_ns(), i;

	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	return now_ns() - t0;
}

static uint64_t diag_enotty(uint64_t n)
{
	uint64_t t0 = now_ns(), i;

	for (i = 0; i < n; i++)
		if (ioctl(gm_main, _IO(0xB9, 0x7f), 0) != -1 || errno != ENOTTY)
			die("unknown ioctl");
	return now_ns() - t0;
}

static uint64_t diag_get_info(uint64_t n)
{
	struct guestmem_info info;
	uint64_t t0 = now_ns(), i;

	for (i = 0; i < n; i++)
		if (ioctl(gm_main, GUESTMEM_GET_INFO, &info))
			die("GUESTMEM_GET_INFO");
	return now_ns() - t0;
}

static uint64_t diag_clock(uint64_t n)
{
	uint64_t t0 = now_ns(), i, s = 0;

	for (i = 0; i < n; i++)
		s += now_ns();
	sink = s;
	return now_ns() - t0;
}

/* ---- measurement and report ---- */

/*
 * Calibrate a side: the operation count of one slice, a run of at least
 * SLICES-th of the minimum measurement.
 */
static void calibrate(struct side *s)
{
	uint64_t slice_ns = min_ns / SLICES;
	int i;

	/*
	 * Warm up first: the first run of a code path pays for its
	 * translation by qemu (milliseconds), which must not pass for the
	 * cost of one operation.
	 */
	for (i = 0; i < 3; i++)
		s->run(1);
	s->n = 1;
	for (;;) {
		uint64_t ns = s->run(s->n);
		double f;

		if (ns >= slice_ns || s->n >= (1ULL << 40))
			return;
		f = ns ? 1.2 * (double)slice_ns / (double)ns : 1000;
		if (f < 1.25)
			f = 1.25;
		if (f > 1000)
			f = 1000;
		s->n = (uint64_t)(s->n * f) + 1;
	}
}

/* One repetition of a row: its slices' times per unit, and the totals. */
struct rep {
	uint64_t gt, pt, gops, pops;
	double gunits, punits;
	double g[MAX_ROUNDS], p[MAX_ROUNDS];
	int rounds;
};

static void rep_add(struct rep *rp, uint64_t g, uint64_t gn, uint64_t p,
		    uint64_t pn)
{
	rp->gt += g;
	rp->pt += p;
	rp->gops += gn;
	rp->pops += pn;
	if (rp->rounds < MAX_ROUNDS) {
		rp->g[rp->rounds] = (double)g / ((double)gn * rp->gunits);
		rp->p[rp->rounds] = (double)p / ((double)pn * rp->punits);
		rp->rounds++;
	}
}

/*
 * One repetition: slices of the two sides alternate (who starts alternates
 * too) until each side has run for at least min_ns in total and SLICES
 * slices.  report() takes each side's QUANTILE.
 */
static void measure_pair(struct side *g, struct side *p, int rep,
			 struct rep *rp)
{
	int k;

	memset(rp, 0, sizeof(*rp));
	rp->gunits = g->units;
	rp->punits = p->units;
	for (k = rep; rp->gt < min_ns || rp->pt < min_ns || k - rep < SLICES;
	     k++) {
		uint64_t gt, pt;

		if (k % 2 == 0) {
			gt = g->run(g->n);
			pt = p->run(p->n);
		} else {
			pt = p->run(p->n);
			gt = g->run(g->n);
		}
		rep_add(rp, gt, g->n, pt, p->n);
	}
}

/* One measurement of a single side, at least min_ns long: ns and ops. */
static uint64_t measure_one(struct side *s, uint64_t *ops)
{
	uint64_t t = 0;

	*ops = 0;
	while (t < min_ns) {
		t += s->run(s->n);
		*ops += s->n;
	}
	return t;
}

/* A figure from nanoseconds per unit, as the row's kind shows it. */
static void figure(char *out, size_t size, const struct row *r, double ns)
{
	double per_s = 1e9 / ns;

	if (r->kind == LAT)
		snprintf(out, size, ns < 100 ? "%.1f ns/%s" : "%.0f ns/%s", ns,
			 r->unit);
	else if (!strcmp(r->unit, "B"))
		snprintf(out, size, "%.0f MiB/s", per_s / MiB);
	else if (per_s >= 1e6)
		snprintf(out, size, "%.2f M%s/s", per_s / 1e6, r->unit);
	else if (per_s >= 1e4)
		snprintf(out, size, "%.1f k%s/s", per_s / 1e3, r->unit);
	else
		snprintf(out, size, "%.0f %s/s", per_s, r->unit);
}

/* Print the row from its repetitions. */
static void report(const struct row *r, struct rep *reps_v, int n)
{
	char gs[64], ps[64], ratio_s[32], target_s[32];
	double gm[MAX_REPS], peer[MAX_REPS], ratios[MAX_REPS], ratio;
	const char *verdict;
	int i;

	for (i = 0; i < n; i++) {
		struct rep *rp = &reps_v[i];
		int k;

		if (r->kind == INFO) {
			gm[i] = (double)rp->gt / ((double)rp->gops * rp->gunits);
			printf("GMRAW|%s|%d|%.3f|\n", r->id, i, gm[i]);
			continue;
		}
		gm[i] = quantile(rp->g, rp->rounds, QUANTILE);
		peer[i] = quantile(rp->p, rp->rounds, QUANTILE);
		/* Time ratios, guestmem / peer: throughput rows show the inverse. */
		ratios[i] = gm[i] / peer[i];
		if (r->kind == THR)
			ratios[i] = 1 / ratios[i];
		printf("GMRAW|%s|%d|%.3f|%.3f|%.3f|%d\n", r->id, i, gm[i],
		       peer[i], ratios[i], rp->rounds);
		for (k = 0; verbose && k < rp->rounds; k++)
			printf("GMSLICE|%s|%d|%d|%.4f|%.4f\n", r->id, i, k,
			       rp->g[k], rp->p[k]);
	}
	figure(gs, sizeof(gs), r, median(gm, n));
	if (r->kind == INFO) {
		snprintf(ps, sizeof(ps), "-");
		snprintf(ratio_s, sizeof(ratio_s), "-");
		snprintf(target_s, sizeof(target_s), "report per second");
		verdict = "PASS";
	} else {
		figure(ps, sizeof(ps), r, median(peer, n));
		ratio = median(ratios, n);
		snprintf(ratio_s, sizeof(ratio_s), "%.3fx", ratio);
		snprintf(target_s, sizeof(target_s), "%s %.2fx",
			 r->kind == LAT ? "<=" : ">=", r->target);
		if (r->kind == LAT)
			verdict = ratio <= r->target ? "PASS" : "MISS";
		else
			verdict = ratio >= r->target ? "PASS" : "MISS";
	}
	printf("GMBENCH|%s|%s|%s|%s|%s|%s|%s\n", r->id, gs, ps, ratio_s,
	       target_s, verdict, r->what);
	fflush(stdout);
}

static void run_row(struct row *r)
{
	static struct rep reps_v[MAX_REPS];
	int i;

	/* Calibration, which also warms both sides up. */
	calibrate(&r->gm);
	if (r->kind != INFO)
		calibrate(&r->peer);
	for (i = 0; i < reps; i++) {
		if (r->kind == INFO) {
			memset(&reps_v[i], 0, sizeof(reps_v[i]));
			reps_v[i].gunits = r->gm.units;
			reps_v[i].gt = measure_one(&r->gm, &reps_v[i].gops);
		} else {
			measure_pair(&r->gm, &r->peer, i, &reps_v[i]);
		}
	}
	report(r, reps_v, reps);
}

static void diag(const char *name, uint64_t (*run)(uint64_t))
{
	struct side s = { .run = run, .units = 1 };
	double v[3];
	int i;

	calibrate(&s);
	for (i = 0; i < 3; i++) {
		uint64_t ops, t = measure_one(&s, &ops);

		v[i] = (double)t / (double)ops;
	}
	printf("GMDIAG|%s|%.0f ns\n", name, median(v, 3));
	fflush(stdout);
}

static bool selected(const char *only, const char *group)
{
	const char *p = only;
	size_t len = strlen(group);

	if (!only)
		return true;
	while ((p = strstr(p, group))) {
		if ((p == only || p[-1] == ',') && (p[len] == ',' || !p[len]))
			return true;
		p += len;
	}
	return false;
}

/* ---- the in-kernel rows, measured by guestmem_bench.ko ---- */

static struct row kmod_rows[] = {
	{ .id = "B5", .group = "B5",
	  .what = "in-kernel guestmem_read() of 8 bytes vs memcpy() from the region's kernel address",
	  .kind = LAT, .unit = "read", .target = 3.0 },
	{ .id = "B5c", .group = "B5",
	  .what = "guestmem_cache_read() of 8 bytes vs the same memcpy()",
	  .kind = LAT, .unit = "read", .target = 1.5 },
	{ .id = "B5x", .group = "B5",
	  .what = "in-kernel guestmem_read() of 64 KiB across 2 regions vs a per-page lookup-and-copy loop (kvm_read_guest style)",
	  .kind = THR, .unit = "B", .target = 1.0 },
};

static struct row *kmod_row(const char *id)
{
	size_t i;

	for (i = 0; i < sizeof(kmod_rows) / sizeof(kmod_rows[0]); i++)
		if (!strcmp(kmod_rows[i].id, id))
			return &kmod_rows[i];
	return NULL;
}

static void print_kdiag(const char *name, double ns)
{
	if (ns < 10000)
		printf("GMDIAG|kernel %s|%.1f ns\n", name, ns);
	else if (ns < 10000000)
		printf("GMDIAG|kernel %s|%.1f us\n", name, ns / 1e3);
	else
		printf("GMDIAG|kernel %s|%.1f ms\n", name, ns / 1e6);
}

/*
 * Reading the module's run file measures its rows; it prints
 *   slice <row> <rep> <gm ns> <gm ops> <gm units/op> <peer ns> <peer ops> <peer units/op>
 * for each pair of slices of each repetition,
 *   diag <name> <ns> <ops>
 * three times for each primitive it times, and "error <text>" on failure.
 */
static void run_kmod(const char *path)
{
	static struct rep kreps[3][MAX_REPS];
	int count[3] = { 0 }, bad = 0, ndiag = 0, rep;
	char line[512], id[16], name[64], diag_name[64] = "";
	unsigned long long gns, gops, gu, pns, pops, pu;
	double diag_v[MAX_REPS];
	size_t k;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		die("open %s", path);
	while (fgets(line, sizeof(line), f)) {
		struct row *r;

		if (sscanf(line, "slice %15s %d %llu %llu %llu %llu %llu %llu", id,
			   &rep, &gns, &gops, &gu, &pns, &pops, &pu) == 8) {
			struct rep *rp;

			r = kmod_row(id);
			if (!r || rep < 0 || rep >= MAX_REPS || !gops || !pops ||
			    !gu || !pu)
				continue;
			k = r - kmod_rows;
			rp = &kreps[k][rep];
			if (rep >= count[k]) {
				count[k] = rep + 1;
				memset(rp, 0, sizeof(*rp));
				rp->gunits = gu;
				rp->punits = pu;
			}
			rep_add(rp, gns, gops, pns, pops);
		} else if (sscanf(line, "diag %63s %llu %llu", name, &gns,
				  &gops) == 3 && gops) {
			/* Consecutive lines of one primitive: print their median. */
			if (ndiag && strcmp(name, diag_name)) {
				print_kdiag(diag_name, median(diag_v, ndiag));
				ndiag = 0;
			}
			strcpy(diag_name, name);
			if (ndiag < MAX_REPS)
				diag_v[ndiag++] = (double)gns / (double)gops;
		} else if (!strncmp(line, "error", 5)) {
			fprintf(stderr, "guestmem-bench: kmod: %s", line);
			bad = 1;
		}
	}
	fclose(f);
	if (ndiag)
		print_kdiag(diag_name, median(diag_v, ndiag));
	for (k = 0; k < sizeof(kmod_rows) / sizeof(kmod_rows[0]); k++) {
		if (count[k] < 5) {
			fprintf(stderr, "guestmem-bench: kmod: %s: %d repetitions\n",
				kmod_rows[k].id, count[k]);
			bad = 1;
			continue;
		}
		report(&kmod_rows[k], kreps[k], count[k]);
	}
	if (bad)
		exit(1);
}

int main(int argc, char **argv)
{
	const char *only = NULL, *kmod = NULL;
	char *split_buf;
	struct row b1[] = {
		{ .id = "B1 ioctl", .group = "B1",
		  .what = "1 MiB GUESTMEM_READ in one region vs pread() of 1 MiB from a memfd",
		  .kind = THR, .unit = "B", .target = 0.95,
		  .gm = { .run = b1_ioctl, .units = IO_LEN },
		  .peer = { .run = b1_pread_memfd, .units = IO_LEN } },
		{ .id = "B1 pread", .group = "B1",
		  .what = "1 MiB pread() of /dev/guestmem in one region vs pread() of 1 MiB from a memfd",
		  .kind = THR, .unit = "B", .target = 0.95,
		  .gm = { .run = b1_pread_gm, .units = IO_LEN },
		  .peer = { .run = b1_pread_memfd, .units = IO_LEN } },
		{ .id = "B1x", .group = "B1x",
		  .what = "1 MiB GUESTMEM_READ spanning 4 regions vs 1 MiB GUESTMEM_READ in one region (USER regions over the same pages)",
		  .kind = THR, .unit = "B", .target = 0.95,
		  .gm = { .run = b1x_split, .units = IO_LEN },
		  .peer = { .run = b1x_whole, .units = IO_LEN } },
		{ .id = "B2", .group = "B2",
		  .what = "8-byte GUESTMEM_READ vs 8-byte pread() from a memfd",
		  .kind = LAT, .unit = "read", .target = 1.1,
		  .gm = { .run = b2_ioctl, .units = 1 },
		  .peer = { .run = b2_pread, .units = 1 } },
		{ .id = "B2b", .group = "B2b",
		  .what = "GUESTMEM_BATCH of 64 8-byte reads vs 64 single 8-byte GUESTMEM_READ",
		  .kind = THR, .unit = "read", .target = 8.0,
		  .gm = { .run = b2b_batch, .units = BATCH_OPS },
		  .peer = { .run = b2b_single, .units = 1 } },
	};
	struct row b3 = {
		.id = "B3", .group = "B3",
		.what = "random 8-byte GUESTMEM_READ over 16,384 regions vs the same over 1 region (USER regions over the same pages)",
		.kind = LAT, .unit = "read", .target = 1.25,
		.gm = { .run = b3_many_run, .units = 1 },
		.peer = { .run = b3_one_run, .units = 1 } };
	struct row b4[] = {
		{ .id = "B4 read", .group = "B4",
		  .what = "first touch (load) of pages of a guestmem mapping vs a MAP_SHARED memfd mapping",
		  .kind = LAT, .unit = "page", .target = 1.5,
		  .gm = { .run = b4_read_gm, .units = 1 },
		  .peer = { .run = b4_read_memfd, .units = 1 } },
		{ .id = "B4 write", .group = "B4",
		  .what = "first touch (store) of pages of a guestmem mapping vs a MAP_SHARED memfd mapping",
		  .kind = LAT, .unit = "page", .target = 1.5,
		  .gm = { .run = b4_write_gm, .units = 1 },
		  .peer = { .run = b4_write_memfd, .units = 1 } },
	};
	struct row b4s[] = {
		{ .id = "B4s", .group = "B4s",
		  .what = "steady memcpy() of 1 MiB out of a guestmem mapping vs a memfd mapping (the guestmem region USER-backed by the memfd's own pages)",
		  .kind = THR, .unit = "B", .target = 0.95,
		  .gm = { .run = b4s_gm_user, .units = IO_LEN },
		  .peer = { .run = b4s_memfd, .units = IO_LEN } },
		{ .id = "B4s vmalloc", .group = "B4s",
		  .what = "the same out of a VMALLOC region (other physical pages than the memfd's)",
		  .kind = THR, .unit = "B", .target = 0.95,
		  .gm = { .run = b4s_gm, .units = IO_LEN },
		  .peer = { .run = b4s_memfd, .units = IO_LEN } },
	};
	struct row b6[] = {
		{ .id = "B6 VMALLOC", .group = "B6",
		  .what = "GUESTMEM_ADD_REGION + GUESTMEM_REMOVE_REGION of a 2 MiB VMALLOC region",
		  .kind = INFO, .unit = "op", .target = 0,
		  .gm = { .run = b6_vmalloc, .units = 1 },
		  .peer = { .run = NULL, .units = 1 } },
		{ .id = "B6 VMALLOC add", .group = "B6",
		  .what = "GUESTMEM_ADD_REGION alone of the same (each followed by an untimed removal)",
		  .kind = INFO, .unit = "add", .target = 0,
		  .gm = { .run = b6_vmalloc_add, .units = 1 },
		  .peer = { .run = NULL, .units = 1 } },
		{ .id = "B6 VMALLOC remove", .group = "B6",
		  .what = "GUESTMEM_REMOVE_REGION alone of the same, right after an untimed add",
		  .kind = INFO, .unit = "remove", .target = 0,
		  .gm = { .run = b6_vmalloc_remove, .units = 1 },
		  .peer = { .run = NULL, .units = 1 } },
		{ .id = "B6 USER", .group = "B6",
		  .what = "GUESTMEM_ADD_REGION + GUESTMEM_REMOVE_REGION of a 2 MiB USER region (anonymous memory)",
		  .kind = INFO, .unit = "op", .target = 0,
		  .gm = { .run = b6_user_run, .units = 1 },
		  .peer = { .run = NULL, .units = 1 } },
		{ .id = "B6 USER add", .group = "B6",
		  .what = "GUESTMEM_ADD_REGION alone of the same (pinning; each followed by an untimed removal)",
		  .kind = INFO, .unit = "add", .target = 0,
		  .gm = { .run = b6_user_add, .units = 1 },
		  .peer = { .run = NULL, .units = 1 } },
		{ .id = "B6 USER remove", .group = "B6",
		  .what = "GUESTMEM_REMOVE_REGION alone of the same (unpinning), right after an untimed add",
		  .kind = INFO, .unit = "remove", .target = 0,
		  .gm = { .run = b6_user_remove, .units = 1 },
		  .peer = { .run = NULL, .units = 1 } },
	};
	size_t i;
	int c;

	while ((c = getopt(argc, argv, "r:t:k:o:v")) != -1) {
		switch (c) {
		case 'r':
			reps = atoi(optarg);
			break;
		case 't':
			min_ns = strtoull(optarg, NULL, 0) * 1000000ULL;
			break;
		case 'k':
			kmod = optarg;
			break;
		case 'o':
			only = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-r REPS] [-t MIN_MS] [-k FILE] [-o ROWS] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	if (reps < 1 || reps > MAX_REPS || !min_ns) {
		fprintf(stderr, "guestmem-bench: bad -r or -t\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	iobuf = mmap(NULL, IO_LEN, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (iobuf == MAP_FAILED)
		die("mmap buffer");
	printf("GMDIAG|repetitions per side|%d\n", reps);
	printf("GMDIAG|minimum measurement|%" PRIu64 " ms\n", min_ns / 1000000);

	/* The main space: B1, B1x, B2, B2b, B4, B4s. */
	gm_main = open_space();
	add_region(gm_main, GPA_MAIN, MAIN_SIZE, GUESTMEM_BACKING_VMALLOC, NULL);
	split_buf = user_buf(4 * SPLIT_SIZE);
	for (i = 0; i < 4; i++)
		add_region(gm_main, GPA_SPLIT + i * SPLIT_SIZE, SPLIT_SIZE,
			   GUESTMEM_BACKING_USER, split_buf + i * SPLIT_SIZE);
	add_region(gm_main, GPA_WHOLE, 4 * SPLIT_SIZE, GUESTMEM_BACKING_USER,
		   split_buf);
	add_region(gm_main, GPA_MAP, MAP_SIZE, GUESTMEM_BACKING_VMALLOC, NULL);
	memfd_small = new_memfd("bench-small", MAIN_SIZE);
	memfd_map = new_memfd("bench-map", MAP_SIZE);
	fill_pattern(gm_main, GPA_MAIN, memfd_small, MAIN_SIZE);
	fill_pattern(gm_main, GPA_MAP, memfd_map, MAP_SIZE);
	errno = -gm_read(gm_main, GPA_SPLIT, iobuf, IO_LEN);
	if (errno)
		die("GUESTMEM_READ %#llx", GPA_SPLIT);

	diag("clock_gettime(CLOCK_MONOTONIC)", diag_clock);
	diag("getppid() system call", diag_getppid);
	diag("unknown ioctl on /dev/guestmem (ENOTTY)", diag_enotty);
	diag("GUESTMEM_GET_INFO", diag_get_info);

	for (i = 0; i < sizeof(b1) / sizeof(b1[0]); i++)
		if (selected(only, b1[i].group))
			run_row(&b1[i]);
	for (i = 0; i < sizeof(b4) / sizeof(b4[0]); i++)
		if (selected(only, "B4"))
			run_row(&b4[i]);
	if (selected(only, "B4s")) {
		map_memfd = map_prefaulted(memfd_map, 0);
		add_region(gm_main, GPA_MAPU, STEADY_SIZE, GUESTMEM_BACKING_USER,
			   map_memfd);
		map_gm = map_prefaulted(gm_main, GPA_MAP);
		map_gmu = map_prefaulted(gm_main, GPA_MAPU);
		for (i = 0; i < sizeof(b4s) / sizeof(b4s[0]); i++) {
			long flt = minor_faults();

			run_row(&b4s[i]);
			printf("GMDIAG|%s: page faults during the row|%ld\n",
			       b4s[i].id, minor_faults() - flt);
		}
		munmap(map_gm, STEADY_SIZE);
		munmap(map_gmu, STEADY_SIZE);
		remove_region(gm_main, GPA_MAPU, STEADY_SIZE);
		munmap(map_memfd, STEADY_SIZE);
	}
	if (kmod && selected(only, "B5"))
		run_kmod(kmod);
	if (selected(only, "B6")) {
		b6_fd = open_space();
		b6_user = mmap(NULL, B6_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (b6_user == MAP_FAILED)
			die("mmap B6");
		for (i = 0; i < sizeof(b6) / sizeof(b6[0]); i++)
			run_row(&b6[i]);
		b6_split("VMALLOC", GUESTMEM_BACKING_VMALLOC, NULL);
		b6_split("USER", GUESTMEM_BACKING_USER, b6_user);
		close(b6_fd);
	}
	/*
	 * B3 last: tearing down 16,384 regions leaves the kernel lazily
	 * purging as many vmap areas in the background, which must not land
	 * in another row's measurements.
	 */
	if (selected(only, "B3")) {
		b3_setup();
		run_row(&b3);
		b3_teardown();
	}
	printf("GMDIAG|done|ok\n");
	return 0;
}
