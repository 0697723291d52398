/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem fuzzer: what its parts share (see fuzz_test.c for what it does).
 */
#ifndef GUESTMEM_FUZZ_H
#define GUESTMEM_FUZZ_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "guestmem_util.h"

#define FUZZ_OPS_DEFAULT	1000

#define NSLOT		6		/* fd slots */
#define MAXSP		16		/* spaces alive at once (model) */
#define MAXREG		32		/* max_regions during the run */
#define MAXMAP		8		/* live mappings */
#define CHILD_OPS	15		/* ops run by a forked child */
#define BADFD		1000		/* never open */

#define DATA_SZ		(1ULL << 20)	/* user data buffer, then a guard page */
#define POOL_PAGES	384		/* shared anonymous USER backing pool */
#define MEMFD_PAGES	128		/* memfd USER backing pool */
#define ROPOOL_PAGES	16		/* PROT_READ shared anonymous pool */
#define VERIFY_MAX	(64 * 1024)	/* data checks for transfers up to this */
#define MODEL_VMALLOC_MAX (24ULL << 20)	/* bias towards removal above this */

#define RO		GUESTMEM_REGION_READONLY
#define DL		GUESTMEM_REGION_DIRTY_LOG
#define U64MAX		(~0ULL)


enum call {
	C_OPEN, C_CLOSE, C_DUP,
	C_GET_INFO, C_ADD, C_REMOVE, C_GET_REGIONS, C_READ, C_WRITE, C_BATCH,
	C_ATOMIC, C_FILL, C_COPY, C_DIRTY, C_UNKNOWN_IOCTL,
	C_ADD_REGIONS, C_REMOVE_REGIONS,
	C_RDWR,		/* the read and write family */
	C_LSEEK, C_MMAP, C_MUNMAP, C_MADVISE, C_TOUCH, C_FORK,
	C_NCALLS
};

#define FUZZ_SEED_DEFAULT	0x67756573746d656dULL	/* "guestmem" */

#define EB(e)	(1U << ebit(e))

enum { D_CLEAN = 0, D_DIRTY = 1, D_UNKNOWN = 2 };

struct mreg {
	uint64_t gpa, size, uaddr;
	uint32_t backing, flags;
	uint8_t *dirty;		/* DIRTY_LOG: per page D_* */
};

struct mspace {
	bool used;
	bool scratch;		/* m_clone()'s: no dirty state */
	int refs;		/* fd slots' files and mappings */
	int nreg;
	struct mreg reg[MAXREG + 1];
	uint64_t gen;
};

struct mfile {
	bool used;
	int refs;		/* slots */
	int space;
};

struct mmapping {
	bool used;
	uint8_t *addr;
	uint64_t len, gpa;
	int prot;
	int space;
};

#define BM_SZ		(16 * PG)

#define OPS_SZ		(GUESTMEM_BATCH_MAX * sizeof(struct guestmem_batch_op))

/*
 * @size bytes with @prot, then a PROT_NONE guard page: of file @fd, or
 * private anonymous memory (@fd -1), or shared anonymous memory
 * (GUARDED_SHMEM: USER regions the fuzzer maps and touches, as guestmem
 * never maps private anonymous pages).
 */
#define GUARDED_SHMEM	(-2)

enum bufcls {
	B_GOOD, B_EDGE, B_RO, B_NULL, B_UNMAPPED, B_KERNEL, B_NONCANON, B_GMAP,
	B_NCLS
};

struct ubuf {
	uint8_t *p;
	uint64_t rd;		/* bytes the kernel can read from p */
	uint64_t wr;		/* bytes the kernel can write at p */
	bool maybe;		/* unknown: inside a guestmem mapping */
	int gmap_space;		/* B_GMAP: the mapped space */
	enum bufcls cls;
};

/* Where an ioctl's argument structure is. */
enum argcls { A_GOOD, A_RO, A_NULL, A_UNMAPPED, A_STRADDLE };

enum ucls { U_POOL, U_RO, U_UNMAPPED, U_PARTIAL, U_GMAP, U_UNALIGNED,
	    U_KERNEL, U_HIGH, U_LOW, U_NCLS };

struct opdef {
	void (*fn)(void);
	unsigned int weight;
	bool parent_only;
	const char *name;
};

/* check.c */
extern uint64_t seed;
extern unsigned long op_index;
extern unsigned long child_of;
extern bool in_child;
extern bool trace;
extern char desc[768];
extern bool failed;
extern char fail_msg[2048];
extern unsigned long stat_calls[C_NCALLS], stat_ok[C_NCALLS];
void violation(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
const char *ename(int e);
unsigned int ebit(int e);
const char *eset_str(unsigned int set);
bool check_result(enum call c, int err, unsigned int expect);
void print_call_stats(void);

/* model.c */
extern struct mspace sp[MAXSP];
extern struct mfile files[NSLOT * 2];
extern int slot_fd[NSLOT], slot_file[NSLOT];
extern struct mmapping maps[MAXMAP];
extern unsigned int max_regions;
uint64_t reg_last(const struct mreg *r);
uint64_t range_last(uint64_t gpa, uint64_t len);
bool wraps(uint64_t gpa, uint64_t len);
struct mreg *m_find(struct mspace *s, uint64_t gpa);
struct mreg *m_match(struct mspace *s, uint64_t gpa, uint64_t size);
bool m_overlaps(struct mspace *s, uint64_t gpa, uint64_t last);
uint64_t m_scan(struct mspace *s, uint64_t gpa, uint64_t len, bool write,
		int *first_err, bool *hole, bool *ro);
void m_dirty(struct mspace *s, uint64_t gpa, uint64_t len, uint8_t v,
	     bool force);
void m_set_dirty(struct mspace *s, uint64_t gpa, uint64_t len, uint8_t v);
void m_all_unknown(struct mspace *s);
void m_free_regions(struct mspace *s);
void m_clone(struct mspace *dst, const struct mspace *src);
void m_insert(struct mspace *s, const struct guestmem_region *d);
void m_delete(struct mspace *s, struct mreg *r);
uint64_t m_total(struct mspace *s, uint32_t backing);
uint64_t model_vmalloc_total(void);
int space_new(void);
void space_put(int s);
int file_new(int s);
void file_put(int f);
int slot_space(int slot);
int fd_of(int slot);
int fd_for_space(int s);

/* gen.c */
extern uint64_t rng;
uint64_t rnd64(void);
uint64_t rnd(uint64_t n);
bool chance(unsigned int pct);
extern uint8_t *data;
extern uint8_t *ropg;
extern uint8_t *argpg;
extern uint8_t *regarea;
extern uint8_t *bmarea;
extern uint8_t *opsarea;
extern uint8_t *iovarea;
extern uint8_t *pool;
extern uint8_t *mfpool;
extern uint8_t *ropool;
extern uint8_t *unmapped;
extern uint8_t *scratch;
extern uint8_t *scratch2;
void *guarded(size_t size, int prot, int fd);
extern const char *const bufcls_name[B_NCLS];
int live_mapping(void);
struct ubuf pick_buf(uint64_t len, unsigned int bad_pct);
void buf_written_by_kernel(const struct ubuf *b);
void fill_src(const struct ubuf *b, uint64_t len);
extern const char *const argcls_name[];
enum argcls pick_argcls(void);
bool arg_unreadable(enum argcls c);
void *place_arg(const void *s, size_t sz, enum argcls c);
int do_ioctl(int fd, unsigned long cmd, void *arg);
int vread(int fd, uint64_t gpa, void *dst, uint64_t len);
int pick_region(struct mspace *s);
int64_t small_delta(void);
uint64_t pick_gpa(struct mspace *s);
uint64_t pick_len(uint64_t gpa, struct mspace *s);
extern const char *const ucls_name[U_NCLS];
extern struct mspace *uaddr_extra;
uint64_t pick_uaddr(uint64_t size, enum ucls *cls);
uint64_t pick_anchor(void);

/* ops.c */
void touch_handler(int sig, siginfo_t *si, void *ctx);
void run_op(bool allow_fork);
void print_op_times(void);

#endif /* GUESTMEM_FUZZ_H */
