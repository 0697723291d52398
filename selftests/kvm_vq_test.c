// SPDX-License-Identifier: GPL-2.0
/*
 * The sample virtqueue device (samples/guestmem_vq.c) serving a real KVM
 * guest, the way vhost serves one: the guest's driver (C code run by
 * lib/vmm.c) lays a virtio split virtqueue out in its RAM, which is a
 * guestmem mapping (a VMALLOC region and a USER region over a memfd, one
 * memslot), and kicks with an OUT to an I/O port that KVM_IOEVENTFD turns
 * into a signal of the device's kick eventfd, in the kernel; the device's
 * worker serves the chains and signals its interrupt eventfd, which
 * KVM_IRQFD injects as an MSI (an in-kernel irqchip, a GSI routed with
 * KVM_SET_GSI_ROUTING) into the guest's interrupt handler.  No request
 * exits to user space.
 *
 *  - many requests across the region boundary: every result, status byte
 *    and used-ring entry checked by the guest, each batch announced by an
 *    interrupt; again with EVENT_IDX (an interrupt for each batch's last
 *    request only) and the device busy polling;
 *  - each malformed ring, written by the guest: the device reports it
 *    broken (with the reason) and interrupts once; reset (bound again), it
 *    serves the guest again;
 *  - the guest-visible region removed under the device (requests into it
 *    fail with an I/O error status, the queue lives) and added again;
 *  - a device-only region removed and added, and the device unbound and
 *    bound again (RESUME), by another thread while the guest keeps
 *    submitting: every request completes exactly once;
 *  - the dirty log: guestmem's shows exactly the guest's pages (what
 *    KVM_GET_DIRTY_LOG shows) and the pages the device wrote.
 *
 * No /dev/kvm is a failure, not a skip: the test VMs always have nested SVM.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>

#include "guestmem_util.h"
#include "samples.h"
#include "vmm.h"
#include "kselftest_harness.h"


/*
 * The space (pages relative to G):
 *
 *   [ 0, 16) R0 VMALLOC, DIRTY_LOG: descriptor table (page 0), avail ring
 *            (1), used ring (2), request headers (3), status bytes (4),
 *            sources (5 to 11), an indirect table (12), destinations (13 on)
 *   [16, 32) R1 USER over a memfd, DIRTY_LOG: destinations
 *   [32, 64) hole
 *   [64, 72) R2 VMALLOC, in no memslot: memory only the device reaches
 *
 * [0, 32) is one guestmem mapping, one memslot (KVM_MEM_LOG_DIRTY_PAGES),
 * identity mapped in the guest.
 */
#define G		VMM_TEST_GPA_MIN
#define GP(pg)		(G + (uint64_t)(pg) * PG)
#define NPAGES		32
#define SLOT		1
#define DESC		GP(0)
#define AVAIL		GP(1)
#define USED		GP(2)
#define HDRS		GP(3)
#define STATUS		GP(4)
#define SRC		GP(5)
#define IND		GP(12)
#define BOUNDARY	GP(16)
#define HOLE		GP(32)
#define DEVMEM		GP(64)
#define DEVMEM_PAGES	8

#define NUM		128U		/* queue size */
#define MAXREQ		8U		/* requests per batch, 4 descriptors each */
#define MAXLEN		3000U		/* payload bytes per request */
#define KICK_PORT	0x2000
#define VECTOR		0x40
#define TIMER_VECTOR	0x41
#define GSI		1

#define F_NEXT		1
#define F_WRITE		2
#define F_INDIRECT	4

/* ---- the guest's driver ---------------------------------------------------- */

/* The guest's own copies of these. */
static volatile uint64_t g_irqs;	/* interrupts handled */
static volatile uint64_t g_ticks;	/* watchdog timer ticks (10 ms) */
static uint16_t g_aidx;			/* the driver's avail index */

static void guest_irq(uint64_t vector)
{
	(void)vector;
	g_irqs++;
	guest_x2apic_eoi();
}

static void guest_tick(uint64_t vector)
{
	(void)vector;
	g_ticks++;
	guest_x2apic_eoi();
}

/* x2APIC timer registers (the in-kernel irqchip's APIC runs at 1 GHz). */
#define GUEST_X2APIC_LVT_TIMER	0x832
#define GUEST_X2APIC_TMICT	0x838
#define GUEST_X2APIC_TDCR	0x83e
#define LVT_TIMER_PERIODIC	(1U << 17)

/*
 * A wait for the device gives up after this many ticks (30 s): a lost
 * completion or interrupt fails the test, it does not hang to its timeout.
 */
#define G_WAIT_TICKS		3000

static void g_init(void)
{
	guest_x2apic_enable();
	guest_set_irq_handler(VECTOR, guest_irq);
	/* A periodic 10 ms tick, so that no wait for the device is endless. */
	guest_set_irq_handler(TIMER_VECTOR, guest_tick);
	guest_wrmsr(GUEST_X2APIC_TDCR, 0xb);		/* divide by 1 */
	guest_wrmsr(GUEST_X2APIC_LVT_TIMER, LVT_TIMER_PERIODIC | TIMER_VECTOR);
	guest_wrmsr(GUEST_X2APIC_TMICT, 10000000);	/* 10 ms */
}

/* Rings as after a reset (descriptor table, avail and used rings zeroed). */
static void g_reset_ring(void)
{
	uint64_t a;

	for (a = DESC; a < HDRS; a += 8)
		GUEST_WRITE(uint64_t, a, 0);
	g_aidx = 0;
}

/* Publish @head: the entry, then (ordered after it) the index. */
static void g_avail(uint16_t head)
{
	GUEST_WRITE(uint16_t, AVAIL + 4 + 2 * (g_aidx % NUM), head);
	g_aidx++;
	asm volatile("" : : : "memory");	/* x86 keeps stores in order */
	GUEST_WRITE(uint16_t, AVAIL + 2, g_aidx);
}

static uint16_t g_used_idx(void)
{
	return GUEST_READ(uint16_t, USED + 2);
}

static void g_kick(void)
{
	guest_outw(KICK_PORT, 0);
}

/*
 * Wait until used->idx is @target and an interrupt came after @irqs0 (the
 * device interrupts after its last push): each batch is announced.  A
 * used->idx past @target (a completion duplicated, or one the guest never
 * made available) fails at once; nothing for G_WAIT_TICKS fails too.
 */
static void g_wait(uint16_t target, uint64_t irqs0)
{
	uint64_t t0 = g_ticks;
	uint16_t used;

	for (;;) {
		used = g_used_idx();
		/* Behind by at most a ring's worth, never ahead. */
		GUEST_ASSERT2((uint16_t)(target - used) <= NUM, used, target);
		if (used == target && g_irqs != irqs0)
			return;
		GUEST_ASSERT2(g_ticks - t0 < G_WAIT_TICKS, used, target);
		guest_wait_irq();
	}
}

static void g_fill(uint64_t gpa, uint32_t len, uint64_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		GUEST_WRITE(uint8_t, gpa + i, pat(gpa + i, seed));
}

/* The first offset where [dst, + len) is not src's pattern, or -1. */
static long g_cmp(uint64_t dst, uint64_t src, uint32_t len, uint64_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (GUEST_READ(uint8_t, dst + i) != pat(src + i, seed))
			return i;
	return -1;
}

/*
 * Request @s of a batch (descriptors 4s to 4s + 3): copy @len bytes at @src
 * to @dst; the status byte at STATUS + s.  Returns the head.
 */
static uint16_t g_copy_req(unsigned int s, uint64_t src, uint32_t len,
			   uint64_t dst)
{
	uint16_t d = 4 * s;
	uint64_t hdr = HDRS + 16 * s;

	GUEST_WRITE(uint32_t, hdr, GUESTMEM_VQ_REQ_COPY);
	GUEST_WRITE(uint32_t, hdr + 4, 0);
	GUEST_WRITE(uint8_t, STATUS + s, 0xaa);
	guest_vring_desc(DESC, d, hdr, sizeof(struct guestmem_vq_req_hdr),
			 F_NEXT, d + 1);
	guest_vring_desc(DESC, d + 1, src, len, F_NEXT, d + 2);
	guest_vring_desc(DESC, d + 2, dst, len, F_WRITE | F_NEXT, d + 3);
	guest_vring_desc(DESC, d + 3, STATUS + s, 1, F_WRITE, 0);
	return d;
}

struct g_batch {
	unsigned int n;
	uint64_t seed;
	uint64_t src[MAXREQ], dst[MAXREQ];
	uint32_t len[MAXREQ];
	uint16_t head[MAXREQ];
};

/*
 * The layout of batch @k (1 to MAXREQ requests; guest and host): sources
 * in R0; the first destination straddles the R0/R1 boundary (or starts at
 * @dst0, if given), the others follow it.
 */
static void batch_layout(struct g_batch *b, uint64_t k, uint64_t dst0)
{
	uint64_t dst = dst0;
	unsigned int s;

	b->n = 1 + k % MAXREQ;
	b->seed = k;
	for (s = 0; s < b->n; s++) {
		uint64_t x = k * MAXREQ + s;

		b->len[s] = 1 + (x * 977) % MAXLEN;
		b->src[s] = SRC + (x * 131) % (4 * PG);
		if (!s && !dst0)
			dst = BOUNDARY - b->len[0] / 2;
		b->dst[s] = dst;
		dst += b->len[s] + 64;
	}
}

/* Lay batch @k out in guest memory: sources filled, descriptors written. */
static void g_batch_build(struct g_batch *b, uint64_t k, uint64_t dst0)
{
	unsigned int s;

	batch_layout(b, k, dst0);
	for (s = 0; s < b->n; s++) {
		g_fill(b->src[s], b->len[s], b->seed);
		b->head[s] = g_copy_req(s, b->src[s], b->len[s], b->dst[s]);
	}
}

/* The guest negotiated EVENT_IDX (its own copy of this). */
static bool g_event_idx;

static void g_batch_submit(struct g_batch *b)
{
	uint64_t irqs0 = g_irqs;
	unsigned int s;

	/* EVENT_IDX: an interrupt with the batch's last completion. */
	if (g_event_idx)
		GUEST_WRITE(uint16_t, AVAIL + 4 + 2 * NUM,
			    (uint16_t)(g_aidx + b->n - 1));
	for (s = 0; s < b->n; s++)
		g_avail(b->head[s]);
	g_kick();
	g_wait(g_aidx, irqs0);
}

static uint32_t g_used_id(uint16_t k)
{
	return GUEST_READ(uint32_t, USED + 4 + 8 * (k % NUM));
}

static uint32_t g_used_len(uint16_t k)
{
	return GUEST_READ(uint32_t, USED + 4 + 8 * (k % NUM) + 4);
}

/* Every request of the batch succeeded (its data checked elsewhere). */
static void g_batch_check_status_ok(struct g_batch *b)
{
	uint16_t first = g_aidx - b->n;
	unsigned int s;

	for (s = 0; s < b->n; s++) {
		GUEST_ASSERT_EQ(g_used_id(first + s), b->head[s]);
		GUEST_ASSERT_EQ(g_used_len(first + s), b->len[s] + 1);
		GUEST_ASSERT_EQ(GUEST_READ(uint8_t, STATUS + s), GUESTMEM_VQ_S_OK);
	}
}

/* Every request of the batch (the last ones made available) succeeded. */
static void g_batch_check_ok(struct g_batch *b)
{
	unsigned int s;

	g_batch_check_status_ok(b);
	for (s = 0; s < b->n; s++)
		GUEST_ASSERT_EQ(g_cmp(b->dst[s], b->src[s], b->len[s], b->seed),
				-1);
}

/* Every request of the batch failed with an I/O error, status only. */
static void g_batch_check_ioerr(struct g_batch *b)
{
	uint16_t first = g_aidx - b->n;
	unsigned int s;

	for (s = 0; s < b->n; s++) {
		GUEST_ASSERT_EQ(g_used_id(first + s), b->head[s]);
		GUEST_ASSERT_EQ(g_used_len(first + s), 1);
		GUEST_ASSERT_EQ(GUEST_READ(uint8_t, STATUS + s),
				GUESTMEM_VQ_S_IOERR);
	}
}

/*
 * @nbatch batches across the boundary, with EVENT_IDX if @event_idx; sync
 * (interrupts, requests).
 */
static void guest_batches(uint64_t nbatch, uint64_t seed0, uint64_t event_idx)
{
	struct g_batch b;
	uint64_t k;

	g_event_idx = event_idx;
	g_init();
	g_reset_ring();
	for (k = seed0; k < seed0 + nbatch; k++) {
		g_batch_build(&b, k, 0);
		g_batch_submit(&b);
		g_batch_check_ok(&b);
	}
	GUEST_SYNC2(g_irqs, g_aidx);
}

/* ---- malformed rings ---------------------------------------------------------- */

enum {
	BAD_LOOP, BAD_HEAD, BAD_NEXT, BAD_AVAIL_JUMP, BAD_IND_HOLE,
	BAD_IND_NESTED, BAD_IND_DESC_TABLE, BAD_IND_BIG,
	BAD_IND_NOT_NEGOTIATED, BAD_WRAP, BAD_LONG_CHAIN, NR_BAD
};

/* The most buffers in a chain with this queue size (the device's limit). */
#define MAX_SEGS	1024U

static const struct {
	const char *name;
	uint64_t features;
	int err;
} bad_rings[NR_BAD] = {
	[BAD_LOOP] = { "descriptor loop", 0, -ELOOP },
	[BAD_HEAD] = { "head index out of range", 0, -ERANGE },
	[BAD_NEXT] = { "next index out of range", 0, -ERANGE },
	[BAD_AVAIL_JUMP] = { "avail index jumps by more than the queue size",
			     0, -EPROTO },
	[BAD_IND_HOLE] = { "indirect table in a hole",
			   GUESTMEM_VQ_FEAT_INDIRECT_DESC, -ENXIO },
	[BAD_IND_NESTED] = { "nested indirect table (an entry naming its own table)",
			     GUESTMEM_VQ_FEAT_INDIRECT_DESC, -EBADMSG },
	[BAD_IND_DESC_TABLE] = { "indirect table is the descriptor table",
				 GUESTMEM_VQ_FEAT_INDIRECT_DESC, -EBADMSG },
	[BAD_IND_BIG] = { "indirect table larger than 2^16 descriptors",
			  GUESTMEM_VQ_FEAT_INDIRECT_DESC, -E2BIG },
	[BAD_IND_NOT_NEGOTIATED] = { "indirect descriptor not negotiated", 0,
				     -EBADMSG },
	[BAD_WRAP] = { "buffer wraps past 2^64", 0, -EOVERFLOW },
	[BAD_LONG_CHAIN] = { "chain of more than 1024 buffers",
			     GUESTMEM_VQ_FEAT_INDIRECT_DESC, -E2BIG },
};

/* Make malformed ring @c available (after the entries already used). */
static void g_bad_ring(unsigned int c)
{
	uint16_t i;

	switch (c) {
	case BAD_LOOP:
		guest_vring_desc(DESC, 0, HDRS, 8, F_NEXT, 1);
		guest_vring_desc(DESC, 1, HDRS, 8, F_NEXT, 0);
		g_avail(0);
		break;
	case BAD_HEAD:
		g_avail(NUM);
		break;
	case BAD_NEXT:
		guest_vring_desc(DESC, 0, HDRS, 8, F_NEXT, NUM + 3);
		g_avail(0);
		break;
	case BAD_AVAIL_JUMP:
		guest_vring_desc(DESC, 0, HDRS, 8, 0, 0);
		g_avail(0);
		GUEST_WRITE(uint16_t, AVAIL + 2, g_aidx + NUM);
		break;
	case BAD_IND_HOLE:
		guest_vring_desc(DESC, 0, HOLE, 32, F_INDIRECT, 0);
		g_avail(0);
		break;
	case BAD_IND_NESTED:
		guest_vring_desc(IND, 0, HDRS, 8, F_NEXT, 1);
		guest_vring_desc(IND, 1, IND, 32, F_INDIRECT, 0);
		guest_vring_desc(DESC, 0, IND, 32, F_INDIRECT, 0);
		g_avail(0);
		break;
	case BAD_IND_DESC_TABLE:
		guest_vring_desc(DESC, 0, DESC, 16 * NUM, F_INDIRECT, 0);
		g_avail(0);
		break;
	case BAD_IND_BIG:
		guest_vring_desc(DESC, 0, IND, 16 * 65537, F_INDIRECT, 0);
		g_avail(0);
		break;
	case BAD_IND_NOT_NEGOTIATED:
		guest_vring_desc(IND, 0, HDRS, 8, 0, 0);
		guest_vring_desc(DESC, 0, IND, 16, F_INDIRECT, 0);
		g_avail(0);
		break;
	case BAD_WRAP:
		guest_vring_desc(DESC, 0, ~0ULL - 3, 8, 0, 0);
		g_avail(0);
		break;
	case BAD_LONG_CHAIN:
		/*
		 * One direct buffer, then an indirect table of MAX_SEGS
		 * (pages 12 to 15; longer than the queue is fine, one buffer
		 * too many is not).
		 */
		for (i = 0; i < MAX_SEGS; i++)
			guest_vring_desc(IND, i, HDRS, 8,
					 i + 1U < MAX_SEGS ? F_NEXT : 0, i + 1);
		guest_vring_desc(DESC, 0, HDRS, 8, F_NEXT, 1);
		guest_vring_desc(DESC, 1, IND, 16 * MAX_SEGS, F_INDIRECT, 0);
		g_avail(0);
		break;
	}
}

/*
 * For each malformed ring: write it, kick, wait for the device's interrupt,
 * sync (c, 1, used->idx before); reset the rings, sync (c, 2) (the host
 * binds the device again, fresh); then one good request must complete.
 */
static void guest_bad_rings(void)
{
	struct g_batch b;
	unsigned int c;
	uint64_t irqs0, t0;
	uint16_t used0;

	g_init();
	g_reset_ring();
	for (c = 0; c < NR_BAD; c++) {
		irqs0 = g_irqs;
		used0 = g_used_idx();
		t0 = g_ticks;
		g_bad_ring(c);
		g_kick();
		while (g_irqs == irqs0) {
			GUEST_ASSERT2(g_ticks - t0 < G_WAIT_TICKS, c, 0);
			guest_wait_irq();
		}
		guest_ucall(UCALL_SYNC, c, 1, used0, g_used_idx());
		g_reset_ring();
		GUEST_SYNC2(c, 2);
		g_batch_build(&b, c, 0);
		g_batch_submit(&b);
		g_batch_check_ok(&b);
	}
}

/* ---- regions removed, device rebound -------------------------------------- */

/*
 * R1 removed by the host at sync 1: requests into it fail (I/O error
 * status), the guest never touches it; added again at sync 2: requests
 * into it succeed again.
 */
static void guest_remove_r1(uint64_t rounds)
{
	struct g_batch b;
	uint64_t r;

	g_init();
	g_reset_ring();
	for (r = 0; r < rounds; r++) {
		g_batch_build(&b, 3 * r, 0);
		g_batch_submit(&b);
		g_batch_check_ok(&b);
		GUEST_SYNC2(r, 1);
		g_batch_build(&b, 3 * r + 1, 0);
		g_batch_submit(&b);
		g_batch_check_ioerr(&b);
		GUEST_SYNC2(r, 2);
		g_batch_build(&b, 3 * r + 2, 0);
		g_batch_submit(&b);
		g_batch_check_ok(&b);
	}
	GUEST_SYNC2(g_aidx, 3);
}

static uint64_t devmem_dst(uint64_t k)
{
	return DEVMEM + (k * 61) % PG;
}

/*
 * Batch after batch, alternately into R1 (must succeed) and into R2 (which
 * another thread removes and adds: each request succeeds or fails with an
 * I/O error status); sync (I/O errors, requests).  Then, the host having
 * stopped, one more batch into R2 must succeed (the host checks the data:
 * the guest cannot see R2); sync (k, 4).
 */
static void guest_submit_while_host_churns(uint64_t nbatch)
{
	uint64_t k, ioerrs = 0;
	struct g_batch b;
	unsigned int s;

	g_init();
	g_reset_ring();
	for (k = 0; k < nbatch; k++) {
		uint16_t first;

		g_batch_build(&b, k, k % 2 ? devmem_dst(k) : 0);
		g_batch_submit(&b);
		if (!(k % 2)) {
			g_batch_check_ok(&b);
			continue;
		}
		first = g_aidx - b.n;
		for (s = 0; s < b.n; s++) {
			uint8_t st = GUEST_READ(uint8_t, STATUS + s);

			GUEST_ASSERT_EQ(g_used_id(first + s), b.head[s]);
			if (st == GUESTMEM_VQ_S_OK) {
				GUEST_ASSERT_EQ(g_used_len(first + s),
						b.len[s] + 1);
			} else {
				GUEST_ASSERT_EQ(st, GUESTMEM_VQ_S_IOERR);
				GUEST_ASSERT_EQ(g_used_len(first + s), 1);
				ioerrs++;
			}
		}
	}
	GUEST_SYNC2(ioerrs, g_aidx);
	g_batch_build(&b, nbatch, devmem_dst(nbatch));
	g_batch_submit(&b);
	g_batch_check_status_ok(&b);
	GUEST_SYNC2(nbatch, 4);
}

/* ---- dirty log ------------------------------------------------------------ */

/*
 * Lay the batch out and sync 1 (the host clears both logs); make it
 * available, kick, wait, sync 2 (the host compares the logs); check it.
 */
static void guest_dirty(uint64_t k)
{
	struct g_batch b;

	g_init();
	g_reset_ring();
	g_batch_build(&b, k, 0);
	GUEST_SYNC2(k, 1);
	g_batch_submit(&b);
	GUEST_SYNC2(k, 2);
	g_batch_check_ok(&b);
	GUEST_SYNC2(k, 3);
}

/* The pages [gpa, gpa + len) touches, as bits of the slot's bitmap. */
static uint64_t page_bits(uint64_t gpa, uint64_t len)
{
	uint64_t pg, bits = 0;

	for (pg = (gpa - G) / PG; pg <= (gpa + len - 1 - G) / PG; pg++)
		bits |= 1ULL << pg;
	return bits;
}

/* ---- host ----------------------------------------------------------------- */

FIXTURE(kvq) {
	int gm, memfd, dev, kick, call;
	uint8_t *map, *user;
	struct vm *vm;
	struct vcpu *v;
	pthread_t churner;
	bool churning;
	atomic_bool stop;
	atomic_uint churns;
	int churn_err;
};

FIXTURE_SETUP(kvq)
{
	int ret = sample_load(VQ_DEV, VQ_KO);

	self->dev = -1;
	self->map = MAP_FAILED;
	self->user = MAP_FAILED;
	self->vm = NULL;
	self->kick = -1;
	self->call = -1;
	self->gm = -1;
	self->memfd = -1;
	ASSERT_EQ(0, ret) TH_LOG("no %s (%s)", VQ_DEV, strerror(-ret));

	self->gm = gm_open();
	ASSERT_LE(0, self->gm);
	self->memfd = memfd_create("guestmem-kvq", MFD_CLOEXEC);
	ASSERT_LE(0, self->memfd);
	ASSERT_EQ(0, ftruncate(self->memfd, 16 * PG));
	self->user = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			  self->memfd, 0);
	ASSERT_NE(MAP_FAILED, self->user);
	ASSERT_EQ(0, gm_add(self->gm, GP(0), 16 * PG, 0,
			    GUESTMEM_BACKING_VMALLOC, GUESTMEM_REGION_DIRTY_LOG));
	ASSERT_EQ(0, gm_add(self->gm, GP(16), 16 * PG, (uintptr_t)self->user,
			    GUESTMEM_BACKING_USER, GUESTMEM_REGION_DIRTY_LOG));
	ASSERT_EQ(0, gm_add_vmalloc(self->gm, DEVMEM, DEVMEM_PAGES * PG));
	self->map = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->gm, G);
	ASSERT_NE(MAP_FAILED, self->map);

	self->vm = vm_create();
	ASSERT_NE(NULL, self->vm)
		TH_LOG("no KVM VM (%s): the guest tests need /dev/kvm (nested SVM)",
		       strerror(errno));
	ASSERT_EQ(0, vm_irqchip(self->vm));
	ASSERT_EQ(0, vm_memslot(self->vm, SLOT, G, NPAGES * PG, self->map,
				KVM_MEM_LOG_DIRTY_PAGES));
	ASSERT_EQ(0, vm_map(self->vm, G, G, NPAGES * PG));

	/* The doorbell and the interrupt: both eventfds, both in KVM. */
	self->kick = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->kick);
	self->call = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->call);
	ASSERT_EQ(0, vm_msi_route(self->vm, GSI, 0, VECTOR));
	ASSERT_EQ(0, vm_irqfd(self->vm, self->call, GSI, true));
	ASSERT_EQ(0, vm_ioeventfd(self->vm, self->kick, KICK_PORT, 2,
				  KVM_IOEVENTFD_FLAG_PIO));

	self->dev = open(VQ_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(kvq)
{
	if (self->churning) {
		atomic_store(&self->stop, true);
		pthread_join(self->churner, NULL);
	}
	/* The device first: closing it unbinds it and waits for its work. */
	if (self->dev >= 0)
		close(self->dev);
	vm_free(self->vm);
	if (self->map != MAP_FAILED)
		munmap(self->map, NPAGES * PG);
	if (self->user != MAP_FAILED)
		munmap(self->user, 16 * PG);
	close(self->call);
	close(self->kick);
	close(self->memfd);
	close(self->gm);
}

static int kvq_bind(FIXTURE_DATA(kvq) *self, uint64_t features,
		    uint32_t flags)
{
	return vq_bind_queue(self->dev, self->gm, self->kick, self->call, NUM,
			     DESC, AVAIL, USED, features, flags);
}

static struct guestmem_vq_status kvq_status(FIXTURE_DATA(kvq) *self)
{
	struct guestmem_vq_status st;

	memset(&st, 0xee, sizeof(st));
	if (gm_ioctl(self->dev, GUESTMEM_VQ_GET_STATUS, &st))
		memset(&st, 0xee, sizeof(st));
	return st;
}

/* used->idx as the host sees it, through the mapping. */
static uint16_t host_used_idx(FIXTURE_DATA(kvq) *self)
{
	return __atomic_load_n((uint16_t *)(self->map + (USED - G) + 2),
			       __ATOMIC_ACQUIRE);
}

#define RUN_SYNC2(a, b) do {						\
	int __r = vcpu_next(self->v, &uc);				\
	ASSERT_EQ(UCALL_SYNC, __r) TH_LOG("%s", vcpu_what(self->v, __r)); \
	ASSERT_EQ((uint64_t)(a), uc.args[0]);				\
	ASSERT_EQ((uint64_t)(b), uc.args[1]);				\
} while (0)

#define RUN_DONE() do {							\
	int __r = vcpu_next(self->v, &uc);				\
	ASSERT_EQ(UCALL_DONE, __r) TH_LOG("%s", vcpu_what(self->v, __r)); \
} while (0)

#define NBATCH		48ULL

/*
 * After guest_batches() has made @n requests, having handled @irqs
 * interrupts: all served without an error, one interrupt at least per
 * batch, none the device did not send.  Returns the device's status.
 */
static struct guestmem_vq_status check_batches(struct __test_metadata *_metadata,
					       FIXTURE_DATA(kvq) *self,
					       uint64_t irqs, uint64_t n)
{
	struct guestmem_vq_status st = kvq_status(self);

	EXPECT_EQ(0, st.broken);
	EXPECT_EQ(n, st.requests);
	EXPECT_EQ(0U, st.errors);
	EXPECT_EQ((uint16_t)n, st.used_idx);
	EXPECT_LE(NBATCH, irqs);
	EXPECT_LE(irqs, st.interrupts);
	printf("# %" PRIu64 " requests in %llu batches, %" PRIu64
	       " interrupts handled by the guest, %" PRIu64 " sent\n",
	       n, NBATCH, irqs, (uint64_t)st.interrupts);
	return st;
}

TEST_F_TIMEOUT(kvq, requests_across_boundary, 300)
{
	struct guestmem_vq_status st;
	uint64_t irqs, n, k, want = 0;
	struct ucall uc;
	int r;

	ASSERT_EQ(0, kvq_bind(self, 0, 0));
	self->v = vcpu_add(self->vm, guest_batches, NBATCH, 0, 0, 0);
	ASSERT_NE(NULL, self->v);
	r = vcpu_next(self->v, &uc);
	ASSERT_EQ(UCALL_SYNC, r) TH_LOG("%s", vcpu_what(self->v, r));
	irqs = uc.args[0];
	n = uc.args[1];
	for (k = 0; k < NBATCH; k++)
		want += 1 + k % MAXREQ;
	EXPECT_EQ(want, n);
	st = check_batches(_metadata, self, irqs, n);
	EXPECT_EQ((uint16_t)n, st.last_avail);
	RUN_DONE();
}

#define POLL_PARAM	"/sys/module/guestmem_vq/parameters/poll_us"

/*
 * The same with EVENT_IDX (an interrupt only for each batch's last
 * request) and the device polling after it has caught up.
 */
TEST_F_TIMEOUT(kvq, event_idx_and_polling, 300)
{
	uint64_t irqs, n;
	struct ucall uc;
	int r;

	ASSERT_EQ(0, write_str(POLL_PARAM, "200"));
	ASSERT_EQ(0, kvq_bind(self, GUESTMEM_VQ_FEAT_EVENT_IDX, 0));
	self->v = vcpu_add(self->vm, guest_batches, NBATCH, 100, 1, 0);
	ASSERT_NE(NULL, self->v);
	r = vcpu_next(self->v, &uc);
	EXPECT_EQ(0, write_str(POLL_PARAM, "0"));
	ASSERT_EQ(UCALL_SYNC, r) TH_LOG("%s", vcpu_what(self->v, r));
	irqs = uc.args[0];
	n = uc.args[1];
	check_batches(_metadata, self, irqs, n);
	RUN_DONE();
}

TEST_F_TIMEOUT(kvq, malformed_rings_from_the_guest, 300)
{
	struct guestmem_vq_status st;
	struct ucall uc;
	unsigned int c;
	int r;

	ASSERT_EQ(0, kvq_bind(self, bad_rings[0].features, 0));
	self->v = vcpu_add(self->vm, guest_bad_rings, 0, 0, 0, 0);
	ASSERT_NE(NULL, self->v);
	for (c = 0; c < NR_BAD; c++) {
		TH_LOG("%s", bad_rings[c].name);
		r = vcpu_next(self->v, &uc);
		ASSERT_EQ(UCALL_SYNC, r) TH_LOG("%s", vcpu_what(self->v, r));
		ASSERT_EQ(c, uc.args[0]);
		ASSERT_EQ(1U, uc.args[1]);
		st = kvq_status(self);
		EXPECT_EQ(bad_rings[c].err, st.broken);
		/* Nothing completed from the bad ring; one interrupt for it. */
		EXPECT_EQ(uc.args[2], uc.args[3]);
		EXPECT_EQ(c ? 1 + (c - 1) % MAXREQ : 0U, st.requests);
		EXPECT_EQ(0U, st.errors);
		EXPECT_LE(c ? 2U : 1U, st.interrupts);
		EXPECT_EQ(1U, st.bound);

		RUN_SYNC2(c, 2);
		/* Reset: bound again, fresh, with the next case's features. */
		ASSERT_EQ(0, kvq_bind(self, c + 1 < NR_BAD ?
					    bad_rings[c + 1].features : 0, 0));
		EXPECT_EQ(0, kvq_status(self).broken);
	}
	RUN_DONE();
	st = kvq_status(self);
	EXPECT_EQ(0, st.broken);
	EXPECT_EQ(1 + (NR_BAD - 1) % MAXREQ, st.requests);
	EXPECT_EQ(0U, st.errors);
}

TEST_F_TIMEOUT(kvq, guest_region_removed_and_added, 300)
{
	struct guestmem_vq_status st;
	struct ucall uc;
	uint64_t r;

	ASSERT_EQ(0, kvq_bind(self, 0, 0));
	self->v = vcpu_add(self->vm, guest_remove_r1, 4, 0, 0, 0);
	ASSERT_NE(NULL, self->v);
	for (r = 0; r < 4; r++) {
		RUN_SYNC2(r, 1);
		ASSERT_EQ(0, gm_remove(self->gm, GP(16), 16 * PG));
		RUN_SYNC2(r, 2);
		/* Back, as VMALLOC or as the memfd again. */
		if (r % 2) {
			ASSERT_EQ(0, gm_add(self->gm, GP(16), 16 * PG, 0,
					    GUESTMEM_BACKING_VMALLOC,
					    GUESTMEM_REGION_DIRTY_LOG));
		} else {
			ASSERT_EQ(0, gm_add(self->gm, GP(16), 16 * PG,
					    (uintptr_t)self->user,
					    GUESTMEM_BACKING_USER,
					    GUESTMEM_REGION_DIRTY_LOG));
		}
	}
	RUN_SYNC2(host_used_idx(self), 3);
	st = kvq_status(self);
	EXPECT_EQ(0, st.broken);
	EXPECT_EQ(host_used_idx(self), st.requests);
	EXPECT_LT(0U, st.errors);
	RUN_DONE();
}

/*
 * The other thread: R2 removed and added, the device unbound and bound
 * again where it was (RESUME), over and over.
 */
static void *churner(void *arg)
{
	FIXTURE_DATA(kvq) *self = arg;
	int ret = 0;

	while (!ret && !atomic_load(&self->stop)) {
		ret = gm_remove(self->gm, DEVMEM, DEVMEM_PAGES * PG);
		usleep(500);
		if (!ret)
			ret = gm_add_vmalloc(self->gm, DEVMEM, DEVMEM_PAGES * PG);
		if (!ret)
			ret = gm_ioctl(self->dev, GUESTMEM_VQ_UNBIND, NULL);
		usleep(500);
		if (!ret)
			ret = kvq_bind(self, 0, GUESTMEM_VQ_BIND_RESUME);
		atomic_fetch_add(&self->churns, 1);
		usleep(1000);
	}
	self->churn_err = ret;
	return NULL;
}

TEST_F_TIMEOUT(kvq, rebind_and_remove_while_guest_submits, 600)
{
	struct guestmem_vq_status st;
	uint8_t buf[MAXLEN];
	uint64_t ioerrs, n;
	struct g_batch b;
	struct ucall uc;
	unsigned int s;
	uint32_t i;
	int r;

	ASSERT_EQ(0, kvq_bind(self, 0, 0));
	self->v = vcpu_add(self->vm, guest_submit_while_host_churns, 2 * NBATCH,
			   0, 0, 0);
	ASSERT_NE(NULL, self->v);
	ASSERT_EQ(0, pthread_create(&self->churner, NULL, churner, self));
	self->churning = true;
	r = vcpu_next(self->v, &uc);
	atomic_store(&self->stop, true);
	pthread_join(self->churner, NULL);
	self->churning = false;
	ASSERT_EQ(UCALL_SYNC, r) TH_LOG("%s", vcpu_what(self->v, r));
	ioerrs = uc.args[0];
	n = uc.args[1];
	EXPECT_EQ(0, self->churn_err) TH_LOG("%s", strerror(-self->churn_err));
	st = kvq_status(self);
	EXPECT_EQ(1U, st.bound);
	EXPECT_EQ(0, st.broken);
	EXPECT_EQ((uint16_t)n, st.used_idx);
	EXPECT_EQ((uint16_t)n, host_used_idx(self));
	printf("# %" PRIu64 " requests, %" PRIu64
	       " of them failed (R2 was gone), %u rounds of remove/add and unbind/rebind\n",
	       n, ioerrs, atomic_load(&self->churns));
	EXPECT_LT(0U, atomic_load(&self->churns));

	/* Quiet again: a batch into R2 succeeds, its data is there. */
	RUN_SYNC2(2 * NBATCH, 4);
	batch_layout(&b, 2 * NBATCH, devmem_dst(2 * NBATCH));
	for (s = 0; s < b.n; s++) {
		ASSERT_EQ(0, gm_read(self->gm, b.dst[s], buf, b.len[s]));
		for (i = 0; i < b.len[s]; i++)
			if (buf[i] != pat(b.src[s] + i, b.seed))
				break;
		EXPECT_EQ(b.len[s], i) TH_LOG("request %u", s);
	}
	RUN_DONE();
}

TEST_F_TIMEOUT(kvq, dirty_log_is_guest_and_device_pages, 300)
{
	uint64_t gm, kvm, guest, device;
	struct g_batch b;
	struct ucall uc;
	unsigned int s;
	uint64_t k;

	ASSERT_EQ(0, kvq_bind(self, 0, 0));
	self->v = vcpu_add(self->vm, guest_dirty, 5, 0, 0, 0);
	ASSERT_NE(NULL, self->v);
	for (k = 5; k < 8; k++) {
		if (k > 5)
			ASSERT_EQ(0, vcpu_restart(self->v, guest_dirty, k, 0, 0,
						  0));
		/* The guest reset its rings: the device starts over too. */
		RUN_SYNC2(k, 1);
		ASSERT_EQ(0, kvq_bind(self, 0, 0));
		gm = kvm = ~0ULL;
		ASSERT_EQ(0, gm_dirty_log(self->gm, G, NPAGES * PG, &gm,
					  GUESTMEM_DIRTY_LOG_CLEAR));
		ASSERT_EQ(0, vm_dirty_log(self->vm, SLOT, &kvm));

		RUN_SYNC2(k, 2);
		gm = kvm = ~0ULL;
		ASSERT_EQ(0, gm_dirty_log(self->gm, G, NPAGES * PG, &gm,
					  GUESTMEM_DIRTY_LOG_CLEAR));
		ASSERT_EQ(0, vm_dirty_log(self->vm, SLOT, &kvm));
		/* The guest wrote only the avail ring since sync 1. */
		guest = page_bits(AVAIL, 1);
		/* The device: used ring, status bytes, destinations. */
		batch_layout(&b, k, 0);
		device = page_bits(USED, 1) | page_bits(STATUS, 1);
		for (s = 0; s < b.n; s++)
			device |= page_bits(b.dst[s], b.len[s]);
		EXPECT_EQ(guest, kvm);
		EXPECT_EQ(guest | device, gm);
		printf("# batch %" PRIu64 ": KVM's log 0x%" PRIx64
		       ", guestmem's 0x%" PRIx64 "\n", k, kvm, gm);
		RUN_SYNC2(k, 3);
		RUN_DONE();
	}
}

TEST_HARNESS_MAIN
