// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_atomic: guestmem_atomic() (module/atomic.c) -- every
 * op at sizes 1, 2, 4 and 8 against the model of helpers.c (results,
 * zero-extension, host byte order, neighbours, dirty marking), alignment,
 * sizes, ops and operand widths, read-only regions, holes, the top of the
 * 64-bit space, and a race between threads.
 */
#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/guestmem.h>
#include "helpers.h"

/*
 * The layout of the atomic suite, in pages from GMT_BASE:
 *
 *   0-1    W   read-write, DIRTY_LOG
 *   2      R   READONLY
 *   3          hole
 *   4      P   read-write
 */
static int gmt_atomic_init(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);

	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 0, 2, GUESTMEM_REGION_DIRTY_LOG), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 2, 1, GUESTMEM_REGION_READONLY), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(gm, 4, 1, 0), 0);
	test->priv = gm;
	return 0;
}

/*
 * 8-byte slots of W the ops are tried in: mid-page, both sides of the page
 * boundary, and the end of the region.  An object of @size bytes sits at
 * the end of its slot; the bytes around it must not change.
 */
static const u64 gmt_slots[] = { 8, GMT_PG(1) - 8, GMT_PG(1), GMT_PG(2) - 8 };

static void gmt_atomic_one(struct kunit *test, struct guestmem *gm, u64 slot,
			   u32 size, const struct gmt_op_case *c)
{
	struct gmt_op_want w = gmt_op_model(c, size);
	u64 off = slot + 8 - size;
	u64 wstart = slot - 8, wend = min_t(u64, slot + 16, GMT_PG(2));
	size_t wlen = wend - wstart;
	u8 before[24], want[24], got[24];
	u64 value = w.in;
	char what[64];
	int ret;

	snprintf(what, sizeof(what), "%s of size %u at W+%#llx", c->name, size, off);
	gmt_pattern(before, wlen, size * 16 + c->op);
	gmt_put(before + (off - wstart), size, GMT_INIT & gmt_mask(size));
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_BASE + wstart, before, wlen), 0);
	gmt_dirty(test, gm, 0, 2);

	ret = guestmem_atomic(gm, GMT_BASE + off, size, c->op, &value, w.expected);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, value, w.out, "value after %s", what);

	memcpy(want, before, wlen);
	gmt_put(want + (off - wstart), size, w.mem);
	memset(got, 0xee, sizeof(got));
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, GMT_BASE + wstart, got, wlen), 0);
	gmt_bytes_eq(test, got, want, wlen, what);
	KUNIT_EXPECT_EQ_MSG(test, gmt_dirty(test, gm, 0, 2),
			    w.dirty ? BIT(off >> PAGE_SHIFT) : 0UL,
			    "dirty pages of W after %s", what);
}

static void gmt_size_desc(const u32 *size, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "size %u", *size);
}

/* The ops, and the sizes, as parameters. */
KUNIT_ARRAY_PARAM_DESC(atomic_op, gmt_op_cases, name);
KUNIT_ARRAY_PARAM(atomic_size, gmt_sizes, gmt_size_desc);

/* Every op at every size: result, zero-extension, memory, neighbours. */
static void guestmem_test_atomic_ops(struct kunit *test)
{
	const struct gmt_op_case *c = test->param_value;
	struct guestmem *gm = test->priv;
	unsigned int s, p;

	for (s = 0; s < ARRAY_SIZE(gmt_sizes); s++)
		for (p = 0; p < ARRAY_SIZE(gmt_slots); p++)
			gmt_atomic_one(test, gm, gmt_slots[p], gmt_sizes[s], c);
}

/* Ops chained on one object, as a device model would use them. */
static void guestmem_test_atomic_sequence(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 gpa = GMT_P(4) + 64, v;
	unsigned int i;

	for (i = 0; i < 100; i++) {
		v = 7;
		KUNIT_ASSERT_EQ(test, guestmem_atomic(gm, gpa, 4, GUESTMEM_ATOMIC_FETCH_ADD,
						      &v, 0), 0);
		KUNIT_EXPECT_EQ(test, v, 7ULL * i);
	}
	v = 0;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, 4, GUESTMEM_ATOMIC_LOAD, &v, 0), 0);
	KUNIT_EXPECT_EQ(test, v, 700ULL);

	/* A CMPXCHG failure reports the content, then a retry with it wins. */
	v = 1;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, 4, GUESTMEM_ATOMIC_CMPXCHG, &v, 0), 0);
	KUNIT_EXPECT_EQ(test, v, 700ULL);
	v = 1;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, 4, GUESTMEM_ATOMIC_CMPXCHG, &v, 700), 0);
	KUNIT_EXPECT_EQ(test, v, 700ULL);
	v = 0;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, 4, GUESTMEM_ATOMIC_XCHG, &v, 0), 0);
	KUNIT_EXPECT_EQ(test, v, 1ULL);

	/* FETCH_ADD wraps within the object: 0 - 1 at size 2 is 0xffff. */
	v = 0xffff;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, 2, GUESTMEM_ATOMIC_FETCH_ADD, &v, 0), 0);
	KUNIT_EXPECT_EQ(test, v, 0ULL);
	v = 0;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, 4, GUESTMEM_ATOMIC_LOAD, &v, 0), 0);
	KUNIT_EXPECT_EQ(test, v, 0xffffULL);
	v = 0x0f0f;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, 2, GUESTMEM_ATOMIC_FETCH_AND, &v, 0), 0);
	KUNIT_EXPECT_EQ(test, v, 0xffffULL);
	v = 0x1000;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, 2, GUESTMEM_ATOMIC_FETCH_OR, &v, 0), 0);
	KUNIT_EXPECT_EQ(test, v, 0x0f0fULL);
	v = 0;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, 8, GUESTMEM_ATOMIC_LOAD, &v, 0), 0);
	KUNIT_EXPECT_EQ(test, v, 0x1f0fULL);
}

/* Values are in host byte order, as guestmem_read() sees them: LOAD. */
static void guestmem_test_atomic_host_order_load(struct kunit *test)
{
	const u32 size = *(const u32 *)test->param_value;
	struct guestmem *gm = test->priv;
	u64 gpa = GMT_P(4) + 128, v;
	u8 bytes[8];
	unsigned int i;

	gmt_pattern(bytes, sizeof(bytes), 5);
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, gpa, bytes, sizeof(bytes)), 0);
	for (i = 0; i < sizeof(bytes); i += size) {
		v = U64_MAX;
		KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa + i, size,
						      GUESTMEM_ATOMIC_LOAD, &v, 0), 0);
		KUNIT_EXPECT_EQ_MSG(test, v, gmt_get(bytes + i, size),
				    "LOAD of size %u at +%u", size, i);
	}
}

/* Values are in host byte order, as guestmem_read() sees them: STORE, XCHG. */
static void guestmem_test_atomic_host_order_store(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 gpa = GMT_P(4) + 128, v;
	u8 bytes[8], got[8];

	v = 0x0102030405060708ULL;
	KUNIT_ASSERT_EQ(test, guestmem_atomic(gm, gpa, 8, GUESTMEM_ATOMIC_STORE, &v, 0), 0);
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, gpa, got, sizeof(got)), 0);
	KUNIT_EXPECT_EQ(test, gmt_get(got, 8), 0x0102030405060708ULL);
	v = 0xa1b2;
	KUNIT_ASSERT_EQ(test, guestmem_atomic(gm, gpa + 2, 2, GUESTMEM_ATOMIC_XCHG, &v, 0), 0);
	KUNIT_EXPECT_EQ(test, v, gmt_get(got + 2, 2));
	gmt_put(got + 2, 2, 0xa1b2);
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, gpa, bytes, sizeof(bytes)), 0);
	gmt_bytes_eq(test, bytes, got, sizeof(got), "after XCHG of size 2");
}

/* Every misaligned object is EINVAL, for every op, and touches nothing. */
static void guestmem_test_atomic_alignment(struct kunit *test)
{
	const struct gmt_op_case *oc = test->param_value;
	struct guestmem *gm = test->priv;
	u8 *before, *after;
	unsigned int s, mis, k;

	before = kunit_kmalloc(test, GMT_PG(2), GFP_KERNEL);
	after = kunit_kmalloc(test, GMT_PG(2), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, before);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, after);
	gmt_pattern(before, GMT_PG(2), 9);
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(0), before, GMT_PG(2)), 0);
	gmt_dirty(test, gm, 0, 2);

	for (s = 1; s < ARRAY_SIZE(gmt_sizes); s++) {
		u32 size = gmt_sizes[s];
		/* Mid-page, and straddling the page boundary. */
		u64 bases[] = { 64, GMT_PG(1) - size };

		for (k = 0; k < ARRAY_SIZE(bases); k++) {
			for (mis = 1; mis < size; mis++) {
				u64 off = bases[k] + mis;
				u64 v = 1;
				int ret;

				ret = guestmem_atomic(gm, GMT_P(0) + off, size, oc->op,
						      &v, 0);
				KUNIT_EXPECT_EQ_MSG(test, ret, -EINVAL,
						    "%s of size %u at W+%#llx",
						    oc->name, size, off);
			}
		}
	}
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, GMT_P(0), after, GMT_PG(2)), 0);
	gmt_bytes_eq(test, after, before, GMT_PG(2), "W after misaligned atomics");
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 0, 2), 0UL);
}

/* A valid op after the invalid ones: nothing was written or marked. */
static void gmt_expect_untouched(struct kunit *test, struct guestmem *gm)
{
	u64 v = 0;

	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(4), 8, GUESTMEM_ATOMIC_LOAD, &v, 0), 0);
	KUNIT_EXPECT_EQ(test, v, 0ULL);
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 0, 2), 0UL);
}

/* Sizes other than 1, 2, 4 and 8 are EINVAL, for every op. */
static const u32 gmt_bad_sizes[] = { 0, 3, 5, 6, 7, 9, 16, 32, U32_MAX };

KUNIT_ARRAY_PARAM(atomic_bad_size, gmt_bad_sizes, gmt_size_desc);

static void guestmem_test_atomic_bad_size(struct kunit *test)
{
	const u32 *size = test->param_value;
	struct guestmem *gm = test->priv;
	unsigned int c;
	u64 v;

	for (c = 0; c < ARRAY_SIZE(gmt_op_cases); c++) {
		v = 0;
		KUNIT_EXPECT_EQ_MSG(test, guestmem_atomic(gm, GMT_P(4), *size,
							  gmt_op_cases[c].op, &v, 0),
				    -EINVAL, "%s of size %u", gmt_op_cases[c].name,
				    *size);
	}
	gmt_expect_untouched(test, gm);
}

/* Unknown ops are EINVAL, at every size. */
static const u32 gmt_bad_ops[] = { GUESTMEM_ATOMIC_FETCH_AND + 1, 8, 0x100, U32_MAX };

static void gmt_bad_op_desc(const u32 *op, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "op %u", *op);
}

KUNIT_ARRAY_PARAM(atomic_bad_op, gmt_bad_ops, gmt_bad_op_desc);

static void guestmem_test_atomic_bad_op(struct kunit *test)
{
	const u32 *op = test->param_value;
	struct guestmem *gm = test->priv;
	unsigned int c;
	u64 v;

	for (c = 0; c < ARRAY_SIZE(gmt_sizes); c++) {
		v = 0;
		KUNIT_EXPECT_EQ_MSG(test, guestmem_atomic(gm, GMT_P(4), gmt_sizes[c],
							  *op, &v, 0),
				    -EINVAL, "op %u of size %u", *op, gmt_sizes[c]);
	}
	gmt_expect_untouched(test, gm);
}

/* Operand bits above @size are EINVAL, in value and in CMPXCHG's expected. */
static const u32 gmt_narrow_sizes[] = { 1, 2, 4 };

KUNIT_ARRAY_PARAM(atomic_operand_bits, gmt_narrow_sizes, gmt_size_desc);

static void guestmem_test_atomic_operand_bits(struct kunit *test)
{
	const u32 size = *(const u32 *)test->param_value;
	struct guestmem *gm = test->priv;
	u64 m = gmt_mask(size);
	u64 wide[] = { m + 1, U64_MAX, BIT_ULL(63), m + 1 + (GMT_INIT & m) };
	u8 before[8], after[8];
	unsigned int c, k;

	gmt_pattern(before, sizeof(before), 11);
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(1), before, sizeof(before)), 0);
	gmt_dirty(test, gm, 0, 2);

	for (k = 0; k < ARRAY_SIZE(wide); k++) {
		for (c = 0; c < ARRAY_SIZE(gmt_op_cases); c++) {
			const struct gmt_op_case *oc = &gmt_op_cases[c];
			u64 v = wide[k];

			if (oc->op == GUESTMEM_ATOMIC_LOAD)
				continue;
			KUNIT_EXPECT_EQ_MSG(test, guestmem_atomic(gm, GMT_P(1), size,
								  oc->op, &v, 0),
					    -EINVAL, "%s of size %u with value %#llx",
					    oc->name, size, wide[k]);
		}
		/* A valid value, but an expected value too wide. */
		KUNIT_EXPECT_EQ_MSG(test,
				    guestmem_atomic(gm, GMT_P(1), size,
						    GUESTMEM_ATOMIC_CMPXCHG,
						    &(u64){ 0 }, wide[k]),
				    -EINVAL, "CMPXCHG of size %u expecting %#llx",
				    size, wide[k]);
	}
	/* Exactly @size bytes of operand is fine; LOAD ignores it all. */
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(1) + 8, size,
					      GUESTMEM_ATOMIC_STORE, &m, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(1) + 8, size,
					      GUESTMEM_ATOMIC_LOAD,
					      &(u64){ U64_MAX }, 0), 0);
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, GMT_P(1), after, sizeof(after)), 0);
	gmt_bytes_eq(test, after, before, sizeof(after), "after too wide operands");
	/* Only the valid STORE at page 1 wrote. */
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 0, 2), BIT(1));
}

/* READONLY: LOAD works, every other op is EACCES, even a failing CMPXCHG. */
static void guestmem_test_atomic_readonly(struct kunit *test)
{
	const struct gmt_op_case *oc = test->param_value;
	struct guestmem *gm = test->priv;
	unsigned int s, i;
	u8 page[64];

	for (s = 0; s < ARRAY_SIZE(gmt_sizes); s++) {
		u32 size = gmt_sizes[s];

		for (i = 0; i < 2; i++) {
			u64 gpa = i ? GMT_P(3) - size : GMT_P(2);
			u64 v = 1, expected = oc->cmp == GMT_CMP_MATCH ? 0 : 1;
			int want = oc->op == GUESTMEM_ATOMIC_LOAD ? 0 : -EACCES;

			if (oc->op == GUESTMEM_ATOMIC_LOAD)
				v = U64_MAX;
			KUNIT_EXPECT_EQ_MSG(test, guestmem_atomic(gm, gpa, size, oc->op,
								  &v, expected),
					    want, "%s of size %u on R", oc->name, size);
			if (oc->op == GUESTMEM_ATOMIC_LOAD)
				KUNIT_EXPECT_EQ(test, v, 0ULL);
		}
	}
	memset(page, 0xee, sizeof(page));
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, GMT_P(2), page, sizeof(page)), 0);
	gmt_all_bytes(test, page, 0, sizeof(page), "R after atomics");
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, GMT_P(3) - sizeof(page), page,
					    sizeof(page)), 0);
	gmt_all_bytes(test, page, 0, sizeof(page), "end of R after atomics");
}

/* Unbacked objects are ENXIO for every op, LOAD included. */
static void guestmem_test_atomic_hole(struct kunit *test)
{
	const struct gmt_op_case *oc = test->param_value;
	struct guestmem *gm = test->priv;
	unsigned int s, i;

	for (s = 0; s < ARRAY_SIZE(gmt_sizes); s++) {
		u32 size = gmt_sizes[s];
		u64 gpas[] = { GMT_P(3), GMT_P(4) - size, GMT_P(5), 0,
			       GMT_P(0) - size, U64_MAX - size + 1 };

		for (i = 0; i < ARRAY_SIZE(gpas); i++) {
			u64 v = 1;

			KUNIT_EXPECT_EQ_MSG(test, guestmem_atomic(gm, gpas[i], size,
								  oc->op, &v, 1),
					    -ENXIO, "%s of size %u at %#llx",
					    oc->name, size, gpas[i]);
		}
	}
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 0, 2), 0UL);
}

/* The last object of the 64-bit space. */
static void guestmem_test_atomic_top(struct kunit *test)
{
	const u32 *sizep = test->param_value;
	const u32 size = *sizep;
	unsigned int s = sizep - gmt_sizes;
	struct guestmem *gm = test->priv;
	u64 gpa = U64_MAX - size + 1, v = (GMT_OPERAND + s) & gmt_mask(size);
	u8 tail[8];

	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_TOP_PAGE, PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, size, GUESTMEM_ATOMIC_XCHG,
					      &v, 0), 0);
	v = 1;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, size,
					      GUESTMEM_ATOMIC_FETCH_ADD, &v, 0), 0);
	KUNIT_EXPECT_EQ(test, v, (GMT_OPERAND + s) & gmt_mask(size));
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, gpa, tail, size), 0);
	KUNIT_EXPECT_EQ(test, gmt_get(tail, size),
			(GMT_OPERAND + s + 1) & gmt_mask(size));
}

#define GMT_RACE_ITERS	10000

struct gmt_racer {
	struct guestmem *gm;
	u64 gpa;
	unsigned int id;
	unsigned int errors;
};

/*
 * One 8-byte word of P holds a u32 bumped with FETCH_ADD, a u16 bumped
 * with LOAD + CMPXCHG retry loops, a u8 bumped by 3 with FETCH_ADD (it
 * wraps) and a u8 of flags set with FETCH_OR: each op hits its own bytes
 * of the word, so an access wider than asked would lose updates.
 */
static int gmt_racer_fn(void *data)
{
	struct gmt_racer *r = data;
	unsigned int i;

	for (i = 0; i < GMT_RACE_ITERS; i++) {
		u64 v = 1, old = 0;
		int ret;

		ret = guestmem_atomic(r->gm, r->gpa, 4, GUESTMEM_ATOMIC_FETCH_ADD, &v, 0);
		ret |= guestmem_atomic(r->gm, r->gpa + 4, 2, GUESTMEM_ATOMIC_LOAD, &old, 0);
		while (!ret) {
			v = (old + 1) & 0xffff;
			ret = guestmem_atomic(r->gm, r->gpa + 4, 2, GUESTMEM_ATOMIC_CMPXCHG,
					      &v, old);
			if (v == old)
				break;
			old = v;
		}
		v = 3;
		ret |= guestmem_atomic(r->gm, r->gpa + 6, 1, GUESTMEM_ATOMIC_FETCH_ADD, &v, 0);
		v = BIT((i + r->id) % 8);
		ret |= guestmem_atomic(r->gm, r->gpa + 7, 1, GUESTMEM_ATOMIC_FETCH_OR, &v, 0);
		if (ret)
			r->errors++;
		if (i % 64 == 0)
			cond_resched();
	}
	return 0;
}

/* Threads hammering one word: every update is counted exactly. */
static void guestmem_test_atomic_race(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct gmt_racer racers[GMT_RACERS];
	struct gmt_threads th;
	unsigned int i, n, errors = 0;
	u64 gpa = GMT_P(4) + 256, total = (u64)GMT_RACERS * GMT_RACE_ITERS;
	u8 word[8];

	for (i = 0; i < GMT_RACERS; i++)
		racers[i] = (struct gmt_racer){ .gm = gm, .gpa = gpa, .id = i };
	n = gmt_threads_start(test, &th, gmt_racer_fn, racers, sizeof(racers[0]),
			      "gmt_racer");
	gmt_threads_stop(&th);
	for (i = 0; i < n; i++)
		errors += racers[i].errors;
	KUNIT_ASSERT_EQ(test, n, GMT_RACERS);
	KUNIT_EXPECT_EQ(test, errors, 0U);
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, gpa, word, sizeof(word)), 0);
	KUNIT_EXPECT_EQ(test, gmt_get(word, 4), total);
	KUNIT_EXPECT_EQ(test, gmt_get(word + 4, 2), total & 0xffff);
	KUNIT_EXPECT_EQ(test, gmt_get(word + 6, 1), (3 * total) & 0xff);
	KUNIT_EXPECT_EQ(test, gmt_get(word + 7, 1), 0xffULL);
}

static struct kunit_case guestmem_atomic_cases[] = {
	KUNIT_CASE_PARAM(guestmem_test_atomic_ops, atomic_op_gen_params),
	KUNIT_CASE(guestmem_test_atomic_sequence),
	KUNIT_CASE_PARAM(guestmem_test_atomic_host_order_load, atomic_size_gen_params),
	KUNIT_CASE(guestmem_test_atomic_host_order_store),
	KUNIT_CASE_PARAM(guestmem_test_atomic_alignment, atomic_op_gen_params),
	KUNIT_CASE_PARAM(guestmem_test_atomic_bad_size, atomic_bad_size_gen_params),
	KUNIT_CASE_PARAM(guestmem_test_atomic_bad_op, atomic_bad_op_gen_params),
	KUNIT_CASE_PARAM(guestmem_test_atomic_operand_bits,
			 atomic_operand_bits_gen_params),
	KUNIT_CASE_PARAM(guestmem_test_atomic_readonly, atomic_op_gen_params),
	KUNIT_CASE_PARAM(guestmem_test_atomic_hole, atomic_op_gen_params),
	KUNIT_CASE_PARAM(guestmem_test_atomic_top, atomic_size_gen_params),
	KUNIT_CASE(guestmem_test_atomic_race),
	{}
};

static struct kunit_suite guestmem_atomic_suite = {
	.name = "guestmem_atomic",
	.init = gmt_atomic_init,
	.test_cases = guestmem_atomic_cases,
};

kunit_test_suite(guestmem_atomic_suite);
