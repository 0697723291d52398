// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the guestmem kselftests: see guestmem_util.h.
 */
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "guestmem_util.h"

static sigjmp_buf sigbus_jmp;
static volatile sig_atomic_t sigbus_armed;
void *volatile sigbus_addr;

int gm_open(void)
{
	return open(GM_DEV, O_RDWR | O_CLOEXEC);
}

int gm_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

struct guestmem_region gm_region(uint64_t gpa, uint64_t size,
				 uint64_t user_addr,
				 uint32_t backing, uint32_t flags)
{
	struct guestmem_region r;

	memset(&r, 0, sizeof(r));
	r.gpa = gpa;
	r.size = size;
	r.user_addr = user_addr;
	r.backing = backing;
	r.flags = flags;
	return r;
}

int gm_add(int fd, uint64_t gpa, uint64_t size,
	   uint64_t user_addr, uint32_t backing, uint32_t flags)
{
	struct guestmem_region r = gm_region(gpa, size, user_addr, backing, flags);

	return gm_ioctl(fd, GUESTMEM_ADD_REGION, &r);
}

int gm_add_vmalloc(int fd, uint64_t gpa, uint64_t size)
{
	return gm_add(fd, gpa, size, 0, GUESTMEM_BACKING_VMALLOC, 0);
}

int gm_add_user(int fd, uint64_t gpa, uint64_t size, void *mem)
{
	return gm_add(fd, gpa, size, (uintptr_t)mem, GUESTMEM_BACKING_USER, 0);
}

int gm_remove(int fd, uint64_t gpa, uint64_t size)
{
	struct guestmem_region r = gm_region(gpa, size, 0, 0, 0);

	return gm_ioctl(fd, GUESTMEM_REMOVE_REGION, &r);
}

int gm_info(int fd, struct guestmem_info *info)
{
	memset(info, 0xff, sizeof(*info));
	return gm_ioctl(fd, GUESTMEM_GET_INFO, info);
}

int gm_io(int fd, unsigned long cmd, uint64_t gpa, void *buf,
	  uint64_t len, uint32_t flags, uint64_t *done)
{
	struct guestmem_io io;
	int ret;

	memset(&io, 0, sizeof(io));
	io.gpa = gpa;
	io.len = len;
	io.buf = (uintptr_t)buf;
	io.flags = flags;
	io.done = 0xdeadbeefcafeULL;	/* must be overwritten */
	ret = gm_ioctl(fd, cmd, &io);
	if (done)
		*done = io.done;
	return ret;
}

/* An exact GUESTMEM_READ or GUESTMEM_WRITE. */
static int gm_io_exact(int fd, unsigned long cmd, uint64_t gpa, void *buf,
		       uint64_t len)
{
	uint64_t done;
	int ret = gm_io(fd, cmd, gpa, buf, len, 0, &done);

	if (!ret && done != len)
		return -EPROTO;	/* exact success must report done == len */
	return ret;
}

int gm_read(int fd, uint64_t gpa, void *buf, uint64_t len)
{
	return gm_io_exact(fd, GUESTMEM_READ, gpa, buf, len);
}

int gm_write(int fd, uint64_t gpa, const void *buf, uint64_t len)
{
	return gm_io_exact(fd, GUESTMEM_WRITE, gpa, (void *)buf, len);
}

int gm_fill(int fd, uint64_t gpa, uint64_t len, uint32_t value)
{
	struct guestmem_fill f;

	memset(&f, 0, sizeof(f));
	f.gpa = gpa;
	f.len = len;
	f.value = value;
	return gm_ioctl(fd, GUESTMEM_FILL, &f);
}

int gm_copy(int fd, uint64_t dst, uint64_t src, uint64_t len)
{
	struct guestmem_copy c;

	memset(&c, 0, sizeof(c));
	c.dst = dst;
	c.src = src;
	c.len = len;
	return gm_ioctl(fd, GUESTMEM_COPY, &c);
}

struct guestmem_batch_op gm_batch_op(uint32_t op, uint64_t gpa, uint64_t len,
				     void *buf)
{
	struct guestmem_batch_op o;

	memset(&o, 0, sizeof(o));
	o.op = op;
	o.gpa = gpa;
	o.len = len;
	o.buf = (uintptr_t)buf;
	return o;
}

int gm_batch(int fd, const struct guestmem_batch_op *ops, uint32_t count,
	     uint32_t *done)
{
	struct guestmem_batch b;
	int ret;

	memset(&b, 0, sizeof(b));
	b.ops = (uintptr_t)ops;
	b.count = count;
	b.done = GM_DONE_POISON;
	ret = gm_ioctl(fd, GUESTMEM_BATCH, &b);
	if (done)
		*done = b.done;
	return ret;
}

int gm_atomic(int fd, uint64_t gpa, uint32_t size, uint32_t op,
	      uint64_t *value, uint64_t expected)
{
	struct guestmem_atomic a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.gpa = gpa;
	a.size = size;
	a.op = op;
	a.value = *value;
	a.expected = expected;
	ret = gm_ioctl(fd, GUESTMEM_ATOMIC, &a);
	*value = a.value;
	return ret;
}

int gm_dirty_log(int fd, uint64_t gpa, uint64_t size,
		 void *bitmap, uint32_t flags)
{
	struct guestmem_dirty_log l;

	memset(&l, 0, sizeof(l));
	l.gpa = gpa;
	l.size = size;
	l.bitmap = (uintptr_t)bitmap;
	l.flags = flags;
	return gm_ioctl(fd, GUESTMEM_GET_DIRTY_LOG, &l);
}

struct guestmem_region *gm_regions(int fd, uint32_t *n)
{
	struct guestmem_region_list l;
	struct guestmem_region *r;

	memset(&l, 0, sizeof(l));
	if (ioctl(fd, GUESTMEM_GET_REGIONS, &l))
		return NULL;
	r = calloc(l.count + 1, sizeof(*r));
	if (!r)
		return NULL;
	l.regions = (uintptr_t)r;
	l.count += 1;
	if (ioctl(fd, GUESTMEM_GET_REGIONS, &l)) {
		free(r);
		return NULL;
	}
	*n = l.count;
	return r;
}

uint8_t pat(uint64_t gpa, uint64_t seed)
{
	uint64_t x = (gpa ^ (seed << 40) ^ seed) * 0x9E3779B97F4A7C15ULL;

	return (uint8_t)(x >> 56) ^ (uint8_t)(gpa >> 3);
}

void pat_fill(void *buf, uint64_t gpa, size_t len, uint64_t seed)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(gpa + i, seed);
}

long pat_check(const void *buf, uint64_t gpa, size_t len,
	       uint64_t seed)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(gpa + i, seed))
			return (long)i;
	return -1;
}

long mem_check(const void *buf, int c, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)c)
			return (long)i;
	return -1;
}

long gm_pat_check(int fd, uint64_t gpa, uint64_t len,
		  uint64_t seed)
{
	uint8_t *buf = malloc(len);
	long ret;

	if (!buf)
		return -3;
	ret = gm_read(fd, gpa, buf, len) ? -2 : pat_check(buf, gpa, len, seed);
	free(buf);
	return ret;
}

long gm_mem_check(int fd, uint64_t gpa, uint64_t len, int c)
{
	uint8_t *buf = malloc(len);
	long ret;

	if (!buf)
		return -3;
	ret = gm_read(fd, gpa, buf, len) ? -2 : mem_check(buf, c, len);
	free(buf);
	return ret;
}

int gm_pat_write(int fd, uint64_t gpa, uint64_t len,
		 uint64_t seed)
{
	uint8_t *buf = malloc(len);
	int ret;

	if (!buf)
		return -ENOMEM;
	pat_fill(buf, gpa, len, seed);
	ret = gm_write(fd, gpa, buf, len);
	free(buf);
	return ret;
}

void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void *map_shmem(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int gm_access_space(uint64_t base, bool shared, uint64_t seed,
		    uint64_t seed_ro, uint8_t **u1, uint8_t **uro)
{
	void *(*map)(size_t) = shared ? map_shmem : map_anon;
	int fd = gm_open(), ret;

	if (fd < 0)
		return -errno;
	*u1 = map(4 * PG);
	*uro = map(4 * PG);
	if (!*u1 || !*uro) {
		ret = -ENOMEM;
		goto fail;
	}
	pat_fill(*uro, base + 12 * PG, 4 * PG, seed_ro);
	ret = gm_add_vmalloc(fd, base, 4 * PG);
	if (!ret)
		ret = gm_add_user(fd, base + 4 * PG, 4 * PG, *u1);
	if (!ret)
		ret = gm_add(fd, base + 12 * PG, 4 * PG, (uintptr_t)*uro,
			     GUESTMEM_BACKING_USER, GUESTMEM_REGION_READONLY);
	if (!ret)
		ret = gm_pat_write(fd, base, 8 * PG, seed);
	if (!ret)
		return fd;
fail:
	close(fd);
	return ret;
}

void *unmapped_range(size_t len)
{
	void *p = map_anon(len);

	if (p)
		munmap(p, len);
	return p;
}

long proc_file_kb(const char *path, const char *field)
{
	size_t flen = strlen(field);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			val = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

long proc_status_kb(pid_t pid, const char *field)
{
	char path[64];

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	return proc_file_kb(path, field);
}

long vmlck_kb(pid_t pid)
{
	return proc_status_kb(pid, "VmLck");
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

long wait_vmlck(pid_t pid, long kb, unsigned int ms)
{
	uint64_t end = now_ms() + ms;
	long v;

	for (;;) {
		v = vmlck_kb(pid);
		if (v == kb || now_ms() >= end)
			return v;
		sleep_ms(10);
	}
}

int set_memlock(uint64_t bytes)
{
	struct rlimit rl = { bytes, bytes };

	return setrlimit(RLIMIT_MEMLOCK, &rl) ? -errno : 0;
}

int cap_ipc_lock(bool drop)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	const unsigned int w = CAP_IPC_LOCK / 32;
	const uint32_t bit = 1U << (CAP_IPC_LOCK % 32);

	if (syscall(SYS_capget, &h, d))
		return -errno;
	if (!drop)
		return !!(d[w].effective & bit);
	d[w].effective &= ~bit;
	d[w].permitted &= ~bit;
	d[w].inheritable &= ~bit;
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK, 0, 0, 0) ? -errno : 0;
}

int read_file_u64(const char *path, uint64_t *val)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = 0;
	*val = strtoull(buf, NULL, 0);
	return 0;
}

int write_file_u64(const char *path, uint64_t val)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int len, ret = 0;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", val);
	errno = 0;
	if (write(fd, buf, len) != len)
		ret = errno ? -errno : -EIO;
	close(fd);
	return ret;
}

static void sigbus_handler(int sig, siginfo_t *si, void *ctx)
{
	if (!sigbus_armed) {
		/* Not expected here: die of it when the access is retried. */
		signal(SIGBUS, SIG_DFL);
		return;
	}
	sigbus_armed = 0;
	sigbus_addr = si->si_addr;
	siglongjmp(sigbus_jmp, 1);
}

int sig_install(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

int sigbus_install(void)
{
	return sig_install(SIGBUS, sigbus_handler);
}

int sigbus_load(const volatile void *p)
{
	int v;

	sigbus_addr = NULL;
	if (sigsetjmp(sigbus_jmp, 1))
		return -1;
	sigbus_armed = 1;
	v = *(const volatile uint8_t *)p;
	sigbus_armed = 0;
	return v;
}

int sigbus_store(volatile void *p, uint8_t v)
{
	sigbus_addr = NULL;
	if (sigsetjmp(sigbus_jmp, 1))
		return -1;
	sigbus_armed = 1;
	*(volatile uint8_t *)p = v;
	sigbus_armed = 0;
	return 0;
}

int sigbus_memcpy(void *dst,
		  const void *src,
		  size_t len)
{
	sigbus_addr = NULL;
	if (sigsetjmp(sigbus_jmp, 1))
		return -1;
	sigbus_armed = 1;
	memcpy(dst, src, len);
	sigbus_armed = 0;
	return 0;
}

uint64_t raw_lseek(int fd, uint64_t off, int whence)
{
#if defined(__x86_64__)
	long ret;

	asm volatile ("syscall"
		      : "=a" (ret)
		      : "a" ((long)SYS_lseek), "D" ((long)fd), "S" (off),
			"d" ((long)whence)
		      : "rcx", "r11", "memory");
	return (uint64_t)ret;
#else
	off_t r = lseek(fd, (off_t)off, whence);

	return r == (off_t)-1 ? (uint64_t)-errno : (uint64_t)r;
#endif
}

int wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return 1000 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int write_str(const char *path, const char *str)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	ssize_t len = strlen(str);

	if (fd < 0)
		return -errno;
	if (write(fd, str, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

int cg2_mount_memory(char *root, size_t size, const char *name,
		     bool *mounted)
{
	char path[160], buf[256] = "";
	int fd;

	*mounted = false;
	snprintf(root, size, "%s/%s.XXXXXX",
		 access("/tmp", W_OK) == 0 ? "/tmp" : "/dev/shm", name);
	if (!mkdtemp(root))
		return -errno;
	if (mount("none", root, "cgroup2", 0, NULL))
		return -errno;
	*mounted = true;
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (read(fd, buf, sizeof(buf) - 1) <= 0) {
		close(fd);
		return -EIO;
	}
	close(fd);
	if (!strstr(buf, "memory"))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
	return write_str(path, "+memory");
}
