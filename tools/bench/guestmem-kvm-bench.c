// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem-kvm-bench: a KVM guest on guestmem memory against the same guest
 * on a memfd, side by side in one run (the K rows of `make bench`).
 *
 *   guestmem-kvm-bench [-r REPS] [-o K,U]
 *
 * One VM with one vCPU in 32-bit protected mode without paging (guest
 * physical = linear addresses), its code in a small anonymous memslot, its
 * data in another memslot that is either a mapping of a
 * VMALLOC region of a guestmem space (at the same GPA) or a MAP_SHARED
 * mapping of a memfd whose pages exist already (fallocate).  The two sides
 * run alternately; each figure is the median over the repetitions, the
 * ratio the median of the per-repetition ratios.
 *
 *   K1  first touch: one store per page of 16 MiB, on a fresh mapping and a
 *       fresh memslot (host faults, then KVM's nested page faults), time
 *       per page; guestmem / memfd, lower is better.
 *   K2  steady write bandwidth: rep stosd over the same 16 MiB, mapped;
 *       guestmem / memfd, higher is better.
 *   K3  a dirty-log round over 64 MiB: the guest writes every tenth page
 *       (1639 pages, 6.4 MiB), then the log is fetched and cleared:
 *       guestmem's GUESTMEM_GET_DIRTY_LOG with CLEAR vs KVM_GET_DIRTY_LOG
 *       on a memslot with KVM_MEM_LOG_DIRTY_PAGES; time per round,
 *       guestmem / KVM, lower is better.  Both logs must hold exactly the
 *       pages written; guestmem's mmap faults per round (its debugfs
 *       counter) must equal the pages written: a CLEAR zaps only them.
 *       The same rounds with one store per page instead of whole pages
 *       (the worst case for guestmem: all fault, no work) are reported
 *       as diagnostics.
 *
 * Region updates against memslot updates (issue 17), in the same VM after
 * its vCPU has run:
 *
 *   U1  GUESTMEM_ADD_REGION + GUESTMEM_REMOVE_REGION of a 2 MiB VMALLOC
 *       region vs KVM_SET_USER_MEMORY_REGION creating and deleting a 2 MiB
 *       memslot of anonymous memory; operations per second, guestmem /
 *       KVM, higher is better (target 2x).
 *   U2  16,384 one-page VMALLOC regions added to an empty space, with
 *       GUESTMEM_ADD_REGIONS (4,096 a call), vs 16,384 one-page memslots
 *       created in a fresh VM (one vCPU that has run); single adds are
 *       timed as a diagnostic;
 *       the time of all of them, one run each (KVM's creations take tens
 *       of seconds here), guestmem / KVM, lower is better (target 0.5x,
 *       and at most 0.5 s for guestmem).
 *   U3  a REMOVE_REGION right after the ADD_REGION vs one 50 ms later
 *       (2 MiB VMALLOC, median of 20 each): lower is better (target 1.5x).
 *
 * Prints "GMBENCH|id|guestmem|peer|ratio|target|result|what" and
 * "GMDIAG|what|value" lines, as tools/bench/guestmem-bench does.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/guestmem.h>

#include "bench_util.h"

#define PG		4096ULL
#define MiB		(1ULL << 20)
#define CODE_SIZE	(64 * 1024ULL)	/* slot 0 at GPA 0 */
#define CODE_GPA	0x1000ULL
#define DATA_GPA	(16 * MiB)	/* slot 1 */
#define TOUCH_SIZE	(16 * MiB)	/* K1, K2 */
#define LOG_SIZE	(64 * MiB)	/* K3 */
#define LOG_STRIDE	10		/* K3: every tenth page */
#define K2_PASSES	4

/* ---- a minimal VMM ------------------------------------------------------ */

struct vm {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	uint8_t *code;
};

/*
 * Guest code, 32-bit:
 *   STORE_LOOP: 1: mov [esi], eax; add esi, edx; dec ecx; jnz 1b; hlt
 *   STOS:       rep stosd; hlt
 */
static const uint8_t store_loop[] = {
	0x89, 0x06, 0x01, 0xd6, 0x49, 0x75, 0xf9, 0xf4,
};
static const uint8_t stos[] = { 0xf3, 0xab, 0xf4 };
/*
 *   PAGE_LOOP:  1: mov edi, esi; push ecx; mov ecx, 1024; rep stosd;
 *                  pop ecx; add esi, edx; dec ecx; jnz 1b; hlt
 * (ecx pages of 4 KiB written whole, edx apart, from esi)
 */
static const uint8_t page_loop[] = {
	0x89, 0xf7, 0x51, 0xb9, 0x00, 0x04, 0x00, 0x00, 0xf3, 0xab, 0x59,
	0x01, 0xd6, 0x49, 0x75, 0xf0, 0xf4,
};
#define STORE_LOOP_GPA	CODE_GPA
#define STOS_GPA	(CODE_GPA + 0x100)
#define PAGE_LOOP_GPA	(CODE_GPA + 0x200)

static void set_slot(struct vm *v, uint32_t slot, uint32_t flags, uint64_t gpa,
		     uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)hva,
	};

	/* (Deleting a slot that does not exist is EINVAL: nothing to do.) */
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &r) && (size || errno != EINVAL))
		die("KVM_SET_USER_MEMORY_REGION slot %u", slot);
}

static void vm_create(struct vm *v)
{
	struct kvm_segment cs = {
		.base = 0, .limit = 0xffffffff, .selector = 8, .type = 11,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_segment ds = cs;
	struct kvm_sregs sregs;
	int size;

	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		die("open /dev/kvm");
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		die("KVM_CREATE_VM");
	v->code = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->code == MAP_FAILED)
		die("mmap code");
	memcpy(v->code + STORE_LOOP_GPA, store_loop, sizeof(store_loop));
	memcpy(v->code + STOS_GPA, stos, sizeof(stos));
	memcpy(v->code + PAGE_LOOP_GPA, page_loop, sizeof(page_loop));
	set_slot(v, 0, 0, 0, CODE_SIZE, v->code);
	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		die("KVM_CREATE_VCPU");
	size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		die("mmap kvm_run");
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	/* Flat 32-bit protected mode, no paging: GPA = linear address. */
	ds.selector = 16;
	ds.type = 3;
	sregs.cs = cs;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
	sregs.cr0 = 0x11;	/* PE, ET */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
}

/* Run guest code at @rip with the given registers to its HLT; ns taken. */
static uint64_t vm_run(struct vm *v, uint64_t rip, uint64_t eax, uint64_t ecx,
		       uint64_t edx, uint64_t esi, uint64_t edi)
{
	struct kvm_regs regs = {
		.rip = rip, .rflags = 2, .rax = eax, .rcx = ecx, .rdx = edx,
		.rsi = esi, .rdi = edi, .rsp = CODE_SIZE - 16,
	};
	uint64_t t0;

	if (ioctl(v->vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");
	t0 = now_ns();
	if (ioctl(v->vcpu, KVM_RUN, 0))
		die("KVM_RUN");
	t0 = now_ns() - t0;
	if (v->run->exit_reason != KVM_EXIT_HLT) {
		errno = 0;
		die("guest exit %u instead of HLT", v->run->exit_reason);
	}
	return t0;
}

/* ---- the two sides ------------------------------------------------------ */

struct side {
	const char *name;
	int fd;			/* guestmem space, or memfd */
	bool guestmem;
	uint64_t size;
	uint8_t *map;
};

static void side_init(struct side *s, bool guestmem, uint64_t size,
		      uint32_t region_flags)
{
	s->guestmem = guestmem;
	s->size = size;
	s->map = NULL;
	if (guestmem) {
		struct guestmem_region r = {
			.gpa = DATA_GPA, .size = size,
			.backing = GUESTMEM_BACKING_VMALLOC,
			.flags = region_flags,
		};

		s->name = "guestmem";
		s->fd = open("/dev/guestmem", O_RDWR | O_CLOEXEC);
		if (s->fd < 0)
			die("open /dev/guestmem");
		if (ioctl(s->fd, GUESTMEM_ADD_REGION, &r))
			die("GUESTMEM_ADD_REGION");
	} else {
		s->name = "memfd";
		s->fd = memfd_create("kvm-bench", MFD_CLOEXEC);
		if (s->fd < 0 || ftruncate(s->fd, size) ||
		    fallocate(s->fd, 0, 0, size))
			die("memfd");
	}
}

/* A fresh mapping of the side's memory: no PTE yet. */
static void side_map(struct side *s)
{
	if (s->map)
		munmap(s->map, s->size);
	s->map = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd,
		      s->guestmem ? DATA_GPA : 0);
	if (s->map == MAP_FAILED)
		die("mmap %s", s->name);
}

static void side_fini(struct side *s)
{
	if (s->map)
		munmap(s->map, s->size);
	close(s->fd);
}

/* Memslot @slot at @gpa on the side's current mapping, replacing it. */
static void side_plug(struct vm *v, struct side *s, uint32_t slot,
		      uint64_t gpa, uint32_t flags)
{
	set_slot(v, slot, 0, gpa, 0, NULL);	/* delete: KVM drops its maps */
	set_slot(v, slot, flags, gpa, s->size, s->map);
}

/* ---- K1, K2 -------------------------------------------------------------- */

static void bench_touch(struct vm *v, int reps)
{
	uint64_t pages = TOUCH_SIZE / PG;
	double k1[2][64], k1r[64], k2[2][64], k2r[64];
	struct side s[2];
	char a[64], b[64];
	int i, j, k;

	side_init(&s[0], true, TOUCH_SIZE, 0);
	side_init(&s[1], false, TOUCH_SIZE, 0);
	for (i = 0; i < reps; i++) {
		for (j = 0; j < 2; j++) {
			uint64_t ns;

			side_map(&s[j]);
			side_plug(v, &s[j], 1, DATA_GPA, 0);
			ns = vm_run(v, STORE_LOOP_GPA, i + 1, pages, PG,
				    DATA_GPA, 0);
			k1[j][i] = (double)ns / pages;
			/* Mapped now: steady stores over all of it. */
			vm_run(v, STOS_GPA, i, TOUCH_SIZE / 4, 0, 0, DATA_GPA);
			for (ns = 0, k = 0; k < K2_PASSES; k++)
				ns += vm_run(v, STOS_GPA, i, TOUCH_SIZE / 4, 0,
					     0, DATA_GPA);
			k2[j][i] = (double)TOUCH_SIZE * K2_PASSES / MiB /
				   (ns / 1e9);
		}
		k1r[i] = k1[0][i] / k1[1][i];
		k2r[i] = k2[0][i] / k2[1][i];
	}
	snprintf(a, sizeof(a), "%.0f ns/page", median(k1[0], reps));
	snprintf(b, sizeof(b), "%.0f ns/page", median(k1[1], reps));
	row("K1", a, b, median(k1r, reps), "<= 1.25x", median(k1r, reps) <= 1.25,
	    "guest's first touch (one store per page) of 16 MiB, memslot on a fresh guestmem mapping vs a fresh MAP_SHARED memfd mapping (pages allocated)");
	snprintf(a, sizeof(a), "%.0f MiB/s", median(k2[0], reps));
	snprintf(b, sizeof(b), "%.0f MiB/s", median(k2[1], reps));
	row("K2", a, b, median(k2r, reps), ">= 0.95x", median(k2r, reps) >= 0.95,
	    "guest's steady write bandwidth (rep stosd over the 16 MiB, mapped), guestmem vs memfd");
	side_fini(&s[0]);
	side_fini(&s[1]);
	set_slot(v, 1, 0, DATA_GPA, 0, NULL);
}

/* ---- K3 ------------------------------------------------------------------- */

/* guestmem's mmap_faults counter of the space this process owns. */
static uint64_t gm_faults(void)
{
	const char *dir = "/sys/kernel/debug/guestmem";
	char path[300], line[256];
	struct dirent *de;
	uint64_t faults = 0;
	DIR *d = opendir(dir);
	bool mine;
	FILE *f;

	if (!d)
		die("opendir %s", dir);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "space-", 6))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		mine = false;
		while (fgets(line, sizeof(line), f)) {
			int pid;

			if (sscanf(line, "space %*u owner %d", &pid) == 1)
				mine = pid == getpid();
			if (mine)
				sscanf(line, "mmap_faults %" SCNu64, &faults);
		}
		fclose(f);
		if (mine)
			break;
	}
	closedir(d);
	return faults;
}

static unsigned int popcount_bitmap(const uint64_t *bm, uint64_t pages)
{
	unsigned int n = 0;
	uint64_t i;

	for (i = 0; i < pages / 64; i++)
		n += __builtin_popcountll(bm[i]);
	return n;
}

/* Every tenth page set, nothing else. */
static bool log_exact(const uint64_t *bm, uint64_t pages)
{
	uint64_t i;

	for (i = 0; i < pages; i++)
		if (!!(bm[i / 64] & (1ULL << (i % 64))) != !(i % LOG_STRIDE))
			return false;
	return true;
}

/*
 * K3's fetch-and-clear again, with guestmem's memslot gone: this process
 * writes the same pages through the same mapping, so the CLEAR zaps as
 * many PTEs in as many runs, but no KVM mapping hangs off them.  Set
 * beside K3's own fetch (@k3_fetch, us), it splits a CLEAR's cost per
 * cleared page into the host's unmap_mapping_pages() and KVM's
 * MMU-notifier callbacks.
 */
static void fetch_without_kvm(struct side *s, uint64_t *bm, uint64_t pages,
			      int reps, double k3_fetch)
{
	struct guestmem_dirty_log gl = {
		.gpa = DATA_GPA, .size = LOG_SIZE, .bitmap = (uintptr_t)bm,
		.flags = GUESTMEM_DIRTY_LOG_CLEAR,
	};
	uint64_t written = (pages + LOG_STRIDE - 1) / LOG_STRIDE, p, t;
	double us[64];
	int i;

	for (i = -1; i < reps; i++) {
		for (p = 0; p < pages; p += LOG_STRIDE)
			s->map[p * PG] = (uint8_t)i;
		t = now_ns();
		if (ioctl(s->fd, GUESTMEM_GET_DIRTY_LOG, &gl))
			die("fetch the log without KVM");
		t = now_ns() - t;
		if (i >= 0)
			us[i] = t / 1e3;
		if (!log_exact(bm, pages))
			die("the log without KVM is not the pages written");
	}
	printf("GMDIAG|K3 fetch+clear per cleared page: in K3 / the same pages with no KVM memslot|%.2f us / %.2f us (the difference: KVM's SPTE zaps and flushes)\n",
	       k3_fetch / written, median(us, reps) / written);
}

/*
 * K3 rounds, the guest writing each tenth page whole (@whole) or storing
 * one word in it; prints the row (@whole) or a diagnostic line.
 */
static void bench_dirty_log(struct vm *v, int reps, bool whole)
{
	uint64_t code = whole ? PAGE_LOOP_GPA : STORE_LOOP_GPA;
	const char *how = whole ? "whole pages" : "one store per page";
	uint64_t pages = LOG_SIZE / PG, written = (pages + LOG_STRIDE - 1) / LOG_STRIDE;
	double t[2][64], ratio[64], guest[2][64], fetch[2][64];
	uint64_t *bm = calloc(pages / 64, sizeof(uint64_t));
	uint64_t faults = 0, faults_max = 0;
	bool exact = true;
	struct side s[2];
	char a[64], b[64];
	int i, j;

	if (!bm)
		die("calloc");
	/*
	 * Two memslots plugged once for all rounds (re-plugging would drop
	 * KVM's log and mappings): guestmem's at DATA_GPA, where the space
	 * has its region, the memfd's, with KVM's log, right above.
	 */
	side_init(&s[0], true, LOG_SIZE, GUESTMEM_REGION_DIRTY_LOG);
	side_init(&s[1], false, LOG_SIZE, 0);
	for (j = 0; j < 2; j++) {
		side_map(&s[j]);
		side_plug(v, &s[j], 1 + j, DATA_GPA + j * LOG_SIZE,
			  j ? KVM_MEM_LOG_DIRTY_PAGES : 0);
	}
	for (i = -1; i < reps; i++) {	/* round -1 warms up */
		for (j = 0; j < 2; j++) {
			struct kvm_dirty_log kl = { .slot = 2, .dirty_bitmap = bm };
			struct guestmem_dirty_log gl = {
				.gpa = DATA_GPA, .size = LOG_SIZE,
				.bitmap = (uintptr_t)bm,
				.flags = GUESTMEM_DIRTY_LOG_CLEAR,
			};
			uint64_t base = DATA_GPA + j * LOG_SIZE, g, f0 = 0, f1;

			if (i < 0) {	/* map everything, then a clean log */
				vm_run(v, STORE_LOOP_GPA, 1, pages, PG, base, 0);
				if (j ? ioctl(v->vm, KVM_GET_DIRTY_LOG, &kl) :
					ioctl(s[j].fd, GUESTMEM_GET_DIRTY_LOG, &gl))
					die("clear the log");
				continue;
			}
			if (!j)
				f0 = gm_faults();
			g = vm_run(v, code, i + 2, written, LOG_STRIDE * PG,
				   base, 0);
			f1 = now_ns();
			memset(bm, 0, pages / 8);
			if (j ? ioctl(v->vm, KVM_GET_DIRTY_LOG, &kl) :
				ioctl(s[j].fd, GUESTMEM_GET_DIRTY_LOG, &gl))
				die("fetch the log");
			f1 = now_ns() - f1;
			if (!j) {
				faults = gm_faults() - f0;
				if (faults > faults_max)
					faults_max = faults;
			}
			exact &= log_exact(bm, pages) &&
				 popcount_bitmap(bm, pages) == written;
			guest[j][i] = g / 1e3;
			fetch[j][i] = f1 / 1e3;
			t[j][i] = (g + f1) / 1e3;
		}
		if (i >= 0)
			ratio[i] = t[0][i] / t[1][i];
	}
	snprintf(a, sizeof(a), "%.0f us/round", median(t[0], reps));
	snprintf(b, sizeof(b), "%.0f us/round", median(t[1], reps));
	if (whole)
		row("K3", a, b, median(ratio, reps), "<= 1.50x",
		    median(ratio, reps) <= 1.5 && exact && faults_max == written,
		    "dirty-log round over 64 MiB (the guest writes every tenth page, 6.4 MiB, then fetch and clear): guestmem's log vs KVM_GET_DIRTY_LOG on a memfd memslot");
	else
		printf("GMDIAG|K3 %s: guestmem / KVM per round|%s / %s = %.3fx\n",
		       how, a, b, median(ratio, reps));
	printf("GMDIAG|K3 %s, guestmem: guest pass / fetch+clear|%.0f us / %.0f us\n",
	       how, median(guest[0], reps), median(fetch[0], reps));
	printf("GMDIAG|K3 %s, KVM: guest pass / KVM_GET_DIRTY_LOG|%.0f us / %.0f us\n",
	       how, median(guest[1], reps), median(fetch[1], reps));
	printf("GMDIAG|K3 %s: guestmem mmap faults per round (pages written %" PRIu64 ")|%" PRIu64 " (largest of %d rounds)\n",
	       how, written, faults_max, reps);
	printf("GMDIAG|K3 %s: both logs exactly the pages written|%s\n",
	       how, exact ? "yes" : "NO");
	set_slot(v, 1, 0, DATA_GPA, 0, NULL);
	set_slot(v, 2, 0, DATA_GPA + LOG_SIZE, 0, NULL);
	if (whole)
		fetch_without_kvm(&s[0], bm, pages, reps, median(fetch[0], reps));
	side_fini(&s[0]);
	side_fini(&s[1]);
	free(bm);
}

/* ---- U1-U3: region updates against memslot updates ------------------------ */

#define U_GPA		(256 * MiB)	/* U1, U3: the 2 MiB region or slot */
#define U_SIZE		(2 * MiB)
#define U_SLOT		3
#define U_OPS		20		/* U1: operations per side and repetition */
#define U2_N		16384
#define U2_GPA		(1024 * MiB)	/* U2: one page every two */

static void gm_update(int fd, unsigned long req, uint64_t gpa, uint64_t size)
{
	struct guestmem_region r = {
		.gpa = gpa, .size = size, .backing = GUESTMEM_BACKING_VMALLOC,
	};

	if (ioctl(fd, req, &r))
		die(req == GUESTMEM_ADD_REGION ? "GUESTMEM_ADD_REGION" :
						 "GUESTMEM_REMOVE_REGION");
}

static int gm_open(void)
{
	int fd = open("/dev/guestmem", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open /dev/guestmem");
	return fd;
}

/*
 * Where U1's time goes: the add alone (which allocates and zeroes 512
 * pages: a memslot of untouched anonymous memory allocates nothing), the
 * removal alone, and the same updates of a one-page region, whose memory
 * costs next to nothing, against KVM's @kvm_ops create + delete per second.
 */
static void u1_diagnostics(int fd, double kvm_ops)
{
	uint64_t add = 0, rm = 0, t0, t1;
	double page_ops;
	int k;

	for (k = 0; k < U_OPS; k++) {
		t0 = now_ns();
		gm_update(fd, GUESTMEM_ADD_REGION, U_GPA, U_SIZE);
		t1 = now_ns();
		gm_update(fd, GUESTMEM_REMOVE_REGION, U_GPA, U_SIZE);
		rm += now_ns() - t1;
		add += t1 - t0;
	}
	printf("GMDIAG|U1: guestmem ADD_REGION / REMOVE_REGION of 2 MiB, mean of %d|%.0f us / %.0f us\n",
	       U_OPS, add / 1e3 / U_OPS, rm / 1e3 / U_OPS);
	printf("GMDIAG|U1: KVM memslot create + delete, median|%.0f us\n",
	       1e6 / kvm_ops);
	t0 = now_ns();
	for (k = 0; k < U_OPS; k++) {
		gm_update(fd, GUESTMEM_ADD_REGION, U_GPA, PG);
		gm_update(fd, GUESTMEM_REMOVE_REGION, U_GPA, PG);
	}
	page_ops = U_OPS / ((now_ns() - t0) / 1e9);
	printf("GMDIAG|U1: one-page VMALLOC region ADD+REMOVE vs the 2 MiB memslot|%.0f op/s = %.2fx\n",
	       page_ops, page_ops / kvm_ops);
}

static void bench_u1(struct vm *v, int reps)
{
	double gm[64], kvm[64], r[64];
	char a[64], b[64];
	uint8_t *mem;
	int fd = gm_open(), i, k;

	mem = mmap(NULL, U_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap U1");
	/* Warm-up of both paths (qemu translates each path once). */
	for (k = 0; k < 3; k++) {
		gm_update(fd, GUESTMEM_ADD_REGION, U_GPA, U_SIZE);
		gm_update(fd, GUESTMEM_REMOVE_REGION, U_GPA, U_SIZE);
		set_slot(v, U_SLOT, 0, U_GPA, U_SIZE, mem);
		set_slot(v, U_SLOT, 0, U_GPA, 0, NULL);
	}
	for (i = 0; i < reps; i++) {
		uint64_t t0 = now_ns();

		for (k = 0; k < U_OPS; k++) {
			gm_update(fd, GUESTMEM_ADD_REGION, U_GPA, U_SIZE);
			gm_update(fd, GUESTMEM_REMOVE_REGION, U_GPA, U_SIZE);
		}
		gm[i] = U_OPS / ((now_ns() - t0) / 1e9);
		t0 = now_ns();
		for (k = 0; k < U_OPS; k++) {
			set_slot(v, U_SLOT, 0, U_GPA, U_SIZE, mem);
			set_slot(v, U_SLOT, 0, U_GPA, 0, NULL);
		}
		kvm[i] = U_OPS / ((now_ns() - t0) / 1e9);
		r[i] = gm[i] / kvm[i];
	}
	snprintf(a, sizeof(a), "%.0f op/s", median(gm, reps));
	snprintf(b, sizeof(b), "%.0f op/s", median(kvm, reps));
	row("U1", a, b, median(r, reps), ">= 2.00x", median(r, reps) >= 2,
	    "GUESTMEM_ADD_REGION + GUESTMEM_REMOVE_REGION of a 2 MiB VMALLOC region vs KVM_SET_USER_MEMORY_REGION create + delete of a 2 MiB anonymous memslot (vCPU has run)");
	u1_diagnostics(fd, median(kvm, reps));
	munmap(mem, U_SIZE);
	close(fd);
}

/*
 * U2's guestmem side: the @n one-page regions added with GUESTMEM_ADD_REGIONS
 * in calls of GUESTMEM_REGION_BATCH_MAX, as a VMM sets up its memory map.
 */
static uint64_t u2_add_batched(int fd, struct guestmem_region *r, int n)
{
	struct guestmem_region_batch b = { 0 };
	uint64_t t0 = now_ns();
	int i;

	for (i = 0; i < n; i += b.count) {
		b.regions = (uintptr_t)(r + i);
		b.count = n - i < GUESTMEM_REGION_BATCH_MAX ?
			  n - i : GUESTMEM_REGION_BATCH_MAX;
		if (ioctl(fd, GUESTMEM_ADD_REGIONS, &b))
			die("GUESTMEM_ADD_REGIONS");
	}
	return now_ns() - t0;
}

/* The same regions added one GUESTMEM_ADD_REGION each (a diagnostic). */
static void u2_add_single(int fd)
{
	uint64_t t0, t1 = 0, first = 0, total;
	int i;

	t0 = now_ns();
	for (i = 0; i < U2_N; i++) {
		gm_update(fd, GUESTMEM_ADD_REGION, U2_GPA + 2 * PG * i, PG);
		/* Where the time goes: the first and the last 1,024 adds. */
		if (i == 1023 || i == U2_N - 1025)
			t1 = now_ns();
		if (i == 1023)
			first = t1 - t0;
	}
	total = now_ns() - t0;
	printf("GMDIAG|U2: guestmem, %d single GUESTMEM_ADD_REGION calls|%.2f s\n",
	       U2_N, total / 1e9);
	printf("GMDIAG|U2: guestmem single adds, the first 1,024|%.0f us each\n",
	       first / 1024 / 1e3);
	printf("GMDIAG|U2: guestmem single adds, the last 1,024|%.0f us each\n",
	       (t0 + total - t1) / 1024 / 1e3);
}

static void bench_u2(void)
{
	struct guestmem_region *regions;
	uint64_t gm_ns, kvm_ns, t0;
	char a[64], b[64];
	struct vm w;
	uint8_t *mem;
	double ratio;
	int fd = gm_open(), i;

	regions = calloc(U2_N, sizeof(*regions));
	if (!regions)
		die("calloc U2");
	for (i = 0; i < U2_N; i++) {
		regions[i].gpa = U2_GPA + 2 * PG * i;
		regions[i].size = PG;
		regions[i].backing = GUESTMEM_BACKING_VMALLOC;
	}
	gm_ns = u2_add_batched(fd, regions, U2_N);
	t0 = now_ns();
	close(fd);
	printf("GMDIAG|U2: closing the space of %d regions|%.2f s\n", U2_N,
	       (now_ns() - t0) / 1e9);
	free(regions);
	fd = gm_open();
	u2_add_single(fd);
	close(fd);

	/* A fresh VM whose one vCPU has run; memslots 1.. (0 holds the code). */
	vm_create(&w);
	vm_run(&w, STOS_GPA, 0, 0, 0, 0, DATA_GPA);
	mem = mmap(NULL, U2_N * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap U2");
	t0 = now_ns();
	for (i = 0; i < U2_N; i++)
		set_slot(&w, 1 + i, 0, U2_GPA + 2 * PG * i, PG, mem + PG * i);
	kvm_ns = now_ns() - t0;
	t0 = now_ns();
	close(w.vcpu);
	close(w.vm);
	close(w.kvm);
	munmap(w.code, CODE_SIZE);
	munmap(mem, U2_N * PG);
	printf("GMDIAG|U2: closing the VM of %d memslots|%.2f s\n", U2_N,
	       (now_ns() - t0) / 1e9);
	ratio = (double)gm_ns / kvm_ns;
	snprintf(a, sizeof(a), "%.2f s", gm_ns / 1e9);
	snprintf(b, sizeof(b), "%.2f s", kvm_ns / 1e9);
	row("U2", a, b, ratio, "<= 0.50x, <= 0.5 s",
	    ratio <= 0.5 && gm_ns <= 500000000ULL,
	    "16,384 one-page VMALLOC regions added (GUESTMEM_ADD_REGIONS, 4,096 a call) vs 16,384 one-page memslots created (one run each)");
}

static void bench_u3(void)
{
	double now[U_OPS], later[U_OPS], a_us, b_us;
	char a[64], b[64];
	int fd = gm_open(), k;
	uint64_t t0;

	for (k = 0; k < U_OPS; k++) {
		gm_update(fd, GUESTMEM_ADD_REGION, U_GPA, U_SIZE);
		t0 = now_ns();
		gm_update(fd, GUESTMEM_REMOVE_REGION, U_GPA, U_SIZE);
		now[k] = (now_ns() - t0) / 1e3;
		gm_update(fd, GUESTMEM_ADD_REGION, U_GPA, U_SIZE);
		usleep(50000);
		t0 = now_ns();
		gm_update(fd, GUESTMEM_REMOVE_REGION, U_GPA, U_SIZE);
		later[k] = (now_ns() - t0) / 1e3;
	}
	a_us = median(now, U_OPS);
	b_us = median(later, U_OPS);
	snprintf(a, sizeof(a), "%.0f us", a_us);
	snprintf(b, sizeof(b), "%.0f us", b_us);
	row("U3", a, b, a_us / b_us, "<= 1.50x", a_us / b_us <= 1.5,
	    "GUESTMEM_REMOVE_REGION of a 2 MiB VMALLOC region right after its add vs 50 ms after it (median of 20 each)");
	close(fd);
}

int main(int argc, char **argv)
{
	const char *only = "K,U";
	int reps = 9, opt;
	struct vm v;

	while ((opt = getopt(argc, argv, "r:o:")) != -1) {
		if (opt == 'r')
			reps = atoi(optarg);
		else if (opt == 'o')
			only = optarg;
	}
	if (reps < 1 || reps > 64) {
		fprintf(stderr, "usage: %s [-r REPS (1-64)] [-o K,U]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	vm_create(&v);
	/* The vCPU has run before any row. */
	vm_run(&v, STOS_GPA, 0, 0, 0, 0, DATA_GPA);
	if (strchr(only, 'K')) {
		bench_touch(&v, reps);
		bench_dirty_log(&v, reps, true);
		bench_dirty_log(&v, reps, false);
	}
	if (strchr(only, 'U')) {
		bench_u1(&v, reps);
		bench_u3();
		bench_u2();
	}
	return 0;
}
