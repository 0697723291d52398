// SPDX-License-Identifier: GPL-2.0
/*
 * A small VMM for the guest tests: see vmm.h.
 *
 * Written after reading the KVM selftests' library (lib/kvm_util.c,
 * lib/x86_64/processor.c, lib/ucall_common.c of the 6.12 tree): the same
 * ideas (the program's own image as guest code, 4-level page tables built
 * by the host, ucalls through an I/O port), own code, and only the ioctls
 * Linux 6.1 has.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm.h"

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)
#define PTE_ADDR	0x000ffffffffff000ULL
#define HUGE_2M		(2ULL << 20)

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define CR4_OSFXSR	(1ULL << 9)
#define CR4_OSXMMEXCPT	(1ULL << 10)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define SEL_CODE	0x08
#define SEL_DATA	0x10
#define SEL_TSS		0x18
#define NR_EXCEPTIONS	32
#define NR_VECTORS	256

#define MSI_ADDR_BASE	0xfee00000U

/*
 * Guest-side assembly: where a guest function returns to (UCALL_DONE), and
 * one 16-byte stub per exception vector that reports it (UCALL_EXCEPTION).
 * The vectors that push an error code themselves do not get a dummy one.
 */
asm(".pushsection .text\n"
	".globl vmm_guest_return\n"
	"vmm_guest_return:\n"
	"	mov $2, %edi\n"			/* UCALL_DONE */
	"	mov $0x1000, %edx\n"
	"1:	out %al, %dx\n"
	"	jmp 1b\n"
	".balign 16\n"
	".globl vmm_guest_vectors\n"
	"vmm_guest_vectors:\n"
	"vector = 0\n"
	".rept 32\n"
	".balign 16\n"
	".if vector != 8 && (vector < 10 || vector > 14) && vector != 17 && vector != 21 && vector != 29 && vector != 30\n"
	"	pushq $0\n"
	".endif\n"
	"	pushq $vector\n"
	"	jmp vmm_guest_exception\n"
	"vector = vector + 1\n"
	".endr\n"
	"vmm_guest_exception:\n"
	"	mov (%rsp), %rsi\n"
	"	mov 8(%rsp), %rcx\n"
	"	mov 16(%rsp), %r8\n"
	"	mov %cr2, %r9\n"
	"	mov $4, %edi\n"			/* UCALL_EXCEPTION */
	"	mov $0x1000, %edx\n"
	"2:	out %al, %dx\n"
	"	jmp 2b\n"
	/*
	 * Vectors 32-255: one stub each, which pushes its vector and goes to
	 * vmm_guest_irq: that saves the registers a C function may clobber,
	 * calls vmm_guest_irq_handlers[vector](vector) with the stack 16-byte
	 * aligned and returns with IRETQ; a vector without a handler is
	 * reported as an exception (UCALL_EXCEPTION, error code 0).
	 */
	".balign 16\n"
	".globl vmm_guest_irq_vectors\n"
	"vmm_guest_irq_vectors:\n"
	"vector = 32\n"
	".rept 224\n"
	".balign 16\n"
	"	pushq $vector\n"
	"	jmp vmm_guest_irq\n"
	"vector = vector + 1\n"
	".endr\n"
	"vmm_guest_irq:\n"
	"	push %rax\n"
	"	push %rcx\n"
	"	push %rdx\n"
	"	push %rsi\n"
	"	push %rdi\n"
	"	push %r8\n"
	"	push %r9\n"
	"	push %r10\n"
	"	push %r11\n"
	"	mov 72(%rsp), %rdi\n"		/* the vector */
	"	lea vmm_guest_irq_handlers(%rip), %rax\n"
	"	mov (%rax,%rdi,8), %rax\n"
	"	test %rax, %rax\n"
	"	jz 3f\n"
	"	sub $8, %rsp\n"			/* 5 + 1 + 9 words pushed: align */
	"	cld\n"
	"	call *%rax\n"
	"	add $8, %rsp\n"
	"	pop %r11\n"
	"	pop %r10\n"
	"	pop %r9\n"
	"	pop %r8\n"
	"	pop %rdi\n"
	"	pop %rsi\n"
	"	pop %rdx\n"
	"	pop %rcx\n"
	"	pop %rax\n"
	"	add $8, %rsp\n"
	"	iretq\n"
	"3:	mov %rdi, %rsi\n"
	"	xor %ecx, %ecx\n"
	"	mov 80(%rsp), %r8\n"		/* the interrupted RIP */
	"	xor %r9d, %r9d\n"
	"	mov $4, %edi\n"			/* UCALL_EXCEPTION */
	"	mov $0x1000, %edx\n"
	"4:	out %al, %dx\n"
	"	jmp 4b\n"
	/* The only place where a guest takes interrupts (see vmm.h). */
	".globl guest_wait_irq\n"
	"guest_wait_irq:\n"
	"	sti\n"
	"	hlt\n"
	"	cli\n"
	"	ret\n"
	".popsection\n");

extern char vmm_guest_return[], vmm_guest_vectors[], vmm_guest_irq_vectors[];

guest_irq_handler_t vmm_guest_irq_handlers[NR_VECTORS];

static void *sys_hva(struct vm *vm, uint64_t gpa)
{
	return vm->sys + (gpa - VMM_SYS_GPA);
}

/* Where the guest sees a GPA of the system slot. */
static uint64_t sys_gva(uint64_t gpa)
{
	return VMM_SYS_GVA + (gpa - VMM_SYS_GPA);
}

/* @n zeroed pages of the system slot (anonymous memory starts zeroed). */
static uint64_t sys_alloc(struct vm *vm, uint64_t n)
{
	uint64_t gpa = vm->sys_next;

	if (gpa + n * VMM_PAGE > VMM_SYS_GPA + VMM_SYS_SIZE)
		return 0;
	vm->sys_next += n * VMM_PAGE;
	return gpa;
}

/*
 * The entry at @level (3 = PML4 ... 0 = PT) for @gva, creating the tables
 * above it; NULL if a large page is in the way or the pool is empty.
 */
static uint64_t *pte_get(struct vm *vm, uint64_t gva, int level)
{
	uint64_t *table = sys_hva(vm, vm->pml4);
	int l;

	for (l = 3; l > level; l--) {
		uint64_t *e = &table[(gva >> (12 + 9 * l)) & 511];

		if (!(*e & PTE_P)) {
			uint64_t pt = sys_alloc(vm, 1);

			if (!pt)
				return NULL;
			*e = pt | PTE_P | PTE_RW;
		} else if (*e & PTE_PS) {
			return NULL;
		}
		table = sys_hva(vm, *e & PTE_ADDR);
	}
	return &table[(gva >> (12 + 9 * level)) & 511];
}

/* The GPA @gva maps to, or -1 if it is not mapped. */
static uint64_t gva2gpa(struct vm *vm, uint64_t gva)
{
	uint64_t *table = sys_hva(vm, vm->pml4);
	int l;

	for (l = 3; l >= 0; l--) {
		uint64_t e = table[(gva >> (12 + 9 * l)) & 511];
		uint64_t mask = (1ULL << (12 + 9 * l)) - 1;

		if (!(e & PTE_P))
			return (uint64_t)-1;
		if (l == 0 || (e & PTE_PS))
			return (e & PTE_ADDR & ~mask) | (gva & mask);
		table = sys_hva(vm, e & PTE_ADDR);
	}
	return (uint64_t)-1;
}

int vm_map(struct vm *vm, uint64_t gva, uint64_t gpa, uint64_t size)
{
	uint64_t end = gva + size;

	if ((gva | gpa | size) & (VMM_PAGE - 1))
		return -EINVAL;
	while (gva < end) {
		bool huge = !((gva | gpa) & (HUGE_2M - 1)) && end - gva >= HUGE_2M;
		uint64_t *e = pte_get(vm, gva, huge ? 1 : 0);

		if (!e)
			return vm->sys_next + VMM_PAGE > VMM_SYS_GPA + VMM_SYS_SIZE ?
			       -ENOMEM : -EEXIST;
		if (*e & PTE_P)
			return -EEXIST;
		*e = gpa | PTE_P | PTE_RW | (huge ? PTE_PS : 0);
		gva += huge ? HUGE_2M : VMM_PAGE;
		gpa += huge ? HUGE_2M : VMM_PAGE;
	}
	return 0;
}

/* Copy one loaded segment of the program to the guest, at the same GVAs. */
static int copy_segment(struct vm *vm, uint64_t start, uint64_t end)
{
	uint64_t va, gpa;
	int ret;

	for (va = start & ~(VMM_PAGE - 1); va < end; va += VMM_PAGE) {
		gpa = gva2gpa(vm, va);
		if (gpa == (uint64_t)-1) {
			gpa = sys_alloc(vm, 1);
			if (!gpa)
				return -ENOMEM;
			ret = vm_map(vm, va, gpa, VMM_PAGE);
			if (ret)
				return ret;
		}
		memcpy(sys_hva(vm, gpa), (void *)(uintptr_t)va, VMM_PAGE);
	}
	return 0;
}

static int copy_image_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct vm *vm = data;
	int i, ret;

	(void)size;
	/* The first object is the program itself (static: the only one). */
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		ret = copy_segment(vm, start, start + ph->p_memsz);
		if (ret)
			return ret;
	}
	return 1;	/* stop after the program */
}

static void gdt_set(uint64_t *gdt, int sel, uint64_t desc)
{
	gdt[sel / 8] = desc;
}

static int setup_tables(struct vm *vm)
{
	uint64_t *gdt, *idt, tss_gva, handler;
	int i;

	vm->gdt = sys_alloc(vm, 1);
	vm->idt = sys_alloc(vm, 1);
	vm->tss = sys_alloc(vm, 1);
	vm->pml4 = sys_alloc(vm, 1);
	if (!vm->gdt || !vm->idt || !vm->tss || !vm->pml4)
		return -ENOMEM;

	/* Flat 64-bit code and data, and a 64-bit TSS (type 0xb, busy). */
	gdt = sys_hva(vm, vm->gdt);
	gdt_set(gdt, SEL_CODE, 0x00af9b000000ffffULL);
	gdt_set(gdt, SEL_DATA, 0x00cf93000000ffffULL);
	tss_gva = sys_gva(vm->tss);
	gdt_set(gdt, SEL_TSS, 0x67 | ((tss_gva & 0xffffff) << 16) |
		(0x8bULL << 40) | (((tss_gva >> 24) & 0xff) << 56));
	gdt_set(gdt, SEL_TSS + 8, tss_gva >> 32);

	/* Interrupt gates to the exception and interrupt stubs. */
	idt = sys_hva(vm, vm->idt);
	for (i = 0; i < NR_VECTORS; i++) {
		if (i < NR_EXCEPTIONS)
			handler = (uintptr_t)vmm_guest_vectors + 16 * i;
		else
			handler = (uintptr_t)vmm_guest_irq_vectors +
				  16 * (i - NR_EXCEPTIONS);
		idt[2 * i] = (handler & 0xffff) | ((uint64_t)SEL_CODE << 16) |
			     (0x8eULL << 40) | (((handler >> 16) & 0xffff) << 48);
		idt[2 * i + 1] = handler >> 32;
	}
	return 0;
}

struct vm *vm_create(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct kvm_userspace_memory_region mr;
	int nent = 256, ret, err;

	if (!vm)
		return NULL;
	vm->fd = -1;
	vm->sys = MAP_FAILED;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		err = errno;
		fprintf(stderr, "# vmm: open /dev/kvm: %s\n", strerror(err));
		goto fail;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		err = EINVAL;
		fprintf(stderr, "# vmm: unexpected KVM API version\n");
		goto fail;
	}
	vm->fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		err = errno;
		fprintf(stderr, "# vmm: KVM_CREATE_VM: %s\n", strerror(err));
		goto fail;
	}

	for (;;) {
		vm->cpuid = calloc(1, sizeof(*vm->cpuid) +
				   nent * sizeof(struct kvm_cpuid_entry2));
		if (!vm->cpuid) {
			err = ENOMEM;
			goto fail;
		}
		vm->cpuid->nent = nent;
		if (!ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid))
			break;
		err = errno;
		free(vm->cpuid);
		vm->cpuid = NULL;
		if (err != E2BIG || nent > 4096) {
			fprintf(stderr, "# vmm: KVM_GET_SUPPORTED_CPUID: %s\n",
				strerror(err));
			goto fail;
		}
		nent *= 2;
	}

	vm->sys = mmap(NULL, VMM_SYS_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->sys == MAP_FAILED) {
		err = errno;
		goto fail;
	}
	memset(&mr, 0, sizeof(mr));
	mr.slot = VMM_SYS_SLOT;
	mr.guest_phys_addr = VMM_SYS_GPA;
	mr.memory_size = VMM_SYS_SIZE;
	mr.userspace_addr = (uintptr_t)vm->sys;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &mr)) {
		err = errno;
		fprintf(stderr, "# vmm: system memslot: %s\n", strerror(err));
		goto fail;
	}

	vm->sys_next = VMM_SYS_GPA + VMM_PAGE;	/* its first page stays unused */
	ret = setup_tables(vm);
	if (!ret)
		ret = vm_map(vm, VMM_SYS_GVA, VMM_SYS_GPA, VMM_SYS_SIZE);
	if (!ret) {
		ret = dl_iterate_phdr(copy_image_cb, vm);
		ret = ret == 1 ? 0 : ret ? ret : -ENOENT;
	}
	if (ret) {
		err = -ret;
		fprintf(stderr, "# vmm: building the guest image: %s\n",
			strerror(err));
		goto fail;
	}
	return vm;

fail:
	vm_free(vm);
	errno = err;
	return NULL;
}

void vm_free(struct vm *vm)
{
	int i;

	if (!vm)
		return;
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		munmap(v->run, v->run_size);
		close(v->fd);
		free(v);
	}
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->sys != MAP_FAILED)
		munmap(vm->sys, VMM_SYS_SIZE);
	free(vm->cpuid);
	free(vm->routing);
	free(vm);
}

int vm_irqchip(struct vm *vm)
{
	if (vm->nr_vcpus)
		return -EBUSY;
	return ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) ? -errno : 0;
}

int vm_msi_route(struct vm *vm, uint32_t gsi, uint32_t apic_id,
		 uint8_t vector)
{
	struct kvm_irq_routing_entry *e = NULL;
	uint32_t i;

	if (apic_id > 255 || vector < NR_EXCEPTIONS)
		return -EINVAL;
	if (!vm->routing) {
		vm->routing = calloc(1, sizeof(*vm->routing) + VMM_MAX_ROUTES *
				     sizeof(struct kvm_irq_routing_entry));
		if (!vm->routing)
			return -ENOMEM;
	}
	for (i = 0; i < vm->routing->nr; i++)
		if (vm->routing->entries[i].gsi == gsi)
			e = &vm->routing->entries[i];
	if (!e) {
		if (vm->routing->nr == VMM_MAX_ROUTES)
			return -ENOSPC;
		e = &vm->routing->entries[vm->routing->nr++];
	}
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	/* Fixed delivery, physical destination, edge triggered. */
	e->u.msi.address_lo = MSI_ADDR_BASE | (apic_id << 12);
	e->u.msi.data = vector;
	return ioctl(vm->fd, KVM_SET_GSI_ROUTING, vm->routing) ? -errno : 0;
}

int vm_irqfd(struct vm *vm, int efd, uint32_t gsi, bool assign)
{
	struct kvm_irqfd irqfd;

	memset(&irqfd, 0, sizeof(irqfd));
	irqfd.fd = efd;
	irqfd.gsi = gsi;
	irqfd.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN;
	return ioctl(vm->fd, KVM_IRQFD, &irqfd) ? -errno : 0;
}

int vm_ioeventfd(struct vm *vm, int efd, uint64_t addr, uint32_t len,
		 uint32_t flags)
{
	struct kvm_ioeventfd io;

	memset(&io, 0, sizeof(io));
	io.fd = efd;
	io.addr = addr;
	io.len = len;
	io.flags = flags;
	return ioctl(vm->fd, KVM_IOEVENTFD, &io) ? -errno : 0;
}

int vm_memslot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
	       void *hva, uint32_t flags)
{
	struct kvm_userspace_memory_region mr;

	if (slot == VMM_SYS_SLOT)
		return -EINVAL;
	memset(&mr, 0, sizeof(mr));
	mr.slot = slot;
	mr.flags = flags;
	mr.guest_phys_addr = gpa;
	mr.memory_size = size;
	mr.userspace_addr = (uintptr_t)hva;
	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &mr) ? -errno : 0;
}

int vm_dirty_log(struct vm *vm, uint32_t slot, void *bitmap)
{
	struct kvm_dirty_log log;

	memset(&log, 0, sizeof(log));
	log.slot = slot;
	log.dirty_bitmap = bitmap;
	return ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log) ? -errno : 0;
}

static void seg_flat(struct kvm_segment *s, uint16_t sel, bool code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = code ? 0xb : 0x3;	/* execute/read, or read/write; accessed */
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

static int vcpu_set_state(struct vcpu *v, void *guest_fn,
			  const uint64_t *args, uint64_t stack)
{
	struct vm *vm = v->vm;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint64_t top = stack + VMM_STACK_SIZE;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs))
		return -errno;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA;
	sregs.cr3 = vm->pml4;
	sregs.gdt.base = sys_gva(vm->gdt);
	sregs.gdt.limit = VMM_PAGE - 1;
	sregs.idt.base = sys_gva(vm->idt);
	sregs.idt.limit = NR_VECTORS * 16 - 1;
	seg_flat(&sregs.cs, SEL_CODE, true);
	seg_flat(&sregs.ds, SEL_DATA, false);
	sregs.es = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.ss = sregs.ds;
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.selector = SEL_TSS;
	sregs.tr.base = sys_gva(vm->tss);
	sregs.tr.limit = 0x67;
	sregs.tr.type = 0xb;
	sregs.tr.present = 1;
	memset(&sregs.ldt, 0, sizeof(sregs.ldt));
	sregs.ldt.unusable = 1;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs))
		return -errno;

	/* The return address of the guest function, as a call would leave it. */
	*(uint64_t *)sys_hva(vm, top - 8) = (uintptr_t)vmm_guest_return;
	memset(&regs, 0, sizeof(regs));
	regs.rip = (uintptr_t)guest_fn;
	regs.rsp = sys_gva(top) - 8;
	regs.rflags = 2;
	regs.rdi = args[0];
	regs.rsi = args[1];
	regs.rdx = args[2];
	regs.rcx = args[3];
	if (ioctl(v->fd, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

/* The stack of vCPU @id: the system slot keeps one per possible vCPU. */
static uint64_t vcpu_stack(struct vm *vm, int id)
{
	static const uint64_t base = VMM_SYS_GPA + VMM_SYS_SIZE -
				     VMM_MAX_VCPUS * VMM_STACK_SIZE;

	(void)vm;
	return base + (uint64_t)id * VMM_STACK_SIZE;
}

struct vcpu *vcpu_add(struct vm *vm, void *guest_fn, uint64_t arg0,
		      uint64_t arg1, uint64_t arg2, uint64_t arg3)
{
	uint64_t args[4] = { arg0, arg1, arg2, arg3 };
	struct vcpu *v;
	int size, err;

	if (vm->nr_vcpus == VMM_MAX_VCPUS) {
		errno = ENOSPC;
		return NULL;
	}
	/* The stacks live at the top of the system slot: keep the pool below. */
	if (vm->sys_next > vcpu_stack(vm, 0)) {
		errno = ENOMEM;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->vm = vm;
	v->id = vm->nr_vcpus;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, v->id);
	if (v->fd < 0) {
		err = errno;
		free(v);
		errno = err;
		return NULL;
	}
	size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->run_size = size > 0 ? size : 0;
	v->run = size > 0 ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
				 v->fd, 0) : MAP_FAILED;
	if (v->run == MAP_FAILED) {
		err = errno;
		close(v->fd);
		free(v);
		errno = err;
		return NULL;
	}
	vm->vcpus[vm->nr_vcpus++] = v;
	if (ioctl(v->fd, KVM_SET_CPUID2, vm->cpuid))
		return NULL;	/* errno set; the vCPU is freed with the VM */
	err = -vcpu_set_state(v, guest_fn, args, vcpu_stack(vm, v->id));
	if (err) {
		errno = err;
		return NULL;
	}
	return v;
}

int vcpu_restart(struct vcpu *v, void *guest_fn, uint64_t arg0, uint64_t arg1,
		 uint64_t arg2, uint64_t arg3)
{
	uint64_t args[4] = { arg0, arg1, arg2, arg3 };

	return vcpu_set_state(v, guest_fn, args, vcpu_stack(v->vm, v->id));
}

int vcpu_run(struct vcpu *v)
{
	return ioctl(v->fd, KVM_RUN, 0) ? -errno : 0;
}

int vcpu_next(struct vcpu *v, struct ucall *uc)
{
	struct kvm_regs regs;
	int ret;

	memset(uc, 0, sizeof(*uc));
	do {
		ret = vcpu_run(v);
	} while (ret == -EINTR);
	if (ret)
		return ret;
	if (v->run->exit_reason != KVM_EXIT_IO ||
	    v->run->io.port != VMM_UCALL_PORT ||
	    v->run->io.direction != KVM_EXIT_IO_OUT) {
		v->last = *uc;
		return UCALL_NONE;
	}
	if (ioctl(v->fd, KVM_GET_REGS, &regs))
		return -errno;
	uc->cmd = regs.rdi;
	uc->args[0] = regs.rsi;
	uc->args[1] = regs.rcx;
	uc->args[2] = regs.r8;
	uc->args[3] = regs.r9;
	v->last = *uc;
	return (int)uc->cmd;
}

const char *vmm_exit_name(uint32_t reason)
{
	static const char * const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO",
		[KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG",
		[KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "other";
}

const char *vcpu_what(struct vcpu *v, int ret)
{
	struct kvm_run *run = v->run;
	struct ucall *uc = &v->last;
	size_t n = sizeof(v->what);
	char *s = v->what;

	if (ret < 0) {
		snprintf(s, n, "vCPU %d: KVM_RUN: %s", v->id, strerror(-ret));
		return s;
	}
	switch (ret) {
	case UCALL_NONE:
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			snprintf(s, n, "vCPU %d: exit MMIO %s of %u bytes at GPA 0x%llx",
				 v->id, run->mmio.is_write ? "write" : "read",
				 run->mmio.len, (unsigned long long)run->mmio.phys_addr);
			break;
		case KVM_EXIT_IO:
			snprintf(s, n, "vCPU %d: exit IO %s port 0x%x", v->id,
				 run->io.direction ? "out" : "in", run->io.port);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(s, n, "vCPU %d: exit FAIL_ENTRY reason 0x%llx",
				 v->id, (unsigned long long)
				 run->fail_entry.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(s, n, "vCPU %d: exit INTERNAL_ERROR suberror %u",
				 v->id, run->internal.suberror);
			break;
		default:
			snprintf(s, n, "vCPU %d: exit %s (%u)", v->id,
				 vmm_exit_name(run->exit_reason), run->exit_reason);
		}
		break;
	case UCALL_SYNC:
		snprintf(s, n, "vCPU %d: sync 0x%llx 0x%llx", v->id,
			 (unsigned long long)uc->args[0],
			 (unsigned long long)uc->args[1]);
		break;
	case UCALL_DONE:
		snprintf(s, n, "vCPU %d: done", v->id);
		break;
	case UCALL_ABORT:
		/* The message is a string literal: its GVA is our address. */
		snprintf(s, n, "vCPU %d: guest assertion failed: %s (line %llu; 0x%llx 0x%llx)",
			 v->id, (const char *)(uintptr_t)uc->args[0],
			 (unsigned long long)uc->args[1],
			 (unsigned long long)uc->args[2],
			 (unsigned long long)uc->args[3]);
		break;
	case UCALL_EXCEPTION:
		snprintf(s, n,
			 "vCPU %d: guest exception %llu, error code 0x%llx, RIP 0x%llx, CR2 0x%llx",
			 v->id, (unsigned long long)uc->args[0],
			 (unsigned long long)uc->args[1],
			 (unsigned long long)uc->args[2],
			 (unsigned long long)uc->args[3]);
		break;
	default:
		snprintf(s, n, "vCPU %d: unknown ucall %llu", v->id,
			 (unsigned long long)uc->cmd);
	}
	return s;
}
