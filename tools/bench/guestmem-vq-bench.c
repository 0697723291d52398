// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem-vq-bench: the K4 row of `make bench`, a KVM guest's requests to
 * an emulated device served in the kernel against the same device logic in
 * user space.
 *
 *   guestmem-vq-bench [-r REPS]
 *
 * One VM (selftests/lib/vmm.c: one vCPU, an in-kernel irqchip) whose RAM is
 * a mapping of a VMALLOC region of a guestmem space, with two virtio split
 * virtqueues in it.  The guest's driver (the same C function for both)
 * posts COPY requests (payloads of 64, 256, 1024 and 4096 bytes in turn),
 * kicks with an OUT to an I/O port and halts until its interrupt handler
 * has run and every request is used.
 *
 *   in-kernel: queue A is served by samples/guestmem_vq.ko: the port is a
 *              KVM_IOEVENTFD on the device's kick eventfd, the device's
 *              worker walks the ring and copies with guestmem's in-kernel
 *              API, and its interrupt eventfd is a KVM_IRQFD on an MSI
 *              route.  No exit to user space.
 *   user space: queue B is served by this process: the OUT exits KVM_RUN
 *              (KVM_EXIT_IO), a handler reads avail->idx, the ring entry,
 *              the four descriptors and the header, copies the payload and
 *              writes the status, the used entry and used->idx, each with
 *              one GUESTMEM_READ or GUESTMEM_WRITE (as a VMM without a
 *              mapping of guest memory does), signals the same kind of
 *              irqfd (write(2) on its eventfd) and enters KVM_RUN again.
 *
 * Throughput (the row): up to 64 requests in flight (a queue of 256), kicks
 * and interrupts as EVENT_IDX asks, requests per second.  Diagnostics:
 * batches of 8 requests per kick, each waited for, and one request per
 * kick, the round trip (kick to the guest's handler having seen the
 * completion).  The sides run alternately; each figure is the
 * median over the repetitions, the ratio the median of the per-repetition
 * ratios.  Prints "GMBENCH|..." and "GMDIAG|..." lines as
 * tools/bench/guestmem-bench does.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/guestmem.h>

#include "bench_util.h"
#include "guestmem_util.h"
#include "samples.h"
#include "vmm.h"

#define G		VMM_TEST_GPA_MIN
#define GP(pg)		(G + (uint64_t)(pg) * PG)
#define SPACE_PAGES	128
#define SLOT		1
#define NUM		256U
#define BATCH		8U		/* throughput: requests per kick */
#define TPUT_REQS	1024U		/* requests per throughput slice */
#define LAT_REQS	128U		/* round trips per latency slice */
#define PORT_KERNEL	0x2000
#define PORT_USER	0x2002
#define VECTOR		0x40
#define GSI		1

/* A queue's layout: 4 pages from its base. */
#define Q_DESC(q)	(q)
#define Q_AVAIL(q)	((q) + PG)
#define Q_USED(q)	((q) + 2 * PG)
#define Q_HDR(q)	((q) + 3 * PG)			/* 16 bytes a slot */
#define Q_STATUS(q)	((q) + 3 * PG + 2048)		/* one byte a slot */
/* EVENT_IDX: used_event after the avail ring, avail_event after the used. */
#define Q_USED_EVENT(q)	(Q_AVAIL(q) + 4 + 2 * NUM)
#define Q_AVAIL_EVENT(q) (Q_USED(q) + 4 + 8 * NUM)
#define QUEUE_A		GP(0)
#define QUEUE_B		GP(4)
#define SRC(s)		(GP(16) + (uint64_t)(s) * PG)	/* 4 KiB a slot */
#define DST(s)		(GP(32) + (uint64_t)(s) * PG)

#define F_NEXT		1
#define F_WRITE		2

static uint32_t req_len(uint32_t k)
{
	static const uint32_t lens[] = { 64, 256, 1024, 4096 };

	return lens[k % 4];
}

/* ---- the guest's driver (the same for both sides) ------------------------ */

static volatile uint64_t guest_irqs;

static void guest_irq(uint64_t vector)
{
	(void)vector;
	guest_irqs++;
	guest_x2apic_eoi();
}

/*
 * @nreq requests on queue @q, @batch per kick at @port; each batch waits
 * for its interrupt and checks its used entries.  The avail index is read
 * back from the ring, so slices follow each other.
 */
static void guest_driver(uint64_t q, uint64_t port, uint64_t nreq,
			 uint64_t batch)
{
	uint16_t aidx = GUEST_READ(uint16_t, Q_AVAIL(q) + 2);
	uint64_t done, irqs0;
	uint32_t s, k = 0;

	guest_x2apic_enable();
	guest_set_irq_handler(VECTOR, guest_irq);
	for (done = 0; done < nreq; done += batch) {
		irqs0 = guest_irqs;
		for (s = 0; s < batch; s++) {
			uint32_t len = req_len(k + s);
			uint16_t d = 4 * s;

			GUEST_WRITE(uint32_t, Q_HDR(q) + 16 * s,
				    GUESTMEM_VQ_REQ_COPY);
			GUEST_WRITE(uint32_t, Q_HDR(q) + 16 * s + 4, 0);
			guest_vring_desc(Q_DESC(q), d, Q_HDR(q) + 16 * s, 8, F_NEXT, d + 1);
			guest_vring_desc(Q_DESC(q), d + 1, SRC(s), len, F_NEXT, d + 2);
			guest_vring_desc(Q_DESC(q), d + 2, DST(s), len, F_WRITE | F_NEXT, d + 3);
			guest_vring_desc(Q_DESC(q), d + 3, Q_STATUS(q) + s, 1, F_WRITE, 0);
			GUEST_WRITE(uint16_t, Q_AVAIL(q) + 4 + 2 * ((aidx + s) % NUM), d);
		}
		aidx += batch;
		/* EVENT_IDX: an interrupt with the batch's last completion. */
		GUEST_WRITE(uint16_t, Q_USED_EVENT(q), aidx - 1);
		asm volatile("" : : : "memory");
		GUEST_WRITE(uint16_t, Q_AVAIL(q) + 2, aidx);
		guest_outw(port, 0);
		while (GUEST_READ(uint16_t, Q_USED(q) + 2) != aidx ||
		       guest_irqs == irqs0)
			guest_wait_irq();
		for (s = 0; s < batch; s++) {
			uint16_t u = aidx - batch + s;

			GUEST_ASSERT_EQ(GUEST_READ(uint32_t, Q_USED(q) + 4 + 8 * (u % NUM) + 4),
					req_len(k + s) + 1);
		}
		k += batch;
	}
}

#define INFLIGHT	(NUM / 4)	/* chains of 4 descriptors */

/* virtio's vring_need_event(): did the index pass @event going old -> new? */
static inline bool need_event(uint16_t event, uint16_t new, uint16_t old)
{
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

/*
 * Throughput: @nreq requests kept in flight, up to INFLIGHT, as a virtio
 * driver with EVENT_IDX does: each one made available as soon as a slot is
 * free, a kick only when the device asked for one (avail_event, after a
 * full barrier), completions reaped from the used ring, and only when
 * nothing completed and nothing can be added an interrupt asked for
 * (used_event) and a HLT until it comes.
 */
static void guest_pipeline(uint64_t q, uint64_t port, uint64_t nreq,
			   uint64_t unused)
{
	uint16_t aidx = GUEST_READ(uint16_t, Q_AVAIL(q) + 2);
	uint16_t seen = aidx;
	uint64_t submitted = 0, completed = 0;

	(void)unused;
	guest_x2apic_enable();
	guest_set_irq_handler(VECTOR, guest_irq);
	while (completed < nreq) {
		bool added = false;
		uint16_t u = GUEST_READ(uint16_t, Q_USED(q) + 2);

		for (; seen != u; seen++, completed++) {
			uint32_t s = seen % INFLIGHT;
			uint64_t e = Q_USED(q) + 4 + 8 * (seen % NUM);

			GUEST_ASSERT_EQ(GUEST_READ(uint32_t, e), 4 * s);
			GUEST_ASSERT_EQ(GUEST_READ(uint32_t, e + 4),
					req_len(completed) + 1);
		}
		while (submitted < nreq && (uint16_t)(aidx - seen) < INFLIGHT) {
			uint32_t s = aidx % INFLIGHT, len = req_len(submitted);
			uint16_t d = 4 * s;

			GUEST_WRITE(uint32_t, Q_HDR(q) + 16 * s,
				    GUESTMEM_VQ_REQ_COPY);
			GUEST_WRITE(uint32_t, Q_HDR(q) + 16 * s + 4, 0);
			guest_vring_desc(Q_DESC(q), d, Q_HDR(q) + 16 * s, 8, F_NEXT, d + 1);
			guest_vring_desc(Q_DESC(q), d + 1, SRC(s % 8), len, F_NEXT, d + 2);
			guest_vring_desc(Q_DESC(q), d + 2, DST(s % 8), len, F_WRITE | F_NEXT, d + 3);
			guest_vring_desc(Q_DESC(q), d + 3, Q_STATUS(q) + s, 1, F_WRITE, 0);
			GUEST_WRITE(uint16_t, Q_AVAIL(q) + 4 + 2 * (aidx % NUM), d);
			aidx++;
			asm volatile("" : : : "memory");
			GUEST_WRITE(uint16_t, Q_AVAIL(q) + 2, aidx);
			submitted++;
			added = true;
			/* The index before avail_event (virtio_mb()). */
			asm volatile("mfence" : : : "memory");
			if (need_event(GUEST_READ(uint16_t, Q_AVAIL_EVENT(q)),
				       aidx, aidx - 1))
				guest_outw(port, 0);
		}
		if (added || completed == nreq)
			continue;
		/* An interrupt once used->idx passes @seen; then look again. */
		GUEST_WRITE(uint16_t, Q_USED_EVENT(q), seen);
		asm volatile("mfence" : : : "memory");
		while (GUEST_READ(uint16_t, Q_USED(q) + 2) == seen)
			guest_wait_irq();
	}
}

/* ---- the user-space device ------------------------------------------------ */

struct udev {
	int gm, call;
	uint16_t last_avail;
	uint8_t buf[4096];
};

static void gm_rw(int fd, unsigned long cmd, uint64_t gpa, void *buf,
		  uint64_t len)
{
	struct guestmem_io io = { .gpa = gpa, .len = len, .buf = (uintptr_t)buf };

	if (ioctl(fd, cmd, &io))
		die("%s at %#" PRIx64, cmd == GUESTMEM_READ ? "GUESTMEM_READ" :
		    "GUESTMEM_WRITE", gpa);
}

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Serve every available chain of queue B, then interrupt. */
static void udev_kick(struct udev *u)
{
	const uint64_t q = QUEUE_B;
	uint16_t avail_idx, head, used_idx, old_used, event;
	uint64_t one = 1;

	gm_rw(u->gm, GUESTMEM_READ, Q_USED(q) + 2, &old_used, 2);
	gm_rw(u->gm, GUESTMEM_READ, Q_AVAIL(q) + 2, &avail_idx, 2);
	if ((uint16_t)(avail_idx - u->last_avail) > NUM) {
		errno = EPROTO;
		die("avail index");
	}
	while (u->last_avail != avail_idx) {
		struct vdesc d[4];
		struct guestmem_vq_req_hdr hdr;
		uint32_t used[2];
		uint8_t status = GUESTMEM_VQ_S_OK;
		uint16_t i = 0;
		int n = 0;

		gm_rw(u->gm, GUESTMEM_READ, Q_AVAIL(q) + 4 + 2 * (u->last_avail % NUM),
		      &head, 2);
		if (head >= NUM) {
			errno = ERANGE;
			die("head");
		}
		/* The chain: header, source; destination, status. */
		for (i = head; n < 4; i = d[n - 1].next) {
			if (i >= NUM) {
				errno = ERANGE;
				die("next");
			}
			gm_rw(u->gm, GUESTMEM_READ, Q_DESC(q) + 16ULL * i, &d[n], 16);
			if (!(d[n++].flags & F_NEXT))
				break;
		}
		if (n != 4 || d[1].len > sizeof(u->buf) || d[2].len < d[1].len) {
			errno = EBADMSG;
			die("chain");
		}
		gm_rw(u->gm, GUESTMEM_READ, d[0].addr, &hdr, sizeof(hdr));
		if (hdr.type != GUESTMEM_VQ_REQ_COPY || hdr.reserved)
			status = GUESTMEM_VQ_S_UNSUPP;
		else {
			gm_rw(u->gm, GUESTMEM_READ, d[1].addr, u->buf, d[1].len);
			gm_rw(u->gm, GUESTMEM_WRITE, d[2].addr, u->buf, d[1].len);
		}
		gm_rw(u->gm, GUESTMEM_WRITE, d[3].addr, &status, 1);
		gm_rw(u->gm, GUESTMEM_READ, Q_USED(q) + 2, &used_idx, 2);
		used[0] = head;
		used[1] = status ? 1 : d[1].len + 1;
		gm_rw(u->gm, GUESTMEM_WRITE, Q_USED(q) + 4 + 8 * (used_idx % NUM),
		      used, sizeof(used));
		used_idx++;
		gm_rw(u->gm, GUESTMEM_WRITE, Q_USED(q) + 2, &used_idx, 2);
		u->last_avail++;
	}
	/* EVENT_IDX: a kick for the next request; an interrupt if asked. */
	gm_rw(u->gm, GUESTMEM_WRITE, Q_AVAIL_EVENT(q), &u->last_avail, 2);
	gm_rw(u->gm, GUESTMEM_READ, Q_USED(q) + 2, &used_idx, 2);
	gm_rw(u->gm, GUESTMEM_READ, Q_USED_EVENT(q), &event, 2);
	if (need_event(event, used_idx, old_used) &&
	    write(u->call, &one, sizeof(one)) != sizeof(one))
		die("write call eventfd");
}

/* ---- runs ------------------------------------------------------------------ */

/*
 * The watchdog: every 100 ms of a slice, if used->idx has not moved, it
 * signals the interrupt eventfd itself (a "poke": the guest rechecks its
 * ring), and after 30 s without progress it reports the state and exits.
 * Pokes are counted and reported: one means 100 ms without a completion,
 * a stall of the host (other VMs on it) or a lost wake-up below (a guest
 * in HLT waiting for an interrupt that was sent).
 */
static struct {
	uint8_t *map;
	int dev, call;
	bool kernel;
	uint64_t batch;
	uint16_t last_used;
	unsigned int still;
	volatile unsigned long pokes, pokes_idle;
	struct vcpu *vcpu;
} wd;

static uint16_t map16(uint64_t gpa)
{
	return *(volatile uint16_t *)(wd.map + (gpa - G));
}

static void watchdog(int sig)
{
	struct guestmem_vq_status st;
	uint64_t q = wd.kernel ? QUEUE_A : QUEUE_B, one = 1;

	(void)sig;
	if (map16(Q_USED(q) + 2) != wd.last_used) {
		wd.last_used = map16(Q_USED(q) + 2);
		wd.still = 0;
		return;
	}
	if (++wd.still < 300) {
		if (write(wd.call, &one, sizeof(one)) == sizeof(one)) {
			wd.pokes++;
			/* Nothing left for the device: the guest waits. */
			if (map16(Q_AVAIL(q) + 2) == map16(Q_USED(q) + 2))
				wd.pokes_idle++;
		}
		return;
	}
	memset(&st, 0, sizeof(st));
	ioctl(wd.dev, GUESTMEM_VQ_GET_STATUS, &st);
	{
		struct kvm_regs regs;
		struct kvm_lapic_state lapic;

		memset(&regs, 0, sizeof(regs));
		ioctl(wd.vcpu->fd, KVM_GET_REGS, &regs);
		ioctl(wd.vcpu->fd, KVM_GET_LAPIC, &lapic);
		struct kvm_mp_state mp = { 0 };

		ioctl(wd.vcpu->fd, KVM_GET_MP_STATE, &mp);
		printf("GMDIAG|stuck vCPU|rip %#llx rflags %#llx rax %#llx rbx %#llx rbp %#llx r12 %#llx r13 %#llx r14 %#llx r15 %#llx mp %u exit %u ISR2 %#x IRR2 %#x TPR %#x PPR %#x SVR %#x\n",
		       regs.rip, regs.rflags, regs.rax, regs.rbx, regs.rbp,
		       regs.r12, regs.r13, regs.r14, regs.r15, mp.mp_state,
		       wd.vcpu->run->exit_reason,
		       *(uint32_t *)(lapic.regs + 0x120),
		       *(uint32_t *)(lapic.regs + 0x220),
		       *(uint32_t *)(lapic.regs + 0x80),
		       *(uint32_t *)(lapic.regs + 0xa0),
		       *(uint32_t *)(lapic.regs + 0xf0));
	}
	printf("GMBENCH-ERROR|K4 %s slice (batch %" PRIu64 ") stuck: avail->idx %u, used->idx %u, used->flags %u; device: broken %d, last_avail %u, used_idx %u, requests %" PRIu64 ", interrupts %" PRIu64 "\n",
	       wd.kernel ? "in-kernel" : "user-space", wd.batch,
	       map16(Q_AVAIL(q) + 2), map16(Q_USED(q) + 2), map16(Q_USED(q)),
	       st.broken, st.last_avail, st.used_idx, (uint64_t)st.requests,
	       (uint64_t)st.interrupts);
	_exit(1);
}

/*
 * One slice: the guest's @nreq requests, @batch per kick and waiting for
 * each batch, or (@batch 0) kept in flight; ns taken.
 */
static uint64_t slice(struct vcpu *v, struct udev *u, bool kernel,
		      uint64_t nreq, uint64_t batch)
{
	struct ucall uc;
	uint64_t t0;
	int r;

	if (vcpu_restart(v, batch ? (void *)guest_driver : (void *)guest_pipeline,
			 kernel ? QUEUE_A : QUEUE_B,
			 kernel ? PORT_KERNEL : PORT_USER, nreq, batch))
		die("vcpu_restart");
	struct itimerval it = {
		.it_interval = { .tv_usec = 100000 },
		.it_value = { .tv_usec = 100000 },
	};

	wd.kernel = kernel;
	wd.batch = batch;
	wd.vcpu = v;
	wd.last_used = map16(Q_USED(kernel ? QUEUE_A : QUEUE_B) + 2);
	wd.still = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	t0 = now_ns();
	for (;;) {
		r = vcpu_next(v, &uc);
		if (r == UCALL_DONE)
			break;
		if (r == UCALL_NONE && !kernel &&
		    v->run->exit_reason == KVM_EXIT_IO &&
		    v->run->io.port == PORT_USER) {
			udev_kick(u);
			continue;
		}
		errno = 0;
		die("guest: %s", vcpu_what(v, r));
	}
	t0 = now_ns() - t0;
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	return t0;
}

int main(int argc, char **argv)
{
	double rps[2][64], bps[2][64], lat[2][64], ratio[64], bratio[64], lratio[64];
	int reps = 9, opt, dev, kick, i, j;
	struct udev u;
	struct vcpu *v;
	struct vm *vm;
	char a[64], b[64];
	void *map;
	bool pass;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt == 'r')
			reps = atoi(optarg);
	}
	if (reps < 1 || reps > 64) {
		fprintf(stderr, "usage: %s [-r REPS (1-64)]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&u, 0, sizeof(u));
	u.gm = gm_open();
	if (u.gm < 0)
		die("open " GM_DEV);
	errno = -gm_add_vmalloc(u.gm, G, SPACE_PAGES * PG);
	if (errno)
		die("GUESTMEM_ADD_REGION");
	map = mmap(NULL, SPACE_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		   u.gm, G);
	if (map == MAP_FAILED)
		die("mmap /dev/guestmem");

	vm = vm_create();
	if (!vm)
		die("creating a KVM VM");
	if (vm_irqchip(vm) ||
	    vm_memslot(vm, SLOT, G, SPACE_PAGES * PG, map, 0) ||
	    vm_map(vm, G, G, SPACE_PAGES * PG))
		die("setting the VM up");
	kick = eventfd(0, EFD_CLOEXEC);
	u.call = eventfd(0, EFD_CLOEXEC);
	if (kick < 0 || u.call < 0)
		die("eventfd");
	errno = -vm_msi_route(vm, GSI, 0, VECTOR);
	if (errno)
		die("KVM_SET_GSI_ROUTING");
	errno = -vm_irqfd(vm, u.call, GSI, true);
	if (errno)
		die("KVM_IRQFD");
	errno = -vm_ioeventfd(vm, kick, PORT_KERNEL, 2, KVM_IOEVENTFD_FLAG_PIO);
	if (errno)
		die("KVM_IOEVENTFD");

	/* The in-kernel device on queue A, the same interrupt eventfd. */
	dev = open(VQ_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("open " VQ_DEV " (insmod guestmem_vq.ko)");
	errno = -vq_bind_queue(dev, u.gm, kick, u.call, NUM, Q_DESC(QUEUE_A),
			       Q_AVAIL(QUEUE_A), Q_USED(QUEUE_A),
			       GUESTMEM_VQ_FEAT_EVENT_IDX, 0);
	if (errno)
		die("GUESTMEM_VQ_BIND");
	wd.map = map;
	wd.dev = dev;
	wd.call = u.call;
	signal(SIGALRM, watchdog);

	v = vcpu_add(vm, guest_driver, QUEUE_A, PORT_KERNEL, BATCH, BATCH);
	if (!v)
		die("vcpu_add");
	/* Warm up both sides (and fault the guest's pages in). */
	slice(v, &u, true, TPUT_REQS, 0);
	slice(v, &u, false, TPUT_REQS, 0);

	for (i = 0; i < reps; i++) {
		for (j = 0; j < 2; j++) {
			rps[j][i] = TPUT_REQS * 1e9 /
				    slice(v, &u, !j, TPUT_REQS, 0);
			bps[j][i] = TPUT_REQS * 1e9 /
				    slice(v, &u, !j, TPUT_REQS, BATCH);
			lat[j][i] = slice(v, &u, !j, LAT_REQS, 1) / 1e3 /
				    LAT_REQS;
		}
		ratio[i] = rps[0][i] / rps[1][i];
		bratio[i] = bps[0][i] / bps[1][i];
		lratio[i] = lat[0][i] / lat[1][i];
	}
	snprintf(a, sizeof(a), "%.0f req/s", median(rps[0], reps));
	snprintf(b, sizeof(b), "%.0f req/s", median(rps[1], reps));
	pass = median(ratio, reps) >= 2.0;
	row("K4", a, b, median(ratio, reps), ">= 2.00x", pass,
	    "a KVM guest's virtqueue requests per second (COPY of 64/256/1024/4096 bytes in turn, up to 64 in flight, EVENT_IDX, the device polling 50 us): samples/guestmem_vq in the kernel (ioeventfd, worker, irqfd) vs the same device logic in user space (KVM_EXIT_IO, GUESTMEM_READ/WRITE, irqfd)");
	printf("GMDIAG|K4 round trip, one request per kick: in-kernel / user space|%.1f us / %.1f us = %.3fx\n",
	       median(lat[0], reps), median(lat[1], reps), median(lratio, reps));
	printf("GMDIAG|K4 batches of 8 per kick, waiting for each: in-kernel / user space|%.0f / %.0f req/s = %.3fx\n",
	       median(bps[0], reps), median(bps[1], reps), median(bratio, reps));
	printf("GMDIAG|K4 guest wake-ups the watchdog had to send (100 ms without progress; with every request used)|%lu (%lu)\n",
	       wd.pokes, wd.pokes_idle);

	close(dev);
	vm_free(vm);
	munmap(map, SPACE_PAGES * PG);
	close(kick);
	close(u.call);
	close(u.gm);
	return 0;
}
