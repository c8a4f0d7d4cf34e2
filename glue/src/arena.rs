//! The modules' allocator: the system allocator (dlmalloc), and, while a component runs, a bump
//! region that is emptied when the run ends.
//!
//! A run allocates a tree of its whole input (every earlier reply included), its typed values and
//! its output text, and frees all of it at the end. Served from a region that is emptied in one
//! step, nothing of that is freed piece by piece, and the input's tree is not even walked to be
//! dropped: those were 10 to 20 % of a component's time (profiled in Node at 250 cart lines).
//!
//! The rules that make it sound:
//! - `scoped` is the only way in; it hands back a copy of the run's output text made with the
//!   system allocator, so nothing allocated in the region outlives the run.
//! - No JS is called while the region serves allocations: wasm-bindgen's own bookkeeping (its
//!   table of JS values) is then never placed in it. `run` calls the engine before and after.
//! - A run that needs more than the region gets the rest from the system allocator, which frees
//!   it as usual; the next run gets a region twice the size it needed (up to `MAX_REGION`).
//! - A trap (a bug: components return errors, they do not panic) leaves a module unusable
//!   anyway; `scoped` still starts from an empty, inactive region.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

const FIRST_REGION: usize = 1 << 20;
const MAX_REGION: usize = 64 << 20;

pub struct RunArena {
    /// The region is `[start, end)`; `start == 0` before the first run.
    start: Cell<usize>,
    end: Cell<usize>,
    /// Where the next block goes.
    next: Cell<usize>,
    /// The last block handed out, which can grow in place.
    last: Cell<usize>,
    active: Cell<bool>,
    /// Bytes this run asked for beyond the region.
    overflow: Cell<usize>,
}

// wasm32 without threads: one caller at a time.
unsafe impl Sync for RunArena {}

impl Default for RunArena {
    fn default() -> Self {
        Self::new()
    }
}

impl RunArena {
    pub const fn new() -> Self {
        RunArena {
            start: Cell::new(0),
            end: Cell::new(0),
            next: Cell::new(0),
            last: Cell::new(0),
            active: Cell::new(false),
            overflow: Cell::new(0),
        }
    }

    /// The region starts serving allocations (emptied first, and grown if the last run needed
    /// more).
    pub fn begin(&self) {
        self.active.set(false);
        self.reset();
        self.active.set(true);
    }

    /// The region stops serving allocations; its blocks stay readable until the next `begin`.
    pub fn end(&self) {
        self.active.set(false);
    }

    /// Whether every block of this run is in the region (none came from the system allocator).
    pub fn contained(&self) -> bool {
        self.active.get() && self.overflow.get() == 0
    }

    /// Whether `ptr` is a block of the region.
    pub fn owns(&self, ptr: *mut u8) -> bool {
        (self.start.get()..self.end.get()).contains(&(ptr as usize))
    }

    fn bump(&self, layout: Layout) -> Option<*mut u8> {
        let aligned = self.next.get().checked_next_multiple_of(layout.align())?;
        let end = aligned.checked_add(layout.size())?;
        if self.start.get() == 0 || end > self.end.get() {
            return None;
        }
        self.next.set(end);
        self.last.set(aligned);
        Some(aligned as *mut u8)
    }

    /// Empties the region, replacing it by a larger one when the run overflowed it. Only while
    /// inactive: the region's old memory goes back to the system allocator.
    fn reset(&self) {
        let size = self.end.get() - self.start.get();
        let needed = (self.next.get() - self.start.get()).saturating_add(self.overflow.get());
        if self.start.get() == 0 || (needed > size && size < MAX_REGION) {
            let wanted = if self.start.get() == 0 {
                FIRST_REGION
            } else {
                needed.saturating_mul(2).min(MAX_REGION)
            };
            // SAFETY: the layouts are non-zero and 16-aligned; the old region is ours and empty.
            unsafe {
                if self.start.get() != 0 {
                    System.dealloc(self.start.get() as *mut u8, region_layout(size));
                }
                let start = System.alloc(region_layout(wanted)) as usize;
                let wanted = if start == 0 { 0 } else { wanted };
                self.start.set(start);
                self.end.set(start + wanted);
            }
        }
        self.next.set(self.start.get());
        self.last.set(0);
        self.overflow.set(0);
    }
}

fn region_layout(size: usize) -> Layout {
    Layout::from_size_align(size.max(16), 16).unwrap_or(Layout::new::<u128>())
}

// Not inlined: at opt-level 2 copies of these in every allocating function cost 3 KB gzip.
unsafe impl GlobalAlloc for RunArena {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.active.get() {
            if let Some(ptr) = self.bump(layout) {
                return ptr;
            }
            self.overflow
                .set(self.overflow.get().saturating_add(layout.size()));
        }
        System.alloc(layout)
    }

    #[inline(never)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // A block in the region is freed with the region.
        if !self.owns(ptr) {
            System.dealloc(ptr, layout)
        }
    }

    #[inline(never)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !self.owns(ptr) {
            return System.realloc(ptr, layout, new_size);
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // The last block grows where it is (a string or list being filled).
        if self.active.get() && ptr as usize == self.last.get() {
            if let Some(end) = (ptr as usize).checked_add(new_size) {
                if end <= self.end.get() {
                    self.next.set(end);
                    return ptr;
                }
            }
        }
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let new = self.alloc(new_layout);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size());
        }
        new
    }
}

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ARENA: RunArena = RunArena::new();

/// Runs `run` with its allocations served from the region and hands back its text, copied out
/// of the region with the system allocator before the region is emptied.
#[cfg(target_arch = "wasm32")]
pub fn scoped(run: impl FnOnce() -> String) -> String {
    ARENA.begin();
    let text = std::mem::ManuallyDrop::new(run());
    ARENA.end();
    // The copy is made with the system allocator; the original goes with the region (or, when
    // the system allocator served part of the run, is dropped the usual way).
    let copied = String::from(text.as_str());
    if ARENA.overflow.get() > 0 {
        drop(std::mem::ManuallyDrop::into_inner(text));
    }
    copied
}

/// The end of one of the run's values: when the region holds all of the run, nothing is freed
/// piece by piece (emptying the region frees it) and it is not walked to be dropped.
#[cfg(target_arch = "wasm32")]
pub fn release<T>(value: T) {
    if ARENA.contained() {
        std::mem::forget(value);
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub fn scoped(run: impl FnOnce() -> String) -> String {
    run()
}

#[cfg(not(target_arch = "wasm32"))]
pub fn release<T>(value: T) {
    drop(value);
}
