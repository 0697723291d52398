/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem internals shared by the module's files.
 */
#ifndef _GUESTMEM_INTERNAL_H
#define _GUESTMEM_INTERNAL_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/guestmem.h>

struct mm_struct;
struct page;

/*
 * Locking
 * =======
 *
 * (As mm/rmap.c and Documentation/virt/kvm/locking.rst lay theirs out.)
 *
 * Locks and what they protect:
 *
 *   guestmem.lock (mutex)        region updates: publishing a new set,
 *                                ->retired, ->pending, ->vmalloc_bytes.
 *                                Never taken by readers.
 *   guestmem.srcu (SRCU)         the published set and every region in it,
 *                                for readers that may sleep (ioctls, faults,
 *                                ->access, walks, device work).
 *   RCU-sched (preempt off)      the fast paths (fastpath.h, cache.c): the
 *                                set and VMALLOC regions only, checked
 *                                against ->generation; a removed VMALLOC
 *                                region is freed after a normal grace period.
 *   guestmem.dirty_sem (rwsem)   read: a dirty-logged page's bit is set and
 *                                its PTE made writable in one step; write:
 *                                fetch-and-clear clears bits and zaps PTEs.
 *   guestmem.walk_lock (spin)    ->walkers.
 *   gm_region.dirty_bitmap       atomic bit operations, no lock.
 *   guestmem_notifier.bind_lock  (mutex) bind and unbind; call_lock (spin,
 *                                irqsave): ->call and ->stopping.
 *
 * Order (outer first):
 *
 *   guestmem.lock
 *     mmap_lock (read: pinning a USER region while adding it)
 *       guestmem.srcu (read: a fault, ->access)
 *         guestmem.dirty_sem
 *           i_mmap_rwsem (unmap_mapping_pages() of a CLEAR), then the
 *           MMU notifiers (KVM's mmu_lock)
 *             the PTE lock
 *
 * and, for removal, guestmem.lock -> waiting for guestmem.srcu readers ->
 * unmap_mapping_pages().  Because removal holds guestmem.lock while it
 * waits for readers, no SRCU reader may take guestmem.lock: a walk
 * callback's add or removal is refused with -EDEADLK.  guestmem.walk_lock
 * and a notifier's call_lock are innermost (call_lock then the interrupt
 * eventfd's wait-queue lock, in eventfd_signal()).  A kick eventfd's
 * wake function runs under that eventfd's wait-queue lock and only queues
 * work.
 */

/**
 * struct gm_region - one region of a space, immutable once published
 * @gpa: first guest physical address
 * @last: last guest physical address (@gpa + @size - 1, never wraps)
 * @size: size in bytes, page aligned
 * @user_addr: start of the user range for %GUESTMEM_BACKING_USER, else 0
 * @backing: %GUESTMEM_BACKING_*
 * @flags: %GUESTMEM_REGION_*
 * @kaddr: kernel mapping of the whole region (vmalloc, or vmap of @pages)
 * @pages: %GUESTMEM_BACKING_USER: the long-term pinned user pages
 * @npages: number of pages in the region
 * @mm: %GUESTMEM_BACKING_USER: the mm charged with @npages of locked_vm
 * @user: %GUESTMEM_BACKING_USER: the user charged with @npages of its
 *	locked_vm (held with get_uid()), or NULL (CAP_IPC_LOCK)
 * @dirty_bitmap: %GUESTMEM_REGION_DIRTY_LOG: one bit per page written
 * @free_work: frees a removed %GUESTMEM_BACKING_VMALLOC region after an
 *	RCU grace period (what removal needs, allocated with the region)
 * @batch_node: while a batch of adds is checked (under the space's lock),
 *	the region's place among the batch's new regions, sorted by GPA
 * @batch_next: while a batch of removals is checked (under the space's
 *	lock), the next region the batch removes; @batch_removed says the
 *	region is on that list
 * @batch_removed: see @batch_next
 */
struct gm_region {
	u64 gpa;
	u64 last;
	u64 size;
	u64 user_addr;
	u32 backing;
	u32 flags;
	void *kaddr;
	struct page **pages;
	unsigned long npages;
	struct mm_struct *mm;
	struct user_struct *user;
	unsigned long *dirty_bitmap;
	struct rcu_work free_work;
	struct rb_node batch_node;
	struct gm_region *batch_next;
	bool batch_removed;
};

/**
 * struct gm_key - a region as the lookup sees it
 * @last: the region's last GPA (the key of the binary search)
 * @gpa: its first GPA
 * @kaddr: its kernel mapping, with GM_KEY_SRCU set in bit 0 when only
 *	SRCU readers may use it (see gm_key_kaddr())
 * @region: the region
 */
struct gm_key {
	u64 last;
	u64 gpa;
	void *kaddr;
	struct gm_region *region;
};

/*
 * Which readers may touch a region's memory.  The fast paths read under
 * RCU-sched, which guestmem_remove_region() does not wait for: it frees a
 * removed region after a normal grace period instead.  That suits only
 * memory the module owns (VMALLOC): it is zapped from every mapping (and so
 * from KVM) before the removal returns, and a late RCU-sched access still
 * finds it allocated.  The pages of a USER region are the caller's,
 * unpinned when the removal returns, so only SRCU readers, whom the removal
 * waits for, may touch them: their keys carry GM_KEY_SRCU, and the
 * RCU-sched paths leave them to a path under SRCU.
 */
#define GM_KEY_SRCU	1UL

/* The key's kernel address; under SRCU, or if GM_KEY_SRCU is clear. */
static inline void *gm_key_kaddr(const struct gm_key *key)
{
	return (void *)((unsigned long)key->kaddr & ~GM_KEY_SRCU);
}

/**
 * struct gm_set - an immutable snapshot of a space's regions
 * @rcu: frees the snapshot once no RCU-sched reader can see it
 * @next: next on guestmem.pending
 * @count: number of regions
 * @capacity: number of keys the allocation holds (at least @count)
 * @total_size: sum of the region sizes
 * @generation: the space's generation when this snapshot was published
 * @tops: the last GPA of each block of GM_KEYS_PER_TOP keys (the last
 *	block may be shorter), the first level of the search: a search reads
 *	this small array and one block of @keys (in the same allocation,
 *	after @keys)
 * @keys: the @count regions sorted by GPA, non-overlapping, with what a
 *	lookup and a small access need of each packed beside it
 */
struct gm_set {
	struct rcu_head rcu;
	struct gm_set *next;
	unsigned int count;
	unsigned int capacity;
	u64 total_size;
	u64 generation;
	u64 *tops;
	struct gm_key keys[];
};

#define GM_KEYS_PER_TOP	64

/**
 * struct gm_counters - per-CPU access counters (debugfs) and lookup hint

 * @reads: read accesses (ioctl, read family, in-kernel)
 * @writes: write accesses
 * @read_bytes: bytes read
 * @written_bytes: bytes written
 * @errors: accesses that failed
 * @faults: mmap page faults
 * @lookups: region lookups (but those of @hinted)
 * @hint_hits: lookups answered by the last-hit hint (but those of @hinted)
 * @hinted: fast-path accesses answered by the last-hit hint: each is one
 *	more lookup and hint hit, counted once here to keep that path short
 * @hint: index of the region of this CPU's last successful lookup, tried
 *	first by the next one; per CPU (as KVM keeps a last-used memslot per
 *	vCPU), so that readers on several CPUs do not bounce its cache line.
 *	Only a hint: it may be stale or from an older snapshot, and is checked
 *	against the snapshot of the lookup.
 */
struct gm_counters {
	u64 reads;
	u64 writes;
	u64 read_bytes;
	u64 written_bytes;
	u64 errors;
	u64 faults;
	u64 lookups;
	u64 hint_hits;
	u64 hinted;
	unsigned int hint;
};

/**
 * struct guestmem - a guest physical address space
 * @ref: references: the owning file, in-kernel users
 * @lock: serialises region updates (never taken by readers)
 * @set: the published region snapshot, read under @srcu
 * @srcu: protects readers of @set, who may sleep
 * @generation: the generation of @set, readable without entering @srcu
 * @retired: the snapshot the last update replaced (under @lock), kept for
 *	a removal that cannot allocate: it has room for one key fewer
 *	than @set holds, and is free of readers after an SRCU grace period
 *	and once @retired_rcu has elapsed
 * @retired_rcu: RCU grace-period cookie taken when @retired was replaced
 * @pending: snapshots replaced before @retired, maybe still read under
 *	SRCU, freed after the space's next SRCU grace period, or handed to
 *	call_srcu() in one piece when they grow large (under @lock)
 * @pending_keys: room for keys of the @pending snapshots, a measure of
 *	their memory
 * @vmalloc_bytes: bytes of the space's VMALLOC regions (under @lock),
 *	bounded by guestmem_max_vmalloc_mb
 * @mapping: the address_space of the owning file's mappings, so that
 *	removing a region zaps exactly this space's PTEs
 * @dirty_sem: held for write by dirty-log fetch-and-clear, for read while a
 *	mapping's PTE of a dirty-logged page is made writable
 * @counters: per-CPU access counters and lookup hints
 * @walk_lock: protects @walkers
 * @walkers: the struct gm_walker of each guestmem_walk_chunks() running
 * @walk_misuse: calls made from a walk callback that must not be (a
 *	removal, the last put), refused or deferred
 * @walk_misuse_warned: the warning about them was given (once per space)
 * @id: number of the space, unique while the module is loaded
 * @owner: thread group that created the space
 * @debugfs: the space's debugfs file
 */
struct guestmem {
	struct kref ref;
	struct mutex lock;		/* serialises region updates */
	struct gm_set __rcu *set;
	struct srcu_struct srcu;
	u64 generation;
	struct gm_set *retired;
	unsigned long retired_rcu;
	struct gm_set *pending;
	unsigned long pending_keys;
	u64 vmalloc_bytes;
	struct address_space mapping;
	struct rw_semaphore dirty_sem;
	struct gm_counters __percpu *counters;
	spinlock_t walk_lock;		/* protects walkers */
	struct list_head walkers;
	atomic_t walk_misuse;
	bool walk_misuse_warned;
	unsigned int id;
	pid_t owner;
	struct dentry *debugfs;
};

static inline void gm_count_lookup(struct guestmem *gm, bool hint_hit)
{
	this_cpu_inc(gm->counters->lookups);
	if (hint_hit)
		this_cpu_inc(gm->counters->hint_hits);
}

static inline void gm_count_access(struct guestmem *gm, bool write, u64 bytes,
				   int err)
{
	if (write) {
		this_cpu_inc(gm->counters->writes);
		this_cpu_add(gm->counters->written_bytes, bytes);
	} else {
		this_cpu_inc(gm->counters->reads);
		this_cpu_add(gm->counters->read_bytes, bytes);
	}
	if (err)
		this_cpu_inc(gm->counters->errors);
}

extern unsigned int guestmem_max_regions;
extern struct workqueue_struct *gm_free_wq;
extern unsigned long guestmem_max_vmalloc_mb;

/*
 * A reference taken by guestmem_get_file() on a file opened without
 * FMODE_WRITE is read-only: it is the space's pointer with GM_REF_RO set in
 * its low bit (struct guestmem is word aligned).  Every exported function
 * takes the space with gm_ref() and fails a changing call with -EBADF when
 * gm_ref_ro().
 */
#define GM_REF_RO	1UL

static inline struct guestmem *gm_ref(struct guestmem *ref)
{
	return (struct guestmem *)((unsigned long)ref & ~GM_REF_RO);
}

static inline bool gm_ref_ro(const struct guestmem *ref)
{
	return (unsigned long)ref & GM_REF_RO;
}

/* Whether the holder of @file may change its space (-EBADF if not). */
static inline bool gm_file_writable(const struct file *file)
{
	return file->f_mode & FMODE_WRITE;
}

/**
 * struct gm_walker - a guestmem_walk_chunks() in progress
 * @node: in guestmem.walkers
 * @task: the task walking, which its callbacks run in
 */
struct gm_walker {
	struct list_head node;
	struct task_struct *task;
};

/* space.c */
void gm_walk_begin(struct guestmem *gm, struct gm_walker *w);
void gm_walk_end(struct guestmem *gm, struct gm_walker *w);
struct gm_region *gm_search(struct guestmem *gm, struct gm_set *set, u64 gpa,
			    unsigned int *index);
struct gm_region *gm_lookup(struct guestmem *gm, struct gm_set *set, u64 gpa,
			    unsigned int *index);
u64 gm_next_region_start(struct gm_set *set, u64 gpa, bool *found);
int gm_check_range(u64 gpa, u64 len);

/*
 * Index of the first region of @set whose last byte is at or after @gpa
 * (@set->count if none).  Branch-free, so that the loop is short and
 * predictable whatever the keys.
 */
static inline unsigned int gm_set_search(struct gm_set *set, u64 gpa)
{
	unsigned int n = DIV_ROUND_UP(set->count, GM_KEYS_PER_TOP), block;
	const struct gm_key *base;
	const u64 *top = set->tops;

	if (!n)
		return 0;
	/* The first block whose last GPA is at or after @gpa ... */
	while (n > 1) {
		unsigned int half = n / 2;

		top = top[half] < gpa ? &top[half] : top;
		n -= half;
	}
	block = (top - set->tops) + (*top < gpa);
	if (block * GM_KEYS_PER_TOP >= set->count)
		return set->count;
	/* ... then the first region in it. */
	base = &set->keys[block * GM_KEYS_PER_TOP];
	n = min_t(unsigned int, set->count - block * GM_KEYS_PER_TOP,
		  GM_KEYS_PER_TOP);
	while (n > 1) {
		unsigned int half = n / 2;

		base = base[half].last < gpa ? &base[half] : base;
		n -= half;
	}
	return (base - set->keys) + (base->last < gpa);
}

/**
 * gm_search_key - find the key of the region holding a GPA, by binary search
 * @gm: the space, whose last-hit hint (this CPU's) is updated on success
 * @set: a snapshot of its regions, held under SRCU or RCU-sched
 * @gpa: the address
 *
 * Return: the region's key in @set, or NULL if @gpa is unbacked.
 */
static inline struct gm_key *gm_search_key(struct guestmem *gm,
					   struct gm_set *set, u64 gpa)
{
	unsigned int i = gm_set_search(set, gpa);

	if (i >= set->count || gpa < set->keys[i].gpa)
		return NULL;
	this_cpu_write(gm->counters->hint, i);
	return &set->keys[i];
}

static inline struct gm_set *gm_set_deref(struct guestmem *gm)
{
	return srcu_dereference(gm->set, &gm->srcu);
}

/* region.c */
int gm_region_validate(const struct guestmem_region *desc);
struct gm_region *gm_region_create(const struct guestmem_region *desc);
void gm_region_destroy(struct gm_region *r);
void gm_region_destroy_after_gp(struct gm_region *r, unsigned long rcu_gp);
void gm_region_mark_dirty(struct gm_region *r, u64 offset, u64 len);

/* access.c */

/**
 * typedef gm_actor_t - moves one chunk between guest memory and a buffer
 * @kaddr: kernel address of the guest bytes
 * @len: bytes to move
 * @offset: offset of this chunk from the start of the access
 * @ctx: the caller's buffer description
 *
 * Return: the number of bytes that could NOT be moved (0 on success), as
 * copy_to_user() does, or GM_ACTOR_STOP: the chunk was used whole (and,
 * in a write, maybe written) and the access ends there with -ECANCELED.
 */
typedef size_t (*gm_actor_t)(void *kaddr, size_t len, u64 offset, void *ctx);

#define GM_ACTOR_STOP	SIZE_MAX

int gm_access(struct guestmem *gm, u64 gpa, u64 len, bool write, bool partial,
	      gm_actor_t actor, void *ctx, u64 *done);

/*
 * The largest accesses that take the fast path (one region, RCU-sched, no
 * walk): from kernel buffers, and from user buffers through a bounce
 * buffer on the stack.
 */
#define GM_FAST_KERNEL_MAX	256
#define GM_FAST_USER_MAX	64

/* Actors for a user buffer: @ctx points to a char __user * */
size_t gm_actor_copy_to_user(void *kaddr, size_t len, u64 offset, void *ctx);
size_t gm_actor_copy_from_user(void *kaddr, size_t len, u64 offset, void *ctx);

/* dirty.c */
int gm_ioctl_get_dirty_log(struct guestmem *gm, void __user *argp);

/* ioctl.c */
long gm_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* file.c */
extern const struct file_operations gm_fops;

/* space.c */
struct guestmem *gm_alloc(void);

/* debugfs.c */
void gm_debugfs_add(struct guestmem *gm);
void gm_debugfs_remove(struct guestmem *gm);
void gm_debugfs_init(void);
void gm_debugfs_exit(void);

#endif /* _GUESTMEM_INTERNAL_H */
