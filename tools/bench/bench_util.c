// SPDX-License-Identifier: GPL-2.0
/*
 * What the KVM benchmarks share: see bench_util.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

void die(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	fprintf(stdout, "GMBENCH-ERROR|");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, ": %s\n", strerror(err));
	va_end(ap);
	exit(1);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double quantile(const double *v, int n, double q)
{
	double *s = malloc(n * sizeof(*v)), x, r;
	int i;

	if (!s)
		die("malloc");
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	x = q * (n - 1);
	i = (int)x;
	r = i + 1 < n ? s[i] + (x - i) * (s[i + 1] - s[i]) : s[i];
	free(s);
	return r;
}

double median(const double *v, int n)
{
	return quantile(v, n, 0.5);
}

void row(const char *id, const char *gm, const char *peer, double ratio,
	 const char *target, bool pass, const char *what)
{
	printf("GMBENCH|%s|%s|%s|%.3fx|%s|%s|%s\n", id, gm, peer, ratio, target,
	       pass ? "PASS" : "MISS", what);
}
