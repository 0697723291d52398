// SPDX-License-Identifier: GPL-2.0
/*
 * USER regions are bounded per user, not only per process: their pages count
 * in the user's locked_vm against RLIMIT_MEMLOCK, whatever the user's
 * processes do.  An unprivileged uid whose limit allows four 16-page regions
 * cannot pin more by letting children add a region each to a shared fd and
 * exit (before, each child's charge died with its mm and sixteen went in).
 * Every path gives the charge back exactly once: removal, close (also when
 * the last reference is another process's), a failed add (EFAULT after a
 * partial pin, EINVAL, the user's own ENOMEM), after which the whole budget
 * can be pinned again.  The adding process's VmLck shows its regions while
 * it lives.  With CAP_IPC_LOCK nothing is checked.
 *
 * Each test runs its work in a child that sets RLIMIT_MEMLOCK and becomes a
 * uid of its own (so that no other test's pins share its budget), which
 * drops CAP_IPC_LOCK; /dev/guestmem (0600) is opened before.
 */
#include <grp.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define B		0x6000000000ULL
#define RPG		16			/* pages per region */
#define RBYTES		(RPG * PG)
#define LIMIT		(4 * RBYTES)		/* four regions */
#define NCHILD		16

/* Become @uid with RLIMIT_MEMLOCK = @limit and no capabilities. */
static void become(uid_t uid, uint64_t limit)
{
	CHILD_CHECK(set_memlock(limit) == 0);
	CHILD_CHECK(setgroups(0, NULL) == 0);
	CHILD_CHECK(setgid(uid) == 0);
	CHILD_CHECK(setuid(uid) == 0);
	CHILD_CHECK(geteuid() == uid);
}

static int add_at(int fd, unsigned int i, void *mem, uint64_t bytes)
{
	return gm_add_user(fd, B + (uint64_t)i * LIMIT * 2, bytes, mem);
}

/* The space each test's child works on, opened before it drops privileges. */
GM_SPACE_FIXTURE(space);

/* Fork, run @fn(@fd, @arg) in the child and return its exit status. */
static int run_child(void (*fn)(int, long), int fd, long arg)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		fn(fd, arg);
		_exit(0);
	}
	return wait_child(pid);
}

/* A grandchild: add one region of fresh shared memory to @fd and exit. */
static void add_one_and_exit(int fd, long i)
{
	void *mem = map_shmem(RBYTES);
	int ret;

	CHILD_CHECK(mem);
	memset(mem, 0x11, RBYTES);
	ret = add_at(fd, i, mem, RBYTES);
	_exit(ret == 0 ? 0 : ret == -ENOMEM ? 100 : 101);
}

static void fork_and_exit_pattern(int fd, long uid)
{
	struct guestmem_info info;
	unsigned int i, added = 0;
	int st;

	become(uid, LIMIT);
	for (i = 0; i < NCHILD; i++) {
		st = run_child(add_one_and_exit, fd, i);
		CHILD_CHECK(st == 0 || st == 100);
		added += st == 0;
	}
	CHILD_CHECK(gm_info(fd, &info) == 0);
	printf("# %u of %u children added a region\n", added, NCHILD);
	CHILD_CHECK(info.num_regions == added);
	CHILD_CHECK(added == LIMIT / RBYTES);
	/* Removing one gives exactly its pages back. */
	CHILD_CHECK(gm_remove(fd, B, RBYTES) == 0);
	CHILD_CHECK(run_child(add_one_and_exit, fd, 0) == 0);
	CHILD_CHECK(run_child(add_one_and_exit, fd, NCHILD) == 100);
}

TEST_F(space, children_share_the_budget)
{
	EXPECT_EQ(0, run_child(fork_and_exit_pattern, self->fd, 41001));
}

/* The whole budget can be pinned: nothing is still charged. */
static void full_budget_free(int fd, long tag)
{
	void *mem = map_shmem(LIMIT);

	CHILD_CHECK(mem);
	CHILD_CHECK(add_at(fd, 0, mem, LIMIT) == 0);
	CHILD_CHECK(vmlck_kb(0) == LIMIT / 1024);
	CHILD_CHECK(add_at(fd, 1, mem, PG) == -ENOMEM);
	CHILD_CHECK(gm_remove(fd, B, LIMIT) == 0);
	CHILD_CHECK(vmlck_kb(0) == 0);
	munmap(mem, LIMIT);
}

static void every_path_uncharges(int fd, long uid)
{
	int fds[2], p1[2], p2[2];
	struct guestmem_region r;
	uint8_t *mem, *half;
	pid_t pid;
	char c;

	CHILD_CHECK((fds[0] = gm_open()) >= 0);
	CHILD_CHECK((fds[1] = gm_open()) >= 0);
	become(uid, LIMIT);
	mem = map_shmem(LIMIT);
	CHILD_CHECK(mem);
	memset(mem, 1, LIMIT);

	full_budget_free(fd, 0);

	/* Removal. */
	CHILD_CHECK(add_at(fd, 0, mem, 3 * RBYTES) == 0);
	CHILD_CHECK(add_at(fd, 1, mem, RBYTES) == 0);
	CHILD_CHECK(add_at(fd, 2, mem, PG) == -ENOMEM);
	CHILD_CHECK(vmlck_kb(0) == LIMIT / 1024);
	CHILD_CHECK(gm_remove(fd, B, 3 * RBYTES) == 0);
	CHILD_CHECK(gm_remove(fd, B + 2 * LIMIT, RBYTES) == 0);
	full_budget_free(fd, 1);

	/* Close. */
	CHILD_CHECK(add_at(fds[0], 0, mem, LIMIT) == 0);
	close(fds[0]);
	full_budget_free(fd, 2);

	/*
	 * The last reference dropped by another process: a child adds a
	 * region through fds[1] and keeps it open while we close ours; the
	 * budget stays taken until the child exits, and comes back then.
	 */
	CHILD_CHECK(pipe(p1) == 0 && pipe(p2) == 0);
	pid = fork();
	CHILD_CHECK(pid >= 0);
	if (!pid) {
		CHILD_CHECK(add_at(fds[1], 0, mem, LIMIT) == 0);
		CHILD_CHECK(write(p1[1], "a", 1) == 1);
		CHILD_CHECK(read(p2[0], &c, 1) == 1);
		_exit(0);
	}
	CHILD_CHECK(read(p1[0], &c, 1) == 1);
	close(fds[1]);
	CHILD_CHECK(add_at(fd, 0, mem, PG) == -ENOMEM);
	CHILD_CHECK(write(p2[1], "b", 1) == 1);
	CHILD_CHECK(wait_child(pid) == 0);
	full_budget_free(fd, 3);

	/* Failed adds: EFAULT after a partial pin ... */
	half = map_shmem(2 * RBYTES);
	CHILD_CHECK(half);
	memset(half, 2, 2 * RBYTES);
	CHILD_CHECK(munmap(half + RBYTES, RBYTES) == 0);
	CHILD_CHECK(add_at(fd, 0, half, 2 * RBYTES) == -EFAULT);
	full_budget_free(fd, 4);
	/* ... EINVAL (a device mapping: a mapping of our own space) ... */
	CHILD_CHECK(gm_add_vmalloc(fd, 0, RBYTES) == 0);
	half = mmap(NULL, RBYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHILD_CHECK(half != MAP_FAILED);
	CHILD_CHECK(add_at(fd, 0, half, RBYTES) == -EINVAL);
	munmap(half, RBYTES);
	CHILD_CHECK(gm_remove(fd, 0, RBYTES) == 0);
	full_budget_free(fd, 5);
	/* ... over the limit, and of a bad descriptor. */
	CHILD_CHECK(add_at(fd, 0, mem, LIMIT + PG) == -ENOMEM);
	r = gm_region(B, RBYTES, (uintptr_t)mem, GUESTMEM_BACKING_USER, 0);
	r.reserved[1] = 1;
	CHILD_CHECK(gm_ioctl(fd, GUESTMEM_ADD_REGION, &r) == -EINVAL);
	full_budget_free(fd, 6);
	CHILD_CHECK(vmlck_kb(0) == 0);
}

TEST_F(space, every_path_uncharges_once)
{
	EXPECT_EQ(0, run_child(every_path_uncharges, self->fd, 41002));
}

/* Two processes of one user share one budget, even with fds of their own. */
static void second_process(int fd, long unused)
{
	void *mem = map_shmem(RBYTES);

	CHILD_CHECK(mem);
	CHILD_CHECK(add_at(fd, 5, mem, RBYTES) == -ENOMEM);
	CHILD_CHECK(vmlck_kb(0) == 0);
}

static void two_processes(int fd, long uid)
{
	int own;
	void *mem;

	CHILD_CHECK((own = gm_open()) >= 0);
	become(uid, LIMIT);
	mem = map_shmem(LIMIT);
	CHILD_CHECK(mem);
	CHILD_CHECK(add_at(fd, 0, mem, LIMIT) == 0);
	CHILD_CHECK(run_child(second_process, own, 0) == 0);
	CHILD_CHECK(gm_remove(fd, B, LIMIT) == 0);
	CHILD_CHECK(add_at(own, 0, mem, LIMIT) == 0);
	close(own);
}

TEST_F(space, processes_of_one_user)
{
	EXPECT_EQ(0, run_child(two_processes, self->fd, 41003));
}

/* With CAP_IPC_LOCK nothing is checked (but VmLck still shows the pins). */
static void privileged(int fd, long unused)
{
	void *mem = map_shmem(4 * LIMIT);

	CHILD_CHECK(mem);
	CHILD_CHECK(set_memlock(LIMIT) == 0);
	CHILD_CHECK(add_at(fd, 0, mem, 4 * LIMIT) == 0);
	CHILD_CHECK(vmlck_kb(0) == 4 * LIMIT / 1024);
	CHILD_CHECK(gm_remove(fd, B, 4 * LIMIT) == 0);
}

TEST_F(space, cap_ipc_lock_unchecked)
{
	EXPECT_EQ(0, run_child(privileged, self->fd, 0));
}

TEST_HARNESS_MAIN
