// SPDX-License-Identifier: GPL-2.0

//! Shared memory regions: guest memory the host sees (the IO space, GPADL
//! mappings of the loopback device) or, in tests, heap memory that stands in
//! for it. All accesses are bounds-checked copies; the guest may change the
//! bytes at any time, so nothing here hands out references into a region.

use std::io;

enum Owner {
    /// `mmap`ed from the loopback device; unmapped on drop.
    Mmap,
    /// Heap memory (tests).
    Heap(#[allow(dead_code)] Box<[u8]>),
}

/// A region of memory shared with the guest.
pub struct Region {
    ptr: *mut u8,
    len: usize,
    owner: Owner,
}

// SAFETY: the region is plain memory; every access is a bounds-checked
// copy through the raw pointer, and concurrent modification by the guest or
// by another host thread only changes byte values (like DMA by a GPU).
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

/// An access outside a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfBounds;

impl Region {
    /// A zeroed heap region of `len` bytes (tests, or host-private memory).
    pub fn heap(len: usize) -> Region {
        let mut b = vec![0u8; len].into_boxed_slice();
        let ptr = b.as_mut_ptr();
        Region {
            ptr,
            len,
            owner: Owner::Heap(b),
        }
    }

    /// Maps `len` bytes of `fd` at `offset`, shared and writable.
    pub fn mmap(fd: i32, offset: u64, len: usize) -> io::Result<Region> {
        if len == 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let off = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::from_raw_os_error(libc::EOVERFLOW))?;
        // SAFETY: a fresh shared mapping chosen by the kernel; no existing
        // memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                off,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Region {
            ptr: p.cast(),
            len,
            owner: Owner::Mmap,
        })
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if the region is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn check(&self, off: u64, n: usize) -> Result<usize, OutOfBounds> {
        let off = usize::try_from(off).map_err(|_| OutOfBounds)?;
        let end = off.checked_add(n).ok_or(OutOfBounds)?;
        if end > self.len {
            return Err(OutOfBounds);
        }
        Ok(off)
    }

    /// Copies `buf.len()` bytes at `off` into `buf`.
    pub fn read(&self, off: u64, buf: &mut [u8]) -> Result<(), OutOfBounds> {
        let o = self.check(off, buf.len())?;
        // SAFETY: `o + buf.len() <= len` (checked); the source is inside the
        // region, the destination is a distinct Rust buffer.
        unsafe { std::ptr::copy(self.ptr.add(o), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copies `data` to `off`.
    pub fn write(&self, off: u64, data: &[u8]) -> Result<(), OutOfBounds> {
        let o = self.check(off, data.len())?;
        // SAFETY: bounds checked as in `read`.
        unsafe { std::ptr::copy(data.as_ptr(), self.ptr.add(o), data.len()) };
        Ok(())
    }

    /// Sets `n` bytes at `off` to `value`.
    pub fn fill(&self, off: u64, n: usize, value: u8) -> Result<(), OutOfBounds> {
        let o = self.check(off, n)?;
        // SAFETY: bounds checked as in `read`.
        unsafe { std::ptr::write_bytes(self.ptr.add(o), value, n) };
        Ok(())
    }

    /// Reads a little-endian u64 at `off`.
    pub fn read_u64(&self, off: u64) -> Result<u64, OutOfBounds> {
        let mut b = [0u8; 8];
        self.read(off, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Writes a little-endian u64 at `off`.
    pub fn write_u64(&self, off: u64, v: u64) -> Result<(), OutOfBounds> {
        self.write(off, &v.to_le_bytes())
    }

    /// A copy of `n` bytes at `off`.
    pub fn to_vec(&self, off: u64, n: usize) -> Result<Vec<u8>, OutOfBounds> {
        let mut v = vec![0u8; n];
        self.read(off, &mut v)?;
        Ok(v)
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        if let Owner::Mmap = self.owner {
            // SAFETY: `ptr`/`len` came from a successful mmap and nothing
            // else refers to the mapping (accesses are copies).
            unsafe { libc::munmap(self.ptr.cast(), self.len) };
        }
    }
}

impl std::fmt::Debug for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Region({} bytes)", self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        let r = Region::heap(16);
        r.write(8, &[1, 2, 3]).unwrap();
        assert_eq!(r.to_vec(8, 3).unwrap(), vec![1, 2, 3]);
        assert_eq!(r.write(14, &[0; 3]), Err(OutOfBounds));
        assert_eq!(r.read(u64::MAX, &mut [0; 1]), Err(OutOfBounds));
        r.fill(0, 16, 7).unwrap();
        assert_eq!(r.read_u64(8).unwrap(), 0x0707_0707_0707_0707);
        assert_eq!(r.fill(1, 16, 0), Err(OutOfBounds));
    }
}
