/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sample devices (samples/guestmem_dma.ko, samples/guestmem_vq.ko), as
 * their tests, the guest tests and guestmem-demo drive them: loading,
 * binding to a space, DMA descriptors.  Defined in samples.c; guest code
 * that drives a virtqueue is in vmm.h (guest_vring_desc()).
 */
#ifndef GUESTMEM_SAMPLES_H
#define GUESTMEM_SAMPLES_H

#include <stdint.h>

#include "../../samples/guestmem_dma.h"
#include "../../samples/guestmem_vq.h"

#define DMA_DEV		"/dev/guestmem_dma"
#define DMA_KO		"/modules/guestmem_dma.ko"
#define VQ_DEV		"/dev/guestmem_vq"
#define VQ_KO		"/modules/guestmem_vq.ko"

/*
 * Make sure the sample device @dev exists, loading the module @ko (a path)
 * if it does not: 0, -ENOENT (no such module file), -EIO (insmod failed)
 * or -ENODEV (loaded, but no @dev).
 */
int sample_load(const char *dev, const char *ko);

/* sample_load(), then open @dev: its fd, or -errno. */
int sample_open(const char *dev, const char *ko);

/*
 * GUESTMEM_DMA_BIND of the DMA device @dma to the ring of @size
 * descriptors at @ring in space @gm: 0 or -errno.
 */
int dma_bind(int dma, int gm, uint64_t ring, uint32_t size);

/* A pending DMA descriptor (little endian): copy @len bytes @src -> @dst. */
struct guestmem_dma_desc dma_desc(uint64_t src, uint64_t dst, uint32_t len,
				  uint32_t flags);

/*
 * GUESTMEM_VQ_BIND of the virtqueue device @dev to the queue of @num
 * entries whose descriptor table, avail and used rings are at @desc,
 * @avail and @used in space @gm, kicked through eventfd @kick, interrupting
 * through eventfd @call (-1: none): 0 or -errno.
 */
int vq_bind_queue(int dev, int gm, int kick, int call, uint32_t num,
		  uint64_t desc, uint64_t avail, uint64_t used,
		  uint64_t features, uint32_t flags);

#endif /* GUESTMEM_SAMPLES_H */
