/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the benchmarks (guestmem-bench, guestmem-kvm-bench,
 * guestmem-vq-bench) share: failing, timing, quantiles and the GMBENCH row
 * line scripts/bench parses.
 */
#ifndef GUESTMEM_BENCH_UTIL_H
#define GUESTMEM_BENCH_UTIL_H

#include <stdbool.h>
#include <stdint.h>

/* Print "GMBENCH-ERROR|<message>: <errno text>" and exit(1). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
					      noreturn));
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);
/* The @q quantile (0 to 1) of @n values, interpolated. */
double quantile(const double *v, int n, double q);
/* The median of @n values. */
double median(const double *v, int n);
/* One "GMBENCH|id|guestmem|peer|ratio|target|PASS or MISS|what" line. */
void row(const char *id, const char *gm, const char *peer, double ratio,
	 const char *target, bool pass, const char *what);

#endif /* GUESTMEM_BENCH_UTIL_H */
