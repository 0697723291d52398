/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * guestmem_vq: the ABI of the sample virtqueue copy device
 * (samples/guestmem_vq.c).
 *
 * The device is /dev/guestmem_vq; each open file is one device instance
 * with one virtio 1.x split virtqueue in a guestmem space.  The VMM (or a
 * test playing the guest) lays the descriptor table, avail ring and used
 * ring out in guest memory and binds the device to them, to a kick eventfd
 * (a guest doorbell through KVM_IOEVENTFD, or a process's write(2)) and to
 * an interrupt eventfd (KVM_IRQFD, or a process's read(2)).  A kick runs the
 * device in a kernel worker, which serves every available chain and
 * signals the interrupt eventfd as the driver asked (VRING_AVAIL_F_NO_INTERRUPT
 * or, with EVENT_IDX, used_event).  One run serves at most 256 chains or
 * 512 KiB of writes, signals, and leaves the rest to the next run it
 * queues (with kicks still disabled, as after any kick).
 *
 * A request is one descriptor chain (all fields little-endian):
 *
 *	readable:  struct guestmem_vq_req_hdr, then the payload
 *	writable:  room for the payload, then one status byte (the last
 *		   writable byte of the chain)
 *
 * %GUESTMEM_VQ_REQ_COPY copies the payload into the writable buffers; the
 * used entry's len is the payload length + 1 on success, 1 when only the
 * status was written, 0 when not even the status could be.
 *
 * A malformed ring (see guestmem_vq_broken() in
 * include/linux/guestmem_device.h) breaks the queue: the device stops,
 * signals the interrupt eventfd once, and reports the reason in
 * &guestmem_vq_status.broken until it is bound again.
 */
#ifndef _UAPI_GUESTMEM_VQ_H
#define _UAPI_GUESTMEM_VQ_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define GUESTMEM_VQ_REQ_COPY		1

/* The status byte. */
#define GUESTMEM_VQ_S_OK		0
#define GUESTMEM_VQ_S_IOERR		1	/* a buffer unbacked or read-only */
#define GUESTMEM_VQ_S_UNSUPP		2	/* bad type, reserved or sizes */

/* Largest payload of one request. */
#define GUESTMEM_VQ_MAX_PAYLOAD		0x100000U	/* 1 MiB */

/**
 * struct guestmem_vq_req_hdr - the first readable bytes of a request
 * @type: %GUESTMEM_VQ_REQ_COPY
 * @reserved: must be 0
 */
struct guestmem_vq_req_hdr {
	__le32 type;
	__le32 reserved;
};

/* Feature bits of &guestmem_vq_bind.features (the virtio bit numbers). */
#define GUESTMEM_VQ_FEAT_INDIRECT_DESC	0x10000000ULL	/* bit 28 */
#define GUESTMEM_VQ_FEAT_EVENT_IDX	0x20000000ULL	/* bit 29 */

/* &guestmem_vq_bind.flags: resume at the ring's used->idx, not at 0. */
#define GUESTMEM_VQ_BIND_RESUME		0x1U

/**
 * struct guestmem_vq_bind - argument of %GUESTMEM_VQ_BIND
 * @guestmem_fd: an open /dev/guestmem descriptor with write access
 * @kick_fd: an eventfd whose signals kick the device, or -1
 * @call_fd: an eventfd the device signals, or -1
 * @num: queue size, a power of two from 1 to 32768
 * @features: %GUESTMEM_VQ_FEAT_* negotiated
 * @desc_gpa: GPA of the descriptor table (16-byte aligned)
 * @avail_gpa: GPA of the avail ring (2-byte aligned)
 * @used_gpa: GPA of the used ring (4-byte aligned)
 * @flags: %GUESTMEM_VQ_BIND_RESUME, or 0 for a queue fresh from reset
 * @reserved: must be 0
 *
 * The device takes references of its own on the space and the eventfds;
 * the descriptors may be closed afterwards.
 */
struct guestmem_vq_bind {
	__s32 guestmem_fd;
	__s32 kick_fd;
	__s32 call_fd;
	__u32 num;
	__u64 features;
	__u64 desc_gpa;
	__u64 avail_gpa;
	__u64 used_gpa;
	__u32 flags;
	__u32 reserved[3];
};

/**
 * struct guestmem_vq_status - argument of %GUESTMEM_VQ_GET_STATUS
 * @bound: 1 while bound
 * @broken: 0, or the negative errno that broke the queue
 * @requests: chains completed since the bind
 * @errors: how many of them with a status other than %GUESTMEM_VQ_S_OK
 * @interrupts: interrupt eventfd signals since the bind
 * @last_avail: the next avail entry the device pops
 * @used_idx: the used->idx the device published last
 * @reserved: zeroed
 */
struct guestmem_vq_status {
	__u32 bound;
	__s32 broken;
	__u64 requests;
	__u64 errors;
	__u64 interrupts;
	__u16 last_avail;
	__u16 used_idx;
	__u32 reserved[5];
};

/*
 * ioctls of /dev/guestmem_vq (guestmem's type 0xB9; 0x90 and up are this
 * sample's).
 *
 * GUESTMEM_VQ_BIND: drop any previous binding, then bind.  EINVAL (flags,
 *	reserved, features, size, alignment; not a /dev/guestmem file or not
 *	an eventfd), EBADF (a descriptor not open, or the space's opened
 *	without write access), EOVERFLOW (a ring wraps past 2^64), ENXIO
 *	(RESUME with the used ring unbacked), ENOMEM.  A failed BIND leaves
 *	the device unbound.
 * GUESTMEM_VQ_UNBIND: drop the binding.  Kicks that reached the device
 *	before the call are served before it returns.
 * GUESTMEM_VQ_GET_STATUS: the binding's state and counters.
 * GUESTMEM_VQ_FLUSH: wait until the device's run queued by the kicks
 *	before the call has finished (a write(2) to the kick eventfd queues
 *	it before returning); for tests.  A run that queued itself again (it
 *	serves a bounded number of chains or bytes) may still be pending.
 */
#define GUESTMEM_VQ_BIND	_IOW(0xB9, 0x90, struct guestmem_vq_bind)
#define GUESTMEM_VQ_UNBIND	_IO(0xB9, 0x91)
#define GUESTMEM_VQ_GET_STATUS	_IOR(0xB9, 0x92, struct guestmem_vq_status)
#define GUESTMEM_VQ_FLUSH	_IO(0xB9, 0x93)

#endif /* _UAPI_GUESTMEM_VQ_H */
