/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * guestmem_dma: the ABI of the sample DMA copy engine (samples/guestmem_dma.c).
 *
 * The device is /dev/guestmem_dma.  Each open file is one device instance.
 * User space (the "driver") binds it to a guestmem address space and to a
 * descriptor ring in that space's guest memory with GUESTMEM_DMA_BIND, fills
 * descriptors by GPA (GUESTMEM_WRITE, write()/pwrite() or mmap of the
 * /dev/guestmem fd), publishes them by advancing the ring header's avail_idx
 * and kicks the device (GUESTMEM_DMA_KICK, or a 4-byte write() of the new
 * avail_idx to the device file).  The device then processes every descriptor
 * from its consumer index up to avail_idx: it copies len bytes from src to
 * dst (guest to guest, across regions), stores the descriptor's completion
 * status atomically and finally publishes its progress in used_idx.
 *
 * Guest memory layout at the ring's GPA (all fields little-endian):
 *
 *	struct guestmem_dma_ring_hdr	header;		(32 bytes)
 *	struct guestmem_dma_desc	desc[ring_size];	(32 bytes each)
 *
 * Indices are free-running 32-bit counters: descriptor i lives in slot
 * i & (ring_size - 1).  The driver may have at most ring_size descriptors
 * outstanding: avail_idx - used_idx <= ring_size (modulo 2^32).
 */
#ifndef _UAPI_GUESTMEM_DMA_H
#define _UAPI_GUESTMEM_DMA_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Alignment of the ring's GPA, and size of the header and of a descriptor. */
#define GUESTMEM_DMA_RING_ALIGN		32
/* Largest ring, in descriptors (a power of two). */
#define GUESTMEM_DMA_RING_MAX		32768
/* Largest number of bytes one descriptor may copy. */
#define GUESTMEM_DMA_MAX_LEN		0x1000000U	/* 16 MiB */

/* Completion status: 0 while pending (written by the driver), then ... */
#define GUESTMEM_DMA_STATUS_PENDING	0
#define GUESTMEM_DMA_STATUS_DONE	1
/* ... or an error: a negative errno as __u32, e.g. (__u32)-ENXIO. */

/**
 * struct guestmem_dma_ring_hdr - ring header in guest memory
 * @avail_idx: written by the driver: the number of descriptors it has made
 *	available since the ring was created (free-running, modulo 2^32).
 *	Descriptors must be fully written before avail_idx covers them.
 * @used_idx: written by the device: the number of descriptors it has
 *	completed; every descriptor before used_idx has its final status.
 * @reserved: ignored by the device; the driver should zero it.
 *
 * Lies at the ring's GPA, inside a single region of the space (the device
 * keeps a cached translation of it).
 */
struct guestmem_dma_ring_hdr {
	__le32 avail_idx;
	__le32 used_idx;
	__le32 reserved[6];
};

/**
 * struct guestmem_dma_desc - one copy request in guest memory
 * @src: GPA of the first byte to copy
 * @dst: GPA of the first byte to write; the ranges may overlap (memmove)
 * @len: bytes to copy, at most %GUESTMEM_DMA_MAX_LEN; 0 completes at once
 * @flags: must be 0 (no flag is defined yet)
 * @status: written by the device with a 4-byte atomic store when the
 *	descriptor completes: %GUESTMEM_DMA_STATUS_DONE, or a negative errno
 *	(as __u32): -EINVAL (non-zero @flags or @reserved, @len too large),
 *	-EOVERFLOW (a range wraps past 2^64), -ENXIO (a byte of either range is
 *	unbacked), -EACCES (the destination is read-only).  On error nothing
 *	was copied.
 * @reserved: must be 0
 */
struct guestmem_dma_desc {
	__le64 src;
	__le64 dst;
	__le32 len;
	__le32 flags;
	__le32 status;
	__le32 reserved;
};

/**
 * struct guestmem_dma_bind - argument of %GUESTMEM_DMA_BIND
 * @guestmem_fd: an open /dev/guestmem descriptor of the calling process
 * @ring_size: number of descriptors: a power of two, 1 to
 *	%GUESTMEM_DMA_RING_MAX
 * @ring_gpa: GPA of the ring header, aligned to %GUESTMEM_DMA_RING_ALIGN;
 *	the header must be backed, inside one region; the descriptors that
 *	follow it are looked up when processed
 * @flags: must be 0
 * @reserved: must be 0
 *
 * The device takes its own reference on the space: it stays usable after
 * @guestmem_fd is closed, until the device file is released, unbound or
 * bound again.  The device's consumer index starts at the header's current
 * used_idx.
 */
struct guestmem_dma_bind {
	__s32 guestmem_fd;
	__u32 ring_size;
	__u64 ring_gpa;
	__u32 flags;
	__u32 reserved[3];
};

/**
 * struct guestmem_dma_kick - argument of %GUESTMEM_DMA_KICK
 * @flags: in: must be 0
 * @processed: out: descriptors completed by this kick (with any status)
 * @errors: out: how many of them completed with an error status
 * @used_idx: out: the device's consumer index after the kick (the value
 *	published in the ring header's used_idx)
 * @reserved: in: must be 0; out: zeroed
 */
struct guestmem_dma_kick {
	__u32 flags;
	__u32 processed;
	__u32 errors;
	__u32 used_idx;
	__u64 reserved[2];
};

/**
 * struct guestmem_dma_info - argument of %GUESTMEM_DMA_GET_INFO
 * @ring_gpa: out: GPA of the ring header (0 when unbound)
 * @ring_size: out: descriptors in the ring (0 when unbound)
 * @next_idx: out: the device's consumer index (next descriptor to process)
 * @completed: out: descriptors completed since the last bind
 * @errors: out: how many of them completed with an error status
 * @reserved: out: zeroed
 */
struct guestmem_dma_info {
	__u64 ring_gpa;
	__u32 ring_size;
	__u32 next_idx;
	__u64 completed;
	__u64 errors;
	__u64 reserved[4];
};

/*
 * ioctls of /dev/guestmem_dma, in guestmem's ioctl type 0xB9 (numbers 0x80
 * and up are the sample's).
 *
 * GUESTMEM_DMA_BIND: bind (or re-bind) the device to a space and a ring;
 *	any previous binding is dropped.  EINVAL (flags, reserved, ring size
 *	or alignment; @guestmem_fd not a /dev/guestmem file), EBADF (not an
 *	open descriptor, or one opened without write access: the device
 *	writes guest memory), EOVERFLOW (ring wraps past 2^64), ENXIO (the header
 *	is not backed inside one region).
 * GUESTMEM_DMA_UNBIND: drop the binding (and the space reference), if any.
 * GUESTMEM_DMA_KICK: process descriptors up to the header's avail_idx.
 *	Errors of individual descriptors go to their status words; the ioctl
 *	itself fails only for the device: ENOTCONN (not bound), EINVAL
 *	(flags, reserved), EPROTO (avail_idx is more than ring_size ahead of
 *	the consumer index; nothing processed), ENXIO/EACCES (the ring header,
 *	a descriptor or a status word is unbacked or read-only: processing
 *	stops there), EINTR (fatal signal).  On those late errors the output
 *	fields still describe the work done.
 * GUESTMEM_DMA_GET_INFO: the binding and the device's counters.
 *
 * write(fd, &idx, 4) with a __u32 in host byte order is a doorbell carrying
 * data: the device stores idx as the header's avail_idx, then processes as
 * GUESTMEM_DMA_KICK does; it returns 4 or the kick's error (EINVAL for a
 * count other than 4 or an idx more than ring_size ahead of the consumer
 * index).
 */
#define GUESTMEM_DMA_BIND	_IOW(0xB9, 0x80, struct guestmem_dma_bind)
#define GUESTMEM_DMA_UNBIND	_IO(0xB9, 0x81)
#define GUESTMEM_DMA_KICK	_IOWR(0xB9, 0x82, struct guestmem_dma_kick)
#define GUESTMEM_DMA_GET_INFO	_IOR(0xB9, 0x83, struct guestmem_dma_info)

#endif /* _UAPI_GUESTMEM_DMA_H */
