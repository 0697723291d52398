/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the KUnit suites of guestmem_kunit.ko share (tests/helpers.c): spaces
 * and regions made for one test, byte patterns, the shadow model of a layout
 * of regions, and the model of guestmem_atomic().
 *
 * The tests use the exported in-kernel API of <linux/guestmem.h>, and only
 * VMALLOC regions unless a test attaches user memory to its kthread.  Every
 * space a helper creates is dropped when the test ends, which frees all of
 * its regions.
 *
 * Names: suite guestmem_X is tests/X_test.c, its cases guestmem_test_X_*;
 * helpers, fixtures and their types are gmt_* (the core's are gm_*).
 */
#ifndef _GUESTMEM_TESTS_HELPERS_H
#define _GUESTMEM_TESTS_HELPERS_H

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/guestmem.h>

/* Address (or length) of page @n. */
#define GMT_PG(n)	((u64)(n) * PAGE_SIZE)
/* First byte of the last page of the 64-bit space. */
#define GMT_TOP_PAGE	(U64_MAX - PAGE_SIZE + 1)
/* Where the suites lay out their regions: page @n of a layout is GMT_P(n). */
#define GMT_BASE	((u64)SZ_1G)
#define GMT_P(n)	(GMT_BASE + GMT_PG(n))

/* ---- spaces and regions ---- */

void gmt_put_action(void *gm);
struct guestmem *gmt_create(struct kunit *test);
struct guestmem_region gmt_desc(u64 gpa, u64 size, u32 flags);
int gmt_add(struct guestmem *gm, u64 gpa, u64 size, u32 flags);
int gmt_add_pages(struct guestmem *gm, unsigned int first, unsigned int pages,
		  u32 flags);
struct file *gmt_open_dev(struct kunit *test, int flags);
void gmt_expect_byte(struct kunit *test, struct guestmem *gm, u64 gpa,
		     int want_ret, u8 want);
void gmt_expect_region(struct kunit *test, struct guestmem *gm, u64 gpa,
		       u64 size, bool holes_around);

/* ---- threads racing with a test ---- */

/* Threads of the race tests. */
#define GMT_RACERS	4U

/**
 * struct gmt_thread - one thread of a &struct gmt_threads
 * @task: the kthread (a reference is held)
 * @fn: what it runs
 * @data: the argument of @fn
 * @started: @fn has been entered
 */
struct gmt_thread {
	struct task_struct *task;
	int (*fn)(void *data);
	void *data;
	struct completion started;
};

/**
 * struct gmt_threads - GMT_RACERS kthreads running one function
 * @n: threads started
 * @t: the threads
 */
struct gmt_threads {
	unsigned int n;
	struct gmt_thread t[GMT_RACERS];
};

unsigned int gmt_threads_start(struct kunit *test, struct gmt_threads *th,
			       int (*fn)(void *data), void *data, size_t size,
			       const char *name);
void gmt_threads_stop(struct gmt_threads *th);

/* ---- bytes ---- */

void gmt_pattern(u8 *buf, size_t len, unsigned int seed);
bool gmt_bytes_eq(struct kunit *test, const u8 *got, const u8 *want,
		  size_t len, const char *what);
bool gmt_all_bytes(struct kunit *test, const u8 *buf, u8 val, size_t len,
		   const char *what);

/* ---- the model of a layout ---- */

/**
 * struct gmt_layout - one region of a test layout
 * @first: its first page, counted from GMT_BASE
 * @pages: its length in pages
 * @flags: GUESTMEM_REGION_*
 */
struct gmt_layout {
	unsigned int first;
	unsigned int pages;
	u32 flags;
};

/**
 * struct gmt_ctx - a space laid out from GMT_BASE, and its model
 * @gm: the space
 * @layout: its regions, in GPA order
 * @nr_regions: entries in @layout
 * @pages: pages from GMT_BASE the model covers (to the end of the last region)
 * @model: what guest memory must hold, @pages pages (holes included)
 * @buf: @pages pages to read guest memory into
 */
struct gmt_ctx {
	struct guestmem *gm;
	const struct gmt_layout *layout;
	unsigned int nr_regions;
	unsigned int pages;
	u8 *model;
	u8 *buf;
};

struct gmt_ctx *gmt_ctx_create(struct kunit *test,
			       const struct gmt_layout *layout,
			       unsigned int nr_regions);
void gmt_check_model(struct kunit *test, struct gmt_ctx *ctx, const char *what);

/* Suite inits: test->priv is a &struct gmt_ctx of a layout of helpers.c. */
int gmt_access_init(struct kunit *test);	/* guestmem_access, guestmem_walk */
int gmt_fc_init(struct kunit *test);		/* guestmem_fill, guestmem_copy */
void gmt_repattern(struct kunit *test, struct gmt_ctx *ctx, unsigned int seed);

/* ---- guestmem_atomic() and the dirty log ---- */

u64 gmt_mask(u32 size);
void gmt_put(u8 *p, u32 size, u64 v);
u64 gmt_get(const u8 *p, u32 size);
unsigned long gmt_dirty(struct kunit *test, struct guestmem *gm,
			unsigned int first, unsigned int npages);

#define GMT_NR_SIZES	4
extern const u32 gmt_sizes[GMT_NR_SIZES];

enum gmt_cmp { GMT_CMP_NONE, GMT_CMP_MATCH, GMT_CMP_MISMATCH };

/**
 * struct gmt_op_case - an op of guestmem_atomic() as the tests try it
 * @name: for messages and parameter names
 * @op: GUESTMEM_ATOMIC_*
 * @cmp: for CMPXCHG, whether the expected value matches
 */
struct gmt_op_case {
	const char *name;
	u32 op;
	enum gmt_cmp cmp;
};

#define GMT_NR_OPS	8
extern const struct gmt_op_case gmt_op_cases[GMT_NR_OPS];

/* The content before each op: the top bit of every size is set. */
#define GMT_INIT	0xf6e5d4c3b2a19887ULL
#define GMT_OPERAND	0x8d7c6b5a49382716ULL
/* Added to GMT_INIT, this carries out of every size. */
#define GMT_ADDEND	0xd3c2b1a0f9e8d7c6ULL

/**
 * struct gmt_op_want - what an op is given and what it must leave behind
 * @in: *value on entry
 * @expected: CMPXCHG's expected value
 * @out: *value on return
 * @mem: the object's content afterwards
 * @dirty: whether its page is then dirty
 */
struct gmt_op_want {
	u64 in;
	u64 expected;
	u64 out;
	u64 mem;
	bool dirty;
};

struct gmt_op_want gmt_op_model(const struct gmt_op_case *c, u32 size);

#endif /* _GUESTMEM_TESTS_HELPERS_H */
