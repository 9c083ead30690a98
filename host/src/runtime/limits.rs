//! What one handler call may consume, and how a breach is recognised.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Linear memory, in bytes, summed over the component's memories.
    pub memory_bytes: usize,
    /// CPU budget: wasmtime fuel, roughly one unit per wasm instruction.
    pub fuel: u64,
    /// Wall-clock time for the whole call, host calls included.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory_bytes: 256 << 20,
            fuel: 20_000_000_000,
            timeout: Duration::from_secs(60),
        }
    }
}

/// Caps linear memory and remembers whether the cap was hit, so that the
/// trap it causes can be reported as "memory limit" rather than a crash.
pub struct MemoryLimiter {
    cap: usize,
    pub hit: bool,
}

impl MemoryLimiter {
    pub fn new(cap: usize) -> MemoryLimiter {
        MemoryLimiter { cap, hit: false }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.hit = true;
            // An error (rather than `Ok(false)`) traps at once instead of
            // letting the guest's allocator abort in its own way.
            return Err(wasmtime::format_err!(
                "memory limit of {} bytes reached",
                self.cap
            ));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
