//! The capabilities a handler can be granted, each a module that implements
//! its WIT imports. A handler gets those its world imports, bound to what the
//! host grants for the call (see [`super::Grant`]).

mod bookkeeping;
mod log;
mod script;
mod sql;
mod sql_policy;
