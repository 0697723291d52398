// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem GUESTMEM_ATOMIC: every op at sizes 1, 2, 4 and 8 on VMALLOC and
 * USER regions, natural alignment, argument validation (size, op, flags,
 * reserved, operand bits above the size), zero-extended results, CMPXCHG
 * success and failure, host byte order, READONLY (LOAD only), holes, and a
 * race of fetch_add through the ioctl, through __atomic builtins on an
 * mmap() of the space and on a USER region's own memory.
 */
#include <pthread.h>

#include "guestmem_util.h"
#include "kselftest_harness.h"

/*
 * The space every test starts with (pages relative to B; gm_access_space()
 * and RT):
 *
 *   [0, 4)   R0 VMALLOC
 *   [4, 8)   R1 USER, shared anonymous (shmem) memory u1
 *   [8, 12)  hole
 *   [12, 16) RO USER READONLY, shared anonymous memory uro
 *   [2^64 - 1 page, 2^64) RT VMALLOC
 *
 * R0 and R1 start as pat(gpa, SEED0), RO as pat(gpa, SEED_RO).
 */
#define B		0x200000000ULL
#define G(pg)		(B + (uint64_t)(pg) * PG)
#define RT		GPA_END(PG)
#define SEED0		7
#define SEED_RO		9

static const uint32_t sizes[] = { 1, 2, 4, 8 };
#define NSIZES		(sizeof(sizes) / sizeof(sizes[0]))

static const uint32_t all_ops[] = {
	GUESTMEM_ATOMIC_LOAD, GUESTMEM_ATOMIC_STORE, GUESTMEM_ATOMIC_XCHG,
	GUESTMEM_ATOMIC_CMPXCHG, GUESTMEM_ATOMIC_FETCH_ADD,
	GUESTMEM_ATOMIC_FETCH_OR, GUESTMEM_ATOMIC_FETCH_AND,
};

static uint64_t size_mask(uint32_t size)
{
	return size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* GUESTMEM_ATOMIC; *value is the in operand and receives the out field. */

/* The host-order value of @size bytes at @p. */
static uint64_t host_val(const void *p, uint32_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (size) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	default:
		memcpy(&u64, p, 8);
		return u64;
	}
}

/* Read @len guest bytes at @gpa into a static buffer (NULL on error). */
static uint8_t *peek(int fd, uint64_t gpa, uint64_t len)
{
	static uint8_t buf[4 * 4096];

	if (len > sizeof(buf) || gm_read(fd, gpa, buf, len))
		return NULL;
	return buf;
}

/* The 4 pages at @gpa still hold pat(., seed), except [skip, skip + n). */
static long pat_check_except(int fd, uint64_t gpa, uint64_t seed,
			     uint64_t skip, uint64_t n)
{
	uint8_t *buf = peek(fd, gpa, 4 * PG);
	uint64_t i;

	if (!buf)
		return -2;
	for (i = 0; i < 4 * PG; i++) {
		if (gpa + i >= skip && gpa + i < skip + n)
			continue;
		if (buf[i] != pat(gpa + i, seed))
			return (long)i;
	}
	return -1;
}

FIXTURE(atomic) {
	int fd;
	uint8_t *u1, *uro;
};

FIXTURE_SETUP(atomic)
{
	self->fd = gm_access_space(B, true, SEED0, SEED_RO, &self->u1,
				   &self->uro);
	ASSERT_LE(0, self->fd) TH_LOG("the space: %s", strerror(-self->fd));
	ASSERT_EQ(0, gm_add_vmalloc(self->fd, RT, PG));
}

FIXTURE_TEARDOWN(atomic)
{
	close(self->fd);
	munmap(self->u1, 4 * PG);
	munmap(self->uro, 4 * PG);
}

TEST_F(atomic, info_features)
{
	struct guestmem_info info;
	const uint64_t all = GUESTMEM_FEATURE_MMAP | GUESTMEM_FEATURE_BATCH |
			     GUESTMEM_FEATURE_ATOMIC |
			     GUESTMEM_FEATURE_FILL_COPY |
			     GUESTMEM_FEATURE_DIRTY_LOG;

	ASSERT_EQ(0, gm_info(self->fd, &info));
	EXPECT_EQ((uint32_t)GUESTMEM_API_VERSION, info.api_version);
	EXPECT_EQ(0x1fULL, all);
	EXPECT_EQ(all, info.features & all)
		TH_LOG("features %#llx", (unsigned long long)info.features);
}

/*
 * STORE then LOAD at every size, in both backings: the bytes in memory are
 * the host-order representation, neighbours are untouched, STORE leaves
 * `value` alone and LOAD ignores its input and zero-extends.
 */
TEST_F(atomic, store_load_all_sizes)
{
	static const uint64_t base[] = { G(0) + 0x100, G(5) + 0x238, G(3) + PG - 8 };
	unsigned int b, s;

	for (b = 0; b < ARRAY_LEN(base); b++) {
		for (s = 0; s < NSIZES; s++) {
			uint32_t size = sizes[s];
			uint64_t gpa = base[b];
			uint64_t v = 0x8877665544332211ULL & size_mask(size);
			uint64_t val;
			uint8_t *mem;

			/* Top bit set: a sign extension would show. */
			v |= 1ULL << (size * 8 - 1);
			val = v;
			ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
					       GUESTMEM_ATOMIC_STORE, &val, 0))
				TH_LOG("store size %u gpa %#llx", size,
				       (unsigned long long)gpa);
			EXPECT_EQ(v, val) TH_LOG("STORE changed value");
			mem = peek(self->fd, gpa, size);
			ASSERT_NE(NULL, mem);
			EXPECT_EQ(v, host_val(mem, size));
			EXPECT_EQ(-1, pat_check_except(self->fd,
						       gpa < G(4) ? G(0) : G(4),
						       SEED0, gpa, size));

			val = ~0ULL;	/* LOAD ignores its input */
			ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
					       GUESTMEM_ATOMIC_LOAD, &val, 0));
			EXPECT_EQ(v, val) TH_LOG("size %u: loaded %#llx", size,
						 (unsigned long long)val);
			val = 0x1234;
			ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
					       GUESTMEM_ATOMIC_LOAD, &val, 0));
			EXPECT_EQ(v, val);

			/* Restore the pattern for the next size. */
			mem = malloc(size);
			ASSERT_NE(NULL, mem);
			pat_fill(mem, gpa, size, SEED0);
			ASSERT_EQ(0, gm_write(self->fd, gpa, mem, size));
			free(mem);
		}
	}
	EXPECT_EQ(-1, pat_check_except(self->fd, G(0), SEED0, 0, 0));
	EXPECT_EQ(-1, pat_check_except(self->fd, G(4), SEED0, 0, 0));
}

/* Bytes written by GUESTMEM_WRITE load as the host's integer of them. */
TEST_F(atomic, host_byte_order)
{
	static const uint8_t bytes[8] = { 0x01, 0x23, 0x45, 0x67,
					  0x89, 0xab, 0xcd, 0xef };
	uint64_t expect, val;
	unsigned int s, off;
	uint16_t le16 = 1;
	uint8_t *mem;

	ASSERT_EQ(0, gm_write(self->fd, G(1) + 64, bytes, 8));
	ASSERT_EQ(0, gm_write(self->fd, G(6) + 64, bytes, 8));
	for (s = 0; s < NSIZES; s++) {
		for (off = 0; off < 8; off += sizes[s]) {
			expect = host_val(bytes + off, sizes[s]);
			val = 0;
			ASSERT_EQ(0, gm_atomic(self->fd, G(1) + 64 + off, sizes[s],
					       GUESTMEM_ATOMIC_LOAD, &val, 0));
			EXPECT_EQ(expect, val);
			val = 0;
			ASSERT_EQ(0, gm_atomic(self->fd, G(6) + 64 + off, sizes[s],
					       GUESTMEM_ATOMIC_LOAD, &val, 0));
			EXPECT_EQ(expect, val);
		}
	}
	/* The byte order is the host's: on x86, little endian explicitly. */
	if (*(uint8_t *)&le16 == 1) {
		val = 0;
		ASSERT_EQ(0, gm_atomic(self->fd, G(1) + 64, 8,
				       GUESTMEM_ATOMIC_LOAD, &val, 0));
		EXPECT_EQ(0xefcdab8967452301ULL, val);
	}
	/* And a STORE lays the host integer out the same way. */
	val = 0x0102030405060708ULL;
	ASSERT_EQ(0, gm_atomic(self->fd, G(2), 8, GUESTMEM_ATOMIC_STORE, &val, 0));
	mem = peek(self->fd, G(2), 8);
	ASSERT_NE(NULL, mem);
	EXPECT_EQ(0, memcmp(mem, &val, 8));
	val = 0xa1b2;
	ASSERT_EQ(0, gm_atomic(self->fd, G(5) + 2, 2, GUESTMEM_ATOMIC_STORE, &val, 0));
	EXPECT_EQ(0, memcmp(self->u1 + PG + 2, &val, 2));
}

/* XCHG, FETCH_ADD, FETCH_OR, FETCH_AND at every size against a model. */
TEST_F(atomic, rmw_ops_all_sizes)
{
	static const uint32_t ops[] = {
		GUESTMEM_ATOMIC_XCHG, GUESTMEM_ATOMIC_FETCH_ADD,
		GUESTMEM_ATOMIC_FETCH_OR, GUESTMEM_ATOMIC_FETCH_AND,
	};
	static const uint64_t operands[] = {
		0, 1, 0x5a5a5a5a5a5a5a5aULL, 0xf0f0f0f0f0f0f0f0ULL, ~0ULL,
		0x8000000000000000ULL, 0x0123456789abcdefULL,
	};
	static const uint64_t gpas[] = { G(2) + 0x40, G(7) + 0x80 };
	unsigned int g, s, o, k;

	for (g = 0; g < ARRAY_LEN(gpas); g++) {
		uint64_t gpa = gpas[g];

		for (s = 0; s < NSIZES; s++) {
			uint32_t size = sizes[s];
			uint64_t mask = size_mask(size);

			for (o = 0; o < ARRAY_LEN(ops); o++) {
				for (k = 0; k < ARRAY_LEN(operands); k++) {
					uint64_t init = 0xfedcba9876543210ULL & mask;
					uint64_t operand = operands[k] & mask;
					uint64_t val, expect_new, cur;

					val = init;
					ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
							       GUESTMEM_ATOMIC_STORE,
							       &val, 0));
					switch (ops[o]) {
					case GUESTMEM_ATOMIC_XCHG:
						expect_new = operand;
						break;
					case GUESTMEM_ATOMIC_FETCH_ADD:
						expect_new = (init + operand) & mask;
						break;
					case GUESTMEM_ATOMIC_FETCH_OR:
						expect_new = init | operand;
						break;
					default:
						expect_new = init & operand;
						break;
					}
					val = operand;
					ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
							       ops[o], &val, 0))
						TH_LOG("op %u size %u", ops[o], size);
					EXPECT_EQ(init, val)
						TH_LOG("op %u size %u: old %#llx",
						       ops[o], size,
						       (unsigned long long)val);
					cur = 0;
					ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
							       GUESTMEM_ATOMIC_LOAD,
							       &cur, 0));
					EXPECT_EQ(expect_new, cur)
						TH_LOG("op %u size %u operand %#llx: %#llx",
						       ops[o], size,
						       (unsigned long long)operand,
						       (unsigned long long)cur);
				}
			}
		}
	}
}

/* Carries and borrows stay within the object; results are zero-extended. */
TEST_F(atomic, wrap_and_zero_extension)
{
	unsigned int s;

	for (s = 0; s < NSIZES; s++) {
		uint32_t size = sizes[s];
		uint64_t mask = size_mask(size);
		uint64_t gpa = G(1) + 0x200;
		uint8_t *mem;
		uint64_t val;

		/* Neighbours all ones around the object. */
		mem = malloc(32);
		ASSERT_NE(NULL, mem);
		memset(mem, 0xff, 32);
		ASSERT_EQ(0, gm_write(self->fd, gpa - 8, mem, 32));
		free(mem);

		/* all-ones + 1 wraps to 0 without carrying into the next byte */
		val = 1;
		ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
				       GUESTMEM_ATOMIC_FETCH_ADD, &val, 0));
		EXPECT_EQ(mask, val) TH_LOG("size %u: old %#llx (sign extended?)",
					    size, (unsigned long long)val);
		mem = peek(self->fd, gpa - 8, 32);
		ASSERT_NE(NULL, mem);
		EXPECT_EQ(-1, mem_check(mem, 0xff, 8));
		EXPECT_EQ(-1, mem_check(mem + 8, 0, size));
		EXPECT_EQ(-1, mem_check(mem + 8 + size, 0xff, 24 - size));

		/* 0 + all-ones: 0 - 1 wraps to all-ones */
		val = mask;
		ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
				       GUESTMEM_ATOMIC_FETCH_ADD, &val, 0));
		EXPECT_EQ(0ULL, val);
		val = 0;
		ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
				       GUESTMEM_ATOMIC_XCHG, &val, 0));
		EXPECT_EQ(mask, val);
		mem = peek(self->fd, gpa - 8, 32);
		ASSERT_NE(NULL, mem);
		EXPECT_EQ(-1, mem_check(mem + 8 + size, 0xff, 24 - size));
		EXPECT_EQ(-1, mem_check(mem, 0xff, 8));
	}
}

TEST_F(atomic, cmpxchg)
{
	unsigned int s;

	for (s = 0; s < NSIZES; s++) {
		uint32_t size = sizes[s];
		uint64_t mask = size_mask(size);
		uint64_t gpas[2] = { G(3) + 0x10, G(4) + 0x10 };
		unsigned int g;

		for (g = 0; g < 2; g++) {
			uint64_t gpa = gpas[g];
			uint64_t init = 0x8123456789abcdefULL & mask;
			uint64_t newv = 0x7edcba9876543210ULL & mask;
			uint64_t val, cur;

			init |= 1ULL << (size * 8 - 1);
			val = init;
			ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
					       GUESTMEM_ATOMIC_STORE, &val, 0));

			/* Failure: 0 returned, value = current, no change. */
			val = newv;
			ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
					       GUESTMEM_ATOMIC_CMPXCHG, &val,
					       init ^ 1));
			EXPECT_EQ(init, val) TH_LOG("size %u", size);
			cur = 0;
			ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
					       GUESTMEM_ATOMIC_LOAD, &cur, 0));
			EXPECT_EQ(init, cur);

			/* Success: value = old (== expected), memory = new. */
			val = newv;
			ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
					       GUESTMEM_ATOMIC_CMPXCHG, &val,
					       init));
			EXPECT_EQ(init, val);
			cur = 0;
			ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
					       GUESTMEM_ATOMIC_LOAD, &cur, 0));
			EXPECT_EQ(newv, cur);

			/* The same CMPXCHG again now fails. */
			val = 0;
			ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
					       GUESTMEM_ATOMIC_CMPXCHG, &val,
					       init));
			EXPECT_EQ(newv, val);
			cur = 0;
			ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
					       GUESTMEM_ATOMIC_LOAD, &cur, 0));
			EXPECT_EQ(newv, cur);
		}
	}
	/* Neighbours of the objects untouched. */
	EXPECT_EQ(-1, pat_check_except(self->fd, G(0), SEED0, G(3) + 0x10, 8));
	EXPECT_EQ(-1, pat_check_except(self->fd, G(4), SEED0, G(4) + 0x10, 8));
}

/* Natural alignment is required: EINVAL, memory untouched. */
TEST_F(atomic, misaligned)
{
	unsigned int s, o, off;

	for (s = 1; s < NSIZES; s++) {
		for (off = 1; off < sizes[s]; off++) {
			for (o = 0; o < ARRAY_LEN(all_ops); o++) {
				uint64_t val = 1;

				EXPECT_EQ(-EINVAL,
					  gm_atomic(self->fd, G(1) + 0x100 + off,
						    sizes[s], all_ops[o], &val, 1))
					TH_LOG("size %u offset %u op %u",
					       sizes[s], off, all_ops[o]);
				val = 1;
				EXPECT_EQ(-EINVAL,
					  gm_atomic(self->fd, G(5) + 0x100 + off,
						    sizes[s], all_ops[o], &val, 1));
			}
		}
	}
	EXPECT_EQ(-1, pat_check_except(self->fd, G(0), SEED0, 0, 0));
	EXPECT_EQ(-1, pat_check_except(self->fd, G(4), SEED0, 0, 0));
}

/* Unknown size, op, flags and reserved: EINVAL, nothing written. */
TEST_F(atomic, einval_args)
{
	static const uint32_t bad_sizes[] = { 0, 3, 5, 6, 7, 9, 16, 32, ~0U };
	static const uint32_t bad_ops[] = { 7, 8, 0x100, 1U << 31, ~0U };
	static const uint32_t bad_flags[] = { 1, 2, 1U << 31, ~0U };
	struct guestmem_atomic a;
	unsigned int i, o;
	uint64_t val;

	for (i = 0; i < ARRAY_LEN(bad_sizes); i++) {
		for (o = 0; o < ARRAY_LEN(all_ops); o++) {
			val = 0;
			EXPECT_EQ(-EINVAL, gm_atomic(self->fd, G(0), bad_sizes[i],
						     all_ops[o], &val, 0))
				TH_LOG("size %u op %u", bad_sizes[i], all_ops[o]);
		}
	}
	for (i = 0; i < ARRAY_LEN(bad_ops); i++) {
		for (o = 0; o < NSIZES; o++) {
			val = 0;
			EXPECT_EQ(-EINVAL, gm_atomic(self->fd, G(0), sizes[o],
						     bad_ops[i], &val, 0))
				TH_LOG("op %#x", bad_ops[i]);
		}
	}
	for (i = 0; i < ARRAY_LEN(bad_flags); i++) {
		for (o = 0; o < ARRAY_LEN(all_ops); o++) {
			memset(&a, 0, sizeof(a));
			a.gpa = G(0);
			a.size = 8;
			a.op = all_ops[o];
			a.flags = bad_flags[i];
			EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_ATOMIC, &a))
				TH_LOG("flags %#x op %u", bad_flags[i], all_ops[o]);
			a.flags = 0;
			a.reserved = bad_flags[i];
			EXPECT_EQ(-EINVAL, gm_ioctl(self->fd, GUESTMEM_ATOMIC, &a))
				TH_LOG("reserved %#x op %u", bad_flags[i],
				       all_ops[o]);
		}
	}
	EXPECT_EQ(-1, pat_check_except(self->fd, G(0), SEED0, 0, 0));
}

/* Operand bits above the size: EINVAL (LOAD's input value is ignored). */
TEST_F(atomic, operand_too_wide)
{
	unsigned int s, o, bit;

	for (s = 0; s < NSIZES - 1; s++) {
		uint32_t size = sizes[s];

		for (bit = size * 8; bit < 64; bit += 7) {
			uint64_t high = 1ULL << bit;

			for (o = 0; o < ARRAY_LEN(all_ops); o++) {
				uint64_t val = high | 1;

				if (all_ops[o] == GUESTMEM_ATOMIC_LOAD) {
					ASSERT_EQ(0, gm_atomic(self->fd, G(2), size,
							       all_ops[o], &val, 0));
					EXPECT_EQ(host_val(peek(self->fd, G(2), 8), size),
						  val);
					continue;
				}
				EXPECT_EQ(-EINVAL, gm_atomic(self->fd, G(2), size,
							     all_ops[o], &val, 0))
					TH_LOG("size %u op %u value %#llx", size,
					       all_ops[o], (unsigned long long)(high | 1));
			}
			/* CMPXCHG's expected is an operand too. */
			{
				uint64_t val = 1;

				EXPECT_EQ(-EINVAL, gm_atomic(self->fd, G(2), size,
							     GUESTMEM_ATOMIC_CMPXCHG,
							     &val, high))
					TH_LOG("size %u expected %#llx", size,
					       (unsigned long long)high);
				/* Even when the low bits match memory. */
				val = 1;
				EXPECT_EQ(-EINVAL, gm_atomic(self->fd, G(2), size,
							     GUESTMEM_ATOMIC_CMPXCHG, &val,
							     high | host_val(peek(self->fd, G(2), 8),
									     size)));
			}
		}
	}
	EXPECT_EQ(-1, pat_check_except(self->fd, G(0), SEED0, 0, 0));
}

/* A hole: ENXIO for every op (checked after alignment). */
TEST_F(atomic, hole_enxio)
{
	static const uint64_t holes[] = { G(8), G(10) + 0x18, G(12) - 8, 0,
					  GPA_END(2 * PG), 1ULL << 63 };
	unsigned int h, s, o;
	int fd2;

	for (h = 0; h < ARRAY_LEN(holes); h++) {
		for (s = 0; s < NSIZES; s++) {
			for (o = 0; o < ARRAY_LEN(all_ops); o++) {
				uint64_t val = 0;

				EXPECT_EQ(-ENXIO, gm_atomic(self->fd,
							    holes[h] + 8 - sizes[s],
							    sizes[s], all_ops[o],
							    &val, 0))
					TH_LOG("gpa %#llx size %u op %u",
					       (unsigned long long)holes[h],
					       sizes[s], all_ops[o]);
			}
		}
	}
	/* An empty space is all hole. */
	fd2 = gm_open();
	ASSERT_LE(0, fd2);
	for (o = 0; o < ARRAY_LEN(all_ops); o++) {
		uint64_t val = 0;

		EXPECT_EQ(-ENXIO, gm_atomic(fd2, G(0), 8, all_ops[o], &val, 0));
	}
	close(fd2);
}

/* The last 8 bytes of the 64-bit space are reachable. */
TEST_F(atomic, top_of_space)
{
	const uint64_t v = 0x1122334455667788ULL;
	uint8_t bytes[8];
	uint64_t val = v, expect;

	ASSERT_EQ(0, gm_atomic(self->fd, GPA_END(8), 8, GUESTMEM_ATOMIC_STORE,
			       &val, 0));
	memcpy(bytes, &v, 8);
	val = 0x11;
	ASSERT_EQ(0, gm_atomic(self->fd, GPA_TOP, 1, GUESTMEM_ATOMIC_FETCH_ADD,
			       &val, 0));
	EXPECT_EQ((uint64_t)bytes[7], val);
	bytes[7] += 0x11;
	memcpy(&expect, bytes, 8);
	val = 0;
	ASSERT_EQ(0, gm_atomic(self->fd, GPA_END(8), 8, GUESTMEM_ATOMIC_LOAD,
			       &val, 0));
	EXPECT_EQ(expect, val);
}

/* READONLY: LOAD works, every other op is EACCES and changes nothing. */
TEST_F(atomic, readonly)
{
	unsigned int s, o;
	uint64_t val;

	for (s = 0; s < NSIZES; s++) {
		uint32_t size = sizes[s];
		uint64_t gpa = G(13) + 0x80;
		uint64_t cur = host_val(self->uro + PG + 0x80, size);

		for (o = 0; o < ARRAY_LEN(all_ops); o++) {
			val = all_ops[o] == GUESTMEM_ATOMIC_LOAD ? 0 : 1;
			if (all_ops[o] == GUESTMEM_ATOMIC_LOAD) {
				ASSERT_EQ(0, gm_atomic(self->fd, gpa, size,
						       all_ops[o], &val, 0));
				EXPECT_EQ(cur, val);
				continue;
			}
			EXPECT_EQ(-EACCES, gm_atomic(self->fd, gpa, size,
						     all_ops[o], &val, 0))
				TH_LOG("size %u op %u", size, all_ops[o]);
			/* A CMPXCHG that would succeed, and one that would not. */
			if (all_ops[o] == GUESTMEM_ATOMIC_CMPXCHG) {
				val = 0;
				EXPECT_EQ(-EACCES, gm_atomic(self->fd, gpa, size,
							     all_ops[o], &val, cur));
			}
		}
	}
	/* Misalignment is still EINVAL there. */
	val = 0;
	EXPECT_EQ(-EINVAL, gm_atomic(self->fd, G(13) + 1, 4,
				     GUESTMEM_ATOMIC_LOAD, &val, 0));
	EXPECT_EQ(-1, pat_check(self->uro, G(12), 4 * PG, SEED_RO));
}

/* A USER region's memory and the ioctl see each other's atomics. */
TEST_F(atomic, user_memory_coherent)
{
	uint32_t *p = (uint32_t *)(self->u1 + 2 * PG + 0x44);
	uint64_t val;

	__atomic_store_n(p, 0xc0ffee00U, __ATOMIC_SEQ_CST);
	val = 0xee;
	ASSERT_EQ(0, gm_atomic(self->fd, G(6) + 0x44, 4,
			       GUESTMEM_ATOMIC_FETCH_ADD, &val, 0));
	EXPECT_EQ(0xc0ffee00ULL, val);
	EXPECT_EQ(0xc0ffeeeeU, __atomic_load_n(p, __ATOMIC_SEQ_CST));
}

TEST_F(atomic, efault)
{
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_ATOMIC, NULL));
	EXPECT_EQ(-EFAULT, gm_ioctl(self->fd, GUESTMEM_ATOMIC,
				    unmapped_range(PG)));
}

/* ---- the race ----------------------------------------------------------- */

#define RACE_ITERS	3000
enum race_kind { VIA_IOCTL, VIA_MMAP, VIA_USER };

struct race_thread {
	pthread_t tid;
	int fd;
	enum race_kind kind;
	uint64_t gpa;
	uint32_t size;
	void *ptr;		/* the counter through a mapping */
	pthread_barrier_t *start;
	uint64_t olds[RACE_ITERS];
	int err;
};

static void *race_fn(void *arg)
{
	struct race_thread *t = arg;
	unsigned int i;

	pthread_barrier_wait(t->start);
	for (i = 0; i < RACE_ITERS; i++) {
		uint64_t val = 1;

		switch (t->kind) {
		case VIA_IOCTL:
			if (gm_atomic(t->fd, t->gpa, t->size,
				      GUESTMEM_ATOMIC_FETCH_ADD, &val, 0)) {
				t->err = errno ? errno : EIO;
				return NULL;
			}
			t->olds[i] = val;
			break;
		default:
			if (t->size == 8)
				t->olds[i] = __atomic_fetch_add((uint64_t *)t->ptr,
								1, __ATOMIC_SEQ_CST);
			else
				t->olds[i] = __atomic_fetch_add((uint32_t *)t->ptr,
								1, __ATOMIC_SEQ_CST);
			break;
		}
	}
	return NULL;
}

/*
 * Threads fetch_add 1 to one counter by every route at once; the final value
 * is exact and the previous values returned are exactly start .. end - 1.
 */
static void run_race(struct __test_metadata *_metadata, int fd, uint64_t gpa,
		     uint32_t size, void *user_ptr, uint64_t start_val)
{
	enum race_kind kinds[6] = { VIA_IOCTL, VIA_MMAP, VIA_IOCTL, VIA_MMAP };
	unsigned int nthreads = user_ptr ? 6 : 4, i, j;
	pthread_barrier_t barrier;
	struct race_thread *t;
	uint64_t total, val, map_off = gpa & ~(PG - 1);
	uint8_t *seen;
	void *map;

	if (user_ptr) {
		kinds[4] = VIA_USER;
		kinds[5] = VIA_USER;
	}
	map = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, map_off);
	ASSERT_NE(MAP_FAILED, map);
	val = start_val;
	ASSERT_EQ(0, gm_atomic(fd, gpa, size, GUESTMEM_ATOMIC_STORE, &val, 0));

	t = calloc(nthreads, sizeof(*t));
	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, pthread_barrier_init(&barrier, NULL, nthreads));
	for (i = 0; i < nthreads; i++) {
		t[i].fd = fd;
		t[i].kind = kinds[i];
		t[i].gpa = gpa;
		t[i].size = size;
		t[i].ptr = kinds[i] == VIA_USER ? user_ptr :
			   (uint8_t *)map + (gpa - map_off);
		t[i].start = &barrier;
		ASSERT_EQ(0, pthread_create(&t[i].tid, NULL, race_fn, &t[i]));
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i].tid, NULL);
	pthread_barrier_destroy(&barrier);

	total = (uint64_t)nthreads * RACE_ITERS;
	for (i = 0; i < nthreads; i++) {
		EXPECT_EQ(0, t[i].err) TH_LOG("thread %u: %s", i, strerror(t[i].err));
	}
	val = 0;
	ASSERT_EQ(0, gm_atomic(fd, gpa, size, GUESTMEM_ATOMIC_LOAD, &val, 0));
	EXPECT_EQ((start_val + total) & size_mask(size), val);
	if (size == 8) {
		EXPECT_EQ(start_val + total,
			  __atomic_load_n((uint64_t *)((uint8_t *)map + (gpa - map_off)),
					  __ATOMIC_SEQ_CST));
	}

	/* Every previous value seen exactly once. */
	seen = calloc(total, 1);
	ASSERT_NE(NULL, seen);
	for (i = 0; i < nthreads; i++) {
		for (j = 0; j < RACE_ITERS; j++) {
			uint64_t k = (t[i].olds[j] - start_val) & size_mask(size);

			if (k >= total || seen[k]) {
				EXPECT_LT(k, total) TH_LOG("thread %u saw %#llx", i,
					(unsigned long long)t[i].olds[j]);
				if (k < total) {
					EXPECT_EQ(0, seen[k])
						TH_LOG("value %#llx twice",
						       (unsigned long long)t[i].olds[j]);
				}
				goto out;
			}
			seen[k] = 1;
		}
	}
out:
	free(seen);
	free(t);
	munmap(map, PG);
}

TEST_F(atomic, race_fetch_add_vmalloc_u64)
{
	run_race(_metadata, self->fd, G(2) + 0x100, 8, NULL, 0);
}

/* Starting near the top of a u64: no carry anywhere. */
TEST_F(atomic, race_fetch_add_vmalloc_u64_high)
{
	run_race(_metadata, self->fd, G(0) + 0xff8, 8, NULL,
		 0xfffffffffff00000ULL);
}

/* A USER region: also through the owner's own mapping of the memory. */
TEST_F(atomic, race_fetch_add_user_u64)
{
	run_race(_metadata, self->fd, G(5) + 0x800, 8,
		 self->u1 + PG + 0x800, 1000);
}

/* A 32-bit counter that wraps during the race. */
TEST_F(atomic, race_fetch_add_user_u32_wrap)
{
	run_race(_metadata, self->fd, G(7) + 0x10, 4,
		 self->u1 + 3 * PG + 0x10, 0xffffe000ULL);
}

TEST_HARNESS_MAIN
