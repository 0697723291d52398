// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-hold: keep KVM's runtime-patched static keys steady for a test run.
 *
 * Creating the first KVM VM and destroying the last one flips static keys
 * in the host kernel's hottest code: preempt_notifier_key (in
 * finish_task_switch(), on every context switch), kvm_has_noapic_vcpu and
 * the deferred apic_sw_disabled key (both in KVM's interrupt paths).  Each
 * flip is an int3-based text_poke_bp() on code the other CPU is running.
 * Under qemu's multi-threaded TCG (7.2 here) such a patch now and then
 * leaves a vCPU executing a stale translation of the int3: both CPUs loop
 * in asm_exc_int3 at finish_task_switch+0x9f, whose bytes are the finished
 * nop again, until the soft-lockup watchdog and the run's timeout (seen in
 * 3 of 7 `make check` runs, and reproduced by creating and closing VMs in
 * a loop with no guestmem code running).  That is a TCG bug, not one of
 * the kernel or of guestmem, and a test run has no business flipping those
 * keys hundreds of times.
 *
 * So scripts/vm starts this before the tests when /dev/kvm exists: it holds
 * one VM with an in-kernel irqchip and a vCPU whose local APIC is never
 * software-enabled (preempt_notifier_key, apic_sw_disabled) and one VM
 * with a vCPU and no irqchip (kvm_has_noapic_vcpu), creates the file named
 * on its command line once it does, and sleeps until killed.  The keys then
 * stay enabled for the whole run, whatever VMs the tests create and
 * destroy.  The held VMs never run and share nothing with the tests.
 * Its own flips can hang the same way (one did, at boot, beside another
 * VM loading the host): so the test kernels boot with maxcpus=1, and the
 * init brings the second CPU online only once this is ready.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int vm_with_vcpu(int kvm, int irqchip)
{
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);

	if (vm < 0) {
		perror("kvm-hold: KVM_CREATE_VM");
		return -1;
	}
	if (irqchip && ioctl(vm, KVM_CREATE_IRQCHIP, 0)) {
		perror("kvm-hold: KVM_CREATE_IRQCHIP");
		return -1;
	}
	if (ioctl(vm, KVM_CREATE_VCPU, 0) < 0) {
		perror("kvm-hold: KVM_CREATE_VCPU");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int kvm, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: kvm-hold READY-FILE\n");
		return 2;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("kvm-hold: /dev/kvm");
		return 1;
	}
	if (vm_with_vcpu(kvm, 1) || vm_with_vcpu(kvm, 0))
		return 1;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror("kvm-hold: ready file");
		return 1;
	}
	close(fd);
	for (;;)
		pause();
}
