// SPDX-License-Identifier: GPL-2.0
/*
 * A space's debugfs file, /sys/kernel/debug/guestmem/space-<id>: its owner
 * and regions, and access counters that count each access once, exactly,
 * whichever path serves it:
 *  - the fast path of small ioctl and batch accesses, for every size the
 *    sized copies know (1, 2, 4, 8, 16) and for the others, over a VMALLOC
 *    region (RCU-sched) and a USER one (SRCU);
 *  - a fast read whose copy to the caller's buffer faults, and a write
 *    whose buffer faults: the general path redoes them and counts what
 *    it moved, with the failure;
 *  - the general path: holes, accesses across a region boundary, read();
 *  - lookups: one per access; all of them hint hits, as every access
 *    starts in the first region, where every CPU's last-hit hint starts
 *    (and stays: no lookup finds another region), but a hole's misses.
 */
#include <dirent.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

#define DEBUGFS_DIR	"/sys/kernel/debug/guestmem"
#define G		0x100000ULL
#define SIZE		(16 * PG)
#define HOLE		(G + 2 * SIZE)	/* past R0 and R1 */

struct stats {
	uint64_t reads, read_bytes;
	uint64_t writes, written_bytes;
	uint64_t failed;
	uint64_t lookups, hint_hits;
};

/* The debugfs file of the one space this process owns, into @path. */
static int space_file(char *path, size_t size)
{
	struct dirent *e;
	int found = -ENOENT;
	DIR *d;

	d = opendir(DEBUGFS_DIR);
	if (!d)
		return -errno;
	while (found && (e = readdir(d))) {
		unsigned int id;
		int owner = -1;
		FILE *f;

		if (strncmp(e->d_name, "space-", 6))
			continue;
		snprintf(path, size, "%s/%s", DEBUGFS_DIR, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "space %u owner %d", &id, &owner) == 2 &&
		    owner == getpid())
			found = 0;
		fclose(f);
	}
	closedir(d);
	return found;
}

static int read_stats(const char *path, struct stats *s)
{
	char line[256];
	int n = 0;
	FILE *f;

	memset(s, 0, sizeof(*s));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		n += 2 * sscanf(line, "reads %" SCNu64 " read_bytes %" SCNu64,
				&s->reads, &s->read_bytes) / 2;
		n += 2 * sscanf(line, "writes %" SCNu64 " written_bytes %" SCNu64,
				&s->writes, &s->written_bytes) / 2;
		n += 2 * sscanf(line, "failed_accesses %" SCNu64, &s->failed);
		n += 2 * sscanf(line, "lookups %" SCNu64 " hint_hits %" SCNu64,
				&s->lookups, &s->hint_hits) / 2;
	}
	fclose(f);
	return n == 8 ? 0 : -EPROTO;
}

FIXTURE(debugfs) {
	int fd;
	void *user;		/* the USER region's memory */
	char path[300];
	struct stats last;	/* the counters at the last check */
};

FIXTURE_VARIANT(debugfs) {
	bool user_first;	/* R0 is the USER region, R1 the VMALLOC one */
};

FIXTURE_VARIANT_ADD(debugfs, vmalloc_first) {
	.user_first = false,
};

FIXTURE_VARIANT_ADD(debugfs, user_first) {
	.user_first = true,
};

/* R0 [G, G + SIZE) and R1 right after it, one of each backing. */
FIXTURE_SETUP(debugfs)
{
	uint64_t user_gpa = variant->user_first ? G : G + SIZE;
	uint64_t vmalloc_gpa = variant->user_first ? G + SIZE : G;

	self->fd = gm_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, space_file(self->path, sizeof(self->path)))
		TH_LOG("no %s/space-* owned by this process", DEBUGFS_DIR);
	self->user = map_shmem(SIZE);
	ASSERT_NE(NULL, self->user);
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, vmalloc_gpa, SIZE));
	ASSERT_EQ(0, gm_add_user(self->fd, user_gpa, SIZE, self->user));
	ASSERT_EQ(0, read_stats(self->path, &self->last));
}

FIXTURE_TEARDOWN(debugfs)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->user)
		munmap(self->user, SIZE);
}

/*
 * The counters grew by exactly the given amounts since the last check:
 * reads, read bytes, writes, written bytes, failures, lookups, hint hits.
 */
#define EXPECT_COUNTED(r, rb, w, wb, f, l, h) do {			\
	struct stats __s;						\
	ASSERT_EQ(0, read_stats(self->path, &__s));			\
	EXPECT_EQ((uint64_t)(r), __s.reads - self->last.reads);	\
	EXPECT_EQ((uint64_t)(rb), __s.read_bytes - self->last.read_bytes); \
	EXPECT_EQ((uint64_t)(w), __s.writes - self->last.writes);	\
	EXPECT_EQ((uint64_t)(wb), __s.written_bytes - self->last.written_bytes); \
	EXPECT_EQ((uint64_t)(f), __s.failed - self->last.failed);	\
	EXPECT_EQ((uint64_t)(l), __s.lookups - self->last.lookups);	\
	EXPECT_EQ((uint64_t)(h), __s.hint_hits - self->last.hint_hits); \
	self->last = __s;						\
} while (0)

/* The file names the owner and both regions. */
TEST_F(debugfs, owner_and_regions)
{
	char line[256], want[80];
	bool r0 = false, r1 = false;
	FILE *f = fopen(self->path, "r");

	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		snprintf(want, sizeof(want), "  [%#018llx-%#018llx] %s",
			 G, G + SIZE - 1, variant->user_first ? "user" : "vmalloc");
		r0 |= !strncmp(line, want, strlen(want));
		snprintf(want, sizeof(want), "  [%#018llx-%#018llx] %s",
			 G + SIZE, G + 2 * SIZE - 1,
			 variant->user_first ? "vmalloc" : "user");
		r1 |= !strncmp(line, want, strlen(want));
	}
	fclose(f);
	EXPECT_TRUE(r0);
	EXPECT_TRUE(r1);
}

/* Fast-path reads and writes of every size. */
TEST_F(debugfs, fast_path)
{
	static const uint64_t lens[] = { 1, 2, 3, 4, 8, 16, 24, 64 };
	uint8_t buf[64];
	uint64_t n = 0, bytes = 0;
	unsigned int i;

	memset(buf, 0x5a, sizeof(buf));
	for (i = 0; i < ARRAY_LEN(lens); i++) {
		ASSERT_EQ(0, gm_write(self->fd, G + 8 * PG - 8, buf, lens[i]));
		ASSERT_EQ(0, gm_read(self->fd, G + 8 * PG - 8, buf, lens[i]));
		n++;
		bytes += lens[i];
	}
	EXPECT_COUNTED(n, bytes, n, bytes, 0, 2 * n, 2 * n);
}

/*
 * A fast read whose copy-out faults is counted once, by the general path
 * that redoes it: one read of the bytes it handed over, one failure, one
 * lookup.  Likewise a write whose buffer faults.
 */
TEST_F(debugfs, user_buffer_faults)
{
	uint8_t *page = map_anon(2 * PG), *tail = page + PG - 4;
	void *bad = unmapped_range(PG);
	const struct {
		bool write;
		void *buf;		/* unmapped, or 4 bytes before the end */
		uint64_t len, done;
	} c[] = {
		{ false, bad, 8, 0 }, { false, tail, 8, 4 },
		{ false, tail, 16, 4 }, { false, bad, 4, 0 },
		{ true, bad, 8, 0 }, { true, tail, 8, 4 },
	};
	uint64_t done;
	unsigned int i;

	ASSERT_NE(NULL, page);
	ASSERT_NE(NULL, bad);
	ASSERT_EQ(0, munmap(page + PG, PG));
	for (i = 0; i < ARRAY_LEN(c); i++) {
		ASSERT_EQ(-EFAULT, gm_io(self->fd, c[i].write ? GUESTMEM_WRITE :
					 GUESTMEM_READ, G, c[i].buf, c[i].len,
					 0, &done));
		EXPECT_EQ(c[i].done, done) TH_LOG("case %u", i);
		if (c[i].write)
			EXPECT_COUNTED(0, 0, 1, c[i].done, 1, 1, 1);
		else
			EXPECT_COUNTED(1, c[i].done, 0, 0, 1, 1, 1);
	}
	munmap(page, PG);
}

/* Batch ops count as the single accesses they are; the failing op too. */
TEST_F(debugfs, batch)
{
	uint64_t a = 1, b = 2, c = 3;
	struct guestmem_batch_op ops[] = {
		{ .op = GUESTMEM_OP_WRITE, .gpa = G, .len = 8, .buf = (uintptr_t)&a },
		{ .op = GUESTMEM_OP_READ, .gpa = G + 16, .len = 8, .buf = (uintptr_t)&b },
		{ .op = GUESTMEM_OP_READ, .gpa = G + 8, .len = 2, .buf = (uintptr_t)&c },
		{ .op = GUESTMEM_OP_READ, .gpa = G, .len = 8,
		  .buf = (uintptr_t)unmapped_range(PG) },
	};
	uint32_t done;

	ASSERT_EQ(0, gm_batch(self->fd, ops, 3, &done));
	EXPECT_EQ(3U, done);
	EXPECT_COUNTED(2, 10, 1, 8, 0, 3, 3);

	ASSERT_EQ(-EFAULT, gm_batch(self->fd, ops, 4, &done));
	EXPECT_EQ(3U, done);
	EXPECT_COUNTED(3, 10, 1, 8, 1, 4, 4);
}

/*
 * The general path: a hole (a lookup that the hint cannot answer), an
 * access across the R0/R1 boundary, a partial read into the hole, read().
 */
TEST_F(debugfs, general_path)
{
	uint8_t *buf = malloc(2 * SIZE + 8);
	uint64_t done;

	ASSERT_NE(NULL, buf);

	ASSERT_EQ(-ENXIO, gm_read(self->fd, HOLE, buf, 8));
	EXPECT_COUNTED(1, 0, 0, 0, 1, 1, 0);

	ASSERT_EQ(0, gm_write(self->fd, G + SIZE - 4, buf, 8));
	ASSERT_EQ(0, gm_read(self->fd, G + SIZE - 4, buf, 8));
	EXPECT_COUNTED(1, 8, 1, 8, 0, 2, 2);

	ASSERT_EQ(0, gm_io(self->fd, GUESTMEM_READ, G, buf, 2 * SIZE + 8,
			   GUESTMEM_IO_PARTIAL, &done));
	EXPECT_EQ(2 * SIZE, done);
	EXPECT_COUNTED(1, 2 * SIZE, 0, 0, 0, 1, 1);

	ASSERT_EQ((ssize_t)PG, pread(self->fd, buf, PG, G + PG));
	ASSERT_EQ((ssize_t)PG, pwrite(self->fd, buf, PG, G + PG));
	EXPECT_COUNTED(1, PG, 1, PG, 0, 2, 2);
	free(buf);
}

TEST_HARNESS_MAIN
