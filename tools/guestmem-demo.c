// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem-demo: a short tour of /dev/guestmem for `make run`.
 *
 * Builds a guest physical address space of two regions with different
 * backings, writes one string across their boundary, reads it back through
 * an ioctl, pread() and mmap(), and shows how holes are reported.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/guestmem.h>

#define REGION_SIZE	0x10000ULL
#define GPA_A		0x100000ULL		/* VMALLOC region */
#define GPA_B		(GPA_A + REGION_SIZE)	/* USER region, adjacent */
#define GPA_HOLE	(GPA_B + REGION_SIZE)

static void die(const char *what)
{
	fprintf(stderr, "guestmem-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void show_regions(int fd)
{
	struct guestmem_region regions[8];
	struct guestmem_region_list list = {
		.count = 8, .regions = (uintptr_t)regions,
	};
	struct guestmem_info info;
	unsigned int i;

	if (ioctl(fd, GUESTMEM_GET_INFO, &info))
		die("GUESTMEM_GET_INFO");
	if (ioctl(fd, GUESTMEM_GET_REGIONS, &list))
		die("GUESTMEM_GET_REGIONS");
	printf("  space: %u regions, %" PRIu64 " KiB, generation %" PRIu64 "\n",
	       info.num_regions, (uint64_t)info.total_size >> 10,
	       (uint64_t)info.generation);
	for (i = 0; i < list.count && i < 8; i++)
		printf("  [%#010llx, %#010llx) %s\n",
		       (unsigned long long)regions[i].gpa,
		       (unsigned long long)(regions[i].gpa + regions[i].size),
		       regions[i].backing == GUESTMEM_BACKING_USER ?
		       "USER (pinned pages of this process)" :
		       "VMALLOC (kernel memory)");
}

int main(void)
{
	const char msg[] = "hello from both sides of a region boundary";
	uint64_t gpa = GPA_B - 16;	/* 16 bytes in A, the rest in B */
	struct guestmem_region region;
	struct guestmem_io io;
	char buf[64] = "";
	char *user, *map;
	off_t pos;
	int fd;

	printf("guestmem demo: one guest physical address space\n\n");
	fd = open("/dev/guestmem", O_RDWR);
	if (fd < 0)
		die("open /dev/guestmem");
	printf("1. open(\"/dev/guestmem\") gave an empty space\n");

	memset(&region, 0, sizeof(region));
	region.gpa = GPA_A;
	region.size = REGION_SIZE;
	region.backing = GUESTMEM_BACKING_VMALLOC;
	if (ioctl(fd, GUESTMEM_ADD_REGION, &region))
		die("GUESTMEM_ADD_REGION (vmalloc)");

	user = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (user == MAP_FAILED)
		die("mmap anonymous");
	memset(&region, 0, sizeof(region));
	region.gpa = GPA_B;
	region.size = REGION_SIZE;
	region.user_addr = (uintptr_t)user;
	region.backing = GUESTMEM_BACKING_USER;
	if (ioctl(fd, GUESTMEM_ADD_REGION, &region))
		die("GUESTMEM_ADD_REGION (user)");
	printf("2. added two adjacent regions with different backings:\n");
	show_regions(fd);

	memset(&io, 0, sizeof(io));
	io.gpa = gpa;
	io.len = sizeof(msg);
	io.buf = (uintptr_t)msg;
	if (ioctl(fd, GUESTMEM_WRITE, &io))
		die("GUESTMEM_WRITE");
	printf("\n3. GUESTMEM_WRITE of %zu bytes at %#llx (crosses %#llx): done=%llu\n",
	       sizeof(msg), (unsigned long long)gpa,
	       (unsigned long long)GPA_B, (unsigned long long)io.done);

	io.buf = (uintptr_t)buf;
	if (ioctl(fd, GUESTMEM_READ, &io))
		die("GUESTMEM_READ");
	printf("4. read back with GUESTMEM_READ:  \"%s\"\n", buf);

	memset(buf, 0, sizeof(buf));
	if (pread(fd, buf, sizeof(msg), gpa) != (ssize_t)sizeof(msg))
		die("pread");
	printf("   read back with pread():        \"%s\"\n", buf);

	map = mmap(NULL, 2 * REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, GPA_A);
	if (map == MAP_FAILED)
		die("mmap /dev/guestmem");
	printf("   read back through mmap():      \"%s\"\n", map + (gpa - GPA_A));
	printf("   and the USER region's own memory holds its part: \"%s\"\n",
	       user);

	memset(&io, 0, sizeof(io));
	io.gpa = GPA_HOLE - 8;
	io.len = 16;
	io.buf = (uintptr_t)buf;
	if (ioctl(fd, GUESTMEM_READ, &io) == 0 || errno != ENXIO)
		die("expected ENXIO");
	printf("\n5. an exact read of 16 bytes at %#llx runs into the hole at %#llx:\n"
	       "   ENXIO, done=%llu (nothing moved)\n",
	       (unsigned long long)io.gpa, (unsigned long long)GPA_HOLE,
	       (unsigned long long)io.done);
	io.flags = GUESTMEM_IO_PARTIAL;
	if (ioctl(fd, GUESTMEM_READ, &io))
		die("GUESTMEM_READ partial");
	printf("   with GUESTMEM_IO_PARTIAL: done=%llu (up to the hole)\n",
	       (unsigned long long)io.done);

	pos = lseek(fd, 0, SEEK_DATA);
	printf("6. lseek(SEEK_DATA, 0) = %#llx, ", (unsigned long long)pos);
	pos = lseek(fd, pos, SEEK_HOLE);
	printf("lseek(SEEK_HOLE) = %#llx\n", (unsigned long long)pos);

	munmap(map, 2 * REGION_SIZE);
	close(fd);
	printf("\n7. close() freed the space and unpinned the user pages. Done.\n");
	return 0;
}
