//! Turning a component into native code for this machine: the one-time cost
//! of a handler's first use (the result is kept in the compile cache). A
//! Rust handler of a few hundred KB compiles in well under a second; an
//! interpreted one (Python through componentize-py, ~19 MB) takes tens of
//! seconds, so that phase is shown while it runs on a terminal, logged, and
//! timed for the report, instead of passing as a silent pause in whichever
//! step first needs the handler.

use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::failure::{Failure, Outcome};

/// Which of wasmtime's compilers made a component's native code: Cranelift
/// optimizes (the bundled handlers' code, built into faber-db), Winch
/// compiles fast (a third-party handler's first use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compiler {
    Cranelift,
    Winch,
}

impl Compiler {
    /// The compiler `FABER_DB_COMPILER` names for a handler's first use:
    /// `winch` (the default) or `cranelift`.
    pub fn for_first_use() -> Outcome<Compiler> {
        match std::env::var("FABER_DB_COMPILER").as_deref() {
            Err(_) | Ok("") => Ok(Compiler::Winch),
            Ok(name) => Compiler::named(name).ok_or_else(|| {
                Failure::new(format!(
                    "FABER_DB_COMPILER is {name:?}, which names no compiler"
                ))
                .help("Set it to winch (the default: a handler's first use compiles in seconds) or cranelift (faster code, compiled for longer), or unset it")
            }),
        }
    }

    /// The compiler `name` ([`Compiler::as_str`]) names.
    pub fn named(name: &str) -> Option<Compiler> {
        [Compiler::Cranelift, Compiler::Winch]
            .into_iter()
            .find(|compiler| compiler.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compiler::Cranelift => "cranelift",
            Compiler::Winch => "winch",
        }
    }
}

/// Components at least this large are announced on a terminal while they
/// compile; smaller ones finish before anyone would wonder.
const ANNOUNCE_FROM_BYTES: usize = 2 << 20;

/// How often the elapsed time on the terminal line moves on.
const TICK: Duration = Duration::from_secs(1);

/// Compiles `bytes`, announcing it on stderr when that is a terminal and the
/// component is large.
pub fn compile(engine: &Engine, handler: &str, bytes: &[u8]) -> wasmtime::Result<Component> {
    let started = Instant::now();
    let announcement = (bytes.len() >= ANNOUNCE_FROM_BYTES && std::io::stderr().is_terminal())
        .then(|| Announcement::start(handler, bytes.len()));
    let compiled = Component::new(engine, bytes);
    let elapsed = started.elapsed();
    if let Some(announcement) = announcement {
        announcement.finish(compiled.is_ok(), elapsed);
    }
    if compiled.is_ok() {
        crate::logging::info(&format!(
            "compiled handler {handler} ({}) for this machine in {:.1} s",
            megabytes(bytes.len()),
            elapsed.as_secs_f64()
        ));
    }
    compiled
}

fn megabytes(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The terminal line `Compiling handler NAME (19.3 MB) for this machine… 12s`,
/// rewritten each second by a thread of its own until the compilation ends.
struct Announcement {
    stop: mpsc::Sender<()>,
    ticker: thread::JoinHandle<()>,
    line: String,
}

impl Announcement {
    fn start(handler: &str, size: usize) -> Announcement {
        let line = format!(
            "Compiling handler {handler} ({}) for this machine (first use; then cached)…",
            megabytes(size)
        );
        let (stop, stopped) = mpsc::channel::<()>();
        let shown = line.clone();
        let ticker = thread::spawn(move || {
            let started = Instant::now();
            loop {
                let mut stderr = std::io::stderr();
                let _ = write!(stderr, "\r\x1b[2K{shown} {}s", started.elapsed().as_secs());
                let _ = stderr.flush();
                if stopped.recv_timeout(TICK) != Err(mpsc::RecvTimeoutError::Timeout) {
                    return;
                }
            }
        });
        Announcement { stop, ticker, line }
    }

    fn finish(self, compiled: bool, elapsed: Duration) {
        let _ = self.stop.send(());
        let _ = self.ticker.join();
        let outcome = if compiled {
            format!("done in {:.1} s", elapsed.as_secs_f64())
        } else {
            "failed".to_owned()
        };
        let _ = writeln!(std::io::stderr(), "\r\x1b[2K{} {outcome}", self.line);
    }
}
