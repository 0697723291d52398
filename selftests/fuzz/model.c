// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem fuzzer (fuzz_test.c): the model of every space, file, fd slot
 * and mapping.
 */
#include "fuzz.h"

/* ---- the model ---------------------------------------------------------------- */

struct mspace sp[MAXSP];
struct mfile files[NSLOT * 2];
int slot_fd[NSLOT], slot_file[NSLOT];
struct mmapping maps[MAXMAP];
unsigned int max_regions = MAXREG;

uint64_t reg_last(const struct mreg *r)
{
	return r->gpa + (r->size - 1);
}

uint64_t range_last(uint64_t gpa, uint64_t len)
{
	return gpa + (len - 1);
}

bool wraps(uint64_t gpa, uint64_t len)
{
	return len && len - 1 > U64MAX - gpa;
}

struct mreg *m_find(struct mspace *s, uint64_t gpa)
{
	int i;

	for (i = 0; i < s->nreg; i++)
		if (gpa >= s->reg[i].gpa && gpa <= reg_last(&s->reg[i]))
			return &s->reg[i];
	return NULL;
}

/* The region exactly [@gpa, @gpa + @size) of @s, or NULL. */
struct mreg *m_match(struct mspace *s, uint64_t gpa, uint64_t size)
{
	int i;

	for (i = 0; i < s->nreg; i++)
		if (s->reg[i].gpa == gpa && s->reg[i].size == size)
			return &s->reg[i];
	return NULL;
}

bool m_overlaps(struct mspace *s, uint64_t gpa, uint64_t last)
{
	int i;

	for (i = 0; i < s->nreg; i++)
		if (s->reg[i].gpa <= last && reg_last(&s->reg[i]) >= gpa)
			return true;
	return false;
}

/*
 * Walk [gpa, gpa + len) (len > 0, not wrapping).  Returns how many leading
 * bytes can move (backed, and writable for a write); *first_err says why the
 * next one cannot (ENXIO/EACCES), *hole and *ro whether the range has any
 * unbacked / read-only byte at all.
 */
uint64_t m_scan(struct mspace *s, uint64_t gpa, uint64_t len, bool write,
		int *first_err, bool *hole, bool *ro)
{
	uint64_t last = range_last(gpa, len), cur = gpa, prefix = len;
	bool stopped = false;
	int i = 0;

	*first_err = 0;
	*hole = *ro = false;
	for (;;) {
		struct mreg *r;

		while (i < s->nreg && reg_last(&s->reg[i]) < cur)
			i++;
		if (i >= s->nreg || s->reg[i].gpa > cur) {
			*hole = true;
			if (!stopped) {
				prefix = cur - gpa;
				*first_err = ENXIO;
				stopped = true;
			}
			if (i >= s->nreg || s->reg[i].gpa > last)
				break;
			cur = s->reg[i].gpa;
			continue;
		}
		r = &s->reg[i];
		if (write && (r->flags & RO)) {
			*ro = true;
			if (!stopped) {
				prefix = cur - gpa;
				*first_err = EACCES;
				stopped = true;
			}
		}
		if (reg_last(r) >= last)
			break;
		cur = reg_last(r) + 1;
		i++;
	}
	return prefix;
}

/*
 * Pages of [gpa, gpa + len) were written (D_DIRTY), or may have been
 * (D_UNKNOWN: a dirty page stays dirty).  @force: the bits may also have
 * been consumed (a fetch-and-clear that failed half way).
 */
void m_dirty(struct mspace *s, uint64_t gpa, uint64_t len, uint8_t v,
	     bool force)
{
	uint64_t last;
	int i;

	if (!s || !len)
		return;
	last = wraps(gpa, len) ? U64MAX : range_last(gpa, len);
	for (i = 0; i < s->nreg; i++) {
		struct mreg *r = &s->reg[i];
		uint64_t a, b, p;

		if (!r->dirty || r->gpa > last || reg_last(r) < gpa)
			continue;
		a = (gpa > r->gpa ? gpa : r->gpa) - r->gpa;
		b = (last < reg_last(r) ? last : reg_last(r)) - r->gpa;
		for (p = a / PG; p <= b / PG; p++)
			if (force || v != D_UNKNOWN || r->dirty[p] != D_DIRTY)
				r->dirty[p] = v;
	}
}

void m_set_dirty(struct mspace *s, uint64_t gpa, uint64_t len, uint8_t v)
{
	m_dirty(s, gpa, len, v, false);
}

void m_all_unknown(struct mspace *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < s->nreg; i++)
		if (s->reg[i].dirty)
			memset(s->reg[i].dirty, D_UNKNOWN, s->reg[i].size / PG);
}

void m_free_regions(struct mspace *s)
{
	int i;

	for (i = 0; i < s->nreg; i++)
		free(s->reg[i].dirty);
	s->nreg = 0;
}

/*
 * @dst becomes a copy of @src's regions and generation (@src NULL: an empty
 * space), without their dirty state: a scratch model to try region updates
 * on, which never allocates dirty state (an entry the model lets succeed
 * may be far too large for that).  Free it with m_free_regions().
 */
void m_clone(struct mspace *dst, const struct mspace *src)
{
	int i;

	memset(dst, 0, sizeof(*dst));
	dst->scratch = true;
	if (!src)
		return;
	dst->nreg = src->nreg;
	dst->gen = src->gen;
	for (i = 0; i < src->nreg; i++) {
		dst->reg[i] = src->reg[i];
		dst->reg[i].dirty = NULL;
	}
}

void m_insert(struct mspace *s, const struct guestmem_region *d)
{
	struct mreg r;
	int i;

	memset(&r, 0, sizeof(r));
	r.gpa = d->gpa;
	r.size = d->size;
	r.uaddr = d->user_addr;
	r.backing = d->backing;
	r.flags = d->flags;
	if ((r.flags & DL) && !s->scratch) {
		r.dirty = calloc(r.size / PG, 1);
		if (!r.dirty)
			abort();
	}
	for (i = s->nreg; i > 0 && s->reg[i - 1].gpa > r.gpa; i--)
		s->reg[i] = s->reg[i - 1];
	s->reg[i] = r;
	s->nreg++;
	s->gen++;
}

void m_delete(struct mspace *s, struct mreg *r)
{
	int i = r - s->reg;

	free(r->dirty);
	memmove(&s->reg[i], &s->reg[i + 1], (s->nreg - i - 1) * sizeof(*r));
	s->nreg--;
	s->gen++;
}

/* Bytes of the regions with @backing (any backing if > 1). */
uint64_t m_total(struct mspace *s, uint32_t backing)
{
	uint64_t t = 0;
	int i;

	for (i = 0; i < s->nreg; i++)
		if (backing > 1 || s->reg[i].backing == backing)
			t += s->reg[i].size;
	return t;
}

uint64_t model_vmalloc_total(void)
{
	uint64_t t = 0;
	int i;

	for (i = 0; i < MAXSP; i++)
		if (sp[i].used)
			t += m_total(&sp[i], GUESTMEM_BACKING_VMALLOC);
	return t;
}

int space_new(void)
{
	int i;

	for (i = 0; i < MAXSP; i++) {
		if (!sp[i].used) {
			memset(&sp[i], 0, sizeof(sp[i]));
			sp[i].used = true;
			return i;
		}
	}
	return -1;
}

void space_put(int s)
{
	if (--sp[s].refs == 0) {
		m_free_regions(&sp[s]);
		sp[s].used = false;
	}
}

int file_new(int s)
{
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(files); i++) {
		if (!files[i].used) {
			files[i].used = true;
			files[i].refs = 0;
			files[i].space = s;
			sp[s].refs++;
			return i;
		}
	}
	return -1;
}

void file_put(int f)
{
	if (--files[f].refs == 0) {
		files[f].used = false;
		space_put(files[f].space);
	}
}

/* A slot's space (-1 when closed) and fd (BADFD when closed). */
int slot_space(int slot)
{
	return slot_fd[slot] < 0 ? -1 : files[slot_file[slot]].space;
}

int fd_of(int slot)
{
	return slot_fd[slot] < 0 ? BADFD : slot_fd[slot];
}

/* An open fd on space @s, or -1. */
int fd_for_space(int s)
{
	int i;

	for (i = 0; i < NSLOT; i++)
		if (slot_fd[i] >= 0 && slot_space(i) == s)
			return slot_fd[i];
	return -1;
}
