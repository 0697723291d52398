// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem fuzzer (fuzz_test.c): randomness and the generators of
 * arguments: user buffers, GPAs, lengths, USER memory.
 */
#include "fuzz.h"

/* ---- randomness ----------------------------------------------------------- */

uint64_t rng;

uint64_t rnd64(void)
{
	uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

uint64_t rnd(uint64_t n)
{
	return n ? rnd64() % n : 0;
}

bool chance(unsigned int pct)
{
	return rnd(100) < pct;
}

/* ---- user memory: buffers, pools, guard pages ------------------------------ */

uint8_t *data;		/* DATA_SZ, then a guard page */
uint8_t *ropg;		/* one PROT_READ page, then a guard page */
uint8_t *argpg;		/* ioctl arguments: one page, then a guard */
uint8_t *regarea;	/* GET_REGIONS output: one page, then a guard */
uint8_t *bmarea;		/* dirty bitmaps: BM_SZ, then a guard */
uint8_t *opsarea;	/* batch ops: OPS_SZ, then a guard */
uint8_t *iovarea;	/* iovecs: one page, then a guard */
uint8_t *pool;		/* POOL_PAGES shared anonymous, then a guard */
uint8_t *mfpool;		/* MEMFD_PAGES of a memfd, then a guard */
uint8_t *ropool;		/* ROPOOL_PAGES PROT_READ, then a guard */
uint8_t *unmapped;	/* 16 PROT_NONE pages: nothing reachable */
uint8_t *scratch;	/* for verification reads */
uint8_t *scratch2;

void *guarded(size_t size, int prot, int fd)
{
	int flags = fd >= 0 ? MAP_SHARED : fd == GUARDED_SHMEM ?
		    MAP_SHARED | MAP_ANONYMOUS : MAP_PRIVATE | MAP_ANONYMOUS;
	uint8_t *p;

	p = mmap(NULL, size + PG, PROT_NONE, flags, fd >= 0 ? fd : -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p, size, prot))
		return NULL;
	return p;
}

const char *const bufcls_name[B_NCLS] = {
	"good", "edge", "ro", "null", "unmapped", "kernel", "noncanonical",
	"gmap",
};

int live_mapping(void)
{
	int i, n = 0, pick;

	for (i = 0; i < MAXMAP; i++)
		n += maps[i].used;
	if (!n)
		return -1;
	pick = rnd(n);
	for (i = 0; i < MAXMAP; i++)
		if (maps[i].used && !pick--)
			return i;
	return -1;
}

struct ubuf pick_buf(uint64_t len, unsigned int bad_pct)
{
	struct ubuf b;
	unsigned int c = B_GOOD;
	uint64_t off;
	int m;

	memset(&b, 0, sizeof(b));
	b.gmap_space = -1;
	if (chance(bad_pct))
		c = 1 + rnd(B_NCLS - 1);
	switch (c) {
	case B_GOOD:
		off = len < DATA_SZ ? rnd(DATA_SZ - len + 1) : 0;
		if (chance(50))
			off &= ~7ULL;
		b.p = data + off;
		b.rd = b.wr = DATA_SZ - off;
		break;
	case B_EDGE:	/* runs into the guard page after the buffer */
		off = 1 + rnd(len && len < PG * 4 ? len : PG * 4);
		b.p = data + DATA_SZ - off;
		b.rd = b.wr = off;
		break;
	case B_RO:
		off = rnd(PG);
		b.p = ropg + off;
		b.rd = PG - off;
		break;
	case B_NULL:
		b.p = NULL;
		break;
	case B_UNMAPPED:
		b.p = unmapped + rnd(8 * PG);
		break;
	case B_KERNEL:
		b.p = (uint8_t *)(uintptr_t)(0xffff888000000000ULL + rnd(1 << 20));
		break;
	case B_NONCANON:
		b.p = (uint8_t *)(uintptr_t)(0x0000800000000000ULL + rnd(PG));
		break;
	case B_GMAP:
		m = live_mapping();
		if (m < 0) {
			b.p = NULL;
			c = B_NULL;
			break;
		}
		b.p = maps[m].addr + (rnd(maps[m].len) & ~7ULL);
		b.maybe = true;
		b.gmap_space = maps[m].space;
		break;
	}
	b.cls = c;
	return b;
}

/* The kernel may write through a guestmem mapping: that space's log is unknown. */
void buf_written_by_kernel(const struct ubuf *b)
{
	if (b->cls == B_GMAP && b->gmap_space >= 0 && sp[b->gmap_space].used)
		m_all_unknown(&sp[b->gmap_space]);
}

/* Fill what is writable of a source buffer with random bytes. */
void fill_src(const struct ubuf *b, uint64_t len)
{
	uint64_t n = len < b->wr ? len : b->wr, i;

	if (b->cls != B_GOOD && b->cls != B_EDGE)
		return;
	if (n > VERIFY_MAX + 64)
		n = VERIFY_MAX + 64;
	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t v = rnd64();

		memcpy(b->p + i, &v, 8);
	}
	for (; i < n; i++)
		b->p[i] = rnd64();
}

const char *const argcls_name[] = { "good", "ro", "null", "unmapped",
					   "straddle" };

enum argcls pick_argcls(void)
{
	unsigned int r = rnd(100);

	if (r < 92)
		return A_GOOD;
	if (r < 95)
		return A_RO;
	if (r < 97)
		return A_NULL;
	if (r < 98)
		return A_UNMAPPED;
	return A_STRADDLE;
}

bool arg_unreadable(enum argcls c)
{
	return c == A_NULL || c == A_UNMAPPED || c == A_STRADDLE;
}

void *place_arg(const void *s, size_t sz, enum argcls c)
{
	uint8_t *p;

	switch (c) {
	case A_GOOD:
		p = argpg + PG - sz;
		memcpy(p, s, sz);
		return p;
	case A_RO:
		if (mprotect(ropg, PG, PROT_READ | PROT_WRITE))
			abort();
		memcpy(ropg + PG - sz, s, sz);
		if (mprotect(ropg, PG, PROT_READ))
			abort();
		return ropg + PG - sz;
	case A_NULL:
		return NULL;
	case A_UNMAPPED:
		return unmapped + PG;
	case A_STRADDLE:
		p = argpg + PG - sz + 8;
		memcpy(p, s, sz - 8);
		return p;
	}
	return NULL;
}

int do_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? errno : 0;
}

/*
 * Verification reads (not counted as ops): exact GUESTMEM_READ into @dst;
 * 0 or a positive errno (EPROTO: short).
 */
int vread(int fd, uint64_t gpa, void *dst, uint64_t len)
{
	return -gm_read(fd, gpa, dst, len);
}

/* ---- value generators ------------------------------------------------------- */

static const uint64_t anchors[] = {
	0, 0x100000, 0x7ffff000, 1ULL << 32, (1ULL << 32) - PG, 1ULL << 40,
	1ULL << 47, 1ULL << 63, (1ULL << 63) - PG, 0ULL - 64 * PG, 0ULL - PG,
	0ULL - 2 * PG,
};

/* One of the anchors, at random. */
uint64_t pick_anchor(void)
{
	return anchors[rnd(ARRAY_LEN(anchors))];
}

int pick_region(struct mspace *s)
{
	return s && s->nreg ? (int)rnd(s->nreg) : -1;
}

int64_t small_delta(void)
{
	static const int64_t d[] = { 0, 0, 0, 1, -1, 2, -2, 7, -8, 8, 4095,
				     -4095, 4096, -4096, 8191, -8192 };

	return d[rnd(ARRAY_LEN(d))];
}

uint64_t pick_gpa(struct mspace *s)
{
	int r = pick_region(s);
	unsigned int c = rnd(100);

	if (r >= 0 && c < 35) {
		struct mreg *m = &s->reg[r];

		return (chance(50) ? m->gpa : m->gpa + m->size) + small_delta();
	}
	if (r >= 0 && c < 65)
		return s->reg[r].gpa + rnd(s->reg[r].size);
	if (c < 80)
		return pick_anchor() + small_delta() +
		       (chance(50) ? rnd(8) * PG : 0);
	if (c < 90)
		return 0ULL - rnd(3 * PG);
	return rnd64();
}

uint64_t pick_len(uint64_t gpa, struct mspace *s)
{
	unsigned int c = rnd(100);
	struct mreg *r;

	if (c < 8)
		return 0;
	if (c < 20)
		return 1 + rnd(8);
	if (c < 45)
		return 1 + rnd(256);
	if (c < 60)
		return PG - 1 + rnd(3);
	if (c < 75)
		return 1 + rnd(3 * PG);
	if (c < 82) {
		/* To the end of the region there, or past it. */
		r = s ? m_find(s, gpa) : NULL;
		if (r)
			return reg_last(r) - gpa + 1 + (chance(50) ? 1 + rnd(PG) : 0);
		return 1 + rnd(VERIFY_MAX);
	}
	if (c < 88)
		return 1 + rnd(VERIFY_MAX);
	if (c < 91)
		return 0ULL - gpa;	/* exactly to 2^64 (0 for gpa 0) */
	if (c < 94)
		return 0ULL - gpa + 1 + rnd(2);	/* past 2^64 */
	if (c < 97)
		return 1ULL << (20 + rnd(44));
	return U64MAX - rnd(2);
}

/* ---- the USER backing pool ---------------------------------------------------- */

/* A scratch space whose USER ranges are in use too (a batch's earlier entries). */
struct mspace *uaddr_extra;

static bool uaddr_in(const struct mspace *m, uint64_t a, uint64_t n)
{
	int i;

	for (i = 0; i < m->nreg; i++) {
		const struct mreg *r = &m->reg[i];

		if (r->backing == GUESTMEM_BACKING_USER &&
		    r->uaddr < a + n && r->uaddr + r->size > a)
			return true;
	}
	return false;
}

static bool uaddr_used(uint64_t a, uint64_t n)
{
	int s;

	for (s = 0; s < MAXSP; s++)
		if (sp[s].used && uaddr_in(&sp[s], a, n))
			return true;
	return uaddr_extra && uaddr_in(uaddr_extra, a, n);
}

const char *const ucls_name[U_NCLS] = {
	"pool", "ro", "unmapped", "partial", "gmap", "unaligned", "kernel",
	"high", "low",
};

/*
 * A user range for a USER region of @size bytes (rounded down to pages):
 * pool pages no live region (nor an earlier entry of the batch being built,
 * uaddr_extra) uses, so no two regions alias and data checks stay exact; or
 * a bad range.
 */
uint64_t pick_uaddr(uint64_t size, enum ucls *cls)
{
	unsigned int c = rnd(100), tries;
	uint64_t pages = size / PG;
	int m;

	if (c < 72 && pages && pages <= POOL_PAGES) {
		for (tries = 0; tries < 8; tries++) {
			bool mf = chance(30) && pages <= MEMFD_PAGES;
			uint8_t *base = mf ? mfpool : pool;
			uint64_t n = mf ? MEMFD_PAGES : POOL_PAGES;
			uint64_t a = (uintptr_t)base + rnd(n - pages + 1) * PG;

			if (!uaddr_used(a, size)) {
				*cls = U_POOL;
				return a;
			}
		}
	}
	if (c < 82 && pages && pages <= ROPOOL_PAGES) {
		*cls = U_RO;
		return (uintptr_t)ropool + rnd(ROPOOL_PAGES - pages + 1) * PG;
	}
	if (c < 86) {
		*cls = U_UNMAPPED;
		return (uintptr_t)unmapped;
	}
	if (c < 90 && pages > 1 && pages <= POOL_PAGES) {
		/* The last pages of the pool, running into its guard page. */
		*cls = U_PARTIAL;
		return (uintptr_t)pool + (POOL_PAGES - 1 - rnd(pages - 1)) * PG;
	}
	if (c < 94) {
		m = live_mapping();
		if (m >= 0) {
			*cls = U_GMAP;
			return (uintptr_t)maps[m].addr;
		}
	}
	if (c < 96) {
		*cls = U_UNALIGNED;
		return (uintptr_t)pool + 1 + rnd(PG - 1);
	}
	if (c < 97) {
		*cls = U_KERNEL;
		return 0xffff888000000000ULL;
	}
	if (c < 98 && size >= (1ULL << 40)) {
		/* Low and unmapped: even a huge range stays below TASK_SIZE. */
		*cls = U_LOW;
		return 0x10000ULL * (1 + rnd(16));
	}
	*cls = U_HIGH;
	return (1ULL << 47) - PG * rnd(4);
}
