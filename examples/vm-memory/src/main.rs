// SPDX-License-Identifier: GPL-2.0
//! rust-vmm's vm-memory over a guestmem address space.
//!
//! A VMM opens /dev/guestmem, adds two adjacent regions (one VMALLOC, one
//! USER over a memfd) and builds a vm-memory `GuestMemoryMmap` over the fd,
//! one `FileOffset` per region at the region's GPA: vm-memory maps the fd
//! with MAP_SHARED at offset = GPA, after sizing it with lseek(SEEK_END),
//! which guestmem answers with the space's extent.  Then every `Bytes` and
//! `GuestMemory` call the example makes is checked against GUESTMEM_READ
//! and GUESTMEM_WRITE on the same fd, and an in-kernel writer (the sample
//! DMA device, /dev/guestmem_dma, if loaded) copies guest memory that
//! vm-memory then reads.
//!
//! Prints TAP ("ok N - ...", "not ok N - ...") and exits non-zero if any
//! check failed.  Usage: guestmem-vm-memory [--no-dma]

use std::fs::{File, OpenOptions};
use std::io;
use std::mem::size_of;
use std::os::unix::io::{AsRawFd, FromRawFd};

use vm_memory::{
    ByteValued, Bytes, FileOffset, GuestAddress, GuestMemory, GuestMemoryMmap,
    GuestMemoryRegion,
};

// ---- uapi/linux/guestmem.h -------------------------------------------------

const GUESTMEM_BACKING_VMALLOC: u32 = 0;
const GUESTMEM_BACKING_USER: u32 = 1;

#[repr(C)]
#[derive(Default)]
struct GuestmemRegion {
    gpa: u64,
    size: u64,
    user_addr: u64,
    backing: u32,
    flags: u32,
    reserved: [u64; 2],
}

#[repr(C)]
#[derive(Default)]
struct GuestmemIo {
    gpa: u64,
    len: u64,
    buf: u64,
    flags: u32,
    reserved: u32,
    done: u64,
}

// ---- samples/guestmem_dma.h ------------------------------------------------

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq)]
struct DmaRingHdr {
    avail_idx: u32, // little-endian in guest memory (x86: host order)
    used_idx: u32,
    reserved: [u32; 6],
}
// SAFETY: plain old data, no padding, any bit pattern is valid.
unsafe impl ByteValued for DmaRingHdr {}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq)]
struct DmaDesc {
    src: u64,
    dst: u64,
    len: u32,
    flags: u32,
    status: u32,
    reserved: u32,
}
// SAFETY: plain old data, no padding, any bit pattern is valid.
unsafe impl ByteValued for DmaDesc {}

#[repr(C)]
#[derive(Default)]
struct DmaBind {
    guestmem_fd: i32,
    ring_size: u32,
    ring_gpa: u64,
    flags: u32,
    reserved: [u32; 3],
}

#[repr(C)]
#[derive(Default)]
struct DmaKick {
    flags: u32,
    processed: u32,
    errors: u32,
    used_idx: u32,
    reserved: [u64; 2],
}

const DMA_STATUS_DONE: u32 = 1;

// _IOC(dir, type, nr, size) as <asm-generic/ioctl.h> builds it.
const fn ioc(dir: u64, nr: u64, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | (0xB9 << 8) | nr
}
const IOC_WRITE: u64 = 1;
const IOC_READ: u64 = 2;
const GUESTMEM_ADD_REGION: u64 = ioc(IOC_WRITE, 0x10, size_of::<GuestmemRegion>());
const GUESTMEM_READ: u64 = ioc(IOC_READ | IOC_WRITE, 0x20, size_of::<GuestmemIo>());
const GUESTMEM_WRITE: u64 = ioc(IOC_READ | IOC_WRITE, 0x21, size_of::<GuestmemIo>());
const GUESTMEM_DMA_BIND: u64 = ioc(IOC_WRITE, 0x80, size_of::<DmaBind>());
const GUESTMEM_DMA_KICK: u64 = ioc(IOC_READ | IOC_WRITE, 0x82, size_of::<DmaKick>());

fn ioctl<T>(fd: &File, cmd: u64, arg: &mut T) -> io::Result<()> {
    // SAFETY: arg is a live, properly sized struct for cmd.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), cmd as _, arg as *mut T) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn add_region(fd: &File, gpa: u64, size: u64, backing: u32, user_addr: u64) -> io::Result<()> {
    let mut r = GuestmemRegion {
        gpa,
        size,
        user_addr,
        backing,
        ..Default::default()
    };
    ioctl(fd, GUESTMEM_ADD_REGION, &mut r)
}

/// GUESTMEM_READ (exact): the bytes at [gpa, gpa + len).
fn gm_read(fd: &File, gpa: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut io = GuestmemIo {
        gpa,
        len: len as u64,
        buf: buf.as_mut_ptr() as u64,
        ..Default::default()
    };
    ioctl(fd, GUESTMEM_READ, &mut io)?;
    Ok(buf)
}

/// GUESTMEM_WRITE (exact).
fn gm_write(fd: &File, gpa: u64, data: &[u8]) -> io::Result<()> {
    let mut io = GuestmemIo {
        gpa,
        len: data.len() as u64,
        buf: data.as_ptr() as u64,
        ..Default::default()
    };
    ioctl(fd, GUESTMEM_WRITE, &mut io)
}

/// A byte pattern that differs at every GPA and for every seed.
fn pattern(gpa: u64, len: usize, seed: u8) -> Vec<u8> {
    (0..len as u64)
        .map(|i| {
            let g = gpa + i;
            (g ^ (g >> 8) ^ (g >> 16)).wrapping_mul(31).wrapping_add(seed as u64) as u8
        })
        .collect()
}

struct Tap {
    n: u32,
    failed: u32,
}

impl Tap {
    fn check(&mut self, ok: bool, what: &str) {
        self.n += 1;
        if ok {
            println!("ok {} - {}", self.n, what);
        } else {
            println!("not ok {} - {}", self.n, what);
            self.failed += 1;
        }
    }
}

// The space: two adjacent regions of different backings, holes around them.
const R0: u64 = 0x10_0000; // VMALLOC
const R1: u64 = 0x11_0000; // USER over a memfd
const RSIZE: u64 = 0x1_0000;
const END: u64 = R1 + RSIZE;

fn main() {
    let dma = !std::env::args().any(|a| a == "--no-dma");
    let mut t = Tap { n: 0, failed: 0 };

    let fd = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/guestmem")
        .expect("open /dev/guestmem");

    // A memfd the VMM owns, mapped shared: USER regions that vm-memory (or
    // anyone) maps through guestmem must not be private anonymous memory.
    // SAFETY: FFI calls with valid arguments; results checked.
    let user = unsafe {
        let mfd = libc::memfd_create(b"guest-ram\0".as_ptr() as *const libc::c_char, 0);
        assert!(mfd >= 0, "memfd_create: {}", io::Error::last_os_error());
        let memfd = File::from_raw_fd(mfd);
        memfd.set_len(RSIZE).expect("ftruncate memfd");
        let p = libc::mmap(
            std::ptr::null_mut(),
            RSIZE as usize,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            mfd,
            0,
        );
        assert!(p != libc::MAP_FAILED, "mmap memfd: {}", io::Error::last_os_error());
        p as u64
    };

    add_region(&fd, R0, RSIZE, GUESTMEM_BACKING_VMALLOC, 0).expect("ADD_REGION VMALLOC");
    add_region(&fd, R1, RSIZE, GUESTMEM_BACKING_USER, user).expect("ADD_REGION USER");

    // ---- what a VMM writes (README "From rust-vmm") ----
    let ranges = [R0, R1].map(|gpa| {
        let f = fd.try_clone().expect("dup");
        (GuestAddress(gpa), RSIZE as usize, Some(FileOffset::new(f, gpa)))
    });
    let mem: GuestMemoryMmap = match GuestMemoryMmap::from_ranges_with_files(&ranges) {
        Ok(m) => m,
        Err(e) => {
            t.check(false, &format!("GuestMemoryMmap over the space: {}", e));
            println!("1..{}", t.n);
            std::process::exit(1);
        }
    };
    t.check(true, "GuestMemoryMmap::from_ranges_with_files over /dev/guestmem");

    // ---- GuestMemory: the regions, found by address ----
    t.check(mem.num_regions() == 2, "num_regions() == 2");
    t.check(mem.last_addr() == GuestAddress(END - 1), "last_addr() is the space's last byte");
    let r0 = mem.find_region(GuestAddress(R0 + 0x123));
    t.check(
        r0.map(|r| (r.start_addr(), r.len())) == Some((GuestAddress(R0), RSIZE)),
        "find_region() in the VMALLOC region",
    );
    let r1 = mem.find_region(GuestAddress(END - 1));
    t.check(
        r1.map(|r| (r.start_addr(), r.len())) == Some((GuestAddress(R1), RSIZE)),
        "find_region() at the last byte of the USER region",
    );
    t.check(
        mem.find_region(GuestAddress(R0 - 1)).is_none() && mem.find_region(GuestAddress(END)).is_none(),
        "find_region() in the holes is None",
    );
    t.check(mem.address_in_range(GuestAddress(R1)), "address_in_range() at the boundary");

    // ---- Bytes: write_slice / read_slice, checked against the ioctls ----
    let a = R0 + 0x1000;
    let data = pattern(a, 4096, 1);
    let ok = mem.write_slice(&data, GuestAddress(a)).is_ok();
    t.check(ok && gm_read(&fd, a, data.len()).ok() == Some(data.clone()), "write_slice() lands where GUESTMEM_READ reads");

    let b = R1 + 0x2345;
    let data = pattern(b, 3000, 2);
    gm_write(&fd, b, &data).expect("GUESTMEM_WRITE");
    let mut buf = vec![0u8; data.len()];
    let ok = mem.read_slice(&mut buf, GuestAddress(b)).is_ok();
    t.check(ok && buf == data, "read_slice() sees what GUESTMEM_WRITE wrote (USER region)");

    // Across the boundary between the two regions (two backings).
    let x = R1 - 1000;
    let data = pattern(x, 3000, 3);
    let ok = mem.write_slice(&data, GuestAddress(x)).is_ok();
    t.check(ok && gm_read(&fd, x, data.len()).ok() == Some(data.clone()), "write_slice() across the region boundary");
    let data = pattern(x, 3000, 4);
    gm_write(&fd, x, &data).expect("GUESTMEM_WRITE");
    let mut buf = vec![0u8; data.len()];
    let ok = mem.read_slice(&mut buf, GuestAddress(x)).is_ok();
    t.check(ok && buf == data, "read_slice() across the region boundary");

    // ---- Bytes: read_obj / write_obj ----
    let v: u64 = 0x0123_4567_89ab_cdef;
    let ok = mem.write_obj(v, GuestAddress(R0 + 0x40)).is_ok();
    t.check(
        ok && gm_read(&fd, R0 + 0x40, 8).ok() == Some(v.to_ne_bytes().to_vec()),
        "write_obj::<u64>() as GUESTMEM_READ sees it",
    );
    let w: u64 = 0xfeed_f00d_dead_beef;
    gm_write(&fd, R1 - 4, &w.to_ne_bytes()).expect("GUESTMEM_WRITE");
    t.check(
        mem.read_obj::<u64>(GuestAddress(R1 - 4)).ok() == Some(w),
        "read_obj::<u64>() across the region boundary",
    );
    let d = DmaDesc { src: 1, dst: 2, len: 3, flags: 4, status: 5, reserved: 6 };
    let ok = mem.write_obj(d, GuestAddress(R1 - 16)).is_ok();
    t.check(
        ok && gm_read(&fd, R1 - 16, 32).ok() == Some(d.as_slice().to_vec()),
        "write_obj() of a 32-byte struct across the boundary",
    );
    t.check(mem.read_obj::<DmaDesc>(GuestAddress(R1 - 16)).ok() == Some(d), "read_obj() of the struct");

    // ---- get_slice (0.10: within one region) ----
    let s = R0 + 0x8000;
    match mem.get_slice(GuestAddress(s), 256) {
        Ok(vs) => {
            let data = pattern(s, 256, 5);
            vs.copy_from(&data);
            t.check(gm_read(&fd, s, 256).ok() == Some(data), "get_slice(): a VolatileSlice's writes reach GUESTMEM_READ");
            let data = pattern(s, 256, 6);
            gm_write(&fd, s, &data).expect("GUESTMEM_WRITE");
            let mut buf = vec![0u8; 256];
            vs.copy_to(&mut buf[..]);
            t.check(buf == data, "get_slice(): the slice sees GUESTMEM_WRITE");
        }
        Err(e) => {
            t.check(false, &format!("get_slice(): {}", e));
            t.check(false, "get_slice(): the slice sees GUESTMEM_WRITE");
        }
    }
    t.check(mem.get_slice(GuestAddress(R1 - 8), 16).is_err(), "get_slice() across regions is refused (0.10)");

    // The host address vm-memory hands a device model is the mapping.
    let h = R1 + 0x10;
    match mem.get_host_address(GuestAddress(h)) {
        Ok(p) => {
            // SAFETY: p points into vm-memory's live mapping of the region.
            unsafe { std::ptr::write_volatile(p, 0x5a) };
            t.check(gm_read(&fd, h, 1).ok() == Some(vec![0x5a]), "get_host_address(): stores reach guest memory");
        }
        Err(e) => t.check(false, &format!("get_host_address(): {}", e)),
    }

    // ---- holes: vm-memory and the ioctls agree ----
    let mut buf = [0u8; 16];
    let vm_err = mem.read_slice(&mut buf, GuestAddress(END - 8)).is_err();
    let gm_err = gm_read(&fd, END - 8, 16).err().and_then(|e| e.raw_os_error());
    t.check(vm_err && gm_err == Some(libc::ENXIO), "an access into the hole above fails in both");
    t.check(mem.write_obj(1u32, GuestAddress(R0 - 4)).is_err(), "write_obj() into the hole below fails");

    // ---- an in-kernel writer: the sample DMA device ----
    if dma {
        dma_check(&mut t, &fd, &mem);
    } else {
        println!("# DMA device not used (--no-dma)");
    }

    println!("1..{}", t.n);
    println!("# vm-memory example: {} passed, {} failed", t.n - t.failed, t.failed);
    std::process::exit(if t.failed == 0 { 0 } else { 1 });
}

/// The DMA copy engine copies guest memory in the kernel (guestmem's
/// in-kernel API): vm-memory builds the ring and sees the copy.
fn dma_check(t: &mut Tap, fd: &File, mem: &GuestMemoryMmap) {
    let dev = match OpenOptions::new().read(true).write(true).open("/dev/guestmem_dma") {
        Ok(f) => f,
        Err(e) => {
            t.check(false, &format!("open /dev/guestmem_dma: {}", e));
            return;
        }
    };
    let ring = R0; // header, then 8 descriptors
    let src = R0 + 0x4000;
    let dst = R1 - 0x800; // the copy crosses into the USER region
    let len = 0x1000u32;

    mem.write_obj(DmaRingHdr::default(), GuestAddress(ring)).expect("ring header");
    let mut bind = DmaBind {
        guestmem_fd: fd.as_raw_fd(),
        ring_size: 8,
        ring_gpa: ring,
        ..Default::default()
    };
    if let Err(e) = ioctl(&dev, GUESTMEM_DMA_BIND, &mut bind) {
        t.check(false, &format!("GUESTMEM_DMA_BIND: {}", e));
        return;
    }
    let data = pattern(src, len as usize, 7);
    mem.write_slice(&data, GuestAddress(src)).expect("source");
    mem.write_slice(&vec![0u8; len as usize], GuestAddress(dst)).expect("clear destination");
    let desc = DmaDesc { src: src.to_le(), dst: dst.to_le(), len: len.to_le(), ..Default::default() };
    mem.write_obj(desc, GuestAddress(ring + 32)).expect("descriptor");
    mem.write_obj(1u32.to_le(), GuestAddress(ring)).expect("avail_idx");

    let mut kick = DmaKick::default();
    let ok = ioctl(&dev, GUESTMEM_DMA_KICK, &mut kick).is_ok();
    t.check(ok && kick.processed == 1 && kick.errors == 0, "DMA device processes the descriptor vm-memory wrote");

    let hdr: DmaRingHdr = mem.read_obj(GuestAddress(ring)).unwrap_or_default();
    t.check(u32::from_le(hdr.used_idx) == 1, "vm-memory sees the device's used_idx");
    let done: DmaDesc = mem.read_obj(GuestAddress(ring + 32)).unwrap_or_default();
    t.check(u32::from_le(done.status) == DMA_STATUS_DONE, "vm-memory sees the descriptor's status DONE");
    let mut buf = vec![0u8; len as usize];
    let ok = mem.read_slice(&mut buf, GuestAddress(dst)).is_ok();
    t.check(ok && buf == data, "vm-memory reads the bytes the device copied (across the boundary)");
    t.check(gm_read(fd, dst, len as usize).ok() == Some(data), "GUESTMEM_READ agrees");
}
