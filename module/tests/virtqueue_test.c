// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite guestmem_virtqueue: guestmem's split virtqueue
 * (module/virtqueue.c).
 *
 * Layout of every test's space (pages from GMT_BASE):
 *
 *   [ 0, 16) R0 VMALLOC: desc table at page 0, avail ring at page 1, used
 *            ring at page 2, indirect tables at page 3, buffers from page 4
 *   [16, 20) R1 VMALLOC, adjacent to R0 (buffers across the boundary)
 *   [20, 32) hole
 *   [32, 34) R2 VMALLOC, READONLY
 */
#include <kunit/test.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <uapi/linux/virtio_ring.h>
#include <linux/guestmem.h>
#include <linux/guestmem_device.h>
#include "helpers.h"

#define GMV_NUM		8U
#define GMV_DESC	GMT_P(0)
#define GMV_AVAIL	GMT_P(1)
#define GMV_USED	GMT_P(2)
#define GMV_IND		GMT_P(3)
#define GMV_DATA	GMT_P(4)
#define GMV_BOUNDARY	GMT_P(16)
#define GMV_HOLE	GMT_P(24)
#define GMV_RO		GMT_P(32)

#define N	VRING_DESC_F_NEXT
#define W	VRING_DESC_F_WRITE
#define I	VRING_DESC_F_INDIRECT
#define FI	GUESTMEM_VQ_F_INDIRECT_DESC
#define FE	GUESTMEM_VQ_F_EVENT_IDX

struct gmv_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct gmv_ctx {
	struct guestmem *gm;
	struct guestmem_vq vq;
	u16 avail_idx;
};

static void gmv_vq_destroy(void *vq)
{
	guestmem_vq_destroy(vq);
}

/* The space of the layout above and a queue of GMV_NUM entries on it. */
static struct gmv_ctx *gmv_setup(struct kunit *test, u64 features, u64 desc,
				 u64 avail, u64 used)
{
	struct gmv_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->gm = gmt_create(test);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(ctx->gm, 0, 16, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(ctx->gm, 16, 4, 0), 0);
	KUNIT_ASSERT_EQ(test, gmt_add_pages(ctx->gm, 32, 2, GUESTMEM_REGION_READONLY), 0);
	KUNIT_ASSERT_EQ(test, guestmem_vq_init(&ctx->vq, ctx->gm, GMV_NUM,
					       features, desc, avail, used), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, gmv_vq_destroy,
							&ctx->vq), 0);
	return ctx;
}

static struct gmv_ctx *gmv_std(struct kunit *test, u64 features)
{
	return gmv_setup(test, features, GMV_DESC, GMV_AVAIL, GMV_USED);
}

static void gmv_write_desc(struct kunit *test, struct gmv_ctx *ctx, u64 table,
			   unsigned int i, const struct gmv_desc *d)
{
	u64 gpa = table + 16 * (u64)i;

	KUNIT_ASSERT_EQ(test, guestmem_write_le64(ctx->gm, gpa, d->addr), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write_le32(ctx->gm, gpa + 8, d->len), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write_le16(ctx->gm, gpa + 12, d->flags), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write_le16(ctx->gm, gpa + 14, d->next), 0);
}

/* The driver makes the chain at @head available (ring entry, then idx). */
static void gmv_avail(struct kunit *test, struct gmv_ctx *ctx, u16 head)
{
	u64 slot = GMV_AVAIL + 4 + 2 * (u64)(ctx->avail_idx & (GMV_NUM - 1));

	KUNIT_ASSERT_EQ(test, guestmem_write_le16(ctx->gm, slot, head), 0);
	ctx->avail_idx++;
	KUNIT_ASSERT_EQ(test, guestmem_write_le16(ctx->gm, GMV_AVAIL + 2,
						  ctx->avail_idx), 0);
}

static u16 gmv_used_idx(struct kunit *test, struct gmv_ctx *ctx)
{
	u16 v;

	KUNIT_ASSERT_EQ(test, guestmem_read_le16(ctx->gm, GMV_USED + 2, &v), 0);
	return v;
}

static void gmv_expect_used(struct kunit *test, struct gmv_ctx *ctx, u16 idx,
			    u32 id, u32 len)
{
	u64 e = GMV_USED + 4 + 8 * (u64)(idx & (GMV_NUM - 1));
	u32 v;

	KUNIT_ASSERT_EQ(test, guestmem_read_le32(ctx->gm, e, &v), 0);
	KUNIT_EXPECT_EQ(test, v, id);
	KUNIT_ASSERT_EQ(test, guestmem_read_le32(ctx->gm, e + 4, &v), 0);
	KUNIT_EXPECT_EQ(test, v, len);
}

static void gmv_expect_seg(struct kunit *test, const struct guestmem_vq_seg *s,
			   u64 gpa, u32 len, bool write)
{
	KUNIT_EXPECT_EQ(test, s->gpa, gpa);
	KUNIT_EXPECT_EQ(test, s->len, len);
	KUNIT_EXPECT_EQ(test, s->write, write);
}

/* Two readable buffers (one across R0/R1) and a writable one; echo them. */
static void guestmem_test_virtqueue_direct_chain(struct kunit *test)
{
	struct gmv_ctx *ctx = gmv_std(test, 0);
	struct guestmem_vq_chain c;
	static const char msg[] = "hello, virtqueue";
	char buf[sizeof(msg)] = {};

	/* Out of order in the table: 5 -> 2 -> 7. */
	gmv_write_desc(test, ctx, GMV_DESC, 5,
		       &(struct gmv_desc){ GMV_DATA, 5, N, 2 });
	gmv_write_desc(test, ctx, GMV_DESC, 2,
		       &(struct gmv_desc){ GMV_BOUNDARY - 4, 12, N, 7 });
	gmv_write_desc(test, ctx, GMV_DESC, 7,
		       &(struct gmv_desc){ GMV_DATA + 256, 64, W, 0 });
	KUNIT_ASSERT_EQ(test, guestmem_write(ctx->gm, GMV_DATA, msg, 5), 0);
	KUNIT_ASSERT_EQ(test, guestmem_write(ctx->gm, GMV_BOUNDARY - 4, msg + 5,
					     sizeof(msg) - 5), 0);
	KUNIT_EXPECT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 0);
	gmv_avail(test, ctx, 5);

	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_EXPECT_EQ(test, c.head, 5);
	KUNIT_ASSERT_EQ(test, c.nr_out, 2U);
	KUNIT_ASSERT_EQ(test, c.nr_in, 1U);
	KUNIT_EXPECT_EQ(test, c.out_len, 17ULL);
	KUNIT_EXPECT_EQ(test, c.in_len, 64ULL);
	gmv_expect_seg(test, &c.seg[0], GMV_DATA, 5, false);
	gmv_expect_seg(test, &c.seg[1], GMV_BOUNDARY - 4, 12, false);
	gmv_expect_seg(test, &c.seg[2], GMV_DATA + 256, 64, true);

	KUNIT_ASSERT_EQ(test, guestmem_vq_chain_read(&ctx->vq, &c, 0, buf,
						     sizeof(msg)), 0);
	KUNIT_EXPECT_STREQ(test, buf, msg);
	KUNIT_EXPECT_EQ(test, guestmem_vq_chain_read(&ctx->vq, &c, 1, buf, 17),
			-EINVAL);
	KUNIT_ASSERT_EQ(test, guestmem_vq_chain_write(&ctx->vq, &c, 3, msg,
						      sizeof(msg)), 0);
	memset(buf, 0, sizeof(buf));
	KUNIT_ASSERT_EQ(test, guestmem_read(ctx->gm, GMV_DATA + 259, buf,
					    sizeof(msg)), 0);
	KUNIT_EXPECT_STREQ(test, buf, msg);

	KUNIT_ASSERT_EQ(test, guestmem_vq_push(&ctx->vq, c.head, 3 + sizeof(msg)), 0);
	KUNIT_EXPECT_EQ(test, gmv_used_idx(test, ctx), 1);
	gmv_expect_used(test, ctx, 0, 5, 3 + sizeof(msg));
	KUNIT_EXPECT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 0);
	KUNIT_EXPECT_EQ(test, guestmem_vq_push(&ctx->vq, GMV_NUM, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_vq_broken(&ctx->vq), 0);
}

/* A direct descriptor, then an indirect table (out of order inside). */
static void guestmem_test_virtqueue_indirect_chain(struct kunit *test)
{
	struct gmv_ctx *ctx = gmv_std(test, FI);
	struct guestmem_vq_chain c;

	gmv_write_desc(test, ctx, GMV_DESC, 1,
		       &(struct gmv_desc){ GMV_DATA, 16, N, 3 });
	gmv_write_desc(test, ctx, GMV_DESC, 3,
		       &(struct gmv_desc){ GMV_IND, 3 * 16, I, 0 });
	gmv_write_desc(test, ctx, GMV_IND, 0,
		       &(struct gmv_desc){ GMV_DATA + 16, 32, N, 2 });
	gmv_write_desc(test, ctx, GMV_IND, 2,
		       &(struct gmv_desc){ GMV_DATA + 64, 100, W | N, 1 });
	gmv_write_desc(test, ctx, GMV_IND, 1,
		       &(struct gmv_desc){ GMV_DATA + 512, 1, W, 0 });
	gmv_avail(test, ctx, 1);

	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_EXPECT_EQ(test, c.head, 1);
	KUNIT_ASSERT_EQ(test, c.nr_out, 2U);
	KUNIT_ASSERT_EQ(test, c.nr_in, 2U);
	KUNIT_EXPECT_EQ(test, c.out_len, 48ULL);
	KUNIT_EXPECT_EQ(test, c.in_len, 101ULL);
	gmv_expect_seg(test, &c.seg[0], GMV_DATA, 16, false);
	gmv_expect_seg(test, &c.seg[1], GMV_DATA + 16, 32, false);
	gmv_expect_seg(test, &c.seg[2], GMV_DATA + 64, 100, true);
	gmv_expect_seg(test, &c.seg[3], GMV_DATA + 512, 1, true);
	KUNIT_ASSERT_EQ(test, guestmem_vq_push(&ctx->vq, c.head, 101), 0);
	gmv_expect_used(test, ctx, 0, 1, 101);

	/* An indirect table as the chain's only descriptor. */
	gmv_write_desc(test, ctx, GMV_DESC, 0,
		       &(struct gmv_desc){ GMV_IND, 16, I, 0 });
	gmv_write_desc(test, ctx, GMV_IND, 0,
		       &(struct gmv_desc){ GMV_DATA, 8, W, 0 });
	gmv_avail(test, ctx, 0);
	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_EXPECT_EQ(test, c.nr_out, 0U);
	KUNIT_ASSERT_EQ(test, c.nr_in, 1U);
	gmv_expect_seg(test, &c.seg[0], GMV_DATA, 8, true);
	KUNIT_EXPECT_EQ(test, guestmem_vq_broken(&ctx->vq), 0);
}

/* The 16-bit indices wrap: avail and used entries go on in ring order. */
static void guestmem_test_virtqueue_wrap(struct kunit *test)
{
	struct gmv_ctx *ctx = gmv_std(test, 0);
	struct guestmem_vq_chain c;
	unsigned int i;

	ctx->avail_idx = 65533;
	guestmem_vq_set_base(&ctx->vq, 65533, 65533);
	for (i = 0; i < GMV_NUM; i++)
		gmv_write_desc(test, ctx, GMV_DESC, i,
			       &(struct gmv_desc){ GMV_DATA + i, 1, W, 0 });
	/* Six chains, published in two batches of three. */
	for (i = 0; i < 6; i++) {
		if (i % 3 == 0) {
			gmv_avail(test, ctx, (i + 0) % GMV_NUM);
			gmv_avail(test, ctx, (i + 1) % GMV_NUM);
			gmv_avail(test, ctx, (i + 2) % GMV_NUM);
		}
		KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
		KUNIT_EXPECT_EQ(test, c.head, i % GMV_NUM);
		KUNIT_EXPECT_EQ(test, c.seg[0].gpa, GMV_DATA + i);
		KUNIT_ASSERT_EQ(test, guestmem_vq_push(&ctx->vq, c.head, i), 0);
		gmv_expect_used(test, ctx, (u16)(65533 + i), i, i);
		KUNIT_EXPECT_EQ(test, gmv_used_idx(test, ctx), (u16)(65534 + i));
	}
	KUNIT_EXPECT_EQ(test, gmv_used_idx(test, ctx), 3);
	KUNIT_EXPECT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 0);

	/* A full ring of GMV_NUM across the wrap is fine, one more is not. */
	for (i = 0; i < GMV_NUM; i++)
		gmv_avail(test, ctx, i);
	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_EXPECT_EQ(test, guestmem_vq_broken(&ctx->vq), 0);
}

/* Without EVENT_IDX: VRING_AVAIL_F_NO_INTERRUPT and VRING_USED_F_NO_NOTIFY. */
static void guestmem_test_virtqueue_flags_notify(struct kunit *test)
{
	struct gmv_ctx *ctx = gmv_std(test, 0);
	struct guestmem_vq_chain c;
	u16 v;

	gmv_write_desc(test, ctx, GMV_DESC, 0,
		       &(struct gmv_desc){ GMV_DATA, 1, W, 0 });
	gmv_avail(test, ctx, 0);
	gmv_avail(test, ctx, 0);
	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_ASSERT_EQ(test, guestmem_vq_push(&ctx->vq, 0, 1), 0);
	KUNIT_EXPECT_TRUE(test, guestmem_vq_need_notify(&ctx->vq));
	KUNIT_ASSERT_EQ(test, guestmem_write_le16(ctx->gm, GMV_AVAIL,
						  VRING_AVAIL_F_NO_INTERRUPT), 0);
	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_ASSERT_EQ(test, guestmem_vq_push(&ctx->vq, 0, 1), 0);
	KUNIT_EXPECT_FALSE(test, guestmem_vq_need_notify(&ctx->vq));

	KUNIT_ASSERT_EQ(test, guestmem_vq_disable_notify(&ctx->vq), 0);
	KUNIT_ASSERT_EQ(test, guestmem_read_le16(ctx->gm, GMV_USED, &v), 0);
	KUNIT_EXPECT_EQ(test, v, VRING_USED_F_NO_NOTIFY);
	KUNIT_EXPECT_EQ(test, guestmem_vq_enable_notify(&ctx->vq), 0);
	KUNIT_ASSERT_EQ(test, guestmem_read_le16(ctx->gm, GMV_USED, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 0);
	/* A chain made available meanwhile is reported. */
	gmv_avail(test, ctx, 0);
	KUNIT_EXPECT_EQ(test, guestmem_vq_enable_notify(&ctx->vq), 1);
}

/* EVENT_IDX: used_event suppresses interrupts, avail_event is published. */
static void guestmem_test_virtqueue_event_idx(struct kunit *test)
{
	struct gmv_ctx *ctx = gmv_std(test, FE);
	const u64 used_event = GMV_AVAIL + 4 + 2 * GMV_NUM;
	const u64 avail_event = GMV_USED + 4 + 8 * GMV_NUM;
	struct guestmem_vq_chain c;
	unsigned int i;
	u16 v;

	gmv_write_desc(test, ctx, GMV_DESC, 0,
		       &(struct gmv_desc){ GMV_DATA, 1, W, 0 });
	for (i = 0; i < 5; i++)
		gmv_avail(test, ctx, 0);
	/* The driver wants an interrupt once used->idx passes 2 (3 entries). */
	KUNIT_ASSERT_EQ(test, guestmem_write_le16(ctx->gm, used_event, 2), 0);

	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_ASSERT_EQ(test, guestmem_vq_push(&ctx->vq, 0, 1), 0);
	/* The first call has nothing to compare with: notify. */
	KUNIT_EXPECT_TRUE(test, guestmem_vq_need_notify(&ctx->vq));
	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_ASSERT_EQ(test, guestmem_vq_push(&ctx->vq, 0, 1), 0);
	KUNIT_EXPECT_FALSE(test, guestmem_vq_need_notify(&ctx->vq));
	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_ASSERT_EQ(test, guestmem_vq_push(&ctx->vq, 0, 1), 0);
	KUNIT_EXPECT_TRUE(test, guestmem_vq_need_notify(&ctx->vq));
	/* Two at once, crossing used_event 4: one interrupt. */
	KUNIT_ASSERT_EQ(test, guestmem_write_le16(ctx->gm, used_event, 4), 0);
	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_ASSERT_EQ(test, guestmem_vq_push(&ctx->vq, 0, 1), 0);
	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_ASSERT_EQ(test, guestmem_vq_push(&ctx->vq, 0, 1), 0);
	KUNIT_EXPECT_TRUE(test, guestmem_vq_need_notify(&ctx->vq));
	/* Nothing new since: no interrupt. */
	KUNIT_EXPECT_FALSE(test, guestmem_vq_need_notify(&ctx->vq));

	/* avail_event: the next entry the device pops; disable is a no-op. */
	KUNIT_EXPECT_EQ(test, guestmem_vq_enable_notify(&ctx->vq), 0);
	KUNIT_ASSERT_EQ(test, guestmem_read_le16(ctx->gm, avail_event, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 5);
	KUNIT_EXPECT_EQ(test, guestmem_vq_disable_notify(&ctx->vq), 0);
	KUNIT_ASSERT_EQ(test, guestmem_read_le16(ctx->gm, GMV_USED, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 0);
}

/* Buffers in holes and READONLY regions fail per request, not the queue. */
static void guestmem_test_virtqueue_buffer_faults(struct kunit *test)
{
	struct gmv_ctx *ctx = gmv_std(test, 0);
	struct guestmem_vq_chain c;
	char buf[8] = "1234567";

	gmv_write_desc(test, ctx, GMV_DESC, 0,
		       &(struct gmv_desc){ GMV_HOLE, 8, N, 1 });
	gmv_write_desc(test, ctx, GMV_DESC, 1,
		       &(struct gmv_desc){ GMV_RO, 8, W | N, 2 });
	gmv_write_desc(test, ctx, GMV_DESC, 2,
		       &(struct gmv_desc){ GMT_P(20) - 4, 8, W, 0 });
	gmv_avail(test, ctx, 0);
	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_EXPECT_EQ(test, guestmem_vq_chain_read(&ctx->vq, &c, 0, buf, 8),
			-ENXIO);
	KUNIT_EXPECT_EQ(test, guestmem_vq_chain_write(&ctx->vq, &c, 0, buf, 8),
			-EACCES);
	/* Exact: the buffer running into the hole is left untouched. */
	KUNIT_EXPECT_EQ(test, guestmem_vq_chain_write(&ctx->vq, &c, 8, buf, 8),
			-ENXIO);
	KUNIT_ASSERT_EQ(test, guestmem_read(ctx->gm, GMT_P(20) - 4, buf, 4), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0, 4));
	KUNIT_EXPECT_EQ(test, guestmem_vq_push(&ctx->vq, c.head, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_vq_broken(&ctx->vq), 0);
}

/* A used ring in a READONLY region breaks the queue at the first push. */
static void guestmem_test_virtqueue_used_readonly(struct kunit *test)
{
	struct gmv_ctx *ctx = gmv_setup(test, 0, GMV_DESC, GMV_AVAIL, GMV_RO);
	struct guestmem_vq_chain c;

	gmv_write_desc(test, ctx, GMV_DESC, 0,
		       &(struct gmv_desc){ GMV_DATA, 8, 0, 0 });
	gmv_avail(test, ctx, 0);
	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_EXPECT_EQ(test, guestmem_vq_push(&ctx->vq, c.head, 0), -EIO);
	KUNIT_EXPECT_EQ(test, guestmem_vq_broken(&ctx->vq), -EACCES);
	KUNIT_EXPECT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), -EIO);
	KUNIT_EXPECT_FALSE(test, guestmem_vq_need_notify(&ctx->vq));
}

/* guestmem_vq_init() checks its arguments. */
static void guestmem_test_virtqueue_init_args(struct kunit *test)
{
	struct guestmem *gm = guestmem_create();
	struct guestmem_vq vq;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gm);
	KUNIT_EXPECT_EQ(test, guestmem_vq_init(&vq, gm, 0, 0, 0, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_vq_init(&vq, gm, 3, 0, 0, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_vq_init(&vq, gm, 65536, 0, 0, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_vq_init(&vq, gm, 8, BIT_ULL(0), 0, 0, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_vq_init(&vq, gm, 8, 0, 8, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_vq_init(&vq, gm, 8, 0, 0, 1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_vq_init(&vq, gm, 8, 0, 0, 0, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, guestmem_vq_init(&vq, gm, 8, 0, U64_MAX - 15, 0, 0),
			-EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_vq_init(&vq, gm, 8, 0, 0, U64_MAX - 15, 0),
			-EOVERFLOW);
	KUNIT_EXPECT_EQ(test, guestmem_vq_init(&vq, gm, 8, 0, 0, 0, U64_MAX - 63),
			-EOVERFLOW);
	KUNIT_EXPECT_NULL(test, vq.gm);
	/* A failed init leaves nothing to release; destroy is harmless. */
	guestmem_vq_destroy(&vq);
	KUNIT_ASSERT_EQ(test, guestmem_vq_init(&vq, gm, GUESTMEM_VQ_MAX_SIZE,
					       FI | FE, 0, 0, 0), 0);
	guestmem_vq_destroy(&vq);
	guestmem_put(gm);
}

/*
 * Malformed rings.  Each case writes @desc[] to the descriptor table (entry
 * i = @desc[i]) and @ind[] at @ind_gpa (GMV_IND by default), makes @head
 * available (@avail_idx overrides the new avail->idx) and pops: the queue
 * must break with @err, and stay broken.
 */
#define GMV_MAXD	(GMV_NUM + 1)

struct gmv_case {
	const char *name;
	u64 features;
	u64 desc_gpa;
	u64 avail_gpa;
	u64 ind_gpa;
	u16 head;
	u16 avail_idx;
	unsigned int ndesc;
	struct gmv_desc desc[GMV_MAXD];
	unsigned int nind;
	struct gmv_desc ind[GMV_MAXD];
	int err;
};

#define D(...)	((struct gmv_desc){ __VA_ARGS__ })
#define BUF	GMV_DATA

static const struct gmv_case gmv_cases[] = {
	{ .name = "avail index jumps past the queue size",
	  .avail_idx = GMV_NUM + 1, .ndesc = 1, .desc = { D(BUF, 1, 0, 0) },
	  .err = -EPROTO },
	{ .name = "avail index moves backwards",
	  .avail_idx = 0xffff, .ndesc = 1, .desc = { D(BUF, 1, 0, 0) },
	  .err = -EPROTO },
	{ .name = "head index out of range",
	  .head = GMV_NUM, .err = -ERANGE },
	{ .name = "head index 0xffff",
	  .head = 0xffff, .err = -ERANGE },
	{ .name = "next index out of range",
	  .ndesc = 1, .desc = { D(BUF, 1, N, GMV_NUM) }, .err = -ERANGE },
	{ .name = "descriptor pointing to itself",
	  .ndesc = 1, .desc = { D(BUF, 1, N, 0) }, .err = -ELOOP },
	{ .name = "descriptor loop",
	  .ndesc = 3, .desc = { D(BUF, 1, N, 1), D(BUF, 1, N, 2),
				D(BUF, 1, N, 1) }, .err = -ELOOP },
	{ .name = "loop through every descriptor",
	  .ndesc = 8, .desc = { D(BUF, 1, N, 1), D(BUF, 1, N, 2),
				D(BUF, 1, N, 3), D(BUF, 1, N, 4),
				D(BUF, 1, N, 5), D(BUF, 1, N, 6),
				D(BUF, 1, N, 7), D(BUF, 1, N, 0) },
	  .err = -ELOOP },
	{ .name = "indirect table larger than 2^16 descriptors",
	  .features = FI, .ndesc = 1,
	  .desc = { D(GMV_IND, 16 * (GUESTMEM_VQ_MAX_INDIRECT + 1), I, 0) },
	  .err = -E2BIG },
	{ .name = "indirect table in a hole",
	  .features = FI, .ndesc = 1, .desc = { D(GMV_HOLE, 32, I, 0) },
	  .err = -ENXIO },
	{ .name = "indirect table running into a hole",
	  .features = FI, .ndesc = 1, .desc = { D(GMT_P(20) - 16, 32, I, 0) },
	  .ind_gpa = GMT_P(20) - 16, .nind = 1, .ind = { D(BUF, 1, N, 1) },
	  .err = -ENXIO },
	{ .name = "indirect table naming itself (nested indirect)",
	  .features = FI, .ndesc = 1, .desc = { D(GMV_IND, 32, I, 0) },
	  .nind = 2, .ind = { D(BUF, 1, N, 1), D(GMV_IND, 32, I, 0) },
	  .err = -EBADMSG },
	{ .name = "indirect table is the descriptor table",
	  .features = FI, .ndesc = 1,
	  .desc = { D(GMV_DESC, 16 * GMV_NUM, I, 0) }, .err = -EBADMSG },
	{ .name = "indirect table inside the descriptor table",
	  .features = FI, .head = 1, .ndesc = 3,
	  .desc = { D(BUF, 1, N, 1), D(GMV_DESC, 48, I, 0), D(BUF, 1, 0, 0) },
	  .err = -EBADMSG },
	{ .name = "nested indirect table",
	  .features = FI, .ndesc = 1, .desc = { D(GMV_IND, 16, I, 0) },
	  .nind = 1, .ind = { D(GMV_IND + 64, 16, I, 0) }, .err = -EBADMSG },
	{ .name = "loop in an indirect table",
	  .features = FI, .ndesc = 1, .desc = { D(GMV_IND, 48, I, 0) },
	  .nind = 3, .ind = { D(BUF, 1, N, 1), D(BUF, 1, N, 2),
			      D(BUF, 1, N, 0) }, .err = -ELOOP },
	{ .name = "next index out of an indirect table",
	  .features = FI, .ndesc = 1, .desc = { D(GMV_IND, 32, I, 0) },
	  .nind = 2, .ind = { D(BUF, 1, N, 1), D(BUF, 1, N, 2) },
	  .err = -ERANGE },
	{ .name = "indirect descriptor with NEXT",
	  .features = FI, .ndesc = 2,
	  .desc = { D(GMV_IND, 16, I | N, 1), D(BUF, 1, 0, 0) },
	  .nind = 1, .ind = { D(BUF, 1, 0, 0) }, .err = -EBADMSG },
	{ .name = "indirect table of length 0",
	  .features = FI, .ndesc = 1, .desc = { D(GMV_IND, 0, I, 0) },
	  .err = -EBADMSG },
	{ .name = "indirect table length not a multiple of 16",
	  .features = FI, .ndesc = 1, .desc = { D(GMV_IND, 24, I, 0) },
	  .err = -EBADMSG },
	{ .name = "indirect descriptor not negotiated",
	  .ndesc = 1, .desc = { D(GMV_IND, 16, I, 0) },
	  .nind = 1, .ind = { D(BUF, 1, 0, 0) }, .err = -EBADMSG },
	{ .name = "indirect table wraps past 2^64",
	  .features = FI, .ndesc = 1, .desc = { D(U64_MAX - 15, 32, I, 0) },
	  .err = -EOVERFLOW },
	{ .name = "readable buffer after a writable one",
	  .ndesc = 2, .desc = { D(BUF, 1, W | N, 1), D(BUF, 1, 0, 0) },
	  .err = -EBADMSG },
	{ .name = "buffer wraps past 2^64",
	  .ndesc = 1, .desc = { D(U64_MAX - 7, 16, 0, 0) }, .err = -EOVERFLOW },
	{ .name = "descriptor table in a hole",
	  .desc_gpa = GMV_HOLE, .err = -ENXIO },
	{ .name = "avail ring in a hole",
	  .avail_gpa = GMV_HOLE, .err = -ENXIO },
};

KUNIT_ARRAY_PARAM_DESC(virtqueue_malformed, gmv_cases, name);

static void guestmem_test_virtqueue_malformed_ring(struct kunit *test)
{
	const struct gmv_case *t = test->param_value;
	u64 desc = t->desc_gpa ?: GMV_DESC;
	u64 avail = t->avail_gpa ?: GMV_AVAIL;
	u64 ind = t->ind_gpa ?: GMV_IND;
	struct guestmem_vq_chain c;
	struct gmv_ctx *ctx;
	unsigned int i;

	ctx = gmv_setup(test, t->features, desc, avail, GMV_USED);
	for (i = 0; i < t->ndesc; i++)
		gmv_write_desc(test, ctx, GMV_DESC, i, &t->desc[i]);
	for (i = 0; i < t->nind; i++)
		gmv_write_desc(test, ctx, ind, i, &t->ind[i]);
	gmv_avail(test, ctx, t->head);
	if (t->avail_idx)
		KUNIT_ASSERT_EQ(test, guestmem_write_le16(ctx->gm, GMV_AVAIL + 2,
							  t->avail_idx), 0);

	KUNIT_EXPECT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), -EIO);
	KUNIT_EXPECT_EQ(test, guestmem_vq_broken(&ctx->vq), t->err);
	/* Broken stays broken, and nothing was published. */
	KUNIT_EXPECT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), -EIO);
	KUNIT_EXPECT_EQ(test, guestmem_vq_push(&ctx->vq, 0, 0), -EIO);
	KUNIT_EXPECT_EQ(test, guestmem_vq_enable_notify(&ctx->vq), -EIO);
	KUNIT_EXPECT_FALSE(test, guestmem_vq_need_notify(&ctx->vq));
	KUNIT_EXPECT_EQ(test, gmv_used_idx(test, ctx), 0);
	KUNIT_EXPECT_EQ(test, guestmem_vq_broken(&ctx->vq), t->err);

	/* Set up again (a device reset), the same space serves a good ring. */
	guestmem_vq_destroy(&ctx->vq);
	KUNIT_ASSERT_EQ(test, guestmem_vq_init(&ctx->vq, ctx->gm, GMV_NUM, 0,
					       GMV_DESC, GMV_AVAIL, GMV_USED), 0);
	guestmem_vq_set_base(&ctx->vq, ctx->avail_idx, 0);
	gmv_write_desc(test, ctx, GMV_DESC, 0, &D(BUF, 1, 0, 0));
	gmv_avail(test, ctx, 0);
	KUNIT_EXPECT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
}

/*
 * A read-only reference (a /dev/guestmem file opened O_RDONLY) cannot
 * write the used ring: -EBADF at init, not a queue that breaks with -EBADF
 * at its first push.
 */
static void guestmem_test_virtqueue_init_readonly_ref(struct kunit *test)
{
	struct guestmem_vq vq;
	struct guestmem *ro;
	struct file *file;

	file = gmt_open_dev(test, O_RDONLY);
	ro = guestmem_get_file(file);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ro);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, gmt_put_action, ro), 0);
	KUNIT_EXPECT_EQ(test, guestmem_write(ro, 0, NULL, 0), -EBADF);

	KUNIT_EXPECT_EQ(test, guestmem_vq_init(&vq, ro, GMV_NUM, 0, GMV_DESC,
					       GMV_AVAIL, GMV_USED), -EBADF);
	KUNIT_EXPECT_NULL(test, vq.gm);
	KUNIT_EXPECT_NULL(test, vq.seg);
	guestmem_vq_destroy(&vq);
}

/* Write @n descriptors at @table in one go: buffer k of 1 byte, chained. */
static void gmv_write_chain_table(struct kunit *test, struct gmv_ctx *ctx,
				  u64 table, unsigned int n)
{
	struct {
		__le64 addr;
		__le32 len;
		__le16 flags;
		__le16 next;
	} *t;
	unsigned int k;

	t = kunit_kcalloc(test, n, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	for (k = 0; k < n; k++) {
		t[k].addr = cpu_to_le64(GMV_DATA + k);
		t[k].len = cpu_to_le32(1);
		t[k].flags = cpu_to_le16(k + 1 < n ? N : 0);
		t[k].next = cpu_to_le16(k + 1);
	}
	KUNIT_ASSERT_EQ(test, guestmem_write(ctx->gm, table, t, n * sizeof(*t)), 0);
}

/*
 * An indirect table longer than the queue, as Linux's virtqueue_add_split()
 * builds one when total_sg > num: served, up to GUESTMEM_VQ_MAX_SEGS
 * buffers in the chain; one more is -E2BIG.
 */
static void guestmem_test_virtqueue_indirect_longer_than_queue(struct kunit *test)
{
	struct gmv_ctx *ctx = gmv_std(test, FI);
	const u64 table = GMT_P(5);	/* up to 4 pages */
	const unsigned int max = GUESTMEM_VQ_MAX_SEGS;
	struct guestmem_vq_chain c;

	/* 4 * GMV_NUM buffers from an indirect table, a queue of GMV_NUM. */
	gmv_write_chain_table(test, ctx, table, 4 * GMV_NUM);
	gmv_write_desc(test, ctx, GMV_DESC, 0,
		       &(struct gmv_desc){ table, 16 * 4 * GMV_NUM, I, 0 });
	gmv_avail(test, ctx, 0);
	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_EXPECT_EQ(test, c.nr_out, 4 * GMV_NUM);
	KUNIT_EXPECT_EQ(test, c.out_len, 4ULL * GMV_NUM);
	gmv_expect_seg(test, &c.seg[4 * GMV_NUM - 1],
		       GMV_DATA + 4 * GMV_NUM - 1, 1, false);
	KUNIT_ASSERT_EQ(test, guestmem_vq_push(&ctx->vq, c.head, 0), 0);

	/* One direct buffer and max - 1 indirect ones: the most there is. */
	gmv_write_chain_table(test, ctx, table, max - 1);
	gmv_write_desc(test, ctx, GMV_DESC, 1,
		       &(struct gmv_desc){ GMV_DATA, 1, N, 2 });
	gmv_write_desc(test, ctx, GMV_DESC, 2,
		       &(struct gmv_desc){ table, 16 * (max - 1), I, 0 });
	gmv_avail(test, ctx, 1);
	KUNIT_ASSERT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), 1);
	KUNIT_EXPECT_EQ(test, c.nr_out, max);
	KUNIT_ASSERT_EQ(test, guestmem_vq_push(&ctx->vq, c.head, 0), 0);
	KUNIT_EXPECT_EQ(test, guestmem_vq_broken(&ctx->vq), 0);

	/* One more buffer: -E2BIG. */
	gmv_write_chain_table(test, ctx, table, max);
	gmv_write_desc(test, ctx, GMV_DESC, 2,
		       &(struct gmv_desc){ table, 16 * max, I, 0 });
	gmv_avail(test, ctx, 1);
	KUNIT_EXPECT_EQ(test, guestmem_vq_pop(&ctx->vq, &c), -EIO);
	KUNIT_EXPECT_EQ(test, guestmem_vq_broken(&ctx->vq), -E2BIG);
}

static struct kunit_case guestmem_virtqueue_cases[] = {
	KUNIT_CASE(guestmem_test_virtqueue_init_args),
	KUNIT_CASE(guestmem_test_virtqueue_init_readonly_ref),
	KUNIT_CASE(guestmem_test_virtqueue_indirect_longer_than_queue),
	KUNIT_CASE(guestmem_test_virtqueue_direct_chain),
	KUNIT_CASE(guestmem_test_virtqueue_indirect_chain),
	KUNIT_CASE(guestmem_test_virtqueue_wrap),
	KUNIT_CASE(guestmem_test_virtqueue_flags_notify),
	KUNIT_CASE(guestmem_test_virtqueue_event_idx),
	KUNIT_CASE(guestmem_test_virtqueue_buffer_faults),
	KUNIT_CASE(guestmem_test_virtqueue_used_readonly),
	KUNIT_CASE_PARAM(guestmem_test_virtqueue_malformed_ring,
			 virtqueue_malformed_gen_params),
	{}
};

static struct kunit_suite guestmem_virtqueue_suite = {
	.name = "guestmem_virtqueue",
	.test_cases = guestmem_virtqueue_cases,
};

kunit_test_suite(guestmem_virtqueue_suite);
