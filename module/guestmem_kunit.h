/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the guestmem KUnit modules.
 */
#ifndef _GUESTMEM_KUNIT_H
#define _GUESTMEM_KUNIT_H

#include <kunit/test.h>
#include <linux/types.h>

/*
 * Expedited RCU grace periods completed since boot: exported for rcutorture
 * (kernel/rcu/tree.c) but declared only in kernel/rcu/rcu.h.
 */
unsigned long rcu_exp_batches_completed(void);

/* Deterministic, position-dependent bytes, different for each @seed. */
static inline void gmt_pattern(u8 *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (u8)(seed * 37 + i * 7 + (i >> 8) + 1);
}

/* Report the first differing byte, not two hex dumps of kilobytes. */
static inline bool gmt_bytes_eq(struct kunit *test, const u8 *got,
				const u8 *want, size_t len, const char *what)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (got[i] != want[i]) {
			KUNIT_FAIL(test, "%s: byte %zu of %zu is 0x%02x, expected 0x%02x",
				   what, i, len, got[i], want[i]);
			return false;
		}
	}
	return true;
}

static inline bool gmt_all_bytes(struct kunit *test, const u8 *buf, u8 val,
				 size_t len, const char *what)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] != val) {
			KUNIT_FAIL(test, "%s: byte %zu of %zu is 0x%02x, expected 0x%02x",
				   what, i, len, buf[i], val);
			return false;
		}
	}
	return true;
}

#endif /* _GUESTMEM_KUNIT_H */
