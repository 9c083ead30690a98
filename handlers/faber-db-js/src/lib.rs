//! A JavaScript engine for handlers whose migrations are JavaScript
//! (TypeORM's classes, sequelize-cli's modules): Boa, a JavaScript
//! interpreter written in Rust, compiled into the handler's component.
//! Migration files load as Node.js loads them, with the tool's stand-ins
//! for its own module and nothing else of Node.js; their SQL goes to the
//! host's `sql` capability or to a recording.

mod engine;
pub mod statements;

pub use boa_engine::{JsObject, JsValue};
pub use engine::{Engine, Session, Tool, sha1_hex_of};
