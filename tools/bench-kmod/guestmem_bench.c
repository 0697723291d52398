// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem_bench: the in-kernel rows of the guestmem benchmarks (B5, B5c,
 * B5x), measured through the exported API of include/linux/guestmem.h.
 *
 * Reading /sys/kernel/debug/guestmem_bench/run builds a private space,
 * times each row's guestmem side and its peer in alternating slices of
 * about min_ms / 25 (gm, peer, peer, gm, ...) until each side has run for
 * at least min_ms and 25 slices, so that drift and load hit both alike,
 * and prints one line per pair of slices and a few lines timing the
 * primitives the rows are made of:
 *
 *	slice <row> <rep> <gm ns> <gm ops> <gm units/op> <peer ns> <peer ops> <peer units/op>
 *	diag <name> <ns> <ops>
 *	error <text>
 *
 * Times come from ktime_get_ns().  tools/bench/guestmem-bench turns the
 * lines into the table.
 */
#include <linux/compiler.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/guestmem.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/string.h>
#include <linux/uaccess.h>

static unsigned int reps = 9;
module_param(reps, uint, 0644);
MODULE_PARM_DESC(reps, "Repetitions of each row (default 9)");

static unsigned int min_ms = 50;
module_param(min_ms, uint, 0644);
MODULE_PARM_DESC(min_ms, "Minimum duration of each side of a repetition in ms (default 50)");

/* B5, B5c: 8-byte reads cycling through the first 64 KiB of a 1 MiB region */
#define GMB_SMALL_GPA	0x100000ULL
#define GMB_SMALL_SIZE	SZ_1M
#define GMB_WINDOW	SZ_64K

/* B5x: 64 KiB read across the boundary of two adjacent 256 KiB regions */
#define GMB_X_GPA	0x10000000ULL
#define GMB_X_SIZE	SZ_256K
#define GMB_X_LEN	SZ_64K
#define GMB_X_START	(GMB_X_GPA + GMB_X_SIZE - GMB_X_LEN / 2)

#define GMB_MAX_REPS	64
#define GMB_SLICES	25	/* slices per side and repetition */

/* The peer of B5x keeps its own table of slots, as KVM keeps memslots. */
struct gmb_slot {
	u64 gpa;
	u64 size;
	void *kaddr;
};

struct gmb {
	struct guestmem *gm;
	struct guestmem_cache cache;
	void *small_kaddr;
	struct gmb_slot slots[2];
	unsigned int nr_slots;
	unsigned int last_slot;
	struct srcu_struct srcu;	/* the peer's "kvm->srcu" */
	void *buf;			/* GMB_X_LEN bytes */
	char __user *ubuf;		/* a page of the reader's, or NULL */
	size_t len8;			/* 8, out of the compiler's sight */
	int err;
};

typedef u64 (*gmb_fn_t)(struct gmb *b, u64 n);

static DEFINE_MUTEX(gmb_lock);
static struct dentry *gmb_dir;
static u64 gmb_sink;

/* ---- B5: guestmem_read() of 8 bytes vs memcpy() from the kernel address */

static u64 gmb_b5_gm(struct gmb *b, u64 n)
{
	u64 t0, i, v = 0, sum = 0;
	int err = 0;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++) {
		err |= guestmem_read(b->gm, GMB_SMALL_GPA + ((i * 8) & (GMB_WINDOW - 1)),
				     &v, sizeof(v));
		sum += v;
	}
	t0 = ktime_get_ns() - t0;
	b->err |= err;
	WRITE_ONCE(gmb_sink, sum);
	return t0;
}

static u64 gmb_b5_memcpy(struct gmb *b, u64 n)
{
	size_t len = b->len8;
	u64 t0, i, v = 0, sum = 0;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++) {
		memcpy(&v, b->small_kaddr + ((i * 8) & (GMB_WINDOW - 1)), len);
		sum += v;
	}
	t0 = ktime_get_ns() - t0;
	WRITE_ONCE(gmb_sink, sum);
	return t0;
}

/* ---- B5c: guestmem_cache_read() of 8 bytes vs the same memcpy() */

static u64 gmb_b5c_gm(struct gmb *b, u64 n)
{
	u64 t0, i, v = 0, sum = 0;
	int err = 0;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++) {
		err |= guestmem_cache_read(&b->cache, (i * 8) & (GMB_WINDOW - 1),
					   &v, sizeof(v));
		sum += v;
	}
	t0 = ktime_get_ns() - t0;
	b->err |= err;
	WRITE_ONCE(gmb_sink, sum);
	return t0;
}

/* ---- B5x: 64 KiB across two regions vs a per-page lookup-and-copy loop */

static u64 gmb_b5x_gm(struct gmb *b, u64 n)
{
	u64 t0, i;
	int err = 0;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		err |= guestmem_read(b->gm, GMB_X_START, b->buf, GMB_X_LEN);
	t0 = ktime_get_ns() - t0;
	b->err |= err;
	return t0;
}

/* The slot holding @gfn: the last one used, else a binary search. */
static noinline struct gmb_slot *gmb_slot_lookup(struct gmb *b, u64 gfn)
{
	unsigned int lo = 0, hi = b->nr_slots, i = READ_ONCE(b->last_slot);
	u64 gpa = gfn << PAGE_SHIFT;
	struct gmb_slot *s = &b->slots[i];

	if (gpa >= s->gpa && gpa - s->gpa < s->size)
		return s;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		s = &b->slots[mid];
		if (gpa < s->gpa) {
			hi = mid;
		} else if (gpa - s->gpa >= s->size) {
			lo = mid + 1;
		} else {
			WRITE_ONCE(b->last_slot, mid);
			return s;
		}
	}
	return NULL;
}

/* One page's part of the read: look the page up, copy from it. */
static noinline int gmb_read_page(struct gmb *b, u64 gfn, void *data,
				  unsigned int offset, unsigned int len)
{
	struct gmb_slot *s = gmb_slot_lookup(b, gfn);

	if (!s)
		return -EFAULT;
	memcpy(data, s->kaddr + ((gfn << PAGE_SHIFT) - s->gpa) + offset, len);
	return 0;
}

/* kvm_read_guest()'s shape: page by page, under the caller's SRCU. */
static int gmb_read_per_page(struct gmb *b, u64 gpa, void *data, size_t len)
{
	unsigned int offset = offset_in_page(gpa);
	u64 gfn = gpa >> PAGE_SHIFT;
	int idx, ret = 0;

	idx = srcu_read_lock(&b->srcu);
	while (len) {
		unsigned int seg = min_t(size_t, len, PAGE_SIZE - offset);

		ret = gmb_read_page(b, gfn, data, offset, seg);
		if (ret)
			break;
		offset = 0;
		len -= seg;
		data += seg;
		gfn++;
	}
	srcu_read_unlock(&b->srcu, idx);
	return ret;
}

static u64 gmb_b5x_peer(struct gmb *b, u64 n)
{
	u64 t0, i;
	int err = 0;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		err |= gmb_read_per_page(b, GMB_X_START, b->buf, GMB_X_LEN);
	t0 = ktime_get_ns() - t0;
	b->err |= err;
	return t0;
}

/* ---- diagnostics: the primitives the rows are made of */

static u64 gmb_diag_loop(struct gmb *b, u64 n)
{
	u64 t0, i;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		barrier();
	return ktime_get_ns() - t0;
}

static u64 gmb_diag_inline_load(struct gmb *b, u64 n)
{
	u64 t0, i, v, sum = 0;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++) {
		memcpy(&v, b->small_kaddr + ((i * 8) & (GMB_WINDOW - 1)), sizeof(v));
		sum += v;
		barrier();
	}
	t0 = ktime_get_ns() - t0;
	WRITE_ONCE(gmb_sink, sum);
	return t0;
}

static noinline u64 gmb_nop(u64 x)
{
	asm volatile("" : "+r" (x));
	return x + 1;
}

static u64 (*gmb_nop_ptr)(u64 x) = gmb_nop;

static u64 gmb_diag_call(struct gmb *b, u64 n)
{
	u64 t0, i, sum = 0;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		sum += gmb_nop(i);
	t0 = ktime_get_ns() - t0;
	WRITE_ONCE(gmb_sink, sum);
	return t0;
}

static u64 gmb_diag_indirect_call(struct gmb *b, u64 n)
{
	u64 t0, i, sum = 0;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		sum += READ_ONCE(gmb_nop_ptr)(i);
	t0 = ktime_get_ns() - t0;
	WRITE_ONCE(gmb_sink, sum);
	return t0;
}

static u64 gmb_diag_preempt(struct gmb *b, u64 n)
{
	u64 t0, i;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++) {
		preempt_disable();
		barrier();
		preempt_enable();
	}
	return ktime_get_ns() - t0;
}

static u64 gmb_diag_mb(struct gmb *b, u64 n)
{
	u64 t0, i;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		smp_mb();	/* timed: the full barrier each SRCU read side pays twice */
	return ktime_get_ns() - t0;
}

static u64 gmb_diag_srcu(struct gmb *b, u64 n)
{
	u64 t0, i;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++) {
		int idx = srcu_read_lock(&b->srcu);

		srcu_read_unlock(&b->srcu, idx);
	}
	return ktime_get_ns() - t0;
}

static u64 gmb_diag_rcu(struct gmb *b, u64 n)
{
	u64 t0, i;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++) {
		rcu_read_lock();
		barrier();
		rcu_read_unlock();
	}
	return ktime_get_ns() - t0;
}

/* What a region removal waits for. */
static u64 gmb_diag_sync_srcu(struct gmb *b, u64 n)
{
	u64 t0, i;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		synchronize_srcu_expedited(&b->srcu);
	return ktime_get_ns() - t0;
}

static u64 gmb_diag_sync_rcu(struct gmb *b, u64 n)
{
	u64 t0, i;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		synchronize_rcu_expedited();
	return ktime_get_ns() - t0;
}

static u64 gmb_diag_generation(struct gmb *b, u64 n)
{
	u64 t0, i, sum = 0;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		sum += guestmem_generation(b->gm);
	t0 = ktime_get_ns() - t0;
	WRITE_ONCE(gmb_sink, sum);
	return t0;
}

static u64 gmb_diag_read0(struct gmb *b, u64 n)
{
	u64 t0, i, v = 0;
	int err = 0;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		err |= guestmem_read(b->gm, GMB_SMALL_GPA, &v, 0);
	t0 = ktime_get_ns() - t0;
	b->err |= err;
	return t0;
}

/* copy_to_user() of 8 bytes of a region: hardened usercopy checks them. */
static u64 gmb_diag_copy_to_user(struct gmb *b, u64 n)
{
	size_t len = b->len8;
	unsigned long left = 0;
	u64 t0, i;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		left |= copy_to_user(b->ubuf, b->small_kaddr +
				     ((i * 8) & (GMB_WINDOW - 1)), len);
	t0 = ktime_get_ns() - t0;
	b->err |= left ? -EFAULT : 0;
	return t0;
}

/* The same without the object check. */
static u64 gmb_diag_raw_copy_to_user(struct gmb *b, u64 n)
{
	size_t len = b->len8;
	unsigned long left = 0;
	u64 t0, i;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++) {
		if (!access_ok(b->ubuf, len)) {
			left = len;
			break;
		}
		left |= raw_copy_to_user(b->ubuf, b->small_kaddr +
					 ((i * 8) & (GMB_WINDOW - 1)), len);
	}
	t0 = ktime_get_ns() - t0;
	b->err |= left ? -EFAULT : 0;
	return t0;
}

static u64 gmb_diag_ktime(struct gmb *b, u64 n)
{
	u64 t0, i, sum = 0;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		sum += ktime_get_ns();
	t0 = ktime_get_ns() - t0;
	WRITE_ONCE(gmb_sink, sum);
	return t0;
}

/* ---- measurement */

static u64 gmb_min_ns(void)
{
	return (u64)max(min_ms, 1U) * NSEC_PER_MSEC;
}

/* The operation count of one slice: a run of at least min_ms / GMB_SLICES. */
static u64 gmb_calibrate(struct gmb *b, gmb_fn_t fn)
{
	u64 slice_ns = gmb_min_ns() / GMB_SLICES, n = 1;
	int i;

	/*
	 * Warm up first: the first run of a code path pays for its
	 * translation by qemu, which must not pass for the cost of one
	 * operation.
	 */
	for (i = 0; i < 3; i++)
		fn(b, 1);
	for (;;) {
		u64 ns = fn(b, n);

		cond_resched();
		if (ns >= slice_ns || n >= (1ULL << 40) || b->err)
			return n;
		/* Aim at 1.2 slices; grow by 1.25x to 1000x. */
		if (!ns || ns < slice_ns / 833)
			n *= 1000;
		else
			n = max(n + n / 4, div64_u64(n * slice_ns * 6, ns * 5));
		n++;
	}
}

/* One measurement of a single function: slices until min_ms has passed. */
static void gmb_measure_one(struct gmb *b, gmb_fn_t fn, u64 n, u64 *ns,
			    u64 *ops)
{
	*ns = 0;
	*ops = 0;
	while (*ns < gmb_min_ns()) {
		*ns += fn(b, n);
		*ops += n;
		cond_resched();
	}
}

struct gmb_row {
	const char *id;
	gmb_fn_t gm, peer;
	unsigned int gm_units, peer_units;
};

static const struct gmb_row gmb_rows[] = {
	{ "B5", gmb_b5_gm, gmb_b5_memcpy, 1, 1 },
	{ "B5c", gmb_b5c_gm, gmb_b5_memcpy, 1, 1 },
	{ "B5x", gmb_b5x_gm, gmb_b5x_peer, GMB_X_LEN, GMB_X_LEN },
};

static const struct {
	const char *name;
	gmb_fn_t fn;
	bool user;		/* needs gmb.ubuf */
} gmb_diags[] = {
	{ "empty-loop", gmb_diag_loop },
	{ "inline-8-byte-load", gmb_diag_inline_load },
	{ "direct-call", gmb_diag_call },
	{ "indirect-call-retpoline", gmb_diag_indirect_call },
	{ "preempt_disable+enable", gmb_diag_preempt },
	{ "smp_mb", gmb_diag_mb },
	{ "memcpy-call-8", gmb_b5_memcpy },
	{ "srcu_read_lock+unlock", gmb_diag_srcu },
	{ "rcu_read_lock+unlock", gmb_diag_rcu },
	{ "guestmem_generation", gmb_diag_generation },
	{ "guestmem_read-len-0", gmb_diag_read0 },
	{ "copy_to_user-8-from-vmalloc", gmb_diag_copy_to_user, true },
	{ "raw_copy_to_user-8-from-vmalloc", gmb_diag_raw_copy_to_user, true },
	{ "synchronize_srcu_expedited", gmb_diag_sync_srcu },
	{ "synchronize_rcu_expedited", gmb_diag_sync_rcu },
	{ "ktime_get_ns", gmb_diag_ktime },
};

/*
 * Each repetition alternates slices of the two sides (who starts
 * alternates too) until each has run for at least min_ms in total and for
 * at least GMB_SLICES slices, so that the load of the machine weighs on
 * both alike; every pair of slices is printed for guestmem-bench.
 */
static void gmb_run_row(struct seq_file *m, struct gmb *b,
			const struct gmb_row *row, unsigned int nreps)
{
	u64 gn, pn, min_ns = gmb_min_ns();
	unsigned int i, k;

	gn = gmb_calibrate(b, row->gm);
	pn = gmb_calibrate(b, row->peer);
	for (i = 0; i < nreps; i++) {
		u64 gt = 0, pt = 0;

		for (k = i; gt < min_ns || pt < min_ns || k - i < GMB_SLICES;
		     k++) {
			u64 g, p;

			if (k % 2 == 0) {
				g = row->gm(b, gn);
				p = row->peer(b, pn);
			} else {
				p = row->peer(b, pn);
				g = row->gm(b, gn);
			}
			gt += g;
			pt += p;
			seq_printf(m, "slice %s %u %llu %llu %u %llu %llu %u\n",
				   row->id, i, g, gn, row->gm_units, p, pn,
				   row->peer_units);
			cond_resched();
		}
	}
}

static int gmb_chunk_kaddr(void *kaddr, u64 gpa, size_t len, void *priv)
{
	struct gmb *b = priv;

	if (b->nr_slots >= ARRAY_SIZE(b->slots))
		return -E2BIG;
	b->slots[b->nr_slots].gpa = gpa;
	b->slots[b->nr_slots].size = len;
	b->slots[b->nr_slots].kaddr = kaddr;
	b->nr_slots++;
	return 0;
}

static int gmb_add(struct gmb *b, u64 gpa, u64 size)
{
	struct guestmem_region r = {
		.gpa = gpa,
		.size = size,
		.backing = GUESTMEM_BACKING_VMALLOC,
	};

	return guestmem_add_region(b->gm, &r);
}

/* The space: a 1 MiB region (B5, B5c), two adjacent 256 KiB ones (B5x). */
static int gmb_setup(struct gmb *b)
{
	int ret;

	b->len8 = 8;
	b->gm = guestmem_create();
	if (IS_ERR(b->gm))
		return PTR_ERR(b->gm);
	ret = gmb_add(b, GMB_SMALL_GPA, GMB_SMALL_SIZE) ?:
	      gmb_add(b, GMB_X_GPA, GMB_X_SIZE) ?:
	      gmb_add(b, GMB_X_GPA + GMB_X_SIZE, GMB_X_SIZE) ?:
	      guestmem_fill(b->gm, GMB_SMALL_GPA, 0x5a, GMB_SMALL_SIZE) ?:
	      guestmem_fill(b->gm, GMB_X_GPA, 0xa5, 2 * GMB_X_SIZE);
	if (ret)
		return ret;
	/* The regions' kernel addresses, as the peers use them. */
	ret = guestmem_walk_chunks(b->gm, GMB_SMALL_GPA, GMB_SMALL_SIZE, false,
				   gmb_chunk_kaddr, b);
	if (ret || b->nr_slots != 1)
		return ret ?: -EINVAL;
	b->small_kaddr = b->slots[0].kaddr;
	b->nr_slots = 0;
	ret = guestmem_walk_chunks(b->gm, GMB_X_GPA, 2 * GMB_X_SIZE, false,
				   gmb_chunk_kaddr, b);
	if (ret || b->nr_slots != 2)
		return ret ?: -EINVAL;
	ret = guestmem_cache_init(&b->cache, b->gm, GMB_SMALL_GPA, GMB_WINDOW);
	if (ret)
		return ret;
	b->buf = kmalloc(GMB_X_LEN, GFP_KERNEL);
	if (!b->buf)
		return -ENOMEM;
	return init_srcu_struct(&b->srcu);
}

static int gmb_run_show(struct seq_file *m, void *unused)
{
	unsigned int nreps = clamp(reps, 1U, GMB_MAX_REPS), i, j;
	struct gmb *b;
	int ret;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	mutex_lock(&gmb_lock);
	ret = gmb_setup(b);
	if (ret) {
		seq_printf(m, "error setup %d\n", ret);
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(gmb_rows); i++)
		gmb_run_row(m, b, &gmb_rows[i], nreps);
	/* A page of the reading process, for the user-copy primitives. */
	if (current->mm) {
		unsigned long addr = vm_mmap(NULL, 0, PAGE_SIZE,
					     PROT_READ | PROT_WRITE,
					     MAP_PRIVATE | MAP_ANONYMOUS, 0);

		if (!IS_ERR_VALUE(addr))
			b->ubuf = (char __user *)addr;
	}
	for (i = 0; i < ARRAY_SIZE(gmb_diags); i++) {
		u64 n, ns, ops;

		if (gmb_diags[i].user && !b->ubuf)
			continue;
		n = gmb_calibrate(b, gmb_diags[i].fn);

		for (j = 0; j < 3; j++) {
			gmb_measure_one(b, gmb_diags[i].fn, n, &ns, &ops);
			seq_printf(m, "diag %s %llu %llu\n", gmb_diags[i].name,
				   ns, ops);
		}
	}
	if (b->ubuf)
		vm_munmap((unsigned long)b->ubuf, PAGE_SIZE);
	if (b->err)
		seq_printf(m, "error access %d\n", b->err);
	cleanup_srcu_struct(&b->srcu);
out:
	mutex_unlock(&gmb_lock);
	kfree(b->buf);
	guestmem_put(b->gm);
	kfree(b);
	return 0;
}

static int gmb_run_open(struct inode *inode, struct file *file)
{
	return single_open_size(file, gmb_run_show, NULL, SZ_256K);
}

static const struct file_operations gmb_run_fops = {
	.owner = THIS_MODULE,
	.open = gmb_run_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

static int __init gmb_init(void)
{
	gmb_dir = debugfs_create_dir("guestmem_bench", NULL);
	debugfs_create_file("run", 0400, gmb_dir, NULL, &gmb_run_fops);
	return 0;
}

static void __exit gmb_exit(void)
{
	debugfs_remove_recursive(gmb_dir);
}

module_init(gmb_init);
module_exit(gmb_exit);

MODULE_DESCRIPTION("In-kernel benchmarks of the guestmem API");
MODULE_AUTHOR("guestmem developers");
MODULE_LICENSE("GPL");
