// SPDX-License-Identifier: GPL-2.0
/*
 * Kick and interrupt eventfds of an emulated device.
 *
 * The shape is vhost's (drivers/vhost/vhost.c: vhost_poll_func(),
 * vhost_poll_wakeup(), vhost_poll_start(), vhost_poll_stop() and
 * vhost_dev_flush()): the notifier puts a wait queue entry of its own on the
 * kick eventfd's wait queue through vfs_poll(); the entry's wake function
 * runs under that wait queue's spinlock (eventfd_signal() and write(2) on the
 * eventfd take it with interrupts off), so it only queues the device's work
 * and never signals another eventfd (eventfd_signal() from inside a wake-up
 * warns).  The work runs in process context on a workqueue and signals the
 * interrupt eventfd, as KVM's irqfd expects (virt/kvm/eventfd.c).
 *
 * Unbinding first makes guestmem_notifier_kick() a no-op (so a run that
 * requeues itself to bound its length, as vhost_exceeds_weight() makes
 * vhost's handlers do, cannot slip a run past the flush) and takes the entry
 * off the wait queue (no eventfd kick can queue the work), then flushes the
 * work (a kick that was queued before is served, with the interrupt eventfd
 * still bound, so no completion goes unsignalled), and only then drops the
 * interrupt eventfd and the kick file.  The kick eventfd's count is never
 * consumed, so chains a suppressed requeue left behind are served by the
 * run every bind queues.  A device unbinds before it frees itself; as its
 * module depends on guestmem's exports, guestmem.ko cannot be unloaded
 * while any notifier exists, and none has work left once unbound.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/guestmem_device.h>
#include "compat.h"
#include "internal.h"

static void gm_notifier_work(struct work_struct *work)
{
	struct guestmem_notifier *n =
		container_of(work, struct guestmem_notifier, work);

	n->fn(n);
}

/* Under the kick eventfd's wait queue lock: only queue the work. */
static int gm_notifier_wake(wait_queue_entry_t *wait, unsigned int mode,
			    int sync, void *key)
{
	struct guestmem_notifier *n =
		container_of(wait, struct guestmem_notifier, wait);

	if (key_to_poll(key) & EPOLLIN)
		queue_work(n->wq, &n->work);
	return 0;
}

static void gm_notifier_queue_proc(struct file *file, wait_queue_head_t *wqh,
				   poll_table *pt)
{
	struct guestmem_notifier *n =
		container_of(pt, struct guestmem_notifier, pt);

	n->wqh = wqh;
	add_wait_queue(wqh, &n->wait);
}

/**
 * guestmem_notifier_init - set up an unbound notifier
 * @n: the notifier, embedded in the device
 * @fn: the device's work, run after each kick
 * @wq: the workqueue to run @fn on, or NULL for system_unbound_wq (a
 *	device's own workqueue, e.g. alloc_workqueue() with WQ_UNBOUND, keeps
 *	its work apart from the system's)
 *
 * Context: any; does not sleep.
 */
void guestmem_notifier_init(struct guestmem_notifier *n, guestmem_kick_fn_t fn,
			    struct workqueue_struct *wq)
{
	memset(n, 0, sizeof(*n));
	n->fn = fn;
	n->wq = wq ?: system_unbound_wq;
	INIT_WORK(&n->work, gm_notifier_work);
	init_waitqueue_func_entry(&n->wait, gm_notifier_wake);
	init_poll_funcptr(&n->pt, gm_notifier_queue_proc);
	mutex_init(&n->bind_lock);
	spin_lock_init(&n->call_lock);
}
EXPORT_SYMBOL_GPL(guestmem_notifier_init);

/*
 * Take @n off its kick eventfd and wait for its work, then drop the
 * eventfds; bind_lock held.  Nothing queues the work once this returns.
 */
static void gm_notifier_stop(struct guestmem_notifier *n)
{
	struct eventfd_ctx *call;
	unsigned long flags;
	struct file *kick;

	lockdep_assert_held(&n->bind_lock);
	spin_lock_irqsave(&n->call_lock, flags);
	n->stopping = true;
	spin_unlock_irqrestore(&n->call_lock, flags);
	if (n->wqh) {
		remove_wait_queue(n->wqh, &n->wait);
		n->wqh = NULL;
	}
	/*
	 * No kick can queue the work now, not even the work's own: serve the
	 * run queued or running, if any, with @call still bound.
	 */
	flush_work(&n->work);

	spin_lock_irqsave(&n->call_lock, flags);
	call = n->call;
	n->call = NULL;
	n->stopping = false;
	spin_unlock_irqrestore(&n->call_lock, flags);
	kick = n->kick;
	n->kick = NULL;

	if (call)
		eventfd_ctx_put(call);
	if (kick)
		fput(kick);
}

/**
 * guestmem_notifier_bind - bind a kick eventfd and an interrupt eventfd
 * @n: an initialised notifier
 * @kick: an eventfd file whose wake-ups queue the device's work, or NULL
 * @call: an eventfd file guestmem_notifier_signal() signals, or NULL
 *
 * Both files are checked first: if either is not an eventfd, nothing
 * changes.  Then any previous binding is dropped, as
 * guestmem_notifier_unbind() does.  The notifier takes references of its own
 * on @kick and on @call's eventfd context.  With @kick, the work is queued
 * once at the end of the bind, whether or not @kick is signalled: requests
 * made before the bind, or left by the last run before an unbind, are
 * served (a spurious run finds nothing to do).
 *
 * Context: process context; sleeps.  Not from the notifier's own work.
 * Return: 0; -EINVAL if @kick or @call is not an eventfd (the previous
 * binding stays), or if @kick reports an error (EPOLLERR: its count is at
 * the maximum; then nothing is bound).
 */
int guestmem_notifier_bind(struct guestmem_notifier *n, struct file *kick,
			   struct file *call)
{
	struct eventfd_ctx *kctx, *cctx = NULL;
	unsigned long flags;
	__poll_t mask;

	if (kick) {
		/* Only an eventfd: its wake-ups carry EPOLLIN and nothing else. */
		kctx = eventfd_ctx_fileget(kick);
		if (IS_ERR(kctx))
			return PTR_ERR(kctx);
		eventfd_ctx_put(kctx);
	}
	if (call) {
		cctx = eventfd_ctx_fileget(call);
		if (IS_ERR(cctx))
			return PTR_ERR(cctx);
	}

	mutex_lock(&n->bind_lock);
	gm_notifier_stop(n);
	spin_lock_irqsave(&n->call_lock, flags);
	n->call = cctx;
	spin_unlock_irqrestore(&n->call_lock, flags);
	if (kick) {
		n->kick = get_file(kick);
		mask = vfs_poll(kick, &n->pt);
		if (mask & EPOLLERR) {
			gm_notifier_stop(n);
			mutex_unlock(&n->bind_lock);
			return -EINVAL;
		}
		queue_work(n->wq, &n->work);
	}
	mutex_unlock(&n->bind_lock);
	return 0;
}
EXPORT_SYMBOL_GPL(guestmem_notifier_bind);

/**
 * guestmem_notifier_bind_fd - bind eventfds given by descriptor number
 * @n: an initialised notifier
 * @kick_fd: an eventfd of the calling process, or -1 for none
 * @call_fd: an eventfd of the calling process, or -1 for none
 *
 * As guestmem_notifier_bind().  The descriptors may be closed afterwards.
 *
 * Context: process context; sleeps.  Not from the notifier's own work.
 * Return: 0, -EBADF (not an open descriptor) or -EINVAL (not an eventfd).
 */
int guestmem_notifier_bind_fd(struct guestmem_notifier *n, int kick_fd,
			      int call_fd)
{
	struct file *kick = NULL, *call = NULL;
	int ret;

	if (kick_fd >= 0) {
		kick = eventfd_fget(kick_fd);
		if (IS_ERR(kick))
			return PTR_ERR(kick);
	}
	if (call_fd >= 0) {
		call = eventfd_fget(call_fd);
		if (IS_ERR(call)) {
			ret = PTR_ERR(call);
			goto put_kick;
		}
	}
	ret = guestmem_notifier_bind(n, kick, call);
	if (call)
		fput(call);
put_kick:
	if (kick)
		fput(kick);
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_notifier_bind_fd);

/**
 * guestmem_notifier_unbind - drop the eventfds and wait for the work
 * @n: an initialised notifier, bound or not
 *
 * Kicks stop queueing work, guestmem_notifier_kick() from the work itself
 * included; a run already queued or running completes (and may still
 * signal the interrupt eventfd); then the eventfds are released.  Once this
 * returns no work of @n is queued or running unless
 * guestmem_notifier_kick() is called again.  Call it before freeing the
 * device.
 *
 * Context: process context; sleeps.  Not from the notifier's own work, and
 * not with a lock held that the work takes.
 */
void guestmem_notifier_unbind(struct guestmem_notifier *n)
{
	mutex_lock(&n->bind_lock);
	gm_notifier_stop(n);
	mutex_unlock(&n->bind_lock);
}
EXPORT_SYMBOL_GPL(guestmem_notifier_unbind);

/**
 * guestmem_notifier_kick - queue the device's work as a kick would
 * @n: an initialised notifier
 *
 * For a doorbell that is not an eventfd (an ioctl, a test), and for the
 * work itself to run again later (to bound one run, as vhost does).  While
 * guestmem_notifier_unbind() or a bind is stopping @n, it does nothing.
 * The caller must not race this with freeing the device: unbind or flush
 * afterwards.
 *
 * Context: any (does not sleep).
 */
void guestmem_notifier_kick(struct guestmem_notifier *n)
{
	unsigned long flags;

	spin_lock_irqsave(&n->call_lock, flags);
	if (!n->stopping)
		queue_work(n->wq, &n->work);
	spin_unlock_irqrestore(&n->call_lock, flags);
}
EXPORT_SYMBOL_GPL(guestmem_notifier_kick);

/**
 * guestmem_notifier_flush - wait until queued work has run
 * @n: an initialised notifier
 *
 * Context: process context; sleeps.  Not from the notifier's own work.
 */
void guestmem_notifier_flush(struct guestmem_notifier *n)
{
	flush_work(&n->work);
}
EXPORT_SYMBOL_GPL(guestmem_notifier_flush);

/**
 * guestmem_notifier_signal - signal the interrupt eventfd
 * @n: an initialised notifier
 *
 * Adds 1 to the interrupt eventfd, if one is bound.  Call it from the
 * device's work (or another context), never from a wake function of an
 * eventfd.
 *
 * Context: any context that is not an eventfd wake-up (does not sleep).
 * Return: true if an eventfd was signalled.
 */
bool guestmem_notifier_signal(struct guestmem_notifier *n)
{
	bool signalled = false;
	unsigned long flags;

	spin_lock_irqsave(&n->call_lock, flags);
	if (n->call) {
		gm_eventfd_signal(n->call);
		signalled = true;
	}
	spin_unlock_irqrestore(&n->call_lock, flags);
	return signalled;
}
EXPORT_SYMBOL_GPL(guestmem_notifier_signal);
