// SPDX-License-Identifier: GPL-2.0
/*
 * The sample device samples/guestmem_dma.c end to end: a DMA copy engine
 * whose descriptor ring lives in guest memory, driven through
 * /dev/guestmem_dma and built only on guestmem's in-kernel API.
 *
 * Loads /modules/guestmem_dma.ko if /dev/guestmem_dma is absent (guestmem.ko
 * itself is loaded by the VM runner).
 */
#include <endian.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "guestmem_util.h"
#include "samples.h"
#include "kselftest_harness.h"


/*
 * The space every test starts with (pages relative to B):
 *
 *   [ 0, 16) R0 VMALLOC, DIRTY_LOG; the ring (8 descriptors) at page 0
 *   [16, 32) R1 USER, anonymous memory u1
 *   [32, 48) hole
 *   [48, 52) R2 VMALLOC, READONLY (zeros)
 *   [52, ..) hole
 *
 * R0 and R1 (but the ring) start as pat(gpa, SEED0).
 */
#define B		0x100000ULL
#define G(pg)		(B + (uint64_t)(pg) * PG)
#define SPAN		(32 * PG)		/* R0 + R1 */
#define RING		G(0)
#define RING_SIZE	8U
#define RING_BYTES(n)	(32 + 32 * (uint64_t)(n))
#define SEED0		7

#define DESC_GPA(ring, size, idx) \
	((ring) + 32 + 32 * (uint64_t)((uint32_t)(idx) & ((size) - 1)))
#define STATUS_GPA(ring, size, idx)	(DESC_GPA(ring, size, idx) + 24)
#define ST_DONE		((uint32_t)GUESTMEM_DMA_STATUS_DONE)
#define ST_ERR(e)	((uint32_t)-(e))

static int dma_open(void)
{
	return open(DMA_DEV, O_RDWR | O_CLOEXEC);
}

static int dma_bind_full(int dma, int gmfd, uint64_t ring, uint32_t size,
			 uint32_t flags, uint32_t rsv_idx, uint32_t rsv)
{
	struct guestmem_dma_bind b;

	memset(&b, 0, sizeof(b));
	b.guestmem_fd = gmfd;
	b.ring_size = size;
	b.ring_gpa = ring;
	b.flags = flags;
	if (rsv_idx < ARRAY_LEN(b.reserved))
		b.reserved[rsv_idx] = rsv;
	return gm_ioctl(dma, GUESTMEM_DMA_BIND, &b);
}

static int dma_kick(int dma, struct guestmem_dma_kick *k)
{
	memset(k, 0, sizeof(*k));
	/* Outputs only: ignored on input, always written back. */
	k->processed = 0xdeadbeef;
	k->errors = 0xdeadbeef;
	k->used_idx = 0xdeadbeef;
	return gm_ioctl(dma, GUESTMEM_DMA_KICK, k);
}

static int dma_info(int dma, struct guestmem_dma_info *info)
{
	memset(info, 0xff, sizeof(*info));
	return gm_ioctl(dma, GUESTMEM_DMA_GET_INFO, info);
}

/* The doorbell: returns 0 when the whole write went through, else -errno. */
static int dma_ring_doorbell(int dma, uint32_t avail)
{
	ssize_t n = write(dma, &avail, sizeof(avail));

	if (n < 0)
		return -errno;
	return n == sizeof(avail) ? 0 : -EPROTO;
}

static int put_desc_full(int fd, uint64_t ring, uint32_t size, uint32_t idx,
			 uint64_t src, uint64_t dst, uint32_t len,
			 uint32_t flags, uint32_t reserved)
{
	struct guestmem_dma_desc d = dma_desc(src, dst, len, flags);

	d.reserved = htole32(reserved);
	return gm_write(fd, DESC_GPA(ring, size, idx), &d, sizeof(d));
}

static int put_desc(int fd, uint64_t ring, uint32_t size, uint32_t idx,
		    uint64_t src, uint64_t dst, uint32_t len)
{
	return put_desc_full(fd, ring, size, idx, src, dst, len, 0, 0);
}

static int put_le32(int fd, uint64_t gpa, uint32_t v)
{
	uint32_t le = htole32(v);

	return gm_write(fd, gpa, &le, sizeof(le));
}

/* A little-endian word of guest memory, or 0xbad0bad0 if unreadable. */
static uint32_t get_le32(int fd, uint64_t gpa)
{
	uint32_t le;

	if (gm_read(fd, gpa, &le, sizeof(le)))
		return 0xbad0bad0;
	return le32toh(le);
}

static int set_avail(int fd, uint64_t ring, uint32_t avail)
{
	return put_le32(fd, ring + offsetof(struct guestmem_dma_ring_hdr,
					    avail_idx), avail);
}

static uint32_t get_avail(int fd, uint64_t ring)
{
	return get_le32(fd, ring + offsetof(struct guestmem_dma_ring_hdr,
					    avail_idx));
}

static uint32_t get_used(int fd, uint64_t ring)
{
	return get_le32(fd, ring + offsetof(struct guestmem_dma_ring_hdr,
					    used_idx));
}

static uint32_t get_status(int fd, uint64_t ring, uint32_t size, uint32_t idx)
{
	return get_le32(fd, STATUS_GPA(ring, size, idx));
}

/* The dirty bits of R0 (16 pages: one word); ~0 if the ioctl failed. */
static uint64_t r0_dirty(int fd, bool clear)
{
	uint64_t bm = 0;

	if (gm_dirty_log(fd, G(0), 16 * PG, &bm,
			 clear ? GUESTMEM_DIRTY_LOG_CLEAR : 0))
		return ~0ULL;
	return bm;
}

#define PAGES(...)	pages_mask((const int[]){ __VA_ARGS__, -1 })

static uint64_t pages_mask(const int *p)
{
	uint64_t m = 0;

	for (; *p >= 0; p++)
		m |= 1ULL << *p;
	return m;
}

/*
 * A model of R0 + R1: a snapshot taken before a kick, to which a test
 * applies what the device should do; then the whole span is compared.
 */
static uint8_t *span_read(int fd)
{
	uint8_t *buf = malloc(SPAN);

	if (buf && gm_read(fd, G(0), buf, SPAN)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void model_copy(uint8_t *m, uint64_t dst, uint64_t src, uint64_t len)
{
	if (src >= G(48))	/* from R2: zeros */
		memset(m + (dst - G(0)), 0, len);
	else
		memmove(m + (dst - G(0)), m + (src - G(0)), len);
}

static void model_le32(uint8_t *m, uint64_t gpa, uint32_t v)
{
	uint32_t le = htole32(v);

	memcpy(m + (gpa - G(0)), &le, sizeof(le));
}

/* Index of the first byte of the span that differs from @m, or -1. */
static long span_diff(int fd, const uint8_t *m)
{
	uint8_t *now = span_read(fd);
	long i, ret = -2;

	if (!now)
		return ret;
	ret = -1;
	for (i = 0; i < (long)SPAN; i++) {
		if (now[i] != m[i]) {
			ret = i;
			break;
		}
	}
	free(now);
	return ret;
}

#define EXPECT_SPAN(fd, model) do {					\
	long __d = span_diff(fd, model);				\
	EXPECT_EQ(-1, __d) TH_LOG("guest memory differs from the model at "\
				  "gpa %#llx",				\
				  (unsigned long long)(G(0) + __d));	\
} while (0)

FIXTURE(dma) {
	int fd;		/* the space */
	int dma;	/* the device, bound to RING */
	uint8_t *u1;
};

FIXTURE_SETUP(dma)
{
	uint8_t *buf;
	int ret;

	ret = sample_load(DMA_DEV, DMA_KO);
	if (ret == -ENOENT)
		SKIP(return, "%s absent and no %s to load", DMA_DEV, DMA_KO);
	ASSERT_EQ(0, ret) TH_LOG("insmod %s failed", DMA_KO);

	self->fd = gm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno));
	self->u1 = map_anon(16 * PG);
	ASSERT_NE(NULL, self->u1);
	pat_fill(self->u1, G(16), 16 * PG, SEED0);

	ASSERT_EQ(0, gm_add(self->fd, G(0), 16 * PG, 0,
			    GUESTMEM_BACKING_VMALLOC, GUESTMEM_REGION_DIRTY_LOG));
	ASSERT_EQ(0, gm_add_user(self->fd, G(16), 16 * PG, self->u1));
	ASSERT_EQ(0, gm_add(self->fd, G(48), 4 * PG, 0,
			    GUESTMEM_BACKING_VMALLOC, GUESTMEM_REGION_READONLY));

	buf = malloc(16 * PG);
	ASSERT_NE(NULL, buf);
	pat_fill(buf, G(0), 16 * PG, SEED0);
	memset(buf, 0, RING_BYTES(RING_SIZE));	/* header and descriptors */
	ASSERT_EQ(0, gm_write(self->fd, G(0), buf, 16 * PG));
	free(buf);

	self->dma = dma_open();
	ASSERT_LE(0, self->dma) TH_LOG("open %s: %s", DMA_DEV, strerror(errno));
	ASSERT_EQ(0, dma_bind(self->dma, self->fd, RING, RING_SIZE));
	/* The setup's own writes are not the device's. */
	ASSERT_NE(~0ULL, r0_dirty(self->fd, true));
}

FIXTURE_TEARDOWN(dma)
{
	close(self->dma);
	close(self->fd);
	munmap(self->u1, 16 * PG);
}

TEST_F(dma, device_node)
{
	struct guestmem_dma_info info;
	struct stat st;

	ASSERT_EQ(0, stat(DMA_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, st.st_mode & 07777);

	ASSERT_EQ(0, dma_info(self->dma, &info));
	EXPECT_EQ(RING, info.ring_gpa);
	EXPECT_EQ(RING_SIZE, info.ring_size);
	EXPECT_EQ(0U, info.next_idx);
	EXPECT_EQ(0U, info.completed);
	EXPECT_EQ(0U, info.errors);
	EXPECT_EQ(-1, mem_check(info.reserved, 0, sizeof(info.reserved)));
}

/*
 * Copies R0 -> R1, R1 -> R0, a source and a destination that cross the
 * R0/R1 boundary, overlapping copies both ways and an empty one: the data,
 * the statuses, the used index, and the dirty log shows exactly the pages
 * the device wrote (the ring's page and the R0 destinations).
 */
TEST_F(dma, copies_across_regions)
{
	static const struct { uint64_t src, dst; uint32_t len; } c[] = {
		{ G(2) + 0x10, G(19) + 0x20, 3000 },	/* R0 -> R1 */
		{ G(21), G(5), PG },			/* R1 -> R0 */
		{ G(15) + 0x800, G(7) + 0x100, 2 * PG },	/* src crosses */
		{ G(20), G(14) + 0x400, 3 * PG },	/* dst crosses */
		{ G(3), G(3), 0 },			/* empty */
		{ G(24), G(24) + 100, 1000 },		/* overlap, dst > src */
		{ G(10) + 500, G(10), 2000 },		/* overlap, dst < src */
	};
	struct guestmem_dma_kick k;
	struct guestmem_dma_info info;
	uint8_t *model;
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(c); i++) {
		ASSERT_EQ(0, put_desc(self->fd, RING, RING_SIZE, i, c[i].src,
				      c[i].dst, c[i].len));
	}
	ASSERT_EQ(0, set_avail(self->fd, RING, ARRAY_LEN(c)));
	ASSERT_NE(~0ULL, r0_dirty(self->fd, true));

	model = span_read(self->fd);
	ASSERT_NE(NULL, model);
	for (i = 0; i < ARRAY_LEN(c); i++) {
		model_copy(model, c[i].dst, c[i].src, c[i].len);
		model_le32(model, STATUS_GPA(RING, RING_SIZE, i), ST_DONE);
	}
	model_le32(model, RING + 4, ARRAY_LEN(c));

	ASSERT_EQ(0, dma_kick(self->dma, &k));
	EXPECT_EQ(ARRAY_LEN(c), k.processed);
	EXPECT_EQ(0U, k.errors);
	EXPECT_EQ(ARRAY_LEN(c), k.used_idx);
	EXPECT_EQ(0U, k.reserved[0]);
	EXPECT_EQ(0U, k.reserved[1]);
	for (i = 0; i < ARRAY_LEN(c); i++) {
		EXPECT_EQ(ST_DONE, get_status(self->fd, RING, RING_SIZE, i))
			TH_LOG("descriptor %u", i);
	}
	EXPECT_EQ(ARRAY_LEN(c), get_used(self->fd, RING));
	EXPECT_EQ(ARRAY_LEN(c), get_avail(self->fd, RING));
	EXPECT_SPAN(self->fd, model);
	/* The USER region's own memory sees the device's writes. */
	EXPECT_EQ(0, memcmp(self->u1 + 3 * PG + 0x20,
			    model + (G(19) + 0x20 - G(0)), 3000));

	EXPECT_EQ(PAGES(0, 5, 7, 8, 9, 10, 14, 15), r0_dirty(self->fd, true));

	ASSERT_EQ(0, dma_info(self->dma, &info));
	EXPECT_EQ(ARRAY_LEN(c), info.next_idx);
	EXPECT_EQ(ARRAY_LEN(c), info.completed);
	EXPECT_EQ(0U, info.errors);

	/* A kick with nothing pending writes nothing. */
	ASSERT_EQ(0, dma_kick(self->dma, &k));
	EXPECT_EQ(0U, k.processed);
	EXPECT_EQ(ARRAY_LEN(c), k.used_idx);
	EXPECT_EQ(0ULL, r0_dirty(self->fd, false));
	EXPECT_SPAN(self->fd, model);
	free(model);
}

/*
 * Each kind of device write is logged on its own: with the header on the
 * last bytes of page 0 and the descriptors on page 1, the used index
 * (through the cached translation) dirties page 0 only and the status
 * stores (atomics) page 1 only.
 */
TEST_F(dma, dirty_log_ring_pages)
{
	const uint64_t ring = G(1) - 32;
	struct guestmem_dma_ring_hdr zero;
	struct guestmem_dma_kick k;

	memset(&zero, 0, sizeof(zero));
	ASSERT_EQ(0, gm_write(self->fd, ring, &zero, sizeof(zero)));
	ASSERT_EQ(0, dma_bind(self->dma, self->fd, ring, RING_SIZE));
	ASSERT_EQ(0, put_desc(self->fd, ring, RING_SIZE, 0, G(2), G(20), 100));
	ASSERT_EQ(0, put_desc(self->fd, ring, RING_SIZE, 1, G(2), G(32), 100));
	ASSERT_EQ(0, set_avail(self->fd, ring, 2));

	/* Copies into R1 (not logged): statuses, then used. */
	ASSERT_NE(~0ULL, r0_dirty(self->fd, true));
	ASSERT_EQ(0, dma_kick(self->dma, &k));
	EXPECT_EQ(2U, k.processed);
	EXPECT_EQ(1U, k.errors);
	EXPECT_EQ(ST_DONE, get_status(self->fd, ring, RING_SIZE, 0));
	EXPECT_EQ(ST_ERR(ENXIO), get_status(self->fd, ring, RING_SIZE, 1));
	EXPECT_EQ(PAGES(0, 1), r0_dirty(self->fd, true));

	/* A status alone: one more descriptor, used_idx rewritten too. */
	ASSERT_EQ(0, put_desc(self->fd, ring, RING_SIZE, 2, G(2), G(3), 0));
	ASSERT_EQ(0, set_avail(self->fd, ring, 3));
	ASSERT_NE(~0ULL, r0_dirty(self->fd, true));
	ASSERT_EQ(0, dma_kick(self->dma, &k));
	EXPECT_EQ(1U, k.processed);
	EXPECT_EQ(PAGES(0, 1), r0_dirty(self->fd, true));

	/* The doorbell's store of avail_idx alone: page 0. */
	EXPECT_EQ(0, dma_ring_doorbell(self->dma, 3));
	EXPECT_EQ(PAGES(0), r0_dirty(self->fd, true));

	/* Nothing at all when the kick finds nothing to do. */
	ASSERT_EQ(0, dma_kick(self->dma, &k));
	EXPECT_EQ(0ULL, r0_dirty(self->fd, true));
}

/*
 * Failing descriptors get an error status, change nothing else, and do not
 * stop the ones after them.
 */
TEST_F(dma, error_descriptors)
{
	static const struct {
		uint64_t src, dst;
		uint32_t len, flags, reserved, status;
	} c[] = {
		{ G(3), G(17), 100, 0, 0, ST_DONE },
		{ G(3), G(32), 100, 0, 0, ST_ERR(ENXIO) },	/* dst: hole */
		{ G(40), G(3), 100, 0, 0, ST_ERR(ENXIO) },	/* src: hole */
		{ G(3), G(48), 100, 0, 0, ST_ERR(EACCES) },	/* dst: READONLY */
		{ G(3), G(32) - 10, 100, 0, 0, ST_ERR(ENXIO) },	/* dst runs into hole */
		{ G(3), G(4), 100, 1, 0, ST_ERR(EINVAL) },	/* flags */
		{ G(3), G(4), GUESTMEM_DMA_MAX_LEN + 1, 0, 0, ST_ERR(EINVAL) },
		{ G(18), G(4), 50, 0, 0, ST_DONE },
		/* second kick, slots reused */
		{ GPA_END(11), G(3), 100, 0, 0, ST_ERR(EOVERFLOW) },
		{ G(3), G(4), 100, 0, 7, ST_ERR(EINVAL) },	/* reserved */
		{ G(48), G(6), 64, 0, 0, ST_DONE },		/* from READONLY */
		{ G(3), GPA_END(64), 64, 0, 0, ST_ERR(ENXIO) },
	};
	struct guestmem_dma_kick k;
	struct guestmem_dma_info info;
	uint8_t *model, zero[4 * 4096], ro[4 * 4096];
	unsigned int i, first, n;

	for (first = 0; first < ARRAY_LEN(c); first += n) {
		n = first ? ARRAY_LEN(c) - first : RING_SIZE;
		for (i = first; i < first + n; i++) {
			ASSERT_EQ(0, put_desc_full(self->fd, RING, RING_SIZE, i,
						   c[i].src, c[i].dst, c[i].len,
						   c[i].flags, c[i].reserved));
		}
		ASSERT_EQ(0, set_avail(self->fd, RING, first + n));
		model = span_read(self->fd);
		ASSERT_NE(NULL, model);
		for (i = first; i < first + n; i++) {
			if (c[i].status == ST_DONE)
				model_copy(model, c[i].dst, c[i].src, c[i].len);
			model_le32(model, STATUS_GPA(RING, RING_SIZE, i),
				   c[i].status);
		}
		model_le32(model, RING + 4, first + n);
		ASSERT_NE(~0ULL, r0_dirty(self->fd, true));

		ASSERT_EQ(0, dma_kick(self->dma, &k));
		EXPECT_EQ(n, k.processed);
		EXPECT_EQ(first ? 3U : 6U, k.errors);
		EXPECT_EQ(first + n, k.used_idx);
		for (i = first; i < first + n; i++) {
			EXPECT_EQ(c[i].status,
				  get_status(self->fd, RING, RING_SIZE, i))
				TH_LOG("descriptor %u", i);
		}
		EXPECT_EQ(first + n, get_used(self->fd, RING));
		EXPECT_SPAN(self->fd, model);
		/* Ring page, and the destinations of the R0 copies done. */
		EXPECT_EQ(first ? PAGES(0, 6) : PAGES(0, 4),
			  r0_dirty(self->fd, false));
		free(model);
	}
	memset(zero, 0, sizeof(zero));
	ASSERT_EQ(0, gm_read(self->fd, G(48), ro, sizeof(ro)));
	EXPECT_EQ(0, memcmp(zero, ro, sizeof(ro)));

	ASSERT_EQ(0, dma_info(self->dma, &info));
	EXPECT_EQ(ARRAY_LEN(c), info.next_idx);
	EXPECT_EQ(ARRAY_LEN(c), info.completed);
	EXPECT_EQ(9U, info.errors);
}

/* The doorbell: a 4-byte write() of the new avail_idx. */
TEST_F(dma, doorbell_write)
{
	uint32_t idx = 2, bad[2] = { 1, 0 };
	uint8_t *model;
	char c;

	ASSERT_EQ(0, put_desc(self->fd, RING, RING_SIZE, 0, G(2), G(18), 256));
	ASSERT_EQ(0, put_desc(self->fd, RING, RING_SIZE, 1, G(19), G(9), 256));
	model = span_read(self->fd);
	ASSERT_NE(NULL, model);
	model_copy(model, G(18), G(2), 256);
	model_copy(model, G(9), G(19), 256);
	model_le32(model, STATUS_GPA(RING, RING_SIZE, 0), ST_DONE);
	model_le32(model, STATUS_GPA(RING, RING_SIZE, 1), ST_DONE);
	model_le32(model, RING, 2);	/* avail, stored by the device */
	model_le32(model, RING + 4, 2);
	ASSERT_NE(~0ULL, r0_dirty(self->fd, true));

	EXPECT_EQ((ssize_t)sizeof(idx), write(self->dma, &idx, sizeof(idx)));
	EXPECT_SPAN(self->fd, model);
	EXPECT_EQ(PAGES(0, 9), r0_dirty(self->fd, true));

	/* Wrong sizes, a bad buffer, an index past the ring: refused. */
	EXPECT_EQ(-1, write(self->dma, &idx, 3));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->dma, bad, sizeof(bad)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->dma, &idx, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->dma, unmapped_range(PG), 4));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-EINVAL, dma_ring_doorbell(self->dma, 2 + RING_SIZE + 1));
	EXPECT_EQ(-EINVAL, dma_ring_doorbell(self->dma, 1));	/* behind */
	EXPECT_EQ(2U, get_avail(self->fd, RING));
	/* Same index again: stored again, but nothing else is written. */
	EXPECT_EQ(0, dma_ring_doorbell(self->dma, 2));
	EXPECT_EQ(PAGES(0), r0_dirty(self->fd, false));
	EXPECT_SPAN(self->fd, model);

	/* A device, not a file: no position, nothing to read. */
	EXPECT_EQ(-1, pwrite(self->dma, &idx, sizeof(idx), 0));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, lseek(self->dma, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, read(self->dma, &c, 1));
	EXPECT_EQ(EINVAL, errno);
	free(model);
}

/* Free-running indices wrap at 2^32; slots wrap at the ring size. */
TEST_F(dma, index_wrap)
{
	const uint32_t start = 0xfffffffeU;
	struct guestmem_dma_info info;
	struct guestmem_dma_kick k;
	uint32_t i;

	ASSERT_EQ(0, set_avail(self->fd, RING, start));
	ASSERT_EQ(0, put_le32(self->fd, RING + 4, start));
	/* The consumer index starts at the header's used_idx. */
	ASSERT_EQ(0, dma_bind(self->dma, self->fd, RING, RING_SIZE));
	ASSERT_EQ(0, dma_info(self->dma, &info));
	EXPECT_EQ(start, info.next_idx);
	EXPECT_EQ(0U, info.completed);

	for (i = start; i != start + 5; i++) {
		ASSERT_EQ(0, put_desc(self->fd, RING, RING_SIZE, i,
				      G(2) + i % 64, G(4) + 64 * (i % 64), 64));
	}
	ASSERT_EQ(0, set_avail(self->fd, RING, start + 5));
	ASSERT_EQ(0, dma_kick(self->dma, &k));
	EXPECT_EQ(5U, k.processed);
	EXPECT_EQ(3U, k.used_idx);
	EXPECT_EQ(3U, get_used(self->fd, RING));
	for (i = start; i != start + 5; i++) {
		EXPECT_EQ(ST_DONE, get_status(self->fd, RING, RING_SIZE, i))
			TH_LOG("index %#x", i);
	}

	/* A full ring: ring_size descriptors outstanding is allowed. */
	for (i = 3; i != 3 + RING_SIZE; i++) {
		ASSERT_EQ(0, put_desc(self->fd, RING, RING_SIZE, i, G(2),
				      G(5) + 64 * i, 64));
	}
	ASSERT_EQ(0, set_avail(self->fd, RING, 3 + RING_SIZE));
	ASSERT_EQ(0, dma_kick(self->dma, &k));
	EXPECT_EQ(RING_SIZE, k.processed);
	EXPECT_EQ(3 + RING_SIZE, get_used(self->fd, RING));
	for (i = 3; i != 3 + RING_SIZE; i++) {
		EXPECT_EQ(ST_DONE, get_status(self->fd, RING, RING_SIZE, i));
	}
}

/* avail_idx more than ring_size ahead: EPROTO, nothing touched. */
TEST_F(dma, bad_avail_index)
{
	static const uint32_t bad[] = { RING_SIZE + 1, 0xffffffffU, 0x80000000U };
	struct guestmem_dma_info info;
	struct guestmem_dma_kick k;
	unsigned int i;

	for (i = 0; i < RING_SIZE; i++) {
		ASSERT_EQ(0, put_desc(self->fd, RING, RING_SIZE, i, G(2),
				      G(5), 64));
	}
	ASSERT_NE(~0ULL, r0_dirty(self->fd, true));
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		ASSERT_EQ(0, set_avail(self->fd, RING, bad[i]));
		ASSERT_NE(~0ULL, r0_dirty(self->fd, true));
		EXPECT_EQ(-EPROTO, dma_kick(self->dma, &k));
		EXPECT_EQ(0U, k.processed);
		EXPECT_EQ(0U, k.used_idx);
		EXPECT_EQ(0ULL, r0_dirty(self->fd, false));
		EXPECT_EQ(0U, get_used(self->fd, RING));
		EXPECT_EQ(0U, get_status(self->fd, RING, RING_SIZE, 0));
	}
	ASSERT_EQ(0, dma_info(self->dma, &info));
	EXPECT_EQ(0U, info.next_idx);
	EXPECT_EQ(0U, info.completed);
	/* The device is not wedged: a sane index works. */
	ASSERT_EQ(0, set_avail(self->fd, RING, RING_SIZE));
	ASSERT_EQ(0, dma_kick(self->dma, &k));
	EXPECT_EQ(RING_SIZE, k.processed);
	EXPECT_EQ(RING_SIZE, get_used(self->fd, RING));
}

TEST_F(dma, bad_ioctl_args)
{
	static const uint32_t sizes[] = { 0, 3, 6, 100, GUESTMEM_DMA_RING_MAX * 2,
					  0x80000000U, ~0U };
	static const uint64_t gpas[] = { RING + 8, RING + 16, RING + 4, 1,
					 RING + 33 };
	struct guestmem_dma_info info;
	struct guestmem_dma_kick k;
	void *bad = unmapped_range(PG);
	int d2, ret;
	unsigned int i;

	/* BIND */
	EXPECT_EQ(-EINVAL, dma_bind_full(self->dma, self->fd, RING, RING_SIZE,
					 1, ~0U, 0));
	EXPECT_EQ(-EINVAL, dma_bind_full(self->dma, self->fd, RING, RING_SIZE,
					 0x80000000U, ~0U, 0));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-EINVAL, dma_bind_full(self->dma, self->fd, RING,
						 RING_SIZE, 0, i, 1));
		EXPECT_EQ(-EINVAL, dma_bind_full(self->dma, self->fd, RING,
						 RING_SIZE, 0, i, 0x80000000U));
	}
	for (i = 0; i < ARRAY_LEN(sizes); i++) {
		EXPECT_EQ(-EINVAL, dma_bind(self->dma, self->fd, RING, sizes[i]))
			TH_LOG("ring size %u", sizes[i]);
	}
	for (i = 0; i < ARRAY_LEN(gpas); i++) {
		EXPECT_EQ(-EINVAL, dma_bind(self->dma, self->fd, gpas[i], 4))
			TH_LOG("ring gpa %#llx", (unsigned long long)gpas[i]);
	}
	/* The ring would pass 2^64 - 1. */
	EXPECT_EQ(-EOVERFLOW, dma_bind(self->dma, self->fd, GPA_END(32), 1));
	EXPECT_EQ(-EOVERFLOW, dma_bind(self->dma, self->fd, GPA_END(64), 2));
	EXPECT_EQ(-EOVERFLOW, dma_bind(self->dma, self->fd, GPA_END(PG),
				       GUESTMEM_DMA_RING_MAX));
	/* The header must be backed. */
	EXPECT_EQ(-ENXIO, dma_bind(self->dma, self->fd, G(32), 4));
	EXPECT_EQ(-ENXIO, dma_bind(self->dma, self->fd, GPA_END(PG), 4));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->dma, GUESTMEM_DMA_BIND, bad));
	/* Failed binds left the binding alone. */
	ASSERT_EQ(0, dma_info(self->dma, &info));
	EXPECT_EQ(RING, info.ring_gpa);
	EXPECT_EQ(RING_SIZE, info.ring_size);
	/* The largest ring is fine (only the header need be backed). */
	EXPECT_EQ(0, dma_bind(self->dma, self->fd, G(1),
			      GUESTMEM_DMA_RING_MAX));
	EXPECT_EQ(0, dma_bind(self->dma, self->fd, RING, RING_SIZE));

	/* KICK */
	memset(&k, 0, sizeof(k));
	k.flags = 1;
	EXPECT_EQ(-EINVAL, gm_ioctl(self->dma, GUESTMEM_DMA_KICK, &k));
	memset(&k, 0, sizeof(k));
	k.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, gm_ioctl(self->dma, GUESTMEM_DMA_KICK, &k));
	memset(&k, 0, sizeof(k));
	k.reserved[1] = 1ULL << 63;
	EXPECT_EQ(-EINVAL, gm_ioctl(self->dma, GUESTMEM_DMA_KICK, &k));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->dma, GUESTMEM_DMA_KICK, bad));
	/* Input-only fields are ignored on input (processed, errors...). */
	memset(&k, 0, sizeof(k));
	k.processed = 5;
	k.errors = 6;
	k.used_idx = 7;
	EXPECT_EQ(0, gm_ioctl(self->dma, GUESTMEM_DMA_KICK, &k));
	EXPECT_EQ(0U, k.processed);
	EXPECT_EQ(0U, k.used_idx);

	/* GET_INFO, unknown ioctls */
	EXPECT_EQ(-EFAULT, gm_ioctl(self->dma, GUESTMEM_DMA_GET_INFO, bad));
	EXPECT_EQ(-ENOTTY, gm_ioctl(self->dma, _IO(0xB9, 0x84), NULL));
	EXPECT_EQ(-ENOTTY, gm_ioctl(self->dma, GUESTMEM_GET_INFO, &info));
	EXPECT_EQ(-ENOTTY, gm_ioctl(self->dma,
				    _IOR(0xB9, 0x80, struct guestmem_dma_bind),
				    &k));
	/* ... nor do guestmem's fds know the device's ioctls. */
	EXPECT_EQ(-ENOTTY, gm_ioctl(self->fd, GUESTMEM_DMA_KICK, &k));

	/* An unbound device. */
	d2 = dma_open();
	ASSERT_LE(0, d2);
	ASSERT_EQ(0, dma_info(d2, &info));
	EXPECT_EQ(0U, info.ring_gpa);
	EXPECT_EQ(0U, info.ring_size);
	EXPECT_EQ(0U, info.next_idx);
	EXPECT_EQ(-1, mem_check(info.reserved, 0, sizeof(info.reserved)));
	EXPECT_EQ(-ENOTCONN, dma_kick(d2, &k));
	EXPECT_EQ(-ENOTCONN, dma_ring_doorbell(d2, 0));
	EXPECT_EQ(0, gm_ioctl(d2, GUESTMEM_DMA_UNBIND, NULL));
	ret = dma_bind(d2, self->fd, RING, RING_SIZE);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, dma_kick(d2, &k));
	EXPECT_EQ(0, gm_ioctl(d2, GUESTMEM_DMA_UNBIND, NULL));
	EXPECT_EQ(-ENOTCONN, dma_kick(d2, &k));
	ASSERT_EQ(0, dma_info(d2, &info));
	EXPECT_EQ(0U, info.ring_size);
	close(d2);
}

/* Binding to anything but a /dev/guestmem descriptor fails. */
TEST_F(dma, bind_non_guestmem_fd)
{
	struct guestmem_dma_info info;
	int d2, null, memfd, sv[2], closed;

	d2 = dma_open();
	ASSERT_LE(0, d2);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	memfd = memfd_create("not-guestmem", MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	closed = dup(null);
	ASSERT_LE(0, closed);
	close(closed);

	EXPECT_EQ(-EINVAL, dma_bind(d2, null, RING, RING_SIZE));
	EXPECT_EQ(-EINVAL, dma_bind(d2, memfd, RING, RING_SIZE));
	EXPECT_EQ(-EINVAL, dma_bind(d2, sv[0], RING, RING_SIZE));
	EXPECT_EQ(-EINVAL, dma_bind(d2, self->dma, RING, RING_SIZE));
	EXPECT_EQ(-EINVAL, dma_bind(d2, d2, RING, RING_SIZE));
	EXPECT_EQ(-EBADF, dma_bind(d2, -1, RING, RING_SIZE));
	EXPECT_EQ(-EBADF, dma_bind(d2, closed, RING, RING_SIZE));
	EXPECT_EQ(-EBADF, dma_bind(d2, 1 << 30, RING, RING_SIZE));
	ASSERT_EQ(0, dma_info(d2, &info));
	EXPECT_EQ(0U, info.ring_size);

	/* ... and a failed re-bind keeps the current binding. */
	EXPECT_EQ(-EINVAL, dma_bind(self->dma, null, G(1), 4));
	ASSERT_EQ(0, dma_info(self->dma, &info));
	EXPECT_EQ(RING, info.ring_gpa);

	close(sv[0]);
	close(sv[1]);
	close(memfd);
	close(null);
	close(d2);
}

/*
 * A /dev/guestmem descriptor opened O_RDONLY gives the device a read-only
 * reference, through which it could not write guest memory: the bind is
 * refused with EBADF (whatever the ring), and the binding is unchanged.
 */
TEST_F(dma, bind_rdonly_fd)
{
	struct guestmem_dma_info info;
	int ro;

	ro = open(GM_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, dma_bind(self->dma, ro, RING, RING_SIZE));
	EXPECT_EQ(-EBADF, dma_bind(self->dma, ro, G(1), 4));
	ASSERT_EQ(0, dma_info(self->dma, &info));
	EXPECT_EQ(RING, info.ring_gpa);
	close(ro);
}

/*
 * The device holds its own reference on the space: it keeps working after
 * the guestmem fd is closed (seen through a USER region's own memory), and
 * the space (its locked memory) goes away when the device lets go of it,
 * on re-bind or release.
 */
TEST_F(dma, holds_space_reference)
{
	struct guestmem_dma_ring_hdr *hdr;
	struct guestmem_dma_desc *desc;
	struct guestmem_dma_kick k;
	long base;
	uint8_t *u;
	int gfd, d2, pass;

	for (pass = 0; pass < 2; pass++) {
		base = vmlck_kb(0);
		ASSERT_LE(0, base);
		u = map_anon(4 * PG);
		ASSERT_NE(NULL, u);
		memset(u, 0, 4 * PG);
		pat_fill(u + PG, G(1), PG, SEED0 + 1);
		gfd = gm_open();
		ASSERT_LE(0, gfd);
		ASSERT_EQ(0, gm_add_user(gfd, G(0), 4 * PG, u));
		EXPECT_EQ(base + 16, vmlck_kb(0));
		d2 = dma_open();
		ASSERT_LE(0, d2);
		ASSERT_EQ(0, dma_bind(d2, gfd, G(0), 4));
		ASSERT_EQ(0, close(gfd));
		EXPECT_EQ(base + 16, vmlck_kb(0));

		/* Drive the device through the region's own memory. */
		hdr = (void *)u;
		desc = (void *)(u + sizeof(*hdr));
		desc[0].src = htole64(G(1));
		desc[0].dst = htole64(G(2));
		desc[0].len = htole32(PG);
		__atomic_store_n(&hdr->avail_idx, htole32(1), __ATOMIC_RELEASE);
		ASSERT_EQ(0, dma_kick(d2, &k));
		EXPECT_EQ(1U, k.processed);
		EXPECT_EQ(1U, le32toh(__atomic_load_n(&hdr->used_idx,
						     __ATOMIC_ACQUIRE)));
		EXPECT_EQ(ST_DONE, le32toh(desc[0].status));
		EXPECT_EQ(-1, pat_check(u + 2 * PG, G(1), PG, SEED0 + 1));

		if (pass == 0) {
			/* Re-binding drops the old space. */
			ASSERT_EQ(0, dma_bind(d2, self->fd, RING, RING_SIZE));
			EXPECT_EQ(base, wait_vmlck(0, base, SETTLE_MS));
			close(d2);
		} else {
			/* So does releasing the device. */
			close(d2);
			EXPECT_EQ(base, wait_vmlck(0, base, SETTLE_MS));
		}
		munmap(u, 4 * PG);
	}
}

/*
 * Failures of the ring itself stop the device: descriptors in a hole, a
 * read-only ring, the header's region removed (and the cached translation
 * re-resolved when it comes back).
 */
TEST_F(dma, ring_memory_errors)
{
	const uint64_t ring1 = G(32) - 32, ring3 = G(64), ring4 = G(80);
	struct guestmem_dma_ring_hdr *hdr;
	struct guestmem_dma_desc *desc;
	struct guestmem_dma_info info;
	struct guestmem_dma_kick k;
	uint8_t *u4;
	int d2;

	d2 = dma_open();
	ASSERT_LE(0, d2);

	/* Header in R1's last bytes, descriptors in the hole after it. */
	ASSERT_EQ(0, set_avail(self->fd, ring1, 1));
	ASSERT_EQ(0, put_le32(self->fd, ring1 + 4, 0));
	ASSERT_EQ(0, dma_bind(d2, self->fd, ring1, 4));
	EXPECT_EQ(-ENXIO, dma_kick(d2, &k));
	EXPECT_EQ(0U, k.processed);
	EXPECT_EQ(0U, k.used_idx);
	EXPECT_EQ(0U, get_used(self->fd, ring1));

	/* A READONLY VMALLOC ring: readable, the doorbell cannot store. */
	ASSERT_EQ(0, dma_bind(d2, self->fd, G(48), 4));
	EXPECT_EQ(0, dma_kick(d2, &k));
	EXPECT_EQ(0U, k.processed);
	EXPECT_EQ(-EACCES, dma_ring_doorbell(d2, 1));

	/*
	 * A READONLY USER ring filled through its own memory: the copy is
	 * done, but its status cannot be stored: the kick fails there.
	 */
	u4 = map_anon(PG);
	ASSERT_NE(NULL, u4);
	memset(u4, 0, PG);
	hdr = (void *)u4;
	desc = (void *)(u4 + sizeof(*hdr));
	hdr->avail_idx = htole32(1);
	desc[0].src = htole64(G(2));
	desc[0].dst = htole64(G(6));
	desc[0].len = htole32(64);
	ASSERT_EQ(0, gm_add(self->fd, ring4, PG, (uintptr_t)u4,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_READONLY));
	ASSERT_EQ(0, dma_bind(d2, self->fd, ring4, 4));
	EXPECT_EQ(-EACCES, dma_kick(d2, &k));
	EXPECT_EQ(0U, k.processed);
	EXPECT_EQ(0U, k.used_idx);
	EXPECT_EQ(0U, le32toh(desc[0].status));
	EXPECT_EQ(0U, le32toh(hdr->used_idx));

	/* The header's region goes away and comes back. */
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, ring3, PG));
	ASSERT_EQ(0, put_desc(self->fd, ring3, 4, 0, G(2), G(6), 64));
	ASSERT_EQ(0, set_avail(self->fd, ring3, 1));
	ASSERT_EQ(0, dma_bind(d2, self->fd, ring3, 4));
	ASSERT_EQ(0, dma_kick(d2, &k));
	EXPECT_EQ(1U, k.processed);
	EXPECT_EQ(1U, get_used(self->fd, ring3));

	ASSERT_EQ(0, gm_remove(self->fd, ring3, PG));
	EXPECT_EQ(-ENXIO, dma_kick(d2, &k));
	EXPECT_EQ(0U, k.processed);
	EXPECT_EQ(1U, k.used_idx);
	EXPECT_EQ(-ENXIO, dma_ring_doorbell(d2, 2));

	ASSERT_EQ(0, gm_add_vmalloc(self->fd, ring3, PG));
	ASSERT_EQ(0, put_le32(self->fd, ring3 + 4, 1));
	ASSERT_EQ(0, put_desc(self->fd, ring3, 4, 1, G(3), G(8), 64));
	ASSERT_EQ(0, set_avail(self->fd, ring3, 2));
	ASSERT_EQ(0, dma_kick(d2, &k));
	EXPECT_EQ(1U, k.processed);
	EXPECT_EQ(2U, k.used_idx);
	EXPECT_EQ(2U, get_used(self->fd, ring3));
	EXPECT_EQ(ST_DONE, get_status(self->fd, ring3, 4, 1));
	ASSERT_EQ(0, dma_info(d2, &info));
	EXPECT_EQ(2U, info.next_idx);
	EXPECT_EQ(2U, info.completed);

	close(d2);
	ASSERT_EQ(0, gm_remove(self->fd, ring4, PG));
	munmap(u4, PG);
}

struct churn {
	int fd;
	atomic_bool stop;
	atomic_ulong rounds;
	atomic_int err;
};

/*
 * Add a region at G(64), leave it a moment, remove it (bumping the
 * generation twice a round), and fetch-and-clear R0's dirty log.
 */
static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	uint64_t bm;

	while (!atomic_load(&c->stop)) {
		int ret = gm_add_vmalloc(c->fd, G(64), PG);

		if (!ret) {
			sleep_ms(1);
			ret = gm_remove(c->fd, G(64), PG);
		}
		if (!ret)
			ret = gm_dirty_log(c->fd, G(0), 16 * PG, &bm,
					   GUESTMEM_DIRTY_LOG_CLEAR);
		if (ret) {
			atomic_store(&c->err, ret);
			break;
		}
		atomic_fetch_add(&c->rounds, 1);
	}
	return NULL;
}

/*
 * The device keeps working (and KASAN stays quiet) while regions come and
 * go under it: the header's cached translation is revalidated on every
 * generation change, and copies into the churning region either complete
 * or fail with ENXIO.  Runs for at least 400 descriptors, 50 rounds of the
 * churn and 2 s (at most 60 s).
 */
TEST_F_TIMEOUT(dma, region_churn, 300)
{
	struct churn c = { .fd = self->fd };
	unsigned int done = 0, enxio = 0;
	struct guestmem_dma_info info;
	uint64_t start = now_ms();
	pthread_t t;
	uint32_t i;

	ASSERT_EQ(0, pthread_create(&t, NULL, churn_thread, &c));
	for (i = 0; !atomic_load(&c.err); i++) {
		bool churning = i & 1;
		uint64_t dst = churning ? G(64) + 64 * (i % 64) :
					  G(5) + 64 * (i % 64);
		uint64_t elapsed = now_ms() - start;
		uint32_t st;

		if ((i >= 400 && atomic_load(&c.rounds) >= 50 &&
		     elapsed >= 2000) || elapsed >= 60000)
			break;
		ASSERT_EQ(0, put_desc(self->fd, RING, RING_SIZE, i, G(2), dst,
				      64));
		ASSERT_EQ(0, dma_ring_doorbell(self->dma, i + 1))
			TH_LOG("descriptor %u", i);
		st = get_status(self->fd, RING, RING_SIZE, i);
		if (st == ST_DONE) {
			done++;
		} else {
			EXPECT_TRUE(churning);
			EXPECT_EQ(ST_ERR(ENXIO), st);
			enxio++;
		}
	}
	atomic_store(&c.stop, true);
	pthread_join(t, NULL);
	EXPECT_EQ(0, atomic_load(&c.err));
	EXPECT_EQ(i, done + enxio);
	EXPECT_EQ(i, get_used(self->fd, RING));
	ASSERT_EQ(0, dma_info(self->dma, &info));
	EXPECT_EQ(i, info.completed);
	EXPECT_EQ(enxio, info.errors);
	EXPECT_LE(50UL, atomic_load(&c.rounds));
	TH_LOG("%u descriptors: %u done, %u ENXIO; %lu add/remove rounds", i,
	       done, enxio, (unsigned long)atomic_load(&c.rounds));
}

TEST_HARNESS_MAIN
