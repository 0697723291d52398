// SPDX-License-Identifier: GPL-2.0
/*
 * The sample device samples/guestmem_vq.c end to end, from a process
 * without KVM: the test plays the guest's driver.  It lays a virtio split
 * virtqueue out in a guestmem space (through a shared mapping of the
 * space, as a guest would see its RAM), binds /dev/guestmem_vq to it and to
 * two eventfds, kicks by writing the kick eventfd and waits for completions
 * by reading the interrupt eventfd.  Malformed rings must break the queue
 * with the reason reported; unbinding, rebinding, removing regions and
 * closing fds while another thread kicks must neither lose nor duplicate a
 * completion nor upset the kernel.
 *
 * Loads /modules/guestmem_vq.ko if /dev/guestmem_vq is absent.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>

#include "guestmem_util.h"
#include "samples.h"
#include "kselftest_harness.h"

/*
 * The space (pages from B):
 *
 *   [ 0, 16) R0 VMALLOC: desc table page 0, avail ring page 1, used ring
 *            page 2, indirect tables page 3, buffers from page 4
 *   [16, 32) R1 VMALLOC: more buffers (requests cross the boundary)
 *   [32, 48) hole
 *   [48, 52) R2 VMALLOC, READONLY
 *
 * Everything is mapped once, MAP_SHARED, at mem (the hole and R2 are never
 * touched through it).
 */
#define B		0x200000ULL
#define G(pg)		(B + (uint64_t)(pg) * PG)
#define NPAGES		52
#define NUM		16U
#define DESC		G(0)
#define AVAIL		G(1)
#define USED		G(2)
#define IND		G(3)
#define DATA		G(4)
#define BOUNDARY	G(16)
#define HOLE		G(32)
#define RO		G(48)

#define F_NEXT		1
#define F_WRITE		2
#define F_INDIRECT	4

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vavail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[NUM];
	uint16_t used_event;
};

struct vused_elem {
	uint32_t id;
	uint32_t len;
};

struct vused {
	uint16_t flags;
	uint16_t idx;
	struct vused_elem ring[NUM];
	uint16_t avail_event;
};

FIXTURE(vq) {
	int gm, dev, kick, call;
	uint8_t *mem;
	struct vdesc *desc;
	struct vavail *avail;
	struct vused *used;
	uint16_t aidx;		/* the driver's avail index */
	uint16_t seen;		/* used entries the driver has checked */
	uint16_t next_desc;	/* descriptors are handed out round-robin */
	pthread_t kicker;
	atomic_bool stop;
	bool kicking;
};

FIXTURE_SETUP(vq)
{
	int ret = sample_load(VQ_DEV, VQ_KO);

	if (ret)
		SKIP(return, "no %s (%s)", VQ_DEV, strerror(-ret));
	self->gm = gm_open();
	ASSERT_LE(0, self->gm);
	ASSERT_EQ(0, gm_add_vmalloc(self->gm, G(0), 16 * PG));
	ASSERT_EQ(0, gm_add_vmalloc(self->gm, G(16), 16 * PG));
	ASSERT_EQ(0, gm_add(self->gm, G(48), 4 * PG, 0,
			    GUESTMEM_BACKING_VMALLOC, GUESTMEM_REGION_READONLY));
	self->mem = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->gm, B);
	ASSERT_NE(MAP_FAILED, self->mem);
	self->desc = (void *)(self->mem + (DESC - B));
	self->avail = (void *)(self->mem + (AVAIL - B));
	self->used = (void *)(self->mem + (USED - B));
	self->dev = open(VQ_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->kick = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->kick);
	self->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->call);
}

FIXTURE_TEARDOWN(vq)
{
	if (self->kicking) {
		atomic_store(&self->stop, true);
		pthread_join(self->kicker, NULL);
	}
	if (self->mem && self->mem != MAP_FAILED)
		munmap(self->mem, NPAGES * PG);
	close(self->call);
	close(self->kick);
	close(self->dev);
	close(self->gm);
}

/* The queue at DESC (or @desc), AVAIL and USED. */
static int vq_bind_full(int dev, int gm, int kick, int call, uint32_t num,
			uint64_t features, uint32_t flags, uint64_t desc)
{
	return vq_bind_queue(dev, gm, kick, call, num, desc, AVAIL, USED,
			     features, flags);
}

static int vq_bind(FIXTURE_DATA(vq) *self, uint64_t features, uint32_t flags)
{
	return vq_bind_full(self->dev, self->gm, self->kick, self->call, NUM,
			    features, flags, DESC);
}

static struct guestmem_vq_status vq_status(int dev)
{
	struct guestmem_vq_status st;

	memset(&st, 0xff, sizeof(st));
	if (gm_ioctl(dev, GUESTMEM_VQ_GET_STATUS, &st))
		memset(&st, 0xee, sizeof(st));
	return st;
}

/* A fresh ring: zeroed rings, driver indices at 0. */
static void vq_reset_ring(FIXTURE_DATA(vq) *self)
{
	memset(self->mem, 0, 4 * PG);
	self->aidx = 0;
	self->seen = 0;
	self->next_desc = 0;
}

static void vq_kick(FIXTURE_DATA(vq) *self)
{
	uint64_t one = 1;

	if (write(self->kick, &one, sizeof(one)) != sizeof(one))
		abort();
}

/* Publish @head (entry before index, as virtio_wmb()). */
static void vq_avail(FIXTURE_DATA(vq) *self, uint16_t head)
{
	self->avail->ring[self->aidx % NUM] = head;
	self->aidx++;
	__atomic_store_n(&self->avail->idx, self->aidx, __ATOMIC_RELEASE);
}

/*
 * Wait (on the interrupt eventfd @call) until *@idx reaches @target; -1 if
 * nothing moves for 20 s (a safety net, not a timing assumption).  The
 * interrupts read on the way are added to *@irqs, if given.
 */
static int wait_idx(int call, uint16_t *idx, uint16_t target, uint64_t *irqs)
{
	struct pollfd p = { .fd = call, .events = POLLIN };
	uint64_t cnt;

	for (;;) {
		if (__atomic_load_n(idx, __ATOMIC_ACQUIRE) == target)
			return 0;
		if (poll(&p, 1, 20000) != 1)
			return -1;
		if (read(call, &cnt, sizeof(cnt)) == sizeof(cnt)) {
			if (irqs)
				*irqs += cnt;
		} else if (errno != EAGAIN) {
			return -1;
		}
	}
}

static int vq_wait_used(FIXTURE_DATA(vq) *self, uint16_t target)
{
	return wait_idx(self->call, &self->used->idx, target, NULL);
}

/* The interrupts signalled and not read yet (the eventfd's count). */
static uint64_t drain_call(int call)
{
	uint64_t cnt;

	return read(call, &cnt, sizeof(cnt)) == sizeof(cnt) ? cnt : 0;
}

/* Wait for the interrupt of a broken queue; its reason, or 1 on timeout. */
static int vq_wait_broken(FIXTURE_DATA(vq) *self)
{
	struct pollfd p = { .fd = self->call, .events = POLLIN };
	struct guestmem_vq_status st;
	uint64_t cnt;

	for (;;) {
		st = vq_status(self->dev);
		if (st.broken)
			return st.broken;
		if (poll(&p, 1, 20000) != 1)
			return 1;
		if (read(self->call, &cnt, sizeof(cnt)) != sizeof(cnt) &&
		    errno != EAGAIN)
			return 1;
	}
}

static void *gpa_ptr(FIXTURE_DATA(vq) *self, uint64_t gpa)
{
	return self->mem + (gpa - B);
}

static uint16_t vq_put_desc(FIXTURE_DATA(vq) *self, uint64_t addr,
			    uint32_t len, uint16_t flags)
{
	uint16_t i = self->next_desc++ % NUM;

	self->desc[i] = (struct vdesc){ addr, len, flags, 0 };
	return i;
}

/*
 * A COPY request: header at @hdr, @len payload bytes at @src, copied to
 * @dst, status byte at @status (three or four descriptors).  Returns the
 * head.
 */
static uint16_t vq_copy_req(FIXTURE_DATA(vq) *self, uint64_t hdr, uint64_t src,
			    uint32_t len, uint64_t dst, uint64_t status)
{
	uint16_t d0, d1, d2, d3;

	if (hdr < HOLE) {
		struct guestmem_vq_req_hdr *h = gpa_ptr(self, hdr);

		h->type = GUESTMEM_VQ_REQ_COPY;
		h->reserved = 0;
	}
	d0 = vq_put_desc(self, hdr, sizeof(struct guestmem_vq_req_hdr), F_NEXT);
	d1 = vq_put_desc(self, src, len, F_NEXT);
	d2 = vq_put_desc(self, dst, len, F_WRITE | F_NEXT);
	d3 = vq_put_desc(self, status, 1, F_WRITE);
	self->desc[d0].next = d1;
	self->desc[d1].next = d2;
	self->desc[d2].next = d3;
	return d0;
}

static void fill(FIXTURE_DATA(vq) *self, uint64_t gpa, uint32_t len,
		 unsigned int seed)
{
	uint8_t *p = gpa_ptr(self, gpa);
	uint32_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(gpa + i, seed);
}

static bool same(FIXTURE_DATA(vq) *self, uint64_t dst, uint64_t src,
		 uint32_t len, unsigned int seed)
{
	const uint8_t *p = gpa_ptr(self, dst);
	uint32_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(src + i, seed))
			return false;
	return true;
}

/* The used entry of the @k-th completion. */
static struct vused_elem vq_used(FIXTURE_DATA(vq) *self, uint16_t k)
{
	return self->used->ring[k % NUM];
}

TEST_F(vq, copy_one)
{
	static const char msg[] = "guestmem virtqueue";
	uint8_t *status = gpa_ptr(self, DATA + 2 * PG);
	struct guestmem_vq_status st;
	uint16_t head;

	vq_reset_ring(self);
	ASSERT_EQ(0, vq_bind(self, 0, 0));
	st = vq_status(self->dev);
	ASSERT_EQ(1U, st.bound);
	ASSERT_EQ(0, st.broken);
	memcpy(gpa_ptr(self, DATA + 64), msg, sizeof(msg));
	*status = 0xaa;
	head = vq_copy_req(self, DATA, DATA + 64, sizeof(msg), DATA + PG,
			   DATA + 2 * PG);
	vq_avail(self, head);
	vq_kick(self);
	ASSERT_EQ(0, vq_wait_used(self, 1));
	EXPECT_EQ(head, vq_used(self, 0).id);
	EXPECT_EQ(sizeof(msg) + 1, vq_used(self, 0).len);
	EXPECT_EQ(GUESTMEM_VQ_S_OK, *status);
	EXPECT_STREQ(msg, (char *)gpa_ptr(self, DATA + PG));
	st = vq_status(self->dev);
	EXPECT_EQ(1U, st.requests);
	EXPECT_EQ(0U, st.errors);
	EXPECT_EQ(1U, st.interrupts);
	EXPECT_EQ(1, st.last_avail);
	EXPECT_EQ(1, st.used_idx);
}

struct batch {
	unsigned int n, seed;
	uint64_t src[4], dst[4], st[4];
	uint32_t len[4];
	uint16_t head[4];
};

/*
 * Make @n COPY requests available (sizes and places varied by @seed, many
 * across the R0/R1 boundary), and kick once if @kick.
 */
static void vq_batch_post(struct __test_metadata *_metadata,
			  FIXTURE_DATA(vq) *self, struct batch *b,
			  unsigned int n, unsigned int seed, bool kick)
{
	uint64_t *src = b->src, *dst = b->dst, *st = b->st;
	uint32_t *len = b->len;
	uint16_t *head = b->head;
	unsigned int i;

	ASSERT_LE(n, 4U);
	b->n = n;
	b->seed = seed;
	for (i = 0; i < n; i++) {
		unsigned int k = seed * 4 + i;

		len[i] = 1 + (k * 977) % 3000;
		/*
		 * Sources apart (each has its own pattern) and ending near
		 * the boundary, destinations straddling it.
		 */
		src[i] = BOUNDARY - 4 * PG + i * 3400 + (k * 131) % 384;
		dst[i] = BOUNDARY - 2000 + i * 3100;
		st[i] = DATA + i;
		fill(self, src[i], len[i], k);
		memset(gpa_ptr(self, dst[i]), 0, len[i]);
		*(uint8_t *)gpa_ptr(self, st[i]) = 0xaa;
		head[i] = vq_copy_req(self, DATA + 64 + 16 * i, src[i], len[i],
				      dst[i], st[i]);
		/* The sources of this batch must not overlap its destinations. */
		ASSERT_LE(src[i] + len[i], BOUNDARY - 2000);
	}
	for (i = 0; i < n; i++)
		vq_avail(self, head[i]);
	if (kick)
		vq_kick(self);
}

/* Wait for the batch posted last, check each of its requests. */
static void vq_batch_check(struct __test_metadata *_metadata,
			   FIXTURE_DATA(vq) *self, const struct batch *b)
{
	unsigned int i;

	ASSERT_EQ(0, vq_wait_used(self, self->aidx));
	for (i = 0; i < b->n; i++) {
		struct vused_elem e = vq_used(self, self->seen + i);

		EXPECT_EQ(b->head[i], e.id);
		EXPECT_EQ(b->len[i] + 1, e.len);
		EXPECT_EQ(GUESTMEM_VQ_S_OK, *(uint8_t *)gpa_ptr(self, b->st[i]));
		EXPECT_TRUE(same(self, b->dst[i], b->src[i], b->len[i],
				 b->seed * 4 + i));
	}
	self->seen += b->n;
}

/* Submit a batch, kick once, wait, check each request. */
static void vq_batch(struct __test_metadata *_metadata,
		     FIXTURE_DATA(vq) *self, unsigned int n, unsigned int seed)
{
	struct batch b;

	vq_batch_post(_metadata, self, &b, n, seed, true);
	vq_batch_check(_metadata, self, &b);
}

TEST_F(vq, many_across_boundary)
{
	struct guestmem_vq_status st;
	unsigned int r;

	vq_reset_ring(self);
	ASSERT_EQ(0, vq_bind(self, 0, 0));
	/* 300 requests: the 16-bit indices go round the ring many times. */
	for (r = 0; r < 100; r++)
		vq_batch(_metadata, self, 1 + r % 4, r);
	st = vq_status(self->dev);
	EXPECT_EQ(self->aidx, st.requests);
	EXPECT_EQ(0U, st.errors);
	EXPECT_EQ(self->aidx, st.used_idx);
	EXPECT_EQ(0, st.broken);
}

#define POLL_PARAM	"/sys/module/guestmem_vq/parameters/poll_us"

/*
 * With poll_us, the work keeps looking for requests after it has served
 * all: batches still complete, each with its interrupt (signalled before
 * polling), with and without EVENT_IDX, and unbinding stops a polling run.
 */
TEST_F(vq, busy_polling)
{
	struct guestmem_vq_status st;
	unsigned int r;

	ASSERT_EQ(0, write_str(POLL_PARAM, "2000"));
	vq_reset_ring(self);
	ASSERT_EQ(0, vq_bind(self, 0, 0));
	for (r = 0; r < 40; r++) {
		if (r == 20) {
			ASSERT_EQ(0, gm_ioctl(self->dev, GUESTMEM_VQ_UNBIND, NULL));
			ASSERT_EQ(0, vq_bind(self, GUESTMEM_VQ_FEAT_EVENT_IDX,
					     GUESTMEM_VQ_BIND_RESUME));
		}
		/* EVENT_IDX: an interrupt for the batch's last request. */
		self->avail->used_event = self->aidx + r % 4;
		vq_batch(_metadata, self, 1 + r % 4, r);
	}
	st = vq_status(self->dev);
	EXPECT_EQ(0, st.broken);
	EXPECT_EQ(self->aidx, st.used_idx);
	EXPECT_EQ(0U, st.errors);
	EXPECT_EQ(0, gm_ioctl(self->dev, GUESTMEM_VQ_UNBIND, NULL));
	EXPECT_EQ(0, write_str(POLL_PARAM, "0"));
}

TEST_F(vq, indirect_and_event_idx)
{
	struct vdesc *ind = gpa_ptr(self, IND);
	uint8_t *status = gpa_ptr(self, DATA + 8);
	struct guestmem_vq_status st;
	uint16_t head, target;
	unsigned int i, waited;

	vq_reset_ring(self);
	ASSERT_EQ(0, vq_bind(self, GUESTMEM_VQ_FEAT_INDIRECT_DESC |
				   GUESTMEM_VQ_FEAT_EVENT_IDX, 0));
	/* One chain: a direct header, then an indirect table (out of order). */
	((struct guestmem_vq_req_hdr *)gpa_ptr(self, DATA))->type =
		GUESTMEM_VQ_REQ_COPY;
	fill(self, DATA + PG, 100, 1);
	ind[0] = (struct vdesc){ DATA + PG, 100, F_NEXT, 2 };
	ind[2] = (struct vdesc){ DATA + 2 * PG, 100, F_WRITE | F_NEXT, 1 };
	ind[1] = (struct vdesc){ DATA + 8, 1, F_WRITE, 0 };
	self->desc[5] = (struct vdesc){ DATA, 8, F_NEXT, 9 };
	self->desc[9] = (struct vdesc){ IND, 3 * sizeof(*ind), F_INDIRECT, 0 };
	head = 5;

	/* Three requests; the driver wants an interrupt after the third. */
	self->avail->used_event = 2;
	for (i = 0; i < 3; i++)
		vq_avail(self, head);
	vq_kick(self);
	ASSERT_EQ(0, vq_wait_used(self, 3));
	EXPECT_EQ(GUESTMEM_VQ_S_OK, *status);
	EXPECT_TRUE(same(self, DATA + 2 * PG, DATA + PG, 100, 1));
	EXPECT_EQ(101U, vq_used(self, 2).len);
	EXPECT_EQ(head, vq_used(self, 2).id);
	/* avail_event: the device wants a kick for the next entry. */
	EXPECT_EQ(3, self->used->avail_event);

	/* used_event far ahead: the device completes without interrupting. */
	self->avail->used_event = 100;
	st = vq_status(self->dev);
	vq_avail(self, head);
	vq_avail(self, head);
	vq_kick(self);
	target = 5;
	for (waited = 0; waited < 20000 &&
	     __atomic_load_n(&self->used->idx, __ATOMIC_ACQUIRE) != target;
	     waited++)
		usleep(1000);
	ASSERT_EQ(target, self->used->idx);
	EXPECT_EQ(st.interrupts, vq_status(self->dev).interrupts);

	/* used_event 5: the next completion (used->idx 6) interrupts. */
	self->avail->used_event = 5;
	vq_avail(self, head);
	vq_kick(self);
	ASSERT_EQ(0, vq_wait_used(self, 6));
	st = vq_status(self->dev);
	EXPECT_EQ(6U, st.requests);
	EXPECT_EQ(0U, st.errors);
	EXPECT_EQ(0, st.broken);
}

/*
 * An indirect table longer than the queue (as Linux guests build them when
 * a request has more buffers than the queue has entries): served.  A
 * 400-byte payload in 20 readable pieces is copied into 20 writable
 * pieces, then the status byte: 41 descriptors on a queue of 16.
 */
TEST_F(vq, indirect_longer_than_queue)
{
	struct vdesc *ind = gpa_ptr(self, IND);
	uint8_t *status = gpa_ptr(self, DATA + 8);
	const unsigned int pieces = 20, piece = 20;
	unsigned int i, k = 0;

	vq_reset_ring(self);
	ASSERT_EQ(0, vq_bind(self, GUESTMEM_VQ_FEAT_INDIRECT_DESC, 0));
	((struct guestmem_vq_req_hdr *)gpa_ptr(self, DATA))->type =
		GUESTMEM_VQ_REQ_COPY;
	fill(self, DATA + PG, pieces * piece, 3);
	memset(gpa_ptr(self, DATA + 2 * PG), 0, pieces * piece);
	*status = 0xaa;
	ind[k] = (struct vdesc){ DATA, 8, F_NEXT, k + 1 };
	k++;
	for (i = 0; i < pieces; i++, k++)
		ind[k] = (struct vdesc){ DATA + PG + i * piece, piece, F_NEXT,
					 k + 1 };
	for (i = 0; i < pieces; i++, k++)
		ind[k] = (struct vdesc){ DATA + 2 * PG + i * piece, piece,
					 F_WRITE | F_NEXT, k + 1 };
	ind[k++] = (struct vdesc){ DATA + 8, 1, F_WRITE, 0 };
	ASSERT_LT(NUM, k);
	self->desc[3] = (struct vdesc){ IND, k * sizeof(*ind), F_INDIRECT, 0 };
	vq_avail(self, 3);
	vq_kick(self);
	ASSERT_EQ(0, vq_wait_used(self, 1));
	EXPECT_EQ(0, vq_status(self->dev).broken);
	EXPECT_EQ(3U, vq_used(self, 0).id);
	EXPECT_EQ(pieces * piece + 1, vq_used(self, 0).len);
	EXPECT_EQ(GUESTMEM_VQ_S_OK, *status);
	EXPECT_TRUE(same(self, DATA + 2 * PG, DATA + PG, pieces * piece, 3));
}

TEST_F(vq, request_errors)
{
	struct guestmem_vq_req_hdr *h = gpa_ptr(self, DATA);
	uint8_t *status = gpa_ptr(self, DATA + 8);
	struct guestmem_vq_status st;
	uint16_t head, d;

	vq_reset_ring(self);
	ASSERT_EQ(0, vq_bind(self, 0, 0));

	/* The payload in a hole. */
	head = vq_copy_req(self, DATA, HOLE, 16, DATA + PG, DATA + 8);
	vq_avail(self, head);
	vq_kick(self);
	ASSERT_EQ(0, vq_wait_used(self, 1));
	EXPECT_EQ(GUESTMEM_VQ_S_IOERR, *status);
	EXPECT_EQ(1U, vq_used(self, 0).len);

	/* The destination in a READONLY region (the status byte is not). */
	head = vq_copy_req(self, DATA, DATA + PG, 16, RO, DATA + 8);
	vq_avail(self, head);
	vq_kick(self);
	ASSERT_EQ(0, vq_wait_used(self, 2));
	EXPECT_EQ(GUESTMEM_VQ_S_IOERR, *status);
	EXPECT_EQ(1U, vq_used(self, 1).len);

	/* An unknown request type. */
	head = vq_copy_req(self, DATA, DATA + PG, 16, DATA + 2 * PG, DATA + 8);
	h->type = 77;
	vq_avail(self, head);
	vq_kick(self);
	ASSERT_EQ(0, vq_wait_used(self, 3));
	EXPECT_EQ(GUESTMEM_VQ_S_UNSUPP, *status);
	EXPECT_EQ(1U, vq_used(self, 2).len);

	/* A payload larger than the writable room. */
	head = vq_copy_req(self, DATA, DATA + PG, 16, DATA + 2 * PG, DATA + 8);
	self->desc[(head + 2) % NUM].len = 8;
	vq_avail(self, head);
	vq_kick(self);
	ASSERT_EQ(0, vq_wait_used(self, 4));
	EXPECT_EQ(GUESTMEM_VQ_S_UNSUPP, *status);

	/* No writable buffer at all: used len 0. */
	d = vq_put_desc(self, DATA, 8, 0);
	vq_avail(self, d);
	vq_kick(self);
	ASSERT_EQ(0, vq_wait_used(self, 5));
	EXPECT_EQ(0U, vq_used(self, 4).len);

	/* The status byte in a hole: used len 0, the queue goes on. */
	head = vq_copy_req(self, DATA, DATA + PG, 16, DATA + 2 * PG, HOLE);
	vq_avail(self, head);
	vq_kick(self);
	ASSERT_EQ(0, vq_wait_used(self, 6));
	EXPECT_EQ(0U, vq_used(self, 5).len);

	st = vq_status(self->dev);
	EXPECT_EQ(6U, st.requests);
	EXPECT_EQ(6U, st.errors);
	EXPECT_EQ(0, st.broken);
	self->seen = 6;
	vq_batch(_metadata, self, 2, 3);
}

/* Malformed rings: each breaks the queue with its reason. */
struct bad_ring {
	const char *name;
	uint64_t features;
	unsigned int ndesc;
	struct vdesc desc[4];
	unsigned int nind;
	struct vdesc ind[3];
	uint16_t head;
	uint16_t avail_idx;
	int err;
	unsigned int long_ind;	/* a chained indirect table of this many at IND */
};

/* One more buffer than a chain may hold (1024 with this queue size). */
#define MAX_SEGS	1024U

static const struct bad_ring bad_rings[] = {
	{ "descriptor loop", 0, 2,
	  { { DATA, 8, F_NEXT, 1 }, { DATA, 8, F_NEXT, 0 } }, 0, {}, 0, 0,
	  -ELOOP, 0 },
	{ "head index out of range", 0, 0, {}, 0, {}, NUM, 0, -ERANGE, 0 },
	{ "next index out of range", 0, 1, { { DATA, 8, F_NEXT, NUM + 3 } },
	  0, {}, 0, 0, -ERANGE, 0 },
	{ "avail index jumps", 0, 1, { { DATA, 8, 0, 0 } }, 0, {}, 0,
	  NUM + 1, -EPROTO, 0 },
	{ "indirect table in a hole", GUESTMEM_VQ_FEAT_INDIRECT_DESC, 1,
	  { { HOLE, 32, F_INDIRECT, 0 } }, 0, {}, 0, 0, -ENXIO, 0 },
	{ "nested indirect table (an entry naming its own table)",
	  GUESTMEM_VQ_FEAT_INDIRECT_DESC, 1,
	  { { IND, 32, F_INDIRECT, 0 } }, 2,
	  { { DATA, 8, F_NEXT, 1 }, { IND, 32, F_INDIRECT, 0 } }, 0, 0,
	  -EBADMSG, 0 },
	{ "indirect table is the descriptor table",
	  GUESTMEM_VQ_FEAT_INDIRECT_DESC, 1,
	  { { DESC, 16 * NUM, F_INDIRECT, 0 } }, 0, {}, 0, 0, -EBADMSG, 0 },
	{ "indirect table larger than 2^16 descriptors",
	  GUESTMEM_VQ_FEAT_INDIRECT_DESC, 1,
	  { { IND, 16 * 65537, F_INDIRECT, 0 } }, 0, {}, 0, 0, -E2BIG, 0 },
	{ "chain of more than 1024 buffers (an indirect table of 1024)",
	  GUESTMEM_VQ_FEAT_INDIRECT_DESC, 2,
	  { { DATA, 8, F_NEXT, 1 }, { IND, 16 * MAX_SEGS, F_INDIRECT, 0 } },
	  0, {}, 0, 0, -E2BIG, MAX_SEGS },
	{ "indirect not negotiated", 0, 1, { { IND, 16, F_INDIRECT, 0 } }, 1,
	  { { DATA, 8, 0, 0 } }, 0, 0, -EBADMSG, 0 },
	{ "buffer wraps past 2^64", 0, 1, { { ~0ULL - 3, 8, 0, 0 } }, 0, {},
	  0, 0, -EOVERFLOW, 0 },
};

TEST_F(vq, malformed_rings)
{
	struct vdesc *ind = gpa_ptr(self, IND);
	unsigned int c, i;

	for (c = 0; c < sizeof(bad_rings) / sizeof(bad_rings[0]); c++) {
		const struct bad_ring *t = &bad_rings[c];
		struct guestmem_vq_status st;

		TH_LOG("%s", t->name);
		vq_reset_ring(self);
		ASSERT_EQ(0, vq_bind(self, t->features, 0));
		for (i = 0; i < t->ndesc; i++)
			self->desc[i] = t->desc[i];
		for (i = 0; i < t->nind; i++)
			ind[i] = t->ind[i];
		for (i = 0; i < t->long_ind; i++)
			ind[i] = (struct vdesc){ DATA, 8,
				i + 1 < t->long_ind ? F_NEXT : 0, i + 1 };
		/*
		 * A bad avail index is published at once, never after a good
		 * one: the run the bind queued may be looking already.
		 */
		if (t->avail_idx) {
			self->avail->ring[0] = t->head;
			__atomic_store_n(&self->avail->idx, t->avail_idx,
					 __ATOMIC_RELEASE);
		} else {
			vq_avail(self, t->head);
		}
		vq_kick(self);
		ASSERT_EQ(t->err, vq_wait_broken(self));
		/*
		 * Nothing was completed; more kicks change nothing (once their
		 * run is over: FLUSH waits for it).
		 */
		EXPECT_EQ(0, self->used->idx);
		drain_call(self->call);
		vq_kick(self);
		vq_kick(self);
		ASSERT_EQ(0, gm_ioctl(self->dev, GUESTMEM_VQ_FLUSH, NULL));
		EXPECT_EQ(0, __atomic_load_n(&self->used->idx, __ATOMIC_ACQUIRE));
		st = vq_status(self->dev);
		EXPECT_EQ(t->err, st.broken);
		EXPECT_EQ(0U, st.requests);
		EXPECT_EQ(1U, st.interrupts);
		EXPECT_EQ(0U, drain_call(self->call));
		/* The device reset (a new bind) serves a good ring. */
		vq_reset_ring(self);
		ASSERT_EQ(0, vq_bind(self, 0, 0));
		vq_batch(_metadata, self, 1, c);
		ASSERT_EQ(0, vq_status(self->dev).broken);
	}
}

TEST_F(vq, bind_errors)
{
	struct guestmem_vq_bind b;

	EXPECT_EQ(0U, vq_status(self->dev).bound);
	EXPECT_EQ(-EBADF, vq_bind_full(self->dev, -1, self->kick, self->call,
				       NUM, 0, 0, DESC));
	EXPECT_EQ(-EINVAL, vq_bind_full(self->dev, self->kick, self->kick,
					self->call, NUM, 0, 0, DESC));
	EXPECT_EQ(-EINVAL, vq_bind_full(self->dev, self->gm, self->gm,
					self->call, NUM, 0, 0, DESC));
	EXPECT_EQ(-EINVAL, vq_bind_full(self->dev, self->gm, self->kick,
					self->gm, NUM, 0, 0, DESC));
	EXPECT_EQ(-EBADF, vq_bind_full(self->dev, self->gm, 1000, self->call,
				       NUM, 0, 0, DESC));
	EXPECT_EQ(-EINVAL, vq_bind_full(self->dev, self->gm, self->kick,
					self->call, 3, 0, 0, DESC));
	EXPECT_EQ(-EINVAL, vq_bind_full(self->dev, self->gm, self->kick,
					self->call, 65536, 0, 0, DESC));
	EXPECT_EQ(-EINVAL, vq_bind_full(self->dev, self->gm, self->kick,
					self->call, NUM, 1, 0, DESC));
	EXPECT_EQ(-EINVAL, vq_bind_full(self->dev, self->gm, self->kick,
					self->call, NUM, 0, 2, DESC));
	EXPECT_EQ(-EINVAL, vq_bind_full(self->dev, self->gm, self->kick,
					self->call, NUM, 0, 0, DESC + 8));
	EXPECT_EQ(-EOVERFLOW, vq_bind_full(self->dev, self->gm, self->kick,
					   self->call, NUM, 0, 0, ~0ULL - 15));
	memset(&b, 0, sizeof(b));
	b.guestmem_fd = self->gm;
	b.kick_fd = -1;
	b.call_fd = -1;
	b.num = NUM;
	b.avail_gpa = AVAIL;
	b.used_gpa = USED;
	b.reserved[2] = 1;
	EXPECT_EQ(-EINVAL, gm_ioctl(self->dev, GUESTMEM_VQ_BIND, &b));
	/* RESUME reads used->idx: in a hole it is ENXIO. */
	b.reserved[2] = 0;
	b.used_gpa = HOLE;
	b.flags = GUESTMEM_VQ_BIND_RESUME;
	EXPECT_EQ(-ENXIO, gm_ioctl(self->dev, GUESTMEM_VQ_BIND, &b));
	EXPECT_EQ(0U, vq_status(self->dev).bound);
	EXPECT_EQ(-ENOTTY, gm_ioctl(self->dev, _IO(0xB9, 0x9f), NULL));

	/* No eventfds at all: bound, never kicked; unbind twice is fine. */
	EXPECT_EQ(0, vq_bind_full(self->dev, self->gm, -1, -1, NUM, 0, 0, DESC));
	EXPECT_EQ(1U, vq_status(self->dev).bound);
	EXPECT_EQ(0, gm_ioctl(self->dev, GUESTMEM_VQ_UNBIND, NULL));
	EXPECT_EQ(0, gm_ioctl(self->dev, GUESTMEM_VQ_UNBIND, NULL));
	EXPECT_EQ(0U, vq_status(self->dev).bound);
}

/* A space opened O_RDONLY: the device writes guest memory, so EBADF. */
TEST_F(vq, readonly_space_fd)
{
	int ro = open(GM_DEV, O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, vq_bind_full(self->dev, ro, self->kick, self->call,
				       NUM, 0, 0, DESC));
	close(ro);
	EXPECT_EQ(0U, vq_status(self->dev).bound);
}

/* Kicks that reached the device before UNBIND are served by then. */
TEST_F(vq, unbind_serves_kicked)
{
	unsigned int r;

	vq_reset_ring(self);
	for (r = 0; r < 20; r++) {
		uint16_t head;
		unsigned int i;

		ASSERT_EQ(0, vq_bind(self, 0, r ? GUESTMEM_VQ_BIND_RESUME : 0));
		for (i = 0; i < 3; i++) {
			head = vq_copy_req(self, DATA + 64, DATA + PG, 100,
					   DATA + 2 * PG, DATA + i);
			vq_avail(self, head);
		}
		vq_kick(self);
		ASSERT_EQ(0, gm_ioctl(self->dev, GUESTMEM_VQ_UNBIND, NULL));
		ASSERT_EQ(self->aidx, self->used->idx);
	}
}

static void *kicker(void *arg)
{
	FIXTURE_DATA(vq) *self = arg;
	uint64_t one = 1;

	while (!atomic_load(&self->stop)) {
		if (write(self->kick, &one, sizeof(one)) != sizeof(one))
			break;
		sched_yield();
	}
	return NULL;
}

static void start_kicker(struct __test_metadata *_metadata,
			 FIXTURE_DATA(vq) *self)
{
	ASSERT_EQ(0, pthread_create(&self->kicker, NULL, kicker, self));
	self->kicking = true;
}

/*
 * Unbind and rebind while another thread kicks, with requests pending at
 * each UNBIND: made available and kicked just before it (UNBIND serves
 * them), or made available and not kicked by this thread (served by then
 * if the other thread's kick got there, else by the run the next bind
 * queues).  Every request completes once.
 */
TEST_F(vq, rebind_while_kicking)
{
	struct guestmem_vq_status st;
	struct batch b;
	unsigned int r;
	uint16_t used;

	vq_reset_ring(self);
	ASSERT_EQ(0, vq_bind(self, 0, 0));
	start_kicker(_metadata, self);
	for (r = 0; r < 60; r++) {
		vq_batch_post(_metadata, self, &b, 1 + r % 4, r, r % 2);
		ASSERT_EQ(0, gm_ioctl(self->dev, GUESTMEM_VQ_UNBIND, NULL));
		used = __atomic_load_n(&self->used->idx, __ATOMIC_ACQUIRE);
		/* Never more than was made available. */
		ASSERT_GE(b.n, (uint16_t)(self->aidx - used));
		/* Kicked before UNBIND: served by the time it returned. */
		if (r % 2)
			ASSERT_EQ(self->aidx, used);
		ASSERT_EQ(0, vq_bind(self, r % 4 < 2 ? GUESTMEM_VQ_FEAT_EVENT_IDX : 0,
				     GUESTMEM_VQ_BIND_RESUME));
		/* The rest completes after the bind, without a kick of ours. */
		vq_batch_check(_metadata, self, &b);
		/* EVENT_IDX: the driver asks for an interrupt on each one. */
		self->avail->used_event = self->aidx;
	}
	st = vq_status(self->dev);
	EXPECT_EQ(0, st.broken);
	EXPECT_EQ(self->aidx, st.used_idx);
	EXPECT_EQ(self->aidx, self->used->idx);
}

/*
 * The big ring, for more chains than one run serves: a queue of BIG_NUM in
 * R1 (descriptor table pages 16-19, avail ring page 20, used ring pages
 * 21-23); requests' headers and status bytes at page 24, payloads in R0
 * (sources pages 4-7, destinations pages 8-11).  Every request is the same
 * chain, head 0, made available again and again.
 */
#define BIG_NUM		1024U
#define BIG_DESC	G(16)
#define BIG_AVAIL	G(20)
#define BIG_USED	G(21)
#define BIG_HDR		G(24)
#define BIG_STATUS	(G(24) + 64)
#define BIG_SRC		G(4)
#define BIG_DST		G(8)
#define BIG_PAYLOAD	(4 * PG)

/* One run's budget in the sample: chains, and bytes copied. */
#define PKT_WEIGHT	256U
#define BYTE_WEIGHT	0x80000U

struct big {
	struct vdesc *desc;
	uint16_t *avail;	/* flags, idx, ring[] */
	uint16_t *used;		/* flags, idx, then the entries */
	uint16_t aidx;
};

static int big_bind(FIXTURE_DATA(vq) *self, struct big *g, uint32_t flags)
{
	g->desc = gpa_ptr(self, BIG_DESC);
	g->avail = gpa_ptr(self, BIG_AVAIL);
	g->used = gpa_ptr(self, BIG_USED);
	return vq_bind_queue(self->dev, self->gm, self->kick, self->call,
			     BIG_NUM, BIG_DESC, BIG_AVAIL, BIG_USED, 0, flags);
}

/* Fresh big rings; chain 0 copies @payload bytes (0: only a status). */
static void big_reset(FIXTURE_DATA(vq) *self, struct big *g, uint32_t payload)
{
	struct guestmem_vq_req_hdr *h = gpa_ptr(self, BIG_HDR);
	struct vdesc *d = gpa_ptr(self, BIG_DESC);

	memset(gpa_ptr(self, BIG_DESC), 0, 8 * PG);
	g->aidx = 0;
	h->type = GUESTMEM_VQ_REQ_COPY;
	h->reserved = 0;
	*(uint8_t *)gpa_ptr(self, BIG_STATUS) = 0xaa;
	if (payload) {
		fill(self, BIG_SRC, payload, 9);
		memset(gpa_ptr(self, BIG_DST), 0, payload);
		d[0] = (struct vdesc){ BIG_HDR, 8, F_NEXT, 1 };
		d[1] = (struct vdesc){ BIG_SRC, payload, F_NEXT, 2 };
		d[2] = (struct vdesc){ BIG_DST, payload, F_WRITE | F_NEXT, 3 };
		d[3] = (struct vdesc){ BIG_STATUS, 1, F_WRITE, 0 };
	} else {
		d[0] = (struct vdesc){ BIG_HDR, 8, F_NEXT, 1 };
		d[1] = (struct vdesc){ BIG_STATUS, 1, F_WRITE, 0 };
	}
}

/* Make chain 0 available @n times (entries, then the index once). */
static void big_post(struct big *g, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		g->avail[2 + (uint16_t)(g->aidx + i) % BIG_NUM] = 0;
	g->aidx += n;
	__atomic_store_n(&g->avail[1], g->aidx, __ATOMIC_RELEASE);
}

/* Used entries [from, to) are all chain 0 with @len. */
static bool big_used_ok(struct big *g, uint16_t from, uint16_t to, uint32_t len)
{
	const struct vused_elem *e = (const void *)(g->used + 2);
	uint16_t k;

	for (k = from; k != to; k++)
		if (e[k % BIG_NUM].id != 0 || e[k % BIG_NUM].len != len)
			return false;
	return true;
}

/*
 * More chains in one kick than one run may serve: the run stops at its
 * budget (PKT_WEIGHT chains, or BYTE_WEIGHT bytes copied), queues itself
 * again and signals what it did; every chain completes, with interrupts,
 * and each run interrupted (one interrupt per run at least: a single run
 * serving everything would send one).
 */
TEST_F(vq, run_budget)
{
	struct guestmem_vq_status st;
	struct big g;
	uint64_t irqs = 0;
	unsigned int n;

	/* Chains that copy nothing: the chain count bounds a run. */
	big_reset(self, &g, 0);
	ASSERT_EQ(0, big_bind(self, &g, 0));
	n = 4 * PKT_WEIGHT - 24;
	big_post(&g, n);
	vq_kick(self);
	ASSERT_EQ(0, wait_idx(self->call, &g.used[1], g.aidx, &irqs));
	EXPECT_TRUE(big_used_ok(&g, 0, g.aidx, 1));
	EXPECT_EQ(GUESTMEM_VQ_S_OK, *(uint8_t *)gpa_ptr(self, BIG_STATUS));
	st = vq_status(self->dev);
	EXPECT_EQ(n, st.requests);
	EXPECT_EQ(0U, st.errors);
	EXPECT_EQ(0, st.broken);
	EXPECT_EQ(g.aidx, st.used_idx);
	EXPECT_LE((n + PKT_WEIGHT - 1) / PKT_WEIGHT, st.interrupts)
		TH_LOG("%u chains in one kick served in one run", n);
	irqs += drain_call(self->call);
	EXPECT_EQ(st.interrupts, irqs);

	/* 16 KiB payloads: the bytes bound a run (32 chains). */
	ASSERT_EQ(0, gm_ioctl(self->dev, GUESTMEM_VQ_UNBIND, NULL));
	big_reset(self, &g, BIG_PAYLOAD);
	ASSERT_EQ(0, big_bind(self, &g, 0));
	irqs = 0;
	n = 100;
	big_post(&g, n);
	vq_kick(self);
	ASSERT_EQ(0, wait_idx(self->call, &g.used[1], g.aidx, &irqs));
	EXPECT_TRUE(big_used_ok(&g, 0, g.aidx, BIG_PAYLOAD + 1));
	EXPECT_TRUE(same(self, BIG_DST, BIG_SRC, BIG_PAYLOAD, 9));
	EXPECT_EQ(GUESTMEM_VQ_S_OK, *(uint8_t *)gpa_ptr(self, BIG_STATUS));
	st = vq_status(self->dev);
	EXPECT_EQ(n, st.requests);
	EXPECT_EQ(0U, st.errors);
	EXPECT_LE((n * (BIG_PAYLOAD + 1) + BYTE_WEIGHT - 1) / BYTE_WEIGHT,
		  st.interrupts)
		TH_LOG("%u chains of %u bytes served in %llu runs", n,
		       (unsigned int)BIG_PAYLOAD,
		       (unsigned long long)st.interrupts);
	irqs += drain_call(self->call);
	EXPECT_EQ(st.interrupts, irqs);
}

/*
 * UNBIND while a backlog larger than one run is being served: the run that
 * UNBIND waits for cannot queue itself again (the notifier suppresses
 * it), so chains stay pending; the next bind (RESUME, no kick) queues a
 * run that serves every one of them, with an interrupt.  Some round must
 * have caught chains pending, or the test proved nothing.
 */
TEST_F(vq, unbind_during_backlog)
{
	struct guestmem_vq_status st;
	unsigned int r, pending = 0;
	const unsigned int n = 1000;
	uint16_t used;
	uint64_t irqs;
	struct big g;

	for (r = 0; r < 8; r++) {
		big_reset(self, &g, BIG_PAYLOAD);
		ASSERT_EQ(0, big_bind(self, &g, 0));
		big_post(&g, n);
		vq_kick(self);
		ASSERT_EQ(0, gm_ioctl(self->dev, GUESTMEM_VQ_UNBIND, NULL));
		used = __atomic_load_n(&g.used[1], __ATOMIC_ACQUIRE);
		ASSERT_GE(n, used);
		EXPECT_TRUE(big_used_ok(&g, 0, used, BIG_PAYLOAD + 1));
		/* Nothing runs while unbound. */
		usleep(2000);
		ASSERT_EQ(used, __atomic_load_n(&g.used[1], __ATOMIC_ACQUIRE));
		if (used != n)
			pending++;
		drain_call(self->call);

		ASSERT_EQ(0, big_bind(self, &g, GUESTMEM_VQ_BIND_RESUME));
		irqs = 0;
		ASSERT_EQ(0, wait_idx(self->call, &g.used[1], n, &irqs));
		EXPECT_TRUE(big_used_ok(&g, 0, n, BIG_PAYLOAD + 1));
		st = vq_status(self->dev);
		EXPECT_EQ(0, st.broken);
		EXPECT_EQ(n - used, st.requests);
		EXPECT_EQ(n, st.used_idx);
		irqs += drain_call(self->call);
		EXPECT_EQ(st.interrupts, irqs);
		if (used != n)
			EXPECT_LE(1U, irqs) TH_LOG("round %u: no interrupt", r);
		ASSERT_EQ(0, gm_ioctl(self->dev, GUESTMEM_VQ_UNBIND, NULL));
	}
	EXPECT_LT(0U, pending) TH_LOG("UNBIND never found chains pending");
	EXPECT_TRUE(same(self, BIG_DST, BIG_SRC, BIG_PAYLOAD, 9));
}

/* Regions removed under the device while another thread kicks. */
TEST_F(vq, remove_region_while_kicking)
{
	struct guestmem_vq_status st;
	uint16_t head;
	unsigned int r;

	vq_reset_ring(self);
	ASSERT_EQ(0, vq_bind(self, 0, 0));
	start_kicker(_metadata, self);

	for (r = 0; r < 10; r++) {
		/* The data region goes: requests into it fail, the queue lives. */
		ASSERT_EQ(0, gm_remove(self->gm, G(16), 16 * PG));
		head = vq_copy_req(self, DATA, DATA + PG, 64, G(20), DATA + 8);
		vq_avail(self, head);
		vq_kick(self);
		ASSERT_EQ(0, vq_wait_used(self, self->aidx));
		EXPECT_EQ(GUESTMEM_VQ_S_IOERR, *(uint8_t *)gpa_ptr(self, DATA + 8));
		self->seen = self->aidx;
		ASSERT_EQ(0, gm_add_vmalloc(self->gm, G(16), 16 * PG));
		vq_batch(_metadata, self, 1 + r % 4, r);
		EXPECT_EQ(0, vq_status(self->dev).broken);
	}

	/* The ring's region goes: the queue breaks (ENXIO), the host lives. */
	ASSERT_EQ(0, gm_remove(self->gm, G(0), 16 * PG));
	vq_kick(self);
	ASSERT_EQ(-ENXIO, vq_wait_broken(self));
	st = vq_status(self->dev);
	EXPECT_EQ(1U, st.bound);
	/* Back, and bound afresh, it serves again. */
	ASSERT_EQ(0, gm_add_vmalloc(self->gm, G(0), 16 * PG));
	vq_reset_ring(self);
	ASSERT_EQ(0, vq_bind(self, 0, 0));
	vq_batch(_metadata, self, 4, 99);
	EXPECT_EQ(0, vq_status(self->dev).broken);
}

/* The space's fd closed: the device's reference and the mapping keep it. */
TEST_F(vq, close_space_fd)
{
	vq_reset_ring(self);
	ASSERT_EQ(0, vq_bind(self, 0, 0));
	ASSERT_EQ(0, close(self->gm));
	self->gm = -1;
	vq_batch(_metadata, self, 4, 5);
	EXPECT_EQ(4U, vq_status(self->dev).requests);
}

/*
 * The device's file closed while another thread kicks, then the module
 * unloaded and loaded again: no work is left behind.
 */
TEST_F(vq, close_and_unload_while_kicking)
{
	unsigned int r;

	vq_reset_ring(self);
	start_kicker(_metadata, self);
	for (r = 0; r < 20; r++) {
		ASSERT_EQ(0, vq_bind(self, 0, r ? GUESTMEM_VQ_BIND_RESUME : 0));
		vq_batch(_metadata, self, 1 + r % 4, r);
		close(self->dev);
		self->dev = open(VQ_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->dev);
	}
	close(self->dev);
	self->dev = -1;
	atomic_store(&self->stop, true);
	pthread_join(self->kicker, NULL);
	self->kicking = false;
	if (access(VQ_KO, R_OK))
		SKIP(return, "no %s to load again", VQ_KO);
	ASSERT_EQ(0, system("rmmod guestmem_vq"));
	ASSERT_EQ(0, sample_load(VQ_DEV, VQ_KO));
	self->dev = open(VQ_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, vq_bind(self, 0, GUESTMEM_VQ_BIND_RESUME));
	vq_batch(_metadata, self, 2, 77);
}

TEST_HARNESS_MAIN
