/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the guestmem kselftests, defined in guestmem_util.c and
 * linked into every test.  Every wrapper returns 0 (or a count) on success
 * and -errno on failure, so tests can write ASSERT_EQ(-EEXIST, gm_add(...)).
 */
#ifndef GUESTMEM_UTIL_H
#define GUESTMEM_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/guestmem.h>

/*
 * kselftest_harness.h (included after this file) generates functions with
 * parameters that some tests do not use; -Wextra would flag each of them.
 * Note that EXPECT_*()/ASSERT_*() expand to two statements: always brace
 * them when they are the body of an if, for or while.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
/* ...and TEST_F()'s setjmp() makes -Wclobbered flag its own locals. */
#pragma GCC diagnostic ignored "-Wclobbered"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

#define GM_DEV		"/dev/guestmem"
#define PG		4096ULL
#define GPA_TOP		(~0ULL)		/* last byte of the address space */
#define GPA_END(n)	(0ULL - (uint64_t)(n))	/* 2^64 - n */
#define MAX_REGIONS_PARAM "/sys/module/guestmem/parameters/max_regions"

int gm_open(void);

int gm_ioctl(int fd, unsigned long cmd, void *arg);

struct guestmem_region gm_region(uint64_t gpa, uint64_t size,
				 uint64_t user_addr,
				 uint32_t backing, uint32_t flags);

int gm_add(int fd, uint64_t gpa, uint64_t size,
	   uint64_t user_addr, uint32_t backing, uint32_t flags);

int gm_add_vmalloc(int fd, uint64_t gpa, uint64_t size);

int gm_add_user(int fd, uint64_t gpa, uint64_t size, void *mem);

int gm_remove(int fd, uint64_t gpa, uint64_t size);

int gm_info(int fd, struct guestmem_info *info);

/* GUESTMEM_READ/WRITE; *done (if given) receives the out field. */
int gm_io(int fd, unsigned long cmd, uint64_t gpa, void *buf,
	  uint64_t len, uint32_t flags, uint64_t *done);

int gm_read(int fd, uint64_t gpa, void *buf, uint64_t len);

int gm_write(int fd, uint64_t gpa, const void *buf, uint64_t len);

/* GUESTMEM_FILL of @len bytes at @gpa with @value (all 32 bits passed). */
int gm_fill(int fd, uint64_t gpa, uint64_t len, uint32_t value);
/* GUESTMEM_COPY of @len bytes from @src to @dst. */
int gm_copy(int fd, uint64_t dst, uint64_t src, uint64_t len);

/* A GUESTMEM_BATCH op: @op (GUESTMEM_OP_*) of @len bytes at @gpa, @buf. */
struct guestmem_batch_op gm_batch_op(uint32_t op, uint64_t gpa, uint64_t len,
				     void *buf);

/* What GUESTMEM_BATCH's done holds before the call, to see it written. */
#define GM_DONE_POISON	0xdeadbeefU
/* GUESTMEM_BATCH of @count @ops; *@done (if not NULL) gets its done. */
int gm_batch(int fd, const struct guestmem_batch_op *ops, uint32_t count,
	     uint32_t *done);
/*
 * GUESTMEM_ATOMIC @op on @size bytes at @gpa with *@value and @expected;
 * *@value gets the ioctl's value back.
 */
int gm_atomic(int fd, uint64_t gpa, uint32_t size, uint32_t op,
	      uint64_t *value, uint64_t expected);


/* GUESTMEM_GET_DIRTY_LOG of [gpa, gpa + size) into @bitmap. */
int gm_dirty_log(int fd, uint64_t gpa, uint64_t size,
		 void *bitmap, uint32_t flags);

/* Regions of a space, sorted by GPA; *n receives the count.  free() it. */
struct guestmem_region *gm_regions(int fd, uint32_t *n);

/* The byte a test expects at @gpa for pattern @seed: depends on both. */
uint8_t pat(uint64_t gpa, uint64_t seed);

void pat_fill(void *buf, uint64_t gpa, size_t len, uint64_t seed);

/* Index of the first byte differing from the pattern, or -1. */
long pat_check(const void *buf, uint64_t gpa, size_t len,
	       uint64_t seed);

/* Index of the first byte that is not @c, or -1. */
long mem_check(const void *buf, int c, size_t len);

/*
 * GUESTMEM_READ of [gpa, gpa + len) against pattern @seed: -1 if it all
 * matches, else the index of the first wrong byte; -2 if the read failed,
 * -3 if out of memory.
 */
long gm_pat_check(int fd, uint64_t gpa, uint64_t len,
		  uint64_t seed);

/* Likewise against the byte @c. */
long gm_mem_check(int fd, uint64_t gpa, uint64_t len, int c);

/*
 * In a test file: the fixture @name, whose one field, fd, is an empty space
 * opened before each test and closed after it.
 */
#define GM_SPACE_FIXTURE(name)						\
FIXTURE(name) {								\
	int fd;								\
};									\
FIXTURE_SETUP(name)							\
{									\
	self->fd = gm_open();						\
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GM_DEV, strerror(errno)); \
}									\
FIXTURE_TEARDOWN(name)							\
{									\
	close(self->fd);						\
}

/*
 * In a test: [gpa, gpa + len) of space @fd reads back as pat(., @seed)
 * through GUESTMEM_READ; the log names the first byte that differs (-2:
 * the read failed, -3: out of memory).
 */
#define EXPECT_GPA_PAT(fd, gpa, len, seed) do {				\
	long __bad = gm_pat_check(fd, gpa, len, seed);			\
									\
	EXPECT_EQ(-1, __bad)						\
		TH_LOG("gpa %#llx + %#llx: pattern %d expected, byte %ld differs", \
		       (unsigned long long)(gpa), (unsigned long long)(len), \
		       (int)(seed), __bad);				\
} while (0)

/* GUESTMEM_WRITE pattern @seed to [gpa, gpa + len); gm_write()'s result. */
int gm_pat_write(int fd, uint64_t gpa, uint64_t len,
		 uint64_t seed);

/*
 * The space the access tests start from (atomic_test, batch_test), page p
 * at @base + p * PG:
 *
 *   [0, 4)   R0 VMALLOC
 *   [4, 8)   R1 USER over *@u1
 *   [8, 12)  hole
 *   [12, 16) RO USER READONLY over *@uro
 *
 * R0 and R1 hold pat(gpa, @seed), RO pat(gpa, @seed_ro).  *@u1 and *@uro
 * (4 pages each) are shared memory (map_shmem()) if @shared, else private
 * (map_anon()).  Returns the space's fd, or -errno.
 */
int gm_access_space(uint64_t base, bool shared, uint64_t seed,
		    uint64_t seed_ro, uint8_t **u1, uint8_t **uro);

/* Anonymous private memory (MAP_PRIVATE | MAP_ANONYMOUS), or NULL. */
void *map_anon(size_t len);

/*
 * Shared anonymous memory (shmem), or NULL: what USER regions that are
 * mapped through guestmem use.  guestmem never maps the anonymous pages
 * of private memory (the kernel maps an anonymous page writable in one
 * place only): through a guestmem mapping they fault with SIGBUS.
 */
void *map_shmem(size_t len);

/* An address with nothing mapped at [p, p + len). */
void *unmapped_range(size_t len);

/* A "Field:  N kB" line of a /proc file, in kB, or -1. */
long proc_file_kb(const char *path, const char *field);

/* A field of /proc/<pid>/status (pid 0: self) in kB ("VmLck"), or -1. */
long proc_status_kb(pid_t pid, const char *field);

long vmlck_kb(pid_t pid);

uint64_t now_ms(void);

void sleep_ms(unsigned int ms);

/*
 * How long to wait for something the kernel finishes on its own after a
 * call returned (a space freed after the last close, munmap or exit, a
 * module reference dropped).  It should take milliseconds, but a loaded CI
 * machine running the debug kernel under TCG can stall a VM for seconds;
 * waits end as soon as their condition holds, so only a failure pays this.
 */
#define SETTLE_MS	10000

/*
 * Wait (at most @ms, SETTLE_MS normally) for VmLck of @pid to become @kb;
 * returns the last value seen.  Releases may finish just after close()
 * returns.
 */
long wait_vmlck(pid_t pid, long kb, unsigned int ms);

/* RLIMIT_MEMLOCK, soft and hard, = @bytes: 0 or -errno. */
int set_memlock(uint64_t bytes);

/*
 * CAP_IPC_LOCK, which exempts pins from RLIMIT_MEMLOCK: with @drop, drop it
 * from the effective, permitted, inheritable and bounding sets (0 or
 * -errno); without, 1 if it is effective, 0 if not (or -errno).
 */
int cap_ipc_lock(bool drop);

int read_file_u64(const char *path, uint64_t *val);

int write_file_u64(const char *path, uint64_t val);

/* @fn the SA_SIGINFO handler of @sig (no other flag, no mask): 0 or -1. */
int sig_install(int sig, void (*fn)(int, siginfo_t *, void *));

/*
 * SIGBUS catching for accesses through mappings: sigbus_install() once, then
 * sigbus_load()/sigbus_store()/sigbus_memcpy() return -1 instead of dying
 * when the access raises SIGBUS, with its address in sigbus_addr.  A SIGBUS
 * outside them kills the process when the access is retried.  Not for
 * threads: the jump buffer is shared.
 */
extern void *volatile sigbus_addr;

int sigbus_install(void);

/* One byte through a mapping: its value, or -1 after a SIGBUS. */
int sigbus_load(const volatile void *p);

/* Store one byte through a mapping: 0, or -1 after a SIGBUS. */
int sigbus_store(volatile void *p, uint8_t v);

/* memcpy(): 0, or -1 after a SIGBUS. */
int sigbus_memcpy(void *dst,
		  const void *src,
		  size_t len);

/*
 * Raw lseek: returns the kernel's 64-bit result untouched, so positions in
 * the last 4095 bytes of the address space are not mistaken for errors as
 * glibc would.  An error shows as (uint64_t)-errno.
 */
uint64_t raw_lseek(int fd, uint64_t off, int whence);

/* ---- children and cgroups ------------------------------------------------- */

/* In a forked child: report a failed condition and exit with its line. */
#define CHILD_CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("# child: %s:%d: %s (errno %d)\n",		\
		       __FILE__, __LINE__, #cond, errno);		\
		fflush(stdout);						\
		_exit(__LINE__ & 0xff ? __LINE__ & 0xff : 1);		\
	}								\
} while (0)

/* Exit status of a child, 1000 + signal if it was killed, -1 on error. */
int wait_child(pid_t pid);

int write_str(const char *path, const char *str);

/*
 * Mount a private cgroup2 hierarchy on a new directory named after @name
 * (under /tmp, or /dev/shm if /tmp is read-only) and enable the memory
 * controller for its children.  @root receives the directory; *@mounted
 * says whether the caller must unmount it.  Returns 0 or a negative errno.
 */
int cg2_mount_memory(char *root, size_t size, const char *name,
		     bool *mounted);

#define LSEEK_ERR(e)	((uint64_t)-(int64_t)(e))

#endif /* GUESTMEM_UTIL_H */
