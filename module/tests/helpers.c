// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers and models shared by the KUnit suites of guestmem_kunit.ko: see
 * helpers.h.
 */
#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/guestmem.h>
#include "helpers.h"

MODULE_DESCRIPTION("KUnit tests for guestmem");
MODULE_LICENSE("GPL");

/* ------------------------------------------------------------------------ */
/* Spaces and regions                                                       */
/* ------------------------------------------------------------------------ */

/* kunit_add_action() of guestmem_put(). */
void gmt_put_action(void *gm)
{
	guestmem_put(gm);
}

/* A new empty space, dropped when the test ends. */
struct guestmem *gmt_create(struct kunit *test)
{
	struct guestmem *gm = guestmem_create();

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, gmt_put_action, gm), 0);
	return gm;
}

/* The descriptor of a VMALLOC region. */
struct guestmem_region gmt_desc(u64 gpa, u64 size, u32 flags)
{
	struct guestmem_region desc = {
		.gpa = gpa,
		.size = size,
		.backing = GUESTMEM_BACKING_VMALLOC,
		.flags = flags,
	};

	return desc;
}

/* Add a VMALLOC region of @size bytes at @gpa. */
int gmt_add(struct guestmem *gm, u64 gpa, u64 size, u32 flags)
{
	struct guestmem_region desc = gmt_desc(gpa, size, flags);

	return guestmem_add_region(gm, &desc);
}

/* Add a VMALLOC region of @pages pages at page @first of a layout. */
int gmt_add_pages(struct guestmem *gm, unsigned int first, unsigned int pages,
		  u32 flags)
{
	return gmt_add(gm, GMT_P(first), GMT_PG(pages), flags);
}

/* Expect one byte at @gpa to read back as @want (or the read to fail). */
void gmt_expect_byte(struct kunit *test, struct guestmem *gm, u64 gpa,
		     int want_ret, u8 want)
{
	u8 byte = 0xee;
	int ret = guestmem_read(gm, gpa, &byte, 1);

	KUNIT_EXPECT_EQ_MSG(test, ret, want_ret, "read at 0x%llx", gpa);
	if (!ret && !want_ret)
		KUNIT_EXPECT_EQ_MSG(test, byte, want, "byte at 0x%llx", gpa);
	if (want_ret)
		KUNIT_EXPECT_EQ_MSG(test, byte, 0xee, "buffer after read at 0x%llx", gpa);
}

/* A region is backed from its first to its last byte, and only there. */
void gmt_expect_region(struct kunit *test, struct guestmem *gm, u64 gpa,
		       u64 size, bool holes_around)
{
	gmt_expect_byte(test, gm, gpa, 0, 0);
	gmt_expect_byte(test, gm, gpa + size - 1, 0, 0);
	if (holes_around) {
		if (gpa)
			gmt_expect_byte(test, gm, gpa - 1, -ENXIO, 0);
		if (gpa + size)
			gmt_expect_byte(test, gm, gpa + size, -ENXIO, 0);
	}
}

static void gmt_fput_action(void *file)
{
	fput(file);
}

/*
 * A new /dev/guestmem file opened with @flags (and with it a new space),
 * closed when the test ends; the test is skipped if there is none.
 */
struct file *gmt_open_dev(struct kunit *test, int flags)
{
	struct file *file = filp_open("/dev/guestmem", flags, 0);

	if (IS_ERR(file))
		kunit_skip(test, "cannot open /dev/guestmem: %ld", PTR_ERR(file));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, gmt_fput_action, file), 0);
	return file;
}

/* ------------------------------------------------------------------------ */
/* Threads racing with a test                                               */
/* ------------------------------------------------------------------------ */

static int gmt_thread_fn(void *data)
{
	struct gmt_thread *t = data;

	complete(&t->started);
	return t->fn(t->data);
}

/*
 * Start @fn(@data + i * @size) in thread i of GMT_RACERS, named @name/i,
 * and wait until every thread has entered @fn (kthread_stop() of a thread
 * that has not run yet would skip its function).  A thread that cannot be
 * created fails the test.  Return: the number of threads started.
 */
unsigned int gmt_threads_start(struct kunit *test, struct gmt_threads *th,
			       int (*fn)(void *data), void *data, size_t size,
			       const char *name)
{
	unsigned int i;

	th->n = 0;
	for (i = 0; i < GMT_RACERS; i++) {
		struct task_struct *task;

		th->t[i].fn = fn;
		th->t[i].data = data + i * size;
		init_completion(&th->t[i].started);
		task = kthread_create(gmt_thread_fn, &th->t[i], "%s/%u", name, i);
		if (IS_ERR(task)) {
			KUNIT_FAIL(test, "kthread_create: %ld", PTR_ERR(task));
			break;
		}
		get_task_struct(task);
		th->t[th->n++].task = task;
		wake_up_process(task);
	}
	for (i = 0; i < th->n; i++)
		wait_for_completion(&th->t[i].started);
	return th->n;
}

/* Stop the threads started: those still running see kthread_should_stop(). */
void gmt_threads_stop(struct gmt_threads *th)
{
	unsigned int i;

	for (i = 0; i < th->n; i++) {
		kthread_stop(th->t[i].task);
		put_task_struct(th->t[i].task);
	}
}

/* ------------------------------------------------------------------------ */
/* Bytes                                                                    */
/* ------------------------------------------------------------------------ */

/* Deterministic, position-dependent bytes, different for each @seed. */
void gmt_pattern(u8 *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (u8)(seed * 37 + i * 7 + (i >> 8) + 1);
}

/* Report the first differing byte, not two hex dumps of kilobytes. */
bool gmt_bytes_eq(struct kunit *test, const u8 *got, const u8 *want,
		  size_t len, const char *what)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (got[i] != want[i]) {
			KUNIT_FAIL(test, "%s: byte %zu of %zu is 0x%02x, expected 0x%02x",
				   what, i, len, got[i], want[i]);
			return false;
		}
	}
	return true;
}

bool gmt_all_bytes(struct kunit *test, const u8 *buf, u8 val, size_t len,
		   const char *what)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] != val) {
			KUNIT_FAIL(test, "%s: byte %zu of %zu is 0x%02x, expected 0x%02x",
				   what, i, len, buf[i], val);
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------------ */
/* The model of a layout                                                    */
/* ------------------------------------------------------------------------ */

/*
 * A space with the regions of @layout, and a zeroed model of its pages (new
 * VMALLOC regions are zero-filled).
 */
struct gmt_ctx *gmt_ctx_create(struct kunit *test,
			       const struct gmt_layout *layout,
			       unsigned int nr_regions)
{
	struct gmt_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx);
	ctx->layout = layout;
	ctx->nr_regions = nr_regions;
	for (i = 0; i < nr_regions; i++)
		ctx->pages = max(ctx->pages, layout[i].first + layout[i].pages);
	ctx->model = kunit_kzalloc(test, GMT_PG(ctx->pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->model);
	ctx->buf = kunit_kzalloc(test, GMT_PG(ctx->pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->buf);
	ctx->gm = gmt_create(test);
	for (i = 0; i < nr_regions; i++)
		KUNIT_ASSERT_EQ(test, gmt_add_pages(ctx->gm, layout[i].first,
						    layout[i].pages,
						    layout[i].flags), 0);
	return ctx;
}

/* Read pages [@first, @first + @pages) and compare them with the model. */
static bool gmt_check_span(struct kunit *test, struct gmt_ctx *ctx,
			   unsigned int first, unsigned int pages,
			   const char *what)
{
	u64 off = GMT_PG(first), len = GMT_PG(pages);
	int ret;

	memset(ctx->buf, 0xee, len);
	ret = guestmem_read(ctx->gm, GMT_BASE + off, ctx->buf, len);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s: reading pages %u-%u", what,
			    first, first + pages - 1);
	if (ret)
		return true;
	return gmt_bytes_eq(test, ctx->buf, ctx->model + off, len, what);
}

/*
 * Guest memory equals the model: region by region, then in one sweep
 * across each run of adjacent regions.  Stops at the first difference.
 */
void gmt_check_model(struct kunit *test, struct gmt_ctx *ctx, const char *what)
{
	const struct gmt_layout *l = ctx->layout;
	unsigned int i, start;

	for (i = 0; i < ctx->nr_regions; i++)
		if (!gmt_check_span(test, ctx, l[i].first, l[i].pages, what))
			return;
	for (start = 0; start < ctx->nr_regions; start = i) {
		for (i = start + 1; i < ctx->nr_regions; i++)
			if (l[i].first != l[i - 1].first + l[i - 1].pages)
				break;
		if (i - start > 1 &&
		    !gmt_check_span(test, ctx, l[start].first,
				    l[i - 1].first + l[i - 1].pages - l[start].first,
				    what))
			return;
	}
}

/*
 * The layout of the access and walk suites (suite init), in pages from
 * GMT_BASE:
 *
 *   0      R0  1 page  read-write
 *   1-2    R1  2 pages read-write
 *   3      R2  1 page  read-write
 *   4          hole
 *   5      R3  1 page  READONLY
 *   6      R4  1 page  read-write
 *
 * The model starts zeroed, as the regions do.
 */
static const struct gmt_layout gmt_access_layout[] = {
	{ 0, 1, 0 },
	{ 1, 2, 0 },
	{ 3, 1, 0 },
	{ 5, 1, GUESTMEM_REGION_READONLY },
	{ 6, 1, 0 },
};

int gmt_access_init(struct kunit *test)
{
	test->priv = gmt_ctx_create(test, gmt_access_layout,
				    ARRAY_SIZE(gmt_access_layout));
	return 0;
}

/*
 * The layout of the fill and copy suites (suite init), in pages from
 * GMT_BASE:
 *
 *   0      A   read-write
 *   1-2    B   read-write
 *   3      C   read-write
 *   4          hole
 *   5      R   READONLY
 *   6      D   read-write
 *   7      S   READONLY
 *
 * The read-write regions start with a pattern (gmt_repattern()).
 */
static const struct gmt_layout gmt_fc_layout[] = {
	{ 0, 1, 0 },
	{ 1, 2, 0 },
	{ 3, 1, 0 },
	{ 5, 1, GUESTMEM_REGION_READONLY },
	{ 6, 1, 0 },
	{ 7, 1, GUESTMEM_REGION_READONLY },
};

/* Fill the read-write regions A-C and D of the fill/copy layout, and the model. */
void gmt_repattern(struct kunit *test, struct gmt_ctx *ctx, unsigned int seed)
{
	gmt_pattern(ctx->model, GMT_PG(4), seed);
	gmt_pattern(ctx->model + GMT_PG(6), GMT_PG(1), seed + 1);
	KUNIT_ASSERT_EQ(test, guestmem_write(ctx->gm, GMT_P(0), ctx->model, GMT_PG(4)), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write(ctx->gm, GMT_P(6), ctx->model + GMT_PG(6),
					     GMT_PG(1)), 0);
}

int gmt_fc_init(struct kunit *test)
{
	struct gmt_ctx *ctx = gmt_ctx_create(test, gmt_fc_layout,
					     ARRAY_SIZE(gmt_fc_layout));

	gmt_repattern(test, ctx, 1);
	test->priv = ctx;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* guestmem_atomic() and the dirty log                                      */
/* ------------------------------------------------------------------------ */

/* All-ones in the low @size bytes. */
u64 gmt_mask(u32 size)
{
	return size >= 8 ? U64_MAX : BIT_ULL(size * 8) - 1;
}

/* Store @v as a host-order integer of @size bytes at @p (any alignment). */
void gmt_put(u8 *p, u32 size, u64 v)
{
	u8 v8 = v;
	u16 v16 = v;
	u32 v32 = v;

	switch (size) {
	case 1:
		memcpy(p, &v8, 1);
		break;
	case 2:
		memcpy(p, &v16, 2);
		break;
	case 4:
		memcpy(p, &v32, 4);
		break;
	default:
		memcpy(p, &v, 8);
	}
}

/* The host-order integer of @size bytes at @p, zero-extended. */
u64 gmt_get(const u8 *p, u32 size)
{
	u8 v8;
	u16 v16;
	u32 v32;
	u64 v64;

	switch (size) {
	case 1:
		memcpy(&v8, p, 1);
		return v8;
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v64, p, 8);
		return v64;
	}
}

/*
 * Fetch and clear the dirty bits of @npages (at most 64) pages from page
 * @first of a layout; a failure or a write past the one-word bitmap is
 * reported.
 */
unsigned long gmt_dirty(struct kunit *test, struct guestmem *gm,
			unsigned int first, unsigned int npages)
{
	unsigned long bits[2] = { ~0UL, ~0UL };
	int ret;

	ret = guestmem_get_dirty_log(gm, GMT_P(first), GMT_PG(npages), bits, true);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "fetching the dirty log of pages %u-%u",
			    first, first + npages - 1);
	KUNIT_EXPECT_EQ_MSG(test, bits[1], ~0UL,
			    "the dirty log of %u pages wrote past its one-word bitmap",
			    npages);
	return ret ? ~0UL : bits[0];
}

const u32 gmt_sizes[GMT_NR_SIZES] = { 1, 2, 4, 8 };

const struct gmt_op_case gmt_op_cases[GMT_NR_OPS] = {
	{ "LOAD", GUESTMEM_ATOMIC_LOAD },
	{ "STORE", GUESTMEM_ATOMIC_STORE },
	{ "XCHG", GUESTMEM_ATOMIC_XCHG },
	{ "CMPXCHG (match)", GUESTMEM_ATOMIC_CMPXCHG, GMT_CMP_MATCH },
	{ "CMPXCHG (mismatch)", GUESTMEM_ATOMIC_CMPXCHG, GMT_CMP_MISMATCH },
	{ "FETCH_ADD", GUESTMEM_ATOMIC_FETCH_ADD },
	{ "FETCH_OR", GUESTMEM_ATOMIC_FETCH_OR },
	{ "FETCH_AND", GUESTMEM_ATOMIC_FETCH_AND },
};

/* What op @c of @size bytes on an object holding GMT_INIT must do. */
struct gmt_op_want gmt_op_model(const struct gmt_op_case *c, u32 size)
{
	u64 m = gmt_mask(size), init = GMT_INIT & m, opnd = GMT_OPERAND & m;
	struct gmt_op_want w = {
		.in = opnd, .out = init, .mem = opnd, .dirty = true,
	};

	switch (c->op) {
	case GUESTMEM_ATOMIC_LOAD:
		/* LOAD ignores the input, even bits above @size. */
		w.in = U64_MAX;
		w.mem = init;
		w.dirty = false;
		break;
	case GUESTMEM_ATOMIC_STORE:
		w.out = opnd;	/* left alone */
		break;
	case GUESTMEM_ATOMIC_CMPXCHG:
		if (c->cmp == GMT_CMP_MATCH) {
			w.expected = init;
		} else {
			w.expected = init ^ 0x10;
			w.mem = init;
			w.dirty = false;
		}
		break;
	case GUESTMEM_ATOMIC_FETCH_ADD:
		w.in = GMT_ADDEND & m;
		w.mem = (init + w.in) & m;
		break;
	case GUESTMEM_ATOMIC_FETCH_OR:
		w.mem = init | opnd;
		break;
	case GUESTMEM_ATOMIC_FETCH_AND:
		w.mem = init & opnd;
		break;
	}
	return w;
}
