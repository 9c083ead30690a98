//! A narrow slice of AWS RDS for cloud-provider handlers (the `faber:db/rds`
//! import, served in every contract version by `bindings`), confined to the
//! environment's own, planned resources (see [`access`]).

mod access;
mod aws;
mod plan;
mod scope;

pub use access::RdsAccess;
pub use aws::{port, sdk_config};
pub use plan::{Kind, Resource};
pub use scope::{MAX_IDENTIFIER, Scope, base_identifier};
