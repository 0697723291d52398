// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem fuzzer (fuzz_test.c): the errnos each call may return, and what
 * the run reports when a result breaks the rules.
 */
#include "fuzz.h"

/* ---- the allowed-errno table (DESIGN.md, README.md) ----------------------- */

static const char *const call_name[C_NCALLS] = {
	"open", "close", "dup",
	"GET_INFO", "ADD_REGION", "REMOVE_REGION", "GET_REGIONS", "READ",
	"WRITE", "BATCH", "ATOMIC", "FILL", "COPY", "GET_DIRTY_LOG",
	"unknown-ioctl", "ADD_REGIONS", "REMOVE_REGIONS", "read/write",
	"lseek", "mmap", "munmap", "madvise", "touch", "fork",
};

/*
 * Errnos each call may return.  EBADF appears for the calls that take an fd
 * (a closed slot is tried on purpose).  ENOMEM on REMOVE_REGION and
 * GET_DIRTY_LOG is DESIGN.md's "ENOMEM (allocation ...)": both allocate.
 * The region batches return what their single calls do, and E2BIG.
 * The read/write family, lseek and mmap add what the VFS itself returns
 * (EINVAL, EOVERFLOW, ENOMEM, EACCES) to DESIGN.md's ENXIO, EACCES, EFAULT.
 */
static const int allowed_errnos[C_NCALLS][10] = {
	[C_OPEN]	= { ENOMEM },
	[C_CLOSE]	= { EBADF },
	[C_DUP]		= { EBADF },
	[C_GET_INFO]	= { EFAULT, EBADF },
	[C_ADD]		= { EINVAL, EOVERFLOW, ENOSPC, EEXIST, EFAULT, ENOMEM, EBADF },
	[C_REMOVE]	= { ENOENT, EINVAL, EOVERFLOW, EFAULT, ENOMEM, EBADF },
	[C_GET_REGIONS]	= { EINVAL, EFAULT, EBADF },
	[C_READ]	= { ENXIO, EFAULT, EOVERFLOW, EINVAL, EBADF },
	[C_WRITE]	= { ENXIO, EACCES, EFAULT, EOVERFLOW, EINVAL, EBADF },
	[C_BATCH]	= { E2BIG, EINVAL, ENXIO, EACCES, EFAULT, EOVERFLOW, EBADF },
	[C_ATOMIC]	= { EINVAL, ENXIO, EACCES, EOVERFLOW, EFAULT, EBADF },
	[C_FILL]	= { ENXIO, EACCES, EOVERFLOW, EINVAL, EFAULT, EBADF },
	[C_COPY]	= { ENXIO, EACCES, EOVERFLOW, EINVAL, EFAULT, EBADF },
	[C_DIRTY]	= { ENXIO, EINVAL, EOVERFLOW, EFAULT, ENOMEM, EBADF },
	[C_UNKNOWN_IOCTL] = { ENOTTY, EBADF },
	[C_ADD_REGIONS]	= { EINVAL, EOVERFLOW, ENOSPC, EEXIST, EFAULT, ENOMEM, EBADF,
			    E2BIG },
	[C_REMOVE_REGIONS] = { ENOENT, EINVAL, EOVERFLOW, EFAULT, ENOMEM, EBADF,
			       E2BIG },
	[C_RDWR]	= { ENXIO, EACCES, EFAULT, EINVAL, EOVERFLOW, EBADF },
	[C_LSEEK]	= { EINVAL, ENXIO, EBADF, EOVERFLOW },
	[C_MMAP]	= { EINVAL, ENOMEM, EOVERFLOW, EACCES, EBADF },
	[C_MUNMAP]	= { EINVAL },
	[C_MADVISE]	= { EINVAL, ENOMEM },
	[C_TOUCH]	= { 0 },
	[C_FORK]	= { EAGAIN, ENOMEM },
};

static bool errno_in_table(enum call c, int err)
{
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(allowed_errnos[c]) && allowed_errnos[c][i]; i++)
		if (allowed_errnos[c][i] == err)
			return true;
	return false;
}

/* ---- failure reporting ------------------------------------------------------ */

uint64_t seed;
unsigned long op_index;		/* index of the op being run */
unsigned long child_of;		/* in a child: the parent's fork op */
bool in_child;
bool trace;
char desc[768];			/* the op being run, for reports */
bool failed;
char fail_msg[2048];
unsigned long stat_calls[C_NCALLS], stat_ok[C_NCALLS];
static unsigned long stat_errno[C_NCALLS][32];	/* by ebit() */

void violation(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	failed = true;
	if (in_child)
		snprintf(fail_msg, sizeof(fail_msg),
			 "seed=%#llx op=%lu (op %lu of the child forked there): %s\n#   op: %s",
			 (unsigned long long)seed, child_of, op_index, msg, desc);
	else
		snprintf(fail_msg, sizeof(fail_msg),
			 "seed=%#llx op=%lu: %s\n#   op: %s",
			 (unsigned long long)seed, op_index, msg, desc);
	printf("# VIOLATION %s\n", fail_msg);
	printf("# replay: GUESTMEM_FUZZ_SEED=%#llx GUESTMEM_FUZZ_OPS=%lu GUESTMEM_FUZZ_TRACE=1\n",
	       (unsigned long long)seed, (in_child ? child_of : op_index) + 1);
	fflush(stdout);
}

const char *ename(int e)
{
	static char buf[32];

	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case EOVERFLOW: return "EOVERFLOW";
	case ENOSPC: return "ENOSPC";
	case EEXIST: return "EEXIST";
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	case ENOENT: return "ENOENT";
	case ENXIO: return "ENXIO";
	case EACCES: return "EACCES";
	case E2BIG: return "E2BIG";
	case ENOTTY: return "ENOTTY";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	}
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

/* Sets of outcomes (0 = success, or errnos), as bits. */
static const int eidx[] = { 0, EINVAL, EOVERFLOW, ENOSPC, EEXIST, EFAULT,
			    ENOMEM, ENOENT, ENXIO, EACCES, E2BIG, ENOTTY, EBADF,
			    EAGAIN };

unsigned int ebit(int e)
{
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(eidx); i++)
		if (eidx[i] == e)
			return i;
	return 31;
}

const char *eset_str(unsigned int set)
{
	static char buf[160];
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < ARRAY_LEN(eidx); i++)
		if (set & (1U << i))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
				 "%s%s", buf[0] ? "|" : "", ename(eidx[i]));
	return buf;
}

/*
 * The common check: @err (0 or an errno) must be in the table for @c and in
 * @expect, the model's set of outcomes for these arguments (EB(0) = success).
 */
bool check_result(enum call c, int err, unsigned int expect)
{
	stat_calls[c]++;
	if (!err)
		stat_ok[c]++;
	stat_errno[c][ebit(err)]++;
	if (err && !errno_in_table(c, err)) {
		violation("%s returned %s, which DESIGN.md does not list for it",
			  call_name[c], ename(err));
		return false;
	}
	if (!(expect & EB(err))) {
		violation("%s returned %s; for these arguments the contract allows %s",
			  call_name[c], ename(err), eset_str(expect));
		return false;
	}
	return true;
}

/* What each call returned during the run, by errno. */
void print_call_stats(void)
{
	unsigned int c, b;

	for (c = 0; c < C_NCALLS; c++) {
		char line[256];

		if (!stat_calls[c])
			continue;
		snprintf(line, sizeof(line), "#   %-14s %6lu calls, %6lu ok",
			 call_name[c], stat_calls[c], stat_ok[c]);
		for (b = 1; b < 32; b++)
			if (stat_errno[c][b])
				snprintf(line + strlen(line), sizeof(line) - strlen(line),
					 ", %s %lu", b < ARRAY_LEN(eidx) ? ename(eidx[b]) : "other",
					 stat_errno[c][b]);
		printf("%s\n", line);
	}
}
