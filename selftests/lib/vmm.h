/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small VMM for the guest tests: KVM VMs whose guests are C functions of
 * the test program, running in 64-bit long mode.  Modelled on the KVM
 * selftests' library (tools/testing/selftests/kvm/lib), but it only needs
 * KVM_SET_USER_MEMORY_REGION (v1), so it works on 6.1 as on 6.12.
 *
 * Guest memory layout:
 *
 *  - slot VMM_SYS_SLOT, GPA [VMM_SYS_GPA, + VMM_SYS_SIZE): the VMM's own
 *    memory (an anonymous mapping): page tables, GDT, IDT, TSS, the vCPUs'
 *    stacks, and a copy of the test program's loaded image.  The image is mapped
 *    at the guest virtual addresses the program runs at in the host, so
 *    guest code is ordinary C: any function, string literal or constant
 *    of the program works in the guest, with no relocation.  Globals are
 *    the guest's own copies (what they held when the VM was created).
 *    The rest of the system slot is mapped at VMM_SYS_GVA on.
 *  - every other memslot is the caller's (vm_memslot()), usually identity
 *    mapped with vm_map(vm, gpa, gpa, size): anywhere below 2^39 but the
 *    system slot and the program's image (a static program is loaded at
 *    4 MiB; vm_map() says EEXIST on a clash).  Tests use VMM_TEST_GPA_MIN.
 *
 * Guest code must not call libc functions that touch thread-local storage
 * or system calls; the compiler's own memcpy()/memset() calls are fine
 * (they run the copied libc code), but plain loops over volatile pointers
 * are what guest tests should use to access test memory, so that every
 * access is a real load or store of the given size.
 *
 * The guest reports to the host with "ucalls": an OUT to VMM_UCALL_PORT with
 * the command and arguments in registers, which the host reads with
 * KVM_GET_REGS.  A guest function that returns makes a UCALL_DONE; an
 * exception in the guest makes a UCALL_EXCEPTION (vector, error code, RIP).
 *
 * Interrupts (for devices that inject them through an irqfd): the host
 * gives the VM an in-kernel irqchip (vm_irqchip(), before the first vCPU)
 * and routes a GSI to a vector as an MSI (vm_msi_route(); no IOAPIC
 * programming); the guest turns its local APIC on in x2APIC mode
 * (guest_x2apic_enable()), installs a handler for the vector
 * (guest_set_irq_handler(); the handler ends with guest_x2apic_eoi()) and
 * waits with guest_wait_irq().  Guests run with interrupts disabled
 * except inside guest_wait_irq() (STI; HLT; CLI in a function of its own):
 * the test program is compiled with a red zone, which an interrupt frame
 * pushed in the middle of ordinary C code would overwrite, and across a
 * call the caller keeps nothing in its red zone or in caller-saved
 * registers.  An interrupt pending while they are disabled is taken at the
 * next guest_wait_irq(), so a guest that checks for its completion and
 * then waits loses no wake-up.  A vector without a handler is reported as
 * a UCALL_EXCEPTION.
 */
#ifndef GUESTMEM_VMM_H
#define GUESTMEM_VMM_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <linux/kvm.h>

#define VMM_PAGE		4096ULL
#define VMM_SYS_SLOT		0
#define VMM_SYS_GPA		(3ULL << 30)
#define VMM_SYS_SIZE		(16ULL << 20)
#define VMM_SYS_GVA		(1ULL << 40)
#define VMM_TEST_GPA_MIN	(1ULL << 30)
#define VMM_UCALL_PORT		0x1000
#define VMM_MAX_VCPUS		8
#define VMM_MAX_ROUTES		16

enum {
	UCALL_NONE,		/* an exit that was not a ucall: see vcpu->run */
	UCALL_SYNC,		/* args[0..3]: values for the host */
	UCALL_DONE,		/* the guest function returned */
	/* args[0]: message (its GVA is its host address), [1]: line, [2..3]: values */
	UCALL_ABORT,
	/* args[0]: vector, args[1]: error code, args[2]: RIP, args[3]: CR2 */
	UCALL_EXCEPTION,
};

struct ucall {
	uint64_t cmd;
	uint64_t args[4];
};

struct vm;

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	struct ucall last;	/* the last ucall vcpu_next() returned */
	char what[256];		/* vcpu_what()'s buffer */
};

struct vm {
	int kvm_fd;
	int fd;
	uint8_t *sys;		/* host address of the system slot */
	uint64_t sys_next;	/* next free GPA in the system slot */
	uint64_t pml4;		/* GPA of the top-level page table */
	uint64_t gdt, idt, tss;	/* GPAs */
	struct kvm_cpuid2 *cpuid;
	int nr_vcpus;
	struct vcpu *vcpus[VMM_MAX_VCPUS];
	struct kvm_irq_routing *routing;	/* vm_msi_route()'s, or NULL */
};

/* ---- host side ------------------------------------------------------------ */

/*
 * A VM with its system slot, page tables and a copy of the program, or NULL
 * (with errno set and a reason on stderr; no /dev/kvm is ENOENT).
 */
struct vm *vm_create(void);
/* Close every vCPU and the VM, and unmap the system slot. */
void vm_free(struct vm *vm);

/*
 * KVM_SET_USER_MEMORY_REGION: slot @slot (not VMM_SYS_SLOT) at
 * [gpa, gpa + size) is host memory @hva, with KVM_MEM_* @flags; size 0
 * deletes the slot.  0 or -errno.
 */
int vm_memslot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
	       void *hva, uint32_t flags);

/*
 * Map guest virtual [gva, gva + size) to guest physical [gpa, gpa + size)
 * (writable; 2 MiB pages where both are aligned).  0, or -EEXIST if some of
 * it is mapped already, -ENOMEM if the page-table pool is exhausted.
 */
int vm_map(struct vm *vm, uint64_t gva, uint64_t gpa, uint64_t size);

/*
 * KVM_GET_DIRTY_LOG of a slot (created with KVM_MEM_LOG_DIRTY_PAGES): the
 * pages written since the last call, which the call write-protects again.
 * @bitmap: one bit per page of the slot, in 64-bit words.  0 or -errno.
 */
int vm_dirty_log(struct vm *vm, uint32_t slot, void *bitmap);

/*
 * KVM_CREATE_IRQCHIP: an in-kernel local APIC per vCPU (and the PIC and
 * IOAPIC), so that irqfds can inject interrupts and a guest's HLT waits in
 * the kernel.  Before vcpu_add() (-EBUSY after).  0 or -errno.
 */
int vm_irqchip(struct vm *vm);

/*
 * Route GSI @gsi as an MSI to the local APIC @apic_id (a vCPU's id) with
 * vector @vector (32-255; fixed delivery, edge): KVM_SET_GSI_ROUTING with
 * every route set so far (this replaces the irqchip's default routes; at
 * most VMM_MAX_ROUTES).  Needs vm_irqchip().  0 or -errno.
 */
int vm_msi_route(struct vm *vm, uint32_t gsi, uint32_t apic_id,
		 uint8_t vector);

/* KVM_IRQFD: signals of eventfd @efd raise GSI @gsi (or stop).  0 or -errno. */
int vm_irqfd(struct vm *vm, int efd, uint32_t gsi, bool assign);

/*
 * KVM_IOEVENTFD: a guest write of @len bytes at @addr (an I/O port with
 * KVM_IOEVENTFD_FLAG_PIO in @flags, else MMIO) signals eventfd @efd in
 * the kernel, with no exit to user space; KVM_IOEVENTFD_FLAG_DEASSIGN
 * removes it.  0 or -errno.
 */
int vm_ioeventfd(struct vm *vm, int efd, uint64_t addr, uint32_t len,
		 uint32_t flags);

/*
 * A vCPU that starts in long mode at @guest_fn(arg0, ..., arg3) on a stack of its
 * own (VMM_STACK_SIZE), or NULL with errno set.  The function may return:
 * that is a UCALL_DONE.
 */
#define VMM_STACK_SIZE	(64 * 1024)
struct vcpu *vcpu_add(struct vm *vm, void *guest_fn, uint64_t arg0,
		      uint64_t arg1, uint64_t arg2, uint64_t arg3);

/*
 * Restart the vCPU at @guest_fn(arg0, ..., arg3) with a fresh stack.  0 or -errno.
 */
int vcpu_restart(struct vcpu *vcpu, void *guest_fn, uint64_t arg0,
		 uint64_t arg1, uint64_t arg2, uint64_t arg3);

/* One KVM_RUN: 0 or -errno (-EINTR included). */
int vcpu_run(struct vcpu *vcpu);

/*
 * Run until something the test must look at happens.  Returns a UCALL_* with
 * *uc filled (UCALL_NONE: another exit, vcpu->run->exit_reason says which),
 * or -errno when KVM_RUN failed (EINTR is retried).
 */
int vcpu_next(struct vcpu *vcpu, struct ucall *uc);

/* A line describing what vcpu_next() returned (@ret), for test logs. */
const char *vcpu_what(struct vcpu *vcpu, int ret);

/* Name of a KVM_EXIT_* reason. */
const char *vmm_exit_name(uint32_t reason);

/* ---- guest side ----------------------------------------------------------- */

static inline void guest_ucall(uint64_t cmd, uint64_t a0, uint64_t a1,
			       uint64_t a2, uint64_t a3)
{
	/* The host reads the registers with KVM_GET_REGS at the I/O exit. */
	register uint64_t r8 asm("r8") = a2;
	register uint64_t r9 asm("r9") = a3;

	asm volatile("outb %%al, %%dx"
		     : : "a"(0), "d"(VMM_UCALL_PORT), "D"(cmd), "S"(a0),
		       "c"(a1), "r"(r8), "r"(r9)
		     : "memory");
}

#define GUEST_SYNC(v)		guest_ucall(UCALL_SYNC, (uint64_t)(v), 0, 0, 0)
#define GUEST_SYNC2(a, b)	guest_ucall(UCALL_SYNC, (uint64_t)(a), (uint64_t)(b), 0, 0)
#define GUEST_DONE()		guest_ucall(UCALL_DONE, 0, 0, 0, 0)

#define GUEST_ASSERT2(cond, a, b) do {					\
	if (!(cond)) {							\
		for (;;)						\
			guest_ucall(UCALL_ABORT,			\
				    (uint64_t)(__FILE__ ": " #cond),	\
				    __LINE__, (uint64_t)(a),		\
				    (uint64_t)(b));			\
	}								\
} while (0)

#define GUEST_ASSERT(cond)	GUEST_ASSERT2(cond, 0, 0)
#define GUEST_ASSERT_EQ(a, b)	GUEST_ASSERT2((uint64_t)(a) == (uint64_t)(b), a, b)

/* Interrupts: see the top of this file. */
typedef void (*guest_irq_handler_t)(uint64_t vector);
extern guest_irq_handler_t vmm_guest_irq_handlers[256];

/* Enable interrupts, halt until one has been handled, disable them again. */
void guest_wait_irq(void);

static inline void guest_set_irq_handler(uint8_t vector, guest_irq_handler_t fn)
{
	vmm_guest_irq_handlers[vector] = fn;
}

static inline uint64_t guest_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | ((uint64_t)hi << 32);
}

static inline void guest_wrmsr(uint32_t msr, uint64_t val)
{
	asm volatile("wrmsr"
		     : : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
		     : "memory");
}

#define GUEST_MSR_APIC_BASE	0x1b
#define GUEST_APIC_BASE_EXTD	(1ULL << 10)	/* x2APIC mode */
#define GUEST_APIC_BASE_EN	(1ULL << 11)
#define GUEST_X2APIC_EOI	0x80b
#define GUEST_X2APIC_SVR	0x80f

/* The local APIC on, in x2APIC mode (the in-kernel irqchip's, vm_irqchip()). */
static inline void guest_x2apic_enable(void)
{
	guest_wrmsr(GUEST_MSR_APIC_BASE, guest_rdmsr(GUEST_MSR_APIC_BASE) |
		    GUEST_APIC_BASE_EN | GUEST_APIC_BASE_EXTD);
	/* Software-enabled, spurious vector 0xff. */
	guest_wrmsr(GUEST_X2APIC_SVR, 0x1ff);
}

static inline void guest_x2apic_eoi(void)
{
	guest_wrmsr(GUEST_X2APIC_EOI, 0);
}

static inline void guest_outw(uint16_t port, uint16_t val)
{
	asm volatile("outw %0, %1" : : "a"(val), "Nd"(port) : "memory");
}

/* Accesses of exactly one load or store, for guest code. */
#define GUEST_READ(type, addr)	  (*(volatile type *)(uintptr_t)(addr))
#define GUEST_WRITE(type, addr, v) (*(volatile type *)(uintptr_t)(addr) = (v))

/*
 * Guest code, a virtio driver's: descriptor @i of the split-ring (or
 * indirect) descriptor table at @table, in the guest's byte order.
 */
static inline void guest_vring_desc(uint64_t table, uint16_t i, uint64_t addr,
				    uint32_t len, uint16_t flags, uint16_t next)
{
	uint64_t d = table + 16ULL * i;

	GUEST_WRITE(uint64_t, d, addr);
	GUEST_WRITE(uint32_t, d + 8, len);
	GUEST_WRITE(uint16_t, d + 12, flags);
	GUEST_WRITE(uint16_t, d + 14, next);
}

#endif /* GUESTMEM_VMM_H */
