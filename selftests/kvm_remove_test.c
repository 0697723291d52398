// SPDX-License-Identifier: GPL-2.0
/*
 * REMOVE_REGION under a running KVM guest whose memslot is a guestmem
 * mapping: two vCPU threads write an ever-growing counter into every page
 * of the region without exiting; the test removes the region once both
 * have written, and then:
 *
 *  - both vCPUs' KVM_RUN ends with EFAULT (removal zaps the mapping, and
 *    the MMU notifiers take the pages out of KVM's page tables too);
 *  - for USER over a memfd, the old pages do not change after
 *    REMOVE_REGION returned (a snapshot taken then still matches after the
 *    vCPUs stopped); for VMALLOC, the debug kernel's KASAN watches the
 *    freed memory;
 *  - a region added again at the same GPA is what the guest then sees: the
 *    vCPUs, run again, complete the access that failed and go on writing
 *    into the new region.
 *
 * Repeated with the backings alternating.  No kernel report may result.
 */
#include <pthread.h>
#include <signal.h>

#include "guestmem_util.h"
#include "vmm.h"
#include "kselftest_harness.h"

#define G		VMM_TEST_GPA_MIN
#define NPG		8
#define LEN		(NPG * PG)
#define SLOT		1
#define NR_VCPUS	2
#define ROUNDS		4
#define WAIT_MS		(120 * 1000)	/* for the vCPUs: only a failure waits */

/* vCPU @id writes n = 1, 2, ... into word @id of every page, forever. */
static void guest_hammer(uint64_t base, uint64_t id)
{
	uint64_t n, pg;

	for (n = 1;; n++)
		for (pg = 0; pg < NPG; pg++)
			GUEST_WRITE(uint64_t, base + pg * PG + 8 * id, n);
}

struct runner {
	struct vcpu *v;
	pthread_t thread;
	volatile int done;
	int ret;		/* of the KVM_RUN that ended the run */
	uint32_t exit_reason;
};

static void *runner_fn(void *arg)
{
	struct runner *r = arg;

	do {
		r->ret = vcpu_run(r->v);
	} while (r->ret == -EINTR);
	r->exit_reason = r->v->run->exit_reason;
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void noop(int sig)
{
	(void)sig;
}

/* Word @id of page @pg of the region, read with GUESTMEM_READ; 0 on error. */
static uint64_t word(int fd, int pg, int id)
{
	uint64_t v = 0;

	if (gm_read(fd, G + pg * PG + 8 * id, &v, sizeof(v)))
		return 0;
	return v;
}

/* Wait until every vCPU has written its word of every page. */
static bool wait_written(int fd)
{
	uint64_t end = now_ms() + WAIT_MS;
	int id, pg;

	for (;;) {
		bool all = true;

		for (id = 0; id < NR_VCPUS; id++)
			for (pg = 0; pg < NPG; pg++)
				if (!word(fd, pg, id))
					all = false;
		if (all)
			return true;
		if (now_ms() >= end)
			return false;
		sleep_ms(1);
	}
}

/* Wait for a runner to stop; false (after kicking it out) if it did not. */
static bool wait_runner(struct runner *r)
{
	uint64_t end = now_ms() + WAIT_MS;

	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		if (now_ms() >= end) {
			pthread_kill(r->thread, SIGUSR1);
			return false;
		}
		sleep_ms(1);
	}
	pthread_join(r->thread, NULL);
	return true;
}

static int add_region(int fd, int round, uint8_t *user)
{
	if (round & 1)
		return gm_add_vmalloc(fd, G, LEN);
	memset(user, 0, LEN);
	return gm_add_user(fd, G, LEN, user);
}

FIXTURE(remove) {
	int unused;
};

FIXTURE_SETUP(remove)
{
}

FIXTURE_TEARDOWN(remove)
{
}

TEST_F_TIMEOUT(remove, under_running_vcpus, 600)
{
	struct runner run[NR_VCPUS];
	static uint8_t snap[LEN];
	struct sigaction sa;
	uint8_t *user, *map;
	struct vm *vm;
	int fd, memfd, round, i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = noop;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));	/* no SA_RESTART */

	memfd = memfd_create("guestmem-remove", MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, LEN));
	user = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, user);
	fd = gm_open();
	ASSERT_LE(0, fd);
	map = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, G);
	ASSERT_NE(MAP_FAILED, map);

	vm = vm_create();
	ASSERT_NE(NULL, vm)
		TH_LOG("no KVM VM (%s): the guest tests need /dev/kvm (nested SVM)",
		       strerror(errno));
	ASSERT_EQ(0, vm_memslot(vm, SLOT, G, LEN, map, 0));
	ASSERT_EQ(0, vm_map(vm, G, G, LEN));
	for (i = 0; i < NR_VCPUS; i++) {
		run[i].v = vcpu_add(vm, guest_hammer, G, i, 0, 0);
		ASSERT_NE(NULL, run[i].v);
	}

	for (round = 0; round < ROUNDS; round++) {
		const char *kind = round & 1 ? "VMALLOC" : "USER memfd";

		ASSERT_EQ(0, add_region(fd, round, user));
		for (i = 0; i < NR_VCPUS; i++) {
			run[i].done = 0;
			ASSERT_EQ(0, pthread_create(&run[i].thread, NULL,
						    runner_fn, &run[i]));
		}
		ASSERT_TRUE(wait_written(fd))
			TH_LOG("round %d (%s): the vCPUs did not write", round, kind);

		ASSERT_EQ(0, gm_remove(fd, G, LEN));
		memcpy(snap, user, LEN);

		for (i = 0; i < NR_VCPUS; i++) {
			ASSERT_TRUE(wait_runner(&run[i]))
				TH_LOG("round %d (%s): vCPU %d still runs after REMOVE_REGION",
				       round, kind, i);
			EXPECT_EQ(-EFAULT, run[i].ret)
				TH_LOG("round %d (%s): vCPU %d: %s (exit %s)", round,
				       kind, i, strerror(-run[i].ret),
				       vmm_exit_name(run[i].exit_reason));
		}
		if (!(round & 1)) {
			EXPECT_EQ(0, memcmp(snap, user, LEN))
				TH_LOG("round %d: the removed USER pages changed", round);
			for (i = 0; i < NR_VCPUS; i++) {
				EXPECT_NE(0ULL, *(uint64_t *)(snap + 8 * i));
			}
		}
		printf("# round %d (%s): both vCPUs wrote, REMOVE_REGION, both got EFAULT\n",
		       round, kind);
	}

	/* Once more: re-added, the guest goes on where it failed. */
	ASSERT_EQ(0, add_region(fd, 0, user));
	for (i = 0; i < NR_VCPUS; i++) {
		run[i].done = 0;
		ASSERT_EQ(0, pthread_create(&run[i].thread, NULL, runner_fn, &run[i]));
	}
	ASSERT_TRUE(wait_written(fd));
	for (i = 0; i < NR_VCPUS; i++) {
		EXPECT_NE(0ULL, *(uint64_t *)(user + (NPG - 1) * PG + 8 * i));
	}
	ASSERT_EQ(0, gm_remove(fd, G, LEN));
	for (i = 0; i < NR_VCPUS; i++) {
		ASSERT_TRUE(wait_runner(&run[i]));
		EXPECT_EQ(-EFAULT, run[i].ret);
	}

	vm_free(vm);
	munmap(map, LEN);
	close(fd);
	munmap(user, LEN);
	close(memfd);
}

TEST_HARNESS_MAIN
