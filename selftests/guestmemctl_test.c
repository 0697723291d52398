// SPDX-License-Identifier: GPL-2.0
/*
 * guestmemctl, the command-line client of tools/: runs it (found through
 * $GUESTMEMCTL, $PATH or next to this binary) on commands given as
 * arguments and as scripts on stdin, and checks its output, messages and
 * exit status: add (vmalloc; user anon, memfd, hugetlb), remove, list, info,
 * read (hexdump -C and raw), write (hex, str, file), fill, copy, atomics,
 * dirty log, the errno messages (ENXIO, EEXIST, EACCES, ENOENT, EINVAL,
 * EOVERFLOW, ENOTTY, a missing device), malformed commands, and script mode
 * with its line numbers, and its batches: consecutive add (remove) lines sent
 * as one GUESTMEM_ADD_REGIONS (GUESTMEM_REMOVE_REGIONS), all or nothing, on a
 * space the test shares with guestmemctl (-f FD).
 */
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define MAX_ARGS	256

/* What one guestmemctl run printed, and how it ended. */
struct ctl_run {
	int status;		/* exit status; 128 + signal if killed */
	size_t out_len;
	char out[1 << 17];
	char err[1 << 13];
};

static struct ctl_run R;
static char ctl_path[PATH_MAX + 16];
/* When non-zero: run guestmemctl without CAP_IPC_LOCK, under this limit. */
static rlim_t memlock_limit;

/* guestmemctl: $GUESTMEMCTL, then $PATH, then the directory of this test. */
static bool find_ctl(void)
{
	const char *env = getenv("GUESTMEMCTL");
	char *path, *dir, *save = NULL;
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(ctl_path, sizeof(ctl_path), "%s", env);
		return !access(ctl_path, X_OK);
	}
	path = strdup(getenv("PATH") ? getenv("PATH") : "/bin:/usr/bin");
	for (dir = strtok_r(path, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(ctl_path, sizeof(ctl_path), "%s/guestmemctl", dir);
		if (!access(ctl_path, X_OK)) {
			free(path);
			return true;
		}
	}
	free(path);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return false;
	self[n] = 0;
	*strrchr(self, '/') = 0;
	snprintf(ctl_path, sizeof(ctl_path), "%s/guestmemctl", self);
	return !access(ctl_path, X_OK);
}

/*
 * Run guestmemctl with @argv (without argv[0]), @input (may be NULL) on its
 * standard input; fills R.  Returns 0, or -1 if it could not be run.
 */
static int ctl_argv(const char *input, char *const *argv)
{
	int in[2], out[2], err[2];
	size_t in_len = input ? strlen(input) : 0, in_done = 0, err_len = 0;
	char *args[MAX_ARGS + 2];
	struct pollfd p[3];
	int i, wstatus;
	pid_t pid;

	args[0] = "guestmemctl";
	for (i = 0; argv[i]; i++) {
		if (i == MAX_ARGS)
			return -1;
		args[i + 1] = argv[i];
	}
	args[i + 1] = NULL;
	memset(&R, 0, sizeof(R));
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    pipe2(err, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (memlock_limit) {
			struct rlimit rl = { memlock_limit, memlock_limit };

			if (prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK, 0, 0, 0) ||
			    setrlimit(RLIMIT_MEMLOCK, &rl))
				_exit(126);
		}
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(ctl_path, args);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (!in_len) {
		close(in[1]);
		in[1] = -1;
	}
	p[0].fd = in[1];
	p[0].events = POLLOUT;
	p[1].fd = out[0];
	p[1].events = POLLIN;
	p[2].fd = err[0];
	p[2].events = POLLIN;
	while (p[0].fd >= 0 || p[1].fd >= 0 || p[2].fd >= 0) {
		ssize_t n;

		if (poll(p, 3, 20000) <= 0)
			break;
		if (p[0].fd >= 0 && p[0].revents) {
			n = write(p[0].fd, input + in_done, in_len - in_done);
			if (n > 0)
				in_done += n;
			if (n <= 0 || in_done == in_len) {
				close(p[0].fd);
				p[0].fd = -1;
			}
		}
		if (p[1].fd >= 0 && p[1].revents) {
			n = read(p[1].fd, R.out + R.out_len,
				 sizeof(R.out) - 1 - R.out_len);
			if (n > 0) {
				R.out_len += n;
			} else {
				close(p[1].fd);
				p[1].fd = -1;
			}
		}
		if (p[2].fd >= 0 && p[2].revents) {
			n = read(p[2].fd, R.err + err_len,
				 sizeof(R.err) - 1 - err_len);
			if (n > 0) {
				err_len += n;
			} else {
				close(p[2].fd);
				p[2].fd = -1;
			}
		}
	}
	for (i = 0; i < 3; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	R.out[R.out_len] = 0;
	R.err[err_len] = 0;
	if (waitpid(pid, &wstatus, 0) != pid)
		return -1;
	R.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) :
		   128 + WTERMSIG(wstatus);
	return 0;
}

/* Run guestmemctl with the blank-separated words of @cmdline as arguments. */
static int ctl(const char *input, const char *cmdline)
{
	char *words[MAX_ARGS + 1], *copy = strdup(cmdline), *save = NULL, *w;
	int n = 0, ret;

	for (w = strtok_r(copy, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		if (n == MAX_ARGS) {
			free(copy);
			return -1;
		}
		words[n++] = w;
	}
	words[n] = NULL;
	ret = ctl_argv(input, words);
	free(copy);
	return ret;
}

/* Runs guestmemctl, failing the test if it could not be run at all. */
#define CTL(input, cmdline) do { \
	ASSERT_EQ(0, ctl(input, cmdline)) TH_LOG("cannot run %s", ctl_path); \
} while (0)

#define LOG_RUN() \
	TH_LOG("exit %d\n--- stdout:\n%s--- stderr:\n%s---", R.status, R.out, R.err)

/* Expect exit status @st, this stdout and this stderr. */
#define EXPECT_RUN(st, stdout_text, stderr_text) do { \
	EXPECT_EQ(st, R.status) LOG_RUN(); \
	EXPECT_STREQ(stdout_text, R.out); \
	EXPECT_STREQ(stderr_text, R.err); \
} while (0)

#define EXPECT_HAS(haystack, needle) do { \
	EXPECT_NE(NULL, strstr(haystack, needle)) \
		TH_LOG("no \"%s\" in:\n%s", needle, haystack); \
} while (0)

FIXTURE(ctl) {
	int unused;
};

FIXTURE_SETUP(ctl)
{
	int fd;

	if (!find_ctl())
		SKIP(return, "guestmemctl not found in $PATH or next to the test");
	fd = gm_open();
	if (fd < 0)
		SKIP(return, "cannot open %s: %s", GM_DEV, strerror(errno));
	close(fd);
}

FIXTURE_TEARDOWN(ctl)
{
}

TEST_F(ctl, help)
{
	CTL(NULL, "-h");
	EXPECT_EQ(0, R.status);
	EXPECT_HAS(R.out, "usage: guestmemctl");
	EXPECT_HAS(R.out, "atomic OP SIZE GPA [VALUE [EXPECTED]]");
	EXPECT_STREQ("", R.err);

	CTL(NULL, "help");
	EXPECT_EQ(0, R.status);
	EXPECT_HAS(R.out, "write GPA hex:HEX|str:TEXT|file:PATH");

	CTL(NULL, "-x");
	EXPECT_EQ(2, R.status);
	EXPECT_HAS(R.err, "guestmemctl -h");
}

TEST_F(ctl, info_empty)
{
	CTL(NULL, "info");
	EXPECT_RUN(0,
		   "api_version  1\n"
		   "regions      0\n"
		   "total_size   0x0 (0)\n"
		   "generation   0\n"
		   "features     0x3f mmap batch atomic fill_copy dirty_log region_batch\n",
		   "");
}

TEST_F(ctl, add_list_remove)
{
	CTL(NULL, "add vmalloc 0x100000 64K ; add user 0x110000 64K ; "
	    "add user 0x120000 8K memfd ro ; add vmalloc 2M 4K dirty ro ; "
	    "add user 1G 0x3000 anon dirty ; list ; info ; "
	    "remove 0x110000 64K ; remove 1G 12K ; list ; info");
	EXPECT_RUN(0,
		   "GPA                 END                 SIZE      BACKING        FLAGS\n"
		   "0x100000            0x110000            64K       vmalloc        -\n"
		   "0x110000            0x120000            64K       user/anon      -\n"
		   "0x120000            0x122000            8K        user/memfd     ro\n"
		   "0x200000            0x201000            4K        vmalloc        ro,dirty\n"
		   "0x40000000          0x40003000          12K       user/anon      dirty\n"
		   "api_version  1\n"
		   "regions      5\n"
		   "total_size   0x26000 (152K)\n"
		   "generation   5\n"
		   "features     0x3f mmap batch atomic fill_copy dirty_log region_batch\n"
		   "GPA                 END                 SIZE      BACKING        FLAGS\n"
		   "0x100000            0x110000            64K       vmalloc        -\n"
		   "0x120000            0x122000            8K        user/memfd     ro\n"
		   "0x200000            0x201000            4K        vmalloc        ro,dirty\n"
		   "api_version  1\n"
		   "regions      3\n"
		   "total_size   0x13000 (76K)\n"
		   "generation   7\n"
		   "features     0x3f mmap batch atomic fill_copy dirty_log region_batch\n",
		   "");
}

TEST_F(ctl, sizes_and_numbers)
{
	CTL(NULL, "add vmalloc 1G 2M ; add vmalloc 0x100000000 4096 ; "
	    "add vmalloc 1T 1M ; list");
	EXPECT_RUN(0,
		   "GPA                 END                 SIZE      BACKING        FLAGS\n"
		   "0x40000000          0x40200000          2M        vmalloc        -\n"
		   "0x100000000         0x100001000         4K        vmalloc        -\n"
		   "0x10000000000       0x10000100000       1M        vmalloc        -\n",
		   "");

	/* Decimal, never octal: 010 is ten, not page aligned. */
	CTL(NULL, "add vmalloc 010 4K");
	EXPECT_EQ(1, R.status);
	EXPECT_HAS(R.err, "invalid region");

	CTL(NULL, "add vmalloc 0x1000 1X");
	EXPECT_RUN(2, "", "guestmemctl: add vmalloc 0x1000 1X: bad SIZE '1X' "
		   "(a number: decimal or 0x hex, optionally with K, M, G or T)\n");
	CTL(NULL, "add vmalloc 0x 4K");
	EXPECT_EQ(2, R.status);
	CTL(NULL, "add vmalloc 16777216T 4K");
	EXPECT_EQ(2, R.status);
	CTL(NULL, "add vmalloc 0x1000");
	EXPECT_EQ(2, R.status);
	EXPECT_HAS(R.err, "usage: add vmalloc GPA SIZE [ro] [dirty]");
	CTL(NULL, "add vmalloc 0x1000 4K memfd");
	EXPECT_EQ(2, R.status);
	EXPECT_HAS(R.err, "unexpected 'memfd'");
	CTL(NULL, "frobnicate 1 2");
	EXPECT_RUN(2, "", "guestmemctl: frobnicate 1 2: unknown command (try 'help')\n");
}

/* A write across two regions of different backings, read back as hexdump. */
TEST_F(ctl, write_read_hexdump)
{
	CTL(NULL, "add vmalloc 0x100000 64K ; add user 0x110000 64K ; "
	    "write 0x10fff8 str:hello\\x20from\\x20both\\x20sides\\0! ; "
	    "read 0x10fff8 24 ; read 0x100000 0x40 ; read 0x100000 0");
	EXPECT_RUN(0,
		   "0010fff8  68 65 6c 6c 6f 20 66 72  6f 6d 20 62 6f 74 68 20  |hello from both |\n"
		   "00110008  73 69 64 65 73 00 21 00                           |sides.!.|\n"
		   "00110010\n"
		   "00100000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n"
		   "*\n"
		   "00100040\n",
		   "");

	/* Wide addresses widen the offset column. */
	CTL(NULL, "add vmalloc 0x123400000000 4K ; write 0x123400000ffc hex:01020304 ; "
	    "read 0x123400000ff8 8");
	EXPECT_RUN(0,
		   "123400000ff8  00 00 00 00 01 02 03 04                           |........|\n"
		   "123400001000\n",
		   "");

	/* The last byte of the address space. */
	CTL(NULL, "add vmalloc 0xfffffffffffff000 4K ; write 0xffffffffffffffff hex:7e ; "
	    "read 0xfffffffffffffff0 16");
	EXPECT_RUN(0,
		   "fffffffffffffff0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 7e  |...............~|\n"
		   "10000000000000000\n",
		   "");
}

TEST_F(ctl, write_hex_file_fill_copy)
{
	static unsigned char data[5000];
	char path[] = "/tmp/guestmemctl_test.XXXXXX";
	char cmd[512];
	size_t i;
	int fd;

	for (i = 0; i < sizeof(data); i++)
		data[i] = pat(i, 7);
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(data), write(fd, data, sizeof(data)));
	close(fd);

	snprintf(cmd, sizeof(cmd),
		 "add vmalloc 0x100000 8K ; add user 0x102000 8K memfd ; "
		 "write 0x101000 file:%s ; read 0x101000 5000 raw ; "
		 "copy 0x100010 0x101000 5000 ; read 0x100010 5000 raw ; "
		 "write 0x100000 hex:de:ad_be-ef0102 ; read 0x100000 6 raw ; "
		 "copy 0x100001 0x100000 5 ; read 0x100000 6 raw ; "
		 "fill 0x101ff0 0x20 0xab ; read 0x101fef 0x22 raw ; "
		 "fill 0x100000 0 1", path);
	CTL(NULL, cmd);
	unlink(path);
	EXPECT_EQ(0, R.status) LOG_RUN();
	EXPECT_STREQ("", R.err);
	ASSERT_EQ(5000U + 5000 + 6 + 6 + 0x22, R.out_len);
	EXPECT_EQ(0, memcmp(R.out, data, 5000));
	EXPECT_EQ(0, memcmp(R.out + 5000, data, 5000));
	EXPECT_EQ(0, memcmp(R.out + 10000, "\xde\xad\xbe\xef\x01\x02", 6));
	EXPECT_EQ(0, memcmp(R.out + 10006, "\xde\xde\xad\xbe\xef\x01", 6));
	EXPECT_EQ(data[0xfef], (unsigned char)R.out[10012]);
	EXPECT_EQ(-1, mem_check(R.out + 10013, 0xab, 0x20));
	EXPECT_EQ(data[0xff0 + 0x20], (unsigned char)R.out[10012 + 0x21]);

	CTL(NULL, "write 0 hex:abc");
	EXPECT_EQ(2, R.status);
	EXPECT_HAS(R.err, "bad hex data");
	CTL(NULL, "write 0 str:a\\qb");
	EXPECT_EQ(2, R.status);
	EXPECT_HAS(R.err, "bad escape '\\q'");
	CTL(NULL, "write 0 file:/nonexistent/file");
	EXPECT_EQ(2, R.status);
	EXPECT_HAS(R.err, "cannot open '/nonexistent/file'");
	CTL(NULL, "write 0 text");
	EXPECT_EQ(2, R.status);
	EXPECT_HAS(R.err, "bad data 'text' (hex:HEX, str:TEXT or file:PATH)");
	CTL(NULL, "fill 0 1 256");
	EXPECT_EQ(2, R.status);
	EXPECT_HAS(R.err, "bad BYTE '256' (a number that fits in 1 byte)");
}

TEST_F(ctl, atomics)
{
	static const char expect[] =
		"0x00000029\n"
		"0x0000002a\n"
		"0x0000002a exchanged\n"
		"0x00000007 not exchanged\n"
		"0x0000000000000000\n"
		"0xffffffffffffffff\n"
		"0x00\n"
		"0x0f\n"
		"0x0c\n"
		"0x0007\n"
		"0x0000\n";

	CTL(NULL, "add vmalloc 0 4K ; atomic store 4 0x10 41 ; "
	    "atomic add 4 0x10 1 ; atomic load 4 0x10 ; "
	    "atomic cmpxchg 4 0x10 7 42 ; atomic cmpxchg 4 0x10 9 42 ; "
	    "atomic xchg 8 0x18 -1 ; atomic load 8 0x18 ; "
	    "atomic or 1 0x20 0x0f ; atomic fetch_and 1 0x20 0x3c ; "
	    "atomic load 1 0x20 ; atomic load 2 0x10 ; atomic add 2 0x22 -2 ; "
	    "read 0x10 0x14 raw");
	EXPECT_EQ(0, R.status) LOG_RUN();
	EXPECT_STREQ("", R.err);
	ASSERT_EQ(strlen(expect) + 0x14, R.out_len) LOG_RUN();
	EXPECT_EQ(0, memcmp(R.out, expect, strlen(expect))) LOG_RUN();
	/* The bytes after all that (x86 is little-endian). */
	EXPECT_EQ(0, memcmp(R.out + strlen(expect),
			    "\x07\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff\x0c\0\xfe\xff",
			    0x14));

	CTL(NULL, "add vmalloc 0 4K ; atomic store 1 0 256");
	EXPECT_RUN(2, "", "guestmemctl: command 2: atomic store 1 0 256: "
		   "bad VALUE '256' (a number that fits in 1 byte)\n");
	CTL(NULL, "atomic store 1 0 -129");
	EXPECT_EQ(2, R.status);
	CTL(NULL, "atomic load 3 0");
	EXPECT_EQ(2, R.status);
	EXPECT_HAS(R.err, "bad SIZE '3' (1, 2, 4 or 8)");
	CTL(NULL, "atomic swap 4 0 1");
	EXPECT_EQ(2, R.status);
	EXPECT_HAS(R.err, "unknown atomic op 'swap'");
	CTL(NULL, "atomic cmpxchg 4 0 1");
	EXPECT_EQ(2, R.status);
	EXPECT_HAS(R.err, "usage: atomic cmpxchg SIZE GPA VALUE EXPECTED");
	CTL(NULL, "add vmalloc 0 4K ; atomic load 4 0x11");
	EXPECT_RUN(1, "", "guestmemctl: command 2: atomic load 4 0x11: invalid atomic "
		   "access (SIZE 1, 2, 4 or 8 and GPA aligned to SIZE) (EINVAL)\n");
	CTL(NULL, "add vmalloc 0 4K ro ; atomic load 4 0 ; atomic add 4 0 1");
	EXPECT_RUN(1, "0x00000000\n", "guestmemctl: command 3: atomic add 4 0 1: "
		   "region is read-only (EACCES)\n");
}

TEST_F(ctl, dirty_log)
{
	static const char before[] =
		"GPA                 END                 PAGES\n"
		"0 of 16 pages dirty\n";
	static const char after[] =
		"GPA                 END                 PAGES\n"
		"0x101000            0x102000            1\n"
		"0x103000            0x105000            2\n"
		"0x10f000            0x110000            1\n"
		"4 of 16 pages dirty (now cleared)\n"
		"GPA                 END                 PAGES\n"
		"0 of 16 pages dirty\n"
		"GPA                 END                 PAGES\n"
		"0 of 0 pages dirty\n";

	CTL(NULL, "add vmalloc 0x100000 64K dirty ; dirty 0x100000 64K ; "
	    "write 0x101000 str:x ; fill 0x103ff0 0x20 1 ; "
	    "atomic store 8 0x10f000 1 ; read 0x105000 8K raw ; "
	    "dirty 0x100000 64K clear ; dirty 0x100000 64K ; dirty 0x100000 0");
	EXPECT_EQ(0, R.status) LOG_RUN();
	EXPECT_STREQ("", R.err);
	/* Reads (the 8K read raw) do not dirty pages. */
	ASSERT_EQ(strlen(before) + 8192 + strlen(after), R.out_len) LOG_RUN();
	EXPECT_EQ(0, memcmp(R.out, before, strlen(before))) LOG_RUN();
	EXPECT_EQ(-1, mem_check(R.out + strlen(before), 0, 8192));
	EXPECT_STREQ(after, R.out + strlen(before) + 8192);

	CTL(NULL, "add vmalloc 0 64K ; dirty 0 64K");
	EXPECT_RUN(1, "", "guestmemctl: command 2: dirty 0 64K: not page aligned, "
		   "or a page without dirty logging (EINVAL)\n");
	CTL(NULL, "add vmalloc 0 64K dirty ; dirty 0 128K");
	EXPECT_RUN(1, "", "guestmemctl: command 2: dirty 0 128K: range includes a page "
		   "that is not backed (hole) (ENXIO)\n");
	CTL(NULL, "dirty 0 4K wipe");
	EXPECT_EQ(2, R.status);
}

TEST_F(ctl, user_backings)
{
	static const char added[] =
		"added [0x0, 0x3000) 12K user/memfd ro dirty at user address 0x";

	CTL(NULL, "add user 0 64K ; write 0 str:abc ; remove 0 64K ; "
	    "add user 0 64K memfd ; read 0 3 raw ; remove 0 64K ; read 0 1");
	EXPECT_RUN(1, "", "guestmemctl: command 7: read 0 1: "
		   "guest address range not backed (hole) (ENXIO)\n");
	/* A fresh memfd after the anonymous memory: zeroes. */
	ASSERT_EQ(3U, R.out_len);
	EXPECT_EQ(0, memcmp(R.out, "\0\0\0", 3));

	CTL(NULL, "-v add user 0 12K memfd ro dirty ; add vmalloc 12K 4K ; "
	    "write 12K str:ab ; fill 12K 2 0 ; copy 0x3010 12K 2 ; "
	    "remove 12K 4K");
	EXPECT_EQ(0, R.status) LOG_RUN();
	EXPECT_EQ(0, strncmp(R.out, added, strlen(added))) LOG_RUN();
	EXPECT_HAS(R.out, "\nadded [0x3000, 0x4000) 4K vmalloc\n"
		   "wrote 2 bytes at 0x3000\n"
		   "filled 2 bytes at 0x3000 with 0x00\n"
		   "copied 2 bytes from 0x3000 to 0x3010\n"
		   "removed [0x3000, 0x4000)\n");
	CTL(NULL, "add user 0 4K shm");
	EXPECT_EQ(2, R.status);
	EXPECT_HAS(R.err, "unexpected 'shm' (one of anon, memfd, hugetlb, then ro, dirty)");
}

TEST_F(ctl, hugetlb)
{
	static const char list[] =
		"GPA                 END                 SIZE      BACKING        FLAGS\n"
		"0x200000            0x400000            2M        user/hugetlb   -\n"
		"0x400000            0x401000            4K        user/hugetlb   ro\n";
	const char *nr = "/proc/sys/vm/nr_hugepages";
	uint64_t old, now;

	if (read_file_u64(nr, &old))
		SKIP(return, "no %s (kernel without hugetlb)", nr);
	if (write_file_u64(nr, 0))
		SKIP(return, "cannot write %s", nr);
	CTL(NULL, "add user 0 2M hugetlb");
	EXPECT_RUN(1, "", "guestmemctl: add user 0 2M hugetlb: out of memory "
		   "(hugetlb: see /proc/sys/vm/nr_hugepages) (ENOMEM)\n");

	ASSERT_EQ(0, write_file_u64(nr, 2));
	ASSERT_EQ(0, read_file_u64(nr, &now));
	if (now < 2) {
		write_file_u64(nr, old);
		SKIP(return, "no huge page could be reserved");
	}
	CTL(NULL, "-k add user 0x200000 2M hugetlb ; add user 0x400000 4K hugetlb ro ; "
	    "write 0x3ffffe str:ab ; write 0x3fffff str:xy ; list ; "
	    "read 0x3ffffe 4 raw");
	write_file_u64(nr, old);
	EXPECT_EQ(1, R.status) LOG_RUN();
	EXPECT_STREQ("guestmemctl: command 4: write 0x3fffff str:xy: "
		     "region is read-only (EACCES)\n", R.err);
	ASSERT_EQ(strlen(list) + 4, R.out_len) LOG_RUN();
	EXPECT_EQ(0, memcmp(R.out, list, strlen(list)));
	EXPECT_EQ(0, memcmp(R.out + strlen(list), "ab\0\0", 4));
}

/* Pinned user memory counts against RLIMIT_MEMLOCK without CAP_IPC_LOCK. */
TEST_F(ctl, memlock_limit)
{
	memlock_limit = 64 << 10;
	CTL(NULL, "add user 0 64K ; add user 64K 4K ; add vmalloc 64K 4K");
	memlock_limit = 0;
	EXPECT_RUN(1, "", "guestmemctl: command 2: add user 64K 4K: out of memory, "
		   "or over RLIMIT_MEMLOCK (ulimit -l) (ENOMEM)\n");
}

/* ENOSPC past the max_regions module parameter. */
FIXTURE(limit) {
	uint64_t saved;
	bool changed;
};

FIXTURE_SETUP(limit)
{
	self->changed = false;
	if (!find_ctl())
		SKIP(return, "guestmemctl not found in $PATH or next to the test");
	ASSERT_EQ(0, read_file_u64(MAX_REGIONS_PARAM, &self->saved));
}

/* Runs in the parent, so the limit is restored even if the test dies. */
FIXTURE_TEARDOWN_PARENT(limit)
{
	if (self->changed) {
		EXPECT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, self->saved));
	}
}

TEST_F(limit, enospc)
{
	self->changed = true;
	ASSERT_EQ(0, write_file_u64(MAX_REGIONS_PARAM, 2));
	CTL(NULL, "add vmalloc 0 4K ; add user 8K 4K ; add vmalloc 4K 4K");
	EXPECT_RUN(1, "", "guestmemctl: command 3: add vmalloc 4K 4K: "
		   "region limit reached (module parameter max_regions) (ENOSPC)\n");
}

/* Many guestmemctl runs: 2.5 s in the debug VM on an idle host. */
TEST_F_TIMEOUT(ctl, errno_messages, 120)
{
	CTL(NULL, "read 0x500000 16");
	EXPECT_RUN(1, "", "guestmemctl: read 0x500000 16: "
		   "guest address range not backed (hole) (ENXIO)\n");
	CTL(NULL, "add vmalloc 0 64K ; add vmalloc 32K 64K");
	EXPECT_RUN(1, "", "guestmemctl: command 2: add vmalloc 32K 64K: "
		   "overlaps an existing region (EEXIST)\n");
	CTL(NULL, "add vmalloc 0 4K ro ; write 0 str:x");
	EXPECT_RUN(1, "", "guestmemctl: command 2: write 0 str:x: "
		   "region is read-only (EACCES)\n");
	CTL(NULL, "add vmalloc 0 4K ro ; fill 0 1 1");
	EXPECT_RUN(1, "", "guestmemctl: command 2: fill 0 1 1: "
		   "region is read-only (EACCES)\n");
	CTL(NULL, "add vmalloc 0 4K ro ; add vmalloc 4K 4K ; copy 0 4K 1");
	EXPECT_RUN(1, "", "guestmemctl: command 3: copy 0 4K 1: "
		   "destination region is read-only (EACCES)\n");
	CTL(NULL, "add vmalloc 0 4K ; copy 4K 0 1");
	EXPECT_RUN(1, "", "guestmemctl: command 2: copy 4K 0 1: "
		   "guest address range not backed (hole) (ENXIO)\n");
	CTL(NULL, "add vmalloc 0 8K ; remove 0 4K");
	EXPECT_RUN(1, "", "guestmemctl: command 2: remove 0 4K: "
		   "no region with exactly this GPA and size (ENOENT)\n");
	CTL(NULL, "add vmalloc 0x1001 4K");
	EXPECT_RUN(1, "", "guestmemctl: add vmalloc 0x1001 4K: "
		   "invalid region (GPA, SIZE: page aligned; SIZE not 0) (EINVAL)\n");
	CTL(NULL, "remove 0x1001 4K");
	EXPECT_RUN(1, "", "guestmemctl: remove 0x1001 4K: "
		   "invalid region (GPA, SIZE: page aligned; SIZE not 0) (EINVAL)\n");
	CTL(NULL, "add user 0 0");
	EXPECT_RUN(1, "", "guestmemctl: add user 0 0: "
		   "invalid region (GPA, SIZE: page aligned; SIZE not 0) (EINVAL)\n");
	CTL(NULL, "add vmalloc 0xfffffffffffff000 8K");
	EXPECT_RUN(1, "", "guestmemctl: add vmalloc 0xfffffffffffff000 8K: "
		   "range wraps past the end of the 64-bit address space (EOVERFLOW)\n");
	CTL(NULL, "read 0xfffffffffffffff0 32");
	EXPECT_RUN(1, "", "guestmemctl: read 0xfffffffffffffff0 32: "
		   "range wraps past the end of the 64-bit address space (EOVERFLOW)\n");
	CTL(NULL, "-d /nonexistent/guestmem info");
	EXPECT_RUN(1, "", "guestmemctl: /nonexistent/guestmem: "
		   "no such file (is the guestmem module loaded?) (ENOENT)\n");
	CTL(NULL, "-d /dev/null info");
	EXPECT_RUN(1, "", "guestmemctl: info: "
		   "not a guestmem device, or the module lacks this ioctl (ENOTTY)\n");

	/* Exact: a write running into a hole moves nothing (-k goes on). */
	CTL(NULL, "-k add vmalloc 0 4K ; write 0xffe str:abcd ; read 0xffe 2 raw");
	EXPECT_RUN(1, "", "guestmemctl: command 2: write 0xffe str:abcd: "
		   "guest address range not backed (hole) (ENXIO)\n");
	ASSERT_EQ(2U, R.out_len);
	EXPECT_EQ(0, memcmp(R.out, "\0\0", 2));
}

TEST_F(ctl, script_mode)
{
	static const char script[] =
		"# set up\n"
		"add vmalloc 0x100000 64K\n"
		"write 0x100000 \"str:two words\"   # a comment\n"
		"\n"
		"read 0x100000 9 raw ; echo ' <- ok'\n"
		"read 0x200000 4\n"
		"echo not reached\n";
	static char * const argv[] = { "-", NULL };

	CTL(script, "");
	EXPECT_RUN(1, "two words <- ok\n",
		   "guestmemctl: line 6: read 0x200000 4: "
		   "guest address range not backed (hole) (ENXIO)\n");
	ASSERT_EQ(0, ctl_argv(script, argv));
	EXPECT_RUN(1, "two words <- ok\n",
		   "guestmemctl: line 6: read 0x200000 4: "
		   "guest address range not backed (hole) (ENXIO)\n");

	/* -k: report and go on; the exit status still says it failed. */
	CTL(script, "-k");
	EXPECT_RUN(1, "two words <- ok\nnot reached\n",
		   "guestmemctl: line 6: read 0x200000 4: "
		   "guest address range not backed (hole) (ENXIO)\n");

	CTL("echo a\\ b 'c  d' \"e\\\"f\" g#h\nbogus 1\necho never\n", "");
	EXPECT_RUN(2, "a b c  d e\"f g#h\n",
		   "guestmemctl: line 2: bogus 1: unknown command (try 'help')\n");
	CTL("echo ok\necho \"unterminated\n", "");
	EXPECT_RUN(2, "ok\n", "guestmemctl: line 2: unterminated \"\n");
	CTL("add vmalloc 0 4K\nadd vmalloc 0 4K\n", "");
	EXPECT_RUN(1, "", "guestmemctl: line 2: add vmalloc 0 4K: "
		   "overlaps an existing region (EEXIST)\n");
	CTL("", "");
	EXPECT_RUN(0, "", "");
}

/* ---- script batches ------------------------------------------------------ */

/* A space guestmemctl gets with -f: the fd is inherited (no O_CLOEXEC). */
static int shared_space(char *opt, size_t len)
{
	int fd = open(GM_DEV, O_RDWR);

	if (fd >= 0)
		snprintf(opt, len, "-f %d", fd);
	return fd;
}

/*
 * @n script lines "add vmalloc GPA 4K" (every 100th "add user GPA 4K
 * memfd") for the GPAs @base + i * @stride, or "remove GPA 4K" lines;
 * then @tail.  Free it.
 */
static char *region_lines(unsigned int n, uint64_t base, uint64_t stride,
			  bool add, const char *tail)
{
	size_t cap = n * 48 + strlen(tail) + 1, len = 0;
	char *s = malloc(cap);
	unsigned int i;

	if (!s)
		return NULL;
	for (i = 0; i < n; i++) {
		uint64_t gpa = base + i * stride;

		if (!add)
			len += snprintf(s + len, cap - len, "remove 0x%llx 4K\n",
					(unsigned long long)gpa);
		else if (i % 100 == 99)
			len += snprintf(s + len, cap - len,
					"add user 0x%llx 4K memfd\n",
					(unsigned long long)gpa);
		else
			len += snprintf(s + len, cap - len,
					"add vmalloc 0x%llx 4K\n",
					(unsigned long long)gpa);
	}
	snprintf(s + len, cap - len, "%s", tail);
	return s;
}

/* The space of @fd has @n regions, generation @gen. */
#define EXPECT_SPACE(fd, n, gen) do { \
	struct guestmem_info _i; \
	ASSERT_EQ(0, gm_info(fd, &_i)); \
	EXPECT_EQ((uint32_t)(n), _i.num_regions); \
	EXPECT_EQ((uint64_t)(gen), _i.generation); \
} while (0)

/* Whether the space of @fd holds exactly the 4K regions region_lines() makes. */
static bool has_regions(int fd, unsigned int n, uint64_t base, uint64_t stride)
{
	struct guestmem_region *r;
	unsigned int i;
	uint32_t got;
	bool ok;

	r = gm_regions(fd, &got);
	if (!r)
		return false;
	ok = got == n;
	for (i = 0; ok && i < n; i++)
		ok = r[i].gpa == base + i * stride && r[i].size == 4096 &&
		     r[i].backing == (i % 100 == 99 ? GUESTMEM_BACKING_USER :
				      GUESTMEM_BACKING_VMALLOC);
	free(r);
	return ok;
}

/*
 * 2,000 adds in a script: one GUESTMEM_ADD_REGIONS (the generation moves
 * once), every region there; the memory of the USER ones is usable by the
 * commands after them.  Then 2,000 removals, again one call.
 */
TEST_F_TIMEOUT(ctl, script_batch_2000, 120)
{
	char opt[32], *script;
	int fd;

	fd = shared_space(opt, sizeof(opt));
	ASSERT_LE(0, fd);
	script = region_lines(2000, 0x100000, 0x2000, true,
			      "write 0x1c6000 str:hi\nread 0x1c6000 2 raw\n");
	ASSERT_NE(NULL, script);
	CTL(script, opt);
	free(script);
	EXPECT_RUN(0, "hi", "");
	EXPECT_SPACE(fd, 2000, 1);
	EXPECT_TRUE(has_regions(fd, 2000, 0x100000, 0x2000));

	script = region_lines(2000, 0x100000, 0x2000, false, "info\n");
	ASSERT_NE(NULL, script);
	CTL(script, opt);
	free(script);
	EXPECT_RUN(0,
		   "api_version  1\n"
		   "regions      0\n"
		   "total_size   0x0 (0)\n"
		   "generation   2\n"
		   "features     0x3f mmap batch atomic fill_copy dirty_log region_batch\n",
		   "");
	EXPECT_SPACE(fd, 0, 2);
	close(fd);
}

/* More than GUESTMEM_REGION_BATCH_MAX adds: two calls. */
TEST_F_TIMEOUT(ctl, script_batch_max, 120)
{
	char opt[32], *script;
	int fd;

	fd = shared_space(opt, sizeof(opt));
	ASSERT_LE(0, fd);
	script = region_lines(GUESTMEM_REGION_BATCH_MAX + 4, 0, 0x1000, true, "");
	ASSERT_NE(NULL, script);
	CTL(script, opt);
	free(script);
	EXPECT_RUN(0, "", "");
	EXPECT_SPACE(fd, GUESTMEM_REGION_BATCH_MAX + 4, 2);
	EXPECT_TRUE(has_regions(fd, GUESTMEM_REGION_BATCH_MAX + 4, 0, 0x1000));
	close(fd);
}

/*
 * The 5th of a run of adds overlaps the 2nd: the message names line 5 and
 * none of the run takes effect; with -k, every other line does.
 */
TEST_F(ctl, script_batch_add_fails)
{
	static const char script[] =
		"add vmalloc 0x100000 4K\n"
		"add vmalloc 0x200000 8K dirty\n"
		"add user 0x300000 8K memfd\n"
		"add user 0x400000 4K\n"
		"add vmalloc 0x201000 4K\n"
		"add vmalloc 0x500000 4K\n"
		"echo not reached\n";
	static const char msg[] =
		"guestmemctl: line 5: add vmalloc 0x201000 4K: "
		"overlaps an existing region (EEXIST)\n";
	char opt[32], opt_k[40];
	int fd;

	fd = shared_space(opt, sizeof(opt));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gm_add_vmalloc(fd, 0x600000, 4096));
	CTL(script, opt);
	EXPECT_RUN(1, "", msg);
	EXPECT_SPACE(fd, 1, 1);

	/* Overlapping a region of the space, not of the run. */
	CTL("add vmalloc 0 4K\nadd vmalloc 4K 4K\nadd vmalloc 8K 4K\n"
	    "add vmalloc 12K 4K\nadd vmalloc 0x5ff000 8K\nadd vmalloc 16K 4K\n", opt);
	EXPECT_RUN(1, "", "guestmemctl: line 5: add vmalloc 0x5ff000 8K: "
		   "overlaps an existing region (EEXIST)\n");
	EXPECT_SPACE(fd, 1, 1);

	snprintf(opt_k, sizeof(opt_k), "-k %s", opt);
	CTL(script, opt_k);
	EXPECT_RUN(1, "not reached\n", msg);
	EXPECT_SPACE(fd, 6, 6);
	close(fd);
}

/*
 * Removals likewise: the 5th names a region the 2nd removes, or none; the
 * space keeps every region.
 */
TEST_F(ctl, script_batch_remove_fails)
{
	char opt[32];
	int fd, i;

	fd = shared_space(opt, sizeof(opt));
	ASSERT_LE(0, fd);
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, gm_add_vmalloc(fd, 0x100000 * (i + 1), 4096));
	CTL("remove 1M 4K\nremove 2M 4K\nremove 3M 4K\nremove 4M 4K\n"
	    "remove 2M 4K\nremove 5M 4K\necho not reached\n", opt);
	EXPECT_RUN(1, "", "guestmemctl: line 5: remove 2M 4K: "
		   "no region with exactly this GPA and size (ENOENT)\n");
	EXPECT_SPACE(fd, 6, 6);
	CTL("remove 1M 4K\nremove 2M 4K\nremove 3M 4K\nremove 4M 4K\n"
	    "remove 5M 8K\nremove 6M 4K\n", opt);
	EXPECT_RUN(1, "", "guestmemctl: line 5: remove 5M 8K: "
		   "no region with exactly this GPA and size (ENOENT)\n");
	EXPECT_SPACE(fd, 6, 6);
	CTL("remove 1M 4K\nremove 2M 4K\nremove 3M 4K\nremove 4M 4K\n"
	    "remove 5M 4K\nremove 6M 4K\n", opt);
	EXPECT_RUN(0, "", "");
	EXPECT_SPACE(fd, 0, 7);
	close(fd);
}

/*
 * What ends a run: another command (which runs after the run took effect),
 * a remove after adds, a malformed line (a malformed add or remove belongs
 * to the run and fails it; any other ends it).  -v reports in order.
 */
TEST_F(ctl, script_batch_bounds)
{
	char opt[32];
	int fd;

	fd = shared_space(opt, sizeof(opt));
	ASSERT_LE(0, fd);
	CTL("add vmalloc 0 4K\nadd vmalloc 4K 4K\necho x\nadd vmalloc 8K 4K\n"
	    "add vmalloc 0 4K\n", opt);
	EXPECT_RUN(1, "x\n", "guestmemctl: line 5: add vmalloc 0 4K: "
		   "overlaps an existing region (EEXIST)\n");
	EXPECT_SPACE(fd, 2, 1);

	CTL("add vmalloc 8K 4K\nremove 0 4K\nremove 0 4K\n", opt);
	EXPECT_RUN(1, "", "guestmemctl: line 3: remove 0 4K: "
		   "no region with exactly this GPA and size (ENOENT)\n");
	EXPECT_SPACE(fd, 3, 2);

	CTL("add vmalloc 12K 4K\nadd vmalloc 16K\n", opt);
	EXPECT_RUN(2, "", "guestmemctl: line 2: add vmalloc 16K: "
		   "usage: add vmalloc GPA SIZE [ro] [dirty] | "
		   "add user GPA SIZE [anon|memfd|hugetlb] [ro] [dirty]\n");
	EXPECT_SPACE(fd, 3, 2);

	CTL("add vmalloc 12K 4K\necho \"x\n", opt);
	EXPECT_RUN(2, "", "guestmemctl: line 2: unterminated \"\n");
	EXPECT_SPACE(fd, 4, 3);
	CTL("add vmalloc 16K 4K\nadd vmalloc 0 4K\necho \"x\n", opt);
	EXPECT_RUN(1, "", "guestmemctl: line 2: add vmalloc 0 4K: "
		   "overlaps an existing region (EEXIST)\n");
	EXPECT_SPACE(fd, 4, 3);

	/* Several commands on a line: the message names the command. */
	CTL("add vmalloc 16K 4K ; add vmalloc 16K 8K\n", opt);
	EXPECT_RUN(1, "", "guestmemctl: line 1: add vmalloc 16K 8K: "
		   "overlaps an existing region (EEXIST)\n");
	EXPECT_SPACE(fd, 4, 3);
	close(fd);

	CTL("add vmalloc 0 4K\nadd user 4K 8K memfd ro\nremove 0 4K\necho done\n",
	    "-v");
	EXPECT_EQ(0, R.status) LOG_RUN();
	EXPECT_STREQ("", R.err);
	EXPECT_HAS(R.out, "added [0x0, 0x1000) 4K vmalloc\n"
		   "added [0x1000, 0x3000) 8K user/memfd ro at user address 0x");
	EXPECT_HAS(R.out, "\nremoved [0x0, 0x1000)\ndone\n");
}

TEST_HARNESS_MAIN
