// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-flip: create a KVM VM with a vCPU and close it, N times (default
 * 300), printing progress every 10.  Each round flips KVM's runtime-patched
 * static keys on and off (scripts/kvm-hold.c lists them).  Under qemu 7.2's
 * multi-threaded TCG this now and then hangs both vCPUs on a stale int3:
 *
 *   scripts/vm --kernel stock --no-module --no-kvm-hold -- kvm-flip  # hangs
 *   scripts/vm --kernel stock --no-module -- kvm-flip     # the holder: passes
 *
 * (2026-12-08: hung at rounds ~25 and ~120 without the holder, and again
 * in a third run; 300 and 600 rounds ran through with it.)  --no-module:
 * no guestmem code is loaded.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 300, i, kvm, vm, vcpu;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("kvm-flip: /dev/kvm");
		return 1;
	}
	for (i = 0; i < n; i++) {
		vm = ioctl(kvm, KVM_CREATE_VM, 0);
		if (vm < 0) {
			perror("kvm-flip: KVM_CREATE_VM");
			return 1;
		}
		vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
		if (vcpu < 0) {
			perror("kvm-flip: KVM_CREATE_VCPU");
			return 1;
		}
		close(vcpu);
		close(vm);
		if (i % 10 == 0) {
			printf("kvm-flip: round %d\n", i);
			fflush(stdout);
		}
	}
	printf("kvm-flip: %d rounds done\n", n);
	return 0;
}
