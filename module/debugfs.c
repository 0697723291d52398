// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: /sys/kernel/debug/guestmem/space-<id>, one file per space,
 * listing its regions and access counters.
 */
#include <linux/debugfs.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include "internal.h"

static struct dentry *gm_debugfs_root;

static const char *gm_backing_name(u32 backing)
{
	return backing == GUESTMEM_BACKING_USER ? "user" : "vmalloc";
}

static int gm_debugfs_show(struct seq_file *m, void *unused)
{
	struct guestmem *gm = m->private;
	struct gm_counters sum = {};
	struct gm_set *set;
	unsigned int i;
	int cpu, idx;

	for_each_possible_cpu(cpu) {
		struct gm_counters *c = per_cpu_ptr(gm->counters, cpu);

		sum.reads += c->reads;
		sum.writes += c->writes;
		sum.read_bytes += c->read_bytes;
		sum.written_bytes += c->written_bytes;
		sum.errors += c->errors;
		sum.faults += c->faults;
		sum.lookups += c->lookups + c->hinted;
		sum.hint_hits += c->hint_hits + c->hinted;
	}

	idx = srcu_read_lock(&gm->srcu);
	set = gm_set_deref(gm);
	seq_printf(m, "space %u owner %d\n", gm->id, gm->owner);
	seq_printf(m, "regions %u total_size %llu generation %llu\n",
		   set->count, set->total_size, set->generation);
	for (i = 0; i < set->count; i++) {
		struct gm_region *r = set->keys[i].region;

		seq_printf(m, "  [%#018llx-%#018llx] %-7s%s%s\n", r->gpa,
			   r->last, gm_backing_name(r->backing),
			   r->flags & GUESTMEM_REGION_READONLY ? " readonly" : "",
			   r->flags & GUESTMEM_REGION_DIRTY_LOG ? " dirty_log" : "");
	}
	srcu_read_unlock(&gm->srcu, idx);

	seq_printf(m, "reads %llu read_bytes %llu\n", sum.reads, sum.read_bytes);
	seq_printf(m, "writes %llu written_bytes %llu\n", sum.writes,
		   sum.written_bytes);
	seq_printf(m, "failed_accesses %llu\n", sum.errors);
	seq_printf(m, "mmap_faults %llu\n", sum.faults);
	seq_printf(m, "lookups %llu hint_hits %llu\n", sum.lookups, sum.hint_hits);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gm_debugfs);

/**
 * gm_debugfs_add - create the space's debugfs file
 * @gm: the space, with its id set
 */
void gm_debugfs_add(struct guestmem *gm)
{
	char name[32];

	snprintf(name, sizeof(name), "space-%u", gm->id);
	/* debugfs failures are not errors: the file is just absent. */
	gm->debugfs = debugfs_create_file(name, 0400, gm_debugfs_root, gm,
					  &gm_debugfs_fops);
}

/**
 * gm_debugfs_remove - remove the space's file, waiting for its readers
 * @gm: the space
 */
void gm_debugfs_remove(struct guestmem *gm)
{
	debugfs_remove(gm->debugfs);
}

void gm_debugfs_init(void)
{
	gm_debugfs_root = debugfs_create_dir("guestmem", NULL);
}

void gm_debugfs_exit(void)
{
	debugfs_remove(gm_debugfs_root);
}
