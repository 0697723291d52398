// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem module lifetime: `rmmod guestmem` (delete_module(2)) is refused
 * -- never a crash, never a half-unloaded module -- while a space exists in
 * any form: an open fd, only a mapping (the fd closed), or only an in-kernel
 * reference (guestmem_dma bound to a space whose fd was closed).  Once the
 * last holder is gone the module unloads, /dev/guestmem disappears, and
 * loading /modules/guestmem.ko again gives a working device with default
 * parameters.  Opens racing with unload and reload either fail cleanly or
 * get a fully working space.  The VM runner's kmemleak scan afterwards must
 * be clean.
 *
 * Every test leaves guestmem loaded (the fixture's teardown reloads it if
 * needed): the tests that run after this one need it.
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/wait.h>

#include "guestmem_util.h"
#include "samples.h"
#include "kselftest_harness.h"

#define MOD		"guestmem"
#define DMA_MOD		"guestmem_dma"
#define G		0x100000ULL

static const char *ko_path(const char *name)
{
	static char path[256];
	const char *dir = getenv("GUESTMEM_MODULES");

	snprintf(path, sizeof(path), "%s/%s.ko", dir && *dir ? dir : "/modules",
		 name);
	return path;
}

static bool mod_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return access(path, F_OK) == 0;
}

/* delete_module(2), never forcing, never waiting: 0 or -errno. */
static int rmmod(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static int insmod(const char *name)
{
	int fd = open(ko_path(name), O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static bool refused(int ret)
{
	return ret == -EBUSY || ret == -EAGAIN;
}

/*
 * Unload the modules that use guestmem (guestmem_dma left loaded by its
 * test, the KUnit suites `make check` loads): they hold guestmem, and they
 * have done their work.  Returns the number that would not go.
 */
static int unload_holders(void)
{
	struct dirent *de;
	int bad = 0;
	DIR *d = opendir("/sys/module/" MOD "/holders");

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		int ret;

		if (de->d_name[0] == '.')
			continue;
		ret = rmmod(de->d_name);
		if (ret) {
			printf("# cannot unload %s, which holds guestmem: %s\n",
			       de->d_name, strerror(-ret));
			bad++;
		}
	}
	closedir(d);
	return bad;
}

/* Unload guestmem: retry while something (a racing opener) holds it. */
static int rmmod_retry(const char *name, unsigned int ms)
{
	uint64_t end = now_ms() + ms;
	int ret;

	for (;;) {
		ret = rmmod(name);
		if (!refused(ret) || now_ms() >= end)
			return ret;
		sleep_ms(5);
	}
}

static int ensure_loaded(void)
{
	int ret;

	if (mod_loaded(MOD))
		return 0;
	ret = insmod(MOD);
	return ret == -EEXIST ? 0 : ret;
}

/* A quick sign of life: a space with a region that holds what we write. */
static int space_works(void)
{
	uint8_t b = 0x42, r = 0;
	int fd = gm_open(), ret;

	if (fd < 0)
		return -errno;
	ret = gm_add_vmalloc(fd, G, PG);
	if (!ret)
		ret = gm_write(fd, G + 7, &b, 1);
	if (!ret)
		ret = gm_read(fd, G + 7, &r, 1);
	if (!ret && r != b)
		ret = -EIO;
	close(fd);
	return ret;
}

FIXTURE(life) {
	bool have_ko;
};

FIXTURE_SETUP(life)
{
	self->have_ko = access(ko_path(MOD), R_OK) == 0;
	if (!self->have_ko)
		SKIP(return, "[allowed-skip] no %s to reload guestmem from",
		     ko_path(MOD));
	ASSERT_TRUE(mod_loaded(MOD)) TH_LOG("guestmem is not loaded");
	ASSERT_EQ(0, unload_holders());
}

/* In the parent: whatever happened, guestmem is loaded afterwards. */
FIXTURE_TEARDOWN_PARENT(life)
{
	if (self->have_ko) {
		EXPECT_EQ(0, ensure_loaded());
		EXPECT_EQ(0, space_works());
	}
}

TEST_F(life, refused_while_fd_open)
{
	uint8_t *mem = map_shmem(4 * PG);
	int fd = gm_open(), ret;

	ASSERT_NE(NULL, mem);
	ASSERT_LE(0, fd);
	memset(mem, 3, 4 * PG);
	ASSERT_EQ(0, gm_add_vmalloc(fd, G, 4 * PG));
	ASSERT_EQ(0, gm_add_user(fd, G + 4 * PG, 4 * PG, mem));

	ret = rmmod(MOD);
	EXPECT_TRUE(refused(ret)) TH_LOG("delete_module: %d", ret);
	ASSERT_TRUE(mod_loaded(MOD));
	EXPECT_EQ(0, gm_write(fd, G + 4 * PG - 2, "abcd", 4));
	close(fd);
	EXPECT_EQ(0, space_works());
	munmap(mem, 4 * PG);
}

TEST_F(life, refused_while_only_a_mapping)
{
	uint8_t buf[256], *m, *mem = map_shmem(4 * PG);
	long lck = vmlck_kb(0);
	uint64_t val = 0;
	int fd = gm_open(), ret;

	ASSERT_NE(NULL, mem);
	ASSERT_LE(0, fd);
	memset(mem, 5, 4 * PG);
	ASSERT_EQ(0, gm_add_vmalloc(fd, G, 4 * PG));
	ASSERT_EQ(0, gm_add_user(fd, G + 4 * PG, 4 * PG, mem));
	pat_fill(buf, G + 4 * PG - 128, sizeof(buf), 11);
	ASSERT_EQ(0, gm_write(fd, G + 4 * PG - 128, buf, sizeof(buf)));
	m = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, G);
	ASSERT_NE(MAP_FAILED, m);
	close(fd);

	/* Only the mapping holds the space now. */
	ret = rmmod(MOD);
	EXPECT_TRUE(refused(ret)) TH_LOG("delete_module: %d", ret);
	ASSERT_TRUE(mod_loaded(MOD));
	EXPECT_EQ(-1, pat_check(m + 4 * PG - 128, G + 4 * PG - 128, sizeof(buf), 11));
	m[0] = 1;
	m[5 * PG] = 2;
	EXPECT_EQ(2, mem[PG]);
	EXPECT_EQ(lck + 16, vmlck_kb(0));

	/* The last holder goes: the module unloads, and comes back. */
	munmap(m, 8 * PG);
	EXPECT_EQ(lck, wait_vmlck(0, lck, SETTLE_MS));
	ret = rmmod_retry(MOD, SETTLE_MS);
	ASSERT_EQ(0, ret) TH_LOG("delete_module after the last munmap: %d", ret);
	EXPECT_FALSE(mod_loaded(MOD));
	EXPECT_EQ(-1, open(GM_DEV, O_RDWR));
	EXPECT_TRUE(errno == ENOENT || errno == ENODEV || errno == ENXIO)
		TH_LOG("open of a gone device: %s", strerror(errno));

	ASSERT_EQ(0, insmod(MOD));
	ASSERT_EQ(0, space_works());
	ASSERT_EQ(0, read_file_u64(MAX_REGIONS_PARAM, &val));
	EXPECT_EQ(32768ULL, val);
	munmap(mem, 4 * PG);
}

TEST_F(life, refused_while_in_kernel_reference)
{
	struct guestmem_dma_bind bind;
	struct guestmem_dma_kick kick;
	struct guestmem_dma_info info;
	uint8_t *mem = map_shmem(4 * PG);
	long lck = vmlck_kb(0);
	int fd, dma, ret;

	if (access(ko_path(DMA_MOD), R_OK))
		SKIP(return, "[allowed-skip] no %s", ko_path(DMA_MOD));
	ASSERT_NE(NULL, mem);
	memset(mem, 0, 4 * PG);
	ASSERT_EQ(0, insmod(DMA_MOD));
	fd = gm_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gm_add_user(fd, G, 4 * PG, mem));	/* ring header zeroed */
	dma = open(DMA_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dma);
	memset(&bind, 0, sizeof(bind));
	bind.guestmem_fd = fd;
	bind.ring_size = 8;
	bind.ring_gpa = G;
	ASSERT_EQ(0, gm_ioctl(dma, GUESTMEM_DMA_BIND, &bind));
	close(fd);

	/* Only guestmem_dma's reference holds the space. */
	ret = rmmod(MOD);
	EXPECT_TRUE(refused(ret)) TH_LOG("delete_module(guestmem): %d", ret);
	ret = rmmod(DMA_MOD);
	EXPECT_TRUE(refused(ret)) TH_LOG("delete_module(guestmem_dma): %d", ret);
	ASSERT_TRUE(mod_loaded(MOD));
	/* ...and the space still works for the device. */
	memset(&kick, 0, sizeof(kick));
	EXPECT_EQ(0, gm_ioctl(dma, GUESTMEM_DMA_KICK, &kick));
	EXPECT_EQ(0U, kick.processed);
	memset(&info, 0, sizeof(info));
	EXPECT_EQ(0, gm_ioctl(dma, GUESTMEM_DMA_GET_INFO, &info));
	EXPECT_EQ(G, info.ring_gpa);
	EXPECT_EQ(lck + 16, vmlck_kb(0));

	/* The device lets go: the space is freed, both modules unload. */
	close(dma);
	EXPECT_EQ(lck, wait_vmlck(0, lck, SETTLE_MS)) TH_LOG("the space outlived its last reference");
	EXPECT_EQ(0, rmmod_retry(DMA_MOD, SETTLE_MS));
	ASSERT_EQ(0, rmmod_retry(MOD, SETTLE_MS));
	EXPECT_FALSE(mod_loaded(MOD));
	ASSERT_EQ(0, insmod(MOD));
	EXPECT_EQ(0, space_works());
	munmap(mem, 4 * PG);
}

/* Wait (at most @ms) for the racing opener to use more than @n spaces. */
static bool wait_used(volatile uint64_t *ok, uint64_t n, unsigned int ms)
{
	uint64_t end = now_ms() + ms;

	while (__atomic_load_n(ok, __ATOMIC_RELAXED) <= n) {
		if (now_ms() >= end)
			return false;
		sleep_ms(1);
	}
	return true;
}

/*
 * A child opens, uses and closes spaces in a loop while the module goes
 * away and comes back three times: every open either fails cleanly or
 * gives a space that works completely.  Each reload is used by the child
 * before the next unload starts, however slowly the child gets to run.
 * Each delete_module() may need many tries (20 s at most), hence the
 * timeout.
 */
TEST_F_TIMEOUT(life, opens_racing_unload_and_reload, 120)
{
	struct { uint64_t ok, refused, bad; int bad_err; } *st;
	volatile int *stop;
	int cycles, ret, status;
	pid_t pid;

	st = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st);
	memset(st, 0, sizeof(*st));
	stop = (volatile int *)((char *)st + 512);
	*stop = 0;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned int seed = getpid();

		while (!*stop) {
			uint8_t b = 0x99, r = 0;
			int fd = open(GM_DEV, O_RDWR | O_CLOEXEC), e;

			if (fd < 0) {
				if (errno == ENOENT || errno == ENODEV || errno == ENXIO) {
					st->refused++;
				} else {
					st->bad++;
					st->bad_err = errno;
				}
				sched_yield();
				continue;
			}
			e = gm_add_vmalloc(fd, G, 2 * PG);
			if (!e)
				e = gm_write(fd, G + PG - 1, &b, 1);
			if (!e)
				e = gm_read(fd, G + PG - 1, &r, 1);
			if (!e && r != b)
				e = -EIO;
			if (!e)
				e = gm_remove(fd, G, 2 * PG);
			close(fd);
			if (e) {
				st->bad++;
				st->bad_err = -e;
			} else {
				st->ok++;
			}
			/*
			 * delete_module() only succeeds at an instant when no
			 * file holds the module; a pause of up to 300 us
			 * leaves such instants however slow the machine is,
			 * and the next open still races the unload.
			 */
			usleep(rand_r(&seed) % 300);
		}
		_exit(0);
	}
	for (cycles = 0; cycles < 3; cycles++) {
		uint64_t used;

		ret = rmmod_retry(MOD, 20000);
		EXPECT_EQ(0, ret) TH_LOG("cycle %d: delete_module: %d", cycles, ret);
		sleep_ms(50);
		ret = insmod(MOD);
		ASSERT_EQ(0, ret) TH_LOG("cycle %d: insmod: %d", cycles, ret);
		/* The opener gets a working space from the new module. */
		used = st->ok;
		EXPECT_TRUE(wait_used(&st->ok, used, SETTLE_MS))
			TH_LOG("cycle %d: no space used after the reload", cycles);
	}
	*stop = 1;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	printf("# racing opener: %llu spaces used, %llu opens refused while unloaded\n",
	       (unsigned long long)st->ok, (unsigned long long)st->refused);
	EXPECT_EQ(0ULL, st->bad) TH_LOG("a space opened during unload/reload failed: %s",
				       strerror(st->bad_err));
	EXPECT_LT(0ULL, st->ok);
	EXPECT_EQ(0, space_works());
	munmap(st, PG);
}

TEST_HARNESS_MAIN
