//! Host bindings, one module per supported version of the `faber:db` WIT
//! package, so handlers built against an older version keep loading while
//! the contract grows. `latest` is what the host itself works with; older
//! modules adapt to it.

mod legacy;
pub mod v0_1_0;
pub mod v0_2_0;
pub mod v0_3_0;

pub use v0_3_0 as latest;

/// The package versions the host loads, per world.
pub const MIGRATION_TOOL_VERSIONS: &[&str] = &[
    v0_1_0::WIT_VERSION,
    v0_2_0::WIT_VERSION,
    v0_3_0::WIT_VERSION,
];
pub const CLOUD_PROVIDER_VERSIONS: &[&str] = &[v0_2_0::WIT_VERSION, v0_3_0::WIT_VERSION];
