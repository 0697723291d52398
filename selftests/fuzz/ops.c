// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem fuzzer (fuzz_test.c): the operations: one syscall each, with
 * random arguments, checked against the model.
 */
#include "fuzz.h"

/* ---- ops -------------------------------------------------------------------- */

static int pick_slot(void)
{
	int i, n = 0, pick;

	/* Mostly an open slot; sometimes a closed one (EBADF). */
	for (i = 0; i < NSLOT; i++)
		n += slot_fd[i] >= 0;
	if (!n || chance(3))
		return rnd(NSLOT);
	pick = rnd(n);
	for (i = 0; i < NSLOT; i++)
		if (slot_fd[i] >= 0 && !pick--)
			return i;
	return 0;
}

#define D(...)	snprintf(desc, sizeof(desc), __VA_ARGS__)
#define DA(...)	snprintf(desc + strlen(desc), sizeof(desc) - strlen(desc), __VA_ARGS__)

static void op_open(void)
{
	int slot, fd, s, f;

	for (slot = 0; slot < NSLOT; slot++)
		if (slot_fd[slot] < 0)
			break;
	if (slot == NSLOT)
		return;
	D("open slot %d", slot);
	fd = open(GM_DEV, O_RDWR | O_CLOEXEC);
	if (!check_result(C_OPEN, fd < 0 ? errno : 0, EB(0) | EB(ENOMEM)) || fd < 0)
		return;
	s = space_new();
	if (s < 0) {
		close(fd);
		return;
	}
	f = file_new(s);
	files[f].refs = 1;
	slot_fd[slot] = fd;
	slot_file[slot] = f;
}

static void op_close(void)
{
	int slot = rnd(NSLOT), ret;

	D("close slot %d (fd %d)", slot, fd_of(slot));
	ret = close(fd_of(slot)) ? errno : 0;
	if (!check_result(C_CLOSE, ret, slot_fd[slot] < 0 ? EB(EBADF) : EB(0)))
		return;
	if (slot_fd[slot] >= 0) {
		file_put(slot_file[slot]);
		slot_fd[slot] = -1;
	}
}

static void op_dup(void)
{
	int from = pick_slot(), to, fd;

	for (to = 0; to < NSLOT; to++)
		if (slot_fd[to] < 0)
			break;
	if (to == NSLOT)
		return;
	D("dup slot %d -> slot %d", from, to);
	fd = fcntl(fd_of(from), F_DUPFD_CLOEXEC, 0);
	if (!check_result(C_DUP, fd < 0 ? errno : 0,
			  slot_fd[from] < 0 ? EB(EBADF) : EB(0)) || fd < 0)
		return;
	slot_fd[to] = fd;
	slot_file[to] = slot_file[from];
	files[slot_file[to]].refs++;
}

static void op_get_info(void)
{
	int slot = pick_slot(), s = slot_space(slot), ret, i;
	enum argcls ac = pick_argcls();
	struct guestmem_info info, *u;
	unsigned int expect;

	memset(&info, 0xa5, sizeof(info));
	u = place_arg(&info, sizeof(info), ac);
	D("GET_INFO slot %d arg %s", slot, argcls_name[ac]);
	ret = do_ioctl(fd_of(slot), GUESTMEM_GET_INFO, u);
	if (s < 0)
		expect = EB(EBADF);
	else if (ac != A_GOOD)
		expect = EB(EFAULT);
	else
		expect = EB(0);
	if (!check_result(C_GET_INFO, ret, expect) || ret)
		return;
	info = *u;
	if (info.api_version != GUESTMEM_API_VERSION)
		violation("api_version %u", info.api_version);
	if (info.num_regions != (uint32_t)sp[s].nreg ||
	    info.total_size != m_total(&sp[s], 2))
		violation("GET_INFO: %u regions, %llu bytes; model %d, %llu",
			  info.num_regions, (unsigned long long)info.total_size,
			  sp[s].nreg, (unsigned long long)m_total(&sp[s], 2));
	if (info.generation != sp[s].gen)
		violation("GET_INFO: generation %llu, model %llu (one per add/remove)",
			  (unsigned long long)info.generation,
			  (unsigned long long)sp[s].gen);
	if (info.features & ~0x3fULL)
		violation("unknown feature bits %#llx",
			  (unsigned long long)info.features);
	for (i = 0; i < 4; i++)
		if (info.reserved[i])
			violation("GET_INFO reserved[%d] = %#llx", i,
				  (unsigned long long)info.reserved[i]);
}

static uint64_t pick_region_size(uint32_t backing)
{
	static const uint64_t pages[] = { 1, 1, 1, 2, 2, 3, 4, 4, 8, 16, 17, 32, 64 };
	unsigned int c = rnd(100);

	if (c < 82)
		return pages[rnd(ARRAY_LEN(pages))] * PG;
	if (c < 85)
		return 0;
	if (c < 89)
		return pages[rnd(ARRAY_LEN(pages))] * PG + 1 + rnd(PG - 1);
	if (c < 92 && backing == GUESTMEM_BACKING_USER)
		return (POOL_PAGES - rnd(8)) * PG;
	if (c < 95)
		/*
		 * Beyond any RAM: ENOMEM (VMALLOC) or EFAULT/ENOMEM (USER).
		 * Nothing between 1 MiB and 64 TiB: guestmem allocates a
		 * DIRTY_LOG bitmap (size / 32768 bytes) and a USER page array
		 * (size / 512 bytes) before it checks that the size can be
		 * backed; limits_test tests that, here it would only make
		 * the run slow and push the VM into OOM.
		 */
		return 1ULL << (46 + rnd(18));
	return U64MAX - PG + 1 - rnd(2) * PG;
}

static uint64_t pick_region_gpa(struct mspace *s, uint64_t size)
{
	int r = pick_region(s);
	unsigned int c = rnd(100);
	uint64_t g;

	if (r >= 0 && c < 30) {
		/* Adjacent to, or overlapping, an existing region. */
		struct mreg *m = &s->reg[r];

		switch (rnd(4)) {
		case 0:
			g = m->gpa + m->size;
			break;
		case 1:
			g = m->gpa - size;
			break;
		case 2:
			g = m->gpa + rnd(m->size / PG) * PG;
			break;
		default:
			g = m->gpa - PG * rnd(3);
			break;
		}
	} else if (c < 45) {
		g = 0ULL - size - rnd(3) * PG;	/* up to the top of the space */
	} else if (c < 95) {
		g = pick_anchor() + rnd(32) * PG;
	} else {
		g = rnd64();
	}
	if (chance(97))
		g &= ~(PG - 1);
	return g;
}

/*
 * The arguments of a region add: @m is the space they are drawn against
 * (NULL for a closed slot), @vm_extra VMALLOC bytes a batch adds before
 * this entry.
 */
static void gen_add_desc(struct mspace *m, struct guestmem_region *d,
			 enum ucls *uc, uint64_t vm_extra)
{
	memset(d, 0, sizeof(*d));
	*uc = U_POOL;
	d->backing = chance(60) ? GUESTMEM_BACKING_VMALLOC :
		     chance(92) ? GUESTMEM_BACKING_USER : 2 + rnd(1000);
	if (chance(2))
		d->backing = 0x80000000U | rnd(4);
	d->size = pick_region_size(d->backing);
	if (d->backing == GUESTMEM_BACKING_VMALLOC && d->size > (1ULL << 20) &&
	    d->size < (1ULL << 40))
		d->size = 64 * PG;	/* never ask for real memory in bulk */
	if (d->backing == GUESTMEM_BACKING_VMALLOC &&
	    model_vmalloc_total() + vm_extra > MODEL_VMALLOC_MAX)
		d->size = 1ULL << 44;
	d->gpa = pick_region_gpa(m, d->size);
	switch (rnd(10)) {
	case 0:
		d->flags = RO;
		break;
	case 1:
	case 2:
	case 3:
		d->flags = DL;
		break;
	case 4:
		d->flags = RO | DL;
		break;
	case 5:
		d->flags = chance(50) ? 1U << (2 + rnd(30)) : rnd64();
		break;
	default:
		d->flags = 0;
	}
	if (d->backing == GUESTMEM_BACKING_USER)
		d->user_addr = pick_uaddr(d->size & ~(PG - 1), uc);
	else if (chance(4))
		d->user_addr = chance(50) ? (uintptr_t)pool : 1 + rnd64();
	if (chance(3))
		d->reserved[rnd(2)] = 1ULL << rnd(64);
}

/*
 * The outcomes of adding @d to @m (EB(0) = success): the errors its
 * arguments make applicable, in any order (DESIGN.md orders none of them).
 */
static unsigned int add_expect(struct mspace *m, const struct guestmem_region *d,
			       enum ucls uc)
{
	unsigned int expect = 0, invalid = 0;

	if (d->reserved[0] || d->reserved[1] || (d->flags & ~(RO | DL)) ||
	    !d->size || d->size % PG || d->gpa % PG || d->backing > 1 ||
	    (d->backing == GUESTMEM_BACKING_VMALLOC && d->user_addr) ||
	    (d->backing == GUESTMEM_BACKING_USER && d->user_addr % PG))
		invalid |= EB(EINVAL);
	if (wraps(d->gpa, d->size))
		invalid |= EB(EOVERFLOW);
	expect = invalid;
	if (m->nreg >= (int)max_regions)
		expect |= EB(ENOSPC);
	if (d->size && !wraps(d->gpa, d->size) &&
	    m_overlaps(m, d->gpa, range_last(d->gpa, d->size)))
		expect |= EB(EEXIST);
	if (d->backing == GUESTMEM_BACKING_USER && !(invalid & EB(EINVAL))) {
		switch (uc) {
		case U_POOL:
			break;
		case U_RO:
			if (!(d->flags & RO))
				expect |= EB(EFAULT);
			break;
		case U_GMAP:
			/*
			 * A guestmem mapping is a PFN mapping: memory of
			 * another kind (DESIGN.md), nothing pinned.
			 */
			expect |= EB(EINVAL);
			break;
		default:
			expect |= EB(EFAULT);
		}
		if (d->size > (uint64_t)POOL_PAGES * PG)
			expect |= EB(EFAULT) | EB(ENOMEM);
	}
	if (!invalid)
		expect |= EB(ENOMEM);
	if (!(expect & ~EB(ENOMEM)))
		expect |= EB(0);
	return expect;
}

static void op_add(void)
{
	int slot = pick_slot(), s = slot_space(slot), ret;
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	enum argcls ac = pick_argcls();
	struct guestmem_region d;
	enum ucls uc;

	if (m && m->nreg >= MAXREG && max_regions > MAXREG)
		return;	/* the model holds MAXREG regions */
	gen_add_desc(m, &d, &uc, 0);
	D("ADD slot %d gpa %#llx size %#llx backing %u flags %#x user_addr %#llx (%s) rsv %#llx/%#llx arg %s",
	  slot, (unsigned long long)d.gpa, (unsigned long long)d.size,
	  d.backing, d.flags, (unsigned long long)d.user_addr,
	  d.backing == GUESTMEM_BACKING_USER ? ucls_name[uc] : "-",
	  (unsigned long long)d.reserved[0], (unsigned long long)d.reserved[1],
	  argcls_name[ac]);
	ret = do_ioctl(fd_of(slot), GUESTMEM_ADD_REGION, place_arg(&d, sizeof(d), ac));

	if (s < 0) {
		check_result(C_ADD, ret, EB(EBADF));
		return;
	}
	if (arg_unreadable(ac)) {
		check_result(C_ADD, ret, EB(EFAULT));
		return;
	}
	if (!check_result(C_ADD, ret, add_expect(m, &d, uc)) || ret)
		return;
	m_insert(m, &d);
}

/* The arguments of a region removal, drawn against @m (NULL: closed slot). */
static void gen_remove_desc(struct mspace *m, struct guestmem_region *d)
{
	int r;

	memset(d, 0, sizeof(*d));
	r = pick_region(m);
	if (r >= 0 && chance(75)) {
		d->gpa = m->reg[r].gpa;
		d->size = m->reg[r].size;
		switch (rnd(8)) {
		case 0:
			d->size += PG;
			break;
		case 1:
			d->size -= PG;
			break;
		case 2:
			d->gpa += PG;
			break;
		case 3:
			/* The other fields are ignored. */
			d->backing = rnd64();
			d->flags = rnd64();
			d->user_addr = rnd64();
			break;
		case 4:
			/* An entry as GET_REGIONS reports it. */
			d->user_addr = m->reg[r].uaddr;
			d->backing = m->reg[r].backing;
			d->flags = m->reg[r].flags;
			break;
		}
	} else {
		d->gpa = pick_gpa(m);
		d->size = pick_region_size(0);
	}
	if (chance(3))
		d->reserved[rnd(2)] = 1 + rnd(100);
}

/*
 * The outcomes of removing @d from @m; *@hit: the region it names.  A
 * reserved field, or a range no region can have (empty, misaligned,
 * wrapping), is refused as such before any lookup: never ENOENT.
 */
static unsigned int remove_expect(struct mspace *m,
				  const struct guestmem_region *d,
				  struct mreg **hit)
{
	unsigned int invalid = 0;

	*hit = m_match(m, d->gpa, d->size);
	if (d->reserved[0] || d->reserved[1] || !d->size || d->size % PG ||
	    d->gpa % PG)
		invalid |= EB(EINVAL);
	if (wraps(d->gpa, d->size))
		invalid |= EB(EOVERFLOW);
	if (invalid)
		return invalid;
	return *hit ? EB(0) | EB(ENOMEM) : EB(ENOENT);
}

static void op_remove(void)
{
	int slot = pick_slot(), s = slot_space(slot), ret;
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	enum argcls ac = pick_argcls();
	struct guestmem_region d;
	struct mreg *hit;
	unsigned int expect;

	gen_remove_desc(m, &d);
	D("REMOVE slot %d gpa %#llx size %#llx rsv %#llx/%#llx arg %s", slot,
	  (unsigned long long)d.gpa, (unsigned long long)d.size,
	  (unsigned long long)d.reserved[0], (unsigned long long)d.reserved[1],
	  argcls_name[ac]);
	ret = do_ioctl(fd_of(slot), GUESTMEM_REMOVE_REGION, place_arg(&d, sizeof(d), ac));
	if (s < 0) {
		check_result(C_REMOVE, ret, EB(EBADF));
		return;
	}
	if (arg_unreadable(ac)) {
		check_result(C_REMOVE, ret, EB(EFAULT));
		return;
	}
	expect = remove_expect(m, &d, &hit);
	if (!check_result(C_REMOVE, ret, expect) || ret)
		return;
	m_delete(m, hit);
}

/* ---- region batches: GUESTMEM_ADD_REGIONS, GUESTMEM_REMOVE_REGIONS -------- */

#define RB_MAX		GUESTMEM_REGION_BATCH_MAX
#define RB_SZ		sizeof(struct guestmem_region)

/* How a batch's entries are drawn. */
enum rbmode { RB_CLEAN, RB_MIXED, RB_RANDOM, RB_RUN, RB_ALL, RB_BIG, RB_NMODE };
static const char *const rbmode_name[RB_NMODE] = {
	"clean", "mixed", "random", "run", "all", "big",
};

/* Where a batch's entries are. */
enum rbarr { RA_GOOD, RA_RO, RA_NULL, RA_UNMAPPED, RA_KERNEL, RA_NONCANON,
	     RA_SHORT, RA_N };
static const char *const rbarr_name[RA_N] = {
	"good", "ro", "null", "unmapped", "kernel", "noncanonical", "short",
};

static struct guestmem_region rb_ent[RB_MAX];
static enum ucls rb_uc[RB_MAX];
static unsigned int rb_exp[RB_MAX];	/* each entry's outcomes, up to rb_stop */
static unsigned int rb_stop;		/* the first entry that cannot succeed */
static struct mspace rb_scr;		/* the space after the entries before */

/* What the batches did, by add (1) or remove (0). */
static unsigned long rb_ok[2], rb_ok_entries[2], rb_fail_first[2],
		     rb_fail_later[2], rb_fail_whole[2];

/*
 * An add entry that should succeed, mostly: aligned, a free GPA range of
 * the scratch space when one is found, VMALLOC or USER pool memory.
 */
static void gen_add_clean(struct guestmem_region *d, enum ucls *uc,
			  uint64_t vm_extra)
{
	static const uint64_t pages[] = { 1, 1, 1, 2, 2, 4, 8, 16 };
	static const uint32_t flags[] = { 0, 0, 0, RO, DL, DL, RO | DL };
	unsigned int tries;

	memset(d, 0, sizeof(*d));
	*uc = U_POOL;
	d->backing = chance(65) ? GUESTMEM_BACKING_VMALLOC : GUESTMEM_BACKING_USER;
	if (model_vmalloc_total() + vm_extra > MODEL_VMALLOC_MAX)
		d->backing = GUESTMEM_BACKING_USER;
	d->size = pages[rnd(ARRAY_LEN(pages))] * PG;
	d->flags = flags[rnd(ARRAY_LEN(flags))];
	for (tries = 0; tries < 8; tries++) {
		d->gpa = pick_region_gpa(&rb_scr, d->size) & ~(PG - 1);
		if (!wraps(d->gpa, d->size) &&
		    !m_overlaps(&rb_scr, d->gpa, range_last(d->gpa, d->size)))
			break;
	}
	if (d->backing == GUESTMEM_BACKING_USER)
		d->user_addr = pick_uaddr(d->size, uc);
}

/* A removal entry naming a region of the scratch space exactly, if any. */
static bool gen_remove_clean(struct guestmem_region *d)
{
	int r = pick_region(&rb_scr);

	if (r < 0)
		return false;
	memset(d, 0, sizeof(*d));
	d->gpa = rb_scr.reg[r].gpa;
	d->size = rb_scr.reg[r].size;
	if (chance(25)) {
		/* As GET_REGIONS reports it, or junk: ignored either way. */
		d->user_addr = chance(50) ? rb_scr.reg[r].uaddr : rnd64();
		d->backing = chance(50) ? rb_scr.reg[r].backing : rnd64();
		d->flags = chance(50) ? rb_scr.reg[r].flags : rnd64();
	}
	return true;
}

/*
 * Entry @i's outcomes against the scratch space, which takes the entry if
 * it can succeed: entries are checked in order, each against the space
 * and the entries before it.  Entries after the first that cannot succeed
 * are not looked at.
 */
static void rb_eval(bool add, unsigned int i)
{
	struct guestmem_region *d = &rb_ent[i];
	struct mreg *hit;
	unsigned int e;

	if (rb_stop < i)
		return;
	if (add) {
		e = add_expect(&rb_scr, d, rb_uc[i]);
		if (e & EB(0))
			m_insert(&rb_scr, d);
	} else {
		e = remove_expect(&rb_scr, d, &hit);
		if (e & EB(0))
			m_delete(&rb_scr, hit);
	}
	rb_exp[i] = e;
	if (!(e & EB(0)))
		rb_stop = i;
}

/* Draw @n entries with @mode against the scratch space, evaluating each. */
static void rb_gen(bool add, enum rbmode mode, unsigned int n, uint64_t vm0)
{
	uint64_t base = 0, step = PG;
	uint32_t run_flags = 0;
	unsigned int i, tries;
	int r;

	if (mode == RB_RUN || mode == RB_BIG) {
		/* Adjacent VMALLOC regions from a free GPA. */
		step = (mode == RB_BIG || chance(70) ? 1 : 1 + rnd(4)) * PG;
		run_flags = chance(30) ? DL : 0;
		for (tries = 0; tries < 8; tries++) {
			base = pick_region_gpa(&rb_scr, step) & ~(PG - 1);
			if (!m_find(&rb_scr, base))
				break;
		}
	}
	for (i = 0; i < n; i++) {
		struct guestmem_region *d = &rb_ent[i];
		uint64_t vm_extra = m_total(&rb_scr, GUESTMEM_BACKING_VMALLOC) - vm0;

		rb_uc[i] = U_POOL;
		if (add && (mode == RB_RUN || mode == RB_BIG)) {
			memset(d, 0, sizeof(*d));
			d->gpa = base + i * step;
			d->size = step;
			d->flags = run_flags;
			if (mode == RB_RUN && chance(5))
				gen_add_desc(&rb_scr, d, &rb_uc[i], vm_extra);
		} else if (!add && (mode == RB_ALL || mode == RB_BIG) &&
			   rb_stop == RB_MAX && rb_scr.nreg) {
			/* Every region of the space, in random order. */
			r = rnd(rb_scr.nreg);
			memset(d, 0, sizeof(*d));
			d->gpa = rb_scr.reg[r].gpa;
			d->size = rb_scr.reg[r].size;
		} else if (mode == RB_BIG && i) {
			*d = rb_ent[rnd(i)];	/* already removed */
		} else if (i && chance(6)) {
			/* An earlier entry again, or overlapping it. */
			unsigned int j = rnd(i);

			*d = rb_ent[j];
			rb_uc[i] = rb_uc[j];
			if (add && d->size >= PG && chance(50))
				d->gpa += rnd(d->size / PG) * PG;
		} else if (add && (mode == RB_CLEAN ||
				   (mode == RB_MIXED && chance(75)))) {
			gen_add_clean(d, &rb_uc[i], vm_extra);
		} else if (add) {
			gen_add_desc(&rb_scr, d, &rb_uc[i], vm_extra);
		} else if (mode == RB_RANDOM || (mode == RB_MIXED && chance(25)) ||
			   !gen_remove_clean(d)) {
			gen_remove_desc(&rb_scr, d);
		}
		rb_eval(add, i);
	}
}

/* The entries, for a violation report. */
static void rb_dump(unsigned int n, unsigned int index)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct guestmem_region *d = &rb_ent[i];

		if (n > 48 && i > 40 && i + 2 < index)
			continue;	/* the head and what leads to @index */
		if (n > 48 && i > index + 2 && i > 40)
			break;
		printf("#   entry %u: gpa %#llx size %#llx backing %u flags %#x user_addr %#llx (%s) rsv %#llx/%#llx; model %s\n",
		       i, (unsigned long long)d->gpa, (unsigned long long)d->size,
		       d->backing, d->flags, (unsigned long long)d->user_addr,
		       ucls_name[rb_uc[i]], (unsigned long long)d->reserved[0],
		       (unsigned long long)d->reserved[1],
		       i <= rb_stop ? eset_str(rb_exp[i]) : "(not reached)");
	}
}

/* The space's generation, region count and size against the model's. */
static void rb_probe(int fd, struct mspace *m, const char *what)
{
	struct guestmem_info info;

	if (gm_info(fd, &info)) {
		violation("GET_INFO fails after %s", what);
		return;
	}
	if (info.generation != m->gen || info.num_regions != (uint32_t)m->nreg ||
	    info.total_size != m_total(m, 2))
		violation("after %s: generation %llu, %u regions, %llu bytes; model %llu, %d, %llu",
			  what, (unsigned long long)info.generation,
			  info.num_regions, (unsigned long long)info.total_size,
			  (unsigned long long)m->gen, m->nreg,
			  (unsigned long long)m_total(m, 2));
}

/*
 * GUESTMEM_ADD_REGIONS (@add) or GUESTMEM_REMOVE_REGIONS: 0 to about 12
 * entries (sometimes a run of tens, every region, or a batch of the
 * maximum size), drawn as ADD_REGION's and REMOVE_REGION's arguments are,
 * each against the space and the entries before it (overlaps, repeats);
 * bad flags, reserved, count and arrays.  The model applies the entries
 * one by one to a scratch copy of the space: the call must fail at the
 * first entry that cannot succeed, or before it at one that may fail,
 * with an errno that entry's single call could return, and change nothing;
 * or succeed, add or remove every entry and bump the generation once.
 */
static void op_region_batch(bool add)
{
	enum call c = add ? C_ADD_REGIONS : C_REMOVE_REGIONS;
	const char *name = add ? "ADD_REGIONS" : "REMOVE_REGIONS";
	int slot = pick_slot(), s = slot_space(slot), fd = fd_of(slot), ret;
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	enum argcls ac = pick_argcls();
	struct guestmem_region_batch b, *u;
	struct guestmem_info info;
	unsigned int n, count, i, whole = 0, expect, index, cm = rnd(100);
	enum rbarr ra = RA_GOOD;
	enum rbmode mode;
	uint8_t *area, *arr = NULL;
	size_t room, area_sz;
	uint64_t vm0 = m ? m_total(m, GUESTMEM_BACKING_VMALLOC) : 0, gen0;

	if (cm < 1)
		mode = RB_BIG;
	else if (cm < 13)
		mode = add ? RB_RUN : RB_ALL;
	else if (cm < 50)
		mode = RB_CLEAN;
	else if (cm < 78)
		mode = RB_MIXED;
	else
		mode = RB_RANDOM;
	if (mode == RB_BIG)
		n = RB_MAX - rnd(2);
	else if (mode == RB_ALL)
		n = (m ? m->nreg : 0) + chance(20);
	else if (chance(5))
		n = 0;
	else
		n = mode == RB_RUN ? 2 + rnd(40) : 1 + rnd(12);
	/* The model holds MAXREG regions (max_regions is MAXREG when it can be set). */
	if (add && max_regions > MAXREG) {
		if (m && m->nreg + n > MAXREG)
			n = MAXREG - m->nreg;
		if (mode == RB_BIG)
			mode = RB_RUN;
	}

	m_clone(&rb_scr, m);
	uaddr_extra = &rb_scr;
	rb_stop = RB_MAX;
	rb_gen(add, mode, n, vm0);
	uaddr_extra = NULL;
	if (rb_stop > n)
		rb_stop = n;

	/* The array: at the end of a page or of the data buffer, or bad. */
	room = n * RB_SZ;
	area = room <= PG ? regarea : data;
	area_sz = room <= PG ? PG : DATA_SZ;
	count = n;
	cm = rnd(100);
	if (cm < 88)
		ra = RA_GOOD;
	else if (cm < 92)
		ra = room + 64 <= PG ? RA_RO : RA_GOOD;
	else if (cm < 94)
		ra = RA_NULL;
	else if (cm < 96)
		ra = RA_UNMAPPED;
	else if (cm < 97)
		ra = RA_KERNEL;
	else if (cm < 98)
		ra = RA_NONCANON;
	else
		ra = RA_SHORT;
	switch (ra) {
	case RA_GOOD:
	case RA_SHORT:
		arr = area + area_sz - room;
		memcpy(arr, rb_ent, room);
		if (ra == RA_SHORT)
			count = n + 1 + rnd(3);	/* runs into the guard page */
		break;
	case RA_RO:
		if (mprotect(ropg, PG, PROT_READ | PROT_WRITE))
			abort();
		arr = ropg + PG - 64 - room;	/* place_arg() uses the end */
		memcpy(arr, rb_ent, room);
		if (mprotect(ropg, PG, PROT_READ))
			abort();
		break;
	case RA_NULL:
		arr = NULL;
		break;
	case RA_UNMAPPED:
		arr = unmapped + rnd(8) * PG;
		break;
	case RA_KERNEL:
		arr = (uint8_t *)(uintptr_t)0xffff888000000000ULL;
		break;
	default:
		arr = (uint8_t *)(uintptr_t)0x0000800000000000ULL;
	}
	if (chance(2))
		count = chance(50) ? RB_MAX + 1 + rnd(2) :
			chance(50) ? 0xffffffffU : 1U << (13 + rnd(19));

	memset(&b, 0, sizeof(b));
	b.regions = (uintptr_t)arr;
	b.count = count;
	if (chance(3))
		b.flags = 1U << rnd(32);
	if (chance(3))
		b.reserved = 1 + rnd(1000);
	b.index = 0xdead0000U | rnd(0x10000);	/* an output */

	if (b.flags || b.reserved)
		whole |= EB(EINVAL);
	if (count > RB_MAX)
		whole |= EB(E2BIG);
	else if (count && ra != RA_GOOD && ra != RA_RO)
		whole |= EB(EFAULT);

	D("%s slot %d count %u flags %#x rsv %u array %s arg %s; %u %s entries, the first that cannot succeed %u:",
	  name, slot, count, b.flags, b.reserved, rbarr_name[ra],
	  argcls_name[ac], n, rbmode_name[mode], rb_stop);
	for (i = 0; i < n && strlen(desc) + 80 < sizeof(desc); i++)
		DA(" [%#llx+%#llx b%u f%#x %s%s]",
		   (unsigned long long)rb_ent[i].gpa,
		   (unsigned long long)rb_ent[i].size, rb_ent[i].backing,
		   rb_ent[i].flags, rb_ent[i].backing == GUESTMEM_BACKING_USER ?
		   ucls_name[rb_uc[i]] : "-",
		   rb_ent[i].reserved[0] || rb_ent[i].reserved[1] ? " rsv" : "");
	if (i < n)
		DA(" ...");

	u = place_arg(&b, sizeof(b), ac);
	ret = do_ioctl(fd, add ? GUESTMEM_ADD_REGIONS : GUESTMEM_REMOVE_REGIONS, u);

	if (s < 0) {
		check_result(c, ret, EB(EBADF));
		goto out;
	}
	if (arg_unreadable(ac)) {
		check_result(c, ret, EB(EFAULT));
		goto probe;
	}
	if (ac == A_RO) {
		/* It ran, but `index` could not be stored: did it take effect? */
		if (!check_result(c, ret, EB(EFAULT)))
			goto out;
		if (gm_info(fd, &info)) {
			violation("GET_INFO fails after %s", name);
			goto out;
		}
		if (info.generation == m->gen)
			goto probe;
		if (whole || !count || rb_stop < n) {
			violation("%s took effect (generation %llu -> %llu), but the model says it cannot succeed",
				  name, (unsigned long long)m->gen,
				  (unsigned long long)info.generation);
			rb_dump(n, rb_stop);
			goto out;
		}
		goto apply;
	}

	index = u->index;
	if (whole) {
		expect = whole;
	} else if (!count) {
		expect = EB(0);
	} else if (index == count) {
		/* Success, or a failure of the call as a whole (the copy, the set). */
		expect = (rb_stop == n ? EB(0) : 0) | EB(ENOMEM);
	} else if (index < count && index <= rb_stop) {
		expect = rb_exp[index] & ~EB(0);
		if (!expect) {
			violation("%s returned %s for entry %u, which the model says succeeds (%s)",
				  name, ename(ret), index, eset_str(rb_exp[index]));
			rb_dump(n, index);
			goto out;
		}
	} else {
		violation("%s returned %s with index %u of %u; the first entry that cannot succeed is %u",
			  name, ename(ret), index, count, rb_stop);
		rb_dump(n, index);
		goto out;
	}
	if ((whole || !ret) && index != count) {
		violation("%s returned %s with index %u; expected the count, %u",
			  name, ename(ret), index, count);
		rb_dump(n, index);
		goto out;
	}
	if (!(expect & EB(ret))) {
		if (index < count)
			violation("%s returned %s for entry %u; that entry allows %s (the first that cannot succeed is %u)",
				  name, ename(ret), index, eset_str(expect), rb_stop);
		else
			violation("%s returned %s with index %u = count; the call as a whole allows %s (the first entry that cannot succeed is %u)",
				  name, ename(ret), index, eset_str(expect), rb_stop);
		rb_dump(n, index);
	}
	if (!check_result(c, ret, expect))
		goto probe;
	if (ret)
		(index == count ? rb_fail_whole : index ? rb_fail_later :
		 rb_fail_first)[add]++;
	if (ret || !count)
		goto probe;
apply:
	gen0 = m->gen;
	for (i = 0; i < n; i++) {
		struct mreg *hit;

		if (add) {
			m_insert(m, &rb_ent[i]);
		} else {
			hit = m_match(m, rb_ent[i].gpa, rb_ent[i].size);
			if (!hit)
				abort();	/* the scratch space had it */
			m_delete(m, hit);
		}
	}
	m->gen = gen0 + 1;	/* one bump for the whole batch */
	rb_ok[add]++;
	rb_ok_entries[add] += n;
probe:
	rb_probe(fd, m, name);
out:
	m_free_regions(&rb_scr);
}

static void op_add_regions(void)
{
	op_region_batch(true);
}

static void op_remove_regions(void)
{
	op_region_batch(false);
}

static void op_get_regions(void)
{
	int slot = pick_slot(), s = slot_space(slot), ret, n, i, k;
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	enum argcls ac = pick_argcls();
	struct guestmem_region_list l, *u;
	struct guestmem_region *out;
	unsigned int expect, fits, want;
	enum bufcls bc = B_GOOD;

	n = m ? m->nreg : 0;
	memset(&l, 0, sizeof(l));
	switch (rnd(6)) {
	case 0:
		l.count = 0;
		break;
	case 1:
		l.count = n;
		break;
	case 2:
		l.count = rnd(n + 1);
		break;
	case 3:
		l.count = n + 1 + rnd(4);
		break;
	case 4:
		l.count = chance(50) ? 0xffffffffU : 1U << rnd(32);
		break;
	default:
		l.count = rnd(64);
	}
	/* Room for k entries before the guard page. */
	k = rnd(PG / sizeof(*out) + 1);
	if (chance(30))
		k = n;
	out = (struct guestmem_region *)(regarea + PG - k * sizeof(*out));
	memset(regarea, 0xaa, PG);
	fits = k;
	if (chance(8)) {
		bc = chance(50) ? B_NULL : B_UNMAPPED;
		out = bc == B_NULL ? NULL : (struct guestmem_region *)unmapped;
		fits = k = 0;
	}
	l.regions = (uintptr_t)out;
	if (chance(3))
		l.reserved = 1 + rnd(1000);
	u = place_arg(&l, sizeof(l), ac);
	D("GET_REGIONS slot %d count %u room %u (%s) rsv %u arg %s", slot,
	  l.count, fits, bufcls_name[bc], l.reserved, argcls_name[ac]);
	ret = do_ioctl(fd_of(slot), GUESTMEM_GET_REGIONS, u);
	if (s < 0) {
		check_result(C_GET_REGIONS, ret, EB(EBADF));
		return;
	}
	if (arg_unreadable(ac)) {
		check_result(C_GET_REGIONS, ret, EB(EFAULT));
		return;
	}
	want = l.count < (unsigned int)n ? l.count : (unsigned int)n;
	if (l.reserved)
		expect = EB(EINVAL);
	else if (want > fits || ac == A_RO)
		expect = EB(EFAULT);
	else
		expect = EB(0);
	if (!check_result(C_GET_REGIONS, ret, expect) || ret)
		return;
	if (u->count != (uint32_t)n)
		violation("GET_REGIONS count %u, model %d", u->count, n);
	for (i = 0; i < (int)want; i++) {
		struct mreg *r = &m->reg[i];
		struct guestmem_region *e = &out[i];

		if (e->gpa != r->gpa || e->size != r->size ||
		    e->user_addr != r->uaddr || e->backing != r->backing ||
		    e->flags != r->flags || e->reserved[0] || e->reserved[1]) {
			violation("GET_REGIONS entry %d: gpa %#llx size %#llx ua %#llx b %u f %#x rsv %#llx/%#llx; model gpa %#llx size %#llx ua %#llx b %u f %#x",
				  i, (unsigned long long)e->gpa,
				  (unsigned long long)e->size,
				  (unsigned long long)e->user_addr, e->backing,
				  e->flags, (unsigned long long)e->reserved[0],
				  (unsigned long long)e->reserved[1],
				  (unsigned long long)r->gpa,
				  (unsigned long long)r->size,
				  (unsigned long long)r->uaddr, r->backing,
				  r->flags);
			return;
		}
	}
	/* Nothing written past min(count, n) entries. */
	if (out && mem_check((uint8_t *)(out + want), 0xaa,
			     (k - want) * sizeof(*out)) != -1)
		violation("GET_REGIONS wrote past entry %u", want);
}

/*
 * The outcomes of an exact transfer of [gpa, gpa + len) through a buffer of
 * which @acc bytes are accessible: the range is checked before a byte moves.
 */
static unsigned int exact_expect(struct mspace *m, uint64_t gpa, uint64_t len,
				 bool write, bool maybe, uint64_t acc)
{
	bool hole, ro;
	int ferr;

	if (!len)
		return EB(0);
	if (wraps(gpa, len))
		return EB(EOVERFLOW);
	if (m_scan(m, gpa, len, write, &ferr, &hole, &ro) < len)
		return (hole ? EB(ENXIO) : 0) | (ro ? EB(EACCES) : 0);
	if (maybe)
		return EB(0) | EB(EFAULT);
	return acc >= len ? EB(0) : EB(EFAULT);
}

static void op_io(void)
{
	bool write = chance(50), partial = chance(35), snap = false;
	int slot = pick_slot(), s = slot_space(slot), ret, fd = fd_of(slot);
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	enum argcls ac = pick_argcls();
	struct guestmem_io io, *u;
	uint64_t gpa = pick_gpa(m), len = pick_len(gpa, m), acc, xfer = 0;
	uint64_t prefix = 0;
	struct ubuf b = pick_buf(len, 12);
	enum call c = write ? C_WRITE : C_READ;
	unsigned int expect;
	bool hole = false, ro = false;
	int ferr = 0;

	memset(&io, 0, sizeof(io));
	io.gpa = gpa;
	io.len = len;
	io.buf = (uintptr_t)b.p;
	io.flags = partial ? GUESTMEM_IO_PARTIAL : 0;
	if (chance(3))
		io.flags |= 1U << (1 + rnd(31));
	if (chance(3))
		io.reserved = 1 + rnd(1000);
	io.done = 0xdeadbeefcafeULL;
	acc = write ? b.rd : b.wr;

	D("%s slot %d gpa %#llx len %#llx flags %#x rsv %u buf %s(%p, %llu accessible) arg %s",
	  write ? "WRITE" : "READ", slot, (unsigned long long)gpa,
	  (unsigned long long)len, io.flags, io.reserved, bufcls_name[b.cls],
	  (void *)b.p, (unsigned long long)acc, argcls_name[ac]);

	if (m && len && !wraps(gpa, len))
		prefix = m_scan(m, gpa, len, write, &ferr, &hole, &ro);
	/* Snapshot guest bytes a write may change, to check what it did. */
	if (write && m && len && len <= VERIFY_MAX && !wraps(gpa, len) &&
	    !b.maybe && ac == A_GOOD && fd >= 0) {
		bool h2, r2;
		int e2;

		if (m_scan(m, gpa, len, false, &e2, &h2, &r2) == len &&
		    !vread(fd, gpa, scratch, len))
			snap = true;
	}
	if (write)
		fill_src(&b, len);
	else if (b.cls == B_GOOD || b.cls == B_EDGE)
		memset(b.p, 0x5c, acc < len ? (acc < VERIFY_MAX ? acc : VERIFY_MAX) :
				  (len < VERIFY_MAX ? len : VERIFY_MAX));

	u = place_arg(&io, sizeof(io), ac);
	ret = do_ioctl(fd, write ? GUESTMEM_WRITE : GUESTMEM_READ, u);
	if (!write)
		buf_written_by_kernel(&b);

	if (s < 0) {
		check_result(c, ret, EB(EBADF));
		return;
	}
	if (arg_unreadable(ac)) {
		check_result(c, ret, EB(EFAULT));
		return;
	}
	if (io.reserved || (io.flags & ~GUESTMEM_IO_PARTIAL)) {
		expect = EB(EINVAL);
	} else if (!partial) {
		expect = exact_expect(m, gpa, len, write, b.maybe, acc);
		xfer = len;
	} else if (!len) {
		expect = EB(0);
	} else if (wraps(gpa, len)) {
		expect = EB(EOVERFLOW);
	} else if (!prefix) {
		expect = EB(ferr);
	} else {
		xfer = prefix;
		expect = b.maybe ? EB(0) | EB(EFAULT) :
			 acc >= prefix ? EB(0) : EB(EFAULT);
	}
	if (ac == A_RO) {
		/* The op ran, but `done` could not be stored. */
		expect = expect == EB(EINVAL) ? EB(EINVAL) | EB(EFAULT) : EB(EFAULT);
		if (write)
			m_set_dirty(m, gpa, len, D_UNKNOWN);
	}
	if (!check_result(c, ret, expect) || ac == A_RO || ret == EINVAL)
		return;
	io.done = u->done;
	if (b.maybe) {
		if (write && io.done)
			m_set_dirty(m, gpa, io.done, D_UNKNOWN);
		return;
	}
	if (!ret && io.done != xfer) {
		violation("done %llu after success, expected %llu",
			  (unsigned long long)io.done, (unsigned long long)xfer);
		return;
	}
	/* EINVAL: the arguments were refused; `done` is not an output then. */
	if (ret && ret != EFAULT && ret != EINVAL && io.done) {
		violation("done %llu after %s", (unsigned long long)io.done,
			  ename(ret));
		return;
	}
	if (ret == EFAULT && (io.done > acc || io.done > len)) {
		violation("done %llu after EFAULT with %llu accessible bytes",
			  (unsigned long long)io.done, (unsigned long long)acc);
		return;
	}
	if (write && io.done)
		m_set_dirty(m, gpa, io.done, D_DIRTY);

	/* What moved is right, and nothing past it changed. */
	if (write && snap) {
		if (vread(fd, gpa, scratch2, len)) {
			violation("cannot read back a written range");
			return;
		}
		if (memcmp(scratch2, b.p, io.done)) {
			violation("guest bytes [0, done=%llu) differ from the source",
				  (unsigned long long)io.done);
			return;
		}
		if (memcmp(scratch2 + io.done, scratch + io.done, len - io.done))
			violation("guest bytes past done=%llu changed (%s)",
				  (unsigned long long)io.done, ename(ret));
	}
	if (!write && (b.cls == B_GOOD || b.cls == B_EDGE) && len <= VERIFY_MAX) {
		uint64_t room = acc < len ? acc : len;

		if (io.done < room && mem_check(b.p + io.done, 0x5c, room - io.done) != -1)
			violation("READ wrote user bytes past done=%llu",
				  (unsigned long long)io.done);
		else if (io.done && !vread(fd, gpa, scratch2, io.done) &&
			 memcmp(scratch2, b.p, io.done))
			violation("READ returned bytes that a second READ does not see");
	}
}

/* The accessible bytes at a batch op's buffer, re-derived from its address. */
static uint64_t batch_acc(uint64_t buf, bool write)
{
	uint8_t *p = (uint8_t *)(uintptr_t)buf;

	if (p >= data && p < data + DATA_SZ)
		return data + DATA_SZ - p;
	if (write && p >= ropg && p < ropg + PG)
		return ropg + PG - p;
	return 0;
}

static void op_batch(void)
{
	int slot = pick_slot(), s = slot_space(slot), ret, fd = fd_of(slot);
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	enum argcls ac = pick_argcls();
	struct guestmem_batch bt, *u;
	struct guestmem_batch_op *ops;
	unsigned int n, i, expect = EB(0), stop = ~0U, provided;
	bool bad_hdr;

	memset(&bt, 0, sizeof(bt));
	switch (rnd(10)) {
	case 0:
		n = 0;
		break;
	case 1:
		n = GUESTMEM_BATCH_MAX + 1 + (chance(50) ? 0 : rnd64() % 100000);
		break;
	case 2:
		n = GUESTMEM_BATCH_MAX;
		break;
	default:
		n = 1 + rnd(6);
	}
	provided = n > 8 ? 8 : n;
	if (n > 8 && n <= GUESTMEM_BATCH_MAX)
		provided = n;
	if (chance(5) && n && n <= GUESTMEM_BATCH_MAX)
		provided = rnd(n);	/* the array ends early: EFAULT there */
	ops = (struct guestmem_batch_op *)(opsarea + OPS_SZ - provided * sizeof(*ops));
	memset(ops, 0, provided * sizeof(*ops));
	D("BATCH slot %d count %u (%u provided)", slot, n, provided);
	for (i = 0; i < provided; i++) {
		struct guestmem_batch_op *o = &ops[i];
		struct ubuf b;

		if (i >= 8) {
			/* The big batches: cheap ops, valid or failing. */
			o->op = rnd(2);
			o->gpa = pick_gpa(m);
			o->len = rnd(3) ? 0 : 1;
			o->buf = (uintptr_t)data + rnd(PG);
			continue;
		}
		o->op = chance(95) ? rnd(2) : 2 + rnd(1000);
		o->flags = chance(95) ? 0 : chance(50) ? GUESTMEM_IO_PARTIAL : rnd64();
		o->gpa = pick_gpa(m);
		o->len = pick_len(o->gpa, m);
		if (o->len > DATA_SZ && chance(80))
			o->len = 1 + rnd(PG);
		b = pick_buf(o->len, 6);
		if (b.maybe)
			b = pick_buf(o->len, 0);
		if (o->op == GUESTMEM_OP_WRITE)
			fill_src(&b, o->len);
		o->buf = (uintptr_t)b.p;
		DA("; [%u] op %u fl %#x gpa %#llx len %#llx buf %s", i, o->op,
		   o->flags, (unsigned long long)o->gpa,
		   (unsigned long long)o->len, bufcls_name[b.cls]);
	}
	bt.ops = (uintptr_t)ops;
	bt.count = n;
	if (chance(3))
		bt.flags = 1U << rnd(32);
	if (chance(3))
		bt.reserved = 1 + rnd(10);
	bt.done = 0xdeadbeef;
	DA("; flags %#x rsv %u arg %s", bt.flags, bt.reserved, argcls_name[ac]);
	u = place_arg(&bt, sizeof(bt), ac);
	ret = do_ioctl(fd, GUESTMEM_BATCH, u);
	if (s < 0) {
		check_result(C_BATCH, ret, EB(EBADF));
		return;
	}
	if (arg_unreadable(ac)) {
		check_result(C_BATCH, ret, EB(EFAULT));
		return;
	}
	bad_hdr = bt.flags || bt.reserved;
	if (n > GUESTMEM_BATCH_MAX) {
		expect = EB(E2BIG) | (bad_hdr ? EB(EINVAL) : 0);
	} else if (bad_hdr) {
		expect = EB(EINVAL);
	} else {
		for (i = 0; i < n; i++) {
			struct guestmem_batch_op *o = &ops[i];
			unsigned int e;

			if (i >= provided)
				e = EB(EFAULT);	/* o is in the guard page */
			else if (o->op > 1 || o->flags)
				e = EB(EINVAL);
			else
				e = exact_expect(m, o->gpa, o->len,
						 o->op == GUESTMEM_OP_WRITE, false,
						 batch_acc(o->buf,
							   o->op == GUESTMEM_OP_WRITE));
			if (e != EB(0)) {
				expect = e;
				stop = i;
				break;
			}
		}
		/* The ops before the failing one ran. */
		for (i = 0; i < n && i < stop && i < provided; i++)
			if (ops[i].op == GUESTMEM_OP_WRITE)
				m_set_dirty(m, ops[i].gpa, ops[i].len, D_DIRTY);
		if (stop != ~0U && stop < provided &&
		    ops[stop].op == GUESTMEM_OP_WRITE && !ops[stop].flags)
			/* A write that faulted on its buffer moved a prefix. */
			m_set_dirty(m, ops[stop].gpa, ops[stop].len, D_UNKNOWN);
	}
	if (ac == A_RO) {
		/* The ops ran, but `done` could not be stored. */
		if (n <= GUESTMEM_BATCH_MAX && !bad_hdr)
			expect = EB(EFAULT);
		else
			expect |= EB(EFAULT);
		m_all_unknown(m);
	}
	if (!check_result(C_BATCH, ret, expect) || ac == A_RO)
		return;
	if (n <= GUESTMEM_BATCH_MAX && !bad_hdr) {
		unsigned int want = stop == ~0U ? n : stop;

		if (u->done != want)
			violation("BATCH done %u, expected %u (%s)", u->done,
				  want, ename(ret));
	}
}

static uint64_t atomic_apply(uint32_t op, uint64_t cur, uint64_t v, uint64_t exp,
			     uint64_t mask)
{
	switch (op) {
	case GUESTMEM_ATOMIC_STORE:
	case GUESTMEM_ATOMIC_XCHG:
		return v;
	case GUESTMEM_ATOMIC_CMPXCHG:
		return cur == exp ? v : cur;
	case GUESTMEM_ATOMIC_FETCH_ADD:
		return (cur + v) & mask;
	case GUESTMEM_ATOMIC_FETCH_OR:
		return cur | v;
	case GUESTMEM_ATOMIC_FETCH_AND:
		return cur & v;
	}
	return cur;
}

static void op_atomic(void)
{
	static const uint32_t sizes[] = { 1, 2, 4, 8, 1, 2, 4, 8, 0, 3, 16, 5 };
	int slot = pick_slot(), s = slot_space(slot), ret, fd = fd_of(slot);
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	enum argcls ac = pick_argcls();
	struct guestmem_atomic a, *u;
	uint64_t mask, cur = 0, after = 0, want;
	unsigned int expect = 0;
	bool write, have_cur = false, valid_size;
	struct mreg *r;

	memset(&a, 0, sizeof(a));
	a.size = chance(95) ? sizes[rnd(ARRAY_LEN(sizes))] : rnd64();
	a.op = chance(93) ? rnd(7) : 7 + rnd(100);
	valid_size = a.size == 1 || a.size == 2 || a.size == 4 || a.size == 8;
	mask = !valid_size || a.size == 8 ? U64MAX : (1ULL << (a.size * 8)) - 1;
	a.gpa = pick_gpa(m);
	if (valid_size && chance(90))
		a.gpa &= ~(uint64_t)(a.size - 1);
	a.value = rnd64() & (chance(90) ? mask : U64MAX);
	if (a.op == GUESTMEM_ATOMIC_CMPXCHG && chance(20))
		a.expected = rnd64();
	if (chance(3))
		a.flags = 1 + rnd(100);
	if (chance(3))
		a.reserved = 1 + rnd(100);
	write = a.op != GUESTMEM_ATOMIC_LOAD;

	r = m ? m_find(m, a.gpa) : NULL;
	if (r && valid_size && !(a.gpa & (a.size - 1)) && fd >= 0 &&
	    ac == A_GOOD) {
		if (!vread(fd, a.gpa, &cur, a.size))
			have_cur = true;
		/* A CMPXCHG that matches half the time. */
		if (a.op == GUESTMEM_ATOMIC_CMPXCHG && chance(50))
			a.expected = cur;
	}
	D("ATOMIC slot %d gpa %#llx size %u op %u value %#llx expected %#llx flags %u rsv %u arg %s",
	  slot, (unsigned long long)a.gpa, a.size, a.op,
	  (unsigned long long)a.value, (unsigned long long)a.expected, a.flags,
	  a.reserved, argcls_name[ac]);
	u = place_arg(&a, sizeof(a), ac);
	ret = do_ioctl(fd, GUESTMEM_ATOMIC, u);
	if (s < 0) {
		check_result(C_ATOMIC, ret, EB(EBADF));
		return;
	}
	if (arg_unreadable(ac)) {
		check_result(C_ATOMIC, ret, EB(EFAULT));
		return;
	}
	if (a.flags || a.reserved || !valid_size || a.op > 6 ||
	    (a.gpa & (a.size - 1)) || (write && (a.value & ~mask)) ||
	    (a.op == GUESTMEM_ATOMIC_CMPXCHG && (a.expected & ~mask)))
		expect = EB(EINVAL);
	else if (!r)
		expect = EB(ENXIO);
	else if (write && (r->flags & RO))
		expect = EB(EACCES);
	else
		expect = EB(0);
	if (ac == A_RO) {
		/* The op ran, but the old value could not be stored. */
		if (expect == EB(0) && a.op != GUESTMEM_ATOMIC_STORE)
			expect = EB(EFAULT);
		if (write)
			m_set_dirty(m, a.gpa, 8, D_UNKNOWN);
		check_result(C_ATOMIC, ret, expect | EB(EFAULT));
		return;
	}
	if (!check_result(C_ATOMIC, ret, expect) || ret)
		return;
	if (write)
		/* A CMPXCHG that did not match wrote nothing: either way. */
		m_set_dirty(m, a.gpa, a.size,
			    a.op != GUESTMEM_ATOMIC_CMPXCHG ||
			    (have_cur && cur == a.expected) ? D_DIRTY : D_UNKNOWN);
	if (!have_cur)
		return;
	want = atomic_apply(a.op, cur, a.value, a.expected, mask);
	if (a.op != GUESTMEM_ATOMIC_STORE && u->value != cur)
		violation("ATOMIC returned %#llx, memory held %#llx",
			  (unsigned long long)u->value, (unsigned long long)cur);
	else if (!vread(fd, a.gpa, &after, a.size) && after != want)
		violation("ATOMIC left %#llx, expected %#llx",
			  (unsigned long long)after, (unsigned long long)want);
}

static void op_fill(void)
{
	int slot = pick_slot(), s = slot_space(slot), ret, fd = fd_of(slot);
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	enum argcls ac = pick_argcls();
	struct guestmem_fill f;
	unsigned int expect;
	uint8_t v[2] = { 0, 0 };

	memset(&f, 0, sizeof(f));
	f.gpa = pick_gpa(m);
	f.len = pick_len(f.gpa, m);
	f.value = chance(95) ? rnd(256) : 256 + rnd64() % 100000;
	if (chance(3))
		f.flags = 1 + rnd(7);
	D("FILL slot %d gpa %#llx len %#llx value %#x flags %u arg %s", slot,
	  (unsigned long long)f.gpa, (unsigned long long)f.len, f.value,
	  f.flags, argcls_name[ac]);
	ret = do_ioctl(fd, GUESTMEM_FILL, place_arg(&f, sizeof(f), ac));
	if (s < 0) {
		check_result(C_FILL, ret, EB(EBADF));
		return;
	}
	if (arg_unreadable(ac)) {
		check_result(C_FILL, ret, EB(EFAULT));
		return;
	}
	if (f.flags || f.value > 255)
		expect = EB(EINVAL) | (wraps(f.gpa, f.len) ? EB(EOVERFLOW) : 0);
	else
		expect = exact_expect(m, f.gpa, f.len, true, false, U64MAX);
	if (!check_result(C_FILL, ret, expect) || ret || !f.len)
		return;
	m_set_dirty(m, f.gpa, f.len, D_DIRTY);
	if (vread(fd, f.gpa, &v[0], 1) ||
	    vread(fd, range_last(f.gpa, f.len), &v[1], 1) ||
	    v[0] != f.value || v[1] != f.value)
		violation("FILL: first/last byte %#x/%#x, expected %#x",
			  v[0], v[1], f.value);
}

static void op_copy(void)
{
	int slot = pick_slot(), s = slot_space(slot), ret, fd = fd_of(slot);
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	enum argcls ac = pick_argcls();
	struct guestmem_copy c;
	unsigned int expect;
	bool snap = false;

	memset(&c, 0, sizeof(c));
	c.src = pick_gpa(m);
	c.dst = chance(30) ? c.src + small_delta() + rnd(64) : pick_gpa(m);
	c.len = pick_len(chance(50) ? c.src : c.dst, m);
	if (chance(3))
		c.flags = 1 + rnd(7);
	if (chance(3))
		c.reserved = 1 + rnd(7);
	D("COPY slot %d dst %#llx src %#llx len %#llx flags %u rsv %u arg %s",
	  slot, (unsigned long long)c.dst, (unsigned long long)c.src,
	  (unsigned long long)c.len, c.flags, c.reserved, argcls_name[ac]);
	if (m && c.len && c.len <= VERIFY_MAX && !wraps(c.src, c.len) &&
	    !vread(fd, c.src, scratch, c.len))
		snap = true;
	ret = do_ioctl(fd, GUESTMEM_COPY, place_arg(&c, sizeof(c), ac));
	if (s < 0) {
		check_result(C_COPY, ret, EB(EBADF));
		return;
	}
	if (arg_unreadable(ac)) {
		check_result(C_COPY, ret, EB(EFAULT));
		return;
	}
	if (c.flags || c.reserved) {
		expect = EB(EINVAL) | (wraps(c.src, c.len) || wraps(c.dst, c.len) ?
				       EB(EOVERFLOW) : 0);
	} else if (wraps(c.src, c.len) || wraps(c.dst, c.len)) {
		expect = EB(EOVERFLOW);
	} else {
		unsigned int es = exact_expect(m, c.src, c.len, false, false, U64MAX);
		unsigned int ed = exact_expect(m, c.dst, c.len, true, false, U64MAX);

		expect = es == EB(0) ? ed : ed == EB(0) ? es : es | ed;
	}
	if (!check_result(C_COPY, ret, expect) || ret)
		return;
	m_set_dirty(m, c.dst, c.len, D_DIRTY);
	if (snap && (vread(fd, c.dst, scratch2, c.len) ||
		     memcmp(scratch, scratch2, c.len)))
		violation("COPY: the destination differs from the source before the copy");
}

static void op_dirty(void)
{
	int slot = pick_slot(), s = slot_space(slot), ret, i;
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	enum argcls ac = pick_argcls();
	struct guestmem_dirty_log d;
	uint64_t npages = 0, need, room, p;
	uint64_t *bm;
	unsigned int expect;
	int r = pick_region(m);
	enum bufcls bc = B_GOOD;

	memset(&d, 0, sizeof(d));
	if (r >= 0 && chance(75)) {
		struct mreg *g = &m->reg[r];

		/* A DIRTY_LOG region, a part of it, or a run of regions. */
		for (i = 0; i < 4 && !(g->flags & DL); i++)
			g = &m->reg[rnd(m->nreg)];
		d.gpa = g->gpa + (chance(50) ? rnd(g->size / PG) * PG : 0);
		d.size = g->gpa + g->size - d.gpa;
		if (chance(30))
			d.size += rnd(4) * PG;
		if (chance(10))
			d.size = chance(50) ? 0 : d.size - PG;
	} else {
		d.gpa = pick_gpa(m) & (chance(90) ? ~(PG - 1) : U64MAX);
		d.size = pick_len(d.gpa, m) & (chance(90) ? ~(PG - 1) : U64MAX);
	}
	d.flags = chance(50) ? GUESTMEM_DIRTY_LOG_CLEAR : 0;
	if (chance(3))
		d.flags |= 1U << (1 + rnd(31));
	if (chance(3))
		d.reserved = 1 + rnd(9);
	if (!(d.size % PG) && !wraps(d.gpa, d.size))
		npages = d.size / PG;
	need = (npages + 63) / 64 * 8;
	room = need <= BM_SZ ? need + (chance(80) ? 8 * rnd(4) : 0) : 0;
	if (chance(5) && need)
		room = rnd(need) & ~7ULL;	/* too small: EFAULT */
	if (room > BM_SZ)
		room = BM_SZ;
	bm = (uint64_t *)(bmarea + BM_SZ - room);
	memset(bm, 0xff, room);
	if (chance(4)) {
		bc = chance(50) ? B_NULL : B_UNMAPPED;
		bm = bc == B_NULL ? NULL : (uint64_t *)unmapped;
		room = 0;
	}
	d.bitmap = (uintptr_t)bm;
	D("GET_DIRTY_LOG slot %d gpa %#llx size %#llx flags %#x rsv %u bitmap %s room %llu need %llu arg %s",
	  slot, (unsigned long long)d.gpa, (unsigned long long)d.size, d.flags,
	  d.reserved, bufcls_name[bc], (unsigned long long)room,
	  (unsigned long long)need, argcls_name[ac]);
	ret = do_ioctl(fd_of(slot), GUESTMEM_GET_DIRTY_LOG, place_arg(&d, sizeof(d), ac));
	if (s < 0) {
		check_result(C_DIRTY, ret, EB(EBADF));
		return;
	}
	if (arg_unreadable(ac)) {
		check_result(C_DIRTY, ret, EB(EFAULT));
		return;
	}
	if (d.reserved || (d.flags & ~GUESTMEM_DIRTY_LOG_CLEAR) ||
	    d.gpa % PG || d.size % PG) {
		expect = EB(EINVAL) | (wraps(d.gpa, d.size) ? EB(EOVERFLOW) : 0);
	} else if (wraps(d.gpa, d.size)) {
		expect = EB(EOVERFLOW);
	} else if (!d.size) {
		expect = EB(0);
	} else {
		bool hole = false, nolog = false;
		uint64_t cur = d.gpa, last = range_last(d.gpa, d.size);

		/* Every page in a DIRTY_LOG region? */
		for (;;) {
			struct mreg *g = m_find(m, cur);

			if (!g) {
				hole = true;
				for (i = 0; i < m->nreg && m->reg[i].gpa <= cur; i++)
					;
				if (i == m->nreg || m->reg[i].gpa > last)
					break;
				cur = m->reg[i].gpa;
				continue;
			}
			if (!(g->flags & DL))
				nolog = true;
			if (reg_last(g) >= last)
				break;
			cur = reg_last(g) + 1;
		}
		expect = (hole ? EB(ENXIO) : 0) | (nolog ? EB(EINVAL) : 0);
		if (!expect)
			expect = (room >= need ? EB(0) : EB(EFAULT)) | EB(ENOMEM);
		if (!hole && !nolog && room < need && (d.flags & GUESTMEM_DIRTY_LOG_CLEAR))
			/* Which bits were consumed before the fault is unknown. */
			m_dirty(m, d.gpa, d.size, D_UNKNOWN, true);
	}
	if (!check_result(C_DIRTY, ret, expect) || ret)
		return;
	for (p = 0; p < npages; p++) {
		struct mreg *g = m_find(m, d.gpa + p * PG);
		uint64_t pg = (d.gpa + p * PG - g->gpa) / PG;
		int bit = (bm[p / 64] >> (p % 64)) & 1;

		if (g->dirty[pg] != D_UNKNOWN && g->dirty[pg] != bit) {
			violation("GET_DIRTY_LOG: page %llu (gpa %#llx) reported %s; the model says %s",
				  (unsigned long long)p,
				  (unsigned long long)(d.gpa + p * PG),
				  bit ? "dirty" : "clean",
				  g->dirty[pg] ? "written since the last clear" :
						 "not written since the last clear");
			return;
		}
		g->dirty[pg] = (d.flags & GUESTMEM_DIRTY_LOG_CLEAR) ? D_CLEAN : bit;
	}
	if (npages % 64 && bm[npages / 64] >> (npages % 64))
		violation("GET_DIRTY_LOG: bits past the last page are set: %#llx",
			  (unsigned long long)bm[npages / 64]);
	if (room > need && mem_check((uint8_t *)bm + need, 0xff, room - need) != -1)
		violation("GET_DIRTY_LOG wrote past the bitmap's %llu bytes",
			  (unsigned long long)need);
}

static void op_unknown_ioctl(void)
{
	static const unsigned long known[] = {
		GUESTMEM_GET_INFO, GUESTMEM_ADD_REGION, GUESTMEM_REMOVE_REGION,
		GUESTMEM_GET_REGIONS, GUESTMEM_READ, GUESTMEM_WRITE,
		GUESTMEM_BATCH, GUESTMEM_ATOMIC, GUESTMEM_FILL, GUESTMEM_COPY,
		GUESTMEM_GET_DIRTY_LOG, GUESTMEM_ADD_REGIONS,
		GUESTMEM_REMOVE_REGIONS,
	};
	int slot = pick_slot(), ret;
	unsigned long cmd;
	unsigned int i;

	do {
		switch (rnd(4)) {
		case 0:	/* a known number with another size or direction */
			cmd = known[rnd(ARRAY_LEN(known))];
			cmd = _IOC(rnd(4), 0xB9, _IOC_NR(cmd), rnd(1 << 14));
			break;
		case 1:	/* any number of our type */
			cmd = _IOC(rnd(4), 0xB9, rnd(256), rnd(256));
			break;
		case 2:	/* guestmem_dma's ioctls are not ours */
			cmd = _IOC(rnd(4), 0xB9, 0x80 + rnd(4), 32);
			break;
		default:
			cmd = _IO(0xB9, rnd(256));
		}
		for (i = 0; i < ARRAY_LEN(known); i++)
			if (cmd == known[i])
				break;
	} while (i < ARRAY_LEN(known));
	memset(argpg, 0, PG);
	D("ioctl slot %d cmd %#lx", slot, cmd);
	ret = do_ioctl(fd_of(slot), cmd, argpg);
	check_result(C_UNKNOWN_IOCTL, ret,
		     slot_space(slot) < 0 ? EB(EBADF) : EB(ENOTTY));
}

static uint64_t raw_pos(int fd)
{
	return raw_lseek(fd, 0, SEEK_CUR);
}

/* read/write/pread/pwrite/readv/writev/preadv/pwritev */
static void op_rdwr(void)
{
	enum { K_RW, K_PRW, K_VEC, K_PVEC } kind = rnd(4);
	static const char *const names[2][4] = {
		{ "read", "pread", "readv", "preadv" },
		{ "write", "pwrite", "writev", "pwritev" },
	};
	bool wr = chance(50), positioned, maybe = false, badrange = false;
	bool neglen = false;
	int slot = pick_slot(), s = slot_space(slot), fd = fd_of(slot), nvec = 1, i;
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	uint64_t gpa = pick_gpa(m), len = pick_len(gpa, m), count = 0, acc = 0;
	uint64_t pos, c, prefix = 0;
	struct iovec *iov = (struct iovec *)(iovarea + PG - 3 * sizeof(struct iovec));
	struct ubuf b[3];
	unsigned int expect;
	long long ret;
	int err, ferr = 0;
	bool hole, ro;

	positioned = kind == K_PRW || kind == K_PVEC;
	if (positioned && chance(95))
		gpa &= (1ULL << 63) - 1;
	if (len > (1ULL << 32) && chance(70))
		len = 1 + rnd(VERIFY_MAX);
	if (kind == K_VEC || kind == K_PVEC)
		nvec = 1 + rnd(3);
	iov += 3 - nvec;
	for (i = 0; i < nvec; i++) {
		uint64_t l = nvec == 1 ? len : (chance(80) ? rnd(3 * PG) : len);

		b[i] = pick_buf(l, 10);
		if (wr)
			fill_src(&b[i], l);
		else if (b[i].cls == B_GOOD || b[i].cls == B_EDGE)
			memset(b[i].p, 0x5c, l < b[i].wr ? (l < VERIFY_MAX ? l : VERIFY_MAX) :
			       (b[i].wr < VERIFY_MAX ? b[i].wr : VERIFY_MAX));
		iov[i].iov_base = b[i].p;
		iov[i].iov_len = l;
		count += l;
		neglen |= (int64_t)l < 0;
		/* access_ok() fails on the whole range before anything moves. */
		if (b[i].cls == B_KERNEL || b[i].cls == B_NONCANON ||
		    (uintptr_t)b[i].p + l < (uintptr_t)b[i].p ||
		    (uintptr_t)b[i].p + l > (1ULL << 47) - PG)
			badrange = true;
	}
	/* Accessible prefix of the whole vector. */
	for (i = 0; i < nvec; i++) {
		uint64_t a = wr ? b[i].rd : b[i].wr;

		if (b[i].maybe) {
			maybe = true;
			break;
		}
		if (a < iov[i].iov_len) {
			acc += a;
			break;
		}
		acc += iov[i].iov_len;
	}

	D("%s slot %d gpa %#llx count %#llx nvec %d bufs %s/%s/%s",
	  names[wr][kind], slot, (unsigned long long)gpa,
	  (unsigned long long)count, nvec, bufcls_name[b[0].cls],
	  nvec > 1 ? bufcls_name[b[1].cls] : "-",
	  nvec > 2 ? bufcls_name[b[2].cls] : "-");

	pos = gpa;
	if (!positioned && s >= 0 && raw_lseek(fd, gpa, SEEK_SET) != gpa) {
		violation("lseek(SEEK_SET, %#llx) failed", (unsigned long long)gpa);
		return;
	}
	errno = 0;
	switch (kind) {
	case K_RW:
		ret = wr ? write(fd, b[0].p, len) : read(fd, b[0].p, len);
		break;
	case K_PRW:
		ret = wr ? pwrite(fd, b[0].p, len, gpa) : pread(fd, b[0].p, len, gpa);
		break;
	case K_VEC:
		ret = wr ? writev(fd, iov, nvec) : readv(fd, iov, nvec);
		break;
	default:
		ret = wr ? pwritev(fd, iov, nvec, gpa) : preadv(fd, iov, nvec, gpa);
	}
	err = ret < 0 ? errno : 0;
	if (!wr)
		for (i = 0; i < nvec; i++)
			buf_written_by_kernel(&b[i]);
	if (s < 0) {
		/* p*() refuse a negative position before looking at the fd. */
		check_result(C_RDWR, err, EB(EBADF) |
			     (positioned && (int64_t)pos < 0 ? EB(EINVAL) : 0));
		return;
	}

	c = count > 0x7ffff000ULL ? 0x7ffff000ULL : count;
	/*
	 * The VFS's own checks, in whatever order it makes them: these fail
	 * the call for sure.  A buffer access_ok() refuses may fail it up
	 * front (EFAULT) or only where the copy reaches it.
	 */
	expect = 0;
	if (positioned && (int64_t)pos < 0)
		expect |= EB(EINVAL);
	if (neglen || (int64_t)count < 0)
		expect |= EB(EINVAL) | EB(EFAULT);
	/* import_iovec() caps a vector at MAX_RW_COUNT before the check. */
	if ((int64_t)pos < 0 && (nvec > 1 || kind == K_VEC || kind == K_PVEC ?
				 c : count) >= 0ULL - pos)
		expect |= EB(EOVERFLOW) | (badrange ? EB(EFAULT) : 0);
	if (expect) {
		/* one of those */
	} else if (!c) {
		expect = EB(0) | (badrange ? EB(EFAULT) : 0);
	} else {
		prefix = m_scan(m, pos, c, wr, &ferr, &hole, &ro);
		if (!prefix)
			expect = EB(ferr);
		else if (maybe)
			expect = EB(0) | EB(EFAULT);
		else if (!acc)
			expect = EB(EFAULT);
		else
			expect = EB(0);
		if (badrange)
			expect |= EB(EFAULT);
	}
	if (!check_result(C_RDWR, err, expect))
		return;
	if (err) {
		if (err == EFAULT && wr && prefix)
			m_set_dirty(m, pos, prefix, D_UNKNOWN);
		return;
	}
	if (maybe) {
		if (wr)
			m_set_dirty(m, pos, (uint64_t)ret, D_UNKNOWN);
		return;
	}
	if (!c)
		return;
	/* All that is backed and accessible, or a fault cut it short. */
	if (!((uint64_t)ret == (prefix < acc ? prefix : acc) ||
	      (acc < prefix && ret > 0 && (uint64_t)ret <= acc))) {
		violation("%s returned %lld; %llu bytes backed, %llu accessible",
			  names[wr][kind], ret, (unsigned long long)prefix,
			  (unsigned long long)acc);
		return;
	}
	if (wr)
		m_set_dirty(m, pos, ret, D_DIRTY);
	if (!positioned && raw_pos(fd) != pos + (uint64_t)ret) {
		violation("position %#llx after moving %lld bytes from %#llx",
			  (unsigned long long)raw_pos(fd), ret,
			  (unsigned long long)pos);
		return;
	}
	/* The bytes are those the ioctl path sees. */
	if (ret > 0 && (uint64_t)ret <= VERIFY_MAX && nvec == 1 &&
	    !vread(fd, pos, scratch2, ret) && memcmp(scratch2, b[0].p, ret)) {
		violation("%s moved bytes that GUESTMEM_READ does not see",
			  names[wr][kind]);
		return;
	}
	if (!wr && nvec == 1 && (b[0].cls == B_GOOD || b[0].cls == B_EDGE) &&
	    len <= VERIFY_MAX) {
		uint64_t room = acc < len ? acc : len;

		if ((uint64_t)ret < room &&
		    mem_check(b[0].p + ret, 0x5c, room - ret) != -1)
			violation("read wrote user bytes past its count %lld", ret);
	}
}

static uint64_t m_next_data(struct mspace *m, uint64_t off, bool *found)
{
	int i;

	for (i = 0; i < m->nreg; i++) {
		if (reg_last(&m->reg[i]) >= off) {
			*found = true;
			return off > m->reg[i].gpa ? off : m->reg[i].gpa;
		}
	}
	*found = false;
	return 0;
}

static uint64_t m_next_hole(struct mspace *m, uint64_t off, bool *found)
{
	struct mreg *r;

	for (;;) {
		r = m_find(m, off);
		if (!r) {
			*found = true;
			return off;
		}
		if (reg_last(r) == U64MAX) {
			*found = false;
			return 0;
		}
		off = reg_last(r) + 1;
	}
}

static void op_lseek(void)
{
	int slot = pick_slot(), s = slot_space(slot), fd = fd_of(slot), whence;
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	uint64_t off = pick_gpa(m), cur = 0, want = 0, res, end;
	unsigned int expect;
	bool found, top;
	int err;

	switch (rnd(10)) {
	case 0:
	case 1:
		whence = SEEK_SET;
		break;
	case 2:
	case 3:
		whence = SEEK_CUR;
		off = chance(50) ? rnd(1 << 20) - (1 << 19) : rnd64();
		break;
	case 4:
	case 5:
	case 6:
		whence = SEEK_DATA;
		break;
	case 7:
	case 8:
		whence = SEEK_HOLE;
		break;
	default:
		whence = chance(50) ? SEEK_END : 5 + rnd(100);
	}
	if (s >= 0)
		cur = raw_pos(fd);
	D("lseek slot %d off %#llx whence %d (pos %#llx)", slot,
	  (unsigned long long)off, whence, (unsigned long long)cur);
	res = raw_lseek(fd, off, whence);
	err = res >= (uint64_t)-4095 ? (int)-res : 0;
	if (s < 0) {
		check_result(C_LSEEK, err, EB(EBADF));
		return;
	}
	switch (whence) {
	case SEEK_SET:
		want = off;
		expect = EB(0);
		break;
	case SEEK_CUR:
		want = cur + off;
		if ((int64_t)off > 0 ? want < cur : want > cur)
			expect = EB(EINVAL) | EB(0);	/* past an end: either */
		else
			expect = EB(0);
		break;
	case SEEK_DATA:
		want = m_next_data(m, off, &found);
		expect = found ? EB(0) : EB(ENXIO);
		break;
	case SEEK_HOLE:
		want = m_next_hole(m, off, &found);
		expect = found ? EB(0) : EB(ENXIO);
		break;
	case SEEK_END:
		/* Relative to the extent: the end of the highest region. */
		end = 0;
		top = false;
		for (int i = 0; i < m->nreg; i++) {
			if (reg_last(&m->reg[i]) == U64MAX)
				top = true;
			else if (reg_last(&m->reg[i]) + 1 > end)
				end = reg_last(&m->reg[i]) + 1;
		}
		want = end + off;
		if (top)
			expect = EB(EOVERFLOW);
		else if ((int64_t)off > 0 ? want < end : want > end)
			expect = EB(EINVAL);
		else
			expect = EB(0);
		break;
	default:
		expect = EB(EINVAL);
	}
	/* A position in the last 4095 bytes looks like an errno. */
	if ((expect & EB(0)) && want >= (uint64_t)-4095 && res == want) {
		stat_calls[C_LSEEK]++;
		stat_ok[C_LSEEK]++;
		return;
	}
	if (!check_result(C_LSEEK, err, expect) || err)
		return;
	if (res != want && !(whence == SEEK_CUR && (expect & EB(EINVAL))))
		violation("lseek returned %#llx, expected %#llx",
			  (unsigned long long)res, (unsigned long long)want);
}

static void op_mmap(void)
{
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE,
				     PROT_READ, PROT_WRITE, PROT_NONE };
	int slot = pick_slot(), s = slot_space(slot), fd = fd_of(slot), flags, prot, i;
	struct mspace *m = s >= 0 ? &sp[s] : NULL;
	uint64_t len, gpa;
	unsigned int expect;
	void *p;
	int err;

	for (i = 0; i < MAXMAP; i++)
		if (!maps[i].used)
			break;
	if (i == MAXMAP)
		return;
	switch (rnd(10)) {
	case 0:
		len = 0;
		break;
	case 1:
		len = 1ULL << (30 + rnd(17));	/* big: fine or ENOMEM */
		break;
	case 2:
		len = 1 + rnd(3 * PG);
		break;
	default:
		len = (1 + rnd(64)) * PG;
	}
	gpa = chance(60) && m && m->nreg ? m->reg[rnd(m->nreg)].gpa - rnd(4) * PG :
	      pick_gpa(m) & ~(PG - 1);
	if (chance(8))
		gpa = 0ULL - ((len + PG - 1) & ~(PG - 1)) + (chance(50) ? PG : 0);
	if (chance(3))
		gpa |= 1 + rnd(PG - 1);
	flags = chance(92) ? MAP_SHARED : MAP_PRIVATE;
	if (chance(10))
		flags |= MAP_POPULATE;
	prot = prots[rnd(ARRAY_LEN(prots))];
	D("mmap slot %d len %#llx gpa %#llx prot %d flags %#x", slot,
	  (unsigned long long)len, (unsigned long long)gpa, prot, flags);
	/* MAP_POPULATE over a huge range would fault in gigabytes. */
	if ((flags & MAP_POPULATE) && len > (64ULL << 20))
		flags &= ~MAP_POPULATE;
	p = mmap(NULL, len, prot, flags, fd, (off_t)gpa);
	err = p == MAP_FAILED ? errno : 0;
	if (s < 0) {
		/* x86's mmap() refuses an unaligned offset before the fd. */
		check_result(C_MMAP, err, EB(EBADF) | (gpa % PG ? EB(EINVAL) : 0));
		return;
	}
	expect = 0;
	if (!len || (flags & MAP_PRIVATE) || gpa % PG)
		expect |= EB(EINVAL);
	if (wraps(gpa, (len + PG - 1) & ~(PG - 1)) &&
	    gpa + ((len + PG - 1) & ~(PG - 1)) != 0)
		expect |= EB(EOVERFLOW);
	if (!expect)
		expect = EB(0);
	if (len >= (1ULL << 30))
		expect |= EB(ENOMEM);	/* no room for it: checked early */
	if (!check_result(C_MMAP, err, expect) || err)
		return;
	len = (len + PG - 1) & ~(PG - 1);
	if (len > (64ULL << 20)) {
		munmap(p, len);	/* not kept: touches pick pages at random */
		return;
	}
	maps[i].used = true;
	maps[i].addr = p;
	maps[i].len = len;
	maps[i].gpa = gpa;
	maps[i].prot = prot;
	maps[i].space = s;
	sp[s].refs++;
}

static void op_munmap(void)
{
	int i = live_mapping(), ret;

	if (i < 0 || chance(5)) {
		D("munmap unaligned");
		ret = munmap(data + 1 + rnd(PG - 1), PG) ? errno : 0;
		check_result(C_MUNMAP, ret, EB(EINVAL));
		return;
	}
	D("munmap mapping %d (%p, %#llx)", i, (void *)maps[i].addr,
	  (unsigned long long)maps[i].len);
	ret = munmap(maps[i].addr, maps[i].len) ? errno : 0;
	if (!check_result(C_MUNMAP, ret, EB(0)))
		return;
	maps[i].used = false;
	space_put(maps[i].space);
}

static void op_madvise(void)
{
	int i = live_mapping(), ret;
	uint64_t first, n;

	if (i < 0)
		return;
	first = rnd(maps[i].len / PG);
	n = 1 + rnd(maps[i].len / PG - first);
	D("madvise DONTNEED mapping %d pages %llu+%llu", i,
	  (unsigned long long)first, (unsigned long long)n);
	ret = madvise(maps[i].addr + first * PG, n * PG, MADV_DONTNEED) ? errno : 0;
	/* Refused on every PFN mapping; the mapping and the data stay. */
	check_result(C_MADVISE, ret, EB(EINVAL));
}

static sigjmp_buf touch_jmp;
static volatile sig_atomic_t touch_armed;

void touch_handler(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (!touch_armed) {
		/* Not a touch: a bug here, or the kernel wrote where it must not. */
		fprintf(stdout, "# signal %d at %p during: %s\n", sig,
			si->si_addr, desc);
		fflush(stdout);
		signal(sig, SIG_DFL);
		return;
	}
	touch_armed = 0;
	siglongjmp(touch_jmp, sig);
}

static void op_touch(void)
{
	int i = live_mapping(), sig, fd;
	struct mmapping *mp;
	volatile uint8_t *addr;
	uint64_t off, gpa;
	bool write = chance(50);
	uint8_t v = rnd(256), got = 0, seen;
	int expect;
	struct mreg *r;

	if (i < 0)
		return;
	mp = &maps[i];
	off = rnd(mp->len);
	gpa = mp->gpa + off;
	addr = mp->addr + off;
	D("touch %s mapping %d offset %#llx (gpa %#llx) prot %d value %#x",
	  write ? "write" : "read", i, (unsigned long long)off,
	  (unsigned long long)gpa, mp->prot, v);
	r = m_find(&sp[mp->space], gpa);
	if (mp->prot == PROT_NONE || (write && !(mp->prot & PROT_WRITE)))
		expect = SIGSEGV;
	else if (!r || (write && (r->flags & RO)))
		expect = SIGBUS;
	else
		expect = 0;

	touch_armed = 1;
	sig = sigsetjmp(touch_jmp, 1);
	if (!sig) {
		if (write)
			*addr = v;
		else
			got = *addr;
	}
	touch_armed = 0;
	stat_calls[C_TOUCH]++;
	if (sig != expect) {
		violation("touch: %s, expected %s (gpa %s)",
			  sig == SIGBUS ? "SIGBUS" : sig == SIGSEGV ? "SIGSEGV" : "no signal",
			  expect == SIGBUS ? "SIGBUS" : expect == SIGSEGV ? "SIGSEGV" : "no signal",
			  r ? (r->flags & RO ? "in a read-only region" : "backed") : "unbacked");
		return;
	}
	if (sig)
		return;
	stat_ok[C_TOUCH]++;
	if (write)
		m_set_dirty(&sp[mp->space], gpa, 1, D_DIRTY);
	fd = fd_for_space(mp->space);
	if (fd < 0)
		return;
	if (vread(fd, gpa, &seen, 1)) {
		violation("GUESTMEM_READ fails on a byte the mapping reaches");
		return;
	}
	if (seen != (write ? v : got))
		violation("mapping %s %#x at gpa %#llx, GUESTMEM_READ sees %#x",
			  write ? "wrote" : "read", write ? v : got,
			  (unsigned long long)gpa, seen);
}

/* Re-read every space reachable from a slot after a child changed it. */
static void resync(void)
{
	int slot, s, i;
	bool done[MAXSP] = { false };

	for (slot = 0; slot < NSLOT; slot++) {
		struct guestmem_region_list l;
		struct guestmem_region out[MAXREG + 1];
		struct guestmem_info info;

		s = slot_space(slot);
		if (s < 0 || done[s])
			continue;
		done[s] = true;
		memset(&l, 0, sizeof(l));
		l.count = MAXREG + 1;
		l.regions = (uintptr_t)out;
		if (ioctl(slot_fd[slot], GUESTMEM_GET_REGIONS, &l) ||
		    l.count > MAXREG + 1 || gm_info(slot_fd[slot], &info)) {
			violation("cannot re-read the regions after a child");
			return;
		}
		m_free_regions(&sp[s]);
		for (i = 0; i < (int)l.count; i++)
			m_insert(&sp[s], &out[i]);
		m_all_unknown(&sp[s]);
		sp[s].gen = info.generation;
	}
	/* Spaces only a mapping reaches: a child could not change them. */
}

static void op_fork(void)
{
	unsigned long parent_op = op_index;
	uint64_t child_seed = rnd64();
	int st, i;
	pid_t pid;

	D("fork (child seed %#llx)", (unsigned long long)child_seed);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		check_result(C_FORK, errno, EB(EAGAIN) | EB(ENOMEM));
		return;
	}
	if (!pid) {
		in_child = true;
		child_of = parent_op;
		rng = child_seed;
		for (op_index = 0; op_index < CHILD_OPS && !failed; op_index++)
			run_op(false);
		fflush(stdout);
		_exit(failed ? 1 : 0);
	}
	stat_calls[C_FORK]++;
	if (waitpid(pid, &st, 0) != pid) {
		violation("waitpid: %s", strerror(errno));
		return;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		D("fork (child seed %#llx)", (unsigned long long)child_seed);
		if (WIFSIGNALED(st))
			violation("child died of signal %d", WTERMSIG(st));
		else
			violation("child reported a violation (above)");
		return;
	}
	stat_ok[C_FORK]++;
	resync();
	for (i = 0; i < MAXSP; i++)
		if (sp[i].used && fd_for_space(i) < 0)
			m_all_unknown(&sp[i]);
}

static uint64_t op_us[32], op_n[32];	/* time spent per op kind */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const struct opdef opdefs[] = {
#define OP(f, w, p)	{ op_##f, w, p, #f }
	OP(open, 3, false), OP(close, 2, false), OP(dup, 2, false),
	OP(get_info, 4, false), OP(add, 14, false), OP(remove, 7, false),
	OP(get_regions, 4, false), OP(io, 16, false), OP(batch, 5, false),
	OP(atomic, 6, false), OP(fill, 4, false), OP(copy, 4, false),
	OP(dirty, 7, false), OP(unknown_ioctl, 2, false),
	OP(rdwr, 10, false), OP(lseek, 5, false), OP(mmap, 4, false),
	OP(munmap, 2, false), OP(madvise, 1, false), OP(touch, 8, false),
	OP(fork, 1, true), OP(add_regions, 4, false),
	OP(remove_regions, 3, false),
#undef OP
};

void run_op(bool allow_fork)
{
	unsigned int total = 0, i, pick;
	uint64_t t;

	for (i = 0; i < ARRAY_LEN(opdefs); i++)
		if (allow_fork || !opdefs[i].parent_only)
			total += opdefs[i].weight;
	pick = rnd(total);
	for (i = 0; i < ARRAY_LEN(opdefs); i++) {
		if (!allow_fork && opdefs[i].parent_only)
			continue;
		if (pick < opdefs[i].weight)
			break;
		pick -= opdefs[i].weight;
	}
	desc[0] = 0;
	t = now_us();
	opdefs[i].fn();
	op_us[i] += now_us() - t;
	op_n[i]++;
	if (trace && desc[0])
		printf("# %s%lu: %s\n", in_child ? "  child " : "", op_index, desc);
}

/* The time spent in each kind of op during the run; what region batches did. */
void print_op_times(void)
{
	char line[512] = "#   time per op kind (ms):";
	unsigned int c;

	for (c = 0; c < ARRAY_LEN(opdefs); c++)
		if (op_n[c])
			snprintf(line + strlen(line), sizeof(line) - strlen(line),
				 " %s %llu", opdefs[c].name,
				 (unsigned long long)op_us[c] / 1000);
	printf("%s\n", line);
	for (c = 2; c-- > 0;)
		printf("#   %s batches: %lu applied (%lu entries); failed at entry 0 %lu, at a later entry %lu, as a whole %lu\n",
		       c ? "add" : "remove", rb_ok[c], rb_ok_entries[c],
		       rb_fail_first[c], rb_fail_later[c], rb_fail_whole[c]);
}
