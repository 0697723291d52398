/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestmem tracepoints: region add and remove, mmap faults, failed accesses.
 * Enable with e.g. `echo 1 > /sys/kernel/tracing/events/guestmem/enable`.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM guestmem

#if !defined(_GUESTMEM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GUESTMEM_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(guestmem_region_add,
	    TP_PROTO(unsigned int space, u64 gpa, u64 size, u32 backing,
		     u32 flags, int ret),
	    TP_ARGS(space, gpa, size, backing, flags, ret),
	    TP_STRUCT__entry(__field(unsigned int, space)
			     __field(u64, gpa)
			     __field(u64, size)
			     __field(u32, backing)
			     __field(u32, flags)
			     __field(int, ret)),
	    TP_fast_assign(__entry->space = space;
			   __entry->gpa = gpa;
			   __entry->size = size;
			   __entry->backing = backing;
			   __entry->flags = flags;
			   __entry->ret = ret;),
	    TP_printk("space=%u gpa=%#llx size=%#llx backing=%u flags=%#x ret=%d",
		      __entry->space, __entry->gpa, __entry->size,
		      __entry->backing, __entry->flags, __entry->ret)
);

TRACE_EVENT(guestmem_region_remove,
	    TP_PROTO(unsigned int space, u64 gpa, u64 size, int ret),
	    TP_ARGS(space, gpa, size, ret),
	    TP_STRUCT__entry(__field(unsigned int, space)
			     __field(u64, gpa)
			     __field(u64, size)
			     __field(int, ret)),
	    TP_fast_assign(__entry->space = space;
			   __entry->gpa = gpa;
			   __entry->size = size;
			   __entry->ret = ret;),
	    TP_printk("space=%u gpa=%#llx size=%#llx ret=%d", __entry->space,
		      __entry->gpa, __entry->size, __entry->ret)
);

TRACE_EVENT(guestmem_mmap_fault,
	    TP_PROTO(unsigned int space, u64 gpa, bool write,
		     unsigned int result),
	    TP_ARGS(space, gpa, write, result),
	    TP_STRUCT__entry(__field(unsigned int, space)
			     __field(u64, gpa)
			     __field(bool, write)
			     __field(unsigned int, result)),
	    TP_fast_assign(__entry->space = space;
			   __entry->gpa = gpa;
			   __entry->write = write;
			   __entry->result = result;),
	    TP_printk("space=%u gpa=%#llx %s result=%#x", __entry->space,
		      __entry->gpa, __entry->write ? "write" : "read",
		      __entry->result)
);

TRACE_EVENT(guestmem_access_error,
	    TP_PROTO(unsigned int space, u64 gpa, u64 len, bool write, int err),
	    TP_ARGS(space, gpa, len, write, err),
	    TP_STRUCT__entry(__field(unsigned int, space)
			     __field(u64, gpa)
			     __field(u64, len)
			     __field(bool, write)
			     __field(int, err)),
	    TP_fast_assign(__entry->space = space;
			   __entry->gpa = gpa;
			   __entry->len = len;
			   __entry->write = write;
			   __entry->err = err;),
	    TP_printk("space=%u gpa=%#llx len=%#llx %s err=%d", __entry->space,
		      __entry->gpa, __entry->len,
		      __entry->write ? "write" : "read", __entry->err)
);

#endif /* _GUESTMEM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
