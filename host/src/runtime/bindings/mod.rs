//! Host bindings, one module per supported version of the `faber:db` WIT
//! package, so handlers built against an older compatible version keep
//! loading while the contract grows. `latest` is what new code uses.

pub mod v0_1_0;

pub use v0_1_0 as latest;
