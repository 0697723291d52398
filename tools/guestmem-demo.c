// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem-demo: a short tour of /dev/guestmem for `make run`.
 *
 * Builds a guest physical address space of two adjacent regions with
 * different backings (kernel memory and this process's own pinned pages),
 * writes one string across their boundary, reads it back through an ioctl,
 * pread() and mmap(), and shows how holes are reported.  Then a device:
 * where /dev/kvm exists, a KVM guest whose RAM is a mapping of the space
 * drives the sample virtqueue device (samples/guestmem_vq.ko, an in-kernel
 * device model built on guestmem's in-kernel API): its driver lays a virtio
 * split virtqueue out in its RAM, kicks through an I/O port bound to the
 * device's kick eventfd (KVM_IOEVENTFD) and sleeps until the device's
 * interrupt eventfd, an irqfd on an MSI route, wakes its interrupt handler;
 * without /dev/kvm, this process drives the sample DMA device
 * (samples/guestmem_dma.ko) through a ring it writes by GPA and an ioctl
 * kick.  Either way, the completions and the pages the device wrote, as
 * GUESTMEM_GET_DIRTY_LOG reports them.  Finally a KVM guest whose RAM is
 * a mapping of the space (run by the selftests' small VMM, selftests/lib/
 * vmm.c) writes a message across the region boundary, which guestmemctl,
 * handed this process's guestmem fd, reads by GPA; guestmem's dirty log and
 * KVM's both show exactly the guest's pages.  Where /dev/kvm is missing (no
 * nested virtualization), that step says so and is skipped.
 *
 * Every step checks its result: the exit status is 0 only if all went as
 * narrated, so `make run` doubles as a smoke test.  The ioctls go through
 * the selftests' library (selftests/lib/guestmem_util), as in the tests.
 */
#include <endian.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include "guestmem_util.h"
#include "samples.h"
#include "vmm.h"

#define __noreturn	__attribute__((noreturn))
#define __printf(a, b)	__attribute__((format(printf, a, b)))


#define REGION_SIZE	0x10000ULL
#define GPA_A		0x100000ULL		/* VMALLOC region */
#define GPA_B		(GPA_A + REGION_SIZE)	/* USER region, adjacent */
#define GPA_HOLE	(GPA_B + REGION_SIZE)	/* nothing from here on */
#define SPAN		(GPA_HOLE - GPA_A)

#define MSG_GPA		(GPA_B - 16)		/* 16 bytes in A, the rest in B */
#define RING_GPA	GPA_A			/* the DMA ring, in region A */
#define RING_SIZE	4U
#define DMA_DST		(GPA_B + 0x7ff0)	/* in B, across two pages */
#define GUEST_MSG_GPA	(GPA_B - 8)		/* 8 bytes in A, the rest in B */
#define KVM_SLOT	1

/* The virtqueue the KVM guest drives (step 4 with /dev/kvm), in region A. */
#define VQ_NUM		8U
#define VQ_DESC		GPA_A			/* descriptor table */
#define VQ_AVAIL	(GPA_A + 0x1000)	/* avail ring */
#define VQ_USED		(GPA_A + 0x2000)	/* used ring */
#define VQ_HDR		(GPA_A + 0x3000)	/* two request headers */
#define VQ_STATUS	(GPA_A + 0x3100)	/* two status bytes */
#define VQ_BAD_DST	(GPA_A + 0x4000)	/* the failing request's target */
#define VQ_KICK_PORT	0x2000
#define VQ_VECTOR	0x40
#define VQ_GSI		1

static const char msg[] = "hello from both sides of a region boundary";

static void __noreturn die(const char *what)
{
	fprintf(stderr, "guestmem-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void __noreturn die_err(const char *what, int err)
{
	errno = err;
	die(what);
}

static void __noreturn __printf(1, 2) fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "guestmem-demo: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

/* A dirty-logged region of REGION_SIZE bytes at @gpa. */
static void add_region(int fd, uint64_t gpa, uint32_t backing, void *user)
{
	int err = gm_add(fd, gpa, REGION_SIZE, (uintptr_t)user, backing,
			 GUESTMEM_REGION_DIRTY_LOG);

	if (err)
		die_err("GUESTMEM_ADD_REGION", -err);
}

static void show_regions(int fd)
{
	struct guestmem_region *regions;
	struct guestmem_info info;
	uint32_t i, n;
	int err;

	err = gm_info(fd, &info);
	if (err)
		die_err("GUESTMEM_GET_INFO", -err);
	regions = gm_regions(fd, &n);
	if (!regions)
		die("GUESTMEM_GET_REGIONS");
	if (n != 2 || info.num_regions != 2)
		fail("expected 2 regions, got %u", n);
	for (i = 0; i < n; i++)
		printf("   [%#llx, %#llx)  %s, dirty-logged\n",
		       (unsigned long long)regions[i].gpa,
		       (unsigned long long)(regions[i].gpa + regions[i].size),
		       regions[i].backing == GUESTMEM_BACKING_USER ?
		       "USER: this process's own memory, pinned" :
		       "VMALLOC: kernel memory");
	printf("   GUESTMEM_GET_INFO: %u regions, %llu KiB, generation %llu\n",
	       info.num_regions, (unsigned long long)info.total_size >> 10,
	       (unsigned long long)info.generation);
	free(regions);
}

/*
 * Fetch the dirty log of both regions (and clear it if @clear), print the
 * dirty pages and check that they are exactly @expect (bit i = page i).
 */
static void dirty_log(int fd, int clear, uint64_t expect)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t bitmap[2] = { 0, 0 };
	uint64_t i, pages = SPAN / page;
	int err;

	if (pages > 128)
		fail("page size %ld: too many pages for the demo", page);
	err = gm_dirty_log(fd, GPA_A, SPAN, bitmap,
			   clear ? GUESTMEM_DIRTY_LOG_CLEAR : 0);
	if (err)
		die_err("GUESTMEM_GET_DIRTY_LOG", -err);
	printf("   dirty pages:");
	for (i = 0; i < pages; i++)
		if (bitmap[i / 64] & (1ULL << (i % 64)))
			printf(" %#llx", (unsigned long long)(GPA_A + i * page));
	printf("  (%s)\n", clear ? "fetched and cleared" : "fetched");
	if (bitmap[0] != expect || bitmap[1])
		fail("dirty bitmap %#llx, expected %#llx",
		     (unsigned long long)bitmap[0], (unsigned long long)expect);
}

/* Bit of the page holding @gpa in a dirty bitmap starting at GPA_A. */
static uint64_t page_bit(uint64_t gpa)
{
	return 1ULL << ((gpa - GPA_A) / sysconf(_SC_PAGESIZE));
}

static void put_desc(int fd, unsigned int slot, uint64_t src, uint64_t dst,
		     uint32_t len, const char *what)
{
	uint64_t gpa = RING_GPA + sizeof(struct guestmem_dma_ring_hdr) +
		       slot * sizeof(struct guestmem_dma_desc);
	struct guestmem_dma_desc d = dma_desc(src, dst, len, 0);

	if (pwrite(fd, &d, sizeof(d), gpa) != sizeof(d))
		die("pwrite descriptor");
	printf("   desc %u at %#llx: copy %u bytes %#llx -> %#llx (%s)\n", slot,
	       (unsigned long long)gpa, len, (unsigned long long)src,
	       (unsigned long long)dst, what);
}

/* A little-endian word of guest memory, read through the mapping. */
static uint32_t le32_at(const char *map, uint64_t gpa)
{
	uint32_t le;

	memcpy(&le, map + (gpa - GPA_A), sizeof(le));
	return le32toh(le);
}

/* A descriptor's status word (after the kick returned: the device is done). */
static uint32_t desc_status(const char *map, unsigned int slot)
{
	return le32_at(map, RING_GPA + sizeof(struct guestmem_dma_ring_hdr) +
			    slot * sizeof(struct guestmem_dma_desc) +
			    offsetof(struct guestmem_dma_desc, status));
}

static void dma_demo(int fd, const char *map, const char *user)
{
	struct guestmem_dma_ring_hdr hdr;
	struct guestmem_dma_kick kick;
	uint32_t st0, st1;
	int dma, err;

	printf("\n4. A device doing DMA: " DMA_DEV " (samples/guestmem_dma.ko),\n"
	       "   a copy engine in the kernel built on guestmem's in-kernel API.\n");
	dma = open(DMA_DEV, O_RDWR);
	if (dma < 0)
		die("open " DMA_DEV " (insmod samples/guestmem_dma.ko first)");
	memset(&hdr, 0, sizeof(hdr));
	if (pwrite(fd, &hdr, sizeof(hdr), RING_GPA) != sizeof(hdr))
		die("pwrite ring header");
	err = dma_bind(dma, fd, RING_GPA, RING_SIZE);
	if (err)
		die_err("GUESTMEM_DMA_BIND", -err);
	printf("   GUESTMEM_DMA_BIND hands it this space and a ring of %u descriptors\n"
	       "   at GPA %#llx; we write two descriptors there with pwrite() by GPA:\n",
	       RING_SIZE, (unsigned long long)RING_GPA);
	put_desc(fd, 0, MSG_GPA, DMA_DST, sizeof(msg), "our string");
	put_desc(fd, 1, GPA_HOLE - 8, GPA_A + 0x4000, 16, "runs into the hole");
	hdr.avail_idx = htole32(2);
	if (pwrite(fd, &hdr.avail_idx, sizeof(hdr.avail_idx),
		   RING_GPA + offsetof(struct guestmem_dma_ring_hdr,
				       avail_idx)) != sizeof(hdr.avail_idx))
		die("pwrite avail_idx");
	printf("   and publish them: avail_idx = 2.  The dirty log has our writes so far:\n");
	dirty_log(fd, 1, page_bit(RING_GPA) | page_bit(MSG_GPA) |
		  page_bit(GPA_B));

	memset(&kick, 0, sizeof(kick));
	if (ioctl(dma, GUESTMEM_DMA_KICK, &kick))
		die("GUESTMEM_DMA_KICK");
	printf("   GUESTMEM_DMA_KICK: processed %u, errors %u, used_idx %u\n",
	       kick.processed, kick.errors, kick.used_idx);
	if (kick.processed != 2 || kick.errors != 1 || kick.used_idx != 2)
		fail("kick: expected 2 processed, 1 error, used_idx 2");

	st0 = desc_status(map, 0);
	st1 = desc_status(map, 1);
	printf("   statuses, seen through our mmap(): desc 0 = %s, desc 1 = -%s\n",
	       st0 == GUESTMEM_DMA_STATUS_DONE ? "DONE" : "?",
	       strerrorname_np(-(int32_t)st1) ?: "?");
	if (st0 != GUESTMEM_DMA_STATUS_DONE || st1 != (uint32_t)-ENXIO)
		fail("statuses %#x %#x, expected DONE and -ENXIO", st0, st1);
	printf("   the device's copy, in this process's own memory: \"%s\"\n",
	       user + (DMA_DST - GPA_B));
	if (strcmp(user + (DMA_DST - GPA_B), msg))
		fail("the DMA copy differs");

	printf("\n5. GUESTMEM_GET_DIRTY_LOG now shows the pages the device wrote:\n");
	dirty_log(fd, 0, page_bit(RING_GPA) | page_bit(DMA_DST) |
		  page_bit(DMA_DST + sizeof(msg) - 1));
	printf("   the ring (statuses, used_idx) and the copy's two pages; not %#llx,\n"
	       "   the target of the failed descriptor: nothing was written there.\n",
	       (unsigned long long)(GPA_A + 0x4000));
	close(dma);
}

/* ---- step 4 with /dev/kvm: a KVM guest drives the virtqueue device ---- */

static void clear_dirty_log(int fd);

/* Guest code (see guest_say_hello()): interrupts the handler has seen. */
static volatile uint64_t guest_irqs;

static void guest_irq(uint64_t vector)
{
	(void)vector;
	guest_irqs++;
	guest_x2apic_eoi();
}

/*
 * The guest's driver: two COPY requests (header, source; destination,
 * status byte), made available, one kick, then HLT until the interrupt
 * has come and both are used.  Syncs (interrupts, used->idx).
 */
static void guest_vq_driver(void)
{
	enum { NEXT = 1, WRITE = 2 };
	unsigned int r;

	guest_x2apic_enable();
	guest_set_irq_handler(VQ_VECTOR, guest_irq);
	for (r = 0; r < 2; r++) {
		GUEST_WRITE(uint32_t, VQ_HDR + 8 * r, GUESTMEM_VQ_REQ_COPY);
		GUEST_WRITE(uint32_t, VQ_HDR + 8 * r + 4, 0);
	}
	/* Our string, across the boundary, into the USER region. */
	guest_vring_desc(VQ_DESC, 0, VQ_HDR, 8, NEXT, 1);
	guest_vring_desc(VQ_DESC, 1, MSG_GPA, sizeof(msg), NEXT, 2);
	guest_vring_desc(VQ_DESC, 2, DMA_DST, sizeof(msg), WRITE | NEXT, 3);
	guest_vring_desc(VQ_DESC, 3, VQ_STATUS, 1, WRITE, 0);
	/* 16 bytes from 8 bytes before the hole. */
	guest_vring_desc(VQ_DESC, 4, VQ_HDR + 8, 8, NEXT, 5);
	guest_vring_desc(VQ_DESC, 5, GPA_HOLE - 8, 16, NEXT, 6);
	guest_vring_desc(VQ_DESC, 6, VQ_BAD_DST, 16, WRITE | NEXT, 7);
	guest_vring_desc(VQ_DESC, 7, VQ_STATUS + 1, 1, WRITE, 0);
	GUEST_WRITE(uint16_t, VQ_AVAIL + 4, 0);
	GUEST_WRITE(uint16_t, VQ_AVAIL + 6, 4);
	asm volatile("" : : : "memory");	/* the entries, then the index */
	GUEST_WRITE(uint16_t, VQ_AVAIL + 2, 2);
	guest_outw(VQ_KICK_PORT, 0);
	while (GUEST_READ(uint16_t, VQ_USED + 2) != 2 || !guest_irqs)
		guest_wait_irq();
	GUEST_SYNC2(guest_irqs, GUEST_READ(uint16_t, VQ_USED + 2));
}

/*
 * Step 4 driven by a KVM guest, and step 5.  Returns false, having printed
 * why, when there is no /dev/kvm or no virtqueue device: the caller falls
 * back to the process-driven DMA device.
 */
static bool vq_kvm_demo(int fd, const char *map, const char *user)
{
	struct guestmem_vq_status st;
	uint64_t kvm_log[2] = { 0, 0 }, guest_pages;
	int dev, kick, call, ret;
	struct ucall uc;
	struct vcpu *v;
	struct vm *vm;
	uint8_t s0, s1;

	dev = open(VQ_DEV, O_RDWR);
	if (dev < 0) {
		printf("\n(No " VQ_DEV " (%s): in step 4 this process drives a device.)\n",
		       strerror(errno));
		return false;
	}
	vm = vm_create();
	if (!vm) {
		if (errno != ENOENT)
			die("creating a KVM VM");
		printf("\n(No /dev/kvm here, KVM needs nested virtualization: in step 4\n"
		       " this process drives a device instead of a KVM guest.)\n");
		close(dev);
		return false;
	}
	printf("\n4. A device a KVM guest drives: " VQ_DEV " (samples/guestmem_vq.ko),\n"
	       "   a virtio split-virtqueue copy engine in the kernel, built on guestmem's\n"
	       "   in-kernel API.\n");
	kick = eventfd(0, EFD_CLOEXEC);
	call = eventfd(0, EFD_CLOEXEC);
	if (kick < 0 || call < 0)
		die("eventfd");
	if (vm_irqchip(vm))
		fail("KVM_CREATE_IRQCHIP");
	if (vm_memslot(vm, KVM_SLOT, GPA_A, SPAN, (void *)map,
		       KVM_MEM_LOG_DIRTY_PAGES) ||
	    vm_map(vm, GPA_A, GPA_A, SPAN))
		fail("setting up the memslot");
	ret = vm_msi_route(vm, VQ_GSI, 0, VQ_VECTOR);
	if (!ret)
		ret = vm_irqfd(vm, call, VQ_GSI, true);
	if (!ret)
		ret = vm_ioeventfd(vm, kick, VQ_KICK_PORT, 2, KVM_IOEVENTFD_FLAG_PIO);
	if (ret)
		die_err("binding the eventfds in KVM", -ret);
	printf("   Our mmap() of both regions is the guest's RAM (a KVM memslot, run by\n"
	       "   the selftests' small VMM, with an in-kernel irqchip).  Two eventfds:\n"
	       "   kick, bound with KVM_IOEVENTFD to the guest's OUT to port %#x, and\n"
	       "   call, bound with KVM_IRQFD to an MSI route to vector %#x of vCPU 0.\n",
	       VQ_KICK_PORT, VQ_VECTOR);

	ret = vq_bind_queue(dev, fd, kick, call, VQ_NUM, VQ_DESC, VQ_AVAIL,
			    VQ_USED, 0, 0);
	if (ret)
		die_err("GUESTMEM_VQ_BIND", -ret);
	printf("   GUESTMEM_VQ_BIND hands the device this space, a queue of %u at GPA\n"
	       "   %#llx (descriptors), %#llx (avail), %#llx (used), and both eventfds.\n",
	       VQ_NUM, VQ_DESC, VQ_AVAIL, VQ_USED);
	clear_dirty_log(fd);
	if (vm_dirty_log(vm, KVM_SLOT, kvm_log))
		die("KVM_GET_DIRTY_LOG");

	v = vcpu_add(vm, guest_vq_driver, 0, 0, 0, 0);
	if (!v)
		die("creating a vCPU");
	ret = vcpu_next(v, &uc);
	printf("   The guest's driver (C code of this program) writes two requests into\n"
	       "   the ring, makes them available, kicks with one OUT and halts until its\n"
	       "   interrupt handler has run:\n"
	       "     request 0: copy %zu bytes %#llx -> %#llx (our string)\n"
	       "     request 1: copy 16 bytes %#llx -> %#llx (runs into the hole)\n"
	       "   %s\n",
	       sizeof(msg), MSG_GPA, DMA_DST, GPA_HOLE - 8, VQ_BAD_DST,
	       vcpu_what(v, ret));
	if (ret != UCALL_SYNC || !uc.args[0] || uc.args[1] != 2)
		fail("the guest did not see both requests used after an interrupt");
	printf("   (interrupts handled: %llu, used->idx: %llu; no exit to this process)\n",
	       (unsigned long long)uc.args[0], (unsigned long long)uc.args[1]);

	s0 = map[VQ_STATUS - GPA_A];
	s1 = map[VQ_STATUS + 1 - GPA_A];
	printf("   used ring, seen through our mmap(): {id %u, len %u}, {id %u, len %u};\n"
	       "   status bytes %u (OK) and %u (I/O error)\n",
	       le32_at(map, VQ_USED + 4), le32_at(map, VQ_USED + 8),
	       le32_at(map, VQ_USED + 12), le32_at(map, VQ_USED + 16), s0, s1);
	if (le32_at(map, VQ_USED + 4) != 0 ||
	    le32_at(map, VQ_USED + 8) != sizeof(msg) + 1 ||
	    le32_at(map, VQ_USED + 12) != 4 || le32_at(map, VQ_USED + 16) != 1 ||
	    s0 != GUESTMEM_VQ_S_OK || s1 != GUESTMEM_VQ_S_IOERR)
		fail("unexpected used entries or statuses");
	printf("   the device's copy, in this process's own memory: \"%s\"\n",
	       user + (DMA_DST - GPA_B));
	if (strcmp(user + (DMA_DST - GPA_B), msg))
		fail("the device's copy differs");
	if (ioctl(dev, GUESTMEM_VQ_GET_STATUS, &st))
		die("GUESTMEM_VQ_GET_STATUS");
	printf("   GUESTMEM_VQ_GET_STATUS: %llu requests, %llu failed, %llu interrupts sent\n",
	       (unsigned long long)st.requests, (unsigned long long)st.errors,
	       (unsigned long long)st.interrupts);
	if (st.requests != 2 || st.errors != 1 || !st.interrupts || st.broken)
		fail("unexpected device status");

	printf("\n5. The dirty logs since the bind.  KVM_GET_DIRTY_LOG: the guest's writes\n"
	       "   (descriptors, avail ring, headers):\n");
	guest_pages = page_bit(VQ_DESC) | page_bit(VQ_AVAIL) | page_bit(VQ_HDR);
	if (vm_dirty_log(vm, KVM_SLOT, kvm_log))
		die("KVM_GET_DIRTY_LOG");
	printf("   dirty pages:");
	for (ret = 0; ret < 64; ret++)
		if (kvm_log[0] & (1ULL << ret))
			printf(" %#llx", GPA_A + ret * (unsigned long long)
			       sysconf(_SC_PAGESIZE));
	printf("\n");
	if (kvm_log[0] != guest_pages || kvm_log[1])
		fail("KVM's dirty log %#llx, expected %#llx",
		     (unsigned long long)kvm_log[0],
		     (unsigned long long)guest_pages);
	printf("   GUESTMEM_GET_DIRTY_LOG: those, and exactly the pages the device wrote\n"
	       "   (used ring, status bytes, the copy's two pages):\n");
	dirty_log(fd, 1, guest_pages | page_bit(VQ_USED) |
		  page_bit(DMA_DST) | page_bit(DMA_DST + sizeof(msg) - 1));
	printf("   not %#llx, the target of the failed request: nothing was written there.\n",
	       VQ_BAD_DST);

	close(dev);
	vm_free(vm);
	close(kick);
	close(call);
	return true;
}

/* Fetch and clear the dirty log of both regions, quietly. */
static void clear_dirty_log(int fd)
{
	uint64_t bitmap[2];
	int err = gm_dirty_log(fd, GPA_A, SPAN, bitmap,
			       GUESTMEM_DIRTY_LOG_CLEAR);

	if (err)
		die_err("GUESTMEM_GET_DIRTY_LOG", -err);
}

static const char guest_msg[] = "hello from a KVM guest whose RAM is this space";

/*
 * Guest code: runs in the KVM guest, in 64-bit mode, on a copy of this
 * program.  Stores the message at @gpa one byte at a time and returns
 * (which ends the run).
 */
static void guest_say_hello(uint64_t gpa)
{
	uint64_t i;

	for (i = 0; i < sizeof(guest_msg); i++)
		GUEST_WRITE(char, gpa + i, guest_msg[i]);
}

/* guestmemctl, given our fd as its fd 3: it works on this very space. */
static void run_guestmemctl(int fd, const char *cmd, const char *gpa,
			    const char *len)
{
	int st;
	pid_t pid;

	printf("   $ guestmemctl -f 3 %s %s %s   # fd 3: our /dev/guestmem fd\n",
	       cmd, gpa, len);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		if (dup2(fd, 3) < 0)
			_exit(126);
		execlp("guestmemctl", "guestmemctl", "-f", "3", cmd, gpa, len,
		       (char *)NULL);
		perror("exec guestmemctl");
		_exit(127);
	}
	st = wait_child(pid);
	if (st)
		fail("guestmemctl failed: %d (exit status; 1000 + N: signal N)",
		     st);
}

static void kvm_demo(int fd, char *map)
{
	uint64_t kvm_log[2] = { 0, 0 }, want;
	char buf[sizeof(guest_msg)], gpa[32], len[32];
	struct ucall uc;
	struct vcpu *v;
	struct vm *vm;
	int ret;

	printf("\n6. A KVM guest whose RAM is this space: our mmap() of both regions\n"
	       "   is a KVM memslot (KVM_SET_USER_MEMORY_REGION, GPA %#llx = mmap offset,\n"
	       "   KVM_MEM_LOG_DIRTY_PAGES), run by the selftests' small VMM.\n",
	       GPA_A);
	vm = vm_create();
	if (!vm) {
		if (errno != ENOENT)
			die("creating a KVM VM");
		printf("   No /dev/kvm here (KVM needs nested virtualization): step skipped.\n");
		return;
	}
	clear_dirty_log(fd);
	if (vm_memslot(vm, KVM_SLOT, GPA_A, SPAN, map, KVM_MEM_LOG_DIRTY_PAGES) ||
	    vm_map(vm, GPA_A, GPA_A, SPAN))
		fail("setting up the memslot");
	v = vcpu_add(vm, guest_say_hello, GUEST_MSG_GPA, 0, 0, 0);
	if (!v)
		die("creating a vCPU");
	ret = vcpu_next(v, &uc);
	printf("   The guest (C code of this program, in 64-bit long mode) stores\n"
	       "   %zu bytes at %#llx, across the region boundary: %s\n",
	       sizeof(guest_msg), GUEST_MSG_GPA, vcpu_what(v, ret));
	if (ret != UCALL_DONE)
		fail("the guest did not finish");

	printf("   guestmemctl reads them by GPA:\n");
	snprintf(gpa, sizeof(gpa), "%#llx", GUEST_MSG_GPA);
	snprintf(len, sizeof(len), "%zu", sizeof(guest_msg));
	run_guestmemctl(fd, "read", gpa, len);
	if (pread(fd, buf, sizeof(buf), GUEST_MSG_GPA) != sizeof(buf))
		die("pread");
	if (memcmp(buf, guest_msg, sizeof(buf)))
		fail("the guest's message differs");

	printf("   GUESTMEM_GET_DIRTY_LOG: exactly the guest's pages\n");
	want = page_bit(GUEST_MSG_GPA) | page_bit(GUEST_MSG_GPA + sizeof(guest_msg) - 1);
	dirty_log(fd, 1, want);
	if (vm_dirty_log(vm, KVM_SLOT, kvm_log))
		die("KVM_GET_DIRTY_LOG");
	printf("   KVM_GET_DIRTY_LOG of the memslot: %s\n",
	       kvm_log[0] == want && !kvm_log[1] ? "the same pages" : "DIFFERENT");
	if (kvm_log[0] != want || kvm_log[1])
		fail("KVM's dirty log %#llx, expected %#llx",
		     (unsigned long long)kvm_log[0], (unsigned long long)want);
	vm_free(vm);
}

int main(void)
{
	uint64_t done;
	char buf[64];
	char *user, *map;
	off_t data, hole;
	int fd, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("guestmem demo: one guest physical address space\n\n");
	/* Not gm_open()'s O_CLOEXEC: guestmemctl inherits it (as fd 3). */
	fd = open(GM_DEV, O_RDWR);
	if (fd < 0)
		die("open " GM_DEV);

	/*
	 * Shared memory (shmem), which a guestmem mapping can map: the pages
	 * of private anonymous memory stay the owner's alone.
	 */
	user = map_shmem(REGION_SIZE);
	if (!user)
		die("mmap shared");
	add_region(fd, GPA_A, GUESTMEM_BACKING_VMALLOC, NULL);
	add_region(fd, GPA_B, GUESTMEM_BACKING_USER, user);
	printf("1. open(\"/dev/guestmem\") gives an empty space; GUESTMEM_ADD_REGION\n"
	       "   adds two adjacent regions with different backings:\n");
	show_regions(fd);

	err = -gm_io(fd, GUESTMEM_WRITE, MSG_GPA, (void *)msg, sizeof(msg), 0,
		     &done);
	if (err)
		die_err("GUESTMEM_WRITE", err);
	printf("\n2. GUESTMEM_WRITE %zu bytes at %#llx, across the boundary at %#llx\n",
	       sizeof(msg), MSG_GPA, GPA_B);
	if (done != sizeof(msg))
		fail("GUESTMEM_WRITE: done=%llu", (unsigned long long)done);

	memset(buf, 0, sizeof(buf));
	err = -gm_io(fd, GUESTMEM_READ, MSG_GPA, buf, sizeof(msg), 0, &done);
	if (err)
		die_err("GUESTMEM_READ", err);
	printf("   read back with GUESTMEM_READ: \"%s\"\n", buf);
	if (strcmp(buf, msg))
		fail("GUESTMEM_READ differs");

	memset(buf, 0, sizeof(buf));
	if (pread(fd, buf, sizeof(msg), MSG_GPA) != sizeof(msg))
		die("pread");
	printf("   with pread() at the GPA:      \"%s\"\n", buf);
	if (strcmp(buf, msg))
		fail("pread differs");

	map = mmap(NULL, SPAN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, GPA_A);
	if (map == MAP_FAILED)
		die("mmap /dev/guestmem");
	printf("   through mmap() of both:       \"%s\"\n",
	       map + (MSG_GPA - GPA_A));
	if (strcmp(map + (MSG_GPA - GPA_A), msg))
		fail("mmap differs");
	printf("   the USER region's own memory: \"%s\"\n", user);
	if (strcmp(user, msg + 16))
		fail("USER memory differs");

	memset(buf, 0, sizeof(buf));
	err = -gm_io(fd, GUESTMEM_READ, GPA_HOLE - 8, buf, 16, 0, &done);
	printf("\n3. Holes: an exact read of 16 bytes at %#llx runs into the hole at %#llx:\n"
	       "   %s, done=%llu (nothing moved)",
	       GPA_HOLE - 8, GPA_HOLE, strerrorname_np(err) ?: "?",
	       (unsigned long long)done);
	if (err != ENXIO || done)
		fail("expected ENXIO and done=0");
	err = -gm_io(fd, GUESTMEM_READ, GPA_HOLE - 8, buf, 16,
		     GUESTMEM_IO_PARTIAL, &done);
	if (err)
		die_err("GUESTMEM_READ partial", err);
	printf("; with GUESTMEM_IO_PARTIAL: done=%llu\n",
	       (unsigned long long)done);
	if (done != 8)
		fail("expected done=8");
	data = lseek(fd, 0, SEEK_DATA);
	hole = lseek(fd, data, SEEK_HOLE);
	printf("   lseek(0, SEEK_DATA) = %#llx, then SEEK_HOLE = %#llx\n",
	       (unsigned long long)data, (unsigned long long)hole);
	if (data != (off_t)GPA_A || hole != (off_t)GPA_HOLE)
		fail("expected data at %#llx, a hole at %#llx", GPA_A,
		     GPA_HOLE);

	if (!vq_kvm_demo(fd, map, user))
		dma_demo(fd, map, user);
	kvm_demo(fd, map);

	munmap(map, SPAN);
	close(fd);
	printf("\n7. close() frees the space and unpins the USER pages.  All checks passed.\n");
	return 0;
}
