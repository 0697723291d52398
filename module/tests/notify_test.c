// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_notify: guestmem's device notifier (module/notify.c).
 * The eventfd paths need files a test module cannot open; they are covered
 * by the kselftests of the samples.  These cover what unbind promises: no
 * run of the device's work after it returns, even when the work queues
 * itself again (as a device bounding the length of one run does).
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/slab.h>
#include <linux/guestmem_device.h>

/**
 * struct gmn_dev - a device whose work counts its runs
 * @n: the notifier
 * @runs: runs of the work
 * @requeue: the work kicks itself at the end of each run
 * @running: a run is in progress (checked for overlap)
 * @overlaps: runs that found another one in progress
 */
struct gmn_dev {
	struct guestmem_notifier n;
	atomic_t runs;
	bool requeue;
	atomic_t running;
	atomic_t overlaps;
};

static void gmn_work(struct guestmem_notifier *n)
{
	struct gmn_dev *d = container_of(n, struct gmn_dev, n);

	if (atomic_inc_return(&d->running) > 1)
		atomic_inc(&d->overlaps);
	atomic_inc(&d->runs);
	usleep_range(200, 400);
	atomic_dec(&d->running);
	if (READ_ONCE(d->requeue))
		guestmem_notifier_kick(n);
}

static struct gmn_dev *gmn_dev_create(struct kunit *test)
{
	struct gmn_dev *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, d);
	guestmem_notifier_init(&d->n, gmn_work, NULL);
	return d;
}

/* Stop a work that may still requeue itself (only if the test failed). */
static void gmn_dev_quiesce(struct gmn_dev *d)
{
	WRITE_ONCE(d->requeue, false);
	guestmem_notifier_flush(&d->n);
	guestmem_notifier_flush(&d->n);
}

/* A work that kicks itself stops for good at unbind. */
static void guestmem_test_notify_unbind_stops_requeue(struct kunit *test)
{
	struct gmn_dev *d = gmn_dev_create(test);
	int round, runs;

	for (round = 0; round < 5; round++) {
		WRITE_ONCE(d->requeue, true);
		guestmem_notifier_kick(&d->n);
		msleep(20);
		guestmem_notifier_unbind(&d->n);
		runs = atomic_read(&d->runs);
		msleep(30);
		KUNIT_EXPECT_EQ_MSG(test, atomic_read(&d->runs), runs,
				    "round %d: the work ran after unbind returned",
				    round);
		KUNIT_EXPECT_GT(test, runs, 0);
		gmn_dev_quiesce(d);
		atomic_set(&d->runs, 0);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&d->overlaps), 0);
}

/* After unbind, an explicit kick runs the work again, once per kick. */
static void guestmem_test_notify_kick_after_unbind(struct kunit *test)
{
	struct gmn_dev *d = gmn_dev_create(test);

	guestmem_notifier_unbind(&d->n);
	guestmem_notifier_kick(&d->n);
	guestmem_notifier_flush(&d->n);
	KUNIT_EXPECT_EQ(test, atomic_read(&d->runs), 1);
	guestmem_notifier_kick(&d->n);
	guestmem_notifier_unbind(&d->n);
	KUNIT_EXPECT_EQ(test, atomic_read(&d->runs), 2);
	KUNIT_EXPECT_FALSE(test, guestmem_notifier_signal(&d->n));
}

/* A bind of nothing queues no run; binding a non-eventfd is -EINVAL. */
static void guestmem_test_notify_bind_args(struct kunit *test)
{
	struct gmn_dev *d = gmn_dev_create(test);

	KUNIT_EXPECT_EQ(test, guestmem_notifier_bind(&d->n, NULL, NULL), 0);
	guestmem_notifier_flush(&d->n);
	KUNIT_EXPECT_EQ(test, atomic_read(&d->runs), 0);
	KUNIT_EXPECT_EQ(test, guestmem_notifier_bind_fd(&d->n, -1, -1), 0);
	guestmem_notifier_unbind(&d->n);
	KUNIT_EXPECT_EQ(test, atomic_read(&d->runs), 0);
}

static struct kunit_case guestmem_notify_cases[] = {
	KUNIT_CASE(guestmem_test_notify_unbind_stops_requeue),
	KUNIT_CASE(guestmem_test_notify_kick_after_unbind),
	KUNIT_CASE(guestmem_test_notify_bind_args),
	{}
};

static struct kunit_suite guestmem_notify_suite = {
	.name = "guestmem_notify",
	.test_cases = guestmem_notify_cases,
};

kunit_test_suite(guestmem_notify_suite);
