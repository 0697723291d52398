// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_walk: guestmem_walk_chunks() (module/access.c) --
 * the chunks a walk hands out, writes through them, holes, read-only
 * regions and their kernel mappings, stops, the top of the 64-bit space,
 * and what a callback must not do.
 *
 * Each test starts on the access layout of helpers.c, in pages from
 * GMT_BASE: R0 (0), R1 (1-2), R2 (3), a hole (4), R3 READONLY (5), R4 (6).
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kref.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/guestmem.h>
#include "../internal.h"	/* struct guestmem: its reference count, set, SRCU */
#include "helpers.h"

#define GMT_MAX_CHUNKS	8

struct gmt_walk {
	struct gmt_ctx *ctx;
	unsigned int calls;
	unsigned int stop_at;	/* 1-based call that returns @stop_ret */
	int stop_ret;
	int fill;		/* >= 0: write this byte through each chunk */
	unsigned int bad_content;
	struct {
		void *kaddr;
		u64 gpa;
		size_t len;
	} chunk[GMT_MAX_CHUNKS];
};

static int gmt_walk_fn(void *kaddr, u64 gpa, size_t len, void *priv)
{
	struct gmt_walk *w = priv;
	unsigned int n = w->calls++;
	bool in_model = gpa >= GMT_BASE &&
			gpa - GMT_BASE + len <= GMT_PG(w->ctx->pages);

	/* The callback may sleep. */
	might_sleep();
	cond_resched();

	if (n < GMT_MAX_CHUNKS) {
		w->chunk[n].kaddr = kaddr;
		w->chunk[n].gpa = gpa;
		w->chunk[n].len = len;
	}
	/* The chunk maps exactly the guest bytes at @gpa. */
	if (in_model && memcmp(kaddr, w->ctx->model + (gpa - GMT_BASE), len))
		w->bad_content++;
	if (w->fill >= 0 && in_model) {
		memset(kaddr, w->fill, len);
		memset(w->ctx->model + (gpa - GMT_BASE), w->fill, len);
	}
	return w->calls == w->stop_at ? w->stop_ret : 0;
}

static void gmt_walk_init(struct gmt_walk *w, struct gmt_ctx *ctx)
{
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	w->fill = -1;
}

static int gmt_walk(struct gmt_walk *w, u64 off, u64 len, bool write)
{
	return guestmem_walk_chunks(w->ctx->gm, GMT_BASE + off, len, write,
				    gmt_walk_fn, w);
}

static void gmt_expect_chunk(struct kunit *test, const struct gmt_walk *w,
			     unsigned int n, u64 off, size_t len)
{
	KUNIT_EXPECT_EQ_MSG(test, w->chunk[n].gpa, GMT_BASE + off, "gpa of chunk %u", n);
	KUNIT_EXPECT_EQ_MSG(test, w->chunk[n].len, len, "length of chunk %u", n);
}

static void gmt_walk_fill_model(struct gmt_ctx *ctx)
{
	gmt_pattern(ctx->model, GMT_PG(ctx->pages), 60);
	/* The hole and the read-only region read as they are. */
	memset(ctx->model + GMT_PG(4), 0, GMT_PG(2));
}

static void guestmem_test_walk_three(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_fill_model(ctx);
	KUNIT_ASSERT_EQ(test, guestmem_write(ctx->gm, GMT_BASE, ctx->model, GMT_PG(4)), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write(ctx->gm, GMT_P(6), ctx->model + GMT_PG(6),
					     GMT_PG(1)), 0);

	/* The tail of R0, R1 whole, the head of R2: one chunk each, in order. */
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(1) - 10, GMT_PG(2) + 20, false), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 3U);
	gmt_expect_chunk(test, &w, 0, GMT_PG(1) - 10, 10);
	gmt_expect_chunk(test, &w, 1, GMT_PG(1), GMT_PG(2));
	gmt_expect_chunk(test, &w, 2, GMT_PG(3), 10);
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);

	/* The whole of R0-R2, and R3-R4 (read-only then read-write). */
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, GMT_PG(4), false), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 3U);
	gmt_expect_chunk(test, &w, 0, 0, GMT_PG(1));
	gmt_expect_chunk(test, &w, 1, GMT_PG(1), GMT_PG(2));
	gmt_expect_chunk(test, &w, 2, GMT_PG(3), GMT_PG(1));
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5) + 1, GMT_PG(2) - 2, false), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 2U);
	gmt_expect_chunk(test, &w, 0, GMT_PG(5) + 1, GMT_PG(1) - 1);
	gmt_expect_chunk(test, &w, 1, GMT_PG(6), GMT_PG(1) - 1);
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);

	/* Inside one region, multi-page: one chunk. */
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(1) + 5, GMT_PG(2) - 10, false), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 1U);
	gmt_expect_chunk(test, &w, 0, GMT_PG(1) + 5, GMT_PG(2) - 10);
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(3) - 1, 1, false), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 1U);
	gmt_expect_chunk(test, &w, 0, GMT_PG(3) - 1, 1);
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);
}

/* Writing through the chunks' kernel addresses lands in guest memory. */
static void guestmem_test_walk_write(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_init(&w, ctx);
	w.fill = 0x3c;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(1) - 3, GMT_PG(2) + 6, true), 0);
	KUNIT_EXPECT_EQ(test, w.calls, 3U);
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);	/* all zero before */
	gmt_check_model(test, ctx, "after writing through the chunks");

	gmt_walk_init(&w, ctx);
	w.fill = 0xc3;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(6), GMT_PG(1), true), 0);
	KUNIT_EXPECT_EQ(test, w.calls, 1U);
	gmt_check_model(test, ctx, "after writing through R4's chunk");
}

/* Exact: a hole anywhere in the range means no call at all. */
static void guestmem_test_walk_hole(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(4) - 1, 2, false), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, GMT_PG(7), false), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(4), 1, false), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5) - 1, 2, false), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(7) - 1, 2, false), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(7), PAGE_SIZE, true), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, (u64)-GMT_BASE + 1, PAGE_SIZE, true), -ENXIO);
	w.fill = 0x11;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, GMT_PG(4) + 1, true), -ENXIO);
	KUNIT_EXPECT_EQ(test, w.calls, 0U);
	gmt_check_model(test, ctx, "after failed walks");
}

/* A non-zero callback return stops the walk and is its result. */
static void guestmem_test_walk_stop(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_init(&w, ctx);
	w.stop_at = 2;
	w.stop_ret = 7;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, GMT_PG(4), false), 7);
	KUNIT_EXPECT_EQ(test, w.calls, 2U);
	gmt_expect_chunk(test, &w, 0, 0, GMT_PG(1));
	gmt_expect_chunk(test, &w, 1, GMT_PG(1), GMT_PG(2));

	gmt_walk_init(&w, ctx);
	w.stop_at = 1;
	w.stop_ret = -EIO;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, GMT_PG(4), true), -EIO);
	KUNIT_EXPECT_EQ(test, w.calls, 1U);

	/* Even -EFAULT and 1 are passed through as they are. */
	gmt_walk_init(&w, ctx);
	w.stop_at = 3;
	w.stop_ret = -EFAULT;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 10, GMT_PG(4) - 20, false), -EFAULT);
	KUNIT_EXPECT_EQ(test, w.calls, 3U);
	gmt_walk_init(&w, ctx);
	w.stop_at = 1;
	w.stop_ret = 1;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(6), 1, false), 1);
	KUNIT_EXPECT_EQ(test, w.calls, 1U);

	/* A stop on the last chunk is still returned. */
	gmt_walk_init(&w, ctx);
	w.stop_at = 2;
	w.stop_ret = 42;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5), GMT_PG(2), false), 42);
	KUNIT_EXPECT_EQ(test, w.calls, 2U);

	/* The next walk starts afresh. */
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, GMT_PG(4), false), 0);
	KUNIT_EXPECT_EQ(test, w.calls, 3U);
}

static void guestmem_test_walk_readonly(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_init(&w, ctx);
	w.fill = 0x22;
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5), GMT_PG(1), true), -EACCES);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5) + 9, 1, true), -EACCES);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5), GMT_PG(2), true), -EACCES);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(6) - 1, 2, true), -EACCES);
	KUNIT_EXPECT_EQ(test, w.calls, 0U);
	gmt_check_model(test, ctx, "after refused walks");

	/* Reading through it is fine. */
	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5), GMT_PG(2), false), 0);
	KUNIT_EXPECT_EQ(test, w.calls, 2U);
	gmt_expect_chunk(test, &w, 0, GMT_PG(5), GMT_PG(1));
	gmt_expect_chunk(test, &w, 1, GMT_PG(6), GMT_PG(1));
	KUNIT_EXPECT_EQ(test, w.bad_content, 0U);
}

/* An empty walk succeeds anywhere, without a call. */
static void guestmem_test_walk_zero(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, 0, 0, false), 0);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(1), 0, true), 0);
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(4), 0, true), 0);	/* hole */
	KUNIT_EXPECT_EQ(test, gmt_walk(&w, GMT_PG(5), 0, true), 0);	/* read-only */
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, U64_MAX, 0, true,
						   gmt_walk_fn, &w), 0);
	KUNIT_EXPECT_EQ(test, w.calls, 0U);
}

/* A range past 2^64 - 1 is -EOVERFLOW, without a call. */
static void guestmem_test_walk_overflow(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;

	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, U64_MAX, 2, false,
						   gmt_walk_fn, &w), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, GMT_BASE, U64_MAX, false,
						   gmt_walk_fn, &w), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, w.calls, 0U);
}

/* Chunks at the very top of the 64-bit space. */
static void guestmem_test_walk_top(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk w;
	u64 low = GMT_TOP_PAGE - PAGE_SIZE;

	KUNIT_ASSERT_EQ(test, gmt_add(ctx->gm, low, PAGE_SIZE, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(ctx->gm, GMT_TOP_PAGE, PAGE_SIZE, 0), 0);

	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, low + 1, GMT_PG(2) - 1, true,
						   gmt_walk_fn, &w), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 2U);
	KUNIT_EXPECT_EQ(test, w.chunk[0].gpa, low + 1);
	KUNIT_EXPECT_EQ(test, w.chunk[0].len, PAGE_SIZE - 1);
	KUNIT_EXPECT_EQ(test, w.chunk[1].gpa, GMT_TOP_PAGE);
	KUNIT_EXPECT_EQ(test, w.chunk[1].len, PAGE_SIZE);

	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, U64_MAX, 1, false,
						   gmt_walk_fn, &w), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 1U);
	KUNIT_EXPECT_EQ(test, w.chunk[0].gpa, U64_MAX);
	KUNIT_EXPECT_EQ(test, w.chunk[0].len, 1);
	/* The chunk's address is the top region's last byte. */
	*(u8 *)w.chunk[0].kaddr = 0x5e;

	gmt_walk_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, low - 1, 2, false,
						   gmt_walk_fn, &w), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(ctx->gm, low, U64_MAX, false,
						   gmt_walk_fn, &w), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, w.calls, 0U);
	{
		u8 byte = 0;

		KUNIT_EXPECT_EQ(test, guestmem_read(ctx->gm, U64_MAX, &byte, 1), 0);
		KUNIT_EXPECT_EQ(test, byte, 0x5e);
	}
}

/* Per chunk of a walk: whether the kernel maps it writable. */
struct gmt_ro_walk {
	unsigned int calls;
	int writable[4];
};

/* 1 if the kernel PTE of @addr is writable, 0 if not, -1 if none. */
static int gmt_kernel_writable(unsigned long addr)
{
#ifdef CONFIG_X86
	unsigned int level;
	pte_t *pte = lookup_address(addr, &level);

	if (!pte || !pte_present(*pte))
		return -1;
	return pte_write(*pte);
#else
	return -1;
#endif
}

static int gmt_writable_fn(void *kaddr, u64 gpa, size_t len, void *priv)
{
	struct gmt_ro_walk *w = priv;
	unsigned long first = (unsigned long)kaddr;
	unsigned long last = first + len - 1;
	int wr;

	if (w->calls >= ARRAY_SIZE(w->writable))
		return -E2BIG;
	/* Every page of the chunk as its first. */
	wr = gmt_kernel_writable(first);
	for (first = PAGE_ALIGN(first + 1); first <= last; first += PAGE_SIZE)
		if (gmt_kernel_writable(first) != wr)
			wr = -2;
	w->writable[w->calls++] = wr;
	return 0;
}

/*
 * The kernel's mapping of a READONLY region is read-only, for both
 * backings: every page of a chunk walked for reading has a read-only
 * kernel PTE, while a writable region's chunk is writable.  USER regions
 * pin memory of a user mm attached to the test thread.
 */
static void guestmem_test_walk_readonly_mapping(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);
	struct guestmem_region desc;
	struct gmt_ro_walk w = {};
	unsigned long uaddr;
	u8 *want, *buf;

	if (!IS_ENABLED(CONFIG_X86))
		kunit_skip(test, "kernel PTEs are read with x86's lookup_address()");

	KUNIT_ASSERT_EQ(test, gmt_add(gm, 0, GMT_PG(2), GUESTMEM_REGION_READONLY), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(2), GMT_PG(1), 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_PG(1), GMT_PG(2), false,
						   gmt_writable_fn, &w), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 2U);
	KUNIT_EXPECT_EQ(test, w.writable[0], 0);
	KUNIT_EXPECT_EQ(test, w.writable[1], 1);

	uaddr = kunit_vm_mmap(test, NULL, 0, GMT_PG(3), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, 0);
	if (!uaddr)
		kunit_skip(test, "no user memory for the test thread");
	want = kunit_kzalloc(test, GMT_PG(3), GFP_KERNEL);
	buf = kunit_kzalloc(test, GMT_PG(3), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, want);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	gmt_pattern(want, GMT_PG(3), 77);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)uaddr, want, GMT_PG(3)), 0UL);

	desc = gmt_desc(SZ_1M, GMT_PG(2), GUESTMEM_REGION_READONLY);
	desc.backing = GUESTMEM_BACKING_USER;
	desc.user_addr = uaddr;
	KUNIT_ASSERT_EQ(test, guestmem_add_region(gm, &desc), 0);
	desc = gmt_desc(SZ_1M + GMT_PG(2), GMT_PG(1), 0);
	desc.backing = GUESTMEM_BACKING_USER;
	desc.user_addr = uaddr + GMT_PG(2);
	KUNIT_ASSERT_EQ(test, guestmem_add_region(gm, &desc), 0);
	memset(&w, 0, sizeof(w));
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, SZ_1M + GMT_PG(1), GMT_PG(2),
						   false, gmt_writable_fn, &w), 0);
	KUNIT_ASSERT_EQ(test, w.calls, 2U);
	KUNIT_EXPECT_EQ(test, w.writable[0], 0);
	KUNIT_EXPECT_EQ(test, w.writable[1], 1);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, SZ_1M, buf, GMT_PG(3)), 0);
	gmt_bytes_eq(test, buf, want, GMT_PG(3), "USER regions after the walk");
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, SZ_1M, GMT_PG(2)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, SZ_1M + GMT_PG(2),
						     GMT_PG(1)), 0);
}

/* Removal and the last put from a walk callback. */
struct gmt_walk_misuse {
	struct guestmem *gm;
	int remove_ret;
	int add_ret;
	bool put;
	bool add;
	unsigned int chunks;
	int misuse_seen;
};

static int gmt_misuse_fn(void *kaddr, u64 gpa, size_t len, void *priv)
{
	struct gmt_walk_misuse *m = priv;
	struct guestmem *gm = m->gm;

	m->chunks++;
	if (m->put) {
		m->put = false;
		guestmem_put(gm);
	} else if (m->add) {
		m->add = false;
		m->add_ret = gmt_add(gm, GMT_PG(64), GMT_PG(1), 0);
	} else if (m->chunks == 1) {
		m->remove_ret = guestmem_remove_region(gm, gpa, PAGE_SIZE);
	}
	/* The space is alive as long as the walk is. */
	m->misuse_seen = atomic_read(&gm->walk_misuse);
	return 0;
}

/*
 * A removal from a walk callback would wait for the walk's own read
 * section: it fails with -EDEADLK instead (before issue 14, point 9: a
 * deadlock), and is counted and warned about.  The warning, once per
 * space, is spent beforehand: any WARNING fails the test VM's log check.
 */
static void guestmem_test_walk_remove_in_callback(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk_misuse m = { .gm = ctx->gm, .remove_ret = 1 };
	struct guestmem *gm = ctx->gm;
	u8 b;

	gm->walk_misuse_warned = true;
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(0), 1, false,
						   gmt_misuse_fn, &m), 0);
	KUNIT_EXPECT_EQ(test, m.remove_ret, -EDEADLK);
	KUNIT_EXPECT_EQ(test, m.misuse_seen, 1);
	/* Nothing was removed; outside a walk the same removal works. */
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_P(0), &b, 1), 0);
	KUNIT_EXPECT_EQ(test, guestmem_remove_region(gm, GMT_P(0), GMT_PG(1)), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&gm->walk_misuse), 1);
}

/*
 * An add from a walk callback deadlocks against a removal by another task
 * (which holds gm->lock while it waits for the walk's read section): it
 * fails with -EDEADLK, is counted, and the region is not added; outside
 * the walk the same add works.
 */
static void guestmem_test_walk_add_in_callback(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct gmt_walk_misuse m = { .gm = ctx->gm, .add = true, .add_ret = 1,
				     .remove_ret = 1 };
	struct guestmem *gm = ctx->gm;
	u8 b;

	gm->walk_misuse_warned = true;
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(0), 1, false,
						   gmt_misuse_fn, &m), 0);
	KUNIT_EXPECT_EQ(test, m.add_ret, -EDEADLK);
	KUNIT_EXPECT_EQ(test, m.misuse_seen, 1);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_PG(64), &b, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, gmt_add(gm, GMT_PG(64), GMT_PG(1), 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_PG(64), &b, 1), 0);
}

/*
 * The last put from a walk callback would free the space under the walk
 * (before issue 14, point 9: a use-after-free): the walk holds a reference
 * of its own and frees the space as it ends; KASAN and kmemleak check
 * that.  Counted and warned about (the warning spent beforehand, as
 * above); a put that is not the last is no misuse.
 */
static void guestmem_test_walk_last_put_in_callback(struct kunit *test)
{
	struct gmt_walk_misuse m = { .put = true };
	struct guestmem *gm = guestmem_create();

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gm);
	m.gm = gm;
	gm->walk_misuse_warned = true;
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 0, GMT_PG(1), 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(1), GMT_PG(1), 0), 0);
	guestmem_get(gm);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, 0, 1, true, gmt_misuse_fn,
						   &m), 0);
	KUNIT_EXPECT_EQ(test, m.misuse_seen, 0);
	KUNIT_EXPECT_EQ(test, kref_read(&gm->ref), 1U);

	/* The last, in the first of two chunks: the walk goes on. */
	m = (struct gmt_walk_misuse){ .gm = gm, .put = true };
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, 0, GMT_PG(2), false,
						   gmt_misuse_fn, &m), 0);
	KUNIT_EXPECT_EQ(test, m.chunks, 2U);
	KUNIT_EXPECT_EQ(test, m.misuse_seen, 1);
}

struct gmt_remover {
	struct guestmem *gm;
	u64 gpa;
	u64 size;
	int ret;
	struct completion done;
	bool published;
};

static int gmt_remover_fn(void *data)
{
	struct gmt_remover *rm = data;

	rm->ret = guestmem_remove_region(rm->gm, rm->gpa, rm->size);
	complete(&rm->done);
	return 0;
}

/* Start a removal of the chunk's region, wait until it is unpublished. */
static int gmt_write_stop_fn(void *kaddr, u64 gpa, size_t len, void *priv)
{
	struct gmt_remover *rm = priv;
	u64 gen = READ_ONCE(rm->gm->generation);
	struct task_struct *t;
	unsigned int i;

	t = kthread_run(gmt_remover_fn, rm, "gmt_remover");
	if (IS_ERR(t)) {
		complete(&rm->done);
		return PTR_ERR(t);
	}
	for (i = 0; i < 5000 && READ_ONCE(rm->gm->generation) == gen; i++)
		usleep_range(1000, 2000);
	rm->published = READ_ONCE(rm->gm->generation) != gen &&
			!completion_done(&rm->done);
	memset(kaddr, 0x5a, len);
	return -EIO;
}

/*
 * A write walk whose callback stops it marks the chunk dirty in its read
 * section, in the region the callback wrote.  Here a removal of that
 * region unpublishes it while the callback runs (and then waits for a read
 * section this test holds, so that the region stays to be looked at):
 * before issue 14, point 9, the walker marked the chunk after leaving its
 * read section, by a lookup that found no region any more, and the bit was
 * lost.
 */
static void guestmem_test_walk_stop_marks_in_section(struct kunit *test)
{
	struct gmt_remover rm = { .gpa = GMT_PG(4), .size = GMT_PG(2) };
	struct guestmem *gm = gmt_create(test);
	struct gm_region *r;
	struct gm_set *set;
	unsigned int i;
	int idx;

	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_PG(4), GMT_PG(2),
				      GUESTMEM_REGION_DIRTY_LOG), 0);
	rm.gm = gm;
	init_completion(&rm.done);
	idx = srcu_read_lock(&gm->srcu);
	set = srcu_dereference(gm->set, &gm->srcu);
	i = gm_set_search(set, GMT_PG(5));
	r = i < set->count ? set->keys[i].region : NULL;
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_PG(5), 16, true,
						   gmt_write_stop_fn, &rm), -EIO);
	KUNIT_EXPECT_TRUE(test, rm.published);
	if (r) {
		KUNIT_EXPECT_TRUE(test, test_bit(1, r->dirty_bitmap));
		KUNIT_EXPECT_FALSE(test, test_bit(0, r->dirty_bitmap));
	}
	srcu_read_unlock(&gm->srcu, idx);
	wait_for_completion(&rm.done);
	KUNIT_EXPECT_EQ(test, rm.ret, 0);
	KUNIT_EXPECT_NOT_NULL(test, r);
}

static struct kunit_case guestmem_walk_cases[] = {
	KUNIT_CASE(guestmem_test_walk_three),
	KUNIT_CASE(guestmem_test_walk_write),
	KUNIT_CASE(guestmem_test_walk_hole),
	KUNIT_CASE(guestmem_test_walk_stop),
	KUNIT_CASE(guestmem_test_walk_readonly),
	KUNIT_CASE(guestmem_test_walk_readonly_mapping),
	KUNIT_CASE(guestmem_test_walk_zero),
	KUNIT_CASE(guestmem_test_walk_overflow),
	KUNIT_CASE(guestmem_test_walk_top),
	KUNIT_CASE(guestmem_test_walk_remove_in_callback),
	KUNIT_CASE(guestmem_test_walk_add_in_callback),
	KUNIT_CASE(guestmem_test_walk_last_put_in_callback),
	KUNIT_CASE(guestmem_test_walk_stop_marks_in_section),
	{}
};

static struct kunit_suite guestmem_walk_suite = {
	.name = "guestmem_walk",
	.init = gmt_access_init,
	.test_cases = guestmem_walk_cases,
};

kunit_test_suite(guestmem_walk_suite);
