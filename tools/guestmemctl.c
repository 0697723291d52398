// SPDX-License-Identifier: GPL-2.0
/*
 * guestmemctl: operate one guestmem address space from the command line or
 * from a script.
 *
 * Opening /dev/guestmem creates a new, empty space owned by the open file,
 * so the space lives exactly as long as this process: regions are added and
 * accessed by the commands of one invocation, given as arguments (separated
 * by a lone ";") or one per line on standard input.  USER regions are backed
 * by memory this process allocates and keeps until the region is removed or
 * the process exits.  See usage() or `guestmemctl -h`.
 */
#define _GNU_SOURCE
/* __u64 is unsigned long long on every architecture: print it with %ll. */
#define __SANE_USERSPACE_TYPES__
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/guestmem.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC	0x0001U
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB	0x0004U
#endif

#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_WORDS	256

/* Exit statuses, also the results of the commands. */
#define RC_OK		0
#define RC_FAIL		1	/* the operation failed (an errno) */
#define RC_USAGE	2	/* malformed command or bad option */

static const char usage_text[] =
"usage: guestmemctl [-d DEVICE | -f FD] [-k] [-v] COMMAND [ARG]... [';' COMMAND [ARG]...]...\n"
"       guestmemctl [-d DEVICE | -f FD] [-k] [-v] [-] < SCRIPT\n"
"\n"
"Opens DEVICE (default /dev/guestmem), which creates a new, empty guest\n"
"physical address space that lives as long as guestmemctl runs, and runs\n"
"the commands given as arguments (several separated by a ';' word), or,\n"
"with '-' or no command, one per line from standard input ('#' starts a\n"
"comment; words may be quoted as in the shell).  In a script run without -k,\n"
"consecutive add lines, and consecutive remove lines, go to the kernel as one\n"
"call and take effect together or not at all.\n"
"\n"
"Commands:\n"
"  add vmalloc GPA SIZE [ro] [dirty]      add a region of kernel memory\n"
"  add user GPA SIZE [anon|memfd|hugetlb] [ro] [dirty]\n"
"                                         add a region of memory that guestmemctl\n"
"                                         allocates (default anon) and pins\n"
"  remove GPA SIZE                        remove the region [GPA, GPA+SIZE)\n"
"  list                                   the regions, sorted by GPA\n"
"  info                                   regions, total size, generation, features\n"
"  read GPA LEN [raw]                     hexdump -C of guest memory (raw: the\n"
"                                         bytes themselves to standard output)\n"
"  write GPA hex:HEX|str:TEXT|file:PATH   write bytes; TEXT takes the escapes\n"
"                                         \\n \\t \\r \\0 \\\\ \\xHH\n"
"  fill GPA LEN BYTE                      set LEN bytes to BYTE\n"
"  copy DST SRC LEN                       copy LEN bytes (the ranges may overlap)\n"
"  atomic OP SIZE GPA [VALUE [EXPECTED]]  OP is load, store, xchg, cmpxchg, add,\n"
"                                         or, and; SIZE 1, 2, 4 or 8; prints the\n"
"                                         previous value (cmpxchg: and whether it\n"
"                                         was exchanged for VALUE)\n"
"  dirty GPA SIZE [clear]                 pages written in DIRTY_LOG regions\n"
"                                         (clear: fetch and clear)\n"
"  echo [WORD]...                         print the words\n"
"  help                                   this text\n"
"\n"
"ro: read-only region; dirty: dirty logging.  Numbers are decimal or 0x hex;\n"
"GPAs, sizes and lengths take a K, M, G or T suffix (powers of 1024).  Every\n"
"access is exact: nothing moves unless the whole range is backed (and\n"
"writable, for writes).\n"
"\n"
"Options:\n"
"  -d DEVICE  the device to open (default /dev/guestmem)\n"
"  -f FD      operate the existing space of FD, an open /dev/guestmem file\n"
"             inherited from the parent (a VMM, say), instead of a new one\n"
"  -k         keep going after a failing command (a script's adds and removals\n"
"             then take effect line by line)\n"
"  -v         say what every command did\n"
"  -h         this help\n"
"\n"
"Exit status: 0 when every command succeeded, 1 when a command failed (the\n"
"message gives the reason and the errno), 2 for a malformed command or a bad\n"
"option.  Commands after a failing one are not run (unless -k); messages\n"
"name the failing script line (\"line 3: ...\") or command.\n";

/* What a command was doing when it failed: selects the error message. */
enum op {
	OP_OPEN, OP_ADD, OP_ADD_USER, OP_USER_MEM, OP_REMOVE, OP_LIST, OP_INFO,
	OP_READ, OP_WRITE, OP_FILL, OP_COPY, OP_ATOMIC, OP_DIRTY,
};

enum user_kind { UK_ANON, UK_MEMFD, UK_HUGETLB };

static const char * const user_kind_names[] = { "anon", "memfd", "hugetlb" };

/* User memory backing a USER region that we added. */
struct umem {
	__u64 gpa;
	__u64 size;
	void *addr;
	size_t maplen;
	enum user_kind kind;
};

static struct {
	const char *dev;
	int fd;
	bool verbose;
	__u64 page_size;
	struct umem *umem;
	size_t n_umem;
	/* The command being run, for messages. */
	char where[32];
	char cmd[160];
	/* Script mode without -k: adds and removals go in batches. */
	bool script_batches;
	int line;		/* the script line being run */
	int region_batch;	/* GUESTMEM_FEATURE_REGION_BATCH: -1 unknown */
} g = {
	.dev = "/dev/guestmem",
	.fd = -1,
	.region_batch = -1,
};

/* A script's add or remove, held for the next GUESTMEM_{ADD,REMOVE}_REGIONS. */
struct pending {
	struct umem u;		/* add user: the memory backing the region */
	bool user;
	int line;
	char where[32];
	char cmd[160];
};

/*
 * Consecutive adds (or removals) of a script: sent as one batch at the
 * first other command, at the end of the script, or when it is full.
 */
static struct {
	bool add;
	size_t n, cap;
	struct guestmem_region *regions;
	struct pending *p;
} batch;

static const struct {
	int err;
	const char *name;
} errno_names[] = {
	{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EINTR, "EINTR" },
	{ EIO, "EIO" }, { ENXIO, "ENXIO" }, { E2BIG, "E2BIG" },
	{ EBADF, "EBADF" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" }, { ENODEV, "ENODEV" }, { EISDIR, "EISDIR" },
	{ EINVAL, "EINVAL" }, { ENFILE, "ENFILE" }, { EMFILE, "EMFILE" },
	{ ENOTTY, "ENOTTY" }, { EFBIG, "EFBIG" }, { ENOSPC, "ENOSPC" },
	{ ERANGE, "ERANGE" }, { EOVERFLOW, "EOVERFLOW" },
	{ EOPNOTSUPP, "EOPNOTSUPP" },
};

static const char *errno_name(int err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(errno_names); i++)
		if (errno_names[i].err == err)
			return errno_names[i].name;
	return NULL;
}

/* A sentence for @err returned while doing @op. */
static const char *explain(enum op op, int err)
{
	switch (err) {
	case ENXIO:
		if (op == OP_OPEN)
			return "no such device (is the guestmem module loaded?)";
		if (op == OP_DIRTY)
			return "range includes a page that is not backed (hole)";
		return "guest address range not backed (hole)";
	case EACCES:
		if (op == OP_OPEN)
			return "permission denied (needs root or the group of the udev rule)";
		if (op == OP_COPY)
			return "destination region is read-only";
		return "region is read-only";
	case EPERM:
		if (op == OP_OPEN)
			return "operation not permitted";
		break;
	case EEXIST:
		return "overlaps an existing region";
	case ENOENT:
		if (op == OP_OPEN)
			return "no such file (is the guestmem module loaded?)";
		if (op == OP_REMOVE)
			return "no region with exactly this GPA and size";
		break;
	case ENODEV:
		if (op == OP_OPEN)
			return "no such device (is the guestmem module loaded?)";
		break;
	case EINVAL:
		switch (op) {
		case OP_ADD:
		case OP_ADD_USER:
		case OP_REMOVE:
			return "invalid region (GPA, SIZE: page aligned; SIZE not 0)";
		case OP_USER_MEM:
			return "cannot allocate user memory of this size";
		case OP_ATOMIC:
			return "invalid atomic access (SIZE 1, 2, 4 or 8 and GPA aligned to SIZE)";
		case OP_DIRTY:
			return "not page aligned, or a page without dirty logging";
		default:
			return "invalid argument";
		}
	case EOVERFLOW:
		return "range wraps past the end of the 64-bit address space";
	case EFAULT:
		if (op == OP_ADD_USER)
			return "user memory not mapped";
		return "bad buffer address";
	case ENOSPC:
		return "region limit reached (module parameter max_regions)";
	case ENOMEM:
		if (op == OP_ADD_USER)
			return "out of memory, or over RLIMIT_MEMLOCK (ulimit -l)";
		if (op == OP_USER_MEM)
			return "out of memory (hugetlb: see /proc/sys/vm/nr_hugepages)";
		if (op == OP_ADD)
			return "out of memory (or over the memory cgroup limit)";
		return "out of memory";
	case E2BIG:
		return "too many operations in one batch";
	case ENOTTY:
		return "not a guestmem device, or the module lacks this ioctl";
	case EINTR:
		return "interrupted";
	default:
		break;
	}
	return strerror(err);
}

static void vmsg(const char *fmt, va_list ap)
{
	fputs("guestmemctl: ", stderr);
	if (g.where[0])
		fprintf(stderr, "%s: ", g.where);
	if (g.cmd[0])
		fprintf(stderr, "%s: ", g.cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* A malformed command: RC_USAGE. */
static int __printf(1, 2) bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	return RC_USAGE;
}

/* An operation that failed with @err: RC_FAIL. */
static int fail(enum op op, int err)
{
	const char *name = errno_name(err);

	fputs("guestmemctl: ", stderr);
	if (g.where[0])
		fprintf(stderr, "%s: ", g.where);
	if (g.cmd[0])
		fprintf(stderr, "%s: ", g.cmd);
	if (name)
		fprintf(stderr, "%s (%s)\n", explain(op, err), name);
	else
		fprintf(stderr, "%s (errno %d)\n", explain(op, err), err);
	return RC_FAIL;
}

/* ---- parsing ------------------------------------------------------------- */

/*
 * Decimal or 0x hex; with @suffix, an optional K, M, G or T (either case)
 * multiplies by a power of 1024.  Returns false on anything else or on
 * overflow.
 */
static bool parse_u64(const char *s, bool suffix, __u64 *out)
{
	unsigned int base = 10, digits = 0, shift = 0;
	__u64 v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++, digits++) {
		unsigned int d;

		if (isdigit((unsigned char)*s))
			d = *s - '0';
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = tolower((unsigned char)*s) - 'a' + 10;
		else
			break;
		if (__builtin_mul_overflow(v, base, &v) ||
		    __builtin_add_overflow(v, d, &v))
			return false;
	}
	if (!digits)
		return false;
	if (*s && suffix && !s[1]) {
		switch (toupper((unsigned char)*s)) {
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		case 'T':
			shift = 40;
			break;
		default:
			return false;
		}
		if (v > (~0ULL >> shift))
			return false;
		v <<= shift;
		s++;
	}
	if (*s)
		return false;
	*out = v;
	return true;
}

/* A GPA, size or length argument. */
static bool parse_addr(const char *what, const char *s, __u64 *out)
{
	if (parse_u64(s, true, out))
		return true;
	bad("bad %s '%s' (a number: decimal or 0x hex, optionally with K, M, G or T)",
	    what, s);
	return false;
}

/*
 * An operand of @size bytes: an unsigned number that fits, or a negative
 * decimal number (two's complement, truncated to @size).
 */
static bool parse_operand(const char *what, const char *s, unsigned int size,
			  __u64 *out)
{
	__u64 mask = size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	__u64 v;

	if (s[0] == '-') {
		if (!parse_u64(s + 1, false, &v) || v > (mask >> 1) + 1)
			goto out_bad;
		v = (0 - v) & mask;
	} else if (!parse_u64(s, false, &v) || (v & ~mask)) {
		goto out_bad;
	}
	*out = v;
	return true;
out_bad:
	bad("bad %s '%s' (a number that fits in %u byte%s)", what, s, size,
	    size == 1 ? "" : "s");
	return false;
}

/* Format an exact size compactly: 1G, 64K, 12345. */
static const char *fmt_size(__u64 v, char *buf, size_t len)
{
	static const char units[] = "TGMK";
	unsigned int i;

	for (i = 0; i < 4; i++) {
		unsigned int shift = 10 * (4 - i);

		if (v && !(v & ((1ULL << shift) - 1))) {
			snprintf(buf, len, "%llu%c", v >> shift, units[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu", v);
	return buf;
}

static int hexval(int c)
{
	if (isdigit(c))
		return c - '0';
	if (isxdigit(c))
		return tolower(c) - 'a' + 10;
	return -1;
}

/* hex:HEX: pairs of hex digits; blanks, ':', '-' and '_' between them. */
static int parse_hex(const char *s, __u8 **data, size_t *len)
{
	__u8 *buf = malloc(strlen(s) / 2 + 1);
	size_t n = 0;

	if (!buf)
		return fail(OP_WRITE, ENOMEM);
	while (*s) {
		int hi, lo;

		if (isspace((unsigned char)*s) || *s == ':' || *s == '-' ||
		    *s == '_') {
			s++;
			continue;
		}
		hi = hexval((unsigned char)s[0]);
		lo = hi < 0 ? -1 : hexval((unsigned char)s[1]);
		if (lo < 0) {
			free(buf);
			return bad("bad hex data at '%s' (pairs of hex digits expected)",
				   s);
		}
		buf[n++] = hi << 4 | lo;
		s += 2;
	}
	*data = buf;
	*len = n;
	return RC_OK;
}

/* str:TEXT with the escapes \n \t \r \0 \\ \xHH. */
static int parse_str(const char *s, __u8 **data, size_t *len)
{
	__u8 *buf = malloc(strlen(s) + 1);
	size_t n = 0;

	if (!buf)
		return fail(OP_WRITE, ENOMEM);
	for (; *s; s++) {
		if (*s != '\\') {
			buf[n++] = *s;
			continue;
		}
		switch (*++s) {
		case 'n':
			buf[n++] = '\n';
			break;
		case 't':
			buf[n++] = '\t';
			break;
		case 'r':
			buf[n++] = '\r';
			break;
		case '0':
			buf[n++] = 0;
			break;
		case '\\':
			buf[n++] = '\\';
			break;
		case 'x':
			if (hexval((unsigned char)s[1]) < 0 ||
			    hexval((unsigned char)s[2]) < 0) {
				free(buf);
				return bad("bad escape in string: \\x needs two hex digits");
			}
			buf[n++] = hexval((unsigned char)s[1]) << 4 |
				   hexval((unsigned char)s[2]);
			s += 2;
			break;
		default:
			free(buf);
			return bad("bad escape '\\%.1s' in string (\\n \\t \\r \\0 \\\\ \\xHH)",
				   s);
		}
	}
	*data = buf;
	*len = n;
	return RC_OK;
}

static int read_file(const char *path, __u8 **data, size_t *len)
{
	size_t cap = 65536, n = 0;
	__u8 *buf = malloc(cap);
	ssize_t r;
	int fd;

	if (!buf)
		return fail(OP_WRITE, ENOMEM);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		free(buf);
		return bad("cannot open '%s': %s", path, strerror(err));
	}
	for (;;) {
		if (n == cap) {
			__u8 *nbuf = realloc(buf, cap * 2);

			if (!nbuf) {
				r = -1;
				errno = ENOMEM;
				break;
			}
			buf = nbuf;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += r;
	}
	if (r < 0) {
		int err = errno;

		close(fd);
		free(buf);
		return bad("cannot read '%s': %s", path, strerror(err));
	}
	close(fd);
	*data = buf;
	*len = n;
	return RC_OK;
}

/* ---- the space ----------------------------------------------------------- */

static int open_space(void)
{
	if (g.fd >= 0)
		return RC_OK;
	g.fd = open(g.dev, O_RDWR | O_CLOEXEC);
	if (g.fd < 0) {
		/* Not the command's fault: name the device instead. */
		g.where[0] = 0;
		snprintf(g.cmd, sizeof(g.cmd), "%s", g.dev);
		return fail(OP_OPEN, errno);
	}
	return RC_OK;
}

static int gm_ioctl(unsigned long req, void *arg)
{
	return ioctl(g.fd, req, arg) < 0 ? errno : 0;
}

static struct umem *find_umem(__u64 gpa, __u64 size)
{
	size_t i;

	for (i = 0; i < g.n_umem; i++)
		if (g.umem[i].gpa == gpa && g.umem[i].size == size)
			return &g.umem[i];
	return NULL;
}

static __u64 huge_page_size(void)
{
	char line[128];
	__u64 kb = 2048;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return kb << 10;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %llu", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

/* Allocate @size bytes of @kind user memory into @u. */
static int alloc_user(struct umem *u, __u64 size, enum user_kind kind)
{
	int prot = PROT_READ | PROT_WRITE;
	__u64 maplen = size;
	void *p = MAP_FAILED;
	int fd;

	if (kind == UK_HUGETLB) {
		__u64 hps = huge_page_size();

		maplen = (size + hps - 1) & ~(hps - 1);
	}
	if (!size)
		return fail(OP_ADD_USER, EINVAL);
	if (maplen < size || maplen != (size_t)maplen)
		return fail(OP_USER_MEM, ENOMEM);

	switch (kind) {
	case UK_ANON:
		p = mmap(NULL, maplen, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case UK_MEMFD:
	case UK_HUGETLB:
		fd = memfd_create("guestmemctl", MFD_CLOEXEC |
				  (kind == UK_HUGETLB ? MFD_HUGETLB : 0));
		if (fd < 0)
			return fail(OP_USER_MEM, errno);
		if (ftruncate(fd, maplen)) {
			int err = errno;

			close(fd);
			return fail(OP_USER_MEM, err);
		}
		p = mmap(NULL, maplen, prot, MAP_SHARED, fd, 0);
		close(fd);
		break;
	}
	if (p == MAP_FAILED)
		return fail(OP_USER_MEM, errno);
	u->addr = p;
	u->maplen = maplen;
	u->kind = kind;
	return RC_OK;
}

/* Keep the memory of @n USER regions just added, until they are removed. */
static int keep_umem(const struct umem *u, size_t n)
{
	struct umem *nu = realloc(g.umem, (g.n_umem + n) * sizeof(*nu));

	if (!nu)
		return -1;	/* keep the memory mapped: the regions use it */
	g.umem = nu;
	memcpy(g.umem + g.n_umem, u, n * sizeof(*u));
	g.n_umem += n;
	return 0;
}

/* -v: region @r was added; @u: its user memory (NULL: VMALLOC). */
static void print_added(const struct guestmem_region *r, const struct umem *u)
{
	char sz[32];

	if (!g.verbose)
		return;
	printf("added [0x%llx, 0x%llx) %s %s%s%s%s",
	       (__u64)r->gpa, (__u64)(r->gpa + r->size),
	       fmt_size(r->size, sz, sizeof(sz)),
	       u ? "user/" : "vmalloc", u ? user_kind_names[u->kind] : "",
	       r->flags & GUESTMEM_REGION_READONLY ? " ro" : "",
	       r->flags & GUESTMEM_REGION_DIRTY_LOG ? " dirty" : "");
	if (u)
		printf(" at user address %p", u->addr);
	printf("\n");
}

/* Region @r was removed, its pages unpinned: free our memory of it. */
static void after_remove(const struct guestmem_region *r)
{
	struct umem *u = find_umem(r->gpa, r->size);

	if (u) {
		munmap(u->addr, u->maplen);
		*u = g.umem[--g.n_umem];
	}
	if (g.verbose)
		printf("removed [0x%llx, 0x%llx)\n",
		       (__u64)r->gpa, (__u64)(r->gpa + r->size));
}

/* ---- batches of a script's adds and removals ------------------------------ */

/* Drop the held entries: none took effect; free the memory of the adds. */
static void batch_discard(void)
{
	size_t i;

	for (i = 0; i < batch.n; i++)
		if (batch.p[i].user)
			munmap(batch.p[i].u.addr, batch.p[i].u.maplen);
	batch.n = 0;
}

/*
 * Send the held entries as one GUESTMEM_ADD_REGIONS or
 * GUESTMEM_REMOVE_REGIONS: all take effect, or none.  A failure names the
 * script line of the entry that failed, as a single add or remove would.
 */
static int batch_flush(void)
{
	struct guestmem_region_batch b;
	struct pending *p;
	size_t i, n = batch.n;
	enum op op;
	int err;

	if (!n)
		return RC_OK;
	memset(&b, 0, sizeof(b));
	b.regions = (uintptr_t)batch.regions;
	b.count = n;
	b.index = n;
	err = gm_ioctl(batch.add ? GUESTMEM_ADD_REGIONS : GUESTMEM_REMOVE_REGIONS,
		       &b);
	if (err) {
		if (b.index < n) {
			p = &batch.p[b.index];
			snprintf(g.where, sizeof(g.where), "%s", p->where);
			snprintf(g.cmd, sizeof(g.cmd), "%s", p->cmd);
			op = !batch.add ? OP_REMOVE : p->user ? OP_ADD_USER : OP_ADD;
		} else {
			/* The call as a whole: no memory for the new set. */
			if (batch.p[0].line == batch.p[n - 1].line)
				snprintf(g.where, sizeof(g.where), "line %d",
					 batch.p[0].line);
			else
				snprintf(g.where, sizeof(g.where), "lines %d-%d",
					 batch.p[0].line, batch.p[n - 1].line);
			snprintf(g.cmd, sizeof(g.cmd), "%zu %s", n,
				 batch.add ? "adds" : "removals");
			op = batch.add ? OP_ADD : OP_REMOVE;
		}
		batch_discard();
		return fail(op, err);
	}
	batch.n = 0;
	for (i = 0; i < n; i++) {
		p = &batch.p[i];
		if (!batch.add) {
			after_remove(&batch.regions[i]);
			continue;
		}
		if (p->user && keep_umem(&p->u, 1)) {
			snprintf(g.where, sizeof(g.where), "%s", p->where);
			snprintf(g.cmd, sizeof(g.cmd), "%s", p->cmd);
			return fail(OP_ADD_USER, ENOMEM);
		}
		print_added(&batch.regions[i], p->user ? &p->u : NULL);
	}
	return RC_OK;
}

/*
 * Whether an add or a removal goes into a batch: in a script run without
 * -k, on a space whose module has region batches (else one ioctl per
 * command, as on the command line).  The space is open.
 */
static bool batching(void)
{
	struct guestmem_info info;

	if (!g.script_batches)
		return false;
	if (g.region_batch < 0) {
		memset(&info, 0, sizeof(info));
		g.region_batch = !gm_ioctl(GUESTMEM_GET_INFO, &info) &&
				 (info.features & GUESTMEM_FEATURE_REGION_BATCH);
	}
	return g.region_batch;
}

/*
 * Hold region @r for the batch of adds (@add) or removals; @u: its user
 * memory, for an add user.  run() has sent a batch of the other kind.
 */
static int batch_queue(const struct guestmem_region *r, const struct umem *u,
		       bool add)
{
	struct pending *p;

	if (batch.n == GUESTMEM_REGION_BATCH_MAX) {
		int rc = batch_flush();

		if (rc) {
			if (u)
				munmap(u->addr, u->maplen);
			return rc;
		}
	}
	if (batch.n == batch.cap) {
		size_t cap = batch.cap ? batch.cap * 2 : 64;
		struct guestmem_region *nr;
		struct pending *np;

		nr = realloc(batch.regions, cap * sizeof(*nr));
		if (nr)
			batch.regions = nr;
		np = nr ? realloc(batch.p, cap * sizeof(*np)) : NULL;
		if (!np) {
			if (u)
				munmap(u->addr, u->maplen);
			return fail(u ? OP_ADD_USER : OP_ADD, ENOMEM);
		}
		batch.p = np;
		batch.cap = cap;
	}
	batch.add = add;
	p = &batch.p[batch.n];
	memset(p, 0, sizeof(*p));
	if (u) {
		p->u = *u;
		p->user = true;
	}
	p->line = g.line;
	snprintf(p->where, sizeof(p->where), "%s", g.where);
	snprintf(p->cmd, sizeof(p->cmd), "%s", g.cmd);
	batch.regions[batch.n++] = *r;
	return RC_OK;
}

/* add vmalloc|user GPA SIZE [anon|memfd|hugetlb] [ro] [dirty] */
static int cmd_add(int argc, char **argv)
{
	struct guestmem_region r;
	struct umem u;
	bool user, have_kind = false;
	enum user_kind kind = UK_ANON;
	int i, err, rc;

	if (argc < 4 || (strcmp(argv[1], "vmalloc") && strcmp(argv[1], "user")))
		return bad("usage: %s | %s", "add vmalloc GPA SIZE [ro] [dirty]",
			   "add user GPA SIZE [anon|memfd|hugetlb] [ro] [dirty]");
	user = !strcmp(argv[1], "user");
	memset(&r, 0, sizeof(r));
	if (!parse_addr("GPA", argv[2], &r.gpa) ||
	    !parse_addr("SIZE", argv[3], &r.size))
		return RC_USAGE;
	for (i = 4; i < argc; i++) {
		unsigned int k;

		if (!strcmp(argv[i], "ro") || !strcmp(argv[i], "readonly")) {
			r.flags |= GUESTMEM_REGION_READONLY;
			continue;
		}
		if (!strcmp(argv[i], "dirty") || !strcmp(argv[i], "dirty_log")) {
			r.flags |= GUESTMEM_REGION_DIRTY_LOG;
			continue;
		}
		for (k = 0; k < ARRAY_SIZE(user_kind_names); k++)
			if (!strcmp(argv[i], user_kind_names[k]))
				break;
		if (k == ARRAY_SIZE(user_kind_names) || !user || have_kind)
			return bad("unexpected '%s' (%s)", argv[i],
				   user ? "one of anon, memfd, hugetlb, then ro, dirty" :
				   "ro or dirty");
		kind = k;
		have_kind = true;
	}
	rc = open_space();
	if (rc)
		return rc;

	memset(&u, 0, sizeof(u));
	if (user) {
		rc = alloc_user(&u, r.size, kind);
		if (rc)
			return rc;
		u.gpa = r.gpa;
		u.size = r.size;
		r.backing = GUESTMEM_BACKING_USER;
		r.user_addr = (uintptr_t)u.addr;
	} else {
		r.backing = GUESTMEM_BACKING_VMALLOC;
	}
	if (batching())
		return batch_queue(&r, user ? &u : NULL, true);
	err = gm_ioctl(GUESTMEM_ADD_REGION, &r);
	if (err) {
		if (user)
			munmap(u.addr, u.maplen);
		return fail(user ? OP_ADD_USER : OP_ADD, err);
	}
	if (user && keep_umem(&u, 1))
		return fail(OP_ADD_USER, ENOMEM);
	print_added(&r, user ? &u : NULL);
	return RC_OK;
}

/* remove GPA SIZE */
static int cmd_remove(int argc, char **argv)
{
	struct guestmem_region r;
	int err, rc;

	if (argc != 3)
		return bad("usage: remove GPA SIZE");
	memset(&r, 0, sizeof(r));
	if (!parse_addr("GPA", argv[1], &r.gpa) ||
	    !parse_addr("SIZE", argv[2], &r.size))
		return RC_USAGE;
	rc = open_space();
	if (rc)
		return rc;
	if (batching())
		return batch_queue(&r, NULL, false);
	err = gm_ioctl(GUESTMEM_REMOVE_REGION, &r);
	if (err)
		return fail(OP_REMOVE, err);
	after_remove(&r);
	return RC_OK;
}

/* list */
static int cmd_list(int argc, char **argv)
{
	struct guestmem_region_list l;
	struct guestmem_region *r = NULL;
	__u32 i, n;
	int err, rc;

	(void)argv;
	if (argc != 1)
		return bad("usage: list");
	rc = open_space();
	if (rc)
		return rc;
	memset(&l, 0, sizeof(l));
	for (;;) {
		struct guestmem_region *nr;

		n = l.count;
		nr = realloc(r, (n ? n : 1) * sizeof(*r));
		if (!nr) {
			free(r);
			return fail(OP_LIST, ENOMEM);
		}
		r = nr;
		l.regions = (uintptr_t)r;
		err = gm_ioctl(GUESTMEM_GET_REGIONS, &l);
		if (err) {
			free(r);
			return fail(OP_LIST, err);
		}
		if (l.count <= n)
			break;
	}
	printf("%-18s  %-18s  %-8s  %-13s  %s\n",
	       "GPA", "END", "SIZE", "BACKING", "FLAGS");
	for (i = 0; i < l.count; i++) {
		struct umem *u = find_umem(r[i].gpa, r[i].size);
		char gpa[24], end[24], sz[32], backing[24], flags[16];

		snprintf(gpa, sizeof(gpa), "0x%llx", (__u64)r[i].gpa);
		snprintf(end, sizeof(end), "0x%llx",
			 (__u64)(r[i].gpa + r[i].size));
		if (r[i].backing == GUESTMEM_BACKING_VMALLOC)
			snprintf(backing, sizeof(backing), "vmalloc");
		else if (r[i].backing == GUESTMEM_BACKING_USER)
			snprintf(backing, sizeof(backing), "user%s%s",
				 u ? "/" : "", u ? user_kind_names[u->kind] : "");
		else
			snprintf(backing, sizeof(backing), "backing %u",
				 r[i].backing);
		snprintf(flags, sizeof(flags), "%s%s%s",
			 r[i].flags & GUESTMEM_REGION_READONLY ? "ro" : "",
			 (r[i].flags & GUESTMEM_REGION_READONLY) &&
			 (r[i].flags & GUESTMEM_REGION_DIRTY_LOG) ? "," : "",
			 r[i].flags & GUESTMEM_REGION_DIRTY_LOG ? "dirty" : "");
		printf("%-18s  %-18s  %-8s  %-13s  %s\n", gpa, end,
		       fmt_size(r[i].size, sz, sizeof(sz)), backing,
		       flags[0] ? flags : "-");
	}
	free(r);
	return RC_OK;
}

/* info */
static int cmd_info(int argc, char **argv)
{
	static const char * const features[] = {
		"mmap", "batch", "atomic", "fill_copy", "dirty_log",
		"region_batch",
	};
	struct guestmem_info info;
	char sz[32];
	unsigned int i;
	int err, rc;

	(void)argv;
	if (argc != 1)
		return bad("usage: info");
	rc = open_space();
	if (rc)
		return rc;
	memset(&info, 0, sizeof(info));
	err = gm_ioctl(GUESTMEM_GET_INFO, &info);
	if (err)
		return fail(OP_INFO, err);
	printf("api_version  %u\n", info.api_version);
	printf("regions      %u\n", info.num_regions);
	printf("total_size   0x%llx (%s)\n", (__u64)info.total_size,
	       fmt_size(info.total_size, sz, sizeof(sz)));
	printf("generation   %llu\n", (__u64)info.generation);
	printf("features     0x%llx", (__u64)info.features);
	for (i = 0; i < ARRAY_SIZE(features); i++)
		if (info.features & (1ULL << i))
			printf(" %s", features[i]);
	printf("\n");
	return RC_OK;
}

/* Exact GUESTMEM_READ or GUESTMEM_WRITE of @len bytes at @gpa. */
static int do_io(unsigned long req, __u64 gpa, void *buf, __u64 len)
{
	struct guestmem_io io;

	memset(&io, 0, sizeof(io));
	io.gpa = gpa;
	io.len = len;
	io.buf = (uintptr_t)buf;
	return gm_ioctl(req, &io);
}

static void hexdump_line(int width, __u64 off, const __u8 *p,
			 unsigned int n)
{
	unsigned int i;

	printf("%0*llx ", width, off);
	for (i = 0; i < 16; i++) {
		if (i % 8 == 0)
			putchar(' ');
		if (i < n)
			printf("%02x ", p[i]);
		else
			printf("   ");
	}
	printf(" |");
	for (i = 0; i < n; i++)
		putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
	printf("|\n");
}

/* hexdump -C, with guest physical addresses as offsets. */
static void hexdump(__u64 gpa, const __u8 *buf, __u64 len)
{
	__u64 last = gpa + len - 1, off;
	bool starred = false;
	int width = 8;

	if (!len)
		return;
	while (width < 16 && (last >> (4 * width)))
		width++;
	for (off = 0; off < len; off += 16) {
		unsigned int n = len - off < 16 ? len - off : 16;

		if (off && n == 16 && !memcmp(buf + off, buf + off - 16, 16)) {
			if (!starred)
				printf("*\n");
			starred = true;
			continue;
		}
		starred = false;
		hexdump_line(width, gpa + off, buf + off, n);
	}
	/* The offset after the data, as hexdump -C ends; 2^64 included. */
	if (last + 1)
		printf("%0*llx\n", width, last + 1);
	else
		printf("1%016x\n", 0);
}

/* read GPA LEN [raw] */
static int cmd_read(int argc, char **argv)
{
	__u64 gpa, len;
	bool raw = false;
	__u8 *buf;
	int err, rc;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "raw")))
		return bad("usage: read GPA LEN [raw]");
	raw = argc == 4;
	if (!parse_addr("GPA", argv[1], &gpa) ||
	    !parse_addr("LEN", argv[2], &len))
		return RC_USAGE;
	if (len != (size_t)len)
		return fail(OP_READ, ENOMEM);
	rc = open_space();
	if (rc)
		return rc;
	buf = malloc(len ? len : 1);
	if (!buf)
		return fail(OP_READ, ENOMEM);
	err = do_io(GUESTMEM_READ, gpa, buf, len);
	if (err) {
		free(buf);
		return fail(OP_READ, err);
	}
	if (raw)
		fwrite(buf, 1, len, stdout);
	else
		hexdump(gpa, buf, len);
	free(buf);
	return RC_OK;
}

/* write GPA hex:..|str:..|file:PATH */
static int cmd_write(int argc, char **argv)
{
	__u8 *data = NULL;
	__u64 gpa;
	size_t len = 0;
	int err, rc;

	if (argc != 3)
		return bad("usage: write GPA hex:HEX|str:TEXT|file:PATH");
	if (!parse_addr("GPA", argv[1], &gpa))
		return RC_USAGE;
	if (!strncmp(argv[2], "hex:", 4))
		rc = parse_hex(argv[2] + 4, &data, &len);
	else if (!strncmp(argv[2], "str:", 4))
		rc = parse_str(argv[2] + 4, &data, &len);
	else if (!strncmp(argv[2], "file:", 5))
		rc = read_file(argv[2] + 5, &data, &len);
	else
		return bad("bad data '%s' (hex:HEX, str:TEXT or file:PATH)",
			   argv[2]);
	if (rc)
		return rc;
	rc = open_space();
	if (rc)
		goto out;
	err = do_io(GUESTMEM_WRITE, gpa, data, len);
	if (err) {
		rc = fail(OP_WRITE, err);
		goto out;
	}
	if (g.verbose)
		printf("wrote %zu byte%s at 0x%llx\n", len,
		       len == 1 ? "" : "s", gpa);
out:
	free(data);
	return rc;
}

/* fill GPA LEN BYTE */
static int cmd_fill(int argc, char **argv)
{
	struct guestmem_fill f;
	__u64 gpa, len, val;
	int err, rc;

	if (argc != 4)
		return bad("usage: fill GPA LEN BYTE");
	if (!parse_addr("GPA", argv[1], &gpa) ||
	    !parse_addr("LEN", argv[2], &len))
		return RC_USAGE;
	if (!parse_operand("BYTE", argv[3], 1, &val))
		return RC_USAGE;
	rc = open_space();
	if (rc)
		return rc;
	memset(&f, 0, sizeof(f));
	f.gpa = gpa;
	f.len = len;
	f.value = val;
	err = gm_ioctl(GUESTMEM_FILL, &f);
	if (err)
		return fail(OP_FILL, err);
	if (g.verbose)
		printf("filled %llu bytes at 0x%llx with 0x%02x\n",
		       len, gpa, (unsigned int)val);
	return RC_OK;
}

/* copy DST SRC LEN */
static int cmd_copy(int argc, char **argv)
{
	struct guestmem_copy c;
	__u64 dst, src, len;
	int err, rc;

	if (argc != 4)
		return bad("usage: copy DST SRC LEN");
	if (!parse_addr("DST", argv[1], &dst) ||
	    !parse_addr("SRC", argv[2], &src) ||
	    !parse_addr("LEN", argv[3], &len))
		return RC_USAGE;
	rc = open_space();
	if (rc)
		return rc;
	memset(&c, 0, sizeof(c));
	c.dst = dst;
	c.src = src;
	c.len = len;
	err = gm_ioctl(GUESTMEM_COPY, &c);
	if (err)
		return fail(OP_COPY, err);
	if (g.verbose)
		printf("copied %llu bytes from 0x%llx to 0x%llx\n",
		       len, src, dst);
	return RC_OK;
}

static const struct {
	const char *name;
	const char *alias;
	unsigned int op;
	unsigned int nargs;	/* VALUE, EXPECTED */
} atomic_ops[] = {
	{ "load", NULL, GUESTMEM_ATOMIC_LOAD, 0 },
	{ "store", NULL, GUESTMEM_ATOMIC_STORE, 1 },
	{ "xchg", NULL, GUESTMEM_ATOMIC_XCHG, 1 },
	{ "cmpxchg", NULL, GUESTMEM_ATOMIC_CMPXCHG, 2 },
	{ "add", "fetch_add", GUESTMEM_ATOMIC_FETCH_ADD, 1 },
	{ "or", "fetch_or", GUESTMEM_ATOMIC_FETCH_OR, 1 },
	{ "and", "fetch_and", GUESTMEM_ATOMIC_FETCH_AND, 1 },
};

/* atomic OP SIZE GPA [VALUE [EXPECTED]] */
static int cmd_atomic(int argc, char **argv)
{
	struct guestmem_atomic a;
	__u64 size, gpa, value = 0, expected = 0;
	unsigned int i;
	int err, rc;

	if (argc < 4)
		return bad("usage: atomic %s SIZE GPA [VALUE [EXPECTED]]",
			   "load|store|xchg|cmpxchg|add|or|and");
	for (i = 0; i < ARRAY_SIZE(atomic_ops); i++)
		if (!strcmp(argv[1], atomic_ops[i].name) ||
		    (atomic_ops[i].alias && !strcmp(argv[1], atomic_ops[i].alias)))
			break;
	if (i == ARRAY_SIZE(atomic_ops))
		return bad("unknown atomic op '%s' (load, store, xchg, cmpxchg, add, or, and)",
			   argv[1]);
	if (!parse_u64(argv[2], false, &size) ||
	    (size != 1 && size != 2 && size != 4 && size != 8))
		return bad("bad SIZE '%s' (1, 2, 4 or 8)", argv[2]);
	if (argc != 4 + (int)atomic_ops[i].nargs)
		return bad("usage: atomic %s SIZE GPA%s", atomic_ops[i].name,
			   atomic_ops[i].nargs == 2 ? " VALUE EXPECTED" :
			   atomic_ops[i].nargs == 1 ? " VALUE" : "");
	if (!parse_addr("GPA", argv[3], &gpa))
		return RC_USAGE;
	if (atomic_ops[i].nargs >= 1 &&
	    !parse_operand("VALUE", argv[4], size, &value))
		return RC_USAGE;
	if (atomic_ops[i].nargs == 2 &&
	    !parse_operand("EXPECTED", argv[5], size, &expected))
		return RC_USAGE;
	rc = open_space();
	if (rc)
		return rc;
	memset(&a, 0, sizeof(a));
	a.gpa = gpa;
	a.value = value;
	a.expected = expected;
	a.size = size;
	a.op = atomic_ops[i].op;
	err = gm_ioctl(GUESTMEM_ATOMIC, &a);
	if (err)
		return fail(OP_ATOMIC, err);
	if (a.op == GUESTMEM_ATOMIC_STORE) {
		if (g.verbose)
			printf("stored 0x%0*llx at 0x%llx\n",
			       (int)size * 2, value, gpa);
		return RC_OK;
	}
	printf("0x%0*llx", (int)size * 2, (__u64)a.value);
	if (a.op == GUESTMEM_ATOMIC_CMPXCHG)
		printf(" %s", a.value == expected ? "exchanged" : "not exchanged");
	printf("\n");
	return RC_OK;
}

/* dirty GPA SIZE [clear] */
static int cmd_dirty(int argc, char **argv)
{
	struct guestmem_dirty_log d;
	__u64 gpa, size, pages, i, dirty = 0;
	__u64 *bitmap;
	int err, rc;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "clear")))
		return bad("usage: dirty GPA SIZE [clear]");
	if (!parse_addr("GPA", argv[1], &gpa) ||
	    !parse_addr("SIZE", argv[2], &size))
		return RC_USAGE;
	rc = open_space();
	if (rc)
		return rc;
	pages = size / g.page_size;
	if ((pages + 63) / 64 > SIZE_MAX / 8)
		return fail(OP_DIRTY, ENOMEM);
	bitmap = calloc((pages + 63) / 64 + 1, 8);
	if (!bitmap)
		return fail(OP_DIRTY, ENOMEM);
	memset(&d, 0, sizeof(d));
	d.gpa = gpa;
	d.size = size;
	d.bitmap = (uintptr_t)bitmap;
	d.flags = argc == 4 ? GUESTMEM_DIRTY_LOG_CLEAR : 0;
	err = gm_ioctl(GUESTMEM_GET_DIRTY_LOG, &d);
	if (err) {
		free(bitmap);
		return fail(OP_DIRTY, err);
	}
	printf("%-18s  %-18s  %s\n", "GPA", "END", "PAGES");
	for (i = 0; i < pages; ) {
		__u64 start;
		char a[24], b[24];

		if (!(bitmap[i / 64] & (1ULL << (i % 64)))) {
			i++;
			continue;
		}
		start = i;
		while (i < pages && (bitmap[i / 64] & (1ULL << (i % 64))))
			i++;
		dirty += i - start;
		snprintf(a, sizeof(a), "0x%llx", gpa + start * g.page_size);
		snprintf(b, sizeof(b), "0x%llx", gpa + i * g.page_size);
		printf("%-18s  %-18s  %llu\n", a, b, i - start);
	}
	printf("%llu of %llu page%s dirty%s\n", dirty, pages,
	       pages == 1 ? "" : "s", argc == 4 ? " (now cleared)" : "");
	free(bitmap);
	return RC_OK;
}

static int cmd_echo(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		printf("%s%s", i > 1 ? " " : "", argv[i]);
	printf("\n");
	return RC_OK;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(usage_text, stdout);
	return RC_OK;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "add", cmd_add },
	{ "remove", cmd_remove },
	{ "list", cmd_list },
	{ "info", cmd_info },
	{ "read", cmd_read },
	{ "write", cmd_write },
	{ "fill", cmd_fill },
	{ "copy", cmd_copy },
	{ "atomic", cmd_atomic },
	{ "dirty", cmd_dirty },
	{ "echo", cmd_echo },
	{ "help", cmd_help },
};

/* Run one command; @where names it in messages ("line 3"), or is "". */
static int run(int argc, char **argv, const char *where)
{
	size_t i, len = 0;
	bool add, same;
	int k, rc;

	snprintf(g.where, sizeof(g.where), "%s", where);
	/* The command as typed, shortened, for messages. */
	g.cmd[0] = 0;
	for (k = 0; k < argc && len < sizeof(g.cmd) - 1; k++)
		len += snprintf(g.cmd + len, sizeof(g.cmd) - len, "%s%s",
				k ? " " : "", argv[k]);
	if (len >= sizeof(g.cmd) - 1)
		memcpy(g.cmd + sizeof(g.cmd) - 4, "...", 4);

	/*
	 * A batch of a script's adds (or removals) goes to the kernel before
	 * any other command runs.  If it fails, this command does not run.
	 */
	add = !strcmp(argv[0], "add");
	same = add ? batch.add : !batch.add && !strcmp(argv[0], "remove");
	if (batch.n && !same) {
		rc = batch_flush();
		if (rc) {
			fflush(stdout);
			return rc;
		}
	}

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[0], commands[i].name))
			break;
	if (i == ARRAY_SIZE(commands))
		rc = bad("unknown command (try 'help')");
	else
		rc = commands[i].fn(argc, argv);
	/* An add or remove line failed: its batch takes no effect. */
	if (rc)
		batch_discard();
	fflush(stdout);
	return rc;
}

/*
 * Split @line into words in place, as a shell would: blanks separate words,
 * '...' is literal, "..." takes \" and \\, a backslash outside quotes takes
 * the next character literally, and an unquoted # starting a word begins a
 * comment.  Returns the number of words or -1 (with *@err set).
 */
static int split_words(char *line, char **words, int max, const char **err)
{
	char *p = line, *out;
	int n = 0;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			return n;
		if (n == max) {
			*err = "too many words";
			return -1;
		}
		out = p;
		words[n++] = p;
		while (*p && !isspace((unsigned char)*p)) {
			if (*p == '\'') {
				for (p++; *p && *p != '\''; )
					*out++ = *p++;
				if (!*p++) {
					*err = "unterminated '";
					return -1;
				}
			} else if (*p == '"') {
				for (p++; *p && *p != '"'; ) {
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					*out++ = *p++;
				}
				if (!*p++) {
					*err = "unterminated \"";
					return -1;
				}
			} else if (*p == '\\' && p[1]) {
				p++;
				*out++ = *p++;
			} else {
				*out++ = *p++;
			}
		}
		if (*p)
			p++;
		*out = 0;
	}
}

/*
 * Run the commands in @words, separated by ";" words; @where names them in
 * messages ("line 3"; NULL for the arguments: "command 2" when there are
 * several).  Returns the first failure, or the last one with @keep_going.
 */
static int run_words(int n, char **words, const char *where, int *count,
		     bool keep_going)
{
	char label[32] = "";
	int i, start = 0, rc = RC_OK, r;
	bool several = false;

	for (i = 0; i < n; i++)
		if (!strcmp(words[i], ";"))
			several = true;
	for (i = 0; i <= n; i++) {
		if (i < n && strcmp(words[i], ";"))
			continue;
		if (i > start) {
			++*count;
			if (where)
				snprintf(label, sizeof(label), "%s", where);
			else if (several)
				snprintf(label, sizeof(label), "command %d", *count);
			r = run(i - start, words + start, label);
			if (r) {
				rc = r;
				if (!keep_going)
					return rc;
			}
		}
		start = i + 1;
	}
	return rc;
}

static int run_script(FILE *in, bool keep_going)
{
	bool tty = isatty(fileno(in)) && isatty(STDOUT_FILENO);
	int lineno = 0, count = 0, rc = RC_OK, r, n;
	char *words[MAX_WORDS];
	char *line = NULL;
	size_t cap = 0;
	char where[32];

	/* An interactive session reports errors and goes on. */
	if (tty)
		keep_going = true;
	/*
	 * Without -k, consecutive adds (or removals) go to the kernel as one
	 * batch, all or nothing; with it, each line on its own.
	 */
	g.script_batches = !keep_going;
	for (;;) {
		const char *err = NULL;

		if (tty) {
			printf("guestmem> ");
			fflush(stdout);
		}
		if (getline(&line, &cap, in) < 0)
			break;
		lineno++;
		g.line = lineno;
		snprintf(where, sizeof(where), "line %d", lineno);
		n = split_words(line, words, MAX_WORDS, &err);
		if (n < 0) {
			/* Not an add or remove: the lines before it run first. */
			r = batch_flush();
			if (!r) {
				g.cmd[0] = 0;
				snprintf(g.where, sizeof(g.where), "%s", where);
				r = bad("%s", err);
			}
		} else {
			r = run_words(n, words, where, &count, keep_going);
		}
		if (r) {
			rc = r;
			if (!keep_going)
				break;
		}
	}
	if (!rc) {
		r = batch_flush();
		if (r)
			rc = r;
	}
	if (tty)
		printf("\n");
	free(line);
	return rc;
}

int main(int argc, char **argv)
{
	bool keep_going = false;
	int opt, count = 0, rc;

	if (argc > 1 && !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		return RC_OK;
	}
	while ((opt = getopt(argc, argv, "+d:f:kvh")) != -1) {
		switch (opt) {
		case 'd':
			g.dev = optarg;
			break;
		case 'f': {
			char *end;
			long fd;

			errno = 0;
			fd = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || fd < 0 ||
			    fd > INT32_MAX) {
				fprintf(stderr, "guestmemctl: -f %s: not a file descriptor\n",
					optarg);
				return RC_USAGE;
			}
			g.fd = (int)fd;	/* open_space() then keeps it */
			break;
		}
		case 'k':
			keep_going = true;
			break;
		case 'v':
			g.verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return RC_OK;
		default:
			fprintf(stderr, "Try 'guestmemctl -h' for more information.\n");
			return RC_USAGE;
		}
	}
	g.page_size = sysconf(_SC_PAGESIZE);

	if (optind == argc || (optind + 1 == argc && !strcmp(argv[optind], "-")))
		rc = run_script(stdin, keep_going);
	else
		rc = run_words(argc - optind, argv + optind, NULL, &count,
			       keep_going);
	fflush(stdout);
	if (ferror(stdout)) {
		fprintf(stderr, "guestmemctl: error writing standard output\n");
		rc = RC_FAIL;
	}
	return rc;
}
