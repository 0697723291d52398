// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem spaces shared between processes: by fork (an inherited fd is
 * the same space) and by SCM_RIGHTS; USER regions charged to the process
 * that added them and uncharged when the last reference goes away, even in
 * another process, even after the adding process exited.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define G	0x40000000ULL
#define KB(pages) ((long)((pages) * PG / 1024))

/* In a forked child: fail with the line number as exit status. */
#define EXPECT_CHILD_OK(pid) do {					\
	int __st = 0;							\
	ASSERT_EQ(pid, waitpid(pid, &__st, 0));				\
	ASSERT_TRUE(WIFEXITED(__st)) TH_LOG("child died: status %#x", __st); \
	EXPECT_EQ(0, WEXITSTATUS(__st))					\
		TH_LOG("child failed (line ending in %d)", WEXITSTATUS(__st)); \
} while (0)

/* A one-byte message with room for one fd (SCM_RIGHTS). */
struct fd_msg {
	char data;
	struct iovec iov;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg;
};

static void fd_msg_init(struct fd_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->data = 'F';
	m->iov.iov_base = &m->data;
	m->iov.iov_len = 1;
	m->msg.msg_iov = &m->iov;
	m->msg.msg_iovlen = 1;
	m->msg.msg_control = m->u.buf;
	m->msg.msg_controllen = sizeof(m->u.buf);
}

static int send_fd(int sock, int fd)
{
	struct fd_msg m;
	struct cmsghdr *c;

	fd_msg_init(&m);
	c = CMSG_FIRSTHDR(&m.msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m.msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	struct fd_msg m;
	struct cmsghdr *c;
	int fd;

	fd_msg_init(&m);
	if (recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&m.msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* 1 if [gpa, gpa + len) holds pattern @seed. */
static int gpa_check(int fd, uint64_t gpa, uint64_t len, uint64_t seed)
{
	return gm_pat_check(fd, gpa, len, seed) == -1;
}

static void wait_byte(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		_exit(99);
}

TEST(fork_shares_the_space)
{
	struct guestmem_info info;
	int fd = gm_open();
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gm_add_vmalloc(fd, G, 4 * PG));
	ASSERT_EQ(0, gm_pat_write(fd, G, 4 * PG, 1));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(gm_info(fd, &info) == 0);
		CHILD_CHECK(info.num_regions == 1 && info.generation == 1);
		CHILD_CHECK(gpa_check(fd, G, 4 * PG, 1));
		CHILD_CHECK(gm_pat_write(fd, G + 8, 4 * PG - 16, 2) == 0);
		CHILD_CHECK(gm_add_vmalloc(fd, 2 * G, PG) == 0);
		CHILD_CHECK(gm_pat_write(fd, 2 * G, PG, 3) == 0);
		_exit(0);
	}
	EXPECT_CHILD_OK(pid);

	ASSERT_EQ(0, gm_info(fd, &info));
	EXPECT_EQ(2U, info.num_regions);
	EXPECT_EQ(2ULL, info.generation);
	EXPECT_TRUE(gpa_check(fd, G + 8, 4 * PG - 16, 2));
	EXPECT_TRUE(gpa_check(fd, G, 8, 1));
	EXPECT_TRUE(gpa_check(fd, 2 * G, PG, 3));

	/* A child's removal and close are seen by (and leave) the parent. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(gm_remove(fd, 2 * G, PG) == 0);
		CHILD_CHECK(close(fd) == 0);
		_exit(0);
	}
	EXPECT_CHILD_OK(pid);
	ASSERT_EQ(0, gm_info(fd, &info));
	EXPECT_EQ(1U, info.num_regions);
	EXPECT_EQ(3ULL, info.generation);
	EXPECT_EQ(-ENXIO, gm_read(fd, 2 * G, &info, 1));
	EXPECT_TRUE(gpa_check(fd, G + 8, 4 * PG - 16, 2));
	close(fd);
}

/* The file position is shared too: it is one open file. */
TEST(fork_shares_the_position)
{
	int fd = gm_open();
	uint8_t b;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gm_add_vmalloc(fd, G, PG));
	ASSERT_EQ(0, gm_pat_write(fd, G, PG, 4));
	ASSERT_EQ((off_t)G, lseek(fd, G, SEEK_SET));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CHILD_CHECK(read(fd, &b, 1) == 1 && b == pat(G, 4));
		_exit(0);
	}
	EXPECT_CHILD_OK(pid);
	EXPECT_EQ((off_t)(G + 1), lseek(fd, 0, SEEK_CUR));
	close(fd);
}

/*
 * A child creates a space with USER and VMALLOC regions and passes it over
 * a socket; both then use it, and it survives the child's exit.
 */
TEST(scm_rights)
{
	struct guestmem_info info;
	int sv[2], own, fd;
	long lck = vmlck_kb(0);
	pid_t pid;
	char c;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	own = gm_open();
	ASSERT_LE(0, own);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint8_t *mem = map_anon(4 * PG);
		int cfd;

		close(sv[0]);
		close(own);
		CHILD_CHECK(mem != NULL);
		pat_fill(mem, G, 4 * PG, 5);
		cfd = gm_open();
		CHILD_CHECK(cfd >= 0);
		CHILD_CHECK(gm_add_user(cfd, G, 4 * PG, mem) == 0);
		CHILD_CHECK(gm_add_vmalloc(cfd, G + 4 * PG, 4 * PG) == 0);
		CHILD_CHECK(gm_pat_write(cfd, G + 4 * PG, 4 * PG, 5) == 0);
		CHILD_CHECK(send_fd(sv[1], cfd) == 0);
		wait_byte(sv[1]);
		/* The parent's writes, through the child's own fd and memory. */
		CHILD_CHECK(gpa_check(cfd, G, 8 * PG, 6));
		CHILD_CHECK(pat_check(mem, G, 4 * PG, 6) == -1);
		pat_fill(mem, G, 4 * PG, 7);
		CHILD_CHECK(write(sv[1], "d", 1) == 1);
		/* Stay alive until the parent is done (EOF). */
		CHILD_CHECK(read(sv[1], &c, 1) == 0);
		_exit(0);
	}
	close(sv[1]);
	fd = recv_fd(sv[0]);
	ASSERT_LE(0, fd);
	ASSERT_NE(own, fd);

	/* The received fd is the child's space, not ours. */
	ASSERT_EQ(0, gm_info(fd, &info));
	EXPECT_EQ(2U, info.num_regions);
	EXPECT_EQ(8 * PG, info.total_size);
	ASSERT_EQ(0, gm_info(own, &info));
	EXPECT_EQ(0U, info.num_regions);
	/* The child's USER region is charged to the child, not to us. */
	EXPECT_EQ(lck, vmlck_kb(0));
	EXPECT_EQ(KB(4), vmlck_kb(pid));

	EXPECT_TRUE(gpa_check(fd, G, 8 * PG, 5));
	ASSERT_EQ(0, gm_pat_write(fd, G, 8 * PG, 6));
	ASSERT_EQ(1, write(sv[0], "g", 1));
	ASSERT_EQ(1, read(sv[0], &c, 1));
	/* What the child stored in its memory. */
	EXPECT_TRUE(gpa_check(fd, G, 4 * PG, 7));
	close(sv[0]);
	EXPECT_CHILD_OK(pid);

	/* The child is gone; its pinned pages are not. */
	EXPECT_TRUE(gpa_check(fd, G, 4 * PG, 7));
	ASSERT_EQ(0, gm_pat_write(fd, G, 8 * PG, 8));
	EXPECT_TRUE(gpa_check(fd, G, 8 * PG, 8));
	ASSERT_EQ(0, gm_remove(fd, G, 4 * PG));
	EXPECT_EQ(lck, vmlck_kb(0));
	close(fd);
	close(own);
}

/* The adder exits first; the last close happens here. */
TEST(scm_rights_adder_exits_before_close)
{
	int sv[2], fd, i;
	pid_t pid;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			uint8_t *mem = map_anon(16 * PG);
			int cfd = gm_open();

			CHILD_CHECK(mem && cfd >= 0);
			pat_fill(mem, G, 16 * PG, 9 + i);
			CHILD_CHECK(gm_add_user(cfd, G, 16 * PG, mem) == 0);
			CHILD_CHECK(gm_add_vmalloc(cfd, 0, PG) == 0);
			CHILD_CHECK(send_fd(sv[1], cfd) == 0);
			_exit(0);
		}
		close(sv[1]);
		fd = recv_fd(sv[0]);
		ASSERT_LE(0, fd);
		close(sv[0]);
		EXPECT_CHILD_OK(pid);
		EXPECT_TRUE(gpa_check(fd, G, 16 * PG, 9 + i));
		ASSERT_EQ(0, gm_pat_write(fd, G, 16 * PG, 20 + i));
		EXPECT_TRUE(gpa_check(fd, G, 16 * PG, 20 + i));
		/* Last reference dropped with the region still in place. */
		ASSERT_EQ(0, close(fd));
	}
}

/*
 * We add a USER region, a child holds the space, we close our fd: still
 * charged to us.  The child closes: uncharged from us.
 */
TEST(uncharged_when_last_reference_elsewhere)
{
	uint8_t *mem = map_anon(8 * PG);
	long lck = vmlck_kb(0);
	int fd = gm_open(), go[2], sv[2];
	pid_t pid;

	ASSERT_NE(NULL, mem);
	ASSERT_LE(0, fd);
	pat_fill(mem, G, 8 * PG, 30);
	ASSERT_EQ(0, gm_add_user(fd, G, 8 * PG, mem));
	ASSERT_EQ(lck + KB(8), vmlck_kb(0));

	/* By fork. */
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long mine = vmlck_kb(0);

		close(go[1]);
		wait_byte(go[0]);
		CHILD_CHECK(gpa_check(fd, G, 8 * PG, 30));
		CHILD_CHECK(close(fd) == 0);
		/* Nothing was ever charged to the child. */
		CHILD_CHECK(vmlck_kb(0) == mine);
		_exit(0);
	}
	close(go[0]);
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(lck + KB(8), vmlck_kb(0)) TH_LOG("uncharged while still in use");
	ASSERT_EQ(1, write(go[1], "x", 1));
	close(go[1]);
	EXPECT_CHILD_OK(pid);
	EXPECT_EQ(lck, wait_vmlck(0, lck, SETTLE_MS));

	/* By SCM_RIGHTS, to a process that did not inherit it. */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd;

		close(sv[0]);
		cfd = recv_fd(sv[1]);
		CHILD_CHECK(cfd >= 0);
		wait_byte(sv[1]);
		CHILD_CHECK(gpa_check(cfd, G, 8 * PG, 31));
		CHILD_CHECK(gm_remove(cfd, 2 * G, PG) == 0);
		CHILD_CHECK(close(cfd) == 0);
		_exit(0);
	}
	close(sv[1]);
	fd = gm_open();
	ASSERT_LE(0, fd);
	pat_fill(mem, G, 8 * PG, 31);
	ASSERT_EQ(0, gm_add_user(fd, G, 8 * PG, mem));
	ASSERT_EQ(0, gm_add_user(fd, 2 * G, PG, mem));
	ASSERT_EQ(lck + KB(9), vmlck_kb(0));
	ASSERT_EQ(0, send_fd(sv[0], fd));
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(lck + KB(9), vmlck_kb(0));
	ASSERT_EQ(1, write(sv[0], "x", 1));
	EXPECT_CHILD_OK(pid);
	close(sv[0]);
	EXPECT_EQ(lck, wait_vmlck(0, lck, SETTLE_MS));
	munmap(mem, 8 * PG);
}

/* Two processes writing disjoint halves of the same regions at once. */
TEST(two_processes_at_once)
{
	enum { ROUNDS = 200 };
	int fd = gm_open(), r;
	uint8_t buf[2 * 4096];
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, gm_add_vmalloc(fd, G, 2 * PG));
	ASSERT_EQ(0, gm_add_vmalloc(fd, G + 2 * PG, 2 * PG));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint8_t cbuf[2 * 4096];

		for (r = 0; r < ROUNDS; r++) {
			pat_fill(cbuf, G + PG, 2 * PG, 100 + r);
			CHILD_CHECK(gm_write(fd, G + PG, cbuf, 2 * PG) == 0);
			CHILD_CHECK(gm_read(fd, G + PG, cbuf, 2 * PG) == 0);
			CHILD_CHECK(pat_check(cbuf, G + PG, 2 * PG, 100 + r) == -1);
		}
		_exit(0);
	}
	for (r = 0; r < ROUNDS; r++) {
		pat_fill(buf, G + 3 * PG, PG, 500 + r);
		ASSERT_EQ((ssize_t)PG, pwrite(fd, buf, PG, G + 3 * PG));
		ASSERT_EQ((ssize_t)PG, pread(fd, buf, PG, G + 3 * PG));
		ASSERT_EQ(-1, pat_check(buf, G + 3 * PG, PG, 500 + r));
	}
	EXPECT_CHILD_OK(pid);
	EXPECT_TRUE(gpa_check(fd, G + PG, 2 * PG, 100 + ROUNDS - 1));
	EXPECT_TRUE(gpa_check(fd, G + 3 * PG, PG, 500 + ROUNDS - 1));
	close(fd);
}

TEST_HARNESS_MAIN
