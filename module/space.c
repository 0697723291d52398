// SPDX-License-Identifier: GPL-2.0
/*
 * The address space: its region set, published RCU-style to lock-free
 * readers (SRCU, since readers may sleep copying to and from user memory),
 * and the updates that replace it.
 */
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include "internal.h"
#include "trace.h"

unsigned int guestmem_max_regions = 32768;
unsigned long guestmem_max_vmalloc_mb = 4096;
static atomic_t gm_next_id = ATOMIC_INIT(0);

/**
 * gm_check_range - validate a GPA range
 * @gpa: first byte
 * @len: number of bytes, may be 0
 *
 * Return: 0, or -EOVERFLOW if the last byte would pass 2^64 - 1.
 */
int gm_check_range(u64 gpa, u64 len)
{
	if (len && len - 1 > U64_MAX - gpa)
		return -EOVERFLOW;
	return 0;
}

/**
 * gm_search - find the region holding a GPA by binary search
 * @gm: the space, whose last-hit hint is updated on success
 * @set: a snapshot of its regions, held under SRCU or RCU-sched
 * @gpa: the address
 * @index: out: the region's index in @set (only when found)
 *
 * Return: the region, or NULL if @gpa is unbacked.
 */
struct gm_region *gm_search(struct guestmem *gm, struct gm_set *set, u64 gpa,
			    unsigned int *index)
{
	struct gm_key *key = gm_search_key(gm, set, gpa);

	if (!key)
		return NULL;
	*index = key - set->keys;
	return key->region;
}

/**
 * gm_lookup - find the region holding a GPA, counting the lookup
 * @gm: the space
 * @set: a snapshot of its regions, held under SRCU or RCU-sched
 * @gpa: the address
 * @index: out: the region's index in @set (only when found)
 *
 * Tries the region of the previous lookup first, then binary search.
 *
 * Return: the region, or NULL if @gpa is unbacked.
 */
struct gm_region *gm_lookup(struct guestmem *gm, struct gm_set *set, u64 gpa,
			    unsigned int *index)
{
	unsigned int i = this_cpu_read(gm->counters->hint);

	if (i < set->count && gpa >= set->keys[i].gpa &&
	    gpa <= set->keys[i].last) {
		gm_count_lookup(gm, true);
		*index = i;
		return set->keys[i].region;
	}
	gm_count_lookup(gm, false);
	return gm_search(gm, set, gpa, index);
}

/**
 * gm_next_region_start - find the first backed GPA at or after @gpa
 * @set: a snapshot of the regions
 * @gpa: where to start
 * @found: out: false if no backed byte lies at or after @gpa
 *
 * Return: the first backed GPA >= @gpa (when *@found).
 */
u64 gm_next_region_start(struct gm_set *set, u64 gpa, bool *found)
{
	unsigned int i = gm_set_search(set, gpa);

	*found = i < set->count;
	if (!*found)
		return 0;
	return max(gpa, set->keys[i].gpa);
}

/* Make @set, with room for @capacity keys, hold @count (unfilled) keys. */
static void gm_set_init(struct gm_set *set, unsigned int capacity,
			unsigned int count)
{
	set->count = count;
	set->capacity = capacity;
	set->total_size = 0;
	set->generation = 0;
	set->tops = (u64 *)&set->keys[capacity];
}

static struct gm_set *gm_set_alloc(unsigned int count, gfp_t gfp)
{
	struct gm_set *set;
	size_t size;

	size = size_add(struct_size(set, keys, count),
			array_size(DIV_ROUND_UP(count, GM_KEYS_PER_TOP),
				   sizeof(*set->tops)));
	/* Not zeroed: the caller fills every key. */
	set = kvmalloc(size, gfp);
	if (set)
		gm_set_init(set, count, count);
	return set;
}

/*
 * Fill @new from @old: without region @at of @old when @skip (a removal),
 * else leaving index @at of @new for the caller to fill (an insertion).
 */
static void gm_set_copy(struct gm_set *new, struct gm_set *old,
			unsigned int at, bool skip)
{
	unsigned int rest = old->count - at - skip;

	memcpy(new->keys, old->keys, at * sizeof(*new->keys));
	memcpy(new->keys + at + !skip, old->keys + at + skip,
	       rest * sizeof(*new->keys));
}

/*
 * A replaced snapshot may still be read under SRCU (most readers) or under
 * RCU-sched (the small-access fast paths): it waits on gm->pending for an
 * SRCU grace period, which removals wait for anyway, and is then freed
 * after an RCU grace period by kvfree_rcu(), which leaves no callback of
 * this module pending.  call_srcu() only for piles of them (see
 * gm_pending_trim()): a normal SRCU grace period in progress would hold up
 * the next removal's expedited one by jiffies.
 */
static void gm_set_list_free_rcu(struct gm_set *set)
{
	struct gm_set *next;

	for (; set; set = next) {
		next = set->next;
		kvfree_rcu(set, rcu);
	}
}

/* The SRCU callback of gm_pending_trim(): a list of sets, SRCU-free now. */
static void gm_set_list_free_srcu(struct rcu_head *rcu)
{
	gm_set_list_free_rcu(container_of(rcu, struct gm_set, rcu));
}

static void gm_pending_free(struct guestmem *gm)
{
	struct gm_set *set;

	lockdep_assert_held(&gm->lock);
	set = gm->pending;
	gm->pending = NULL;
	gm->pending_keys = 0;
	gm_set_list_free_rcu(set);
}

/**
 * gm_alloc - allocate an empty space
 *
 * Return: the space with one reference, or NULL.
 */
struct guestmem *gm_alloc(void)
{
	struct guestmem *gm;
	struct gm_set *set;

	gm = kzalloc(sizeof(*gm), GFP_KERNEL_ACCOUNT);
	if (!gm)
		return NULL;
	gm->counters = alloc_percpu_gfp(struct gm_counters, GFP_KERNEL_ACCOUNT);
	if (!gm->counters)
		goto free_gm;
	set = gm_set_alloc(0, GFP_KERNEL_ACCOUNT);
	if (!set)
		goto free_counters;
	if (init_srcu_struct(&gm->srcu))
		goto free_set;
	kref_init(&gm->ref);
	mutex_init(&gm->lock);
	spin_lock_init(&gm->walk_lock);
	INIT_LIST_HEAD(&gm->walkers);
	init_rwsem(&gm->dirty_sem);
	address_space_init_once(&gm->mapping);
	RCU_INIT_POINTER(gm->set, set);
	gm->id = atomic_inc_return(&gm_next_id);
	gm->owner = task_tgid_nr(current);
	gm_debugfs_add(gm);
	return gm;

free_set:
	kvfree(set);
free_counters:
	free_percpu(gm->counters);
free_gm:
	kfree(gm);
	return NULL;
}

static void gm_release(struct kref *ref)
{
	struct guestmem *gm = container_of(ref, struct guestmem, ref);
	struct gm_set *set = rcu_dereference_protected(gm->set, true);
	unsigned int i;

	gm_debugfs_remove(gm);
	/* No reader is left: every reader holds a reference. */
	for (i = 0; i < set->count; i++)
		gm_region_destroy(set->keys[i].region);
	srcu_barrier(&gm->srcu);
	cleanup_srcu_struct(&gm->srcu);
	while (gm->pending) {
		struct gm_set *next = gm->pending->next;

		kvfree(gm->pending);
		gm->pending = next;
	}
	kvfree(gm->retired);
	kvfree(set);
	mutex_destroy(&gm->lock);
	free_percpu(gm->counters);
	kfree(gm);
}

/*
 * Walks in progress.  A guestmem_walk_chunks() callback runs inside the
 * space's SRCU read section: a removal from it would wait for that section
 * (a deadlock), and the last put would free the space under it.  Each walk
 * registers its task, so that these calls, made from the task of a walk of
 * the same space, are refused (removal: -EDEADLK) or made harmless (the
 * walk holds a reference of its own), with a warning.
 */
void gm_walk_begin(struct guestmem *gm, struct gm_walker *w)
{
	w->task = current;
	kref_get(&gm->ref);
	spin_lock(&gm->walk_lock);
	list_add(&w->node, &gm->walkers);
	spin_unlock(&gm->walk_lock);
}

void gm_walk_end(struct guestmem *gm, struct gm_walker *w)
{
	spin_lock(&gm->walk_lock);
	list_del(&w->node);
	spin_unlock(&gm->walk_lock);
	/* The last reference only if a callback dropped its caller's. */
	kref_put(&gm->ref, gm_release);
}

/* How many walks of @gm the current task is inside (their callbacks). */
static unsigned int gm_walks_of_current(struct guestmem *gm)
{
	struct gm_walker *w;
	unsigned int n = 0;

	/* Our own walks were added by this task: no need to lock to see one. */
	if (list_empty_careful(&gm->walkers))
		return 0;
	spin_lock(&gm->walk_lock);
	list_for_each_entry(w, &gm->walkers, node)
		n += w->task == current;
	spin_unlock(&gm->walk_lock);
	return n;
}

static void gm_walk_misuse(struct guestmem *gm, const char *what)
{
	atomic_inc(&gm->walk_misuse);
	WARN(!xchg(&gm->walk_misuse_warned, true),
	     "guestmem: %s called from a guestmem_walk_chunks() callback of space %u\n",
	     what, gm->id);
}

/**
 * guestmem_create - create an empty guest physical address space
 *
 * The space is not reachable from user space.  Drop it with guestmem_put().
 *
 * Return: the new space holding one reference, or ERR_PTR(-ENOMEM).
 */
struct guestmem *guestmem_create(void)
{
	struct guestmem *gm = gm_alloc();

	return gm ? gm : ERR_PTR(-ENOMEM);
}
EXPORT_SYMBOL_GPL(guestmem_create);

/**
 * guestmem_get - take a reference on a space
 * @gm: the space, on which the caller already holds a reference (a
 *	read-only reference stays read-only: drop it with guestmem_put())
 */
void guestmem_get(struct guestmem *gm)
{
	kref_get(&gm_ref(gm)->ref);
}
EXPORT_SYMBOL_GPL(guestmem_get);

/**
 * guestmem_put - drop a reference on a space
 * @gm: the space; NULL and error pointers are ignored
 *
 * Dropping the last reference removes every region (freeing or unpinning
 * its memory).  Might sleep.  A guestmem_walk_chunks() callback must not
 * drop the last reference of the space it walks: that is caught with a
 * warning, and the space is freed when the walk ends.
 */
void guestmem_put(struct guestmem *gm)
{
	unsigned int walks;

	if (IS_ERR_OR_NULL(gm))
		return;
	gm = gm_ref(gm);
	walks = gm_walks_of_current(gm);
	/* The walks' own references keep the space; the walk frees it. */
	if (unlikely(walks) && kref_read(&gm->ref) <= walks + 1)
		gm_walk_misuse(gm, "the last put");
	else
		might_sleep();
	kref_put(&gm->ref, gm_release);
}
EXPORT_SYMBOL_GPL(guestmem_put);

/**
 * guestmem_get_file - take a reference on the space behind an open file
 * @file: a file of /dev/guestmem
 *
 * The file's open mode is honoured: through the reference taken on a file
 * opened without write access (O_RDONLY), every call that would change the
 * space or its memory (adding or removing regions, writes, fills, copies,
 * atomics other than LOAD, a dirty-log clear, writing chunks, a cache
 * write) fails with -EBADF, as write(2) on that file does.  Such a
 * reference is a different pointer from the space's read-write one.
 *
 * Return: the space, with a reference the caller drops with guestmem_put(),
 * or ERR_PTR(-EINVAL) if @file is not a guestmem file.
 */
struct guestmem *guestmem_get_file(struct file *file)
{
	struct guestmem *gm;

	if (!file || file->f_op != &gm_fops)
		return ERR_PTR(-EINVAL);
	gm = file->private_data;
	guestmem_get(gm);
	if (!gm_file_writable(file))
		gm = (struct guestmem *)((unsigned long)gm | GM_REF_RO);
	return gm;
}
EXPORT_SYMBOL_GPL(guestmem_get_file);

/**
 * guestmem_get_fd - take a reference on the space behind a file descriptor
 * @fd: a descriptor of the current process open on /dev/guestmem
 *
 * As guestmem_get_file(): a descriptor opened O_RDONLY gives a read-only
 * reference.
 *
 * Return: the space, with a reference the caller drops with guestmem_put(),
 * ERR_PTR(-EBADF) if @fd is not open, or ERR_PTR(-EINVAL) if it is not a
 * guestmem file.
 */
struct guestmem *guestmem_get_fd(int fd)
{
	struct file *file = fget(fd);
	struct guestmem *gm;

	if (!file)
		return ERR_PTR(-EBADF);
	gm = guestmem_get_file(file);
	fput(file);
	return gm;
}
EXPORT_SYMBOL_GPL(guestmem_get_fd);

/**
 * guestmem_generation - the space's generation
 * @gm: the space
 *
 * Return: a number bumped by every successful region add or remove.
 */
u64 guestmem_generation(struct guestmem *gm)
{
	return READ_ONCE(gm_ref(gm)->generation);
}
EXPORT_SYMBOL_GPL(guestmem_generation);

/*
 * Publish @new in place of @old (called with gm->lock held).  New readers
 * see @new; readers still looking at @old keep it until they leave their
 * read sections.  The first level of the search is rebuilt here.
 */
static void gm_publish(struct guestmem *gm, struct gm_set *old,
		       struct gm_set *new)
{
	unsigned int j;

	lockdep_assert_held(&gm->lock);
	for (j = 0; j * GM_KEYS_PER_TOP < new->count; j++)
		new->tops[j] = new->keys[min_t(unsigned int, new->count,
					       (j + 1) * GM_KEYS_PER_TOP) - 1].last;
	new->generation = old->generation + 1;
	rcu_assign_pointer(gm->set, new);
	WRITE_ONCE(gm->generation, new->generation);
}

/*
 * Keep @old, just replaced and published no more, as gm->retired (called
 * with gm->lock held); the previous retired snapshot goes to gm->pending,
 * to be freed after the next SRCU grace period the space waits for.
 * Return a cookie of get_state_synchronize_rcu() taken after the new
 * snapshot and generation were published: once it has elapsed, no
 * RCU-sched reader sees anything that @old held alone.
 */
static unsigned long gm_retire(struct guestmem *gm, struct gm_set *old)
{
	struct gm_set *prev = gm->retired;

	lockdep_assert_held(&gm->lock);
	gm->retired = old;
	gm->retired_rcu = get_state_synchronize_rcu();
	if (prev) {
		prev->next = gm->pending;
		gm->pending = prev;
		gm->pending_keys += prev->capacity + 1;
	}
	return gm->retired_rcu;
}

/*
 * After adds, which wait for no reader, replaced snapshots pile up on
 * gm->pending: once they hold more keys than a few times the published
 * set, the whole list is handed to one call_srcu() (an add does not wait).
 * The normal SRCU grace period it starts may hold up a removal that comes
 * right after, once, after a long run of adds.
 */
static void gm_pending_trim(struct guestmem *gm, struct gm_set *set)
{
	struct gm_set *list = gm->pending;

	lockdep_assert_held(&gm->lock);
	if (gm->pending_keys <= 4UL * set->count + 256)
		return;
	gm->pending = NULL;
	gm->pending_keys = 0;
	call_srcu(&gm->srcu, &list->rcu, gm_set_list_free_srcu);
}

/*
 * A snapshot for @count keys for a removal (called with gm->lock held).
 * Removal never fails for want of memory: if no allocation is possible it
 * takes gm->retired, which has room for one key fewer than the published
 * set (it is the set before the last add of one region or the last
 * removal, or the spare an add of more retires), after waiting until no
 * reader can be using it any more.  That wait is
 * one SRCU and one normal RCU grace period: slow, and only under memory
 * pressure.
 */
static struct gm_set *gm_set_for_removal(struct guestmem *gm,
					 unsigned int count)
{
	struct gm_set *set;

	lockdep_assert_held(&gm->lock);
	set = gm_set_alloc(count, GFP_KERNEL_ACCOUNT | __GFP_NORETRY |
				   __GFP_NOWARN);
	if (set)
		return set;
	set = gm->retired;
	if (WARN_ON_ONCE(!set || set->capacity < count))
		return NULL;
	gm->retired = NULL;
	synchronize_srcu_expedited(&gm->srcu);
	cond_synchronize_rcu(gm->retired_rcu);
	gm_set_init(set, set->capacity, count);
	return set;
}

/* The key of region @r, which only SRCU readers may use if it is USER. */
static struct gm_key gm_key_of(struct gm_region *r)
{
	struct gm_key key = { .last = r->last, .gpa = r->gpa,
			      .kaddr = r->kaddr, .region = r };

	if (r->backing == GUESTMEM_BACKING_USER)
		key.kaddr = (void *)((unsigned long)r->kaddr | GM_KEY_SRCU);
	return key;
}

static bool gm_region_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct gm_region, batch_node)->gpa <
	       rb_entry(b, struct gm_region, batch_node)->gpa;
}

/* A region of the batch @added overlapping [@gpa, @last], or NULL. */
static struct gm_region *gm_added_overlap(struct rb_root *added, u64 gpa,
					  u64 last)
{
	struct rb_node *node = added->rb_node;

	while (node) {
		struct gm_region *r = rb_entry(node, struct gm_region,
					       batch_node);

		if (last < r->gpa)
			node = node->rb_left;
		else if (gpa > r->last)
			node = node->rb_right;
		else
			return r;
	}
	return NULL;
}

/*
 * The regions a batch of adds has created so far, none of them published:
 * what the batch has taken, and what a failed batch gives back.
 */
struct gm_adding {
	struct rb_root regions;
	unsigned int count;
	u64 size;
	u64 vmalloc_bytes;
};

/*
 * Whether @desc can join the space @old plus the batch's regions (called
 * with gm->lock held): the checks of a single add, in the same order.
 */
static int gm_add_check(struct guestmem *gm, struct gm_set *old,
			struct gm_adding *adding,
			const struct guestmem_region *desc)
{
	u64 cap = (u64)READ_ONCE(guestmem_max_vmalloc_mb) << 20;
	u64 used, last;
	unsigned int i;
	int ret;

	lockdep_assert_held(&gm->lock);
	ret = gm_region_validate(desc);
	if (ret)
		return ret;
	if (old->count + adding->count >= READ_ONCE(guestmem_max_regions))
		return -ENOSPC;
	last = desc->gpa + desc->size - 1;
	i = gm_set_search(old, desc->gpa);
	if ((i < old->count && old->keys[i].gpa <= last) ||
	    gm_added_overlap(&adding->regions, desc->gpa, last))
		return -EEXIST;
	/* A lowered limit refuses new regions and leaves existing ones. */
	used = gm->vmalloc_bytes + adding->vmalloc_bytes;
	if (desc->backing == GUESTMEM_BACKING_VMALLOC &&
	    (used > cap || desc->size > cap - used))
		return -ENOMEM;
	return 0;
}

static void gm_adding_destroy(struct gm_adding *adding)
{
	struct gm_region *r, *next;

	rbtree_postorder_for_each_entry_safe(r, next, &adding->regions,
					     batch_node)
		gm_region_destroy(r);
}

/*
 * Fill @new with the keys of @old and of the batch's regions, in GPA order:
 * runs of @old are copied whole, each new region found by binary search.
 */
static void gm_set_merge(struct gm_set *new, struct gm_set *old,
			 struct gm_adding *adding)
{
	unsigned int i = 0, j = 0, at;
	struct rb_node *node;

	for (node = rb_first(&adding->regions); node; node = rb_next(node)) {
		struct gm_region *r = rb_entry(node, struct gm_region,
					       batch_node);

		at = gm_set_search(old, r->gpa);
		memcpy(new->keys + j, old->keys + i,
		       (at - i) * sizeof(*new->keys));
		j += at - i;
		i = at;
		new->keys[j++] = gm_key_of(r);
	}
	memcpy(new->keys + j, old->keys + i,
	       (old->count - i) * sizeof(*new->keys));
}

/* The checks of a whole update call, made before the space is locked. */
static int gm_update_check(struct guestmem *gm, unsigned int count,
			   const char *what)
{
	if (gm_ref_ro(gm))
		return -EBADF;
	if (count > GUESTMEM_REGION_BATCH_MAX)
		return -E2BIG;
	/*
	 * From a walk callback: a removal waits for the walk's read section
	 * (which waits for us), and an add would deadlock against one.
	 */
	if (unlikely(gm_walks_of_current(gm))) {
		gm_walk_misuse(gm, what);
		return -EDEADLK;
	}
	return 0;
}

/* Take the space's update lock; return the published set, which it holds. */
static struct gm_set *gm_update_lock(struct guestmem *gm)
{
	mutex_lock(&gm->lock);
	return rcu_dereference_protected(gm->set, lockdep_is_held(&gm->lock));
}

/**
 * guestmem_add_regions - add regions to a space, all or none
 * @gm: the space
 * @regions: the regions, as for guestmem_add_region(); in any order
 * @count: number of regions, at most %GUESTMEM_REGION_BATCH_MAX; 0 succeeds
 * @index: out (may be NULL): the index of the region that failed the
 *	call, or @count if the call succeeded or failed as a whole
 *
 * Each region is checked in order, against the space and the regions
 * before it, with the checks and errors of guestmem_add_region(), and its
 * memory allocated or pinned.  Only when every one has passed is the new
 * region set published, once: readers see all the regions or none.  A
 * failure gives back everything the call took.
 *
 * Return: 0 or a negative errno: those of guestmem_add_region() (for the
 * region at *@index, or for the call: -EBADF, -EDEADLK, -ENOMEM for the
 * new set), or -E2BIG if @count is too large.
 */
int guestmem_add_regions(struct guestmem *gm,
			 const struct guestmem_region *regions,
			 unsigned int count, unsigned int *index)
{
	struct gm_adding adding = { .regions = RB_ROOT };
	struct gm_set *old, *new, *spare = NULL;
	unsigned int i = count;
	struct gm_region *r;
	int ret;

	ret = gm_update_check(gm, count, "a region add");
	gm = gm_ref(gm);
	if (ret || !count)
		goto out;

	old = gm_update_lock(gm);
	for (i = 0; i < count; i++) {
		ret = gm_add_check(gm, old, &adding, &regions[i]);
		if (ret)
			goto unwind;
		r = gm_region_create(&regions[i]);
		if (IS_ERR(r)) {
			ret = PTR_ERR(r);
			goto unwind;
		}
		rb_add(&r->batch_node, &adding.regions, gm_region_less);
		adding.count++;
		adding.size += r->size;
		if (r->backing == GUESTMEM_BACKING_VMALLOC)
			adding.vmalloc_bytes += r->size;
		cond_resched();
	}
	new = gm_set_alloc(old->count + count, GFP_KERNEL_ACCOUNT);
	if (!new) {
		ret = -ENOMEM;
		goto unwind;
	}
	/*
	 * A removal that finds no memory takes the retired set, which must
	 * have room for the new set less one key (gm_set_for_removal()).
	 * @old has, after an add of one region; after more, a spare set
	 * that no reader ever sees is retired in its place.
	 */
	if (old->capacity + 1 < new->count) {
		spare = gm_set_alloc(new->count - 1, GFP_KERNEL_ACCOUNT);
		if (!spare) {
			kvfree(new);
			ret = -ENOMEM;
			goto unwind;
		}
	}
	gm_set_merge(new, old, &adding);
	new->total_size = old->total_size + adding.size;
	gm->vmalloc_bytes += adding.vmalloc_bytes;
	gm_publish(gm, old, new);
	gm_retire(gm, old);
	if (spare)
		gm_retire(gm, spare);	/* @old to gm->pending, @spare kept */
	gm_pending_trim(gm, new);
	mutex_unlock(&gm->lock);
	for (i = 0; i < count; i++)
		trace_guestmem_region_add(gm->id, regions[i].gpa,
					  regions[i].size, regions[i].backing,
					  regions[i].flags, 0);
	goto out;

unwind:
	gm_adding_destroy(&adding);
	mutex_unlock(&gm->lock);
	if (i < count)
		trace_guestmem_region_add(gm->id, regions[i].gpa,
					  regions[i].size, regions[i].backing,
					  regions[i].flags, ret);
out:
	if (index)
		*index = i;
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_add_regions);

/**
 * guestmem_add_region - add a region to a space
 * @gm: the space
 * @desc: the region; for %GUESTMEM_BACKING_USER, @desc->user_addr is in
 *	the current process's address space, and must be anonymous, shmem
 *	(memfd) or hugetlbfs memory
 *
 * Publishing the region waits for no reader: nothing is freed.
 *
 * Return: 0 or -EINVAL (bad alignment, size, backing, flags or reserved
 * field; user memory of another kind: another file's mapping, private or
 * shared, or a device or PFN mapping), -EOVERFLOW (the GPA range wraps),
 * -ENOSPC (region limit), -EEXIST (overlap), -EFAULT (user range not
 * mapped), -ENOMEM (allocation; RLIMIT_MEMLOCK of the process or of its
 * user; the space's VMALLOC bytes past the max_vmalloc_mb module
 * parameter), -EBADF (read-only reference), -EDEADLK (called from a
 * guestmem_walk_chunks() callback on @gm).
 */
int guestmem_add_region(struct guestmem *gm, const struct guestmem_region *desc)
{
	return guestmem_add_regions(gm, desc, 1, NULL);
}
EXPORT_SYMBOL_GPL(guestmem_add_region);

/*
 * What a removal entry must be before it is looked up: a page-aligned,
 * non-empty range that does not wrap (no region could be anything else,
 * and the add checks the same), with @reserved zero.
 */
static int gm_remove_validate(const struct guestmem_region *desc)
{
	if (desc->reserved[0] || desc->reserved[1])
		return -EINVAL;
	if (!desc->size || !PAGE_ALIGNED(desc->size) || !PAGE_ALIGNED(desc->gpa))
		return -EINVAL;
	return gm_check_range(desc->gpa, desc->size);
}

/*
 * Find the region @desc names for removal in @old, not already taken by
 * the batch, and take it (called with gm->lock held).
 */
static struct gm_region *gm_remove_find(struct gm_set *old,
					const struct guestmem_region *desc,
					unsigned int *at)
{
	unsigned int i = gm_set_search(old, desc->gpa);
	struct gm_region *r;

	if (i >= old->count || old->keys[i].gpa != desc->gpa)
		return NULL;
	r = old->keys[i].region;
	if (r->size != desc->size || r->batch_removed)
		return NULL;
	r->batch_removed = true;
	*at = i;
	return r;
}

/* Fill @new with the keys of @old but those of the batch's regions. */
static void gm_set_sift(struct gm_set *new, struct gm_set *old)
{
	unsigned int i, j = 0;

	for (i = 0; i < old->count; i++)
		if (!old->keys[i].region->batch_removed)
			new->keys[j++] = old->keys[i];
}

/**
 * guestmem_remove_regions - remove regions from a space, all or none
 * @gm: the space
 * @regions: the regions; each is matched on @gpa and @size alone (its
 *	other fields are ignored, but @reserved must be zero)
 * @count: number of regions, at most %GUESTMEM_REGION_BATCH_MAX; 0 succeeds
 * @index: out (may be NULL): the index of the region that failed the
 *	call, or @count if the call succeeded or failed as a whole
 *
 * Each entry must name a region of the space that no entry before it
 * names.  Then the regions are unpublished at once and removed as by
 * guestmem_remove_region(), with one wait for the readers that may still
 * see them: a removal of many regions costs about what one costs.
 *
 * Return: 0, -ENOENT (the entry at *@index names no region, or one named
 * before it), -EINVAL (its @reserved is not zero, or its range is empty
 * or not page aligned), -EOVERFLOW (its range wraps), -E2BIG (@count too
 * large), -EBADF (read-only reference) or -EDEADLK (called from a walk
 * callback).  Never fails for want of memory.
 */
int guestmem_remove_regions(struct guestmem *gm,
			    const struct guestmem_region *regions,
			    unsigned int count, unsigned int *index)
{
	struct gm_region *r, *removed = NULL;
	u64 size = 0, vmalloc_bytes = 0;
	struct gm_set *old, *new;
	unsigned int i = count, at = 0;
	unsigned long rcu_gp;
	int ret;

	ret = gm_update_check(gm, count, "a region removal");
	gm = gm_ref(gm);
	if (ret || !count)
		goto out;

	old = gm_update_lock(gm);
	for (i = 0; i < count; i++) {
		ret = gm_remove_validate(&regions[i]);
		if (ret)
			goto unmark;
		r = gm_remove_find(old, &regions[i], &at);
		if (!r) {
			ret = -ENOENT;
			goto unmark;
		}
		r->batch_next = removed;
		removed = r;
		size += r->size;
		if (r->backing == GUESTMEM_BACKING_VMALLOC)
			vmalloc_bytes += r->size;
	}
	new = gm_set_for_removal(gm, old->count - count);
	if (!new) {
		/* Not reached: gm_set_for_removal() has warned. */
		ret = -ENOMEM;
		i = count;
		goto unmark;
	}
	if (count == 1)
		gm_set_copy(new, old, at, true);
	else
		gm_set_sift(new, old);
	new->total_size = old->total_size - size;
	gm->vmalloc_bytes -= vmalloc_bytes;
	gm_publish(gm, old, new);
	rcu_gp = gm_retire(gm, old);
	/*
	 * Wait for the SRCU readers and faults that may have found the
	 * regions, the only readers of a USER region's pages; KVM pays the
	 * same for a memslot change.  RCU-sched readers (the fast paths and
	 * cached accessors, which check gm->generation, bumped above) only
	 * reach VMALLOC regions, freed after @rcu_gp ...
	 */
	synchronize_srcu_expedited(&gm->srcu);
	gm_pending_free(gm);
	/* ... then drop the PTEs the faults installed, before freeing. */
	for (r = removed; r; r = r->batch_next) {
		unmap_mapping_pages(&gm->mapping, r->gpa >> PAGE_SHIFT,
				    r->npages, false);
		cond_resched();
	}
	mutex_unlock(&gm->lock);

	for (i = 0; i < count; i++)
		trace_guestmem_region_remove(gm->id, regions[i].gpa,
					     regions[i].size, 0);
	while (removed) {
		r = removed;
		removed = r->batch_next;
		gm_region_destroy_after_gp(r, rcu_gp);
	}
	i = count;
	goto out;

unmark:
	for (r = removed; r; r = r->batch_next)
		r->batch_removed = false;
	mutex_unlock(&gm->lock);
	if (i < count)
		trace_guestmem_region_remove(gm->id, regions[i].gpa,
					     regions[i].size, ret);
out:
	if (index)
		*index = i;
	return ret;
}
EXPORT_SYMBOL_GPL(guestmem_remove_regions);

/**
 * guestmem_remove_region - remove a region from a space
 * @gm: the space
 * @gpa: first GPA of the region
 * @size: size of the region; @gpa and @size must match a region exactly
 *
 * Unpublishes the region, waits for every SRCU reader (accesses under
 * SRCU, mmap faults, device work) that could still see it, zaps it from
 * every user mapping of the space (and so from KVM's secondary MMU) and
 * only then unpins a USER region's pages.  A VMALLOC region, which small
 * accesses may also reach under RCU-sched, is freed after a normal RCU
 * grace period, from a workqueue if that has not elapsed yet: no
 * expedited RCU grace period, no IPI to other CPUs.  Removal allocates
 * nothing it cannot do without, and never fails for want of memory.
 *
 * Must not be called from a guestmem_walk_chunks() callback on the same
 * space, whose read section it would wait for: that is -EDEADLK, with a
 * warning.
 *
 * Return: 0, -EINVAL if the range is empty or not page aligned,
 * -EOVERFLOW if it wraps, -ENOENT if no region is exactly [@gpa, @gpa +
 * @size), -EBADF (read-only reference) or -EDEADLK (called from a walk
 * callback).
 */
int guestmem_remove_region(struct guestmem *gm, u64 gpa, u64 size)
{
	struct guestmem_region desc = { .gpa = gpa, .size = size };

	return guestmem_remove_regions(gm, &desc, 1, NULL);
}
EXPORT_SYMBOL_GPL(guestmem_remove_region);
