//! The per-call store data: the WASI sandbox and the granted capabilities.

use std::path::PathBuf;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::contract::RdsError;
use super::folder_budget::FolderBudget;
use super::limits::MemoryLimiter;
use super::rds::RdsAccess;
pub use super::scripts::{PartlyRun, ScriptSession, Scripts};
use crate::db::Database;

/// What the host grants one call beyond the bare sandbox.
#[derive(Default)]
pub struct Grant {
    /// A host directory and the path the guest sees it at.
    pub directory: Option<(PathBuf, String)>,
    /// The directory may be read, not changed (a call that only reads).
    pub directory_read_only: bool,
    /// The one database the `sql` capability runs statements on.
    pub database: Option<Database>,
    /// The `rds` capability, confined to one environment's resources.
    pub rds: Option<RdsAccess>,
    /// The `migration-script` capability: where the scripts are, and the
    /// session they run on.
    pub scripts: Option<Scripts>,
}

/// How much of the guest's stderr is kept to explain a crash.
const STDERR_CAPTURE: usize = 64 * 1024;

/// What became of a call's statements, counted by the host whatever the
/// handler did with the errors.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SqlTally {
    pub statements: u32,
    /// Refused by the host before reaching the database.
    pub refused: u32,
    /// Sent, and refused by the database for lack of a privilege.
    pub denied: u32,
}

impl SqlTally {
    /// Counts `other`'s statements too.
    pub fn add(&mut self, other: SqlTally) {
        self.statements += other.statements;
        self.refused += other.refused;
        self.denied += other.denied;
    }
}

pub struct HandlerState {
    pub handler: String,
    pub limiter: MemoryLimiter,
    pub database: Option<Database>,
    pub rds: Option<RdsAccess>,
    pub scripts: Option<Scripts>,
    pub sql: SqlTally,
    /// Bytes of `log` messages this call; past the cap they are dropped.
    pub log_bytes: usize,
    /// What the call may still add to its granted directory.
    pub folder_budget: Option<FolderBudget>,
    wasi: WasiCtx,
    table: ResourceTable,
    stderr: MemoryOutputPipe,
}

impl HandlerState {
    pub fn new(handler: &str, grant: Grant, memory_bytes: usize) -> wasmtime::Result<HandlerState> {
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE);
        let mut wasi = WasiCtxBuilder::new();
        // Deny by default, stated rather than assumed: a future default that
        // grants more must not widen the sandbox silently.
        wasi.allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .stderr(stderr.clone())
            // One handler call runs at a time, so a file operation may block
            // this thread; handing each to Tokio's blocking pool instead cost
            // a thread hop per stat (5× the init time with 1000 migrations).
            .allow_blocking_current_thread(true);
        let mut folder_budget = None;
        if let Some((host, guest)) = &grant.directory {
            // A folder the call cannot write needs no budget (measuring it
            // walks the whole folder, at every call).
            if grant.directory_read_only {
                wasi.preopened_dir(host, guest, FsPerms::ReadOnly)?;
            } else {
                wasi.preopened_dir(host, guest, FsPerms::ReadWrite)?;
                folder_budget = Some(FolderBudget::new(host));
            }
        }
        Ok(HandlerState {
            handler: handler.to_owned(),
            limiter: MemoryLimiter::new(memory_bytes),
            database: grant.database,
            rds: grant.rds,
            scripts: grant.scripts,
            sql: SqlTally::default(),
            log_bytes: 0,
            folder_budget,
            wasi: wasi.build(),
            table: ResourceTable::new(),
            stderr,
        })
    }

    /// The `rds` access granted to this call, or the handler's refusal.
    pub fn rds(&self) -> Result<&RdsAccess, RdsError> {
        self.rds.as_ref().ok_or_else(|| {
            RdsError::AccessDenied("the RDS capability was not granted to this call".to_owned())
        })
    }

    /// What the guest wrote to stderr (a panic message, typically), trimmed.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_owned()
    }
}

impl WasiView for HandlerState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
