// SPDX-License-Identifier: GPL-2.0
/*
 * The sample devices, as the tests drive them: see samples.h.
 */
#include <endian.h>

#include "guestmem_util.h"
#include "samples.h"

int sample_load(const char *dev, const char *ko)
{
	char cmd[300];

	if (!access(dev, F_OK))
		return 0;
	if (access(ko, R_OK))
		return -ENOENT;
	snprintf(cmd, sizeof(cmd), "insmod %s", ko);
	if (system(cmd))
		return -EIO;
	return access(dev, F_OK) ? -ENODEV : 0;
}

int sample_open(const char *dev, const char *ko)
{
	int ret = sample_load(dev, ko);

	if (ret)
		return ret;
	ret = open(dev, O_RDWR | O_CLOEXEC);
	return ret < 0 ? -errno : ret;
}

int dma_bind(int dma, int gm, uint64_t ring, uint32_t size)
{
	struct guestmem_dma_bind b;

	memset(&b, 0, sizeof(b));
	b.guestmem_fd = gm;
	b.ring_size = size;
	b.ring_gpa = ring;
	return gm_ioctl(dma, GUESTMEM_DMA_BIND, &b);
}

struct guestmem_dma_desc dma_desc(uint64_t src, uint64_t dst, uint32_t len,
				  uint32_t flags)
{
	struct guestmem_dma_desc d;

	memset(&d, 0, sizeof(d));
	d.src = htole64(src);
	d.dst = htole64(dst);
	d.len = htole32(len);
	d.flags = htole32(flags);
	d.status = htole32(GUESTMEM_DMA_STATUS_PENDING);
	return d;
}

int vq_bind_queue(int dev, int gm, int kick, int call, uint32_t num,
		  uint64_t desc, uint64_t avail, uint64_t used,
		  uint64_t features, uint32_t flags)
{
	struct guestmem_vq_bind b;

	memset(&b, 0, sizeof(b));
	b.guestmem_fd = gm;
	b.kick_fd = kick;
	b.call_fd = call;
	b.num = num;
	b.features = features;
	b.desc_gpa = desc;
	b.avail_gpa = avail;
	b.used_gpa = used;
	b.flags = flags;
	return gm_ioctl(dev, GUESTMEM_VQ_BIND, &b);
}
