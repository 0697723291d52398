// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for the device-emulation toolkit of guestmem, run through the
 * exported in-kernel API of include/linux/guestmem.h only (this is a separate
 * module, guestmem_kunit_toolkit.ko; guestmem_kunit.ko covers the core):
 *
 *   guestmem_atomic     guestmem_atomic(): every op at sizes 1, 2, 4 and 8,
 *                       results, zero-extension, host byte order, alignment,
 *                       sizes, ops and operand widths, read-only regions,
 *                       holes, dirty marking, and a race between threads
 *   guestmem_fill       guestmem_fill(): exact semantics across regions
 *   guestmem_copy       guestmem_copy(): memmove() semantics within and
 *                       across regions, exact failures
 *   guestmem_dirty_log  guestmem_get_dirty_log(), guestmem_mark_dirty() and
 *                       the pages each write path marks
 *   guestmem_cache      struct guestmem_cache across region adds/removals
 *
 * Only VMALLOC regions are used: the tests run in a kthread, which has no
 * user memory to pin.  Each test's space is dropped when the test ends,
 * which frees all of its regions.
 */
#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/guestmem.h>
#include "guestmem_kunit.h"

/* Address of page @n. */
#define GMT_PG(n)	((u64)(n) * PAGE_SIZE)
/* First byte of the last page of the 64-bit space. */
#define GMT_TOP_PAGE	(U64_MAX - PAGE_SIZE + 1)
/* Every suite lays out its regions from here. */
#define GMT_BASE	((u64)SZ_1G)
/* Guest address of page @n of a suite's layout. */
#define GMT_P(n)	(GMT_BASE + GMT_PG(n))

KUNIT_DEFINE_ACTION_WRAPPER(gmt_put_action, guestmem_put, struct guestmem *);

/* A new empty space, dropped when the test ends. */
static struct guestmem *gmt_create(struct kunit *test)
{
	struct guestmem *gm = guestmem_create();

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, gmt_put_action, gm), 0);
	return gm;
}

/* Add a VMALLOC region of @pages pages at page @first of the layout. */
static int gmt_add(struct guestmem *gm, unsigned int first, unsigned int pages,
		   u32 flags)
{
	struct guestmem_region desc = {
		.gpa = GMT_P(first),
		.size = GMT_PG(pages),
		.backing = GUESTMEM_BACKING_VMALLOC,
		.flags = flags,
	};

	return guestmem_add_region(gm, &desc);
}

/* All-ones in the low @size bytes. */
static u64 gmt_mask(u32 size)
{
	return size >= 8 ? U64_MAX : BIT_ULL(size * 8) - 1;
}

/* Store @v as a host-order integer of @size bytes at @p (any alignment). */
static void gmt_put(u8 *p, u32 size, u64 v)
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
static u64 gmt_get(const u8 *p, u32 size)
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
 * @first; a failure or a write past the one-word bitmap is reported.
 */
static unsigned long gmt_dirty(struct kunit *test, struct guestmem *gm,
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

static const u32 gmt_sizes[] = { 1, 2, 4, 8 };

/* ------------------------------------------------------------------------ */
/* guestmem_atomic                                                          */
/* ------------------------------------------------------------------------ */

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

	KUNIT_ASSERT_EQ(test, gmt_add(gm, 0, 2, GUESTMEM_REGION_DIRTY_LOG), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 2, 1, GUESTMEM_REGION_READONLY), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 4, 1, 0), 0);
	test->priv = gm;
	return 0;
}

enum gmt_cmp { GMT_CMP_NONE, GMT_CMP_MATCH, GMT_CMP_MISMATCH };

struct gmt_op_case {
	const char *name;
	u32 op;
	enum gmt_cmp cmp;
};

static const struct gmt_op_case gmt_op_cases[] = {
	{ "LOAD", GUESTMEM_ATOMIC_LOAD },
	{ "STORE", GUESTMEM_ATOMIC_STORE },
	{ "XCHG", GUESTMEM_ATOMIC_XCHG },
	{ "CMPXCHG (match)", GUESTMEM_ATOMIC_CMPXCHG, GMT_CMP_MATCH },
	{ "CMPXCHG (mismatch)", GUESTMEM_ATOMIC_CMPXCHG, GMT_CMP_MISMATCH },
	{ "FETCH_ADD", GUESTMEM_ATOMIC_FETCH_ADD },
	{ "FETCH_OR", GUESTMEM_ATOMIC_FETCH_OR },
	{ "FETCH_AND", GUESTMEM_ATOMIC_FETCH_AND },
};

/* The content before each op: the top bit of every size is set. */
#define GMT_INIT	0xf6e5d4c3b2a19887ULL
#define GMT_OPERAND	0x8d7c6b5a49382716ULL
/* Added to GMT_INIT, this carries out of every size. */
#define GMT_ADDEND	0xd3c2b1a0f9e8d7c6ULL

/* What an op is given and what it must leave behind. */
struct gmt_op_want {
	u64 in;		/* *value on entry */
	u64 expected;	/* CMPXCHG's expected */
	u64 out;	/* *value on return */
	u64 mem;	/* the object's content afterwards */
	bool dirty;	/* whether its page is then dirty */
};

static struct gmt_op_want gmt_op_model(const struct gmt_op_case *c, u32 size)
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

/* Every op at every size: result, zero-extension, memory, neighbours. */
static void gm_atomic_ops(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	unsigned int s, c, p;

	for (s = 0; s < ARRAY_SIZE(gmt_sizes); s++)
		for (c = 0; c < ARRAY_SIZE(gmt_op_cases); c++)
			for (p = 0; p < ARRAY_SIZE(gmt_slots); p++)
				gmt_atomic_one(test, gm, gmt_slots[p], gmt_sizes[s],
					       &gmt_op_cases[c]);
}

/* Ops chained on one object, as a device model would use them. */
static void gm_atomic_sequence(struct kunit *test)
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

/* Values are in host byte order, as guestmem_read() sees them. */
static void gm_atomic_host_order(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 gpa = GMT_P(4) + 128, v;
	u8 bytes[8], got[8];
	unsigned int s, i;

	gmt_pattern(bytes, sizeof(bytes), 5);
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, gpa, bytes, sizeof(bytes)), 0);
	for (s = 0; s < ARRAY_SIZE(gmt_sizes); s++) {
		u32 size = gmt_sizes[s];

		for (i = 0; i < sizeof(bytes); i += size) {
			v = U64_MAX;
			KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa + i, size,
							      GUESTMEM_ATOMIC_LOAD, &v, 0), 0);
			KUNIT_EXPECT_EQ_MSG(test, v, gmt_get(bytes + i, size),
					    "LOAD of size %u at +%u", size, i);
		}
	}

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
static void gm_atomic_alignment(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u8 *before, *after;
	unsigned int s, c, mis, k;

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

				for (c = 0; c < ARRAY_SIZE(gmt_op_cases); c++) {
					const struct gmt_op_case *oc = &gmt_op_cases[c];
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
	}
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, GMT_P(0), after, GMT_PG(2)), 0);
	gmt_bytes_eq(test, after, before, GMT_PG(2), "W after misaligned atomics");
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 0, 2), 0UL);
}

/* Sizes other than 1, 2, 4, 8 and unknown ops are EINVAL. */
static void gm_atomic_bad_size_op(struct kunit *test)
{
	static const u32 sizes[] = { 0, 3, 5, 6, 7, 9, 16, 32, U32_MAX };
	static const u32 ops[] = { GUESTMEM_ATOMIC_FETCH_AND + 1, 8, 0x100, U32_MAX };
	struct guestmem *gm = test->priv;
	unsigned int i, c;
	u64 v;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (c = 0; c < ARRAY_SIZE(gmt_op_cases); c++) {
			v = 0;
			KUNIT_EXPECT_EQ_MSG(test, guestmem_atomic(gm, GMT_P(4), sizes[i],
								  gmt_op_cases[c].op, &v, 0),
					    -EINVAL, "%s of size %u", gmt_op_cases[c].name,
					    sizes[i]);
		}
	}
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		for (c = 0; c < ARRAY_SIZE(gmt_sizes); c++) {
			v = 0;
			KUNIT_EXPECT_EQ_MSG(test, guestmem_atomic(gm, GMT_P(4), gmt_sizes[c],
								  ops[i], &v, 0),
					    -EINVAL, "op %u of size %u", ops[i], gmt_sizes[c]);
		}
	}
	v = 0;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(4), 8, GUESTMEM_ATOMIC_LOAD, &v, 0), 0);
	KUNIT_EXPECT_EQ(test, v, 0ULL);
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 0, 2), 0UL);
}

/* Operand bits above @size are EINVAL, in value and in CMPXCHG's expected. */
static void gm_atomic_operand_bits(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u8 before[8], after[8];
	unsigned int s, c, k;

	gmt_pattern(before, sizeof(before), 11);
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(1), before, sizeof(before)), 0);
	gmt_dirty(test, gm, 0, 2);

	for (s = 0; s < ARRAY_SIZE(gmt_sizes) - 1; s++) {
		u32 size = gmt_sizes[s];
		u64 m = gmt_mask(size);
		u64 wide[] = { m + 1, U64_MAX, BIT_ULL(63), m + 1 + (GMT_INIT & m) };

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
	}
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, GMT_P(1), after, sizeof(after)), 0);
	gmt_bytes_eq(test, after, before, sizeof(after), "after too wide operands");
	/* Only the valid STOREs at page 1 wrote. */
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 0, 2), BIT(1));
}

/* READONLY: LOAD works, every other op is EACCES, even a failing CMPXCHG. */
static void gm_atomic_readonly(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	unsigned int s, c, i;
	u8 page[64];

	for (s = 0; s < ARRAY_SIZE(gmt_sizes); s++) {
		u32 size = gmt_sizes[s];

		for (i = 0; i < 2; i++) {
			u64 gpa = i ? GMT_P(3) - size : GMT_P(2);

			for (c = 0; c < ARRAY_SIZE(gmt_op_cases); c++) {
				const struct gmt_op_case *oc = &gmt_op_cases[c];
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
	}
	memset(page, 0xee, sizeof(page));
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, GMT_P(2), page, sizeof(page)), 0);
	gmt_all_bytes(test, page, 0, sizeof(page), "R after atomics");
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, GMT_P(3) - sizeof(page), page,
					    sizeof(page)), 0);
	gmt_all_bytes(test, page, 0, sizeof(page), "end of R after atomics");
}

/* Unbacked objects are ENXIO for every op, LOAD included. */
static void gm_atomic_hole(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	unsigned int s, c, i;

	for (s = 0; s < ARRAY_SIZE(gmt_sizes); s++) {
		u32 size = gmt_sizes[s];
		u64 gpas[] = { GMT_P(3), GMT_P(4) - size, GMT_P(5), 0,
			       GMT_P(0) - size, U64_MAX - size + 1 };

		for (i = 0; i < ARRAY_SIZE(gpas); i++) {
			for (c = 0; c < ARRAY_SIZE(gmt_op_cases); c++) {
				const struct gmt_op_case *oc = &gmt_op_cases[c];
				u64 v = 1;

				KUNIT_EXPECT_EQ_MSG(test, guestmem_atomic(gm, gpas[i], size,
									  oc->op, &v, 1),
						    -ENXIO, "%s of size %u at %#llx",
						    oc->name, size, gpas[i]);
			}
		}
	}
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 0, 2), 0UL);
}

/* The last object of the 64-bit space. */
static void gm_atomic_top(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct guestmem_region desc = {
		.gpa = GMT_TOP_PAGE,
		.size = PAGE_SIZE,
		.backing = GUESTMEM_BACKING_VMALLOC,
	};
	unsigned int s;
	u8 tail[8];

	KUNIT_ASSERT_EQ(test, guestmem_add_region(gm, &desc), 0);
	for (s = 0; s < ARRAY_SIZE(gmt_sizes); s++) {
		u32 size = gmt_sizes[s];
		u64 gpa = U64_MAX - size + 1, v = (GMT_OPERAND + s) & gmt_mask(size);

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
}

#define GMT_RACERS	4U
#define GMT_RACE_ITERS	10000

struct gmt_racer {
	struct guestmem *gm;
	u64 gpa;
	unsigned int id;
	unsigned int errors;
	struct completion started;
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

	complete(&r->started);
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
static void gm_atomic_race(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct task_struct *tasks[GMT_RACERS];
	struct gmt_racer racers[GMT_RACERS];
	unsigned int i, n = 0, errors = 0;
	u64 gpa = GMT_P(4) + 256, total = (u64)GMT_RACERS * GMT_RACE_ITERS;
	u8 word[8];

	for (i = 0; i < GMT_RACERS; i++) {
		struct task_struct *t;

		racers[i] = (struct gmt_racer){ .gm = gm, .gpa = gpa, .id = i };
		init_completion(&racers[i].started);
		t = kthread_create(gmt_racer_fn, &racers[i], "gmt_racer/%u", i);
		if (IS_ERR(t)) {
			KUNIT_FAIL(test, "kthread_create: %ld", PTR_ERR(t));
			break;
		}
		get_task_struct(t);
		tasks[n++] = t;
		wake_up_process(t);
	}
	/* A thread stopped before it ran would skip its function. */
	for (i = 0; i < n; i++)
		wait_for_completion(&racers[i].started);
	for (i = 0; i < n; i++) {
		kthread_stop(tasks[i]);
		put_task_struct(tasks[i]);
		errors += racers[i].errors;
	}
	KUNIT_ASSERT_EQ(test, n, GMT_RACERS);
	KUNIT_EXPECT_EQ(test, errors, 0U);
	KUNIT_ASSERT_EQ(test, guestmem_read(gm, gpa, word, sizeof(word)), 0);
	KUNIT_EXPECT_EQ(test, gmt_get(word, 4), total);
	KUNIT_EXPECT_EQ(test, gmt_get(word + 4, 2), total & 0xffff);
	KUNIT_EXPECT_EQ(test, gmt_get(word + 6, 1), (3 * total) & 0xff);
	KUNIT_EXPECT_EQ(test, gmt_get(word + 7, 1), 0xffULL);
}

static struct kunit_case gm_atomic_cases[] = {
	KUNIT_CASE(gm_atomic_ops),
	KUNIT_CASE(gm_atomic_sequence),
	KUNIT_CASE(gm_atomic_host_order),
	KUNIT_CASE(gm_atomic_alignment),
	KUNIT_CASE(gm_atomic_bad_size_op),
	KUNIT_CASE(gm_atomic_operand_bits),
	KUNIT_CASE(gm_atomic_readonly),
	KUNIT_CASE(gm_atomic_hole),
	KUNIT_CASE(gm_atomic_top),
	KUNIT_CASE(gm_atomic_race),
	{}
};

static struct kunit_suite gm_atomic_suite = {
	.name = "guestmem_atomic",
	.init = gmt_atomic_init,
	.test_cases = gm_atomic_cases,
};

/* ------------------------------------------------------------------------ */
/* guestmem_fill and guestmem_copy                                          */
/* ------------------------------------------------------------------------ */

/*
 * The layout of the fill and copy suites, in pages from GMT_BASE:
 *
 *   0      A   read-write
 *   1-2    B   read-write
 *   3      C   read-write
 *   4          hole
 *   5      R   READONLY
 *   6      D   read-write
 *   7      S   READONLY
 *
 * The read-write regions start with a pattern; a shadow copy of all eight
 * pages (the model) says what guest memory must contain, and
 * gmt_check_model() compares every backed byte with it.
 */
#define GMT_FC_PAGES	8

static const struct {
	unsigned int first, pages;
	u32 flags;
} gmt_fc_regions[] = {
	{ 0, 1, 0 },
	{ 1, 2, 0 },
	{ 3, 1, 0 },
	{ 5, 1, GUESTMEM_REGION_READONLY },
	{ 6, 1, 0 },
	{ 7, 1, GUESTMEM_REGION_READONLY },
};

struct gmt_ctx {
	struct guestmem *gm;
	u8 *model;
	u8 *buf;
};

/* Fill the read-write regions A-C and D with a pattern, and the model. */
static void gmt_repattern(struct kunit *test, struct gmt_ctx *ctx, unsigned int seed)
{
	gmt_pattern(ctx->model, GMT_PG(4), seed);
	gmt_pattern(ctx->model + GMT_PG(6), GMT_PG(1), seed + 1);
	KUNIT_ASSERT_EQ(test, guestmem_write(ctx->gm, GMT_P(0), ctx->model, GMT_PG(4)), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write(ctx->gm, GMT_P(6), ctx->model + GMT_PG(6),
					     GMT_PG(1)), 0);
}

static int gmt_fc_init(struct kunit *test)
{
	struct gmt_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx);
	ctx->model = kunit_kzalloc(test, GMT_PG(GMT_FC_PAGES), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->model);
	ctx->buf = kunit_kzalloc(test, GMT_PG(GMT_FC_PAGES), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->buf);
	ctx->gm = gmt_create(test);
	for (i = 0; i < ARRAY_SIZE(gmt_fc_regions); i++)
		KUNIT_ASSERT_EQ(test, gmt_add(ctx->gm, gmt_fc_regions[i].first,
					      gmt_fc_regions[i].pages,
					      gmt_fc_regions[i].flags), 0);
	gmt_repattern(test, ctx, 1);
	test->priv = ctx;
	return 0;
}

/* Guest memory equals the model, region by region and in two sweeps. */
static void gmt_check_model(struct kunit *test, struct gmt_ctx *ctx,
			    const char *what)
{
	static const struct {
		unsigned int first, pages;
	} spans[] = { { 0, 1 }, { 1, 2 }, { 3, 1 }, { 5, 1 }, { 6, 1 }, { 7, 1 },
		      { 0, 4 }, { 5, 3 } };
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(spans); i++) {
		u64 off = GMT_PG(spans[i].first), len = GMT_PG(spans[i].pages);

		memset(ctx->buf, 0xee, len);
		ret = guestmem_read(ctx->gm, GMT_BASE + off, ctx->buf, len);
		KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s: reading pages %u-%u", what,
				    spans[i].first, spans[i].first + spans[i].pages - 1);
		if (ret)
			continue;
		if (!gmt_bytes_eq(test, ctx->buf, ctx->model + off, len, what))
			break;
	}
}

/* guestmem_fill() at page offset @off of the layout; expect @want. */
static void gmt_fill(struct kunit *test, struct gmt_ctx *ctx, u64 off, u64 len,
		     u8 value, int want)
{
	char what[96];
	int ret;

	snprintf(what, sizeof(what), "fill of %llu bytes of 0x%02x at +%#llx",
		 len, value, off);
	ret = guestmem_fill(ctx->gm, GMT_BASE + off, value, len);
	KUNIT_EXPECT_EQ_MSG(test, ret, want, "%s", what);
	if (!ret && !want)
		memset(ctx->model + off, value, len);
	gmt_check_model(test, ctx, what);
}

/* Within one region, exactly the bytes asked for. */
static void gm_fill_exact(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_fill(test, ctx, GMT_PG(1) + 3, 100, 0xa5, 0);
	gmt_fill(test, ctx, GMT_PG(1) + 200, 1, 0x00, 0);
	gmt_fill(test, ctx, GMT_PG(2) - 5, 10, 0xff, 0);	/* B's page boundary */
	gmt_fill(test, ctx, 0, GMT_PG(1), 0x3c, 0);		/* all of A */
	gmt_fill(test, ctx, GMT_PG(7) - 1, 1, 0x81, 0);	/* D's last byte */
	gmt_fill(test, ctx, GMT_PG(6), 1, 0x18, 0);		/* D's first byte */
}

/* Across two and three regions, and all of A-C. */
static void gm_fill_cross(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_fill(test, ctx, GMT_PG(1) - 7, 14, 0x11, 0);
	gmt_fill(test, ctx, GMT_PG(3) - 1, 2, 0x22, 0);
	gmt_fill(test, ctx, GMT_PG(1) - 7, GMT_PG(2) + 16, 0x33, 0);
	gmt_fill(test, ctx, 1, GMT_PG(4) - 2, 0x44, 0);
	gmt_fill(test, ctx, 0, GMT_PG(4), 0x00, 0);
}

/* A read-only byte anywhere in the range: EACCES, nothing written. */
static void gm_fill_readonly(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_fill(test, ctx, GMT_PG(5), GMT_PG(1), 0x55, -EACCES);
	gmt_fill(test, ctx, GMT_PG(5) + 9, 1, 0x55, -EACCES);
	gmt_fill(test, ctx, GMT_PG(6) - 1, 2, 0x55, -EACCES);		/* R, D */
	gmt_fill(test, ctx, GMT_PG(7) - 3, 6, 0x55, -EACCES);		/* D, S */
	gmt_fill(test, ctx, GMT_PG(6), GMT_PG(2), 0x55, -EACCES);	/* D, S */
	gmt_fill(test, ctx, GMT_PG(5), GMT_PG(3), 0x55, -EACCES);	/* R, D, S */
}

/* An unbacked byte anywhere in the range: ENXIO, nothing written. */
static void gm_fill_hole(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_fill(test, ctx, GMT_PG(4) - 5, 10, 0x66, -ENXIO);		/* C, hole */
	gmt_fill(test, ctx, GMT_PG(4) - 1, 2, 0x66, -ENXIO);
	gmt_fill(test, ctx, 0, GMT_PG(5), 0x66, -ENXIO);		/* A-C, hole */
	gmt_fill(test, ctx, 1, GMT_PG(8), 0x66, -ENXIO);
	gmt_fill(test, ctx, GMT_PG(4), 1, 0x66, -ENXIO);
	gmt_fill(test, ctx, GMT_PG(4) + 17, GMT_PG(1), 0x66, -ENXIO);	/* hole, R */
	gmt_fill(test, ctx, -GMT_PG(1), GMT_PG(1) + 1, 0x66, -ENXIO);	/* hole, A */
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, 0, 0x66, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, U64_MAX, 0x66, 1), -ENXIO);
	gmt_check_model(test, ctx, "after fills of holes");
}

/* Ranges past 2^64 - 1 are EOVERFLOW; empty ones succeed anywhere. */
static void gm_fill_overflow_zero(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;
	struct guestmem_region desc = {
		.gpa = GMT_TOP_PAGE,
		.size = PAGE_SIZE,
		.backing = GUESTMEM_BACKING_VMALLOC,
	};
	u8 top[2];

	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, U64_MAX, 0x77, 2), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, GMT_P(0), 0x77, U64_MAX), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, 2, 0x77, U64_MAX), -EOVERFLOW);
	/* [1, 2^64) ends exactly at the last byte: no overflow, just a hole. */
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, 1, 0x77, U64_MAX), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, GMT_TOP_PAGE, 0x77, PAGE_SIZE + 1),
			-EOVERFLOW);

	gmt_fill(test, ctx, 5, 0, 0x77, 0);
	gmt_fill(test, ctx, GMT_PG(4), 0, 0x77, 0);	/* hole */
	gmt_fill(test, ctx, GMT_PG(5), 0, 0x77, 0);	/* read-only */
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, U64_MAX, 0x77, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, 0, 0x77, 0), 0);

	/* The last bytes of the space can be filled once backed. */
	KUNIT_ASSERT_EQ(test, guestmem_add_region(ctx->gm, &desc), 0);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, GMT_TOP_PAGE, 0x12, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, U64_MAX, 0x34, 1), 0);
	KUNIT_ASSERT_EQ(test, guestmem_read(ctx->gm, U64_MAX - 1, top, 2), 0);
	KUNIT_EXPECT_EQ(test, top[0], 0x12);
	KUNIT_EXPECT_EQ(test, top[1], 0x34);
	KUNIT_EXPECT_EQ(test, guestmem_fill(ctx->gm, U64_MAX, 0x34, 2), -EOVERFLOW);
	gmt_check_model(test, ctx, "after overflowing and empty fills");
}

static struct kunit_case gm_fill_cases[] = {
	KUNIT_CASE(gm_fill_exact),
	KUNIT_CASE(gm_fill_cross),
	KUNIT_CASE(gm_fill_readonly),
	KUNIT_CASE(gm_fill_hole),
	KUNIT_CASE(gm_fill_overflow_zero),
	{}
};

static struct kunit_suite gm_fill_suite = {
	.name = "guestmem_fill",
	.init = gmt_fc_init,
	.test_cases = gm_fill_cases,
};

/* guestmem_copy() between page offsets of the layout; expect @want. */
static void gmt_copy(struct kunit *test, struct gmt_ctx *ctx, u64 dst, u64 src,
		     u64 len, int want)
{
	char what[96];
	int ret;

	snprintf(what, sizeof(what), "copy of %llu bytes from +%#llx to +%#llx",
		 len, src, dst);
	ret = guestmem_copy(ctx->gm, GMT_BASE + dst, GMT_BASE + src, len);
	KUNIT_EXPECT_EQ_MSG(test, ret, want, "%s", what);
	if (!ret && !want)
		memmove(ctx->model + dst, ctx->model + src, len);
	gmt_check_model(test, ctx, what);
}

/* Disjoint ranges, inside one region and between regions. */
static void gm_copy_disjoint(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_copy(test, ctx, GMT_PG(1) + 10, GMT_PG(2) + 100, 500, 0);	/* in B */
	gmt_copy(test, ctx, GMT_PG(2) + 100, GMT_PG(1) + 10, 500, 0);
	gmt_copy(test, ctx, GMT_PG(6) + 10, GMT_PG(1) - 20, 40, 0);	/* A+B to D */
	gmt_copy(test, ctx, GMT_PG(3) - 30, GMT_PG(6) + 1, 100, 0);	/* D to B+C */
	gmt_copy(test, ctx, GMT_PG(6), 0, GMT_PG(1), 0);		/* A to D */
	gmt_copy(test, ctx, 0, GMT_PG(3), GMT_PG(1), 0);		/* C to A */
	gmt_copy(test, ctx, GMT_PG(2), GMT_PG(6), GMT_PG(1), 0);		/* D to B */
}

/* Overlapping ranges inside one region, both directions. */
static void gm_copy_overlap_region(struct kunit *test)
{
	static const u64 shifts[] = { 1, 3, 8, 255, GMT_PG(1) - 1, GMT_PG(1), GMT_PG(1) + 1 };
	struct gmt_ctx *ctx = test->priv;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(shifts); i++) {
		u64 s = shifts[i], len = GMT_PG(2) - s - 6;

		gmt_repattern(test, ctx, 10 + i);
		gmt_copy(test, ctx, GMT_PG(1) + 2, GMT_PG(1) + 2 + s, len, 0);	/* down */
		gmt_repattern(test, ctx, 30 + i);
		gmt_copy(test, ctx, GMT_PG(1) + 2 + s, GMT_PG(1) + 2, len, 0);	/* up */
	}
	/* Onto itself: nothing changes. */
	gmt_copy(test, ctx, GMT_PG(1) + 5, GMT_PG(1) + 5, 1000, 0);
	gmt_copy(test, ctx, 0, 0, GMT_PG(4), 0);
}

/*
 * Overlapping ranges that both span A, B and C, both directions: the
 * pieces of the source and of the destination end at different places.
 */
static void gm_copy_overlap_three(struct kunit *test)
{
	static const u64 shifts[] = { 1, 7, GMT_PG(1) - 1, GMT_PG(1), GMT_PG(1) + 1,
				      GMT_PG(2) - 3, GMT_PG(2) + 3 };
	struct gmt_ctx *ctx = test->priv;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(shifts); i++) {
		u64 s = shifts[i], len = GMT_PG(4) - s - 2;

		gmt_repattern(test, ctx, 50 + i);
		gmt_copy(test, ctx, 1, 1 + s, len, 0);	/* down */
		gmt_repattern(test, ctx, 70 + i);
		gmt_copy(test, ctx, 1 + s, 1, len, 0);	/* up */
	}
	/* The whole of A-C moved by one byte each way. */
	gmt_repattern(test, ctx, 90);
	gmt_copy(test, ctx, 0, 1, GMT_PG(4) - 1, 0);
	gmt_repattern(test, ctx, 91);
	gmt_copy(test, ctx, 1, 0, GMT_PG(4) - 1, 0);
}

/* Exact: any failure leaves guest memory untouched. */
static void gm_copy_failures(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	/* Unbacked source or destination bytes. */
	gmt_copy(test, ctx, 0, GMT_PG(4) - 1, 2, -ENXIO);
	gmt_copy(test, ctx, 0, GMT_PG(4), 1, -ENXIO);
	gmt_copy(test, ctx, GMT_PG(1), GMT_PG(3), GMT_PG(1) + 1, -ENXIO);
	gmt_copy(test, ctx, GMT_PG(4) - 1, 0, 2, -ENXIO);
	gmt_copy(test, ctx, GMT_PG(3), 0, GMT_PG(2), -ENXIO);
	gmt_copy(test, ctx, 1, 0, GMT_PG(4) + 1, -ENXIO);	/* overlapping */
	gmt_copy(test, ctx, 0, 1, GMT_PG(4) + 1, -ENXIO);
	gmt_copy(test, ctx, 0, -GMT_PG(1), GMT_PG(1), -ENXIO);

	/* Read-only destination bytes. */
	gmt_copy(test, ctx, GMT_PG(5), 0, 1, -EACCES);
	gmt_copy(test, ctx, GMT_PG(5), GMT_PG(1), GMT_PG(1), -EACCES);
	gmt_copy(test, ctx, GMT_PG(7) - 1, 0, 2, -EACCES);		/* D, S */
	gmt_copy(test, ctx, GMT_PG(6), GMT_PG(1), GMT_PG(2), -EACCES);
	gmt_copy(test, ctx, GMT_PG(5), GMT_PG(5), 8, -EACCES);		/* onto itself */
	gmt_copy(test, ctx, GMT_PG(5) + 1, GMT_PG(5), GMT_PG(2), -EACCES);

	/* Ranges past 2^64 - 1. */
	KUNIT_EXPECT_EQ(test, guestmem_copy(ctx->gm, U64_MAX, GMT_P(0), 2), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_copy(ctx->gm, GMT_P(0), U64_MAX, 2), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_copy(ctx->gm, GMT_P(0), GMT_P(1), U64_MAX),
			-EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_copy(ctx->gm, GMT_TOP_PAGE, GMT_P(0), PAGE_SIZE + 1),
			-EOVERFLOW);
	gmt_check_model(test, ctx, "after overflowing copies");
}

/* A read-only source is fine, into one region or across several. */
static void gm_copy_readonly_source(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_copy(test, ctx, GMT_PG(3), GMT_PG(5), GMT_PG(1), 0);	/* R to C */
	gmt_repattern(test, ctx, 3);
	gmt_copy(test, ctx, 100, GMT_PG(5) + 50, GMT_PG(2), 0);	/* R+D to A+B */
	gmt_repattern(test, ctx, 4);
	gmt_copy(test, ctx, 0, GMT_PG(5), GMT_PG(3), 0);		/* R+D+S to A-C */
	gmt_copy(test, ctx, GMT_PG(6) + 7, GMT_PG(7), 100, 0);	/* S to D */
}

/* Empty copies succeed wherever they are. */
static void gm_copy_zero(struct kunit *test)
{
	struct gmt_ctx *ctx = test->priv;

	gmt_copy(test, ctx, 0, 10, 0, 0);
	gmt_copy(test, ctx, GMT_PG(4), GMT_PG(4), 0, 0);	/* hole */
	gmt_copy(test, ctx, GMT_PG(5), 0, 0, 0);		/* read-only */
	KUNIT_EXPECT_EQ(test, guestmem_copy(ctx->gm, U64_MAX, U64_MAX, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_copy(ctx->gm, 0, U64_MAX, 0), 0);
	gmt_check_model(test, ctx, "after empty copies");
}

static struct kunit_case gm_copy_cases[] = {
	KUNIT_CASE(gm_copy_disjoint),
	KUNIT_CASE(gm_copy_overlap_region),
	KUNIT_CASE(gm_copy_overlap_three),
	KUNIT_CASE(gm_copy_failures),
	KUNIT_CASE(gm_copy_readonly_source),
	KUNIT_CASE(gm_copy_zero),
	{}
};

static struct kunit_suite gm_copy_suite = {
	.name = "guestmem_copy",
	.init = gmt_fc_init,
	.test_cases = gm_copy_cases,
};

/* ------------------------------------------------------------------------ */
/* guestmem_dirty_log                                                       */
/* ------------------------------------------------------------------------ */

/*
 * The layout of the dirty-log suite, in pages from GMT_BASE:
 *
 *   0-3      D0   DIRTY_LOG
 *   4-7      D1   DIRTY_LOG (adjacent: pages 0-7 are fetched as one range)
 *   8             hole
 *   9-10     N    read-write, no dirty log
 *   11       RD   READONLY | DIRTY_LOG
 *   16-145   BIG  DIRTY_LOG, 130 pages: a bitmap of three words
 */
#define GMT_BIG		16
#define GMT_BIG_PAGES	130

static int gmt_dirty_init(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);

	KUNIT_ASSERT_EQ(test, gmt_add(gm, 0, 4, GUESTMEM_REGION_DIRTY_LOG), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 4, 4, GUESTMEM_REGION_DIRTY_LOG), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 9, 2, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 11, 1, GUESTMEM_REGION_READONLY |
				      GUESTMEM_REGION_DIRTY_LOG), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, GMT_BIG, GMT_BIG_PAGES,
				      GUESTMEM_REGION_DIRTY_LOG), 0);
	test->priv = gm;
	return 0;
}

/* Pages 0-7 (D0, D1) must be dirty exactly as @want says; then clean. */
static void gmt_expect_dirty(struct kunit *test, struct guestmem *gm,
			     unsigned long want, const char *what)
{
	KUNIT_EXPECT_EQ_MSG(test, gmt_dirty(test, gm, 0, 8), want,
			    "dirty pages of D0+D1 after %s", what);
}

/* A new region is all clean, whatever range of it is fetched. */
static void gm_dirty_new_clean(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	unsigned long big[4];
	unsigned int i;

	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 0, 8), 0UL);
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 3, 2), 0UL);
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 11, 1), 0UL);
	memset(big, 0xff, sizeof(big));
	KUNIT_ASSERT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG),
						     GMT_PG(GMT_BIG_PAGES), big, false), 0);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ_MSG(test, big[i], 0UL, "word %u of BIG's bitmap", i);
	KUNIT_EXPECT_EQ(test, big[3], ~0UL);
}

struct gmt_dwalk {
	unsigned int calls;
	unsigned int stop_at;	/* 1-based call that returns -EIO */
	bool write;		/* write a byte into each chunk */
	u64 gpa[4];
	size_t len[4];
};

static int gmt_dwalk_fn(void *kaddr, u64 gpa, size_t len, void *priv)
{
	struct gmt_dwalk *w = priv;

	if (w->calls < ARRAY_SIZE(w->gpa)) {
		w->gpa[w->calls] = gpa;
		w->len[w->calls] = len;
	}
	if (w->write)
		*(u8 *)kaddr ^= 0xff;
	else
		(void)READ_ONCE(*(u8 *)kaddr);
	return ++w->calls == w->stop_at ? -EIO : 0;
}

/* Reads through every path never mark a page. */
static void gm_dirty_reads(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u8 *buf = kunit_kmalloc(test, GMT_PG(8), GFP_KERNEL);
	struct guestmem_cache cache;
	struct gmt_dwalk walk = {};
	struct {
		u64 a, b, c;
	} obj;
	unsigned int s;
	u16 v16;
	u32 v32;
	u64 v64;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	gmt_pattern(buf, GMT_PG(8), 2);
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(0), buf, GMT_PG(8)), 0);
	gmt_expect_dirty(test, gm, 0xff, "writing all of D0+D1");

	KUNIT_EXPECT_EQ(test, guestmem_read(gm, GMT_P(0), buf, GMT_PG(8)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_obj(gm, GMT_P(4) - 12, &obj), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_le16(gm, GMT_P(1) - 1, &v16), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_le32(gm, GMT_P(2) - 2, &v32), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_le64(gm, GMT_P(4) - 3, &v64), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_be16(gm, GMT_P(5) - 1, &v16), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_be32(gm, GMT_P(6) - 2, &v32), 0);
	KUNIT_EXPECT_EQ(test, guestmem_read_be64(gm, GMT_P(8) - 8, &v64), 0);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(2) + 1, GMT_PG(4), false,
						   gmt_dwalk_fn, &walk), 0);
	KUNIT_EXPECT_EQ(test, walk.calls, 2U);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&cache, gm, GMT_P(5) + 9, GMT_PG(2)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&cache, 0, buf, GMT_PG(2)), 0);
	for (s = 0; s < ARRAY_SIZE(gmt_sizes); s++) {
		v64 = U64_MAX;
		KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(s) + 64, gmt_sizes[s],
						      GUESTMEM_ATOMIC_LOAD, &v64, 0), 0);
	}
	/* A copy reads its source: only the destination, here N, is written. */
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(9), GMT_P(3) + 5, GMT_PG(2)), 0);
	/* Fetching without clearing is a read too. */
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(8),
						     (unsigned long *)buf, false), 0);
	gmt_expect_dirty(test, gm, 0, "reads");
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 11, 1), 0UL);
}

/* Writes that fail, at any step, mark nothing. */
static void gm_dirty_failed_writes(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct guestmem_cache cache;
	struct gmt_dwalk walk = { .write = true };
	u8 buf[16] = {};
	u64 v;

	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(8) - 1, buf, 2), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(0) - 1, buf, 2), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(11) - 1, buf, 2), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(11), buf, 1), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_write_le32(gm, GMT_P(8) - 2, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_write_be64(gm, GMT_P(11) - 4, 1), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, GMT_P(7), 1, GMT_PG(2)), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, GMT_P(11), 1, 1), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(7) + 10, GMT_P(0), GMT_PG(1)), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(0), GMT_P(8), 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(11), GMT_P(0), 1), -EACCES);
	v = 1;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(1) + 1, 2, GUESTMEM_ATOMIC_STORE,
					      &v, 0), -EINVAL);
	v = 0x100;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(1), 1, GUESTMEM_ATOMIC_STORE,
					      &v, 0), -EINVAL);
	v = 1;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(11), 4, GUESTMEM_ATOMIC_STORE,
					      &v, 0), -EACCES);
	v = 1;
	KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, GMT_P(2), 4, GUESTMEM_ATOMIC_CMPXCHG,
					      &v, 5), 0);
	KUNIT_EXPECT_EQ(test, v, 0ULL);		/* mismatch: nothing written */
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(6), GMT_PG(3), true,
						   gmt_dwalk_fn, &walk), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(10), GMT_PG(2), true,
						   gmt_dwalk_fn, &walk), -EACCES);
	KUNIT_EXPECT_EQ(test, walk.calls, 0U);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&cache, gm, GMT_P(2), 8), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, 4, buf, 5), -EINVAL);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&cache, gm, GMT_P(11), 8), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, 0, buf, 1), -EACCES);
	/* Empty writes write nothing. */
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(3), buf, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, GMT_P(3), 1, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(3), GMT_P(1), 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(3), 0, true,
						   gmt_dwalk_fn, &walk), 0);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&cache, gm, GMT_P(3), 8), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, 0, buf, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(3), 0), 0);

	gmt_expect_dirty(test, gm, 0, "failed and empty writes");
	KUNIT_EXPECT_EQ(test, gmt_dirty(test, gm, 11, 1), 0UL);
}

static void gm_dirty_write(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u8 *buf = kunit_kzalloc(test, GMT_PG(8), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(2), buf, 1), 0);
	gmt_expect_dirty(test, gm, BIT(2), "a 1-byte write to page 2");
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(8) - 1, buf, 1), 0);
	gmt_expect_dirty(test, gm, BIT(7), "a write to the last byte");
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(1) - 1, buf, 2), 0);
	gmt_expect_dirty(test, gm, BIT(0) | BIT(1), "a write across pages 0-1");
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(3) + 5, buf, GMT_PG(2)), 0);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4) | BIT(5), "a write across D0 and D1");
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(6), buf, GMT_PG(1)), 0);
	gmt_expect_dirty(test, gm, BIT(6), "a write of exactly page 6");
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(0), buf, GMT_PG(8)), 0);
	gmt_expect_dirty(test, gm, 0xff, "a write of D0 and D1");
	/* N has no dirty log. */
	KUNIT_EXPECT_EQ(test, guestmem_write(gm, GMT_P(9), buf, GMT_PG(2)), 0);
	gmt_expect_dirty(test, gm, 0, "a write to N only");
}

static void gm_dirty_obj_endian(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct {
		u64 a, b, c;
	} obj = { 1, 2, 3 };

	KUNIT_EXPECT_EQ(test, guestmem_write_obj(gm, GMT_P(4) - 12, &obj), 0);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4), "write_obj across D0 and D1");
	KUNIT_EXPECT_EQ(test, guestmem_write_obj(gm, GMT_P(6) + 8, &obj), 0);
	gmt_expect_dirty(test, gm, BIT(6), "write_obj inside page 6");

	KUNIT_EXPECT_EQ(test, guestmem_write_le16(gm, GMT_P(1) - 1, 0x1234), 0);
	gmt_expect_dirty(test, gm, BIT(0) | BIT(1), "write_le16 across pages 0-1");
	KUNIT_EXPECT_EQ(test, guestmem_write_le32(gm, GMT_P(2) - 2, 0x12345678), 0);
	gmt_expect_dirty(test, gm, BIT(1) | BIT(2), "write_le32 across pages 1-2");
	KUNIT_EXPECT_EQ(test, guestmem_write_le64(gm, GMT_P(4) - 4, 1), 0);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4), "write_le64 across D0 and D1");
	KUNIT_EXPECT_EQ(test, guestmem_write_be16(gm, GMT_P(5) - 1, 0x1234), 0);
	gmt_expect_dirty(test, gm, BIT(4) | BIT(5), "write_be16 across pages 4-5");
	KUNIT_EXPECT_EQ(test, guestmem_write_be32(gm, GMT_P(6), 0x12345678), 0);
	gmt_expect_dirty(test, gm, BIT(6), "write_be32 at page 6");
	KUNIT_EXPECT_EQ(test, guestmem_write_be64(gm, GMT_P(8) - 8, 1), 0);
	gmt_expect_dirty(test, gm, BIT(7), "write_be64 at the end of page 7");
}

static void gm_dirty_fill(struct kunit *test)
{
	struct guestmem *gm = test->priv;

	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, GMT_P(1) + 1, 0xaa, GMT_PG(3)), 0);
	gmt_expect_dirty(test, gm, BIT(1) | BIT(2) | BIT(3) | BIT(4), "fill of pages 1-4");
	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, GMT_P(7) + 100, 0xaa, 1), 0);
	gmt_expect_dirty(test, gm, BIT(7), "fill of a byte in page 7");
	KUNIT_EXPECT_EQ(test, guestmem_fill(gm, GMT_P(0), 0, GMT_PG(8)), 0);
	gmt_expect_dirty(test, gm, 0xff, "fill of D0 and D1");
}

static void gm_dirty_copy(struct kunit *test)
{
	struct guestmem *gm = test->priv;

	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(6), GMT_P(0), 100), 0);
	gmt_expect_dirty(test, gm, BIT(6), "copy from page 0 to page 6");
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(4) - 10, GMT_P(9), 20), 0);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4), "copy from N across D0 and D1");
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(1), GMT_P(1) + 1, GMT_PG(1)), 0);
	gmt_expect_dirty(test, gm, BIT(1), "overlapping copy down onto page 1");
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(2) + 1, GMT_P(2), GMT_PG(1)), 0);
	gmt_expect_dirty(test, gm, BIT(2) | BIT(3), "overlapping copy up into pages 2-3");
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(3), GMT_P(0), GMT_PG(4)), 0);
	gmt_expect_dirty(test, gm, 0x78, "overlapping copy up into pages 3-6");
	KUNIT_EXPECT_EQ(test, guestmem_copy(gm, GMT_P(9), GMT_P(0), GMT_PG(2)), 0);
	gmt_expect_dirty(test, gm, 0, "copy from D0 to N");
}

/* Every op but LOAD and a mismatching CMPXCHG marks the object's page. */
static void gm_dirty_atomic(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	unsigned int s, c;

	for (s = 0; s < ARRAY_SIZE(gmt_sizes); s++) {
		for (c = 0; c < ARRAY_SIZE(gmt_op_cases); c++) {
			const struct gmt_op_case *oc = &gmt_op_cases[c];
			struct gmt_op_want w = gmt_op_model(oc, gmt_sizes[s]);
			unsigned int page = (s * ARRAY_SIZE(gmt_op_cases) + c) % 8;
			u64 gpa = GMT_P(page + 1) - 8, v;
			char what[64];

			/* Set up the content the model expects. */
			v = GMT_INIT & gmt_mask(gmt_sizes[s]);
			KUNIT_ASSERT_EQ(test, guestmem_atomic(gm, gpa, gmt_sizes[s],
							      GUESTMEM_ATOMIC_STORE, &v, 0), 0);
			gmt_dirty(test, gm, 0, 8);
			v = w.in;
			KUNIT_EXPECT_EQ(test, guestmem_atomic(gm, gpa, gmt_sizes[s], oc->op,
							      &v, w.expected), 0);
			KUNIT_EXPECT_EQ(test, v, w.out);
			snprintf(what, sizeof(what), "%s of size %u in page %u", oc->name,
				 gmt_sizes[s], page);
			gmt_expect_dirty(test, gm, w.dirty ? BIT(page) : 0, what);
		}
	}
}

/* guestmem_walk_chunks() with write=true marks the chunks' pages. */
static void gm_dirty_walk(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct gmt_dwalk walk = { .write = true };

	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(2) - 1, GMT_PG(1) + 2, true,
						   gmt_dwalk_fn, &walk), 0);
	KUNIT_EXPECT_EQ(test, walk.calls, 1U);
	gmt_expect_dirty(test, gm, BIT(1) | BIT(2) | BIT(3), "a write walk of pages 1-3");

	walk = (struct gmt_dwalk){ .write = true };
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(3) + 1, GMT_PG(2), true,
						   gmt_dwalk_fn, &walk), 0);
	KUNIT_EXPECT_EQ(test, walk.calls, 2U);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4) | BIT(5), "a write walk across D0 and D1");

	/* The walker marks what it hands out for writing, written or not. */
	walk = (struct gmt_dwalk){};
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(7), GMT_PG(1), true,
						   gmt_dwalk_fn, &walk), 0);
	gmt_expect_dirty(test, gm, BIT(7), "a write walk of page 7");

	walk = (struct gmt_dwalk){ .write = true };
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(0), GMT_PG(8), false,
						   gmt_dwalk_fn, &walk), 0);
	KUNIT_EXPECT_EQ(test, walk.calls, 2U);
	/* The caller wrote through a read walk: guestmem_mark_dirty() is its job. */
	gmt_expect_dirty(test, gm, 0, "a read walk");
}

/*
 * A write walk whose callback writes its chunk and then stops the walk:
 * the chunk it wrote must still be in the dirty log (for live migration a
 * lost dirty page is lost data).
 */
static void gm_dirty_walk_stop(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct gmt_dwalk walk = { .write = true, .stop_at = 1 };
	unsigned long bits;

	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(3), GMT_PG(2), true,
						   gmt_dwalk_fn, &walk), -EIO);
	KUNIT_EXPECT_EQ(test, walk.calls, 1U);
	bits = gmt_dirty(test, gm, 0, 8);
	/* Page 4 was never handed out: whether it is marked is not checked. */
	KUNIT_EXPECT_EQ_MSG(test, bits & ~BIT(4), BIT(3),
			    "dirty pages after a walk that wrote page 3, then returned -EIO");

	walk = (struct gmt_dwalk){ .write = true, .stop_at = 2 };
	KUNIT_EXPECT_EQ(test, guestmem_walk_chunks(gm, GMT_P(3), GMT_PG(2), true,
						   gmt_dwalk_fn, &walk), -EIO);
	KUNIT_EXPECT_EQ(test, walk.calls, 2U);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4),
			 "a walk that wrote pages 3 and 4, then returned -EIO");
}

static void gm_dirty_cache(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct guestmem_cache cache;
	u8 buf[64] = {};

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&cache, gm, GMT_P(5) + 100, GMT_PG(2)), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, GMT_PG(1) - 100, buf, 1), 0);
	gmt_expect_dirty(test, gm, BIT(6), "a cache write to the first byte of page 6");
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, GMT_PG(1) - 101, buf, 2), 0);
	gmt_expect_dirty(test, gm, BIT(5) | BIT(6), "a cache write across pages 5-6");
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, 0, buf, 1), 0);
	gmt_expect_dirty(test, gm, BIT(5), "a cache write to the first cached byte");
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&cache, GMT_PG(2) - 1, buf, 1), 0);
	gmt_expect_dirty(test, gm, BIT(7), "a cache write to the last cached byte");
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&cache, 0, buf, sizeof(buf)), 0);
	gmt_expect_dirty(test, gm, 0, "a cache read");
}

static void gm_dirty_mark(struct kunit *test)
{
	struct guestmem *gm = test->priv;

	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(2) + 7, 1), 0);
	gmt_expect_dirty(test, gm, BIT(2), "marking a byte of page 2");
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(3) + 1, GMT_PG(1)), 0);
	gmt_expect_dirty(test, gm, BIT(3) | BIT(4), "marking across D0 and D1");
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(0), GMT_PG(8)), 0);
	gmt_expect_dirty(test, gm, 0xff, "marking D0 and D1");
	/* Pages without a dirty log are ignored. */
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(9), GMT_PG(2)), 0);
	gmt_expect_dirty(test, gm, 0, "marking N");
	/* An unbacked byte: ENXIO, with the pages before it marked. */
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(7) + 5, GMT_PG(2)), -ENXIO);
	gmt_expect_dirty(test, gm, BIT(7), "marking page 7 and the hole");
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(8), 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(0) - 1, 2), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, U64_MAX, 2), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(0), U64_MAX), -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_mark_dirty(gm, GMT_P(8), 0), 0);
	gmt_expect_dirty(test, gm, 0, "failed and empty marks");
}

/* Fetching without clearing keeps the bits; with clearing, only in range. */
static void gm_dirty_fetch_clear(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	unsigned long bits;
	u8 byte = 1;

	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(1) + 9, &byte, 1), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(5), &byte, 1), 0);
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(8), &bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits, BIT(1) | BIT(5));
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(8), &bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits, BIT(1) | BIT(5));
	/* Bit 0 is the first page fetched. */
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(1), GMT_PG(5), &bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits, BIT(0) | BIT(4));
	/* Fetch and clear D1 alone: D0's page 1 stays dirty. */
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(4), GMT_PG(4), &bits, true), 0);
	KUNIT_EXPECT_EQ(test, bits, BIT(1));
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(8), &bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits, BIT(1));
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(1), GMT_PG(1), &bits, true), 0);
	KUNIT_EXPECT_EQ(test, bits, BIT(0));
	bits = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(8), &bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits, 0UL);
	/* After a clear, writes are tracked again. */
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(5), &byte, 1), 0);
	gmt_expect_dirty(test, gm, BIT(5), "a write after a clear");
	gmt_expect_dirty(test, gm, 0, "nothing since");
}

/* Bit i of __u64 word i / 64, LSB first; nothing written past the last word. */
static void gm_dirty_layout(struct kunit *test)
{
	static const unsigned int dirty[] = { 0, 1, 63, 64, 65, 127, 128, 129 };
	struct guestmem *gm = test->priv;
	unsigned long bits[4];
	unsigned int i;
	u8 byte = 1;

	for (i = 0; i < ARRAY_SIZE(dirty); i++)
		KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(GMT_BIG + dirty[i]) + i * 8,
						     &byte, 1), 0);

	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG), GMT_PG(GMT_BIG_PAGES),
						     bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(0) | BIT(1) | BIT(63));
	KUNIT_EXPECT_EQ(test, bits[1], BIT(0) | BIT(1) | BIT(63));
	KUNIT_EXPECT_EQ(test, bits[2], BIT(0) | BIT(1));
	KUNIT_EXPECT_EQ(test, bits[3], ~0UL);

	/* From page 1: 129 bits, every page one bit lower. */
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG + 1),
						     GMT_PG(GMT_BIG_PAGES - 1), bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(0) | BIT(62) | BIT(63));
	KUNIT_EXPECT_EQ(test, bits[1], BIT(0) | BIT(62) | BIT(63));
	KUNIT_EXPECT_EQ(test, bits[2], BIT(0));
	KUNIT_EXPECT_EQ(test, bits[3], ~0UL);

	/* Exactly one word, and bits past the range are zero though dirty. */
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG + 64), GMT_PG(64),
						     bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(0) | BIT(1) | BIT(63));
	KUNIT_EXPECT_EQ(test, bits[1], ~0UL);
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG + 62), GMT_PG(3),
						     bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(1) | BIT(2));
	KUNIT_EXPECT_EQ(test, bits[1], ~0UL);
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG + 129), GMT_PG(1),
						     bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(0));
	KUNIT_EXPECT_EQ(test, bits[1], ~0UL);

	/* Clear a middle stretch only, then check all three words again. */
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG + 63), GMT_PG(2),
						     bits, true), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(0) | BIT(1));
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG), GMT_PG(GMT_BIG_PAGES),
						     bits, true), 0);
	KUNIT_EXPECT_EQ(test, bits[0], BIT(0) | BIT(1));
	KUNIT_EXPECT_EQ(test, bits[1], BIT(1) | BIT(63));
	KUNIT_EXPECT_EQ(test, bits[2], BIT(0) | BIT(1));
	KUNIT_EXPECT_EQ(test, bits[3], ~0UL);
	memset(bits, 0xff, sizeof(bits));
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(GMT_BIG), GMT_PG(GMT_BIG_PAGES),
						     bits, false), 0);
	KUNIT_EXPECT_EQ(test, bits[0] | bits[1] | bits[2], 0UL);
}

static void gm_dirty_errors(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	unsigned long bits[2];
	u8 byte = 1;

	/* Leave a dirty page: no failing fetch may clear it. */
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, GMT_P(7), &byte, 1), 0);

	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0) + 1, GMT_PG(1), bits, true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0) + PAGE_SIZE / 2, GMT_PG(1),
						     bits, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(1) + 1, bits, true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), 1, bits, true), -EINVAL);
	/* A page without a dirty log in the range. */
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(9), GMT_PG(1), bits, true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(10), GMT_PG(2), bits, true),
			-EINVAL);
	/* An unbacked page in the range. */
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(7), GMT_PG(2), bits, true),
			-ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_PG(9), bits, true),
			-ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(8), GMT_PG(1), bits, true),
			-ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0) - PAGE_SIZE, GMT_PG(2),
						     bits, true), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, 0, GMT_PG(1), bits, true), -ENXIO);
	/* Past 2^64 - 1. */
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_TOP_PAGE, GMT_PG(2), bits, true),
			-EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), GMT_TOP_PAGE, bits, true),
			-EOVERFLOW);
	/* An empty range succeeds and writes no word. */
	bits[0] = ~0UL;
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(0), 0, bits, true), 0);
	KUNIT_EXPECT_EQ(test, guestmem_get_dirty_log(gm, GMT_P(8), 0, bits, true), 0);
	KUNIT_EXPECT_EQ(test, bits[0], ~0UL);

	gmt_expect_dirty(test, gm, BIT(7), "failed fetches");
}

static struct kunit_case gm_dirty_cases[] = {
	KUNIT_CASE(gm_dirty_new_clean),
	KUNIT_CASE(gm_dirty_reads),
	KUNIT_CASE(gm_dirty_failed_writes),
	KUNIT_CASE(gm_dirty_write),
	KUNIT_CASE(gm_dirty_obj_endian),
	KUNIT_CASE(gm_dirty_fill),
	KUNIT_CASE(gm_dirty_copy),
	KUNIT_CASE(gm_dirty_atomic),
	KUNIT_CASE(gm_dirty_walk),
	KUNIT_CASE(gm_dirty_walk_stop),
	KUNIT_CASE(gm_dirty_cache),
	KUNIT_CASE(gm_dirty_mark),
	KUNIT_CASE(gm_dirty_fetch_clear),
	KUNIT_CASE(gm_dirty_layout),
	KUNIT_CASE(gm_dirty_errors),
	{}
};

static struct kunit_suite gm_dirty_suite = {
	.name = "guestmem_dirty_log",
	.init = gmt_dirty_init,
	.test_cases = gm_dirty_cases,
};

/* ------------------------------------------------------------------------ */
/* guestmem_cache                                                           */
/* ------------------------------------------------------------------------ */

/*
 * The layout of the cache suite, in pages from GMT_BASE:
 *
 *   0-3    C0  read-write
 *   4-5    C1  read-write (adjacent)
 *   6          hole
 *   7      R   READONLY
 */
static int gmt_cache_init(struct kunit *test)
{
	struct guestmem *gm = gmt_create(test);

	KUNIT_ASSERT_EQ(test, gmt_add(gm, 0, 4, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 4, 2, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 7, 1, GUESTMEM_REGION_READONLY), 0);
	test->priv = gm;
	return 0;
}

/* Read @len bytes at @gpa and compare them with @want. */
static void gmt_expect_guest(struct kunit *test, struct guestmem *gm, u64 gpa,
			     const u8 *want, size_t len, const char *what)
{
	u8 *got = kunit_kmalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, got);
	memset(got, 0xee, len);
	KUNIT_ASSERT_EQ_MSG(test, guestmem_read(gm, gpa, got, len), 0, "%s", what);
	gmt_bytes_eq(test, got, want, len, what);
	kunit_kfree(test, got);
}

static void gm_cache_init_ok(struct kunit *test)
{
	static const struct {
		u64 off, len;
	} ok[] = {
		{ GMT_PG(1) + 5, GMT_PG(2) },	/* inside C0, across pages */
		{ 0, GMT_PG(4) },		/* all of C0 */
		{ GMT_PG(4) - 1, 1 },		/* C0's last byte */
		{ GMT_PG(4), GMT_PG(2) },	/* all of C1 */
		{ GMT_PG(7), GMT_PG(1) },	/* R */
	};
	struct guestmem *gm = test->priv;
	struct guestmem_cache c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		memset(&c, 0xa5, sizeof(c));
		KUNIT_EXPECT_EQ_MSG(test, guestmem_cache_init(&c, gm, GMT_BASE + ok[i].off,
							      ok[i].len), 0,
				    "cache of %llu bytes at +%#llx", ok[i].len, ok[i].off);
		KUNIT_EXPECT_PTR_EQ(test, c.gm, gm);
		KUNIT_EXPECT_EQ(test, c.gpa, GMT_BASE + ok[i].off);
		KUNIT_EXPECT_EQ(test, c.len, ok[i].len);
		KUNIT_EXPECT_EQ(test, c.generation, guestmem_generation(gm));
	}
}

static void gm_cache_init_errors(struct kunit *test)
{
	static const struct {
		u64 gpa, len;
		int ret;
	} bad[] = {
		{ GMT_P(4) - 1, 2, -ENXIO },		/* across C0 and C1 */
		{ GMT_P(0), GMT_PG(6), -ENXIO },	/* all of C0 and C1 */
		{ GMT_P(6), 1, -ENXIO },		/* hole */
		{ GMT_P(6) - 1, 2, -ENXIO },		/* C1, hole */
		{ GMT_P(7) - 1, 2, -ENXIO },		/* hole, R */
		{ GMT_P(7), GMT_PG(1) + 1, -ENXIO },	/* R, beyond */
		{ GMT_P(0) - 1, 2, -ENXIO },		/* before C0 */
		{ 0, 1, -ENXIO },
		{ GMT_P(0), 0, -EINVAL },
		{ GMT_P(6), 0, -EINVAL },
		{ U64_MAX, 2, -EOVERFLOW },
		{ GMT_P(0), U64_MAX, -EOVERFLOW },
	};
	struct guestmem *gm = test->priv;
	struct guestmem_cache c;
	unsigned int i;
	u8 byte = 0xee;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, guestmem_cache_init(&c, gm, bad[i].gpa, bad[i].len),
				    bad[i].ret, "cache of %llu bytes at %#llx",
				    bad[i].len, bad[i].gpa);
	}
	/* A failed cache gives no access. */
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, GMT_P(6), 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, &byte, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, &byte, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, byte, 0xee);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, GMT_P(0), 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, &byte, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, &byte, 1), -EINVAL);
}

/* Reads and writes through the cache are guest memory at the right place. */
static void gm_cache_rw(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 base = GMT_P(1) + 5, len = GMT_PG(2);
	u8 *data = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *got = kunit_kmalloc(test, len, GFP_KERNEL);
	struct guestmem_cache c;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, data);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, got);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, base, len), 0);

	/* Written through the cache, read by GPA. */
	gmt_pattern(data, len, 1);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, len), 0);
	gmt_expect_guest(test, gm, base, data, len, "a cache write of the whole range");
	gmt_pattern(data, 100, 2);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 4000, data, 100), 0);
	gmt_expect_guest(test, gm, base + 4000, data, 100, "a cache write inside the range");
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, len - 1, data, 1), 0);
	gmt_expect_guest(test, gm, base + len - 1, data, 1, "a cache write of the last byte");

	/* Written by GPA, read through the cache. */
	gmt_pattern(data, len, 3);
	KUNIT_ASSERT_EQ(test, guestmem_write(gm, base, data, len), 0);
	memset(got, 0xee, len);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, got, len), 0);
	gmt_bytes_eq(test, got, data, len, "a cache read of the whole range");
	memset(got, 0xee, len);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 77, got, 3000), 0);
	gmt_bytes_eq(test, got, data + 77, 3000, "a cache read inside the range");
	memset(got, 0xee, len);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, len - 1, got, 1), 0);
	KUNIT_EXPECT_EQ(test, got[0], data[len - 1]);
	/* The bytes around the range were never written. */
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, base - 1, got, 1), 0);
	KUNIT_EXPECT_EQ(test, got[0], 0);
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, base + len, got, 1), 0);
	KUNIT_EXPECT_EQ(test, got[0], 0);
}

/* Accesses outside the cached range are EINVAL and touch nothing. */
static void gm_cache_range(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 base = GMT_P(2) + 16, len = 64;
	struct guestmem_cache c;
	u8 buf[128], zero[128] = {};

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, base, len), 0);
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, len, buf, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, len + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, len - 1, buf, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, len + 1, buf, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, U64_MAX, buf, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 1, buf, SIZE_MAX), -EINVAL);
	gmt_all_bytes(test, buf, 0xee, sizeof(buf), "buffer of failed cache reads");

	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, len, buf, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, buf, len + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, len - 1, buf, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, U64_MAX, buf, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 1, buf, SIZE_MAX), -EINVAL);
	gmt_expect_guest(test, gm, base - 32, zero, len + 64, "after failed cache writes");

	/* Empty accesses inside the range succeed. */
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, len, buf, 0), 0);
	gmt_all_bytes(test, buf, 0xee, sizeof(buf), "buffer of empty cache reads");
}

/* A region added elsewhere bumps the generation; the cache re-resolves. */
static void gm_cache_unrelated_change(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 base = GMT_P(1) + 100, gen;
	struct guestmem_cache c;
	u8 data[32], got[32];
	unsigned int i;

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, base, sizeof(data)), 0);
	gmt_pattern(data, sizeof(data), 4);
	KUNIT_ASSERT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), 0);
	gen = c.generation;

	KUNIT_ASSERT_EQ(test, gmt_add(gm, 32, 1, 0), 0);
	KUNIT_EXPECT_NE(test, guestmem_generation(gm), gen);
	memset(got, 0xee, sizeof(got));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, got, sizeof(got)), 0);
	gmt_bytes_eq(test, got, data, sizeof(got), "a cache read after an unrelated add");
	KUNIT_EXPECT_EQ(test, c.generation, guestmem_generation(gm));

	/* Removing a neighbour, even an adjacent one, changes nothing either. */
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(4), GMT_PG(2)), 0);
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(32), GMT_PG(1)), 0);
	gmt_pattern(data, sizeof(data), 5);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), 0);
	KUNIT_EXPECT_EQ(test, c.generation, guestmem_generation(gm));
	gmt_expect_guest(test, gm, base, data, sizeof(data),
			 "a cache write after removing other regions");

	/* Many changes in a row. */
	for (i = 0; i < 20; i++) {
		KUNIT_ASSERT_EQ(test, gmt_add(gm, 40 + i, 1, 0), 0);
		memset(got, 0xee, sizeof(got));
		KUNIT_ASSERT_EQ(test, guestmem_cache_read(&c, 0, got, sizeof(got)), 0);
		if (!gmt_bytes_eq(test, got, data, sizeof(got), "a cache read among adds"))
			break;
	}
}

/* After its region is removed the cache fails, and never reads freed memory. */
static void gm_cache_removed(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 base = GMT_P(1) + 100;
	struct guestmem_cache c, other;
	u8 data[32], buf[32];

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, base, sizeof(data)), 0);
	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&other, gm, GMT_P(4), sizeof(data)), 0);
	gmt_pattern(data, sizeof(data), 6);
	KUNIT_ASSERT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), 0);
	KUNIT_ASSERT_EQ(test, guestmem_cache_write(&other, 0, data, sizeof(data)), 0);

	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(0), GMT_PG(4)), 0);
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, sizeof(buf)), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 5, buf, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 31, data, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, sizeof(buf)), -ENXIO);
	gmt_all_bytes(test, buf, 0xee, sizeof(buf), "buffer of failed cache reads");
	KUNIT_EXPECT_EQ(test, guestmem_read(gm, base, buf, 1), -ENXIO);

	/* A cache of another region is unaffected. */
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&other, 0, buf, sizeof(buf)), 0);
	gmt_bytes_eq(test, buf, data, sizeof(buf), "a cache of C1 after removing C0");
}

/*
 * A region added again where the cache points: new memory, new flags.  The
 * cached range straddles the boundary of pages 1 and 2.
 */
static void gm_cache_readded(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	u64 base = GMT_P(2) - 16;
	struct guestmem_cache c;
	u8 data[32], buf[32], zero[32] = {};

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, base, sizeof(data)), 0);
	gmt_pattern(data, sizeof(data), 7);
	KUNIT_ASSERT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), 0);

	/* The same region again: zeros, then writes land in the new memory. */
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(0), GMT_PG(4)), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 0, 4, 0), 0);
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, sizeof(buf)), 0);
	gmt_bytes_eq(test, buf, zero, sizeof(buf), "a cache read of a re-added region");
	KUNIT_EXPECT_EQ(test, c.generation, guestmem_generation(gm));
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), 0);
	gmt_expect_guest(test, gm, base, data, sizeof(data), "a cache write to a re-added region");

	/* Two regions split at page 2: backed, but no longer inside one region. */
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(0), GMT_PG(4)), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 0, 2, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 2, 2, 0), 0);
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 20, buf, 1), -ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, 1), -ENXIO);
	gmt_all_bytes(test, buf, 0xee, sizeof(buf), "buffer of failed cache reads");
	gmt_expect_guest(test, gm, base, zero, sizeof(zero), "after failed cache writes");

	/* A read-only region there: reads zeros, writes EACCES. */
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(0), GMT_PG(2)), 0);
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(2), GMT_PG(2)), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 1, 3, GUESTMEM_REGION_READONLY), 0);
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, sizeof(buf)), 0);
	gmt_bytes_eq(test, buf, zero, sizeof(buf), "a cache read of a read-only region");
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), -EACCES);
	gmt_expect_guest(test, gm, base, zero, sizeof(zero), "a read-only region");

	/* And writable again. */
	KUNIT_ASSERT_EQ(test, guestmem_remove_region(gm, GMT_P(1), GMT_PG(3)), 0);
	KUNIT_ASSERT_EQ(test, gmt_add(gm, 1, 2, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, data, sizeof(data)), 0);
	gmt_expect_guest(test, gm, base, data, sizeof(data), "a writable region again");
}

/* A cache of a read-only region reads; its writes are EACCES. */
static void gm_cache_readonly(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct guestmem_cache c;
	u8 buf[64], zero[64] = {};

	KUNIT_ASSERT_EQ(test, guestmem_cache_init(&c, gm, GMT_P(7) + 8, sizeof(buf)), 0);
	memset(buf, 0xee, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_read(&c, 0, buf, sizeof(buf)), 0);
	gmt_bytes_eq(test, buf, zero, sizeof(buf), "a cache read of R");
	memset(buf, 0x5a, sizeof(buf));
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 0, buf, sizeof(buf)), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_cache_write(&c, 63, buf, 1), -EACCES);
	gmt_expect_guest(test, gm, GMT_P(7), zero, sizeof(zero), "R after cache writes");
}

#define GMT_REMOVALS	50

struct gmt_reader {
	struct guestmem *gm;
	u64 gpa;
	unsigned int id;
	unsigned long reads;	/* reads that returned the right value */
	unsigned long misses;	/* -ENXIO while the region was away */
	unsigned int bad;	/* wrong values and unexpected errors */
	int bad_ret;		/* the last unexpected return value */
	u64 bad_val;		/* the last wrong value */
	struct completion started;
};

/*
 * Small writes and reads through the fast paths (guestmem_write(),
 * guestmem_read() and the inline cached accessor) racing with removal of
 * their region.  Each reader owns the words at its index modulo
 * GMT_RACERS: a read returns what the reader wrote there, or zero if the
 * region was replaced in between, or -ENXIO.
 */
static int gmt_reader_fn(void *data)
{
	struct gmt_reader *r = data;
	struct guestmem_cache c;
	bool cached = false;
	unsigned long k = 0;
	u64 val, got;
	int ret;

	complete(&r->started);
	while (!kthread_should_stop()) {
		u64 off = ((++k % (GMT_PG(2) / 8 / GMT_RACERS)) * GMT_RACERS + r->id) * 8;

		val = (u64)k << 8 | (r->id + 1);
		ret = guestmem_write(r->gm, r->gpa + off, &val, sizeof(val));
		if (!ret) {
			got = 0xeeeeeeeeeeeeeeeeULL;
			if (!cached)
				cached = !guestmem_cache_init(&c, r->gm, r->gpa,
							      GMT_PG(2));
			if (k % 2 && cached)
				ret = guestmem_cache_read(&c, off, &got, sizeof(got));
			else
				ret = guestmem_read(r->gm, r->gpa + off, &got, sizeof(got));
		}
		if (ret == -ENXIO) {
			r->misses++;
			cached = false;
		} else if (ret) {
			r->bad_ret = ret;
			r->bad++;
		} else if (got != val && got != 0) {
			r->bad_val = got;
			r->bad++;
		} else {
			WRITE_ONCE(r->reads, r->reads + 1);
		}
		cond_resched();
	}
	return 0;
}

/*
 * Removal frees a VMALLOC region only after an RCU grace period, so the
 * fast paths (RCU-sched, no wait by the removal) never touch freed memory:
 * readers racing with the removal and re-adding of their region see their
 * own writes, a new zeroed region, or -ENXIO, never freed memory (which
 * KASAN would report).
 */
static void gm_cache_removal_race(struct kunit *test)
{
	struct guestmem *gm = test->priv;
	struct task_struct *tasks[GMT_RACERS];
	struct gmt_reader readers[GMT_RACERS];
	unsigned long reads = 0, misses = 0;
	unsigned int i, n = 0;
	u64 gpa = GMT_P(16);

	KUNIT_ASSERT_EQ(test, gmt_add(gm, 16, 2, 0), 0);
	for (i = 0; i < GMT_RACERS; i++) {
		struct task_struct *t;

		readers[i] = (struct gmt_reader){ .gm = gm, .gpa = gpa, .id = i };
		init_completion(&readers[i].started);
		t = kthread_create(gmt_reader_fn, &readers[i], "gmt_reader/%u", i);
		if (IS_ERR(t)) {
			KUNIT_FAIL(test, "kthread_create: %ld", PTR_ERR(t));
			break;
		}
		get_task_struct(t);
		tasks[n++] = t;
		wake_up_process(t);
	}
	/*
	 * Every reader runs, and has read its own write once, before the
	 * first removal.
	 */
	for (i = 0; i < n; i++) {
		unsigned long deadline = jiffies + 30 * HZ;

		wait_for_completion(&readers[i].started);
		while (!READ_ONCE(readers[i].reads) && time_before(jiffies, deadline))
			usleep_range(500, 1000);
		if (!READ_ONCE(readers[i].reads))
			KUNIT_FAIL(test, "reader %u read nothing in 30 s", i);
	}
	for (i = 0; i < GMT_REMOVALS && n == GMT_RACERS; i++) {
		if (guestmem_remove_region(gm, gpa, GMT_PG(2)) ||
		    gmt_add(gm, 16, 2, 0)) {
			KUNIT_FAIL(test, "removal %u: remove or add failed", i);
			break;
		}
		cond_resched();
	}
	for (i = 0; i < n; i++) {
		kthread_stop(tasks[i]);
		put_task_struct(tasks[i]);
		reads += readers[i].reads;
		misses += readers[i].misses;
		KUNIT_EXPECT_EQ_MSG(test, readers[i].bad, 0U,
				    "reader %u: last error %d, last wrong value %#llx",
				    i, readers[i].bad_ret, readers[i].bad_val);
	}
	KUNIT_ASSERT_EQ(test, n, GMT_RACERS);
	kunit_info(test, "%u removals: %lu good reads, %lu misses", GMT_REMOVALS,
		   reads, misses);
}

static struct kunit_case gm_cache_cases[] = {
	KUNIT_CASE(gm_cache_init_ok),
	KUNIT_CASE(gm_cache_init_errors),
	KUNIT_CASE(gm_cache_rw),
	KUNIT_CASE(gm_cache_range),
	KUNIT_CASE(gm_cache_unrelated_change),
	KUNIT_CASE(gm_cache_removed),
	KUNIT_CASE(gm_cache_readded),
	KUNIT_CASE(gm_cache_readonly),
	KUNIT_CASE(gm_cache_removal_race),
	{}
};

static struct kunit_suite gm_cache_suite = {
	.name = "guestmem_cache",
	.init = gmt_cache_init,
	.test_cases = gm_cache_cases,
};

kunit_test_suites(&gm_atomic_suite, &gm_fill_suite, &gm_copy_suite,
		  &gm_dirty_suite, &gm_cache_suite);

MODULE_DESCRIPTION("KUnit tests for guestmem's atomics, fill, copy, dirty log and caches");
MODULE_LICENSE("GPL");
